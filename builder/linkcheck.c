/*
 * linkcheck.c - every shared library an ELF object in the image needs is in
 * the image.
 *
 * Stripping is only safe if it breaks nothing; the way it breaks things
 * silently is a library removed from under a binary that stays.  So once all
 * package entries are in the tree (read from .debs, or restored from the
 * layer cache's records: the DT_NEEDED lists, run paths and the names of the
 * stripped libraries are kept there, a warm build reads no .deb), each
 * DT_NEEDED of each kept ELF executable or shared object is looked up the
 * way the dynamic linker does:
 *
 *   1. a name with a '/' is a path (only absolute ones can be checked);
 *   2. the object's DT_RUNPATH (else DT_RPATH), with $ORIGIN (the object's
 *      directory) and $LIB (lib/TRIPLET, Debian's) substituted; entries
 *      with another token ($PLATFORM) are skipped;
 *   3. the directories of /etc/ld.so.conf.d/ *.conf (what ld.so.cache
 *      lists), then the built-in ones: /lib/TRIPLET, /usr/lib/TRIPLET, /lib,
 *      /usr/lib, /usr/lib64 (merged-/usr: /lib is /usr/lib);
 *
 * following symlinks (also in directory components) inside the image, to a
 * regular file.  Not found there, a kept object whose DT_SONAME is the name
 * also counts (ld.so reuses an object already loaded under that soname:
 * plug-ins rely on the program having loaded it through its own run path).
 *
 * Still not found: when a package of the image shipped a file of that name
 * and the strip policy removed it, the build fails naming the object, its
 * package, the library and the strip rule; when no package ships it at all,
 * it is a warning, once per library (Debian packages have optional plug-ins
 * whose libraries are only Recommended); with the recipe's strict: true, the
 * first such library is the build's error.
 */
#include "builder_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walks path in the tree like the kernel: symlinks followed in every
 * component, ".." resolved on the way; parent directories packages did not
 * list are taken to exist.  dir NULL: the regular file path leads to, or
 * NULL.  dir set: path must lead to a directory (or an implicit one);
 * *dir gets its symlink-free path ("" for the root) and a non-NULL dummy
 * is returned on success. */
static const struct tree_entry *walk(const struct image_tree *t, const char *path, char **dir)
{
	static const struct tree_entry ok_dir;
	strvec stack = STRVEC_INIT, parts = STRVEC_INIT;
	strbuf cur = STRBUF_INIT;
	const struct tree_entry *res = NULL;
	int hops = 0;

	/* components to walk, last one on top of the stack */
	sv_split(&parts, path, "/");
	for (size_t i = parts.n; i-- > 0;)
		sv_push(&stack, parts.v[i]);
	sv_clear(&parts);
	while (stack.n) {
		char *comp = stack.v[--stack.n];
		const struct tree_entry *ent;
		size_t save = cur.len;
		bool last = stack.n == 0;

		if (!*comp || !strcmp(comp, ".")) {
			free(comp);
			if (!dir && last && !cur.len)
				goto out;
			continue;
		}
		if (!strcmp(comp, "..")) {
			free(comp);
			while (cur.len && cur.buf[cur.len - 1] != '/')
				cur.len--;
			if (cur.len)
				cur.len--;
			sb_addc(&cur, '\0');
			cur.len--;
			if (!dir && last)
				goto out;
			continue;
		}
		sb_addc(&cur, '/');
		sb_adds(&cur, comp);
		free(comp);
		ent = tree_get(t, cur.buf);
		if (!ent) {
			if (!dir && last)
				goto out;
			continue; /* an implicit parent directory, or missing */
		}
		if (ent->type == TREE_SYMLINK) {
			if (++hops > 40)
				goto out;
			sv_split(&parts, ent->target, "/");
			for (size_t i = parts.n; i-- > 0;)
				sv_push(&stack, parts.v[i]);
			sv_clear(&parts);
			cur.len = ent->target[0] == '/' ? 0 : save;
			sb_addc(&cur, '\0');
			cur.len--;
			continue;
		}
		if (!dir && ent->type == TREE_HARDLINK && last)
			ent = tree_get(t, ent->target);
		if (!dir && last) {
			if (ent && ent->type == TREE_FILE)
				res = ent;
			goto out;
		}
		if (ent->type != TREE_DIR)
			goto out;
	}
	if (dir) {
		*dir = xstrdup(sb_str(&cur));
		res = &ok_dir;
	}
out:
	sv_clear(&stack);
	sv_clear(&parts);
	sb_release(&cur);
	return res;
}

static const struct tree_entry *resolve(const struct image_tree *t, const char *path)
{
	return walk(t, path, NULL);
}

const struct tree_entry *builder_resolve(const struct image_tree *t, const char *path)
{
	return walk(t, path, NULL);
}

/* dirs with each directory replaced by its symlink-free path (dropped when
 * it is no directory), sorted and unique: the set to look names up in. */
