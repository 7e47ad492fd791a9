/*
 * sarif.c - SARIF 2.1.0 for GitHub code scanning (docs/cve.md "SARIF").
 *
 * GitHub reads: one run per category (runs[].automationDetails.id, the part
 * up to the last "/"), rules with shortDescription, fullDescription, help
 * and properties.security-severity (a string: >= 9.0 critical, 7.0-8.9
 * high, 4.0-6.9 medium, 0.1-3.9 low), results with a physical location and
 * partialFingerprints (the alert's identity across uploads).  Suppressed
 * findings carry a SARIF suppression, which code scanning shows as
 * dismissed; fixed and not-affected findings are results of kind "pass".
 */
#include "cve.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* security-severity of a finding: KEV first, then Debian's urgency, raised
 * to high when EPSS puts it in the top tenth. */
static double severity(const struct cve_finding *f)
{
	const char *u = f->urgency ? f->urgency : "";
	double s = 5.0;

	if (f->kev)
		return f->kev_ransomware ? 9.8 : 9.5;
	if (str_starts(u, "high"))
		s = 8.0;
	else if (str_starts(u, "medium"))
		s = 5.5;
	else if (str_starts(u, "low"))
		s = 3.0;
	else if (str_starts(u, "unimportant") || str_starts(u, "end-of-life"))
		s = 1.0;
	if (f->percentile >= 0.9 && s < 7.0)
		s = 7.0;
	return s;
}

static cJSON *add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v ? v : "");
}

static cJSON *text_obj(cJSON *o, const char *k, const char *text)
{
	cJSON *t = cJSON_AddObjectToObject(o, k);

	add_str(t, "text", text);
	return t;
}

/* The rule of CVE id (added to rules on first use); its index. */
static int rule_index(cJSON *rules, strvec *ids, const struct cve_finding *f)
{
	cJSON *rule, *props, *tags, *help;
	strbuf sb = STRBUF_INIT;
	char sev[16];

	for (size_t i = 0; i < ids->n; i++)
		if (!strcmp(ids->v[i], f->id))
			return (int)i;
	sv_push(ids, f->id);
	rule = cJSON_CreateObject();
	cJSON_AddItemToArray(rules, rule);
	add_str(rule, "id", f->id);
	add_str(rule, "name", "DebianSecurityTracker");
	sb_addf(&sb, "%s in Debian source package %s", f->id, f->source);
	text_obj(rule, "shortDescription", sb.buf);
	text_obj(rule, "fullDescription", f->description ? f->description : sb.buf);
	sb_reset(&sb);
	sb_addf(&sb, "%s affects the Debian source package %s. %s%s%s%s", f->id, f->source,
		f->fixed_version && strcmp(f->fixed_version, "0") ? "Debian fixed it in " : "",
		f->fixed_version && strcmp(f->fixed_version, "0") ? f->fixed_version : "",
		f->fixed_version && strcmp(f->fixed_version, "0") ?
			": rebuild the image (pare update) to ship the fix." : "",
		f->kev ? " It is in CISA's Known Exploited Vulnerabilities catalog." : "");
	help = text_obj(rule, "help", sb.buf);
	sb_reset(&sb);
	sb_addf(&sb, "**%s** in Debian source package `%s`.\n\n", f->id, f->source);
	if (f->fixed_version && strcmp(f->fixed_version, "0"))
		sb_addf(&sb, "Debian ships the fix in `%s`: rebuild the image (`pare update`).\n\n",
			f->fixed_version);
	if (f->kev)
		sb_adds(&sb, "Known exploited (CISA KEV).\n\n");
	sb_addf(&sb, "Debian security tracker: %s.\n", f->id);
	add_str(help, "markdown", sb.buf);
	props = cJSON_AddObjectToObject(rule, "properties");
	snprintf(sev, sizeof(sev), "%.1f", severity(f));
	add_str(props, "security-severity", sev);
	tags = cJSON_AddArrayToObject(props, "tags");
	cJSON_AddItemToArray(tags, cJSON_CreateString("security"));
	cJSON_AddItemToArray(tags, cJSON_CreateString("vulnerability"));
	if (f->kev)
		cJSON_AddItemToArray(tags, cJSON_CreateString("known-exploited"));
	sb_release(&sb);
	return (int)ids->n - 1;
}

static const char *level_of(const struct cve_finding *f)
{
	switch (f->cls) {
	case CVE_FIXABLE:
		return "error";
	case CVE_OPEN:
	case CVE_SUPPRESSED:
		return "warning";
	case CVE_UNDETERMINED:
		return "note";
	case CVE_FIXED:
	case CVE_NOT_AFFECTED:
		break;
	}
	return "none";
}

