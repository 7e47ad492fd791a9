/* unit-policy: synthetic .debs (made here with libarchive) through deb_load:
 * hostile entries, merged-/usr, strip/keep, hardening, overlaps; OCI JSON shape. */
#include "../../builder/builder_int.h"
#include "../../builder/builder.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spec {
	const char *name;
	char type;         /* f file, d dir, l symlink, h hardlink, c char device, p fifo */
	int mode;
	const char *arg;   /* content, symlink target or hardlink target */
};

static char tmpdir[] = "/tmp/unit-policy.XXXXXX";

static void add_member(struct archive *a, const char *name, const void *data, size_t n,
		       mode_t type, int mode, const char *link, bool hard)
{
	struct archive_entry *ae = archive_entry_new();

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, (mode_t)mode);
	archive_entry_set_mtime(ae, 1600000000, 0);
	if (link && hard)
		archive_entry_set_hardlink(ae, link);
	else if (link)
		archive_entry_set_symlink(ae, link);
	if (type == AE_IFREG && !(link && hard))
		archive_entry_set_size(ae, (la_int64_t)n);
	archive_write_header(a, ae);
	if (n)
		archive_write_data(a, data, n);
	archive_entry_free(ae);
}

static void tar_to(strbuf *out, const struct spec *s, size_t n, bool gzip)
{
	static char buf[1 << 20];
	size_t used = 0;
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, buf, sizeof(buf), &used);
	for (size_t i = 0; i < n; i++) {
		const char *arg = s[i].arg ? s[i].arg : "";

		switch (s[i].type) {
		case 'f': add_member(a, s[i].name, arg, strlen(arg), AE_IFREG, s[i].mode, NULL, false); break;
		case 'd': add_member(a, s[i].name, NULL, 0, AE_IFDIR, s[i].mode, NULL, false); break;
		case 'l': add_member(a, s[i].name, NULL, 0, AE_IFLNK, 0777, arg, false); break;
		case 'h': add_member(a, s[i].name, NULL, 0, AE_IFREG, s[i].mode, arg, true); break;
		case 'c': add_member(a, s[i].name, NULL, 0, AE_IFCHR, 0666, NULL, false); break;
		case 'p': add_member(a, s[i].name, NULL, 0, AE_IFIFO, 0666, NULL, false); break;
		}
	}
	archive_write_close(a);
	archive_write_free(a);
	sb_reset(out);
	sb_add(out, buf, used);
}

/* Write NAME.deb with the given control extra fields and data entries. */
static char *make_deb(const char *pkg, const char *extra, const struct spec *s, size_t n)
{
	char *path = xasprintf("%s/%s.deb", tmpdir, pkg);
	char *control = xasprintf("Package: %s\nVersion: 1.0\nArchitecture: amd64\n"
				  "Maintainer: T <t@example.org>\n%s", pkg, extra ? extra : "");
	struct spec cs[] = { { "./control", 'f', 0644, control },
			     { "./md5sums", 'f', 0644, "d41d8cd98f00b204e9800998ecf8427e  usr/bin/foo\n"
						       "d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/x/README\n" } };
	strbuf ctl = STRBUF_INIT, data = STRBUF_INIT;
	struct archive *a = archive_write_new();

	tar_to(&ctl, cs, 2, true);
	tar_to(&data, s, n, false);
	archive_write_set_format_ar_svr4(a);
	archive_write_open_filename(a, path);
	add_member(a, "debian-binary", "2.0\n", 4, AE_IFREG, 0644, NULL, false);
	add_member(a, "control.tar.gz", ctl.buf, ctl.len, AE_IFREG, 0644, NULL, false);
	add_member(a, "data.tar", data.buf, data.len, AE_IFREG, 0644, NULL, false);
	archive_write_close(a);
	archive_write_free(a);
	sb_release(&ctl);
	sb_release(&data);
	free(control);
	return path;
}

/* Write NAME.deb with the given ar members (name, bytes) as they are: for
 * the shapes make_deb cannot make. */
static char *make_deb_members(const char *pkg, const char *const *names, const strbuf *bufs,
			      size_t n)
{
	char *path = xasprintf("%s/%s.deb", tmpdir, pkg);
	struct archive *a = archive_write_new();

	archive_write_set_format_ar_svr4(a);
	archive_write_open_filename(a, path);
	add_member(a, "debian-binary", "2.0\n", 4, AE_IFREG, 0644, NULL, false);
	for (size_t i = 0; i < n; i++)
		add_member(a, names[i], bufs[i].buf, bufs[i].len, AE_IFREG, 0644, NULL, false);
	archive_write_close(a);
	archive_write_free(a);
	return path;
}

/* Installed-Size (KiB) load() gives the lock entries (0: unknown). */
static uint64_t load_installed_size;

struct world {
	struct image_tree *t;
	struct lock_pkg lp[4];
	struct policy pol;
};

/* Load packages into a fresh tree (all in layer 0 unless layers given). */
static int load(struct world *w, const struct recipe *r, size_t npkg, const char **names,
		const char **debs, const int *layers, perr *e)
{
	memset(w, 0, sizeof(*w));
	w->t = tree_new();
	policy_init(&w->pol, r);
	w->t->pkgs = xcalloc(npkg, sizeof(*w->t->pkgs));
	w->t->npkgs = npkg;
	for (size_t i = 0; i < npkg; i++) {
		w->lp[i].name = (char *)names[i];
		w->lp[i].installed_size = load_installed_size;
		w->t->pkgs[i].lp = &w->lp[i];
		w->t->pkgs[i].layer = layers ? layers[i] : 0;
	}
	e->msg[0] = '\0';
	for (size_t i = 0; i < npkg; i++)
		if (deb_load(w->t, (int)i, debs[i], &w->pol, e) < 0)
			return -1;
	return 0;
}