static void canon_dirs(const struct image_tree *t, const strvec *dirs, strvec *out)
{
	for (size_t i = 0; i < dirs->n; i++) {
		char *d = NULL;

		if (walk(t, dirs->v[i], &d))
			sv_push_nodup(out, d);
	}
	sv_uniq(out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The tree's entries by base name: a library is looked up among the few
 * entries of its name, not in every directory of the search path (a run
 * path of 20000 directories and 3000 DT_NEEDED were 6e7 path walks). */
struct by_base {
	const char *base;
	const char *path;
};

static int cmp_base(const void *a, const void *b)
{
	const struct by_base *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	return c ? c : strcmp(x->path, y->path);
}

/* The run path's directories with $ORIGIN / $LIB substituted. */
static void run_dirs(const char *runpath, const char *origin, const char *trip, strvec *out)
{
	strvec items = STRVEC_INIT;

	sv_split(&items, runpath, ":");
	for (size_t i = 0; i < items.n; i++) {
		const char *s = items.v[i];
		strbuf d = STRBUF_INIT;
		bool ok = true;

		while (*s && ok) {
			if (*s != '$') {
				sb_addc(&d, *s++);
				continue;
			}
			if (str_starts(s, "$ORIGIN") || str_starts(s, "${ORIGIN}")) {
				sb_adds(&d, origin);
				s += s[1] == '{' ? 9 : 7;
			} else if (trip && (str_starts(s, "$LIB") || str_starts(s, "${LIB}"))) {
				sb_addf(&d, "lib/%s", trip);
				s += s[1] == '{' ? 6 : 4;
			} else {
				ok = false; /* $PLATFORM and the like: not checked */
			}
		}
		/* relative entries are relative to the working directory */
		if (ok && d.len && d.buf[0] == '/')
			sv_push(out, d.buf);
		sb_release(&d);
	}
	sv_clear(&items);
}

/* Is there a regular file name in one of dirs (canon_dirs), as ld.so
 * would find it?  The entry dir/name is the one resolve(dir/name) reaches
 * after the directory part, so looking at the entries named name whose
 * directory is in dirs is the same lookup. */
static bool found_in(const struct image_tree *t, const struct by_base *bb, size_t nbb,
		     const strvec *dirs, const char *name)
{
	size_t lo = 0, hi = nbb;

	while (lo < hi) { /* first entry with base >= name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(bb[mid].base, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nbb && !strcmp(bb[lo].base, name); lo++) {
		const char *p = bb[lo].path;
		char *d = xstrndup(p, (size_t)(bb[lo].base - 1 - p));
		const char *key = d;
		bool in = bsearch(&key, dirs->v, dirs->n, sizeof(*dirs->v), cmp_str) != NULL;

		free(d);
		if (in && resolve(t, p))
			return true;
	}
	return false;
}

/* A stripped entry named name: preferably one in dirs (where ld.so would
 * have found it), else any. */
static const struct tree_stripped *stripped_lib(const struct image_tree *t, const strvec *dirs,
						const char *name)
{
	const struct tree_stripped *any = NULL;

	for (size_t i = 0; i < t->nstripped; i++) {
		const struct tree_stripped *s = &t->stripped[i];
		const char *base = path_basename(s->path);

		if (strcmp(base, name))
			continue;
		if (!any)
			any = s;
		for (size_t d = 0; d < dirs->n; d++) {
			size_t dl = strlen(dirs->v[d]);

			if (!strncmp(s->path, dirs->v[d], dl) && s->path + dl + 1 == base)
				return s;
		}
	}
	return any;
}

static const char *pkg_name(const struct image_tree *t, int pkg)
{
	const struct deb_pkg *p = &t->pkgs[pkg];

	return p->name ? p->name : p->lp ? p->lp->name : "?";
}

/* One object needing a library no package ships; reported once per library
 * (the first object, and how many more), after sorting all of them. */
struct missing {
	const char *lib, *obj;
	int pkg;
	size_t seq; /* objects are visited in path order: the first is smallest */
};

static int cmp_missing(const void *a, const void *b)
{
	const struct missing *x = a, *y = b;
	int r = strcmp(x->lib, y->lib);

	return r ? r : x->seq < y->seq ? -1 : x->seq > y->seq;
}

int builder_linkcheck(const struct build_ctx *c, perr *e)
{
	const struct image_tree *t = c->tree;
	const char *trip = builder_arch_triplet(c->arch);
	strvec sys = STRVEC_INIT, sys_canon = STRVEC_INIT, sonames = STRVEC_INIT;
	strvec libs = STRVEC_INIT; /* every object's DT_NEEDED, owned for miss */
	struct tree_entry **ents = NULL;
	struct missing *miss = NULL;
	struct by_base *bb = NULL;
	size_t n = 0, nmiss = 0, amiss = 0, nerr = 0, nobj = 0, nbb = 0;
	strbuf first_err = STRBUF_INIT;
	int ret = -1;

	/* what ld.so.cache lists, then the built-in directories */
	if (builder_ld_conf_dirs(t, &sys, e) < 0)
		goto out;
	if (trip) {
		sv_pushf(&sys, "/usr/lib/%s", trip);
	}
	sv_push(&sys, "/usr/lib");
	sv_push(&sys, "/usr/lib64");
	canon_dirs(t, &sys, &sys_canon);
	ents = tree_sorted(t, &n);
	bb = xcalloc(n + 1, sizeof(*bb));
	for (size_t i = 0; i < n; i++) {
		if (ents[i]->pkg >= 0 && ents[i]->type == TREE_FILE && ents[i]->elf == ELF_SONAME)
			sv_push(&sonames, ents[i]->soname);
		if (ents[i]->type != TREE_DIR) {
			bb[nbb].base = path_basename(ents[i]->path);
			bb[nbb++].path = ents[i]->path;
		}
	}
	sv_uniq(&sonames);
	qsort(bb, nbb, sizeof(*bb), cmp_base);
	for (size_t i = 0; i < n; i++) {
		const struct tree_entry *o = ents[i];
		strvec needed = STRVEC_INIT, uniq = STRVEC_INIT, dirs = STRVEC_INIT, canon = STRVEC_INIT;
		bool *done;
		char *origin;

		if (o->pkg < 0 || o->type != TREE_FILE || !o->needed)
			continue;
		nobj++;
		origin = path_dirname(o->path);
		if (o->runpath)
			run_dirs(o->runpath, origin, trip, &dirs);
		canon_dirs(t, &dirs, &canon);
		sv_copy(&canon, &sys_canon);
		sv_uniq(&canon);
		sv_copy(&dirs, &sys);
		sv_uniq(&dirs); /* only for stripped_lib: order does not matter */
		sv_split(&needed, o->needed, "\n");
		/* each library once per object, in the object's order */
		sv_copy(&uniq, &needed);
		sv_uniq(&uniq);
		done = xcalloc(uniq.n + 1, sizeof(*done));
		for (size_t k = 0; k < needed.n; k++) {
			const char *lib = needed.v[k];
			const struct tree_stripped *s;
			const char *key = lib;
			char **u = bsearch(&key, uniq.v, uniq.n, sizeof(*uniq.v), cmp_str);

			if (done[u - uniq.v])
				continue;
			done[u - uniq.v] = true;
			if (strchr(lib, '/')) {
				if (lib[0] != '/' || resolve(t, lib))
					continue; /* relative: the working directory's */
			} else if (found_in(t, bb, nbb, &canon, lib) ||
				   (sonames.n && bsearch(&key, sonames.v, sonames.n,
							 sizeof(*sonames.v), cmp_str))) {
				continue;
			}
			s = stripped_lib(t, &dirs, path_basename(lib));
			if (s) {
				if (!nerr++)
					sb_addf(&first_err, "%s (package %s) needs %s, removed by strip "
						"rule \"%s\" (%s of package %s)", o->path + 1,
						pkg_name(t, o->pkg), lib, s->rule, s->path + 1,
						pkg_name(t, s->pkg));
				continue;
			}
			ALLOC_GROW(miss, nmiss + 1, amiss);
			sv_push(&libs, lib);
			miss[nmiss].lib = NULL; /* set below: libs.v may move */
			miss[nmiss].obj = o->path + 1;
			miss[nmiss].pkg = o->pkg;
			miss[nmiss].seq = nmiss;
			nmiss++;
		}
		free(done);
		sv_clear(&needed);
		sv_clear(&uniq);
		sv_clear(&dirs);
		sv_clear(&canon);
		free(origin);
	}
	for (size_t m = 0; m < nmiss; m++)
		miss[m].lib = libs.v[m];
	debug("link check: %zu ELF objects with DT_NEEDED, %zu removed, %zu needs of unshipped libraries",
	      nobj, nerr, nmiss);
	if (nerr) {
		if (nerr > 1)
			sb_addf(&first_err, "; and %zu more needed librar%s removed", nerr - 1,
				nerr > 2 ? "ies" : "y");
		perr_set(e, "%s", first_err.buf);
		goto out;
	}
	if (nmiss)
		qsort(miss, nmiss, sizeof(*miss), cmp_missing);
	for (size_t m = 0, run; m < nmiss; m += run) {
		char more[64] = "";

		for (run = 1; m + run < nmiss && !strcmp(miss[m + run].lib, miss[m].lib); run++)
			;
		if (run > 1)
			snprintf(more, sizeof(more), " (and %zu more)", run - 1);
		if (c->r && c->r->strict) {
			perr_set(e, "%s (package %s)%s needs %s, which no package in the image "
				 "ships (strict: true)", miss[m].obj, pkg_name(t, miss[m].pkg), more,
				 miss[m].lib);
			goto out;
		}
		warning("%s (%s): %s (package %s)%s needs %s, which no package in the image ships",
			c->lr ? c->lr->name : "image", c->arch, miss[m].obj, pkg_name(t, miss[m].pkg),
			more, miss[m].lib);
	}
	ret = 0;
out:
	free(miss);
	free(bb);
	free(ents);
	sv_clear(&libs);
	sv_clear(&sys);
	sv_clear(&sys_canon);
	sv_clear(&sonames);
	sb_release(&first_err);
	return ret;
}
