/* client.c - one libcurl handle per registry, auth (Basic, Bearer challenge),
 * retries with exponential backoff.  Credentials only ever go into curl's
 * auth options or an Authorization header, never into a URL or a message. */
#define _GNU_SOURCE
#include "registry_int.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USER_AGENT "pare/" PARE_VERSION

void registry_resp_reset(struct reg_resp *rs)
{
	sb_release(&rs->body);
	free(rs->location), free(rs->digest), free(rs->range);
	free(rs->www_auth), free(rs->content_type), free(rs->oci_subject);
	memset(rs, 0, sizeof(*rs));
}

void registry_backoff(const struct reg_client *c, int attempt)
{
	long ms = c->backoff_ms;
	struct timespec ts;

	for (int i = 1; i < attempt && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void registry_debug_point(const char *kind)
{
	static long seen_blob, seen_chunk;
	const char *v = getenv("PARE_PUSH_DEBUG_STOP");
	long *n = !strcmp(kind, "blob") ? &seen_blob : &seen_chunk;
	size_t kl = strlen(kind);

	++*n;
	/* "blob:N" / "chunk:N": stop the process (SIGSTOP) after the Nth one,
	 * so a test can kill the registry at a known point, then SIGCONT. */
	if (v && !strncmp(v, kind, kl) && v[kl] == ':' && atol(v + kl + 1) == *n) {
		fprintf(stderr, "pare: debug: stopping after %s %ld\n", kind, *n);
		raise(SIGSTOP);
	}
}

/* ---- URLs ------------------------------------------------------------------------ */

static char *full_url(const struct reg_client *c, const char *url)
{
	if (str_starts(url, "http://") || str_starts(url, "https://"))
		return xstrdup(url);
	return xasprintf("%s%s", c->base, url);
}

/* The path of a URL without its query (upload URLs carry state tokens). */
static char *url_for_msg(const char *url)
{
	const char *p = url, *q;

	if (str_starts(p, "http://") || str_starts(p, "https://")) {
		p = strstr(p, "://") + 3;
		p += strcspn(p, "/");
	}
	q = strchr(p, '?');
	return q ? xstrndup(p, (size_t)(q - p)) : xstrdup(p);
}

static bool host_insecure(const strvec *hosts, const char *host)
{
	return hosts && sv_contains(hosts, host);
}

/* ---- transfer callbacks ------------------------------------------------------------ */

struct xfer {
	const struct reg_req *rq;
	struct reg_resp *rs;
	uint64_t pos;
	size_t max;
	bool too_big;
	const struct reg_client *c;
	int last_pct;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	uint64_t total = x->rq->fd >= 0 ? x->rq->flen : x->rq->len;
	size_t n = size * nitems;
	ssize_t r;

	if (x->pos >= total)
		return 0;
	if (n > total - x->pos)
		n = (size_t)(total - x->pos);
	if (x->rq->fd >= 0) {
		r = pread(x->rq->fd, buf, n, (off_t)(x->rq->off + x->pos));
		if (r <= 0)
			return CURL_READFUNC_ABORT;
		n = (size_t)r;
	} else {
		memcpy(buf, (const char *)x->rq->body + x->pos, n);
	}
	x->pos += n;
	return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	x->pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	x->rs->body_bytes += n;
	if (x->rq->sink && x->rq->sink_capped) {
		long code = 0;

		/* a blob never has more bytes than its descriptor says: an
		 * endless reply stops at size + 1; an error reply (a 503's
		 * JSON, retried) may be longer than a small blob */
		curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &code);
		if (x->rs->body_bytes > (code / 100 == 2 ? x->rq->sink_max : (uint64_t)x->max)) {
			x->too_big = true;
			return 0;
		}
	}
	if (x->rq->sink)
		return fwrite(ptr, 1, n, x->rq->sink);
	if (x->rs->body.len + n > x->max) {
		x->too_big = true;
		return 0;
	}
	sb_add(&x->rs->body, ptr, n);
	return n;
}

static void set_hdr(char **dst, const char *v, size_t n)
{
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	free(*dst);
	*dst = xstrndup(v, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	struct reg_resp *rs = x->rs;
	size_t n = size * nitems;
	static const struct { const char *name; size_t off; } want[] = {
		{ "location", offsetof(struct reg_resp, location) },
		{ "docker-content-digest", offsetof(struct reg_resp, digest) },
		{ "range", offsetof(struct reg_resp, range) },
		{ "www-authenticate", offsetof(struct reg_resp, www_auth) },
		{ "content-type", offsetof(struct reg_resp, content_type) },
		{ "oci-subject", offsetof(struct reg_resp, oci_subject) },
	};

	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* a new response (after 100-continue or a redirect): forget the last */
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			char **p = (char **)((char *)rs + want[i].off);
			free(*p);
			*p = NULL;
		}
		return n;
	}
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		size_t l = strlen(want[i].name);
		if (n > l && buf[l] == ':' && !strncasecmp(buf, want[i].name, l))
			set_hdr((char **)((char *)rs + want[i].off), buf + l + 1, n - l - 1);
	}
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;
	curl_off_t total = ultotal ? ultotal : dltotal, now = ultotal ? ulnow : dlnow;
	int pct;

	if (x->c->progress_total && ultotal) {
		/* one chunk of a blob: show the whole blob's progress */
		total = (curl_off_t)x->c->progress_total;
		now += (curl_off_t)x->c->progress_off;
	}

	if (!x->c->progress || total < (1 << 20))
		return 0;
	pct = (int)(now * 100 / total);
	if (pct != x->last_pct) {
		x->last_pct = pct;
		fprintf(stderr, "\r%s %3d%% of %.1f MB", x->c->progress_label ? x->c->progress_label : "",
			pct, (double)total / 1e6);
		if (pct == 100 && !x->c->progress_total)
			fputc('\n', stderr);
	}
	return 0;
}

