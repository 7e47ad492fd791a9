#!/usr/bin/env bash
# t-evidence.sh - pare evidence (docs/evidence.md): the pack of two signed fixture images (a
# layout and an oci-archive) with synced fixture CVE feeds and the lock, as a directory and a
# tar; pare evidence --verify on both; every command VERIFY.md prints, run as printed (openssl,
# sha256sum, real cosign, pare), so the document cannot drift; a tampered file, manifest,
# signature, an extra or a missing file make verification fail naming the file; two runs give
# the same bytes; what -o may replace; index.html in headless chromium (plain suite only, as
# t-report.sh), screenshot in build/test-artifacts/.
. "$(dirname "$0")/lib.sh"

need jq openssl sha256sum python3
fixture_env
export PARE_PASSWORD=unused
cd "$W" || exit 1

COSIGN=$(sh "$PARE_SRC/tests/get-cosign" 2>"$W/get-cosign.log") || fail "cosign available (tests/get-cosign)" "$(tail -3 "$W/get-cosign.log")"

fixture_recipe hello stable "hello"
fixture_recipe certs stable "ca-certificates"
"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
"$PARE" -q keygen --no-password -o "$W/other" || fail "keygen other"
"$PARE" -q lock hello certs || fail "lock"
"$PARE" -q build hello -o "$W/hello" --sign-key "$W/k.key" >/dev/null || fail "build hello"
"$PARE" -q build certs --tar "$W/certs.tar" --sign-key "$W/k.key" >/dev/null || fail "build certs --tar"

# fixture CVE feeds: one CVE of hello's source, fixed in a later version
mkdir -p "$W/feeds"
cat >"$W/feeds/tracker.json" <<'JSON'
{"hello-src": {"CVE-2021-3001": {"description": "fixed later", "releases": {"fixture":
  {"status": "resolved", "fixed_version": "9.0-1", "urgency": "medium"}}}}}
JSON
touch -d "2024-05-01 12:00:00 UTC" "$W/feeds/tracker.json"
"$PARE" -q cve sync --from "$W/feeds" || fail "cve sync"

mk() { # OUT: the pack of both images
	"$PARE" -q evidence -o "$1" --key "$W/k.pub" --sign-key "$W/k.key" --lock "$W/recipes.lock" \
		"$W/hello" "$W/certs.tar"
}
check "a pack as a directory" mk "$W/pack"
check "a pack as a tar" mk "$W/pack.tar"
P=$W/pack
check "the layout's index.json, byte for byte" cmp "$W/hello/index.json" "$P/images/hello/layout/index.json"
check_eq "no image layer in the pack, every other blob of the layout is" \
	"$(cd "$W/hello/blobs/sha256" && for b in *; do
		jq -e 'type == "object" and has("layers") and (.layers | length) > 0 and (.layers[0].mediaType | startswith("application/vnd.oci.image.layer."))' "$b" >/dev/null 2>&1 &&
			jq -r '.layers[].digest | sub("sha256:"; "")' "$b"
	done | sort -u | while read -r l; do [[ -e $P/images/hello/layout/blobs/sha256/$l ]] && echo "$l"; done)" ""
check_eq "… and every signature blob is there" "" \
	"$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] // "" | endswith(".sig")) | .digest | sub("sha256:"; "")' "$W/hello/index.json" |
		while read -r d; do cmp -s "$W/hello/blobs/sha256/$d" "$P/images/hello/layout/blobs/sha256/$d" || echo "$d"; done)"
check_eq "digests.txt: the image's per-platform digest" \
	"$("$PARE" audit --json "$W/hello" | jq -r '.images[0].digest')" "$(awk '$1 ~ /^linux/ {print $2}' "$P/images/hello/digests.txt")"
check "SBOMs in both formats" jq -e '.spdxVersion' "$P/images/hello/sbom/$(dpkg --print-architecture).spdx.json"
check "… CycloneDX" jq -e '.bomFormat == "CycloneDX"' "$P/images/hello/sbom/$(dpkg --print-architecture).cdx.json"
check "provenance: the SLSA statement" jq -e '.predicateType == "https://slsa.dev/provenance/v1"' \
	"$P/images/hello/provenance/$(dpkg --print-architecture).slsa.json"
