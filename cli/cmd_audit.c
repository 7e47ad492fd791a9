/* cmd_audit.c - pare audit and pare report: the CIS Docker / NIST SP 800-190
 * / Dockle checks of audit/ on images given as layouts or oci-archives, as a
 * table, JSON, SARIF or an HTML dashboard (docs/audit.md). */
#include "cli.h"
#include "../audit/audit.h"
#include "../rebuild/rebuild.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int audit_all(char **paths, int n, const char *key, bool rebuild, struct audit_report **reps,
		     size_t *nreps, perr *e)
{
	struct audit_opts o = { key, cli_recipes_dir(), (int64_t)time(NULL), NULL, NULL };

	return rebuild_audit(paths, (size_t)n, &o, rebuild ? cli_lock_path() : NULL, reps, nreps, e);
}

enum { AUDIT_JSON = 0x100, AUDIT_SARIF, AUDIT_KEY, AUDIT_FAIL_ON, AUDIT_REBUILD };

const struct cli_opt cli_audit_opts[] = {
	{ AUDIT_KEY, "key", "PUB", 0, "verify signatures and attestations with this public key" },
	{ AUDIT_JSON, "json", NULL, 0, "the report as JSON (pare-audit/1)" },
	{ AUDIT_SARIF, "sarif", NULL, 0, "the report as SARIF 2.1.0 (code scanning)" },
	{ AUDIT_FAIL_ON, "fail-on", "fail|warn", 0, "exit 1 when a check fails (fail) or fails or warns (warn)" },
	{ AUDIT_REBUILD, "rebuild", NULL, 0, "rebuild pare images from recipes.lock and compare digests (slow)" },
	{ 0 },
};

const struct cli_opt cli_report_opts[] = {
	{ 'o', "output", "DIR", CLI_SHORT | CLI_REQUIRED, "the directory the HTML pages go to" },
	{ AUDIT_KEY, "key", "PUB", 0, "verify signatures and attestations with this public key" },
	{ 0 },
};

int cmd_audit(int argc, char **argv, perr *e)
{
	const char *key = NULL;
	bool json = false, sarif = false, rebuild = false;
	enum audit_fail_on fail_on = AUDIT_FAIL_ON_NONE;
	struct audit_report *reps = NULL;
	size_t nreps = 0;
	struct cli_args a;
	int c, ret = -1;

	cli_args_init(&a, argc, argv, cli_audit_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		if (c == AUDIT_JSON)
			json = true;
		else if (c == AUDIT_SARIF)
			sarif = true;
		else if (c == AUDIT_KEY)
			key = a.val;
		else if (c == AUDIT_REBUILD)
			rebuild = true;
		else if (c == AUDIT_FAIL_ON) {
			if (!strcmp(a.val, "fail"))
				fail_on = AUDIT_FAIL_ON_FAIL;
			else if (!strcmp(a.val, "warn"))
				fail_on = AUDIT_FAIL_ON_WARN;
			else
				return perr_set(e, "audit: --fail-on '%s': expected fail or warn", a.val);
		}
	}
	if (c < 0)
		return -1;
	if (json && sarif)
		return perr_set(e, "audit: --json and --sarif exclude each other");
	if (a.nops < 1)
		return cli_usage_error(e, "audit", "no image given");
	if (audit_all(argv + 1, a.nops, key, rebuild, &reps, &nreps, e) < 0)
		goto out;
	if (json || sarif) {
		cJSON *doc = json ? audit_json(reps, nreps) : audit_sarif(reps, nreps);
		char *s = cJSON_Print(doc);

		printf("%s\n", s);
		free(s);
		cJSON_Delete(doc);
	} else {
		audit_print_table(stdout, reps, nreps);
	}
	ret = audit_exit_status(reps, nreps, fail_on);
out:
	audit_reports_free(reps, nreps);
	return ret;
}

int cmd_report(int argc, char **argv, perr *e)
{
	const char *key = NULL, *out = NULL;
	struct audit_report *reps = NULL;
	size_t nreps = 0;
	struct cli_args a;
	int c, ret = -1;

	cli_args_init(&a, argc, argv, cli_report_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		if (c == 'o')
			out = a.val;
		else if (c == AUDIT_KEY)
			key = a.val;
	}
	if (c < 0)
		return -1;
	if (!out || a.nops < 1)
		return cli_usage_error(e, "report", NULL);
	if (audit_all(argv + 1, a.nops, key, false, &reps, &nreps, e) == 0 &&
	    audit_html_write(out, reps, nreps, e) == 0) {
		note("%s/index.html: %zu image%s", out, nreps, nreps == 1 ? "" : "s");
		ret = 0;
	}
	audit_reports_free(reps, nreps);
	return ret;
}
