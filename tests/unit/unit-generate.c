/* unit-generate.c - builder_generate on a real image tree: accounts, homes,
 * /tmp, CA bundle, tzdata, os-release, ld.so.cache (read back with the host's
 * ldconfig), status.d, recipe paths, and the conflicts that must fail. */
#include "../../builder/builder_int.h"
#include "../../builder/gen_int.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add_pkg(struct image_tree *t, const char *name, const char *control,
		   const char *md5)
{
	struct deb_pkg *p;

	ALLOC_GROW(t->pkgs, t->npkgs + 1, t->pkgs_alloc);
	p = &t->pkgs[t->npkgs];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->control = xstrdup(control);
	p->md5sums = xstrdup(md5);
	p->layer = (int)t->npkgs;
	return (int)t->npkgs++;
}

static void put(struct image_tree *t, int pkg, enum tree_type type, const char *path,
		const void *data, size_t n, const char *target)
{
	struct tree_entry *ent = xcalloc(1, sizeof(*ent));
	perr e;

	ent->path = xstrdup(path);
	ent->type = type;
	ent->mode = type == TREE_DIR ? 0755 : type == TREE_SYMLINK ? 0777 : 0644;
	ent->pkg = pkg;
	ent->layer = pkg;
	if (type == TREE_FILE) {
		ent->data = xmalloc(n ? n : 1);
		memcpy(ent->data, data, n);
		ent->size = n;
		sha256_hex(data, n, ent->sha256);
	}
	if (target)
		ent->target = xstrdup(target);
	if (tree_insert(t, ent, &e) < 0)
		printf("# tree_insert %s: %s\n", path, e.msg);
}

static void dirs(struct image_tree *t, int pkg, const char *path)
{
	char *p = xstrdup(path);
	for (char *s = strchr(p + 1, '/'); ; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (!tree_get(t, p))
			put(t, pkg, TREE_DIR, p, NULL, 0, NULL);
		if (!s)
			break;
		*s = '/';
	}
	free(p);
}

static const char *content(struct image_tree *t, const char *path, strbuf *sb)
{
	struct tree_entry *ent = tree_get(t, path);
	sb_reset(sb);
	if (!ent || ent->type != TREE_FILE)
		return NULL;
	sb_add(sb, ent->data, ent->size);
	return sb_str(sb);
}

static struct image_tree *base_tree(const strbuf *cert1, const strbuf *cert2,
				    const strbuf *libz)
{
	struct image_tree *t = tree_new();
	int ca = add_pkg(t, "ca-certificates", "Package: ca-certificates\nVersion: 1\n",
			 "d41d8cd98f00b204e9800998ecf8427e  usr/share/ca-certificates/mozilla/B.crt\n");
	int tz = add_pkg(t, "tzdata", "Package: tzdata\nVersion: 2\n", "");
	int foo = add_pkg(t, "libfoo", "Package: libfoo\nVersion: 3\n", "");
	int bf = add_pkg(t, "base-files", "Package: base-files\nVersion: 12\n", "");

	dirs(t, ca, "/usr/share/ca-certificates/mozilla");
	/* B before A on insertion: the bundle must still be sorted by path */
	put(t, ca, TREE_FILE, "/usr/share/ca-certificates/mozilla/B.crt", cert2->buf, cert2->len, NULL);
	put(t, ca, TREE_FILE, "/usr/share/ca-certificates/mozilla/A.crt", cert1->buf, cert1->len, NULL);
	dirs(t, tz, "/usr/share/zoneinfo");
	put(t, tz, TREE_FILE, "/usr/share/zoneinfo/UTC", "TZif", 4, NULL);
	dirs(t, foo, "/etc/ld.so.conf.d");
	put(t, foo, TREE_FILE, "/etc/ld.so.conf.d/foo.conf", "# foo\n/opt/foo/lib\n", 19, NULL);
	dirs(t, foo, "/opt/foo/lib");
	put(t, foo, TREE_FILE, "/opt/foo/lib/libz.so.1.2.13", libz->buf, libz->len, NULL);
	put(t, foo, TREE_SYMLINK, "/opt/foo/lib/libz.so.1", NULL, 0, "libz.so.1.2.13");
	dirs(t, bf, "/usr/lib");
	put(t, bf, TREE_FILE, "/usr/lib/os-release", "ID=debian\n", 10, NULL);
	return t;
}

