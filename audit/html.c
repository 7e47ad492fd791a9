/* html.c - pare report: a static, self-contained HTML dashboard of audit
 * reports.  No script, no network, no external style sheet: index.html
 * (the grid of images × checks) and one page per image, readable from
 * file:// and printable.  Every string that comes from an image (paths,
 * evidence, names) is escaped, so a hostile image cannot inject markup. */
#define _GNU_SOURCE
#include "audit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT_MARKER ".pare-report" /* what says a directory is a report pare wrote */

void audit_html_escape(strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sb_adds(sb, "&amp;"); break;
		case '<': sb_adds(sb, "&lt;"); break;
		case '>': sb_adds(sb, "&gt;"); break;
		case '"': sb_adds(sb, "&quot;"); break;
		case '\'': sb_adds(sb, "&#39;"); break;
		default:
			/* control characters would not print; show them as U+FFFD */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				sb_adds(sb, "&#xFFFD;");
			else
				sb_addc(sb, *s);
		}
	}
}

static void esc(strbuf *sb, const char *s)
{
	audit_html_escape(sb, s);
}

static const char *css_class(enum audit_result r)
{
	static const char *const c[] = { "pass", "fail", "warn", "na", "manual" };

	return c[r];
}

static const char *short_name(enum audit_result r)
{
	/* one narrow glyph a cell, so the grid of 23+ checks fits a laptop screen;
	 * the colour, the legend and the cell's title say the same in words */
	static const char *const c[] = { "✓", "✗", "!", "–", "?" };

	return c[r];
}

static void head(strbuf *sb, const char *title)
{
	sb_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'\">\n<title>");
	esc(sb, title);
	sb_adds(sb,
		"</title>\n<style>\n"
		"body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a1a1a;"
		"-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
		"h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.5rem}\n"
		".scroll{overflow-x:auto;max-width:100%}\n"
		"table{border-collapse:collapse;font-size:.85rem}\n"
		"th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}\n"
		"th.check{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}\n"
		"#grid td.r{text-align:center;padding:.25rem .3rem;min-width:1.2rem}#grid td.r a{text-decoration:none}\n"
		"#grid td.img{max-width:18rem}\n"
		"td.pass{background:#c8e6c9}td.fail{background:#ef9a9a;font-weight:bold}"
		"td.warn{background:#ffe082}td.na{background:#eeeeee;color:#555}"
		"td.manual{background:#bbdefb}\n"
		"td a{color:inherit}\n"
		"code,.mono{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}\n"
		"ul.ev{margin:0;padding-left:1.1rem}\n"
		"dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}"
		"dt{font-weight:bold}dd{margin:0}\n"
		".legend span{display:inline-block;padding:.1rem .5rem;margin-right:.3rem;"
		"border:1px solid #bbb}\n"
		"@media (max-width:700px){body{margin:.5rem}th.check{writing-mode:horizontal-tb;"
		"transform:none}}\n"
		"@media print{body{margin:0}.scroll{overflow:visible}a{text-decoration:none}"
		"tr{break-inside:avoid}}\n"
		"</style>\n</head>\n<body>\n");
}

static void legend(strbuf *sb)
{
	sb_adds(sb, "<p class=\"legend\">");
	for (int r = 0; r < AUDIT_NRESULTS; r++)
		sb_addf(sb, "<span class=\"%s\" style=\"background:%s\">%s %s</span>", css_class(r),
			r == AUDIT_PASS ? "#c8e6c9" : r == AUDIT_FAIL ? "#ef9a9a" :
			r == AUDIT_WARN ? "#ffe082" : r == AUDIT_NA ? "#eeeeee" : "#bbdefb",
			short_name(r), audit_result_name(r));
	sb_adds(sb, "</p>\n");
}

static char *image_label(const struct audit_report *r)
{
	char *src = url_redact(r->img.source);
	char *l = xasprintf("%s (%s)", src, r->img.platform);

	free(src);
	return l;
}

