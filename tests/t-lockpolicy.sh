#!/usr/bin/env bash
# t-lockpolicy.sh - pare lock refuses a closure holding a package known to ship a shell or a
# package manager (the build would refuse the image) unless the recipe allows it: one line
# naming the recipe file:line:col of the packages: entry that pulls it in (the file of an
# extends chain that names it), the package, and pare why's path; exit 2, recipes.lock
# untouched.  A shell the index cannot show (has-busybox ships /bin/busybox) is locked: the
# build's check of every file stays the authority (t-build.sh).
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
HOST=$(dpkg --print-architecture)
R=$PARE_RECIPES

# lockfail NAME: exit status and stderr of pare lock NAME into $W/NAME.rc / $W/NAME.err
lockfail() {
	local rc=0
	"$PARE" --quiet lock "$1" >/dev/null 2>"$W/$1.err" || rc=$?
	echo "$rc" >"$W/$1.rc"
}

fixture_recipe good stable "hello"
check "a recipe without a shell locks" "$PARE" --quiet lock good
before=$(sha256sum "$PARE_LOCK")

fixture_recipe shell stable "needs-shell" "assume_defaults: false"
lockfail shell
check_eq "a shell pulled in by a dependency: exit 2" 2 "$(cat "$W/shell.rc")"
check_eq "... one line: the packages: entry, the package, why it is in the closure" \
	"pare: $R/shell.yaml:8:12: package dash is a shell, which the image may not hold (needs allow: [shell]); it is in the closure through needs-shell -> dash ($HOST)" \
	"$(cat "$W/shell.err")"
check_eq "... recipes.lock untouched" "$before" "$(sha256sum "$PARE_LOCK")"

fixture_recipe pm stable "hello, dpkg"
lockfail pm
check_eq "a package manager the recipe requests (never assumed): exit 2" 2 "$(cat "$W/pm.rc")"
check_eq "... names its own entry" \
	"pare: $R/pm.yaml:8:19: package dpkg is a package manager, which the image may not hold (needs allow: [package-manager]); it is requested here" \
	"$(cat "$W/pm.err")"

fixture_recipe several stable "needs-shell, bash, apt" "assume_defaults: false"
lockfail several
check_eq "several: the first by name, and how many more" \
	"pare: $R/several.yaml:8:31: package apt is a package manager, which the image may not hold (needs allow: [package-manager]); it is requested here; and 2 more such packages" \
	"$(cat "$W/several.err")"

# through extends: the parent file names the package
fixture_recipe _parent stable "hello,
  needs-shell"
sed -i '/^name:/d' "$R/_parent.yaml"
printf 'extends: _parent.yaml\nname: child\nassume_defaults: false\n' >"$R/child.yaml"
lockfail child
check_eq "an entry of an extended file: that file's line" \
	"pare: $R/_parent.yaml:8:3: package dash is a shell, which the image may not hold (needs allow: [shell]); it is in the closure through needs-shell -> dash ($HOST)" \
	"$(cat "$W/child.err")"
check_eq "... recipes.lock untouched" "$before" "$(sha256sum "$PARE_LOCK")"

fixture_recipe shell-ok stable "needs-shell" "assume_defaults: false
allow: [shell]"
check "allow: [shell] takes it back" "$PARE" --quiet lock shell-ok
check "... dash is locked" jq -e --arg a "$HOST" \
	'[.recipes["shell-ok"].archs[$a].packages[].name] | index("dash")' "$PARE_LOCK"
fixture_recipe pm-ok stable "hello, dpkg" "allow: [package-manager]"
check "allow: [package-manager] takes it back" "$PARE" --quiet lock pm-ok

# several recipes: the refused one fails alone, the others are locked (keep going, docs/lock.md)
fixture_recipe good stable "hello, tzdata"
rc=0
"$PARE" --quiet lock good shell >/dev/null 2>"$W/both.err" || rc=$?
check_eq "a refused recipe among others: exit 2" 2 "$rc"
check_eq "... its line, then the count" \
	"pare: $R/shell.yaml:8:12: package dash is a shell, which the image may not hold (needs allow: [shell]); it is in the closure through needs-shell -> dash ($HOST)
pare: lock: 1 of 2 recipes failed (the others are locked)" "$(cat "$W/both.err")"
check "... the other recipe is locked (tzdata now in good's entry)" jq -e --arg a "$HOST" \
	'[.recipes.good.archs[$a].packages[].name] | index("tzdata")' "$PARE_LOCK"
check "... and the refused one has no entry" jq -e '.recipes.shell == null' "$PARE_LOCK"
rc=0
"$PARE" --quiet lock --fail-fast good shell >/dev/null 2>"$W/ff.err" || rc=$?
check_eq "--fail-fast: the refusal is the whole run's error, one line" \
	"2 1" "$rc $(wc -l <"$W/ff.err")"

fixture_recipe busybox stable "has-busybox"
check "a shell under another package's name is not seen at lock time (the build refuses it)" \
	"$PARE" --quiet lock busybox
done_testing
