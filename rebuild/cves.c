/*
 * cves.c - the CVEs a rebuild closes (pare check / plan --json, update
 * --commit's trailers; docs/cve.md "Into the pipeline").
 *
 * The locked closure (recipes.lock) and the fresh one (today's resolution)
 * of every changed recipe are matched against the synced index together;
 * a fixable finding of the locked closure is closed when the fresh closure
 * of the same recipe and arch no longer has it exposed (its source is at or
 * above fixed_version, or gone).  The order is cve/'s one priority order.
 */
#define _GNU_SOURCE
#include "rebuild.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rebuild_cves_release(struct rebuild_cves *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].new_version);
	free(c->v);
	cve_report_release(&c->report);
	memset(c, 0, sizeof(*c));
}

static bool exposed(enum cve_class cls)
{
	return cls == CVE_FIXABLE || cls == CVE_OPEN || cls == CVE_UNDETERMINED;
}

/* The lowest version of source in subject s (NULL: none). */
static const char *lowest_source_version(const struct cve_subject *s, const char *source)
{
	const char *low = NULL;

	for (size_t i = 0; i < s->npkgs; i++)
		if (!strcmp(s->pkgs[i].source, source) &&
		    (!low || resolver_vercmp(s->pkgs[i].source_version, low) < 0))
			low = s->pkgs[i].source_version;
	return low;
}

int rebuild_plan_cves(const struct rebuild_plan *p, struct rebuild_cves *out, perr *e)
{
	struct cve_config c = { 0 };
	struct cve_subject *subs = NULL;
	size_t nsubs = 0, nold = 0, alloc = 0;
	bool *fresh_at = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!(out->synced = cve_synced()))
		return 0;
	if (cve_config_load(&c, e) < 0)
		return -1;
	/* the locked closures first, then the fresh ones of the same recipes */
	for (int fresh = 0; fresh < 2; fresh++) {
		for (size_t i = 0; i < p->n; i++) {
			const struct rebuild_item *it = &p->items[i];
			size_t from = nsubs;

			if (!it->old || !it->ch.n)
				continue;
			cve_recipe_subjects(fresh ? &it->fresh : it->old, ".", &subs, &nsubs);
			/* the recipe's own file (its vex: statements) */
			for (size_t s = from; s < nsubs; s++) {
				free(subs[s].recipe_file);
				subs[s].recipe_file = xstrdup(it->r->path);
			}
		}
		if (!fresh)
			nold = nsubs;
	}
	/* the subjects move into the report, also when matching fails */
	if (cve_match(&c, subs, nsubs, 0, &out->report, e) < 0)
		goto out;
	if (cve_vex_apply_recipes(&out->report, e) < 0)
		goto out;
	/* fresh_at[k]: finding k is an exposed one of a fresh subject */
	fresh_at = xcalloc(out->report.nfindings + 1, sizeof(*fresh_at));
	for (size_t k = 0; k < out->report.nfindings; k++) {
		const struct cve_finding *f = &out->report.findings[k];
		fresh_at[k] = f->subject >= nold && exposed(f->cls);
	}
	for (size_t k = 0; k < out->report.nfindings; k++) {
		const struct cve_finding *f = &out->report.findings[k];
		const struct cve_subject *os = &out->report.subjects[f->subject], *fs = NULL;
		bool still = false;

		if (f->subject >= nold || f->cls != CVE_FIXABLE)
			continue;
		for (size_t s = nold; s < out->report.nsubjects; s++)
			if (!strcmp(out->report.subjects[s].name, os->name) &&
			    !strcmp(out->report.subjects[s].arch, os->arch))
				fs = &out->report.subjects[s];
		for (size_t j = 0; fs && j < out->report.nfindings && !still; j++) {
			const struct cve_finding *g = &out->report.findings[j];
			still = fresh_at[j] && &out->report.subjects[g->subject] == fs &&
				!strcmp(g->id, f->id) && !strcmp(g->source, f->source);
		}
		if (still)
			continue;
		ALLOC_GROW(out->v, out->n + 1, alloc);
		out->v[out->n].f = f;
		out->v[out->n].recipe = os->name;
		out->v[out->n].arch = os->arch;
		const char *nv = fs ? lowest_source_version(fs, f->source) : NULL;
		out->v[out->n].new_version = nv ? xstrdup(nv) : NULL;
		out->n++;
	}
	ret = 0;
out:
	free(fresh_at);
	cve_config_release(&c);
	if (ret < 0)
		rebuild_cves_release(out);
	return ret;
}

/* ---- JSON ------------------------------------------------------------------------ */

struct cJSON *rebuild_cves_feeds_json(const struct rebuild_cves *c)
{
	cJSON *o = cJSON_CreateObject(), *f;

