/*
 * layout.c - the OCI image layout on disk: platforms, descriptors, writing a
 * complete layout (a directory or an oci-archive tar) atomically, opening
 * one named on the command line, and reading one without extracting it.
 */
#define _GNU_SOURCE /* renameat2 */
#include "oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Debian architecture <-> OCI architecture + variant. */
static const struct { const char *deb, *oci, *variant; } platform_map[] = {
	{ "amd64", "amd64", NULL }, { "arm64", "arm64", "v8" },
	{ "armhf", "arm", "v7" },   { "armel", "arm", "v5" },
	{ "i386", "386", NULL },    { "ppc64el", "ppc64le", NULL },
	{ "s390x", "s390x", NULL }, { "riscv64", "riscv64", NULL },
	{ "mips64el", "mips64le", NULL },
};

int oci_platform_parse(const char *platform, char **deb_arch, perr *e)
{
	const char *slash = strchr(platform, '/'), *arch, *variant;
	char *a = NULL;
	int ret = -1;

	*deb_arch = NULL;
	if (!slash || slash == platform)
		return perr_set(e, "--platform '%s': give OS/ARCH, e.g. linux/amd64", platform);
	if (strncmp(platform, "linux", (size_t)(slash - platform)) || slash - platform != 5)
		return perr_set(e, "--platform '%s': pare builds linux images only (e.g. linux/amd64)",
				platform);
	a = xstrdup(slash + 1);
	arch = a;
	variant = NULL;
	if (strchr(a, '/')) {
		*strchr(a, '/') = 0;
		variant = a + strlen(a) + 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(platform_map); i++) {
		const char *v = platform_map[i].variant;

		/* linux/arm64 names arm64/v8 (the variant is implied); linux/arm
		 * alone is not one platform */
		if ((!strcmp(arch, platform_map[i].oci) &&
		     (variant ? v && !strcmp(variant, v) : !v || strcmp(arch, "arm"))) ||
		    (!variant && !strcmp(arch, platform_map[i].deb))) {
			*deb_arch = xstrdup(platform_map[i].deb);
			ret = 0;
			goto out;
		}
	}
	perr_set(e, "--platform '%s': unknown architecture '%s%s%s' (e.g. linux/amd64, linux/arm64, "
		 "linux/arm/v7)", platform, arch, variant ? "/" : "", variant ? variant : "");
out:
	free(a);
	return ret;
}

void oci_deb_platform(const char *arch, const char **oarch, const char **variant)
{
	*oarch = arch;
	*variant = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(platform_map); i++)
		if (!strcmp(platform_map[i].deb, arch)) {
			*oarch = platform_map[i].oci;
			*variant = platform_map[i].variant;
		}
}

char *oci_json_print(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (!s)
		die("cannot serialise JSON");
	return s;
}

void oci_digest_of(const char *s, char out[7 + SHA256_HEX_LEN + 1])
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(s, strlen(s), hex);
	snprintf(out, 7 + SHA256_HEX_LEN + 1, "sha256:%s", hex);
}

cJSON *oci_descriptor(const char *mt, const char *digest, uint64_t size)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "mediaType", mt);
	cJSON_AddStringToObject(d, "digest", digest);
	cJSON_AddNumberToObject(d, "size", (double)size);
	return d;
}

/* ---- output ---------------------------------------------------------------- */


int oci_file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct oci_file *)a)->name, ((const struct oci_file *)b)->name);
}

static int copy_file(const char *src, const char *dst, perr *e)
{
	char buf[1 << 16];
	int in, out = -1, ret = -1;
	ssize_t r;

	if (link(src, dst) == 0)
		return 0; /* same filesystem as the cache: no copy needed */
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return perr_errno(e, "cannot open %s", src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		perr_errno(e, "cannot create %s", dst);
		goto out;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)r) < 0) {
			perr_errno(e, "cannot write %s", dst);
			goto out;
		}
	if (r < 0) {
		perr_errno(e, "cannot read %s", src);
		goto out;
	}
	if (fsync(out) != 0) {
		perr_errno(e, "cannot write %s", dst);
		goto out;
	}
	ret = 0;
