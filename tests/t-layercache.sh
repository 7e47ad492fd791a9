#!/usr/bin/env bash
# t-layercache.sh - package layers reused from the layer cache (keyed by their
# inputs) give byte-identical images; a changed package only changes its own
# layer; a corrupt cache entry or blob is ignored and rebuilt; cache files are
# trusted by their stat stamps only while those match (PARE_VERIFY_CACHE=1
# re-hashes); the CA bundle's cached verdict is keyed by the certificates.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
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
# --verbose stamps each line with the milliseconds since the program started
# (threads print their own lines, so the stamps are not strictly in order)
# and names the build's phases
ms=$(sed -n 's/^pare: debug: *\([0-9.]*\) ms: .*/\1/p' "$W/cold.err")
check "verbose lines carry elapsed milliseconds" test -n "$ms"
phases=$(sed -n 's/^pare: debug: *[0-9.]* ms: \(.*\)/\1/p' "$W/cold.err")
for p in 'layer plan' ': decoded' 'written and compressed' 'generated files' 'top layer written' \
	'layer writers done' 'SBOM documents' 'index and its SBOM documents' 'output written'; do
	check "verbose build shows the phase \"$p\"" grep -q -- "$p" <<<"$phases"
done
check_eq "verbose build: planned first, written last" "layer plan ... output written" \
	"$(sed -n '1s/.*\(layer plan\).*/\1/p' <<<"$phases") ... $(sed -n '$s/.*\(output written\).*/\1/p' <<<"$phases")"

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
# ---- stat stamps ------------------------------------------------------------
# A fresh cache at the current lock: the cold build records the stamps of
# the blobs and records it writes; later builds trust matching stamps.
export PARE_CACHE_DIR=$W/cache-st
stamped() { grep -c 'hashed, stamps recorded' "$W/$1.err" || true; }
# stamp FILE: what a stamp compares for a blob (size:mtime_ns:inode:device)
stamp_now() { stat -c '%s:%.9Y:%i:%d' "$1" | tr -d .; }
stamp_rec() { jq -r ".$2" "$1" | awk -F: '{ print $1 ":" $2 ":" $4 ":" $5 }'; }
S0=$(build st-cold) || fail "stamps: cold build" "$(cat "$W/st-cold.err")"
check_eq "stamps: cold build = the earlier build of this lock" "$D6" "$S0"
NS=$(ls "$PARE_CACHE_DIR/layers" | grep -c '\.json$' || true)
check_eq "stamps: the cold build records blob stamps in every entry" "$NS" \
	"$(grep -l '"blob_stamp"' "$PARE_CACHE_DIR/layers"/*.json | wc -l)"
