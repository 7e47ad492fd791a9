#!/usr/bin/env bash
# t-audit.sh - pare audit (docs/audit.md): every check on fixture images made to fail it
# (built by pare from fixture recipes where pare builds them; hand-assembled by
# tests/fixtures/mkaudit, python3 tarfile, where pare refuses), on a shipped-style image
# (all pass or not-applicable), JSON, SARIF 2.1.0 against its schema, --fail-on, bad input.
. "$(dirname "$0")/lib.sh"

need jq python3
fixture_env
export PARE_PASSWORD=unused
cd "$W" || exit 1

build() { # NAME: lock and build recipe NAME into $W/NAME
	"$PARE" -q lock "$1" && "$PARE" -q build "$1" -o "$W/$1" "${@:2}" >/dev/null
}
res() { # JSON-FILE ID: the result of check ID in the first image
	jq -r --arg id "$2" '.images[0].checks[] | select(.id == $id) | .result' "$1"
}
evid() { # JSON-FILE ID: the evidence lines of check ID
	jq -r --arg id "$2" '.images[0].checks[] | select(.id == $id) | .evidence[]' "$1"
}

# ---- a shipped-style image: signed, nonroot, no shell ---------------------------------------
"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
"$PARE" -q keygen --no-password -o "$W/other" || fail "keygen other"
fixture_recipe good stable "hello, ca-certificates"
build good --sign-key "$W/k.key" || fail "build good"
"$PARE" audit --key "$W/k.pub" --json "$W/good" >"$W/good.json" || fail "audit good" "$(cat "$W/good.json")"
check_eq "shipped-style: every check passes or is not applicable, but the manual ones" \
	"" "$(jq -r '.images[0].checks[] | select(.result == "fail" or .result == "warn") | "\(.id) \(.result) \(.evidence)"' "$W/good.json")"
check_eq "shipped-style: the manual ones are 4.4 (no CVE feeds) and the rebuild" \
	"PARE-CIS-4.4 PARE-REPRO" "$(jq -r '[.images[0].checks[] | select(.result == "manual") | .id] | join(" ")' "$W/good.json")"
check_eq "pare-audit/1 schema name" "pare-audit/1" "$(jq -r .schema "$W/good.json")"
check_eq "the digest is the per-platform manifest's" \
	"$(jq -r '.manifests[0].digest' "$W/good/blobs/sha256/$(jq -r '.manifests[0].digest' "$W/good/index.json" | cut -d: -f2)")" \
	"$(jq -r '.images[0].digest' "$W/good.json")"
check_eq "4.1 passes for 65532" pass "$(res "$W/good.json" PARE-CIS-4.1)"
check "4.1 evidence names the user" grep -q 'config.User="65532"' <<<"$(evid "$W/good.json" PARE-CIS-4.1)"
check_eq "4.5 signature verified" pass "$(res "$W/good.json" PARE-CIS-4.5)"
check_eq "4.11 packages verified through the SLSA provenance" pass "$(res "$W/good.json" PARE-CIS-4.11)"
check_eq "4.12 attestations validated" pass "$(res "$W/good.json" PARE-CIS-4.12)"
check_eq "4.6 not applicable without a shell" not-applicable "$(res "$W/good.json" PARE-CIS-4.6)"
check "4.4 manual says why (no CVE feeds)" grep -q 'no CVE feeds' <<<"$(evid "$W/good.json" PARE-CIS-4.4)"
check_eq "the SBOM covers every package" pass "$(res "$W/good.json" PARE-SBOM)"
check_eq "package count from status.d" \
	"$(jq '[.recipes.good.archs[].packages[]] | length' "$W/recipes.lock")" "$(jq '.images[0].packages' "$W/good.json")"
check_eq "counts add up to the checks" "$(jq '.images[0].checks | length' "$W/good.json")" \
	"$(jq '[.images[0].counts[]] | add' "$W/good.json")"

