/* output.c - pare audit's outputs: the table, JSON (pare-audit/1,
 * docs/audit.md) and SARIF 2.1.0 for code scanning, and the exit status. */
#include "audit.h"
#include "../cve/cve.h"
#include "../oci/oci.h"
#include "../signer/signer.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* failing checks first in the table */
static const enum audit_result table_order[] = { AUDIT_FAIL, AUDIT_WARN, AUDIT_MANUAL,
	AUDIT_PASS, AUDIT_NA };

int audit_exit_status(const struct audit_report *reps, size_t n, enum audit_fail_on fail_on)
{
	for (size_t i = 0; i < n; i++) {
		if (fail_on >= AUDIT_FAIL_ON_FAIL && reps[i].counts[AUDIT_FAIL])
			return 1;
		if (fail_on == AUDIT_FAIL_ON_WARN && reps[i].counts[AUDIT_WARN])
			return 1;
	}
	return 0;
}

static char *redacted(const char *s)
{
	return url_redact(s);
}

void audit_print_table(FILE *f, const struct audit_report *reps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct audit_report *r = &reps[i];
		char *src = redacted(r->img.source);

		if (i)
			fputc('\n', f);
		fprintf(f, "%s %s %s\n", src, r->img.platform, r->img.digest);
		fprintf(f, "%zu pass, %zu fail, %zu warn, %zu not-applicable, %zu manual "
			"(%zu packages, signature %s)\n",
			r->counts[AUDIT_PASS], r->counts[AUDIT_FAIL], r->counts[AUDIT_WARN],
			r->counts[AUDIT_NA], r->counts[AUDIT_MANUAL], r->npackages, r->signature);
		free(src);
		for (size_t o = 0; o < ARRAY_SIZE(table_order); o++)
			for (size_t k = 0; k < r->nfindings; k++) {
				const struct audit_finding *x = &r->findings[k];
				strbuf line = STRBUF_INIT;

				if (x->result != table_order[o])
					continue;
				fprintf(f, "  %-14s %-17s %s\n", audit_result_name(x->result),
					x->rule->id, x->rule->title);
				for (size_t l = 0; l < x->evidence.n; l++) {
					sb_reset(&line);
					sb_add_quoted(&line, x->evidence.v[l]);
					fprintf(f, "  %-14s %-17s   %s\n", "", "", line.buf);
				}
				sb_release(&line);
			}
	}
}

static cJSON *counts_json(const struct audit_report *r)
{
	cJSON *c = cJSON_CreateObject();

	for (int k = 0; k < AUDIT_NRESULTS; k++)
		cJSON_AddNumberToObject(c, audit_result_name(k), (double)r->counts[k]);
	return c;
}

static cJSON *sv_json(const strvec *sv)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

cJSON *audit_json(const struct audit_report *reps, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *imgs;

	cJSON_AddStringToObject(doc, "schema", "pare-audit/1");
	cJSON_AddStringToObject(doc, "pare", PARE_VERSION);
	imgs = cJSON_AddArrayToObject(doc, "images");
	for (size_t i = 0; i < n; i++) {
		const struct audit_report *r = &reps[i];
		cJSON *im = cJSON_CreateObject(), *checks;
		char *src = redacted(r->img.source);

		cJSON_AddStringToObject(im, "source", src);
		free(src);
		cJSON_AddStringToObject(im, "platform", r->img.platform);
		cJSON_AddStringToObject(im, "digest", r->img.digest);
		cJSON_AddBoolToObject(im, "pare", r->is_pare);
		if (r->recipe)
			cJSON_AddStringToObject(im, "recipe", r->recipe);
		else
			cJSON_AddNullToObject(im, "recipe");
		cJSON_AddNumberToObject(im, "packages", (double)r->npackages);
		cJSON_AddNumberToObject(im, "files", (double)r->img.nfiles);
		cJSON_AddStringToObject(im, "signature", r->signature);
		cJSON_AddItemToObject(im, "sboms", sv_json(&r->sboms));
		cJSON_AddItemToObject(im, "counts", counts_json(r));
		checks = cJSON_AddArrayToObject(im, "checks");
		for (size_t k = 0; k < r->nfindings; k++) {
			const struct audit_finding *x = &r->findings[k];
			cJSON *c = cJSON_CreateObject(), *m;

			cJSON_AddStringToObject(c, "id", x->rule->id);
			cJSON_AddStringToObject(c, "title", x->rule->title);
			m = cJSON_AddObjectToObject(c, "controls");
			if (*x->rule->cis)
				cJSON_AddStringToObject(m, "cis-docker-1.6.0", x->rule->cis);
			if (*x->rule->nist)
				cJSON_AddStringToObject(m, "nist-800-190", x->rule->nist);
			if (*x->rule->dockle)
				cJSON_AddStringToObject(m, "dockle", x->rule->dockle);
			cJSON_AddStringToObject(c, "result", audit_result_name(x->result));
			cJSON_AddItemToObject(c, "evidence", sv_json(&x->evidence));
			cJSON_AddItemToArray(checks, c);
		}
		cJSON_AddItemToArray(imgs, im);
	}
	return doc;
}

