/*
 * cmd_lock.c - pare lock [--check] [--offline] [--fail-fast] [RECIPE…]
 *
 * Resolves recipes against verified indexes and writes recipes.lock.
 * A recipe that does not load or resolve is reported (one "pare: " line
 * each) and keeps its entry as it is; the others are written, and the exit
 * status is 2 (docs/lock.md).  --fail-fast: nothing is written unless every
 * named recipe resolved.  With no RECIPE, all recipes are locked and
 * entries of recipes that no longer exist are dropped (none while a recipe
 * file does not load: its name is unknown); with some, the other entries
 * are kept as they are.
 */
#include "cli.h"
#include "../builder/builder.h"
#include "../resolver/resolver.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The build refuses a shell or a package manager in the image unless the
 * recipe allows it (docs/image.md); the closure is known now, so a package
 * known to ship one (policy_forbidden_package: by name, the index has no
 * file lists) is refused here already, naming the recipe entry that pulls
 * it in and the path (pare why's). */
static int refuse_forbidden(const struct recipe *r, const struct lock_recipe *lr, perr *e)
{
	const struct lock_arch *fa = NULL;
	const struct lock_pkg *fp = NULL;
	const char *fkind = NULL;
	strvec names = STRVEC_INIT;
	size_t more;

	for (size_t a = 0; a < lr->narchs; a++)
		for (size_t k = 0; k < lr->archs[a].npkgs; k++) {
			const struct lock_pkg *p = &lr->archs[a].pkgs[k];
			const char *kind = policy_forbidden_package(p->name);

			if (!kind || sv_contains(&r->allow, kind))
				continue;
			sv_push(&names, p->name);
			if (fp)
				continue;
			fa = &lr->archs[a];
			fp = p;
			fkind = kind;
		}
	sv_uniq(&names);
	more = names.n ? names.n - 1 : 0;
	sv_clear(&names);
	if (!fp)
		return 0;
	{
		strvec paths = STRVEC_INIT;
		perr e2 = { 0 };
		const char *path = fp->name, *file = r->path;
		size_t line = 1, col = 1, head;
		strbuf msg = STRBUF_INIT;

		if (resolver_why(lr, fa->arch, fp->name, &paths, &e2) == 0 && paths.n)
			path = paths.v[0];
		head = strcspn(path, " ");
		for (size_t i = 0; i < r->npackages; i++)
			if (strlen(r->packages[i].name) == head &&
			    !strncmp(r->packages[i].name, path, head) && r->packages[i].file) {
				file = r->packages[i].file;
				line = r->packages[i].line;
				col = r->packages[i].col;
			}
		sb_addf(&msg, "%s:%zu:%zu: package %s is a %s, which the image may not hold "
			"(needs allow: [%s]); ", file, line, col, fp->name,
			!strcmp(fkind, "shell") ? "shell" : "package manager", fkind);
		if (strchr(path, ' '))
			sb_addf(&msg, "it is in the closure through %s (%s)", path, fa->arch);
		else
			sb_adds(&msg, "it is requested here");
		if (more)
			sb_addf(&msg, "; and %zu more such package%s", more, more > 1 ? "s" : "");
		perr_set(e, "%s", msg.buf);
		sb_release(&msg);
		sv_clear(&paths);
	}
	return -1;
}

/* --json: {"lock", "written", "recipes": [{"recipe", "archs": [{"arch",
 * "packages", "size"}]}], "differences": [...] (--check only), "errors":
 * [{"recipe", "error"}] (only when some recipe failed)}; recipes in the
 * order locked, "size" the bytes of the archs' .debs. */
static void lock_json(bool check, bool written, const struct lock *lock, const strvec *locked,
		      const strvec *diff, const strvec *failed, const strvec *errors)
{
	cJSON *j = cJSON_CreateObject(), *arr;
	char *s;

	cJSON_AddStringToObject(j, "lock", cli_lock_path());
	cJSON_AddBoolToObject(j, "written", written);
	arr = cJSON_AddArrayToObject(j, "recipes");
	for (size_t i = 0; i < locked->n; i++) {
		const struct lock_recipe *lr = lock_find(lock, locked->v[i]);
		cJSON *r, *archs;
		if (!lr)
			continue;
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "recipe", lr->name);
		archs = cJSON_AddArrayToObject(r, "archs");
		for (size_t a = 0; a < lr->narchs; a++) {
			const struct lock_arch *la = &lr->archs[a];
			cJSON *o = cJSON_CreateObject();
			uint64_t total = 0;
			for (size_t k = 0; k < la->npkgs; k++)
				total += la->pkgs[k].size;
			cJSON_AddStringToObject(o, "arch", la->arch);
			cJSON_AddNumberToObject(o, "packages", (double)la->npkgs);
			cJSON_AddNumberToObject(o, "size", (double)total);
			cJSON_AddItemToArray(archs, o);
		}
		cJSON_AddItemToArray(arr, r);
	}
	if (check) {
		arr = cJSON_AddArrayToObject(j, "differences");
		for (size_t i = 0; i < diff->n; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(diff->v[i]));
	}
	if (errors->n) {
		arr = cJSON_AddArrayToObject(j, "errors");
		for (size_t i = 0; i < errors->n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "recipe", failed->v[i]);
			cJSON_AddStringToObject(o, "error", errors->v[i]);
			cJSON_AddItemToArray(arr, o);
		}
	}
	s = cJSON_Print(j);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

