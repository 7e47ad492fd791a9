/* cmd_audit.c - pare audit and pare report: the CIS Docker / NIST SP 800-190
 * / Dockle checks of audit/ on images given as layouts or oci-archives, as a
 * table, JSON, SARIF or an HTML dashboard (docs/audit.md). */
#include "cli.h"
#include "../audit/audit.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const valopts[] = { "--key", "--fail-on", "-o", "--output", NULL };

static int audit_all(char **paths, int n, const char *key, struct audit_report **reps,
		     size_t *nreps, perr *e)
{
	struct audit_opts o = { key, recipes_dir(), (int64_t)time(NULL) };

	for (int i = 0; i < n; i++)
		if (audit_path(paths[i], &o, reps, nreps, e) < 0)
			return -1;
	return 0;
}

int cmd_audit(int argc, char **argv, perr *e)
{
	const char *key = NULL;
	bool json = false, sarif = false;
	enum audit_fail_on fail_on = AUDIT_FAIL_ON_NONE;
	struct audit_report *reps = NULL;
	size_t nreps = 0;
	int i, ret = -1;

	cli_permute(argc, argv, valopts);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--sarif"))
			sarif = true;
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--fail-on") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "fail"))
				fail_on = AUDIT_FAIL_ON_FAIL;
			else if (!strcmp(argv[i], "warn"))
				fail_on = AUDIT_FAIL_ON_WARN;
			else
				return perr_set(e, "audit: --fail-on '%s': expected fail or warn", argv[i]);
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			return perr_set(e, "audit: unknown option '%s' (see 'pare help audit')", argv[i]);
	}
	if (json && sarif)
		return perr_set(e, "audit: --json and --sarif exclude each other");
	if (i >= argc)
		return perr_set(e, "audit: no image given (usage: pare audit [--key PUB] [--json | --sarif] [--fail-on fail|warn] IMAGE…)");
	if (audit_all(argv + i, argc - i, key, &reps, &nreps, e) < 0)
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
	int i, ret = -1;

	cli_permute(argc, argv, valopts);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			return perr_set(e, "report: unknown option '%s' (see 'pare help report')", argv[i]);
	}
	if (!out || i >= argc)
		return perr_set(e, "report: usage: pare report -o DIR [--key PUB] IMAGE…");
	if (audit_all(argv + i, argc - i, key, &reps, &nreps, e) == 0 &&
	    audit_html_write(out, reps, nreps, e) == 0) {
		note("%s/index.html: %zu image%s", out, nreps, nreps == 1 ? "" : "s");
		ret = 0;
	}
	audit_reports_free(reps, nreps);
	return ret;
}
