/* cmd_push.c - pare push: an OCI layout or oci-archive to a registry. */
#define _GNU_SOURCE
#include "cli.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../registry/registry.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_opt cli_registry_opts[] = {
	{ CLI_INSECURE, "insecure", "HOST[:PORT]", CLI_REPEAT,
	  "that registry over plain http or unverified TLS (loopback, tests)" },
	{ CLI_USERNAME, "username", "U", 0, "log in as U (with --password-stdin)" },
	{ CLI_PASSWORD_STDIN, "password-stdin", NULL, 0,
	  "read the password from standard input (never on the command line)" },
	{ 0 },
};

bool cli_registry_opt(struct cli_registry *r, int key, const char *val)
{
	switch (key) {
	case CLI_INSECURE: sv_push(&r->insecure, val); break;
	case CLI_USERNAME: r->user = val; break;
	case CLI_PASSWORD_STDIN: r->pw_stdin = true; break;
	default: return false;
	}
	return true;
}

int cli_registry_finish(struct cli_registry *r, perr *e)
{
	strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	r->o.insecure = &r->insecure;
	if (r->pw_stdin && !r->user)
		return perr_set(e, "--password-stdin needs --username");
	if (r->user && !r->pw_stdin)
		return perr_set(e, "--username needs --password-stdin (passwords never go on the command line)");
	if (!r->user)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		sb_add(&sb, buf, n);
	explicit_bzero(buf, sizeof(buf));
	while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
		sb.buf[--sb.len] = 0;
	if (!sb.len) {
		sb_release(&sb);
		return perr_set(e, "--password-stdin: empty password on standard input");
	}
	r->pass = sb_detach(&sb);
	r->o.username = r->user;
	r->o.password = r->pass;
	return 0;
}

void cli_registry_release(struct cli_registry *r)
{
	if (r->pass) {
		explicit_bzero(r->pass, strlen(r->pass));
		free(r->pass);
	}
	sv_clear(&r->insecure);
	memset(r, 0, sizeof(*r));
}

const struct cli_opt cli_push_opts[] = {
	CLI_OPTS_INCLUDE(cli_registry_opts),
	{ 'T', "tag", "T", CLI_REPEAT, "tag the image T as well" },
	{ 'f', "from", "REPO", 0, "mount the blobs it has from REPO on the same registry" },
	{ 'c', "chunk-size", "BYTES", 0, "upload larger blobs in chunks of BYTES (>= 1024; default 16 MiB)" },
	{ 'J', "json", NULL, 0, "what was uploaded, as JSON on stdout" },
	{ 0 },
};

int cmd_push(int argc, char **argv, perr *e)
{
	struct cli_registry r = { 0 };
	struct registry_opts *o = &r.o;
	struct registry_push_result res = { 0 };
	struct oci_input in = { .slot = -1 };
	struct cli_args a;
	strvec tags = STRVEC_INIT;
	char *end;
	bool json = false;
	int ret = -1, c;

	o->tags = &tags;
	cli_args_init(&a, argc, argv, cli_push_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		if (cli_registry_opt(&r, c, a.val))
			continue;
		switch (c) {
		case 'T':
			if (!*a.val || strpbrk(a.val, "/:@ \t")) {
				perr_set(e, "push: bad --tag '%s'", a.val);
				goto out;
			}
			sv_push(&tags, a.val);
			break;
		case 'f': o->mount_from = a.val; break;
		case 'c':
			errno = 0;
			o->chunk_size = strtoull(a.val, &end, 10);
			if (errno || *end || o->chunk_size < 1024) {
				perr_set(e, "push: --chunk-size must be a number of bytes >= 1024");
				goto out;
			}
			break;
		case 'J': json = true; break;
		}
	}
	if (c < 0)
		goto out;
	if (a.nops != 2) {
		cli_usage_error(e, "push", NULL);
		goto out;
	}
	if (cli_registry_finish(&r, e) < 0)
		goto out;
	if (oci_input_open(argv[1], false, &in, e) < 0)
		goto out;
	if (registry_push(in.dir, argv[2], o, &res, e) < 0) {
		oci_input_error(&in, e);
		goto out;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(j, "tags");
		char *s;
		cJSON_AddStringToObject(j, "ref", argv[2]);
		cJSON_AddStringToObject(j, "digest", res.digest);
		cJSON_AddNumberToObject(j, "bytes_uploaded", (double)res.bytes_uploaded);
		cJSON_AddNumberToObject(j, "blobs_uploaded", (double)res.blobs_uploaded);
		cJSON_AddNumberToObject(j, "blobs_skipped", (double)res.blobs_skipped);
		cJSON_AddNumberToObject(j, "blobs_mounted", (double)res.blobs_mounted);
		cJSON_AddNumberToObject(j, "manifests", (double)res.manifests);
		cJSON_AddNumberToObject(j, "chunk_resumes", (double)res.chunk_resumes);
		cJSON_AddBoolToObject(j, "referrers_api", res.referrers_api);
		for (size_t i = 0; i < res.tags.n; i++)
			cJSON_AddItemToArray(t, cJSON_CreateString(res.tags.v[i]));
		s = cJSON_Print(j);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
	} else {
		note("%zu blobs uploaded (%llu bytes), %zu already there, %zu mounted; %zu manifests; tags: %zu",
		     res.blobs_uploaded, (unsigned long long)res.bytes_uploaded, res.blobs_skipped,
		     res.blobs_mounted, res.manifests, res.tags.n);
		printf("%s\n", res.digest);
	}
	ret = 0;
out:
	cli_registry_release(&r);
	registry_push_result_free(&res);
	oci_input_close(&in);
	sv_clear(&tags);
	return ret;
}
