/*
 * cmd_why.c - pare why [--arch A] RECIPE PACKAGE
 *
 * Prints the shortest dependency path(s) from a package the recipe asks
 * for down to PACKAGE, from recipes.lock (so the answer matches what is
 * built, not today's indexes).
 */
#include "commands.h"
#include "../resolver/resolver.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: pare why [--arch A] RECIPE PACKAGE";

int cmd_why(int argc, char **argv, perr *e)
{
	const char *arch = NULL, *name;
	struct lock lock = { 0 };
	struct lock_recipe *lr;
	struct recipe *r = NULL;
	strvec paths = STRVEC_INIT;
	int i, ret = -1;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--arch") && i + 1 < argc)
			arch = argv[++i];
		else if (str_starts(argv[i], "--arch="))
			arch = argv[i] + 7;
		else
			return perr_set(e, "why: unknown option '%s'\n%s", argv[i], usage);
	}
	if (argc - i != 2)
		return perr_set(e, "%s", usage);
	name = argv[i];
	if (strchr(name, '/') || str_ends(name, ".yaml") || str_ends(name, ".yml")) {
		/* a path: the lock is keyed by the recipe's name: field */
		if (!(r = recipe_load(name, e)))
			goto out;
		name = r->name;
	}
	if (lock_read(lock_path(), &lock, true, e) < 0)
		goto out;
	lr = lock_find(&lock, name);
	if (!lr) {
		perr_set(e, "recipe %s is not in %s: run 'pare lock %s' first", name, lock_path(),
			 name);
		goto out;
	}
	if (!arch) {
		arch = lr->narchs ? lr->archs[0].arch : host_arch();
		for (size_t k = 0; k < lr->narchs; k++)
			if (!strcmp(lr->archs[k].arch, host_arch()))
				arch = host_arch();
	}
	if (resolver_why(lr, arch, argv[i + 1], &paths, e) < 0)
		goto out;
	for (size_t k = 0; k < paths.n; k++)
		printf("%s\n", paths.v[k]);
	ret = 0;
out:
	recipe_free(r);
	lock_free(&lock);
	sv_clear(&paths);
	return ret;
}
