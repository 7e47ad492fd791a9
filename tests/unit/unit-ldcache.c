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

/* A little-endian ELF64 shared object: header, .dynstr (strtab), .dynamic
 * (dyn: tag/value pairs, DT_NULL added), then three section headers (null,
 * .dynstr, .dynamic).  Offsets are returned so tests can corrupt them. */
struct synth {
	strbuf b;
	size_t str_off, dyn_off, sh_off;
};

static void put_le(unsigned char *p, uint64_t v, int len)
{
	for (int i = 0; i < len; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void synth_elf(struct synth *s, const char *str, size_t strsz, const uint64_t *dyn,
		      size_t ndyn)
{
	unsigned char h[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 }, sh[64];

	sb_release(&s->b);
	put_le(h + 16, 3, 2); /* ET_DYN */
	put_le(h + 18, 62, 2); /* EM_X86_64 */
	s->str_off = 64;
	s->dyn_off = (s->str_off + strsz + 7) & ~(size_t)7;
	s->sh_off = s->dyn_off + (ndyn + 1) * 16;
	put_le(h + 0x28, s->sh_off, 8);
	put_le(h + 0x34, 64, 2);
	put_le(h + 0x3a, 64, 2);
	put_le(h + 0x3c, 3, 2);
	sb_add(&s->b, h, sizeof(h));
	sb_add(&s->b, str, strsz);
	while (s->b.len < s->dyn_off)
		sb_addc(&s->b, '\0');
	for (size_t i = 0; i <= ndyn; i++) {
		unsigned char ent[16] = { 0 };
		if (i < ndyn) {
			put_le(ent, dyn[2 * i], 8);
			put_le(ent + 8, dyn[2 * i + 1], 8);
		}
		sb_add(&s->b, ent, sizeof(ent));
	}
	memset(sh, 0, sizeof(sh));
	sb_add(&s->b, sh, sizeof(sh)); /* SHT_NULL */
	put_le(sh + 4, 3, 4);           /* SHT_STRTAB */
	put_le(sh + 0x18, s->str_off, 8);
	put_le(sh + 0x20, strsz, 8);
	sb_add(&s->b, sh, sizeof(sh));
	memset(sh, 0, sizeof(sh));
	put_le(sh + 4, 6, 4);           /* SHT_DYNAMIC */
	put_le(sh + 0x18, s->dyn_off, 8);
	put_le(sh + 0x20, (ndyn + 1) * 16, 8);
	put_le(sh + 0x28, 1, 4);        /* sh_link: .dynstr */
	sb_add(&s->b, sh, sizeof(sh));
}

/* Malformed objects found by reading tests/fuzz/fuzz-elf.c's target:
 * offsets and sizes are 64-bit, their sums must not wrap. */
static void synth_tests(void)
{
	static const char str[] = "\0libc.so.6\0libfoo.so.1\0";
	uint64_t dyn[] = { 1 /* DT_NEEDED */, 1, 14 /* DT_SONAME */, 11 };
	struct synth s = { STRBUF_INIT, 0, 0, 0 };
	struct elf_dyn d;
	perr e;

	synth_elf(&s, str, sizeof(str), dyn, 2);
	e.msg[0] = '\0';
	TAP_OK(elf_dynamic(s.b.buf, s.b.len, &d, &e) == 0 && d.soname &&
	       !strcmp(d.soname, "libfoo.so.1") && d.needed.n == 1 &&
	       !strcmp(d.needed.v[0], "libc.so.6"), "synthetic ELF: soname and DT_NEEDED (%s)", e.msg);
	elf_dyn_release(&d);

	/* .dynamic's size so large that offset + size wraps to 8: it was read
	 * as empty, the DT_NEEDED hidden from the link check */
	put_le((unsigned char *)s.b.buf + s.sh_off + 128 + 0x20, -(uint64_t)s.dyn_off + 8, 8);
	e.msg[0] = '\0';
	TAP_OK(elf_dynamic(s.b.buf, s.b.len, &d, &e) < 0 && strstr(e.msg, ".dynamic outside"),
	       "a .dynamic whose end wraps is an error, not an empty .dynamic (%s)", e.msg);

	/* .dynstr's offset just below 2^64: offset + value wrapped back into the
	 * file and read a name from a string table that is not there */
	dyn[1] = s.str_off + 2; /* -1 + str_off + 2 = str_off + 1: "libc.so.6" */
	dyn[3] = s.str_off + 12;
	synth_elf(&s, str, sizeof(str), dyn, 2);
	put_le((unsigned char *)s.b.buf + s.sh_off + 64 + 0x18, -(uint64_t)1, 8);
	put_le((unsigned char *)s.b.buf + s.sh_off + 64 + 0x20, (uint64_t)1 << 63, 8);
	e.msg[0] = '\0';
	TAP_OK(elf_dynamic(s.b.buf, s.b.len, &d, &e) < 0 && strstr(e.msg, "string table outside"),
	       "a string table whose offset wraps is an error (%s)", e.msg);
	dyn[1] = 1, dyn[3] = 11;

	/* section headers of size 0: every one read the first, "no .dynamic" */
	synth_elf(&s, str, sizeof(str), dyn, 2);
	put_le((unsigned char *)s.b.buf + 0x3a, 0, 2);
	e.msg[0] = '\0';
	TAP_OK(elf_dynamic(s.b.buf, s.b.len, &d, &e) < 0 && strstr(e.msg, "section header size"),
	       "section headers smaller than Elf64_Shdr are an error (%s)", e.msg);

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
		e.msg[0] = '\0';
		TAP_OK(elf_dynamic(s.b.buf, s.b.len, &d, &e) < 0 && strstr(e.msg, "more string bytes"),
		       "DT_NEEDED names adding up to more than the file are an error (%s)", e.msg);
		/* a name repeated is fine while the names fit in the file */
		synth_elf(&s, str, sizeof(str), dyn2, 16);
		e.msg[0] = '\0';
		TAP_OK(elf_dynamic(s.b.buf, s.b.len, &d, &e) == 0 && d.needed.n == 16,
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
		bad[0x28] = 0xff, bad[0x29] = 0xff; /* section table far outside */
		bad[0x3a] = 64, bad[0x3c] = 1;
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
