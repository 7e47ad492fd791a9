/* sign.c - sign an OCI layout the way cosign stores signatures and
 * attestations (tags sha256-HEX.sig / .att) and as OCI 1.1 referrers with the
 * tag-schema fallback index (tag sha256-HEX). */
#define _GNU_SOURCE
#include "signer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct signing {
	struct oci_layout l;
	signer_key *key;
	const char *ref;  /* docker reference */
	struct sbom_artifact *sboms;
	size_t nsboms;
	const struct signer_statement *extra; /* the caller's statements */
	size_t nextra;
};

/* go-containerregistry's config for an image built from empty.Image by
 * appending layers — what cosign writes for its signature images. */
static char *sig_config(const cJSON *layers)
{
	cJSON *cfg = cJSON_CreateObject(), *hist, *rootfs, *ids, *h;
	const cJSON *lay;
	char *text;

	cJSON_AddStringToObject(cfg, "architecture", "");
	cJSON_AddStringToObject(cfg, "created", "0001-01-01T00:00:00Z");
	hist = cJSON_AddArrayToObject(cfg, "history");
	cJSON_AddStringToObject(cfg, "os", "");
	rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
	cJSON_AddStringToObject(rootfs, "type", "layers");
	ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
	cJSON_ArrayForEach(lay, layers) {
		h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "created", "0001-01-01T00:00:00Z");
		cJSON_AddItemToArray(hist, h);
		/* The layers are stored uncompressed: diff_id = digest. */
		cJSON_AddItemToArray(ids, cJSON_CreateString(oci_json_str(lay, "digest")));
	}
	cJSON_AddObjectToObject(cfg, "config");
	text = cJSON_PrintUnformatted(cfg);
	cJSON_Delete(cfg);
	return text;
}

/* Write a JSON document as a blob; returns its descriptor. */
static int put_json(struct signing *s, cJSON *doc, const char *mt, cJSON **desc, perr *e)
{
	char *text = cJSON_PrintUnformatted(doc), dg[80];
	size_t n = strlen(text);
	int ret = oci_layout_write_blob(&s->l, text, n, dg, e);

	if (ret == 0)
		*desc = oci_descriptor(mt, dg, (int64_t)n);
	free(text);
	return ret;
}

/* The layers of the existing cosign image tagged tag (a copy), or []. */
static int existing_layers(struct signing *s, const char *tag, cJSON **out, perr *e)
{
	const cJSON *d = oci_layout_find_ref(&s->l, tag);
	strbuf buf = STRBUF_INIT;
	cJSON *m = NULL;
	int ret = -1;

	*out = NULL;
	if (!d) {
		*out = cJSON_CreateArray();
		return 0;
	}
	if (oci_layout_read_desc(&s->l, d, OCI_MAX_BLOB, &buf, e) < 0)
		goto out;
	m = cJSON_ParseWithLength(buf.buf, buf.len);
	*out = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "layers"), true);
	if (!cJSON_IsArray(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		perr_set(e, "%s: existing manifest %s has no layers", tag, oci_json_str(d, "digest"));
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(m);
	sb_release(&buf);
	return ret;
}

/* A layer's digest for a message ("?" when it has none). */
static const char *shown_digest(const cJSON *lay)
{
	const char *d = oci_json_str(lay, "digest");

	return d ? d : "?";
}

/* Write the cosign image (tag) and the OCI 1.1 referrer for its layers;
 * *referrer gets the referrer's descriptor (with artifactType). */
static int put_cosign_image(struct signing *s, const struct target *t, const char *tag,
			    cJSON *layers, const char *artifact_type, cJSON **referrer,
			    perr *e)
{
	cJSON *m = NULL, *r = NULL, *d = NULL, *subj;
	char *cfg = sig_config(layers), dg[80];
	int ret = -1;

	*referrer = NULL;
	if (oci_layout_write_blob(&s->l, cfg, strlen(cfg), dg, e) < 0)
		goto out;
	m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "schemaVersion", 2);
	cJSON_AddStringToObject(m, "mediaType", OCI_MT_MANIFEST);
	cJSON_AddItemToObject(m, "config", oci_descriptor(OCI_MT_CONFIG, dg, (int64_t)strlen(cfg)));
	cJSON_AddItemToObject(m, "layers", cJSON_Duplicate(layers, true));
	if (put_json(s, m, OCI_MT_MANIFEST, &d, e) < 0)
		goto out;
	oci_layout_set_ref(&s->l, tag, d);
	d = NULL;

	/* OCI 1.1 referrer: empty config, artifactType, subject. */
	if (oci_layout_write_blob(&s->l, "{}", 2, dg, e) < 0)
		goto out;
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "schemaVersion", 2);
	cJSON_AddStringToObject(r, "mediaType", OCI_MT_MANIFEST);
	cJSON_AddStringToObject(r, "artifactType", artifact_type);
	cJSON_AddItemToObject(r, "config", oci_descriptor(OCI_MT_EMPTY, dg, 2));
	cJSON_AddItemToObject(r, "layers", cJSON_Duplicate(layers, true));
	subj = oci_descriptor(t->media_type, t->digest, t->size);
	cJSON_AddItemToObject(r, "subject", subj);
	if (put_json(s, r, OCI_MT_MANIFEST, referrer, e) < 0)
		goto out;
	cJSON_AddStringToObject(*referrer, "artifactType", artifact_type);
	ret = 0;
