/*
 * fuzz-deb.c - a .deb from a mirror, the most hostile input pare reads.
 *
 * The bytes are "a .deb whose sha256 matched the lock" (the fetch checks the
 * hash before anything reads the file; nothing else is bypassed): they go
 * through what build_arch does with it, deb_decode (ar, control.tar,
 * data.tar.{xz,zst,gz,bz2,none} via libarchive, control paragraph, md5sums,
 * strip policy, digests, ELF) and deb_insert (hard links, hardening, layer
 * record, overlap rules) into a tree that already holds pare's merged-/usr
 * links and an earlier package "base" (directories, a file, a symlink into
 * the tree) to collide with.  The package is "fuzz" in the lock: the seeds
 * (tests/fuzz/seeds/deb, made by tests/fuzz/mkseeds-deb) all say so.
 *
 * Invariant: success, or failure with a message naming the package; never a
 * crash, leak, hang, UB or unbounded memory.  On success the layer record
 * written on the way must be one a warm build can read back (lmeta_parse +
 * lmeta_apply onto the same base), giving the same live entries, and the
 * package's entries must make a layer (layer_write_ents, zstd) -- what the
 * tree accepts, the layer writer must be able to write.  Seeds that the
 * fuzzer found are tests/fuzz/seeds/deb/found-*.
 */
#define _GNU_SOURCE
#include "../../builder/builder_int.h"

#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed);

static struct recipe *recipe;
static struct policy pol;
static struct lock_pkg lps[2];
static int fd = -1;
static char debpath[64];
static char tmpdir[] = "/tmp/pare-fuzz-deb-XXXXXX";
static char *blob;
static bool verbose; /* FUZZ_DEB_VERBOSE=1: print each result (to check the seeds) */

/* A recipe with every knob deb.c and policy.c read: strip / keep globs,
 * `paths` permissions (one gives a system path to uid 1000), allow (setuid
 * and nonroot-system-dirs only: shells and package managers stay refused). */
static const char recipe_yaml[] =
	"name: fuzz\n"
	"packages: [fuzz]\n"
	"paths:\n"
	"  - {path: /usr/bin/fuzz, type: permissions, mode: '0750', uid: 1000, gid: 1000}\n"
	"  - {path: /var/lib/fuzz, type: permissions, mode: '0700', uid: 1000, recursive: true}\n"
	"strip: ['/opt/strip/*', '/usr/lib/*.la']\n"
	"keep: ['/usr/share/doc/fuzz/keep*']\n"
	"allow: [setuid, nonroot-system-dirs]\n";

static void cleanup(void)
{
	perr e;

	rm_rf(tmpdir, &e);
	free(blob);
	recipe_free(recipe);
	if (fd >= 0)
		close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	perr e = { 0, "" };

	(void)argc;
	(void)argv;
	/* as pare's main: names go through the locale's charset */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	recipe = recipe_load_buf("fuzz.yaml", recipe_yaml, strlen(recipe_yaml), &e);
	if (!recipe)
		die("fuzz-deb: recipe: %s", e.msg);
	policy_init(&pol, recipe);
	pol.ca_bundle = true; /* stripped certificates keep their content */
	lps[0].name = "base";
	lps[0].version = "1";
	lps[1].name = "fuzz";
	lps[1].version = "1.0";
	lps[1].source = "fuzz-src";
	/* KiB, as the index says: content is bounded by twice this + 16 MiB */
	lps[1].installed_size = 1024;
	/* deb_decode reads a path (libarchive, then the SHA-512): a memfd
	 * keeps it off the disk */
	fd = memfd_create("fuzz.deb", 0);
	if (fd < 0)
		die("fuzz-deb: memfd_create: %s", strerror(errno));
	snprintf(debpath, sizeof(debpath), "/proc/self/fd/%d", fd);
	verbose = getenv("FUZZ_DEB_VERBOSE") != NULL;
	if (!mkdtemp(tmpdir))
		die("fuzz-deb: mkdtemp: %s", strerror(errno));
	blob = path_join(tmpdir, "layer");
	atexit(cleanup);
	return 0;
}

