/* push.c - an OCI layout to a registry: blobs (HEAD, mount, monolithic or
 * chunked upload with resume), manifests children first, then tags. */
#define _GNU_SOURCE
#include "registry_int.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


struct pblob {
	char *digest;
	uint64_t size;
};

struct pman {
	char *digest, *mt;
	strbuf body;
	bool subject;  /* a referrer */
	bool fallback; /* a referrers fallback index: only pushed by tag, if needed */
	bool pushed;
	strvec deps;   /* children and subject: pushed before this one */
};

struct push {
	const char *dir;
	struct oci_layout l; /* the layout pushed: its blobs read through oci/ */
	struct registry_ref ref;
	const struct registry_opts *o;
	struct registry_push_result *res;
	struct reg_client c;
	char *scope;
	struct pblob *blobs;
	size_t nblobs, ablobs;
	struct pman *mans;
	size_t nmans, amans;
};

static char *blob_path(const char *dir, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

static int desc_check(const cJSON *d, const char *where, perr *e)
{
	const char *dg;
	uint64_t size;

	if (!oci_desc_ok(d, &dg, &size))
		return perr_set(e, "%s: a descriptor without a sha256 digest and size", where);
	return 0;
}

static void add_blob(struct push *p, const char *digest, uint64_t size)
{
	for (size_t i = 0; i < p->nblobs; i++)
		if (!strcmp(p->blobs[i].digest, digest))
			return;
	ALLOC_GROW(p->blobs, p->nblobs + 1, p->ablobs);
	p->blobs[p->nblobs].digest = xstrdup(digest);
	p->blobs[p->nblobs++].size = size;
}

/* Read a manifest blob (digest verified), its children first, then itself. */
static int walk(struct push *p, const cJSON *d, int depth, perr *e)
{
	const char *dg, *mt;
	char *path = NULL;
	strbuf body = STRBUF_INIT;
	cJSON *doc = NULL;
	const cJSON *c;
	strvec deps = STRVEC_INIT;
	int ret = -1;

	if (desc_check(d, "index.json", e) < 0)
		return -1;
	dg = oci_json_str(d, "digest");
	for (size_t i = 0; i < p->nmans; i++)
		if (!strcmp(p->mans[i].digest, dg))
			return 0;
	if (depth > 8)
		return perr_set(e, "%s: manifests nested too deep at %s", p->dir, dg);
	path = blob_path(p->dir, dg);
	if (oci_layout_read_desc(&p->l, d, OCI_MAX_JSON, &body, e) < 0)
		goto out;
	doc = cJSON_ParseWithLength(body.buf, body.len);
	if (!doc) {
		perr_set(e, "%s: not JSON", path);
		goto out;
	}
	mt = oci_json_str(doc, "mediaType");
	if (!mt)
		mt = oci_json_str(d, "mediaType");
	if (!mt) {
		perr_set(e, "%s: no mediaType", path);
		goto out;
	}
	if (oci_mt_is_index(mt)) {
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "manifests")) {
			if (walk(p, c, depth + 1, e) < 0)
				goto out;
			sv_push(&deps, oci_json_str(c, "digest"));
		}
	} else {
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "config");
		if (desc_check(cfg, path, e) < 0)
			goto out;
		add_blob(p, oci_json_str(cfg, "digest"), (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cfg, "size")));
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "layers")) {
			if (desc_check(c, path, e) < 0)
				goto out;
			add_blob(p, oci_json_str(c, "digest"), (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "size")));
		}
	}
	ALLOC_GROW(p->mans, p->nmans + 1, p->amans);
	p->mans[p->nmans].digest = xstrdup(dg);
	p->mans[p->nmans].mt = xstrdup(mt);
	p->mans[p->nmans].subject = cJSON_GetObjectItemCaseSensitive(doc, "subject") != NULL;
	p->mans[p->nmans].body = body;
	p->mans[p->nmans].fallback = false;
	p->mans[p->nmans].pushed = false;
	if ((c = cJSON_GetObjectItemCaseSensitive(doc, "subject")) && oci_json_str(c, "digest"))
		sv_push(&deps, oci_json_str(c, "digest"));
	p->mans[p->nmans++].deps = deps;
	deps = (strvec)STRVEC_INIT;
	body = (strbuf)STRBUF_INIT;
	ret = 0;
