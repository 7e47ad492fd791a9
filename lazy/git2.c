/* lazy/git2.c - the libgit2 functions pare calls, loaded on first use (lazy.h).
 * One line a function: library, return type, name, the header's parameters, the call. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <git2.h>

#include "lazy_int.h"

/* clang-format off */
LAZY(git2, int, git_blob_create_from_buffer, (git_oid *a1, git_repository *a2, const void *a3, size_t a4), (a1, a2, a3, a4))
LAZY_FREE(git2, git_blob_free, (git_blob *a1), (a1))
LAZY(git2, int, git_blob_lookup, (git_blob **a1, git_repository *a2, const git_oid *a3), (a1, a2, a3))
LAZY(git2, const void *, git_blob_rawcontent, (const git_blob *a1), (a1))
LAZY(git2, git_object_size_t, git_blob_rawsize, (const git_blob *a1), (a1))
LAZY_VOID(git2, git_buf_dispose, (git_buf *a1), (a1))
LAZY(git2, int, git_commit_create, (git_oid *a1, git_repository *a2, const char *a3, const git_signature *a4, const git_signature *a5, const char *a6, const char *a7, const git_tree *a8, size_t a9, const git_commit **a10), (a1, a2, a3, a4, a5, a6, a7, a8, a9, a10))
LAZY_FREE(git2, git_commit_free, (git_commit *a1), (a1))
LAZY(git2, int, git_commit_lookup, (git_commit **a1, git_repository *a2, const git_oid *a3), (a1, a2, a3))
LAZY(git2, const char *, git_commit_message, (const git_commit *a1), (a1))
LAZY(git2, const git_oid *, git_commit_parent_id, (const git_commit *a1, unsigned int a2), (a1, a2))
LAZY(git2, unsigned int, git_commit_parentcount, (const git_commit *a1), (a1))
LAZY(git2, git_time_t, git_commit_time, (const git_commit *a1), (a1))
LAZY(git2, int, git_commit_tree, (git_tree **a1, const git_commit *a2), (a1, a2))
LAZY_FREE(git2, git_config_free, (git_config *a1), (a1))
LAZY(git2, int, git_config_get_string_buf, (git_buf *a1, const git_config *a2, const char *a3), (a1, a2, a3))
LAZY(git2, const git_error *, git_error_last, (), ())
LAZY(git2, int, git_graph_descendant_of, (git_repository *a1, const git_oid *a2, const git_oid *a3), (a1, a2, a3))
LAZY(git2, int, git_index_add_bypath, (git_index *a1, const char *a2), (a1, a2))
LAZY_FREE(git2, git_index_free, (git_index *a1), (a1))
LAZY(git2, int, git_index_write, (git_index *a1), (a1))
LAZY(git2, int, git_index_write_tree, (git_oid *a1, git_index *a2), (a1, a2))
LAZY(git2, int, git_libgit2_init, (), ())
LAZY(git2, int, git_libgit2_shutdown, (), ())
LAZY_VOID(git2, git_message_trailer_array_free, (git_message_trailer_array *a1), (a1))
LAZY(git2, int, git_message_trailers, (git_message_trailer_array *a1, const char *a2), (a1, a2))
LAZY(git2, int, git_odb_hashfile, (git_oid *a1, const char *a2, git_object_t a3), (a1, a2, a3))
LAZY(git2, int, git_oid_equal, (const git_oid *a1, const git_oid *a2), (a1, a2))
LAZY(git2, int, git_oid_fromstr, (git_oid *a1, const char *a2), (a1, a2))
LAZY(git2, char *, git_oid_tostr, (char *a1, size_t a2, const git_oid *a3), (a1, a2, a3))
LAZY(git2, int, git_reference_create, (git_reference **a1, git_repository *a2, const char *a3, const git_oid *a4, int a5, const char *a6), (a1, a2, a3, a4, a5, a6))
LAZY(git2, int, git_reference_create_matching, (git_reference **a1, git_repository *a2, const char *a3, const git_oid *a4, int a5, const git_oid *a6, const char *a7), (a1, a2, a3, a4, a5, a6, a7))
LAZY_FREE(git2, git_reference_free, (git_reference *a1), (a1))
LAZY(git2, int, git_reference_lookup, (git_reference **a1, git_repository *a2, const char *a3), (a1, a2, a3))
LAZY(git2, int, git_reference_name_to_id, (git_oid *a1, git_repository *a2, const char *a3), (a1, a2, a3))
LAZY(git2, const char *, git_reference_symbolic_target, (const git_reference *a1), (a1))
LAZY(git2, git_reference_t, git_reference_type, (const git_reference *a1), (a1))
LAZY(git2, int, git_repository_config_snapshot, (git_config **a1, git_repository *a2), (a1, a2))
LAZY_FREE(git2, git_repository_free, (git_repository *a1), (a1))
LAZY(git2, int, git_repository_head_detached, (git_repository *a1), (a1))
LAZY(git2, int, git_repository_index, (git_index **a1, git_repository *a2), (a1, a2))
LAZY(git2, int, git_repository_is_bare, (const git_repository *a1), (a1))
LAZY(git2, int, git_repository_open_ext, (git_repository **a1, const char *a2, unsigned int a3, const char *a4), (a1, a2, a3, a4))
LAZY(git2, const char *, git_repository_path, (const git_repository *a1), (a1))
LAZY(git2, const char *, git_repository_workdir, (const git_repository *a1), (a1))
LAZY_FREE(git2, git_revwalk_free, (git_revwalk *a1), (a1))
LAZY(git2, int, git_revwalk_hide, (git_revwalk *a1, const git_oid *a2), (a1, a2))
LAZY(git2, int, git_revwalk_new, (git_revwalk **a1, git_repository *a2), (a1, a2))
LAZY(git2, int, git_revwalk_next, (git_oid *a1, git_revwalk *a2), (a1, a2))
LAZY(git2, int, git_revwalk_push, (git_revwalk *a1, const git_oid *a2), (a1, a2))
LAZY(git2, int, git_revwalk_push_head, (git_revwalk *a1), (a1))
LAZY(git2, int, git_revwalk_simplify_first_parent, (git_revwalk *a1), (a1))
LAZY(git2, int, git_revwalk_sorting, (git_revwalk *a1, unsigned int a2), (a1, a2))
LAZY(git2, int, git_signature_default, (git_signature **a1, git_repository *a2), (a1, a2))
LAZY_FREE(git2, git_signature_free, (git_signature *a1), (a1))
LAZY(git2, int, git_signature_now, (git_signature **a1, const char *a2, const char *a3), (a1, a2, a3))
LAZY(git2, const git_status_entry *, git_status_byindex, (git_status_list *a1, size_t a2), (a1, a2))
LAZY(git2, size_t, git_status_list_entrycount, (git_status_list *a1), (a1))
LAZY_FREE(git2, git_status_list_free, (git_status_list *a1), (a1))
LAZY(git2, int, git_status_list_new, (git_status_list **a1, git_repository *a2, const git_status_options *a3), (a1, a2, a3))
LAZY(git2, const git_tree_entry *, git_tree_entry_byname, (const git_tree *a1, const char *a2), (a1, a2))
LAZY(git2, int, git_tree_entry_bypath, (git_tree_entry **a1, const git_tree *a2, const char *a3), (a1, a2, a3))
LAZY_FREE(git2, git_tree_entry_free, (git_tree_entry *a1), (a1))
LAZY(git2, const git_oid *, git_tree_entry_id, (const git_tree_entry *a1), (a1))
LAZY(git2, git_object_t, git_tree_entry_type, (const git_tree_entry *a1), (a1))
LAZY_FREE(git2, git_tree_free, (git_tree *a1), (a1))
LAZY(git2, int, git_tree_lookup, (git_tree **a1, git_repository *a2, const git_oid *a3), (a1, a2, a3))
LAZY_FREE(git2, git_treebuilder_free, (git_treebuilder *a1), (a1))
LAZY(git2, int, git_treebuilder_insert, (const git_tree_entry **a1, git_treebuilder *a2, const char *a3, const git_oid *a4, git_filemode_t a5), (a1, a2, a3, a4, a5))
LAZY(git2, int, git_treebuilder_new, (git_treebuilder **a1, git_repository *a2, const git_tree *a3), (a1, a2, a3))
LAZY(git2, int, git_treebuilder_write, (git_oid *a1, git_treebuilder *a2), (a1, a2))

/* The variadic one: git_libgit2_opts' arguments depend on the option, so only the options
 * pare sets are passed on (common.h documents each one's types); another is a programming
 * error, said as such. */
int git_libgit2_opts(int option, ...)
{
	LAZY_FN(git2, git_libgit2_opts)
	va_list ap;
	int r;
	va_start(ap, option);
	switch (option) {
	case GIT_OPT_SET_CACHE_OBJECT_LIMIT: {
		int type = va_arg(ap, int);
		r = fn_(option, type, va_arg(ap, size_t));
		break;
	}
	case GIT_OPT_SET_CACHE_MAX_SIZE:
		r = fn_(option, va_arg(ap, ssize_t));
		break;
	case GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION:
	case GIT_OPT_ENABLE_CACHING:
	case GIT_OPT_ENABLE_STRICT_OBJECT_CREATION:
	case GIT_OPT_SET_OWNER_VALIDATION:
		r = fn_(option, va_arg(ap, int));
		break;
	default:
		fprintf(stderr, "pare: internal error: git_libgit2_opts(%d) is not passed on by lazy/git2.c\n", option);
		abort();
	}
	va_end(ap);
	return r;
}
