/*
 * pgzip.c - parallel, deterministic multi-member gzip writer on libdeflate.
 *
 * The input is cut into fixed PGZ_BLOCK-byte (1 MiB) members.  Each member
 * is a complete gzip file of its own (RFC 1952 2.2: a gzip file is a series
 * of members, and gunzip, Go's compress/gzip, pigz, libarchive, Python's
 * gzip and every eStargz reader decompress the concatenation as the
 * concatenated data): a fixed 10-byte header, the chunk raw-deflated by
 * libdeflate at the configured level, the chunk's CRC-32 and size.  A
 * member's bytes depend only on its input chunk, the level and the
 * libdeflate version, never on which thread made it or how many there are,
 * so the output is the same for any thread count or scheduling.
 *
 * Why libdeflate and why independent members: zlib's deflate was 55 % of
 * all CPU in a full python3 build; libdeflate -6 is about 3x faster than
 * zlib -6 and compresses better, but it only does whole buffers (no
 * streaming, no preset dictionary), so the chunks cannot be primed with the
 * 32 KiB before them as the zlib version did.  Fresh members cost little:
 * on the python3 closure's 43.6 MB of layer tars (per layer, one CPU),
 *
 *   libdeflate level   256 KiB     1 MiB       4 MiB      whole layer
 *          6        15 422 253  15 341 560  15 326 617  15 324 280   0.43 s
 *          7        15 364 163  15 283 089  15 268 140  15 265 934   0.58 s
 *          9        15 308 180  15 226 313  15 210 903  15 208 344   1.28 s
 *   zlib -6, 256 KiB primed blocks (before):              15 522 885   ~1.1 s
 *
 * so 1 MiB members are within 0.12 % of one stream while a 20 MB layer
 * still splits into 20 pieces for the cores; larger members buy < 0.1 % and
 * cost parallelism and memory.  Level 6 stays the default: 7 saves 0.4 %
 * for 35 % more CPU, 9 saves 0.75 % for 3x.
 *
 * Members are collected in batches of PGZ_BATCH (memory stays bounded:
 * about 2 x PGZ_BATCH x PGZ_BLOCK per writer) and each batch is compressed
 * by up to `nthreads` threads, the caller included, each with its own
 * libdeflate compressor (allocated once per writer and slot), then written
 * in order.  The header is the one pare's zlib writer used (no name, mtime
 * 0, XFL from the level, OS 3 = Unix), written by hand rather than by
 * libdeflate_gzip_compress, which writes OS 255.
 */
#include "builder_int.h"

#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PGZ_HDR 10
#define PGZ_TRL 8
#define PGZ_MAXTH 64

enum { PGZ_OK, PGZ_ENOMEM, PGZ_EFAIL };

struct pgz_mem {
	size_t off, len;      /* input: batch buffer offset, length */
	unsigned char *out;   /* the whole member: header, deflate, trailer */
	size_t outlen, outcap;
	int err;              /* PGZ_* */
};

struct pgz {
	int level;
	size_t nthreads;
	pgz_write_fn *write;
	void *cd;
	unsigned char *in;    /* batch input, PGZ_BLOCK * PGZ_BATCH */
	size_t inlen;
	struct pgz_mem mem[PGZ_BATCH];
	size_t nmem;
	uint64_t nwritten;    /* members written so far */
	/* one compressor per thread slot, allocated on first use */
	struct libdeflate_compressor *comp[PGZ_MAXTH];
	/* shared between the batch's threads */
	pthread_mutex_t mu;
	size_t next;
};

struct pgz_slot {
	struct pgz *g;
	size_t slot;
};

size_t builder_nthreads(void)
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

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int compress_member(struct pgz *g, struct libdeflate_compressor *c, struct pgz_mem *m)
{
	const unsigned char *src = g->in + m->off;
	size_t need = PGZ_HDR + libdeflate_deflate_compress_bound(c, m->len) + PGZ_TRL;
	size_t n;

	if (m->outcap < need) {
		free(m->out);
		m->out = malloc(need);
		m->outcap = m->out ? need : 0;
		if (!m->out)
			return PGZ_ENOMEM;
	}
	/* magic, CM=deflate, FLG=0, MTIME=0, XFL, OS=3 (Unix) */
	memcpy(m->out, "\x1f\x8b\x08\0\0\0\0\0\0\x03", PGZ_HDR);
	m->out[8] = g->level == 9 ? 2 : g->level == 1 ? 4 : 0;
	n = libdeflate_deflate_compress(c, src, m->len, m->out + PGZ_HDR,
					m->outcap - PGZ_HDR - PGZ_TRL);
	if (n == 0)
		return PGZ_EFAIL; /* cannot happen with the bound, but never emit a truncated member */
	put_le32(m->out + PGZ_HDR + n, libdeflate_crc32(0, src, m->len));
	put_le32(m->out + PGZ_HDR + n + 4, (uint32_t)m->len); /* ISIZE: len <= PGZ_BLOCK */
	m->outlen = PGZ_HDR + n + PGZ_TRL;
	return PGZ_OK;
}

