/*
 * report.c - a cve_report for people (a table) and for programs (pare-cve/1
 * JSON, docs/cve.md), and the --fail-on gate.
 */
#include "cve_int.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* fixable and open findings are what a subject is exposed to */
static bool affecting(const struct cve_finding *f)
{
	return f->cls == CVE_FIXABLE || f->cls == CVE_OPEN || f->cls == CVE_UNDETERMINED;
}

struct counts {
	size_t cls[CVE_SUPPRESSED + 1];
	size_t kev, ransomware, epss_high, epss_mid, epss_low, epss_none;
};

/* EPSS bands by probability: >= 10 %, >= 1 %, below, no score. */
static void count(const struct cve_report *r, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct cve_finding *f = &r->findings[i];

		c->cls[f->cls]++;
		if (!affecting(f))
			continue;
		c->kev += f->kev;
		c->ransomware += f->kev_ransomware;
		if (f->epss < 0)
			c->epss_none++;
		else if (f->epss >= 0.1)
			c->epss_high++;
		else if (f->epss >= 0.01)
			c->epss_mid++;
		else
			c->epss_low++;
	}
}

enum { C_IMAGE, C_CVE, C_SOURCE, C_INSTALLED, C_FIXED, C_CLASS, C_KEV, C_EPSS, C_URGENCY, NCOL };

/* buf = the strings of parts (NULL-terminated; a NULL part ends them) one
 * after the other, cut at n - 1 bytes as snprintf cuts: the table's cells
 * are mostly plain strings, and a fleet has hundreds of thousands. */
static void cat(char *buf, size_t n, const char *const *parts)
{
	size_t len = 0;

	for (; *parts; parts++)
		for (const char *p = *parts; *p && len + 1 < n; p++)
			buf[len++] = *p;
	buf[len] = 0;
}

/* Column k of finding f into buf (a fleet has tens of thousands of rows:
 * no allocation per cell).  Names, ids, versions and the feeds' words
 * hold no URL, and the parsers replaced their control characters. */
static void cell(const struct cve_report *r, const struct cve_finding *f, int k, char *buf,
		 size_t n)
{
	const struct cve_subject *s = &r->subjects[f->subject];

	switch (k) {
	case C_IMAGE:
		cat(buf, n, (const char *const[]){ s->name, s->arch ? "/" : "", s->arch ? s->arch : "", NULL });
		break;
	case C_CVE:
		cat(buf, n, (const char *const[]){ f->id, NULL });
		break;
	case C_SOURCE:
		cat(buf, n, (const char *const[]){ f->source, NULL });
		break;
	case C_INSTALLED:
		cat(buf, n, (const char *const[]){ f->installed, NULL });
		break;
	case C_FIXED:
		cat(buf, n, (const char *const[]){ f->fixed_version ? f->fixed_version : "-", NULL });
		break;
	case C_CLASS:
		if (f->cls == CVE_OPEN && f->open_reason)
			cat(buf, n, (const char *const[]){ "open (", f->open_reason, ")", NULL });
		else
			cat(buf, n, (const char *const[]){ cve_class_name(f->cls), NULL });
		break;
	case C_KEV:
		if (!f->kev)
			cat(buf, n, (const char *const[]){ "-", NULL });
		else
			cat(buf, n, (const char *const[]){ "KEV", f->kev_ransomware ? " ransomware" : "",
							   f->kev_due ? " due " : "",
							   f->kev_due ? f->kev_due : "", NULL });
		break;
	case C_EPSS:
		if (f->epss < 0)
			cat(buf, n, (const char *const[]){ "-", NULL });
		else
			snprintf(buf, n, "p=%.4f pct=%.1f", f->epss, f->percentile * 100);
		break;
	default:
		cat(buf, n, (const char *const[]){ f->urgency ? f->urgency : "-", NULL });
	}
}

