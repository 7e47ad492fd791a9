/*
 * rebuild.h - the continuous-rebuild service: what pare check / plan /
 * update / watch share (update.c): re-resolve recipes against today's
 * verified indexes, compare with recipes.lock, rebuild what changed (build,
 * sign, push: build.c, which pare build uses too), and commit the audit trail with the CVE ids the Debian
 * changelogs name (changelog.c) and the recipes' git state (gitinfo.c); the
 * CVEs a rebuild closes (cves.c) and the CVE response timeline (cvehist.c).
 *
 * Owns: nothing on disk but the commits it makes and the ref
 * refs/pare/cve-history (or LOCK.cve-history.json outside git).  May
 * include: common/, resolver/, builder/, signer/, registry/, oci/ (the
 * stages it drives), cve/ (the matching) and audit/ (the attestations
 * computed above signer/, attest.c); only cli/ includes this header.
 */
#ifndef PARE_REBUILD_H
#define PARE_REBUILD_H

#include "../common/common.h"
#include "../resolver/resolver.h"
#include "../cve/cve.h"

/* pare check's exit status when something changed (documented in
 * docs/update.md): 0 is "up to date", 1 "differs" for lock --check, 2 an
 * error; 3 is pare's "a rebuild is due". */
#define PARE_EXIT_CHANGED 3

struct rebuild_item {
	struct recipe *r;
	struct lock_recipe fresh;      /* today's resolution */
	const struct lock_recipe *old; /* in the current lock, or NULL */
	struct lock_changes ch;        /* old -> fresh */
};

struct rebuild_plan {
	struct lock lock;              /* recipes.lock as read */
	struct rebuild_item *items; size_t n;
	strvec gone;                   /* locked, no longer a recipe (only when all recipes) */
	/* keep going (not fail_fast): the recipes that did not load or resolve,
	 * not in items; failed[i] is the recipe's name (its file when it did
	 * not load), errors[i] its one-line error */
	strvec failed, errors;
	size_t nrecipes;               /* items + failed */
};

/* Load the recipe files (every recipe in rdir when files is empty), read
 * lockfile and resolve them all at once (rollback-protected against it).
 * fail_fast: the first recipe that does not load or resolve is the error;
 * else such recipes go to p->failed/errors and the others are planned
 * (no entry is "gone" while a recipe file does not load: its name is unknown). */
int rebuild_plan_make(const strvec *files, const char *rdir, const char *lockfile, bool offline,
		      bool fail_fast, struct rebuild_plan *p, perr *e);
void rebuild_plan_release(struct rebuild_plan *p);
/* Whether anything changed at all. */
bool rebuild_plan_changed(const struct rebuild_plan *p);

struct layer_remote;
struct rebuild_opts {
	const char *recipes_dir, *lock; /* cli_recipes_dir(), cli_lock_path() */
	const char *outroot;    /* --outroot (-o): OUTROOT/RECIPE each; default "out" */
	const char *sign_key;
	bool unsigned_ok;       /* --unsigned-ok: may replace a signed image unsigned */
	bool commit;
	const char *author;     /* "Name <email>"; NULL = the repository's config */
	const char *source_url;
	bool offline;
	bool print;             /* "NAME OLD -> NEW" per rebuilt image on stdout */
	bool fail_fast;         /* --fail-fast: stop at the first broken recipe */
	bool json;              /* update --json (cmd_update.c prints it) */
	strvec *errors;         /* if set: gets "RECIPE\tMESSAGE" per broken recipe */
	const struct layer_remote *remote; /* --cache-to / --cache-from (or NULL) */
};

/* One image (build.c): build recipe r from lock entry lr with bo
 * (builder_build), sign the complete layout with key in its staging
 * directory before it replaces anything (then bo's own finish hook, e.g. to
 * measure it), and push the final layout bo->outdir to push.  Fills
 * bo->git_commit / git_dirty from the recipe's repository and source_url
 * (default: its git config pare.sourceUrl) for the build; errors name the
 * recipe.  What pare build and pare update share. */
struct build_opts;
struct build_result;
struct registry_opts;
struct signer_key;
struct rebuild_build_opts {
	struct signer_key *key;          /* sign (NULL: unsigned) */
	const char *source_url;          /* --source-url, or NULL */
	bool lock_uncommitted;           /* built from a lock entry no commit holds yet: dirty */
	const char *push;                /* REF to push to when built, or NULL */
	const struct registry_opts *reg; /* with push */
};
int rebuild_build(const struct recipe *r, const struct lock_recipe *lr, struct build_opts *bo,
		  const struct rebuild_build_opts *o, struct build_result *res, perr *e);

/* Sign the layout in dir with key and attach the attestations computed
 * above signer/ (attest.c): per image manifest the benchmark report (pare
 * audit's pare-audit/1, AUDIT_PREDICATE_TYPE) and, when the CVE feeds are
 * synced, the image's OpenVEX document (else one note line says there is
 * none).  ref as for signer_sign_layout; recipes_dir: where the image's
 * recipe (allow list, vex statements) is looked up.  All or nothing (one
 * signer run, index.json written last). */
