/*
 * lock.c - recipes.lock (docs/lock.md): read, write, compare.
 *
 * The file is meant to be reviewed in diffs and to be byte-identical for
 * the same inputs, so it is written by hand over cJSON's tree: keys in a
 * fixed order, recipes/archs/packages sorted, 2-space indent, a trailing
 * newline (cJSON_Print indents with tabs and follows insertion order).
 * It holds no URLs: where a package comes from is the recipe's business,
 * what it is (sha256) is the lock's.
 */
#define _GNU_SOURCE
#include "resolver.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define LOCK_MAX ((size_t)256 << 20)

/* ---- freeing and lookup ------------------------------------------------ */

static void pkg_release(struct lock_pkg *p)
{
	deb_id_release(&p->id);
	free(p->filename);
	free(p->sha256), free(p->maintainer);
	sv_clear(&p->required_by);
	sv_clear(&p->depends);
}

void lock_recipe_release(struct lock_recipe *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->recipe_sha256);
	for (size_t i = 0; i < r->nrepos; i++) {
		struct lock_repo *p = &r->repos[i];
		free(p->origin), free(p->label), free(p->suite), free(p->codename);
		free(p->date), free(p->inrelease_sha256), free(p->component), free(p->url);
	}
	free(r->repos);
	for (size_t i = 0; i < r->narchs; i++) {
		for (size_t k = 0; k < r->archs[i].npkgs; k++)
			pkg_release(&r->archs[i].pkgs[k]);
		free(r->archs[i].pkgs);
		free(r->archs[i].arch);
	}
	free(r->archs);
	memset(r, 0, sizeof(*r));
}

void lock_release(struct lock *l)
{
	for (size_t i = 0; i < l->nrecipes; i++)
		lock_recipe_release(&l->recipes[i]);
	free(l->recipes);
	memset(l, 0, sizeof(*l));
}

struct lock_recipe *lock_find(const struct lock *l, const char *name)
{
	for (size_t i = 0; i < l->nrecipes; i++)
		if (!strcmp(l->recipes[i].name, name))
			return &l->recipes[i];
	return NULL;
}

static int recipe_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lock_recipe *)a)->name, ((const struct lock_recipe *)b)->name);
}

int64_t lock_recipe_epoch(const struct lock_recipe *r)
{
	int64_t newest = 0;

	if (!r)
		return 0;
	if (r->source_date_epoch > 0)
		return r->source_date_epoch;
	for (size_t i = 0; i < r->nrepos; i++)
		if (r->repos[i].date_epoch > newest)
			newest = r->repos[i].date_epoch;
	return newest;
}

int64_t lock_next_epoch(const struct lock_recipe *old, const struct lock_recipe *fresh)
{
	struct lock_recipe dated = *fresh;

	if (old) {
		struct lock_changes c = { 0 };
		size_t n;

		lock_changes(old, fresh, &c);
		n = c.n;
		lock_changes_release(&c);
		if (n == 0 && lock_recipe_epoch(old) > 0)
			return lock_recipe_epoch(old);
	}
	dated.source_date_epoch = 0;
	return lock_recipe_epoch(&dated);
}

void lock_put(struct lock *l, struct lock_recipe *r)
{
	struct lock_recipe *old = lock_find(l, r->name);

	if (old) {
		lock_recipe_release(old);
		*old = *r;
	} else {
		l->recipes = xrealloc(l->recipes, (l->nrecipes + 1) * sizeof(*l->recipes));
		l->recipes[l->nrecipes++] = *r;
		qsort(l->recipes, l->nrecipes, sizeof(*l->recipes), recipe_cmp);
	}
	memset(r, 0, sizeof(*r));
}

bool lock_drop(struct lock *l, const char *name)
{
	struct lock_recipe *g = lock_find(l, name);
	size_t k;

	if (!g)
		return false;
	k = (size_t)(g - l->recipes);
	lock_recipe_release(g);
	memmove(g, g + 1, (l->nrecipes - k - 1) * sizeof(*g));
	l->nrecipes--;
	return true;
}

/* ---- reading ------------------------------------------------------------- */

struct rd {
	const char *file, *recipe;
	perr *e;
};

