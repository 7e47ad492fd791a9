/*
 * update.c - re-resolve, compare, rebuild what changed, record it in git
 * (pare check, plan, update, watch; docs/update.md).
 *
 * A recipe is rebuilt when its lock entry changed (closure of any arch, or
 * recipe_sha256) or its output OUTROOT/NAME is missing.  Entries whose
 * closure did not change are kept as they are in recipes.lock (repository
 * Dates included), so their images keep their digests and are not touched.
 * Every image is built next to its final place and only moved in once all
 * builds (and signatures) succeeded; the lock is written after that; the
 * commit last.
 */
#define _GNU_SOURCE
#include "../builder/builder.h"
#include "rebuild.h"
#include "../oci/oci.h"
#include "../signer/signer.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- watch's durations ----------------------------------------------------------- */

/* 30s, 5m, 1h, 1h30m, 90 (seconds); > 0. */
int rebuild_parse_duration(const char *s, double *out)
{
	double total = 0;
	const char *p = s;

	if (!*s)
		return -1;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			return -1;
		switch (*end) {
		case 'h': v *= 3600, end++; break;
		case 'm': v *= 60, end++; break;
		case 's': end++; break;
		case '\0': break;
		default: return -1;
		}
		total += v;
		p = end;
	}
	if (total <= 0)
		return -1;
	*out = total;
	return 0;
}

/* ---- the plan ---------------------------------------------------------------- */

void rebuild_plan_release(struct rebuild_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		recipe_free(p->items[i].r);
		lock_recipe_release(&p->items[i].fresh);
		lock_changes_release(&p->items[i].ch);
	}
	free(p->items);
	lock_release(&p->lock);
	sv_clear(&p->gone);
	sv_clear(&p->failed);
	sv_clear(&p->errors);
	memset(p, 0, sizeof(*p));
}

bool rebuild_plan_changed(const struct rebuild_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].ch.n)
			return true;
	return p->gone.n > 0;
}

int rebuild_plan_make(const strvec *named, const char *rdir, const char *lockfile, bool offline,
		      bool fail_fast, struct rebuild_plan *p, perr *e)
{
	strvec files = STRVEC_INIT;
	struct recipe **rs = NULL;
	struct lock_recipe *outs = NULL;
	struct resolve_opts o = { offline, NULL };
	perr *errs = NULL;
	size_t nbadload = 0, w = 0;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	if (!named->n) {
		if (recipe_list(rdir, &files, e) < 0)
			goto out;
		if (!files.n) {
			perr_set(e, "no recipes in %s", rdir);
			goto out;
		}
	} else {
		sv_copy(&files, named);
	}
	if (lock_read(lockfile, &p->lock, true, e) < 0)
		goto out;
	/* one recipe: its error is the error (one line, as always) */
	if (files.n == 1)
		fail_fast = true;
	p->items = xcalloc(files.n, sizeof(*p->items));
	rs = xcalloc(files.n, sizeof(*rs));
	outs = xcalloc(files.n, sizeof(*outs));
	p->nrecipes = files.n;
	for (size_t i = 0; i < files.n; i++) {
		size_t n = p->n;
		if (!(p->items[n].r = recipe_load(files.v[i], e))) {
			if (fail_fast)
				goto out;
			sv_push(&p->failed, files.v[i]);
			sv_push(&p->errors, e->msg);
			nbadload++;
			continue;
		}
		rs[n] = p->items[n].r;
		p->n++;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(rs[k]->name, rs[n]->name)) {
				perr_set(e, "%s and %s are both recipe '%s'", rs[k]->path, rs[n]->path,
					 rs[n]->name);
				goto out;
			}
	}
	o.previous = &p->lock;
	errs = fail_fast ? NULL : xcalloc(p->n ? p->n : 1, sizeof(*errs));
	if (resolver_lock_each(rs, p->n, &o, outs, errs, e) < 0)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		struct rebuild_item *it = &p->items[w];
		*it = p->items[i];
		if (!outs[i].name) {
			/* did not resolve: reported, left out of the plan */
			sv_push(&p->failed, it->r->name);
			sv_push(&p->errors, errs[i].msg);
			recipe_free(it->r);
			memset(it, 0, sizeof(*it));
			continue;
		}
		it->fresh = outs[i];
		it->old = lock_find(&p->lock, it->r->name);
		lock_changes(it->old, &it->fresh, &it->ch);
		w++;
	}
	p->n = w;
	if (!named->n && !nbadload)
		for (size_t i = 0; i < p->lock.nrecipes; i++) {
			bool found = sv_contains(&p->failed, p->lock.recipes[i].name);
			for (size_t k = 0; k < p->n; k++)
				found |= !strcmp(p->items[k].r->name, p->lock.recipes[i].name);
			if (!found)
				sv_push(&p->gone, p->lock.recipes[i].name);
		}
	ret = 0;
out:
	free(rs);
	free(outs);
	free(errs);
	sv_clear(&files);
	return ret;
}

/* ---- the image digest a layout holds ------------------------------------------ */

/* The digest of the image index that index.json names with a ref name (the
 * image pare build wrote); NULL when there is no readable layout. */
