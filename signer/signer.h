/*
 * signer.h - cosign-compatible signatures and in-toto attestations for an
 * OCI image layout, done in-process with OpenSSL 3 (no cosign binary).
 *
 * What lands in the layout (the same shapes cosign writes, so `skopeo copy`
 * to a registry followed by `cosign verify` / `cosign verify-attestation`
 * works):
 *  - per signed digest D = sha256:HEX (the image index and every per-arch
 *    image manifest): an image manifest tagged "sha256-HEX.sig" whose layers
 *    are simple-signing payloads (application/vnd.dev.cosign.simplesigning.v1+json)
 *    with the base64 signature in the annotation dev.cosignproject.cosign/signature;
 *  - per image manifest: "sha256-HEX.att", one layer per in-toto Statement v1
 *    (SPDX, CycloneDX when the layout carries those SBOMs, SLSA provenance v1)
 *    wrapped in a DSSE envelope (application/vnd.dsse.envelope.v1+json);
 *  - OCI 1.1 referrers for both (manifests with `subject`), plus the
 *    referrers tag-schema fallback index tagged "sha256-HEX".
 * See docs/signing.md.
 *
 * May include: common/, oci/ (tests/layering checks it).
 */
#ifndef PARE_SIGNER_H
#define PARE_SIGNER_H

#include "../common/common.h"

/* ---- keys ------------------------------------------------------------------ */

enum signer_key_type {
	SIGNER_KEY_ECDSA_P256, /* ECDSA P-256, SHA-256, DER signature (cosign default) */
	SIGNER_KEY_ED25519,    /* pure Ed25519 */
	SIGNER_KEY_RSA_3072,   /* RSA 3072, PKCS#1 v1.5, SHA-256 */
};

/* "ecdsa-p256" | "ed25519" | "rsa-3072" -> type; -1 if unknown. */
int signer_key_type_parse(const char *s, enum signer_key_type *out, perr *e);

/* Write NAME.key (PKCS#8 PEM, AES-256-CBC/PBKDF2-encrypted unless
 * no_password; mode 0600) and NAME.pub (SubjectPublicKeyInfo PEM), both
 * atomically.  The password is $PARE_PASSWORD, else asked twice on /dev/tty.
 * Refuses to overwrite an existing NAME.key. */
int signer_keygen(enum signer_key_type type, const char *name, bool no_password,
		  perr *e);

typedef struct signer_key signer_key;

/* A private key: a PEM file (PKCS#8, encrypted or not; legacy "EC PRIVATE
 * KEY"/"RSA PRIVATE KEY"; cosign's "ENCRYPTED SIGSTORE|COSIGN PRIVATE KEY")
 * or a "pkcs11:" URI (via the pkcs11 OpenSSL engine).  Passwords come from
 * $PARE_PASSWORD, then $COSIGN_PASSWORD, then a /dev/tty prompt. */
int signer_load_private(const char *ref, signer_key **out, perr *e);
/* A public key: SubjectPublicKeyInfo PEM (what cosign and keygen write). */
int signer_load_public(const char *path, signer_key **out, perr *e);
void signer_key_free(signer_key *k);
/* "ecdsa-p256", "ed25519", "rsa-3072" (or "rsa-N"). */
const char *signer_key_name(const signer_key *k);

/* Sign data (the algorithm follows the key, see enum above); sig gets the raw
 * signature bytes (DER for ECDSA). */
int signer_sign_bytes(signer_key *k, const void *data, size_t n, strbuf *sig,
		      perr *e);
/* 0 if sig is a valid signature over data by k, else -1 with a message. */
int signer_verify_bytes(signer_key *k, const void *data, size_t n,
			const void *sig, size_t siglen, perr *e);

/* ---- encodings ---------------------------------------------------------------- */

/* DSSE pre-authentication encoding:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body  (lengths in decimal). */
void signer_dsse_pae(const char *payload_type, const void *body, size_t n,
		     strbuf *out);

/* cosign's simple-signing payload for digest ("sha256:HEX"), byte-exact:
 * {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":D},
 *  "type":"cosign container image signature"},"optional":null} */
void signer_simple_signing_payload(const char *docker_ref, const char *digest,
				   strbuf *out);

/* ---- layouts ------------------------------------------------------------------- */

