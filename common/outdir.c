/*
 * outdir.c - what pare may replace.  An output path is replaced only when it
 * does not exist, is an empty directory, or is an OCI image layout pare
 * wrote: oci-layout, index.json and blobs/sha256/HEX and nothing else, with
 * pare's marker (the top-level annotation dev.pare.layout in index.json; the
 * top-level index.json is not a blob, so no digest moves) or, for layouts of
 * pare versions before the marker, a dev.pare.* annotation on one of its
 * index.json entries.  Every rename over an output comes through here
 * (docs/image.md, "What pare never deletes").
 */
#define _GNU_SOURCE /* renameat2 */
#include "common.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void out_mark_index(cJSON *index)
{
	cJSON *ann = cJSON_GetObjectItemCaseSensitive(index, "annotations");

	if (!cJSON_IsObject(ann))
		ann = cJSON_AddObjectToObject(index, "annotations");
	if (!cJSON_GetObjectItemCaseSensitive(ann, OUT_MARKER))
		cJSON_AddStringToObject(ann, OUT_MARKER, "1");
}

bool out_index_is_pare(const cJSON *index)
{
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(index, "annotations"), *d, *a;

	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ann, OUT_MARKER)))
		return true;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests"))
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(d, "annotations"))
			if (a->string && str_starts(a->string, "dev.pare."))
				return true;
	return false;
}

bool out_index_is_signed(const cJSON *index)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(d, "annotations"),
			"org.opencontainers.image.ref.name");
		size_t n = cJSON_IsString(r) ? strlen(r->valuestring) : 0;

		if (n > 4 && str_starts(r->valuestring, "sha256-") &&
		    !strcmp(r->valuestring + n - 4, ".sig"))
			return true;
	}
	return false;
}

int out_check_signed(const cJSON *index, const char *path, unsigned flags, perr *e)
{
	if (!(flags & (OUT_SIGNED | OUT_UNSIGNED_OK)) && out_index_is_signed(index)) {
		perr_set(e, "%s: not replaced: it holds a signed image and the new one is not signed "
			 "(add --sign-key KEY, or --unsigned-ok to replace it unsigned)", path);
		return -1;
	}
	return 0;
}

static cJSON *read_index(const char *dir)
{
	char *p = path_join(dir, "index.json");
	strbuf sb = STRBUF_INIT;
	cJSON *j = NULL;
	perr ign;

	if (read_file(p, &sb, 64 << 20, &ign) == 0)
		j = cJSON_ParseWithLength(sb.buf, sb.len);
	sb_release(&sb);
	free(p);
	return j;
}

bool out_layout_signed(const char *dir)
{
	cJSON *j = read_index(dir);
	bool s = j && out_index_is_signed(j);

	cJSON_Delete(j);
	return s;
}

/* The first entry of dir (relative name into *bad) that an image layout pare
 * writes never holds; *empty when dir has no entry at all. */
