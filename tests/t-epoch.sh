#!/usr/bin/env bash
# t-epoch.sh - the image date (SOURCE_DATE_EPOCH default) recorded per lock entry:
# re-locking against a re-signed Release (new Date:, same packages) keeps the date and so
# the image digest; a package change moves it to the new Release date; a lock written
# before the field existed keeps building the same image and migrates without re-dating;
# a malformed value is refused naming the file and recipe.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
fixture_recipe ep stable "hello"

D1="Mon, 02 Jan 2023 00:00:00 UTC"   # the fixture's default Date:
E1=$(date -u -d "$D1" +%s)
epoch() { jq -r '.recipes.ep.source_date_epoch // "none"' "${1:-$PARE_LOCK}"; }
repo_date() { jq -r '.recipes.ep.repositories[0].date' "$PARE_LOCK"; }
build() { # OUT: print the index digest
	rm -rf "$1"
	"$PARE" --quiet build ep -o "$1"
}
created() { # OUT: the host arch image's config "created"
	local idx man cfg
	idx=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
	man=$(jq -r '.manifests[0].digest' "$1/blobs/sha256/$idx" | cut -d: -f2)
	cfg=$(jq -r '.config.digest' "$1/blobs/sha256/$man" | cut -d: -f2)
	jq -r '.created' "$1/blobs/sha256/$cfg"
}

check "lock" "$PARE" --quiet lock ep
check_eq "the entry records the newest Release date as source_date_epoch" "$E1" "$(epoch)"
cp "$PARE_LOCK" "$W/first.lock"
A=$(build "$W/a")
check_eq "created is that date" "2023-01-02T00:00:00Z" "$(created "$W/a")"

# the archive re-signs its Release a day later, nothing else changes
FIXTURE_DATE="Tue, 03 Jan 2023 00:00:00 UTC" "$PARE_SRC/tests/fixtures/resign" "$REPO" >/dev/null 2>&1
check "re-lock after the re-signing" "$PARE" --quiet lock ep
check_eq "the repository date moves on (rollback memory)" "Tue, 03 Jan 2023 00:00:00 UTC" "$(repo_date)"
check_eq "source_date_epoch stays" "$E1" "$(epoch)"
check_eq "the image digest stays" "$A" "$(build "$W/b")"
check "lock --check sees no difference" "$PARE" --quiet lock --check ep

# a lock written before the field existed: same image, and a re-lock keeps its date
jq 'del(.recipes.ep.source_date_epoch)' "$W/first.lock" >"$PARE_LOCK"
check_eq "an entry without source_date_epoch builds the same image" "$A" "$(build "$W/c")"
check "re-lock the old-style entry against the re-signed repository" "$PARE" --quiet lock ep
check_eq "it gets the date its image was built with, not the new Release date" "$E1" "$(epoch)"
check_eq "and the image digest stays" "$A" "$(build "$W/d")"

# SOURCE_DATE_EPOCH in the environment still wins
check_eq "SOURCE_DATE_EPOCH overrides" "2001-09-09T01:46:40Z" \
	"$(rm -rf "$W/e" && SOURCE_DATE_EPOCH=1000000000 "$PARE" --quiet build ep -o "$W/e" >/dev/null && created "$W/e")"

# a new hello: the resolution changes, the date moves to the new Release's
pkg=$W/hello.pkg
sed "s/^Version: .*/Version: 9.9-1/" "$PARE_SRC/tests/fixtures/packages/hello.pkg" >"$pkg"
FIXTURE_DATE="Wed, 04 Jan 2023 00:00:00 UTC" "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$pkg" >/dev/null 2>&1
check "re-lock after a package update" "$PARE" --quiet lock ep
check_eq "hello 9.9-1 is locked" "9.9-1" \
	"$(jq -r '.recipes.ep.archs[].packages[] | select(.name == "hello") | .version' "$PARE_LOCK" | head -1)"
check_eq "source_date_epoch is the new Release date" "$(date -u -d "Wed, 04 Jan 2023 00:00:00 UTC" +%s)" "$(epoch)"
B=$(build "$W/f")
[[ $B != "$A" ]] && ok "a new image" || fail "a new image" "$B"
check_eq "created is the new date" "2023-01-04T00:00:00Z" "$(created "$W/f")"

# malformed values
for bad in '"1672617600"' '-5' '1.5' '99999999999999'; do
	jq ".recipes.ep.source_date_epoch = $bad" "$W/first.lock" >"$PARE_LOCK"
	check_fails "source_date_epoch $bad is refused" "recipes.lock: recipe ep: entry: \"source_date_epoch\"" \
		"$PARE" --quiet build ep -o "$W/g"
done
check "nothing written for the refused lock" test ! -e "$W/g"

done_testing