/* deb (freed here) for package name is refused, the message starting with
 * the package and holding why */
static void refused_deb(struct world *w, const char *name, char *deb, const char *why,
			const char *desc)
{
	size_t n = strlen(name);
	perr e = { 0, "" };

	TAP_OK(load(w, NULL, 1, &name, (const char **)&deb, NULL, &e) < 0 &&
	       !strncmp(e.msg, name, n) && !strncmp(e.msg + n, ": ", 2) && strstr(e.msg, why),
	       "%s (%s)", desc, e.msg);
	tree_free(w->t);
	free(deb);
}

static int load1(struct world *w, const struct recipe *r, const char *name,
		 const struct spec *s, size_t n, perr *e)
{
	char *deb = make_deb(name, NULL, s, n);
	int ret = load(w, r, 1, &name, (const char **)&deb, NULL, e);

	free(deb);
	return ret;
}

#define N(a) ARRAY_SIZE(a)

int main(void)
{
	struct world w;
	struct recipe r0, rallow;
	perr e = { 0, "" };
	struct tree_entry *ent;

	if (!mkdtemp(tmpdir))
		return 1;
	{
		/* before anything asks for it (it is read once): large contents
		 * spill into the cache while a .deb is decoded */
		char *cache = xasprintf("%s/cache", tmpdir);

		setenv("PARE_CACHE_DIR", cache, 1);
		free(cache);
	}
	memset(&r0, 0, sizeof(r0));
	memset(&rallow, 0, sizeof(rallow));

	/* merged-/usr */
	{
		struct spec s[] = {
			{ "./", 'd', 0755, NULL },
			{ "./bin/", 'd', 0755, NULL },
			{ "./bin/foo", 'f', 0755, "foo" },
			{ "./lib/x86_64-linux-gnu/", 'd', 0755, NULL },
			{ "./lib/x86_64-linux-gnu/ld.so", 'f', 0755, "ld" },
			{ "./lib64/", 'd', 0755, NULL },
			{ "./lib64/ld-linux.so.2", 'l', 0, "/lib/x86_64-linux-gnu/ld.so" },
			{ "./usr/share/doc/x/copyright", 'f', 0644, "Copyright: me\n" },
			{ "./usr/share/doc/x/README", 'f', 0644, "read me" },
			{ "./usr/share/man/man1/foo.1", 'f', 0644, "man" },
			{ "./usr/share/locale/de/LC_MESSAGES/x.mo", 'f', 0644, "mo" },
			{ "./usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", 'f', 0644, "u" },
			{ "./usr/lib/x86_64-linux-gnu/gconv/IBM850.so", 'f', 0644, "i" },
			{ "./usr/lib/x86_64-linux-gnu/gconv/gconv-modules", 'f', 0644, "g" },
			{ "./opt/app/data", 'f', 0644, "d" },
			{ "./usr/include/x.h", 'f', 0644, "h" },
			{ "./usr/lib/x86_64-linux-gnu/libx.a", 'f', 0644, "a" },
			{ "./usr/lib/x86_64-linux-gnu/pkgconfig/x.pc", 'f', 0644, "pc" },
			{ "./usr/share/pixmaps/x.png", 'f', 0644, "png" },
			{ "./usr/share/zoneinfo/right/UTC", 'f', 0644, "TZif" },
			{ "./usr/share/zoneinfo/UTC", 'f', 0644, "TZif" },
			{ "./usr/lib/python3.11/test/support/__init__.py", 'f', 0644, "t" },
			{ "./usr/lib/python3.11/pydoc_data/topics.py", 'f', 0644, "t" },
			{ "./usr/lib/python3.11/lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so", 'f', 0644, "t" },
			{ "./usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", 'f', 0644, "s" },
			{ "./usr/lib/python3.11/unittest/__init__.py", 'f', 0644, "u" },
			{ "./usr/lib/python3/dist-packages/foo/test/__init__.py", 'f', 0644, "f" },
			{ "./usr/bin/su", 'f', 04755, "su" },
			{ "./var/x", 'f', 0666, "w" },
			{ "./usr/bin/foo-link", 'h', 0755, "./bin/foo" },
		};
		TAP_OK(load1(&w, NULL, "x", s, N(s), &e) == 0, "well-formed package loads (%s)", e.msg);
		TAP_OK(tree_get(w.t, "/usr/bin/foo") && !tree_get(w.t, "/bin/foo"),
		       "/bin/foo rewritten to /usr/bin/foo");
		ent = tree_get(w.t, "/usr/lib64/ld-linux.so.2");
		TAP_OK(ent && ent->type == TREE_SYMLINK, "/lib64 link moved to /usr/lib64");
		TAP_STREQ(ent ? ent->target : NULL, "/usr/lib/x86_64-linux-gnu/ld.so",
			  "absolute symlink target rewritten");
		ent = tree_get(w.t, "/usr/bin/foo-link");
		TAP_OK(ent && ent->type == TREE_HARDLINK && !strcmp(ent->target, "/usr/bin/foo"),
		       "hard link target normalised");
		TAP_OK(tree_get(w.t, "/usr/share/doc/x/copyright") != NULL, "copyright kept");
		TAP_OK(!tree_get(w.t, "/usr/share/doc/x/README"), "docs stripped");
		TAP_OK(!tree_get(w.t, "/usr/share/man/man1/foo.1"), "man pages stripped");
		TAP_OK(!tree_get(w.t, "/usr/share/locale/de/LC_MESSAGES/x.mo"), "locales stripped");
		TAP_OK(tree_get(w.t, "/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so") &&
		       tree_get(w.t, "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules") &&
		       !tree_get(w.t, "/usr/lib/x86_64-linux-gnu/gconv/IBM850.so"),
		       "gconv: Unicode modules and config kept, others stripped");
		TAP_OK(tree_get(w.t, "/opt/app/data") != NULL, "other files kept");
		TAP_OK(!tree_get(w.t, "/usr/include/x.h") &&
		       !tree_get(w.t, "/usr/lib/x86_64-linux-gnu/libx.a") &&
		       !tree_get(w.t, "/usr/lib/x86_64-linux-gnu/pkgconfig/x.pc"),
		       "headers, static libraries, pkg-config files stripped");
		TAP_OK(!tree_get(w.t, "/usr/share/pixmaps/x.png"), "pixmaps stripped");
		TAP_OK(!tree_get(w.t, "/usr/share/zoneinfo/right/UTC") &&
		       tree_get(w.t, "/usr/share/zoneinfo/UTC"),
		       "zoneinfo: right/ stripped, the zones kept");
		TAP_OK(!tree_get(w.t, "/usr/lib/python3.11/test/support/__init__.py") &&
		       !tree_get(w.t, "/usr/lib/python3.11/pydoc_data/topics.py") &&
		       !tree_get(w.t, "/usr/lib/python3.11/lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so"),
		       "CPython test suite, test extensions and help() topics stripped");
		TAP_OK(tree_get(w.t, "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so") &&
		       tree_get(w.t, "/usr/lib/python3.11/unittest/__init__.py") &&
		       tree_get(w.t, "/usr/lib/python3/dist-packages/foo/test/__init__.py"),
		       "python: other extensions, unittest, a package's own test/ kept");
		ent = tree_get(w.t, "/usr/bin/su");
		TAP_OK(ent && ent->mode == 0755, "setuid bit removed (%o)", ent ? ent->mode : 0);
		ent = tree_get(w.t, "/var/x");
		TAP_OK(ent && ent->mode == 0664, "world-writable bit removed (%o)", ent ? ent->mode : 0);
		TAP_STREQ(w.t->pkgs[0].copyright, "Copyright: me\n", "copyright text captured");
		TAP_STREQ(w.t->pkgs[0].md5sums, "d41d8cd98f00b204e9800998ecf8427e  usr/bin/foo\n",
			  "md5sums limited to shipped files");
		TAP_STREQ(w.t->pkgs[0].maintainer, "T <t@example.org>", "Maintainer parsed");
		tree_free(w.t);

		/* recipe keep / strip / allow setuid */
		sv_push(&rallow.keep, "/usr/share/man/*");
		sv_push(&rallow.strip, "/opt/*");
		sv_push(&rallow.allow, "setuid");
		TAP_OK(load1(&w, &rallow, "x", s, N(s), &e) == 0, "loads with a recipe (%s)", e.msg);
		TAP_OK(tree_get(w.t, "/usr/share/man/man1/foo.1") != NULL, "recipe keep wins");
		TAP_OK(!tree_get(w.t, "/opt/app/data"), "recipe strip removes");
		ent = tree_get(w.t, "/usr/bin/su");
		TAP_OK(ent && ent->mode == 04755, "allow setuid keeps the bit");
		tree_free(w.t);
		sv_clear(&rallow.keep);
		sv_clear(&rallow.strip);
		sv_clear(&rallow.allow);
	}

	/* hostile entries */
	{
		static const struct { struct spec s[3]; size_t n; const char *want, *label; } cases[] = {
			{ { { "./usr/../etc/x", 'f', 0644, "x" } }, 1, "x: refusing ./usr/../etc/x", "'..' refused" },
			{ { { "/etc/passwd", 'f', 0644, "x" } }, 1, "x: refusing /etc/passwd: absolute", "absolute name refused" },
			{ { { "./usr/lib/evil", 'l', 0, "../../../../etc/shadow" } }, 1,
			  "x: refusing /usr/lib/evil: symlink target", "symlink escape refused" },
			{ { { "./etc/", 'd', 0755, NULL }, { "./etc/link", 'l', 0, "/tmp" },
			    { "./etc/link/file", 'f', 0644, "x" } }, 3, "written through a symlink",
			  "write through a symlink refused" },
			{ { { "./usr/bin/ln", 'h', 0755, "./usr/bin/nothere" } }, 1,
			  "x: refusing /usr/bin/ln: hard link to /usr/bin/nothere", "hard link to unseen target refused" },
			{ { { "./usr/bin/ln", 'h', 0755, "../etc/passwd" } }, 1,
			  "x: refusing /usr/bin/ln: hard link", "hard link outside refused" },
			{ { { "./dev/null", 'c', 0666, NULL } }, 1, "x: refusing /dev/null: a device node",
			  "device node refused" },
			{ { { "./run/fifo", 'p', 0666, NULL } }, 1, "x: refusing /run/fifo: a fifo", "fifo refused" },
			{ { { "./usr/bin/sh", 'l', 0, "dash" } }, 1, "x: refusing /usr/bin/sh: a shell",
			  "shell symlink refused" },
			/* a hard link is an executable under the link's name too */
			{ { { "./usr/bin/foo", 'f', 0755, "ELF" }, { "./usr/bin/sh", 'h', 0755, "./usr/bin/foo" } },
			  2, "x: refusing /usr/bin/sh: a shell", "shell hard link refused" },
			{ { { "./usr/bin/foo", 'f', 0755, "ELF" }, { "./usr/bin/dpkg", 'h', 0755, "./usr/bin/foo" } },
			  2, "x: refusing /usr/bin/dpkg: a package manager", "package manager hard link refused" },
			{ { { "./bin/bash", 'f', 0755, "ELF" } }, 1, "x: refusing /usr/bin/bash: a shell",
			  "shell under /bin refused with its /usr path" },
			{ { { "./usr/bin/dpkg-query", 'f', 0755, "ELF" } }, 1,
			  "x: refusing /usr/bin/dpkg-query: a package manager", "package manager refused" },
			{ { { "./usr/lib/x/y", 'f', 0644, "x" }, { "./usr/lib/x", 'l', 0, "y" } }, 2,
			  "x: refusing /usr/lib/x: a symlink where other entries need a directory",
			  "symlink over an implicit directory refused" },
			/* not UTF-8: the layer's pax records could not hold them (fuzz-deb) */
			{ { { "./usr/share/caf\xe9", 'f', 0644, "x" } }, 1,
			  "x: refusing ./usr/share/caf\xe9: './usr/share/caf\xe9' is not a UTF-8 name",
			  "Latin-1 file name refused" },
			{ { { "./usr/share/\xed\xa0\x80", 'f', 0644, "x" } }, 1, "is not a UTF-8 name",
			  "UTF-8-encoded surrogate refused" },
			{ { { "./usr/share/\xc0\xaf", 'f', 0644, "x" } }, 1, "is not a UTF-8 name",
			  "overlong UTF-8 refused" },
			{ { { "./usr/share/\xf4\x90\x80\x80", 'f', 0644, "x" } }, 1, "is not a UTF-8 name",
			  "UTF-8 past U+10FFFF refused" },
			{ { { "./usr/share/l", 'l', 0, "caf\xe9" } }, 1,
			  "x: refusing /usr/share/l: symlink target 'caf\xe9' is not UTF-8",
			  "Latin-1 symlink target refused" },
			{ { { "./usr/share/h", 'h', 0644, "./usr/share/caf\xe9" } }, 1,
			  "x: refusing /usr/share/h: hard link: './usr/share/caf\xe9' is not a UTF-8 name",
			  "Latin-1 hard link target refused" },
			/* control characters: tar cannot carry them into a layer
			 * that unpacks anywhere; the message quotes them escaped */
			{ { { "./usr/share/a\nb", 'f', 0644, "x" } }, 1,
			  "x: refusing ./usr/share/a\\nb: name './usr/share/a\\nb' has a control character",
			  "newline in a name refused, quoted on one line" },
			{ { { "./usr/share/\x1b[31mred", 'f', 0644, "x" } }, 1,
			  "x: refusing ./usr/share/\\x1b[31mred: name './usr/share/\\x1b[31mred' has a control character",
			  "ESC in a name refused, quoted" },
			{ { { "./usr/share/a\tb/", 'd', 0755, NULL } }, 1,
			  "name './usr/share/a\\tb/' has a control character", "tab in a directory name refused" },
			{ { { "./usr/share/\x7f", 'f', 0644, "x" } }, 1, "'./usr/share/\\x7f' has a control character",
			  "DEL in a name refused" },
			{ { { "./usr/share/l", 'l', 0, "a\nb" } }, 1,
			  "x: refusing /usr/share/l: symlink target 'a\\nb' has a control character",
			  "newline in a symlink target refused" },
			{ { { "./usr/share/x", 'f', 0644, "x" }, { "./usr/share/h", 'h', 0644, "./usr/share/x\r" } }, 2,
			  "x: refusing /usr/share/h: hard link: name './usr/share/x\\x0d' has a control character",
			  "CR in a hard link target refused" },
		};
		for (size_t i = 0; i < N(cases); i++) {
			int r = load1(&w, NULL, "x", cases[i].s, cases[i].n, &e);

			TAP_OK(r < 0 && strstr(e.msg, cases[i].want) && !strpbrk(e.msg, "\n\r\x1b"),
			       "%s", cases[i].label);
			if (!(r < 0 && strstr(e.msg, cases[i].want)))
				printf("#   got '%s'\n", r < 0 ? e.msg : "(success)");
			tree_free(w.t);
		}
	}

	/* path limits: NAME_MAX per component, PATH_MAX for the path in the
	 * image (after the merged-/usr rewrite), POLICY_DEPTH_MAX levels */
	{
		strbuf nm = STRBUF_INIT, deep = STRBUF_INIT, long1 = STRBUF_INIT, long2 = STRBUF_INIT;
		char *ok_nm, *bad_nm;
		struct spec s1[1] = { { NULL, 'f', 0644, "x" } };
		struct spec sl[1] = { { "./usr/share/l", 'l', 0, NULL } };

		for (int i = 0; i < 255; i++)
			sb_addc(&nm, 'n');
		ok_nm = xasprintf("./usr/share/%s", nm.buf);
		bad_nm = xasprintf("./usr/share/%sn", nm.buf);
		s1[0].name = ok_nm;
		TAP_OK(load1(&w, NULL, "x", s1, 1, &e) == 0, "a 255-byte component loads (%s)", e.msg);
		tree_free(w.t);
		s1[0].name = bad_nm;
		TAP_OK(load1(&w, NULL, "x", s1, 1, &e) < 0 &&
		       strstr(e.msg, "x: refusing ./usr/share/nnnn") &&
		       strstr(e.msg, "has a component longer than 255 bytes (NAME_MAX)") &&
		       strlen(e.msg) < 600, "a 256-byte component refused, the name cut short (%s)", e.msg);
		tree_free(w.t);
		sl[0].arg = bad_nm + 12;
		TAP_OK(load1(&w, NULL, "x", sl, 1, &e) < 0 &&
		       strstr(e.msg, "x: refusing /usr/share/l: symlink target 'nnn") &&
		       strstr(e.msg, "longer than 255 bytes"), "a symlink target with a 256-byte component refused");
		tree_free(w.t);

		/* 256 levels load, 257 do not */
		sb_adds(&deep, ".");
		for (int i = 0; i < 256; i++)
			sb_adds(&deep, "/d");
		s1[0].name = deep.buf;
		TAP_OK(load1(&w, NULL, "x", s1, 1, &e) == 0, "a file 256 levels deep loads (%s)", e.msg);
		tree_free(w.t);
		sb_adds(&deep, "/d");
		TAP_OK(load1(&w, NULL, "x", s1, 1, &e) < 0 && strstr(e.msg, "is more than 256 levels deep"),
		       "257 levels refused (%.80s...)", e.msg);
		tree_free(w.t);

		/* /usr/share/... of 4095 bytes loads; ./bin/... that becomes
		 * 4096 bytes as /usr/bin/... is refused */
		sb_adds(&long1, "./usr/share");
		while (long1.len - 1 < 4095 - 200)
			sb_addf(&long1, "/%s", "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
		sb_addc(&long1, '/');
		while (long1.len - 1 < 4095)
			sb_addc(&long1, 'c');
		s1[0].name = long1.buf;
		TAP_OK(load1(&w, NULL, "x", s1, 1, &e) == 0, "a 4095-byte path loads (%s)", e.msg);
		tree_free(w.t);
		sb_adds(&long2, "./bin");
		sb_adds(&long2, long1.buf + strlen("./usr/share"));
		while (long2.len < 4093) /* 4092 bytes as /bin/..., 4096 as /usr/bin/... */
			sb_addc(&long2, 'c');
		s1[0].name = long2.buf;
		TAP_OK(load1(&w, NULL, "x", s1, 1, &e) < 0 &&
		       strstr(e.msg, "is longer than 4095 bytes (PATH_MAX)"),
		       "a path over 4095 bytes after the /usr rewrite refused (%.60s...)", e.msg);
		tree_free(w.t);
		sb_release(&nm), sb_release(&deep), sb_release(&long1), sb_release(&long2);
		free(ok_nm), free(bad_nm);
	}

	/* symlinks resolved over the whole tree: chains through other links
	 * and ".." must not climb above the root (each link alone stays in) */
	{
		static const struct {
			struct spec a[2], b[2];
			const char *want, *label; /* want NULL: accepted */
		} cases[] = {
			{ { { "./usr/lib/x/a", 'l', 0, "../../.." } }, { { "./usr/lib/x/b", 'l', 0, "a/../etc" } },
			  "b: refusing /usr/lib/x/b -> a/../etc: it resolves above the image root through "
			  "/usr/lib/x/a -> ../../.. (from a)", "a link through another link to / and then .." },
			{ { { "./usr/share/d", 'l', 0, "/" } }, { { "./usr/share/e", 'l', 0, "d/.." } },
			  "b: refusing /usr/share/e -> d/..: it resolves above the image root through "
			  "/usr/share/d -> / (from a)", "a symlinked directory followed by .." },
			{ { { "./opt/l1", 'l', 0, "l2" }, { "./opt/l3", 'l', 0, "/" } },
			  { { "./opt/l2", 'l', 0, "l3" }, { "./opt/l4", 'l', 0, "l1/../x" } },
			  "b: refusing /opt/l4 -> l1/../x: it resolves above the image root through "
			  "/opt/l3 -> / (from a)", "a chain of three links, then .." },
			{ { { "./opt/p", 'l', 0, "q" } }, { { "./opt/q", 'l', 0, "p" } },
			  "more than 40 symlinks to follow", "a symlink loop" },
			{ { { "./usr/lib/j", 'l', 0, "../share" } }, { { "./usr/lib/k", 'l', 0, "j/../lib/j/x" } },
			  NULL, "a chain that stays inside loads" },
			{ { { "./usr/lib/m", 'l', 0, "/usr/share" } }, { { "./usr/lib/n", 'l', 0, "/usr/lib/m/../../bin" } },
			  NULL, "absolute targets resolve from the image root" },
		};
		const char *names[] = { "a", "b" };
		int layers[] = { 0, 1 };

		for (size_t i = 0; i < N(cases); i++) {
			char *debs[2];
			int r;

			debs[0] = make_deb("a", NULL, cases[i].a, cases[i].a[1].name ? 2 : 1);
			debs[1] = make_deb("b", NULL, cases[i].b, cases[i].b[1].name ? 2 : 1);
			r = load(&w, NULL, 2, names, (const char **)debs, layers, &e);
			TAP_OK(r == 0, "%s: each link alone loads (%s)", cases[i].label, e.msg);
			r = r < 0 ? r : tree_check_symlinks(w.t, &e);
			if (cases[i].want)
				TAP_OK(r < 0 && strstr(e.msg, cases[i].want), "%s: refused (%s)",
				       cases[i].label, r < 0 ? e.msg : "accepted");
			else
				TAP_OK(r == 0, "%s (%s)", cases[i].label, r < 0 ? e.msg : "ok");
			tree_free(w.t);
			free(debs[0]), free(debs[1]);
		}
	}

	/* UTF-8 names of every length are fine */
	{
		struct spec s[] = {
			{ "./usr/share/F\xc5\x91t\xc3\xa1\xe2\x82\xac\xf0\x9f\x93\xa6", 'f', 0644, "x" },
			{ "./usr/share/l", 'l', 0, "F\xc5\x91t\xc3\xa1\xe2\x82\xac\xf0\x9f\x93\xa6" },
		};

		TAP_OK(load1(&w, NULL, "x", s, N(s), &e) == 0, "UTF-8 names and link targets load (%s)",
		       e.msg);
		tree_free(w.t);
	}

	/* shells allowed / data files named like shells */
	{
		struct spec s[] = { { "./usr/bin/bash", 'f', 0755, "ELF" },
				    { "./usr/share/fish", 'f', 0644, "not a shell" } };
		struct spec p[] = { { "./usr/bin/apt-get", 'f', 0755, "ELF" } };

		sv_push(&rallow.allow, "shell");
		TAP_OK(load1(&w, &rallow, "bash", s, N(s), &e) == 0, "allow shell permits bash");
		tree_free(w.t);
		TAP_OK(load1(&w, &rallow, "apt", p, N(p), &e) < 0, "allow shell does not permit apt-get");
		tree_free(w.t);
		sv_push(&rallow.allow, "package-manager");
		TAP_OK(load1(&w, &rallow, "apt", p, N(p), &e) == 0, "allow package-manager permits apt-get");
		tree_free(w.t);
		sv_clear(&rallow.allow);
		TAP_OK(load1(&w, NULL, "fish", s + 1, 1, &e) == 0,
		       "a non-executable data file named like a shell is fine");
		tree_free(w.t);
	}

	/* overlaps */
	{
		struct spec a[] = { { "./usr/", 'd', 0755, NULL }, { "./usr/bin/", 'd', 0755, NULL },
				    { "./usr/bin/tool", 'f', 0755, "old" } };
		struct spec b[] = { { "./usr/", 'd', 0755, NULL }, { "./usr/bin/", 'd', 0755, NULL },
				    { "./usr/bin/tool", 'f', 0755, "new" } };
		const char *names[2] = { "aa", "bb" };
		char *debs[2];
		int layers[2] = { 0, 1 };

		debs[0] = make_deb("aa", NULL, a, N(a));
		debs[1] = make_deb("bb", NULL, b, N(b));
		TAP_OK(load(&w, NULL, 2, names, (const char **)debs, layers, &e) < 0 &&
		       strstr(e.msg, "/usr/bin/tool is shipped by both aa and bb (no Replaces)"),
		       "overlap without Replaces refused (%s)", e.msg);
		tree_free(w.t);
		free(debs[1]);
		debs[1] = make_deb("bb", "Replaces: aa (<< 2), other\n", b, N(b));
		TAP_OK(load(&w, NULL, 2, names, (const char **)debs, layers, &e) == 0,
		       "overlap with Replaces accepted (%s)", e.msg);
		ent = tree_get(w.t, "/usr/bin/tool");
		TAP_OK(ent && ent->pkg == 1 && ent->data && !memcmp(ent->data, "new", 3),
		       "the replacing package wins");
		tree_free(w.t);
		free(debs[0]);
		free(debs[1]);
		/* the replacing package in the earlier layer: the later layer's
		 * file would win in the overlay */
		debs[0] = make_deb("aa", "Replaces: bb\n", a, N(a));
		debs[1] = make_deb("bb", NULL, b, N(b));
		TAP_OK(load(&w, NULL, 2, names, (const char **)debs, layers, &e) < 0 &&
		       strstr(e.msg, "/usr/bin/tool is shipped by both aa and bb (aa replaces bb but "
				     "is in an earlier layer)"),
		       "Replaces from an earlier layer refused (%s)", e.msg);
		tree_free(w.t);
		layers[1] = 0;
		TAP_OK(load(&w, NULL, 2, names, (const char **)debs, layers, &e) == 0,
		       "Replaces from the same layer accepted (%s)", e.msg);
		ent = tree_get(w.t, "/usr/bin/tool");
		TAP_OK(ent && ent->pkg == 0, "... the replacing package keeps the file");
		tree_free(w.t);
		free(debs[0]);
		free(debs[1]);
	}

	/* a hard link to another package's file, in the same layer */
	{
		struct spec a[] = { { "./usr/", 'd', 0755, NULL }, { "./usr/bin/", 'd', 0755, NULL },
				    { "./usr/bin/tool", 'f', 0755, "tool" } };
		struct spec b[] = { { "./usr/bin/other", 'h', 0755, "./usr/bin/tool" } };
		const char *names[2] = { "aa", "bb" };
		char *debs[2];
		int layers[2] = { 0, 0 };

		debs[0] = make_deb("aa", NULL, a, N(a));
		debs[1] = make_deb("bb", NULL, b, N(b));
		TAP_OK(load(&w, NULL, 2, names, (const char **)debs, layers, &e) < 0 &&
		       strstr(e.msg, "bb: refusing /usr/bin/other: hard link to /usr/bin/tool, which is "
				     "outside the package"),
		       "hard link to another package's file refused (%s)", e.msg);
		tree_free(w.t);
		free(debs[0]);
		free(debs[1]);
	}

	/* corrupt .deb */
	{
		struct spec s[] = { { "./usr/bin/foo", 'f', 0755, "0123456789abcdef0123456789abcdef" } };
		char *deb = make_deb("broken", NULL, s, N(s));
		const char *name = "broken";
		strbuf sb = STRBUF_INIT;

		read_file(deb, &sb, 0, &e);
		write_file_atomic(deb, sb.buf, sb.len - 700, 0644, &e);
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) < 0 &&
		       str_starts(e.msg, "broken: "), "truncated .deb: error names the package (%s)", e.msg);
		tree_free(w.t);
		sb_release(&sb);
		free(deb);
	}

	/* members read twice, empty members (found by tests/fuzz/fuzz-deb) */
	{
		struct spec ctl[] = {
			{ "./control", 'f', 0644, "Package: dup\nVersion: 1\nArchitecture: all\n" },
			{ "./md5sums", 'f', 0644, "" },
		};
		struct spec ctl2[] = { ctl[0], ctl[0] };
		struct spec data[] = { { "./usr/bin/dup", 'f', 0755, "dup" } };
		const char *name = "dup";
		strbuf b[4] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
		const char *two_data[] = { "control.tar", "data.tar", "data.tar.gz" };
		const char *two_ctl[] = { "control.tar", "control.tar.gz", "data.tar" };
		const char *one[] = { "control.tar", "data.tar" };
		char *deb;

		tar_to(&b[0], ctl, N(ctl), false);
		tar_to(&b[1], data, N(data), false);
		tar_to(&b[2], data, N(data), true);
		deb = make_deb_members(name, one, b, 2);
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) == 0 &&
		       w.t->pkgs[0].md5sums && !strcmp(w.t->pkgs[0].md5sums, ""),
		       "an empty md5sums member gives no md5sums (%s)", e.msg);
		tree_free(w.t);
		free(deb);
		deb = make_deb_members(name, two_data, b, 3);
		refused_deb(&w, name, deb, "two data.tar members", "a second data.tar member is refused");
		tar_to(&b[3], ctl, N(ctl), true);
		sb_reset(&b[2]);
		sb_add(&b[2], b[1].buf, b[1].len);
		sb_reset(&b[1]);
		sb_add(&b[1], b[3].buf, b[3].len);
		deb = make_deb_members(name, two_ctl, b, 3);
		refused_deb(&w, name, deb, "two control.tar members", "a second control.tar member is refused");
		tar_to(&b[0], ctl2, N(ctl2), false);
		sb_reset(&b[1]);
		sb_add(&b[1], b[2].buf, b[2].len);
		deb = make_deb_members(name, one, b, 2);
		refused_deb(&w, name, deb, "two control files", "a control.tar with two control files is refused");
		for (size_t i = 0; i < 4; i++)
			sb_release(&b[i]);
	}

	/* a decompression bomb: 24 MiB of content in a few KiB of data.tar.gz,
	 * from a package whose Installed-Size says 1 KiB (fuzz-deb) */
	{
		struct spec ctl[] = {
			{ "./control", 'f', 0644, "Package: bomb\nVersion: 1\nArchitecture: all\n" },
		};
		char *big = xmalloc((8u << 20) + 1);
		struct spec data[] = {
			{ "./opt/a", 'f', 0644, big }, { "./opt/b", 'f', 0644, big },
			{ "./opt/c", 'f', 0644, big },
		};
		const char *name = "bomb";
		const char *mem[] = { "control.tar", "data.tar.gz" };
		strbuf b[2] = { STRBUF_INIT, STRBUF_INIT };
		char *deb;

		memset(big, 'a', 8u << 20);
		big[8u << 20] = '\0';
		tar_to(&b[0], ctl, N(ctl), false);
		tar_to(&b[1], data, N(data), true);
		deb = make_deb_members(name, mem, b, 2);
		load_installed_size = 1;
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) < 0 &&
		       str_starts(e.msg, "bomb: ") && strstr(e.msg, "more than the package's Installed-Size"),
		       "content past twice the Installed-Size + 16 MiB is refused (%s)", e.msg);
		tree_free(w.t);
		load_installed_size = 8 << 10;
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) == 0,
		       "the same within its Installed-Size loads (%s)", e.msg);
		tree_free(w.t);
		load_installed_size = 0;
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) == 0,
		       "the same without an Installed-Size in the lock loads (%s)", e.msg);
		tree_free(w.t);
		free(deb);
		/* stripped files are decompressed too (to be skipped): they count */
		data[0].name = "./usr/share/doc/bomb/a";
		data[1].name = "./usr/share/doc/bomb/b";
		data[2].name = "./usr/share/doc/bomb/c";
		tar_to(&b[1], data, N(data), true);
		deb = make_deb_members(name, mem, b, 2);
		load_installed_size = 1;
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) < 0 &&
		       strstr(e.msg, "more than the package's Installed-Size"),
		       "stripped content counts against the Installed-Size too (%s)", e.msg);
		tree_free(w.t);
		load_installed_size = 0;
		free(deb);
		free(big);
		sb_release(&b[0]);
		sb_release(&b[1]);
	}

	/* an entry bomb: 70000 empty files (no content to count) from a package
	 * whose Installed-Size says 1 KiB */
	{
		struct spec ctl[] = {
			{ "./control", 'f', 0644, "Package: many\nVersion: 1\nArchitecture: all\n" },
		};
		const char *name = "many";
		const char *mem[] = { "control.tar", "data.tar.gz" };
		strbuf b[2] = { STRBUF_INIT, STRBUF_INIT };
		size_t cap = 16u << 20, used = 0;
		struct archive *a = archive_write_new();
		char *deb;

		b[1].buf = xmalloc(cap);
		b[1].alloc = cap;
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
		archive_write_open_memory(a, b[1].buf, cap, &used);
		for (int i = 0; i < 70000; i++) {
			char n[32];

			snprintf(n, sizeof(n), "./opt/e%05d", i);
			add_member(a, n, NULL, 0, AE_IFREG, 0644, NULL, false);
		}
		archive_write_close(a);
		archive_write_free(a);
		b[1].len = used;
		tar_to(&b[0], ctl, N(ctl), false);
		deb = make_deb_members(name, mem, b, 2);
		load_installed_size = 1;
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) < 0 &&
		       str_starts(e.msg, "many: ") && strstr(e.msg, "more than the package's Installed-Size"),
		       "entries past twice the Installed-Size + 16 MiB (256 bytes each) are refused (%s)",
		       e.msg);
		tree_free(w.t);
		load_installed_size = 0;
		TAP_OK(load(&w, NULL, 1, &name, (const char **)&deb, NULL, &e) == 0,
		       "the same without an Installed-Size in the lock loads (%s)", e.msg);
		tree_free(w.t);
		free(deb);
		sb_release(&b[0]);
		sb_release(&b[1]);
	}

	/* OCI JSON shape */
	{
		struct lock_pkg pk[1] = { { .name = "ca-certificates" } };
		struct lock_arch la = { .arch = "arm64", .pkgs = pk, .npkgs = 1 };
		struct layer_desc ld = { .digest = "sha256:aa", .diff_id = "sha256:bb", .size = 3,
					 .media_type = "application/vnd.oci.image.layer.v1.tar+gzip" };
		struct oci_image img = { 0 };
		struct recipe r = { 0 };
		struct build_ctx c = { .r = &r, .la = &la, .arch = "arm64", .epoch = 1700000000 };
		cJSON *j, *cc;
		char *idx;

		r.name = "demo";
		sv_push(&r.env, "PATH=/custom");
		sv_push(&r.env, "A=b");
		sv_push(&r.entrypoint, "/usr/bin/hello");
		r.has_entrypoint = true;
		img.layers = &ld;
		img.nlayers = 1;
		builder_image_json(&c, &img, &e);
		j = cJSON_Parse(img.config_json);
		cc = cJSON_GetObjectItem(j, "config");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(j, "architecture")), "arm64", "config architecture");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(j, "variant")), "v8", "arm64 variant v8");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(j, "created")), "2023-11-14T22:13:20Z",
			  "created is SOURCE_DATE_EPOCH in RFC 3339");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(cc, "User")), "65532", "default user 65532");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(cc, "Env"), 0)),
			  "PATH=/custom", "recipe env replaces PATH in place");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(cc, "Env"), 1)),
			  "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_FILE with ca-certificates");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(
			  cJSON_GetObjectItem(j, "rootfs"), "diff_ids"), 0)), "sha256:bb", "diff_ids");
		cJSON_Delete(j);
		j = cJSON_Parse(img.manifest_json);
		TAP_OK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "schemaVersion")) == 2, "manifest schemaVersion 2");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(j, "mediaType")),
			  "application/vnd.oci.image.manifest.v1+json", "manifest media type");
		TAP_OK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "config"), "size")) ==
		       (double)strlen(img.config_json), "config descriptor size");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "annotations"),
			  "org.opencontainers.image.title")), "demo", "title annotation");
		cJSON_Delete(j);
		img.arch = "arm64";
		idx = builder_index_json(&r, &img, 1, c.epoch);
		j = cJSON_Parse(idx);
		cc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "manifests"), 0), "platform");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(cc, "architecture")), "arm64", "index platform");
		TAP_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(cc, "variant")), "v8", "index variant");
		cJSON_Delete(j);
		free(idx);
		free(img.config_json);
		free(img.manifest_json);
		sv_clear(&r.env);
		sv_clear(&r.entrypoint);
	}

	/* builder_build end to end: two builds of the same lock are identical. */
	{
		struct spec hs[] = { { "./usr/", 'd', 0755, NULL }, { "./usr/bin/", 'd', 0755, NULL },
				     { "./usr/bin/hello", 'f', 0755, "hello" } };
		struct spec ls[] = { { "./usr/lib/x86_64-linux-gnu/libx.so.1", 'f', 0644, "lib" } };
		char *cache = xasprintf("%s/cache", tmpdir), *debs[2], *dst;
		struct lock_pkg pk[2] = { 0 };
		struct lock_arch la = { .arch = "amd64", .pkgs = pk, .npkgs = 2 };
		struct lock_repo repo = { .date_epoch = 1700000000, .codename = "fixture" };
		struct lock_recipe lr = { .name = "demo", .repos = &repo, .nrepos = 1,
					  .archs = &la, .narchs = 1 };
		struct recipe r = { 0 };
		struct build_opts o = { 0 };
		struct build_result res1, res2;
		char *out = xasprintf("%s/out", tmpdir), *tarf = xasprintf("%s/img.tar", tmpdir);
		char *idx_path = xasprintf("%s/index.json", out);
		strbuf sb = STRBUF_INIT;
		char hex[SHA256_HEX_LEN + 1];
		uint64_t sz;

		unsetenv("SOURCE_DATE_EPOCH");
		r.name = "demo";
		debs[0] = make_deb("hello", "Source: hello-src\n", hs, N(hs));
		debs[1] = make_deb("libx", NULL, ls, N(ls));
		pk[0].name = "hello", pk[0].version = "1.0", pk[0].arch = "amd64";
		pk[0].source = "hello-src";
		pk[1].name = "libx", pk[1].version = "1.0", pk[1].arch = "amd64";
		for (int i = 0; i < 2; i++) {
			sha256_file(debs[i], hex, &sz, &e);
			pk[i].sha256 = xstrdup(hex);
			pk[i].size = sz;
			dst = deb_cache_path(hex);
			{
				char *d = path_dirname(dst);
				mkdir_p(d, 0755, &e);
				free(d);
			}
			sb_reset(&sb);
			read_file(debs[i], &sb, 0, &e);
			write_file_atomic(dst, sb.buf, sb.len, 0644, &e);
			free(dst);
		}
		o.outdir = out;
		o.tarfile = tarf;
		o.quiet = true;
		TAP_OK(builder_build(&r, &lr, &o, &res1, &e) == 0, "builder_build succeeds (%s)", e.msg);
		TAP_OK(path_exists(idx_path), "index.json written");
		TAP_OK(path_exists(tarf), "oci-archive written");
		TAP_OK(res1.narchs == 1 && res1.archs[0].sbom.npkgs == 2, "one arch, SBOM with 2 packages");
		TAP_OK(res1.created == 1700000000, "SOURCE_DATE_EPOCH from the lock's repository date");
		TAP_OK(builder_build(&r, &lr, &o, &res2, &e) == 0, "second build succeeds");
		TAP_STREQ(res1.index_digest, res2.index_digest, "same lock -> same index digest");
		builder_result_release(&res2);
		if (getenv("UNIT_POLICY_KEEP"))
			printf("# output kept in %s\n", out);
		rm_rf(cache, &e);
		TAP_OK(builder_build(&r, &lr, &o, &res2, &e) < 0, "empty cache: error (%s)", e.msg);
		builder_result_release(&res1);
		builder_result_release(&res2);
		sb_release(&sb);
		for (int i = 0; i < 2; i++) {
			free(pk[i].sha256);
			free(debs[i]);
		}
		free(cache), free(out), free(tarf), free(idx_path);
	}

	if (!getenv("UNIT_POLICY_KEEP"))
		rm_rf(tmpdir, &e);
	TAP_DONE();
}
