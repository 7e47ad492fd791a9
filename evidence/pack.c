/* pack.c - pare evidence -o: each image's evidence gathered in memory (the
 * layout without its image layers, byte for byte; the cosign signatures;
 * SBOMs; provenance; the benchmark and CVE reports; the lock entry), then
 * the keys, VERIFY.md, index.html and the signed MANIFEST.sha256, written
 * in one go (out.c).  Nothing from the wall clock: the same inputs give the
 * same bytes (docs/evidence.md). */
#define _GNU_SOURCE
#include "evidence_int.h"
#include "../oci/oci.h"
#include "../signer/signer.h"
#include "../cve/cve.h"

#include <stdlib.h>
#include <string.h>

strbuf *evidence_add(struct evidence_pack *p, const char *fmt, ...)
{
	struct evidence_file *f;
	va_list ap;
	strbuf name = STRBUF_INIT;

	va_start(ap, fmt);
	sb_vaddf(&name, fmt, ap);
	va_end(ap);
	ALLOC_GROW(p->f, p->n + 1, p->alloc);
	f = &p->f[p->n++];
	f->name = sb_detach(&name);
	f->data = (strbuf)STRBUF_INIT;
	sb_grow(&f->data, 0);
	return &f->data;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct evidence_file *)a)->name, ((const struct evidence_file *)b)->name);
}

void evidence_sort(struct evidence_pack *p)
{
	if (p->n)
		qsort(p->f, p->n, sizeof(*p->f), file_cmp);
}

void evidence_pack_release(struct evidence_pack *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->f[i].name);
		sb_release(&p->f[i].data);
	}
	free(p->f);
	memset(p, 0, sizeof(*p));
}

void evidence_image_release(struct evidence_image *im)
{
	for (size_t i = 0; i < im->nsigs; i++) {
		free(im->sigs[i].label), free(im->sigs[i].target);
		free(im->sigs[i].payload), free(im->sigs[i].sig);
	}
	for (size_t i = 0; i < im->natts; i++) {
		free(im->atts[i].label), free(im->atts[i].type);
		free(im->atts[i].envelope), free(im->atts[i].subject);
	}
	free(im->sigs), free(im->atts);
	audit_reports_free(im->reps, im->nreps);
	free(im->name), free(im->arg), free(im->recipe), free(im->index);
	memset(im, 0, sizeof(*im));
}

/* A name safe as a path component: [A-Za-z0-9._-], no leading dot. */
static char *safe_name(const char *s)
{
	char *r = xstrdup(*s ? s : "image");

	for (char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || (*p == '.' && p != r)))
			*p = '_';
	return r;
}

/* What gathering one image needs. */
struct gather {
	struct evidence_pack *p;
	struct evidence_image *im;
	struct oci_layout l;
	strvec seen; /* blobs already in the pack */
};

static bool is_layer(const char *mt)
{
	return mt && (str_starts(mt, OCI_MT_LAYER_PREFIX) || str_starts(mt, OCI_MT_DOCKER_LAYER_PREFIX));
}

static char *blob_name(const struct gather *g, const char *digest)
{
	return xasprintf("%s/layout/blobs/sha256/%s", g->im->name, digest + 7);
}

/* The blob desc names, and what it references when it is an index or a
 * manifest, into the pack; image layers left out. */
static int copy_desc(struct gather *g, const cJSON *desc, int depth, perr *e)
{
	const char *dg, *mt = oci_json_str(desc, "mediaType");
	const cJSON *d;
	uint64_t size;
	strbuf *out;
	cJSON *doc = NULL;
	int ret = -1;

	if (!oci_desc_ok(desc, &dg, &size))
		return perr_set(e, "%s: a descriptor without a sha256 digest and size", g->l.dir);
	if (is_layer(mt) || sv_contains(&g->seen, dg))
		return 0;
	if (depth > 6)
		return perr_set(e, "%s: indexes nested too deep at %s", g->l.dir, dg);
	sv_push(&g->seen, dg);
	out = evidence_add(g->p, "%s/layout/blobs/sha256/%s", g->im->name, dg + 7);
	if (oci_layout_read_desc(&g->l, desc, OCI_MAX_BLOB, out, e) < 0)
		return -1;
	if (!mt || !(oci_mt_is_index(mt) || oci_mt_is_manifest(mt)))
		return 0;
	doc = cJSON_ParseWithLength(out->buf, out->len);
	if (!doc)
		return perr_set(e, "%s: blob %s is not JSON", g->l.dir, dg);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "manifests"))
		if (copy_desc(g, d, depth + 1, e) < 0)
			goto out;
	d = cJSON_GetObjectItemCaseSensitive(doc, "config");
	if (d && copy_desc(g, d, depth + 1, e) < 0)
		goto out;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "layers"))
		if (copy_desc(g, d, depth + 1, e) < 0)
			goto out;
	ret = 0;
