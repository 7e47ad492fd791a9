/*
 * build.c - one image: build, sign, push.  pare build (cli/cmd_build.c) and
 * pare update (update.c) both make an image this way; it lives here because
 * builder/ may not include signer/ or registry/ (docs/modules.md).
 *
 * The layout is signed in its staging directory, before it replaces the
 * previous one (oci_layout_write's finish hook): only a complete, signed
 * layout (and tar) is ever swapped in.  The push comes after, from the
 * final layout.
 */
#define _GNU_SOURCE
#include "rebuild.h"
#include "../builder/builder.h"
#include "../registry/registry.h"
#include "../signer/signer.h"

#include <stdlib.h>

struct finish {
	signer_key *key;
	const char *name;
	char *recipes_dir; /* the recipe's directory (its allow list, vex) */
	int (*next)(const char *dir, void *arg, perr *e);
	void *next_arg;
};

static int finish_staged(const char *dir, void *arg, perr *e)
{
	struct finish *f = arg;

	if (f->key && rebuild_sign_layout(dir, f->key, f->name, f->recipes_dir, e) < 0)
		return perr_prefix(e, "signing");
	return f->next ? f->next(dir, f->next_arg, e) : 0;
}

static int push(const char *dir, const char *ref, const struct registry_opts *o, perr *e)
{
	struct registry_push_result res = { 0 };
	int ret = registry_push(dir, ref, o, &res, e);

	if (ret == 0)
		note("pushed %s@%s: %zu blobs uploaded (%llu bytes), %zu already there, %zu manifests",
		     ref, res.digest, res.blobs_uploaded, (unsigned long long)res.bytes_uploaded,
		     res.blobs_skipped, res.manifests);
	registry_push_result_free(&res);
	return ret;
}

int rebuild_build(const struct recipe *r, const struct lock_recipe *lr, struct build_opts *bo,
		  const struct rebuild_build_opts *o, struct build_result *res, perr *e)
{
	struct finish f = { o->key, r->name, path_dirname(r->path), bo->finish, bo->finish_arg };
	char *commit = NULL, *src = NULL;
	int ret = -1;

	if (rebuild_git_info(r->path, &commit, &bo->git_dirty) == 0)
		bo->git_commit = commit;
	if (o->lock_uncommitted)
		bo->git_dirty = true;
	bo->source_url = o->source_url ? o->source_url : (src = rebuild_git_source_url(r->path));
	bo->finish = finish_staged;
	bo->finish_arg = &f;
	if (builder_build(r, lr, bo, res, e) < 0) {
		perr_prefix(e, "recipe %s", r->name);
		goto out;
	}
	if (o->push && push(bo->outdir, o->push, o->reg, e) < 0) {
		perr_prefix(e, "recipe %s: %s is complete%s, only the push failed (retry: pare push %s %s)",
			    r->name, bo->outdir, o->key ? " and signed" : "", bo->outdir, o->push);
		goto out;
	}
	ret = 0;
out:
	/* bo is the caller's again, without pointers into this frame */
	bo->finish = f.next;
	bo->finish_arg = f.next_arg;
	bo->git_commit = NULL;
	bo->source_url = NULL;
	free(commit);
	free(src);
	free(f.recipes_dir);
	return ret;
}
