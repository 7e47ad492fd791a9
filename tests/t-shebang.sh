#!/usr/bin/env bash
# t-shebang.sh - the build's shebang check: an executable script from a package
# whose "#!" interpreter is not in the image (#!/usr/bin/env without env,
# #!/usr/bin/perl without perl, #!/bin/sh in a shell-less image, #!/usr/bin/env
# python3 without python3 on the image's PATH) is a warning once per
# interpreter, with the number of scripts and the first three with their
# packages; strict: true makes it the build's error (nothing written); strip
# and allow: [missing-interpreter] take it back; interpreters resolve through
# the image's symlinks (merged /usr, python3 -> python3.11) and the recipe's
# PATH; warm rebuilds (layers from the layer cache, no .deb read) reach the
# same verdicts.
. "$(dirname "$0")/lib.sh"

fixture_env
mkdir -p "$W/pkgs"
HOST=$(dpkg --print-architecture)
export ARCHS=$HOST

pkg() { # NAME DEPENDS DIRECTIVE...
	local name=$1 deps=$2
	shift 2
	{
		printf 'Package: %s\nVersion: 1.0-1\nArchitecture: %s\n' "$name" "$HOST"
		printf 'Maintainer: Pare Fixture Maintainers <fixture@invalid>\n'
		[[ -z $deps ]] || printf 'Depends: %s\n' "$deps"
		printf 'Section: misc\nPriority: optional\n'
		printf 'Description: shebang check fixture\n Shebang check test package.\n\n'
		printf '%s\n' "$@"
	} >"$W/pkgs/$name.pkg"
}
# the issue's examples: postgresql's pg_ctlcluster (perl), python's pdb3
# (#!/usr/bin/python3), ruby's gem (#!/usr/bin/env ruby), sh scripts
pkg sbtools "" \
	'file /usr/bin/sb-sh1 0755 #!/bin/sh\nexit 0' \
	'file /usr/bin/sb-sh2 0755 #!/bin/sh -e\nexit 0' \
	'file /usr/bin/sb-sh3 0755 #! /bin/sh\nexit 0' \
	'file /usr/sbin/sb-sh4 0755 #!/bin/sh\nexit 0' \
	'file /usr/bin/pg_ctlcluster 0755 #!/usr/bin/perl -w\nexit 0;' \
	'file /usr/bin/sb-envpy 0755 #!/usr/bin/env python3\npass' \
	'file /usr/share/sbtools/lib.sh 0644 #!/bin/sh\n: not executable: never run as a program' \
	'file /usr/bin/sb-notascript 0755 not a script'
pkg sbgem "" 'file /usr/bin/gem 0755 #!/usr/bin/env ruby\nputs 1'
pkg sbpdb "" 'file /usr/bin/pdb3 0755 #!/usr/bin/python3\npass' \
	'file /usr/bin/sb-merged 0755 #!/bin/sb-interp\n' \
	'hardlink /usr/bin/sb-merged2 /usr/bin/sb-merged'
