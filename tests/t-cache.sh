#!/usr/bin/env bash
# t-cache.sh - pare cache du / prune: mark and sweep from the roots builds and locks
# record under $cache/roots/.  Two recipes (hello, dash) share libc6's .deb; after everything
# is aged 40 days and only hello is built again, prune keeps hello's .debs, layer records and
# blobs (and the shared .deb), removes dash's; both rebuild to the same digests (dash by
# fetching again).  Also: --dry-run, du against the files on disk, the one-hour grace, stale
# temporary files, half-pruned layer cache entries, a superseded .solv after a re-lock,
# concurrent prunes and bad arguments.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
C=$PARE_CACHE_DIR
fixture_recipe ha stable "hello"
fixture_recipe hb stable "dash" "allow: [shell]"
KINDS="debs/sha256 blobs/sha256 layers ca solv release resolve roots cve inventory"

build() { "$PARE" --verbose build "$1" -o "$W/out-$2" 2>"$W/$2.err"; }
hits() { grep -c 'taken from the layer cache' "$W/$1.err" || true; }
debsha() { jq -r --arg r "$1" --arg p "$2" '.recipes[$r].archs[].packages[] | select(.name == $p) | .sha256' "$PARE_LOCK"; }
debs_of() { jq -r --arg r "$1" '.recipes[$r].archs[].packages[].sha256' "$PARE_LOCK" | sort; }
# a listing that changes when any cache file is removed or replaced
snapshot() { (cd "$C" && find . -path ./.prune.lock -prune -o -printf '%p %i %s\n' | sort); }
# field N of prune's / du's line for KIND
field() { awk -v k="$2" -v n="$3" '$0 ~ "^(would remove |removed )?" k " " { sub("^(would remove |removed )", ""); print $n }' <<<"$1"; }
age() { find "$C" -mindepth 1 -exec touch -h -d "$1" {} +; }

"$PARE" --quiet lock >/dev/null || { fail "lock"; done_testing; }
LIBC=$(debsha ha libc6)
check_eq "libc6 is in both recipes" "$LIBC" "$(debsha hb libc6)"
A1=$(build ha a1) || fail "build ha" "$(cat "$W/a1.err")"
B1=$(build hb b1) || fail "build hb" "$(cat "$W/b1.err")"
check_eq "two build roots and two lock roots" "2 2" \
	"$(ls "$C/roots" | grep -c '^build-') $(ls "$C/roots" | grep -c '^lock-')"
rootsA=$(grep -l "debs/sha256/$(debsha ha hello)" "$C"/roots/build-* || true)
check "ha's build roots list its .debs" test -n "$rootsA"
[[ -n $rootsA ]] || done_testing
check "the build roots list the layer records and blobs" \
	grep -q '^layers/.*\.json$' "$rootsA"
