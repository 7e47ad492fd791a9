/* fetch.c - downloads: libcurl for http(s), plain reads for file://.
 *
 * Everything that reaches a final path has been checked against the size
 * and sha256 the caller expects (from a verified index or the lock): data
 * is written to DEST.part and only renamed after verification.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#define USER_AGENT "pare/" PARE_VERSION

/* libcurl's global state is set up before the first handle, not at start: a command that
 * makes no transfer never loads libcurl (lazy/lazy.h). */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static bool fetch_inited;

static void fetch_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fetch_inited = true;
}

void fetch_global_init(void)
{
	pthread_once(&fetch_once, fetch_init_once);
}

void fetch_global_cleanup(void)
{
	if (fetch_inited)
		curl_global_cleanup();
}

/* file:///abs/path -> /abs/path (percent-escapes are not expected in repos) */
static const char *file_url_path(const char *url)
{
	if (str_starts(url, "file://"))
		return url + strlen("file://");
	return NULL;
}

struct membuf {
	strbuf *sb;
	size_t max;
	bool too_big;
};

static size_t mem_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct membuf *m = userdata;
	size_t n = size * nmemb;

	if (m->sb->len + n > m->max) {
		m->too_big = true;
		return 0;
	}
	sb_add(m->sb, ptr, n);
	return n;
}

long fetch_timeout(void)
{
	const char *v = getenv("PARE_FETCH_TIMEOUT");
	char *end;
	long n;

	if (!v || !*v)
		return FETCH_TIMEOUT_DEFAULT;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n <= 0)
		return FETCH_TIMEOUT_DEFAULT;
	return n;
}

static void setup_easy(CURL *c, const char *url)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* abort transfers slower than 1 KB/s for 60 s: a stalled mirror */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	/* and any transfer that is still running after the deadline: a
	 * trickle above the low-speed limit would otherwise never end */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, fetch_timeout());
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

int fetch_to_buf(const char *url, strbuf *out, size_t max, bool *not_found,
		 perr *e)
{
	const char *path = file_url_path(url);
	struct membuf m = { out, max ? max : (size_t)512 << 20, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (not_found)
		*not_found = false;
	if (path) {
		if (read_file(path, out, m.max, e) < 0) {
			if (not_found && errno == ENOENT)
				*not_found = true;
			return -1;
		}
		return 0;
	}
	if (!str_starts(url, "http://") && !str_starts(url, "https://"))
		return perr_set(e, "unsupported URL scheme in '%s'", url);
	fetch_global_init();
	c = curl_easy_init();
	if (!c)
		die("curl_easy_init failed");
	setup_easy(c, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (m.too_big)
		return perr_set(e, "'%s' is larger than %zu bytes", url, m.max);
	if (rc != CURLE_OK)
		return perr_set(e, "cannot fetch '%s': %s", url,
				*errbuf ? errbuf : curl_easy_strerror(rc));
	if (status >= 400) {
		if (not_found && (status == 404 || status == 410))
			*not_found = true;
		return perr_set(e, "cannot fetch '%s': HTTP %ld", url, status);
	}
	if (!out->buf)
		sb_grow(out, 0), out->buf[0] = '\0';
	return 0;
}

/* ---- parallel fetch with verification ------------------------------------ */

struct xfer {
	struct fetch_job *job;
	CURL *easy;
	FILE *fp;
	char *part;
	int slot;          /* part's tmp_register slot */
	phash *hash;
	uint64_t got;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t file_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;

	if (x->job->size && x->got + n > x->job->size) {
		x->too_big = true;
		return 0;
	}
	if (fwrite(ptr, 1, n, x->fp) != n)
		return 0;
	phash_update(x->hash, ptr, n);
	x->got += n;
	return n;
}

static void job_fail(struct fetch_job *j, const char *fmt, ...) PRINTF(2, 3);
static void job_fail(struct fetch_job *j, const char *fmt, ...)
{
	va_list ap;

	if (j->failed)
		return;
	j->failed = 1;
	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
}

static int xfer_open(struct xfer *x, struct fetch_job *j)
{
	perr e;
	char *dir = path_dirname(j->dest);

	memset(x, 0, sizeof(*x));
	x->job = j;
	if (mkdir_p(dir, 0755, &e) < 0) {
		job_fail(j, "%s", e.msg);
		free(dir);
		return -1;
	}
	free(dir);
	x->part = xasprintf("%s.part.%ld", j->dest, (long)getpid());
	x->slot = tmp_register(x->part);
	x->fp = fopen(x->part, "wbe");
	if (!x->fp) {
		job_fail(j, "cannot create '%s': %s", x->part, strerror(errno));
		tmp_unregister(x->slot);
		free(x->part);
		x->part = NULL;
		return -1;
	}
	x->hash = phash_new("sha256");
	return 0;
}

/* Verify and move into place; on any failure remove the partial file. */
static void xfer_finish(struct xfer *x, bool transfer_ok)
{
	struct fetch_job *j = x->job;
	const char *label = j->label ? j->label : j->url;
	char hex[SHA256_HEX_LEN + 1];
	bool ok = transfer_ok && !j->failed;

	if (x->fp) {
		if (fflush(x->fp) != 0 || fsync(fileno(x->fp)) != 0) {
			job_fail(j, "cannot write '%s': %s", x->part, strerror(errno));
			ok = false;
		}
		fclose(x->fp);
		x->fp = NULL;
	}
	if (x->hash) {
		phash_final_hex(x->hash, hex);
		x->hash = NULL;
		if (ok && j->size && x->got != j->size) {
			job_fail(j, "%s: size mismatch: expected %llu bytes, got %llu (from '%s')",
				 label, (unsigned long long)j->size,
				 (unsigned long long)x->got, j->url);
			ok = false;
		}
		if (ok && j->sha256 && strcmp(hex, j->sha256)) {
			job_fail(j, "%s: sha256 mismatch: expected %s, got %s (from '%s')",
				 label, j->sha256, hex, j->url);
			ok = false;
		}
	}
	if (x->part) {
		if (ok && rename(x->part, j->dest) < 0) {
			job_fail(j, "cannot rename '%s': %s", x->part, strerror(errno));
			ok = false;
		}
		if (!ok)
			unlink(x->part);
		tmp_unregister(x->slot);
		free(x->part);
		x->part = NULL;
	}
}

static void copy_file_job(struct fetch_job *j)
{
	struct xfer x;
	const char *src = file_url_path(j->url);
	char buf[1 << 16];
	bool ok = true;
	FILE *in;

	if (xfer_open(&x, j) < 0)
		return;
	in = fopen(src, "rbe");
	if (!in) {
		job_fail(j, "%s: cannot open '%s': %s", j->label ? j->label : "fetch",
			 src, strerror(errno));
		xfer_finish(&x, false);
		return;
	}
	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), in);
		if (n && file_write(buf, 1, n, &x) != n) {
			if (x.too_big)
				job_fail(j, "%s: size mismatch: '%s' is larger than %llu bytes",
					 j->label ? j->label : src, src,
					 (unsigned long long)j->size);
			else
				job_fail(j, "cannot write '%s': %s", x.part, strerror(errno));
			ok = false;
			break;
		}
		if (n < sizeof(buf)) {
			if (ferror(in)) {
				job_fail(j, "cannot read '%s': %s", src, strerror(errno));
				ok = false;
			}
			break;
		}
	}
	fclose(in);
	xfer_finish(&x, ok);
}

