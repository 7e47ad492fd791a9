#!/usr/bin/env bash
# Self-test of the harness (lib.sh, run) and of the fixture repository generator.
# shellcheck disable=SC2317 # functions run through check
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need dpkg-deb gpg gpgv python3 curl openssl

# Nothing here runs pare: the self-test runs once, in the plain suite, not again under ASan.
if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "harness and fixture self-test" "does not run pare; runs in the plain suite"
	done_testing
fi

fx=$PARE_SRC/tests/fixtures

# --- lib.sh: the negative paths, in a child script ----------------------------------------
t=$(tmpdir)
cat >"$t/child.sh" <<EOF
. "$PARE_SRC/tests/lib.sh"
check "check passes" true
check "check fails" sh -c 'echo out-line; echo err-line >&2; exit 3'
check_fails "check_fails passes" '^boom: [0-9]+\$' sh -c 'echo "boom: 42" >&2; exit 1'
check_fails "check_fails on success" 'x' true
check_fails "check_fails on a crash" 'x' sh -c 'echo x >&2; kill -SEGV \$\$'
check_fails "check_fails on a sanitizer report" 'oops' sh -c 'echo "oops ==1==ERROR: AddressSanitizer: heap-use-after-free" >&2; exit 1'
check_fails "check_fails on another message" 'wanted' sh -c 'echo other >&2; exit 1'
check_eq "check_eq passes" a a
check_eq "check_eq fails" a b
skip "skipped" "no reason"
done_testing
EOF
rc=0
out=$(PARE_SCRIPT_TMP=$(tmpdir) bash "$t/child.sh") || rc=$?
check_eq "lib.sh: done_testing exits 1 after a failure" 1 "$rc"
check_eq "lib.sh: result lines" "ok - check passes
not ok - check fails
ok - check_fails passes
not ok - check_fails on success
not ok - check_fails on a crash
not ok - check_fails on a sanitizer report
not ok - check_fails on another message
ok - check_eq passes
not ok - check_eq fails
ok - skipped # skip no reason" "$(grep -E '^(not )?ok' <<<"$out")"
check "lib.sh: failing check shows the command's output as # lines" grep -q '^#   err-line$' <<<"$out"
check "lib.sh: check_eq shows expected and actual" grep -q '^#   actual:   b$' <<<"$out"

# --- tests/run: counting, on a directory of fake tests ------------------------------------
t=$(tmpdir)
mkdir "$t/tests"
printf 'echo "ok - a"; echo "ok - b # skip no"; echo "ok - c # SKIP"\n' >"$t/tests/t-pass.sh"
printf 'echo "ok - a"; echo "not ok - b"; exit 1\n' >"$t/tests/t-fail.sh"
printf 'echo "ok - a"; echo "ok - b"; echo some log line; exit 3\n' >"$t/tests/t-exit.sh"
printf 'echo nothing\n' >"$t/tests/t-silent.sh"
mkdir "$t/units"
printf '#!/bin/sh\necho "ok - unit"\n' >"$t/units/unit-x"
chmod +x "$t/units/unit-x"
rc=0
out=$(PARE_TESTS_DIR=$t/tests PARE_TEST_TMP=$t/tmp "$PARE_SRC/tests/run" --jobs 3 --units "$t/units") || rc=$?
check_eq "run: the last line counts passes, failures (exit status, silence) and skips" \
	"5 passed, 3 failed, 2 skipped" "$(tail -n1 <<<"$out")"
check_eq "run: exits 1 on failure" 1 "$rc"
check "run: prefixes results with the script name" grep -qx 't-fail.sh: not ok - b' <<<"$out"
check "run: reports a non-zero exit without not ok" grep -qx 't-exit.sh: not ok - exited with status 3' <<<"$out"
check "run: prints the log tail of a failed script" grep -qx '    some log line' <<<"$out"
rc=0
out=$(PARE_TESTS_DIR=$t/tests PARE_TEST_TMP=$t/tmp2 "$PARE_SRC/tests/run" --units "$t/units" pass 'unit-*') || rc=$?
check_eq "run: patterns select tests; exit 0 when all pass" "0 2 passed, 0 failed, 2 skipped" "$rc $(tail -n1 <<<"$out")"
rc=0
out=$(PARE_TESTS_DIR=$t/tests PARE_TEST_TMP=$t/tmp3 "$PARE_SRC/tests/run" --units "$t/units" nomatch 2>/dev/null) || rc=$?
check_eq "run: no test ran is a failure" "1 0 passed, 0 failed" "$rc $(tail -n1 <<<"$out")"
# shellcheck disable=SC2016 # expanded by the inner bash
check "run: exports the environment" bash -c \
	'[[ $PARE == /* && -d $PARE_SRC && -d $PARE_CACHE_DIR && $PARE_CACHE_DIR == "$PARE_SCRIPT_TMP"/* && $LC_ALL == C.UTF-8 && $TZ == UTC ]]'

