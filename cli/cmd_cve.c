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
	"[--epss-url URL] [--codename C]… | pare cve [--json | --format sarif|openvex|"       \
	"cyclonedx-vex] [--all] [--fail-on kev|fixable|open|low|medium|high] [--since DATE] " \
	"[--max-age AGE] [--vex FILE]… [--image IMAGE]… [--arch A] [--sbom FILE]… [RECIPE…]"

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
	const char *fail_on = NULL, *format = NULL, *arch = NULL;
	strvec names = STRVEC_INIT, images = STRVEC_INIT, sboms = STRVEC_INIT, vexes = STRVEC_INIT;
	struct cve_vex vex = { 0 };
	bool json = false, all = false, hit = false;
	int64_t since = 0;
	int i, ret = -1;

	if (cve_config_load(&c, e) < 0)
		goto out;
	if (argc > 1 && !strcmp(argv[1], "sync")) {
		ret = cve_sync_cmd(argc - 1, argv + 1, &c, e);
		goto out;
	}
	cli_permute(argc, argv,
		    (const char *const[]){ "--fail-on", "--since", "--max-age", "--image", "--sbom",
					   "--vex", "--format", "--arch", NULL });
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "--fail-on") && i + 1 < argc)
			fail_on = argv[++i];
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--arch") && i + 1 < argc)
			arch = argv[++i];
		else if (!strcmp(argv[i], "--image") && i + 1 < argc)
			sv_push(&images, argv[++i]);
		else if (!strcmp(argv[i], "--sbom") && i + 1 < argc)
			sv_push(&sboms, argv[++i]);
		else if (!strcmp(argv[i], "--vex") && i + 1 < argc)
			sv_push(&vexes, argv[++i]);
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
	if (json && format) {
		perr_set(e, "cve: --json and --format are one choice: give one");
		goto out;
	}
	for (size_t k = 0; k < vexes.n; k++)
		if (cve_vex_load(vexes.v[k], &vex, e) < 0)
			goto out;
	/* recipes from the lock when named, or when no image or SBOM is */
	if ((names.n || (!images.n && !sboms.n)) &&
	    cve_lock_subjects(lock_path(), recipes_dir(), &names, &subjects, &nsubjects, e) < 0)
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