out:
	cJSON_Delete(doc);
	sb_release(&body);
	sv_clear(&deps);
	free(path);
	return ret;
}

static struct pman *find_man(struct push *p, const char *digest)
{
	for (size_t i = 0; i < p->nmans; i++)
		if (!strcmp(p->mans[i].digest, digest))
			return &p->mans[i];
	return NULL;
}

/* ---- blobs ------------------------------------------------------------------------- */

static char *abs_location(const struct reg_client *c, const char *loc)
{
	if (str_starts(loc, "http://") || str_starts(loc, "https://"))
		return xstrdup(loc);
	return xasprintf("%s%s", c->base, loc);
}

static char *with_digest(const char *loc, const char *digest)
{
	return xasprintf("%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest);
}

/* A request whose answer is yes (200) or no (404): 1, 0, or -1 on any
 * other reply.  Takes url. */
static int probe(struct push *p, const char *method, char *url, const char *accept, perr *e)
{
	struct reg_req rq = { .method = method, .url = url, .scope = p->scope, .fd = -1,
			      .accept = accept };
	struct reg_resp rs = { 0 };
	int ret = -1;

	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 200)
		ret = 1;
	else if (rs.status == 404)
		ret = 0;
	else
		registry_status_error(&p->c, &rq, &rs, e);
out:
	registry_resp_reset(&rs);
	free(url);
	return ret;
}

/* HEAD: 1 = there, 0 = missing. */
static int blob_exists(struct push *p, const char *digest, perr *e)
{
	return probe(p, "HEAD", xasprintf("/v2/%s/blobs/%s", p->ref.repo, digest), NULL, e);
}

/* POST an upload (or a mount): 1 = mounted, 0 = *loc is an upload URL. */
static int start_upload(struct push *p, const char *digest, char **loc, perr *e)
{
	char *url, *scope, *q = NULL;
	struct reg_req rq = { .method = "POST", .fd = -1 };
	struct reg_resp rs = { 0 };
	int ret = -1;

	if (p->o->mount_from && strcmp(p->o->mount_from, p->ref.repo)) {
		q = curl_easy_escape(p->c.curl, p->o->mount_from, 0);
		url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", p->ref.repo, digest, q);
		scope = xasprintf("%s repository:%s:pull", p->scope, p->o->mount_from);
	} else {
		url = xasprintf("/v2/%s/blobs/uploads/", p->ref.repo);
		scope = xstrdup(p->scope);
	}
	rq.url = url, rq.scope = scope;
	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 201 && q) {
		ret = 1;
		goto out;
	}
	if (rs.status != 202 || !rs.location) {
		registry_status_error(&p->c, &rq, &rs, e);
		goto out;
	}
	*loc = abs_location(&p->c, rs.location);
	ret = 0;
out:
	registry_resp_reset(&rs);
	curl_free(q);
	free(url), free(scope);
	return ret;
}

int registry_upload_next(const char *range, int64_t *next)
{
	const char *dash = strchr(range, '-');
	char *end;
	long long v;

	/* "0-N": the registry has bytes 0..N; digits only, and N + 1 must fit */
	if (str_starts(range, "bytes="))
		range += 6;
	if (!dash || strspn(range, "0123456789") != (size_t)(dash - range) || dash == range ||
	    !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
		return -1;
	errno = 0;
	v = strtoll(dash + 1, &end, 10);
	if (errno || *end || v == LLONG_MAX)
		return -1;
	/* "0-0" is both "nothing" and "one byte": chunks are larger, so nothing */
	*next = v > 0 ? v + 1 : 0;
	return 0;
}

/* GET the upload's status: the next offset, or -1 when the upload is gone. */
static int64_t upload_offset(struct push *p, char **loc, perr *e)
{
	struct reg_req rq = { .method = "GET", .url = *loc, .scope = p->scope, .fd = -1 };
	struct reg_resp rs = { 0 };
	int64_t off = -1;

	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status != 204 || !rs.range || registry_upload_next(rs.range, &off) < 0) {
		off = -1;
		goto out;
	}
	if (rs.location) {
		free(*loc);
		*loc = abs_location(&p->c, rs.location);
	}
out:
	registry_resp_reset(&rs);
	return off;
}