out:
	free(cfg);
	cJSON_Delete(m);
	cJSON_Delete(r);
	cJSON_Delete(d);
	return ret;
}

static int sign_target(struct signing *s, const struct target *t, cJSON **referrer, perr *e)
{
	strbuf payload = STRBUF_INIT, old = STRBUF_INIT, sig = STRBUF_INIT, b64 = STRBUF_INIT;
	char *tag = oci_cosign_tag(t->digest, OCI_TAG_SIG), dg[80];
	cJSON *layers = NULL, *lay, *ann;
	bool reuse = false;
	perr ignore;
	int ret = -1;

	signer_simple_signing_payload(s->ref, t->digest, &payload);
	if (existing_layers(s, tag, &layers, e) < 0)
		goto out;
	/* Idempotence: ECDSA signatures are randomised, so "the same
	 * signature" means one that verifies with this key over this payload. */
	cJSON_ArrayForEach(lay, layers) {
		const char *mt = oci_json_str(lay, "mediaType"), *b = oci_annotation(lay, OCI_ANN_COSIGN_SIG);

		if (!mt || strcmp(mt, OCI_MT_SIMPLESIGNING) || !b)
			continue;
		if (oci_layout_read_desc(&s->l, lay, OCI_MAX_BLOB, &old, &ignore) < 0 ||
		    old.len != payload.len || memcmp(old.buf, payload.buf, old.len))
			continue;
		sb_reset(&sig);
		if (base64_decode(b, &sig, &ignore) == 0 &&
		    signer_verify_bytes(s->key, payload.buf, payload.len, sig.buf, sig.len, &ignore) == 0) {
			reuse = true;
			break;
		}
	}
	if (!reuse) {
		sb_reset(&sig);
		if (signer_sign_bytes(s->key, payload.buf, payload.len, &sig, e) < 0 ||
		    oci_layout_write_blob(&s->l, payload.buf, payload.len, dg, e) < 0)
			goto out;
		base64_encode(sig.buf, sig.len, &b64);
		lay = oci_descriptor(OCI_MT_SIMPLESIGNING, dg, (int64_t)payload.len);
		ann = cJSON_AddObjectToObject(lay, "annotations");
		cJSON_AddStringToObject(ann, OCI_ANN_COSIGN_SIG, b64.buf);
		cJSON_AddItemToArray(layers, lay);
	}
	if (put_cosign_image(s, t, tag, layers, OCI_AT_COSIGN_SIG, referrer, e) < 0)
		goto out;
	note("%s signature %s %s", reuse ? "kept" : "signed", t->arch, t->digest);
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "signing %s (%s)", t->digest, t->arch);
	cJSON_Delete(layers);
	sb_release(&payload);
	sb_release(&old);
	sb_release(&sig);
	sb_release(&b64);
	free(tag);
	return ret;
}

/* Re-signing replaces (signer.h): of the existing layers of a predicate type
 * in st, those whose envelope verifies with the key stay only when they carry
 * one of st's bodies of that type (have[i] then says statement i is there
 * already); the others of this key go.  Layers of other keys or types stay. */
static void replace_layers(struct signing *s, const struct target *t, cJSON *layers,
			   const struct statement *st, size_t nst, bool *have)
{
	strbuf env = STRBUF_INIT, body = STRBUF_INIT;
	cJSON *lay = layers->child, *next;
	perr ignore;

	for (; lay; lay = next) {
		const char *pt = oci_annotation(lay, "predicateType");
		bool typed = false, kept = false;

		next = lay->next;
		for (size_t i = 0; pt && i < nst; i++)
			typed |= !strcmp(pt, st[i].predicate_type);
		if (!typed || oci_layout_read_desc(&s->l, lay, OCI_MAX_BLOB, &env, &ignore) < 0 ||
		    signer_dsse_verify(s->key, env.buf, env.len, &body, &ignore) < 0)
			continue;
		for (size_t i = 0; i < nst && !kept; i++)
			if (!have[i] && !strcmp(pt, st[i].predicate_type) && body.len == st[i].body.len &&
			    !memcmp(body.buf, st[i].body.buf, body.len))
				have[i] = kept = true;
		if (kept)
			continue;
		note("replaced %s %s %s (%s)", t->arch, t->digest, pt, shown_digest(lay));
		cJSON_Delete(cJSON_DetachItemViaPointer(layers, lay));
	}
	sb_release(&env);
	sb_release(&body);
}

