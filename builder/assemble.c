/*
 * assemble.c - builder_build(): one image per architecture, then the index.
 *
 * Per architecture: the merged-/usr links, then the packages grouped into
 * layers (layer_plan).  A layer found in the layer cache (blob + metadata
 * record, both verified) is restored into the tree from its record without
 * reading a .deb; the others' .debs are fetched if missing, decoded on worker
 * threads (deb_decode) and put into the tree in order (deb_insert), and the
 * layer and its record written to the cache.  File
 * contents are dropped once their layer is written (digests and ELF sonames
 * stay), except the few generate.c reads.  Then the generated files
 * (builder_generate) as the top layer; then config and manifest.
 */
#include "builder_int.h"

#include <cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t builder_epoch(const struct lock_recipe *lr)
{
	return source_date_epoch(lock_recipe_epoch(lr));
}

static int add_usrmerge(struct image_tree *t, perr *e)
{
	for (size_t i = 0; policy_usrmerge_dirs[i]; i++) {
		struct tree_entry *ent = xcalloc(1, sizeof(*ent));

		ent->path = xasprintf("/%s", policy_usrmerge_dirs[i]);
		ent->target = xasprintf("usr/%s", policy_usrmerge_dirs[i]);
		ent->type = TREE_SYMLINK;
		ent->mode = 0777;
		ent->mtime = INT64_MAX; /* clamped to SOURCE_DATE_EPOCH */
		ent->pkg = -1;
		ent->layer = -1;
		if (tree_insert(t, ent, e) < 0)
			return -1;
	}
	return 0;
}

static bool digest_ok(const char *d)
{
	return d && str_starts(d, "sha256:") && is_sha256_hex(d + 7);
}

/* A layer cache entry record (KEY.json): its digests, sizes, epoch and newest mtime into le
 * (not its paths), or false when a field is missing or malformed.  The one reader of the
 * record, for a build's cache lookup and for the shared cache's view of local entries. */
static bool lcache_entry_parse(const cJSON *j, struct lcache_entry *le)
{
	const char *dg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "digest"));
	const char *di = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "diff_id"));
	const char *mh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "meta_sha256"));
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(j, "size");
	const cJSON *msz = cJSON_GetObjectItemCaseSensitive(j, "meta_size");
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(j, "epoch");
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "max_mtime");

	memset(le, 0, sizeof(*le));
	if (!digest_ok(dg) || !digest_ok(di) || !mh || !is_sha256_hex(mh) ||
	    !cJSON_IsNumber(sz) || !cJSON_IsNumber(msz) || !cJSON_IsNumber(ep) ||
	    (mt && !cJSON_IsNumber(mt)) || sz->valuedouble < 0 || msz->valuedouble < 0)
		return false;
	snprintf(le->digest, sizeof(le->digest), "%s", dg);
	snprintf(le->diff_id, sizeof(le->diff_id), "%s", di);
	snprintf(le->meta_sha256, sizeof(le->meta_sha256), "%s", mh);
	le->size = (uint64_t)sz->valuedouble;
	le->meta_size = (uint64_t)msz->valuedouble;
	le->epoch = (int64_t)ep->valuedouble;
	le->has_max_mtime = mt != NULL;
	le->max_mtime = mt ? (int64_t)mt->valuedouble : 0;
	return true;
}

/* A cached layer: layers/KEY.json names the blob (digest, diff_id, size)
 * and the layer's metadata record layers/KEY.meta (its sha256 and size).
 * Both files are verified, not trusted: the blob in the blob cache and the
 * record must hash to what the entry says, or still carry the stat stamp the
 * entry recorded when pare wrote them or last hashed them (lcache_check_file;
 * an entry without a matching stamp is hashed and re-stamped).  Anything missing,
 * malformed or not matching is a miss (the layer is built again from its
 * .debs), never an error.  The key leaves out SOURCE_DATE_EPOCH: the entry is
 * a hit for epoch when it was built with that epoch, or when none of its
 * entries' mtimes reached either epoch (then no mtime was clamped and the
 * bytes are the same).  On a hit fills d and *meta. */
static bool layer_from_cache(const char *key, const char *compression, size_t npkgs,
			     int64_t epoch, struct layer_desc *d, struct lmeta **meta)
{
	char *jp = xasprintf("%s/layers/%s.json", pare_cache_dir(), key), *blob = NULL;
	char *mp = xasprintf("%s/layers/%s.meta", pare_cache_dir(), key);
	char *mstamp = NULL, *bstamp = NULL, *txt = NULL;
	strbuf sb = STRBUF_INIT, mb = STRBUF_INIT;
	cJSON *j = NULL;
	struct lcache_entry le;
	struct stat jst;
	int64_t jmtime;
	bool ok = false;
	perr e;

	*meta = NULL;
	if (read_file(jp, &sb, 1 << 16, &e) < 0 || !(j = cJSON_Parse(sb.buf)) ||
	    stat(jp, &jst) < 0 || !lcache_entry_parse(j, &le))
		goto out;
	jmtime = (int64_t)jst.st_mtim.tv_sec * 1000000000 + jst.st_mtim.tv_nsec;
	if (le.epoch != epoch && le.has_max_mtime &&
	    (le.max_mtime > le.epoch || le.max_mtime > epoch))
		goto out;
	/* the record is not linked anywhere: its ctime counts too */
	if (!lcache_check_file(mp, le.meta_sha256, le.meta_size,
			       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "meta_stamp")),
			       true, jmtime, &mb, &mstamp) ||
	    !(*meta = lmeta_parse(mb.buf, mb.len, npkgs)))
		goto out;
	blob = xasprintf("%s/blobs/sha256/%s", pare_cache_dir(), le.digest + 7);
	/* a truncated or altered blob is a miss */
	if (!lcache_check_file(blob, le.digest + 7, le.size,
			       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "blob_stamp")),
			       false, jmtime, NULL, &bstamp))
		goto out;
	if (mstamp || bstamp) {
		/* best effort: without the stamps the next build hashes again */
		if (mstamp) {
			cJSON_DeleteItemFromObjectCaseSensitive(j, "meta_stamp");
			cJSON_AddStringToObject(j, "meta_stamp", mstamp);
		}
		if (bstamp) {
			cJSON_DeleteItemFromObjectCaseSensitive(j, "blob_stamp");
			cJSON_AddStringToObject(j, "blob_stamp", bstamp);
		}
		txt = cJSON_PrintUnformatted(j);
		if (write_file_atomic(jp, txt, strlen(txt), 0644, &e) < 0)
			debug("layer cache entry %s: stamps not recorded: %s", key, e.msg);
		else
			debug("layer cache entry %s: hashed, stamps recorded", key);
	}
	memset(d, 0, sizeof(*d));
	snprintf(d->digest, sizeof(d->digest), "%s", le.digest);
	snprintf(d->diff_id, sizeof(d->diff_id), "%s", le.diff_id);
	d->size = le.size;
	d->media_type = layer_media_type(compression);
	d->blob = blob;
	d->cached = true;
	blob = NULL;
	ok = true;
