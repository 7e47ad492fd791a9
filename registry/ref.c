/* ref.c - image references and docker's config.json credentials. */
#define _GNU_SOURCE
#include "registry_int.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static bool repo_ok(const char *s)
{
	/* distribution's grammar, lower-case path components separated by '/' */
	if (!*s || *s == '/' || str_ends(s, "/") || strstr(s, "//"))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
			return false;
	return true;
}

bool reg_tag_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 128 || *s == '.' || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._-", *p)))
			return false;
	return true;
}

int registry_ref_parse(const char *s, struct registry_ref *r, perr *e)
{
	const char *slash = strchr(s, '/'), *at, *colon;
	char *rest = NULL;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	/* the messages below quote the reference: it must be one line */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			perr_set(e, "bad image reference: it holds a control character (byte %zu)",
				 (size_t)(p - (const unsigned char *)s) + 1);
			goto out;
		}
	if (!slash || slash == s) {
		perr_set(e, "bad image reference '%s': want HOST[:PORT]/REPO[:TAG][@sha256:…]", s);
		goto out;
	}
	r->host = xstrndup(s, (size_t)(slash - s));
	if (!strchr(r->host, '.') && !strchr(r->host, ':') && strcmp(r->host, "localhost")) {
		perr_set(e, "bad image reference '%s': '%s' is not a registry host (want HOST[:PORT]/REPO…)",
			 s, r->host);
		goto out;
	}
	rest = xstrdup(slash + 1);
	if ((at = strchr(rest, '@'))) {
		r->digest = xstrdup(at + 1);
		rest[at - rest] = 0;
		if (!str_starts(r->digest, "sha256:") || !is_sha256_hex(r->digest + 7)) {
			perr_set(e, "bad image reference '%s': digest must be sha256:<64 hex>", s);
			goto out;
		}
	}
	colon = strrchr(rest, ':');
	if (colon) {
		r->tag = xstrdup(colon + 1);
		rest[colon - rest] = 0;
		if (!reg_tag_ok(r->tag)) {
			perr_set(e, "bad image reference '%s': bad tag '%s'", s, r->tag);
			goto out;
		}
	}
	if (!repo_ok(rest)) {
		perr_set(e, "bad image reference '%s': bad repository name '%s' (lower case, digits, ._-/)",
			 s, rest);
		goto out;
	}
	r->repo = rest, rest = NULL;
	ret = 0;
out:
	free(rest);
	if (ret < 0)
		registry_ref_free(r);
	return ret;
}

void registry_ref_free(struct registry_ref *r)
{
	free(r->host), free(r->repo), free(r->tag), free(r->digest);
	memset(r, 0, sizeof(*r));
}

/* "https://HOST/v1/" -> "HOST" for comparing auths keys */
static char *auth_key_host(const char *k)
{
	const char *p = strstr(k, "://");

	p = p ? p + 3 : k;
	return xstrndup(p, strcspn(p, "/"));
}

int registry_docker_creds(const char *host, char **user, char **pass, perr *e)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path = NULL, *colon;
	strbuf buf = STRBUF_INIT, dec = STRBUF_INIT;
	cJSON *j = NULL, *a;
	const char *b64 = NULL;
	int ret = -1, n;
	size_t len, pad = 0;

	*user = *pass = NULL;
	if (dir && *dir)
		path = path_join(dir, "config.json");
	else if (home && *home)
		path = xasprintf("%s/.docker/config.json", home);
	if (!path || !path_exists(path)) {
		ret = 0;
		goto out;
	}
	if (read_file(path, &buf, 16 << 20, e) < 0)
		goto out;
	j = cJSON_ParseWithLength(buf.buf, buf.len);
	if (!j) {
		perr_set(e, "%s: not JSON", path);
		goto out;
	}
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "auths")) {
		char *h = auth_key_host(a->string);
		bool match = !strcmp(h, host);
		free(h);
		if (match && (b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "auth"))))
			break;
	}
	if (!b64 || !*b64) {
		ret = 0;
		goto out;
	}
	len = strlen(b64);
	if (len % 4) {
		perr_set(e, "%s: auths[\"%s\"].auth is not base64", path, host);
		goto out;
	}
	while (pad < 2 && len > pad && b64[len - 1 - pad] == '=')
		pad++;
	sb_grow(&dec, len / 4 * 3 + 1);
	n = EVP_DecodeBlock((unsigned char *)dec.buf, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		perr_set(e, "%s: auths[\"%s\"].auth is not base64", path, host);
		goto out;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	dec.len = (size_t)n - pad;
	dec.buf[dec.len] = 0;
	colon = memchr(dec.buf, ':', dec.len);
	if (!colon || strlen(dec.buf) != dec.len) {
		perr_set(e, "%s: auths[\"%s\"].auth is not base64 of USER:PASSWORD", path, host);
		goto out;
	}
	*user = xstrndup(dec.buf, (size_t)(colon - dec.buf));
	*pass = xstrdup(colon + 1);
	ret = 0;
out:
	if (buf.buf)
		explicit_bzero(buf.buf, buf.len);
	if (dec.buf)
		explicit_bzero(dec.buf, dec.alloc);
	sb_release(&buf);
	sb_release(&dec);
	cJSON_Delete(j);
	free(path);
	return ret;
}