void cve_print_table(FILE *f, const struct cve_report *r, bool all)
{
	static const char *const head[NCOL] = { "IMAGE", "CVE", "SOURCE", "INSTALLED", "FIXED-IN",
						"CLASS", "KEV", "EPSS", "URGENCY" };
	size_t w[NCOL], nrows = 0;
	char buf[512];
	struct counts c;
	strbuf cells = STRBUF_INIT, row = STRBUF_INIT; /* the shown rows' cells, each NUL-terminated */
	const char *p;

	if (r->stale)
		fprintf(f, "%s\n", r->stale);
	count(r, &c);
	fprintf(f,
		"%zu fixable, %zu open, %zu undetermined, %zu fixed, %zu not-affected, "
		"%zu suppressed; exposed: %zu in KEV (%zu ransomware), EPSS >=10%%: %zu, "
		"1-10%%: %zu, <1%%: %zu, none: %zu\n",
		c.cls[CVE_FIXABLE], c.cls[CVE_OPEN], c.cls[CVE_UNDETERMINED], c.cls[CVE_FIXED],
		c.cls[CVE_NOT_AFFECTED], c.cls[CVE_SUPPRESSED], c.kev, c.ransomware, c.epss_high,
		c.epss_mid, c.epss_low, c.epss_none);
	for (int k = 0; k < NCOL; k++)
		w[k] = strlen(head[k]);
	/* two passes: the cells and the column widths, then the rows */
	for (size_t i = 0; i < r->nfindings; i++) {
		if (!all && !affecting(&r->findings[i]))
			continue;
		for (int k = 0; k < NCOL; k++) {
			size_t len;

			cell(r, &r->findings[i], k, buf, sizeof(buf));
			len = strlen(buf);
			if (len > w[k])
				w[k] = len;
			sb_add(&cells, buf, len + 1);
		}
		nrows++;
	}
	if (!nrows) {
		sb_release(&cells);
		return;
	}
	for (int k = 0; k + 1 < NCOL; k++)
		fprintf(f, "%-*s  ", (int)w[k], head[k]);
	fprintf(f, "%s\n", head[NCOL - 1]);
	static const char spaces[] = "                                ";

	/* each row as fprintf's "%-*s  " would write it, written at once */
	p = cells.buf;
	for (size_t i = 0; i < nrows; i++) {
		sb_reset(&row);
		for (int k = 0; k < NCOL; k++) {
			size_t len = strlen(p);

			sb_add(&row, p, len);
			p += len + 1;
			for (size_t pad = k + 1 < NCOL ? w[k] + 2 - len : 0, n; pad; pad -= n) {
				n = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;
				sb_add(&row, spaces, n);
			}
		}
		sb_addc(&row, '\n');
		fwrite(row.buf, 1, row.len, f);
	}
	sb_release(&cells);
	sb_release(&row);
}

