/*
 * sbomin.c - the SBOM's input: what the image tree of one architecture
 * holds (packages, their sources, licences' files, download locations, the
 * OS), as sbom/ takes it.  assemble.c hands it to the attached documents,
 * generate.c to the ones embedded in the image: the same input for both.
 */
#include "builder_int.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int cmp_sbom_pkg(const void *a, const void *b)
{
	return strcmp(((const struct sbom_pkg *)a)->name, ((const struct sbom_pkg *)b)->name);
}

/* The SBOM's download location of a package: only when the recipe itself
 * names its repository with an http(s) URL without credentials.  That URL
 * is part of the recipe, so the documents (and the copy embedded in the
 * image) stay the same on any machine; the machine's apt sources differ from
 * machine to machine and file:// is not a public location: NULL there
 * (NOASSERTION). */
/* Each repository's URL once per image (resolver_repo_url reads and
 * hashes the cached Release files): urls[i] the public base URL or NULL,
 * known[i] once looked up. */
struct repo_urls {
	char **urls;
	bool *known;
};

static void repo_urls_release(struct repo_urls *ru, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ru->urls[i]);
	free(ru->urls);
	free(ru->known);
}

static char *download_url(const struct build_ctx *c, const struct lock_pkg *lp,
			  struct repo_urls *ru)
{
	const char *url;

	if (!c->r || c->r->repos_from_host || !c->lr || !lp->filename || lp->repo < 0 ||
	    (size_t)lp->repo >= c->lr->nrepos)
		return NULL;
	if (!ru->known[lp->repo]) {
		char *u = NULL;
		const char *host;
		perr e;

		ru->known[lp->repo] = true;
		if (resolver_repo_url(c->r, &c->lr->repos[lp->repo], &u, &e) < 0)
			return NULL;
		host = str_starts(u, "https://") ? u + 8 : str_starts(u, "http://") ? u + 7 : NULL;
		if (host && !memchr(host, '@', strcspn(host, "/"))) {
			size_t n = strlen(u);

			while (n && u[n - 1] == '/')
				n--;
			ru->urls[lp->repo] = xasprintf("%.*s", (int)n, u);
		}
		free(u);
	}
	url = ru->urls[lp->repo];
	return url ? xasprintf("%s/%s", url, lp->filename) : NULL;
}

/*
 * Where package i's copyright text is in the image: the live tree entry of
 * /usr/share/doc/OWNER/copyright, when it is still the regular file the text
 * was read from (that package's, complete: same size; deb.c reads exactly
 * that path).  Not when a policy dropped it or something else replaced it:
 * the embedded SBOMs then carry the text itself.
 */
static void copyright_file(const struct image_tree *t, size_t i, struct sbom_pkg *s)
{
	long k = deb_copyright_owner(t, i);
	const char *owner = k < 0 ? NULL : t->pkgs[k].name ? t->pkgs[k].name : t->pkgs[k].lp->name;
	char *path = owner ? xasprintf("/usr/share/doc/%s/copyright", owner) : NULL;
	const struct tree_entry *ent = path ? tree_get(t, path) : NULL;

	if (ent && !ent->removed && ent->type == TREE_FILE && ent->pkg == (int)k &&
	    ent->size == strlen(t->pkgs[k].copyright) && is_sha256_hex(ent->sha256)) {
		s->copyright_file = path;
		path = NULL;
		memcpy(s->copyright_sha256, ent->sha256, sizeof(s->copyright_sha256));
	}
	free(path);
}

