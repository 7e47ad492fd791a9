/*
 * remote.c - pare's layer cache shared through a registry (pare build /
 * update --cache-to REF --cache-from REF,…; docs/cache.md#remote-layer-cache).
 *
 * builder/ may not include registry/, so it knows this cache only through
 * its struct layer_remote callbacks; this file implements them with
 * registry/'s repository sessions.  Each layer cache entry is one OCI
 * artifact, tagged pare-layer-KEY (KEY: the local cache key, a sha256): an
 * image manifest with artifactType PARE_AT_LAYER_CACHE, the empty config,
 * and two blobs: the entry's metadata record and the compressed layer.
 *
 * Reading verifies everything: the manifest's bytes against the registry's
 * digest, its shape and its key, each blob's size and sha256 before it is
 * renamed into the local cache; the builder then reads the entry as a local
 * one (a mismatch is a miss).  An entry that fails is ignored with one
 * warning and the layer is built.  Writing pushes the blobs first (HEAD,
 * mount, upload) and the tag last, so an entry is never visible before all
 * its blobs are there.  A registry that is down, answers 5xx after the
 * retries or refuses the credentials gives one warning line and is not
 * asked again in this run: the cache is best effort, the build goes on.
 */
#define _GNU_SOURCE
#include "rebuild.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../registry/registry.h"

#include <cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cache_repo {
	char *ref;            /* as given */
	registry_repo *repo;  /* the main thread's session, opened on first use */
	bool off;             /* failed once: not asked again (mu) */
	bool push;
};

struct rebuild_cache {
	struct layer_remote cb;
	struct cache_repo *from; size_t nfrom;
	struct cache_repo to;  /* ref NULL: none */
	const struct registry_opts *reg;
	struct registry_opts opts; /* reg with mount_from */
	size_t hits, misses, bad, stored, present; /* mu */
	uint64_t got_pf;       /* bytes prefetch's sessions fetched (mu) */
	int seq;               /* temporary names (atomic) */
	strvec tried;          /* keys prefetch asked for: lookup does not ask again */
	pthread_mutex_t mu;    /* prefetch's workers share the flags, counters, warnings */
};

static bool same_host(const char *a, const char *b)
{
	size_t n = strcspn(a, "/");

	return n == strcspn(b, "/") && !strncmp(a, b, n);
}

/* One warning; then neither this repository nor any other on its registry
 * is asked again in this run (down, refusing us, or broken). */
static void repo_fail(struct rebuild_cache *c, struct cache_repo *r, const char *what,
		      const perr *e)
{
	pthread_mutex_lock(&c->mu);
	if (!r->off)
		warning("layer cache %s: %s: %s (going on without it)", r->ref, what, e->msg);
	for (size_t i = 0; i < c->nfrom; i++)
		if (same_host(c->from[i].ref, r->ref))
			c->from[i].off = true;
	if (c->to.ref && same_host(c->to.ref, r->ref))
		c->to.off = true;
	r->off = true;
	pthread_mutex_unlock(&c->mu);
}

static bool repo_off(struct rebuild_cache *c, const struct cache_repo *r)
{
	bool off;

	pthread_mutex_lock(&c->mu);
	off = r->off;
	pthread_mutex_unlock(&c->mu);
	return off;
}

/* r's session in *slot (each thread has its own), opened on first use. */
static registry_repo *repo_get(struct rebuild_cache *c, struct cache_repo *r, registry_repo **slot)
{
	perr e;

	if (repo_off(c, r))
		return NULL;
	if (!*slot && registry_repo_open(r->ref, &c->opts, r->push, slot, &e) < 0) {
		repo_fail(c, r, "cannot reach it", &e);
		return NULL;
	}
	return *slot;
}

static char *tag_of(const char *key)
{
	return xasprintf("%s%s", PARE_LAYER_CACHE_TAG, key);
}

static const char *ann(const cJSON *m, const char *k)
{
	return cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "annotations"), k));
}

/* The entry KEY's manifest checked and its blobs fetched and verified into
 * the local cache (builder_lcache_install). */
