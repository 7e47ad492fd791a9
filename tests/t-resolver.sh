#!/bin/bash
# t-resolver.sh - pare lock / pare why against the signed fixture repository, over file:// and
# http://127.0.0.1: dependency semantics, assumed/excluded packages, lock determinism and
# --check, and every way a repository can lie (tampered index, wrong key, bad or missing
# signature, expired Release, rollback, malformed index), each refused with recipes.lock intact.
. "$(dirname "$0")/lib.sh"

need gpgv gpg xz python3

repo=$(fixture_repo)
W=$(tmpdir)
R=$W/recipes
L=$W/recipes.lock
mkdir -p "$R"

# recipe NAME URL KEYRING YAML...: a recipe on the fixture suite "stable", amd64 unless YAML says
recipe() {
	local name=$1 url=$2 keyring=$3
	shift 3
	{
		echo "name: $name"
		echo "repositories:"
		echo "  - url: $url"
		echo "    suites: [stable]"
		echo "    components: [main]"
		case $keyring in
		trusted) echo "    trusted: true" ;;
		apt) ;; # no keyring: apt's trusted keyrings ($PARE_APT_DIR)
		*) echo "    keyring: $keyring" ;;
		esac
		printf '%s\n' "$@" | grep -q '^archs:' || echo "archs: [amd64]"
		printf '%s\n' "$@"
	} >"$R/$name.yaml"
}
plock() { PARE_RECIPES=$R PARE_LOCK=$L "$PARE" --quiet lock "$@"; }
pwhy() { PARE_RECIPES=$R PARE_LOCK=$L "$PARE" why "$@"; }
# closure RECIPE [ARCH]: "name=version" of every locked package, space-separated
closure() {
	python3 -c 'import json,sys
l = json.load(open(sys.argv[1]))
print(" ".join(p["name"] + "=" + p["version"] for p in l["recipes"][sys.argv[2]]["archs"][sys.argv[3]]["packages"]))' \
		"$L" "$1" "${2:-amd64}"
}
field() { # RECIPE PKG FIELD
	python3 -c 'import json,sys
l = json.load(open(sys.argv[1]))
print([p for p in l["recipes"][sys.argv[2]]["archs"]["amd64"]["packages"] if p["name"] == sys.argv[3]][0][sys.argv[4]])' \
		"$L" "$1" "$2" "$3"
}
has() { [[ " $1 " == *" $2="* || " $1 " == *" $2 "* ]]; }
hasnt() { [[ " $1 " != *" $2="* ]]; }

K=$W/keyring.gpg
cp "$repo/keyring.gpg" "$K"
U=file://$repo

# ---- several repositories: their Releases load at the same time ------------------------------
# four copies of the fixture repository; errors and warnings still come in the recipe's order
for i in 1 2 3 4; do cp -r "$repo" "$W/par$i"; done
cp "$W/par1/keyring.gpg" "$W/parkey.gpg"
par_recipe() { # NAME KEYRING1..4
	local name=$1
	shift
	{
		echo "name: $name"
		echo "archs: [amd64]"
		echo "packages: [hello]"
		echo "repositories:"
		local i=1
		for k in "$@"; do
			echo "  - url: file://$W/par$i"
			echo "    suites: [stable]"
			echo "    components: [main]"
			if [[ $k == trusted ]]; then echo "    trusted: true"; else echo "    keyring: $k"; fi
			i=$((i + 1))
		done
	} >"$R/$name.yaml"
}
par_recipe par4 "$W/parkey.gpg" "$W/parkey.gpg" "$W/parkey.gpg" "$W/parkey.gpg"
check "four repositories, loaded in parallel, lock" plock par4
check_eq "the lock records the four repositories" 4 \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["recipes"]["par4"]["repositories"]))' "$L")"
par_recipe parbad "$W/parkey.gpg" "$repo/wrong-keyring.gpg" "$W/parkey.gpg" "$repo/wrong-keyring.gpg"
same=1
for i in 1 2 3 4 5 6; do
	err=$(PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES=$R PARE_LOCK=$W/parbad.lock "$PARE" --quiet lock parbad 2>&1) && same=0
	[[ $err == "pare: repository file://$W/par2 stable: not signed by a key in "*wrong-keyring.gpg* ]] || same=0
	[[ $(wc -l <<<"$err") == 1 ]] || same=0
done
((same)) && ok "two bad repositories: always the first one in the recipe is named, in one line" ||
	fail "two bad repositories: the first one is named" "$err"
