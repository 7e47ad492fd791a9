/*
 * vexin.c - VEX in: statements from recipes (vex:) and from OpenVEX 0.2.0
 * or CycloneDX 1.4-1.6 VEX files, validated, and applied to a report.
 *
 * A statement suppresses nothing it does not name: the vulnerability id
 * must be the finding's, and a product purl must match the subject (its
 * pkg:oci purl, cve_subject_product) or one of the finding's binaries.
 * Suppressed findings stay in the report, with the statement that
 * suppressed them (docs/cve.md "VEX in").
 */
#include "cve_int.h"
#include "../oci/oci.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VEX_MAX (64u << 20)

static const char *const statuses[] = { "not_affected", "affected", "fixed", "under_investigation" };
static const char *const justifications[] = { "component_not_present", "vulnerable_code_not_present",
	"vulnerable_code_not_in_execute_path", "vulnerable_code_cannot_be_controlled_by_adversary",
	"inline_mitigations_already_exist" };

static bool known(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void stmt_release(struct cve_vex_stmt *s)
{
	for (size_t i = 0; i < s->nproducts; i++) {
		free(s->product[i]);
		free(s->sub[i]);
	}
	free(s->product);
	free(s->sub);
	free(s->id);
	free(s->status);
	free(s->justification);
	free(s->statement);
	free(s->where);
}

void cve_vex_release(struct cve_vex *vex)
{
	for (size_t i = 0; i < vex->n; i++)
		stmt_release(&vex->v[i]);
	free(vex->v);
	memset(vex, 0, sizeof(*vex));
}

static struct cve_vex_stmt *stmt_new(struct cve_vex *vex)
{
	struct cve_vex_stmt *s;

	ALLOC_GROW(vex->v, vex->n + 1, vex->alloc);
	s = &vex->v[vex->n++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void stmt_product(struct cve_vex_stmt *s, const char *product, const char *sub)
{
	s->product = xrealloc(s->product, (s->nproducts + 1) * sizeof(*s->product));
	s->sub = xrealloc(s->sub, (s->nproducts + 1) * sizeof(*s->sub));
	s->product[s->nproducts] = xstrdup(product);
	s->sub[s->nproducts++] = sub ? xstrdup(sub) : NULL;
}

/* ---- OpenVEX ----------------------------------------------------------------- */

/* A product or subcomponent: {"@id": purl} (0.2.0) or a bare purl string. */
static const char *component_id(const cJSON *c)
{
	return cJSON_IsString(c) ? c->valuestring : oci_json_str(c, "@id");
}

static int openvex_stmt(const char *name, const cJSON *st, size_t i, struct cve_vex *vex, perr *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, "vulnerability"), *p, *c;
	const char *id = cJSON_IsString(v) ? v->valuestring : oci_json_str(v, "name");
	const char *status = oci_json_str(st, "status"), *just = oci_json_str(st, "justification");
	const char *stmt = oci_json_str(st, "impact_statement") ? oci_json_str(st, "impact_statement") :
			   oci_json_str(st, "action_statement") ? oci_json_str(st, "action_statement") :
							  oci_json_str(st, "status_notes");
	struct cve_vex_stmt *s;
	size_t k = 0;

	if (!cJSON_IsObject(st))
		return perr_set(e, "%s: $.statements[%zu]: expected an object", name, i);
	if (!id || !*id)
		return perr_set(e, "%s: $.statements[%zu].vulnerability.name: missing", name, i);
	if (!known(statuses, ARRAY_SIZE(statuses), status))
		return perr_set(e, "%s: $.statements[%zu].status: %s%s%s (known: not_affected, affected, "
			     "fixed, under_investigation)", name, i, status ? "unknown status '" : "missing",
			     status ? cve_quote(status) : "", status ? "'" : "");
	if (!strcmp(status, "not_affected") && !just)
		return perr_set(e, "%s: $.statements[%zu]: %s not_affected needs a justification", name,
				i, cve_quote(id));
	if (just && !known(justifications, ARRAY_SIZE(justifications), just))
		return perr_set(e, "%s: $.statements[%zu].justification: unknown justification '%s'",
				name, i, cve_quote(just));
	s = stmt_new(vex);
	s->id = xstrdup(id);
	s->status = xstrdup(status);
	s->justification = just ? xstrdup(just) : NULL;
	s->statement = stmt ? xstrdup(stmt) : NULL;
	s->where = xasprintf("%s: $.statements[%zu]", name, i);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "products")) {
		const char *pid = component_id(p);
		const cJSON *subs = cJSON_GetObjectItemCaseSensitive(p, "subcomponents");

		if (!pid || !*pid)
			return perr_set(e, "%s: $.statements[%zu].products[%zu]: no @id", name, i, k);
		if (!cJSON_GetArraySize(subs))
			stmt_product(s, pid, NULL);
		cJSON_ArrayForEach(c, subs) {
			if (!component_id(c))
				return perr_set(e, "%s: $.statements[%zu].products[%zu].subcomponents: one "
					     "without @id", name, i, k);
			stmt_product(s, pid, component_id(c));
		}
		k++;
	}
	if (!s->nproducts)
		return perr_set(e, "%s: $.statements[%zu]: %s names no product", name, i, cve_quote(id));
	return 0;
}

