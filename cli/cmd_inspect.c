/* cmd_inspect.c - pare inspect and pare diff: what an image holds, and what
 * changed between two images or lock entries (docs/inspect.md).
 *
 * An image is an OCI layout, an oci-archive (read in place with libarchive)
 * or a registry reference (its manifests, configs and artifacts pulled into
 * a private temporary directory, the image layers' blobs left out: their
 * descriptors carry what is shown).  The packages come from the SPDX
 * document pare attaches to each per-arch manifest, the source packages of
 * each layer from the config's history ("pare VERSION: src, src"). */
#define _GNU_SOURCE
#include "cli.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../registry/registry.h"
#include "../signer/signer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JSON (64u << 20)
#define MAX_SBOM (512u << 20)

struct ipkg {
	char *name, *version, *arch, *source;
};

struct ilayer {
	char *digest, *media_type;
	uint64_t size;
	strvec sources; /* the source packages pare put in it (config history) */
};

struct iplat {
	char *key;          /* "linux/amd64": how A and B are matched */
	char *name;         /* "linux/arm64/v8" */
	char *os, *arch, *variant;
	char *digest;       /* the per-arch manifest; NULL for a lock entry */
	uint64_t size;
	cJSON *config;      /* user, entrypoint, … (NULL for a lock entry) */
	cJSON *annotations; /* the manifest's */
	struct ilayer *layers;
	size_t nlayers, alayers;
	struct ipkg *pkgs;
	size_t npkgs, apkgs;
	bool have_pkgs;
};

struct isig {
	char *kind, *manifest, *binds, *type, *keyid;
};

struct iref {
	char *subject, *digest, *artifact_type;
};

struct image {
	const char *arg;
	const char *kind; /* "layout", "oci-archive", "registry", "lock" */
	char *digest, *media_type;
	struct iplat *plats;
	size_t nplats, aplats;
	struct isig *sigs;
	size_t nsigs, asigs;
	struct iref *refs;
	size_t nrefs, arefs;
};

/* A descriptor's size; 0 when it is missing or not a byte count (checked
 * before the cast: converting a negative or huge double is undefined). */
static uint64_t desc_size(const cJSON *d)
{
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(d, "size");

	if (!cJSON_IsNumber(sz) || !(sz->valuedouble >= 0) || sz->valuedouble > 9007199254740992.0)
		return 0;
	return (uint64_t)sz->valuedouble;
}

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void image_free(struct image *im)
{
	for (size_t i = 0; i < im->nplats; i++) {
		struct iplat *p = &im->plats[i];
		for (size_t k = 0; k < p->nlayers; k++) {
			free(p->layers[k].digest), free(p->layers[k].media_type);
			sv_clear(&p->layers[k].sources);
		}
		for (size_t k = 0; k < p->npkgs; k++)
			free(p->pkgs[k].name), free(p->pkgs[k].version), free(p->pkgs[k].arch),
				free(p->pkgs[k].source);
		free(p->layers), free(p->pkgs);
		free(p->key), free(p->name), free(p->os), free(p->arch), free(p->variant);
		free(p->digest);
		cJSON_Delete(p->config);
		cJSON_Delete(p->annotations);
	}
	for (size_t i = 0; i < im->nsigs; i++)
		free(im->sigs[i].kind), free(im->sigs[i].manifest), free(im->sigs[i].binds),
			free(im->sigs[i].type), free(im->sigs[i].keyid);
	for (size_t i = 0; i < im->nrefs; i++)
		free(im->refs[i].subject), free(im->refs[i].digest), free(im->refs[i].artifact_type);
	free(im->plats), free(im->sigs), free(im->refs);
	free(im->digest), free(im->media_type);
	memset(im, 0, sizeof(*im));
}

/* --platform OS/ARCH[/VARIANT]: the variant only narrows when given. */
static bool plat_match(const char *want, const char *os, const char *arch, const char *variant)
{
	char *full = xasprintf("%s/%s%s%s", os, arch, variant ? "/" : "", variant ? variant : "");
	char *bare = xasprintf("%s/%s", os, arch);
	bool ok = !want || !strcmp(want, full) || !strcmp(want, bare);

	free(full), free(bare);
	return ok;
}

static struct iplat *plat_add(struct image *im, const char *os, const char *arch,
			      const char *variant)
{
	struct iplat *p;

	ALLOC_GROW(im->plats, im->nplats + 1, im->aplats);
	p = &im->plats[im->nplats++];
	memset(p, 0, sizeof(*p));
	p->os = xstrdup(os);
	p->arch = xstrdup(arch);
	p->variant = xstrdup_or_null(variant);
	p->key = xasprintf("%s/%s", os, arch);
	p->name = xasprintf("%s/%s%s%s", os, arch, variant ? "/" : "", variant ? variant : "");
	return p;
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct ipkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->arch, y->arch);
}

static void pkg_add(struct iplat *p, const char *name, const char *version, const char *arch,
		    const char *source)
{
	struct ipkg *k;

	ALLOC_GROW(p->pkgs, p->npkgs + 1, p->apkgs);
	k = &p->pkgs[p->npkgs++];
	k->name = xstrdup(name);
	k->version = xstrdup(version ? version : "");
	k->arch = xstrdup(arch ? arch : "");
	k->source = xstrdup(source ? source : name);
}

/* ---- reading an image ------------------------------------------------------------ */

/* The user-facing part of an image config. */
static cJSON *config_view(const char *digest, const cJSON *cfg)
{
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(cfg, "config");
	cJSON *v = cJSON_CreateObject(), *x;
	static const struct { const char *from, *to; bool array; } f[] = {
		{ "User", "user", false },     { "Entrypoint", "entrypoint", true },
		{ "Cmd", "cmd", true },        { "Env", "env", true },
		{ "WorkingDir", "workdir", false },
	};

	cJSON_AddStringToObject(v, "digest", digest);
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		x = cJSON_GetObjectItemCaseSensitive(cc, f[i].from);
		if ((f[i].array && cJSON_IsArray(x)) || (!f[i].array && cJSON_IsString(x)))
			cJSON_AddItemToObject(v, f[i].to, cJSON_Duplicate(x, 1));
		else
			cJSON_AddNullToObject(v, f[i].to);
	}
	x = cJSON_GetObjectItemCaseSensitive(cc, "Labels");
	cJSON_AddItemToObject(v, "labels",
			      cJSON_IsObject(x) ? cJSON_Duplicate(x, 1) : cJSON_CreateObject());
	return v;
}

