/* signer_int.h - private to signer/: OCI layout access shared by sign.c and
 * verify.c. */
#ifndef PARE_SIGNER_INT_H
#define PARE_SIGNER_INT_H

#include "signer.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>

/* A loaded key (opaque outside signer/). */
struct signer_key {
	EVP_PKEY *pkey;
	char name[32];
};

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define MT_DSSE "application/vnd.dsse.envelope.v1+json"
#define MT_INTOTO "application/vnd.in-toto+json"
#define MT_SPDX "application/spdx+json"
#define MT_CYCLONEDX "application/vnd.cyclonedx+json"
#define AT_COSIGN_SIG "application/vnd.dev.cosign.artifact.sig.v1+json"
#define AT_COSIGN_ATT "application/vnd.dev.cosign.artifact.att.v1+json"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_COSIGN_SIG "dev.cosignproject.cosign/signature"
#define ANN_SBOM_FORMAT "dev.pare.sbom.format"
#define COSIGN_SIG_TYPE "cosign container image signature"
#define STATEMENT_V1 "https://in-toto.io/Statement/v1"

struct layout {
	char *dir;
	cJSON *index; /* index.json */
	strvec written; /* blobs layout_write_blob created (removed if the signing fails) */
};

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

int layout_open(const char *dir, struct layout *l, perr *e);
void layout_close(struct layout *l);
/* Read blob digest, verifying size (when >= 0) and sha256. */
int layout_read_blob(const struct layout *l, const char *digest, int64_t size,
		     strbuf *out, perr *e);
/* Re-hash a (possibly large) blob without loading it. */
int layout_check_blob(const struct layout *l, const char *digest, int64_t size,
		      perr *e);
/* Store data as a blob; digest gets "sha256:HEX". */
int layout_write_blob(struct layout *l, const void *data, size_t n,
		      char digest[80], perr *e);
int layout_save_index(const struct layout *l, perr *e);
/* The index.json entry whose ref name is ref (NULL if none). */
cJSON *layout_find_ref(const struct layout *l, const char *ref);
/* Insert or replace the entry with ref name ref (takes ownership of desc). */
void layout_set_ref(struct layout *l, const char *ref, cJSON *desc);

/* Targets: every tagged image (index or manifest) that is not itself a
 * signature, attestation, referrers index or SBOM artifact. out[0] of each
 * image is the tagged object; an index is followed by its manifests. */
int layout_targets(const struct layout *l, struct target **out, size_t *n,
		   char **ref_name, perr *e);
void targets_free(struct target *t, size_t n);
int layout_sboms(const struct layout *l, struct sbom_artifact **out, size_t *n,
		 perr *e);
void sboms_free(struct sbom_artifact *s, size_t n);
/* Whether an SBOM artifact has subject digest (an index with SBOMs is attested). */
bool sboms_about(const struct sbom_artifact *s, size_t n, const char *digest);

/* {"mediaType","digest","size"} */
cJSON *descriptor(const char *media_type, const char *digest, int64_t size);
const char *json_str(const cJSON *obj, const char *field);
/* "size" of a descriptor, -1 if absent. */
int64_t json_size(const cJSON *obj);
const char *annotation(const cJSON *obj, const char *key);
/* "sha256-HEX" + suffix, for cosign's tags. */
char *cosign_tag(const char *digest, const char *suffix);

/* The in-toto statements for a per-arch manifest, in layer order. */
struct statement {
	const char *predicate_type;
	strbuf body;
};
int build_statements(const struct layout *l, const struct target *t,
		     const char *docker_ref, const struct sbom_artifact *sboms,
		     size_t nsboms, struct statement **out, size_t *n, perr *e);
void statements_free(struct statement *s, size_t n);

/* DSSE envelope over body signed with k (JSON text into out). */
int dsse_envelope(signer_key *k, const strbuf *body, strbuf *out, perr *e);
/* Verify an envelope; body gets the decoded payload. */
int dsse_verify(signer_key *k, const char *envelope, size_t n, strbuf *body,
		perr *e);

/* ---- what `pare verify` reads from others (also tests/fuzz/fuzz-verify.c) ---- */

/* A public key from memory (name for messages); see signer_load_public. */
int signer_load_public_buf(const char *name, const void *buf, size_t n, signer_key **out,
			   perr *e);
/* A cosign simple-signing layer: b64sig (the annotation) is k's signature
 * over payload, and the payload is a cosign container image signature
 * naming digest. */
int verify_simple_signing(signer_key *k, const void *payload, size_t n, const char *b64sig,
			  const char *digest, perr *e);
/* An in-toto Statement v1 (the verified DSSE payload) about digest, whose
 * predicateType is ann_pt when that is not NULL: *out gets the statement
 * (caller frees), *pred its predicateType (inside *out). */
int statement_check(const char *body, size_t n, const char *ann_pt, const char *digest,
		    cJSON **out, const char **pred, perr *e);

#endif
