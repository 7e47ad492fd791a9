/* verify.c - check a signed layout offline: signatures, attestations, SBOM
 * equality and every blob digest.  The semantics follow cosign's: a digest
 * is signed when at least one signature layer verifies with the key and its
 * payload names that digest. */
#define _GNU_SOURCE
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verifying {
	struct oci_layout l;
	signer_key *key;
	struct sbom_artifact *sboms;
	size_t nsboms;
	signer_check_fn fn;
	void *ctx;
	bool no_layers; /* signer_verify_attached: the image layers are not there */
	const struct signer_predicate_check *checks; /* the caller's predicate types */
	size_t nchecks;
	/* a verified SBOM attestation about the target being checked with no
	 * SBOM artifact of its format in the layout ("" when none) */
	char missing_sbom[256];
};

static void report(struct verifying *v, const char *what, const char *arch, const char *dg,
		   const char *detail)
{
	struct signer_check c = { what, arch, dg, detail ? detail : "" };

	if (v->fn)
		v->fn(&c, v->ctx);
}

/* The manifest of the cosign image tagged tag. */
static int cosign_manifest(struct verifying *v, const char *tag, cJSON **out, perr *e)
{
	const cJSON *d = oci_layout_find_ref(&v->l, tag);
	strbuf buf = STRBUF_INIT;
	int ret = -1;

	*out = NULL;
	if (!d)
		return perr_set(e, "no %s in the layout", tag);
	if (oci_layout_read_desc(&v->l, d, OCI_MAX_BLOB, &buf, e) < 0)
		goto out;
	*out = cJSON_ParseWithLength(buf.buf, buf.len);
	if (!*out) {
		perr_set(e, "%s: manifest is not JSON", tag);
		goto out;
	}
	ret = 0;
out:
	sb_release(&buf);
	return ret;
}

/* Strings from the layout that no signature covers (annotations, digests,
 * architecture names) are quoted only when printable: a message is one
 * line, and a newline in it would forge a line of pare's own. */
static const char *shown(const char *s)
{
	if (!s)
		return "(none)";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "(unprintable)";
	return s;
}

/* Only a well-formed digest is quoted back: the messages are one line. */
static bool is_digest(const char *s)
{
	return str_starts(s, "sha256:") && is_sha256_hex(s + 7);
}

