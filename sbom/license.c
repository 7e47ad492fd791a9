/*
 * license.c - Debian copyright files (machine-readable copyright-format 1.0,
 * "DEP-5", or free text) to SPDX licence expressions.
 *
 * https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
 *   - paragraphs separated by blank lines, fields "Name: value", continuation
 *     lines start with a space or tab, a continuation line "." is an empty line;
 *   - the header paragraph carries Format:; Files: paragraphs carry Copyright:
 *     and License: (first line = short name or expression, the rest = text);
 *     stand-alone License: paragraphs give the text of a short name;
 *   - expressions: "or", "and" (binds tighter than "or"), a comma before
 *     "and"/"or" lowers the precedence of that operator below both, and
 *     "NAME with FOO exception" adds an exception.
 * SPDX expressions have the same precedence order (WITH > AND > OR).
 */
#define _GNU_SOURCE /* strcasestr */
#include "sbom_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ------------------------------------------------------------- */

/* Debian short names and common spellings seen in Debian main that are not
 * handled by the GPL-family rule below.  Every value is an id of the SPDX
 * licence list (checked by tests/unit/unit-sbom.c against the list shipped
 * with the CycloneDX schema). */
static const struct {
	const char *debian, *spdx;
} lic_table[] = {
	{ "0BSD", "0BSD" },
	{ "AFL-2.1", "AFL-2.1" },
	{ "AFL-3.0", "AFL-3.0" },
	{ "Apache", "Apache-2.0" },
	{ "Apache-1.0", "Apache-1.0" },
	{ "Apache-1.1", "Apache-1.1" },
	{ "Apache-2", "Apache-2.0" },
	{ "Apache-2.0", "Apache-2.0" },
	/* /usr/share/common-licenses/Artistic is the Perl "Artistic License",
	 * which the SPDX list names Artistic-1.0-Perl. */
	{ "Artistic", "Artistic-1.0-Perl" },
	{ "Artistic-1", "Artistic-1.0-Perl" },
	{ "Artistic-1.0", "Artistic-1.0" },
	{ "Artistic-1.0-Perl", "Artistic-1.0-Perl" },
	{ "Artistic-2", "Artistic-2.0" },
	{ "Artistic-2.0", "Artistic-2.0" },
	{ "Beerware", "Beerware" },
	{ "Boost", "BSL-1.0" },
	{ "Boost-1.0", "BSL-1.0" },
	{ "BSD-1-clause", "BSD-1-Clause" },
	{ "BSD-2", "BSD-2-Clause" },
	{ "BSD-2-clause", "BSD-2-Clause" },
	{ "BSD-2-clause-FreeBSD", "BSD-2-Clause" },
	{ "BSD-2-clause-NetBSD", "BSD-2-Clause" },
	{ "BSD-3", "BSD-3-Clause" },
	{ "BSD-3-clause", "BSD-3-Clause" },
	{ "BSD-4", "BSD-4-Clause" },
	{ "BSD-4-clause", "BSD-4-Clause" },
	{ "BSD-4-clause-UC", "BSD-4-Clause-UC" },
	{ "BSL-1.0", "BSL-1.0" },
	{ "bzip2", "bzip2-1.0.6" },
	{ "bzip2-1.0.6", "bzip2-1.0.6" },
	{ "CC-BY-3.0", "CC-BY-3.0" },
	{ "CC-BY-4.0", "CC-BY-4.0" },
	{ "CC-BY-SA-3.0", "CC-BY-SA-3.0" },
	{ "CC-BY-SA-4.0", "CC-BY-SA-4.0" },
	{ "CC0", "CC0-1.0" },
	{ "CC0-1.0", "CC0-1.0" },
	{ "CDDL", "CDDL-1.0" },
	{ "CDDL-1.0", "CDDL-1.0" },
	{ "CDDL-1.1", "CDDL-1.1" },
	{ "CPL-1.0", "CPL-1.0" },
	{ "curl", "curl" },
	{ "ECL-2.0", "ECL-2.0" },
	{ "EPL-1.0", "EPL-1.0" },
	{ "EPL-2.0", "EPL-2.0" },
	{ "EUPL-1.2", "EUPL-1.2" },
	{ "Expat", "MIT" },
	{ "FSFAP", "FSFAP" },
	{ "FSFUL", "FSFUL" },
	{ "FSFULLR", "FSFULLR" },
	{ "FTL", "FTL" },
	{ "HPND", "HPND" },
	{ "ICU", "ICU" },
	{ "IJG", "IJG" },
	{ "Info-ZIP", "Info-ZIP" },
	{ "ISC", "ISC" },
	{ "LPPL-1.3c", "LPPL-1.3c" },
	{ "libpng", "Libpng" },
	{ "libpng-2.0", "libpng-2.0" },
	{ "MirOS", "MirOS" },
	{ "MIT", "MIT" },
	{ "MIT-0", "MIT-0" },
	{ "MPL-1.1", "MPL-1.1" },
	{ "MPL-2.0", "MPL-2.0" },
	{ "NCSA", "NCSA" },
	{ "NTP", "NTP" },
	{ "OFL-1.1", "OFL-1.1" },
	{ "OLDAP-2.8", "OLDAP-2.8" },
	{ "OpenSSL", "OpenSSL" },
	{ "PostgreSQL", "PostgreSQL" },
	{ "PSF", "PSF-2.0" },
	{ "PSF-2", "PSF-2.0" },
	{ "PSF-2.0", "PSF-2.0" },
	{ "Python", "Python-2.0" },
	{ "Python-2.0", "Python-2.0" },
	{ "Ruby", "Ruby" },
	{ "Sleepycat", "Sleepycat" },
	{ "TCL", "TCL" },
	{ "Unicode-DFS-2016", "Unicode-DFS-2016" },
	{ "Unlicense", "Unlicense" },
	{ "Vim", "Vim" },
	{ "W3C", "W3C" },
	{ "WTFPL", "WTFPL" },
	{ "X11", "X11" },
	{ "Zlib", "Zlib" },
	{ "zlib-acknowledgement", "zlib-acknowledgement" },
	{ "Zope-2.1", "ZPL-2.1" },
	{ "ZPL-2.1", "ZPL-2.1" },
};

