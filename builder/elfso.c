/* elfso.c - read DT_SONAME from an ELF shared object in memory.
 *
 * ldconfig keys its cache by soname, not by file name; reading the soname
 * from the .dynamic section is what lets us do the same without running
 * anything.  Both classes and byte orders are handled because images are
 * built for architectures other than the host's.  Everything is bounds
 * checked: package contents are untrusted.
 */
#include "gen_int.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	const unsigned char *p;
	size_t n;
	bool be, is64;
};

static bool get(const struct rd *r, uint64_t off, unsigned len, uint64_t *v)
{
	if (off > r->n || len > r->n - off)
		return false;
	*v = 0;
	for (unsigned i = 0; i < len; i++) {
		unsigned idx = r->be ? i : len - 1 - i;
		*v = (*v << 8) | r->p[off + idx];
	}
	return true;
}

/* [off, off + len) lies inside the data; no wrap-around (offsets and sizes
 * are 64-bit values from the file: their sum may overflow). */
static bool inside(const struct rd *r, uint64_t off, uint64_t len)
{
	return off <= r->n && len <= r->n - off;
}

/* A string of the .dynamic section's string table, bounds checked.
 * *budget: string bytes still allowed for this object.  DT_NEEDED entries
 * may all point at one long string; without a budget a file of n bytes
 * would make n/16 copies of an n-byte string.  The budget is the file's
 * size: a real object holds its names, and its .dynamic entries, itself. */
static int dyn_str(const struct rd *r, uint64_t stroff, uint64_t strsize, uint64_t val,
		   uint64_t *budget, char **out, perr *e)
{
	uint64_t s, end;

	if (!inside(r, stroff, strsize))
		return perr_set(e, "ELF dynamic string table outside the file");
	if (val >= strsize)
		return perr_set(e, "bad ELF dynamic string offset");
	s = end = stroff + val;
	while (end < stroff + strsize && r->p[end])
		end++;
	if (end == stroff + strsize)
		return perr_set(e, "unterminated ELF dynamic string");
	if (end - s + 1 > *budget)
		return perr_set(e, "ELF .dynamic names more string bytes than the file has");
	*budget -= end - s + 1;
	*out = xstrndup((const char *)r->p + s, end - s);
	return 0;
}

void elf_dyn_release(struct elf_dyn *d)
{
	free(d->soname);
	free(d->runpath);
	free(d->rpath);
	sv_clear(&d->needed);
	memset(d, 0, sizeof(*d));
}

/* Executables (ET_EXEC) and shared objects / PIEs (ET_DYN): the .dynamic
 * entries the dynamic linker acts on.  Section headers, like the soname
 * reader always did: Debian's stripped objects keep them. */
int elf_dynamic(const void *data, size_t n, struct elf_dyn *d, perr *e)
{
	struct rd r = { data, n, false, false };
	uint64_t type, shoff, shentsize, shnum, budget = n;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	if (n < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG))
		return 0;
	r.is64 = r.p[EI_CLASS] == ELFCLASS64;
	r.be = r.p[EI_DATA] == ELFDATA2MSB;
	if (!get(&r, 16, 2, &type))
		return perr_set(e, "truncated ELF header");
	if (type != ET_DYN && type != ET_EXEC)
		return 0;
	d->is_exec = type == ET_EXEC;
	if (r.is64) {
		if (!get(&r, 0x28, 8, &shoff) || !get(&r, 0x3a, 2, &shentsize) ||
		    !get(&r, 0x3c, 2, &shnum))
			return perr_set(e, "truncated ELF header");
	} else {
		if (!get(&r, 0x20, 4, &shoff) || !get(&r, 0x2e, 2, &shentsize) ||
		    !get(&r, 0x30, 2, &shnum))
			return perr_set(e, "truncated ELF header");
	}
	/* every section header inside the file and big enough for the fields
	 * read from it, so no offset below wraps or reads a neighbour */
	if (shnum && shentsize < (r.is64 ? 0x40u : 0x28u)) {
		perr_set(e, "bad ELF section header size %" PRIu64, shentsize);
		goto out;
	}
	if (!inside(&r, shoff, shnum * shentsize)) {
		perr_set(e, "truncated ELF section table");
		goto out;
	}
	for (uint64_t i = 0; i < shnum; i++) {
		uint64_t sh = shoff + i * shentsize, stype, off, size, link;
		uint64_t strsh, stroff, strsize, entsize = r.is64 ? 16 : 8;

		if (!get(&r, sh + 4, 4, &stype)) {
			perr_set(e, "truncated ELF section table");
			goto out;
		}
		if (stype != SHT_DYNAMIC)
			continue;
		if (r.is64 ? !get(&r, sh + 0x18, 8, &off) || !get(&r, sh + 0x20, 8, &size) ||
				     !get(&r, sh + 0x28, 4, &link)
			   : !get(&r, sh + 0x10, 4, &off) || !get(&r, sh + 0x14, 4, &size) ||
				     !get(&r, sh + 0x18, 4, &link)) {
			perr_set(e, "truncated ELF section header");
			goto out;
		}
		if (link >= shnum) {
			perr_set(e, "bad ELF .dynamic link");
			goto out;
		}
		strsh = shoff + link * shentsize;
		if (r.is64 ? !get(&r, strsh + 0x18, 8, &stroff) || !get(&r, strsh + 0x20, 8, &strsize)
			   : !get(&r, strsh + 0x10, 4, &stroff) || !get(&r, strsh + 0x14, 4, &strsize)) {
			perr_set(e, "truncated ELF section header");
			goto out;
		}
		/* an .dynamic whose end wraps past 2^64 would be read as empty:
		 * DT_NEEDED entries silently lost to the link check */
		if (!inside(&r, off, size)) {
			perr_set(e, "ELF .dynamic outside the file");
			goto out;
		}
		d->dynamic = true;
		for (uint64_t k = off; k + entsize <= off + size; k += entsize) {
			uint64_t tag, val;
			char *s = NULL;

			if (!get(&r, k, entsize / 2, &tag) || !get(&r, k + entsize / 2, entsize / 2, &val)) {
				perr_set(e, "truncated ELF .dynamic");
				goto out;
			}
			if (tag == DT_NULL)
				break;
			if (tag != DT_SONAME && tag != DT_NEEDED && tag != DT_RUNPATH && tag != DT_RPATH)
				continue;
			if (dyn_str(&r, stroff, strsize, val, &budget, &s, e) < 0)
				goto out;
			if (tag == DT_NEEDED) {
				sv_push(&d->needed, s);
				free(s);
				continue;
			}
			char **slot = tag == DT_SONAME ? &d->soname : tag == DT_RUNPATH ? &d->runpath
											 : &d->rpath;
			free(*slot); /* the last one wins, as in ld.so */
			*slot = s;
		}
		break;
	}
	ret = 0;
out:
	if (ret < 0)
		elf_dyn_release(d);
	return ret;
}

/* 0 with *soname set (caller frees), 0 with *soname NULL when the file is
 * not an ELF shared object with a soname, -1 on malformed ELF. */
int elf_soname(const void *data, size_t n, char **soname, perr *e)
{
	struct elf_dyn d;

	*soname = NULL;
	if (elf_dynamic(data, n, &d, e) < 0)
		return -1;
	if (!d.is_exec) {
		*soname = d.soname;
		d.soname = NULL;
	}
	elf_dyn_release(&d);
	return 0;
}
