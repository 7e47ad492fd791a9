#!/usr/bin/env bash
# t-build.sh - pare build end to end on the signed fixture repository:
# hardening, stripping, setuid, generated files, CA bundle, status.d,
# hostile .debs, tampered .debs, interrupted builds, reproducibility,
# multi-arch, and interop with skopeo, umoci and crun/bwrap.
. "$(dirname "$0")/lib.sh"

need jq openssl
fixture_env --hostile
HOST=$(dpkg --print-architecture)

recipe() { fixture_recipe "$@"; } # the fixture recipe helper of lib.sh
# lock + build NAME into $W/out/NAME; stdout: the index digest
lockbuild() { "$PARE" --quiet lock "$1" >/dev/null && "$PARE" --quiet build "$1" -o "$W/out/$1"; }
blob() { echo "$W/out/$1/blobs/sha256/${2#sha256:}"; }
# platforms NAME: the image index (index.json names it; it names one manifest per arch)
platforms() {
	local i
	i=$(jq -r '.manifests[0] | select(.mediaType == "application/vnd.oci.image.index.v1+json") | .digest' \
		"$W/out/$1/index.json")
	if [ -n "$i" ]; then cat "$(blob "$1" "$i")"; else cat "$W/out/$1/index.json"; fi
}
# manifest NAME [ARCH]: path of the image manifest blob for ARCH
manifest() {
	blob "$1" "$(platforms "$1" | jq -r --arg a "${2:-$HOST}" \
		'.manifests[] | select(.platform.architecture == $a) | .digest' | head -1)"
}
# rootfs NAME ARCH: unpack an image's layers (in order) into $W/rootfs/NAME
rootfs() {
	local d=$W/rootfs/$1 m
	rm -rf "$d" && mkdir -p "$d"
	m=$(manifest "$1" "${2:-}") || return 1
	for l in $(jq -r '.layers[].digest' "$m"); do
		tar -xf "$W/out/$1/blobs/sha256/${l#sha256:}" -C "$d" --no-same-owner 2>/dev/null || return 1
	done
}

# --- hardening: a shell in the closure ------------------------------------------------------
# dash (a package known to ship a shell) is refused by pare lock already (t-lockpolicy.sh);
# a shell the index cannot show (has-busybox ships /bin/busybox) is locked, and the build,
# which checks every file, refuses it
recipe shell stable has-busybox "assume_defaults: false"
check "lock shell" "$PARE" --quiet lock shell
check_fails "has-busybox without allow: [shell] fails naming the package and the shell" \
	'has-busybox: refusing /usr/bin/busybox: a shell is not allowed' "$PARE" --quiet build shell -o "$W/out/shell"
check "no output directory after the refusal" test ! -e "$W/out/shell"
recipe shell-ok stable needs-shell "assume_defaults: false
allow: [shell]"
check "with allow: [shell] it builds" lockbuild shell-ok

# --- non-ASCII package paths, whatever the caller's locale -------------------------------------
recipe utf8 stable utf8-names
check "lock utf8" "$PARE" --quiet lock utf8
check "a non-ASCII path builds under LC_ALL=C" env LC_ALL=C LANG= "$PARE" --quiet build utf8 -o "$W/out/utf8"
rootfs utf8 && check "the non-ASCII file is in the image" test -f "$W/rootfs/utf8/usr/share/utf8-names/Főtanúsítvány.txt"

