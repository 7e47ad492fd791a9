/*
 * common.h - the small toolkit every pare module shares.
 *
 * Conventions (read once, applies everywhere):
 *  - A function that can fail returns int: 0 on success, -1 on failure, and
 *    fills a `perr *` with a one-line, lower-case message that names the
 *    object (file:line, package, URL).  Callers add context with perr_prefix()
 *    while the error bubbles up.  Only main() prints it.
 *  - Memory: x*() allocators abort on OOM (there is nothing sensible to do).
 *    Every function frees what it owns through a single `out:` label.
 *  - Ownership, one vocabulary in every module: X_free(p) frees the object
 *    p points to, with all it owns (NULL is fine); X_release(p) frees what
 *    the fields of *p own, a struct the caller owns (on its stack, inside
 *    another, an array element), and leaves it zeroed, ready for reuse.
 *    sv_clear() is the one older name of a _release.
 *  - Output files are written to a temporary name, fsync'ed and renamed
 *    (write_file_atomic), so an interrupted run never leaves half a file.
 *  - Deterministic output everywhere: sort before writing, no wall clock.
 *
 * Module rules (docs/modules.md, checked by tests/layering): common/ sits
 * at the bottom and includes no other module of pare.
 */
#ifndef PARE_COMMON_H
#define PARE_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/stat.h>

#define PARE_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors ---------------------------------------------------------- */

typedef struct perr {
	int code;        /* PERR_* below; 0 = generic error */
	char msg[4096];  /* one line, no trailing newline */
} perr;

enum {
	PERR_GENERIC = 0,
	PERR_CHANGED = 1, /* "not an error, but something changed" (lock --check) */
};

/* Set the message; returns -1 so callers can `return perr_set(e, ...)`. */
int perr_set(perr *e, const char *fmt, ...) PRINTF(2, 3);
/* Prefix context: "CONTEXT: previous message"; returns -1. */
int perr_prefix(perr *e, const char *fmt, ...) PRINTF(2, 3);
/* perr_set with ": strerror(errno)" appended; returns -1. */
int perr_errno(perr *e, const char *fmt, ...) PRINTF(2, 3);

/* Credentials out of every URL in s (the user name and password before
 * the host's '@' become three stars), for anything shown to a person or written to a
 * log: a new string.  perr_*, note, warning and debug apply it to
 * their whole message, so a message naming a URL never shows a password;
 * output that does not go through them (stdout, reports) calls it. */
char *url_redact(const char *s);

/* ---- logging ---------------------------------------------------------- */

extern int pare_quiet;   /* --quiet: no progress, no notes */
extern int pare_verbose; /* --verbose */

void note(const char *fmt, ...) PRINTF(1, 2);    /* progress to stderr unless quiet */
void warnx_(const char *fmt, ...) PRINTF(1, 2);  /* "pare: warning: ..." always */
void debug(const char *fmt, ...) PRINTF(1, 2);   /* only with --verbose */
#define warning warnx_
_Noreturn void die(const char *fmt, ...) PRINTF(1, 2); /* impossible states only */

/* ---- memory ------------------------------------------------------------ */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);
/* Grow *p (element size sz) so that it holds at least `need` elements. */
#define ALLOC_GROW(p, need, alloc)                                             \
	do {                                                                   \
		if ((need) > (alloc)) {                                        \
			size_t a_ = (alloc) ? (alloc) * 2 : 8;                 \
			while (a_ < (need))                                    \
				a_ *= 2;                                       \
			(p) = xrealloc((p), a_ * sizeof(*(p)));                \
			(alloc) = a_;                                          \
		}                                                              \
	} while (0)

/* ---- strbuf: a growable string ----------------------------------------
 * Invariants: buf is always NUL-terminated (also when len == 0, once
 * anything was added or sb_init'ed); len excludes the NUL; alloc >= len + 1
 * when buf != NULL.  STRBUF_INIT gives an empty buffer with buf == NULL;
 * use sb_str() to read it as a C string safely.
 */
typedef struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
} strbuf;
#define STRBUF_INIT { NULL, 0, 0 }