# the interpreters (their content does not matter to the check: executable
# regular files at the path)
pkg sbenv "" 'file /usr/bin/env 0755 env'
pkg sbperl "" 'file /usr/bin/perl 0755 perl'
pkg sbpython "" 'file /usr/bin/python3.11 0755 python' 'symlink /usr/bin/python3 python3.11'
pkg sbinterp "" 'file /usr/bin/sb-interp 0755 interp'
pkg sboptruby "" 'file /opt/rb/bin/ruby 0755 ruby' 'file /usr/bin/ruby 0644 not executable'
"$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/pkgs"/*.pkg >"$W/mkrepo.log" 2>&1 ||
	{ fail "mkrepo --add" "$(cat "$W/mkrepo.log")"; done_testing; }

NOSH='strip: ["/usr/bin/sb-sh*", "/usr/sbin/sb-sh*"]'
fixture_recipe bare stable "sbtools"
fixture_recipe strict stable "sbtools" 'strict: true'
fixture_recipe allowed stable "sbtools" 'strict: true
allow: [missing-interpreter]'
fixture_recipe withenv stable "sbtools, sbenv"
fixture_recipe most stable "sbtools, sbenv, sbperl, sbpython, sbpdb, sbinterp" 'strict: false'
fixture_recipe stripped stable "sbtools, sbenv, sbperl, sbpython, sbpdb, sbinterp" "strict: true
$NOSH"
fixture_recipe gem stable "sbgem, sbenv, sboptruby"
fixture_recipe gem-path stable "sbgem, sbenv, sboptruby" 'strict: true
env: {PATH: "/opt/rb/bin:/usr/bin"}'
fixture_recipe pdb stable "sbpdb"
for r in bare strict allowed withenv most stripped gem gem-path pdb; do
	"$PARE" --quiet lock "$r" >/dev/null 2>"$W/lock-$r.err" || fail "lock $r" "$(cat "$W/lock-$r.err")"
done

# build NAME OUT: stderr into $W/OUT.err
build() { "$PARE" --verbose build "$1" -o "$W/$2" >/dev/null 2>"$W/$2.err"; }
# errs OUT: what pare reported (not progress, not --verbose debug lines)
errs() { grep '^pare: ' "$W/$1.err" | grep -v '^pare: debug:' || true; }
hits() { grep -c 'taken from the layer cache' "$W/$1.err" || true; }

W_SH="pare: warning: bare ($HOST): 4 scripts need /bin/sh, which is not in the image: usr/bin/sb-sh1 (package sbtools), usr/bin/sb-sh2 (package sbtools), usr/bin/sb-sh3 (package sbtools) and 1 more"
W_ENV="pare: warning: bare ($HOST): 1 script needs /usr/bin/env, which is not in the image: usr/bin/sb-envpy (package sbtools)"
W_PERL="pare: warning: bare ($HOST): 1 script needs /usr/bin/perl, which is not in the image: usr/bin/pg_ctlcluster (package sbtools)"

verdicts() { # PHASE
	local p=$1 rc=0
	check "$p: missing interpreters are not an error" build bare "$p-bare"
	check_eq "$p: ... but one warning per interpreter (sorted), with a count and three examples" \
		"$W_SH
$W_ENV
$W_PERL" "$(errs "$p-bare")"
	build strict "$p-strict" || rc=$?
	check_eq "$p: strict: true fails the build (exit 2)" 2 "$rc"
	check_eq "$p: ... with one line: the first interpreter, how many more" \
		"pare: recipe strict: strict ($HOST): 4 scripts need /bin/sh, which is not in the image: usr/bin/sb-sh1 (package sbtools), usr/bin/sb-sh2 (package sbtools), usr/bin/sb-sh3 (package sbtools) and 1 more; and 2 more missing interpreters (strict: true; strip the scripts or allow: [missing-interpreter])" \
		"$(errs "$p-strict")"
	check "$p: ... and writes nothing" test ! -e "$W/$p-strict"
	check "$p: allow: [missing-interpreter] passes under strict" build allowed "$p-allowed"
	check_eq "$p: ... silently" "" "$(errs "$p-allowed")"
	check "$p: env in the image, python3 not on its PATH: passes" build withenv "$p-withenv"
	check_eq "$p: ... with a warning naming the command and env" \
		"pare: warning: withenv ($HOST): 1 script needs python3 on the image's PATH (run by /usr/bin/env), which is not in the image: usr/bin/sb-envpy (package sbtools)" \
		"$(errs "$p-withenv" | grep -v -e /bin/sh -e /usr/bin/perl)"
	check "$p: perl, env + python3 (a symlink), /bin/sb-interp (merged /usr) in the image" \
		build most "$p-most"
	check_eq "$p: ... only the shell scripts are reported" \
		"pare: warning: most ($HOST): 4 scripts need /bin/sh, which is not in the image: usr/bin/sb-sh1 (package sbtools), usr/bin/sb-sh2 (package sbtools), usr/bin/sb-sh3 (package sbtools) and 1 more" \
		"$(errs "$p-most")"
	check "$p: the shell scripts stripped: passes under strict" build stripped "$p-stripped"
	check_eq "$p: ... silently" "" "$(errs "$p-stripped")"
	check "$p: gem (#!/usr/bin/env ruby), ruby only in /opt/rb/bin" build gem "$p-gem"
	check_eq "$p: ... not on the default PATH (/usr/bin/ruby is not executable)" \
		"pare: warning: gem ($HOST): 1 script needs ruby on the image's PATH (run by /usr/bin/env), which is not in the image: usr/bin/gem (package sbgem)" \
		"$(errs "$p-gem")"
	check "$p: ... on the recipe's PATH: passes under strict" build gem-path "$p-gem-path"
	check_eq "$p: ... silently" "" "$(errs "$p-gem-path")"
	check "$p: pdb3 (#!/usr/bin/python3) without python" build pdb "$p-pdb"
	check_eq "$p: ... a warning; the hard link to a script counts as a script" \
		"pare: warning: pdb ($HOST): 2 scripts need /bin/sb-interp, which is not in the image: usr/bin/sb-merged (package sbpdb), usr/bin/sb-merged2 (package sbpdb)
pare: warning: pdb ($HOST): 1 script needs /usr/bin/python3, which is not in the image: usr/bin/pdb3 (package sbpdb)" \
		"$(errs "$p-pdb")"
}
verdicts cold
check_eq "cold: no layer from the cache" 0 "$(hits cold-bare)"

# --- warm: every package layer from the cache, and no .deb can be read --------------------------
rm -rf "$PARE_CACHE_DIR/debs"
mv "$REPO/pool" "$REPO/pool.off"
verdicts warm
check "warm: the warning build took its layers from the cache" test "$(hits warm-bare)" -ge 1
check "warm: the failing build took its layers from the cache" test "$(hits warm-strict)" -ge 1
check_eq "warm: no package layer built again" "" \
	"$(grep -l 'fetching' "$W"/warm-*.err || true)"
mv "$REPO/pool.off" "$REPO/pool"
check "warm: same image as cold" diff -r "$W/cold-bare" "$W/warm-bare"
done_testing
