#!/usr/bin/env bash
# t-fleet.sh - the layer cache shared through a registry (docs/cache.md#remote-layer-cache):
# two "runners" (separate PARE_CACHE_DIRs) and Debian's docker-registry on
# 127.0.0.1.  Runner A builds with --cache-to; runner B, with an empty cache,
# builds the same lock with --cache-from: the same digests, and no .deb
# fetched for a cached layer (the fixture HTTP server's log counts them).  A
# tampered blob in the registry is caught and that layer built; a registry
# that is down costs one warning line and the build goes on.
. "$(dirname "$0")/lib.sh"

need docker-registry curl jq python3
python3 -c 'import yaml' 2>/dev/null || { skip "python3-yaml is missing (tests/DEPS)"; done_testing; exit 0; }
fixture_env
export PARE_REGISTRY_BACKOFF_MS=5
unset DOCKER_CONFIG PARE_CACHE_TO PARE_CACHE_FROM
export HOME=$W/home # never the user's ~/.docker/config.json
mkdir -p "$HOME"
HOST=$(dpkg --print-architecture)
registry_start cache || { fail "docker-registry starts"; done_testing; exit 1; }
R=$REGISTRY/pare/cache
URL=$(serve_http "$REPO" "$W/http.log") || { fail "serve_http"; done_testing; exit 1; }
cat >"$PARE_RECIPES/fleet.yaml" <<YAML
name: fleet
repositories:
  - url: $URL
    suites: [stable]
    components: [main]
    keyring: $REPO/keyring.gpg
archs: [$HOST]
packages: [hello, ca-certificates, libssl3]
YAML
debs() { grep -c '\.deb HTTP' "$W/http.log" || true; }
# runner NAME ARGS…: build fleet as runner NAME (cache $W/cache-NAME) into $W/NAME;
# stdout the index digest, stderr into $W/NAME.err
runner() {
	local n=$1
	shift
	PARE_CACHE_DIR=$W/cache-$n "$PARE" --verbose build fleet -o "$W/$n" --insecure "$REGISTRY" \
		"$@" 2>"$W/$n.err"
}
hits() { grep -c 'taken from the layer cache' "$W/$1.err" || true; }
warnings() { grep -c '^pare: warning: layer cache' "$W/$1.err" || true; }
tags() { curl -s "http://$REGISTRY/v2/pare/cache/tags/list" | jq -r '.tags[]?' | sort; }

PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet lock fleet >/dev/null || { fail "lock"; done_testing; exit 1; }

# ---- runner A: cold, pushes every package layer -------------------------------------------
n0=$(debs)
DA=$(runner A --cache-to "$R") || fail "runner A builds" "$(cat "$W/A.err")"
NA=$(($(debs) - n0))
check "runner A fetched the .debs" test "$NA" -ge 3
NL=$(ls "$W/cache-A/layers" | grep -c '\.json$' || true)
check "runner A: at least two package layers" test "$NL" -ge 2
check_eq "runner A: one tag per package layer" "$NL" "$(tags | grep -c '^pare-layer-' || true)"
check_eq "the tags are pare-layer-KEY of the local entries" \
	"$(ls "$W/cache-A/layers" | sed -n 's/\.json$//p' | sed 's/^/pare-layer-/' | sort)" "$(tags)"
check_eq "runner A: no warning" 0 "$(warnings A)"
T1=$(tags | sed -n 1p)
M=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REGISTRY/v2/pare/cache/manifests/$T1")
check_eq "an entry is a pare layer cache artifact" application/vnd.dev.pare.layer-cache.v1 \
	"$(jq -r .artifactType <<<"$M")"
check_eq "an entry names its key" "${T1#pare-layer-}" \
	"$(jq -r '.annotations["dev.pare.layer-cache.key"]' <<<"$M")"
check_eq "an entry: the metadata record and the layer" \
	"application/vnd.dev.pare.layer-meta.v1 application/vnd.oci.image.layer.v1.tar+gzip" \
	"$(jq -r '[.layers[].mediaType] | join(" ")' <<<"$M")"

# Again: everything is there, nothing is pushed (the tags are checked first).
DA2=$(runner A2 --cache-to "$R") || fail "runner A again"
check_eq "runner A again: nothing pushed" 1 "$(grep -c "0 entries pushed, $NL already there" "$W/A2.err" || true)"