[[ ! -e $W/parbad.lock ]] && ok "nothing written when one of them fails" || fail "nothing written when one of them fails"
par_recipe partr trusted "$W/parkey.gpg" trusted trusted
err=$(PARE_RECIPES=$R PARE_LOCK=$W/partr.lock "$PARE" --quiet lock partr 2>&1 >/dev/null)
check_eq "one warning a trusted repository, in the recipe's order" \
	"$W/par1 $W/par3 $W/par4" \
	"$(sed -n 's|^pare: warning: repository file://\([^ ]*\) stable: trusted: true.*|\1|p' <<<"$err" | tr '\n' ' ' | sed 's/ $//')"
rm -f "$R"/par*.yaml

# ---- the resolution cache ---------------------------------------------------------------------
# the answer is kept by the inputs' hash; anything new upstream, a recipe edit, a damaged file or
# PARE_RESOLVE_CACHE=0 means solving again, and the lock is the same either way
cp -r "$repo" "$W/memo"
MC=$(tmpdir)
recipe memo "file://$W/memo" "$W/memo/keyring.gpg" "packages: [hello, libssl3]"
mlock() { PARE_CACHE_DIR=$MC PARE_RECIPES=$R PARE_LOCK=$W/memo.lock "$PARE" -v lock memo 2>&1 >/dev/null; }
cached() { sed -n 's/.*solve [0-9.]* ms, \([0-9]*\) from the resolution cache.*/\1/p' <<<"$1"; }
out=$(mlock)
check_eq "first lock: solved" 0 "$(cached "$out")"
cp "$W/memo.lock" "$W/memo.lock.first"
before=$(stat -c '%i %Y.%y' "$W/memo.lock")
sleep 0.01
out=$(mlock)
[[ $out == *"memo.lock is up to date"* ]] && ok "an unchanged lock: says so" || fail "an unchanged lock: says so" "$out"
check_eq "an unchanged lock: the file is not rewritten" "$before" "$(stat -c '%i %Y.%y' "$W/memo.lock")"
check_eq "second lock, nothing new: from the resolution cache" 1 "$(cached "$out")"
[[ $out != *"index load"*" ms"* || $out == *"index load 0.0 ms"* ]] && ok "no index loaded for it" ||
	fail "no index loaded for it" "$out"
