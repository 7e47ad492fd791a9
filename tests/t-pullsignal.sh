#!/usr/bin/env bash
# t-pullsignal.sh - a pare pull ended by a signal leaves nothing behind: SIGINT and SIGTERM remove
# its DIR.pull-tmp.PID and its record in the cache before it dies; what a SIGKILLed one left is
# removed by pare cache prune (its pid is dead), a live pull's is not. The pull is held mid-way
# by a real docker-registry on 127.0.0.1 that is stopped (SIGSTOP) while pare talks to it.
. "$(dirname "$0")/lib.sh"

need docker-registry jq curl python3
fixture_env
fixture_recipe one stable "hello"
"$PARE" --quiet lock one || fail "lock"
"$PARE" --quiet build one -o "$W/img" >/dev/null || fail "build"

registry_start reg || fail "a registry on loopback"
REG=$REGISTRY_PID R=$REGISTRY
check "push the image" "$PARE" --quiet push --insecure "$R" "$W/img" "$R/one:v1"

# held_pull NAME: start a pull into $W/NAME against the stopped registry; PID its pid, once its
# DIR.pull-tmp.PID exists (it is blocked on the registry from then on)
held_pull() {
	local i
	kill -STOP "$REG"
	"$PARE" --quiet pull --insecure "$R" "$R/one:v1" "$W/$1" >/dev/null 2>"$W/$1.err" &
	PID=$!
	for ((i = 0; i < 400; i++)); do
		[[ -d $W/$1.pull-tmp.$PID ]] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
leftovers() { # temporaries of pulls and of the cache
	find "$W" -maxdepth 1 -name '*.pull-tmp.*'
	find "$PARE_CACHE_DIR" \( -path "$PARE_CACHE_DIR/pulls/*" -o -name '*.tmp.*' -o -name '*.part*' \) -print
}

for sig in INT TERM; do
	if held_pull "p-$sig"; then
		ok "SIG$sig: the pull is under way (its DIR.pull-tmp.PID exists)"
		kill "-$sig" "$PID"
		rc=0
		wait "$PID" || rc=$?
		kill -CONT "$REG"
		check_eq "SIG$sig: pare dies of the signal" "$((128 + $(kill -l "$sig")))" "$rc"
		check_eq "SIG$sig: no pull-tmp directory, no record, no cache temporary left" "" "$(leftovers)"
		check "SIG$sig: no output" test ! -e "$W/p-$sig"
	else
		kill -CONT "$REG"
		fail "SIG$sig: the pull is under way" "$(cat "$W/p-$sig.err")"
		kill -9 "$PID" 2>/dev/null || true
	fi
done

# SIGKILL: the leftovers stay until a prune sees that their pid is gone
if held_pull p-kill; then
	kpid=$PID
	kill -9 "$kpid"
	wait "$kpid" 2>/dev/null || true
	# a live pull's are kept: one more, held
	held_pull p-live || fail "a second held pull" "$(cat "$W/p-live.err")"
	lpid=$PID
	check "SIGKILL leaves DIR.pull-tmp.PID" test -d "$W/p-kill.pull-tmp.$kpid"
	check_eq "cache prune --dry-run names it and removes nothing" \
		"would remove $W/p-kill.pull-tmp.$kpid (left by a killed pare pull, pid $kpid)" \
		"$("$PARE" cache prune --dry-run | grep pull-tmp)"
	check "  still there" test -d "$W/p-kill.pull-tmp.$kpid"
	check_eq "cache prune removes the dead pull's leftovers" \
		"removed $W/p-kill.pull-tmp.$kpid (left by a killed pare pull, pid $kpid)" \
		"$("$PARE" cache prune | grep pull-tmp)"
	check "  the directory is gone" test ! -e "$W/p-kill.pull-tmp.$kpid"
	check "  and its record" test ! -e "$PARE_CACHE_DIR/pulls/$kpid"
	check "  a live pull's directory and record are kept" \
		test -d "$W/p-live.pull-tmp.$lpid" -a -f "$PARE_CACHE_DIR/pulls/$lpid"
	kill -CONT "$REG"
	rc=0
	wait "$lpid" || rc=$?
	check_eq "the live pull then finishes" 0 "$rc"
	check "  into its layout" test -f "$W/p-live/index.json"
	check_eq "  leaving nothing behind" "" "$(leftovers)"
else
	kill -CONT "$REG"
	fail "SIGKILL: the pull is under way" "$(cat "$W/p-kill.err")"
	kill -9 "$PID" 2>/dev/null || true
fi

done_testing
