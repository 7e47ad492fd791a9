/*
 * cache.c - the cache's collector: what pare cache du counts and pare
 * cache prune removes (cli/cmd_cache.c parses the flags and prints).
 *
 * The cache ($PARE_CACHE_DIR) is swept by mark and sweep from roots: every
 * `pare build` of a recipe+arch and every lock of the resolver list the cache
 * entries they used in $cache/roots/ (cache_roots_write).  prune drops roots
 * files older than DAYS, keeps every entry the others list and removes the
 * rest of the known kinds, except entries modified within the last hour (a
 * build running now may have made them and not yet written its roots).  A
 * build that races a prune and loses an entry finds it missing or failing
 * verification and rebuilds or re-fetches it: every cache reader treats a
 * missing or damaged entry as a miss.  Two prunes take turns (flock on
 * $cache/.prune.lock).  A cache without roots/ (only pares before roots
 * used it) loses only its stale temporary files.  Symlinks are never
 * followed: every directory is opened below the cache dir's own descriptor
 * with O_NOFOLLOW, and entries are removed with unlinkat in that directory.
 */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GRACE_SECONDS 3600

/* The kinds: a directory below the cache whose entries are files (or, for
 * release/, directories of files). */
_Static_assert(CACHE_NKINDS == 10, "the kinds below");
static const struct kind {
	const char *name;
	const char *dir;
	bool dirs; /* entries are directories (removed with their files) */
} kinds[] = {
	{ "debs", "debs/sha256", false },  { "blobs", "blobs/sha256", false },
	{ "layers", "layers", false },     { "ca", "ca", false },
	{ "solv", "solv", false },         { "release", "release", true },
	{ "resolve", "resolve", false },   { "roots", "roots", false },
	{ "cve", "cve", false },           { "inventory", "inventory", false },
};

struct tally {
	size_t n;
	uint64_t bytes;
};

struct ctx {
	int cfd;            /* the cache dir */
	bool prune, dry_run;
	int64_t now, cutoff; /* roots older than cutoff are dropped */
	strvec keep;        /* sorted cache-relative paths */
	bool no_roots;      /* no roots/ at all: nothing was ever recorded */
	struct tally seen[ARRAY_SIZE(kinds)], gone[ARRAY_SIZE(kinds)];
	strvec *pulls;      /* the report's lines about killed pulls' leftovers */
};

/* Open a relative directory path below fd one component at a time, never
 * through a symlink; -1 with errno (ENOENT: the kind is absent). */
static int open_below(int fd, const char *rel)
{
	char *copy = xstrdup(rel), *save = NULL;
	int cur = fd;

	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (cur != fd)
			close(cur);
		if (next < 0) {
			free(copy);
			return -1;
		}
		cur = next;
	}
	free(copy);
	return cur == fd ? dup(fd) : cur;
}

static int64_t mtime_of(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec;
}

static bool is_temp(const char *name)
{
	return str_ends(name, ".part") || strstr(name, ".part.") || strstr(name, ".tmp.") ||
	       str_starts(name, ".tmp.");
}

/* A temporary named with the pid of a process that is gone (NAME.tmp.PID,
 * .tmp.PID.N, NAME.part.PID): nobody will finish it, whatever its age. */
static bool dead_temp(const char *name)
{
	long pid = tmp_name_pid(name, ".tmp.");

	if (!pid)
		pid = tmp_name_pid(name, ".part.");
	return pid_gone(pid);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool kept(const struct ctx *x, const char *rel)
{
	return x->keep.n && bsearch(&rel, x->keep.v, x->keep.n, sizeof(*x->keep.v), cmp_str);
}

/* A directory entry of release/: its files' bytes and newest mtime; with
 * rm, its files and then itself are removed (a subdirectory or anything
 * else inside keeps it: pare never makes one, so it is left alone). */
static int dir_entry(int pfd, const char *name, uint64_t *bytes, int64_t *newest, bool rm,
		     perr *e)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	struct stat st;
	int ret = -1;

	if (fd < 0)
		return perr_errno(e, "%s", name);
	if (!(d = fdopendir(fd))) {
		close(fd);
		return perr_errno(e, "%s", name);
	}
	*bytes = 0;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			*bytes += (uint64_t)st.st_size;
		if (mtime_of(&st) > *newest)
			*newest = mtime_of(&st);
		if (rm && !S_ISDIR(st.st_mode) && unlinkat(dirfd(d), de->d_name, 0) < 0 &&
		    errno != ENOENT) {
			perr_errno(e, "cannot remove %s/%s", name, de->d_name);
			goto out;
		}
	}
	if (errno) {
		perr_errno(e, "cannot read %s", name);
		goto out;
	}
	ret = 0;
