/*
 * sources.c - the machine's apt sources, for recipes without `repositories:`.
 *
 * Reads, in apt's order, /etc/apt/sources.list and then the files in
 * /etc/apt/sources.list.d whose names end exactly in .list (one-line format)
 * or .sources (deb822), sorted by name.  $PARE_APT_DIR replaces /etc/apt so
 * tests can point it at a fixture.  Only `deb` entries are kept: pare never
 * builds from source.  Unsupported transports (cdrom:, mirror+…, tor+…) are
 * skipped with a warning rather than failing every recipe on the machine.
 */
#define _GNU_SOURCE
#include "resolver.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct repolist {
	struct recipe_repo *v;
	size_t n, alloc;
};

void repos_free(struct recipe_repo *repos, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(repos[i].url);
		sv_clear(&repos[i].suites);
		sv_clear(&repos[i].components);
		free(repos[i].keyring);
	}
	free(repos);
}

static bool supported_url(const char *u)
{
	return str_starts(u, "http://") || str_starts(u, "https://") ||
	       str_starts(u, "file:/");
}

static void add_repo(struct repolist *l, const char *url, const strvec *suites,
		     const strvec *components, const char *keyring, bool trusted)
{
	struct recipe_repo *r;
	size_t n;

	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->url = xstrdup(url);
	/* One spelling per repository: no trailing slash. */
	for (n = strlen(r->url); n > 8 && r->url[n - 1] == '/'; n--)
		r->url[n - 1] = '\0';
	sv_copy(&r->suites, suites);
	sv_copy(&r->components, components);
	r->keyring = keyring ? xstrdup(keyring) : NULL;
	r->trusted = trusted;
}

/* ---- inline keys ----------------------------------------------------------- */

/* gpgv reads binary keyrings only, so an armored Signed-By block is written
 * to the cache and dearmored with gpg once; the file name is the sha256 of
 * the armored text, so a changed key gives a new file. */
