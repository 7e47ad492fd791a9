/*
 * feed.c - the three feed parsers, each fed bytes in any chunking:
 *
 *  - the Debian security tracker JSON: {SOURCE: {ID: {"description",
 *    "releases": {CODENAME: {"status", "fixed_version", "urgency", "nodsa",
 *    "nodsa_reason", "repositories"}}}}}.  Tens of MB: parsed by yajl's
 *    callbacks, one CVE held at a time (no DOM), so memory does not grow
 *    with the document.  yajl checks UTF-8, truncation and trailing bytes.
 *  - CISA KEV JSON: small (about 1 MB), so a cJSON DOM, after a UTF-8 check.
 *  - FIRST EPSS CSV: "#model_version:…,score_date:…", "cve,epss,percentile",
 *    then one line per CVE; plain ASCII, checked byte by byte.
 *
 * Every key may be missing; unknown keys are skipped; a value of the wrong
 * type is "not the expected shape" and refuses the whole feed.
 */
#define _GNU_SOURCE
#include "cve_int.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

const char *cve_feed_name(enum cve_feed f)
{
	static const char *const names[] = { "tracker", "kev", "epss" };

	return (unsigned)f < ARRAY_SIZE(names) ? names[f] : "?";
}

int cve_parse_date(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + n;
	if (*p == 'T') {
		if (sscanf(p, "T%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 9)
			return -1;
		p += n;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (strcmp(p, "Z") && strcmp(p, "+0000") && strcmp(p, "+00:00"))
			return -1;
	} else if (*p)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm);
	return 0;
}

void cve_format_date(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the tracker: yajl callbacks ------------------------------------------ */

/* What the next value is, by the key that came before it. */
enum slot { S_TOP, S_SOURCE, S_CVE, S_DESC, S_RELEASES, S_RELEASE, S_FIELD, S_SKIP };

enum { F_STATUS, F_FIXED, F_URGENCY, F_NODSA, F_NODSA_REASON, NFIELDS };
static const char *const field_keys[NFIELDS] = { "status", "fixed_version", "urgency", "nodsa",
						  "nodsa_reason" };

struct rel {
	char *codename;
	char *f[NFIELDS];
};

struct cve_parser {
	enum cve_feed kind;
	char *name;
	const strvec *codenames;
	struct cve_sink sink;
	perr err;              /* a callback's failure */
	bool failed;
	size_t count;
	int64_t published;
	char *version;
	/* tracker */
	yajl_handle h;
	enum slot next;
	int depth, skip, field;
	uint64_t offset;       /* bytes before the current chunk */
	size_t nsources;
	char *source, *id, *desc;
	char *codename;        /* the key of the release whose value comes next */
	struct rel *rels;
	size_t nrels, arels;
	/* KEV: the document, parsed at finish */
	strbuf buf;
	/* EPSS: the current line, the line number */
	strbuf line;
	size_t lineno;
};

static int tfail(struct cve_parser *p, const char *fmt, ...) PRINTF(2, 3);
static int tfail(struct cve_parser *p, const char *fmt, ...)
{
	strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (p->source) {
		perr_set(&p->err, "tracker %s: source %s%s%s: %s", p->name, p->source,
			 p->id ? ", " : "", p->id ? p->id : "", sb_str(&sb));
	} else
		perr_set(&p->err, "tracker %s: %s", p->name, sb_str(&sb));
	sb_release(&sb);
	p->failed = true;
	return 0; /* yajl: cancel */
}

/* A string from the document for the index: control characters (tabs and
 * newlines would break its lines) become spaces. */
static char *clean(const unsigned char *s, size_t n)
{
	char *r = xstrndup((const char *)s, n);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || r[i] == 0x7f)
			r[i] = ' ';
	return r;
}

static void rels_clear(struct cve_parser *p)
{
	for (size_t i = 0; i < p->nrels; i++) {
		free(p->rels[i].codename);
		for (int k = 0; k < NFIELDS; k++)
			free(p->rels[i].f[k]);
	}
	p->nrels = 0;
}

static bool wanted(const struct cve_parser *p, const char *codename)
{
	if (!p->codenames)
		return true;
	return sv_contains(p->codenames, codename);
}

/* A scalar value (s NULL for null, numbers and booleans: what = their text). */
static int scalar(struct cve_parser *p, const char *what, const unsigned char *s, size_t n,
		  bool is_string)
{
	if (p->skip)
		return 1;
	switch (p->next) {
	case S_SKIP:
		break;
	case S_DESC:
		if (is_string) {
			free(p->desc);
			p->desc = clean(s, n);
		} else if (strcmp(what, "null"))
			return tfail(p, "description is %s, not a string", what);
		break;
	case S_FIELD: {
		struct rel *r = &p->rels[p->nrels - 1];

		if (is_string) {
			free(r->f[p->field]);
			r->f[p->field] = clean(s, n);
		} else if (p->field == F_NODSA && !strcmp(what, "true")) {
			free(r->f[p->field]);
			r->f[p->field] = xstrdup("yes");
		} else if (strcmp(what, "null") && strcmp(what, "false"))
			return tfail(p, "release %s: %s is %s, not a string", r->codename,
				     field_keys[p->field], what);
		break;
	}
	case S_TOP:
		return tfail(p, "not a JSON object of source packages");
	case S_SOURCE:
	case S_CVE:
	case S_RELEASES:
	case S_RELEASE:
		return tfail(p, "%s where an object is expected", what);
	}
	p->next = S_SKIP;
	return 1;
}

static int t_null(void *ctx)
{
	return scalar(ctx, "null", NULL, 0, false);
}

static int t_bool(void *ctx, int b)
{
	return scalar(ctx, b ? "true" : "false", NULL, 0, false);
}

static int t_number(void *ctx, const char *s, size_t n)
{
	(void)s, (void)n;
	return scalar(ctx, "a number", NULL, 0, false);
}

static int t_string(void *ctx, const unsigned char *s, size_t n)
{
	return scalar(ctx, "a string", s, n, true);
}

static int t_start_map(void *ctx)
{
	struct cve_parser *p = ctx;

	if (p->skip || p->next == S_SKIP) {
		p->skip++;
		return 1;
	}
	switch (p->next) {
	case S_TOP:
	case S_SOURCE:
	case S_CVE:
	case S_RELEASES:
		break;
	case S_RELEASE:
		if (!wanted(p, p->codename)) {
			p->skip = 1;
			return 1;
		}
		ALLOC_GROW(p->rels, p->nrels + 1, p->arels);
		memset(&p->rels[p->nrels], 0, sizeof(*p->rels));
		p->rels[p->nrels++].codename = p->codename;
		p->codename = NULL;
		break;
	default:
		return tfail(p, "%s is an object, not a string",
			     p->next == S_DESC ? "description" : field_keys[p->field]);
	}
	p->depth++;
	return 1;
}

static int t_start_array(void *ctx)
{
	struct cve_parser *p = ctx;

	if (p->skip || p->next == S_SKIP) {
		p->skip++;
		return 1;
	}
	if (p->next == S_TOP)
		return tfail(p, "not a JSON object of source packages");
	return tfail(p, "an array where %s is expected",
		     p->next == S_DESC || p->next == S_FIELD ? "a string" : "an object");
}

static int t_end_array(void *ctx)
{
	struct cve_parser *p = ctx;

	p->skip--; /* arrays are only ever skipped */
	if (!p->skip)
		p->next = S_SKIP;
	return 1;
}

static int t_key(void *ctx, const unsigned char *k, size_t n)
{
	struct cve_parser *p = ctx;

	if (p->skip)
		return 1;
	switch (p->depth) {
	case 1:
		free(p->source);
		p->source = clean(k, n);
		p->next = S_SOURCE;
		break;
	case 2:
		free(p->id);
		p->id = clean(k, n);
		free(p->desc);
		p->desc = NULL;
		rels_clear(p);
		p->next = S_CVE;
		break;
	case 3:
		p->next = S_SKIP;
		if (n == 11 && !memcmp(k, "description", 11))
			p->next = S_DESC;
		else if (n == 8 && !memcmp(k, "releases", 8))
			p->next = S_RELEASES;
		break;
	case 4:
		free(p->codename);
		p->codename = clean(k, n);
		p->next = S_RELEASE;
		break;
	case 5:
		p->next = S_SKIP;
		for (int i = 0; i < NFIELDS; i++)
			if (strlen(field_keys[i]) == n && !memcmp(k, field_keys[i], n)) {
				p->next = S_FIELD;
				p->field = i;
			}
		break;
	}
	return 1;
}

static int emit_cve(struct cve_parser *p)
{
	for (size_t i = 0; i < p->nrels; i++) {
		const struct rel *r = &p->rels[i];
		struct cve_track t = {
			.source = p->source, .codename = r->codename, .id = p->id,
			.description = p->desc ? p->desc : "",
		};
		const char **f[NFIELDS] = { &t.status, &t.fixed_version, &t.urgency, &t.nodsa,
					    &t.nodsa_reason };

		for (int k = 0; k < NFIELDS; k++)
			*f[k] = r->f[k] ? r->f[k] : "";
		if (p->sink.track(&t, p->sink.arg, &p->err) < 0) {
			p->failed = true;
			return 0;
		}
		p->count++;
	}
	rels_clear(p);
	return 1;
}

static int t_end_map(void *ctx)
{
	struct cve_parser *p = ctx;

	if (p->skip) {
		if (!--p->skip)
			p->next = S_SKIP;
		return 1;
	}
	switch (p->depth--) {
	case 3: /* the end of one CVE of a source */
		if (!emit_cve(p))
			return 0;
		free(p->id);
		p->id = NULL;
		break;
	case 2:
		p->nsources++;
		free(p->source);
		p->source = NULL;
		break;
	}
	p->next = S_SKIP;
	return 1;
}

static const yajl_callbacks tracker_cb = {
	.yajl_null = t_null,
	.yajl_boolean = t_bool,
	.yajl_number = t_number,
	.yajl_string = t_string,
	.yajl_start_map = t_start_map,
	.yajl_map_key = t_key,
	.yajl_end_map = t_end_map,
	.yajl_start_array = t_start_array,
	.yajl_end_array = t_end_array,
};

struct cve_parser *cve_parser_new(enum cve_feed kind, const char *name, const strvec *codenames,
				  const struct cve_sink *sink)
{
	struct cve_parser *p = xcalloc(1, sizeof(*p));

	p->kind = kind;
	p->name = xstrdup(name);
	p->codenames = codenames;
	p->sink = *sink;
	p->version = xstrdup("");
	if (kind == CVE_FEED_TRACKER) {
		p->h = yajl_alloc(&tracker_cb, NULL, p);
		if (!p->h)
			die("yajl_alloc failed");
		p->next = S_TOP;
	}
	return p;
}

void cve_parser_free(struct cve_parser *p)
{
	if (!p)
		return;
	if (p->h)
		yajl_free(p->h);
	rels_clear(p);
	free(p->rels);
	free(p->source);
	free(p->id);
	free(p->desc);
	free(p->codename);
	free(p->name);
	free(p->version);
	sb_release(&p->buf);
	sb_release(&p->line);
	free(p);
}

int64_t cve_parser_published(const struct cve_parser *p)
{
	return p->published;
}

const char *cve_parser_version(const struct cve_parser *p)
{
	return p->version;
}

size_t cve_parser_count(const struct cve_parser *p)
{
	return p->count;
}

/* yajl's own message (the offset and the reason), on one line. */
static int yajl_failed(struct cve_parser *p, const void *buf, size_t n, perr *e)
{
	unsigned char *m;
	char *s;

	if (p->failed) {
		*e = p->err;
		return -1;
	}
	m = yajl_get_error(p->h, 0, buf, n);
	s = clean(m, strlen((const char *)m));
	perr_set(e, "tracker %s: not valid JSON near byte %llu: %s", p->name,
		 (unsigned long long)(p->offset + (buf ? yajl_get_bytes_consumed(p->h) : 0)),
		 str_trim(s));
	free(s);
	yajl_free_error(p->h, m);
	return -1;
}

/* ---- EPSS: lines ---------------------------------------------------------- */

static bool epss_number(const char *s)
{
	char *end;
	double d;

	if (!*s || !(((*s >= '0' && *s <= '9')) || *s == '.'))
		return false;
	errno = 0;
	d = strtod(s, &end);
	return !errno && !*end && isfinite(d) && d >= 0 && d <= 1;
}

static bool epss_id(const char *s)
{
	if (!str_starts(s, "CVE-") || !s[4])
		return false;
	for (const char *c = s + 4; *c; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

static int epss_line(struct cve_parser *p, char *l, perr *e)
{
	size_t n = strlen(l);
	char *f[4];
	size_t nf = 0;

	if (n && l[n - 1] == '\r')
		l[--n] = '\0';
	p->lineno++;
	if (p->lineno == 1) {
		/* #model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000 */
		const char *d = strstr(l, "score_date:"), *m = strstr(l, "model_version:");
		char *date;

		if (l[0] != '#' || !d)
			return perr_set(e, "epss %s:1: no '#model_version:…,score_date:…' line",
					p->name);
		date = xstrndup(d + 11, strcspn(d + 11, ","));
		if (cve_parse_date(date, &p->published) < 0) {
			perr_set(e, "epss %s:1: score_date '%s' is not a date", p->name, date);
			free(date);
			return -1;
		}
		free(date);
		if (m) {
			free(p->version);
			p->version = xstrndup(m + 14, strcspn(m + 14, ","));
		}
		return 0;
	}
	if (p->lineno == 2) {
		if (strcmp(l, "cve,epss,percentile"))
			return perr_set(e, "epss %s:2: the header is not 'cve,epss,percentile'",
					p->name);
		return 0;
	}
	for (char *s = l, *c; nf < ARRAY_SIZE(f); s = c + 1) {
		f[nf++] = s;
		if (!(c = strchr(s, ',')))
			break;
		*c = '\0';
	}
	if (nf != 3 || !epss_id(f[0]) || !epss_number(f[1]) || !epss_number(f[2]))
		return perr_set(e, "epss %s:%zu: not 'CVE-ID,PROBABILITY,PERCENTILE'", p->name,
				p->lineno);
	if (p->sink.epss(&(struct cve_epss_entry){ f[0], f[1], f[2] }, p->sink.arg, e) < 0)
		return -1;
	p->count++;
	return 0;
}

static int epss_feed(struct cve_parser *p, const unsigned char *b, size_t n, perr *e)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;

		for (; i < n && b[i] != '\n'; i++)
			if (b[i] >= 0x80 || (b[i] < 0x20 && b[i] != '\r' && b[i] != '\t'))
				return perr_set(e, "epss %s:%zu: a byte 0x%02x that is not ASCII text",
						p->name, p->lineno + 1, b[i]);
		if (p->line.len + (i - start) > 4096)
			return perr_set(e, "epss %s:%zu: a line longer than 4096 bytes", p->name,
					p->lineno + 1);
		sb_add(&p->line, b + start, i - start);
		if (i < n) { /* a newline */
			i++;
			sb_grow(&p->line, 0); /* an empty line: buf allocated, "" */
			if (epss_line(p, p->line.buf, e) < 0)
				return -1;
			sb_reset(&p->line);
		}
	}
	return 0;
}

/* ---- KEV: one cJSON document ---------------------------------------------- */

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

static const char *kev_str(const cJSON *o, const char *key, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || cJSON_IsNull(v))
		return "";
	if (!cJSON_IsString(v)) {
		*bad = true;
		return "";
	}
	for (const char *c = v->valuestring; *c; c++)
		if ((unsigned char)*c < 0x20)
			*bad = true;
	return v->valuestring;
}

