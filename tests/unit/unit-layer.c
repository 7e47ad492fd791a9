/* unit-layer: deterministic layer tars, gzip/zstd reproducibility, digests, plan. */
#include "../../builder/builder_int.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[] = "/tmp/unit-layer.XXXXXX";

static struct image_tree *sample_tree(void)
{
	struct image_tree *t = tree_new();
	perr e;
	static const char big[] = "0123456789";
	strbuf sb = STRBUF_INIT;

	for (int i = 0; i < 20000; i++)
		sb_add(&sb, big, 10);
	tree_add_file(t, "/usr/bin/hello", "hello\n", 6, 0755, 0, 0, &e);
	tree_add_file(t, "/etc/zz", sb.buf, sb.len, 0644, 0, 0, &e);
	tree_add_dir(t, "/tmp", 01777, 0, 0, &e);
	tree_add_symlink(t, "/etc/alt", "../usr/bin/hello", &e);
	tree_add_file(t, "/home/nonroot/.profile", "x", 1, 0600, 65532, 65532, &e);
	tree_add_file(t, "/usr/share/a/very/long/path/name/that/is/certainly/longer/than/one/"
		      "hundred/characters/to/force/a/pax/extended/header/in/the/tar/file.txt",
		      "long", 4, 0644, 0, 0, &e);
	t->ents[0]->mtime = 1000; /* older than the epoch: kept */
	sb_release(&sb);
	return t;
}

static int read_blob(const char *path, strbuf *out)
{
	perr e;
	return read_file(path, out, 0, &e);
}

/* Decompress a blob with libarchive (raw format) into out. */
static int decompress(const strbuf *blob, strbuf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char buf[8192];
	la_ssize_t r;
	int ret = -1;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, blob->buf, blob->len) == ARCHIVE_OK &&
	    archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		while ((r = archive_read_data(a, buf, sizeof(buf))) > 0)
			sb_add(out, buf, (size_t)r);
		ret = r == 0 ? 0 : -1;
	}
	archive_read_free(a);
	return ret;
}

