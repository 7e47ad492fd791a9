/* error.c - the one error type, logging, and the allocators. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

int pare_quiet;
int pare_verbose;

/* The scheme of a URL: a letter, then letters, digits, "+-." (RFC 3986). */
static bool scheme_before(const char *s, const char *colon)
{
	const char *p = colon;

	while (p > s && (isalnum((unsigned char)p[-1]) || strchr("+-.", p[-1])))
		p--;
	return p < colon && isalpha((unsigned char)*p);
}

char *url_redact(const char *s)
{
	strbuf sb = STRBUF_INIT;
	const char *p = s, *sep;

	while ((sep = strstr(p, "://"))) {
		const char *auth = sep + 3, *end = auth, *at = NULL;
		/* the authority ends where the path, query or fragment starts, or
		 * where the URL does inside a message (white space, quotes) */
		while (*end && !strchr("/?#'\"<> \t\n", *end)) {
			if (*end == '@')
				at = end;
			end++;
		}
		sb_add(&sb, p, (size_t)(auth - p));
		if (at && scheme_before(s, sep)) {
			sb_adds(&sb, "***");
			sb_add(&sb, at, (size_t)(end - at));
		} else {
			sb_add(&sb, auth, (size_t)(end - auth));
		}
		p = end;
	}
	sb_adds(&sb, p);
	return sb_detach(&sb);
}

/* A message buffer (cap bytes) with url_redact applied, truncated to fit. */
static void redact_buf(char *buf, size_t cap)
{
	if (!strstr(buf, "://") || !strchr(buf, '@'))
		return;
	char *r = url_redact(buf);
	snprintf(buf, cap, "%s", r);
	free(r);
}

/* "a: b" into e->msg, truncated to fit (messages are one line, never huge). */
static void copy_msg(perr *e, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), cap = sizeof(e->msg) - 1;

	if (na > cap)
		na = cap;
	memmove(e->msg, a, na);
	if (na + 2 <= cap) {
		memcpy(e->msg + na, ": ", 2);
		na += 2;
		if (nb > cap - na)
			nb = cap - na;
		memmove(e->msg + na, b, nb);
		na += nb;
	}
	e->msg[na] = '\0';
}

int perr_set(perr *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	redact_buf(e->msg, sizeof(e->msg));
	e->code = PERR_GENERIC;
	return -1;
}

int perr_prefix(perr *e, const char *fmt, ...)
{
	char ctx[1024], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	copy_msg(e, ctx, old);
	redact_buf(e->msg, sizeof(e->msg));
	return -1;
}

int perr_errno(perr *e, const char *fmt, ...)
{
	int saved = errno;
	char what[2048];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	copy_msg(e, what, strerror(saved));
	redact_buf(e->msg, sizeof(e->msg));
	e->code = PERR_GENERIC;
	errno = saved;
	return -1;
}

static void PRINTF(2, 0) vlog(const char *prefix, const char *fmt, va_list ap)
{
	strbuf sb = STRBUF_INIT;
	char *line;

	sb_adds(&sb, prefix);
	sb_vaddf(&sb, fmt, ap);
	sb_adds(&sb, "\n");
	line = url_redact(sb_str(&sb));
	fputs(line, stderr);
	free(line);
	sb_release(&sb);
}

void note(const char *fmt, ...)
{
	va_list ap;

	if (pare_quiet)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("pare: warning: ", fmt, ap);
	va_end(ap);
}

/* Debug lines carry the milliseconds since the program started, so
 * --verbose shows where a build's time goes without a profiler. */
static struct timespec start_time;

__attribute__((constructor)) static void note_start_time(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_time);
}

void debug(const char *fmt, ...)
{
	struct timespec now;
	char line[4096];
	int n;
	va_list ap;

	if (!pare_verbose)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	n = snprintf(line, sizeof(line), "pare: debug: %7.1f ms: ",
		     (double)(now.tv_sec - start_time.tv_sec) * 1e3 +
		     (double)(now.tv_nsec - start_time.tv_nsec) / 1e6);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	redact_buf(line, sizeof(line) - 1);
	/* one write: lines from the decoder and writer threads stay whole */
	strcat(line, "\n");
	fputs(line, stderr);
}

void die(const char *fmt, ...)
{
	char line[4096]; /* no allocation: die reports running out of memory too */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pare: fatal: %s\n", line);
	abort();
}

static void *oom(size_t n)
{
	die("out of memory allocating %zu bytes", n);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom(n * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb);
}
