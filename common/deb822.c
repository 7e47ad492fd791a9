/*
 * deb822.c - the one reader of Debian control files (deb822(5), Debian
 * policy 5.1): a .deb's control, Packages indexes, Release / InRelease,
 * *.sources, machine-readable copyright files.
 *
 * A stanza (paragraph) is a run of field lines "Name: value" ended by a blank
 * line; a line starting with a space or tab continues the field above it.
 * Field names compare case-insensitively.  The callers differ only in how
 * strict they are (flags in common.h): a Packages index is a signed statement
 * read by libsolv afterwards, so anything libsolv would silently skip is an
 * error there; copyright files in the wild carry stray lines that are skipped.
 *
 * The text arrives in blocks of any size (deb822_feed), a line split across
 * two blocks waits in `carry`; the stanza's fields, their names and values
 * are kept between stanzas so a long index costs no allocation per stanza.
 */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void deb822_stanza_release(struct deb822_stanza *s)
{
	for (size_t i = 0; i < s->alloc; i++) {
		sb_release(&s->f[i].name);
		sb_release(&s->f[i].value);
	}
	free(s->f);
	memset(s, 0, sizeof(*s));
}

const struct deb822_field *deb822_get(const struct deb822_stanza *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->f[i].name.buf, name))
			return &s->f[i];
	return NULL;
}

const char *deb822_value(const struct deb822_stanza *s, const char *name)
{
	const struct deb822_field *f = deb822_get(s, name);

	return f ? f->value.buf : NULL;
}

void deb822_release(struct deb822 *p)
{
	deb822_stanza_release(&p->cur);
	sb_release(&p->carry);
}

/* The stanza is complete: to the caller, then emptied for the next one
 * (the memory stays, unless the caller took the fields). */
static int stanza_end(struct deb822 *p, perr *e)
{
	int r = 0;

	if (p->in_stanza && p->stanza)
		r = p->stanza(p->arg, &p->cur, e);
	p->cur.n = 0;
	p->cur.line = 0;
	p->in_stanza = false;
	p->cont = 0;
	p->seen = 0;
	return r;
}

/* eight bytes at a time when none is below 0x20 or 0x7f and above; a word
 * with one (a tab, UTF-8) is checked byte by byte */
