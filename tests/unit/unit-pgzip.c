/* unit-pgzip: the parallel multi-member gzip writer round-trips through
 * zlib's inflate, gzip -dc and Python's gzip module, cuts the input into
 * fixed PGZ_BLOCK members with the fixed header, and gives the same bytes
 * for any thread count and any write sizes. */
#include "../../builder/builder_int.h"
#include "tap.h"

#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct buf {
	unsigned char *p;
	size_t n, cap;
	size_t fail_after; /* put fails once this many bytes are in (0 = never) */
};

static int put(void *cd, const void *data, size_t n, perr *e)
{
	struct buf *b = cd;

	if (b->fail_after && b->n + n > b->fail_after)
		return perr_set(e, "test sink full");
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

/* incompressible: every byte from an xorshift PRNG */
static unsigned char *make_random(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (unsigned char)(s >> 24);
	}
	return p;
}

static int gz(const unsigned char *in, size_t n, int level, size_t nthreads, size_t chunk,
	      struct buf *out, perr *e)
{
	struct pgz *g = pgz_new(level, nthreads, put, out, e);
	int r = 0;

	if (!g)
		return -1;
	for (size_t off = 0; off < n && !r; off += chunk)
		r = pgz_write(g, in + off, n - off < chunk ? n - off : chunk, e);
	if (!r)
		r = pgz_finish(g, e);
	pgz_free(g);
	return r;
}

/* Inflate member after member with zlib.  True when the members give the
 * input back, every member but the last holds exactly PGZ_BLOCK bytes (one
 * member for empty input) and each has the fixed header (FLG 0, mtime 0,
 * XFL `xfl`, OS 3); *nmem = number of members. */
static bool inflate_members(const struct buf *z, const unsigned char *in, size_t n, int xfl,
			    size_t *nmem)
{
	z_stream s = { 0 };
	unsigned char *o = malloc(PGZ_BLOCK + 16);
	size_t pos = 0, got = 0;
	bool ok = true;

	*nmem = 0;
	if (inflateInit2(&s, 16 + 15) != Z_OK)
		return false;
	while (ok && pos < z->n) {
		const unsigned char *h = z->p + pos;
		int r;

		ok = z->n - pos >= 18 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3] == 0 &&
		     !memcmp(h + 4, "\0\0\0\0", 4) && h[8] == xfl && h[9] == 3;
		if (!ok)
			break;
		inflateReset(&s);
		s.next_in = z->p + pos;
		s.avail_in = (uInt)(z->n - pos);
		s.next_out = o;
		s.avail_out = PGZ_BLOCK + 16;
		r = inflate(&s, Z_FINISH);
		ok = r == Z_STREAM_END && got + s.total_out <= n &&
		     !memcmp(o, in + got, s.total_out);
		got += s.total_out;
		pos = z->n - s.avail_in;
		(*nmem)++;
		/* only the last member may be short */
		if (ok && s.total_out != PGZ_BLOCK && (pos != z->n || (s.total_out == 0 && n)))
			ok = false;
	}
	inflateEnd(&s);
	free(o);
	return ok && got == n && pos == z->n;
}

/* Decompress z with gzip (py: Python's gzip module) and compare with in. */
static bool external_eq(bool py, const struct buf *z, const unsigned char *in, size_t n)
{
	char zf[] = "/tmp/unit-pgzip.XXXXXX";
	char line[512];
	int fd = mkstemp(zf);
	FILE *p;
	unsigned char *o = malloc(n + 16);
	size_t got;
	bool ok;

	if (fd < 0 || write(fd, z->p, z->n) != (ssize_t)z->n) {
		free(o);
		return false;
	}
	close(fd);
	if (py)
		snprintf(line, sizeof(line),
			 "python3 -c 'import gzip, sys; sys.stdout.buffer.write(gzip.decompress("
			 "open(sys.argv[1], \"rb\").read()))' %s", zf);
	else
		snprintf(line, sizeof(line), "gzip -t < %s && gzip -dc < %s", zf, zf);
	p = popen(line, "r");
	got = fread(o, 1, n + 16, p);
	ok = pclose(p) == 0 && got == n && !memcmp(o, in, n);
	unlink(zf);
	free(o);
	return ok;
}

static size_t members_for(size_t n)
{
	return n ? (n + PGZ_BLOCK - 1) / PGZ_BLOCK : 1;
}

