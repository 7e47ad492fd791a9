/*
 * cmd_cve.c - pare cve sync [--from DIR] [URL flags] | pare cve [RECIPE…]
 *
 * Flags only: the feeds, the index and the matching are cve/ (docs/cve.md).
 */
#include "cli.h"
#include "../cve/cve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CVE_USAGE                                                                          \
	"usage: pare cve sync [--from DIR] [--tracker-url URL] [--kev-url URL] "              \
	"[--epss-url URL] [--codename C]… | pare cve [--json] [--all] "                       \
	"[--fail-on kev|fixable|open|low|medium|high] [--since DATE] [--max-age AGE] [RECIPE…]"

static int cve_sync_cmd(int argc, char **argv, struct cve_config *c, perr *e)
{
	static const char *const urls[] = { "--tracker-url", "--kev-url", "--epss-url" };
	const char *from = NULL;
	int i;

	cli_permute(argc, argv,
		    (const char *const[]){ "--from", "--tracker-url", "--kev-url", "--epss-url",
					   "--codename", NULL });
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(urls) && strcmp(argv[i], urls[k]); k++)
			;
		if (k < ARRAY_SIZE(urls) && i + 1 < argc) {
			free(c->url[k]);
			c->url[k] = xstrdup(argv[++i]);
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else if (!strcmp(argv[i], "--codename") && i + 1 < argc)
			sv_push(&c->codenames, argv[++i]);
		else
			return perr_set(e, "cve sync: unknown option '%s' (see 'pare help cve')",
					argv[i]);
	}
	if (i < argc)
		return perr_set(e, "cve sync: unexpected argument '%s' (%s)", argv[i], CVE_USAGE);
	return cve_sync(c, from, lock_path(), e);
}

int cmd_cve(int argc, char **argv, perr *e)
{
	struct cve_config c;
	struct cve_report r = { 0 };
	struct cve_subject *subjects = NULL;
	size_t nsubjects = 0;
	const char *fail_on = NULL;
	strvec names = STRVEC_INIT;
	bool json = false, all = false, hit = false;
	int64_t since = 0;
	int i, ret = -1;

	if (cve_config_load(&c, e) < 0)
		goto out;
	if (argc > 1 && !strcmp(argv[1], "sync")) {
		ret = cve_sync_cmd(argc - 1, argv + 1, &c, e);
		goto out;
	}
	cli_permute(argc, argv, (const char *const[]){ "--fail-on", "--since", "--max-age", NULL });
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "--fail-on") && i + 1 < argc)
			fail_on = argv[++i];
		else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			if (cve_parse_date(argv[++i], &since) < 0) {
				perr_set(e, "cve: --since '%s' is not YYYY-MM-DD[THH:MM:SSZ]", argv[i]);
				goto out;
			}
		} else if (!strcmp(argv[i], "--max-age") && i + 1 < argc) {
			if (cve_parse_age(argv[++i], &c.max_age) < 0) {
				perr_set(e, "cve: --max-age '%s' is not DAYS, or Nd, Nh, Nm", argv[i]);
				goto out;
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			perr_set(e, "cve: unknown option '%s' (see 'pare help cve')", argv[i]);
			goto out;
		}
	}
	for (; i < argc; i++)
		sv_push(&names, argv[i]);
	if (fail_on && cve_fail_on(&r, fail_on, &hit, e) < 0)
		goto out;
	if (cve_lock_subjects(lock_path(), recipes_dir(), &names, &subjects, &nsubjects, e) < 0)
		goto out;
	if (cve_match(&c, subjects, nsubjects, since, &r, e) < 0)
		goto out;
	if (json) {
		if (cve_print_json(stdout, &r, e) < 0)
			goto out;
	} else
		cve_print_table(stdout, &r, all);
	ret = 0;
	if (fail_on && cve_fail_on(&r, fail_on, &hit, e) == 0 && hit)
		ret = 1;
out:
	cve_report_release(&r);
	cve_config_release(&c);
	sv_clear(&names);
	return ret;
}