# --- the hello image: strip, setuid, generated files ------------------------------------------
recipe hello stable "hello, has-docs, has-setuid, ca-certificates, tzdata, base-files, libnonstd"
D1=$(lockbuild hello) || fail "build hello"
check "index digest printed" test "${D1#sha256:}" != "$D1"
rootfs hello || fail "unpack hello"
R=$W/rootfs/hello
check "docs stripped" test ! -e "$R/usr/share/doc/has-docs/README"
check "man pages stripped" test ! -e "$R/usr/share/man/man1/x.1.gz"
check "locales stripped" test ! -e "$R/usr/share/locale/fr/LC_MESSAGES/x.mo"
check "info stripped" test ! -e "$R/usr/share/info/x.info"
check "copyright kept" test -f "$R/usr/share/doc/has-docs/copyright"
check_eq "setuid bit dropped" 755 "$(stat -c %a "$R/usr/bin/suidprog")"
check_eq "setgid bit dropped" 755 "$(stat -c %a "$R/usr/bin/sgidprog")"
check_eq "/etc/passwd" "root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin" "$(cat "$R/etc/passwd")"
check_eq "/etc/group" "root:x:0:
nonroot:x:65532:
nogroup:x:65534:" "$(cat "$R/etc/group")"
top=$(jq -r '.layers[-1].digest' "$(manifest hello)" || true)
listing=$(tar -tvf "$(blob hello "$top")" --numeric-owner || true)
check "/home/nonroot is 0700 65532:65532" grep -Eq '^drwx------ 65532/65532 .* home/nonroot/?$' <<<"$listing"
check "/tmp is 1777" grep -Eq '^drwxrwxrwt 0/0 .* tmp/?$' <<<"$listing"
check_eq "/root is 0700 root (base-files ships it here)" "700 0" "$(stat -c '%a %u' "$R/root")"
check "os-release links to base-files' file" test "$(readlink "$R/etc/os-release")" = ../usr/lib/os-release
check "nsswitch.conf generated" grep -q '^hosts: *files dns' "$R/etc/nsswitch.conf"
B=$R/etc/ssl/certs/ca-certificates.crt
check_eq "CA bundle holds both fixture certificates" 2 "$(grep -c 'BEGIN CERTIFICATE' "$B")"
check_eq "CA bundle = the two .crt files in path order" \
	"$(cat "$REPO"/.content/ca-{1,2}.crt | sha256sum)" "$(sha256sum <"$B")"
# the bundle is made from them: the certificates themselves are not shipped
check "the .crt files are stripped" test ! -e "$R/usr/share/ca-certificates/mozilla/Pare_Fixture_Root_CA_1.crt"
check "openssl reads the bundle" openssl storeutl -noout -certs "$B"
# keep: the certificates ship again, the bundle is the same (made from the
# kept files instead of the stripped ones)
recipe cakeep stable "ca-certificates" 'keep: ["/usr/share/ca-certificates/*"]'
if lockbuild cakeep >/dev/null && rootfs cakeep; then
	check "keep: the .crt files ship" test -f "$W/rootfs/cakeep/usr/share/ca-certificates/mozilla/Pare_Fixture_Root_CA_2.crt"
	check_eq "keep: same bundle" "$(sha256sum <"$B")" \
		"$(sha256sum <"$W/rootfs/cakeep/etc/ssl/certs/ca-certificates.crt")"
else
	fail "build with keep: [/usr/share/ca-certificates/*]"
fi
check "/etc/localtime -> /usr/share/zoneinfo/UTC" test "$(readlink "$R/etc/localtime")" = /usr/share/zoneinfo/UTC
check_eq "/etc/timezone" Etc/UTC "$(cat "$R/etc/timezone")"
check "ld.so.cache for /opt/nonstd/lib" sh -c "/sbin/ldconfig -C '$R/etc/ld.so.cache' -p | grep -q 'libnonstd.so.1 .*=> /opt/nonstd/lib/libnonstd.so.1'"
S=$R/var/lib/dpkg/status.d
check "status.d/hello has the control paragraph" grep -q '^Package: hello$' "$S/hello"
check "status.d/hello says installed" grep -q '^Status: install ok installed$' "$S/hello"
check "status.d/hello.md5sums lists /usr/bin/hello" grep -q ' usr/bin/hello$' "$S/hello.md5sums"
check "md5sums match the image" sh -c "cd '$R' && md5sum --quiet -c '$S/hello.md5sums'"
check "status.d md5sums omit stripped files" sh -c "! grep -q README '$S/has-docs.md5sums'"
check "SPDX and CycloneDX SBOMs attached to the layout" sh -c "\"$PARE\" sbom \"$W/out/hello\" | grep -q SPDX-2.3 && \"$PARE\" sbom --format cyclonedx \"$W/out/hello\" | grep -q CycloneDX"

