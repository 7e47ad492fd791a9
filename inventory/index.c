/* index.c - the history index: which (image, arch, package, version, source,
 * source version) recipes.lock held in which commits of the first-parent
 * history of HEAD, as intervals, and what the "pare update" commit messages
 * say (digests, change lines).  Read with libgit2 once, kept in the pare
 * cache as a binary file read in place (mmap; the format is described at "the
 * index file" below: string table, sorted lookup tables, a checksum), and
 * brought up to date from the indexed tip: only the commits after it are read, unless
 * the tip is no longer an ancestor of HEAD (history rewritten): then from
 * nothing.  A lock blob is read with cJSON for the few fields needed; a
 * commit whose lock does not parse is skipped with a warning (the history
 * cannot be fixed, the answers can still be given). */
#include "inventory.h"

#include <cjson/cJSON.h>
#include <git2.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_shutdown(void)
{
	git_libgit2_shutdown();
}

static void git_init(void)
{
	git_libgit2_init();
	/* each commit's lock blob is a delta against its neighbour in a pack,
	 * the base of the next one's chain: libgit2 caches no blobs by default,
	 * and reading each through its whole chain took five times as long
	 * (bench/inventory: 49 s of CPU).  A cache of a few blobs is all that
	 * takes; it was 512 MB, which kept most of the history's blobs alive:
	 * 600 MB peak RSS and 18 s of CPU (32 MB: 88 MB, 12 s) */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)64 << 20);
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)32 << 20);
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

/* The spans' strings, interned: a history repeats the same few thousand
 * images, names and versions in every interval, so each is stored once, in
 * blocks, behind a 4-byte slot for its offset in the index's string table
 * (set when the index is written).  Freed as a whole. */
struct strings {
	char **slot;
	size_t cap, n; /* open addressing, cap a power of two, at most half full */
	char **blocks;
	size_t nblocks, blocks_alloc;
	char *cur;
	size_t left;
};

/* A "pare update" event while building (its reason grows line by line). */
struct event {
	uint32_t commit;
	char *image, *arch, *digest, *reason;
};

struct builder {
	struct inventory *inv;
	struct inv_commit *commits;
	size_t ncommits, co_alloc;
	struct inv_span *pkgs, *images; /* pkgs in the order they opened */
	size_t npkgs, pk_alloc, nimages, im_alloc;
	struct event *events;
	size_t nevents, ev_alloc;
	struct strings str;
	/* the open spans, sorted by key: indexes into pkgs / images */
	size_t *cur_p, ncur_p, *cur_i, ncur_i;
	char blob[GIT_OID_HEXSZ + 1]; /* the lock blob at the tip ("" when none) */
};

static int span_row_cmp(const struct inv_span *s, const struct row *w)
{
	struct row k = { s->image, s->arch, s->name, NULL, NULL, NULL, NULL };

	return row_key_cmp(&k, w);
}

static size_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static const char *intern(struct strings *t, const char *s)
{
	size_t i, len;

	if (!s)
		return NULL;
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
	if (len + sizeof(uint32_t) > t->left) {
		size_t sz = len + sizeof(uint32_t) > 65536 ? len + sizeof(uint32_t) : 65536;

		ALLOC_GROW(t->blocks, t->nblocks + 1, t->blocks_alloc);
		t->cur = t->blocks[t->nblocks++] = xmalloc(sz);
		t->left = sz;
	}
	memset(t->cur, 0, sizeof(uint32_t));
	memcpy(t->cur + sizeof(uint32_t), s, len);
	t->slot[i] = t->cur + sizeof(uint32_t);
	t->cur += len + sizeof(uint32_t), t->left -= len + sizeof(uint32_t);
	t->n++;
	return t->slot[i];
}

/* The offset of an interned string in the string table being written. */
static uint32_t str_off(const char *s)
{
	uint32_t off;

	memcpy(&off, s - sizeof(off), sizeof(off));
	return off;
}

static void strings_release(struct strings *t)
{
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks), free(t->slot);
	memset(t, 0, sizeof(*t));
}