static char *layout_digest(const char *dir)
{
	struct oci_layout l;
	perr e2;
	const cJSON *m;
	char *d = NULL;

	if (oci_layout_open(dir, &l, &e2) < 0)
		return NULL;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(l.index, "manifests")) {
		const char *ref = oci_annotation(m, OCI_ANN_REF_NAME), *dg = oci_json_str(m, "digest");
		/* not the signer's sha256-HEX.sig / .att tags */
		if (ref && !oci_tag_is_attached(ref) && dg) {
			d = xstrdup(dg);
			break;
		}
	}
	oci_layout_close(&l);
	return d;
}

/* The manifest digest for arch in the image index a layout names; NULL if
 * none. */
static char *layout_arch_digest(const char *dir, const char *index_digest, const char *arch)
{
	struct oci_layout l;
	strbuf sb = STRBUF_INIT;
	perr e2;
	cJSON *j = NULL;
	const cJSON *m;
	char *d = NULL;

	if (!index_digest || oci_layout_open(dir, &l, &e2) < 0)
		return NULL;
	if (oci_layout_read_blob(&l, index_digest, -1, OCI_MAX_JSON, &sb, &e2) < 0 ||
	    !(j = cJSON_ParseWithLength(sb.buf, sb.len)))
		goto out;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
		const char *a = oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "platform"), "architecture");
		const char *dg = oci_json_str(m, "digest");
		if (a && !strcmp(a, arch) && dg) {
			d = xstrdup(dg);
			break;
		}
	}
out:
	cJSON_Delete(j);
	sb_release(&sb);
	oci_layout_close(&l);
	return d;
}

/* ---- CVE ids for the commit message -------------------------------------------- */

static const struct lock_pkg *find_locked(const struct lock_recipe *lr, const char *arch,
					  const char *name)
{
	for (size_t i = 0; i < lr->narchs; i++) {
		if (strcmp(lr->archs[i].arch, arch))
			continue;
		for (size_t k = 0; k < lr->archs[i].npkgs; k++)
			if (!strcmp(lr->archs[i].pkgs[k].name, name))
				return &lr->archs[i].pkgs[k];
	}
	return NULL;
}

/* "pkg old -> new (CVE-…, …)" for a change, the CVE ids read from the new
 * .deb's changelog (fetched here when the build took its layer from the
 * layer cache and so never needed the .deb). */
static int change_line(const struct rebuild_item *it, const struct lock_change *ch, strbuf *out,
		       perr *e)
{
	strvec cves = STRVEC_INIT;
	int ret = -1;

	if (ch->kind == LC_CHANGED) {
		const struct lock_pkg *np = find_locked(&it->fresh, ch->arch, ch->package);
		if (np) {
			strvec only = STRVEC_INIT;
			struct fetch_opts fo = { .only = &only };
			char *deb;
			int r;

			sv_push(&only, np->sha256);
			r = builder_fetch(it->r, &it->fresh, NULL, &fo, e);
			sv_clear(&only);
			if (r < 0)
				goto out;
			deb = deb_cache_path(np->sha256);
			r = rebuild_changelog_cves(deb, np->name, ch->old_version, ch->new_version,
						   &cves, e);
			free(deb);
			if (r < 0) {
				perr_prefix(e, "%s %s changelog", np->name, np->version);
				goto out;
			}
		}
		sb_addf(out, "  %s %s -> %s", ch->package, ch->old_version, ch->new_version);
		for (size_t i = 0; i < cves.n; i++)
			sb_addf(out, "%s%s", i ? ", " : " (", cves.v[i]);
		if (cves.n)
			sb_addc(out, ')');
		sb_addc(out, '\n');
	} else if (ch->kind == LC_ADDED) {
		sb_addf(out, "  %s + %s\n", ch->package, ch->new_version);
	} else if (ch->kind == LC_REMOVED) {
		sb_addf(out, "  %s - %s\n", ch->package, ch->old_version);
	} else if (ch->kind == LC_DEB_CHANGED) {
		sb_addf(out, "  %s %s: the .deb changed\n", ch->package, ch->version);
	} else if (ch->kind == LC_RECIPE) {
		sb_addf(out, "  recipe changed\n");
	} else if (ch->kind == LC_NEW_RECIPE) {
		sb_addf(out, "  new recipe\n");
	}
	ret = 0;
out:
	sv_clear(&cves);
	return ret;
}

/* ---- update ---------------------------------------------------------------------- */

struct rebuild {
	struct rebuild_item *it;
	const struct lock_recipe *entry; /* what it is built from */
	bool entry_changed;
	char *final, *staged;            /* OUTROOT/NAME, OUTROOT/.NAME.update */
	char *old_digest, *new_digest;
	strvec archs, arch_lines;        /* "IMAGE ARCH old -> new" (manifests) */
};

