/* hash.c - digests through OpenSSL EVP (the only hashing code in pare). */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

int hash_file(const char *path, const char *algo, char *hex, uint64_t *size, perr *e)
{
	unsigned char buf[1 << 16];
	uint64_t total = 0;
	phash *h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return perr_errno(e, "cannot open '%s'", path);
	h = phash_new(algo);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perr_errno(e, "cannot read '%s'", path);
			phash_free(h);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		phash_update(h, buf, (size_t)r);
		total += (uint64_t)r;
	}
	close(fd);
	phash_final_hex(h, hex);
	if (size)
		*size = total;
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
