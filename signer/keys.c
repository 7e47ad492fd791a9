/* keys.c - key generation, loading (PEM, cosign-encrypted, PKCS#11) and raw
 * sign/verify with OpenSSL 3 EVP. */
#define _GNU_SOURCE
/* The pkcs11 engine (libengine-pkcs11-openssl) is the PKCS#11 bridge Debian 12
 * ships; ENGINE_* is deprecated in OpenSSL 3 but is the only way to reach it. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "signer_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>


/* The last OpenSSL error as text, for messages ("" when none). */
static const char *ossl_err(void)
{
	static char buf[256];
	unsigned long code = ERR_get_error();

	buf[0] = '\0';
	if (code) {
		ERR_error_string_n(code, buf, sizeof(buf));
		ERR_clear_error();
	}
	return buf;
}

int signer_key_type_parse(const char *s, enum signer_key_type *out, perr *e)
{
	if (!strcmp(s, "ecdsa-p256"))
		*out = SIGNER_KEY_ECDSA_P256;
	else if (!strcmp(s, "ed25519"))
		*out = SIGNER_KEY_ED25519;
	else if (!strcmp(s, "rsa-3072"))
		*out = SIGNER_KEY_RSA_3072;
	else
		return perr_set(e, "unknown key type '%s' (ecdsa-p256, ed25519, rsa-3072)", s);
	return 0;
}

/* Name the key and refuse types we cannot sign with compatibly. */
static int key_wrap(EVP_PKEY *pkey, signer_key **out, perr *e)
{
	signer_key *k;
	int id = EVP_PKEY_get_base_id(pkey);

	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	if (id == EVP_PKEY_EC) {
		char curve[64] = "";
		size_t len = 0;

		EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof(curve), &len);
		if (strcmp(curve, "prime256v1") && strcmp(curve, "P-256")) {
			perr_set(e, "unsupported ECDSA curve '%s' (only P-256)", curve);
			goto fail;
		}
		snprintf(k->name, sizeof(k->name), "ecdsa-p256");
	} else if (id == EVP_PKEY_ED25519) {
		snprintf(k->name, sizeof(k->name), "ed25519");
	} else if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(pkey);

		if (bits < 2048) {
			perr_set(e, "RSA key of %d bits is too weak (at least 2048)", bits);
			goto fail;
		}
		snprintf(k->name, sizeof(k->name), "rsa-%d", bits);
	} else {
		perr_set(e, "unsupported key type '%s'", OBJ_nid2sn(id));
		goto fail;
	}
	*out = k;
	return 0;
fail:
	k->pkey = NULL; /* the caller still owns pkey on failure */
	free(k);
	return -1;
}