static size_t open_span(struct builder *b, bool pkg, const struct row *w, uint32_t c)
{
	struct strings *t = &b->str;

	if (pkg) {
		ALLOC_GROW(b->pkgs, b->npkgs + 1, b->pk_alloc);
		b->pkgs[b->npkgs] = (struct inv_span){ intern(t, w->image), intern(t, w->arch),
						       intern(t, w->name), intern(t, w->version),
						       intern(t, w->source), intern(t, w->source_version),
						       NULL, c, INV_OPEN };
		return b->npkgs++;
	}
	ALLOC_GROW(b->images, b->nimages + 1, b->im_alloc);
	b->images[b->nimages] = (struct inv_span){ intern(t, w->image), intern(t, w->arch),
						   .codename = intern(t, w->codename), .from = c,
						   .to = INV_OPEN };
	return b->nimages++;
}

/* Move the open spans (cur, ncur into spans) to the rows of commit c. */
static void merge(struct builder *b, bool pkg, const struct rows *rs, uint32_t c)
{
	size_t **curp = pkg ? &b->cur_p : &b->cur_i, *ncur = pkg ? &b->ncur_p : &b->ncur_i;
	size_t *cur = *curp, *next = xcalloc(rs->n + 1, sizeof(*next)), nn = 0, i = 0, j = 0;

	while (i < *ncur || j < rs->n) {
		struct inv_span *s = i < *ncur ? &(pkg ? b->pkgs : b->images)[cur[i]] : NULL;
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
	ALLOC_GROW(b->events, b->nevents + 1, b->ev_alloc);
	b->events[b->nevents++] = (struct event){ c, clean_line(image, ni),
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
	size_t first = b->nevents;

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
			struct event *ev = b->nevents > first ? &b->events[b->nevents - 1] : NULL;
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
	uint32_t c = (uint32_t)b->ncommits;
	int ret = -1;

	git_oid_tostr(chex, sizeof(chex), oid);
	if (git_commit_lookup(&cm, repo, oid) < 0 || git_commit_tree(&tree, cm) < 0) {
		git_fail(e, chex);
		goto out;
	}
	ALLOC_GROW(b->commits, b->ncommits + 1, b->co_alloc);
	memset(&b->commits[c], 0, sizeof(b->commits[c])); /* the padding is written too */
	memcpy(b->commits[c].id, chex, sizeof(chex));
	b->commits[c].time = (int64_t)git_commit_time(cm);
	b->ncommits++;
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

/* Back to an empty builder. */
static void builder_release(struct builder *b)
{
	for (size_t i = 0; i < b->nevents; i++)
		free(b->events[i].image), free(b->events[i].arch), free(b->events[i].digest),
			free(b->events[i].reason);
	free(b->events), free(b->commits), free(b->pkgs), free(b->images);
	free(b->cur_p), free(b->cur_i);
	strings_release(&b->str);
	*b = (struct builder){ .inv = b->inv };
}

/* ---- the index file ----------------------------------------------------------
 *
 * One file, read in place with mmap: a header, then sections at 8-aligned
 * offsets, all numbers in the byte order of the machine that wrote it (a
 * cache; another order reads as another format and is rebuilt):
 *
 *   strings    every string once, NUL-terminated, sorted (so comparing two
 *              offsets compares the strings); offset 0 is ""
 *   commits    struct inv_commit, oldest first
 *   images     struct rec_img: the image spans
 *   pkgs       struct rec_pkg: the package spans, in the order they opened
 *   events     struct rec_evt, by commit
 *   by_name    the pkgs' numbers sorted by (name, number)
 *   by_source  sorted by (source, number)
 *   by_image   sorted by (image, arch, number)
 *   sources    the offsets of the distinct source names, sorted
 *
 * The header holds the SHA-256 of everything after it, the file's size and
 * the format version; every offset and span is bounds-checked when the file
 * is opened, so a corrupt or truncated index (it lives in the cache) is
 * rebuilt, never misread. */

#define IDX_MAGIC "pare-inventory\n" /* 16 bytes with its NUL */
#define IDX_VERSION 2
#define IDX_BOM 0x01020304u
#define NO_STR UINT32_MAX

enum { SEC_STR, SEC_COMMIT, SEC_IMG, SEC_PKG, SEC_EVT, SEC_BYNAME, SEC_BYSRC, SEC_BYIMG, SEC_SRCS,
       NSEC };

struct rec_img {
	uint32_t image, arch, codename, from, to;
};

struct rec_pkg {
	uint32_t image, arch, name, version, source, source_version, from, to;
};

struct rec_evt {
	uint32_t commit, image, arch, digest, reason; /* arch NO_STR: the image index */
};

struct idx_header {
	char magic[16];
	uint32_t version, bom;
	uint64_t size;                /* the whole file */
	char sum[SHA256_HEX_LEN + 8]; /* SHA-256 of the bytes after the header */
	uint32_t lock_rel, blob;      /* string offsets: recipes.lock's path, its blob at the tip */
	uint32_t n[NSEC];             /* records (SEC_STR: bytes) */
	uint64_t off[NSEC];
};

static const size_t rec_size[NSEC] = {
	1, sizeof(struct inv_commit), sizeof(struct rec_img), sizeof(struct rec_pkg),
	sizeof(struct rec_evt), sizeof(uint32_t), sizeof(uint32_t), sizeof(uint32_t), sizeof(uint32_t),
};

struct inv_view {
	const unsigned char *base;
	size_t size;
	bool mapped;
	const struct idx_header *h;
	const char *str;
	const struct rec_img *img;
	const struct rec_pkg *pkg;
	const struct rec_evt *evt;
	const uint32_t *by[3], *srcs; /* by[enum inv_key] */
};

static const struct rec_pkg *qsort_pkgs;

static int by_name_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint32_t p = qsort_pkgs[x].name, q = qsort_pkgs[y].name;

	return p != q ? (p > q) - (p < q) : (x > y) - (x < y);
}

static int by_source_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint32_t p = qsort_pkgs[x].source, q = qsort_pkgs[y].source;

	return p != q ? (p > q) - (p < q) : (x > y) - (x < y);
}

static int by_image_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct rec_pkg *p = &qsort_pkgs[x], *q = &qsort_pkgs[y];

	if (p->image != q->image)
		return (p->image > q->image) - (p->image < q->image);
	if (p->arch != q->arch)
		return (p->arch > q->arch) - (p->arch < q->arch);
	return (x > y) - (x < y);
}

