#!/usr/bin/env bash
# t-linkcheck.sh - the build's link check: a library a kept ELF object needs
# (DT_NEEDED) that the strip policy removed fails the build with one line
# naming the object, its package, the library and the rule, and writes
# nothing; stripping the object too passes; a library no package ships is a
# warning, once per library (an error with the recipe's strict: true); $ORIGIN run paths resolve; warm rebuilds (layers
# from the layer cache, no .deb read) reach the same verdicts.  Dependencies
# come from the program headers, as ld.so reads them: a binary without section
# headers is still checked; a DT_NEEDED with a newline is refused.
. "$(dirname "$0")/lib.sh"

need gcc jq
fixture_env
mkdir -p "$W/src" "$W/pkgs"
HOST=$(dpkg --print-architecture)
export ARCHS=$HOST

# --- real ELF objects, published as fixture packages ---------------------------------------
C=$REPO/.content
cat >"$W/src/lib.c" <<'EOF'
int lc_answer(void);
int lc_answer(void) { return 42; }
EOF
cat >"$W/src/prog.c" <<'EOF'
int lc_answer(void);
int main(void) { return lc_answer() == 42 ? 0 : 1; }
EOF
cd "$W/src"
gcc -shared -fPIC -Os -s -Wl,-soname,liblcbar.so.1 -o liblcbar.so.1 lib.c
gcc -shared -fPIC -Os -s -Wl,-soname,libghost.so.1 -o libghost.so.1 lib.c
gcc -shared -fPIC -Os -s -Wl,-soname,liblcpriv.so.1 -o liblcpriv.so.1 lib.c
gcc -Os -s -o lcprog prog.c ./liblcbar.so.1
gcc -Os -s -o lcghost prog.c ./libghost.so.1
# a RUNPATH with $ORIGIN: /opt/lc/bin/lcorig finds /opt/lc/lib/liblcpriv.so.1
gcc -Os -s -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -o lcorig prog.c ./liblcpriv.so.1
cd - >/dev/null
cp "$W/src"/{liblcbar.so.1,liblcpriv.so.1,lcprog,lcghost,lcorig} "$C/"
readelf -d "$C/lcprog" | grep -q 'NEEDED.*liblcbar.so.1' || fail "lcprog does not need liblcbar.so.1"
# ld.so reads program headers, never section headers: lcsstrip is lcprog with
# them removed (sstrip-like: e_shoff, e_shnum, e_shstrndx zero), lcnl is
# lcprog needing "liblc\nar.so.1" (a newline made one DT_NEEDED two)
python3 - "$C/lcprog" "$C/lcsstrip" "$C/lcnl" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
struct.pack_into('<Q', b, 0x28, 0)
struct.pack_into('<HHH', b, 0x3a, 0, 0, 0)
open(sys.argv[2], 'wb').write(b)
assert b.count(b'\0liblcbar.so.1\0') == 1
open(sys.argv[3], 'wb').write(b.replace(b'\0liblcbar.so.1\0', b'\0liblc\nar.so.1\0'))
EOF
readelf -S "$C/lcsstrip" 2>&1 | grep -q 'There are no sections' || fail "lcsstrip still has section headers"

pkg() { # NAME DEPENDS DIRECTIVE...
	local name=$1 deps=$2
	shift 2
	{
		printf 'Package: %s\nVersion: 1.0-1\nArchitecture: %s\n' "$name" "$HOST"
		printf 'Maintainer: Pare Fixture Maintainers <fixture@invalid>\n'
		printf 'Depends: %s\nSection: misc\nPriority: optional\n' "$deps"
		printf 'Description: link check fixture\n Link check test package.\n\n'
		printf '%s\n' "$@"
	} >"$W/pkgs/$name.pkg"
}
pkg liblcbar libc6 "file /usr/lib/{triplet}/liblcbar.so.1 0644 @liblcbar.so.1" \
	"file /usr/lib/{triplet}/liblcbar-extra.txt 0644 not a library"