out:
	close(in);
	if (out >= 0 && close(out) != 0 && ret == 0)
		ret = perr_errno(e, "cannot write %s", dst);
	return ret;
}

static int write_dir(const char *dir, struct oci_file *f, size_t n, perr *e)
{
	char *blobs = path_join(dir, "blobs/sha256");
	int *fds = xcalloc(n + 1, sizeof(*fds));
	int ret = -1;

	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	if (mkdir_p(blobs, 0755, e) < 0)
		goto out;
	/* Every file is on disk before the layout is renamed into place, so
	 * a crash never leaves a complete-looking layout with empty files
	 * (linked blobs were synced when cached).  Written first with their
	 * writeback started, then synced: one wait for all of them, not one
	 * per file. */
	for (size_t i = 0; i < n; i++) {
		char *p = path_join(dir, f[i].name);
		int r = 0;

		if (f[i].data) {
			fds[i] = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fds[i] < 0)
				r = perr_errno(e, "cannot create %s", p);
			else if (write_all(fds[i], f[i].data, f[i].len) < 0)
				r = perr_errno(e, "cannot write %s", p);
			if (!r)
				sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE);
		} else {
			r = copy_file(f[i].src, p, e);
		}
		free(p);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		/* closed either way; the first failure's errno is reported */
		bool bad = fsync(fds[i]) != 0;
		int err = errno;

		if (close(fds[i]) != 0 && !bad) {
			bad = true;
			err = errno;
		}
		fds[i] = -1;
		if (bad) {
			errno = err;
			perr_errno(e, "cannot write %s/%s", dir, f[i].name);
			goto out;
		}
	}
	if (fsync_dir(blobs, e) < 0 || fsync_dir(dir, e) < 0)
		goto out;
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(blobs);
	return ret;
}

/* The oci-archive's sink.  A failed write is remembered, not returned:
 * libarchive (3.6) does not free its output buffer once a write callback has
 * failed, so the writer is always closed normally and write_tar reports the
 * failure (with its errno) itself. */
struct tar_sink {
	int fd;
	int err; /* errno of the first failed write, 0 if none */
};

static la_ssize_t fd_write(struct archive *a, void *cd, const void *buf, size_t n)
{
	struct tar_sink *t = cd;

	(void)a;
	if (!t->err && write_all(t->fd, buf, n) < 0)
		t->err = errno;
	return (la_ssize_t)n;
}

static int write_tar(const char *path, struct oci_file *f, size_t n, int64_t epoch,
		     perr *e)
{
	static const char *const dirs[] = { "blobs/", "blobs/sha256/" };
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct tar_sink sink = { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), 0 };
	int ret = -1;
	size_t di = 0;

	if (sink.fd < 0) {
		perr_errno(e, "cannot create %s", path);
		goto out;
	}
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open(a, &sink, NULL, fd_write, NULL) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i <= n; i++) {
		const char *name;
		strbuf blob = STRBUF_INIT;
		const char *data;
		size_t len;

		/* Directories in sorted position (before the blobs). */
		if (di < ARRAY_SIZE(dirs) && (i == n || strcmp(dirs[di], f[i].name) < 0)) {
			archive_entry_clear(ae);
			archive_entry_set_pathname(ae, dirs[di]);
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			archive_entry_set_mtime(ae, epoch, 0);
			if (archive_write_header(a, ae) != ARCHIVE_OK) {
				perr_set(e, "%s: %s", path, archive_error_string(a));
				goto out;
			}
			di++;
			i--;
			continue;
		}
		if (i == n)
			break;
		if (sink.err)
			break; /* the disk is full: reported below */
		name = f[i].name;
		data = f[i].data;
		len = f[i].len;
		if (!data) {
			/* Blobs are read one at a time (a layer fits in memory:
			 * it was built in memory). */
			if (read_file(f[i].src, &blob, 0, e) < 0)
				goto out;
			data = blob.buf;
			len = blob.len;
		}
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, name);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_mtime(ae, epoch, 0);
		archive_entry_set_size(ae, (la_int64_t)len);
		if (archive_write_header(a, ae) != ARCHIVE_OK ||
		    (len && archive_write_data(a, data, len) != (la_ssize_t)len)) {
			perr_set(e, "%s: %s", path, archive_error_string(a));
			sb_release(&blob);
			goto out;
		}
		sb_release(&blob);
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	if (sink.err) {
		errno = sink.err;
		perr_errno(e, "cannot write %s", path);
		goto out;
	}
	if (fsync(sink.fd) != 0) {
		perr_errno(e, "cannot write %s", path);
		goto out;
	}
	ret = 0;