# --- the fixture repository ---------------------------------------------------------------
if repo=$(fixture_repo); then
	ok "fixture_repo builds the repository"
else
	fail "fixture_repo builds the repository"
	done_testing
fi
check "fixture_repo returns a private copy" test "$repo" != "$PARE_FIXTURES/fixture" -a -f "$repo/dists/stable/InRelease"

d=$repo/dists/stable
check "InRelease verifies with keyring.gpg" gpgv --keyring "$repo/keyring.gpg" "$d/InRelease"
check "Release.gpg verifies Release with keyring.gpg" gpgv --keyring "$repo/keyring.gpg" "$d/Release.gpg" "$d/Release"
check_fails "InRelease does not verify with wrong-keyring.gpg" 'No public key' \
	gpgv --keyring "$repo/wrong-keyring.gpg" "$d/InRelease"
check "keyring.asc is the armored keyring" grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$repo/keyring.asc"
check "no gpg-agent socket left in the repository" test -z "$(find "$repo" -type s)"
check_eq "Release header" "Origin: Pare Fixture
Label: Pare Fixture
Suite: stable
Codename: fixture
Date: Mon, 02 Jan 2023 00:00:00 UTC
Architectures: amd64 arm64 all
Components: main" "$(grep -E '^(Origin|Label|Suite|Codename|Date|Architectures|Components):' "$d/Release")"

