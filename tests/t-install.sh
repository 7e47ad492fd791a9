#!/usr/bin/env bash
# make install / uninstall: the binary under test, a man page per command of its table
# (pare(1), pare-COMMAND(1)) that groff and man render without a warning, the bash
# completion (commands, options, recipe names), the docs; uninstall removes exactly that.
# shellcheck disable=SC2317 # functions run through check
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need make groff man install

t=$(tmpdir)
root=$t/root
# the Makefile under test, with the binary under test; BUILD keeps its generated files here
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$PARE_SRC" BUILD="$t/build" PARE_EXE="$PARE" "$@"; }

check "make install DESTDIR PREFIX=/usr" mk install DESTDIR="$root" PREFIX=/usr

mapfile -t cmds < <("$PARE" help --commands)
check "pare help --commands lists build and help" grep -qx build <(printf '%s\n' "${cmds[@]}")
expected=$(
	{
		echo usr/bin/pare
		echo usr/share/bash-completion/completions/pare
		echo usr/share/doc/pare/README.md
		for f in "$PARE_SRC"/docs/*.md; do echo "usr/share/doc/pare/docs/${f##*/}"; done
		echo usr/share/man/man1/pare.1
		for c in "${cmds[@]}"; do echo "usr/share/man/man1/pare-$c.1"; done
	} | sort
)
check_eq "installed files: the binary, a man page per command, completion, docs" \
	"$expected" "$(cd "$root" && find . -type f | sed 's|^\./||' | sort)"
check "the installed binary is the one under test" cmp "$PARE" "$root/usr/bin/pare"
check_eq "the binary is mode 0755" 755 "$(stat -c %a "$root/usr/bin/pare")"

# --- man pages ----------------------------------------------------------------------------
man_clean() { # FILE: groff (every warning on) and man both render it with nothing on stderr
	local err
	err=$(groff -man -ww -z -Tutf8 "$1" 2>&1) || return 1
	[[ -z $err ]] || { echo "groff: $err"; return 1; }
	err=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null) || return 1
	[[ -z $err ]] || { echo "man: $err"; return 1; }
}
man1=$root/usr/share/man/man1
# groff and man read the pages make install had pare write (pare help --man ran for every
# command above, in both suites); the pages are the same bytes from either build, so the
# renderings and the comparisons with 'pare help' below run in the plain suite only.
interop=0
plain_only $((${#cmds[@]} * 2 + 2)) "groff and man render every page; each synopsis and NAME line is 'pare help CMD''s; pare(1) lists every command" &&
	interop=1
((interop)) && for f in "$man1"/pare*.1; do
	check "${f##*/} renders without warnings" man_clean "$f"
done

# The page says what `pare help COMMAND` says: same table, no copy to drift.
synopsis_matches() { # COMMAND
	local usage summary page
	local help
	help=$("$PARE" help "$1")
	usage=$(sed -n '1{s/^usage: //;s/ *$//;p}' <<<"$help")
	summary=$(sed -n 2p <<<"$help")
	page=$(MANWIDTH=1000 man -l "$man1/pare-$1.1" 2>&1 | sed 's/^ *//')
	grep -qxF "$usage" <<<"$page" || { echo "no line '$usage' in:"; echo "$page"; return 1; }
	grep -qxF "pare-$1 - $summary" <<<"$page" || { echo "no NAME line for '$summary'"; echo "$page"; return 1; }
}
((interop)) && for c in "${cmds[@]}"; do
	check "pare-$c(1): the synopsis and name of 'pare help $c'" synopsis_matches "$c"
done
pare_lists_all() {
	local page c
	page=$(MANWIDTH=1000 man -l "$man1/pare.1" 2>&1)
	for c in "${cmds[@]}"; do
		grep -q "^ *pare $c\b" <<<"$page" || { echo "pare(1) does not list $c"; return 1; }
		grep -q "pare-$c(1)" <<<"$page" || { echo "pare(1) does not refer to pare-$c(1)"; return 1; }
	done
}
((interop)) && check "pare(1) lists every command and its page" pare_lists_all

# --- bash completion ----------------------------------------------------------------------
comp=$root/usr/share/bash-completion/completions/pare
complete_words() { # WORDS...: what the completion offers for the last word, sorted
	(cd "$PARE_SRC" && bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_pare; printf "%s\n" "${COMPREPLY[@]}" | sort' complete "$comp" "$@")
}
check_eq "completion is registered for pare" "complete -o default -F _pare pare" \
	"$(bash --norc --noprofile -c '. "$1"; complete -p pare' x "$comp")"
check_eq "pare bu<TAB> completes to build" build "$(complete_words pare bu)"
check_eq "pare --quiet ve<TAB>: verify, version" "verify
version" "$(complete_words pare --quiet ve)"
check_eq "pare build --ta<TAB>: --tag, --tar" "--tag
--tar" "$(complete_words pare build --ta)"
check_eq "pare build py<TAB>: the recipe python3 (recipes/)" python3 "$(complete_words pare build py)"
check_eq "pare cache p<TAB>: prune" prune "$(complete_words pare cache p)"
check_eq "pare help pu<TAB>: push, pull" "pull
push" "$(complete_words pare help pu)"
recipes_sorted=$(cd "$PARE_SRC/recipes" && ls -- *.yaml | sed 's/\.yaml$//' | sort)
check_eq "pare lock <TAB>: every shipped recipe" "$recipes_sorted" "$(complete_words pare lock '')"

# --- uninstall: what install put there, nothing else -----------------------------------
mkdir -p "$root/usr/share/doc/other" "$man1" "$root/usr/bin"
echo keep >"$man1/other.1"
echo keep >"$root/usr/bin/other"
echo keep >"$root/usr/share/doc/other/README"
check "make uninstall" mk uninstall DESTDIR="$root" PREFIX=/usr
check_eq "uninstall removes pare's files and leaves the others" "usr/bin/other
usr/share/doc/other/README
usr/share/man/man1/other.1" "$(cd "$root" && find . -type f | sed 's|^\./||' | sort)"
check "uninstall removes pare's doc directory" test ! -e "$root/usr/share/doc/pare"

# --- a build without the libraries says to run make deps -------------------------------
check_fails "make without pkg-config's flags: run 'make deps'" "run 'make deps' first" \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$PARE_SRC" BUILD="$t/nodeps" PKG_CONFIG=false all

done_testing
