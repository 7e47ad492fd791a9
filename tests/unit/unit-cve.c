/* unit-cve.c - the CVE feeds and matching: the tracker parser gives the same
 * entries whatever the chunking (a byte at a time), skips unknown keys of
 * any type, takes nodsa as a string or a boolean; the dates of KEV and
 * EPSS (Z, +0000, fractions); the priority order; and the Debian version
 * edge cases of the issue, matched through a synced index (epochs, ~, +b1,
 * +debNuM numerically) with sources whose names prefix each other. */
#include "../../cve/cve_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static int collect(const struct cve_track *t, void *arg, perr *e)
{
	(void)e;
	sv_pushf(arg, "%s|%s|%s|%s|%s|%s|%s|%s|%s", t->source, t->codename, t->id, t->status,
		 t->fixed_version, t->urgency, t->nodsa, t->nodsa_reason, t->description);
	return 0;
}

static const char TRACKER[] =
	"{\"a\": {\"CVE-1\": {\"scope\": \"local\", \"releases\": {\"bookworm\": {\"status\": "
	"\"open\", \"nodsa\": true, \"repositories\": {\"bookworm\": \"1\"}, \"urgency\": "
	"\"low**\", \"extra\": [1, {\"x\": [null]}]}, \"sid\": {\"status\": \"resolved\"}}, "
	"\"description\": \"d\\ttab \\u00e9\", \"debianbug\": 12.5, \"more\": null},"
	" \"TEMP-1\": {}},"
	" \"b\": {\"CVE-2\": {\"releases\": {\"bookworm\": {\"fixed_version\": \"1:2.0-1\", "
	"\"status\": \"resolved\", \"nodsa\": \"x\", \"nodsa_reason\": \"postponed\"}}}}}";

static size_t parse(const char *doc, size_t chunk, strvec *out, perr *e)
{
	strvec cn = STRVEC_INIT;
	struct cve_sink sink = { collect, NULL, NULL, out };
	struct cve_parser *p;
	size_t n = strlen(doc);
	int rc = 0;

	sv_push(&cn, "bookworm");
	p = cve_parser_new(CVE_FEED_TRACKER, "t.json", &cn, &sink);
	for (size_t i = 0; i < n && !rc; i += chunk)
		rc = cve_parser_feed(p, doc + i, i + chunk < n ? chunk : n - i, e);
	if (!rc)
		rc = cve_parser_finish(p, e);
	cve_parser_free(p);
	sv_clear(&cn);
	return rc ? (size_t)-1 : out->n;
}

static void test_tracker(void)
{
	strvec one = STRVEC_INIT, bytes = STRVEC_INIT;
	perr e = { 0, "" };

	TAP_OK(parse(TRACKER, sizeof(TRACKER), &one, &e) == 2, "tracker: two bookworm entries (%s)",
	       e.msg);
	TAP_OK(parse(TRACKER, 1, &bytes, &e) == 2, "tracker fed a byte at a time (%s)", e.msg);
	TAP_OK(one.n == 2 && bytes.n == 2 && !strcmp(one.v[0], bytes.v[0]) &&
		       !strcmp(one.v[1], bytes.v[1]),
	       "the same entries whatever the chunking");
	if (one.n == 2) {
		TAP_STREQ(one.v[0], "a|bookworm|CVE-1|open||low**|yes||d tab \xc3\xa9",
			  "unknown keys skipped, nodsa true, control characters made spaces");
		TAP_STREQ(one.v[1], "b|bookworm|CVE-2|resolved|1:2.0-1||x|postponed|",
			  "keys in any order, absent ones empty");
	}
	sv_clear(&one);
	sv_clear(&bytes);
	TAP_OK(parse("{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"open\"}}}}",
		     7, &one, &e) == (size_t)-1 &&
		       strstr(e.msg, "tracker t.json: not valid JSON"),
	       "a document cut short is refused: %s", e.msg);
	sv_clear(&one);
	TAP_OK(parse("{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"urgency\": {}}}}}}", 3,
		     &one, &e) == (size_t)-1 &&
		       strstr(e.msg, "source a, CVE-1: urgency is an object"),
	       "a field of the wrong type names source and id: %s", e.msg);
	sv_clear(&one);
}

