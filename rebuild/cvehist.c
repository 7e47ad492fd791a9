/*
 * cvehist.c - the CVE response timeline (docs/cve.md "Response timeline"):
 * for each (image, arch, CVE) when pare first saw it affect the image, when
 * it first saw a fix published, and the rebuild (time, image digest, commit)
 * that fixed it.
 *
 * Kept in the git repository holding recipes.lock, beside the lock history
 * and never in its work tree (so it never makes a build "dirty"): the ref
 * refs/pare/cve-history names a commit whose tree holds one file,
 * cve-history.json; each write is a new commit on that ref (libgit2,
 * compare-and-swap on the ref), so it travels with a push of that ref
 * (docs/cve.md).  A lock outside any repository keeps the same JSON in
 * LOCK.cve-history.json (written atomically).  pare cve --history also
 * reads the Pare-CVE-Fixed / Pare-Image trailers of update --commit's
 * commits (cves.c), which fill in what the record lacks.
 */
#define _GNU_SOURCE
#include "rebuild.h"

#include <cJSON.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIST_REF "refs/pare/cve-history"
#define HIST_FILE "cve-history.json"
#define HIST_SCHEMA "pare-cve-history/1"

static int git_err(perr *e, const char *what)
{
	const git_error *ge = git_error_last();
	return perr_set(e, "git: %s: %s", what, ge && ge->message ? ge->message : "failed");
}

void rebuild_history_release(struct rebuild_history *h)
{
	for (size_t i = 0; i < h->n; i++) {
		struct rebuild_hist_entry *x = &h->v[i];
		free(x->image), free(x->arch), free(x->id), free(x->source);
		free(x->first_affected), free(x->fix_available);
		free(x->fixed_at), free(x->digest), free(x->commit);
	}
	free(h->v);
	free(h->where);
	memset(h, 0, sizeof(*h));
}

static char *jdup(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static int parse(struct rebuild_history *h, const char *name, const char *buf, size_t len, perr *e)
{
	cJSON *j = cJSON_ParseWithLength(buf, len), *ents;
	const cJSON *x, *s;
	int ret = -1;

	if (!j || !cJSON_IsObject(j)) {
		perr_set(e, "%s: not valid JSON", name);
		goto out;
	}
	s = cJSON_GetObjectItemCaseSensitive(j, "schema");
	ents = cJSON_GetObjectItemCaseSensitive(j, "entries");
	if (!cJSON_IsString(s) || strcmp(s->valuestring, HIST_SCHEMA) || !cJSON_IsArray(ents)) {
		perr_set(e, "%s: not a %s document", name, HIST_SCHEMA);
		goto out;
	}
	cJSON_ArrayForEach(x, ents) {
		struct rebuild_hist_entry en = { 0 };
		const cJSON *fx = cJSON_GetObjectItemCaseSensitive(x, "fixed");

		en.image = jdup(x, "image"), en.arch = jdup(x, "arch"), en.id = jdup(x, "id");
		en.source = jdup(x, "source");
		en.first_affected = jdup(x, "first_affected");
		en.fix_available = jdup(x, "fix_available");
		if (cJSON_IsObject(fx)) {
			en.fixed_at = jdup(fx, "at");
			en.digest = jdup(fx, "digest");
			en.commit = jdup(fx, "commit");
		}
		ALLOC_GROW(h->v, h->n + 1, h->alloc);
		h->v[h->n++] = en;
		if (!en.image || !en.arch || !en.id) {
			perr_set(e, "%s: entry %zu has no image, arch or id", name, h->n);
			goto out;
		}
	}
	ret = 0;
out:
	cJSON_Delete(j);
	return ret;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct rebuild_hist_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->image, y->image)) || (c = strcmp(x->arch, y->arch)) ||
	    (c = strverscmp(x->id, y->id)))
		return c;
	return strcmp(x->first_affected ? x->first_affected : "",
		      y->first_affected ? y->first_affected : "");
}

static char *format(struct rebuild_history *h)
{
	cJSON *j = cJSON_CreateObject(), *arr;
	char *s;

	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), entry_cmp);
	cJSON_AddStringToObject(j, "schema", HIST_SCHEMA);
	arr = cJSON_AddArrayToObject(j, "entries");
	for (size_t i = 0; i < h->n; i++) {
		const struct rebuild_hist_entry *x = &h->v[i];
		cJSON *o = cJSON_CreateObject(), *f;

		cJSON_AddStringToObject(o, "image", x->image);
		cJSON_AddStringToObject(o, "arch", x->arch);
		cJSON_AddStringToObject(o, "id", x->id);
		json_add_str_or_null(o, "source", x->source);
		json_add_str_or_null(o, "first_affected", x->first_affected);
		json_add_str_or_null(o, "fix_available", x->fix_available);
		if (x->fixed_at) {
			f = cJSON_AddObjectToObject(o, "fixed");
			cJSON_AddStringToObject(f, "at", x->fixed_at);
			json_add_str_or_null(f, "digest", x->digest);
			json_add_str_or_null(f, "commit", x->commit);
		} else {
			cJSON_AddNullToObject(o, "fixed");
		}
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_Print(j);
	cJSON_Delete(j);
	return s;
}

