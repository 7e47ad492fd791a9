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
 * whose libraries are only Recommended).
 */
#include "builder_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The regular file path leads to in the tree (symlinks followed in every
 * component, ".." resolved on the way, like the kernel), or NULL.  Parent
 * directories packages did not list are taken to exist. */
static const struct tree_entry *resolve(const struct image_tree *t, const char *path)
{
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
			if (last && !cur.len)
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
			if (last)
				goto out;
			continue;
		}
		sb_addc(&cur, '/');
		sb_adds(&cur, comp);
		free(comp);
		ent = tree_get(t, cur.buf);
		if (!ent) {
			if (last)
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
		if (ent->type == TREE_HARDLINK && last)
			ent = tree_get(t, ent->target);
		if (last) {
			if (ent && ent->type == TREE_FILE)
				res = ent;
			goto out;
		}
		if (ent->type != TREE_DIR)
			goto out;
	}
out:
	sv_clear(&stack);
	sv_clear(&parts);
	sb_release(&cur);
	return res;
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

static bool found_in(const struct image_tree *t, const strvec *dirs, const char *name)
{
	for (size_t i = 0; i < dirs->n; i++) {
		char *p = xasprintf("%s/%s", dirs->v[i], name);
		bool ok = resolve(t, p) != NULL;

		free(p);
		if (ok)
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *pkg_name(const struct image_tree *t, int pkg)
{
	const struct deb_pkg *p = &t->pkgs[pkg];

	return p->name ? p->name : p->lp ? p->lp->name : "?";
}

/* One unresolved library no package ships: reported once. */
struct missing {
	char *lib, *first; /* first (smallest) object path needing it */
	int pkg;
	size_t count;
};

static int cmp_missing(const void *a, const void *b)
{
	return strcmp(((const struct missing *)a)->lib, ((const struct missing *)b)->lib);
}

int builder_linkcheck(const struct build_ctx *c, perr *e)
{
	const struct image_tree *t = c->tree;
	const char *trip = builder_arch_triplet(c->arch);
	strvec sys = STRVEC_INIT, sonames = STRVEC_INIT;
	struct tree_entry **ents = NULL;
	struct missing *miss = NULL;
	size_t n = 0, nmiss = 0, amiss = 0, nerr = 0, nobj = 0;
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
	ents = tree_sorted(t, &n);
	for (size_t i = 0; i < n; i++)
		if (ents[i]->pkg >= 0 && ents[i]->type == TREE_FILE && ents[i]->elf == ELF_SONAME)
			sv_push(&sonames, ents[i]->soname);
	sv_uniq(&sonames);
	for (size_t i = 0; i < n; i++) {
		const struct tree_entry *o = ents[i];
		strvec needed = STRVEC_INIT, dirs = STRVEC_INIT;
		char *origin;

		if (o->pkg < 0 || o->type != TREE_FILE || !o->needed)
			continue;
		nobj++;
		origin = path_dirname(o->path);
		if (o->runpath)
			run_dirs(o->runpath, origin, trip, &dirs);
		sv_copy(&dirs, &sys);
		sv_split(&needed, o->needed, "\n");
		for (size_t k = 0; k < needed.n; k++) {
			const char *lib = needed.v[k];
			const struct tree_stripped *s;
			const char *key = lib;

			if (strchr(lib, '/')) {
				if (lib[0] != '/' || resolve(t, lib))
					continue; /* relative: the working directory's */
			} else if (found_in(t, &dirs, lib) ||
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
			{
				size_t m;

				for (m = 0; m < nmiss && strcmp(miss[m].lib, lib); m++)
					;
				if (m == nmiss) {
					ALLOC_GROW(miss, nmiss + 1, amiss);
					miss[nmiss].lib = xstrdup(lib);
					miss[nmiss].first = xstrdup(o->path + 1);
					miss[nmiss].pkg = o->pkg;
					miss[nmiss].count = 0;
					nmiss++;
				}
				miss[m].count++;
			}
		}
		sv_clear(&needed);
		sv_clear(&dirs);
		free(origin);
	}
	debug("link check: %zu ELF objects with DT_NEEDED, %zu removed, %zu unshipped libraries",
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
	for (size_t m = 0; m < nmiss; m++) {
		char more[64] = "";

		if (miss[m].count > 1)
			snprintf(more, sizeof(more), " (and %zu more)", miss[m].count - 1);
		warning("%s (%s): %s (package %s)%s needs %s, which no package in the image ships",
			c->lr ? c->lr->name : "image", c->arch, miss[m].first, pkg_name(t, miss[m].pkg),
			more, miss[m].lib);
	}
	ret = 0;
out:
	for (size_t m = 0; m < nmiss; m++) {
		free(miss[m].lib);
		free(miss[m].first);
	}
	free(miss);
	free(ents);
	sv_clear(&sys);
	sv_clear(&sonames);
	sb_release(&first_err);
	return ret;
}