cmp -s "$W/memo.lock" "$W/memo.lock.first" && ok "the same lock" || fail "the same lock"
out=$(PARE_RESOLVE_CACHE=0 mlock)
check_eq "PARE_RESOLVE_CACHE=0: solved" 0 "$(cached "$out")"
cmp -s "$W/memo.lock" "$W/memo.lock.first" && ok "the same lock solved" || fail "the same lock solved"
# a damaged cache file: solved, the right answer, and the file mended
f=$(ls "$MC"/resolve/*.lock)
printf '{"version": 1, "recipes": {"memo": {' >"$f"
out=$(mlock)
check_eq "damaged cache file: solved" 0 "$(cached "$out")"
cmp -s "$W/memo.lock" "$W/memo.lock.first" && ok "damaged cache file: the same lock" ||
	fail "damaged cache file: the same lock"
check_eq "damaged cache file: mended" 1 "$(cached "$(mlock)")"
# an answer for other inputs (another pare, recipe or index) is never taken
sed -i 's/"recipe_sha256": "[0-9a-f]*"/"recipe_sha256": "'"$(printf '%064d' 7)"'"/' "$f"
check_eq "a cache file for other inputs: solved" 0 "$(cached "$(mlock)")"
# a recipe edit
recipe memo "file://$W/memo" "$W/memo/keyring.gpg" "packages: [hello]"
out=$(mlock)
check_eq "recipe edited: solved" 0 "$(cached "$out")"
hasnt "$(L=$W/memo.lock closure memo)" libssl3 && ok "recipe edited: the new answer" ||
	fail "recipe edited: the new answer" "$(L=$W/memo.lock closure memo)"
recipe memo "file://$W/memo" "$W/memo/keyring.gpg" "packages: [hello, libssl3]"
check_eq "recipe restored: the earlier answer is kept no more (one file a recipe and arch)" 0 "$(cached "$(mlock)")"
# a new upload: the InRelease changes, so the kept answer is not used
sed 's/^Version: .*/Version: 9.9-1/' "$PARE_SRC/tests/fixtures/packages/libssl3.pkg" >"$W/libssl3-new.pkg"
FIXTURE_DATE="Wed, 01 Jan 2025 00:00:00 UTC" "$PARE_SRC/tests/fixtures/mkrepo" --add "$W/memo" "$W/libssl3-new.pkg" >/dev/null 2>&1
out=$(mlock)
check_eq "new upload: solved" 0 "$(cached "$out")"
has "$(L=$W/memo.lock closure memo)" libssl3=9.9-1 && ok "new upload: locked" ||
	fail "new upload: locked" "$(L=$W/memo.lock closure memo)"
check_eq "and kept again" 1 "$(cached "$(mlock)")"
rm -f "$R/memo.yaml"

# ---- dependency semantics ------------------------------------------------------------------
recipe deps "$U" "$K" "packages: [hello, app-versioned, app-alt, app-virtual, app-predep, app-ma, chain-top, ca-certificates]" \
	"archs: [amd64, arm64]"
check "lock over file://" plock deps
c=$(closure deps)
has "$c" libver=2.1-1 && ok "versioned dependency (>= 2.0) picks libver 2.1-1" || fail "versioned dependency picks libver 2.1-1" "$c"
# every field the lock keeps of a package is the index's (Installed-Size too: the builder's
# decompression limit comes from it)
check "lock fields are the Packages index's" python3 - "$L" "$repo" <<'EOF'
import json, sys
lock, repo = json.load(open(sys.argv[1])), sys.argv[2]
fields = {"version": "Version", "filename": "Filename", "size": "Size", "sha256": "SHA256",
          "installed_size": "Installed-Size", "architecture": "Architecture"}
idx = {}
for arch in ("amd64", "arm64", "all"):
    for para in open(f"{repo}/dists/stable/main/binary-{arch}/Packages").read().split("\n\n"):
        f = dict(l.split(": ", 1) for l in para.splitlines() if l and not l.startswith(" "))
        if f:
            idx[(f["Package"], f["Version"], f["Architecture"])] = f
bad, n = [], 0
for arch, a in lock["recipes"]["deps"]["archs"].items():
    for p in a["packages"]:
        f = idx[(p["name"], p["version"], p["architecture"])]
        for k, ik in fields.items():
            n += 1
            if str(p[k]) != f[ik]:
                bad.append(f"{arch} {p['name']} {k}: {p[k]} (index: {f[ik]})")
print("\n".join(bad) or f"{n} fields compared")
sys.exit(1 if bad or n < 50 else 0)
EOF
has "$c" libalt-a && hasnt "$c" libalt-b && ok "alternatives: the first one (libalt-a), only" ||
	fail "alternatives: the first one" "$c"
has "$c" mta-one && ok "virtual package provided by mta-one" || fail "virtual package" "$c"
has "$c" libpre && ok "Pre-Depends followed" || fail "Pre-Depends followed" "$c"
has "$c" tool-foreign && has "$c" data-all && ok "Multi-Arch foreign and arch:all dependencies" ||
	fail "Multi-Arch foreign and arch:all" "$c"
check_eq "arch:all package locked with architecture all" all "$(field deps data-all architecture)"
check_eq "source from 'Source: hello-src (1.0-1)'" "hello-src 1.0-1" \
	"$(field deps hello source) $(field deps hello source_version)"
check_eq "source from 'Source: glibc'" glibc "$(field deps libc6 source)"
check_eq "required_by of libver" "['app-versioned']" "$(field deps libver required_by)"
check_eq "requested packages are required by the recipe" "['recipe']" "$(field deps hello required_by)"
hasnt "$c" debconf && ok "debconf (assumed by default) satisfies ca-certificates without being locked" ||
	fail "debconf assumed" "$c"
has "$(closure deps arm64)" hello && ok "arm64 locked as well" || fail "arm64 locked as well"
check_eq "pool path, size and sha256 of hello match the index" \
	"$(awk -v RS= '/Package: hello\n/' "$repo/dists/stable/main/binary-amd64/Packages" |
		sed -n 's/^Filename: //p; s/^Size: //p; s/^SHA256: //p' | tr '\n' ' ')" \
	"$(field deps hello filename) $(field deps hello size) $(field deps hello sha256) "
if grep -Eq 'file:|http:|127\.0\.0\.1' "$L"; then fail "recipes.lock holds no URLs" "$(grep -E 'file:|http:' "$L")"; else ok "recipes.lock holds no URLs"; fi

out=$(pwhy deps chain-bottom 2>&1) || true
check_eq "pare why: the chain" "chain-top -> chain-mid -> chain-bottom" "$out"
out=$(pwhy --arch arm64 deps libc6 2>&1) || true
check_eq "pare why --arch arm64: shortest path" "hello -> libc6" "$out"
check_fails "pare why: a package outside the closure" "libalt-b is not in the closure" pwhy deps libalt-b
check_fails "pare why: an unlocked recipe" "run 'pare lock" pwhy nosuch libc6

# ---- assume / exclude ----------------------------------------------------------------------
recipe shell "$U" "$K" "packages: [needs-shell]"
check "lock needs-shell" plock shell
c=$(closure shell)
hasnt "$c" dash && hasnt "$c" libc6 && ok "assumed dash: not locked, and does not drag libc6 in" ||
	fail "assumed dash" "$c"
