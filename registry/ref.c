/* ref.c - image references and docker's config.json credentials. */
#define _GNU_SOURCE
#include "registry_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

bool registry_tag_ok(const char *s)
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
		if (!registry_tag_ok(r->tag)) {
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

/* A helper's output on failure, for the error line: its first line, printable
 * bytes only, capped (a helper that fails prints an error, not the secret). */
static char *helper_msg(const strbuf *out)
{
	strbuf m = STRBUF_INIT;

	for (size_t i = 0; i < out->len && out->buf[i] != '\n' && m.len < 160; i++)
		if ((unsigned char)out->buf[i] >= 0x20 && out->buf[i] != 0x7f)
			sb_addc(&m, out->buf[i]);
	return sb_detach(&m);
}

/*
 * docker's credential-helper protocol, as docker, skopeo, crane and cosign
 * speak it: run `docker-credential-NAME get`, the registry host on stdin, and
 * read {"ServerURL","Username","Secret"} from stdout.  A helper that knows no
 * credentials for the host exits non-zero printing "credentials not found…":
 * that is "none" (returns 0 with *user NULL), not an error.
 */
static int helper_get(const char *name, const char *host, const char *cfg, char **user,
		      char **pass, perr *e)
{
	char *prog = xasprintf("docker-credential-%s", name);
	char *argv[] = { prog, "get", NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, st = 0, rc, ret = -1;
	posix_spawn_file_actions_t fa;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	strbuf buf = STRBUF_INIT;
	cJSON *j = NULL;
	const char *u, *sec;
	pid_t pid;

	*user = *pass = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		perr_errno(e, "pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]), close(out[1]);
	in[0] = out[1] = -1;
	if (rc != 0) {
		perr_set(e, "%s: credential helper %s for %s cannot run: %s%s", cfg, prog, host,
			 strerror(rc), rc == ENOENT ? " (not on PATH)" : "");
		goto out;
	}
	/* a helper that exits without reading must not kill us with SIGPIPE */
	sigaction(SIGPIPE, &ign, &old);
	rc = write_all(in[1], host, strlen(host));
	sigaction(SIGPIPE, &old, NULL);
	close(in[1]), in[1] = -1;
	for (;;) {
		sb_grow(&buf, 4096);
		ssize_t n = read(out[0], buf.buf + buf.len, buf.alloc - buf.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf.len += (size_t)n;
		buf.buf[buf.len] = 0;
		if (buf.len > (1 << 20)) /* no credential is a megabyte */
			break;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perr_errno(e, "waitpid %s", prog);
			goto out;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (buf.len && strstr(sb_str(&buf), "credentials not found")) {
			ret = 0;
			goto out;
		}
		char *msg = helper_msg(&buf);
		if (WIFEXITED(st))
			perr_set(e, "%s: credential helper %s get failed for %s (exit %d)%s%s", cfg,
				 prog, host, WEXITSTATUS(st), *msg ? ": " : "", msg);
		else
			perr_set(e, "%s: credential helper %s get for %s killed by signal %d", cfg,
				 prog, host, WTERMSIG(st));
		free(msg);
		goto out;
	}
	if (rc < 0 || buf.len > (1 << 20) ||
	    !(j = cJSON_ParseWithLength(sb_str(&buf), buf.len)) ||
	    !(u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Username"))) || !(sec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Secret")))) {
		perr_set(e, "%s: credential helper %s gave no {\"Username\",\"Secret\"} JSON for %s",
			 cfg, prog, host);
		goto out;
	}
	if (!strcmp(u, "<token>")) {
		/* an identity token is an OAuth2 refresh token for the registry's
		 * token service (grant_type=refresh_token), which pare does not
		 * implement: say so rather than send it as a password */
		perr_set(e,
			 "%s: credential helper %s holds an identity token for %s (username <token>): identity tokens are not supported; log in with a username and password or access token, or use --username U --password-stdin",
			 cfg, prog, host);
		goto out;
	}
	if (!*u && !*sec) {
		ret = 0;
		goto out;
	}
	*user = xstrdup(u);
	*pass = xstrdup(sec);
	ret = 0;
out:
	if (j) {
		sec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Secret"));
		if (sec)
			explicit_bzero((char *)sec, strlen(sec));
		cJSON_Delete(j);
	}
	if (buf.buf)
		explicit_bzero(buf.buf, buf.alloc);
	sb_release(&buf);
	for (int k = 0; k < 2; k++) {
		if (in[k] >= 0)
			close(in[k]);
		if (out[k] >= 0)
			close(out[k]);
	}
	free(prog);
	return ret;
}

/* credHelpers[host] (keys compared as auths keys are) */
static const char *cred_helper_for(const cJSON *j, const char *host)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "credHelpers")) {
		char *h = auth_key_host(a->string);
		bool match = !strcmp(h, host);
		free(h);
		if (match && cJSON_IsString(a))
			return a->valuestring;
	}
	return NULL;
}

static bool helper_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return false;
	return true;
}

int registry_docker_creds(const char *host, char **user, char **pass, perr *e)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path = NULL, *colon;
	strbuf buf = STRBUF_INIT, dec = STRBUF_INIT;
	cJSON *j = NULL, *a;
	const char *b64 = NULL;
	int ret = -1;

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
	/* docker's order: credHelpers[host], then credsStore, then auths */
	{
		const char *helper = cred_helper_for(j, host);
		if (!helper)
			helper = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "credsStore"));
		if (helper && *helper) {
			if (!helper_name_ok(helper)) {
				perr_set(e, "%s: credential helper name '%.64s' is not a plain name", path,
					 helper);
				goto out;
			}
			if (helper_get(helper, host, path, user, pass, e) < 0)
				goto out;
			if (*user) {
				ret = 0;
				goto out;
			}
		}
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
	if (base64_decode(b64, &dec, e) < 0) {
		perr_set(e, "%s: auths[\"%s\"].auth is not base64", path, host);
		goto out;
	}
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
