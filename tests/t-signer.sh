#!/bin/bash
# t-signer.sh - pare keygen / sign / verify: every key type, tampering,
# third-party checks with openssl, and real cosign against a real registry
# (Debian's docker-registry on 127.0.0.1) after skopeo pushes the layout.
#
# Needs: openssl, jq, skopeo, umoci, docker-registry, tar, curl; cosign via
# tests/get-cosign (not having it is a failure, not a skip).
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/lib.sh" ] && . "$here/lib.sh"
PARE=${PARE:-$here/../pare}
case "$PARE" in /*) ;; *) PARE=$(pwd)/$PARE ;; esac

# TAP helpers of our own (prefixed, so they never clash with lib.sh's).
n_fail=0
t_ok() { echo "ok - $*"; }
t_notok() { echo "not ok - $*"; n_fail=$((n_fail + 1)); }
# t_run NAME CMD...: ok when CMD succeeds; its output is shown on failure.
t_run() {
	local name=$1; shift
	if out=$("$@" 2>&1); then t_ok "$name"; else t_notok "$name"; printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 15; fi
}
# t_fails NAME PATTERN CMD...: ok when CMD fails and its output matches PATTERN.
t_fails() {
	local name=$1 pat=$2; shift 2
	if out=$("$@" 2>&1); then
		t_notok "$name (succeeded, should fail)"
	elif printf '%s\n' "$out" | grep -qE -- "$pat"; then
		t_ok "$name"
	else
		t_notok "$name (wrong message)"; printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 5
		echo "#   want /$pat/"
	fi
}

T=$(mktemp -d)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
export PARE_PASSWORD=test-password
unset COSIGN_PASSWORD

# ---- a two-arch layout by hand: index -> 2 manifests, real tar layers, SBOM artifacts
blob() { # blob LAYOUT FILE -> "sha256:HEX SIZE"
	local h; h=$(sha256sum "$2" | cut -d' ' -f1)
	mkdir -p "$1/blobs/sha256"; cp "$2" "$1/blobs/sha256/$h"
	echo "sha256:$h $(stat -c %s "$2")"
}
desc() { jq -cn --arg mt "$1" --arg d "$2" --argjson s "$3" '{mediaType:$mt,digest:$d,size:$s}'; }
make_layout() {
	local L=$1 arch idx=[] d s ld ls cd cs amd=""
	mkdir -p "$L"; echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
	for arch in amd64 arm64; do
		mkdir -p "w/$arch/usr/bin"; echo "hello from $arch" > "w/$arch/usr/bin/hello"
		tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "w/$arch.tar" -C "w/$arch" .
		read -r ld ls < <(blob "$L" "w/$arch.tar")
		jq -cn --arg a "$arch" --arg d "$ld" '{architecture:$a,os:"linux",config:{},rootfs:{type:"layers",diff_ids:[$d]}}' > "w/$arch.cfg"
		read -r cd cs < <(blob "$L" "w/$arch.cfg")
		jq -cn --argjson c "$(desc application/vnd.oci.image.config.v1+json "$cd" "$cs")" \
			--argjson l "$(desc application/vnd.oci.image.layer.v1.tar "$ld" "$ls")" \
			'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",config:$c,layers:[$l],
			  annotations:{"dev.pare.recipe.name":"hello","dev.pare.recipe.sha256":"0000000000000000000000000000000000000000000000000000000000000001","dev.pare.recipe.git-commit":"0123456789abcdef0123456789abcdef01234567"}}' > "w/$arch.man"
		read -r d s < <(blob "$L" "w/$arch.man")
		[ "$arch" = amd64 ] && amd="$d $s"
		idx=$(jq -c --arg d "$d" --argjson s "$s" --arg a "$arch" \
			'. + [{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,platform:{architecture:$a,os:"linux"}}]' <<<"$idx")
	done
	jq -cn --argjson m "$idx" '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",manifests:$m,annotations:{"dev.pare.recipe.name":"hello"}}' > w/index
	read -r d s < <(blob "$L" w/index)
	local entries
	entries=$(jq -cn --arg d "$d" --argjson s "$s" '[{mediaType:"application/vnd.oci.image.index.v1+json",digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":"latest"}}]')
	# SBOM artifacts for amd64 (subject = its manifest), as the builder attaches them.
	read -r d s <<<"$amd"
	cat > w/spdx.json <<'EOF'
{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"hello","packages":[{"SPDXID":"SPDXRef-Package-hello","name":"hello","versionInfo":"2.10-3","packageFileName":"pool/main/h/hello/hello_2.10-3_amd64.deb","downloadLocation":"NOASSERTION","checksums":[{"algorithm":"SHA256","checksumValue":"1111111111111111111111111111111111111111111111111111111111111111"}],"externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/hello@2.10-3?arch=amd64"}]}]}
EOF
	echo '{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"library","name":"hello","version":"2.10-3","purl":"pkg:deb/debian/hello@2.10-3?arch=amd64","hashes":[{"alg":"SHA-256","content":"1111111111111111111111111111111111111111111111111111111111111111"}]}]}' > w/cdx.json
	echo -n '{}' > w/empty
	local fmt at f ed es sd ss
	read -r ed es < <(blob "$L" w/empty)
	for fmt in spdx cyclonedx; do
		if [ $fmt = spdx ]; then at=application/spdx+json f=w/spdx.json; else at=application/vnd.cyclonedx+json f=w/cdx.json; fi
		read -r sd ss < <(blob "$L" "$f")
		jq -cn --arg at "$at" --argjson c "$(desc application/vnd.oci.empty.v1+json "$ed" "$es")" \
			--argjson l "$(desc "$at" "$sd" "$ss")" --argjson subj "$(desc application/vnd.oci.image.manifest.v1+json "$d" "$s")" \
			'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",artifactType:$at,config:$c,layers:[$l],subject:$subj}' > "w/$fmt.man"
		read -r sd ss < <(blob "$L" "w/$fmt.man")
		entries=$(jq -c --arg d "$sd" --argjson s "$ss" --arg f "$fmt" \
			'. + [{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,annotations:{"dev.pare.sbom.format":$f}}]' <<<"$entries")
	done
	jq -cn --argjson m "$entries" '{schemaVersion:2,manifests:$m}' > "$L/index.json"
}
mkdir -p w
make_layout base
IDX=$(jq -r '.manifests[0].digest' base/index.json)
AMD=$(jq -r '.manifests[0].digest' base/blobs/sha256/"${IDX#sha256:}")
ARM=$(jq -r '.manifests[1].digest' base/blobs/sha256/"${IDX#sha256:}")

# ---- keys
for t in ecdsa-p256 ed25519 rsa-3072; do
	t_run "keygen $t" "$PARE" -q keygen --type "$t" -o "k-$t"
done
t_run "keygen writes the private key 0600" test "$(stat -c %a k-ecdsa-p256.key)" = 600
t_run "keygen private key is encrypted PKCS#8" grep -q 'BEGIN ENCRYPTED PRIVATE KEY' k-ecdsa-p256.key
t_run "keygen public key is SubjectPublicKeyInfo" openssl pkey -pubin -in k-ed25519.pub -noout
t_run "keygen rsa-3072 is 3072 bits" sh -c "openssl pkey -pubin -in k-rsa-3072.pub -text -noout | grep -q '3072 bit'"
t_run "keygen --no-password" "$PARE" -q keygen --no-password -o k-plain
t_run "unencrypted key is plain PKCS#8" grep -q 'BEGIN PRIVATE KEY' k-plain.key
t_fails "keygen refuses to overwrite" "refusing to overwrite" "$PARE" keygen -o k-plain
t_fails "keygen rejects unknown types" "unknown key type" "$PARE" keygen --type dsa -o k-x
t_fails "wrong password" "wrong password" env PARE_PASSWORD=nope "$PARE" sign --key k-ecdsa-p256.key base

# ---- sign + verify with every key type; third-party checks with openssl
sig_of() { # sig_of LAYOUT DIGEST -> writes w/payload, w/sig.der
	local L=$1 h=${2#sha256:} m l
	m=$(jq -r --arg r "sha256-$h.sig" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.digest' "$L/index.json")
	l=$(jq -c '.layers[0]' "$L/blobs/sha256/${m#sha256:}")
	cp "$L/blobs/sha256/$(jq -r '.digest' <<<"$l" | cut -d: -f2)" w/payload
	jq -r '.annotations["dev.cosignproject.cosign/signature"]' <<<"$l" | base64 -d > w/sig.der
}
att_of() { # att_of LAYOUT DIGEST PREDICATE -> w/pae, w/att.sig, w/statement
	local L=$1 h=${2#sha256:} m l env
	m=$(jq -r --arg r "sha256-$h.att" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.digest' "$L/index.json")
	l=$(jq -r --arg p "$3" '.layers[]|select(.annotations.predicateType==$p)|.digest' "$L/blobs/sha256/${m#sha256:}")
	env=$L/blobs/sha256/${l#sha256:}
	jq -r .payload "$env" | base64 -d > w/statement
	jq -r '.signatures[0].sig' "$env" | base64 -d > w/att.sig
	{ printf 'DSSEv1 %d %s %d ' 28 application/vnd.in-toto+json "$(stat -c %s w/statement)"; cat w/statement; } > w/pae
}
ossl_verify() { # ossl_verify KEYTYPE PUB DATA SIG
	if [ "$1" = ed25519 ]; then
		openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in "$3" -sigfile "$4"
	else
		openssl dgst -sha256 -verify "$2" -signature "$4" "$3"
	fi
}
for t in ecdsa-p256 ed25519 rsa-3072; do
	rm -rf "L-$t"; cp -r base "L-$t"
	t_run "sign ($t)" "$PARE" -q sign --key "k-$t.key" --ref 127.0.0.1/test "L-$t"
	t_run "verify ($t)" "$PARE" verify --key "k-$t.pub" "L-$t"
	cp "L-$t/index.json" w/before
	t_run "re-sign ($t)" "$PARE" -q sign --key "k-$t.key" --ref 127.0.0.1/test "L-$t"
	t_run "re-signing is idempotent ($t)" cmp -s w/before "L-$t/index.json"
	for d in "$IDX" "$AMD" "$ARM"; do
		sig_of "L-$t" "$d"
		want="{\"critical\":{\"identity\":{\"docker-reference\":\"127.0.0.1/test\"},\"image\":{\"docker-manifest-digest\":\"$d\"},\"type\":\"cosign container image signature\"},\"optional\":null}"
		t_run "payload is cosign's simple signing, byte-exact ($t ${d:7:12})" test "$(cat w/payload)" = "$want"
		t_run "openssl verifies the signature ($t ${d:7:12})" ossl_verify "$t" "k-$t.pub" w/payload w/sig.der
	done
	for p in https://spdx.dev/Document https://cyclonedx.org/bom https://slsa.dev/provenance/v1; do
		att_of "L-$t" "$AMD" "$p"
		t_run "openssl verifies the DSSE PAE ($t $p)" ossl_verify "$t" "k-$t.pub" w/pae w/att.sig
	done
done
L=L-ecdsa-p256
att_of $L "$AMD" https://slsa.dev/provenance/v1
t_run "provenance: statement v1, subject, builder, deps" jq -e --arg h "${AMD#sha256:}" '
	._type == "https://in-toto.io/Statement/v1" and .subject[0].name == "127.0.0.1/test" and .subject[0].digest.sha256 == $h
	and .predicate.buildDefinition.externalParameters.recipe.name == "hello"
	and (.predicate.buildDefinition.resolvedDependencies | map(select(.uri == "pool/main/h/hello/hello_2.10-3_amd64.deb" and .digest.sha256 == ("1" * 64))) | length) == 1
	and (.predicate.buildDefinition.resolvedDependencies | map(select(.digest.gitCommit == "0123456789abcdef0123456789abcdef01234567")) | length) == 1
	and .predicate.runDetails.builder.id == "pkg:generic/pare@0.1.0"' w/statement
att_of $L "$AMD" https://spdx.dev/Document
t_run "spdx attestation carries the layout's SBOM" test "$(jq -cS .predicate w/statement)" = "$(jq -cS . w/spdx.json)"
t_run "referrers fallback lists sig, att and both SBOMs" jq -e --arg r "sha256-${AMD#sha256:}" '
	.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r) | .digest' $L/index.json
fb=$(jq -r --arg r "sha256-${AMD#sha256:}" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.digest' $L/index.json)
t_run "fallback index has 4 referrers" test "$(jq '.manifests|length' $L/blobs/sha256/${fb#sha256:})" = 4
t_run "verify --json" sh -c "'$PARE' verify --json --key k-ecdsa-p256.pub $L | jq -e '.ok == true and (.checks|length) > 10'"
t_run "verify --arch arm64" sh -c "'$PARE' verify --arch arm64 --key k-ecdsa-p256.pub $L | grep -q 'ok   signature   arm64'"
t_fails "verify --arch unknown" "no image for architecture" "$PARE" verify --arch s390x --key k-ecdsa-p256.pub $L
t_run "default --ref comes from the layout" sh -c "cp -r base L-def && '$PARE' -q sign --key k-plain.key L-def"
cp k-plain.key k-open.key && chmod 644 k-open.key
t_run "sign warns about a private key readable by others" sh -c "cp -r base L-open && '$PARE' -q sign --key k-open.key L-open 2>w/open.err && grep -q \"warning: private key 'k-open.key' is readable or writable by group or others (mode 0644\" w/open.err"
chmod 620 k-open.key
t_run "sign warns about a private key writable by the group" sh -c "rm -rf L-open && cp -r base L-open && '$PARE' -q sign --key k-open.key L-open 2>w/open.err && grep -q 'mode 0620' w/open.err"
t_run "no warning for a 0600 private key" sh -c "rm -rf L-open && cp -r base L-open && '$PARE' -q sign --key k-plain.key L-open 2>w/open.err && ! grep -q warning w/open.err"
sig_of L-def "$AMD"
t_run "default docker-reference is the image name" grep -q '"docker-reference":"hello"' w/payload

# ---- tampering: every one must fail with the right message
fresh() { rm -rf X; cp -r $L X; }
put() { # put FILE -> digest, size of a new blob in X
	blob X "$1"
}
# Replace descriptor OLD (digest) by the blob FILE in manifest blob MAN of X;
# prints the new manifest's "digest size".
swap_in() {
	local man=$1 old=$2 file=$3 nd ns
	read -r nd ns < <(put "$file")
	jq -c --arg o "$old" --arg n "$nd" --argjson s "$ns" \
		'(.. | objects | select(.digest? == $o)) |= (.digest = $n | .size = $s)' "X/blobs/sha256/${man#sha256:}" > w/m
	put w/m
}
retag() { # retag REF DIGEST SIZE: point index.json's REF at a new manifest
	jq -c --arg r "$1" --arg d "$2" --argjson s "$3" \
		'(.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$r)) |= (.digest = $d | .size = $s)' X/index.json > w/i && mv w/i X/index.json
}
ref_digest() { jq -r --arg r "$1" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.digest' X/index.json; }

fresh; f=X/blobs/sha256/${AMD#sha256:}; chmod u+w "$f"; sed -i 's/"schemaVersion":2/"schemaVersion":2 /' "$f"
t_fails "tampered manifest" "does not match its digest" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; ld=$(jq -r '.layers[0].digest' X/blobs/sha256/${AMD#sha256:}); echo extra >> X/blobs/sha256/${ld#sha256:}
t_fails "tampered layer" "layer of .*does not match its digest" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; sm=$(ref_digest "sha256-${AMD#sha256:}.sig")
jq -c '.layers[0].annotations["dev.cosignproject.cosign/signature"] = "MEUCIQDx3e3+jXo1X7z3HM1w9LQH3bOkW3bqVv7tPzH9n3eG8gIgd2sKq1mXVgk8Jq0e7ZuUpU8lN1Dk1Zy9Qe1Rk8c1u0A="' \
	X/blobs/sha256/${sm#sha256:} > w/m
read -r nd ns < <(put w/m); retag "sha256-${AMD#sha256:}.sig" "$nd" "$ns"
t_fails "tampered signature" "signature amd64 .*signature does not verify" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; sm=$(ref_digest "sha256-${AMD#sha256:}.sig"); pd=$(jq -r '.layers[0].digest' X/blobs/sha256/${sm#sha256:})
sed "s/${AMD#sha256:}/${ARM#sha256:}/" X/blobs/sha256/${pd#sha256:} > w/p
read -r nd ns < <(swap_in "$sm" "$pd" w/p); retag "sha256-${AMD#sha256:}.sig" "$nd" "$ns"
t_fails "tampered payload" "signature amd64 .*signature does not verify" "$PARE" verify --key k-ecdsa-p256.pub X
# A payload validly signed for another digest, copied over (replay).
fresh; sa=$(ref_digest "sha256-${ARM#sha256:}.sig"); retag "sha256-${AMD#sha256:}.sig" "$sa" "$(stat -c %s X/blobs/sha256/${sa#sha256:})"
t_fails "signature of another digest" "payload names $ARM, not $AMD" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; am=$(ref_digest "sha256-${AMD#sha256:}.att")
ad=$(jq -r '.layers[]|select(.annotations.predicateType=="https://slsa.dev/provenance/v1")|.digest' X/blobs/sha256/${am#sha256:})
e=X/blobs/sha256/${ad#sha256:}
jq -c --arg p "$(jq -r .payload "$e" | base64 -d | jq -c '.predicate.runDetails.builder.id = "evil"' | base64 -w0)" '.payload = $p' "$e" > w/env
read -r nd ns < <(swap_in "$am" "$ad" w/env); retag "sha256-${AMD#sha256:}.att" "$nd" "$ns"
t_fails "tampered attestation" "no valid https://slsa.dev/provenance/v1 attestation .*does not verify" "$PARE" verify --key k-ecdsa-p256.pub X
# A signature layer without a digest (pare verify crashed on the NULL digest).
fresh; sm=$(ref_digest "sha256-${AMD#sha256:}.sig")
jq -c 'del(.layers[0].digest)' X/blobs/sha256/${sm#sha256:} > w/m
read -r nd ns < <(put w/m); retag "sha256-${AMD#sha256:}.sig" "$nd" "$ns"
t_fails "a signature layer without a digest" "signature amd64 .*a descriptor without a digest" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; sm=$(ref_digest "sha256-${AMD#sha256:}.sig")
jq -c '.layers[0].digest = "sha256:x\ny"' X/blobs/sha256/${sm#sha256:} > w/m
read -r nd ns < <(put w/m); retag "sha256-${AMD#sha256:}.sig" "$nd" "$ns"
t_fails "a signature layer with a malformed digest" "malformed digest '\(unprintable\)'" "$PARE" verify --key k-ecdsa-p256.pub X
# A layer annotation no signature covers, with a newline: refused, on one line.
fresh; am=$(ref_digest "sha256-${AMD#sha256:}.att")
jq -c '(.layers[].annotations|select(.predicateType=="https://slsa.dev/provenance/v1")|.predicateType) = "x\ny"' \
	X/blobs/sha256/${am#sha256:} > w/m
read -r nd ns < <(put w/m); retag "sha256-${AMD#sha256:}.att" "$nd" "$ns"
t_fails "a newline in a layer's predicateType" "no valid https://slsa.dev/provenance/v1 attestation \(\(unprintable\): statement predicateType differs" \
	"$PARE" verify --key k-ecdsa-p256.pub X
out=$("$PARE" verify --key k-ecdsa-p256.pub X 2>&1 >/dev/null) || true
if [ "$(printf '%s\n' "$out" | wc -l)" = 1 ]; then t_ok "... and the message is one line"; else t_notok "... and the message is one line"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
fresh; rm -f X/blobs/sha256/"${am#sha256:}"; am=$(jq -r --arg r "sha256-${AMD#sha256:}.att" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.digest' $L/index.json)
jq -c '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] != "sha256-'"${AMD#sha256:}"'.att"))' X/index.json > w/i && mv w/i X/index.json
t_fails "missing attestations" "no sha256-.*\\.att in the layout" "$PARE" verify --key k-ecdsa-p256.pub X
# The SBOM artifact replaced (validly re-digested) after signing.
fresh; sp=$(jq -r '.manifests[]|select(.annotations["dev.pare.sbom.format"]=="spdx")|.digest' X/index.json)
sl=$(jq -r '.layers[0].digest' X/blobs/sha256/${sp#sha256:})
jq -c '.name = "changed"' w/spdx.json > w/spdx2
read -r nd ns < <(swap_in "$sp" "$sl" w/spdx2)
jq -c --arg o "$sp" --arg n "$nd" --argjson s "$ns" '(.manifests[]|select(.digest==$o)) |= (.digest=$n|.size=$s)' X/index.json > w/i && mv w/i X/index.json
t_fails "sbom differs from its attestation" "differs from the sbom artifact" "$PARE" verify --key k-ecdsa-p256.pub X
# The SBOMs bound to their image: every SBOM artifact removed from index.json (the signed
# attestations still say the image has them), or one swapped for another image's SBOM
# (a subject that is not in this layout).
fresh; jq -c '.manifests |= map(select(.annotations["dev.pare.sbom.format"] == null))' X/index.json > w/i && mv w/i X/index.json
t_fails "every SBOM artifact removed" "the layout has no https://spdx.dev/Document sbom artifact about $AMD" \
	"$PARE" verify --key k-ecdsa-p256.pub X
fresh; sp=$(jq -r '.manifests[]|select(.annotations["dev.pare.sbom.format"]=="spdx")|.digest' X/index.json)
echo -n 'another image' > w/other; read -r od os < <(put w/other)
jq -c --argjson subj "$(desc application/vnd.oci.image.manifest.v1+json "$od" "$os")" '.subject = $subj' \
	X/blobs/sha256/${sp#sha256:} > w/m
read -r nd ns < <(put w/m)
jq -c --arg o "$sp" --arg n "$nd" --argjson s "$ns" '(.manifests[]|select(.digest==$o)) |= (.digest=$n|.size=$s)' X/index.json > w/i && mv w/i X/index.json
t_fails "an SBOM artifact swapped for another image's" "sbom artifact $nd describes $od, which is not in the layout" \
	"$PARE" verify --key k-ecdsa-p256.pub X
# OCI 1.1 referrers (the sha256-HEX fallback index): subjects, digests, layers.
FB="sha256-${AMD#sha256:}"
t_run "verify checks the referrers" sh -c "'$PARE' verify --json --key k-ecdsa-p256.pub $L | jq -e '[.checks[] | select(.check == \"referrer\" and .arch == \"amd64\")] | length == 4'"
fresh; retag "$FB" "$(ref_digest "sha256-${ARM#sha256:}")" "$(jq -r --arg r "sha256-${ARM#sha256:}" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.size' X/index.json)"
t_fails "referrers index of another image" "referrers amd64 .*subject is $ARM, not $AMD" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; fb=$(ref_digest "$FB"); sr=$(jq -r --arg a application/vnd.dev.cosign.artifact.sig.v1+json '.manifests[]|select(.artifactType==$a)|.digest' X/blobs/sha256/${fb#sha256:})
echo -n unsigned > w/extra; read -r xd xs < <(put w/extra)
jq -c --argjson l "$(desc application/vnd.dev.cosign.simplesigning.v1+json "$xd" "$xs")" '.layers += [$l]' X/blobs/sha256/${sr#sha256:} > w/r
read -r nd ns < <(put w/r)
jq -c --arg o "$sr" --arg n "$nd" --argjson s "$ns" '(.manifests[]|select(.digest==$o)) |= (.digest=$n|.size=$s)' X/blobs/sha256/${fb#sha256:} > w/f
read -r fd fs < <(put w/f); retag "$FB" "$fd" "$fs"
t_fails "a signature referrer with an extra layer" "referrer $nd: it has a layer $xd that the verified $FB.sig has not" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; fb=$(ref_digest "$FB"); sr=$(jq -r --arg a application/vnd.dev.cosign.artifact.att.v1+json '.manifests[]|select(.artifactType==$a)|.digest' X/blobs/sha256/${fb#sha256:})
chmod u+w X/blobs/sha256/${sr#sha256:}; echo ' ' >> X/blobs/sha256/${sr#sha256:}
t_fails "a tampered referrer manifest" "referrer $sr: .*(size|does not match its digest)" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; fb=$(ref_digest "$FB")
jq -c '.manifests |= map(select(.artifactType != "application/spdx+json"))' X/blobs/sha256/${fb#sha256:} > w/f
read -r fd fs < <(put w/f); retag "$FB" "$fd" "$fs"
t_fails "an SBOM artifact missing from the referrers" "sbom artifact sha256:[0-9a-f]+ is not listed" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; jq -c --arg r "$FB" '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] != $r))' X/index.json > w/i && mv w/i X/index.json
t_fails "no referrers index" "no $FB referrers index" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; fb=$(ref_digest "$FB")
jq -c '(.manifests[]|select(.artifactType=="application/vnd.cyclonedx+json")) |= (.artifactType="application/spdx+json")' X/blobs/sha256/${fb#sha256:} > w/f
read -r fd fs < <(put w/f); retag "$FB" "$fd" "$fs"
t_fails "a referrer listed under the wrong artifactType" "listed as application/spdx\+json but the manifest says application/vnd.cyclonedx\+json" "$PARE" verify --key k-ecdsa-p256.pub X
# Several signature layers in the .sig image (the same digest signed twice, or also by
# another key: pare push appends to a .sig already in the registry). As cosign: verified
# when at least one layer verifies with the key and names the digest; the rest is
# counted, never enough on its own.
sig_layer() { # sig_layer LAYOUT DIGEST: the first layer of its .sig image
	local m
	m=$(jq -r --arg r "sha256-${2#sha256:}.sig" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)|.digest' "$1/index.json")
	jq -c '.layers[0]' "$1/blobs/sha256/${m#sha256:}"
}
set_sigs() { # set_sigs LAYER...: X's amd64 .sig image holds these layers
	local sm nd ns
	sm=$(ref_digest "sha256-${AMD#sha256:}.sig")
	jq -c --argjson l "$(jq -cs . <<<"$*")" '.layers = $l' X/blobs/sha256/${sm#sha256:} > w/m
	read -r nd ns < <(put w/m); retag "sha256-${AMD#sha256:}.sig" "$nd" "$ns"
}
rm -rf Y && cp -r base Y && "$PARE" -q sign --key k-ecdsa-p256.key --ref 127.0.0.1/test Y
S_OLD=$(sig_layer $L "$AMD") S_NEW=$(sig_layer Y "$AMD") S_ED=$(sig_layer L-ed25519 "$AMD") S_ARM=$(sig_layer $L "$ARM")
S_BAD=$(jq -c '.annotations["dev.cosignproject.cosign/signature"] = "MEUCIQDx3e3+jXo1X7z3HM1w9LQH3bOkW3bqVv7tPzH9n3eG8gIgd2sKq1mXVgk8Jq0e7ZuUpU8lN1Dk1Zy9Qe1Rk8c1u0A="' <<<"$S_OLD")
t_run "a second signature by the same key differs (ECDSA)" test "$S_OLD" != "$S_NEW"
fresh; set_sigs "$S_NEW" "$S_OLD"
t_run "two signatures of the same key: both verify" sh -c "'$PARE' verify --key k-ecdsa-p256.pub X | grep -q 'ok   signature   amd64.*(2 of 2 signatures verified)'"
fresh; set_sigs "$S_ED" "$S_OLD"
t_run "a valid signature and one by another key: verified, 1 of 2" sh -c "'$PARE' verify --key k-ecdsa-p256.pub X | grep -q 'ok   signature   amd64.*(1 of 2 signatures verified)'"
fresh; set_sigs "$S_BAD" "$S_OLD"
t_run "a valid signature and a corrupted one: verified, 1 of 2" sh -c "'$PARE' verify --key k-ecdsa-p256.pub X | grep -q 'ok   signature   amd64.*(1 of 2 signatures verified)'"
fresh; set_sigs "$S_ED" "$S_BAD"
t_fails "no valid signature among several" "signature amd64 .*signature does not verify" "$PARE" verify --key k-ecdsa-p256.pub X
fresh; set_sigs "$S_BAD" "$S_ARM"
t_fails "a valid signature of another digest and a corrupted one" "signature amd64 .*payload names $ARM, not $AMD" "$PARE" verify --key k-ecdsa-p256.pub X
t_fails "wrong public key" "signature does not verify with the ecdsa-p256 key" "$PARE" verify --key <(openssl pkey -in <(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null) -pubout) $L
t_fails "wrong key type" "does not verify with the ed25519 key" "$PARE" verify --key k-ed25519.pub $L
t_run "json reports the failure" sh -c "'$PARE' verify --json --key k-ed25519.pub $L 2>/dev/null | jq -e '.ok == false and (.error | test(\"does not verify\"))'"

# ---- a umoci layout (index.json names a manifest, not an index)
umoci init --layout U >/dev/null 2>&1 && umoci new --image U:latest >/dev/null 2>&1 &&
	umoci insert --image U:latest w/amd64/usr/bin/hello /usr/bin/hello >/dev/null 2>&1
t_run "umoci layout: sign" "$PARE" -q sign --key k-ed25519.key --ref 127.0.0.1/umoci U
t_run "umoci layout: verify" "$PARE" verify --key k-ed25519.pub U

# ---- PKCS#11: a SoftHSM token through the pkcs11 OpenSSL engine
if command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null &&
	[ -f /usr/lib/softhsm/libsofthsm2.so ] && ls /usr/lib/*/engines-3/pkcs11.so >/dev/null 2>&1; then
	mkdir -p hsm/tokens
	echo "directories.tokendir = $T/hsm/tokens" > hsm/softhsm2.conf
	export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
	mod=/usr/lib/softhsm/libsofthsm2.so
	softhsm2-util --init-token --free --label pare --pin 1234 --so-pin 5678 >/dev/null 2>&1
	pkcs11-tool --module $mod --login --pin 1234 --keypairgen --key-type EC:prime256v1 --id 01 --label sig >/dev/null 2>&1
	pkcs11-tool --module $mod --read-object --type pubkey --id 01 -o hsm/pub.der >/dev/null 2>&1
	t_run "pkcs11: public key exported" openssl pkey -pubin -inform DER -in hsm/pub.der -out hsm/pub.pem
	rm -rf L-hsm; cp -r base L-hsm
	t_run "pkcs11: sign with a token key" env PKCS11_MODULE_PATH=$mod PARE_PKCS11_PIN=1234 \
		"$PARE" -q sign --key "pkcs11:token=pare;object=sig;type=private" --ref 127.0.0.1/hsm L-hsm
	t_run "pkcs11: verify" "$PARE" verify --key hsm/pub.pem L-hsm
	t_fails "pkcs11: wrong PIN" "cannot load the private key from the token" env PKCS11_MODULE_PATH=$mod PARE_PKCS11_PIN=0000 \
		"$PARE" -q sign --key "pkcs11:token=pare;object=sig;type=private" L-hsm