static int fetch_entry(struct rebuild_cache *c, registry_repo *repo, const char *key,
		       const strbuf *body, perr *e)
{
	cJSON *m = cJSON_ParseWithLength(body->buf, body->len);
	const cJSON *ls = cJSON_GetObjectItemCaseSensitive(m, "layers"), *meta, *blob;
	const char *mdg, *bdg, *s;
	uint64_t msize, bsize;
	struct lcache_entry le;
	char *end, *btmp = NULL, *mtmp = NULL, *bdir = NULL, *ldir = NULL;
	int ret = -1, seq;

	memset(&le, 0, sizeof(le));
	meta = cJSON_GetArrayItem(ls, 0);
	blob = cJSON_GetArrayItem(ls, 1);
	if (!cJSON_IsObject(m) || cJSON_GetArraySize(ls) != 2 ||
	    !(s = oci_json_str(m, "artifactType")) || strcmp(s, PARE_AT_LAYER_CACHE) ||
	    !(s = ann(m, PARE_ANN_LAYER_CACHE_KEY)) || strcmp(s, key) ||
	    !oci_desc_ok(meta, &mdg, &msize) || !oci_desc_ok(blob, &bdg, &bsize) ||
	    !(s = oci_json_str(meta, "mediaType")) || strcmp(s, PARE_MT_LAYER_META) ||
	    !(s = oci_json_str(blob, "mediaType")) || !str_starts(s, OCI_MT_LAYER_PREFIX) ||
	    msize > (1u << 30)) {
		perr_set(e, "not a pare layer cache artifact for this key");
		goto out;
	}
	s = ann(m, PARE_ANN_LAYER_CACHE_DIFF_ID);
	if (!oci_digest_ok(s)) {
		perr_set(e, "no diff_id annotation");
		goto out;
	}
	snprintf(le.diff_id, sizeof(le.diff_id), "%s", s);
	snprintf(le.digest, sizeof(le.digest), "%s", bdg);
	snprintf(le.meta_sha256, sizeof(le.meta_sha256), "%s", mdg + 7);
	le.size = bsize;
	le.meta_size = msize;
	if (!(s = ann(m, PARE_ANN_LAYER_CACHE_EPOCH)) || !*s ||
	    ((le.epoch = strtoll(s, &end, 10)), *end)) {
		perr_set(e, "no epoch annotation");
		goto out;
	}
	if ((s = ann(m, PARE_ANN_LAYER_CACHE_MAX_MTIME))) {
		le.has_max_mtime = true;
		le.max_mtime = strtoll(s, &end, 10);
		if (!*s || *end) {
			perr_set(e, "bad max-mtime annotation");
			goto out;
		}
	}
	bdir = path_join(pare_cache_dir(), "blobs/sha256");
	ldir = path_join(pare_cache_dir(), "layers");
	if (mkdir_p(bdir, 0755, e) < 0 || mkdir_p(ldir, 0755, e) < 0)
		goto out;
	seq = __atomic_add_fetch(&c->seq, 1, __ATOMIC_RELAXED);
	btmp = xasprintf("%s/.tmp.%ld.remote%d", bdir, (long)getpid(), seq);
	mtmp = xasprintf("%s/.tmp.%ld.remote%d", ldir, (long)getpid(), seq);
	/* each verified (size and sha256) before it is renamed to its name */
	if (registry_repo_get_blob(repo, mdg, msize, mtmp, e) < 0 ||
	    registry_repo_get_blob(repo, bdg, bsize, btmp, e) < 0 ||
	    builder_lcache_install(key, &le, btmp, mtmp, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		if (btmp)
			unlink(btmp);
		if (mtmp)
			unlink(mtmp);
	}
	cJSON_Delete(m);
	free(btmp), free(mtmp), free(bdir), free(ldir);
	return ret;
}

/* KEY from the first --cache-from repository that has a good entry, with
 * the sessions in slots[i] (one per repository: the calling thread's). */
static bool lookup_in(struct rebuild_cache *c, const char *key, registry_repo **slots)
{
	char *tag = tag_of(key);
	strbuf body = STRBUF_INIT;
	bool hit = false;
	perr e;

	for (size_t i = 0; i < c->nfrom && !hit; i++) {
		struct cache_repo *r = &c->from[i];
		registry_repo *repo = repo_get(c, r, &slots[i]);
		char dg[72];
		int got;

		if (!repo)
			continue;
		got = registry_repo_manifest(repo, tag, &body, dg, &e);
		if (got < 0) {
			repo_fail(c, r, "reading", &e);
			continue;
		}
		if (got == 0)
			continue;
		if (fetch_entry(c, repo, key, &body, &e) < 0) {
			pthread_mutex_lock(&c->mu);
			warning("layer cache %s: entry %s ignored: %s", r->ref, tag, e.msg);
			c->bad++;
			pthread_mutex_unlock(&c->mu);
			continue;
		}
		debug("layer %s: from the layer cache %s", key, r->ref);
		hit = true;
	}
	pthread_mutex_lock(&c->mu);
	if (hit)
		c->hits++;
	else if (c->nfrom)
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	sb_release(&body);
	free(tag);
	return hit;
}

static bool lookup(void *arg, const char *key)
{
	struct rebuild_cache *c = arg;
	registry_repo **slots = xcalloc(c->nfrom + 1, sizeof(*slots));
	bool hit;

	if (sv_contains(&c->tried, key)) {
		free(slots);
		return false; /* prefetch asked already */
	}
	for (size_t i = 0; i < c->nfrom; i++)
		slots[i] = c->from[i].repo;
	hit = lookup_in(c, key, slots);
	for (size_t i = 0; i < c->nfrom; i++)
		c->from[i].repo = slots[i];
	free(slots);
	return hit;
}

/* ---- prefetch: an architecture's missing entries by up to 4 threads ---- */

struct pf {
	struct rebuild_cache *c;
	const char *const *keys;
	size_t n, next;
	pthread_mutex_t mu;
};

static void *pf_worker(void *arg)
{
	struct pf *p = arg;
	struct rebuild_cache *c = p->c;
	registry_repo **slots = xcalloc(c->nfrom + 1, sizeof(*slots));

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		lookup_in(c, p->keys[i], slots);
	}
	for (size_t i = 0; i < c->nfrom; i++) {
		uint64_t g, s;
		size_t bg, bs;

		if (!slots[i])
			continue;
		registry_repo_counts(slots[i], &g, &s, &bg, &bs);
		pthread_mutex_lock(&c->mu);
		c->got_pf += g;
		pthread_mutex_unlock(&c->mu);
		registry_repo_close(slots[i]);
	}
	free(slots);
	return NULL;
}

