/*
 * dir.c - an OCI image layout directory read and changed in place: blobs by
 * digest (written content-addressed and atomically, verified on every
 * read), index.json and its ref names, the JSON documents a descriptor names
 * (media type checked), the fields of descriptors, and cosign's tag scheme.
 * The signer, the registry and the commands read layouts through here.
 */
#define _GNU_SOURCE
#include "oci.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- descriptors and annotations ------------------------------------------- */

const char *oci_json_str(const cJSON *obj, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t oci_json_size(const cJSON *obj)
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

const char *oci_annotation(const cJSON *obj, const char *key)
{
	return oci_json_str(cJSON_GetObjectItemCaseSensitive(obj, "annotations"), key);
}

bool oci_digest_ok(const char *digest)
{
	return digest && str_starts(digest, "sha256:") && is_sha256_hex(digest + 7);
}

bool oci_desc_ok(const cJSON *d, const char **digest, uint64_t *size)
{
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(d, "size");

	*digest = oci_json_str(d, "digest");
	*size = 0;
	/* checked before the cast: a missing, negative, fractional or huge
	 * size is not a number a uint64_t can hold (and UB to convert) */
	if (!oci_digest_ok(*digest) || !cJSON_IsNumber(sz) || !(sz->valuedouble >= 0) ||
	    sz->valuedouble > 9007199254740992.0 ||
	    sz->valuedouble != (double)(uint64_t)sz->valuedouble)
		return false;
	*size = (uint64_t)sz->valuedouble;
	return true;
}

bool oci_mt_is_index(const char *mt)
{
	return mt && (!strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, OCI_MT_DOCKER_LIST));
}

bool oci_mt_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, OCI_MT_MANIFEST) || !strcmp(mt, OCI_MT_DOCKER_MANIFEST));
}

/* ---- cosign's tags and the referrers fallback ------------------------------ */

char *oci_cosign_tag(const char *digest, const char *suffix)
{
	return xasprintf("sha256-%s%s", digest + strlen("sha256:"), suffix);
}

bool oci_tag_is_attached(const char *tag)
{
	return tag && str_starts(tag, "sha256-");
}

/* ---- a layout directory ------------------------------------------------------ */

/* The path of blob digest, which comes straight from the layout's (unsigned)
 * JSON: absent, or anything at all. */
static int blob_path(const struct oci_layout *l, const char *digest, char **path, perr *e)
{
	if (!digest)
		return perr_set(e, "%s: a descriptor without a digest", l->dir);
	if (!oci_digest_ok(digest)) {
		bool printable = strlen(digest) <= 80;
		for (const unsigned char *p = (const unsigned char *)digest; *p && printable; p++)
			printable = *p >= 0x20 && *p != 0x7f;
		return perr_set(e, "%s: unsupported or malformed digest '%s'", l->dir,
				printable ? digest : "(unprintable)");
	}
	*path = xasprintf("%s/blobs/sha256/%s", l->dir, digest + 7);
	return 0;
}

int oci_layout_open(const char *dir, struct oci_layout *l, perr *e)
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
	if (read_file(p, &buf, OCI_MAX_JSON, e) < 0)
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

void oci_layout_close(struct oci_layout *l)
{
	sv_clear(&l->written);
	cJSON_Delete(l->index);
	free(l->dir);
	memset(l, 0, sizeof(*l));
}