/* GNU licences: FAMILY-VERSION[+] (also "-only", "-or-later", bare FAMILY
 * = any version), versions as the SPDX list has them. */
static const struct {
	const char *family, *spdx_family;
	const char *versions[4]; /* SPDX spellings, first = for a bare name */
} gnu_table[] = {
	{ "GPL", "GPL", { "1.0", "2.0", "3.0", NULL } },
	{ "LGPL", "LGPL", { "2.0", "2.1", "3.0", NULL } },
	{ "AGPL", "AGPL", { "1.0", "3.0", NULL } },
	{ "GFDL", "GFDL", { "1.1", "1.2", "1.3", NULL } },
	{ "GFDL-NIV", "GFDL", { "1.1", "1.2", "1.3", NULL } },
};

static const char *gnu_map(const char *name)
{
	static char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(gnu_table); i++) {
		size_t fl = strlen(gnu_table[i].family);
		const char *rest = name + fl, *ver = NULL;
		char v[16];
		bool later = false, niv = !strcmp(gnu_table[i].family, "GFDL-NIV");
		size_t vl;

		if (strncasecmp(name, gnu_table[i].family, fl))
			continue;
		if (!*rest) {
			/* "GPL" without a version: any version. */
			snprintf(buf, sizeof(buf), "%s-%s%s-or-later", gnu_table[i].spdx_family,
				 gnu_table[i].versions[0], niv ? "-no-invariants" : "");
			return buf;
		}
		if (*rest != '-')
			continue;
		rest++;
		vl = strspn(rest, "0123456789.");
		if (!vl || vl >= sizeof(v))
			continue;
		memcpy(v, rest, vl);
		v[vl] = '\0';
		rest += vl;
		if (!strcmp(rest, "+") || !strcasecmp(rest, "-or-later"))
			later = true;
		else if (*rest && strcasecmp(rest, "-only"))
			continue;
		/* "2" and "2.0" are the same version */
		for (size_t k = 0; gnu_table[i].versions[k]; k++) {
			const char *sv = gnu_table[i].versions[k];
			if (!strcmp(v, sv) || (!strchr(v, '.') && !strncmp(sv, v, vl) &&
					       !strcmp(sv + vl, ".0")))
				ver = sv;
		}
		if (!ver)
			return NULL;
		snprintf(buf, sizeof(buf), "%s-%s%s-%s", gnu_table[i].spdx_family, ver,
			 niv ? "-no-invariants" : "", later ? "or-later" : "only");
		return buf;
	}
	return NULL;
}

const char *lic_map_name(const char *name)
{
	const char *g;

	for (size_t i = 0; i < ARRAY_SIZE(lic_table); i++)
		if (!strcasecmp(name, lic_table[i].debian))
			return lic_table[i].spdx;
	/* "GFDL-NIV" must be tried before "GFDL": gnu_table order handles
	 * it because "GFDL-" followed by "NIV" is not a version. */
	g = gnu_map(name);
	return g;
}

const char *lic_table_spdx(size_t i)
{
	return i < ARRAY_SIZE(lic_table) ? lic_table[i].spdx : NULL;
}

