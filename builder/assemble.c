/*
 * assemble.c - builder_build(): one image per architecture, then the index.
 *
 * Per architecture: the merged-/usr links, then the packages grouped into
 * layers (layer_plan), each .deb streamed into the tree (deb_load) and the
 * layer written to the blob cache as soon as its packages are in; then the
 * generated files (builder_generate) as the top layer; then config and
 * manifest.  File contents stay in memory until the generated files are
 * made (ld.so.cache and the CA bundle read them).
 */
#include "builder_int.h"
#include "fetch_int.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int64_t builder_epoch(const struct lock_recipe *lr)
{
	int64_t newest = 0;

	for (size_t i = 0; lr && i < lr->nrepos; i++)
		if (lr->repos[i].date_epoch > newest)
			newest = lr->repos[i].date_epoch;
	return source_date_epoch(newest);
}

static int add_usrmerge(struct image_tree *t, perr *e)
{
	for (size_t i = 0; policy_usrmerge_dirs[i]; i++) {
		struct tree_entry *ent = xcalloc(1, sizeof(*ent));

		ent->path = xasprintf("/%s", policy_usrmerge_dirs[i]);
		ent->target = xasprintf("usr/%s", policy_usrmerge_dirs[i]);
		ent->type = TREE_SYMLINK;
		ent->mode = 0777;
		ent->mtime = INT64_MAX; /* clamped to SOURCE_DATE_EPOCH */
		ent->pkg = -1;
		ent->layer = -1;
		if (tree_insert(t, ent, e) < 0)
			return -1;
	}
	return 0;
}

/* A cached layer (layers/KEY.json naming digest, diff_id and size) whose
 * blob is still in the blob cache with exactly that digest and size: fills d.
 * Anything missing, malformed or not matching is a miss (the layer is
 * written again), never an error. */
static bool layer_from_cache(const char *key, const char *compression, struct layer_desc *d)
{
	char *jp = xasprintf("%s/layers/%s.json", pare_cache_dir(), key), *blob = NULL;
	strbuf sb = STRBUF_INIT;
	cJSON *j = NULL;
	const char *dg, *di;
	const cJSON *sz;
	char hex[SHA256_HEX_LEN + 1];
	uint64_t size;
	bool ok = false;
	perr e;

	if (read_file(jp, &sb, 1 << 16, &e) < 0 || !(j = cJSON_Parse(sb.buf)))
		goto out;
	dg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "digest"));
	di = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "diff_id"));
	sz = cJSON_GetObjectItemCaseSensitive(j, "size");
	if (!dg || !di || !cJSON_IsNumber(sz) || strncmp(dg, "sha256:", 7) || !is_sha256_hex(dg + 7) ||
	    strncmp(di, "sha256:", 7) || !is_sha256_hex(di + 7))
		goto out;
	blob = xasprintf("%s/blobs/sha256/%s", pare_cache_dir(), dg + 7);
	/* The blob is verified, not trusted: a truncated or altered file is a miss. */
	if (sha256_file(blob, hex, &size, &e) < 0 || strcmp(hex, dg + 7) ||
	    (double)size != sz->valuedouble)
		goto out;
	memset(d, 0, sizeof(*d));
	snprintf(d->digest, sizeof(d->digest), "%s", dg);
	snprintf(d->diff_id, sizeof(d->diff_id), "%s", di);
	d->size = size;
	d->media_type = layer_media_type(compression);
	d->blob = blob;
	d->cached = true;
	blob = NULL;
	ok = true;
out:
	if (!ok && sb.len)
		debug("layer cache entry %s ignored (invalid or blob mismatch)", key);
	cJSON_Delete(j);
	sb_release(&sb);
	free(jp);
	free(blob);
	return ok;
}

