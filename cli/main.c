/* main.c - the command table and the one place that prints errors. */
#include "cli.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_version(int argc, char **argv, perr *e);
static int cmd_help(int argc, char **argv, perr *e);

static const struct cli_opt help_opts[] = {
	{ 'm', "man", NULL, 0, "pare(1), or pare-COMMAND(1), in roff (what make install installs)" },
	{ 'c', "commands", NULL, 0, "the command names, one a line" },
	{ 'b', "bash-completion", NULL, 0, "the bash completion script (what make install installs)" },
	{ 0 },
};

static const struct command commands[] = {
	{ "lock", cmd_lock, cli_lock_opts, "[RECIPE…]",
	  "resolve recipes against verified indexes and write recipes.lock" },
	{ "why", cmd_why, cli_why_opts, "RECIPE PACKAGE",
	  "show the dependency path that pulls PACKAGE into RECIPE" },
	{ "build", cmd_build, cli_build_opts, "[RECIPE…]",
	  "fetch a locked recipe's packages and build its OCI image" },
	{ "sbom", cmd_sbom, cli_sbom_opts, "DIR|ARCHIVE",
	  "print an SBOM attached to an image layout or oci-archive (--files: per-file; --index: the index's)" },
	{ "keygen", cmd_keygen, cli_keygen_opts, "",
	  "generate a signing key pair NAME.key / NAME.pub" },
	{ "sign", cmd_sign, cli_sign_opts, "DIR|ARCHIVE",
	  "sign an OCI layout or oci-archive and attach attestations (cosign-compatible)" },
	{ "verify", cmd_verify, cli_verify_opts, "DIR|ARCHIVE",
	  "verify signatures, attestations, SBOMs and blob digests of a layout or oci-archive" },
	{ "check", cmd_check, cli_check_opts, "[RECIPE…]",
	  "compare today's indexes with recipes.lock; exit 3 when a rebuild is due" },
	{ "update", cmd_update, cli_update_opts, "[RECIPE…]",
	  "re-lock and rebuild only the images whose closure changed" },
	{ "plan", cmd_plan, cli_plan_opts, "[RECIPE…]",
	  "the recipe/arch pairs that need a rebuild, as a CI matrix" },
	{ "watch", cmd_watch, cli_watch_opts, "[RECIPE…]",
	  "run update on a schedule until stopped" },
	{ "push", cmd_push, cli_push_opts, "DIR|ARCHIVE HOST[:PORT]/REPO[:TAG]",
	  "push an OCI layout or oci-archive with its signatures and attestations to a registry" },
	{ "pull", cmd_pull, cli_pull_opts, "HOST[:PORT]/REPO[:TAG|@sha256:…] DIR",
	  "pull an image with its signatures, attestations and SBOMs into an OCI layout" },
	{ "inspect", cmd_inspect, cli_inspect_opts, "LAYOUT|OCI-ARCHIVE|REF",
	  "show an image's per-platform manifest digests (the ones cosign verify-attestation matches), config, layers with their packages, packages, signatures and attestations" },
	{ "diff", cmd_diff, cli_diff_opts,
	  "A B (each LAYOUT, OCI-ARCHIVE, REF, lock:RECIPE[@ARCH] or lock:FILE:RECIPE[@ARCH])",
	  "compare two images or lock entries: packages, layers, size, config; exit 0 equal, 1 different" },
	{ "audit", cmd_audit, cli_audit_opts, "IMAGE…",
	  "check images against CIS Docker §4, NIST SP 800-190 and Dockle (docs/audit.md)" },
	{ "report", cmd_report, cli_report_opts, "IMAGE…",
	  "write a static HTML dashboard of pare audit for images (docs/audit.md)" },
	{ "evidence", cmd_evidence, cli_evidence_opts, "IMAGE… (or --verify PACK alone)",
	  "write a signed, deterministic evidence pack of images for an auditor, or check one (docs/evidence.md)" },
	{ "cve", cmd_cve, cli_cve_opts, "sync | [RECIPE…]",
	  "sync the CVE feeds (Debian tracker, CISA KEV, EPSS), or match locked recipes, images and SBOMs against them (docs/cve.md)" },
	{ "inventory", cmd_inventory, cli_inventory_opts, "",
	  "every image and package since when, from recipes.lock's git history: --package, --cve, --image --at, --updates (docs/inventory.md)" },
	{ "cache", cmd_cache, cli_cache_opts, "du | prune",
	  "show the cache's size by kind (du), or remove what no recent build or lock used (prune)" },
	{ "version", cmd_version, NULL, "", "print pare's version" },
	{ "help", cmd_help, help_opts, "[COMMAND]",
	  "show this list or one command's usage (--man, --bash-completion: what make install installs)" },
};

