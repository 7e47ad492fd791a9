/* pull.c - an image from a registry into an OCI layout: manifests, blobs,
 * and per manifest its cosign tags and referrers (API or fallback tag).
 * Every byte is checked against its digest before it is kept; the layout is
 * built in a temporary sibling directory and renamed into place. */
#define _GNU_SOURCE
#include "registry_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCEPT_MANIFESTS                                                        \
	OCI_MT_INDEX ", " OCI_MT_MANIFEST ", " OCI_MT_DOCKER_LIST ", " OCI_MT_DOCKER_MANIFEST

struct pull {
	struct registry_ref ref;
	struct reg_client c;
	char *scope, *tmp;
	strvec seen;       /* manifest and blob digests already in tmp */
	cJSON *entries;    /* index.json manifests[] */
	struct registry_pull_result *res;
	const char *platform; /* --platform: the top index is only read, one child kept */
	bool manifests_only;
};

/* An image layer (not a signature, attestation or SBOM artifact's blob). */
static bool image_layer(const cJSON *d)
{
	const char *mt = oci_json_str(d, "mediaType");

	return mt && (str_starts(mt, OCI_MT_LAYER_PREFIX) || str_starts(mt, OCI_MT_DOCKER_LAYER_PREFIX));
}

static char *tmp_blob(const struct pull *p, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", p->tmp, digest + 7);
}

int registry_manifest_check(const char *host, const char *what, const char *body, size_t len,
			    const char *hdr_digest, const char *content_type, char digest[72],
			    char **mt, perr *e)
{
	char hex[SHA256_HEX_LEN + 1];
	cJSON *j = NULL;
	const char *m;
	int ret = -1;

	*mt = NULL;
	sha256_hex(body, len, hex);
	if ((str_starts(what, "sha256:") && strcmp(what + 7, hex)) ||
	    (hdr_digest && (!str_starts(hdr_digest, "sha256:") || strcmp(hdr_digest + 7, hex)))) {
		perr_set(e, "registry %s: manifest %s: the bytes have digest sha256:%s, not %s",
			 host, what, hex, str_starts(what, "sha256:") ? what : hdr_digest);
		goto out;
	}
	j = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(j)) {
		perr_set(e, "registry %s: manifest %s is not a JSON object", host, what);
		goto out;
	}
	m = oci_json_str(j, "mediaType") ? oci_json_str(j, "mediaType") : content_type ? content_type : OCI_MT_MANIFEST;
	*mt = xstrndup(m, strcspn(m, "; "));
	snprintf(digest, 72, "sha256:%s", hex);
	ret = 0;
out:
	cJSON_Delete(j);
	return ret;
}

int registry_descriptor(const char *host, const char *where, const cJSON *d, const char **digest,
			uint64_t *size, perr *e)
{
	if (oci_desc_ok(d, digest, size))
		return 0;
	if (!oci_digest_ok(*digest))
		return perr_set(e, "registry %s: %s: a descriptor without a sha256 digest", host, where);
	return perr_set(e, "registry %s: %s: descriptor %s has no valid size", host, where, *digest);
}

/* GET a manifest by tag or digest.  1 = got it (body, digest, media type),
 * 0 = 404.  A digest we asked for, or the registry's Docker-Content-Digest,
 * must be the sha256 of the bytes. */
static int get_manifest(struct pull *p, const char *what, strbuf *body, char digest[72],
			char **mt, perr *e)
{
	char *url = xasprintf("/v2/%s/manifests/%s", p->ref.repo, what);
	struct reg_req rq = { .method = "GET", .url = url, .scope = p->scope, .fd = -1,
			      .accept = ACCEPT_MANIFESTS, .max = 4 << 20 };
	struct reg_resp rs = { 0 };
	int ret = -1;

	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 404) {
		ret = 0;
		goto out;
	}
	if (rs.status != 200) {
		registry_status_error(&p->c, &rq, &rs, e);
		goto out;
	}
	if (registry_manifest_check(p->c.host, what, rs.body.buf, rs.body.len, rs.digest,
				    rs.content_type, digest, mt, e) < 0)
		goto out;
	sb_reset(body);
	sb_add(body, rs.body.buf, rs.body.len);
	ret = 1;