check "the benchmark report, JSON and SARIF" jq -e '.schema == "pare-audit/1" and .images[0].signature == "verified"' "$P/images/hello/audit/audit.json"
check "… SARIF" jq -e '.version == "2.1.0"' "$P/images/hello/audit/audit.sarif.json"
check_eq "the CVE report finds the fixture CVE" "CVE-2021-3001" "$(jq -r '.. | objects | select(has("id")) | .id' "$P/images/hello/cve/cve.json" | sort -u | grep CVE- | head -1)"
check "… OpenVEX" jq -e '.["@context"] | startswith("https://openvex.dev")' "$P/images/hello/cve/openvex.json"
check "… CycloneDX VEX" jq -e '.bomFormat == "CycloneDX" and (.vulnerabilities | length) > 0' "$P/images/hello/cve/cyclonedx-vex.json"
check_eq "the lock entry is recipes.lock's" "$(jq -c '.recipes.hello' "$W/recipes.lock")" "$(jq -c '.recipes.hello' "$P/images/hello/lock.json")"
check "the oci-archive is packed as certs" test -f "$P/images/certs/layout/index.json" -a -f "$P/images/certs/lock.json"
check "the public key, byte for byte" cmp "$W/k.pub" "$P/keys/k.pub"
check_eq "MANIFEST.sha256 lists every file but itself and its signature, sorted" \
	"$(cd "$P" && find . -type f ! -name MANIFEST.sha256 ! -name MANIFEST.sha256.sig | sed 's|^\./||' | LC_ALL=C sort)" \
	"$(cut -c67- "$P/MANIFEST.sha256")"
check "a signed pack names its key in VERIFY.md" grep -q "signed by \`keys/k.pub\` (ecdsa-p256" "$P/VERIFY.md"

# ---- verification --------------------------------------------------------------------------
check "pare evidence --verify (directory)" "$PARE" evidence --verify "$P" --key "$W/k.pub"
check "pare evidence --verify (tar)" "$PARE" evidence --verify "$W/pack.tar" --key "$W/k.pub"
check "sha256sum -c" bash -c 'cd "$1" && sha256sum -c --strict --quiet MANIFEST.sha256' _ "$P"
check "openssl checks the manifest's signature" \
	openssl dgst -sha256 -verify "$W/k.pub" -signature "$P/MANIFEST.sha256.sig" "$P/MANIFEST.sha256"
check_refused "--verify with another key fails" 'MANIFEST.sha256: does not match its signature MANIFEST.sha256.sig' \
	"$PARE" evidence --verify "$P" --key "$W/other.pub"

# every command of VERIFY.md, as printed, from the pack's root (cosign and pare on PATH)
mkdir -p "$W/bin"
ln -sf "$COSIGN" "$W/bin/cosign"
ln -sf "$PARE" "$W/bin/pare"
sed -n '/^```sh$/,/^```$/p' "$P/VERIFY.md" | grep -v '^```' >"$W/verify-cmds"
check "VERIFY.md has openssl, sha256sum, cosign verify-blob, verify-blob-attestation and pare commands" \
	bash -c 'grep -q "^openssl dgst" "$1" && grep -q "^sha256sum -c" "$1" && grep -q "^cosign verify-blob " "$1" &&
		grep -q "^cosign verify-blob-attestation .*--type slsaprovenance1" "$1" && grep -q "^pare evidence --verify" "$1"' _ "$W/verify-cmds"
run_verify_md() { # DIR: every command, each must exit 0; prints the first that does not
	local line
	while IFS= read -r line; do
		(cd "$1" && PATH=$W/bin:$PATH bash -c "$line") >"$W/cmd.log" 2>&1 || { echo "$line: $(tail -3 "$W/cmd.log")" >&2; return 1; }
	done <"$W/verify-cmds"
}
check "every command VERIFY.md prints passes ($(wc -l <"$W/verify-cmds") commands)" run_verify_md "$P"

# ---- tampering -------------------------------------------------------------------------------
tampered() { # NAME: a copy of the pack
	rm -rf "$W/t-$1" && cp -a "$P" "$W/t-$1" && echo "$W/t-$1"
}
T=$(tampered file)
echo " " >>"$T/images/hello/audit/audit.json"
check_refused "a changed file: verify names it" 'images/hello/audit/audit.json: its sha256 is' \
	"$PARE" evidence --verify "$T" --key "$W/k.pub"
