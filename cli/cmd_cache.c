/*
 * cmd_cache.c - pare cache du | prune [--older-than DAYS] [--dry-run]: the
 * flags and the report; the collector is common/cache.c (docs/cache.md).
 * prune --remote REF: the shared layer cache in a registry (rebuild/remote.c).
 */
#include "cli.h"
#include "../builder/builder.h"
#include "../rebuild/rebuild.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line per kind and the total: the exact bytes, then for people (the
 * fourth field stays the byte count scripts read). */
static void print_tallies(const char *what, const struct cache_tally *t)
{
	struct cache_tally total = { 0 };
	char hs[16];

	for (size_t k = 0; k < CACHE_NKINDS; k++) {
		printf("%s%-8s %8zu entries %14" PRIu64 " bytes %11s\n", what, t[k].kind,
		       t[k].n, t[k].bytes, cli_size(t[k].bytes, hs));
		total.n += t[k].n;
		total.bytes += t[k].bytes;
	}
	printf("%s%-8s %8zu entries %14" PRIu64 " bytes %11s\n", what, "total", total.n,
	       total.bytes, cli_size(total.bytes, hs));
}

/* du --json: {"cache_dir", "kinds": [{"kind", "path", "entries", "bytes"}],
 * "total": {"entries", "bytes"}}, kinds in the table's order. */
static void print_tallies_json(const char *dir, const struct cache_tally *t)
{
	cJSON *j = cJSON_CreateObject(), *arr, *tot;
	struct cache_tally total = { 0 };
	char *s;

	cJSON_AddStringToObject(j, "cache_dir", dir);
	arr = cJSON_AddArrayToObject(j, "kinds");
	for (size_t k = 0; k < CACHE_NKINDS; k++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", t[k].kind);
		cJSON_AddStringToObject(o, "path", t[k].path);
		cJSON_AddNumberToObject(o, "entries", (double)t[k].n);
		cJSON_AddNumberToObject(o, "bytes", (double)t[k].bytes);
		cJSON_AddItemToArray(arr, o);
		total.n += t[k].n;
		total.bytes += t[k].bytes;
	}
	tot = cJSON_AddObjectToObject(j, "total");
	cJSON_AddNumberToObject(tot, "entries", (double)total.n);
	cJSON_AddNumberToObject(tot, "bytes", (double)total.bytes);
	s = cJSON_Print(j);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
}

static int parse_days(const char *s, int64_t *days, perr *e)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 100000)
		return perr_set(e, "cache prune: --older-than wants a number of days, not '%s'", s);
	*days = v;
	return 0;
}

const struct cli_opt cli_cache_opts[] = {
	{ 'J', "json", NULL, 0, "du: the sizes as JSON on stdout" },
	{ 'o', "older-than", "DAYS", 0, "prune: drop the roots of builds and locks older than DAYS (default 30)" },
	{ 'n', "dry-run", NULL, 0, "prune: say what would be removed, remove nothing" },
	{ 'r', "remote", "REF", 0,
	  "prune: the layer cache in repository REF instead: what no image of recipes.lock uses" },
	CLI_OPTS_INCLUDE(cli_registry_opts),
	{ 0 },
};

/* prune --remote REF: the keys every image of recipes.lock uses (gzip and
 * zstd layers, the default layer count), then the registry's other
 * pare-layer-KEY entries deleted. */
static int prune_remote(const char *ref, const struct registry_opts *reg, bool dry_run, perr *e)
{
	struct lock l = { 0 };
	strvec keep = STRVEC_INIT, gone = STRVEC_INIT;
	bool loaded = false;
	size_t kept = 0;
	int ret = -1, r;

	if (lock_read(cli_lock_path(), &l, false, e) < 0)
		goto out;
	loaded = true;
	for (size_t i = 0; i < l.nrecipes; i++) {
		char *path = cli_recipe_path(l.recipes[i].name);
		struct recipe *rc = recipe_load(path, e);

		free(path);
		if (!rc) {
			perr_prefix(e, "cache prune --remote: the keys of %s's layers need its recipe",
				    l.recipes[i].name);
			goto out;
		}
		builder_layer_keys(rc, &l.recipes[i], "gzip", 0, &keep);
		builder_layer_keys(rc, &l.recipes[i], "zstd", 0, &keep);
		recipe_free(rc);
	}
	r = rebuild_cache_prune_remote(ref, reg, &keep, dry_run, &gone, &kept, e);
	for (size_t i = 0; i < gone.n; i++)
		printf("%s %s:%s\n", dry_run ? "would remove" : "removed", ref, gone.v[i]);
	if (r < 0)
		goto out;
	if (r == 1)
		note("%s: %zu layer cache entr%s %s, %zu in use kept", ref, gone.n,
		     gone.n == 1 ? "y" : "ies", dry_run ? "would go" : "removed", kept);
	ret = r == 1 ? 0 : -1;
out:
	if (loaded)
		lock_release(&l);
	sv_clear(&keep);
	sv_clear(&gone);
	return ret;
}

static int cache_cmd(int argc, char **argv, struct cli_registry *regp, perr *e);

int cmd_cache(int argc, char **argv, perr *e)
{
	struct cli_registry reg = { 0 };
	int ret = cache_cmd(argc, argv, &reg, e);

	cli_registry_release(&reg);
	return ret;
}

static int cache_cmd(int argc, char **argv, struct cli_registry *regp, perr *e)
{
	struct cache_report r;
	int64_t days = 30;
	bool json = false, older = false, prune, dry_run = false;
	const char *remote = NULL;
	struct cli_registry *reg = regp;
	struct cli_args a;
	int c, ret;

	cli_args_init(&a, argc, argv, cli_cache_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		switch (c) {
		case 'o':
			if (parse_days(a.val, &days, e) < 0)
				return -1;
			older = true;
			break;
		case 'n': dry_run = true; break;
		case 'J': json = true; break;
		case 'r': remote = a.val; break;
		default: cli_registry_opt(reg, c, a.val); break;
		}
	}
	if (c < 0)
		return -1;
	if (!a.nops)
		return cli_usage_error(e, "cache", "missing subcommand");
	if (strcmp(argv[1], "du") && strcmp(argv[1], "prune"))
		return cli_usage_error(e, "cache", "unknown subcommand '%s'", argv[1]);
	prune = !strcmp(argv[1], "prune");
	if (a.nops > 1)
		return cli_usage_error(e, "cache", "%s: unexpected argument '%s'", argv[1], argv[2]);
	if (prune && json)
		return perr_set(e, "cache prune: --json goes with du (see 'pare help cache')");
	if (!prune && (older || dry_run))
		return perr_set(e, "cache du: --%s goes with prune (see 'pare help cache')",
				older ? "older-than" : "dry-run");
	if (remote) {
		if (!prune || older)
			return perr_set(e, "cache: --remote goes with prune, without --older-than "
				       "(see 'pare help cache')");
		return cli_registry_finish(reg, e) < 0 ? -1 : prune_remote(remote, &reg->o, dry_run, e);
	}
	ret = prune ? cache_prune(days, dry_run, &r, e) : cache_du(&r, e);
	/* what was removed before an error was removed: say so */
	for (size_t i = 0; i < r.pulls.n; i++)
		printf("%s\n", r.pulls.v[i]);
	if (ret == 0 && !prune && json)
		print_tallies_json(r.dir, r.kinds);
	else if (ret == 0 && !prune)
		print_tallies("", r.kinds);
	else if (ret == 0)
		print_tallies(dry_run ? "would remove " : "removed ", r.kinds);
	cache_report_release(&r);
	return ret < 0 ? -1 : 0;
}