/* One per-arch manifest: config, layers, and each layer's source packages
 * from the history pare writes ("pare VERSION: a, b"). */
static int read_manifest(struct image *im, struct oci_src *s, const char *digest, uint64_t size,
			 const cJSON *platform, const char *want, perr *e)
{
	strbuf mb = STRBUF_INIT, cb = STRBUF_INIT;
	cJSON *m = NULL, *cfg = NULL;
	const cJSON *c, *h;
	const char *os, *arch, *variant, *cdg;
	struct iplat *p;
	size_t k = 0;
	int ret = -1;

	if (oci_src_blob(s, digest, &mb, MAX_JSON, e) < 0)
		goto out;
	m = cJSON_ParseWithLength(mb.buf, mb.len);
	cdg = oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "digest");
	if (!cJSON_IsObject(m) || !cdg) {
		perr_set(e, "%s: manifest %s is not an image manifest", im->arg, digest);
		goto out;
	}
	if (oci_src_blob(s, cdg, &cb, MAX_JSON, e) < 0)
		goto out;
	cfg = cJSON_ParseWithLength(cb.buf, cb.len);
	if (!cJSON_IsObject(cfg)) {
		perr_set(e, "%s: config %s is not a JSON object", im->arg, cdg);
		goto out;
	}
	os = oci_json_str(platform ? platform : cfg, "os");
	arch = oci_json_str(platform ? platform : cfg, "architecture");
	variant = oci_json_str(platform ? platform : cfg, "variant");
	if (!os || !arch || !*os || !*arch) {
		perr_set(e, "%s: manifest %s names no platform", im->arg, digest);
		goto out;
	}
	if (!plat_match(want, os, arch, variant)) {
		ret = 0;
		goto out;
	}
	p = plat_add(im, os, arch, variant);
	p->digest = xstrdup(digest);
	p->size = size;
	p->config = config_view(cdg, cfg);
	c = cJSON_GetObjectItemCaseSensitive(m, "annotations");
	p->annotations = cJSON_IsObject(c) ? cJSON_Duplicate(c, 1) : cJSON_CreateObject();
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		struct ilayer *l;

		ALLOC_GROW(p->layers, p->nlayers + 1, p->alayers);
		l = &p->layers[p->nlayers++];
		memset(l, 0, sizeof(*l));
		l->digest = xstrdup(oci_json_str(c, "digest") ? oci_json_str(c, "digest") : "");
		l->media_type = xstrdup(oci_json_str(c, "mediaType") ? oci_json_str(c, "mediaType") : "");
		l->size = desc_size(c);
	}
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cfg, "history")) {
		const char *by = oci_json_str(h, "created_by"), *colon;

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "empty_layer")))
			continue;
		if (k >= p->nlayers)
			break;
		if (by && str_starts(by, "pare ") && (colon = strstr(by, ": ")) &&
		    strcmp(colon + 2, "generated files")) {
			sv_split(&p->layers[k].sources, colon + 2, ",");
			for (size_t i = 0; i < p->layers[k].sources.n; i++) {
				char *t = str_trim(p->layers[k].sources.v[i]);
				memmove(p->layers[k].sources.v[i], t, strlen(t) + 1);
			}
		}
		k++;
	}
	ret = 1;
out:
	cJSON_Delete(m);
	cJSON_Delete(cfg);
	sb_release(&mb);
	sb_release(&cb);
	return ret;
}

/* The package list of an SPDX document pare attached: its INSTALL packages. */
static void spdx_packages(struct iplat *p, const cJSON *doc)
{
	const cJSON *k, *r;

	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "packages")) {
		const char *purpose = oci_json_str(k, "primaryPackagePurpose"), *si = oci_json_str(k, "sourceInfo");
		char *arch = NULL, *source = NULL;

		if (!purpose || strcmp(purpose, "INSTALL") || !oci_json_str(k, "name"))
			continue;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(k, "externalRefs")) {
			const char *loc = oci_json_str(r, "referenceLocator"), *q;
			if (loc && str_starts(loc, "pkg:deb/") && (q = strstr(loc, "arch=")) && !arch)
				arch = xstrndup(q + 5, strcspn(q + 5, "&#"));
		}
		if (si && str_starts(si, "built from Debian source package "))
			source = xstrndup(si + 33, strcspn(si + 33, " "));
		pkg_add(p, oci_json_str(k, "name"), oci_json_str(k, "versionInfo"), arch, source);
		free(arch), free(source);
	}
	qsort(p->pkgs, p->npkgs, sizeof(*p->pkgs), cmp_pkg);
	p->have_pkgs = true;
}

static struct iplat *plat_by_digest(struct image *im, const char *digest)
{
	for (size_t i = 0; digest && i < im->nplats; i++)
		if (im->plats[i].digest && !strcmp(im->plats[i].digest, digest))
			return &im->plats[i];
	return NULL;
}

static bool bound_here(struct image *im, const char *digest)
{
	return digest && ((im->digest && !strcmp(im->digest, digest)) || plat_by_digest(im, digest));
}

/* A package-level SPDX artifact (its manifest's subject is a per-arch manifest). */
static int read_sbom(struct image *im, struct oci_src *s, const char *digest, perr *e)
{
	strbuf mb = STRBUF_INIT, db = STRBUF_INIT;
	cJSON *m = NULL, *doc = NULL;
	struct iplat *p;
	const char *fl;
	int ret = -1;

	if (oci_src_blob(s, digest, &mb, MAX_JSON, e) < 0)
		goto out;
	m = cJSON_ParseWithLength(mb.buf, mb.len);
	p = plat_by_digest(im, oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "subject"), "digest"));
	fl = oci_annotation(m, OCI_ANN_SBOM_FILES);
	if (!p || p->have_pkgs || (fl && !strcmp(fl, "true"))) {
		ret = 0;
		goto out;
	}
	if (oci_src_blob(s, oci_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "layers"), 0),
				 "digest"), &db, MAX_SBOM, e) < 0)
		goto out;
	doc = cJSON_ParseWithLength(db.buf, db.len);
	if (!cJSON_IsObject(doc)) {
		perr_set(e, "%s: SBOM %s is not JSON", im->arg, digest);
		goto out;
	}
	spdx_packages(p, doc);
	ret = 0;
out:
	cJSON_Delete(m);
	cJSON_Delete(doc);
	sb_release(&mb);
	sb_release(&db);
	return ret;
}

