/* gitinfo.c - where the recipes came from: the git commit of the repository
 * that holds a recipe file, and whether its work tree was clean (libgit2,
 * never a git subprocess).  Recorded in the image annotations and, through
 * them, in the SLSA provenance. */
#include "rebuild.h"


#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* git_libgit2_init() is not cheap: Debian's libgit2 (mbedTLS) parses the
 * whole system CA bundle on every init — about as much work as a warm build
 * spends on all its cache checks.  So one init per process, shut down at
 * exit, instead of an init/shutdown pair per question. */
static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_shutdown(void)
{
	git_libgit2_shutdown();
}

static void git_init(void)
{
	git_libgit2_init();
	atexit(git_shutdown);
}

/* Whether libgit2 could find a repository holding dir: some directory from
 * dir (symlinks resolved, as libgit2 does) up to / has a ".git" (directory,
 * or file for worktrees and submodules) or is itself a bare repository (HEAD
 * and objects/).  Only ever says "no" when libgit2's discovery (without
 * GIT_REPOSITORY_OPEN_FROM_ENV, as below) would find nothing, so recipes
 * outside any repository do not pay for the init; libgit2 decides the rest. */
static bool may_be_in_repo(const char *dir)
{
	char *p = realpath(dir, NULL);
	bool found = false;

	if (!p)
		return true; /* let libgit2 report what it makes of it */
	for (;;) {
		char *dotgit = path_join(p, ".git"), *head = path_join(p, "HEAD");
		char *objects = path_join(p, "objects");
		char *slash;

		found = path_exists(dotgit) || (path_exists(head) && is_dir(objects));
		free(dotgit);
		free(head);
		free(objects);
		if (found || !(slash = strrchr(p, '/')) || slash == p)
			break;
		*slash = '\0';
	}
	if (!found) { /* the root itself */
		found = path_exists("/.git") || (path_exists("/HEAD") && is_dir("/objects"));
	}
	free(p);
	return found;
}

/* The repository holding recipe_file's directory, or NULL. */
static git_repository *open_repo(const char *recipe_file)
{
	git_repository *repo = NULL;
	char *dir = path_dirname(recipe_file);

	if (may_be_in_repo(dir)) {
		pthread_once(&git_once, git_init);
		if (git_repository_open_ext(&repo, dir, 0, NULL) < 0)
			repo = NULL;
	}
	free(dir);
	return repo;
}

int rebuild_git_info(const char *recipe_file, char **commit, bool *dirty)
{
	git_repository *repo = open_repo(recipe_file);
	git_status_list *st = NULL;
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = -1;

	*commit = NULL;
	*dirty = false;
	if (!repo || git_reference_name_to_id(&oid, repo, "HEAD") < 0)
		goto out; /* not in a repository, or no commit yet: nothing to record */
	git_oid_tostr(hex, sizeof(hex), &oid);
	/* Untracked files count: a recipe nobody committed makes the tree dirty. */
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&st, repo, &so) < 0)
		goto out;
	*dirty = git_status_list_entrycount(st) > 0;
	*commit = xstrdup(hex);
	ret = 0;
out:
	git_status_list_free(st);
	git_repository_free(repo);
	return ret;
}

char *rebuild_git_source_url(const char *recipe_file)
{
	git_repository *repo = open_repo(recipe_file);
	git_config *cfg = NULL;
	git_buf buf = GIT_BUF_INIT_CONST(NULL, 0);
	char *url = NULL;

	if (repo && git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&buf, cfg, "pare.sourceUrl") == 0 && buf.ptr && *buf.ptr)
		url = xstrdup(buf.ptr);
	if (repo) /* outside a repository libgit2 is never loaded (lazy/lazy.h) */
		git_buf_dispose(&buf);
	git_config_free(cfg);
	git_repository_free(repo);
	return url;
}
