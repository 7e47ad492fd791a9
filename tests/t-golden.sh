#!/usr/bin/env bash
# t-golden.sh - the same recipes.lock builds the same image digests as it did when
# tests/golden-digests was written: a refactoring that changes one output byte (a key order,
# a layer split, a file mode) fails here, naming the image. The fixture repository is
# deterministic (mkrepo: fixed dates and contents), so its lock and images are too.
# After a deliberate change of pare's output, rewrite the file with
#   GOLDEN_UPDATE=1 tests/run --pare $PWD/pare t-golden
# and say in the commit why the digests moved.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need jq

if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "golden image digests" "the builds are the plain suite's (t-build covers building under ASan)"
	done_testing
fi
if [[ $(dpkg --print-architecture) != amd64 ]]; then
	skip "golden image digests" "tests/golden-digests holds amd64 builds"
	done_testing
fi
fixture_env
# The recipe's hash is in every manifest, and the repository's URL is part of the recipe: the
# repository sits at one fixed path, one run of this test at a time (flock) on the machine.
exec 8>/tmp/pare-golden.lock
flock 8
REPO_FIXED=/tmp/pare-golden-repo
rm -rf "$REPO_FIXED" && cp -a "$REPO" "$REPO_FIXED" && REPO=$REPO_FIXED
GOLDEN=$PARE_SRC/tests/golden-digests
ARCHS=amd64 fixture_recipe hello stable "hello, has-docs, has-setuid, ca-certificates, tzdata, base-files, libnonstd"
ARCHS="amd64, arm64" fixture_recipe multi stable "hello, base-files"
ARCHS=amd64 fixture_recipe static stable "base-files, tzdata" "accounts:
  users: [{name: app, uid: 1000}]
  run-as: app
env: {TZ: UTC}"
check "lock the golden recipes" "$PARE" --quiet lock
# The images are the manifests the image index names, one per arch (the index itself also
# names the recipes' git state).
got=""
for r in hello multi static; do
	"$PARE" --quiet build "$r" -o "$W/out/$r" >/dev/null || fail "build $r"
	i=$(jq -r '.manifests[0].digest' "$W/out/$r/index.json")
	while read -r arch m; do
		got+="$r/$arch $m"$'\n'
	done < <(jq -r '.manifests[] | "\(.platform.architecture) \(.digest)"' "$W/out/$r/blobs/sha256/${i#sha256:}")
done
if [[ ${GOLDEN_UPDATE:-} == 1 ]]; then
	printf '%s' "$got" >"$GOLDEN"
	skip "golden image digests" "GOLDEN_UPDATE=1: rewrote tests/golden-digests"
	done_testing
fi
while read -r r want; do
	check_eq "$r: the image digest is the golden one" "$want" "$(awk -v r="$r" '$1 == r { print $2 }' <<<"$got")"
done <"$GOLDEN"
check "tests/golden-digests names every golden image" test "$(wc -l <"$GOLDEN")" -eq 4
done_testing