const char *lic_map_exception(const char *name, const char *spdx)
{
	bool gpl3 = spdx && strstr(spdx, "GPL-3.0");

	if (!strcasecmp(name, "Autoconf") || !strcasecmp(name, "Autoconf-3.0") ||
	    !strcasecmp(name, "Autoconf-2.0"))
		return gpl3 ? "Autoconf-exception-3.0" : "Autoconf-exception-2.0";
	if (!strcasecmp(name, "Bison") || !strcasecmp(name, "Bison-2.2"))
		return "Bison-exception-2.2";
	if (!strcasecmp(name, "Classpath") || !strcasecmp(name, "Classpath-2.0"))
		return "Classpath-exception-2.0";
	if (!strcasecmp(name, "Font") || !strcasecmp(name, "Font-2.0"))
		return "Font-exception-2.0";
	if (!strcasecmp(name, "GCC") || !strcasecmp(name, "GCC-3.1") ||
	    !strcasecmp(name, "GCC runtime library"))
		return gpl3 ? "GCC-exception-3.1" : "GCC-exception-2.0";
	if (!strcasecmp(name, "Libtool"))
		return "Libtool-exception";
	if (!strcasecmp(name, "LLVM"))
		return "LLVM-exception";
	if (!strcasecmp(name, "OCaml linking") || !strcasecmp(name, "OCaml-LGPL-linking"))
		return "OCaml-LGPL-linking-exception";
	if (!strcasecmp(name, "Qt-LGPL-1.1") || !strcasecmp(name, "Qt LGPL"))
		return "Qt-LGPL-exception-1.1";
	if (!strcasecmp(name, "Texinfo"))
		return "Texinfo-exception";
	if (!strcasecmp(name, "WxWindows") || !strcasecmp(name, "WxWindows-3.1"))
		return "WxWindows-exception-3.1";
	if (!strcasecmp(name, "389"))
		return "389-exception";
	/* There is no generic "OpenSSL exception" in the SPDX exception list
	 * (only project-specific ones), so such a term becomes a LicenseRef. */
	return NULL;
}

char *lic_ref_id(const char *name)
{
	strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "LicenseRef-");
	for (const char *p = name; *p; p++)
		sb_addc(&sb, isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '-');
	return sb_detach(&sb);
}

/* ---- string index ---------------------------------------------------------- */