static int kev_finish(struct cve_parser *p, perr *e)
{
	cJSON *doc;
	const cJSON *vulns, *v;
	const char *released;
	bool bad = false;
	size_t i = 0;
	int ret = -1;

	if (!utf8_ok((const unsigned char *)sb_str(&p->buf), p->buf.len))
		return perr_set(e, "kev %s: not UTF-8", p->name);
	doc = cJSON_ParseWithLength(sb_str(&p->buf), p->buf.len);
	if (!doc)
		return perr_set(e, "kev %s: not valid JSON (truncated?)", p->name);
	if (!cJSON_IsObject(doc)) {
		perr_set(e, "kev %s: not a JSON object", p->name);
		goto out;
	}
	vulns = cJSON_GetObjectItemCaseSensitive(doc, "vulnerabilities");
	if (!cJSON_IsArray(vulns)) {
		perr_set(e, "kev %s: no \"vulnerabilities\" array", p->name);
		goto out;
	}
	released = kev_str(doc, "dateReleased", &bad);
	free(p->version);
	p->version = xstrdup(kev_str(doc, "catalogVersion", &bad));
	if (bad) {
		perr_set(e, "kev %s: catalogVersion or dateReleased is not a string", p->name);
		goto out;
	}
	if (*released && cve_parse_date(released, &p->published) < 0) {
		perr_set(e, "kev %s: dateReleased '%s' is not a date", p->name, released);
		goto out;
	}
	cJSON_ArrayForEach(v, vulns) {
		struct cve_kev_entry k;
		const char *ransom;
		int64_t t;

		if (!cJSON_IsObject(v)) {
			perr_set(e, "kev %s: vulnerabilities[%zu] is not an object", p->name, i);
			goto out;
		}
		k.id = kev_str(v, "cveID", &bad);
		k.added = kev_str(v, "dateAdded", &bad);
		k.due = kev_str(v, "dueDate", &bad);
		ransom = kev_str(v, "knownRansomwareCampaignUse", &bad);
		k.ransomware = !strcmp(ransom, "Known");
		if (bad || !epss_id(k.id) || (*k.added && cve_parse_date(k.added, &t) < 0) ||
		    (*k.due && cve_parse_date(k.due, &t) < 0)) {
			perr_set(e, "kev %s: vulnerabilities[%zu]: no CVE id in cveID, or a field "
				    "of the wrong type",
				 p->name, i);
			goto out;
		}
		if (p->sink.kev(&k, p->sink.arg, e) < 0)
			goto out;
		p->count++;
		i++;
	}
	ret = 0;
out:
	cJSON_Delete(doc);
	return ret;
}

