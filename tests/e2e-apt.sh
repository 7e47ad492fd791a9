#!/usr/bin/env bash
# e2e-apt.sh - against the live Debian archive from this machine's apt sources (make e2e): the
# closure `pare lock` gives each shipped recipe is the set of packages `apt-get install -s`
# installs for the recipe's packages, under the same assumptions: a private dpkg status in
# which exactly the recipe's assumed packages (the default list of resolver/recipe.c, the
# Essential set among it, plus the recipe's own `assume:`, through `extends:`) are installed,
# with their Provides and no dependencies (pare's stubs), Recommends and Suggests off. The
# difference is printed, package by package. The recipe's packages and assumptions are read
# from recipes/ and resolver/recipe.c at test time.
. "$(dirname "$0")/lib.sh"

need apt-get apt-cache jq python3
W=$(tmpdir)
export PARE_RECIPES=$PARE_SRC/recipes PARE_LOCK=$W/recipes.lock
ARCH=$(dpkg --print-architecture)

check "pare lock (every shipped recipe, the machine's apt sources)" "$PARE" --quiet lock
# apt's view is the host's lists (make deps ran apt-get update): names are compared, so a
# publication in between rarely matters

DEFAULTS=$(sed -n '/recipe_default_assume\[\] = {/,/NULL/p' "$PARE_SRC/resolver/recipe.c" |
	grep -o '"[^"]*"' | tr -d '"' | tr '\n' ' ')

# recipe_field RECIPE packages|assume: the merged list through extends, one a line
recipe_field() {
	python3 - "$PARE_RECIPES" "$1" "$2" <<'EOF'
import os, sys, yaml
d, name, field = sys.argv[1:]
out, seen = [], set()
path = os.path.join(d, name + ".yaml")
while path and path not in seen:
    seen.add(path)
    r = yaml.safe_load(open(path)) or {}
    for x in r.get(field) or []:
        x = x.get("name") if isinstance(x, dict) else str(x).split()[0]
        if x not in out:
            out.append(x)
    path = os.path.join(os.path.dirname(path), r["extends"]) if r.get("extends") else None
print("\n".join(out))
EOF
}

for r in $(jq -r '.recipes | keys[]' "$PARE_LOCK"); do
	jq -e --arg r "$r" --arg a "$ARCH" '.recipes[$r].archs[$a]' "$PARE_LOCK" >/dev/null || continue
	pkgs=$(recipe_field "$r" packages)
	assume=$( { printf '%s\n' $DEFAULTS; recipe_field "$r" assume; } | sort -u | grep -vxF -f <(printf '%s\n' $pkgs))
	# the private dpkg status: each assumed package at its candidate version (the highest,
	# as pare's stubs: asked with an empty status, not the host's), Provides kept. "+stub"
	# makes the installed version newer than the archive's record, which apt would otherwise
	# see as another build of the same version (no Depends) and "upgrade" to, pulling in its
	# dependencies (util-linux's for python3); >= and >> dependencies still hold.
	st=$W/$r.status
	: >"$W/empty.status"
	# shellcheck disable=SC2086
	apt-cache -o Dir::State::status="$W/empty.status" show --no-all-versions $assume 2>/dev/null |
		awk -v RS= -v ORS='\n\n' '{
			n = split($0, l, "\n"); s = ""
			for (i = 1; i <= n; i++)
				if (l[i] ~ /^Version:/) s = s l[i] "+stub\n"
				else if (l[i] ~ /^(Package|Architecture|Multi-Arch|Provides|Essential):/) s = s l[i] "\n"
			print s "Status: install ok installed"
		}' >"$st"
	: >"$W/$r.ext"
	apt_out=$(apt-get -s -q -o Dir::State::status="$st" -o Dir::State::extended_states="$W/$r.ext" \
		-o APT::Install-Recommends=0 -o APT::Install-Suggests=0 -o Debug::NoLocking=1 \
		install $pkgs 2>&1) || { fail "$r: apt-get install -s" "$apt_out"; continue; }
	apt_set=$(sed -n 's/^Inst \([^ :]*\).*/\1/p' <<<"$apt_out" | sort -u)
	pare_set=$(jq -r --arg r "$r" --arg a "$ARCH" '.recipes[$r].archs[$a].packages[].name' "$PARE_LOCK" | sort -u)
	only_pare=$(comm -23 <(echo "$pare_set") <(echo "$apt_set") | tr '\n' ' ')
	only_apt=$(comm -13 <(echo "$pare_set") <(echo "$apt_set") | tr '\n' ' ')
	excl=$(recipe_field "$r" exclude | xargs)
	if [[ -z $only_pare && -z $only_apt ]]; then
		ok "$r: pare's closure is apt's ($(wc -l <<<"$pare_set") packages)"
	else
		fail "$r: pare's closure differs from apt-get install -s" \
			"only pare: ${only_pare:-none}"$'\n'"only apt:  ${only_apt:-none}${excl:+$'\n'(the recipe excludes $excl, which apt cannot)}"
	fi
done

done_testing
