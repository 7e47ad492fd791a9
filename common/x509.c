/* x509.c - certificates through OpenSSL: checking PEM files and writing a
 * PKCS#12 trust store of them (the builder's CA bundle and Java cacerts).
 * What the certificates are for, their aliases and the store's password are
 * the caller's; this file only speaks X.509 and PKCS#12. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

int x509_pem_check(const char *path, const void *data, size_t n, perr *e)
{
	BIO *bio;
	int count = 0, ret = -1;
	X509 *x;

	if (n > INT32_MAX)
		return perr_set(e, "%s: certificate file too large", path);
	if (!(bio = BIO_new_mem_buf(data, (int)n)))
		die("BIO_new_mem_buf failed");
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		X509_free(x);
		count++;
	}
	/* PEM_read ends with PEM_R_NO_START_LINE at a clean end of input;
	 * anything else is a damaged certificate */
	{
		unsigned long err = ERR_peek_last_error();
		if (count == 0 || (err && ERR_GET_REASON(err) != PEM_R_NO_START_LINE)) {
			perr_set(e, "%s: not a valid PEM certificate", path);
			ERR_clear_error();
			goto out;
		}
	}
	ERR_clear_error();
	ret = 0;
out:
	BIO_free(bio);
	return ret;
}

struct x509_store {
	STACK_OF(PKCS12_SAFEBAG) *bags;
	char *attr_oid;
	ASN1_OBJECT *attr_value;
};

x509_store *x509_store_new(const char *attr_oid, const char *attr_value_oid)
{
	x509_store *s = xcalloc(1, sizeof(*s));

	s->attr_oid = xstrdup(attr_oid);
	if (!(s->attr_value = OBJ_txt2obj(attr_value_oid, 1)))
		die("OBJ_txt2obj failed");
	return s;
}

int x509_store_add_pem(x509_store *s, const char *path, const void *data, size_t n,
		       char *(*alias)(void *arg), void *arg, size_t *count, perr *e)
{
	size_t nth = 0;
	BIO *bio;
	X509 *x = NULL;
	char *name = NULL;
	int ret = -1;

	if (n > INT32_MAX)
		return perr_set(e, "%s: certificate file too large", path);
	if (!(bio = BIO_new_mem_buf(data, (int)n)))
		die("BIO_new_mem_buf failed");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		PKCS12_SAFEBAG *bag;

		nth++;
		free(name);
		name = alias(arg);
		if (!(bag = PKCS12_add_cert(&s->bags, x)) ||
		    !PKCS12_add_friendlyname_utf8(bag, name, -1) ||
		    !PKCS12_add1_attr_by_txt(bag, s->attr_oid, V_ASN1_OBJECT,
					     (const unsigned char *)s->attr_value, -1)) {
			perr_set(e, "%s: cannot add the certificate to the trust store", path);
			goto out;
		}
		X509_free(x);
		x = NULL;
		(*count)++;
	}
	if (!nth) {
		perr_set(e, "%s: not a valid PEM certificate", path);
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	free(name);
	return ret;
}

int x509_store_finish(x509_store *s, const char *password, const unsigned char *salt,
		      size_t saltlen, int mac_iter, strbuf *out, perr *e)
{
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	int len, ret = -1;

	/* One unencrypted SafeContents (public certificates: what keytool
	 * writes with keystore.pkcs12.certProtectionAlgorithm=NONE, and what
	 * Java reads without a password), integrity from the password MAC. */
	if (!s->bags || !PKCS12_add_safe(&safes, s->bags, -1, 0, NULL) ||
	    !(p12 = PKCS12_add_safes(safes, 0)) ||
	    /* OpenSSL 3's prototype lacks the const; the salt is only read */
	    !PKCS12_set_mac(p12, password, -1, (unsigned char *)salt, (int)saltlen, mac_iter,
			    EVP_sha256()) ||
	    (len = i2d_PKCS12(p12, &der)) <= 0) {
		perr_set(e, "cannot build the trust store (PKCS#12)");
		goto out;
	}
	sb_add(out, der, (size_t)len);
	ret = 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return ret;
}

void x509_store_free(x509_store *s)
{
	if (!s)
		return;
	sk_PKCS12_SAFEBAG_pop_free(s->bags, PKCS12_SAFEBAG_free);
	ASN1_OBJECT_free(s->attr_value);
	free(s->attr_oid);
	free(s);
}
