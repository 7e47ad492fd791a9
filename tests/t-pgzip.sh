#!/usr/bin/env bash
# t-pgzip.sh - gzip layers (builder/pgzip.c) in real builds: the same image
# bytes with PARE_THREADS=1, 2 and 4 (big-data's 4 MiB file spans several
# 1 MiB gzip members), every layer passes gzip -t, gunzips to its diff_id with
# gzip and with Python's gzip module, and is a series of 1 MiB members with
# the fixed header (no name, mtime 0, OS 3).
. "$(dirname "$0")/lib.sh"

need jq gzip python3 tar
W=$(tmpdir)
REPO=$(fixture_repo)
export PARE_RECIPES=$W/recipes PARE_LOCK=$W/recipes.lock
mkdir -p "$PARE_RECIPES"
fixture_recipe big stable "hello, big-data, libc6"
check "lock" "$PARE" --quiet lock big
d1=$(PARE_THREADS=1 PARE_CACHE_DIR=$W/c1 "$PARE" --quiet build big -o "$W/o1")
d2=$(PARE_THREADS=2 PARE_CACHE_DIR=$W/c2 "$PARE" --quiet build big -o "$W/o2")
d4=$(PARE_THREADS=4 PARE_CACHE_DIR=$W/c4 "$PARE" --quiet build big -o "$W/o4")
d0=$(PARE_CACHE_DIR=$W/c0 "$PARE" --quiet build big -o "$W/o0")
check "the builds printed an index digest" test "${d1:0:7}" = sha256: -a "${#d1}" -eq 71
check_eq "PARE_THREADS=1 and 2 give the same index digest" "$d1" "$d2"
check_eq "PARE_THREADS=1 and 4 give the same index digest" "$d1" "$d4"
check_eq "default thread count gives the same index digest" "$d1" "$d0"
check "layouts are byte-identical (1 and 2 threads)" diff -r "$W/o1" "$W/o2"
check "layouts are byte-identical (1 and 4 threads)" diff -r "$W/o1" "$W/o4"
idx=$(jq -r '.manifests[0].digest' "$W/o1/index.json")
m=$(jq -r '.manifests[0].digest' "$W/o1/blobs/sha256/${idx#sha256:}")
mf=$W/o1/blobs/sha256/${m#sha256:}
if jq -e '.layers' "$mf" >/dev/null 2>&1; then :; else
	mf=$W/o1/blobs/sha256/$(jq -r '.manifests[0].digest' "$mf" | cut -d: -f2)
fi
n=$(jq '.layers | length' "$mf")
bad=""
biggest=0
bigmem=0
# members: "N SIZE..." of a gzip file, each member's header checked
members() {
	python3 - "$1" <<'PY'
import sys, zlib
d = open(sys.argv[1], "rb").read()
sizes = []
while d:
    assert d[:4] == b"\x1f\x8b\x08\x00" and d[4:8] == b"\0\0\0\0" and d[9] == 3, "bad member header"
    z = zlib.decompressobj(16 + 15)
    sizes.append(len(z.decompress(d)))
    assert z.eof, "truncated member"
    d = z.unused_data
print(len(sizes), *sizes)
PY
}
for i in $(seq 0 $((n - 1))); do
	l=$(jq -r ".layers[$i].digest" "$mf")
	want=$(jq -r ".rootfs.diff_ids[$i]" "$W/o1/blobs/sha256/$(jq -r '.config.digest' "$mf" | cut -d: -f2)")
	b=$W/o1/blobs/sha256/${l#sha256:}
	jq -e ".layers[$i].mediaType == \"application/vnd.oci.image.layer.v1.tar+gzip\"" "$mf" >/dev/null || bad="$bad $l:type"
	gzip -t "$b" || bad="$bad $l:gzip-t"
	got=sha256:$(gzip -dc "$b" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || bad="$bad $l:diff_id"
	got=sha256:$(python3 -c 'import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' "$b" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || bad="$bad $l:python-gzip"
	sz=$(gzip -dc "$b" | wc -c)
	# every member holds 1 MiB of tar but the last (ceil(size / 1 MiB) members)
	m=$(members "$b") || bad="$bad $l:members"
	set -- $m
	nm=$1
	shift
	((nm == (sz + 1048575) / 1048576)) || bad="$bad $l:nmembers=$nm"
	for ((k = 1; k < nm; k++)); do
		[ "$1" = 1048576 ] || bad="$bad $l:member-size=$1"
		shift
	done
	((sz > biggest)) && biggest=$sz bigmem=$nm
done
check_eq "$n layers: gzip -t passes, each gunzips to its diff_id with gzip and Python, 1 MiB members" "" "$bad"
check "a layer spans several 1 MiB members ($biggest bytes of tar, $bigmem members)" test "$bigmem" -ge 4

# interop on the multi-member layers: skopeo copies the image, umoci unpacks
# it, and the unpacked 4 MiB file is the one in the layer's tar
want=""
for i in $(seq 0 $((n - 1))); do
	b=$W/o1/blobs/sha256/$(jq -r ".layers[$i].digest" "$mf" | cut -d: -f2)
	if tar -tzf "$b" | grep -q 'usr/share/big-data/blob$'; then
		want=$(tar -xzOf "$b" --wildcards '*usr/share/big-data/blob' | sha256sum | cut -d' ' -f1)
	fi
done
check "the big-data file is in a layer" test -n "$want"
if ! plain_only 3 "skopeo copies the multi-member image, umoci unpacks it, the 4 MiB file"; then
	:
elif command -v skopeo >/dev/null; then
	check "skopeo copy oci:DIR:latest dir:…" skopeo copy -q "oci:$W/o1:latest" "dir:$W/skopeo-dir"
else
	skip "skopeo not installed"
fi
if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	: # (in the skip above)
elif command -v umoci >/dev/null; then
	check "umoci unpack --rootless" umoci unpack --rootless --image "$W/o1:latest" "$W/bundle"
	check_eq "umoci's rootfs has the 4 MiB file" "$want" \
		"$(sha256sum < "$W/bundle/rootfs/usr/share/big-data/blob" | cut -d' ' -f1)"
else
	skip "umoci not installed"
fi
done_testing