static void sig_add(struct image *im, const char *kind, const char *manifest, const char *binds,
		    const char *type, const char *keyid)
{
	struct isig *g;

	ALLOC_GROW(im->sigs, im->nsigs + 1, im->asigs);
	g = &im->sigs[im->nsigs++];
	g->kind = xstrdup(kind);
	g->manifest = xstrdup(manifest);
	g->binds = xstrdup(binds ? binds : "");
	g->type = xstrdup(type ? type : "");
	g->keyid = xstrdup(keyid ? keyid : "");
}

/* A cosign .sig or .att manifest: each layer one signature (the digest it
 * binds read from the signed payload) or one DSSE-wrapped statement. */
static int read_signed(struct image *im, struct oci_src *s, const char *digest, bool att, perr *e)
{
	strbuf mb = STRBUF_INIT, lb = STRBUF_INIT, pb = STRBUF_INIT;
	cJSON *m = NULL;
	const cJSON *l;
	int ret = -1;

	if (oci_src_blob(s, digest, &mb, MAX_JSON, e) < 0)
		goto out;
	m = cJSON_ParseWithLength(mb.buf, mb.len);
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		cJSON *j, *st = NULL;
		const char *binds = NULL, *type, *keyid = NULL;
		char *bd = NULL;

		if (oci_src_blob(s, oci_json_str(l, "digest"), &lb, MAX_SBOM, e) < 0)
			goto out;
		j = cJSON_ParseWithLength(lb.buf, lb.len);
		if (!att) {
			binds = oci_json_str(cJSON_GetObjectItemCaseSensitive(
					     cJSON_GetObjectItemCaseSensitive(j, "critical"), "image"),
				     "docker-manifest-digest");
			type = "cosign simple signing";
		} else {
			const char *h;
			sb_reset(&pb);
			if (oci_json_str(j, "payload") && base64_decode(oci_json_str(j, "payload"), &pb, e) == 0)
				st = cJSON_ParseWithLength(pb.buf, pb.len);
			type = oci_json_str(st, "predicateType") ? oci_json_str(st, "predicateType") : oci_annotation(l, "predicateType");
			h = oci_json_str(cJSON_GetObjectItemCaseSensitive(
					 cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "subject"), 0),
					 "digest"),
				 "sha256");
			if (h)
				binds = bd = xasprintf("sha256:%s", h);
			keyid = oci_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "signatures"), 0),
				     "keyid");
		}
		if (bound_here(im, binds))
			sig_add(im, att ? "attestation" : "signature", digest, binds, type, keyid);
		free(bd);
		cJSON_Delete(st);
		cJSON_Delete(j);
	}
	ret = 0;
out:
	cJSON_Delete(m);
	sb_release(&mb);
	sb_release(&lb);
	sb_release(&pb);
	return ret;
}

/* The referrers tag-schema fallback index sha256-HEX of a digest. */
static int read_referrers(struct image *im, struct oci_src *s, const char *digest,
			  const char *subject, perr *e)
{
	strbuf b = STRBUF_INIT;
	cJSON *x = NULL;
	const cJSON *d;

	if (!bound_here(im, subject))
		return 0;
	if (oci_src_blob(s, digest, &b, MAX_JSON, e) < 0) {
		sb_release(&b);
		return -1;
	}
	x = cJSON_ParseWithLength(b.buf, b.len);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(x, "manifests")) {
		struct iref *r;

		ALLOC_GROW(im->refs, im->nrefs + 1, im->arefs);
		r = &im->refs[im->nrefs++];
		r->subject = xstrdup(subject);
		r->digest = xstrdup(oci_json_str(d, "digest") ? oci_json_str(d, "digest") : "");
		r->artifact_type = xstrdup(oci_json_str(d, "artifactType") ? oci_json_str(d, "artifactType") : "");
	}
	cJSON_Delete(x);
	sb_release(&b);
	return 0;
}

static int load_src(struct image *im, struct oci_src *s, const char *want, perr *e)
{
	strbuf ib = STRBUF_INIT, tb = STRBUF_INIT;
	cJSON *idx = NULL, *top = NULL;
	const cJSON *d, *c, *entry = NULL;
	int ret = -1, r;

	if (oci_src_read(s, "index.json", &ib, MAX_JSON, e) < 0)
		goto out;
	idx = cJSON_ParseWithLength(ib.buf, ib.len);
	if (!cJSON_IsObject(idx)) {
		perr_set(e, "%s: index.json is not a JSON object", im->arg);
		goto out;
	}
	/* the image: not a signature, attestation, referrers index or SBOM */
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests")) {
		const char *rn = oci_annotation(d, OCI_ANN_REF_NAME);
		if (!entry && oci_json_str(d, "digest") && !oci_json_str(d, "artifactType") &&
		    !oci_annotation(d, OCI_ANN_SBOM_FORMAT) && !oci_tag_is_attached(rn))
			entry = d;
	}
	if (!entry) {
		perr_set(e, "%s: index.json names no image", im->arg);
		goto out;
	}
	im->digest = xstrdup(oci_json_str(entry, "digest"));
	if (oci_src_blob(s, im->digest, &tb, MAX_JSON, e) < 0)
		goto out;
	top = cJSON_ParseWithLength(tb.buf, tb.len);
	im->media_type = xstrdup(oci_json_str(top, "mediaType") ? oci_json_str(top, "mediaType") :
				 oci_json_str(entry, "mediaType") ? oci_json_str(entry, "mediaType") : "");
	if (oci_mt_is_index(im->media_type) || cJSON_GetObjectItemCaseSensitive(top, "manifests")) {
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(top, "manifests")) {
			const cJSON *pl = cJSON_GetObjectItemCaseSensitive(c, "platform");
			/* BuildKit's attestation manifests say unknown/unknown */
			if (!pl || !oci_json_str(pl, "os") || !strcmp(oci_json_str(pl, "os"), "unknown"))
				continue;
			if (read_manifest(im, s, oci_json_str(c, "digest"), desc_size(c), pl, want, e) < 0)
				goto out;
		}
	} else {
		if (read_manifest(im, s, im->digest, tb.len, NULL, want, e) < 0)
			goto out;
	}
	if (!im->nplats) {
		perr_set(e, "%s: no image for platform %s", im->arg, want ? want : "(any)");
		goto out;
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests")) {
		const char *rn = oci_annotation(d, OCI_ANN_REF_NAME), *at = oci_json_str(d, "artifactType"), *dg = oci_json_str(d, "digest");

		r = 0;
		if (at && !strcmp(at, OCI_MT_SPDX))
			r = read_sbom(im, s, dg, e);
		else if (oci_tag_is_attached(rn) && str_ends(rn, OCI_TAG_SIG))
			r = read_signed(im, s, dg, false, e);
		else if (oci_tag_is_attached(rn) && str_ends(rn, OCI_TAG_ATT))
			r = read_signed(im, s, dg, true, e);
		else if (oci_tag_is_attached(rn) && is_sha256_hex(rn + 7)) {
			char *subject = xasprintf("sha256:%s", rn + 7);
			r = read_referrers(im, s, dg, subject, e);
			free(subject);
		}
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	cJSON_Delete(idx);
	cJSON_Delete(top);
	sb_release(&ib);
	sb_release(&tb);
	return ret;
}

