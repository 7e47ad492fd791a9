/* strbuf.c - growable strings and string vectors (see common.h for invariants). */
#include "common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_grow(strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need < sb->len)
		die("strbuf overflow");
	if (need > sb->alloc) {
		size_t a = sb->alloc ? sb->alloc : 64;
		while (a < need)
			a *= 2;
		sb->buf = xrealloc(sb->buf, a);
		sb->alloc = a;
		/* a first allocation is a string too, before anything is added
		 * (a reader of a buffer grown for data that never came: sb_str) */
		sb->buf[sb->len] = '\0';
	}
}

void sb_add(strbuf *sb, const void *data, size_t n)
{
	sb_grow(sb, n);
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_adds(strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addc(strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_vaddf(strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		die("bad format string '%s'", fmt);
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_addf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sb_reset(strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sb_release(strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

char *sb_detach(strbuf *sb)
{
	char *s;

	if (!sb->buf)
		sb_grow(sb, 0), sb->buf[0] = '\0';
	s = sb->buf;
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return s;
}

const char *sb_str(const strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

void sv_push_nodup(strvec *sv, char *s)
{
	ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void sv_push(strvec *sv, const char *s)
{
	sv_push_nodup(sv, xstrdup(s));
}

void sv_pushf(strvec *sv, const char *fmt, ...)
{
	strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	sv_push_nodup(sv, sb_detach(&sb));
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sv_sort(strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmpstr);
}

void sv_uniq(strvec *sv)
{
	size_t i, j = 0;

	sv_sort(sv);
	for (i = 0; i < sv->n; i++) {
		if (j && !strcmp(sv->v[j - 1], sv->v[i])) {
			free(sv->v[i]);
			continue;
		}
		sv->v[j++] = sv->v[i];
	}
	sv->n = j;
	if (sv->v)
		sv->v[j] = NULL;
}

bool sv_contains(const strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

void sv_clear(strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}

void sv_copy(strvec *dst, const strvec *src)
{
	for (size_t i = 0; i < src->n; i++)
		sv_push(dst, src->v[i]);
}

void sv_split(strvec *sv, const char *s, const char *seps)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		if (n)
			sv_push_nodup(sv, xstrndup(s, n));
		s += n;
		if (*s)
			s++;
	}
}

bool str_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool str_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !memcmp(s + n - m, suffix, m);
}

char *str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

void sb_add_quoted(strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = sb->len;

	for (; *p; p++) {
		if (sb->len - start >= 200) {
			sb_adds(sb, "...");
			return;
		}
		if (*p == '\n')
			sb_adds(sb, "\\n");
		else if (*p == '\t')
			sb_adds(sb, "\\t");
		else if (*p == '\\')
			sb_adds(sb, "\\\\");
		else if (*p < 0x20 || *p == 0x7f)
			sb_addf(sb, "\\x%02x", *p);
		else
			sb_addc(sb, (char)*p);
	}
}