/* One try at uploading a blob: 2 mounted, 1 uploaded, 0 = transient failure (retry), -1 error. */
static int upload_once(struct push *p, const struct pblob *b, int fd, perr *e)
{
	char *loc = NULL, *url = NULL, *label;
	struct reg_resp rs = { 0 };
	uint64_t chunk = p->o->chunk_size ? p->o->chunk_size : (16u << 20), off = 0;
	int ret = -1, m;

	m = start_upload(p, b->digest, &loc, e);
	if (m < 0)
		goto out;
	if (m == 1) {
		p->res->blobs_mounted++;
		debug("mounted %s from %s", b->digest, p->o->mount_from);
		ret = 2;
		goto out;
	}
	label = xasprintf("pushing %.19s", b->digest);
	p->c.progress_label = label;
	if (b->size > chunk) {
		int fails = 0; /* in a row, without progress: bounded like the retries */

		while (off < b->size) {
			uint64_t n = b->size - off < chunk ? b->size - off : chunk;
			char range[64];
			struct reg_req rq = { .method = "PATCH", .url = loc, .scope = p->scope,
					      .fd = fd, .off = off, .flen = n,
					      .content_range = range, .no_retry = true };
			int64_t noff;

			snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
				 (unsigned long long)(off + n - 1));
			p->c.progress_off = off;
			p->c.progress_total = b->size;
			if (registry_do(&p->c, &rq, &rs, e) < 0)
				goto done;
			if (rs.status == 202 && rs.location) {
				free(loc);
				loc = abs_location(&p->c, rs.location);
				off += n;
				fails = 0;
				p->res->bytes_uploaded += n;
				registry_debug_point("chunk");
				continue;
			}
			if (!registry_transient(&rs) && rs.status != 416) {
				/* 404 BLOB_UPLOAD_UNKNOWN: the session is gone, start over */
				if (rs.status == 404 || rs.status == 400)
					ret = 0;
				goto done;
			}
			/* Dropped: ask the registry how far it got and go on from there. */
			if (++fails >= p->c.tries) {
				ret = 0; /* restart the blob (push_blob bounds that too) */
				goto done;
			}
			debug("%s: chunk failed (%s), asking for the upload's range", b->digest, e->msg);
			registry_backoff(&p->c, fails);
			noff = upload_offset(p, &loc, e);
			if (noff < 0 || (uint64_t)noff > b->size) {
				ret = 0; /* restart the blob */
				goto done;
			}
			p->res->chunk_resumes++;
			note("resuming %s at byte %lld", b->digest, (long long)noff);
			off = (uint64_t)noff;
		}
		url = with_digest(loc, b->digest);
		{
			struct reg_req rq = { .method = "PUT", .url = url, .scope = p->scope, .fd = -1,
					      .no_retry = true };
			if (registry_do(&p->c, &rq, &rs, e) < 0)
				goto done;
			if (rs.status == 201)
				ret = 1;
			else if (registry_transient(&rs) || rs.status == 404)
				ret = 0;
			else
				registry_status_error(&p->c, &rq, &rs, e);
		}
	} else {
		struct reg_req rq = { .method = "PUT", .scope = p->scope, .fd = fd, .off = 0,
				      .flen = b->size, .no_retry = true };
		url = with_digest(loc, b->digest);
		rq.url = url;
		if (registry_do(&p->c, &rq, &rs, e) < 0)
			goto done;
		if (rs.status == 201) {
			p->res->bytes_uploaded += b->size;
			ret = 1;
		} else if (registry_transient(&rs) || rs.status == 404) {
			ret = 0;
		} else {
			registry_status_error(&p->c, &rq, &rs, e);
		}
	}
done:
	if (p->c.progress && p->c.progress_total >= (1u << 20))
		fputc('\n', stderr); /* end the blob's progress line */
	p->c.progress_label = NULL;
	p->c.progress_off = p->c.progress_total = 0;
	free(label);
out:
	registry_resp_reset(&rs);
	free(loc), free(url);
	return ret;
}

