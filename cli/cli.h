/*
 * cli.h - pare's subcommands.  Each cmd_NAME parses its flags with the one
 * parser (args.c) from its option table (cli_NAME_opts, in its cmd_*.c) and
 * calls into the modules; the table that maps names to them is in main.c.
 * A command returns 0 on success, 1 for "ran fine, but something differs"
 * where documented, and -1 with e filled on error (main prints it, exit 2).
 *
 * cli/ is the top of the program: main.c, the command table, every cmd_*.c
 * and the shared option handling.  It may include every module's public
 * header and nothing includes it (tests/layering checks it).
 */
#ifndef PARE_CLI_H
#define PARE_CLI_H

#include "../common/common.h"
#include "../registry/registry.h"

#include <stdio.h>

/* One option of a command.  A command declares its options once, in a table
 * ending with { 0 }; the table drives parsing (cli_args_next), the usage line
 * and `pare help CMD`, the man pages and the bash completion (help.c), so
 * none of them can drift from what the command takes. */
struct cli_opt {
	int key;          /* what cli_args_next returns (> 0); with CLI_SHORT also -KEY */
	const char *name; /* --NAME */
	const char *arg;  /* the value's name in usage and help ("DIR"); NULL: a flag */
	unsigned flags;
	const char *help; /* one line, for pare help CMD and the man page */
	const struct cli_opt *include; /* CLI_INCLUDE: that table's options, here */
};
#define CLI_SHORT    1u /* -KEY as well as --NAME */
#define CLI_REQUIRED 2u /* shown without [ ] in the usage line (the command checks it) */
#define CLI_REPEAT   4u /* may be given more than once ("…" in the usage line) */
#define CLI_INCLUDE  8u
#define CLI_OPTS_INCLUDE(table) { -1, NULL, NULL, CLI_INCLUDE, NULL, table }

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, perr *e);
	const struct cli_opt *opts; /* its options (NULL: none) */
	const char *operands;       /* the usage line after the options */
	const char *summary;        /* one line: what it does */
};

/* The command table (main.c): the command called name, or NULL. */
const struct command *cli_command(const char *name);
/* The usage line of c after "pare NAME": its options, then its operands; caller frees. */
char *cli_usage(const struct command *c);
/* "-o|--output DIR" (the usage line's spelling of one option) appended to sb. */
void cli_opt_flags(const struct cli_opt *o, strbuf *sb);
/* t with its CLI_INCLUDE entries expanded: up to max options into out, the count. */
size_t cli_opts_list(const struct cli_opt *t, const struct cli_opt **out, size_t max);
/* "NAME: usage: pare NAME USAGE" (fmt NULL) or "NAME: WHAT (usage: pare NAME USAGE)",
 * WHAT made from fmt; returns -1. */
int cli_usage_error(perr *e, const char *name, const char *fmt, ...) PRINTF(3, 4);

/* The option parser (args.c), getopt_long underneath:
 *	struct cli_args a;
 *	cli_args_init(&a, argc, argv, cli_NAME_opts);
 *	while ((c = cli_args_next(&a, e)) > 0)
 *		switch (c) { case 'o': out = a.val; break; … }
 *	if (c < 0) return -1;
 *	operands: argv[1 .. 1 + a.nops)
 * Options may come anywhere among the operands; "--" ends them.  An unknown
 * option or a missing value is the one-line error "NAME: unknown option
 * '--x' (see 'pare help NAME')". */
struct cli_args {
	int argc;
	char **argv;
	const struct cli_opt *opts[48];
	size_t n;
	const char *val; /* the value of the option cli_args_next just returned */
	int nops;        /* once it returned 0: the operands are argv[1 .. 1 + nops), in order */
};
void cli_args_init(struct cli_args *p, int argc, char **argv, const struct cli_opt *opts);
/* The next option's key (its value in p->val), 0 at the end, -1 on error. */
int cli_args_next(struct cli_args *p, perr *e);

/* Each command's options (in its cmd_*.c). */
extern const struct cli_opt cli_lock_opts[], cli_why_opts[], cli_build_opts[], cli_sbom_opts[],
	cli_keygen_opts[], cli_sign_opts[], cli_verify_opts[], cli_check_opts[],
	cli_update_opts[], cli_watch_opts[], cli_plan_opts[], cli_cache_opts[], cli_push_opts[],
	cli_pull_opts[], cli_inspect_opts[], cli_diff_opts[], cli_audit_opts[], cli_report_opts[],
	cli_cve_opts[], cli_inventory_opts[], cli_evidence_opts[];

