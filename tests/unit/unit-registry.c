/* unit-registry.c - image references, docker config.json credentials, and the
 * parsers of what a registry replies (challenge, token, error body, Range,
 * manifest, descriptor). */
#define _GNU_SOURCE
#include "tap.h"
#include "../../registry/registry_int.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <unistd.h>

static void ref_ok(const char *s, const char *host, const char *repo, const char *tag,
		   const char *digest)
{
	struct registry_ref r;
	perr e = { 0, "" };
	int rc = registry_ref_parse(s, &r, &e);

	TAP_OK(rc == 0, "parse %s%s%s", s, rc ? ": " : "", rc ? e.msg : "");
	if (rc)
		return;
	TAP_STREQ(r.host, host, "%s: host", s);
	TAP_STREQ(r.repo, repo, "%s: repo", s);
	TAP_STREQ(r.tag ? r.tag : "", tag ? tag : "", "%s: tag", s);
	TAP_STREQ(r.digest ? r.digest : "", digest ? digest : "", "%s: digest", s);
	registry_ref_free(&r);
}

static void ref_bad(const char *s, const char *want)
{
	struct registry_ref r;
	perr e = { 0, "" };
	int rc = registry_ref_parse(s, &r, &e);

	TAP_OK(rc < 0 && strstr(e.msg, want), "refuse %s (%s)", s, e.msg);
}

