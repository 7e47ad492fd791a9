/*
 * builder.h - the second stage: a locked closure -> an OCI image.
 *
 *   builder_fetch()  (fetch.c) gets the .debs into the cache
 *   builder_build()  streams every data.tar through the policy into
 *                    per-source layers and writes an OCI layout or archive.
 *
 * Same lock + recipe -> byte-identical output, whatever the cache holds.
 *
 * Owns the build stage only: fetching .debs, the policy, the layer cache,
 * layers, generated files, the image's config/manifests/SBOM artifacts.
 * May include: common/, oci/, resolver/, sbom/ -- never signer/, registry/,
 * rebuild/ or cli/ (tests/layering checks it).
 */
#ifndef PARE_BUILDER_H
#define PARE_BUILDER_H

#include "../common/common.h"
#include "../resolver/resolver.h"
#include "../sbom/sbom.h"

struct build_opts {
	const char *outdir;      /* -o DIR: OCI image layout (NULL = none) */
	const char *tarfile;     /* --tar FILE: oci-archive (NULL = none) */
	const char *tag;         /* org.opencontainers.image.ref.name; NULL = "latest" */
	const char *compression; /* "gzip" (default) or "zstd" */
	strvec archs;            /* empty = every arch of the lock entry */
	int max_layers;          /* 0 = 64 (containerd's ceiling is 127); includes the top layer */
	bool quiet;
	int parallel;            /* concurrent .deb transfers; 0 = 8 */
	const char *git_commit;  /* the recipes' commit (annotations, provenance); NULL = none */
	bool git_dirty;          /* the work tree had changes */
	const char *source_url;  /* org.opencontainers.image.source; NULL = none */
	const strvec *more_tags; /* set by builder_build: the recipe's other tags (dev.pare.tags) */
	unsigned out_flags;      /* OUT_UNSIGNED_OK: may replace a signed output unsigned */
	/* --platform: archs holds the one arch, and index.json names its image
	 * manifest itself (no image index, no index SBOMs): what umoci and
	 * docker load take (umoci: "tag is ambiguous" on a multi-arch index) */
	bool single_platform;
	/* Called on the complete layout in its staging directory before it
	 * replaces outdir or is written to tarfile (e.g. to sign it); NULL = none. */
	int (*finish)(const char *dir, void *arg, perr *e);
	void *finish_arg;
	const struct layer_remote *remote; /* a shared layer cache (below); NULL = none */
};

/* ---- a second, shared layer cache (a registry: rebuild/remote.c) ---------
 *
 * The builder knows it only through these callbacks.  On a local layer
 * cache miss it calls lookup(KEY), which may put that entry into the local
 * cache (builder_lcache_install) and return true: the builder then reads
 * and verifies it like any local entry (a bad one is a miss, and the layer
 * is built).  When an architecture's image is complete it calls store(KEY)
 * for each of its package layers, whose local entry is then complete
 * (builder_lcache_read).  Both are best effort: they never fail a build. */
struct layer_remote {
	bool (*lookup)(void *arg, const char *key);
	/* Optional, before the lookups of an architecture: the keys the local
	 * cache has no entry for, all at once (to fetch them in parallel). */
	void (*prefetch)(void *arg, const char *const *keys, size_t n);
	void (*store)(void *arg, const char *key, const char *media_type); /* the blob's */
	void *arg;
};

/* A local layer cache entry (layers/KEY.json): the compressed layer blob
 * and the layer's metadata record (the tree listing, the package fields,
 * the few contents the generated files read), as files in the cache. */
struct lcache_entry {
	char digest[7 + SHA256_HEX_LEN + 1];  /* the blob */
	char diff_id[7 + SHA256_HEX_LEN + 1];
	uint64_t size;
	char meta_sha256[SHA256_HEX_LEN + 1]; /* the record */
	uint64_t meta_size;
	int64_t epoch;                        /* SOURCE_DATE_EPOCH it was built with */
	bool has_max_mtime;
	int64_t max_mtime;                    /* its entries' newest mtime */
	char *blob, *meta;                    /* their paths (read: set; install: NULL) */
};
/* Entry KEY of the local cache: 0, or -1 when there is none or it is
 * malformed (the files themselves are not hashed here). */
int builder_lcache_read(const char *key, struct lcache_entry *le, perr *e);
/* Make entry KEY from the blob and record at blob_tmp and meta_tmp (files
 * in the cache directory, fsynced, whose sha256 the caller verified against
 * le): renames them into place, then writes the entry naming them. */
int builder_lcache_install(const char *key, const struct lcache_entry *le, const char *blob_tmp,
			   const char *meta_tmp, perr *e);
void builder_lcache_entry_release(struct lcache_entry *le);
/* The layer cache keys of the package layers builder_build would make for
 * every arch of lr with that compression ("gzip", "zstd") and max_layers
 * (0 = the default), appended to keys: what pare cache prune --remote keeps. */
void builder_layer_keys(const struct recipe *r, const struct lock_recipe *lr,
			const char *compression, int max_layers, strvec *keys);

struct build_arch_result {
	char *arch;
	char *manifest_digest;   /* "sha256:…" */
	char *config_digest;
	struct sbom_image sbom;  /* filled, manifest_digest set */
};

struct build_result {
	char *index_digest;      /* "sha256:…" of the image index */
	int64_t created;         /* SOURCE_DATE_EPOCH used */
	struct build_arch_result *archs; size_t narchs; /* in build order (sorted) */
};

/* SOURCE_DATE_EPOCH for a lock entry: $SOURCE_DATE_EPOCH when set, else the
 * newest repository Date: in the lock (so it only moves when the lock does). */
int64_t builder_epoch(const struct lock_recipe *lr);

/* Build the image for recipe r from its lock entry lr.  The .debs of the
 * layers not in the layer cache are fetched (builder_fetch) as needed.  Writes o->outdir and/or o->tarfile atomically;
 * on error nothing is written.  res is owned by the caller
 * (builder_result_release). */
int builder_build(const struct recipe *r, const struct lock_recipe *lr,
		  const struct build_opts *o, struct build_result *res, perr *e);
void builder_result_release(struct build_result *res);

/* ---- fetching a closure's .debs into the cache (fetch.c) ---- */

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

/* "shell" / "package-manager" when the Debian package name is one known to
 * ship a shell / a package manager (for `pare lock`), else NULL. */
const char *policy_forbidden_package(const char *name);


#endif
