#!/usr/bin/env bash
# t-archive.sh - an oci-archive (build --tar) is taken wherever a layout is:
# sbom, verify, push (to Debian's docker-registry on 127.0.0.1, read back with
# skopeo) read it, sign rewrites it atomically and the result verifies; a
# tampered archive fails naming the blob; a tar pare did not write is refused
# and left as it was.  --platform writes a single-platform layout (and
# archive) that umoci unpacks and skopeo copies to a docker-archive; pull --platform
# takes one image of a multi-arch index the same way.
. "$(dirname "$0")/lib.sh"

need jq skopeo umoci docker-registry curl python3 tar
fixture_env
export PARE_PASSWORD=unused PARE_REGISTRY_BACKOFF_MS=5
unset COSIGN_PASSWORD DOCKER_CONFIG
export HOME=$W/home # never the user's ~/.docker/config.json
mkdir -p "$HOME"
cd "$W" || exit 1

# members TAR: the archive's member names, sorted
members() { tar -tf "$1" | sort; }
# leftovers: unpacked copies still under the cache
leftovers() { find "$PARE_CACHE_DIR/tmp" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

ARCHS="amd64, arm64" fixture_recipe img stable "hello"
check "lock" "$PARE" -q lock img
"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
D=$("$PARE" -q build img -o "$W/L" --tar "$W/img.tar") || fail "build -o and --tar"
check "the archive is a tar of oci-layout, index.json and blobs" \
	bash -c "tar -tf '$W/img.tar' | grep -qx oci-layout && tar -tf '$W/img.tar' | grep -qx index.json"

# ---- read-only commands take the archive ----------------------------------------------
for fmt in spdx cyclonedx; do
	"$PARE" sbom --format $fmt --arch amd64 "$W/L" >"$W/sbom-dir.$fmt" || fail "sbom $fmt of the layout"
	if "$PARE" sbom --format $fmt --arch amd64 "$W/img.tar" >"$W/sbom-tar.$fmt"; then
		check "sbom --format $fmt of the archive is the layout's document" cmp "$W/sbom-dir.$fmt" "$W/sbom-tar.$fmt"
	else
		fail "sbom --format $fmt of the archive"
	fi
done
"$PARE" sbom --index "$W/img.tar" >"$W/sbom-index" || fail "sbom --index of the archive"
check "sbom --index of the archive names the index digest" grep -q "${D#sha256:}" "$W/sbom-index"
check_refused "sbom of an archive still asks for --arch on two architectures" "img.tar: the image has several architectures" \
	"$PARE" sbom "$W/img.tar"
check_eq "no unpacked copy is left under the cache" 0 "$(leftovers)"

check_refused "verify of the unsigned archive fails, naming the archive" "^pare: verify [^ ]*/img.tar: signature .*no sha256-[0-9a-f]{64}\.sig in the layout" \
	"$PARE" verify --key "$W/k.pub" "$W/img.tar"

# ---- sign rewrites the archive; it verifies -------------------------------------------
members "$W/img.tar" >"$W/members.before"
check "sign the archive" "$PARE" -q sign --key "$W/k.key" "$W/img.tar"
check "the signed archive holds cosign signatures" \
	bash -c "tar -xOf '$W/img.tar' index.json | jq -e '[.manifests[].annotations[\"org.opencontainers.image.ref.name\"] // \"\" | select(endswith(\".sig\"))] | length >= 3'"
members "$W/img.tar" >"$W/members.after"
check_eq "the signed archive has only layout members" "" \
	"$(grep -Ev '^(oci-layout|index.json|blobs/|blobs/sha256/|blobs/sha256/[0-9a-f]{64})$' "$W/members.after")"
check_eq "every member of the unsigned archive is kept" "" "$(comm -23 "$W/members.before" "$W/members.after")"
check "signing added members" test "$(wc -l <"$W/members.after")" -gt "$(wc -l <"$W/members.before")"
check "verify the signed archive" "$PARE" verify --key "$W/k.pub" "$W/img.tar"
"$PARE" verify --json --key "$W/k.pub" "$W/img.tar" >"$W/verify.json" || fail "verify --json of the archive"
check "verify of the archive checked signatures, attestations and blobs" \
	jq -e '.ok and ([.checks[].check] | (index("signature") and index("attestation") and index("blob")))' "$W/verify.json"
check "sign again is idempotent on the archive" "$PARE" -q sign --key "$W/k.key" "$W/img.tar"
check "the archive still verifies" "$PARE" -q verify --key "$W/k.pub" "$W/img.tar"
check "no .part or unpacked copy left" test -z "$(find "$W" -maxdepth 1 -name 'img.tar.*')$(find "$PARE_CACHE_DIR/tmp" -mindepth 1)"

# ---- a tampered archive: one byte of a layer blob --------------------------------------
cp "$W/img.tar" "$W/bad.tar"
LAYER=$(tar -xOf "$W/bad.tar" "blobs/sha256/$(tar -xOf "$W/bad.tar" "blobs/sha256/${D#sha256:}" |
	jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' | cut -d: -f2)" | jq -r '.layers[0].digest')
python3 - "$W/bad.tar" "blobs/sha256/${LAYER#sha256:}" <<'EOF' || fail "tamper with the archive"
import sys, tarfile
path, name = sys.argv[1], sys.argv[2]
with tarfile.open(path) as t:
    m = t.getmember(name)
with open(path, "r+b") as f:
    f.seek(m.offset_data + m.size // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xff]))
EOF
check_refused "verify of a tampered archive fails naming the blob" "bad.tar: .*blob $LAYER does not match its digest" \
	"$PARE" verify --key "$W/k.pub" "$W/bad.tar"
check_eq "no unpacked copy is left after a failure" 0 "$(leftovers)"

# ---- sign refuses what pare did not write ------------------------------------------------
mkdir -p "$W/junk" && echo hello >"$W/junk/README"
tar -cf "$W/foreign.tar" -C "$W/junk" README
sum=$(sha256sum <"$W/foreign.tar")
check_refused "sign refuses a tar that is not an oci-archive" "foreign.tar: not an oci-archive|foreign.tar: not replaced" \
	"$PARE" sign --key "$W/k.key" "$W/foreign.tar"
check_eq "the foreign tar is untouched" "$sum" "$(sha256sum <"$W/foreign.tar")"
check_refused "sbom of a tar that is not an oci-archive is one line" "foreign.tar: not an oci-archive \(no oci-layout member" \
	"$PARE" sbom --arch amd64 "$W/foreign.tar"
# a real oci-archive with a member pare never writes: readable, but not pare's to rewrite
cp -a "$W/L" "$W/plus" && echo notes >"$W/plus/NOTES"
tar -cf "$W/plus.tar" -C "$W/plus" oci-layout index.json blobs NOTES
sum=$(sha256sum <"$W/plus.tar")
check "sbom reads an oci-archive with an extra member" "$PARE" -q sbom --arch amd64 "$W/plus.tar"
check_refused "sign refuses an oci-archive pare did not write" "plus.tar: not replaced: it is not an oci-archive pare wrote" \
	"$PARE" sign --key "$W/k.key" "$W/plus.tar"
check_eq "that archive is untouched" "$sum" "$(sha256sum <"$W/plus.tar")"
check_refused "a path that is neither layout nor archive is one line" "cannot open '$W/none'" \
	"$PARE" verify --key "$W/k.pub" "$W/none"

# an unpacked copy left by a pare that was killed goes at the next open
mkdir -p "$PARE_CACHE_DIR/tmp/oci-archive.tmp.999999999.0/blobs"
check "sbom of the archive" "$PARE" -q sbom --arch amd64 "$W/img.tar"
check_eq "a killed pare's unpacked copy is removed" 0 "$(leftovers)"

# ---- --platform: a single-platform layout ------------------------------------------------
check_eq "the default layout is multi-arch (an image index)" "application/vnd.oci.image.index.v1+json" \
	"$(jq -r '.manifests[0].mediaType' "$W/L/index.json")"
AMD=$(jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' "$W/L/blobs/sha256/${D#sha256:}")
ARM=$(jq -r '.manifests[] | select(.platform.architecture=="arm64") | .digest' "$W/L/blobs/sha256/${D#sha256:}")
err=$(umoci unpack --rootless --image "$W/L:latest" "$W/bundle-multi" 2>&1) && fail "umoci refuses the multi-arch layout" "it unpacked it"
grep -q "ambiguous" <<<"$err" && ok "umoci refuses the multi-arch layout (tag is ambiguous)" ||
	fail "umoci refuses the multi-arch layout (tag is ambiguous)" "$err"
rm -rf "$W/bundle-multi"

SD=$("$PARE" -q build img --platform linux/amd64 -o "$W/S" --tar "$W/S.tar") || fail "build --platform linux/amd64 -o --tar"
check_eq "--platform: build prints the image manifest's digest, the multi-arch build's amd64 one" "$AMD" "$SD"
check_eq "--platform: index.json names the image manifest itself, tagged, with its platform" \
	"application/vnd.oci.image.manifest.v1+json $AMD latest amd64 linux" \
	"$(jq -r '.manifests[0] | "\(.mediaType) \(.digest) \(.annotations["org.opencontainers.image.ref.name"]) \(.platform.architecture) \(.platform.os)"' "$W/S/index.json")"
check_eq "--platform: no image index in index.json" 0 \
	"$(jq '[.manifests[] | select(.mediaType=="application/vnd.oci.image.index.v1+json")] | length' "$W/S/index.json")"
check_eq "--platform: the amd64 SBOMs (SPDX, CycloneDX, package-level and per-file) are kept, no other" "amd64 amd64 amd64 amd64" \
	"$(jq -r '[.manifests[] | .annotations["dev.pare.sbom.arch"] // empty] | join(" ")' "$W/S/index.json")"
check "--platform: the archive holds the same layout" \
	bash -c "tar -xOf '$W/S.tar' index.json | cmp - '$W/S/index.json'"
if plain_only 6 "--platform: umoci unpacks the layout and the archive's, skopeo copies both to docker-archives"; then
	check "--platform: umoci unpacks the layout" umoci unpack --rootless --image "$W/S:latest" "$W/bundle"
	check "--platform: the unpacked rootfs holds the image's files" test -d "$W/bundle/rootfs/usr"
	mkdir -p "$W/S-from-tar"
	tar -xf "$W/S.tar" -C "$W/S-from-tar" || fail "extract the --platform archive"
	check "--platform: umoci unpacks the archive's layout" umoci unpack --rootless --image "$W/S-from-tar:latest" "$W/bundle2"
	check "--platform: skopeo copies the layout to a docker-archive" \
		skopeo copy --quiet "oci:$W/S:latest" "docker-archive:$W/S.docker.tar:img:latest"
	check_eq "--platform: the docker-archive's image is amd64" amd64 \
		"$(skopeo inspect "docker-archive:$W/S.docker.tar" 2>/dev/null | jq -r .Architecture)"
	check "--platform: skopeo copies the oci-archive to a docker-archive" \
		skopeo copy --quiet "oci-archive:$W/S.tar:latest" "docker-archive:$W/S2.docker.tar:img:latest"
fi
check "--platform: pare sbom needs no --arch" "$PARE" -q sbom "$W/S.tar"

SA=$("$PARE" -q build img --platform linux/arm64/v8 -o "$W/SA" --sign-key "$W/k.key") || fail "build --platform linux/arm64/v8 --sign-key"
check_eq "--platform linux/arm64/v8: the arm64 manifest" "$ARM" "$SA"
check_eq "--platform linux/arm64/v8: its platform" "arm64 v8" \
	"$(jq -r '.manifests[0].platform | "\(.architecture) \(.variant)"' "$W/SA/index.json")"
check "--platform: the signed single-platform layout verifies" "$PARE" -q verify --key "$W/k.pub" "$W/SA"
plain_only 1 "--platform: umoci unpacks the arm64 layout" &&
	check "--platform: umoci unpacks the arm64 layout" umoci unpack --rootless --image "$W/SA:latest" "$W/bundle3"

check_refused "--platform with an unknown arch is one line" "^pare: build: --platform 'linux/amd46': unknown architecture 'amd46'" \
	"$PARE" build img --platform linux/amd46 -o "$W/bad1"
check_refused "--platform with another OS is one line" "^pare: build: --platform 'windows/amd64': pare builds linux images only" \
	"$PARE" build img --platform windows/amd64 -o "$W/bad2"
check_refused "--platform of an arch the recipe does not lock is one line" "recipe img is not locked for architecture 's390x' \(locked: amd64, arm64\)" \
	"$PARE" build img --platform linux/s390x -o "$W/bad3"
check_refused "--platform and --arch together is one line" "give --platform .* or --arch, not both" \
	"$PARE" build img --platform linux/amd64 --arch amd64 -o "$W/bad4"
check "nothing written for a bad --platform" test ! -e "$W/bad1" -a ! -e "$W/bad2" -a ! -e "$W/bad3" -a ! -e "$W/bad4"

# ---- push the archive to a registry ---------------------------------------------------------
registry_start reg || fail "a registry on loopback"
R=$REGISTRY
if PD=$("$PARE" -q push --insecure "$R" "$W/img.tar" "$R/img:v1"); then
	check_eq "push of the archive reports the image index digest" "$D" "$PD"
	skopeo inspect --tls-verify=false --raw "docker://$R/img:v1" >"$W/pushed.json" || fail "skopeo inspect"
	check_eq "skopeo reads the pushed index (its digest)" "$D" "sha256:$(sha256sum <"$W/pushed.json" | cut -d' ' -f1)"
	check "skopeo finds the cosign signature tag" \
		skopeo inspect --tls-verify=false --raw "docker://$R/img:sha256-${D#sha256:}.sig"
	check "skopeo copies the pushed amd64 image" \
		skopeo copy --quiet --src-tls-verify=false --override-arch amd64 "docker://$R/img:v1" "oci:$W/copied:x"
else
	fail "push the archive"
fi
if PS=$("$PARE" -q push --insecure "$R" "$W/S.tar" "$R/img:amd64"); then
	check_eq "push of a --platform archive reports its manifest digest" "$AMD" "$PS"
	check_eq "skopeo reads the pushed single-platform image" amd64 \
		"$(skopeo inspect --tls-verify=false "docker://$R/img:amd64" | jq -r .Architecture)"
else
	fail "push the --platform archive"
fi

# ---- pull --platform: one image of a multi-arch index, as a single-platform layout --------------
check "sign the multi-arch layout" "$PARE" -q sign --key "$W/k.key" "$W/L"
check "push the signed multi-arch layout" "$PARE" -q push --insecure "$R" "$W/L" "$R/img:multi"
if PP=$("$PARE" -q pull --insecure "$R" --platform linux/arm64 "$R/img:multi" "$W/P"); then
	check_eq "pull --platform linux/arm64 reports the arm64 manifest" "$ARM" "$PP"
	check_eq "pull --platform: index.json names the arm64 manifest with its platform" \
		"application/vnd.oci.image.manifest.v1+json $ARM multi arm64/v8" \
		"$(jq -r '.manifests[0] | "\(.mediaType) \(.digest) \(.annotations["org.opencontainers.image.ref.name"]) \(.platform.architecture)/\(.platform.variant)"' "$W/P/index.json")"
	check_eq "pull --platform: no image index blob" "" \
		"$(ls "$W/P/blobs/sha256" | grep -x "${D#sha256:}" || true)"
	check "pull --platform: the arm64 image's signature and attestations verify" \
		"$PARE" -q verify --key "$W/k.pub" "$W/P"
	check "pull --platform: its SBOM, no --arch needed" "$PARE" -q sbom "$W/P"
	plain_only 1 "pull --platform: umoci unpacks it" &&
		check "pull --platform: umoci unpacks it" umoci unpack --rootless --image "$W/P:multi" "$W/bundle4"
else
	fail "pull --platform linux/arm64"
fi
check_refused "pull --platform of a platform the index lacks is one line naming those it has" \
	"img:multi has no image for platform linux/s390x \(it has: linux/amd64, linux/arm64/v8\)" \
	"$PARE" pull --insecure "$R" --platform linux/s390x "$R/img:multi" "$W/P2"
check_refused "pull --platform of a single image of another platform is one line" \
	"img:amd64 is one image for linux/amd64, not linux/arm64" \
	"$PARE" pull --insecure "$R" --platform linux/arm64 "$R/img:amd64" "$W/P3"
check "nothing written by a refused pull" test ! -e "$W/P2" -a ! -e "$W/P3"
check_eq "no unpacked copy is left after push" 0 "$(leftovers)"

done_testing
