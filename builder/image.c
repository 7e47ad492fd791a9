/*
 * image.c - the image's config, manifests, image index and SBOM artifacts,
 * handed to oci/ as the files of a layout; all deterministic: keys in a
 * fixed order (cJSON keeps insertion order), no wall clock.
 */
#define _GNU_SOURCE /* renameat2 */
#include "builder_int.h"
#include "../oci/oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* "KEY=VALUE" list: later assignments of a key replace earlier ones in place. */
static void env_set(strvec *env, const char *kv)
{
	size_t kl = strcspn(kv, "=");

	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], kv, kl) && env->v[i][kl] == '=') {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	sv_push(env, kv);
}

static cJSON *string_array(const strvec *sv)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

/* The recipe's run_as as "uid:gid" when it names a recipe user; numeric
 * users are what runAsNonRoot checks can verify. */
static char *image_user(const struct recipe *r)
{
	const char *u = r && r->run_as ? r->run_as : "65532";

	if (r)
		for (size_t i = 0; i < r->nusers; i++)
			if (!strcmp(r->users[i].name, u))
				return xasprintf("%u:%u", r->users[i].uid, r->users[i].gid);
	if (!strcmp(u, "nonroot"))
		return xstrdup("65532:65532");
	return xstrdup(u);
}

int builder_image_json(const struct build_ctx *c, struct oci_image *img, perr *e)
{
	const struct recipe *r = c->r;
	cJSON *cfg = cJSON_CreateObject(), *cc, *rootfs, *ids, *hist, *man, *layers, *ann;
	strvec env = STRVEC_INIT;
	const char *oarch, *variant;
	char created[32], *user;
	bool have_ca = false;

	(void)e;
	time_rfc3339(c->epoch, created);
	oci_deb_platform(c->arch, &oarch, &variant);
	for (size_t i = 0; i < c->la->npkgs; i++)
		if (!strcmp(c->la->pkgs[i].name, "ca-certificates"))
			have_ca = true;
	sv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (have_ca)
		sv_push(&env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt");
	for (size_t i = 0; r && i < r->env.n; i++)
		env_set(&env, r->env.v[i]);

	cJSON_AddStringToObject(cfg, "created", created);
	cJSON_AddStringToObject(cfg, "architecture", oarch);
	if (variant)
		cJSON_AddStringToObject(cfg, "variant", variant);
	cJSON_AddStringToObject(cfg, "os", "linux");
	cc = cJSON_AddObjectToObject(cfg, "config");
	user = image_user(r);
	cJSON_AddStringToObject(cc, "User", user);
	free(user);
	cJSON_AddItemToObject(cc, "Env", string_array(&env));
	if (r && r->has_entrypoint)
		cJSON_AddItemToObject(cc, "Entrypoint", string_array(&r->entrypoint));
	if (r && r->has_cmd)
		cJSON_AddItemToObject(cc, "Cmd", string_array(&r->cmd));
	if (r && r->healthcheck.n) { /* exec form: "CMD", then the argv */
		cJSON *hc = cJSON_AddObjectToObject(cc, "Healthcheck"), *t = string_array(&r->healthcheck);

		cJSON_InsertItemInArray(t, 0, cJSON_CreateString("CMD"));
		cJSON_AddItemToObject(hc, "Test", t);
	}
	cJSON_AddStringToObject(cc, "WorkingDir", r && r->workdir ? r->workdir : "/");
	if (r && r->nlabels) {
		cJSON *l = cJSON_AddObjectToObject(cc, "Labels");

		for (size_t i = 0; i < r->nlabels; i++)
			cJSON_AddStringToObject(l, r->labels[i].key, r->labels[i].value);
	}
	rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
	cJSON_AddStringToObject(rootfs, "type", "layers");
	ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
	hist = cJSON_AddArrayToObject(cfg, "history");
	for (size_t i = 0; i < img->nlayers; i++) {
		cJSON *h = cJSON_CreateObject();
		char *by = xasprintf("pare %s: %s", PARE_VERSION,
				     img->layers[i].comment ? img->layers[i].comment : "layer");

		cJSON_AddItemToArray(ids, cJSON_CreateString(img->layers[i].diff_id));
		cJSON_AddStringToObject(h, "created", created);
		cJSON_AddStringToObject(h, "created_by", by);
		cJSON_AddItemToArray(hist, h);
		free(by);
	}
	img->config_json = oci_json_print(cfg);
	oci_digest_of(img->config_json, img->config_digest);
	cJSON_Delete(cfg);
	sv_clear(&env);

	man = cJSON_CreateObject();
	cJSON_AddNumberToObject(man, "schemaVersion", 2);
	cJSON_AddStringToObject(man, "mediaType", OCI_MT_MANIFEST);
	cJSON_AddItemToObject(man, "config", oci_descriptor(OCI_MT_CONFIG, img->config_digest,
							strlen(img->config_json)));
	layers = cJSON_AddArrayToObject(man, "layers");
	for (size_t i = 0; i < img->nlayers; i++)
		cJSON_AddItemToArray(layers, oci_descriptor(img->layers[i].media_type,
							img->layers[i].digest,
							img->layers[i].size));
	ann = cJSON_AddObjectToObject(man, "annotations");
	cJSON_AddStringToObject(ann, OCI_ANN_CREATED, created);
	if (r && r->name)
		cJSON_AddStringToObject(ann, OCI_ANN_TITLE, r->name);
	if (r && r->description)
		cJSON_AddStringToObject(ann, OCI_ANN_DESCRIPTION, r->description);
	/* What the signer's SLSA provenance names as externalParameters. */
	if (r && r->name)
		cJSON_AddStringToObject(ann, OCI_ANN_RECIPE_NAME, r->name);
	if (c->lr && c->lr->recipe_sha256)
		cJSON_AddStringToObject(ann, OCI_ANN_RECIPE_SHA256, c->lr->recipe_sha256);
	/* The recipes' git commit is not here: the image is a function of the
	 * recipe and its lock entry, so a commit that changes neither must not
	 * change its digest.  builder_write_layout records the commit beside the image, in
	 * the layout's index.json, where the signer's provenance takes it. */
	if (c->o && c->o->source_url && *c->o->source_url)
		cJSON_AddStringToObject(ann, OCI_ANN_SOURCE, c->o->source_url);
	for (size_t i = 0; r && i < r->nannotations; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(ann, r->annotations[i].key);
		cJSON_AddStringToObject(ann, r->annotations[i].key, r->annotations[i].value);
	}
	img->manifest_json = oci_json_print(man);
	oci_digest_of(img->manifest_json, img->manifest_digest);
	cJSON_Delete(man);
	img->arch = c->arch;
	return 0;
}

char *builder_index_json(const struct recipe *r, const struct oci_image *imgs,
			 size_t n, int64_t epoch)
{
	cJSON *idx = cJSON_CreateObject(), *m, *ann;
	char created[32], *s;

	time_rfc3339(epoch, created);
	cJSON_AddNumberToObject(idx, "schemaVersion", 2);
	cJSON_AddStringToObject(idx, "mediaType", OCI_MT_INDEX);
	m = cJSON_AddArrayToObject(idx, "manifests");
	for (size_t i = 0; i < n; i++) {
		cJSON *d = oci_descriptor(OCI_MT_MANIFEST, imgs[i].manifest_digest,
				      strlen(imgs[i].manifest_json));
		cJSON *p = cJSON_AddObjectToObject(d, "platform");
		const char *oarch, *variant;

		oci_deb_platform(imgs[i].arch, &oarch, &variant);
		cJSON_AddStringToObject(p, "architecture", oarch);
		cJSON_AddStringToObject(p, "os", "linux");
		if (variant)
			cJSON_AddStringToObject(p, "variant", variant);
		cJSON_AddItemToArray(m, d);
	}
	ann = cJSON_AddObjectToObject(idx, "annotations");
	cJSON_AddStringToObject(ann, OCI_ANN_CREATED, created);
	if (r && r->name) {
		cJSON_AddStringToObject(ann, OCI_ANN_TITLE, r->name);
		cJSON_AddStringToObject(ann, OCI_ANN_RECIPE_NAME, r->name);
	}
	s = oci_json_print(idx);
	cJSON_Delete(idx);
	return s;
}

void builder_image_release(struct oci_image *img)
{
	for (size_t i = 0; i < img->nlayers; i++)
		layer_desc_release(&img->layers[i]);
	free(img->layers);
	free(img->config_json);
	free(img->manifest_json);
	memset(img, 0, sizeof(*img));
}

/* Finish an SBOM artifact: take the document, then its OCI 1.1 artifact
 * manifest (empty config, the document as the one layer, subject, created
 * and one pare annotation). */
static void sbom_artifact_finish(struct oci_artifact *a, strbuf *doc, cJSON *subject,
				 const char *created, const char *ann_key, const char *ann_val)
{
	char empty[7 + SHA256_HEX_LEN + 1];
	cJSON *man, *layers, *ann;

	oci_digest_of("{}", empty);
	a->doclen = doc->len;
	a->doc = sb_detach(doc);
	oci_digest_of(a->doc, a->doc_digest);
	man = cJSON_CreateObject();
	cJSON_AddNumberToObject(man, "schemaVersion", 2);
	cJSON_AddStringToObject(man, "mediaType", OCI_MT_MANIFEST);
	cJSON_AddStringToObject(man, "artifactType", a->media_type);
	cJSON_AddItemToObject(man, "config", oci_descriptor(OCI_MT_EMPTY, empty, 2));
	layers = cJSON_AddArrayToObject(man, "layers");
	cJSON_AddItemToArray(layers, oci_descriptor(a->media_type, a->doc_digest, a->doclen));
	cJSON_AddItemToObject(man, "subject", subject);
	ann = cJSON_AddObjectToObject(man, "annotations");
	cJSON_AddStringToObject(ann, OCI_ANN_CREATED, created);
	cJSON_AddStringToObject(ann, ann_key, ann_val);
	a->manifest_json = oci_json_print(man);
	cJSON_Delete(man);
	oci_digest_of(a->manifest_json, a->manifest_digest);
}

/* The image's SBOM documents, one per thread: they are independent, and
 * rendering them (cJSON) is most of a warm or one-layer rebuild's CPU. */
static const struct { enum sbom_format f; const char *name, *mt; bool files; }
sbom_fmts[OCI_SBOM_ARTIFACTS] = {
	/* Package-level first: the default document of each format. */
	{ SBOM_SPDX, "spdx", OCI_MT_SPDX, false },
	{ SBOM_CYCLONEDX, "cyclonedx", OCI_MT_CYCLONEDX, false },
	{ SBOM_SPDX, "spdx", OCI_MT_SPDX, true },
	{ SBOM_CYCLONEDX, "cyclonedx", OCI_MT_CYCLONEDX, true },
};

struct sbom_jobs {
	const struct oci_image *img;
	const struct sbom_image *sb;
	const char *created;
	struct oci_artifact *out;
	perr errs[OCI_SBOM_ARTIFACTS];
	int rets[OCI_SBOM_ARTIFACTS];
	pthread_mutex_t mu;
	int next;
};

static void sbom_job(struct sbom_jobs *j, int k)
{
	strbuf doc = STRBUF_INIT;

	j->rets[k] = sbom_write(j->sb, sbom_fmts[k].f, sbom_fmts[k].files, &doc, &j->errs[k]);
	if (j->rets[k] < 0) {
		sb_release(&doc);
		return;
	}
	j->out[k].format = sbom_fmts[k].name;
	j->out[k].media_type = sbom_fmts[k].mt;
	j->out[k].arch = j->img->arch;
	j->out[k].files = sbom_fmts[k].files;
	/* The annotation is in the artifact itself too: a registry's
	 * referrers API lists the manifest's annotations, which is how a
	 * client tells the two documents of one format apart. */
	sbom_artifact_finish(&j->out[k], &doc,
			     oci_descriptor(OCI_MT_MANIFEST, j->img->manifest_digest,
					strlen(j->img->manifest_json)),
			     j->created, OCI_ANN_SBOM_FILES, sbom_fmts[k].files ? "true" : "false");
	debug("%s: %s SBOM%s: %zu bytes", j->img->arch, sbom_fmts[k].name,
	      sbom_fmts[k].files ? " with files" : "", j->out[k].doclen);
}

static void *sbom_worker(void *arg)
{
	struct sbom_jobs *j = arg;

	for (;;) {
		int k;

		pthread_mutex_lock(&j->mu);
		k = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (k >= OCI_SBOM_ARTIFACTS)
			return NULL;
		sbom_job(j, k);
	}
}

int builder_sbom_artifacts(const struct oci_image *img, const struct sbom_image *sb,
			   int64_t epoch, struct oci_artifact out[OCI_SBOM_ARTIFACTS], perr *e)
{
	struct sbom_jobs j = { .img = img, .sb = sb, .out = out };
	pthread_t th[OCI_SBOM_ARTIFACTS];
	size_t nth = 0, want = builder_nthreads();
	char created[32];
	int ret = 0;

	time_rfc3339(epoch, created);
	j.created = created;
	memset(out, 0, OCI_SBOM_ARTIFACTS * sizeof(*out));
	pthread_mutex_init(&j.mu, NULL);
	/* the main thread is one of the workers */
	for (; want > 1 && nth < want - 1 && nth < OCI_SBOM_ARTIFACTS - 1; nth++)
		if (pthread_create(&th[nth], NULL, sbom_worker, &j) != 0)
			break;
	sbom_worker(&j);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&j.mu);
	/* the first document that failed, in the fixed order */
	for (int k = 0; k < OCI_SBOM_ARTIFACTS; k++)
		if (j.rets[k] < 0) {
			*e = j.errs[k];
			ret = perr_prefix(e, "%s sbom%s", sbom_fmts[k].name,
					  sbom_fmts[k].files ? " with files" : "");
			break;
		}
	if (ret < 0)
		for (int k = 0; k < OCI_SBOM_ARTIFACTS; k++)
			builder_artifact_release(&out[k]);
	return ret;
}