int cve_print_json(FILE *f, const struct cve_report *r, perr *e)
{
	cJSON *root = cJSON_CreateObject(), *o, *a;
	struct counts c;
	char *s;

	count(r, &c);
	cJSON_AddStringToObject(root, "schema", "pare-cve/1");
	json_add_str_or_null(root, "stale", r->stale);
	o = cJSON_AddObjectToObject(root, "feeds");
	json_add_str_or_null(o, "tracker", r->tracker_date);
	json_add_str_or_null(o, "kev", r->kev_date);
	json_add_str_or_null(o, "epss", r->epss_date);
	o = cJSON_AddObjectToObject(root, "summary");
	for (int k = 0; k <= CVE_SUPPRESSED; k++)
		cJSON_AddNumberToObject(o, cve_class_name(k), (double)c.cls[k]);
	cJSON_AddNumberToObject(o, "kev", (double)c.kev);
	cJSON_AddNumberToObject(o, "kev_ransomware", (double)c.ransomware);
	a = cJSON_AddArrayToObject(root, "subjects");
	for (size_t i = 0; i < r->nsubjects; i++) {
		const struct cve_subject *sj = &r->subjects[i];

		o = cJSON_CreateObject();
		json_add_str_or_null(o, "name", sj->name);
		json_add_str_or_null(o, "arch", sj->arch);
		json_add_str_or_null(o, "codename", sj->codename);
		json_add_str_or_null(o, "recipe_file", sj->recipe_file);
		json_add_str_or_null(o, "digest", sj->digest);
		cJSON_AddNumberToObject(o, "packages", (double)sj->npkgs);
		cJSON_AddItemToArray(a, o);
	}
	a = cJSON_AddArrayToObject(root, "findings");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct cve_finding *fi = &r->findings[i];
		const struct cve_subject *sj = &r->subjects[fi->subject];
		cJSON *x, *b;

		o = cJSON_CreateObject();
		json_add_str_or_null(o, "subject", sj->name);
		json_add_str_or_null(o, "arch", sj->arch);
		json_add_str_or_null(o, "id", fi->id);
		json_add_str_or_null(o, "source", fi->source);
		json_add_str_or_null(o, "installed", fi->installed);
		json_add_str_or_null(o, "fixed_version", fi->fixed_version);
		json_add_str_or_null(o, "class", cve_class_name(fi->cls));
		json_add_str_or_null(o, "open_reason", fi->open_reason);
		json_add_str_or_null(o, "urgency", fi->urgency);
		if (fi->kev) {
			x = cJSON_AddObjectToObject(o, "kev");
			json_add_str_or_null(x, "date_added", fi->kev_added);
			json_add_str_or_null(x, "due_date", fi->kev_due);
			cJSON_AddBoolToObject(x, "ransomware", fi->kev_ransomware);
		} else
			cJSON_AddNullToObject(o, "kev");
		if (fi->epss >= 0) {
			x = cJSON_AddObjectToObject(o, "epss");
			cJSON_AddNumberToObject(x, "probability", fi->epss);
			cJSON_AddNumberToObject(x, "percentile", fi->percentile);
		} else
			cJSON_AddNullToObject(o, "epss");
		json_add_str_or_null(o, "first_seen", fi->first_seen);
		b = cJSON_AddArrayToObject(o, "binaries");
		for (size_t k = 0; k < fi->nbinaries; k++)
			cJSON_AddItemToArray(b, cJSON_CreateString(fi->binaries[k]));
		if (fi->cls == CVE_SUPPRESSED) {
			x = cJSON_AddObjectToObject(o, "vex");
			json_add_str_or_null(x, "status", fi->vex_status);
			json_add_str_or_null(x, "justification", fi->vex_justification);
			json_add_str_or_null(x, "statement", fi->vex_statement);
		}
		json_add_str_or_null(o, "description", fi->description);
		cJSON_AddItemToArray(a, o);
	}
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return perr_set(e, "cve: cannot format the report as JSON");
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

int cve_fail_on(const struct cve_report *r, const char *what, bool *hit, perr *e)
{
	static const char *const sev[] = { "high", "medium", "low" };
	int level = -1;

	*hit = false;
	for (int i = 0; i < 3; i++)
		if (!strcmp(what, sev[i]))
			level = i;
	if (level < 0 && strcmp(what, "kev") && strcmp(what, "fixable") && strcmp(what, "open"))
		return perr_set(e, "cve: --fail-on '%s': not kev, fixable, open, low, medium or high",
				what);
	for (size_t i = 0; i < r->nfindings && !*hit; i++) {
		const struct cve_finding *f = &r->findings[i];
		bool exposed = f->cls == CVE_FIXABLE || f->cls == CVE_OPEN;

		if (!strcmp(what, "kev"))
			*hit = exposed && f->kev;
		else if (!strcmp(what, "fixable"))
			*hit = f->cls == CVE_FIXABLE;
		else if (!strcmp(what, "open"))
			*hit = exposed;
		else if (exposed && f->urgency) {
			for (int k = 0; k <= level; k++)
				if (str_starts(f->urgency, sev[k]))
					*hit = true;
		}
	}
	return 0;
}
