/* hash.c - digests through OpenSSL EVP (the only hashing code in pare). */
#include "common.h"

#include <string.h>

#include <openssl/evp.h>

struct phash {
	EVP_MD_CTX *ctx;
};

phash *phash_new(const char *algo)
{
	const EVP_MD *md = EVP_get_digestbyname(algo);
	phash *h;

	if (!md)
		die("unknown digest '%s'", algo);
	h = xmalloc(sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, md, NULL))
		die("cannot initialise digest '%s'", algo);
	return h;
}

void phash_update(phash *h, const void *data, size_t n)
{
	if (n && !EVP_DigestUpdate(h->ctx, data, n))
		die("digest update failed");
}

void phash_final_hex(phash *h, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(h->ctx, md, &n))
		die("digest final failed");
	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
	phash_free(h);
}

void phash_free(phash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sha256_hex(const void *data, size_t n, char hex[SHA256_HEX_LEN + 1])
{
	phash *h = phash_new("sha256");
	phash_update(h, data, n);
	phash_final_hex(h, hex);
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *size,
		perr *e)
{
	return hash_file(path, "sha256", hex, size, e);
}

struct hash_all {
	phash *h;
	uint64_t total;
};

static int hash_add(void *arg, const void *buf, size_t n, perr *e)
{
	struct hash_all *ha = arg;

	(void)e;
	phash_update(ha->h, buf, n);
	ha->total += n;
	return 0;
}

int hash_file(const char *path, const char *algo, char *hex, uint64_t *size, perr *e)
{
	struct hash_all ha = { phash_new(algo), 0 };

	if (read_file_fn(path, hash_add, &ha, e) < 0) {
		phash_free(ha.h);
		return -1;
	}
	phash_final_hex(ha.h, hex);
	if (size)
		*size = ha.total;
	return 0;
}

bool is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == SHA256_HEX_LEN;
}
