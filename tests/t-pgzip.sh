#!/usr/bin/env bash
# t-pgzip.sh - gzip layers (builder/pgzip.c) in real builds: the same image
# bytes with PARE_THREADS=1 and with several threads (big-data's 4 MiB file
# spans many 256 KiB blocks and several batches), every layer passes gzip -t
# and gunzips to its diff_id.
. "$(dirname "$0")/lib.sh"

need jq gzip
W=$(tmpdir)
REPO=$(fixture_repo)
export PARE_RECIPES=$W/recipes PARE_LOCK=$W/recipes.lock
mkdir -p "$PARE_RECIPES"
fixture_recipe big stable "hello, big-data, libc6"
check "lock" "$PARE" --quiet lock big
d1=$(PARE_THREADS=1 PARE_CACHE_DIR=$W/c1 "$PARE" --quiet build big -o "$W/o1")
d4=$(PARE_THREADS=4 PARE_CACHE_DIR=$W/c4 "$PARE" --quiet build big -o "$W/o4")
d0=$(PARE_CACHE_DIR=$W/c0 "$PARE" --quiet build big -o "$W/o0")
check "the builds printed an index digest" test "${d1:0:7}" = sha256: -a "${#d1}" -eq 71
check_eq "PARE_THREADS=1 and 4 give the same index digest" "$d1" "$d4"
check_eq "default thread count gives the same index digest" "$d1" "$d0"
check "layouts are byte-identical" diff -r "$W/o1" "$W/o4"
idx=$(jq -r '.manifests[0].digest' "$W/o1/index.json")
m=$(jq -r '.manifests[0].digest' "$W/o1/blobs/sha256/${idx#sha256:}")
mf=$W/o1/blobs/sha256/${m#sha256:}
if jq -e '.layers' "$mf" >/dev/null 2>&1; then :; else
	mf=$W/o1/blobs/sha256/$(jq -r '.manifests[0].digest' "$mf" | cut -d: -f2)
fi
n=$(jq '.layers | length' "$mf")
bad=""
biggest=0
for i in $(seq 0 $((n - 1))); do
	l=$(jq -r ".layers[$i].digest" "$mf")
	want=$(jq -r ".rootfs.diff_ids[$i]" "$W/o1/blobs/sha256/$(jq -r '.config.digest' "$mf" | cut -d: -f2)")
	b=$W/o1/blobs/sha256/${l#sha256:}
	jq -e ".layers[$i].mediaType == \"application/vnd.oci.image.layer.v1.tar+gzip\"" "$mf" >/dev/null || bad="$bad $l:type"
	gzip -t "$b" || bad="$bad $l:gzip-t"
	got=sha256:$(gzip -dc "$b" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || bad="$bad $l:diff_id"
	sz=$(gzip -dc "$b" | wc -c)
	((sz > biggest)) && biggest=$sz
done
check_eq "$n layers: gzip -t passes and each gunzips to its diff_id" "" "$bad"
check "a layer spans more than one 2 MiB batch ($biggest bytes of tar)" test "$biggest" -gt 2097152
done_testing