# layers OUT: the image's layer digests (index.json -> image index -> manifest)
layers() {
	local f=$W/$1/index.json m
	while m=$(jq -r '.manifests[0].digest // empty' "$f") && [ -n "$m" ]; do
		f=$W/$1/blobs/sha256/${m#sha256:}
	done
	jq -r '.layers[].digest' "$f" | cut -d: -f2
}
check "ha's image has layers" test -n "$(layers out-a1)"
for l in $(layers out-a1); do
	grep -qx "blobs/sha256/$l" "$rootsA" || fail "layer blob $l in the build roots"
done

# --- du: one line per kind and a total, matching the files on disk ---------------------
DU=$("$PARE" cache du) || fail "cache du"
files=0 bytes=0
for k in $KINDS; do
	[[ -d $C/$k ]] || continue
	files=$((files + $(find "$C/$k" -mindepth 1 -maxdepth 1 | wc -l)))
	bytes=$((bytes + $(find "$C/$k" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')))
done
check_eq "du: 11 lines (10 kinds and the total)" 11 "$(wc -l <<<"$DU")"
check_eq "du: total entries match the disk" "$files" "$(field "$DU" total 2)"
check_eq "du: total bytes match the disk" "$bytes" "$(field "$DU" total 4)"
check_eq "du: debs entries" "$(ls "$C/debs/sha256" | wc -l)" "$(field "$DU" debs 2)"

# --- nothing old: prune removes nothing -----------------------------------------------
P=$("$PARE" cache prune) || fail "prune"
check_eq "fresh cache: prune removes nothing" 0 "$(field "$P" total 2)"

# --- age everything, build ha again, prune ---------------------------------------------
age '40 days ago'
ino=$(stat -c %i "$rootsA")
A2=$(build ha a2) || fail "rebuild ha" "$(cat "$W/a2.err")"
check_eq "rebuild of ha: same digest" "$A1" "$A2"
check_eq "an unchanged roots file is not rewritten" "$ino" "$(stat -c %i "$rootsA")"
check "... only its mtime is refreshed" test "$(stat -c %Y "$rootsA")" -gt "$(date -d '1 day ago' +%s)"
before=$(snapshot)
DRY=$("$PARE" cache prune --older-than 30 --dry-run) || fail "prune --dry-run"
check_eq "--dry-run removes nothing" "$before" "$(snapshot)"
P=$("$PARE" cache prune --older-than 30) || fail "prune --older-than 30"
check_eq "--dry-run reports what prune removes" "${DRY//would remove /}" "${P//removed /}"
check "prune removed something" test "$(field "$P" total 2)" -gt 0
for s in $(debs_of ha); do
	[[ -f $C/debs/sha256/$s ]] || fail "ha's .deb $s kept"
done
check "the shared libc6 .deb is kept" test -f "$C/debs/sha256/$LIBC"
check "dash's .deb is removed" test ! -e "$C/debs/sha256/$(debsha hb dash)"
check_eq "debs removed: dash's only" "$(comm -13 <(debs_of ha) <(debs_of hb) | wc -l)" "$(field "$P" debs 2)"
check_eq "roots: ha's build roots kept, the rest dropped" "$(basename "$rootsA")" "$(ls "$C/roots")"
while read -r p; do
	[[ -e $C/$p ]] || fail "ha's root $p kept"
done <"$rootsA"
check_eq "layer records: ha's only" "$(grep -c '^layers/' "$rootsA")" "$(ls "$C/layers" | wc -l)"
check_eq "blobs: ha's only" "$(grep -c '^blobs/' "$rootsA")" "$(ls "$C/blobs/sha256" | wc -l)"
check "the .solv files are gone (no lock used them for 40 days)" test -z "$(ls "$C/solv")"
P2=$("$PARE" cache prune --older-than 30) || fail "second prune"
check_eq "a second prune removes nothing" 0 "$(field "$P2" total 2)"

# a warm rebuild of ha reads no .deb: with the .debs and the repository away
mv "$C/debs" "$W/debs.away"
mv "$REPO" "$REPO.away"
A3=$(build ha a3) || fail "warm build of ha after prune" "$(cat "$W/a3.err")"
check_eq "warm build after prune: same digest" "$A1" "$A3"
check_eq "warm build after prune: every package layer from the cache" \
	"$(grep -c '^layers/.*\.json$' "$rootsA")" "$(hits a3)"
mv "$W/debs.away" "$C/debs"
mv "$REPO.away" "$REPO"
B2=$(build hb b2) || fail "hb after prune" "$(cat "$W/b2.err")"
check_eq "hb rebuilds after prune (fetching again): same digest" "$B1" "$B2"
check "hb's .deb is back" test -f "$C/debs/sha256/$(debsha hb dash)"

# --- grace hour and temporary files -----------------------------------------------------
age '40 days ago'
young=$C/debs/sha256/$(printf young | sha256sum | cut -d' ' -f1)
echo young >"$young"
echo part >"$C/debs/sha256/x.part"
echo stale >"$C/blobs/sha256/.tmp.1.0"
touch -d '2 hours ago' "$C/blobs/sha256/.tmp.1.0"
echo stale >"$C/layers/k.json.tmp.42"
touch -d '2 hours ago' "$C/layers/k.json.tmp.42"
"$PARE" --quiet build ha -o "$W/out-a4" >/dev/null 2>&1 || fail "build ha"
P=$("$PARE" cache prune --older-than 30) || fail "prune"
check "an unreferenced entry younger than an hour survives" test -f "$young"
check "a young .part file survives" test -f "$C/debs/sha256/x.part"
check "a stale temporary blob is removed" test ! -e "$C/blobs/sha256/.tmp.1.0"
check "a stale temporary record is removed" test ! -e "$C/layers/k.json.tmp.42"
check "hb's entries are removed again" test ! -e "$C/debs/sha256/$(debsha hb dash)"
check "ha's entries stay" test -f "$C/debs/sha256/$(debsha ha hello)"
rm -f "$young" "$C/debs/sha256/x.part"

# --- half-pruned layer cache entries: record without blob, blob without record ----------
recs=($(grep '^layers/.*\.json$' "$rootsA"))
check "ha has at least two layer records" test "${#recs[@]}" -ge 2
blob0=$(jq -r .digest "$C/${recs[0]}" | cut -d: -f2)
rm "$C/blobs/sha256/$blob0"
rm "$C/${recs[1]}" "$C/${recs[1]%.json}.meta"
A5=$(build ha a5) || fail "build with a half-pruned cache" "$(cat "$W/a5.err")"
check_eq "half-pruned cache: same digest" "$A1" "$A5"
check_eq "half-pruned cache: the two broken layers are rebuilt" "$((${#recs[@]} - 2))" "$(hits a5)"
check "half-pruned cache: blob written again" test -f "$C/blobs/sha256/$blob0"
check "half-pruned cache: record written again" test -f "$C/${recs[1]}"
A6=$(build ha a6) || fail "build after repair"
check_eq "after repair: every layer from the cache" "${#recs[@]}" "$(hits a6)"

# --- resolver: a new upload and a re-lock supersede a .solv -----------------------------
"$PARE" --quiet lock >/dev/null || fail "lock"
rootsL=$(grep -l '^solv/' "$C"/roots/lock-* | sed -n 1p)
old_solv=$(grep '^solv/' "$rootsL" | sort)
for s in $old_solv; do [[ -f $C/$s ]] || fail "locked .solv $s exists"; done
release=$(grep '^release/' "$rootsL" | sed -n 1p)
check "the lock roots list the release directory" test -n "$release"
check "the lock roots list the resolution" grep -q '^resolve/' "$rootsL"
sed 's/^Version: 1.0-1$/Version: 1.1-1/' "$PARE_SRC/tests/fixtures/packages/hello.pkg" >"$W/hello.pkg"
"$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/hello.pkg" >/dev/null 2>&1 || fail "upload hello 1.1"
age '2 hours ago'
"$PARE" --quiet lock >/dev/null || fail "re-lock"
check_eq "re-lock: hello 1.1" "1.1-1" "$(jq -r '.recipes.ha.archs[].packages[] | select(.name == "hello") | .version' "$PARE_LOCK")"
new_solv=$(cat "$C"/roots/lock-* | grep '^solv/' | sort -u)
check "the re-lock's roots list .solv files" test -n "$new_solv"
gone=$(comm -23 <(echo "$old_solv") <(echo "$new_solv"))
check "a .solv is superseded" test -n "$gone"
P=$("$PARE" cache prune) || fail "prune after re-lock"
for s in $gone; do
	check "superseded $s removed" test ! -e "$C/$s"
done
for s in $new_solv; do
	check "current $s kept" test -f "$C/$s"
done
# named before the re-lock and the prune (which may drop that roots file): an empty
# name would test "$C/" itself
check "the release directory is kept" test -d "$C/${release:-(none listed)}"
check "offline lock works from the pruned cache" "$PARE" --quiet lock --offline

# --- concurrency: two prunes at once ----------------------------------------------------
age '40 days ago'
"$PARE" cache prune >"$W/p1" 2>&1 &
p1=$!
"$PARE" cache prune >"$W/p2" 2>&1 &
p2=$!
r1=0 r2=0
wait $p1 || r1=$?
wait $p2 || r2=$?
check_eq "two concurrent prunes succeed" "0 0" "$r1 $r2"
check_eq "... and only one of them removed anything" 1 \
	"$( (field "$(cat "$W/p1")" total 2; field "$(cat "$W/p2")" total 2) | grep -vc '^0$')"
check "... and the cache is empty of old entries" test -z "$(ls "$C/debs/sha256")"

# --- a cache no roots-writing pare used: only stale temporary files go -------------------
N=$(tmpdir)
mkdir -p "$N/debs/sha256"
echo old >"$N/debs/sha256/$LIBC"
echo tmp >"$N/debs/sha256/$LIBC.part"
touch -d '40 days ago' "$N/debs/sha256/$LIBC" "$N/debs/sha256/$LIBC.part"
P=$(PARE_CACHE_DIR=$N "$PARE" cache prune 2>"$W/noroots.err") || fail "prune without roots"
check "no roots/: a warning" grep -q 'no build or lock recorded its roots yet' "$W/noroots.err"
check "no roots/: entries are kept" test -f "$N/debs/sha256/$LIBC"
check "no roots/: a stale .part file is removed" test ! -e "$N/debs/sha256/$LIBC.part"

# --- bad arguments and bad cache directories --------------------------------------------
check_fails "no subcommand" '^pare: cache: missing subcommand' "$PARE" cache
check_fails "unknown subcommand" "unknown subcommand 'frob'" "$PARE" cache frob
check_fails "bad --older-than" "wants a number of days, not 'x'" "$PARE" cache prune --older-than x
check_fails "negative --older-than" "not '-3'" "$PARE" cache prune --older-than -3
check_fails "--older-than without a value" "option '--older-than' needs a value" "$PARE" cache prune --older-than
check_fails "unknown option" "^pare: cache: unknown option '--bogus'" "$PARE" cache prune --bogus
check_fails "du takes no argument" "unexpected argument 'x'" "$PARE" cache du x
check_fails "cache dir /" "refusing to work on cache directory '/'" env PARE_CACHE_DIR=/ "$PARE" cache prune
echo x >"$W/file"
check_fails "cache dir not a directory" "is not a directory" env PARE_CACHE_DIR="$W/file" "$PARE" cache du
rc=0
"$PARE" cache prune --older-than x 2>"$W/err" || rc=$?
check_eq "bad arguments: exit 2" 2 "$rc"
check_eq "bad arguments: one line" 1 "$(wc -l <"$W/err")"

# --- symlinks are never followed ---------------------------------------------------------
mkdir -p "$W/outside"
echo keep >"$W/outside/f"
touch -d '40 days ago' "$W/outside/f" "$W/outside"
rm -rf "$C/ca"
ln -s "$W/outside" "$C/ca"
ln -s "$W/outside/f" "$C/debs/sha256/link"
touch -h -d '40 days ago' "$C/debs/sha256/link"
"$PARE" cache prune >/dev/null || fail "prune with symlinks"
check "a symlinked kind directory is not walked" test -f "$W/outside/f"
check "a stale symlink entry is removed, not its target" test ! -L "$C/debs/sha256/link"
done_testing
