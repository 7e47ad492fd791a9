/* index.c - the history index: which (image, arch, package, version, source,
 * source version) recipes.lock held in which commits of the first-parent
 * history of HEAD, as intervals, and what the "pare update" commit messages
 * say (digests, change lines).  Read with libgit2 once, kept in the pare
 * cache as text (one record a line, tab-separated fields: no field can hold
 * a tab or a newline, as the lock blobs are checked for that), and brought up
 * to date from the indexed tip: only the commits after it are read, unless
 * the tip is no longer an ancestor of HEAD (history rewritten): then from
 * nothing.  A lock blob is read with cJSON for the few fields needed; a
 * commit whose lock does not parse is skipped with a warning (the history
 * cannot be fixed, the answers can still be given). */
#include "inventory.h"

#include <cjson/cJSON.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IDX_MAGIC "pare-inventory 1"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_shutdown(void)
{
	git_libgit2_shutdown();
}

static void git_init(void)
{
	git_libgit2_init();
	/* each commit's lock blob is a delta against a neighbour in a pack:
	 * libgit2 caches no blobs by default */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)64 << 20);
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)512 << 20);
	/* git itself does not re-hash every object it reads (packs carry CRCs);
	 * re-hashing each 1 MB lock blob was a sixth of the indexing time */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	atexit(git_shutdown);
}

static int git_fail(perr *e, const char *what)
{
	const git_error *ge = git_error_last();

	return perr_set(e, "git: %s: %s", what, ge && ge->message ? ge->message : "failed");
}

/* ---- the state one lock blob gives ---------------------------------------- */

struct row {
	const char *image, *arch, *name, *version, *source, *source_version, *codename;
};

static int row_key_cmp(const struct row *a, const struct row *b)
{
	int c = strcmp(a->image, b->image);

	if (!c)
		c = strcmp(a->arch, b->arch);
	if (!c && a->name && b->name)
		c = strcmp(a->name, b->name);
	return c;
}

static int row_qcmp(const void *a, const void *b)
{
	return row_key_cmp(a, b);
}

struct rows {
	struct row *v;
	size_t n, alloc;
};

/* A field the index can hold: not empty (unless empty_ok), no control bytes. */
static bool field_ok(const char *s, bool empty_ok)
{
	if (!s || (!*s && !empty_ok))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The rows of one lock (pkgs) and its images (imgs), sorted by key; they
 * point into j.  -1 with a message for anything the index cannot hold. */
static int lock_rows(const cJSON *j, struct rows *pkgs, struct rows *imgs, perr *e)
{
	const cJSON *recipes = cJSON_GetObjectItemCaseSensitive(j, "recipes"), *r;

	if (!cJSON_IsObject(recipes))
		return perr_set(e, "no \"recipes\" object");
	cJSON_ArrayForEach(r, recipes) {
		const cJSON *archs = cJSON_GetObjectItemCaseSensitive(r, "archs"), *a;
		const cJSON *repos = cJSON_GetObjectItemCaseSensitive(r, "repositories");
		const char *cn = jstr(cJSON_GetArrayItem(repos, 0), "codename");

		if (!field_ok(r->string, false))
			return perr_set(e, "a recipe name the index cannot hold");
		if (!field_ok(cn ? cn : "", true))
			cn = "";
		cJSON_ArrayForEach(a, archs) {
			const cJSON *p;

			if (!field_ok(a->string, false))
				return perr_set(e, "recipe %s: a bad arch name", r->string);
			ALLOC_GROW(imgs->v, imgs->n + 1, imgs->alloc);
			imgs->v[imgs->n++] = (struct row){ r->string, a->string, .codename = cn ? cn : "" };
			cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(a, "packages")) {
				struct row w = { r->string, a->string, jstr(p, "name"), jstr(p, "version"),
						 jstr(p, "source"), jstr(p, "source_version"), NULL };

				if (!w.source)
					w.source = w.name;
				if (!w.source_version)
					w.source_version = w.version;
				if (!field_ok(w.name, false) || !field_ok(w.version, false) ||
				    !field_ok(w.source, false) || !field_ok(w.source_version, false))
					return perr_set(e, "recipe %s: %s package %s: a missing or bad name, "
							"version or source", r->string, a->string,
							w.name ? w.name : "(no name)");
				ALLOC_GROW(pkgs->v, pkgs->n + 1, pkgs->alloc);
				pkgs->v[pkgs->n++] = w;
			}
		}
	}
	/* the lock is written sorted; sort anyway when it is not */
	for (size_t i = 1; i < pkgs->n; i++)
		if (row_key_cmp(&pkgs->v[i - 1], &pkgs->v[i]) > 0) {
			qsort(pkgs->v, pkgs->n, sizeof(*pkgs->v), row_qcmp);
			break;
		}
	for (size_t i = 1; i < imgs->n; i++)
		if (row_key_cmp(&imgs->v[i - 1], &imgs->v[i]) > 0) {
			qsort(imgs->v, imgs->n, sizeof(*imgs->v), row_qcmp);
			break;
		}
	return 0;
}