static void put(struct image_tree *t, const char *path, enum tree_type ty, const char *target,
		int pkg)
{
	struct tree_entry *ent = xcalloc(1, sizeof(*ent));
	perr e = { 0, "" };

	ent->path = xstrdup(path);
	ent->type = ty;
	ent->mode = ty == TREE_DIR ? 0755 : ty == TREE_SYMLINK ? 0777 : 0644;
	ent->target = target ? xstrdup(target) : NULL;
	ent->pkg = pkg;
	ent->layer = pkg;
	if (ty == TREE_FILE) {
		ent->data = (unsigned char *)xstrdup("base\n");
		ent->size = 5;
		sha256_hex(ent->data, ent->size, ent->sha256);
	}
	if (tree_insert(t, ent, &e) < 0)
		die("fuzz-deb: base tree: %s", e.msg);
}

/* What build_arch has before the package: merged-/usr links (add_usrmerge)
 * and an earlier package in layer 0. */
static struct image_tree *base_tree(void)
{
	struct image_tree *t = tree_new();

	for (size_t i = 0; policy_usrmerge_dirs[i]; i++) {
		char *p = xasprintf("/%s", policy_usrmerge_dirs[i]);
		char *tg = xasprintf("usr/%s", policy_usrmerge_dirs[i]);

		put(t, p, TREE_SYMLINK, tg, -1);
		free(p);
		free(tg);
	}
	t->pkgs = xcalloc(2, sizeof(*t->pkgs));
	t->npkgs = t->pkgs_alloc = 2;
	t->pkgs[0].lp = &lps[0];
	t->pkgs[0].name = xstrdup("base");
	t->pkgs[0].version = xstrdup("1");
	t->pkgs[0].arch = xstrdup("all");
	sv_push(&t->pkgs[0].provides, "base-virtual");
	/* a sibling whose copyright a /usr/share/doc/fuzz -> base link borrows */
	t->pkgs[0].source = xstrdup("fuzz-src");
	t->pkgs[0].copyright = xstrdup("Files: *\nLicense: MIT\n");
	t->pkgs[1].lp = &lps[1];
	t->pkgs[1].layer = 1;
	put(t, "/etc", TREE_DIR, NULL, 0);
	put(t, "/etc/base.conf", TREE_FILE, NULL, 0);
	put(t, "/usr", TREE_DIR, NULL, 0);
	put(t, "/usr/bin", TREE_DIR, NULL, 0);
	put(t, "/usr/bin/base", TREE_FILE, NULL, 0);
	put(t, "/usr/lib", TREE_DIR, NULL, 0);
	put(t, "/usr/lib/alt", TREE_SYMLINK, "../bin", 0);
	return t;
}

static int cmp_ent(const struct tree_entry *a, const struct tree_entry *b)
{
	return strcmp(a->path, b->path) || a->type != b->type || a->mode != b->mode ||
	       a->uid != b->uid || a->gid != b->gid || a->size != b->size ||
	       a->pkg != b->pkg || a->layer != b->layer ||
	       strcmp(a->sha256, b->sha256) ||
	       strcmp(a->target ? a->target : "", b->target ? b->target : "");
}

/* The warm build's view of the package (its layer record) is the cold one's. */
static void check_record(const struct image_tree *cold, const strbuf *rec)
{
	struct lmeta *m = lmeta_parse(rec->buf, rec->len, 1);
	struct image_tree *warm;
	struct tree_entry **a, **b;
	size_t na, nb;
	int idx = 1;
	perr e = { 0, "" };

	if (!m) {
		fprintf(stderr, "fuzz-deb: the layer record does not parse\n");
		abort();
	}
	warm = base_tree();
	if (lmeta_apply(warm, m, &idx, &e) < 0) {
		fprintf(stderr, "fuzz-deb: the layer record does not apply: %s\n", e.msg);
		abort();
	}
	a = tree_sorted(cold, &na);
	b = tree_sorted(warm, &nb);
	if (na != nb) {
		fprintf(stderr, "fuzz-deb: %zu entries cold, %zu warm\n", na, nb);
		abort();
	}
	for (size_t i = 0; i < na; i++)
		if (cmp_ent(a[i], b[i])) {
			fprintf(stderr, "fuzz-deb: %s differs between cold and warm\n", a[i]->path);
			abort();
		}
	if (strcmp(cold->pkgs[1].md5sums, warm->pkgs[1].md5sums) ||
	    strcmp(cold->pkgs[1].deb_sha512, warm->pkgs[1].deb_sha512)) {
		fprintf(stderr, "fuzz-deb: package metadata differs between cold and warm\n");
		abort();
	}
	free(a);
	free(b);
	tree_free(warm);
}

