/*
 * fuzz-verify.c - what `pare verify` reads from others, through the signer
 * functions it uses (signer_int.h); the first byte picks which:
 *   0  a public key file (signer_load_public_buf)
 *   1  a DSSE envelope (signer_dsse_verify), then the statement it carries
 *   2  an in-toto statement as a verified envelope yields it (signer_statement_check)
 *   3  a cosign simple-signing layer: payload NUL base64-signature
 *      (signer_verify_simple_signing)
 *   4  layout JSON (index.json, a .sig/.att manifest) as the layout code
 *      walks it: layout_find_ref, signer_layout_targets, signer_layout_sboms and a blob
 *      read for every descriptor, in a layout without blobs (every read
 *      fails: cleanly, whatever the descriptor holds)
 * The key is a fixed Ed25519 test key (below; it signs nothing but these
 * seeds).  Ed25519 signatures are deterministic, so whenever verification
 * succeeds the target re-signs what the verifier says was signed and
 * requires that very signature in the input: a success on bytes the key
 * did not sign (a forgery, or a payload other than the one verified)
 * aborts.  Every failure explains itself on one line.
 */
#include "../../signer/signer_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Test key for the fuzz seeds only (pare keygen --type ed25519). */
static const char PRIV[] = "-----BEGIN PRIVATE KEY-----\n"
			   "MC4CAQAwBQYDK2VwBCIEICo4gjjD4bYSk72b/Zo3tsCliieiu2LwtSWtthndg4zY\n"
			   "-----END PRIVATE KEY-----\n";
static const char PUB[] = "-----BEGIN PUBLIC KEY-----\n"
			  "MCowBQYDK2VwAyEAQ8FktUxa5S2THA7FDfLb0n9lFMZ/YB1KGTPRNiRy4IM=\n"
			  "-----END PUBLIC KEY-----\n";
/* the digests the seed signature and statements name */
static const char INDEX_DIGEST[] =
	"sha256:50e0e2bcbe217a0ff634a9143d995ea406a121c339ad6648ecf0703159d20a78";
static const char IMAGE_DIGEST[] =
	"sha256:9f72e5be44362b9e18591c0cb52ad69c6ed55a0b6135466a61946d7d0c44b791";

static EVP_PKEY *priv;
static signer_key *pub;
static char dir[] = "/tmp/pare-fuzz-verify-XXXXXX";

static void cleanup(void)
{
	perr e;

	rm_rf(dir, &e);
}

static void explained(const perr *e)
{
	if (!e->msg[0] || strchr(e->msg, '\n'))
		abort(); /* every failure explains itself, on one line */
}

/* The signature the test key makes over data (deterministic). */
static void sign(const void *data, size_t n, unsigned char sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;

	if (!EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv) ||
	    !EVP_DigestSign(ctx, sig, &len, data, n) || len != 64)
		abort();
	EVP_MD_CTX_free(ctx);
}

/* Plain base64 decoding, independent of base64_decode: 64 bytes or -1. */
static int decode64(const char *s, unsigned char out[64])
{
	unsigned char buf[128];
	size_t n = strlen(s), pad = 0;
	int got;

	if (n != 88)
		return -1;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got - pad != 64)
		return -1;
	memcpy(out, buf, 64);
	return 0;
}

/* A verified success must carry the key's own signature over signed. */
static void really_signed(const void *signed_bytes, size_t n, const char *const *b64, size_t nsigs)
{
	unsigned char want[64], got[64];

	sign(signed_bytes, n, want);
	for (size_t i = 0; i < nsigs; i++)
		if (b64[i] && decode64(b64[i], got) == 0 && !memcmp(got, want, 64))
			return;
	fprintf(stderr, "verification succeeded without the key's signature over the verified bytes\n");
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *b = BIO_new_mem_buf(PRIV, -1);
	perr e;

	(void)argc, (void)argv;
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	atexit(cleanup);
	priv = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!priv || signer_load_public_buf("fuzz.pub", PUB, strlen(PUB), &pub, &e) < 0)
		die("fuzz-verify: test key: %s", e.msg);
	return 0;
}

static void public_key(const uint8_t *data, size_t size)
{
	signer_key *k = NULL;
	perr e = { 0, "" };
	static const char msg[] = "fuzz";
	unsigned char sig[64];

	if (signer_load_public_buf("fuzz.pub", data, size, &k, &e) < 0) {
		explained(&e);
		return;
	}
	/* a key that verifies the test key's signature is the test key */
	sign(msg, 4, sig);
	if (signer_verify_bytes(k, msg, 4, sig, 64, &e) == 0 && !EVP_PKEY_eq(k->pkey, priv))
		abort();
	signer_key_free(k);
}