static void prefetch(void *arg, const char *const *keys, size_t n)
{
	struct rebuild_cache *c = arg;
	struct pf p = { c, keys, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[4];
	size_t nth = 0;

	if (!c->nfrom)
		return;
	for (size_t i = 0; i < n; i++)
		sv_push(&c->tried, keys[i]);
	while (nth < (n < 4 ? n : 4) && pthread_create(&th[nth], NULL, pf_worker, &p) == 0)
		nth++;
	if (!nth)
		pf_worker(&p); /* no thread: this one */
	for (size_t t = 0; t < nth; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&p.mu);
}

static cJSON *desc(const char *mt, const char *digest, uint64_t size)
{
	return oci_descriptor(mt, digest, size);
}

static int store_entry(struct rebuild_cache *c, registry_repo *repo, const char *key,
		       const char *mt, perr *e)
{
	char *tag = tag_of(key), *txt = NULL, num[32], mdg[72], odg[72];
	struct lcache_entry le;
	strbuf body = STRBUF_INIT;
	cJSON *m = NULL, *ls, *a;
	int ret = -1, got;

	if (builder_lcache_read(key, &le, e) < 0) {
		/* not a registry problem: this layer is not shared */
		debug("layer cache: %s not stored: %s", key, e->msg);
		ret = 0;
		goto out;
	}
	snprintf(mdg, sizeof(mdg), "sha256:%s", le.meta_sha256);
	/* there already, the same blobs: nothing to push */
	got = registry_repo_manifest(repo, tag, &body, odg, e);
	if (got < 0)
		goto out;
	if (got == 1) {
		cJSON *old = cJSON_ParseWithLength(body.buf, body.len);
		const cJSON *ol = cJSON_GetObjectItemCaseSensitive(old, "layers");
		bool same = cJSON_GetArraySize(ol) == 2 &&
			    !strcmp(oci_json_str(cJSON_GetArrayItem(ol, 0), "digest") ?: "", mdg) &&
			    !strcmp(oci_json_str(cJSON_GetArrayItem(ol, 1), "digest") ?: "", le.digest);

		cJSON_Delete(old);
		if (same) {
			c->present++;
			ret = 0;
			goto out;
		}
	}
	/* the blobs first, the tag last: a killed push leaves no entry */
	if (registry_repo_put_blob(repo, "sha256:" OCI_SHA256_EMPTY_JSON, 2, NULL, "{}", e) < 0 ||
	    registry_repo_put_blob(repo, mdg, le.meta_size, le.meta, NULL, e) < 0 ||
	    registry_repo_put_blob(repo, le.digest, le.size, le.blob, NULL, e) < 0)
		goto out;
	m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "schemaVersion", 2);
	cJSON_AddStringToObject(m, "mediaType", OCI_MT_MANIFEST);
	cJSON_AddStringToObject(m, "artifactType", PARE_AT_LAYER_CACHE);
	cJSON_AddItemToObject(m, "config", desc(OCI_MT_EMPTY, "sha256:" OCI_SHA256_EMPTY_JSON, 2));
	ls = cJSON_AddArrayToObject(m, "layers");
	cJSON_AddItemToArray(ls, desc(PARE_MT_LAYER_META, mdg, le.meta_size));
	cJSON_AddItemToArray(ls, desc(mt, le.digest, le.size));
	a = cJSON_AddObjectToObject(m, "annotations");
	cJSON_AddStringToObject(a, PARE_ANN_LAYER_CACHE_KEY, key);
	cJSON_AddStringToObject(a, PARE_ANN_LAYER_CACHE_DIFF_ID, le.diff_id);
	snprintf(num, sizeof(num), "%" PRId64, le.epoch);
	cJSON_AddStringToObject(a, PARE_ANN_LAYER_CACHE_EPOCH, num);
	if (le.has_max_mtime) {
		snprintf(num, sizeof(num), "%" PRId64, le.max_mtime);
		cJSON_AddStringToObject(a, PARE_ANN_LAYER_CACHE_MAX_MTIME, num);
	}
	txt = cJSON_PrintUnformatted(m);
	if (registry_repo_put_manifest(repo, tag, OCI_MT_MANIFEST, txt, strlen(txt), e) < 0)
		goto out;
	c->stored++;
	ret = 0;
out:
	builder_lcache_entry_release(&le);
	cJSON_Delete(m);
	sb_release(&body);
	free(txt);
	free(tag);
	return ret;
}

