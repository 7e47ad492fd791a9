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
