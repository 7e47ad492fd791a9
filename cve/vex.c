/*
 * vex.c - VEX out: OpenVEX 0.2.0 and CycloneDX 1.5 VEX documents of a
 * report, and the mapping of pare's classes onto their statuses
 * (docs/cve.md "VEX out").
 *
 *   class          OpenVEX                     CycloneDX analysis.state
 *   fixable        affected + action_statement exploitable, response update
 *   open           affected + action_statement exploitable, response can_not_fix
 *   undetermined   under_investigation         in_triage
 *   fixed          fixed                       resolved
 *   not affected   not_affected (vulnerable_   not_affected (code_not_present)
 *                  code_not_present)
 *   suppressed     the VEX statement's status and justification
 */
#define _GNU_SOURCE /* memrchr */
#include "cve.h"
#include "../oci/oci.h"
#include "../sbom/sbom.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define OPENVEX_CONTEXT "https://openvex.dev/ns/v0.2.0"

char *cve_finding_action(const struct cve_finding *f)
{
	switch (f->cls) {
	case CVE_FIXABLE:
		return xasprintf("rebuild: Debian ships the fix in %s", f->fixed_version);
	case CVE_OPEN:
		return xasprintf("no fix published by Debian yet%s%s%s", f->open_reason ? " (" : "",
				 f->open_reason ? f->open_reason : "", f->open_reason ? ")" : "");
	case CVE_UNDETERMINED:
		return xstrdup("Debian has not determined whether the package is affected");
	case CVE_FIXED:
		return xasprintf("none: the installed %s %s has Debian's fix (%s)", f->source,
				 f->installed, f->fixed_version ? f->fixed_version : "");
	case CVE_NOT_AFFECTED:
		return xstrdup("none: Debian lists this release as never affected");
	case CVE_SUPPRESSED:
		return xstrdup(f->vex_statement ? f->vex_statement : "suppressed by a VEX statement");
	}
	return xstrdup("");
}

char *cve_subject_product(const struct cve_subject *s)
{
	const char *base = path_basename(s->name);
	strbuf sb = STRBUF_INIT, name = STRBUF_INIT;

	/* purl names are lower case; an oci-archive's ".tar" is no part of it */
	for (const char *p = *base ? base : s->name; *p; p++)
		sb_addc(&name, (char)tolower((unsigned char)*p));
	if (str_ends(sb_str(&name), ".tar"))
		name.buf[name.len -= 4] = '\0';
	sb_adds(&sb, "pkg:oci/");
	purl_encode(&sb, name.len ? name.buf : "image");
	if (s->digest) {
		sb_addc(&sb, '@');
		purl_encode(&sb, s->digest);
	}
	if (s->arch) {
		sb_adds(&sb, "?arch=");
		purl_encode(&sb, s->arch);
	}
	sb_release(&name);
	return sb_detach(&sb);
}

/* The document's date: see cve.h. */
static void doc_date(const struct cve_report *r, char buf[32])
{
	const char *d = r->tracker_date ? r->tracker_date : r->kev_date ? r->kev_date : r->epss_date;

	if (d && strlen(d) < 32) {
		strcpy(buf, d);
		return;
	}
	time_rfc3339(source_date_epoch(0), buf);
}

static cJSON *add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v ? v : "");
}

static int print_doc(cJSON *doc, strbuf *out, perr *e)
{
	char *txt = cJSON_Print(doc);

	if (!txt)
		return perr_set(e, "could not print the JSON document");
	sb_adds(out, txt);
	sb_addc(out, '\n');
	free(txt);
	return 0;
}

/* sha256 of the document without its id: a stable identity for it. */
static void doc_hash(cJSON *doc, char hex[SHA256_HEX_LEN + 1])
{
	char *txt = cJSON_PrintUnformatted(doc);

	sha256_hex(txt, strlen(txt), hex);
	free(txt);
}

/* ---- OpenVEX --------------------------------------------------------------- */

/* OpenVEX status and justification of a finding. */
static const char *openvex_status(const struct cve_finding *f, const char **just)
{
	*just = NULL;
	switch (f->cls) {
	case CVE_FIXABLE:
	case CVE_OPEN:
		return "affected";
	case CVE_UNDETERMINED:
		return "under_investigation";
	case CVE_FIXED:
		return "fixed";
	case CVE_NOT_AFFECTED:
		*just = "vulnerable_code_not_present";
		return "not_affected";
	case CVE_SUPPRESSED:
		*just = f->vex_justification;
		return f->vex_status ? f->vex_status : "not_affected";
	}
	return "under_investigation";
}

