/* unit-lock.c - recipes.lock write/read round trip, validation messages,
 * lock_diff, resolver_why on a hand-built closure, and the Packages index
 * checks (packages_check). */
#include "../../resolver/resolver.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void pkg(struct lock_pkg *p, const char *name, const char *ver, const char *rb)
{
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->version = xstrdup(ver);
	p->arch = xstrdup("amd64");
	p->source = xstrdup(name);
	p->source_version = xstrdup(ver);
	p->filename = xasprintf("pool/main/%c/%s/%s_%s_amd64.deb", name[0], name, name, ver);
	p->size = 1234567890123ULL;
	p->sha256 = xstrdup(SHA);
	p->installed_size = 42;
	sv_split(&p->required_by, rb, ",");
	p->requested = sv_contains(&p->required_by, "recipe");
}

/* a -> b -> d, a -> c -> d; e requested on its own */
static void build(struct lock_recipe *r, const char *name, const char *dver)
{
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->recipe_sha256 = xstrdup(SHA);
	r->nrepos = 1;
	r->repos = xcalloc(1, sizeof(*r->repos));
	r->repos[0].origin = xstrdup("Pare \"Fixture\"");
	r->repos[0].label = xstrdup("Pare Fixture");
	r->repos[0].suite = xstrdup("stable");
	r->repos[0].codename = xstrdup("fixture");
	r->repos[0].date = xstrdup("Mon, 02 Jan 2023 00:00:00 UTC");
	r->repos[0].inrelease_sha256 = xstrdup(SHA);
	r->repos[0].url = xstrdup("file:///not/written");
	r->narchs = 1;
	r->archs = xcalloc(1, sizeof(*r->archs));
	r->archs[0].arch = xstrdup("amd64");
	r->archs[0].npkgs = 5;
	r->archs[0].pkgs = xcalloc(5, sizeof(struct lock_pkg));
	/* deliberately unsorted: the writer sorts */
	pkg(&r->archs[0].pkgs[0], "d", dver, "b,c");
	pkg(&r->archs[0].pkgs[1], "a", "1", "recipe");
	pkg(&r->archs[0].pkgs[2], "b", "1", "a");
	pkg(&r->archs[0].pkgs[3], "c", "1", "a");
	pkg(&r->archs[0].pkgs[4], "e", "1", "recipe");
}

static int write_str(const char *path, const char *s)
{
	perr e;
	return write_file_atomic(path, s, strlen(s), 0644, &e);
}

static void bad_lock(const char *dir, const char *json, const char *want, const char *what)
{
	char *p = path_join(dir, "bad.lock");
	struct lock l;
	perr e = { 0, "" };
	write_str(p, json);
	int rc = lock_read(p, &l, false, &e);
	TAP_OK(rc < 0 && strstr(e.msg, want), "lock_read refuses %s", what);
	if (rc == 0 || !strstr(e.msg, want))
		printf("#   got '%s'\n#   want '%s'\n", e.msg, want);
	if (rc == 0)
		lock_release(&l);
	free(p);
}

