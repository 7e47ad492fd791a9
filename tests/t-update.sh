#!/usr/bin/env bash
# t-update.sh - pare check / plan / update / watch on the signed fixture repository:
# a new version of a package only one of two images uses is reported by check (exit 3),
# planned as one matrix job, rebuilt by update --commit (the other image untouched), and
# recorded in a git commit naming the versions and the changelog's CVE id; a rollback is
# refused; watch runs cycles against a changing repository and stops on SIGTERM.
. "$(dirname "$0")/lib.sh"

need jq git gzip
W=$(tmpdir)
REPO=$(fixture_repo)
G=$W/git
export PARE_RECIPES=$G/recipes PARE_LOCK=$G/recipes.lock PARE_CACHE_DIR=$W/cache
mkdir -p "$PARE_RECIPES"
HOST=$(dpkg --print-architecture)
git init -q "$G"
git -C "$G" config user.name "Pare Test"
git -C "$G" config user.email "pare-test@example.invalid"
git -C "$G" config commit.gpgsign false

# two images sharing libc6; only "ssl" has libssl3
fixture_recipe hello stable "hello"
fixture_recipe ssl stable "openssl"
check "lock both" "$PARE" --quiet lock
git -C "$G" add -A && git -C "$G" commit -q -m "recipes"

# publish libssl3 VERSION with a changelog (CVE ids in this and in the previous entry) and
# re-sign the repository with DATE
publish() { # VERSION DATE CVE
	local pkg=$W/libssl3-$1.pkg
	printf 'libssl3 (%s) bookworm-security; urgency=medium\n\n  * Fix %s (buffer overread).\n\n -- Maint <m@example.invalid>  Tue, 03 Jan 2023 00:00:00 +0000\n\nlibssl3 (3.0.11-1~deb12u2) bookworm; urgency=medium\n\n  * Old fix for CVE-2022-0001.\n\n -- Maint <m@example.invalid>  Mon, 02 Jan 2023 00:00:00 +0000\n' \
		"$1" "$3" | gzip -9n >"$REPO/.content/changelog-libssl3-$1.gz"
	sed "s/^Version: .*/Version: $1/" "$PARE_SRC/tests/fixtures/packages/libssl3.pkg" >"$pkg"
	echo "file /usr/share/doc/libssl3/changelog.Debian.gz 0644 @changelog-libssl3-$1.gz" >>"$pkg"
	FIXTURE_DATE=$2 "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$pkg" >/dev/null 2>&1
}
# a listing that changes when any file of a layout is rewritten
snapshot() { (cd "$1" && find . -printf '%p %i %T@ %s\n' | sort); }
# annotation NAME KEY: an annotation of the host arch's image manifest
annotation() {
	local idx m
	idx=$W/out/$1/blobs/sha256/$(digest "$1" | cut -d: -f2)
	m=$(jq -r --arg a "$HOST" '.manifests[] | select(.platform.architecture == $a) | .digest' "$idx" | cut -d: -f2)
	jq -r --arg k "$2" '.annotations[$k] // empty' "$W/out/$1/blobs/sha256/$m"
}
# recorded NAME KEY: an annotation the layout records beside the image (its index.json
# descriptor): the recipes' git commit and dirty flag, outside the image digest
recorded() { jq -r --arg k "$2" '.manifests[0].annotations[$k] // empty' "$W/out/$1/index.json"; }
# digest NAME: the image's index digest (not the signature tags')
digest() {
	jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] // "sha256-" | startswith("sha256-") | not) | .digest' "$W/out/$1/index.json"
}

# --- first update: nothing changed, but there are no images yet --------------------------------
rc=0; "$PARE" --quiet check >"$W/check0" 2>&1 || rc=$?
check_eq "check on a fresh lock exits 0" 0 "$rc"
# a recipe removed from recipes/ is a change too (its images are no longer made)
mv "$PARE_RECIPES/hello.yaml" "$W/hello.yaml.aside"
rc=0; out=$("$PARE" --quiet check 2>&1) || rc=$?
check_eq "a removed recipe: check exits 3 (changed)" 3 "$rc"
check_eq "a removed recipe: check names it" "hello: in recipes.lock but no longer a recipe" "$out"
mv "$W/hello.yaml.aside" "$PARE_RECIPES/hello.yaml"
check "update builds the missing images" "$PARE" --quiet update -o "$W/out"
check "both images exist" test -f "$W/out/hello/index.json" -a -f "$W/out/ssl/index.json"
check_eq "recipes.lock not changed by that" "" "$(git -C "$G" status --porcelain recipes.lock)"
H0=$(digest hello); S0=$(digest ssl)
snapshot "$W/out/hello" >"$W/hello.before"