/* FNV-1a; fold: ASCII case-insensitive, like strcasecmp in the C locale */
static size_t str_hash(const char *s, bool fold)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= fold ? (unsigned char)tolower((unsigned char)*s) : (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static long idx_find(const struct lic_index *ix, const strvec *keys, const char *k, bool fold)
{
	if (!ix->cap)
		return -1;
	for (size_t h = str_hash(k, fold) & (ix->cap - 1);; h = (h + 1) & (ix->cap - 1)) {
		size_t s = ix->slot[h];

		if (!s)
			return -1;
		if (fold ? !strcasecmp(keys->v[s - 1], k) : !strcmp(keys->v[s - 1], k))
			return (long)(s - 1);
	}
}

static void idx_put(struct lic_index *ix, const strvec *keys, size_t i, bool fold)
{
	size_t h = str_hash(keys->v[i], fold) & (ix->cap - 1);

	while (ix->slot[h])
		h = (h + 1) & (ix->cap - 1);
	ix->slot[h] = i + 1;
}

/* keys->v[keys->n - 1] was just pushed (and is not in the index yet) */
static void idx_add(struct lic_index *ix, const strvec *keys, bool fold)
{
	if (keys->n * 2 > ix->cap) { /* at most half full: short probes */
		size_t cap = ix->cap ? ix->cap : 16;

		while (keys->n * 2 > cap)
			cap *= 2;
		free(ix->slot);
		ix->slot = xcalloc(cap, sizeof(*ix->slot));
		ix->cap = cap;
		for (size_t i = 0; i < keys->n; i++)
			idx_put(ix, keys, i, fold);
		return;
	}
	idx_put(ix, keys, keys->n - 1, fold);
}

static void idx_release(struct lic_index *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = 0;
}

/* ---- licence-ref registry ------------------------------------------------- */

long lic_refs_find(const struct lic_refs *reg, const char *id)
{
	return idx_find(&reg->index, &reg->ids, id, false);
}

static char *reg_add(struct lic_refs *reg, const char *pkgname, const char *name,
		     const char *text, const char *where)
{
	char *id = lic_ref_id(name);
	long i = lic_refs_find(reg, id);

	if (i >= 0 && strcmp(reg->texts.v[i], text)) {
		/* Same name, other text: qualify with the package. */
		char *q = xasprintf("%s-%s", pkgname, name);
		free(id);
		id = lic_ref_id(q);
		i = lic_refs_find(reg, id);
		if (i >= 0 && strcmp(reg->texts.v[i], text)) {
			/* Still another text: names an id cannot tell apart ("a b"
			 * and "a-b") each with its own text in one package.  The
			 * text's digest, not a counter: no probing for a free one. */
			char hex[SHA256_HEX_LEN + 1], *q2;

			sha256_hex(text, strlen(text), hex);
			q2 = xasprintf("%s-%s", q, hex);
			free(id);
			id = lic_ref_id(q2);
			free(q2);
			i = lic_refs_find(reg, id);
		}
		free(q);
	}
	if (i < 0) {
		sv_push(&reg->ids, id);
		idx_add(&reg->index, &reg->ids, false);
		sv_push(&reg->names, name);
		sv_push(&reg->texts, text);
		/* The first package registering an (id, text) names the file:
		 * the same text is in its copyright file. */
		sv_push(&reg->where, where ? where : "");
	}
	return id;
}

const char *lic_ref_text(const struct lic_refs *reg, size_t i, bool pointer)
{
	if (pointer && *reg->where.v[i])
		return reg->where.v[i];
	return reg->texts.v[i];
}

char *lic_pointer(const char *path, const char *sha256)
{
	return xasprintf("Text in %s (sha256 %s) in this image", path, sha256);
}

void lic_refs_release(struct lic_refs *reg)
{
	sv_clear(&reg->ids);
	sv_clear(&reg->names);
	sv_clear(&reg->texts);
	sv_clear(&reg->where);
	idx_release(&reg->index);
}

void lic_info_release(struct lic_info *li)
{
	free(li->expr);
	free(li->copyright);
	free(li->detected);
	sv_clear(&li->refs);
	memset(li, 0, sizeof(*li));
}

/* ---- deb822 paragraphs ------------------------------------------------------ */

/* The paragraphs of a copyright file, read by common/deb822.c.  A field's
 * first line (a short name or expression) is split from its continuation
 * lines (a text) in place, at the value's first '\n'. */
struct paras {
	struct deb822_stanza *v;
	size_t n, alloc;
};

static const char *first_line(const struct deb822_field *f)
{
	return f->value.buf;
}

/* The continuation lines ("" when none) and their length. */
static const char *body(const struct deb822_field *f, size_t *len)
{
	size_t k = strlen(f->value.buf);

	if (len)
		*len = k < f->value.len ? f->value.len - k - 1 : 0;
	return k < f->value.len ? f->value.buf + k + 1 : "";
}

static int take_para(void *arg, struct deb822_stanza *s, perr *e)
{
	struct paras *ps = arg;

	(void)e;
	for (size_t i = 0; i < s->n; i++) {
		char *nl = strchr(s->f[i].value.buf, '\n');
		if (nl)
			*nl = '\0';
	}
	ALLOC_GROW(ps->v, ps->n + 1, ps->alloc);
	ps->v[ps->n++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

static void paras_release(struct paras *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		deb822_stanza_release(&ps->v[i]);
	free(ps->v);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* Split text into paragraphs.  Lines that are neither fields nor
 * continuations are ignored (copyright files in the wild have stray ones). */
static void parse_paras(const char *text, struct paras *ps)
{
	struct deb822 d = { .name = "copyright", .flags = DEB822_COMMENTS | DEB822_SKIP_JUNK | DEB822_DOT,
			    .stanza = take_para, .arg = ps };
	perr e;

	/* nothing in these flags is an error */
	if (deb822_parse(&d, text, strlen(text), &e) < 0)
		die("copyright paragraphs: %s", e.msg);
}

/* ---- expressions --------------------------------------------------------------- */

enum { N_TERM, N_AND, N_OR };

struct node {
	int op;
	char *spdx;            /* N_TERM: rendered SPDX term */
	struct node *l, *r;    /* N_AND / N_OR */
};

/* Trees are as deep as the expression is long ("a and b and c …" is a
 * left-leaning chain, one level a term), and a License: line is as long as
 * the copyright file (16 MiB): no recursion, the walks keep their own stack. */
struct nstack {
	struct { const struct node *n; int parent, state; } *v;
	size_t n, alloc;
};

static void ns_push(struct nstack *st, const struct node *n, int parent)
{
	ALLOC_GROW(st->v, st->n + 1, st->alloc);
	st->v[st->n].n = n;
	st->v[st->n].parent = parent;
	st->v[st->n].state = 0;
	st->n++;
}

static void node_free(struct node *n)
{
	struct nstack st = { NULL, 0, 0 };

	if (n)
		ns_push(&st, n, -1);
	while (st.n) {
		struct node *x = (struct node *)st.v[--st.n].n;

		if (x->l)
			ns_push(&st, x->l, -1);
		if (x->r)
			ns_push(&st, x->r, -1);
		free(x->spdx);
		free(x);
	}
	free(st.v);
}

struct ctx {
	const char *pkg;
	const char *where;
	struct lic_refs *reg;
	strvec sa_names;          /* stand-alone License: paragraphs with a text, */
	const char **sa_texts;    /* first of each name (case-insensitive) */
	struct lic_index sa_index;
	strvec memo_terms, memo_spdx; /* terms of several-term expressions already */
	struct lic_index memo_index;  /* rendered: each is resolved once */
	const char *stanza_text; /* text of the License: field being parsed */
	bool single_term;        /* expression is one term: stanza text is its text */
	strvec *refs;
};

/* Text for an unknown licence name: the stand-alone License: paragraph of
 * that name, else the stanza's own text when the expression is just this
 * name, else the name itself. */
static const char *ref_text(struct ctx *c, const char *name)
{
	long i = idx_find(&c->sa_index, &c->sa_names, name, true);

	if (i >= 0)
		return c->sa_texts[i];
	if (c->single_term && c->stanza_text && *c->stanza_text)
		return c->stanza_text;
	return name;
}

static struct node *mk_term(struct ctx *c, char **tok, size_t n)
{
	struct node *nd = xcalloc(1, sizeof(*nd));
	strbuf whole = STRBUF_INIT;
	const char *lic = NULL, *exc = NULL;

	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&whole, ' ');
		sb_adds(&whole, tok[i]);
	}
	nd->op = N_TERM;
	/* A term's rendering depends on the stanza's text only when it is the
	 * whole expression; otherwise it is the same every time ("x or x or
	 * …" with a long text for x compared that text once per term). */
	if (!c->single_term) {
		long m = idx_find(&c->memo_index, &c->memo_terms, whole.buf, false);

		if (m >= 0) {
			nd->spdx = xstrdup(c->memo_spdx.v[m]);
			sb_release(&whole);
			return nd;
		}
	}
	if (n == 1) {
		lic = lic_map_name(tok[0]);
		if (lic)
			nd->spdx = xstrdup(lic);
	} else if (n >= 4 && !strcasecmp(tok[1], "with") &&
		   !strcasecmp(tok[n - 1], "exception")) {
		strbuf en = STRBUF_INIT;
		for (size_t i = 2; i < n - 1; i++) {
			if (en.len)
				sb_addc(&en, ' ');
			sb_adds(&en, tok[i]);
		}
		lic = lic_map_name(tok[0]);
		exc = lic ? lic_map_exception(sb_str(&en), lic) : NULL;
		if (lic && exc)
			nd->spdx = xasprintf("%s WITH %s", lic, exc);
		sb_release(&en);
	}
	if (!nd->spdx) {
		/* Unknown: keep it as a LicenseRef with its text, never drop it. */
		char *id = reg_add(c->reg, c->pkg, whole.buf, ref_text(c, whole.buf), c->where);
		sv_push(c->refs, id);
		nd->spdx = id;
	}
	if (!c->single_term) {
		sv_push(&c->memo_terms, whole.buf);
		idx_add(&c->memo_index, &c->memo_terms, false);
		sv_push(&c->memo_spdx, nd->spdx);
	}
	sb_release(&whole);
	return nd;
}

static struct node *mk_op(int op, struct node *l, struct node *r)
{
	struct node *nd = xcalloc(1, sizeof(*nd));
	nd->op = op;
	nd->l = l;
	nd->r = r;
	return nd;
}

/* tokens: words; a word "," stands for a comma that preceded and/or. */
static bool is_kw(const char *t, const char *kw)
{
	return !strcasecmp(t, kw);
}

/* and-level: term ("and" term)* */
static struct node *parse_and(struct ctx *c, char **tok, size_t n)
{
	struct node *acc = NULL;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || is_kw(tok[i], "and")) {
			if (i > start) {
				struct node *t = mk_term(c, tok + start, i - start);
				acc = acc ? mk_op(N_AND, acc, t) : t;
			}
			start = i + 1;
		}
	}
	return acc;
}