# --- recipe checks ------------------------------------------------------------------------
recipe notlocked stable hello
check_fails "a recipe missing from the lock is refused" "not in .*pare lock notlocked" "$PARE" --quiet build notlocked -o "$W/out/notlocked"
echo "# edited" >>"$PARE_RECIPES/hello.yaml"
echo "env: {X: '1'}" >>"$PARE_RECIPES/hello.yaml"
check_fails "an edited recipe is refused until relocked" "changed since.*pare lock hello" \
	"$PARE" --quiet build hello -o "$W/out/hello"
recipe hello stable "hello, has-docs, has-setuid, ca-certificates, tzdata, base-files, libnonstd"

# --- reproducibility: cold, warm, another cache ---------------------------------------------
rm -rf "$W/out/hello"
D2=$("$PARE" --quiet build hello -o "$W/out/hello") || fail "warm rebuild"
check_eq "warm rebuild: same index digest" "$D1" "$D2"
D3=$(PARE_CACHE_DIR=$W/cache2 "$PARE" --quiet build hello -o "$W/out/hello-b") || fail "cold rebuild"
check_eq "cold rebuild in another cache dir: same index digest" "$D1" "$D3"
check "layouts are byte-identical" diff -r "$W/out/hello" "$W/out/hello-b"

# --- multi-arch ---------------------------------------------------------------------------
ARCHS="amd64, arm64" recipe multi stable hello
DM=$(lockbuild multi) || fail "build multi"
check_eq "index has two manifests" 2 "$(platforms multi | jq '.manifests | length')"
check_eq "amd64 and arm64" amd64,arm64 "$(platforms multi | jq -r '[.manifests[].platform.architecture] | sort | join(",")')"
D4=$("$PARE" --quiet build multi --arch arm64 -o "$W/out/multi-arm64") || fail "arm64 only"
check_eq "--arch arm64: one manifest" 1 "$(platforms multi-arm64 | jq '.manifests | length')"

# --- recipe accounts and paths, over a real HTTP server, --tar, --all -----------------------
URL=$(serve_http "$REPO" "$W/http.log")
cat >"$PARE_RECIPES/acct.yaml" <<YAML
name: acct
repositories:
  - url: $URL
    suites: [stable]
    components: [main]
    keyring: $REPO/keyring.gpg
archs: [$HOST]
packages: [hello]
accounts:
  users: [{name: app, uid: 1000}]
  groups: [{name: staff, gid: 50, members: [app]}]
paths:
  - {path: /data, type: directory, mode: "0750", uid: 1000, gid: 1000}
  - {path: /usr/bin/hi, type: symlink, target: hello}
YAML
DA=$(PARE_CACHE_DIR=$W/cache-http lockbuild acct) || fail "build acct over http"
check "fetched over HTTP into an empty cache" test -n "$(ls "$W/cache-http/debs/sha256")"
n1=$(grep -c '\.deb HTTP' "$W/http.log" || true)
rm -rf "$W/out/acct"
DA2=$(PARE_CACHE_DIR=$W/cache-http "$PARE" --quiet build acct -o "$W/out/acct") || fail "rebuild acct"
check_eq "warm cache: no .deb fetched again" "$n1" "$(grep -c '\.deb HTTP' "$W/http.log" || true)"
check_eq "warm cache over HTTP: same digest" "$DA" "$DA2"
check "each .deb was fetched once" test "$n1" -eq "$(ls "$W/cache-http/debs/sha256" | wc -l)"
rootfs acct || fail "unpack acct"
check_eq "recipe user in /etc/passwd, sorted by uid" "root:x:0:0:root:/root:/sbin/nologin
app:x:1000:1000:app:/home/app:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin" "$(cat "$W/rootfs/acct/etc/passwd")"
check_eq "recipe group with members in /etc/group" "root:x:0:
staff:x:50:app
app:x:1000:
nonroot:x:65532:
nogroup:x:65534:" "$(cat "$W/rootfs/acct/etc/group")"
top=$(jq -r '.layers[-1].digest' "$(manifest acct)" || true)
listing=$(tar -tvf "$(blob acct "$top")" --numeric-owner || true)
check "/home/app is 0700 1000:1000" grep -Eq '^drwx------ 1000/1000 .* home/app/?$' <<<"$listing"
check "recipe directory /data 0750 1000:1000" grep -Eq '^drwxr-x--- 1000/1000 .* data/?$' <<<"$listing"
check_eq "recipe symlink" hello "$(readlink "$W/rootfs/acct/usr/bin/hi")"
check "no CA bundle without ca-certificates" test ! -e "$W/rootfs/acct/etc/ssl/certs/ca-certificates.crt"
check "no ld.so.cache when every library is in a default directory" test ! -e "$W/rootfs/acct/etc/ld.so.cache"
check "no /etc/localtime without tzdata" test ! -e "$W/rootfs/acct/etc/localtime"
DT=$("$PARE" --quiet build acct --tar "$W/acct.tar") || fail "build --tar"
check_eq "--tar: same index digest as the layout" "$DA" "$DT"
check "skopeo inspect oci-archive:" skopeo inspect "oci-archive:$W/acct.tar:latest"
check_fails "--all fails on the first recipe that cannot be built (notlocked)" "notlocked" \
	"$PARE" --quiet build --all --outroot "$W/all"
