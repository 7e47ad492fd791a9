/*
 * fuzz-packages.c - a Packages index, as bytes from a (compromised or
 * broken) mirror would reach it after the Release check: the deb822
 * scanner, then libsolv's repo_add_debpackages on the same bytes.
 * Either a clean error or a repo; never a crash, leak or hang.
 */
#include "../../resolver/resolver.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	perr e = { 0, "" };
	size_t n = 0;

	if (packages_check("fuzz/Packages", (const char *)data, size, &n, &e) < 0 &&
	    !e.msg[0])
		abort(); /* every failure must explain itself */
	return 0;
}