static struct node *parse_or(struct ctx *c, char **tok, size_t n)
{
	struct node *acc = NULL;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || is_kw(tok[i], "or")) {
			if (i > start) {
				struct node *t = parse_and(c, tok + start, i - start);
				if (t)
					acc = acc ? mk_op(N_OR, acc, t) : t;
			}
			start = i + 1;
		}
	}
	return acc;
}

/* top: segments separated by ", and" / ", or", left-associative. */
static struct node *parse_expr(struct ctx *c, const char *line)
{
	strvec tok = STRVEC_INIT;
	struct node *acc = NULL;
	size_t start = 0;
	int pending = N_AND;
	strvec words = STRVEC_INIT;

	sv_split(&words, line, " \t");
	for (size_t i = 0; i < words.n; i++) {
		size_t l = strlen(words.v[i]);
		bool comma = l && words.v[i][l - 1] == ',';
		if (comma)
			words.v[i][l - 1] = '\0';
		if (words.v[i][0])
			sv_push(&tok, words.v[i]);
		if (comma)
			sv_push(&tok, ",");
	}
	c->single_term = true;
	for (size_t i = 0; i < tok.n; i++)
		if (is_kw(tok.v[i], "and") || is_kw(tok.v[i], "or") || !strcmp(tok.v[i], ","))
			c->single_term = false;
	for (size_t i = 0; i <= tok.n; i++) {
		if (i == tok.n || !strcmp(tok.v[i], ",")) {
			int op = N_AND;
			size_t next = i + 1;
			if (i < tok.n && next < tok.n && is_kw(tok.v[next], "or"))
				op = N_OR, next++;
			else if (i < tok.n && next < tok.n && is_kw(tok.v[next], "and"))
				next++;
			if (i > start) {
				struct node *t = parse_or(c, tok.v + start, i - start);
				if (t)
					acc = acc ? mk_op(pending, acc, t) : t;
			}
			pending = op;
			start = next;
			i = next - 1;
		}
	}
	sv_clear(&tok);
	sv_clear(&words);
	return acc;
}

