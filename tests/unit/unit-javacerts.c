/* unit-javacerts.c - the Java trust store (gen_java_cacerts) read back with
 * OpenSSL's PKCS#12 API: MAC with "changeit", one trusted-certificate bag per
 * certificate with the Java attribute and its alias, deterministic bytes. */
#include "../../common/common.h"
#include "../../builder/gen_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

/* What the store holds, as "alias=OID-value" lines; NULL if it does not
 * parse or a bag is not a certificate. */
static char *describe(const strbuf *ks)
{
	const unsigned char *p = (const unsigned char *)ks->buf;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)ks->len);
	STACK_OF(PKCS7) *safes = NULL;
	ASN1_OBJECT *trust = OBJ_txt2obj("2.16.840.1.113894.746875.1.1", 1);
	strbuf out = STRBUF_INIT;
	char *ret = NULL;

	if (!p12 || !(safes = PKCS12_unpack_authsafes(p12)) || sk_PKCS7_num(safes) != 1 ||
	    OBJ_obj2nid(sk_PKCS7_value(safes, 0)->type) != NID_pkcs7_data)
		goto out;
	for (int s = 0; s < sk_PKCS7_num(safes); s++) {
		STACK_OF(PKCS12_SAFEBAG) *bags = PKCS12_unpack_p7data(sk_PKCS7_value(safes, s));

		for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
			PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
			const STACK_OF(X509_ATTRIBUTE) *attrs = PKCS12_SAFEBAG_get0_attrs(bag);
			int at = X509at_get_attr_by_OBJ(attrs, trust, -1);
			ASN1_TYPE *v = at < 0 ? NULL
				: X509_ATTRIBUTE_get0_type(X509at_get_attr(attrs, at), 0);
			char *name = PKCS12_get_friendlyname(bag), oid[64] = "none";

			if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag)
				strcpy(oid, "not-a-cert");
			else if (v && v->type == V_ASN1_OBJECT)
				OBJ_obj2txt(oid, sizeof(oid), v->value.object, 1);
			sb_addf(&out, "%s=%s\n", name ? name : "(none)", oid);
			OPENSSL_free(name);
		}
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	ret = sb_detach(&out);
out:
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	ASN1_OBJECT_free(trust);
	sb_release(&out);
	return ret;
}

static int verify_mac(const strbuf *ks, const char *pass)
{
	const unsigned char *p = (const unsigned char *)ks->buf;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)ks->len);
	int ok = p12 && PKCS12_verify_mac(p12, pass, -1) == 1;

	PKCS12_free(p12);
	return ok;
}

int main(void)
{
	strbuf a = STRBUF_INIT, b = STRBUF_INIT, two = STRBUF_INIT;
	strbuf ks1 = STRBUF_INIT, ks2 = STRBUF_INIT, ks3 = STRBUF_INIT;
	size_t n = 0;
	char *d = NULL;
	perr e;

	TAP_OK(read_file("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", &a, 0, &e) == 0 &&
		       read_file("/usr/share/ca-certificates/mozilla/ACCVRAIZ1.crt", &b, 0, &e) == 0,
	       "host has mozilla certificates to test with");
	sb_add(&two, b.buf, b.len);
	sb_add(&two, a.buf, a.len);
	{
		struct gen_ca_cert in[] = {
			{ "/usr/share/ca-certificates/mozilla/ACCVRAIZ1.crt", b.buf, b.len },
			{ "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", a.buf, a.len },
			{ "/usr/share/ca-certificates/local/Two.crt", two.buf, two.len },
			{ "/usr/share/ca-certificates/other/isrg_root_x1.crt", a.buf, a.len },
		};

		TAP_OK(gen_java_cacerts(in, 4, &ks1, &n, &e) == 0 && n == 5,
		       "4 files, 5 certificates (%zu)", n);
		TAP_OK(gen_java_cacerts(in, 4, &ks2, &n, &e) == 0 && ks1.len == ks2.len &&
			       !memcmp(ks1.buf, ks2.buf, ks1.len),
		       "same input, same bytes");
		TAP_OK(gen_java_cacerts(in, 2, &ks3, &n, &e) == 0 &&
			       (ks3.len != ks1.len || memcmp(ks1.buf, ks3.buf, ks1.len)),
		       "other input, other bytes");
		TAP_OK(verify_mac(&ks1, JAVA_CACERTS_PASSWORD), "MAC verifies with changeit");
		TAP_OK(!verify_mac(&ks1, "wrong"), "MAC fails with another password");
		d = describe(&ks1);
		TAP_STREQ(d,
			  "debian:ACCVRAIZ1.pem=2.5.29.37.0\n"
			  "debian:ISRG_Root_X1.pem=2.5.29.37.0\n"
			  "debian:Two.pem=2.5.29.37.0\n"
			  "debian:Two.pem:2=2.5.29.37.0\n"
			  "debian:isrg_root_x1.pem:2=2.5.29.37.0\n",
			  "one certificate bag each, in order, trusted for anyExtendedKeyUsage, "
			  "aliases unique without case");
		free(d);
	}
	{
		struct gen_ca_cert bad[] = {
			{ "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", a.buf, a.len },
			{ "/usr/share/ca-certificates/mozilla/Bad.crt", "hello\n", 6 },
		};
		strbuf ks = STRBUF_INIT;

		TAP_OK(gen_java_cacerts(bad, 2, &ks, &n, &e) < 0 && strstr(e.msg, "Bad.crt"),
		       "a file without a certificate is refused naming it (%s)", e.msg);
		sb_release(&ks);
	}
	sb_release(&a);
	sb_release(&b);
	sb_release(&two);
	sb_release(&ks1);
	sb_release(&ks2);
	sb_release(&ks3);
	TAP_DONE();
}
