/* repo.c - a session with one repository for many small requests: what
 * rebuild/remote.c's layer cache needs (manifests by tag, blobs verified
 * into files, blobs HEAD-first with mounts, tags, deletes).  push.c and
 * pull.c move whole layouts; this moves one artifact at a time. */
#define _GNU_SOURCE
#include "registry_int.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCEPT_MANIFESTS OCI_MT_MANIFEST ", " OCI_MT_INDEX

struct registry_repo {
	struct registry_ref ref;
	struct reg_client c;
	char *scope, *name;
	const char *mount_from;
	uint64_t got, sent;
	size_t blobs_got, blobs_sent;
};

int registry_repo_open(const char *ref, const struct registry_opts *o, bool push,
		       registry_repo **out, perr *e)
{
	registry_repo *r = xcalloc(1, sizeof(*r));

	*out = NULL;
	if (registry_ref_parse(ref, &r->ref, e) < 0)
		goto bad;
	r->name = xasprintf("%s/%s", r->ref.host, r->ref.repo);
	r->scope = xasprintf("repository:%s:pull%s", r->ref.repo, push ? ",push" : "");
	r->mount_from = o->mount_from && strcmp(o->mount_from, r->ref.repo) ? o->mount_from : NULL;
	if (registry_client_open(&r->c, r->ref.host, o, r->scope, e) < 0)
		goto bad;
	*out = r;
	return 0;
bad:
	registry_repo_close(r);
	return -1;
}

void registry_repo_close(registry_repo *r)
{
	if (!r)
		return;
	registry_client_close(&r->c);
	registry_ref_free(&r->ref);
	free(r->scope);
	free(r->name);
	free(r);
}

const char *registry_repo_name(const registry_repo *r)
{
	return r->name;
}

void registry_repo_counts(const registry_repo *r, uint64_t *got, uint64_t *sent,
			  size_t *blobs_got, size_t *blobs_sent)
{
	*got = r->got, *sent = r->sent;
	*blobs_got = r->blobs_got, *blobs_sent = r->blobs_sent;
}

/* One request answered 200 (1) or 404 (0); -1 on anything else.  Takes url. */
static int ask(registry_repo *r, const char *method, char *url, const char *accept, size_t max,
	       struct reg_resp *rs, perr *e)
{
	struct reg_req rq = { .method = method, .url = url, .scope = r->scope, .fd = -1,
			      .accept = accept, .max = max };
	int ret = -1;

	if (registry_do(&r->c, &rq, rs, e) < 0)
		goto out;
	if (rs->status == 200)
		ret = 1;
	else if (rs->status == 404)
		ret = 0;
	else
		registry_status_error(&r->c, &rq, rs, e);
out:
	free(url);
	return ret;
}

int registry_repo_manifest(registry_repo *r, const char *tag, strbuf *body, char digest[72],
			   perr *e)
{
	struct reg_resp rs = { 0 };
	char *mt = NULL;
	int ret = ask(r, "GET", xasprintf("/v2/%s/manifests/%s", r->ref.repo, tag),
		      ACCEPT_MANIFESTS, 4 << 20, &rs, e);

	if (ret == 1) {
		if (registry_manifest_check(r->c.host, tag, rs.body.buf, rs.body.len, rs.digest,
					    rs.content_type, digest, &mt, e) < 0) {
			ret = -1;
		} else {
			sb_reset(body);
			sb_add(body, rs.body.buf, rs.body.len);
			r->got += rs.body.len;
		}
	}
	free(mt);
	registry_resp_reset(&rs);
	return ret;
}

int registry_repo_has_manifest(registry_repo *r, const char *tag, perr *e)
{
	struct reg_resp rs = { 0 };
	int ret = ask(r, "HEAD", xasprintf("/v2/%s/manifests/%s", r->ref.repo, tag),
		      ACCEPT_MANIFESTS, 0, &rs, e);

	registry_resp_reset(&rs);
	return ret;
}

int registry_repo_get_blob(registry_repo *r, const char *digest, uint64_t size, const char *path,
			   perr *e)
{
	char *part = xasprintf("%s.part.%ld", path, (long)getpid());
	uint64_t got = 0;
	int ret = -1, slot = tmp_register(part);

	if (!oci_digest_ok(digest))
		perr_set(e, "registry %s: bad blob digest '%s'", r->c.host, digest);
	else
		ret = registry_blob_get(&r->c, r->ref.repo, r->scope, digest, size, part, path,
					&got, e);
	r->got += got;
	if (ret == 0)
		r->blobs_got++;
	tmp_unregister(slot);
	free(part);
	return ret;
}

static char *abs_url(const struct reg_client *c, const char *loc, const char *digest)
{
	const char *base = str_starts(loc, "http://") || str_starts(loc, "https://") ? "" : c->base;

	return xasprintf("%s%s%cdigest=%s", base, loc, strchr(loc, '?') ? '&' : '?', digest);
}

