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

		while (ls > lo && ls[-1] != '\n')
			ls--;
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

struct cve_idx_writer {
	enum cve_feed feed;
	const struct cve_idx *old;
	int64_t published;
	char published_s[32];
	strbuf arena;      /* the lines, each NUL-terminated */
	size_t *off;
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
	sb_release(&w->arena);
	sb_release(&w->scratch);
	free(w->off);
	free(w);
}

static void add_line(struct cve_idx_writer *w, const char *const *f, size_t n)
{
	ALLOC_GROW(w->off, w->n + 1, w->alloc);
	w->off[w->n++] = w->arena.len;
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&w->arena, '\t');
		/* the parsers hand over no tab or newline; a stray one from a
		 * caller is a space, never a broken line */
		for (const char *c = f[i]; *c; c++)
			sb_addc(&w->arena, *c == '\t' || *c == '\n' ? ' ' : *c);
	}
	sb_addc(&w->arena, '\0');
}

static int w_track(const struct cve_track *t, void *arg, perr *e)
{
	struct cve_idx_writer *w = arg;
	const char *first_seen = w->published_s;
	const char *a, *b;
	char *key;

	(void)e;
	if (!*t->source || !*t->id || !*t->codename)
		return 0;
	if (w->old) {
		/* the date an entry first appeared survives every later sync (--since) */
		key = xasprintf("%s\t%s\t%s", t->source, t->codename, t->id);
		cve_idx_range(w->old, key, &a, &b);
		free(key);
		if (a < b) {
			char *f[9];

			cve_idx_fields(a, &w->scratch, f, ARRAY_SIZE(f));
			if (*f[8])
				first_seen = f[8];
		}
	}
	add_line(w, (const char *const[]){ t->source, t->codename, t->id, t->status,
					   t->fixed_version, t->urgency, t->nodsa,
					   t->nodsa_reason, first_seen, t->description },
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

static int off_cmp(const void *a, const void *b, void *arg)
{
	const char *base = arg;

	return strcmp(base + *(const size_t *)a, base + *(const size_t *)b);
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
		const char *s = w->arena.buf + w->off[i];
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
	if (w->n)
		qsort_r(w->off, w->n, sizeof(*w->off), off_cmp, w->arena.buf);
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	ret = write_file_atomic_fn(path, 0644, fill, &a, e);
out:
	free(dir);
	free(path);
	return ret;
}
