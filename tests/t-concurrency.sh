#!/usr/bin/env bash
# t-concurrency.sh - writers of recipes.lock run at the same time (each re-reads the lock
# under a flock of its directory before merging its entries), and update --commit killed at
# any step is completed by the next run (docs/lock.md, docs/update.md); what update --commit
# needs is checked before anything moves; SIGINT/SIGTERM leave no temporaries, and cache prune
# removes a dead process's at once but not a live one's (docs/cache.md).
. "$(dirname "$0")/lib.sh"

need jq git strace
fixture_env || fail "fixture"
N=10

# --- 10 parallel pare lock of distinct recipes keep every entry ------------------------------------
for i in $(seq 1 $N); do fixture_recipe "r$i" stable "hello"; done
lost=""
for round in 1 2; do
	rm -f "$PARE_LOCK"
	pids=()
	for i in $(seq 1 $N); do "$PARE" --quiet lock "r$i" 2>"$W/lock.$i.err" & pids+=($!); done
	rcs=""
	for p in "${pids[@]}"; do wait "$p" || rcs+=" $?"; done
	[[ -z $rcs ]] || fail "round $round: pare lock exit status$rcs" "$(cat "$W"/lock.*.err)"
	got=$(jq -r '.recipes | keys | length' "$PARE_LOCK")
	[[ $got == "$N" ]] || lost+=" round $round: $got of $N entries;"
	ls "$W" | grep -q '\.tmp\.' && lost+=" round $round: a temporary left;"
done
check_eq "$N parallel pare lock, 2 rounds: every entry kept" "" "$lost"

# lock (all recipes, dropping gone ones) and lock of one recipe at once
rm "$PARE_RECIPES/r1.yaml"
"$PARE" --quiet lock & a=$!
"$PARE" --quiet lock r2 & b=$!
wait "$a" && wait "$b" || fail "pare lock at once"
check_eq "gone recipe dropped, the others kept" "$((N - 1)) null" \
	"$(jq -r '"\(.recipes | keys | length) \(.recipes.r1)"' "$PARE_LOCK")"

# --- update --commit: what can fail is checked before anything moves ----------------------------
G=$W/git OUT=$W/out
export PARE_RECIPES=$G/recipes PARE_LOCK=$G/recipes.lock
mkdir -p "$PARE_RECIPES"
git init -q "$G"
git -C "$G" config user.name "Pare Test"
git -C "$G" config user.email "pare-test@example.invalid"
git -C "$G" config commit.gpgsign false
fixture_recipe hello stable "hello"
fixture_recipe ssl stable "hello"
check "lock" "$PARE" --quiet lock
git -C "$G" add -A && git -C "$G" commit -q -m recipes
check "images" "$PARE" --quiet update -o "$OUT"
# the change to record: ssl gets openssl
fixture_recipe ssl stable "hello, openssl"
digest() { jq -r '.manifests[0].digest' "$OUT/$1/index.json"; }
# state: what must not move when update --commit refuses
state() { echo "$(digest hello) $(digest ssl) $(sha256sum <"$PARE_LOCK") $(git -C "$G" rev-parse HEAD) $(ls -A "$OUT" "$G" | tr '\n' ' ')"; }
S0=$(state)
cp -a "$G" "$W/git0" && cp -a "$OUT" "$W/out0"
# no author: no user.name/user.email anywhere (CI runners)
git -C "$G" config --unset user.name
git -C "$G" config --unset user.email
check_fails "update --commit with no author refuses" '^pare: --commit: no author' \
	env HOME="$W/nohome" XDG_CONFIG_HOME="$W/nohome" GIT_CONFIG_NOSYSTEM=1 \
	"$PARE" --quiet update --commit -o "$OUT"
check_eq "... before anything moved" "$S0" "$(state)"
git -C "$G" config user.name "Pare Test"
git -C "$G" config user.email "pare-test@example.invalid"
# a git holding the index lock
: >"$G/.git/index.lock"
check_fails "update --commit refuses while the index is locked" 'index.lock exists' \
	"$PARE" --quiet update --commit -o "$OUT"
check_eq "... before anything moved, the lock not removed" "$S0 yes" "$(state) $(test -e "$G/.git/index.lock" && echo yes)"
rm "$G/.git/index.lock"
# detached HEAD: the commit would be on no branch
git -C "$G" checkout -q --detach
check_fails "update --commit refuses on a detached HEAD" 'HEAD .* is detached' \
	"$PARE" --quiet update --commit -o "$OUT"
check_eq "... before anything moved" "$S0" "$(state)"
git -C "$G" checkout -q -