static void progress(size_t done, size_t total, uint64_t bytes)
{
	static int tty = -1;
	int width = 30, filled;

	if (tty < 0)
		tty = isatty(2);
	if (!tty || pare_quiet || !total)
		return;
	filled = (int)(width * done / total);
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.1f MB", filled,
		"##############################", width - filled, "", done, total,
		(double)bytes / 1e6);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

int fetch_many(struct fetch_job *jobs, size_t n, int parallel, perr *e)
{
	struct xfer *xs = xcalloc(n ? n : 1, sizeof(*xs));
	size_t next = 0, done = 0, nhttp = 0;
	uint64_t bytes = 0;
	CURLM *multi = NULL;
	int running = 0, ret = 0;

	if (parallel < 1)
		parallel = 1;
	/* file:// sources are plain copies: do them first, synchronously */
	for (size_t i = 0; i < n; i++) {
		jobs[i].failed = 0;
		jobs[i].err[0] = '\0';
		if (file_url_path(jobs[i].url)) {
			copy_file_job(&jobs[i]);
			bytes += jobs[i].size;
			progress(++done, n, bytes);
		} else if (!str_starts(jobs[i].url, "http://") &&
			   !str_starts(jobs[i].url, "https://")) {
			job_fail(&jobs[i], "unsupported URL scheme in '%s'", jobs[i].url);
			progress(++done, n, bytes);
		} else {
			nhttp++;
		}
	}
	if (nhttp) {
		fetch_global_init();
		multi = curl_multi_init();
		curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)parallel);
		curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)parallel);
	}
	while (nhttp && (next < n || running)) {
		/* keep `parallel` transfers in flight */
		while (next < n && running < parallel) {
			struct fetch_job *j = &jobs[next];
			struct xfer *x = &xs[next];
			next++;
			if (file_url_path(j->url) || j->failed)
				continue;
			if (xfer_open(x, j) < 0) {
				progress(++done, n, bytes);
				continue;
			}
			x->easy = curl_easy_init();
			setup_easy(x->easy, j->url);
			curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, file_write);
			curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
			curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
			curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
			curl_multi_add_handle(multi, x->easy);
			running++;
		}
		int still = 0;
		curl_multi_perform(multi, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			struct xfer *x;
			long status = 0;
			bool ok;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			ok = msg->data.result == CURLE_OK && status < 400;
			if (x->too_big)
				job_fail(x->job, "%s: size mismatch: '%s' is larger than %llu bytes",
					 x->job->label ? x->job->label : x->job->url,
					 x->job->url, (unsigned long long)x->job->size);
			else if (msg->data.result != CURLE_OK)
				job_fail(x->job, "cannot fetch '%s': %s", x->job->url,
					 *x->errbuf ? x->errbuf
						    : curl_easy_strerror(msg->data.result));
			else if (status >= 400)
				job_fail(x->job, "cannot fetch '%s': HTTP %ld", x->job->url, status);
			xfer_finish(x, ok);
			bytes += x->got;
			curl_multi_remove_handle(multi, x->easy);
			curl_easy_cleanup(x->easy);
			x->easy = NULL;
			running--;
			progress(++done, n, bytes);
		}
		if (running)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	if (multi)
		curl_multi_cleanup(multi);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].failed) {
			ret = perr_set(e, "%s", jobs[i].err);
			break;
		}
	free(xs);
	return ret;
}