out:
	registry_resp_reset(&rs);
	free(url);
	return ret;
}

static int keep(struct pull *p, const char *digest, const void *data, size_t n, perr *e)
{
	char *path = tmp_blob(p, digest);
	int ret = write_file_atomic(path, data, n, 0644, e);
	free(path);
	return ret;
}

int registry_blob_get(struct reg_client *c, const char *repo, const char *scope,
		      const char *digest, uint64_t size, const char *part, const char *path,
		      uint64_t *got, perr *e)
{
	char *url = xasprintf("/v2/%s/blobs/%s", repo, digest), hex[SHA256_HEX_LEN + 1];
	struct reg_req rq = { .method = "GET", .url = url, .scope = scope, .fd = -1,
			      .sink_capped = true, .sink_max = size };
	struct reg_resp rs = { 0 };
	FILE *f = fopen(part, "w+");
	int ret = -1;

	*got = 0;
	if (!f) {
		perr_errno(e, "%s", part);
		goto out;
	}
	rq.sink = f;
	if (registry_do(c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status != 200) {
		registry_status_error(c, &rq, &rs, e);
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		perr_errno(e, "%s", part);
		goto out;
	}
	if (sha256_file(part, hex, got, e) < 0)
		goto out;
	if (strcmp(hex, digest + 7) || *got != size) {
		perr_set(e, "registry %s: blob %s: got %llu bytes with digest sha256:%s (want %llu bytes)",
			 c->host, digest, (unsigned long long)*got, hex, (unsigned long long)size);
		goto out;
	}
	if (rename(part, path) < 0) {
		perr_errno(e, "rename %s", part);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (ret < 0)
		unlink(part);
	registry_resp_reset(&rs);
	free(url);
	return ret;
}

static int get_blob(struct pull *p, const cJSON *d, const char *where, perr *e)
{
	const char *dg;
	uint64_t size, got;
	char *path, *part, *label;
	int ret;

	if (registry_descriptor(p->c.host, where, d, &dg, &size, e) < 0)
		return -1;
	if (sv_contains(&p->seen, dg))
		return 0;
	path = tmp_blob(p, dg);
	part = xasprintf("%s.part", path);
	label = xasprintf("pulling %.19s", dg);
	p->c.progress_label = label;
	ret = registry_blob_get(&p->c, p->ref.repo, p->scope, dg, size, part, path, &got, e);
	p->c.progress_label = NULL;
	if (ret == 0) {
		sv_push(&p->seen, dg);
		p->res->blobs++;
		p->res->bytes += got;
	}
	free(path), free(part), free(label);
	return ret;
}

/* A manifest and everything under it; *doc_out (optional) gets its JSON. */
static int get_tree(struct pull *p, const char *what, char digest[72], char **mt_out,
		    uint64_t *size_out, cJSON **doc_out, int depth, perr *e)
{
	strbuf body = STRBUF_INIT;
	char *mt = NULL;
	cJSON *doc = NULL;
	const cJSON *c;
	int ret = -1, r;

	if (depth > 8)
		return perr_set(e, "registry %s: manifests nested too deep at %s", p->c.host, what);
	r = get_manifest(p, what, &body, digest, &mt, e);
	if (r <= 0) {
		ret = r;
		goto out;
	}
	doc = cJSON_ParseWithLength(body.buf, body.len);
	/* --platform: the index is not part of the single-platform layout */
	if (!(depth == 0 && p->platform && oci_mt_is_index(mt)) && !sv_contains(&p->seen, digest)) {
		if (keep(p, digest, body.buf, body.len, e) < 0)
			goto out;
		sv_push(&p->seen, digest);
		p->res->manifests++;
		p->res->bytes += body.len;
		if (oci_mt_is_index(mt)) {
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "manifests")) {
				char cd[72];
				if (!oci_digest_ok(oci_json_str(c, "digest"))) {
					perr_set(e, "registry %s: index %s: a child without a sha256 digest",
						 p->c.host, digest);
					goto out;
				}
				r = get_tree(p, oci_json_str(c, "digest"), cd, NULL, NULL, NULL, depth + 1, e);
				if (r == 0)
					perr_set(e, "registry %s: index %s names %s, which is not there",
						 p->c.host, digest, oci_json_str(c, "digest"));
				if (r <= 0)
					goto out;
			}
		} else {
			char *where = xasprintf("manifest %s", digest);
			r = get_blob(p, cJSON_GetObjectItemCaseSensitive(doc, "config"), where, e);
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "layers"))
				if (r == 0 && !(p->manifests_only && image_layer(c)))
					r = get_blob(p, c, where, e);
			free(where);
			if (r < 0)
				goto out;
		}
	}
	if (mt_out)
		*mt_out = mt, mt = NULL;
	if (size_out)
		*size_out = body.len;
	if (doc_out)
		*doc_out = doc, doc = NULL;
	ret = 1;