/* ---- building ----------------------------------------------------------------- */

struct builder {
	struct inventory *inv;
	size_t pk_alloc, im_alloc, ev_alloc, co_alloc;
	/* the open spans, sorted by key: indexes into inv->pkgs / inv->images */
	size_t *cur_p, ncur_p, *cur_i, ncur_i;
	char blob[GIT_OID_HEXSZ + 1]; /* the lock blob at the tip ("" when none) */
};

static int span_row_cmp(const struct inv_span *s, const struct row *w)
{
	struct row k = { s->image, s->arch, s->name, NULL, NULL, NULL, NULL };

	return row_key_cmp(&k, w);
}

/* The spans' strings, interned: a history repeats the same few thousand
 * images, names and versions in every interval, so each is stored once, in
 * blocks (far fewer allocations, and fewer pages for a question to touch
 * when it reads the index).  Freed as a whole by reset(). */
struct inv_strings {
	char **slot;
	size_t cap, n; /* open addressing, cap a power of two, at most half full */
	char **blocks;
	size_t nblocks, blocks_alloc;
	char *cur;
	size_t left;
};

static size_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static char *intern(struct inventory *inv, const char *s)
{
	struct inv_strings *t = inv->strings;
	size_t i, len;

	if (!s)
		return NULL;
	if (!t)
		t = inv->strings = xcalloc(1, sizeof(*t));
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		char **slot = xcalloc(cap, sizeof(*slot));

		for (size_t k = 0; k < t->cap; k++)
			if (t->slot[k]) {
				for (i = str_hash(t->slot[k]) & (cap - 1); slot[i]; i = (i + 1) & (cap - 1))
					;
				slot[i] = t->slot[k];
			}
		free(t->slot);
		t->slot = slot, t->cap = cap;
	}
	for (i = str_hash(s) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->slot[i], s))
			return t->slot[i];
	len = strlen(s) + 1;
	if (len > t->left) {
		size_t sz = len > 65536 ? len : 65536;

		ALLOC_GROW(t->blocks, t->nblocks + 1, t->blocks_alloc);
		t->cur = t->blocks[t->nblocks++] = xmalloc(sz);
		t->left = sz;
	}
	memcpy(t->cur, s, len);
	t->slot[i] = t->cur;
	t->cur += len, t->left -= len;
	t->n++;
	return t->slot[i];
}

static void strings_free(struct inv_strings *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks), free(t->slot), free(t);
}

static size_t open_span(struct builder *b, bool pkg, const struct row *w, uint32_t c)
{
	struct inventory *inv = b->inv;
	struct inv_span *s;

	if (pkg) {
		ALLOC_GROW(inv->pkgs, inv->npkgs + 1, b->pk_alloc);
		s = &inv->pkgs[inv->npkgs];
		*s = (struct inv_span){ intern(inv, w->image), intern(inv, w->arch),
					intern(inv, w->name), intern(inv, w->version),
					intern(inv, w->source), intern(inv, w->source_version), NULL,
					c, INV_OPEN };
		return inv->npkgs++;
	}
	ALLOC_GROW(inv->images, inv->nimages + 1, b->im_alloc);
	s = &inv->images[inv->nimages];
	*s = (struct inv_span){ intern(inv, w->image), intern(inv, w->arch),
				.codename = intern(inv, w->codename), .from = c, .to = INV_OPEN };
	return inv->nimages++;
}