void sb_grow(strbuf *sb, size_t extra);
void sb_add(strbuf *sb, const void *data, size_t n);
void sb_adds(strbuf *sb, const char *s);
void sb_addc(strbuf *sb, char c);
void sb_addf(strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
void sb_vaddf(strbuf *sb, const char *fmt, va_list ap) PRINTF(2, 0);
void sb_reset(strbuf *sb);            /* len = 0, keeps memory */
void sb_release(strbuf *sb);          /* frees, back to STRBUF_INIT */
char *sb_detach(strbuf *sb);          /* caller owns the string; never NULL */
const char *sb_str(const strbuf *sb); /* "" when empty */
/* s quoted for a one-line message: control characters and '\\' escaped
 * (\n, \t, \x1b…), cut after 200 bytes with "...". */
void sb_add_quoted(strbuf *sb, const char *s);

/* ---- strvec: a growable array of owned strings ------------------------ */

typedef struct strvec {
	char **v;
	size_t n;
	size_t alloc;
} strvec;
#define STRVEC_INIT { NULL, 0, 0 }

void sv_push(strvec *sv, const char *s);
void sv_pushf(strvec *sv, const char *fmt, ...) PRINTF(2, 3);
void sv_push_nodup(strvec *sv, char *s); /* takes ownership */
void sv_sort(strvec *sv);                /* strcmp order */
void sv_uniq(strvec *sv);                /* sort + drop duplicates */
bool sv_contains(const strvec *sv, const char *s);
void sv_clear(strvec *sv);
void sv_copy(strvec *dst, const strvec *src); /* appends copies */
/* Split s at any char of seps, skipping empty fields. */
void sv_split(strvec *sv, const char *s, const char *seps);

/* ---- strings ------------------------------------------------------------ */

bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);
char *str_trim(char *s); /* in place; returns s advanced past blanks */

/* ---- hashing (OpenSSL EVP) ---------------------------------------------- */

#define SHA256_HEX_LEN 64
#define SHA512_HEX_LEN 128

typedef struct phash phash;
/* algo: "sha256", "sha512", "md5" (md5 only for dpkg md5sums compatibility) */
phash *phash_new(const char *algo);
void phash_update(phash *h, const void *data, size_t n);
/* Writes lower-case hex + NUL into hex (size >= 2*digest+1); frees h. */
void phash_final_hex(phash *h, char *hex);
void phash_free(phash *h);

void sha256_hex(const void *data, size_t n, char hex[SHA256_HEX_LEN + 1]);
int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *size,
		perr *e);
/* Any digest of a file's contents (hex sized for the algorithm). */
int hash_file(const char *path, const char *algo, char *hex, uint64_t *size, perr *e);
bool is_sha256_hex(const char *s);

/* ---- deb822: Debian control files (deb822.c) ----------------------------
 * The one parser of stanzas of "Name: value" fields: a .deb's control,
 * Packages, Release / InRelease, *.sources, copyright files.  A value is its
 * first line and each continuation line after a '\n', every line without the
 * white space around it; names compare case-insensitively.  The flags give
 * each caller its strictness:
 */
enum {
	DEB822_COMMENTS = 1 << 0,  /* a '#' in column 0 starts a comment line (apt's *.sources) */
	DEB822_SKIP_JUNK = 1 << 1, /* a line that is neither a field nor the continuation of
				    * one is skipped, not an error (copyright files, Release) */
	DEB822_ONE = 1 << 2,       /* blank lines do not end the stanza: one for the whole text */
	DEB822_DOT = 1 << 3,       /* a continuation line "." is an empty line (text fields) */
	DEB822_NO_DUPS = 1 << 4,   /* a (kept) field twice in a stanza is an error */
	DEB822_STRICT = 1 << 5,    /* indexes: control characters, lines of only white space,
				    * blanks or '#' in a field name are errors, and a kept
				    * field holds one line */
};
struct deb822_field {
	strbuf name;  /* as written, without the white space around it */
	strbuf value; /* see above */
	size_t line;  /* where it starts, from 1 */
	int key;      /* its index in deb822.keep, -1 without a keep list */
};
struct deb822_stanza {
	struct deb822_field *f;
	size_t n, alloc; /* fields n.. up to alloc are spare (their memory is reused) */
	size_t line;     /* of its first field line */
};
/* The first field of that name (any case), or NULL; its value, or NULL. */
const struct deb822_field *deb822_get(const struct deb822_stanza *s, const char *name);
const char *deb822_value(const struct deb822_stanza *s, const char *name);
void deb822_stanza_release(struct deb822_stanza *s);

