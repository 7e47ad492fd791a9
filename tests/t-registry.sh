#!/usr/bin/env bash
# t-registry.sh - pare push / pull against real registries: Debian's
# docker-registry on 127.0.0.1 (anonymous, htpasswd basic auth), checked
# with skopeo and real cosign; shared blobs skipped or mounted; a registry
# killed mid-push (whole blobs and mid-blob chunks) and restarted; pulls
# verified with pare verify / pare sbom; clear 401s; TLS verified by default.
. "$(dirname "$0")/lib.sh"

need docker-registry skopeo jq curl python3 htpasswd
W=$(tmpdir)
REPO=$(fixture_repo)
export PARE_RECIPES=$W/recipes PARE_LOCK=$W/recipes.lock PARE_PASSWORD=unused
# retries in tests: short backoff (the default is 500 ms doubling, 5 tries)
export PARE_REGISTRY_BACKOFF_MS=5
unset DOCKER_CONFIG
export HOME=$W/home # never the user's ~/.docker/config.json
mkdir -p "$PARE_RECIPES" "$HOME"
cd "$W" || exit 1

# ---- registries ----------------------------------------------------------------------
# start_registry NAME PORT [AUTH-YAML]: docker-registry on 127.0.0.1:PORT, storage $W/NAME.data
# (kept across restarts), a fixed http secret so upload sessions survive a restart.
start_registry() {
	local name=$1 port=$2 i
	if [[ ! -f $W/$name.yml ]]; then
		cat >"$W/$name.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $W/$name.data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: pare-test-$name
log:
  level: error
${3:-}
EOF
	fi
	docker-registry serve "$W/$name.yml" >>"$W/$name.log" 2>&1 &
	echo $! >"$W/$name.pid"
	for ((i = 0; i < 200; i++)); do
		# 200, or 401 when auth is on: it is up
		case $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/") in
		200 | 401) return 0 ;;
		esac
		kill -0 "$(cat "$W/$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "docker-registry $name did not start:" >&2
	cat "$W/$name.log" >&2
	return 1
}
stop_registry() { # NAME: kill -9, wait until it is gone
	local pid
	pid=$(cat "$W/$1.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$W/$1.pid"
}
at_exit 'for f in "$W"/*.pid; do [[ -f $f ]] && kill -9 "$(cat "$f")" 2>/dev/null; done'

# interop N DESC: true in the plain suite.  In the ASan suite one counted skip for the N
# checks that follow (DESC names them) and false: a third-party client (skopeo, cosign)
# reading what pare pushed checks the registry's bytes, not pare's code, and those are the
# same bytes in both suites, so it runs once, in the plain suite (as Trivy in t-cve-vex.sh).
# skopeo as a probe of what pare did (tags, signatures, nothing pushed) runs in both.
interop() {
	[[ ${PARE_TEST_SUITE:-} == asan ]] || return 0
	skip "$2 ($1 checks)" "a third-party client reading what pare pushed: runs in the plain suite"
	return 1
}

P1=$(free_port)
start_registry anon "$P1" || { fail "docker-registry starts"; done_testing; }
R=127.0.0.1:$P1
ok "docker-registry on $R"

# ---- two signed images sharing package layers -------------------------------------------
ARCHS="amd64, arm64" fixture_recipe img1 stable "hello, ca-certificates"
ARCHS="amd64, arm64" fixture_recipe img2 stable "hello, ca-certificates, tzdata"
"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
"$PARE" -q lock img1 img2 || fail "lock"
D1=$("$PARE" -q build img1 -o "$W/L1" --sign-key "$W/k.key") || fail "build img1"
D2=$("$PARE" -q build img2 -o "$W/L2" --sign-key "$W/k.key") || fail "build img2"
# blobs LAYOUT: every blob digest under blobs/ (sorted)
blobs() { (cd "$1/blobs/sha256" && ls | sort); }
AMD1=$(jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' "$W/L1/blobs/sha256/${D1#sha256:}")
# image blobs (configs + layers) of a layout
img_blobs() {
	local L=$1 m
	for m in $(jq -r '.manifests[].digest' "$L/blobs/sha256/$(jq -r '.manifests[0].digest' "$L/index.json" | cut -d: -f2)"); do
		jq -r '.config.digest, .layers[].digest' "$L/blobs/sha256/${m#sha256:}"
	done | sort -u
}
SHARED=$(comm -12 <(img_blobs "$W/L1") <(img_blobs "$W/L2") | wc -l)
check "the two images share blobs" test "$SHARED" -ge 2

# ---- push, and read it back with skopeo ---------------------------------------------------
push() { "$PARE" push --insecure "$R" --json "$@"; }
# total: blobs + manifests + fallback indexes a push --json handled (= the layout's blobs)
total() { jq '.blobs_uploaded + .blobs_skipped + .blobs_mounted + .manifests + ([.tags[] | select(test("^sha256-[0-9a-f]{64}$"))] | length)'; }
if out=$(push "$W/L1" "$R/img1:v1" 2>"$W/push1.err"); then
	ok "push img1"
	check_eq "push: the digest is the layout's" "$D1" "$(jq -r .digest <<<"$out")"
	check_eq "push: every blob of the layout pushed once" "$(blobs "$W/L1" | wc -l)" "$(total <<<"$out")"
	check_eq "push: nothing skipped the first time" 0 "$(jq .blobs_skipped <<<"$out")"
	check_eq "push: docker-registry has no referrers API" false "$(jq .referrers_api <<<"$out")"
	check "push: image, .sig, .att and fallback tags" jq -e --arg h "${AMD1#sha256:}" \
		'(.tags | index("v1")) and (.tags | index("sha256-\($h).sig")) and (.tags | index("sha256-\($h).att")) and (.tags | index("sha256-\($h)"))' <<<"$out"
else
	fail "push img1" "$(cat "$W/push1.err")"
fi
check_eq "registry answers 404 on the referrers API" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://$R/v2/img1/referrers/$D1")"
if interop 5 "skopeo reads the push: copy, index digest, image blobs, fallback tag, media type"; then
	check "skopeo copy from the registry" skopeo copy -q --all --src-tls-verify=false "docker://$R/img1:v1" "oci:$W/S1:v1"
	check_eq "skopeo: same index digest" "$D1" "$(jq -r '.manifests[0].digest' "$W/S1/index.json")"
	check "skopeo: same image blobs" diff <(img_blobs "$W/L1") <(img_blobs "$W/S1")
	# as many referrers as the layout's own fallback index lists (signature, attestations, SBOMs)
	fb=$(jq -r --arg t "sha256-${AMD1#sha256:}" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$W/L1/index.json")
	check_eq "skopeo: the fallback tag lists the referrers" "$(jq '.manifests | length' "$W/L1/blobs/sha256/${fb#sha256:}")" \
		"$(skopeo inspect --raw --tls-verify=false "docker://$R/img1:sha256-${AMD1#sha256:}" | jq '.manifests | length')"
	check "skopeo: the manifest media type was sent" sh -c \
		"skopeo inspect --raw --tls-verify=false docker://$R/img1:v1 | jq -e '.mediaType == \"application/vnd.oci.image.index.v1+json\"'"
fi

out=$(push "$W/L1" "$R/img1:v1" 2>"$W/push2.err") || fail "push again" "$(cat "$W/push2.err")"
check_eq "push again: nothing uploaded" 0 "$(jq -r .blobs_uploaded <<<"$out" 2>/dev/null)"
check_eq "push again: every blob skipped" "$(blobs "$W/L1" | wc -l)" "$(total <<<"$out")"
check_eq "push again: no bytes uploaded" 0 "$(jq -r .bytes_uploaded <<<"$out")"

# a second image into the same repository: shared blobs not uploaded again
out=$(push --tag extra "$W/L2" "$R/img1:v2" 2>"$W/push3.err") || fail "push img2 (same repo)" "$(cat "$W/push3.err")"
check "push img2: shared blobs skipped" test "$(jq -r .blobs_skipped <<<"$out")" -ge "$SHARED"
check "push img2: tags v2 and --tag extra" jq -e '(.tags | index("v2")) and (.tags | index("extra"))' <<<"$out"
check_eq "push img2: the new tag points at it" "$D2" \
	"$(skopeo inspect --raw --tls-verify=false "docker://$R/img1:extra" | sha256sum | sed 's/^/sha256:/; s/ .*//')"
# …and into another repository: cross-repository mount with --from
out=$(push --from img1 "$W/L2" "$R/other/img2" 2>"$W/push4.err") || fail "push --from (mount)" "$(cat "$W/push4.err")"
check "push --from: shared blobs mounted, not uploaded" test "$(jq -r .blobs_mounted <<<"$out")" -ge "$SHARED"
check_eq "push --from: image tag defaults to the layout's" latest "$(jq -r '.tags[0]' <<<"$out")"
if interop 2 "push --from: skopeo reads it, same digest"; then
	check "push --from: skopeo reads it" skopeo copy -q --all --src-tls-verify=false "docker://$R/other/img2:latest" "oci:$W/S2:latest"
	check_eq "push --from: same digest" "$D2" "$(jq -r '.manifests[0].digest' "$W/S2/index.json")"
fi

# progress: a line per blob on a terminal (script(1) gives pare one), only a summary otherwise
out=$(script -qec "'$PARE' push --insecure $R '$W/L2' $R/tty:v1" /dev/null </dev/null 2>&1) || fail "push on a terminal" "$out"
check "progress on a terminal: a line per uploaded blob" grep -q "pushed sha256:[0-9a-f]\{64\} ([0-9]* bytes)" <<<"$out"
check "progress on a terminal: the summary" grep -q "blobs uploaded" <<<"$out"
"$PARE" push --insecure "$R" "$W/L2" "$R/notty:v1" >/dev/null 2>"$W/notty.err" || fail "push without a terminal" "$(cat "$W/notty.err")"
check "no terminal: no per-blob lines" sh -c "! grep -q 'pushed sha256:' '$W/notty.err'"
check_eq "no terminal: one summary line" 1 "$(grep -c 'blobs uploaded' "$W/notty.err")"
check "--quiet: nothing on stderr" sh -c "'$PARE' -q push --insecure $R '$W/L2' $R/quiet:v1 2>'$W/quiet.err' >/dev/null && test ! -s '$W/quiet.err'"

# the layout is read through oci/ (as verify reads it) before anything is sent
cp -a "$W/L2" "$W/nolayout" && rm "$W/nolayout/oci-layout"
check_refused "push: a directory without oci-layout is one line" "nolayout' is not an OCI image layout \(no oci-layout file\)" \
	"$PARE" push --insecure "$R" "$W/nolayout" "$R/nolayout:v1"
check "push: nothing of it reached the registry" \
	sh -c "! skopeo inspect --raw --tls-verify=false 'docker://$R/nolayout:v1' >/dev/null 2>&1"

# ---- 429, 503 and dropped connections (tests/fixtures/flakyproxy in front of the registry) ----
python3 "$PARE_SRC/tests/fixtures/flakyproxy" "$P1" "$W/flaky.port" "$W/flaky.requests" $$ >"$W/flaky.log" 2>&1 &
echo $! >"$W/flaky.pid"
for ((i = 0; i < 200; i++)); do [[ -s $W/flaky.port ]] && break; sleep 0.05; done
F=127.0.0.1:$(cat "$W/flaky.port" 2>/dev/null)
if out=$("$PARE" push --insecure "$F" --json "$W/L2" "$F/flaky/img2:v1" 2>"$W/flaky.err"); then
	ok "push through a flaky proxy (503, 429, dropped connections) succeeds"
	check_eq "flaky push: digest" "$D2" "$(jq -r .digest <<<"$out")"
else
	fail "push through a flaky proxy (503, 429, dropped connections) succeeds" "$(cat "$W/flaky.err")"
fi
check "flaky push: the proxy injected 503s" grep -q -- "-> 503" "$W/flaky.requests"
check "flaky push: the proxy injected 429s" grep -q -- "-> 429" "$W/flaky.requests"
check "flaky push: the proxy dropped connections" grep -q "connection dropped" "$W/flaky.requests"
if interop 2 "flaky push: skopeo (straight to the registry) reads it, same blobs"; then
	check "flaky push: skopeo (straight to the registry) reads it" skopeo copy -q --all --src-tls-verify=false \
		"docker://$R/flaky/img2:v1" "oci:$W/S7:v1"
	check "flaky push: same blobs" diff <(img_blobs "$W/L2") <(img_blobs "$W/S7")
fi
check "pull through the flaky proxy" "$PARE" -q pull --insecure "$F" "$F/flaky/img2:v1" "$W/P8"
check "flaky pull: pare verify" "$PARE" verify --key "$W/k.pub" "$W/P8"
python3 "$PARE_SRC/tests/fixtures/flakyproxy" "$P1" "$W/down.port" "$W/down.requests" $$ always503 >"$W/down.log" 2>&1 &
echo $! >"$W/down.pid"
for ((i = 0; i < 200; i++)); do [[ -s $W/down.port ]] && break; sleep 0.05; done
DN=127.0.0.1:$(cat "$W/down.port" 2>/dev/null)
check_fails "retries are bounded: 503 forever is a clear error" \
	"registry $DN: GET /v2/: HTTP 503 Service Unavailable \(FLAKY: injected 503\)" \
	"$PARE" pull --insecure "$DN" "$DN/flaky/img2:v1" "$W/P9"
check_eq "retries are bounded: 5 tries" 5 "$(wc -l <"$W/down.requests")"

# ---- build --push ---------------------------------------------------------------------------
if out=$("$PARE" build img2 -o "$W/B2" --sign-key "$W/k.key" --push "$R/built:b1" --insecure "$R" 2>"$W/build.err"); then
	ok "build --push"
	check_eq "build --push: prints the image digest" "$D2" "$out"
	check "build --push: summary on stderr" grep -q "pushed $R/built:b1@$D2" "$W/build.err"
	check_eq "build --push: the tag is in the registry" "$D2" \
		"$(skopeo inspect --raw --tls-verify=false "docker://$R/built:b1" | sha256sum | sed 's/^/sha256:/; s/ .*//')"
else
	fail "build --push" "$(cat "$W/build.err")"
fi
check_fails "build --push takes one recipe" "--push takes one recipe" "$PARE" build img1 img2 --push "$R/x"
# a layout whose index.json claims a size no blob has: refused before the
# size is converted (1e300 as a uint64_t is undefined behaviour)
cp -r "$W/L1" "$W/Lsize"
jq -c '.manifests[0].size = 1e300' "$W/L1/index.json" >"$W/Lsize/index.json"
check_fails "push: a descriptor size beyond any integer is refused" "without a sha256 digest and size" \
	"$PARE" push --insecure "$R" "$W/Lsize" "$R/badsize:v1"

# ---- pull -------------------------------------------------------------------------------
check "pull img1" "$PARE" -q pull --insecure "$R" "$R/img1:v1" "$W/P1"
check "pull: same blobs as the pushed layout" diff <(blobs "$W/L1") <(blobs "$W/P1")
check "pull: pare verify" "$PARE" verify --key "$W/k.pub" "$W/P1"
check "pull: pare sbom (spdx, amd64)" sh -c "'$PARE' sbom --arch amd64 '$W/P1' | jq -e '.spdxVersion == \"SPDX-2.3\"'"
check "pull: pare sbom (cyclonedx, arm64)" sh -c "'$PARE' sbom --format cyclonedx --arch arm64 '$W/P1' | jq -e '.bomFormat == \"CycloneDX\"'"
out=$("$PARE" pull --json --insecure "$R" "$R/img1@$D1" "$W/P1" 2>&1) || fail "pull by digest over an existing layout" "$out"
check_eq "pull --json: digest" "$D1" "$(jq -r .digest <<<"$out")"
check "pull by digest replaced the layout, still verifies" "$PARE" verify --key "$W/k.pub" "$W/P1"
check "pull: no temporary directories left" test -z "$(ls -d "$W"/P1.pull-* 2>/dev/null)"
# The same image pushed twice, signed twice (ECDSA: another signature each time), as the
# README's push then build --push do: pare push appends to the .sig/.att in the registry
# (as cosign does), the older referrers stay listed, and the pulled layout verifies.
SIGTAG="sha256-${AMD1#sha256:}.sig"
nsig() { skopeo inspect --raw --tls-verify=false "docker://$R/twice:$SIGTAG" | jq '.layers | length'; }
check "push the first signing" "$PARE" -q push --insecure "$R" "$W/L1" "$R/twice:v1"
# (the second signing is a rebuild of img1: one build --push serves the checks on both)
if D1B=$("$PARE" -q build img1 -o "$W/L1b" --sign-key "$W/k.key" --push "$R/twice:v1" --insecure "$R" 2>"$W/L1b.err"); then
	ok "push the second signing (build --push)"
else
	fail "push the second signing (build --push)" "$(cat "$W/L1b.err")"
fi
check_eq "rebuilt: the same image digest" "$D1" "$D1B"
check "rebuilt: another signature" test "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "'"$SIGTAG"'") | .digest' "$W/L1/index.json")" \
	!= "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "'"$SIGTAG"'") | .digest' "$W/L1b/index.json")"
check_eq "the .sig in the registry holds both signatures" 2 "$(nsig)"
check "pushed again: identical signatures not repeated" "$PARE" -q push --insecure "$R" "$W/L1" "$R/twice:v1"
check_eq "... still two" 2 "$(nsig)"
check "pull the image signed twice" "$PARE" -q pull --insecure "$R" "$R/twice:v1" "$W/P10"
if out=$("$PARE" verify --key "$W/k.pub" "$W/P10" 2>&1); then
	ok "pare verify: the image signed twice"
	check "verify: 2 of 2 signatures verified" grep -q "^ok   signature   amd64 .*(2 of 2 signatures verified)" <<<"$out"
else
	fail "pare verify: the image signed twice" "$out"
fi
"$PARE" -q keygen --no-password -o "$W/k2" || fail "keygen k2"
check "push a signing by another key" "$PARE" -q build img1 -o "$W/L1d" --sign-key "$W/k2.key" --push "$R/twice:v1" --insecure "$R"
check "pull it" "$PARE" -q pull --insecure "$R" "$R/twice:v1" "$W/P11"
if out=$("$PARE" verify --key "$W/k.pub" "$W/P11" 2>&1); then
	ok "pare verify: two signatures of the key, one of another"
	check "verify: 2 of 3 signatures verified" grep -q "^ok   signature   amd64 .*(2 of 3 signatures verified)" <<<"$out"
else
	fail "pare verify: two signatures of the key, one of another" "$out"
fi
check "the other key verifies its own signature" sh -c "'$PARE' verify --key '$W/k2.pub' '$W/P11' | grep -q '^ok   signature   amd64 .*(1 of 3 signatures verified)'"
check_fails "pull: unknown tag" "no such image .*404" "$PARE" pull --insecure "$R" "$R/img1:nope" "$W/P2"
check "pull: nothing written on failure" test ! -e "$W/P2"

# an image pushed by skopeo (a client nobody here wrote), also in docker's own media types
check "skopeo pushes img2" skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$W/L2:latest" "docker://$R/byskopeo:v1"
check_eq "pull what skopeo pushed: same digest" "$D2" \
	"$("$PARE" pull --insecure "$R" "$R/byskopeo:v1" "$W/P10" 2>&1)"
check "pull what skopeo pushed: same image blobs" diff <(img_blobs "$W/L2") <(img_blobs "$W/P10")
AMD2=$(jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' "$W/L2/blobs/sha256/${D2#sha256:}")
check "skopeo converts one manifest to docker v2s2" skopeo copy -q --format v2s2 --src-tls-verify=false \
	--dest-tls-verify=false "docker://$R/byskopeo@$AMD2" "docker://$R/v2s2:v1"
if "$PARE" -q pull --insecure "$R" "$R/v2s2:v1" "$W/P11" >"$W/v2s2.out" 2>"$W/v2s2.err"; then
	ok "pull a docker v2s2 image"
	check_eq "v2s2: the layout's digest is the registry's" \
		"$(skopeo inspect --raw --tls-verify=false "docker://$R/v2s2:v1" | sha256sum | sed 's/^/sha256:/; s/ .*//')" "$(cat "$W/v2s2.out")"
	check_eq "v2s2: docker media type kept" application/vnd.docker.distribution.manifest.v2+json \
		"$(jq -r '.manifests[0].mediaType' "$W/P11/index.json")"
	# (kept byte for byte, digests unchanged; skopeo's oci: transport only lists OCI media types)
	check "v2s2: config and layers pulled" sh -c "m=\$(jq -r '.manifests[0].digest' '$W/P11/index.json'); \
		for d in \$(jq -r '.config.digest, .layers[].digest' '$W/P11/blobs/sha256/'\${m#sha256:}); do \
		test \"\$(sha256sum < '$W/P11/blobs/sha256/'\${d#sha256:} | cut -d' ' -f1)\" = \${d#sha256:} || exit 1; done"
else
	fail "pull a docker v2s2 image" "$(cat "$W/v2s2.err")"
fi

# ---- real cosign against what pare pushed ---------------------------------------------------
if interop 5 "cosign verify (index, amd64 manifest), verify-attestation (spdxjson, slsaprovenance1), rejects another key"; then
	COSIGN=$(sh "$PARE_SRC/tests/get-cosign" 2>"$W/get-cosign.log") || COSIGN=
	if [[ -z $COSIGN ]]; then
		skip "cosign verify" "no cosign (tests/get-cosign: $(tail -1 "$W/get-cosign.log"))"
	else
		cos() { SIGSTORE_NO_CACHE=1 TUF_ROOT=$W/tuf "$COSIGN" "$@" --allow-http-registry --insecure-ignore-tlog; }
		check "cosign verify (index)" cos verify --key "$W/k.pub" "$R/img1@$D1"
		check "cosign verify (amd64 manifest)" cos verify --key "$W/k.pub" "$R/img1@$AMD1"
		check "cosign verify-attestation --type spdxjson" cos verify-attestation --key "$W/k.pub" --type spdxjson "$R/img1@$AMD1"
		check "cosign verify-attestation --type slsaprovenance1" cos verify-attestation --key "$W/k.pub" --type slsaprovenance1 "$R/img1@$AMD1"
		"$PARE" -q keygen --no-password -o "$W/other" || true
		check_fails "cosign rejects another key" "no matching signatures" cos verify --key "$W/other.pub" "$R/img1@$D1"
	fi
fi

# ---- TLS verified by default; bad references -----------------------------------------------
check_fails "TLS is verified unless --insecure names the host" "TLS is verified.*--insecure $R" \
	env PARE_REGISTRY_TRIES=1 "$PARE" push "$W/L1" "$R/img1:tls"
check_fails "--insecure for another host does not count" "TLS is verified" \
	env PARE_REGISTRY_TRIES=1 "$PARE" push --insecure 127.0.0.1:1 "$W/L1" "$R/img1:tls"
check_fails "bad reference" "bad image reference 'img1:v1'" "$PARE" push "$W/L1" img1:v1
check_fails "bad repository name" "bad repository name 'Img1'" "$PARE" push "$W/L1" "$R/Img1"
check_fails "digest reference must match the layout" "names sha256:0{64}, but the layout's image is" \
	"$PARE" push --insecure "$R" "$W/L1" "$R/img1@sha256:$(printf '0%.0s' {1..64})"
check_fails "password only from stdin" "--username needs --password-stdin" "$PARE" push --username u "$W/L1" "$R/img1"

# ---- a registry killed mid-push, restarted: the next push finishes, skipping what landed ----
P2=$(free_port)
start_registry kill "$P2" || fail "registry (kill) starts"
K=127.0.0.1:$P2
# wait_stopped PID: until the process is stopped (state T) or gone
wait_stopped() {
	local i
	for ((i = 0; i < 400; i++)); do
		[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == T ]] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
PARE_PUSH_DEBUG_STOP=blob:5 PARE_REGISTRY_TRIES=2 "$PARE" push --insecure "$K" --json "$W/L1" "$K/img1:v1" \
	>"$W/kill1.out" 2>"$W/kill1.err" &
pid=$!
if wait_stopped "$pid"; then
	ok "push stopped after 5 blobs"
	stop_registry kill
	kill -CONT "$pid"
	rc=0
	wait "$pid" || rc=$?
	check_eq "push against the killed registry fails (exit 2)" 2 "$rc"
	check "the error names the registry and the connection failure" \
		grep -Eq "registry $K: .*(Couldn't connect|connect|Failure when receiving)" "$W/kill1.err"
	start_registry kill "$P2" || fail "registry (kill) restarts"
	if out=$("$PARE" push --insecure "$K" --json "$W/L1" "$K/img1:v1" 2>"$W/kill1b.err"); then
		ok "push after the restart finishes"
		check "the finished blobs were skipped" test "$(jq .blobs_skipped <<<"$out")" -ge 5
		check_eq "the rest was uploaded, each blob once" "$(blobs "$W/L1" | wc -l)" "$(total <<<"$out")"
	else
		fail "push after the restart finishes" "$(cat "$W/kill1b.err")"
	fi
	if interop 2 "skopeo reads the resumed push, same digest"; then
		check "skopeo reads the resumed push" skopeo copy -q --all --src-tls-verify=false "docker://$K/img1:v1" "oci:$W/S3:v1"
		check_eq "resumed push: same digest" "$D1" "$(jq -r '.manifests[0].digest' "$W/S3/index.json")"
	fi
else
	fail "push stopped after 5 blobs" "$(cat "$W/kill1.err")"
	kill -9 "$pid" 2>/dev/null
fi

# Chunked upload, registry killed mid-blob and restarted while pare backs off:
# pare asks the upload's Range and goes on from there.
BIG=$(for m in $(jq -r '.manifests[].digest' "$W/L1/blobs/sha256/${D1#sha256:}"); do
	jq -r '.layers[] | "\(.size) \(.digest)"' "$W/L1/blobs/sha256/${m#sha256:}"; done | sort -n | tail -1)
check "a layer big enough for chunks (> 64 KiB)" test "${BIG%% *}" -gt 65536
PARE_PUSH_DEBUG_STOP=chunk:2 PARE_REGISTRY_BACKOFF_MS=300 PARE_REGISTRY_TRIES=6 \
	"$PARE" push --insecure "$K" --json --chunk-size 16384 "$W/L1" "$K/chunked:v1" >"$W/kill2.out" 2>"$W/kill2.err" &
pid=$!
if wait_stopped "$pid"; then
	ok "push stopped after 2 chunks"
	stop_registry kill
	kill -CONT "$pid"
	start_registry kill "$P2" || fail "registry (kill) restarts again"
	rc=0
	wait "$pid" || rc=$?
	if ((rc == 0)); then
		ok "chunked push survives the restart"
		check "it resumed from the registry's Range" test "$(jq .chunk_resumes "$W/kill2.out")" -ge 1
		check "the log says where it resumed" grep -q "resuming sha256:.* at byte" "$W/kill2.err"
	else
		fail "chunked push survives the restart" "$(cat "$W/kill2.err")"
	fi
	if interop 3 "skopeo reads the chunked push, same digest, same blobs"; then
		check "skopeo reads the chunked push" skopeo copy -q --all --src-tls-verify=false "docker://$K/chunked:v1" "oci:$W/S4:v1"
		check_eq "chunked push: same digest" "$D1" "$(jq -r '.manifests[0].digest' "$W/S4/index.json")"
		check "chunked push: same blobs" diff <(img_blobs "$W/L1") <(img_blobs "$W/S4")
	fi
else
	fail "push stopped after 2 chunks" "$(cat "$W/kill2.err")"
	kill -9 "$pid" 2>/dev/null
fi

# A blob corrupted in the registry's storage: pull refuses it, writes nothing.
LB=$(jq -r '.layers[0].digest' "$W/L1/blobs/sha256/${AMD1#sha256:}")
f=$W/kill.data/docker/registry/v2/blobs/sha256/${LB:7:2}/${LB#sha256:}/data
if [[ -f $f ]]; then
	printf 'x' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
	check_fails "pull: a corrupted blob is refused" "blob $LB: got [0-9]+ bytes with digest" \
		"$PARE" pull --insecure "$K" "$K/img1:v1" "$W/P3"
	check "pull: nothing written" test ! -e "$W/P3"
	check "pull: no temporary directory left" test -z "$(ls -d "$W"/P3.pull-* 2>/dev/null)"
else
	fail "registry storage layout as expected" "no $f"
fi

# ---- basic auth (htpasswd, bcrypt) -----------------------------------------------------------
htpasswd -Bbc "$W/htpasswd" alice 's3cret-Pa55' 2>/dev/null
P3=$(free_port)
start_registry basic "$P3" "auth:
  htpasswd:
    realm: pare-test
    path: $W/htpasswd" || fail "registry (basic) starts"
B=127.0.0.1:$P3
bpush() { "$PARE" --verbose push --insecure "$B" --json "$@"; }
if out=$(printf 's3cret-Pa55\n' | bpush --username alice --password-stdin "$W/L1" "$B/img1:v1" 2>"$W/basic.err"); then
	ok "basic auth: push with --username/--password-stdin"
	check_eq "basic auth: digest" "$D1" "$(jq -r .digest <<<"$out")"
else
	fail "basic auth: push with --username/--password-stdin" "$(cat "$W/basic.err")"
fi
if interop 1 "basic auth: skopeo reads it with the same credentials"; then
	check "basic auth: skopeo reads it with the same credentials" skopeo copy -q --all --src-tls-verify=false \
		--src-creds 'alice:s3cret-Pa55' "docker://$B/img1:v1" "oci:$W/S5:v1"
fi
check_fails "basic auth: wrong password is a clear 401" \
	"registry $B: GET /v2/: HTTP 401 Unauthorized .*wrong username or password" \
	sh -c "printf 'nope' | '$PARE' push --insecure $B --username alice --password-stdin '$W/L1' $B/img1:v1"
check_fails "basic auth: no credentials is a clear 401" "HTTP 401 Unauthorized.*no credentials" \
	"$PARE" push --insecure "$B" "$W/L1" "$B/img1:v1"
mkdir -p "$W/dockercfg"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$B" "$(printf 'alice:s3cret-Pa55' | base64)" >"$W/dockercfg/config.json"
if out=$(DOCKER_CONFIG=$W/dockercfg "$PARE" --verbose pull --insecure "$B" "$B/img1:v1" "$W/P4" 2>"$W/basic2.err"); then
	ok "basic auth: credentials from \$DOCKER_CONFIG/config.json"
	check "basic auth: pulled layout verifies" "$PARE" verify --key "$W/k.pub" "$W/P4"
else
	fail "basic auth: credentials from \$DOCKER_CONFIG/config.json" "$(cat "$W/basic2.err")"
fi
mkdir -p "$HOME/.docker"
printf '{"auths":{"https://%s/v1/":{"auth":"%s"}}}\n' "$B" "$(printf 'alice:wrong' | base64)" >"$HOME/.docker/config.json"
check_fails "basic auth: wrong password from ~/.docker/config.json" "401 Unauthorized.*wrong username or password" \
	"$PARE" pull --insecure "$B" "$B/img1:v1" "$W/P5"
rm -f "$HOME/.docker/config.json"
# ---- docker credential helpers (credHelpers / credsStore), a real helper program on PATH -----
mkdir -p "$W/helpers" "$W/helpercfg"
# docker-credential-pare-test get: the host on stdin, the answer from $W/helper.answer
# ("ok", "notfound", "fail" or "token"), the host it was asked for in $W/helper.asked
cat >"$W/helpers/docker-credential-pare-test" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 3
cat >"$W/helper.asked"
case \$(cat "$W/helper.answer") in
notfound) echo "credentials not found in native keychain"; exit 1 ;;
fail) echo "keychain locked: run unlock-it first"; exit 1 ;;
token) printf '{"ServerURL":"%s","Username":"<token>","Secret":"id-t0ken-S3cret"}' "$B" ;;
ok) printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret-Pa55"}' "$B" ;;
esac
EOF
chmod +x "$W/helpers/docker-credential-pare-test"
hpull() { # OUT: pull img1 with $W/helpercfg/config.json, the helper on PATH
	DOCKER_CONFIG=$W/helpercfg PATH=$W/helpers:$PATH "$PARE" pull --insecure "$B" "$B/img1:v1" "$1"
}
printf '{"credHelpers":{"%s":"pare-test"}}\n' "$B" >"$W/helpercfg/config.json"
echo ok >"$W/helper.answer"
if hpull "$W/P6" >/dev/null 2>"$W/helper.err"; then
	ok "credHelpers: credentials from docker-credential-pare-test"
	check_eq "credHelpers: the helper was asked for the registry host" "$B" "$(cat "$W/helper.asked")"
else
	fail "credHelpers: credentials from docker-credential-pare-test" "$(cat "$W/helper.err")"
fi
printf '{"credsStore":"pare-test","auths":{"%s":{}}}\n' "$B" >"$W/helpercfg/config.json"
check "credsStore: the default helper for every registry" hpull "$W/P7"
echo notfound >"$W/helper.answer"
check_fails "credsStore: the helper knows no credentials: anonymous, a clear 401" \
	"HTTP 401 Unauthorized.*no credentials" hpull "$W/PH"
echo fail >"$W/helper.answer"
check_fails "a failing helper: one line naming it and its message" \
	"^pare: .*config.json: credential helper docker-credential-pare-test get failed for $B \(exit 1\): keychain locked: run unlock-it first$" \
	hpull "$W/PH"
echo token >"$W/helper.answer"
check_fails "an identity token (username <token>): refused, clearly" \
	"credential helper docker-credential-pare-test holds an identity token for $B .*not supported" hpull "$W/PH"
printf '{"credHelpers":{"%s":"pare-missing"}}\n' "$B" >"$W/helpercfg/config.json"
check_fails "a helper not on PATH: named" \
	"credential helper docker-credential-pare-missing for $B cannot run: .*not on PATH" hpull "$W/PH"
[[ ! -e $W/PH ]] && ok "credential helper failures write nothing" || fail "credential helper failures write nothing" "$(ls -la "$W/PH")"
out=$(echo token >"$W/helper.answer"; printf '{"credsStore":"pare-test"}\n' >"$W/helpercfg/config.json"; hpull "$W/PH" 2>&1) || true
[[ $out != *s3cret* && $out != *id-t0ken* ]] && ok "no helper secret printed" || fail "no helper secret printed" "$out"
# ---- bearer tokens: docker-registry behind a real token server (tests/fixtures/tokenserver) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/tok.key" \
	-out "$W/tok.crt" -days 2 -subj /CN=pare-test-token 2>/dev/null
TOKEN_TTL_FILE=$W/tok.ttl TOKEN_READONLY='reader:r3ad-only' python3 "$PARE_SRC/tests/fixtures/tokenserver" "$W/tok.key" "$W/tok.crt" pare-test-issuer pare-registry \
	'bob:t0ken-Pa55' "$W/tok.port" "$W/tok.requests" $$ >"$W/tok.log" 2>&1 &
echo $! >"$W/tok.pid"
for ((i = 0; i < 200; i++)); do [[ -s $W/tok.port ]] && break; sleep 0.05; done
TP=$(cat "$W/tok.port" 2>/dev/null)
P4=$(free_port)
if [[ -n $TP ]] && start_registry token "$P4" "auth:
  token:
    realm: http://127.0.0.1:$TP/token
    service: pare-registry
    issuer: pare-test-issuer
    rootcertbundle: $W/tok.crt"; then
	T=127.0.0.1:$P4
	tpush() { "$PARE" --verbose push --insecure "$T" --insecure "127.0.0.1:$TP" --json "$@"; }
	if out=$(printf 't0ken-Pa55' | tpush --username bob --password-stdin "$W/L1" "$T/tok/img1:v1" 2>"$W/token.err"); then
		ok "token auth: push"
		check_eq "token auth: digest" "$D1" "$(jq -r .digest <<<"$out")"
		check "token auth: the token server was asked for push scope with credentials" \
			grep -q "scopes=repository:tok/img1:pull,push creds=ok" "$W/tok.requests"
	else
		fail "token auth: push" "$(cat "$W/token.err"; cat "$W/tok.log")"
	fi
	if interop 2 "token auth: skopeo reads it, same digest"; then
		check "token auth: skopeo reads it" skopeo copy -q --all --src-tls-verify=false \
			--src-creds 'bob:t0ken-Pa55' "docker://$T/tok/img1:v1" "oci:$W/S6:v1"
		check_eq "token auth: skopeo sees the same digest" "$D1" "$(jq -r '.manifests[0].digest' "$W/S6/index.json")"
	fi
	if printf 't0ken-Pa55' | "$PARE" -q pull --insecure "$T" --insecure "127.0.0.1:$TP" --username bob --password-stdin \
		"$T/tok/img1:v1" "$W/P6" 2>"$W/token2.err"; then
		ok "token auth: pull"
		check "token auth: pulled layout verifies" "$PARE" verify --key "$W/k.pub" "$W/P6"
	else
		fail "token auth: pull" "$(cat "$W/token2.err")"
	fi
	check_fails "token auth: wrong password is a clear 401 from the token server" \
		"token server http://127.0.0.1:$TP/token: HTTP 401 Unauthorized \(UNAUTHORIZED: invalid username or password\).*wrong username or password" \
		sh -c "printf nope | '$PARE' pull --insecure $T --insecure 127.0.0.1:$TP --username bob --password-stdin $T/tok/img1:v1 '$W/P7'"
	check_fails "token auth: anonymous gets a clear 401" "registry $T: GET /v2/tok/img1/manifests/v1: HTTP 401 Unauthorized.*no credentials" \
		"$PARE" pull --insecure "$T" --insecure "127.0.0.1:$TP" "$T/tok/img1:v1" "$W/P7"
	check_fails "token auth: an http realm needs --insecure for its host" "token realm http://127.0.0.1:$TP/token is not https" \
		sh -c "printf t0ken-Pa55 | '$PARE' pull --insecure $T --username bob --password-stdin $T/tok/img1:v1 '$W/P7'"
	check "token auth: a pull-only user can pull" sh -c "printf r3ad-only | '$PARE' -q pull --insecure $T \
		--insecure 127.0.0.1:$TP --username reader --password-stdin $T/tok/img1:v1 '$W/P12'"
	check_fails "token auth: a pull-only user cannot push (clear 401, insufficient_scope)" \
		"registry $T: POST /v2/tok/img1/blobs/uploads/: HTTP 401 Unauthorized.*do not allow this \(insufficient_scope\)" \
		sh -c "printf r3ad-only | '$PARE' push --insecure $T --insecure 127.0.0.1:$TP --username reader --password-stdin '$W/L2' $T/tok/img1:v9"
	# A token that expires mid-push: the registry's 401 makes pare fetch a fresh one.
	echo 2 >"$W/tok.ttl"
	n0=$(grep -c "scopes=repository:tok/img2:pull,push creds=ok" "$W/tok.requests" || true)
	printf 't0ken-Pa55' | PARE_PUSH_DEBUG_STOP=blob:2 "$PARE" push --insecure "$T" --insecure "127.0.0.1:$TP" \
		--username bob --password-stdin --json "$W/L2" "$T/tok/img2:v1" >"$W/expire.out" 2>"$W/expire.err" &
	pid=$!
	if wait_stopped "$pid"; then
		sleep 3 # deliberately: longer than the token's lifetime
		kill -CONT "$pid"
		if wait "$pid"; then
			ok "token expired mid-push: the push finishes"
			check "token expired mid-push: a second token was fetched" \
				test "$(grep -c "scopes=repository:tok/img2:pull,push creds=ok" "$W/tok.requests")" -ge $((n0 + 2))
			check_eq "token expired mid-push: digest" "$D2" "$(jq -r .digest "$W/expire.out")"
		else
			fail "token expired mid-push: the push finishes" "$(cat "$W/expire.err")"
		fi
	else
		fail "token expired mid-push: push stopped" "$(cat "$W/expire.err")"
		kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$W/tok.ttl"
	check "no token secret in any output" sh -c "! grep -l 't0ken-Pa55' '$W'/*.err 2>/dev/null"
else
	fail "token server and registry start" "$(cat "$W/tok.log" "$W/token.log" 2>/dev/null)"
fi

# ---- tags from the recipe ------------------------------------------------------------------
# `tags:` in the recipe: the first is the layout's ref name, a push without a tag in REF pushes
# them all; a tag in REF is an explicit choice and pushes only that one.
P9=$(free_port)
if start_registry tags "$P9"; then
	RT=127.0.0.1:$P9
	ARCHS="amd64" fixture_recipe tagged stable "hello" "tags: [\"3.11\", stable, latest]"
	if "$PARE" -q lock tagged && DT=$("$PARE" -q build tagged -o "$W/LT"); then
		check_eq "recipe tags: the first is the ref name" 3.11 \
			"$(jq -r --arg d "$DT" '.manifests[] | select(.digest == $d) | .annotations["org.opencontainers.image.ref.name"]' "$W/LT/index.json")"
		check "push without a tag in REF" "$PARE" -q push --insecure "$RT" "$W/LT" "$RT/tagged"
		check_eq "every recipe tag is in the registry (skopeo list-tags)" "3.11 latest stable" \
			"$(skopeo list-tags --tls-verify=false "docker://$RT/tagged" | jq -r '.Tags[] | select(startswith("sha256-") | not)' | sort | xargs)"
		check_eq "each tag names the index digest" "$DT" \
			"$(skopeo inspect --raw --tls-verify=false "docker://$RT/tagged:stable" | sha256sum | sed 's/^/sha256:/; s/ .*//')"
		check "push with a tag in REF" "$PARE" -q push --insecure "$RT" "$W/LT" "$RT/other:v7"
		check_eq "a tag in REF pushes only that tag" "v7" \
			"$(skopeo list-tags --tls-verify=false "docker://$RT/other" | jq -r '.Tags[] | select(startswith("sha256-") | not)' | xargs)"
	else
		fail "lock and build a recipe with tags"
	fi
	fixture_recipe badtag stable "hello" "tags: [\"-x\"]"
	check_fails "an invalid recipe tag is refused with file:line" "badtag.yaml:[0-9]+.*invalid tag" "$PARE" lock badtag
	rm -f "$PARE_RECIPES/badtag.yaml"
	stop_registry tags
else
	fail "docker-registry (tags) starts"
fi

check "no secret in any output" sh -c "! grep -rl 's3cret-Pa55' '$W'/*.err '$W'/*.out 2>/dev/null"

done_testing