/* lock:RECIPE[@ARCH] (recipes.lock, or $PARE_LOCK) or lock:FILE:RECIPE[@ARCH]. */
static int load_lock(struct image *im, const char *spec, const char *want, perr *e)
{
	struct lock l = { 0 };
	const struct lock_recipe *lr;
	char *file, *name, *at, *colon;
	size_t found = 0;
	int ret = -1;

	colon = strrchr(spec, ':');
	file = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(cli_lock_path());
	name = xstrdup(colon ? colon + 1 : spec);
	at = strchr(name, '@');
	if (at)
		*at++ = '\0';
	if (!*name || !*file) {
		perr_set(e, "%s: usage: lock:RECIPE[@ARCH] or lock:FILE:RECIPE[@ARCH]", im->arg);
		goto out;
	}
	if (lock_read(file, &l, false, e) < 0)
		goto out;
	lr = lock_find(&l, name);
	if (!lr) {
		perr_set(e, "%s: no entry for recipe '%s'", file, name);
		goto out;
	}
	for (size_t i = 0; i < lr->narchs; i++) {
		const struct lock_arch *la = &lr->archs[i];
		const char *oarch, *variant;
		struct iplat *p;

		if (at && strcmp(at, la->arch))
			continue;
		found++;
		oci_deb_platform(la->arch, &oarch, &variant);
		if (!plat_match(want, "linux", oarch, variant))
			continue;
		p = plat_add(im, "linux", oarch, variant);
		for (size_t k = 0; k < la->npkgs; k++)
			pkg_add(p, la->pkgs[k].name, la->pkgs[k].version, la->pkgs[k].arch,
				la->pkgs[k].source);
		qsort(p->pkgs, p->npkgs, sizeof(*p->pkgs), cmp_pkg);
		p->have_pkgs = true;
	}
	if (at && !found) {
		perr_set(e, "%s: recipe '%s' is not locked for %s", file, name, at);
		goto out;
	}
	if (!im->nplats) {
		perr_set(e, "%s: recipe '%s' has no entry for platform %s", file, name,
			 want ? want : "(any)");
		goto out;
	}
	ret = 0;
out:
	lock_release(&l);
	free(file), free(name);
	return ret;
}

/* HOST[:PORT]/REPO[:TAG|@sha256:…]: the manifests, configs and artifacts
 * (not the image layers) pulled into a private temporary directory. */
static int load_ref(struct image *im, const struct registry_opts *ro, const char *want, perr *e)
{
	struct registry_opts o = *ro;
	struct registry_pull_result res;
	struct oci_src *s = NULL;
	const char *t = getenv("TMPDIR");
	char *tmp = xasprintf("%s/pare-inspect.XXXXXX", t && *t ? t : "/tmp"), *dir = NULL;
	int slot = -1, ret = -1;
	perr e2;

	if (!mkdtemp(tmp)) {
		perr_errno(e, "cannot create a temporary directory %s", tmp);
		free(tmp);
		return -1;
	}
	slot = tmp_register(tmp);
	o.manifests_only = true;
	dir = path_join(tmp, "image");
	if (registry_pull(im->arg, dir, &o, &res, e) < 0 || oci_src_open(dir, &s, e) < 0)
		goto out;
	ret = load_src(im, s, want, e);
out:
	oci_src_close(s);
	rm_rf(tmp, &e2);
	tmp_unregister(slot);
	free(tmp), free(dir);
	return ret;
}

static int image_open(struct image *im, const char *arg, const struct registry_opts *ro,
		      const char *want, bool lock_ok, perr *e)
{
	struct registry_ref ref = { 0 };
	struct oci_src *s = NULL;
	struct stat st;
	perr e2;
	int ret, err;

	memset(im, 0, sizeof(*im));
	im->arg = arg;
	if (lock_ok && str_starts(arg, "lock:")) {
		im->kind = "lock";
		return load_lock(im, arg + 5, want, e);
	}
	if (stat(arg, &st) == 0) {
		if (oci_src_open(arg, &s, e) < 0)
			return -1;
		im->kind = oci_src_is_archive(s) ? "oci-archive" : "layout";
		ret = load_src(im, s, want, e);
		oci_src_close(s);
		return ret;
	}
	err = errno;
	if (err != ENOENT || arg[0] == '/' || arg[0] == '.' ||
	    registry_ref_parse(arg, &ref, &e2) < 0) {
		errno = err;
		if (err == ENOENT)
			return perr_set(e, "%s: no such file or directory, and not a registry "
					"reference (HOST[:PORT]/REPO[:TAG])", arg);
		return perr_errno(e, "%s", arg);
	}
	registry_ref_free(&ref);
	im->kind = "registry";
	return load_ref(im, ro, want, e);
}

/* ---- output helpers -------------------------------------------------------------- */

