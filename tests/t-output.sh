#!/usr/bin/env bash
# t-output.sh - what pare never deletes (docs/image.md): -o is one image's layout
# (--outroot for several), an output is replaced only when it is a layout or oci-archive
# pare wrote (a user's files, the current directory, a symlink, a regular file, a foreign
# layout made by umoci or skopeo are refused, nothing touched), a signed image is replaced
# only by a signed one, a wrong password fails before anything is built, --tar carries the
# signatures, a failed --push leaves the complete signed layout, pull refuses a foreign DIR.
. "$(dirname "$0")/lib.sh"

need jq skopeo umoci docker-registry curl python3 setsid
fixture_env
export PARE_PASSWORD=right-password PARE_REGISTRY_BACKOFF_MS=50
unset COSIGN_PASSWORD DOCKER_CONFIG
export HOME=$W/home
mkdir -p "$HOME"
cd "$W" || exit 1

# state PATH: every entry under PATH (type, name, link target) and every file's sha256
state() {
	(cd "$1" 2>/dev/null && find . -printf '%y %p %l\n' | sort && find . -type f -print0 | sort -z |
		xargs -0 -r sha256sum) || stat -c '%F %s' "$1" 2>&1 || true
}
stale() { find "$W" -maxdepth 2 -name '*.tmp.*' -o -maxdepth 2 -name '*.old.*' -o -maxdepth 2 -name '*.part.*'; }

fixture_recipe one stable "hello"
fixture_recipe two stable "hello, tzdata"
check "lock" "$PARE" --quiet lock one two
"$PARE" -q keygen -o "$W/k" || fail "keygen"

# --- a user's directory as -o ----------------------------------------------------------------
mkdir -p "$W/user/sub" && echo keep >"$W/user/notes.txt" && echo deep >"$W/user/sub/x"
before=$(state "$W/user")
check_refused "-o DIR with a user's files: check_refused naming the path and the file" \
	"^pare: .*$W/user: not replaced: it holds '(notes.txt|sub)'" "$PARE" --quiet build one -o "$W/user"
check_eq "-o DIR with a user's files: nothing touched" "$before" "$(state "$W/user")"
mkdir -p "$W/cwd" && echo mine >"$W/cwd/mine.txt"
before=$(state "$W/cwd")
check_refused "-o . (the current directory) refused" "not replaced" sh -c 'cd "$1" && exec "$2" --quiet build one -o .' _ "$W/cwd" "$PARE"
check_refused "-o \$PWD (the current directory by name) refused" "not replaced: it holds 'mine.txt'" \
	sh -c 'cd "$1" && exec "$2" --quiet build one -o "$PWD"' _ "$W/cwd" "$PARE"
check_eq "the current directory: nothing touched" "$before" "$(state "$W/cwd")"

# --- symlink, regular file, foreign layouts ------------------------------------------------------
mkdir -p "$W/target" && echo t >"$W/target/file" && ln -s "$W/target" "$W/link"
before=$(state "$W/target")
check_refused "-o a symbolic link refused" "link: not replaced: it is a symbolic link" "$PARE" --quiet build one -o "$W/link"
check "the symbolic link is still one" test -L "$W/link"
check_eq "the link's target: nothing touched" "$before" "$(state "$W/target")"
echo precious >"$W/file"
check_refused "-o a regular file refused" "file: not replaced: it is a file" "$PARE" --quiet build one -o "$W/file"
check_eq "the regular file: unchanged" precious "$(cat "$W/file")"
umoci init --layout "$W/umoci" >/dev/null 2>&1 || fail "umoci init"
before=$(state "$W/umoci")
check_refused "a foreign OCI layout (umoci init) refused" "umoci: not replaced: it is not an image layout pare wrote" \
	"$PARE" --quiet build one -o "$W/umoci"
check_eq "the umoci layout: nothing touched" "$before" "$(state "$W/umoci")"
check "no temporary left next to the outputs" test -z "$(stale)"

# --- empty dir, own layouts, the marker, layouts of earlier pare versions ---------------------------
mkdir -p "$W/empty"
D1=$("$PARE" --quiet build one -o "$W/empty") || fail "an empty directory is used"
check_eq "the layout carries pare's marker (index.json, top level)" 1 \
	"$(jq -r '.annotations["dev.pare.layout"]' "$W/empty/index.json")"