/* In order, an OR inside an AND in parentheses (WITH > AND > OR). */
static void render(strbuf *sb, const struct node *root, int parent)
{
	struct nstack st = { NULL, 0, 0 };

	ns_push(&st, root, parent);
	while (st.n) {
		const struct node *n = st.v[st.n - 1].n;
		bool paren = st.v[st.n - 1].parent == N_AND && n->op == N_OR;

		if (n->op == N_TERM) {
			sb_adds(sb, n->spdx);
			st.n--;
			continue;
		}
		switch (st.v[st.n - 1].state++) {
		case 0: /* before the left operand */
			if (paren)
				sb_addc(sb, '(');
			ns_push(&st, n->l, n->op);
			break;
		case 1: /* between the operands */
			sb_adds(sb, n->op == N_AND ? " AND " : " OR ");
			ns_push(&st, n->r, n->op);
			break;
		default: /* after the right one */
			if (paren)
				sb_addc(sb, ')');
			st.n--;
		}
	}
	free(st.v);
}

/* ---- a whole copyright file ---------------------------------------------------- */

static bool is_header(const struct deb822_stanza *p)
{
	return deb822_get(p, "Format") || deb822_get(p, "Format-Specification");
}

/* Each line once, in order of appearance (seen: the index of lines). */
static void add_copyright(strvec *lines, struct lic_index *seen, const struct deb822_field *f)
{
	strvec tmp = STRVEC_INIT;

	if (!f)
		return;
	if (*first_line(f))
		sv_push(&tmp, first_line(f));
	sv_split(&tmp, body(f, NULL), "\n");
	for (size_t i = 0; i < tmp.n; i++)
		if (idx_find(seen, lines, tmp.v[i], false) < 0) {
			sv_push(lines, tmp.v[i]);
			idx_add(seen, lines, false);
		}
	sv_clear(&tmp);
}

/* Order of expressions: by the expression, not the leading marker. */
static int cmp_expr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static void analyse_dep5(const char *pkgname, const char *where, struct deb822_stanza *ps, size_t np,
			 struct lic_refs *reg, struct lic_info *out)
{
	strvec exprs = STRVEC_INIT, copyr = STRVEC_INIT;
	strbuf sb = STRBUF_INIT;
	size_t alloc = 0;
	struct ctx c = { .pkg = pkgname, .where = where, .reg = reg, .refs = &out->refs };
	struct lic_index seen = { NULL, 0 };
	bool any_files = false;

	for (size_t i = 0; i < np; i++) {
		const struct deb822_field *lf = deb822_get(&ps[i], "License");
		size_t len = 0;

		if (deb822_get(&ps[i], "Files"))
			any_files = true;
		else if (lf && (body(lf, &len), len) && !is_header(&ps[i]) &&
			 idx_find(&c.sa_index, &c.sa_names, first_line(lf), true) < 0) {
			ALLOC_GROW(c.sa_texts, c.sa_names.n + 1, alloc);
			c.sa_texts[c.sa_names.n] = body(lf, NULL);
			sv_push(&c.sa_names, first_line(lf));
			idx_add(&c.sa_index, &c.sa_names, true);
		}
	}
	for (size_t i = 0; i < np; i++) {
		const struct deb822_field *lf = deb822_get(&ps[i], "License");
		struct node *n;
		bool use = any_files ? deb822_get(&ps[i], "Files") != NULL : is_header(&ps[i]);

		if (!use)
			continue;
		add_copyright(&copyr, &seen, deb822_get(&ps[i], "Copyright"));
		if (!lf || !*first_line(lf))
			continue;
		c.stanza_text = body(lf, NULL);
		n = parse_expr(&c, first_line(lf));
		if (!n)
			continue;
		sb_reset(&sb);
		/* A leading marker keeps "is this an OR?" with the string
		 * through sorting; it is stripped when joining. */
		sb_addc(&sb, n->op == N_OR ? '|' : '&');
		render(&sb, n, -1);
		sv_push(&exprs, sb.buf);
		node_free(n);
	}
	sv_uniq(&exprs);
	/* sort by the expression, not the marker; equal ones are adjacent */
	if (exprs.n > 1)
		qsort(exprs.v, exprs.n, sizeof(*exprs.v), cmp_expr);
	sb_reset(&sb);
	for (size_t i = 0; i < exprs.n; i++) {
		if (i && !strcmp(exprs.v[i - 1] + 1, exprs.v[i] + 1))
			continue;
		if (sb.len)
			sb_adds(&sb, " AND ");
		if (exprs.n > 1 && exprs.v[i][0] == '|')
			sb_addf(&sb, "(%s)", exprs.v[i] + 1);
		else
			sb_adds(&sb, exprs.v[i] + 1);
	}
	out->expr = sb.len ? sb_detach(&sb) : NULL;
	if (copyr.n) {
		strbuf cs = STRBUF_INIT;
		for (size_t i = 0; i < copyr.n; i++) {
			if (i)
				sb_addc(&cs, '\n');
			sb_adds(&cs, copyr.v[i]);
		}
		out->copyright = sb_detach(&cs);
	}
	sv_uniq(&out->refs);
	sb_release(&sb);
	sv_clear(&exprs);
	sv_clear(&copyr);
	idx_release(&seen);
	sv_clear(&c.sa_names);
	free(c.sa_texts);
	idx_release(&c.sa_index);
	sv_clear(&c.memo_terms);
	sv_clear(&c.memo_spdx);
	idx_release(&c.memo_index);
}