static int build_staged(struct rebuild *b, const struct rebuild_opts *o, signer_key *key,
			perr *e)
{
	const struct recipe *r = b->it->r;
	struct build_opts bo = { 0 };
	struct build_result res = { 0 };
	struct rebuild_build_opts ro = { key, o->source_url, b->entry_changed, NULL, NULL };
	int ret = -1;

	/* builder_build fetches the .debs of the layers it cannot take from the layer cache */
	if (rm_rf(b->staged, e) < 0) {
		perr_prefix(e, "recipe %s", r->name);
		goto out;
	}
	bo.outdir = b->staged;
	bo.compression = "gzip";
	bo.quiet = pare_quiet;
	bo.remote = o->remote;
	if (rebuild_build(r, b->entry, &bo, &ro, &res, e) < 0)
		goto out;
	b->new_digest = xstrdup(res.index_digest);
	for (size_t i = 0; i < res.narchs; i++) {
		char *od = layout_arch_digest(b->final, b->old_digest, res.archs[i].arch);
		sv_push(&b->archs, res.archs[i].arch);
		sv_pushf(&b->arch_lines, "%s %s %s -> %s", r->name, res.archs[i].arch,
			 od ? od : "(none)", res.archs[i].manifest_digest);
		free(od);
	}
	ret = 0;
out:
	builder_result_release(&res);
	return ret;
}

/* ---- the journal: moving in, the lock, the commit ----------------------------------
 *
 * Once every build succeeded, what is left to do is written down first, in
 * LOCK.update-journal (atomically): the images to move in, that LOCK.update-new
 * (written and fsynced before) replaces the lock, and the commit (message,
 * files, author, the HEAD it goes on).  Then journal_apply does it, each step
 * idempotent, and removes the journal last.  A run killed anywhere after the
 * journal was written is completed by the next `pare update` (journal_apply
 * again); killed before it, nothing was moved and the next run starts over.
 * All of it under the writers' lock of recipes.lock (lock_acquire), so no
 * other pare process is in the middle of it. */

static int git_fail(perr *e, const char *what);
static int git_remove_stale_locks(const char *lockfile, const struct timespec *since, perr *e);

static char *journal_path(const char *lockfile)
{
	return xasprintf("%s.update-journal", lockfile);
}

static char *lock_new_path(const char *lockfile)
{
	return xasprintf("%s.update-new", lockfile);
}

static int journal_write(const char *path, cJSON *j, perr *e)
{
	char *s;
	int r;

	cJSON_DeleteItemFromObjectCaseSensitive(j, "pid");
	cJSON_AddNumberToObject(j, "pid", (double)getpid());
	s = cJSON_PrintUnformatted(j);
	r = write_file_atomic(path, s, strlen(s), 0644, e);
	free(s);
	return r;
}

/* Move OUTROOT/.NAME.update to OUTROOT/NAME (the old one aside, then gone);
 * done again after a kill at any point, it finishes the move. */
static int move_in(const char *outroot, const char *name, perr *e)
{
	char *staged = xasprintf("%s/.%s.update", outroot, name);
	char *final = xasprintf("%s/%s", outroot, name);
	char *aside = xasprintf("%s.update-old", staged);
	int ret = -1;

	if (is_dir(staged)) {
		if (path_exists(final)) {
			if (rm_rf(aside, e) < 0)
				goto out;
			if (rename(final, aside) != 0) {
				perr_errno(e, "cannot move %s aside", final);
				goto out;
			}
		}
		if (rename(staged, final) != 0) {
			perr_errno(e, "cannot rename %s to %s", staged, final);
			goto out;
		}
	}
	if (!path_exists(final)) {
		perr_set(e, "%s: neither the new image nor the old one is there", final);
		goto out;
	}
	ret = rm_rf(aside, e);
out:
	free(staged), free(final), free(aside);
	return ret;
}

/* HEAD's commit id (NULL when unborn), its message and its first parent. */
static int git_head(const char *lockfile, char **id, char **message, char **parent, perr *e)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1], *dir = path_dirname(lockfile);
	int ret = -1;

	*id = *message = *parent = NULL;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		perr_set(e, "--commit: %s is not in a git repository", lockfile);
		goto out;
	}
	if (git_reference_name_to_id(&oid, repo, "HEAD") < 0) {
		ret = 0; /* unborn */
		goto out;
	}
	if (git_commit_lookup(&c, repo, &oid) < 0) {
		git_fail(e, "HEAD");
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &oid);
	*id = xstrdup(hex);
	*message = xstrdup(git_commit_message(c));
	if (git_commit_parentcount(c)) {
		git_oid_tostr(hex, sizeof(hex), git_commit_parent_id(c, 0));
		*parent = xstrdup(hex);
	}
	ret = 0;