pkg lcprog "liblcbar, libc6" "file /usr/bin/lcprog 0755 @lcprog"
pkg lcsstrip "liblcbar, libc6" "file /usr/bin/lcsstrip 0755 @lcsstrip"
pkg lcnl "liblcbar, libc6" "file /usr/bin/lcnl 0755 @lcnl"
# two objects needing the same unshipped library: one warning
pkg lcghost libc6 "file /usr/bin/lcghost 0755 @lcghost" "file /usr/bin/lcghost2 0755 @lcghost"
pkg lcorig libc6 "file /opt/lc/bin/lcorig 0755 @lcorig" "file /opt/lc/lib/liblcpriv.so.1 0644 @liblcpriv.so.1"
"$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/pkgs"/*.pkg >"$W/mkrepo.log" 2>&1 ||
	{ fail "mkrepo --add" "$(cat "$W/mkrepo.log")"; done_testing; }

# build NAME OUT: stderr into $W/OUT.err
build() { "$PARE" --verbose build "$1" -o "$W/$2" >/dev/null 2>"$W/$2.err"; }
# errs OUT: what pare reported (not progress, not --verbose debug lines)
errs() { grep '^pare: ' "$W/$1.err" | grep -v '^pare: debug:' || true; }
hits() { grep -c 'taken from the layer cache' "$W/$1.err" || true; }

fixture_recipe strip-lib stable "lcprog" 'strip: ["/usr/lib/*/liblcbar*"]'
fixture_recipe strip-both stable "lcprog" 'strip: ["/usr/lib/*/liblcbar*", "/usr/bin/lcprog"]'
fixture_recipe ghost stable "lcghost"
fixture_recipe ghost-strict stable "lcghost" 'strict: true'
fixture_recipe origin stable "lcorig"
fixture_recipe origin-strip stable "lcorig" 'strip: ["/opt/lc/lib/*"]'
fixture_recipe plain stable "lcprog"
fixture_recipe sstrip stable "lcsstrip"
fixture_recipe sstrip-lib stable "lcsstrip" 'strip: ["/usr/lib/*/liblcbar*"]'
fixture_recipe newline stable "lcnl"
for r in strip-lib strip-both ghost ghost-strict origin origin-strip plain sstrip sstrip-lib newline; do
	"$PARE" --quiet lock "$r" >/dev/null 2>"$W/lock-$r.err" || fail "lock $r" "$(cat "$W/lock-$r.err")"
done

RE_STRIP='^pare: .*: usr/bin/lcprog \(package lcprog\) needs liblcbar\.so\.1, removed by strip rule "/usr/lib/\*/liblcbar\*"'

# --- cold builds ------------------------------------------------------------------------------
verdicts() { # PHASE
	local p=$1
	if build strip-lib "$p-strip-lib"; then
		fail "$p: stripping a library a kept binary needs fails the build" "$(errs "$p-strip-lib")"
	else
		check_eq "$p: the failure is one line" 1 "$(errs "$p-strip-lib" | wc -l)"
		if errs "$p-strip-lib" | grep -Eq "$RE_STRIP"; then
			ok "$p: the line names the binary, its package, the library and the strip rule"
		else
			fail "$p: the line names the binary, its package, the library and the strip rule" \
				"$(errs "$p-strip-lib")"
		fi
		check "$p: no output written" test ! -e "$W/$p-strip-lib"
	fi
	check "$p: stripping the binary too passes" build strip-both "$p-strip-both"
	check_eq "$p: ... without a warning" "" "$(errs "$p-strip-both")"
	check "$p: a library no package ships is not an error" build ghost "$p-ghost"
	check_eq "$p: ... but one warning for it (two binaries need it)" \
		"pare: warning: ghost ($HOST): usr/bin/lcghost (package lcghost) (and 1 more) needs libghost.so.1, which no package in the image ships" \
		"$(errs "$p-ghost")"
	if build ghost-strict "$p-ghost-strict"; then
		fail "$p: ... with strict: true it fails the build"
	else
		check_eq "$p: ... with strict: true it fails the build, one line" \
			"pare: recipe ghost-strict: ghost-strict ($HOST): usr/bin/lcghost (package lcghost) (and 1 more) needs libghost.so.1, which no package in the image ships (strict: true)" \
			"$(errs "$p-ghost-strict")"
		check "$p: ... no output written" test ! -e "$W/$p-ghost-strict"
	fi
	check "$p: a \$ORIGIN run path resolves" build origin "$p-origin"
	check_eq "$p: ... silently" "" "$(errs "$p-origin")"
	if build origin-strip "$p-origin-strip"; then
		fail "$p: stripping the \$ORIGIN library fails"
	elif errs "$p-origin-strip" | grep -Eq \
		': opt/lc/bin/lcorig \(package lcorig\) needs liblcpriv\.so\.1, removed by strip rule "/opt/lc/lib/\*"'; then
		ok "$p: stripping the \$ORIGIN library fails"
	else
		fail "$p: stripping the \$ORIGIN library fails" "$(errs "$p-origin-strip")"
	fi
	check "$p: nothing stripped: passes" build plain "$p-plain"
	check_eq "$p: ... silently" "" "$(errs "$p-plain")"
	check "$p: a binary without section headers: passes" build sstrip "$p-sstrip"
	check_eq "$p: ... silently" "" "$(errs "$p-sstrip")"
	if build sstrip-lib "$p-sstrip-lib"; then
		fail "$p: ... its stripped library is still caught (from the program headers)"
	elif errs "$p-sstrip-lib" | grep -Eq \
		': usr/bin/lcsstrip \(package lcsstrip\) needs liblcbar\.so\.1, removed by strip rule "/usr/lib/\*/liblcbar\*"'; then
		ok "$p: ... its stripped library is still caught (from the program headers)"
	else
		fail "$p: ... its stripped library is still caught (from the program headers)" \
			"$(errs "$p-sstrip-lib")"
	fi
}
verdicts cold
# a DT_NEEDED with a newline: refused when the package is read, naming both
if build newline cold-newline; then
	fail "a DT_NEEDED with a newline fails the build"
