/* layout.c - what the signer finds in an OCI image layout (oci/ reads it):
 * the images to sign and the SBOM artifacts to attest. */
#define _GNU_SOURCE
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *platform_arch(const cJSON *obj)
{
	const char *a = oci_json_str(obj, "architecture"), *v = oci_json_str(obj, "variant");

	if (!a || !*a)
		return NULL;
	return v && *v ? xasprintf("%s/%s", a, v) : xstrdup(a);
}

static void target_add(struct target **t, size_t *n, size_t *alloc, const cJSON *desc,
		       char *arch, cJSON *doc)
{
	struct target *x;

	ALLOC_GROW(*t, *n + 1, *alloc);
	x = &(*t)[(*n)++];
	x->digest = xstrdup(oci_json_str(desc, "digest"));
	x->media_type = xstrdup(oci_json_str(desc, "mediaType"));
	x->size = oci_json_size(desc);
	x->arch = arch;
	x->is_index = oci_mt_is_index(x->media_type);
	x->doc = doc;
	x->git_commit = NULL; /* set by signer_layout_targets once the image is read */
	x->git_dirty = false;
}

void signer_targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].digest);
		free(t[i].media_type);
		free(t[i].arch);
		free(t[i].git_commit);
		cJSON_Delete(t[i].doc);
	}
	free(t);
}

int signer_layout_targets(const struct oci_layout *l, struct target **out, size_t *n,
			  char **ref_name, perr *e)
{
	struct target *t = NULL;
	size_t nt = 0, alloc = 0;
	const cJSON *d, *c;
	cJSON *doc = NULL, *child = NULL, *cfg = NULL;
	strbuf buf = STRBUF_INIT;
	int ret = -1;

	*ref_name = NULL;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(l->index, "manifests")) {
		const char *mt = oci_json_str(d, "mediaType"), *ref = oci_annotation(d, OCI_ANN_REF_NAME);

		if (oci_tag_is_attached(ref))
			continue; /* cosign tags and referrers fallback indexes */
		if (oci_annotation(d, OCI_ANN_SBOM_FORMAT))
			continue;
		if (!oci_mt_is_index(mt) && !oci_mt_is_manifest(mt))
			continue;
		if (oci_layout_read_json(l, d, OCI_DOC_INDEX | OCI_DOC_MANIFEST, OCI_MAX_BLOB, &doc, e) < 0)
			goto out;
		if (cJSON_GetObjectItemCaseSensitive(doc, "subject") ||
		    cJSON_GetObjectItemCaseSensitive(doc, "artifactType")) {
			cJSON_Delete(doc), doc = NULL;
			continue; /* an artifact about an image, not an image */
		}
		if (ref && !*ref_name)
			*ref_name = xstrdup(ref);
		size_t first = nt;
		if (oci_mt_is_index(mt)) {
			target_add(&t, &nt, &alloc, d, xstrdup("index"), doc);
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "manifests")) {
				char *arch;

				if (!oci_mt_is_manifest(oci_json_str(c, "mediaType")))
					continue;
				arch = platform_arch(cJSON_GetObjectItemCaseSensitive(c, "platform"));
				if (oci_layout_read_json(l, c, OCI_DOC_MANIFEST, OCI_MAX_BLOB, &child, e) < 0) {
					free(arch);
					doc = NULL;
					goto out;
				}
				target_add(&t, &nt, &alloc, c, arch ? arch : xstrdup("unknown"), child);
				child = NULL;
			}
			doc = NULL;
		} else {
			const cJSON *cd = cJSON_GetObjectItemCaseSensitive(doc, "config");
			char *arch = NULL;

			if (oci_layout_read_json(l, cd, 0, OCI_MAX_BLOB, &cfg, e) < 0)
				goto out;
			arch = platform_arch(cfg);
			cJSON_Delete(cfg), cfg = NULL;
			target_add(&t, &nt, &alloc, d, arch ? arch : xstrdup("unknown"), doc);
			doc = NULL;
		}
		/* the image and its manifests were built from this commit */
		for (size_t i = first; i < nt; i++) {
			const char *commit = oci_annotation(d, OCI_ANN_RECIPE_GIT_COMMIT);
			t[i].git_commit = commit ? xstrdup(commit) : NULL;
			t[i].git_dirty = oci_annotation(d, OCI_ANN_RECIPE_GIT_DIRTY) != NULL;
		}
	}
	if (!nt) {
		perr_set(e, "%s/index.json: no image to sign", l->dir);
		goto out;
	}
	*out = t, *n = nt, t = NULL;
	ret = 0;