static int foreign_entry(const char *dir, const char *rel, char **bad, bool *empty, perr *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	*empty = true;
	if (!d)
		return perr_errno(e, "cannot read '%s'", dir);
	while (!*bad && (de = readdir(d))) {
		const char *n = de->d_name;
		char *p;
		struct stat st;
		bool ok = false, sub_empty;

		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		*empty = false;
		p = path_join(dir, n);
		if (lstat(p, &st) < 0) {
			ret = perr_errno(e, "cannot stat '%s'", p);
			free(p);
			break;
		}
		if (!*rel)
			ok = (S_ISREG(st.st_mode) && (!strcmp(n, "oci-layout") || !strcmp(n, "index.json"))) ||
			     (S_ISDIR(st.st_mode) && !strcmp(n, "blobs"));
		else if (!strcmp(rel, "blobs/"))
			ok = S_ISDIR(st.st_mode) && !strcmp(n, "sha256");
		else
			ok = S_ISREG(st.st_mode) && is_sha256_hex(n);
		if (!ok) {
			*bad = xasprintf("%s%s", rel, n);
		} else if (S_ISDIR(st.st_mode)) {
			char *sub = xasprintf("%s%s/", rel, n);

			ret = foreign_entry(p, sub, bad, &sub_empty, e);
			free(sub);
		}
		free(p);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

bool out_dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

int out_lstat(const char *path, const char *what, struct stat *st, perr *e)
{
	if (lstat(path, st) < 0) {
		if (errno == ENOENT)
			return 0;
		return perr_errno(e, "cannot stat '%s'", path);
	}
	if (S_ISLNK(st->st_mode))
		return perr_set(e, "%s: not replaced: it is a symbolic link "
				"(pare replaces only %s it wrote)", path, what);
	return 1;
}

int out_swap_dir(const char *tmp, const char *dir, perr *e)
{
	char *old = xasprintf("%s.old.%ld", dir, (long)getpid()), *parent = path_dirname(dir);
	int ret = -1;
	perr ign;

	if (path_exists(dir) && rename(dir, old) < 0) {
		perr_errno(e, "%s", dir);
		goto out;
	}
	if (rename(tmp, dir) < 0) {
		perr_errno(e, "%s", dir);
		if (rename(old, dir) < 0)
			warning("%s: cannot move it back from %s: %s", dir, old, strerror(errno));
		goto out;
	}
	rm_rf(old, &ign);
	ret = fsync_dir(parent, e);
out:
	free(old);
	free(parent);
	return ret;
}

int out_check_dir(const char *path, unsigned flags, perr *e)
{
	const char *base = path_basename(path);
	struct stat st;
	char *bad = NULL;
	bool empty;
	cJSON *idx = NULL;
	int ret = -1;

	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || !strcmp(path, "/"))
		return perr_set(e, "%s: not replaced: name a directory for the image itself, "
				"not '%s' (pare replaces only an image layout it wrote)", path, path);
	if ((ret = out_lstat(path, "an image layout", &st, e)) <= 0)
		return ret;
	ret = -1;
	if (!S_ISDIR(st.st_mode))
		return perr_set(e, "%s: not replaced: it is a file, not an image layout pare wrote", path);
	if (foreign_entry(path, "", &bad, &empty, e) < 0)
		goto out;
	if (empty) {
		ret = 0;
		goto out;
	}
	if (bad) {
		perr_set(e, "%s: not replaced: it holds '%s', which is not part of an image layout "
			 "pare wrote (move it away or choose another output)", path, bad);
		goto out;
	}
	idx = read_index(path);
	if (!idx || !out_index_is_pare(idx)) {
		perr_set(e, "%s: not replaced: it is not an image layout pare wrote "
			 "(no %s annotation in its index.json)", path, OUT_MARKER);
		goto out;
	}
	if (out_check_signed(idx, path, flags, e) < 0)
		goto out;
	ret = 0;
out:
	free(bad);
	cJSON_Delete(idx);
	return ret;
}

int out_replace_dir(const char *tmp, const char *path, unsigned flags, perr *e)
{
	char *old, *parent;
	int ret = -1;

	if (out_layout_signed(tmp))
		flags |= OUT_SIGNED;
	if (out_check_dir(path, flags, e) < 0)
		return -1;
	old = xasprintf("%s.old.%d", path, (int)getpid());
	parent = path_dirname(path);
	if (!path_exists(path)) {
		if (rename(tmp, path) != 0) {
			perr_errno(e, "cannot rename %s to %s", tmp, path);
			goto out;
		}
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		/* tmp now holds what path held: a layout pare wrote (checked above) */
		if (rm_rf(tmp, e) < 0)
			goto out;
	} else if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
		perr_errno(e, "cannot exchange %s and %s", tmp, path);
		goto out;
	} else {
		/* no RENAME_EXCHANGE on this file system: a moment without path */
		debug("%s: no RENAME_EXCHANGE on this file system, renaming in two steps", path);
		if (rename(path, old) != 0) {
			perr_errno(e, "cannot move %s aside", path);
			goto out;
		}
		if (rename(tmp, path) != 0) {
			perr_errno(e, "cannot rename %s to %s", tmp, path);
			(void)!rename(old, path);
			goto out;
		}
		if (rm_rf(old, e) < 0)
			goto out;
	}
	ret = fsync_dir(parent, e);
out:
	free(old);
	free(parent);
	return ret;
}

char *out_path(const char *arg)
{
	size_t n = strlen(arg);

	while (n > 1 && arg[n - 1] == '/')
		n--;
	return xstrndup(arg, n);
}
