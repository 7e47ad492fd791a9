/*
 * recipe.c - recipes/NAME.yaml -> struct recipe.
 *
 * The file is parsed twice with libyaml: first as an event stream, only to
 * reject what the schema never needs and what could make the walk below
 * expensive (aliases, more than one document, absurd nesting), then with the
 * document API, whose nodes carry the line:column every error names.
 *
 * `extends:` loads the parent first (recursively, with a cycle check) and
 * applies this file on top of it: scalars override, lists append, maps merge
 * (docs/recipes.md).  Defaults (host arch, default assume list, the nonroot
 * account) are applied once, to the merged result, and the sha256 is taken
 * over a canonical JSON form of that result, so a change anywhere in the
 * chain changes it.
 */
#define _GNU_SOURCE
#include "resolver.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <yaml.h>

#define RECIPE_MAX_BYTES (1u << 20) /* recipes are small; this bounds the work */
#define RECIPE_MAX_DEPTH 32         /* nesting inside one file */
#define RECIPE_MAX_EXTENDS 16       /* length of an extends chain */
#define RECIPE_MAX_ID 2147483647UL  /* uids and gids: 2^31-1, as the kernel and tar agree */

/*
 * Packages every image is assumed to need no copy of.  See docs/recipes.md
 * for the reason behind each; in short: Debian's Essential set (which every
 * package may use without declaring it, so the solver would otherwise pull
 * all of it into every image), the package manager, and the shells.
 */
const char *const recipe_default_assume[] = {
	/* package management: never run in the image */
	"dpkg", "apt", "debconf",
	/* shells: images have none unless `allow: [shell]` and asked for */
	"bash", "dash",
	/* the rest of Debian 12's Essential: yes set */
	"base-passwd", "bsdutils", "coreutils", "debianutils", "diffutils",
	"findutils", "grep", "gzip", "hostname", "init-system-helpers",
	"libc-bin", "login", "ncurses-bin", "perl-base", "sed",
	"sysvinit-utils", "tar", "util-linux",
	/* pare lays out merged-/usr itself */
	"usr-is-merged", "usrmerge",
	NULL,
};

/* ---- host architecture -------------------------------------------------- */

const char *resolver_host_arch(void)
{
	static char arch[sizeof(((struct utsname *)0)->machine)];
	static const struct {
		const char *machine, *arch;
	} map[] = {
		{ "x86_64", "amd64" },   { "aarch64", "arm64" },
		{ "arm64", "arm64" },    { "i386", "i386" },
		{ "i486", "i386" },      { "i586", "i386" },
		{ "i686", "i386" },      { "armv7l", "armhf" },
		{ "armv8l", "armhf" },   { "armv6l", "armel" },
		{ "armv5tel", "armel" }, { "ppc64le", "ppc64el" },
		{ "ppc64", "ppc64" },    { "s390x", "s390x" },
		{ "riscv64", "riscv64" }, { "mips64", "mips64el" },
		{ "loongarch64", "loong64" },
	};
	struct utsname u;

	if (arch[0])
		return arch;
	/* uname, not `dpkg --print-architecture`: no subprocess, and the
	 * answer only differs for multiarch-foreign userlands (rare). */
	snprintf(arch, sizeof(arch), "amd64");
	if (uname(&u) == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i].machine)) {
				snprintf(arch, sizeof(arch), "%s", map[i].arch);
				return arch;
			}
		snprintf(arch, sizeof(arch), "%s", u.machine);
	}
	return arch;
}

/* ---- name and version syntax ---------------------------------------------- */

/* Debian policy 5.6.1: lower-case letters, digits, + - . ; at least two
 * characters; starts with an alphanumeric. */
static bool valid_pkg_name(const char *s, size_t n)
{
	if (n < 2 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c >= 'a' && c <= 'z') && !isdigit(c) && c != '+' &&
		    c != '-' && c != '.')
			return false;
	}
	return true;
}

/* Debian policy 5.6.12: [epoch:]upstream_version[-debian_revision].
 * Fills why with a short reason when invalid. */
static bool valid_version(const char *v, const char **why)
{
	const char *colon = strchr(v, ':');
	const char *up = v, *hy, *end;

	if (!*v)
		return *why = "empty version", false;
	if (colon) {
		if (colon == v)
			return *why = "empty epoch", false;
		for (const char *p = v; p < colon; p++)
			if (!isdigit((unsigned char)*p))
				return *why = "epoch must be a number", false;
		if (colon - v > 9)
			return *why = "epoch too large", false;
		up = colon + 1;
	}
	hy = strrchr(up, '-');
	end = hy ? hy : up + strlen(up);
	if (up == end)
		return *why = "empty upstream version", false;
	if (!isdigit((unsigned char)*up))
		return *why = "upstream version must start with a digit", false;
	for (const char *p = up; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (!isalnum(c) && !strchr(".+~-", c))
			return *why = "invalid character in upstream version", false;
	}
	if (hy) {
		if (!hy[1])
			return *why = "empty debian revision", false;
		for (const char *p = hy + 1; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (!isalnum(c) && !strchr(".+~", c))
				return *why = "invalid character in debian revision",
				       false;
		}
	}
	return true;
}

/* "name", "name (op version)" or "name=version".  Returns a reason on error. */
static const char *parse_dep(const char *s, struct recipe_dep *d)
{
	static const char *const ops[] = { "<<", "<=", "=", ">=", ">>" };
	const char *p = s, *why = NULL;
	size_t n;
	char *op = NULL, *ver = NULL;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t(=");
	if (!valid_pkg_name(p, n))
		return n ? (p[n] == ':' || memchr(p, ':', n)
				    ? "architecture qualifiers are not supported"
				    : "invalid package name (debian policy 5.6.1)")
			 : "missing package name";
	d->name = xstrndup(p, n);
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	if (*p == '=') {
		op = xstrdup("=");
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		ver = xstrndup(p, n);
		p += n;
	} else if (*p == '(') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strspn(p, "<>=!");
		if (!n)
			return "missing operator in constraint (use <<, <=, =, >=, >>)";
		for (size_t i = 0; i < ARRAY_SIZE(ops) && !op; i++)
			if (strlen(ops[i]) == n && !strncmp(p, ops[i], n))
				op = xstrdup(ops[i]);
		if (!op)
			return "invalid operator in constraint (use <<, <=, =, >=, >>)";
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t)");
		ver = xstrndup(p, n);
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ')') {
			why = "missing ')' after the version";
			goto bad;
		}
		p++;
	} else {
		return "invalid package name (debian policy 5.6.1)";
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		why = "unexpected text after the constraint";
		goto bad;
	}
	if (!*ver) {
		why = "missing version in constraint";
		goto bad;
	}
	if (!valid_version(ver, &why))
		goto bad;
	d->op = op;
	d->version = ver;
	return NULL;
bad:
	free(op);
	free(ver);
	return why;
}

/* ---- YAML walking -------------------------------------------------------- */

struct layer;

struct ctx {
	const char *file;
	yaml_document_t *doc;
	perr *e;
	struct layer *L;
	strbuf quoted[4]; /* q()'s last results */
	unsigned nq;
};

/* Recipe text for a message (sb_add_quoted: escaped, cut); valid until the
 * fourth call after it (a message quotes at most two). */
static const char *q(struct ctx *c, const char *s)
{
	strbuf *sb = &c->quoted[c->nq++ % ARRAY_SIZE(c->quoted)];

	sb_reset(sb);
	sb_add_quoted(sb, s);
	return sb_str(sb);
}

static int PRINTF(3, 4) err_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr_set(c->e, "%s:%zu:%zu: %s", c->file, n->start_mark.line + 1,
			n->start_mark.column + 1, msg);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a map";
	default:
		return "nothing";
	}
}

