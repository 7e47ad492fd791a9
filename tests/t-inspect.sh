#!/usr/bin/env bash
# t-inspect.sh - pare inspect and pare diff on fixture images: a layout, an oci-archive
# (read in place) and a REF pushed to a real docker-registry; per-arch digests against
# skopeo's reading of the same layout; a rebuild whose lock moved a package version and
# added a package; equal images (exit 0); bad inputs (one line, exit 2).
. "$(dirname "$0")/lib.sh"

need jq skopeo docker-registry curl python3
fixture_env
export PARE_PASSWORD=unused PARE_REGISTRY_BACKOFF_MS=5
unset DOCKER_CONFIG
export HOME=$W/home # never the user's ~/.docker/config.json
mkdir -p "$HOME"
HOST=$(dpkg --print-architecture)
cd "$W" || exit 1

# ---- a signed two-arch image: layout and oci-archive ------------------------------------
ARCHS="amd64, arm64" fixture_recipe img1 stable "hello, ca-certificates"
"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
"$PARE" -q lock img1 || fail "lock img1"
D1=$("$PARE" -q build img1 -o "$W/L1" --sign-key "$W/k.key") || fail "build img1"
"$PARE" -q build img1 --tar "$W/L1.tar" --sign-key "$W/k.key" >/dev/null || fail "build img1 --tar"

J=$("$PARE" inspect --json "$W/L1") || fail "inspect --json LAYOUT"
check_eq "inspect: the image digest is the build's" "$D1" "$(jq -r .digest <<<"$J")"
check_eq "inspect: kind layout" layout "$(jq -r .kind <<<"$J")"
# skopeo reads the same layout: its index's per-arch digests are inspect's
want=$(skopeo inspect --raw "oci:$W/L1:latest" | jq -r '.manifests[] | "\(.platform.architecture) \(.digest)"' | sort)
check_eq "inspect: per-arch manifest digests are skopeo's" "$want" \
	"$(jq -r '.platforms[] | "\(.architecture) \(.digest)"' <<<"$J" | sort)"
