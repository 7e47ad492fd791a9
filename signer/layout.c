/* layout.c - the few OCI image layout operations the signer needs: blobs
 * (read with digest check, write content-addressed), index.json, and finding
 * what to sign. */
#define _GNU_SOURCE
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *json_str(const cJSON *obj, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t json_size(const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "size");

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
		return -1;
	/* no blob is that large, and converting a double beyond int64_t is
	 * undefined: a size that cannot be right never matches */
	if (v->valuedouble >= 9007199254740992.0)
		return INT64_MAX;
	return (int64_t)v->valuedouble;
}

const char *annotation(const cJSON *obj, const char *key)
{
	return json_str(cJSON_GetObjectItemCaseSensitive(obj, "annotations"), key);
}

cJSON *descriptor(const char *media_type, const char *digest, int64_t size)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "mediaType", media_type);
	cJSON_AddStringToObject(d, "digest", digest);
	cJSON_AddNumberToObject(d, "size", (double)size);
	return d;
}

char *cosign_tag(const char *digest, const char *suffix)
{
	return xasprintf("sha256-%s%s", digest + strlen("sha256:"), suffix);
}

static int blob_path(const struct layout *l, const char *digest, char **path, perr *e)
{
	/* every blob read comes here, with digests straight from the layout's
	 * (unsigned) JSON: absent, or anything at all */
	if (!digest)
		return perr_set(e, "%s: a descriptor without a digest", l->dir);
	if (!str_starts(digest, "sha256:") || !is_sha256_hex(digest + 7)) {
		bool printable = strlen(digest) <= 80;
		for (const unsigned char *p = (const unsigned char *)digest; *p && printable; p++)
			printable = *p >= 0x20 && *p != 0x7f;
		return perr_set(e, "%s: unsupported or malformed digest '%s'", l->dir,
				printable ? digest : "(unprintable)");
	}
	*path = xasprintf("%s/blobs/sha256/%s", l->dir, digest + 7);
	return 0;
}

int layout_open(const char *dir, struct layout *l, perr *e)
{
	strbuf buf = STRBUF_INIT;
	char *p = path_join(dir, "oci-layout");
	const cJSON *m;
	int ret = -1;

	memset(l, 0, sizeof(*l));
	if (!path_exists(p)) {
		perr_set(e, "'%s' is not an OCI image layout (no oci-layout file)", dir);
		goto out;
	}
	free(p);
	p = path_join(dir, "index.json");
	if (read_file(p, &buf, 64 << 20, e) < 0)
		goto out;
	l->index = cJSON_ParseWithLength(buf.buf, buf.len);
	m = cJSON_GetObjectItemCaseSensitive(l->index, "manifests");
	if (!cJSON_IsArray(m)) {
		perr_set(e, "'%s': not an OCI index (no manifests array)", p);
		goto out;
	}
	l->dir = xstrdup(dir);
	ret = 0;
out:
	if (ret < 0) {
		cJSON_Delete(l->index);
		l->index = NULL;
	}
	free(p);
	sb_release(&buf);
	return ret;
}

void layout_close(struct layout *l)
{
	sv_clear(&l->written);
	cJSON_Delete(l->index);
	free(l->dir);
	memset(l, 0, sizeof(*l));
}

int layout_read_blob(const struct layout *l, const char *digest, int64_t size,
		     strbuf *out, perr *e)
{
	char *path = NULL, hex[SHA256_HEX_LEN + 1];
	int ret = -1;

	sb_reset(out);
	if (blob_path(l, digest, &path, e) < 0)
		goto out;
	if (read_file(path, out, 256 << 20, e) < 0)
		goto out;
	sha256_hex(out->buf, out->len, hex);
	if (strcmp(hex, digest + 7)) {
		perr_set(e, "blob %s does not match its digest (content hashes to sha256:%s)", digest, hex);
		goto out;
	}
	if (size >= 0 && (int64_t)out->len != size) {
		perr_set(e, "blob %s is %zu bytes, descriptor says %lld", digest, out->len, (long long)size);
		goto out;
	}
	ret = 0;
out:
	free(path);
	return ret;
}