out:
	git_commit_free(c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(dir);
	return ret;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The commit the journal asks for, unless HEAD already is that commit. */
static int journal_commit(const char *lockfile, const char *jpath, cJSON *j, const cJSON *c,
			  perr *e)
{
	const char *msg = jstr(c, "message"), *rdir = jstr(c, "recipes_dir");
	const char *jhead = jstr(c, "head");
	char *head = NULL, *hmsg = NULL, *hparent = NULL, *id = NULL;
	strvec files = STRVEC_INIT;
	const cJSON *f;
	struct stat st;
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");
	int ret = -1;

	if (!msg || !rdir) {
		perr_set(e, "%s: no commit message or recipes directory", jpath);
		goto out;
	}
	/* git's lock files left by the pare that wrote this journal and was
	 * killed: it held the writers' lock we hold now, so it is gone */
	if (stat(jpath, &st) == 0 && cJSON_IsNumber(pid) && pid_gone((long)pid->valuedouble) &&
	    git_remove_stale_locks(lockfile, &st.st_mtim, e) < 0)
		goto out;
	if (git_head(lockfile, &head, &hmsg, &hparent, e) < 0)
		goto out;
	if ((head ? jhead && !strcmp(head, jhead) : !jhead)) {
		/* pid: whose git locks these are, should this run be killed too */
		if (journal_write(jpath, j, e) < 0)
			goto out;
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(c, "files"))
			if (cJSON_IsString(f))
				sv_push(&files, f->valuestring);
		if (rebuild_git_commit(lockfile, rdir, &files, msg, jstr(c, "author"), &id, e) < 0)
			goto out;
		note("committed %s", id);
	} else if (!hmsg || strcmp(hmsg, msg) ||
		   (jhead ? !hparent || strcmp(hparent, jhead) : !!hparent)) {
		perr_set(e, "--commit: HEAD moved since the interrupted update recorded in %s: not committing over it; remove %s after committing %s yourself",
			 jpath, jpath, lockfile);
		goto out;
	}
	ret = 0;
out:
	free(head), free(hmsg), free(hparent), free(id);
	sv_clear(&files);
	return ret;
}

/* Do what the journal at jpath says (see above), then remove it. */
static int journal_apply(const char *lockfile, const char *jpath, perr *e)
{
	strbuf sb = STRBUF_INIT;
	cJSON *j = NULL, *im, *c;
	char *newp = lock_new_path(lockfile), *dir = path_dirname(lockfile);
	const char *outroot;
	int ret = -1;

	if (read_file(jpath, &sb, 64u << 20, e) < 0)
		goto out;
	if (!(j = cJSON_ParseWithLength(sb.buf, sb.len)) || !(outroot = jstr(j, "outroot"))) {
		perr_set(e, "%s: not a pare update journal", jpath);
		goto out;
	}
	cJSON_ArrayForEach(im, cJSON_GetObjectItemCaseSensitive(j, "images")) {
		if (!cJSON_IsString(im) || !*im->valuestring || strchr(im->valuestring, '/') ||
		    *im->valuestring == '.') {
			perr_set(e, "%s: bad image name", jpath);
			goto out;
		}
		if (move_in(outroot, im->valuestring, e) < 0)
			goto out;
	}
	if (fsync_dir(outroot, e) < 0)
		goto out;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "lock")) && path_exists(newp)) {
		if (rename(newp, lockfile) != 0) {
			perr_errno(e, "cannot rename %s to %s", newp, lockfile);
			goto out;
		}
		if (fsync_dir(dir, e) < 0)
			goto out;
		note("wrote %s", lockfile);
	}
	if ((c = cJSON_GetObjectItemCaseSensitive(j, "commit")) &&
	    journal_commit(lockfile, jpath, j, c, e) < 0)
		goto out;
	if (unlink(jpath) != 0) {
		perr_errno(e, "cannot remove %s", jpath);
		goto out;
	}
	ret = fsync_dir(dir, e);
out:
	cJSON_Delete(j);
	sb_release(&sb);
	free(newp), free(dir);
	return ret;
}

/* Before anything else, under the writers' lock: complete an update that
 * was killed after its journal was written; or, with no journal, remove
 * what a killed one left before (LOCK.update-new, its staged images).
 * Either way the temporaries of dead pare processes next to the lock go. */
static int update_recover(const char *lockfile, const char *outroot, perr *e)
{
	char *jpath = journal_path(lockfile), *newp = lock_new_path(lockfile);
	char *dir = path_dirname(lockfile);
	const char *base = path_basename(lockfile);
	size_t bl = strlen(base);
	DIR *d;
	struct dirent *de;
	int ret = -1;

	if (path_exists(jpath)) {
		note("completing the update interrupted before (%s)", jpath);
		if (journal_apply(lockfile, jpath, e) < 0) {
			perr_prefix(e, "completing the interrupted update");
			goto out;
		}
	} else {
		if (rm_rf(newp, e) < 0)
			goto out;
		if ((d = opendir(outroot))) {
			while ((de = readdir(d))) {
				size_t n = strlen(de->d_name);
				if (de->d_name[0] != '.' || n < 9 ||
				    strcmp(de->d_name + n - 7, ".update"))
					continue;
				char *p = path_join(outroot, de->d_name);
				int r = rm_rf(p, e);
				free(p);
				if (r < 0) {
					closedir(d);
					goto out;
				}
			}
			closedir(d);
		}
	}
	/* LOCK.tmp.PID, LOCK.update-new.tmp.PID, LOCK.update-journal.tmp.PID */
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, base, bl) ||
			    !pid_gone(tmp_name_pid(de->d_name + bl, ".tmp.")))
				continue;
			char *p = path_join(dir, de->d_name);
			debug("removing %s, left by a pare that is gone", p);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	ret = 0;