/* Set the public members (a designated initializer), feed the text in
 * blocks of any size, finish, release.  stanza(arg, s, e) is called for each
 * stanza with at least one field line, kept or not; it returns 0 or -1 (its
 * error in e), and may take s's fields (then it leaves *s zeroed).  Errors are
 * one line "NAME:LINE: …". */
struct deb822 {
	const char *name;        /* the file, in errors */
	unsigned flags;          /* DEB822_* */
	const char *const *keep; /* NULL-terminated names of the fields kept (any case;
				  * at most 64); NULL = all.  The others are checked,
				  * not stored. */
	int (*stanza)(void *arg, struct deb822_stanza *s, perr *e);
	void *arg;
	/* private */
	struct deb822_stanza cur;
	strbuf carry; /* a line the last block ended in the middle of */
	size_t line;
	bool in_stanza;
	int cont;      /* what a continuation line continues: 0 nothing, 1 a field not kept, 2 a kept one */
	uint64_t seen; /* kept fields (by key) in this stanza, for DEB822_NO_DUPS */
	size_t nkeep;  /* the keep list's length and its names' (at most 64) */
	unsigned char klen[64];
};
int deb822_feed(struct deb822 *p, const char *buf, size_t n, perr *e);
int deb822_finish(struct deb822 *p, perr *e);
void deb822_release(struct deb822 *p);
/* feed + finish + release: a whole text in memory. */
int deb822_parse(struct deb822 *p, const char *text, size_t n, perr *e);
/* A text that is one stanza (DEB822_ONE added to flags: a .deb's control,
 * a Release file) into *out, which the caller releases (also on error). */
int deb822_parse_one(const char *name, const char *text, unsigned flags,
		     struct deb822_stanza *out, perr *e);

/* ---- Debian releases and package identity (debian.c) --------------------- */

/* The value of KEY in an os-release text (quotes removed), or NULL; caller frees. */
char *os_release_value(const char *text, const char *key);
/* The release number of a codename ("bookworm" -> "12"); the codename itself
 * when not a known release, "unknown" for NULL. */
const char *debian_version_of(const char *codename);
/* The codename of a release number ("12", "12.5" -> "bookworm"), or NULL. */
const char *debian_codename_of(const char *version);

/* The identity of one Debian binary package, the fields the lock, the
 * build's packages, the SBOM's and the CVE matcher's all carry.  Those
 * structs embed it with DEB_ID_MEMBERS: the fields stay reachable by their
 * names (p->name) and together as p->id for the functions below.  All
 * strings are owned; NULL is "not known". */
#define DEB_ID_FIELDS char *name, *version, *arch, *source, *source_version
struct deb_id {
	DEB_ID_FIELDS;
};
#define DEB_ID_MEMBERS                 \
	union {                        \
		struct deb_id id;      \
		struct {               \
			DEB_ID_FIELDS; \
		};                     \
	}

/* Each NULL field of dst gets a copy of src's (src may be NULL): copies an
 * identity into a zeroed dst, or completes one from a second source. */
void deb_id_copy(struct deb_id *dst, const struct deb_id *src);
/* The one default: a package with no source (NULL or "") is its own source,
 * one with no source version is built from its own version.  The getters
 * apply it to a const identity (NULL only when name / version is NULL);
 * deb_id_default_source() stores it (name and version NULL leave the
 * fields NULL). */
const char *deb_id_source(const struct deb_id *id);
const char *deb_id_source_version(const struct deb_id *id);
void deb_id_default_source(struct deb_id *id);
void deb_id_release(struct deb_id *id);

/* ---- base64 (base64.c, OpenSSL EVP) --------------------------------------- */

