/*
 * index.c - the compact index the feeds are parsed into at sync, and its
 * reader.  One file per feed, $cache/cve/FEED.idx: a header line
 *
 *   #pare-cve-index 1<TAB>feed=tracker<TAB>published=EPOCH<TAB>…
 *
 * then one line per entry, tab-separated, sorted bytewise (tab sorts before
 * every printable byte, so all lines of one key are adjacent):
 *
 *   tracker: SOURCE CODENAME ID STATUS FIXED URGENCY NODSA NODSA_REASON FIRST_SEEN DESCRIPTION
 *   kev:     ID DATE_ADDED DUE_DATE RANSOMWARE(0|1)
 *   epss:    ID PROBABILITY PERCENTILE
 *
 * A query maps the file and binary-searches it: no parsing of what it does
 * not read, so a query's cost does not grow with the feed.  Only the
 * codenames recipes use are kept from the tracker (docs/cve.md).
 */
#define _GNU_SOURCE
#include "cve_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDX_MAGIC "#pare-cve-index 1\t"

char *cve_idx_path(enum cve_feed f)
{
	return xasprintf("%s/cve/%s.idx", pare_cache_dir(), cve_feed_name(f));
}

/* The value of "\tKEY=" in the header (up to the next tab), or NULL. */
static char *header_field(const char *h, size_t n, const char *key)
{
	char *pat = xasprintf("\t%s=", key), *r = NULL;
	const char *p = memmem(h, n, pat, strlen(pat));

	if (p) {
		const char *v = p + strlen(pat), *end = h + n;
		size_t len = 0;

		while (v + len < end && v[len] != '\t')
			len++;
		r = xstrndup(v, len);
	}
	free(pat);
	return r;
}

static int64_t header_num(const char *h, size_t n, const char *key)
{
	char *v = header_field(h, n, key);
	int64_t r = v ? strtoll(v, NULL, 10) : 0;

	free(v);
	return r;
}

int cve_idx_open(enum cve_feed f, struct cve_idx *x, perr *e)
{
	struct stat st;
	const char *nl;
	size_t hlen;
	char *feed = NULL;
	void *m;
	int fd;

	memset(x, 0, sizeof(*x));
	x->path = cve_idx_path(f);
	fd = open(x->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return perr_errno(e, "cannot open %s", x->path);
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return perr_set(e, "%s: empty or unreadable index: run 'pare cve sync'", x->path);
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return perr_errno(e, "cannot map %s", x->path);
	x->map = m;
	x->size = (size_t)st.st_size;
	x->mtime = (int64_t)st.st_mtim.tv_sec;
	nl = memchr(x->map, '\n', x->size);
	if (!nl || !str_starts(x->map, IDX_MAGIC) || x->map[x->size - 1] != '\n' ||
	    !(feed = header_field(x->map, (size_t)(nl - x->map), "feed")) ||
	    strcmp(feed, cve_feed_name(f))) {
		free(feed);
		return perr_set(e, "%s: not a pare CVE index: run 'pare cve sync'", x->path);
	}
	free(feed);
	hlen = (size_t)(nl - x->map);
	x->data = nl + 1;
	x->published = header_num(x->map, hlen, "published");
	x->last_modified = header_num(x->map, hlen, "last_modified");
	x->etag = header_field(x->map, hlen, "etag");
	x->version = header_field(x->map, hlen, "version");
	x->codenames = header_field(x->map, hlen, "codenames");
	return 0;
}

void cve_idx_close(struct cve_idx *x)
{
	if (x->map)
		munmap((void *)x->map, x->size);
	free(x->path);
	free(x->etag);
	free(x->version);
	free(x->codenames);
	memset(x, 0, sizeof(*x));
}

/* <0, 0 (the line's first fields are key), >0. */
static int line_cmp(const char *line, const char *end, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < klen; i++) {
		unsigned char a = line + i < end && line[i] != '\n' ? (unsigned char)line[i] : 0;

		if (a != (unsigned char)key[i])
			return a < (unsigned char)key[i] ? -1 : 1;
	}
	return line + i >= end || line[i] == '\t' || line[i] == '\n' ? 0 : 1;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

void cve_idx_range(const struct cve_idx *x, const char *key, const char **first,
		   const char **last)
{
	const char *end, *lo, *hi;
	size_t klen = strlen(key);

	*first = *last = NULL;
	if (!x->map)
		return;
	end = x->map + x->size;
	lo = x->data;
	hi = end;
	/* lines starting before lo are < key, lines starting at hi or later >= key */
	while (lo < hi) {
		const char *mid = lo + (size_t)(hi - lo) / 2, *ls = mid;

		const char *nl = memrchr(lo, '\n', (size_t)(ls - lo));

		ls = nl ? nl + 1 : lo;
		if (line_cmp(ls, end, key, klen) < 0)
			lo = line_end(ls, end);
		else
			hi = ls;
	}
	*first = *last = lo;
	while (*last < end && !line_cmp(*last, end, key, klen))
		*last = line_end(*last, end);
}

size_t cve_idx_fields(const char *p, strbuf *buf, char **f, size_t max)
{
	const char *nl = strchr(p, '\n');
	size_t n = 0;
	char *s;

	sb_reset(buf);
	sb_add(buf, p, nl ? (size_t)(nl - p) : strlen(p));
	s = buf->buf;
	while (n < max) {
		f[n++] = s;
		if (!(s = strchr(s, '\t')))
			break;
		*s++ = '\0';
	}
	for (size_t i = n; i < max; i++)
		f[i] = (char *)"";
	return n;
}

/* ---- the writer ------------------------------------------------------------ */

/* The lines live in 4 MiB blocks that never move (no realloc copying a
 * tracker's worth of lines, no peak of twice its size). */
#define BLOCK_SIZE ((size_t)4 << 20)

struct cve_idx_writer {
	enum cve_feed feed;
	const struct cve_idx *old;
	int64_t published;
	char published_s[32];
	char **blocks;
	size_t nblocks, ablocks, used, cap;
	const char **lines; /* NUL-terminated, in the blocks */
	size_t n, alloc;
	strbuf scratch;
};

struct cve_idx_writer *cve_idx_writer_new(enum cve_feed f, const struct cve_idx *old,
					  int64_t first_seen)
{
	struct cve_idx_writer *w = xcalloc(1, sizeof(*w));

	w->feed = f;
	w->old = old && old->map ? old : NULL;
	cve_format_date(first_seen, w->published_s);
	return w;
}

void cve_idx_writer_free(struct cve_idx_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nblocks; i++)
		free(w->blocks[i]);
	free(w->blocks);
	free(w->lines);
	sb_release(&w->scratch);
	free(w);
}

