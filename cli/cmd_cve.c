/*
 * cmd_cve.c - pare cve sync [--from DIR] [URL flags] | pare cve [RECIPE…]
 *             | pare cve --history [RECIPE…] [--json]
 *
 * Flags only: the feeds, the index and the matching are cve/ (docs/cve.md).
 */
#include "cli.h"
#include "../cve/cve.h"
#include "../rebuild/rebuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	CVE_FROM = 0x100, CVE_TRACKER_URL, CVE_KEV_URL, CVE_EPSS_URL, CVE_CODENAME, CVE_JSON,
	CVE_FORMAT, CVE_ALL, CVE_FAIL_ON, CVE_SINCE, CVE_MAX_AGE, CVE_VEX, CVE_IMAGE, CVE_ARCH,
	CVE_SBOM, CVE_HISTORY,
};

/* pare cve [sync]: one table for both (the command table has one per
 * command); the sync options are refused outside sync and the others in it. */
const struct cli_opt cli_cve_opts[] = {
	{ CVE_FROM, "from", "DIR", 0, "sync: take tracker.json, kev.json, epss.csv[.gz] from DIR" },
	{ CVE_TRACKER_URL, "tracker-url", "URL", 0, "sync: the Debian security tracker's JSON" },
	{ CVE_KEV_URL, "kev-url", "URL", 0, "sync: the CISA KEV catalog" },
	{ CVE_EPSS_URL, "epss-url", "URL", 0, "sync: the FIRST EPSS scores (CSV, plain or gzip)" },
	{ CVE_CODENAME, "codename", "C", CLI_REPEAT, "sync: index this codename too (besides the lock's)" },
	{ CVE_JSON, "json", NULL, 0, "the report as JSON (pare-cve/1)" },
	{ CVE_FORMAT, "format", "sarif|openvex|cyclonedx-vex", 0, "the report as SARIF 2.1.0, OpenVEX 0.2.0 or CycloneDX 1.5 VEX" },
	{ CVE_ALL, "all", NULL, 0, "also list the fixed and not-affected rows" },
	{ CVE_FAIL_ON, "fail-on", "kev|fixable|open|low|medium|high", 0, "exit 1 when a finding of that kind is there" },
	{ CVE_SINCE, "since", "DATE", 0, "only what became known after DATE" },
	{ CVE_MAX_AGE, "max-age", "AGE", 0, "feeds older than AGE are stale (default 2 days)" },
	{ CVE_VEX, "vex", "FILE", CLI_REPEAT, "OpenVEX or CycloneDX VEX statements that suppress findings" },
	{ CVE_IMAGE, "image", "IMAGE", CLI_REPEAT, "match an OCI layout or oci-archive (its dpkg database)" },
	{ CVE_ARCH, "arch", "A", 0, "with --image: that architecture only" },
	{ CVE_SBOM, "sbom", "FILE", CLI_REPEAT, "match an SPDX or CycloneDX SBOM's pkg:deb packages" },
	{ CVE_HISTORY, "history", NULL, 0, "the response timeline: first affected, fix available, fixed (commit, digest), time to fix" },
	{ 0 },
};

static int cve_sync_cmd(int argc, char **argv, struct cve_config *c, perr *e)
{
	const char *from = NULL;
	struct cli_args a;
	int k;

	cli_args_init(&a, argc, argv, cli_cve_opts);
	while ((k = cli_args_next(&a, e)) > 0) {
		if (k >= CVE_TRACKER_URL && k <= CVE_EPSS_URL) {
			free(c->url[k - CVE_TRACKER_URL]);
			c->url[k - CVE_TRACKER_URL] = xstrdup(a.val);
		} else if (k == CVE_FROM)
			from = a.val;
		else if (k == CVE_CODENAME)
			sv_push(&c->codenames, a.val);
		else
			return cli_usage_error(e, "cve", "sync does not take that option");
	}
	if (k < 0)
		return -1;
	if (a.nops)
		return cli_usage_error(e, "cve", "sync: unexpected argument '%s'", argv[1]);
	return cve_sync(c, from, cli_lock_path(), e);
}