int cve_write_openvex(const struct cve_report *r, strbuf *out, perr *e)
{
	cJSON *doc = cJSON_CreateObject(), *st;
	char date[32], hex[SHA256_HEX_LEN + 1], *id;
	int ret;

	doc_date(r, date);
	add_str(doc, "@context", OPENVEX_CONTEXT);
	add_str(doc, "@id", "");
	add_str(doc, "author", "pare");
	add_str(doc, "timestamp", date);
	cJSON_AddNumberToObject(doc, "version", 1);
	add_str(doc, "tooling", "pare " PARE_VERSION);
	st = cJSON_AddArrayToObject(doc, "statements");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct cve_finding *f = &r->findings[i];
		const struct cve_subject *s = &r->subjects[f->subject];
		cJSON *o = cJSON_CreateObject(), *v, *prod, *subs;
		const char *just, *status = openvex_status(f, &just);
		char *product = cve_subject_product(s), *action = cve_finding_action(f);

		cJSON_AddItemToArray(st, o);
		v = cJSON_AddObjectToObject(o, "vulnerability");
		add_str(v, "name", f->id);
		if (f->description)
			add_str(v, "description", f->description);
		prod = cJSON_CreateObject();
		cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "products"), prod);
		add_str(prod, "@id", product);
		if (f->nbinaries) {
			subs = cJSON_AddArrayToObject(prod, "subcomponents");
			for (size_t b = 0; b < f->nbinaries; b++) {
				cJSON *sc = cJSON_CreateObject();

				add_str(sc, "@id", f->binaries[b]);
				cJSON_AddItemToArray(subs, sc);
			}
		}
		free(product);
		add_str(o, "status", status);
		if (!strcmp(status, "not_affected")) {
			if (just)
				add_str(o, "justification", just);
			add_str(o, "impact_statement", f->cls == CVE_SUPPRESSED ? action :
				"Debian's security tracker lists this source package as not affected "
				"in this release (fixed_version 0)");
		} else if (!strcmp(status, "affected")) {
			add_str(o, "action_statement", action);
		}
		if (f->cls == CVE_SUPPRESSED)
			add_str(o, "status_notes", "suppressed by a VEX statement given to pare");
		else if (f->cls == CVE_FIXED)
			add_str(o, "status_notes", action);
		free(action);
	}
	doc_hash(doc, hex);
	id = xasprintf("urn:pare:openvex:sha256:%s", hex);
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "@id", cJSON_CreateString(id));
	free(id);
	ret = print_doc(doc, out, e);
	cJSON_Delete(doc);
	return ret;
}

/* ---- the vulnerability attestation ------------------------------------------ */

int cve_image_openvex(const char *dir, const char *name, const char *recipe_file,
		      strvec *digests, strvec *docs, perr *e)
{
	struct cve_config c;
	struct cve_subject *subs = NULL;
	size_t nsubs = 0, i;
	int ret = -1;

	if (cve_config_load(&c, e) < 0)
		return -1;
	if (cve_subject_from_image(dir, NULL, &subs, &nsubs, e) < 0)
		goto out;
	for (i = 0; i < nsubs; i++) {
		struct cve_report r = { 0 };
		strbuf doc = STRBUF_INIT;
		int rc;

		if (!subs[i].digest)
			continue;
		free(subs[i].name);
		subs[i].name = xstrdup(name);
		free(subs[i].recipe_file);
		subs[i].recipe_file = recipe_file ? xstrdup(recipe_file) : NULL;
		/* one report per image: the subject moves into it */
		rc = cve_match(&c, &subs[i], 1, 0, &r, e);
		if (rc == 0)
			rc = cve_vex_apply_recipes(&r, e);
		if (rc == 0)
			rc = cve_write_openvex(&r, &doc, e);
		if (rc == 0) {
			sv_push(digests, r.subjects[0].digest);
			sv_push_nodup(docs, sb_detach(&doc));
		}
		r.subjects = NULL, r.nsubjects = 0; /* still in subs, released below */
		cve_report_release(&r);
		sb_release(&doc);
		if (rc < 0)
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < nsubs; i++)
		cve_subject_release(&subs[i]);
	free(subs);
	cve_config_release(&c);
	return ret;
}