check_eq "the marker moves no digest: index.json names the index digest printed" "$D1" \
	"$(jq -r '.manifests[0].digest' "$W/empty/index.json")"
check "skopeo reads the marked layout" skopeo inspect "oci:$W/empty:latest"
check "a rebuild replaces pare's own layout" "$PARE" --quiet build one -o "$W/empty"
skopeo copy -q "oci:$W/empty:latest" "oci:$W/skopeo:latest" 2>/dev/null || fail "skopeo copy to a layout"
before=$(state "$W/skopeo")
check_refused "a foreign layout (skopeo copy of a pare image) refused" "skopeo: not replaced: it is not an image layout pare wrote" \
	"$PARE" --quiet build one -o "$W/skopeo"
check_eq "the skopeo layout: nothing touched" "$before" "$(state "$W/skopeo")"
cp -a "$W/empty" "$W/legacy" || true
jq -c 'del(.annotations)' "$W/empty/index.json" >"$W/legacy/index.json" || true
check "a layout of an earlier pare (no marker, dev.pare.* entries) is replaced" "$PARE" --quiet build one -o "$W/legacy"
echo mine >"$W/empty/README"
before=$(state "$W/empty")
check_refused "pare's layout with a file added refused" "empty: not replaced: it holds 'README'" "$PARE" --quiet build one -o "$W/empty"
check_eq "…and nothing touched" "$before" "$(state "$W/empty")"

# --- several recipes: --outroot ------------------------------------------------------------------
check_refused "--all -o check_refused (use --outroot)" "-o names one image's layout.*--outroot" "$PARE" --quiet build --all -o "$W/all"
check_refused "two recipes with -o refused" "--outroot" "$PARE" --quiet build one two -o "$W/all"
check "…nothing created" test ! -e "$W/all"
check "build --all --outroot DIR" "$PARE" --quiet build --all --outroot "$W/all"
check "--outroot DIR: DIR/NAME each" test -f "$W/all/one/index.json" -a -f "$W/all/two/index.json"
before=$(state "$W/all")
check_refused "build one -o OUTROOT (the other images in it) refused" "all: not replaced: it holds '(one|two)'" \
	"$PARE" --quiet build one -o "$W/all"
check_eq "…the other images kept" "$before" "$(state "$W/all")"
two_before=$(state "$W/all/two")
check "build one --outroot DIR" "$PARE" --quiet build one --outroot "$W/all"
check_eq "…two untouched" "$two_before" "$(state "$W/all/two")"
check "-o DIR/NAME replaces that image" "$PARE" --quiet build one -o "$W/all/one/"
check_eq "…two still untouched" "$two_before" "$(state "$W/all/two")"

# --- --tar ---------------------------------------------------------------------------------------
mkdir -p "$W/tdir" && echo x >"$W/tdir/x"
check_refused "--tar onto a directory refused" "tdir: not replaced: it is a directory" "$PARE" --quiet build one --tar "$W/tdir"
check_eq "…the directory kept" x "$(cat "$W/tdir/x")"
ln -s "$W/file" "$W/tlink"
check_refused "--tar onto a symbolic link refused" "tlink: not replaced: it is a symbolic link" "$PARE" --quiet build one --tar "$W/tlink"
check_eq "…the link's target kept" precious "$(cat "$W/file")"
check_refused "--tar onto a foreign file refused" "file: not replaced: it is not an oci-archive pare wrote" \
	"$PARE" --quiet build one --tar "$W/file"
check_eq "…the file kept" precious "$(cat "$W/file")"
: >"$W/empty.tar"
check "--tar onto an empty file" "$PARE" --quiet build one --tar "$W/empty.tar"
check "--tar over pare's own oci-archive" "$PARE" --quiet build one --tar "$W/empty.tar"
check "no temporary left next to the outputs" test -z "$(stale)"

