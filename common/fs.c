/* fs.c - files: whole reads, atomic writes, trees, the cache directory. */
#define _GNU_SOURCE
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int read_file_fn(const char *path, int (*fn)(void *arg, const void *buf, size_t n, perr *e),
		 void *arg, perr *e)
{
	char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return perr_errno(e, "cannot open '%s'", path);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perr_errno(e, "cannot read '%s'", path);
			goto out;
		}
		if (r == 0)
			break;
		if (fn(arg, buf, (size_t)r, e) < 0)
			goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

struct read_all {
	const char *path;
	strbuf *out;
	size_t max;
};

static int read_all_add(void *arg, const void *buf, size_t n, perr *e)
{
	struct read_all *ra = arg;

	if (ra->out->len + n > ra->max)
		return perr_set(e, "'%s' is larger than %zu bytes", ra->path, ra->max);
	sb_add(ra->out, buf, n);
	return 0;
}

int read_file(const char *path, strbuf *out, size_t max, perr *e)
{
	struct read_all ra = { path, out, max ? max : (size_t)1 << 30 };

	if (read_file_fn(path, read_all_add, &ra, e) < 0)
		return -1;
	if (!out->buf)
		sb_grow(out, 0), out->buf[0] = '\0';
	return 0;
}

int fsync_dir(const char *dir, perr *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return perr_errno(e, "cannot open directory '%s'", dir);
	/* Some filesystems refuse fsync on directories; that is not our failure. */
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
		perr_errno(e, "cannot sync directory '%s'", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

long tmp_name_pid(const char *name, const char *tag)
{
	const char *p = strstr(name, tag);
	char *end;
	long pid;

	if (!p)
		return 0;
	p += strlen(tag);
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || end == p || pid <= 0 || (*end && *end != '.'))
		return 0;
	return pid;
}

bool pid_gone(long pid)
{
	if (pid <= 0 || pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* ---- temporaries removed on SIGINT / SIGTERM ---- */

/* state: 0 free, 1 being filled or emptied, 2 holds a path to remove */
static struct tmp_slot {
	atomic_int state;
	char path[PATH_MAX];
} tmp_slots[64];
/* Threads (layer workers, downloads) take and give back slots under this
 * mutex, so a slot's reuse is ordered in a way race checkers (helgrind) see;
 * the signal handler never takes it: it only reads the atomic states. */
static pthread_mutex_t tmp_slots_mu = PTHREAD_MUTEX_INITIALIZER;
/* Set by the signal handler: a thread that registers a temporary after it would create a
 * file nobody removes, so it waits for the process to die instead. */
static atomic_int tmp_dying;

int tmp_register(const char *path)
{
	size_t n = strlen(path);
	int slot = -1;

	while (atomic_load(&tmp_dying))
		pause();
	if (n >= PATH_MAX)
		return -1;
	pthread_mutex_lock(&tmp_slots_mu);
	for (int i = 0; i < (int)ARRAY_SIZE(tmp_slots); i++) {
		int free_state = 0;
		if (!atomic_compare_exchange_strong(&tmp_slots[i].state, &free_state, 1))
			continue;
		memcpy(tmp_slots[i].path, path, n + 1);
		atomic_store(&tmp_slots[i].state, 2);
		slot = i;
		break;
	}
	pthread_mutex_unlock(&tmp_slots_mu);
	return slot;
}

void tmp_unregister(int slot)
{
	if (slot < 0 || slot >= (int)ARRAY_SIZE(tmp_slots))
		return;
	pthread_mutex_lock(&tmp_slots_mu);
	atomic_store(&tmp_slots[slot].state, 0);
	pthread_mutex_unlock(&tmp_slots_mu);
}

/* rm -rf with system calls only (no malloc, no stdio): a few levels deep
 * at most, which is all pare's temporaries have. */
static void sig_rm_at(int at, const char *name, int depth)
{
	char buf[4096];
	int fd;
	long n;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT || depth > 8)
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			off += de->d_reclen;
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				sig_rm_at(fd, de->d_name, depth + 1);
		}
	}
	close(fd);
	unlinkat(at, name, AT_REMOVEDIR);
}

static void tmp_remove_registered(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(tmp_slots); i++)
		if (atomic_load(&tmp_slots[i].state) == 2)
			sig_rm_at(AT_FDCWD, tmp_slots[i].path, 0);
}

/* The other threads run on while the handler does: one may have registered a temporary and
 * not yet created it (a build's layer workers, downloads).  So: no registration from now
 * on, remove what is registered, give such a thread 100 ms to create its file, remove
 * again, die.  (t-concurrency.sh saw the file of a layer cache entry written by another
 * thread left behind by a single pass, under strace on a loaded machine.) */
static void on_fatal_signal(int sig)
{
	int saved = errno;
	struct timespec grace = { 0, 100 * 1000 * 1000 };

	atomic_store(&tmp_dying, 1);
	tmp_remove_registered();
	while (nanosleep(&grace, &grace) < 0 && errno == EINTR)
		;
	tmp_remove_registered();
	errno = saved;
	signal(sig, SIG_DFL);
	raise(sig);
}

