/*
 * attest.c - what pare attaches to an image beyond signer/'s own
 * attestations, and pare audit --rebuild.  signer/ sits below audit/ and
 * cve/, so it takes the statements it is given; this file computes them:
 * the benchmark report (audit/, AUDIT_PREDICATE_TYPE) and, with CVE feeds
 * synced, the image's OpenVEX document (cve/, CVE_VEX_PREDICATE_TYPE).
 * docs/audit.md and docs/cve.md describe them; docs/signing.md re-signing.
 */
#define _GNU_SOURCE
#include "rebuild.h"
#include "../audit/audit.h"
#include "../builder/builder.h"
#include "../cve/cve.h"
#include "../oci/oci.h"
#include "../signer/signer.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The image's name in the reports, as signer/ names it: ref, else NAME of
 * the ref name "NAME:TAG", else (NULL) the recipe the audit reports. */
static char *image_name(const char *dir, const char *ref)
{
	struct oci_layout l;
	const cJSON *d;
	char *name = NULL;
	perr e;

	if (ref && *ref)
		return xstrdup(ref);
	if (oci_layout_open(dir, &l, &e) < 0)
		return NULL;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(l.index, "manifests")) {
		const char *r = oci_annotation(d, OCI_ANN_REF_NAME), *c, *sl;

		if (name || !r || str_starts(r, "sha256-"))
			continue;
		c = strrchr(r, ':');
		sl = strrchr(r, '/');
		if (c && c > r && (!sl || sl < c))
			name = xstrndup(r, (size_t)(c - r));
	}
	oci_layout_close(&l);
	return name;
}

/* The recipe file of the layout's image when recipes_dir has it, else NULL;
 * *name (when name is not NULL) the recipe's name, or NULL. */
static char *recipe_file(const char *recipes_dir, const strvec *docs, char **name)
{
	cJSON *doc;
	const char *rn;
	char *p = NULL;

	if (!docs->n || !(doc = cJSON_Parse(docs->v[0])))
		return NULL;
	rn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "images"), 0), "recipe"));
	if (rn && recipes_dir && !strchr(rn, '/') && *rn != '.') {
		p = xasprintf("%s/%s.yaml", recipes_dir, rn);
		if (!path_exists(p))
			free(p), p = NULL;
	}
	if (name && rn)
		*name = xstrdup(rn);
	cJSON_Delete(doc);
	return p;
}

int rebuild_sign_layout(const char *dir, struct signer_key *key, const char *ref,
			const char *recipes_dir, perr *e)
{
	strvec dg = STRVEC_INIT, docs = STRVEC_INIT, vdg = STRVEC_INIT, vdocs = STRVEC_INIT;
	struct signer_statement *st = NULL;
	char *name = NULL, *rfile = NULL;
	size_t n = 0;
	perr why = { 0, "" };
	int ret;

	/* The audit sees the layout as it will be once signed (signed and
	 * attested, not verified: audit_opts.signing), whether or not it was
	 * signed before: signing again with unchanged inputs changes nothing.
	 * Then one signer run, all or nothing. */
	name = image_name(dir, ref);
	/* An image the audit cannot read (a layer that is no valid tar: umoci
	 * writes its tars without the end blocks) is signed all the same,
	 * without these attestations: the warning says why. */
	if (audit_attestations(dir, name, recipes_dir, source_date_epoch((int64_t)time(NULL)), &dg,
			       &docs, &why) < 0) {
		warning("sign %s: no benchmark attestation: %s", dir, why.msg);
		sv_clear(&dg), sv_clear(&docs);
	}
	rfile = recipe_file(recipes_dir, &docs, name ? NULL : &name);
	if (!name)
		name = xstrdup("image");
	if (!cve_synced()) {
		note("no CVE feeds synced: no vulnerability attestation (pare cve sync)");
	} else if (cve_image_openvex(dir, name, rfile, &vdg, &vdocs, &why) < 0) {
		warning("sign %s: no vulnerability attestation: %s", dir, why.msg);
		sv_clear(&vdg), sv_clear(&vdocs);
	}
	st = xcalloc(dg.n + vdg.n + 1, sizeof(*st));
	for (size_t i = 0; i < dg.n; i++)
		st[n++] = (struct signer_statement){ dg.v[i], AUDIT_PREDICATE_TYPE, docs.v[i] };
	for (size_t i = 0; i < vdg.n; i++)
		st[n++] = (struct signer_statement){ vdg.v[i], CVE_VEX_PREDICATE_TYPE, vdocs.v[i] };
	ret = signer_sign_layout_extra(dir, key, ref, st, n, e);
	free(st);
	free(name);
	free(rfile);
	sv_clear(&dg), sv_clear(&docs), sv_clear(&vdg), sv_clear(&vdocs);
	return ret;
}