static int push_blob(struct push *p, const struct pblob *b, perr *e)
{
	char *path = blob_path(p->dir, b->digest);
	struct stat st;
	int fd = -1, ret = -1, r;

	for (int attempt = 1;; attempt++) {
		r = blob_exists(p, b->digest, e);
		if (r < 0)
			goto out;
		if (r == 1) {
			if (attempt == 1)
				p->res->blobs_skipped++, debug("skipped %s (already there)", b->digest);
			else
				p->res->blobs_uploaded++; /* the last try landed after all */
			break;
		}
		if (fd < 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0) {
				perr_errno(e, "%s", path);
				goto out;
			}
			if ((uint64_t)st.st_size != b->size) {
				perr_set(e, "%s: %llu bytes, its descriptor says %llu", path,
					 (unsigned long long)st.st_size, (unsigned long long)b->size);
				goto out;
			}
		}
		r = upload_once(p, b, fd, e);
		if (r < 0)
			goto out;
		if (r == 2)
			break; /* mounted */
		if (r == 1) {
			p->res->blobs_uploaded++;
			/* one line per blob on a terminal, else only with --verbose */
			if (p->c.progress)
				note("pushed %s (%llu bytes)", b->digest, (unsigned long long)b->size);
			else
				debug("pushed %s (%llu bytes)", b->digest, (unsigned long long)b->size);
			break;
		}
		if (attempt >= p->c.tries) {
			perr_prefix(e, "blob %s: gave up after %d tries", b->digest, attempt);
			goto out;
		}
		debug("%s: retrying the upload (%s)", b->digest, e->msg);
		registry_backoff(&p->c, attempt);
	}
	registry_debug_point("blob");
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

/* ---- manifests and tags -------------------------------------------------------------- */

static int put_manifest(struct push *p, const char *ref, const char *mt, const strbuf *body,
			perr *e)
{
	char *url = xasprintf("/v2/%s/manifests/%s", p->ref.repo, ref);
	struct reg_req rq = { .method = "PUT", .url = url, .scope = p->scope, .fd = -1,
			      .content_type = mt, .body = body->buf, .len = body->len };
	struct reg_resp rs = { 0 };
	char hex[SHA256_HEX_LEN + 1];
	int ret = -1;

	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status != 201) {
		registry_status_error(&p->c, &rq, &rs, e);
		goto out;
	}
	sha256_hex(body->buf, body->len, hex);
	if (rs.digest && (strncmp(rs.digest, "sha256:", 7) || strcmp(rs.digest + 7, hex))) {
		perr_set(e, "registry %s: PUT %s: it stored digest %s, we sent sha256:%s", p->c.host,
			 url, rs.digest, hex);
		goto out;
	}
	/* OCI 1.1: a registry that indexes subjects says so */
	if (rs.oci_subject)
		p->res->referrers_api = true;
	ret = 0;
out:
	registry_resp_reset(&rs);
	free(url);
	return ret;
}

/* GET /v2/NAME/referrers/DIGEST: 1 = API there, 0 = 404 (use the tag schema). */
static int referrers_api(struct push *p, const char *digest, perr *e)
{
	return probe(p, "GET", xasprintf("/v2/%s/referrers/%s", p->ref.repo, digest),
		     OCI_MT_INDEX, e);
}

/*
 * PUT our manifest m under tag, merged with what the registry already has
 * there: the entries of its array KEY that ours lacks are kept after ours.
 * Two tags are merged so:
 *  - the referrers fallback tag (KEY "manifests", entries the same when their
 *    digests are): it may list referrers pushed by someone else;
 *  - a cosign sha256-HEX.sig / .att tag (KEY "layers", entries the same only
 *    when the whole descriptor is: same payload and signature), appended to
 *    as cosign does, not replaced: when the digest was signed before (an
 *    earlier push, another key, cosign itself) every signature stays, and a
 *    referrer pushed earlier still lists only layers of the tag.  Pushing the
 *    same layout twice changes nothing.  Their blobs are in the repository.
 */
