/*
 * Layer cache key.  A package layer is a pure function of its inputs: the
 * cache format, the policy that edits entries (recipe strip/keep/allow/paths),
 * compression and level, SOURCE_DATE_EPOCH, the architecture and the ordered
 * .deb digests of the layer's packages.  Hashing all of them (each field
 * length-prefixed so no two input lists hash alike) gives the key under
 * pare_cache_dir()/layers/ for a later build to reuse the layer without
 * reading the .debs.
 */
#include "builder_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/types.h>
#include <string.h>

#define LAYER_CACHE_VERSION "pare-layer-cache-1"

static void put(phash *h, const char *tag, const char *s)
{
	char hdr[64];
	size_t n = s ? strlen(s) : 0;

	/* tag + length (or "-" for absent) make the encoding unambiguous */
	snprintf(hdr, sizeof(hdr), "%s:%zd:", tag, s ? (ssize_t)n : (ssize_t)-1);
	phash_update(h, hdr, strlen(hdr));
	if (n)
		phash_update(h, s, n);
}

static void put_sv(phash *h, const char *tag, const strvec *v)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", v ? v->n : 0);
	put(h, tag, num);
	for (size_t i = 0; v && i < v->n; i++)
		put(h, tag, v->v[i]);
}

void layer_cache_key(const struct policy *pol, const struct layer_opts *lo,
		     const char *arch, const char *const *deb_sha256, size_t ndebs,
		     char key[SHA256_HEX_LEN + 1])
{
	phash *h = phash_new("sha256");
	const struct recipe *r = pol ? pol->r : NULL;
	char num[64];

	put(h, "v", LAYER_CACHE_VERSION);
	put(h, "comp", lo && lo->compression ? lo->compression : "gzip");
	snprintf(num, sizeof(num), "%d/%" PRId64, lo ? lo->level : 0, lo ? lo->epoch : (int64_t)0);
	put(h, "level/epoch", num);
	put(h, "arch", arch);
	snprintf(num, sizeof(num), "%d%d%d", pol && pol->allow_shell, pol && pol->allow_pkgmgr,
		 pol && pol->allow_setuid);
	put(h, "allowbits", num);
	put_sv(h, "strip", r ? &r->strip : NULL);
	put_sv(h, "keep", r ? &r->keep : NULL);
	put_sv(h, "allow", r ? &r->allow : NULL);
	snprintf(num, sizeof(num), "%zu", r ? r->npaths : 0);
	put(h, "npaths", num);
	for (size_t i = 0; r && i < r->npaths; i++) {
		const struct recipe_path *p = &r->paths[i];

		snprintf(num, sizeof(num), "%d/%d/%" PRId64 "/%" PRId64 "/%d", (int)p->type,
			 p->mode, p->uid, p->gid, (int)p->recursive);
		put(h, "path", p->path);
		put(h, "target", p->target);
		put(h, "perm", num);
	}
	snprintf(num, sizeof(num), "%zu", ndebs);
	put(h, "ndebs", num);
	for (size_t i = 0; i < ndebs; i++)
		put(h, "deb", deb_sha256[i]);
	phash_final_hex(h, key);
}
