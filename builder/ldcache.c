/* ldcache.c - write /etc/ld.so.cache natively, in glibc's "new" format.
 *
 * Why natively: running the host's ldconfig needs the image unpacked on
 * disk and the host's architecture; the format is a small sorted table.
 *
 * Format (glibc >= 2.32 writes only this one; see glibc elf/cache.c and
 * sysdeps/generic/dl-cache.h), all integers in the target's byte order:
 *
 *   header, 48 bytes:
 *     char     magic[20]        "glibc-ld.so.cache1.1" (no NUL)
 *     uint32   nlibs            number of entries
 *     uint32   len_strings      size of the string table
 *     uint8    flags            2 = little endian, 3 = big endian
 *     uint8    pad[3]
 *     uint32   extension_offset 0 = no extension directory
 *     uint32   unused[3]
 *   nlibs entries, 24 bytes each:
 *     int32    flags            FLAG_ELF_LIBC6 (3) | the arch's ABI flag
 *     uint32   key              file offset of the soname string
 *     uint32   value            file offset of the full path string
 *     uint32   osversion        0
 *     uint64   hwcap            0
 *   string table: NUL-terminated strings.
 *
 * The dynamic linker binary-searches the entries with _dl_cache_libcmp
 * (digit runs compare numerically) and expects them in DESCENDING order of
 * that comparison (ldconfig sorts with the arguments swapped).
 * The result can be read back with the host's `ldconfig -C FILE -p`.
 */
#include "gen_int.h"

#include <stdlib.h>
#include <string.h>

/* glibc's elf/dl-cache.c _dl_cache_libcmp, reproduced for the sort order */
static int libcmp(const char *p1, const char *p2)
{
	while (*p1 != '\0') {
		if (*p1 >= '0' && *p1 <= '9') {
			if (*p2 >= '0' && *p2 <= '9') {
				long v1 = *p1++ - '0', v2 = *p2++ - '0';
				while (*p1 >= '0' && *p1 <= '9')
					v1 = v1 * 10 + *p1++ - '0';
				while (*p2 >= '0' && *p2 <= '9')
					v2 = v2 * 10 + *p2++ - '0';
				if (v1 != v2)
					return v1 < v2 ? -1 : 1;
			} else {
				return 1;
			}
		} else if (*p2 >= '0' && *p2 <= '9') {
			return -1;
		} else if (*p1 != *p2) {
			return (unsigned char)*p1 - (unsigned char)*p2;
		} else {
			++p1;
			++p2;
		}
	}
	return (unsigned char)*p1 - (unsigned char)*p2;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct ldcache_entry *x = a, *y = b;
	int c = libcmp(y->soname, x->soname); /* descending */
	return c ? c : strcmp(x->path, y->path);
}

/* dl-cache.h flag values: FLAG_ELF_LIBC6 plus the ABI flag glibc's
 * _dl_cache_check_flags accepts on that architecture. */
static int arch_flags(const char *arch, bool *big_endian)
{
	static const struct { const char *arch; int flags; bool be; } t[] = {
		{ "amd64", 0x0303, false },   /* FLAG_X8664_LIB64 */
		{ "arm64", 0x0a03, false },   /* FLAG_AARCH64_LIB64 */
		{ "armhf", 0x0903, false },   /* FLAG_ARM_LIBHF */
		{ "i386", 0x0003, false },
		{ "ppc64el", 0x0503, false }, /* FLAG_POWERPC_LIB64 */
		{ "s390x", 0x0403, true },    /* FLAG_S390_LIB64 */
		{ "riscv64", 0x1003, false }, /* FLAG_RISCV_FLOAT_ABI_DOUBLE */
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcmp(t[i].arch, arch)) {
			*big_endian = t[i].be;
			return t[i].flags;
		}
	return -1;
}

static void put32(strbuf *sb, uint32_t v, bool be)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
	sb_add(sb, b, 4);
}

static void put64(strbuf *sb, uint64_t v, bool be)
{
	if (be) {
		put32(sb, (uint32_t)(v >> 32), be);
		put32(sb, (uint32_t)v, be);
	} else {
		put32(sb, (uint32_t)v, be);
		put32(sb, (uint32_t)(v >> 32), be);
	}
}

int ldcache_build(const char *arch, struct ldcache_entry *ents, size_t n,
		  strbuf *out, perr *e)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	const size_t hdr = 48, ent = 24;
	strbuf strings = STRBUF_INIT;
	bool be = false;
	int flags = arch_flags(arch, &be);
	uint32_t base;

	if (flags < 0)
		return perr_set(e, "ld.so.cache: unsupported architecture '%s'", arch);
	qsort(ents, n, sizeof(*ents), entry_cmp);
	base = (uint32_t)(hdr + n * ent);
	sb_adds(out, "");
	sb_add(out, magic, sizeof(magic) - 1);
	put32(out, (uint32_t)n, be);
	/* string table first, to know its length; offsets are from file start */
	{
		uint32_t *koff = xcalloc(n ? n : 1, sizeof(*koff) * 2);
		for (size_t i = 0; i < n; i++) {
			koff[2 * i] = base + (uint32_t)strings.len;
			sb_add(&strings, ents[i].soname, strlen(ents[i].soname) + 1);
			koff[2 * i + 1] = base + (uint32_t)strings.len;
			sb_add(&strings, ents[i].path, strlen(ents[i].path) + 1);
		}
		put32(out, (uint32_t)strings.len, be);
		sb_addc(out, be ? 3 : 2);
		sb_add(out, "\0\0\0", 3);
		put32(out, 0, be); /* no extension directory */
		for (int i = 0; i < 3; i++)
			put32(out, 0, be);
		for (size_t i = 0; i < n; i++) {
			put32(out, (uint32_t)flags, be);
			put32(out, koff[2 * i], be);
			put32(out, koff[2 * i + 1], be);
			put32(out, 0, be);
			put64(out, 0, be);
		}
		free(koff);
	}
	sb_add(out, strings.buf ? strings.buf : "", strings.len);
	sb_release(&strings);
	return 0;
}
