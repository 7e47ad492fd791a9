#!/bin/bash
# t-fuzz.sh - every libFuzzer target in tests/fuzz runs ~3 s without a crash,
# leak, hang or sanitizer report (make -C tests/fuzz short).
. "$(dirname "$0")/lib.sh"

need clang make

# The targets are their own clang ASan/UBSan build, whatever pare binary the suite
# tests: they run once, in the plain suite, not again in the ASan one.
if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "fuzz targets" "run in the plain suite"
	done_testing
fi

log=$(tmpdir)/fuzz.log
targets=$(cd "$PARE_SRC/tests/fuzz" && ls fuzz-*.c 2>/dev/null | sed 's/^fuzz-//; s/\.c$//')
if [[ -z $targets ]]; then
	fail "fuzz targets exist in tests/fuzz"
	done_testing
fi

if make -s -C "$PARE_SRC/tests/fuzz" build >"$log" 2>&1; then
	ok "fuzz targets build with clang and the sanitizers"
else
	fail "fuzz targets build with clang and the sanitizers" "$(tail -n 40 "$log")"
	done_testing
fi

make -s -C "$PARE_SRC/tests/fuzz" short >"$log" 2>&1 || true
for t in $targets; do
	if grep -qx "fuzz-result: ok $t" "$log"; then
		ok "fuzz-$t: a short run without a crash, leak or sanitizer report"
	else
		fail "fuzz-$t: a short run without a crash, leak or sanitizer report" \
			"$(grep -A40 "fuzz-result: FAILED $t" "$log" || tail -n 40 "$log")"
	fi
done

done_testing
