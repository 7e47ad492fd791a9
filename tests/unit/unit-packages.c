/* unit-packages.c - a Packages index read a block at a time: the scanner
 * carries lines and stanzas across block boundaries, so every split of an
 * index (down to one byte per block) must give the same packages, the same
 * .solv and the same file:line errors as the index in one piece; and
 * release_index_add, the real path from verified compressed bytes (xz made here
 * with libarchive) to libsolv: long lines, a size that is an exact multiple
 * of the decompressor's block, a malformed stanza deep in a large index,
 * the decompressed size limit, the size the Release lists for the
 * uncompressed index, and truncated or corrupt xz. */
#define _GNU_SOURCE
#include "../../resolver/resolver_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <solv/repo_write.h>

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* rc, message, package count and the .solv bytes of one parse */
struct result {
	int rc;
	char msg[4096];
	int n;
	strbuf solv;
};

static void result_free(struct result *r)
{
	sb_release(&r->solv);
}

static void solv_bytes(Repo *repo, strbuf *out)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&mem, &len);
	repo_write(repo, fp);
	fclose(fp);
	sb_add(out, mem, len);
	free(mem);
}

static void parse(const char *buf, size_t n, size_t block, struct result *r)
{
	Pool *pool = pool_create();
	Repo *repo;
	perr e = { 0, "" };

	pool_setdisttype(pool, DISTTYPE_DEB);
	repo = repo_create(pool, "P");
	memset(r, 0, sizeof(*r));
	r->rc = packages_add_blocks(repo, "P", buf, n, block, &e);
	snprintf(r->msg, sizeof(r->msg), "%s", e.msg);
	r->n = repo->nsolvables;
	if (r->rc == 0)
		solv_bytes(repo, &r->solv);
	pool_free(pool);
}

/* Every block size in sizes gives what the whole buffer gives. */
static void same_in_blocks(const char *what, const char *buf, size_t n)
{
	static const size_t sizes[] = { 1, 2, 3, 5, 7, 13, 64, 100, 4095, 4096, 65536 };
	struct result whole, part;
	int bad = 0;

	parse(buf, n, 0, &whole);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		parse(buf, n, sizes[i], &part);
		if (part.rc != whole.rc || strcmp(part.msg, whole.msg) || part.n != whole.n ||
		    part.solv.len != whole.solv.len ||
		    (whole.solv.len && memcmp(part.solv.buf, whole.solv.buf, whole.solv.len))) {
			if (!bad++)
				printf("#   block %zu: rc %d '%s' n %d; whole: rc %d '%s' n %d\n",
				       sizes[i], part.rc, part.msg, part.n, whole.rc, whole.msg,
				       whole.n);
		}
		result_free(&part);
	}
	TAP_OK(!bad, "%s: the same in blocks of 1 to 65536 bytes (%s)", what,
	       whole.rc ? whole.msg : "ok");
	result_free(&whole);
}

static void stanza(strbuf *sb, const char *name, const char *extra)
{
	sb_addf(sb, "Package: %s\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: M <m@x>\n"
		    "Source: %s-src (1.0)\nFilename: pool/%s.deb\nSize: 10\nSHA256: %s\n%s"
		    "Description: %s\n long\n .\n text\n\n",
		name, name, name, SHA, extra ? extra : "", name);
}

/* xz of buf, through libarchive's raw format */
static void xz(const char *buf, size_t n, strbuf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ent = archive_entry_new();
	size_t cap = n + (1 << 16), used = 0;
	char *mem = xmalloc(cap);

	archive_write_add_filter_xz(a);
	archive_write_set_format_raw(a);
	archive_write_open_memory(a, mem, cap, &used);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_write_header(a, ent);
	archive_write_data(a, buf, n);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(ent);
	sb_reset(out);
	sb_add(out, mem, used);
	free(mem);
}

/* release_index_add of the xz of buf; rc, message, count and .solv in r */
static void load_xz(const char *buf, size_t n, const struct release_file *plain, size_t max,
		    struct result *r, bool *released)
{
	Pool *pool = pool_create();
	Repo *repo;
	strbuf raw = STRBUF_INIT;
	perr e = { 0, "" };