void signer_key_free(signer_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *signer_key_name(const signer_key *k)
{
	return k->name;
}

/* ---- passwords ---------------------------------------------------------------- */

static int tty_read(const char *prompt, strbuf *out, perr *e)
{
	struct termios old, noecho;
	FILE *tty = fopen("/dev/tty", "r+");
	char line[1024];
	int ret = -1, restore = 0;

	if (!tty)
		return perr_errno(e, "no password: set PARE_PASSWORD or run on a terminal (/dev/tty)");
	if (tcgetattr(fileno(tty), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ECHONL;
		restore = tcsetattr(fileno(tty), TCSAFLUSH, &noecho) == 0;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (!fgets(line, sizeof(line), tty)) {
		perr_set(e, "no password read from /dev/tty");
		goto out;
	}
	line[strcspn(line, "\r\n")] = '\0';
	sb_reset(out);
	sb_adds(out, line);
	ret = 0;
out:
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	OPENSSL_cleanse(line, sizeof(line));
	fclose(tty);
	return ret;
}

/* The password: PARE_PASSWORD, else (for cosign keys) COSIGN_PASSWORD, else
 * the terminal; confirm asks twice (new keys). */
static int get_password(const char *what, bool confirm, bool cosign, strbuf *out,
			perr *e)
{
	const char *env = getenv("PARE_PASSWORD");
	strbuf again = STRBUF_INIT;
	char *prompt;
	int ret = -1;

	if (!env && cosign)
		env = getenv("COSIGN_PASSWORD");
	if (env) {
		sb_reset(out);
		sb_adds(out, env);
		return 0;
	}
	prompt = xasprintf("password for %s: ", what);
	if (tty_read(prompt, out, e) < 0)
		goto out;
	if (confirm) {
		if (tty_read("again: ", &again, e) < 0)
			goto out;
		if (strcmp(sb_str(out), sb_str(&again))) {
			perr_set(e, "passwords do not match");
			goto out;
		}
	}
	ret = 0;
out:
	if (again.buf)
		OPENSSL_cleanse(again.buf, again.len);
	sb_release(&again);
	free(prompt);
	return ret;
}

static void sb_wipe(strbuf *sb)
{
	if (sb->buf)
		OPENSSL_cleanse(sb->buf, sb->alloc);
	sb_release(sb);
}

/* ---- keygen ---------------------------------------------------------------------- */

static EVP_PKEY *generate(enum signer_key_type type)
{
	switch (type) {
	case SIGNER_KEY_ECDSA_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case SIGNER_KEY_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	case SIGNER_KEY_RSA_3072:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	}
	return NULL;
}

static int bio_to_sb(BIO *b, strbuf *out)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0)
		return -1;
	sb_add(out, p, (size_t)n);
	return 0;
}

int signer_keygen(enum signer_key_type type, const char *name, bool no_password,
		  perr *e)
{
	char *keypath = xasprintf("%s.key", name), *pubpath = xasprintf("%s.pub", name);
	strbuf pass = STRBUF_INIT, priv = STRBUF_INIT, pub = STRBUF_INIT;
	EVP_PKEY *pkey = NULL;
	BIO *bk = NULL, *bp = NULL;
	int ret = -1;

	if (path_exists(keypath)) {
		perr_set(e, "'%s' exists; refusing to overwrite a private key", keypath);
		goto out;
	}
	if (!no_password && get_password(keypath, true, false, &pass, e) < 0)
		goto out;
	if (!no_password && pass.len == 0) {
		perr_set(e, "empty password for '%s' (use --no-password for an unencrypted key)", keypath);
		goto out;
	}
	pkey = generate(type);
	if (!pkey) {
		perr_set(e, "key generation failed: %s", ossl_err());
		goto out;
	}
	bk = BIO_new(BIO_s_mem());
	bp = BIO_new(BIO_s_mem());
	/* PKCS#8 with PBES2: AES-256-CBC, key from PBKDF2-HMAC-SHA256. */
	if (!PEM_write_bio_PKCS8PrivateKey(bk, pkey, no_password ? NULL : EVP_aes_256_cbc(),
					   no_password ? NULL : pass.buf,
					   no_password ? 0 : (int)pass.len, NULL, NULL) ||
	    !PEM_write_bio_PUBKEY(bp, pkey) || bio_to_sb(bk, &priv) < 0 ||
	    bio_to_sb(bp, &pub) < 0) {
		perr_set(e, "cannot encode key: %s", ossl_err());
		goto out;
	}
	if (write_file_atomic(keypath, priv.buf, priv.len, 0600, e) < 0 ||
	    write_file_atomic(pubpath, pub.buf, pub.len, 0644, e) < 0)
		goto out;
	ret = 0;
out:
	BIO_free(bk);
	BIO_free(bp);
	EVP_PKEY_free(pkey);
	sb_wipe(&pass);
	sb_wipe(&priv);
	sb_release(&pub);
	free(keypath);
	free(pubpath);
	return ret;
}

/* ---- loading ----------------------------------------------------------------------------- */

struct pw_ctx {
	const char *path;
	strbuf pass;
	bool asked;
	perr *e;
};

/* pem_password_cb: asked only when the PEM is actually encrypted. */
static int pem_pw_cb(char *buf, int size, int rwflag, void *u)
{
	struct pw_ctx *c = u;

	(void)rwflag;
	if (!c->asked) {
		if (get_password(c->path, false, false, &c->pass, c->e) < 0)
			return -1;
		c->asked = true;
	}
	if (c->pass.len > (size_t)size)
		return -1;
	memcpy(buf, c->pass.buf, c->pass.len);
	return (int)c->pass.len;
}

/* Decode a JSON field as base64 into out. */
static int json_b64(const cJSON *obj, const char *field, strbuf *out, perr *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);

	if (!cJSON_IsString(v))
		return perr_set(e, "missing %s", field);
	if (base64_decode(v->valuestring, out, e) < 0)
		return perr_prefix(e, "%s", field);
	return 0;
}

