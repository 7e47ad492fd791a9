#!/usr/bin/env bash
# t-javacerts.sh - the Java trust store pare generates for images with
# ca-certificates-java (/etc/ssl/certs/java/cacerts, what the package's
# maintainer scripts would build with keytool): a PKCS#12 file OpenSSL and
# keytool read with the password "changeit", one trusted-certificate bag
# (Java's attribute, value anyExtendedKeyUsage) per CA certificate, named
# after the certificate file, byte-identical from build to build.
. "$(dirname "$0")/lib.sh"

need jq openssl od
fixture_env
KS=/etc/ssl/certs/java/cacerts

# build NAME OUT: lock (once) and build NAME into $W/OUT, unpack its layers
# into $W/OUT.rootfs; stdout: the index digest
build() {
	local out=$W/$2 r=$W/$2.rootfs i m l
	"$PARE" --quiet build "$1" -o "$out" || return 1
	i=$(jq -r '.manifests[0].digest' "$out/index.json")
	m=$(jq -r '.manifests[0].digest' "$out/blobs/sha256/${i#sha256:}")
	mkdir -p "$r"
	for l in $(jq -r '.layers[].digest' "$out/blobs/sha256/${m#sha256:}"); do
		tar -xf "$out/blobs/sha256/${l#sha256:}" -C "$r" --no-same-owner || return 1
	done
	jq -r '.manifests[0].digest' "$out/index.json"
}

fixture_recipe jre stable "ca-certificates-java"
check "lock jre (ca-certificates-java)" "$PARE" --quiet lock jre
D1=$(build jre one) || fail "build jre"
F=$W/one.rootfs$KS
check "$KS is generated" test -f "$F"
check_eq "$KS is 0644" 644 "$(stat -c %a "$F" 2>/dev/null)"
info=$(openssl pkcs12 -info -nokeys -passin pass:changeit -in "$F" 2>&1) || fail "openssl pkcs12 -info reads $KS" "$info"
check_match() { if grep -Eq -- "$2" <<<"$3"; then ok "$1"; else fail "$1" "$3"; fi; }
check_eq "one certificate per CA certificate of ca-certificates (2)" 2 "$(grep -c 'BEGIN CERTIFICATE' <<<"$info")"
check_eq "every bag carries Java's trusted-certificate attribute" 2 \
	"$(grep -c '^ *2\.16\.840\.1\.113894\.746875\.1\.1:' <<<"$info")"
check_eq "friendly names from the certificate files" \
	"debian:Pare_Fixture_Root_CA_1.pem debian:Pare_Fixture_Root_CA_2.pem" \
	"$(sed -n 's/^ *friendlyName: //p' <<<"$info" | tr '\n' ' ' | sed 's/ $//')"
check_match "MAC: sha256, 10000 iterations" 'MAC: sha256, Iteration 10000' "$info"
check_eq "the certificates are those of the CA bundle" \
	"$(openssl crl2pkcs7 -nocrl -certfile "$W/one.rootfs/etc/ssl/certs/ca-certificates.crt" | openssl pkcs7 -print_certs | grep -v '^subject\|^issuer\|^$' | sha256sum)" \
	"$(grep -v '^subject\|^issuer\|^$' <<<"$info" | sed -n '/BEGIN CERT/,/END CERT/p' | sha256sum)"
# the attribute's exact DER: SEQUENCE { OID 2.16.840.1.113894.746875.1.1,
# SET { OID 2.5.29.37.0 (anyExtendedKeyUsage) } }
hex=$(od -An -tx1 -v "$F" | tr -d ' \n')
check_eq "the attribute's value is anyExtendedKeyUsage (2 bags)" 2 \
	"$(grep -o '3016060c6086480186f966adca7b010131060604551d2500' <<<"$hex" | wc -l)"
check_fails "a wrong password fails the MAC" 'verify error|invalid password|Mac verify' \
	openssl pkcs12 -info -nokeys -passin pass:wrong -in "$F"
if command -v keytool >/dev/null; then
	kl=$(keytool -list -keystore "$F" -storepass changeit 2>&1) || fail "keytool -list reads $KS" "$kl"
	check_eq "keytool: 2 trustedCertEntry" 2 "$(grep -c 'trustedCertEntry' <<<"$kl")"
	check_match "keytool: PKCS12 with the aliases" 'debian:pare_fixture_root_ca_2.pem' "$kl"