/* ---- one attempt ------------------------------------------------------------------- */

static CURLcode perform(struct reg_client *c, const struct reg_req *rq, struct reg_resp *rs,
			const char *bearer, bool basic, bool *too_big)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	struct xfer x = { rq, rs, 0, rq->max ? rq->max : (64u << 20), false, c, -1 };
	char *url = full_url(c, rq->url), *t;
	bool has_body = rq->body || rq->fd >= 0 || !strcmp(rq->method, "PUT") ||
			!strcmp(rq->method, "POST") || !strcmp(rq->method, "PATCH");
	CURLcode cc;

	registry_resp_reset(rs);
	if (rq->sink) {
		rewind(rq->sink);
		if (ftruncate(fileno(rq->sink), 0) < 0)
			return CURLE_WRITE_ERROR;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* a stalled connection counts as dropped: under 1 B/s for 30 s */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	/* a trickle (a byte every few seconds) is not stalled: the whole
	 * request has a deadline (PARE_FETCH_TIMEOUT) */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, fetch_timeout());
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->insecure ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, !strcmp(rq->method, "GET") ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	if (!strcmp(rq->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (has_body) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(rq->fd >= 0 ? rq->flen : rq->len));
		hdrs = curl_slist_append(hdrs, "Expect:");
	} else if (strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method); /* DELETE */
	}
	if (rq->accept) {
		t = xasprintf("Accept: %s", rq->accept);
		hdrs = curl_slist_append(hdrs, t);
		free(t);
	}
	if (has_body) {
		t = xasprintf("Content-Type: %s",
			      rq->content_type ? rq->content_type : "application/octet-stream");
		hdrs = curl_slist_append(hdrs, t);
		free(t);
	}
	if (rq->content_range) {
		t = xasprintf("Content-Range: %s", rq->content_range);
		hdrs = curl_slist_append(hdrs, t);
		free(t);
	}
	if (bearer) {
		t = xasprintf("Authorization: Bearer %s", bearer);
		hdrs = curl_slist_append(hdrs, t);
		explicit_bzero(t, strlen(t));
		free(t);
	} else if (basic && c->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->pass);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
	*too_big = x.too_big;
	if (x.c->progress && x.last_pct >= 0 && x.last_pct < 100 && !c->progress_total)
		fputc('\n', stderr);
	/* the header list held a token: wipe before freeing */
	for (struct curl_slist *s = hdrs; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
	free(url);
	return cc;
}

