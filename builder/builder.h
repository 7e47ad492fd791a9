/*
 * builder.h - the second stage: a locked closure -> an OCI image.
 *
 *   builder_fetch()  (fetch_int.h) gets the .debs into the cache
 *   builder_build()  streams every data.tar through the policy into
 *                    per-source layers and writes an OCI layout or archive.
 *
 * Same lock + recipe -> byte-identical output, whatever the cache holds.
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
};

/* --platform OS/ARCH[/VARIANT] (OCI names, e.g. linux/amd64, linux/arm/v7;
 * a Debian arch name is taken too) -> the Debian architecture (caller
 * frees).  Not linux, or an unknown architecture: -1 and one line. */
int oci_platform_parse(const char *platform, char **deb_arch, perr *e);

/* 0 if the oci-archive path may be (over)written: it does not exist, is an
 * empty regular file, or is an oci-archive pare wrote (its index.json has
 * pare's marker or, from before it, a dev.pare.* entry annotation) that is
 * unsigned unless flags has OUT_SIGNED or OUT_UNSIGNED_OK.  A directory, a
 * symbolic link or any other file is refused with one line. */
int oci_check_tar(const char *path, unsigned flags, perr *e);

/* An image named on the command line: an OCI image layout directory, or an
 * oci-archive (what build --tar writes: a tar of oci-layout, index.json and
 * blobs/sha256/HEX), unpacked into a private directory under the cache so
 * that every layout reader (signer, registry, sbom) works on it unchanged.
 * The copy is registered for removal on SIGINT/SIGTERM and removed by
 * oci_input_close; one left by a killed pare goes at the next open. */
struct oci_input {
	const char *dir;  /* the layout to read: the argument, or the unpacked copy */
	char *tarfile;    /* the oci-archive, NULL for a directory */
	char *tmp;        /* the unpacked copy, NULL for a directory */
	int64_t mtime;    /* the archive's oci-layout mtime (kept when rewritten) */
	int slot;         /* tmp_register slot */
};
/* Open path (a directory is taken as it is; its reader checks it).  A file
 * that is not a tar holding oci-layout and index.json is one line.  With
 * for_update, an archive is first checked to be one pare may rewrite
 * (oci_check_tar). */
int oci_input_open(const char *path, bool for_update, struct oci_input *in, perr *e);
/* Write the (changed, e.g. signed) unpacked layout back over the archive:
 * TAR.part.PID, fsynced, renamed over it, oci_check_tar allowing.  No-op for
 * a directory. */
int oci_input_save(struct oci_input *in, perr *e);
/* An error from a layout reader about in->dir, made to name what the user
 * gave: the unpacked copy's path becomes the archive's (or, not named, the
 * archive prefixes the message).  Returns -1. */
int oci_input_error(const struct oci_input *in, perr *e);
void oci_input_close(struct oci_input *in);
/* Read-only access to an OCI image layout directory or an oci-archive (what
 * build --tar writes), never extracted: an archive's members are read with
 * libarchive into memory, one at a time (pare inspect / diff). */
struct oci_src;
/* path: a directory with index.json, or a tar file holding index.json; else
 * one line "PATH: not an OCI image layout or oci-archive (…)". */
int oci_src_open(const char *path, struct oci_src **out, perr *e);
bool oci_src_is_archive(const struct oci_src *s);
/* The bytes of member name ("index.json", "blobs/sha256/HEX"), at most max. */
int oci_src_read(struct oci_src *s, const char *name, strbuf *out, size_t max, perr *e);
/* The blob digest ("sha256:HEX"), checked against its digest. */
int oci_src_blob(struct oci_src *s, const char *digest, strbuf *out, size_t max, perr *e);
void oci_src_close(struct oci_src *s);
/* Debian architecture -> OCI platform architecture and variant (NULL = none). */
void oci_deb_platform(const char *arch, const char **oarch, const char **variant);

/* RFC 3339 UTC ("2025-05-10T08:53:22Z") (oci.c). */
void rfc3339(int64_t t, char buf[32]);

/* Value of a control paragraph's field (case-insensitive name), continuation
 * lines joined by "\n", trimmed; NULL when absent (deb.c; the cve module
 * reads dpkg status paragraphs with it).  Caller frees. */
char *control_field(const char *control, const char *field);
/* os-release value of KEY (unquoted), or NULL; caller frees (assemble.c). */
char *os_release_value(const char *text, const char *key);
/* The Debian codename of a release number ("12", "12.5" -> "bookworm"),
 * NULL when not a known release (assemble.c). */
const char *debian_codename_of(const char *version);

/* The commit of the git repository holding recipe_file and whether its tree
 * is dirty; -1 (and *commit NULL) when it is not in a repository. */
int builder_git_info(const char *recipe_file, char **commit, bool *dirty);
/* git config pare.sourceUrl of the repository holding recipe_file (NULL when
 * unset or not in a repository); caller frees. */
char *builder_git_source_url(const char *recipe_file);

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

/* The CVE ids (sorted, unique) that the Debian changelog of package pkg in
 * debpath mentions in its entries newer than old_version (NULL: all) up to
 * new_version (changelog.c).  No changelog in the .deb: none, no error. */
int deb_changelog_cves(const char *debpath, const char *pkg, const char *old_version,
		       const char *new_version, strvec *cves, perr *e);
/* The same over an uncompressed changelog text (unit tests, fuzzing). */
int changelog_cves_text(const char *text, size_t n, const char *old_version,
			const char *new_version, strvec *cves);

/* SOURCE_DATE_EPOCH for a lock entry: $SOURCE_DATE_EPOCH when set, else the
 * newest repository Date: in the lock (so it only moves when the lock does). */
int64_t builder_epoch(const struct lock_recipe *lr);

/* Build the image for recipe r from its lock entry lr.  The .debs of the
 * layers not in the layer cache are fetched (builder_fetch) as needed.  Writes o->outdir and/or o->tarfile atomically;
 * on error nothing is written.  res is owned by the caller
 * (build_result_free). */
int builder_build(const struct recipe *r, const struct lock_recipe *lr,
		  const struct build_opts *o, struct build_result *res, perr *e);
void build_result_free(struct build_result *res);

#endif