check_eq "stamps: and record stamps" "$NS" "$(grep -l '"meta_stamp"' "$PARE_CACHE_DIR/layers"/*.json | wc -l)"
S1=$(build st-warm1) || fail "stamps: warm build" "$(cat "$W/st-warm1.err")"
check_eq "stamps: the next build hashes nothing" 0 "$(stamped st-warm1)"
# entries without stamps (an older cache) are hashed once and stamped
for f in "$PARE_CACHE_DIR/layers"/*.json; do
	jq -c 'del(.blob_stamp, .meta_stamp)' "$f" >"$f.new" && mv "$f.new" "$f"
done
S2=$(build st-warm2) || fail "stamps: warm build without stamps" "$(cat "$W/st-warm2.err")"
check_eq "stamps: entries without stamps are hashed and stamped" "$NS" "$(stamped st-warm2)"
S2=$(build st-warm2) || fail "stamps: second warm build" "$(cat "$W/st-warm2.err")"
check_eq "stamps: then trusted" 0 "$(stamped st-warm2)"
check_eq "stamps: warm build takes every layer from the cache" "$NS" "$(hits st-warm2)"
check_eq "stamps: same index digest" "$D6" "$S2"
# incr/ was written from another cache (other inodes): a real byte comparison
check "stamps: warm layout bit-identical to a cold build's" diff -r "$W/incr" "$W/st-warm2"

# entry J: its record and blob
J=$(ls "$PARE_CACHE_DIR/layers"/*.json | sed -n 1p)
M=${J%.json}.meta
BL=$PARE_CACHE_DIR/blobs/sha256/$(jq -r .digest "$J" | cut -d: -f2)
# corrupt FILE [OFFSET]: one byte changed in place (default: at 30), size and
# mtime restored
corrupt() {
	local off=${2:-30} b
	b=$(dd if="$1" bs=1 skip="$off" count=1 2>/dev/null)
	touch -r "$1" "$W/mtime.ref"
	if [ "$b" = a ]; then b=b; else b=a; fi
	printf '%s' "$b" | dd of="$1" bs=1 seek="$off" conv=notrunc 2>/dev/null
	touch -r "$W/mtime.ref" "$1"
}

# A record changed in place with its size and mtime restored: its ctime moved.
# The byte changed is the last hex digit of the last package's .deb SHA-512,
# which the record parser takes as it is (it would end up in the SBOMs).
sleep 0.05 # a later timestamp tick than the one the entry was stamped in
corrupt "$M" $(($(stat -c %s "$M") - 1))
check_eq "record corrupted in place: size and mtime still as stamped" \
	"$(jq -r .meta_stamp "$J" | cut -d: -f1,2)" "$(stat -c '%s:%.9Y' "$M" | tr -d .)"
S3=$(build st-rec) || fail "stamps: build with a corrupted record" "$(cat "$W/st-rec.err")"
check_eq "record corrupted in place: caught by its ctime, that layer rebuilt" "$((NS - 1))" "$(hits st-rec)"
check_eq "record corrupted in place: same index digest" "$D6" "$S3"
check "record corrupted in place: layout bit-identical" diff -r "$W/incr" "$W/st-rec"

# A blob replaced by a corrupted copy with the same size and mtime: a new inode.
cp -p "$BL" "$W/blob.copy"
corrupt "$W/blob.copy"
touch -r "$BL" "$W/blob.copy"
mv "$W/blob.copy" "$BL"
check_eq "blob replaced: size and mtime still as stamped" \
	"$(jq -r .blob_stamp "$J" | cut -d: -f1,2)" "$(stat -c '%s:%.9Y' "$BL" | tr -d .)"
S4=$(build st-ino) || fail "stamps: build with a replaced blob" "$(cat "$W/st-ino.err")"
check_eq "blob replaced: caught by its inode, that layer rebuilt" "$((NS - 1))" "$(hits st-ino)"
check_eq "blob replaced: same index digest" "$D6" "$S4"
check_eq "blob replaced: cache blob restored" "$(basename "$BL")" "$(sha256sum "$BL" | cut -d' ' -f1)"
check "blob replaced: layout bit-identical" diff -r "$W/incr" "$W/st-ino"

# A blob changed in place with size and mtime restored keeps its stamp (the
# ctime is not compared for blobs: the output layout hard-links them, so every
# build moves it); PARE_VERIFY_CACHE=1 re-hashes and catches it.
check_eq "before: the blob's stamp matches" "$(stamp_rec "$J" blob_stamp)" "$(stamp_now "$BL")"
corrupt "$BL"
check_eq "blob corrupted in place: its stamp still matches" "$(stamp_rec "$J" blob_stamp)" "$(stamp_now "$BL")"
S5=$(PARE_VERIFY_CACHE=1 build st-force) || fail "stamps: forced verification" "$(cat "$W/st-force.err")"
check_eq "PARE_VERIFY_CACHE=1: the corrupted blob is caught, that layer rebuilt" "$((NS - 1))" "$(hits st-force)"
check_eq "PARE_VERIFY_CACHE=1: same index digest" "$D6" "$S5"
check_eq "PARE_VERIFY_CACHE=1: cache blob restored" "$(basename "$BL")" "$(sha256sum "$BL" | cut -d' ' -f1)"
check "PARE_VERIFY_CACHE=1: layout bit-identical" diff -r "$W/incr" "$W/st-force"
S6=$(PARE_VERIFY_CACHE=1 build st-force2) || fail "stamps: forced verification, intact cache"
check_eq "PARE_VERIFY_CACHE=1, intact cache: every layer from the cache" "$NS" "$(hits st-force2)"

# A truncated blob is never trusted, stamp or not.
truncate -s 10 "$BL"
touch -r "$W/mtime.ref" "$BL"
S7=$(build st-trunc) || fail "stamps: truncated blob" "$(cat "$W/st-trunc.err")"
check_eq "truncated blob: that layer rebuilt" "$((NS - 1))" "$(hits st-trunc)"
check_eq "truncated blob: same index digest" "$D6" "$S7"

# ---- CA bundle verdict ------------------------------------------------------
ca_checked() { grep -c 'certificates checked before' "$W/$1.err" || true; }
V=$(ls "$PARE_CACHE_DIR/ca"/* 2>/dev/null | sed -n 1p)
check "CA verdict: one entry cached" test "$(ls "$PARE_CACHE_DIR/ca" | wc -l)" -eq 1
check_eq "CA verdict: a warm build uses it" 1 "$(ca_checked st-trunc)"
GOOD=$(cat "$V")
echo "pare-ca-verdict-1 $(basename "$V") 999" >"$V"
C1=$(build ca-tamper) || fail "CA verdict: tampered entry" "$(cat "$W/ca-tamper.err")"
check_eq "CA verdict tampered: ignored, certificates checked again" 0 "$(ca_checked ca-tamper)"
check_eq "CA verdict tampered: same index digest" "$D6" "$C1"
check_eq "CA verdict tampered: entry rewritten" "$GOOD" "$(cat "$V")"
C2=$(build ca-again) || fail "CA verdict: rebuilt entry" "$(cat "$W/ca-again.err")"
check_eq "CA verdict rewritten: used again" 1 "$(ca_checked ca-again)"

# A broken certificate (ca-certificates re-published with one) is refused on
# every build, and no verdict is recorded for it.
{ sed 's/^Version: 20230311$/Version: 20230312/' "$PARE_SRC/tests/fixtures/packages/ca-certificates.pkg"
  echo 'file /usr/share/ca-certificates/mozilla/Broken.crt 0644 not-a-certificate'; } >"$W/ca-bad.pkg"
check "publish ca-certificates with a broken certificate" "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/ca-bad.pkg"
"$PARE" --quiet lock lc >/dev/null || fail "re-lock with the broken certificate"
check_fails "broken certificate: the build fails naming it" "Broken.crt: not a valid PEM certificate" \
	"$PARE" --quiet build lc -o "$W/ca-bad"
check_eq "broken certificate: no verdict recorded" 1 "$(ls "$PARE_CACHE_DIR/ca" | wc -l)"
check_fails "broken certificate: refused again on the next build" "Broken.crt: not a valid PEM certificate" \
	"$PARE" --quiet build lc -o "$W/ca-bad"
check "broken certificate: no output written" test ! -e "$W/ca-bad"
done_testing
