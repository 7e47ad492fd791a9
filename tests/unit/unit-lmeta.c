/* unit-lmeta: layer metadata records (layercache.c) round-trip into the same
 * tree, and a damaged record (any truncation, any flipped byte) is refused or
 * parsed safely, never read out of bounds (run under ASan by make check). */
#include "../../builder/builder_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const char control[] =
	"Package: libx\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: T <t@example.org>\n"
	"Replaces: liby (<< 1)\nProvides: libx-virtual\nDescription: x\n";

static struct tree_entry *ent(const char *path, enum tree_type ty, const char *target,
			      const char *data)
{
	struct tree_entry *x = xcalloc(1, sizeof(*x));

	x->path = xstrdup(path);
	x->type = ty;
	x->mode = ty == TREE_DIR ? 0755 : 0644;
	x->mtime = 1700000000;
	x->target = target ? xstrdup(target) : NULL;
	if (data) {
		x->size = strlen(data);
		x->data = (unsigned char *)xstrdup(data);
		sha256_hex(data, x->size, x->sha256);
		memset(x->sha1, 'a', SHA1_HEX_LEN);
		x->elf = ELF_NONE;
	}
	return x;
}

/* A one-package record: control, four entries, trailer. */
static void make_record(strbuf *rec)
{
	struct deb_pkg p = { 0 };
	struct tree_entry *es[5];

	p.control = (char *)control;
	p.md5sums = (char *)"d41d8cd98f00b204e9800998ecf8427e  usr/lib/libx.so.1\n";
	p.copyright = (char *)"Copyright: me\n";
	memset(p.deb_sha512, 'b', SHA512_HEX_LEN);
	es[0] = ent("/usr", TREE_DIR, NULL, NULL);
	es[1] = ent("/usr/lib/libx.so.1", TREE_FILE, NULL, "\177ELF-not-really");
	es[1]->elf = ELF_SONAME;
	es[1]->soname = xstrdup("libx.so.1");
	es[1]->needed = xstrdup("libc.so.6\nlibz.so.1");
	es[1]->runpath = xstrdup("$ORIGIN/../lib");
	es[2] = ent("/usr/lib/libx.so", TREE_SYMLINK, "libx.so.1", NULL);
	es[3] = ent("/usr/share/ca-certificates/x/a.crt", TREE_FILE, NULL, "PEM");
	es[4] = ent("/usr/lib/libx-hard.so.1", TREE_HARDLINK, "/usr/lib/libx.so.1", NULL);
	lmeta_begin(rec);
	lmeta_put_pkg(rec, &p);
	for (size_t i = 0; i < 5; i++) {
		lmeta_put_entry(rec, es[i]);
		tree_entry_free(es[i]);
	}
	{
		struct tree_stripped s = { (char *)"/usr/lib/libgone.so.1", (char *)"/usr/lib/libgone*",
					   0, NULL, 0 };
		lmeta_put_stripped(rec, &s);
		s.path = (char *)"/usr/share/ca-certificates/x/b.crt";
		s.rule = (char *)"/usr/share/ca-certificates/*.crt";
		s.data = (unsigned char *)"PEM2";
		s.size = 4;
		lmeta_put_stripped(rec, &s);
	}
	lmeta_put_pkg_end(rec, &p);
}