mkdir -p "$W/only" && cp "$PARE_RECIPES/acct.yaml" "$PARE_RECIPES/hello.yaml" "$W/only/"
PARE_RECIPES=$W/only "$PARE" --quiet build --all --outroot "$W/all2" >"$W/all2.out" 2>&1 || fail "build --all" "$(cat "$W/all2.out")"
check_eq "--all prints one line per recipe" "acct $DA
hello $D1" "$(cat "$W/all2.out")"
check "--all writes OUT/RECIPE" test -f "$W/all2/acct/index.json" -a -f "$W/all2/hello/index.json"

# --- hostile .debs --------------------------------------------------------------------------
for p in evil-dotdot evil-abs evil-symlink-escape evil-hardlink evil-device evil-truncated evil-corrupt \
	evil-symlink-chain evil-name-newline evil-deep; do
	recipe "h-$p" hostile "$p" "assume_defaults: false"
	if ! "$PARE" --quiet lock "h-$p" >/dev/null 2>"$W/err"; then
		fail "$p: lock ($(head -1 "$W/err"))"
		continue
	fi
	# the recipe is h-PKG, so the match is on the package named by the builder
	check_fails "$p: refused naming the package" "$p:" "$PARE" --quiet build "h-$p" -o "$W/out/h-$p"
	check "$p: no output directory" test ! -e "$W/out/h-$p"
	check "$p: nothing written outside" test ! -e "$W/etc/evil" -a ! -e /etc/evil
done
err=$("$PARE" --quiet build h-evil-name-newline -o "$W/out/h-nl" 2>&1) || true
check_eq "a newline in a name: one line, escaped" \
	'pare: recipe h-evil-name-newline: h-evil-name-newline ('"$HOST"'): evil-name-newline: refusing ./usr/share/doc/evil-name-newline/x\n\x1b[2Jy: name '"'"'./usr/share/doc/evil-name-newline/x\n\x1b[2Jy'"'"' has a control character' "$err"
check_fails "a symlink chain out of the root: named with both links" \
	'^pare: recipe .*: evil-symlink-chain: refusing /usr/lib/x/b -> a/\.\./etc: it resolves above the image root through /usr/lib/x/a -> \.\./\.\./\.\. \(from evil-symlink-chain\)$' \
	"$PARE" --quiet build h-evil-symlink-chain -o "$W/out/h-chain"
check_fails "300 levels deep: refused" '^pare: recipe .*: evil-deep: refusing .*is more than 256 levels deep$' \
	"$PARE" --quiet build h-evil-deep -o "$W/out/h-deep"

