#!/usr/bin/env bash
# t-bomb.sh - a .deb that expands far beyond its size, under a signed Installed-Size that allows
# it (tests/fixtures/mkbomb: 160 MiB of zeros in a few KiB of zstd, a sparse entry of 160 MiB
# holding 48 bytes, 200 files of 1 MiB), builds in bounded memory: contents over 1 MiB, or past a
# .deb's 32 MiB in memory, go to an unlinked temporary file, holes are never materialised, and
# the layer holds exactly the files.
# One over the bound (2 x Installed-Size + 16 MiB) fails in one line naming the package.
. "$(dirname "$0")/lib.sh"

need zstd ar jq /usr/bin/time
asan=0
grep -q -a __asan_init "$PARE" 2>/dev/null && asan=1
# ASan's allocator and shadow memory make peak RSS meaningless: under ASan the same builds run
# (smaller, still spilled: leaks and overflows) and the memory checks are the plain suite's
mib=160
((asan)) && mib=64
fixture_env
"$PARE_SRC/tests/fixtures/mkbomb" "$REPO" "$mib" >"$W/mkbomb.log" 2>&1 ||
	fail "mkbomb" "$(tail -20 "$W/mkbomb.log")"
for p in bomb-zeros bomb-sparse bomb-over bomb-many; do
	fixture_recipe "$p" bomb "$p" "assume_defaults: false"
done
check "lock the bombs" "$PARE" --quiet lock bomb-zeros bomb-sparse bomb-over bomb-many

# layer_file NAME PATH: the file at PATH in the image's only package layer, on stdout
layer_file() {
	local idx m l
	idx=$W/out/$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$W/out/$1/index.json" | cut -d: -f2)
	if [[ $(jq -r '.mediaType // empty' "$idx") == application/vnd.oci.image.index.v1+json ]]; then
		m=$(jq -r '.manifests[0].digest' "$idx" | cut -d: -f2)
		idx=$W/out/$1/blobs/sha256/$m
	fi
	for l in $(jq -r '.layers[].digest' "$idx" | cut -d: -f2); do
		tar -xOzf "$W/out/$1/blobs/sha256/$l" "${2#/}" 2>/dev/null && return 0
	done
	return 1
}

# the expected contents, made here as mkbomb makes them (sparse on disk: no space, no memory)
truncate -s "${mib}M" "$W/zeros" "$W/sparse"
for off in 0 $((mib * 512 * 1024)) $((mib * 1024 * 1024 - 16)); do
	printf 'pare sparse data' | dd of="$W/sparse" bs=1 seek="$off" conv=notrunc status=none
done

nmany=$((mib * 2 / 3))
# what the many files hold, in the layer's (path) order
truncate -s $((nmany << 20)) "$W/many"
for p in zeros sparse many; do
	rc=0
	/usr/bin/time -f %M -o "$W/rss-$p" "$PARE" --quiet build "bomb-$p" -o "$W/out/bomb-$p" \
		>/dev/null 2>"$W/out-$p.log" || rc=$?
	what="$mib MiB"
	[[ $p == many ]] && what="$nmany files of 1 MiB"
	check "bomb-$p ($what from a $(stat -c %s "$REPO"/pool/bomb/b/bomb-$p/*.deb)-byte .deb): builds" \
		test "$rc" = 0 -a ! -s "$W/out-$p.log"
	if [[ $p == many ]]; then
		check_eq "bomb-many: the layer holds the $nmany files, byte for byte" \
			"$(sha256sum <"$W/many" | cut -d' ' -f1)" \
			"$(layer_file bomb-many /usr/share/bomb/many | sha256sum | cut -d' ' -f1)"
	else
		check_eq "bomb-$p: the layer holds the file, byte for byte" \
			"$(sha256sum <"$W/$p" | cut -d' ' -f1)" \
			"$(layer_file "bomb-$p" "/usr/share/bomb/$p" | sha256sum | cut -d' ' -f1)"
	fi
	rss=$(tail -1 "$W/rss-$p")
	if ((asan)); then
		skip "bomb-$p: peak RSS under 100 MiB" "ASan's allocator and shadow memory; the plain suite checks it"
	else
		# before the spill file: the whole content in memory (160 MiB and more)
		check "bomb-$p: peak RSS $((rss / 1024)) MiB < 100 MiB" \
			test "$rss" -lt $((100 * 1024))
	fi
done
check "no spill file left in the cache (unlinked from the start)" \
	test -z "$(find "$PARE_CACHE_DIR" -name '*spill*' -print -quit)"

check_fails "bomb-over: over 2 x Installed-Size + 16 MiB fails in one line naming the package" \
	"^pare: .*bomb-over: \./usr/share/bomb/zeros: data\.tar holds more than the package's Installed-Size allows \(1024 KiB" \
	"$PARE" --quiet build bomb-over -o "$W/out/bomb-over"
check_eq "bomb-over: the error is one line" 1 \
	"$("$PARE" --quiet build bomb-over -o "$W/out/bomb-over" 2>&1 >/dev/null | wc -l)"
check "bomb-over: no output" test ! -e "$W/out/bomb-over"

done_testing