static void hsize(uint64_t n, char buf[32])
{
	static const char *u[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t i = 0;

	if (n < 1024) {
		snprintf(buf, 32, "%" PRIu64 " B", n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < ARRAY_SIZE(u))
		v /= 1024, i++;
	snprintf(buf, 32, "%.1f %s", v, u[i]);
}

static void hdelta(int64_t d, char buf[40])
{
	char s[32];

	hsize(d < 0 ? (uint64_t)-d : (uint64_t)d, s);
	snprintf(buf, 40, "%s%s", d < 0 ? "-" : "+", s);
}

/* A table: rows of ncols cells, printed with each column as wide as its widest cell. */
struct table {
	size_t ncols;
	strvec cells;
};

static void trow(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *c = va_arg(ap, const char *);
		sv_push(&t->cells, c ? c : "-");
	}
	va_end(ap);
}

/* UTF-8 aware enough for alignment: count code points */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void tprint(struct table *t, const char *indent)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t i = 0; i < t->cells.n; i++)
		if (width(t->cells.v[i]) > w[i % t->ncols])
			w[i % t->ncols] = width(t->cells.v[i]);
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t col = i % t->ncols;
		const char *c = t->cells.v[i];

		if (!col)
			fputs(indent, stdout);
		fputs(c, stdout);
		if (col + 1 == t->ncols)
			putchar('\n');
		else
			printf("%*s", (int)(w[col] - width(c) + 2), "");
	}
	free(w);
	sv_clear(&t->cells);
}

static const char *kind_label(const struct image *im)
{
	return im->kind;
}

static const char *bound_name(struct image *im, const char *digest)
{
	struct iplat *p = plat_by_digest(im, digest);

	if (p)
		return p->name;
	return oci_mt_is_index(im->media_type) ? "index" : "image";
}

static void join_sv(const strvec *sv, const char *sep, strbuf *out)
{
	for (size_t i = 0; i < sv->n; i++)
		sb_addf(out, "%s%s", i ? sep : "", sv->v[i]);
}

/* Binary packages of p whose source package is in l's sources. */
static void layer_pkgs(const struct iplat *p, const struct ilayer *l, strvec *out)
{
	for (size_t i = 0; i < p->npkgs; i++)
		if (sv_contains(&l->sources, p->pkgs[i].source))
			sv_push(out, p->pkgs[i].name);
	sv_uniq(out);
}

static uint64_t layers_size(const struct iplat *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->nlayers; i++)
		n += p->layers[i].size;
	return n;
}

static char *json_text(const cJSON *x)
{
	if (!x || cJSON_IsNull(x))
		return xstrdup("-");
	if (cJSON_IsString(x))
		return xstrdup(x->valuestring);
	return cJSON_PrintUnformatted(x);
}

/* ---- pare inspect ---------------------------------------------------------------- */

static cJSON *inspect_json(struct image *im)
{
	cJSON *j = cJSON_CreateObject(), *ps, *ss, *rs;

	cJSON_AddStringToObject(j, "schema", "pare-inspect/1");
	cJSON_AddStringToObject(j, "source", im->arg);
	cJSON_AddStringToObject(j, "kind", im->kind);
	cJSON_AddStringToObject(j, "digest", im->digest);
	cJSON_AddStringToObject(j, "mediaType", im->media_type);
	ps = cJSON_AddArrayToObject(j, "platforms");
	for (size_t i = 0; i < im->nplats; i++) {
		const struct iplat *p = &im->plats[i];
		cJSON *o = cJSON_CreateObject(), *ls, *ks;

		cJSON_AddStringToObject(o, "platform", p->name);
		cJSON_AddStringToObject(o, "os", p->os);
		cJSON_AddStringToObject(o, "architecture", p->arch);
		if (p->variant)
			cJSON_AddStringToObject(o, "variant", p->variant);
		else
			cJSON_AddNullToObject(o, "variant");
		cJSON_AddStringToObject(o, "digest", p->digest);
		cJSON_AddNumberToObject(o, "size", (double)p->size);
		cJSON_AddItemToObject(o, "config", cJSON_Duplicate(p->config, 1));
		cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(p->annotations, 1));
		ls = cJSON_AddArrayToObject(o, "layers");
		for (size_t k = 0; k < p->nlayers; k++) {
			const struct ilayer *l = &p->layers[k];
			cJSON *lo = cJSON_CreateObject(), *a;
			strvec names = STRVEC_INIT;

			cJSON_AddStringToObject(lo, "digest", l->digest);
			cJSON_AddStringToObject(lo, "mediaType", l->media_type);
			cJSON_AddNumberToObject(lo, "size", (double)l->size);
			a = cJSON_AddArrayToObject(lo, "sources");
			for (size_t s = 0; s < l->sources.n; s++)
				cJSON_AddItemToArray(a, cJSON_CreateString(l->sources.v[s]));
			a = cJSON_AddArrayToObject(lo, "packages");
			layer_pkgs(p, l, &names);
			for (size_t s = 0; s < names.n; s++)
				cJSON_AddItemToArray(a, cJSON_CreateString(names.v[s]));
			sv_clear(&names);
			cJSON_AddItemToArray(ls, lo);
		}
		cJSON_AddNumberToObject(o, "layers_size", (double)layers_size(p));
		if (p->have_pkgs) {
			ks = cJSON_AddArrayToObject(o, "packages");
			for (size_t k = 0; k < p->npkgs; k++) {
				cJSON *po = cJSON_CreateObject();
				cJSON_AddStringToObject(po, "name", p->pkgs[k].name);
				cJSON_AddStringToObject(po, "version", p->pkgs[k].version);
				cJSON_AddStringToObject(po, "arch", p->pkgs[k].arch);
				cJSON_AddStringToObject(po, "source", p->pkgs[k].source);
				cJSON_AddItemToArray(ks, po);
			}
		} else {
			cJSON_AddNullToObject(o, "packages");
		}
		cJSON_AddItemToArray(ps, o);
	}
	ss = cJSON_AddArrayToObject(j, "signatures");
	for (size_t i = 0; i < im->nsigs; i++) {
		const struct isig *g = &im->sigs[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", g->kind);
		cJSON_AddStringToObject(o, "type", g->type);
		cJSON_AddStringToObject(o, "binds", g->binds);
		cJSON_AddStringToObject(o, "binds_platform", bound_name(im, g->binds));
		cJSON_AddStringToObject(o, "keyid", g->keyid);
		cJSON_AddStringToObject(o, "manifest", g->manifest);
		cJSON_AddItemToArray(ss, o);
	}
	rs = cJSON_AddArrayToObject(j, "referrers");
	for (size_t i = 0; i < im->nrefs; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "subject", im->refs[i].subject);
		cJSON_AddStringToObject(o, "artifactType", im->refs[i].artifact_type);
		cJSON_AddStringToObject(o, "digest", im->refs[i].digest);
		cJSON_AddItemToArray(rs, o);
	}
	return j;
}