static void statement(const char *body, size_t n, const char *ann_pt, const char *digest)
{
	cJSON *st = NULL;
	const char *pt = NULL;
	perr e = { 0, "" };

	if (signer_statement_check(body, n, ann_pt, digest, &st, &pt, &e) < 0) {
		explained(&e);
		if (st)
			abort();
		return;
	}
	if (!st || !pt || (ann_pt && strcmp(pt, ann_pt)))
		abort();
	cJSON_Delete(st);
}

static void envelope(const uint8_t *data, size_t size)
{
	strbuf body = STRBUF_INIT, pae = STRBUF_INIT;
	perr e = { 0, "" };

	if (signer_dsse_verify(pub, (const char *)data, size, &body, &e) < 0) {
		explained(&e);
	} else {
		/* what was verified: PAE(payloadType, body), by hand */
		cJSON *env = cJSON_ParseWithLength((const char *)data, size), *s;
		const char *sigs[16];
		size_t n = 0;

		sb_addf(&pae, "DSSEv1 %zu %s %zu ", strlen(OCI_MT_INTOTO), OCI_MT_INTOTO, body.len);
		sb_add(&pae, body.buf, body.len);
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(env, "signatures"))
			if (n < 16)
				sigs[n++] = oci_json_str(s, "sig");
		really_signed(pae.buf, pae.len, sigs, n);
		cJSON_Delete(env);
		statement(body.buf, body.len, NULL, IMAGE_DIGEST);
	}
	sb_release(&body);
	sb_release(&pae);
}

static void simple_signing(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	char *b64;
	perr e = { 0, "" };

	if (!nul)
		return;
	b64 = xstrndup((const char *)nul + 1, size - (size_t)(nul - data) - 1);
	if (signer_verify_simple_signing(pub, data, (size_t)(nul - data), b64, INDEX_DIGEST, &e) < 0) {
		explained(&e);
	} else {
		const char *one[1] = { b64 };
		really_signed(data, (size_t)(nul - data), one, 1);
	}
	free(b64);
}

static void read_each(const struct oci_layout *l, const cJSON *list)
{
	const cJSON *d;
	strbuf buf = STRBUF_INIT;
	perr e = { 0, "" };

	cJSON_ArrayForEach(d, list) {
		e.msg[0] = '\0';
		if (oci_layout_read_desc(l, d, OCI_MAX_BLOB, &buf, &e) == 0)
			abort(); /* there are no blobs */
		explained(&e);
		sb_reset(&buf);
	}
	sb_release(&buf);
}

static void layout_json(const uint8_t *data, size_t size)
{
	struct oci_layout l = { dir, cJSON_ParseWithLength((const char *)data, size) };
	struct target *t = NULL;
	struct sbom_artifact *sb = NULL;
	size_t nt = 0, ns = 0;
	char *ref = NULL;
	perr e = { 0, "" };

	if (!l.index)
		return;
	oci_layout_find_ref(&l, "sha256-50e0e2bcbe217a0ff634a9143d995ea406a121c339ad6648ecf0703159d20a78.sig");
	if (signer_layout_targets(&l, &t, &nt, &ref, &e) == 0)
		abort(); /* every target is read from a blob */
	explained(&e);
	signer_targets_free(t, nt);
	free(ref);
	e.msg[0] = '\0';
	if (signer_layout_sboms(&l, &sb, &ns, &e) < 0)
		explained(&e);
	signer_sboms_free(sb, ns);
	read_each(&l, cJSON_GetObjectItemCaseSensitive(l.index, "manifests"));
	read_each(&l, cJSON_GetObjectItemCaseSensitive(l.index, "layers"));
	cJSON_Delete(l.index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const pts[] = { NULL, SIGNER_PRED_SPDX, SIGNER_PRED_SLSA1 };

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		public_key(data + 1, size - 1);
		break;
	case 1:
		envelope(data + 1, size - 1);
		break;
	case 2:
		if (size >= 2)
			statement((const char *)data + 2, size - 2, pts[data[1] % 3], IMAGE_DIGEST);
		break;
	case 3:
		simple_signing(data + 1, size - 1);
		break;
	case 4:
		layout_json(data + 1, size - 1);
		break;
	}
	return 0;
}