out:
	cJSON_Delete(doc);
	return ret;
}

/* "index", the platform's arch ("amd64", "arm-v7"), or the digest's start. */
static char *label_of(const struct gather *g, const char *digest)
{
	if (g->im->index && !strcmp(digest, g->im->index))
		return xstrdup("index");
	for (size_t i = 0; i < g->im->nreps; i++)
		if (!strcmp(g->im->reps[i].img.digest, digest)) {
			const char *pl = g->im->reps[i].img.platform;
			char *s = safe_name(str_starts(pl, "linux/") ? pl + 6 : pl);

			for (char *p = s; *p; p++)
				if (*p == '_')
					*p = '-';
			return s;
		}
	return xasprintf("sha256-%.12s", digest + 7);
}

static const char *cosign_type(const char *predicate)
{
	if (!strcmp(predicate, SIGNER_PRED_SPDX))
		return "spdxjson";
	if (!strcmp(predicate, SIGNER_PRED_CYCLONEDX))
		return "cyclonedx";
	if (!strcmp(predicate, SIGNER_PRED_SLSA1))
		return "slsaprovenance1";
	return predicate;
}

/* The signature and attestation layers of the cosign image entry names
 * (tag "sha256-HEX.sig" / ".att"); provenance statements decoded. */
static int attached(struct gather *g, const cJSON *entry, const char *tag, perr *e)
{
	bool sig = str_ends(tag, OCI_TAG_SIG);
	char target[OCI_DIGEST_LEN + 1];
	const cJSON *lay;
	cJSON *m = NULL;
	char *label;
	size_t k = 0, nl;
	int ret = -1;

	snprintf(target, sizeof(target), "sha256:%.64s", tag + 7);
	label = label_of(g, target);
	if (oci_layout_read_json(&g->l, entry, OCI_DOC_MANIFEST, OCI_MAX_JSON, &m, e) < 0)
		goto out;
	nl = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "layers"));
	cJSON_ArrayForEach(lay, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		const char *dg = oci_json_str(lay, "digest");
		char *name = nl > 1 ? xasprintf("%s-%zu", label, ++k) : xstrdup(label);

		if (!oci_digest_ok(dg)) {
			free(name);
			perr_set(e, "%s: %s: a layer without a sha256 digest", g->l.dir, tag);
			goto out;
		}
		if (sig) {
			const char *b64 = oci_annotation(lay, OCI_ANN_COSIGN_SIG);
			struct evidence_sig *s;

			if (!b64) {
				free(name);
				perr_set(e, "%s: %s: a layer without its signature annotation", g->l.dir, tag);
				goto out;
			}
			g->im->sigs = xrealloc(g->im->sigs, (g->im->nsigs + 1) * sizeof(*s));
			s = &g->im->sigs[g->im->nsigs++];
			s->label = name;
			s->target = xstrdup(target);
			s->payload = blob_name(g, dg);
			s->sig = xasprintf("%s/signatures/%s.sig", g->im->name, name);
			sb_adds(evidence_add(g->p, "%s", s->sig), b64);
		} else {
			const char *pt = oci_annotation(lay, "predicateType");
			struct evidence_att *a;

			g->im->atts = xrealloc(g->im->atts, (g->im->natts + 1) * sizeof(*a));
			a = &g->im->atts[g->im->natts++];
			a->label = name;
			a->type = xstrdup(pt ? cosign_type(pt) : "custom");
			a->envelope = blob_name(g, dg);
			a->subject = blob_name(g, target);
			if (pt && !strcmp(pt, SIGNER_PRED_SLSA1)) {
				strbuf env = STRBUF_INIT;
				cJSON *j = NULL;
				int r = oci_layout_read_blob(&g->l, dg, oci_json_size(lay), OCI_MAX_BLOB, &env, e);

				if (r == 0) {
					j = cJSON_ParseWithLength(env.buf, env.len);
					r = oci_json_str(j, "payload") ? 0 : perr_set(e, "%s: %s: not a DSSE envelope",
										      g->l.dir, dg);
				}
				if (r == 0)
					r = base64_decode(oci_json_str(j, "payload"),
							  evidence_add(g->p, "%s/provenance/%s.slsa.json", g->im->name,
								 label), e);
				cJSON_Delete(j);
				sb_release(&env);
				if (r < 0)
					goto out;
			}
		}
	}
	ret = 0;