/* ---- conditional download to a file --------------------------------------- */

struct condfile {
	FILE *fp;
	uint64_t got, max;
	bool too_big;
	char *etag;
};

static size_t cond_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct condfile *c = userdata;
	size_t n = size * nmemb;

	if (c->got + n > c->max) {
		c->too_big = true;
		return 0;
	}
	c->got += n;
	return fwrite(ptr, 1, n, c->fp);
}

static size_t cond_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct condfile *c = userdata;
	size_t n = size * nmemb;

	if (n > 5 && !strncasecmp(ptr, "etag:", 5)) {
		char *v = xstrndup(ptr + 5, n - 5);

		free(c->etag);
		c->etag = xstrdup(str_trim(v)); /* str_trim drops the CRLF too */
		free(v);
	}
	return n;
}

int fetch_to_file_cond(const char *url, const char *dest, uint64_t max, struct fetch_cond *fc,
		       perr *e)
{
	struct condfile c = { NULL, 0, max, false, NULL };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	curl_off_t filetime = -1;
	long status = 0;
	CURLcode rc;
	CURL *h;
	int ret = -1;

	fc->not_modified = false;
	fc->new_etag = NULL;
	fc->new_last_modified = 0;
	if (!str_starts(url, "http://") && !str_starts(url, "https://"))
		return perr_set(e, "unsupported URL scheme in '%s'", url);
	if (!(c.fp = fopen(dest, "wbe")))
		return perr_errno(e, "cannot create '%s'", dest);
	fetch_global_init();
	if (!(h = curl_easy_init()))
		die("curl_easy_init failed");
	setup_easy(h, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cond_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cond_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	if (fc->etag && *fc->etag) {
		char *hv = xasprintf("If-None-Match: %s", fc->etag);

		hdrs = curl_slist_append(hdrs, hv);
		free(hv);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	}
	if (fc->last_modified > 0) {
		curl_easy_setopt(h, CURLOPT_TIMECONDITION, (long)CURL_TIMECOND_IFMODSINCE);
		curl_easy_setopt(h, CURLOPT_TIMEVALUE_LARGE, (curl_off_t)fc->last_modified);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_FILETIME_T, &filetime);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (c.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		perr_set(e, "'%s' is larger than %llu bytes", url, (unsigned long long)max);
		goto out;
	}
	if (rc != CURLE_OK) {
		perr_set(e, "cannot fetch '%s': %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	if (status == 304) {
		fc->not_modified = true;
		ret = 0;
		goto out;
	}
	if (status >= 400 || status < 200) {
		perr_set(e, "cannot fetch '%s': HTTP %ld", url, status);
		goto out;
	}
	if (fflush(c.fp) != 0 || fsync(fileno(c.fp)) < 0) {
		perr_errno(e, "cannot write '%s'", dest);
		goto out;
	}
	fc->new_etag = c.etag;
	c.etag = NULL;
	fc->new_last_modified = filetime > 0 ? (int64_t)filetime : 0;
	ret = 0;
out:
	if (fclose(c.fp) != 0 && !ret)
		ret = perr_errno(e, "cannot write '%s'", dest);
	if (ret < 0 || fc->not_modified)
		unlink(dest);
	free(c.etag);
	return ret;
}
