/* time.c - the dates found in Release files, RFC 3339 for what pare writes,
 * and SOURCE_DATE_EPOCH. */
#define _GNU_SOURCE
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int parse_rfc2822(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p, *rest;
	char *end;

	memset(&tm, 0, sizeof(tm));
	/* optional weekday */
	p = strchr(s, ',');
	p = p ? p + 1 : s;
	while (*p == ' ')
		p++;
	rest = strptime(p, "%d %b %Y %H:%M:%S", &tm);
	if (!rest)
		return -1;
	while (*rest == ' ')
		rest++;
	long off = 0;
	if (!*rest || !strcmp(rest, "UTC") || !strcmp(rest, "GMT") || !strcmp(rest, "Z")) {
		off = 0;
	} else if (*rest == '+' || *rest == '-') {
		/* exactly +HHMM / -HHMM: strtol alone also took "+-100" and "+ 100" */
		if (strspn(rest + 1, "0123456789") != 4)
			return -1;
		long v = strtol(rest + 1, &end, 10);
		if (end - rest != 5 || *end || v % 100 >= 60)
			return -1;
		off = (v / 100) * 3600 + (v % 100) * 60;
		if (*rest == '-')
			off = -off;
	} else {
		return -1;
	}
	*out = (int64_t)timegm(&tm) - off;
	return 0;
}

void time_rfc3339(int64_t t, char buf[TIME_RFC3339_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t source_date_epoch(int64_t fallback)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s || !*s)
		return fallback;
	v = strtoll(s, &end, 10);
	if (*end || v < 0)
		return fallback;
	return (int64_t)v;
}