recipe shell2 "$U" "$K" "packages: [needs-shell]" "assume_defaults: false
allow: [shell]"
check "lock needs-shell without default assumptions" plock shell2
c=$(closure shell2)
has "$c" dash && has "$c" libc6 && ok "assume_defaults: false: dash and its libc6 are locked" ||
	fail "assume_defaults: false" "$c"
# an assumed package stands for its highest version: app-versioned needs libver (>= 2.0),
# which the assumed libver (2.1-1, not 1.0-1) satisfies
recipe assumever "$U" "$K" "packages: [app-versioned]" "assume: [libver]"
check "lock with libver assumed" plock assumever
c=$(closure assumever)
hasnt "$c" libver && ok "assumed libver is its highest version: libver (>= 2.0) needs nothing locked" ||
	fail "assumed libver is its highest version" "$c"
recipe reqdash "$U" "$K" "packages: [dash]" "allow: [shell]"
check "a requested package is never assumed" plock reqdash
has "$(closure reqdash)" dash && ok "requested dash is locked" || fail "requested dash is locked" "$(closure reqdash)"

# ---- errors that say what to do (issue 17.3) -------------------------------------------------
out=$(pwhy shell dash 2>&1) && [[ $out == *"dash is assumed by shell"*"default assume list"* ]] &&
	ok "pare why of an assumed package: says it is assumed" || fail "pare why: assumed" "$out"
recipe shell3 "$U" "$K" "packages: [needs-shell]" "assume: [libc6]"
check "lock with a recipe assume: entry" plock shell3
out=$(pwhy shell3 libc6 2>&1) && [[ $out == *"libc6 is assumed by shell3 (its \`assume:\` list)"* ]] &&
	ok "pare why: assumed by the recipe's own list" || fail "pare why: assume: list" "$out"
# a package requested through extends: the file that asks for it is named
recipe wbase "$U" "$K" "packages: [hello]"
printf 'extends: wbase.yaml\nname: wchild\npackages: [chain-top]\n' >"$R/wchild.yaml"
check "lock a recipe that extends another" plock wchild
out=$(pwhy wchild hello 2>&1) || true
check_eq "pare why: a package requested by the extended recipe" "hello (requested by wbase.yaml)" "$out"
out=$(pwhy wchild libc6 2>&1) || true
check_eq "pare why: a path from the extended recipe's package" "hello -> libc6 (requested by wbase.yaml)" "$out"
out=$(pwhy wchild chain-top 2>&1) || true
check_eq "pare why: a package the recipe itself asks for" "chain-top (requested by wchild.yaml)" "$out"
recipe badarch "$U" "$K" "packages: [hello]" "archs: [amd64, amd46]"
check_fails "an unknown architecture in a recipe: named, with file:line" \
	"^pare: [^ ]*badarch.yaml:[0-9]+:[0-9]+: unknown architecture 'amd46'" plock badarch
rm "$R/badarch.yaml"
check_fails "build --arch for an architecture not locked: add it to archs: and re-lock" \
	"not locked for architecture 'arm64' \(locked: amd64\): add it to .archs:. in .*shell.yaml and run 'pare lock shell'" \
	env PARE_RECIPES="$R" PARE_LOCK="$L" "$PARE" --quiet build shell --arch amd64,arm64 -o "$W/never"
[[ ! -e $W/never ]] && ok "nothing written for the refused build" || fail "nothing written for the refused build"
check_fails "build without recipes.lock: says to run pare lock" \
	"^pare: .*nolock.lock does not exist: run 'pare lock' first" \
	env PARE_RECIPES="$R" PARE_LOCK="$W/nolock.lock" "$PARE" --quiet build shell -o "$W/never"
rc=0
PARE_RECIPES=$R PARE_LOCK=$W/nolock.lock "$PARE" --quiet check shell >/dev/null 2>"$W/check.err" || rc=$?
check_eq "pare check without recipes.lock: exit 2 (error), not 3" 2 "$rc"
grep -q "nolock.lock does not exist: run 'pare lock' first" "$W/check.err" &&
	ok "pare check without recipes.lock: says to run pare lock" || fail "check without lock" "$(cat "$W/check.err")"

recipe excl "$U" "$K" "packages: [app-alt]" "exclude: [libalt-a]"
check "lock with exclude" plock excl
c=$(closure excl)
has "$c" libalt-b && hasnt "$c" libalt-a && ok "exclude: the other alternative is taken" || fail "exclude" "$c"
recipe excl2 "$U" "$K" "packages: [hello]" "exclude: [libc6]"
check_fails "exclude of a needed package" "excl2 amd64: cannot resolve: .*the recipe excludes libc6" plock excl2

