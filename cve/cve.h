/*
 * cve.h - CVE intelligence (issue 19): which images carry which CVEs, how
 * urgently, and what a rebuild fixes.  Feeds (Debian security tracker, CISA
 * KEV, FIRST EPSS) are synced into a compact index under the pare cache;
 * subjects (a recipe's locked closure, an OCI image's dpkg database, an SBOM)
 * are matched against it on the *source* package and version.
 *
 * May include: common/, oci/ (reading images), resolver/ (the lock, the
 * version order), sbom/ (purls) -- tests/layering checks it.  Above it,
 * audit/, rebuild/ and cli/ include only this header.
 *
 * The structs below are the contract between the parts of the module:
 * sync/index/match (feed.c, index.c, match.c), subjects (subject.c) and the
 * output formats (sarif.c, vex.c).  All strings are owned by the struct that
 * holds them; *_release frees the fields, not the struct.
 */
#ifndef PARE_CVE_H
#define PARE_CVE_H

#include "../common/common.h"
#include "../resolver/resolver.h"

/* One installed binary package of a subject. */
struct cve_pkg {
	/* binary name and version, arch ("amd64", "all", …), source package
	 * (the binary name when the record has none), source version
	 * ("Source: x (v)" for binNMUs, else the version) */
	DEB_ID_MEMBERS;
	char *purl;           /* pkg:deb/debian/NAME@VERSION?arch=ARCH[&upstream=SOURCE] */
	char *bom_ref;        /* its bom-ref in a CycloneDX SBOM subject, else NULL */
};

/* What is matched: one image (one arch) or one SBOM. */
struct cve_subject {
	char *name;        /* recipe name, image path/ref, or SBOM file */
	char *arch;        /* NULL when unknown (an SBOM without arch) */
	char *codename;    /* "bookworm", …; NULL when unknown */
	char *recipe_file; /* recipes/NAME.yaml for recipes (SARIF locations), else NULL */
	char *digest;      /* manifest digest "sha256:…" when known, else NULL */
	char *bom_link;    /* a CycloneDX SBOM's "urn:cdx:SERIAL/VERSION" (BOM-Links to
			    * its components), else NULL */
	struct cve_pkg *pkgs;
	size_t npkgs;
};
void cve_pkg_release(struct cve_pkg *p);
void cve_subject_release(struct cve_subject *s);

/* ---- subjects from outside pare's lock (subject.c) ----------------------
 * Any OCI image, layout directory or oci-archive: the dpkg database its
 * layers leave (/var/lib/dpkg/status and the files of /var/lib/dpkg/status.d, OCI
 * whiteouts honoured, the last layer wins), the codename from its
 * /etc/os-release.  One subject per platform of the image (an image index
 * has several); arch, when not NULL, keeps only that Debian architecture.
 * *subjects is an array the caller releases (each, then free). */
int cve_subject_from_image(const char *path, const char *arch, struct cve_subject **subjects,
			   size_t *n, perr *e);
/* An SPDX 2.3 or CycloneDX 1.4-1.6 JSON SBOM: its pkg:deb packages, the
 * source from the purl's upstream= qualifier ("src", "src@version",
 * "src (version)", "src:src"), else what the document says the binary was
 * built from (SPDX GENERATED_FROM or sourceInfo, CycloneDX pedigree
 * ancestors, Trivy's SrcName/SrcVersion properties); the codename from the
 * distro qualifier ("debian-12" -> "bookworm") or the operating-system
 * component.  Bad input: -1 and one line naming the file. */
int cve_subject_from_sbom(const char *path, struct cve_subject *s, perr *e);
/* The same over the document's bytes (name for messages; fuzzing, tests). */
int cve_subject_from_sbom_buf(const char *name, const char *buf, size_t len,
			      struct cve_subject *s, perr *e);
/* The installed packages of dpkg status text (one or more paragraphs; those
 * whose Status is not "... installed" are left out) appended to s->pkgs.
 * name (the file) for messages: a paragraph without Package or Version is
 * -1 with NAME:LINE. */
int cve_subject_add_status(struct cve_subject *s, const char *name, const char *text, perr *e);

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
	char *strings;         /* NULL, or one allocation that id … first_seen (not vex_*) and
				* the binaries' strings point into (a fleet's copies) */
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

/* ---- output formats (sarif.c, vex.c; docs/cve.md) ------------------------
 * Each writes one deterministic JSON document (trailing newline) for the
 * whole report into out: findings in report order, no wall clock (the
 * document's date is the report's tracker_date, else kev_date, else
 * epss_date, else SOURCE_DATE_EPOCH, else 1970-01-01).  Suppressed findings
 * are written as suppressed, never left out. */
/* SARIF 2.1.0 as GitHub code scanning takes it: one run per subject
 * (automationDetails.id "pare-cve/NAME/ARCH/"), one rule per CVE with
 * security-severity, results located at the recipe file (else the subject). */
