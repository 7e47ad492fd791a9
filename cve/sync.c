/*
 * sync.c - pare cve sync: the settings (cve.conf), and each feed fetched
 * (or taken from --from DIR), parsed and checked, then all indexes written.
 *
 * All or nothing: every feed is parsed into memory before any index is
 * written, so a bad or rolled-back feed leaves the whole cache as it was.
 * The tracker has no date of its own: its date is the file's mtime (--from)
 * or the HTTP Last-Modified (the time of the fetch when the server sends
 * none).  An index's mtime is the last sync that found the feed current,
 * which is what staleness measures.
 */
#define _GNU_SOURCE
#include "cve_int.h"
#include "../resolver/resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_AGE (2 * 86400)

static const char *const url_keys[CVE_NFEEDS] = { "tracker-url", "kev-url", "epss-url" };

static char *config_path(void)
{
	const char *v;

	if ((v = getenv("PARE_CVE_CONFIG")) && *v)
		return xstrdup(v);
	if ((v = getenv("XDG_CONFIG_HOME")) && *v == '/')
		return xasprintf("%s/pare/cve.conf", v);
	if ((v = getenv("HOME")) && *v)
		return xasprintf("%s/.config/pare/cve.conf", v);
	return NULL;
}

/* "2" (days), "36h", "2d", "90m". */
static int parse_age(const char *s, int64_t *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || n < 0 || n > 100000)
		return -1;
	if (!*end || !strcmp(end, "d"))
		*out = n * 86400;
	else if (!strcmp(end, "h"))
		*out = n * 3600;
	else if (!strcmp(end, "m"))
		*out = n * 60;
	else
		return -1;
	return 0;
}

int cve_parse_age(const char *s, int64_t *out)
{
	return parse_age(s, out);
}

