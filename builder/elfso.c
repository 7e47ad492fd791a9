/* elfso.c - what the dynamic linker reads from an ELF executable or shared
 * object in memory: DT_NEEDED, DT_SONAME, DT_RUNPATH, DT_RPATH.
 *
 * The link check (linkcheck.c) and ld.so.cache (ldcache.c) must see the
 * dependencies ld.so will act on, so this reads them the way ld.so does and
 * never looks at section headers (sstrip'd objects have none, and a crafted
 * object can point them at a fake .dynamic):
 *
 *   program headers -> PT_DYNAMIC (the last one, as in ld.so) -> its p_vaddr
 *   -> the PT_LOAD segment whose memory holds that address (the last such,
 *   as later mappings replace earlier ones) -> a file offset; the entries
 *   run to DT_NULL (ld.so ignores PT_DYNAMIC's size, so we do too: the end
 *   of the segment's file data, with its zero-filled memory after it, ends
 *   the list);
 *   DT_STRTAB is a virtual address too: the whole table [DT_STRTAB,
 *   DT_STRTAB + DT_STRSZ) must lie in the file data of one PT_LOAD segment.
 *
 * No program headers or no PT_DYNAMIC: a static executable (or not a
 * loadable object at all); nothing is needed, not an error.  Program headers
 * outside the file, a PT_DYNAMIC or DT_STRTAB address in no segment's file
 * data, a segment outside the file, a missing DT_STRTAB / DT_STRSZ, a bad
 * string offset: malformed, -1 with a one-line message (deb.c records it
 * with the file, ld.so.cache generation fails naming the file when it is a
 * library).  A name with a control character (deb.c joins DT_NEEDED lists
 * with newlines: a newline would make one name two) is refused: -1 with
 * d->bad_name set, and deb.c fails the build naming the package and file.
 *
 * Both classes and byte orders are handled because images are built for
 * architectures other than the host's.  Everything is bounds checked:
 * package contents are untrusted, and 64-bit offsets and sizes from the
 * file must not wrap.
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

/* The PT_LOAD segments: what the address space holds. */
struct seg {
	uint64_t vaddr, memsz, off, filesz;
};

/* The file offset of virtual address va: the last PT_LOAD whose memory
 * holds va; it must be in that segment's file data, which must be in the
 * file.  *avail: file bytes of the segment from va on; *zeros: whether
 * zero-filled memory (p_memsz > p_filesz) follows them.  va in the
 * zero-filled memory: an error, or with bss set, *bss = true (*off and
 * *avail 0). */
static int va_to_off(const struct rd *r, const struct seg *s, size_t ns, uint64_t va,
		     const char *what, uint64_t *off, uint64_t *avail, bool *zeros, bool *bss,
		     perr *e)
{
	for (size_t i = ns; i-- > 0;) {
		if (va < s[i].vaddr || va - s[i].vaddr >= s[i].memsz)
			continue;
		if (va - s[i].vaddr >= s[i].filesz) {
			if (!bss)
				return perr_set(e, "ELF %s address 0x%" PRIx64
						" in a segment's zero-filled memory", what, va);
			*bss = true;
			*off = *avail = 0;
			*zeros = true;
			return 0;
		}
		if (!inside(r, s[i].off, s[i].filesz))
			return perr_set(e, "ELF segment holding %s outside the file", what);
		*off = s[i].off + (va - s[i].vaddr);
		*avail = s[i].filesz - (va - s[i].vaddr);
		*zeros = s[i].memsz > s[i].filesz;
		return 0;
	}
	return perr_set(e, "ELF %s address 0x%" PRIx64 " in no PT_LOAD segment", what, va);
}

static const char *tag_name(uint64_t tag)
{
	return tag == DT_NEEDED ? "DT_NEEDED" : tag == DT_SONAME ? "DT_SONAME"
	       : tag == DT_RUNPATH ? "DT_RUNPATH" : "DT_RPATH";
}

/* A string of the dynamic string table (file offset stroff, DT_STRSZ
 * strsize, both inside the file), bounds checked.  *budget: string bytes
 * still allowed for this object.  DT_NEEDED entries may all point at one
 * long string; without a budget a file of n bytes would make n/16 copies of
 * an n-byte string.  The budget is the file's size: a real object holds its
 * names, and its dynamic entries, itself. */