static void inspect_human(struct image *im)
{
	struct table t = { .ncols = 3 };
	char sz[32];

	printf("image   %s (%s)\n", im->arg, kind_label(im));
	printf("digest  %s (%s)\n\n", im->digest,
	       oci_mt_is_index(im->media_type) ? "image index" : "image manifest");
	trow(&t, "PLATFORM", "MANIFEST DIGEST", "SIZE");
	for (size_t i = 0; i < im->nplats; i++) {
		hsize(im->plats[i].size, sz);
		trow(&t, im->plats[i].name, im->plats[i].digest, sz);
	}
	tprint(&t, "");
	puts("(cosign verify-attestation --type slsaprovenance1 matches a per-platform manifest "
	     "digest above, not the index digest)");
	for (size_t i = 0; i < im->nplats; i++) {
		const struct iplat *p = &im->plats[i];
		const cJSON *cfg = p->config, *x;
		static const char *const fields[] = { "user", "entrypoint", "cmd", "workdir" };

		printf("\n%s  %s\n", p->name, p->digest);
		t.ncols = 2;
		trow(&t, "config", oci_json_str(cfg, "digest"));
		for (size_t k = 0; k < ARRAY_SIZE(fields); k++) {
			char *v = json_text(cJSON_GetObjectItemCaseSensitive(cfg, fields[k]));
			trow(&t, fields[k], v);
			free(v);
		}
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cfg, "env"))
			trow(&t, x->prev && x->prev->next ? "" : "env", cJSON_GetStringValue(x));
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(cfg, "labels")) {
			char *kv = xasprintf("%s=%s", x->string, cJSON_GetStringValue(x) ? x->valuestring : "");
			trow(&t, "label", kv);
			free(kv);
		}
		cJSON_ArrayForEach(x, p->annotations) {
			char *kv = xasprintf("%s=%s", x->string, cJSON_GetStringValue(x) ? x->valuestring : "");
			trow(&t, "annotation", kv);
			free(kv);
		}
		tprint(&t, "  ");
		putchar('\n');
		t.ncols = 4;
		trow(&t, "LAYER", "DIGEST", "SIZE", "SOURCE PACKAGES (PACKAGES)");
		for (size_t k = 0; k < p->nlayers; k++) {
			const struct ilayer *l = &p->layers[k];
			strbuf what = STRBUF_INIT;
			strvec names = STRVEC_INIT;
			char n[24];

			snprintf(n, sizeof(n), "%zu", k + 1);
			hsize(l->size, sz);
			join_sv(&l->sources, ", ", &what);
			layer_pkgs(p, l, &names);
			if (names.n) {
				sb_adds(&what, " (");
				join_sv(&names, ", ", &what);
				sb_adds(&what, ")");
			}
			if (!what.len)
				sb_adds(&what, k + 1 == p->nlayers && l->sources.n == 0 ? "(generated files)" : "-");
			trow(&t, n, l->digest, sz, what.buf);
			sb_release(&what);
			sv_clear(&names);
		}
		tprint(&t, "  ");
		hsize(layers_size(p), sz);
		printf("  %zu layers, %s\n\n", p->nlayers, sz);
		if (!p->have_pkgs) {
			puts("  packages: unknown (no SPDX document attached to this manifest)");
			continue;
		}
		t.ncols = 4;
		trow(&t, "PACKAGE", "VERSION", "ARCH", "SOURCE");
		for (size_t k = 0; k < p->npkgs; k++)
			trow(&t, p->pkgs[k].name, p->pkgs[k].version, p->pkgs[k].arch, p->pkgs[k].source);
		tprint(&t, "  ");
		printf("  %zu packages\n", p->npkgs);
	}
	putchar('\n');
	if (!im->nsigs) {
		puts("signatures and attestations: none");
	} else {
		t.ncols = 5;
		trow(&t, "KIND", "BINDS", "OF", "TYPE", "KEYID");
		for (size_t i = 0; i < im->nsigs; i++) {
			const struct isig *g = &im->sigs[i];
			trow(&t, g->kind, g->binds, bound_name(im, g->binds), g->type,
			     *g->keyid ? g->keyid : "-");
		}
		tprint(&t, "");
	}
	if (im->nrefs) {
		t.ncols = 3;
		putchar('\n');
		trow(&t, "REFERRER OF", "ARTIFACT TYPE", "DIGEST");
		for (size_t i = 0; i < im->nrefs; i++)
			trow(&t, im->refs[i].subject, im->refs[i].artifact_type, im->refs[i].digest);
		tprint(&t, "");
	}
}

/* Options shared by inspect and diff: --platform, --json and pull's registry options. */
const struct cli_opt cli_inspect_opts[] = {
	{ 'p', "platform", "OS/ARCH[/VARIANT]", 0, "that platform's image of a multi-platform index" },
	{ 'J', "json", NULL, 0, "the report as JSON on stdout" },
	CLI_OPTS_INCLUDE(cli_registry_opts),
	{ 0 },
};
const struct cli_opt cli_diff_opts[] = {
	CLI_OPTS_INCLUDE(cli_inspect_opts),
	{ 0 },
};

struct review_opts {
	struct cli_registry reg;
	struct registry_opts ro;
	strvec pos;
	const char *platform;
	bool json;
};

static int review_args(const char *cmd, int argc, char **argv, struct review_opts *x, perr *e)
{
	struct cli_args a;
	int c;

	cli_args_init(&a, argc, argv, !strcmp(cmd, "diff") ? cli_diff_opts : cli_inspect_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		if (cli_registry_opt(&x->reg, c, a.val))
			continue;
		if (c == 'J') {
			x->json = true;
		} else if (c == 'p') {
			x->platform = a.val;
			if (!strchr(x->platform, '/'))
				return perr_set(e, "%s: --platform '%s': want OS/ARCH[/VARIANT], e.g. linux/arm64",
						cmd, x->platform);
		}
	}
	if (c < 0)
		return -1;
	for (int i = 1; i <= a.nops; i++)
		sv_push(&x->pos, argv[i]);
	if (cli_registry_finish(&x->reg, e) < 0)
		return -1;
	x->ro = x->reg.o;
	return 0;
}

static void review_free(struct review_opts *x)
{
	cli_registry_release(&x->reg);
	sv_clear(&x->pos);
}