static int bad(struct rd *rd, const char *fmt, ...) PRINTF(2, 3);
static int bad(struct rd *rd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rd->recipe)
		return perr_set(rd->e, "%s: recipe %s: %s", rd->file, rd->recipe, msg);
	return perr_set(rd->e, "%s: %s", rd->file, msg);
}

/* No string in a lock holds a control character: names, versions and
 * dates end up in one-line messages and in `pare check` output, where a
 * newline from a hand edit or a bad merge would forge a line of its own. */
static bool clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int get_str(struct rd *rd, const cJSON *o, const char *key, const char *where,
		   char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsString(v) || !v->valuestring)
		return bad(rd, "%s: \"%s\" must be a string", where, key);
	if (!clean(v->valuestring))
		return bad(rd, "%s: \"%s\" holds a control character", where, key);
	*out = xstrdup(v->valuestring);
	return 0;
}

static int get_u64(struct rd *rd, const cJSON *o, const char *key, const char *where,
		   uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)LOCK_NUM_MAX ||
	    floor(v->valuedouble) != v->valuedouble)
		return bad(rd, "%s: \"%s\" must be a non-negative integer", where, key);
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int read_pkg(struct rd *rd, const cJSON *o, const char *arch, size_t idx,
		    size_t nrepos, struct lock_pkg *p)
{
	char where[160];
	const cJSON *rb, *it, *repo;
	uint64_t ri = 0;

	snprintf(where, sizeof(where), "%s package #%zu", arch, idx + 1);
	if (!cJSON_IsObject(o))
		return bad(rd, "%s: not an object", where);
	if (get_str(rd, o, "name", where, &p->name) < 0)
		return -1;
	snprintf(where, sizeof(where), "%s package %s", arch, p->name);
	if (get_str(rd, o, "version", where, &p->version) < 0 ||
	    get_str(rd, o, "architecture", where, &p->arch) < 0 ||
	    get_str(rd, o, "source", where, &p->source) < 0 ||
	    get_str(rd, o, "source_version", where, &p->source_version) < 0 ||
	    get_str(rd, o, "filename", where, &p->filename) < 0 ||
	    get_u64(rd, o, "size", where, &p->size) < 0 ||
	    get_str(rd, o, "sha256", where, &p->sha256) < 0 ||
	    get_u64(rd, o, "installed_size", where, &p->installed_size) < 0)
		return -1;
	if (!is_sha256_hex(p->sha256))
		return bad(rd, "%s: \"sha256\" is not a sha256 hex digest", where);
	if (!packages_filename_ok(p->filename))
		return bad(rd, "%s: unsafe \"filename\" '%s'", where, p->filename);
	repo = cJSON_GetObjectItemCaseSensitive(o, "repository");
	if (repo) {
		if (get_u64(rd, o, "repository", where, &ri) < 0)
			return -1;
	}
	if (ri >= nrepos)
		return bad(rd, "%s: \"repository\" %llu is not an index into \"repositories\"",
			   where, (unsigned long long)ri);
	p->repo = (int)ri;
	rb = cJSON_GetObjectItemCaseSensitive(o, "required_by");
	if (!cJSON_IsArray(rb))
		return bad(rd, "%s: \"required_by\" must be an array", where);
	cJSON_ArrayForEach(it, rb) {
		if (!cJSON_IsString(it))
			return bad(rd, "%s: \"required_by\" must hold strings", where);
		if (!clean(it->valuestring))
			return bad(rd, "%s: \"required_by\" holds a control character", where);
		sv_push(&p->required_by, it->valuestring);
		if (!strcmp(it->valuestring, "recipe"))
			p->requested = true;
	}
	return 0;
}

static int pkg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lock_pkg *)a)->name, ((const struct lock_pkg *)b)->name);
}

static int arch_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lock_arch *)a)->arch, ((const struct lock_arch *)b)->arch);
}