static void add_result(cJSON *results, cJSON *rules, strvec *ids, const struct cve_subject *s,
		       const struct cve_finding *f)
{
	cJSON *res = cJSON_CreateObject(), *loc, *phys, *art, *fp, *props;
	strbuf sb = STRBUF_INIT;
	char hex[SHA256_HEX_LEN + 1], *action = cve_finding_action(f);
	int idx = rule_index(rules, ids, f);

	cJSON_AddItemToArray(results, res);
	add_str(res, "ruleId", f->id);
	cJSON_AddNumberToObject(res, "ruleIndex", idx);
	if (f->cls == CVE_FIXED || f->cls == CVE_NOT_AFFECTED)
		add_str(res, "kind", "pass");
	add_str(res, "level", level_of(f));
	sb_addf(&sb, "%s in %s %s (%s): %s", f->id, f->source, f->installed ? f->installed : "?",
		cve_class_name(f->cls), action);
	text_obj(res, "message", sb.buf);
	loc = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "locations"), loc);
	phys = cJSON_AddObjectToObject(loc, "physicalLocation");
	art = cJSON_AddObjectToObject(phys, "artifactLocation");
	if (s->recipe_file || s->name[0] != '/') {
		add_str(art, "uri", s->recipe_file ? s->recipe_file : s->name);
		add_str(art, "uriBaseId", "%SRCROOT%");
	} else {
		char *uri = xasprintf("file://%s", s->name);

		add_str(art, "uri", uri);
		free(uri);
	}
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(phys, "region"), "startLine", 1);
	/* the alert's identity: subject, CVE, source package (not the
	 * versions: a rebuild closes the same alert) */
	sb_reset(&sb);
	sb_addf(&sb, "%s\n%s\n%s\n%s", s->name, s->arch ? s->arch : "", f->id, f->source);
	sha256_hex(sb.buf, sb.len, hex);
	fp = cJSON_AddObjectToObject(res, "partialFingerprints");
	add_str(fp, "pareFinding/v1", hex);
	if (f->cls == CVE_SUPPRESSED) {
		cJSON *sup = cJSON_CreateObject();

		cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "suppressions"), sup);
		add_str(sup, "kind", "external");
		add_str(sup, "status", "accepted");
		sb_reset(&sb);
		sb_addf(&sb, "VEX %s%s%s%s%s", f->vex_status ? f->vex_status : "not_affected",
			f->vex_justification ? ": " : "", f->vex_justification ? f->vex_justification : "",
			f->vex_statement ? ": " : "", f->vex_statement ? f->vex_statement : "");
		add_str(sup, "justification", sb.buf);
	}
	props = cJSON_AddObjectToObject(res, "properties");
	add_str(props, "class", cve_class_name(f->cls));
	add_str(props, "source", f->source);
	add_str(props, "installed", f->installed);
	if (f->fixed_version)
		add_str(props, "fixedVersion", f->fixed_version);
	if (f->open_reason)
		add_str(props, "openReason", f->open_reason);
	if (f->urgency)
		add_str(props, "urgency", f->urgency);
	cJSON_AddBoolToObject(props, "kev", f->kev);
	if (f->epss >= 0)
		cJSON_AddNumberToObject(props, "epssProbability", f->epss);
	if (f->percentile >= 0)
		cJSON_AddNumberToObject(props, "epssPercentile", f->percentile);
	if (f->nbinaries) {
		cJSON *b = cJSON_AddArrayToObject(props, "binaries");

		for (size_t i = 0; i < f->nbinaries; i++)
			cJSON_AddItemToArray(b, cJSON_CreateString(f->binaries[i]));
	}
	free(action);
	sb_release(&sb);
}

int cve_write_sarif(const struct cve_report *r, strbuf *out, perr *e)
{
	cJSON *doc = cJSON_CreateObject(), *runs;
	char *txt;

	add_str(doc, "$schema", SARIF_SCHEMA);
	add_str(doc, "version", "2.1.0");
	runs = cJSON_AddArrayToObject(doc, "runs");
	for (size_t i = 0; i < r->nsubjects; i++) {
		const struct cve_subject *s = &r->subjects[i];
		cJSON *run = cJSON_CreateObject(), *drv, *rules, *results, *props;
		strvec ids = STRVEC_INIT;
		char *cat;

		cJSON_AddItemToArray(runs, run);
		drv = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
		add_str(drv, "name", "pare");
		add_str(drv, "version", PARE_VERSION);
		add_str(drv, "semanticVersion", PARE_VERSION);
		rules = cJSON_AddArrayToObject(drv, "rules");
		/* the category: one per subject and arch, so that GitHub keeps
		 * each image's alerts apart */
		cat = xasprintf("pare-cve/%s/%s/", s->name, s->arch ? s->arch : "any");
		add_str(cJSON_AddObjectToObject(run, "automationDetails"), "id", cat);
		free(cat);
		if (s->recipe_file || s->name[0] != '/') {
			cJSON *root = cJSON_AddObjectToObject(
				cJSON_AddObjectToObject(run, "originalUriBaseIds"), "%SRCROOT%");

			text_obj(root, "description", "the directory pare ran in (the recipes' repository)");
		}
		results = cJSON_AddArrayToObject(run, "results");
		for (size_t k = 0; k < r->nfindings; k++)
			if (r->findings[k].subject == i)
				add_result(results, rules, &ids, s, &r->findings[k]);
		props = cJSON_AddObjectToObject(run, "properties");
		add_str(props, "subject", s->name);
		if (s->arch)
			add_str(props, "arch", s->arch);
		if (s->codename)
			add_str(props, "codename", s->codename);
		if (s->digest)
			add_str(props, "digest", s->digest);
		if (r->tracker_date)
			add_str(props, "trackerDate", r->tracker_date);
		if (r->kev_date)
			add_str(props, "kevDate", r->kev_date);
		if (r->epss_date)
			add_str(props, "epssDate", r->epss_date);
		if (r->stale)
			add_str(props, "stale", r->stale);
		sv_clear(&ids);
	}
	txt = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!txt)
		return perr_set(e, "could not print the SARIF document");
	sb_adds(out, txt);
	sb_addc(out, '\n');
	free(txt);
	return 0;
}