static void add_line(struct cve_idx_writer *w, const char *const *f, size_t n)
{
	size_t len[16], total = n; /* n - 1 tabs and the NUL */
	char *line, *c;

	for (size_t i = 0; i < n; i++)
		total += len[i] = strlen(f[i]);
	if (w->used + total > w->cap) {
		w->cap = total > BLOCK_SIZE ? total : BLOCK_SIZE;
		ALLOC_GROW(w->blocks, w->nblocks + 1, w->ablocks);
		w->blocks[w->nblocks++] = xmalloc(w->cap);
		w->used = 0;
	}
	line = c = w->blocks[w->nblocks - 1] + w->used;
	w->used += total;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*c++ = '\t';
		memcpy(c, f[i], len[i]);
		/* the parsers hand over no tab or newline; a stray one from a
		 * caller is a space, never a broken line */
		for (char *t = c; (t = memchr(t, '\t', len[i] - (size_t)(t - c))); )
			*t = ' ';
		for (char *t = c; (t = memchr(t, '\n', len[i] - (size_t)(t - c))); )
			*t = ' ';
		c += len[i];
	}
	*c = '\0';
	ALLOC_GROW(w->lines, w->n + 1, w->alloc);
	w->lines[w->n++] = line;
}

static int w_track(const struct cve_track *t, void *arg, perr *e)
{
	struct cve_idx_writer *w = arg;

	(void)e;
	if (!*t->source || !*t->id || !*t->codename)
		return 0;
	/* FIRST_SEEN is this feed's date until carry_first_seen finds an older one */
	add_line(w, (const char *const[]){ t->source, t->codename, t->id, t->status,
					   t->fixed_version, t->urgency, t->nodsa,
					   t->nodsa_reason, w->published_s, t->description },
		 10);
	return 0;
}

static int w_kev(const struct cve_kev_entry *k, void *arg, perr *e)
{
	(void)e;
	add_line(arg, (const char *const[]){ k->id, k->added, k->due, k->ransomware ? "1" : "0" },
		 4);
	return 0;
}

static int w_epss(const struct cve_epss_entry *x, void *arg, perr *e)
{
	(void)e;
	add_line(arg, (const char *const[]){ x->id, x->epss, x->percentile }, 3);
	return 0;
}

struct cve_sink cve_idx_writer_sink(struct cve_idx_writer *w)
{
	return (struct cve_sink){ w_track, w_kev, w_epss, w };
}

static int line_qcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The key of a line: its first 3 fields (tracker) or 1. */
static size_t key_len(const char *s, int nkey)
{
	const char *p = s;

	for (int i = 0; i < nkey; i++) {
		p = strchr(p, '\t');
		if (!p)
			return strlen(s);
		if (i + 1 < nkey)
			p++;
	}
	return (size_t)(p - s);
}

