/* signer_int.h - private to signer/: what sign.c and verify.c share (the
 * layout itself is read through oci/). */
#ifndef PARE_SIGNER_INT_H
#define PARE_SIGNER_INT_H

#include "signer.h"
#include "../oci/oci.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>

/* A loaded key (opaque outside signer/). */
struct signer_key {
	EVP_PKEY *pkey;
	char name[32];
};

#define COSIGN_SIG_TYPE "cosign container image signature"
#define STATEMENT_V1 "https://in-toto.io/Statement/v1"

/* A manifest the signer signs: the image index and/or its image manifests. */
struct target {
	char *digest;   /* "sha256:…" */
	char *media_type;
	int64_t size;
	char *arch;     /* "amd64", "arm64/v8", or "index" */
	bool is_index;
	cJSON *doc;     /* parsed manifest / index */
	/* the recipes' git commit and dirty flag, from the layout's index.json
	 * descriptor (outside the image digest); NULL / false = not recorded */
	char *git_commit;
	bool git_dirty;
};

/* An SBOM artifact found in the layout (subject = an image manifest). */
struct sbom_artifact {
	char *subject;  /* digest of the image manifest */
	const char *predicate; /* SIGNER_PRED_SPDX / _CYCLONEDX */
	char *manifest_digest;
	strbuf doc;     /* the document bytes */
	bool attested;  /* verify: an attestation carrying exactly this document verified */
	int for_index;  /* annotated dev.pare.sbom.index (1) or .arch (0); -1: neither */
};

/* Targets: every tagged image (index or manifest) that is not itself a
 * signature, attestation, referrers index or SBOM artifact. out[0] of each
 * image is the tagged object; an index is followed by its manifests. */
int signer_layout_targets(const struct oci_layout *l, struct target **out, size_t *n,
			  char **ref_name, perr *e);
void signer_targets_free(struct target *t, size_t n);
int signer_layout_sboms(const struct oci_layout *l, struct sbom_artifact **out, size_t *n,
			perr *e);
void signer_sboms_free(struct sbom_artifact *s, size_t n);
/* Whether an SBOM artifact has subject digest (an index with SBOMs is attested). */
bool signer_sboms_about(const struct sbom_artifact *s, size_t n, const char *digest);

/* The in-toto statements for a per-arch manifest, in layer order. */
struct statement {
	const char *predicate_type;
	strbuf body;
};
int signer_build_statements(const struct oci_layout *l, const struct target *t,
			    const char *docker_ref, const struct sbom_artifact *sboms,
			    size_t nsboms, struct statement **out, size_t *n, perr *e);
void signer_statements_free(struct statement *s, size_t n);
/* Append the statement about digest with predicate_type (kept as a pointer)
 * and the predicate (JSON text: -1 when it is not). */
int signer_add_statement(struct statement **s, size_t *n, const char *docker_ref,
			 const char *digest, const char *predicate_type, const char *predicate,
			 perr *e);

/* DSSE envelope over body signed with k (JSON text into out). */
int signer_dsse_envelope(signer_key *k, const strbuf *body, strbuf *out, perr *e);
/* Verify an envelope; body gets the decoded payload. */
int signer_dsse_verify(signer_key *k, const char *envelope, size_t n, strbuf *body,
		       perr *e);

/* ---- what `pare verify` reads from others (also tests/fuzz/fuzz-verify.c) ---- */

/* A public key from memory (name for messages); see signer_load_public. */
int signer_load_public_buf(const char *name, const void *buf, size_t n, signer_key **out,
			   perr *e);
/* A cosign simple-signing layer: b64sig (the annotation) is k's signature
 * over payload, and the payload is a cosign container image signature
 * naming digest. */
int signer_verify_simple_signing(signer_key *k, const void *payload, size_t n, const char *b64sig,
				 const char *digest, perr *e);
/* An in-toto Statement v1 (the verified DSSE payload) about digest, whose
 * predicateType is ann_pt when that is not NULL: *out gets the statement
 * (caller frees), *pred its predicateType (inside *out). */
int signer_statement_check(const char *body, size_t n, const char *ann_pt, const char *digest,
			   cJSON **out, const char **pred, perr *e);

#endif