/* ---- free-text detection --------------------------------------------------------- */

/* Case-insensitive substring search. */
/* glibc's strcasestr (two-way search), not strncasecmp at every offset:
 * copyright files of hundreds of KB (gcc, python) are searched several times. */
static const char *find_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle);
}

/*
 * Free-text copyright files (glibc, python3.x, base-files, gcc, ...) still
 * name their licences in a few stereotyped ways.  Only these are recognised,
 * so a match is an explicit statement of the file, never a guess:
 *   - Debian policy 12.5 pointers "/usr/share/common-licenses/NAME" (NAME
 *     mapped like a DEP-5 short name); for the GNU family the version is
 *     "or later" only when the file also carries the FSF grant "any later
 *     version", otherwise "-only";
 *   - "PSF LICENSE AGREEMENT" / "Python Software Foundation License" (the
 *     text of PSF-2.0).
 * Several licences are AND-ed (the package ships material under each).
 * Returns the expression (sorted, unique) and fills why with the evidence,
 * or NULL: then the caller keeps the whole text as the declared licence.
 */
char *lic_detect_text(const char *text, strbuf *why)
{
	static const char pfx[] = "/usr/share/common-licenses/";
	strvec ids = STRVEC_INIT, ev = STRVEC_INIT;
	bool later = find_ci(text, "any later version") != NULL;
	char *res = NULL, grant[8] = "";
	strbuf sb = STRBUF_INIT;
	bool mixed = false;

	/* FSF grant "either version 2 of the License, or ...": used for the
	 * unversioned pointers only when every grant in the file names the
	 * same version (gcc grants 2 and 3 to different parts: no version). */
	for (const char *g = text; (g = find_ci(g, "either version ")); ) {
		size_t gl;

		g += strlen("either version ");
		gl = strspn(g, "0123456789.");
		while (gl && g[gl - 1] == '.')
			gl--;
		if (!gl || gl >= sizeof(grant))
			continue;
		if (*grant && (strlen(grant) != gl || strncmp(grant, g, gl)))
			mixed = true;
		memcpy(grant, g, gl);
		grant[gl] = '\0';
	}
	if (mixed)
		*grant = '\0';

	for (const char *p = text; (p = strstr(p, pfx)); ) {
		char name[32], plus[48];
		size_t n;
		const char *spdx = NULL;

		p += sizeof(pfx) - 1;
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-");
		while (n && p[n - 1] == '.') /* end of sentence */
			n--;
		if (!n || n >= sizeof(name))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (later && (!strncasecmp(name, "GPL", 3) || !strncasecmp(name, "LGPL", 4) ||
			      !strncasecmp(name, "AGPL", 4) || !strncasecmp(name, "GFDL", 4)) &&
		    strchr(name, '-')) {
			snprintf(plus, sizeof(plus), "%s+", name);
			spdx = lic_map_name(plus);
		}
		if (!spdx && (!strcmp(name, "GPL") || !strcmp(name, "LGPL")) && *grant) {
			/* "/usr/share/common-licenses/GPL" is the newest
			 * version; the version granted is in the grant. */
			snprintf(plus, sizeof(plus), "%s-%s%s", name, grant, later ? "+" : "");
			spdx = lic_map_name(plus);
		}
		if (!spdx && strcmp(name, "GPL") && strcmp(name, "LGPL"))
			spdx = lic_map_name(name);
		if (!spdx)
			continue;
		sv_push(&ids, spdx);
		sv_push_nodup(&ev, xasprintf("%s%s", pfx, name));
	}
	for (size_t i = 0; i < 2; i++) {
		static const char *const psf[] = { "PSF LICENSE AGREEMENT",
						   "Python Software Foundation License" };
		if (find_ci(text, psf[i])) {
			sv_push(&ids, "PSF-2.0");
			sv_push(&ev, psf[i]);
		}
	}
	if (!ids.n)
		goto out;
	sv_sort(&ids);
	sv_uniq(&ids);
	sv_sort(&ev);
	sv_uniq(&ev);
	for (size_t i = 0; i < ids.n; i++)
		sb_addf(&sb, "%s%s", i ? " AND " : "", ids.v[i]);
	for (size_t i = 0; i < ev.n; i++)
		sb_addf(why, "%s\"%s\"", i ? ", " : "", ev.v[i]);
	if (*grant && strstr(sb.buf, "GPL"))
		sb_addf(why, ", \"either version %s\"", grant);
	if (later && strstr(sb.buf, "GPL"))
		sb_adds(why, ", \"any later version\"");
	res = sb_detach(&sb);
out:
	sb_release(&sb);
	sv_clear(&ids);
	sv_clear(&ev);
	return res;
}