/* ---- CycloneDX VEX ------------------------------------------------------------ */

/* analysis.state -> OpenVEX status (NULL: not a state). */
static const char *cdx_status(const char *state)
{
	static const char *const map[][2] = {
		{ "not_affected", "not_affected" }, { "false_positive", "not_affected" },
		{ "resolved", "fixed" },            { "resolved_with_pedigree", "fixed" },
		{ "exploitable", "affected" },      { "in_triage", "under_investigation" },
	};

	for (size_t i = 0; state && i < ARRAY_SIZE(map); i++)
		if (!strcmp(state, map[i][0]))
			return map[i][1];
	return NULL;
}

static const char *cdx_just(const char *j)
{
	static const char *const map[][2] = {
		{ "code_not_present", "vulnerable_code_not_present" },
		{ "code_not_reachable", "vulnerable_code_not_in_execute_path" },
		{ "requires_configuration", "vulnerable_code_cannot_be_controlled_by_adversary" },
		{ "requires_dependency", "vulnerable_code_cannot_be_controlled_by_adversary" },
		{ "requires_environment", "vulnerable_code_cannot_be_controlled_by_adversary" },
		{ "protected_by_compiler", "inline_mitigations_already_exist" },
		{ "protected_at_runtime", "inline_mitigations_already_exist" },
		{ "protected_at_perimeter", "inline_mitigations_already_exist" },
		{ "protected_by_mitigating_control", "inline_mitigations_already_exist" },
	};

	for (size_t i = 0; j && i < ARRAY_SIZE(map); i++)
		if (!strcmp(j, map[i][0]))
			return map[i][1];
	return NULL;
}

/* The purl an affects[].ref names: a purl, a bom-ref of a component (at any
 * depth), or a BOM-Link (urn:cdx:SERIAL/VERSION#REF). */
static const char *cdx_ref_purl(const cJSON *comps, const char *ref, int depth)
{
	const cJSON *c;

	if (str_starts(ref, "pkg:"))
		return ref;
	if (str_starts(ref, "urn:cdx:") && strchr(ref, '#'))
		ref = strchr(ref, '#') + 1;
	if (depth > 32)
		return NULL;
	cJSON_ArrayForEach(c, comps) {
		const char *br = oci_json_str(c, "bom-ref"), *r;

		if (br && !strcmp(br, ref))
			return oci_json_str(c, "purl");
		if ((r = cdx_ref_purl(cJSON_GetObjectItemCaseSensitive(c, "components"), ref, depth + 1)))
			return r;
	}
	return NULL;
}

