/* cmd_pull.c - pare pull: an image from a registry into an OCI layout. */
#define _GNU_SOURCE
#include "cli.h"
#include "../registry/registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_opt cli_pull_opts[] = {
	CLI_OPTS_INCLUDE(cli_registry_opts),
	{ 'p', "platform", "OS/ARCH[/VARIANT]", 0,
	  "only that platform's image, as a single-platform layout" },
	{ 'J', "json", NULL, 0, "what was pulled, as JSON on stdout" },
	{ 0 },
};

int cmd_pull(int argc, char **argv, perr *e)
{
	struct cli_registry r = { 0 };
	struct registry_opts *o = &r.o;
	struct registry_pull_result res = { 0 };
	struct cli_args a;
	char *dir = NULL;
	bool json = false;
	int ret = -1, c;

	cli_args_init(&a, argc, argv, cli_pull_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		if (cli_registry_opt(&r, c, a.val))
			continue;
		switch (c) {
		case 'J': json = true; break;
		case 'p':
			o->platform = a.val;
			if (!strchr(o->platform, '/') || o->platform[0] == '/') {
				perr_set(e, "pull: --platform '%s': give OS/ARCH, e.g. linux/amd64", o->platform);
				goto out;
			}
			break;
		}
	}
	if (c < 0)
		goto out;
	if (a.nops != 2) {
		cli_usage_error(e, "pull", NULL);
		goto out;
	}
	if (cli_registry_finish(&r, e) < 0)
		goto out;
	dir = out_path(argv[2]);
	if (registry_pull(argv[1], dir, o, &res, e) < 0)
		goto out;
	if (json) {
		cJSON *j = cJSON_CreateObject();
		char *s;
		cJSON_AddStringToObject(j, "ref", argv[1]);
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
	cli_registry_release(&r);
	free(dir);
	return ret;
}