check_fails "… and sha256sum -c fails" 'audit.json: FAILED' bash -c 'cd "$1" && sha256sum -c --quiet MANIFEST.sha256 >&2' _ "$T"
check_fails "… and VERIFY.md's commands fail" 'audit.json' run_verify_md "$T"
T=$(tampered sig)
SIGF=$(cd "$T" && ls images/hello/signatures/*.sig | head -1)
sed -i 's/^M/N/' "$T/$SIGF"
check_refused "a changed cosign signature file: verify names it" "$SIGF: its sha256 is" "$PARE" evidence --verify "$T" --key "$W/k.pub"
T=$(tampered blob)
PAY=$(grep -o 'images/hello/layout/blobs/sha256/[0-9a-f]*' "$P/VERIFY.md" | head -1)
chmod u+w "$T/$PAY" && printf 'x' >>"$T/$PAY"
check_refused "a changed layout blob: verify names it" "$PAY: its sha256 is" "$PARE" evidence --verify "$T" --key "$W/k.pub"
T=$(tampered manifest)
sed -i '1s/^./0/;1s/^00/11/' "$T/MANIFEST.sha256"
check_refused "a changed manifest: verify names it" '^pare: evidence: .*: MANIFEST.sha256: does not match its signature' \
	"$PARE" evidence --verify "$T" --key "$W/k.pub"
check_fails "… and openssl says so" 'Verification failure' \
	bash -c '"$@" >&2' _ openssl dgst -sha256 -verify "$W/k.pub" -signature "$T/MANIFEST.sha256.sig" "$T/MANIFEST.sha256"
T=$(tampered signature)
openssl dgst -sha256 -sign "$W/other.key" -out "$T/MANIFEST.sha256.sig" "$T/MANIFEST.sha256" 2>/dev/null ||
	printf 'not a signature' >"$T/MANIFEST.sha256.sig"
check_refused "a changed signature: verify names it" 'MANIFEST.sha256.sig' "$PARE" evidence --verify "$T" --key "$W/k.pub"
T=$(tampered extra)
echo smuggled >"$T/images/hello/extra.txt"
check_refused "an extra file: verify names it" 'images/hello/extra.txt: not listed in MANIFEST.sha256' \
	"$PARE" evidence --verify "$T" --key "$W/k.pub"
T=$(tampered missing)
rm "$T/images/certs/lock.json"
check_refused "a missing file: verify names it" 'images/certs/lock.json: listed in MANIFEST.sha256 but missing' \
	"$PARE" evidence --verify "$T" --key "$W/k.pub"
T=$(tampered unsigned)
rm "$T/MANIFEST.sha256.sig"
check_refused "no signature: verify fails" 'MANIFEST.sha256.sig: missing: the pack is not signed' \
	"$PARE" evidence --verify "$T" --key "$W/k.pub"
mkdir "$W/tt" && tar -xf "$W/pack.tar" -C "$W/tt"
echo " " >>"$W/tt/index.html"
(cd "$W/tt" && tar -cf "$W/tampered.tar" .)
check_refused "a changed file in a tar: verify names it" 'index.html: its sha256 is' \
	"$PARE" evidence --verify "$W/tampered.tar" --key "$W/k.pub"

# ---- determinism ------------------------------------------------------------------------------
check "a second run" mk "$W/pack2"
check "… the same files, byte for byte (but the ECDSA signature, randomized)" diff -r -x MANIFEST.sha256.sig "$P" "$W/pack2"
check_eq "… every entry's mtime the lock's newest source_date_epoch" \
	"$(jq '[.recipes[].source_date_epoch] | max' "$W/recipes.lock")" \
	"$(find "$W/pack2" -printf '%T@\n' | cut -d. -f1 | sort -u)"
cp "$W/pack.tar" "$W/pack1.tar"
check "a tar again over the previous one" mk "$W/pack.tar"
check "… the same bytes (the signature of the same manifest kept)" cmp "$W/pack1.tar" "$W/pack.tar"
"$PARE" -q keygen --no-password --type ed25519 -o "$W/ed" || fail "keygen ed25519"
mked() { # OUT: hello's pack, signed with the ed25519 key
	"$PARE" -q evidence -o "$1" --key "$W/k.pub" --key "$W/ed.pub" --sign-key "$W/ed.key" "$W/hello"
}
check "an ed25519-signed pack as a tar" mked "$W/ed1.tar"
check "… and again, under another name" mked "$W/ed2.tar"
check "… the same bytes" cmp "$W/ed1.tar" "$W/ed2.tar"
mkdir "$W/edx" && tar -xf "$W/ed1.tar" -C "$W/edx"
check "… VERIFY.md's openssl command for ed25519 passes" \
	bash -c 'cd "$1" && line=$(grep "^openssl pkeyutl -verify" VERIFY.md) && eval "$line"' _ "$W/edx"
check "… pare verifies it" "$PARE" evidence --verify "$W/ed1.tar" --key "$W/ed.pub" --key "$W/k.pub"
check_eq "tar entries sorted, owner 0, mode 0644" "" \
	"$(python3 -c 'import sys, tarfile
m = tarfile.open(sys.argv[1]).getmembers()
n = [x.name for x in m]
print("unsorted" if n != sorted(n) else "", *[x.name for x in m if x.uid or x.gid or x.mode != 0o644], end="")' "$W/pack.tar")"
check "SOURCE_DATE_EPOCH sets the mtime" env SOURCE_DATE_EPOCH=1700000000 "$PARE" -q evidence -o "$W/sde" \
	--key "$W/k.pub" --sign-key "$W/k.key" "$W/hello"
check_eq "… of every entry" 1700000000 "$(find "$W/sde" -printf '%T@\n' | cut -d. -f1 | sort -u)"

# ---- what -o may replace; bad input ----------------------------------------------------------
check "a pack is replaced by the next one" mk "$P"
mkdir "$W/mine" && echo precious >"$W/mine/notes.txt"
check_refused "a directory holding other files is refused" 'mine: not replaced: it is not empty and not an evidence pack pare wrote' mk "$W/mine"
check_eq "… and left alone" "notes.txt precious" "$(ls "$W/mine") $(cat "$W/mine/notes.txt")"
echo precious >"$W/mine.tar"
check_refused "a file that is not a pack is refused" 'mine.tar: not replaced: it is not an evidence pack pare wrote' mk "$W/mine.tar"
check_eq "… and left alone" precious "$(cat "$W/mine.tar")"
check_eq "no temporary left beside them" "" "$(ls -d "$W"/*.tmp.* "$W"/*.old.* 2>/dev/null)"
check_refused "an image its --key does not verify" 'evidence: .*/hello: its signatures do not verify with .*other.pub' \
	"$PARE" evidence -o "$W/x" --key "$W/other.pub" "$W/hello"
check_refused "--sign-key whose public key is not given" 'its public key is not among the --key files' \
	"$PARE" evidence -o "$W/x" --key "$W/other.pub" --sign-key "$W/k.key" "$W/hello"
check_refused "no image" 'evidence: usage' "$PARE" evidence -o "$W/x"
check_eq "nothing written by the refused runs" "" "$(ls -d "$W/x" 2>/dev/null)"

# ---- the CVE response timeline (pare watch records it; the pack carries it) -----------------
check "index.html: no timeline recorded yet, and it says so" grep -q 'not recorded (pare watch' "$P/index.html"
check "… and the pack has no cve-history.json" test ! -e "$P/cve-history.json"
"$PARE" -q watch --interval 1s --cycles 1 --cve-from "$W/feeds" -o "$W/wout" hello >"$W/watch.log" 2>&1 ||
	fail "watch records the timeline" "$(cat "$W/watch.log")"
"$PARE" -q evidence -o "$W/pack-hist" --key "$W/k.pub" --sign-key "$W/k.key" --lock "$W/recipes.lock" "$W/hello" ||
	fail "a pack after watch"
check_eq "the timeline in the pack is what pare cve --history --json prints" \
	"$("$PARE" cve --history --json)" "$(cat "$W/pack-hist/cve-history.json")"
check "… it holds hello's fixture CVE" \
	jq -e '.schema == "pare-cve-history/1" and ([.entries[] | select(.image == "hello" and .id == "CVE-2021-3001")] | length) >= 1' \
	"$W/pack-hist/cve-history.json"
check "… index.html links it" grep -q 'href="cve-history.json"' "$W/pack-hist/index.html"
check "… and the pack verifies" "$PARE" -q evidence --verify "$W/pack-hist" --key "$W/k.pub"

# ---- index.html in a real browser -----------------------------------------------------------
check_eq "index.html: one row per image" 2 "$(grep -c '<tr class="image">' "$P/index.html")"
check_eq "index.html links every file of the manifest" "" \
	"$(cut -c67- "$P/MANIFEST.sha256" | while read -r f; do grep -qF "<a href=\"$f\">" "$P/index.html" || echo "$f"; done)"