int signer_verify_simple_signing(signer_key *k, const void *payload, size_t n, const char *b64sig,
				 const char *digest, perr *e)
{
	strbuf sig = STRBUF_INIT;
	const char *typ, *named;
	cJSON *p = NULL, *crit;
	int ret = -1;

	if (base64_decode(b64sig, &sig, e) < 0) {
		perr_prefix(e, "signature annotation");
		goto out;
	}
	/* The signature first: nothing in an unauthenticated payload counts. */
	if (signer_verify_bytes(k, payload, n, sig.buf, sig.len, e) < 0)
		goto out;
	p = cJSON_ParseWithLength(payload, n);
	crit = cJSON_GetObjectItemCaseSensitive(p, "critical");
	typ = oci_json_str(crit, "type");
	named = oci_json_str(cJSON_GetObjectItemCaseSensitive(crit, "image"), "docker-manifest-digest");
	if (!typ || strcmp(typ, COSIGN_SIG_TYPE)) {
		perr_set(e, "signed payload is not a cosign container image signature");
		goto out;
	}
	if (!named || strcmp(named, digest)) {
		perr_set(e, "signed payload names %s, not %s", named && is_digest(named) ? named : "another digest",
			 digest);
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(p);
	sb_release(&sig);
	return ret;
}

/* One simple-signing layer: blob digest, then signer_verify_simple_signing. */
static int check_sig_layer(struct verifying *v, const struct target *t, const cJSON *lay,
			   perr *e)
{
	strbuf payload = STRBUF_INIT;
	const char *b64 = oci_annotation(lay, OCI_ANN_COSIGN_SIG);
	int ret = -1;

	if (!b64) {
		perr_set(e, "signature layer %s has no %s annotation", shown(oci_json_str(lay, "digest")), OCI_ANN_COSIGN_SIG);
		goto out;
	}
	if (oci_layout_read_desc(&v->l, lay, OCI_MAX_BLOB, &payload, e) < 0)
		goto out;
	ret = signer_verify_simple_signing(v->key, payload.buf, payload.len, b64, t->digest, e);
out:
	sb_release(&payload);
	return ret;
}

/* Every simple-signing layer is tried, as cosign does: the digest is signed
 * when at least one verifies with the key and names it (pare push appends to
 * a .sig image already in the registry, so a digest signed twice, or also by
 * another key, has several); the others are counted, not fatal. */
static int check_signature(struct verifying *v, const struct target *t, perr *e)
{
	char *tag = oci_cosign_tag(t->digest, OCI_TAG_SIG);
	cJSON *m = NULL;
	const cJSON *lay;
	perr one;
	int ret = -1, tried = 0, good = 0;

	v->missing_sbom[0] = '\0';
	if (cosign_manifest(v, tag, &m, e) < 0)
		goto out;
	cJSON_ArrayForEach(lay, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		const char *mt = oci_json_str(lay, "mediaType");

		if (!mt || strcmp(mt, OCI_MT_SIMPLESIGNING))
			continue;
		tried++;
		if (check_sig_layer(v, t, lay, &one) == 0)
			good++;
		else if (!good)
			*e = one; /* the message if none verifies */
	}
	if (!tried)
		perr_set(e, "%s has no simple-signing layer", tag);
	else if (good)
		ret = 0;
out:
	if (ret == 0) {
		char detail[300];

		snprintf(detail, sizeof(detail), "%s (%d of %d signatures verified)", signer_key_name(v->key),
			 good, tried);
		report(v, "signature", t->arch, t->digest, detail);
	} else {
		perr_prefix(e, "signature %s %s", shown(t->arch), t->digest);
	}
	cJSON_Delete(m);
	free(tag);
	return ret;
}

int signer_statement_check(const char *body, size_t n, const char *ann_pt, const char *digest,
			   cJSON **out, const char **pred, perr *e)
{
	cJSON *st = cJSON_ParseWithLength(body, n);
	const char *typ = oci_json_str(st, "_type"), *pt = oci_json_str(st, "predicateType"), *hex;
	const cJSON *s;
	bool subject_ok = false;
	int ret = -1;

	*out = NULL;
	*pred = NULL;
	if (!typ || strcmp(typ, STATEMENT_V1)) {
		perr_set(e, "statement _type is not %s", STATEMENT_V1);
		goto out;
	}
	if (!pt || (ann_pt && strcmp(pt, ann_pt))) {
		perr_set(e, "statement predicateType differs from the layer's '%s'", shown(ann_pt));
		goto out;
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(st, "subject")) {
		hex = oci_json_str(cJSON_GetObjectItemCaseSensitive(s, "digest"), "sha256");
		if (hex && !strcmp(hex, digest + 7))
			subject_ok = true;
	}
	if (!subject_ok) {
		perr_set(e, "statement has no subject with digest %s", digest);
		goto out;
	}
	*out = st, st = NULL;
	*pred = pt;
	ret = 0;
out:
	cJSON_Delete(st);
	return ret;
}

/* One attestation layer; *pred gets its (verified) predicate type. */
/* The caller's check of predicate type pt, or NULL. */
static const struct signer_predicate_check *pred_check(const struct verifying *v, const char *pt)
{
	for (size_t i = 0; pt && i < v->nchecks; i++)
		if (!strcmp(v->checks[i].predicate_type, pt))
			return &v->checks[i];
	return NULL;
}

static int check_att_layer(struct verifying *v, const struct target *t, const cJSON *lay,
			   char **pred, perr *e)
{
	strbuf env = STRBUF_INIT, body = STRBUF_INIT;
	const char *ann_pt = oci_annotation(lay, "predicateType"), *pt = NULL;
	cJSON *st = NULL;
	int ret = -1;

	*pred = NULL;
	if (oci_layout_read_desc(&v->l, lay, OCI_MAX_BLOB, &env, e) < 0 ||
	    signer_dsse_verify(v->key, env.buf, env.len, &body, e) < 0 ||
	    signer_statement_check(body.buf, body.len, ann_pt, t->digest, &st, &pt, e) < 0)
		goto out;
	if (pred_check(v, pt) &&
	    pred_check(v, pt)->check(cJSON_GetObjectItemCaseSensitive(st, "predicate"), t->digest, e) < 0)
		goto out;
	/* An SBOM attestation must carry the very document of one of the SBOM
	 * artifacts of this format shipped in the layout (there may be several:
	 * package-level and per-file); check_attestations then requires every
	 * artifact to be matched by one. */
	{
		long cand = -1, hit = -1;

		for (size_t i = 0; i < v->nsboms && hit < 0; i++) {
			cJSON *doc;

			if (strcmp(v->sboms[i].subject, t->digest) || strcmp(v->sboms[i].predicate, pt))
				continue;
			if (cand < 0)
				cand = (long)i;
			doc = cJSON_ParseWithLength(v->sboms[i].doc.buf, v->sboms[i].doc.len);
			if (doc && cJSON_Compare(doc, cJSON_GetObjectItemCaseSensitive(st, "predicate"), true))
				hit = (long)i;
			cJSON_Delete(doc);
		}
		if (cand >= 0 && hit < 0) {
			perr_set(e, "%s attestation differs from the sbom artifact %s", pt,
				 v->sboms[cand].manifest_digest);
			goto out;
		}
		/* the signed attestation says the image has this SBOM: the
		 * layout must ship it (an SBOM removed, or swapped for another
		 * image's, leaves none about this subject); check_attestations
		 * fails on it once the layers are read */
		if (cand < 0 && !v->missing_sbom[0] &&
		    (!strcmp(pt, SIGNER_PRED_SPDX) || !strcmp(pt, SIGNER_PRED_CYCLONEDX)))
			snprintf(v->missing_sbom, sizeof(v->missing_sbom), "%s", pt);
		if (hit >= 0) {
			v->sboms[hit].attested = true;
			report(v, "sbom", t->arch, v->sboms[hit].manifest_digest, pt);
		}
	}
	*pred = xstrdup(pt);
	ret = 0;
out:
	cJSON_Delete(st);
	sb_release(&env);
	sb_release(&body);
	return ret;
}

static int check_attestations(struct verifying *v, const struct target *t, perr *e)
{
	char *tag = oci_cosign_tag(t->digest, OCI_TAG_ATT), *pred = NULL;
	strvec want = STRVEC_INIT, got = STRVEC_INIT;
	cJSON *m = NULL;
	const cJSON *lay;
	perr last = { 0, "" }, one;
	int ret = -1;

	if (!t->is_index)
		sv_push(&want, SIGNER_PRED_SLSA1);
	for (size_t i = 0; i < v->nsboms; i++)
		if (!strcmp(v->sboms[i].subject, t->digest))
			sv_push(&want, v->sboms[i].predicate);
	v->missing_sbom[0] = '\0';
	if (cosign_manifest(v, tag, &m, e) < 0)
		goto out;
	cJSON_ArrayForEach(lay, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		const char *mt = oci_json_str(lay, "mediaType");
		const struct signer_predicate_check *pc = pred_check(v, oci_annotation(lay, "predicateType"));

		if (!mt || strcmp(mt, OCI_MT_DSSE))
			continue;
		/* a type the caller checks, once attached, must verify */
		if (pc && !sv_contains(&want, pc->predicate_type))
			sv_push(&want, pc->predicate_type);
		if (check_att_layer(v, t, lay, &pred, &one) < 0) {
			/* Keep the reason: it is the message if no layer of
			 * this predicate type verifies. */
			last = one;
			perr_prefix(&last, "%s",
				    oci_annotation(lay, "predicateType") ? shown(oci_annotation(lay, "predicateType")) : "attestation");
			continue;
		}
		report(v, "attestation", t->arch, t->digest, pred);
		sv_push_nodup(&got, pred);
	}
	for (size_t i = 0; i < want.n; i++) {
		if (sv_contains(&got, want.v[i]))
			continue;
		if (last.msg[0])
			perr_set(e, "no valid %s attestation (%s)", want.v[i], last.msg);
		else
			perr_set(e, "no %s attestation", want.v[i]);
		goto out;
	}
	if (v->missing_sbom[0]) {
		perr_set(e, "the layout has no %s sbom artifact about %s, which its attestation carries",
			 v->missing_sbom, t->digest);
		goto out;
	}
	/* Each SBOM artifact, not just each format, must be attested: one
	 * verified attestation does not vouch for a second, altered document. */
	for (size_t i = 0; i < v->nsboms; i++) {
		if (strcmp(v->sboms[i].subject, t->digest) || v->sboms[i].attested)
			continue;
		if (last.msg[0])
			perr_set(e, "sbom artifact %s is not attested (%s)", v->sboms[i].manifest_digest,
				 last.msg);
		else
			perr_set(e, "sbom artifact %s is not attested", v->sboms[i].manifest_digest);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "attestation %s %s", shown(t->arch), t->digest);
	cJSON_Delete(m);
	sv_clear(&want);
	sv_clear(&got);
	free(tag);
	return ret;
}

/* Re-hash the config and every layer of an image manifest. */
static int check_blobs(struct verifying *v, const struct target *t, perr *e)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(t->doc, "config"), *lay;

	if (!oci_json_str(cfg, "digest"))
		return perr_set(e, "manifest %s (%s) has no config", t->digest, shown(t->arch));
	if (oci_layout_check_blob(&v->l, oci_json_str(cfg, "digest"), oci_json_size(cfg), e) < 0)
		return perr_prefix(e, "config of %s (%s)", t->digest, shown(t->arch));
	report(v, "blob", t->arch, oci_json_str(cfg, "digest"), "config");
	if (v->no_layers)
		return 0;
	cJSON_ArrayForEach(lay, cJSON_GetObjectItemCaseSensitive(t->doc, "layers")) {
		const char *dg = oci_json_str(lay, "digest");

		if (!dg)
			return perr_set(e, "manifest %s (%s): layer without digest", t->digest, shown(t->arch));
		if (oci_layout_check_blob(&v->l, dg, oci_json_size(lay), e) < 0)
			return perr_prefix(e, "layer of %s (%s)", t->digest, shown(t->arch));
		report(v, "blob", t->arch, dg, "layer");
	}
	return 0;
}

