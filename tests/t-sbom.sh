#!/usr/bin/env bash
# t-sbom.sh - the SBOMs pare build attaches to every image: valid against the
# official schemas, the same package set as the lock, every regular file of the
# layers accounted for, licences from DEP-5, reproducible bytes.
. "$(dirname "$0")/lib.sh"

need jq
W=$(tmpdir)
REPO=$(fixture_repo)
export PARE_RECIPES=$W/recipes PARE_LOCK=$W/recipes.lock PARE_CACHE_DIR=$W/cache
mkdir -p "$PARE_RECIPES"
HOST=$(dpkg --print-architecture)
VALIDATE=${PARE_SHARED:-$PARE_SRC/../shared}/tools/validate-sbom

fixture_recipe lic stable "hello, lic-dep5, lic-free, ca-certificates, tzdata"
check "lock" "$PARE" --quiet lock lic
check "build" "$PARE" --quiet build lic -o "$W/out"
"$PARE" sbom "$W/out" >"$W/spdx.json" 2>"$W/err" || fail "pare sbom (spdx)" "$(cat "$W/err")"
"$PARE" sbom --format cyclonedx "$W/out" >"$W/cdx.json" 2>"$W/err" || fail "pare sbom (cyclonedx)" "$(cat "$W/err")"
check "SPDX document is valid SPDX 2.3" /usr/bin/python3 "$VALIDATE" "$W/spdx.json"
check "CycloneDX document is valid CycloneDX 1.5" /usr/bin/python3 "$VALIDATE" "$W/cdx.json"
check_eq "CycloneDX specVersion" "$(jq -r .specVersion "$W/cdx.json")" 1.5

# The package set equals the locked closure.
locked=$(jq -r --arg a "$HOST" '.recipes.lic.archs[$a].packages[].name' "$PARE_LOCK" | sort)
spdx_pkgs=$(jq -r '.packages[] | select(.externalRefs // [] | map(.referenceLocator) | any(startswith("pkg:deb/") and (contains("arch=source") | not))) | .name' "$W/spdx.json" | sort -u)
cdx_pkgs=$(jq -r '.components[] | select(.purl // "" | startswith("pkg:deb/")) | .name' "$W/cdx.json" | sort -u)
check_eq "SPDX packages = locked closure" "$spdx_pkgs" "$locked"
check_eq "CycloneDX components = locked closure" "$cdx_pkgs" "$locked"
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

# No dark files: the regular files of the layers are exactly the files in the SBOM.
cfg_layers=$(jq -r '.layers[].digest' "$W/out/blobs/sha256/${amd#sha256:}")
: >"$W/layer-files"
for l in $cfg_layers; do
	tar -tvf "$W/out/blobs/sha256/${l#sha256:}" | awk '$1 ~ /^-/ {print "/" $6}' | sed 's#^/\./#/#; s#^//#/#' >>"$W/layer-files"
done
sort -u "$W/layer-files" -o "$W/layer-files"
jq -r '.files[].fileName' "$W/spdx.json" | sed 's#^\./#/#' | sort -u >"$W/sbom-files"
check_eq "file set in the SBOM = regular files in the layers" "$(cat "$W/sbom-files")" "$(cat "$W/layer-files")"
check "files carry sha256" jq -e '[.files[] | .checksums | map(.algorithm) | index("SHA256")] | all' "$W/spdx.json"
check "generated files are accounted to pare (/etc/passwd listed)" grep -qx /etc/passwd "$W/sbom-files"

# Reproducible: a second build with an empty cache gives byte-identical SBOMs.
PARE_CACHE_DIR=$W/cache2 "$PARE" --quiet build lic -o "$W/out2" >/dev/null || fail "second build"
"$PARE" sbom "$W/out2" >"$W/spdx2.json"
check "SBOM bytes are reproducible" cmp "$W/spdx.json" "$W/spdx2.json"

# Signed at build time: the attestations carry these SBOMs and verify offline.
check "keygen" "$PARE" keygen --no-password -o "$W/k"
check "build --sign-key" "$PARE" --quiet build lic -o "$W/signed" --sign-key "$W/k.key"
check "pare verify accepts the signed build" "$PARE" verify --key "$W/k.pub" "$W/signed"
"$PARE" sbom "$W/signed" >"$W/spdx3.json" || fail "pare sbom after signing"
check "signing leaves the attached SBOM unchanged" cmp "$W/spdx.json" "$W/spdx3.json"
check_fails "--sign-key with --tar only is refused" 'sign-key.*-o DIR' \
	"$PARE" --quiet build lic --tar "$W/x.tar" --sign-key "$W/k.key"
check "keygen other" "$PARE" keygen --no-password -o "$W/other"
check_fails "another key does not verify the build" 'signature|no .*valid|key' \
	"$PARE" verify --key "$W/other.pub" "$W/signed"

# Recipes in git: the commit goes into the annotations and the SLSA provenance.
git -C "$PARE_RECIPES" init -q && git -C "$PARE_RECIPES" add lic.yaml &&
	git -C "$PARE_RECIPES" -c user.name=t -c user.email=t@invalid commit -qm recipes || fail "git commit of the recipes"
rev=$(git -C "$PARE_RECIPES" rev-parse HEAD)
check "build from committed recipes" "$PARE" --quiet build lic -o "$W/git" --sign-key "$W/k.key"
gm=$(jq -r '.manifests[0].digest' "$W/git/index.json")
gam=$(jq -r '.manifests[0].digest' "$W/git/blobs/sha256/${gm#sha256:}")
check_eq "manifest names the recipes' revision" \
	"$(jq -r '.annotations["org.opencontainers.image.revision"]' "$W/git/blobs/sha256/${gam#sha256:}")" "$rev"
check "a clean tree is not marked dirty" \
	jq -e '.annotations["dev.pare.recipe.git-dirty"] == null' "$W/git/blobs/sha256/${gam#sha256:}"
prov=""
for b in "$W"/git/blobs/sha256/*; do
	p=$(jq -r 'select(.payloadType? == "application/vnd.in-toto+json") | .payload | @base64d' "$b" 2>/dev/null) || continue
	grep -q slsa.dev/provenance <<<"$p" && grep -q "$rev" <<<"$p" && prov=yes
done
check_eq "the SLSA provenance lists the recipes' git commit" "$prov" yes
check "verify the git build" "$PARE" verify --key "$W/k.pub" "$W/git"

check_fails "unknown format is refused" 'unknown format' "$PARE" sbom --format xml "$W/out"
check_fails "a directory without SBOM is refused" 'index.json' "$PARE" sbom "$W"
done_testing
