/*
 * resolver.h - the first stage: recipes, repositories, closure, lock.
 *
 *   recipe_load()      recipes/NAME.yaml (+ extends) -> struct recipe
 *   sources_*()        the machine's apt sources (when a recipe names none)
 *   resolver_lock()    verified InRelease -> Packages -> libsolv -> closure
 *   lock_*()           recipes.lock: read, write, compare
 *
 * libsolv and libyaml are used only inside this module.
 *
 * Owns recipes, apt sources, verified indexes and recipes.lock.  May
 * include: common/ (tests/layering checks it).
 */
#ifndef PARE_RESOLVER_H
#define PARE_RESOLVER_H

#include "../common/common.h"

/* ---- recipes ------------------------------------------------------------ */

struct recipe_repo {
	char *url;           /* base URL: http(s)://… or file:///… */
	strvec suites;       /* e.g. bookworm, bookworm-updates */
	strvec components;   /* e.g. main */
	char *keyring;       /* path to an OpenPGP keyring for gpgv; NULL = apt's trusted keyrings */
	bool trusted;        /* skip signature verification (warned every run) */
};

struct recipe_user {
	char *name;
	uint32_t uid, gid;
	char *home;          /* default /home/NAME */
	char *shell;         /* default /sbin/nologin */
};

struct recipe_group {
	char *name;
	uint32_t gid;
	strvec members;
};

enum recipe_path_type { RPATH_DIR, RPATH_SYMLINK, RPATH_PERMISSIONS };

struct recipe_path {
	enum recipe_path_type type;
	char *path;          /* absolute, normalised */
	char *target;        /* symlink target */
	int mode;            /* -1 = default */
	int64_t uid, gid;    /* -1 = default (root) */
	bool recursive;      /* permissions: apply to the subtree */
};

struct recipe_kv {
	char *key, *value;
};

/* One VEX statement of `vex:` (docs/recipes.md, docs/cve.md): what pare cve
 * suppresses for this recipe's images.  Validated when the recipe loads. */
struct recipe_vex {
	char *vulnerability; /* "CVE-2024-1234" */
	strvec products;     /* purls of products or subcomponents it is about */
	char *status;        /* OpenVEX: not_affected, affected, fixed, under_investigation */
	char *justification; /* OpenVEX justification; required with not_affected */
	char *statement;     /* impact or action statement, or NULL */
	char *where;         /* "FILE:LINE:COLUMN" of the statement */
};

struct recipe_dep {          /* a requested package with an optional constraint */
	char *name;
	char *op;            /* NULL, "<<", "<=", "=", ">=", ">>" */
	char *version;       /* NULL when op is NULL */
	char *from;          /* the recipe file that names it (basename; extends), for `why` */
	char *file;          /* that file as loaded (errors: FILE:LINE:COL), NULL if unknown */
	size_t line, col;    /* 1-based position of the entry in it */
};

struct recipe {
	char *name;
	char *description;
	char *path;              /* the file it was loaded from */
	char *sha256;            /* over the canonical form of the effective recipe (extends merged) */

	struct recipe_repo *repos; size_t nrepos;
	bool repos_from_host;    /* no `repositories:`: use the machine's apt sources */

	strvec archs;            /* default: the host's dpkg architecture */
	strvec tags;             /* image tags: the first is the layout's ref name, all are pushed */
	struct recipe_dep *packages; size_t npackages;
	strvec exclude;          /* never installed; alternatives are taken instead */
	strvec assume;           /* treated as installed, never shipped (defaults + recipe) */

	struct recipe_user *users; size_t nusers;    /* defaults: nonroot 65532 */
	struct recipe_group *groups; size_t ngroups;
	char *run_as;            /* user name or uid[:gid]; default "65532" */

	strvec entrypoint, cmd;
	bool has_entrypoint, has_cmd;
	strvec healthcheck;      /* exec-form health check command (config.Healthcheck); empty = none */
	strvec env;              /* "KEY=VALUE" in recipe order */
	char *workdir;
	struct recipe_kv *labels; size_t nlabels;
	struct recipe_kv *annotations; size_t nannotations;
	struct recipe_path *paths; size_t npaths;
	strvec strip;            /* extra path globs removed from the image */
	strvec keep;             /* globs kept although the default policy strips them */
	strvec allow;            /* "shell", "package-manager", "setuid" */
	bool strict;             /* the image checks' warnings are errors */
	/* vex: statements, and an OpenVEX / CycloneDX VEX file (its path joined
	 * to the directory of the recipe file naming it; NULL = none).  Not part
	 * of the recipe's sha256: they do not change the image. */
	struct recipe_vex *vex; size_t nvex;
	char *vex_file;
};

/* Load and validate FILE (following `extends:`).  Every problem names
 * file:line:column.  Returns NULL and fills e on error. */
