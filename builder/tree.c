/*
 * tree.c - the in-memory image tree (one architecture's root filesystem).
 *
 * Entries are kept in insertion order with an open-addressing index from
 * path to the live entry.  Overlap rules live here because they are about
 * what is already in the tree: directories may be shared, a regular file may
 * only be taken over by a package whose Replaces: names the previous owner.
 */
#define _GNU_SOURCE /* O_TMPFILE, mkostemp */
#include "builder_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct image_tree *tree_new(void)
{
	struct image_tree *t = xcalloc(1, sizeof(*t));

	t->nslots = 1024;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	t->npslots = 1024;
	t->pslots = xcalloc(t->npslots, sizeof(*t->pslots));
	return t;
}

struct spill {
	int fd;
	atomic_int refs; /* entries are freed on layer writer threads */
};

struct spill *spill_new(perr *e)
{
	char *dir = path_join(pare_cache_dir(), "blobs/sha256"), *tmp = NULL;
	struct spill *s = NULL;
	int fd = -1;

	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	/* No name at all where the file system can (nothing to clean up
	 * after a crash); else a name unlinked at once, registered for the
	 * signal handler in between (and pid-named for pare cache prune). */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		int slot;

		tmp = xasprintf("%s/.tmp.%d.spill.XXXXXX", dir, (int)getpid());
		slot = tmp_register(tmp);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmp);
		tmp_unregister(slot);
	}
	if (fd < 0) {
		perr_errno(e, "cannot create a temporary file in %s", dir);
		goto out;
	}
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	atomic_init(&s->refs, 1);
out:
	free(dir);
	free(tmp);
	return s;
}