static void test_dates(void)
{
	int64_t t = 0, u = 0;

	TAP_OK(!cve_parse_date("2024-05-02T00:00:00+0000", &t) &&
		       !cve_parse_date("2024-05-02T00:00:00Z", &u) && t == u && t == 1714608000,
	       "EPSS dates in both forms");
	TAP_OK(!cve_parse_date("2024-05-01T15:00:12.3456Z", &t) && t == 1714575612,
	       "a KEV dateReleased with a fraction");
	TAP_OK(!cve_parse_date("2024-05-02", &t) && t == 1714608000, "a plain date");
	TAP_OK(cve_parse_date("2024-05-02T00:00:00+0200", &t) < 0 &&
		       cve_parse_date("2024-13-01", &t) < 0 && cve_parse_date("", &t) < 0 &&
		       cve_parse_date("2024-05-02x", &t) < 0,
	       "not dates: another zone, month 13, empty, trailing bytes");
}

static void test_order(void)
{
	struct cve_finding f[6];
	const char *want[] = { "R", "K1", "K2", "E", "U", "Z" };

	memset(f, 0, sizeof(f));
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		f[i].epss = f[i].percentile = -1;
	/* shuffled: Z (low), E (EPSS), K2 (KEV due later), R (ransomware), U (high), K1 */
	f[0].id = "Z", f[0].urgency = "low";
	f[1].id = "E", f[1].percentile = 0.5, f[1].urgency = "low";
	f[2].id = "K2", f[2].kev = true, f[2].kev_due = "2024-06-01";
	f[3].id = "R", f[3].kev = true, f[3].kev_ransomware = true, f[3].kev_due = "2025-01-01";
	f[4].id = "U", f[4].urgency = "high**";
	f[5].id = "K1", f[5].kev = true, f[5].kev_due = "2024-05-01";
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		for (size_t k = i + 1; k < ARRAY_SIZE(f); k++)
			if (cve_finding_cmp(&f[k], &f[i]) < 0) {
				struct cve_finding t = f[i];

				f[i] = f[k];
				f[k] = t;
			}
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		TAP_STREQ(f[i].id, want[i], "priority %zu", i + 1);
}

/* source, installed source version, fixed_version, the class */
static const struct vcase {
	const char *source, *installed, *fixed, *cls;
} vcases[] = {
	{ "epoch", "1:1.0-1", "2.0-1", "fixed" },          /* 1:1.0 > 2.0 */
	{ "epoch2", "2.0-1", "1:1.0-1", "fixable" },
	{ "tilde", "1.0~rc1-1", "1.0-1", "fixable" },      /* 1.0~rc1 < 1.0 */
	{ "binnmu", "1.0-1", "1.0-1+b1", "fixable" },      /* 1.0-1 < 1.0-1+b1 */
	{ "binnmu2", "1.0-1+b1", "1.0-1+deb12u1", "fixable" }, /* +b1 < +deb12u1 */
	{ "deb", "1.0-1+deb12u10", "1.0-1+deb12u4", "fixed" }, /* u4 < u10 */
	{ "deb2", "1.0-1+deb12u4", "1.0-1+deb12u10", "fixable" },
	{ "lib", "1.0-1", "1.0-1", "fixed" },
	{ "lib-extra", "1.0-1", "0", "not-affected" },     /* prefixes of each other */
	{ "libx", "1.0-1", "9.0-1", "fixable" },
};