# ---- unsolvable ------------------------------------------------------------------------------
recipe conf "$U" "$K" "packages: [wants-both]"
check_fails "conflicts: unsolvable, explained" "conf amd64: cannot resolve: .*conflict" plock conf
recipe broken "$U" "$K" "packages: [broken-dep]"
check_fails "broken dependency names what is missing" "broken amd64: cannot resolve: .*does-not-exist" plock broken
recipe toonew "$U" "$K" "packages: [app-too-new]"
check_fails "unsatisfiable version" "toonew amd64: cannot resolve: .*libver" plock toonew
recipe nopkg "$U" "$K" "packages: [no-such-package]"
check_fails "unknown package" "no package 'no-such-package'" plock nopkg
recipe pinned "$U" "$K" "packages: ['libver (= 1.0-1)']"
if plock pinned 2>/dev/null; then
	has "$(closure pinned)" libver=1.0-1 && ok "version constraint (= 1.0-1) honoured" ||
		fail "version constraint" "$(closure pinned)"
else
	fail "version constraint (= 1.0-1) honoured" "$(plock pinned 2>&1)"
fi
rm -f "$R"/{excl2,conf,broken,toonew,nopkg}.yaml

# ---- determinism, cache, http, --check, --offline ------------------------------------------
check "lock all recipes" plock
cp "$L" "$W/lock.1"
check "lock again (warm .solv cache)" plock
if cmp -s "$L" "$W/lock.1"; then ok "warm lock byte-identical"; else fail "warm lock byte-identical" "$(diff "$W/lock.1" "$L" | head)"; fi
PARE_CACHE_DIR=$(tmpdir) plock
if cmp -s "$L" "$W/lock.1"; then ok "cold lock (fresh cache) byte-identical"; else fail "cold lock byte-identical" "$(diff "$W/lock.1" "$L" | head)"; fi
[[ $(tail -c1 "$L" | od -An -c | tr -d ' ') == '\n' ]] && ! grep -q $'\t' "$L" && ok "2-space indent, trailing newline" ||
	fail "2-space indent, trailing newline"
