/* registry_int.h - the HTTP client shared by push.c and pull.c. */
#ifndef PARE_REGISTRY_INT_H
#define PARE_REGISTRY_INT_H

#include "registry.h"
#include "../oci/oci.h"

#include <stdio.h>

struct reg_token {
	char *scope;
	char *token;
};

struct reg_client {
	void *curl;        /* CURL *, reused: keep-alive */
	char *host;        /* HOST[:PORT] */
	char *base;        /* "https://HOST[:PORT]" or "http://…" */
	bool insecure;     /* host named with --insecure */
	const strvec *insecure_hosts;
	char *user, *pass; /* NULL when anonymous */
	int auth;          /* REG_AUTH_* */
	char *realm, *service;
	struct reg_token *tokens;
	size_t ntokens, atokens;
	int tries;
	long backoff_ms;
	bool progress;     /* stderr is a TTY and not --quiet */
	const char *progress_label;
	uint64_t progress_off, progress_total; /* chunked: where this chunk sits in the blob */
};

enum { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct reg_req {
	const char *method;  /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
	const char *url;     /* "/v2/…" (joined to base) or absolute */
	const char *scope;   /* token scope(s), space separated */
	const char *accept;
	const char *content_type;
	const void *body;    /* memory body … */
	size_t len;
	int fd;              /* … or a file range (fd >= 0; set fd = -1 otherwise) */
	uint64_t off, flen;
	const char *content_range;
	FILE *sink;          /* response body to this file, else into resp.body */
	bool sink_capped;    /* sink: abort after sink_max bytes */
	uint64_t sink_max;
	size_t max;          /* resp.body limit (0 = 64 MiB) */
	bool no_retry;       /* body uploads: the caller resumes itself */
};

struct reg_resp {
	long status;
	strbuf body;
	char *location, *digest, *range, *www_auth, *content_type, *oci_subject;
	uint64_t body_bytes;
};

int registry_client_open(struct reg_client *c, const char *host, const struct registry_opts *o,
			 const char *scope, perr *e);
void registry_client_close(struct reg_client *c);
/* One request with auth (challenge flow), retries on 429/5xx/transport
 * errors (unless no_retry).  0 with rs->status set for any HTTP answer the
 * caller has to judge; -1 on transport failure after retries, or on 401/403
 * after authenticating (message names the registry's reply). */
int registry_do(struct reg_client *c, const struct reg_req *rq, struct reg_resp *rs, perr *e);
void registry_resp_reset(struct reg_resp *rs);
/* After a no_retry request: status 0 (dropped connection), 429 or 5xx. */
bool registry_transient(const struct reg_resp *rs);
/* "registry HOST: METHOD PATH: HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)"; returns -1. */
int registry_status_error(struct reg_client *c, const struct reg_req *rq, const struct reg_resp *rs,
			  perr *e);
/* Sleep before retry number `attempt` (1, 2, …). */
void registry_backoff(const struct reg_client *c, int attempt);

/* PARE_PUSH_DEBUG_STOP: tests only (docs/registry.md). */
void registry_debug_point(const char *kind);

/* The distribution spec's tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
bool registry_tag_ok(const char *s);

/* ---- what a registry replies, parsed (no I/O: also tests/fuzz/fuzz-registry.c) ---- */

struct cJSON;

/* `Bearer realm="…",service="…",scope="…"` (or Basic …): *scheme always set,
 * the others NULL when absent; all freed by the caller.  Returns 0. */
int registry_parse_challenge(const char *h, char **scheme, char **realm, char **service,
			     char **scope);
/* The token of a token endpoint's JSON reply ("token", else "access_token"):
 * 0 with *token (caller frees), -1 when there is none usable. */
int registry_token_from_reply(const char *body, size_t len, char **token);
/* " (CODE: message)" from an error body's errors[0], one line, or nothing. */
void registry_reply_detail(const char *body, size_t len, strbuf *out);
/* A manifest fetched as what (tag or digest): the digest asked for and the
 * Docker-Content-Digest header (may be NULL) must be the bytes' sha256, the
 * bytes a JSON object; digest and *mt (from mediaType, else content_type)
 * are set on success. */
int registry_manifest_check(const char *host, const char *what, const char *body, size_t len,
			    const char *hdr_digest, const char *content_type, char digest[72],
			    char **mt, perr *e);
/* A descriptor's sha256 digest and size (where names it in messages). */
/* GET /v2/REPO/blobs/DIGEST (scope as for the request) into part, capped at
 * size, fsynced, its sha256 and length checked against digest and size,
 * then renamed to path; *got: the bytes received.  On failure part is
 * removed and e names the registry and the blob. */
int registry_blob_get(struct reg_client *c, const char *repo, const char *scope,
		      const char *digest, uint64_t size, const char *part, const char *path,
		      uint64_t *got, perr *e);
int registry_descriptor(const char *host, const char *where, const struct cJSON *d,
			const char **digest, uint64_t *size, perr *e);
/* The next offset of an upload from the Range header ("0-N" -> N + 1). */
int registry_upload_next(const char *range, int64_t *next);

#endif