static int read_recipe(struct rd *rd, const cJSON *o, struct lock_recipe *r)
{
	const cJSON *repos, *archs, *it;
	size_t i = 0;

	if (!cJSON_IsObject(o))
		return bad(rd, "not an object");
	if (get_str(rd, o, "recipe_sha256", "entry", &r->recipe_sha256) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(o, "source_date_epoch")) {
		uint64_t v;
		/* 253402300799: 9999-12-31T23:59:59Z, the last date RFC 3339 can write */
		if (get_u64(rd, o, "source_date_epoch", "entry", &v) < 0)
			return -1;
		if (v > 253402300799ULL)
			return bad(rd, "entry: \"source_date_epoch\" %llu is after the year 9999",
				   (unsigned long long)v);
		r->source_date_epoch = (int64_t)v;
	}
	repos = cJSON_GetObjectItemCaseSensitive(o, "repositories");
	if (!cJSON_IsArray(repos))
		return bad(rd, "\"repositories\" must be an array");
	r->nrepos = (size_t)cJSON_GetArraySize(repos);
	r->repos = xcalloc(r->nrepos + 1, sizeof(*r->repos));
	cJSON_ArrayForEach(it, repos) {
		struct lock_repo *p = &r->repos[i];
		char where[64];
		snprintf(where, sizeof(where), "repository #%zu", ++i);
		if (!cJSON_IsObject(it))
			return bad(rd, "%s: not an object", where);
		if (get_str(rd, it, "origin", where, &p->origin) < 0 ||
		    get_str(rd, it, "label", where, &p->label) < 0 ||
		    get_str(rd, it, "suite", where, &p->suite) < 0 ||
		    get_str(rd, it, "codename", where, &p->codename) < 0 ||
		    get_str(rd, it, "date", where, &p->date) < 0 ||
		    get_str(rd, it, "inrelease_sha256", where, &p->inrelease_sha256) < 0)
			return -1;
		if (parse_rfc2822(p->date, &p->date_epoch) < 0)
			return bad(rd, "%s: unparsable \"date\" '%s'", where, p->date);
		if (!is_sha256_hex(p->inrelease_sha256))
			return bad(rd, "%s: \"inrelease_sha256\" is not a sha256 hex digest", where);
	}
	archs = cJSON_GetObjectItemCaseSensitive(o, "archs");
	if (!cJSON_IsObject(archs))
		return bad(rd, "\"archs\" must be an object");
	r->archs = xcalloc((size_t)cJSON_GetArraySize(archs) + 1, sizeof(*r->archs));
	cJSON_ArrayForEach(it, archs) {
		struct lock_arch *la = &r->archs[r->narchs++];
		const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(it, "packages"), *pj;
		size_t k = 0;
		if (!clean(it->string))
			return bad(rd, "\"archs\": an architecture name holds a control character");
		la->arch = xstrdup(it->string);
		if (!cJSON_IsObject(it) || !cJSON_IsArray(pkgs))
			return bad(rd, "arch %s: \"packages\" must be an array", la->arch);
		la->pkgs = xcalloc((size_t)cJSON_GetArraySize(pkgs) + 1, sizeof(*la->pkgs));
		cJSON_ArrayForEach(pj, pkgs) {
			if (read_pkg(rd, pj, la->arch, k, r->nrepos, &la->pkgs[la->npkgs++]) < 0)
				return -1;
			k++;
		}
		qsort(la->pkgs, la->npkgs, sizeof(*la->pkgs), pkg_cmp);
		for (size_t n = 1; n < la->npkgs; n++)
			if (!strcmp(la->pkgs[n - 1].name, la->pkgs[n].name))
				return bad(rd, "arch %s: package %s is listed twice", la->arch,
					   la->pkgs[n].name);
		/* depends (runtime only) is the inverse of required_by */
		for (size_t n = 0; n < la->npkgs; n++)
			for (size_t m = 0; m < la->pkgs[n].required_by.n; m++) {
				const char *from = la->pkgs[n].required_by.v[m];
				struct lock_pkg key = { .name = (char *)from }, *fp;
				if (!strcmp(from, "recipe"))
					continue;
				fp = bsearch(&key, la->pkgs, la->npkgs, sizeof(key), pkg_cmp);
				if (!fp)
					return bad(rd, "arch %s: package %s is required by %s, which is not locked",
						   la->arch, la->pkgs[n].name, from);
				sv_push(&fp->depends, la->pkgs[n].name);
			}
		for (size_t n = 0; n < la->npkgs; n++)
			sv_uniq(&la->pkgs[n].depends);
	}
	qsort(r->archs, r->narchs, sizeof(*r->archs), arch_cmp);
	/* JSON allows a key twice; a merge can leave an arch so */
	for (size_t n = 1; n < r->narchs; n++)
		if (!strcmp(r->archs[n - 1].arch, r->archs[n].arch))
			return bad(rd, "arch %s is listed twice", r->archs[n].arch);
	return 0;
}

