/* main.c - the command table and the one place that prints errors. */
#include "cli.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_version(int argc, char **argv, perr *e);
static int cmd_help(int argc, char **argv, perr *e);

static const struct command commands[] = {
	{ "lock", cmd_lock, "[--check] [--offline] [--fail-fast] [--json] [RECIPE…]",
	  "resolve recipes against verified indexes and write recipes.lock" },
	{ "why", cmd_why, "[--arch A] RECIPE PACKAGE",
	  "show the dependency path that pulls PACKAGE into RECIPE" },
	{ "build", cmd_build,
	  "RECIPE [-o|--output DIR] | RECIPE… | --all [--outroot DIR] [--tar FILE] [--arch A,… | --platform linux/ARCH] [--tag T] [--compression gzip|zstd] [--max-layers N] [-j|--jobs N] [--sign-key KEY | --unsigned-ok] [--source-url URL] [--push REF [--insecure HOST] [--username U --password-stdin]] [--fail-fast] [--json] [--quiet]",
	  "fetch a locked recipe's packages and build its OCI image" },
	{ "sbom", cmd_sbom, "[--format spdx|cyclonedx] [--arch A] [--files | --index] DIR|ARCHIVE",
	  "print an SBOM attached to an image layout or oci-archive (--files: per-file; --index: the index's)" },
	{ "keygen", cmd_keygen, "[--type ecdsa-p256|ed25519|rsa-3072] [--no-password] -o|--output NAME",
	  "generate a signing key pair NAME.key / NAME.pub" },
	{ "sign", cmd_sign, "--key KEY [--ref REPO] DIR|ARCHIVE",
	  "sign an OCI layout or oci-archive and attach attestations (cosign-compatible)" },
	{ "verify", cmd_verify, "--key PUB [--arch A] [--json] DIR|ARCHIVE",
	  "verify signatures, attestations, SBOMs and blob digests of a layout or oci-archive" },
	{ "check", cmd_check, "[--json] [--offline] [--fail-fast] [RECIPE…]",
	  "compare today's indexes with recipes.lock; exit 3 when a rebuild is due" },
	{ "update", cmd_update,
	  "[RECIPE…] [--outroot|--output|-o DIR] [--sign-key KEY | --unsigned-ok] [--commit [--author \"NAME <EMAIL>\"]] [--source-url URL] [--offline] [--fail-fast] [--json]",
	  "re-lock and rebuild only the images whose closure changed" },
	{ "plan", cmd_plan, "[--json] [--write-lock] [--offline] [RECIPE…]",
	  "the recipe/arch pairs that need a rebuild, as a CI matrix" },
	{ "watch", cmd_watch,
	  "--interval DURATION [--exec CMD] [--cycles N] [--outroot|--output|-o DIR] [--sign-key KEY | --unsigned-ok] [--commit [--author \"NAME <EMAIL>\"]] [--source-url URL] [--offline] [--fail-fast] [RECIPE…]",
	  "run update on a schedule until stopped" },
	{ "push", cmd_push,
	  "[--insecure HOST[:PORT]]… [--username U --password-stdin] [--tag T]… [--from REPO] [--chunk-size BYTES] [--json] DIR|ARCHIVE HOST[:PORT]/REPO[:TAG]",
	  "push an OCI layout or oci-archive with its signatures and attestations to a registry" },
	{ "pull", cmd_pull,
	  "[--insecure HOST[:PORT]]… [--username U --password-stdin] [--platform OS/ARCH] [--json] HOST[:PORT]/REPO[:TAG|@sha256:…] DIR",
	  "pull an image with its signatures, attestations and SBOMs into an OCI layout" },
	{ "inspect", cmd_inspect,
	  "[--platform OS/ARCH[/VARIANT]] [--json] [--insecure HOST[:PORT]]… [--username U --password-stdin] LAYOUT|OCI-ARCHIVE|REF",
	  "show an image's per-platform manifest digests (the ones cosign verify-attestation matches), config, layers with their packages, packages, signatures and attestations" },
	{ "diff", cmd_diff,
	  "[--platform OS/ARCH[/VARIANT]] [--json] [--insecure HOST[:PORT]]… [--username U --password-stdin] A B (each LAYOUT, OCI-ARCHIVE, REF, lock:RECIPE[@ARCH] or lock:FILE:RECIPE[@ARCH])",
	  "compare two images or lock entries: packages, layers, size, config; exit 0 equal, 1 different" },
	{ "cache", cmd_cache, "du [--json] | prune [--older-than DAYS] [--dry-run]",
	  "show the cache's size by kind, or remove what no recent build or lock used" },
	{ "version", cmd_version, "", "print pare's version" },
	{ "help", cmd_help, "[COMMAND] | --man [COMMAND] | --commands | --bash-completion",
	  "show this list or one command's usage (--man, --bash-completion: what make install installs)" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(const struct command *c)
{
	printf("usage: pare %s %s\n%s\n", c->name, c->usage, c->summary);
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
	if (argc > 1 && argv[1][0] == '-')
		return perr_set(e, "version: unknown option '%s' (see 'pare help version')", argv[1]);
	if (argc > 1)
		return perr_set(e, "version: unexpected argument '%s'", argv[1]);
	printf("pare %s\n", PARE_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv, perr *e)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	/* what make install installs, made from the table above */
	if (!strcmp(argv[1], "--man") && argc <= 3)
		return cli_help_man(stdout, commands, ARRAY_SIZE(commands), argv[2], e);
	if (!strcmp(argv[1], "--bash-completion") && argc == 2) {
		cli_help_bash_completion(stdout, commands, ARRAY_SIZE(commands));
		return 0;
	}
	if (!strcmp(argv[1], "--commands") && argc == 2) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i].name);
		return 0;
	}
	if (argv[1][0] == '-')
		return perr_set(e, "help: unknown option '%s' (see 'pare help help')", argv[1]);
	c = find_command(argv[1]);
	if (!c)
		return perr_set(e, "unknown command '%s'", argv[1]);
	print_usage(c);
	return 0;
}

void cli_permute(int argc, char **argv, const char *const *valopts)
{
	char **opts = xcalloc((size_t)argc, sizeof(*opts));
	char **ops = xcalloc((size_t)argc, sizeof(*ops));
	char *dashdash = NULL;
	int no = 0, np = 0, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			dashdash = argv[i++];
			break;
		}
		if (a[0] != '-' || !a[1]) {
			ops[np++] = argv[i];
			continue;
		}
		opts[no++] = argv[i];
		for (size_t k = 0; valopts && valopts[k]; k++)
			if (!strcmp(a, valopts[k]) && i + 1 < argc) {
				opts[no++] = argv[++i];
				break;
			}
	}
	for (; i < argc; i++)
		ops[np++] = argv[i];
	i = 1;
	for (int k = 0; k < no; k++)
		argv[i++] = opts[k];
	if (dashdash)
		argv[i++] = dashdash;
	for (int k = 0; k < np; k++)
		argv[i++] = ops[k];
	free(opts);
	free(ops);
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
	c = find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "pare: unknown command '%s' (see 'pare help')\n", argv[i]);
		return 2;
	}
	/* 'pare CMD --help' (or -h) anywhere before "--" is 'pare help CMD' */
	for (int k = i + 1; k < argc && strcmp(argv[k], "--"); k++)
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			print_usage(c);
			return 0;
		}
	fetch_global_init();
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