# --- signed stays signed -----------------------------------------------------------------------
DS=$("$PARE" --quiet build one -o "$W/signed" --sign-key "$W/k.key") || fail "build --sign-key"
check "the signed layout verifies" "$PARE" --quiet verify --key "$W/k.pub" "$W/signed"
before=$(state "$W/signed")
# a recipe never built: a wrong password must not even fetch its .debs
fixture_recipe three stable "hello, base-files"
"$PARE" --quiet lock three >/dev/null || fail "lock three"
check_refused "a wrong password: refused" "wrong password" env PARE_PASSWORD=wrong "$PARE" --quiet build one -o "$W/signed" --sign-key "$W/k.key"
# CPU time (user + sys): the wall clock of a loaded 2-core machine says little
TIMEFORMAT='%R %U %S'
read -r t_real t_user t_sys < <({ time env PARE_PASSWORD=wrong "$PARE" --quiet build one -o "$W/signed" \
	--sign-key "$W/k.key" >/dev/null 2>&1; } 2>&1) || true
check "…in well under a second (${t_user:-?} s user + ${t_sys:-?} s sys, ${t_real:-?} s wall)" \
	awk -v u="${t_user:-9}" -v s="${t_sys:-9}" 'BEGIN { exit !(u + s < 0.5) }'
check_eq "…the signed image kept byte for byte" "$before" "$(state "$W/signed")"
check_refused "no password (no terminal): refused" "password" setsid -w env -u PARE_PASSWORD "$PARE" --quiet build one -o "$W/signed" --sign-key "$W/k.key"
check_eq "…the signed image kept byte for byte" "$before" "$(state "$W/signed")"
debs() { { find "$W/cache" -name '*.deb'; find "$W/cache/debs" -type f; } 2>/dev/null | wc -l || true; }
debs_before=$(debs)
check_refused "a wrong password: nothing built (another recipe)" "wrong password" \
	env PARE_PASSWORD=wrong "$PARE" --quiet build three -o "$W/three" --sign-key "$W/k.key"
check "…no output" test ! -e "$W/three"
check_eq "…nothing fetched" "$debs_before" "$(debs)"
check_refused "an unsigned rebuild over a signed layout refused" "signed: not replaced: it holds a signed image.*--unsigned-ok" \
	"$PARE" --quiet build one -o "$W/signed"
check_eq "…the signed image kept byte for byte" "$before" "$(state "$W/signed")"
check "a signed rebuild over it" "$PARE" --quiet build one -o "$W/signed" --sign-key "$W/k.key"
check "…verifies" "$PARE" --quiet verify --key "$W/k.pub" "$W/signed"
cp -a "$W/signed" "$W/signed2" || true
check "--unsigned-ok replaces it unsigned" "$PARE" --quiet build one -o "$W/signed2" --unsigned-ok
check_eq "…no signature left" 0 "$(jq '[.manifests[].annotations["org.opencontainers.image.ref.name"] // "" | select(endswith(".sig"))] | length' "$W/signed2/index.json")"

# --- --tar carries the signatures ----------------------------------------------------------------
check "build --tar --sign-key" "$PARE" --quiet build one --tar "$W/s.tar" --sign-key "$W/k.key"
tar -xOf "$W/s.tar" index.json >"$W/s.index.json" 2>/dev/null || fail "index.json in the tar"
check "the tar's index.json names .sig and .att tags" jq -es \
	'.[0] | [.manifests[].annotations["org.opencontainers.image.ref.name"] // ""] | (map(select(endswith(".sig"))) | length) >= 2 and (map(select(endswith(".att"))) | length) >= 1' \
	"$W/s.index.json"
check "every blob the tar's index.json names is in the tar" sh -c '
	n=0; for d in $(jq -r ".manifests[].digest" "$1"); do tar -tf "$2" "blobs/sha256/${d#sha256:}" >/dev/null || exit 1; n=$((n + 1)); done
	test "$n" -ge 4' _ "$W/s.index.json" "$W/s.tar"
check "skopeo reads the signed oci-archive" skopeo inspect "oci-archive:$W/s.tar:latest"
mkdir -p "$W/s.x" && { tar -xf "$W/s.tar" -C "$W/s.x" || true; }
check "pare verify on the unpacked signed tar" "$PARE" --quiet verify --key "$W/k.pub" "$W/s.x"
tbefore=$(sha256sum <"$W/s.tar" 2>&1 || true)
check_refused "an unsigned --tar over a signed one refused" "s.tar: not replaced: it holds a signed image" "$PARE" --quiet build one --tar "$W/s.tar"
check_eq "…the signed tar kept" "$tbefore" "$(sha256sum <"$W/s.tar" 2>&1 || true)"