out:
	free(jpath), free(newp), free(dir);
	return ret;
}

static char *commit_message(struct rebuild *bs, size_t nb, const struct rebuild_plan *p,
			    const struct rebuild_cves *cv, perr *e)
{
	strbuf m = STRBUF_INIT;
	strvec changed = STRVEC_INIT;

	sb_addf(&m, "pare update: %zu image%s rebuilt\n\n", nb, nb == 1 ? "" : "s");
	for (size_t i = 0; i < nb; i++) {
		const struct lock_changes *c = &bs[i].it->ch;
		sb_addf(&m, "%s %s -> %s\n", bs[i].it->r->name,
			bs[i].old_digest ? bs[i].old_digest : "(none)", bs[i].new_digest);
		for (size_t k = 0; k < c->n; k++)
			if (!c->v[k].arch && change_line(bs[i].it, &c->v[k], &m, e) < 0)
				goto fail;
		for (size_t a = 0; a < bs[i].archs.n; a++) {
			sb_addf(&m, "%s\n", bs[i].arch_lines.v[a]);
			for (size_t k = 0; k < c->n; k++)
				if (c->v[k].arch && !strcmp(c->v[k].arch, bs[i].archs.v[a]) &&
				    change_line(bs[i].it, &c->v[k], &m, e) < 0)
					goto fail;
		}
	}
	for (size_t i = 0; i < p->gone.n; i++)
		sb_addf(&m, "%s: dropped from recipes.lock (no longer a recipe)\n", p->gone.v[i]);
	/* the trailers (git interpret-trailers reads them; so does pare cve --history) */
	sb_addc(&m, '\n');
	for (size_t i = 0; i < nb; i++) {
		sb_addf(&m, REBUILD_TRAILER_IMAGE ": %s %s\n", bs[i].it->r->name, bs[i].new_digest);
		if (bs[i].entry_changed)
			sv_push(&changed, bs[i].it->r->name);
	}
	rebuild_cves_trailers(cv, &changed, &m);
	sv_clear(&changed);
	return sb_detach(&m);
fail:
	sb_release(&m);
	return NULL;
}

