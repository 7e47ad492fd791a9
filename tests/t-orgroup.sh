#!/bin/bash
# t-orgroup.sh - Debian or-groups (`Depends: a | b`) are resolved as apt does: the first
# alternative that can be satisfied, whatever the order of the indexes or of the names;
# through versions, virtual packages, assumed and excluded names; and an alternative the
# closure has anyway satisfies the group alone. The alternatives are named so that the
# dependency's order is neither alphabetical nor the indexes' order.
. "$(dirname "$0")/lib.sh"

need gpgv gpg xz python3 dpkg-deb

fixture_env
P=$W/pkgs
mkdir -p "$P"
# pkg NAME VERSION [CONTROL-LINE...]: a description file for mkrepo --add
pkg() {
	local name=$1 version=$2
	shift 2
	{
		echo "Package: $name"
		echo "Version: $version"
		echo "Architecture: amd64"
		echo "Maintainer: Pare Fixture Maintainers <fixture@invalid>"
		(($#)) && printf '%s\n' "$@"
		echo "Section: misc"
		echo "Priority: optional"
		echo "Description: or-group test package (pare fixture)"
		echo " Resolver test fixture."
		echo
		echo "file /usr/share/doc/$name/README 0644 $name"
	} >"$P/$name.pkg"
}
pkg og-alpha 1.0-1
pkg og-mid 1.0-1
pkg og-zeta 1.0-1
pkg og-old 1.0-1
pkg og-zprov 1.0-1 "Provides: og-virtual"
pkg og-needs-alpha 1.0-1 "Depends: og-alpha"
pkg og-plain 1.0-1 "Depends: og-mid | og-zeta | og-alpha"
pkg og-ver 1.0-1 "Depends: og-old (>= 2.0) | og-zeta | og-alpha"
pkg og-virt 1.0-1 "Depends: og-virtual | og-alpha"
pkg og-keep 1.0-1 "Depends: og-mid | og-zeta | og-alpha, og-needs-alpha"
pkg og-two 1.0-1 "Depends: og-late | og-alpha"
check "fixture packages added" "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$P"/og-*.pkg
# a second repository, listed after the first: og-late comes last in index order
R2=$(fixture_repo)
rm -rf "$R2/pool/main/"*
pkg og-late 1.0-1
check "second repository" "$PARE_SRC/tests/fixtures/mkrepo" --add "$R2" "$P/og-late.pkg"

recipe() { # NAME YAML...
	local name=$1
	shift
	{
		echo "name: $name"
		echo "archs: [amd64]"
		echo "repositories:"
		echo "  - url: file://$REPO"
		echo "    suites: [stable]"
		echo "    components: [main]"
		echo "    keyring: $REPO/keyring.gpg"
		echo "  - url: file://$R2"
		echo "    suites: [stable]"
		echo "    components: [main]"
		echo "    keyring: $R2/keyring.gpg"
		(($#)) && printf '%s\n' "$@"
	} >"$PARE_RECIPES/$name.yaml"
}
# og: the og-* names of RECIPE's closure, sorted, space-separated
og() {
	python3 -c 'import json,sys
l = json.load(open(sys.argv[1]))
print(" ".join(sorted(p["name"] for p in l["recipes"][sys.argv[2]]["archs"]["amd64"]["packages"] if p["name"].startswith("og-"))))' \
		"$PARE_LOCK" "$1"
}

recipe plain "packages: [og-plain]"
recipe versioned "packages: [og-ver]"
recipe virtual "packages: [og-virt]"
recipe excluded "packages: [og-plain]" "exclude: [og-mid]"
recipe assumed "packages: [og-plain]" "assume: [og-mid]"
recipe requested "packages: [og-plain, og-alpha]"
recipe keep "packages: [og-keep]"
recipe tworepos "packages: [og-two]"
check "lock" "$PARE" --quiet lock

check_eq "a | b | c: the first alternative (not the first by name or index)" "og-mid og-plain" "$(og plain)"
check_eq "a (>= 2.0) | b | c with a 1.0 only: the second alternative" "og-ver og-zeta" "$(og versioned)"
check_eq "virtual | real: the virtual's provider" "og-virt og-zprov" "$(og virtual)"
check_eq "first alternative excluded: the second one" "og-plain og-zeta" "$(og excluded)"
check_eq "first alternative assumed: nothing added" "og-plain" "$(og assumed)"
check_eq "an alternative the recipe requests satisfies the group alone" "og-alpha og-plain" "$(og requested)"
check_eq "an alternative a hard dependency pulls in satisfies the group alone" \
	"og-alpha og-keep og-needs-alpha" "$(og keep)"
check_eq "first alternative in the second repository (last in index order)" "og-late og-two" "$(og tworepos)"

# the same answers when solved again (resolution cache off) and from the cache
cp "$PARE_LOCK" "$W/lock.1"
check "relock, solved again" env PARE_RESOLVE_CACHE=0 "$PARE" --quiet lock
if cmp -s "$PARE_LOCK" "$W/lock.1"; then ok "solved again: the same lock"; else fail "solved again: the same lock" "$(diff "$W/lock.1" "$PARE_LOCK" | head)"; fi

done_testing