int cve_vex_attestation_check(const cJSON *predicate, const char *digest, perr *e)
{
	const char *ctx = oci_json_str(predicate, "@context");
	char *a = xasprintf("@%s", digest), *b = xasprintf("@sha256%%3A%s", digest + 7);
	const cJSON *st, *p;
	int ret = -1;

	if (!ctx || strcmp(ctx, OPENVEX_CONTEXT)) {
		perr_set(e, "predicate is not an OpenVEX document (@context is not %s)", OPENVEX_CONTEXT);
		goto out;
	}
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(predicate, "statements"))) {
		perr_set(e, "OpenVEX predicate has no statements array");
		goto out;
	}
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(predicate, "statements"))
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "products")) {
			const char *id = oci_json_str(p, "@id");

			if (!id || (!strstr(id, a) && !strcasestr(id, b))) {
				perr_set(e, "OpenVEX statement about %s: a product that is not image %s",
					 oci_json_str(cJSON_GetObjectItemCaseSensitive(st, "vulnerability"), "name") ?
					 oci_json_str(cJSON_GetObjectItemCaseSensitive(st, "vulnerability"), "name") : "?",
					 digest);
				goto out;
			}
		}
	ret = 0;
out:
	free(a);
	free(b);
	return ret;
}

/* ---- CycloneDX 1.5 VEX ------------------------------------------------------ */

/* OpenVEX justification -> CycloneDX analysis.justification. */
static const char *cdx_justification(const char *j)
{
	static const char *const map[][2] = {
		{ "component_not_present", "code_not_present" },
		{ "vulnerable_code_not_present", "code_not_present" },
		{ "vulnerable_code_not_in_execute_path", "code_not_reachable" },
		{ "vulnerable_code_cannot_be_controlled_by_adversary", "requires_environment" },
		{ "inline_mitigations_already_exist", "protected_by_mitigating_control" },
	};

	for (size_t i = 0; j && i < ARRAY_SIZE(map); i++)
		if (!strcmp(j, map[i][0]) || !strcmp(j, map[i][1]))
			return map[i][1];
	return NULL;
}

static void cdx_analysis(cJSON *a, const struct cve_finding *f)
{
	const char *just, *status = openvex_status(f, &just), *state;
	char *action = cve_finding_action(f);
	cJSON *resp = NULL;

	if (!strcmp(status, "affected"))
		state = "exploitable";
	else if (!strcmp(status, "fixed"))
		state = "resolved";
	else if (!strcmp(status, "not_affected"))
		state = "not_affected";
	else
		state = "in_triage";
	add_str(a, "state", state);
	if (!strcmp(state, "not_affected") && cdx_justification(just))
		add_str(a, "justification", cdx_justification(just));
	if (f->cls == CVE_FIXABLE || f->cls == CVE_OPEN) {
		resp = cJSON_AddArrayToObject(a, "response");
		cJSON_AddItemToArray(resp, cJSON_CreateString(f->cls == CVE_FIXABLE ? "update" :
							      "can_not_fix"));
	}
	add_str(a, "detail", action);
	free(action);
}

static bool has_ref(const strvec *refs, const char *r)
{
	return sv_contains(refs, r);
}

/* The BOM-Link of binary purl in subject s when s is a CycloneDX SBOM that
 * gave it a bom-ref (urn:cdx:SERIAL/VERSION#BOM-REF: how a VEX names a
 * component of another BOM, CycloneDX 1.5 "BOM-Link"), else NULL. */
static char *bom_link(const struct cve_subject *s, const char *purl)
{
	for (size_t i = 0; s->bom_link && i < s->npkgs; i++)
		if (s->pkgs[i].bom_ref && !strcmp(s->pkgs[i].purl, purl))
			return xasprintf("%s#%s", s->bom_link, s->pkgs[i].bom_ref);
	return NULL;
}