static int inline_keyring(const char *armored, const char *where, char **out, perr *e)
{
	char hex[SHA256_HEX_LEN + 1];
	char *dir = path_join(pare_cache_dir(), "keys");
	char *asc = NULL, *gpgf = NULL, *tmp = NULL, *home = NULL;
	char *argv[] = { "gpg", "--batch", "--quiet", "--no-options", "--homedir",
			 NULL, "--yes", "--output", NULL, "--dearmor", NULL, NULL };
	pid_t pid;
	int status, rc, ret = -1;

	sha256_hex(armored, strlen(armored), hex);
	asc = xasprintf("%s/%s.asc", dir, hex);
	gpgf = xasprintf("%s/%s.gpg", dir, hex);
	if (path_exists(gpgf)) {
		*out = gpgf;
		gpgf = NULL;
		ret = 0;
		goto out;
	}
	home = path_join(dir, "gnupg");
	if (mkdir_p(home, 0700, e) < 0)
		goto out;
	if (write_file_atomic(asc, armored, strlen(armored), 0644, e) < 0)
		goto out;
	tmp = xasprintf("%s.tmp.%ld", gpgf, (long)getpid());
	argv[5] = home;
	argv[8] = tmp;
	argv[10] = asc;
	rc = posix_spawnp(&pid, "gpg", NULL, NULL, argv, environ);
	if (rc) {
		perr_set(e, "%s: an inline signed-by key needs gpg to dearmor it: %s (apt-get install gpg)",
			 where, strerror(rc));
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perr_errno(e, "%s: waiting for gpg", where);
			goto out;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		perr_set(e, "%s: gpg --dearmor failed on the inline signed-by key", where);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, gpgf) < 0) {
		perr_errno(e, "cannot rename '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	*out = gpgf;
	gpgf = NULL;
	ret = 0;
out:
	free(dir), free(asc), free(gpgf), free(tmp), free(home);
	return ret;
}

/* Signed-By: / signed-by= holds a keyring path (or, in deb822, an inline
 * key).  Fingerprints and several keyrings narrow or widen apt's trust in
 * ways one gpgv keyring cannot express, so they are refused. */
static int signed_by(const char *val, const char *where, char **keyring, perr *e)
{
	strvec parts = STRVEC_INIT;
	int ret = -1;

	if (strstr(val, "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
		return inline_keyring(val, where, keyring, e);
	sv_split(&parts, val, ", \t\n");
	if (parts.n != 1) {
		perr_set(e, "%s: signed-by: expected one keyring file, got %zu values", where,
			 parts.n);
		goto out;
	}
	if (parts.v[0][0] != '/') {
		perr_set(e, "%s: signed-by: '%s' is not an absolute keyring path (fingerprints are not supported)",
			 where, parts.v[0]);
		goto out;
	}
	free(*keyring);
	*keyring = xstrdup(parts.v[0]);
	ret = 0;
out:
	sv_clear(&parts);
	return ret;
}

static bool yes(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1");
}

static bool no(const char *v)
{
	return !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0");
}

/* ---- one-line format --------------------------------------------------------- */

/* deb [ key=value ... ] uri suite [component ...] */
static int parse_line(const char *file, size_t lineno, char *line,
		      struct repolist *l, perr *e)
{
	strvec tok = STRVEC_INIT, opts = STRVEC_INIT;
	strvec suites = STRVEC_INIT, comps = STRVEC_INIT;
	char *where = xasprintf("%s:%zu", file, lineno);
	char *keyring = NULL, *p, *rest;
	bool trusted = false;
	size_t tlen;
	int ret = -1;

	*strchrnul(line, '#') = '\0';
	p = str_trim(line);
	if (!*p) {
		ret = 0;
		goto out;
	}
	tlen = strcspn(p, " \t[");
	rest = p + tlen;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	/* Options may contain spaces inside the brackets. */
	if (*rest == '[') {
		char *close = strchr(rest, ']');
		if (!close) {
			perr_set(e, "%s: missing ']' after the options", where);
			goto out;
		}
		*close = '\0';
		sv_split(&opts, rest + 1, " \t");
		rest = close + 1;
	}
	p[tlen] = '\0';
	if (strcmp(p, "deb") && strcmp(p, "deb-src")) {
		perr_set(e, "%s: unknown type '%s' (expected deb or deb-src)", where, p);
		goto out;
	}
	sv_split(&tok, rest, " \t");
	if (tok.n < 2) {
		perr_set(e, "%s: expected 'deb [OPTIONS] URI SUITE [COMPONENT…]'", where);
		goto out;
	}
	if (!strcmp(p, "deb-src")) {
		ret = 0;
		goto out;
	}
	for (size_t j = 0; j < opts.n; j++) {
		char *eq = strchr(opts.v[j], '=');
		if (!eq || eq == opts.v[j]) {
			perr_set(e, "%s: option '%s' is not key=value", where, opts.v[j]);
			goto out;
		}
		*eq = '\0';
		if (!strcmp(opts.v[j], "signed-by")) {
			if (signed_by(eq + 1, where, &keyring, e) < 0)
				goto out;
		} else if (!strcmp(opts.v[j], "trusted")) {
			trusted = yes(eq + 1);
		}
		/* arch=, lang=, target=, … do not change what pare fetches:
		 * the recipe names its archs. */
	}
	if (!supported_url(tok.v[0])) {
		warning("%s: skipping unsupported source '%s'", where, tok.v[0]);
		ret = 0;
		goto out;
	}
	sv_push(&suites, tok.v[1]);
	for (size_t j = 2; j < tok.n; j++)
		sv_push(&comps, tok.v[j]);
	if (!str_ends(tok.v[1], "/") && !comps.n) {
		perr_set(e, "%s: missing components after suite '%s'", where, tok.v[1]);
		goto out;
	}
	add_repo(l, tok.v[0], &suites, &comps, keyring, trusted);
	ret = 0;
out:
	sv_clear(&tok), sv_clear(&opts), sv_clear(&suites), sv_clear(&comps);
	free(keyring);
	free(where);
	return ret;
}

static int parse_list(const char *file, char *buf, struct repolist *l, perr *e)
{
	size_t lineno = 0;
	char *line = buf, *nl;

	for (; line && *line; line = nl) {
		lineno++;
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (parse_line(file, lineno, line, l, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- deb822 ---------------------------------------------------------------------- */

struct sources_file {
	const char *file;
	struct repolist *l;
};

/* One entry of a .sources file. */
static int para_finish(void *arg, struct deb822_stanza *p, perr *e)
{
	const char *file = ((struct sources_file *)arg)->file;
	struct repolist *l = ((struct sources_file *)arg)->l;
	const struct deb822_field *types = deb822_get(p, "Types"), *uris = deb822_get(p, "URIs");
	const struct deb822_field *suites_f = deb822_get(p, "Suites"),
				  *comps_f = deb822_get(p, "Components");
	const struct deb822_field *sb = deb822_get(p, "Signed-By"), *en = deb822_get(p, "Enabled");
	const struct deb822_field *tr = deb822_get(p, "Trusted");
	strvec tv = STRVEC_INIT, uv = STRVEC_INIT, suites = STRVEC_INIT, comps = STRVEC_INIT;
	char *keyring = NULL, *where = xasprintf("%s:%zu", file, p->line);
	bool has_deb = false, trusted = false;
	int ret = -1;

	if (en) {
		if (no(sb_str(&en->value))) {
			ret = 0;
			goto out;
		}
		if (!yes(sb_str(&en->value))) {
			perr_set(e, "%s:%zu: Enabled: expected yes or no", file, en->line);
			goto out;
		}
	}
	if (!types || !uris || !suites_f) {
		perr_set(e, "%s: entry without %s", where,
			 !types ? "Types" : !uris ? "URIs" : "Suites");
		goto out;
	}
	sv_split(&tv, sb_str(&types->value), " \t\n");
	for (size_t i = 0; i < tv.n; i++) {
		if (!strcmp(tv.v[i], "deb"))
			has_deb = true;
		else if (strcmp(tv.v[i], "deb-src")) {
			perr_set(e, "%s:%zu: unknown type '%s' (expected deb or deb-src)",
				 file, types->line, tv.v[i]);
			goto out;
		}
	}
	if (!has_deb) {
		ret = 0;
		goto out;
	}
	sv_split(&uv, sb_str(&uris->value), " \t\n");
	sv_split(&suites, sb_str(&suites_f->value), " \t\n");
	if (comps_f)
		sv_split(&comps, sb_str(&comps_f->value), " \t\n");
	if (!uv.n || !suites.n) {
		perr_set(e, "%s: empty %s", where, !uv.n ? "URIs" : "Suites");
		goto out;
	}
	for (size_t i = 0; i < suites.n; i++)
		if (!str_ends(suites.v[i], "/") && !comps.n) {
			perr_set(e, "%s: missing Components for suite '%s'", where,
				 suites.v[i]);
			goto out;
		}
	if (tr)
		trusted = yes(sb_str(&tr->value));
	if (sb) {
		char *sbwhere = xasprintf("%s:%zu", file, sb->line);
		int r = signed_by(sb_str(&sb->value), sbwhere, &keyring, e);
		free(sbwhere);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < uv.n; i++) {
		if (!supported_url(uv.v[i])) {
			warning("%s: skipping unsupported source '%s'", where, uv.v[i]);
			continue;
		}
		add_repo(l, uv.v[i], &suites, &comps, keyring, trusted);
	}
	ret = 0;
out:
	sv_clear(&tv), sv_clear(&uv), sv_clear(&suites), sv_clear(&comps);
	free(keyring);
	free(where);
	return ret;
}

static int parse_sources(const char *file, char *buf, struct repolist *l, perr *e)
{
	struct sources_file sf = { file, l };
	struct deb822 d = { .name = file,
			    .flags = DEB822_COMMENTS | DEB822_DOT | DEB822_NO_DUPS,
			    .stanza = para_finish, .arg = &sf };

	return deb822_parse(&d, buf, strlen(buf), e);
}

/* ---- the directory --------------------------------------------------------------- */

static int load_file(const char *path, bool deb822, struct repolist *l, perr *e)
{
	strbuf sb = STRBUF_INIT;
	int ret = -1;

	if (read_file(path, &sb, 16 << 20, e) < 0)
		goto out;
	if (memchr(sb.buf, '\0', sb.len)) {
		perr_set(e, "%s: NUL byte in file", path);
		goto out;
	}
	ret = deb822 ? parse_sources(path, sb.buf, l, e) : parse_list(path, sb.buf, l, e);
out:
	sb_release(&sb);
	return ret;
}

/* apt ignores names with other characters (backups like foo.list~ or
 * foo.list.disabled never end in .list anyway). */
static bool apt_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

int sources_load_host(struct recipe_repo **repos, size_t *n, perr *e)
{
	const char *base = getenv("PARE_APT_DIR");
	struct repolist l = { 0 };
	char *main_list, *dir = NULL;
	strvec names = STRVEC_INIT;
	DIR *d = NULL;
	struct dirent *de;
	int ret = -1;

	if (!base || !*base)
		base = "/etc/apt";
	main_list = path_join(base, "sources.list");
	dir = path_join(base, "sources.list.d");
	if (path_exists(main_list) && load_file(main_list, false, &l, e) < 0)
		goto out;
	if ((d = opendir(dir))) {
		while ((de = readdir(d)))
			if (apt_name(de->d_name) && de->d_name[0] != '.' &&
			    (str_ends(de->d_name, ".list") || str_ends(de->d_name, ".sources")))
				sv_push(&names, de->d_name);
		closedir(d);
		sv_sort(&names);
	} else if (errno != ENOENT) {
		perr_errno(e, "cannot open '%s'", dir);
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		char *p = path_join(dir, names.v[i]);
		int r = load_file(p, str_ends(names.v[i], ".sources"), &l, e);
		free(p);
		if (r < 0)
			goto out;
	}
	if (!l.n) {
		perr_set(e, "no deb entries in %s/sources.list or %s (name repositories in the recipe)",
			 base, dir);
		goto out;
	}
	*repos = l.v;
	*n = l.n;
	l.v = NULL;
	l.n = 0;
	ret = 0;
out:
	repos_free(l.v, l.n);
	sv_clear(&names);
	free(main_list);
	free(dir);
	return ret;
}
