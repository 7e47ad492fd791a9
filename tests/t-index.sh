#!/bin/bash
# t-index.sh - pare lock reads a Packages index as a stream (decompressed block by block, each
# block scanned, then parsed by libsolv): a large .xz index with lines longer than a block and a
# size that is an exact multiple of it locks exactly as the same index uncompressed, with the same
# .solv; a malformed stanza deep inside is reported at its file:line; a truncated .xz, or one that
# does not decompress to the size the Release lists for the uncompressed index, is refused with
# nothing written.
# (The 1 GiB decompressed-size limit is tested in tests/unit/unit-packages.c, with a small limit
# through the same code.)
. "$(dirname "$0")/lib.sh"

need xz python3

repo=$(fixture_repo)
W=$(tmpdir)
R=$W/recipes
L=$W/recipes.lock
mkdir -p "$R"
m=$W/idx
d=$m/dists/stable/main/binary-amd64
mkdir -p "$d"
{
	echo "name: idx"
	echo "repositories:"
	echo "  - url: file://$m"
	echo "    suites: [stable]"
	echo "    components: [main]"
	echo "    trusted: true"
	echo "archs: [amd64]"
	echo "packages: [hello]"
} >"$R/idx.yaml"

# release FILE...: a Release listing those files of $d (relative names)
release() {
	{
		printf 'Origin: Idx\nSuite: stable\nCodename: idx\nDate: Mon, 02 Jan 2023 00:00:00 UTC\nSHA256:\n'
		for f in "$@"; do
			printf ' %s %s main/binary-amd64/%s\n' "$(sha256sum <"$d/$f" | cut -c1-64)" "$(stat -c %s "$d/$f")" "$f"
		done
	} >"$m/dists/stable/Release"
}
# plock CACHE LOCK: lock recipe idx with its own cache and lock file
plock() { PARE_CACHE_DIR=$1 PARE_RECIPES=$R PARE_LOCK=$2 "$PARE" --quiet lock idx 2>&1 >/dev/null; }

# A large index: the fixture's hello closure among N other packages, one with a 300 KB
# one-line field and one with a 200 KB description line (longer than libarchive's 64 KiB blocks),
# padded to an exact multiple of 64 KiB.  N is 20000, and 2000 under ASan: after a long line
# libsolv's reader moves its whole grown buffer (300 KB) once per stanza, and ASan's checked
# memmove made that 20000-stanza index alone cost about 80 s; the smaller one has the same
# shape (the long lines at 35 % and 65 %, the closure at 50 %, the malformed stanza at 75 %).
n=20000
[[ ${PARE_TEST_SUITE:-} == asan ]] && n=2000
python3 - "$repo/dists/stable/main/binary-amd64/Packages" "$d/Packages" "$n" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
n = int(sys.argv[3])
keep = [s for s in src.split("\n\n") if re.match(r"Package: (hello|libc6|libhello-data)\n", s)]
out = []
for i in range(n):
    extra = ""
    if i == n * 35 // 100:
        extra = "X-Long: " + "x" * 300000 + "\n"
    if i == n * 65 // 100:
        extra = "Description: long\n " + "y" * 200000 + "\n"
    out.append("Package: filler%05d\nVersion: 1.%d-1\nArchitecture: amd64\nMaintainer: F <f@example.invalid>\n"
               "Depends: libc6\nFilename: pool/f/filler%05d.deb\nSize: %d\nSHA256: %064x\n%s"
               % (i, i, i, i + 1, i, extra))