out:
	archive_write_free(a);
	archive_entry_free(ae);
	if (sink.fd >= 0 && close(sink.fd) != 0 && ret == 0)
		ret = perr_errno(e, "cannot write %s", path);
	return ret;
}

/* Remove OUT.tmp.PID / OUT.old.PID / OUT.part.PID left next to out by a build that was
 * killed (its PID is no longer running).  Another build's live temporary is
 * left alone.  Best effort: what cannot be removed stays. */
static void remove_stale(const char *out)
{
	char *dir = path_dirname(out);
	const char *base = path_basename(out);
	size_t bl = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *rest;
		char *end, *p;
		long pid;
		perr ign;

		if (strncmp(de->d_name, base, bl))
			continue;
		rest = de->d_name + bl;
		if (str_starts(rest, ".tmp.") || str_starts(rest, ".old."))
			rest += 5;
		else if (str_starts(rest, ".part."))
			rest += 6;
		else
			continue;
		errno = 0;
		pid = strtol(rest, &end, 10);
		if (errno || *end || end == rest || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive (or not ours to ask): maybe a concurrent build */
		p = path_join(dir, de->d_name);
		debug("removing %s, left by build %ld, which is gone", p, pid);
		if (rm_rf(p, &ign) < 0)
			debug("cannot remove %s: %s", p, ign.msg);
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
}

/* ---- an oci-archive's members: what the checker, the unpacker and the reader share ---- */

/* A tar (compressed too, when filters) opened for reading with libarchive
 * into *a, which the caller frees either way (on -1 it holds the error). */
static int tar_open(const char *path, bool filters, struct archive **a)
{
	*a = archive_read_new();
	archive_read_support_format_tar(*a);
	if (filters)
		archive_read_support_filter_all(*a);
	return archive_read_open_filename(*a, path, 1 << 16) == ARCHIVE_OK ? 0 : -1;
}

/* A member's name without leading "./" ("" when it has none). */
static const char *member_name(struct archive_entry *ae)
{
	const char *n = archive_entry_pathname(ae);

	if (!n)
		return "";
	while (str_starts(n, "./"))
		n += 2;
	return n;
}

/* The members a layout reader opens: oci-layout, index.json and
 * blobs/sha256/HEX (a name checked so is never outside the layout). */
static bool layout_file(const char *n)
{
	return !strcmp(n, "oci-layout") || !strcmp(n, "index.json") ||
	       (str_starts(n, "blobs/sha256/") && is_sha256_hex(n + 13));
}

/* The current member's bytes appended to out: 0, or -1 with libarchive's
 * message in e. */
static int member_read(struct archive *a, strbuf *out, perr *e)
{
	char buf[1 << 16];
	la_ssize_t got;

	while ((got = archive_read_data(a, buf, sizeof(buf))) > 0)
		sb_add(out, buf, (size_t)got);
	if (got < 0)
		return perr_set(e, "%s", archive_error_string(a));
	return 0;
}

int oci_check_tar(const char *path, unsigned flags, perr *e)
{
	struct archive *a;
	struct archive_entry *ae;
	struct stat st;
	strbuf idx = STRBUF_INIT;
	cJSON *j = NULL;
	bool have_layout = false, foreign = false;
	int ret = -1, r = ARCHIVE_EOF;
	perr ign;

	if ((r = out_lstat(path, "an oci-archive", &st, e)) <= 0)
		return r;
	r = ARCHIVE_EOF;
	if (S_ISDIR(st.st_mode))
		return perr_set(e, "%s: not replaced: it is a directory, not an oci-archive", path);
	if (!S_ISREG(st.st_mode))
		return perr_set(e, "%s: not replaced: it is not a regular file", path);
	if (st.st_size == 0)
		return 0;
	/* only a plain tar: what pare writes (a compressed one is not) */
	if (tar_open(path, false, &a) < 0) {
		foreign = true;
		goto done;
	}
	/* headers only (the blobs are skipped), and index.json's bytes */
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(ae);

		if (!n || (!layout_file(n) && strcmp(n, "blobs/") && strcmp(n, "blobs/sha256/"))) {
			foreign = true;
			break;
		}
		have_layout |= !strcmp(n, "oci-layout");
		if (!strcmp(n, "index.json") &&
		    (archive_entry_size(ae) > (la_int64_t)OCI_MAX_JSON ||
		     member_read(a, &idx, &ign) < 0)) {
			foreign = true;
			break;
		}
	}
	if (r != ARCHIVE_EOF)
		foreign = true;
done:
	archive_read_free(a);
	if (!foreign && have_layout && idx.len)
		j = cJSON_ParseWithLength(idx.buf, idx.len);
	if (!j || !out_index_is_pare(j)) {
		perr_set(e, "%s: not replaced: it is not an oci-archive pare wrote "
			 "(move it away or choose another --tar)", path);
		goto out;
	}
	if (out_check_signed(j, path, flags, e) < 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(j);
	sb_release(&idx);
	return ret;
}

/* The oci-archive of the complete layout dir (what a signer added
 * included), written to TAR.part.PID and renamed over tarfile once
 * oci_check_tar allows it. */
static int tar_from_dir(const char *dir, const char *tarfile, int64_t epoch, unsigned flags,
			perr *e)
{
	char *blobs = path_join(dir, "blobs/sha256"), *part = NULL, *parent = NULL;
	struct oci_file *f = NULL;
	size_t nf = 0, alloc = 0;
	DIR *d = opendir(blobs);
	struct dirent *de;
	int ret = -1;

	if (!d) {
		perr_errno(e, "cannot read %s", blobs);
		goto out;
	}
	ALLOC_GROW(f, nf + 2, alloc);
	f[nf++] = (struct oci_file){ .name = xstrdup("oci-layout") };
	f[nf++] = (struct oci_file){ .name = xstrdup("index.json") };
	while ((de = readdir(d))) {
		if (!is_sha256_hex(de->d_name))
			continue;
		ALLOC_GROW(f, nf + 1, alloc);
		f[nf++] = (struct oci_file){ .name = xasprintf("blobs/sha256/%s", de->d_name) };
	}
	closedir(d);
	for (size_t i = 0; i < nf; i++)
		f[i].src = path_join(dir, f[i].name);
	qsort(f, nf, sizeof(*f), oci_file_cmp);
	if (out_layout_signed(dir))
		flags |= OUT_SIGNED;
	if (oci_check_tar(tarfile, flags, e) < 0)
		goto out;
	part = xasprintf("%s.part.%d", tarfile, (int)getpid());
	parent = path_dirname(tarfile);
	if (write_tar(part, f, nf, epoch, e) < 0)
		goto fail;
	if (rename(part, tarfile) != 0) {
		perr_errno(e, "cannot rename %s", part);
		goto fail;
	}
	ret = fsync_dir(parent, e);
	goto out;
fail:
	unlink(part);
out:
	for (size_t i = 0; i < nf; i++) {
		free(f[i].name);
		free((char *)f[i].src);
	}
	free(f);
	free(blobs);
	free(part);
	free(parent);
	return ret;
}

/* ---- input: a layout or an oci-archive ------------------------------------- */

/* Why unpack rather than read members in place: libarchive reads a tar as a
 * stream, so reading blob after blob (the signer and verify open manifests,
 * then configs, then layers, by digest) would rescan the archive each time
 * or need an offset index of our own; and every layout reader (signer,
 * registry, sbom, inspect) already works on a directory with its checks.
 * The copy costs the archive's size on disk, under the cache, briefly. */

/* Remove unpacked copies left under DIR by a pare that was killed. */
static void remove_stale_inputs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		perr ign;
		char *p;

		if (!str_starts(de->d_name, "oci-archive.tmp.") ||
		    !pid_gone(tmp_name_pid(de->d_name, ".tmp.")))
			continue;
		p = path_join(dir, de->d_name);
		debug("removing %s, left by pare %ld, which is gone", p,
		      tmp_name_pid(de->d_name, ".tmp."));
		if (rm_rf(p, &ign) < 0)
			debug("cannot remove %s: %s", p, ign.msg);
		free(p);
	}
	if (d)
		closedir(d);
}