static void index_page(strbuf *sb, const struct audit_report *reps, size_t n)
{
	head(sb, "pare audit report");
	sb_addf(sb, "<h1>pare audit report</h1>\n<p>%zu image%s, %zu checks each "
		    "(CIS Docker Benchmark v1.6.0 §4, NIST SP 800-190 §4.1, Dockle; "
		    "pare %s).</p>\n", n, n == 1 ? "" : "s", audit_nrules, PARE_VERSION);
	legend(sb);
	sb_adds(sb, "<div class=\"scroll\"><table id=\"grid\">\n<thead><tr><th>image</th>"
		    "<th>fail</th><th>warn</th>");
	for (size_t k = 0; k < audit_nrules; k++) {
		sb_adds(sb, "<th class=\"check\" title=\"");
		esc(sb, audit_rules[k].title);
		sb_adds(sb, "\">");
		esc(sb, audit_rules[k].id + 5); /* without "PARE-" */
		sb_adds(sb, "</th>");
	}
	sb_adds(sb, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct audit_report *r = &reps[i];
		char *label = image_label(r);

		sb_addf(sb, "<tr class=\"image\"><td class=\"img\"><a href=\"image-%zu.html\">", i + 1);
		esc(sb, label);
		sb_adds(sb, "</a><br><span class=\"mono\" title=\"");
		esc(sb, r->img.digest);
		sb_adds(sb, "\">");
		/* "sha256:" and 12 hex digits: enough to tell images apart at a glance */
		{
			char *d = xstrndup(r->img.digest, 19);

			esc(sb, d);
			free(d);
		}
		sb_addf(sb, "…</span></td><td>%zu</td><td>%zu</td>", r->counts[AUDIT_FAIL],
			r->counts[AUDIT_WARN]);
		for (size_t k = 0; k < r->nfindings; k++) {
			const struct audit_finding *f = &r->findings[k];

			sb_addf(sb, "<td class=\"%s r\"><a href=\"image-%zu.html#", css_class(f->result),
				i + 1);
			esc(sb, f->rule->id);
			sb_adds(sb, "\" title=\"");
			esc(sb, f->rule->id);
			sb_adds(sb, ": ");
			esc(sb, audit_result_name(f->result));
			sb_addf(sb, "\">%s</a></td>", short_name(f->result));
		}
		sb_adds(sb, "</tr>\n");
		free(label);
	}
	sb_adds(sb, "</tbody></table></div>\n</body>\n</html>\n");
}

/* The SBOM file name written beside the page for /usr/share/sbom/NAME */
static char *sbom_file(size_t i, const char *path)
{
	const char *b = path_basename(path);
	strbuf sb = STRBUF_INIT;

	sb_addf(&sb, "image-%zu-", i + 1);
	for (; *b; b++) /* a file name that is safe in an href as it is */
		sb_addc(&sb, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
				    *b) ? *b : '_');
	return sb_detach(&sb);
}

static void image_page(strbuf *sb, const struct audit_report *r, size_t i)
{
	char *label = image_label(r);

	head(sb, label);
	sb_adds(sb, "<p><a href=\"index.html\">← all images</a></p>\n<h1>");
	esc(sb, label);
	sb_adds(sb, "</h1>\n<dl>\n<dt>digest</dt><dd class=\"mono\">");
	esc(sb, r->img.digest);
	sb_adds(sb, "</dd>\n<dt>built by</dt><dd>");
	if (r->is_pare) {
		sb_adds(sb, "pare, recipe ");
		esc(sb, r->recipe ? r->recipe : "?");
	} else {
		sb_adds(sb, "not pare");
	}
	sb_addf(sb, "</dd>\n<dt>packages</dt><dd>%zu</dd>\n<dt>files</dt><dd>%zu</dd>\n"
		    "<dt>signature</dt><dd>", r->npackages, r->img.nfiles);
	esc(sb, r->signature);
	sb_adds(sb, "</dd>\n<dt>results</dt><dd>");
	for (int k = 0; k < AUDIT_NRESULTS; k++)
		sb_addf(sb, "%s%zu %s", k ? ", " : "", r->counts[k], audit_result_name(k));
	sb_adds(sb, "</dd>\n<dt>SBOMs</dt><dd>");
	if (!r->sboms.n)
		sb_adds(sb, "none in the image");
	for (size_t k = 0; k < r->sboms.n; k++) {
		const struct audit_file *f = audit_file_find(&r->img, r->sboms.v[k]);
		char *file = sbom_file(i, r->sboms.v[k]);

		if (k)
			sb_adds(sb, "<br>");
		if (f && f->data) {
			sb_addf(sb, "<a href=\"%s\">", file);
			esc(sb, r->sboms.v[k]);
			sb_adds(sb, "</a>");
		} else {
			esc(sb, r->sboms.v[k]);
		}
		free(file);
	}
	sb_adds(sb, "</dd>\n<dt>CVEs</dt><dd>");
	for (size_t k = 0; k < r->nfindings; k++)
		if (!strcmp(r->findings[k].rule->id, "PARE-CIS-4.4"))
			for (size_t l = 0; l < r->findings[k].evidence.n; l++) {
				if (l)
					sb_adds(sb, "<br>");
				esc(sb, r->findings[k].evidence.v[l]);
			}
	sb_adds(sb, "</dd>\n</dl>\n");
	legend(sb);
	sb_adds(sb, "<div class=\"scroll\"><table id=\"checks\">\n<thead><tr><th>check</th>"
		    "<th>result</th><th>CIS</th><th>NIST</th><th>Dockle</th><th>evidence</th></tr>"
		    "</thead>\n<tbody>\n");
	for (size_t k = 0; k < r->nfindings; k++) {
		const struct audit_finding *f = &r->findings[k];

		sb_adds(sb, "<tr id=\"");
		esc(sb, f->rule->id);
		sb_adds(sb, "\"><td><b>");
		esc(sb, f->rule->id);
		sb_adds(sb, "</b><br>");
		esc(sb, f->rule->title);
		sb_addf(sb, "</td><td class=\"%s\">%s</td><td>", css_class(f->result),
			audit_result_name(f->result));
		esc(sb, f->rule->cis);
		sb_adds(sb, "</td><td>");
		esc(sb, f->rule->nist);
		sb_adds(sb, "</td><td>");
		esc(sb, f->rule->dockle);
		sb_adds(sb, "</td><td><ul class=\"ev\">");
		for (size_t l = 0; l < f->evidence.n; l++) {
			sb_adds(sb, "<li class=\"mono\">");
			esc(sb, f->evidence.v[l]);
			sb_adds(sb, "</li>");
		}
		sb_adds(sb, "</ul></td></tr>\n");
	}
	sb_adds(sb, "</tbody></table></div>\n</body>\n</html>\n");
	free(label);
}