/* Standard base64 with padding, appended to out. */
void base64_encode(const void *data, size_t n, strbuf *out);
/* Appends the bytes s decodes to (out stays NUL-terminated); -1 and
 * "invalid base64…" when s is not a multiple of 4 characters of the
 * alphabet with at most two '=' at the end. */
int base64_decode(const char *s, strbuf *out, perr *e);

/* ---- certificates (x509.c, OpenSSL) -------------------------------------- */

/* data (n bytes of path) holds one or more PEM certificates and nothing
 * damaged: 0, else -1 and "PATH: not a valid PEM certificate". */
int x509_pem_check(const char *path, const void *data, size_t n, perr *e);
/* A PKCS#12 trust store: certificate bags, each with a friendly name and
 * the attribute ATTR_OID whose value is the object ATTR_VALUE_OID (Java's
 * "trusted for" usage), in one unencrypted SafeContents with a SHA-256
 * password MAC.  add_pem adds every certificate of a PEM file, naming each
 * alias(arg) (a new string), and counts them in *count; finish appends the
 * DER to out. */
typedef struct x509_store x509_store;
x509_store *x509_store_new(const char *attr_oid, const char *attr_value_oid);
int x509_store_add_pem(x509_store *s, const char *path, const void *data, size_t n,
		       char *(*alias)(void *arg), void *arg, size_t *count, perr *e);
int x509_store_finish(x509_store *s, const char *password, const unsigned char *salt,
		      size_t saltlen, int mac_iter, strbuf *out, perr *e);
void x509_store_free(x509_store *s);

/* ---- files --------------------------------------------------------------- */

/* Read a whole file; fails if larger than max bytes (0 = 1 GiB). */
int read_file(const char *path, strbuf *out, size_t max, perr *e);
/* The one read loop: path's bytes handed to fn(arg, buf, n, e) a block at
 * a time (EINTR retried); fn returns 0 to go on or -1 (its error in e).
 * "cannot open/read 'PATH'" errors name the file. */
int read_file_fn(const char *path, int (*fn)(void *arg, const void *buf, size_t n, perr *e),
		 void *arg, perr *e);
/* All of buf to fd (a short write continues; the one that fails sets errno,
 * e.g. ENOSPC). 0 or -1. */
int write_all(int fd, const void *buf, size_t n);
/* path written (created or truncated) with mode and fsynced; no rename. */
int write_file_synced(const char *path, const void *data, size_t n, mode_t mode, perr *e);
/* A scratch file (a private temporary directory's, removed after use):
 * written, not fsynced. */
int write_file_scratch(const char *path, const void *data, size_t n, mode_t mode, perr *e);
/* write_file_atomic, unless path holds these bytes already: then it is left
 * alone (no rewrite, no fsync, no new mtime).  0 written, 1 unchanged, -1. */
int write_file_changed(const char *path, const void *data, size_t n, mode_t mode, perr *e);
/* Write via PATH.tmp.PID, fsync, rename, fsync the directory. */
int write_file_atomic(const char *path, const void *data, size_t n, mode_t mode,
		      perr *e);
/* write_file_atomic for output made by a writer: fill(fp, arg, e) writes
 * to the temporary file (returns 0 / -1), so it never sits in memory. */
int write_file_atomic_fn(const char *path, mode_t mode,
			 int (*fill)(FILE *fp, void *arg, perr *e), void *arg, perr *e);
int mkdir_p(const char *path, mode_t mode, perr *e);
/* Remove a tree (no error if missing). */
int rm_rf(const char *path, perr *e);
bool path_exists(const char *path);
bool is_dir(const char *path);
/* fsync a directory by path (after rename). */
int fsync_dir(const char *dir, perr *e);
/* Temporaries named with their writer's pid: the PID in NAME's "TAGPID" or
 * "TAGPID.N" (TAG e.g. ".tmp."), or 0 when NAME has no such part. */
long tmp_name_pid(const char *name, const char *tag);
/* Whether no process PID exists any more (not ourselves, not "cannot ask"). */
bool pid_gone(long pid);
/* Temporaries to remove when SIGINT or SIGTERM ends pare (the handler that
 * tmp_cleanup_on_signals installs removes the registered paths, trees too,
 * with async-signal-safe calls only, then dies of the signal as before; a
 * thread that registers once the handler runs waits for that death, and the
 * handler removes twice, 100 ms apart, for a file another thread was creating).
 * tmp_register returns a slot for tmp_unregister, or -1 when the table is
 * full (then the path is only left for pare cache prune).  Thread-safe. */