out:
	cJSON_Delete(m);
	free(label);
	return ret;
}

/* An SBOM artifact entry: its document as sbom/LABEL.spdx.json or .cdx.json. */
static int sbom(struct gather *g, const cJSON *entry, const char *format, perr *e)
{
	const char *arch = oci_annotation(entry, OCI_ANN_SBOM_ARCH), *idx = oci_annotation(entry, OCI_ANN_SBOM_INDEX);
	const char *files = oci_annotation(entry, OCI_ANN_SBOM_FILES);
	const cJSON *lay;
	cJSON *m = NULL;
	char *label = safe_name(idx && !strcmp(idx, "true") ? "index" : arch ? arch : "image");
	int ret = -1;

	if (oci_layout_read_json(&g->l, entry, OCI_DOC_MANIFEST, OCI_MAX_JSON, &m, e) < 0)
		goto out;
	lay = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "layers"), 0);
	if (!lay) {
		perr_set(e, "%s: SBOM artifact %s has no layer", g->l.dir, oci_json_str(entry, "digest"));
		goto out;
	}
	if (oci_layout_read_desc(&g->l, lay, OCI_MAX_BLOB,
				 evidence_add(g->p, "%s/sbom/%s%s.%s.json", g->im->name, label,
					files && !strcmp(files, "true") ? ".files" : "",
					!strcmp(format, "spdx") ? "spdx" : "cdx"), e) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(m);
	free(label);
	return ret;
}

static int json_file(strbuf *sb, cJSON *doc)
{
	char *s = cJSON_Print(doc);

	if (!s)
		die("out of memory");
	sb_adds(sb, s);
	sb_addc(sb, '\n');
	free(s);
	cJSON_Delete(doc);
	return 0;
}

/* The CVE report and VEX of the image, when the feeds are synced. */
static int cve_part(struct gather *g, const char *path, perr *e)
{
	struct cve_config c;
	struct cve_report r = { 0 };
	struct cve_subject *subs = NULL;
	size_t ns = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int ret = -1;

	if (!cve_synced())
		return 0;
	if (cve_config_load(&c, e) < 0)
		return -1;
	if (cve_subject_from_image(path, NULL, &subs, &ns, e) < 0)
		goto out;
	ret = cve_match(&c, subs, ns, 0, &r, e);
	subs = NULL, ns = 0; /* moved into r */
	if (ret < 0)
		goto out;
	ret = -1;
	f = open_memstream(&buf, &len);
	if (!f)
		die("out of memory");
	if (cve_print_json(f, &r, e) < 0)
		goto out;
	fclose(f);
	f = NULL;
	sb_add(evidence_add(g->p, "%s/cve/cve.json", g->im->name), buf, len);
	if (cve_write_openvex(&r, evidence_add(g->p, "%s/cve/openvex.json", g->im->name), e) < 0 ||
	    cve_write_cdx_vex(&r, evidence_add(g->p, "%s/cve/cyclonedx-vex.json", g->im->name), e) < 0)
		goto out;
	for (size_t i = 0; i < r.nfindings; i++)
		if ((size_t)r.findings[i].cls < ARRAY_SIZE(g->im->cve_counts))
			g->im->cve_counts[r.findings[i].cls]++;
	g->im->cve = true;
	ret = 0;
out:
	if (f)
		fclose(f);
	free(buf);
	for (size_t i = 0; i < ns; i++)
		cve_subject_release(&subs[i]);
	free(subs);
	cve_report_release(&r);
	cve_config_release(&c);
	return ret;
}

