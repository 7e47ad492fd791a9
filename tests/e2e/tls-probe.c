/* tls-probe.c - built on the host against OpenSSL, run in the base image with
 * the image's libc and libssl: loads the default verify paths (honouring
 * SSL_CERT_FILE), counts the trusted certificates and verifies one root of
 * the bundle against the store.  Prints "roots N verify ok" or why not. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>

int main(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *st;
	X509_STORE_CTX *vc;
	STACK_OF(X509_OBJECT) *objs;
	X509 *root = NULL;
	FILE *f;
	int n = 0, v;

	if (!ctx || SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	st = SSL_CTX_get_cert_store(ctx);
	objs = X509_STORE_get0_objects(st);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
			n++;
	/* the bundle's first certificate, a self-signed root, must verify */
	if ((f = fopen("/etc/ssl/certs/ca-certificates.crt", "r"))) {
		root = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!root) {
		printf("roots %d no-bundle\n", n);
		return 1;
	}
	vc = X509_STORE_CTX_new();
	X509_STORE_CTX_init(vc, st, root, NULL);
	v = X509_verify_cert(vc);
	printf("roots %d verify %s %s\n", n, v == 1 ? "ok" : "failed",
	       OpenSSL_version(OPENSSL_VERSION));
	X509_STORE_CTX_free(vc);
	X509_free(root);
	SSL_CTX_free(ctx);
	return v == 1 && n > 100 ? 0 : 1;
}