# the oci-archive reads as the layout
"$PARE" -q build good --tar "$W/good.tar" --sign-key "$W/k.key" >/dev/null || fail "build --tar"
"$PARE" audit --key "$W/k.pub" --json "$W/good.tar" >"$W/goodtar.json" || fail "audit archive"
check_eq "an oci-archive audits as its layout" \
	"$(jq -c '[.images[0].checks[] | [.id, .result]]' "$W/good.json")" \
	"$(jq -c '[.images[0].checks[] | [.id, .result]]' "$W/goodtar.json")"

# ---- signatures -------------------------------------------------------------------------------
"$PARE" audit --json "$W/good" >"$W/nokey.json" || fail "audit without --key"
check_eq "4.5 without --key: signature present, not verified (warn)" warn "$(res "$W/nokey.json" PARE-CIS-4.5)"
check_eq "4.12 without --key: manual" manual "$(res "$W/nokey.json" PARE-CIS-4.12)"
"$PARE" audit --key "$W/other.pub" --json "$W/good" >"$W/wrongkey.json" || true
check_eq "4.5 with another key: fail" fail "$(res "$W/wrongkey.json" PARE-CIS-4.5)"
fixture_recipe unsigned stable "hello"
build unsigned || fail "build unsigned"
"$PARE" audit --json "$W/unsigned" >"$W/unsigned.json" || fail "audit unsigned"
check_eq "4.5 unsigned: fail" fail "$(res "$W/unsigned.json" PARE-CIS-4.5)"
check_eq "4.12 unsigned: fail" fail "$(res "$W/unsigned.json" PARE-CIS-4.12)"

# ---- built by pare with an allow: root, shell, setuid, secret in Env ---------------------------
fixture_recipe root stable "hello" "accounts:
  run-as: root
allow: [root]"
build root || fail "build root"
"$PARE" audit --json "$W/root" >"$W/root.json" || fail "audit root"
check_eq "4.1 run-as root: fail" fail "$(res "$W/root.json" PARE-CIS-4.1)"
check "4.1 evidence: uid 0" grep -q 'uid 0' <<<"$(evid "$W/root.json" PARE-CIS-4.1)"

fixture_recipe shell stable "hello, bash, has-setuid" "allow: [shell, setuid]"
build shell || fail "build shell"
"$PARE" audit --json "$W/shell" >"$W/shell.json" || fail "audit shell"
check_eq "4.3 a shell the recipe allows: warn" warn "$(res "$W/shell.json" PARE-CIS-4.3)"
check "4.3 evidence: /usr/bin/bash (merged /usr) with its package" grep -q '^/usr/bin/bash: shell, allowed by the recipe (package bash, layer' <<<"$(evid "$W/shell.json" PARE-CIS-4.3)"
check "4.3 evidence: the recipe's allow list" grep -q 'recipe shell allow: \[setuid, shell\]' <<<"$(evid "$W/shell.json" PARE-CIS-4.3)"
check_eq "4.8 setuid the recipe allows: warn" warn "$(res "$W/shell.json" PARE-CIS-4.8)"
check "4.8 evidence: suidprog 4755 (package has-setuid)" grep -q '^/usr/bin/suidprog: mode 4755, allowed by the recipe (package has-setuid' <<<"$(evid "$W/shell.json" PARE-CIS-4.8)"
check "4.8 evidence: sgidprog 2755" grep -q '^/usr/bin/sgidprog: mode 2755' <<<"$(evid "$W/shell.json" PARE-CIS-4.8)"
check_eq "4.6 with a shell and no health check: warn" warn "$(res "$W/shell.json" PARE-CIS-4.6)"
# the same image audited without its recipe (a foreign reader): nothing is allowed
mv "$PARE_RECIPES/shell.yaml" "$W/shell.yaml.away"
"$PARE" audit --json "$W/shell" >"$W/shell2.json" || fail "audit shell without recipe"
mv "$W/shell.yaml.away" "$PARE_RECIPES/shell.yaml"
check_eq "4.3 a shell no recipe allows: fail" fail "$(res "$W/shell2.json" PARE-CIS-4.3)"
check_eq "4.8 setuid no recipe allows: fail" fail "$(res "$W/shell2.json" PARE-CIS-4.8)"

fixture_recipe envsecret stable "hello" "env:
  API_TOKEN: s3cr3t-value-never-shown
  HARMLESS: ghp_abcdefghijklmnopqrstuvwxyz0123456789"