if ls "$PARE_CACHE_DIR"/solv/*.solv >/dev/null 2>&1; then ok ".solv cache written"; else fail ".solv cache written"; fi

http=$(serve_http "$repo")
for f in "$R"/*.yaml; do sed -i "s|url: $U\$|url: $http|" "$f"; done
check "lock over http://127.0.0.1 (fresh cache)" env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$L" "$PARE" --quiet lock
# recipe_sha256 covers the recipe's URL; everything else must be the same
if diff <(grep -v recipe_sha256 "$W/lock.1") <(grep -v recipe_sha256 "$L") >/dev/null; then
	ok "http and file:// give the same lock"
else
	fail "http and file:// give the same lock" "$(diff "$W/lock.1" "$L" | head)"
fi
grep -q '"GET /dists/stable/InRelease' "$PARE_SCRIPT_TMP"/http-port.*.log 2>/dev/null &&
	ok "the http server was asked for InRelease" || fail "the http server was asked for InRelease"
for f in "$R"/*.yaml; do sed -i "s|url: $http\$|url: $U|" "$f"; done
# credentials in a repository URL are never shown: not in the error, not in --verbose lines
cred=$(tmpdir)
recipe cred "${http/http:\/\//http://pareuser:s3cr3t-pw@}/nope" "$K" "packages: [hello]"
rc=0
err=$(env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$cred/lock" "$PARE" --verbose lock cred 2>&1) || rc=$?
check_eq "a fetch from a URL with a password fails (exit 2)" 2 "$rc"
[[ $err != *s3cr3t-pw* && $err != *pareuser* && $err == *"http://***@127.0.0.1:"*"/nope"* ]] &&
	ok "the password is not printed (stderr and --verbose)" || fail "the password is not printed" "$err"
recipe cred "${http/http:\/\//http://s3cr3t-token@}/nope" "$K" "packages: [hello]"
err=$(env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$cred/lock" "$PARE" --verbose lock cred 2>&1) || true
[[ $err != *s3cr3t-token* && $err == *"http://***@127.0.0.1:"* ]] &&
	ok "a token as the user name is not printed" || fail "a token as the user name is not printed" "$err"
rm -f "$R/cred.yaml"
check "lock over file:// again" plock

check "lock --check: up to date" plock --check
sed -i 's/^packages: \[app-alt\]$/packages: [app-alt, chain-top]/' "$R/excl.yaml"
rc=0
out=$(plock --check 2>&1) || rc=$?
check_eq "lock --check after a recipe change exits 1" 1 "$rc"
[[ $out == *"excl: recipe changed"* && $out == *"excl amd64: + chain-top 1.0-1"* ]] &&
	ok "lock --check lists the changes" || fail "lock --check lists the changes" "$out"
if cmp -s "$L" "$W/lock.1"; then ok "lock --check writes nothing"; else fail "lock --check writes nothing"; fi
check "lock one recipe" plock excl
[[ $(closure deps) == $(L=$W/lock.1 closure deps) ]] && has "$(closure excl)" chain-top &&
	ok "locking one recipe keeps the other entries" || fail "locking one recipe keeps the other entries"
check "lock --check: up to date again" plock --check

mv "$repo" "$repo.away"
check "lock --offline from the cache, repository gone" plock --offline
check_fails "without --offline the missing repository is an error" "no InRelease or Release|cannot" plock
mv "$repo.away" "$repo"

# ---- a repository that lies ------------------------------------------------------------------
# refused NAME ERE: lock recipe "lie" (fresh cache) must fail with ERE and leave the lock alone
refused() {
	local before after
	before=$(sha256sum "$L")
	check_fails "$1" "$2" env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$L" "$PARE" --quiet lock lie
	after=$(sha256sum "$L")
	check_eq "$1: recipes.lock unchanged" "$before" "$after"
}
fresh() { # a private copy of the fixture; recipe "lie" on it
	local r
	r=$(fixture_repo)
	recipe lie "file://$r" "${2:-$r/keyring.gpg}" "packages: [hello]"
	printf '%s\n' "$r"
}

r=$(fresh)
check "a good copy locks" env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$L" "$PARE" --quiet lock lie
d=$r/dists/stable/main/binary-amd64
sed -i 's/^Version: 1.0-1$/Version: 1.0-2/' "$d/Packages"
xz -6 -c "$d/Packages" >"$d/Packages.xz"
gzip -9n -c "$d/Packages" >"$d/Packages.gz"
refused "Packages changed after signing" "Packages.*sha256 mismatch"

r=$(fresh)
recipe lie "file://$r" "$r/wrong-keyring.gpg" "packages: [hello]"
refused "signed by a key not in the keyring" "repository file://.* stable: not signed by a key in .*wrong-keyring.gpg"

r=$(fresh)
sed -i 's/^Label: Pare Fixture$/Label: Pare Fixturf/' "$r/dists/stable/InRelease"
refused "InRelease text changed after signing" "repository file://.* stable: bad OpenPGP signature"

r=$(fresh)
python3 - "$r/dists/stable/InRelease" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
i = lines.index("-----BEGIN PGP SIGNATURE-----") + 4   # well inside the signature packet
s = lines[i]
lines[i] = s[:10] + ("A" if s[10] != "A" else "B") + s[11:]
open(p, "w").write("\n".join(lines))
EOF
refused "corrupted signature" "bad OpenPGP signature|not signed by a key"

r=$(fresh)
rm "$r/dists/stable/InRelease"
check "no InRelease: Release + Release.gpg are used" env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$L" "$PARE" --quiet lock lie
rm "$r/dists/stable/Release.gpg"
refused "unsigned repository" "stable: is not signed"

r=$(fresh)
FIXTURE_VALID_UNTIL="Sun, 01 Jan 2023 12:00:00 UTC" "$PARE_SRC/tests/fixtures/mkrepo" --resign "$r" >/dev/null 2>&1
refused "expired Release" "Release expired on Sun, 01 Jan 2023 12:00:00 UTC \(Valid-Until\)"

r=$(fresh)
FIXTURE_DATE="Tue, 03 Jan 2023 00:00:00 UTC" "$PARE_SRC/tests/fixtures/mkrepo" --resign "$r" >/dev/null 2>&1
check "lock from a newer Release" env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$L" "$PARE" --quiet lock lie
"$PARE_SRC/tests/fixtures/mkrepo" --resign "$r" >/dev/null 2>&1
refused "rollback to an older Release" "Release Date Mon, 02 Jan 2023 00:00:00 UTC is older than Tue, 03 Jan 2023 00:00:00 UTC in recipes.lock: refusing a rollback"

# a Date in the future would become the rollback memory and lock out every genuine Release
r=$(fresh)
FIXTURE_DATE="Thu, 01 Jan 2099 00:00:00 UTC" "$PARE_SRC/tests/fixtures/mkrepo" --resign "$r" >/dev/null 2>&1
refused "Release dated 2099" "stable: Release Date Thu, 01 Jan 2099 00:00:00 UTC is in the future \(more than 10 s ahead"
soon=$(date -u -d '+1 hour' '+%a, %d %b %Y %H:%M:%S UTC')
FIXTURE_DATE="$soon" "$PARE_SRC/tests/fixtures/mkrepo" --resign "$r" >/dev/null 2>&1
refused "Release dated an hour ahead" "Release Date $soon is in the future"
check "PARE_MAX_CLOCK_SKEW=7200 accepts it" env PARE_MAX_CLOCK_SKEW=7200 PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$W/skew.lock" "$PARE" --quiet lock lie
check_fails "PARE_MAX_CLOCK_SKEW must be a number" "PARE_MAX_CLOCK_SKEW='-1': not a number of seconds" \
	env PARE_MAX_CLOCK_SKEW=-1 PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$W/skew.lock" "$PARE" --quiet lock lie
# unsigned text around the clearsigned block: refused as apt does
r=$(fresh)
{ printf 'Origin: Evil\nSuite: stable\n\n'; cat "$r/dists/stable/InRelease"; } >"$r/x" && mv "$r/x" "$r/dists/stable/InRelease"
refused "unsigned text before the signed message" "stable: InRelease has unsigned text before the signed message"
r=$(fresh)
printf '\nSHA256:\n %064d 1 main/binary-amd64/Packages\n' 0 >>"$r/dists/stable/InRelease"
refused "unsigned text after the signature" "stable: InRelease has unsigned text after the signature"
r=$(fresh)
cat "$r/dists/stable/InRelease" "$r/dists/stable/InRelease" >"$r/x" && mv "$r/x" "$r/dists/stable/InRelease"
refused "two signed messages" "stable: InRelease has unsigned text after the signature"
r=$(fresh)
recipe lie "file://$r" trusted "packages: [hello]"
rm "$r/dists/stable/Release" # trusted: true reads InRelease only without a Release
printf 'Evil: yes\n' >>"$r/dists/stable/InRelease"
refused "trusted: true: unsigned text after the signature" "stable: InRelease has unsigned text after the signature"
r=$(fresh)
{ printf '\n\n'; cat "$r/dists/stable/InRelease"; printf '\n \n'; } >"$r/x" && mv "$r/x" "$r/dists/stable/InRelease"
check "blank lines around the clearsigned block are fine" env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$W/blank.lock" "$PARE" --quiet lock lie

# A correctly signed Release of another suite (testing) served under dists/stable: the
# signature is good, the suite is not the one the recipe asked for.
r=$(fresh)
sed -i -e 's/^Suite: stable$/Suite: testing/' -e 's/^Codename: fixture$/Codename: trixie/' \
	"$r/dists/stable/Release"
g=$(tmpdir)
cp -a "$r/.gnupg/." "$g/"
rm -f "$r/dists/stable/InRelease" "$r/dists/stable/Release.gpg"
for how in --clearsign "--armor --detach-sign"; do
	out=$r/dists/stable/InRelease
	[[ $how == --clearsign ]] || out=$r/dists/stable/Release.gpg
	# shellcheck disable=SC2086
	gpg --batch --quiet --no-tty --homedir "$g" --pinentry-mode loopback --passphrase '' \
		-u '<fixture@invalid>' --digest-algo SHA512 $how -o "$out" "$r/dists/stable/Release"
done
gpgconf --homedir "$g" --kill all >/dev/null 2>&1 || true
check "the testing Release is signed by the fixture key" \
	gpgv --keyring "$r/keyring.gpg" "$r/dists/stable/InRelease"
refused "a signed Release of another suite under dists/stable" \
	"Release is for suite 'testing' \(codename 'trixie'\), not 'stable'"

# No keyring in the recipe: the keyrings apt trusts, binary or armored
apt=$(tmpdir)
mkdir -p "$apt/trusted.gpg.d"
recipe lie "$U" apt "packages: [chain-top]"
cp "$repo/keyring.asc" "$apt/trusted.gpg.d/fixture.asc"
# (a lock of its own: $L now remembers the newer Release of the rollback test)
check "no keyring: apt's trusted.gpg.d (armored .asc)" env PARE_APT_DIR="$apt" PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$W/apt.lock" "$PARE" --quiet lock lie
rm "$apt/trusted.gpg.d/fixture.asc"
cp "$repo/keyring.gpg" "$apt/trusted.gpg"
check "no keyring: apt's trusted.gpg" env PARE_APT_DIR="$apt" PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$W/apt.lock" "$PARE" --quiet lock lie
rm "$apt/trusted.gpg"
cp "$repo/wrong-keyring.gpg" "$apt/trusted.gpg.d/other.gpg"
PARE_APT_DIR=$apt refused "no keyring: a key apt does not trust" "not signed by a key in the keyrings trusted by apt"

# A malformed index needs a Release that lists it: a hand-made, trusted repository.
m=$(tmpdir)/mal
mkdir -p "$m/dists/stable/main/binary-amd64"
mkrel() {
	local f=$m/dists/stable/main/binary-amd64/Packages
	{
		printf 'Origin: Mal\nSuite: stable\nCodename: mal\nDate: Mon, 02 Jan 2023 00:00:00 UTC\nSHA256:\n'
		printf ' %s %s main/binary-amd64/Packages\n' "$(sha256sum <"$f" | cut -c1-64)" "$(stat -c %s "$f")"
	} >"$m/dists/stable/Release"
}
awk -v RS= -v ORS='\n\n' '/Package: (hello|libc6|libhello-data)\n/' "$repo/dists/stable/main/binary-amd64/Packages" \
	>"$m/dists/stable/main/binary-amd64/Packages"
mkrel
recipe lie "file://$m" trusted "packages: [hello]"
err=$(env PARE_CACHE_DIR="$(tmpdir)" PARE_RECIPES="$R" PARE_LOCK="$W/mal.lock" "$PARE" lock lie 2>&1) &&
	[[ $err == *"trusted: true, the OpenPGP signature is not checked"* ]] &&
	ok "trusted: true locks, with a warning" || fail "trusted: true locks, with a warning" "$err"
# apt's rule: a dependency on D takes the package named D over one that only Provides it
stanza() { printf 'Package: %s\nVersion: 1\nArchitecture: amd64\nFilename: pool/%s.deb\nSize: 1\nSHA256: %064d\n%s\n' "$1" "$1" 0 "${2:+$2$'\n'}"; }
{ stanza aaa-impostor "Provides: libreal"; stanza app "Depends: libreal"; stanza libreal ""; } >"$m/dists/stable/main/binary-amd64/Packages"
mkrel
recipe imp "file://$m" trusted "packages: [app]"
PARE_LOCK=$W/imp.lock PARE_RECIPES=$R "$PARE" --quiet lock imp 2>/dev/null || true
c=$(L=$W/imp.lock closure imp)
has "$c" libreal && hasnt "$c" aaa-impostor && ok "a real package wins over a provider with a lower id" ||
	fail "a real package wins over a provider" "$c"
rm -f "$R/imp.yaml"
awk -v RS= -v ORS='\n\n' '/Package: (hello|libc6|libhello-data)\n/' "$repo/dists/stable/main/binary-amd64/Packages" \
	>"$m/dists/stable/main/binary-amd64/Packages"
printf 'Package: broken\nVersion 1.0\nArchitecture: amd64\n' >>"$m/dists/stable/main/binary-amd64/Packages"
mkrel
refused "malformed Packages stanza" "binary-amd64/Packages:[0-9]+: malformed line"
printf 'Package: xx\nVersion: 1\nArchitecture: amd64\nFilename: ../../etc/passwd\nSize: 1\nSHA256: %064d\n' 0 \
	>"$m/dists/stable/main/binary-amd64/Packages"
mkrel
refused "Filename escaping the repository" "unsafe Filename '../../etc/passwd'"

# ---- recipe policy (docs/recipes.md, allow): one line naming file:line:col, exit 2 ----------
# refused_recipe NAME DESC ERE: lock NAME must exit 2 with exactly one line matching ERE,
# never quote hunter2 (the text of a file outside the recipes), and leave the lock alone
refused_recipe() {
	local before err rc=0
	before=$(sha256sum "$L")
	err=$(PARE_RECIPES=$R PARE_LOCK=$L "$PARE" --quiet lock "$1" 2>&1) || rc=$?
	[[ $rc == 2 && $(wc -l <<<"$err") == 1 && $err != *hunter2* ]] && grep -Eq -- "$3" <<<"$err" &&
		ok "$2" || fail "$2" "exit status $rc"$'\n'"$err"
	check_eq "$2: recipes.lock unchanged" "$before" "$(sha256sum "$L")"
	rm -f "$R/$1.yaml"
}
printf 'secret-token: hunter2\npackages: [hello]\n' >"$W/outside.yaml"
recipe esc "file://$m" trusted "extends: ../outside.yaml" "packages: [hello]"
refused_recipe esc "extends outside the recipe directory" \
	"^pare: $R/esc.yaml:[0-9]+:10: extends: '../outside.yaml' is outside the recipe's directory\$"
recipe asroot "file://$m" trusted "accounts: {run-as: '0:1000'}" "packages: [hello]"
refused_recipe asroot "run-as uid 0 without allow: [root]" \
	"^pare: $R/asroot.yaml:[0-9]+:20: run-as: '0:1000' runs the image as root \\(needs allow: \\[root\\]\\)\$"

done_testing