# --- tampered .deb after locking ------------------------------------------------------------
recipe tamper stable has-setuid
"$PARE" --quiet lock tamper >/dev/null || fail "lock tamper"
deb=$(ls "$REPO"/pool/main/h/has-setuid/*_"$HOST".deb)
sha=$(sha256sum <"$deb" | cut -d' ' -f1)
cp "$deb" "$W/orig.deb"
printf 'X' | dd of="$deb" bs=1 seek=200 conv=notrunc status=none
check_fails "tampered .deb: the error names the package" "has-setuid.*(sha256|size) mismatch" \
	env PARE_CACHE_DIR="$W/cache3" "$PARE" --quiet build tamper -o "$W/out/tamper"
check "tampered .deb: not in the cache" test ! -e "$W/cache3/debs/sha256/$sha"
check "tampered .deb: no partial files in the cache" sh -c "! ls '$W/cache3/debs/sha256/' 2>/dev/null | grep -q part"
check "tampered .deb: no output" test ! -e "$W/out/tamper"
cp "$W/orig.deb" "$deb"

# --- interrupted build: old output stays intact ---------------------------------------------
recipe big stable "big-data, hello"
DB=$(lockbuild big) || fail "build big"
# how long a cold build takes, to kill the next ones part-way
t0=$(date +%s%N)
DNEW=$(PARE_CACHE_DIR=$W/cache-time SOURCE_DATE_EPOCH=1700000000 "$PARE" --quiet build big -o "$W/out/big-time" 2>/dev/null) ||
	fail "timing build"
ms=$((($(date +%s%N) - t0) / 1000000))
killed=0
for pct in 10 30 50 70 90; do
	rm -rf "$W/cache-int"
	# a different SOURCE_DATE_EPOCH: a finished build would change the digest
	PARE_CACHE_DIR=$W/cache-int SOURCE_DATE_EPOCH=1700000000 "$PARE" --quiet build big -o "$W/out/big" >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v m="$ms" -v p="$pct" 'BEGIN { printf "%.3f", m * p / 100000 }')"
	kill -9 "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	if ((rc == 137)); then
		killed=$((killed + 1))
		# killed before the rename: the old image; after it (the SBOMs are
		# written last): the complete new one; never anything else
		cur=$(jq -r '.manifests[0].digest' "$W/out/big/index.json" 2>/dev/null || true)
		if [ "$cur" = "$DB" ] || [ "$cur" = "$DNEW" ]; then
			check "kill -9 at ${pct}% of a build: a complete image ($([ "$cur" = "$DB" ] && echo previous || echo new))" \
				skopeo inspect --raw "oci:$W/out/big:latest"
		else
			fail "kill -9 at ${pct}% of a build: a complete image" "index digest $cur: neither $DB nor $DNEW"
		fi
	fi
done
((killed > 0)) && ok "$killed of 5 builds were killed part-way (a cold build takes ${ms} ms)" ||
	fail "no build was killed part-way (a cold build takes ${ms} ms)"
check "after the kills the layout is complete and valid (skopeo)" skopeo inspect --raw "oci:$W/out/big:latest"
# The next build removes what killed builds left (their PIDs are gone) but
# not the temporary of a build that is still running (a live PID).
sh -c 'exit 0' & deadpid=$!
wait "$deadpid"
mkdir -p "$W/out/big.tmp.$deadpid/blobs" "$W/out/big.old.$deadpid" "$W/out/big.tmp.$$"
D2=$(PARE_CACHE_DIR=$W/cache-int SOURCE_DATE_EPOCH=1700000000 "$PARE" --quiet build big -o "$W/out/big") || fail "build after the kills"
check_eq "build after the kills: the new image" "$DNEW" "$D2"
check_eq "stale OUT.tmp.PID / OUT.old.PID of dead builds removed, a live one kept" "big.tmp.$$" \
	"$(cd "$W/out" && ls -d big.* 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
rmdir "$W/out/big.tmp.$$"
# Replacing an existing layout swaps it in with one renameat2(RENAME_EXCHANGE):
# there is no moment at which OUT is missing.
if command -v strace >/dev/null; then
	# (LeakSanitizer cannot run under ptrace: leaks are checked by the other builds)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 PARE_CACHE_DIR=$W/cache-int strace -f -y -e trace=rename,renameat,renameat2,fsync -o "$W/strace.out" \
		"$PARE" --quiet build big -o "$W/out/big" >/dev/null
	check "replacing OUT: renameat2(…, RENAME_EXCHANGE)" grep -Eq "renameat2\(.*out/big\.tmp\.[0-9]+\", .*out/big\", RENAME_EXCHANGE\) = 0" "$W/strace.out"
	check "replacing OUT: OUT itself is never renamed away" sh -c "! grep -Eq 'rename(at2?)?\\(.*out/big\", ' '$W/strace.out' || grep -q RENAME_EXCHANGE '$W/strace.out'"
	check_eq "replacing OUT: nothing left next to it" "" "$(cd "$W/out" && ls -d big.* 2>/dev/null)"
	# every file written into the new layout is fsynced before the exchange
	# (blobs hard-linked from the cache were synced when cached)
	xline=$(grep -n 'RENAME_EXCHANGE' "$W/strace.out" | head -1 | cut -d: -f1)
	synced=$(head -n "${xline:-0}" "$W/strace.out" | grep -Eo 'fsync\([0-9]+<[^>]*out/big\.tmp\.[0-9]+/[^>]*>' |
		sed -E 's/.*big\.tmp\.[0-9]+\///; s/>$//' | sort -u || true)
	unsynced=$(cd "$W/out/big" && find . -type f -links 1 | sed 's|^\./||' | sort | comm -23 - <(echo "$synced") || true)
	check_eq "replacing OUT: every file written is fsynced before the exchange" "" "$unsynced"
	check "replacing OUT: the layout's directories are fsynced too" grep -Eq 'fsync\([0-9]+<[^>]*out/big\.tmp\.[0-9]+/blobs/sha256>' "$W/strace.out"
else
	skip "replacing OUT: renameat2(RENAME_EXCHANGE)" "strace is not installed"
fi
check "after the exchange the layout is complete and valid (skopeo)" skopeo inspect --raw "oci:$W/out/big:latest"

# --- a write that fails (disk full): one line naming the file, previous output intact -------
# RLIMIT_FSIZE makes a write past the limit fail with EFBIG, as ENOSPC would, without
# privileges (SIGXFSZ ignored, so the write returns the error instead of killing pare).
# The layer cache is warm, so the writes are the top layer, the layout's files and the tar.
DPREV=$("$PARE" --quiet build hello -o "$W/out/hello") || fail "rebuild hello"
"$PARE" --quiet build hello --tar "$W/out/hello.tar" >/dev/null || fail "build hello --tar"
cp "$W/out/hello.tar" "$W/hello.tar.prev"
printf 'labels: {disk: full}\n' >>"$PARE_RECIPES/hello.yaml"
"$PARE" --quiet lock hello >/dev/null
for what in "-o $W/out/hello" "--tar $W/out/hello.tar"; do
	# shellcheck disable=SC2086 # $what is two words on purpose
	rc=0
	err=$(bash -c 'trap "" XFSZ; ulimit -f 16; exec "$@"' _ "$PARE" --quiet build hello $what 2>&1 >/dev/null) || rc=$?
	check_eq "write fails (${what%% *}): exit status 2" 2 "$rc"
	check_eq "write fails (${what%% *}): one line" 1 "$(printf '%s\n' "$err" | wc -l)"
	check "write fails (${what%% *}): names the file and the reason ($err)" \
		grep -Eq "^pare: .*(hello|blobs|layers).*: (cannot write.*)?File too large$" <<<"$err"
done
# an output on another file system than the cache: blobs are copied, not linked, and a
# failed copy names the real reason (not the link's EXDEV)
XD=$(mktemp -d /dev/shm/pare-test.XXXXXX 2>/dev/null || true)
if [ -n "$XD" ] && [ "$(stat -c %d "$XD")" != "$(stat -c %d "$PARE_CACHE_DIR")" ]; then
	at_exit rm -rf "$XD"
	rc=0
	# 100 KiB: every file the build writes fits (SBOMs < 60 KB), the copied hello layer
	# (300 KB) does not, and its copy ends in a short write (not a 64 KiB multiple)
	err=$(bash -c 'trap "" XFSZ; ulimit -f 100; exec "$@"' _ "$PARE" --quiet build hello -o "$XD/hello" 2>&1 >/dev/null) || rc=$?
	check_eq "write fails on another file system: exit status 2" 2 "$rc"
	check "write fails on another file system: the reason is the write's ($err)" \
		grep -Eq "^pare: .*cannot write .*: File too large$" <<<"$err"
	check "an output on another file system builds" "$PARE" --quiet build hello -o "$XD/hello"
else
	skip "write fails on another file system" "no separate file system at /dev/shm"
fi
# the write can fail anywhere in the stream (a tar block, a blob, the end of the archive):
# always one line and exit status 2 (under ASan: no leak on any of these paths)
bad=""
for lim in 12 20 28 36; do
	for what in "-o $W/out/hello" "--tar $W/out/hello.tar"; do
		rc=0
		# shellcheck disable=SC2086
		err=$(bash -c 'trap "" XFSZ; ulimit -f "$0"; exec "$@"' "$lim" "$PARE" --quiet build hello $what 2>&1 >/dev/null) || rc=$?
		[ "$rc" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || bad="$bad ${lim}K/${what%% *}:rc=$rc"
	done
done
check_eq "write fails at any point: exit 2 and one line each time" "" "$bad"
check_eq "write fails: the previous layout is intact" "$DPREV" "$(jq -r '.manifests[0].digest' "$W/out/hello/index.json")"
check "write fails: the previous oci-archive is intact" cmp "$W/out/hello.tar" "$W/hello.tar.prev"
check_eq "write fails: no temporary left next to the outputs" "" "$(cd "$W/out" && ls -d hello.tmp.* hello.tar.tmp.* 2>/dev/null)"
check_eq "write fails: no temporary left in the blob cache" "" "$(ls -A "$PARE_CACHE_DIR/blobs/sha256" | grep '^\.tmp' || true)"
check "after the failure a build with room succeeds" "$PARE" --quiet build hello -o "$W/out/hello"

# --- interop ------------------------------------------------------------------------------
if command -v skopeo >/dev/null; then
	check "skopeo inspect oci:DIR:latest" skopeo inspect "oci:$W/out/hello:latest"
	check "skopeo copy oci:DIR:latest dir:…" skopeo copy -q "oci:$W/out/hello:latest" "dir:$W/skopeo-dir"
else
	skip "skopeo not installed"
fi
if command -v umoci >/dev/null; then
	check "umoci unpack --rootless" umoci unpack --rootless --image "$W/out/hello:latest" "$W/bundle"
else
	skip "umoci not installed"
fi
if [ "$HOST" = amd64 ] || [ "$HOST" = arm64 ]; then
	# bwrap needs a user namespace: none for a process in a chroot (clone(2): EPERM), e.g.
	# under tests/fresh-check. That is the machine's limit, not pare's: a counted skip.
	userns=
	command -v bwrap >/dev/null && ! userns=$(bwrap --unshare-user --ro-bind / / true 2>&1) &&
		userns=${userns:-bwrap cannot create a user namespace}
	if command -v bwrap >/dev/null && [ -x "$R/usr/bin/hello" ] && [ -n "$userns" ]; then
		skip "hello runs in the image as 65532 (bwrap)" "here $userns"
	elif command -v bwrap >/dev/null && [ -x "$R/usr/bin/hello" ]; then
		out=$(bwrap --bind "$R" / --unshare-user --uid 65532 --gid 65532 --proc /proc --dev /dev /usr/bin/hello 2>&1 || true)
		check_eq "hello runs in the image as 65532 (bwrap)" "hello from pare" "$out"
	elif command -v crun >/dev/null && [ -d "$W/bundle/rootfs" ]; then
		(cd "$W/bundle" && jq '.process.args = ["/usr/bin/hello"] | .process.user = {uid: 65532, gid: 65532} | .process.terminal = false' config.json >c && mv c config.json)
		out=$(crun run --bundle "$W/bundle" pare-t-build-$$ 2>&1 || true)
		check_eq "hello runs in the image as 65532 (crun)" "hello from pare" "$out"
	else
		skip "neither bwrap nor crun"
	fi
fi

done_testing