static int cdx_vuln(const char *name, const cJSON *doc, const cJSON *v, size_t i, struct cve_vex *vex,
		    perr *e)
{
	const cJSON *an = cJSON_GetObjectItemCaseSensitive(v, "analysis"), *a;
	const cJSON *comps = cJSON_GetObjectItemCaseSensitive(doc, "components");
	const char *id = oci_json_str(v, "id"), *state = oci_json_str(an, "state"), *just = oci_json_str(an, "justification");
	const char *status = cdx_status(state), *detail = oci_json_str(an, "detail");
	struct cve_vex_stmt *s;
	size_t k = 0;

	if (!id || !*id)
		return perr_set(e, "%s: $.vulnerabilities[%zu].id: missing", name, i);
	if (!an)
		return 0; /* a vulnerability without analysis states nothing */
	if (!status)
		return perr_set(e, "%s: $.vulnerabilities[%zu].analysis.state: %s%s%s (known: resolved, "
			     "resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected)",
			     name, i, state ? "unknown state '" : "missing", state ? cve_quote(state) : "",
			     state ? "'" : "");
	if (!strcmp(state, "not_affected") && !just)
		return perr_set(e, "%s: $.vulnerabilities[%zu].analysis: %s not_affected needs a "
			     "justification", name, i, cve_quote(id));
	if (just && !cdx_just(just))
		return perr_set(e, "%s: $.vulnerabilities[%zu].analysis.justification: unknown "
			     "justification '%s'", name, i, cve_quote(just));
	s = stmt_new(vex);
	s->id = xstrdup(id);
	s->status = xstrdup(status);
	/* a false positive: the vulnerable code is not there */
	s->justification = just ? xstrdup(cdx_just(just)) :
			   !strcmp(state, "false_positive") ? xstrdup("vulnerable_code_not_present") : NULL;
	s->statement = detail ? xstrdup(detail) : NULL;
	s->where = xasprintf("%s: $.vulnerabilities[%zu]", name, i);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(v, "affects")) {
		const char *ref = oci_json_str(a, "ref"), *purl = ref ? cdx_ref_purl(comps, ref, 0) : NULL;

		if (!purl)
			return perr_set(e, "%s: $.vulnerabilities[%zu].affects[%zu].ref: %s%s%s", name, i, k,
					ref ? "'" : "missing", ref ? cve_quote(ref) : "",
					ref ? "' names no purl or component with a purl" : "");
		stmt_product(s, purl, NULL);
		k++;
	}
	if (!s->nproducts)
		return perr_set(e, "%s: $.vulnerabilities[%zu]: %s affects nothing", name, i, cve_quote(id));
	return 0;
}

int cve_vex_load_buf(const char *name, const char *buf, size_t len, struct cve_vex *vex, perr *e)
{
	cJSON *doc = cJSON_ParseWithLength(buf, len);
	const cJSON *x, *arr;
	const char *ctx;
	size_t i = 0, before = vex->n;
	int ret = -1;

	if (!cJSON_IsObject(doc)) {
		perr_set(e, "%s: not a JSON document (an OpenVEX or CycloneDX VEX file)", name);
		goto out;
	}
	ctx = oci_json_str(doc, "@context");
	if (ctx && str_starts(ctx, "https://openvex.dev/ns")) {
		arr = cJSON_GetObjectItemCaseSensitive(doc, "statements");
		if (!cJSON_IsArray(arr)) {
			perr_set(e, "%s: $.statements: expected an array", name);
			goto out;
		}
		cJSON_ArrayForEach(x, arr)
			if (openvex_stmt(name, x, i++, vex, e) < 0)
				goto out;
	} else if (oci_json_str(doc, "bomFormat") && !strcmp(oci_json_str(doc, "bomFormat"), "CycloneDX")) {
		arr = cJSON_GetObjectItemCaseSensitive(doc, "vulnerabilities");
		if (arr && !cJSON_IsArray(arr)) {
			perr_set(e, "%s: $.vulnerabilities: expected an array", name);
			goto out;
		}
		cJSON_ArrayForEach(x, arr)
			if (cdx_vuln(name, doc, x, i++, vex, e) < 0)
				goto out;
	} else {
		perr_set(e, "%s: neither OpenVEX (@context https://openvex.dev/ns/…) nor CycloneDX VEX "
			 "(bomFormat)", name);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) /* all of the file or nothing */
		while (vex->n > before)
			stmt_release(&vex->v[--vex->n]);
	cJSON_Delete(doc);
	return ret;
}

int cve_vex_load(const char *path, struct cve_vex *vex, perr *e)
{
	strbuf b = STRBUF_INIT;
	int ret;

	if (read_file(path, &b, VEX_MAX, e) < 0)
		return -1;
	ret = cve_vex_load_buf(path, b.buf ? b.buf : "", b.len, vex, e);
	sb_release(&b);
	return ret;
}

int cve_vex_recipe(const struct recipe *r, struct cve_vex *vex, perr *e)
{
	for (size_t i = 0; i < r->nvex; i++) {
		const struct recipe_vex *x = &r->vex[i];
		struct cve_vex_stmt *s = stmt_new(vex);

		s->id = xstrdup(x->vulnerability);
		s->status = xstrdup(x->status);
		s->justification = x->justification ? xstrdup(x->justification) : NULL;
		s->statement = x->statement ? xstrdup(x->statement) : NULL;
		s->where = xstrdup(x->where);
		for (size_t k = 0; k < x->products.n; k++)
			stmt_product(s, x->products.v[k], NULL);
	}
	if (r->vex_file && cve_vex_load(r->vex_file, vex, e) < 0)
		return perr_prefix(e, "%s: vex", r->path ? r->path : r->name);
	return 0;
}

/* ---- applying ------------------------------------------------------------------ */

