/*
 * roots.c - what `pare cache prune` keeps.  Whatever uses cache entries
 * lists them, one cache-relative path per line, in $cache/roots/NAME; prune
 * keeps every path listed in a roots file younger than --older-than.  The
 * file is rewritten only when the list changes; an unchanged one only has
 * its mtime refreshed (roots files carry no stat stamps, unlike the layer
 * cache's blobs and records, whose times must never be touched).
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cache_roots_write(const char *name, strvec *paths, perr *e)
{
	char *dir = path_join(pare_cache_dir(), "roots"), *path = path_join(dir, name);
	strbuf sb = STRBUF_INIT;
	const struct timespec now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	int ret = -1;

	sv_uniq(paths);
	for (size_t i = 0; i < paths->n; i++)
		sb_addf(&sb, "%s\n", paths->v[i]);
	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	switch (write_file_changed(path, sb_str(&sb), sb.len, 0644, e)) {
	case -1:
		goto out;
	case 1: /* unchanged: only "used now" */
		if (utimensat(AT_FDCWD, path, now, AT_SYMLINK_NOFOLLOW) < 0) {
			perr_errno(e, "%s", path);
			goto out;
		}
	}
	ret = 0;
out:
	sb_release(&sb);
	free(dir);
	free(path);
	return ret;
}
