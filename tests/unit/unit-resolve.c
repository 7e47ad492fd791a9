/* unit-resolve.c - resolver_lock on a hand-built recipe and a tiny trusted
 * file:// repository: every field the lock (and the builder) needs comes
 * out the same from a fresh parse and from the .solv cache, including the
 * runtime-only maintainer; assumed packages, versions and alternatives. */
#define _GNU_SOURCE
#include "../../resolver/resolver.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const char *PACKAGES =
	"Package: app\nVersion: 2:1.0-1+b1\nArchitecture: amd64\nMaintainer: Ann <ann@example.invalid>\n"
	"Installed-Size: 3\nSource: app-src (1.0-1)\nDepends: libx (>= 2), alt-a | alt-b, sh\n"
	"Recommends: rec\nFilename: pool/main/a/app-src/app_1.0-1+b1_amd64.deb\nSize: 1234\n"
	"MD5sum: 0123456789abcdef0123456789abcdef\n"
	"SHA256: 1111111111111111111111111111111111111111111111111111111111111111\n"
	"Description: an app\n with a long description\n\n"
	"Package: libx\nVersion: 1\nArchitecture: amd64\nFilename: pool/l/libx1.deb\nSize: 1\n"
	"SHA256: 2222222222222222222222222222222222222222222222222222222222222222\n\n"
	"Package: libx\nVersion: 2.5\nArchitecture: amd64\nMaintainer: Lib <l@x.invalid>\nSource: xlib\n"
	"Filename: pool/l/libx2.deb\nSize: 2\nInstalled-Size: 4096\n"
	"SHA256: 3333333333333333333333333333333333333333333333333333333333333333\n\n"
	"Package: alt-a\nVersion: 1\nArchitecture: all\nFilename: pool/a/alt-a.deb\nSize: 3\n"
	"SHA256: 4444444444444444444444444444444444444444444444444444444444444444\n\n"
	"Package: alt-b\nVersion: 1\nArchitecture: amd64\nFilename: pool/a/alt-b.deb\nSize: 4\n"
	"SHA256: 5555555555555555555555555555555555555555555555555555555555555555\n\n"
	"Package: sh\nVersion: 1\nArchitecture: amd64\nDepends: libheavy\nFilename: pool/s/sh.deb\nSize: 5\n"
	"SHA256: 6666666666666666666666666666666666666666666666666666666666666666\n\n"
	"Package: libheavy\nVersion: 1\nArchitecture: amd64\nFilename: pool/l/h.deb\nSize: 6\n"
	"SHA256: 7777777777777777777777777777777777777777777777777777777777777777\n\n"
	"Package: rec\nVersion: 1\nArchitecture: amd64\nFilename: pool/r/rec.deb\nSize: 7\n"
	"SHA256: 8888888888888888888888888888888888888888888888888888888888888888\n";

static void lockpkgs(const struct lock_recipe *lr, strbuf *out)
{
	for (size_t i = 0; i < lr->archs[0].npkgs; i++) {
		const struct lock_pkg *p = &lr->archs[0].pkgs[i];
		sb_addf(out, "%s %s %s %s %s %s %d %llu %s %llu [", p->name, p->version,
			p->arch, p->source, p->source_version, p->filename, p->repo,
			(unsigned long long)p->size, p->sha256,
			(unsigned long long)p->installed_size);
		for (size_t k = 0; k < p->required_by.n; k++)
			sb_addf(out, "%s%s", k ? "," : "", p->required_by.v[k]);
		sb_addf(out, "] %s\n", p->maintainer ? p->maintainer : "-");
	}
}