int lock_read_buf(const char *name, const char *buf, size_t n, struct lock *l, perr *e)
{
	cJSON *root = NULL, *recipes, *it, *ver;
	struct rd rd = { name, NULL, e };
	int ret = -1;

	memset(l, 0, sizeof(*l));
	l->version = 1;
	root = cJSON_ParseWithLength(buf, n);
	if (!root) {
		bad(&rd, "not valid JSON (near byte %td)", cJSON_GetErrorPtr() ?
			    cJSON_GetErrorPtr() - buf : (ptrdiff_t)0);
		goto out;
	}
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
		bad(&rd, "unsupported \"version\" (this pare reads version 1)");
		goto out;
	}
	recipes = cJSON_GetObjectItemCaseSensitive(root, "recipes");
	if (!cJSON_IsObject(recipes)) {
		bad(&rd, "\"recipes\" must be an object");
		goto out;
	}
	l->recipes = xcalloc((size_t)cJSON_GetArraySize(recipes) + 1, sizeof(*l->recipes));
	cJSON_ArrayForEach(it, recipes) {
		struct lock_recipe *r;
		if (!clean(it->string)) {
			bad(&rd, "a recipe name holds a control character");
			goto out;
		}
		r = &l->recipes[l->nrecipes++];
		r->name = xstrdup(it->string);
		rd.recipe = r->name;
		if (read_recipe(&rd, it, r) < 0)
			goto out;
	}
	qsort(l->recipes, l->nrecipes, sizeof(*l->recipes), recipe_cmp);
	for (size_t i = 1; i < l->nrecipes; i++)
		if (!strcmp(l->recipes[i - 1].name, l->recipes[i].name)) {
			rd.recipe = NULL;
			bad(&rd, "recipe %s is listed twice", l->recipes[i].name);
			goto out;
		}
	ret = 0;
out:
	if (ret < 0)
		lock_release(l);
	cJSON_Delete(root);
	return ret;
}

int lock_read(const char *path, struct lock *l, bool missing_ok, perr *e)
{
	strbuf sb = STRBUF_INIT;
	int ret = -1;

	memset(l, 0, sizeof(*l));
	l->version = 1;
	if (read_file(path, &sb, LOCK_MAX, e) < 0) {
		if (errno == ENOENT && missing_ok)
			ret = 0;
		goto out;
	}
	ret = lock_read_buf(path, sb_str(&sb), sb.len, l, e);
out:
	sb_release(&sb);
	return ret;
}

/* ---- writing ---------------------------------------------------------------- */

/* Strings and numbers through cJSON (correct escaping); the layout here. */
static void put_scalar(strbuf *sb, cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	sb_adds(sb, s);
	free(s);
	cJSON_Delete(v);
}

static void put_str(strbuf *sb, const char *s)
{
	put_scalar(sb, cJSON_CreateString(s ? s : ""));
}

static void put_num(strbuf *sb, uint64_t n)
{
	sb_addf(sb, "%llu", (unsigned long long)n);
}

static void indent(strbuf *sb, int level)
{
	for (int i = 0; i < level; i++)
		sb_adds(sb, "  ");
}

static void key(strbuf *sb, int level, const char *k, bool *first)
{
	sb_adds(sb, *first ? "\n" : ",\n");
	*first = false;
	indent(sb, level);
	put_str(sb, k);
	sb_adds(sb, ": ");
}