static void store(void *arg, const char *key, const char *media_type)
{
	struct rebuild_cache *c = arg;
	registry_repo *repo;
	perr e;

	if (!c->to.ref || !(repo = repo_get(c, &c->to, &c->to.repo)))
		return;
	if (store_entry(c, repo, key, media_type, &e) < 0)
		repo_fail(c, &c->to, "writing", &e);
}

int rebuild_cache_open(const char *to, const char *from, const struct registry_opts *reg,
		       struct rebuild_cache **out, perr *e)
{
	struct rebuild_cache *c = xcalloc(1, sizeof(*c));
	strvec refs = STRVEC_INIT;
	struct registry_ref rr;

	*out = NULL;
	if (from)
		sv_split(&refs, from, ",");
	if (to)
		sv_push(&refs, to);
	for (size_t i = 0; i < refs.n; i++) {
		memset(&rr, 0, sizeof(rr));
		if (registry_ref_parse(refs.v[i], &rr, e) < 0) {
			perr_prefix(e, "layer cache");
			registry_ref_free(&rr);
			goto bad;
		}
		if (rr.tag || rr.digest) {
			perr_set(e, "layer cache '%s': give a repository (HOST/REPO), without a tag "
				 "or digest: pare tags each entry %sKEY", refs.v[i], PARE_LAYER_CACHE_TAG);
			registry_ref_free(&rr);
			goto bad;
		}
		registry_ref_free(&rr);
	}
	c->nfrom = to ? refs.n - 1 : refs.n;
	c->from = xcalloc(c->nfrom + 1, sizeof(*c->from));
	for (size_t i = 0; i < c->nfrom; i++)
		c->from[i].ref = xstrdup(refs.v[i]);
	if (to) {
		c->to.ref = xstrdup(to);
		c->to.push = true;
	}
	c->reg = reg;
	c->opts = *reg;
	c->cb.lookup = lookup;
	c->cb.prefetch = prefetch;
	c->cb.store = store;
	pthread_mutex_init(&c->mu, NULL);
	c->cb.arg = c;
	sv_clear(&refs);
	*out = c;
	return 0;
bad:
	sv_clear(&refs);
	free(c);
	return -1;
}

