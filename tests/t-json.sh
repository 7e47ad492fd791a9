#!/usr/bin/env bash
# t-json.sh - --json of lock, build, update, cache du and verify against reality: each
# documented field checked with jq and compared with the files (digest = index.json's,
# size = the sum of the image's blob files, layers = its distinct layer blobs, du's bytes =
# the files' sizes); the human summary lines (build: PATH: DIGEST, SIZE, N layers; verify:
# N checks passed) and du's human-readable sizes.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
HOST=$(dpkg --print-architecture)

# digest DIR: the image index digest index.json names (not the signature tags')
digest() {
	jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] // "sha256-" | startswith("sha256-") | not) | .digest' "$1/index.json"
}
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
# image_blobs DIR: the digests the image index reaches (itself, manifests, configs, layers)
image_blobs() {
	local d=$1 idx m
	idx=$(digest "$d")
	{
		echo "$idx"
		for m in $(jq -r '.manifests[].digest' "$(blob "$d" "$idx")"); do
			echo "$m"
			jq -r '.config.digest, .layers[].digest' "$(blob "$d" "$m")"
		done
	} | sort -u
}
image_size() { # DIR: the bytes of those blob files
	local d=$1 s=0 b
	for b in $(image_blobs "$d"); do s=$((s + $(stat -c %s "$(blob "$d" "$b")"))); done
	echo "$s"
}
image_layers() { # DIR: the number of distinct layer blobs
	local d=$1 idx m
	idx=$(digest "$d")
	for m in $(jq -r '.manifests[].digest' "$(blob "$d" "$idx")"); do
		jq -r '.layers[].digest' "$(blob "$d" "$m")"
	done | sort -u | wc -l
}
human_re='[0-9]+ B|[0-9]+\.[0-9] (KiB|MiB|GiB)'

fixture_recipe hello stable "hello"
fixture_recipe ssl stable "openssl"

# ---- lock --json -------------------------------------------------------------------------------
"$PARE" --quiet lock --json >"$W/lock.json" || fail "lock --json"
check_eq "lock --json: keys" '["lock","written","recipes"]' "$(jq -c keys_unsorted "$W/lock.json")"
check_eq "lock --json: the lock path, written" "$PARE_LOCK true" "$(jq -r '"\(.lock) \(.written)"' "$W/lock.json")"
check_eq "lock --json: the recipes" "hello ssl" "$(jq -r '[.recipes[].recipe] | join(" ")' "$W/lock.json")"
for r in hello ssl; do
	check_eq "lock --json: $r's packages and size are the lock's" \
		"$(jq -c --arg r "$r" --arg a "$HOST" '.recipes[$r].archs[$a].packages | [length, (map(.size) | add)]' "$PARE_LOCK")" \
		"$(jq -c --arg r "$r" --arg a "$HOST" '.recipes[] | select(.recipe == $r) | .archs[] | select(.arch == $a) | [.packages, .size]' "$W/lock.json")"
done
check_eq "lock --json again: not written" false "$("$PARE" --quiet lock --json | jq .written)"
check_eq "lock --check --json: no differences" '[]' "$("$PARE" --quiet lock --check --json | jq -c .differences)"

# ---- build --all --json, and the summary line --------------------------------------------------
"$PARE" build --all --json --outroot "$W/out" >"$W/build.json" 2>"$W/build.err" || fail "build --json" "$(cat "$W/build.err")"
check_eq "build --json: keys" '["images"] ["recipe","path","tar","digest","size","layers","archs"]' \
	"$(jq -c keys_unsorted "$W/build.json") $(jq -c '.images[0] | keys_unsorted' "$W/build.json")"
check_eq "build --json: one image per recipe" "hello ssl" "$(jq -r '[.images[].recipe] | join(" ")' "$W/build.json")"
for r in hello ssl; do
	D=$W/out/$r
	j() { jq -r --arg r "$r" ".images[] | select(.recipe == \$r) | $1" "$W/build.json"; }
	check_eq "build --json $r: path" "$D" "$(j .path)"
	check_eq "build --json $r: digest is index.json's" "$(digest "$D")" "$(j .digest)"
	check_eq "build --json $r: size is the sum of the image's blobs" "$(image_size "$D")" "$(j .size)"
	check_eq "build --json $r: layers are the image's distinct layers" "$(image_layers "$D")" "$(j .layers)"
	check_eq "build --json $r: archs and manifest digests are the image index's" \
		"$(jq -c '[.manifests[] | {arch: .platform.architecture, digest}]' "$(blob "$D" "$(digest "$D")")")" \
		"$(jq -c --arg r "$r" '.images[] | select(.recipe == $r) | .archs' "$W/build.json")"
	size=$(j .size) layers=$(j .layers)
	check "build: the summary line of $r: path, digest, size, layers" \
		grep -Eqx "$D: $(digest "$D"), ($human_re), $layers layers?" "$W/build.err"
	check "build: the summary's size is the image's ($size bytes)" \
		test "$(awk -v s="$size" 'BEGIN { u = "B"; v = s; split("KiB MiB GiB", U, " "); i = 0; if (s >= 1024) { while (v >= 1024 && i < 3) { v /= 1024; i++ } printf "%.1f %s", v, U[i] } else printf "%d B", s }')" = \
		"$(grep "^$D: " "$W/build.err" | sed -E 's/^[^,]*, ([^,]*),.*/\1/')"