int rebuild_update(const strvec *files, const struct rebuild_opts *o, strvec *rebuilt, perr *e)
{
	struct rebuild_plan p = { 0 };
	struct rebuild_cves cv = { 0 };
	struct rebuild *bs = NULL;
	size_t nb = 0;
	char *outroot = out_path(o->outroot ? o->outroot : "out");
	unsigned flags = (o->sign_key ? OUT_SIGNED : 0) | (o->unsigned_ok ? OUT_UNSIGNED_OK : 0);
	signer_key *key = NULL;
	bool lock_changed = false, journaled = false;
	char *msg = NULL, *jpath = journal_path(o->lock), *newp = lock_new_path(o->lock);
	char *absout = NULL, *head = NULL, *hmsg = NULL, *hparent = NULL;
	strvec cfiles = STRVEC_INIT;
	cJSON *j = NULL;
	size_t nfail = 0;
	int ret = -1, lfd;

	/* one update (or pare lock) at a time per recipes.lock */
	if ((lfd = lock_acquire(o->lock, true, e)) < 0)
		goto out;
	if (update_recover(o->lock, outroot, e) < 0)
		goto out;
	/* everything the commit needs is checked before anything is built */
	if (o->commit && rebuild_git_commit(o->lock, o->recipes_dir, &cfiles, NULL, o->author, NULL,
					  e) < 0)
		goto out;
	if (rebuild_plan_make(files, o->recipes_dir, o->lock, o->offline, o->fail_fast, &p, e) < 0)
		goto out;
	/* keep going: a broken recipe is reported and keeps its entry and image */
	for (size_t i = 0; i < p.errors.n; i++) {
		fprintf(stderr, "pare: %s\n", p.errors.v[i]);
		if (o->errors)
			sv_pushf(o->errors, "%s\t%s", p.failed.v[i], p.errors.v[i]);
	}
	nfail = p.errors.n;
	bs = xcalloc(p.n + 1, sizeof(*bs));
	for (size_t i = 0; i < p.n; i++) {
		struct rebuild_item *it = &p.items[i];
		char *final = xasprintf("%s/%s", outroot, it->r->name);
		char *idx = path_join(final, "index.json");
		bool missing = !path_exists(idx);
		free(idx);
		if (!it->ch.n && !missing) {
			free(final);
			continue;
		}
		struct rebuild *b = &bs[nb++];
		b->it = it;
		b->entry_changed = it->ch.n > 0;
		b->entry = b->entry_changed ? &it->fresh : it->old;
		b->final = final;
		b->staged = xasprintf("%s/.%s.update", outroot, it->r->name);
		b->old_digest = layout_digest(final);
		lock_changed |= b->entry_changed;
		/* what would be replaced, before anything is built */
		if (out_check_dir(final, flags, e) < 0)
			goto out;
	}
	lock_changed |= p.gone.n > 0;
	if (nb && o->sign_key && signer_load_private(o->sign_key, &key, e) < 0) {
		perr_prefix(e, "--sign-key");
		goto out;
	}
	if (nb && mkdir_p(outroot, 0755, e) < 0)
		goto out;
	for (size_t i = 0, w = 0, n = nb; i < n; i++) {
		note("%s: rebuilding%s", bs[i].it->r->name,
		     bs[i].entry_changed ? "" : " (no image in the output)");
		if (build_staged(&bs[i], o, key, e) == 0) {
			if (w != i)
				bs[w] = bs[i], memset(&bs[i], 0, sizeof(bs[i]));
			w++;
		} else if (o->fail_fast || p.nrecipes == 1) {
			goto out;
		} else {
			/* keep going: no image, and the lock keeps its entry */
			perr e2;
			fprintf(stderr, "pare: %s\n", e->msg);
			if (o->errors)
				sv_pushf(o->errors, "%s\t%s", bs[i].it->r->name, e->msg);
			rm_rf(bs[i].staged, &e2);
			free(bs[i].final), free(bs[i].staged);
			free(bs[i].old_digest), free(bs[i].new_digest);
			sv_clear(&bs[i].arch_lines);
			sv_clear(&bs[i].archs);
			memset(&bs[i], 0, sizeof(bs[i]));
			nfail++;
			nb--;
		}
	}
	lock_changed = p.gone.n > 0;
	for (size_t i = 0; i < nb; i++)
		lock_changed |= bs[i].entry_changed;
	/* the commit message needs the changelogs: read them before anything
	 * is written, so that a bad .deb changes nothing */
	/* the CVEs the rebuilds close: the trailers, the response timeline.
	 * A bad feed index or cve.conf never holds a rebuild back: the
	 * trailers then say the feeds were not there. */
	if (lock_changed) {
		perr e2 = { 0, "" };
		if (rebuild_plan_cves(&p, &cv, &e2) < 0)
			warning("the CVEs this update fixes are unknown: %s", e2.msg);
	}
	if (o->commit && lock_changed && !(msg = commit_message(bs, nb, &p, &cv, e)))
		goto out;
	if (!nb && !lock_changed) {
		if (!nfail)
			note("up to date: nothing to rebuild");
		ret = 0;
		goto done;
	}
	/* what is left to do, written down (see "the journal" above) */
	j = cJSON_CreateObject();
	if (nb) {
		if (!(absout = realpath(outroot, NULL))) {
			perr_errno(e, "%s", outroot);
			goto out;
		}
		cJSON_AddStringToObject(j, "outroot", absout);
	} else {
		cJSON_AddStringToObject(j, "outroot", ".");
	}
	cJSON *ims = cJSON_AddArrayToObject(j, "images");
	for (size_t i = 0; i < nb; i++)
		cJSON_AddItemToArray(ims, cJSON_CreateString(bs[i].it->r->name));
	if (lock_changed) {
		strbuf sb = STRBUF_INIT;
		int r;

		for (size_t i = 0; i < nb; i++)
			if (bs[i].entry_changed) {
				lock_put(&p.lock, &bs[i].it->fresh);
				bs[i].entry = NULL;
			}
		for (size_t i = 0; i < p.gone.n; i++)
			lock_drop(&p.lock, p.gone.v[i]);
		lock_format(&p.lock, &sb);
		r = write_file_atomic(newp, sb.buf, sb.len, 0644, e);
		sb_release(&sb);
		if (r < 0)
			goto out;
		cJSON_AddTrueToObject(j, "lock");
	}
	if (o->commit && msg) {
		cJSON *c = cJSON_AddObjectToObject(j, "commit"), *fs;
		char *ard = realpath(o->recipes_dir, NULL);

		for (size_t i = 0; i < nb; i++)
			for (size_t k = 0; k < bs[i].it->ch.n; k++)
				if (bs[i].it->ch.v[k].kind == LC_RECIPE ||
				    bs[i].it->ch.v[k].kind == LC_NEW_RECIPE) {
					char *d = path_dirname(bs[i].it->r->path);
					char *ad = realpath(d, NULL);
					if (ad)
						sv_pushf(&cfiles, "%s/%s", ad,
							 path_basename(bs[i].it->r->path));
					free(d), free(ad);
				}
		cJSON_AddStringToObject(c, "message", msg);
		cJSON_AddStringToObject(c, "recipes_dir", ard ? ard : o->recipes_dir);
		free(ard);
		fs = cJSON_AddArrayToObject(c, "files");
		for (size_t i = 0; i < cfiles.n; i++)
			cJSON_AddItemToArray(fs, cJSON_CreateString(cfiles.v[i]));
		if (o->author)
			cJSON_AddStringToObject(c, "author", o->author);
		if (git_head(o->lock, &head, &hmsg, &hparent, e) < 0)
			goto out;
		if (head)
			cJSON_AddStringToObject(c, "head", head);
	}
	if (journal_write(jpath, j, e) < 0)
		goto out;
	journaled = true;
	if (journal_apply(o->lock, jpath, e) < 0)
		goto out;
	if (cv.n) {
		strvec names = STRVEC_INIT, digests = STRVEC_INIT;
		char *id = NULL, *m2 = NULL, *p2 = NULL;
		perr e2 = { 0, "" };

		for (size_t i = 0; i < nb; i++)
			if (bs[i].entry_changed) {
				sv_push(&names, bs[i].it->r->name);
				sv_push(&digests, bs[i].new_digest);
			}
		if ((msg && git_head(o->lock, &id, &m2, &p2, &e2) < 0) ||
		    rebuild_history_fixed(o->lock, &cv, &names, &digests, id, (int64_t)time(NULL),
					  &e2) < 0)
			warning("the CVE response timeline is not recorded: %s", e2.msg);
		free(id), free(m2), free(p2);
		sv_clear(&names), sv_clear(&digests);
	}
	for (size_t i = 0; i < nb; i++) {
		sv_pushf(rebuilt, "%s %s -> %s", bs[i].it->r->name,
			 bs[i].old_digest ? bs[i].old_digest : "(none)", bs[i].new_digest);
		if (o->print)
			printf("%s\n", rebuilt->v[rebuilt->n - 1]);
	}
	ret = 0;
done:
	if (nfail) {
		perr_set(e, "update: %zu of %zu recipe%s failed%s", nfail, p.nrecipes,
			 p.nrecipes == 1 ? "" : "s", nb || lock_changed ? " (the others are updated)" : "");
		ret = -1;
	}
out:
	for (size_t i = 0; i < nb; i++) {
		if (ret < 0 && !journaled) {
			perr e2;
			rm_rf(bs[i].staged, &e2);
		}
		free(bs[i].final), free(bs[i].staged);
		free(bs[i].old_digest), free(bs[i].new_digest);
		sv_clear(&bs[i].arch_lines);
		sv_clear(&bs[i].archs);
	}
	if (ret < 0 && !journaled)
		unlink(newp);
	lock_unlock(lfd);
	cJSON_Delete(j);
	free(bs);
	free(msg), free(jpath), free(newp), free(absout);
	free(head), free(hmsg), free(hparent);
	free(outroot);
	signer_key_free(key);
	sv_clear(&cfiles);
	rebuild_cves_release(&cv);
	rebuild_plan_release(&p);
	return ret;
}

