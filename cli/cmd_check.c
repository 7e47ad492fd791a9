/*
 * cmd_check.c - pare check [--offline] [--json] [--fail-fast] [RECIPE…]
 *
 * Today's verified indexes against recipes.lock: every package added,
 * removed or changed, per recipe and arch.  Writes nothing.  Exit 0 when
 * nothing changed, PARE_EXIT_CHANGED (3) when something did, 2 on error
 * (an index rollback included).  A recipe that does not load or resolve is
 * reported and the others are compared; errors win: exit 2, and the report
 * lists the changes of the others as well (docs/update.md).
 */
#include "cli.h"
#include "../rebuild/rebuild.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
	[LC_NEW_RECIPE] = "new-recipe", [LC_GONE_RECIPE] = "gone-recipe",
	[LC_RECIPE] = "recipe-changed", [LC_ARCH_ADDED] = "arch-added",
	[LC_ARCH_REMOVED] = "arch-removed", [LC_ADDED] = "added", [LC_REMOVED] = "removed",
	[LC_CHANGED] = "changed", [LC_DEB_CHANGED] = "deb-changed",
};

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

/* {"changed": bool, "recipes": [{"recipe", "changed", "changes": [{"kind",
 * "arch", "package", "old_version", "new_version"}], "cves"}], "cve": {…},
 * "errors": [{"recipe", "error"}]}: keys in this order, recipes sorted by
 * name, changes in lock_diff order; "cves" the CVEs the rebuild closes and
 * "cve" the feeds they come from (rebuild_cves_*_json, docs/cve.md);
 * "errors" (recipes that did not load or resolve, in recipe file order)
 * only when there are some. */
static char *check_json(const struct rebuild_plan *p, const struct rebuild_cves *cv)
{
	cJSON *j = cJSON_CreateObject(), *arr;
	strvec names = STRVEC_INIT;
	char *s;

	cJSON_AddBoolToObject(j, "changed", rebuild_plan_changed(p));
	arr = cJSON_AddArrayToObject(j, "recipes");
	for (size_t i = 0; i < p->n; i++)
		sv_push(&names, p->items[i].r->name);
	for (size_t i = 0; i < p->gone.n; i++)
		sv_push(&names, p->gone.v[i]);
	sv_sort(&names);
	for (size_t n = 0; n < names.n; n++) {
		cJSON *r = cJSON_CreateObject(), *ch;
		const struct rebuild_item *it = NULL;
		for (size_t i = 0; i < p->n; i++)
			if (!strcmp(p->items[i].r->name, names.v[n]))
				it = &p->items[i];
		cJSON_AddStringToObject(r, "recipe", names.v[n]);
		cJSON_AddBoolToObject(r, "changed", !it || it->ch.n > 0);
		ch = cJSON_AddArrayToObject(r, "changes");
		if (!it) {
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "kind", kind_names[LC_GONE_RECIPE]);
			cJSON_AddItemToArray(ch, c);
		}
		for (size_t k = 0; it && k < it->ch.n; k++) {
			const struct lock_change *lc = &it->ch.v[k];
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "kind", kind_names[lc->kind]);
			add_str(c, "arch", lc->arch);
			add_str(c, "package", lc->package);
			if (lc->kind == LC_DEB_CHANGED) {
				add_str(c, "version", lc->version);
				add_str(c, "old_sha256", lc->old_version);
				add_str(c, "new_sha256", lc->new_version);
			} else {
				add_str(c, "old_version", lc->old_version);
				add_str(c, "new_version", lc->new_version);
			}
			cJSON_AddItemToArray(ch, c);
		}
		cJSON_AddItemToObject(r, "cves", rebuild_cves_recipe_json(cv, names.v[n], false));
		cJSON_AddItemToArray(arr, r);
	}
	cJSON_AddItemToObject(j, "cve", rebuild_cves_feeds_json(cv));
	if (p->failed.n) {
		arr = cJSON_AddArrayToObject(j, "errors");
		for (size_t i = 0; i < p->failed.n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "recipe", p->failed.v[i]);
			cJSON_AddStringToObject(o, "error", p->errors.v[i]);
			cJSON_AddItemToArray(arr, o);
		}
	}
	s = cJSON_Print(j);
	cJSON_Delete(j);
	sv_clear(&names);
	return s;
}

const struct cli_opt cli_check_opts[] = {
	{ 'J', "json", NULL, 0, "what changed, per recipe, and the CVEs a rebuild fixes, as JSON on stdout" },
	{ 'O', "offline", NULL, 0, "the cached indexes, no network" },
	{ 'F', "fail-fast", NULL, 0, "stop at the first recipe that does not load or resolve" },
	{ 0 },
};

int cmd_check(int argc, char **argv, perr *e)
{
	bool json = false, offline = false, fail_fast = false;
	struct rebuild_plan p = { 0 };
	struct rebuild_cves cv = { 0 };
	strvec files = STRVEC_INIT;
	struct cli_args a;
	int opt, ret = -1;

	cli_args_init(&a, argc, argv, cli_check_opts);
	while ((opt = cli_args_next(&a, e)) > 0) {
		switch (opt) {
		case 'J': json = true; break;
		case 'O': offline = true; break;
		case 'F': fail_fast = true; break;
		}
	}
	if (opt < 0)
		return -1;
	cli_recipe_files(argv + 1, a.nops, &files);
	/* nothing to compare with is an error, not "a rebuild is due" */
	if (!path_exists(cli_lock_path())) {
		perr_set(e, "%s does not exist: run 'pare lock' first", cli_lock_path());
		goto out;
	}
	if (rebuild_plan_make(&files, cli_recipes_dir(), cli_lock_path(), offline, fail_fast, &p, e) < 0)
		goto out;
	for (size_t k = 0; k < p.errors.n; k++)
		cli_report(p.errors.v[k]);
	if (json) {
		char *s;
		if (rebuild_plan_cves(&p, &cv, e) < 0)
			goto out;
		s = check_json(&p, &cv);
		printf("%s\n", s);
		free(s);
	} else {
		for (size_t k = 0; k < p.n; k++)
			for (size_t c = 0; c < p.items[k].ch.n; c++) {
				char *line = lock_change_str(&p.items[k].ch.v[c]);
				printf("%s\n", line);
				free(line);
			}
		for (size_t k = 0; k < p.gone.n; k++)
			printf("%s: in recipes.lock but no longer a recipe\n", p.gone.v[k]);
	}
	if (rebuild_plan_changed(&p))
		note("a rebuild is due: run 'pare update'");
	else if (!p.failed.n)
		note("up to date");
	ret = rebuild_plan_changed(&p) ? PARE_EXIT_CHANGED : 0;
	/* errors win over "a rebuild is due": exit 2, the changes listed above */
	if (p.failed.n) {
		perr_set(e, "check: %zu of %zu recipe%s failed", p.failed.n, p.nrecipes,
			 p.nrecipes == 1 ? "" : "s");
		ret = -1;
	}
out:
	rebuild_cves_release(&cv);
	rebuild_plan_release(&p);
	sv_clear(&files);
	return ret;
}
