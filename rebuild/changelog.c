/*
 * changelog.c - the CVE ids a package's Debian changelog mentions between
 * two versions, read straight from the .deb (pare update --commit).
 *
 * usr/share/doc/PKG/changelog.Debian.gz is found in data.tar (libarchive,
 * the ar -> data.tar stream nested as in deb.c), gunzipped in memory, and
 * its entries ("PKG (VERSION) DIST; urgency=…" headers, newest first) with
 * old < VERSION <= new are scanned for CVE-YYYY-NNNN… ids.  A package whose
 * doc directory is a symlink to another package's (common for library
 * packages of one source) has no changelog of its own: no ids, no error.
 */
#include "rebuild.h"


#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CHANGELOG_MAX (16u << 20)

struct nest {
	struct archive *outer;
	char buf[65536];
};

static la_ssize_t nest_read(struct archive *a, void *cd, const void **buf)
{
	struct nest *n = cd;
	la_ssize_t r = archive_read_data(n->outer, n->buf, sizeof(n->buf));

	if (r < 0)
		archive_set_error(a, archive_errno(n->outer), "%s", archive_error_string(n->outer));
	*buf = n->buf;
	return r;
}

static int read_entry(struct archive *a, strbuf *out, const char *what, perr *e)
{
	char buf[65536];
	la_ssize_t r;

	while ((r = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)r > CHANGELOG_MAX)
			return perr_set(e, "%s is too large", what);
		sb_add(out, buf, (size_t)r);
	}
	if (r < 0)
		return perr_set(e, "%s: %s", what, archive_error_string(a));
	return 0;
}

/* The gzipped changelog of pkg from debpath into gz; *found false when the
 * .deb has none (or only a symlink). */
static int find_changelog(const char *debpath, const char *pkg, strbuf *gz, bool *found,
			  perr *e)
{
	struct archive *ar = archive_read_new(), *dt = NULL;
	struct archive_entry *ae;
	struct nest *nest = NULL;
	char *want = xasprintf("usr/share/doc/%s/changelog.Debian.gz", pkg);
	int r, ret = -1;

	*found = false;
	archive_read_support_format_ar(ar);
	if (archive_read_open_filename(ar, debpath, 65536) != ARCHIVE_OK) {
		perr_set(e, "cannot open %s: %s", debpath, archive_error_string(ar));
		goto out;
	}
	while ((r = archive_read_next_header(ar, &ae)) == ARCHIVE_OK) {
		if (!str_starts(archive_entry_pathname(ae), "data.tar"))
			continue;
		nest = xcalloc(1, sizeof(*nest));
		nest->outer = ar;
		dt = archive_read_new();
		archive_read_support_filter_all(dt);
		archive_read_support_format_tar(dt);
		if (archive_read_open(dt, nest, NULL, nest_read, NULL) != ARCHIVE_OK) {
			perr_set(e, "%s: data.tar: %s", debpath, archive_error_string(dt));
			goto out;
		}
		while ((r = archive_read_next_header(dt, &ae)) == ARCHIVE_OK) {
			const char *p = archive_entry_pathname(ae);
			while (p[0] == '.' && p[1] == '/')
				p += 2;
			while (*p == '/')
				p++;
			if (strcmp(p, want) || archive_entry_filetype(ae) != AE_IFREG)
				continue;
			if (read_entry(dt, gz, debpath, e) < 0)
				goto out;
			*found = true;
			ret = 0;
			goto out;
		}
		if (r != ARCHIVE_EOF) {
			perr_set(e, "%s: data.tar: %s", debpath, archive_error_string(dt));
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (r != ARCHIVE_EOF)
		perr_set(e, "%s: %s", debpath, archive_error_string(ar));
	else
		perr_set(e, "%s: no data.tar member", debpath);
out:
	if (dt)
		archive_read_free(dt);
	archive_read_free(ar);
	free(nest);
	free(want);
	return ret;
}

static int gunzip(const strbuf *in, strbuf *out, const char *what, perr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int ret = -1;

	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, in->buf, in->len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", what, archive_error_string(a));
		goto out;
	}
	ret = read_entry(a, out, what, e);
out:
	archive_read_free(a);
	return ret;
}

/* "PKG (VERSION) …" at the start of a line: the version, else NULL. */
static char *entry_version(const char *line, size_t len)
{
	const char *p = line, *end = line + len, *open, *close;

	if (!len || isspace((unsigned char)*line))
		return NULL;
	while (p < end && !isspace((unsigned char)*p))
		p++;
	if (p + 2 >= end || p[0] != ' ' || p[1] != '(')
		return NULL;
	open = p + 2;
	close = memchr(open, ')', (size_t)(end - open));
	if (!close || close == open)
		return NULL;
	return xstrndup(open, (size_t)(close - open));
}

/* CVE-YYYY-NNNN… (four or more digits) anywhere in the line. */
static void scan_cves(const char *line, size_t len, strvec *cves)
{
	for (size_t i = 0; i + 13 <= len; i++) {
		size_t k = i + 4, d = 0;
		if (strncmp(line + i, "CVE-", 4))
			continue;
		if (i > 0 && (isalnum((unsigned char)line[i - 1])))
			continue;
		while (k < len && d < 4 && isdigit((unsigned char)line[k]))
			k++, d++;
		if (d != 4 || k >= len || line[k] != '-')
			continue;
		k++, d = 0;
		while (k < len && isdigit((unsigned char)line[k]))
			k++, d++;
		if (d < 4)
			continue;
		sv_push_nodup(cves, xstrndup(line + i, k - i));
		i = k - 1;
	}
}

int rebuild_changelog_cves_text(const char *text, size_t n, const char *old_version,
			const char *new_version, strvec *cves)
{
	const char *p = text, *end = text + n;
	bool in_range = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *v = entry_version(p, len);
		if (v) {
			in_range = (!old_version || resolver_vercmp(v, old_version) > 0) &&
				   resolver_vercmp(v, new_version) <= 0;
			/* newest first: at or below the old version, the rest is older */
			bool done = old_version && resolver_vercmp(v, old_version) <= 0;
			free(v);
			if (done)
				break;
		} else if (in_range) {
			scan_cves(p, len, cves);
		}
		p = nl ? nl + 1 : end;
	}
	sv_uniq(cves);
	return 0;
}

int rebuild_changelog_cves(const char *debpath, const char *pkg, const char *old_version,
		       const char *new_version, strvec *cves, perr *e)
{
	strbuf gz = STRBUF_INIT, text = STRBUF_INIT;
	bool found;
	int ret = -1;

	if (find_changelog(debpath, pkg, &gz, &found, e) < 0)
		goto out;
	if (found) {
		char *what = xasprintf("%s: usr/share/doc/%s/changelog.Debian.gz", debpath, pkg);
		int r = gunzip(&gz, &text, what, e);
		free(what);
		if (r < 0)
			goto out;
		rebuild_changelog_cves_text(text.buf ? text.buf : "", text.len, old_version, new_version,
				    cves);
	}
	ret = 0;
out:
	sb_release(&gz);
	sb_release(&text);
	return ret;
}