/* Compare the keys (SOURCE CODENAME ID) of two tracker lines; b ends at '\n'. */
static int key_cmp(const char *a, const char *b)
{
	for (int tabs = 0;; a++, b++) {
		unsigned char x = *a == '\n' ? 0 : (unsigned char)*a;
		unsigned char y = *b == '\n' ? 0 : (unsigned char)*b;

		if (x != y || !x)
			return (int)x - (int)y;
		if (x == '\t' && ++tabs == 3)
			return 0;
	}
}

/* The date an entry first appeared survives every later sync (--since):
 * both lists are sorted, so one merge pass over the old index copies its
 * FIRST_SEEN into the new lines (dates are all 20 bytes, RFC 3339 UTC).
 * The old pages are dropped behind the cursor, so a re-sync's memory does
 * not grow by the old index's size. */
static void carry_first_seen(struct cve_idx_writer *w)
{
	const char *o = w->old->data, *end = w->old->map + w->old->size, *dropped = w->old->map;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < w->n && o < end; i++) {
		int c = 1;

		while (o < end && (c = key_cmp(o, w->lines[i])) < 0)
			o = line_end(o, end);
		if (o < end && !c) {
			char *f[9];
			size_t n = cve_idx_fields(o, &w->scratch, f, ARRAY_SIZE(f));
			char *nf = (char *)w->lines[i];

			for (int k = 0; k < 8 && nf; k++)
				if ((nf = strchr(nf, '\t')))
					nf++;
			if (n == 9 && nf && strlen(f[8]) == 20 && nf[20] == '\t' &&
			    strcmp(f[8], w->published_s) < 0)
				memcpy(nf, f[8], 20);
		}
		if ((size_t)(o - dropped) >= ((size_t)1 << 20)) {
			size_t len = (size_t)(o - dropped) / page * page;

			madvise((void *)dropped, len, MADV_DONTNEED);
			dropped += len;
		}
	}
}

static void hdr_value(FILE *fp, const char *key, const char *v)
{
	fprintf(fp, "\t%s=", key);
	for (const char *c = v ? v : ""; *c; c++)
		fputc((unsigned char)*c < 0x20 ? ' ' : *c, fp);
}

struct fill_arg {
	struct cve_idx_writer *w;
	const char *etag, *version, *codenames;
	int64_t last_modified;
};

static int fill(FILE *fp, void *arg, perr *e)
{
	struct fill_arg *a = arg;
	struct cve_idx_writer *w = a->w;
	int nkey = w->feed == CVE_FEED_TRACKER ? 3 : 1;
	const char *prev = NULL;
	size_t prevlen = 0;

	fprintf(fp, "%sfeed=%s\tpublished=%" PRId64 "\tlast_modified=%" PRId64, IDX_MAGIC,
		cve_feed_name(w->feed), w->published, a->last_modified);
	hdr_value(fp, "etag", a->etag);
	hdr_value(fp, "version", a->version);
	hdr_value(fp, "codenames", a->codenames);
	fputc('\n', fp);
	for (size_t i = 0; i < w->n; i++) {
		const char *s = w->lines[i];
		size_t kl = key_len(s, nkey);

		/* a key the feed lists twice: the first one (by sort order) */
		if (prev && kl == prevlen && !memcmp(prev, s, kl))
			continue;
		prev = s, prevlen = kl;
		fputs(s, fp);
		fputc('\n', fp);
	}
	if (ferror(fp))
		return perr_errno(e, "cannot write the %s index", cve_feed_name(w->feed));
	return 0;
}

int cve_idx_writer_commit(struct cve_idx_writer *w, int64_t published, const char *etag,
			  int64_t last_modified, const char *version, const char *codenames,
			  perr *e)
{
	struct fill_arg a = { w, etag, version, codenames, last_modified };
	char *path = cve_idx_path(w->feed), *dir = path_dirname(path);
	int ret = -1;

	w->published = published;
	for (size_t i = 1; i < w->n; i++)
		if (strcmp(w->lines[i - 1], w->lines[i]) > 0) {
			/* feeds often come sorted (EPSS by id): sort only when not */
			qsort(w->lines, w->n, sizeof(*w->lines), line_qcmp);
			break;
		}
	if (w->feed == CVE_FEED_TRACKER && w->old)
		carry_first_seen(w);
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	ret = write_file_atomic_fn(path, 0644, fill, &a, e);
out:
	free(dir);
	free(path);
	return ret;
}

bool cve_synced(void)
{
	char *p = cve_idx_path(CVE_FEED_TRACKER);
	bool ok = access(p, R_OK) == 0;

	free(p);
	return ok;
}