/* 0 when dir may be (re)written: absent, an empty directory, or a report
 * (its marker); else one line. */
static int check_outdir(const char *dir, perr *e)
{
	char *m;
	bool ok;

	if (!path_exists(dir))
		return 0;
	if (!is_dir(dir))
		return perr_set(e, "%s: exists and is not a directory", dir);
	m = path_join(dir, REPORT_MARKER);
	ok = path_exists(m);
	free(m);
	if (ok)
		return 0;
	if (out_dir_is_empty(dir))
		return 0;
	return perr_set(e, "%s: not replaced: it is not empty and not a report pare wrote", dir);
}

int audit_html_write(const char *dir, const struct audit_report *reps, size_t n, perr *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", dir, (long)getpid());
	char *parent = path_dirname(dir);
	strbuf sb = STRBUF_INIT;
	int ret = -1, slot = -1;
	char *p;

	if (check_outdir(dir, e) < 0)
		goto out;
	if (mkdir_p(tmp, 0755, e) < 0)
		goto out;
	slot = tmp_register(tmp);
	index_page(&sb, reps, n);
	p = path_join(tmp, "index.html");
	ret = write_file_synced(p, sb.buf, sb.len, 0644, e);
	free(p);
	for (size_t i = 0; i < n && ret == 0; i++) {
		char *name = xasprintf("image-%zu.html", i + 1);

		sb_reset(&sb);
		image_page(&sb, &reps[i], i);
		p = path_join(tmp, name);
		ret = write_file_synced(p, sb.buf, sb.len, 0644, e);
		free(p), free(name);
		for (size_t k = 0; k < reps[i].sboms.n && ret == 0; k++) {
			const struct audit_file *f = audit_file_find(&reps[i].img, reps[i].sboms.v[k]);
			char *file = sbom_file(i, reps[i].sboms.v[k]);

			if (f && f->data) {
				p = path_join(tmp, file);
				ret = write_file_synced(p, f->data, f->ndata, 0644, e);
				free(p);
			}
			free(file);
		}
	}
	if (ret < 0)
		goto out;
	ret = -1;
	p = path_join(tmp, REPORT_MARKER);
	if (write_file_synced(p, "pare report\n", 12, 0644, e) < 0) {
		free(p);
		goto out;
	}
	free(p);
	if (fsync_dir(tmp, e) < 0)
		goto out;
	/* the previous report goes aside, the new one takes its name */
	if (out_swap_dir(tmp, dir, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		perr err2;
		rm_rf(tmp, &err2);
	}
	if (slot >= 0)
		tmp_unregister(slot);
	sb_release(&sb);
	free(tmp), free(parent);
	return ret;
}