out:
	cJSON_Delete(doc);
	sb_release(&body);
	free(mt);
	return ret;
}

static bool has_entry(const struct pull *p, const char *digest, const char *refname)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, p->entries) {
		const char *rn = oci_annotation(d, OCI_ANN_REF_NAME);
		if (!strcmp(oci_json_str(d, "digest"), digest) &&
		    ((!rn && !refname) || (rn && refname && !strcmp(rn, refname))))
			return true;
	}
	return false;
}

/* A tag such as sha256-HEX.sig: 0 when the registry has none. */
static int get_tag(struct pull *p, const char *tag, perr *e)
{
	char dg[72];
	char *mt = NULL;
	uint64_t size = 0;
	cJSON *d, *a;
	int r = get_tree(p, tag, dg, &mt, &size, NULL, 1, e);

	if (r == 1 && !has_entry(p, dg, tag)) {
		d = oci_descriptor(mt, dg, size);
		a = cJSON_AddObjectToObject(d, "annotations");
		cJSON_AddStringToObject(a, OCI_ANN_REF_NAME, tag);
		cJSON_AddItemToArray(p->entries, d);
	}
	free(mt);
	return r < 0 ? -1 : 0;
}

/* Referrers of digest (API, else the fallback tag); SBOM artifacts get the
 * annotations pare sbom looks for, with arch (may be NULL). */
