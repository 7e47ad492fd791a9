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

/* ---- one repository, many small requests (rebuild/remote.c's layer cache) ----
 * A session (one keep-alive handle, auth once) with HOST/REPO.  Every reply
 * is judged: 1/0 answers for what may be missing, -1 with e set otherwise. */
typedef struct registry_repo registry_repo;
/* ref: HOST/REPO (a tag or digest in it is ignored); push: also push access. */
int registry_repo_open(const char *ref, const struct registry_opts *o, bool push,
		       registry_repo **out, perr *e);
void registry_repo_close(registry_repo *r);
/* "HOST/REPO" of the session. */
const char *registry_repo_name(const registry_repo *r);
/* GET manifest TAG (up to 4 MiB): 1 with body and digest (the registry's
 * Docker-Content-Digest, when sent, must be the bytes' sha256), 0 = 404. */
int registry_repo_manifest(registry_repo *r, const char *tag, strbuf *body, char digest[72],
			   perr *e);
/* HEAD manifest TAG: 1 = there, 0 = 404. */
int registry_repo_has_manifest(registry_repo *r, const char *tag, perr *e);
/* GET blob DIGEST of size bytes into path (through path.part, fsynced):
 * renamed into place only when its size and sha256 are right. */
int registry_repo_get_blob(registry_repo *r, const char *digest, uint64_t size, const char *path,
			   perr *e);
/* A blob from the file path, or from memory (path NULL): HEAD first, then a
 * cross-repository mount from o->mount_from (same host), then a monolithic
 * upload.  1 = uploaded, 0 = already there or mounted. */
int registry_repo_put_blob(registry_repo *r, const char *digest, uint64_t size, const char *path,
			   const void *data, perr *e);
/* PUT manifest body (media type mt) under ref (a tag or its digest). */
int registry_repo_put_manifest(registry_repo *r, const char *ref, const char *mt,
			       const void *body, size_t len, perr *e);
/* Every tag of the repository (one tags/list reply, up to 10000 tags);
 * a repository that does not exist has none. */
int registry_repo_tags(registry_repo *r, strvec *tags, perr *e);
/* DELETE manifest DIGEST: 1 = deleted, 0 = the registry does not allow
 * deletes (405, UNSUPPORTED), -1 = any other reply. */
int registry_repo_delete(registry_repo *r, const char *digest, perr *e);
/* Bytes and blobs fetched and uploaded in the session. */
void registry_repo_counts(const registry_repo *r, uint64_t *got, uint64_t *sent,
			  size_t *blobs_got, size_t *blobs_sent);

#endif