/* One member of the archive into the copy (dir), by a name checked to be a
 * layout file: nothing outside dir is ever written. */
static int unpack_member(struct archive *a, const char *tar, const char *dir, const char *name,
			 perr *e)
{
	char *p = path_join(dir, name), buf[1 << 16];
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), ret = -1;
	la_ssize_t got;

	if (fd < 0) {
		if (errno == EEXIST)
			perr_set(e, "%s: not an oci-archive (member '%s' appears twice)", tar, name);
		else
			perr_errno(e, "cannot create %s", p);
		goto out;
	}
	while ((got = archive_read_data(a, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, (size_t)got) < 0) {
			perr_errno(e, "cannot write %s", p);
			goto out;
		}
	if (got < 0) {
		perr_set(e, "%s: member %s: %s", tar, name, archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) != 0 && ret == 0)
		ret = perr_errno(e, "cannot write %s", p);
	free(p);
	return ret;
}

static int unpack_archive(struct oci_input *in, perr *e)
{
	struct archive *a = NULL;
	struct archive_entry *ae;
	char *blobs = path_join(in->tmp, "blobs/sha256");
	bool have_layout = false, have_index = false;
	int ret = -1, r;

	if (mkdir_p(blobs, 0700, e) < 0)
		goto out;
	if (tar_open(in->tarfile, true, &a) < 0) {
		perr_set(e, "%s: not an oci-archive (%s)", in->tarfile, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *n = member_name(ae);

		if (!*n)
			continue;
		if (archive_entry_filetype(ae) != AE_IFREG || !layout_file(n)) {
			/* directories, and what a layout reader never opens */
			debug("%s: skipping member '%s'", in->tarfile, n);
			continue;
		}
		if (!strcmp(n, "oci-layout")) {
			have_layout = true;
			in->mtime = (int64_t)archive_entry_mtime(ae);
		}
		have_index |= !strcmp(n, "index.json");
		if (unpack_member(a, in->tarfile, in->tmp, n, e) < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "%s: not an oci-archive (%s)", in->tarfile, archive_error_string(a));
		goto out;
	}
	if (!have_layout || !have_index) {
		perr_set(e, "%s: not an oci-archive (no %s member; pare build --tar writes one)",
			 in->tarfile, have_layout ? "index.json" : "oci-layout");
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	free(blobs);
	return ret;
}

int oci_input_open(const char *path, bool for_update, struct oci_input *in, perr *e)
{
	static unsigned seq;
	struct stat st;
	char *tmpdir;

	memset(in, 0, sizeof(*in));
	in->slot = -1;
	if (stat(path, &st) < 0)
		return perr_errno(e, "cannot open '%s'", path);
	if (S_ISDIR(st.st_mode)) {
		in->dir = path;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return perr_set(e, "%s: neither an OCI image layout directory nor an oci-archive",
				path);
	if (for_update && oci_check_tar(path, OUT_SIGNED, e) < 0)
		return -1;
	tmpdir = path_join(pare_cache_dir(), "tmp");
	if (mkdir_p(tmpdir, 0700, e) < 0) {
		free(tmpdir);
		return -1;
	}
	remove_stale_inputs(tmpdir);
	in->tarfile = xstrdup(path);
	in->tmp = xasprintf("%s/oci-archive.tmp.%ld.%u", tmpdir, (long)getpid(), seq++);
	free(tmpdir);
	in->slot = tmp_register(in->tmp);
	in->dir = in->tmp;
	if (rm_rf(in->tmp, e) < 0 || unpack_archive(in, e) < 0) {
		oci_input_close(in);
		return -1;
	}
	return 0;
}

int oci_input_save(struct oci_input *in, perr *e)
{
	if (!in->tarfile)
		return 0;
	return tar_from_dir(in->tmp, in->tarfile, in->mtime, 0, e);
}

int oci_input_error(const struct oci_input *in, perr *e)
{
	strbuf sb = STRBUF_INIT;
	const char *p = e->msg, *hit;
	size_t n;

	if (!in->tarfile)
		return -1;
	n = strlen(in->tmp);
	if (!strstr(p, in->tmp))
		return perr_prefix(e, "%s", in->tarfile);
	while ((hit = strstr(p, in->tmp))) {
		sb_add(&sb, p, (size_t)(hit - p));
		sb_adds(&sb, in->tarfile);
		p = hit + n;
	}
	sb_adds(&sb, p);
	perr_set(e, "%s", sb.buf);
	sb_release(&sb);
	return -1;
}

void oci_input_close(struct oci_input *in)
{
	if (in->tmp) {
		perr ign;

		if (rm_rf(in->tmp, &ign) < 0)
			warning("cannot remove %s: %s", in->tmp, ign.msg);
	}
	tmp_unregister(in->slot);
	free(in->tarfile);
	free(in->tmp);
	memset(in, 0, sizeof(*in));
	in->slot = -1;
}

int oci_layout_write(const struct oci_out *o, struct oci_file *f, size_t *pnf, perr *e)
{
	size_t nf = *pnf;
	char *tmp = NULL;
	const char *stage;
	int slot = -1; /* tmp, removed if SIGINT/SIGTERM end pare meanwhile */
	int ret = -1;

	qsort(f, nf, sizeof(*f), oci_file_cmp);
	/* The same blob (a layer shared by two archs) is stored once. */
	for (size_t i = 1; i < nf;) {
		if (!strcmp(f[i].name, f[i - 1].name)) {
			free(f[i].name);
			memmove(&f[i], &f[i + 1], (nf - i - 1) * sizeof(*f));
			nf--;
		} else {
			i++;
		}
	}
	/* The layout is staged complete beside its destination (for a tar
	 * alone: beside the tar), finished (signed) there, and only then
	 * archived and swapped in: what was there stays until the new output
	 * is whole, and only an output pare wrote is replaced (outdir.c). */
	stage = o->outdir ? o->outdir : o->tarfile;
	if (!stage)
		goto done;
	tmp = xasprintf("%s.tmp.%d", stage, (int)getpid());
	slot = tmp_register(tmp);
	remove_stale(stage);
	if (o->outdir && o->tarfile)
		remove_stale(o->tarfile);
	if (rm_rf(tmp, e) < 0 || write_dir(tmp, f, nf, e) < 0)
		goto out;
	if (o->finish && o->finish(tmp, o->finish_arg, e) < 0)
		goto out;
	if (o->tarfile && tar_from_dir(tmp, o->tarfile, o->epoch, o->flags, e) < 0)
		goto out;
	if (o->outdir && out_replace_dir(tmp, o->outdir, o->flags, e) < 0)
		goto out;
	if (!o->outdir && rm_rf(tmp, e) < 0)
		goto out;
done:
	ret = 0;
out:
	if (ret < 0 && tmp) {
		perr ign;
		rm_rf(tmp, &ign);
	}
	tmp_unregister(slot);
	*pnf = nf;
	free(tmp);
	return ret;
}

/* ---- reading a layout or an oci-archive (inspect, diff) -------------------- */

struct oci_src {
	char *path;
	bool archive;
};

/* Find member name in the archive: 1 with its bytes (at most max), 0 if absent. */
static int tar_member(const char *path, const char *name, strbuf *out, size_t max, perr *e)
{
	struct archive *a;
	struct archive_entry *ae;
	int ret = -1, r;

	if (tar_open(path, true, &a) < 0) {
		perr_set(e, "%s: not an OCI image layout or oci-archive (%s)", path,
			 archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		if (strcmp(member_name(ae), name) || archive_entry_filetype(ae) != AE_IFREG)
			continue;
		if (archive_entry_size(ae) < 0 || (uint64_t)archive_entry_size(ae) > max) {
			perr_set(e, "%s: %s is larger than %zu bytes", path, name, max);
			goto out;
		}
		sb_reset(out);
		if (member_read(a, out, e) < 0) {
			perr_prefix(e, "%s: %s", path, name);
			goto out;
		}
		if (!out->buf)
			sb_grow(out, 0), out->buf[0] = '\0';
		ret = 1;
		goto out;
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "%s: not an OCI image layout or oci-archive (%s)", path,
			 archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	return ret;
}

int oci_src_open(const char *path, struct oci_src **out, perr *e)
{
	struct stat st;
	struct oci_src *s;
	strbuf idx = STRBUF_INIT;
	char *p;
	int r;

	*out = NULL;
	if (stat(path, &st) < 0)
		return perr_errno(e, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		p = path_join(path, "index.json");
		r = path_exists(p);
		free(p);
		if (!r)
			return perr_set(e, "%s: not an OCI image layout (no index.json)", path);
	} else if (S_ISREG(st.st_mode)) {
		r = tar_member(path, "index.json", &idx, 64 << 20, e);
		sb_release(&idx);
		if (r < 0)
			return -1;
		if (!r)
			return perr_set(e, "%s: not an oci-archive (no index.json in it)", path);
	} else {
		return perr_set(e, "%s: not an OCI image layout or oci-archive", path);
	}
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->archive = S_ISREG(st.st_mode);
	*out = s;
	return 0;
}

bool oci_src_is_archive(const struct oci_src *s)
{
	return s->archive;
}

int oci_src_read(struct oci_src *s, const char *name, strbuf *out, size_t max, perr *e)
{
	char *p;
	int r;

	if (!s->archive) {
		p = path_join(s->path, name);
		sb_reset(out);
		r = read_file(p, out, max, e);
		free(p);
		return r;
	}
	r = tar_member(s->path, name, out, max, e);
	if (r == 0)
		return perr_set(e, "%s: no %s in the oci-archive", s->path, name);
	return r < 0 ? -1 : 0;
}

int oci_src_blob(struct oci_src *s, const char *digest, strbuf *out, size_t max, perr *e)
{
	char hex[SHA256_HEX_LEN + 1], *name;
	int r;

	if (!oci_digest_ok(digest))
		return perr_set(e, "%s: malformed digest '%s'", s->path, digest ? digest : "");
	name = xasprintf("blobs/sha256/%s", digest + 7);
	r = oci_src_read(s, name, out, max, e);
	free(name);
	if (r < 0)
		return -1;
	sha256_hex(out->buf, out->len, hex);
	if (strcmp(hex, digest + 7))
		return perr_set(e, "%s: blob %s does not match its digest (sha256:%s)", s->path,
				digest, hex);
	return 0;
}

void oci_src_close(struct oci_src *s)
{
	if (!s)
		return;
	free(s->path);
	free(s);
}
