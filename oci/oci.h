/*
 * oci.h - the OCI image layout: the hand-off between builder, sbom, signer
 * and registry, and what inspect, diff and every later reader open.
 *
 * Owns: media types, annotation keys and the layout's fixed files (one
 * definition each for the modules above; common/outdir.c and resolver/,
 * below, spell the few they check), descriptors, cosign's tag
 * scheme, platforms (Debian architecture <-> OCI), a layout directory read
 * and changed in place (struct oci_layout: blobs by digest, verified on
 * every read and written atomically; index.json; indexes, manifests and
 * configs with their media type checked), writing a complete layout
 * (directory or oci-archive) atomically beside its destination, opening a
 * layout or an oci-archive named on the command line, and reading one
 * without extracting it.  May include: common/ only; every stage above
 * includes it.
 */
#ifndef PARE_OCI_H
#define PARE_OCI_H

#include "../common/common.h"

#include <cjson/cJSON.h>

/* Media types (image-spec 1.1). */
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
/* The OCI empty descriptor: media type and the sha256 of "{}". */
#define OCI_MT_EMPTY "application/vnd.oci.empty.v1+json"
#define OCI_SHA256_EMPTY_JSON "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
/* The oci-layout file's content. */
#define OCI_LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"
/* Docker's schema 2 equivalents, read (and pushed, pulled) as the OCI ones. */
#define OCI_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCI_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
/* Layer media types start so (…tar+gzip, …tar+zstd; Docker's …rootfs.diff.tar.gzip). */
#define OCI_MT_LAYER_PREFIX "application/vnd.oci.image.layer."
#define OCI_MT_DOCKER_LAYER_PREFIX "application/vnd.docker.image.rootfs."

/* What pare attaches to an image: SBOM documents (their artifactType and
 * layer), cosign signatures and in-toto attestations (docs/signing.md). */
#define OCI_MT_SPDX "application/spdx+json"
#define OCI_MT_CYCLONEDX "application/vnd.cyclonedx+json"
#define OCI_MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define OCI_MT_DSSE "application/vnd.dsse.envelope.v1+json"
#define OCI_MT_INTOTO "application/vnd.in-toto+json"
#define OCI_AT_COSIGN_SIG "application/vnd.dev.cosign.artifact.sig.v1+json"
#define OCI_AT_COSIGN_ATT "application/vnd.dev.cosign.artifact.att.v1+json"

/* Annotation keys: the image-spec's, cosign's, and pare's own (dev.pare.*,
 * which recipes may not set: resolver/recipe.c). */
#define OCI_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define OCI_ANN_CREATED "org.opencontainers.image.created"
#define OCI_ANN_TITLE "org.opencontainers.image.title"
#define OCI_ANN_DESCRIPTION "org.opencontainers.image.description"
#define OCI_ANN_SOURCE "org.opencontainers.image.source"
#define OCI_ANN_COSIGN_SIG "dev.cosignproject.cosign/signature"
#define OCI_ANN_RECIPE_NAME "dev.pare.recipe.name"     /* on the image index and config */
#define OCI_ANN_RECIPE_SHA256 "dev.pare.recipe.sha256" /* the recipe file's sha256 */
/* on the image's index.json entry (outside the image digest) */
#define OCI_ANN_RECIPE_GIT_COMMIT "dev.pare.recipe.git-commit"
#define OCI_ANN_RECIPE_GIT_DIRTY "dev.pare.recipe.git-dirty" /* "true" when set */
#define OCI_ANN_TAGS "dev.pare.tags" /* the recipe's tags, comma-separated */
/* on an SBOM artifact's index.json entry */
#define OCI_ANN_SBOM_FORMAT "dev.pare.sbom.format" /* "spdx" | "cyclonedx" */
#define OCI_ANN_SBOM_ARCH "dev.pare.sbom.arch"     /* about that arch's image manifest */
#define OCI_ANN_SBOM_INDEX "dev.pare.sbom.index"   /* "true": about the image index */
#define OCI_ANN_SBOM_FILES "dev.pare.sbom.files"   /* "true": with per-file entries */

/* cJSON_PrintUnformatted, dying on OOM (deterministic: insertion order). */
char *oci_json_print(cJSON *j);
/* "sha256:HEX" of the NUL-terminated string s. */
void oci_digest_of(const char *s, char out[7 + SHA256_HEX_LEN + 1]);
/* {"mediaType": mt, "digest": digest, "size": size} */
cJSON *oci_descriptor(const char *mt, const char *digest, uint64_t size);

/* ---- reading and changing a layout directory (dir.c) ------------------------ */

/* "sha256:" and 64 hex digits */
#define OCI_DIGEST_LEN (7 + SHA256_HEX_LEN)
/* Size limits of what is read into memory: index.json and the JSON
 * documents of a layout (indexes, manifests, configs), and any blob. */
#define OCI_MAX_JSON ((size_t)64 << 20)
#define OCI_MAX_BLOB ((size_t)256 << 20)

/* A field of a JSON object that is a string, else NULL. */
const char *oci_json_str(const cJSON *obj, const char *field);
/* A descriptor's "size": -1 if absent or negative, INT64_MAX if too large
 * to be a blob's. */