void tmp_cleanup_on_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) { /* not expected from a file; never loop on it */
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_file_plain(const char *path, const void *data, size_t n, mode_t mode,
			    bool sync, perr *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return perr_errno(e, "cannot create '%s'", path);
	if (write_all(fd, data, n) < 0) {
		perr_errno(e, "cannot write '%s'", path);
		close(fd);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || (sync && fsync(fd) < 0)) {
		perr_errno(e, "cannot sync '%s'", path);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return perr_errno(e, "cannot close '%s'", path);
	return 0;
}

int write_file_synced(const char *path, const void *data, size_t n, mode_t mode, perr *e)
{
	return write_file_plain(path, data, n, mode, true, e);
}

int write_file_scratch(const char *path, const void *data, size_t n, mode_t mode, perr *e)
{
	return write_file_plain(path, data, n, mode, false, e);
}

/* Whether path is a regular file holding exactly data[0..n). */
static bool file_holds(const char *path, const void *data, size_t n)
{
	strbuf sb = STRBUF_INIT;
	struct stat st;
	perr e;
	bool same;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != n)
		return false;
	same = read_file(path, &sb, n + 1, &e) == 0 && sb.len == n && !memcmp(sb.buf, data, n);
	sb_release(&sb);
	return same;
}

int write_file_changed(const char *path, const void *data, size_t n, mode_t mode, perr *e)
{
	if (file_holds(path, data, n))
		return 1;
	return write_file_atomic(path, data, n, mode, e);
}

int write_file_atomic_fn(const char *path, mode_t mode,
			 int (*fill)(FILE *fp, void *arg, perr *e), void *arg, perr *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *dir = path_dirname(path);
	int fd = -1, ret = -1, slot = tmp_register(tmp);
	FILE *fp = NULL;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		perr_errno(e, "cannot create '%s'", tmp);
		goto out;
	}
	if (!(fp = fdopen(fd, "w")))
		die("fdopen");
	fd = -1;
	if (fill(fp, arg, e) < 0)
		goto fail;
	if (fflush(fp) != 0 || ferror(fp)) {
		perr_errno(e, "cannot write '%s'", tmp);
		goto fail;
	}
	if (fchmod(fileno(fp), mode) < 0 || fsync(fileno(fp)) < 0) {
		perr_errno(e, "cannot sync '%s'", tmp);
		goto fail;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		perr_errno(e, "cannot close '%s'", tmp);
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, path) < 0) {
		perr_errno(e, "cannot rename '%s' to '%s'", tmp, path);
		goto fail;
	}
	ret = fsync_dir(dir, e);
	goto out;
fail:
	unlink(tmp);
out:
	tmp_unregister(slot);
	if (fp)
		fclose(fp);
	free(tmp);
	free(dir);
	return ret;
}

int mkdir_p(const char *path, mode_t mode, perr *e)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				ret = perr_errno(e, "cannot create directory '%s'", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	if (!ret && !is_dir(path))
		ret = perr_set(e, "'%s' exists and is not a directory", path);
	free(p);
	return ret;
}

static int rm_rf_at(int at, const char *name, perr *e, const char *top)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : perr_errno(e, "cannot stat '%s'", top);
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d;
		struct dirent *de;
		int ret = 0;

		if (fd < 0)
			return perr_errno(e, "cannot open '%s'", top);
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return perr_errno(e, "cannot read '%s'", top);
		}
		while (!ret && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			ret = rm_rf_at(dirfd(d), de->d_name, e, top);
		}
		closedir(d);
		if (ret)
			return ret;
		if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return perr_errno(e, "cannot remove '%s'", top);
		return 0;
	}
	if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
		return perr_errno(e, "cannot remove '%s'", top);
	return 0;
}

int rm_rf(const char *path, perr *e)
{
	return rm_rf_at(AT_FDCWD, path, e, path);
}

bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

const char *path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	while (*b == '/')
		b++;
	if (n && a[n - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

static char *cache_dir;

static void cache_dir_init(void)
{
	const char *env;

	if ((env = getenv("PARE_CACHE_DIR")) && *env)
		cache_dir = xstrdup(env);
	else if ((env = getenv("XDG_CACHE_HOME")) && *env == '/')
		cache_dir = xasprintf("%s/pare", env);
	else if ((env = getenv("HOME")) && *env)
		cache_dir = xasprintf("%s/.cache/pare", env);
	else
		cache_dir = xstrdup("/tmp/pare-cache");
}

/* Threads of the resolver and the builder ask for it at the same time. */
const char *pare_cache_dir(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, cache_dir_init);
	return cache_dir;
}

struct mem_src {
	const void *data;
	size_t n;
};

/* A failed fwrite leaves the stream in error: write_file_atomic_fn reports
 * it with the file's name. */
static int fill_mem(FILE *fp, void *arg, perr *e)
{
	const struct mem_src *m = arg;

	(void)e;
	if (m->n)
		(void)!fwrite(m->data, 1, m->n, fp);
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t n, mode_t mode,
		      perr *e)
{
	struct mem_src m = { data, n };

	return write_file_atomic_fn(path, mode, fill_mem, &m, e);
}
