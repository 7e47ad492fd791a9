#!/bin/bash
# t-docs.sh - every `pare …` command line shown in a fenced code block of README.md and
# docs/*.md runs, against fixtures: the docs are read at test time, each line is mapped to a
# fixture environment (recipes python3, nodejs and hello on the fixture repository, a local
# docker-registry on 127.0.0.1 in place of the example registries, a throw-away key with
# PARE_PASSWORD, the recipes in a git work tree) and run in document order; it must exit 0,
# or with the exit status the docs give it. Lines that cannot run hermetically are in SKIP
# below, each with its reason. Also: usage errors are one `pare: …` line.
. "$(dirname "$0")/lib.sh"

need docker-registry curl git jq perl python3 gpgv

# ---- usage errors: one line `pare: …`, exit 2 ------------------------------------------------
usage_error() { # DESC ARGS...: exit 2, stderr exactly one line starting "pare: "
	local desc=$1 err rc=0
	shift
	err=$("$PARE" "$@" 2>&1 >/dev/null) || rc=$?
	if ((rc == 2)) && [[ $(wc -l <<<"$err") == 1 && $err == "pare: "* ]]; then
		ok "$desc"
	else
		fail "$desc" "exit $rc, stderr:"$'\n'"$err"
	fi
}
usage_error "pare --bogus: one line pare: …, exit 2" --bogus
usage_error "pare build --bogus: one line pare: …, exit 2" build --bogus
usage_error "pare nosuchcommand: one line pare: …, exit 2" nosuchcommand
rc=0
err=$("$PARE" 2>&1 >/dev/null) || rc=$?
if ((rc == 2)) && [[ $(tail -n1 <<<"$err") == "pare: "* ]] && grep -q '^usage: pare' <<<"$err"; then
	ok "bare pare: usage on stderr, a pare: line, exit 2"
else
	fail "bare pare: usage on stderr, a pare: line, exit 2" "exit $rc, stderr:"$'\n'"$err"
fi

# ---- the command lines of the docs --------------------------------------------------------
# SKIP: "SUBSTRING<TAB>reason" — a doc line containing SUBSTRING is not run
SKIP=$(
	cat <<'EOF'
pare check / update / plan / watch:	a diagram's caption, not a command line
pare watch --interval 1h	runs until stopped (t-update runs watch with --cycles)
"$d" "registry.example/team/	inside the workflow's loop over out/*/ ($d); its pare push is the README's
lock:old.lock:	needs a lock file from an earlier revision (t-inspect diffs one)
pare cve	needs synced CVE feeds: t-cve.sh runs each form on fixture feeds
EOF
)

