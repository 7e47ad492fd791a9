/*
 * shebang.c - every script the image ships has its interpreter in the image.
 *
 * A minimal image has no shell and often no perl; a package's helper script
 * ("#!/bin/sh", "#!/usr/bin/perl") then stays in the image but cannot run:
 * execve() fails with ENOENT, which reads as if the script itself were
 * missing.  Once the tree is final (package entries, from .debs or the layer
 * cache's records, and the generated files: a recipe path may add the
 * interpreter as a symlink), each executable regular file from a package
 * whose content starts with "#!" (the line is kept in the layer record, so a
 * warm build reads no .deb) has its line parsed as the kernel does
 * (fs/binfmt_script.c: the interpreter up to the first blank, the rest one
 * optional argument) and the interpreter looked up in the image, following
 * symlinks (merged /usr: /bin/sh is /usr/bin/sh) to an executable regular
 * file.  When the interpreter is env(1) (a name ending in "/env"), the
 * command it runs (its first argument that is no option or NAME=VALUE) must
 * be found too: a path as such, a name in the image's PATH (the config's:
 * the recipe's env PATH, else pare's default).
 *
 * Missing interpreters are a warning, once per interpreter, with the number
 * of scripts and the first few (by path) with their packages; with the
 * recipe's `strict: true` the first is the build's error.  `allow:
 * [missing-interpreter]` turns the check off; `strip` removes the scripts.
 * Relative interpreter paths (relative to the working directory) are not
 * checked, nor what scripts run (a popen() of /bin/sh in a binary).
 */
#include "builder_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHEBANG_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SHEBANG_EXAMPLES 3

/* An executable regular file at path in the image? */
static bool runnable(const struct image_tree *t, const char *path)
{
	const struct tree_entry *f = builder_resolve(t, path);

	return f && (f->mode & 0111);
}

/* The command env(1) runs, from its arguments as the kernel passes them
 * (one string: "python3", "-S python3 -u", "-i PATH=/x cmd"): the first word
 * that is neither an option (nor an option's value) nor NAME=VALUE; NULL when
 * there is none (env then prints the environment).  Caller frees. */
static char *env_command(const char *arg)
{
	strvec w = STRVEC_INIT;
	char *cmd = NULL;
	bool value = false;

	sv_split(&w, arg, " \t");
	for (size_t i = 0; i < w.n && !cmd; i++) {
		const char *s = w.v[i];

		if (!*s)
			continue;
		if (value) {
			value = false;
			continue;
		}
		if (s[0] == '-') {
			/* options with a separate value: -u NAME, -C DIR */
			value = !strcmp(s, "-u") || !strcmp(s, "--unset") || !strcmp(s, "-C") ||
				!strcmp(s, "--chdir");
			continue;
		}
		if (strchr(s, '=') && s[0] != '=')
			continue;
		cmd = xstrdup(s);
	}
	sv_clear(&w);
	return cmd;
}

/* The image's PATH: the recipe's env PATH (the last one), else pare's. */
static void image_path(const struct build_ctx *c, strvec *dirs)
{
	const char *path = SHEBANG_DEFAULT_PATH;

	for (size_t i = 0; c->r && i < c->r->env.n; i++)
		if (str_starts(c->r->env.v[i], "PATH="))
			path = c->r->env.v[i] + 5;
	sv_split(dirs, path, ":");
}

/* One script whose interpreter is missing. */
struct nointerp {
	char *what;     /* the interpreter as reported (quoted) */
	const char *script;
	int pkg;
	size_t seq;     /* scripts are visited in path order */
};