static void write_pkg(strbuf *sb, int lv, const struct lock_pkg *p)
{
	bool f = true;
	strvec rb = STRVEC_INIT;

	sb_adds(sb, "{");
	key(sb, lv + 1, "name", &f), put_str(sb, p->name);
	key(sb, lv + 1, "version", &f), put_str(sb, p->version);
	key(sb, lv + 1, "architecture", &f), put_str(sb, p->arch);
	key(sb, lv + 1, "source", &f), put_str(sb, p->source);
	key(sb, lv + 1, "source_version", &f), put_str(sb, p->source_version);
	key(sb, lv + 1, "filename", &f), put_str(sb, p->filename);
	key(sb, lv + 1, "repository", &f), put_num(sb, (uint64_t)(p->repo < 0 ? 0 : p->repo));
	key(sb, lv + 1, "size", &f), put_num(sb, p->size);
	key(sb, lv + 1, "sha256", &f), put_str(sb, p->sha256);
	key(sb, lv + 1, "installed_size", &f), put_num(sb, p->installed_size);
	key(sb, lv + 1, "required_by", &f);
	sv_copy(&rb, &p->required_by);
	sv_uniq(&rb);
	sb_adds(sb, "[");
	for (size_t i = 0; i < rb.n; i++) {
		sb_adds(sb, i ? ", " : "");
		put_str(sb, rb.v[i]);
	}
	sb_adds(sb, "]\n");
	sv_clear(&rb);
	indent(sb, lv);
	sb_adds(sb, "}");
}

static int pkgp_cmp(const void *a, const void *b)
{
	return strcmp((*(struct lock_pkg *const *)a)->name, (*(struct lock_pkg *const *)b)->name);
}

static int archp_cmp(const void *a, const void *b)
{
	return strcmp((*(struct lock_arch *const *)a)->arch, (*(struct lock_arch *const *)b)->arch);
}

static int recipep_cmp(const void *a, const void *b)
{
	return strcmp((*(struct lock_recipe *const *)a)->name,
		      (*(struct lock_recipe *const *)b)->name);
}

static void write_recipe(strbuf *sb, int lv, const struct lock_recipe *r)
{
	bool f = true;
	struct lock_arch **archs = xcalloc(r->narchs + 1, sizeof(*archs));

	sb_adds(sb, "{");
	key(sb, lv + 1, "recipe_sha256", &f), put_str(sb, r->recipe_sha256);
	if (r->source_date_epoch > 0) {
		key(sb, lv + 1, "source_date_epoch", &f);
		sb_addf(sb, "%lld", (long long)r->source_date_epoch);
	}
	key(sb, lv + 1, "repositories", &f);
	sb_adds(sb, r->nrepos ? "[" : "[]");
	for (size_t i = 0; i < r->nrepos; i++) {
		const struct lock_repo *p = &r->repos[i];
		bool g = true;
		sb_adds(sb, i ? ",\n" : "\n");
		indent(sb, lv + 2);
		sb_adds(sb, "{");
		key(sb, lv + 3, "origin", &g), put_str(sb, p->origin);
		key(sb, lv + 3, "label", &g), put_str(sb, p->label);
		key(sb, lv + 3, "suite", &g), put_str(sb, p->suite);
		key(sb, lv + 3, "codename", &g), put_str(sb, p->codename);
		key(sb, lv + 3, "date", &g), put_str(sb, p->date);
		key(sb, lv + 3, "inrelease_sha256", &g), put_str(sb, p->inrelease_sha256);
		sb_adds(sb, "\n");
		indent(sb, lv + 2);
		sb_adds(sb, "}");
	}
	if (r->nrepos) {
		sb_adds(sb, "\n");
		indent(sb, lv + 1);
		sb_adds(sb, "]");
	}
	key(sb, lv + 1, "archs", &f);
	for (size_t i = 0; i < r->narchs; i++)
		archs[i] = &r->archs[i];
	qsort(archs, r->narchs, sizeof(*archs), archp_cmp);
	sb_adds(sb, r->narchs ? "{" : "{}");
	bool g = true;
	for (size_t i = 0; i < r->narchs; i++) {
		const struct lock_arch *la = archs[i];
		struct lock_pkg **pk = xcalloc(la->npkgs + 1, sizeof(*pk));
		bool h = true;
		key(sb, lv + 2, la->arch, &g);
		sb_adds(sb, "{");
		key(sb, lv + 3, "packages", &h);
		for (size_t k = 0; k < la->npkgs; k++)
			pk[k] = &la->pkgs[k];
		qsort(pk, la->npkgs, sizeof(*pk), pkgp_cmp);
		sb_adds(sb, la->npkgs ? "[" : "[]");
		for (size_t k = 0; k < la->npkgs; k++) {
			sb_adds(sb, k ? ",\n" : "\n");
			indent(sb, lv + 4);
			write_pkg(sb, lv + 4, pk[k]);
		}
		if (la->npkgs) {
			sb_adds(sb, "\n");
			indent(sb, lv + 3);
			sb_adds(sb, "]");
		}
		sb_adds(sb, "\n");
		indent(sb, lv + 2);
		sb_adds(sb, "}");
		free(pk);
	}
	if (r->narchs) {
		sb_adds(sb, "\n");
		indent(sb, lv + 1);
		sb_adds(sb, "}");
	}
	sb_adds(sb, "\n");
	indent(sb, lv);
	sb_adds(sb, "}");
	free(archs);
}