out[n // 2:n // 2] = [s.strip("\n") for s in keep]
text = "\n\n".join(out) + "\n\n"
pad = "Package: padding\nVersion: 1\nArchitecture: all\nFilename: pool/p.deb\nSize: 1\nSHA256: %064x\nX-Pad: " % 0
n = len(text) + len(pad) + 2
fill = (n // 65536 + 1) * 65536 - n
open(sys.argv[2], "w").write(text + pad + "p" * fill + "\n\n")
EOF
size=$(stat -c %s "$d/Packages")
((size % 65536 == 0 && size > n * 200)) && ok "test index: $size bytes, $((size / 65536)) blocks of 64 KiB" ||
	fail "test index is a multiple of 64 KiB" "$size bytes"
xz -6 -T1 -c "$d/Packages" >"$d/Packages.xz"

release Packages
check "the large index, uncompressed, locks" plock "$W/c-plain" "$W/plain.lock"
release Packages.xz
check "the same index as .xz (Release lists no uncompressed index) locks" plock "$W/c-xz" "$W/xz.lock"
# (the two Releases differ, and so does the inrelease_sha256 the lock records)
check_eq "  to the same recipes.lock" "$(grep -v inrelease_sha256 "$W/plain.lock")" "$(grep -v inrelease_sha256 "$W/xz.lock")"
check_eq "  and the same .solv" "$(cat "$W"/c-plain/solv/*.solv | sha256sum)" "$(cat "$W"/c-xz/solv/*.solv | sha256sum)"
release Packages.xz Packages
check "the .xz, checked against the uncompressed index the Release lists too" plock "$W/c-both" "$W/both.lock"
check_eq "  the same .solv" "$(cat "$W"/c-plain/solv/*.solv | sha256sum)" "$(cat "$W"/c-both/solv/*.solv | sha256sum)"
grep -q '"filler' "$W/xz.lock" && fail "only the closure is locked" || ok "only the closure is locked"

# refused NAME ERE: the lock fails matching ERE; no lock, no .solv written
refused() {
	local c=$W/c-$RANDOM
	check_fails "$1" "$2" env PARE_CACHE_DIR="$c" PARE_RECIPES="$R" PARE_LOCK="$W/refused.lock" "$PARE" --quiet lock idx
	[[ ! -e $W/refused.lock && -z $(find "$c" -name '*.solv*' 2>/dev/null) ]] && ok "$1: nothing written" ||
		fail "$1: nothing written" "$(ls -R "$W/refused.lock" "$c" 2>&1)"
}

# a malformed stanza deep in the index: the error names the .xz and the line
cp "$d/Packages" "$W/Packages.good"
line=$(grep -n "^Package: filler$(printf %05d $((n * 3 / 4)))\$" "$d/Packages" | cut -d: -f1)
sed -i "$((line + 2))s/^Architecture: amd64\$/Architecture amd64/" "$d/Packages"
xz -6 -T1 -c "$d/Packages" >"$d/Packages.xz"
release Packages.xz
refused "a malformed stanza deep in a large .xz, at its line" \
	"dists/stable/main/binary-amd64/Packages\.xz:$((line + 2)): malformed line \(expected 'Field: value'\)"
cp "$W/Packages.good" "$d/Packages"

# a truncated .xz (listed as it is: the Release hashes match)
xz -6 -T1 -c "$d/Packages" >"$W/full.xz"
head -c $(($(stat -c %s "$W/full.xz") / 2)) "$W/full.xz" >"$d/Packages.xz"
release Packages.xz
refused "a truncated .xz" "Packages\.xz: cannot decompress: "

# an .xz that is not the uncompressed index the Release lists next to it: a byte longer, shorter
sed 's/^Version: 1\.1234-1$/Version: 1.1234-10/' "$W/Packages.good" | xz -6 -T1 -c >"$d/Packages.xz"
release Packages.xz Packages
refused "an .xz longer than the listed uncompressed index" \
	"Packages\.xz: decompresses to more than the $size bytes the Release lists for main/binary-amd64/Packages"
head -c -1 "$W/Packages.good" | xz -6 -T1 -c >"$d/Packages.xz"
release Packages.xz Packages
refused "an .xz one byte shorter than the listed uncompressed index" \
	"Packages\.xz: decompresses to $((size - 1)) bytes, but the Release lists $size for main/binary-amd64/Packages"

done_testing