	xz(buf, n, &raw);
	pool_setdisttype(pool, DISTTYPE_DEB);
	repo = repo_create(pool, "P");
	memset(r, 0, sizeof(*r));
	r->rc = release_index_add(repo, "P.xz", &raw, plain, max, &e);
	snprintf(r->msg, sizeof(r->msg), "%s", e.msg);
	r->n = repo->nsolvables;
	if (r->rc == 0)
		solv_bytes(repo, &r->solv);
	if (released)
		*released = raw.buf == NULL;
	sb_release(&raw);
	pool_free(pool);
}

static void load_raw(const strbuf *raw_in, struct result *r)
{
	Pool *pool = pool_create();
	Repo *repo;
	strbuf raw = STRBUF_INIT;
	perr e = { 0, "" };

	sb_add(&raw, raw_in->buf, raw_in->len);
	pool_setdisttype(pool, DISTTYPE_DEB);
	repo = repo_create(pool, "P");
	memset(r, 0, sizeof(*r));
	r->rc = release_index_add(repo, "P.xz", &raw, NULL, (size_t)1 << 30, &e);
	snprintf(r->msg, sizeof(r->msg), "%s", e.msg);
	r->n = repo->nsolvables;
	sb_release(&raw);
	pool_free(pool);
}

static bool same(const struct result *a, const struct result *b)
{
	return a->rc == b->rc && a->n == b->n && a->solv.len == b->solv.len &&
	       (!a->solv.len || !memcmp(a->solv.buf, b->solv.buf, a->solv.len));
}

/* release_parse on text (suite "stable"): 0/-1, e filled. */
static int parse_rel(const char *text, struct release *rel, perr *e)
{
	memset(rel, 0, sizeof(*rel));
	rel->suite = xstrdup("stable");
	rel->where = xstrdup("repository R stable");
	return release_parse(rel, text, e);
}

