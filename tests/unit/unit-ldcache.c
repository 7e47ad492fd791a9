/* unit-ldcache.c - the native ld.so.cache writer and the ELF soname reader,
 * checked against the host's own ldconfig (it must read our cache back). */
#include "../../common/common.h"
#include "../../builder/gen_int.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *host_soname(const char *path)
{
	strbuf sb = STRBUF_INIT;
	char *so = NULL;
	perr e;

	if (read_file(path, &sb, 0, &e) == 0 && elf_soname(sb.buf, sb.len, &so, &e) < 0)
		so = NULL;
	sb_release(&sb);
	return so;
}

/* A little-endian ELF64 shared object laid out as a linker would:
 * header, two program headers (PT_LOAD mapping the whole file at
 * BASE + file offset, PT_DYNAMIC), the string table, the dynamic entries
 * (DT_STRTAB, DT_STRSZ, then dyn: tag/value pairs, then DT_NULL), then a
 * decoy: a fake string table and .dynamic naming "libfake.so.9", and three
 * section headers (null, fake .dynstr, fake .dynamic) pointing at it.  ld.so
 * never reads section headers: the decoy must never be seen.  Offsets are
 * kept so tests can corrupt them. */
#define BASE 0x400000u
struct synth {
	strbuf b;
	size_t ph_off, str_off, dyn_off, sh_off;
};

