/* out.c - a pack on disk: a directory or a tar (libarchive), written under
 * a temporary name, fsynced and renamed, every entry in name order with
 * the same mtime, mode 0644 (directories 0755), owner 0.  What may be
 * replaced follows common/outdir.c: nothing, an empty directory or file,
 * or a pack pare wrote (its EV_MARKER); anything else is refused. */
#define _GNU_SOURCE
#include "evidence_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_dir(const char *dir, perr *e)
{
	struct stat st;
	char *m;
	bool ok;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : perr_errno(e, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return perr_set(e, "%s: not replaced: it exists and is not a directory", dir);
	m = path_join(dir, EV_MARKER);
	ok = lstat(m, &st) == 0 && S_ISREG(st.st_mode);
	free(m);
	if (ok || out_dir_is_empty(dir))
		return 0;
	return perr_set(e, "%s: not replaced: it is not empty and not an evidence pack pare wrote", dir);
}

/* 0 if the tar at path may be replaced: absent, empty, or a pack (its first
 * entry is the marker, as the sorted entries of every pack put it). */
static int check_tar(const char *path, perr *e)
{
	struct archive *a;
	struct archive_entry *ent;
	struct stat st;
	bool ok;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : perr_errno(e, "%s", path);
	if (!S_ISREG(st.st_mode))
		return perr_set(e, "%s: not replaced: it is not a regular file", path);
	if (st.st_size == 0)
		return 0;
	a = archive_read_new();
	archive_read_support_format_tar(a);
	ok = archive_read_open_filename(a, path, 64 << 10) == ARCHIVE_OK &&
	     archive_read_next_header(a, &ent) == ARCHIVE_OK &&
	     !strcmp(archive_entry_pathname(ent), EV_MARKER);
	archive_read_free(a);
	if (!ok)
		return perr_set(e, "%s: not replaced: it is not an evidence pack pare wrote", path);
	return 0;
}

static int set_mtime(const char *path, int64_t mtime, perr *e)
{
	struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };

	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return perr_errno(e, "%s: cannot set its mtime", path);
	return 0;
}