# ---- runner B: empty cache, --cache-from: same image, no .deb --------------------------
n0=$(debs)
DB=$(runner B --cache-from "$R") || fail "runner B builds" "$(cat "$W/B.err")"
check_eq "runner B: the same index digest as A" "$DA" "$DB"
check "runner B: the same layout as A" diff -r "$W/A" "$W/B"
check_eq "runner B: no .deb fetched" 0 "$(($(debs) - n0))"
check_eq "runner B: every package layer from the cache" "$NL" "$(hits B)"
check "runner B: says what came from the registry" grep -q "layer cache: $NL layers from the registry" "$W/B.err"
check_eq "runner B: no warning" 0 "$(warnings B)"
# B's local cache now holds the entries: a second build is local, still the same
DB2=$(runner B --cache-from "$R") || fail "runner B again"
check_eq "runner B warm (local entries): same digest" "$DA" "$DB2"
check "runner B warm: nothing from the registry" grep -q "layer cache: 0 layers from the registry" "$W/B.err"
# a cold build without any cache gives the same bytes
DC=$(runner C) || fail "runner C (cold, no shared cache)"
check_eq "cold build without the registry: same digest" "$DA" "$DC"
check "cold build without the registry: same layout" diff -r "$W/A" "$W/C"

# --cache-from also through the environment
n0=$(debs)
DE=$(PARE_CACHE_FROM=$R runner E) || fail "runner E (PARE_CACHE_FROM)"
check_eq "PARE_CACHE_FROM: same digest" "$DA" "$DE"
check_eq "PARE_CACHE_FROM: no .deb fetched" 0 "$(($(debs) - n0))"

# pare update takes the same flags: a missing image is rebuilt from the registry's layers
n0=$(debs)
PARE_CACHE_DIR=$W/cache-U "$PARE" update fleet --outroot "$W/U" --cache-from "$R" \
	--insecure "$REGISTRY" >"$W/U.out" 2>"$W/U.err" || fail "update --cache-from" "$(cat "$W/U.err")"
check_eq "update --cache-from: the same image as A" "$DA" "$(jq -r '.manifests[0].digest' "$W/U/fleet/index.json")"
check_eq "update --cache-from: no .deb fetched" 0 "$(($(debs) - n0))"
check "update --cache-from: says what came from the registry" grep -q "layer cache: $NL layers from the registry" "$W/U.err"

# --cache-to with --push to the same registry: the layer blobs the image repository has are
# mounted into the cache repository, not uploaded again
"$PARE" --quiet push --insecure "$REGISTRY" "$W/A" "$REGISTRY/team/fleet:1" >/dev/null 2>&1 ||
	fail "push A's image"
runner M --cache-to "$REGISTRY/pare/cache2" --push "$REGISTRY/team/fleet:2" >/dev/null ||
	fail "runner M (--cache-to with --push)" "$(cat "$W/M.err")"
check_eq "--cache-to with --push: every layer blob mounted from the image repository" "$NL" \
	"$(grep 'mounted sha256:[0-9a-f]* from team/fleet' "$W/M.err" | grep -vc 44136fa355b3678a || true)"
check "--cache-to with --push: only the metadata records uploaded" \
	grep -q "$NL entries pushed, 0 already there ([0-9]\{1,6\} bytes sent)" "$W/M.err"
check_eq "--cache-to with --push: every entry pushed" "$NL" \
	"$(curl -s "http://$REGISTRY/v2/pare/cache2/tags/list" | jq -r '.tags[]?' | grep -c '^pare-layer-' || true)"

# ---- pare cache prune --remote ------------------------------------------------------------
# other layer groupings (--max-layers 2) are entries no image of recipes.lock uses
runner Z --cache-to "$R" --max-layers 2 >/dev/null || fail "runner Z (--max-layers 2)" "$(cat "$W/Z.err")"
ALL=$(tags)
EXTRA=$(comm -13 <(ls "$W/cache-A/layers" | sed -n 's/\.json$//p' | sed 's/^/pare-layer-/' | sort) <(tags))
check "--max-layers 2 pushed entries of other keys" test -n "$EXTRA"
prune() { PARE_CACHE_DIR=$W/cache-A "$PARE" cache prune --remote "$R" --insecure "$REGISTRY" "$@"; }
check_eq "prune --remote --dry-run: lists the unused entries" "$(sed "s|^|would remove $R:|" <<<"$EXTRA")" \
	"$(prune --dry-run 2>/dev/null)"
check_eq "prune --remote --dry-run: removes nothing" "$ALL" "$(tags)"
check_refused "prune --remote, deletes disabled: says so" \
	"does not allow deletes.*REGISTRY_STORAGE_DELETE_ENABLED=true" prune
check_eq "prune --remote, deletes disabled: nothing removed" "$ALL" "$(tags)"
# the same storage, deletes enabled
kill -9 "$REGISTRY_PID" 2>/dev/null || true
wait "$REGISTRY_PID" 2>/dev/null || true
REGISTRY_STORAGE_DELETE_ENABLED=true registry_start cache || fail "docker-registry restarts with deletes"
R=$REGISTRY/pare/cache
check_eq "prune --remote: removes exactly the unused entries" "$(sed "s|^|removed $R:|" <<<"$EXTRA")" \
	"$(prune 2>/dev/null)"
