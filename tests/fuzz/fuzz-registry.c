/*
 * fuzz-registry.c - what a registry (or its token server) replies, and the
 * image references pare is given, through the parsers registry/ uses on
 * them (no network): the WWW-Authenticate challenge, the token endpoint's
 * JSON, an error body's errors[0], the upload Range header, a manifest or
 * index (digest checks, then every descriptor under it) and
 * registry_ref_parse.  The same bytes go to each.  Every failure explains
 * itself on one line; what is accepted is well-formed.
 */
#include "../../registry/registry_int.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void explained(const perr *e)
{
	if (!e->msg[0] || strchr(e->msg, '\n') || strchr(e->msg, '\r'))
		abort(); /* every failure explains itself, on one line */
}

static bool ctl_free(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static void challenge(const char *s)
{
	char *scheme, *realm, *service, *scope;

	registry_parse_challenge(s, &scheme, &realm, &service, &scope);
	if (!scheme || strchr(scheme, ' '))
		abort();
	free(scheme), free(realm), free(service), free(scope);
}

static void token(const uint8_t *data, size_t size)
{
	char *tok;

	if (registry_token_from_reply((const char *)data, size, &tok) == 0) {
		/* it becomes an Authorization header */
		if (!*tok || strpbrk(tok, " \r\n\t") || !ctl_free(tok))
			abort();
		free(tok);
	}
}

static void error_body(const uint8_t *data, size_t size)
{
	strbuf d = STRBUF_INIT;

	registry_reply_detail((const char *)data, size, &d);
	if (!ctl_free(sb_str(&d)) || d.len > 1024)
		abort();
	sb_release(&d);
}

static void range(const char *s)
{
	int64_t next = -1;

	if (registry_upload_next(s, &next) == 0 && next < 0)
		abort();
}

static void reference(const char *s)
{
	struct registry_ref r;
	perr e = { 0, "" };

	if (registry_ref_parse(s, &r, &e) < 0) {
		explained(&e);
		return;
	}
	if (!r.host || !r.repo || (r.tag && !registry_tag_ok(r.tag)) ||
	    (r.digest && (strlen(r.digest) != 71 || !is_sha256_hex(r.digest + 7))))
		abort();
	registry_ref_free(&r);
}

static void descriptors(const cJSON *doc, const char *mt)
{
	const cJSON *d;
	const char *dg;
	uint64_t sz;
	perr e = { 0, "" };

	if (!strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, OCI_MT_DOCKER_LIST)) {
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "manifests"))
			if (registry_descriptor("h", "index", d, &dg, &sz, &e) < 0)
				explained(&e);
		return;
	}
	if (registry_descriptor("h", "manifest", cJSON_GetObjectItemCaseSensitive(doc, "config"), &dg,
				&sz, &e) < 0)
		explained(&e);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "layers")) {
		e.msg[0] = '\0';
		if (registry_descriptor("h", "manifest", d, &dg, &sz, &e) < 0)
			explained(&e);
		else if (strlen(dg) != 71)
			abort();
	}
}

static void manifest(const uint8_t *data, size_t size)
{
	char hex[SHA256_HEX_LEN + 1], what[80], digest[72];
	char *mt = NULL;
	perr e = { 0, "" };
	cJSON *doc;

	/* by tag with a wrong header digest: refused, always */
	if (registry_manifest_check("h", "v1", (const char *)data, size,
				    "sha256:0000000000000000000000000000000000000000000000000000000000000000",
			       NULL, digest, &mt, &e) == 0 && size)
		abort();
	explained(&e);
	free(mt), mt = NULL;
	/* by its own digest: the JSON checks */
	sha256_hex(data, size, hex);
	snprintf(what, sizeof(what), "sha256:%s", hex);
	e.msg[0] = '\0';
	if (registry_manifest_check("h", what, (const char *)data, size, NULL,
				    "application/vnd.oci.image.manifest.v1+json; charset=utf-8", digest,
			       &mt, &e) < 0) {
		explained(&e);
		return;
	}
	if (strcmp(digest, what) || !mt || strpbrk(mt, "; "))
		abort();
	doc = cJSON_ParseWithLength((const char *)data, size);
	descriptors(doc, mt);
	cJSON_Delete(doc);
	free(mt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size); /* header values and references are strings */

	challenge(s);
	range(s);
	reference(s);
	token(data, size);
	error_body(data, size);
	manifest(data, size);
	free(s);
	return 0;
}