	cJSON_AddBoolToObject(o, "synced", c->synced);
	f = cJSON_AddObjectToObject(o, "feeds");
	json_add_str_or_null(f, "tracker", c->report.tracker_date);
	json_add_str_or_null(f, "kev", c->report.kev_date);
	json_add_str_or_null(f, "epss", c->report.epss_date);
	json_add_str_or_null(o, "stale", c->synced ? c->report.stale
					     : "no CVE feeds synced: the fixes a rebuild brings are unknown; run 'pare cve sync'");
	return o;
}

void rebuild_cve_risk_json(struct cJSON *o, const struct cve_finding *f)
{
	cJSON *k;

	if (f->kev) {
		k = cJSON_AddObjectToObject(o, "kev");
		json_add_str_or_null(k, "date_added", f->kev_added);
		json_add_str_or_null(k, "due_date", f->kev_due);
		cJSON_AddBoolToObject(k, "ransomware", f->kev_ransomware);
	} else {
		cJSON_AddNullToObject(o, "kev");
	}
	if (f->epss >= 0) {
		k = cJSON_AddObjectToObject(o, "epss");
		cJSON_AddNumberToObject(k, "probability", f->epss);
		cJSON_AddNumberToObject(k, "percentile", f->percentile);
	} else {
		cJSON_AddNullToObject(o, "epss");
	}
	json_add_str_or_null(o, "urgency", f->urgency);
}

static cJSON *fix_json(const struct rebuild_fix *x)
{
	const struct cve_finding *f = x->f;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "arch", x->arch);
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "source", f->source);
	cJSON_AddStringToObject(o, "installed", f->installed);
	json_add_str_or_null(o, "new_version", x->new_version);
	json_add_str_or_null(o, "fixed_version", f->fixed_version);
	rebuild_cve_risk_json(o, f);
	return o;
}

/* The rank of recipe among the recipes with a fix, by their first (most
 * urgent) fix: 1 is the most urgent; 0 when it has none. */
static int recipe_rank(const struct rebuild_cves *c, const char *recipe)
{
	strvec seen = STRVEC_INIT;
	int rank = 0;

	for (size_t i = 0; i < c->n && !rank; i++) {
		if (sv_contains(&seen, c->v[i].recipe))
			continue;
		sv_push(&seen, c->v[i].recipe);
		if (!strcmp(c->v[i].recipe, recipe))
			rank = (int)seen.n;
	}
	sv_clear(&seen);
	return rank;
}

struct cJSON *rebuild_cves_recipe_json(const struct rebuild_cves *c, const char *recipe, bool named)
{
	cJSON *o, *arr, *top = NULL;
	strvec ids = STRVEC_INIT, kev = STRVEC_INIT, ransom = STRVEC_INIT;
	int rank;

	if (!c->synced)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (named)
		cJSON_AddStringToObject(o, "recipe", recipe);
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < c->n; i++) {
		const struct rebuild_fix *x = &c->v[i];
		if (strcmp(x->recipe, recipe))
			continue;
		if (!top)
			top = fix_json(x);
		if (!sv_contains(&ids, x->f->id))
			sv_push(&ids, x->f->id);
		if (x->f->kev && !sv_contains(&kev, x->f->id))
			sv_push(&kev, x->f->id);
		if (x->f->kev_ransomware && !sv_contains(&ransom, x->f->id))
			sv_push(&ransom, x->f->id);
		cJSON_AddItemToArray(arr, fix_json(x));
	}
	cJSON_AddNumberToObject(o, "count", (double)ids.n);
	cJSON_AddNumberToObject(o, "kev", (double)kev.n);
	cJSON_AddNumberToObject(o, "kev_ransomware", (double)ransom.n);
	if ((rank = recipe_rank(c, recipe)))
		cJSON_AddNumberToObject(o, "priority", rank);
	else
		cJSON_AddNullToObject(o, "priority");
	if (top)
		cJSON_AddItemToObject(o, "highest", top);
	else
		cJSON_AddNullToObject(o, "highest");
	cJSON_AddItemToObject(o, "fixes", arr);
	sv_clear(&ids), sv_clear(&kev), sv_clear(&ransom);
	return o;
}

/* ---- commit trailers --------------------------------------------------------------- */

void rebuild_cves_trailers(const struct rebuild_cves *c, const strvec *recipes, strbuf *out)
{
	if (!c->synced) {
		sb_adds(out, REBUILD_TRAILER_FEEDS ": not synced\n");
		return;
	}
	sb_addf(out, REBUILD_TRAILER_FEEDS ": tracker %s\n",
		c->report.tracker_date ? c->report.tracker_date : "unknown");
	for (size_t i = 0; i < c->n; i++) {
		const struct rebuild_fix *x = &c->v[i];
		if (!sv_contains(recipes, x->recipe))
			continue;
		sb_addf(out, REBUILD_TRAILER_FIXED ": %s %s %s %s %s -> %s%s\n", x->f->id, x->recipe,
			x->arch, x->f->source, x->f->installed,
			x->new_version ? x->new_version : "(removed)",
			x->f->kev_ransomware ? " kev-ransomware" : x->f->kev ? " kev" : "");
	}
}
