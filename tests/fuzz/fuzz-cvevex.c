/*
 * fuzz-cvevex.c - the OpenVEX / CycloneDX VEX reader (cve/vexin.c) on any
 * bytes: it never crashes or leaks, a refusal is one line naming the file
 * and keeps nothing, and what it accepts applies to a report without harm.
 */
#include "../../cve/cve.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cve_vex v = { 0 };
	perr e = { 0 };

	if (cve_vex_load_buf("fuzz.json", (const char *)data, size, &v, &e) < 0) {
		if (strncmp(e.msg, "fuzz.json: ", 11) || strchr(e.msg, '\n') || v.n)
			abort();
	} else {
		for (size_t i = 0; i < v.n; i++)
			if (!v.v[i].id || !v.v[i].status || !v.v[i].nproducts ||
			    (!strcmp(v.v[i].status, "not_affected") && !v.v[i].justification))
				abort();
	}
	cve_vex_release(&v);
	return 0;
}