static int check_chars(struct deb822 *p, const char *l, size_t len, size_t line, perr *e)
{
	size_t i = 0;

	while (i < len) {
		uint64_t w;
		if (i + 8 <= len) {
			memcpy(&w, l + i, 8);
			if (!(((w - 0x2020202020202020ULL) | (w + 0x0101010101010101ULL) | w) &
			      0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		}
		for (size_t end = i + 8 < len ? i + 8 : len; i < end; i++) {
			unsigned char c = (unsigned char)l[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return perr_set(e, "%s:%zu: control character 0x%02x", p->name,
						line, c);
		}
	}
	return 0;
}

/* The value of a line from `from`, without the white space around it. */
static void add_trimmed(strbuf *sb, const char *from, const char *end)
{
	while (from < end && isspace((unsigned char)*from))
		from++;
	while (end > from && isspace((unsigned char)end[-1]))
		end--;
	sb_add(sb, from, (size_t)(end - from));
}

/* Which of p->keep the name is: its index, -1 when kept for want of a list,
 * -2 when not kept.  The lengths first: an index has ~20 fields a stanza. */
static int keep_index(struct deb822 *p, const char *name, size_t len)
{
	if (!p->keep)
		return -1;
	if (!p->nkeep) {
		while (p->keep[p->nkeep]) {
			if (p->nkeep == ARRAY_SIZE(p->klen) || strlen(p->keep[p->nkeep]) > 255)
				die("deb822: more than %zu kept fields, or a long name",
				    ARRAY_SIZE(p->klen));
			p->klen[p->nkeep] = (unsigned char)strlen(p->keep[p->nkeep]);
			p->nkeep++;
		}
	}
	for (size_t i = 0; i < p->nkeep; i++)
		if (p->klen[i] == len && !strncasecmp(p->keep[i], name, len))
			return (int)i;
	return -2;
}

static int field_line(struct deb822 *p, const char *l, size_t len, size_t line, perr *e)
{
	const char *colon = memchr(l, ':', len), *name = l, *nend;
	struct deb822_field *f;
	int key;

	/* ": x" names no field: an error, or (junk allowed) a field named "" */
	if (!colon || (colon == l && !(p->flags & DEB822_SKIP_JUNK))) {
		if (p->flags & DEB822_SKIP_JUNK)
			return 0;
		return perr_set(e, "%s:%zu: malformed line (expected 'Field: value')", p->name,
				line);
	}
	nend = colon;
	if (p->flags & DEB822_STRICT) {
		for (const char *c = l; c < colon; c++)
			if ((unsigned char)*c <= ' ' || *c == '#')
				return perr_set(e, "%s:%zu: malformed field name", p->name, line);
	} else {
		while (name < nend && isspace((unsigned char)*name))
			name++;
		while (nend > name && isspace((unsigned char)nend[-1]))
			nend--;
	}
	if (!p->in_stanza) {
		p->in_stanza = true;
		p->cur.line = line;
	}
	key = keep_index(p, name, (size_t)(nend - name));
	p->cont = key == -2 ? 1 : 2;
	if (key == -2)
		return 0;
	if (p->flags & DEB822_NO_DUPS) {
		bool dup = false;
		if (key >= 0) {
			dup = p->seen & (1ULL << key);
			p->seen |= 1ULL << key;
		} else {
			for (size_t i = 0; i < p->cur.n && !dup; i++)
				dup = p->cur.f[i].name.len == (size_t)(nend - name) &&
				      !strncasecmp(p->cur.f[i].name.buf, name, (size_t)(nend - name));
		}
		if (dup)
			return perr_set(e, "%s:%zu: duplicate field '%.*s'", p->name, line,
					(int)(nend - name), name);
	}
	if (p->cur.n == p->cur.alloc) {
		size_t old = p->cur.alloc;
		ALLOC_GROW(p->cur.f, p->cur.n + 1, p->cur.alloc);
		memset(p->cur.f + old, 0, (p->cur.alloc - old) * sizeof(*p->cur.f));
	}
	f = &p->cur.f[p->cur.n++];
	sb_reset(&f->name);
	sb_add(&f->name, name, (size_t)(nend - name));
	sb_reset(&f->value);
	add_trimmed(&f->value, colon + 1, l + len);
	f->line = line;
	f->key = key;
	return 0;
}

/* One line (without its newline), numbered from 1 across the whole text. */
static int one_line(struct deb822 *p, const char *l, size_t len, perr *e)
{
	size_t line = ++p->line, k = 0;

	if ((p->flags & DEB822_STRICT) && check_chars(p, l, len, line, e) < 0)
		return -1;
	if ((p->flags & DEB822_COMMENTS) && len && l[0] == '#')
		return 0;
	if (len && !isspace((unsigned char)l[0]))
		return field_line(p, l, len, line, e);
	while (k < len && isspace((unsigned char)l[k]))
		k++;
	if (k == len) {
		if (len && (p->flags & DEB822_STRICT))
			return perr_set(e, "%s:%zu: line of only white space", p->name, line);
		return p->flags & DEB822_ONE ? 0 : stanza_end(p, e);
	}
	if (l[0] != ' ' && l[0] != '\t')
		return field_line(p, l, len, line, e); /* "\vName: x" */
	/* a continuation line */
	if (!p->in_stanza || !p->cont) {
		if (p->flags & DEB822_SKIP_JUNK)
			return 0;
		return perr_set(e, "%s:%zu: continuation line outside a stanza", p->name, line);
	}
	if (p->cont == 1)
		return 0;
	if (p->flags & DEB822_STRICT)
		return perr_set(e, "%s:%zu: unexpected continuation of a one-line field", p->name,
				line);
	{
		strbuf *v = &p->cur.f[p->cur.n - 1].value;
		while (isspace((unsigned char)l[len - 1]))
			len--;
		sb_addc(v, '\n');
		if (!(p->flags & DEB822_DOT) || len - k != 1 || l[k] != '.')
			sb_add(v, l + k, len - k);
	}
	return 0;
}

int deb822_feed(struct deb822 *p, const char *buf, size_t n, perr *e)
{
	size_t i = 0;

	if (p->carry.len) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) : n;
		sb_add(&p->carry, buf, len);
		if (!nl)
			return 0;
		i = len + 1;
		if (one_line(p, p->carry.buf, p->carry.len, e) < 0)
			return -1;
		sb_reset(&p->carry);
	}
	while (i < n) {
		const char *l = buf + i, *nl = memchr(l, '\n', n - i);
		if (!nl) {
			sb_add(&p->carry, l, n - i);
			break;
		}
		i += (size_t)(nl - l) + 1;
		if (one_line(p, l, (size_t)(nl - l), e) < 0)
			return -1;
	}
	return 0;
}

int deb822_finish(struct deb822 *p, perr *e)
{
	if (p->carry.len) {
		if (one_line(p, p->carry.buf, p->carry.len, e) < 0)
			return -1;
		sb_reset(&p->carry);
	}
	return stanza_end(p, e);
}

static int take_stanza(void *arg, struct deb822_stanza *s, perr *e)
{
	(void)e;
	*(struct deb822_stanza *)arg = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

int deb822_parse_one(const char *name, const char *text, unsigned flags,
		     struct deb822_stanza *out, perr *e)
{
	struct deb822 d = { .name = name, .flags = flags | DEB822_ONE, .stanza = take_stanza,
			    .arg = out };

	memset(out, 0, sizeof(*out));
	return deb822_parse(&d, text, strlen(text), e);
}

int deb822_parse(struct deb822 *p, const char *text, size_t n, perr *e)
{
	int r = deb822_feed(p, text, n, e);

	if (r == 0)
		r = deb822_finish(p, e);
	deb822_release(p);
	return r;
}