static yaml_node_t *node(struct ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A scalar as a C string (pointer into the document). */
static int get_str(struct ctx *c, const yaml_node_t *n, const char *what,
		   const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return err_at(c, n, "%s: expected a string, got %s", what,
			      node_kind(n));
	if (is_null(n))
		return err_at(c, n, "%s: expected a string, got nothing", what);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return err_at(c, n, "%s: NUL byte in string", what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int get_strdup(struct ctx *c, const yaml_node_t *n, const char *what,
		      char **out)
{
	const char *s;

	if (get_str(c, n, what, &s) < 0)
		return -1;
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int get_bool(struct ctx *c, const yaml_node_t *n, const char *what, bool *out)
{
	const char *s;

	if (get_str(c, n, what, &s) < 0)
		return -1;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no"))
		*out = false;
	else
		return err_at(c, n, "%s: expected true or false, got '%s'", what, q(c, s));
	return 0;
}

static int get_uint(struct ctx *c, const yaml_node_t *n, const char *what,
		    int base, unsigned long max, unsigned long *out)
{
	const char *s;
	char *end;
	unsigned long v;

	if (get_str(c, n, what, &s) < 0)
		return -1;
	if (base == 8 && (!strncmp(s, "0o", 2) || !strncmp(s, "0O", 2)))
		s += 2;
	if (!*s || !(isdigit((unsigned char)*s)))
		goto bad;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	if (base == 8)
		return err_at(c, n, "%s: expected an octal number up to 0%lo, got '%s'",
			      what, max, q(c, s));
	return err_at(c, n, "%s: expected a number up to %lu, got '%s'", what, max, q(c, s));
}

/* Iterate a mapping: checks it is one (null = empty), rejects non-scalar and
 * duplicate keys.  The callback gets the key string and the value node. */
typedef int (*map_cb)(struct ctx *c, const char *key, yaml_node_t *k,
		      yaml_node_t *v, void *arg);

struct keyref {
	const char *key;
	yaml_node_t *node;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	if (x->node->start_mark.index != y->node->start_mark.index)
		return x->node->start_mark.index < y->node->start_mark.index ? -1 : 1;
	return 0;
}

static int walk_map(struct ctx *c, yaml_node_t *n, const char *what, map_cb cb,
		    void *arg)
{
	yaml_node_pair_t *p;
	struct keyref *keys = NULL;
	size_t nk = 0;
	int ret = -1;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return err_at(c, n, "%s: expected a map, got %s", what, node_kind(n));
	nk = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	keys = xcalloc(nk ? nk : 1, sizeof(*keys));
	nk = 0;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key);
		const char *ks;

		if (!k || k->type != YAML_SCALAR_NODE) {
			err_at(c, k ? k : n, "%s: keys must be strings", what);
			goto out;
		}
		if (get_str(c, k, what, &ks) < 0)
			goto out;
		keys[nk].key = ks;
		keys[nk++].node = k;
	}
	/* Duplicates first, so the message names the second occurrence
	 * whatever the callback would have said about it. */
	qsort(keys, nk, sizeof(*keys), keyref_cmp);
	for (size_t i = 1; i < nk; i++)
		if (!strcmp(keys[i].key, keys[i - 1].key)) {
			err_at(c, keys[i].node, "duplicate key '%s' (first at line %zu)",
			       q(c, keys[i].key), keys[i - 1].node->start_mark.line + 1);
			goto out;
		}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);

		if (cb(c, (const char *)k->data.scalar.value, k, v, arg) < 0)
			goto out;
	}
	ret = 0;
out:
	free(keys);
	return ret;
}

/* Iterate a sequence (null = empty). */
typedef int (*seq_cb)(struct ctx *c, yaml_node_t *item, void *arg);

static int walk_seq(struct ctx *c, yaml_node_t *n, const char *what, seq_cb cb,
		    void *arg)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return err_at(c, n, "%s: expected a list, got %s", what, node_kind(n));
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     i < n->data.sequence.items.top; i++)
		if (cb(c, node(c, *i), arg) < 0)
			return -1;
	return 0;
}

/* A list of strings appended to sv; validate (may be NULL) checks each. */
struct strlist_arg {
	strvec *sv;
	const char *what;
	const char *(*validate)(const char *s);
};

static int strlist_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct strlist_arg *a = arg;
	const char *s, *why;

	if (get_str(c, item, a->what, &s) < 0)
		return -1;
	if (a->validate && (why = a->validate(s)))
		return err_at(c, item, "%s: '%s': %s", a->what, q(c, s), why);
	sv_push(a->sv, s);
	return 0;
}

static int get_strlist(struct ctx *c, yaml_node_t *n, const char *what,
		       strvec *sv, const char *(*validate)(const char *))
{
	struct strlist_arg a = { sv, what, validate };

	return walk_seq(c, n, what, strlist_item, &a);
}

/* Text that ends up in the image config or manifest (and in messages):
 * no C0 or C1 control characters, no DEL (a newline in an env value or a
 * label forges a line in whatever prints it). */
static const char *v_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return "control characters (newline, tab, escape, ...) are not allowed";
	return NULL;
}

/* "string or list" (entrypoint, cmd): a string is one argument. */
static int get_argv(struct ctx *c, yaml_node_t *n, const char *what, strvec *sv)
{
	sv_clear(sv);
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		const char *s;
		if (get_str(c, n, what, &s) < 0)
			return -1;
		if (v_text(s))
			return err_at(c, n, "%s: '%s': %s", what, q(c, s), v_text(s));
		sv_push(sv, s);
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE && !is_null(n))
		return err_at(c, n, "%s: expected a string or a list, got %s", what,
			      node_kind(n));
	return get_strlist(c, n, what, sv, v_text);
}

/* ---- validators ------------------------------------------------------------ */

static const char *v_pkgname(const char *s)
{
	return valid_pkg_name(s, strlen(s)) ? NULL
					    : "invalid package name (debian policy 5.6.1)";
}

/* the distribution spec's tag grammar */
static const char *v_tag(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 128 || !(isalnum((unsigned char)*s) || *s == '_'))
		return "invalid tag (expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127})";
	for (const char *q = s; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '_' && *q != '.' && *q != '-')
			return "invalid tag (expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127})";
	return NULL;
}

/* Debian's Linux architectures (`dpkg-architecture -L`, dpkg 1.21: the
 * GNU/Linux names, then the musl and uClibc ones).  Embedded, not asked of
 * dpkg at run time: a typo ("amd46") is a recipe error at its line, not a
 * missing Packages index three steps later. */
static const char *const debian_archs[] = {
	"alpha", "amd64", "arc", "arm", "arm64", "arm64ilp32", "armeb", "armel", "armhf",
	"avr32", "hppa", "i386", "ia64", "loong64", "m32r", "m68k", "mips", "mips64",
	"mips64el", "mips64r6", "mips64r6el", "mipsel", "mipsn32", "mipsn32el", "mipsn32r6",
	"mipsn32r6el", "mipsr6", "mipsr6el", "nios2", "or1k", "powerpc", "powerpcel",
	"powerpcspe", "ppc64", "ppc64el", "riscv64", "s390", "s390x", "sh3", "sh3eb", "sh4",
	"sh4eb", "sparc", "sparc64", "tilegx", "x32",
};

static const char *v_arch(const char *s)
{
	const char *base = s;

	if (!*s)
		return "empty architecture";
	if (str_starts(s, "musl-linux-"))
		base = s + strlen("musl-linux-");
	else if (str_starts(s, "uclibc-linux-"))
		base = s + strlen("uclibc-linux-");
	for (size_t i = 0; i < ARRAY_SIZE(debian_archs); i++)
		if (!strcmp(base, debian_archs[i]))
			return NULL;
	return "unknown";
}

/* archs: items, "unknown architecture 'amd46'" rather than the generic form */
static int arch_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	strvec *sv = arg;
	const char *s, *why;

	if (get_str(c, item, "archs", &s) < 0)
		return -1;
	if ((why = v_arch(s)) && !strcmp(why, "unknown"))
		return err_at(c, item,
			      "unknown architecture '%s' (Debian's are those of `dpkg-architecture -L`: amd64, arm64, armhf, i386, ppc64el, riscv64, s390x…)",
			      s);
	if (why)
		return err_at(c, item, "archs: '%s': %s", q(c, s), why);
	sv_push(sv, s);
	return 0;
}

static const char *v_allow(const char *s)
{
	static const char *const known[] = { "shell", "package-manager", "setuid",
		"root", "world-writable", "nonroot-system-dirs", "override-annotations",
		"missing-interpreter" };

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(s, known[i]))
			return NULL;
	return "unknown permission (known: shell, package-manager, setuid, root, "
	       "world-writable, nonroot-system-dirs, override-annotations, missing-interpreter)";
}

static const char *v_glob(const char *s)
{
	return s[0] == '/' ? NULL : "globs must be absolute paths";
}

static const char *v_nonempty(const char *s)
{
	return *s ? NULL : "empty string";
}

/* Account names: what useradd accepts by default, at most 32 characters. */
static const char *v_account(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 32)
		return "account names are 1 to 32 characters";
	if (!islower((unsigned char)s[0]) && s[0] != '_')
		return "account names start with a lower-case letter or '_'";
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-' && !(s[i] == '$' && i == n - 1))
			return "invalid character in account name";
	return NULL;
}

static bool valid_recipe_name(const char *s)
{
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("._-", *p))
			return false;
	return true;
}