void lock_format(const struct lock *l, strbuf *out)
{
	strbuf sb = STRBUF_INIT;
	struct lock_recipe **rs = xcalloc(l->nrecipes + 1, sizeof(*rs));
	bool f = true;

	for (size_t i = 0; i < l->nrecipes; i++)
		rs[i] = &l->recipes[i];
	qsort(rs, l->nrecipes, sizeof(*rs), recipep_cmp);
	sb_adds(&sb, "{");
	key(&sb, 1, "version", &f), put_num(&sb, 1);
	key(&sb, 1, "recipes", &f);
	sb_adds(&sb, l->nrecipes ? "{" : "{}");
	bool g = true;
	for (size_t i = 0; i < l->nrecipes; i++) {
		key(&sb, 2, rs[i]->name, &g);
		write_recipe(&sb, 2, rs[i]);
	}
	if (l->nrecipes)
		sb_adds(&sb, "\n  }");
	sb_adds(&sb, "\n}\n");
	sb_add(out, sb.buf, sb.len);
	free(rs);
	sb_release(&sb);
}

int lock_write(const char *path, const struct lock *l, perr *e)
{
	strbuf sb = STRBUF_INIT;
	int ret;

	lock_format(l, &sb);
	/* never a lock that lock_read would refuse: every later lock and
	 * build would fail until it was edited by hand */
	struct lock back;
	perr why = { 0, "" };
	if (lock_read_buf(path, sb.buf, sb.len, &back, &why) < 0) {
		sb_release(&sb);
		return perr_set(e, "not writing what could not be read back: %s", why.msg);
	}
	lock_release(&back);
	/* the same bytes: left alone (no new mtime for make, no fsync) */
	ret = write_file_changed(path, sb.buf, sb.len, 0644, e);
	sb_release(&sb);
	return ret;
}

int lock_acquire(const char *path, bool journal_ok, perr *e)
{
	char *dir = path_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		perr_errno(e, "cannot open directory '%s' (to lock %s)", dir, path);
		free(dir);
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		perr_errno(e, "cannot lock directory '%s' (to write %s)", dir, path);
		close(fd);
		free(dir);
		return -1;
	}
	free(dir);
	if (!journal_ok) {
		char *j = xasprintf("%s.update-journal", path);
		bool pending = path_exists(j);
		free(j);
		if (pending) {
			close(fd);
			return perr_set(e, "%s: a pare update was interrupted (%s.update-journal): run 'pare update' to complete it first",
					path, path);
		}
	}
	return fd;
}

void lock_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/* ---- comparing ---------------------------------------------------------------- */

static const struct lock_arch *find_arch(const struct lock_recipe *r, const char *arch)
{
	for (size_t i = 0; i < r->narchs; i++)
		if (!strcmp(r->archs[i].arch, arch))
			return &r->archs[i];
	return NULL;
}

static const struct lock_pkg *find_pkg(const struct lock_arch *la, const char *name)
{
	for (size_t i = 0; i < la->npkgs; i++)
		if (!strcmp(la->pkgs[i].name, name))
			return &la->pkgs[i];
	return NULL;
}

/* Repository metadata (Date, InRelease hash) is left out on purpose: an
 * archive re-signs its Release daily, and a lock whose packages are all
 * still current is not out of date. */