const struct command *cli_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pare [--quiet] [--verbose] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nrun 'pare help COMMAND' for a command's arguments.\n");
}

static int cmd_version(int argc, char **argv, perr *e)
{
	struct cli_args a;
	int c;

	if (argc < 2) /* also main's --version: no arguments */
		goto print;
	cli_args_init(&a, argc, argv, NULL);
	if ((c = cli_args_next(&a, e)) < 0)
		return -1;
	if (a.nops)
		return perr_set(e, "version: unexpected argument '%s'", argv[1]);
print:
	printf("pare %s\n", PARE_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv, perr *e)
{
	const struct command *c;
	struct cli_args a;
	bool man = false, list = false, bash = false;
	int k;

	cli_args_init(&a, argc, argv, help_opts);
	while ((k = cli_args_next(&a, e)) > 0) {
		switch (k) {
		case 'm': man = true; break;
		case 'c': list = true; break;
		case 'b': bash = true; break;
		}
	}
	if (k < 0)
		return -1;
	if (man + list + bash > 1 || a.nops > 1 || ((list || bash) && a.nops))
		return cli_usage_error(e, "help", "give one of COMMAND, --man [COMMAND], --commands, --bash-completion");
	/* what make install installs, made from the table above */
	if (man)
		return cli_help_man(stdout, commands, ARRAY_SIZE(commands), a.nops ? argv[1] : NULL, e);
	if (bash) {
		cli_help_bash_completion(stdout, commands, ARRAY_SIZE(commands));
		return 0;
	}
	if (list) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i].name);
		return 0;
	}
	if (!a.nops) {
		usage(stdout);
		return 0;
	}
	c = cli_command(argv[1]);
	if (!c)
		return perr_set(e, "unknown command '%s'", argv[1]);
	cli_help_command(stdout, c);
	return 0;
}

const char *cli_size(uint64_t bytes, char buf[static 16])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, 16, "%u B", (unsigned)bytes);
		return buf;
	}
	for (v /= 1024; v >= 1024 && u + 1 < ARRAY_SIZE(units); u++)
		v /= 1024;
	snprintf(buf, 16, "%.1f %s", v, units[u]);
	return buf;
}

void cli_report(const char *msg)
{
	fprintf(stderr, "pare: %s\n", msg && *msg ? msg : "unknown error");
}

const char *cli_recipes_dir(void)
{
	const char *d = getenv("PARE_RECIPES");
	return d && *d ? d : "recipes";
}

const char *cli_lock_path(void)
{
	const char *p = getenv("PARE_LOCK");
	return p && *p ? p : "recipes.lock";
}

char *cli_recipe_path(const char *arg)
{
	if (strchr(arg, '/') || str_ends(arg, ".yaml") || str_ends(arg, ".yml"))
		return xstrdup(arg);
	return xasprintf("%s/%s.yaml", cli_recipes_dir(), arg);
}

int main(int argc, char **argv)
{
	const struct command *c;
	perr e = { 0, "" };
	int i = 1, ret;

	/* Package paths are UTF-8 (ca-certificates ships non-ASCII names) and
	 * libarchive converts names through the locale's charset: use a UTF-8
	 * one whatever the caller's LANG, never its collation or messages. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	/* SIGINT/SIGTERM: remove the temporaries in flight, then die of it */
	tmp_cleanup_on_signals();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			pare_quiet = 1;
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			pare_verbose = 1;
		else if (!strcmp(argv[i], "--version"))
			return cmd_version(0, NULL, &e);
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			/* an error is one line; the list is one 'pare help' away */
			fprintf(stderr, "pare: unknown option '%s' (see 'pare help')\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		fprintf(stderr, "pare: no command given (see 'pare help')\n");
		return 2;
	}
	c = cli_command(argv[i]);
	if (!c) {
		fprintf(stderr, "pare: unknown command '%s' (see 'pare help')\n", argv[i]);
		return 2;
	}
	/* 'pare CMD --help' (or -h) anywhere before "--" is 'pare help CMD' */
	for (int k = i + 1; k < argc && strcmp(argv[k], "--"); k++)
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			cli_help_command(stdout, c);
			return 0;
		}
	ret = c->fn(argc - i, argv + i, &e);
	fetch_global_cleanup();
	/* A JSON consumer deserves an error, not a truncated file. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "pare: cannot write to standard output: %s\n", strerror(errno));
		return 2;
	}
	if (ret < 0) {
		fprintf(stderr, "pare: %s\n", e.msg[0] ? e.msg : "unknown error");
		return 2;
	}
	return ret;
}