void lic_analyse(const char *pkgname, const char *text, const char *where,
		 struct lic_refs *reg, struct lic_info *out)
{
	struct paras ps = { 0 };

	memset(out, 0, sizeof(*out));
	if (!text || blank(text, strlen(text))) {
		out->kind = LIC_NONE;
		return;
	}
	parse_paras(text, &ps);
	if (ps.n && is_header(&ps.v[0])) {
		out->kind = LIC_DEP5;
		analyse_dep5(pkgname, where, ps.v, ps.n, reg, out);
	} else {
		/* Free text: the licence is whatever the file says.  Declare a
		 * LicenseRef whose text is the whole file, so the terms travel
		 * with the SBOM instead of being replaced by NOASSERTION. */
		char *name = xasprintf("%s-copyright", pkgname);
		char *id = reg_add(reg, pkgname, name, text, where);
		strbuf why = STRBUF_INIT;
		char *det = lic_detect_text(text, &why);

		out->kind = LIC_FREE;
		if (det) {
			/* What the file states in a recognised way, AND the
			 * whole text: the file may grant further terms in
			 * words no rule reads (krb5 names GPL-2 for one file,
			 * the rest is MIT-style text), so the detected ids
			 * are never presented as the complete licence. */
			out->expr = xasprintf("%s AND %s", det, id); /* det is AND-only */
			out->detected = sb_detach(&why);
			free(det);
		} else {
			out->expr = xstrdup(id);
		}
		sv_push_nodup(&out->refs, id);
		sb_release(&why);
		free(name);
	}
	paras_release(&ps);
}

/* ---- purl ------------------------------------------------------------------------ */

void purl_encode(strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr(".-_~:", *p))
			sb_addc(sb, (char)*p);
		else
			sb_addf(sb, "%%%02X", *p);
	}
}

char *purl_deb(const char *name, const char *version, const char *arch,
	       const char *distro)
{
	strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "pkg:deb/debian/");
	for (const char *p = name; *p; p++) {
		char lc[2] = { (char)tolower((unsigned char)*p), 0 };
		purl_encode(&sb, lc);
	}
	sb_addc(&sb, '@');
	purl_encode(&sb, version);
	/* qualifiers sorted by key: arch < distro */
	sb_adds(&sb, "?arch=");
	purl_encode(&sb, arch);
	if (distro) {
		sb_adds(&sb, "&distro=");
		purl_encode(&sb, distro);
	}
	return sb_detach(&sb);
}

/* ---- UTF-8 ---------------------------------------------------------------------------- */

char *sbom_utf8_sanitize(const char *s)
{
	strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)s;

	sb_grow(&sb, strlen(s));
	while (*p) {
		size_t n = 0;
		unsigned cp = 0;

		if (*p < 0x80) {
			/* ASCII runs at once: every string of every document
			 * passes through here */
			const unsigned char *q = p;
			while (*q && *q < 0x80)
				q++;
			sb_add(&sb, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			n = 2, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			n = 3, cp = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			n = 4, cp = *p & 0x07;
		for (size_t i = 1; n && i < n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* reject overlong forms, surrogates and out-of-range */
		if (n && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
			  (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
			  (cp >= 0xd800 && cp <= 0xdfff)))
			n = 0;
		if (!n) {
			sb_adds(&sb, "\xef\xbf\xbd");
			p++;
			continue;
		}
		sb_add(&sb, p, n);
		p += n;
	}
	return sb_detach(&sb);
}