/* ---- the store: a ref in the lock's repository, else a file beside it ---------------- */

struct store {
	git_repository *repo; /* NULL: the file */
	git_oid old;          /* the ref's commit when had_old */
	bool had_old;
	char *file;
};

static void store_close(struct store *st)
{
	git_repository_free(st->repo);
	if (st->repo)
		git_libgit2_shutdown();
	free(st->file);
	memset(st, 0, sizeof(*st));
}

static int store_read(const char *lockfile, struct store *st, struct rebuild_history *h, perr *e)
{
	char *dir = path_dirname(lockfile);
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_blob *b = NULL;
	const git_tree_entry *te;
	strbuf sb = STRBUF_INIT;
	int ret = -1;

	memset(h, 0, sizeof(*h));
	memset(st, 0, sizeof(*st));
	git_libgit2_init();
	if (git_repository_open_ext(&st->repo, dir, 0, NULL) < 0) {
		st->repo = NULL;
		git_libgit2_shutdown();
		st->file = xasprintf("%s.cve-history.json", lockfile);
		h->where = xstrdup(st->file);
		if (!path_exists(st->file)) {
			ret = 0;
			goto out;
		}
		if (read_file(st->file, &sb, 64 << 20, e) < 0 || parse(h, st->file, sb.buf, sb.len, e) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	h->where = xasprintf("%s in %s", HIST_REF, git_repository_path(st->repo));
	if (git_reference_name_to_id(&st->old, st->repo, HIST_REF) < 0) {
		ret = 0; /* none yet */
		goto out;
	}
	st->had_old = true;
	if (git_commit_lookup(&c, st->repo, &st->old) < 0 || git_commit_tree(&t, c) < 0)
		goto gitfail;
	if (!(te = git_tree_entry_byname(t, HIST_FILE))) {
		perr_set(e, "%s: no %s in its tree", h->where, HIST_FILE);
		goto out;
	}
	if (git_blob_lookup(&b, st->repo, git_tree_entry_id(te)) < 0)
		goto gitfail;
	if (parse(h, h->where, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), e) < 0)
		goto out;
	ret = 0;
	goto out;
gitfail:
	git_err(e, HIST_REF);
out:
	git_blob_free(b);
	git_tree_free(t);
	git_commit_free(c);
	sb_release(&sb);
	free(dir);
	return ret;
}

static int store_write(struct store *st, struct rebuild_history *h, perr *e)
{
	char *s = format(h);
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *t = NULL;
	git_commit *parent = NULL;
	git_reference *ref = NULL;
	git_oid blob, tree, commit;
	int ret = -1;

	if (!st->repo) {
		ret = write_file_atomic(st->file, s, strlen(s), 0644, e);
		goto out;
	}
	if (git_signature_default(&sig, st->repo) < 0 &&
	    git_signature_now(&sig, "pare", "pare@localhost.invalid") < 0)
		goto gitfail;
	if (git_blob_create_from_buffer(&blob, st->repo, s, strlen(s)) < 0 ||
	    git_treebuilder_new(&tb, st->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, HIST_FILE, &blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree, tb) < 0 || git_tree_lookup(&t, st->repo, &tree) < 0)
		goto gitfail;
	if (st->had_old && git_commit_lookup(&parent, st->repo, &st->old) < 0)
		goto gitfail;
	if (git_commit_create(&commit, st->repo, NULL, sig, sig, NULL, "pare: CVE response timeline\n",
			      t, parent ? 1 : 0, (const git_commit **)&parent) < 0)
		goto gitfail;
	/* compare and swap: a concurrent writer's record is never overwritten */
	if ((st->had_old ? git_reference_create_matching(&ref, st->repo, HIST_REF, &commit, 1,
							  &st->old, "pare: CVE response timeline")
			 : git_reference_create(&ref, st->repo, HIST_REF, &commit, 0,
						"pare: CVE response timeline")) < 0) {
		git_err(e, HIST_REF " (another pare wrote it meanwhile? try again)");
		goto out;
	}
	st->old = commit;
	st->had_old = true;
	ret = 0;
	goto out;
gitfail:
	git_err(e, HIST_REF);
out:
	git_reference_free(ref);
	git_commit_free(parent);
	git_tree_free(t);
	git_treebuilder_free(tb);
	git_signature_free(sig);
	free(s);
	return ret;
}

/* The latest entry of (image, arch, id), or NULL. */
static struct rebuild_hist_entry *latest(struct rebuild_history *h, const char *image,
					 const char *arch, const char *id)
{
	struct rebuild_hist_entry *best = NULL;

	for (size_t i = 0; i < h->n; i++) {
		struct rebuild_hist_entry *x = &h->v[i];
		if (strcmp(x->image, image) || strcmp(x->arch, arch) || strcmp(x->id, id))
			continue;
		if (!best || strcmp(x->first_affected ? x->first_affected : "",
				    best->first_affected ? best->first_affected : "") >= 0)
			best = x;
	}
	return best;
}

static struct rebuild_hist_entry *add_entry(struct rebuild_history *h, const char *image,
					    const char *arch, const char *id, const char *source)
{
	struct rebuild_hist_entry *x;

	ALLOC_GROW(h->v, h->n + 1, h->alloc);
	x = &h->v[h->n++];
	memset(x, 0, sizeof(*x));
	x->image = xstrdup(image), x->arch = xstrdup(arch), x->id = xstrdup(id);
	x->source = source ? xstrdup(source) : NULL;
	return x;
}

static bool exposed(enum cve_class c)
{
	return c == CVE_FIXABLE || c == CVE_OPEN || c == CVE_UNDETERMINED;
}

int rebuild_history_observe(const char *lockfile, const struct cve_report *r, int64_t now,
			    size_t **fresh, size_t *nfresh, perr *e)
{
	struct rebuild_history h;
	struct store st;
	char ts[TIME_RFC3339_LEN];
	bool dirty = false;
	int ret = -1;

	*fresh = NULL;
	*nfresh = 0;
	time_rfc3339(now, ts);
	if (store_read(lockfile, &st, &h, e) < 0)
		goto out;
	for (size_t k = 0; k < r->nfindings; k++) {
		const struct cve_finding *f = &r->findings[k];
		const struct cve_subject *s = &r->subjects[f->subject];
		struct rebuild_hist_entry *x;

		if (!exposed(f->cls) || !s->arch)
			continue;
		x = latest(&h, s->name, s->arch, f->id);
		if (!x || x->fixed_at) {
			/* newly affecting: not in the record, or back after a fix */
			x = add_entry(&h, s->name, s->arch, f->id, f->source);
			x->first_affected = xstrdup(ts);
			*fresh = xrealloc(*fresh, (*nfresh + 1) * sizeof(**fresh));
			(*fresh)[(*nfresh)++] = k;
			dirty = true;
		}
		if (f->cls == CVE_FIXABLE && !x->fix_available) {
			x->fix_available = xstrdup(ts);
			dirty = true;
		}
	}
	ret = dirty ? store_write(&st, &h, e) : 0;
out:
	if (ret < 0) {
		free(*fresh);
		*fresh = NULL;
		*nfresh = 0;
	}
	store_close(&st);
	rebuild_history_release(&h);
	return ret;
}

int rebuild_history_fixed(const char *lockfile, const struct rebuild_cves *cv,
			  const strvec *images, const strvec *digests, const char *commit,
			  int64_t now, perr *e)
{
	struct rebuild_history h;
	struct store st;
	char ts[TIME_RFC3339_LEN];
	bool dirty = false;
	int ret = -1;

	time_rfc3339(now, ts);
	if (!cv->synced || !cv->n)
		return 0;
	if (store_read(lockfile, &st, &h, e) < 0)
		goto out;
	for (size_t i = 0; i < cv->n; i++) {
		const struct rebuild_fix *fx = &cv->v[i];
		struct rebuild_hist_entry *x;
		size_t im = images->n;

		for (size_t k = 0; k < images->n; k++)
			if (!strcmp(images->v[k], fx->recipe))
				im = k;
		if (im == images->n)
			continue; /* not rebuilt */
		x = latest(&h, fx->recipe, fx->arch, fx->f->id);
		if (!x || x->fixed_at) {
			/* never seen by a watch: the index's first sight of the entry */
			x = add_entry(&h, fx->recipe, fx->arch, fx->f->id, fx->f->source);
			x->first_affected = fx->f->first_seen ? xstrdup(fx->f->first_seen) : NULL;
		}
		if (!x->fix_available)
			x->fix_available = fx->f->first_seen ? xstrdup(fx->f->first_seen) : xstrdup(ts);
		x->fixed_at = xstrdup(ts);
		x->digest = xstrdup(digests->v[im]);
		x->commit = commit ? xstrdup(commit) : NULL;
		dirty = true;
	}
	ret = dirty ? store_write(&st, &h, e) : 0;
out:
	store_close(&st);
	rebuild_history_release(&h);
	return ret;
}

/* ---- reading it back: the record and the trailers ------------------------------------ */

/* Fill in from update --commit's trailers: a fixed entry without its commit
 * gets the commit that names the same image digest; a fix no entry records
 * becomes one (fixed at the commit's time; first seen unknown). */
static int from_trailers(git_repository *repo, struct rebuild_history *h, perr *e)
{
	git_revwalk *w = NULL;
	git_oid oid;
	int ret = -1;

	if (git_revwalk_new(&w, repo) < 0)
		return git_err(e, "revwalk");
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (git_revwalk_push_head(w) < 0) {
		ret = 0; /* unborn HEAD: no history */
		goto out;
	}
	while (git_revwalk_next(&oid, w) == 0) {
		git_commit *c = NULL;
		git_message_trailer_array ta = { 0 };
		char hex[GIT_OID_HEXSZ + 1], ts[TIME_RFC3339_LEN];
		strvec img = STRVEC_INIT, dig = STRVEC_INIT;

		if (git_commit_lookup(&c, repo, &oid) < 0) {
			git_err(e, "commit");
			goto out;
		}
		git_oid_tostr(hex, sizeof(hex), &oid);
		time_rfc3339((int64_t)git_commit_time(c), ts);
		if (git_message_trailers(&ta, git_commit_message(c)) < 0) {
			git_commit_free(c);
			continue;
		}
		for (size_t i = 0; i < ta.count; i++) {
			char a[256], b[256];
			if (!strcmp(ta.trailers[i].key, REBUILD_TRAILER_IMAGE) &&
			    sscanf(ta.trailers[i].value, "%255s %255s", a, b) == 2)
				sv_push(&img, a), sv_push(&dig, b);
		}
		for (size_t i = 0; i < ta.count; i++) {
			strvec t = STRVEC_INIT;
			struct rebuild_hist_entry *x;
			const char *digest = NULL;

			if (strcmp(ta.trailers[i].key, REBUILD_TRAILER_FIXED))
				continue;
			/* ID RECIPE ARCH SOURCE OLD -> NEW [kev…] */
			sv_split(&t, ta.trailers[i].value, " ");
			if (t.n < 7 || strcmp(t.v[5], "->")) {
				sv_clear(&t);
				continue;
			}
			for (size_t k = 0; k < img.n; k++)
				if (!strcmp(img.v[k], t.v[1]))
					digest = dig.v[k];
			x = latest(h, t.v[1], t.v[2], t.v[0]);
			if (x && x->fixed_at && !x->commit && (!digest || !x->digest ||
							       !strcmp(digest, x->digest))) {
				x->commit = xstrdup(hex);
			} else if (!x || (!x->fixed_at && !x->commit)) {
				if (!x)
					x = add_entry(h, t.v[1], t.v[2], t.v[0], t.v[3]);
				x->fixed_at = xstrdup(ts);
				x->digest = digest ? xstrdup(digest) : NULL;
				x->commit = xstrdup(hex);
			}
			sv_clear(&t);
		}
		sv_clear(&img), sv_clear(&dig);
		git_message_trailer_array_free(&ta);
		git_commit_free(c);
	}
	ret = 0;
out:
	git_revwalk_free(w);
	return ret;
}

int rebuild_history_read(const char *lockfile, struct rebuild_history *h, perr *e)
{
	struct store st;
	int ret = -1;

	if (store_read(lockfile, &st, h, e) < 0)
		goto out;
	if (st.repo && from_trailers(st.repo, h, e) < 0)
		goto out;
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), entry_cmp);
	ret = 0;
