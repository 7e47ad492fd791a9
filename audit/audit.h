/*
 * audit.h - pare audit and pare report: CIS Docker Benchmark v1.6.0 §4,
 * NIST SP 800-190 §4.1 and Dockle checks computed from a finished image
 * (its config and layers), so they work on images pare did not build
 * (docs/audit.md).
 *
 * Owns: the image reader (every file of an image with whiteouts applied,
 * from a layout or an oci-archive), the checks, and their outputs (table,
 * JSON pare-audit/1, SARIF 2.1.0, the static HTML dashboard).
 *
 * May include: common/, oci/ (the layout input), resolver/ (a recipe's allow
 * list and health check), sbom/, signer/ (verifying signatures and
 * attestations), cve/ (CIS 4.4 against the synced feeds) -- tests/layering
 * checks it.  Only cli/ and rebuild/ (the benchmark attestation, audit
 * --rebuild) include this header.
 */
#ifndef PARE_AUDIT_H
#define PARE_AUDIT_H

#include "../common/common.h"

#include <sys/stat.h>

struct cJSON;

/* ---- the image reader -------------------------------------------------------- */

/* Regular files up to this size carry their contents (passwd, keys, configs). */
#define AUDIT_SMALL (16u << 10)
/* …and these up to AUDIT_SYSTEM_MAX: /etc/{passwd,group,shadow,gshadow},
 * /var/lib/dpkg/status and status.d/…, /usr/share/sbom/… */
#define AUDIT_SYSTEM_MAX (64u << 20)

struct audit_file {
	char *path;      /* "/usr/bin/x": absolute, no trailing '/' ("/" for the root) */
	mode_t mode;     /* file type and permission bits (S_IFREG | 04755, …) */
	uint32_t uid, gid;
	uint64_t size;
	char *link;      /* symlink target as written, or a hard link's target path */
	bool hardlink;
	size_t layer;    /* index of the layer that last wrote it */
	char *data;      /* contents (NUL-terminated) when small enough, else NULL */
	size_t ndata;
};

struct audit_image {
	char *source;      /* what was given: a layout directory or an oci-archive */
	char *platform;    /* "linux/amd64" */
	char *digest;      /* the image manifest's "sha256:…" */
	char *ref;         /* org.opencontainers.image.ref.name, or NULL */
	struct cJSON *manifest, *config;
	strvec layers;     /* layer digests, bottom first */
	struct audit_file *files; /* the merged root file system, sorted by path */
	size_t nfiles;
};

/* The image manifests an OCI layout directory names (through image indexes,
 * at most 4 deep; cosign signatures, attestations and SBOM artifacts left
 * out), in index order: digests in *digests, "OS/ARCH[/VARIANT]" in *plats. */
int audit_layout_images(const char *dir, strvec *digests, strvec *plats, perr *e);
/* Read image manifest digest of the layout dir: config and every layer,
 * merged bottom to top with OCI whiteouts (.wh.NAME removes NAME,
 * .wh..wh..opq the directory's earlier contents).  Every blob is checked
 * against its digest. */
int audit_image_read(const char *dir, const char *digest, const char *platform,
		     struct audit_image *img, perr *e);
void audit_image_release(struct audit_image *img);
/* The file at absolute path, or NULL. */
const struct audit_file *audit_file_find(const struct audit_image *img, const char *path);

/* ---- the checks ------------------------------------------------------------------ */

enum audit_result {
	AUDIT_PASS = 0,
	AUDIT_FAIL,
	AUDIT_WARN,
	AUDIT_NA,      /* not applicable (the reason in evidence) */
	AUDIT_MANUAL,  /* cannot be decided from the image (the reason in evidence) */
	AUDIT_NRESULTS
};
/* "pass", "fail", "warn", "not-applicable", "manual" */
const char *audit_result_name(enum audit_result r);

/* A check: stable id and its mapping (docs/audit.md has the table). */
struct audit_rule {
	const char *id;          /* "PARE-CIS-4.1" */
	const char *title;
	const char *cis;         /* CIS Docker Benchmark v1.6.0 item, "" when none */
	const char *nist;        /* NIST SP 800-190 countermeasure section, "" when none */
	const char *dockle;      /* Dockle id, "" when none */
	const char *description; /* what is checked and why */
	const char *remediation; /* what to do (and what pare does at build time) */
	double severity;         /* security-severity for SARIF (0.0-10.0) */
};
extern const struct audit_rule audit_rules[];
extern const size_t audit_nrules;

struct audit_finding {
	const struct audit_rule *rule;
	enum audit_result result;
	strvec evidence;         /* one line each: "PATH (package P, layer N)", "config.User=…" */
};

