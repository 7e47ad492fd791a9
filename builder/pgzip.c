/*
 * pgzip.c - parallel, deterministic gzip writer (pigz-style) on zlib.
 *
 * The input is cut into fixed PGZ_BLOCK-byte blocks.  Each block is raw-
 * deflated on its own, primed with the 32 KiB of input before it
 * (deflateSetDictionary, so matches reach back across the cut and the
 * ratio stays close to one gzip stream) and ended with Z_SYNC_FLUSH (the
 * last one with Z_FINISH), which byte-aligns it so the pieces concatenate
 * into one valid deflate stream.  A block's bytes depend only on the input
 * and the level, never on which thread made it or how many there are, so
 * the output is the same for any thread count.  Blocks are collected in
 * batches of PGZ_BATCH (memory stays bounded: about 2 x batch size) and
 * each batch is compressed by up to `nthreads` threads, the caller
 * included.  The gzip header is fixed (no name, mtime 0, OS 3 = Unix);
 * the trailer's CRC-32 is put together with crc32_combine.
 */
#include "builder_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define PGZ_DICT 32768

struct pgz_blk {
	size_t off, len;      /* input: batch buffer offset, length */
	unsigned char *out;   /* compressed bytes */
	size_t outlen, outcap;
	uLong crc;
	bool last;
	int err;              /* zlib error code, 0 = ok */
};

struct pgz {
	int level;
	size_t nthreads;
	pgz_write_fn *write;
	void *cd;
	unsigned char *in;    /* batch input, PGZ_BLOCK * PGZ_BATCH */
	size_t inlen;
	unsigned char dict[PGZ_DICT]; /* last input bytes before the batch */
	size_t dictlen;
	struct pgz_blk blk[PGZ_BATCH];
	size_t nblk;
	/* shared between the batch's threads */
	pthread_mutex_t mu;
	size_t next;
	uLong crc;
	uint64_t total;
	bool header_done;
};