int cmd_lock(int argc, char **argv, perr *e);
int cmd_why(int argc, char **argv, perr *e);
int cmd_build(int argc, char **argv, perr *e);
int cmd_sbom(int argc, char **argv, perr *e);
int cmd_keygen(int argc, char **argv, perr *e);
int cmd_sign(int argc, char **argv, perr *e);
int cmd_verify(int argc, char **argv, perr *e);
int cmd_check(int argc, char **argv, perr *e);
int cmd_update(int argc, char **argv, perr *e);
int cmd_watch(int argc, char **argv, perr *e);
int cmd_plan(int argc, char **argv, perr *e);
int cmd_cache(int argc, char **argv, perr *e);
int cmd_cve(int argc, char **argv, perr *e);
int cmd_inventory(int argc, char **argv, perr *e);

int cmd_push(int argc, char **argv, perr *e);
int cmd_pull(int argc, char **argv, perr *e);
int cmd_inspect(int argc, char **argv, perr *e);
int cmd_diff(int argc, char **argv, perr *e);
int cmd_audit(int argc, char **argv, perr *e);
int cmd_report(int argc, char **argv, perr *e);
int cmd_evidence(int argc, char **argv, perr *e);

/* The registry options push, pull, inspect, diff and build --push share
 * (cmd_push.c): --insecure HOST[:PORT]…, --username U, --password-stdin. */
enum { CLI_INSECURE = 0x100, CLI_USERNAME, CLI_PASSWORD_STDIN };
extern const struct cli_opt cli_registry_opts[];
struct cli_registry {
	struct registry_opts o; /* insecure, username, password filled */
	strvec insecure;
	const char *user;
	bool pw_stdin;
	char *pass;
};
/* Whether key was one of cli_registry_opts (then taken, with its value val). */
bool cli_registry_opt(struct cli_registry *r, int key, const char *val);
/* After parsing: --username and --password-stdin come together; the
 * password read (trailing newline dropped) into r->o. */
int cli_registry_finish(struct cli_registry *r, perr *e);
/* Wipes and frees the password, frees the rest. */
void cli_registry_release(struct cli_registry *r);

/* The shared layer cache options of build and update (cmd_build.c):
 * --cache-to REF, --cache-from REF[,REF…]; without them $PARE_CACHE_TO and
 * $PARE_CACHE_FROM (CI).  docs/cache.md#remote-layer-cache. */
enum { CLI_CACHE_TO = 0x110, CLI_CACHE_FROM };
extern const struct cli_opt cli_lcache_opts[];
struct rebuild_cache;
/* Opens the cache the options (else the environment) name: 0 with *c NULL
 * when none; -1 on a bad reference. */
int cli_cache_open(const char *to, const char *from, const struct registry_opts *reg,
		   struct rebuild_cache **c, perr *e);

/* The recipes directory and lock path all commands agree on:
 * PARE_RECIPES / PARE_LOCK override recipes/ and recipes.lock (tests). */
const char *cli_recipes_dir(void);
const char *cli_lock_path(void);
/* Turn a recipe argument (a name such as "python3" or a path to a .yaml)
 * into a path; caller frees. */
char *cli_recipe_path(const char *arg);

/* The recipe files named on the command line (cli_recipe_path each). */
void cli_recipe_files(char **args, int nargs, strvec *files);

/* Parse update's and watch's options (cli_NAME_opts): the rebuild options
 * into o, the others handed to extra_fn; returns the number of RECIPE
 * operands (argv[1 ..]), or -1. */
struct rebuild_opts;
int cli_update_parse(int argc, char **argv, const struct cli_opt *opts, struct rebuild_opts *o,
		     int (*extra_fn)(int c, const char *arg, void *ctx, perr *e), void *ctx,
		     perr *e);

/* Keep going (pare lock/check/update/build without --fail-fast): print one
 * recipe's error message the way main prints the final one ("pare: MSG"), on stderr. */
void cli_report(const char *msg);
/* bytes for people, in tables and summaries: "512 B", "3.4 MiB" (IEC, one
 * decimal); the exact count goes into --json. */
const char *cli_size(uint64_t bytes, char buf[static 16]);

/* help.c: pare help CMD's text; pare(1) (name NULL) or pare-NAME(1) in roff, and a
 * bash completion script, made from the command table (pare help --man /
 * --bash-completion). */
void cli_help_command(FILE *f, const struct command *c);
int cli_help_man(FILE *f, const struct command *cmds, size_t n, const char *name, perr *e);
void cli_help_bash_completion(FILE *f, const struct command *cmds, size_t n);

#endif