static bool valid_env_key(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* Normalise an absolute path: collapse '//' and '/./', reject '..'.
 * Returns NULL (and a reason) if it is not acceptable. */
static char *norm_path(const char *s, const char **why)
{
	strvec parts = STRVEC_INIT;
	strbuf sb = STRBUF_INIT;
	char *ret = NULL;

	if (s[0] != '/') {
		*why = "paths must be absolute";
		goto out;
	}
	sv_split(&parts, s, "/");
	for (size_t i = 0; i < parts.n; i++) {
		if (!strcmp(parts.v[i], "."))
			continue;
		if (!strcmp(parts.v[i], "..")) {
			*why = "'..' is not allowed in paths";
			goto out;
		}
		sb_addc(&sb, '/');
		sb_adds(&sb, parts.v[i]);
	}
	if (!sb.len)
		sb_addc(&sb, '/');
	ret = sb_detach(&sb);
out:
	sv_clear(&parts);
	sb_release(&sb);
	return ret;
}

/* ---- one file ---------------------------------------------------------------- */

/* What one file says, before merging.  Unset scalars stay NULL / -1. */
struct layer {
	struct recipe *r;
	int assume_defaults;     /* -1 unset */
	int strict;              /* -1 unset */
	char *extends;           /* as written */
	size_t ext_line, ext_col; /* 1-based, of the extends value (the document is gone) */
	bool has_name, has_repos;
	/* What the merged recipe must `allow`, as "PERMISSION\tFILE:L:C: why";
	 * checked by finish() once every file's allow list is known. */
	strvec need;
	char *runas_need; /* the same for run-as, which a child overrides */
};

/* Record that the merged recipe needs `allow: [perm]` for node n. */
static void PRINTF(4, 5) need_at(struct ctx *c, const yaml_node_t *n, const char *perm,
				 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sv_pushf(&c->L->need, "%s\t%s:%zu:%zu: %s", perm, c->file,
		 n->start_mark.line + 1, n->start_mark.column + 1, msg);
}

static void layer_free_need(struct layer *L)
{
	sv_clear(&L->need);
	free(L->runas_need);
	L->runas_need = NULL;
}

/* Directories whose owner decides who controls the system: the roots
 * themselves, and everything below those holding programs, libraries and
 * the account databases. */
static bool system_path(const char *p)
{
	static const char *const exact[] = { "/", "/etc", "/usr", "/var", "/usr/local",
		"/usr/share", "/boot", "/root", "/home" };
	static const char *const tree[] = { "/bin", "/sbin", "/lib", "/usr/bin",
		"/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin",
		"/usr/local/sbin", "/usr/local/lib", "/etc/passwd", "/etc/group",
		"/etc/shadow", "/etc/gshadow", "/etc/ld.so.preload", "/etc/ld.so.conf",
		"/etc/ld.so.cache", "/etc/ssl", "/etc/ca-certificates" };

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (!strcmp(p, exact[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++) {
		size_t n = strlen(tree[i]);
		if (strncmp(p, tree[i], n))
			continue;
		/* /lib and /usr/lib also stand for /lib64, /usr/lib32, ... */
		if (str_ends(tree[i], "/lib"))
			while (p[n] && p[n] != '/')
				n++;
		if (!p[n] || p[n] == '/')
			return true;
	}
	return false;
}

static int repo_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		   void *arg)
{
	struct recipe_repo *rp = arg;

	if (!strcmp(key, "url")) {
		if (get_strdup(c, v, "url", &rp->url) < 0)
			return -1;
		if (!str_starts(rp->url, "http://") && !str_starts(rp->url, "https://") &&
		    !str_starts(rp->url, "file:/"))
			return err_at(c, v, "url: '%s': only http://, https:// and file:// are supported",
				      q(c, rp->url));
		/* One spelling per repository: no trailing slash. */
		for (size_t n = strlen(rp->url); n > 8 && rp->url[n - 1] == '/'; n--)
			rp->url[n - 1] = '\0';
		return 0;
	}
	if (!strcmp(key, "suites"))
		return get_strlist(c, v, "suites", &rp->suites, v_nonempty);
	if (!strcmp(key, "components"))
		return get_strlist(c, v, "components", &rp->components, v_nonempty);
	if (!strcmp(key, "keyring"))
		return get_strdup(c, v, "keyring", &rp->keyring);
	if (!strcmp(key, "trusted"))
		return get_bool(c, v, "trusted", &rp->trusted);
	return err_at(c, k, "unknown key '%s' in repository (known: url, suites, components, keyring, trusted)",
		      q(c, key));
}

static int repos_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct recipe *r = arg;
	struct recipe_repo *rp;

	r->repos = xrealloc(r->repos, (r->nrepos + 1) * sizeof(*r->repos));
	rp = &r->repos[r->nrepos++];
	memset(rp, 0, sizeof(*rp));
	if (item->type != YAML_MAPPING_NODE)
		return err_at(c, item, "repositories: expected a map, got %s",
			      node_kind(item));
	if (walk_map(c, item, "repository", repo_cb, rp) < 0)
		return -1;
	if (!rp->url)
		return err_at(c, item, "repository: missing 'url'");
	if (!rp->suites.n)
		return err_at(c, item, "repository: missing 'suites'");
	/* A keyring path relative to the recipe is relative to its file. */
	if (rp->keyring && rp->keyring[0] != '/') {
		char *dir = path_dirname(c->file), *p = path_join(dir, rp->keyring);
		free(dir);
		free(rp->keyring);
		rp->keyring = p;
	}
	return 0;
}

static int package_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct recipe *r = arg;
	struct recipe_dep d = { 0 };
	const char *s, *why;

	if (get_str(c, item, "packages", &s) < 0)
		return -1;
	if ((why = parse_dep(s, &d))) {
		free(d.name);
		return err_at(c, item, "invalid package '%s': %s", q(c, s), why);
	}
	for (size_t i = 0; i < r->npackages; i++)
		if (!strcmp(r->packages[i].name, d.name)) {
			err_at(c, item, "package '%s' is listed twice", d.name);
			free(d.name), free(d.op), free(d.version);
			return -1;
		}
	d.from = xstrdup(path_basename(c->file));
	d.file = xstrdup(c->file);
	d.line = item->start_mark.line + 1;
	d.col = item->start_mark.column + 1;
	r->packages = xrealloc(r->packages, (r->npackages + 1) * sizeof(*r->packages));
	r->packages[r->npackages++] = d;
	return 0;
}

static void user_release(struct recipe_user *u)
{
	free(u->name), free(u->home), free(u->shell);
}

static void group_release(struct recipe_group *g)
{
	free(g->name);
	sv_clear(&g->members);
}

struct user_tmp {
	struct recipe_user *u;
	bool has_uid, has_gid;
};

static bool reserved_account(const char *name)
{
	return !strcmp(name, "root") || !strcmp(name, "nobody") ||
	       !strcmp(name, "nogroup");
}

static int user_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		   void *arg)
{
	struct user_tmp *t = arg;
	unsigned long n;

	if (!strcmp(key, "name")) {
		const char *why;
		if (get_strdup(c, v, "name", &t->u->name) < 0)
			return -1;
		if ((why = v_account(t->u->name)))
			return err_at(c, v, "user '%s': %s", q(c, t->u->name), why);
		if (reserved_account(t->u->name))
			return err_at(c, v, "user '%s' is always generated by pare and cannot be redefined",
				      t->u->name);
		return 0;
	}
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		if (get_uint(c, v, key, 10, RECIPE_MAX_ID, &n) < 0)
			return -1;
		if (n == 0 || n == 65534)
			return err_at(c, v, "%s %lu is reserved for root/nobody", key, n);
		if (key[0] == 'u')
			t->u->uid = (uint32_t)n, t->has_uid = true;
		else
			t->u->gid = (uint32_t)n, t->has_gid = true;
		return 0;
	}
	if (!strcmp(key, "home") || !strcmp(key, "shell")) {
		char **dst = key[0] == 'h' ? &t->u->home : &t->u->shell;
		const char *why = NULL;
		char *p;
		if (get_strdup(c, v, key, dst) < 0)
			return -1;
		if (!(p = norm_path(*dst, &why)))
			return err_at(c, v, "%s: '%s': %s", key, q(c, *dst), why);
		free(*dst);
		*dst = p;
		return 0;
	}
	return err_at(c, k, "unknown key '%s' in user (known: name, uid, gid, home, shell)",
		      q(c, key));
}

static int users_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct recipe *r = arg;
	struct user_tmp t = { 0 };

	if (item->type != YAML_MAPPING_NODE)
		return err_at(c, item, "users: expected a map, got %s", node_kind(item));
	r->users = xrealloc(r->users, (r->nusers + 1) * sizeof(*r->users));
	t.u = &r->users[r->nusers++];
	memset(t.u, 0, sizeof(*t.u));
	if (walk_map(c, item, "user", user_cb, &t) < 0)
		return -1;
	if (!t.u->name)
		return err_at(c, item, "user: missing 'name'");
	if (!t.has_uid)
		return err_at(c, item, "user '%s': missing 'uid'", t.u->name);
	if (!t.has_gid)
		t.u->gid = t.u->uid;
	if (!t.u->home)
		t.u->home = xasprintf("/home/%s", t.u->name);
	if (!t.u->shell)
		t.u->shell = xstrdup("/sbin/nologin");
	for (size_t i = 0; i + 1 < r->nusers; i++)
		if (!strcmp(r->users[i].name, t.u->name) || r->users[i].uid == t.u->uid)
			return err_at(c, item, "user '%s' (uid %u) is defined twice",
				      t.u->name, t.u->uid);
	return 0;
}

struct group_tmp {
	struct recipe_group *g;
	bool has_gid;
};

static int group_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		    void *arg)
{
	struct group_tmp *t = arg;
	unsigned long n;

	if (!strcmp(key, "name")) {
		const char *why;
		if (get_strdup(c, v, "name", &t->g->name) < 0)
			return -1;
		if ((why = v_account(t->g->name)))
			return err_at(c, v, "group '%s': %s", q(c, t->g->name), why);
		if (reserved_account(t->g->name))
			return err_at(c, v, "group '%s' is always generated by pare and cannot be redefined",
				      t->g->name);
		return 0;
	}
	if (!strcmp(key, "gid")) {
		if (get_uint(c, v, key, 10, RECIPE_MAX_ID, &n) < 0)
			return -1;
		if (n == 0 || n == 65534)
			return err_at(c, v, "gid %lu is reserved for root/nogroup", n);
		t->g->gid = (uint32_t)n;
		t->has_gid = true;
		return 0;
	}
	if (!strcmp(key, "members"))
		return get_strlist(c, v, "members", &t->g->members, v_account);
	return err_at(c, k, "unknown key '%s' in group (known: name, gid, members)", q(c, key));
}

