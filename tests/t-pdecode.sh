#!/usr/bin/env bash
# t-pdecode.sh - .debs are decoded on worker threads ahead of the thread that builds the
# tree in lock order: the image, and the first error, must not depend on the number of
# threads (PARE_THREADS) or on which thread decoded what.  Every build here starts from
# a fresh cache (no layer cache), so every .deb is decoded.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env --hostile

# build NAME THREADS [ARGS]: a build with its own cache and output; stdout: digest or error
n=0
build() {
	local name=$1 t=$2
	shift 2
	n=$((n + 1))
	PARE_THREADS=$t PARE_CACHE_DIR=$W/c$n "$PARE" --quiet build "$name" -o "$W/out$n" "$@" 2>&1
}
# same NAME ARGS...: the result (digest or error) for 1, 2, 4 and 8 threads, one per line
same() {
	local name=$1 r1 r t
	shift
	r1=$(build "$name" 1 "$@")
	echo "$r1"
	for t in 2 4 8; do
		r=$(build "$name" "$t" "$@")
		[ "$r" = "$r1" ] || echo "PARE_THREADS=$t: $r"
	done
}

# --- many packages, many layers and few: same image for any thread count --------------------
fixture_recipe many stable "hello, has-docs, has-setuid, ca-certificates, tzdata, base-files, libnonstd, big-data, utf8-names, legacy-paths, lic-dep5, lic-free, libhello-data, data-all"
check "lock many" "$PARE" --quiet lock many
r=$(same many)
check "many packages: a digest" test "${r#sha256:}" != "$r"
check_eq "many packages: the same digest for 1, 2, 4 and 8 threads" 1 "$(echo "$r" | wc -l)"
r=$(same many --max-layers 3)
check "many packages in 2 package layers: a digest" test "${r#sha256:}" != "$r"
check_eq "many packages in 2 package layers: the same digest for 1, 2, 4 and 8 threads" 1 "$(echo "$r" | wc -l)"
# the layer record written by a threaded build restores the same image
D=$(PARE_THREADS=4 "$PARE" --quiet build many -o "$W/warm1")
D2=$(PARE_THREADS=1 "$PARE" --quiet build many -o "$W/warm2")
check_eq "a warm build from the records of a threaded build: same digest" "$D" "$D2"

