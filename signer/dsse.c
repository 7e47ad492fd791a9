/* dsse.c - payloads: cosign simple signing, DSSE envelopes, in-toto
 * Statement v1 for SBOMs and SLSA provenance v1. */
#define _GNU_SOURCE
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void signer_dsse_pae(const char *payload_type, const void *body, size_t n, strbuf *out)
{
	sb_addf(out, "DSSEv1 %zu %s %zu ", strlen(payload_type), payload_type, n);
	sb_add(out, body, n);
}

void signer_simple_signing_payload(const char *docker_ref, const char *digest, strbuf *out)
{
	/* Built with cJSON so the reference is escaped exactly as Go's
	 * encoding/json would (the field order is cosign's struct order). */
	cJSON *root = cJSON_CreateObject(), *crit, *o;
	char *text;

	crit = cJSON_AddObjectToObject(root, "critical");
	o = cJSON_AddObjectToObject(crit, "identity");
	cJSON_AddStringToObject(o, "docker-reference", docker_ref);
	o = cJSON_AddObjectToObject(crit, "image");
	cJSON_AddStringToObject(o, "docker-manifest-digest", digest);
	cJSON_AddStringToObject(crit, "type", COSIGN_SIG_TYPE);
	cJSON_AddNullToObject(root, "optional");
	text = cJSON_PrintUnformatted(root);
	sb_adds(out, text);
	free(text);
	cJSON_Delete(root);
}

int signer_dsse_envelope(signer_key *k, const strbuf *body, strbuf *out, perr *e)
{
	strbuf pae = STRBUF_INIT, sig = STRBUF_INIT, b64 = STRBUF_INIT;
	cJSON *env = cJSON_CreateObject(), *sigs, *s;
	char *text = NULL;
	int ret = -1;

	signer_dsse_pae(OCI_MT_INTOTO, body->buf, body->len, &pae);
	if (signer_sign_bytes(k, pae.buf, pae.len, &sig, e) < 0)
		goto out;
	cJSON_AddStringToObject(env, "payloadType", OCI_MT_INTOTO);
	base64_encode(body->buf, body->len, &b64);
	cJSON_AddStringToObject(env, "payload", b64.buf);
	sigs = cJSON_AddArrayToObject(env, "signatures");
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "keyid", "");
	sb_reset(&b64);
	base64_encode(sig.buf, sig.len, &b64);
	cJSON_AddStringToObject(s, "sig", b64.buf);
	cJSON_AddItemToArray(sigs, s);
	text = cJSON_PrintUnformatted(env);
	sb_adds(out, text);
	ret = 0;
out:
	free(text);
	cJSON_Delete(env);
	sb_release(&pae);
	sb_release(&sig);
	sb_release(&b64);
	return ret;
}

int signer_dsse_verify(signer_key *k, const char *envelope, size_t n, strbuf *body, perr *e)
{
	cJSON *env = cJSON_ParseWithLength(envelope, n);
	strbuf pae = STRBUF_INIT, sig = STRBUF_INIT;
	const char *type, *payload;
	const cJSON *s;
	int ret = -1, nsigs = 0;

	sb_reset(body);
	if (!env) {
		perr_set(e, "dsse envelope is not JSON");
		goto out;
	}
	type = oci_json_str(env, "payloadType");
	payload = oci_json_str(env, "payload");
	if (!type || strcmp(type, OCI_MT_INTOTO)) {
		/* not quoted: unsigned bytes, and the message is one line */
		perr_set(e, "dsse payloadType is not %s", OCI_MT_INTOTO);
		goto out;
	}
	if (!payload || base64_decode(payload, body, e) < 0) {
		perr_set(e, "dsse payload is missing or not base64");
		goto out;
	}
	signer_dsse_pae(type, body->buf, body->len, &pae);
	perr_set(e, "dsse envelope has no signatures");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(env, "signatures")) {
		const char *b64 = oci_json_str(s, "sig");

		nsigs++;
		sb_reset(&sig);
		if (!b64 || base64_decode(b64, &sig, e) < 0) {
			perr_set(e, "dsse signature is not base64");
			continue;
		}
		if (signer_verify_bytes(k, pae.buf, pae.len, sig.buf, sig.len, e) == 0) {
			ret = 0;
			goto out;
		}
		perr_prefix(e, "dsse");
	}
out:
	cJSON_Delete(env);
	sb_release(&pae);
	sb_release(&sig);
	return ret;
}

void signer_statements_free(struct statement *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_release(&s[i].body);
	free(s);
}

static cJSON *statement_new(const char *name, const char *digest, const char *pred_type)
{
	cJSON *st = cJSON_CreateObject(), *subj, *one, *dg;

	cJSON_AddStringToObject(st, "_type", STATEMENT_V1);
	subj = cJSON_AddArrayToObject(st, "subject");
	one = cJSON_CreateObject();
	cJSON_AddStringToObject(one, "name", name);
	dg = cJSON_AddObjectToObject(one, "digest");
	cJSON_AddStringToObject(dg, "sha256", digest + strlen("sha256:"));
	cJSON_AddItemToArray(subj, one);
	cJSON_AddStringToObject(st, "predicateType", pred_type);
	return st;
}