static int groups_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct recipe *r = arg;
	struct group_tmp t = { 0 };

	if (item->type != YAML_MAPPING_NODE)
		return err_at(c, item, "groups: expected a map, got %s", node_kind(item));
	r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
	t.g = &r->groups[r->ngroups++];
	memset(t.g, 0, sizeof(*t.g));
	if (walk_map(c, item, "group", group_cb, &t) < 0)
		return -1;
	if (!t.g->name)
		return err_at(c, item, "group: missing 'name'");
	if (!t.has_gid)
		return err_at(c, item, "group '%s': missing 'gid'", t.g->name);
	for (size_t i = 0; i + 1 < r->ngroups; i++)
		if (!strcmp(r->groups[i].name, t.g->name) || r->groups[i].gid == t.g->gid)
			return err_at(c, item, "group '%s' (gid %u) is defined twice",
				      t.g->name, t.g->gid);
	return 0;
}

static const char *v_run_as(const char *s)
{
	const char *colon = strchr(s, ':');
	bool numeric = *s && strspn(s, "0123456789") == (size_t)(colon ? colon - s : (long)strlen(s));

	if (!*s)
		return "empty";
	if (colon && (!numeric || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1)))
		return "expected a user name or UID[:GID]";
	if (!numeric && v_account(s))
		return "expected a user name or UID[:GID]";
	if (strlen(s) > 21)
		return "too long";
	return NULL;
}

/* UID[:GID] within 0..2^31-1 always; root (uid 0, gid 0 or the name) only
 * with `allow: [root]`, checked once the whole chain is merged. */
static int run_as_policy(struct ctx *c, yaml_node_t *v, const char *s)
{
	bool root = !strcmp(s, "root");

	if (isdigit((unsigned char)*s)) {
		for (const char *p = s; p; p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL) {
			char *end;
			unsigned long id;

			errno = 0;
			id = strtoul(p, &end, 10);
			if (errno || id > RECIPE_MAX_ID)
				return err_at(c, v, "run-as: '%s': uids and gids go up to %lu",
					      q(c, s), RECIPE_MAX_ID);
			root |= id == 0;
		}
	}
	free(c->L->runas_need);
	c->L->runas_need = NULL;
	if (root)
		c->L->runas_need = xasprintf("root\t%s:%zu:%zu: run-as: '%s' runs the image as root",
					     c->file, v->start_mark.line + 1,
					     v->start_mark.column + 1, s);
	return 0;
}

static int accounts_cb(struct ctx *c, const char *key, yaml_node_t *k,
		       yaml_node_t *v, void *arg)
{
	struct recipe *r = arg;

	if (!strcmp(key, "users"))
		return walk_seq(c, v, "users", users_item, r);
	if (!strcmp(key, "groups"))
		return walk_seq(c, v, "groups", groups_item, r);
	if (!strcmp(key, "run-as")) {
		const char *why;
		if (get_strdup(c, v, "run-as", &r->run_as) < 0)
			return -1;
		if ((why = v_run_as(r->run_as)))
			return err_at(c, v, "run-as: '%s': %s", q(c, r->run_as), why);
		return run_as_policy(c, v, r->run_as);
	}
	return err_at(c, k, "unknown key '%s' in accounts (known: users, groups, run-as)",
		      q(c, key));
}

/* Maps of strings: env (as KEY=VALUE), labels, annotations. */
static int env_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		  void *arg)
{
	strvec *env = arg;
	const char *s;

	if (!valid_env_key(key))
		return err_at(c, k, "env: invalid variable name '%s'", q(c, key));
	if (get_str(c, v, key, &s) < 0)
		return -1;
	if (v_text(s))
		return err_at(c, v, "env: %s: %s", key, v_text(s));
	sv_pushf(env, "%s=%s", key, s);
	return 0;
}

struct kv_arg {
	struct recipe_kv **kv;
	size_t *n;
	const char *what;
	bool annotations;
};

/* Manifest annotations pare writes itself (builder/image.c, oci/): a recipe never
 * sets dev.pare.*, and overrides these only with allow: [override-annotations]. */
static bool pare_annotation(const char *key)
{
	static const char *const own[] = { "org.opencontainers.image.created",
		"org.opencontainers.image.revision", "org.opencontainers.image.source",
		"org.opencontainers.image.version", "org.opencontainers.image.ref.name" };

	if (str_starts(key, "org.opencontainers.image.base."))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (!strcmp(key, own[i]))
			return true;
	return false;
}

static int kv_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		 void *arg)
{
	struct kv_arg *a = arg;
	const char *s;

	if (!*key)
		return err_at(c, k, "empty key");
	if (v_text(key))
		return err_at(c, k, "%s: key '%s': %s", a->what, q(c, key), v_text(key));
	if (get_str(c, v, key, &s) < 0)
		return -1;
	if (v_text(s))
		return err_at(c, v, "%s: %s: %s", a->what, key, v_text(s));
	if (a->annotations && str_starts(key, "dev.pare."))
		return err_at(c, k, "annotations: '%s': dev.pare.* annotations are pare's own", q(c, key));
	if (a->annotations && pare_annotation(key))
		need_at(c, k, "override-annotations",
			"annotations: '%s' overrides the value pare records", key);
	*a->kv = xrealloc(*a->kv, (*a->n + 1) * sizeof(**a->kv));
	(*a->kv)[*a->n].key = xstrdup(key);
	(*a->kv)[*a->n].value = xstrdup(s);
	(*a->n)++;
	return 0;
}

struct path_tmp {
	struct recipe_path *p;
	yaml_node_t *type_node, *recursive_node, *mode_node, *owner_node;
	bool has_type;
};

static int path_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		   void *arg)
{
	struct path_tmp *t = arg;
	const char *s, *why = NULL;
	unsigned long n;

	if (!strcmp(key, "path")) {
		if (get_str(c, v, "path", &s) < 0)
			return -1;
		if (v_text(s))
			return err_at(c, v, "path: %s", v_text(s));
		if (!(t->p->path = norm_path(s, &why)))
			return err_at(c, v, "path: '%s': %s", q(c, s), why);
		return 0;
	}
	if (!strcmp(key, "type")) {
		if (get_str(c, v, "type", &s) < 0)
			return -1;
		if (!strcmp(s, "directory"))
			t->p->type = RPATH_DIR;
		else if (!strcmp(s, "symlink"))
			t->p->type = RPATH_SYMLINK;
		else if (!strcmp(s, "permissions"))
			t->p->type = RPATH_PERMISSIONS;
		else
			return err_at(c, v, "type: '%s': expected directory, symlink or permissions",
				      q(c, s));
		t->has_type = true;
		t->type_node = v;
		return 0;
	}
	if (!strcmp(key, "target")) {
		if (get_strdup(c, v, "target", &t->p->target) < 0)
			return -1;
		if (!t->p->target[0])
			return err_at(c, v, "target: empty");
		if (v_text(t->p->target))
			return err_at(c, v, "target: %s", v_text(t->p->target));
		return 0;
	}
	if (!strcmp(key, "mode")) {
		if (get_uint(c, v, "mode", 8, 07777, &n) < 0)
			return -1;
		t->p->mode = (int)n;
		t->mode_node = v;
		return 0;
	}
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		if (get_uint(c, v, key, 10, RECIPE_MAX_ID, &n) < 0)
			return -1;
		*(key[0] == 'u' ? &t->p->uid : &t->p->gid) = (int64_t)n;
		if (n && !t->owner_node)
			t->owner_node = v;
		return 0;
	}
	if (!strcmp(key, "recursive")) {
		t->recursive_node = v;
		return get_bool(c, v, "recursive", &t->p->recursive);
	}
	return err_at(c, k, "unknown key '%s' in path (known: path, type, target, mode, uid, gid, recursive)",
		      q(c, key));
}

/* What the merged recipe must allow for one paths entry (docs/recipes.md,
 * allow).  A sticky world-writable directory (/tmp's 1777) is fine outside
 * the system directories: nobody can remove what another user put there. */
static void path_policy(struct ctx *c, const struct path_tmp *t)
{
	const struct recipe_path *p = t->p;
	bool sys = system_path(p->path);

	if (p->mode != -1 && (p->mode & 06000))
		need_at(c, t->mode_node, "setuid", "path '%s': mode %04o sets setuid/setgid",
			p->path, p->mode);
	if (p->mode != -1 && (p->mode & 0002) &&
	    !((p->mode & 01000) && !sys &&
	      (p->type == RPATH_DIR || (p->type == RPATH_PERMISSIONS && !p->recursive))))
		need_at(c, t->mode_node, "world-writable",
			"path '%s': mode %04o is world-writable", p->path, p->mode);
	if (t->owner_node && sys)
		need_at(c, t->owner_node, "nonroot-system-dirs",
			"path '%s': a system path given to uid %lld gid %lld", p->path,
			(long long)(p->uid < 0 ? 0 : p->uid), (long long)(p->gid < 0 ? 0 : p->gid));
}

