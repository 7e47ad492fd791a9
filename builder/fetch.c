/* fetch.c - bring a locked closure's .debs into the content-addressed cache.
 *
 * Layout: PARE_CACHE/debs/sha256/<hex>.  The name is the digest the lock
 * (and through it the verified index) promised, and fetch_many only renames
 * data into place after checking size and sha256, so a file present under its
 * name was verified when it arrived.  We still compare its size with the lock
 * (cheap) and refetch on a difference, which catches truncation by a full
 * disk or a hand-edited cache; the builder hashes the bytes it reads again
 * (deb.c, on the read that decodes them) and removes a file that does not
 * match, so that it is fetched again.
 */
#define _GNU_SOURCE
#include "builder_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool arch_wanted(const strvec *archs, const char *arch)
{
	return !archs || !archs->n || sv_contains(archs, arch);
}

/* Is a verified copy already cached?  A size difference means the file is
 * damaged: remove it so it is fetched again. */
static bool cached(const char *path, uint64_t size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
		return true;
	warning("cached '%s' has the wrong size: fetching it again", path);
	unlink(path);
	return false;
}

int builder_fetch(const struct recipe *r, const struct lock_recipe *lr,
		  const strvec *archs, const struct fetch_opts *o, perr *e)
{
	struct fetch_job *jobs = NULL;
	size_t njobs = 0, alloc = 0;
	strvec seen = STRVEC_INIT;   /* sha256 already scheduled (arch: all debs repeat) */
	strvec owned = STRVEC_INIT;  /* strings the jobs point to */
	char **repo_urls = NULL;
	uint64_t total = 0;
	int ret = -1;

	repo_urls = xcalloc(lr->nrepos ? lr->nrepos : 1, sizeof(*repo_urls));
	for (size_t a = 0; a < lr->narchs; a++) {
		const struct lock_arch *la = &lr->archs[a];

		if (!arch_wanted(archs, la->arch))
			continue;
		for (size_t i = 0; i < la->npkgs; i++) {
			const struct lock_pkg *p = &la->pkgs[i];
			struct fetch_job *j;
			char *dest, *url;

			if (o && o->only && !sv_contains(o->only, p->sha256))
				continue;
			if (!is_sha256_hex(p->sha256)) {
				perr_set(e, "%s %s: the lock has no valid sha256", p->name, la->arch);
				goto out;
			}
			if (p->repo < 0 || (size_t)p->repo >= lr->nrepos) {
				perr_set(e, "%s %s: the lock names repository %d, which it does not list",
					 p->name, la->arch, p->repo);
				goto out;
			}
			/* "../" in a pool path would only ever escape the mirror */
			if (!p->filename || !*p->filename || p->filename[0] == '/' ||
			    strstr(p->filename, "..")) {
				perr_set(e, "%s %s: bad pool path '%s' in the lock", p->name,
					 la->arch, p->filename ? p->filename : "");
				goto out;
			}
			if (sv_contains(&seen, p->sha256))
				continue;
			sv_push(&seen, p->sha256);
			dest = deb_cache_path(p->sha256);
			if (cached(dest, p->size)) {
				free(dest);
				continue;
			}
			if (!repo_urls[p->repo] &&
			    resolver_repo_url(r, &lr->repos[p->repo], &repo_urls[p->repo], e) < 0) {
				free(dest);
				perr_prefix(e, "%s", p->name);
				goto out;
			}
			{
				const char *base = repo_urls[p->repo];
				size_t bl = strlen(base);
				url = xasprintf("%.*s/%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl),
						base, p->filename);
			}
			sv_push_nodup(&owned, dest);
			sv_push_nodup(&owned, url);
			sv_pushf(&owned, "%s %s (%s)", p->name, p->version, la->arch);
			ALLOC_GROW(jobs, njobs + 1, alloc);
			j = &jobs[njobs++];
			memset(j, 0, sizeof(*j));
			j->dest = dest;
			j->url = url;
			j->size = p->size;
			j->sha256 = p->sha256;
			j->label = owned.v[owned.n - 1];
			total += p->size;
		}
	}
	if (!njobs) {
		debug("all %zu packages already cached", seen.n);
		ret = 0;
		goto out;
	}
	note("fetching %zu of %zu packages (%.1f MB)", njobs, seen.n, (double)total / 1e6);
	ret = fetch_many(jobs, njobs, o && o->parallel > 0 ? o->parallel : 8, e);
out:
	if (repo_urls)
		for (size_t i = 0; i < lr->nrepos; i++)
			free(repo_urls[i]);
	free(repo_urls);
	free(jobs);
	sv_clear(&seen);
	sv_clear(&owned);
	return ret;
}