/* One manifest listed in a target's referrers index (see check_referrers). */
static int check_one_referrer(struct verifying *v, const struct target *t, const cJSON *d,
			      perr *e)
{
	const char *dg = oci_json_str(d, "digest"), *at = oci_json_str(d, "artifactType"), *mat, *subj;
	const cJSON *lay;
	strbuf buf = STRBUF_INIT;
	cJSON *m = NULL, *tagged = NULL;
	char *ctag = NULL;
	int ret = -1;

	if (!dg) {
		perr_set(e, "a listed referrer has no digest");
		goto out;
	}
	if (oci_layout_read_blob(&v->l, dg, oci_json_size(d), OCI_MAX_BLOB, &buf, e) < 0)
		goto out;
	m = cJSON_ParseWithLength(buf.buf, buf.len);
	subj = oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "subject"), "digest");
	if (!subj || strcmp(subj, t->digest)) {
		perr_set(e, "subject is %s, not %s", subj ? shown(subj) : "missing", t->digest);
		goto out;
	}
	mat = oci_json_str(m, "artifactType");
	if (!mat)
		mat = oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "mediaType");
	if (at && (!mat || strcmp(at, mat))) {
		perr_set(e, "listed as %s but the manifest says %s", shown(at), mat ? shown(mat) : "nothing");
		goto out;
	}
	lay = cJSON_GetObjectItemCaseSensitive(m, "config");
	if (oci_json_str(lay, "digest") &&
	    oci_layout_check_blob(&v->l, oci_json_str(lay, "digest"), oci_json_size(lay), e) < 0)
		goto out;
	cJSON_ArrayForEach(lay, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		if (!oci_json_str(lay, "digest")) {
			perr_set(e, "a layer without digest");
			goto out;
		}
		if (oci_layout_check_blob(&v->l, oci_json_str(lay, "digest"), oci_json_size(lay), e) < 0)
			goto out;
	}
	if (mat && (!strcmp(mat, OCI_AT_COSIGN_SIG) || !strcmp(mat, OCI_AT_COSIGN_ATT))) {
		ctag = oci_cosign_tag(t->digest, !strcmp(mat, OCI_AT_COSIGN_SIG) ? OCI_TAG_SIG : OCI_TAG_ATT);
		if (cosign_manifest(v, ctag, &tagged, e) < 0)
			goto out;
		/* each of its layers is one of the verified image's (which may
		 * hold more: pare push appends to a .sig/.att already pushed,
		 * and the older referrer lists the older layers) */
		cJSON_ArrayForEach(lay, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
			const cJSON *tl;
			bool found = false;

			cJSON_ArrayForEach(tl, cJSON_GetObjectItemCaseSensitive(tagged, "layers"))
				found |= cJSON_Compare(tl, lay, true);
			if (!found) {
				perr_set(e, "it has a layer %s that the verified %s has not",
					 shown(oci_json_str(lay, "digest")), ctag);
				goto out;
			}
		}
	}
	report(v, "referrer", t->arch, dg, mat ? mat : "");
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "referrer %s", dg ? shown(dg) : "?");
	cJSON_Delete(m);
	cJSON_Delete(tagged);
	sb_release(&buf);
	free(ctag);
	return ret;
}