int main(void)
{
	char tmpl[] = "/tmp/unit-lock.XXXXXX", *dir = mkdtemp(tmpl);
	char *p1 = path_join(dir, "a.lock"), *p2 = path_join(dir, "b.lock");
	struct lock l = { 1, NULL, 0 }, back;
	struct lock_recipe r, r2;
	strbuf s1 = STRBUF_INIT, s2 = STRBUF_INIT;
	strvec lines = STRVEC_INIT, paths = STRVEC_INIT;
	perr e = { 0, "" };

	build(&r, "zz", "1");
	lock_put(&l, &r);
	build(&r, "aa", "1");
	lock_put(&l, &r);
	TAP_OK(l.nrecipes == 2 && !strcmp(l.recipes[0].name, "aa"), "lock_put keeps recipes sorted");
	TAP_OK(lock_write(p1, &l, &e) == 0, "lock_write");
	TAP_OK(lock_read(p1, &back, false, &e) == 0, "lock_read what lock_write wrote: %s", e.msg);
	TAP_OK(lock_write(p2, &back, &e) == 0, "lock_write again");
	read_file(p1, &s1, 0, &e);
	read_file(p2, &s2, 0, &e);
	TAP_OK(s1.len && s1.len == s2.len && !memcmp(s1.buf, s2.buf, s1.len),
	       "write -> read -> write is byte-identical");
	TAP_OK(!strstr(sb_str(&s1), "file://") && !strchr(sb_str(&s1), '\t') &&
		       s1.buf[s1.len - 1] == '\n' && s1.buf[s1.len - 2] == '}',
	       "no URL, no tabs, trailing newline");
	TAP_OK(strstr(sb_str(&s1), "\n  \"recipes\": {\n    \"aa\": {\n      \"recipe_sha256\"") != NULL,
	       "2-space indent, fixed key order");
	TAP_OK(strstr(sb_str(&s1), "\"origin\": \"Pare \\\"Fixture\\\"\"") != NULL, "strings escaped");
	TAP_OK(strstr(sb_str(&s1), "\"size\": 1234567890123,") != NULL, "large sizes exact");
	const char *pa = strstr(sb_str(&s1), "\"name\": \"a\""), *pb = strstr(sb_str(&s1), "\"name\": \"b\"");
	TAP_OK(pa && pb && pa < pb, "packages sorted by name");

	struct lock_recipe *ra = lock_find(&back, "aa");
	TAP_OK(ra && ra->archs[0].npkgs == 5 && ra->archs[0].pkgs[0].requested &&
		       !strcmp(ra->archs[0].pkgs[0].name, "a") && ra->archs[0].pkgs[0].size == 1234567890123ULL,
	       "fields read back");
	TAP_OK(ra && ra->archs[0].pkgs[0].depends.n == 2, "depends rebuilt from required_by");
	TAP_OK(ra && ra->repos[0].date_epoch == 1672617600, "repository date parsed");

	TAP_OK(resolver_why(ra, "amd64", "d", &paths, &e) == 0 && paths.n == 2, "why: all shortest paths");
	TAP_STREQ(paths.n == 2 ? paths.v[0] : NULL, "a -> b -> d", "why: first path");
	TAP_STREQ(paths.n == 2 ? paths.v[1] : NULL, "a -> c -> d", "why: second path");
	sv_clear(&paths);
	TAP_OK(resolver_why(ra, "amd64", "a", &paths, &e) == 0 && paths.n == 1 &&
		       !strcmp(paths.v[0], "a"), "why: a requested package is its own path");
	sv_clear(&paths);
	TAP_OK(resolver_why(ra, "amd64", "nope", &paths, &e) < 0 && strstr(e.msg, "not in the closure"),
	       "why: unknown package");
	TAP_OK(resolver_why(ra, "arm64", "a", &paths, &e) < 0 && strstr(e.msg, "not locked for arm64"),
	       "why: unknown arch");

	build(&r2, "aa", "2");
	free(r2.recipe_sha256);
	r2.recipe_sha256 = xstrdup("f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	lock_diff(ra, &r2, &lines);
	TAP_OK(lines.n == 2 && sv_contains(&lines, "aa: recipe changed (recipe_sha256 differs)") &&
		       sv_contains(&lines, "aa amd64: d 1 -> 2"), "lock_diff: recipe and version change");
	sv_clear(&lines);
	lock_diff(NULL, &r2, &lines);
	TAP_OK(lines.n == 1 && strstr(lines.v[0], "not in recipes.lock"), "lock_diff: missing entry");
	sv_clear(&lines);
	lock_diff(ra, ra, &lines);
	TAP_OK(lines.n == 0, "lock_diff: no difference");
	lock_recipe_release(&r2);

	char *missing = path_join(dir, "missing.lock");
	lock_release(&l);
	TAP_OK(lock_read(missing, &l, true, &e) == 0 && l.nrecipes == 0,
	       "missing lock with missing_ok is empty");
	free(missing);
	bad_lock(dir, "{\"version\": 2, \"recipes\": {}}", "unsupported \"version\"", "another version");
	bad_lock(dir, "{\"version\": 1, \"recipes\": [", "not valid JSON", "broken JSON");
	bad_lock(dir, "{\"version\": 1, \"recipes\": {\"x\": {\"recipe_sha256\": 5}}}",
		 "recipe x: entry: \"recipe_sha256\" must be a string", "a number for a string");
	char *s = xstrdup(sb_str(&s1));
	char *at = strstr(s, "\"size\": 1234567890123");
	memcpy(at, "\"size\": \"23456789012\"", 21);
	bad_lock(dir, s, "recipe aa: amd64 package a: \"size\" must be a non-negative integer", "a string size");
	free(s);
	s = xstrdup(sb_str(&s1));
	at = strstr(s, "pool/main/a/a/");
	memcpy(at, "../../etc/pass", 14);
	bad_lock(dir, s, "unsafe \"filename\"", "a filename with ..");
	free(s);
	/* fuzz-lock: a raw newline inside a JSON string reached the one-line
	 * error ("unparsable date '…\n…'") and would reach pare check's output */
	s = xstrdup(sb_str(&s1));
	at = strstr(s, "Mon, 02 Jan");
	at[4] = '\n';
	bad_lock(dir, s, "repository #1: \"date\" holds a control character", "a newline in a date");
	free(s);
	s = xstrdup(sb_str(&s1));
	at = strstr(s, "\"name\": \"b\"");
	memcpy(at, "\"name\": \"\t\"", 11);
	bad_lock(dir, s, "\"name\" holds a control character", "a tab in a package name");
	free(s);
	bad_lock(dir, "{\"version\": 1, \"recipes\": {\"a\\nb\": {}}}",
		 "a recipe name holds a control character", "an escaped newline in a recipe name");
	bad_lock(dir, "{\"version\": 1, \"recipes\": {\"x\": {\"recipe_sha256\": \"s\", "
		      "\"repositories\": [], \"archs\": {\"amd64\": {\"packages\": []}, "
		      "\"amd64\": {\"packages\": []}}}}}",
		 "recipe x: arch amd64 is listed twice", "an arch listed twice");
	{
		/* lock_read_buf is lock_read without the file */
		struct lock lb;
		perr eb = { 0, "" };
		TAP_OK(lock_read_buf("mem.lock", s1.buf, s1.len, &lb, &eb) == 0 && lb.nrecipes == 2,
		       "lock_read_buf reads what lock_write wrote");
		lock_release(&lb);
		TAP_OK(lock_read_buf("mem.lock", "{", 1, &lb, &eb) < 0 && str_starts(eb.msg, "mem.lock: "),
		       "lock_read_buf names its input");
	}

	/* resolver_repo_url: the lock has no URLs; the recipe maps suite or
	 * codename back to one */
	{
		struct recipe rc;
		struct recipe_repo rr[2];
		struct lock_repo lrp = { 0 };
		char *url = NULL;
		memset(&rc, 0, sizeof(rc));
		memset(rr, 0, sizeof(rr));
		rc.name = "t";
		rc.repos = rr;
		rc.nrepos = 2;
		rr[0].url = "http://127.0.0.1:1/a";
		sv_push(&rr[0].suites, "stable");
		rr[1].url = "http://127.0.0.1:1/b";
		sv_push(&rr[1].suites, "bookworm-security");
		lrp.suite = "oldstable-security";
		lrp.codename = "bookworm-security";
		TAP_OK(resolver_repo_url(&rc, &lrp, &url, &e) == 0 && url &&
			       !strcmp(url, "http://127.0.0.1:1/b"), "repo url by codename");
		free(url);
		url = NULL;
		lrp.suite = "stable";
		lrp.codename = "fixture";
		TAP_OK(resolver_repo_url(&rc, &lrp, &url, &e) == 0 && url &&
			       !strcmp(url, "http://127.0.0.1:1/a"), "repo url by suite");
		free(url);
		url = NULL;
		lrp.suite = "testing";
		lrp.codename = "trixie";
		TAP_OK(resolver_repo_url(&rc, &lrp, &url, &e) < 0 && strstr(e.msg, "no repository for suite testing"),
		       "repo url: no such suite");
		sv_clear(&rr[0].suites);
		sv_clear(&rr[1].suites);
	}

	/* Packages indexes */
	size_t n = 0;
#define GOOD "Package: aa\nVersion: 1:2.0-1\nArchitecture: amd64\nMaintainer: M <m@x>\n" \
	     "Source: src (2.0-0)\nFilename: pool/a/aa.deb\nSize: 10\nSHA256: %s\n" \
	     "Description: x\n long\n .\n more\n\nPackage: bb\nVersion: 1\n" \
	     "Architecture: all\nFilename: pool/b/bb.deb\nSize: 1\nSHA256: %s\n"
	char *buf = xasprintf(GOOD, SHA, SHA);
	e.msg[0] = '\0';
	TAP_OK(packages_check("P", buf, strlen(buf), &n, &e) == 0 && n == 2, "a good index: %s", e.msg);
	free(buf);
	struct { const char *text, *want; } bad[] = {
		{ "Package: aa\nVersion 1\n", "P:2: malformed line" },
		{ "Version: 1\nArchitecture: all\n", "P:1: stanza without a Package field" },
		{ "Package: aa\nPackage: bb\n", "P:2: duplicate field 'Package'" },
		{ "Package: aa\nVersion: 1\nArchitecture: all\nFilename: /etc/x\nSize: 1\nSHA256: 00\n",
		  "unsafe Filename" },
		{ "Package: aa\nVersion: 1\nArchitecture: all\nFilename: a/b\nSize: -1\nSHA256: 00\n",
		  "invalid Size" },
		{ "Package: aa\nVersion: 1\nArchitecture: all\nFilename: a/b\nSize: 1\nSHA256: 00\n",
		  "invalid SHA256" },
		{ "Package: aa\nVersion: 1\nArchitecture: all\nFilename: a/b\nSize: 1\n", "no SHA256 field" },
		{ "Package: a\0a\n", "control character 0x00" },
		{ " Package: aa\n", "continuation line outside a stanza" },
		{ "Package: aa\n \n", "line of only white space" },
		{ "Package: A_B\n", "invalid package name" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len = strlen(bad[i].text);
		if (i == 7)
			len = 13;
		perr e2 = { 0, "" };
		int rc = packages_check("P", bad[i].text, len, &n, &e2);
		TAP_OK(rc < 0 && strstr(e2.msg, bad[i].want), "index refused: %s", bad[i].want);
		if (rc == 0 || !strstr(e2.msg, bad[i].want))
			printf("#   got '%s'\n", e2.msg);
	}
	TAP_OK(packages_check("P", "", 0, &n, &e) == 0 && n == 0, "an empty index is fine");

	/* numbers: digits only, at most LOCK_NUM_MAX (what the lock holds) */
#define NUMS "Package: aa\nVersion: 1\nArchitecture: all\nFilename: a/b\nSize: %s\n" \
	     "Installed-Size: %s\nSHA256: %s\n"
	struct { const char *size, *isize, *want; } nums[] = {
		{ "9007199254740991", "9007199254740991", NULL },
		{ "0", "0", NULL },
		{ "1", "99999999999999999999999", "P:1: package aa: invalid Installed-Size '9999" },
		{ "1", "-5", "invalid Installed-Size '-5'" },
		{ "1", "+5", "invalid Installed-Size '+5'" },
		{ "1", "9007199254740992", "invalid Installed-Size" },
		{ "1", "", "invalid Installed-Size ''" },
		{ "1", "1 2", "invalid Installed-Size" },
		{ "9007199254740992", "1", "invalid Size '9007199254740992'" },
		{ "18446744073709551615", "1", "invalid Size" },
		{ "99999999999999999999999", "1", "invalid Size" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		char *t = xasprintf(NUMS, nums[i].size, nums[i].isize, SHA);
		perr e2 = { 0, "" };
		int rc = packages_check("P", t, strlen(t), &n, &e2);
		if (!nums[i].want)
			TAP_OK(rc == 0, "Size %s Installed-Size %s accepted: %s", nums[i].size,
			       nums[i].isize, e2.msg);
		else
			TAP_OK(rc < 0 && strstr(e2.msg, nums[i].want), "Size %s Installed-Size %s refused: %s",
			       nums[i].size, nums[i].isize, e2.msg);
		free(t);
	}
	/* the same Filename rule for the index and the lock: "a..b" is a name */
	char *dots = xasprintf("Package: aa\nVersion: 1\nArchitecture: all\n"
			       "Filename: pool/a..b/aa_1..2.deb\nSize: 1\nSHA256: %s\n", SHA);
	TAP_OK(packages_check("P", dots, strlen(dots), &n, &e) == 0, "Filename with '..' in a name accepted");
	free(dots);

	/* every field at its limits: lock_write -> lock_read -> lock_write */
	{
		struct lock lim = { 1, NULL, 0 }, lb;
		struct lock_recipe lr;
		strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		char *lp = path_join(dir, "limits.lock");
		build(&lr, "lim \"\\ \xc3\xa9", "1");
		lr.source_date_epoch = 253402300799LL;
		struct lock_pkg *q = &lr.archs[0].pkgs[0];
		q->size = LOCK_NUM_MAX;
		q->installed_size = LOCK_NUM_MAX;
		free(q->filename);
		q->filename = xstrdup("pool/a..b/~+_%:=@,/d_1..2.deb");
		free(q->version);
		q->version = xstrdup("99999999:1.0~rc1+b2-0.1~");
		lr.archs[0].pkgs[1].size = 0;
		lr.archs[0].pkgs[1].installed_size = 0;
		free(lr.repos[0].date);
		lr.repos[0].date = xstrdup("Fri, 31 Dec 9999 23:59:59 UTC");
		lock_put(&lim, &lr);
		TAP_OK(lock_write(lp, &lim, &e) == 0, "limits: lock_write: %s", e.msg);
		TAP_OK(lock_read(lp, &lb, false, &e) == 0, "limits: lock_read: %s", e.msg);
		const struct lock_recipe *rb = lb.nrecipes == 1 ? &lb.recipes[0] : NULL;
		const struct lock_pkg *qb = rb ? &rb->archs[0].pkgs[3] : NULL;
		TAP_OK(qb && !strcmp(qb->name, "d") && qb->size == LOCK_NUM_MAX &&
			       qb->installed_size == LOCK_NUM_MAX &&
			       !strcmp(qb->filename, "pool/a..b/~+_%:=@,/d_1..2.deb") &&
			       !strcmp(qb->version, "99999999:1.0~rc1+b2-0.1~") &&
			       rb->archs[0].pkgs[0].size == 0 && rb->source_date_epoch == 253402300799LL &&
			       !strcmp(rb->name, "lim \"\\ \xc3\xa9"),
		       "limits: every field read back as written");
		lock_format(&lim, &a);
		if (rb)
			lock_format(&lb, &b);
		TAP_OK(a.len && a.len == b.len && !memcmp(a.buf, b.buf, a.len), "limits: byte-identical");
		/* beyond them: not written, and the file on disk is left alone */
		lim.recipes[0].archs[0].pkgs[0].size = LOCK_NUM_MAX + 1;
		TAP_OK(lock_write(lp, &lim, &e) < 0 && strstr(e.msg, "\"size\" must be a non-negative integer"),
		       "lock_write refuses a size lock_read would refuse: %s", e.msg);
		lim.recipes[0].archs[0].pkgs[0].size = 1;
		lim.recipes[0].archs[0].pkgs[0].installed_size = LOCK_NUM_MAX + 1;
		TAP_OK(lock_write(lp, &lim, &e) < 0 && strstr(e.msg, "installed_size"),
		       "lock_write refuses an installed_size lock_read would refuse");
		lim.recipes[0].archs[0].pkgs[0].installed_size = 1;
		free(lim.recipes[0].archs[0].pkgs[0].version);
		lim.recipes[0].archs[0].pkgs[0].version = xstrdup("1\n2");
		TAP_OK(lock_write(lp, &lim, &e) < 0 && strstr(e.msg, "control character"),
		       "lock_write refuses a control character");
		sb_reset(&b);
		read_file(lp, &b, 0, &e);
		TAP_OK(a.len == b.len && !memcmp(a.buf, b.buf, a.len), "refused writes left the file alone");
		lock_release(&lim);
		if (rb)
			lock_release(&lb);
		sb_release(&a);
		sb_release(&b);
		free(lp);
	}

	lock_release(&l);
	lock_release(&back);
	sb_release(&s1);
	sb_release(&s2);
	free(p1);
	free(p2);
	rm_rf(dir, &e);
	TAP_DONE();
}