static int push_merged(struct push *p, const char *tag, const struct pman *m, const char *accept,
		       const char *key, bool whole, perr *e)
{
	char *url = xasprintf("/v2/%s/manifests/%s", p->ref.repo, tag);
	struct reg_req rq = { .method = "GET", .url = url, .scope = p->scope, .fd = -1,
			      .accept = accept };
	struct reg_resp rs = { 0 };
	cJSON *ours = NULL, *theirs = NULL;
	const cJSON *d, *o;
	strbuf merged = STRBUF_INIT;
	bool added = false;
	int ret = -1;

	if (registry_do(&p->c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status == 200 && (theirs = cJSON_ParseWithLength(rs.body.buf, rs.body.len))) {
		cJSON *list;

		ours = cJSON_ParseWithLength(m->body.buf, m->body.len);
		list = cJSON_GetObjectItemCaseSensitive(ours, key);
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(theirs, key)) {
			bool have = false;

			if (!cJSON_IsArray(list))
				break;
			if (!oci_json_str(d, "digest"))
				continue;
			cJSON_ArrayForEach(o, list)
				have |= whole ? cJSON_Compare(o, d, true)
					      : oci_json_str(o, "digest") && !strcmp(oci_json_str(o, "digest"), oci_json_str(d, "digest"));
			if (!have) {
				cJSON_AddItemToArray(list, cJSON_Duplicate(d, 1));
				added = true;
			}
		}
	} else if (rs.status != 200 && rs.status != 404) {
		registry_status_error(&p->c, &rq, &rs, e);
		goto out;
	}
	if (added) {
		char *t = cJSON_PrintUnformatted(ours);

		sb_adds(&merged, t);
		free(t);
		ret = put_manifest(p, tag, m->mt, &merged, e);
	} else {
		ret = put_manifest(p, tag, m->mt, &m->body, e);
	}
out:
	registry_resp_reset(&rs);
	cJSON_Delete(ours), cJSON_Delete(theirs);
	sb_release(&merged);
	free(url);
	return ret;
}

void registry_push_result_free(struct registry_push_result *r)
{
	sv_clear(&r->tags);
}

