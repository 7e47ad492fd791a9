/*
 * packages.c - a Debian Packages index into a libsolv repo.
 *
 * libsolv's repo_add_debpackages() never reports a problem: a stanza
 * without Package: is silently dropped, NUL bytes become newlines, and a
 * garbled line is skipped.  An index is a signed statement of what exists,
 * so pare checks every stanza first (deb822 syntax, the fields the builder
 * relies on, safe Filename paths) and only then hands the same bytes to
 * libsolv, checking that it made exactly one solvable per stanza.
 *
 * libsolv's deb parser also ignores Size, Maintainer and the version in
 * "Source: name (version)", and keeps the longest checksum rather than the
 * SHA256: those are added to the repodata here, under keys that survive
 * repo_write()/repo_add_solv() (SOLVABLE_DOWNLOADSIZE, SOLVABLE_PACKAGER,
 * SOLVABLE_SOURCEEVR, SOLVABLE_CHECKSUM).
 */
#define _GNU_SOURCE
#include "resolver_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <solv/knownid.h>
#include <solv/repo_deb.h>
#include <solv/repodata.h>

/* What the scan keeps of a stanza until libsolv has read the whole index
 * (Debian's main has 64k): 64 bytes, the strings in one arena. */
struct stanza {
	size_t line;
	uint64_t size;
	unsigned char sha256[32];
	uint32_t name, maintainer, source_version; /* in scan.strings; NOSTR: none */
};
#define NOSTR UINT32_MAX

/* The fields the scan keeps (common/deb822.c checks the syntax of all of
 * them), in the order of struct fields. */
static const char *const kept_fields[] = {
	"Package", "Version", "Architecture", "Filename", "Size", "SHA256", "Maintainer",
	"Source", "Installed-Size", NULL,
};

struct fields {
	char *package, *version, *arch, *filename, *size, *sha256, *maintainer, *source;
	char *installed_size;
};

/* The scanner reads an index a block at a time (blocks as the decompressor
 * makes them); the deb822 reader keeps the line state between blocks. */
struct scan {
	const char *name;
	struct stanza *v;
	size_t n, alloc;
	strbuf strings;      /* the stanzas' strings, each NUL-terminated */
	struct deb822 d;
};

static void scan_release(struct scan *sc)
{
	free(sc->v);
	sb_release(&sc->strings);
	deb822_release(&sc->d);
}

/* Debian policy 5.6.1 / 5.6.12: the characters names and versions use. */
static bool valid_name(const char *s)
{
	if (strlen(s) < 2 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    !strchr("+-.", *s))
			return false;
	return true;
}