/* ---- git commit (libgit2) ---------------------------------------------------------- */

/* path relative to the work tree root, or NULL when outside it */
static char *relative_to(const char *workdir, const char *path)
{
	char *d = path_dirname(path), *absd = realpath(d, NULL), *abs, *rel = NULL;
	size_t n = strlen(workdir);

	free(d);
	if (!absd)
		return NULL;
	/* the directory resolved, the name as is: the file may not exist yet */
	abs = xasprintf("%s/%s", absd, path_basename(path));
	free(absd);
	if (!strncmp(abs, workdir, n))
		rel = xstrdup(abs + n);
	else if (n && workdir[n - 1] == '/' && !strncmp(abs, workdir, n - 1) && !abs[n - 1])
		rel = xstrdup("");
	free(abs);
	return rel;
}

static int git_fail(perr *e, const char *what)
{
	const git_error *ge = git_error_last();
	return perr_set(e, "git: %s: %s", what, ge && ge->message ? ge->message : "failed");
}

/* The lock files git (and libgit2) take while writing the index, a ref
 * or a reflog: GITDIR/index.lock, HEAD.lock, packed-refs.lock, and any
 * *.lock under refs/ and logs/. */
static const struct timespec *stale_since;
static perr *stale_err;
static int stale_failed;

static int stale_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !str_ends(path, ".lock"))
		return 0;
	if (st->st_mtim.tv_sec < stale_since->tv_sec ||
	    (st->st_mtim.tv_sec == stale_since->tv_sec &&
	     st->st_mtim.tv_nsec < stale_since->tv_nsec))
		return 0; /* older than the journal: not the killed pare's */
	note("removing %s, left by a pare update that was killed", path);
	if (unlink(path) != 0 && errno != ENOENT) {
		stale_failed = perr_errno(stale_err, "cannot remove %s", path);
		return 1;
	}
	return 0;
}

static int git_remove_stale_locks(const char *lockfile, const struct timespec *since, perr *e)
{
	git_repository *repo = NULL;
	char *dir = path_dirname(lockfile);
	static const char *const tops[] = { "index.lock", "HEAD.lock", "packed-refs.lock",
					    "refs", "logs" };
	int ret = 0;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) == 0) {
		stale_since = since;
		stale_err = e;
		stale_failed = 0;
		for (size_t i = 0; i < ARRAY_SIZE(tops) && !stale_failed; i++) {
			char *p = path_join(git_repository_path(repo), tops[i]);
			if (path_exists(p))
				nftw(p, stale_one, 16, FTW_PHYS);
			free(p);
		}
		ret = stale_failed;
	}
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(dir);
	return ret;
}

/* Refuse when git's index or HEAD's ref is locked: a git is running, or one
 * crashed (not a lock of pare's own: update_recover removed those). */