int cve_config_load(struct cve_config *c, perr *e)
{
	char *path = config_path();
	strbuf sb = STRBUF_INIT;
	size_t lineno = 0;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->max_age = DEFAULT_MAX_AGE;
	if (!path || !path_exists(path)) {
		ret = 0;
		goto out;
	}
	if (read_file(path, &sb, 1 << 20, e) < 0)
		goto out;
	for (char *l = sb.buf, *nl; l && *l; l = nl) {
		char *key, *val, *eq;

		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		key = str_trim(l);
		if (!*key || *key == '#')
			continue;
		if (!(eq = strchr(key, '='))) {
			perr_set(e, "%s:%zu: not 'KEY = VALUE'", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = str_trim(key);
		val = str_trim(eq + 1);
		if (!strcmp(key, "max-age")) {
			if (parse_age(val, &c->max_age) < 0) {
				perr_set(e, "%s:%zu: max-age '%s' is not DAYS, or Nd, Nh, Nm", path,
					 lineno, val);
				goto out;
			}
		} else if (!strcmp(key, "codenames")) {
			sv_split(&c->codenames, val, ", ");
		} else {
			size_t k;

			for (k = 0; k < CVE_NFEEDS && strcmp(key, url_keys[k]); k++)
				;
			if (k == CVE_NFEEDS) {
				perr_set(e, "%s:%zu: unknown key '%s' (tracker-url, kev-url, "
					    "epss-url, max-age, codenames)",
					 path, lineno, key);
				goto out;
			}
			free(c->url[k]);
			c->url[k] = xstrdup(val);
		}
	}
	ret = 0;
out:
	if (!c->codenames.n)
		sv_push(&c->codenames, "bookworm");
	sb_release(&sb);
	free(path);
	return ret;
}

void cve_config_release(struct cve_config *c)
{
	for (int i = 0; i < CVE_NFEEDS; i++)
		free(c->url[i]);
	sv_clear(&c->codenames);
	memset(c, 0, sizeof(*c));
}

/* "bookworm-security" -> "bookworm": the tracker names releases by codename. */
char *cve_codename_base(const char *codename)
{
	return xstrndup(codename, strcspn(codename, "-"));
}

/* One feed on its way into the cache. */
struct pending {
	enum cve_feed f;
	char *where;            /* file or URL for messages */
	char *file;             /* what is parsed */
	bool tmp;               /* file is ours to remove */
	bool unchanged;         /* HTTP 304: nothing to do but note the check */
	int64_t date;           /* the tracker's date (mtime or Last-Modified) */
	char *etag;
	int64_t last_modified;
	struct cve_idx old;
	struct cve_idx_writer *w;
	struct cve_parser *p;
};

static const char *feed_file(enum cve_feed f, const char *dir, char **path)
{
	static const char *const names[] = { "tracker.json", "kev.json", "epss.csv.gz", "epss.csv" };

	*path = xasprintf("%s/%s", dir, names[f]);
	if (f == CVE_FEED_EPSS && !path_exists(*path)) {
		free(*path);
		*path = xasprintf("%s/%s", dir, names[3]);
	}
	return *path;
}

static int fetch_feed(struct pending *pd, const char *url, bool fresh_needed, perr *e)
{
	struct fetch_cond fc = { 0 };
	uint64_t max = pd->f == CVE_FEED_TRACKER ? CVE_TRACKER_MAX
		       : pd->f == CVE_FEED_KEV	 ? CVE_KEV_MAX
						 : CVE_EPSS_MAX;
	char *dir = path_join(pare_cache_dir(), "cve");

	if (mkdir_p(dir, 0755, e) < 0) {
		free(dir);
		return -1;
	}
	pd->file = xasprintf("%s/%s.part.%ld", dir, cve_feed_name(pd->f), (long)getpid());
	free(dir);
	pd->tmp = true;
	if (pd->old.map && !fresh_needed) {
		fc.etag = pd->old.etag;
		fc.last_modified = pd->old.last_modified;
	}
	if (fetch_to_file_cond(url, pd->file, max, &fc, e) < 0)
		return perr_prefix(e, "%s", cve_feed_name(pd->f));
	pd->unchanged = fc.not_modified;
	pd->etag = fc.new_etag;
	pd->last_modified = fc.new_last_modified;
	pd->date = fc.new_last_modified ? fc.new_last_modified : (int64_t)time(NULL);
	return 0;
}

static int parse_feed(struct pending *pd, const strvec *codenames, perr *e)
{
	uint64_t max = pd->f == CVE_FEED_TRACKER ? CVE_TRACKER_MAX
		       : pd->f == CVE_FEED_KEV	 ? CVE_KEV_MAX
						 : CVE_EPSS_MAX;
	struct cve_sink sink;
	int64_t pub;
	char a[32], b[32];

	/* the tracker's date stamps first_seen; KEV and EPSS carry their own */
	pd->w = cve_idx_writer_new(pd->f, &pd->old, pd->date);
	sink = cve_idx_writer_sink(pd->w);
	pd->p = cve_parser_new(pd->f, pd->where, codenames, &sink);
	if (cve_feed_read_file(pd->p, pd->file, max, e) < 0)
		return -1;
	pub = pd->f == CVE_FEED_TRACKER ? pd->date : cve_parser_published(pd->p);
	if (!pub)
		pub = pd->date;
	if (pd->old.map && pub < pd->old.published) {
		cve_format_date(pub, a);
		cve_format_date(pd->old.published, b);
		return perr_set(e, "%s %s: published %s, older than the cached feed (%s): refused "
				   "as a rollback",
				cve_feed_name(pd->f), pd->where, a, b);
	}
	pd->date = pub;
	return 0;
}

static void pending_release(struct pending *pd)
{
	if (pd->tmp && pd->file)
		unlink(pd->file);
	free(pd->where);
	free(pd->file);
	free(pd->etag);
	cve_parser_free(pd->p);
	cve_idx_writer_free(pd->w);
	cve_idx_close(&pd->old);
}

/* The codenames to index: the configured ones and those of the lock's
 * repositories, sorted. */
static int gather_codenames(const struct cve_config *c, const char *lock, strvec *out, perr *e)
{
	struct lock l = { 0 };

	sv_copy(out, &c->codenames);
	if (lock) {
		if (lock_read(lock, &l, true, e) < 0)
			return -1;
		for (size_t i = 0; i < l.nrecipes; i++)
			for (size_t k = 0; k < l.recipes[i].nrepos; k++)
				if (l.recipes[i].repos[k].codename)
					sv_push_nodup(out, cve_codename_base(
								   l.recipes[i].repos[k].codename));
		lock_release(&l);
	}
	sv_uniq(out);
	return 0;
}

int cve_sync(const struct cve_config *c, const char *from_dir, const char *lock, perr *e)
{
	struct pending pd[CVE_NFEEDS];
	strvec codenames = STRVEC_INIT, roots = STRVEC_INIT;
	strbuf cn = STRBUF_INIT;
	int ret = -1;

	memset(pd, 0, sizeof(pd));
	if (gather_codenames(c, lock, &codenames, e) < 0)
		goto out;
	for (size_t i = 0; i < codenames.n; i++)
		sb_addf(&cn, "%s%s", i ? "," : "", codenames.v[i]);
	if (from_dir && !is_dir(from_dir)) {
		perr_set(e, "cve sync: --from %s: not a directory", from_dir);
		goto out;
	}
	if (!from_dir && !c->url[0] && !c->url[1] && !c->url[2]) {
		perr_set(e, "cve sync: no feed to sync: give --from DIR, or the URLs "
			    "(--tracker-url, --kev-url, --epss-url or the config file, docs/cve.md)");
		goto out;
	}
	for (int f = 0; f < CVE_NFEEDS; f++) {
		struct pending *p = &pd[f];
		const char *url = c->url[f];

		p->f = f;
		if (cve_idx_open(f, &p->old, e) < 0)
			goto out;
		if (from_dir) {
			struct stat st;

			feed_file(f, from_dir, &p->file);
			if (stat(p->file, &st) < 0) {
				note("cve sync: %s: no %s, the cached feed stays", cve_feed_name(f),
				     p->file);
				free(p->file);
				p->file = NULL;
				continue;
			}
			p->where = xstrdup(p->file);
			p->date = (int64_t)st.st_mtim.tv_sec;
		} else if (!url) {
			continue;
		} else if (str_starts(url, "file://")) {
			struct stat st;

			p->file = xstrdup(url + 7);
			p->where = xstrdup(p->file);
			if (stat(p->file, &st) < 0) {
				perr_errno(e, "%s %s", cve_feed_name(f), p->file);
				goto out;
			}
			p->date = (int64_t)st.st_mtim.tv_sec;
		} else {
			/* a tracker index made for fewer codenames needs the whole
			 * document again, whatever its ETag says */
			bool fresh = f == CVE_FEED_TRACKER && p->old.map &&
				     (!p->old.codenames || strcmp(p->old.codenames, sb_str(&cn)));
			char *red = url_redact(url);

			p->where = red;
			if (fetch_feed(p, url, fresh, e) < 0)
				goto out;
			if (p->unchanged)
				continue;
		}
		if (parse_feed(p, f == CVE_FEED_TRACKER ? &codenames : NULL, e) < 0)
			goto out;
	}
	/* every feed is good: write them */
	for (int f = 0; f < CVE_NFEEDS; f++) {
		struct pending *p = &pd[f];
		char *path = cve_idx_path(f);

		if (p->unchanged) {
			/* checked now: not stale */
			utimensat(AT_FDCWD, path, NULL, 0);
			note("cve sync: %s: unchanged (%s)", cve_feed_name(f), p->where);
			sv_pushf(&roots, "cve/%s.idx", cve_feed_name(f));
		} else if (p->w) {
			if (cve_idx_writer_commit(p->w, p->date, p->etag, p->last_modified,
						  cve_parser_version(p->p),
						  f == CVE_FEED_TRACKER ? sb_str(&cn) : "", e) < 0) {
				free(path);
				goto out;
			}
			note("cve sync: %s: %zu entries from %s", cve_feed_name(f),
			     cve_parser_count(p->p), p->where);
			sv_pushf(&roots, "cve/%s.idx", cve_feed_name(f));
		} else if (p->old.map)
			sv_pushf(&roots, "cve/%s.idx", cve_feed_name(f));
		free(path);
	}
	/* pare cache prune keeps the indexes while syncs go on */
	ret = cache_roots_write("cve-feeds", &roots, e);
out:
	for (int f = 0; f < CVE_NFEEDS; f++)
		pending_release(&pd[f]);
	sv_clear(&codenames);
	sv_clear(&roots);
	sb_release(&cn);
	return ret;
}