static int (*const by_cmp[3])(const void *, const void *) = { by_name_cmp, by_source_cmp,
							       by_image_cmp };

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static uint32_t to_u32(size_t n)
{
	if (n >= UINT32_MAX)
		die("inventory: the history index outgrew 32-bit numbers");
	return (uint32_t)n;
}

/* The index's bytes for b (a malloc'd buffer of *len bytes). */
static unsigned char *idx_build(struct builder *b, size_t *len)
{
	struct strings *t = &b->str;
	struct idx_header h = { .version = IDX_VERSION, .bom = IDX_BOM };
	const char **sorted;
	size_t nsorted = 0, pos, nsrcs = 0, strsize = 0;
	unsigned char *buf;
	uint32_t *srcs;

	/* every string the index holds: interned, then sorted into the table */
	intern(t, "");
	intern(t, b->inv->lock_rel);
	intern(t, b->blob);
	for (size_t i = 0; i < b->nevents; i++) {
		intern(t, b->events[i].image), intern(t, b->events[i].digest);
		intern(t, b->events[i].reason);
		if (b->events[i].arch)
			intern(t, b->events[i].arch);
	}
	sorted = xcalloc(t->n + 1, sizeof(*sorted));
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i])
			sorted[nsorted++] = t->slot[i];
	qsort(sorted, nsorted, sizeof(*sorted), strp_cmp);
	for (size_t i = 0; i < nsorted; i++) {
		uint32_t off = to_u32(strsize);

		memcpy((char *)sorted[i] - sizeof(off), &off, sizeof(off));
		strsize += strlen(sorted[i]) + 1;
	}
	memcpy(h.magic, IDX_MAGIC, sizeof(h.magic));
	h.lock_rel = str_off(intern(t, b->inv->lock_rel));
	h.blob = str_off(intern(t, b->blob));
	h.n[SEC_STR] = to_u32(strsize);
	h.n[SEC_COMMIT] = to_u32(b->ncommits);
	h.n[SEC_IMG] = to_u32(b->nimages);
	h.n[SEC_PKG] = to_u32(b->npkgs);
	h.n[SEC_EVT] = to_u32(b->nevents);
	h.n[SEC_BYNAME] = h.n[SEC_BYSRC] = h.n[SEC_BYIMG] = h.n[SEC_PKG];
	/* the distinct sources */
	srcs = xcalloc(b->npkgs + 1, sizeof(*srcs));
	for (size_t i = 0; i < b->npkgs; i++)
		srcs[i] = str_off(b->pkgs[i].source);
	qsort(srcs, b->npkgs, sizeof(*srcs), u32_cmp);
	for (size_t i = 0; i < b->npkgs; i++)
		if (!nsrcs || srcs[nsrcs - 1] != srcs[i])
			srcs[nsrcs++] = srcs[i];
	h.n[SEC_SRCS] = to_u32(nsrcs);
	pos = sizeof(h);
	for (int s = 0; s < NSEC; s++) {
		pos = (pos + 7) & ~(size_t)7;
		h.off[s] = pos;
		pos += h.n[s] * rec_size[s];
	}
	h.size = pos;
	buf = xcalloc(1, pos);
	/* the sections */
	for (size_t i = 0; i < nsorted; i++)
		memcpy(buf + h.off[SEC_STR] + str_off(sorted[i]), sorted[i], strlen(sorted[i]) + 1);
	memcpy(buf + h.off[SEC_COMMIT], b->commits, b->ncommits * sizeof(*b->commits));
	for (size_t i = 0; i < b->nimages; i++) {
		const struct inv_span *s = &b->images[i];
		struct rec_img r = { str_off(s->image), str_off(s->arch), str_off(s->codename),
				     s->from, s->to };

		memcpy(buf + h.off[SEC_IMG] + i * sizeof(r), &r, sizeof(r));
	}
	for (size_t i = 0; i < b->npkgs; i++) {
		const struct inv_span *s = &b->pkgs[i];
		struct rec_pkg r = { str_off(s->image), str_off(s->arch), str_off(s->name),
				     str_off(s->version), str_off(s->source),
				     str_off(s->source_version), s->from, s->to };

		memcpy(buf + h.off[SEC_PKG] + i * sizeof(r), &r, sizeof(r));
	}
	for (size_t i = 0; i < b->nevents; i++) {
		const struct event *v = &b->events[i];
		struct rec_evt r = { v->commit, str_off(intern(t, v->image)),
				     v->arch ? str_off(intern(t, v->arch)) : NO_STR,
				     str_off(intern(t, v->digest)), str_off(intern(t, v->reason)) };

		memcpy(buf + h.off[SEC_EVT] + i * sizeof(r), &r, sizeof(r));
	}
	qsort_pkgs = (const struct rec_pkg *)(buf + h.off[SEC_PKG]);
	for (int k = 0; k < 3; k++) {
		uint32_t *ids = (uint32_t *)(buf + h.off[SEC_BYNAME + k]);

		for (size_t i = 0; i < b->npkgs; i++)
			ids[i] = (uint32_t)i;
		qsort(ids, b->npkgs, sizeof(*ids), by_cmp[k]);
	}
	memcpy(buf + h.off[SEC_SRCS], srcs, nsrcs * sizeof(*srcs));
	sha256_hex(buf + sizeof(h), h.size - sizeof(h), h.sum);
	memcpy(buf, &h, sizeof(h));
	free(srcs);
	free(sorted);
	*len = h.size;
	return buf;
}