static int paths_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct recipe *r = arg;
	struct path_tmp t = { 0 };

	if (item->type != YAML_MAPPING_NODE)
		return err_at(c, item, "paths: expected a map, got %s", node_kind(item));
	r->paths = xrealloc(r->paths, (r->npaths + 1) * sizeof(*r->paths));
	t.p = &r->paths[r->npaths++];
	memset(t.p, 0, sizeof(*t.p));
	t.p->mode = -1;
	t.p->uid = t.p->gid = -1;
	if (walk_map(c, item, "path", path_cb, &t) < 0)
		return -1;
	if (!t.p->path)
		return err_at(c, item, "path: missing 'path'");
	if (!t.has_type)
		return err_at(c, item, "path '%s': missing 'type'", t.p->path);
	if (t.p->type == RPATH_SYMLINK && !t.p->target)
		return err_at(c, item, "path '%s': a symlink needs a 'target'", t.p->path);
	if (t.p->type != RPATH_SYMLINK && t.p->target)
		return err_at(c, item, "path '%s': 'target' is only for symlinks", t.p->path);
	if (t.p->type != RPATH_PERMISSIONS && t.recursive_node)
		return err_at(c, t.recursive_node,
			      "path '%s': 'recursive' is only for permissions", t.p->path);
	if (t.p->type == RPATH_SYMLINK && t.p->mode != -1)
		return err_at(c, item, "path '%s': symlinks have no mode", t.p->path);
	path_policy(c, &t);
	return 0;
}

/* ---- vex: statements ---------------------------------------------------------- */

static const char *v_purl(const char *s)
{
	return str_starts(s, "pkg:") && strchr(s + 4, '/') && !v_text(s) ? NULL :
	       "expected a purl (pkg:TYPE/NAMESPACE/NAME[@VERSION][?QUALIFIERS])";
}

/* OpenVEX 0.2.0's vocabularies: the statuses, and the justifications of not_affected. */
static const char *v_vex_status(const char *s)
{
	static const char *const known[] = { "not_affected", "affected", "fixed", "under_investigation" };

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(s, known[i]))
			return NULL;
	return "unknown status (known: not_affected, affected, fixed, under_investigation)";
}

static const char *v_vex_justification(const char *s)
{
	static const char *const known[] = { "component_not_present", "vulnerable_code_not_present",
		"vulnerable_code_not_in_execute_path", "vulnerable_code_cannot_be_controlled_by_adversary",
		"inline_mitigations_already_exist" };

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(s, known[i]))
			return NULL;
	return "unknown justification (known: component_not_present, vulnerable_code_not_present, "
	       "vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, "
	       "inline_mitigations_already_exist)";
}

static int vex_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct recipe_vex *x = arg;
	const char *s, *why;
	char **slot = NULL;

	if (!strcmp(key, "products"))
		return get_strlist(c, v, "vex: products", &x->products, v_purl);
	if (!strcmp(key, "vulnerability"))
		slot = &x->vulnerability;
	else if (!strcmp(key, "status"))
		slot = &x->status;
	else if (!strcmp(key, "justification"))
		slot = &x->justification;
	else if (!strcmp(key, "statement"))
		slot = &x->statement;
	else
		return err_at(c, k, "unknown key '%s' in vex (known: vulnerability, products, status, "
			      "justification, statement)", q(c, key));
	if (get_str(c, v, key, &s) < 0)
		return -1;
	why = slot == &x->status ? v_vex_status(s) : slot == &x->justification ? v_vex_justification(s) :
	      v_text(s);
	if (!why && slot == &x->vulnerability && (!*s || strchr(s, ' ')))
		why = "expected an id such as CVE-2024-1234";
	if (why)
		return err_at(c, v, "vex: %s: '%s': %s", key, q(c, s), why);
	*slot = xstrdup(s);
	return 0;
}

static int vex_item(struct ctx *c, yaml_node_t *item, void *arg)
{
	struct recipe *r = arg;
	struct recipe_vex *x;

	if (item->type != YAML_MAPPING_NODE)
		return err_at(c, item, "vex: expected a statement (a map), got %s", node_kind(item));
	r->vex = xrealloc(r->vex, (r->nvex + 1) * sizeof(*r->vex));
	x = &r->vex[r->nvex++];
	memset(x, 0, sizeof(*x));
	x->where = xasprintf("%s:%zu:%zu", c->file, item->start_mark.line + 1,
			     item->start_mark.column + 1);
	if (walk_map(c, item, "vex", vex_cb, x) < 0)
		return -1;
	if (!x->vulnerability)
		return err_at(c, item, "vex: a statement without 'vulnerability'");
	if (!x->products.n)
		return err_at(c, item, "vex: %s: name the products or subcomponents (purls) it is about",
			      x->vulnerability);
	if (!x->status)
		return err_at(c, item, "vex: %s: a statement without 'status'", x->vulnerability);
	if (!strcmp(x->status, "not_affected") && !x->justification)
		return err_at(c, item, "vex: %s: not_affected needs a 'justification'", x->vulnerability);
	if (strcmp(x->status, "not_affected") && x->justification)
		return err_at(c, item, "vex: %s: a 'justification' is only for not_affected",
			      x->vulnerability);
	return 0;
}

/* vex: a list of statements, or the path of an OpenVEX / CycloneDX VEX file. */
static int get_vex(struct ctx *c, yaml_node_t *v, struct recipe *r)
{
	if (v->type == YAML_SCALAR_NODE) {
		const char *s;
		char *dir;

		if (get_str(c, v, "vex", &s) < 0)
			return -1;
		if (!*s || v_text(s))
			return err_at(c, v, "vex: expected a file name or a list of statements");
		/* relative to the file that names it (extends: a parent's own directory) */
		dir = path_dirname(c->file);
		free(r->vex_file);
		r->vex_file = s[0] == '/' ? xstrdup(s) : path_join(dir, s);
		free(dir);
		return 0;
	}
	return walk_seq(c, v, "vex", vex_item, r);
}

static int top_cb(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
		  void *arg)
{
	struct layer *L = arg;
	struct recipe *r = L->r;

	if (!strcmp(key, "name")) {
		if (get_strdup(c, v, "name", &r->name) < 0)
			return -1;
		if (!valid_recipe_name(r->name))
			return err_at(c, v, "name: '%s': expected [a-z0-9][a-z0-9._-]*", q(c, r->name));
		L->has_name = true;
		return 0;
	}
	if (!strcmp(key, "description")) {
		if (get_strdup(c, v, "description", &r->description) < 0)
			return -1;
		if (v_text(r->description))
			return err_at(c, v, "description: %s", v_text(r->description));
		return 0;
	}
	if (!strcmp(key, "extends")) {
		if (get_strdup(c, v, "extends", &L->extends) < 0)
			return -1;
		L->ext_line = v->start_mark.line + 1;
		L->ext_col = v->start_mark.column + 1;
		return 0;
	}
	if (!strcmp(key, "repositories")) {
		L->has_repos = true;
		return walk_seq(c, v, "repositories", repos_item, r);
	}
	if (!strcmp(key, "archs"))
		return walk_seq(c, v, "archs", arch_item, &r->archs);
	if (!strcmp(key, "tags"))
		return get_strlist(c, v, "tags", &r->tags, v_tag);
	if (!strcmp(key, "packages"))
		return walk_seq(c, v, "packages", package_item, r);
	if (!strcmp(key, "exclude"))
		return get_strlist(c, v, "exclude", &r->exclude, v_pkgname);
	if (!strcmp(key, "assume"))
		return get_strlist(c, v, "assume", &r->assume, v_pkgname);
	if (!strcmp(key, "assume_defaults")) {
		bool b;
		if (get_bool(c, v, "assume_defaults", &b) < 0)
			return -1;
		L->assume_defaults = b;
		return 0;
	}
	if (!strcmp(key, "strict")) {
		bool b;
		if (get_bool(c, v, "strict", &b) < 0)
			return -1;
		L->strict = b;
		return 0;
	}
	if (!strcmp(key, "accounts"))
		return walk_map(c, v, "accounts", accounts_cb, r);
	if (!strcmp(key, "entrypoint")) {
		r->has_entrypoint = true;
		return get_argv(c, v, "entrypoint", &r->entrypoint);
	}
	if (!strcmp(key, "cmd")) {
		r->has_cmd = true;
		return get_argv(c, v, "cmd", &r->cmd);
	}
	if (!strcmp(key, "healthcheck")) {
		if (get_argv(c, v, "healthcheck", &r->healthcheck) < 0)
			return -1;
		/* exec form only: a shell-less image cannot run "CMD-SHELL" */
		if (r->healthcheck.n && r->healthcheck.v[0][0] != '/')
			return err_at(c, v, "healthcheck: '%s': expected an absolute path to run (exec form, no shell)",
				      q(c, r->healthcheck.v[0]));
		return 0;
	}
	if (!strcmp(key, "env"))
		return walk_map(c, v, "env", env_cb, &r->env);
	if (!strcmp(key, "workdir")) {
		const char *why = NULL, *s;
		if (get_str(c, v, "workdir", &s) < 0)
			return -1;
		if (v_text(s))
			return err_at(c, v, "workdir: %s", v_text(s));
		if (!(r->workdir = norm_path(s, &why)))
			return err_at(c, v, "workdir: '%s': %s", q(c, s), why);
		return 0;
	}
	if (!strcmp(key, "labels")) {
		struct kv_arg a = { &r->labels, &r->nlabels, "labels", false };
		return walk_map(c, v, "labels", kv_cb, &a);
	}
	if (!strcmp(key, "annotations")) {
		struct kv_arg a = { &r->annotations, &r->nannotations, "annotations", true };
		return walk_map(c, v, "annotations", kv_cb, &a);
	}
	if (!strcmp(key, "paths"))
		return walk_seq(c, v, "paths", paths_item, r);
	if (!strcmp(key, "strip"))
		return get_strlist(c, v, "strip", &r->strip, v_glob);
	if (!strcmp(key, "keep"))
		return get_strlist(c, v, "keep", &r->keep, v_glob);
	if (!strcmp(key, "allow"))
		return get_strlist(c, v, "allow", &r->allow, v_allow);
	if (!strcmp(key, "vex"))
		return get_vex(c, v, r);
	return err_at(c, k, "unknown key '%s'", q(c, key));
}