static int git_locked(git_repository *repo, perr *e)
{
	git_reference *h = NULL;
	const char *gd = git_repository_path(repo);
	char *p = path_join(gd, "index.lock");
	int ret = 0;

	if (!path_exists(p) && git_reference_lookup(&h, repo, "HEAD") == 0 &&
	    git_reference_type(h) == GIT_REFERENCE_SYMBOLIC) {
		free(p);
		p = xasprintf("%s%s.lock", gd, git_reference_symbolic_target(h));
	}
	if (path_exists(p))
		ret = perr_set(e, "--commit: %s exists: another git process is running, or one crashed (remove it then)",
			       p);
	git_reference_free(h);
	free(p);
	return ret;
}

int rebuild_git_commit(const char *lock_file, const char *rdir, const strvec *files,
		       const char *message, const char *author, char **id, perr *e)
{
	git_repository *repo = NULL;
	git_status_list *st = NULL;
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	git_index *idx = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_oid tree_oid, oid, head;
	char *dir = path_dirname(lock_file), *rel_lock = NULL, *rel_dir = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	strvec add = STRVEC_INIT;
	const char *wd;
	int ret = -1;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		perr_set(e, "--commit: %s is not in a git repository", lock_file);
		goto out;
	}
	if (!(wd = git_repository_workdir(repo))) {
		perr_set(e, "--commit: the repository holding %s is bare", lock_file);
		goto out;
	}
	if (!(rel_lock = relative_to(wd, lock_file))) {
		perr_set(e, "--commit: %s is outside the repository's work tree", lock_file);
		goto out;
	}
	rel_dir = relative_to(wd, rdir);
	sv_push(&add, rel_lock);
	for (size_t i = 0; i < files->n; i++) {
		char *r = relative_to(wd, files->v[i]);
		if (!r) {
			perr_set(e, "--commit: recipe %s is outside the repository of %s", files->v[i],
				 lock_file);
			goto out;
		}
		sv_push_nodup(&add, r);
	}
	/* staged changes to anything but the lock and the recipes are someone
	 * else's work in progress: never sweep them into this commit */
	so.show = GIT_STATUS_SHOW_INDEX_ONLY;
	if (git_status_list_new(&st, repo, &so) < 0) {
		git_fail(e, "status");
		goto out;
	}
	for (size_t i = 0; i < git_status_list_entrycount(st); i++) {
		const git_status_entry *s = git_status_byindex(st, i);
		const git_diff_delta *d = s->head_to_index;
		const char *path = d ? (d->new_file.path ? d->new_file.path : d->old_file.path) : NULL;
		if (!path)
			continue;
		bool ok = !strcmp(path, rel_lock) || sv_contains(&add, path) ||
			  (rel_dir && *rel_dir && str_starts(path, rel_dir) &&
			   path[strlen(rel_dir)] == '/');
		if (!ok) {
			perr_set(e, "--commit: refusing to commit over unrelated staged changes (%s); commit or unstage them first",
				 path);
			goto out;
		}
	}
	if (git_repository_head_detached(repo) == 1) {
		perr_set(e, "--commit: HEAD of the repository holding %s is detached: check out a branch first",
			 lock_file);
		goto out;
	}
	if (git_locked(repo, e) < 0)
		goto out;
	if (author) {
		const char *lt = strchr(author, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		if (!lt || !gt || lt == author || gt[1]) {
			perr_set(e, "--author must be \"Name <email>\", not '%s'", author);
			goto out;
		}
		char *name = xstrndup(author, (size_t)(lt - author));
		char *email = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		int r = git_signature_now(&sig, str_trim(name), email);
		free(name), free(email);
		if (r < 0) {
			git_fail(e, "--author");
			goto out;
		}
	} else if (git_signature_default(&sig, repo) < 0) {
		perr_set(e, "--commit: no author: set user.name and user.email in the repository's git config, or pass --author \"Name <email>\"");
		goto out;
	}
	if (!message) { /* only the checks, before anything is built */
		ret = 0;
		goto out;
	}
	if (git_repository_index(&idx, repo) < 0) {
		git_fail(e, "index");
		goto out;
	}
	for (size_t i = 0; i < add.n; i++)
		if (git_index_add_bypath(idx, add.v[i]) < 0) {
			git_fail(e, add.v[i]);
			goto out;
		}
	if (git_index_write(idx) < 0 || git_index_write_tree(&tree_oid, idx) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_oid) < 0) {
		git_fail(e, "writing the index");
		goto out;
	}
	if (git_reference_name_to_id(&head, repo, "HEAD") == 0 &&
	    git_commit_lookup(&parent, repo, &head) < 0) {
		git_fail(e, "HEAD");
		goto out;
	}
	const git_commit *parents[1] = { parent };
	if (git_commit_create(&oid, repo, "HEAD", sig, sig, NULL, message, tree, parent ? 1 : 0,
			      parents) < 0) {
		git_fail(e, "commit");
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &oid);
	*id = xstrdup(hex);
	ret = 0;
out:
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	git_index_free(idx);
	git_status_list_free(st);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(dir), free(rel_lock), free(rel_dir);
	sv_clear(&add);
	return ret;
}