int cve_write_sarif(const struct cve_report *r, strbuf *out, perr *e);
/* OpenVEX 0.2.0: one statement per finding; products are the subjects
 * (pkg:oci/NAME[@DIGEST]?arch=ARCH), subcomponents the binaries' purls. */
int cve_write_openvex(const struct cve_report *r, strbuf *out, perr *e);
/* CycloneDX 1.5 VEX: the subjects and binaries as components, one
 * vulnerability per finding with its analysis. */
int cve_write_cdx_vex(const struct cve_report *r, strbuf *out, perr *e);
/* ---- the vulnerability attestation (vex.c; docs/cve.md) -------------------
 * pare build --sign-key and pare sign attach each image's OpenVEX document
 * as an in-toto attestation of OpenVEX's predicate type (what cosign's
 * --type openvex names) when the feeds are synced. */
#define CVE_VEX_PREDICATE_TYPE "https://openvex.dev/ns"
/* The OpenVEX document of each image manifest of the layout dir that has a
 * dpkg database, matched against the synced feeds: digests[i] gets the
 * manifest digest, docs[i] the document.  name is the image's name (the
 * products' pkg:oci/NAME); recipe_file (may be NULL) the recipe whose vex
 * statements apply. */
int cve_image_openvex(const char *dir, const char *name, const char *recipe_file,
		      strvec *digests, strvec *docs, perr *e);
/* Whether predicate (a verified statement's) is an OpenVEX document about
 * image manifest digest: its @context, and every product naming digest. */
struct cJSON;
int cve_vex_attestation_check(const struct cJSON *predicate, const char *digest, perr *e);

/* The document of format ("sarif", "openvex", "cyclonedx-vex") written to f
 * (what pare cve's --format takes); an unknown format is -1 and one line. */
int cve_print_format(FILE *f, const char *format, const struct cve_report *r, perr *e);
/* What to do about f: "rebuild: Debian ships the fix in VERSION" for a
 * fixable finding, else a sentence for its class (caller frees). */
char *cve_finding_action(const struct cve_finding *f);
/* The purl that names subject s as a product (caller frees). */
char *cve_subject_product(const struct cve_subject *s);

/* ---- VEX in (vexin.c; docs/cve.md "VEX in") ------------------------------
 * Statements from a recipe's vex: key or an OpenVEX / CycloneDX VEX file,
 * validated: an unknown status or justification, not_affected without a
 * justification, a statement naming no product: -1 and one line with
 * FILE:LINE:COLUMN (recipes) or FILE and the JSON path ($.statements[2].status). */
struct cve_vex_stmt {
	char *id;             /* the vulnerability */
	char **product;       /* purls: a product, or a product's subcomponent ... */
	char **sub;           /* ... which sub[i] names (NULL: the product as a whole) */
	size_t nproducts;
	char *status;         /* OpenVEX terms, a CycloneDX state mapped onto them */
	char *justification;  /* OpenVEX terms; NULL unless not_affected */
	char *statement;      /* impact / action statement / detail, or NULL */
	char *where;          /* for messages */
};
struct cve_vex {
	struct cve_vex_stmt *v;
	size_t n, alloc;
};
int cve_vex_load(const char *path, struct cve_vex *vex, perr *e);
int cve_vex_load_buf(const char *name, const char *buf, size_t len, struct cve_vex *vex, perr *e);
/* The recipe's statements and its vex file. */
int cve_vex_recipe(const struct recipe *r, struct cve_vex *vex, perr *e);
void cve_vex_release(struct cve_vex *vex);
/* Suppress (class CVE_SUPPRESSED, vex_* set) each fixable, open or
 * undetermined finding of the subjects (subject: an index, or SIZE_MAX for
 * all) that a not_affected or fixed statement names: the same vulnerability,
 * and a product purl matching the subject or one of the finding's binaries
 * (a subcomponent, when given, must match one of the binaries).  A purl
 * without version or qualifiers matches every version; those it has must
 * agree.  Returns how many findings it suppressed; the report is re-sorted
 * by nothing (classes change in place). */
size_t cve_vex_apply(const struct cve_vex *vex, struct cve_report *r, size_t subject);
/* For each subject with a recipe_file: that recipe's vex (loaded), applied
 * to it. */
int cve_vex_apply_recipes(struct cve_report *r, perr *e);

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
/* Whether the tracker has been synced (its index is in the cache). */
bool cve_synced(void);
int cve_sync(const struct cve_config *c, const char *from_dir, const char *lock, perr *e);

/* Subjects of recipes.lock: one per recipe and arch (names: only those
 * recipes, all when empty), the codename from the lock's repositories. */
int cve_lock_subjects(const char *lock, const char *recipes_dir, const strvec *names,
		      struct cve_subject **out, size_t *n, perr *e);
/* The same for one lock entry (e.g. a fresh resolution not written yet):
 * its subjects appended to *v (grown; *n counts them). */
int cve_recipe_subjects(const struct lock_recipe *r, const char *recipes_dir,
			struct cve_subject **v, size_t *n);
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
