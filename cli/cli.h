/*
 * cli.h - pare's subcommands.  Each cmd_NAME parses its own flags and
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

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, perr *e);
	const char *usage;   /* one line: arguments */
	const char *summary; /* one line: what it does */
};

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

int cmd_push(int argc, char **argv, perr *e);
int cmd_pull(int argc, char **argv, perr *e);
int cmd_inspect(int argc, char **argv, perr *e);
int cmd_diff(int argc, char **argv, perr *e);

/* Registry flags shared by push, pull and build --push (cmd_push.c):
 * --insecure HOST[:PORT], --username U, --password-stdin.  Returns 1 when
 * argv[*i] was one of them (advancing *i past its value), 0 if not, -1 on error. */
struct registry_opts;
int cli_registry_opt(int argc, char **argv, int *i, struct registry_opts *o, strvec *insecure,
		     const char **user, bool *pw_stdin, perr *e);
/* --password-stdin: read the password (trailing newline dropped); caller
 * wipes and frees *pass.  Checks --username and --password-stdin come together. */
int cli_registry_password(const char *user, bool from_stdin, char **pass, perr *e);

/* The recipes directory and lock path all commands agree on:
 * PARE_RECIPES / PARE_LOCK override recipes/ and recipes.lock (tests). */
const char *cli_recipes_dir(void);
const char *cli_lock_path(void);
/* Turn a recipe argument (a name such as "python3" or a path to a .yaml)
 * into a path; caller frees. */
char *cli_recipe_path(const char *arg);

/* The recipe files named on the command line (cli_recipe_path each). */
void cli_recipe_files(char **args, int nargs, strvec *files);

/* Parse update's options (plus extra ones handed to extra_fn) with getopt;
 * returns the index of the first RECIPE argument, or -1. */
struct option;
struct rebuild_opts;
int cli_update_parse(int argc, char **argv, struct rebuild_opts *o, const struct option *extra,
		     int (*extra_fn)(int c, const char *arg, void *ctx, perr *e), void *ctx,
		     perr *e);

/* For the hand-rolled option loops (main.c): reorder argv[1..argc) so the
 * options come first, then "--" if given, then the operands, each group in
 * its order, so options may follow operands ('pare check python3 --json').
 * valopts (NULL-terminated) names the options that take the next argument
 * as their value; everything after "--" is an operand. */
void cli_permute(int argc, char **argv, const char *const *valopts);

/* Keep going (pare lock/check/update/build without --fail-fast): print one
 * recipe's error message the way main prints the final one ("pare: MSG"), on stderr. */
void cli_report(const char *msg);
/* bytes for people, in tables and summaries: "512 B", "3.4 MiB" (IEC, one
 * decimal); the exact count goes into --json. */
const char *cli_size(uint64_t bytes, char buf[static 16]);

/* help.c: pare(1) (name NULL) or pare-NAME(1) in roff, and a bash completion
 * script, made from the command table (pare help --man / --bash-completion). */
int cli_help_man(FILE *f, const struct command *cmds, size_t n, const char *name, perr *e);
void cli_help_bash_completion(FILE *f, const struct command *cmds, size_t n);

#endif
