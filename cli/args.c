/* args.c - the one option parser of every command, driven by the command's
 * option table (cli.h: struct cli_opt), the table that pare help, the man
 * pages and the bash completion print (help.c): an option a command parses is
 * an option its help shows.
 *
 * getopt_long underneath, in glibc's "return in order" mode ("-" first in
 * the short options): options may follow operands ('pare check python3
 * --json'), whatever POSIXLY_CORRECT says, and "--" ends the options. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the table with its CLI_INCLUDE entries expanded in place */
static size_t flatten(const struct cli_opt *t, const struct cli_opt **out, size_t n, size_t max)
{
	for (; t && t->key; t++) {
		if (t->flags & CLI_INCLUDE)
			n = flatten(t->include, out, n, max);
		else if (n < max)
			out[n++] = t;
	}
	return n;
}

size_t cli_opts_list(const struct cli_opt *t, const struct cli_opt **out, size_t max)
{
	return flatten(t, out, 0, max);
}

void cli_args_init(struct cli_args *p, int argc, char **argv, const struct cli_opt *opts)
{
	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->n = cli_opts_list(opts, p->opts, ARRAY_SIZE(p->opts));
	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
}

int cli_args_next(struct cli_args *p, perr *e)
{
	struct option lo[ARRAY_SIZE(p->opts) + 1];
	char so[3 * ARRAY_SIZE(p->opts) + 3] = "-:", *s = so + 2;
	const char *cmd = p->argv[0];
	char opt[128];
	int c, li = -1;

	for (size_t i = 0; i < p->n; i++) {
		const struct cli_opt *o = p->opts[i];
		lo[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					 (int)(1000 + i) };
		if (o->flags & CLI_SHORT) {
			*s++ = (char)o->key;
			if (o->arg)
				*s++ = ':';
		}
	}
	lo[p->n] = (struct option){ 0 };
	*s = '\0';
	for (;;) {
		c = getopt_long(p->argc, p->argv, so, lo, &li);
		if (c != 1)
			break;
		/* an operand, moved down to its place among the operands: argv
		 * up to optind is read, and each operand took one slot of it */
		p->argv[1 + p->nops++] = optarg;
	}
	if (c == -1) {
		/* after "--": the rest are operands */
		for (int i = optind; i < p->argc; i++)
			p->argv[1 + p->nops++] = p->argv[i];
		return 0;
	}
	p->val = optarg;
	if (c >= 1000 && (size_t)(c - 1000) < p->n)
		return p->opts[c - 1000]->key;
	for (size_t i = 0; i < p->n; i++)
		if ((p->opts[i]->flags & CLI_SHORT) && p->opts[i]->key == c)
			return c;
	/* optopt: the option's val (long) or letter (short); 0 for an unknown long one */
	if (optopt >= 1000 && (size_t)(optopt - 1000) < p->n)
		snprintf(opt, sizeof(opt), "--%s", p->opts[optopt - 1000]->name);
	else if (optopt > 0 && optopt < 256)
		snprintf(opt, sizeof(opt), "-%c", optopt);
	else
		snprintf(opt, sizeof(opt), "%s", p->argv[optind - 1]);
	if (c == ':')
		return perr_set(e, "%s: option '%s' needs a value (see 'pare help %s')", cmd, opt, cmd);
	if (optopt >= 1000)
		return perr_set(e, "%s: option '%s' takes no value (see 'pare help %s')", cmd, opt,
				cmd);
	return perr_set(e, "%s: unknown option '%s' (see 'pare help %s')", cmd, opt, cmd);
}

/* ---- usage lines from the tables ---------------------------------------------- */

void cli_opt_flags(const struct cli_opt *o, strbuf *sb)
{
	if (o->flags & CLI_SHORT)
		sb_addf(sb, "-%c|", o->key);
	sb_addf(sb, "--%s", o->name);
	if (o->arg)
		sb_addf(sb, " %s", o->arg);
}

char *cli_usage(const struct command *c)
{
	const struct cli_opt *l[64];
	size_t n = cli_opts_list(c->opts, l, ARRAY_SIZE(l));
	strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		bool req = l[i]->flags & CLI_REQUIRED;
		if (sb.len)
			sb_addc(&sb, ' ');
		if (!req)
			sb_addc(&sb, '[');
		cli_opt_flags(l[i], &sb);
		if (!req)
			sb_addc(&sb, ']');
		if (l[i]->flags & CLI_REPEAT)
			sb_adds(&sb, "…");
	}
	if (*c->operands)
		sb_addf(&sb, "%s%s", sb.len ? " " : "", c->operands);
	return sb_detach(&sb);
}

int cli_usage_error(perr *e, const char *name, const char *fmt, ...)
{
	const struct command *c = cli_command(name);
	char *u = c ? cli_usage(c) : xstrdup(""), *what = NULL;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&what, fmt, ap) < 0)
			what = NULL;
		va_end(ap);
	}
	if (what)
		perr_set(e, "%s: %s (usage: pare %s %s)", name, what, name, u);
	else
		perr_set(e, "%s: usage: pare %s %s", name, name, u);
	free(what);
	free(u);
	return -1;
}