out:
	if (ret < 0) {
		free(*ref_name);
		*ref_name = NULL;
	}
	signer_targets_free(t, t ? nt : 0);
	cJSON_Delete(doc);
	cJSON_Delete(child);
	cJSON_Delete(cfg);
	sb_release(&buf);
	return ret;
}

void signer_sboms_free(struct sbom_artifact *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].subject);
		free(s[i].manifest_digest);
		sb_release(&s[i].doc);
	}
	free(s);
}

bool signer_sboms_about(const struct sbom_artifact *s, size_t n, const char *digest)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].subject, digest))
			return true;
	return false;
}

/* SBOM artifacts: manifests in index.json with a subject and an SPDX or
 * CycloneDX artifactType (or the builder's dev.pare.sbom.format annotation). */
int signer_layout_sboms(const struct oci_layout *l, struct sbom_artifact **out, size_t *n, perr *e)
{
	struct sbom_artifact *s = NULL;
	size_t ns = 0, alloc = 0;
	const cJSON *d;
	cJSON *doc = NULL;
	int ret = -1;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(l->index, "manifests")) {
		const char *ref = oci_annotation(d, OCI_ANN_REF_NAME), *at, *subj, *fmt, *pred = NULL;
		const cJSON *layer;

		if (oci_tag_is_attached(ref) || !oci_mt_is_manifest(oci_json_str(d, "mediaType")))
			continue;
		if (oci_layout_read_json(l, d, OCI_DOC_MANIFEST, OCI_MAX_BLOB, &doc, e) < 0)
			goto out;
		at = oci_json_str(doc, "artifactType");
		subj = oci_json_str(cJSON_GetObjectItemCaseSensitive(doc, "subject"), "digest");
		fmt = oci_annotation(d, OCI_ANN_SBOM_FORMAT);
		if ((at && !strcmp(at, OCI_MT_SPDX)) || (fmt && str_starts(fmt, "spdx")))
			pred = SIGNER_PRED_SPDX;
		else if ((at && !strcmp(at, OCI_MT_CYCLONEDX)) || (fmt && str_starts(fmt, "cyclonedx")))
			pred = SIGNER_PRED_CYCLONEDX;
		if (!pred || !subj) {
			cJSON_Delete(doc), doc = NULL;
			continue;
		}
		layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "layers"), 0);
		if (!layer) {
			perr_set(e, "sbom artifact %s has no layer", oci_json_str(d, "digest"));
			goto out;
		}
		ALLOC_GROW(s, ns + 1, alloc);
		memset(&s[ns], 0, sizeof(s[ns]));
		s[ns].subject = xstrdup(subj);
		s[ns].predicate = pred;
		s[ns].manifest_digest = xstrdup(oci_json_str(d, "digest"));
		s[ns].for_index = oci_annotation(d, OCI_ANN_SBOM_INDEX) ? 1 :
				  oci_annotation(d, OCI_ANN_SBOM_ARCH) ? 0 : -1;
		ns++;
		if (oci_layout_read_desc(l, layer, OCI_MAX_BLOB, &s[ns - 1].doc, e) < 0)
			goto out;
		cJSON_Delete(doc), doc = NULL;
	}
	*out = s, *n = ns, s = NULL;
	ret = 0;
out:
	signer_sboms_free(s, s ? ns : 0);
	cJSON_Delete(doc);
	return ret;
}