# --- layers from the cache, from cached .debs and from fetched .debs, mixed ------------------
# decoding starts while the layer cache is consulted, before the missing .debs are fetched
C=$W/mixed
D=$(PARE_CACHE_DIR=$C "$PARE" --quiet build many -o "$W/mixed0") || fail "build many (mixed)"
ls "$C"/debs/sha256/* >/dev/null 2>&1 || fail "no .debs in $C/debs/sha256"
for t in 1 2 4; do
	rm -f $(ls "$C"/layers/*.json | awk 'NR % 3 == 1')
	rm -f $(ls "$C"/debs/sha256/* | awk -v t=$t 'NR % 2 == t % 2')
	check_eq "some layers cached, some .debs cached, the rest fetched ($t threads): same digest" "$D" \
		"$(PARE_THREADS=$t PARE_CACHE_DIR=$C "$PARE" --quiet build many -o "$W/mixed$t" 2>&1)"
done

# --- overlaps: only Replaces lets the later package win -------------------------------------
fixture_recipe repl stable "overlap-a, overlap-c, hello"
check "lock repl" "$PARE" --quiet lock repl
for ml in "" 2; do
	r=$(same repl ${ml:+--max-layers $ml})
	check "overlap with Replaces${ml:+ (one layer)}: builds" test "${r#sha256:}" != "$r"
	check_eq "overlap with Replaces${ml:+ (one layer)}: same digest for any thread count" 1 "$(echo "$r" | wc -l)"
done
PARE_THREADS=4 "$PARE" --quiet build repl -o "$W/repl" >/dev/null || fail "build repl"
# the image's layers (index.json -> image index -> the one manifest), unpacked in order
blob() { echo "$W/repl/blobs/sha256/${1#sha256:}"; }
i=$(jq -r '.manifests[0].digest' "$W/repl/index.json")
if jq -e '.manifests' "$(blob "$i")" >/dev/null 2>&1; then
	i=$(jq -r '.manifests[0].digest' "$(blob "$i")")
fi
mkdir -p "$W/rootfs"
for l in $(jq -r '.layers[].digest' "$(blob "$i")"); do
	tar -xf "$(blob "$l")" -C "$W/rootfs" --no-same-owner 2>/dev/null || fail "unpack $l"
done
check_eq "overlap with Replaces: the replacing package's file is in the image" "from overlap-c" \
	"$(cat "$W/rootfs/usr/share/overlap/file" 2>/dev/null)"

fixture_recipe norepl stable "overlap-a, overlap-b, hello"
check "lock norepl" "$PARE" --quiet lock norepl
r=$(same norepl)
check_eq "overlap without Replaces: the same error for any thread count" 1 "$(echo "$r" | wc -l)"
check "overlap without Replaces: names both packages" \
	grep -q "shipped by both overlap-a and overlap-b (no Replaces)" <<<"$r"

# --- errors: the first failing package in lock order wins, however far ahead others were -----
# a corrupt .deb first, an overlap (an error only the tree sees) after it
fixture_recipe err1 "stable, hostile" "evil-corrupt, overlap-a, overlap-b, hello, tzdata" \
	"assume_defaults: false"
check "lock err1" "$PARE" --quiet lock err1
r=$(same err1)
check_eq "corrupt .deb before an overlap: the same error for any thread count" 1 "$(echo "$r" | wc -l)"
check "corrupt .deb before an overlap: the corrupt one is named" grep -q "evil-corrupt" <<<"$r"
check "corrupt .deb before an overlap: no output" test ! -e "$W/out$n"
# a refusal made while inserting (a shell) first, .debs that fail to decode after it: the
# decoders have long read (and failed on) the later ones when the main thread reaches the shell
# (box-shell ships /bin/busybox: pare lock refuses dash, a package it knows to be a shell, but
# cannot see a shell under another package's name; the build checks every file)
mkdir -p "$W/pkgs"
printf 'Package: box-shell\nVersion: 1.0-1\nArchitecture: %s\nMaintainer: Pare Fixture Maintainers <fixture@invalid>\nSection: misc\nPriority: optional\nDescription: a shell under another name\n Parallel decoding test package.\n\nfile /bin/busybox 0755 fake busybox\n' \
	"$(dpkg --print-architecture)" >"$W/pkgs/box-shell.pkg"
"$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/pkgs/box-shell.pkg" >"$W/mkrepo.log" 2>&1 ||
	fail "mkrepo --add box-shell" "$(cat "$W/mkrepo.log")"
fixture_recipe err2 "stable, hostile" "box-shell, evil-corrupt, evil-device, evil-truncated" "assume_defaults: false"
check "lock err2" "$PARE" --quiet lock err2
r=$(same err2)
check_eq "a refusal before corrupt .debs: the same error for any thread count" 1 "$(echo "$r" | wc -l)"
check "a refusal before corrupt .debs: the shell is named" grep -q "box-shell: refusing .*a shell is not allowed" <<<"$r"
check "a refusal before corrupt .debs: no output" test ! -e "$W/out$n"
# several hostile .debs: the first in layer order, in one layer and in many
fixture_recipe err3 hostile "evil-truncated, evil-symlink-escape, evil-hardlink, evil-device, evil-dotdot" \
	"assume_defaults: false"
check "lock err3" "$PARE" --quiet lock err3
for ml in "" 2; do
	r=$(same err3 ${ml:+--max-layers $ml})
	check_eq "hostile .debs${ml:+ (one layer)}: the same error for any thread count" 1 "$(echo "$r" | wc -l)"
	check "hostile .debs${ml:+ (one layer)}: the first one (evil-device) is named" grep -q "err3 ([a-z0-9]*): evil-device: refusing /dev/evil-mem: a device node" <<<"$r"
done
check "nothing written outside" test ! -e "$W/etc/evil" -a ! -e /etc/evil

# --- no data races: the decoders, the layer writers, the gzip member threads and the SBOM
# documents' threads under valgrind's helgrind (a fresh cache: every stage runs threaded)
if grep -q -a __asan_init "$PARE" 2>/dev/null; then
	# valgrind cannot run an ASan binary; the plain suite runs this check
	echo "# helgrind: not with the ASan binary (the plain suite checks for races)"
elif command -v valgrind >/dev/null; then
	PARE_THREADS=4 PARE_CACHE_DIR=$W/hg valgrind --tool=helgrind --suppressions="$PARE_SRC/tests/helgrind.supp" \
		--log-file="$W/helgrind.log" \
		"$PARE" --quiet build many -o "$W/hg-out" >/dev/null 2>&1
	check "helgrind: the threaded build completes" test -f "$W/hg-out/index.json"
	check_eq "helgrind: no data race and no lock-order problem in a threaded build" "" \
		"$(grep -E 'Possible data race|lock order' "$W/helgrind.log" | head -3)"
else
	skip "helgrind: no data races" "valgrind is not installed"
fi

done_testing
