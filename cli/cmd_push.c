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

#define PUSH_USAGE "pare push [--insecure HOST[:PORT]]… [--username U --password-stdin] [--tag T]… [--from REPO] [--chunk-size BYTES] [--json] DIR|ARCHIVE HOST[:PORT]/REPO[:TAG]"

int cli_registry_password(const char *user, bool from_stdin, char **pass, perr *e)
{
	strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	*pass = NULL;
	if (from_stdin && !user)
		return perr_set(e, "--password-stdin needs --username");
	if (user && !from_stdin)
		return perr_set(e, "--username needs --password-stdin (passwords never go on the command line)");
	if (!user)
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
	*pass = sb_detach(&sb);
	return 0;
}

/* Shared by push, pull and build --push: fills o from one argument at argv[*i]. 1 = taken. */
int cli_registry_opt(int argc, char **argv, int *i, struct registry_opts *o, strvec *insecure,
		     const char **user, bool *pw_stdin, perr *e)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--insecure") || !strcmp(a, "--username")) {
		if (*i + 1 >= argc)
			return perr_set(e, "%s needs an argument", a);
		if (!strcmp(a, "--insecure"))
			sv_push(insecure, argv[++*i]);
		else
			*user = argv[++*i];
		o->insecure = insecure;
		return 1;
	}
	if (!strcmp(a, "--password-stdin")) {
		*pw_stdin = true;
		return 1;
	}
	return 0;
}

int cmd_push(int argc, char **argv, perr *e)
{
	struct registry_opts o = { 0 };
	struct registry_push_result res = { 0 };
	struct oci_input in = { .slot = -1 };
	strvec insecure = STRVEC_INIT, tags = STRVEC_INIT, pos = STRVEC_INIT;
	const char *user = NULL;
	char *pass = NULL, *end;
	bool pw_stdin = false, json = false, dd = false;
	int ret = -1, r;

	o.insecure = &insecure;
	o.tags = &tags;
	for (int i = 1; i < argc; i++) {
		if (!dd && !strcmp(argv[i], "--")) {
			dd = true;
			continue;
		}
		if (dd || argv[i][0] != '-') {
			sv_push(&pos, argv[i]);
			continue;
		}
		r = cli_registry_opt(argc, argv, &i, &o, &insecure, &user, &pw_stdin, e);
		if (r < 0)
			goto out;
		if (r)
			continue;
		if (!strcmp(argv[i], "--tag") && i + 1 < argc) {
			if (!*argv[i + 1] || strpbrk(argv[i + 1], "/:@ \t")) {
				perr_set(e, "push: bad --tag '%s'", argv[i + 1]);
				goto out;
			}
			sv_push(&tags, argv[++i]);
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			o.mount_from = argv[++i];
		} else if (!strcmp(argv[i], "--chunk-size") && i + 1 < argc) {
			errno = 0;
			o.chunk_size = strtoull(argv[++i], &end, 10);
			if (errno || *end || o.chunk_size < 1024) {
				perr_set(e, "push: --chunk-size must be a number of bytes >= 1024");
				goto out;
			}
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			perr_set(e, "push: unknown option '%s' (see 'pare help push')", argv[i]);
			goto out;
		}
	}
	if (pos.n != 2) {
		perr_set(e, "push: usage: " PUSH_USAGE);
		goto out;
	}
	if (cli_registry_password(user, pw_stdin, &pass, e) < 0)
		goto out;
	o.username = user;
	o.password = pass;
	if (oci_input_open(pos.v[0], false, &in, e) < 0)
		goto out;
	if (registry_push(in.dir, pos.v[1], &o, &res, e) < 0) {
		oci_input_error(&in, e);
		goto out;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(j, "tags");
		char *s;
		cJSON_AddStringToObject(j, "ref", pos.v[1]);
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
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	registry_push_result_free(&res);
	oci_input_close(&in);
	sv_clear(&insecure), sv_clear(&tags), sv_clear(&pos);
	return ret;
}
