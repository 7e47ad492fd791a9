/*
 * fetch_int.h - builder-private: getting a locked closure's .debs into the
 * content-addressed cache (fetch.c).
 */
#ifndef PARE_BUILDER_FETCH_INT_H
#define PARE_BUILDER_FETCH_INT_H

#include "../common/common.h"
#include "../resolver/resolver.h"

/* PARE_CACHE/debs/sha256/HEX; caller frees.  Inline so that the builder's
 * readers do not drag the fetcher (and the resolver) into a link. */
static inline char *deb_cache_path(const char *sha256)
{
	return xasprintf("%s/debs/sha256/%s", pare_cache_dir(), sha256);
}

struct fetch_opts {
	int parallel;   /* concurrent transfers; 0 = 8 */
	const strvec *only; /* sha256s to fetch (NULL = every package) */
};

/* Make sure every package of the requested archs (NULL/empty = all archs of
 * the lock entry) is in the cache, fetching only what is missing.  Each
 * download is verified (size + sha256 from the lock) before it lands in the
 * cache; a cached file of the right size is taken as it is here (its name is
 * its digest and only verified data is ever renamed into place), and
 * deb_decode checks its sha256 again on the read that decodes it.  On a
 * mismatch the error names the package and nothing is added to the cache. */
int builder_fetch(const struct recipe *r, const struct lock_recipe *lr,
		  const strvec *archs, const struct fetch_opts *o, perr *e);

#endif