static bool transient_cc(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool transient_status(long st)
{
	return st == 429 || (st >= 500 && st <= 599);
}

bool registry_transient(const struct reg_resp *rs)
{
	return rs->status == 0 || transient_status(rs->status);
}

/* ---- errors ------------------------------------------------------------------------ */

static const char *status_text(long st)
{
	switch (st) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

/* The registry's words go into a one-line message: control characters
 * (a newline would forge a line of pare's own) become '?', and a chatty
 * registry is cut short. */
static void add_words(strbuf *out, const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
		if (n == 200) {
			sb_adds(out, "…");
			break;
		}
		sb_addc(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
	}
}

void registry_reply_detail(const char *body, size_t len, strbuf *out)
{
	cJSON *j = len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e0, "code"));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e0, "message"));

	if (code || msg) {
		sb_adds(out, " (");
		add_words(out, code ? code : "");
		sb_adds(out, code && msg ? ": " : "");
		add_words(out, msg ? msg : "");
		sb_adds(out, ")");
	}
	cJSON_Delete(j);
}

int registry_status_error(struct reg_client *c, const struct reg_req *rq, const struct reg_resp *rs,
			  perr *e)
{
	strbuf d = STRBUF_INIT;
	char *path = url_for_msg(rq->url);

	registry_reply_detail(rs->body.buf, rs->body.len, &d);
	if (rs->status == 401 && c->user && rs->www_auth && strstr(rs->www_auth, "insufficient_scope"))
		sb_adds(&d, ": the credentials do not allow this (insufficient_scope)");
	else if (rs->status == 401)
		sb_adds(&d, c->user ? ": wrong username or password?"
				    : ": no credentials (use --username/--password-stdin or docker login)");
	else if (rs->status == 403)
		sb_adds(&d, ": the credentials have no access to this repository");
	perr_set(e, "registry %s: %s %s: HTTP %ld %s%s", c->host, rq->method, path, rs->status,
		 status_text(rs->status), sb_str(&d));
	sb_release(&d);
	free(path);
	return -1;
}

static int transport_error(struct reg_client *c, const struct reg_req *rq, CURLcode cc, int tries,
			   perr *e)
{
	char *path = url_for_msg(rq->url);

	perr_set(e, "registry %s: %s %s: %s (after %d tr%s)", c->host, rq->method, path,
		 curl_easy_strerror(cc), tries, tries == 1 ? "y" : "ies");
	free(path);
	return -1;
}

/* ---- auth --------------------------------------------------------------------------- */

int registry_parse_challenge(const char *h, char **scheme, char **realm, char **service,
			     char **scope)
{
	const char *p = h;
	size_t n = strcspn(p, " ");

	*scheme = xstrndup(p, n);
	*realm = *service = *scope = NULL;
	p += n;
	while (*p) {
		const char *k, *v;
		size_t kl;
		strbuf val = STRBUF_INIT;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		k = p;
		kl = strcspn(p, "=, ");
		p += kl;
		if (*p != '=') {
			continue;
		}
		p++;
		if (*p == '"') {
			for (v = ++p; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				sb_addc(&val, *p);
			}
			if (*p == '"')
				p++;
		} else {
			v = p;
			p += strcspn(p, ",");
			sb_add(&val, v, (size_t)(p - v));
		}
		if (kl == 5 && !strncasecmp(k, "realm", 5))
			free(*realm), *realm = sb_detach(&val);
		else if (kl == 7 && !strncasecmp(k, "service", 7))
			free(*service), *service = sb_detach(&val);
		else if (kl == 5 && !strncasecmp(k, "scope", 5))
			free(*scope), *scope = sb_detach(&val);
		sb_release(&val);
	}
	return 0;
}