else
	echo "ok - pkcs11 # SKIP needs softhsm2, opensc (pkcs11-tool) and libengine-pkcs11-openssl"
fi

# ---- real cosign against a real registry
COSIGN=$(sh "$here/get-cosign" 2>w/get-cosign.log) || COSIGN=
if [ -z "$COSIGN" ]; then
	t_notok "cosign available (tests/get-cosign failed)"; sed 's/^/#   /' w/get-cosign.log | tail -5
else
	t_ok "cosign available ($("$COSIGN" version 2>&1 | awk '/GitVersion/{print $2}'))"
	# skopeo pushing the layouts and cosign reading them run no pare code (the plain suite's);
	# pare signing with a key cosign made, and verifying it, runs in both suites
	interop=0
	plain_only 31 "skopeo pushes, cosign verify and verify-attestation of each key type, the cosign key's and the umoci layout's images" && interop=1
	port=$(( 20000 + $$ % 20000 ))
	R=127.0.0.1:$port
	export SIGSTORE_NO_CACHE=1 TUF_ROOT=$T/tuf HOME=$T
	if [ "$interop" = 1 ]; then
	cat > w/reg.yml <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $T/regdata
http:
  addr: 127.0.0.1:$port
log:
  level: error
EOF
	docker-registry serve w/reg.yml > w/reg.log 2>&1 &
	REG_PID=$!
	for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
	push() { # push LAYOUT REPO DIGEST...: the image and each digest's .sig/.att
		local Lp=$1 repo=$2 h; shift 2
		skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$Lp:latest" "docker://$R/$repo:latest" || return 1
		for h in "$@"; do
			h=${h#sha256:}
			for s in .sig .att; do
				jq -e --arg r "sha256-$h$s" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$r)' "$Lp/index.json" >/dev/null || continue
				skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$Lp:sha256-$h$s" "docker://$R/$repo:sha256-$h$s" || return 1
			done
		done
	}
	cosign_v() { "$COSIGN" verify --key "$1" --allow-http-registry --insecure-ignore-tlog "$2"; }
	cosign_va() { "$COSIGN" verify-attestation --key "$1" --type "$2" --allow-http-registry --insecure-ignore-tlog "$3"; }
	for t in ecdsa-p256 ed25519 rsa-3072; do
		t_run "push to the registry ($t)" push "L-$t" "$t" "$IDX" "$AMD" "$ARM"
		for d in "$IDX" "$AMD" "$ARM"; do
			t_run "cosign verify ($t ${d:7:12})" cosign_v "k-$t.pub" "$R/$t@$d"
		done
		t_run "cosign verify-attestation spdxjson ($t)" cosign_va "k-$t.pub" spdxjson "$R/$t@$AMD"
		t_run "cosign verify-attestation cyclonedx ($t)" cosign_va "k-$t.pub" cyclonedx "$R/$t@$AMD"
		t_run "cosign verify-attestation slsaprovenance1 ($t amd64)" cosign_va "k-$t.pub" slsaprovenance1 "$R/$t@$AMD"
		t_run "cosign verify-attestation slsaprovenance1 ($t arm64)" cosign_va "k-$t.pub" slsaprovenance1 "$R/$t@$ARM"
	done
	t_fails "cosign rejects the wrong key" "no matching signatures" cosign_v k-ed25519.pub "$R/ecdsa-p256@$AMD"
	t_fails "cosign finds no cyclonedx attestation for arm64" "predicate type|no matching attestations|none of the attestations" \
		cosign_va k-ecdsa-p256.pub cyclonedx "$R/ecdsa-p256@$ARM"
	fi
	# A key made by cosign itself, used by pare (cosign's encrypted key format).
	(cd w && COSIGN_PASSWORD=cosign-pw "$COSIGN" generate-key-pair >/dev/null 2>&1)
	t_run "cosign generate-key-pair" grep -q 'ENCRYPTED SIGSTORE PRIVATE KEY' w/cosign.key
	rm -rf L-cosign; cp -r base L-cosign
	t_run "pare signs with a cosign key" env -u PARE_PASSWORD COSIGN_PASSWORD=cosign-pw "$PARE" -q sign --key w/cosign.key --ref "$R/ck" L-cosign
	t_fails "cosign key, wrong password" "wrong password" env -u PARE_PASSWORD COSIGN_PASSWORD=bad "$PARE" -q sign --key w/cosign.key L-cosign
	t_run "pare verifies with cosign.pub" "$PARE" verify --key w/cosign.pub L-cosign
	if [ "$interop" = 1 ]; then
		t_run "push (cosign key)" push L-cosign ck "$IDX" "$AMD" "$ARM"
		t_run "cosign verify (cosign key)" cosign_v w/cosign.pub "$R/ck@$AMD"
		t_run "cosign verify-attestation (cosign key)" cosign_va w/cosign.pub slsaprovenance1 "$R/ck@$AMD"
		t_run "push (umoci layout)" push U umoci "$(jq -r '.manifests[0].digest' U/index.json)"
		t_run "cosign verify (umoci layout)" cosign_v k-ed25519.pub "$R/umoci@$(jq -r '.manifests[0].digest' U/index.json)"
	fi
fi

[ "$n_fail" -eq 0 ]
