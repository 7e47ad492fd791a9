#!/usr/bin/env bash
# t-layercache.sh - package layers reused from the layer cache (keyed by their
# inputs) give byte-identical images; a changed package only changes its own
# layer; a corrupt cache entry or blob is ignored and rebuilt.
. "$(dirname "$0")/lib.sh"

need jq
W=$(tmpdir)
REPO=$(fixture_repo)
export PARE_RECIPES=$W/recipes PARE_LOCK=$W/recipes.lock PARE_CACHE_DIR=$W/cache
mkdir -p "$PARE_RECIPES"
HOST=$(dpkg --print-architecture)
fixture_recipe lc stable "hello, ca-certificates"
# build OUT: stdout the index digest, stderr (verbose) into $W/OUT.err
build() { "$PARE" --verbose build lc -o "$W/$1" 2>"$W/$1.err"; }
# layers OUT: the image's layer digests, one per line
layers() {
	local f=$W/$1/index.json m
	# index.json -> (image index ->) the image manifest
	while m=$(jq -r '.manifests[0].digest // empty' "$f") && [ -n "$m" ]; do
		f=$W/$1/blobs/sha256/${m#sha256:}
	done
	jq -r '.layers[].digest' "$f"
}
hits() { grep -c 'taken from the layer cache' "$W/$1.err" || true; }

"$PARE" --quiet lock lc >/dev/null || { fail "lock"; done_testing; }
D1=$(build cold) || fail "cold build" "$(cat "$W/cold.err")"
check_eq "cold build: no layer taken from the cache" 0 "$(hits cold)"
N=$(ls "$W/cache/layers" | grep -c '\.json$' || true)
check "cold build: one cache entry per package layer" test "$N" -ge 2
check_eq "cold build: entries = package layers" "$(($(layers cold | wc -l) - 1))" "$N"

D2=$(build warm) || fail "warm build" "$(cat "$W/warm.err")"
check_eq "warm build: same index digest" "$D1" "$D2"
check_eq "warm build: every package layer from the cache" "$N" "$(hits warm)"
check "warm build: layout identical" diff -r "$W/cold" "$W/warm"

# Corrupt one cached blob (truncate) and one entry (garbage JSON): both are
# ignored, the layers are written again, same bytes.
L1=$(layers cold | sed -n 1p)
B=$W/cache/blobs/sha256/${L1#sha256:}
truncate -s 10 "$B"
J=$(grep -L "${L1#sha256:}" "$W/cache/layers"/*.json | sed -n 1p)
printf '{"digest": "sha256:' >"$J"
D3=$(build corrupt) || fail "build with a corrupt cache" "$(cat "$W/corrupt.err")"
check_eq "corrupt cache: same index digest" "$D1" "$D3"
check_eq "corrupt cache: the two bad entries are rebuilt" "$((N - 2))" "$(hits corrupt)"
check_eq "corrupt cache: blob restored" "${L1#sha256:}" "$(sha256sum "$B" | cut -d' ' -f1)"
D4=$(build again) || fail "build after repair"
check_eq "after repair: every layer from the cache again" "$N" "$(hits again)"
check_eq "after repair: same index digest" "$D1" "$D4"

# A damaged metadata record (one byte changed, size kept) is a miss too.
M=$(ls "$W/cache/layers"/*.meta | sed -n 1p)
printf 'X' | dd of="$M" bs=1 seek=40 conv=notrunc 2>/dev/null
D4b=$(build badmeta) || fail "build with a damaged record" "$(cat "$W/badmeta.err")"
check_eq "damaged record: same index digest" "$D1" "$D4b"
check_eq "damaged record: that layer is rebuilt" "$((N - 1))" "$(hits badmeta)"
# (cold/ shares the truncated blob inode with the cache: compare with again/)
check "damaged record: layout identical" diff -r "$W/again" "$W/badmeta"

# A warm build reads no .deb: with the .deb cache gone and the repository
# unreachable, it still gives the same bytes, and fetches nothing.
mv "$W/cache/debs" "$W/debs.away"
mv "$REPO" "$REPO.away"
D4c=$(build nodebs) || fail "warm build without .debs" "$(cat "$W/nodebs.err")"
check_eq "warm build without .debs: same index digest" "$D1" "$D4c"
check "warm build without .debs: layout identical" diff -r "$W/again" "$W/nodebs"
check "warm build without .debs: nothing fetched" test ! -e "$W/cache/debs/sha256" -o -z "$(ls "$W/cache/debs/sha256" 2>/dev/null)"
# ... and with one layer's record damaged, it fetches just that layer's .debs
M=$(ls "$W/cache/layers"/*.meta | sed -n 1p)
truncate -s 20 "$M"
check_fails "damaged record, repository gone: the build fails naming a .deb" "\.deb|fetch|cannot" \
	"$PARE" --quiet build lc -o "$W/nodebs2"
mv "$REPO.away" "$REPO"
D4d=$(build refetch) || fail "rebuild of the damaged layer" "$(cat "$W/refetch.err")"
check_eq "damaged record: same index digest after fetching its .debs" "$D1" "$D4d"
check "damaged record: its layer's .debs fetched" test -n "$(ls "$W/cache/debs/sha256" 2>/dev/null)"
check "damaged record: fewer .debs fetched than the closure" \
	test "$(ls "$W/cache/debs/sha256" | wc -l)" -lt "$(ls "$W/debs.away/sha256" | wc -l)"
rm -rf "$W/cache/debs"
mv "$W/debs.away" "$W/cache/debs"

# A different compression is a different key: nothing reused, no mix-up.
D5=$("$PARE" --verbose build lc --compression zstd -o "$W/zstd" 2>"$W/zstd.err") ||
	fail "zstd build" "$(cat "$W/zstd.err")"
check_eq "zstd build: no gzip layer reused" 0 "$(hits zstd)"
check "zstd build: another digest" test "$D5" != "$D1"

# One package changes (hello 1.1-1 published, re-locked): only its layer is
# written again; every other package layer keeps its digest.
{ sed 's/^Version: 1.0-1$/Version: 1.1-1/' "$PARE_SRC/tests/fixtures/packages/hello.pkg"
  echo 'file /usr/share/hello/version 0644 1.1-1'; } >"$W/hello.pkg"
check "publish hello 1.1-1" "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/hello.pkg"
"$PARE" --quiet lock lc >/dev/null || fail "re-lock"
check "the lock has hello 1.1-1" grep -q '1.1-1' "$PARE_LOCK"
D6=$(build incr) || fail "incremental build" "$(cat "$W/incr.err")"
check "incremental build: a new image" test "$D6" != "$D1"
check_eq "incremental build: all but one package layer from the cache" "$((N - 1))" "$(hits incr)"
# package layers only (the generated top layer is last)
check_eq "incremental build: exactly one package layer digest changed" 1 \
	"$(diff <(layers cold | sed '$d') <(layers incr | sed '$d') | grep -c '^>')"
# SOURCE_DATE_EPOCH is not part of the key: a lock update that only moves
# the repositories' Date (a new epoch, every file older than both) reuses
# every package layer, and the result is what a cold build with that epoch
# makes.  An epoch older than the files clamps their mtimes: no reuse.
build_at() { SOURCE_DATE_EPOCH=$1 "$PARE" --verbose build lc -o "$W/$2" 2>"$W/$2.err"; }
NI=$(($(layers incr | wc -l) - 1))
E1=$(build_at 2000000000 e1) || fail "build at epoch 2000000000" "$(cat "$W/e1.err")"
E2=$(build_at 2100000000 e2) || fail "build at epoch 2100000000" "$(cat "$W/e2.err")"
check "new epoch: a new image (created moved)" test "$E1" != "$E2"
check_eq "new epoch: every package layer from the cache" "$NI" "$(hits e2)"
check "new epoch: same package layers" diff <(layers e1 | sed '$d') <(layers e2 | sed '$d')
E2c=$(PARE_CACHE_DIR=$W/cache-e2 build_at 2100000000 e2cold) || fail "cold build at epoch 2100000000"
check_eq "new epoch: same digest as a cold build at that epoch" "$E2c" "$E2"
E3=$(build_at 1 e3) || fail "build at epoch 1" "$(cat "$W/e3.err")"
check_eq "epoch older than the files: no package layer reused" 0 "$(hits e3)"
E3c=$(PARE_CACHE_DIR=$W/cache-e3 build_at 1 e3cold) || fail "cold build at epoch 1"
check_eq "epoch older than the files: same digest as a cold build" "$E3c" "$E3"
check_eq "epoch older than the files: mtimes clamped to it" 1 \
	"$(tar -tvzf "$W/e3/blobs/sha256/$(layers e3 | sed -n 1p | cut -d: -f2)" --full-time --numeric-owner 2>/dev/null |
	   awk '{print $4" "$5}' | sort -u | wc -l)"
done_testing