# --- a new libssl3 --------------------------------------------------------------------------
publish 3.0.11-1~deb12u3 "Tue, 03 Jan 2023 00:00:00 UTC" CVE-2024-12345 || fail "publish libssl3"
rc=0; out=$("$PARE" --quiet check 2>&1) || rc=$?
check_eq "check exits 3 (changed)" 3 "$rc"
check_eq "check names exactly the change" "ssl $HOST: libssl3 3.0.11-1~deb12u2 -> 3.0.11-1~deb12u3" "$out"
rc=0; "$PARE" --quiet check --json >"$W/check.json" || rc=$?
check_eq "check --json exits 3 as well" 3 "$rc"
check_eq "check --json" "true|ssl|changed|libssl3|3.0.11-1~deb12u2|3.0.11-1~deb12u3|false" \
	"$(jq -r '[.changed, (.recipes[] | select(.changed) | .recipe, (.changes[0] | .kind, .package, .old_version, .new_version)), (.recipes[] | select(.recipe == "hello") | .changed)] | map(tostring) | join("|")' "$W/check.json")"
check_eq "check --json key order" '["changed","recipes","cve"] ["recipe","changed","changes","cves"] ["kind","arch","package","old_version","new_version"]' \
	"$(jq -c 'keys_unsorted' "$W/check.json") $(jq -c '.recipes[1] | keys_unsorted' "$W/check.json") $(jq -c '.recipes[1].changes[0] | keys_unsorted' "$W/check.json")"
check_eq "plan --json: one job" "[{\"recipe\":\"ssl\",\"arch\":\"$HOST\"}]" "$("$PARE" --quiet plan --json | jq -c .include)"
check_eq "check wrote nothing" "" "$(git -C "$G" status --porcelain recipes.lock)"

# --- update --commit ----------------------------------------------------------------------------
check "keygen" env PARE_PASSWORD= "$PARE" --quiet keygen --no-password -o "$W/k"
echo scratch >"$G/unrelated.txt"
git -C "$G" add unrelated.txt
check_fails "update --commit refuses over unrelated staged changes" 'unrelated staged changes.*unrelated.txt' \
	"$PARE" --quiet update --commit -o "$W/out"
check_eq "... and wrote nothing" "$S0" "$(digest ssl)"
git -C "$G" rm -q --cached unrelated.txt && rm "$G/unrelated.txt"
HEAD0=$(git -C "$G" rev-parse HEAD)
check_eq "no source URL configured: no org.opencontainers.image.source" "" \
	"$(annotation hello org.opencontainers.image.source)"
git -C "$G" config pare.sourceUrl https://git.example/recipes
check "update --commit --sign-key" "$PARE" --quiet update --commit --sign-key "$W/k.key" -o "$W/out"
check_eq "hello: same digest" "$H0" "$(digest hello)"
snapshot "$W/out/hello" >"$W/hello.after"
check "hello: no file rewritten (inodes, mtimes, sizes)" cmp -s "$W/hello.before" "$W/hello.after"
S1=$(digest ssl)
check "ssl: a new digest" test "$S1" != "$S0"
check_eq "ssl: the new libssl3 is locked" "3.0.11-1~deb12u3" \
	"$(jq -r --arg a "$HOST" '.recipes.ssl.archs[$a].packages[] | select(.name == "libssl3") | .version' "$PARE_LOCK")"
check "ssl: signed (pare verify)" "$PARE" --quiet verify --key "$W/k.pub" "$W/out/ssl"
check_eq "ssl: records the commit it was built on, dirty (the lock was not committed yet)" "$HEAD0 true" \
	"$(recorded ssl dev.pare.recipe.git-commit) $(recorded ssl dev.pare.recipe.git-dirty)"
check_eq "ssl: source URL from git config pare.sourceUrl" "https://git.example/recipes" \
	"$(annotation ssl org.opencontainers.image.source)"
check_eq "one new commit" "$HEAD0" "$(git -C "$G" rev-parse HEAD~1)"
msg=$(git -C "$G" log -1 --format=%B)
check "commit message: first line" grep -qx 'pare update: 1 image rebuilt' <<<"$msg"
check "commit message: image digests" grep -qF "ssl $S0 -> $S1" <<<"$msg"
check "commit message: arch line" grep -Eq "^ssl $HOST sha256:[0-9a-f]{64} -> sha256:[0-9a-f]{64}$" <<<"$msg"
check "commit message: package, versions, CVE" grep -qF "libssl3 3.0.11-1~deb12u2 -> 3.0.11-1~deb12u3 (CVE-2024-12345)" <<<"$msg"
check "commit message: not the CVE of the old entry" bash -c '! grep -q CVE-2022-0001 <<<"$1"' _ "$msg"
check "commit message: hello not mentioned" bash -c '! grep -q "^hello" <<<"$1"' _ "$msg"
check_eq "the commit holds recipes.lock only" "recipes.lock" "$(git -C "$G" show --name-only --format= HEAD)"
check_eq "work tree clean for the lock" "" "$(git -C "$G" status --porcelain recipes.lock)"
check_eq "author from the repository's config" "Pare Test <pare-test@example.invalid>" "$(git -C "$G" log -1 --format='%an <%ae>')"
rc=0; "$PARE" --quiet check >/dev/null 2>&1 || rc=$?
check_eq "second check exits 0" 0 "$rc"
out=$("$PARE" --quiet update --commit -o "$W/out" 2>&1) || fail "update with nothing to do" "$out"
check_eq "nothing to do: no commit" "$HEAD0" "$(git -C "$G" rev-parse HEAD~1)"