/* The event pass: one document, no aliases, bounded nesting. */
static int precheck(const char *file, const char *buf, size_t n, perr *e)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, ret = -1;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		die("out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, n);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			perr_set(e, "%s:%zu:%zu: %s%s%s", file, p.problem_mark.line + 1,
				 p.problem_mark.column + 1,
				 p.problem ? p.problem : "invalid yaml",
				 p.context ? " " : "", p.context ? p.context : "");
			goto out;
		}
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			perr_set(e, "%s:%zu:%zu: aliases are not supported in recipes (use extends)",
				 file, ev.start_mark.line + 1, ev.start_mark.column + 1);
			yaml_event_delete(&ev);
			goto out;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				perr_set(e, "%s:%zu:%zu: a recipe is one yaml document",
					 file, ev.start_mark.line + 1, ev.start_mark.column + 1);
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > RECIPE_MAX_DEPTH) {
				perr_set(e, "%s:%zu:%zu: nested too deeply", file,
					 ev.start_mark.line + 1, ev.start_mark.column + 1);
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	ret = 0;
out:
	yaml_parser_delete(&p);
	return ret;
}

static void layer_init(struct layer *L)
{
	memset(L, 0, sizeof(*L));
	L->r = xcalloc(1, sizeof(*L->r));
	L->assume_defaults = -1;
	L->strict = -1;
}