static int layer_to_cache(const char *key, const struct layer_desc *d, perr *e)
{
	char *dir = path_join(pare_cache_dir(), "layers"), *jp = NULL, *txt = NULL;
	cJSON *j = cJSON_CreateObject();
	int ret = -1;

	cJSON_AddStringToObject(j, "digest", d->digest);
	cJSON_AddStringToObject(j, "diff_id", d->diff_id);
	cJSON_AddNumberToObject(j, "size", (double)d->size);
	txt = cJSON_PrintUnformatted(j);
	jp = xasprintf("%s/%s.json", dir, key);
	if (mkdir_p(dir, 0755, e) < 0 || write_file_atomic(jp, txt, strlen(txt), 0644, e) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(j);
	free(txt);
	free(jp);
	free(dir);
	return ret;
}

/* Write layer `layer` of the tree into the blob cache; fills d.  Package
 * layers (debs != NULL) are first looked up in the layer cache by their
 * inputs, which skips the compression when nothing changed. */
static int write_layer(struct build_ctx *c, int layer, const char *const *debs, size_t ndebs,
		       struct layer_desc *d, perr *e)
{
	struct layer_opts lo = {
		.compression = c->o && c->o->compression ? c->o->compression : "gzip",
		.epoch = c->epoch,
		.pol = &c->pol,
	};
	char *dir = path_join(pare_cache_dir(), "blobs/sha256");
	char *tmp = xasprintf("%s/.tmp.%d.%d", dir, (int)getpid(), layer);
	char *final = NULL;
	char key[SHA256_HEX_LEN + 1];
	int ret = -1;

	if (debs) {
		layer_cache_key(&c->pol, &lo, c->la->arch, debs, ndebs, key);
		if (layer_from_cache(key, lo.compression, d)) {
			debug("layer %d (%s) taken from the layer cache", layer, d->digest);
			ret = 0;
			goto out;
		}
	}
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	if (layer_write(c->tree, layer, &lo, tmp, d, e) < 0)
		goto out;
	final = xasprintf("%s/%s", dir, d->digest + 7);
	if (rename(tmp, final) != 0) {
		perr_errno(e, "cannot rename %s", tmp);
		goto out;
	}
	d->blob = final;
	final = NULL;
	if (debs && layer_to_cache(key, d, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		unlink(tmp);
	free(dir);
	free(tmp);
	free(final);
	return ret;
}

static void free_contents(struct image_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->ents[i]->data);
		t->ents[i]->data = NULL;
	}
}

static int build_arch(struct build_ctx *c, struct oci_image *img, struct sbom_image *sb,
		      perr *e)
{
	const struct lock_arch *la = c->la;
	int max = c->o && c->o->max_layers > 0 ? c->o->max_layers : 64;
	int *group = xcalloc(la->npkgs + 1, sizeof(*group));
	size_t ng;
	int ret = -1;

	c->tree = tree_new();
	if (add_usrmerge(c->tree, e) < 0)
		goto out;
	/* One layer is kept for the generated files. */
	ng = layer_plan(la, max > 1 ? max - 1 : 1, group);
	c->tree->pkgs = xcalloc(la->npkgs + 1, sizeof(*c->tree->pkgs));
	c->tree->npkgs = c->tree->pkgs_alloc = la->npkgs;
	for (size_t i = 0; i < la->npkgs; i++) {
		c->tree->pkgs[i].lp = &la->pkgs[i];
		c->tree->pkgs[i].layer = group[i];
	}
	img->layers = xcalloc(ng + 1, sizeof(*img->layers));
	for (size_t g = 0; g < ng; g++) {
		strbuf comment = STRBUF_INIT;
		strvec sources = STRVEC_INIT;
		const char **debs = xcalloc(la->npkgs + 1, sizeof(*debs));
		size_t ndebs = 0;
		int r;

		for (size_t i = 0; i < la->npkgs; i++) {
			char *deb;

			if ((size_t)group[i] != g)
				continue;
			sv_push(&sources, la->pkgs[i].source ? la->pkgs[i].source
							     : la->pkgs[i].name);
			debs[ndebs++] = la->pkgs[i].sha256;
			deb = deb_cache_path(la->pkgs[i].sha256);
			r = deb_load(c->tree, (int)i, deb, &c->pol, e);
			free(deb);
			if (r < 0) {
				sv_clear(&sources);
				free(debs);
				goto out;
			}
		}
		sv_uniq(&sources);
		for (size_t s = 0; s < sources.n; s++)
			sb_addf(&comment, "%s%s", s ? ", " : "", sources.v[s]);
		sv_clear(&sources);
		r = write_layer(c, (int)g, debs, ndebs, &img->layers[img->nlayers], e);
		free(debs);
		if (r < 0) {
			sb_release(&comment);
			goto out;
		}
		img->layers[img->nlayers++].comment = sb_detach(&comment);
	}
	c->top_layer = (int)ng;
	if (builder_generate(c, e) < 0)
		goto out;
	if (write_layer(c, -1, NULL, 0, &img->layers[img->nlayers], e) < 0)
		goto out;
	img->layers[img->nlayers++].comment = xstrdup("generated files");
	free_contents(c->tree);
	if (oci_image_json(c, img, e) < 0 || builder_sbom_image(c, sb, e) < 0)
		goto out;
	ret = 0;
out:
	free(group);
	tree_free(c->tree);
	c->tree = NULL;
	build_ctx_release(c);
	return ret;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int cmp_sbom_pkg(const void *a, const void *b)
{
	return strcmp(((const struct sbom_pkg *)a)->name, ((const struct sbom_pkg *)b)->name);
}

/* os-release value of KEY (unquoted), or NULL. */
static char *os_release_value(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t vl = n - kl - 1;

			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
				v++;
				vl -= 2;
			}
			return xstrndup(v, vl);
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The release number for a codename when no os-release was shipped (images
 * without base-files); the codename itself when it is not a known release. */
static const char *debian_version_of(const char *codename)
{
	static const char *const rel[][2] = {
		{ "buster", "10" }, { "bullseye", "11" }, { "bookworm", "12" },
		{ "trixie", "13" }, { "forky", "14" },
	};

	for (size_t i = 0; codename && i < ARRAY_SIZE(rel); i++)
		if (!strcmp(codename, rel[i][0]))
			return rel[i][1];
	return codename ? codename : "unknown";
}

void build_ctx_release(struct build_ctx *c)
{
	for (size_t i = 0; c->deb_sha512 && c->la && i < c->la->npkgs; i++)
		free(c->deb_sha512[i]);
	free(c->deb_sha512);
	c->deb_sha512 = NULL;
}

int builder_sbom_image(struct build_ctx *c, struct sbom_image *img, perr *e)
{
	const struct image_tree *t = c->tree;
	struct tree_entry **ents;
	size_t n;
	int *map = xcalloc(t->npkgs + 1, sizeof(*map));

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

		s->name = xstrdup(p->name ? p->name : lp->name);
		s->version = xstrdup(p->version ? p->version : lp->version);
		s->arch = xstrdup(p->arch ? p->arch : lp->architecture);
		s->source = dup_or_null(p->source);
		s->source_version = dup_or_null(p->source_version);
		s->maintainer = dup_or_null(p->maintainer ? p->maintainer : lp->maintainer);
		s->homepage = dup_or_null(p->homepage);
		s->filename = dup_or_null(lp->filename);
		s->deb_sha256 = dup_or_null(lp->sha256);
		/* The lock pins sha256; TR-03183-2 asks for SHA-512 too: hash the
		 * verified .deb from the cache (once per build: c->deb_sha512). */
		if (!c->deb_sha512)
			c->deb_sha512 = xcalloc(t->npkgs + 1, sizeof(*c->deb_sha512));
		if (!c->deb_sha512[i]) {
			char *deb = deb_cache_path(lp->sha256), h512[SHA512_HEX_LEN + 1];
			int hr = hash_file(deb, "sha512", h512, NULL, e);

			free(deb);
			if (hr < 0) {
				free(map);
				return perr_prefix(e, "%s", lp->name);
			}
			c->deb_sha512[i] = xstrdup(h512);
		}
		s->deb_sha512 = xstrdup(c->deb_sha512[i]);
		s->deb_size = lp->size;
		s->copyright = dup_or_null(deb_copyright(t, i));
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
	free(map);
	return 0;
}

void build_result_free(struct build_result *res)
{
	if (!res)
		return;
	free(res->index_digest);
	for (size_t i = 0; i < res->narchs; i++) {
		free(res->archs[i].arch);
		free(res->archs[i].manifest_digest);
		free(res->archs[i].config_digest);
		sbom_image_free(&res->archs[i].sbom);
	}
	free(res->archs);
	memset(res, 0, sizeof(*res));
}

int builder_build(const struct recipe *r, const struct lock_recipe *lr,
		  const struct build_opts *o, struct build_result *res, perr *e)
{
	struct oci_image *imgs = xcalloc(lr->narchs + 1, sizeof(*imgs));
	struct oci_artifact *arts = xcalloc(OCI_SBOM_ARTIFACTS * (lr->narchs + 1), sizeof(*arts));
	size_t nimg = 0, narts = 0;
	char *index_json = NULL;
	char hex[SHA256_HEX_LEN + 1];
	int64_t epoch = builder_epoch(lr);
	int ret = -1;

	memset(res, 0, sizeof(*res));
	res->created = epoch;
	res->archs = xcalloc(lr->narchs + 1, sizeof(*res->archs));
	for (size_t a = 0; a < lr->narchs; a++) {
		struct build_ctx c = { 0 };
		struct build_arch_result *ar = &res->archs[res->narchs];

		if (o->archs.n && !sv_contains(&o->archs, lr->archs[a].arch))
			continue;
		c.r = r;
		c.lr = lr;
		c.la = &lr->archs[a];
		c.o = o;
		c.arch = lr->archs[a].arch;
		c.epoch = epoch;
		policy_init(&c.pol, r);
		if (!o->quiet)
			note("building %s for %s (%zu packages)", r && r->name ? r->name : lr->name,
			     c.arch, c.la->npkgs);
		if (build_arch(&c, &imgs[nimg], &ar->sbom, e) < 0) {
			perr_prefix(e, "%s (%s)", lr->name, c.arch);
			nimg++;
			goto out;
		}
		ar->arch = xstrdup(c.arch);
		ar->manifest_digest = xstrdup(imgs[nimg].manifest_digest);
		ar->config_digest = xstrdup(imgs[nimg].config_digest);
		ar->sbom.manifest_digest = xstrdup(imgs[nimg].manifest_digest);
		res->narchs++;
		nimg++;
		if (oci_sbom_artifacts(&imgs[nimg - 1], &ar->sbom, epoch, &arts[narts], e) < 0) {
			perr_prefix(e, "%s (%s)", lr->name, c.arch);
			goto out;
		}
		narts += OCI_SBOM_ARTIFACTS;
	}
	if (!nimg) {
		perr_set(e, "%s: no architecture to build", lr->name);
		goto out;
	}
	index_json = oci_index_json(r, imgs, nimg, epoch);
	sha256_hex(index_json, strlen(index_json), hex);
	res->index_digest = xasprintf("sha256:%s", hex);
	{
		/* the index's own SBOMs, linking the per-arch ones */
		struct sbom_image *sbs = xcalloc(res->narchs + 1, sizeof(*sbs));
		int r2;

		for (size_t i = 0; i < res->narchs; i++)
			sbs[i] = res->archs[i].sbom; /* shallow: read only */
		r2 = oci_index_sbom_artifacts(index_json, sbs, res->narchs, arts, epoch, &arts[narts], e);
		free(sbs);
		if (r2 < 0)
			goto out;
		narts += 2;
	}
	if ((o->outdir || o->tarfile) && oci_write(o, imgs, nimg, arts, narts, index_json, epoch, e) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < nimg; i++)
		oci_image_release(&imgs[i]);
	free(imgs);
	for (size_t i = 0; i < narts; i++)
		oci_artifact_release(&arts[i]);
	free(arts);
	free(index_json);
	if (ret < 0)
		build_result_free(res);
	return ret;
}
