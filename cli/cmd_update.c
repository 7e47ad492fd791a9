/*
 * cmd_update.c - pare update [RECIPE…] [--outroot DIR] [--sign-key KEY | --unsigned-ok]
 *                [--commit [--author "Name <email>"]] [--source-url URL] [--offline]
 *                [--fail-fast] [--json]; the options update and watch share
 *
 * Re-lock, rebuild only what changed into OUTROOT/RECIPE, sign, write
 * recipes.lock, and with --commit record it all in git (update.c).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../rebuild/rebuild.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options update and watch share: what rebuild_update takes. */
static const struct cli_opt rebuild_opts[] = {
	{ 'R', "outroot", "DIR", 0, "each image in DIR/RECIPE (default out)" },
	{ 'o', "output", "DIR", CLI_SHORT, "the same as --outroot" },
	{ 'K', "sign-key", "KEY", 0, "sign each rebuilt image with KEY" },
	{ 'N', "unsigned-ok", NULL, 0, "may replace a signed image with an unsigned one" },
	{ 'C', "commit", NULL, 0, "commit recipes.lock (and changed recipes) with the CVE ids fixed" },
	{ 'a', "author", "\"NAME <EMAIL>\"", 0, "the commit's author (default: the repository's git config)" },
	{ 'U', "source-url", "URL", 0,
	  "org.opencontainers.image.source (default: git config pare.sourceUrl)" },
	{ 'O', "offline", NULL, 0, "the cached indexes, no network" },
	{ 'F', "fail-fast", NULL, 0, "change nothing unless every recipe rebuilds" },
	{ 0 },
};

const struct cli_opt cli_update_opts[] = {
	CLI_OPTS_INCLUDE(rebuild_opts),
	CLI_OPTS_INCLUDE(cli_lcache_opts),
	CLI_OPTS_INCLUDE(cli_registry_opts),
	{ 'J', "json", NULL, 0, "what was rebuilt (and what failed) as JSON on stdout" },
	{ 0 },
};

/* update's own options: the shared layer cache and its registry's */
struct update_extra {
	struct cli_registry reg;
	const char *cache_to, *cache_from;
};

static int update_extra(int c, const char *arg, void *ctx, perr *e)
{
	struct update_extra *x = ctx;

	(void)e;
	if (cli_registry_opt(&x->reg, c, arg))
		return 0;
	if (c == CLI_CACHE_TO)
		x->cache_to = arg;
	else if (c == CLI_CACHE_FROM)
		x->cache_from = arg;
	return 0;
}

const struct cli_opt cli_watch_opts[] = {
	{ 'i', "interval", "DURATION", CLI_REQUIRED, "run update every DURATION (30s, 5m, 1h, 1h30m)" },
	{ 'x', "exec", "CMD", 0, "run CMD (sh -c) after a cycle that rebuilt something or found a CVE newly affecting an image" },
	{ 'n', "cycles", "N", 0, "stop after N cycles (default: until SIGTERM or SIGINT)" },
	{ 0x200, "cve-from", "DIR", 0, "sync the CVE feeds from DIR each cycle (as pare cve sync --from)" },
	{ 0x201, "tracker-url", "URL", 0, "sync the Debian security tracker's JSON from URL each cycle" },
	{ 0x202, "kev-url", "URL", 0, "sync the CISA KEV catalog from URL each cycle" },
	{ 0x203, "epss-url", "URL", 0, "sync the FIRST EPSS scores from URL each cycle" },
	CLI_OPTS_INCLUDE(rebuild_opts),
	{ 0 },
};