/* Everything of the image at path into the pack under images/NAME. */
static int gather_image(struct evidence_pack *p, struct evidence_image *ims, size_t i, const char *path,
			const struct evidence_opts *o, const cJSON *lock, int64_t now, perr *e)
{
	struct evidence_image *im = &ims[i];
	struct audit_opts ao = { NULL, o->recipes_dir, now };
	struct gather g = { .p = p, .im = im };
	struct oci_input in = { 0 };
	const cJSON *entry;
	strbuf *sb;
	char *base, *name;
	perr first;
	int ret = -1;

	im->arg = xstrdup(path);
	im->key = -1;
	first.msg[0] = '\0';
	if (oci_input_open(path, false, &in, e) < 0)
		return perr_prefix(e, "evidence");
	/* the key its signatures verify with: the pack verifies as a whole */
	for (size_t k = 0; k < o->keys->n && im->key < 0; k++) {
		perr e2;

		if (signer_verify_layout(in.dir, o->keys->v[k], NULL, NULL, NULL, &e2) == 0)
			im->key = (int)k;
		else if (!k)
			first = e2;
	}
	if (im->key < 0) {
		if (o->keys->n)
			perr_set(e, "its signatures do not verify with %s%s: %s", o->keys->n > 1 ? "any --key, the first " : "",
				 o->keys->v[0], first.msg);
		else
			perr_set(e, "no --key: give the public key its signatures verify with");
		goto out;
	}
	ao.key = o->keys->v[im->key];
	if (audit_path(path, &ao, &im->reps, &im->nreps, e) < 0)
		goto out;
	if (!im->nreps) {
		perr_set(e, "no image in it");
		goto out;
	}
	/* the name: the recipe's, the ref name's, the file's */
	if (im->reps[0].recipe)
		im->recipe = xstrdup(im->reps[0].recipe);
	if (im->recipe)
		base = xstrdup(im->recipe);
	else if (im->reps[0].img.ref)
		base = xstrndup(im->reps[0].img.ref, strcspn(im->reps[0].img.ref, ":@"));
	else {
		char *o_ = out_path(path);

		base = xstrdup(path_basename(o_));
		if (str_ends(base, ".tar"))
			base[strlen(base) - 4] = '\0';
		free(o_);
	}
	name = safe_name(base);
	free(base);
	im->name = xasprintf("images/%s", name);
	for (int k = 2; ; k++) {
		size_t j;

		for (j = 0; j < i && strcmp(ims[j].name, im->name); j++)
			;
		if (j == i)
			break;
		free(im->name);
		im->name = xasprintf("images/%s-%d", name, k);
	}
	free(name);

	if (oci_layout_open(in.dir, &g.l, e) < 0)
		goto out;
	/* the layout's own files, byte for byte */
	{
		char *f = path_join(in.dir, "index.json");

		ret = read_file(f, evidence_add(p, "%s/layout/index.json", im->name), OCI_MAX_JSON, e);
		free(f);
		if (ret < 0)
			goto out;
		ret = -1;
		sb_adds(evidence_add(p, "%s/layout/oci-layout", im->name), OCI_LAYOUT_JSON);
	}
	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(g.l.index, "manifests")) {
		const char *ref = oci_annotation(entry, OCI_ANN_REF_NAME);
		const char *mt = oci_json_str(entry, "mediaType");

		if (!im->index && mt && oci_mt_is_index(mt) && !(ref && oci_tag_is_attached(ref)))
			im->index = xstrdup(oci_json_str(entry, "digest"));
		if (copy_desc(&g, entry, 0, e) < 0)
			goto out;
	}
	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(g.l.index, "manifests")) {
		const char *ref = oci_annotation(entry, OCI_ANN_REF_NAME);
		const char *fmt = oci_annotation(entry, OCI_ANN_SBOM_FORMAT);

		if (ref && str_starts(ref, "sha256-") && strlen(ref) >= 7 + SHA256_HEX_LEN &&
		    (str_ends(ref, OCI_TAG_SIG) || str_ends(ref, OCI_TAG_ATT))) {
			if (attached(&g, entry, ref, e) < 0)
				goto out;
		} else if (fmt && (!strcmp(fmt, "spdx") || !strcmp(fmt, "cyclonedx"))) {
			if (sbom(&g, entry, fmt, e) < 0)
				goto out;
		}
	}
	sb = evidence_add(p, "%s/digests.txt", im->name);
	if (im->index)
		sb_addf(sb, "index %s\n", im->index);
	for (size_t k = 0; k < im->nreps; k++)
		sb_addf(sb, "%s %s\n", im->reps[k].img.platform, im->reps[k].img.digest);
	json_file(evidence_add(p, "%s/audit/audit.json", im->name), audit_json(im->reps, im->nreps));
	json_file(evidence_add(p, "%s/audit/audit.sarif.json", im->name), audit_sarif(im->reps, im->nreps));
	if (cve_part(&g, path, e) < 0)
		goto out;
	if (lock && im->recipe) {
		const cJSON *ent = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lock, "recipes"),
								    im->recipe);

		if (ent) {
			cJSON *doc = cJSON_CreateObject();

			cJSON_AddItemToObject(doc, "version",
					      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(lock, "version"), 1));
			cJSON_AddItemToObject(cJSON_AddObjectToObject(doc, "recipes"), im->recipe,
					      cJSON_Duplicate(ent, 1));
			json_file(evidence_add(p, "%s/lock.json", im->name), doc);
			im->locked = true;
		} else
			warning("evidence: %s: recipe %s is not in %s", path, im->recipe, o->lock);
	}
	ret = 0;