int registry_repo_put_blob(registry_repo *r, const char *digest, uint64_t size, const char *path,
			   const void *data, perr *e)
{
	struct reg_resp rs = { 0 };
	struct reg_req rq = { .method = "POST", .fd = -1 };
	char *url = NULL, *scope = NULL, *q = NULL;
	int ret, fd = -1;

	ret = ask(r, "HEAD", xasprintf("/v2/%s/blobs/%s", r->ref.repo, digest), NULL, 0, &rs, e);
	registry_resp_reset(&rs);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	ret = -1;
	if (r->mount_from) {
		q = curl_easy_escape(r->c.curl, r->mount_from, 0);
		url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", r->ref.repo, digest, q);
		scope = xasprintf("%s repository:%s:pull", r->scope, r->mount_from);
	} else {
		url = xasprintf("/v2/%s/blobs/uploads/", r->ref.repo);
		scope = xstrdup(r->scope);
	}
	rq.url = url, rq.scope = scope;
	if (registry_do(&r->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 201 && q) {
		debug("mounted %s from %s", digest, r->mount_from);
		ret = 0;
		goto out;
	}
	if (rs.status != 202 || !rs.location) {
		registry_status_error(&r->c, &rq, &rs, e);
		goto out;
	}
	free(url);
	url = abs_url(&r->c, rs.location, digest);
	registry_resp_reset(&rs);
	if (path && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		perr_errno(e, "%s", path);
		goto out;
	}
	{
		struct reg_req put = { .method = "PUT", .url = url, .scope = r->scope, .fd = fd,
				       .flen = size, .body = data, .len = data ? size : 0,
				       .content_type = "application/octet-stream" };
		if (registry_do(&r->c, &put, &rs, e) < 0)
			goto out;
		if (rs.status != 201) {
			registry_status_error(&r->c, &put, &rs, e);
			goto out;
		}
	}
	r->sent += size;
	r->blobs_sent++;
	ret = 1;
out:
	if (fd >= 0)
		close(fd);
	registry_resp_reset(&rs);
	curl_free(q);
	free(url);
	free(scope);
	return ret;
}

int registry_repo_put_manifest(registry_repo *r, const char *ref, const char *mt,
			       const void *body, size_t len, perr *e)
{
	char *url = xasprintf("/v2/%s/manifests/%s", r->ref.repo, ref);
	struct reg_req rq = { .method = "PUT", .url = url, .scope = r->scope, .fd = -1,
			      .content_type = mt, .body = body, .len = len };
	struct reg_resp rs = { 0 };
	char hex[SHA256_HEX_LEN + 1];
	int ret = -1;

	if (registry_do(&r->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status != 201) {
		registry_status_error(&r->c, &rq, &rs, e);
		goto out;
	}
	sha256_hex(body, len, hex);
	if (rs.digest && (!str_starts(rs.digest, "sha256:") || strcmp(rs.digest + 7, hex))) {
		perr_set(e, "registry %s: PUT %s: it stored digest %s, we sent sha256:%s", r->c.host,
			 url, rs.digest, hex);
		goto out;
	}
	r->sent += len;
	ret = 0;
out:
	registry_resp_reset(&rs);
	free(url);
	return ret;
}

int registry_repo_tags(registry_repo *r, strvec *tags, perr *e)
{
	struct reg_resp rs = { 0 };
	cJSON *j = NULL;
	const cJSON *t;
	int ret = ask(r, "GET", xasprintf("/v2/%s/tags/list?n=10000", r->ref.repo),
		      "application/json", 16 << 20, &rs, e);

	if (ret == 1) {
		j = cJSON_ParseWithLength(rs.body.buf, rs.body.len);
		if (!cJSON_IsObject(j)) {
			ret = perr_set(e, "registry %s: %s: the tag list is not a JSON object",
				       r->c.host, r->ref.repo);
			goto out;
		}
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tags"))
			if (cJSON_IsString(t) && registry_tag_ok(t->valuestring))
				sv_push(tags, t->valuestring);
	}
	ret = ret < 0 ? -1 : 0;
out:
	cJSON_Delete(j);
	registry_resp_reset(&rs);
	return ret;
}

int registry_repo_delete(registry_repo *r, const char *digest, perr *e)
{
	char *url = xasprintf("/v2/%s/manifests/%s", r->ref.repo, digest);
	struct reg_req rq = { .method = "DELETE", .url = url, .scope = r->scope, .fd = -1 };
	struct reg_resp rs = { 0 };
	int ret = -1;

	if (registry_do(&r->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 202 || rs.status == 200)
		ret = 1;
	else if (rs.status == 405 || (rs.status == 400 && strstr(rs.body.buf ? rs.body.buf : "", "UNSUPPORTED")))
		ret = 0;
	else
		registry_status_error(&r->c, &rq, &rs, e);
out:
	registry_resp_reset(&rs);
	free(url);
	return ret;
}