else
	check_eq "a DT_NEEDED with a newline fails the build, naming the package and the file" \
		"lcnl: refusing /usr/bin/lcnl: DT_NEEDED name with control character 0x0a at byte 5" \
		"$(errs cold-newline | sed 's/^pare: .*lcnl: refusing/lcnl: refusing/')"
	check "... no output written" test ! -e "$W/cold-newline"
fi
check_eq "cold: no layer from the cache" 0 "$(hits cold-strip-lib)"

# --- warm: every package layer from the cache, and no .deb can be read --------------------------
rm -rf "$PARE_CACHE_DIR/debs"
mv "$REPO/pool" "$REPO/pool.off"
verdicts warm
check "warm: the failing build took its layers from the cache" test "$(hits warm-strip-lib)" -ge 1
check "warm: the warning build took its layers from the cache" test "$(hits warm-ghost)" -ge 1
check_eq "warm: no package layer built again" "" \
	"$(grep -l 'fetching' "$W"/warm-*.err || true)"
mv "$REPO/pool.off" "$REPO/pool"
check "warm: same image as cold" diff -r "$W/cold-plain" "$W/warm-plain"

# --- an object whose checks multiply: 20000 run path directories x 3000 DT_NEEDED, each
# library shipped in the last directory (every library was looked up in every directory:
# 6e7 path walks, 25 s for this one 230 KB file; a file of n bytes costs n^2) --------------------
python3 - "$C/lcwide" <<'EOF'
import struct, sys
names = [b'libn%d.so' % i for i in range(3000)]
strtab = b'\0' + b':'.join([b'/r%d' % i for i in range(19999)] + [b'/x']) + b'\0'
dyn = [(29, 1)]  # DT_RUNPATH
for nm in names:
    dyn.append((1, len(strtab)))  # DT_NEEDED
    strtab += nm + b'\0'
# what ld.so reads: program headers (PT_LOAD: the whole file at address 0,
# PT_DYNAMIC), DT_STRTAB / DT_STRSZ as addresses
h = bytearray(64)
h[0:7] = b'\x7fELF\x02\x01\x01'
struct.pack_into('<HH', h, 16, 3, 62)  # ET_DYN, x86-64 (the checks do not look)
str_off = 64 + 2 * 56
dyn += [(5, str_off), (10, len(strtab))]  # DT_STRTAB, DT_STRSZ
dyn_off = (str_off + len(strtab) + 7) & ~7
dyn_size = (len(dyn) + 1) * 16
struct.pack_into('<Q', h, 0x20, 64)
struct.pack_into('<HHH', h, 0x34, 64, 56, 2)
b = bytearray(h) + bytes(2 * 56) + strtab
b += b'\0' * (dyn_off - len(b))
for t, v in dyn + [(0, 0)]:
    b += struct.pack('<QQ', t, v)
struct.pack_into('<IIQQQQQQ', b, 64, 1, 4, 0, 0, 0, len(b), len(b), 4096)  # PT_LOAD
struct.pack_into('<IIQQQQQQ', b, 120, 2, 6, dyn_off, dyn_off, 0, dyn_size, dyn_size, 8)
open(sys.argv[1], 'wb').write(b)
EOF
libs=()
for i in $(seq 0 2999); do libs+=("file /x/libn$i.so 0644 x"); done
pkg lcwide libc6 "file /usr/bin/lcwide 0755 @lcwide" "${libs[@]}"
"$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/pkgs/lcwide.pkg" >"$W/mkrepo.log" 2>&1 ||
	fail "mkrepo --add lcwide" "$(cat "$W/mkrepo.log")"
fixture_recipe wide stable "lcwide"
"$PARE" --quiet lock wide >/dev/null 2>"$W/lock-wide.err" || fail "lock wide" "$(cat "$W/lock-wide.err")"
start=$SECONDS
check "a run path of 20000 directories and 3000 DT_NEEDED: the build passes" build wide wide
check_eq "... silently" "" "$(errs wide)"
check "... in seconds ($((SECONDS - start)) s)" test $((SECONDS - start)) -lt 10
done_testing