/* Parse one file's text into L (no merging, no defaults). */
static int parse_layer(const char *file, const char *buf, size_t n,
		       struct layer *L, perr *e)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ctx c = { .file = file, .doc = &doc, .e = e, .L = L };
	int ret = -1;
	bool have_doc = false;

	if (memchr(buf, '\0', n))
		return perr_set(e, "%s: NUL byte in recipe", file);
	if (precheck(file, buf, n, e) < 0)
		return -1;
	if (!yaml_parser_initialize(&p))
		die("out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, n);
	if (!yaml_parser_load(&p, &doc)) {
		perr_set(e, "%s:%zu:%zu: %s", file, p.problem_mark.line + 1,
			 p.problem_mark.column + 1, p.problem ? p.problem : "invalid yaml");
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (!root || is_null(root)) {
		perr_set(e, "%s:1:1: empty recipe", file);
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_at(&c, root, "a recipe is a map, got %s", node_kind(root));
		goto out;
	}
	if (walk_map(&c, root, "recipe", top_cb, L) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < ARRAY_SIZE(c.quoted); i++)
		sb_release(&c.quoted[i]);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return ret;
}

/* ---- merging ------------------------------------------------------------------- */

static void take_str(char **dst, char **src)
{
	if (*src) {
		free(*dst);
		*dst = *src;
		*src = NULL;
	}
}

static void append_sv(strvec *dst, strvec *src)
{
	for (size_t i = 0; i < src->n; i++)
		sv_push_nodup(dst, src->v[i]);
	free(src->v);
	memset(src, 0, sizeof(*src));
}

/* env: a key set again replaces the value in place, new keys go last. */
static void merge_env(strvec *dst, strvec *src)
{
	for (size_t i = 0; i < src->n; i++) {
		size_t klen = strcspn(src->v[i], "=") + 1;
		size_t j;
		for (j = 0; j < dst->n; j++)
			if (!strncmp(dst->v[j], src->v[i], klen))
				break;
		if (j < dst->n) {
			free(dst->v[j]);
			dst->v[j] = src->v[i];
		} else {
			sv_push_nodup(dst, src->v[i]);
		}
	}
	free(src->v);
	memset(src, 0, sizeof(*src));
}

static void merge_kv(struct recipe_kv **dst, size_t *nd, struct recipe_kv **src,
		     size_t *ns)
{
	for (size_t i = 0; i < *ns; i++) {
		struct recipe_kv *s = &(*src)[i];
		size_t j;
		for (j = 0; j < *nd; j++)
			if (!strcmp((*dst)[j].key, s->key))
				break;
		if (j < *nd) {
			free((*dst)[j].value);
			(*dst)[j].value = s->value;
			free(s->key);
		} else {
			*dst = xrealloc(*dst, (*nd + 1) * sizeof(**dst));
			(*dst)[(*nd)++] = *s;
		}
	}
	free(*src);
	*src = NULL;
	*ns = 0;
}

/* Apply child layer C on top of parent P (P is the result; C is emptied). */
static void merge_layer(struct layer *P, struct layer *C)
{
	struct recipe *p = P->r, *c = C->r;

	take_str(&p->name, &c->name);
	take_str(&p->description, &c->description);
	take_str(&p->workdir, &c->workdir);
	if (c->run_as) { /* the child's run-as (and what it needs) replaces the parent's */
		free(P->runas_need);
		P->runas_need = C->runas_need;
		C->runas_need = NULL;
	}
	take_str(&p->run_as, &c->run_as);
	for (size_t i = 0; i < C->need.n; i++)
		sv_push(&P->need, C->need.v[i]);
	if (C->assume_defaults != -1)
		P->assume_defaults = C->assume_defaults;
	if (C->strict != -1)
		P->strict = C->strict;

	p->repos = xrealloc(p->repos, (p->nrepos + c->nrepos + 1) * sizeof(*p->repos));
	if (c->nrepos) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(p->repos + p->nrepos, c->repos, c->nrepos * sizeof(*c->repos));
	p->nrepos += c->nrepos;
	free(c->repos), c->repos = NULL, c->nrepos = 0;

	append_sv(&p->archs, &c->archs);
	/* Tags name one image: never inherited from the recipe extended. */
	sv_clear(&p->tags);
	append_sv(&p->tags, &c->tags);
	/* A package named again replaces the parent's constraint. */
	for (size_t i = 0; i < c->npackages; i++) {
		struct recipe_dep *d = &c->packages[i];
		size_t j;
		for (j = 0; j < p->npackages; j++)
			if (!strcmp(p->packages[j].name, d->name))
				break;
		if (j < p->npackages) {
			free(p->packages[j].name), free(p->packages[j].op),
				free(p->packages[j].version), free(p->packages[j].from),
				free(p->packages[j].file);
			p->packages[j] = *d;
		} else {
			p->packages = xrealloc(p->packages,
					       (p->npackages + 1) * sizeof(*p->packages));
			p->packages[p->npackages++] = *d;
		}
	}
	free(c->packages), c->packages = NULL, c->npackages = 0;
	append_sv(&p->exclude, &c->exclude);
	append_sv(&p->assume, &c->assume);

	/* Accounts: the child's definition of a name replaces the parent's. */
	for (size_t i = 0; i < c->nusers; i++) {
		size_t j;
		for (j = 0; j < p->nusers; j++)
			if (!strcmp(p->users[j].name, c->users[i].name))
				break;
		if (j < p->nusers) {
			user_release(&p->users[j]);
			p->users[j] = c->users[i];
		} else {
			p->users = xrealloc(p->users, (p->nusers + 1) * sizeof(*p->users));
			p->users[p->nusers++] = c->users[i];
		}
	}
	free(c->users), c->users = NULL, c->nusers = 0;
	for (size_t i = 0; i < c->ngroups; i++) {
		size_t j;
		for (j = 0; j < p->ngroups; j++)
			if (!strcmp(p->groups[j].name, c->groups[i].name))
				break;
		if (j < p->ngroups) {
			group_release(&p->groups[j]);
			p->groups[j] = c->groups[i];
		} else {
			p->groups = xrealloc(p->groups, (p->ngroups + 1) * sizeof(*p->groups));
			p->groups[p->ngroups++] = c->groups[i];
		}
	}
	free(c->groups), c->groups = NULL, c->ngroups = 0;

	/* entrypoint and cmd are one command line each: override, not append. */
	if (c->has_entrypoint) {
		sv_clear(&p->entrypoint);
		append_sv(&p->entrypoint, &c->entrypoint);
		p->has_entrypoint = true;
	}
	if (c->has_cmd) {
		sv_clear(&p->cmd);
		append_sv(&p->cmd, &c->cmd);
		p->has_cmd = true;
	}
	if (c->healthcheck.n) {
		sv_clear(&p->healthcheck);
		append_sv(&p->healthcheck, &c->healthcheck);
	}
	merge_env(&p->env, &c->env);
	merge_kv(&p->labels, &p->nlabels, &c->labels, &c->nlabels);
	merge_kv(&p->annotations, &p->nannotations, &c->annotations, &c->nannotations);

	p->paths = xrealloc(p->paths, (p->npaths + c->npaths + 1) * sizeof(*p->paths));
	if (c->npaths)
		memcpy(p->paths + p->npaths, c->paths, c->npaths * sizeof(*c->paths));
	p->npaths += c->npaths;
	free(c->paths), c->paths = NULL, c->npaths = 0;

	append_sv(&p->strip, &c->strip);
	append_sv(&p->keep, &c->keep);
	append_sv(&p->allow, &c->allow);

	/* vex: statements add up; the child's file replaces the parent's */
	p->vex = xrealloc(p->vex, (p->nvex + c->nvex + 1) * sizeof(*p->vex));
	if (c->nvex)
		memcpy(p->vex + p->nvex, c->vex, c->nvex * sizeof(*c->vex));
	p->nvex += c->nvex;
	free(c->vex), c->vex = NULL, c->nvex = 0;
	if (c->vex_file) {
		free(p->vex_file);
		p->vex_file = c->vex_file;
		c->vex_file = NULL;
	}
}

/* ---- loading with extends ------------------------------------------------------- */

struct chain {
	char *real[RECIPE_MAX_EXTENDS + 1];
	size_t n;
	char *root; /* the top file's directory (real path): extends stays below it */
};

static int load_layer(const char *file, const char *buf, size_t n,
		      struct chain *ch, struct layer *out, perr *e);

/* Read a regular file (never a FIFO or device: extends takes any path). */
static int read_recipe_file(const char *file, strbuf *sb, perr *e)
{
	struct stat st;

	if (stat(file, &st) < 0)
		return perr_errno(e, "cannot open '%s'", file);
	if (!S_ISREG(st.st_mode))
		return perr_set(e, "'%s' is not a regular file", file);
	return read_file(file, sb, RECIPE_MAX_BYTES, e);
}

static int load_parent(const char *file, struct layer *L, struct chain *ch,
		       struct layer *parent, perr *e)
{
	char *dir = path_dirname(file);
	char *pfile = path_join(dir, L->extends);
	char *real = NULL;
	strbuf sb = STRBUF_INIT, qext = STRBUF_INIT, qpfile = STRBUF_INIT;
	int ret = -1;
	size_t rn = ch->root ? strlen(ch->root) : 0;

	/* what the messages quote: one line, whatever the recipe wrote */
	sb_add_quoted(&qext, L->extends);
	sb_add_quoted(&qpfile, pfile);

	/* Only recipes: never a file elsewhere on the machine, whose text an
	 * error message would otherwise quote. */
	if (L->extends[0] == '/' || !str_ends(L->extends, ".yaml")) {
		perr_set(e, "%s:%zu:%zu: extends: '%s': expected a .yaml file relative to this one",
			 file, L->ext_line, L->ext_col, sb_str(&qext));
		goto out;
	}
	if (!(real = realpath(pfile, NULL))) {
		perr_errno(e, "extends: cannot open '%s'", sb_str(&qpfile));
		perr_prefix(e, "%s:%zu:%zu", file, L->ext_line, L->ext_col);
		goto out;
	}
	if (!ch->root || strncmp(real, ch->root, rn) ||
	    (real[rn] != '/' && strcmp(ch->root, "/"))) {
		perr_set(e, "%s:%zu:%zu: extends: '%s' is outside the recipe's directory",
			 file, L->ext_line, L->ext_col, sb_str(&qext));
		goto out;
	}
	for (size_t i = 0; i < ch->n; i++)
		if (!strcmp(ch->real[i], real)) {
			perr_set(e, "%s:%zu:%zu: extends: cycle: '%s' extends itself", file,
				 L->ext_line, L->ext_col, sb_str(&qpfile));
			goto out;
		}
	if (ch->n >= RECIPE_MAX_EXTENDS) {
		perr_set(e, "%s:%zu:%zu: extends: chain longer than %d files", file,
			 L->ext_line, L->ext_col, RECIPE_MAX_EXTENDS);
		goto out;
	}
	if (read_recipe_file(pfile, &sb, e) < 0) {
		perr_prefix(e, "%s:%zu:%zu: extends", file, L->ext_line, L->ext_col);
		goto out;
	}
	ch->real[ch->n++] = real;
	real = NULL;
	ret = load_layer(pfile, sb_str(&sb), sb.len, ch, parent, e);
	free(ch->real[--ch->n]);
out:
	free(real);
	free(dir);
	free(pfile);
	sb_release(&sb);
	sb_release(&qext);
	sb_release(&qpfile);
	return ret;
}

/* One file plus everything it extends, merged, without defaults. */
static int load_layer(const char *file, const char *buf, size_t n,
		      struct chain *ch, struct layer *out, perr *e)
{
	struct layer L, P;
	int ret = -1;

	layer_init(&L);
	memset(&P, 0, sizeof(P)); /* filled by load_parent */
	if (parse_layer(file, buf, n, &L, e) < 0)
		goto out;
	if (L.extends) {
		if (load_parent(file, &L, ch, &P, e) < 0)
			goto out;
		merge_layer(&P, &L);
		P.has_name |= L.has_name;
		P.has_repos |= L.has_repos;
		*out = P;
		memset(&P, 0, sizeof(P));
	} else {
		*out = L;
		memset(&L, 0, sizeof(L));
	}
	ret = 0;
out:
	recipe_free(L.r);
	free(L.extends);
	layer_free_need(&L);
	recipe_free(P.r);
	free(P.extends);
	layer_free_need(&P);
	return ret;
}

static bool has_user(const struct recipe *r, const char *name)
{
	for (size_t i = 0; i < r->nusers; i++)
		if (!strcmp(r->users[i].name, name))
			return true;
	return false;
}

static cJSON *json_sv(const strvec *sv)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

static cJSON *json_str(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_kv(const struct recipe_kv *kv, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateArray();
		cJSON_AddItemToArray(p, cJSON_CreateString(kv[i].key));
		cJSON_AddItemToArray(p, cJSON_CreateString(kv[i].value));
		cJSON_AddItemToArray(a, p);
	}
	return a;
}

/* The canonical form: every field, in a fixed order, lists as arrays. */
static void recipe_hash(struct recipe *r)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char hex[SHA256_HEX_LEN + 1];
	char *txt;

	cJSON_AddItemToObject(o, "format", cJSON_CreateNumber(1));
	cJSON_AddItemToObject(o, "name", json_str(r->name));
	cJSON_AddItemToObject(o, "description", json_str(r->description));
	a = cJSON_AddArrayToObject(o, "repositories");
	for (size_t i = 0; i < r->nrepos; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "url", json_str(r->repos[i].url));
		cJSON_AddItemToObject(x, "suites", json_sv(&r->repos[i].suites));
		cJSON_AddItemToObject(x, "components", json_sv(&r->repos[i].components));
		cJSON_AddItemToObject(x, "keyring", json_str(r->repos[i].keyring));
		cJSON_AddBoolToObject(x, "trusted", r->repos[i].trusted);
		cJSON_AddItemToArray(a, x);
	}
	cJSON_AddBoolToObject(o, "repos_from_host", r->repos_from_host);
	cJSON_AddItemToObject(o, "archs", json_sv(&r->archs));
	if (r->tags.n) /* only when set: recipes without tags keep their hash */
		cJSON_AddItemToObject(o, "tags", json_sv(&r->tags));
	a = cJSON_AddArrayToObject(o, "packages");
	for (size_t i = 0; i < r->npackages; i++) {
		cJSON *x = cJSON_CreateArray();
		cJSON_AddItemToArray(x, cJSON_CreateString(r->packages[i].name));
		cJSON_AddItemToArray(x, json_str(r->packages[i].op));
		cJSON_AddItemToArray(x, json_str(r->packages[i].version));
		cJSON_AddItemToArray(a, x);
	}
	cJSON_AddItemToObject(o, "exclude", json_sv(&r->exclude));
	cJSON_AddItemToObject(o, "assume", json_sv(&r->assume));
	a = cJSON_AddArrayToObject(o, "users");
	for (size_t i = 0; i < r->nusers; i++) {
		cJSON *x = cJSON_CreateArray();
		cJSON_AddItemToArray(x, cJSON_CreateString(r->users[i].name));
		cJSON_AddItemToArray(x, cJSON_CreateNumber(r->users[i].uid));
		cJSON_AddItemToArray(x, cJSON_CreateNumber(r->users[i].gid));
		cJSON_AddItemToArray(x, cJSON_CreateString(r->users[i].home));
		cJSON_AddItemToArray(x, cJSON_CreateString(r->users[i].shell));
		cJSON_AddItemToArray(a, x);
	}
	a = cJSON_AddArrayToObject(o, "groups");
	for (size_t i = 0; i < r->ngroups; i++) {
		cJSON *x = cJSON_CreateArray();
		cJSON_AddItemToArray(x, cJSON_CreateString(r->groups[i].name));
		cJSON_AddItemToArray(x, cJSON_CreateNumber(r->groups[i].gid));
		cJSON_AddItemToArray(x, json_sv(&r->groups[i].members));
		cJSON_AddItemToArray(a, x);
	}
	cJSON_AddItemToObject(o, "run_as", json_str(r->run_as));
	cJSON_AddItemToObject(o, "entrypoint",
			      r->has_entrypoint ? json_sv(&r->entrypoint) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "cmd", r->has_cmd ? json_sv(&r->cmd) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "env", json_sv(&r->env));
	cJSON_AddItemToObject(o, "workdir", json_str(r->workdir));
	cJSON_AddItemToObject(o, "labels", json_kv(r->labels, r->nlabels));
	cJSON_AddItemToObject(o, "annotations", json_kv(r->annotations, r->nannotations));
	a = cJSON_AddArrayToObject(o, "paths");
	for (size_t i = 0; i < r->npaths; i++) {
		const struct recipe_path *p = &r->paths[i];
		cJSON *x = cJSON_CreateArray();
		cJSON_AddItemToArray(x, cJSON_CreateNumber(p->type));
		cJSON_AddItemToArray(x, cJSON_CreateString(p->path));
		cJSON_AddItemToArray(x, json_str(p->target));
		cJSON_AddItemToArray(x, cJSON_CreateNumber(p->mode));
		cJSON_AddItemToArray(x, cJSON_CreateNumber((double)p->uid));
		cJSON_AddItemToArray(x, cJSON_CreateNumber((double)p->gid));
		cJSON_AddItemToArray(x, cJSON_CreateBool(p->recursive));
		cJSON_AddItemToArray(a, x);
	}
	cJSON_AddItemToObject(o, "strip", json_sv(&r->strip));
	cJSON_AddItemToObject(o, "keep", json_sv(&r->keep));
	cJSON_AddItemToObject(o, "allow", json_sv(&r->allow));
	if (r->strict) /* only when set: recipes without it keep their hash */
		cJSON_AddBoolToObject(o, "strict", true);
	if (r->healthcheck.n) /* the same */
		cJSON_AddItemToObject(o, "healthcheck", json_sv(&r->healthcheck));

	txt = cJSON_PrintUnformatted(o);
	if (!txt)
		die("out of memory");
	sha256_hex(txt, strlen(txt), hex);
	free(r->sha256);
	r->sha256 = xstrdup(hex);
	cJSON_free(txt);
	cJSON_Delete(o);
}

