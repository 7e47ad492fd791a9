#!/usr/bin/env bash
# t-lockbytes.sh - every byte that enters an image is the lock's: a cached .deb changed in
# place (same size; an uncompressed data.tar, so it still decodes) is caught on the read that
# decodes it, named, removed from the cache, fetched again and the image built from the right
# bytes; a corrupt xz .deb in the cache no longer fails every build; a lock digest that
# differs from the .deb's only in its last hex digit is refused.
. "$(dirname "$0")/lib.sh"

need jq
fixture_env
C=$PARE_CACHE_DIR
fixture_recipe tz stable "tzdata, hello"
debsha() { jq -r --arg p "$1" '.recipes.tz.archs[].packages[] | select(.name == $p) | .sha256' "$PARE_LOCK"; }
build() { "$PARE" build tz -o "$W/out-$1" 2>"$W/$1.err"; }

"$PARE" --quiet lock tz >/dev/null || { fail "lock tz"; done_testing; }
D1=$(build cold) || fail "cold build" "$(cat "$W/cold.err")"
TZ_SHA=$(debsha tzdata)
TZ_DEB=$C/debs/sha256/$TZ_SHA
check "tzdata's .deb is cached" test -f "$TZ_DEB"
check "tzdata's data.tar is not compressed" sh -c "ar t '$TZ_DEB' | grep -qx data.tar"

# --- a cached .deb changed in place, its size kept -------------------------------------------
# a zone file's text, overwritten with as many other bytes: the .deb still decodes
off=$(grep -abo 'TZif' "$TZ_DEB" | head -1 | cut -d: -f1)
check "a zone file in tzdata's data.tar" test -n "$off"
size=$(stat -c %s "$TZ_DEB")
printf 'XXXX' | dd of="$TZ_DEB" bs=1 seek="$((off + 20))" conv=notrunc status=none
check_eq "tampered in place: same size" "$size" "$(stat -c %s "$TZ_DEB")"
rm -rf "$C/layers" # no layer cache: the .debs are read
D2=$(PARE_VERIFY_CACHE=1 build tampered) || fail "build with a tampered cached .deb" "$(cat "$W/tampered.err")"
check_eq "tampered cached .deb: the image is the lock's" "$D1" "$D2"
check "tampered cached .deb: one line names the package and the cache file" \
	grep -q "warning: .*tzdata: $TZ_DEB does not match the lock .*fetching it again" "$W/tampered.err"
check_eq "tampered cached .deb: fetched again, the right bytes in the cache" "$TZ_SHA" \
	"$(sha256sum <"$TZ_DEB" | cut -d' ' -f1)"
check "the rebuilt image is bit-identical" diff -r "$W/out-cold" "$W/out-tampered"

# --- a corrupt xz .deb in the cache ---------------------------------------------------------
HE_SHA=$(debsha hello)
HE_DEB=$C/debs/sha256/$HE_SHA
size=$(stat -c %s "$HE_DEB")
printf 'garbage!' | dd of="$HE_DEB" bs=1 seek="$((size / 2))" conv=notrunc status=none
rm -rf "$C/layers"
D3=$(build xz) || fail "build with a corrupt xz .deb in the cache" "$(cat "$W/xz.err")"
check_eq "corrupt xz .deb: the image is the lock's" "$D1" "$D3"
check "corrupt xz .deb: named as not the lock's, not as a decoding error" \
	grep -q "hello: $HE_DEB does not match the lock" "$W/xz.err"
check_eq "corrupt xz .deb: fetched again" "$HE_SHA" "$(sha256sum <"$HE_DEB" | cut -d' ' -f1)"

# --- the lock's digest differs from the .deb's in the last hex digit only ------------------
# (a comparison of a prefix would let it through; every other tamper test changes the first)
last=${TZ_SHA: -1}
[[ $last == 0 ]] && new=1 || new=0
BAD=${TZ_SHA%?}$new
cp "$PARE_LOCK" "$W/lock.orig"
sed -i "s/$TZ_SHA/$BAD/" "$PARE_LOCK"
rm -rf "$C/layers"
check_fails "last digit: a fresh download is refused, naming the package" \
	"tzdata.*sha256 mismatch" "$PARE" --quiet build tz -o "$W/out-last"
check "last digit: nothing cached under the wrong name" test ! -e "$C/debs/sha256/$BAD"
check "last digit: no output" test ! -e "$W/out-last"
# the same, with the file already in the cache under the lock's (wrong) name
cp "$TZ_DEB" "$C/debs/sha256/$BAD"
check_fails "last digit: a cached file is refused on the read, naming the cache file" \
	"tzdata.*(sha256 mismatch|does not match the lock)" "$PARE" --quiet build tz -o "$W/out-last"
check "last digit, cached: no output" test ! -e "$W/out-last"
cp "$W/lock.orig" "$PARE_LOCK"

# --- a manifest pulled by digest, from a registry that sends no Docker-Content-Digest ------
# (tests/fixtures/nodigestregistry answers every manifest request with the same bytes)
M=$W/manifest.json
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}' >"$M"
python3 "$PARE_SRC/tests/fixtures/nodigestregistry" "$M" "$W/nd.port" $$ >"$W/nd.log" 2>&1 &
for _ in $(seq 100); do [[ -s $W/nd.port ]] && break; sleep 0.1; done
ND=127.0.0.1:$(cat "$W/nd.port")
GOT=$(sha256sum <"$M" | cut -d' ' -f1)
WANT=${GOT%?}$([[ ${GOT: -1} == 0 ]] && echo 1 || echo 0) # differs in the last digit only
check_fails "pull by digest, no Docker-Content-Digest: the bytes are compared with the digest" \
	"manifest sha256:$WANT: the bytes have digest sha256:$GOT, not sha256:$WANT" \
	"$PARE" --quiet pull --insecure "$ND" "$ND/img@sha256:$WANT" "$W/pulled"
check "pull by digest, wrong bytes: nothing written" test ! -e "$W/pulled"

done_testing
