/*
 * fuzz-copyright.c - /usr/share/doc/PKG/copyright as a package ships it:
 * the DEP-5 (copyright-format 1.0) parser, licence expressions, the
 * LicenseRef registry and the free-text licence detection (sbom/license.c).
 * builder/deb.c keeps the text up to its first NUL byte; here a NUL splits
 * the input into the copyright files of two packages that share one
 * registry (as an image's packages do), so clashing LicenseRef names are
 * reached too.  lic_analyse cannot fail: whatever the bytes, an analysis
 * whose LicenseRefs are all registered; never a crash, leak or hang.
 */
#include "../../sbom/sbom_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct lic_refs *reg, const struct lic_info *li)
{
	char *s;

	for (size_t i = 0; i < li->refs.n; i++) {
		if (lic_refs_find(reg, li->refs.v[i]) < 0)
			abort(); /* a LicenseRef used but not declared */
		if (li->expr && !strstr(li->expr, li->refs.v[i]))
			abort(); /* declared for the package but not in its expression */
	}
	if (li->kind == LIC_FREE && !li->expr)
		abort(); /* free text always keeps the whole text as a LicenseRef */
	/* what the documents print of it: valid UTF-8 from any bytes */
	s = sbom_utf8_sanitize(li->expr ? li->expr : "");
	free(s);
	s = sbom_utf8_sanitize(li->copyright ? li->copyright : "");
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t n1 = nul ? (size_t)(nul - (const char *)data) : size;
	char *t1 = xstrndup((const char *)data, n1);
	char *t2 = nul ? xstrndup(nul + 1, size - n1 - 1) : NULL;
	struct lic_refs reg = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	struct lic_info a, b;

	lic_analyse("pkga", t1, "Text in /usr/share/doc/pkga/copyright", &reg, &a);
	lic_analyse("pkgb", t2, NULL, &reg, &b);
	check(&reg, &a);
	check(&reg, &b);
	if (reg.ids.n != reg.names.n || reg.ids.n != reg.texts.n || reg.ids.n != reg.where.n)
		abort();
	for (size_t i = 0; i < reg.ids.n; i++) {
		if (!lic_ref_text(&reg, i, true) || !lic_ref_text(&reg, i, false))
			abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(reg.ids.v[i], reg.ids.v[k]))
				abort(); /* one id, two texts */
	}
	lic_info_release(&a);
	lic_info_release(&b);
	lic_refs_release(&reg);
	free(t1);
	free(t2);
	return 0;
}