/* Is o the offset of a string of the table (not the middle of one)? */
#define IS_STR(o) ((o) < nstr && (start[(o) >> 3] >> ((o) & 7) & 1))

static const char *view_check_records(struct inv_view *v, const struct idx_header *hp,
				      const unsigned char *start)
{
	const struct idx_header h = *hp;
	uint32_t nstr = h.n[SEC_STR], nc = h.n[SEC_COMMIT];

	if (!IS_STR(h.lock_rel) || !IS_STR(h.blob))
		return "a bad string table";
	for (uint32_t i = 0; i < nc; i++) {
		const struct inv_commit *c = (const struct inv_commit *)(v->base + h.off[SEC_COMMIT]) + i;

		if (c->id[GIT_OID_HEXSZ] || strspn(c->id, "0123456789abcdef") != GIT_OID_HEXSZ)
			return "a bad commit";
	}
#define SPAN_OK(r) ((r)->from < nc && ((r)->to == INV_OPEN || ((r)->to < nc && (r)->to > (r)->from)))
	for (uint32_t i = 0; i < h.n[SEC_IMG]; i++) {
		const struct rec_img *r = &v->img[i];

		if (!IS_STR(r->image) || !IS_STR(r->arch) || !IS_STR(r->codename) || !SPAN_OK(r))
			return "a bad image span";
	}
	for (uint32_t i = 0; i < h.n[SEC_PKG]; i++) {
		const struct rec_pkg *r = &v->pkg[i];

		if (!IS_STR(r->image) || !IS_STR(r->arch) || !IS_STR(r->name) || !IS_STR(r->version) ||
		    !IS_STR(r->source) || !IS_STR(r->source_version) || !SPAN_OK(r) ||
		    !bsearch(&r->source, v->srcs, h.n[SEC_SRCS], sizeof(*v->srcs), u32_cmp))
			return "a bad package span";
	}
#undef SPAN_OK
	for (uint32_t i = 0; i < h.n[SEC_EVT]; i++) {
		const struct rec_evt *r = &v->evt[i];

		if (r->commit >= nc || !IS_STR(r->image) || (r->arch != NO_STR && !IS_STR(r->arch)) ||
		    !IS_STR(r->digest) || !IS_STR(r->reason) || (i && r->commit < v->evt[i - 1].commit))
			return "a bad event";
	}
	qsort_pkgs = v->pkg;
	for (int k = 0; k < 3; k++)
		for (uint32_t i = 0; i < h.n[SEC_PKG]; i++)
			if (v->by[k][i] >= h.n[SEC_PKG] ||
			    (i && by_cmp[k](&v->by[k][i - 1], &v->by[k][i]) >= 0))
				return "a bad lookup table";
	return NULL;
}