static int get_referrers(struct pull *p, const char *digest, const char *arch, perr *e)
{
	char *url = xasprintf("/v2/%s/referrers/%s", p->ref.repo, digest);
	char *tag = oci_cosign_tag(digest, OCI_TAG_REFERRERS);
	struct reg_req rq = { .method = "GET", .url = url, .scope = p->scope, .fd = -1,
			      .accept = OCI_MT_INDEX, .max = 4 << 20 };
	struct reg_resp rs = { 0 };
	cJSON *list = NULL, *fb = NULL;
	const cJSON *d;
	char fd[72];
	char *fmt = NULL;
	uint64_t fsize;
	int ret = -1, r;

	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 200) {
		list = cJSON_ParseWithLength(rs.body.buf, rs.body.len);
	} else if (rs.status == 404) {
		/* no referrers API: the tag schema */
		r = get_tree(p, tag, fd, &fmt, &fsize, &list, 1, e);
		if (r < 0)
			goto out;
		if (r == 1 && !has_entry(p, fd, tag)) {
			cJSON *x = oci_descriptor(fmt, fd, fsize), *a = cJSON_AddObjectToObject(x, "annotations");
			cJSON_AddStringToObject(a, OCI_ANN_REF_NAME, tag);
			fb = x;
		}
	} else {
		registry_status_error(&p->c, &rq, &rs, e);
		goto out;
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(list, "manifests")) {
		const char *at = oci_json_str(d, "artifactType"), *f = NULL;
		char rd[72];
		char *rmt = NULL;
		uint64_t rsize = 0;

		if (!oci_digest_ok(oci_json_str(d, "digest")))
			continue;
		r = get_tree(p, oci_json_str(d, "digest"), rd, &rmt, &rsize, NULL, 1, e);
		if (r < 0) {
			free(rmt);
			goto out;
		}
		if (r == 1)
			p->res->referrers++;
		if (at && !strcmp(at, OCI_MT_SPDX))
			f = "spdx";
		else if (at && !strcmp(at, OCI_MT_CYCLONEDX))
			f = "cyclonedx";
		if (r == 1 && f && !has_entry(p, rd, NULL)) {
			cJSON *x = oci_descriptor(rmt, rd, rsize), *a;
			cJSON_AddStringToObject(x, "artifactType", at);
			a = cJSON_AddObjectToObject(x, "annotations");
			cJSON_AddStringToObject(a, OCI_ANN_SBOM_FORMAT, f);
			if (arch)
				cJSON_AddStringToObject(a, OCI_ANN_SBOM_ARCH, arch);
			cJSON_AddItemToArray(p->entries, x);
		}
		free(rmt);
	}
	if (fb)
		cJSON_AddItemToArray(p->entries, fb), fb = NULL;
	ret = 0;
out:
	registry_resp_reset(&rs);
	cJSON_Delete(list);
	cJSON_Delete(fb);
	free(url), free(tag), free(fmt);
	return ret;
}

/* .sig, .att and referrers of one manifest digest */
static int get_attached(struct pull *p, const char *digest, const char *arch, perr *e)
{
	char *sig = oci_cosign_tag(digest, OCI_TAG_SIG), *att = oci_cosign_tag(digest, OCI_TAG_ATT);
	int ret = -1;

	if (get_tag(p, sig, e) < 0 || get_tag(p, att, e) < 0 || get_referrers(p, digest, arch, e) < 0)
		goto out;
	ret = 0;
out:
	free(sig), free(att);
	return ret;
}

/* A platform object (an index entry's "platform", or an image config: the
 * same keys) is "OS/ARCH[/VARIANT]"; without a variant, any variant. */
static bool platform_is(const cJSON *pl, const char *want)
{
	const char *os = oci_json_str(pl, "os"), *arch = oci_json_str(pl, "architecture"), *var = oci_json_str(pl, "variant");
	char *have = xasprintf("%s/%s", os ? os : "", arch ? arch : "");
	char *full = var && *var ? xasprintf("%s/%s", have, var) : xstrdup(have);
	bool ok = !strcmp(want, have) || !strcmp(want, full);

	free(have), free(full);
	return ok;
}

static char *platform_str(const cJSON *pl)
{
	const char *var = oci_json_str(pl, "variant");

	return xasprintf("%s/%s%s%s", oci_json_str(pl, "os") ? oci_json_str(pl, "os") : "?",
			 oci_json_str(pl, "architecture") ? oci_json_str(pl, "architecture") : "?",
			 var && *var ? "/" : "", var && *var ? var : "");
}

/* --platform: the child of index doc for p->platform, fetched (its tree
 * kept); dg, mt, size, doc and *pl (a copy of its platform) describe it. */
