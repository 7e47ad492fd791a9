/*
 * cve.h - CVE intelligence (issue 19): which images carry which CVEs, how
 * urgently, and what a rebuild fixes.  Feeds (Debian security tracker, CISA
 * KEV, FIRST EPSS) are synced into a compact index under the pare cache;
 * subjects (a recipe's locked closure, an OCI image's dpkg database, an SBOM)
 * are matched against it on the *source* package and version.
 *
 * May include: common/, and the public headers of resolver/ (the lock) and
 * the layout reader.  Nothing above it (cli/, rebuild/) includes more than
 * this header.
 *
 * The structs below are the contract between the parts of the module:
 * sync/index/match (feed.c, index.c, match.c), subjects (subject.c) and the
 * output formats (sarif.c, vex.c).  All strings are owned by the struct that
 * holds them; *_release frees the fields, not the struct.
 */
#ifndef PARE_CVE_H
#define PARE_CVE_H

#include "../common/common.h"

/* One installed binary package of a subject. */
struct cve_pkg {
	char *name;           /* binary package name */
	char *version;        /* binary version */
	char *source;         /* source package (the binary name when the record has none) */
	char *source_version; /* source version ("Source: x (v)" for binNMUs), else version */
	char *arch;           /* "amd64", "all", … */
	char *purl;           /* pkg:deb/debian/NAME@VERSION?arch=ARCH[&upstream=SOURCE] */
};

/* What is matched: one image (one arch) or one SBOM. */
struct cve_subject {
	char *name;        /* recipe name, image path/ref, or SBOM file */
	char *arch;        /* NULL when unknown (an SBOM without arch) */
	char *codename;    /* "bookworm", …; NULL when unknown */
	char *recipe_file; /* recipes/NAME.yaml for recipes (SARIF locations), else NULL */
	char *digest;      /* manifest digest "sha256:…" when known, else NULL */
	struct cve_pkg *pkgs;
	size_t npkgs;
};
void cve_subject_release(struct cve_subject *s);

enum cve_class {
	CVE_FIXABLE = 0,   /* a fix is published, the subject does not have it */
	CVE_OPEN,          /* no fix (see open_reason) */
	CVE_UNDETERMINED,
	CVE_FIXED,         /* installed version >= fixed_version */
	CVE_NOT_AFFECTED,  /* fixed_version "0" */
	CVE_SUPPRESSED,    /* by a VEX statement (vex_* below) */
};
const char *cve_class_name(enum cve_class c); /* "fixable", "open", … */

/* One (subject, CVE, source package) result. */
struct cve_finding {
	size_t subject;        /* index into cve_report.subjects */
	char *id;              /* "CVE-2024-1234" or "TEMP-…" */
	char *source;          /* source package */
	char *installed;       /* the subject's source version */
	char *fixed_version;   /* NULL when none published */
	enum cve_class cls;
	char *open_reason;     /* "no-dsa", "postponed", "ignored", "end-of-life", or NULL */
	char *urgency;         /* tracker urgency as written ("high**", "unimportant", …) or NULL */
	char *description;     /* tracker description or NULL */
	bool kev;              /* in CISA KEV */
	bool kev_ransomware;   /* knownRansomwareCampaignUse == "Known" */
	char *kev_added;       /* dateAdded "YYYY-MM-DD" or NULL */
	char *kev_due;         /* dueDate or NULL */
	double epss;           /* probability 0..1, < 0 when absent */
	double percentile;     /* 0..1, < 0 when absent */
	char **binaries;       /* purls of the subject's binaries built from source */
	size_t nbinaries;
	char *vex_status;      /* when suppressed: "not_affected", … */
	char *vex_justification;
	char *vex_statement;   /* the VEX statement's impact/action text, or NULL */
	char *first_seen;      /* RFC 3339: the tracker date of the sync that first had the entry, or NULL */
};

struct cve_report {
	struct cve_subject *subjects;
	size_t nsubjects;
	struct cve_finding *findings; /* sorted by cve_finding_cmp */
	size_t nfindings;
	char *tracker_date;  /* RFC 3339 of the feeds used, NULL when a feed is absent */
	char *kev_date;
	char *epss_date;
	char *stale;         /* NULL, or one line saying which feed is stale since when */
};
void cve_report_release(struct cve_report *r);

/* The one priority order: KEV (ransomware first, then earlier dueDate) >
 * EPSS percentile (higher first) > Debian urgency > id. */
int cve_finding_cmp(const struct cve_finding *a, const struct cve_finding *b);

/* ---- feeds, index, matching of recipes (feed.c, index.c, sync.c, match.c,
 * report.c; docs/cve.md) ---------------------------------------------------- */

enum cve_feed { CVE_FEED_TRACKER, CVE_FEED_KEV, CVE_FEED_EPSS, CVE_NFEEDS };
const char *cve_feed_name(enum cve_feed f); /* "tracker", "kev", "epss" */

/* Settings: the config file (PARE_CVE_CONFIG, else $XDG_CONFIG_HOME/pare/cve.conf,
 * else ~/.config/pare/cve.conf; absent is fine), then flags over it. */
struct cve_config {
	char *url[CVE_NFEEDS];  /* NULL: not configured */
	int64_t max_age;        /* seconds after which a feed is stale (default 2 days) */
	strvec codenames;       /* indexed besides the lock's (default bookworm) */
};
int cve_config_load(struct cve_config *c, perr *e);
/* A max age: DAYS, or Nd, Nh, Nm.  0 or -1. */
int cve_parse_age(const char *s, int64_t *out);
/* "YYYY-MM-DD", or that with "THH:MM:SS[.frac]" and Z, +0000 or +00:00
 * (the KEV and EPSS forms): seconds since the epoch; -1 when not a date. */
int cve_parse_date(const char *s, int64_t *out);
void cve_config_release(struct cve_config *c);

/* pare cve sync: each feed from DIR (from_dir: tracker.json, kev.json,
 * epss.csv or epss.csv.gz) or its URL, refused as a whole (one line naming
 * it, the cached index untouched) when bad or older than the cached one;
 * lock (may be NULL) adds its codenames to those indexed. */
int cve_sync(const struct cve_config *c, const char *from_dir, const char *lock, perr *e);

/* Subjects of recipes.lock: one per recipe and arch (names: only those
 * recipes, all when empty), the codename from the lock's repositories. */
int cve_lock_subjects(const char *lock, const char *recipes_dir, const strvec *names,
		      struct cve_subject **out, size_t *n, perr *e);
/* Match subjects (moved into r) against the synced index: every finding,
 * sorted; since > 0 keeps only those first seen or added to KEV after it. */
int cve_match(const struct cve_config *c, struct cve_subject *subjects, size_t n, int64_t since,
	      struct cve_report *r, perr *e);

/* The table (headline of counts, then rows; fixed and not-affected rows
 * only with all), and pare-cve/1 JSON. */
void cve_print_table(FILE *f, const struct cve_report *r, bool all);
int cve_print_json(FILE *f, const struct cve_report *r, perr *e);
/* --fail-on kev|fixable|open|low|medium|high: whether a finding meets it
 * (-1 with e for an unknown word). */
int cve_fail_on(const struct cve_report *r, const char *what, bool *hit, perr *e);

#endif