# verify_release DIST: every index file is listed in Release with the right size and hashes
verify_release() {
	local dist=$1 listed algo tool h s f
	listed=$(awk '/^SHA256:/ { on = 1; next } /^[^ ]/ { on = 0 } on { print $3 }' "$dist/Release" | sort)
	[[ $listed == "$(cd "$dist" && find . -type f | sed 's|^\./||' | grep -vxE 'Release|InRelease|Release\.gpg' | sort)" ]] ||
		{ echo "Release does not list exactly the index files"; return 1; }
	for algo in MD5Sum:md5sum SHA256:sha256sum; do
		tool=${algo#*:}
		while read -r h s f; do
			[[ $h == "$("$tool" <"$dist/$f" | cut -d' ' -f1)" && $s == "$(stat -c %s "$dist/$f")" ]] ||
				{ echo "$algo mismatch for $f"; return 1; }
		done < <(awk -v a="${algo%%:*}:" '$0 == a { on = 1; next } /^[^ ]/ { on = 0 } on' "$dist/Release")
	done
}
check "Release lists every index file with the right size, MD5 and SHA256" verify_release "$d"

# verify_packages DIST: compressed indexes agree; every .deb matches its stanza
verify_packages() {
	local dist=$1 p n=0 fn size md5 sha
	for p in "$dist"/main/binary-*/Packages; do
		cmp -s "$p" <(gzip -dc "$p.gz") || { echo "$p.gz differs"; return 1; }
		cmp -s "$p" <(xz -dc "$p.xz") || { echo "$p.xz differs"; return 1; }
		while IFS=$'\t' read -r fn size md5 sha; do
			n=$((n + 1))
			[[ -f $repo/$fn ]] || { echo "missing $fn"; return 1; }
			[[ $size == "$(stat -c %s "$repo/$fn")" && $md5 == "$(md5sum <"$repo/$fn" | cut -d' ' -f1)" &&
				$sha == "$(sha256sum <"$repo/$fn" | cut -d' ' -f1)" ]] || { echo "checksum mismatch for $fn"; return 1; }
		done < <(awk '/^Filename:/ { f = $2 } /^Size:/ { s = $2 } /^MD5sum:/ { m = $2 }
			/^SHA256:/ { print f "\t" s "\t" m "\t" $2 }' "$p")
	done
	((n > 0)) || { echo "no packages"; return 1; }
}
check "every .deb matches its Packages stanza (size, MD5sum, SHA256)" verify_packages "$d"

a64=$d/main/binary-amd64/Packages
pkgs=$(awk '/^Package:/ { print $2 }' "$a64" | sort -u | tr '\n' ' ')
check_eq "binary-amd64 lists the fixture packages" "app-alt app-ma app-predep app-too-new app-versioned app-virtual apt base-files bash big-data broken-dep ca-certificates ca-certificates-java chain-bottom chain-mid chain-top conflict-a conflict-b coreutils dash data-all debconf dpkg has-busybox has-docs has-setuid hello legacy-paths libalt-a libalt-b libc6 libhello-data libnonstd libpre libssl3 libver lic-dep5 lic-free lic-ref lic-ref-bin mta-one needs-shell openssl overlap-a overlap-b overlap-c perl-base tool-foreign tzdata utf8-names wants-both " "$pkgs"
check_eq "libver is there in two versions" "1.0-1 2.1-1" \
	"$(awk '/^Package:/ { p = $2 } /^Version:/ && p == "libver" { print $2 }' "$a64" | tr '\n' ' ' | sed 's/ $//')"
check_eq "arch:all packages are in binary-all, binary-amd64 and binary-arm64" 3 \
	"$(grep -l '^Filename: pool/main/c/ca-certificates/ca-certificates_20230311_all.deb$' "$d"/main/binary-*/Packages | wc -l)"
check "hello: Source with version, Pre-Depends, Depends" grep -qzP \
	'Package: hello\nSource: hello-src \(1.0-1\)\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: [^\n]+\nInstalled-Size: \d+\nPre-Depends: libhello-data\nDepends: libc6 \(>= 2.30\)\n' "$a64"
check "libalt-b has an epoch, its file name has none" grep -qzP \
	'Version: 1:0.9-1\n(.+\n)*?Filename: pool/main/liba/libalt-b/libalt-b_0.9-1_amd64.deb\n' "$a64"
check "every stanza has a Maintainer" test "$(grep -c '^Package:' "$a64")" = "$(grep -c '^Maintainer:' "$a64")"

# every .deb: dpkg-deb reads it, md5sums matches its content
verify_debs() {
	local deb x n=0
	x=$(tmpdir)
	while IFS= read -r deb; do
		n=$((n + 1))
		dpkg-deb -I "$deb" >/dev/null || { echo "dpkg-deb -I fails on $deb"; return 1; }
		dpkg-deb -I "$deb" md5sums >/dev/null 2>&1 || { echo "no md5sums in $deb"; return 1; }
		rm -rf "$x/root" && mkdir "$x/root"
		dpkg-deb -x "$deb" "$x/root"
		(cd "$x/root" && dpkg-deb -I "$deb" md5sums | md5sum --quiet -c -) || { echo "md5sums wrong in $deb"; return 1; }
	done < <(find "$repo/pool/main" -name '*.deb' | sort)
	echo "$n .debs"
	((n > 80))
}
check "dpkg-deb -I and md5sums work on every .deb" verify_debs
check_eq "every compression is used (data.tar, .gz, .xz, .zst)" "data.tar data.tar.gz data.tar.xz data.tar.zst" \
	"$(find "$repo/pool/main" -name '*.deb' -exec ar t {} \; | grep '^data' | sort -u | tr '\n' ' ' | sed 's/ $//')"

deb_of() { awk -v p="$1" -v a="${2:-amd64}" '/^Package:/ { m = ($2 == p) } m && /^Filename:/ { print $2; exit }' \
	"$d/main/binary-${2:-amd64}/Packages"; }
listing() { dpkg-deb -c "$repo/$(deb_of "$@")"; }
check "has-setuid ships a setuid program" grep -q '^-rwsr-xr-x root/root .* \./usr/bin/suidprog$' <<<"$(listing has-setuid)"
check "dash ships /bin/sh -> dash" grep -q '\./bin/sh -> dash$' <<<"$(listing dash)"
check "perl-base ships a hard link" grep -q '\./usr/bin/perl5.36.0 link to \./usr/bin/perl$' <<<"$(listing perl-base)"
check "base-files ships /tmp 1777" grep -q '^drwxrwxrwt root/root .* \./tmp/$' <<<"$(listing base-files)"
check "libc6 arm64 uses the aarch64 triplet" grep -q '\./usr/lib/aarch64-linux-gnu/libc.so.6$' <<<"$(listing libc6 arm64)"
check "legacy-paths ships under /lib" grep -q '\./lib/x86_64-linux-gnu/liblegacy.so.1$' <<<"$(listing legacy-paths)"
check "libc6 marks its /etc file as a conffile" grep -qx '/etc/ld.so.conf.d/x86_64-linux-gnu.conf' \
	<<<"$(dpkg-deb -I "$repo/$(deb_of libc6)" conffiles)"

x=$(tmpdir)
dpkg-deb -x "$repo/$(deb_of hello)" "$x"
if [[ $(dpkg --print-architecture 2>/dev/null) == amd64 ]]; then
	check_eq "the static hello binary runs" "hello from pare" "$("$x/usr/bin/hello")"
	check "hello is static (no PT_INTERP)" sh -c "! readelf -l '$x/usr/bin/hello' | grep -q INTERP"
else
	skip "the static hello binary runs" "not an amd64 host"
fi
dpkg-deb -x "$repo/$(deb_of ca-certificates)" "$x"
check "ca-certificates ships two valid PEM CA certificates" sh -c \
	"for c in '$x'/usr/share/ca-certificates/mozilla/*.crt; do openssl x509 -noout -in \"\$c\" || exit 1; done; test \$(ls '$x'/usr/share/ca-certificates/mozilla | wc -l) = 2"

# --- determinism (speed is not asserted: timings belong in bench/) -------------------------
t=$(tmpdir)
if "$fx/mkrepo" "$t/again" >"$t/log" 2>&1; then
	ok "mkrepo builds a second repository"
	check "mkrepo is deterministic apart from keys and signatures" diff -r \
		-x .gnupg -x InRelease -x Release.gpg -x 'keyring*' -x wrong-keyring.gpg "$PARE_FIXTURES/fixture" "$t/again"
else
	fail "mkrepo builds a second repository" "$(cat "$t/log")"
fi

# --- resign, --add ------------------------------------------------------------------------
r2=$(fixture_repo)
sed 's/^Version: 1.0-1$/Version: 1.1-1/' "$fx/packages/hello.pkg" >"$t/hello.pkg"
check "mkrepo --add builds a new upstream version" "$fx/mkrepo" --add "$r2" "$t/hello.pkg"
check "the new version is indexed next to the old one" grep -q '^Filename: pool/main/h/hello-src/hello_1.1-1_amd64.deb$' \
	"$r2/dists/stable/main/binary-amd64/Packages"
check "... and the new index is signed" gpgv --keyring "$r2/keyring.gpg" "$r2/dists/stable/InRelease"
check "... and the Release hashes are right" verify_release "$r2/dists/stable"
rm "$r2"/pool/main/c/chain-bottom/*.deb
check "resign after removing a .deb" env FIXTURE_VALID_UNTIL="Tue, 03 Jan 2023 00:00:00 UTC" "$fx/resign" "$r2"
check "... drops it from the index" sh -c "! grep -q '^Package: chain-bottom$' '$r2/dists/stable/main/binary-amd64/Packages'"
check "... and sets Valid-Until" grep -qx 'Valid-Until: Tue, 03 Jan 2023 00:00:00 UTC' "$r2/dists/stable/InRelease"
check_fails "resign refuses a directory that is not a fixture" 'not a fixture repository' "$fx/resign" "$t"

# --- hostile suite ------------------------------------------------------------------------
if hr=$(fixture_repo --hostile); then
	ok "fixture_repo --hostile builds the hostile suite"
	check "hostile InRelease verifies" gpgv --keyring "$hr/keyring.gpg" "$hr/dists/hostile/InRelease"
	check "hostile Release is consistent" verify_release "$hr/dists/hostile"
	repo=$hr check "hostile .debs match their stanzas" verify_packages "$hr/dists/hostile"
	check_eq "hostile suite packages" "evil-abs evil-corrupt evil-deep evil-device evil-dotdot evil-hardlink evil-name-newline evil-symlink-chain evil-symlink-escape evil-truncated" \
		"$(awk '/^Package:/ { print $2 }' "$hr/dists/hostile/main/binary-amd64/Packages" | tr '\n' ' ' | sed 's/ $//')"
	check "stable does not list hostile packages" sh -c "! grep -q '^Package: evil' '$hr'/dists/stable/main/binary-*/Packages"
	check "evil-dotdot has a ../ entry" sh -c "ar p '$hr/pool/hostile/e/evil-dotdot/evil-dotdot_1.0-1_all.deb' data.tar.xz | xz -dc | tar -t 2>/dev/null | grep -qx './../../etc/evil'"
	check "evil-corrupt does not decompress" sh -c "! ar p '$hr/pool/hostile/e/evil-corrupt/evil-corrupt_1.0-1_all.deb' data.tar.xz | xz -t 2>/dev/null"
	check "fixture_repo (plain) still has no hostile suite" test ! -e "$(fixture_repo)/dists/hostile"
else
	fail "fixture_repo --hostile builds the hostile suite"
fi

# --- serve_http ---------------------------------------------------------------------------
if url=$(serve_http "$repo" "$t/http.log"); then
	ok "serve_http starts ($url)"
	check "curl fetches InRelease over HTTP" sh -c "curl -fsS '$url/dists/stable/InRelease' | cmp -s - '$repo/dists/stable/InRelease'"
	check_fails "a missing file is a 404" '404' curl -fsS "$url/dists/nope/InRelease"
	check "the request log names the requests" grep -q 'GET /dists/stable/InRelease' "$t/http.log"
	if url2=$(serve_http "$PARE_SRC/tests/fixtures"); then
		check "a second server runs on another port" test "$url2" != "$url"
		check "... and serves its own directory" sh -c "curl -fsS '$url2/mkrepo' | cmp -s - '$fx/mkrepo'"
	else
		fail "a second server starts"
	fi
else
	fail "serve_http starts"
fi

done_testing
