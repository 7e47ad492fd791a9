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
#include "builder.h"
#include "fetch_int.h"
#include "update_int.h"
#include "../signer/signer.h"

#include <cJSON.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- watch's durations ----------------------------------------------------------- */

/* 30s, 5m, 1h, 1h30m, 90 (seconds); > 0. */
int parse_duration(const char *s, double *out)
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

void upd_plan_free(struct upd_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		recipe_free(p->items[i].r);
		lock_recipe_free(&p->items[i].fresh);
		lock_changes_free(&p->items[i].ch);
	}
	free(p->items);
	lock_free(&p->lock);
	sv_clear(&p->gone);
	memset(p, 0, sizeof(*p));
}

bool upd_plan_changed(const struct upd_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].ch.n)
			return true;
	return p->gone.n > 0;
}

int upd_plan_make(const strvec *named, const char *rdir, const char *lockfile, bool offline,
		  struct upd_plan *p, perr *e)
{
	strvec files = STRVEC_INIT;
	struct recipe **rs = NULL;
	struct lock_recipe *outs = NULL;
	struct resolve_opts o = { offline, NULL };
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
	p->items = xcalloc(files.n, sizeof(*p->items));
	rs = xcalloc(files.n, sizeof(*rs));
	outs = xcalloc(files.n, sizeof(*outs));
	for (size_t i = 0; i < files.n; i++) {
		if (!(p->items[i].r = recipe_load(files.v[i], e)))
			goto out;
		rs[i] = p->items[i].r;
		p->n++;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(rs[k]->name, rs[i]->name)) {
				perr_set(e, "%s and %s are both recipe '%s'", rs[k]->path, rs[i]->path,
					 rs[i]->name);
				goto out;
			}
	}
	o.previous = &p->lock;
	if (resolver_lock_many(rs, p->n, &o, outs, e) < 0)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		struct upd_item *it = &p->items[i];
		it->fresh = outs[i];
		it->old = lock_find(&p->lock, it->r->name);
		lock_changes(it->old, &it->fresh, &it->ch);
	}
	if (!named->n)
		for (size_t i = 0; i < p->lock.nrecipes; i++) {
			bool found = false;
			for (size_t k = 0; k < p->n; k++)
				found |= !strcmp(p->items[k].r->name, p->lock.recipes[i].name);
			if (!found)
				sv_push(&p->gone, p->lock.recipes[i].name);
		}
	ret = 0;
out:
	free(rs);
	free(outs);
	sv_clear(&files);
	return ret;
}

/* ---- the image digest a layout holds ------------------------------------------ */

/* The digest of the image index that index.json names with a ref name (the
 * image pare build wrote); NULL when there is no readable layout. */
static char *layout_digest(const char *dir)
{
	char *p = path_join(dir, "index.json"), *d = NULL;
	strbuf sb = STRBUF_INIT;
	perr e2;
	cJSON *j = NULL, *m;

	if (read_file(p, &sb, 64u << 20, &e2) < 0 || !(j = cJSON_ParseWithLength(sb.buf, sb.len)))
		goto out;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
		cJSON *ann = cJSON_GetObjectItemCaseSensitive(m, "annotations");
		cJSON *dg = cJSON_GetObjectItemCaseSensitive(m, "digest");
		cJSON *ref = cJSON_GetObjectItemCaseSensitive(ann, "org.opencontainers.image.ref.name");
		/* not the signer's sha256-HEX.sig / .att tags */
		if (cJSON_IsString(ref) && !str_starts(ref->valuestring, "sha256-") &&
		    cJSON_IsString(dg)) {
			d = xstrdup(dg->valuestring);
			break;
		}
	}
out:
	cJSON_Delete(j);
	sb_release(&sb);
	free(p);
	return d;
}

/* The manifest digest for arch in the image index a layout names; NULL if
 * none. */