struct audit_opts {
	const char *key;         /* --key PUB: verify signatures and attestations; NULL = not */
	const char *recipes_dir; /* where a pare image's recipe is looked up (its allow list) */
	int64_t now;             /* the time the image's age is measured against */
	/* --rebuild: *digest gets the manifest digest (caller frees) that
	 * recipe rebuilds to from recipes.lock for img's platform; NULL:
	 * PARE-REPRO is "manual" (rebuild/ does it: the builder sits above
	 * audit/) */
	int (*rebuild)(const struct audit_image *img, const char *recipe, char **digest, void *arg,
		       perr *e);
	void *rebuild_arg;
	/* the report is the benchmark attestation pare sign is making: the
	 * layout counts as signed and attested (not verified), whether or not
	 * it was before, so that signing again finds the same report */
	bool signing;
};

/* One image's audit. */
struct audit_report {
	struct audit_image img;
	struct audit_finding *findings; /* in audit_rules order */
	size_t nfindings;
	size_t counts[AUDIT_NRESULTS];
	size_t npackages;        /* dpkg status.d (or status) entries */
	bool is_pare;            /* built by pare (its manifest annotations) */
	char *recipe;            /* dev.pare.recipe.name, or NULL */
	char *signature;         /* "verified", "present (not verified)", "absent", "invalid: …" */
	strvec sboms;            /* SBOM paths in the image (/usr/share/sbom/…) */
};

/* Audit every image of path (a layout or an oci-archive): appends one report
 * per image manifest to *reps. */
int audit_path(const char *path, const struct audit_opts *o, struct audit_report **reps,
	       size_t *nreps, perr *e);
void audit_reports_free(struct audit_report *reps, size_t n);

/* User resolution for CIS 4.1 (exposed for the unit tests): config.User
 * ("", "root", "0", "0:0", "name:group", "uid") against the passwd text;
 * *uid gets the uid, *name the passwd entry's line start (NULL when the
 * user is numeric and not in passwd).  0 resolved, -1 not resolvable (a
 * name not in passwd) with the reason in why. */
int audit_user_resolve(const char *user, const char *passwd, long *uid, char **entry,
		       strbuf *why);
/* Whether an environment or label key names a secret (PASSWORD, TOKEN, …). */
bool audit_secret_key(const char *key);
/* The name of the token pattern s holds (AWS access key id, GitHub token,
 * private key block, …), or NULL; never the match itself. */
const char *audit_token_kind(const char *s, size_t n);

/* The CVE counts of check 4.4, once the CVE feeds (issue 19) exist: fills
 * f and returns 1 when feeds were found, 0 when there are none (then 4.4
 * is "manual" saying why).  Today there is no feed reader: 0. */
int audit_cve_fill(const struct audit_image *img, struct audit_finding *f, perr *e);

/* ---- outputs --------------------------------------------------------------------- */

enum audit_fail_on { AUDIT_FAIL_ON_NONE = 0, AUDIT_FAIL_ON_FAIL, AUDIT_FAIL_ON_WARN };
/* 1 when a report has a result at or above fail_on, else 0. */
int audit_exit_status(const struct audit_report *reps, size_t n, enum audit_fail_on fail_on);

void audit_print_table(FILE *f, const struct audit_report *reps, size_t n);
/* pare-audit/1 (docs/audit.md) */
struct cJSON *audit_json(const struct audit_report *reps, size_t n);
/* SARIF 2.1.0 */
struct cJSON *audit_sarif(const struct audit_report *reps, size_t n);

/* ---- the benchmark attestation (output.c; docs/audit.md) ------------------------ */

/* The in-toto predicate type of pare's benchmark attestation, whose predicate
 * is the pare-audit/1 report of one image (a non-resolvable URI, as
 * SIGNER_SLSA_BUILD_TYPE). */
#define AUDIT_PREDICATE_TYPE "https://pare.invalid/attestation/audit/v1"
/* The report of each image manifest of the layout dir as attested: digests[i]
 * the manifest digest, docs[i] its pare-audit/1 report (unformatted JSON,
 * one image, "source" = name, NULL: the recipe's name).  Audited without a key
 * at time now, as the layout will be once signed (audit_opts.signing). */
int audit_attestations(const char *dir, const char *name, const char *recipes_dir, int64_t now,
		       strvec *digests, strvec *docs, perr *e);
/* Whether predicate (a verified statement's) is a pare-audit/1 report about
 * image manifest digest and nothing else. */
int audit_attestation_check(const struct cJSON *predicate, const char *digest, perr *e);
/* The checks pare verify (and audit --key) runs on the attestations defined
 * above signer/: the benchmark's and the vulnerability attestation's. */
struct signer_predicate_check;
const struct signer_predicate_check *audit_attestation_checks(size_t *n);

/* pare report: index.html (the grid) and one page per image in dir
 * (created; files written atomically; a directory holding anything but
 * what a report writes is refused). */
int audit_html_write(const char *dir, const struct audit_report *reps, size_t n, perr *e);
/* s escaped for HTML text and attribute values (& < > " ' and control
 * characters), appended to sb: the one escaping of every page pare writes
 * (the evidence pack's index.html too). */
void audit_html_escape(strbuf *sb, const char *s);

#endif