# --- update --commit killed at every step: the next run completes it ---------------------------
# (LeakSanitizer cannot run in a process strace traces: no leak check in the traced runs)
restore() { rm -rf "$G" "$OUT" && cp -a "$W/git0" "$G" && cp -a "$W/out0" "$OUT"; }
restore
check "reference run" "$PARE" --quiet update --commit -o "$OUT"
REF="$(digest hello) $(digest ssl) $(sha256sum <"$PARE_LOCK" | cut -c1-64) $(git -C "$G" log -1 --format=%B | sha256sum | cut -c1-64) $(git -C "$G" rev-parse -q --verify HEAD~1 || echo none)"
check_eq "reference run: a commit, a clean tree" "" "$(git -C "$G" status --porcelain)"
# consistent: the images, the lock and the commit of the reference run; nothing else left
result() {
	echo "$(digest hello) $(digest ssl) $(sha256sum <"$PARE_LOCK" | cut -c1-64) $(git -C "$G" log -1 --format=%B | sha256sum | cut -c1-64) $(git -C "$G" rev-parse -q --verify HEAD~1 || echo none)"
	git -C "$G" status --porcelain
	find "$G" "$OUT" \( -name '*.tmp*' -o -name '*.update*' -o -name '*.pull-*' -o -name '*.lock' \) ! -path "$PARE_LOCK"
}
bad=""; runs=0; refused=""
# (link: git's loose objects, before the index and ref renames: a kill there is one before
# the next rename; unlink: the journal's removal, the last step)
for call in rename renameat renameat2 unlink; do
	for ((n = 1; n <= 60; n++)); do
		restore
		rc=0
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
			strace -f -o /dev/null -e trace="$call" -e inject="$call":signal=SIGKILL:when="$n" \
			"$PARE" --quiet update --offline --commit -o "$OUT" >/dev/null 2>"$W/killed.err" || rc=$?
		((rc == 137)) || break # fewer than n calls: the run was not killed
		runs=$((runs + 1))
		if [[ -e $PARE_LOCK.update-journal && -z $refused ]]; then
			rc=0; "$PARE" --quiet lock ssl 2>"$W/lock.err" || rc=$?
			refused="$rc $(grep -c "^pare: .*a pare update was interrupted" "$W/lock.err")"
		fi
		"$PARE" --quiet update --offline --commit -o "$OUT" >/dev/null 2>"$W/rerun.err" ||
			bad+="$call #$n: re-run failed: $(cat "$W/rerun.err");"
		[[ $(result) == "$REF" ]] || bad+="$call #$n: $(result | tr '\n' ' ');"
	done
done
check_eq "killed at each of $runs steps, the re-run completes the update" "" "$bad"
check_eq "pare lock refuses while an update's journal is pending" "2 1" "$refused"
((runs >= 12)) || fail "only $runs kill points (strace's fault injection not working?)"

# --- SIGINT/SIGTERM: pare removes its temporaries before it dies -------------------------------
# strace makes the Nth rename (the moment a temporary is complete) fail with EINTR and delivers
# the signal then: the temporary exists when the signal arrives
temps() { find "$@" \( -name '*.tmp*' -o -name '*.part*' -o -name '*.pull-tmp*' \) 2>/dev/null; }
SW=$W/sig
export PARE_RECIPES=$SW/recipes PARE_LOCK=$SW/recipes.lock
mkdir -p "$PARE_RECIPES"
fixture_recipe hello stable "hello"
left=""; sigs=0
for cmd in lock build; do
	for ((n = 1; n <= 40; n++)); do
		sig=$((n % 2 ? 15 : 2))
		export PARE_CACHE_DIR=$SW/cache.$cmd
		rm -rf "$PARE_CACHE_DIR" "$SW/out"
		[[ $cmd == lock ]] && rm -f "$PARE_LOCK"
		args=(lock hello)
		[[ $cmd == build ]] && args=(build hello -o "$SW/out")
		rc=0
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
			strace -f -o /dev/null -e trace=rename -e inject=rename:error=EINTR:signal=$sig:when=$n \
			"$PARE" --quiet "${args[@]}" >/dev/null 2>&1 || rc=$?
		((rc == 128 + sig)) || break # the signal did not end it: past the last rename
		sigs=$((sigs + 1))
		t=$(temps "$SW")
		[[ -z $t ]] || left+="$cmd, signal $sig at rename $n: $t;"
	done
	[[ $cmd == lock ]] && "$PARE" --quiet lock hello
done
check_eq "SIGINT/SIGTERM at each of $sigs renames of lock and build: no temporaries left" "" "$left"
((sigs >= 6)) || fail "only $sigs signal points"

# --- pare cache prune: a dead process's temporaries whatever their age, not a live one's --------
export PARE_CACHE_DIR=$W/cache
sleep 0 & dead=$!; wait "$dead"
sleep 300 & live=$!
at_exit kill "$live"
mkdir -p "$PARE_CACHE_DIR/debs/sha256" "$PARE_CACHE_DIR/blobs/sha256" "$PARE_CACHE_DIR/resolve"
for p in $dead $live; do
	: >"$PARE_CACHE_DIR/debs/sha256/$(printf %064d 0).part.$p"
	: >"$PARE_CACHE_DIR/blobs/sha256/.tmp.$p.3"
	: >"$PARE_CACHE_DIR/resolve/x.lock.tmp.$p"
done
check "prune" "$PARE" --quiet cache prune
check_eq "prune removed the dead pid's temporaries, kept the live one's" \
	"$(printf '%s\n' "$(printf %064d 0).part.$live" ".tmp.$live.3" "x.lock.tmp.$live" | LC_ALL=C sort)" \
	"$(cd "$PARE_CACHE_DIR" && temps . | xargs -n1 basename | LC_ALL=C sort)"

done_testing
