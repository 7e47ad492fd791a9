#!/usr/bin/env bash
# t-cli.sh - every command's command line: `pare CMD --help` / `-h` print the text of
# `pare help CMD` on stdout and exit 0; an unknown option is one line
# `pare: CMD: unknown option '--x' (see 'pare help CMD')`, exit 2; options may follow the
# operands (against the fixture repository: lock, check, plan, why, build, sbom, verify,
# cache) and `--` ends the options.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
HOST=$(dpkg --print-architecture)

# ---- --help, -h and unknown options, for every command --------------------------------------
cmds=$("$PARE" help --commands)
check "pare help --commands lists commands" test -n "$cmds"
# Under ASan each command's --help (its table printed) and --no-such-option (its parser's
# error path) run; -h and 'pare help CMD' reach the same cli_help_command, and the texts are
# the same bytes in both builds, so comparing them with 'pare help CMD' is the plain suite's
# (and -h is checked once, on the first command).
asan=0
[[ ${PARE_TEST_SUITE:-} == asan ]] && asan=1
first=1
for c in $cmds; do
	want=""
	((asan)) || want=$("$PARE" help "$c")
	hs="--help -h"
	((asan && !first)) && hs=--help
	first=0
	for h in $hs; do
		rc=0 desc="pare $c $h: the text of 'pare help $c', exit 0"
		((asan)) && desc="pare $c $h: its usage text on stdout, exit 0"
		out=$("$PARE" "$c" "$h" 2>"$W/err") || rc=$?
		if ((rc == 0)) && [[ ($asan == 1 || $out == "$want") && $out == "usage: pare $c"* && ! -s $W/err ]]; then
			ok "$desc"
		else
			fail "$desc" \
				"exit $rc, stdout:"$'\n'"$out"$'\n'"stderr:"$'\n'"$(cat "$W/err")"
		fi
	done
	rc=0
	err=$("$PARE" "$c" --no-such-option 2>&1 >/dev/null) || rc=$?
	check_eq "pare $c --no-such-option: one line, exit 2" \
		"$rc $err" "2 pare: $c: unknown option '--no-such-option' (see 'pare help $c')"
done
# --help after an operand is still help; after "--" it is an operand
out=$("$PARE" check hello --help 2>&1) || true
check_eq "pare check RECIPE --help: help" "$out" "$("$PARE" help check)"

# ---- a usage error quotes the usage line of 'pare help CMD' (one table, no copy to drift) -----
for c in why sbom sign verify push pull inspect diff; do
	rc=0
	err=$("$PARE" "$c" 2>&1 >/dev/null) || rc=$?
	check_eq "pare $c without operands: its usage line, exit 2" \
		"$rc pare: $c: usage: $("$PARE" help "$c" | sed -n '1s/^usage: //p')" "$rc $err"
done

# ---- every option of a parser is in its help text --------------------------------------------
# (each help text printed once, then searched for every option)
help=$("$PARE" help build)
for o in --source-url --output --jobs --all --outroot --tar --arch --tag --compression \
	--max-layers --sign-key --unsigned-ok --push --insecure --username --password-stdin --quiet; do
	check "pare help build names $o" grep -q -e "$o\\b" <<<"$help"
done
check "pare help keygen names --output" grep -q -e "--output" <<<"$("$PARE" help keygen)"
for c in update watch; do
	help=$("$PARE" help $c)
	for o in --outroot --output --sign-key --unsigned-ok --commit --author --source-url --offline; do
		check "pare help $c names $o" grep -q -e "$o\\b" <<<"$help"
	done
done

# ---- options after operands ------------------------------------------------------------------
fixture_recipe hello stable "hello"
check "lock" "$PARE" --quiet lock hello
check_fails "pare check -- --help: --help is a recipe" "recipes/--help\\.yaml" "$PARE" check -- --help
check "pare lock RECIPE --check: up to date" "$PARE" --quiet lock hello --check
check "pare lock RECIPE --offline" "$PARE" --quiet lock hello --offline
rc=0
"$PARE" --quiet check hello --json >"$W/check.json" 2>"$W/err" || rc=$?
check_eq "pare check RECIPE --json: exit 0" "$rc" 0
check "pare check RECIPE --json: JSON" jq -e 'type == "object" or type == "array"' "$W/check.json"
"$PARE" --quiet plan hello --json >"$W/plan.json" 2>"$W/err" || fail "pare plan RECIPE --json" "$(cat "$W/err")"
check "pare plan RECIPE --json: the matrix" jq -e '.include | type == "array"' "$W/plan.json"
out=$("$PARE" why hello libc6 --arch "$HOST" 2>"$W/err") || fail "pare why RECIPE PKG --arch" "$(cat "$W/err")"
check "pare why RECIPE PKG --arch A: the path to libc6" grep -q libc6 <<<"$out"
out=$("$PARE" why -- hello libc6 2>"$W/err") || fail "pare why -- RECIPE PKG" "$(cat "$W/err")"
check "pare why -- RECIPE PKG: the path to libc6" grep -q libc6 <<<"$out"

check "keygen" "$PARE" --quiet keygen -o "$W/k" --no-password
check "build" "$PARE" --quiet build hello -o "$W/img" --sign-key "$W/k.key"
"$PARE" sbom "$W/img" --format cyclonedx >"$W/cdx.json" 2>"$W/err" || fail "pare sbom DIR --format" "$(cat "$W/err")"
check_eq "pare sbom DIR --format cyclonedx: CycloneDX" "$(jq -r .bomFormat "$W/cdx.json")" CycloneDX
"$PARE" sbom --format cyclonedx -- "$W/img" >"$W/cdx2.json" 2>"$W/err" || fail "pare sbom -- DIR" "$(cat "$W/err")"
check "pare sbom --format F -- DIR: the same document" cmp -s "$W/cdx.json" "$W/cdx2.json"
check "pare verify DIR --key K" "$PARE" --quiet verify "$W/img" --key "$W/k.pub"
check "pare verify --key K -- DIR" "$PARE" --quiet verify --key "$W/k.pub" -- "$W/img"
check "pare sign --key K -- DIR" "$PARE" --quiet sign --key "$W/k.key" -- "$W/img"
check "pare cache --dry-run prune: the subcommand after the option" "$PARE" --quiet cache --dry-run prune

done_testing
