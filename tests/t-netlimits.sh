#!/usr/bin/env bash
# t-netlimits.sh - transfers from a hostile server on 127.0.0.1 end (tests/fixtures/hostileserver):
# an InRelease or a manifest trickled at 2 KiB/s forever stops at the PARE_FETCH_TIMEOUT deadline,
# and a blob never gets more bytes than its descriptor says (an endless one stops at size + 1).
. "$(dirname "$0")/lib.sh"

need python3
fixture_env
export PARE_REGISTRY_TRIES=1 PARE_REGISTRY_BACKOFF_MS=50
unset DOCKER_CONFIG
export HOME=$W/home # never the user's ~/.docker/config.json
mkdir -p "$HOME"

pf=$W/port
"$PARE_SRC/tests/fixtures/hostileserver" "$REPO" "$pf" "$$" 2>"$W/server.log" &
echo "$!" >>"$PARE_SCRIPT_TMP/.servers"
for ((i = 0; i < 100; i++)); do [[ -s $pf ]] && break; sleep 0.1; done
PORT=$(cat "$pf") || fail "hostileserver did not start" "$(cat "$W/server.log")"
H=127.0.0.1:$PORT

# --- a whole-transfer deadline ------------------------------------------------------------
# the outer timeout only keeps a regression from hanging the suite (check_fails counts 124)
cat >"$PARE_RECIPES/slow.yaml" <<YAML
name: slow
repositories:
  - url: http://$H/repo
    suites: [stable]
    components: [main]
    keyring: $REPO/keyring.gpg
archs: [$(dpkg --print-architecture)]
packages: [hello]
YAML
t0=$(date +%s)
check_fails "InRelease at 2 KiB/s: lock stops at the deadline naming the URL" \
	"^pare: .*InRelease.*(timed out|Timeout)" \
	env PARE_FETCH_TIMEOUT=2 timeout 20 "$PARE" --quiet lock slow
t1=$(date +%s)
check "the deadline ended it (well under the 20 s guard: $((t1 - t0)) s)" test $((t1 - t0)) -lt 15
check "no lock written" test ! -e "$PARE_LOCK"

check_fails "manifest at 2 KiB/s: pull stops at the deadline, one line" \
	"^pare: registry .*(timed out|Timeout)" \
	env PARE_FETCH_TIMEOUT=2 timeout 20 "$PARE" --quiet pull --insecure "$H" "$H/img/x:slow" "$W/P0"
check_eq "the error is one line" 1 "$(env PARE_FETCH_TIMEOUT=1 timeout 20 "$PARE" --quiet pull --insecure "$H" "$H/img/x:slow" "$W/P0" 2>&1 >/dev/null | wc -l)"
check "nothing written" test ! -e "$W/P0"

# --- blobs: never more than the descriptor's size -----------------------------------------
check "a well-behaved blob pulls" "$PARE" --quiet pull --insecure "$H" "$H/good:v1" "$W/P1"
check_fails "a blob longer than its descriptor: stopped at size + 1, naming the blob" \
	"^pare: registry .*blobs/sha256:[0-9a-f]{64}.*larger than 2 bytes" \
	"$PARE" --quiet pull --insecure "$H" "$H/over:v1" "$W/P2"
check "nothing written" test ! -e "$W/P2"
check_fails "an endless blob: stopped at size + 1" \
	"^pare: registry .*larger than 2 bytes" \
	timeout 10 "$PARE" --quiet pull --insecure "$H" "$H/endless:v1" "$W/P3"
check "nothing written, no partial blob left" sh -c "! ls -d '$W'/P3* 2>/dev/null"
done_testing