# doc_commands: "FILE:LINE<TAB>COMMAND" for each line of a fenced code block that runs pare
# (continuation lines joined, trailing comments dropped)
doc_commands() {
	local f
	for f in "$PARE_SRC/README.md" "$PARE_SRC"/docs/*.md; do
		awk -v F="${f#"$PARE_SRC"/}" '
			/^[ \t]*```/ { inb = !inb; next }
			!inb { next }
			{
				if (cont != "") { line = cont " " $0; cont = "" } else { line = $0; start = FNR }
				if (line ~ /\\$/) { sub(/[ \t]*\\$/, "", line); cont = line; next }
				if (line !~ /(^|[|;&(]|\$\()[ \t]*(\.\/)?pare( +-[a-z-]+)* +[a-z]+( |;|$)/) next
				# a trailing comment: " # …" outside quotes
				for (i = 1; i <= length(line); i++) {
					c = substr(line, i, 1)
					if (c == "\x27" && !dq) sq = !sq
					else if (c == "\"" && !sq) dq = !dq
					else if (c == "#" && !sq && !dq && substr(line, i - 1, 1) ~ /[ \t]/) {
						line = substr(line, 1, i - 1)
						break
					}
				}
				sq = dq = 0
				sub(/[ \t]+$/, "", line)
				sub(/^[ \t]+/, "", line)
				printf "%s:%d\t%s\n", F, start, line
			}' "$f"
	done
}

W=$(tmpdir)
REPO=$(fixture_repo)
RUN=$W/run
mkdir -p "$RUN/recipes" "$W/bin" "$W/home"
unset PARE_RECIPES PARE_LOCK DOCKER_CONFIG
export PARE_CACHE_DIR=$W/cache HOME=$W/home PARE_PASSWORD=docs-test PARE_REGISTRY_BACKOFF_MS=50
export PASSWORD=unused REGISTRY_PASSWORD=unused
printf '#!/bin/sh\nexec "%s" "$@"\n' "$PARE" >"$W/bin/pare"
chmod +x "$W/bin/pare"
ln -s "$W/bin/pare" "$RUN/pare"

# the recipe names the docs use, on the fixture repository
# (python3 extends base.yaml, which requests hello: the README's `why python3 libssl3`)
for r in "base:hello" "nodejs:hello, libalt-a" "hello:hello"; do
	cat >"$RUN/recipes/${r%%:*}.yaml" <<EOF
name: ${r%%:*}
repositories:
  - url: file://$REPO
    suites: [stable]
    components: [main]
    keyring: $REPO/keyring.gpg
archs: [amd64, arm64]
packages: [${r#*:}]
EOF
done
printf 'name: python3\nextends: base.yaml\npackages: [chain-top]\n' >"$RUN/recipes/python3.yaml"
git -C "$RUN" init -q && git -C "$RUN" add recipes &&
	git -C "$RUN" -c user.name=t -c user.email=t@invalid commit -qm recipes || fail "recipes in git"
git -C "$RUN" config user.name docs && git -C "$RUN" config user.email docs@invalid
check "a throw-away key" "$PARE" keygen -o "$RUN/release"

# the registry the examples push to and pull from
registry_start registry || fail "a registry on loopback"
REG=$REGISTRY

mapfile -t LINES < <(doc_commands)
((${#LINES[@]} >= 30)) && ok "${#LINES[@]} pare command lines in the docs" ||
	fail "pare command lines in the docs" "found only ${#LINES[@]}: is the extraction broken?"

nrun=0 nskip=0 page=""
asan=0
[[ ${PARE_TEST_SUITE:-} == asan ]] && asan=1
declare -A seen=()
for entry in "${LINES[@]}"; do
	where=${entry%%$'\t'*} cmd=${entry#*$'\t'} reason=""
	# each page is a walk-through of its own: it starts without the images an earlier page
	# built (a signed out/NAME is, rightly, not replaced by an unsigned build)
	if [[ ${where%%:*} != "$page" ]]; then
		page=${where%%:*}
		rm -rf "$RUN/out" "$RUN/img"
	fi
	while IFS=$'\t' read -r pat why; do
		[[ -n $pat && $cmd == *"$pat"* ]] && reason=$why
	done <<<"$SKIP"
	if [[ -n $reason ]]; then
		skip "$where: $cmd" "$reason"
		nskip=$((nskip + 1))
		continue
	fi
	# the fixture environment: each optional [..] part given, its first alternative where it
	# has several (`[--files | --index]`, `spdx|cyclonedx`), the local registry for the
	# example ones (plain http, so --insecure), a package of the fixture for zlib1g
	run=$(perl -pe 's/\[([^]]*)\]/my $g = (split m{ \| }, $1)[0]; $g =~ s{([^\s|]+)\|\S+}{$1}g; $g/ge' <<<"$cmd" |
		sed -E -e "s/registry\.example|127\.0\.0\.1:5000/$REG/g" -e 's/\bzlib1g\b/chain-bottom/g' -e 's/\blibssl3\b/hello/g')
	if [[ $run == *"$REG"* && $run != *--insecure* ]]; then
		run=$(sed -E "s/\b(pare (push|pull|build|inspect|diff|cache))( |$)/\1 --insecure $REG\3/g" <<<"$run")
	fi
	# Under ASan a line that only reads (why, inspect, diff, verify, audit, sbom, cache du or
	# --dry-run) runs once per form (command, option names, a lock: operand): on other operands it repeats
	# C paths this run already took under ASan; its doc line ran in the plain suite.
	if ((asan)); then
		form=$(perl -ne 'my @p = /(?:^|[\s|;&(])(?:\.\/)?pare\s/g; exit if @p != 1;
			/\bpare((?:\s+-\S+)*)\s+([a-z]+)(.*)/ or exit; my ($g, $c, $r) = ($1, $2, $3);
			my $sub = ($c eq "cache" && $r =~ /^\s+([a-z]+)/) ? " $1" : "";
			exit unless $c =~ /^(why|inspect|diff|verify|audit|sbom)$/ || $sub eq " du" || ($c eq "cache" && $r =~ /--dry-run/);
			my %u; my @o = grep { !$u{$_}++ } sort(($g =~ /(-[-a-zA-Z]+)/g), ($r =~ /\s(-[-a-zA-Z]+)/g));
			my @k = $r =~ /\s(lock:)/g; print join(" ", "$c$sub", @o, @k)' <<<"$run")
		if [[ -n $form && -n ${seen[$form]:-} ]]; then
			skip "$where: $cmd" "under ASan a read-only form runs once: ${seen[$form]} ran '$form'"
			nskip=$((nskip + 1))
			continue
		fi
		[[ -z $form ]] || seen[$form]=$where
	fi
	# keygen does not overwrite a key: the setup's goes aside
	if [[ $run =~ keygen\ -o\ ([^ ]+) ]]; then
		for x in key pub; do
			[[ -e $RUN/${BASH_REMATCH[1]}.$x ]] && mv "$RUN/${BASH_REMATCH[1]}.$x" "$RUN/${BASH_REMATCH[1]}.$x.setup"
		done
	fi
	# the exit statuses the docs document besides 0
	allowed=" 0 "
	[[ $run == *"lock --check"* ]] && allowed=" 0 1 "
	[[ $run =~ pare\ check($|\ --json$) ]] && allowed=" 0 3 "
	[[ $run == *"pare diff "* ]] && allowed=" 0 1 "
	rc=0 t0=$(date +%s%N)
	out=$(cd "$RUN" && PATH=$W/bin:$PATH timeout 120 bash -c "$run" 2>&1 </dev/null) || rc=$?
	echo "# $(( ($(date +%s%N) - t0) / 1000000 )) ms: $run"
	nrun=$((nrun + 1))
	if [[ $allowed == *" $rc "* ]] && ! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' <<<"$out"; then
		ok "$where: $cmd"
	else
		fail "$where: $cmd" "\$ $run"$'\n'"exit status $rc (allowed:$allowed)"$'\n'"$out"
	fi
done
echo "# $nrun doc command lines run, $nskip skipped"

done_testing