static bool is_url(const char *s)
{
	return s && (str_starts(s, "http://") || str_starts(s, "https://"));
}

/* resolvedDependencies from an SPDX 2.3 document: every package that is a
 * .deb (a pkg:deb purl or a .deb packageFileName) with its sha256. */
static void deps_from_spdx(const cJSON *doc, cJSON *deps)
{
	const cJSON *p, *x;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "packages")) {
		const char *file = oci_json_str(p, "packageFileName"), *dl = oci_json_str(p, "downloadLocation");
		const char *purl = NULL, *sha = NULL, *ver = oci_json_str(p, "versionInfo");
		cJSON *rd, *dg;

		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "externalRefs")) {
			const char *t = oci_json_str(x, "referenceType");
			if (t && !strcmp(t, "purl"))
				purl = oci_json_str(x, "referenceLocator");
		}
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "checksums")) {
			const char *a = oci_json_str(x, "algorithm");
			if (a && !strcmp(a, "SHA256"))
				sha = oci_json_str(x, "checksumValue");
		}
		if (!(purl && str_starts(purl, "pkg:deb/")) && !(file && str_ends(file, ".deb")))
			continue;
		rd = cJSON_CreateObject();
		cJSON_AddStringToObject(rd, "name", oci_json_str(p, "name") ? oci_json_str(p, "name") : "");
		/* The pool path is where the .deb lives relative to its archive;
		 * a full URL only when the SBOM had one (public repositories). */
		if (file)
			cJSON_AddStringToObject(rd, "uri", file);
		else if (is_url(dl))
			cJSON_AddStringToObject(rd, "uri", dl);
		else if (purl)
			cJSON_AddStringToObject(rd, "uri", purl);
		if (sha && is_sha256_hex(sha)) {
			dg = cJSON_AddObjectToObject(rd, "digest");
			cJSON_AddStringToObject(dg, "sha256", sha);
		}
		if (ver || purl) {
			cJSON *ann = cJSON_AddObjectToObject(rd, "annotations");
			if (ver)
				cJSON_AddStringToObject(ann, "version", ver);
			if (purl)
				cJSON_AddStringToObject(ann, "purl", purl);
		}
		cJSON_AddItemToArray(deps, rd);
	}
}

/* The same from CycloneDX 1.5 components (when there is no SPDX document). */
static void deps_from_cdx(const cJSON *doc, cJSON *deps)
{
	const cJSON *c, *x;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "components")) {
		const char *purl = oci_json_str(c, "purl"), *sha = NULL, *ver = oci_json_str(c, "version");
		cJSON *rd, *dg;

		if (!purl || !str_starts(purl, "pkg:deb/"))
			continue;
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c, "hashes")) {
			const char *a = oci_json_str(x, "alg");
			if (a && !strcmp(a, "SHA-256"))
				sha = oci_json_str(x, "content");
		}
		rd = cJSON_CreateObject();
		cJSON_AddStringToObject(rd, "name", oci_json_str(c, "name") ? oci_json_str(c, "name") : "");
		cJSON_AddStringToObject(rd, "uri", purl);
		if (sha && is_sha256_hex(sha)) {
			dg = cJSON_AddObjectToObject(rd, "digest");
			cJSON_AddStringToObject(dg, "sha256", sha);
		}
		if (ver) {
			cJSON *ann = cJSON_AddObjectToObject(rd, "annotations");
			cJSON_AddStringToObject(ann, "version", ver);
		}
		cJSON_AddItemToArray(deps, rd);
	}
}

static void add_statement(struct statement **out, size_t *n, size_t *alloc,
			  const char *pred, cJSON *st)
{
	char *text = cJSON_PrintUnformatted(st);

	ALLOC_GROW(*out, *n + 1, *alloc);
	(*out)[*n].predicate_type = pred;
	memset(&(*out)[*n].body, 0, sizeof(strbuf));
	sb_adds(&(*out)[*n].body, text);
	(*n)++;
	free(text);
}

int signer_add_statement(struct statement **s, size_t *n, const char *docker_ref,
			 const char *digest, const char *predicate_type, const char *predicate,
			 perr *e)
{
	cJSON *pred = cJSON_Parse(predicate), *st;
	size_t alloc = *n;

	if (!pred)
		return perr_set(e, "the %s predicate is not JSON", predicate_type);
	st = statement_new(docker_ref, digest, predicate_type);
	cJSON_AddItemToObject(st, "predicate", pred);
	add_statement(s, n, &alloc, predicate_type, st);
	cJSON_Delete(st);
	return 0;
}