/* Check the index in v->base (v->size bytes) and point v's tables into it;
 * NULL, or why it does not check.  Past the checksum (a crash, a full disk,
 * another process), every invariant a question relies on is checked too, so
 * even bytes with a right checksum are never misread: offsets in bounds and
 * at the start of a string, the strings sorted and unique (an offset's
 * order is its string's), the lookup tables sorted, every source listed. */
static const char *view_check(struct inv_view *v, bool check_sum)
{
	struct idx_header h;
	uint32_t nstr;
	char sum[SHA256_HEX_LEN + 1];
	unsigned char *start;
	const char *why = NULL, *prev = NULL;

	if (v->size < sizeof(h))
		return "shorter than its header";
	memcpy(&h, v->base, sizeof(h));
	if (memcmp(h.magic, IDX_MAGIC, sizeof(h.magic)))
		return "not a history index of this format";
	if (h.version != IDX_VERSION || h.bom != IDX_BOM)
		return "another format version";
	if (h.size != v->size)
		return "truncated or extended";
	if (check_sum) {
		sha256_hex(v->base + sizeof(h), v->size - sizeof(h), sum);
		if (memcmp(sum, h.sum, SHA256_HEX_LEN))
			return "checksum mismatch";
	}
	for (int s = 0; s < NSEC; s++)
		if (h.off[s] % 8 || h.off[s] < sizeof(h) || h.off[s] > v->size ||
		    h.n[s] > (v->size - h.off[s]) / rec_size[s])
			return "a section out of bounds";
	v->h = (const struct idx_header *)v->base;
	v->str = (const char *)v->base + h.off[SEC_STR];
	v->img = (const struct rec_img *)(v->base + h.off[SEC_IMG]);
	v->pkg = (const struct rec_pkg *)(v->base + h.off[SEC_PKG]);
	v->evt = (const struct rec_evt *)(v->base + h.off[SEC_EVT]);
	for (int k = 0; k < 3; k++)
		v->by[k] = (const uint32_t *)(v->base + h.off[SEC_BYNAME + k]);
	v->srcs = (const uint32_t *)(v->base + h.off[SEC_SRCS]);
	nstr = h.n[SEC_STR];
	if (!nstr || v->str[nstr - 1])
		return "a bad string table";
	if (!h.n[SEC_COMMIT])
		return "no commits";
	if (h.n[SEC_BYNAME] != h.n[SEC_PKG] || h.n[SEC_BYSRC] != h.n[SEC_PKG] ||
	    h.n[SEC_BYIMG] != h.n[SEC_PKG])
		return "a bad lookup table";
	start = xcalloc(nstr / 8 + 1, 1);
	for (uint32_t o = 0; o < nstr; o += (uint32_t)strlen(v->str + o) + 1) {
		if (prev && strcmp(prev, v->str + o) >= 0) {
			why = "a bad string table";
			goto out;
		}
		prev = v->str + o;
		start[o >> 3] |= (unsigned char)(1u << (o & 7));
	}
	for (uint32_t i = 0; i < h.n[SEC_SRCS]; i++)
		if (!IS_STR(v->srcs[i]) || (i && v->srcs[i] <= v->srcs[i - 1])) {
			why = "a bad source table";
			goto out;
		}
	why = view_check_records(v, &h, start);
out:
	free(start);
	return why;
}

