#!/usr/bin/env bash
# t-archive.sh - an oci-archive (build --tar) is taken wherever a layout is:
# sbom, verify, push (to Debian's docker-registry on 127.0.0.1, read back with
# skopeo) read it, sign rewrites it atomically and the result verifies; a
# tampered archive fails naming the blob; a tar pare did not write is refused
# and left as it was.  --platform writes a single-platform layout (and
# archive) that umoci unpacks and skopeo copies to a docker-archive.
. "$(dirname "$0")/lib.sh"

need jq skopeo umoci docker-registry curl python3 tar
fixture_env
export PARE_PASSWORD=unused PARE_REGISTRY_BACKOFF_MS=5
unset COSIGN_PASSWORD DOCKER_CONFIG
export HOME=$W/home # never the user's ~/.docker/config.json
mkdir -p "$HOME"
cd "$W" || exit 1

# refused DESC ERE CMD...: exit status 2, one line on stderr matching ERE
refused() {
	local desc=$1 re=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if ((rc == 2)) && [[ $(printf '%s\n' "$err" | wc -l) == 1 ]] && grep -Eq -- "$re" <<<"$err"; then
		ok "$desc"
	else
		fail "$desc" "\$ $*"$'\n'"exit status $rc (want 2, one line matching /$re/)"$'\n'"$err"
	fi
}
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
refused "sbom of an archive still asks for --arch on two architectures" "img.tar: the image has several architectures" \
	"$PARE" sbom "$W/img.tar"
check_eq "no unpacked copy is left under the cache" 0 "$(leftovers)"

refused "verify of the unsigned archive fails, naming the archive" "^pare: verify [^ ]*/img.tar: signature .*no sha256-[0-9a-f]{64}\.sig in the layout" \
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
refused "verify of a tampered archive fails naming the blob" "bad.tar: .*blob $LAYER does not match its digest" \
	"$PARE" verify --key "$W/k.pub" "$W/bad.tar"
check_eq "no unpacked copy is left after a failure" 0 "$(leftovers)"

# ---- sign refuses what pare did not write ------------------------------------------------
mkdir -p "$W/junk" && echo hello >"$W/junk/README"
tar -cf "$W/foreign.tar" -C "$W/junk" README
sum=$(sha256sum <"$W/foreign.tar")
refused "sign refuses a tar that is not an oci-archive" "foreign.tar: not an oci-archive|foreign.tar: not replaced" \
	"$PARE" sign --key "$W/k.key" "$W/foreign.tar"
check_eq "the foreign tar is untouched" "$sum" "$(sha256sum <"$W/foreign.tar")"
refused "sbom of a tar that is not an oci-archive is one line" "foreign.tar: not an oci-archive \(no oci-layout member" \
	"$PARE" sbom --arch amd64 "$W/foreign.tar"
# a real oci-archive with a member pare never writes: readable, but not pare's to rewrite
cp -a "$W/L" "$W/plus" && echo notes >"$W/plus/NOTES"
tar -cf "$W/plus.tar" -C "$W/plus" oci-layout index.json blobs NOTES
sum=$(sha256sum <"$W/plus.tar")
check "sbom reads an oci-archive with an extra member" "$PARE" -q sbom --arch amd64 "$W/plus.tar"
refused "sign refuses an oci-archive pare did not write" "plus.tar: not replaced: it is not an oci-archive pare wrote" \
	"$PARE" sign --key "$W/k.key" "$W/plus.tar"
check_eq "that archive is untouched" "$sum" "$(sha256sum <"$W/plus.tar")"
refused "a path that is neither layout nor archive is one line" "cannot open '$W/none'" \
	"$PARE" verify --key "$W/k.pub" "$W/none"

# an unpacked copy left by a pare that was killed goes at the next open
mkdir -p "$PARE_CACHE_DIR/tmp/oci-archive.tmp.999999999.0/blobs"
check "sbom of the archive" "$PARE" -q sbom --arch amd64 "$W/img.tar"
check_eq "a killed pare's unpacked copy is removed" 0 "$(leftovers)"

# ---- push the archive to a registry ---------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P=$(free_port)
cat >"$W/reg.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $W/reg.data
http:
  addr: 127.0.0.1:$P
log:
  level: error
EOF
docker-registry serve "$W/reg.yml" >"$W/reg.log" 2>&1 &
echo $! >"$W/reg.pid"
at_exit 'kill "$(cat "$W/reg.pid")" 2>/dev/null'
for ((i = 0; i < 200; i++)); do
	[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/v2/") == 200 ]] && break
	sleep 0.05
done
R=127.0.0.1:$P
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
check_eq "no unpacked copy is left after push" 0 "$(leftovers)"

done_testing