build envsecret || fail "build envsecret"
"$PARE" audit --json "$W/envsecret" >"$W/envsecret.json" || fail "audit envsecret"
check_eq "4.10 secret-like Env key: fail" fail "$(res "$W/envsecret.json" PARE-CIS-4.10)"
check "4.10 evidence names the key" grep -q 'config.Env API_TOKEN: a secret-like key' <<<"$(evid "$W/envsecret.json" PARE-CIS-4.10)"
check "4.10 evidence names a token-like value's key and kind" grep -q 'config.Env HARMLESS: the value holds a GitHub token' <<<"$(evid "$W/envsecret.json" PARE-CIS-4.10)"
"$PARE" audit "$W/envsecret" >"$W/envsecret.txt" || true
"$PARE" audit --sarif "$W/envsecret" >"$W/envsecret.sarif" || true
check_eq "no output shows the secret values" "" \
	"$(grep -l 's3cr3t-value\|ghp_abcdefghij' "$W/envsecret.json" "$W/envsecret.txt" "$W/envsecret.sarif")"

fixture_recipe health stable "hello" "healthcheck: [/usr/bin/hello, --version]"
build health || fail "build health"
check_eq "recipe healthcheck -> config.Healthcheck in exec form" '{"Test":["CMD","/usr/bin/hello","--version"]}' \
	"$(jq -c '.config.Healthcheck' "$W/health/blobs/sha256/$(jq -r .config.digest "$W/health/blobs/sha256/$(jq -r '.manifests[0].digest' "$W/health/blobs/sha256/$(jq -r '.manifests[0].digest' "$W/health/index.json" | cut -d: -f2)" | cut -d: -f2)" | cut -d: -f2)")"
"$PARE" audit --json "$W/health" >"$W/health.json" || fail "audit health"
check_eq "4.6 exec-form health check: pass" pass "$(res "$W/health.json" PARE-CIS-4.6)"
fixture_recipe badhealth stable "hello" "healthcheck: 'curl -f localhost'"
check_refused "healthcheck: not an absolute path is refused at its line" \
	'badhealth.yaml:[0-9]+:[0-9]+: healthcheck: .curl -f localhost.: expected an absolute path' "$PARE" lock badhealth