done
"$PARE" --quiet build hello --tar "$W/h.tar" --json >"$W/tar.json" || fail "build --tar --json"
check_eq "build --tar --json: no layout, the tar" "null $W/h.tar" "$(jq -r '.images[0] | "\(.path) \(.tar)"' "$W/tar.json")"
check_eq "build --tar --json: the same image" "$(digest "$W/out/hello") $(image_size "$W/out/hello")" \
	"$(jq -r '.images[0] | "\(.digest) \(.size)"' "$W/tar.json")"
check_eq "build without --json: the digest lines as before" "hello $(digest "$W/out/hello")" \
	"$("$PARE" --quiet build --all --outroot "$W/out" | head -1)"

# ---- cache du: human-readable sizes, --json ----------------------------------------------------
DU=$("$PARE" cache du) || fail "cache du"
"$PARE" cache du --json >"$W/du.json" || fail "cache du --json"
check_eq "du --json: keys" '["cache_dir","kinds","total"] ["kind","path","entries","bytes"]' \
	"$(jq -c keys_unsorted "$W/du.json") $(jq -c '.kinds[0] | keys_unsorted' "$W/du.json")"
check_eq "du --json: the cache directory" "$(realpath "$PARE_CACHE_DIR")" "$(jq -r .cache_dir "$W/du.json")"
bytes=$(for k in debs blobs layers ca solv release resolve roots; do
	[[ ! -d $PARE_CACHE_DIR/$k ]] || find "$PARE_CACHE_DIR/$k" -type f -printf '%s\n'
done | awk '{s += $1} END {print s + 0}')
check_eq "du --json: total bytes are the files'" "$bytes" "$(jq .total.bytes "$W/du.json")"
check_eq "du --json: total is the kinds' sum" "$(jq '[.kinds[].bytes] | add' "$W/du.json") $(jq '[.kinds[].entries] | add' "$W/du.json")" \
	"$(jq -r '"\(.total.bytes) \(.total.entries)"' "$W/du.json")"
check_eq "du --json: debs entries" "$(ls "$PARE_CACHE_DIR/debs/sha256" | wc -l)" "$(jq '.kinds[] | select(.kind == "debs") | .entries' "$W/du.json")"
check_eq "du table: the same bytes" "$bytes" "$(awk '$1 == "total" { print $4 }' <<<"$DU")"
check "du table: every line ends with a human-readable size" \
	test "$(grep -Ecx ".* bytes +($human_re)" <<<"$DU")" = "$(($(jq '.kinds | length' "$W/du.json") + 1))"

# ---- verify: the summary line, --json's passed -------------------------------------------------
PARE_PASSWORD= "$PARE" keygen --no-password -o "$W/k" >/dev/null 2>&1 || fail "keygen"
"$PARE" --quiet build hello --sign-key "$W/k.key" -o "$W/signed" >/dev/null || fail "signed build"
out=$("$PARE" verify --key "$W/k.pub" "$W/signed") || fail "verify"
n=$(grep -c '^ok ' <<<"$out")
check_eq "verify: the last line counts the checks" "$n checks passed" "$(tail -1 <<<"$out")"
check "verify: more than a few checks" test "$n" -gt 5
check_eq "verify --json: passed is the number of checks" "true $n $n" \
	"$("$PARE" verify --json --key "$W/k.pub" "$W/signed" | jq -r '"\(.ok) \(.passed) \(.checks | length)"')"
# break the first layer blob: verify stops there and says how far it got
cp -a "$W/signed" "$W/broken"
L1=$(jq -r '.layers[0].digest' "$(blob "$W/broken" "$(jq -r '.manifests[0].digest' "$(blob "$W/broken" "$(digest "$W/broken")")")")")
chmod u+w "$(blob "$W/broken" "$L1")"
printf x >>"$(blob "$W/broken" "$L1")"
rc=0; out=$("$PARE" verify --key "$W/k.pub" "$W/broken" 2>"$W/verr") || rc=$?
check_eq "verify of a broken layout: exit 2" 2 "$rc"
check_eq "verify of a broken layout: the summary says one failed" \
	"$(grep -c '^ok ' <<<"$out") checks passed, 1 failed" "$(tail -1 <<<"$out")"
check "verify of a broken layout: the error names the blob" grep -q "${L1#sha256:}" "$W/verr"
check_eq "verify --json of a broken layout" "false $(grep -c '^ok ' <<<"$out") true" \
	"$("$PARE" verify --json --key "$W/k.pub" "$W/broken" 2>/dev/null | jq -r '"\(.ok) \(.passed) \(.error | length > 0)"')"

# ---- update --json -----------------------------------------------------------------------------
OLD=$(digest "$W/out/hello")
fixture_recipe hello stable "hello, libssl3"
"$PARE" --quiet update --json -o "$W/out" >"$W/update.json" || fail "update --json"
check_eq "update --json: keys" '["outroot","rebuilt"] ["recipe","path","old_digest","digest"]' \
	"$(jq -c keys_unsorted "$W/update.json") $(jq -c '.rebuilt[0] | keys_unsorted' "$W/update.json")"
check_eq "update --json: hello rebuilt, from the old image to index.json's" \
	"hello $W/out/hello $OLD $(digest "$W/out/hello")" \
	"$(jq -r '.rebuilt[] | "\(.recipe) \(.path) \(.old_digest) \(.digest)"' "$W/update.json")"
check_eq "update --json with nothing to do: nothing rebuilt" '[]' \
	"$("$PARE" --quiet update --json -o "$W/out" | jq -c .rebuilt)"
check_fails "watch takes no --json" "watch: unknown option '--json'" "$PARE" watch --json --interval 1s

done_testing