static int pick_platform(struct pull *p, const char *refstr, char dg[72], char **mt,
			 uint64_t *size, cJSON **doc, cJSON **pl, perr *e)
{
	const cJSON *c, *hit = NULL;
	strbuf have = STRBUF_INIT;
	char *cd;
	int r;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(*doc, "manifests")) {
		const cJSON *cp = cJSON_GetObjectItemCaseSensitive(c, "platform");
		char *s;

		if (!cp)
			continue;
		if (!hit && platform_is(cp, p->platform))
			hit = c;
		s = platform_str(cp);
		sb_addf(&have, "%s%s", have.len ? ", " : "", s);
		free(s);
	}
	if (!hit || !oci_digest_ok(oci_json_str(hit, "digest"))) {
		perr_set(e, "registry %s: %s has no image for platform %s (it has: %s)", p->c.host,
			 refstr, p->platform, have.len ? have.buf : "none");
		sb_release(&have);
		return -1;
	}
	sb_release(&have);
	cd = xstrdup(oci_json_str(hit, "digest"));
	*pl = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(hit, "platform"), true);
	cJSON_Delete(*doc), *doc = NULL;
	free(*mt), *mt = NULL;
	r = get_tree(p, cd, dg, mt, size, doc, 1, e);
	if (r == 0)
		perr_set(e, "registry %s: %s names %s, which is not there", p->c.host, refstr, cd);
	free(cd);
	return r <= 0 ? -1 : 0;
}