static int test_versions(const char *dir)
{
	struct cve_config c;
	struct cve_subject *s = xcalloc(1, sizeof(*s));
	struct cve_report r;
	strbuf doc = STRBUF_INIT;
	char *feeds = path_join(dir, "feeds"), *file = path_join(feeds, "tracker.json");
	perr e = { 0, "" };
	int rc;

	memset(&c, 0, sizeof(c));
	c.max_age = 86400;
	sv_push(&c.codenames, "bookworm");
	sb_adds(&doc, "{");
	for (size_t i = 0; i < ARRAY_SIZE(vcases); i++)
		sb_addf(&doc,
			"%s\"%s\": {\"CVE-2024-%04zu\": {\"releases\": {\"bookworm\": {\"status\": "
			"\"resolved\", \"fixed_version\": \"%s\"}}}}",
			i ? ", " : "", vcases[i].source, i, vcases[i].fixed);
	sb_adds(&doc, "}");
	TAP_REQUIRE(mkdir_p(feeds, 0755, &e) == 0 &&
			    write_file_atomic(file, doc.buf, doc.len, 0644, &e) == 0,
		    "write the tracker: %s", e.msg);
	rc = cve_sync(&c, feeds, NULL, &e);
	TAP_OK(rc == 0, "sync a tracker alone (%s)", e.msg);
	s->name = xstrdup("img");
	s->codename = xstrdup("bookworm");
	s->npkgs = ARRAY_SIZE(vcases);
	s->pkgs = xcalloc(s->npkgs, sizeof(*s->pkgs));
	for (size_t i = 0; i < s->npkgs; i++) {
		s->pkgs[i].name = xasprintf("bin-%s", vcases[i].source);
		s->pkgs[i].version = xstrdup(vcases[i].installed);
		s->pkgs[i].source = xstrdup(vcases[i].source);
		s->pkgs[i].source_version = xstrdup(vcases[i].installed);
		s->pkgs[i].arch = xstrdup("amd64");
		s->pkgs[i].purl = xstrdup("pkg:deb/debian/x@1");
	}
	rc = cve_match(&c, s, 1, 0, &r, &e);
	TAP_OK(rc == 0 && r.nfindings == ARRAY_SIZE(vcases), "one finding per source (%s)", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(vcases); i++) {
		const char *got = NULL;

		for (size_t k = 0; k < r.nfindings; k++)
			if (!strcmp(r.findings[k].source, vcases[i].source))
				got = cve_class_name(r.findings[k].cls);
		TAP_STREQ(got, vcases[i].cls, "%s installed, %s fixed: %s", vcases[i].installed,
			  vcases[i].fixed, vcases[i].cls);
	}
	TAP_OK(r.stale && strstr(r.stale, "kev never synced") && strstr(r.stale, "epss never synced"),
	       "feeds never synced are stale: %s", r.stale ? r.stale : "(none)");
	cve_report_release(&r);
	cve_config_release(&c);
	sb_release(&doc);
	free(feeds);
	free(file);
	return 0;
}

static int nop_epss(const struct cve_epss_entry *x, void *arg, perr *e)
{
	(void)x, (void)arg, (void)e;
	return 0;
}

/* a gzip that inflates past the cap is refused by what comes out, not by its size */
static void test_epss_cap(const char *dir)
{
	char *path = path_join(dir, "epss.csv.gz");
	struct cve_sink sink = { NULL, NULL, nop_epss, NULL };
	struct cve_parser *p;
	perr e = { 0, "" };
	gzFile gz = gzopen(path, "wb9");
	struct stat st;

	gzputs(gz, "#model_version:v1,score_date:2024-05-02T00:00:00Z\ncve,epss,percentile\n");
	for (int i = 0; i < 2000; i++)
		gzprintf(gz, "CVE-2024-%05d,0.00100,0.50000\n", i);
	gzclose(gz);
	stat(path, &st);
	p = cve_parser_new(CVE_FEED_EPSS, path, NULL, &sink);
	TAP_OK(st.st_size < 20000 && cve_feed_read_file(p, path, 20000, &e) < 0 &&
		       strstr(e.msg, "more than 20000 bytes uncompressed"),
	       "EPSS: %lld bytes of gzip inflating past the cap: %s", (long long)st.st_size, e.msg);
	cve_parser_free(p);
	p = cve_parser_new(CVE_FEED_EPSS, path, NULL, &sink);
	TAP_OK(cve_feed_read_file(p, path, 1 << 20, &e) == 0 && cve_parser_count(p) == 2000,
	       "the same file under a larger cap: 2000 scores");
	cve_parser_free(p);
	free(path);
}

int main(void)
{
	char tmpl[] = "/tmp/unit-cve.XXXXXX";
	char *dir = mkdtemp(tmpl);
	perr e = { 0, "" };

	TAP_REQUIRE(dir != NULL, "mkdtemp");
	setenv("PARE_CACHE_DIR", dir, 1);
	pare_quiet = 1;
	test_tracker();
	test_dates();
	test_order();
	test_epss_cap(dir);
	if (test_versions(dir))
		return 2;
	rm_rf(dir, &e);
	TAP_DONE();
}
