/* unit-deb822.c - the one Debian control-file parser (common/deb822.c):
 * values and continuation lines, field names in any case, each flag's
 * strictness, block boundaries anywhere, the keep list. */
#include "../../common/common.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* Every stanza as "LINE{name=value|name=value}", values with '\n' as '/'. */
static int dump(void *arg, struct deb822_stanza *s, perr *e)
{
	strbuf *sb = arg;

	(void)e;
	sb_addf(sb, "%zu{", s->line);
	for (size_t i = 0; i < s->n; i++) {
		sb_addf(sb, "%s%s=", i ? "|" : "", s->f[i].name.buf);
		for (const char *c = s->f[i].value.buf; *c; c++)
			sb_addc(sb, *c == '\n' ? '/' : *c);
	}
	sb_adds(sb, "}");
	return 0;
}

/* The text parsed whole, then in blocks of 1, 2, 3 … 17 bytes: one result
 * ("stanzas" or "ERR: message") or "blocks differ". */
static char *parse(const char *text, unsigned flags, const char *const *keep)
{
	strbuf whole = STRBUF_INIT;
	char *res;
	perr e;

	{
		struct deb822 d = { .name = "T", .flags = flags, .keep = keep, .stanza = dump,
				    .arg = &whole };
		if (deb822_parse(&d, text, strlen(text), &e) < 0)
			sb_reset(&whole), sb_addf(&whole, "ERR: %s", e.msg);
	}
	for (size_t bs = 1; bs < 18; bs++) {
		strbuf got = STRBUF_INIT;
		struct deb822 d = { .name = "T", .flags = flags, .keep = keep, .stanza = dump,
				    .arg = &got };
		int r = 0;
		for (size_t i = 0; i < strlen(text) && r == 0; i += bs) {
			size_t k = strlen(text) - i < bs ? strlen(text) - i : bs;
			r = deb822_feed(&d, text + i, k, &e);
		}
		if (r == 0)
			r = deb822_finish(&d, &e);
		deb822_release(&d);
		if (r < 0)
			sb_reset(&got), sb_addf(&got, "ERR: %s", e.msg);
		if (strcmp(sb_str(&got), sb_str(&whole))) {
			sb_release(&got);
			sb_release(&whole);
			return xasprintf("blocks of %zu differ", bs);
		}
		sb_release(&got);
	}
	res = xstrdup(sb_str(&whole));
	sb_release(&whole);
	return res;
}

static void is(const char *text, unsigned flags, const char *const *keep, const char *want,
	       const char *what)
{
	char *got = parse(text, flags, keep);

	TAP_STREQ(got, want, "%s", what);
	free(got);
}

int main(void)
{
	static const char *const keep[] = { "Package", "Version", NULL };
	struct deb822_stanza st;
	perr e;

	is("Package: a\nVersion:  1.0 \n\nPackage: b\n", 0, NULL, "1{Package=a|Version=1.0}4{Package=b}",
	   "stanzas end at blank lines; values without surrounding blanks; line numbers");
	is("\n\n Package : a\n", DEB822_SKIP_JUNK, NULL, "", "a leading continuation is skipped as junk");
	is("Description: short\n long one \n .\n more\n", 0, NULL,
	   "1{Description=short/long one/./more}", "continuation lines joined with newlines");
	is("Description: short\n long one \n .\n more\n", DEB822_DOT, NULL,
	   "1{Description=short/long one//more}", "DEB822_DOT: '.' is an empty line");
	is("A: 1\n   \t\nB: 2\n", 0, NULL, "1{A=1}3{B=2}", "a line of white space is a blank line");
	is("A: 1\n\nB: 2\n", DEB822_ONE, NULL, "1{A=1|B=2}", "DEB822_ONE: blank lines do not end the stanza");
	is("# c\nA: 1\n# c: d\n more\n", DEB822_COMMENTS, NULL, "2{A=1/more}",
	   "DEB822_COMMENTS: '#' lines skipped, the field goes on");
	is("# c\nA: 1\n", 0, NULL, "ERR: T:1: malformed line (expected 'Field: value')",
	   "without DEB822_COMMENTS a comment is a malformed line");
	is("A: 1\nstray\n more\n", DEB822_SKIP_JUNK, NULL, "1{A=1/more}", "DEB822_SKIP_JUNK skips a stray line");
	is("A: 1\nstray\n", 0, NULL, "ERR: T:2: malformed line (expected 'Field: value')", "a stray line is an error");
	is(" x\nA: 1\n", 0, NULL, "ERR: T:1: continuation line outside a stanza", "a continuation before any field");
	is("A: 1\nA: 2\n", 0, NULL, "1{A=1|A=2}", "fields given twice are both kept");
	is("A: 1\na: 2\n", DEB822_NO_DUPS, NULL, "ERR: T:2: duplicate field 'a'",
	   "DEB822_NO_DUPS: a field twice, in any case, is an error");
	is("Package: a\nX: 1\nX: 2\nversion: 1\n", DEB822_NO_DUPS, keep, "1{Package=a|version=1}",
	   "the keep list: other fields are not stored, nor checked for duplicates");
	is("Package: a\nX: 1\n 2\n", DEB822_STRICT, keep, "1{Package=a}", "DEB822_STRICT: fields not kept may continue");
	is("Package: a\n b\n", DEB822_STRICT, keep, "ERR: T:2: unexpected continuation of a one-line field",
	   "DEB822_STRICT: kept fields hold one line");
	is("Package: a\n \n", DEB822_STRICT, keep, "ERR: T:2: line of only white space",
	   "DEB822_STRICT: a line of only white space");
	is("Package: a\nVer sion: 1\n", DEB822_STRICT, keep, "ERR: T:2: malformed field name",
	   "DEB822_STRICT: a blank in a field name");
	is("Package: a\r\n", DEB822_STRICT, keep, "ERR: T:1: control character 0x0d",
	   "DEB822_STRICT: control characters");
	is("X: only\n", DEB822_STRICT, keep, "1{}", "a stanza of fields not kept is still a stanza");
	is("A: 1", 0, NULL, "1{A=1}", "no newline at the end");

	TAP_OK(deb822_parse_one("c", "Package: x\nVERSION: 1\n\nPackage: y\n", 0, &st, &e) == 0 &&
		       st.n == 3 && !strcmp(deb822_value(&st, "version"), "1") &&
		       !strcmp(deb822_value(&st, "PACKAGE"), "x") && !deb822_value(&st, "Arch") &&
		       deb822_get(&st, "Package")->line == 1,
	       "deb822_parse_one: one stanza, names in any case, the first of two");
	deb822_stanza_release(&st);
	TAP_DONE();
}