/* ---- the benchmark attestation ----------------------------------------------------- */

int audit_attestations(const char *dir, const char *name, const char *recipes_dir, int64_t now,
		       strvec *digests, strvec *docs, perr *e)
{
	struct audit_opts o = { .recipes_dir = recipes_dir, .now = now, .signing = true };
	struct audit_report *reps = NULL;
	size_t n = 0;
	int ret = audit_path(dir, &o, &reps, &n, e);

	for (size_t i = 0; ret == 0 && i < n; i++) {
		cJSON *doc;

		/* the staging directory's path says nothing: the image's name */
		free(reps[i].img.source);
		reps[i].img.source = xstrdup(name ? name : reps[i].recipe ? reps[i].recipe : "image");
		doc = audit_json(&reps[i], 1);
		sv_push(digests, reps[i].img.digest);
		sv_push_nodup(docs, cJSON_PrintUnformatted(doc));
		cJSON_Delete(doc);
	}
	audit_reports_free(reps, n);
	return ret;
}

int audit_attestation_check(const cJSON *predicate, const char *digest, perr *e)
{
	const char *schema = oci_json_str(predicate, "schema"), *d;
	const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(predicate, "images");

	if (!schema || strcmp(schema, "pare-audit/1"))
		return perr_set(e, "predicate is not a pare-audit/1 report");
	if (!cJSON_IsArray(imgs) || cJSON_GetArraySize(imgs) != 1)
		return perr_set(e, "pare-audit/1 predicate does not report exactly one image");
	d = oci_json_str(cJSON_GetArrayItem(imgs, 0), "digest");
	if (!d || strcmp(d, digest))
		return perr_set(e, "pare-audit/1 predicate reports another image than %s", digest);
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(imgs, 0), "checks")))
		return perr_set(e, "pare-audit/1 predicate has no checks");
	return 0;
}

const struct signer_predicate_check *audit_attestation_checks(size_t *n)
{
	static const struct signer_predicate_check checks[] = {
		{ AUDIT_PREDICATE_TYPE, audit_attestation_check },
		{ CVE_VEX_PREDICATE_TYPE, cve_vex_attestation_check },
	};

	*n = ARRAY_SIZE(checks);
	return checks;
}

/* ---- SARIF 2.1.0 ----------------------------------------------------------------- */

static cJSON *text_obj(const char *text)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "text", text);
	return o;
}

static cJSON *sarif_rule(const struct audit_rule *r)
{
	cJSON *o = cJSON_CreateObject(), *help, *props, *tags;
	strbuf sb = STRBUF_INIT, md = STRBUF_INIT;
	char sev[16];

	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "name", r->title);
	cJSON_AddItemToObject(o, "shortDescription", text_obj(r->title));
	cJSON_AddItemToObject(o, "fullDescription", text_obj(r->description));
	sb_addf(&sb, "%s Controls:", r->remediation);
	sb_addf(&md, "**Remediation.** %s\n\n| control | item |\n|---|---|\n", r->remediation);
	if (*r->cis) {
		sb_addf(&sb, " CIS Docker Benchmark v1.6.0 %s;", r->cis);
		sb_addf(&md, "| CIS Docker Benchmark v1.6.0 | %s |\n", r->cis);
	}
	if (*r->nist) {
		sb_addf(&sb, " NIST SP 800-190 %s;", r->nist);
		sb_addf(&md, "| NIST SP 800-190 | %s |\n", r->nist);
	}
	if (*r->dockle) {
		sb_addf(&sb, " Dockle %s;", r->dockle);
		sb_addf(&md, "| Dockle | %s |\n", r->dockle);
	}
	sb.buf[sb.len - 1] = '.';
	help = cJSON_AddObjectToObject(o, "help");
	cJSON_AddStringToObject(help, "text", sb.buf);
	cJSON_AddStringToObject(help, "markdown", md.buf);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "defaultConfiguration"), "level",
				r->severity >= 7.0 ? "error" : "warning");
	props = cJSON_AddObjectToObject(o, "properties");
	snprintf(sev, sizeof(sev), "%.1f", r->severity);
	cJSON_AddStringToObject(props, "security-severity", sev);
	tags = cJSON_AddArrayToObject(props, "tags");
	cJSON_AddItemToArray(tags, cJSON_CreateString("security"));
	cJSON_AddItemToArray(tags, cJSON_CreateString("container"));
	if (*r->cis)
		cJSON_AddItemToArray(tags, cJSON_CreateString("CIS-Docker"));
	if (*r->nist)
		cJSON_AddItemToArray(tags, cJSON_CreateString("NIST-SP-800-190"));
	sb_release(&sb), sb_release(&md);
	return o;
}