int registry_push(const char *dir, const char *refstr, const struct registry_opts *o,
		  struct registry_push_result *res, perr *e)
{
	struct push p = { .dir = dir, .o = o, .res = res };
	char *ipath = path_join(dir, "index.json");
	cJSON *idx = NULL; /* p.l.index */
	const cJSON *d, *image = NULL;
	strvec fallback = STRVEC_INIT; /* index positions of sha256-HEX tags */
	const char *tag;
	char *ltag = NULL;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	if (registry_ref_parse(refstr, &p.ref, e) < 0)
		goto out;
	if (oci_layout_open(dir, &p.l, e) < 0)
		goto out;
	idx = p.l.index;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests")) {
		const char *rn = oci_annotation(d, OCI_ANN_REF_NAME);
		if (walk(&p, d, 0, e) < 0)
			goto out;
		if (!image && rn && !oci_tag_is_attached(rn) && !find_man(&p, oci_json_str(d, "digest"))->subject)
			image = d;
	}
	if (!image) {
		/* no tagged image: the first manifest that is not an artifact */
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests"))
			if (!image && !oci_annotation(d, OCI_ANN_REF_NAME) && !find_man(&p, oci_json_str(d, "digest"))->subject &&
			    !oci_annotation(d, OCI_ANN_SBOM_FORMAT))
				image = d;
	}
	if (!image) {
		perr_set(e, "%s: no image in index.json", ipath);
		goto out;
	}
	snprintf(res->digest, sizeof(res->digest), "%s", oci_json_str(image, "digest"));
	if (p.ref.digest && strcmp(p.ref.digest, res->digest)) {
		perr_set(e, "%s names %s, but the layout's image is %s", refstr, p.ref.digest, res->digest);
		goto out;
	}
	p.scope = xasprintf("repository:%s:pull,push", p.ref.repo);
	if (registry_client_open(&p.c, p.ref.host, o, p.scope, e) < 0)
		goto out;

	for (size_t i = 0; i < p.nblobs; i++)
		if (push_blob(&p, &p.blobs[i], e) < 0)
			goto out;
	/* manifests after their children (a registry checks an index's
	 * children exist) and after their subject; fallback indexes later */
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests")) {
		const char *rn = oci_annotation(d, OCI_ANN_REF_NAME);
		if (oci_tag_is_attached(rn) && !str_ends(rn, OCI_TAG_SIG) && !str_ends(rn, OCI_TAG_ATT))
			find_man(&p, oci_json_str(d, "digest"))->fallback = true;
	}
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t i = 0; i < p.nmans; i++) {
			struct pman *m = &p.mans[i], *dep;
			bool ready = !m->pushed && !m->fallback;
			for (size_t k = 0; ready && k < m->deps.n; k++)
				ready = !(dep = find_man(&p, m->deps.v[k])) || dep->pushed || dep->fallback;
			if (!ready)
				continue;
			if (put_manifest(&p, m->digest, m->mt, &m->body, e) < 0)
				goto out;
			m->pushed = progress = true;
			res->manifests++;
		}
	}

	/* tags: the image's, cosign's .sig/.att, then the fallback indexes */
	if (!p.ref.digest) {
		const char *rn = oci_annotation(image, OCI_ANN_REF_NAME);
		if (p.ref.tag)
			tag = p.ref.tag;
		else if (rn && strchr(rn, ':'))
			tag = ltag = xstrdup(strrchr(rn, ':') + 1);
		else
			tag = rn ? rn : "latest";
		sv_push(&res->tags, tag);
		/* no tag in REF: every tag the recipe gives the image (pare build
		 * records them as dev.pare.tags, comma-separated) */
		if (!p.ref.tag && oci_annotation(image, OCI_ANN_TAGS)) {
			strvec rt = STRVEC_INIT;

			sv_split(&rt, oci_annotation(image, OCI_ANN_TAGS), ",");
			for (size_t i = 0; i < rt.n; i++) {
				if (!registry_tag_ok(rt.v[i])) {
					perr_set(e, "%s/index.json: bad tag '%s' in dev.pare.tags", dir, rt.v[i]);
					sv_clear(&rt);
					goto out;
				}
				if (!sv_contains(&res->tags, rt.v[i]))
					sv_push(&res->tags, rt.v[i]);
			}
			sv_clear(&rt);
		}
	}
	for (size_t i = 0; o->tags && i < o->tags->n; i++)
		if (!sv_contains(&res->tags, o->tags->v[i]))
			sv_push(&res->tags, o->tags->v[i]);
	for (size_t i = 0; i < res->tags.n; i++) {
		struct pman *m = find_man(&p, res->digest);
		if (put_manifest(&p, res->tags.v[i], m->mt, &m->body, e) < 0)
			goto out;
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests")) {
		const char *rn = oci_annotation(d, OCI_ANN_REF_NAME);
		struct pman *m;
		if (!oci_tag_is_attached(rn))
			continue;
		if (!str_ends(rn, OCI_TAG_SIG) && !str_ends(rn, OCI_TAG_ATT)) {
			sv_push(&fallback, rn);
			continue;
		}
		m = find_man(&p, oci_json_str(d, "digest"));
		if (push_merged(&p, rn, m, m->mt, "layers", true, e) < 0)
			goto out;
		sv_push(&res->tags, rn);
	}
	if (fallback.n && !res->referrers_api) {
		/* "sha256-HEX" -> "sha256:HEX" */
		char *subj = xasprintf("sha256:%s", fallback.v[0] + 7);
		int r = referrers_api(&p, subj, e);
		free(subj);
		if (r < 0)
			goto out;
		res->referrers_api = r == 1;
	}
	if (!res->referrers_api) {
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests")) {
			const char *rn = oci_annotation(d, OCI_ANN_REF_NAME);
			if (!rn || !sv_contains(&fallback, rn))
				continue;
			if (push_merged(&p, rn, find_man(&p, oci_json_str(d, "digest")), OCI_MT_INDEX,
					"manifests", false, e) < 0)
				goto out;
			sv_push(&res->tags, rn);
		}
	}
	ret = 0;
out:
	if (ret < 0 && p.ref.host && !str_starts(e->msg, "registry "))
		perr_prefix(e, "push %s", refstr);
	registry_client_close(&p.c);
	registry_ref_free(&p.ref);
	for (size_t i = 0; i < p.nblobs; i++)
		free(p.blobs[i].digest);
	for (size_t i = 0; i < p.nmans; i++)
		free(p.mans[i].digest), free(p.mans[i].mt), sb_release(&p.mans[i].body),
			sv_clear(&p.mans[i].deps);
	free(p.blobs), free(p.mans);
	free(p.scope), free(ltag), free(ipath);
	sv_clear(&fallback);
	oci_layout_close(&p.l);
	return ret;
}
