/* unit-sources.c - sources_load_host over a fake /etc/apt ($PARE_APT_DIR). */
#define _GNU_SOURCE
#include "../../resolver/resolver.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pare-unit-sources-XXXXXX";

static void wr(const char *name, const char *text)
{
	char *p = path_join(dir, name);
	char *d = path_dirname(p);
	perr e;

	if (mkdir_p(d, 0755, &e) < 0 || write_file_atomic(p, text, strlen(text), 0644, &e) < 0)
		die("%s", e.msg);
	free(d);
	free(p);
}

static void rm(const char *name)
{
	char *p = path_join(dir, name);
	unlink(p);
	free(p);
}

static bool sv_is(const strvec *sv, const char *joined)
{
	strbuf sb = STRBUF_INIT;
	bool r;

	for (size_t i = 0; i < sv->n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", sv->v[i]);
	r = !strcmp(sb_str(&sb), joined);
	if (!r)
		printf("#   got '%s' want '%s'\n", sb_str(&sb), joined);
	sb_release(&sb);
	return r;
}

/* Expect sources_load_host to fail with a message containing want. */
static void fails(const char *want, const char *what)
{
	struct recipe_repo *repos = NULL;
	size_t n = 0;
	perr e = { 0 };
	int r = sources_load_host(&repos, &n, &e);
	const char *m = e.msg;

	TAP_OK(r < 0 && strstr(m, want), "%s", what);
	if (r == 0 || !strstr(m, want))
		printf("#   got '%s'\n#   want '%s'\n", r == 0 ? "(success)" : m, want);
	if (r == 0)
		repos_free(repos, n);
}

int main(void)
{
	struct recipe_repo *repos = NULL;
	size_t n = 0;
	perr e;
	int r;

	if (!mkdtemp(dir))
		die("mkdtemp");
	setenv("PARE_APT_DIR", dir, 1);
	{
		char *cache = path_join(dir, "cache");
		setenv("PARE_CACHE_DIR", cache, 1);
		free(cache);
	}

	wr("sources.list",
	   "# the main list\n"
	   "deb http://127.0.0.1:8080/debian/ stable main contrib # trailing comment\n"
	   "deb-src http://127.0.0.1:8080/debian stable main\n"
	   "\n"
	   "deb [ signed-by=/usr/share/keyrings/a.gpg arch=amd64,arm64 trusted=yes ] file:///srv/repo fixture main\n"
	   "deb [arch=amd64] https://127.0.0.1/flat ./\n"
	   "   # indented comment\n");
	wr("sources.list.d/b.sources",
	   "# deb822 with two URIs, two suites\n"
	   "Types: deb deb-src\n"
	   "URIs: http://127.0.0.1:1/a http://127.0.0.1:2/b\n"
	   "Suites: bookworm bookworm-updates\n"
	   "# a comment inside the stanza\n"
	   "Components: main\n"
	   " non-free-firmware\n"
	   "Signed-By: /usr/share/keyrings/b.gpg\n"
	   "\n"
	   "Types: deb\n"
	   "URIs: http://127.0.0.1:3/disabled\n"
	   "Suites: bookworm\n"
	   "Components: main\n"
	   "Enabled: no\n"
	   "\n"
	   "\n"
	   "Types: deb-src\n"
	   "URIs: http://127.0.0.1:4/src-only\n"
	   "Suites: bookworm\n"
	   "Components: main\n"
	   "\n"
	   "types: deb\n"
	   "uris: http://127.0.0.1:5/lower\n"
	   "suites: sid\n"
	   "components: main\n"
	   "trusted: yes\n"
	   "X-Repolib-Name: ignored field\n");
	wr("sources.list.d/a.list", "deb http://127.0.0.1:9/first-in-dir stable main\n");
	wr("sources.list.d/c.list.disabled", "this is not parsed\n");
	wr("sources.list.d/c.list~", "this is not parsed either\n");
	wr("sources.list.d/c.sources.bak", "nor this\n");

	r = sources_load_host(&repos, &n, &e);
	TAP_OK(r == 0, "sources load%s%s", r ? ": " : "", r ? e.msg : "");
	TAP_OK(n == 7, "seven deb entries (got %zu)", n);
	if (r == 0 && n == 7) {
		TAP_STREQ(repos[0].url, "http://127.0.0.1:8080/debian",
			  "one-line: url without trailing slash, comment stripped");
		TAP_OK(sv_is(&repos[0].suites, "stable") &&
			       sv_is(&repos[0].components, "main contrib"),
		       "one-line: suite and components");
		TAP_OK(!repos[0].keyring && !repos[0].trusted,
		       "one-line: no signed-by = apt's trusted keyrings");
		TAP_STREQ(repos[1].url, "file:///srv/repo", "deb-src skipped; options before the URI");
		TAP_STREQ(repos[1].keyring, "/usr/share/keyrings/a.gpg", "one-line: signed-by option");
		TAP_OK(repos[1].trusted, "one-line: trusted=yes");
		TAP_OK(sv_is(&repos[2].suites, "./") && repos[2].components.n == 0,
		       "one-line: flat repository without components");
		TAP_STREQ(repos[3].url, "http://127.0.0.1:9/first-in-dir",
			  "sources.list first, then sources.list.d sorted");
		TAP_STREQ(repos[4].url, "http://127.0.0.1:1/a", "deb822: first URI");
		TAP_STREQ(repos[5].url, "http://127.0.0.1:2/b", "deb822: second URI");
		TAP_OK(sv_is(&repos[5].suites, "bookworm bookworm-updates") &&
			       sv_is(&repos[5].components, "main non-free-firmware"),
		       "deb822: several suites, continuation lines, comments skipped");
		TAP_STREQ(repos[5].keyring, "/usr/share/keyrings/b.gpg", "deb822: Signed-By path");
		TAP_STREQ(repos[6].url, "http://127.0.0.1:5/lower",
			  "deb822: Enabled: no and deb-src-only stanzas skipped");
		TAP_OK(repos[6].trusted && !repos[6].keyring,
		       "deb822: field names are case-insensitive; Trusted: yes");
	}
	repos_free(repos, n);
	repos = NULL;
	n = 0;

	/* An inline armored key: written to the cache and dearmored. */
	{
		char *gh = path_join(dir, "gnupg"), *cmd;
		strbuf asc = STRBUF_INIT, body = STRBUF_INIT, bin = STRBUF_INIT, got = STRBUF_INIT;
		char *ascp = path_join(dir, "k.asc"), *binp = path_join(dir, "k.bin");
		int ok;

		mkdir_p(gh, 0700, &e);
		cmd = xasprintf("gpg --batch --quiet --homedir %s --passphrase '' "
				"--quick-gen-key 'pare test <t@example.invalid>' ed25519 sign never "
				"&& gpg --batch --homedir %s --export --armor > %s "
				"&& gpg --batch --homedir %s --export > %s; "
				"gpgconf --homedir %s --kill gpg-agent 2>/dev/null",
				gh, gh, ascp, gh, binp, gh);
		ok = system(cmd) == 0 && read_file(ascp, &asc, 0, &e) == 0 &&
		     read_file(binp, &bin, 0, &e) == 0 && bin.len > 0;
		if (!ok) {
			printf("ok - inline key # SKIP gpg cannot make a key here\n");
		} else {
			/* deb822 inline: each line indented, empty lines as " ." */
			char *line = asc.buf, *nl;
			sb_adds(&body, "Types: deb\nURIs: file:///srv/inline\nSuites: s\n"
				       "Components: main\nSigned-By:\n");
			for (; *line; line = nl) {
				nl = strchrnul(line, '\n');
				if (nl == line)
					sb_adds(&body, " .\n");
				else
					sb_addf(&body, " %.*s\n", (int)(nl - line), line);
				if (*nl)
					nl++;
			}
			rm("sources.list");
			rm("sources.list.d/a.list");
			rm("sources.list.d/b.sources");
			wr("sources.list.d/inline.sources", sb_str(&body));
			r = sources_load_host(&repos, &n, &e);
			TAP_OK(r == 0 && n == 1, "inline Signed-By key loads%s%s",
			       r ? ": " : "", r ? e.msg : "");
			if (r == 0 && n == 1) {
				TAP_OK(repos[0].keyring && str_starts(repos[0].keyring, dir) &&
					       strstr(repos[0].keyring, "/cache/keys/") &&
					       str_ends(repos[0].keyring, ".gpg"),
				       "inline key lands in the cache's keys/ directory");
				TAP_OK(read_file(repos[0].keyring, &got, 0, &e) == 0 &&
					       got.len == bin.len && !memcmp(got.buf, bin.buf, bin.len),
				       "the cached keyring is the dearmored key");
			}
			repos_free(repos, n);
			repos = NULL;
			n = 0;
			rm("sources.list.d/inline.sources");
		}
		sb_release(&asc), sb_release(&body), sb_release(&bin), sb_release(&got);
		free(cmd), free(gh), free(ascp), free(binp);
	}

	/* Errors name file:line. */
	rm("sources.list");
	rm("sources.list.d/a.list");
	rm("sources.list.d/b.sources");
	wr("sources.list", "deb http://127.0.0.1/x stable main\ndeb http://127.0.0.1/x\n");
	fails("sources.list:2: expected 'deb", "one-line: missing suite names file:line");
	wr("sources.list", "\nrpm http://127.0.0.1/x stable main\n");
	fails("sources.list:2: unknown type 'rpm'", "one-line: unknown type");
	wr("sources.list", "deb [signed-by=/k.gpg http://127.0.0.1/x stable main\n");
	fails("sources.list:1: missing ']'", "one-line: unclosed options");
	wr("sources.list", "deb http://127.0.0.1/x stable\n");
	fails("sources.list:1: missing components", "one-line: missing components");
	wr("sources.list", "deb [signed-by=0123456789ABCDEF0123456789ABCDEF01234567] http://127.0.0.1/x s main\n");
	fails("sources.list:1: signed-by: '0123456789ABCDEF0123456789ABCDEF01234567' is not an absolute keyring path",
	      "fingerprints in signed-by are refused");
	rm("sources.list");
	wr("sources.list.d/x.sources", "Types: deb\nURIs: http://127.0.0.1/x\n\nTypes: deb\nURIs: http://127.0.0.1/y\nComponents: main\n");
	fails("x.sources:1: entry without Suites", "deb822: missing Suites names the stanza");
	wr("sources.list.d/x.sources", "Types: deb\nURIs: http://127.0.0.1/x\nSuites: s\nComponents: main\nSuites: t\n");
	fails("x.sources:5: duplicate field 'Suites'", "deb822: duplicate field");
	wr("sources.list.d/x.sources", " continuation\n");
	fails("x.sources:1: continuation line outside a stanza", "deb822: stray continuation");
	wr("sources.list.d/x.sources", "Types: deb\nURIs: http://127.0.0.1/x\nSuites: s\nComponents: main\nEnabled: maybe\n");
	fails("x.sources:5: Enabled: expected yes or no", "deb822: bad Enabled");
	wr("sources.list.d/x.sources", "Types: deb\nURIs: http://127.0.0.1/x\nSuites: s\nComponents: main\nSigned-By: /a.gpg /b.gpg\n");
	fails("x.sources:5: signed-by: expected one keyring file", "deb822: several keyrings refused");
	wr("sources.list.d/x.sources", "Types: deb-src\nURIs: http://127.0.0.1/x\nSuites: s\nComponents: main\n");
	fails("no deb entries", "only deb-src: no repositories is an error");

	rm_rf(dir, &e);
	TAP_DONE();
}