int main(void)
{
	char tmpl[] = "/tmp/unit-resolve.XXXXXX", *dir = mkdtemp(tmpl);
	char *dist = xasprintf("%s/dists/s/main/binary-amd64", dir), *f, *cache, hex[65];
	struct recipe r;
	struct recipe_repo rr;
	struct recipe_dep dep = { "app", NULL, NULL };
	struct lock_recipe a, b;
	struct resolve_opts o = { false, NULL };
	strbuf sa = STRBUF_INIT, sb = STRBUF_INIT, rel = STRBUF_INIT;
	perr e = { 0, "" };

	pare_quiet = 1;
	cache = xasprintf("%s/cache", dir);
	setenv("PARE_CACHE_DIR", cache, 1);
	mkdir_p(dist, 0755, &e);
	f = xasprintf("%s/Packages", dist);
	write_file_atomic(f, PACKAGES, strlen(PACKAGES), 0644, &e);
	sha256_hex(PACKAGES, strlen(PACKAGES), hex);
	sb_addf(&rel, "Origin: T\nSuite: s\nCodename: c\nDate: Mon, 02 Jan 2023 00:00:00 UTC\n"
		      "SHA256:\n %s %zu main/binary-amd64/Packages\n", hex, strlen(PACKAGES));
	free(f);
	f = xasprintf("%s/dists/s/Release", dir);
	write_file_atomic(f, rel.buf, rel.len, 0644, &e);

	memset(&r, 0, sizeof(r));
	memset(&rr, 0, sizeof(rr));
	r.name = "u";
	r.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	rr.url = xasprintf("file://%s", dir);
	rr.trusted = true;
	sv_push(&rr.suites, "s");
	sv_push(&rr.components, "main");
	r.repos = &rr;
	r.nrepos = 1;
	sv_push(&r.archs, "amd64");
	r.packages = &dep;
	r.npackages = 1;
	sv_push(&r.assume, "sh");

	/* the .solv round trip: solved both times, not taken from the resolution cache */
	setenv("PARE_RESOLVE_CACHE", "0", 1);
	TAP_OK(resolver_lock(&r, &o, &a, &e) == 0, "cold resolve: %s", e.msg);
	TAP_OK(resolver_lock(&r, &o, &b, &e) == 0, "warm resolve (from .solv): %s", e.msg);
	unsetenv("PARE_RESOLVE_CACHE");
	lockpkgs(&a, &sa);
	lockpkgs(&b, &sb);
	TAP_STREQ(sb_str(&sb), sb_str(&sa), "every field survives the .solv round trip");
	/* the resolution cache: the first lock with it on solves and keeps the
	 * answer, the second takes it; every field recipes.lock holds is the
	 * same (the maintainer is runtime only: the index's, not locked) */
	{
		struct lock_recipe m1, m2;
		struct lock l1 = { 1, NULL, 0 }, l2 = { 1, NULL, 0 };
		strbuf f1 = STRBUF_INIT, f2 = STRBUF_INIT;

		TAP_OK(resolver_lock(&r, &o, &m1, &e) == 0 && resolver_last_timing.cached == 0,
		       "resolution cache: first lock solves");
		TAP_OK(resolver_lock(&r, &o, &m2, &e) == 0 && resolver_last_timing.cached == 1,
		       "resolution cache: second lock takes the kept answer");
		TAP_OK(m2.archs[0].npkgs == 3 && !m2.archs[0].pkgs[1].maintainer,
		       "resolution cache: the maintainer is not kept (runtime only)");
		lock_put(&l1, &m1);
		lock_put(&l2, &m2);
		lock_format(&l1, &f1);
		lock_format(&l2, &f2);
		TAP_STREQ(sb_str(&f2), sb_str(&f1), "resolution cache: the same lock entry as solving gives");
		lock_release(&l1), lock_release(&l2);
		sb_release(&f1), sb_release(&f2);
	}
	TAP_STREQ(sb_str(&sa),
		  "alt-a 1 all alt-a 1 pool/a/alt-a.deb 0 3 4444444444444444444444444444444444444444444444444444444444444444 0 [app] -\n"
		  "app 2:1.0-1+b1 amd64 app-src 1.0-1 pool/main/a/app-src/app_1.0-1+b1_amd64.deb 0 1234 1111111111111111111111111111111111111111111111111111111111111111 3 [recipe] Ann <ann@example.invalid>\n"
		  "libx 2.5 amd64 xlib 2.5 pool/l/libx2.deb 0 2 3333333333333333333333333333333333333333333333333333333333333333 4096 [app] Lib <l@x.invalid>\n",
		  "closure: newest libx, first alternative, assumed sh without its libheavy, no Recommends; "
		  "source, source version, sha256 (not MD5), sizes, maintainer");
	TAP_STREQ(a.repos[0].suite, "s", "repository suite");
	TAP_STREQ(a.repos[0].origin, "T", "repository origin");
	TAP_STREQ(a.repos[0].label, "", "missing Label is empty");

	/* rollback against the lock just made */
	struct lock prev = { 1, NULL, 0 };
	struct lock_recipe c;
	lock_put(&prev, &a);
	strbuf rel2 = STRBUF_INIT;
	sb_addf(&rel2, "Origin: T\nSuite: s\nCodename: c\nDate: Sun, 01 Jan 2023 00:00:00 UTC\n"
		       "SHA256:\n %s %zu main/binary-amd64/Packages\n", hex, strlen(PACKAGES));
	write_file_atomic(f, rel2.buf, rel2.len, 0644, &e);
	o.previous = &prev;
	TAP_OK(resolver_lock(&r, &o, &c, &e) < 0 && strstr(e.msg, "refusing a rollback"),
	       "older Date than the lock: refused");

	lock_release(&prev);
	lock_recipe_release(&b);
	sb_release(&sa), sb_release(&sb), sb_release(&rel), sb_release(&rel2);
	sv_clear(&rr.suites), sv_clear(&rr.components), sv_clear(&r.archs), sv_clear(&r.assume);
	free(rr.url), free(f), free(dist);
	rm_rf(dir, &e);
	free(cache);
	TAP_DONE();
}