/* Defaults and the checks that need the whole (merged) recipe. */
static int finish(const char *file, struct layer *L, perr *e)
{
	struct recipe *r = L->r;
	bool nonroot_user = false, nonroot_group = false;

	if (!L->has_name)
		return perr_set(e, "%s:1:1: missing required key 'name'", file);
	if (!r->npackages)
		return perr_set(e, "%s:1:1: the recipe lists no packages", file);
	r->path = xstrdup(file);
	r->repos_from_host = r->nrepos == 0;
	if (!r->archs.n)
		sv_push(&r->archs, resolver_host_arch());
	sv_uniq(&r->archs);
	r->strict = L->strict == 1;
	if (L->assume_defaults != 0)
		for (size_t i = 0; recipe_default_assume[i]; i++)
			sv_push(&r->assume, recipe_default_assume[i]);
	sv_uniq(&r->assume);
	sv_uniq(&r->exclude);
	sv_uniq(&r->allow);
	if (L->runas_need)
		sv_push(&L->need, L->runas_need);
	for (size_t i = 0; i < L->need.n; i++) {
		const char *tab = strchr(L->need.v[i], '\t');
		char *perm = xstrndup(L->need.v[i], (size_t)(tab - L->need.v[i]));
		bool ok = sv_contains(&r->allow, perm);

		if (!ok)
			perr_set(e, "%s (needs allow: [%s])", tab + 1, perm);
		free(perm);
		if (!ok)
			return -1;
	}
	for (size_t i = 0; i < r->npackages; i++)
		if (sv_contains(&r->exclude, r->packages[i].name))
			return perr_set(e, "%s: package '%s' is both requested and excluded",
					file, r->packages[i].name);

	/* nonroot (65532) is always there unless the recipe defines that name
	 * itself; then its uid must not collide with another user. */
	for (size_t i = 0; i < r->nusers; i++)
		nonroot_user |= !strcmp(r->users[i].name, "nonroot") || r->users[i].uid == 65532;
	for (size_t i = 0; i < r->ngroups; i++)
		nonroot_group |= !strcmp(r->groups[i].name, "nonroot") || r->groups[i].gid == 65532;
	if (!nonroot_user) {
		struct recipe_user u = { xstrdup("nonroot"), 65532, 65532,
					 xstrdup("/home/nonroot"), xstrdup("/sbin/nologin") };
		r->users = xrealloc(r->users, (r->nusers + 1) * sizeof(*r->users));
		memmove(r->users + 1, r->users, r->nusers * sizeof(*r->users));
		r->users[0] = u;
		r->nusers++;
	}
	if (!nonroot_group) {
		struct recipe_group g = { xstrdup("nonroot"), 65532, STRVEC_INIT };
		r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
		memmove(r->groups + 1, r->groups, r->ngroups * sizeof(*r->groups));
		r->groups[0] = g;
		r->ngroups++;
	}
	/* After extends, a uid may be used twice by different names. */
	for (size_t i = 0; i < r->nusers; i++)
		for (size_t j = i + 1; j < r->nusers; j++)
			if (r->users[i].uid == r->users[j].uid)
				return perr_set(e, "%s: users '%s' and '%s' share uid %u", file,
						r->users[i].name, r->users[j].name,
						r->users[i].uid);
	for (size_t i = 0; i < r->ngroups; i++)
		for (size_t j = i + 1; j < r->ngroups; j++)
			if (r->groups[i].gid == r->groups[j].gid)
				return perr_set(e, "%s: groups '%s' and '%s' share gid %u", file,
						r->groups[i].name, r->groups[j].name,
						r->groups[i].gid);
	if (!r->run_as)
		r->run_as = xstrdup("65532");
	if (!isdigit((unsigned char)r->run_as[0]) && strcmp(r->run_as, "root") &&
	    strcmp(r->run_as, "nobody") && !has_user(r, r->run_as))
		return perr_set(e, "%s: run-as: unknown user '%s'", file, r->run_as);
	recipe_hash(r);
	return 0;
}

/* Messages quote recipe text, which may hold newlines (multi-line scalars)
 * or other control bytes; errors are one line, so escape them. */
static void one_line(perr *e)
{
	char out[sizeof(e->msg)];
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)e->msg; *p && o + 5 < sizeof(out); p++) {
		if (*p == '\n')
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	memcpy(e->msg, out, o + 1);
}

struct recipe *recipe_load_buf(const char *name, const char *buf, size_t n, perr *e)
{
	struct chain ch = { { NULL }, 0, NULL };
	struct layer L;
	char *real = realpath(name, NULL);
	char *dir = path_dirname(name);

	memset(&L, 0, sizeof(L));
	ch.root = realpath(dir, NULL);
	free(dir);
	/* The top file joins the cycle check when it exists on disk. */
	if (real)
		ch.real[ch.n++] = real;
	if (load_layer(name, buf, n, &ch, &L, e) < 0)
		goto bad;
	if (finish(name, &L, e) < 0)
		goto bad;
	free(real);
	free(ch.root);
	free(L.extends);
	layer_free_need(&L);
	return L.r;
bad:
	one_line(e);
	free(real);
	free(ch.root);
	recipe_free(L.r);
	free(L.extends);
	layer_free_need(&L);
	return NULL;
}

struct recipe *recipe_load(const char *file, perr *e)
{
	strbuf sb = STRBUF_INIT;
	struct recipe *r = NULL;

	if (read_recipe_file(file, &sb, e) < 0)
		goto out;
	r = recipe_load_buf(file, sb_str(&sb), sb.len, e);
out:
	sb_release(&sb);
	return r;
}

void recipe_free(struct recipe *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->description);
	free(r->path);
	free(r->sha256);
	repos_free(r->repos, r->nrepos);
	sv_clear(&r->archs);
	for (size_t i = 0; i < r->npackages; i++)
		free(r->packages[i].name), free(r->packages[i].op),
			free(r->packages[i].version), free(r->packages[i].from),
			free(r->packages[i].file);
	free(r->packages);
	sv_clear(&r->exclude);
	sv_clear(&r->tags);
	sv_clear(&r->assume);
	for (size_t i = 0; i < r->nusers; i++)
		user_release(&r->users[i]);
	free(r->users);
	for (size_t i = 0; i < r->ngroups; i++)
		group_release(&r->groups[i]);
	free(r->groups);
	free(r->run_as);
	sv_clear(&r->entrypoint);
	sv_clear(&r->cmd);
	sv_clear(&r->healthcheck);
	sv_clear(&r->env);
	free(r->workdir);
	for (size_t i = 0; i < r->nlabels; i++)
		free(r->labels[i].key), free(r->labels[i].value);
	free(r->labels);
	for (size_t i = 0; i < r->nannotations; i++)
		free(r->annotations[i].key), free(r->annotations[i].value);
	free(r->annotations);
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i].path), free(r->paths[i].target);
	free(r->paths);
	sv_clear(&r->strip);
	sv_clear(&r->keep);
	sv_clear(&r->allow);
	for (size_t i = 0; i < r->nvex; i++) {
		free(r->vex[i].vulnerability);
		sv_clear(&r->vex[i].products);
		free(r->vex[i].status);
		free(r->vex[i].justification);
		free(r->vex[i].statement);
		free(r->vex[i].where);
	}
	free(r->vex);
	free(r->vex_file);
	free(r);
}

/* *.yaml in dir, sorted; names starting with '_' or '.' are fragments for
 * extends (or editor files), not recipes. */
int recipe_list(const char *dir, strvec *files, perr *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	strvec found = STRVEC_INIT;

	if (!d)
		return perr_errno(e, "cannot open recipe directory '%s'", dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '_' || de->d_name[0] == '.' ||
		    !str_ends(de->d_name, ".yaml") || strlen(de->d_name) == 5)
			continue;
		sv_push_nodup(&found, path_join(dir, de->d_name));
	}
	closedir(d);
	sv_sort(&found);
	append_sv(files, &found);
	return 0;
}