struct recipe *recipe_load(const char *file, perr *e);
/* The same from memory: name is used in errors and as the base for a
 * relative `extends:` (the fuzz target's entry point). */
struct recipe *recipe_load_buf(const char *name, const char *buf, size_t n,
			       perr *e);
void recipe_free(struct recipe *r);
/* All recipes (*.yaml files) under dir, sorted by name. */
int recipe_list(const char *dir, strvec *files, perr *e);
/* The packages assumed present by default (documented in docs/recipes.md). */
extern const char *const recipe_default_assume[];

/* ---- apt sources ------------------------------------------------------- */

/* Read /etc/apt/sources.list and sources.list.d/{*.list,*.sources}
 * ($PARE_APT_DIR overrides /etc/apt, for tests).  deb-src entries are skipped. */
int sources_load_host(struct recipe_repo **repos, size_t *n, perr *e);
void repos_free(struct recipe_repo *repos, size_t n);

/* ---- locked closure ------------------------------------------------------ */

struct lock_repo {
	char *origin, *label, *suite, *codename;
	char *date;              /* InRelease Date: field, verbatim */
	int64_t date_epoch;
	char *inrelease_sha256;
	char *component;         /* NULL unless a lock entry is per component */
	char *url;               /* NOT written to the lock: runtime only */
};

/* The largest number recipes.lock holds (sizes; 2^53 - 1, the largest
 * integer a JSON reader's double keeps exactly, and the one after it is
 * not rounded down to it): a Packages index with more is refused, so
 * lock_read takes back whatever lock_write wrote. */
#define LOCK_NUM_MAX 9007199254740991ULL

/* A .deb's pool path is safe to join to a URL and a cache directory: not
 * empty, relative, no "." or ".." segment, no empty segment, no byte
 * <= ' ', no backslash (the Packages scan and lock_read both apply it). */
bool packages_filename_ok(const char *s);

struct lock_pkg {
	DEB_ID_MEMBERS;          /* arch is the lock's "architecture" */
	char *filename;          /* pool path, relative to the repository root */
	uint64_t size;
	char *sha256;
	uint64_t installed_size; /* KiB, from the index */
	int repo;                /* index into lock_recipe.repos */
	strvec required_by;      /* closure packages (or "recipe") that pull it in */
	strvec depends;          /* closure packages it pulls in (runtime only) */
	bool requested;          /* named in the recipe */
	char *maintainer;        /* runtime only: from the index; NULL when the
	                          * answer came from the resolution cache */
};

struct lock_arch {
	char *arch;
	struct lock_pkg *pkgs; size_t npkgs;   /* sorted by name */
};

struct lock_recipe {
	char *name;
	char *recipe_sha256;
	/* The image date (SOURCE_DATE_EPOCH default): the newest Release date
	 * when the resolution last changed.  0 in locks written before the
	 * field existed: lock_recipe_epoch() then falls back to the newest
	 * repository date, which is what those images were built with. */
	int64_t source_date_epoch;
	struct lock_repo *repos; size_t nrepos;
	struct lock_arch *archs; size_t narchs; /* sorted by arch */
};

struct lock {
	int version;                             /* 1 */
	struct lock_recipe *recipes; size_t nrecipes; /* sorted by name */
};

/* Read recipes.lock; a missing file gives an empty lock when missing_ok. */
int lock_read(const char *path, struct lock *l, bool missing_ok, perr *e);
/* The same from memory (name for messages): the fuzz target's entry point. */
int lock_read_buf(const char *name, const char *buf, size_t n, struct lock *l, perr *e);
/* Deterministic JSON (sorted, 2-space indent, trailing newline), atomically.
 * 0 written, 1 when path held these bytes already (left untouched), -1. */
int lock_write(const char *path, const struct lock *l, perr *e);
/* Serialise the writers of path (recipes.lock): an exclusive flock(2) on
 * the directory holding it, waited for; nothing is created.  Whoever merges
 * entries into the lock takes it, re-reads the lock under it and writes
 * before lock_unlock.  Returns the descriptor, or -1.  Unless journal_ok, an
 * error when an interrupted pare update left PATH.update-journal (only
 * pare update completes it; docs/update.md). */
int lock_acquire(const char *path, bool journal_ok, perr *e);
void lock_unlock(int fd);
/* lock_write's bytes, appended to out. */
void lock_format(const struct lock *l, strbuf *out);
void lock_release(struct lock *l);
struct lock_recipe *lock_find(const struct lock *l, const char *name);
/* Insert or replace one recipe's entry (takes ownership of its contents). */
void lock_put(struct lock *l, struct lock_recipe *r);
/* Remove the entry of recipe name (one that is no longer a recipe), keeping
 * the others in order; false when there is none. */