static int attest_target(struct signing *s, const struct target *t, cJSON **referrer, perr *e)
{
	struct statement *st = NULL;
	size_t nst = 0;
	strbuf env = STRBUF_INIT;
	char *tag = oci_cosign_tag(t->digest, OCI_TAG_ATT), dg[80];
	cJSON *layers = NULL, *lay, *ann;
	bool *have = NULL;
	int ret = -1;

	if (signer_build_statements(&s->l, t, s->ref, s->sboms, s->nsboms, &st, &nst, e) < 0)
		goto out;
	for (size_t i = 0; i < s->nextra; i++)
		if (!strcmp(s->extra[i].digest, t->digest) &&
		    signer_add_statement(&st, &nst, s->ref, t->digest, s->extra[i].predicate_type,
					 s->extra[i].predicate, e) < 0)
			goto out;
	if (existing_layers(s, tag, &layers, e) < 0)
		goto out;
	have = xcalloc(nst ? nst : 1, sizeof(*have));
	replace_layers(s, t, layers, st, nst, have);
	for (size_t i = 0; i < nst; i++) {
		if (have[i])
			continue;
		sb_reset(&env);
		if (signer_dsse_envelope(s->key, &st[i].body, &env, e) < 0 ||
		    oci_layout_write_blob(&s->l, env.buf, env.len, dg, e) < 0)
			goto out;
		lay = oci_descriptor(OCI_MT_DSSE, dg, (int64_t)env.len);
		ann = cJSON_AddObjectToObject(lay, "annotations");
		/* cosign marks attestation layers with an empty signature
		 * annotation: the signature is inside the envelope. */
		cJSON_AddStringToObject(ann, OCI_ANN_COSIGN_SIG, "");
		cJSON_AddStringToObject(ann, "predicateType", st[i].predicate_type);
		cJSON_AddItemToArray(layers, lay);
		note("attested %s %s %s", t->arch, t->digest, st[i].predicate_type);
	}
	if (put_cosign_image(s, t, tag, layers, OCI_AT_COSIGN_ATT, referrer, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "attesting %s (%s)", t->digest, t->arch);
	signer_statements_free(st, nst);
	cJSON_Delete(layers);
	sb_release(&env);
	free(have);
	free(tag);
	return ret;
}

static bool has_digest(const cJSON *arr, const char *dg)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, arr) {
		const char *x = oci_json_str(d, "digest");
		if (x && !strcmp(x, dg))
			return true;
	}
	return false;
}

/* The referrers tag-schema fallback: an index tagged sha256-HEX listing every
 * manifest whose subject is the target (ours, the SBOM artifacts, and any
 * other referrer already listed there). */
static int put_fallback(struct signing *s, const struct target *t, cJSON *ours, perr *e)
{
	char *tag = oci_cosign_tag(t->digest, "");
	const cJSON *old = oci_layout_find_ref(&s->l, tag), *d;
	strbuf buf = STRBUF_INIT;
	cJSON *idx = cJSON_CreateObject(), *list, *prev = NULL, *desc = NULL;
	int ret = -1;

	cJSON_AddNumberToObject(idx, "schemaVersion", 2);
	cJSON_AddStringToObject(idx, "mediaType", OCI_MT_INDEX);
	list = cJSON_AddArrayToObject(idx, "manifests");
	cJSON_ArrayForEach(d, ours)
		cJSON_AddItemToArray(list, cJSON_Duplicate(d, true));
	for (size_t i = 0; i < s->nsboms; i++) {
		const cJSON *m;

		if (strcmp(s->sboms[i].subject, t->digest) || has_digest(list, s->sboms[i].manifest_digest))
			continue;
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(s->l.index, "manifests")) {
			const char *x = oci_json_str(m, "digest");
			cJSON *c;

			if (!x || strcmp(x, s->sboms[i].manifest_digest))
				continue;
			c = oci_descriptor(OCI_MT_MANIFEST, x, oci_json_size(m));
			cJSON_AddStringToObject(c, "artifactType",
						!strcmp(s->sboms[i].predicate, SIGNER_PRED_SPDX) ? OCI_MT_SPDX : OCI_MT_CYCLONEDX);
			cJSON_AddItemToArray(list, c);
			break;
		}
	}
	if (old) {
		if (oci_layout_read_desc(&s->l, old, OCI_MAX_BLOB, &buf, e) < 0)
			goto out;
		prev = cJSON_ParseWithLength(buf.buf, buf.len);
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(prev, "manifests")) {
			const char *at = oci_json_str(d, "artifactType"), *x = oci_json_str(d, "digest");
			/* Our own previous sig/att referrers are superseded. */
			if (!x || has_digest(list, x) ||
			    (at && (!strcmp(at, OCI_AT_COSIGN_SIG) || !strcmp(at, OCI_AT_COSIGN_ATT))))
				continue;
			cJSON_AddItemToArray(list, cJSON_Duplicate(d, true));
		}
	}
	if (put_json(s, idx, OCI_MT_INDEX, &desc, e) < 0)
		goto out;
	oci_layout_set_ref(&s->l, tag, desc);
	desc = NULL;
	ret = 0;