static bool valid_version(const char *s)
{
	if (!*s || !isdigit((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".+~:-", *s))
			return false;
	return true;
}

/* The builder joins Filename to the repository URL and to its cache: no
 * absolute paths, no "..", nothing that could step outside the pool.
 * lock_read applies the same rule to recipes.lock's "filename". */
bool packages_filename_ok(const char *s)
{
	const char *seg = s;

	if (!*s || *s == '/' || strchr(s, '\\'))
		return false;
	for (const char *p = s;; p++) {
		if (*p == '/' || !*p) {
			size_t l = (size_t)(p - seg);
			if (l == 0 || (l == 1 && seg[0] == '.') ||
			    (l == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (!*p)
				break;
			seg = p + 1;
		} else if ((unsigned char)*p <= ' ') {
			return false;
		}
	}
	return true;
}


static uint32_t scan_str(struct scan *sc, const char *str)
{
	size_t off = sc->strings.len, n = strlen(str);

	/* an index is at most 1 GiB (INDEX_MAX), its strings fewer bytes */
	if (off + n + 1 >= NOSTR)
		die("Packages index strings over 4 GiB");
	sb_add(&sc->strings, str, n + 1);
	return (uint32_t)off;
}

static const char *stanza_str(const struct scan *sc, uint32_t off)
{
	return off == NOSTR ? NULL : sc->strings.buf + off;
}

/* A decimal count recipes.lock can hold (LOCK_NUM_MAX): digits only, as
 * strtoull takes "-5" for 2^64-5 and libsolv reads Installed-Size so. */
static bool valid_count(const char *s, unsigned long long *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out <= LOCK_NUM_MAX;
}

static int unhex(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static int stanza_end(struct scan *sc, struct fields *f, size_t line, perr *e)
{
	struct stanza *st;
	char *paren, *srcver = NULL;
	unsigned long long size, isize;
	int ret = -1;

	if (!f->package) {
		perr_set(e, "%s:%zu: stanza without a Package field", sc->name, line);
		goto out;
	}
	if (!valid_name(f->package)) {
		perr_set(e, "%s:%zu: invalid package name '%s'", sc->name, line, f->package);
		goto out;
	}
#define NEED(field, what)                                                          \
	if (!f->field) {                                                           \
		perr_set(e, "%s:%zu: package %s has no %s field", sc->name, line,  \
			 f->package, what);                                        \
		goto out;                                                          \
	}
	NEED(version, "Version");
	NEED(arch, "Architecture");
	NEED(filename, "Filename");
	NEED(size, "Size");
	NEED(sha256, "SHA256");
#undef NEED
	if (!valid_version(f->version)) {
		perr_set(e, "%s:%zu: package %s: invalid version '%s'", sc->name, line,
			 f->package, f->version);
		goto out;
	}
	if (!valid_name(f->arch) || strchr(f->arch, ' ')) {
		perr_set(e, "%s:%zu: package %s: invalid architecture '%s'", sc->name, line,
			 f->package, f->arch);
		goto out;
	}
	if (!packages_filename_ok(f->filename)) {
		perr_set(e, "%s:%zu: package %s: unsafe Filename '%s'", sc->name, line,
			 f->package, f->filename);
		goto out;
	}
	if (!valid_count(f->size, &size)) {
		perr_set(e, "%s:%zu: package %s: invalid Size '%s'", sc->name, line,
			 f->package, f->size);
		goto out;
	}
	/* optional; KiB, which libsolv keeps in bytes (<< 10: fits) */
	if (f->installed_size && !valid_count(f->installed_size, &isize)) {
		perr_set(e, "%s:%zu: package %s: invalid Installed-Size '%s'", sc->name, line,
			 f->package, f->installed_size);
		goto out;
	}
	for (char *p = f->sha256; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!is_sha256_hex(f->sha256)) {
		perr_set(e, "%s:%zu: package %s: invalid SHA256 '%s'", sc->name, line,
			 f->package, f->sha256);
		goto out;
	}
	/* "Source: glibc (2.36-9+deb12u4)": the source version differs from a
	 * binNMU'd binary's */
	if (f->source && (paren = strchr(f->source, '('))) {
		char *close = strchr(paren, ')');
		if (!close || close[1] || paren == f->source || paren[-1] != ' ') {
			perr_set(e, "%s:%zu: package %s: malformed Source '%s'", sc->name,
				 line, f->package, f->source);
			goto out;
		}
		srcver = xstrndup(paren + 1, (size_t)(close - paren - 1));
		char *v = str_trim(srcver);
		memmove(srcver, v, strlen(v) + 1);
		if (!valid_version(srcver)) {
			perr_set(e, "%s:%zu: package %s: invalid source version in '%s'",
				 sc->name, line, f->package, f->source);
			goto out;
		}
	}
	ALLOC_GROW(sc->v, sc->n + 1, sc->alloc);
	st = &sc->v[sc->n++];
	st->line = line;
	st->size = size;
	for (size_t i = 0; i < sizeof(st->sha256); i++)
		st->sha256[i] = (unsigned char)(unhex(f->sha256[2 * i]) << 4 |
						unhex(f->sha256[2 * i + 1]));
	st->name = scan_str(sc, f->package);
	st->maintainer = f->maintainer ? scan_str(sc, f->maintainer) : NOSTR;
	st->source_version = srcver ? scan_str(sc, srcver) : NOSTR;
	ret = 0;
out:
	free(srcver);
	return ret;
}

/* One stanza, its syntax checked (DEB822_STRICT): the fields libsolv drops. */
static int scan_stanza(void *arg, struct deb822_stanza *s, perr *e)
{
	struct scan *sc = arg;
	static const size_t off[] = {
		offsetof(struct fields, package), offsetof(struct fields, version),
		offsetof(struct fields, arch), offsetof(struct fields, filename),
		offsetof(struct fields, size), offsetof(struct fields, sha256),
		offsetof(struct fields, maintainer), offsetof(struct fields, source),
		offsetof(struct fields, installed_size),
	};
	struct fields f = { 0 };

	for (size_t i = 0; i < s->n; i++)
		*(char **)((char *)&f + off[s->f[i].key]) = s->f[i].value.buf;
	return stanza_end(sc, &f, s->line, e);
}

static void scan_init(struct scan *sc, const char *name)
{
	memset(sc, 0, sizeof(*sc));
	sc->name = name;
	sc->d = (struct deb822){ .name = name, .flags = DEB822_STRICT | DEB822_NO_DUPS,
				 .keep = kept_fields, .stanza = scan_stanza, .arg = sc };
}

static int scan_block(struct scan *sc, const char *buf, size_t n, perr *e)
{
	return deb822_feed(&sc->d, buf, n, e);
}

/* End of the index: a last line without a newline, the last stanza. */
static int scan_finish(struct scan *sc, perr *e)
{
	return deb822_finish(&sc->d, e);
}

/*
 * libsolv reads the index through a FILE* whose read callback pulls the
 * next decompressed block, scans it, and only then hands it over: the
 * index never exists in memory as a whole, and a scan error stops the
 * feed (libsolv sees end of file; its partial repo is not used).
 */
struct feed {
	struct scan *sc;
	struct index_source *src;
	const char *p;     /* what is left of the current block */
	size_t left;
	size_t newlines;   /* blank lines held back before the first stanza */
	bool eof, failed, scan_failed;
	perr *e;
};

/* 1 = a scanned block in p/left, 0 = end of the index, -1 = error in e. */
static int feed_pull(struct feed *fd)
{
	while (!fd->left && !fd->eof) {
		const void *d = NULL;
		ssize_t n = fd->src->next(fd->src->ctx, &d, fd->e);
		if (n < 0) {
			fd->failed = true;
			return -1;
		}
		if (n > 0 && scan_block(fd->sc, d, (size_t)n, fd->e) < 0) {
			fd->failed = fd->scan_failed = true;
			return -1;
		}
		if (n == 0)
			fd->eof = true;
		fd->p = d;
		fd->left = (size_t)n;
	}
	return fd->left ? 1 : 0;
}

static ssize_t feed_read(void *cookie, char *buf, size_t size)
{
	struct feed *fd = cookie;
	size_t k;

	if (fd->newlines) {
		k = fd->newlines < size ? fd->newlines : size;
		memset(buf, '\n', k);
		fd->newlines -= k;
		return (ssize_t)k;
	}
	if (fd->failed)
		goto fail;
	switch (feed_pull(fd)) {
	case -1:
		goto fail;
	case 0:
		return 0;
	}
	k = fd->left < size ? fd->left : size;
	memcpy(buf, fd->p, k);
	fd->p += k;
	fd->left -= k;
	return (ssize_t)k;
fail:
	errno = EIO;
	return -1;
}

/* A whole index in memory as a source of blocks (packages_check, tests). */
struct mem_source {
	const char *buf;
	size_t n, block;
};

static ssize_t mem_next(void *ctx, const void **data, perr *e)
{
	struct mem_source *m = ctx;
	size_t k = m->n < m->block ? m->n : m->block;

	(void)e;
	*data = m->buf;
	m->buf += k;
	m->n -= k;
	return (ssize_t)k;
}

int packages_add_stream(Repo *repo, const char *name, struct index_source *src, perr *e)
{
	Pool *pool = repo->pool;
	struct scan sc;
	struct feed fd = { .sc = &sc, .src = src, .e = e };
	Repodata *data;
	FILE *fp = NULL;
	Id start = repo->end;
	int ret = -1;

	scan_init(&sc, name);
	/* an index of blank lines only (or nothing) never reaches libsolv, so
	 * it adds nothing to the repo, not even an empty repodata */
	for (;;) {
		int r = feed_pull(&fd);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		size_t k = 0;
		while (k < fd.left && fd.p[k] == '\n')
			k++;
		if (k < fd.left)
			break;
		fd.newlines += fd.left;
		fd.left = 0;
	}
	if (fd.eof) {
		if (scan_finish(&sc, e) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	fp = fopencookie(&fd, "r", (cookie_io_functions_t){ .read = feed_read });
	if (!fp) {
		perr_errno(e, "%s: fopencookie", name);
		goto out;
	}
	if (repo_add_debpackages(repo, fp, REPO_NO_INTERNALIZE) != 0 && !fd.failed) {
		perr_set(e, "%s: %s", name, pool_errstr(pool));
		goto out;
	}
	/* libsolv stops at the first read error (a scan error, a bad block);
	 * should it stop early otherwise, the rest is still scanned */
	while (!fd.failed && feed_pull(&fd) > 0)
		fd.left = 0;
	if (fd.failed || scan_finish(&sc, e) < 0)
		goto out;
	data = repo_last_repodata(repo);
	if ((size_t)(repo->end - start) != sc.n) {
		perr_set(e, "%s: libsolv read %d packages where %zu stanzas were checked",
			 name, repo->end - start, sc.n);
		goto out;
	}
	for (size_t k = 0; k < sc.n; k++) {
		const struct stanza *st = &sc.v[k];
		const char *pkg = stanza_str(&sc, st->name),
			   *maint = stanza_str(&sc, st->maintainer),
			   *srcver = stanza_str(&sc, st->source_version);
		Id p = start + (Id)k;
		Solvable *s = pool_id2solvable(pool, p);
		if (!s->name || strcmp(pool_id2str(pool, s->name), pkg)) {
			perr_set(e, "%s:%zu: libsolv disagrees on package %s", name, st->line, pkg);
			goto out;
		}
		/* a closure ignores Recommends/Suggests; Enhances would make
		 * libsolv consider (and build rules for) every package enhancing
		 * anything in it.  Dropping them also keeps the .solv small. */
		s->recommends = s->suggests = s->enhances = 0;
		repodata_set_num(data, p, SOLVABLE_DOWNLOADSIZE, st->size);
		repodata_set_bin_checksum(data, p, SOLVABLE_CHECKSUM, REPOKEY_TYPE_SHA256,
					  st->sha256);
		if (maint)
			repodata_set_str(data, p, SOLVABLE_PACKAGER, maint);
		if (srcver)
			repodata_set_id(data, p, SOLVABLE_SOURCEEVR, pool_str2id(pool, srcver, 1));
	}
	/* the scan's records are done with: free them before libsolv's
	 * internalize, the peak of a cold load */
	scan_release(&sc);
	memset(&sc, 0, sizeof(sc));
	repodata_internalize(data);
	ret = 0;
out:
	if (fp)
		fclose(fp);
	if (ret < 0 && fd.scan_failed && !fd.eof) {
		/* decompressed bytes that do not scan may be a damaged stream:
		 * xz checks a block only at its end, after handing it out.  A
		 * decompression error explains more than the garbage does. */
		perr e2 = { 0, "" };
		const void *d;
		ssize_t k;
		while ((k = src->next(src->ctx, &d, &e2)) > 0)
			;
		if (k < 0)
			*e = e2;
	}
	/* nothing half-added: the packages libsolv read before the error go */
	if (ret < 0 && repo->end > start)
		repo_free_solvable_block(repo, start, repo->end - start, 1);
	scan_release(&sc);
	return ret;
}

int packages_add_blocks(Repo *repo, const char *name, const char *buf, size_t n,
			size_t block, perr *e)
{
	struct mem_source m = { buf, n, block ? block : (n ? n : 1) };
	struct index_source src = { mem_next, &m };

	return packages_add_stream(repo, name, &src, e);
}

int packages_add(Repo *repo, const char *name, const char *buf, size_t n, perr *e)
{
	return packages_add_blocks(repo, name, buf, n, 0, e);
}

int packages_check(const char *name, const char *buf, size_t n, size_t *npkgs,
		   perr *e)
{
	Pool *pool = pool_create();
	Repo *repo;
	int ret;

	pool_setdisttype(pool, DISTTYPE_DEB);
	repo = repo_create(pool, name);
	ret = packages_add(repo, name, buf, n, e);
	if (npkgs)
		*npkgs = (size_t)repo->nsolvables;
	pool_free(pool);
	return ret;
}