int layout_check_blob(const struct layout *l, const char *digest, int64_t size, perr *e)
{
	char *path = NULL, hex[SHA256_HEX_LEN + 1];
	uint64_t got = 0;
	int ret = -1;

	if (blob_path(l, digest, &path, e) < 0)
		goto out;
	if (sha256_file(path, hex, &got, e) < 0)
		goto out;
	if (strcmp(hex, digest + 7)) {
		perr_set(e, "blob %s does not match its digest (content hashes to sha256:%s)", digest, hex);
		goto out;
	}
	if (size >= 0 && (int64_t)got != size) {
		perr_set(e, "blob %s is %llu bytes, descriptor says %lld", digest,
			 (unsigned long long)got, (long long)size);
		goto out;
	}
	ret = 0;
out:
	free(path);
	return ret;
}

int layout_write_blob(struct layout *l, const void *data, size_t n, char digest[80],
		      perr *e)
{
	char hex[SHA256_HEX_LEN + 1], *dir, *path;
	int ret = -1;

	sha256_hex(data, n, hex);
	snprintf(digest, 80, "sha256:%s", hex);
	dir = xasprintf("%s/blobs/sha256", l->dir);
	path = xasprintf("%s/%s", dir, hex);
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	/* Content-addressed: an existing blob with this name already holds
	 * these bytes (verify re-hashes it anyway). */
	if (!path_exists(path)) {
		if (write_file_atomic(path, data, n, 0644, e) < 0)
			goto out;
		sv_push(&l->written, path);
	}
	ret = 0;
out:
	free(dir);
	free(path);
	return ret;
}

int layout_save_index(const struct layout *l, perr *e)
{
	char *text = cJSON_PrintUnformatted(l->index), *path = path_join(l->dir, "index.json");
	int ret = write_file_atomic(path, text, strlen(text), 0644, e);

	free(text);
	free(path);
	return ret;
}

cJSON *layout_find_ref(const struct layout *l, const char *ref)
{
	cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(l->index, "manifests")) {
		const char *r = annotation(d, ANN_REF_NAME);
		if (r && !strcmp(r, ref))
			return d;
	}
	return NULL;
}

void layout_set_ref(struct layout *l, const char *ref, cJSON *desc)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(l->index, "manifests"), *d, *ann;
	int i = 0;

	ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
	if (!ann)
		ann = cJSON_AddObjectToObject(desc, "annotations");
	cJSON_DeleteItemFromObjectCaseSensitive(ann, ANN_REF_NAME);
	cJSON_AddStringToObject(ann, ANN_REF_NAME, ref);
	cJSON_ArrayForEach(d, m) {
		const char *r = annotation(d, ANN_REF_NAME);
		if (r && !strcmp(r, ref)) {
			cJSON_ReplaceItemInArray(m, i, desc);
			return;
		}
		i++;
	}
	cJSON_AddItemToArray(m, desc);
}

static bool is_index_mt(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

static bool is_manifest_mt(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST));
}

static char *platform_arch(const cJSON *obj)
{
	const char *a = json_str(obj, "architecture"), *v = json_str(obj, "variant");

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
	x->digest = xstrdup(json_str(desc, "digest"));
	x->media_type = xstrdup(json_str(desc, "mediaType"));
	x->size = json_size(desc);
	x->arch = arch;
	x->is_index = is_index_mt(x->media_type);
	x->doc = doc;
	x->git_commit = NULL; /* set by layout_targets once the image is read */
	x->git_dirty = false;
}

void targets_free(struct target *t, size_t n)
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

/* Parse a manifest blob named by a descriptor (digest and size checked). */
static int read_json_blob(const struct layout *l, const cJSON *desc, cJSON **out, perr *e)
{
	strbuf buf = STRBUF_INIT;
	const char *dg = json_str(desc, "digest");
	int ret = -1;

	if (!dg) {
		perr_set(e, "%s/index.json: descriptor without digest", l->dir);
		goto out;
	}
	if (layout_read_blob(l, dg, json_size(desc), &buf, e) < 0)
		goto out;
	*out = cJSON_ParseWithLength(buf.buf, buf.len);
	if (!*out) {
		perr_set(e, "blob %s is not JSON", dg);
		goto out;
	}
	ret = 0;
out:
	sb_release(&buf);
	return ret;
}