out:
	closedir(d);
	if (!ret && rm && unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    errno != ENOTEMPTY)
		ret = perr_errno(e, "cannot remove %s", name);
	return ret;
}

/* One kind: tally it and, when pruning, remove what nothing keeps. */
static int sweep(struct ctx *x, size_t k, perr *e)
{
	const struct kind *kd = &kinds[k];
	int fd = open_below(x->cfd, kd->dir);
	strvec names = STRVEC_INIT;
	DIR *d = NULL;
	struct dirent *de;
	int ret = -1;

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 0; /* absent, or not ours to walk */
		return perr_errno(e, "%s/%s", pare_cache_dir(), kd->dir);
	}
	if (!(d = fdopendir(fd))) {
		close(fd);
		return perr_errno(e, "%s/%s", pare_cache_dir(), kd->dir);
	}
	while ((errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			sv_push(&names, de->d_name);
	if (errno) {
		perr_errno(e, "cannot read %s/%s", pare_cache_dir(), kd->dir);
		goto out;
	}
	sv_sort(&names);
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.v[i];
		char *rel = xasprintf("%s/%s", kd->dir, name);
		struct stat st;
		uint64_t bytes = 0;
		int64_t newest;
		bool isdir, drop;

		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(rel);
			continue; /* gone meanwhile */
		}
		newest = mtime_of(&st);
		isdir = S_ISDIR(st.st_mode);
		if (isdir && kd->dirs) {
			if (dir_entry(dirfd(d), name, &bytes, &newest, false, e) < 0) {
				free(rel);
				goto out;
			}
		} else if (S_ISREG(st.st_mode)) {
			bytes = (uint64_t)st.st_size;
		} else if (isdir) {
			free(rel);
			continue; /* not an entry of this kind: left alone */
		}
		x->seen[k].n++;
		x->seen[k].bytes += bytes;
		if (!x->prune) {
			free(rel);
			continue;
		}
		if (!strcmp(kd->name, "roots"))
			/* a roots file is dropped by its age alone */
			drop = newest < x->cutoff;
		else
			/* young: perhaps a running build's, not yet in its roots;
			 * a temporary file is never listed: its age alone */
			drop = (is_temp(name) && dead_temp(name)) ||
			       (newest <= x->now - GRACE_SECONDS &&
				(is_temp(name) || (!x->no_roots && !kept(x, rel))));
		free(rel);
		if (!drop)
			continue;
		if (!x->dry_run) {
			int r = isdir ? dir_entry(dirfd(d), name, &bytes, &newest, true, e)
				      : unlinkat(dirfd(d), name, 0);

			if (r < 0 && !isdir && errno == ENOENT)
				continue; /* another remover was first */
			if (r < 0) {
				if (!isdir)
					perr_errno(e, "cannot remove %s/%s/%s", pare_cache_dir(),
						   kd->dir, name);
				goto out;
			}
		}
		x->gone[k].n++;
		x->gone[k].bytes += bytes;
	}
	ret = 0;
out:
	closedir(d);
	sv_clear(&names);
	return ret;
}