/*
 * The OCI 1.1 referrers of a target as the layout lists them: the
 * tag-schema fallback index sha256-HEX (pare sign always writes it).  Each
 * listed manifest must read back under its digest and size, name the target
 * as its subject, have the artifactType the listing claims, and have intact
 * config and layer blobs; a cosign signature/attestation referrer must carry
 * only layers of the verified sha256-HEX.sig/.att image (so it cannot
 * smuggle an unverified layer past a client that reads referrers); and every
 * SBOM artifact about the target must be listed.
 */
static int check_referrers(struct verifying *v, const struct target *t, perr *e)
{
	char *tag = oci_cosign_tag(t->digest, "");
	const cJSON *fd = oci_layout_find_ref(&v->l, tag), *d;
	strbuf buf = STRBUF_INIT;
	cJSON *idx = NULL;
	int ret = -1;

	if (!fd) {
		perr_set(e, "no %s referrers index in the layout", tag);
		goto out;
	}
	if (oci_layout_read_desc(&v->l, fd, OCI_MAX_BLOB, &buf, e) < 0)
		goto out;
	idx = cJSON_ParseWithLength(buf.buf, buf.len);
	if (!idx || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(idx, "manifests"))) {
		perr_set(e, "%s: not an image index", tag);
		goto out;
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests"))
		if (check_one_referrer(v, t, d, e) < 0)
			goto out;
	for (size_t i = 0; i < v->nsboms; i++) {
		bool listed = false;

		if (strcmp(v->sboms[i].subject, t->digest))
			continue;
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests"))
			listed |= oci_json_str(d, "digest") && !strcmp(oci_json_str(d, "digest"), v->sboms[i].manifest_digest);
		if (!listed) {
			perr_set(e, "sbom artifact %s is not listed", v->sboms[i].manifest_digest);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "referrers %s %s", shown(t->arch), t->digest);
	cJSON_Delete(idx);
	sb_release(&buf);
	free(tag);
	return ret;
}

static int verify_layout(const char *dir, const char *pubfile, const char *arch, bool no_layers,
			 const struct signer_predicate_check *checks, size_t nchecks,
			 signer_check_fn fn, void *ctx, perr *e)
{
	struct verifying v = { .fn = fn, .ctx = ctx, .no_layers = no_layers,
			       .checks = checks, .nchecks = nchecks };
	struct target *t = NULL;
	size_t nt = 0, checked = 0;
	char *ref_name = NULL;
	int ret = -1;

	if (signer_load_public(pubfile, &v.key, e) < 0)
		goto out;
	/* signer_layout_targets reads every manifest through its digest: a tampered
	 * manifest fails here already. */
	if (oci_layout_open(dir, &v.l, e) < 0 || signer_layout_targets(&v.l, &t, &nt, &ref_name, e) < 0 ||
	    signer_layout_sboms(&v.l, &v.sboms, &v.nsboms, e) < 0)
		goto out;
	/* Every SBOM artifact describes an image or the index of this layout:
	 * one whose subject is something else (another image's SBOM put in
	 * this layout) vouches for nothing here. */
	for (size_t i = 0; i < v.nsboms; i++) {
		size_t k;

		for (k = 0; k < nt && strcmp(t[k].digest, v.sboms[i].subject); k++)
			;
		if (k == nt) {
			perr_set(e, "sbom artifact %s describes %s, which is not in the layout",
				 v.sboms[i].manifest_digest, shown(v.sboms[i].subject));
			goto out;
		}
		if (v.sboms[i].for_index >= 0 && v.sboms[i].for_index != (int)t[k].is_index) {
			perr_set(e, "sbom artifact %s is annotated as the %s's, but describes the %s %s",
				 v.sboms[i].manifest_digest, v.sboms[i].for_index ? "index" : "image",
				 t[k].is_index ? "index" : "image", t[k].digest);
			goto out;
		}
	}
	for (size_t i = 0; i < nt; i++) {
		if (arch && !t[i].is_index && strcmp(arch, t[i].arch))
			continue;
		report(&v, "manifest", t[i].arch, t[i].digest, t[i].is_index ? "index" : "image");
		if (check_signature(&v, &t[i], e) < 0)
			goto out;
		if (t[i].is_index) {
			/* the index's own SBOMs, when it has some */
			if ((signer_sboms_about(v.sboms, v.nsboms, t[i].digest) &&
			     check_attestations(&v, &t[i], e) < 0) ||
			    check_referrers(&v, &t[i], e) < 0)
				goto out;
			continue;
		}
		checked++;
		/* referrers last: they repeat what the tags and artifacts hold,
		 * whose own checks give the more precise message */
		if (check_attestations(&v, &t[i], e) < 0 || check_blobs(&v, &t[i], e) < 0 ||
		    check_referrers(&v, &t[i], e) < 0)
			goto out;
	}
	if (arch && !checked) {
		perr_set(e, "%s: no image for architecture '%s'", dir, arch);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "verify %s", dir);
	signer_targets_free(t, nt);
	signer_sboms_free(v.sboms, v.nsboms);
	signer_key_free(v.key);
	oci_layout_close(&v.l);
	free(ref_name);
	return ret;
}

int signer_verify_layout(const char *dir, const char *pubfile, const char *arch,
			 signer_check_fn fn, void *ctx, perr *e)
{
	return verify_layout(dir, pubfile, arch, false, NULL, 0, fn, ctx, e);
}

int signer_verify_layout_with(const char *dir, const char *pubfile, const char *arch,
			      const struct signer_predicate_check *checks, size_t nchecks,
			      signer_check_fn fn, void *ctx, perr *e)
{
	return verify_layout(dir, pubfile, arch, false, checks, nchecks, fn, ctx, e);
}

int signer_verify_attached(const char *dir, const char *pubfile, signer_check_fn fn, void *ctx,
			   perr *e)
{
	return verify_layout(dir, pubfile, NULL, true, NULL, 0, fn, ctx, e);
}