int tmp_register(const char *path);
void tmp_unregister(int slot);
void tmp_cleanup_on_signals(void);
/* Directory part of a path ("." when none); caller frees. */
char *path_dirname(const char *path);
const char *path_basename(const char *path);
/* Join a and b with one '/'; caller frees. */
char *path_join(const char *a, const char *b);

/* ---- outputs: what pare may replace (outdir.c, docs/image.md) ------------ */

/* The top-level index.json annotation every layout pare writes carries. */
#define OUT_MARKER "dev.pare.layout"
enum {
	OUT_SIGNED = 1,      /* the new output is signed */
	OUT_UNSIGNED_OK = 2, /* an unsigned one may replace a signed one */
};
struct cJSON;
/* Add key K to object O: the string V, or null when V is NULL (json.c). */
void json_add_str_or_null(struct cJSON *o, const char *k, const char *v);
/* Add the marker to a layout's top-level index.json object. */
void out_mark_index(struct cJSON *index);
/* index.json of a layout pare wrote: the marker, or (layouts from before
 * it) a dev.pare.* annotation on one of its entries. */
bool out_index_is_pare(const struct cJSON *index);
/* index.json names a cosign signature (a "sha256-HEX.sig" ref). */
bool out_index_is_signed(const struct cJSON *index);
/* -1 (one line naming path) when index is signed and flags say the new output is not */
int out_check_signed(const struct cJSON *index, const char *path, unsigned flags, perr *e);
bool out_layout_signed(const char *dir);
/* ARG without trailing slashes ("/" stays); caller frees. */
char *out_path(const char *arg);
/* 0 if path may be replaced by a new layout: it does not exist, is an empty
 * directory, or is a layout pare wrote holding nothing else (and, unless
 * flags has OUT_SIGNED or OUT_UNSIGNED_OK, no signature).  Else -1 and one
 * line naming path; nothing is touched. */
int out_check_dir(const char *path, unsigned flags, perr *e);
/* The first step of out_check_dir and oci_check_tar: lstat path into st.  0 when
 * it does not exist, 1 when it does and is not a symbolic link, else -1 and
 * "PATH: not replaced: it is a symbolic link (pare replaces only WHAT it wrote)". */
int out_lstat(const char *path, const char *what, struct stat *st, perr *e);
/* Put the complete directory tmp (fsynced) in place of dir, which the caller
 * has checked is its own to replace: dir moved aside to dir.old.PID, tmp
 * renamed to dir, the old one removed, the parent fsynced.  On failure dir is
 * back as it was and tmp is the caller's to remove.  (Layouts use
 * out_replace_dir: one atomic exchange.) */
int out_swap_dir(const char *tmp, const char *dir, perr *e);
/* true when dir is a directory that can be read and holds nothing */
bool out_dir_is_empty(const char *dir);
/* Put the complete layout tmp in place of path, after out_check_dir (tmp's
 * own signature sets OUT_SIGNED): swapped atomically (RENAME_EXCHANGE) and
 * the previous layout removed; the parent directory is fsynced. */
int out_replace_dir(const char *tmp, const char *path, unsigned flags, perr *e);

/* $XDG_CACHE_HOME/pare, else $HOME/.cache/pare; created on demand.
 * PARE_CACHE_DIR overrides (tests). Returned string is static. */
const char *pare_cache_dir(void);

/* $cache/roots/NAME lists paths (cache-relative, sorted and deduplicated in
 * place), one per line: the entries `pare cache prune` keeps while the file
 * is younger than --older-than.  Written atomically when its content
 * changes; otherwise only its mtime is refreshed. */
int cache_roots_write(const char *name, strvec *paths, perr *e);

/* The cache's collector (cache.c, docs/cache.md): pare cache du counts the
 * entries of each kind; prune drops roots older than days, removes what no
 * other roots list (but entries of the last hour) and the leftovers of
 * killed pulls, or with dry_run only counts them.  Errors say "cache: …". */
