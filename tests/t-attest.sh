#!/usr/bin/env bash
# t-attest.sh - the attestations computed above signer/ (issues 19, 20): the benchmark
# (pare audit's report) and the vulnerability attestation (the image's OpenVEX document),
# attached by pare build --sign-key and pare sign, checked by pare verify, replaced (never
# duplicated) on re-signing, pushed and pulled with the other referrers and read by real
# cosign; and pare audit --rebuild (docs/audit.md, docs/cve.md, docs/signing.md).
. "$(dirname "$0")/lib.sh"

need jq curl docker-registry openssl
fixture_env
export PARE_PASSWORD=unused
unset SOURCE_DATE_EPOCH
cd "$W" || exit 1
BENCH=https://pare.invalid/attestation/audit/v1
VEX=https://openvex.dev/ns

"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
fixture_recipe good stable "hello, ca-certificates"
check "lock" "$PARE" -q lock good

mdigest() { # LAYOUT: the (one) image manifest's digest
	jq -r '.manifests[0].digest' "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)"
}
att() { # LAYOUT DIGEST: the .att manifest's layers
	local d
	d=$(jq -r --arg t "sha256-${2#sha256:}.att" \
		'.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
	jq -c '.layers[]' "$1/blobs/sha256/${d#sha256:}"
}
n_att() { # LAYOUT DIGEST PREDICATE: how many .att layers of that predicate type
	att "$1" "$2" | jq -r --arg p "$3" 'select(.annotations.predicateType == $p) | .digest' | wc -l
}
statement() { # LAYOUT DIGEST PREDICATE: the statement of the first layer of that type
	local d
	d=$(att "$1" "$2" | jq -r --arg p "$3" 'select(.annotations.predicateType == $p) | .digest' | head -1)
	jq -r .payload "$1/blobs/sha256/${d#sha256:}" | base64 -d
}

# ---- the benchmark attestation, no CVE feeds ------------------------------------------------
"$PARE" build good -o "$W/img" --sign-key "$W/k.key" >/dev/null 2>"$W/build.err" || fail "build" "$(cat "$W/build.err")"
check_eq "without feeds: build says so in one line" 1 "$(grep -c '^no CVE feeds synced: no vulnerability attestation' "$W/build.err")"
AMD=$(mdigest "$W/img")
check_eq "build: one benchmark attestation" 1 "$(n_att "$W/img" "$AMD" "$BENCH")"
check_eq "build: no vulnerability attestation without feeds" 0 "$(n_att "$W/img" "$AMD" "$VEX")"
statement "$W/img" "$AMD" "$BENCH" >"$W/bench.json"
check_eq "statement: predicate type, subject, schema, the image's digest and name" \
	"$BENCH ${AMD#sha256:} pare-audit/1 $AMD good 1" \
	"$(jq -r '"\(.predicateType) \(.subject[0].digest.sha256) \(.predicate.schema) \(.predicate.images[0].digest) \(.predicate.images[0].source) \(.predicate.images | length)"' "$W/bench.json")"
"$PARE" audit --json "$W/img" >"$W/audit.json" || fail "audit"
check_eq "the attested checks are pare audit's of the signed image" \
	"$(jq -c '[.images[0].checks[] | [.id, .result]]' "$W/audit.json")" \
	"$(jq -c '[.predicate.images[0].checks[] | [.id, .result]]' "$W/bench.json")"
"$PARE" verify --key "$W/k.pub" "$W/img" >"$W/verify.out" 2>&1 || fail "verify" "$(cat "$W/verify.out")"
check "verify checks the benchmark attestation" grep -q "^ok   attestation .* $AMD $BENCH\$" "$W/verify.out"

# forged: a statement signed with the right key (openssl, over the DSSE PAE) whose body is
# not right for the image replaces the layer; verify names the attestation and why
forge() { # SRC DST PREDICATE JQ-FILTER: DST = SRC with that layer's statement rewritten
	local m env nd ns nm ms
	cp -a "$1" "$2"
	m=$(jq -r --arg t "sha256-${AMD#sha256:}.att" \
		'.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$2/index.json")
	env=$(jq -r --arg p "$3" '.layers[] | select(.annotations.predicateType == $p) | .digest' "$2/blobs/sha256/${m#sha256:}")
	jq -r .payload "$2/blobs/sha256/${env#sha256:}" | base64 -d | jq -c "$4" | tr -d '\n' >"$W/st"
	printf 'DSSEv1 28 application/vnd.in-toto+json %s ' "$(stat -c %s "$W/st")" | cat - "$W/st" >"$W/pae"
	openssl dgst -sha256 -sign "$W/k.key" -out "$W/sig" "$W/pae" || return 1
	jq -cn --arg p "$(base64 -w0 <"$W/st")" --arg s "$(base64 -w0 <"$W/sig")" \
		'{payloadType: "application/vnd.in-toto+json", payload: $p, signatures: [{keyid: "", sig: $s}]}' | tr -d '\n' >"$W/env"
	nd=$(sha256sum <"$W/env" | cut -d' ' -f1) ns=$(stat -c %s "$W/env")
	cp "$W/env" "$2/blobs/sha256/$nd"
	jq -c --arg o "$env" --arg d "sha256:$nd" --argjson s "$ns" \
		'.layers |= map(if .digest == $o then .digest = $d | .size = $s else . end)' \
		"$2/blobs/sha256/${m#sha256:}" | tr -d '\n' >"$W/man"
	nm=$(sha256sum <"$W/man" | cut -d' ' -f1) ms=$(stat -c %s "$W/man")
	cp "$W/man" "$2/blobs/sha256/$nm"
	jq --arg o "$m" --arg d "sha256:$nm" --argjson s "$ms" \
		'.manifests |= map(if .digest == $o then .digest = $d | .size = $s else . end)' "$2/index.json" >"$W/idx" &&
		cat "$W/idx" >"$2/index.json"
}
forge "$W/img" "$W/bad" "$BENCH" '.predicate.images[0].digest = "sha256:" + ("0" * 64)'
check_refused "a signed benchmark about another image fails verify" \
	"^pare: verify $W/bad: attestation .*: no valid $BENCH attestation .*reports another image than $AMD" \
	"$PARE" verify --key "$W/k.pub" "$W/bad"
rm -rf "$W/bad"
forge "$W/img" "$W/bad" "$BENCH" '.predicate.schema = "other/1"'
check_refused "a signed benchmark that is no pare-audit/1 report fails verify" \
	"no valid $BENCH attestation .*not a pare-audit/1 report" "$PARE" verify --key "$W/k.pub" "$W/bad"

# ---- re-signing --------------------------------------------------------------------------------
sum0=$(sha256sum <"$W/img/index.json")
check "pare sign again" "$PARE" -q sign --key "$W/k.key" "$W/img"
check_eq "re-signing unchanged inputs changes nothing (index.json)" "$sum0" "$(sha256sum <"$W/img/index.json")"
# the audit changed (measured at another time): the benchmark is replaced, not added
check "pare sign after the audit changed" env SOURCE_DATE_EPOCH=4102444800 "$PARE" -q sign --key "$W/k.key" "$W/img"
check_eq "re-signed: still one benchmark attestation" 1 "$(n_att "$W/img" "$AMD" "$BENCH")"
statement "$W/img" "$AMD" "$BENCH" >"$W/bench2.json"
check "re-signed: the report is the new one" grep -q 'days before this audit' <(jq -r '.predicate.images[0].checks[] | select(.id == "PARE-CIS-4.4") | .evidence[]' "$W/bench2.json")
check "re-signed: body differs from the first" test "$(jq -c .predicate "$W/bench.json")" != "$(jq -c .predicate "$W/bench2.json")"
check "re-signed layout verifies" "$PARE" -q verify --key "$W/k.pub" "$W/img"

# ---- the vulnerability attestation ---------------------------------------------------------------
F=$W/feeds
mkdir -p "$F"
cat >"$F/tracker.json" <<'JSON'
{"hello-src": {
  "CVE-2021-3000": {"description": "epoch", "releases": {"fixture":
     {"status": "resolved", "fixed_version": "1:0.5-1", "urgency": "medium"}}},
  "CVE-2021-3002": {"releases": {"fixture": {"status": "open", "urgency": "high"}}}},
 "unrelated": {"CVE-2020-0001": {"releases": {"fixture": {"status": "open"}}}}}
JSON
cat >"$F/kev.json" <<'JSON'
{"catalogVersion": "2024.05.01", "dateReleased": "2024-05-01T15:00:00.000Z", "count": 0, "vulnerabilities": []}
JSON
printf '#model_version:v2023.03.01,score_date:2024-05-02T00:00:00+0000\ncve,epss,percentile\nCVE-2021-3000,0.00100,0.30000\n' >"$F/epss.csv"
touch -d "2024-05-01 12:00:00 UTC" "$F/tracker.json"
check "cve sync --from" "$PARE" -q cve sync --from "$F"
"$PARE" sign --key "$W/k.key" "$W/img" >/dev/null 2>"$W/sign.err" || fail "sign with feeds" "$(cat "$W/sign.err")"
check_eq "sign with feeds: one vulnerability attestation" 1 "$(n_att "$W/img" "$AMD" "$VEX")"
check_eq "sign with feeds: still one benchmark" 1 "$(n_att "$W/img" "$AMD" "$BENCH")"
statement "$W/img" "$AMD" "$VEX" >"$W/vex.json"
check_eq "the VEX statement: OpenVEX about this image, one statement per CVE" \
	"$VEX https://openvex.dev/ns/v0.2.0 ${AMD#sha256:} CVE-2021-3000,CVE-2021-3002" \
	"$(jq -r '"\(.predicateType) \(.predicate["@context"]) \(.subject[0].digest.sha256) \([.predicate.statements[].vulnerability.name] | sort | join(","))"' "$W/vex.json")"
check "every product is this image" jq -e --arg d "${AMD#sha256:}" \
	'[.predicate.statements[].products[]["@id"] | test("^pkg:oci/good@sha256(:|%3a)\($d)[?]"; "i")] | all' "$W/vex.json"
check_eq "the document's date is the tracker's, not the clock" "2024-05-01T12:00:00Z" "$(jq -r .predicate.timestamp "$W/vex.json")"
"$PARE" verify --key "$W/k.pub" "$W/img" >"$W/verify2.out" 2>&1 || fail "verify with VEX" "$(cat "$W/verify2.out")"
check "verify checks the vulnerability attestation" grep -q "^ok   attestation .* $AMD $VEX\$" "$W/verify2.out"
rm -rf "$W/bad"
forge "$W/img" "$W/bad" "$VEX" '.predicate.statements[0].products[0]["@id"] = "pkg:oci/good@sha256:" + ("0" * 64)'
check_refused "a signed VEX document about another image fails verify" \
	"no valid $VEX attestation .*a product that is not image $AMD" "$PARE" verify --key "$W/k.pub" "$W/bad"
# deterministic: another build from the same lock and feeds carries the same document
"$PARE" -q build good -o "$W/img2" --sign-key "$W/k.key" >/dev/null 2>"$W/build2.err" || fail "build 2" "$(cat "$W/build2.err")"
check_eq "build with feeds attaches the same VEX document" "$(jq -c .predicate "$W/vex.json")" \
	"$(statement "$W/img2" "$AMD" "$VEX" | jq -c .predicate)"
check_eq "build with feeds: no note about missing feeds" 0 "$(grep -c 'no CVE feeds' "$W/build2.err")"

# ---- push, pull, cosign --------------------------------------------------------------------------
if registry_start reg; then
	R=$REGISTRY
	check "push" "$PARE" -q push --insecure "$R" "$W/img" "$R/good:1"
	check "pull" "$PARE" -q pull --insecure "$R" "$R/good:1" "$W/pulled"
	check_eq "pulled: the benchmark and the VEX attestation" "1 1" \
		"$(n_att "$W/pulled" "$AMD" "$BENCH") $(n_att "$W/pulled" "$AMD" "$VEX")"
	"$PARE" verify --key "$W/k.pub" "$W/pulled" >"$W/verify3.out" 2>&1 || fail "pulled layout verifies" "$(cat "$W/verify3.out")"
	check "pulled: verify checked both" sh -c "grep -q ' $BENCH\$' '$W/verify3.out' && grep -q ' $VEX\$' '$W/verify3.out'"
	COSIGN=$(sh "$PARE_SRC/tests/get-cosign" 2>"$W/get-cosign.log") || COSIGN=
	if ! plain_only 2 "cosign verify-attestation of the benchmark and the VEX attestation"; then
		:
	elif [[ -z $COSIGN ]]; then
		fail "cosign available" "$(tail -3 "$W/get-cosign.log")"
	else
		cos() { SIGSTORE_NO_CACHE=1 TUF_ROOT=$W/tuf "$COSIGN" "$@" --allow-http-registry --insecure-ignore-tlog; }
		check "cosign verify-attestation --type $BENCH" cos verify-attestation --key "$W/k.pub" --type "$BENCH" "$R/good@$AMD"
		check "cosign verify-attestation --type openvex" cos verify-attestation --key "$W/k.pub" --type openvex "$R/good@$AMD"
	fi
else
	fail "registry started"
fi

# ---- pare audit --rebuild ----------------------------------------------------------------------
res() { jq -r '.images[0].checks[] | select(.id == "PARE-REPRO") | "\(.result) \(.evidence | join(" | "))"' "$1"; }
"$PARE" audit --json "$W/img" >"$W/a0.json" 2>&1 || fail "audit" "$(cat "$W/a0.json")"
check "without --rebuild: manual" grep -q '^manual ' <(res "$W/a0.json")
"$PARE" audit --rebuild --json "$W/img" >"$W/a1.json" 2>"$W/a1.err" || fail "audit --rebuild" "$(cat "$W/a1.err")"
check_eq "--rebuild: a layout built from the lock passes" "pass rebuilt from recipes.lock: manifest $AMD, the same digest" "$(res "$W/a1.json")"
check_eq "--rebuild: the temporary build is removed" "" "$(ls -A "$PARE_CACHE_DIR/tmp" 2>/dev/null)"
# not what the lock builds: made at another SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=1000000000 "$PARE" -q build good -o "$W/other" >/dev/null 2>&1 || fail "build other"
OTHER=$(mdigest "$W/other")
"$PARE" audit --rebuild --json "$W/other" >"$W/a2.json" 2>"$W/a2.err" || fail "audit --rebuild other" "$(cat "$W/a2.err")"
check_eq "--rebuild: another digest fails with both digests" \
	"fail the image's manifest is $OTHER | rebuilt from recipes.lock: manifest $AMD (\`pare diff\` shows the difference)" \
	"$(res "$W/a2.json")"

done_testing
