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
#include "commands.h"
#include "../resolver/resolver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_lock(int argc, char **argv, perr *e)
{
	bool check = false, offline = false, fail_fast = false, all;
	strvec files = STRVEC_INIT, diff = STRVEC_INIT, names = STRVEC_INIT;
	struct lock lock = { 0 };
	struct recipe **rs = NULL;
	struct lock_recipe *lrs = NULL;
	size_t nrs = 0, nlrs = 0, nbad = 0, nbadload = 0, nok = 0;
	perr *errs = NULL;
	int i, ret = -1, lfd = -1;

	cli_permute(argc, argv, NULL);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--offline"))
			offline = true;
		else if (!strcmp(argv[i], "--fail-fast"))
			fail_fast = true;
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			return perr_set(e, "lock: unknown option '%s' (see 'pare help lock')", argv[i]);
	}
	all = i >= argc;
	if (all) {
		if (recipe_list(recipes_dir(), &files, e) < 0)
			goto out;
		if (!files.n) {
			perr_set(e, "no recipes in %s", recipes_dir());
			goto out;
		}
	} else {
		for (; i < argc; i++)
			sv_push_nodup(&files, recipe_path_for(argv[i]));
	}
	if (lock_read(lock_path(), &lock, true, e) < 0)
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
	debug("release fetch+verify %.1f ms, index load %.1f ms, solve %.1f ms, %u from the resolution cache",
	      resolver_last_timing.release_ms, resolver_last_timing.load_ms,
	      resolver_last_timing.solve_ms, resolver_last_timing.cached);
	if (!check) {
		/* another pare lock may have written since: merge this run's
		 * entries into the lock as it is now, read again under the
		 * writers' lock (docs/lock.md) */
		if ((lfd = lock_acquire(lock_path(), false, e)) < 0)
			goto out;
		lock_free(&lock);
		if (lock_read(lock_path(), &lock, true, e) < 0)
			goto out;
	}
	for (size_t k = 0; k < nrs; k++) {
		sv_push(&names, rs[k]->name);
		if (!lrs[k].name) {
			/* did not resolve: its entry stays as it is */
			cli_report(errs[k].msg);
			continue;
		}
		nok++;
		if (check)
			lock_diff(lock_find(&lock, rs[k]->name), &lrs[k], &diff);
		lock_put(&lock, &lrs[k]);
	}
	if (all && !nbadload) {
		/* entries of recipes that are gone */
		for (size_t k = 0; k < lock.nrecipes;) {
			if (sv_contains(&names, lock.recipes[k].name)) {
				k++;
				continue;
			}
			if (check)
				lock_diff(&lock.recipes[k], NULL, &diff);
			lock_recipe_free(&lock.recipes[k]);
			memmove(&lock.recipes[k], &lock.recipes[k + 1],
				(lock.nrecipes - k - 1) * sizeof(*lock.recipes));
			lock.nrecipes--;
		}
	}
	if (check) {
		for (size_t k = 0; k < diff.n; k++)
			printf("%s\n", diff.v[k]);
		if (diff.n)
			note("%s is out of date (%zu difference%s): run 'pare lock'", lock_path(),
			     diff.n, diff.n == 1 ? "" : "s");
		ret = diff.n ? 1 : 0;
		goto failed;
	}
	if (!nok)
		goto failed;
	switch (lock_write(lock_path(), &lock, e)) {
	case -1:
		goto out;
	case 1:
		note("%s is up to date", lock_path());
		break;
	default:
		note("wrote %s", lock_path());
	}
	ret = 0;
failed:
	if (nbad) {
		perr_set(e, "lock: %zu of %zu recipe%s failed%s", nbad, files.n,
			 files.n == 1 ? "" : "s",
			 nok && !check ? " (the others are locked)" : "");
		ret = -1;
	}
out:
	lock_release(lfd);
	for (size_t k = 0; k < nrs; k++)
		recipe_free(rs[k]);
	for (size_t k = 0; k < nlrs; k++)
		lock_recipe_free(&lrs[k]);
	free(rs);
	free(lrs);
	free(errs);
	lock_free(&lock);
	sv_clear(&files);
	sv_clear(&diff);
	sv_clear(&names);
	return ret;
}