int main(void)
{
	strbuf rec = STRBUF_INIT;
	struct lmeta *m;
	struct image_tree *t;
	struct lock_pkg lp = { .name = "libx", .version = "1.0-1" };
	int idx = 0;
	const struct tree_entry *x;
	size_t ok_flips = 0;
	perr e = { 0 };

	make_record(&rec);
	TAP_OK(lmeta_parse(rec.buf, rec.len, 2) == NULL, "a record with another package count is refused");
	m = lmeta_parse(rec.buf, rec.len, 1);
	TAP_OK(m != NULL, "the record parses");
	t = tree_new();
	t->pkgs = xcalloc(1, sizeof(*t->pkgs));
	t->npkgs = t->pkgs_alloc = 1;
	t->pkgs[0].lp = &lp;
	t->pkgs[0].layer = 3;
	TAP_OK(m && lmeta_apply(t, m, &idx, &e) == 0, "applied to a tree (%s)", e.msg);
	TAP_STREQ(t->pkgs[0].name, "libx", "control parsed again: name");
	TAP_OK(sv_contains(&t->pkgs[0].replaces, "liby") &&
	       sv_contains(&t->pkgs[0].provides, "libx-virtual"), "Replaces / Provides restored");
	TAP_STREQ(t->pkgs[0].copyright, "Copyright: me\n", "copyright restored");
	TAP_OK(t->pkgs[0].deb_sha512[0] == 'b' && strlen(t->pkgs[0].deb_sha512) == SHA512_HEX_LEN,
	       ".deb SHA-512 restored");
	TAP_STREQ(t->pkgs[0].source, "libx", "source defaults to the package name");
	x = tree_get(t, "/usr/lib/libx.so.1");
	TAP_OK(x && x->type == TREE_FILE && x->elf == ELF_SONAME && !strcmp(x->soname, "libx.so.1") &&
	       x->pkg == 0 && x->layer == 3 && !x->data && x->size == 15,
	       "file: soname, owner and layer restored, content not stored");
	TAP_OK(x && x->needed && !strcmp(x->needed, "libc.so.6\nlibz.so.1") && x->runpath &&
	       !strcmp(x->runpath, "$ORIGIN/../lib"), "file: DT_NEEDED and run path restored");
	TAP_OK(t->nstripped == 2 && !strcmp(t->stripped[0].path, "/usr/lib/libgone.so.1") &&
	       !strcmp(t->stripped[0].rule, "/usr/lib/libgone*") && t->stripped[0].pkg == 0 &&
	       !t->stripped[0].data && t->stripped[1].size == 4 &&
	       !memcmp(t->stripped[1].data, "PEM2", 4),
	       "stripped entries restored: path, rule, package; a certificate with its content");
	x = tree_get(t, "/usr/share/ca-certificates/x/a.crt");
	TAP_OK(x && x->data && x->size == 3 && !memcmp(x->data, "PEM", 3),
	       "a CA certificate keeps its content");
	x = tree_get(t, "/usr/lib/libx.so");
	TAP_OK(x && x->type == TREE_SYMLINK && !strcmp(x->target, "libx.so.1"), "symlink restored");
	x = tree_get(t, "/usr/lib/libx-hard.so.1");
	TAP_OK(x && x->type == TREE_HARDLINK && !strcmp(x->target, "/usr/lib/libx.so.1"),
	       "hard link restored");
	tree_free(t);

	/* Every proper prefix is refused (the record is verified by its digest
	 * before parsing; this is the second line of defence). */
	{
		bool all = true;

		for (size_t n = 0; n < rec.len; n++) {
			struct lmeta *p = lmeta_parse(rec.buf, n, 1);

			if (p) {
				all = false;
				lmeta_free(p);
			}
		}
		TAP_OK(all, "every truncation of the record is refused (%zu tried)", rec.len);
	}
	/* Flipped bytes: refused or parsed, never a crash or an overread. */
	for (size_t i = 0; i < rec.len; i++) {
		char *copy = xmalloc(rec.len);
		struct lmeta *p;

		memcpy(copy, rec.buf, rec.len);
		copy[i] ^= 0x5a;
		p = lmeta_parse(copy, rec.len, 1);
		ok_flips += p != NULL;
		lmeta_free(p);
		free(copy);
	}
	TAP_OK(ok_flips < rec.len, "flipped bytes: %zu of %zu records still parse, none crashes",
	       ok_flips, rec.len);
	sb_release(&rec);
	TAP_DONE();
}
