/* gitinfo.c - where the recipes came from: the git commit of the repository
 * that holds a recipe file, and whether its work tree was clean (libgit2,
 * never a git subprocess).  Recorded in the image annotations and, through
 * them, in the SLSA provenance. */
#include "builder.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

int builder_git_info(const char *recipe_file, char **commit, bool *dirty)
{
	git_repository *repo = NULL;
	git_status_list *st = NULL;
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1], *dir = path_dirname(recipe_file);
	int ret = -1;

	*commit = NULL;
	*dirty = false;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0 ||
	    git_reference_name_to_id(&oid, repo, "HEAD") < 0)
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
	git_libgit2_shutdown();
	free(dir);
	return ret;
}

char *builder_git_source_url(const char *recipe_file)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf buf = GIT_BUF_INIT_CONST(NULL, 0);
	char *dir = path_dirname(recipe_file), *url = NULL;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) == 0 &&
	    git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&buf, cfg, "pare.sourceUrl") == 0 && buf.ptr && *buf.ptr)
		url = xstrdup(buf.ptr);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(dir);
	return url;
}
