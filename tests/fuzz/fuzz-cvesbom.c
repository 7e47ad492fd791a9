/*
 * fuzz-cvesbom.c - the SBOM reader of CVE subjects (cve/subject.c) on any
 * bytes: it never crashes or leaks, a refusal is one line naming the file,
 * and what it accepts is a subject whose every package has a name, a
 * version, a source and a purl.
 */
#include "../../cve/cve.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cve_subject s;
	perr e = { 0 };

	if (cve_subject_from_sbom_buf("fuzz.json", (const char *)data, size, &s, &e) < 0) {
		if (strncmp(e.msg, "fuzz.json: ", 11) || strchr(e.msg, '\n'))
			abort();
		return 0;
	}
	for (size_t i = 0; i < s.npkgs; i++)
		if (!s.pkgs[i].name || !s.pkgs[i].version || !s.pkgs[i].source ||
		    !s.pkgs[i].source_version || strncmp(s.pkgs[i].purl, "pkg:deb/debian/", 15))
			abort();
	cve_subject_release(&s);
	return 0;
}