int cve_write_cdx_vex(const struct cve_report *r, strbuf *out, perr *e)
{
	cJSON *doc = cJSON_CreateObject(), *md, *comps, *vulns, *tool;
	strvec refs = STRVEC_INIT;
	char date[32], hex[SHA256_HEX_LEN + 1], *serial;
	int ret;

	doc_date(r, date);
	add_str(doc, "$schema", "http://cyclonedx.org/schema/bom-1.5.schema.json");
	add_str(doc, "bomFormat", "CycloneDX");
	add_str(doc, "specVersion", "1.5");
	add_str(doc, "serialNumber", "");
	cJSON_AddNumberToObject(doc, "version", 1);
	md = cJSON_AddObjectToObject(doc, "metadata");
	add_str(md, "timestamp", date);
	/* the array form (1.4's, still valid in 1.5), as pare's SBOMs: Trivy's
	 * older CycloneDX library refuses the 1.5 object form */
	tool = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "tools"), tool);
	add_str(tool, "vendor", "pare");
	add_str(tool, "name", "pare");
	add_str(tool, "version", PARE_VERSION);
	comps = cJSON_AddArrayToObject(doc, "components");
	/* the subjects, then each binary a finding names, once */
	for (size_t i = 0; i < r->nsubjects; i++) {
		char *product = cve_subject_product(&r->subjects[i]);
		cJSON *c;

		if (!has_ref(&refs, product)) {
			c = cJSON_CreateObject();
			cJSON_AddItemToArray(comps, c);
			add_str(c, "type", "container");
			add_str(c, "bom-ref", product);
			add_str(c, "name", r->subjects[i].name);
			add_str(c, "purl", product);
			sv_push(&refs, product);
		}
		free(product);
	}
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct cve_finding *f = &r->findings[i];

		for (size_t b = 0; b < f->nbinaries; b++) {
			const char *p = f->binaries[b];
			const char *at = strchr(p, '@'), *slash = at ? memrchr(p, '/', (size_t)(at - p)) : NULL;
			char *name, *ver;
			cJSON *c;

			if (has_ref(&refs, p) || !at || !slash)
				continue;
			c = cJSON_CreateObject();
			cJSON_AddItemToArray(comps, c);
			name = xstrndup(slash + 1, (size_t)(at - slash - 1));
			ver = xstrndup(at + 1, strcspn(at + 1, "?#"));
			add_str(c, "type", "library");
			add_str(c, "bom-ref", p);
			add_str(c, "name", name);
			add_str(c, "version", ver);
			add_str(c, "purl", p);
			sv_push(&refs, p);
			free(name);
			free(ver);
		}
	}
	vulns = cJSON_AddArrayToObject(doc, "vulnerabilities");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct cve_finding *f = &r->findings[i];
		char *product = cve_subject_product(&r->subjects[f->subject]), *ref;
		cJSON *v = cJSON_CreateObject(), *aff, *src, *props, *pr;

		cJSON_AddItemToArray(vulns, v);
		/* unique in the document: subject, CVE and source package */
		ref = xasprintf("%s#%s/%s", product, f->id, f->source);
		add_str(v, "bom-ref", ref);
		free(ref);
		add_str(v, "id", f->id);
		src = cJSON_AddObjectToObject(v, "source");
		add_str(src, "name", "Debian security tracker");
		if (f->description)
			add_str(v, "description", f->description);
		cdx_analysis(cJSON_AddObjectToObject(v, "analysis"), f);
		aff = cJSON_AddArrayToObject(v, "affects");
		for (size_t b = 0; b < f->nbinaries; b++) {
			cJSON *a = cJSON_CreateObject();
			char *link = bom_link(&r->subjects[f->subject], f->binaries[b]);

			add_str(a, "ref", link ? link : f->binaries[b]);
			free(link);
			cJSON_AddItemToArray(aff, a);
		}
		if (!f->nbinaries) {
			cJSON *a = cJSON_CreateObject();

			add_str(a, "ref", product);
			cJSON_AddItemToArray(aff, a);
		}
		props = cJSON_AddArrayToObject(v, "properties");
		pr = cJSON_CreateObject();
		add_str(pr, "name", "pare:subject");
		add_str(pr, "value", product);
		cJSON_AddItemToArray(props, pr);
		pr = cJSON_CreateObject();
		add_str(pr, "name", "pare:class");
		add_str(pr, "value", cve_class_name(f->cls));
		cJSON_AddItemToArray(props, pr);
		free(product);
	}
	/* serialNumber: a UUID (version 5 layout) from the document's hash */
	doc_hash(doc, hex);
	serial = xasprintf("urn:uuid:%.8s-%.4s-5%.3s-%c%.3s-%.12s", hex, hex + 8, hex + 13,
			   "89ab"[hex[16] % 4], hex + 17, hex + 20);
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "serialNumber", cJSON_CreateString(serial));
	free(serial);
	ret = print_doc(doc, out, e);
	cJSON_Delete(doc);
	sv_clear(&refs);
	return ret;
}

int cve_print_format(FILE *f, const char *format, const struct cve_report *r, perr *e)
{
	strbuf out = STRBUF_INIT;
	int ret;

	if (!strcmp(format, "sarif"))
		ret = cve_write_sarif(r, &out, e);
	else if (!strcmp(format, "openvex"))
		ret = cve_write_openvex(r, &out, e);
	else if (!strcmp(format, "cyclonedx-vex"))
		ret = cve_write_cdx_vex(r, &out, e);
	else
		ret = perr_set(e, "cve: unknown format '%s' (sarif, openvex, cyclonedx-vex)", format);
	if (ret == 0 && (fwrite(out.buf, 1, out.len, f) != out.len || fflush(f) != 0))
		ret = perr_errno(e, "cve: writing the %s document", format);
	sb_release(&out);
	return ret;
}