static void view_free(struct inv_view *v)
{
	if (!v)
		return;
	if (v->mapped)
		munmap((void *)v->base, v->size);
	else
		free((void *)v->base);
	free(v);
}

/* inv's counts and commits from its view. */
static void view_attach(struct inventory *inv, struct inv_view *v)
{
	inv->view = v;
	inv->commits = (const struct inv_commit *)(v->base + v->h->off[SEC_COMMIT]);
	inv->ncommits = v->h->n[SEC_COMMIT];
	inv->nimages = v->h->n[SEC_IMG];
	inv->npkgs = v->h->n[SEC_PKG];
	inv->nevents = v->h->n[SEC_EVT];
	inv->nsources = v->h->n[SEC_SRCS];
}

/* The index at inv->idx_path, mapped and checked; NULL when absent or not
 * this version's intact index (then it is built from nothing). */
static struct inv_view *view_open(const struct inventory *inv)
{
	struct inv_view *v = NULL;
	struct stat st;
	const char *why = NULL;
	void *p;
	int fd = open(inv->idx_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SIZE_MAX) {
		why = "not a regular file";
	} else if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		why = strerror(errno);
	} else {
		v = xcalloc(1, sizeof(*v));
		v->base = p, v->size = (size_t)st.st_size, v->mapped = true;
		if ((why = view_check(v, true)) ||
		    strcmp(v->str + v->h->lock_rel, inv->lock_rel)) {
			why = why ? why : "another lock file's";
			view_free(v);
			v = NULL;
		}
	}
	close(fd);
	if (why)
		debug("inventory: %s: %s: built again", inv->idx_path, why);
	return v;
}

int inventory_index_load(const void *buf, size_t n, bool check_sum, struct inventory *inv, perr *e)
{
	struct inv_view *v = xcalloc(1, sizeof(*v));
	unsigned char *copy = xmalloc(n ? n : 1);
	const char *why;

	memset(inv, 0, sizeof(*inv));
	memcpy(copy, buf, n);
	v->base = copy, v->size = n;
	if ((why = view_check(v, check_sum))) {
		view_free(v);
		return perr_set(e, "history index: %s", why);
	}
	view_attach(inv, v);
	inv->lock_rel = xstrdup(v->str + v->h->lock_rel);
	inv->how = "current";
	return 0;
}

/* ---- reading ------------------------------------------------------------------- */

void inventory_pkg(const struct inventory *inv, uint32_t i, struct inv_span *s)
{
	const struct inv_view *v = inv->view;
	const struct rec_pkg *r = &v->pkg[i];

	*s = (struct inv_span){ v->str + r->image, v->str + r->arch, v->str + r->name,
				v->str + r->version, v->str + r->source, v->str + r->source_version,
				NULL, r->from, r->to };
}

