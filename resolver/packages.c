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

struct stanza {
	size_t line;
	char *name, *maintainer, *source_version;
	uint64_t size;
	char sha256[SHA256_HEX_LEN + 1];
};

struct scan {
	const char *name;
	struct stanza *v;
	size_t n, alloc;
};

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->v[i].name);
		free(sc->v[i].maintainer);
		free(sc->v[i].source_version);
	}
	free(sc->v);
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
 * absolute paths, no "..", nothing that could step outside the pool. */
static bool valid_filename(const char *s)
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

struct fields {
	char *package, *version, *arch, *filename, *size, *sha256, *maintainer, *source;
};

static void fields_free(struct fields *f)
{
	free(f->package), free(f->version), free(f->arch), free(f->filename);
	free(f->size), free(f->sha256), free(f->maintainer), free(f->source);
	memset(f, 0, sizeof(*f));
}

static char **field_slot(struct fields *f, const char *tag, size_t len)
{
	static const struct { const char *tag; size_t off; } map[] = {
		{ "Package", offsetof(struct fields, package) },
		{ "Version", offsetof(struct fields, version) },
		{ "Architecture", offsetof(struct fields, arch) },
		{ "Filename", offsetof(struct fields, filename) },
		{ "Size", offsetof(struct fields, size) },
		{ "SHA256", offsetof(struct fields, sha256) },
		{ "Maintainer", offsetof(struct fields, maintainer) },
		{ "Source", offsetof(struct fields, source) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strlen(map[i].tag) == len && !strncasecmp(map[i].tag, tag, len))
			return (char **)((char *)f + map[i].off);
	return NULL;
}

static int stanza_end(struct scan *sc, struct fields *f, size_t line, perr *e)
{
	struct stanza *st;
	char *end, *paren;
	unsigned long long size;
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
	if (!valid_filename(f->filename)) {
		perr_set(e, "%s:%zu: package %s: unsafe Filename '%s'", sc->name, line,
			 f->package, f->filename);
		goto out;
	}
	errno = 0;
	size = strtoull(f->size, &end, 10);
	if (!isdigit((unsigned char)f->size[0]) || *end || errno) {
		perr_set(e, "%s:%zu: package %s: invalid Size '%s'", sc->name, line,
			 f->package, f->size);
		goto out;
	}
	for (char *p = f->sha256; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!is_sha256_hex(f->sha256)) {
		perr_set(e, "%s:%zu: package %s: invalid SHA256 '%s'", sc->name, line,
			 f->package, f->sha256);
		goto out;
	}
	ALLOC_GROW(sc->v, sc->n + 1, sc->alloc);
	st = &sc->v[sc->n++];
	memset(st, 0, sizeof(*st));
	st->line = line;
	st->name = xstrdup(f->package);
	st->size = size;
	memcpy(st->sha256, f->sha256, sizeof(st->sha256));
	st->maintainer = f->maintainer ? xstrdup(f->maintainer) : NULL;
	/* "Source: glibc (2.36-9+deb12u4)": the source version differs from a
	 * binNMU'd binary's */
	if (f->source && (paren = strchr(f->source, '('))) {
		char *close = strchr(paren, ')');
		if (!close || close[1] || paren == f->source || paren[-1] != ' ') {
			perr_set(e, "%s:%zu: package %s: malformed Source '%s'", sc->name,
				 line, f->package, f->source);
			goto out;
		}
		st->source_version = xstrndup(paren + 1, (size_t)(close - paren - 1));
		char *v = str_trim(st->source_version);
		memmove(st->source_version, v, strlen(v) + 1);
		if (!valid_version(st->source_version)) {
			perr_set(e, "%s:%zu: package %s: invalid source version in '%s'",
				 sc->name, line, f->package, f->source);
			goto out;
		}
	}
	ret = 0;
out:
	fields_free(f);
	return ret;
}

/* deb822 syntax check and extraction of the fields libsolv drops. */
static int scan_packages(struct scan *sc, const char *buf, size_t n, perr *e)
{
	struct fields f = { 0 };
	char **cur = NULL; /* continuation of a field we keep: refused */
	size_t line = 0, start_line = 0, i = 0;
	bool in_stanza = false;
	int ret = -1;

	while (i < n) {
		const char *l = buf + i, *nl = memchr(l, '\n', n - i);
		size_t len = nl ? (size_t)(nl - l) : n - i;
		line++;
		i += len + (nl ? 1 : 0);
		for (size_t k = 0; k < len; k++) {
			unsigned char c = (unsigned char)l[k];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				perr_set(e, "%s:%zu: control character 0x%02x", sc->name, line, c);
				goto out;
			}
		}
		if (len == 0) {
			if (in_stanza && stanza_end(sc, &f, start_line, e) < 0)
				goto out;
			in_stanza = false;
			cur = NULL;
			continue;
		}
		if (l[0] == ' ' || l[0] == '\t') {
			size_t k = 0;
			while (k < len && (l[k] == ' ' || l[k] == '\t'))
				k++;
			if (k == len) {
				perr_set(e, "%s:%zu: line of only white space", sc->name, line);
				goto out;
			}
			if (!in_stanza) {
				perr_set(e, "%s:%zu: continuation line outside a stanza", sc->name, line);
				goto out;
			}
			if (cur) {
				perr_set(e, "%s:%zu: unexpected continuation of a one-line field",
					 sc->name, line);
				goto out;
			}
			continue;
		}
		const char *colon = memchr(l, ':', len);
		if (!colon || colon == l) {
			perr_set(e, "%s:%zu: malformed line (expected 'Field: value')", sc->name, line);
			goto out;
		}
		for (const char *p = l; p < colon; p++)
			if ((unsigned char)*p <= ' ' || *p == '#') {
				perr_set(e, "%s:%zu: malformed field name", sc->name, line);
				goto out;
			}
		if (!in_stanza) {
			in_stanza = true;
			start_line = line;
		}
		cur = field_slot(&f, l, (size_t)(colon - l));
		if (cur) {
			if (*cur) {
				perr_set(e, "%s:%zu: duplicate field '%.*s'", sc->name, line,
					 (int)(colon - l), l);
				goto out;
			}
			char *v = xstrndup(colon + 1, len - (size_t)(colon + 1 - l));
			char *t = str_trim(v);
			*cur = xstrdup(t);
			free(v);
		}
	}
	if (in_stanza && stanza_end(sc, &f, start_line, e) < 0)
		goto out;
	ret = 0;
out:
	fields_free(&f);
	return ret;
}