static void *pgz_worker(void *arg)
{
	struct pgz_slot *s = arg;
	struct pgz *g = s->g;

	for (;;) {
		struct pgz_mem *m;
		size_t i;

		pthread_mutex_lock(&g->mu);
		i = g->next++;
		pthread_mutex_unlock(&g->mu);
		if (i >= g->nmem)
			break;
		m = &g->mem[i];
		if (!g->comp[s->slot])
			g->comp[s->slot] = libdeflate_alloc_compressor(g->level);
		m->err = g->comp[s->slot] ? compress_member(g, g->comp[s->slot], m) : PGZ_ENOMEM;
	}
	return NULL;
}

/* Compress the batch (g->in[0..inlen], or one empty member when `empty`)
 * and write its members in order. */
static int pgz_batch(struct pgz *g, bool empty, perr *e)
{
	pthread_t th[PGZ_MAXTH];
	struct pgz_slot slot[PGZ_MAXTH];
	size_t nth = 0, want;

	g->nmem = 0;
	for (size_t off = 0; off < g->inlen || (empty && g->nmem == 0); off += PGZ_BLOCK) {
		struct pgz_mem *m = &g->mem[g->nmem++];

		m->off = off;
		m->len = g->inlen - off < PGZ_BLOCK ? g->inlen - off : PGZ_BLOCK;
		m->err = PGZ_OK;
	}
	g->next = 0;
	want = g->nthreads < g->nmem ? g->nthreads : g->nmem;
	for (size_t i = 0; i < want; i++)
		slot[i] = (struct pgz_slot){ g, i };
	for (size_t i = 1; i < want; i++) {
		if (pthread_create(&th[nth], NULL, pgz_worker, &slot[i]))
			break; /* fewer threads: same bytes */
		nth++;
	}
	pgz_worker(&slot[0]);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < g->nmem; i++) {
		struct pgz_mem *m = &g->mem[i];

		if (m->err == PGZ_ENOMEM)
			return perr_set(e, "gzip: out of memory for libdeflate (level %d, member %llu)",
					g->level, (unsigned long long)(g->nwritten + i));
		if (m->err)
			return perr_set(e, "gzip: libdeflate failed to compress member %llu",
					(unsigned long long)(g->nwritten + i));
	}
	/* all or nothing per batch: no member of a failed batch is written */
	for (size_t i = 0; i < g->nmem; i++) {
		if (g->write(g->cd, g->mem[i].out, g->mem[i].outlen, e))
			return -1;
		g->nwritten++;
	}
	g->inlen = 0;
	return 0;
}

/* libdeflate picks its CRC-32 implementation on the first call and stores it
 * in a global: made at start-up, before any two threads can race to it. */
__attribute__((constructor)) static void crc_init(void)
{
	static const unsigned char one[1];

	/* not NULL: libdeflate returns early for NULL, before it dispatches */
	(void)libdeflate_crc32(0, one, sizeof(one));
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
	g->nthreads = nthreads < 1 ? 1 : nthreads > PGZ_MAXTH ? PGZ_MAXTH : nthreads;
	g->write = write;
	g->cd = cd;
	g->in = xmalloc(PGZ_BLOCK * PGZ_BATCH);
	pthread_mutex_init(&g->mu, NULL);
	return g;
}

int pgz_write(struct pgz *g, const void *buf, size_t n, perr *e)
{
	const unsigned char *p = buf;

	while (n) {
		size_t room = PGZ_BLOCK * PGZ_BATCH - g->inlen;

		if (room > n)
			room = n;
		memcpy(g->in + g->inlen, p, room);
		g->inlen += room;
		p += room;
		n -= room;
		/* members are independent: a full batch can go right away */
		if (g->inlen == PGZ_BLOCK * PGZ_BATCH && pgz_batch(g, false, e))
			return -1;
	}
	return 0;
}

int pgz_finish(struct pgz *g, perr *e)
{
	/* The rest; empty input still makes one (empty) member, as a gzip file
	 * needs at least one.  An exact multiple of PGZ_BLOCK ends with a full
	 * member, not an empty one. */
	if (g->inlen || g->nwritten == 0)
		return pgz_batch(g, g->nwritten == 0, e);
	return 0;
}

void pgz_free(struct pgz *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < PGZ_BATCH; i++)
		free(g->mem[i].out);
	for (size_t i = 0; i < PGZ_MAXTH; i++)
		if (g->comp[i])
			libdeflate_free_compressor(g->comp[i]);
	free(g->in);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