static const char *sarif_kind(enum audit_result r, const char **level)
{
	*level = "none";
	switch (r) {
	case AUDIT_FAIL:
		*level = "error";
		return "fail";
	case AUDIT_WARN:
		*level = "warning";
		return "fail";
	case AUDIT_MANUAL:
		return "review";
	case AUDIT_NA:
		return "notApplicable";
	default:
		return "pass";
	}
}

cJSON *audit_sarif(const struct audit_report *reps, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *run, *driver, *rules, *results, *arts;

	cJSON_AddStringToObject(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	cJSON_AddStringToObject(doc, "version", "2.1.0");
	run = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "runs"), run);
	driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
	cJSON_AddStringToObject(driver, "name", "pare-audit");
	cJSON_AddStringToObject(driver, "version", PARE_VERSION);
	cJSON_AddStringToObject(driver, "semanticVersion", PARE_VERSION);
	rules = cJSON_AddArrayToObject(driver, "rules");
	for (size_t i = 0; i < audit_nrules; i++)
		cJSON_AddItemToArray(rules, sarif_rule(&audit_rules[i]));
	arts = cJSON_AddArrayToObject(run, "artifacts");
	results = cJSON_AddArrayToObject(run, "results");
	for (size_t i = 0; i < n; i++) {
		const struct audit_report *r = &reps[i];
		char *src = redacted(r->img.source);
		cJSON *art = cJSON_CreateObject();

		cJSON_AddItemToObject(cJSON_AddObjectToObject(art, "location"), "uri",
				      cJSON_CreateString(src));
		cJSON_AddItemToObject(art, "description", text_obj(r->img.platform));
		cJSON_AddStringToObject(cJSON_AddObjectToObject(art, "hashes"), "sha-256",
					r->img.digest + 7);
		cJSON_AddItemToArray(arts, art);
		for (size_t k = 0; k < r->nfindings; k++) {
			const struct audit_finding *x = &r->findings[k];
			cJSON *res = cJSON_CreateObject(), *loc, *fp, *props;
			strbuf msg = STRBUF_INIT, key = STRBUF_INIT;
			const char *level, *kind = sarif_kind(x->result, &level);
			char hex[SHA256_HEX_LEN + 1];

			cJSON_AddStringToObject(res, "ruleId", x->rule->id);
			cJSON_AddNumberToObject(res, "ruleIndex", (double)k);
			cJSON_AddStringToObject(res, "kind", kind);
			cJSON_AddStringToObject(res, "level", level);
			sb_addf(&msg, "%s: %s (%s %s)", audit_result_name(x->result), x->rule->title,
				src, r->img.platform);
			for (size_t l = 0; l < x->evidence.n; l++)
				sb_addf(&msg, "%s%s", l ? "; " : ": ", x->evidence.v[l]);
			cJSON_AddItemToObject(res, "message", text_obj(msg.buf));
			loc = cJSON_CreateObject();
			cJSON_AddNumberToObject(cJSON_AddObjectToObject(
				cJSON_AddObjectToObject(loc, "physicalLocation"), "artifactLocation"),
						"index", (double)i);
			cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(loc,
				"physicalLocation"), "artifactLocation"), "uri", src);
			cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "locations"), loc);
			/* stable across rebuilds: the check and the image's name and
			 * platform, not its digest */
			sb_addf(&key, "%s\n%s\n%s", x->rule->id, r->recipe ? r->recipe : src,
				r->img.platform);
			sha256_hex(key.buf, key.len, hex);
			fp = cJSON_AddObjectToObject(res, "partialFingerprints");
			cJSON_AddStringToObject(fp, "pareAuditCheck/v1", hex);
			props = cJSON_AddObjectToObject(res, "properties");
			cJSON_AddStringToObject(props, "result", audit_result_name(x->result));
			cJSON_AddStringToObject(props, "imageDigest", r->img.digest);
			cJSON_AddStringToObject(props, "platform", r->img.platform);
			cJSON_AddItemToObject(props, "evidence", sv_json(&x->evidence));
			cJSON_AddItemToArray(results, res);
			sb_release(&msg), sb_release(&key);
		}
		free(src);
	}
	return doc;
}
