/*
 * cmd_update.c - pare update [RECIPE…] [--outroot DIR] [--sign-key KEY | --unsigned-ok]
 *                [--commit [--author "Name <email>"]] [--source-url URL] [--offline]
 *                [--fail-fast]
 *
 * Re-lock, rebuild only what changed into OUTROOT/RECIPE, sign, write
 * recipes.lock, and with --commit record it all in git (update.c).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../rebuild/rebuild.h"

#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_update_parse(int argc, char **argv, struct rebuild_opts *o, const struct option *extra,
		     int (*extra_fn)(int c, const char *arg, void *ctx, perr *e), void *ctx, perr *e)
{
	static const struct option base[] = {
		{ "outroot", required_argument, NULL, 'R' },
		{ "output", required_argument, NULL, 'o' }, /* an alias of --outroot */
		{ "unsigned-ok", no_argument, NULL, 'N' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "commit", no_argument, NULL, 'C' },
		{ "author", required_argument, NULL, 'a' },
		{ "source-url", required_argument, NULL, 'U' },
		{ "offline", no_argument, NULL, 'O' },
		{ "fail-fast", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'J' },
	};
	struct option opts[ARRAY_SIZE(base) + 8];
	size_t n = 0;
	int c;

	for (size_t i = 0; i < ARRAY_SIZE(base); i++)
		opts[n++] = base[i];
	for (size_t i = 0; extra && extra[i].name && n < ARRAY_SIZE(opts) - 1; i++)
		opts[n++] = extra[i];
	memset(&opts[n], 0, sizeof(opts[n]));
	o->recipes_dir = cli_recipes_dir();
	o->lock = cli_lock_path();
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
		case 'R': o->outroot = optarg; break;
		case 'N': o->unsigned_ok = true; break;
		case 'K': o->sign_key = optarg; break;
		case 'C': o->commit = true; break;
		case 'a': o->author = optarg; break;
		case 'U': o->source_url = optarg; break;
		case 'O': o->offline = true; break;
		case 'F': o->fail_fast = true; break;
		case 'J': o->json = true; break;
		default:
			if (c != '?' && c != ':' && extra_fn) {
				if (extra_fn(c, optarg, ctx, e) < 0)
					return -1;
				break;
			}
			if (c == ':')
				return perr_set(e, "%s: option '%s' needs a value (see 'pare help %s')",
						argv[0], argv[optind - 1], argv[0]);
			return perr_set(e, "%s: unknown option '%s' (see 'pare help %s')",
					argv[0], argv[optind - 1], argv[0]);
		}
	}
	if (o->author && !o->commit)
		return perr_set(e, "%s: --author goes with --commit", argv[0]);
	if (o->json && strcmp(argv[0], "update"))
		return perr_set(e, "%s: unknown option '--json' (see 'pare help %s')", argv[0], argv[0]);
	return optind;
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
	int i, ret;

	if ((i = cli_update_parse(argc, argv, &o, NULL, NULL, NULL, e)) < 0)
		return -1;
	o.print = !o.json;
	o.errors = &errors;
	cli_recipe_files(argv + i, argc - i, &files);
	ret = rebuild_update(&files, &o, &rebuilt, e);
	if (o.json)
		update_json(o.outroot ? o.outroot : "out", &rebuilt, &errors);
	sv_clear(&rebuilt);
	sv_clear(&files);
	sv_clear(&errors);
	return ret < 0 ? -1 : 0;
}
