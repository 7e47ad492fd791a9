/* evidence_int.h - the parts of evidence/ (pack.c gathers, doc.c writes
 * VERIFY.md and index.html, out.c writes and reads the directory or tar,
 * verify.c checks).  Private to evidence/. */
#ifndef PARE_EVIDENCE_INT_H
#define PARE_EVIDENCE_INT_H

#include "evidence.h"
#include "../audit/audit.h"

/* The files of a pack, in memory until written (image layers are never
 * part of a pack, so what remains is small): name relative to the pack. */
struct evidence_file {
	char *name;
	strbuf data;
};
struct evidence_pack {
	struct evidence_file *f;
	size_t n, alloc;
};
/* A new file named by fmt; its (empty) contents to fill. */
strbuf *evidence_add(struct evidence_pack *p, const char *fmt, ...) PRINTF(2, 3);
void evidence_sort(struct evidence_pack *p);
void evidence_pack_release(struct evidence_pack *p);

/* The marker every pack holds at its root: what says a directory or tar is
 * a pack pare wrote (and may replace). */
#define EV_MARKER ".pare-evidence"
#define EV_MANIFEST "MANIFEST.sha256"
#define EV_MANIFEST_SIG "MANIFEST.sha256.sig"

/* A cosign signature layer: payload and base64 signature files in the pack. */
struct evidence_sig {
	char *label;   /* "index", "amd64", … (what it signs) */
	char *target;  /* the signed digest */
	char *payload; /* images/N/layout/blobs/sha256/HEX */
	char *sig;     /* images/N/signatures/LABEL.sig */
};
/* An in-toto attestation layer: its DSSE envelope and the subject's manifest. */
struct evidence_att {
	char *label;
	char *type;     /* cosign's --type (spdxjson, cyclonedx, slsaprovenance1) or the predicate */
	char *envelope; /* images/N/layout/blobs/sha256/HEX */
	char *subject;  /* the attested manifest's blob in the pack */
};
struct evidence_image {
	char *name;       /* images/NAME */
	char *arg;        /* what was given */
	char *recipe;     /* dev.pare.recipe.name, or NULL */
	char *index;      /* the image index digest, or NULL (a single manifest) */
	struct audit_report *reps; /* one per platform */
	size_t nreps;
	int key;          /* the --key its signatures verify with */
	bool locked;      /* its lock entry is in the pack */
	bool cve;         /* a CVE report is in the pack */
	size_t cve_counts[6]; /* by enum cve_class */
	struct evidence_sig *sigs;
	size_t nsigs;
	struct evidence_att *atts;
	size_t natts;
};
void evidence_image_release(struct evidence_image *im);

struct evidence_key {
	char *file;      /* keys/NAME */
	char *type;       /* "ecdsa-p256", … */
	char sha256[SHA256_HEX_LEN + 1]; /* of the file */
};

/* VERIFY.md and index.html; signer is the key that signed the manifest
 * (NULL: the pack is unsigned). */
void evidence_verify_md(strbuf *sb, const struct evidence_image *ims, size_t n, const struct evidence_key *keys,
		  size_t nkeys, const struct evidence_key *signer);
void evidence_index_html(strbuf *sb, const struct evidence_image *ims, size_t n, const struct evidence_key *keys,
		   size_t nkeys, const struct evidence_key *signer, const struct evidence_pack *p);

/* out.c: the pack written at path (a directory, or a tar when it ends in
 * ".tar"), every entry with mtime; refuses what is not a pack. */
int evidence_write(const struct evidence_pack *p, const char *path, int64_t mtime, perr *e);
/* A tar pack unpacked into the new directory dir (regular files only, no
 * absolute or ".." names, no name twice). */
int evidence_untar(const char *tar, const char *dir, perr *e);
/* The manifest and its signature of the pack at path (a directory or a tar)
 * when it is one: 0 with both read, else -1 (nothing said). */
int evidence_read_signed(const char *path, strbuf *manifest, strbuf *sig);

#endif