static const char *cached_token(const struct reg_client *c, const char *scope)
{
	for (size_t i = 0; i < c->ntokens; i++)
		if (!strcmp(c->tokens[i].scope, scope ? scope : ""))
			return c->tokens[i].token;
	return NULL;
}

static void drop_token(struct reg_client *c, const char *token)
{
	for (size_t i = 0; i < c->ntokens; i++) {
		if (c->tokens[i].token != token)
			continue;
		explicit_bzero(c->tokens[i].token, strlen(c->tokens[i].token));
		free(c->tokens[i].token), free(c->tokens[i].scope);
		c->tokens[i] = c->tokens[--c->ntokens];
		return;
	}
}

int registry_token_from_reply(const char *body, size_t len, char **token)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "token"));
	int ret = -1;

	*token = NULL;
	if (!tok || !*tok)
		tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "access_token"));
	if (!tok || !*tok)
		goto out;
	/* it goes into an Authorization header: a CR or LF would end it and
	 * start a header of the token server's choosing */
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
		if (*p < 0x21 || *p == 0x7f)
			goto out;
	*token = xstrdup(tok);
	ret = 0;
out:
	cJSON_Delete(j);
	return ret;
}

/* GET realm?service=…&scope=… (Basic credentials if we have any). */
static int fetch_token(struct reg_client *c, const char *scope, perr *e)
{
	CURLU *u = curl_url();
	char *rhost = NULL, *rscheme = NULL, *url = NULL, *q;
	strvec scopes = STRVEC_INIT;
	struct reg_req rq = { .method = "GET", .fd = -1, .max = 1 << 20 };
	struct reg_resp rs = { 0 };
	char *tok;
	bool too_big;
	CURLcode cc;
	int ret = -1;
	strbuf ub = STRBUF_INIT;

	if (curl_url_set(u, CURLUPART_URL, c->realm, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &rhost, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &rscheme, 0)) {
		perr_set(e, "registry %s: bad token realm '%s'", c->host, c->realm);
		goto out;
	}
	{
		char *port = NULL;
		char *hp;
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		hp = port ? xasprintf("%s:%s", rhost, port) : xstrdup(rhost);
		/* credentials and tokens travel in clear only to hosts named insecure */
		if (strcmp(rscheme, "https") && !host_insecure(c->insecure_hosts, hp) &&
		    !host_insecure(c->insecure_hosts, rhost)) {
			perr_set(e, "registry %s: token realm %s is not https (add --insecure %s to allow it)",
				 c->host, c->realm, hp);
			free(hp), curl_free(port);
			goto out;
		}
		free(hp), curl_free(port);
	}
	sb_adds(&ub, c->realm);
	sb_addc(&ub, strchr(c->realm, '?') ? '&' : '?');
	q = curl_easy_escape(c->curl, c->service ? c->service : "", 0);
	sb_addf(&ub, "service=%s", q);
	curl_free(q);
	sv_split(&scopes, scope ? scope : "", " ");
	for (size_t i = 0; i < scopes.n; i++) {
		q = curl_easy_escape(c->curl, scopes.v[i], 0);
		sb_addf(&ub, "&scope=%s", q);
		curl_free(q);
	}
	if (c->user) {
		q = curl_easy_escape(c->curl, c->user, 0);
		sb_addf(&ub, "&account=%s", q);
		curl_free(q);
	}
	url = sb_detach(&ub);
	rq.url = url;
	for (int attempt = 1;; attempt++) {
		bool insecure = c->insecure;
		c->insecure = c->insecure || host_insecure(c->insecure_hosts, rhost);
		cc = perform(c, &rq, &rs, NULL, true, &too_big);
		c->insecure = insecure;
		if ((cc == CURLE_OK && !transient_status(rs.status)) || attempt >= c->tries)
			break;
		if (cc != CURLE_OK && !transient_cc(cc))
			break;
		registry_backoff(c, attempt);
	}
	if (cc != CURLE_OK) {
		perr_set(e, "registry %s: token server %s: %s", c->host, c->realm, curl_easy_strerror(cc));
		goto out;
	}
	if (rs.status != 200) {
		strbuf d = STRBUF_INIT;
		registry_reply_detail(rs.body.buf, rs.body.len, &d);
		perr_set(e, "registry %s: token server %s: HTTP %ld %s%s%s", c->host, c->realm,
			 rs.status, status_text(rs.status), sb_str(&d),
			 rs.status == 401 ? (c->user ? ": wrong username or password?"
						     : ": no credentials (use --username/--password-stdin or docker login)")
					  : "");
		sb_release(&d);
		goto out;
	}
	if (registry_token_from_reply(rs.body.buf, rs.body.len, &tok) < 0) {
		perr_set(e, "registry %s: token server %s: no usable token in its reply", c->host,
			 c->realm);
		goto out;
	}
	ALLOC_GROW(c->tokens, c->ntokens + 1, c->atokens);
	c->tokens[c->ntokens].scope = xstrdup(scope ? scope : "");
	c->tokens[c->ntokens++].token = tok;
	ret = 0;
out:
	if (rs.body.buf)
		explicit_bzero(rs.body.buf, rs.body.len);
	registry_resp_reset(&rs);
	curl_free(rhost);
	curl_free(rscheme);
	curl_url_cleanup(u);
	sv_clear(&scopes);
	sb_release(&ub);
	free(url);
	return ret;
}

