/* cmd_pull.c - pare pull: an image from a registry into an OCI layout. */
#define _GNU_SOURCE
#include "cli.h"
#include "../registry/registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULL_USAGE "pare pull [--insecure HOST[:PORT]]… [--username U --password-stdin] [--platform OS/ARCH[/VARIANT]] [--json] REF DIR"

int cmd_pull(int argc, char **argv, perr *e)
{
	struct registry_opts o = { 0 };
	struct registry_pull_result res = { 0 };
	strvec insecure = STRVEC_INIT, pos = STRVEC_INIT;
	const char *user = NULL;
	char *pass = NULL, *dir = NULL;
	bool pw_stdin = false, json = false, dd = false;
	int ret = -1, r;

	o.insecure = &insecure;
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
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--platform") && i + 1 < argc) {
			o.platform = argv[++i];
			if (!strchr(o.platform, '/') || o.platform[0] == '/') {
				perr_set(e, "pull: --platform '%s': give OS/ARCH, e.g. linux/amd64", o.platform);
				goto out;
			}
		} else {
			perr_set(e, "pull: unknown option '%s' (see 'pare help pull')", argv[i]);
			goto out;
		}
	}
	if (pos.n != 2) {
		perr_set(e, "pull: usage: " PULL_USAGE);
		goto out;
	}
	if (cli_registry_password(user, pw_stdin, &pass, e) < 0)
		goto out;
	o.username = user;
	o.password = pass;
	dir = out_path(pos.v[1]);
	if (registry_pull(pos.v[0], dir, &o, &res, e) < 0)
		goto out;
	if (json) {
		cJSON *j = cJSON_CreateObject();
		char *s;
		cJSON_AddStringToObject(j, "ref", pos.v[0]);
		cJSON_AddStringToObject(j, "digest", res.digest);
		cJSON_AddNumberToObject(j, "bytes", (double)res.bytes);
		cJSON_AddNumberToObject(j, "blobs", (double)res.blobs);
		cJSON_AddNumberToObject(j, "manifests", (double)res.manifests);
		cJSON_AddNumberToObject(j, "referrers", (double)res.referrers);
		s = cJSON_Print(j);
		printf("%s\n", s);
		free(s);
		cJSON_Delete(j);
	} else {
		printf("%s\n", res.digest);
	}
	ret = 0;
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	free(dir);
	sv_clear(&insecure), sv_clear(&pos);
	return ret;
}