static void check_one(const char *what, const unsigned char *in, size_t n)
{
	struct buf t1 = { 0 }, t2 = { 0 }, t4 = { 0 }, odd = { 0 };
	size_t nmem = 0;
	perr e = { 0 };

	TAP_OK(gz(in, n, 6, 1, 65536, &t1, &e) == 0 && gz(in, n, 6, 2, 65536, &t2, &e) == 0 &&
		       gz(in, n, 6, 4, 65536, &t4, &e) == 0 && gz(in, n, 6, 3, 4093, &odd, &e) == 0,
	       "%s %zu bytes: written with 1, 2, 4 and 3 threads %s", what, n, e.msg);
	TAP_OK(t1.n == t2.n && !memcmp(t1.p, t2.p, t1.n) && t1.n == t4.n &&
		       !memcmp(t1.p, t4.p, t1.n) && t1.n == odd.n && !memcmp(t1.p, odd.p, t1.n),
	       "%s %zu bytes: same bytes for 1, 2, 4 threads and any write sizes", what, n);
	TAP_OK(inflate_members(&t1, in, n, 0, &nmem) && nmem == members_for(n),
	       "%s %zu bytes: %zu members of %u bytes (want %zu), fixed headers, zlib gives the "
	       "input back", what, n, nmem, PGZ_BLOCK, members_for(n));
	TAP_OK(external_eq(false, &t1, in, n), "%s %zu bytes: gzip -t and gzip -dc accept it",
	       what, n);
	TAP_OK(external_eq(true, &t1, in, n), "%s %zu bytes: Python's gzip module reads it",
	       what, n);
	free(t1.p);
	free(t2.p);
	free(t4.p);
	free(odd.p);
}

int main(void)
{
	const size_t B = PGZ_BLOCK, BATCH = (size_t)PGZ_BLOCK * PGZ_BATCH;
	const size_t sizes[] = { 0, 1, 100, B - 1, B, B + 1, 2 * B, 3 * B + 7, BATCH,
				 BATCH + 1, 2 * BATCH + B / 2, 3 * BATCH };
	const size_t bign = sizes[ARRAY_SIZE(sizes) - 1];
	unsigned char *big = make_input(bign);
	unsigned char *rnd = make_random(3 * B + 5);
	struct buf base = { 0 };
	perr e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		check_one("text", big, sizes[i]);
	check_one("random", rnd, 3 * B + 5);

	/* ratio: independent 1 MiB members stay within 1 % of one libdeflate
	 * gzip stream of the whole input at the same level */
	{
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
		size_t cap = libdeflate_gzip_compress_bound(c, bign);
		unsigned char *one = malloc(cap);
		size_t onen = libdeflate_gzip_compress(c, big, bign, one, cap);
		struct buf m = { 0 };

		TAP_OK(gz(big, bign, 6, 2, 1 << 20, &m, &e) == 0 && onen && m.n < onen + onen / 100,
		       "%zu bytes: %zu in members vs %zu in one stream (within 1 %%)", bign, m.n,
		       onen);
		free(m.p);
		free(one);
		libdeflate_free_compressor(c);
	}
	/* other levels: valid, XFL 4 for 1 and 2 for 9, 9 no bigger than 1 */
	{
		struct buf l1 = { 0 }, l9 = { 0 };
		size_t n = 2 * B + 3, nm1 = 0, nm9 = 0;

		TAP_OK(gz(big, n, 1, 2, 65536, &l1, &e) == 0 && gz(big, n, 9, 2, 65536, &l9, &e) == 0 &&
			       inflate_members(&l1, big, n, 4, &nm1) &&
			       inflate_members(&l9, big, n, 2, &nm9) && nm1 == 3 && nm9 == 3 &&
			       l9.n < l1.n,
		       "levels 1 and 9: valid, XFL 4 and 2, %zu vs %zu bytes", l1.n, l9.n);
		free(l1.p);
		free(l9.p);
	}
	/* a failing sink: the error comes back, nothing after it is written */
	{
		struct buf f = { .fail_after = 100 };

		TAP_OK(gz(big, BATCH + 1, 6, 2, 65536, &f, &e) == -1 && strstr(e.msg, "sink full") &&
			       f.n == 0,
		       "a write error in pgz_write is returned: %s", e.msg);
		free(f.p);
		f = (struct buf){ .fail_after = 1 };
		TAP_OK(gz(big, 10, 6, 2, 65536, &f, &e) == -1 && strstr(e.msg, "sink full"),
		       "a write error at finish is returned: %s", e.msg);
		free(f.p);
	}
	TAP_OK(pgz_new(10, 1, put, &base, &e) == NULL && strstr(e.msg, "level 10"),
	       "level 10 refused: %s", e.msg);
	setenv("PARE_THREADS", "3", 1);
	TAP_OK(builder_nthreads() == 3, "PARE_THREADS=3 -> 3 threads");
	setenv("PARE_THREADS", "0", 1);
	TAP_OK(builder_nthreads() >= 1, "PARE_THREADS=0 is ignored");
	free(big);
	free(rnd);
	TAP_DONE();
}
