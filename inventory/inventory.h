/*
 * inventory.h - pare inventory (issue 21): every image, every package, since
 * when.  The facts are recipes.lock, the built layouts and the git history of
 * recipes.lock; the history is read once with libgit2 into a history index in
 * the pare cache (index.c: $cache/inventory/<key>.idx, a binary file a question
 * reads in place) and brought up to date from the last indexed commit on
 * every run.  query.c answers the questions
 * (--package, --cve, --image --at, --updates, the overview) as one table
 * printed as text, --json or --csv.
 *
 * Owns: the history index.  May include: common/, oci/ (layouts), resolver/
 * (the lock, the version order), signer/, cve/ (feeds, matching), rebuild/
 * (pare check's resolution for --updates) -- tests/layering checks it; only
 * cli/ (and the fuzz target tests/fuzz/fuzz-inventory.c) includes this header.  libgit2 is used here (index.c) and in rebuild/.
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
 * spans, with the codename of its first repository).  The strings are the
 * index's (valid until inventory_release). */
struct inv_span {
	const char *image, *arch;
	const char *name, *version, *source, *source_version; /* NULL in image spans */
	const char *codename;                                 /* image spans only; may be "" */
	uint32_t from, to;
};

/* What a "pare update" commit message says about an image: its new image
 * index digest (arch NULL) or an arch's manifest digest, and the change
 * lines under it (the reason). */
struct inv_event {
	uint32_t commit;
	const char *image, *arch, *digest, *reason;
};

/* The history index, read in place (mmap) from the cache: a question looks
 * up only the records it needs (index.c has the format). */
struct inventory {
	char *lock_rel;     /* recipes.lock's path in the repository */
	char *idx_path;     /* the history index file */
	const struct inv_commit *commits; size_t ncommits;
	size_t npkgs;    /* package spans, numbered in the order they opened */
	size_t nimages;  /* image spans */
	size_t nevents;  /* by commit */
	size_t nsources; /* the source names any package span has, sorted */
	/* what the last inventory_open did: "built" (from nothing; also after a
	 * rewritten history or an index that did not check), "updated" (N new
	 * commits) or "current" */
	const char *how;
	size_t new_commits;
	char *warning; /* NULL, or one line (uncommitted changes to recipes.lock) */
	struct inv_view *view; /* the index's bytes (index.c) */
};

/* Record i (< npkgs, nimages, nevents, nsources) of the index. */
void inventory_pkg(const struct inventory *inv, uint32_t i, struct inv_span *s);
void inventory_image(const struct inventory *inv, uint32_t i, struct inv_span *s);
void inventory_event(const struct inventory *inv, uint32_t i, struct inv_event *v);
const char *inventory_source(const struct inventory *inv, size_t i);

enum inv_key {
	INV_BY_NAME,   /* the package spans of binary package key */
	INV_BY_SOURCE, /* of source package key */
	INV_BY_IMAGE,  /* of image key, arch arch */
};
/* The package spans of a key (binary search in the index's sorted tables):
 * their numbers, ascending (the order they opened), in *ids; how many. */
size_t inventory_find(const struct inventory *inv, enum inv_key k, const char *key,
		      const char *arch, const uint32_t **ids);

/* The index in buf (n bytes) read as inventory_open reads the file, without
 * the checksum when check_sum is false (the fuzz target); -1 and the reason
 * when it does not check.  inv is released with inventory_release. */
int inventory_index_load(const void *buf, size_t n, bool check_sum, struct inventory *inv,
			 perr *e);

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
