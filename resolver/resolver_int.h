/*
 * resolver_int.h - what repo.c (verified indexes) hands to solve.c (libsolv).
 * Private to resolver/: libsolv types never leave this module.
 */
#ifndef PARE_RESOLVER_INT_H
#define PARE_RESOLVER_INT_H

#include "resolver.h"

#include <solv/pool.h>
#include <solv/repo.h>

/* One file listed in a Release's SHA256 section. */
struct release_file {
	char *path; /* relative to dists/SUITE/, e.g. main/binary-amd64/Packages.xz */
	uint64_t size;
	char sha256[SHA256_HEX_LEN + 1];
};

/* A verified Release of one (url, suite). */
struct release {
	char *url, *suite;        /* as the recipe spells them */
	strvec components;
	struct lock_repo meta;    /* origin … inrelease_sha256, url */
	struct release_file *files; size_t nfiles;
	bool by_hash;             /* Acquire-By-Hash: yes */
	bool lists_all;           /* load binary-all as well (see release_parse) */
	bool no_arch_all;         /* No-Support-for-Architecture-all: Packages */
	char *where;              /* "repository URL SUITE" for messages */
};

/* Fetch (or, offline, take from the cache), verify and parse the Release
 * of url/dists/suite.  Refuses bad signatures, expiry and rollbacks
 * against o->previous.  Safe to call from several threads at once (for
 * different releases); it prints nothing, so the caller warns about a
 * `trusted: true` repository. */
int release_load(const struct recipe_repo *rr, const char *suite,
		 const struct resolve_opts *o, struct release *out, perr *e);
void release_release(struct release *rel);

/* The fields of a Release's text (after gpgv) into rel, whose where and
 * suite are set: Date, Valid-Until, Architectures, Components, the SHA256
 * list, …  Also the entry point of tests/fuzz/fuzz-release.c. */
int release_parse(struct release *rel, const char *text, perr *e);
/* The text of a clearsigned InRelease, unchecked (trusted: true only). */
int release_clearsign_text(const char *where, const strbuf *in, strbuf *text, perr *e);

/* The Packages index of component/binary-arch the Release lists, preferring
 * .xz, then .gz, then uncompressed; NULL if none. */
const struct release_file *release_find_index(const struct release *rel,
					      const char *component, const char *arch);

/* The cache entries (cache-relative paths) a resolution against rel for
 * arch relies on: rel's release/ directory and the .solv files of the
 * indexes load_pool reads (whether or not they exist yet). */
void release_cache_roots(const struct release *rel, const char *arch, strvec *out);

/* Load component/binary-arch of rel into repo (from the .solv cache when
 * present), after checking size and sha256 against the Release. */
int release_load_packages(const struct release *rel, const char *component,
			  const char *arch, bool offline, Repo *repo, perr *e);

/* Parse a decompressed Packages index (name for messages) into repo.
 * Every stanza is checked first; libsolv then gets exactly those bytes.
 * Also records Size, Maintainer and the Source version, which libsolv's
 * deb parser ignores, and the SHA256 (libsolv keeps the longest hash). */
int packages_add(Repo *repo, const char *name, const char *buf, size_t n,
		 perr *e);

/* Decompressed index bytes, pulled a block at a time: next() points *data
 * at the next block (valid until the following call) and returns its
 * length, 0 at the end, -1 with e filled on an error. */
struct index_source {
	ssize_t (*next)(void *ctx, const void **data, perr *e);
	void *ctx;
};

/* packages_add() on an index read block by block: each block is scanned
 * and then given to libsolv, so the whole index is never in memory.
 * Errors (file:line) are the same as for the index in one piece. */
int packages_add_stream(Repo *repo, const char *name, struct index_source *src, perr *e);

/* packages_add() with buf handed over in blocks of `block` bytes (0 = one
 * block): what tests use to split lines and stanzas at every place. */
int packages_add_blocks(Repo *repo, const char *name, const char *buf, size_t n,
			size_t block, perr *e);

/* Load an index fetched and verified against the Release (raw: its
 * compressed bytes, released before libsolv starts) into repo,
 * decompressing it as libsolv reads it.  plain: the uncompressed index as
 * the Release lists it (its size is checked), or NULL; max: the most
 * bytes it may decompress to. */
int release_index_add(Repo *repo, const char *name, strbuf *raw,
	      const struct release_file *plain, size_t max, perr *e);

#endif
