#!/usr/bin/env bash
# t-concurrency.sh - writers of recipes.lock run at the same time (each re-reads the lock
# under a flock of its directory before merging its entries), and update --commit killed at
# any step is completed by the next run (docs/lock.md, docs/update.md).
. "$(dirname "$0")/lib.sh"

need jq git
fixture_env || fail "fixture"
N=10

# --- 10 parallel pare lock of distinct recipes keep every entry ------------------------------------
for i in $(seq 1 $N); do fixture_recipe "r$i" stable "hello"; done
lost=""
for round in 1 2 3; do
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
check_eq "$N parallel pare lock, 3 rounds: every entry kept" "" "$lost"

# lock (all recipes, dropping gone ones) and lock of one recipe at once
rm "$PARE_RECIPES/r1.yaml"
"$PARE" --quiet lock & a=$!
"$PARE" --quiet lock r2 & b=$!
wait "$a" && wait "$b" || fail "pare lock at once"
check_eq "gone recipe dropped, the others kept" "$((N - 1)) null" \
	"$(jq -r '"\(.recipes | keys | length) \(.recipes.r1)"' "$PARE_LOCK")"

done_testing