const struct layer_remote *rebuild_cache_remote(struct rebuild_cache *c)
{
	return c && (c->nfrom || c->to.ref) ? &c->cb : NULL;
}

static void repo_count(const struct cache_repo *r, uint64_t *got, uint64_t *sent)
{
	size_t bg, bs;
	uint64_t g, s;

	if (r->repo) {
		registry_repo_counts(r->repo, &g, &s, &bg, &bs);
		*got += g, *sent += s;
	}
}

static void repo_close(struct cache_repo *r)
{
	registry_repo_close(r->repo);
	free(r->ref);
}

void rebuild_cache_close(struct rebuild_cache *c)
{
	uint64_t got, sent = 0;

	if (!c)
		return;
	got = c->got_pf;
	for (size_t i = 0; i < c->nfrom; i++)
		repo_count(&c->from[i], &got, &sent);
	repo_count(&c->to, &got, &sent);
	if (c->nfrom)
		note("layer cache: %zu layers from the registry (%" PRIu64 " bytes), %zu not there%s",
		     c->hits, got, c->misses, c->bad ? ", some ignored (see above)" : "");
	if (c->to.ref)
		note("layer cache %s: %zu entries pushed, %zu already there (%" PRIu64 " bytes sent)",
		     c->to.ref, c->stored, c->present, sent);
	for (size_t i = 0; i < c->nfrom; i++)
		repo_close(&c->from[i]);
	repo_close(&c->to);
	sv_clear(&c->tried);
	pthread_mutex_destroy(&c->mu);
	free(c->from);
	free(c);
}

int rebuild_cache_prune_remote(const char *ref, const struct registry_opts *reg,
			       const strvec *keep, bool dry_run, strvec *gone, size_t *kept,
			       perr *e)
{
	registry_repo *repo = NULL;
	strvec tags = STRVEC_INIT;
	strbuf body = STRBUF_INIT;
	struct registry_ref rr = { 0 };
	size_t pl = strlen(PARE_LAYER_CACHE_TAG);
	int ret = -1;

	*kept = 0;
	if (registry_ref_parse(ref, &rr, e) < 0)
		goto out;
	if (rr.tag || rr.digest) {
		perr_set(e, "'%s': give the cache repository (HOST/REPO), without a tag or digest", ref);
		goto out;
	}
	if (registry_repo_open(ref, reg, !dry_run, &repo, e) < 0 ||
	    registry_repo_tags(repo, &tags, e) < 0)
		goto out;
	for (size_t i = 0; i < tags.n; i++) {
		const char *t = tags.v[i];
		char dg[72];
		cJSON *m;
		bool ours;
		int r;

		if (strncmp(t, PARE_LAYER_CACHE_TAG, pl) || !is_sha256_hex(t + pl))
			continue; /* not an entry of pare's: never touched */
		if (sv_contains(keep, t + pl)) {
			(*kept)++;
			continue;
		}
		/* deleted only when it is what pare writes there */
		if ((r = registry_repo_manifest(repo, t, &body, dg, e)) < 0)
			goto out;
		if (r == 0)
			continue; /* gone meanwhile */
		m = cJSON_ParseWithLength(body.buf, body.len);
		ours = oci_json_str(m, "artifactType") &&
		       !strcmp(oci_json_str(m, "artifactType"), PARE_AT_LAYER_CACHE) &&
		       ann(m, PARE_ANN_LAYER_CACHE_KEY) && !strcmp(ann(m, PARE_ANN_LAYER_CACHE_KEY), t + pl);
		cJSON_Delete(m);
		if (!ours)
			continue;
		if (!dry_run) {
			if ((r = registry_repo_delete(repo, dg, e)) < 0)
				goto out;
			if (r == 0) {
				perr_set(e, "%s: the registry does not allow deletes (HTTP 405), nothing more "
					 "removed; docker-registry needs REGISTRY_STORAGE_DELETE_ENABLED=true",
					 ref);
				ret = 0;
				goto out;
			}
		}
		sv_push(gone, t);
	}
	ret = 1;
out:
	registry_ref_free(&rr);
	registry_repo_close(repo);
	sv_clear(&tags);
	sb_release(&body);
	return ret;
}