check_eq "no script element, no external resource" "" "$(grep -Eil '<script|<link|<img|<iframe|<object|src=|url\(|@import' "$P/index.html")"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "index.html in headless chromium" "the same page as the plain build's; chromium runs in the plain suite"
	done_testing
fi
if [[ -z $CHROME ]]; then
	skip "index.html in headless chromium" "no chromium (apt-get install chromium; tests/DEPS)"
	done_testing
fi
chrome() { # LOG ARGS…
	local log=$1
	shift
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$W/chrome" --enable-logging=stderr --v=0 "$@" 2>"$log"
}
chrome "$W/dom.log" --dump-dom "file://$P/index.html" >"$W/index.dom" || fail "chromium --dump-dom" "$(tail -20 "$W/dom.log")"
check_eq "no console error in chromium" "" "$(grep -E 'CONSOLE|Uncaught|Refused to|net::ERR_' "$W/dom.log" || true)"
check_eq "chromium's DOM: one row per image" 2 "$(grep -o '<tr class="image">' "$W/index.dom" | wc -l)"
ART=$PARE_SRC/build/test-artifacts
mkdir -p "$ART"
rm -f "$ART/evidence.png"
(cd "$W" && chrome "$W/shot.log" --hide-scrollbars --window-size=1366,900 \
	--screenshot="$ART/evidence.png" "file://$P/index.html") || true
check "screenshot in build/test-artifacts/evidence.png" test -s "$ART/evidence.png"
check_eq "no console error in the screenshot run" "" "$(grep -E 'CONSOLE|Uncaught|Refused to|net::ERR_' "$W/shot.log" || true)"

done_testing