int main(void)
{
	struct image_tree *t;
	struct layer_opts o = { .compression = "gzip", .epoch = 1700000000 };
	struct layer_desc d1, d2, d3, dz1, dz2;
	strbuf b1 = STRBUF_INIT, b2 = STRBUF_INIT, tarb = STRBUF_INIT, zb = STRBUF_INIT;
	char *p1, *p2, *p3, *pz1, *pz2;
	char hex[SHA256_HEX_LEN + 1];
	perr e = { 0, "" };

	if (!mkdtemp(tmp))
		return 1;
	p1 = path_join(tmp, "l1"), p2 = path_join(tmp, "l2"), p3 = path_join(tmp, "l3");
	pz1 = path_join(tmp, "z1"), pz2 = path_join(tmp, "z2");

	t = sample_tree();
	TAP_OK(t->n == 6, "sample tree has 6 entries (%zu)", t->n);
	TAP_OK(layer_write(t, -1, &o, p1, &d1, &e) == 0, "gzip layer written %s", e.msg);
	sleep(1); /* a wall-clock timestamp would now differ */
	TAP_OK(layer_write(t, -1, &o, p2, &d2, &e) == 0, "second gzip layer written");
	read_blob(p1, &b1);
	read_blob(p2, &b2);
	TAP_OK(b1.len == b2.len && !memcmp(b1.buf, b2.buf, b1.len),
	       "two layers from the same entries are byte-identical");
	TAP_STREQ(d1.digest, d2.digest, "same digest");
	TAP_OK(b1.len > 10 && (unsigned char)b1.buf[0] == 0x1f &&
	       (unsigned char)b1.buf[1] == 0x8b, "blob is gzip");
	TAP_OK(b1.len > 10 && !b1.buf[4] && !b1.buf[5] && !b1.buf[6] && !b1.buf[7],
	       "gzip header has no timestamp");
	TAP_OK(b1.len > 10 && !(b1.buf[3] & 0x08), "gzip header has no file name");
	sha256_hex(b1.buf, b1.len, hex);
	TAP_OK(!strcmp(d1.digest + 7, hex), "digest is sha256 of the blob");
	TAP_OK(d1.size == b1.len, "size is the blob size");
	TAP_OK(decompress(&b1, &tarb) == 0, "blob decompresses");
	sha256_hex(tarb.buf, tarb.len, hex);
	TAP_OK(!strcmp(d1.diff_id + 7, hex), "diff_id is sha256 of the tar");
	TAP_STREQ(d1.media_type, "application/vnd.oci.image.layer.v1.tar+gzip", "gzip media type");

	/* Read the tar back: order, ids, modes, mtimes, parents. */
	{
		struct archive *a = archive_read_new();
		struct archive_entry *ae;
		strvec names = STRVEC_INIT;
		bool ok_ids = true, ok_mtime = true, ok_names = true, saw_old = false;
		int home_uid = -1, tmp_mode = -1;

		archive_read_support_format_tar(a);
		archive_read_open_memory(a, tarb.buf, tarb.len);
		while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
			const char *n = archive_entry_pathname(ae);

			sv_push_nodup(&names, xstrndup(n, strlen(n) - (str_ends(n, "/") ? 1 : 0)));
			if ((archive_entry_uname(ae) && *archive_entry_uname(ae)) ||
			    (archive_entry_gname(ae) && *archive_entry_gname(ae)))
				ok_names = false;
			if (archive_entry_atime_is_set(ae) || archive_entry_ctime_is_set(ae))
				ok_ids = false;
			if (archive_entry_mtime(ae) > o.epoch)
				ok_mtime = false;
			if (!strcmp(n, "usr/bin/hello") && archive_entry_mtime(ae) == 1000)
				saw_old = true;
			if (!strcmp(n, "home/nonroot/.profile"))
				home_uid = (int)archive_entry_uid(ae);
			if (!strcmp(n, "tmp") || !strcmp(n, "tmp/"))
				tmp_mode = (int)archive_entry_perm(ae);
		}
		archive_read_free(a);
		TAP_OK(ok_names, "no uname/gname in the tar");
		TAP_OK(ok_ids, "no atime/ctime in the tar");
		TAP_OK(ok_mtime, "mtimes clamped to SOURCE_DATE_EPOCH");
		TAP_OK(saw_old, "older mtime kept");
		TAP_OK(home_uid == 65532, "numeric uid kept (%d)", home_uid);
		TAP_OK(tmp_mode == 01777, "/tmp is 1777 (%o)", tmp_mode);
		TAP_OK(names.n == 34, "entries + implicit parents (%zu)", names.n);
		{
			bool sorted = true, parents = true;

			for (size_t i = 1; i < names.n; i++)
				if (strcmp(names.v[i - 1], names.v[i]) >= 0)
					sorted = false;
			TAP_OK(sorted, "entries sorted by path");
			TAP_OK(names.n > 2 && (!strcmp(names.v[0], "etc")) &&
			       sv_contains(&names, "usr") && sv_contains(&names, "usr/bin"),
			       "parents created (%s)", names.n ? names.v[0] : "");
			(void)parents;
		}
		sv_clear(&names);
	}

	/* A different epoch changes the bytes (the clamp is real). */
	o.epoch = 1500;
	layer_write(t, -1, &o, p3, &d3, &e);
	TAP_OK(strcmp(d3.digest, d1.digest), "a different epoch gives a different layer");
	o.epoch = 1700000000;

	o.compression = "zstd";
	TAP_OK(layer_write(t, -1, &o, pz1, &dz1, &e) == 0, "zstd layer written %s", e.msg);
	TAP_OK(layer_write(t, -1, &o, pz2, &dz2, &e) == 0, "zstd layer written again");
	TAP_STREQ(dz1.digest, dz2.digest, "zstd is reproducible");
	TAP_STREQ(dz1.diff_id, d1.diff_id, "same tar under gzip and zstd");
	TAP_STREQ(dz1.media_type, "application/vnd.oci.image.layer.v1.tar+zstd", "zstd media type");
	read_blob(pz1, &zb);
	TAP_OK(zb.len > 4 && (unsigned char)zb.buf[0] == 0x28 && (unsigned char)zb.buf[1] == 0xb5,
	       "blob is zstd");

	/* Hard links: whichever member sorts first carries the data. */
	{
		struct image_tree *h = tree_new();
		struct tree_entry *f = xcalloc(1, sizeof(*f)), *l = xcalloc(1, sizeof(*l));
		struct layer_desc dh;
		strbuf hb = STRBUF_INIT, ht = STRBUF_INIT;
		struct archive *a;
		struct archive_entry *ae;
		int nlinks = 0, ndata = 0;

		f->path = xstrdup("/usr/bin/zz");
		f->type = TREE_FILE;
		f->mode = 0755;
		f->data = (unsigned char *)xstrdup("data");
		f->size = 4;
		f->pkg = -1;
		f->layer = -1;
		l->path = xstrdup("/usr/bin/aa");
		l->type = TREE_HARDLINK;
		l->target = xstrdup("/usr/bin/zz");
		l->size = 4;
		l->mode = 0755;
		l->pkg = -1;
		l->layer = -1;
		tree_insert(h, f, &e);
		tree_insert(h, l, &e);
		o.compression = "gzip";
		TAP_OK(layer_write(h, -1, &o, p3, &dh, &e) == 0, "hard link layer");
		read_blob(p3, &hb);
		decompress(&hb, &ht);
		a = archive_read_new();
		archive_read_support_format_tar(a);
		archive_read_open_memory(a, ht.buf, ht.len);
		while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
			if (archive_entry_hardlink(ae)) {
				nlinks++;
				TAP_STREQ(archive_entry_pathname(ae), "usr/bin/zz", "later member is the link");
				TAP_STREQ(archive_entry_hardlink(ae), "usr/bin/aa", "to the first");
			} else if (archive_entry_size(ae) == 4) {
				ndata++;
			}
		}
		archive_read_free(a);
		TAP_OK(nlinks == 1 && ndata == 1, "one data member, one link");
		sb_release(&hb);
		sb_release(&ht);
		layer_desc_release(&dh);
		tree_free(h);
	}

	/* Many hard link groups (the map from a file to its group's first
	 * member grows and rehashes): each group's first member in path
	 * order carries the data, the others link to it. */
	{
		enum { NG = 5000 };
		struct image_tree *h = tree_new();
		struct layer_desc dh;
		strbuf hb = STRBUF_INIT, ht = STRBUF_INIT;
		struct archive *a;
		struct archive_entry *ae;
		int nlinks = 0, ndata = 0, bad = 0;

		for (int i = 0; i < NG; i++) {
			struct tree_entry *f = xcalloc(1, sizeof(*f));

			f->path = xasprintf("/usr/share/g/f%05d", i);
			f->type = TREE_FILE;
			f->mode = 0644;
			f->data = (unsigned char *)xasprintf("%05d", i);
			f->size = 5;
			f->pkg = f->layer = -1;
			tree_insert(h, f, &e);
			for (int k = 0; k < 2; k++) {
				struct tree_entry *l = xcalloc(1, sizeof(*l));

				l->path = xasprintf("/usr/share/g/%c%05d", k ? 'z' : 'a', i);
				l->type = TREE_HARDLINK;
				l->target = xasprintf("/usr/share/g/f%05d", i);
				l->size = 5;
				l->mode = 0644;
				l->pkg = l->layer = -1;
				tree_insert(h, l, &e);
			}
		}
		TAP_OK(layer_write(h, -1, &o, p3, &dh, &e) == 0, "%d hard link groups: layer written", NG);
		read_blob(p3, &hb);
		decompress(&hb, &ht);
		a = archive_read_new();
		archive_read_support_format_tar(a);
		archive_read_open_memory(a, ht.buf, ht.len);
		while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
			const char *pn = archive_entry_pathname(ae), *hl = archive_entry_hardlink(ae);

			if (archive_entry_filetype(ae) == AE_IFDIR)
				continue;
			if (hl) {
				nlinks++;
				/* usr/share/g/fNNNNN or zNNNNN -> usr/share/g/aNNNNN */
				bad += strlen(pn) != 18 || strncmp(hl, "usr/share/g/a", 13) ||
				       strcmp(hl + 13, pn + 13);
			} else {
				char got[5];

				ndata++;
				bad += strncmp(pn, "usr/share/g/a", 13) || archive_entry_size(ae) != 5;
				if (archive_read_data(a, got, 5) != 5 || strncmp(got, pn + 13, 5))
					bad++;
			}
		}
		archive_read_free(a);
		TAP_OK(ndata == NG && nlinks == 2 * NG && !bad,
		       "each group: the first member carries the data, two links to it (%d data, %d links, %d bad)",
		       ndata, nlinks, bad);
		sb_release(&hb);
		sb_release(&ht);
		layer_desc_release(&dh);
		tree_free(h);
	}

	/* Plan: group by source, merge smallest adjacent. */
	{
		struct lock_pkg pk[5] = { 0 };
		struct lock_arch la = { .arch = "amd64", .pkgs = pk, .npkgs = 5 };
		int g[5];
		size_t ng;

		pk[0].name = "a1", pk[0].source = "a", pk[0].size = 100;
		pk[1].name = "a2", pk[1].source = "a", pk[1].size = 100;
		pk[2].name = "b", pk[2].source = NULL, pk[2].size = 10;
		pk[3].name = "c", pk[3].source = "c", pk[3].size = 10;
		pk[4].name = "d", pk[4].source = "d", pk[4].size = 1000;
		ng = layer_plan(&la, 64, g);
		TAP_OK(ng == 4 && g[0] == 0 && g[1] == 0 && g[2] == 1 && g[3] == 2 && g[4] == 3,
		       "one layer per source, sorted by source");
		ng = layer_plan(&la, 3, g);
		TAP_OK(ng == 3 && g[0] == 0 && g[2] == 1 && g[3] == 1 && g[4] == 2,
		       "budget 3 merges the two smallest adjacent sources");
		ng = layer_plan(&la, 1, g);
		TAP_OK(ng == 1 && g[0] == 0 && g[4] == 0, "budget 1: one layer");
	}

	/* Layer cache key: every input changes it; the same inputs agree. */
	{
		struct recipe rc = { 0 };
		struct policy pol = { .r = &rc };
		struct layer_opts lo = { .compression = "gzip", .level = 6, .epoch = 100 };
		const char *debs[2] = { "aa", "bb" }, *rev[2] = { "bb", "aa" };
		const char *join[1] = { "aabb" };
		char k0[SHA256_HEX_LEN + 1], k[SHA256_HEX_LEN + 1];
		int differ = 0, tries = 0;

		layer_cache_key(&pol, &lo, "amd64", debs, 2, k0);
		layer_cache_key(&pol, &lo, "amd64", debs, 2, k);
		TAP_OK(strcmp(k0, k) == 0 && is_sha256_hex(k0), "cache key: same inputs, same key");
#define KEY_DIFFERS(stmt, undo) do { stmt; layer_cache_key(&pol, &lo, "amd64", debs, 2, k); \
		tries++; differ += strcmp(k0, k) != 0; undo; } while (0)
		KEY_DIFFERS(lo.compression = "zstd", lo.compression = "gzip");
		KEY_DIFFERS(lo.level = 9, lo.level = 6);
		KEY_DIFFERS(pol.allow_shell = true, pol.allow_shell = false);
		KEY_DIFFERS(sv_push(&rc.strip, "/usr/share/x*"), sv_clear(&rc.strip));
		KEY_DIFFERS(sv_push(&rc.keep, "/usr/share/x*"), sv_clear(&rc.keep));
		KEY_DIFFERS(sv_push(&rc.allow, "shell"), sv_clear(&rc.allow));
		{
			struct recipe_path rp = { .path = "/etc/x", .mode = 0600, .uid = -1, .gid = -1 };

			KEY_DIFFERS((rc.paths = &rp, rc.npaths = 1), (rc.paths = NULL, rc.npaths = 0));
		}