int packages_add(Repo *repo, const char *name, const char *buf, size_t n, perr *e)
{
	Pool *pool = repo->pool;
	struct scan sc = { name, NULL, 0, 0 };
	Repodata *data;
	FILE *fp = NULL;
	Id start = repo->end;
	int ret = -1;

	if (scan_packages(&sc, buf, n, e) < 0)
		goto out;
	if (!sc.n) {
		ret = 0;
		goto out;
	}
	fp = fmemopen((void *)buf, n, "r");
	if (!fp) {
		perr_errno(e, "%s: fmemopen", name);
		goto out;
	}
	if (repo_add_debpackages(repo, fp, REPO_NO_INTERNALIZE) != 0) {
		perr_set(e, "%s: %s", name, pool_errstr(pool));
		goto out;
	}
	data = repo_last_repodata(repo);
	if ((size_t)(repo->end - start) != sc.n) {
		perr_set(e, "%s: libsolv read %d packages where %zu stanzas were checked",
			 name, repo->end - start, sc.n);
		goto out;
	}
	for (size_t k = 0; k < sc.n; k++) {
		Id p = start + (Id)k;
		Solvable *s = pool_id2solvable(pool, p);
		if (!s->name || strcmp(pool_id2str(pool, s->name), sc.v[k].name)) {
			perr_set(e, "%s:%zu: libsolv disagrees on package %s", name,
				 sc.v[k].line, sc.v[k].name);
			goto out;
		}
		/* a closure ignores Recommends/Suggests; Enhances would make
		 * libsolv consider (and build rules for) every package enhancing
		 * anything in it.  Dropping them also keeps the .solv small. */
		s->recommends = s->suggests = s->enhances = 0;
		repodata_set_num(data, p, SOLVABLE_DOWNLOADSIZE, sc.v[k].size);
		repodata_set_checksum(data, p, SOLVABLE_CHECKSUM, REPOKEY_TYPE_SHA256,
				      sc.v[k].sha256);
		if (sc.v[k].maintainer)
			repodata_set_str(data, p, SOLVABLE_PACKAGER, sc.v[k].maintainer);
		if (sc.v[k].source_version)
			repodata_set_id(data, p, SOLVABLE_SOURCEEVR,
					pool_str2id(pool, sc.v[k].source_version, 1));
	}
	repodata_internalize(data);
	ret = 0;
out:
	if (fp)
		fclose(fp);
	scan_free(&sc);
	return ret;
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