static void change_push(struct lock_changes *c, enum lock_change_kind kind, const char *recipe,
			const char *arch, const char *pkg, const char *ov, const char *nv)
{
	struct lock_change *ch;

	ALLOC_GROW(c->v, c->n + 1, c->alloc);
	ch = &c->v[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->recipe = xstrdup(recipe);
	ch->arch = arch ? xstrdup(arch) : NULL;
	ch->package = pkg ? xstrdup(pkg) : NULL;
	ch->old_version = ov ? xstrdup(ov) : NULL;
	ch->new_version = nv ? xstrdup(nv) : NULL;
}

void lock_changes(const struct lock_recipe *old, const struct lock_recipe *new,
		  struct lock_changes *c)
{
	const char *name = new ? new->name : old->name;

	if (!old) {
		change_push(c, LC_NEW_RECIPE, name, NULL, NULL, NULL, NULL);
		return;
	}
	if (!new) {
		change_push(c, LC_GONE_RECIPE, name, NULL, NULL, NULL, NULL);
		return;
	}
	if (strcmp(old->recipe_sha256, new->recipe_sha256))
		change_push(c, LC_RECIPE, name, NULL, NULL, NULL, NULL);
	for (size_t i = 0; i < old->narchs; i++)
		if (!find_arch(new, old->archs[i].arch))
			change_push(c, LC_ARCH_REMOVED, name, old->archs[i].arch, NULL, NULL, NULL);
	for (size_t i = 0; i < new->narchs; i++) {
		const struct lock_arch *na = &new->archs[i], *oa = find_arch(old, na->arch);
		if (!oa) {
			change_push(c, LC_ARCH_ADDED, name, na->arch, NULL, NULL, NULL);
			continue;
		}
		for (size_t k = 0; k < oa->npkgs; k++)
			if (!find_pkg(na, oa->pkgs[k].name))
				change_push(c, LC_REMOVED, name, na->arch, oa->pkgs[k].name,
					    oa->pkgs[k].version, NULL);
		for (size_t k = 0; k < na->npkgs; k++) {
			const struct lock_pkg *np = &na->pkgs[k], *op = find_pkg(oa, np->name);
			if (!op)
				change_push(c, LC_ADDED, name, na->arch, np->name, NULL, np->version);
			else if (strcmp(op->version, np->version))
				change_push(c, LC_CHANGED, name, na->arch, np->name, op->version,
					    np->version);
			else if (strcmp(op->sha256, np->sha256) || op->size != np->size ||
				 strcmp(op->arch, np->arch) ||
				 strcmp(op->filename, np->filename)) {
				change_push(c, LC_DEB_CHANGED, name, na->arch, np->name, op->sha256,
					    np->sha256);
				c->v[c->n - 1].version = xstrdup(np->version);
			}
		}
	}
}

void lock_changes_release(struct lock_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct lock_change *ch = &c->v[i];
		free(ch->recipe), free(ch->arch), free(ch->package);
		free(ch->old_version), free(ch->new_version), free(ch->version);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

char *lock_change_str(const struct lock_change *ch)
{
	switch (ch->kind) {
	case LC_NEW_RECIPE:
		return xasprintf("%s: not in recipes.lock", ch->recipe);
	case LC_GONE_RECIPE:
		return xasprintf("%s: in recipes.lock but no longer a recipe", ch->recipe);
	case LC_RECIPE:
		return xasprintf("%s: recipe changed (recipe_sha256 differs)", ch->recipe);
	case LC_ARCH_REMOVED:
		return xasprintf("%s %s: arch no longer built", ch->recipe, ch->arch);
	case LC_ARCH_ADDED:
		return xasprintf("%s %s: arch not in recipes.lock", ch->recipe, ch->arch);
	case LC_REMOVED:
		return xasprintf("%s %s: - %s %s", ch->recipe, ch->arch, ch->package,
				 ch->old_version);
	case LC_ADDED:
		return xasprintf("%s %s: + %s %s", ch->recipe, ch->arch, ch->package,
				 ch->new_version);
	case LC_CHANGED:
		return xasprintf("%s %s: %s %s -> %s", ch->recipe, ch->arch, ch->package,
				 ch->old_version, ch->new_version);
	case LC_DEB_CHANGED:
		return xasprintf("%s %s: %s %s: the .deb changed (sha256 %.12s -> %.12s)",
				 ch->recipe, ch->arch, ch->package, ch->version, ch->old_version,
				 ch->new_version);
	}
	return xstrdup("?");
}

void lock_diff(const struct lock_recipe *old, const struct lock_recipe *new, strvec *lines)
{
	struct lock_changes c = { 0 };

	lock_changes(old, new, &c);
	for (size_t i = 0; i < c.n; i++)
		sv_push_nodup(lines, lock_change_str(&c.v[i]));
	lock_changes_release(&c);
}