out:
	if (ret < 0)
		perr_prefix(e, "evidence: %s", path);
	oci_layout_close(&g.l);
	oci_input_close(&in);
	sv_clear(&g.seen);
	return ret;
}

/* The newest source_date_epoch of the lock's recipes, 0 when none. */
static int64_t lock_epoch(const cJSON *lock)
{
	const cJSON *r;
	int64_t t = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(lock, "recipes")) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "source_date_epoch");

		if (cJSON_IsNumber(s) && s->valuedouble > (double)t)
			t = (int64_t)s->valuedouble;
	}
	return t;
}

static int add_keys(struct evidence_pack *p, const struct evidence_opts *o, struct evidence_key *keys, perr *e)
{
	for (size_t i = 0; i < o->keys->n; i++) {
		signer_key *k = NULL;
		char *name = safe_name(path_basename(o->keys->v[i]));
		strbuf *sb;

		keys[i].file = xasprintf("keys/%s", name);
		free(name);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(keys[j].file, keys[i].file))
				return perr_set(e, "evidence: --key %s: a second key named %s", o->keys->v[i],
						path_basename(keys[i].file));
		sb = evidence_add(p, "%s", keys[i].file);
		if (read_file(o->keys->v[i], sb, 1 << 20, e) < 0 || signer_load_public(o->keys->v[i], &k, e) < 0)
			return perr_prefix(e, "evidence: --key");
		keys[i].type = xstrdup(signer_key_name(k));
		sha256_hex(sb->buf, sb->len, keys[i].sha256);
		signer_key_free(k);
	}
	return 0;
}

/* The --key that goes with the private key sk, or -1 (one line). */
static int signing_key(signer_key *sk, const struct evidence_opts *o, perr *e)
{
	static const char probe[] = "pare evidence: which key";
	strbuf sig = STRBUF_INIT;
	int found = -1;

	if (signer_sign_bytes(sk, probe, sizeof(probe), &sig, e) < 0)
		return -1;
	for (size_t i = 0; i < o->keys->n && found < 0; i++) {
		signer_key *k = NULL;
		perr e2;

		if (signer_load_public(o->keys->v[i], &k, &e2) == 0 &&
		    signer_verify_bytes(k, probe, sizeof(probe), sig.buf, sig.len, &e2) == 0)
			found = (int)i;
		signer_key_free(k);
	}
	sb_release(&sig);
	if (found < 0)
		return perr_set(e, "evidence: --sign-key %s: its public key is not among the --key files "
				   "(give it with --key, so the pack names the key that signed it)", o->sign_key);
	return found;
}

