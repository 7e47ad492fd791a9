/*
 * unit-doclink.c - deb_copyright(): a package whose /usr/share/doc/PKG is a
 * symlink to a sibling's directory (Debian's dh_installdocs --link-doc) takes
 * the sibling's copyright only when the sibling is in the tree and built
 * from the same source package.
 */
#include "../../builder/builder_int.h"
#include "tap.h"
#include <stdlib.h>
#include <string.h>

static void pkg(struct image_tree *t, size_t i, const char *name, const char *source,
		const char *copyright, const char *doc_link)
{
	struct deb_pkg *p = &t->pkgs[i];

	p->name = xstrdup(name);
	p->source = xstrdup(source);
	p->copyright = copyright ? xstrdup(copyright) : NULL;
	p->doc_link = doc_link ? xstrdup(doc_link) : NULL;
}

int main(void)
{
	struct image_tree *t = tree_new();

	t->pkgs = xcalloc(6, sizeof(*t->pkgs));
	t->npkgs = t->pkgs_alloc = 6;
	pkg(t, 0, "gcc-12-base", "gcc-12", "GCC TEXT", NULL);
	pkg(t, 1, "libgcc-s1", "gcc-12", NULL, "gcc-12-base");
	pkg(t, 2, "libstdc++6", "gcc-12", NULL, "/usr/share/doc/gcc-12-base");
	pkg(t, 3, "evil", "other", NULL, "gcc-12-base");
	pkg(t, 4, "deep", "gcc-12", NULL, "../gcc-12-base/sub");
	pkg(t, 5, "absent", "gcc-12", NULL, "not-in-image");

	TAP_STREQ(deb_copyright(t, 0), "GCC TEXT", "own copyright");
	TAP_STREQ(deb_copyright(t, 1), "GCC TEXT", "relative link to a sibling of the same source");
	TAP_STREQ(deb_copyright(t, 2), "GCC TEXT", "absolute /usr/share/doc link");
	TAP_OK(deb_copyright(t, 3) == NULL, "link to another source's package: NOASSERTION");
	TAP_OK(deb_copyright(t, 4) == NULL, "link that is not a sibling directory: NOASSERTION");
	TAP_OK(deb_copyright(t, 5) == NULL, "link to a package not in the image: NOASSERTION");
	tree_free(t);
	TAP_DONE();
}
