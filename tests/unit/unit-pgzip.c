/* unit-pgzip: the parallel gzip writer round-trips through zlib's inflate
 * and gzip -dc, and gives the same bytes for any thread count. */
#include "../../builder/builder_int.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static int put(void *cd, const void *data, size_t n, perr *e)
{
	struct buf *b = cd;

	(void)e;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	return 0;
}

/* compressible but not trivial: words from a small PRNG */
static unsigned char *make_input(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	static const char *w[] = { "usr/", "lib/", "python3.11/", "\0\0\0\0", "0000644",
				   "x86_64-linux-gnu", "libssl", ".so.3", "\x7f\x45LF" };
	uint32_t s = 12345;
	size_t i = 0;

	while (i < n) {
		s = s * 1103515245u + 12345u;
		if (s >> 28 == 0) { /* some noise */
			p[i++] = (unsigned char)(s >> 16);
			continue;
		}
		const char *x = w[(s >> 16) % (sizeof(w) / sizeof(*w))];
		size_t l = strlen(x) ? strlen(x) : 4;
		for (size_t k = 0; k < l && i < n; k++)
			p[i++] = (unsigned char)x[k];
	}
	return p;
}

static int gz(const unsigned char *in, size_t n, size_t nthreads, size_t chunk, struct buf *out)
{
	perr e;
	struct pgz *g = pgz_new(6, nthreads, put, out, &e);
	int r = 0;

	if (!g)
		return -1;
	for (size_t off = 0; off < n && !r; off += chunk)
		r = pgz_write(g, in + off, n - off < chunk ? n - off : chunk, &e);
	if (!r)
		r = pgz_finish(g, &e);
	pgz_free(g);
	return r;
}

static bool inflate_eq(const struct buf *z, const unsigned char *in, size_t n)
{
	z_stream s = { 0 };
	unsigned char *o = malloc(n + 16);
	bool ok;
	int r;

	if (inflateInit2(&s, 16 + 15) != Z_OK)
		return false;
	s.next_in = z->p;
	s.avail_in = (uInt)z->n;
	s.next_out = o;
	s.avail_out = (uInt)(n + 16);
	r = inflate(&s, Z_FINISH);
	ok = r == Z_STREAM_END && s.total_out == n && s.avail_in == 0 && !memcmp(o, in, n);
	inflateEnd(&s);
	free(o);
	return ok;
}

static bool gzip_dc_eq(const struct buf *z, const unsigned char *in, size_t n)
{
	char zf[] = "/tmp/unit-pgzip.XXXXXX";
	char cmd[256];
	int fd = mkstemp(zf);
	FILE *p;
	unsigned char *o = malloc(n + 16);
	size_t got;
	bool ok;

	if (fd < 0 || write(fd, z->p, z->n) != (ssize_t)z->n)
		return false;
	close(fd);
	snprintf(cmd, sizeof(cmd), "gzip -t < %s && gzip -dc < %s", zf, zf);
	p = popen(cmd, "r");
	got = fread(o, 1, n + 16, p);
	ok = pclose(p) == 0 && got == n && !memcmp(o, in, n);
	unlink(zf);
	free(o);
	return ok;
}

int main(void)
{
	const size_t B = PGZ_BLOCK, BATCH = (size_t)PGZ_BLOCK * PGZ_BATCH;
	const size_t sizes[] = { 0, 1, 100, B - 1, B, B + 1, 3 * B + 7, BATCH, BATCH + 1,
				 2 * BATCH + B / 2, 5 * BATCH };
	unsigned char *big = make_input(sizes[ARRAY_SIZE(sizes) - 1]);
	struct buf base = { 0 };
	perr e;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i];
		struct buf one = { 0 }, many = { 0 }, odd = { 0 };
		uLong c = crc32(0, Z_NULL, 0);

		TAP_OK(gz(big, n, 1, 65536, &one) == 0 && gz(big, n, 4, 65536, &many) == 0 &&
			       gz(big, n, 3, 4093, &odd) == 0,
		       "%zu bytes: written with 1, 4 and 3 threads", n);
		TAP_OK(one.n == many.n && !memcmp(one.p, many.p, one.n) && one.n == odd.n &&
			       !memcmp(one.p, odd.p, one.n),
		       "%zu bytes: same bytes for 1 and N threads and any write sizes", n);
		TAP_OK(one.n >= 18 && one.p[0] == 0x1f && one.p[1] == 0x8b && one.p[3] == 0 &&
			       !memcmp(one.p + 4, "\0\0\0\0", 4) && one.p[9] == 3,
		       "%zu bytes: fixed header (no name, mtime 0, OS unix)", n);
		c = crc32(c, big, (uInt)n);
		TAP_OK(one.n >= 8 && one.p[one.n - 8] == (unsigned char)c &&
			       one.p[one.n - 4] == (unsigned char)n,
		       "%zu bytes: trailer CRC-32 and ISIZE", n);
		TAP_OK(inflate_eq(&one, big, n), "%zu bytes: zlib inflate gives the input back", n);
		TAP_OK(gzip_dc_eq(&one, big, n), "%zu bytes: gzip -t and gzip -dc accept it", n);
		if (n == 5 * BATCH) {
			/* the ratio stays close to one gzip -6 stream (dictionary priming) */
			uLongf zn = compressBound((uLong)n);
			unsigned char *zb = malloc(zn);

			compress2(zb, &zn, big, (uLong)n, 6);
			TAP_OK(one.n < zn + zn / 50 + 64,
			       "%zu bytes: %zu vs zlib -6 %lu bytes (within 2 %%)", n, one.n,
			       (unsigned long)zn);
			free(zb);
		}
		free(one.p);
		free(many.p);
		free(odd.p);
	}
	TAP_OK(pgz_new(10, 1, put, &base, &e) == NULL && strstr(e.msg, "level 10"),
	       "level 10 refused: %s", e.msg);
	setenv("PARE_THREADS", "3", 1);
	TAP_OK(pare_nthreads() == 3, "PARE_THREADS=3 -> 3 threads");
	setenv("PARE_THREADS", "0", 1);
	TAP_OK(pare_nthreads() >= 1, "PARE_THREADS=0 is ignored");
	free(big);
	TAP_DONE();
}