int builder_index_sbom_artifacts(const char *index_json, const struct sbom_image *sbs, size_t n,
				 const struct oci_artifact *arts, int64_t epoch,
				 struct oci_artifact out[2], perr *e)
{
	static const struct { enum sbom_format f; const char *name, *mt; } fmts[2] = {
		{ SBOM_SPDX, "spdx", OCI_MT_SPDX },
		{ SBOM_CYCLONEDX, "cyclonedx", OCI_MT_CYCLONEDX },
	};
	char created[32], idx[7 + SHA256_HEX_LEN + 1];
	const char **docs = xcalloc(n + 1, sizeof(*docs));
	size_t *lens = xcalloc(n + 1, sizeof(*lens));
	int ret = -1;

	time_rfc3339(epoch, created);
	oci_digest_of(index_json, idx);
	memset(out, 0, 2 * sizeof(*out));
	for (int k = 0; k < 2; k++) {
		strbuf doc = STRBUF_INIT;

		/* each architecture's package-level document of this format */
		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < OCI_SBOM_ARTIFACTS; j++) {
				const struct oci_artifact *a = &arts[i * OCI_SBOM_ARTIFACTS + j];
				if (!a->files && !strcmp(a->format, fmts[k].name)) {
					docs[i] = a->doc;
					lens[i] = a->doclen;
				}
			}
		if (sbom_write_index(sbs, n, idx, docs, lens, fmts[k].f, &doc, e) < 0) {
			sb_release(&doc);
			perr_prefix(e, "index %s sbom", fmts[k].name);
			goto out;
		}
		out[k].format = fmts[k].name;
		out[k].media_type = fmts[k].mt;
		out[k].index = true;
		sbom_artifact_finish(&out[k], &doc, oci_descriptor(OCI_MT_INDEX, idx, strlen(index_json)),
				     created, OCI_ANN_SBOM_INDEX, "true");
	}
	ret = 0;