/* A 401 with a challenge: set up auth for the retry.  0 = retry, -1 = give up. */
static int answer_challenge(struct reg_client *c, const struct reg_req *rq, struct reg_resp *rs,
			    perr *e)
{
	char *scheme = NULL, *realm = NULL, *service = NULL, *scope = NULL;
	int ret = -1;

	if (!rs->www_auth)
		return registry_status_error(c, rq, rs, e);
	registry_parse_challenge(rs->www_auth, &scheme, &realm, &service, &scope);
	if (!strcasecmp(scheme, "basic")) {
		if (!c->user) {
			registry_status_error(c, rq, rs, e);
			goto out;
		}
		c->auth = REG_AUTH_BASIC;
		ret = 0;
	} else if (!strcasecmp(scheme, "bearer") && realm) {
		c->auth = REG_AUTH_BEARER;
		free(c->realm), c->realm = realm, realm = NULL;
		free(c->service), c->service = service, service = NULL;
		/* the challenge's scope wins: it names what this request needs */
		ret = fetch_token(c, rq->scope ? rq->scope : scope, e);
		if (ret == 0 && !rq->scope && scope) {
			/* cache under our key too (NULL scope = the ping) */
			free(c->tokens[c->ntokens - 1].scope);
			c->tokens[c->ntokens - 1].scope = xstrdup("");
		}
	} else {
		perr_set(e, "registry %s: unsupported authentication '%s'", c->host, scheme);
	}
out:
	free(scheme), free(realm), free(service), free(scope);
	return ret;
}