static int dyn_str(const struct rd *r, uint64_t stroff, uint64_t strsize, uint64_t tag,
		   uint64_t val, uint64_t *budget, char **out, bool *bad_name, perr *e)
{
	uint64_t s, end;

	if (val >= strsize)
		return perr_set(e, "bad ELF dynamic string offset");
	s = end = stroff + val;
	while (end < stroff + strsize && r->p[end])
		end++;
	if (end == stroff + strsize)
		return perr_set(e, "unterminated ELF dynamic string");
	if (end - s + 1 > *budget)
		return perr_set(e, "ELF dynamic section names more string bytes than the file has");
	*budget -= end - s + 1;
	for (uint64_t k = s; k < end; k++) {
		if (r->p[k] < 0x20 || r->p[k] == 0x7f) {
			*bad_name = true;
			return perr_set(e, "%s name with control character 0x%02x at byte %" PRIu64,
					tag_name(tag), r->p[k], k - s);
		}
	}
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

/* Executables (ET_EXEC) and shared objects / PIEs (ET_DYN): the dynamic
 * entries the dynamic linker acts on, found as it finds them (above). */
int elf_dynamic(const void *data, size_t n, struct elf_dyn *d, perr *e)
{
	struct rd r = { data, n, false, false };
	uint64_t type, phoff, phentsize, phnum, budget = n;
	uint64_t dynva = 0, dynoff, dynavail, entsize;
	uint64_t strtab = 0, strsz = 0, stroff = 0, stravail;
	bool have_dyn = false, have_strtab = false, have_strsz = false, str_ok = false;
	bool zeros, bss = false, bad_name = false;
	struct seg *segs = NULL;
	size_t nsegs = 0;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	if (n < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG))
		return 0;
	r.is64 = r.p[EI_CLASS] == ELFCLASS64;
	r.be = r.p[EI_DATA] == ELFDATA2MSB;
	entsize = r.is64 ? 16 : 8;
	if (!get(&r, 16, 2, &type))
		return perr_set(e, "truncated ELF header");
	if (type != ET_DYN && type != ET_EXEC)
		return 0;
	d->is_exec = type == ET_EXEC;
	if (r.is64 ? !get(&r, 0x20, 8, &phoff) || !get(&r, 0x36, 2, &phentsize) ||
			     !get(&r, 0x38, 2, &phnum)
		   : !get(&r, 0x1c, 4, &phoff) || !get(&r, 0x2a, 2, &phentsize) ||
			     !get(&r, 0x2c, 2, &phnum))
		return perr_set(e, "truncated ELF header");
	if (!phnum)
		return 0; /* nothing to load: nothing needed */
	/* every program header inside the file and big enough for the fields
	 * read from it, so no offset below wraps or reads a neighbour */
	if (phentsize < (r.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return perr_set(e, "bad ELF program header size %" PRIu64, phentsize);
	if (!inside(&r, phoff, phnum * phentsize))
		return perr_set(e, "ELF program headers outside the file");
	segs = xcalloc(phnum, sizeof(*segs));
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t ph = phoff + i * phentsize, ptype, off, va, filesz, memsz;

		/* inside the file: checked above */
		get(&r, ph, 4, &ptype);
		if (ptype != PT_LOAD && ptype != PT_DYNAMIC)
			continue;
		if (r.is64) {
			get(&r, ph + 0x08, 8, &off);
			get(&r, ph + 0x10, 8, &va);
			get(&r, ph + 0x20, 8, &filesz);
			get(&r, ph + 0x28, 8, &memsz);
		} else {
			get(&r, ph + 0x04, 4, &off);
			get(&r, ph + 0x08, 4, &va);
			get(&r, ph + 0x10, 4, &filesz);
			get(&r, ph + 0x14, 4, &memsz);
		}
		if (ptype == PT_DYNAMIC) {
			dynva = va; /* the last one wins, as in ld.so */
			have_dyn = true;
			continue;
		}
		/* memory past 2^64 or file data larger than the memory it fills:
		 * no loader maps that */
		if (va + memsz < va || filesz > memsz) {
			perr_set(e, "bad ELF PT_LOAD segment %" PRIu64, i);
			goto out;
		}
		segs[nsegs++] = (struct seg){ va, memsz, off, filesz };
	}
	if (!have_dyn) {
		ret = 0; /* static executable */
		goto out;
	}
	d->dynamic = true;
	/* in zero-filled memory, ld.so's first entry is DT_NULL: nothing
	 * needed (separate debug files: their segments have no file data) */
	if (va_to_off(&r, segs, nsegs, dynva, "PT_DYNAMIC", &dynoff, &dynavail, &zeros, &bss,
		      e) < 0)
		goto out;
	/* first pass: where the strings are (DT_STRTAB may follow DT_NEEDED);
	 * dynavail becomes the entries' length up to DT_NULL */
	for (uint64_t k = 0;; k += entsize) {
		uint64_t tag, val;

		if (dynavail - k < entsize) {
			/* ld.so reads on: zero-filled memory is DT_NULL, anything
			 * else is not in this file */
			if (!zeros || dynavail - k) {
				perr_set(e, "ELF dynamic section without DT_NULL");
				goto out;
			}
			dynavail = k;
			break;
		}
		get(&r, dynoff + k, entsize / 2, &tag);
		get(&r, dynoff + k + entsize / 2, entsize / 2, &val);
		if (tag == DT_NULL) {
			dynavail = k;
			break;
		}
		if (tag == DT_STRTAB)
			strtab = val, have_strtab = true;
		else if (tag == DT_STRSZ)
			strsz = val, have_strsz = true;
	}
	for (uint64_t k = 0; k < dynavail; k += entsize) {
		uint64_t tag, val;
		char *s = NULL;

		get(&r, dynoff + k, entsize / 2, &tag);
		get(&r, dynoff + k + entsize / 2, entsize / 2, &val);
		if (tag != DT_SONAME && tag != DT_NEEDED && tag != DT_RUNPATH && tag != DT_RPATH)
			continue;
		if (!str_ok) {
			if (!have_strtab || !have_strsz) {
				perr_set(e, "ELF %s without DT_STRTAB and DT_STRSZ", tag_name(tag));
				goto out;
			}
			if (va_to_off(&r, segs, nsegs, strtab, "DT_STRTAB", &stroff, &stravail,
				      &zeros, NULL, e) < 0)
				goto out;
			if (strsz > stravail) {
				perr_set(e, "ELF dynamic string table (DT_STRSZ %" PRIu64
					 ") beyond its segment's file data", strsz);
				goto out;
			}
			str_ok = true;
		}
		if (dyn_str(&r, stroff, strsz, tag, val, &budget, &s, &bad_name, e) < 0)
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
	ret = 0;
out:
	free(segs);
	if (ret < 0) {
		elf_dyn_release(d);
		d->bad_name = bad_name;
	}
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
