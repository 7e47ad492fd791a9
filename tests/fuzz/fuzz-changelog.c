/*
 * fuzz-changelog.c - a package's Debian changelog (changelog.Debian.gz, after
 * gunzip) as pare update reads it for the CVE ids between two versions
 * (rebuild/changelog.c).  The first line of the input is the old version
 * (empty: none), the second the new one, the rest the changelog.  Never a
 * crash, leak or hang; every id returned is a CVE-YYYY-NNNN… id, sorted and
 * unique.
 */
#include "../../rebuild/rebuild.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *e = nl ? nl : end;
	char *s = xstrndup(*p, (size_t)(e - *p));

	*p = nl ? nl + 1 : end;
	return s;
}

static bool is_cve(const char *s)
{
	size_t d = 0;

	if (strncmp(s, "CVE-", 4))
		return false;
	for (s += 4; d < 4; d++, s++)
		if (!isdigit((unsigned char)*s))
			return false;
	if (*s++ != '-')
		return false;
	for (d = 0; isdigit((unsigned char)*s); d++, s++)
		;
	return d >= 4 && !*s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *old = line(&p, end), *new = line(&p, end);
	/* the text is not NUL-terminated: ASan sees a read past its end */
	size_t n = (size_t)(end - p);
	char *text = xmalloc(n ? n : 1);
	strvec v = STRVEC_INIT;

	memcpy(text, p, n);
	if (rebuild_changelog_cves_text(text, n, *old ? old : NULL, new, &v) < 0)
		abort(); /* it has no failure */
	for (size_t i = 0; i < v.n; i++)
		if (!is_cve(v.v[i]) || (i && strcmp(v.v[i - 1], v.v[i]) >= 0))
			abort();
	sv_clear(&v);
	free(text);
	free(old);
	free(new);
	return 0;
}
