/*
 * cve_int.h - private to cve/: the feed parsers (feed.c) hand entries to the
 * index writer (index.c); sync.c drives both; match.c reads the index.
 * No JSON type leaves feed.c: yajl (tracker) and cJSON (KEV) stay there.
 */
#ifndef PARE_CVE_INT_H
#define PARE_CVE_INT_H

#include "cve.h"

/* Caps on what a feed may weigh (a larger one is refused, nothing cached). */
#define CVE_TRACKER_MAX ((uint64_t)512 << 20) /* the JSON as fetched */
#define CVE_KEV_MAX ((size_t)32 << 20)
#define CVE_EPSS_MAX ((uint64_t)128 << 20)    /* compressed, and again uncompressed */

/* One (source, codename, CVE) entry of the tracker.  Absent keys are "". */
struct cve_track {
	const char *source, *codename, *id;
	const char *status, *fixed_version, *urgency, *nodsa, *nodsa_reason;
	const char *description;
};
struct cve_kev_entry {
	const char *id, *added, *due;
	bool ransomware;
};
struct cve_epss_entry {
	const char *id, *epss, *percentile; /* as written, checked to be numbers in [0, 1] */
};

/* Where parsed entries go; a callback returns 0, or -1 with e filled. */
struct cve_sink {
	int (*track)(const struct cve_track *t, void *arg, perr *e);
	int (*kev)(const struct cve_kev_entry *k, void *arg, perr *e);
	int (*epss)(const struct cve_epss_entry *x, void *arg, perr *e);
	void *arg;
};

/* A streaming parser of one feed: bytes in any chunking, then finish.
 * name is the feed's file or URL for messages.  codenames (sorted) limits
 * the tracker's entries to those releases (NULL: all).  The EPSS parser
 * takes the CSV uncompressed (cve_feed_read_file inflates). */
struct cve_parser;
struct cve_parser *cve_parser_new(enum cve_feed kind, const char *name, const strvec *codenames,
				  const struct cve_sink *sink);
int cve_parser_feed(struct cve_parser *p, const void *buf, size_t n, perr *e);
int cve_parser_finish(struct cve_parser *p, perr *e);
/* After finish: the date the feed says it was published (KEV dateReleased,
 * EPSS score_date; 0 when it has none: the tracker) and a version string
 * (KEV catalogVersion, EPSS model_version) or "". */
int64_t cve_parser_published(const struct cve_parser *p);
const char *cve_parser_version(const struct cve_parser *p);
size_t cve_parser_count(const struct cve_parser *p); /* entries handed to the sink */
void cve_parser_free(struct cve_parser *p);

/* Parse a whole file into p (gzip inflated when it is gzip, EPSS only),
 * refusing more than max bytes in or out. */
int cve_feed_read_file(struct cve_parser *p, const char *path, uint64_t max, perr *e);

/* "bookworm-security" -> "bookworm" (the tracker's release names); caller frees. */
char *cve_codename_base(const char *codename);
/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" into buf. */
void cve_format_date(int64_t t, char buf[32]);

/* ---- the index (index.c) ------------------------------------------------
 * $cache/cve/{tracker,kev,epss}.idx: one header line, then sorted lines of
 * tab-separated fields (docs/cve.md); queries mmap them and binary-search. */
struct cve_idx {
	char *path;
	const char *map;     /* the whole file, NULL when absent */
	size_t size;
	const char *data;    /* after the header line */
	int64_t published, mtime;
	char *etag, *version, *codenames;
	int64_t last_modified;
};
char *cve_idx_path(enum cve_feed f); /* caller frees */
/* Map the index of f; an absent index gives map NULL and 0. */
int cve_idx_open(enum cve_feed f, struct cve_idx *x, perr *e);
void cve_idx_close(struct cve_idx *x);
/* The lines whose first fields equal key (fields joined by tabs, without a
 * trailing tab): *first and *end bound them in x->data. */
void cve_idx_range(const struct cve_idx *x, const char *key, const char **first,
		   const char **end);
/* Split the line at p (up to '\n') into at most max fields (pointers into
 * buf, a copy the caller gives); returns the number of fields. */
size_t cve_idx_fields(const char *p, strbuf *buf, char **f, size_t max);

struct cve_idx_writer;
/* first_seen: the date new tracker entries get (old: the index before). */
struct cve_idx_writer *cve_idx_writer_new(enum cve_feed f, const struct cve_idx *old,
					  int64_t first_seen);
struct cve_sink cve_idx_writer_sink(struct cve_idx_writer *w);
/* Sort, and write atomically with a header of published, etag,
 * last_modified, version and codenames. */
int cve_idx_writer_commit(struct cve_idx_writer *w, int64_t published, const char *etag,
			  int64_t last_modified, const char *version, const char *codenames,
			  perr *e);
void cve_idx_writer_free(struct cve_idx_writer *w);

/* The %XX escapes of s[0..n) decoded (purl parts), lower-cased when lower
 * (purl comparison); caller frees (subject.c). */
char *cve_pct_decode(const char *s, size_t n, bool lower);
/* s quoted for a one-line message (control characters escaped, cut), so text from
 * a document never breaks the line; valid until the fourth call after it. */
const char *cve_quote(const char *s);

#endif