# ---- hand-assembled images: what pare refuses to build ------------------------------------------
python3 "$PARE_SRC/tests/fixtures/mkaudit" "$W/bad" || fail "mkaudit"
"$PARE" audit --json "$W/bad" >"$W/bad.json" || fail "audit bad" "$(cat "$W/bad.json")"
check_eq "bad: 4.1 empty User runs as root: fail" fail "$(res "$W/bad.json" PARE-CIS-4.1)"
check "bad: 4.1 evidence" grep -q 'config.User is empty' <<<"$(evid "$W/bad.json" PARE-CIS-4.1)"
check_eq "bad: 4.2 not pare: manual" manual "$(res "$W/bad.json" PARE-CIS-4.2)"
check_eq "bad: 4.3 shell and package manager: fail" fail "$(res "$W/bad.json" PARE-CIS-4.3)"
check "bad: 4.3 /bin/sh (package dash from dpkg's info list)" grep -q '^/bin/sh: shell (package dash, layer 1' <<<"$(evid "$W/bad.json" PARE-CIS-4.3)"
check "bad: 4.3 dpkg" grep -q '^/usr/bin/dpkg: package manager' <<<"$(evid "$W/bad.json" PARE-CIS-4.3)"
check "bad: 4.3 gcc" grep -q '^/usr/bin/gcc-12: compiler or debugger' <<<"$(evid "$W/bad.json" PARE-CIS-4.3)"
check_eq "bad: 4.6 CMD-SHELL health check with a shell: pass" pass "$(res "$W/bad.json" PARE-CIS-4.6)"
check_eq "bad: 4.7 apt-get update alone: warn" warn "$(res "$W/bad.json" PARE-CIS-4.7)"
check_eq "bad: 4.8 setuid: fail" fail "$(res "$W/bad.json" PARE-CIS-4.8)"
check "bad: 4.8 /usr/bin/su 4755" grep -q '^/usr/bin/su: mode 4755 (layer 1' <<<"$(evid "$W/bad.json" PARE-CIS-4.8)"
check_eq "bad: 4.9 ADD of a URL: warn" warn "$(res "$W/bad.json" PARE-CIS-4.9)"
check_eq "bad: 4.10 secrets: fail" fail "$(res "$W/bad.json" PARE-CIS-4.10)"
E=$(evid "$W/bad.json" PARE-CIS-4.10)
check "bad: 4.10 private key by content, with its layer" grep -q '^/srv/app/server.pem: holds a private key block (not shown) (layer 2' <<<"$E"
check "bad: 4.10 id_rsa by name" grep -q '^/root/.ssh/id_rsa: a credential file' <<<"$E"
check "bad: 4.10 .aws/credentials" grep -q '^/root/.aws/credentials: a credential file' <<<"$E"
check "bad: 4.10 an AWS key id in a file" grep -q '^/srv/app/settings.py: holds an AWS access key id' <<<"$E"
check "bad: 4.10 Env DB_PASSWORD" grep -q 'config.Env DB_PASSWORD' <<<"$E"
check "bad: 4.10 label with a secret key" grep -q 'config.Labels deploy.token' <<<"$E"
check_eq "bad: 4.10 never the value" "" "$(grep -o 'AKIAIOSFODNN7EXAMPLE\|hunter2\|MIIEvQ' "$W/bad.json")"
check_eq "bad: a whiteout removed the file of the lower layer" "" "$(grep -o '/srv/app/deleted.key\|/srv/old' "$W/bad.json")"
check_eq "bad: shadow empty password: fail" fail "$(res "$W/bad.json" PARE-DKL-LI-0001)"
check "bad: shadow evidence names the account" grep -q '/etc/shadow: guest has an empty password' <<<"$(evid "$W/bad.json" PARE-DKL-LI-0001)"
check_eq "bad: duplicate uid: fail" fail "$(res "$W/bad.json" PARE-DKL-LI-0002)"
check "bad: duplicate uid evidence" grep -q '/etc/passwd: uid 0 is root and toor' <<<"$(evid "$W/bad.json" PARE-DKL-LI-0002)"
check_eq "bad: .git: fail" fail "$(res "$W/bad.json" PARE-DKL-LI-0003)"
check_eq "bad: .git named once, not per file" 1 "$(evid "$W/bad.json" PARE-DKL-LI-0003 | grep -c '\.git')"
check_eq "bad: /proc volume: fail" fail "$(res "$W/bad.json" PARE-DKL-DI-0002)"
check_eq "bad: world-writable dir: fail" fail "$(res "$W/bad.json" PARE-FS-WRITABLE)"
check "bad: world-writable /data 0777, sticky /tmp left alone" \
	bash -c '[[ $(grep -c "^/data: directory mode 0777" <<<"$1") == 1 && $(grep -c "^/tmp" <<<"$1") == 0 ]]' _ "$(evid "$W/bad.json" PARE-FS-WRITABLE)"
check_eq "bad: unknown owner: warn" warn "$(res "$W/bad.json" PARE-FS-OWNER)"
check "bad: owner 4242:4242" grep -q '^/srv/app/orphan: owner 4242:4242' <<<"$(evid "$W/bad.json" PARE-FS-OWNER)"
check_eq "bad: device node: fail" fail "$(res "$W/bad.json" PARE-FS-DEVICES)"
check_eq "bad: escaping symlink: fail" fail "$(res "$W/bad.json" PARE-FS-SYMLINKS)"
check "bad: the escaping link" grep -q '^/srv/app/escape: -> ../../../../etc/shadow climbs above /' <<<"$(evid "$W/bad.json" PARE-FS-SYMLINKS)"
check_eq "bad: no SBOM: fail" fail "$(res "$W/bad.json" PARE-SBOM)"
check_eq "bad: shell-form entrypoint: fail" fail "$(res "$W/bad.json" PARE-CONFIG)"
check "bad: privileged port" grep -q 'port 80 is privileged' <<<"$(evid "$W/bad.json" PARE-CONFIG)"