static void put_le(unsigned char *p, uint64_t v, int len)
{
	for (int i = 0; i < len; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_dyn(strbuf *b, uint64_t tag, uint64_t val)
{
	unsigned char ent[16];

	put_le(ent, tag, 8);
	put_le(ent + 8, val, 8);
	sb_add(b, ent, sizeof(ent));
}

static void pad8(strbuf *b)
{
	while (b->len % 8)
		sb_addc(b, '\0');
}

static void synth_elf(struct synth *s, const char *str, size_t strsz, const uint64_t *dyn,
		      size_t ndyn)
{
	static const char fake[] = "\0libfake.so.9\0";
	unsigned char h[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 }, ph[56], sh[64];
	size_t fstr_off, fdyn_off, ndyn_all = ndyn + 3;

	sb_release(&s->b);
	put_le(h + 16, 3, 2); /* ET_DYN */
	put_le(h + 18, 62, 2); /* EM_X86_64 */
	s->ph_off = 64;
	put_le(h + 0x20, s->ph_off, 8);
	put_le(h + 0x34, 64, 2);
	put_le(h + 0x36, 56, 2);
	put_le(h + 0x38, 2, 2);
	put_le(h + 0x3a, 64, 2);
	put_le(h + 0x3c, 3, 2);
	sb_add(&s->b, h, sizeof(h));
	memset(ph, 0, sizeof(ph));
	sb_add(&s->b, ph, sizeof(ph)); /* PT_LOAD, filled in below */
	sb_add(&s->b, ph, sizeof(ph)); /* PT_DYNAMIC, likewise */
	s->str_off = s->b.len;
	sb_add(&s->b, str, strsz);
	pad8(&s->b);
	s->dyn_off = s->b.len;
	/* first: a DT_STRTAB or DT_STRSZ in dyn replaces them (the last wins) */
	put_dyn(&s->b, 5 /* DT_STRTAB */, BASE + s->str_off);
	put_dyn(&s->b, 10 /* DT_STRSZ */, strsz);
	for (size_t i = 0; i < ndyn; i++)
		put_dyn(&s->b, dyn[2 * i], dyn[2 * i + 1]);
	put_dyn(&s->b, 0, 0);
	/* the decoy */
	fstr_off = s->b.len;
	sb_add(&s->b, fake, sizeof(fake));
	pad8(&s->b);
	fdyn_off = s->b.len;
	put_dyn(&s->b, 1 /* DT_NEEDED */, 1);
	put_dyn(&s->b, 0, 0);
	s->sh_off = s->b.len;
	put_le((unsigned char *)s->b.buf + 0x28, s->sh_off, 8);
	memset(sh, 0, sizeof(sh));
	sb_add(&s->b, sh, sizeof(sh)); /* SHT_NULL */
	put_le(sh + 4, 3, 4);           /* SHT_STRTAB */
	put_le(sh + 0x18, fstr_off, 8);
	put_le(sh + 0x20, sizeof(fake), 8);
	sb_add(&s->b, sh, sizeof(sh));
	memset(sh, 0, sizeof(sh));
	put_le(sh + 4, 6, 4);           /* SHT_DYNAMIC */
	put_le(sh + 0x18, fdyn_off, 8);
	put_le(sh + 0x20, 32, 8);
	put_le(sh + 0x28, 1, 4);        /* sh_link: the fake .dynstr */
	sb_add(&s->b, sh, sizeof(sh));
	/* PT_LOAD: the whole file at BASE; PT_DYNAMIC: the real entries */
	unsigned char *p = (unsigned char *)s->b.buf + s->ph_off;
	put_le(p, 1, 4);
	put_le(p + 0x10, BASE, 8);
	put_le(p + 0x20, s->b.len, 8);
	put_le(p + 0x28, s->b.len, 8);
	p += 56;
	put_le(p, 2, 4);
	put_le(p + 0x08, s->dyn_off, 8);
	put_le(p + 0x10, BASE + s->dyn_off, 8);
	put_le(p + 0x20, ndyn_all * 16, 8);
	put_le(p + 0x28, ndyn_all * 16, 8);
}

/* a field of program header i (0 PT_LOAD, 1 PT_DYNAMIC) */
static void set_ph(struct synth *s, int i, size_t field, uint64_t v, int len)
{
	put_le((unsigned char *)s->b.buf + s->ph_off + 56 * i + field, v, len);
}

static int dyn_of(struct synth *s, struct elf_dyn *d, perr *e)
{
	e->msg[0] = '\0';
	return elf_dynamic(s->b.buf, s->b.len, d, e);
}

/* needs exactly one library, name */
static bool needs_only(const struct elf_dyn *d, const char *name)
{
	return d->needed.n == 1 && !strcmp(d->needed.v[0], name);
}

/* What ld.so reads, never the section headers; malformed objects found by
 * reading tests/fuzz/fuzz-elf.c's target: offsets and sizes are 64-bit,
 * their sums must not wrap. */
static void synth_tests(void)
{
	static const char str[] = "\0libc.so.6\0libfoo.so.1\0";
	uint64_t dyn[] = { 1 /* DT_NEEDED */, 1, 14 /* DT_SONAME */, 11 };
	struct synth s = { STRBUF_INIT, 0, 0, 0, 0 };
	struct elf_dyn d;
	perr e;

	synth_elf(&s, str, sizeof(str), dyn, 2);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && d.dynamic && d.soname &&
	       !strcmp(d.soname, "libfoo.so.1") && needs_only(&d, "libc.so.6"),
	       "synthetic ELF: soname and DT_NEEDED through PT_DYNAMIC, not the decoy .dynamic (%s)",
	       e.msg);
	elf_dyn_release(&d);

	/* sstrip'd: no section headers at all */
	put_le((unsigned char *)s.b.buf + 0x28, 0, 8);
	put_le((unsigned char *)s.b.buf + 0x3c, 0, 2);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && needs_only(&d, "libc.so.6"),
	       "section headers removed: DT_NEEDED still read (%s)", e.msg);
	elf_dyn_release(&d);

	/* section headers pointing at garbage outside the file: not read */
	put_le((unsigned char *)s.b.buf + 0x28, (uint64_t)-64, 8);
	put_le((unsigned char *)s.b.buf + 0x3c, 0xffff, 2);
	put_le((unsigned char *)s.b.buf + 0x3a, 0, 2);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && needs_only(&d, "libc.so.6"),
	       "section headers outside the file: DT_NEEDED still read (%s)", e.msg);
	elf_dyn_release(&d);

	/* PT_DYNAMIC's p_offset at the decoy: ld.so goes by p_vaddr */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	set_ph(&s, 1, 0x08, s.sh_off - 32, 8);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && needs_only(&d, "libc.so.6"),
	       "PT_DYNAMIC's file offset lying: its address is what counts (%s)", e.msg);
	elf_dyn_release(&d);

	/* a static executable: no PT_DYNAMIC (the decoy .dynamic is ignored) */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	put_le((unsigned char *)s.b.buf + 16, 2, 2); /* ET_EXEC */
	set_ph(&s, 1, 0, 4 /* PT_NOTE */, 4);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && !d.dynamic && d.is_exec && !d.needed.n && !d.soname,
	       "static executable: nothing needed, not an error (%s)", e.msg);
	elf_dyn_release(&d);
	/* no program headers at all: nothing to load */
	put_le((unsigned char *)s.b.buf + 0x38, 0, 2);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && !d.dynamic && !d.needed.n,
	       "no program headers: nothing needed (%s)", e.msg);

	/* PT_DYNAMIC in zero-filled memory (separate debug files): ld.so reads
	 * DT_NULL first, nothing needed */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	set_ph(&s, 0, 0x28, 0x100000, 8);
	set_ph(&s, 1, 0x10, BASE + 0x80000, 8);
	TAP_OK(dyn_of(&s, &d, &e) == 0 && d.dynamic && !d.needed.n,
	       "PT_DYNAMIC in zero-filled memory: empty (%s)", e.msg);
	elf_dyn_release(&d);

	/* PT_DYNAMIC at an address no PT_LOAD maps, and at one whose segment
	 * lies outside the file */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	set_ph(&s, 1, 0x10, BASE + 0x100000, 8);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "PT_DYNAMIC address") &&
	       strstr(e.msg, "in no PT_LOAD") && !d.needed.n,
	       "PT_DYNAMIC outside every segment is an error (%s)", e.msg);
	synth_elf(&s, str, sizeof(str), dyn, 2);
	set_ph(&s, 0, 0x08, 4096, 8);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "segment holding PT_DYNAMIC outside the file"),
	       "PT_DYNAMIC in a segment past the file's end is an error (%s)", e.msg);
	/* a segment's offset + size wrapping round to inside the file */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	set_ph(&s, 0, 0x08, (uint64_t)-8, 8);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "outside the file"),
	       "a segment whose file offset wraps is an error (%s)", e.msg);
	/* the program header table's offset wrapping */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	put_le((unsigned char *)s.b.buf + 0x20, (uint64_t)-56, 8);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "program headers outside the file"),
	       "program headers whose offset wraps are an error (%s)", e.msg);
	/* program headers of size 0: every one would read the first */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	put_le((unsigned char *)s.b.buf + 0x36, 0, 2);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "program header size"),
	       "program headers smaller than Elf64_Phdr are an error (%s)", e.msg);
	/* the entries running off the segment without DT_NULL */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	set_ph(&s, 0, 0x20, s.dyn_off + 40, 8);
	set_ph(&s, 0, 0x28, s.dyn_off + 40, 8);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "without DT_NULL"),
	       "dynamic entries running off their segment are an error (%s)", e.msg);

	/* DT_STRTAB at an address no PT_LOAD maps (just below 2^64: the sum
	 * with a string offset wrapped back into the file before) */
	{
		uint64_t dyn3[] = { 1, 1, 5 /* DT_STRTAB, the last one wins */, (uint64_t)-1 };

		synth_elf(&s, str, sizeof(str), dyn3, 2);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "DT_STRTAB address") &&
		       strstr(e.msg, "in no PT_LOAD"),
		       "a DT_STRTAB address in no PT_LOAD is an error (%s)", e.msg);
		/* DT_STRSZ past its segment's file data */
		dyn3[2] = 10 /* DT_STRSZ */, dyn3[3] = (uint64_t)1 << 63;
		synth_elf(&s, str, sizeof(str), dyn3, 2);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "beyond its segment"),
		       "a DT_STRSZ past its segment is an error (%s)", e.msg);
	}
	/* DT_NEEDED without DT_STRTAB: its tag made DT_DEBUG */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	put_le((unsigned char *)s.b.buf + s.dyn_off, 21, 8);
	TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "without DT_STRTAB"),
	       "DT_NEEDED without a string table is an error (%s)", e.msg);

	/* names with control characters: a newline made one DT_NEEDED two
	 * (deb.c joins them with newlines) */
	{
		static const char nl[] = "\0libc.so.6\nlibevil.so\0libfoo.so.1\0";
		static const char tab[] = "\0libc.so.6\0lib\tfoo.so.1\0";
		uint64_t dyn4[] = { 1, 1, 29 /* DT_RUNPATH */, 20 };

		synth_elf(&s, nl, sizeof(nl), dyn, 1);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && d.bad_name && !d.needed.n &&
		       strstr(e.msg, "DT_NEEDED name with control character 0x0a"),
		       "a DT_NEEDED with a newline is refused (%s)", e.msg);
		synth_elf(&s, nl, sizeof(nl), dyn4, 2);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && d.bad_name && strstr(e.msg, "DT_NEEDED"),
		       "... also when a run path follows (%s)", e.msg);
		dyn4[3] = 11;
		synth_elf(&s, tab, sizeof(tab), dyn4, 2);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && d.bad_name &&
		       strstr(e.msg, "DT_RUNPATH name with control character 0x09"),
		       "a run path with a tab is refused (%s)", e.msg);
		synth_elf(&s, tab, sizeof(tab), dyn + 2, 1);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && d.bad_name && strstr(e.msg, "DT_SONAME"),
		       "a DT_SONAME with a tab is refused (%s)", e.msg);
		/* an ordinary malformation is not a bad name */
		synth_elf(&s, str, sizeof(str), dyn, 2);
		set_ph(&s, 1, 0x10, 1, 8);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && !d.bad_name, "a malformed object is not bad_name");
	}

	/* 4096 DT_NEEDED naming one 64 KiB string: 256 MiB of copies from a
	 * 130 KiB file; the names may not add up to more than the file */
	{
		size_t big = 65536, nd = 4096;
		char *str2 = xmalloc(big + 2);
		uint64_t *dyn2 = xcalloc(nd * 2, sizeof(*dyn2));

		str2[0] = '\0';
		memset(str2 + 1, 'a', big);
		str2[big + 1] = '\0';
		for (size_t i = 0; i < nd; i++)
			dyn2[2 * i] = 1, dyn2[2 * i + 1] = 1;
		synth_elf(&s, str2, big + 2, dyn2, nd);
		TAP_OK(dyn_of(&s, &d, &e) < 0 && strstr(e.msg, "more string bytes"),
		       "DT_NEEDED names adding up to more than the file are an error (%s)", e.msg);
		/* a name repeated is fine while the names fit in the file */
		synth_elf(&s, str, sizeof(str), dyn2, 16);
		TAP_OK(dyn_of(&s, &d, &e) == 0 && d.needed.n == 16,
		       "sixteen DT_NEEDED naming one string are read (%s)", e.msg);
		elf_dyn_release(&d);
		free(str2);
		free(dyn2);
	}
	sb_release(&s.b);
}

