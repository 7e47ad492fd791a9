/* unit-common.c - strbuf, strvec, hashing, atomic writes, dates, fetch,
 * a Debian package's identity. */
#include "../../common/common.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* read_file_fn callback: fails on the second block */
static int count_calls(void *arg, const void *buf, size_t n, perr *e)
{
	size_t *calls = arg;

	(void)buf, (void)n;
	if (++*calls == 2)
		return perr_set(e, "stop at block %zu", *calls);
	return 0;
}

/* a struct that embeds the identity as lock_pkg, deb_pkg, sbom_pkg and
 * cve_pkg do */
struct holder {
	int before;
	DEB_ID_MEMBERS;
	char *after;
};

static void test_deb_id(void)
{
	struct holder a = { .before = 1, .after = NULL }, b = { 0 };
	struct deb_id lockid = { 0 };

	a.name = xstrdup("libfoo1");
	a.version = xstrdup("1.2-3+b1");
	a.arch = xstrdup("amd64");
	a.source = xstrdup("");
	TAP_OK(a.id.name == a.name && a.id.arch == a.arch && a.before == 1 && !a.after,
	       "DEB_ID_MEMBERS: the fields and id are the same storage");
	TAP_STREQ(deb_id_source(&a.id), "libfoo1", "deb_id_source: \"\" is no source, the name is");
	TAP_STREQ(deb_id_source_version(&a.id), "1.2-3+b1",
		  "deb_id_source_version: NULL is none, the version is");

	lockid.name = "libfoo1", lockid.version = "9", lockid.arch = "arm64";
	lockid.source = "foo", lockid.source_version = "1.2-3";
	deb_id_copy(&a.id, &lockid);
	TAP_OK(!strcmp(a.name, "libfoo1") && !strcmp(a.version, "1.2-3+b1") &&
	       !strcmp(a.arch, "amd64") && !strcmp(a.source, "") &&
	       !strcmp(a.source_version, "1.2-3") && a.source_version != lockid.source_version,
	       "deb_id_copy fills only the NULL fields, with copies");
	deb_id_default_source(&a.id);
	TAP_OK(!strcmp(a.source, "libfoo1") && !strcmp(a.source_version, "1.2-3"),
	       "deb_id_default_source replaces \"\" and keeps a source version");

	deb_id_copy(&b.id, &a.id);
	deb_id_copy(&b.id, NULL);
	TAP_OK(b.name != a.name && !strcmp(b.name, "libfoo1") && !strcmp(b.arch, "amd64") &&
	       !strcmp(b.source, "libfoo1") && !strcmp(b.source_version, "1.2-3"),
	       "deb_id_copy into a zeroed identity copies every field");
	deb_id_release(&b.id);
	TAP_OK(!b.name && !b.version && !b.arch && !b.source && !b.source_version,
	       "deb_id_release leaves the identity zeroed");
	deb_id_default_source(&b.id);
	TAP_OK(!b.source && !b.source_version, "no name, no version: the defaults stay NULL");

	free(a.source_version);
	a.source_version = NULL;
	deb_id_default_source(&a.id);
	TAP_STREQ(a.source_version, "1.2-3+b1", "no source version: the binary version");
	deb_id_release(&a.id);
}