out:
	if (ret < 0) {
		builder_artifact_release(&out[0]);
		builder_artifact_release(&out[1]);
	}
	free(docs);
	free(lens);
	return ret;
}

void builder_artifact_release(struct oci_artifact *a)
{
	free(a->doc);
	free(a->manifest_json);
	memset(a, 0, sizeof(*a));
}

int builder_write_layout(const struct build_opts *o, const struct oci_image *imgs, size_t n,
			 const struct oci_artifact *arts, size_t narts,
			 const char *index_json, int64_t epoch, perr *e)
{
	struct oci_file *f = NULL;
	size_t nf = 0, alloc = 0;
	char idxdig[7 + SHA256_HEX_LEN + 1];
	char *top = NULL;
	struct oci_out oo = { o->outdir, o->tarfile, o->out_flags, epoch, o->finish, o->finish_arg };
	int ret;
	cJSON *j, *m, *d, *ann;

#define ADD(nm, dt, ln, sr)                                                    \
	do {                                                                   \
		ALLOC_GROW(f, nf + 1, alloc);                                  \
		f[nf].name = (nm);                                             \
		f[nf].data = (dt);                                             \
		f[nf].len = (ln);                                              \
		f[nf++].src = (sr);                                            \
	} while (0)

	oci_digest_of(index_json, idxdig);
	j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "schemaVersion", 2);
	cJSON_AddStringToObject(j, "mediaType", OCI_MT_INDEX);
	m = cJSON_AddArrayToObject(j, "manifests");
	if (o->single_platform) {
		/* --platform: the one image manifest, with its platform, is the
		 * tagged entry (no image index blob) */
		const char *oarch, *variant;
		cJSON *p;

		d = oci_descriptor(OCI_MT_MANIFEST, imgs[0].manifest_digest, strlen(imgs[0].manifest_json));
		oci_deb_platform(imgs[0].arch, &oarch, &variant);
		p = cJSON_AddObjectToObject(d, "platform");
		cJSON_AddStringToObject(p, "architecture", oarch);
		cJSON_AddStringToObject(p, "os", "linux");
		if (variant)
			cJSON_AddStringToObject(p, "variant", variant);
	} else {
		d = oci_descriptor(OCI_MT_INDEX, idxdig, strlen(index_json));
	}
	ann = cJSON_AddObjectToObject(d, "annotations");
	cJSON_AddStringToObject(ann, OCI_ANN_REF_NAME,
				o->tag && *o->tag ? o->tag : "latest");
	if (o->more_tags && o->more_tags->n) {
		/* every tag of the recipe, for pare push (one ref name per
		 * image keeps the layout simple for every other reader) */
		strbuf tags = STRBUF_INIT;

		for (size_t i = 0; i < o->more_tags->n; i++)
			sb_addf(&tags, "%s%s", i ? "," : "", o->more_tags->v[i]);
		cJSON_AddStringToObject(ann, OCI_ANN_TAGS, tags.buf);
		sb_release(&tags);
	}
	/* where the recipe came from: provenance, not part of the image */
	if (o->git_commit) {
		cJSON_AddStringToObject(ann, OCI_ANN_RECIPE_GIT_COMMIT, o->git_commit);
		if (o->git_dirty)
			cJSON_AddStringToObject(ann, OCI_ANN_RECIPE_GIT_DIRTY, "true");
	}
	cJSON_AddItemToArray(m, d);
	for (size_t i = 0; i < narts; i++) {
		d = oci_descriptor(OCI_MT_MANIFEST, arts[i].manifest_digest, strlen(arts[i].manifest_json));
		cJSON_AddStringToObject(d, "artifactType", arts[i].media_type);
		ann = cJSON_AddObjectToObject(d, "annotations");
		cJSON_AddStringToObject(ann, OCI_ANN_SBOM_FORMAT, arts[i].format);
		if (arts[i].index) {
			cJSON_AddStringToObject(ann, OCI_ANN_SBOM_INDEX, "true");
		} else {
			cJSON_AddStringToObject(ann, OCI_ANN_SBOM_ARCH, arts[i].arch);
			cJSON_AddStringToObject(ann, OCI_ANN_SBOM_FILES,
						arts[i].files ? "true" : "false");
		}
		cJSON_AddItemToArray(m, d);
	}
	out_mark_index(j);
	top = oci_json_print(j);
	cJSON_Delete(j);

	ADD(xstrdup("oci-layout"), OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON), NULL);
	ADD(xstrdup("index.json"), top, strlen(top), NULL);
	if (!o->single_platform)
		ADD(xasprintf("blobs/sha256/%s", idxdig + 7), index_json, strlen(index_json), NULL);
	for (size_t i = 0; i < n; i++) {
		ADD(xasprintf("blobs/sha256/%s", imgs[i].config_digest + 7),
		    imgs[i].config_json, strlen(imgs[i].config_json), NULL);
		ADD(xasprintf("blobs/sha256/%s", imgs[i].manifest_digest + 7),
		    imgs[i].manifest_json, strlen(imgs[i].manifest_json), NULL);
		for (size_t k = 0; k < imgs[i].nlayers; k++)
			ADD(xasprintf("blobs/sha256/%s", imgs[i].layers[k].digest + 7), NULL, 0,
			    imgs[i].layers[k].blob);
	}
	if (narts)
		ADD(xasprintf("blobs/sha256/%s", OCI_SHA256_EMPTY_JSON), "{}", 2, NULL);
	for (size_t i = 0; i < narts; i++) {
		ADD(xasprintf("blobs/sha256/%s", arts[i].manifest_digest + 7),
		    arts[i].manifest_json, strlen(arts[i].manifest_json), NULL);
		ADD(xasprintf("blobs/sha256/%s", arts[i].doc_digest + 7), arts[i].doc,
		    arts[i].doclen, NULL);
	}
#undef ADD
	ret = oci_layout_write(&oo, f, &nf, e);
	for (size_t i = 0; i < nf; i++)
		free(f[i].name);
	free(f);
	free(top);
	return ret;
}