const struct cli_opt cli_lock_opts[] = {
	{ 'C', "check", NULL, 0, "write nothing; exit 1 if recipes.lock would change" },
	{ 'O', "offline", NULL, 0, "the cached indexes, no network" },
	{ 'F', "fail-fast", NULL, 0, "stop at the first recipe that does not load or resolve" },
	{ 'J', "json", NULL, 0, "what was locked (or would change) as JSON on stdout" },
	{ 0 },
};

int cmd_lock(int argc, char **argv, perr *e)
{
	bool check = false, offline = false, fail_fast = false, json = false, written = false, all;
	strvec failed = STRVEC_INIT, errors = STRVEC_INIT, locked = STRVEC_INIT;
	strvec files = STRVEC_INIT, diff = STRVEC_INIT, names = STRVEC_INIT;
	struct lock lock = { 0 };
	struct recipe **rs = NULL;
	struct lock_recipe *lrs = NULL;
	size_t nrs = 0, nlrs = 0, nbad = 0, nbadload = 0, nok = 0;
	perr *errs = NULL;
	struct cli_args a;
	int c, ret = -1, lfd = -1;

	cli_args_init(&a, argc, argv, cli_lock_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		switch (c) {
		case 'C': check = true; break;
		case 'O': offline = true; break;
		case 'F': fail_fast = true; break;
		case 'J': json = true; break;
		}
	}
	if (c < 0)
		return -1;
	all = !a.nops;
	if (all) {
		if (recipe_list(cli_recipes_dir(), &files, e) < 0)
			goto out;
		if (!files.n) {
			perr_set(e, "no recipes in %s", cli_recipes_dir());
			goto out;
		}
	} else {
		for (int i = 1; i <= a.nops; i++)
			sv_push_nodup(&files, cli_recipe_path(argv[i]));
	}
	if (lock_read(cli_lock_path(), &lock, true, e) < 0)
		goto out;
	/* one recipe: its error is the error (one line, as always) */
	if (files.n == 1)
		fail_fast = true;

	/* all recipes in one go: each index is loaded once (resolver_lock_many) */
	rs = xcalloc(files.n, sizeof(*rs));
	lrs = xcalloc(files.n, sizeof(*lrs));
	errs = xcalloc(files.n, sizeof(*errs));
	for (size_t k = 0; k < files.n; k++) {
		if ((rs[nrs] = recipe_load(files.v[k], e))) {
			nrs++;
			continue;
		}
		if (fail_fast)
			goto out;
		/* keep going: the others are locked, this one is reported */
		cli_report(e->msg);
		sv_push(&failed, files.v[k]);
		sv_push(&errors, e->msg);
		nbadload++;
	}
	{
		struct resolve_opts o = { offline, &lock };
		int n = resolver_lock_each(rs, nrs, &o, lrs, fail_fast ? NULL : errs, e);
		if (n < 0)
			goto out;
		nlrs = nrs;
		nbad = nbadload + (size_t)n;
	}
	/* a closure with a shell or package manager the recipe does not allow
	 * fails that recipe, like one that does not resolve */
	for (size_t k = 0; k < nrs; k++) {
		if (!lrs[k].name || refuse_forbidden(rs[k], &lrs[k], &errs[k]) == 0)
			continue;
		if (fail_fast) {
			*e = errs[k];
			goto out;
		}
		lock_recipe_release(&lrs[k]);
		memset(&lrs[k], 0, sizeof(lrs[k]));
		nbad++;
	}
	debug("release fetch+verify %.1f ms, index load %.1f ms, solve %.1f ms, %u from the resolution cache",
	      resolver_last_timing.release_ms, resolver_last_timing.load_ms,
	      resolver_last_timing.solve_ms, resolver_last_timing.cached);
	if (!check) {
		/* another pare lock may have written since: merge this run's
		 * entries into the lock as it is now, read again under the
		 * writers' lock (docs/lock.md) */
		if ((lfd = lock_acquire(cli_lock_path(), false, e)) < 0)
			goto out;
		lock_release(&lock);
		if (lock_read(cli_lock_path(), &lock, true, e) < 0)
			goto out;
	}
	for (size_t k = 0; k < nrs; k++) {
		sv_push(&names, rs[k]->name);
		if (!lrs[k].name) {
			/* did not resolve: its entry stays as it is */
			cli_report(errs[k].msg);
			sv_push(&failed, rs[k]->name);
			sv_push(&errors, errs[k].msg);
			continue;
		}
		nok++;
		sv_push(&locked, rs[k]->name);
		if (check)
			lock_diff(lock_find(&lock, rs[k]->name), &lrs[k], &diff);
		lock_put(&lock, &lrs[k]);
	}
	if (all && !nbadload) {
		/* entries of recipes that are gone */
		strvec gone = STRVEC_INIT;
		for (size_t k = 0; k < lock.nrecipes; k++)
			if (!sv_contains(&names, lock.recipes[k].name)) {
				if (check)
					lock_diff(&lock.recipes[k], NULL, &diff);
				sv_push(&gone, lock.recipes[k].name);
			}
		for (size_t k = 0; k < gone.n; k++)
			lock_drop(&lock, gone.v[k]);
		sv_clear(&gone);
	}
	if (check) {
		for (size_t k = 0; k < diff.n && !json; k++)
			printf("%s\n", diff.v[k]);
		if (diff.n)
			note("%s is out of date (%zu difference%s): run 'pare lock'", cli_lock_path(),
			     diff.n, diff.n == 1 ? "" : "s");
		ret = diff.n ? 1 : 0;
		goto failed;
	}
	if (!nok)
		goto failed;
	switch (lock_write(cli_lock_path(), &lock, e)) {
	case -1:
		goto out;
	case 1:
		note("%s is up to date", cli_lock_path());
		break;
	default:
		note("wrote %s", cli_lock_path());
		written = true;
	}
	ret = 0;
failed:
	if (json)
		lock_json(check, written, &lock, &locked, &diff, &failed, &errors);
	if (nbad) {
		perr_set(e, "lock: %zu of %zu recipe%s failed%s", nbad, files.n,
			 files.n == 1 ? "" : "s",
			 nok && !check ? " (the others are locked)" : "");
		ret = -1;
	}
out:
	lock_unlock(lfd);
	for (size_t k = 0; k < nrs; k++)
		recipe_free(rs[k]);
	for (size_t k = 0; k < nlrs; k++)
		lock_recipe_release(&lrs[k]);
	free(rs);
	free(lrs);
	free(errs);
	lock_release(&lock);
	sv_clear(&files);
	sv_clear(&diff);
	sv_clear(&names);
	sv_clear(&failed);
	sv_clear(&errors);
	sv_clear(&locked);
	return ret;
}