#define CACHE_NKINDS 10
struct cache_tally {
	const char *kind, *path; /* "debs", "debs/sha256" */
	size_t n;
	uint64_t bytes;
};
struct cache_report {
	char *dir;                                /* the cache directory, resolved */
	struct cache_tally kinds[CACHE_NKINDS];   /* du: there; prune: removed (or would be) */
	strvec pulls;                             /* prune: "removed PATH (left by …)" lines */
};
int cache_du(struct cache_report *r, perr *e);
int cache_prune(int64_t days, bool dry_run, struct cache_report *r, perr *e);
void cache_report_release(struct cache_report *r);

/* This binary's GNU build ID in hex (static), NULL if it was linked
 * without one.  Caches of answers that depend on pare's own code key on it. */
const char *pare_build_id(void);

/* ---- fetch (libcurl for http/https, plain reads for file://) ------------ */

/* Download url into memory; fails above max bytes (0 = 512 MiB).
 * http status >= 400 is an error naming the URL and the status.
 * If *not_found is non-NULL, a 404 / missing file sets it and returns -1. */
int fetch_to_buf(const char *url, strbuf *out, size_t max, bool *not_found,
		 perr *e);

/* A conditional download of an http(s) url to dest (created, fsynced; on
 * failure removed): If-None-Match with etag and If-Modified-Since with
 * last_modified when given, so an unchanged document costs one round trip
 * (then not_modified is set and dest is not written).  More than max bytes
 * (a Content-Length that claims more, too) is an error naming the URL. */
struct fetch_cond {
	const char *etag;          /* in: the cached ETag, or NULL */
	int64_t last_modified;     /* in: the cached Last-Modified, 0 = none */
	bool not_modified;         /* out: HTTP 304 */
	char *new_etag;            /* out: the response's ETag or NULL; caller frees */
	int64_t new_last_modified; /* out: its Last-Modified, 0 when none */
};
int fetch_to_file_cond(const char *url, const char *dest, uint64_t max, struct fetch_cond *c,
		       perr *e);

struct fetch_job {
	const char *url;     /* source */
	const char *dest;    /* final path; written as dest.part then renamed */
	uint64_t size;       /* expected size, 0 = unknown */
	const char *sha256;  /* expected hex digest, NULL = don't check */
	const char *label;   /* what to name in errors, e.g. the package */
	/* out */
	int failed;
	char err[512];
};
/* Fetch jobs in parallel (curl multi; file:// copies), verifying size and
 * sha256 before the rename, so nothing unverified ever lands at dest.
 * Progress bar on stderr when it is a TTY and !pare_quiet.
 * Returns -1 with the first failure in e if any job failed. */
int fetch_many(struct fetch_job *jobs, size_t n, int parallel, perr *e);

/* The deadline for one whole transfer in seconds: PARE_FETCH_TIMEOUT, else
 * FETCH_TIMEOUT_DEFAULT (every libcurl transfer: indexes, .debs, registry). */
#define FETCH_TIMEOUT_DEFAULT 300L
long fetch_timeout(void);

/* libcurl's global state: fetch_global_init before a handle is made (once per process,
 * thread-safe; fetch.c and registry/ call it), fetch_global_cleanup at exit (main; a no-op
 * when no handle was ever made, so libcurl is not loaded for it). */
void fetch_global_init(void);
void fetch_global_cleanup(void);

/* ---- time ---------------------------------------------------------------- */

/* Parse an RFC 2822 date as used in Release files ("Sat, 10 May 2025 08:53:22 UTC");
 * returns -1 if unparsable. */
int parse_rfc2822(const char *s, int64_t *out);
/* t as RFC 3339 UTC, "2025-05-10T08:53:22Z" (what OCI configs, SBOMs and
 * logs carry); buf holds TIME_RFC3339_LEN bytes. */
#define TIME_RFC3339_LEN 32
void time_rfc3339(int64_t t, char buf[TIME_RFC3339_LEN]);
/* SOURCE_DATE_EPOCH from the environment, or fallback. */
int64_t source_date_epoch(int64_t fallback);

#endif