int rebuild_sign_layout(const char *dir, struct signer_key *key, const char *ref,
			const char *recipes_dir, perr *e);

/* pare audit: audit_path on each of paths into *reps; lock != NULL
 * (--rebuild): PARE-REPRO rebuilds each pare image's recipe from lock (once
 * per recipe, in a temporary directory of the cache removed afterwards) and
 * compares the manifest digests. */
struct audit_opts;
struct audit_report;
int rebuild_audit(char **paths, size_t n, struct audit_opts *o, const char *lock,
		  struct audit_report **reps, size_t *nreps, perr *e);
/* ---- the layer cache shared through a registry (remote.c) ----
 * Each entry is an OCI artifact tagged PARE_LAYER_CACHE_TAG + KEY (the
 * local layer cache key): artifactType PARE_AT_LAYER_CACHE, the empty
 * config, layers [metadata record (PARE_MT_LAYER_META), compressed layer],
 * the annotations below.  docs/cache.md#remote-layer-cache. */
#define PARE_LAYER_CACHE_TAG "pare-layer-"
#define PARE_AT_LAYER_CACHE "application/vnd.dev.pare.layer-cache.v1"
#define PARE_MT_LAYER_META "application/vnd.dev.pare.layer-meta.v1"
#define PARE_ANN_LAYER_CACHE_KEY "dev.pare.layer-cache.key"
#define PARE_ANN_LAYER_CACHE_DIFF_ID "dev.pare.layer-cache.diff-id"
#define PARE_ANN_LAYER_CACHE_EPOCH "dev.pare.layer-cache.epoch"
#define PARE_ANN_LAYER_CACHE_MAX_MTIME "dev.pare.layer-cache.max-mtime"

/* pare plan --format gitlab (gitlab.c): the pairs recipes[i], archs[i] as
 * a GitLab CI child pipeline in YAML (libyaml's emitter), one job "build
 * RECIPE ARCH" each that extends .pare-build with the variables RECIPE and
 * ARCH; none: one job that says nothing is due.  Appended to out. */
int rebuild_plan_gitlab(const strvec *recipes, const strvec *archs, strbuf *out, perr *e);

struct rebuild_cache;
struct layer_remote;
/* to: HOST/REPO to push entries to (NULL: none); from: HOST/REPO[,…] to
 * read them from, in order (NULL: none); reg: the registry options (kept
 * by reference).  A bad reference is the error (exit 2); a registry that
 * cannot be reached is only a warning when it is first used. */
int rebuild_cache_open(const char *to, const char *from, const struct registry_opts *reg,
		       struct rebuild_cache **out, perr *e);
/* What build_opts.remote takes (NULL when c is NULL or has no refs). */
const struct layer_remote *rebuild_cache_remote(struct rebuild_cache *c);
/* Prints what it did (a note: hits, misses, pushed) and frees c. */
void rebuild_cache_close(struct rebuild_cache *c);
/* pare cache prune --remote REF: deletes each pare-layer-KEY artifact of
 * the repository ref whose KEY is not in keep (dry_run: deletes nothing);
 * gone gets their tags, *kept counts the entries kept.  Only manifests of
 * pare's artifact type naming that key are deleted; other tags are never
 * touched.  1: done; 0: the registry refused a delete (405: deletes are
 * disabled; e says so, gone holds what went before); -1: an error. */
int rebuild_cache_prune_remote(const char *ref, const struct registry_opts *reg,
			       const strvec *keep, bool dry_run, strvec *gone, size_t *kept,
			       perr *e);

/* One pare update run.  rebuilt gets "NAME OLD-DIGEST -> NEW-DIGEST" per
 * rebuilt image (OLD "(none)" when there was no image).
 * A recipe that does not load, resolve or build is reported on stderr
 * ("pare: MSG") and left as it was (its lock entry, its image); the others
 * are written, and -1 is returned at the end.  fail_fast: nothing is
 * written (lock, images, commit) unless every build succeeded. */
int rebuild_update(const strvec *files, const struct rebuild_opts *o, strvec *rebuilt, perr *e);

/* "30s", "5m", "1h", "1h30m", "90" (seconds) -> seconds > 0; -1 if bad. */
int rebuild_parse_duration(const char *s, double *out);

/* Commit lock_file and the given recipe files to the repository holding
 * lock_file (libgit2), refusing over unrelated staged changes.  *id gets the
 * new commit's hex id.  message NULL: only the checks (repository, work tree,
 * staged changes, detached HEAD, index or HEAD ref locked, the author). */
int rebuild_git_commit(const char *lock_file, const char *recipes_dir, const strvec *files,
		       const char *message, const char *author, char **id, perr *e);

/* The commit of the git repository holding recipe_file and whether its tree
 * is dirty; -1 (and *commit NULL) when it is not in a repository. */
int rebuild_git_info(const char *recipe_file, char **commit, bool *dirty);
/* git config pare.sourceUrl of the repository holding recipe_file (NULL when
 * unset or not in a repository); caller frees. */
char *rebuild_git_source_url(const char *recipe_file);

