/*
 * inventory.h - pare inventory (issue 21): every image, every package, since
 * when.  The facts are recipes.lock, the built layouts and the git history of
 * recipes.lock; the history is read once with libgit2 into a history index in
 * the pare cache (index.c: $cache/inventory/<key>.idx) and brought up to date
 * from the last indexed commit on every run.  query.c answers the questions
 * (--package, --cve, --image --at, --updates, the overview) as one table
 * printed as text, --json or --csv.
 *
 * Owns: the history index.  May include: common/, oci/ (layouts), resolver/
 * (the lock, the version order), signer/, cve/ (feeds, matching), rebuild/
 * (pare check's resolution for --updates) -- tests/layering checks it; only
 * cli/ includes this header.  libgit2 is used here (index.c) and in rebuild/.
 */
#ifndef PARE_INVENTORY_H
#define PARE_INVENTORY_H

#include "../common/common.h"

#include <stdint.h>

#define INV_OPEN UINT32_MAX /* an interval still open at the indexed tip */

/* One commit of the first-parent history of HEAD, oldest first. */
struct inv_commit {
	char id[41];
	int64_t time; /* committer time, seconds since the epoch */
};

/* An interval of commits [from, to) (indexes into inventory.commits; to is
 * INV_OPEN while present at the tip) in which an image and arch held one
 * binary package at one version built from one source version (pkg), or in
 * which the image and arch was in the lock at all (name NULL: the image
 * spans, with the codename of its first repository). */
struct inv_span {
	char *image, *arch;
	char *name, *version, *source, *source_version; /* NULL in image spans */
	char *codename;                                 /* image spans only; may be "" */
	uint32_t from, to;
};

/* What a "pare update" commit message says about an image: its new image
 * index digest (arch NULL) or an arch's manifest digest, and the change
 * lines under it (the reason). */
struct inv_event {
	uint32_t commit;
	char *image, *arch, *digest, *reason;
};

struct inventory {
	char *lock_rel;     /* recipes.lock's path in the repository */
	char *idx_path;     /* the history index file */
	struct inv_commit *commits; size_t ncommits;
	struct inv_span *pkgs; size_t npkgs;     /* in the order they opened */
	struct inv_span *images; size_t nimages;
	struct inv_event *events; size_t nevents; /* by commit */
	/* what the last inventory_open did: "built" (from nothing; also after a
	 * rewritten history), "updated" (N new commits) or "current" */
	const char *how;
	size_t new_commits;
	char *warning; /* NULL, or one line (uncommitted changes to recipes.lock) */
	struct inv_strings *strings; /* the spans' strings, each stored once (index.c) */
};

/* The history index of the git history of lock_file: read from the cache,
 * brought up to date from its tip (rebuilt from nothing when that tip is no
 * longer an ancestor of HEAD: a rewritten history), written back atomically
 * when it changed.  A lock not in a git repository: -1 and one line. */
int inventory_open(const char *lock_file, struct inventory *inv, perr *e);
void inventory_release(struct inventory *inv);

enum inventory_format { INV_TABLE, INV_JSON, INV_CSV };

struct inventory_opts {
	const char *lock;        /* recipes.lock */
	const char *recipes_dir; /* for --updates */
	const char *outroot;     /* the layouts (OUTROOT/NAME), default "out" */
	const char *key;         /* public key: verify signatures (else: present or not) */
	const char *package;     /* --package NAME[=VERSION|<VERSION] */
	const char *cve;         /* --cve CVE-… */
	const char *image, *at;  /* --image NAME --at DATE|COMMIT */
	bool updates;
	enum inventory_format format;
};

/* The question o asks (none: the overview), answered on f in o->format
 * (docs/inventory.md has the columns and the JSON schema).  Bad arguments:
 * -1 and one line. */
int inventory_run(const struct inventory_opts *o, FILE *f, perr *e);

#endif