static int cmp_nointerp(const void *a, const void *b)
{
	const struct nointerp *x = a, *y = b;
	int r = strcmp(x->what, y->what);

	return r ? r : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *pkg_name(const struct image_tree *t, int pkg)
{
	const struct deb_pkg *p = &t->pkgs[pkg];

	return p->name ? p->name : p->lp ? p->lp->name : "?";
}

/* What is missing for the "#!" line s, or NULL when it runs.  Caller frees. */
static char *missing(const struct image_tree *t, const strvec *pathdirs, const char *s)
{
	size_t i = 0, n;
	char *interp, *arg, *cmd, *res = NULL;
	strbuf q = STRBUF_INIT;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	for (n = 0; s[i + n] && s[i + n] != ' ' && s[i + n] != '\t'; n++)
		;
	if (!n || s[i] != '/')
		return NULL; /* no interpreter (ENOEXEC), or relative: not checked */
	interp = xstrndup(s + i, n);
	if (!runnable(t, interp)) {
		policy_quote(&q, interp);
		res = sb_detach(&q);
		free(interp);
		return res;
	}
	if (strcmp(path_basename(interp), "env")) {
		free(interp);
		return NULL;
	}
	arg = xstrdup(s + i + n);
	cmd = env_command(arg);
	if (cmd && strchr(cmd, '/')) {
		if (cmd[0] == '/' && !runnable(t, cmd)) {
			policy_quote(&q, cmd);
			sb_adds(&q, " (run by ");
			policy_quote(&q, interp);
			sb_adds(&q, ")");
		}
	} else if (cmd) {
		bool found = false;

		for (size_t d = 0; d < pathdirs->n && !found; d++) {
			char *p;

			if (pathdirs->v[d][0] != '/')
				continue; /* relative: the working directory's */
			p = xasprintf("%s/%s", pathdirs->v[d], cmd);
			found = runnable(t, p);
			free(p);
		}
		if (!found) {
			policy_quote(&q, cmd);
			sb_adds(&q, " on the image's PATH (run by ");
			policy_quote(&q, interp);
			sb_adds(&q, ")");
		}
	}
	if (q.len)
		res = sb_detach(&q);
	sb_release(&q);
	free(cmd);
	free(arg);
	free(interp);
	return res;
}

int builder_shebangcheck(const struct build_ctx *c, perr *e)
{
	const struct image_tree *t = c->tree;
	struct tree_entry **ents = NULL;
	struct nointerp *miss = NULL;
	size_t n = 0, nmiss = 0, amiss = 0, nscripts = 0;
	strvec pathdirs = STRVEC_INIT;
	const char *image = c->lr ? c->lr->name : "image";
	int ret = -1;

	if (c->r && sv_contains(&c->r->allow, "missing-interpreter")) {
		debug("shebang check: off (allow: [missing-interpreter])");
		return 0;
	}
	image_path(c, &pathdirs);
	ents = tree_sorted(t, &n);
	for (size_t i = 0; i < n; i++) {
		const struct tree_entry *o = ents[i], *f = o;
		char *what;

		if (o->pkg < 0 || !(o->mode & 0111))
			continue;
		if (o->type == TREE_HARDLINK)
			f = tree_get(t, o->target);
		if (!f || f->type != TREE_FILE || !f->interp)
			continue;
		nscripts++;
		if (!(what = missing(t, &pathdirs, f->interp)))
			continue;
		ALLOC_GROW(miss, nmiss + 1, amiss);
		miss[nmiss].what = what;
		miss[nmiss].script = o->path + 1;
		miss[nmiss].pkg = o->pkg;
		miss[nmiss].seq = nmiss;
		nmiss++;
	}
	debug("shebang check: %zu executable scripts, %zu with a missing interpreter", nscripts,
	      nmiss);
	if (nmiss)
		qsort(miss, nmiss, sizeof(*miss), cmp_nointerp);
	for (size_t m = 0, run; m < nmiss; m += run) {
		strbuf line = STRBUF_INIT;

		for (run = 1; m + run < nmiss && !strcmp(miss[m + run].what, miss[m].what); run++)
			;
		sb_addf(&line, "%zu script%s need%s %s, which is not in the image: ", run,
			run > 1 ? "s" : "", run > 1 ? "" : "s", miss[m].what);
		for (size_t k = 0; k < run && k < SHEBANG_EXAMPLES; k++)
			sb_addf(&line, "%s%s (package %s)", k ? ", " : "", miss[m + k].script,
				pkg_name(t, miss[m + k].pkg));
		if (run > SHEBANG_EXAMPLES)
			sb_addf(&line, " and %zu more", run - SHEBANG_EXAMPLES);
		if (c->r && c->r->strict) {
			size_t more = 0;

			for (size_t k = m + run; k < nmiss; k++)
				more += strcmp(miss[k].what, miss[k - 1].what) != 0;
			if (more)
				sb_addf(&line, "; and %zu more missing interpreter%s", more,
					more > 1 ? "s" : "");
			sb_adds(&line, " (strict: true; strip the scripts or allow: [missing-interpreter])");
			perr_set(e, "%s", line.buf);
			sb_release(&line);
			goto out;
		}
		warning("%s (%s): %s", image, c->arch, line.buf);
		sb_release(&line);
	}
	ret = 0;
out:
	for (size_t m = 0; m < nmiss; m++)
		free(miss[m].what);
	free(miss);
	free(ents);
	sv_clear(&pathdirs);
	return ret;
}