size_t pare_nthreads(void)
{
	const char *s = getenv("PARE_THREADS");
	long n;

	if (s && *s) {
		char *end;

		n = strtol(s, &end, 10);
		if (!*end && n >= 1)
			return n > 64 ? 64 : (size_t)n;
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (size_t)n;
}

static int deflate_block(struct pgz *g, z_stream *zs, struct pgz_blk *b)
{
	const unsigned char *src = g->in + b->off;
	size_t need = deflateBound(zs, (uLong)b->len) + 64;
	int r;

	if (b->off >= PGZ_DICT)
		r = deflateSetDictionary(zs, src - PGZ_DICT, PGZ_DICT);
	else if (b->off == 0 && g->dictlen)
		r = deflateSetDictionary(zs, g->dict, (uInt)g->dictlen);
	else
		r = Z_OK; /* first block of the stream: nothing before it */
	/* b->off is a multiple of PGZ_BLOCK >= PGZ_DICT, so the middle case
	 * (0 < off < PGZ_DICT) cannot happen. */
	if (r != Z_OK)
		return r;
	if (b->outcap < need) {
		free(b->out);
		b->out = xmalloc(need);
		b->outcap = need;
	}
	zs->next_in = (unsigned char *)src;
	zs->avail_in = (uInt)b->len;
	zs->next_out = b->out;
	zs->avail_out = (uInt)b->outcap;
	r = deflate(zs, b->last ? Z_FINISH : Z_SYNC_FLUSH);
	if (b->last ? r != Z_STREAM_END : (r != Z_OK || zs->avail_out == 0))
		return r == Z_OK ? Z_BUF_ERROR : r;
	if (zs->avail_in)
		return Z_BUF_ERROR;
	b->outlen = b->outcap - zs->avail_out;
	b->crc = crc32(0L, src, (uInt)b->len);
	return Z_OK;
}

static void *pgz_worker(void *arg)
{
	struct pgz *g = arg;
	z_stream zs;
	bool init = false;

	for (;;) {
		struct pgz_blk *b;
		size_t i;

		pthread_mutex_lock(&g->mu);
		i = g->next++;
		pthread_mutex_unlock(&g->mu);
		if (i >= g->nblk)
			break;
		b = &g->blk[i];
		if (!init) {
			memset(&zs, 0, sizeof(zs));
			b->err = deflateInit2(&zs, g->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
			if (b->err != Z_OK)
				continue;
			init = true;
		} else if ((b->err = deflateReset(&zs)) != Z_OK) {
			continue;
		}
		b->err = deflate_block(g, &zs, b);
	}
	if (init)
		deflateEnd(&zs);
	return NULL;
}

static int emit(struct pgz *g, const void *buf, size_t n, perr *e)
{
	return g->write(g->cd, buf, n, e);
}

/* Compress the batch (g->in[0..inlen]); `final`: its last block ends the stream. */
static int pgz_batch(struct pgz *g, bool final, perr *e)
{
	pthread_t th[64];
	size_t nth = 0, want;

	if (!g->header_done) {
		/* magic, CM=deflate, FLG=0, MTIME=0, XFL, OS=3 (Unix) */
		unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

		hdr[8] = g->level == 9 ? 2 : g->level == 1 ? 4 : 0;
		if (emit(g, hdr, sizeof(hdr), e))
			return -1;
		g->header_done = true;
	}
	g->nblk = 0;
	for (size_t off = 0; off < g->inlen || (final && g->nblk == 0); off += PGZ_BLOCK) {
		struct pgz_blk *b = &g->blk[g->nblk++];

		b->off = off;
		b->len = g->inlen - off < PGZ_BLOCK ? g->inlen - off : PGZ_BLOCK;
		b->last = false;
		b->err = 0;
		if (b->len == 0)
			break; /* empty stream: one empty final block */
	}
	if (final)
		g->blk[g->nblk - 1].last = true;
	g->next = 0;
	want = g->nthreads < g->nblk ? g->nthreads : g->nblk;
	for (size_t i = 1; i < want; i++) {
		if (pthread_create(&th[nth], NULL, pgz_worker, g))
			break; /* fewer threads: same bytes */
		nth++;
	}
	pgz_worker(g);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < g->nblk; i++) {
		struct pgz_blk *b = &g->blk[i];

		if (b->err)
			return perr_set(e, "gzip: deflate failed (zlib error %d)", b->err);
		if (emit(g, b->out, b->outlen, e))
			return -1;
		g->crc = crc32_combine(g->crc, b->crc, (z_off_t)b->len);
		g->total += b->len;
	}
	/* keep the input's last 32 KiB for the next batch's first block */
	if (g->inlen >= PGZ_DICT) {
		memcpy(g->dict, g->in + g->inlen - PGZ_DICT, PGZ_DICT);
		g->dictlen = PGZ_DICT;
	}
	g->inlen = 0;
	return 0;
}

struct pgz *pgz_new(int level, size_t nthreads, pgz_write_fn *write, void *cd, perr *e)
{
	struct pgz *g;

	if (level == 0)
		level = 6;
	if (level < 1 || level > 9) {
		perr_set(e, "gzip compression level %d is out of range (1-9)", level);
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->level = level;
	g->nthreads = nthreads < 1 ? 1 : nthreads > 64 ? 64 : nthreads;
	g->write = write;
	g->cd = cd;
	g->in = xmalloc(PGZ_BLOCK * PGZ_BATCH);
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->mu, NULL);
	return g;
}

int pgz_write(struct pgz *g, const void *buf, size_t n, perr *e)
{
	const unsigned char *p = buf;

	while (n) {
		size_t room;

		/* A full batch is compressed only once more input arrives, so the
		 * stream's last block is always in the batch pgz_finish sees. */
		if (g->inlen == PGZ_BLOCK * PGZ_BATCH && pgz_batch(g, false, e))
			return -1;
		room = PGZ_BLOCK * PGZ_BATCH - g->inlen;
		if (room > n)
			room = n;
		memcpy(g->in + g->inlen, p, room);
		g->inlen += room;
		p += room;
		n -= room;
	}
	return 0;
}

int pgz_finish(struct pgz *g, perr *e)
{
	unsigned char tr[8];

	if (pgz_batch(g, true, e))
		return -1;
	for (int i = 0; i < 4; i++) {
		tr[i] = (unsigned char)(g->crc >> (8 * i));
		tr[4 + i] = (unsigned char)(g->total >> (8 * i)); /* ISIZE: mod 2^32 */
	}
	return emit(g, tr, sizeof(tr), e);
}

void pgz_free(struct pgz *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < PGZ_BATCH; i++)
		free(g->blk[i].out);
	free(g->in);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
