/* unit-license.c - copyright files as big as a package may ship them
 * (builder/deb.c reads up to 16 MiB): the DEP-5 analysis stays linear and
 * never recurses per term, and LicenseRef ids never share a text they do
 * not have.  Found by reading sbom/license.c for tests/fuzz/fuzz-copyright.c;
 * each case crashed (stack overflow) or ran for minutes before. */
#include "../../sbom/sbom_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds to analyse text as package p's copyright file; the result in li. */
static double analyse(const char *text, struct lic_refs *reg, struct lic_info *li)
{
	double t = now();

	lic_analyse("p", text, NULL, reg, li);
	return now() - t;
}

/* Under a second each when linear (also with ASan); the quadratic versions
 * took minutes.  The bound is loose for a loaded machine. */
#define SLOW 20.0

int main(void)
{
	struct lic_refs reg = { 0 };
	struct lic_info li;
	strbuf sb = STRBUF_INIT;
	double t;

	/* a watchdog, so a regression fails instead of hanging the suite */
	alarm(600);

	/* 400000 terms in one License: line: the expression tree was freed and
	 * rendered recursively, one stack frame per term (segfault) */
	sb_adds(&sb, "Format: x\n\nFiles: *\nCopyright: x\nLicense: MIT");
	for (int i = 0; i < 400000; i++)
		sb_adds(&sb, " and MIT");
	sb_adds(&sb, "\n");
	t = analyse(sb.buf, &reg, &li);
	TAP_OK(li.expr && strlen(li.expr) == 3 + 400000 * 8 && !strncmp(li.expr, "MIT AND MIT AND ", 16),
	       "400000 terms in one expression: rendered (%.2f s)", t);
	lic_info_release(&li);
	lic_refs_release(&reg);

	/* 200000 distinct Copyright: lines: each was searched for in all before */
	sb_reset(&sb);
	sb_adds(&sb, "Format: x\n\nFiles: *\nLicense: MIT\nCopyright: 0\n");
	for (int i = 1; i < 200000; i++)
		sb_addf(&sb, " %d\n", i);
	sb_adds(&sb, " 7\n"); /* a repeated line is still dropped */
	t = analyse(sb.buf, &reg, &li);
	TAP_OK(li.copyright && !strncmp(li.copyright, "0\n1\n2\n", 6) &&
	       str_ends(li.copyright, "\n199999"), "200000 copyright lines, in order, each once");
	TAP_OK(t < SLOW, "200000 copyright lines in %.2f s", t);
	lic_info_release(&li);
	lic_refs_release(&reg);

	/* 50000 Files: paragraphs, each its own unknown licence: the registry
	 * was a list searched per term, the expressions insertion-sorted */
	sb_reset(&sb);
	sb_adds(&sb, "Format: x\n\n");
	for (int i = 0; i < 50000; i++)
		sb_addf(&sb, "Files: f%d\nLicense: l%d\n\nLicense: l%d\n text of l%d\n\n", i, i, i, i);
	t = analyse(sb.buf, &reg, &li);
	TAP_OK(reg.ids.n == 50000 && li.refs.n == 50000 && lic_refs_find(&reg, "LicenseRef-l49999") >= 0 &&
	       !strcmp(reg.texts.v[lic_refs_find(&reg, "LicenseRef-l123")], "text of l123"),
	       "50000 licences, each with its own text");
	TAP_OK(li.expr && str_starts(li.expr, "LicenseRef-l0 AND LicenseRef-l1 AND LicenseRef-l10 AND "),
	       "50000 licences, sorted");
	TAP_OK(t < SLOW, "50000 licences in %.2f s", t);
	lic_info_release(&li);
	lic_refs_release(&reg);

	/* one licence with a 16 MiB text named 100000 times: the text was
	 * compared with the registered one for every term (a minute) */
	sb_reset(&sb);
	sb_adds(&sb, "Format: x\n\nFiles: *\nLicense: big");
	for (int i = 0; i < 100000; i++)
		sb_adds(&sb, " or big");
	sb_adds(&sb, "\n\nLicense: big\n ");
	sb_grow(&sb, 16 << 20);
	memset(sb.buf + sb.len, 'a', 16 << 20);
	sb.len += 16 << 20;
	sb.buf[sb.len] = '\0';
	sb_adds(&sb, "\n");
	t = analyse(sb.buf, &reg, &li);
	TAP_OK(reg.ids.n == 1 && li.refs.n == 1 && li.expr && str_starts(li.expr, "LicenseRef-big OR LicenseRef-big"),
	       "a licence named 100000 times is registered once");
	TAP_OK(t < SLOW, "a licence with a 16 MiB text named 100000 times in %.2f s", t);
	lic_info_release(&li);
	lic_refs_release(&reg);

	/* "a b" and "a-b" are one id; with a third text in the package the
	 * package-qualified id was handed out again for it, with the text of
	 * the second: one id, two texts, one of them lost */
	{
		struct lic_info l2;
		const char *first = "Format: x\n\nFiles: *\nLicense: a b\n text one\n";
		const char *second = "Format: x\n\nFiles: x\nLicense: a-b\n text two\n\n"
				     "Files: y\nLicense: a b\n text three\n";
		long i1, i2, i3;
		char *id3;

		lic_analyse("p", first, NULL, &reg, &li);
		lic_analyse("q", second, NULL, &reg, &l2);
		i1 = lic_refs_find(&reg, "LicenseRef-a-b");
		i2 = lic_refs_find(&reg, "LicenseRef-q-a-b");
		TAP_OK(reg.ids.n == 3 && i1 >= 0 && i2 >= 0 && !strcmp(reg.texts.v[i1], "text one") &&
		       !strcmp(reg.texts.v[i2], "text two"), "a clash is qualified with the package");
		i3 = reg.ids.n == 3 ? 3 - i1 - i2 : -1;
		id3 = i3 >= 0 ? reg.ids.v[i3] : "";
		TAP_OK(i3 >= 0 && !strcmp(reg.texts.v[i3], "text three") && str_starts(id3, "LicenseRef-q-a-b-") &&
		       l2.refs.n == 2 && sv_contains(&l2.refs, id3) && strstr(l2.expr, id3),
		       "a second clash in the package gets its own id (%s)", id3);
		lic_info_release(&li);
		lic_info_release(&l2);
		lic_refs_release(&reg);
	}
	sb_release(&sb);
	TAP_DONE();
}