/* The signature of the pack o->out replaces, into sig, when it signed the
 * same manifest with the same key: ECDSA signatures are randomized, and a
 * pack made again from the same inputs stays the same bytes.  -1: none. */
static int keep_signature(const struct evidence_opts *o, int signer, const strbuf *manifest, strbuf *sig)
{
	strbuf om = STRBUF_INIT, os = STRBUF_INIT;
	signer_key *k = NULL;
	perr e2;
	int ret = -1;

	if (evidence_read_signed(o->out, &om, &os) == 0 && om.len == manifest->len &&
	    !memcmp(om.buf, manifest->buf, om.len) && signer_load_public(o->keys->v[signer], &k, &e2) == 0 &&
	    signer_verify_bytes(k, om.buf, om.len, os.buf, os.len, &e2) == 0) {
		sb_add(sig, os.buf, os.len);
		ret = 0;
	}
	signer_key_free(k);
	sb_release(&om);
	sb_release(&os);
	return ret;
}

int evidence_make(const struct evidence_opts *o, char **images, size_t n, perr *e)
{
	struct evidence_pack p = { 0 };
	struct evidence_image *ims = xcalloc(n ? n : 1, sizeof(*ims));
	struct evidence_key *keys = xcalloc(o->keys->n + 1, sizeof(*keys));
	signer_key *sk = NULL;
	cJSON *lock = NULL;
	strbuf buf = STRBUF_INIT, *sb;
	int64_t mtime;
	int ret = -1, signer = -1;

	if (o->lock) {
		if (read_file(o->lock, &buf, 0, e) < 0)
			goto out;
		lock = cJSON_ParseWithLength(buf.buf, buf.len);
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(lock, "recipes"))) {
			perr_set(e, "evidence: --lock %s: not a recipes.lock (no recipes object)", o->lock);
			goto out;
		}
	}
	mtime = source_date_epoch(lock ? lock_epoch(lock) : 0);
	if (o->sign_key && (signer_load_private(o->sign_key, &sk, e) < 0 ||
			    (signer = signing_key(sk, o, e)) < 0))
		goto out;
	if (add_keys(&p, o, keys, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (gather_image(&p, ims, i, images[i], o, lock, mtime, e) < 0)
			goto out;
	if (o->cve_history)
		sb_adds(evidence_add(&p, "cve-history.json"), o->cve_history);
	sb_adds(evidence_add(&p, EV_MARKER), "pare evidence pack 1\n");
	evidence_verify_md(evidence_add(&p, "VERIFY.md"), ims, n, keys, o->keys->n, signer >= 0 ? &keys[signer] : NULL);
	/* index.html lists every file (by name): filled in last */
	evidence_add(&p, "index.html");
	evidence_sort(&p);
	sb = NULL;
	for (size_t i = 0; i < p.n && !sb; i++)
		if (!strcmp(p.f[i].name, "index.html"))
			sb = &p.f[i].data;
	evidence_index_html(sb, ims, n, keys, o->keys->n, signer >= 0 ? &keys[signer] : NULL, &p);
	sb_reset(&buf);
	for (size_t i = 0; i < p.n; i++) {
		char hex[SHA256_HEX_LEN + 1];

		sha256_hex(p.f[i].data.buf, p.f[i].data.len, hex);
		sb_addf(&buf, "%s  %s\n", hex, p.f[i].name);
	}
	sb_add(evidence_add(&p, EV_MANIFEST), buf.buf, buf.len);
	if (sk && keep_signature(o, signer, &buf, evidence_add(&p, EV_MANIFEST_SIG)) < 0 &&
	    signer_sign_bytes(sk, buf.buf, buf.len, &p.f[p.n - 1].data, e) < 0)
		goto out;
	evidence_sort(&p);
	if (evidence_write(&p, o->out, mtime, e) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		evidence_image_release(&ims[i]);
	for (size_t i = 0; i < o->keys->n; i++)
		free(keys[i].file), free(keys[i].type);
	free(ims), free(keys);
	evidence_pack_release(&p);
	signer_key_free(sk);
	cJSON_Delete(lock);
	sb_release(&buf);
	return ret;
}