int signer_build_statements(const struct oci_layout *l, const struct target *t, const char *docker_ref,
			    const struct sbom_artifact *sboms, size_t nsboms,
			    struct statement **out, size_t *n, perr *e)
{
	static const char *const order[] = { SIGNER_PRED_SPDX, SIGNER_PRED_CYCLONEDX };
	struct statement *s = NULL;
	size_t ns = 0, alloc = 0;
	cJSON *st = NULL, *doc = NULL, *pred, *bd, *ext, *deps, *rd, *o;
	const char *rname, *rsha, *commit;
	int ret = -1;

	(void)l;
	/* One statement per SBOM artifact (the builder attaches a package-level
	 * and a per-file document of each format), the document as the
	 * predicate, SPDX first. */
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		for (size_t i = 0; i < nsboms; i++) {
			if (strcmp(sboms[i].subject, t->digest) || strcmp(sboms[i].predicate, order[k]))
				continue;
			doc = cJSON_ParseWithLength(sboms[i].doc.buf, sboms[i].doc.len);
			if (!doc) {
				perr_set(e, "sbom artifact %s: document is not JSON", sboms[i].manifest_digest);
				goto out;
			}
			st = statement_new(docker_ref, t->digest, order[k]);
			cJSON_AddItemToObject(st, "predicate", doc);
			doc = NULL;
			add_statement(&s, &ns, &alloc, order[k], st);
			cJSON_Delete(st), st = NULL;
		}
	}

	/* SLSA provenance v1, per image: an index is attested only for the
	 * SBOMs whose subject it is. */
	if (t->is_index) {
		*out = s, *n = ns, s = NULL;
		ret = 0;
		goto out;
	}
	st = statement_new(docker_ref, t->digest, SIGNER_PRED_SLSA1);
	pred = cJSON_AddObjectToObject(st, "predicate");
	bd = cJSON_AddObjectToObject(pred, "buildDefinition");
	cJSON_AddStringToObject(bd, "buildType", SIGNER_SLSA_BUILD_TYPE);
	ext = cJSON_AddObjectToObject(bd, "externalParameters");
	rname = oci_annotation(t->doc, OCI_ANN_RECIPE_NAME);
	rsha = oci_annotation(t->doc, OCI_ANN_RECIPE_SHA256);
	o = cJSON_AddObjectToObject(ext, "recipe");
	if (rname)
		cJSON_AddStringToObject(o, "name", rname);
	if (rsha)
		cJSON_AddStringToObject(o, "sha256", rsha);
	o = cJSON_AddObjectToObject(bd, "internalParameters");
	cJSON_AddStringToObject(o, "architecture", t->arch);
	deps = cJSON_AddArrayToObject(bd, "resolvedDependencies");
	/* the layout's index.json records the commit beside the image; a
	 * manifest of an older pare holds it in its own annotations */
	commit = t->git_commit ? t->git_commit : oci_annotation(t->doc, OCI_ANN_RECIPE_GIT_COMMIT);
	if (commit) {
		rd = cJSON_CreateObject();
		const char *src = oci_annotation(t->doc, OCI_ANN_SOURCE);
		cJSON_AddStringToObject(rd, "name", "recipes");
		if (src) {
			char *uri = xasprintf("git+%s", src);
			cJSON_AddStringToObject(rd, "uri", uri);
			free(uri);
		}
		o = cJSON_AddObjectToObject(rd, "digest");
		cJSON_AddStringToObject(o, "gitCommit", commit);
		if (t->git_commit ? t->git_dirty : oci_annotation(t->doc, OCI_ANN_RECIPE_GIT_DIRTY) != NULL) {
			/* built from a work tree with changes the commit does not hold */
			o = cJSON_AddObjectToObject(rd, "annotations");
			cJSON_AddBoolToObject(o, "dirty", 1);
		}
		cJSON_AddItemToArray(deps, rd);
	}
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		size_t before = (size_t)cJSON_GetArraySize(deps);
		for (size_t i = 0; i < nsboms; i++) {
			if (strcmp(sboms[i].subject, t->digest) || strcmp(sboms[i].predicate, order[k]))
				continue;
			doc = cJSON_ParseWithLength(sboms[i].doc.buf, sboms[i].doc.len);
			if (doc)
				(k == 0 ? deps_from_spdx : deps_from_cdx)(doc, deps);
			cJSON_Delete(doc), doc = NULL;
			break;
		}
		if ((size_t)cJSON_GetArraySize(deps) > before)
			break; /* SPDX had them; CycloneDX would repeat them */
	}
	o = cJSON_AddObjectToObject(pred, "runDetails");
	o = cJSON_AddObjectToObject(o, "builder");
	cJSON_AddStringToObject(o, "id", SIGNER_BUILDER_ID);
	o = cJSON_AddObjectToObject(o, "version");
	cJSON_AddStringToObject(o, "pare", PARE_VERSION);
	add_statement(&s, &ns, &alloc, SIGNER_PRED_SLSA1, st);

	*out = s, *n = ns, s = NULL;
	ret = 0;
out:
	signer_statements_free(s, s ? ns : 0);
	cJSON_Delete(st);
	cJSON_Delete(doc);
	return ret;
}
