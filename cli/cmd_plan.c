/*
 * cmd_plan.c - pare plan [--json | --format list|json|gitlab] [--offline]
 *                [--write-lock] [RECIPE…]
 *
 * The recipe/arch pairs that need a rebuild: one "RECIPE ARCH" per line, or
 * as a CI matrix {"include":[{"recipe":"…","arch":"…"}, …]} (a GitHub
 * Actions matrix) with "cve": the feeds and per recipe the CVEs its rebuild
 * closes, or a GitLab CI child pipeline (rebuild/gitlab.c; docs/ci.md); in
 * every form the recipes whose rebuild closes the most urgent CVE first.
 * An arch needs a rebuild when its closure changed, or every arch of a
 * recipe when the recipe itself changed or is new.  With
 * --write-lock, recipes.lock gets the new entries of exactly those recipes
 * (the others are kept as they are), so the matrix jobs build what was
 * planned.
 */
#include "cli.h"
#include "../rebuild/rebuild.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool arch_due(const struct rebuild_item *it, const char *arch)
{
	for (size_t k = 0; k < it->ch.n; k++) {
		const struct lock_change *c = &it->ch.v[k];
		if (!c->arch || (!strcmp(c->arch, arch) && c->kind != LC_ARCH_REMOVED))
			return true;
	}
	return false;
}

const struct cli_opt cli_plan_opts[] = {
	{ 'J', "json", NULL, 0, "the matrix as JSON ({\"include\": [{recipe, arch}]}) on stdout" },
	{ 'f', "format", "list|json|gitlab", 0,
	  "list (RECIPE ARCH per line, the default), json (= --json) or a GitLab CI child pipeline" },
	{ 'W', "write-lock", NULL, 0, "write the re-resolved recipes.lock as well" },
	{ 'O', "offline", NULL, 0, "the cached indexes, no network" },
	{ 0 },
};

int cmd_plan(int argc, char **argv, perr *e)
{
	bool json = false, offline = false, write_lock = false, gitlab = false;
	strvec jr = STRVEC_INIT, ja = STRVEC_INIT; /* gitlab: the pairs */
	strbuf yml = STRBUF_INIT;
	struct rebuild_plan p = { 0 };
	struct rebuild_cves cv = { 0 };
	struct lock cur = { 0 };
	strvec files = STRVEC_INIT;
	cJSON *j = NULL, *inc;
	size_t *order = NULL;
	struct cli_args ca;
	int c, ret = -1, lfd = -1;

	cli_args_init(&ca, argc, argv, cli_plan_opts);
	while ((c = cli_args_next(&ca, e)) > 0) {
		switch (c) {
		case 'J': json = true; break;
		case 'O': offline = true; break;
		case 'W': write_lock = true; break;
		case 'f':
			json = gitlab = false;
			if (!strcmp(ca.val, "json"))
				json = true;
			else if (!strcmp(ca.val, "gitlab"))
				gitlab = true;
			else if (strcmp(ca.val, "list"))
				return perr_set(e, "plan: --format must be list, json or gitlab, not '%s'", ca.val);
			break;
		}
	}
	if (c < 0)
		return -1;
	cli_recipe_files(argv + 1, ca.nops, &files);
	if (rebuild_plan_make(&files, cli_recipes_dir(), cli_lock_path(), offline, true, &p, e) < 0)
		goto out;
	if (rebuild_plan_cves(&p, &cv, e) < 0)
		goto out;
	j = cJSON_CreateObject();
	inc = cJSON_AddArrayToObject(j, "include");
	/* the recipes whose rebuild closes the most urgent CVE first (KEV
	 * first: cve/'s order), then the others as they come */
	order = xcalloc(p.n + 1, sizeof(*order));
	for (size_t k = 0; k < p.n; k++)
		order[k] = k;
	for (size_t i = 0, w = 0; i < cv.n; i++)
		for (size_t k = w; k < p.n; k++)
			if (!strcmp(p.items[order[k]].r->name, cv.v[i].recipe)) {
				size_t t = order[k];
				memmove(order + w + 1, order + w, (k - w) * sizeof(*order));
				order[w++] = t;
				break;
			}
	for (size_t q = 0; q < p.n; q++) {
		const struct rebuild_item *it = &p.items[order[q]];
		for (size_t a = 0; a < it->fresh.narchs; a++) {
			const char *arch = it->fresh.archs[a].arch;
			if (!arch_due(it, arch))
				continue;
			if (json) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "recipe", it->r->name);
				cJSON_AddStringToObject(o, "arch", arch);
				cJSON_AddItemToArray(inc, o);
			} else if (gitlab) {
				sv_push(&jr, it->r->name);
				sv_push(&ja, arch);
			} else {
				printf("%s %s\n", it->r->name, arch);
			}
		}
	}
	if (gitlab) {
		if (rebuild_plan_gitlab(&jr, &ja, &yml, e) < 0)
			goto out;
		fwrite(yml.buf, 1, yml.len, stdout);
	}
	if (json) {
		cJSON *cj = rebuild_cves_feeds_json(&cv), *rs;
		char *s;
		/* not synced: null, never an empty list that reads as "nothing to fix" */
		rs = cv.synced ? cJSON_AddArrayToObject(cj, "recipes")
			       : cJSON_AddNullToObject(cj, "recipes");
		for (size_t q = 0; q < p.n; q++) {
			const struct rebuild_item *it = &p.items[order[q]];
			cJSON *r;
			if (!cv.synced || !it->ch.n)
				continue;
			r = rebuild_cves_recipe_json(&cv, it->r->name, true);
			cJSON_AddItemToArray(rs, r);
		}
		cJSON_AddItemToObject(j, "cve", cj);
		s = cJSON_PrintUnformatted(j);
		printf("%s\n", s);
		free(s);
	}
	if (write_lock && rebuild_plan_changed(&p)) {
		/* merged into the lock as it is now, under the writers' lock */
		if ((lfd = lock_acquire(cli_lock_path(), false, e)) < 0 ||
		    lock_read(cli_lock_path(), &cur, true, e) < 0)
			goto out;
		for (size_t k = 0; k < p.n; k++)
			if (p.items[k].ch.n)
				lock_put(&cur, &p.items[k].fresh);
		if (lock_write(cli_lock_path(), &cur, e) < 0)
			goto out;
		note("wrote %s", cli_lock_path());
	}
	ret = 0;
out:
	free(order);
	rebuild_cves_release(&cv);
	lock_unlock(lfd);
	lock_release(&cur);
	cJSON_Delete(j);
	rebuild_plan_release(&p);
	sv_clear(&files);
	sv_clear(&jr);
	sv_clear(&ja);
	sb_release(&yml);
	return ret;
}