/* Move the open spans (cur, ncur into spans) to the rows of commit c. */
static void merge(struct builder *b, bool pkg, const struct rows *rs, uint32_t c)
{
	size_t **curp = pkg ? &b->cur_p : &b->cur_i, *ncur = pkg ? &b->ncur_p : &b->ncur_i;
	size_t *cur = *curp, *next = xcalloc(rs->n + 1, sizeof(*next)), nn = 0, i = 0, j = 0;

	while (i < *ncur || j < rs->n) {
		struct inv_span *s = i < *ncur ? &(pkg ? b->inv->pkgs : b->inv->images)[cur[i]] : NULL;
		const struct row *w = j < rs->n ? &rs->v[j] : NULL;
		int d = !s ? 1 : !w ? -1 : span_row_cmp(s, w);

		if (d < 0) {
			s->to = c; /* gone */
			i++;
			continue;
		}
		if (d > 0) {
			next[nn++] = open_span(b, pkg, w, c);
			j++;
			continue;
		}
		if (j > 0 && !row_key_cmp(&rs->v[j - 1], w)) { /* a duplicate key: the first counts */
			j++;
			continue;
		}
		if (pkg && (strcmp(s->version, w->version) || strcmp(s->source, w->source) ||
			    strcmp(s->source_version, w->source_version))) {
			s->to = c;
			next[nn++] = open_span(b, pkg, w, c);
		} else {
			next[nn++] = cur[i];
		}
		i++, j++;
	}
	free(cur);
	*curp = next;
	*ncur = nn;
}

static char *clean_line(const char *s, size_t n)
{
	char *t = xstrndup(s, n);

	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

static void add_event(struct builder *b, uint32_t c, const char *image, size_t ni, const char *arch,
		      size_t na, const char *digest, size_t nd)
{
	struct inventory *inv = b->inv;

	ALLOC_GROW(inv->events, inv->nevents + 1, b->ev_alloc);
	inv->events[inv->nevents++] = (struct inv_event){ c, clean_line(image, ni),
							  arch ? clean_line(arch, na) : NULL,
							  clean_line(digest, nd), xstrdup("") };
}

/* The events of a "pare update" message (rebuild/update.c writes it):
 *	pare update: N images rebuilt
 *
 *	NAME OLD-INDEX -> NEW-INDEX
 *	  change line …
 *	NAME ARCH OLD-MANIFEST -> NEW-MANIFEST
 *	  change line …
 */
static void message_events(struct builder *b, uint32_t c, const char *msg)
{
	struct inventory *inv = b->inv;
	size_t first = inv->nevents;

	if (!str_starts(msg, "pare update:"))
		return;
	for (const char *l = msg, *end; *l; l = *end ? end + 1 : end) {
		const char *tok[6];
		size_t len[6], nt = 0;

		end = strchr(l, '\n');
		if (!end)
			end = l + strlen(l);
		if (l == msg || end == l)
			continue;
		if (str_starts(l, "  ")) { /* a change line: the reason of the last event */
			struct inv_event *ev = inv->nevents > first ? &inv->events[inv->nevents - 1] : NULL;
			char *line = clean_line(l + 2, (size_t)(end - l - 2)), *r;

			if (ev) {
				r = xasprintf("%s%s%s", ev->reason, *ev->reason ? "; " : "", line);
				free(ev->reason);
				ev->reason = r;
			}
			free(line);
			continue;
		}
		for (const char *p = l; p < end && nt < ARRAY_SIZE(tok);) {
			const char *q = p;

			while (q < end && *q != ' ')
				q++;
			tok[nt] = p, len[nt++] = (size_t)(q - p);
			p = q < end ? q + 1 : q;
		}
		if (nt == 4 && len[2] == 2 && !memcmp(tok[2], "->", 2) && str_starts(tok[3], "sha256:"))
			add_event(b, c, tok[0], len[0], NULL, 0, tok[3], len[3]);
		else if (nt == 5 && len[3] == 2 && !memcmp(tok[3], "->", 2) &&
			 str_starts(tok[4], "sha256:"))
			add_event(b, c, tok[0], len[0], tok[1], len[1], tok[4], len[4]);
	}
}

/* One commit: its lock blob (if any) and message into the index. */
static int add_commit(struct builder *b, git_repository *repo, const git_oid *oid, perr *e)
{
	struct inventory *inv = b->inv;
	git_commit *cm = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	char hex[GIT_OID_HEXSZ + 1] = "", chex[GIT_OID_HEXSZ + 1];
	uint32_t c = (uint32_t)inv->ncommits;
	int ret = -1;

	git_oid_tostr(chex, sizeof(chex), oid);
	if (git_commit_lookup(&cm, repo, oid) < 0 || git_commit_tree(&tree, cm) < 0) {
		git_fail(e, chex);
		goto out;
	}
	ALLOC_GROW(inv->commits, inv->ncommits + 1, b->co_alloc);
	memcpy(inv->commits[c].id, chex, sizeof(chex));
	inv->commits[c].time = (int64_t)git_commit_time(cm);
	inv->ncommits++;
	if (git_tree_entry_bypath(&te, tree, inv->lock_rel) == 0 &&
	    git_tree_entry_type(te) == GIT_OBJECT_BLOB)
		git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(te));
	if (strcmp(hex, b->blob)) {
		struct rows pkgs = { 0 }, imgs = { 0 };
		cJSON *j = NULL;
		perr e2;

		if (*hex) {
			if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) < 0) {
				git_fail(e, chex);
				goto out;
			}
			j = cJSON_ParseWithLength(git_blob_rawcontent(blob),
						  (size_t)git_blob_rawsize(blob));
		}
		if (*hex && (!j ? perr_set(&e2, "not JSON") : lock_rows(j, &pkgs, &imgs, &e2)) < 0) {
			warning("%s at commit %.12s: %s; the commit is left out of the inventory",
				inv->lock_rel, chex, e2.msg);
		} else {
			merge(b, true, &pkgs, c);
			merge(b, false, &imgs, c);
			memcpy(b->blob, hex, sizeof(hex));
		}
		cJSON_Delete(j);
		free(pkgs.v), free(imgs.v);
	}
	message_events(b, c, git_commit_message(cm));
	ret = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(cm);
	return ret;
}