/* Sign the OCI layout in dir with the private key keyfile (see
 * signer_load_private).  docker_ref is the identity written into payloads
 * and attestation subjects (e.g. "registry.example/python3"); NULL = the
 * image name from the index.json annotation org.opencontainers.image.ref.name
 * ("NAME:TAG" -> NAME) or, failing that, dev.pare.recipe.name.
 * Idempotent: an existing signature by the same key over the same payload is
 * kept, not duplicated.  index.json is rewritten last (atomically), so a
 * failure leaves the previous layout valid. */
int signer_sign_layout(const char *dir, const char *keyfile, const char *docker_ref,
		       perr *e);
/* The same with a key already loaded (pare build loads it, password
 * included, before it builds anything).  All or nothing: on failure the
 * blobs it added are removed and index.json is as it was. */
int signer_sign_layout_key(const char *dir, signer_key *key, const char *docker_ref,
			   perr *e);

/* An in-toto statement about one image manifest that a caller above signer/
 * computes (pare's benchmark report, the image's VEX document): signer/ wraps
 * the predicate in a Statement v1 naming digest, signs it into a DSSE
 * envelope and attaches it beside the SBOM and provenance attestations. */
struct signer_statement {
	const char *digest;         /* the image manifest it is about, "sha256:…" */
	const char *predicate_type; /* a URI */
	const char *predicate;      /* the predicate, JSON text */
};
/* signer_sign_layout_key, also attaching extra[0..n) (a digest that is no
 * image manifest of the layout is an error).  Re-signing replaces: of the
 * attestation layers of a predicate type this run attaches, those signed by
 * key that carry another body go, the others (other keys, other types) stay;
 * a body already attached by key is kept, not duplicated.  All or nothing,
 * index.json written last. */
int signer_sign_layout_extra(const char *dir, signer_key *key, const char *docker_ref,
			     const struct signer_statement *extra, size_t n, perr *e);

/* One verification step, reported as it passes. */
struct signer_check {
	const char *what;   /* "signature", "attestation", "sbom", "blob", "manifest" */
	const char *arch;   /* "amd64", … or "index" */
	const char *digest; /* "sha256:…" of the object checked */
	const char *detail; /* e.g. the predicate type; may be "" */
};
typedef void (*signer_check_fn)(const struct signer_check *c, void *ctx);

/* Verify the layout in dir against the public key pubfile: every signature
 * over its payload and that the payload names the right digest; every
 * attestation's DSSE signature, statement subject and predicate type; that
 * SBOM attestations equal the SBOM artifacts in the layout; every blob's
 * digest.  arch != NULL restricts the per-arch checks to that architecture.
 * Calls fn for each passed check; returns -1 at the first failure. */
int signer_verify_layout(const char *dir, const char *pubfile, const char *arch,
			 signer_check_fn fn, void *ctx, perr *e);
/* The same on a copy of a layout without its image layers (an evidence
 * pack's): every check above but the layers' digests. */
int signer_verify_attached(const char *dir, const char *pubfile, signer_check_fn fn, void *ctx,
			   perr *e);

/* The check of a predicate type defined above signer/: 0 when predicate
 * (the verified statement's) is right for the image manifest digest, else
 * -1 and one line. */
struct cJSON;
struct signer_predicate_check {
	const char *predicate_type;
	int (*check)(const struct cJSON *predicate, const char *digest, perr *e);
};
/* signer_verify_layout, also checking the attestations of the types in
 * checks[0..n): an image whose .att carries a layer of such a type needs one
 * that verifies (DSSE signature, subject, predicate type) and passes the check. */
int signer_verify_layout_with(const char *dir, const char *pubfile, const char *arch,
			      const struct signer_predicate_check *checks, size_t n,
			      signer_check_fn fn, void *ctx, perr *e);

/* Predicate types and media types (also used by tests). */
#define SIGNER_PRED_SPDX "https://spdx.dev/Document"
#define SIGNER_PRED_CYCLONEDX "https://cyclonedx.org/bom"
#define SIGNER_PRED_SLSA1 "https://slsa.dev/provenance/v1"
#define SIGNER_SLSA_BUILD_TYPE "https://pare.invalid/build-type/debian-oci-image/v1"
#define SIGNER_BUILDER_ID "pkg:generic/pare@" PARE_VERSION

#endif