static int write_dir(const struct evidence_pack *p, const char *dir, int64_t mtime, perr *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", dir, (long)getpid());
	char *parent = path_dirname(dir);
	strvec dirs = STRVEC_INIT;
	int ret = -1, slot = -1;

	if (check_dir(dir, e) < 0)
		goto out;
	if (mkdir(tmp, 0755) < 0) {
		perr_errno(e, "%s", tmp);
		goto out;
	}
	slot = tmp_register(tmp);
	sv_push(&dirs, tmp);
	for (size_t i = 0; i < p->n; i++) {
		char *f = path_join(tmp, p->f[i].name), *d = path_dirname(f);

		if (!sv_contains(&dirs, d)) {
			/* every directory between tmp and d */
			for (char *s = d + strlen(tmp); (s = strchr(s + 1, '/'));) {
				*s = '\0';
				if (!sv_contains(&dirs, d))
					sv_push(&dirs, d);
				*s = '/';
			}
			sv_push(&dirs, d);
		}
		ret = mkdir_p(d, 0755, e);
		if (ret == 0)
			ret = write_file_synced(f, p->f[i].data.buf, p->f[i].data.len, 0644, e);
		if (ret == 0)
			ret = set_mtime(f, mtime, e);
		free(f), free(d);
		if (ret < 0)
			goto out;
	}
	ret = -1;
	/* the deepest first: a directory's mtime is set after all it holds */
	sv_sort(&dirs);
	for (size_t i = dirs.n; i-- > 0;)
		if (fsync_dir(dirs.v[i], e) < 0 || set_mtime(dirs.v[i], mtime, e) < 0)
			goto out;
	if (out_swap_dir(tmp, dir, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		perr e2;

		rm_rf(tmp, &e2);
	}
	if (slot >= 0)
		tmp_unregister(slot);
	sv_clear(&dirs);
	free(tmp), free(parent);
	return ret;
}

static int write_tar(const struct evidence_pack *p, const char *path, int64_t mtime, perr *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *parent = path_dirname(path);
	struct archive *a = NULL;
	struct archive_entry *ent = NULL;
	int fd = -1, ret = -1, slot = -1;

	if (check_tar(path, e) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		perr_errno(e, "%s", tmp);
		goto out;
	}
	slot = tmp_register(tmp);
	a = archive_write_new();
	ent = archive_entry_new();
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", tmp, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		archive_entry_clear(ent);
		archive_entry_set_pathname(ent, p->f[i].name);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, 0644);
		archive_entry_set_size(ent, (la_int64_t)p->f[i].data.len);
		archive_entry_set_mtime(ent, (time_t)mtime, 0);
		archive_entry_set_uid(ent, 0);
		archive_entry_set_gid(ent, 0);
		if (archive_write_header(a, ent) != ARCHIVE_OK ||
		    (p->f[i].data.len &&
		     archive_write_data(a, p->f[i].data.buf, p->f[i].data.len) != (la_ssize_t)p->f[i].data.len)) {
			perr_set(e, "%s: %s", tmp, archive_error_string(a));
			goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", tmp, archive_error_string(a));
		goto out;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		perr_errno(e, "%s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		perr_errno(e, "%s", path);
		goto out;
	}
	if (fsync_dir(parent, e) < 0)
		goto out;
	ret = 0;
out:
	if (a)
		archive_write_free(a);
	archive_entry_free(ent);
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	if (slot >= 0)
		tmp_unregister(slot);
	free(tmp), free(parent);
	return ret;
}

int evidence_write(const struct evidence_pack *p, const char *path, int64_t mtime, perr *e)
{
	char *out = out_path(path);
	int ret = str_ends(out, ".tar") ? write_tar(p, out, mtime, e) : write_dir(p, out, mtime, e);

	free(out);
	return ret;
}

/* A name a pack may hold: relative, no empty, "." or ".." component. */
static bool name_ok(const char *s)
{
	if (!*s || *s == '/')
		return false;
	for (const char *c = s; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

int evidence_untar(const char *tar, const char *dir, perr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	strbuf data = STRBUF_INIT;
	strvec seen = STRVEC_INIT;
	uint64_t total = 0;
	int r, ret = -1;

	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, tar, 64 << 10) != ARCHIVE_OK) {
		perr_set(e, "%s: not a tar: %s", tar, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);
		la_int64_t size = archive_entry_size(ent);
		char *f, *d;

		if (archive_entry_filetype(ent) == AE_IFDIR)
			continue;
		if (name && str_starts(name, "./")) /* what tar -c . writes */
			name += 2;
		if (!name || !name_ok(name)) {
			perr_set(e, "%s: an entry named '%s': not a name a pack holds", tar, name ? name : "");
			goto out;
		}
		if (archive_entry_filetype(ent) != AE_IFREG) {
			perr_set(e, "%s: %s: not a regular file", tar, name);
			goto out;
		}
		if (sv_contains(&seen, name)) {
			perr_set(e, "%s: %s: in the tar twice", tar, name);
			goto out;
		}
		sv_push(&seen, name);
		total += (uint64_t)(size > 0 ? size : 0);
		if (total > ((uint64_t)4 << 30)) {
			perr_set(e, "%s: more than 4 GiB: not a pack", tar);
			goto out;
		}
		sb_reset(&data);
		sb_grow(&data, (size_t)(size > 0 ? size : 0));
		for (;;) {
			char buf[65536];
			la_ssize_t n = archive_read_data(a, buf, sizeof(buf));

			if (n < 0) {
				perr_set(e, "%s: %s: %s", tar, name, archive_error_string(a));
				goto out;
			}
			if (n == 0)
				break;
			sb_add(&data, buf, (size_t)n);
		}
		f = path_join(dir, name);
		d = path_dirname(f);
		r = mkdir_p(d, 0755, e);
		if (r == 0)
			r = write_file_scratch(f, data.buf ? data.buf : "", data.len, 0644, e);
		free(f), free(d);
		if (r < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "%s: %s", tar, archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	sb_release(&data);
	sv_clear(&seen);
	return ret;
}

int evidence_read_signed(const char *path, strbuf *manifest, strbuf *sig)
{
	char *out = out_path(path);
	struct archive *a;
	struct archive_entry *ent;
	int found = 0;
	perr e2;

	if (!str_ends(out, ".tar")) {
		char *m = path_join(out, EV_MANIFEST), *s = path_join(out, EV_MANIFEST_SIG);

		if (is_dir(out) && read_file(m, manifest, 0, &e2) == 0 && read_file(s, sig, 1 << 20, &e2) == 0)
			found = 2;
		free(m), free(s), free(out);
		return found == 2 ? 0 : -1;
	}
	a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, out, 64 << 10) == ARCHIVE_OK) {
		while (found < 2 && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
			const char *name = archive_entry_pathname(ent);
			strbuf *to = !strcmp(name, EV_MANIFEST) ? manifest : !strcmp(name, EV_MANIFEST_SIG) ? sig : NULL;
			char buf[65536];
			la_ssize_t n;

			if (!to || archive_entry_size(ent) > (1 << 28))
				continue;
			while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
				sb_add(to, buf, (size_t)n);
			if (n == 0)
				found++;
		}
	}
	archive_read_free(a);
	free(out);
	return found == 2 ? 0 : -1;
}