int registry_do(struct reg_client *c, const struct reg_req *rq, struct reg_resp *rs, perr *e)
{
	bool authed = false, too_big;
	CURLcode cc;

	for (int attempt = 1;; attempt++) {
		const char *bearer = c->auth == REG_AUTH_BEARER ? cached_token(c, rq->scope) : NULL;

		/* a new scope on a token registry: ask for its token up front */
		if (c->auth == REG_AUTH_BEARER && !bearer && c->realm && !authed) {
			authed = true;
			if (fetch_token(c, rq->scope, e) < 0)
				return -1;
			bearer = cached_token(c, rq->scope);
		}

		cc = perform(c, rq, rs, bearer, c->auth == REG_AUTH_BASIC, &too_big);
		if (cc == CURLE_OK && rs->status == 401 && !authed) {
			authed = true;
			if (c->auth == REG_AUTH_BEARER && bearer)
				drop_token(c, bearer); /* expired: answer_challenge gets a fresh one */
			if (answer_challenge(c, rq, rs, e) < 0)
				return -1;
			attempt--;
			continue;
		}
		if (cc == CURLE_OK && (rs->status == 401 || rs->status == 403))
			return registry_status_error(c, rq, rs, e);
		if (too_big) {
			char *path = url_for_msg(rq->url);
			perr_set(e, "registry %s: %s %s: reply larger than %llu bytes", c->host,
				 rq->method, path, rq->sink_capped ? (unsigned long long)rq->sink_max :
				 (unsigned long long)(rq->max ? rq->max : (size_t)(64u << 20)));
			free(path);
			return -1;
		}
		if (cc == CURLE_OK && !transient_status(rs->status))
			return 0;
		if (rq->no_retry && (cc == CURLE_OK || transient_cc(cc))) {
			/* the caller resumes or restarts: status 0 = dropped connection */
			if (cc != CURLE_OK) {
				transport_error(c, rq, cc, attempt, e);
				rs->status = 0;
			} else {
				registry_status_error(c, rq, rs, e);
			}
			return 0;
		}
		if (attempt >= c->tries || (cc != CURLE_OK && !transient_cc(cc))) {
			if (cc != CURLE_OK)
				return transport_error(c, rq, cc, attempt, e);
			return registry_status_error(c, rq, rs, e);
		}
		debug("registry %s: %s: retry %d after %s", c->host, rq->method, attempt,
		      cc != CURLE_OK ? curl_easy_strerror(cc) : status_text(rs->status));
		registry_backoff(c, attempt);
	}
}

/* ---- open / close --------------------------------------------------------------------- */

int registry_client_open(struct reg_client *c, const char *host, const struct registry_opts *o,
			 const char *scope, perr *e)
{
	struct reg_req rq = { .method = "GET", .url = "/v2/", .fd = -1, .scope = scope };
	struct reg_resp rs = { 0 };
	const char *v;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	fetch_global_init();
	c->curl = curl_easy_init();
	if (!c->curl)
		die("curl_easy_init failed");
	c->host = xstrdup(host);
	c->insecure_hosts = o->insecure;
	c->insecure = host_insecure(o->insecure, host);
	c->tries = 5;
	c->backoff_ms = 500;
	if ((v = getenv("PARE_REGISTRY_BACKOFF_MS")) && atol(v) > 0)
		c->backoff_ms = atol(v);
	if ((v = getenv("PARE_REGISTRY_TRIES")) && atoi(v) > 0)
		c->tries = atoi(v);
	c->progress = !pare_quiet && isatty(2);
	if (o->username) {
		c->user = xstrdup(o->username);
		c->pass = xstrdup(o->password ? o->password : "");
	} else if (registry_docker_creds(host, &c->user, &c->pass, e) < 0) {
		goto out;
	}
	/* Verified https always; an --insecure host may be plain http: try
	 * https without verification first, as docker does, then http. */
	c->base = xasprintf("https://%s", host);
	if (c->insecure) {
		bool too_big;
		CURLcode cc = perform(c, &rq, &rs, NULL, false, &too_big);
		if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_RECV_ERROR ||
		    cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR) {
			free(c->base);
			c->base = xasprintf("http://%s", host);
		}
	}
	if (registry_do(c, &rq, &rs, e) < 0)
		goto out;
	if (rs.status != 200) {
		registry_status_error(c, &rq, &rs, e);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0 && (strstr(e->msg, "SSL") || strstr(e->msg, "certificate")) && !c->insecure) {
		char *m = xstrdup(e->msg);
		perr_set(e, "%s (TLS is verified; for a plain-http or self-signed registry pass --insecure %s)",
			 m, host);
		free(m);
	}
	registry_resp_reset(&rs);
	return ret;
}

void registry_client_close(struct reg_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->host), free(c->base), free(c->user), free(c->pass);
	free(c->realm), free(c->service);
	for (size_t i = 0; i < c->ntokens; i++) {
		explicit_bzero(c->tokens[i].token, strlen(c->tokens[i].token));
		free(c->tokens[i].scope), free(c->tokens[i].token);
	}
	free(c->tokens);
	memset(c, 0, sizeof(*c));
}
