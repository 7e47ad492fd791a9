/*
 * registry.h - push OCI image layouts to, and pull them from, registries
 * that speak the OCI distribution spec (libcurl, one keep-alive handle).
 *
 * Push: every blob once (HEAD first, cross-repository mount with --from,
 * monolithic or chunked upload), then manifests children first, then tags:
 * the image tag, cosign's sha256-HEX.sig / .att, and the referrers
 * tag-schema fallback sha256-HEX when the registry has no referrers API.
 * Pull: the reverse, every digest verified before it is written, into an OCI
 * layout written atomically (temp dir + rename) with the signatures,
 * attestations and SBOM referrers, so `pare verify` / `pare sbom` work on it.
 * Auth: anonymous, Basic, Bearer tokens (WWW-Authenticate challenge).
 * Transient failures (429, 5xx, dropped connections) are retried with
 * exponential backoff.  See docs/registry.md.
 *
 * May include: common/, oci/ (tests/layering checks it).
 */
#ifndef PARE_REGISTRY_H
#define PARE_REGISTRY_H

#include "../common/common.h"

/* HOST[:PORT]/REPO[:TAG][@sha256:HEX].  The host part must contain a '.'
 * or ':' or be "localhost" (as docker reads references). */
struct registry_ref {
	char *host;   /* "127.0.0.1:5000" */
	char *repo;   /* "team/python3" */
	char *tag;    /* NULL when none */
	char *digest; /* "sha256:…" or NULL */
};
int registry_ref_parse(const char *s, struct registry_ref *r, perr *e);
void registry_ref_free(struct registry_ref *r);

struct registry_opts {
	const strvec *insecure;   /* HOST[:PORT] allowed over http / unverified TLS */
	const char *username;     /* with password: explicit credentials */
	const char *password;     /* never printed */
	const strvec *tags;       /* extra tags for the image (push) */
	const char *mount_from;   /* push: a repo on the same registry to mount blobs from */
	uint64_t chunk_size;      /* push: blobs larger than this go in PATCH chunks; 0 = 16 MiB */
	const char *platform;     /* pull: "OS/ARCH[/VARIANT]": that image only, as a
				   * single-platform layout; NULL = all */
	bool manifests_only;      /* pull: every manifest, config and artifact, but not the
	                           * image layers' blobs (inspect, diff: their descriptors
	                           * are enough); the layout is then not a complete image */
};

struct registry_push_result {
	char digest[7 + SHA256_HEX_LEN + 1]; /* the pushed image (index or manifest) */
	uint64_t bytes_uploaded;
	size_t blobs_uploaded, blobs_skipped, blobs_mounted;
	size_t manifests, chunk_resumes;
	bool referrers_api;  /* registry answered the referrers API or sent OCI-Subject */
	strvec tags;         /* every tag set */
};
void registry_push_result_free(struct registry_push_result *r);

/* Push the OCI layout in dir to ref. */
int registry_push(const char *dir, const char *ref, const struct registry_opts *o,
		  struct registry_push_result *res, perr *e);

struct registry_pull_result {
	char digest[7 + SHA256_HEX_LEN + 1];
	uint64_t bytes;
	size_t blobs, manifests, referrers;
};

/* Pull ref into the OCI layout dir (replaced atomically if it exists). */
int registry_pull(const char *ref, const char *dir, const struct registry_opts *o,
		  struct registry_pull_result *res, perr *e);

/* Credentials for host from $DOCKER_CONFIG/config.json or ~/.docker/config.json
 * (auths[host].auth, base64 "user:password").  0 with *user = NULL when none. */
int registry_docker_creds(const char *host, char **user, char **pass, perr *e);

#endif
