/* cmd_verify.c - pare verify: check a signed layout or oci-archive offline,
 * one line per check (or JSON), stopping at the first failure; then a summary
 * line "N checks passed" (", 1 failed": the error line names it). */
#include "cli.h"
#include "../audit/audit.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../signer/signer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verify_out {
	cJSON *arr;    /* --json: the "checks" array */
	size_t passed;
};

static void print_check(const struct signer_check *c, void *ctx)
{
	struct verify_out *v = ctx;
	cJSON *arr = v->arr, *o;

	v->passed++;
	if (!arr) {
		printf("ok   %-11s %-8s %s%s%s\n", c->what, c->arch, c->digest,
		       c->detail[0] ? " " : "", c->detail);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "check", c->what);
	cJSON_AddStringToObject(o, "arch", c->arch);
	cJSON_AddStringToObject(o, "digest", c->digest);
	cJSON_AddStringToObject(o, "detail", c->detail);
	cJSON_AddItemToArray(arr, o);
}

const struct cli_opt cli_verify_opts[] = {
	{ 'k', "key", "PUB", CLI_REQUIRED, "the public key the signatures must verify with" },
	{ 'A', "arch", "A", 0, "only that architecture's image" },
	{ 'J', "json", NULL, 0, "every check and its result as JSON on stdout" },
	{ 0 },
};

int cmd_verify(int argc, char **argv, perr *e)
{
	const char *key = NULL, *dir = NULL, *arch = NULL;
	struct oci_input in;
	bool json = false;
	struct cli_args a;
	int c;
	cJSON *doc = NULL;
	struct verify_out v = { NULL, 0 };
	char *text;
	const struct signer_predicate_check *checks;
	size_t nchecks;
	int ret;

	cli_args_init(&a, argc, argv, cli_verify_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		switch (c) {
		case 'k': key = a.val; break;
		case 'A': arch = a.val; break;
		case 'J': json = true; break;
		}
	}
	if (c < 0)
		return -1;
	if (a.nops > 1)
		return cli_usage_error(e, "verify", "unexpected argument '%s'", argv[2]);
	if (!key || !a.nops)
		return cli_usage_error(e, "verify", NULL);
	dir = argv[1];
	if (oci_input_open(dir, false, &in, e) < 0)
		return -1;
	if (json) {
		doc = cJSON_CreateObject();
		v.arr = cJSON_CreateArray();
	}
	checks = audit_attestation_checks(&nchecks);
	ret = signer_verify_layout_with(in.dir, key, arch, checks, nchecks, print_check, &v, e);
	if (ret < 0)
		oci_input_error(&in, e);
	if (json) {
		cJSON_AddBoolToObject(doc, "ok", ret == 0);
		if (ret < 0)
			cJSON_AddStringToObject(doc, "error", e->msg);
		cJSON_AddNumberToObject(doc, "passed", (double)v.passed);
		cJSON_AddItemToObject(doc, "checks", v.arr);
		text = cJSON_Print(doc);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(doc);
	} else {
		printf("%zu check%s passed%s\n", v.passed, v.passed == 1 ? "" : "s",
		       ret < 0 ? ", 1 failed" : "");
	}
	oci_input_close(&in);
	return ret;
}