void inventory_image(const struct inventory *inv, uint32_t i, struct inv_span *s)
{
	const struct inv_view *v = inv->view;
	const struct rec_img *r = &v->img[i];

	*s = (struct inv_span){ v->str + r->image, v->str + r->arch, .codename = v->str + r->codename,
				.from = r->from, .to = r->to };
}

void inventory_event(const struct inventory *inv, uint32_t i, struct inv_event *ev)
{
	const struct inv_view *v = inv->view;
	const struct rec_evt *r = &v->evt[i];

	*ev = (struct inv_event){ r->commit, v->str + r->image,
				  r->arch == NO_STR ? NULL : v->str + r->arch, v->str + r->digest,
				  v->str + r->reason };
}

const char *inventory_source(const struct inventory *inv, size_t i)
{
	return inv->view->str + inv->view->srcs[i];
}

/* key against package span p in table k: <0, 0, >0 */
static int key_cmp(const struct inv_view *v, enum inv_key k, const char *key, const char *arch,
		   const struct rec_pkg *p)
{
	int c;

	if (k == INV_BY_NAME)
		return strcmp(key, v->str + p->name);
	if (k == INV_BY_SOURCE)
		return strcmp(key, v->str + p->source);
	c = strcmp(key, v->str + p->image);
	return c ? c : strcmp(arch, v->str + p->arch);
}