int builder_sbom_image(const struct build_ctx *c, struct sbom_image *img, perr *e)
{
	const struct image_tree *t = c->tree;
	struct tree_entry **ents;
	size_t n;
	int *map = xcalloc(t->npkgs + 1, sizeof(*map));
	size_t nrepos = c->lr ? c->lr->nrepos : 0;
	struct repo_urls ru = { xcalloc(nrepos + 1, sizeof(char *)),
				xcalloc(nrepos + 1, sizeof(bool)) };

	memset(img, 0, sizeof(*img));
	img->name = xstrdup(c->r && c->r->name ? c->r->name : c->lr ? c->lr->name : "image");
	img->arch = xstrdup(c->arch);
	img->reference = xasprintf("%s:%s", img->name,
				   c->o && c->o->tag && *c->o->tag ? c->o->tag : "latest");
	img->created = c->epoch;
	img->recipe_sha256 = c->lr && c->lr->recipe_sha256 ? xstrdup(c->lr->recipe_sha256) : NULL;
	img->pkgs = xcalloc(t->npkgs + 1, sizeof(*img->pkgs));
	img->npkgs = t->npkgs;
	for (size_t i = 0; i < t->npkgs; i++) {
		const struct deb_pkg *p = &t->pkgs[i];
		const struct lock_pkg *lp = p->lp;
		struct sbom_pkg *s = &img->pkgs[i];

		deb_id_copy(&s->id, &p->id);
		deb_id_copy(&s->id, &lp->id);
		s->maintainer = dup_or_null(p->maintainer ? p->maintainer : lp->maintainer);
		s->homepage = dup_or_null(p->homepage);
		s->filename = dup_or_null(lp->filename);
		s->download_url = download_url(c, lp, &ru);
		s->deb_sha256 = dup_or_null(lp->sha256);
		/* The lock pins sha256; TR-03183-2 asks for SHA-512 too: hashed
		 * from the verified .deb when it was read (kept in the layer record). */
		if (!p->deb_sha512[0]) {
			repo_urls_release(&ru, nrepos);
			free(map);
			return perr_set(e, "%s: internal: no SHA-512 of the .deb", lp->name);
		}
		s->deb_sha512 = xstrdup(p->deb_sha512);
		s->deb_size = lp->size;
		s->copyright = dup_or_null(deb_copyright(t, i));
		copyright_file(t, i, s);
		s->requested = lp->requested;
		sv_copy(&s->depends, &lp->depends);
		if (p->os_release && !img->os_id) {
			img->os_id = os_release_value(p->os_release, "ID");
			img->os_version = os_release_value(p->os_release, "VERSION_ID");
			img->os_codename = os_release_value(p->os_release, "VERSION_CODENAME");
		}
	}
	/* The lock is sorted by name already; sort anyway, and remap files. */
	for (size_t i = 0; i < t->npkgs; i++)
		map[i] = (int)i;
	qsort(img->pkgs, img->npkgs, sizeof(*img->pkgs), cmp_sbom_pkg);
	for (size_t i = 0; i < t->npkgs; i++)
		for (size_t k = 0; k < img->npkgs; k++)
			if (!strcmp(img->pkgs[k].name, t->pkgs[i].name ? t->pkgs[i].name
								       : t->pkgs[i].lp->name))
				map[i] = (int)k;
	if (!img->os_id) {
		img->os_id = xstrdup("debian");
		if (c->lr && c->lr->nrepos)
			img->os_codename = dup_or_null(c->lr->repos[0].codename);
	}
	if (!img->os_version)
		img->os_version = xstrdup(debian_version_of(img->os_codename));
	ents = tree_sorted(t, &n);
	img->files = xcalloc(n + 1, sizeof(*img->files));
	for (size_t i = 0; i < n; i++) {
		const struct tree_entry *ent = ents[i];
		struct sbom_file *f;

		if (ent->type != TREE_FILE && ent->type != TREE_HARDLINK)
			continue;
		f = &img->files[img->nfiles++];
		f->path = xstrdup(ent->path);
		memcpy(f->sha256, ent->sha256, sizeof(f->sha256));
		memcpy(f->sha1, ent->sha1, sizeof(f->sha1));
		f->size = ent->size;
		f->pkg = ent->pkg >= 0 ? map[ent->pkg] : -1;
	}
	free(ents);
	repo_urls_release(&ru, nrepos);
	free(map);
	return 0;
}