int cmd_cve(int argc, char **argv, perr *e)
{
	struct cve_config c;
	struct cve_report r = { 0 };
	struct cve_subject *subjects = NULL;
	size_t nsubjects = 0;
	const char *fail_on = NULL, *format = NULL, *arch = NULL;
	strvec names = STRVEC_INIT, images = STRVEC_INIT, sboms = STRVEC_INIT, vexes = STRVEC_INIT;
	struct cve_vex vex = { 0 };
	bool json = false, all = false, hit = false, history = false;
	int64_t since = 0;
	struct cli_args a;
	int opt, ret = -1;

	if (cve_config_load(&c, e) < 0)
		goto out;
	if (argc > 1 && !strcmp(argv[1], "sync")) {
		ret = cve_sync_cmd(argc - 1, argv + 1, &c, e);
		goto out;
	}
	cli_args_init(&a, argc, argv, cli_cve_opts);
	while ((opt = cli_args_next(&a, e)) > 0) {
		switch (opt) {
		case CVE_JSON: json = true; break;
		case CVE_ALL: all = true; break;
		case CVE_FAIL_ON: fail_on = a.val; break;
		case CVE_FORMAT: format = a.val; break;
		case CVE_ARCH: arch = a.val; break;
		case CVE_IMAGE: sv_push(&images, a.val); break;
		case CVE_SBOM: sv_push(&sboms, a.val); break;
		case CVE_VEX: sv_push(&vexes, a.val); break;
		case CVE_HISTORY: history = true; break;
		case CVE_SINCE:
			if (cve_parse_date(a.val, &since) < 0) {
				perr_set(e, "cve: --since '%s' is not YYYY-MM-DD[THH:MM:SSZ]", a.val);
				goto out;
			}
			break;
		case CVE_MAX_AGE:
			if (cve_parse_age(a.val, &c.max_age) < 0) {
				perr_set(e, "cve: --max-age '%s' is not DAYS, or Nd, Nh, Nm", a.val);
				goto out;
			}
			break;
		default:
			cli_usage_error(e, "cve", "--%s is an option of pare cve sync",
					opt == CVE_FROM ? "from" : opt == CVE_CODENAME ? "codename" : "…-url");
			goto out;
		}
	}
	if (opt < 0)
		goto out;
	for (int i = 1; i <= a.nops; i++)
		sv_push(&names, argv[i]);
	if (history) {
		struct rebuild_history h = { 0 };
		if (format || images.n || sboms.n || fail_on) {
			perr_set(e, "cve: --history takes RECIPE… and --json only");
			goto out;
		}
		if (rebuild_history_read(cli_lock_path(), &h, e) == 0 &&
		    rebuild_history_print(stdout, &h, &names, json, e) == 0)
			ret = 0;
		rebuild_history_release(&h);
		goto out;
	}
	if (fail_on && cve_fail_on(&r, fail_on, &hit, e) < 0)
		goto out;
	if (json && format) {
		perr_set(e, "cve: --json and --format are one choice: give one");
		goto out;
	}
	for (size_t k = 0; k < vexes.n; k++)
		if (cve_vex_load(vexes.v[k], &vex, e) < 0)
			goto out;
	/* recipes from the lock when named, or when no image or SBOM is */
	if ((names.n || (!images.n && !sboms.n)) &&
	    cve_lock_subjects(cli_lock_path(), cli_recipes_dir(), &names, &subjects, &nsubjects, e) < 0)
		goto out;
	for (size_t k = 0; k < images.n; k++) {
		struct cve_subject *is = NULL;
		size_t n = 0;

		if (cve_subject_from_image(images.v[k], arch, &is, &n, e) < 0)
			goto out;
		subjects = xrealloc(subjects, (nsubjects + n) * sizeof(*subjects));
		memcpy(subjects + nsubjects, is, n * sizeof(*is));
		nsubjects += n;
		free(is);
	}
	for (size_t k = 0; k < sboms.n; k++) {
		subjects = xrealloc(subjects, (nsubjects + 1) * sizeof(*subjects));
		memset(&subjects[nsubjects], 0, sizeof(*subjects));
		if (cve_subject_from_sbom(sboms.v[k], &subjects[nsubjects], e) < 0) {
			cve_subject_release(&subjects[nsubjects]);
			goto out;
		}
		nsubjects++;
	}
	if (cve_match(&c, subjects, nsubjects, since, &r, e) < 0) {
		subjects = NULL; /* moved into r */
		goto out;
	}
	subjects = NULL;
	nsubjects = 0;
	if (cve_vex_apply_recipes(&r, e) < 0)
		goto out;
	if (vex.n)
		cve_vex_apply(&vex, &r, SIZE_MAX);
	if (format) {
		if (cve_print_format(stdout, format, &r, e) < 0)
			goto out;
	} else if (json) {
		if (cve_print_json(stdout, &r, e) < 0)
			goto out;
	} else
		cve_print_table(stdout, &r, all);
	ret = 0;
	if (fail_on && cve_fail_on(&r, fail_on, &hit, e) == 0 && hit)
		ret = 1;
out:
	for (size_t k = 0; k < nsubjects; k++)
		cve_subject_release(&subjects[k]);
	free(subjects);
	cve_report_release(&r);
	cve_config_release(&c);
	cve_vex_release(&vex);
	sv_clear(&names);
	sv_clear(&images);
	sv_clear(&sboms);
	sv_clear(&vexes);
	return ret;
}