/* ---- pare audit --rebuild -------------------------------------------------- */

struct rebuild_repro {
	const char *recipes_dir, *lock;
	strvec built; /* "RECIPE ARCH DIGEST" of the recipes rebuilt so far */
	strvec tried; /* the recipes built (or failed): never twice */
};

/* Build recipe from the lock into a temporary directory of the cache
 * (removed afterwards) and add its per-arch manifest digests to x->built. */
static int reproduce(struct rebuild_repro *x, const struct audit_image *img, const char *recipe,
		     perr *e)
{
	struct lock lk = { 0 };
	struct lock_recipe *lr;
	struct recipe *r = NULL;
	struct build_opts bo = { 0 };
	struct build_result res = { 0 };
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(img->manifest, "annotations");
	const char *mt = oci_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(img->manifest,
											   "layers"), 0),
				      "mediaType");
	char *file = xasprintf("%s/%s.yaml", x->recipes_dir, recipe), *tmp = NULL, *out = NULL;
	int slot = -1, ret = -1;

	if (strchr(recipe, '/') || *recipe == '.') {
		perr_set(e, "recipe name '%s' is not a file name", recipe);
		goto out;
	}
	if (!(r = recipe_load(file, e)) || lock_read(x->lock, &lk, false, e) < 0)
		goto out;
	if (!(lr = lock_find(&lk, recipe))) {
		perr_set(e, "%s: no entry for recipe %s", x->lock, recipe);
		goto out;
	}
	tmp = xasprintf("%s/tmp", pare_cache_dir());
	if (mkdir_p(tmp, 0700, e) < 0)
		goto out;
	free(tmp);
	tmp = xasprintf("%s/tmp/rebuild.%ld.XXXXXX", pare_cache_dir(), (long)getpid());
	if (!mkdtemp(tmp)) {
		perr_errno(e, "%s", tmp);
		free(tmp), tmp = NULL;
		goto out;
	}
	slot = tmp_register(tmp);
	out = path_join(tmp, "layout");
	bo.outdir = out;
	bo.quiet = true;
	/* what the image's manifest says of how it was built */
	bo.compression = mt && strstr(mt, "zstd") ? "zstd" : "gzip";
	bo.source_url = oci_json_str(ann, OCI_ANN_SOURCE);
	if (builder_build(r, lr, &bo, &res, e) < 0)
		goto out;
	for (size_t i = 0; i < res.narchs; i++)
		sv_pushf(&x->built, "%s %s %s", recipe, res.archs[i].arch, res.archs[i].manifest_digest);
	ret = 0;
out:
	if (tmp) {
		perr ignore;

		rm_rf(tmp, &ignore);
		if (slot >= 0)
			tmp_unregister(slot);
	}
	if (ret < 0)
		perr_prefix(e, "recipe %s", recipe);
	builder_result_release(&res);
	sv_clear(&bo.archs);
	recipe_free(r);
	lock_release(&lk);
	free(file);
	free(tmp);
	free(out);
	return ret;
}

static int repro_digest(const struct audit_image *img, const char *recipe, char **digest, void *arg,
			perr *e)
{
	struct rebuild_repro *x = arg;
	char *arch = NULL, *pre;
	int ret = -1;

	*digest = NULL;
	if (oci_platform_parse(img->platform, &arch, e) < 0)
		return -1;
	pre = xasprintf("%s %s ", recipe, arch);
	for (;;) {
		for (size_t i = 0; i < x->built.n && !*digest; i++)
			if (str_starts(x->built.v[i], pre))
				*digest = xstrdup(x->built.v[i] + strlen(pre));
		if (*digest) {
			ret = 0;
			break;
		}
		if (sv_contains(&x->tried, recipe)) {
			perr_set(e, "recipe %s: no image for %s rebuilt (not locked for it, or its "
				 "rebuild failed before)", recipe, arch);
			break;
		}
		sv_push(&x->tried, recipe);
		if (reproduce(x, img, recipe, e) < 0)
			break;
	}
	free(pre);
	free(arch);
	return ret;
}

int rebuild_audit(char **paths, size_t n, struct audit_opts *o, const char *lock,
		  struct audit_report **reps, size_t *nreps, perr *e)
{
	struct rebuild_repro x = { o->recipes_dir, lock, STRVEC_INIT, STRVEC_INIT };
	int ret = 0;

	if (lock) {
		o->rebuild = repro_digest;
		o->rebuild_arg = &x;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = audit_path(paths[i], o, reps, nreps, e);
	o->rebuild = NULL;
	o->rebuild_arg = NULL;
	sv_clear(&x.built);
	sv_clear(&x.tried);
	return ret;
}
