# shellcheck shell=bash
# tests/lib.sh - sourced by every tests/t-*.sh. Prints TAP lines the runner (tests/run) counts.
#
#   ok DESC                      check DESC CMD...           check_eq DESC EXPECTED ACTUAL
#   fail DESC [DETAIL]           check_fails DESC ERE CMD... skip DESC REASON
#   need CMD...                  tmpdir                      fixture_repo [--hostile]
#   plain_only N DESC
#   serve_http DIR [LOGFILE]     at_exit CMD...              done_testing
#
# Call fixture_repo and serve_http as  var=$(fixture_repo)  (not  local var=$(...), which
# hides failures). Do not set an EXIT trap: use at_exit (from the main shell, not a subshell).
# A shell function run by check/check_fails must return non-zero itself: set -e is off in it.
# The runner starts each script in its own temp dir ($PARE_SCRIPT_TMP) with stdin /dev/null.
# A script also runs on its own (bash tests/t-foo.sh): it then gets a private temp dir.
set -euo pipefail

PARE_SRC=${PARE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PARE=${PARE:-$PARE_SRC/pare}
export PARE PARE_SRC LC_ALL=C.UTF-8 TZ=UTC

_t_name=$(basename "$0")
_t_own_tmp=0
if [[ -z ${PARE_SCRIPT_TMP:-} ]]; then
	PARE_SCRIPT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pare-$_t_name.XXXXXX")
	_t_own_tmp=1
fi
PARE_TEST_TMP=${PARE_TEST_TMP:-$PARE_SCRIPT_TMP}
# where fixture_repo builds the shared fixture repositories: PARE_FIXTURES when set (make check
# gives both suites one directory: mkrepo runs no pare, so one build serves both), else
# PARE_TEST_TMP
PARE_FIXTURES=${PARE_FIXTURES:-$PARE_TEST_TMP}
mkdir -p "$PARE_FIXTURES"
PARE_CACHE_DIR=${PARE_CACHE_DIR:-$PARE_SCRIPT_TMP/cache}
mkdir -p "$PARE_CACHE_DIR"
if ((_t_own_tmp)); then
	GNUPGHOME=$PARE_SCRIPT_TMP/gnupg # never the user's keyrings
	mkdir -m 700 "$GNUPGHOME"
	export GNUPGHOME
fi
export PARE_SCRIPT_TMP PARE_TEST_TMP PARE_FIXTURES PARE_CACHE_DIR

_t_run=0
_t_failed=0
_t_at_exit=()

_t_line() { # STATUS DESC [DIRECTIVE]
	local desc=${2//$'\n'/ }
	_t_run=$((_t_run + 1))
	printf '%s - %s%s\n' "$1" "$desc" "${3:+ # $3}"
}
_t_diag() { # TEXT: indented '#' lines, at most 60
	local n
	n=$(printf '%s\n' "$1" | wc -l)
	printf '%s\n' "$1" | head -n 60 | sed 's/^/#   /'
	if ((n > 60)); then printf '#   ... (%d more lines)\n' $((n - 60)); fi
}

ok() { _t_line ok "$1"; }

fail() {
	_t_line "not ok" "$1"
	_t_failed=$((_t_failed + 1))
	if [[ -n ${2:-} ]]; then _t_diag "$2"; fi
	return 0
}

skip() { _t_line ok "$1" "skip ${2:-}"; }

# check DESC CMD...: ok if CMD exits 0; otherwise its output (stdout+stderr) is shown.
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then
		ok "$desc"
	else
		fail "$desc" "\$ $*"$'\n'"exit status $rc"$'\n'"$out"
	fi
}

# check_fails DESC ERE CMD...: ok only if CMD exits non-zero (not by a signal, a timeout or
# "command not found", and without a sanitizer report) and its stderr matches ERE.
check_fails() {
	local desc=$1 re=$2 rc=0 err why=""
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if ((rc == 0)); then
		why="exited 0, expected a failure"
	elif ((rc >= 124)); then
		why="exit status $rc (crash, timeout or command not found), expected a clean failure"
	elif grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' <<<"$err"; then
		why="sanitizer report"
	elif ! grep -Eq -- "$re" <<<"$err"; then
		why="stderr does not match /$re/"
	fi
	if [[ -z $why ]]; then
		ok "$desc"
	else
		fail "$desc" "\$ $*"$'\n'"$why"$'\n'"stderr:"$'\n'"$err"
	fi
}

# check_refused DESC ERE CMD...: CMD exits 2 (pare's error status) with exactly one line on
# stderr, matching ERE
check_refused() { check_refused_status 2 "$@"; }

# check_refused_status STATUS DESC ERE CMD...: the same with another exit status (127: a
# library that cannot be loaded, t-lazy.sh)
check_refused_status() {
	local want=$1 desc=$2 re=$3 rc=0 err
	shift 3
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if ((rc == want)) && [[ $(printf '%s\n' "$err" | wc -l) == 1 ]] && grep -Eq -- "$re" <<<"$err"; then
		ok "$desc"
	else
		fail "$desc" "\$ $*"$'\n'"exit status $rc (want $want, one line matching /$re/)"$'\n'"$err"
	fi
}

check_eq() {
	if [[ $2 == "$3" ]]; then
		ok "$1"
	else
		fail "$1" "expected: $2"$'\n'"actual:   $3"
	fi
}

# need CMD...: skip the whole script if a command is missing (make deps installs them all).
need() {
	local c missing=()
	for c; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
	if ((${#missing[@]})); then
		skip "$_t_name" "needs ${missing[*]} (not installed; run make deps)"
		exit 0
	fi
}

# plain_only N DESC: true in the plain suite.  In the ASan suite one counted skip for the N
# checks that follow (DESC names them) and false.  For a third-party tool (skopeo, umoci, cosign,
# Trivy, a schema validator) reading what pare wrote: pare's output is the same bytes in both
# builds and the tool runs none of pare's code, so it runs once, in the plain suite.
plain_only() {
	[[ ${PARE_TEST_SUITE:-} == asan ]] || return 0
	skip "$2 ($1 checks)" "a third-party tool reading what pare wrote: runs in the plain suite"
	return 1
}

# tmpdir: print a fresh directory under the script's own temp dir.
tmpdir() { mktemp -d "$PARE_SCRIPT_TMP/tmp.XXXXXX"; }

at_exit() { _t_at_exit+=("$*"); }

# _fixture_master NAME: build $PARE_FIXTURES/NAME once per test run (flock: scripts run in
# parallel). A failed build is remembered, so later scripts fail fast with the same log.
_fixture_master() {
	local name=$1 master=$PARE_FIXTURES/$1
	(
		flock 9
		[[ -d $master ]] && exit 0
		if [[ -f $master.failed ]]; then
			cat "$master.failed" >&2
			exit 1
		fi
		rm -rf "$master.tmp"
		if [[ $name == fixture ]]; then
			"$PARE_SRC/tests/fixtures/mkrepo" "$master.tmp" >"$master.log" 2>&1 || {
				mv "$master.log" "$master.failed"
				echo "fixture_repo: mkrepo failed:" >&2
				cat "$master.failed" >&2
				exit 1
			}
		else
			cp -a "$PARE_FIXTURES/fixture" "$master.tmp"
			"$PARE_SRC/tests/fixtures/mkhostile" "$master.tmp" >"$master.log" 2>&1 || {
				mv "$master.log" "$master.failed"
				echo "fixture_repo: mkhostile failed:" >&2
				cat "$master.failed" >&2
				exit 1
			}
		fi
		mv "$master.tmp" "$master"
	) 9>"$master.lock"
}

# fixture_repo [--hostile]: print the path of a private copy of the fixture repository
# (tests/fixtures/mkrepo; with --hostile also the suite "hostile" of tests/fixtures/mkhostile).
fixture_repo() {
	local name=fixture copy
	_fixture_master fixture || return 1
	if [[ ${1:-} == --hostile ]]; then
		name=fixture-hostile
		_fixture_master "$name" || return 1
	fi
	copy=$(tmpdir)/repo
	cp -a "$PARE_FIXTURES/$name" "$copy"
	printf '%s\n' "$copy"
}

# fixture_env [--hostile]: the usual test setup: W a private temp dir, REPO a private copy of
# the fixture repository (fixture_repo's option), and pare pointed at $W/recipes (created),
# $W/recipes.lock and the cache $W/cache.
fixture_env() {
	W=$(tmpdir)
	REPO=$(fixture_repo "$@") || return 1
	export PARE_RECIPES=$W/recipes PARE_LOCK=$W/recipes.lock PARE_CACHE_DIR=$W/cache
	mkdir -p "$PARE_RECIPES"
}

# serve_http DIR [LOGFILE]: serve DIR on 127.0.0.1 (free port, HTTP/1.1) until the script
# exits; print the base URL. The request log goes to LOGFILE (default under the temp dir).
serve_http() {
	local dir=$1 log=${2:-} portfile port="" i
	[[ -d $dir ]] || { echo "serve_http: no directory $dir" >&2; return 1; }
	portfile=$(mktemp "$PARE_SCRIPT_TMP/http-port.XXXXXX")
	[[ -n $log ]] || log=$portfile.log
	python3 - "$dir" "$portfile" "$$" >"$log" 2>&1 <<'EOF' &
import functools, http.server, os, sys, threading, time
directory, portfile, watched = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))
        sys.stderr.flush()

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=directory))
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)