static char *layout_arch_digest(const char *dir, const char *index_digest, const char *arch)
{
	char *p = NULL, *d = NULL;
	strbuf sb = STRBUF_INIT;
	perr e2;
	cJSON *j = NULL, *m;

	if (!index_digest || !str_starts(index_digest, "sha256:"))
		return NULL;
	p = xasprintf("%s/blobs/sha256/%s", dir, index_digest + 7);
	if (read_file(p, &sb, 64u << 20, &e2) < 0 || !(j = cJSON_ParseWithLength(sb.buf, sb.len)))
		goto out;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
		cJSON *pl = cJSON_GetObjectItemCaseSensitive(m, "platform");
		cJSON *a = cJSON_GetObjectItemCaseSensitive(pl, "architecture");
		cJSON *dg = cJSON_GetObjectItemCaseSensitive(m, "digest");
		if (cJSON_IsString(a) && !strcmp(a->valuestring, arch) && cJSON_IsString(dg)) {
			d = xstrdup(dg->valuestring);
			break;
		}
	}
out:
	cJSON_Delete(j);
	sb_release(&sb);
	free(p);
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
static int change_line(const struct upd_item *it, const struct lock_change *ch, strbuf *out,
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
			r = deb_changelog_cves(deb, np->name, ch->old_version, ch->new_version,
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
	struct upd_item *it;
	const struct lock_recipe *entry; /* what it is built from */
	bool entry_changed;
	char *final, *staged;            /* OUTROOT/NAME, OUTROOT/.NAME.update */
	char *old_digest, *new_digest;
	strvec archs, arch_lines;        /* "IMAGE ARCH old -> new" (manifests) */
};

static int build_staged(struct rebuild *b, const struct update_opts *o, signer_key *key,
			perr *e)
{
	const struct recipe *r = b->it->r;
	struct build_opts bo = { 0 };
	struct build_result res = { 0 };
	char *commit = NULL, *src = NULL;
	int ret = -1;

	/* builder_build fetches the .debs of the layers it cannot take from the layer cache */
	if (rm_rf(b->staged, e) < 0)
		goto out;
	bo.outdir = b->staged;
	bo.compression = "gzip";
	bo.quiet = pare_quiet;
	if (builder_git_info(r->path, &commit, &bo.git_dirty) == 0)
		bo.git_commit = commit;
	/* built from a lock entry the commit does not hold yet */
	if (b->entry_changed)
		bo.git_dirty = true;
	bo.source_url = o->source_url ? o->source_url : (src = builder_git_source_url(r->path));
	if (builder_build(r, b->entry, &bo, &res, e) < 0)
		goto out;
	if (key && signer_sign_layout_key(b->staged, key, r->name, e) < 0) {
		perr_prefix(e, "signing");
		goto out;
	}
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
	if (ret < 0)
		perr_prefix(e, "recipe %s", r->name);
	build_result_free(&res);
	free(commit);
	free(src);
	return ret;
}

/* Move OUTROOT/.NAME.update to OUTROOT/NAME: only over a layout pare wrote
 * (outdir.c); the previous one is removed. */
static int move_in(const struct rebuild *b, const struct update_opts *o, perr *e)
{
	return out_replace_dir(b->staged, b->final, o->unsigned_ok ? OUT_UNSIGNED_OK : 0, e);
}

static char *commit_message(struct rebuild *bs, size_t nb, const struct upd_plan *p, perr *e)
{
	strbuf m = STRBUF_INIT;

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
	return sb_detach(&m);
fail:
	sb_release(&m);
	return NULL;
}

int update_run(const strvec *files, const struct update_opts *o, strvec *rebuilt, perr *e)
{
	struct upd_plan p = { 0 };
	struct rebuild *bs = NULL;
	size_t nb = 0;
	char *outroot = out_path(o->outroot ? o->outroot : "out");
	unsigned flags = (o->sign_key ? OUT_SIGNED : 0) | (o->unsigned_ok ? OUT_UNSIGNED_OK : 0);
	signer_key *key = NULL;
	bool lock_changed = false;
	char *msg = NULL, *id = NULL;
	strvec cfiles = STRVEC_INIT;
	int ret = -1;

	if (o->commit && git_commit_files(o->lock, o->recipes_dir, &cfiles, NULL, NULL, NULL, e) < 0)
		goto out;
	if (upd_plan_make(files, o->recipes_dir, o->lock, o->offline, &p, e) < 0)
		goto out;
	bs = xcalloc(p.n + 1, sizeof(*bs));
	for (size_t i = 0; i < p.n; i++) {
		struct upd_item *it = &p.items[i];
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
	for (size_t i = 0; i < nb; i++) {
		note("%s: rebuilding%s", bs[i].it->r->name,
		     bs[i].entry_changed ? "" : " (no image in the output)");
		if (build_staged(&bs[i], o, key, e) < 0)
			goto out;
	}
	/* the commit message needs the changelogs: read them before anything
	 * is written, so that a bad .deb changes nothing */
	if (o->commit && lock_changed && !(msg = commit_message(bs, nb, &p, e)))
		goto out;
	for (size_t i = 0; i < nb; i++) {
		if (move_in(&bs[i], o, e) < 0)
			goto out;
		sv_pushf(rebuilt, "%s %s -> %s", bs[i].it->r->name,
			 bs[i].old_digest ? bs[i].old_digest : "(none)", bs[i].new_digest);
		if (o->print)
			printf("%s\n", rebuilt->v[rebuilt->n - 1]);
	}
	if (lock_changed) {
		for (size_t i = 0; i < nb; i++)
			if (bs[i].entry_changed) {
				lock_put(&p.lock, &bs[i].it->fresh);
				bs[i].entry = NULL;
			}
		for (size_t i = 0; i < p.gone.n; i++) {
			struct lock_recipe *g = lock_find(&p.lock, p.gone.v[i]);
			size_t k = (size_t)(g - p.lock.recipes);
			lock_recipe_free(g);
			memmove(g, g + 1, (p.lock.nrecipes - k - 1) * sizeof(*g));
			p.lock.nrecipes--;
		}
		if (lock_write(o->lock, &p.lock, e) < 0)
			goto out;
		note("wrote %s", o->lock);
	}
	if (o->commit && msg) {
		for (size_t i = 0; i < nb; i++)
			for (size_t k = 0; k < bs[i].it->ch.n; k++)
				if (bs[i].it->ch.v[k].kind == LC_RECIPE ||
				    bs[i].it->ch.v[k].kind == LC_NEW_RECIPE)
					sv_push(&cfiles, bs[i].it->r->path);
		if (git_commit_files(o->lock, o->recipes_dir, &cfiles, msg, o->author, &id, e) < 0)
			goto out;
		note("committed %s", id);
	}
	if (!nb)
		note("up to date: nothing to rebuild");
	ret = 0;
out:
	for (size_t i = 0; i < nb; i++) {
		if (ret < 0) {
			perr e2;
			rm_rf(bs[i].staged, &e2);
		}
		free(bs[i].final), free(bs[i].staged);
		free(bs[i].old_digest), free(bs[i].new_digest);
		sv_clear(&bs[i].arch_lines);
		sv_clear(&bs[i].archs);
	}
	free(bs);
	free(msg);
	free(id);
	free(outroot);
	signer_key_free(key);
	sv_clear(&cfiles);
	upd_plan_free(&p);
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

int git_commit_files(const char *lock_file, const char *rdir, const strvec *files,
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
	if (!message) { /* only the check, before anything is built */
		ret = 0;
		goto out;
	}
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
	if (git_commit_create_v(&oid, repo, "HEAD", sig, sig, NULL, message, tree, parent ? 1 : 0,
				parent) < 0) {
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