static void print_json(cJSON *j)
{
	char *s = cJSON_Print(j);

	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

int cmd_inspect(int argc, char **argv, perr *e)
{
	struct review_opts x = { 0 };
	struct image im = { 0 };
	int ret = -1;

	if (review_args("inspect", argc, argv, &x, e) < 0)
		goto out;
	if (x.pos.n != 1) {
		cli_usage_error(e, "inspect", NULL);
		goto out;
	}
	if (image_open(&im, x.pos.v[0], &x.ro, x.platform, false, e) < 0)
		goto out;
	if (x.json)
		print_json(inspect_json(&im));
	else
		inspect_human(&im);
	ret = 0;
out:
	image_free(&im);
	review_free(&x);
	return ret;
}

/* ---- pare diff ------------------------------------------------------------------- */

static struct iplat *plat_by_key(struct image *im, const char *key)
{
	for (size_t i = 0; i < im->nplats; i++)
		if (!strcmp(im->plats[i].key, key))
			return &im->plats[i];
	return NULL;
}

struct layer_set {
	strvec digests;
	uint64_t size;
};

/* The distinct layers of every platform of im, and their total size. */
static void layer_set(const struct image *im, struct layer_set *ls, const struct ilayer **info,
		      size_t *ninfo)
{
	for (size_t i = 0; i < im->nplats; i++)
		for (size_t k = 0; k < im->plats[i].nlayers; k++) {
			const struct ilayer *l = &im->plats[i].layers[k];
			if (sv_contains(&ls->digests, l->digest))
				continue;
			sv_push(&ls->digests, l->digest);
			ls->size += l->size;
			info[(*ninfo)++] = l;
		}
}

static const struct ilayer *find_layer(const struct ilayer **v, size_t n, const char *digest)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i]->digest, digest))
			return v[i];
	return NULL;
}

static size_t nlayers_all(const struct image *im)
{
	size_t n = 0;

	for (size_t i = 0; i < im->nplats; i++)
		n += im->plats[i].nlayers;
	return n;
}

static void side_json(cJSON *j, const char *k, const struct image *im)
{
	cJSON *o = cJSON_AddObjectToObject(j, k);

	cJSON_AddStringToObject(o, "source", im->arg);
	cJSON_AddStringToObject(o, "kind", im->kind);
	if (im->digest)
		cJSON_AddStringToObject(o, "digest", im->digest);
	else
		cJSON_AddNullToObject(o, "digest");
}

static cJSON *layer_json(const struct ilayer *l)
{
	cJSON *o = cJSON_CreateObject(), *a;

	cJSON_AddStringToObject(o, "digest", l->digest);
	cJSON_AddNumberToObject(o, "size", (double)l->size);
	a = cJSON_AddArrayToObject(o, "sources");
	for (size_t i = 0; i < l->sources.n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->sources.v[i]));
	return o;
}

static void json_change(cJSON *arr, const char *plat, const char *change, const char *name,
			const char *arch, const char *from, const char *to)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "platform", plat);
	cJSON_AddStringToObject(o, "change", change);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "arch", arch);
	if (from)
		cJSON_AddStringToObject(o, "from", from);
	else
		cJSON_AddNullToObject(o, "from");
	if (to)
		cJSON_AddStringToObject(o, "to", to);
	else
		cJSON_AddNullToObject(o, "to");
	cJSON_AddItemToArray(arr, o);
}

