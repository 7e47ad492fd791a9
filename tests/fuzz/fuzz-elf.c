/*
 * fuzz-elf.c - a file's contents from a package, as builder/deb.c hands every
 * regular file of a .deb to the ELF reader (elfso.c): DT_NEEDED, DT_SONAME,
 * DT_RUNPATH / DT_RPATH for the link check and ld.so.cache, found through
 * the program headers as ld.so finds them.  Arbitrary bytes: truncated
 * headers, offsets, addresses and sizes past the end or overflowing, string
 * tables without a NUL, huge counts.  A name returned has no control
 * character (deb.c joins DT_NEEDED lists with newlines).  Either a result or an error with a
 * message; never a crash, leak, hang or out-of-bounds read.  The result is
 * then used the way the builder uses it (ld.so.cache entry for a soname).
 */
#include "../../builder/gen_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string the reader returns came out of the input: not longer, and
 * without control characters. */
static void check_str(const char *s, size_t size)
{
	if (s && strlen(s) >= size)
		abort();
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees a read past the end */
	unsigned char *buf = xmalloc(size ? size : 1);
	struct elf_dyn d;
	perr e = { 0, "" };
	char *so = NULL;

	memcpy(buf, data, size);
	if (elf_dynamic(buf, size, &d, &e) < 0) {
		if (!e.msg[0])
			abort(); /* every failure must explain itself */
		/* a failure leaves nothing behind to free */
		if (d.soname || d.runpath || d.rpath || d.needed.n)
			abort();
	} else {
		if (d.bad_name)
			abort(); /* only set on failure */
		check_str(d.soname, size);
		check_str(d.runpath, size);
		check_str(d.rpath, size);
		for (size_t i = 0; i < d.needed.n; i++)
			check_str(d.needed.v[i], size);
		if (d.soname && !d.is_exec) {
			struct ldcache_entry ent = { d.soname, "/usr/lib/x/lib.so" };
			strbuf out = STRBUF_INIT;

			if (ldcache_build("amd64", &ent, 1, &out, &e) < 0)
				abort();
			sb_release(&out);
		}
		elf_dyn_release(&d);
	}
	/* the soname reader (generate.c) agrees with elf_dynamic */
	e.msg[0] = '\0';
	if (elf_soname(buf, size, &so, &e) < 0 && !e.msg[0])
		abort();
	free(so);
	free(buf);
	return 0;
}