/* ---- the mutator: keep uncompressed tars readable -------------------------
 *
 * A byte flipped in a tar header almost always breaks its checksum, and
 * libarchive then stops at "damaged tar archive" before any of pare's checks
 * see the entry.  After libFuzzer's own mutation, every 512-byte block of an
 * uncompressed control.tar / data.tar member that looks like a header
 * ("ustar" magic) gets its checksum recomputed, and a last ar member that
 * claims more bytes than there are is cut to what there is, so that mutated
 * names, link targets, types, modes and sizes reach deb.c and policy.c. */

static void tar_fix(uint8_t *t, size_t n)
{
	for (size_t off = 0; off + 512 <= n; off += 512) {
		uint8_t *h = t + off;
		unsigned sum = 0;

		if (memcmp(h + 257, "ustar", 5))
			continue;
		memset(h + 148, ' ', 8);
		for (size_t i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
		h[155] = ' ';
	}
}

static void deb_fix(uint8_t *d, size_t n)
{
	size_t off = 8;

	if (n < 8 || memcmp(d, "!<arch>\n", 8))
		return;
	while (off + 60 <= n) {
		uint8_t *h = d + off;
		char name[17], num[11];
		size_t len, left = n - off - 60;
		char *end;

		memcpy(name, h, 16);
		name[16] = '\0';
		for (size_t i = 16; i > 0 && (name[i - 1] == ' ' || name[i - 1] == '/'); i--)
			name[i - 1] = '\0';
		memcpy(num, h + 48, 10);
		num[10] = '\0';
		len = strtoul(num, &end, 10);
		if (end == num)
			return;
		if (len > left) {
			len = left;
			snprintf(num, sizeof(num), "%-10zu", len);
			memcpy(h + 48, num, 10);
		}
		if (!strcmp(name, "control.tar") || !strcmp(name, "data.tar"))
			tar_fix(h + 60, len);
		off += 60 + len + (len & 1);
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed)
{
	(void)seed; /* LLVMFuzzerMutate draws from libFuzzer's own generator */
	size = LLVMFuzzerMutate(data, size, max);
	deb_fix(data, size);
	return size;
}

/* Whether msg names the package "fuzz" as a word ("fuzz: …", "… in fuzz",
 * "both base and fuzz (…)"), not as part of a path such as /var/lib/fuzz. */
static bool names_package(const char *msg)
{
	for (const char *p = strstr(msg, "fuzz"); p; p = strstr(p + 1, "fuzz")) {
		char before = p == msg ? ' ' : p[-1], after = p[4];

		if ((before == ' ' || before == '(') &&
		    (after == ':' || after == ' ' || after == ')' || after == '\0'))
			return true;
	}
	return false;
}

/* What a layer writer does next with the package's entries (zstd: no
 * threads): everything the tree took must make a layer. */
static void write_layer(const struct image_tree *t)
{
	struct layer_opts lo = { "zstd", 1, 1700000000, &pol };
	struct tree_entry **ents = xcalloc(t->n + 1, sizeof(*ents));
	struct layer_desc ld;
	size_t n = 0;
	perr e = { 0, "" };

	for (size_t i = 0; i < t->n; i++)
		if (!t->ents[i]->removed && t->ents[i]->pkg == 1)
			ents[n++] = t->ents[i];
	if (layer_write_ents(NULL, ents, n, &lo, blob, &ld, &e) < 0) {
		fprintf(stderr, "fuzz-deb: the layer of an accepted package: %s\n", e.msg);
		abort();
	}
	layer_desc_release(&ld);
	free(ents);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_tree *t;
	struct deb_decoded d;
	strbuf rec = STRBUF_INIT;
	perr e = { 0, "" };

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		die("fuzz-deb: writing the .deb: %s", strerror(errno));
	t = base_tree();
	deb_decode(&lps[1], 1, 1, debpath, &pol, &d);
	lmeta_begin(&rec);
	if (deb_insert(t, 1, &d, &pol, &rec, &e) < 0) {
		/* every failure explains itself and names the package */
		if (!names_package(e.msg)) {
			fprintf(stderr, "fuzz-deb: failure without the package's name: '%s'\n",
				e.msg);
			abort();
		}
		if (verbose)
			fprintf(stderr, "fuzz-deb: error: %s\n", e.msg);
	} else {
		check_record(t, &rec);
		write_layer(t);
		/* the SBOM's licence text: own, or through the doc link */
		if (deb_copyright_owner(t, 1) >= 0 && !deb_copyright(t, 1))
			abort();
		if (verbose)
			fprintf(stderr, "fuzz-deb: ok, %zu entries\n", t->n);
	}
	deb_decoded_release(&d);
	sb_release(&rec);
	tree_free(t);
	return 0;
}