check_eq "prune --remote: the entries recipes.lock uses are kept" \
	"$(ls "$W/cache-A/layers" | sed -n 's/\.json$//p' | sed 's/^/pare-layer-/' | sort)" "$(tags)"
n0=$(debs)
DP=$(runner P --cache-from "$R") || fail "runner P after the prune"
check_eq "after the prune: same digest" "$DA" "$DP"
check_eq "after the prune: still no .deb fetched" 0 "$(($(debs) - n0))"

# ---- a tampered blob in the registry ---------------------------------------------------
# the largest layer blob of one entry, same size, other bytes
LB=$(jq -r '.layers[1].digest' <<<"$M")
F=$W/cache.data/docker/registry/v2/blobs/sha256/${LB:7:2}/${LB#sha256:}/data
check "the registry stores the blob as a file" test -f "$F"
sz=$(stat -c %s "$F")
head -c "$sz" /dev/urandom >"$F.new" && mv "$F.new" "$F"
n0=$(debs)
DT=$(runner T --cache-from "$R") || fail "runner T builds" "$(cat "$W/T.err")"
check_eq "tampered blob: same digest all the same" "$DA" "$DT"
check_eq "tampered blob: one warning" 1 "$(warnings T)"
check "tampered blob: the warning names the entry and the digest" \
	grep -q "warning: layer cache $R: entry $T1 ignored: .*blob $LB: got $sz bytes with digest" "$W/T.err"
check_eq "tampered blob: the other layers came from the registry" "$((NL - 1))" "$(grep -c 'from the layer cache 127' "$W/T.err" || true)"
check "tampered blob: that layer's .debs were fetched" test "$(($(debs) - n0))" -ge 1
check "tampered blob: nothing of it in the local cache" test ! -e "$W/cache-T/blobs/sha256/${LB#sha256:}.bad"
check "tampered blob: the built layer is the right one" \
	test "$(sha256sum "$W/cache-T/blobs/sha256/${LB#sha256:}" | cut -d' ' -f1)" = "${LB#sha256:}"

# ---- registry down -----------------------------------------------------------------------
kill -9 "$REGISTRY_PID" 2>/dev/null || true
wait "$REGISTRY_PID" 2>/dev/null || true
DD=$(runner D --cache-from "$R" --cache-to "$R") || fail "registry down: the build fails" "$(cat "$W/D.err")"
check_eq "registry down: same digest" "$DA" "$DD"
check_eq "registry down: one warning line" 1 "$(warnings D)"
check "registry down: the warning says it goes on" grep -q "going on without it" "$W/D.err"

# ---- pare plan for CI engines ------------------------------------------------------------
# up to date: no pair; the GitLab pipeline then has one job that says so
check_eq "plan --format list: nothing due" "" "$(PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet plan --format list)"
Y=$(PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet plan --format gitlab) || fail "plan --format gitlab"
check_eq "plan --format gitlab, nothing due: one job that says so" '["nothing to rebuild"]' \
	"$(python3 -c 'import json,sys,yaml; print(json.dumps(list(yaml.safe_load(sys.stdin))))' <<<"$Y")"
# a new recipe: every arch of it is due
cp "$PARE_RECIPES/fleet.yaml" "$PARE_RECIPES/fleet2.yaml"
sed -i 's/^name: fleet$/name: fleet2/' "$PARE_RECIPES/fleet2.yaml"
check_eq "plan --format list: RECIPE ARCH" "fleet2 $HOST" \
	"$(PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet plan --format list)"
check_eq "plan --format json is --json" "$(PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet plan --json)" \
	"$(PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet plan --format json)"
Y=$(PARE_CACHE_DIR=$W/cache-A "$PARE" --quiet plan --format gitlab) || fail "plan --format gitlab"
check_eq "plan --format gitlab: one job per pair, extending .pare-build with RECIPE and ARCH" \
	"{\"build fleet2 $HOST\": {\"extends\": \".pare-build\", \"variables\": {\"RECIPE\": \"fleet2\", \"ARCH\": \"$HOST\"}}}" \
	"$(python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))' <<<"$Y")"
check_refused "plan --format other is refused" "format must be list, json or gitlab" \
	"$PARE" plan --format xml
rm "$PARE_RECIPES/fleet2.yaml"

# a bad reference is an error (exit 2), before anything is built
check_refused "--cache-to with a tag is refused" "give a repository" \
	"$PARE" build fleet -o "$W/X" --cache-to "$R:latest"
check_refused "--cache-from that is not a reference is refused" "layer cache" \
	"$PARE" build fleet -o "$W/X" --cache-from "nohost"
check "nothing built for a bad reference" test ! -e "$W/X"

done_testing