/* The paths the roots files younger than the cutoff list. */
static int read_roots(struct ctx *x, perr *e)
{
	int fd = open_below(x->cfd, "roots");
	strvec names = STRVEC_INIT;
	DIR *d;
	struct dirent *de;
	int ret = -1;

	if (fd < 0) {
		if (errno != ENOENT)
			return perr_errno(e, "%s/roots", pare_cache_dir());
		x->no_roots = true;
		return 0;
	}
	if (!(d = fdopendir(fd))) {
		close(fd);
		return perr_errno(e, "%s/roots", pare_cache_dir());
	}
	while ((errno = 0, de = readdir(d)))
		if (de->d_name[0] != '.' && !is_temp(de->d_name))
			sv_push(&names, de->d_name);
	if (errno) {
		perr_errno(e, "cannot read %s/roots", pare_cache_dir());
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		int f = openat(dirfd(d), names.v[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		strbuf sb = STRBUF_INIT;
		struct stat st;
		char buf[1 << 16];
		ssize_t r = 0;

		if (f < 0)
			continue; /* gone, or a symlink: lists nothing */
		if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode) || mtime_of(&st) < x->cutoff) {
			close(f);
			continue;
		}
		while ((r = read(f, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
			if (r > 0)
				sb_add(&sb, buf, (size_t)r);
		close(f);
		if (r < 0) {
			sb_release(&sb);
			perr_errno(e, "cannot read %s/roots/%s", pare_cache_dir(), names.v[i]);
			goto out;
		}
		sv_split(&x->keep, sb_str(&sb), "\n");
		sb_release(&sb);
	}
	sv_uniq(&x->keep);
	ret = 0;
out:
	closedir(d);
	sv_clear(&names);
	return ret;
}

/* What SIGKILLed pulls left beside their output: each pulls/PID record of a
 * dead PID names its DIR.pull-tmp.PID (registry_pull), removed with the
 * record, whatever its age — only a path that ends so, for that PID. */
static int prune_pulls(const struct ctx *x, perr *e)
{
	int fd = open_below(x->cfd, "pulls");
	DIR *d;
	struct dirent *de;
	int ret = -1;

	if (fd < 0)
		return errno == ENOENT ? 0 : perr_errno(e, "cache: pulls");
	if (!(d = fdopendir(fd))) {
		close(fd);
		return perr_errno(e, "cache: pulls");
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX], *end, *tag;
		long pid;
		ssize_t n;
		int rfd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (errno || *end || pid <= 0) {
			/* a record's own temporary (PID.tmp.PID) */
			if (dead_temp(de->d_name) && !x->dry_run)
				unlinkat(fd, de->d_name, 0);
			continue;
		}
		if (!pid_gone(pid))
			continue;
		rfd = openat(fd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		n = rfd < 0 ? -1 : read(rfd, path, sizeof(path) - 1);
		if (rfd >= 0)
			close(rfd);
		if (n < 0) {
			perr_errno(e, "cache: pulls/%s", de->d_name);
			goto out;
		}
		path[n] = '\0';
		tag = xasprintf(".pull-tmp.%ld", pid);
		if (path[0] == '/' && !strchr(path, '\n') && str_ends(path, tag) &&
		    path_exists(path)) {
			sv_pushf(x->pulls, "%s %s (left by a killed pare pull, pid %ld)",
				 x->dry_run ? "would remove" : "removed", path, pid);
			if (!x->dry_run && rm_rf(path, e) < 0) {
				free(tag);
				goto out;
			}
		}
		free(tag);
		if (!x->dry_run && unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
			perr_errno(e, "cache: cannot remove pulls/%s", de->d_name);
			goto out;
		}
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

/* du (prune false) or prune: the one walk over the kinds (and, pruning,
 * the roots first and the killed pulls' leftovers last). */
static int collect(bool prune, int64_t days, bool dry_run, struct cache_report *r, perr *e)
{
	struct ctx x = { .cfd = -1, .keep = STRVEC_INIT };
	const char *dir = pare_cache_dir();
	char *real = NULL;
	struct stat st;
	int lockfd = -1, ret = -1;

	memset(r, 0, sizeof(*r));
	x.prune = prune;
	x.dry_run = dry_run;
	x.pulls = &r->pulls;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		perr_set(e, "cache: %s is not a directory", dir);
		goto out;
	}
	real = realpath(dir, NULL);
	if (!real || !strcmp(real, "/")) {
		perr_set(e, "cache: refusing to work on cache directory '%s'", dir);
		goto out;
	}
	x.cfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.cfd < 0) {
		perr_errno(e, "cache: %s", dir);
		goto out;
	}
	if (x.prune) {
		/* prune against prune: one at a time (builds take no lock: the
		 * grace hour and their own verification cover them) */
		lockfd = openat(x.cfd, ".prune.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
			perr_errno(e, "cache: %s/.prune.lock", dir);
			goto out;
		}
		/* the wall clock is the point here: ages are relative to now */
		x.now = (int64_t)time(NULL);
		x.cutoff = x.now - days * 86400;
		if (read_roots(&x, e) < 0)
			goto out;
		/* a cache only older pares used: every entry is unrecorded, and
		 * pruning would empty it */
		if (x.no_roots)
			warning("%s: no build or lock recorded its roots yet: only stale temporary files are removed",
				dir);
	}
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (sweep(&x, k, e) < 0)
			goto out;
	if (x.prune && prune_pulls(&x, e) < 0)
		goto out;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const struct tally *t = x.prune ? &x.gone[k] : &x.seen[k];
		r->kinds[k] = (struct cache_tally){ kinds[k].name, kinds[k].dir, t->n, t->bytes };
	}
	r->dir = real;
	real = NULL;
	ret = 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	if (x.cfd >= 0)
		close(x.cfd);
	sv_clear(&x.keep);
	free(real);
	return ret;
}

int cache_du(struct cache_report *r, perr *e)
{
	return collect(false, 0, false, r, e);
}

int cache_prune(int64_t days, bool dry_run, struct cache_report *r, perr *e)
{
	return collect(true, days, dry_run, r, e);
}

void cache_report_release(struct cache_report *r)
{
	free(r->dir);
	sv_clear(&r->pulls);
	memset(r, 0, sizeof(*r));
}