# ---- table, exit codes, SARIF --------------------------------------------------------------------
T=$("$PARE" audit "$W/bad" "$W/good") || fail "audit table"
check "table headline: image, platform, digest" grep -Eq "^$W/bad linux/[a-z0-9]+ sha256:[0-9a-f]{64}\$" <<<"$T"
check "table headline counts" grep -Eq '^[0-9]+ pass, [0-9]+ fail, [0-9]+ warn, [0-9]+ not-applicable, [0-9]+ manual' <<<"$T"
check_eq "table: failing checks first" fail "$(sed -n 3p <<<"$T" | awk '{print $1}')"
check_eq "two images, two headlines" 2 "$(grep -c '^[0-9]* pass, ' <<<"$T")"
rc=0; "$PARE" audit --fail-on fail "$W/bad" >/dev/null || rc=$?
check_eq "--fail-on fail with failures: exit 1" 1 "$rc"
rc=0; "$PARE" audit --fail-on fail --key "$W/k.pub" "$W/good" >/dev/null || rc=$?
check_eq "--fail-on fail, none: exit 0" 0 "$rc"
rc=0; "$PARE" audit --fail-on warn "$W/good" >/dev/null || rc=$?
check_eq "--fail-on warn with a warning (unverified signature): exit 1" 1 "$rc"
rc=0; "$PARE" audit "$W/bad" >/dev/null || rc=$?
check_eq "without --fail-on: exit 0" 0 "$rc"
check_refused "--fail-on with another word" "audit: --fail-on 'error': expected fail or warn" "$PARE" audit --fail-on error "$W/good"
check_refused "not an image" "not an OCI image layout" "$PARE" audit "$W/recipes"
check_refused "no image" "audit: no image given" "$PARE" audit --json
echo 'not a tar' >"$W/junk.tar"
check_refused "an oci-archive that is not one" "junk.tar" "$PARE" audit "$W/junk.tar"

"$PARE" audit --sarif "$W/bad" "$W/good" >"$W/out.sarif" || fail "audit --sarif"
check_eq "SARIF version" 2.1.0 "$(jq -r .version "$W/out.sarif")"
check_eq "SARIF: one rule per check, with help and security-severity" \
	"$(jq '.images[0].checks | length' "$W/good.json")" \
	"$(jq '[.runs[0].tool.driver.rules[] | select(.fullDescription.text != "" and .help.text != "" and (.properties."security-severity" | tonumber) > 0)] | length' "$W/out.sarif")"
check_eq "SARIF: kinds" '["fail","notApplicable","pass","review"]' "$(jq -c '[.runs[0].results[].kind] | unique' "$W/out.sarif")"
check_eq "SARIF: a fail result is level error" error \
	"$(jq -r '[.runs[0].results[] | select(.ruleId == "PARE-CIS-4.8" and .properties.result == "fail")][0].level' "$W/out.sarif")"
check_eq "SARIF: fingerprints on every result" 0 "$(jq '[.runs[0].results[] | select(.partialFingerprints."pareAuditCheck/v1" | test("^[0-9a-f]{64}$") | not)] | length' "$W/out.sarif")"
schema=""
if npmdir=$("$PARE_SRC/tests/get-npm-tools" --check 2>/dev/null); then
	schema=$npmdir/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json
fi
if [[ -f $schema ]] && python3 -c 'import jsonschema' 2>/dev/null; then
	check "SARIF validates against the SARIF 2.1.0 schema" python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator(schema).validate(json.load(open(sys.argv[2])))' "$schema" "$W/out.sarif"
	# the schema is not vacuous: a result with a kind SARIF does not know is refused
	jq '.runs[0].results[0].kind = "maybe"' "$W/out.sarif" >"$W/broken.sarif"
	check_fails "the schema refuses a SARIF with an unknown kind" "ValidationError|is not one of" python3 -c '
import json, sys, jsonschema
jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' "$schema" "$W/broken.sarif"
else
	skip "SARIF schema validation" "no SARIF 2.1.0 schema (tests/NPM's @microsoft/jest-sarif; run make deps) or no python3-jsonschema"
fi

done_testing