AMD=$(jq -r '.platforms[] | select(.architecture == "amd64") | .digest' <<<"$J")
ARM=$(jq -r '.platforms[] | select(.architecture == "arm64") | .digest' <<<"$J")
# config and layers against the manifest and config blobs themselves
M=$W/L1/blobs/sha256/${AMD#sha256:}
C=$W/L1/blobs/sha256/$(jq -r .config.digest "$M" | cut -d: -f2)
check_eq "inspect: layers (digest, size) are the manifest's" \
	"$(jq -c '[.layers[] | [.digest, .size]]' "$M")" \
	"$(jq -c '[.platforms[] | select(.architecture == "amd64") | .layers[] | [.digest, .size]]' <<<"$J")"
check_eq "inspect: user and env are the config's" \
	"$(jq -c '[.config.User, .config.Env]' "$C")" \
	"$(jq -c '.platforms[] | select(.architecture == "amd64") | [.config.user, .config.env]' <<<"$J")"
check_eq "inspect: the hello-src layer holds hello and libhello-data" '["hello","libhello-data"]' \
	"$(jq -c '.platforms[] | select(.architecture == "amd64") | .layers[] | select(.sources == ["hello-src"]) | .packages' <<<"$J")"
check_eq "inspect: packages with versions and arch (the lock's)" \
	"$(jq -c '[.recipes.img1.archs.amd64.packages[] | [.name, .version, .architecture]]' "$W/recipes.lock")" \
	"$(jq -c '[.platforms[] | select(.architecture == "amd64") | .packages[] | [.name, .version, .arch]]' <<<"$J")"
check_eq "inspect: a signature of the index and of each per-arch manifest" \
	"$(printf '%s\n' "$D1" "$AMD" "$ARM" | sort)" \
	"$(jq -r '.signatures[] | select(.kind == "signature") | .binds' <<<"$J" | sort)"
check_eq "inspect: the SLSA provenance binds each per-arch digest" \
	"$(printf '%s\n' "$AMD" "$ARM" | sort)" \
	"$(jq -r '.signatures[] | select(.type == "https://slsa.dev/provenance/v1") | .binds' <<<"$J" | sort)"
H=$("$PARE" inspect "$W/L1") || fail "inspect LAYOUT (table)"
check "inspect: the table has an aligned platform row" grep -Eq "^linux/amd64 +$AMD +[0-9.]+ (B|KiB)\$" <<<"$H"
check "inspect: the table says cosign matches the per-platform digest" grep -q 'slsaprovenance1' <<<"$H"
check "inspect: human-readable layer sizes" grep -Eq '^  [0-9]+ +sha256:[0-9a-f]{64} +[0-9.]+ KiB +hello-src \(hello, libhello-data\)$' <<<"$H"

JT=$("$PARE" inspect --json "$W/L1.tar") || fail "inspect --json OCI-ARCHIVE"
# (signed twice: ECDSA signatures differ from run to run, and so do the .sig/.att manifests)
sans_sigs='del(.source, .kind, .referrers) | .signatures |= map(del(.manifest))'
check_eq "inspect: the oci-archive reads as the layout" \
	"$(jq -c "$sans_sigs" <<<"$J")" "$(jq -c "$sans_sigs" <<<"$JT")"
check_eq "inspect: kind oci-archive" oci-archive "$(jq -r .kind <<<"$JT")"
check_eq "inspect: nothing extracted beside the oci-archive" "L1.tar" "$(cd "$W" && ls -d L1.tar* 2>&1)"
JA=$("$PARE" inspect --platform linux/arm64 --json "$W/L1.tar") || fail "inspect --platform"
check_eq "inspect --platform linux/arm64: one platform" "linux/arm64/v8 $ARM" \
	"$(jq -r '.platforms[] | "\(.platform) \(.digest)"' <<<"$JA")"
check_eq "inspect --platform: the signatures of the index and arm64 only" \
	"$(printf '%s\n' "$D1" "$ARM" | sort -u)" "$(jq -r '.signatures[].binds' <<<"$JA" | sort -u)"

# ---- a REF on a real docker-registry -----------------------------------------------------
start_registry() { # PORT: docker-registry on 127.0.0.1:PORT (the pattern of t-registry.sh)
	local i
	cat >"$W/reg.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $W/reg.data
http:
  addr: 127.0.0.1:$1
  secret: pare-test-inspect
log:
  level: error
EOF
	docker-registry serve "$W/reg.yml" >>"$W/reg.log" 2>&1 &
	echo $! >"$W/reg.pid"
	for ((i = 0; i < 200; i++)); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/") == 200 ]] && return 0
		kill -0 "$(cat "$W/reg.pid")" 2>/dev/null || break
		sleep 0.05
	done
	cat "$W/reg.log" >&2
	return 1
}
at_exit '[[ -f $W/reg.pid ]] && kill -9 "$(cat "$W/reg.pid")" 2>/dev/null'
P1=$(free_port)
R=127.0.0.1:$P1
if start_registry "$P1"; then
	ok "docker-registry on $R"
	"$PARE" -q push --insecure "$R" "$W/L1" "$R/img1:v1" >/dev/null || fail "push img1"
	mkdir -p "$W/tmp"
	JR=$(TMPDIR=$W/tmp "$PARE" inspect --insecure "$R" --json "$R/img1:v1") || fail "inspect --json REF"
	check_eq "inspect REF: kind registry" registry "$(jq -r .kind <<<"$JR")"
	check_eq "inspect REF: digests, config, layers and packages are the layout's" \
		"$(jq -c '[.digest, .platforms]' <<<"$J")" "$(jq -c '[.digest, .platforms]' <<<"$JR")"
	check_eq "inspect REF: the signatures and attestations are the layout's" \
		"$(jq -c '[.signatures[] | [.kind, .type, .binds]] | sort' <<<"$J")" \
		"$(jq -c '[.signatures[] | [.kind, .type, .binds]] | sort' <<<"$JR")"
	check_eq "inspect REF: no temporary directory left" "" "$(ls -A "$W/tmp")"
	check_fails "inspect REF: http needs --insecure (one line, exit 2)" '^pare: .*127\.0\.0\.1' \
		"$PARE" inspect "$R/img1:v1"
	check_fails "inspect REF: an unknown tag (one line, exit 2)" '^pare: registry .*no such image' \
		"$PARE" inspect --insecure "$R" "$R/img1:nope"
	rc=0
	"$PARE" diff --insecure "$R" "$R/img1:v1" "$W/L1" >"$W/diff-ref.out" || rc=$?
	check_eq "diff REF LAYOUT of the same image: exit 0" 0 "$rc"
	# the image layers are not fetched: with one gone from the registry's storage, pull
	# fails and inspect still reads the image
	L=$(jq -r '.platforms[0].layers[2].digest' <<<"$J")
	rm -f "$W/reg.data/docker/registry/v2/blobs/sha256/${L:7:2}/${L#sha256:}/data"
	check_fails "a layer gone from the registry: pull fails" "$L" \
		"$PARE" pull --insecure "$R" "$R/img1:v1" "$W/pulled"
	check "a layer gone from the registry: inspect REF reads the image without it" \
		"$PARE" inspect --insecure "$R" "$R/img1:v1"
else
	fail "docker-registry starts"
fi

# ---- diff: a rebuild whose lock moved hello to 1.1-1 and added tzdata ----------------------
fixture_recipe app stable "hello"
"$PARE" -q lock app || fail "lock app"
"$PARE" -q build app -o "$W/A1" >/dev/null || fail "build app 1"
cp "$W/recipes.lock" "$W/old.lock"
sed 's/^Version: 1.0-1$/Version: 1.1-1/' "$PARE_SRC/tests/fixtures/packages/hello.pkg" >"$W/hello.pkg"
FIXTURE_DATE="Wed, 04 Jan 2023 00:00:00 UTC" "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/hello.pkg" >/dev/null 2>&1 ||
	fail "upload hello 1.1-1"
fixture_recipe app stable "hello, tzdata"
"$PARE" -q lock app || fail "re-lock app"
"$PARE" -q build app -o "$W/A2" >/dev/null || fail "build app 2"
TZV=$(jq -r --arg a "$HOST" '.recipes.app.archs[$a].packages[] | select(.name == "tzdata") | .version' "$W/recipes.lock")

rc=0
out=$("$PARE" diff "$W/A1" "$W/A2") || rc=$?
check_eq "diff A1 A2: exit 1 (they differ)" 1 "$rc"
check_eq "diff: the package lines" \
	"packages (linux/$HOST): 1 added, 0 removed, 1 changed
  ~ hello 1.0-1 -> 1.1-1 $HOST
  + tzdata $TZV all" \
	"$(grep -A2 '^packages ' <<<"$out")"
check "diff: the glibc layer is reused, hello-src's is new" \
	grep -Eq '^  \+ sha256:[0-9a-f]{64}  [0-9.]+ (B|KiB)  hello-src$' <<<"$out"
check "diff: layers reused and new counted" grep -Eq '^layers: [1-9][0-9]* reused, [1-9][0-9]* new, [1-9][0-9]* removed$' <<<"$out"
check "diff: the size change" grep -Eq '^size: [0-9.]+ [KM]iB -> [0-9.]+ [KM]iB \(\+[0-9.]+ [KM]?i?B\)$' <<<"$out"
JD=$("$PARE" diff --json "$W/A1" "$W/A2") || true
check_eq "diff --json: packages" \
	"[{\"platform\":\"linux/$HOST\",\"change\":\"changed\",\"name\":\"hello\",\"arch\":\"$HOST\",\"from\":\"1.0-1\",\"to\":\"1.1-1\"},{\"platform\":\"linux/$HOST\",\"change\":\"added\",\"name\":\"tzdata\",\"arch\":\"all\",\"from\":null,\"to\":\"$TZV\"}]" \
	"$(jq -c .packages <<<"$JD")"
check_eq "diff --json: equal false, size delta is b - a" "false true" \
	"$(jq -r '"\(.equal) \(.size.delta == .size.b - .size.a)"' <<<"$JD")"
check_eq "diff --json: the glibc layer reused" '["glibc"]' \
	"$(jq -c '[.layers.reused[].sources[]] | map(select(. == "glibc"))' <<<"$JD")"

# a config change alone: the same packages, another working directory
fixture_recipe app stable "hello, tzdata" "workdir: /srv"
"$PARE" -q lock app || fail "re-lock app with workdir"
"$PARE" -q build app -o "$W/A3" >/dev/null || fail "build app 3"
rc=0
out=$("$PARE" diff "$W/A2" "$W/A3") || rc=$?
check_eq "diff A2 A3: exit 1" 1 "$rc"
check_eq "diff: the config line, no package line" "config (linux/$HOST): workdir: / -> /srv" \
	"$(grep -E '^(config|packages) ' <<<"$out")"
check_eq "diff --json: the config change" "[{\"platform\":\"linux/$HOST\",\"field\":\"workdir\",\"from\":\"/\",\"to\":\"/srv\"}]" \
	"$("$PARE" diff --json "$W/A2" "$W/A3" | jq -c .config)"

# lock entries: the current lock and the one from before the re-lock
rc=0
out=$("$PARE" diff "lock:$W/old.lock:app" lock:app) || rc=$?
check_eq "diff lock:FILE:RECIPE lock:RECIPE: exit 1" 1 "$rc"
check_eq "diff of lock entries: the package lines" \
	"  ~ hello 1.0-1 -> 1.1-1 $HOST
  + tzdata $TZV all" "$(grep '^  [-+~] ' <<<"$out")"
rc=0
"$PARE" diff "lock:app@$HOST" "$W/A2" >"$W/diff-lock.out" || rc=$?
check_eq "diff lock:RECIPE@ARCH and its image: exit 0" 0 "$rc"

# equal images
rc=0
out=$("$PARE" diff "$W/L1" "$W/L1.tar") || rc=$?
check_eq "diff of a layout and its oci-archive: exit 0" 0 "$rc"
check "diff of equal images: every layer reused, nothing new" grep -Eq '^layers: [0-9]+ reused, 0 new, 0 removed$' <<<"$out"
check_eq "diff --json of equal images: equal" true "$("$PARE" diff --json "$W/A2" "$W/A2" | jq .equal)"

# ---- bad inputs: one line, exit 2 ----------------------------------------------------------
mkdir -p "$W/notlayout"
one_line() { # DESC ERE CMD...: exit 2 and exactly one line on stderr
	local desc=$1 re=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if ((rc == 2)) && [[ $(wc -l <<<"$err") == 1 ]] && grep -Eq "$re" <<<"$err"; then
		ok "$desc"
	else
		fail "$desc" "exit $rc, stderr:"$'\n'"$err"
	fi
}
one_line "inspect: a directory that is not a layout" "^pare: $W/notlayout: not an OCI image layout" \
	"$PARE" inspect "$W/notlayout"
one_line "inspect: a file that is not an oci-archive" "^pare: $W/k.pub: not an OCI image layout or oci-archive" \
	"$PARE" inspect "$W/k.pub"
one_line "inspect: neither a path nor a reference" "^pare: nothere: no such file or directory" \
	"$PARE" inspect nothere
one_line "inspect --platform: no such platform" "^pare: .*no image for platform linux/s390x" \
	"$PARE" inspect --platform linux/s390x "$W/L1"
one_line "diff: a missing lock entry" "^pare: .*recipes.lock: no entry for recipe 'nope'" \
	"$PARE" diff lock:nope "$W/A1"
one_line "diff: an arch the lock entry does not have" "^pare: .*recipes.lock: recipe 'app' is not locked for s390x" \
	"$PARE" diff lock:app@s390x "$W/A1"
one_line "diff: a lock file that is not there" "^pare: .*$W/none.lock" \
	"$PARE" diff "lock:$W/none.lock:app" "$W/A1"
cp -a "$W/A1" "$W/bad1"
echo '{' >"$W/bad1/index.json"
one_line "inspect: index.json that is not JSON" "^pare: $W/bad1: index.json is not a JSON object" \
	"$PARE" inspect "$W/bad1"
cp -a "$W/A1" "$W/bad2"
m=$(jq -r '.manifests[0].digest' "$W/bad2/index.json" | cut -d: -f2)
m=$(jq -r '.manifests[0].digest' "$W/bad2/blobs/sha256/$m" | cut -d: -f2)
c=$(jq -r .config.digest "$W/bad2/blobs/sha256/$m" | cut -d: -f2)
chmod u+w "$W/bad2/blobs/sha256/$c"
sed -i 's/65532/0/' "$W/bad2/blobs/sha256/$c"
one_line "inspect: a config blob that does not match its digest" "^pare: $W/bad2: blob sha256:$c does not match its digest" \
	"$PARE" inspect "$W/bad2"
one_line "diff: one operand" "^pare: diff: usage: " "$PARE" diff "$W/A1"

done_testing