/* ---- the interface ---------------------------------------------------------- */

int cve_parser_feed(struct cve_parser *p, const void *buf, size_t n, perr *e)
{
	switch (p->kind) {
	case CVE_FEED_TRACKER:
		if (yajl_parse(p->h, buf, n) != yajl_status_ok)
			return yajl_failed(p, buf, n, e);
		p->offset += n;
		return 0;
	case CVE_FEED_KEV:
		if (p->buf.len + n > CVE_KEV_MAX)
			return perr_set(e, "kev %s: larger than %zu bytes", p->name, CVE_KEV_MAX);
		sb_add(&p->buf, buf, n);
		return 0;
	case CVE_FEED_EPSS:
		return epss_feed(p, buf, n, e);
	default:
		die("cve_parser_feed: kind %d", (int)p->kind);
	}
}

int cve_parser_finish(struct cve_parser *p, perr *e)
{
	switch (p->kind) {
	case CVE_FEED_TRACKER:
		if (yajl_complete_parse(p->h) != yajl_status_ok)
			return yajl_failed(p, NULL, 0, e);
		if (!p->nsources)
			return perr_set(e, "tracker %s: no source packages", p->name);
		return 0;
	case CVE_FEED_KEV:
		return kev_finish(p, e);
	case CVE_FEED_EPSS:
		if (p->line.len)
			return perr_set(e, "epss %s:%zu: truncated (no newline at the end)",
					p->name, p->lineno + 1);
		if (p->lineno < 2)
			return perr_set(e, "epss %s: truncated (no header)", p->name);
		if (!p->count)
			return perr_set(e, "epss %s: no scores", p->name);
		return 0;
	default:
		die("cve_parser_finish: kind %d", (int)p->kind);
	}
}

