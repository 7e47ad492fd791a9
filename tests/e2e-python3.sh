#!/usr/bin/env bash
# e2e-python3.sh - against the live Debian archive from this machine's apt
# sources (make e2e): lock and build the shipped python3 recipe, run python3 in
# it as uid 65532 under bwrap, check there is no shell, validate its SBOMs and
# report the share of packages with a known SPDX licence.
. "$(dirname "$0")/lib.sh"

need jq bwrap setpriv
W=$(tmpdir)
export PARE_RECIPES=$PARE_SRC/recipes PARE_LOCK=$W/recipes.lock
VALIDATE=${PARE_SHARED:-$PARE_SRC/../shared}/tools/validate-sbom
check "lock python3 from the host's apt sources" "$PARE" --quiet lock python3
pk=$(jq -r '.recipes.python3.archs[].packages[].name' "$PARE_LOCK")
check "closure has python3 and libc6" bash -c "grep -qx python3 <<<'$pk' && grep -qx libc6 <<<'$pk'"
for p in dash bash dpkg apt perl-base; do
	check "closure has no $p" bash -c "! grep -qx '$p' <<<'$pk'"
done
check "build python3" "$PARE" --quiet build python3 -o "$W/out"
# The rootfs keeps the image's owners and python3 runs as the real uid 65532
# (setpriv, as tests/e2e-images.sh does), with the image config's
# environment: a path nonroot cannot read fails here as it would in a
# container.  Its directory must be reachable by 65532 (the test's is 0700).
ROOT=$(mktemp -d /tmp/pare-e2e-python3.XXXXXX)
chmod 755 "$ROOT"
at_exit rm -rf "$ROOT"
R=$ROOT/rootfs
mkdir -p "$R"
man=$(jq -r '.manifests[0].digest' "$W/out/index.json")
m=$(jq -r '.manifests[0].digest' "$W/out/blobs/sha256/${man#sha256:}")
for l in $(jq -r '.layers[].digest' "$W/out/blobs/sha256/${m#sha256:}"); do
	tar -xf "$W/out/blobs/sha256/${l#sha256:}" -C "$R" --same-owner --numeric-owner
done
cfg=$W/out/blobs/sha256/$(jq -r '.config.digest | sub("sha256:"; "")' "$W/out/blobs/sha256/${m#sha256:}")
check "no /bin/sh in the image" test ! -e "$R/bin/sh" -a ! -L "$R/bin/sh"
envs=()
while IFS='=' read -r k v; do envs+=(--setenv "$k" "$v"); done < <(jq -r '.config.Env[]?' "$cfg")
run() {
	setpriv --reuid 65532 --regid 65532 --clear-groups \
		bwrap --bind "$R" / --proc /proc --dev /dev --tmpfs /tmp --unshare-all \
		--uid 65532 --gid 65532 --clearenv "${envs[@]}" -- "$@"
}
out=$(run /usr/bin/python3 -c 'import ssl, sqlite3, json, os; print("ok", os.getuid())' 2>&1) || true
check_eq "python3 runs as nonroot with ssl, sqlite3, json" "$out" "ok 65532"
mapfile -t ep < <(jq -r '.config.Entrypoint[]' "$cfg")
out=$(run "${ep[@]}" -c 'import ssl; print(len(ssl.create_default_context().get_ca_certs()))' 2>&1) || true
check "python3: the entrypoint (${ep[*]}) runs and its default TLS context trusts >100 CAs (${out})" \
	test "${out:-0}" -gt 100 2>/dev/null
"$PARE" sbom "$W/out" >"$W/spdx.json" && "$PARE" sbom --format cyclonedx "$W/out" >"$W/cdx.json"
check "python3 SPDX SBOM valid" /usr/bin/python3 "$VALIDATE" "$W/spdx.json"
check "python3 CycloneDX SBOM valid" /usr/bin/python3 "$VALIDATE" "$W/cdx.json"
"$PARE" sbom --files "$W/out" >"$W/fspdx.json" && "$PARE" sbom --files --format cyclonedx "$W/out" >"$W/fcdx.json"
check "python3 per-file SPDX SBOM valid" /usr/bin/python3 "$VALIDATE" "$W/fspdx.json"
check "python3 per-file CycloneDX SBOM valid" /usr/bin/python3 "$VALIDATE" "$W/fcdx.json"
"$PARE" sbom --index "$W/out" >"$W/ispdx.json" && "$PARE" sbom --index --format cyclonedx "$W/out" >"$W/icdx.json"
check "python3 index SPDX SBOM valid" /usr/bin/python3 "$VALIDATE" "$W/ispdx.json"
check "python3 index CycloneDX SBOM valid" /usr/bin/python3 "$VALIDATE" "$W/icdx.json"
check "embedded SPDX SBOM (/usr/share/sbom/python3.spdx.json) valid" /usr/bin/python3 "$VALIDATE" "$R/usr/share/sbom/python3.spdx.json"
check "embedded CycloneDX SBOM (/usr/share/sbom/python3.cdx.json) valid" /usr/bin/python3 "$VALIDATE" "$R/usr/share/sbom/python3.cdx.json"
nfiles=$(find "$R" -type f | wc -l)
check_eq "per-file SBOM lists every regular file of the rootfs" "$nfiles" "$(jq '.files | length' "$W/fspdx.json")"
total=$(jq '[.packages[] | select(.primaryPackagePurpose == "INSTALL")] | length' "$W/spdx.json")
known=$(jq '[.packages[] | select(.primaryPackagePurpose == "INSTALL") | select(.licenseDeclared != null and .licenseDeclared != "NOASSERTION" and (.licenseDeclared | test("^LicenseRef-[^ ]*-copyright$") | not))] | length' "$W/spdx.json")
echo "# python3: $known of $total packages with an SPDX licence expression"
check "at least 95% of packages have a known licence ($known/$total)" test $((known * 100)) -ge $((total * 95))
done_testing
