/*
 * update_int.h - builder-private: what pare check / plan / update / watch
 * share (update.c): re-resolve recipes against today's verified indexes,
 * compare with recipes.lock, rebuild what changed, commit the audit trail.
 */
#ifndef PARE_BUILDER_UPDATE_INT_H
#define PARE_BUILDER_UPDATE_INT_H

#include "../common/common.h"
#include "../resolver/resolver.h"

/* pare check's exit status when something changed (documented in
 * docs/update.md): 0 is "up to date", 1 "differs" for lock --check, 2 an
 * error; 3 is pare's "a rebuild is due". */
#define PARE_EXIT_CHANGED 3

struct upd_item {
	struct recipe *r;
	struct lock_recipe fresh;      /* today's resolution */
	const struct lock_recipe *old; /* in the current lock, or NULL */
	struct lock_changes ch;        /* old -> fresh */
};

struct upd_plan {
	struct lock lock;              /* recipes.lock as read */
	struct upd_item *items; size_t n;
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
int upd_plan_make(const strvec *files, const char *rdir, const char *lockfile, bool offline,
		  bool fail_fast, struct upd_plan *p, perr *e);
void upd_plan_free(struct upd_plan *p);
/* Whether anything changed at all. */
bool upd_plan_changed(const struct upd_plan *p);

struct update_opts {
	const char *recipes_dir, *lock; /* recipes_dir(), lock_path() */
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
};

/* One pare update run.  rebuilt gets "NAME OLD-DIGEST -> NEW-DIGEST" per
 * rebuilt image (OLD "(none)" when there was no image).
 * A recipe that does not load, resolve or build is reported on stderr
 * ("pare: MSG") and left as it was (its lock entry, its image); the others
 * are written, and -1 is returned at the end.  fail_fast: nothing is
 * written (lock, images, commit) unless every build succeeded. */
int update_run(const strvec *files, const struct update_opts *o, strvec *rebuilt, perr *e);

/* The recipe files named on the command line (recipe_path_for each). */
void update_files(char **args, int nargs, strvec *files);

/* Parse update's options (plus extra ones handed to extra_fn) with getopt;
 * returns the index of the first RECIPE argument, or -1. */
struct option;
int update_parse(int argc, char **argv, struct update_opts *o, const struct option *extra,
		 int (*extra_fn)(int c, const char *arg, void *ctx, perr *e), void *ctx, perr *e);
/* "30s", "5m", "1h", "1h30m", "90" (seconds) -> seconds > 0; -1 if bad. */
int parse_duration(const char *s, double *out);

/* Commit lock_file and the given recipe files to the repository holding
 * lock_file (libgit2), refusing over unrelated staged changes.  *id gets the
 * new commit's hex id.  message NULL: only the checks (repository, work tree,
 * staged changes, detached HEAD, index or HEAD ref locked, the author). */
int git_commit_files(const char *lock_file, const char *recipes_dir, const strvec *files,
		     const char *message, const char *author, char **id, perr *e);

#endif