size_t inventory_find(const struct inventory *inv, enum inv_key k, const char *key,
		      const char *arch, const uint32_t **ids)
{
	const struct inv_view *v = inv->view;
	const uint32_t *t;
	size_t lo = 0, hi = inv->npkgs, first;

	*ids = NULL;
	if (!v)
		return 0;
	t = v->by[k];
	while (lo < hi) { /* the first not below key */
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(v, k, key, arch, &v->pkg[t[mid]]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo, hi = inv->npkgs;
	while (lo < hi) { /* the first above it */
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(v, k, key, arch, &v->pkg[t[mid]]) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ids = t + first;
	return lo - first;
}

/* b's state from the index it brings up to date (v, checked). */
static void builder_load(struct builder *b, const struct inv_view *v)
{
	const struct inventory *inv = b->inv;
	size_t k;

	b->ncommits = b->co_alloc = inv->ncommits;
	b->commits = xcalloc(b->ncommits, sizeof(*b->commits));
	memcpy(b->commits, inv->commits, b->ncommits * sizeof(*b->commits));
	for (uint32_t i = 0; i < inv->nimages; i++) {
		struct inv_span s;
		struct row w;

		inventory_image(inv, i, &s);
		w = (struct row){ s.image, s.arch, .codename = s.codename };
		k = open_span(b, false, &w, s.from); /* it may move b->images */
		b->images[k].to = s.to;
	}
	for (uint32_t i = 0; i < inv->npkgs; i++) {
		struct inv_span s;
		struct row w;

		inventory_pkg(inv, i, &s);
		w = (struct row){ s.image, s.arch, s.name, s.version, s.source, s.source_version, NULL };
		k = open_span(b, true, &w, s.from);
		b->pkgs[k].to = s.to;
	}
	for (uint32_t i = 0; i < inv->nevents; i++) {
		struct inv_event ev;

		inventory_event(inv, i, &ev);
		ALLOC_GROW(b->events, b->nevents + 1, b->ev_alloc);
		b->events[b->nevents++] = (struct event){ ev.commit, xstrdup(ev.image),
							  ev.arch ? xstrdup(ev.arch) : NULL,
							  xstrdup(ev.digest), xstrdup(ev.reason) };
	}
	snprintf(b->blob, sizeof(b->blob), "%s", v->str + v->h->blob);
}

static const struct inv_span *qsort_spans;

static int cur_qcmp(const void *a, const void *b)
{
	const struct inv_span *x = &qsort_spans[*(const size_t *)a];
	const struct inv_span *y = &qsort_spans[*(const size_t *)b];
	struct row k = { y->image, y->arch, y->name, NULL, NULL, NULL, NULL };

	return span_row_cmp(x, &k);
}

/* The open spans of a loaded index, sorted by key, as the builder's state. */
static void open_state(struct builder *b)
{
	b->cur_p = xcalloc(b->npkgs + 1, sizeof(size_t));
	b->cur_i = xcalloc(b->nimages + 1, sizeof(size_t));
	for (size_t i = 0; i < b->npkgs; i++)
		if (b->pkgs[i].to == INV_OPEN)
			b->cur_p[b->ncur_p++] = i;
	for (size_t i = 0; i < b->nimages; i++)
		if (b->images[i].to == INV_OPEN)
			b->cur_i[b->ncur_i++] = i;
	qsort_spans = b->pkgs;
	qsort(b->cur_p, b->ncur_p, sizeof(size_t), cur_qcmp);
	qsort_spans = b->images;
	qsort(b->cur_i, b->ncur_i, sizeof(size_t), cur_qcmp);
}

void inventory_release(struct inventory *inv)
{
	view_free(inv->view);
	free(inv->lock_rel), free(inv->idx_path), free(inv->warning);
	memset(inv, 0, sizeof(*inv));
}

/* ---- open -------------------------------------------------------------------------- */

int inventory_open(const char *lock_file, struct inventory *inv, perr *e)
{
	struct builder b = { .inv = inv };
	struct inv_view *v = NULL;
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_oid head, tip, oid;
	char *abs = realpath(lock_file, NULL), *dir = NULL, *wd = NULL, *key_src = NULL;
	char key[SHA256_HEX_LEN + 1], blob[GIT_OID_HEXSZ + 1] = "";
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
	if ((v = view_open(inv))) {
		git_commit *tc = NULL;

		view_attach(inv, v);
		/* still an ancestor of HEAD (or HEAD itself): only the new commits */
		have_tip = have_head && git_oid_fromstr(&tip, inv->commits[inv->ncommits - 1].id) == 0 &&
			   (git_oid_equal(&tip, &head) ||
			    (git_commit_lookup(&tc, repo, &tip) == 0 &&
			     git_graph_descendant_of(repo, &head, &tip) == 1));
		git_commit_free(tc);
		snprintf(blob, sizeof(blob), "%s", v->str + v->h->blob);
	}
	inv->how = have_tip ? "updated" : "built";
	if (have_head && !(have_tip && git_oid_equal(&tip, &head))) {
		unsigned char *buf;
		size_t len;

		if (have_tip) {
			builder_load(&b, v);
			open_state(&b);
		}
		inv->view = NULL;
		view_free(v);
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
		buf = idx_build(&b, &len);
		memcpy(blob, b.blob, sizeof(blob));
		builder_release(&b);
		v = xcalloc(1, sizeof(*v));
		v->base = buf, v->size = len;
		if (view_check(v, false))
			die("inventory: the history index written does not check");
		view_attach(inv, v);
		{
			char *idir = path_dirname(inv->idx_path);
			int r = mkdir_p(idir, 0755, e) < 0 ||
				write_file_atomic(inv->idx_path, buf, len, 0644, e) < 0 ? -1 : 0;

			free(idir);
			if (r < 0)
				goto out;
		}
	} else if (have_tip) {
		inv->how = "current";
	} else if (v) {
		inv->view = NULL; /* no HEAD: no history */
		view_free(v);
		inv->commits = NULL;
		inv->ncommits = inv->npkgs = inv->nimages = inv->nevents = inv->nsources = 0;
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
	if (have_head && *blob) {
		git_oid wo;
		if (git_odb_hashfile(&wo, abs, GIT_OBJECT_BLOB) == 0) {
			char whex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(whex, sizeof(whex), &wo);
			if (strcmp(whex, blob))
				inv->warning = xasprintf("%s has changes not committed: the history "
							 "answers are as of HEAD", lock_file);
		}
	}
	ret = 0;
out:
	if (ret < 0)
		inventory_release(inv);
	builder_release(&b);
	sv_clear(&roots);
	git_revwalk_free(walk);
	git_repository_free(repo);
	free(abs), free(dir), free(wd), free(key_src);
	return ret;
}