static long json_num(const cJSON *obj, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
	/* bounded before the conversion (a huge double is UB as a long) */
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 ? (long)v->valuedouble : -1;
}

/* cosign / go-securesystemslib "encrypted" format:
 * {"kdf":{"name":"scrypt","params":{"N","r","p"},"salt":B64},
 *  "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
 * key = scrypt(password, salt, N, r, p, 32); plaintext = PKCS#8 DER. */
static int load_cosign(const char *path, const unsigned char *json, long jlen,
		       EVP_PKEY **out, perr *e)
{
	strbuf salt = STRBUF_INIT, nonce = STRBUF_INIT, ct = STRBUF_INIT, pass = STRBUF_INIT;
	unsigned char key[32], *plain = NULL;
	const cJSON *kdf, *params, *cipher, *name;
	cJSON *doc = cJSON_ParseWithLength((const char *)json, (size_t)jlen);
	const unsigned char *p;
	long N, r, pp;
	int ret = -1;

	if (!doc) {
		perr_set(e, "'%s': cosign key is not JSON", path);
		goto out;
	}
	kdf = cJSON_GetObjectItemCaseSensitive(doc, "kdf");
	params = cJSON_GetObjectItemCaseSensitive(kdf, "params");
	cipher = cJSON_GetObjectItemCaseSensitive(doc, "cipher");
	name = cJSON_GetObjectItemCaseSensitive(kdf, "name");
	if (!cJSON_IsString(name) || strcmp(name->valuestring, "scrypt")) {
		perr_set(e, "'%s': unsupported kdf (only scrypt)", path);
		goto out;
	}
	name = cJSON_GetObjectItemCaseSensitive(cipher, "name");
	if (!cJSON_IsString(name) || strcmp(name->valuestring, "nacl/secretbox")) {
		perr_set(e, "'%s': unsupported cipher (only nacl/secretbox)", path);
		goto out;
	}
	N = json_num(params, "N"), r = json_num(params, "r"), pp = json_num(params, "p");
	if (N < 2 || r < 1 || pp < 1 || N > (1L << 22) || r > 64 || pp > 64) {
		perr_set(e, "'%s': bad scrypt parameters", path);
		goto out;
	}
	if (json_b64(kdf, "salt", &salt, e) < 0 || json_b64(cipher, "nonce", &nonce, e) < 0 ||
	    json_b64(doc, "ciphertext", &ct, e) < 0) {
		perr_prefix(e, "'%s'", path);
		goto out;
	}
	if (nonce.len != crypto_secretbox_NONCEBYTES || ct.len < crypto_secretbox_MACBYTES) {
		perr_set(e, "'%s': bad nonce or ciphertext length", path);
		goto out;
	}
	if (get_password(path, false, true, &pass, e) < 0)
		goto out;
	/* N=32768,r=8 needs 32 MiB plus change: above OpenSSL's default cap. */
	if (!EVP_PBE_scrypt(pass.buf ? pass.buf : "", pass.len, (unsigned char *)salt.buf,
			    salt.len, (uint64_t)N, (uint64_t)r, (uint64_t)pp,
			    (uint64_t)1 << 30, key, sizeof(key))) {
		perr_set(e, "'%s': scrypt failed: %s", path, ossl_err());
		goto out;
	}
	if (sodium_init() < 0) {
		perr_set(e, "libsodium initialisation failed");
		goto out;
	}
	plain = xmalloc(ct.len);
	if (crypto_secretbox_open_easy(plain, (unsigned char *)ct.buf, ct.len,
				       (unsigned char *)nonce.buf, key) != 0) {
		perr_set(e, "'%s': wrong password or corrupted key (secretbox open failed)", path);
		goto out;
	}
	p = plain;
	*out = d2i_AutoPrivateKey(NULL, &p, (long)(ct.len - crypto_secretbox_MACBYTES));
	if (!*out) {
		perr_set(e, "'%s': decrypted key is not PKCS#8: %s", path, ossl_err());
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (plain) {
		OPENSSL_cleanse(plain, ct.len);
		free(plain);
	}
	sb_wipe(&pass);
	sb_release(&salt);
	sb_release(&nonce);
	sb_release(&ct);
	cJSON_Delete(doc);
	return ret;
}

/* PKCS#11 through the pkcs11 engine (Debian: libengine-pkcs11-openssl,
 * which finds p11-kit's module, or PKCS11_MODULE_PATH). */
static int load_pkcs11(const char *uri, EVP_PKEY **out, perr *e)
{
	ENGINE *eng;
	const char *module = getenv("PKCS11_MODULE_PATH");
	const char *pin = getenv("PARE_PKCS11_PIN");
	int ret = -1;

	ENGINE_load_builtin_engines();
	eng = ENGINE_by_id("pkcs11");
	if (!eng)
		return perr_set(e, "'%s': no pkcs11 OpenSSL engine (apt-get install libengine-pkcs11-openssl): %s",
				uri, ossl_err());
	if (module && !ENGINE_ctrl_cmd_string(eng, "MODULE_PATH", module, 0)) {
		perr_set(e, "pkcs11 engine: cannot set module '%s': %s", module, ossl_err());
		goto out;
	}
	if (!ENGINE_init(eng)) {
		perr_set(e, "pkcs11 engine: initialisation failed: %s", ossl_err());
		goto out;
	}
	if (pin && !ENGINE_ctrl_cmd_string(eng, "PIN", pin, 0)) {
		perr_set(e, "pkcs11 engine: cannot set PIN: %s", ossl_err());
		ENGINE_finish(eng);
		goto out;
	}
	*out = ENGINE_load_private_key(eng, uri, NULL, NULL);
	ENGINE_finish(eng);
	if (!*out) {
		perr_set(e, "'%s': cannot load the private key from the token: %s", uri, ossl_err());
		goto out;
	}
	ret = 0;
out:
	ENGINE_free(eng);
	return ret;
}

int signer_load_private(const char *ref, signer_key **out, perr *e)
{
	strbuf buf = STRBUF_INIT;
	struct pw_ctx pw = { ref, STRBUF_INIT, false, e };
	EVP_PKEY *pkey = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len = 0;
	BIO *b = NULL;
	int ret = -1;

	if (str_starts(ref, "pkcs11:")) {
		if (load_pkcs11(ref, &pkey, e) < 0)
			goto out;
		goto wrap;
	}
	if (read_file(ref, &buf, 1 << 20, e) < 0)
		goto out;
	/* as ssh does, but a warning: a key readable by others may be theirs */
	struct stat st;
	if (stat(ref, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		warning("private key '%s' is readable or writable by group or others (mode %04o; "
			"chmod 600 it)", ref, (unsigned)(st.st_mode & 07777));
	b = BIO_new_mem_buf(buf.buf, (int)buf.len);
	if (!PEM_read_bio(b, &name, &header, &data, &len)) {
		perr_set(e, "'%s': not a PEM private key", ref);
		goto out;
	}
	if (!strcmp(name, "ENCRYPTED SIGSTORE PRIVATE KEY") ||
	    !strcmp(name, "ENCRYPTED COSIGN PRIVATE KEY")) {
		if (load_cosign(ref, data, len, &pkey, e) < 0)
			goto out;
		goto wrap;
	}
	BIO_free(b);
	b = BIO_new_mem_buf(buf.buf, (int)buf.len);
	/* PKCS#8 (plain or encrypted) and the legacy EC/RSA forms. */
	pkey = PEM_read_bio_PrivateKey(b, NULL, pem_pw_cb, &pw);
	if (!pkey) {
		if (pw.asked)
			perr_set(e, "'%s': wrong password or unreadable key", ref);
		else if (!e->msg[0] || !strstr(e->msg, "password"))
			perr_set(e, "'%s': unreadable private key (%s): %s", ref, name, ossl_err());
		goto out;
	}
wrap:
	if (key_wrap(pkey, out, e) < 0) {
		perr_prefix(e, "'%s'", ref);
		EVP_PKEY_free(pkey);
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	OPENSSL_free(name);
	OPENSSL_free(header);
	if (data)
		OPENSSL_clear_free(data, (size_t)len);
	sb_wipe(&pw.pass);
	sb_wipe(&buf);
	return ret;
}

int signer_load_public_buf(const char *name, const void *data, size_t n, signer_key **out,
			   perr *e)
{
	EVP_PKEY *pkey;
	BIO *b = NULL;
	int ret = -1;

	b = BIO_new_mem_buf(data, (int)n);
	pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (!pkey) {
		perr_set(e, "'%s': not a PEM public key (SubjectPublicKeyInfo): %s", name, ossl_err());
		goto out;
	}
	if (key_wrap(pkey, out, e) < 0) {
		EVP_PKEY_free(pkey);
		perr_prefix(e, "'%s'", name);
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	return ret;
}

int signer_load_public(const char *path, signer_key **out, perr *e)
{
	strbuf buf = STRBUF_INIT;
	int ret = -1;

	if (read_file(path, &buf, 1 << 20, e) < 0)
		goto out;
	ret = signer_load_public_buf(path, buf.buf, buf.len, out, e);
out:
	sb_release(&buf);
	return ret;
}

/* ---- sign / verify ------------------------------------------------------------------------ */

/* SHA-256 for ECDSA and RSA (PKCS#1 v1.5 is OpenSSL's RSA default); none for
 * pure Ed25519 — the same choices cosign's verifier makes for a public key. */
static const char *md_for(const signer_key *k)
{
	return EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_ED25519 ? NULL : "SHA256";
}

int signer_sign_bytes(signer_key *k, const void *data, size_t n, strbuf *sig, perr *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 0;
	int ret = -1;

	if (!EVP_DigestSignInit_ex(ctx, NULL, md_for(k), NULL, NULL, k->pkey, NULL) ||
	    !EVP_DigestSign(ctx, NULL, &len, data, n)) {
		perr_set(e, "cannot sign with %s key: %s", k->name, ossl_err());
		goto out;
	}
	sb_grow(sig, len + 1);
	if (!EVP_DigestSign(ctx, (unsigned char *)sig->buf + sig->len, &len, data, n)) {
		perr_set(e, "signing with %s key failed: %s", k->name, ossl_err());
		goto out;
	}
	sig->len += len;
	sig->buf[sig->len] = '\0';
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int signer_verify_bytes(signer_key *k, const void *data, size_t n, const void *sig,
			size_t siglen, perr *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -1, r;

	if (!EVP_DigestVerifyInit_ex(ctx, NULL, md_for(k), NULL, NULL, k->pkey, NULL)) {
		perr_set(e, "cannot verify with %s key: %s", k->name, ossl_err());
		goto out;
	}
	r = EVP_DigestVerify(ctx, sig, siglen, data, n);
	ERR_clear_error();
	if (r != 1) {
		perr_set(e, "signature does not verify with the %s key", k->name);
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}