# --- a push that fails: the layout is complete and signed, the message says how to retry ------------------
DEAD=127.0.0.1:$(free_port)
check_refused "--push to a registry that is down: exit 2, one line" \
	"is complete and signed, only the push failed \(retry: pare push .*pushed $DEAD/one:v1\)" \
	"$PARE" --quiet build one -o "$W/pushed" --sign-key "$W/k.key" --push "$DEAD/one:v1" --insecure "$DEAD"
check "…the layout is in place and verifies" "$PARE" --quiet verify --key "$W/k.pub" "$W/pushed"

# --- pull: a foreign DIR is refused ---------------------------------------------------------------
registry_start reg || fail "a registry on loopback"
R=$REGISTRY
check "push the signed layout" "$PARE" --quiet push --insecure "$R" "$W/pushed" "$R/one:v1"
mkdir -p "$W/pulldir" && echo keep >"$W/pulldir/notes.txt"
before=$(state "$W/pulldir")
check_refused "pull into a directory with a user's file refused" "pulldir: not replaced: it holds 'notes.txt'" \
	"$PARE" --quiet pull --insecure "$R" "$R/one:v1" "$W/pulldir"
check_eq "…nothing touched" "$before" "$(state "$W/pulldir")"
check_refused "pull into a foreign layout (umoci) refused" "umoci: not replaced" \
	"$PARE" --quiet pull --insecure "$R" "$R/one:v1" "$W/umoci"
check "pull into a new directory" "$PARE" --quiet pull --insecure "$R" "$R/one:v1" "$W/pulled"
check_eq "the pulled layout carries pare's marker" 1 "$(jq -r '.annotations["dev.pare.layout"]' "$W/pulled/index.json")"
check "pull again over pare's own pulled layout" "$PARE" --quiet pull --insecure "$R" "$R/one:v1" "$W/pulled"
check "…verifies" "$PARE" --quiet verify --key "$W/k.pub" "$W/pulled"
check "no temporary left next to the outputs" test -z "$(stale)"

# --- update: --outroot (-o its alias), what it replaces, signed stays signed ----------------------------
mkdir -p "$W/up2/one" && echo keep >"$W/up2/one/notes.txt"
check_refused "update: OUTROOT/NAME with a user's file refused" "up2/one: not replaced: it holds 'notes.txt'" \
	"$PARE" --quiet update --outroot "$W/up2" one
check_eq "…the file kept" keep "$(cat "$W/up2/one/notes.txt")"
check "update --outroot DIR --sign-key builds the missing image" "$PARE" --quiet update --outroot "$W/up" --sign-key "$W/k.key" one
check "…signed" "$PARE" --quiet verify --key "$W/k.pub" "$W/up/one"
before=$(state "$W/up/one")
lock_before=$(sha256sum <"$PARE_LOCK")
printf 'labels: {changed: "yes"}\n' >>"$PARE_RECIPES/one.yaml"
check_refused "update without --sign-key over a signed image refused" "up/one: not replaced: it holds a signed image" \
	"$PARE" --quiet update --outroot "$W/up" one
check_refused "update: a wrong password refused" "wrong password" \
	env PARE_PASSWORD=wrong "$PARE" --quiet update --outroot "$W/up" --sign-key "$W/k.key" one
check_eq "…the signed image kept byte for byte" "$before" "$(state "$W/up/one")"
check_eq "…recipes.lock kept" "$lock_before" "$(sha256sum <"$PARE_LOCK")"
check "update -o (an alias of --outroot) --sign-key rebuilds it signed" "$PARE" --quiet update -o "$W/up" --sign-key "$W/k.key" one
check "…verifies" "$PARE" --quiet verify --key "$W/k.pub" "$W/up/one"
check "no temporary left next to the outputs" test -z "$(find "$W/up" "$W/up2" -name '.*.update*')"

done_testing