int cve_feed_read_file(struct cve_parser *p, const char *path, uint64_t max, perr *e)
{
	const char *feed = cve_feed_name(p->kind);
	unsigned char *buf = xmalloc(1 << 18);
	uint64_t total = 0;
	struct stat st;
	gzFile gz = NULL;
	int fd, ret = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perr_errno(e, "%s %s", feed, path);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		perr_set(e, "%s %s: not a regular file", feed, path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		perr_set(e, "%s %s: %llu bytes, more than the %llu a feed may have", feed, path,
			 (unsigned long long)st.st_size, (unsigned long long)max);
		goto out;
	}
	if (p->kind == CVE_FEED_EPSS) {
		/* gzip or plain: zlib reads both (transparent mode) */
		if (!(gz = gzdopen(fd, "rb"))) {
			perr_errno(e, "%s %s", feed, path);
			goto out;
		}
		gzbuffer(gz, 1 << 17);
	}
	for (;;) {
		if (gz) {
			int got = gzread(gz, buf, 1 << 18);
			int zerr;
			const char *zmsg = got < 0 ? gzerror(gz, &zerr) : NULL;

			if (got < 0) {
				perr_set(e, "%s %s: %s", feed, path, zmsg ? zmsg : "gzip error");
				goto out;
			}
			n = got;
		} else if ((n = read(fd, buf, 1 << 18)) < 0) {
			perr_errno(e, "%s %s", feed, path);
			goto out;
		}
		if (!n)
			break;
		total += (uint64_t)n;
		if (total > max) {
			perr_set(e, "%s %s: more than %llu bytes uncompressed", feed, path,
				 (unsigned long long)max);
			goto out;
		}
		if (cve_parser_feed(p, buf, (size_t)n, e) < 0)
			goto out;
	}
	if (gz && !gzdirect(gz)) {
		/* zlib takes a gzip stream cut short as its end: the trailer
		 * (CRC and length) must have been read */
		int zerr;

		gzerror(gz, &zerr);
		if (zerr != Z_OK) {
			perr_set(e, "%s %s: truncated gzip", feed, path);
			goto out;
		}
	}
	ret = cve_parser_finish(p, e);
out:
	if (gz)
		gzclose(gz);
	else if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
