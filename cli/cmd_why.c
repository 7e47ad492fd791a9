/*
 * cmd_why.c - pare why [--arch A] RECIPE PACKAGE
 *
 * Prints the shortest dependency path(s) from a package the recipe asks
 * for down to PACKAGE, from recipes.lock (so the answer matches what is
 * built, not today's indexes).
 */
#include "cli.h"
#include "../resolver/resolver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_opt cli_why_opts[] = {
	{ 'A', "arch", "A", 0, "in that architecture's closure (default: the host's, if locked)" },
	{ 0 },
};

static bool in_closure(const struct lock_recipe *lr, const char *arch, const char *pkg)
{
	for (size_t i = 0; i < lr->narchs; i++)
		if (!strcmp(lr->archs[i].arch, arch))
			for (size_t k = 0; k < lr->archs[i].npkgs; k++)
				if (!strcmp(lr->archs[i].pkgs[k].name, pkg))
					return true;
	return false;
}

/* The recipe file that asks for the first package of path "A -> B -> …". */
static const char *requested_from(const struct recipe *r, const char *path)
{
	const char *end = strstr(path, " -> ");
	size_t n = end ? (size_t)(end - path) : strlen(path);

	if (!r)
		return NULL;
	for (size_t i = 0; i < r->npackages; i++)
		if (strlen(r->packages[i].name) == n && !strncmp(r->packages[i].name, path, n))
			return r->packages[i].from;
	return NULL;
}

int cmd_why(int argc, char **argv, perr *e)
{
	const char *arch = NULL, *name;
	struct lock lock = { 0 };
	struct lock_recipe *lr;
	struct recipe *r = NULL;
	char *rpath = NULL;
	strvec paths = STRVEC_INIT;
	struct cli_args a;
	int c, ret = -1;

	cli_args_init(&a, argc, argv, cli_why_opts);
	while ((c = cli_args_next(&a, e)) > 0)
		if (c == 'A')
			arch = a.val;
	if (c < 0)
		return -1;
	if (a.nops != 2)
		return cli_usage_error(e, "why", NULL);
	name = argv[1];
	if (strchr(name, '/') || str_ends(name, ".yaml") || str_ends(name, ".yml")) {
		/* a path: the lock is keyed by the recipe's name: field */
		if (!(r = recipe_load(name, e)))
			goto out;
		name = r->name;
	}
	if (lock_read(cli_lock_path(), &lock, true, e) < 0)
		goto out;
	lr = lock_find(&lock, name);
	if (!lr) {
		perr_set(e, "recipe %s is not in %s: run 'pare lock %s' first", name, cli_lock_path(),
			 name);
		goto out;
	}
	if (!arch) {
		arch = lr->narchs ? lr->archs[0].arch : resolver_host_arch();
		for (size_t k = 0; k < lr->narchs; k++)
			if (!strcmp(lr->archs[k].arch, resolver_host_arch()))
				arch = resolver_host_arch();
	}
	if (!r) {
		/* the recipe names the requested packages' files and the assumed
		 * ones; without it (a lock from elsewhere) the paths alone */
		perr e2 = { 0, "" };
		rpath = cli_recipe_path(name);
		if (path_exists(rpath))
			r = recipe_load(rpath, &e2); /* a broken recipe: the lock's paths alone */
	}
	if (r && !in_closure(lr, arch, argv[2]) && sv_contains(&r->assume, argv[2])) {
		bool dflt = false;
		for (size_t k = 0; recipe_default_assume[k]; k++)
			dflt |= !strcmp(recipe_default_assume[k], argv[2]);
		printf("%s is assumed by %s (%s): treated as installed, never shipped in the image\n",
		       argv[2], r->name,
		       dflt ? "pare's default assume list, docs/recipes.md" : "its `assume:` list");
		ret = 0;
		goto out;
	}
	if (resolver_why(lr, arch, argv[2], &paths, e) < 0)
		goto out;
	for (size_t k = 0; k < paths.n; k++) {
		const char *from = requested_from(r, paths.v[k]);
		/* the file is news when it is not the recipe's own (extends) or
		 * when the package is itself one the recipe asks for */
		if (from && (strcmp(from, path_basename(r->path)) || !strstr(paths.v[k], " -> ")))
			printf("%s (requested by %s)\n", paths.v[k], from);
		else
			printf("%s\n", paths.v[k]);
	}
	ret = 0;
out:
	free(rpath);
	recipe_free(r);
	lock_release(&lock);
	sv_clear(&paths);
	return ret;
}