int main(void)
{
	char file[] = "/tmp/pare-ldcache-XXXXXX";
	strbuf out = STRBUF_INIT, got = STRBUF_INIT;
	char *so = NULL, *cmd, line[1024];
	perr e;
	FILE *p;
	int fd;

	/* The host's libz is a real shared object with a soname. */
	so = host_soname("/lib/x86_64-linux-gnu/libz.so.1");
	TAP_STREQ(so, "libz.so.1", "elf_soname reads DT_SONAME of the host's libz");
	free(so);
	{
		/* the host's own python3 (a PIE, ET_DYN): DT_NEEDED includes libc,
		 * and a PIE has no soname */
		strbuf sb = STRBUF_INIT;
		struct elf_dyn d;

		TAP_OK(read_file("/usr/bin/python3", &sb, 0, &e) == 0 &&
		       elf_dynamic(sb.buf, sb.len, &d, &e) == 0, "elf_dynamic reads python3 (%s)", e.msg);
		TAP_OK(d.dynamic && sv_contains(&d.needed, "libc.so.6") && !d.soname,
		       "elf_dynamic: python3 needs libc.so.6, no soname");
		elf_dyn_release(&d);
		sb_reset(&sb);
		TAP_OK(read_file("/lib/x86_64-linux-gnu/libz.so.1", &sb, 0, &e) == 0 &&
		       elf_dynamic(sb.buf, sb.len, &d, &e) == 0 && d.soname &&
		       !strcmp(d.soname, "libz.so.1") && sv_contains(&d.needed, "libc.so.6"),
		       "elf_dynamic: libz's soname and DT_NEEDED");
		elf_dyn_release(&d);
		TAP_OK(elf_dynamic("#!/bin/sh\n", 10, &d, &e) == 0 && !d.dynamic && !d.needed.n,
		       "elf_dynamic: not ELF is nothing");
		sb_release(&sb);
	}
	TAP_OK(elf_soname("#!/bin/sh\n", 10, &so, &e) == 0 && !so,
	       "elf_soname: not ELF gives no soname and no error");
	{
		unsigned char bad[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
		bad[16] = 3; /* ET_DYN */
		bad[0x20] = 0xff, bad[0x21] = 0xff; /* program headers far outside */
		bad[0x36] = 56, bad[0x38] = 1;
		TAP_OK(elf_soname(bad, sizeof(bad), &so, &e) < 0,
		       "elf_soname: truncated ELF is an error (%s)", e.msg);
	}

	synth_tests();

	struct ldcache_entry ents[] = {
		{ "libfoo.so.1", "/opt/foo/lib/libfoo.so.1" },
		{ "libfoo.so.10", "/opt/foo/lib/libfoo.so.10" },
		{ "libbar.so.2", "/opt/bar/libbar.so.2" },
		{ "libfoo.so.2", "/opt/foo/lib/libfoo.so.2" },
	};
	TAP_OK(ldcache_build("amd64", ents, ARRAY_SIZE(ents), &out, &e) == 0,
	       "ldcache_build for amd64");
	TAP_OK(out.len == 48 + 4 * 24 + strlen("libfoo.so.1/opt/foo/lib/libfoo.so.1libfoo.so.10"
		"/opt/foo/lib/libfoo.so.10libbar.so.2/opt/bar/libbar.so.2libfoo.so.2"
		"/opt/foo/lib/libfoo.so.2") + 8, "cache size is header + entries + strings");
	TAP_OK(!memcmp(out.buf, "glibc-ld.so.cache1.1", 20), "magic is glibc-ld.so.cache1.1");
	TAP_OK(!strcmp(ents[0].soname, "libfoo.so.10") && !strcmp(ents[1].soname, "libfoo.so.2") &&
	       !strcmp(ents[3].soname, "libbar.so.2"),
	       "entries sorted descending, digit runs numerically");
	TAP_OK(ldcache_build("m68k", ents, 1, &got, &e) < 0, "unknown arch refused (%s)", e.msg);
	sb_release(&got);

	fd = mkstemp(file);
	TAP_OK(fd >= 0 && write(fd, out.buf, out.len) == (ssize_t)out.len, "wrote cache");
	close(fd);
	cmd = xasprintf("/sbin/ldconfig -C %s -p 2>&1", file);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		sb_adds(&got, line);
	TAP_OK(p && pclose(p) == 0, "host ldconfig -C FILE -p accepts the cache");
	printf("# %s", sb_str(&got));
	TAP_OK(strstr(sb_str(&got), "4 libs found in cache") != NULL, "ldconfig counts 4 libs");
	TAP_OK(strstr(sb_str(&got), "libfoo.so.10 (libc6,x86-64) => /opt/foo/lib/libfoo.so.10") != NULL,
	       "ldconfig prints the entry with the x86-64 flag and the path");
	unlink(file);
	free(cmd);
	free(so);
	sb_release(&out);
	sb_release(&got);
	TAP_DONE();
}