# --- a rollback is refused ------------------------------------------------------------------
cp -a "$REPO" "$W/repo-good"
FIXTURE_DATE="Sun, 01 Jan 2023 00:00:00 UTC" "$PARE_SRC/tests/fixtures/resign" "$REPO" >/dev/null 2>&1
check_fails "check refuses an index rollback" 'older than .* in recipes.lock: refusing a rollback' "$PARE" --quiet check
rc=0; "$PARE" --quiet check >/dev/null 2>&1 || rc=$?
check_eq "... exit 2 (an error, not 'changed')" 2 "$rc"
rm -rf "$REPO" && cp -a "$W/repo-good" "$REPO"

# --- watch --------------------------------------------------------------------------------------
# the images in out/ were signed by update --sign-key above; this watch signs nothing, so it
# says it may replace them unsigned (without --unsigned-ok every cycle is refused: t-output.sh)
"$PARE" --quiet watch --interval 1s -o "$W/out" --unsigned-ok --exec 'echo "$PARE_CHANGED" >>"'"$W"'/exec.log"' \
	>"$W/watch.log" 2>"$W/watch.err" &
WPID=$!
at_exit "kill $WPID 2>/dev/null"
waitfor() { # PATTERN: wait up to 60 s for a watch.log line
	local i
	for ((i = 0; i < 600; i++)); do
		grep -Eq "$1" "$W/watch.log" && return 0
		sleep 0.1
	done
	return 1
}
check "watch: cycle 1 is up to date" waitfor 'cycle 1: up to date$'
mv "$REPO/dists/stable/InRelease" "$REPO/InRelease.away"
mv "$REPO/dists/stable/Release.gpg" "$REPO/Release.gpg.away"
n=$(grep -c cycle "$W/watch.log")
check "watch: a failing cycle is reported" waitfor "cycle [0-9]+: failed, retrying next cycle: .*not signed"
mv "$REPO/InRelease.away" "$REPO/dists/stable/InRelease"
mv "$REPO/Release.gpg.away" "$REPO/dists/stable/Release.gpg"
check_eq "watch: the failed cycle left the image alone" "$S1" "$(digest ssl)"
publish 3.0.11-1~deb12u4 "Wed, 04 Jan 2023 00:00:00 UTC" CVE-2024-23456 || fail "publish libssl3 again"
check "watch: a later cycle rebuilds ssl" waitfor "cycle [0-9]+: rebuilt ssl sha256:[0-9a-f]{64} -> sha256:[0-9a-f]{64}$"
# the cycle's line is logged before --exec runs: wait for what the command wrote
for ((i = 0; i < 600; i++)); do [[ -s $W/exec.log ]] && break; sleep 0.1; done
check_eq "watch: --exec got PARE_CHANGED" "ssl" "$(cat "$W/exec.log" 2>/dev/null)"
check "watch: the image changed" test "$(digest ssl)" != "$S1"
check_eq "watch: hello still untouched" "$H0" "$(digest hello)"
kill -TERM "$WPID"
rc=0; wait "$WPID" || rc=$?
check_eq "watch: SIGTERM stops it with exit 0" 0 "$rc"
check "watch: one line per cycle" bash -c '! grep -v "^[0-9T:-]*Z cycle [0-9]*: " "$1"' _ "$W/watch.log"
check "build --source-url" "$PARE" --quiet build hello -o "$W/out/hello-src" --source-url https://git.example/other
check_eq "build --source-url wins over the git config" "https://git.example/other" \
	"$(annotation hello-src org.opencontainers.image.source)"
check_fails "watch without --interval" 'interval DURATION is required' "$PARE" watch
check_fails "watch: bad duration" "bad --interval '5x'" "$PARE" watch --interval 5x

# pare only asks libgit2 when some directory above the recipe can hold a
# repository: through a symlink into the work tree it still finds it; a copy
# of the recipes outside any repository records nothing.
ln -s "$G/recipes" "$W/reclink"
HEADN=$(git -C "$G" rev-parse HEAD)
check "build through a symlinked recipes directory" env PARE_RECIPES="$W/reclink" \
	"$PARE" --quiet build hello -o "$W/out/hello-link"
check_eq "symlinked recipes directory: the commit is recorded" "$HEADN" \
	"$(recorded hello-link dev.pare.recipe.git-commit)"
check_eq "symlinked recipes directory: source URL from git config" "https://git.example/recipes" \
	"$(annotation hello-link org.opencontainers.image.source)"
mkdir -p "$W/nogit" && cp -r "$G/recipes" "$W/nogit/recipes"
check "build from recipes outside any repository" env PARE_RECIPES="$W/nogit/recipes" \
	"$PARE" --quiet build hello -o "$W/out/hello-nogit"
if git -C "$W/nogit" rev-parse 2>/dev/null; then
	skip "outside any repository: the test directory is inside one"
else
	check_eq "outside any repository: no commit recorded" "" \
		"$(recorded hello-nogit dev.pare.recipe.git-commit)"
fi

done_testing