#undef KEY_DIFFERS
		TAP_OK(differ == tries, "cache key: policy, compression, level all count");
		lo.epoch = 101;
		layer_cache_key(&pol, &lo, "amd64", debs, 2, k);
		lo.epoch = 100;
		TAP_OK(strcmp(k0, k) == 0,
		       "cache key: not the epoch (the entry records it, t-layercache checks reuse)");
		layer_cache_key(&pol, &lo, "arm64", debs, 2, k);
		TAP_OK(strcmp(k0, k) != 0, "cache key: arch counts");
		layer_cache_key(&pol, &lo, "amd64", rev, 2, k);
		TAP_OK(strcmp(k0, k) != 0, "cache key: .deb order counts");
		layer_cache_key(&pol, &lo, "amd64", join, 1, k);
		TAP_OK(strcmp(k0, k) != 0, "cache key: field boundaries are unambiguous");
		layer_cache_key(&pol, &lo, "amd64", debs, 2, k);
		TAP_OK(strcmp(k0, k) == 0, "cache key: back to the start after undoing every change");
	}

	layer_desc_release(&d1), layer_desc_release(&d2), layer_desc_release(&d3);
	layer_desc_release(&dz1), layer_desc_release(&dz2);
	sb_release(&b1), sb_release(&b2), sb_release(&tarb), sb_release(&zb);
	tree_free(t);
	rm_rf(tmp, &e);
	free(p1), free(p2), free(p3), free(pz1), free(pz2);
	TAP_DONE();
}