struct spill *spill_ref(struct spill *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void spill_unref(struct spill *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	close(s->fd);
	free(s);
}

int spill_fd(const struct spill *s)
{
	return s->fd;
}

int spill_read(const struct spill *s, void *buf, size_t n, uint64_t off)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t r = pread(s->fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int spill_write(struct spill *s, const void *buf, size_t n, uint64_t off)
{
	const unsigned char *p = buf;

	while (n) {
		ssize_t r = pwrite(s->fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ENOSPC;
			return -1;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

void tree_entry_drop_content(struct tree_entry *ent)
{
	free(ent->data);
	ent->data = NULL;
	spill_unref(ent->spill);
	ent->spill = NULL;
}

void tree_entry_free(struct tree_entry *ent)
{
	if (!ent)
		return;
	free(ent->path);
	tree_entry_drop_content(ent);
	free(ent->target);
	free(ent->soname);
	free(ent->needed);
	free(ent->runpath);
	free(ent->interp);
	free(ent);
}

bool tree_stripped_wanted(const char *path, bool is_file, bool *keep_data)
{
	const char *base = path_basename(path);

	*keep_data = is_file && layer_keeps_content(path) && str_ends(path, ".crt");
	return *keep_data || strstr(base, ".so") != NULL;
}

void tree_add_stripped(struct image_tree *t, const char *path, const char *rule, int pkg,
		       unsigned char *data, uint64_t size)
{
	struct tree_stripped *s;

	ALLOC_GROW(t->stripped, t->nstripped + 1, t->stripped_alloc);
	s = &t->stripped[t->nstripped++];
	s->path = xstrdup(path);
	s->rule = xstrdup(rule);
	s->pkg = pkg;
	s->data = data;
	s->size = size;
}

void deb_pkg_release(struct deb_pkg *p)
{
	deb_id_release(&p->id);
	free(p->maintainer);
	free(p->homepage);
	free(p->control);
	free(p->md5sums);
	free(p->copyright);
	free(p->doc_link);
	free(p->os_release);
	sv_clear(&p->replaces);
	sv_clear(&p->provides);
	memset(p, 0, sizeof(*p));
}

/* ---- a package's control paragraph (deb.c reads it from the .deb,
 * layercache.c from a layer record) ---- */

/* Value of field (any case), NULL when absent: a new string. */
static char *control_field(const struct deb822_stanza *s, const char *field)
{
	const char *v = deb822_value(s, field);

	return v ? xstrdup(v) : NULL;
}

/* "a (>= 1), b:any | c" -> names a, b, c. */
static void relation_names(const char *v, strvec *out)
{
	strvec parts = STRVEC_INIT;

	if (!v)
		return;
	sv_split(&parts, v, ",|");
	for (size_t i = 0; i < parts.n; i++) {
		char *s = str_trim(parts.v[i]);
		size_t n = strcspn(s, " \t\n(:[");

		if (n)
			sv_push_nodup(out, xstrndup(s, n));
	}
	sv_clear(&parts);
}

int deb_parse_control(struct deb_pkg *p, const char *control, perr *e)
{
	/* one paragraph; the first of a field given twice counts */
	struct deb822_stanza st;
	int ret = -1;

	if (deb822_parse_one("control", control, DEB822_SKIP_JUNK, &st, e) < 0)
		goto out;
	p->name = control_field(&st, "Package");
	p->version = control_field(&st, "Version");
	p->arch = control_field(&st, "Architecture");
	if (!p->name || !p->version || !p->arch) {
		perr_set(e, "control file lacks Package, Version or Architecture");
		goto out;
	}
	p->maintainer = control_field(&st, "Maintainer");
	p->homepage = control_field(&st, "Homepage");
	relation_names(deb822_value(&st, "Replaces"), &p->replaces);
	relation_names(deb822_value(&st, "Provides"), &p->provides);
	ret = 0;
out:
	deb822_stanza_release(&st);
	return ret;
}

/* Contents generate.c reads (the CA bundle, ld.so.conf.d): kept in memory
 * after their layer is written, and stored in the layer record. */
bool layer_keeps_content(const char *path)
{
	return str_starts(path, "/usr/share/ca-certificates/") ||
	       str_starts(path, "/etc/ld.so.conf.d/");
}

void tree_free(struct image_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		tree_entry_free(t->ents[i]);
	for (size_t i = 0; i < t->npkgs; i++)
		deb_pkg_release(&t->pkgs[i]);
	free(t->ents);
	free(t->slots);
	for (size_t i = 0; i < t->npslots; i++)
		free(t->pslots[i]);
	free(t->pslots);
	free(t->pkgs);
	for (size_t i = 0; i < t->nstripped; i++) {
		free(t->stripped[i].path);
		free(t->stripped[i].rule);
		free(t->stripped[i].data);
	}
	free(t->stripped);
	free(t);
}

/* Slot holding path (its index + 1) or the empty slot where it would go. */
static size_t *find_slot(const struct image_tree *t, const char *path)
{
	size_t mask = t->nslots - 1, i = hash_path(path) & mask;

	while (t->slots[i] && strcmp(t->ents[t->slots[i] - 1]->path, path))
		i = (i + 1) & mask;
	return &t->slots[i];
}

static void rehash(struct image_tree *t)
{
	size_t *old = t->slots, nold = t->nslots;

	t->nslots *= 2;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	for (size_t i = 0; i < nold; i++)
		if (old[i])
			*find_slot(t, t->ents[old[i] - 1]->path) = old[i];
	free(old);
}

/* The parent set: every directory some entry lives below, shipped or not,
 * so a later non-directory cannot take the place of an implicit parent. */
static char **find_pslot(char **slots, size_t nslots, const char *path)
{
	size_t mask = nslots - 1, i = hash_path(path) & mask;

	while (slots[i] && strcmp(slots[i], path))
		i = (i + 1) & mask;
	return &slots[i];
}

static bool is_parent(const struct image_tree *t, const char *path)
{
	return *find_pslot(t->pslots, t->npslots, path) != NULL;
}

static void add_parents(struct image_tree *t, const char *path)
{
	/* deepest first, up to one already in the set: so are the ones above
	 * it (each path's parents cost its new directories, not its depth) */
	for (size_t k = strlen(path); k-- > 1;) {
		char *dir;
		char **s;

		if (path[k] != '/')
			continue;
		dir = xstrndup(path, k);
		s = find_pslot(t->pslots, t->npslots, dir);
		if (*s) {
			free(dir);
			break;
		}
		*s = dir;
		if (++t->npar * 2 > t->npslots) {
			char **old = t->pslots;
			size_t nold = t->npslots;

			t->npslots *= 2;
			t->pslots = xcalloc(t->npslots, sizeof(*t->pslots));
			for (size_t i = 0; i < nold; i++)
				if (old[i])
					*find_pslot(t->pslots, t->npslots, old[i]) = old[i];
			free(old);
		}
	}
}

struct tree_entry *tree_get(const struct image_tree *t, const char *path)
{
	size_t *s = find_slot(t, path);

	return *s ? t->ents[*s - 1] : NULL;
}

/* Append ent; when index is true it becomes the live entry for its path. */
static void append(struct image_tree *t, struct tree_entry *ent, bool index)
{
	ALLOC_GROW(t->ents, t->n + 1, t->alloc);
	t->ents[t->n++] = ent;
	add_parents(t, ent->path);
	if (!index)
		return;
	if (t->n * 2 > t->nslots)
		rehash(t);
	*find_slot(t, ent->path) = t->n;
}

static const char *type_name(enum tree_type ty)
{
	switch (ty) {
	case TREE_FILE: return "file";
	case TREE_DIR: return "directory";
	case TREE_SYMLINK: return "symlink";
	case TREE_HARDLINK: return "hard link";
	}
	return "?";
}

static const char *owner(const struct image_tree *t, const struct tree_entry *ent)
{
	return ent->pkg >= 0 ? t->pkgs[ent->pkg].name : "pare";
}

/* True when package a declares Replaces: on b (by name or a virtual name b provides). */
static bool replaces(const struct image_tree *t, int a, int b)
{
	const struct deb_pkg *pa = &t->pkgs[a], *pb = &t->pkgs[b];

	if (sv_contains(&pa->replaces, pb->name))
		return true;
	for (size_t i = 0; i < pb->provides.n; i++)
		if (sv_contains(&pa->replaces, pb->provides.v[i]))
			return true;
	return false;
}

int tree_insert(struct image_tree *t, struct tree_entry *ent, perr *e)
{
	struct tree_entry *old;
	const char *who = owner(t, ent);

	/* Every parent must be a directory: a symlink would let the entry be
	 * written somewhere else than its name says. */
	for (char *p = strchr(ent->path + 1, '/'); p; p = strchr(p + 1, '/')) {
		struct tree_entry *par;

		*p = '\0';
		par = tree_get(t, ent->path);
		if (par && par->type == TREE_SYMLINK) {
			perr_set(e, "%s: refusing %s/%s: written through a symlink (%s -> %s, from %s)",
				 who, ent->path, p + 1, ent->path, par->target, owner(t, par));
			*p = '/';
			goto fail;
		}
		if (par && par->type != TREE_DIR) {
			perr_set(e, "%s: refusing %s/%s: parent %s is a %s (from %s)", who,
				 ent->path, p + 1, ent->path, type_name(par->type), owner(t, par));
			*p = '/';
			goto fail;
		}
		*p = '/';
	}
	if (ent->type != TREE_DIR && is_parent(t, ent->path)) {
		perr_set(e, "%s: refusing %s: a %s where other entries need a directory", who,
			 ent->path, type_name(ent->type));
		goto fail;
	}
	old = tree_get(t, ent->path);
	if (!old) {
		append(t, ent, true);
		return 0;
	}
	if (ent->pkg < 0) {
		/* Generated content lands in the top layer and wins, but it
		 * cannot turn a package directory into something else. */
		if (old->type == TREE_DIR && ent->type != TREE_DIR) {
			perr_set(e, "pare: cannot create %s %s: %s ships a directory there",
				 type_name(ent->type), ent->path, owner(t, old));
			goto fail;
		}
		old->removed = true;
		append(t, ent, true);
		return 0;
	}
	if (old->type == TREE_DIR && ent->type == TREE_DIR) {
		/* Shared directories are normal; each layer keeps its own
		 * copy so an upper layer does not reset the mode. */
		append(t, ent, false);
		return 0;
	}
	if (old->type == TREE_DIR || ent->type == TREE_DIR) {
		perr_set(e, "%s is a %s in %s and a %s in %s", ent->path,
			 type_name(old->type), owner(t, old), type_name(ent->type), who);
		goto fail;
	}
	if (old->pkg < 0) {
		perr_set(e, "%s: %s is already generated by pare", who, ent->path);
		goto fail;
	}
	if (old->type == TREE_SYMLINK && ent->type == TREE_SYMLINK &&
	    !strcmp(old->target, ent->target)) {
		/* Identical symlinks (common after the merged-/usr rewrite). */
		if (old->layer == ent->layer) {
			tree_entry_free(ent);
		} else {
			append(t, ent, false);
		}
		return 0;
	}
	if (old->pkg == ent->pkg) {
		perr_set(e, "%s: %s appears twice in the package", who, ent->path);
		goto fail;
	}
	if (replaces(t, ent->pkg, old->pkg)) {
		old->removed = true;
		append(t, ent, true);
		return 0;
	}
	if (replaces(t, old->pkg, ent->pkg)) {
		if (old->layer != ent->layer) {
			/* The loser is in a later layer, which would win in
			 * the overlay: layers would have to depend on each other. */
			perr_set(e, "%s is shipped by both %s and %s (%s replaces %s but is in an "
				 "earlier layer)", ent->path, owner(t, old), who, owner(t, old), who);
			goto fail;
		}
		tree_entry_free(ent);
		return 0;
	}
	perr_set(e, "%s is shipped by both %s and %s (no Replaces)", ent->path,
		 owner(t, old), who);
fail:
	tree_entry_free(ent);
	return -1;
}

static struct tree_entry *gen_entry(const char *path, enum tree_type ty, uint32_t mode,
				    uint32_t uid, uint32_t gid, perr *e)
{
	struct tree_entry *ent;
	char *norm;

	if (policy_norm_abs(path, &norm, e) < 0)
		return NULL;
	ent = xcalloc(1, sizeof(*ent));
	ent->path = norm;
	ent->type = ty;
	ent->mode = mode & 07777;
	ent->uid = uid;
	ent->gid = gid;
	ent->pkg = -1;
	ent->layer = -1;
	ent->mtime = INT64_MAX; /* clamped to SOURCE_DATE_EPOCH when written */
	return ent;
}

static void hash_content(struct tree_entry *ent)
{
	phash *h = phash_new("sha1");

	sha256_hex(ent->data ? (const void *)ent->data : "", ent->size, ent->sha256);
	phash_update(h, ent->data ? (const void *)ent->data : "", ent->size);
	phash_final_hex(h, ent->sha1);
}

int tree_add_file(struct image_tree *t, const char *path, const void *data,
		  size_t len, uint32_t mode, uint32_t uid, uint32_t gid, perr *e)
{
	struct tree_entry *ent = gen_entry(path, TREE_FILE, mode, uid, gid, e);

	if (!ent)
		return -1;
	ent->size = len;
	ent->data = xmalloc(len ? len : 1);
	if (len)
		memcpy(ent->data, data, len);
	hash_content(ent);
	return tree_insert(t, ent, e);
}

int tree_add_dir(struct image_tree *t, const char *path, uint32_t mode,
		 uint32_t uid, uint32_t gid, perr *e)
{
	struct tree_entry *ent = gen_entry(path, TREE_DIR, mode, uid, gid, e);

	return ent ? tree_insert(t, ent, e) : -1;
}

int tree_add_symlink(struct image_tree *t, const char *path,
		     const char *target, perr *e)
{
	struct tree_entry *ent = gen_entry(path, TREE_SYMLINK, 0777, 0, 0, e);

	if (!ent)
		return -1;
	if (policy_symlink_target(ent->path, target, &ent->target, e) < 0) {
		perr_prefix(e, "pare: %s", ent->path);
		tree_entry_free(ent);
		return -1;
	}
	return tree_insert(t, ent, e);
}

int tree_chmod(struct image_tree *t, const char *path, uint32_t mode,
	       uint32_t uid, uint32_t gid, perr *e)
{
	struct tree_entry *old = tree_get(t, path), *ent;

	if (!old)
		return perr_set(e, "cannot change %s: no such path in the image", path);
	if (old->pkg < 0) {
		old->mode = mode & 07777;
		old->uid = uid;
		old->gid = gid;
		return 0;
	}
	if ((old->type == TREE_FILE || old->type == TREE_HARDLINK) && !old->data && !old->spill)
		return perr_set(e, "cannot change %s: its content is no longer loaded", path);
	ent = xcalloc(1, sizeof(*ent));
	*ent = *old;
	ent->path = xstrdup(old->path);
	ent->target = old->target ? xstrdup(old->target) : NULL;
	ent->soname = old->soname ? xstrdup(old->soname) : NULL;
	ent->needed = old->needed ? xstrdup(old->needed) : NULL;
	ent->runpath = old->runpath ? xstrdup(old->runpath) : NULL;
	ent->interp = old->interp ? xstrdup(old->interp) : NULL;
	if (ent->type == TREE_HARDLINK)
		ent->type = TREE_FILE;
	if (old->data) {
		ent->data = xmalloc(old->size ? old->size : 1);
		memcpy(ent->data, old->data, old->size);
	}
	if (old->spill)
		ent->spill = spill_ref(old->spill);
	ent->mode = mode & 07777;
	ent->uid = uid;
	ent->gid = gid;
	ent->pkg = -1;
	ent->layer = -1;
	ent->removed = false;
	old->removed = true;
	append(t, ent, true);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct tree_entry *x = *(struct tree_entry *const *)a;
	const struct tree_entry *y = *(struct tree_entry *const *)b;

	return strcmp(x->path, y->path);
}

struct tree_entry **tree_sorted(const struct image_tree *t, size_t *n)
{
	struct tree_entry **v = xmalloc((t->n + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct tree_entry *ent = t->ents[i];

		if (!ent->removed && tree_get(t, ent->path) == ent)
			v[(*n)++] = ent;
	}
	qsort(v, *n, sizeof(*v), cmp_entry);
	return v;
}

/* ---- symlinks resolved over the whole tree ------------------------------ */

/* The kernel's limit on links followed in one lookup (MAXSYMLINKS). */
#define SYMLINK_FOLLOW_MAX 40

/* Resolve link's target as the kernel would with the image as its root, but
 * without clamping "..": a layer unpacked in a directory of the host does not
 * clamp either.  Fails naming the link when the resolution climbs above the
 * root (through which link, when another one took it there) or follows more
 * than SYMLINK_FOLLOW_MAX links. */
static int resolve_link(const struct image_tree *t, const struct tree_entry *link, perr *e)
{
	strvec todo = STRVEC_INIT, parts = STRVEC_INIT;
	strbuf cur = STRBUF_INIT;
	size_t *ends = NULL, nends = 0, alloc = 0;
	const struct tree_entry *via = link;
	int follows = 0, ret = -1;
	char *dir = path_dirname(link->path);

	/* components still to walk, the next one last */
	sv_split(&parts, link->target, "/");
	for (size_t i = parts.n; i-- > 0;)
		sv_push(&todo, parts.v[i]);
	sv_clear(&parts);
	if (link->target[0] != '/') {
		sv_split(&parts, dir, "/");
		for (size_t i = 0; i < parts.n; i++) {
			ALLOC_GROW(ends, nends + 1, alloc);
			ends[nends++] = cur.len;
			sb_addf(&cur, "/%s", parts.v[i]);
		}
		sv_clear(&parts);
	}
	while (todo.n) {
		char *c = todo.v[--todo.n];
		const struct tree_entry *ent;

		todo.v[todo.n] = NULL;
		if (!*c || !strcmp(c, ".")) {
			free(c);
			continue;
		}
		if (!strcmp(c, "..")) {
			free(c);
			if (!nends) {
				if (via == link)
					perr_set(e, "%s: refusing %s -> %s: it resolves above the image root",
						 owner(t, link), link->path, link->target);
				else
					perr_set(e, "%s: refusing %s -> %s: it resolves above the image root "
						 "through %s -> %s (from %s)", owner(t, link), link->path,
						 link->target, via->path, via->target, owner(t, via));
				goto out;
			}
			cur.len = ends[--nends];
			cur.buf[cur.len] = '\0';
			continue;
		}
		ALLOC_GROW(ends, nends + 1, alloc);
		ends[nends++] = cur.len;
		sb_addf(&cur, "/%s", c);
		free(c);
		ent = tree_get(t, cur.buf);
		if (!ent || ent->removed || ent->type != TREE_SYMLINK)
			continue;
		if (++follows > SYMLINK_FOLLOW_MAX) {
			perr_set(e, "%s: refusing %s -> %s: more than %d symlinks to follow (a loop "
				 "through %s -> %s, from %s?)", owner(t, link), link->path, link->target,
				 SYMLINK_FOLLOW_MAX, ent->path, ent->target, owner(t, ent));
			goto out;
		}
		/* the link's own directory, then its target */
		via = ent;
		cur.len = ends[--nends];
		cur.buf[cur.len] = '\0';
		if (ent->target[0] == '/') {
			nends = 0;
			sb_reset(&cur);
		}
		sv_split(&parts, ent->target, "/");
		for (size_t i = parts.n; i-- > 0;)
			sv_push(&todo, parts.v[i]);
		sv_clear(&parts);
	}
	ret = 0;
out:
	sv_clear(&todo);
	sv_clear(&parts);
	sb_release(&cur);
	free(ends);
	free(dir);
	return ret;
}

int tree_check_symlinks(const struct image_tree *t, perr *e)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_entry *ent = t->ents[i];

		if (ent->type == TREE_SYMLINK && !ent->removed && tree_get(t, ent->path) == ent &&
		    resolve_link(t, ent, e) < 0)
			return -1;
	}
	return 0;
}
