/* unit-oci.c - the OCI layout reader's refusals (oci/dir.c): a malformed or
 * missing digest, a blob larger than the caller's limit, a missing blob, one
 * whose bytes or size are not what its descriptor says, a document of the
 * wrong media type; and what it gives back when the layout is sound:
 * blobs written content-addressed, ref names, cosign's tags, descriptors. */
#include "../../oci/oci.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *put(const char *dir, const char *name, const char *text)
{
	char *p = path_join(dir, name);
	perr e;

	if (write_file_atomic(p, text, strlen(text), 0644, &e) < 0)
		die("%s", e.msg);
	return p;
}

/* Does e's message contain what? (printed when not, for the log) */
static bool says(const perr *e, const char *what)
{
	if (strstr(e->msg, what))
		return true;
	fprintf(stderr, "# message: %s\n", e->msg);
	return false;
}

/* A descriptor of the bytes text (digest and size its own, unless given). */
static cJSON *desc_of(const char *mt, const char *text)
{
	char dg[OCI_DIGEST_LEN + 1];

	oci_digest_of(text, dg);
	return oci_descriptor(mt, dg, strlen(text));
}

int main(void)
{
	char dir[] = "/tmp/unit-oci-XXXXXX";
	struct oci_layout l = { 0 };
	strbuf sb = STRBUF_INIT;
	perr e = { 0, "" };
	char dg[OCI_DIGEST_LEN + 1], dg2[OCI_DIGEST_LEN + 1], *p, *t;
	static const char manifest[] = "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_MANIFEST
				       "\",\"layers\":[]}";
	cJSON *d, *doc = NULL;
	uint64_t size;
	const char *sdg;

	if (!mkdtemp(dir))
		die("mkdtemp %s", dir);

	/* ---- opening */
	TAP_OK(oci_layout_open(dir, &l, &e) < 0 && says(&e, "no oci-layout file"),
	       "a directory without oci-layout is not a layout");
	free(put(dir, "oci-layout", OCI_LAYOUT_JSON));
	free(put(dir, "index.json", "{\"schemaVersion\":2}"));
	TAP_OK(oci_layout_open(dir, &l, &e) < 0 && says(&e, "no manifests array"),
	       "an index.json without manifests is refused");
	free(put(dir, "index.json", "{\"schemaVersion\":2,\"manifests\":[]}"));
	TAP_OK(oci_layout_open(dir, &l, &e) == 0, "a layout opens: %s", e.msg);

	/* ---- blobs written and read back */
	TAP_OK(oci_layout_write_blob(&l, "hello", 5, dg, &e) == 0 && l.written.n == 1,
	       "a blob is written and recorded: %s", e.msg);
	TAP_STREQ(dg, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
		  "its digest is its sha256");
	TAP_OK(oci_layout_write_blob(&l, "hello", 5, dg, &e) == 0 && l.written.n == 1,
	       "the same bytes again: kept, not recorded twice");
	TAP_OK(oci_layout_read_blob(&l, dg, 5, OCI_MAX_BLOB, &sb, &e) == 0 && sb.len == 5 &&
		       !memcmp(sb.buf, "hello", 5),
	       "the blob reads back: %s", e.msg);
	TAP_OK(oci_layout_read_blob(&l, dg, -1, OCI_MAX_BLOB, &sb, &e) == 0,
	       "no size in the descriptor: only the digest is checked");
	TAP_OK(oci_layout_check_blob(&l, dg, 5, &e) == 0, "the blob re-hashes: %s", e.msg);

	/* ---- bad digests */
	TAP_OK(oci_layout_read_blob(&l, NULL, -1, OCI_MAX_BLOB, &sb, &e) < 0 &&
		       says(&e, "a descriptor without a digest"),
	       "refused: no digest");
	TAP_OK(oci_layout_read_blob(&l, "sha256:2cf24dba", -1, OCI_MAX_BLOB, &sb, &e) < 0 &&
		       says(&e, "malformed digest 'sha256:2cf24dba'"),
	       "refused: a short digest");
	TAP_OK(oci_layout_read_blob(&l, "sha512:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
				    -1, OCI_MAX_BLOB, &sb, &e) < 0 &&
		       says(&e, "unsupported or malformed digest"),
	       "refused: another algorithm");
	TAP_OK(oci_layout_read_blob(&l, "sha256:../../../etc/passwd", -1, OCI_MAX_BLOB, &sb, &e) < 0 &&
		       says(&e, "malformed digest"),
	       "refused: a digest that is a path");
	TAP_OK(oci_layout_check_blob(&l, "sha256:\x01\x02", -1, &e) < 0 && says(&e, "(unprintable)"),
	       "refused: an unprintable digest is not echoed");
	TAP_OK(oci_layout_read_blob(&l, "SHA256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
				    -1, OCI_MAX_BLOB, &sb, &e) < 0,
	       "refused: an upper-case digest");

	/* ---- oversize, missing, tampered */
	TAP_OK(oci_layout_read_blob(&l, dg, -1, 4, &sb, &e) < 0 && says(&e, "larger than 4 bytes"),
	       "refused: a blob larger than the caller's limit");
	TAP_OK(oci_layout_read_blob(&l, dg, -1, 5, &sb, &e) == 0, "a blob of exactly the limit reads");
	oci_digest_of("absent", dg2);
	TAP_OK(oci_layout_read_blob(&l, dg2, -1, OCI_MAX_BLOB, &sb, &e) < 0 && says(&e, dg2 + 7),
	       "refused: a missing blob, named");
	TAP_OK(oci_layout_check_blob(&l, dg2, -1, &e) < 0, "refused: a missing blob (re-hash)");
	TAP_OK(oci_layout_read_blob(&l, dg, 6, OCI_MAX_BLOB, &sb, &e) < 0 &&
		       says(&e, "is 5 bytes, descriptor says 6"),
	       "refused: a size other than the descriptor's");
	TAP_OK(oci_layout_check_blob(&l, dg, 4, &e) < 0 && says(&e, "descriptor says 4"),
	       "refused: a size other than the descriptor's (re-hash)");
	t = xasprintf("blobs/sha256/%s", dg2 + 7);
	p = put(dir, t, "not absent");
	TAP_OK(oci_layout_read_blob(&l, dg2, -1, OCI_MAX_BLOB, &sb, &e) < 0 &&
		       says(&e, "does not match its digest"),
	       "refused: a blob whose bytes are not its digest's");
	TAP_OK(oci_layout_check_blob(&l, dg2, -1, &e) < 0 && says(&e, "does not match its digest"),
	       "refused: a blob whose bytes are not its digest's (re-hash)");
	unlink(p);
	free(p), free(t);

	/* ---- JSON documents by descriptor, and their media type */
	TAP_OK(oci_layout_write_blob(&l, manifest, strlen(manifest), dg, &e) == 0, "a manifest blob");
	d = desc_of(OCI_MT_MANIFEST, manifest);
	TAP_OK(oci_layout_read_json(&l, d, OCI_DOC_MANIFEST, OCI_MAX_JSON, &doc, &e) == 0 && doc,
	       "a manifest reads as a manifest: %s", e.msg);
	cJSON_Delete(doc);
	TAP_OK(oci_layout_read_json(&l, d, OCI_DOC_INDEX, OCI_MAX_JSON, &doc, &e) < 0 && !doc &&
		       says(&e, "not an image index"),
	       "refused: a manifest where an index is wanted");
	cJSON_Delete(d);
	d = desc_of(OCI_MT_INDEX, manifest);
	TAP_OK(oci_layout_read_json(&l, d, OCI_DOC_INDEX | OCI_DOC_MANIFEST, OCI_MAX_JSON, &doc, &e) < 0 &&
		       !doc && says(&e, "its descriptor says"),
	       "refused: a document whose mediaType is not its descriptor's");
	cJSON_Delete(d);
	d = desc_of(OCI_MT_CONFIG, manifest);
	TAP_OK(oci_layout_read_json(&l, d, OCI_DOC_MANIFEST, OCI_MAX_JSON, &doc, &e) < 0 &&
		       says(&e, "has media type '" OCI_MT_CONFIG "', not an image manifest"),
	       "refused: a config descriptor where a manifest is wanted");
	TAP_OK(oci_layout_read_json(&l, d, 0, OCI_MAX_JSON, &doc, &e) == 0 && doc,
	       "any document when no kind is wanted: %s", e.msg);
	cJSON_Delete(doc);
	TAP_OK(oci_layout_read_json(&l, d, 0, 8, &doc, &e) < 0 && says(&e, "larger than 8 bytes"),
	       "refused: a document larger than the caller's limit");
	cJSON_Delete(d);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "mediaType", OCI_MT_MANIFEST);
	TAP_OK(oci_layout_read_json(&l, d, OCI_DOC_MANIFEST, OCI_MAX_JSON, &doc, &e) < 0 &&
		       says(&e, "descriptor without digest"),
	       "refused: a descriptor without a digest");
	cJSON_Delete(d);
	TAP_OK(oci_layout_write_blob(&l, "{not json", 9, dg, &e) == 0, "a blob that is not JSON");
	d = desc_of(OCI_MT_MANIFEST, "{not json");
	TAP_OK(oci_layout_read_json(&l, d, OCI_DOC_MANIFEST, OCI_MAX_JSON, &doc, &e) < 0 &&
		       says(&e, "is not JSON"),
	       "refused: a document that is not JSON");
	cJSON_Delete(d);

	/* ---- descriptors */
	d = cJSON_Parse("{\"digest\":\"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\","
			"\"size\":5}");
	TAP_OK(oci_desc_ok(d, &sdg, &size) && size == 5, "a descriptor with digest and size");
	cJSON_ReplaceItemInObject(d, "size", cJSON_CreateNumber(5.5));
	TAP_OK(!oci_desc_ok(d, &sdg, &size), "refused: a fractional size");
	cJSON_ReplaceItemInObject(d, "size", cJSON_CreateNumber(-1));
	TAP_OK(!oci_desc_ok(d, &sdg, &size) && oci_json_size(d) == -1, "refused: a negative size");
	cJSON_ReplaceItemInObject(d, "size", cJSON_CreateNumber(1e300));
	TAP_OK(!oci_desc_ok(d, &sdg, &size) && oci_json_size(d) == INT64_MAX,
	       "refused: a size no blob has");
	cJSON_ReplaceItemInObject(d, "digest", cJSON_CreateString("sha256:2cf24dba"));
	cJSON_ReplaceItemInObject(d, "size", cJSON_CreateNumber(5));
	TAP_OK(!oci_desc_ok(d, &sdg, &size), "refused: a malformed digest");
	cJSON_Delete(d);

	/* ---- ref names and cosign's tags */
	t = oci_cosign_tag(dg, OCI_TAG_SIG);
	TAP_OK(str_starts(t, "sha256-") && !strcmp(t + 7 + SHA256_HEX_LEN, ".sig") &&
		       !strncmp(t + 7, dg + 7, SHA256_HEX_LEN),
	       "cosign's signature tag is sha256-HEX.sig (%s)", t);
	TAP_OK(oci_tag_is_attached(t) && !oci_tag_is_attached("latest") && !oci_tag_is_attached(NULL),
	       "a cosign tag is attached to an image, an image tag is not");
	free(t);
	t = oci_cosign_tag(dg, OCI_TAG_REFERRERS);
	TAP_OK(strlen(t) == 7 + SHA256_HEX_LEN, "the referrers fallback tag is sha256-HEX (%s)", t);
	d = desc_of(OCI_MT_MANIFEST, manifest);
	oci_layout_set_ref(&l, t, d);
	oci_layout_set_ref(&l, t, desc_of(OCI_MT_MANIFEST, "{not json"));
	TAP_OK(cJSON_GetArraySize(cJSON_GetObjectItem(l.index, "manifests")) == 1 &&
		       oci_layout_find_ref(&l, t) &&
		       oci_json_size(oci_layout_find_ref(&l, t)) == 9 && !oci_layout_find_ref(&l, "x"),
	       "a ref name is set once, replaced, and found");
	TAP_OK(oci_layout_save_index(&l, &e) == 0, "index.json saved: %s", e.msg);
	oci_layout_close(&l);
	TAP_OK(oci_layout_open(dir, &l, &e) == 0 && oci_layout_find_ref(&l, t) &&
		       !strcmp(oci_annotation(oci_layout_find_ref(&l, t), OCI_ANN_REF_NAME), t),
	       "the saved index.json reads back with its ref name");
	free(t);
	oci_layout_close(&l);

	rm_rf(dir, &e);
	sb_release(&sb);
	TAP_DONE();
}