else
	skip "keytool reads $KS" "keytool (a JDK) not installed"
fi

# --- deterministic: a second build (cold cache) gives the same bytes --------
export PARE_CACHE_DIR=$W/cache2
D2=$(build jre two) || fail "build jre again"
check_eq "$KS byte-identical between two builds" "$(sha256sum <"$F")" \
	"$(sha256sum <"$W/two.rootfs$KS" 2>/dev/null)"
check_eq "same index digest between two builds" "$D1" "$D2"

# --- kept certificates: the same store ---------------------------------------
fixture_recipe jrekeep stable "ca-certificates-java" 'keep: ["/usr/share/ca-certificates/*"]'
check "lock jrekeep" "$PARE" --quiet lock jrekeep
build jrekeep keep >/dev/null || fail "build jrekeep"
check_eq "keep: the same $KS" "$(sha256sum <"$F")" "$(sha256sum <"$W/keep.rootfs$KS" 2>/dev/null)"

# --- without ca-certificates-java, no Java store -----------------------------
fixture_recipe ca stable "ca-certificates"
check "lock ca (ca-certificates only)" "$PARE" --quiet lock ca
build ca ca >/dev/null || fail "build ca"
check "no $KS without ca-certificates-java" test ! -e "$W/ca.rootfs$KS"
check "the CA bundle is still there" test -s "$W/ca.rootfs/etc/ssl/certs/ca-certificates.crt"

# --- more certificates: one bag each, unique aliases --------------------------
# Both.crt: a copy of CA 1 under another name; local/pare_fixture_root_ca_1.crt:
# the same file name as mozilla's CA 1 but for case, in another directory
# (Java compares aliases without case: the later one must get another alias,
# or Java would keep only one of them)
{ sed 's/^Version: 20230311$/Version: 20230312/' "$PARE_SRC/tests/fixtures/packages/ca-certificates.pkg"
  echo "file /usr/share/ca-certificates/mozilla/Both.crt 0644 @ca-1.crt"
  echo "file /usr/share/ca-certificates/local/pare_fixture_root_ca_1.crt 0644 @ca-2.crt"; } >"$W/ca-more.pkg"
check "publish ca-certificates with four certificate files" \
	"$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/ca-more.pkg"
check "re-lock jre" "$PARE" --quiet lock jre
build jre four >/dev/null || fail "build jre with four certificate files"
info4=$(openssl pkcs12 -info -nokeys -passin pass:changeit -in "$W/four.rootfs$KS" 2>&1) || true
check_eq "four certificate files: four bags in path order, a clashing alias numbered" \
	"debian:pare_fixture_root_ca_1.pem debian:Both.pem debian:Pare_Fixture_Root_CA_1.pem:2 debian:Pare_Fixture_Root_CA_2.pem" \
	"$(sed -n 's/^ *friendlyName: //p' <<<"$info4" | tr '\n' ' ' | sed 's/ $//')"
check "the store differs from the two-certificate one" \
	bash -c "! cmp -s '$F' '$W/four.rootfs$KS'"
if command -v keytool >/dev/null; then
	kl=$(keytool -list -keystore "$W/four.rootfs$KS" -storepass changeit 2>&1) || true
	check_eq "keytool: 4 trustedCertEntry (no alias lost)" 4 "$(grep -c 'trustedCertEntry' <<<"$kl")"
fi

# --- a package shipping the store itself is refused --------------------------
cat >"$W/ships-cacerts.pkg" <<'EOF'
Package: ships-cacerts
Version: 1.0-1
Architecture: all
Maintainer: Pare Fixture Maintainers <fixture@invalid>
Section: java
Priority: optional
Description: ships /etc/ssl/certs/java/cacerts itself (pare fixture)
 pare generates that file; two owners is an error.

file /etc/ssl/certs/java/cacerts 0644 not a keystore
EOF
check "publish ships-cacerts" "$PARE_SRC/tests/fixtures/mkrepo" --add "$REPO" "$W/ships-cacerts.pkg"
fixture_recipe clash stable "ca-certificates-java, ships-cacerts"
check "lock clash" "$PARE" --quiet lock clash
check_fails "a package shipping $KS fails the build naming it" \
	"$KS is generated by pare but package ships-cacerts ships it" "$PARE" --quiet build clash -o "$W/clash"
check "no output after the refusal" test ! -e "$W/clash"
done_testing