bool lock_drop(struct lock *l, const char *name);
/* The entry's image date: source_date_epoch, else the newest repository date. */
int64_t lock_recipe_epoch(const struct lock_recipe *r);
/* The date a fresh entry gets: the old entry's while nothing lock_changes
 * reports differs (Release files are re-signed daily; a new date alone must
 * not change the image), else the newest Release date of the new entry. */
int64_t lock_next_epoch(const struct lock_recipe *old, const struct lock_recipe *fresh);
void lock_recipe_release(struct lock_recipe *r);
/* Describe the differences between two entries, one line each, e.g.
 * "python3 amd64: libssl3 3.0.15-1~deb12u1 -> 3.0.16-1~deb12u1". */
void lock_diff(const struct lock_recipe *old, const struct lock_recipe *new,
	       strvec *lines);

/* The same differences, one struct each (pare check --json, pare update). */
enum lock_change_kind {
	LC_NEW_RECIPE,    /* not in the old lock */
	LC_GONE_RECIPE,   /* in the old lock, no longer a recipe */
	LC_RECIPE,        /* recipe_sha256 differs */
	LC_ARCH_ADDED, LC_ARCH_REMOVED,
	LC_ADDED,         /* package: new_version */
	LC_REMOVED,       /* package: old_version */
	LC_CHANGED,       /* package: old_version -> new_version */
	LC_DEB_CHANGED,   /* same version, another .deb: old/new_version hold the sha256s */
};
struct lock_change {
	enum lock_change_kind kind;
	char *recipe, *arch, *package; /* arch, package NULL where they do not apply */
	char *old_version, *new_version;
	char *version;                 /* LC_DEB_CHANGED: the (unchanged) version */
};
struct lock_changes {
	struct lock_change *v; size_t n, alloc;
};
/* Append the changes from old to new (either may be NULL, not both), in the
 * order lock_diff prints them. */
void lock_changes(const struct lock_recipe *old, const struct lock_recipe *new,
		  struct lock_changes *c);
void lock_changes_release(struct lock_changes *c);
/* lock_diff's line for one change; caller frees. */
char *lock_change_str(const struct lock_change *ch);
/* Debian version order (libsolv's evrcmp): <0, 0, >0. */
int resolver_vercmp(const char *a, const char *b);

/* ---- resolving ------------------------------------------------------------ */

struct resolve_opts {
	bool offline;            /* use cached indexes only, no network */
	const struct lock *previous; /* for rollback protection (may be NULL) */
};

/* Resolve one recipe for all its archs into out (fully owned by the caller). */
int resolver_lock(const struct recipe *r, const struct resolve_opts *o,
		  struct lock_recipe *out, perr *e);

/* Resolve n recipes at once into outs[0..n) (zeroed here, owned by the
 * caller; all freed on error).  Each distinct Release is fetched and
 * verified once, and each distinct (arch, repositories) pool is loaded once
 * and shared by every recipe that uses it: `pare check` of 20 recipes costs
 * one index load, not 20.  The answers are the ones resolver_lock gives. */
int resolver_lock_many(struct recipe *const *rs, size_t n, const struct resolve_opts *o,
		       struct lock_recipe *outs, perr *e);
/* resolver_lock_many, keeping going over recipes that do not resolve (pare
 * lock/check/update without --fail-fast): such a recipe's error goes to
 * errs[i] and outs[i] stays zeroed (name NULL).  Returns how many failed, or
 * -1 with e filled when what all share (a Release, the host's sources) fails. */
int resolver_lock_each(struct recipe *const *rs, size_t n, const struct resolve_opts *o,
		       struct lock_recipe *outs, perr *errs, perr *e);

/* Where the last resolver_lock() spent its time, in milliseconds, summed
 * over archs (pare --verbose lock, bench/resolve). */
struct resolver_timing {
	double release_ms;   /* fetch (or read) and gpgv-verify every Release */
	double load_ms;      /* Packages indexes into libsolv (.solv cache or parse) */
	double solve_ms;     /* assumed stubs, whatprovides, solver, closure */
	unsigned cached;     /* recipe archs answered by the resolution cache */
};
extern struct resolver_timing resolver_last_timing;

/* Dependency path from a requested package to pkg, e.g.
 * "python3 -> python3.11 -> libpython3.11-stdlib -> libssl3". */
int resolver_why(const struct lock_recipe *lr, const char *arch,
		 const char *pkg, strvec *paths, perr *e);

/* The repository base URL for a lock entry, from the recipe (or the host's
 * apt sources): lock files carry no URLs. */
int resolver_repo_url(const struct recipe *r, const struct lock_repo *lrepo,
		      char **url, perr *e);

/* Check a decompressed Packages index (name for messages) the way
 * resolver_lock does and count its packages: for tests and fuzzing. */
int packages_check(const char *name, const char *buf, size_t n, size_t *npkgs,
		   perr *e);

/* Host dpkg architecture (amd64, arm64, …). */
const char *resolver_host_arch(void);

#endif