int main(void)
{
	strbuf c1 = STRBUF_INIT, c2 = STRBUF_INIT, libz = STRBUF_INIT, sb = STRBUF_INIT;
	struct recipe r = { 0 };
	struct recipe_user u = { "app", 1000, 1000, NULL, NULL };
	struct recipe_path rp[2] = {
		{ RPATH_DIR, "/data", NULL, 0750, 1000, 1000, false },
		{ RPATH_PERMISSIONS, "/home/app", NULL, -1, 1000, 50, false },
	};
	struct lock_recipe lr = { 0 };
	struct build_ctx c = { 0 };
	struct tree_entry *ent;
	struct image_tree *t;
	perr e = { 0, "" };

	if (read_file("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", &c1, 0, &e) < 0 ||
	    read_file("/usr/share/ca-certificates/mozilla/ISRG_Root_X2.crt", &c2, 0, &e) < 0 ||
	    read_file("/lib/x86_64-linux-gnu/libz.so.1", &libz, 0, &e) < 0) {
		/* amd64 host with ca-certificates and zlib1g (tests/DEPS: curl, gcc) */
		printf("ok - # skip host certificates or amd64 libz missing: %s\n", e.msg);
		return 0;
	}
	r.name = "unit";
	r.users = &u, r.nusers = 1;
	r.paths = rp, r.npaths = 2;
	c.r = &r;
	c.lr = &lr;
	c.arch = "amd64";
	policy_init(&c.pol, &r);

	t = base_tree(&c1, &c2, &libz);
	c.tree = t;
	TAP_OK(builder_generate(&c, &e) == 0, "builder_generate succeeds (%s)", e.msg);
	TAP_STREQ(content(t, "/etc/passwd", &sb),
		  "root:x:0:0:root:/root:/sbin/nologin\n"
		  "app:x:1000:1000:app:/home/app:/sbin/nologin\n"
		  "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
		  "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n", "/etc/passwd");
	TAP_STREQ(content(t, "/etc/group", &sb),
		  "root:x:0:\napp:x:1000:\nnonroot:x:65532:\nnogroup:x:65534:\n", "/etc/group");
	ent = tree_get(t, "/home/nonroot");
	TAP_OK(ent && ent->type == TREE_DIR && ent->mode == 0700 && ent->uid == 65532 &&
	       ent->gid == 65532 && ent->pkg == -1, "/home/nonroot 0700 65532:65532, generated");
	ent = tree_get(t, "/home/app");
	TAP_OK(ent && ent->mode == 0700 && ent->uid == 1000 && ent->gid == 50,
	       "recipe permissions apply to a generated home");
	ent = tree_get(t, "/root");
	TAP_OK(ent && ent->mode == 0700 && ent->uid == 0, "/root 0700");
	ent = tree_get(t, "/tmp");
	TAP_OK(ent && ent->mode == 01777, "/tmp 1777");
	TAP_OK(!tree_get(t, "/nonexistent"), "no /nonexistent");
	ent = tree_get(t, "/data");
	TAP_OK(ent && ent->type == TREE_DIR && ent->mode == 0750 && ent->uid == 1000,
	       "recipe path directory");
	sb_reset(&sb);
	{
		strbuf want = STRBUF_INIT;
		sb_add(&want, c1.buf, c1.len);
		sb_add(&want, c2.buf, c2.len);
		TAP_STREQ(content(t, "/etc/ssl/certs/ca-certificates.crt", &sb), want.buf,
			  "CA bundle: both certificates, sorted by path");
		sb_release(&want);
	}
	ent = tree_get(t, "/etc/localtime");
	TAP_OK(ent && ent->type == TREE_SYMLINK && !strcmp(ent->target, "/usr/share/zoneinfo/UTC"),
	       "/etc/localtime -> /usr/share/zoneinfo/UTC");
	TAP_STREQ(content(t, "/etc/timezone", &sb), "Etc/UTC\n", "/etc/timezone");
	ent = tree_get(t, "/etc/os-release");
	TAP_OK(ent && ent->type == TREE_SYMLINK && !strcmp(ent->target, "../usr/lib/os-release"),
	       "/etc/os-release -> ../usr/lib/os-release");
	TAP_OK(content(t, "/etc/nsswitch.conf", &sb) && strstr(sb.buf, "hosts:          files dns"),
	       "nsswitch.conf generated");
	TAP_STREQ(content(t, "/var/lib/dpkg/status.d/tzdata", &sb),
		  "Package: tzdata\nStatus: install ok installed\nVersion: 2\n", "status.d/tzdata");
	TAP_OK(content(t, "/var/lib/dpkg/status.d/ca-certificates.md5sums", &sb) &&
	       strstr(sb.buf, "mozilla/B.crt"), "status.d/ca-certificates.md5sums");
	TAP_OK(!tree_get(t, "/var/lib/dpkg/status.d/tzdata.md5sums"), "no empty md5sums file");
	ent = tree_get(t, "/etc/ld.so.cache");
	TAP_OK(ent && ent->type == TREE_FILE, "ld.so.cache written for /opt/foo/lib");
	if (ent) {
		char file[] = "/tmp/pare-unit-gen-XXXXXX", line[512], *cmd;
		int fd = mkstemp(file);
		FILE *p;
		bool found = false;

		if (write(fd, ent->data, ent->size) != (ssize_t)ent->size)
			printf("# short write\n");
		close(fd);
		cmd = xasprintf("/sbin/ldconfig -C %s -p", file);
		p = popen(cmd, "r");
		while (p && fgets(line, sizeof(line), p))
			found |= strstr(line, "libz.so.1 (libc6,x86-64) => /opt/foo/lib/libz.so.1") != NULL;
		TAP_OK(p && pclose(p) == 0 && found,
		       "host ldconfig reads the cache: libz.so.1 => /opt/foo/lib/libz.so.1");
		unlink(file);
		free(cmd);
	}
	tree_free(t);

	/* a package shipping /etc/passwd */
	t = base_tree(&c1, &c2, &libz);
	dirs(t, 2, "/etc");
	put(t, 2, TREE_FILE, "/etc/passwd", "x", 1, NULL);
	c.tree = t;
	TAP_OK(builder_generate(&c, &e) < 0 && strstr(e.msg, "/etc/passwd") && strstr(e.msg, "libfoo"),
	       "package-shipped /etc/passwd is an error naming it (%s)", e.msg);
	tree_free(t);

	/* a broken certificate */
	sb_reset(&sb);
	sb_adds(&sb, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	t = base_tree(&c1, &sb, &libz);
	c.tree = t;
	TAP_OK(builder_generate(&c, &e) < 0 && strstr(e.msg, "mozilla/B.crt"),
	       "bad certificate fails naming it (%s)", e.msg);
	tree_free(t);

	/* a permissions path that is not in the image */
	rp[1].path = "/nowhere";
	t = base_tree(&c1, &c2, &libz);
	c.tree = t;
	TAP_OK(builder_generate(&c, &e) < 0 && strstr(e.msg, "/nowhere"),
	       "recipe permissions on a missing path fail (%s)", e.msg);
	tree_free(t);

	sv_clear(&c.roots); /* build_arch's to clear: the cache paths generate used */
	sb_release(&c1);
	sb_release(&c2);
	sb_release(&libz);
	sb_release(&sb);
	TAP_DONE();
}
