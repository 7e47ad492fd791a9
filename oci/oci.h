/*
 * oci.h - the OCI image layout: the hand-off between builder, sbom, signer
 * and registry, and what inspect, diff and every later reader open.
 *
 * Owns: media types and the layout's fixed files, descriptors, platforms
 * (Debian architecture <-> OCI), writing a complete layout (directory or
 * oci-archive) atomically beside its destination, opening a layout or an
 * oci-archive named on the command line, and reading one without
 * extracting it.  May include: common/ only; every stage above includes it.
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

/* cJSON_PrintUnformatted, dying on OOM (deterministic: insertion order). */
char *oci_json_print(cJSON *j);
/* "sha256:HEX" of the NUL-terminated string s. */
void oci_digest_of(const char *s, char out[7 + SHA256_HEX_LEN + 1]);
/* {"mediaType": mt, "digest": digest, "size": size} */
cJSON *oci_descriptor(const char *mt, const char *digest, uint64_t size);

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