def watch():  # exit with the test script even if its EXIT trap never runs
    while True:
        time.sleep(0.5)
        try:
            os.kill(watched, 0)
        except ProcessLookupError:
            os._exit(0)

threading.Thread(target=watch, daemon=True).start()
server.serve_forever()
EOF
	echo "$!" >>"$PARE_SCRIPT_TMP/.servers"
	for ((i = 0; i < 100; i++)); do
		port=$(cat "$portfile")
		if [[ -n $port ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf 'http://127.0.0.1:%s\n' "$port"
			return 0
		fi
		sleep 0.1
	done
	echo "serve_http: the server did not start:" >&2
	cat "$log" >&2
	return 1
}

_t_exit() {
	local rc=$? c pid
	for c in "${_t_at_exit[@]}"; do eval "$c" || true; done
	if [[ -f $PARE_SCRIPT_TMP/.servers ]]; then
		while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$PARE_SCRIPT_TMP/.servers"
		rm -f "$PARE_SCRIPT_TMP/.servers"
	fi
	if [[ -n ${GNUPGHOME:-} && -d $GNUPGHOME ]]; then
		gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true
	fi
	if ((_t_own_tmp)); then
		if ((rc == 0 && _t_failed == 0)); then
			rm -rf "$PARE_SCRIPT_TMP"
		else
			echo "# temp files kept in $PARE_SCRIPT_TMP"
		fi
	fi
	exit "$rc"
}
trap _t_exit EXIT

# done_testing: print a summary comment; exit 1 if anything failed.
# fixture_recipe NAME SUITE "PKG, PKG" [EXTRA-YAML]: write $PARE_RECIPES/NAME.yaml for the
# fixture repository $REPO (suite SUITE, archs $ARCHS or the host's), plus any extra YAML lines.
# free_port: a TCP port free on 127.0.0.1 now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# registry_start NAME: a real registry (Debian's docker-registry) on a free port of 127.0.0.1,
# storage $W/NAME.data, log $W/NAME.log; killed at exit (continued first, should a test have
# stopped it).  Sets REGISTRY=127.0.0.1:PORT and REGISTRY_PID.  Returns 1 (its log on stderr)
# when it does not answer /v2/ within 10 s.
registry_start() {
	local name=$1 port i
	port=$(free_port)
	cat >"$W/$name.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $W/$name.data
http:
  addr: 127.0.0.1:$port
  secret: pare-test-$name
log:
  level: error
EOF
	docker-registry serve "$W/$name.yml" >"$W/$name.log" 2>&1 &
	REGISTRY_PID=$!
	at_exit "kill -CONT $REGISTRY_PID 2>/dev/null; kill -9 $REGISTRY_PID 2>/dev/null"
	REGISTRY=127.0.0.1:$port
	for ((i = 0; i < 200; i++)); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/") == 200 ]] && return 0
		kill -0 "$REGISTRY_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "docker-registry $name did not start:" >&2
	cat "$W/$name.log" >&2
	return 1
}

fixture_recipe() {
	cat >"$PARE_RECIPES/$1.yaml" <<YAML
name: $1
repositories:
  - url: file://$REPO
    suites: [$2]
    components: [main]
    keyring: $REPO/keyring.gpg
archs: [${ARCHS:-$(dpkg --print-architecture)}]
packages: [$3]
${4:-}
YAML
}

done_testing() {
	echo "# $_t_name: $_t_run tests, $_t_failed failed"
	if ((_t_failed)); then exit 1; fi
	exit 0
}