/* The CVE ids (sorted, unique) that the Debian changelog of package pkg in
 * debpath mentions in its entries newer than old_version (NULL: all) up to
 * new_version (changelog.c).  No changelog in the .deb: none, no error. */
int rebuild_changelog_cves(const char *debpath, const char *pkg, const char *old_version,
		       const char *new_version, strvec *cves, perr *e);
/* The same over an uncompressed changelog text (unit tests, fuzzing). */
int rebuild_changelog_cves_text(const char *text, size_t n, const char *old_version,
			const char *new_version, strvec *cves);

/* ---- the CVEs a rebuild closes (cves.c; docs/cve.md "Into the pipeline") ----
 * For every changed recipe of a plan that is in the lock: the fixable
 * findings of its locked closure (per arch) that its fresh closure no
 * longer has exposed, in cve/'s priority order (KEV first).  Without synced
 * feeds, synced is false and there is no list: "unknown", never "none". */
struct rebuild_fix {
	const struct cve_finding *f; /* the locked closure's finding, in report */
	const char *recipe, *arch;   /* its subject's */
	char *new_version;           /* the source's version in the fresh closure; NULL: gone */
};
struct rebuild_cves {
	bool synced;
	struct cve_report report;    /* locked and fresh closures matched */
	struct rebuild_fix *v;
	size_t n;
};
int rebuild_plan_cves(const struct rebuild_plan *p, struct rebuild_cves *out, perr *e);
void rebuild_cves_release(struct rebuild_cves *c);
/* JSON (cJSON objects the caller adds to its document): the feeds
 * {"synced", "feeds": {tracker, kev, epss}, "stale"}, and one recipe's
 * {["recipe" when named,] "count", "kev", "kev_ransomware", "priority",
 * "highest", "fixes": […]} (null when not synced). */
struct cJSON;
struct cJSON *rebuild_cves_feeds_json(const struct rebuild_cves *c);
struct cJSON *rebuild_cves_recipe_json(const struct rebuild_cves *c, const char *recipe, bool named);
/* A finding's "kev" (null | {date_added, due_date, ransomware}), "epss"
 * (null | {probability, percentile}) and "urgency" added to o. */
void rebuild_cve_risk_json(struct cJSON *o, const struct cve_finding *f);
/* update --commit's trailers (git interpret-trailers form), one per fix of
 * the named recipes: "Pare-CVE-Fixed: ID RECIPE ARCH SOURCE OLD -> NEW[ kev|
 * kev-ransomware]" after "Pare-CVE-Feeds: tracker DATE" (or ": not synced"). */
#define REBUILD_TRAILER_FIXED "Pare-CVE-Fixed"
#define REBUILD_TRAILER_FEEDS "Pare-CVE-Feeds"
#define REBUILD_TRAILER_IMAGE "Pare-Image"
void rebuild_cves_trailers(const struct rebuild_cves *c, const strvec *recipes, strbuf *out);

/* ---- the CVE response timeline (cvehist.c; docs/cve.md "Response timeline") ----
 * Per (image, arch, CVE): first seen affecting it, a fix first seen, the
 * rebuild that fixed it.  Kept in the repository holding the lock as the
 * ref refs/pare/cve-history (a commit whose tree holds cve-history.json),
 * else in LOCK.cve-history.json.  Times are RFC 3339 UTC, NULL when unknown. */
struct rebuild_hist_entry {
	char *image, *arch, *id, *source;
	char *first_affected, *fix_available;
	char *fixed_at, *digest, *commit; /* fixed_at NULL: not fixed yet */
};
struct rebuild_history {
	struct rebuild_hist_entry *v;
	size_t n, alloc;
	char *where; /* the ref and repository, or the file (messages) */
};
void rebuild_history_release(struct rebuild_history *h);
/* Record at now what report r shows: an exposed finding (fixable, open,
 * undetermined) of an image and arch the record does not have affecting it
 * is new (*fresh gets its index in r->findings; caller frees); a fixable one
 * marks the fix available.  Written only when something changed. */
int rebuild_history_observe(const char *lockfile, const struct cve_report *r, int64_t now,
			    size_t **fresh, size_t *nfresh, perr *e);
/* Record the fixes of cv whose recipe is images[i], rebuilt as digests[i]
 * (the image index), in commit (NULL: none) at now. */
int rebuild_history_fixed(const char *lockfile, const struct rebuild_cves *cv,
			  const strvec *images, const strvec *digests, const char *commit,
			  int64_t now, perr *e);
/* The record, completed from the Pare-CVE-Fixed / Pare-Image trailers of
 * HEAD's history (a fixed entry's commit; fixes the record lacks), sorted
 * by image, arch, id. */
int rebuild_history_read(const char *lockfile, struct rebuild_history *h, perr *e);
/* pare cve --history: the entries of images (all when empty) with their
 * time to fix (first affected -> fixed) and fix to ship (fix available ->
 * fixed), and the median / max of both; a table, or JSON (docs/cve.md). */
int rebuild_history_print(FILE *f, const struct rebuild_history *h, const strvec *images,
			  bool json, perr *e);

#endif