static void creds(const char *json, const char *host, const char *user, const char *pass,
		  const char *err)
{
	char dir[] = "/tmp/unit-registry.XXXXXX", *path, *u = NULL, *p = NULL;
	perr e = { 0, "" };
	int rc;

	if (!mkdtemp(dir))
		return;
	path = xasprintf("%s/config.json", dir);
	write_file_atomic(path, json, strlen(json), 0600, &e);
	setenv("DOCKER_CONFIG", dir, 1);
	rc = registry_docker_creds(host, &u, &p, &e);
	if (err) {
		TAP_OK(rc < 0 && strstr(e.msg, err), "config.json for %s refused (%s)", host, e.msg);
	} else {
		TAP_OK(rc == 0, "config.json for %s", host);
		TAP_STREQ(u ? u : "(none)", user ? user : "(none)", "config.json %s: user", host);
		TAP_STREQ(p ? p : "(none)", pass ? pass : "(none)", "config.json %s: password", host);
	}
	free(u), free(p);
	unlink(path);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char *s;

	ref_ok("127.0.0.1:5000/img", "127.0.0.1:5000", "img", NULL, NULL);
	ref_ok("127.0.0.1:5000/team/img:v1.2-rc_3", "127.0.0.1:5000", "team/img", "v1.2-rc_3", NULL);
	ref_ok("localhost/img:latest", "localhost", "img", "latest", NULL);
	ref_ok("registry.example/a/b/c", "registry.example", "a/b/c", NULL, NULL);
	s = xasprintf("reg.example:443/img@%s", d);
	ref_ok(s, "reg.example:443", "img", NULL, d);
	free(s);
	s = xasprintf("reg.example/img:v1@%s", d);
	ref_ok(s, "reg.example", "img", "v1", d);
	free(s);
	ref_bad("img:v1", "want HOST[:PORT]/REPO");
	ref_bad("library/img", "is not a registry host");
	ref_bad("reg.example/Img", "bad repository name 'Img'");
	ref_bad("reg.example/img:", "bad tag ''");
	ref_bad("reg.example/img:-x", "bad tag '-x'");
	ref_bad("reg.example/img@sha256:abc", "digest must be sha256");
	ref_bad("reg.example/a//b", "bad repository name");
	ref_bad("/img", "want HOST");
	{
		/* fuzz-registry: the reference is quoted in every message */
		struct registry_ref r;
		perr e = { 0, "" };
		TAP_OK(registry_ref_parse("bad ref\nx", &r, &e) < 0 && strstr(e.msg, "control character") &&
			       !strchr(e.msg, '\n'),
		       "a reference with a newline: a one-line refusal (%s)", e.msg);
	}
	{
		char *sch, *realm, *svc, *scope;
		registry_parse_challenge("Bearer realm=\"http://127.0.0.1:5000/token\",service=\"x\","
				    "scope=\"repository:a/b:pull\"", &sch, &realm, &svc, &scope);
		TAP_OK(!strcmp(sch, "Bearer") && realm && !strcmp(realm, "http://127.0.0.1:5000/token") &&
			       svc && !strcmp(svc, "x") && scope && !strcmp(scope, "repository:a/b:pull"),
		       "challenge: scheme, realm, service, scope");
		free(sch), free(realm), free(svc), free(scope);
		registry_parse_challenge("Bearer realm=\"a\\\"b", &sch, &realm, &svc, &scope);
		TAP_OK(realm && !strcmp(realm, "a\"b") && !svc && !scope, "challenge: escapes, unterminated quote");
		free(sch), free(realm), free(svc), free(scope);
	}
	{
		char *tok = NULL;
		static const char crlf[] = "{\"token\":\"a\\r\\nX-Evil: 1\"}";
		TAP_OK(registry_token_from_reply("{\"token\":\"t0k\"}", 15, &tok) == 0 && !strcmp(tok, "t0k"),
		       "token: from \"token\"");
		free(tok);
		TAP_OK(registry_token_from_reply("{\"token\":\"\",\"access_token\":\"a\"}", 31, &tok) == 0 &&
			       !strcmp(tok, "a"), "token: from \"access_token\"");
		free(tok);
		TAP_OK(registry_token_from_reply(crlf, sizeof(crlf) - 1, &tok) < 0 && !tok,
		       "token: a CR LF (a header of the token server's own) refused");
		TAP_OK(registry_token_from_reply("[]", 2, &tok) < 0, "token: none in the reply");
	}
	{
		strbuf det = STRBUF_INIT;
		static const char nl[] = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"one\\ntwo\"}]}";
		registry_reply_detail(nl, sizeof(nl) - 1, &det);
		TAP_STREQ(sb_str(&det), " (DENIED: one?two)", "error body: one line, control characters replaced");
		sb_release(&det);
		registry_reply_detail("nope", 4, &det);
		TAP_STREQ(sb_str(&det), "", "error body: not JSON, nothing added");
		sb_release(&det);
	}
	{
		static const struct { const char *range; int64_t next; } rg[] = {
			{ "0-1048575", 1048576 }, { "0-0", 0 }, { "bytes=0-9", 10 },
			{ "0-9223372036854775807", -1 }, { "0--5", -1 }, { "0-", -1 }, { "-5", -1 },
			{ "0-5x", -1 }, { "0-99999999999999999999", -1 },
		};
		for (size_t i = 0; i < ARRAY_SIZE(rg); i++) {
			int64_t next = -1;
			int rc = registry_upload_next(rg[i].range, &next);
			TAP_OK(rg[i].next < 0 ? rc < 0 : rc == 0 && next == rg[i].next,
			       "Range '%s' -> %lld", rg[i].range, (long long)rg[i].next);
		}
	}
	{
		static const struct { const char *size; int ok; } sz[] = {
			{ "42", 1 }, { "0", 1 }, { "-1", 0 }, { "1.5", 0 }, { "1e300", 0 }, { "\"3\"", 0 },
			{ NULL, 0 },
		};
		for (size_t i = 0; i < ARRAY_SIZE(sz); i++) {
			char *j = xasprintf("{\"digest\":\"sha256:%064d\"%s%s}", 0, sz[i].size ? ",\"size\":" : "",
					    sz[i].size ? sz[i].size : "");
			cJSON *desc = cJSON_Parse(j);
			const char *dg = NULL;
			uint64_t n = 99;
			perr e = { 0, "" };
			int rc = registry_descriptor("h", "manifest m", desc, &dg, &n, &e);
			TAP_OK(sz[i].ok ? rc == 0 && n == strtoull(sz[i].size, NULL, 10)
					: rc < 0 && strstr(e.msg, "no valid size"),
			       "descriptor size %s %s", sz[i].size ? sz[i].size : "(missing)",
			       sz[i].ok ? "read" : "refused");
			cJSON_Delete(desc);
			free(j);
		}
	}
	{
		static const char m[] = "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}";
		char hex[65], what[80], dg[72], *mt = NULL;
		perr e = { 0, "" };
		sha256_hex(m, sizeof(m) - 1, hex);
		snprintf(what, sizeof(what), "sha256:%s", hex);
		TAP_OK(registry_manifest_check("h", what, m, sizeof(m) - 1, NULL, NULL, dg, &mt, &e) == 0 &&
			       !strcmp(dg, what) && !strcmp(mt, OCI_MT_INDEX), "manifest: digest and media type");
		free(mt), mt = NULL;
		TAP_OK(registry_manifest_check("h", "v1", m, sizeof(m) - 1, "sha256:00", NULL, dg, &mt, &e) < 0 &&
			       strstr(e.msg, "the bytes have digest"), "manifest: a wrong Docker-Content-Digest");
		TAP_OK(registry_manifest_check("h", "v1", "[1]", 3, NULL, NULL, dg, &mt, &e) < 0 &&
			       strstr(e.msg, "not a JSON object"), "manifest: not an object");
		TAP_OK(registry_manifest_check("h", "v1", "{}", 2, NULL, "application/x; charset=utf-8", dg, &mt,
					       &e) == 0 && !strcmp(mt, "application/x"),
		       "manifest: media type from Content-Type, parameters dropped");
		free(mt);
	}

	/* "alice:pa:ss" -> user alice, password "pa:ss" (the first colon splits) */
	creds("{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}", "127.0.0.1:5000",
	      "alice", "pa:ss", NULL);
	creds("{\"auths\":{\"https://reg.example/v1/\":{\"auth\":\"Ym9iOnNlY3JldA==\"}}}", "reg.example",
	      "bob", "secret", NULL);
	/* "ab:cdef" is 7 bytes: base64 ends in "==", which EVP_DecodeBlock counts as data */
	creds("{\"auths\":{\"r.example\":{\"auth\":\"YWI6Y2RlZg==\"}}}", "r.example", "ab", "cdef", NULL);
	creds("{\"auths\":{\"other.example\":{\"auth\":\"Ym9iOnNlY3JldA==\"}}}", "reg.example", NULL, NULL, NULL);
	/* a helper (docker-credential-desktop) that is not installed: named */
	creds("{\"credsStore\":\"desktop\"}", "reg.example", NULL, NULL, "docker-credential-desktop");
	creds("{\"auths\":{\"reg.example\":{\"auth\":\"bm9jb2xvbg==\"}}}", "reg.example", NULL, NULL,
	      "not base64 of USER:PASSWORD");
	creds("{\"auths\":{\"reg.example\":{\"auth\":\"###\"}}}", "reg.example", NULL, NULL, "not base64");
	creds("{not json", "reg.example", NULL, NULL, "not JSON");
	TAP_DONE();
}