int main(void)
{
	char dir[] = "/tmp/pare-unit-XXXXXX", hex[SHA256_HEX_LEN + 1];
	strbuf sb = STRBUF_INIT;
	strvec sv = STRVEC_INIT;
	int64_t t;
	perr e;

	test_deb_id();
	TAP_STREQ(sb_str(&sb), "", "empty strbuf reads as \"\"");
	sb_addf(&sb, "%s-%d", "a", 42);
	sb_addc(&sb, '!');
	TAP_STREQ(sb.buf, "a-42!", "sb_addf and sb_addc append");
	sb_release(&sb);
	/* grown for data that never came (an empty member read by size):
	 * still the empty string, not uninitialised bytes (fuzz-deb) */
	{
		char *junk = xmalloc(64);

		memset(junk, 'x', 64);
		free(junk);
	}
	sb_grow(&sb, 10);
	TAP_OK(sb.buf && sb.buf[0] == '\0' && !strcmp(sb_str(&sb), ""),
	       "a strbuf grown from empty reads as \"\" before anything is added");
	sb_release(&sb);

	sv_split(&sv, "b,,a, c", ", ");
	sv_push(&sv, "a");
	sv_uniq(&sv);
	TAP_OK(sv.n == 3 && !strcmp(sv.v[0], "a") && !strcmp(sv.v[2], "c"),
	       "sv_split skips empty fields; sv_uniq sorts and de-duplicates");
	sv_clear(&sv);

	sha256_hex("abc", 3, hex);
	TAP_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "sha256 of 'abc' matches FIPS 180-2");
	TAP_OK(is_sha256_hex(hex) && !is_sha256_hex("abc"), "is_sha256_hex");

	TAP_OK(mkdtemp(dir) != NULL, "temporary directory");
	char *f = path_join(dir, "sub/x.txt");
	char *sub = path_dirname(f);
	TAP_OK(mkdir_p(sub, 0755, &e) == 0, "mkdir_p creates parents");
	TAP_OK(write_file_atomic(f, "hello", 5, 0640, &e) == 0, "write_file_atomic");
	struct stat st;
	TAP_OK(stat(f, &st) == 0 && (st.st_mode & 0777) == 0640 && st.st_size == 5,
	       "atomic write has the mode and size asked for");
	uint64_t size = 0;
	TAP_OK(sha256_file(f, hex, &size, &e) == 0 && size == 5, "sha256_file");
	TAP_OK(read_file(f, &sb, 4, &e) < 0 && strstr(e.msg, "larger than"),
	       "read_file refuses more than max bytes");
	sb_release(&sb);

	char *url = xasprintf("file://%s", f);
	TAP_OK(fetch_to_buf(url, &sb, 0, NULL, &e) == 0 && !strcmp(sb_str(&sb), "hello"),
	       "fetch_to_buf reads file:// URLs");
	sb_release(&sb);
	char *dest = path_join(dir, "out/copy");
	struct fetch_job jobs[2] = {
		{ .url = url, .dest = dest, .size = 5,
		  .sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
		  .label = "good" },
		{ .url = url, .dest = f, .size = 5, .sha256 = hex, .label = "bad" },
	};
	jobs[1].sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	char *bad_dest = path_join(dir, "out/bad");
	jobs[1].dest = bad_dest;
	TAP_OK(fetch_many(jobs, 2, 2, &e) < 0 && strstr(e.msg, "bad: sha256 mismatch"),
	       "fetch_many reports a sha256 mismatch naming the label");
	TAP_OK(path_exists(dest) && !path_exists(bad_dest),
	       "verified file lands, mismatching file does not");

	TAP_OK(parse_rfc2822("Sat, 10 May 2025 08:53:22 UTC", &t) == 0 && t == 1746867202,
	       "parse_rfc2822 reads Release dates");
	TAP_OK(parse_rfc2822("Sat, 10 May 2025 10:53:22 +0200", &t) == 0 && t == 1746867202,
	       "parse_rfc2822 applies numeric offsets");
	TAP_OK(parse_rfc2822("yesterday", &t) < 0, "parse_rfc2822 rejects garbage");
	/* fuzz-release: strtol let a second sign or a blank into the offset */
	TAP_OK(parse_rfc2822("Sat, 10 May 2025 08:53:22 +-100", &t) < 0 &&
		       parse_rfc2822("Sat, 10 May 2025 08:53:22 + 100", &t) < 0 &&
		       parse_rfc2822("Sat, 10 May 2025 08:53:22 +0060", &t) < 0,
	       "parse_rfc2822 takes only +HHMM/-HHMM offsets");
	TAP_OK(parse_rfc2822("Sat, 10 May 2025 03:53:22 -0500", &t) == 0 && t == 1746867202,
	       "parse_rfc2822 applies negative offsets");

	/* credentials in URLs, anywhere in a message */
	struct { const char *in, *want; } red[] = {
		{ "http://u:pw@127.0.0.1:8080/a", "http://***@127.0.0.1:8080/a" },
		{ "cannot fetch 'https://tok@h/x/y': HTTP 404", "cannot fetch 'https://***@h/x/y': HTTP 404" },
		{ "a http://u:p@h b https://h/c@d git+ssh://git@h:r", "a http://***@h b https://h/c@d git+ssh://***@h:r" },
		{ "http://u:p%40x@h?q=a@b#f@g", "http://***@h?q=a@b#f@g" },
		{ "no url: a@b, ://x@y, 1://z@w", "no url: a@b, ://x@y, 1://z@w" },
		{ "http://h/ http://@h", "http://h/ http://***@h" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(red); i++) {
		char *r = url_redact(red[i].in);
		TAP_STREQ(r, red[i].want, "url_redact '%s'", red[i].in);
		free(r);
	}
	perr_set(&e, "repository %s stable: %s", "http://user:secret@h/p", "no InRelease");
	TAP_STREQ(e.msg, "repository http://***@h/p stable: no InRelease", "perr_set redacts");
	perr_prefix(&e, "x %s", "https://a:b@h");
	TAP_OK(!strstr(e.msg, "a:b"), "perr_prefix redacts");
	errno = ENOENT;
	perr_errno(&e, "open %s", "file://u:p@h/x");
	TAP_OK(!strstr(e.msg, "u:p"), "perr_errno redacts");

	/* base64: the one decoder (docker's auth, cosign and DSSE payloads) */
	sb_reset(&sb);
	base64_encode("ab:cdef", 7, &sb);
	TAP_STREQ(sb_str(&sb), "YWI6Y2RlZg==", "base64_encode pads");
	{
		strbuf dec = STRBUF_INIT;
		TAP_OK(base64_decode(sb_str(&sb), &dec, &e) == 0 && dec.len == 7 &&
			       !strcmp(dec.buf, "ab:cdef"),
		       "base64_decode drops the padding EVP_DecodeBlock counts as data");
		sb_reset(&dec);
		TAP_OK(base64_decode("YQ==", &dec, &e) == 0 && dec.len == 1 && dec.buf[0] == 'a',
		       "base64_decode: two '=' of padding");
		sb_reset(&dec);
		TAP_OK(base64_decode("YW#j", &dec, &e) < 0 && strstr(e.msg, "invalid base64"),
		       "base64_decode refuses characters outside the alphabet");
		TAP_OK(base64_decode("YWJ", &dec, &e) < 0 && strstr(e.msg, "length 3"),
		       "base64_decode refuses a length that is not a multiple of 4");
		sb_release(&dec);
	}
	sb_release(&sb);

	char ts[TIME_RFC3339_LEN];
	time_rfc3339(1746867202, ts);
	TAP_STREQ(ts, "2025-05-10T08:53:22Z", "time_rfc3339 is UTC with a Z");

	/* the one read loop: read_file and hash_file go through it */
	{
		char *g = path_join(dir, "big");
		strbuf big = STRBUF_INIT;
		size_t calls = 0;
		for (size_t i = 0; i < 200000; i++)
			sb_addc(&big, (char)('a' + i % 26));
		TAP_OK(write_file_atomic(g, big.buf, big.len, 0644, &e) == 0, "a 200000-byte file");
		sb_reset(&sb);
		TAP_OK(read_file(g, &sb, 0, &e) == 0 && sb.len == big.len &&
			       !memcmp(sb.buf, big.buf, big.len),
		       "read_file reads a file longer than one block whole");
		TAP_OK(hash_file(g, "sha256", hex, &size, &e) == 0 && size == big.len,
		       "hash_file counts every block");
		TAP_OK(read_file_fn(g, count_calls, &calls, &e) < 0 && calls == 2 &&
			       !strcmp(e.msg, "stop at block 2"),
		       "read_file_fn stops when the callback fails, with its error");
		TAP_OK(read_file_fn(f, count_calls, &calls, &e) == 0, "read_file_fn: a small file");
		free(g);
		sb_release(&big);
		sb_release(&sb);
	}
	TAP_OK(read_file("/nonexistent/pare", &sb, 0, &e) < 0 &&
		       strstr(e.msg, "cannot open '/nonexistent/pare'"),
	       "read_file names the file it cannot open");
	TAP_OK(hash_file("/nonexistent/pare", "sha256", hex, NULL, &e) < 0 &&
		       strstr(e.msg, "cannot open '/nonexistent/pare'"),
	       "hash_file names the file it cannot open");

	TAP_OK(rm_rf(dir, &e) == 0 && !path_exists(dir), "rm_rf removes the tree");
	free(f), free(sub), free(url), free(dest), free(bad_dest);
	TAP_DONE();
}