int cli_update_parse(int argc, char **argv, const struct cli_opt *opts, struct rebuild_opts *o,
		     int (*extra_fn)(int c, const char *arg, void *ctx, perr *e), void *ctx,
		     perr *e)
{
	struct cli_args a;
	int c;

	o->recipes_dir = cli_recipes_dir();
	o->lock = cli_lock_path();
	cli_args_init(&a, argc, argv, opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		switch (c) {
		case 'o':
		case 'R': o->outroot = a.val; break;
		case 'N': o->unsigned_ok = true; break;
		case 'K': o->sign_key = a.val; break;
		case 'C': o->commit = true; break;
		case 'a': o->author = a.val; break;
		case 'U': o->source_url = a.val; break;
		case 'O': o->offline = true; break;
		case 'F': o->fail_fast = true; break;
		case 'J': o->json = true; break;
		default: /* watch's own (cli_watch_opts) */
			if (extra_fn && extra_fn(c, a.val, ctx, e) < 0)
				return -1;
		}
	}
	if (c < 0)
		return -1;
	if (o->author && !o->commit)
		return perr_set(e, "%s: --author goes with --commit", argv[0]);
	return a.nops;
}

void cli_recipe_files(char **args, int nargs, strvec *files)
{
	for (int i = 0; i < nargs; i++)
		sv_push_nodup(files, cli_recipe_path(args[i]));
}

/* --json: {"outroot", "rebuilt": [{"recipe", "path", "old_digest" (null when
 * there was none), "digest"}], "errors": [{"recipe", "error"}]} (errors only
 * when some recipe failed), rebuilt in recipe order. */
static void update_json(const char *outroot, const strvec *rebuilt, const strvec *errors)
{
	cJSON *j = cJSON_CreateObject(), *arr;
	char *s;

	cJSON_AddStringToObject(j, "outroot", outroot);
	arr = cJSON_AddArrayToObject(j, "rebuilt");
	for (size_t i = 0; i < rebuilt->n; i++) {
		/* "NAME OLD -> NEW" (rebuild_update) */
		strvec f = STRVEC_INIT;
		cJSON *o = cJSON_CreateObject();
		char *path;

		sv_split(&f, rebuilt->v[i], " ");
		if (f.n != 4) {
			sv_clear(&f);
			cJSON_Delete(o);
			continue;
		}
		path = xasprintf("%s/%s", outroot, f.v[0]);
		cJSON_AddStringToObject(o, "recipe", f.v[0]);
		cJSON_AddStringToObject(o, "path", path);
		if (!strcmp(f.v[1], "(none)"))
			cJSON_AddNullToObject(o, "old_digest");
		else
			cJSON_AddStringToObject(o, "old_digest", f.v[1]);
		cJSON_AddStringToObject(o, "digest", f.v[3]);
		cJSON_AddItemToArray(arr, o);
		free(path);
		sv_clear(&f);
	}
	if (errors->n) {
		arr = cJSON_AddArrayToObject(j, "errors");
		for (size_t i = 0; i < errors->n; i++) {
			cJSON *o = cJSON_CreateObject();
			char *tab = strchr(errors->v[i], '\t');
			*tab = '\0';
			cJSON_AddStringToObject(o, "recipe", errors->v[i]);
			cJSON_AddStringToObject(o, "error", tab + 1);
			*tab = '\t';
			cJSON_AddItemToArray(arr, o);
		}
	}
	s = cJSON_Print(j);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

int cmd_update(int argc, char **argv, perr *e)
{
	struct rebuild_opts o = { 0 };
	strvec rebuilt = STRVEC_INIT, files = STRVEC_INIT, errors = STRVEC_INIT;
	struct update_extra x = { 0 };
	struct rebuild_cache *cache = NULL;
	int n, ret = -1;

	if ((n = cli_update_parse(argc, argv, cli_update_opts, &o, update_extra, &x, e)) < 0 ||
	    cli_registry_finish(&x.reg, e) < 0)
		goto out;
	if (cli_cache_open(x.cache_to, x.cache_from, &x.reg.o, &cache, e) < 0) {
		perr_prefix(e, "update");
		goto out;
	}
	o.remote = rebuild_cache_remote(cache);
	o.print = !o.json;
	o.errors = &errors;
	cli_recipe_files(argv + 1, n, &files);
	ret = rebuild_update(&files, &o, &rebuilt, e);
	if (o.json)
		update_json(o.outroot ? o.outroot : "out", &rebuilt, &errors);
out:
	rebuild_cache_close(cache);
	cli_registry_release(&x.reg);
	sv_clear(&rebuilt);
	sv_clear(&files);
	sv_clear(&errors);
	return ret < 0 ? -1 : 0;
}