/* ---- the index file ---------------------------------------------------------- */

static void put_to(strbuf *sb, uint32_t to)
{
	if (to == INV_OPEN)
		sb_adds(sb, "-\n");
	else
		sb_addf(sb, "%u\n", to);
}

static int idx_write(const struct builder *b, perr *e)
{
	const struct inventory *inv = b->inv;
	strbuf sb = STRBUF_INIT;
	char *dir = path_dirname(inv->idx_path);
	int ret = -1;

	sb_addf(&sb, "%s\t%s\t%s\n", IDX_MAGIC, inv->lock_rel, *b->blob ? b->blob : "-");
	for (size_t i = 0; i < inv->ncommits; i++)
		sb_addf(&sb, "C\t%s\t%lld\n", inv->commits[i].id, (long long)inv->commits[i].time);
	for (size_t i = 0; i < inv->nimages; i++) {
		const struct inv_span *s = &inv->images[i];
		sb_addf(&sb, "I\t%s\t%s\t%s\t%u\t", s->image, s->arch, s->codename, s->from);
		put_to(&sb, s->to);
	}
	for (size_t i = 0; i < inv->npkgs; i++) {
		const struct inv_span *s = &inv->pkgs[i];
		sb_addf(&sb, "P\t%s\t%s\t%s\t%s\t%s\t%s\t%u\t", s->image, s->arch, s->name,
			s->version, s->source, s->source_version, s->from);
		put_to(&sb, s->to);
	}
	for (size_t i = 0; i < inv->nevents; i++) {
		const struct inv_event *v = &inv->events[i];
		sb_addf(&sb, "E\t%u\t%s\t%s\t%s\t%s\n", v->commit, v->image, v->arch ? v->arch : "-",
			v->digest, v->reason);
	}
	if (mkdir_p(dir, 0755, e) < 0 ||
	    write_file_atomic(inv->idx_path, sb.buf, sb.len, 0644, e) < 0)
		goto out;
	ret = 0;
out:
	free(dir);
	sb_release(&sb);
	return ret;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "-")) {
		*out = INV_OPEN;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v >= max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Read the index at inv->idx_path into b (false: absent or not readable as
 * this version's index; then it is built from nothing). */
static bool idx_read(struct builder *b)
{
	struct inventory *inv = b->inv;
	strbuf sb = STRBUF_INIT;
	perr e2;
	char *f[10];
	bool ok = false;
	char *p, *line;
	size_t nline = 0;

	if (read_file(inv->idx_path, &sb, SIZE_MAX, &e2) < 0 || !sb.len)
		goto out;
	for (p = sb.buf; *p; p = line) {
		size_t nf = 0;

		nline++;
		uint32_t a, z;

		line = strchr(p, '\n');
		if (!line)
			goto out;
		*line++ = '\0';
		for (char *q = p;; q++) {
			if (nf == ARRAY_SIZE(f))
				goto out;
			f[nf++] = q;
			if (!(q = strchr(q, '\t')))
				break;
			*q = '\0';
		}
		if (p == sb.buf) {
			if (nf != 3 || strcmp(f[0], IDX_MAGIC) || strcmp(f[1], inv->lock_rel))
				goto out;
			if (strcmp(f[2], "-"))
				snprintf(b->blob, sizeof(b->blob), "%s", f[2]);
		} else if (!strcmp(f[0], "C") && nf == 3 && strlen(f[1]) == GIT_OID_HEXSZ) {
			ALLOC_GROW(inv->commits, inv->ncommits + 1, b->co_alloc);
			memcpy(inv->commits[inv->ncommits].id, f[1], GIT_OID_HEXSZ + 1);
			inv->commits[inv->ncommits++].time = strtoll(f[2], NULL, 10);
		} else if (!strcmp(f[0], "I") && nf == 6 &&
			   parse_u32(f[4], (uint32_t)inv->ncommits, &a) && a != INV_OPEN &&
			   parse_u32(f[5], (uint32_t)inv->ncommits, &z)) {
			struct row w = { f[1], f[2], .codename = f[3] };
			size_t k = open_span(b, false, &w, a);
			inv->images[k].to = z;
		} else if (!strcmp(f[0], "P") && nf == 9 &&
			   parse_u32(f[7], (uint32_t)inv->ncommits, &a) && a != INV_OPEN &&
			   parse_u32(f[8], (uint32_t)inv->ncommits, &z)) {
			struct row w = { f[1], f[2], f[3], f[4], f[5], f[6], NULL };
			size_t k = open_span(b, true, &w, a);
			inv->pkgs[k].to = z;
		} else if (!strcmp(f[0], "E") && nf == 6 &&
			   parse_u32(f[1], (uint32_t)inv->ncommits, &a) && a != INV_OPEN) {
			add_event(b, a, f[2], strlen(f[2]), strcmp(f[3], "-") ? f[3] : NULL,
				  strlen(f[3]), f[4], strlen(f[4]));
			free(inv->events[inv->nevents - 1].reason);
			inv->events[inv->nevents - 1].reason = xstrdup(f[5]);
		} else {
			goto out;
		}
	}
	ok = inv->ncommits > 0;
out:
	if (!ok && sb.len)
		debug("inventory: %s: not this version's index (line %zu): built again",
		      inv->idx_path, nline);
	sb_release(&sb);
	return ok;
}

static const struct inv_span *qsort_spans;

static int cur_qcmp(const void *a, const void *b)
{
	const struct inv_span *x = &qsort_spans[*(const size_t *)a];
	const struct inv_span *y = &qsort_spans[*(const size_t *)b];
	struct row k = { y->image, y->arch, y->name, NULL, NULL, NULL, NULL };

	return span_row_cmp(x, &k);
}

/* The open spans of a read index, sorted by key, as the builder's state. */
static void open_state(struct builder *b)
{
	struct inventory *inv = b->inv;

	b->cur_p = xcalloc(inv->npkgs + 1, sizeof(size_t));
	b->cur_i = xcalloc(inv->nimages + 1, sizeof(size_t));
	for (size_t i = 0; i < inv->npkgs; i++)
		if (inv->pkgs[i].to == INV_OPEN)
			b->cur_p[b->ncur_p++] = i;
	for (size_t i = 0; i < inv->nimages; i++)
		if (inv->images[i].to == INV_OPEN)
			b->cur_i[b->ncur_i++] = i;
	qsort_spans = inv->pkgs;
	qsort(b->cur_p, b->ncur_p, sizeof(size_t), cur_qcmp);
	qsort_spans = inv->images;
	qsort(b->cur_i, b->ncur_i, sizeof(size_t), cur_qcmp);
}


/* Back to an empty index (the rewritten-history case). */
static void reset(struct builder *b)
{
	struct inventory *inv = b->inv;

	free(inv->pkgs), free(inv->images); /* their strings are inv->strings' */
	strings_free(inv->strings);
	inv->strings = NULL;
	for (size_t i = 0; i < inv->nevents; i++)
		free(inv->events[i].image), free(inv->events[i].arch), free(inv->events[i].digest),
			free(inv->events[i].reason);
	free(inv->events), free(inv->commits);
	inv->pkgs = inv->images = NULL, inv->events = NULL, inv->commits = NULL;
	inv->npkgs = inv->nimages = inv->nevents = inv->ncommits = 0;
	b->pk_alloc = b->im_alloc = b->ev_alloc = b->co_alloc = 0;
	free(b->cur_p), free(b->cur_i);
	b->cur_p = b->cur_i = NULL, b->ncur_p = b->ncur_i = 0;
	b->blob[0] = '\0';
}

void inventory_release(struct inventory *inv)
{
	struct builder b = { .inv = inv };

	reset(&b);
	free(inv->lock_rel), free(inv->idx_path), free(inv->warning);
	memset(inv, 0, sizeof(*inv));
}

/* ---- open -------------------------------------------------------------------------- */

int inventory_open(const char *lock_file, struct inventory *inv, perr *e)
{
	struct builder b = { .inv = inv };
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_oid head, tip, oid;
	char *abs = realpath(lock_file, NULL), *dir = NULL, *wd = NULL, *key_src = NULL;
	char key[SHA256_HEX_LEN + 1];
	bool have_head, have_tip = false;
	strvec roots = STRVEC_INIT;
	int ret = -1;

	memset(inv, 0, sizeof(*inv));
	if (!abs)
		return perr_errno(e, "%s", lock_file);
	pthread_once(&git_once, git_init);
	dir = path_dirname(abs);
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0 || git_repository_is_bare(repo)) {
		perr_set(e, "%s is not in a git repository: the inventory's history comes from its "
			    "git history (commit it, then ask again)", lock_file);
		goto out;
	}
	if (!(wd = realpath(git_repository_workdir(repo), NULL))) {
		perr_errno(e, "%s", git_repository_workdir(repo));
		goto out;
	}
	if (!str_starts(abs, wd) || abs[strlen(wd)] != '/') {
		perr_set(e, "%s is outside the work tree of its repository %s", lock_file, wd);
		goto out;
	}
	inv->lock_rel = xstrdup(abs + strlen(wd) + 1);
	key_src = xasprintf("%s\n%s", git_repository_path(repo), inv->lock_rel);
	sha256_hex(key_src, strlen(key_src), key);
	inv->idx_path = xasprintf("%s/inventory/%s.idx", pare_cache_dir(), key);

	have_head = git_reference_name_to_id(&head, repo, "HEAD") == 0;
	if (idx_read(&b) && git_oid_fromstr(&tip, inv->commits[inv->ncommits - 1].id) == 0) {
		git_commit *tc = NULL;

		/* still an ancestor of HEAD (or HEAD itself): only the new commits */
		have_tip = have_head && git_commit_lookup(&tc, repo, &tip) == 0 &&
			   (git_oid_equal(&tip, &head) || git_graph_descendant_of(repo, &head, &tip) == 1);
		git_commit_free(tc);
		if (have_tip)
			open_state(&b);
	}
	if (!have_tip)
		reset(&b);
	inv->how = have_tip ? "updated" : "built";
	if (have_head && !(have_tip && git_oid_equal(&tip, &head))) {
		if (git_revwalk_new(&walk, repo) < 0 ||
		    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
		    git_revwalk_push(walk, &head) < 0 || (have_tip && git_revwalk_hide(walk, &tip) < 0)) {
			git_fail(e, "HEAD");
			goto out;
		}
		git_revwalk_simplify_first_parent(walk);
		while (git_revwalk_next(&oid, walk) == 0) {
			if (add_commit(&b, repo, &oid, e) < 0)
				goto out;
			inv->new_commits++;
		}
		if (idx_write(&b, e) < 0)
			goto out;
	} else if (have_tip) {
		inv->how = "current";
	}
	debug("inventory: history index of %s %s (%zu new commit%s, %zu in all)", inv->lock_rel,
	      inv->how, inv->new_commits, inv->new_commits == 1 ? "" : "s", inv->ncommits);
	/* pare cache prune keeps the index while it is used */
	if (inv->ncommits) {
		char *rname = xasprintf("inventory-%s", key);
		int r;

		sv_pushf(&roots, "inventory/%s.idx", key);
		r = cache_roots_write(rname, &roots, e);
		free(rname);
		if (r < 0)
			goto out;
	}
	/* the answers are HEAD's: say so when the file differs from it */
	if (have_head) {
		git_oid wo;
		if (git_odb_hashfile(&wo, abs, GIT_OBJECT_BLOB) == 0 && strcmp(b.blob, "")) {
			char whex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(whex, sizeof(whex), &wo);
			if (strcmp(whex, b.blob))
				inv->warning = xasprintf("%s has changes not committed: the history "
							 "answers are as of HEAD", lock_file);
		}
	}
	ret = 0;
out:
	if (ret < 0)
		inventory_release(inv);
	free(b.cur_p), free(b.cur_i);
	sv_clear(&roots);
	git_revwalk_free(walk);
	git_repository_free(repo);
	free(abs), free(dir), free(wd), free(key_src);
	return ret;
}