int64_t oci_json_size(const cJSON *obj);
/* The annotation key of a descriptor or document, NULL if none. */
const char *oci_annotation(const cJSON *obj, const char *key);
/* "sha256:" and 64 lowercase hex digits (NULL is not). */
bool oci_digest_ok(const char *digest);
/* A descriptor with a sha256 digest and a whole byte count as size (*digest
 * is set either way, *size when true). */
bool oci_desc_ok(const cJSON *d, const char **digest, uint64_t *size);
/* An image index (OCI or Docker manifest list) / image manifest media type. */
bool oci_mt_is_index(const char *mt);
bool oci_mt_is_manifest(const char *mt);

/* cosign's tag scheme: "sha256-HEX" + suffix for digest "sha256:HEX" (caller
 * frees).  OCI_TAG_SIG / OCI_TAG_ATT name its signatures and attestations;
 * no suffix is the referrers tag-schema fallback index. */
#define OCI_TAG_SIG ".sig"
#define OCI_TAG_ATT ".att"
#define OCI_TAG_REFERRERS ""
char *oci_cosign_tag(const char *digest, const char *suffix);
/* A ref name of that scheme: what is attached to an image, not an image. */
bool oci_tag_is_attached(const char *tag);

/* An OCI image layout directory opened for reading and in-place changes
 * (the signer adds blobs and index.json entries). */
struct oci_layout {
	char *dir;
	cJSON *index;   /* index.json */
	strvec written; /* blobs oci_layout_write_blob created (for the caller to undo) */
};
/* dir must hold oci-layout and an index.json (at most OCI_MAX_JSON) with a
 * manifests array; else one line naming it. */
int oci_layout_open(const char *dir, struct oci_layout *l, perr *e);
void oci_layout_close(struct oci_layout *l);
/* Blob digest into out (at most max bytes), its sha256 checked and, when
 * size >= 0, its size.  A malformed digest, a missing or larger blob, or a
 * mismatch: -1 and one line. */
int oci_layout_read_blob(const struct oci_layout *l, const char *digest, int64_t size, size_t max,
			 strbuf *out, perr *e);
/* The blob descriptor desc names, its digest and size checked. */
int oci_layout_read_desc(const struct oci_layout *l, const cJSON *desc, size_t max, strbuf *out,
			 perr *e);
/* The same for a (possibly large) blob, re-hashed without loading it. */
int oci_layout_check_blob(const struct oci_layout *l, const char *digest, int64_t size, perr *e);
/* The JSON document descriptor desc names (digest and size checked, at most
 * max bytes).  want (OCI_DOC_* ORed, 0 = any document, e.g. a config): the
 * descriptor's media type must be one of those kinds, and a document that
 * names its own mediaType must name the same.  *out (caller frees) or -1. */
#define OCI_DOC_INDEX 1u
#define OCI_DOC_MANIFEST 2u
int oci_layout_read_json(const struct oci_layout *l, const cJSON *desc, unsigned want,
			 size_t max, cJSON **out, perr *e);
/* Store data as a blob (atomically; kept if it is there), recorded in
 * l->written when new; digest gets "sha256:HEX". */
int oci_layout_write_blob(struct oci_layout *l, const void *data, size_t n,
			  char digest[OCI_DIGEST_LEN + 1], perr *e);
/* Write l->index back to index.json, atomically. */
int oci_layout_save_index(const struct oci_layout *l, perr *e);
/* The index.json entry whose ref name is ref (NULL if none). */
cJSON *oci_layout_find_ref(const struct oci_layout *l, const char *ref);
/* Insert or replace the entry with ref name ref (takes ownership of desc). */
void oci_layout_set_ref(struct oci_layout *l, const char *ref, cJSON *desc);

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

/* One file of a layout being written: bytes in memory (data, len) or a
 * blob file on disk to copy (src, when data is NULL). */
struct oci_file {
	char *name;          /* relative: "blobs/sha256/HEX", "index.json", … */
	const char *data;
	size_t len;
	const char *src;
};
int oci_file_cmp(const void *a, const void *b); /* qsort by name */

/* Where a layout goes: a directory and/or an oci-archive. */
struct oci_out {
	const char *outdir;  /* NULL = none */
	const char *tarfile; /* NULL = none */
	unsigned flags;      /* OUT_* (outdir.c): may an unsigned output replace a signed one */
	int64_t epoch;       /* mtime of the archive's members */
	/* Called on the complete layout in its staging directory before it
	 * replaces outdir or is written to tarfile (e.g. to sign it); NULL = none. */
	int (*finish)(const char *dir, void *arg, perr *e);
	void *finish_arg;
};
/* Write the files f[0..*nf) as a complete layout: sorted, one copy of each
 * name (the names of duplicates are freed and *nf shrinks; the caller frees
 * the rest), staged as OUT.tmp.PID beside the destination, finished, then
 * archived and/or swapped in, so what was there stays until the new output
 * is whole and only an output pare wrote is replaced.  Stale temporaries of
 * killed runs are removed first. */
int oci_layout_write(const struct oci_out *o, struct oci_file *f, size_t *nf, perr *e);

#endif