out:
	cJSON_Delete(idx);
	cJSON_Delete(prev);
	cJSON_Delete(desc);
	sb_release(&buf);
	free(tag);
	return ret;
}

/* "NAME:TAG" -> "NAME" (the colon after the last slash); NULL if no tag. */
static char *name_from_ref(const char *ref)
{
	const char *slash = strrchr(ref, '/'), *colon = strrchr(ref, ':');

	if (!colon || (slash && colon < slash) || colon == ref)
		return NULL;
	return xstrndup(ref, (size_t)(colon - ref));
}

int signer_sign_layout(const char *dir, const char *keyfile, const char *docker_ref, perr *e)
{
	signer_key *k = NULL;
	int ret;

	/* the key (and its password) first: a wrong one changes nothing */
	if (signer_load_private(keyfile, &k, e) < 0)
		return perr_prefix(e, "sign %s", dir);
	ret = signer_sign_layout_key(dir, k, docker_ref, e);
	signer_key_free(k);
	return ret;
}

int signer_sign_layout_key(const char *dir, signer_key *key, const char *docker_ref, perr *e)
{
	return signer_sign_layout_extra(dir, key, docker_ref, NULL, 0, e);
}

int signer_sign_layout_extra(const char *dir, signer_key *key, const char *docker_ref,
			     const struct signer_statement *extra, size_t nextra, perr *e)
{
	struct signing s = { .extra = extra, .nextra = nextra };
	struct target *t = NULL;
	size_t nt = 0;
	char *ref_name = NULL, *ref = NULL;
	int ret = -1;

	if (oci_layout_open(dir, &s.l, e) < 0)
		goto out;
	if (signer_layout_targets(&s.l, &t, &nt, &ref_name, e) < 0 ||
	    signer_layout_sboms(&s.l, &s.sboms, &s.nsboms, e) < 0)
		goto out;
	if (docker_ref && *docker_ref)
		ref = xstrdup(docker_ref);
	else if (ref_name && (ref = name_from_ref(ref_name)))
		;
	else if (oci_annotation(t[0].doc, OCI_ANN_RECIPE_NAME))
		ref = xstrdup(oci_annotation(t[0].doc, OCI_ANN_RECIPE_NAME));
	else {
		perr_set(e, "%s: cannot tell the image name (ref name '%s' has no NAME:TAG form); pass --ref",
			 dir, ref_name ? ref_name : "");
		goto out;
	}
	s.ref = ref;
	s.key = key;
	for (size_t i = 0; i < nextra; i++) {
		size_t k;

		for (k = 0; k < nt && (t[k].is_index || strcmp(t[k].digest, extra[i].digest)); k++)
			;
		if (k == nt) {
			perr_set(e, "%s: no image manifest %s to attest %s about", dir, extra[i].digest,
				 extra[i].predicate_type);
			goto out;
		}
	}
	for (size_t i = 0; i < nt; i++) {
		cJSON *refs = cJSON_CreateArray(), *r = NULL;

		if (sign_target(&s, &t[i], &r, e) < 0) {
			cJSON_Delete(refs);
			goto out;
		}
		cJSON_AddItemToArray(refs, r);
		if (!t[i].is_index || signer_sboms_about(s.sboms, s.nsboms, t[i].digest)) {
			if (attest_target(&s, &t[i], &r, e) < 0) {
				cJSON_Delete(refs);
				goto out;
			}
			cJSON_AddItemToArray(refs, r);
		}
		ret = put_fallback(&s, &t[i], refs, e);
		cJSON_Delete(refs);
		if (ret < 0)
			goto out;
		ret = -1;
	}
	/* Last: until index.json names them, the new blobs are unreferenced. */
	if (oci_layout_save_index(&s.l, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		/* all or nothing: the blobs this run added go again (index.json,
		 * written last, still names none of them) */
		for (size_t i = 0; i < s.l.written.n; i++)
			unlink(s.l.written.v[i]);
		perr_prefix(e, "sign %s", dir);
	}
	signer_targets_free(t, nt);
	signer_sboms_free(s.sboms, s.nsboms);
	oci_layout_close(&s.l);
	free(ref_name);
	free(ref);
	return ret;
}
