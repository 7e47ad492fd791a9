/* unit-registry.c - image references and docker config.json credentials. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../registry/registry.h"

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

	/* "alice:pa:ss" -> user alice, password "pa:ss" (the first colon splits) */
	creds("{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"YWxpY2U6cGE6c3M=\"}}}", "127.0.0.1:5000",
	      "alice", "pa:ss", NULL);
	creds("{\"auths\":{\"https://reg.example/v1/\":{\"auth\":\"Ym9iOnNlY3JldA==\"}}}", "reg.example",
	      "bob", "secret", NULL);
	/* "ab:cdef" is 7 bytes: base64 ends in "==", which EVP_DecodeBlock counts as data */
	creds("{\"auths\":{\"r.example\":{\"auth\":\"YWI6Y2RlZg==\"}}}", "r.example", "ab", "cdef", NULL);
	creds("{\"auths\":{\"other.example\":{\"auth\":\"Ym9iOnNlY3JldA==\"}}}", "reg.example", NULL, NULL, NULL);
	creds("{\"credsStore\":\"desktop\"}", "reg.example", NULL, NULL, NULL);
	creds("{\"auths\":{\"reg.example\":{\"auth\":\"bm9jb2xvbg==\"}}}", "reg.example", NULL, NULL,
	      "not base64 of USER:PASSWORD");
	creds("{\"auths\":{\"reg.example\":{\"auth\":\"###\"}}}", "reg.example", NULL, NULL, "not base64");
	creds("{not json", "reg.example", NULL, NULL, "not JSON");
	TAP_DONE();
}