int oci_layout_read_blob(const struct oci_layout *l, const char *digest, int64_t size, size_t max,
			 strbuf *out, perr *e)
{
	char *path = NULL, hex[SHA256_HEX_LEN + 1];
	int ret = -1;

	sb_reset(out);
	if (blob_path(l, digest, &path, e) < 0)
		goto out;
	if (read_file(path, out, max, e) < 0)
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

int oci_layout_read_desc(const struct oci_layout *l, const cJSON *desc, size_t max, strbuf *out,
			 perr *e)
{
	return oci_layout_read_blob(l, oci_json_str(desc, "digest"), oci_json_size(desc), max, out, e);
}

int oci_layout_check_blob(const struct oci_layout *l, const char *digest, int64_t size, perr *e)
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

/* What a wanted kind (OCI_DOC_*) accepts as a descriptor's media type. */
static bool doc_kind_ok(unsigned want, const char *mt)
{
	return !want || ((want & OCI_DOC_INDEX) && oci_mt_is_index(mt)) ||
	       ((want & OCI_DOC_MANIFEST) && oci_mt_is_manifest(mt));
}

int oci_layout_read_json(const struct oci_layout *l, const cJSON *desc, unsigned want,
			 size_t max, cJSON **out, perr *e)
{
	strbuf buf = STRBUF_INIT;
	const char *dg = oci_json_str(desc, "digest"), *mt = oci_json_str(desc, "mediaType"), *dmt;
	int ret = -1;

	*out = NULL;
	if (!dg) {
		perr_set(e, "%s/index.json: descriptor without digest", l->dir);
		goto out;
	}
	if (!doc_kind_ok(want, mt)) {
		perr_set(e, "%s: %s has media type '%s', not an image %s", l->dir, dg, mt ? mt : "",
			 want == OCI_DOC_INDEX	  ? "index" :
			 want == OCI_DOC_MANIFEST ? "manifest" :
						    "index or manifest");
		goto out;
	}
	if (oci_layout_read_blob(l, dg, oci_json_size(desc), max, &buf, e) < 0)
		goto out;
	*out = cJSON_ParseWithLength(buf.buf, buf.len);
	if (!*out) {
		perr_set(e, "blob %s is not JSON", dg);
		goto out;
	}
	/* an index or manifest that names its own media type says the same */
	dmt = oci_json_str(*out, "mediaType");
	if (want && dmt && mt && strcmp(dmt, mt)) {
		perr_set(e, "%s: %s is a '%s', its descriptor says '%s'", l->dir, dg, dmt, mt);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	sb_release(&buf);
	return ret;
}

int oci_layout_write_blob(struct oci_layout *l, const void *data, size_t n,
			  char digest[OCI_DIGEST_LEN + 1], perr *e)
{
	char hex[SHA256_HEX_LEN + 1], *dir, *path;
	int ret = -1;

	sha256_hex(data, n, hex);
	snprintf(digest, OCI_DIGEST_LEN + 1, "sha256:%s", hex);
	dir = xasprintf("%s/blobs/sha256", l->dir);
	path = xasprintf("%s/%s", dir, hex);
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	/* Content-addressed: an existing blob with this name already holds
	 * these bytes (every read re-hashes it anyway). */
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

int oci_layout_save_index(const struct oci_layout *l, perr *e)
{
	char *text = oci_json_print(l->index), *path = path_join(l->dir, "index.json");
	int ret = write_file_atomic(path, text, strlen(text), 0644, e);

	free(text);
	free(path);
	return ret;
}

cJSON *oci_layout_find_ref(const struct oci_layout *l, const char *ref)
{
	cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(l->index, "manifests")) {
		const char *r = oci_annotation(d, OCI_ANN_REF_NAME);
		if (r && !strcmp(r, ref))
			return d;
	}
	return NULL;
}

void oci_layout_set_ref(struct oci_layout *l, const char *ref, cJSON *desc)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(l->index, "manifests"), *d, *ann;
	int i = 0;

	ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
	if (!ann)
		ann = cJSON_AddObjectToObject(desc, "annotations");
	cJSON_DeleteItemFromObjectCaseSensitive(ann, OCI_ANN_REF_NAME);
	cJSON_AddStringToObject(ann, OCI_ANN_REF_NAME, ref);
	cJSON_ArrayForEach(d, m) {
		const char *r = oci_annotation(d, OCI_ANN_REF_NAME);
		if (r && !strcmp(r, ref)) {
			cJSON_ReplaceItemInArray(m, i, desc);
			return;
		}
		i++;
	}
	cJSON_AddItemToArray(m, desc);
}