int layout_targets(const struct layout *l, struct target **out, size_t *n,
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
		const char *mt = json_str(d, "mediaType"), *ref = annotation(d, ANN_REF_NAME);

		if (ref && str_starts(ref, "sha256-"))
			continue; /* cosign tags and referrers fallback indexes */
		if (annotation(d, ANN_SBOM_FORMAT))
			continue;
		if (!is_index_mt(mt) && !is_manifest_mt(mt))
			continue;
		if (read_json_blob(l, d, &doc, e) < 0)
			goto out;
		if (cJSON_GetObjectItemCaseSensitive(doc, "subject") ||
		    cJSON_GetObjectItemCaseSensitive(doc, "artifactType")) {
			cJSON_Delete(doc), doc = NULL;
			continue; /* an artifact about an image, not an image */
		}
		if (ref && !*ref_name)
			*ref_name = xstrdup(ref);
		size_t first = nt;
		if (is_index_mt(mt)) {
			target_add(&t, &nt, &alloc, d, xstrdup("index"), doc);
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "manifests")) {
				char *arch;

				if (!is_manifest_mt(json_str(c, "mediaType")))
					continue;
				arch = platform_arch(cJSON_GetObjectItemCaseSensitive(c, "platform"));
				if (read_json_blob(l, c, &child, e) < 0) {
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

			if (read_json_blob(l, cd, &cfg, e) < 0)
				goto out;
			arch = platform_arch(cfg);
			cJSON_Delete(cfg), cfg = NULL;
			target_add(&t, &nt, &alloc, d, arch ? arch : xstrdup("unknown"), doc);
			doc = NULL;
		}
		/* the image and its manifests were built from this commit */
		for (size_t i = first; i < nt; i++) {
			const char *commit = annotation(d, "dev.pare.recipe.git-commit");
			t[i].git_commit = commit ? xstrdup(commit) : NULL;
			t[i].git_dirty = annotation(d, "dev.pare.recipe.git-dirty") != NULL;
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
	targets_free(t, t ? nt : 0);
	cJSON_Delete(doc);
	cJSON_Delete(child);
	cJSON_Delete(cfg);
	sb_release(&buf);
	return ret;
}

void sboms_free(struct sbom_artifact *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].subject);
		free(s[i].manifest_digest);
		sb_release(&s[i].doc);
	}
	free(s);
}

bool sboms_about(const struct sbom_artifact *s, size_t n, const char *digest)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].subject, digest))
			return true;
	return false;
}

/* SBOM artifacts: manifests in index.json with a subject and an SPDX or
 * CycloneDX artifactType (or the builder's dev.pare.sbom.format annotation). */
int layout_sboms(const struct layout *l, struct sbom_artifact **out, size_t *n, perr *e)
{
	struct sbom_artifact *s = NULL;
	size_t ns = 0, alloc = 0;
	const cJSON *d;
	cJSON *doc = NULL;
	int ret = -1;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(l->index, "manifests")) {
		const char *ref = annotation(d, ANN_REF_NAME), *at, *subj, *fmt, *pred = NULL;
		const cJSON *layer;

		if ((ref && str_starts(ref, "sha256-")) || !is_manifest_mt(json_str(d, "mediaType")))
			continue;
		if (read_json_blob(l, d, &doc, e) < 0)
			goto out;
		at = json_str(doc, "artifactType");
		subj = json_str(cJSON_GetObjectItemCaseSensitive(doc, "subject"), "digest");
		fmt = annotation(d, ANN_SBOM_FORMAT);
		if ((at && !strcmp(at, MT_SPDX)) || (fmt && str_starts(fmt, "spdx")))
			pred = SIGNER_PRED_SPDX;
		else if ((at && !strcmp(at, MT_CYCLONEDX)) || (fmt && str_starts(fmt, "cyclonedx")))
			pred = SIGNER_PRED_CYCLONEDX;
		if (!pred || !subj) {
			cJSON_Delete(doc), doc = NULL;
			continue;
		}
		layer = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "layers"), 0);
		if (!layer) {
			perr_set(e, "sbom artifact %s has no layer", json_str(d, "digest"));
			goto out;
		}
		ALLOC_GROW(s, ns + 1, alloc);
		memset(&s[ns], 0, sizeof(s[ns]));
		s[ns].subject = xstrdup(subj);
		s[ns].predicate = pred;
		s[ns].manifest_digest = xstrdup(json_str(d, "digest"));
		s[ns].for_index = annotation(d, "dev.pare.sbom.index") ? 1 :
				  annotation(d, "dev.pare.sbom.arch") ? 0 : -1;
		ns++;
		if (layout_read_blob(l, json_str(layer, "digest"),
				     json_size(layer),
				     &s[ns - 1].doc, e) < 0)
			goto out;
		cJSON_Delete(doc), doc = NULL;
	}
	*out = s, *n = ns, s = NULL;
	ret = 0;
out:
	sboms_free(s, s ? ns : 0);
	cJSON_Delete(doc);
	return ret;
}
