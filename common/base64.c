/* base64.c - standard base64 (RFC 4648, with padding) through OpenSSL's EVP
 * block encoders: signatures and payloads in cosign / DSSE envelopes, the
 * "auth" of a docker config.json. */
#include "common.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

void base64_encode(const void *data, size_t n, strbuf *out)
{
	size_t need = 4 * ((n + 2) / 3);

	sb_grow(out, need + 1);
	EVP_EncodeBlock((unsigned char *)out->buf + out->len, data, (int)n);
	out->len += need;
	out->buf[out->len] = '\0';
}

int base64_decode(const char *s, strbuf *out, perr *e)
{
	size_t n = strlen(s), pad = 0;
	int got;

	/* EVP_DecodeBlock takes an int */
	if (n % 4 || n > INT_MAX)
		return perr_set(e, "invalid base64 (length %zu)", n);
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	sb_grow(out, n / 4 * 3 + 1);
	got = EVP_DecodeBlock((unsigned char *)out->buf + out->len, (const unsigned char *)s, (int)n);
	if (got < 0)
		return perr_set(e, "invalid base64");
	/* EVP_DecodeBlock counts the padding as zero bytes */
	out->len += (size_t)got - pad;
	out->buf[out->len] = '\0';
	return 0;
}