/* --platform on a single image: its config must say that platform. */
static int check_platform(struct pull *p, const char *refstr, const cJSON *doc, perr *e)
{
	const char *cd = oci_json_str(cJSON_GetObjectItemCaseSensitive(doc, "config"), "digest");
	strbuf sb = STRBUF_INIT;
	cJSON *cfg = NULL;
	char *path, *s;
	int ret = -1;

	if (!oci_digest_ok(cd))
		return perr_set(e, "registry %s: %s: a config without a sha256 digest", p->c.host, refstr);
	path = tmp_blob(p, cd);
	if (read_file(path, &sb, 64 << 20, e) < 0)
		goto out;
	cfg = cJSON_ParseWithLength(sb.buf, sb.len);
	if (!platform_is(cfg, p->platform)) {
		s = platform_str(cfg);
		perr_set(e, "registry %s: %s is one image for %s, not %s", p->c.host, refstr, s,
			 p->platform);
		free(s);
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(cfg);
	sb_release(&sb);
	free(path);
	return ret;
}

/* The temporary layout lives beside DIR, outside the cache, so a record in
 * the cache, pulls/PID holding its absolute path, is written before it is
 * made: pare cache prune removes what a SIGKILLed pull left (a dead PID).
 * SIGINT and SIGTERM remove both (tmp_register).  The record's path, or
 * NULL with e set. */
static char *pull_record(const char *tmp, int *slot, perr *e)
{
	char *dir = path_join(pare_cache_dir(), "pulls"), *pd = path_dirname(tmp);
	char *real = NULL, *abs = NULL, *rec = NULL;

	*slot = -1;
	if (mkdir_p(pd, 0755, e) < 0 || mkdir_p(dir, 0755, e) < 0)
		goto out;
	if (!(real = realpath(pd, NULL))) {
		perr_errno(e, "%s", pd);
		goto out;
	}
	abs = path_join(real, path_basename(tmp));
	rec = xasprintf("%s/%ld", dir, (long)getpid());
	*slot = tmp_register(rec);
	if (write_file_atomic(rec, abs, strlen(abs), 0644, e) < 0) {
		tmp_unregister(*slot);
		*slot = -1;
		free(rec);
		rec = NULL;
	}
out:
	free(dir), free(pd), free(real), free(abs);
	return rec;
}

int registry_pull(const char *refstr, const char *dir, const struct registry_opts *o,
		  struct registry_pull_result *res, perr *e)
{
	struct pull p = { .res = res, .platform = o->platform, .manifests_only = o->manifests_only };
	cJSON *pl = NULL;
	char dg[72], *mt = NULL, *idxp = NULL, *text = NULL, *tag, *rec = NULL;
	uint64_t size = 0;
	cJSON *doc = NULL, *top = NULL, *d, *a;
	const cJSON *c;
	int ret = -1, r, slot = -1, rslot = -1;

	memset(res, 0, sizeof(*res));
	/* what dir holds is checked before anything is fetched (and again
	 * when the new layout replaces it, out_replace_dir) */
	if (out_check_dir(dir, OUT_UNSIGNED_OK, e) < 0)
		return -1;
	if (registry_ref_parse(refstr, &p.ref, e) < 0)
		goto out;
	p.tmp = xasprintf("%s.pull-tmp.%ld", dir, (long)getpid());
	p.entries = cJSON_CreateArray();
	if (!(rec = pull_record(p.tmp, &rslot, e)))
		goto out;
	slot = tmp_register(p.tmp); /* removed if SIGINT/SIGTERM end pare meanwhile */
	if (rm_rf(p.tmp, e) < 0)
		goto out;
	idxp = xasprintf("%s/blobs/sha256", p.tmp);
	if (mkdir_p(idxp, 0755, e) < 0)
		goto out;
	p.scope = xasprintf("repository:%s:pull", p.ref.repo);
	if (registry_client_open(&p.c, p.ref.host, o, p.scope, e) < 0)
		goto out;
	r = get_tree(&p, p.ref.digest ? p.ref.digest : p.ref.tag ? p.ref.tag : "latest", dg, &mt,
		     &size, &doc, 0, e);
	if (r <= 0) {
		if (r == 0)
			perr_set(e, "registry %s: %s: no such image (HTTP 404 Not Found)", p.c.host, refstr);
		goto out;
	}
	if (p.platform && oci_mt_is_index(mt)) {
		if (pick_platform(&p, refstr, dg, &mt, &size, &doc, &pl, e) < 0)
			goto out;
	} else if (p.platform && check_platform(&p, refstr, doc, e) < 0) {
		goto out;
	}
	snprintf(res->digest, sizeof(res->digest), "%s", dg);
	d = oci_descriptor(mt, dg, size);
	if (pl)
		cJSON_AddItemToObject(d, "platform", cJSON_Duplicate(pl, true));
	a = cJSON_AddObjectToObject(d, "annotations");
	tag = p.ref.tag ? p.ref.tag : "latest";
	cJSON_AddStringToObject(a, OCI_ANN_REF_NAME, tag);
	cJSON_AddItemToArray(p.entries, d);
	/* what is attached to the image and to each of its manifests */
	if (get_attached(&p, dg, pl ? oci_json_str(pl, "architecture") : NULL, e) < 0)
		goto out;
	if (oci_mt_is_index(mt)) {
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "manifests")) {
			const char *arch = oci_json_str(cJSON_GetObjectItemCaseSensitive(c, "platform"), "architecture");
			if (get_attached(&p, oci_json_str(c, "digest"), arch, e) < 0)
				goto out;
		}
	}
	top = cJSON_CreateObject();
	cJSON_AddNumberToObject(top, "schemaVersion", 2);
	cJSON_AddItemToObject(top, "manifests", p.entries);
	p.entries = NULL;
	out_mark_index(top);
	text = cJSON_PrintUnformatted(top);
	free(idxp);
	idxp = path_join(p.tmp, "oci-layout");
	if (write_file_atomic(idxp, OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON), 0644, e) < 0)
		goto out;
	free(idxp);
	idxp = path_join(p.tmp, "index.json");
	if (write_file_atomic(idxp, text, strlen(text), 0644, e) < 0)
		goto out;
	/* into place, only over a layout pare wrote (a pulled image is what
	 * the registry holds: signed or not, OUT_UNSIGNED_OK) */
	if (out_replace_dir(p.tmp, dir, OUT_UNSIGNED_OK, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0 && rec) {
		perr e2;
		rm_rf(p.tmp, &e2);
	}
	tmp_unregister(slot);
	if (rec)
		unlink(rec); /* after the layout moved or went */
	tmp_unregister(rslot);
	free(rec);
	registry_client_close(&p.c);
	registry_ref_free(&p.ref);
	sv_clear(&p.seen);
	cJSON_Delete(p.entries);
	cJSON_Delete(top);
	cJSON_Delete(doc);
	cJSON_Delete(pl);
	free(p.scope), free(p.tmp), free(mt), free(idxp), free(text);
	return ret;
}