out:
	store_close(&st);
	if (ret < 0)
		rebuild_history_release(h);
	return ret;
}

/* ---- pare cve --history ------------------------------------------------------------------ */

static int64_t span(const char *from, const char *to)
{
	int64_t a, b;

	if (!from || !to || cve_parse_date(from, &a) < 0 || cve_parse_date(to, &b) < 0 || b < a)
		return -1;
	return b - a;
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* median and max of v[0..n) (sorted here); -1 when n is 0 */
static void stats(int64_t *v, size_t n, int64_t *median, int64_t *max)
{
	*median = *max = -1;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), i64_cmp);
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*max = v[n - 1];
}

/* "3d 4h 5m", "4h 0m", "12m" (seconds are dropped) */
static void human(int64_t s, char buf[32])
{
	if (s < 0)
		snprintf(buf, 32, "-");
	else if (s >= 86400)
		snprintf(buf, 32, "%lldd %lldh %lldm", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600), (long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(buf, 32, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, 32, "%lldm", (long long)(s / 60));
}

static void num_or_null(cJSON *o, const char *k, int64_t v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, (double)v);
	else
		cJSON_AddNullToObject(o, k);
}

int rebuild_history_print(FILE *f, const struct rebuild_history *h, const strvec *images,
			  bool json, perr *e)
{
	int64_t *ttf = xcalloc(h->n + 1, sizeof(*ttf)), *resp = xcalloc(h->n + 1, sizeof(*resp));
	size_t nttf = 0, nresp = 0, nfixed = 0, nopen = 0;
	int64_t med, max, rmed, rmax;
	cJSON *j = json ? cJSON_CreateObject() : NULL, *arr = NULL, *s;
	char a[32], b[32];

	for (size_t i = 0; i < images->n; i++) {
		bool found = false;
		for (size_t k = 0; k < h->n && !found; k++)
			found = !strcmp(h->v[k].image, images->v[i]);
		if (!found)
			note("cve --history: no record of image %s", images->v[i]);
	}
	if (j) {
		cJSON_AddStringToObject(j, "schema", "pare-cve-history/1");
		cJSON_AddStringToObject(j, "record", h->where ? h->where : "");
		arr = cJSON_AddArrayToObject(j, "entries");
	} else {
		fprintf(f, "%-12s %-7s %-16s %-10s %-20s %-20s %-20s %-12s %-12s %s\n", "IMAGE", "ARCH",
			"CVE", "SOURCE", "FIRST-AFFECTED", "FIX-AVAILABLE", "FIXED", "TIME-TO-FIX",
			"COMMIT", "DIGEST");
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct rebuild_hist_entry *x = &h->v[i];
		int64_t t = span(x->first_affected, x->fixed_at), r = span(x->fix_available, x->fixed_at);

		if (images->n && !sv_contains(images, x->image))
			continue;
		x->fixed_at ? nfixed++ : nopen++;
		if (t >= 0)
			ttf[nttf++] = t;
		if (r >= 0)
			resp[nresp++] = r;
		if (j) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "image", x->image);
			cJSON_AddStringToObject(o, "arch", x->arch);
			cJSON_AddStringToObject(o, "id", x->id);
			json_add_str_or_null(o, "source", x->source);
			json_add_str_or_null(o, "first_affected", x->first_affected);
			json_add_str_or_null(o, "fix_available", x->fix_available);
			json_add_str_or_null(o, "fixed", x->fixed_at);
			json_add_str_or_null(o, "commit", x->commit);
			json_add_str_or_null(o, "digest", x->digest);
			num_or_null(o, "time_to_fix", t);
			num_or_null(o, "fix_to_ship", r);
			cJSON_AddItemToArray(arr, o);
		} else {
			human(t, a);
			fprintf(f, "%-12s %-7s %-16s %-10s %-20s %-20s %-20s %-12s %-12.12s %s\n", x->image,
				x->arch, x->id, x->source ? x->source : "-",
				x->first_affected ? x->first_affected : "-",
				x->fix_available ? x->fix_available : "-",
				x->fixed_at ? x->fixed_at : "open", a, x->commit ? x->commit : "-",
				x->digest ? x->digest : "-");
		}
	}
	stats(ttf, nttf, &med, &max);
	stats(resp, nresp, &rmed, &rmax);
	if (j) {
		char *out;
		s = cJSON_AddObjectToObject(j, "summary");
		cJSON_AddNumberToObject(s, "fixed", (double)nfixed);
		cJSON_AddNumberToObject(s, "open", (double)nopen);
		cJSON *o = cJSON_AddObjectToObject(s, "time_to_fix");
		num_or_null(o, "median", med);
		num_or_null(o, "max", max);
		o = cJSON_AddObjectToObject(s, "fix_to_ship");
		num_or_null(o, "median", rmed);
		num_or_null(o, "max", rmax);
		out = cJSON_Print(j);
		fprintf(f, "%s\n", out);
		free(out);
		cJSON_Delete(j);
	} else {
		human(med, a), human(max, b);
		fprintf(f, "%zu fixed, %zu open; time to fix: median %s, max %s", nfixed, nopen, a, b);
		human(rmed, a), human(rmax, b);
		fprintf(f, "; fix available to shipped: median %s, max %s\n", a, b);
	}
	free(ttf), free(resp);
	if (ferror(f))
		return perr_errno(e, "cannot write the history");
	return 0;
}