/* Returns 1 when A and B differ, 0 when equal; the report goes to j or stdout. */
static int diff_images(struct image *a, struct image *b, cJSON *j)
{
	strvec keys = STRVEC_INIT;
	cJSON *jplat = NULL, *jpk = NULL, *jcfg = NULL;
	bool differ = false, images = strcmp(a->kind, "lock") && strcmp(b->kind, "lock");

	if (j) {
		side_json(j, "a", a);
		side_json(j, "b", b);
		jplat = cJSON_AddObjectToObject(j, "platforms");
		cJSON_AddArrayToObject(jplat, "added");
		cJSON_AddArrayToObject(jplat, "removed");
		jpk = cJSON_AddArrayToObject(j, "packages");
	} else {
		printf("--- %s (%s%s%s)\n", a->arg, a->kind, a->digest ? " " : "", a->digest ? a->digest : "");
		printf("+++ %s (%s%s%s)\n", b->arg, b->kind, b->digest ? " " : "", b->digest ? b->digest : "");
	}
	for (size_t i = 0; i < a->nplats; i++)
		sv_push(&keys, a->plats[i].key);
	for (size_t i = 0; i < b->nplats; i++)
		sv_push(&keys, b->plats[i].key);
	sv_uniq(&keys);
	for (size_t i = 0; i < keys.n; i++) {
		struct iplat *pa = plat_by_key(a, keys.v[i]), *pb = plat_by_key(b, keys.v[i]);
		size_t x = 0, y = 0, nadd = 0, nrm = 0, nch = 0;
		strbuf lines = STRBUF_INIT;

		if (!pa || !pb) {
			differ = true;
			if (j)
				cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(jplat, pa ? "removed" : "added"),
						     cJSON_CreateString(keys.v[i]));
			else
				printf("platform %s %s\n", pa ? "-" : "+", keys.v[i]);
		}
		if ((pa && !pa->have_pkgs) || (pb && !pb->have_pkgs)) {
			if (!j)
				printf("packages (%s): unknown (no SPDX document attached)\n", keys.v[i]);
			continue;
		}
		/* both lists sorted by (name, arch) */
		while ((pa && x < pa->npkgs) || (pb && y < pb->npkgs)) {
			const struct ipkg *ka = pa && x < pa->npkgs ? &pa->pkgs[x] : NULL;
			const struct ipkg *kb = pb && y < pb->npkgs ? &pb->pkgs[y] : NULL;
			int c = !ka ? 1 : !kb ? -1 : cmp_pkg(ka, kb);

			if (c < 0) {
				nrm++;
				sb_addf(&lines, "  - %s %s %s\n", ka->name, ka->version, ka->arch);
				if (jpk)
					json_change(jpk, keys.v[i], "removed", ka->name, ka->arch, ka->version, NULL);
				x++;
			} else if (c > 0) {
				nadd++;
				sb_addf(&lines, "  + %s %s %s\n", kb->name, kb->version, kb->arch);
				if (jpk)
					json_change(jpk, keys.v[i], "added", kb->name, kb->arch, NULL, kb->version);
				y++;
			} else {
				if (strcmp(ka->version, kb->version)) {
					nch++;
					sb_addf(&lines, "  ~ %s %s -> %s %s\n", ka->name, ka->version,
						kb->version, ka->arch);
					if (jpk)
						json_change(jpk, keys.v[i], "changed", ka->name, ka->arch,
							    ka->version, kb->version);
				}
				x++, y++;
			}
		}
		if (nadd + nrm + nch)
			differ = true;
		if (!j && (nadd + nrm + nch))
			printf("packages (%s): %zu added, %zu removed, %zu changed\n%s", keys.v[i], nadd,
			       nrm, nch, sb_str(&lines));
		sb_release(&lines);
	}
	if (images) {
		struct layer_set la = { STRVEC_INIT, 0 }, lb = { STRVEC_INIT, 0 };
		const struct ilayer **ia = xcalloc(nlayers_all(a) + 1, sizeof(*ia));
		const struct ilayer **ib = xcalloc(nlayers_all(b) + 1, sizeof(*ib));
		size_t na = 0, nb = 0, reused = 0, added = 0, removed = 0;
		cJSON *jl = NULL, *jr = NULL, *jad = NULL, *jrm = NULL, *js;
		strbuf lines = STRBUF_INIT;
		char s1[32], s2[32], d[40];

		layer_set(a, &la, ia, &na);
		layer_set(b, &lb, ib, &nb);
		sv_sort(&la.digests), sv_sort(&lb.digests);
		if (j) {
			jl = cJSON_AddObjectToObject(j, "layers");
			jr = cJSON_AddArrayToObject(jl, "reused");
			jad = cJSON_AddArrayToObject(jl, "added");
			jrm = cJSON_AddArrayToObject(jl, "removed");
		}
		for (size_t i = 0; i < lb.digests.n; i++) {
			const struct ilayer *l = find_layer(ib, nb, lb.digests.v[i]);
			bool both = sv_contains(&la.digests, l->digest);
			strbuf src = STRBUF_INIT;

			if (both)
				reused++;
			else
				added++;
			if (jl)
				cJSON_AddItemToArray(both ? jr : jad, layer_json(l));
			if (!both) {
				hsize(l->size, s1);
				join_sv(&l->sources, ", ", &src);
				sb_addf(&lines, "  + %s  %s  %s\n", l->digest, s1, src.len ? src.buf : "-");
			}
			sb_release(&src);
		}
		for (size_t i = 0; i < la.digests.n; i++) {
			const struct ilayer *l = find_layer(ia, na, la.digests.v[i]);
			strbuf src = STRBUF_INIT;

			if (sv_contains(&lb.digests, l->digest))
				continue;
			removed++;
			if (jl)
				cJSON_AddItemToArray(jrm, layer_json(l));
			hsize(l->size, s1);
			join_sv(&l->sources, ", ", &src);
			sb_addf(&lines, "  - %s  %s  %s\n", l->digest, s1, src.len ? src.buf : "-");
			sb_release(&src);
		}
		if (added || removed || strcmp(a->digest, b->digest))
			differ = true;
		hsize(la.size, s1);
		hsize(lb.size, s2);
		hdelta((int64_t)lb.size - (int64_t)la.size, d);
		if (j) {
			js = cJSON_AddObjectToObject(j, "size");
			cJSON_AddNumberToObject(js, "a", (double)la.size);
			cJSON_AddNumberToObject(js, "b", (double)lb.size);
			cJSON_AddNumberToObject(js, "delta", (double)((int64_t)lb.size - (int64_t)la.size));
		} else {
			printf("layers: %zu reused, %zu new, %zu removed\n%s", reused, added, removed,
			       sb_str(&lines));
			printf("size: %s -> %s (%s)\n", s1, s2, d);
		}
		sb_release(&lines);
		sv_clear(&la.digests), sv_clear(&lb.digests);
		free(ia), free(ib);
		/* config: per platform both sides have */
		if (j)
			jcfg = cJSON_AddArrayToObject(j, "config");
		for (size_t i = 0; i < keys.n; i++) {
			struct iplat *pa = plat_by_key(a, keys.v[i]), *pb = plat_by_key(b, keys.v[i]);
			static const char *const fields[] = { "user", "entrypoint", "cmd", "env", "workdir",
							       "labels" };

			if (!pa || !pb)
				continue;
			for (size_t k = 0; k < ARRAY_SIZE(fields); k++) {
				const cJSON *fa = cJSON_GetObjectItemCaseSensitive(pa->config, fields[k]);
				const cJSON *fb = cJSON_GetObjectItemCaseSensitive(pb->config, fields[k]);
				char *ta, *tb;

				if (cJSON_Compare(fa, fb, 1))
					continue;
				differ = true;
				if (jcfg) {
					cJSON *o = cJSON_CreateObject();
					cJSON_AddStringToObject(o, "platform", keys.v[i]);
					cJSON_AddStringToObject(o, "field", fields[k]);
					cJSON_AddItemToObject(o, "from", fa ? cJSON_Duplicate(fa, 1) : cJSON_CreateNull());
					cJSON_AddItemToObject(o, "to", fb ? cJSON_Duplicate(fb, 1) : cJSON_CreateNull());
					cJSON_AddItemToArray(jcfg, o);
					continue;
				}
				ta = json_text(fa), tb = json_text(fb);
				printf("config (%s): %s: %s -> %s\n", keys.v[i], fields[k], ta, tb);
				free(ta), free(tb);
			}
		}
	} else if (j) {
		cJSON_AddNullToObject(j, "layers");
		cJSON_AddNullToObject(j, "size");
		cJSON_AddNullToObject(j, "config");
	}
	if (j)
		cJSON_AddBoolToObject(j, "equal", !differ);
	else if (!differ)
		puts("no differences");
	sv_clear(&keys);
	return differ ? 1 : 0;
}

int cmd_diff(int argc, char **argv, perr *e)
{
	struct review_opts x = { 0 };
	struct image a = { 0 }, b = { 0 };
	cJSON *j = NULL;
	int ret = -1;

	if (review_args("diff", argc, argv, &x, e) < 0)
		goto out;
	if (x.pos.n != 2) {
		cli_usage_error(e, "diff", NULL);
		goto out;
	}
	if (image_open(&a, x.pos.v[0], &x.ro, x.platform, true, e) < 0 ||
	    image_open(&b, x.pos.v[1], &x.ro, x.platform, true, e) < 0)
		goto out;
	if (x.json) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "schema", "pare-diff/1");
	}
	ret = diff_images(&a, &b, j);
	if (j)
		print_json(j);
out:
	image_free(&a);
	image_free(&b);
	review_free(&x);
	return ret;
}
