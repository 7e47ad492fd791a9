#!/usr/bin/env bash
# t-layering.sh - the module rules (docs/modules.md) hold on the sources: tests/layering
# finds no module including one above it or another's private header, and no third-party
# library outside the modules that own it; and it does catch each kind of violation, planted
# in a copy of the tree.  tests/symbols finds no global name without its module's prefix in
# the built objects, and catches one planted in a module of its own.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "module include rules" "reads the sources only; runs in the plain suite"
	done_testing
fi

out=$("$PARE_SRC/tests/layering" "$PARE_SRC" 2>&1)
check "the sources keep the module rules" test -z "$out"
[[ -z $out ]] || _t_diag "$out"

# plant one violation of each kind in a copy: each is reported, naming file and line
plant() { # DESC FILE LINE EXPECT
	local desc=$1 file=$2 line=$3 expect=$4 t got rc=0
	t=$(tmpdir)
	(cd "$PARE_SRC" && tar cf - --exclude=./build --exclude=./out --exclude=./.git .) | tar xf - -C "$t"
	sed -i "1i $line" "$t/$file"
	got=$("$PARE_SRC/tests/layering" "$t" 2>&1) || rc=$?
	if ((rc == 1)) && grep -qF "$file:1: $expect" <<<"$got"; then
		ok "$desc"
	else
		fail "$desc" "exit $rc: $got"
	fi
	rm -rf "$t"
}
plant "a lower module including the command layer is refused" oci/layout.c \
	'#include "../cli/cli.h"' "oci/ may not include cli/"
plant "the builder including the signer is refused" builder/image.c \
	'#include "../signer/signer.h"' "builder/ may not include signer/"
plant "a private header of another module is refused" cli/cmd_lock.c \
	'#include "../builder/builder_int.h"' "cli/ includes builder/builder_int.h, a private header"
plant "a library outside its owner is refused" sbom/sbom.c \
	'#include <solv/pool.h>' "sbom/ includes <solv/pool.h>: that library belongs to lazy resolver"

out=$("$PARE_SRC/tests/symbols" "$PARE_SRC" "$PARE_SRC/build" 2>&1)
check "every global name of a module begins with its prefix" test -z "$out"
[[ -z $out ]] || _t_diag "$out"

# a tiny tree: oci/ with one object defining a prefixed, a static and an unprefixed name
t=$(tmpdir)
mkdir -p "$t/src/oci" "$t/obj/oci"
printf 'static int helper(void) { return 1; }\nint oci_fine(void) { return helper(); }\nint json_str(void) { return 2; }\nint oci_table[2];\n' >"$t/src/oci/x.c"
cc -c -o "$t/obj/oci/x.o" "$t/src/oci/x.c"
rc=0
got=$("$PARE_SRC/tests/symbols" "$t/src" "$t/obj" 2>&1) || rc=$?
check "an unprefixed global name is refused, naming file and symbol" \
	test "$rc:$got" = "1:oci/x.c: json_str: a global name of oci/ must begin with one of: oci_"
sed -i '/json_str/d' "$t/src/oci/x.c"
cc -c -o "$t/obj/oci/x.o" "$t/src/oci/x.c"
check "prefixed and static names pass" "$PARE_SRC/tests/symbols" "$t/src" "$t/obj"
mkdir "$t/src/newmod" && cp "$t/src/oci/x.c" "$t/src/newmod/"
rc=0
got=$("$PARE_SRC/tests/symbols" "$t/src" "$t/obj" 2>&1) || rc=$?
check "a new module without prefixes is refused" grep -q "^newmod/: a module with no prefixes" <<<"$got"
rm -rf "$t"
done_testing