/* Does purl pattern p name purl c?  type/namespace/name equal; p's version,
 * when it has one, equal; each qualifier of p present in c with its value.
 * Compared percent-decoded ("%2B" and "+" are one version) and lower case. */
static bool purl_match(const char *p, const char *c)
{
	size_t pn = strcspn(p, "?#"), cn = strcspn(c, "?#");
	char *pb = cve_pct_decode(p, pn, true), *cb = cve_pct_decode(c, cn, true);
	strvec pq = STRVEC_INIT, cq = STRVEC_INIT;
	bool ok;

	if (strchr(pb, '@'))
		ok = !strcmp(pb, cb);
	else
		ok = !strncmp(pb, cb, strlen(pb)) && (cb[strlen(pb)] == '@' || !cb[strlen(pb)]);
	if (ok && p[pn] == '?') {
		char *q = cve_pct_decode(p + pn + 1, strcspn(p + pn + 1, "#"), true), *cqs = NULL;

		sv_split(&pq, q, "&");
		if (c[cn] == '?') {
			cqs = cve_pct_decode(c + cn + 1, strcspn(c + cn + 1, "#"), true);
			sv_split(&cq, cqs, "&");
		}
		for (size_t i = 0; ok && i < pq.n; i++)
			ok = sv_contains(&cq, pq.v[i]);
		free(q);
		free(cqs);
	}
	sv_clear(&pq);
	sv_clear(&cq);
	free(pb);
	free(cb);
	return ok;
}

static bool any_binary(const struct cve_finding *f, const char *p)
{
	for (size_t b = 0; b < f->nbinaries; b++)
		if (purl_match(p, f->binaries[b]))
			return true;
	return false;
}

static bool stmt_names(const struct cve_vex_stmt *s, const char *product, const struct cve_finding *f)
{
	for (size_t i = 0; i < s->nproducts; i++) {
		bool prod = purl_match(s->product[i], product) || any_binary(f, s->product[i]);

		if (prod && (!s->sub[i] || any_binary(f, s->sub[i])))
			return true;
	}
	return false;
}

size_t cve_vex_apply(const struct cve_vex *vex, struct cve_report *r, size_t subject)
{
	size_t n = 0, psubject = SIZE_MAX;
	char *product = NULL; /* of subject psubject */

	if (!vex->n) /* most recipes have no statements: no pass over a fleet's findings */
		return 0;
	for (size_t i = 0; i < r->nfindings; i++) {
		struct cve_finding *f = &r->findings[i];

		if ((subject != SIZE_MAX && f->subject != subject) ||
		    (f->cls != CVE_FIXABLE && f->cls != CVE_OPEN && f->cls != CVE_UNDETERMINED))
			continue;
		if (f->subject != psubject) {
			free(product);
			product = cve_subject_product(&r->subjects[f->subject]);
			psubject = f->subject;
		}
		for (size_t k = 0; k < vex->n; k++) {
			const struct cve_vex_stmt *s = &vex->v[k];

			if (strcmp(s->id, f->id) || (strcmp(s->status, "not_affected") &&
						     strcmp(s->status, "fixed")) ||
			    !stmt_names(s, product, f))
				continue;
			f->cls = CVE_SUPPRESSED;
			free(f->vex_status);
			free(f->vex_justification);
			free(f->vex_statement);
			f->vex_status = xstrdup(s->status);
			f->vex_justification = s->justification ? xstrdup(s->justification) : NULL;
			f->vex_statement = xasprintf("%s%s(%s)", s->statement ? s->statement : "",
						     s->statement ? " " : "", s->where);
			n++;
			break;
		}
	}
	free(product);
	return n;
}

int cve_vex_apply_recipes(struct cve_report *r, perr *e)
{
	struct cve_vex vex = { 0 };
	const char *loaded = NULL; /* the recipe file vex holds (a recipe's archs are subjects in a row) */

	for (size_t i = 0; i < r->nsubjects; i++) {
		const char *file = r->subjects[i].recipe_file;

		if (!file)
			continue;
		if (!loaded || strcmp(loaded, file)) {
			struct recipe *rc;
			int ret;

			cve_vex_release(&vex);
			loaded = NULL;
			if (!(rc = recipe_load(file, e)))
				return -1;
			ret = cve_vex_recipe(rc, &vex, e);
			recipe_free(rc);
			if (ret < 0) {
				cve_vex_release(&vex);
				return -1;
			}
			loaded = file;
		}
		cve_vex_apply(&vex, r, i);
	}
	cve_vex_release(&vex);
	return 0;
}