out:
	if (!ok && sb.len)
		debug("layer cache entry %s ignored (invalid, or blob or record mismatch)", key);
	if (!ok) {
		lmeta_free(*meta);
		*meta = NULL;
	}
	cJSON_Delete(j);
	sb_release(&sb);
	sb_release(&mb);
	free(jp);
	free(mp);
	free(blob);
	free(mstamp);
	free(bstamp);
	free(txt);
	return ok;
}

/* The record first, then the entry naming its digest: an entry never points
 * at a record that is not complete.  blob_stamp (lcache_seal of the blob,
 * or NULL) and the record's stamp go into the entry, so the next build
 * trusts both without hashing them. */
static int layer_to_cache(const char *key, const struct layer_desc *d, int64_t epoch,
			  const strbuf *rec, const char *blob_stamp, perr *e)
{
	char *dir = path_join(pare_cache_dir(), "layers"), *jp = NULL, *mp = NULL, *txt = NULL;
	char *meta_stamp = NULL;
	cJSON *j = cJSON_CreateObject();
	char hex[SHA256_HEX_LEN + 1];
	int ret = -1;

	sha256_hex(rec->buf ? rec->buf : "", rec->len, hex);
	cJSON_AddStringToObject(j, "digest", d->digest);
	cJSON_AddStringToObject(j, "diff_id", d->diff_id);
	cJSON_AddNumberToObject(j, "size", (double)d->size);
	cJSON_AddStringToObject(j, "meta_sha256", hex);
	cJSON_AddNumberToObject(j, "meta_size", (double)rec->len);
	cJSON_AddNumberToObject(j, "epoch", (double)epoch);
	if (d->max_mtime != INT64_MIN) /* absent: no entries, nothing to clamp */
		cJSON_AddNumberToObject(j, "max_mtime", (double)d->max_mtime);
	jp = xasprintf("%s/%s.json", dir, key);
	mp = xasprintf("%s/%s.meta", dir, key);
	if (mkdir_p(dir, 0755, e) < 0 ||
	    write_file_atomic(mp, rec->buf ? rec->buf : "", rec->len, 0644, e) < 0)
		goto out;
	if ((meta_stamp = lcache_seal(mp, rec->len, true)))
		cJSON_AddStringToObject(j, "meta_stamp", meta_stamp);
	if (blob_stamp)
		cJSON_AddStringToObject(j, "blob_stamp", blob_stamp);
	txt = cJSON_PrintUnformatted(j);
	if (write_file_atomic(jp, txt, strlen(txt), 0644, e) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(j);
	free(txt);
	free(jp);
	free(mp);
	free(dir);
	free(meta_stamp);
	return ret;
}

/* ---- the shared layer cache's view of local entries (builder.h) ---- */

void builder_lcache_entry_release(struct lcache_entry *le)
{
	free(le->blob);
	free(le->meta);
	le->blob = le->meta = NULL;
}

int builder_lcache_read(const char *key, struct lcache_entry *le, perr *e)
{
	char *jp = xasprintf("%s/layers/%s.json", pare_cache_dir(), key);
	strbuf sb = STRBUF_INIT;
	cJSON *j = NULL;
	int ret = -1;

	memset(le, 0, sizeof(*le));
	if (!is_sha256_hex(key) || read_file(jp, &sb, 1 << 16, e) < 0)
		goto out;
	j = cJSON_Parse(sb.buf);
	if (!lcache_entry_parse(j, le)) {
		perr_set(e, "%s: not a layer cache entry", jp);
		goto out;
	}
	le->blob = xasprintf("%s/blobs/sha256/%s", pare_cache_dir(), le->digest + 7);
	le->meta = xasprintf("%s/layers/%s.meta", pare_cache_dir(), key);
	ret = 0;
out:
	cJSON_Delete(j);
	sb_release(&sb);
	free(jp);
	return ret;
}

int builder_lcache_install(const char *key, const struct lcache_entry *le, const char *blob_tmp,
			   const char *meta_tmp, perr *e)
{
	char *dir = path_join(pare_cache_dir(), "layers"), *bdir = NULL, *blob = NULL;
	char *jp = NULL, *mp = NULL, *txt = NULL, *mstamp = NULL, *bstamp = NULL;
	cJSON *j = cJSON_CreateObject();
	int ret = -1;

	if (!is_sha256_hex(key) || !digest_ok(le->digest) || !digest_ok(le->diff_id) ||
	    !is_sha256_hex(le->meta_sha256)) {
		perr_set(e, "layer cache entry %s: bad digests", key);
		goto out;
	}
	bdir = path_join(pare_cache_dir(), "blobs/sha256");
	blob = xasprintf("%s/%s", bdir, le->digest + 7);
	jp = xasprintf("%s/%s.json", dir, key);
	mp = xasprintf("%s/%s.meta", dir, key);
	if (mkdir_p(dir, 0755, e) < 0 || mkdir_p(bdir, 0755, e) < 0)
		goto out;
	/* the blob and the record first, the entry naming them last */
	if (rename(blob_tmp, blob) < 0 || rename(meta_tmp, mp) < 0) {
		perr_errno(e, "layer cache entry %s: rename", key);
		goto out;
	}
	/* verified and fsynced by the caller: stamped, as a built layer is */
	if ((bstamp = lcache_seal(blob, le->size, true)))
		cJSON_AddStringToObject(j, "blob_stamp", bstamp);
	if ((mstamp = lcache_seal(mp, le->meta_size, true)))
		cJSON_AddStringToObject(j, "meta_stamp", mstamp);
	cJSON_AddStringToObject(j, "digest", le->digest);
	cJSON_AddStringToObject(j, "diff_id", le->diff_id);
	cJSON_AddNumberToObject(j, "size", (double)le->size);
	cJSON_AddStringToObject(j, "meta_sha256", le->meta_sha256);
	cJSON_AddNumberToObject(j, "meta_size", (double)le->meta_size);
	cJSON_AddNumberToObject(j, "epoch", (double)le->epoch);
	if (le->has_max_mtime)
		cJSON_AddNumberToObject(j, "max_mtime", (double)le->max_mtime);
	txt = cJSON_PrintUnformatted(j);
	if (write_file_atomic(jp, txt, strlen(txt), 0644, e) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(j);
	free(dir), free(bdir), free(blob), free(jp), free(mp), free(txt);
	free(mstamp), free(bstamp);
	return ret;
}

static void layer_opts_of(const struct build_ctx *c, struct layer_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->compression = c->o && c->o->compression ? c->o->compression : "gzip";
	lo->epoch = c->epoch;
	lo->pol = &c->pol;
}

/* Write layer `layer` of the tree into the blob cache; fills d. */
static int write_layer(struct build_ctx *c, int layer, struct layer_desc *d, perr *e)
{
	struct layer_opts lo;
	char *dir = path_join(pare_cache_dir(), "blobs/sha256");
	char *tmp = xasprintf("%s/.tmp.%d.%d", dir, (int)getpid(), layer);
	char *final = NULL;
	int ret = -1, slot = tmp_register(tmp);

	layer_opts_of(c, &lo);
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	if (layer_write(c->tree, layer, &lo, tmp, d, e) < 0)
		goto out;
	final = xasprintf("%s/%s", dir, d->digest + 7);
	if (rename(tmp, final) != 0) {
		perr_errno(e, "cannot rename %s", tmp);
		goto out;
	}
	d->blob = final;
	final = NULL;
	ret = 0;
out:
	if (ret < 0)
		unlink(tmp);
	tmp_unregister(slot);
	free(dir);
	free(tmp);
	free(final);
	return ret;
}

static void free_contents(struct image_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		tree_entry_drop_content(t->ents[i]);
}

/* One package layer (group g): from the layer cache when its record and blob
 * are there and intact, else from its .debs (then cached). */
struct group_plan {
	const char **debs;  /* sha256s, lock order */
	int *pkgs;          /* lock indices */
	size_t n;
	char key[SHA256_HEX_LEN + 1];
	struct lmeta *meta; /* hit */
};

/* ---- writing package layers on worker threads ------------------------------
 *
 * The main thread puts the .debs into the tree in layer order (decoded ahead,
 * see below); as soon as a
 * layer's packages are in, its live entries are snapshotted and the layer is
 * handed to a pool of workers, which write the tar, compress it, write the
 * cache entry and then drop the contents.  A layer's bytes depend only on
 * its snapshot (layer_write_ents with no tree), so the output is the same
 * whatever the scheduling; results land in img->layers[g] by index.  The
 * tree itself is only touched by the main thread: later inserts may set
 * `removed` on a snapshotted entry (a later Replaces), which the worker
 * never reads. */
struct layer_job {
	struct tree_entry **ents; size_t n;
	strbuf rec;
	const char *key;
	struct layer_desc *d;
	uint64_t held;          /* bytes of .deb content its entries hold (decoder budget) */
	perr e;
	int rc;
};

struct layer_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct layer_job *jobs;
	size_t nready, next;     /* jobs[0..nready) published, next to take */
	bool closed;
	const struct layer_opts *lo;
	const char *blobdir;
	pthread_t *threads; size_t nthreads;
	/* called with a job's `held` once its contents are dropped */
	void (*release)(void *cd, uint64_t bytes);
	void *release_cd;
};

static int run_layer_job(struct layer_pool *p, size_t g, struct layer_job *j)
{
	char *tmp = xasprintf("%s/.tmp.%d.%zu", p->blobdir, (int)getpid(), g), *final = NULL;
	char *stamp = NULL;
	int ret = -1, slot = tmp_register(tmp);

	if (layer_write_ents(NULL, j->ents, j->n, p->lo, tmp, j->d, &j->e) < 0)
		goto out;
	debug("layer %zu: written and compressed (%" PRIu64 " bytes)", g, j->d->size);
	/* fsynced before its stamp is recorded: a stamp must never vouch for
	 * bytes a crash can still take back (the rename keeps what it stamps) */
	stamp = lcache_seal(tmp, j->d->size, false);
	final = xasprintf("%s/%s", p->blobdir, j->d->digest + 7);
	if (rename(tmp, final) != 0) {
		perr_errno(&j->e, "cannot rename %s", tmp);
		goto out;
	}
	j->d->blob = final;
	final = NULL;
	if (layer_to_cache(j->key, j->d, p->lo->epoch, &j->rec, stamp, &j->e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		unlink(tmp);
	tmp_unregister(slot);
	/* contents are not needed any more (digests and sonames are kept),
	 * except the few generate.c reads */
	for (size_t i = 0; i < j->n; i++)
		if (!layer_keeps_content(j->ents[i]->path))
			tree_entry_drop_content(j->ents[i]);
	sb_release(&j->rec);
	free(tmp);
	free(final);
	free(stamp);
	return ret;
}

static void *layer_worker(void *arg)
{
	struct layer_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t g;

		while (p->next >= p->nready && !p->closed)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->next >= p->nready)
			break;
		g = p->next++;
		pthread_mutex_unlock(&p->mu);
		/* layers taken from the cache have no job (d NULL) */
		if (p->jobs[g].d) {
			p->jobs[g].rc = run_layer_job(p, g, &p->jobs[g]);
			if (p->release && p->jobs[g].held)
				p->release(p->release_cd, p->jobs[g].held);
		}
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int pool_start(struct layer_pool *p, size_t njobs, const struct layer_opts *lo,
		      const char *blobdir, perr *e)
{
	size_t want = builder_nthreads();

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->jobs = xcalloc(njobs + 1, sizeof(*p->jobs));
	p->lo = lo;
	p->blobdir = blobdir;
	if (want > njobs)
		want = njobs ? njobs : 1;
	p->threads = xcalloc(want, sizeof(*p->threads));
	for (size_t i = 0; i < want; i++) {
		int r = pthread_create(&p->threads[i], NULL, layer_worker, p);

		if (r) {
			errno = r;
			if (!p->nthreads)
				return perr_errno(e, "cannot start a layer writer thread");
			break; /* fewer workers is fine */
		}
		p->nthreads++;
	}
	return 0;
}

static void pool_submit(struct layer_pool *p, size_t g)
{
	pthread_mutex_lock(&p->mu);
	p->nready = g + 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Wait for the workers.  Returns the first failed layer's error (lowest
 * index: the same message whatever the scheduling). */
static int pool_finish(struct layer_pool *p, size_t njobs, perr *e)
{
	int ret = 0;

	pthread_mutex_lock(&p->mu);
	p->closed = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (size_t g = 0; g < njobs; g++) {
		if (p->jobs[g].rc < 0 && ret == 0) {
			*e = p->jobs[g].e;
			ret = -1;
		}
		free(p->jobs[g].ents);
		sb_release(&p->jobs[g].rec);
	}
	free(p->jobs);
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	memset(p, 0, sizeof(*p));
	return ret;
}

/* ---- decoding .debs ahead on worker threads ---------------------------------
 *
 * The tree must be built in lock order (overlaps, Replaces, hard links), but
 * reading a .deb (xz, tar, digests) does not need the tree: deb_decode runs
 * on decoder threads ahead of the main thread, which takes the results in
 * order and inserts them (deb_insert).  Items are claimed strictly in order.
 * PARE_THREADS decoder threads (with PARE_THREADS=1 none: the main thread
 * decodes each item just before it inserts it, as deb_load_rec does); the
 * main thread decodes an item itself only when no decoder has claimed it.
 * Memory: decoders stay at most DEC_AHEAD items ahead of the insertion and
 * claim nothing while DEC_AHEAD_BYTES of file contents are held, decoded or
 * in the tree waiting for their layer writer (which gives them back with
 * dec_release); the item the main thread needs is always decoded.  No item
 * is claimed after one that failed (its error is reported in order by the
 * main thread; later ones never are).  Nothing a decoder does depends on
 * timing, so the tree, and the output, are the same for any number of
 * threads. */
#define DEC_AHEAD 8
#define DEC_AHEAD_BYTES (32u << 20)

struct dec_item {
	int pkgi, layer;
	char *path;
	struct deb_decoded d;
	bool done;
};

struct decoder {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* decoders: window moved / stop */
	pthread_cond_t done_cv; /* main: an item is done */
	struct dec_item *items; size_t n;
	size_t next;            /* items[0..next) claimed */
	size_t taken;           /* items[0..taken) handed to the main thread */
	uint64_t bytes;         /* content decoded and not yet written out by a layer writer */
	bool sealed;            /* no more items will be added */
	bool stop, failed;
	const struct policy *pol;
	const struct lock_arch *la;
	pthread_t *threads; size_t nthreads;
};

static void dec_run(struct decoder *dc, struct dec_item *it)
{
	const struct lock_pkg *lp = &dc->la->pkgs[it->pkgi];

	debug("%s: decoding", lp->name);
	deb_decode(lp, it->pkgi, it->layer, it->path, dc->pol, &it->d);
	debug("%s: decoded", lp->name);
}

static void *dec_worker(void *arg)
{
	struct decoder *dc = arg;

	pthread_mutex_lock(&dc->mu);
	for (;;) {
		struct dec_item *it;

		while (!dc->stop && !dc->failed &&
		       (dc->next >= dc->n ? !dc->sealed :
			dc->next >= dc->taken + DEC_AHEAD || dc->bytes >= DEC_AHEAD_BYTES))
			pthread_cond_wait(&dc->cv, &dc->mu);
		if (dc->stop || dc->failed || dc->next >= dc->n)
			break;
		it = &dc->items[dc->next++];
		pthread_mutex_unlock(&dc->mu);
		dec_run(dc, it);
		pthread_mutex_lock(&dc->mu);
		it->done = true;
		dc->bytes += it->d.bytes;
		if (it->d.rc < 0)
			dc->failed = true;
		pthread_cond_broadcast(&dc->done_cv);
	}
	pthread_mutex_unlock(&dc->mu);
	return NULL;
}

/* Started before the layer cache is consulted, so that the decoding of the
 * first layers to build overlaps with checking (and restoring) the cached
 * ones.  Items are added with dec_add in the order deb_insert takes them
 * (layer order, lock order within a layer), at most la->npkgs; dec_seal
 * when complete.  nworkers may be 0: all on the caller. */
static void dec_start(struct decoder *dc, const struct policy *pol,
		      const struct lock_arch *la, size_t nworkers)
{
	memset(dc, 0, sizeof(*dc));
	pthread_mutex_init(&dc->mu, NULL);
	pthread_cond_init(&dc->cv, NULL);
	pthread_cond_init(&dc->done_cv, NULL);
	dc->items = xcalloc(la->npkgs + 1, sizeof(*dc->items));
	dc->pol = pol;
	dc->la = la;
	if (nworkers > la->npkgs)
		nworkers = la->npkgs;
	dc->threads = xcalloc(nworkers + 1, sizeof(*dc->threads));
	for (size_t i = 0; i < nworkers; i++) {
		if (pthread_create(&dc->threads[i], NULL, dec_worker, dc))
			break; /* fewer decoders (or none: the main thread) is fine */
		dc->nthreads++;
	}
}

/* Layer g's .debs (their files must exist: fetched or cached). */
static void dec_add(struct decoder *dc, const struct group_plan *gp, size_t g)
{
	pthread_mutex_lock(&dc->mu);
	for (size_t k = 0; k < gp->n; k++) {
		dc->items[dc->n].pkgi = gp->pkgs[k];
		dc->items[dc->n].layer = (int)g;
		dc->items[dc->n++].path = deb_cache_path(gp->debs[k]);
	}
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
}

static void dec_seal(struct decoder *dc)
{
	pthread_mutex_lock(&dc->mu);
	dc->sealed = true;
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
}

/* The next item in order (all added, sealed), decoded.  The caller inserts
 * it (deb_insert), adds its bytes to its layer job's `held` and releases d. */
static struct dec_item *dec_take(struct decoder *dc)
{
	struct dec_item *it;

	pthread_mutex_lock(&dc->mu);
	it = &dc->items[dc->taken];
	/* Decode it here when no decoder has claimed it (there are none, or
	 * none has got to it yet).  Never further ahead: an insertion held up
	 * behind a decode would hold up the layer writers. */
	if (dc->next == dc->taken) {
		struct dec_item *o = &dc->items[dc->next++];

		pthread_mutex_unlock(&dc->mu);
		dec_run(dc, o);
		pthread_mutex_lock(&dc->mu);
		o->done = true;
		dc->bytes += o->d.bytes;
		if (o->d.rc < 0)
			dc->failed = true;
		pthread_cond_broadcast(&dc->done_cv);
	}
	while (!it->done)
		pthread_cond_wait(&dc->done_cv, &dc->mu);
	dc->taken++;
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
	return it;
}

/* A layer writer dropped the contents of items taken before (its job's held). */
static void dec_release(void *cd, uint64_t bytes)
{
	struct decoder *dc = cd;

	pthread_mutex_lock(&dc->mu);
	dc->bytes -= bytes;
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
}

/* Stop the decoders and free everything not taken (after pool_finish: the
 * layer writers call dec_release). */
static void dec_finish(struct decoder *dc)
{
	pthread_mutex_lock(&dc->mu);
	dc->stop = true;
	pthread_cond_broadcast(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
	for (size_t i = 0; i < dc->nthreads; i++)
		pthread_join(dc->threads[i], NULL);
	for (size_t i = 0; i < dc->n; i++) {
		deb_decoded_release(&dc->items[i].d);
		free(dc->items[i].path);
	}
	free(dc->items);
	free(dc->threads);
	pthread_mutex_destroy(&dc->mu);
	pthread_cond_destroy(&dc->cv);
	pthread_cond_destroy(&dc->done_cv);
	memset(dc, 0, sizeof(*dc));
}

/* $cache/roots/build-KEY, KEY over the recipe, the architecture and the
 * compression (it is in the layer keys: a gzip and a zstd build of one
 * recipe keep their own roots): every .deb of the lock (read, or would have
 * been on a layer cache miss), every layer record and blob of the image and
 * whatever generate.c relied on (c->roots). */
static int write_build_roots(struct build_ctx *c, const struct group_plan *gp, size_t ng,
			     const struct oci_image *img, perr *e)
{
	const char *comp = c->o && c->o->compression ? c->o->compression : "gzip";
	char hex[SHA256_HEX_LEN + 1], *name;
	phash *h = phash_new("sha256");
	int ret;

	for (size_t i = 0; i < c->la->npkgs; i++)
		sv_pushf(&c->roots, "debs/sha256/%s", c->la->pkgs[i].sha256);
	for (size_t g = 0; g < ng; g++) {
		sv_pushf(&c->roots, "layers/%s.json", gp[g].key);
		sv_pushf(&c->roots, "layers/%s.meta", gp[g].key);
	}
	for (size_t l = 0; l < img->nlayers; l++)
		sv_pushf(&c->roots, "blobs/sha256/%s", img->layers[l].digest + 7);
	phash_update(h, "build", 6);
	phash_update(h, c->lr->name, strlen(c->lr->name) + 1);
	phash_update(h, c->arch, strlen(c->arch) + 1);
	phash_update(h, comp, strlen(comp));
	phash_final_hex(h, hex);
	name = xasprintf("build-%s", hex);
	ret = cache_roots_write(name, &c->roots, e);
	free(name);
	return ret;
}

static int build_arch(struct build_ctx *c, struct oci_image *img, struct sbom_image *sb,
		      perr *e)
{
	const struct lock_arch *la = c->la;
	int max = c->o && c->o->max_layers > 0 ? c->o->max_layers : 64;
	const struct layer_remote *remote = c->o ? c->o->remote : NULL;
	int *group = xcalloc(la->npkgs + 1, sizeof(*group));
	struct group_plan *gp = NULL;
	struct layer_opts lo;
	strvec need = STRVEC_INIT;
	struct layer_pool pool;
	struct decoder dec;
	bool pool_on = false, dec_on = false;
	int r_pool;
	char **comments = NULL; /* per layer */
	char *blobdir = NULL;
	size_t ng = 0, defer;
	int ret = -1;

	layer_opts_of(c, &lo);
	c->tree = tree_new();
	if (add_usrmerge(c->tree, e) < 0)
		goto out;
	/* One layer is kept for the generated files. */
	ng = layer_plan(la, max > 1 ? max - 1 : 1, group);
	c->tree->pkgs = xcalloc(la->npkgs + 1, sizeof(*c->tree->pkgs));
	c->tree->npkgs = c->tree->pkgs_alloc = la->npkgs;
	for (size_t i = 0; i < la->npkgs; i++) {
		c->tree->pkgs[i].lp = &la->pkgs[i];
		c->tree->pkgs[i].layer = group[i];
	}
	img->layers = xcalloc(ng + 1, sizeof(*img->layers));
	gp = xcalloc(ng + 1, sizeof(*gp));
	defer = ng; /* first layer whose .debs wait for the fetch */
	/* one decoder per thread (the main thread inserts; it decodes only a
	 * .deb nobody has claimed); with PARE_THREADS=1 the main thread alone */
	dec_start(&dec, &c->pol, la, builder_nthreads() > 1 ? builder_nthreads() : 0);
	dec_on = true;
	/* Which layers the cache has: only the others' .debs are needed.  The
	 * layers to build are handed to the decoders as they are found, up to
	 * the first one that needs a .deb fetched (then the rest after the
	 * fetch: the order is the insertion order). */
	for (size_t g = 0; g < ng; g++) {
		gp[g].debs = xcalloc(la->npkgs + 1, sizeof(*gp[g].debs));
		gp[g].pkgs = xcalloc(la->npkgs + 1, sizeof(*gp[g].pkgs));
		for (size_t i = 0; i < la->npkgs; i++)
			if ((size_t)group[i] == g) {
				gp[g].pkgs[gp[g].n] = (int)i;
				gp[g].debs[gp[g].n++] = la->pkgs[i].sha256;
			}
		layer_cache_key(&c->pol, &lo, la->arch, gp[g].debs, gp[g].n, gp[g].key);
	}
	/* the shared cache gets the keys the local one has no entry for at
	 * once (it may fetch them in parallel) */
	if (remote && remote->prefetch && ng) {
		const char **miss = xcalloc(ng, sizeof(*miss));
		size_t nm = 0;

		for (size_t g = 0; g < ng; g++) {
			char *jp = xasprintf("%s/layers/%s.json", pare_cache_dir(), gp[g].key);

			if (!path_exists(jp))
				miss[nm++] = gp[g].key;
			free(jp);
		}
		if (nm)
			remote->prefetch(remote->arg, miss, nm);
		free(miss);
	}
	for (size_t g = 0; g < ng; g++) {
		if (layer_from_cache(gp[g].key, lo.compression, gp[g].n, lo.epoch, &img->layers[g],
				     &gp[g].meta) ||
		    (remote && remote->lookup(remote->arg, gp[g].key) &&
		     layer_from_cache(gp[g].key, lo.compression, gp[g].n, lo.epoch,
				      &img->layers[g], &gp[g].meta))) {
			debug("layer %zu (%s) taken from the layer cache", g, img->layers[g].digest);
			img->nlayers = g + 1; /* owned by img from here on */
			continue;
		}
		for (size_t k = 0; k < gp[g].n; k++) {
			char *deb = deb_cache_path(gp[g].debs[k]);

			if (!path_exists(deb))
				sv_push(&need, gp[g].debs[k]);
			free(deb);
		}
		if (!need.n)
			dec_add(&dec, &gp[g], g);
		else if (defer == ng)
			defer = g;
	}
	debug("%s: layer plan: %zu layers, %zu .debs to fetch", la->arch, ng, need.n);
	if (need.n && c->r) {
		struct fetch_opts fo = { c->o ? c->o->parallel : 0, &need };
		strvec archs = STRVEC_INIT;

		sv_push(&archs, la->arch);
		ret = builder_fetch(c->r, c->lr, &archs, &fo, e);
		sv_clear(&archs);
		if (ret < 0)
			goto out;
		ret = -1;
		debug("%s: fetched", la->arch);
	}
	for (size_t g = defer; g < ng; g++)
		if (!gp[g].meta)
			dec_add(&dec, &gp[g], g);
	dec_seal(&dec);
	comments = xcalloc(ng + 1, sizeof(*comments));
	blobdir = path_join(pare_cache_dir(), "blobs/sha256");
	if (mkdir_p(blobdir, 0755, e) < 0 || pool_start(&pool, ng, &lo, blobdir, e) < 0)
		goto out;
	pool_on = true;
	pool.release = dec_release;
	pool.release_cd = &dec;
	for (size_t g = 0; g < ng; g++) {
		strbuf comment = STRBUF_INIT;
		strvec sources = STRVEC_INIT;
		struct layer_job *j = &pool.jobs[g];
		size_t first = c->tree->n;
		int r = 0;

		for (size_t k = 0; k < gp[g].n; k++) {
			const struct lock_pkg *lp = &la->pkgs[gp[g].pkgs[k]];

			sv_push(&sources, lp->source ? lp->source : lp->name);
		}
		sv_uniq(&sources);
		for (size_t s = 0; s < sources.n; s++)
			sb_addf(&comment, "%s%s", s ? ", " : "", sources.v[s]);
		sv_clear(&sources);
		if (img->nlayers < g + 1)
			img->nlayers = g + 1;
		/* set after the workers are done: layer_write_ents resets d */
		comments[g] = sb_detach(&comment);
		if (gp[g].meta) {
			r = lmeta_apply(c->tree, gp[g].meta, gp[g].pkgs, e);
			gp[g].meta = NULL;
			if (r < 0)
				goto out;
			continue;
		}
		lmeta_begin(&j->rec);
		for (size_t k = 0; k < gp[g].n && !r; k++) {
			struct dec_item *it = dec_take(&dec);

			j->held += it->d.bytes;
			r = deb_insert(c->tree, it->pkgi, &it->d, &c->pol, &j->rec, e);
			if (r < 0 && it->d.bad_digest) {
				/* not the .deb its name promises: out of the
				 * cache, so that it is fetched again */
				if (unlink(it->path) < 0 && errno != ENOENT)
					warning("cannot remove %s: %s", it->path, strerror(errno));
				c->bad_deb = true;
			}
			deb_decoded_release(&it->d);
		}
		if (r < 0)
			goto out;
		/* the layer's live entries, as they are now: they are what
		 * write_layer would have written at this point */
		j->ents = xcalloc(c->tree->n - first + 1, sizeof(*j->ents));
		for (size_t i = first; i < c->tree->n; i++) {
			struct tree_entry *ent = c->tree->ents[i];

			if (!ent->removed && ent->pkg >= 0 && ent->layer == (int)g)
				j->ents[j->n++] = ent;
		}
		j->key = gp[g].key;
		j->d = &img->layers[g];
		debug("layer %zu (%s): inserted, to the writers", g, comments[g]);
		pool_submit(&pool, g);
	}
	/* The generated files and the top layer while the workers finish:
	 * neither reads the contents the workers drop (generate.c reads only
	 * layer_keeps_content files and the ELF sonames), and the top layer is
	 * its own slot (ng). */
	c->top_layer = (int)ng;
	/* every package entry is in the tree (from .debs or layer records) */
	if (builder_linkcheck(c, e) < 0)
		goto out;
	if (builder_generate(c, e) < 0)
		goto out;
	/* the final tree: no link chain may lead out of the root */
	if (tree_check_symlinks(c->tree, e) < 0)
		goto out;
	/* the final tree: every script's interpreter is in it */
	if (builder_shebangcheck(c, e) < 0)
		goto out;
	debug("%s: generated files", la->arch);
	if (write_layer(c, -1, &img->layers[ng], e) < 0)
		goto out;
	debug("%s: top layer written", la->arch);
	pool_on = false;
	r_pool = pool_finish(&pool, ng, e);
	debug("%s: layer writers done", la->arch);
	dec_on = false;
	dec_finish(&dec);
	for (size_t g = 0; g < ng; g++) {
		img->layers[g].comment = comments[g];
		comments[g] = NULL;
	}
	img->nlayers = ng + 1;
	img->layers[ng].comment = xstrdup("generated files");
	if (r_pool < 0)
		goto out;
	free_contents(c->tree);
	if (builder_image_json(c, img, e) < 0 || builder_sbom_image(c, sb, e) < 0)
		goto out;
	/* Analysed once: the embedded SBOMs' analysis when it is of the same
	 * packages and copyright files (always, unless a recipe path replaced
	 * a copyright file after they were written). */
	if (c->sbom_lic && sbom_licenses_match(c->sbom_lic, sb)) {
		sb->lic = c->sbom_lic;
		c->sbom_lic = NULL;
	} else {
		sbom_image_analyse(sb);
	}
	debug("%s: image config and SBOM inputs", la->arch);
	if (write_build_roots(c, gp, ng, img, e) < 0)
		goto out;
	/* the image is complete: share its package layers */
	for (size_t g = 0; remote && remote->store && g < ng; g++)
		remote->store(remote->arg, gp[g].key, layer_media_type(lo.compression));
	ret = 0;
out:
	sv_clear(&c->roots);
	sbom_licenses_free(c->sbom_lic);
	c->sbom_lic = NULL;
	if (pool_on) {
		perr ign;

		pool_finish(&pool, ng, &ign); /* the main thread's error wins */
	}
	if (dec_on)
		dec_finish(&dec);
	for (size_t g = 0; comments && g < ng; g++)
		free(comments[g]);
	free(comments);
	free(blobdir);
	for (size_t g = 0; gp && g < ng; g++) {
		free(gp[g].debs);
		free(gp[g].pkgs);
		lmeta_free(gp[g].meta);
	}
	free(gp);
	sv_clear(&need);
	free(group);
	tree_free(c->tree);
	c->tree = NULL;
	return ret;
}

void builder_layer_keys(const struct recipe *r, const struct lock_recipe *lr,
			const char *compression, int max_layers, strvec *keys)
{
	int max = max_layers > 0 ? max_layers : 64;
	struct build_opts bo = { 0 };

	bo.compression = compression;
	for (size_t a = 0; a < lr->narchs; a++) {
		const struct lock_arch *la = &lr->archs[a];
		int *group = xcalloc(la->npkgs + 1, sizeof(*group));
		const char **debs = xcalloc(la->npkgs + 1, sizeof(*debs));
		struct build_ctx c = { 0 };
		struct layer_opts lo;
		size_t ng;

		/* as build_arch plans and keys the layers */
		c.r = r, c.lr = lr, c.la = la, c.o = &bo, c.arch = la->arch;
		c.epoch = builder_epoch(lr);
		policy_init(&c.pol, r);
		for (size_t i = 0; i < la->npkgs; i++)
			if (!strcmp(la->pkgs[i].name, "ca-certificates"))
				c.pol.ca_bundle = true;
		layer_opts_of(&c, &lo);
		ng = layer_plan(la, max > 1 ? max - 1 : 1, group);
		for (size_t g = 0; g < ng; g++) {
			char key[SHA256_HEX_LEN + 1];
			size_t n = 0;

			for (size_t i = 0; i < la->npkgs; i++)
				if ((size_t)group[i] == g)
					debs[n++] = la->pkgs[i].sha256;
			layer_cache_key(&c.pol, &lo, la->arch, debs, n, key);
			sv_push(keys, key);
		}
		free(group);
		free(debs);
	}
}

void builder_result_release(struct build_result *res)
{
	if (!res)
		return;
	free(res->index_digest);
	for (size_t i = 0; i < res->narchs; i++) {
		free(res->archs[i].arch);
		free(res->archs[i].manifest_digest);
		free(res->archs[i].config_digest);
		sbom_image_release(&res->archs[i].sbom);
	}
	free(res->archs);
	memset(res, 0, sizeof(*res));
}

int builder_build(const struct recipe *r, const struct lock_recipe *lr,
		  const struct build_opts *opts, struct build_result *res, perr *e)
{
	/* the tag: --tag, else the recipe's first tag (its others go with it) */
	struct build_opts eff = *opts;
	const struct build_opts *o = &eff;
	struct oci_image *imgs = xcalloc(lr->narchs + 1, sizeof(*imgs));
	struct oci_artifact *arts = xcalloc(OCI_SBOM_ARTIFACTS * (lr->narchs + 1), sizeof(*arts));
	size_t nimg = 0, narts = 0;
	char *index_json = NULL;
	char hex[SHA256_HEX_LEN + 1];
	int64_t epoch = builder_epoch(lr);
	int ret = -1;

	/* File contents (up to megabytes each) are allocated on decoder threads
	 * and freed on layer writers.  By default glibc raises its mmap
	 * threshold to the largest buffer freed, after which the big buffers
	 * come from the threads' arenas and stay resident after free; a fixed
	 * 2 MiB threshold gives them back (peak RSS of the python3 build
	 * 87 -> 63 MB; the few buffers this large cost one mmap each). */
	mallopt(M_MMAP_THRESHOLD, 2 << 20);
	if (!eff.tag && r && r->tags.n)
		eff.tag = r->tags.v[0];
	if (r && r->tags.n)
		eff.more_tags = &r->tags;
	memset(res, 0, sizeof(*res));
	res->created = epoch;
	res->archs = xcalloc(lr->narchs + 1, sizeof(*res->archs));
	for (size_t a = 0; a < lr->narchs; a++) {
		struct build_ctx c = { 0 };
		struct build_arch_result *ar = &res->archs[res->narchs];
		int rb;

		if (o->archs.n && !sv_contains(&o->archs, lr->archs[a].arch))
			continue;
		c.r = r;
		c.lr = lr;
		c.la = &lr->archs[a];
		c.o = o;
		c.arch = lr->archs[a].arch;
		c.epoch = epoch;
		policy_init(&c.pol, r);
		for (size_t i = 0; i < c.la->npkgs; i++)
			if (!strcmp(c.la->pkgs[i].name, "ca-certificates"))
				c.pol.ca_bundle = true; /* generate.c makes the bundle */
		if (!o->quiet)
			note("building %s for %s (%zu packages)", r && r->name ? r->name : lr->name,
			     c.arch, c.la->npkgs);
		rb = build_arch(&c, &imgs[nimg], &ar->sbom, e);
		if (rb < 0 && c.bad_deb && r) {
			/* A cached .deb that is not the one the lock pins was
			 * removed: fetched again (and verified on arrival),
			 * the image is built once more.  Only once: a .deb
			 * that changes again after its download fails. */
			warning("%s: fetching it again", e->msg);
			builder_image_release(&imgs[nimg]);
			sbom_image_release(&ar->sbom);
			memset(&ar->sbom, 0, sizeof(ar->sbom));
			c.bad_deb = false;
			rb = build_arch(&c, &imgs[nimg], &ar->sbom, e);
		}
		if (rb < 0) {
			perr_prefix(e, "%s (%s)", lr->name, c.arch);
			nimg++;
			goto out;
		}
		ar->arch = xstrdup(c.arch);
		ar->manifest_digest = xstrdup(imgs[nimg].manifest_digest);
		ar->config_digest = xstrdup(imgs[nimg].config_digest);
		ar->sbom.manifest_digest = xstrdup(imgs[nimg].manifest_digest);
		res->narchs++;
		nimg++;
		if (builder_sbom_artifacts(&imgs[nimg - 1], &ar->sbom, epoch, &arts[narts], e) < 0) {
			perr_prefix(e, "%s (%s)", lr->name, c.arch);
			goto out;
		}
		narts += OCI_SBOM_ARTIFACTS;
		debug("%s: SBOM documents", c.arch);
	}
	if (!nimg) {
		perr_set(e, "%s: no architecture to build", lr->name);
		goto out;
	}
	if (o->single_platform && nimg != 1)
		die("--platform: %zu images built, not one", nimg);
	index_json = builder_index_json(r, imgs, nimg, epoch);
	sha256_hex(index_json, strlen(index_json), hex);
	/* --platform: no image index; the image is its one manifest */
	res->index_digest = o->single_platform ? xstrdup(imgs[0].manifest_digest)
					       : xasprintf("sha256:%s", hex);
	if (!o->single_platform) {
		/* the index's own SBOMs, linking the per-arch ones */
		struct sbom_image *sbs = xcalloc(res->narchs + 1, sizeof(*sbs));
		int r2;

		for (size_t i = 0; i < res->narchs; i++)
			sbs[i] = res->archs[i].sbom; /* shallow: read only */
		r2 = builder_index_sbom_artifacts(index_json, sbs, res->narchs, arts, epoch, &arts[narts], e);
		free(sbs);
		if (r2 < 0)
			goto out;
		narts += 2;
	}
	debug("index and its SBOM documents");
	if ((o->outdir || o->tarfile) && builder_write_layout(o, imgs, nimg, arts, narts, index_json, epoch, e) < 0)
		goto out;
	debug("output written");
	ret = 0;
out:
	for (size_t i = 0; i < nimg; i++)
		builder_image_release(&imgs[i]);
	free(imgs);
	for (size_t i = 0; i < narts; i++)
		builder_artifact_release(&arts[i]);
	free(arts);
	free(index_json);
	if (ret < 0)
		builder_result_release(res);
	return ret;
}
