#!/usr/bin/env bash
# t-keepgoing.sh - one broken recipe (bad YAML, an unresolvable package) does not stop
# lock, check, update or build for the fleet (make -k): each failure is one `pare: ` line,
# the good recipes' lock entries and images are written, the broken recipe's lock entry
# survives, the exit status is 2 at the end (errors win over check's "a rebuild is due");
# --fail-fast keeps stopping at the first failure and writes nothing.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
HOST=$(dpkg --print-architecture)
R=$PARE_RECIPES

# entry NAME: the recipe's recipes.lock entry (compact JSON), or "null"
entry() { jq -c --arg n "$1" '.recipes[$n]' "$PARE_LOCK"; }
# pkgs NAME: the package names locked for the host arch
pkgs() {
	jq -r --arg n "$1" --arg a "$HOST" '.recipes[$n].archs[$a].packages[].name' "$PARE_LOCK" |
		sort | tr '\n' ' '
}
# digest DIR: the image index digest index.json names (not the signature tags')
digest() {
	jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] // "sha256-" | startswith("sha256-") | not) | .digest' "$1/index.json"
}
# run_pare OUT ERR ARGS...: pare's exit status
run_pare() {
	local o=$1 er=$2 rc=0
	shift 2
	"$PARE" --quiet "$@" >"$o" 2>"$er" || rc=$?
	echo "$rc"
}

# ---- a fleet of two, locked and built ---------------------------------------------------------
fixture_recipe hello stable "hello"
fixture_recipe ssl stable "openssl"
check "lock the fleet" "$PARE" --quiet lock
check "build --all" "$PARE" --quiet build --all --outroot "$W/out"
SSL_ENTRY=$(entry ssl)
SSL_IMAGE=$(digest "$W/out/ssl")
check "ssl is locked" test "$SSL_ENTRY" != null

# ---- break it: ssl asks for a package no index has, bad.yaml is no YAML; hello changes -------
fixture_recipe ssl stable "openssl, no-such-package"
printf 'name: bad\npackages: [hello\n' >"$R/bad.yaml"
fixture_recipe hello stable "hello, libssl3"
BADLINE="pare: $R/bad.yaml:3:1: did not find expected ',' or ']' while parsing a flow sequence"
SSLLINE="pare: ssl $HOST: cannot resolve: no package 'no-such-package' in the indexes"
cp "$PARE_LOCK" "$W/lock.before"

# lock --fail-fast: the first failure stops it, nothing written
rc=$(run_pare "$W/o" "$W/e" lock --fail-fast)
check_eq "lock --fail-fast: exit 2" 2 "$rc"
check_eq "lock --fail-fast: the first error only" "$BADLINE" "$(cat "$W/e")"
check "lock --fail-fast: recipes.lock untouched" cmp "$W/lock.before" "$PARE_LOCK"

# check: errors win (exit 2) but the report also lists hello's change
rc=$(run_pare "$W/o" "$W/e" check)
check_eq "check: exit 2 (errors win over a rebuild due)" 2 "$rc"
check_eq "check: one line per broken recipe, then the count" \
	"$BADLINE"$'\n'"$SSLLINE"$'\n'"pare: check: 2 of 3 recipes failed" "$(cat "$W/e")"
check "check: hello's changes are listed" grep -q "libssl3" "$W/o"
rc=$(run_pare "$W/check.json" "$W/e" check --json)
check_eq "check --json: exit 2" 2 "$rc"
check_eq "check --json: hello changed, ssl not listed as changed, both errors" \
	"true hello true $R/bad.yaml|ssl" \
	"$(jq -r '"\(.changed) \(.recipes | map(select(.changed) | .recipe) | join(",")) \(.recipes | map(select(.recipe == "ssl")) | length == 0) \(.errors | map(.recipe) | join("|"))"' "$W/check.json")"
check_eq "check --json: the error texts are the lines' (without 'pare: ')" \
	"${BADLINE#pare: }|${SSLLINE#pare: }" "$(jq -r '.errors | map(.error) | join("|")' "$W/check.json")"

# lock: hello re-locked, ssl's entry survives, bad not added; exit 2
rc=$(run_pare "$W/o" "$W/e" lock)
check_eq "lock: exit 2" 2 "$rc"
check_eq "lock: one line per broken recipe, then the count" \
	"$BADLINE"$'\n'"$SSLLINE"$'\n'"pare: lock: 2 of 3 recipes failed (the others are locked)" \
	"$(cat "$W/e")"
check_eq "lock: hello's new entry written" "hello libssl3 " "$(pkgs hello | grep -o 'hello \|libssl3 ' | sort | tr -d '\n')"
check_eq "lock: ssl's previous entry survives" "$SSL_ENTRY" "$(entry ssl)"
check_eq "lock: nothing for the broken YAML" null "$(entry bad)"
rc=$(run_pare "$W/o" "$W/e" lock --check)
check_eq "lock --check: errors win (exit 2)" 2 "$rc"

# update: hello changes again; its image is rebuilt, ssl's is left alone
fixture_recipe hello stable "hello, libssl3, libc6"
rc=$(run_pare "$W/o" "$W/e" update -o "$W/out")
check_eq "update: exit 2" 2 "$rc"
check_eq "update: one line per broken recipe, then the count" \
	"$BADLINE"$'\n'"$SSLLINE"$'\n'"pare: update: 2 of 3 recipes failed (the others are updated)" \
	"$(cat "$W/e")"
check_eq "update: hello rebuilt (stdout names it)" "hello" "$(cut -d' ' -f1 "$W/o")"
check_eq "update: hello's image is the one reported" "$(digest "$W/out/hello")" "$(cut -d' ' -f4 "$W/o")"
check_eq "update: ssl's image untouched" "$SSL_IMAGE" "$(digest "$W/out/ssl")"
check_eq "update: ssl's lock entry survives" "$SSL_ENTRY" "$(entry ssl)"
check "update: hello's entry is current (lock --check hello)" "$PARE" --quiet lock --check hello
check_eq "update: no staging directory left" "" "$(find "$W/out" -maxdepth 1 -name '.*' ! -name . )"

# build --all: hello built, ssl (changed since its lock) and bad reported, exit 2
fixture_recipe hello stable "hello"
check "re-lock hello alone" "$PARE" --quiet lock hello
rm -rf "$W/out/hello"
rc=$(run_pare "$W/o" "$W/e" build --all --fail-fast --outroot "$W/out")
check_eq "build --all --fail-fast: exit 2" 2 "$rc"
check_eq "build --all --fail-fast: the first error only" "$BADLINE" "$(cat "$W/e")"
check "build --all --fail-fast: hello not built" test ! -e "$W/out/hello"
rc=$(run_pare "$W/o" "$W/e" build --all --outroot "$W/out")
check_eq "build --all: exit 2" 2 "$rc"
check_eq "build --all: one line per broken recipe, then the count" \
	"$BADLINE"$'\n'"pare: $R/ssl.yaml changed since $PARE_LOCK was written: run 'pare lock ssl'"$'\n'"pare: build: 2 of 3 recipes failed" \
	"$(cat "$W/e")"
check_eq "build --all: hello's image built and reported" "hello $(digest "$W/out/hello")" "$(cat "$W/o")"
check_eq "build --all: ssl's image untouched" "$SSL_IMAGE" "$(digest "$W/out/ssl")"

done_testing