int main(void)
{
	strbuf sb = STRBUF_INIT, big = STRBUF_INIT, raw = STRBUF_INIT;
	struct result r, whole;
	bool released = false;

	/* ---- the scanner across block boundaries ---- */
	stanza(&sb, "aa", NULL);
	stanza(&sb, "bb", "Depends: aa\n");
	same_in_blocks("a good index", sb.buf, sb.len);
	same_in_blocks("no newline at the end", sb.buf, sb.len - 2);
	same_in_blocks("only the last newline", sb.buf, sb.len - 1);
	sb_reset(&sb);
	sb_adds(&sb, "\n\n\n");
	stanza(&sb, "aa", NULL);
	sb_adds(&sb, "\n\n");
	same_in_blocks("blank lines around a stanza", sb.buf, sb.len);
	same_in_blocks("blank lines only", "\n\n\n\n\n", 5);
	same_in_blocks("an empty index", "", 0);
	static const struct { const char *what, *text; } bad[] = {
		{ "malformed line", "Package: aa\nVersion 1\n" },
		{ "no Package", "Version: 1\nArchitecture: all\n" },
		{ "duplicate field", "Package: aa\nPackage: bb\n" },
		{ "unsafe Filename", "Package: aa\nVersion: 1\nArchitecture: all\nFilename: /etc/x\nSize: 1\nSHA256: 00\n" },
		{ "no SHA256 at the end", "Package: aa\nVersion: 1\nArchitecture: all\nFilename: a/b\nSize: 1\n" },
		{ "continuation outside a stanza", "\n\n Package: aa\n" },
		{ "white space line", "Package: aa\n \n" },
		{ "continuation of a one-line field", "Package: aa\nVersion: 1\n 2\n" },
		{ "a bad last line without newline", "Package: aa\nVersion: 1\nArch" },
		{ "control character", "Package: aa\nVersion: 1\x01\n" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		sb_reset(&sb);
		stanza(&sb, "good", NULL);
		sb_adds(&sb, bad[i].text);
		same_in_blocks(bad[i].what, sb.buf, sb.len);
	}
	sb_reset(&sb);
	stanza(&sb, "aa", NULL);
	sb_add(&sb, "Package: a\0a\n", 13);
	same_in_blocks("a NUL byte", sb.buf, sb.len);
	/* control characters at every offset of a long line, after tabs and
	 * UTF-8 (the scanner checks eight bytes at a time) */
	static const unsigned char ctl[] = { 0x00, 0x01, 0x1f, 0x7f };
	int wrong = 0;
	for (size_t c = 0; c < ARRAY_SIZE(ctl); c++)
		for (size_t off = 0; off < 40; off++) {
			struct result rr;
			char want[64];
			sb_reset(&sb);
			sb_adds(&sb, "Package: aa\nX-Field: \t\xc3\xa9");
			for (size_t i = 0; i < 40; i++)
				sb_addc(&sb, i == off ? (char)ctl[c] : 'x');
			sb_adds(&sb, "tail\n");
			parse(sb.buf, sb.len, 0, &rr);
			snprintf(want, sizeof(want), "P:2: control character 0x%02x", ctl[c]);
			if (rr.rc == 0 || strcmp(rr.msg, want))
				wrong++;
			result_free(&rr);
		}
	TAP_OK(!wrong, "a control character anywhere in a long line is found (%d wrong)", wrong);
	sb_reset(&sb);
	sb_adds(&sb, "Package: aa\nX-Field: \t\xc3\xa9 \xe2\x82\xac ~~~~~~~~ \x7e\x80\xff\tend\n");
	parse(sb.buf, sb.len, 0, &whole);
	TAP_OK(whole.rc < 0 && strstr(whole.msg, "has no Version"), "tabs, DEL's neighbours and UTF-8 are no control characters: %s", whole.msg);
	result_free(&whole);

	/* a field far longer than any block, one-line and continued */
	sb_reset(&sb);
	stanza(&sb, "aa", NULL);
	sb_adds(&sb, "Package: long\nVersion: 1\nArchitecture: all\nFilename: a/b\nSize: 1\nSHA256: " SHA "\nX-Long: ");
	for (int i = 0; i < 200000; i++)
		sb_addc(&sb, (char)('a' + i % 26));
	sb_adds(&sb, "\nDescription: x\n ");
	for (int i = 0; i < 150000; i++)
		sb_addc(&sb, (char)('a' + i % 26));
	sb_adds(&sb, "\n\n");
	stanza(&sb, "zz", NULL);
	parse(sb.buf, sb.len, 0, &whole);
	TAP_OK(whole.rc == 0 && whole.n == 3, "lines of 200000 and 150000 bytes parse: %s", whole.msg);
	for (size_t bs = 4096; bs <= 65536 * 4; bs *= 4) {
		parse(sb.buf, sb.len, bs, &r);
		TAP_OK(same(&r, &whole), "the long lines in blocks of %zu bytes", bs);
		result_free(&r);
	}
	load_xz(sb.buf, sb.len, NULL, (size_t)1 << 30, &r, &released);
	TAP_OK(same(&r, &whole), "the long lines through xz: %s", r.msg);
	TAP_OK(released, "the compressed bytes are released once decompressed");
	result_free(&r);
	result_free(&whole);

	/* ---- release_index_add: a large index through xz ---- */
	for (int i = 0; i < 3000; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pkg%05d", i);
		stanza(&big, name, i % 7 ? "Depends: pkg00000\n" : NULL);
	}
	/* pad to an exact multiple of 64 KiB, libarchive's xz output block */
	size_t want = (big.len / 65536 + 2) * 65536;
	strbuf pad = STRBUF_INIT;
	sb_adds(&pad, "Package: padding\nVersion: 1\nArchitecture: all\nFilename: a/p\nSize: 1\nSHA256: " SHA "\nX-Pad: ");
	size_t fill = want - big.len - pad.len - 2;
	sb_add(&big, pad.buf, pad.len);
	for (size_t i = 0; i < fill; i++)
		sb_addc(&big, 'p');
	sb_adds(&big, "\n\n");
	sb_release(&pad);
	TAP_OK(big.len == want && big.len % 65536 == 0, "test index is %zu bytes, %zu blocks of 64 KiB",
	       big.len, big.len / 65536);
	parse(big.buf, big.len, 0, &whole);
	TAP_OK(whole.rc == 0 && whole.n == 3001, "the large index in one piece: %d packages %s", whole.n,
	       whole.msg);
	load_xz(big.buf, big.len, NULL, (size_t)1 << 30, &r, NULL);
	TAP_OK(same(&r, &whole), "the same through xz (size a multiple of the block): %s", r.msg);
	result_free(&r);
	parse(big.buf, big.len, 65536, &r);
	TAP_OK(same(&r, &whole), "the same in blocks of exactly 64 KiB");
	result_free(&r);

	/* the Release's listing of the uncompressed index: its size */
	struct release_file plain = { "main/binary-amd64/Packages", big.len, "" };
	load_xz(big.buf, big.len, &plain, (size_t)1 << 30, &r, NULL);
	TAP_OK(same(&r, &whole), "matches the listed uncompressed size: %s", r.msg);
	result_free(&r);
	plain.size = big.len - 1;
	load_xz(big.buf, big.len, &plain, (size_t)1 << 30, &r, NULL);
	TAP_OK(r.rc < 0 && strstr(r.msg, "P.xz: decompresses to more than the ") &&
		       strstr(r.msg, " bytes the Release lists for main/binary-amd64/Packages"),
	       "more than the listed size is refused: %s", r.msg);
	result_free(&r);
	plain.size = big.len + 1;
	load_xz(big.buf, big.len, &plain, (size_t)1 << 30, &r, NULL);
	TAP_OK(r.rc < 0 && strstr(r.msg, "but the Release lists"), "less than the listed size is refused: %s",
	       r.msg);
	result_free(&r);

	/* the decompressed size limit (1 GiB in pare; a small one here, the
	 * same code path) */
	load_xz(big.buf, big.len, NULL, big.len, &r, NULL);
	TAP_OK(same(&r, &whole), "exactly the size limit is fine");
	result_free(&r);
	load_xz(big.buf, big.len, NULL, big.len - 1, &r, &released);
	char lim[128];
	snprintf(lim, sizeof(lim), "P.xz: decompresses to more than %zu bytes", big.len - 1);
	TAP_STREQ(r.msg, lim, "one byte over the size limit is refused");
	TAP_OK(released, "the compressed bytes are released after an error too");
	result_free(&r);

	/* a malformed stanza deep in the large index, at its line */
	size_t at = big.len / 2, line = 1;
	while (big.buf[at - 1] != '\n' || big.buf[at] != 'P')
		at++;
	for (size_t i = 0; i < at; i++)
		line += big.buf[i] == '\n';
	memcpy(big.buf + at, "Pack#ge", 7);
	char msg[128];
	snprintf(msg, sizeof(msg), "P.xz:%zu: malformed field name", line);
	load_xz(big.buf, big.len, NULL, (size_t)1 << 30, &r, NULL);
	TAP_STREQ(r.msg, msg, "a malformed stanza deep in an xz index, at its line");
	TAP_OK(r.rc < 0, "  and refused");
	result_free(&r);
	memcpy(big.buf + at, "Package", 7);

	/* truncated or corrupt xz: a clean error */
	xz(big.buf, big.len, &raw);
	raw.len /= 2;
	load_raw(&raw, &r);
	TAP_OK(r.rc < 0 && str_starts(r.msg, "P.xz: cannot decompress: "), "truncated xz: %s", r.msg);
	result_free(&r);
	xz(big.buf, big.len, &raw);
	raw.buf[raw.len / 2] ^= 0x55;
	load_raw(&raw, &r);
	TAP_OK(r.rc < 0 && str_starts(r.msg, "P.xz: cannot decompress: "), "corrupt xz: %s", r.msg);
	result_free(&r);

	result_free(&whole);
	sb_release(&sb);
	sb_release(&big);
	sb_release(&raw);
	{
		/* fuzz-release: a SHA256 size of "-1" went through strtoull as
		 * 2^64-1 (and "+5" as 5); sizes are digits only */
		static const char *const sizes[] = { "-1", "+5", " ", "1x", "99999999999999999999999" };
		struct release rel;
		perr e2 = { 0, "" };

		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			char *t = xasprintf("Suite: stable\nDate: Sat, 10 May 2025 08:53:22 UTC\nSHA256:\n"
					    " %064d %s main/binary-amd64/Packages\n", 0, sizes[i]);
			TAP_OK(parse_rel(t, &rel, &e2) < 0 && strstr(e2.msg, "malformed SHA256 line"),
			       "Release: SHA256 size '%s' refused", sizes[i]);
			release_release(&rel);
			free(t);
		}
		TAP_OK(parse_rel("Suite: stable\nDate: Sat, 10 May 2025 08:53:22 UTC\nSHA256:\n"
				 " 0000000000000000000000000000000000000000000000000000000000000000 42"
				 " main/binary-amd64/Packages\n", &rel, &e2) == 0 &&
			       rel.nfiles == 1 && rel.files[0].size == 42 &&
			       release_find_index(&rel, "main", "amd64") == &rel.files[0],
		       "Release: a well-formed SHA256 line is read");
		release_release(&rel);
	}
	TAP_DONE();
}
