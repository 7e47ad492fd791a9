#!/usr/bin/env bash
# t-lazy.sh - the heavy libraries are loaded on first use (lazy/lazy.h): pare is not linked
# against libsolv, libsolvext, libgit2, libcurl or libarchive; a command that needs none of
# them (--version) maps none of them, one that does (pare cve's query: libsolv) loads
# exactly what it uses, by the soname the build saw, and an installation where a library is
# missing or is not the one pare was built with fails with one line naming it, exit 127.
# The dynamic loader's own LD_DEBUG=files report says what was loaded, and by whom.
. "$(dirname "$0")/lib.sh"

need cc objdump jq
LAZY="libsolv libsolvext libgit2 libcurl libarchive"
soname() { objdump -p "$(pkg-config --variable=libdir "$1")/$1.so" | awk '$1 == "SONAME" { print $2 }'; }
declare -A SO
for l in $LAZY; do SO[$l]=$(soname "$l"); done

# the libraries lazy/ loads that CMD... mapped, one "SONAME how" a line ("needed" at start,
# "dlopen" on first use), sorted
loaded() {
	LD_DEBUG=files LD_DEBUG_OUTPUT=$W/ld "$@" >/dev/null 2>&1
	local rc=$?
	cat "$W"/ld.* 2>/dev/null | sed -nE 's/.*file=([^ ]+) \[[0-9]+\];  (needed|dynamically loaded) by .*/\1 \2/p' |
		sed 's/ dynamically loaded/ dlopen/' | while read -r f how; do
		for l in $LAZY; do [[ $f == "${SO[$l]}" ]] && echo "$l $how"; done
	done | sort -u
	rm -f "$W"/ld.*
	return $rc
}

fixture_env
check_eq "the binary does not name a lazy library as NEEDED" "" \
	"$(objdump -p "$PARE" | awk '$1 == "NEEDED" { print $2 }' | grep -Fx -e "${SO[libsolv]}" -e "${SO[libsolvext]}" \
		-e "${SO[libgit2]}" -e "${SO[libcurl]}" -e "${SO[libarchive]}")"
check_eq "pare --version maps none of them" "" "$(loaded "$PARE" --version)"

fixture_recipe hello stable "hello"
check_eq "pare lock loads libsolv, libsolvext and libarchive (the indexes' compression), no git or curl (file://)" \
	"libarchive dlopen
libsolv dlopen
libsolvext dlopen" "$(loaded "$PARE" --quiet lock hello)"
[[ -s $PARE_LOCK ]] || fail "the lock was written"

# CVE feeds of the real shapes, small: the query needs none of the four
F=$W/feeds
mkdir -p "$F"
echo '{"glibc": {"CVE-2024-0100": {"releases": {"fixture": {"status": "resolved", "fixed_version": "99", "urgency": "high"}}}}}' >"$F/tracker.json"
echo '{"catalogVersion": "1", "dateReleased": "2024-05-01T00:00:00Z", "count": 0, "vulnerabilities": []}' >"$F/kev.json"
printf '#model_version:v2023.03.01,score_date:2024-05-02T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0100,0.1,0.5\n' >"$F/epss.csv"
check "sync the feeds" "$PARE" --quiet cve sync --from "$F"
out=$(loaded "$PARE" cve --json hello)
check_eq "pare cve (the query) maps libsolv alone (Debian version comparison), not libsolvext, git, curl or archive" \
	"libsolv dlopen" "$out"
check_eq "and answers: hello's libc6 (glibc) is fixable by CVE-2024-0100" "CVE-2024-0100 fixable" \
	"$("$PARE" cve --json hello | jq -r '.findings[] | "\(.id) \(.class)"')"

check_eq "pare build of a locked recipe (file://, outside git) loads libarchive alone" \
	"libarchive dlopen" "$(loaded "$PARE" --quiet build hello -o "$W/img")"

# A broken installation.  LD_LIBRARY_PATH is searched by dlopen before the system's paths.
bad=$W/badlib
mkdir -p "$bad"
echo "not an ELF object" >"$bad/${SO[libsolv]}"
cp "$PARE_LOCK" "$W/lock.before"
check_refused_status 127 "a libsolv that cannot be loaded: one line naming it, exit 127" \
	"^pare: cannot load ${SO[libsolv]//./\\.}: .*install the library pare was built with" \
	env LD_LIBRARY_PATH="$bad" "$PARE" --quiet lock hello
echo 'int pare_not_libsolv(void) { return 0; }' >"$W/empty.c"
cc -shared -fPIC -o "$bad/${SO[libsolv]}" "$W/empty.c" -Wl,-soname,"${SO[libsolv]}" || fail "cc -shared"
check_refused_status 127 "a libsolv without pare's functions: one line naming the library and the function" \
	"^pare: ${SO[libsolv]//./\\.} has no [a-z_]+: .*built with another version" \
	env LD_LIBRARY_PATH="$bad" "$PARE" --quiet lock hello
cmp -s "$PARE_LOCK" "$W/lock.before" && ok "the lock is untouched" || fail "the lock is untouched"
check_eq "a command that needs no libsolv still works beside that broken one" "pare" \
	"$(LD_LIBRARY_PATH=$bad "$PARE" --version | cut -d' ' -f1)"

done_testing
