/*
 * layer.c - deterministic layer blobs.
 *
 * A layer is a PAX-restricted tar (numeric ids only, mtime clamped to
 * SOURCE_DATE_EPOCH, no atime/ctime, entries sorted by path, parents before
 * children) compressed with gzip (no name, no timestamp) or zstd.  Both
 * digests are computed while streaming: the tar writer's output callback
 * hashes the uncompressed bytes (diff_id) and feeds them to the compressor
 * -- pgzip.c for gzip (1 MiB members deflated on every core, same bytes for any
 * thread count), or a second libarchive writer in "raw" format with the
 * zstd filter -- whose output callback hashes the compressed bytes (digest)
 * and writes the blob.
 */
#include "builder_int.h"
#include "../oci/oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *layer_media_type(const char *compression)
{
	if (compression && !strcmp(compression, "zstd"))
		return OCI_MT_LAYER_ZSTD;
	return OCI_MT_LAYER_GZIP;
}

void layer_desc_release(struct layer_desc *d)
{
	free(d->blob);
	free(d->comment);
	memset(d, 0, sizeof(*d));
}

struct sink {
	FILE *fp;
	phash *h;
	uint64_t size;
	bool failed;
};

struct tee {
	struct archive *z; /* raw writer with the zstd filter, or */
	struct pgz *gz;    /* the gzip writer */
	perr gzerr;
	phash *h;
};

static la_ssize_t sink_write(struct archive *a, void *cd, const void *buf, size_t n)
{
	struct sink *s = cd;

	if (fwrite(buf, 1, n, s->fp) != n) {
		archive_set_error(a, errno, "cannot write: %s", strerror(errno));
		s->failed = true;
		return -1;
	}
	phash_update(s->h, buf, n);
	s->size += n;
	return (la_ssize_t)n;
}

static int sink_gz(void *cd, const void *buf, size_t n, perr *e)
{
	struct sink *s = cd;

	if (fwrite(buf, 1, n, s->fp) != n) {
		s->failed = true;
		return perr_errno(e, "cannot write");
	}
	phash_update(s->h, buf, n);
	s->size += n;
	return 0;
}

static la_ssize_t tee_write(struct archive *a, void *cd, const void *buf, size_t n)
{
	struct tee *t = cd;
	la_ssize_t r;

	phash_update(t->h, buf, n);
	if (t->gz) {
		if (pgz_write(t->gz, buf, n, &t->gzerr)) {
			archive_set_error(a, EIO, "%s", t->gzerr.msg);
			return -1;
		}
		return (la_ssize_t)n;
	}
	r = archive_write_data(t->z, buf, n);
	if (r < 0 || (size_t)r != n) {
		archive_set_error(a, archive_errno(t->z), "%s",
				  archive_error_string(t->z) ? archive_error_string(t->z)
							      : "compression failed");
		return -1;
	}
	return (la_ssize_t)n;
}

/* One entry in the order written: either a tree entry or an implicit parent. */
struct item {
	const char *path;
	const struct tree_entry *ent; /* NULL: implicit directory */
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	/* Same path twice (a directory shared by two packages of the
	 * layer): explicit before implicit; the first one is written. */
	return (x->ent == NULL) - (y->ent == NULL);
}

static bool in_layer(const struct tree_entry *ent, int layer)
{
	if (ent->removed)
		return false;
	return layer < 0 ? ent->pkg < 0 : (ent->pkg >= 0 && ent->layer == layer);
}

/* Hard link groups: the first member written carries the data.  Open
 * addressing from the group's key (the file's path) to the first member's
 * path: every regular file looks itself up, so a linear list made 100k
 * files quadratic. */
struct hlmap {
	const char **key, **first;
	size_t n, cap; /* cap: 0 or a power of two, at most half full */
};

static size_t hl_slot(const char *const *keys, size_t cap, const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	size_t i;

	for (const char *s = key; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (i = (size_t)h & (cap - 1); keys[i] && strcmp(keys[i], key); i = (i + 1) & (cap - 1))
		;
	return i;
}

static const char *hl_first(const struct hlmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = hl_slot(m->key, m->cap, key);
	return m->key[i] ? m->first[i] : NULL;
}

static void hl_put(struct hlmap *m, const char *key, const char *first)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		const char **key2 = xcalloc(cap, sizeof(*key2)), **first2 = xcalloc(cap, sizeof(*first2));

		for (size_t k = 0; k < m->cap; k++)
			if (m->key[k]) {
				i = hl_slot(key2, cap, m->key[k]);
				key2[i] = m->key[k];
				first2[i] = m->first[k];
			}
		free(m->key);
		free(m->first);
		m->key = key2;
		m->first = first2;
		m->cap = cap;
	}
	i = hl_slot(m->key, m->cap, key);
	if (!m->key[i])
		m->n++;
	m->key[i] = key;
	m->first[i] = first;
}

/* The live entry at path among the sorted items (a hard link's target is
 * in the same layer: deb.c refuses anything else). */
static const struct tree_entry *item_entry(const struct item *items, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(items[mid].path, path);

		if (c == 0) /* explicit entries sort before implicit ones */
			return items[mid].ent;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int layer_write(const struct image_tree *t, int layer, const struct layer_opts *o,
		const char *path, struct layer_desc *out, perr *e)
{
	struct tree_entry **ents = xcalloc(t->n + 1, sizeof(*ents));
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < t->n; i++)
		if (in_layer(t->ents[i], layer))
			ents[n++] = t->ents[i];
	ret = layer_write_ents(layer < 0 ? t : NULL, ents, n, o, path, out, e);
	free(ents);
	return ret;
}

int layer_write_ents(const struct image_tree *t, struct tree_entry *const *ents, size_t nents,
		     const struct layer_opts *o, const char *path, struct layer_desc *out,
		     perr *e)
{
	struct item *items = NULL;
	size_t n = 0, alloc = 0;
	strvec parents = STRVEC_INIT;
	struct archive *tar = NULL, *z = NULL;
	struct archive_entry *ae = NULL;
	struct sink sink = { 0 };
	struct tee tee = { 0 };
	struct hlmap hl = { 0 }, dirs = { 0 };
	char hex[SHA256_HEX_LEN + 1];
	bool zstd = o->compression && !strcmp(o->compression, "zstd");
	const char *prev = NULL;
	unsigned char *sbuf = NULL; /* spilled contents pass through it */
	int64_t implied;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nents; i++) {
		const struct tree_entry *ent = ents[i];

		ALLOC_GROW(items, n + 1, alloc);
		items[n].path = ent->path;
		items[n++].ent = ent;
		/* its parents, deepest first, up to one already known (then
		 * so are the ones above it): every directory once, not every
		 * prefix of every path (256 levels of 4 KiB paths, each) */
		for (size_t k = strlen(ent->path); k-- > 1;) {
			char *dir;

			if (ent->path[k] != '/')
				continue;
			dir = xstrndup(ent->path, k);
			if (hl_first(&dirs, dir)) {
				free(dir);
				break;
			}
			hl_put(&dirs, dir, dir);
			sv_push_nodup(&parents, dir);
		}
	}
	sv_sort(&parents);
	for (size_t i = 0; i < parents.n; i++) {
		ALLOC_GROW(items, n + 1, alloc);
		items[n].path = parents.v[i];
		items[n++].ent = NULL;
	}
	if (n)
		qsort(items, n, sizeof(*items), cmp_item);
	/* Directories the layer only implies get the layer's newest (clamped)
	 * mtime, not the epoch itself, so that a package layer whose files all
	 * predate the epoch is the same whatever the epoch (see max_mtime). */
	out->max_mtime = INT64_MIN;
	for (size_t i = 0; i < n; i++)
		if (items[i].ent && items[i].ent->mtime > out->max_mtime)
			out->max_mtime = items[i].ent->mtime;
	implied = out->max_mtime < o->epoch ? (out->max_mtime < 0 ? 0 : out->max_mtime) : o->epoch;

	sink.fp = fopen(path, "wb");
	if (!sink.fp) {
		perr_errno(e, "cannot create %s", path);
		goto out;
	}
	sink.h = phash_new("sha256");
	tee.h = phash_new("sha256");

	if (!zstd) {
		tee.gz = pgz_new(o->level, builder_nthreads(), sink_gz, &sink, e);
		if (!tee.gz)
			goto out;
	} else {
		z = archive_write_new();
		archive_write_set_format_raw(z);
		archive_write_add_filter_zstd(z);
		if (o->level) {
			char lv[16];

			snprintf(lv, sizeof(lv), "%d", o->level);
			if (archive_write_set_filter_option(z, NULL, "compression-level", lv) !=
			    ARCHIVE_OK) {
				perr_set(e, "compression level %d: %s", o->level,
					 archive_error_string(z));
				goto out;
			}
		}
		/* No block padding after the compressed stream. */
		archive_write_set_bytes_per_block(z, 0);
		if (archive_write_open(z, &sink, NULL, sink_write, NULL) != ARCHIVE_OK) {
			perr_set(e, "%s: %s", path, archive_error_string(z));
			goto out;
		}
		ae = archive_entry_new();
		archive_entry_set_pathname(ae, "layer.tar");
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		if (archive_write_header(z, ae) != ARCHIVE_OK) {
			perr_set(e, "%s: %s", path, archive_error_string(z));
			goto out;
		}
		tee.z = z;
	}
	if (!ae)
		ae = archive_entry_new();

	tar = archive_write_new();
	archive_write_set_format_pax_restricted(tar);
	/* no padding of the end to tar's 10 KiB records: the two zero blocks
	 * end the archive for every reader, the rest is bytes in the image
	 * (about 5 KiB a layer) */
	archive_write_set_bytes_in_last_block(tar, 1);
	if (archive_write_open(tar, &tee, NULL, tee_write, NULL) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", path, archive_error_string(tar));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct item *it = &items[i];
		const struct tree_entry *ent = it->ent;
		const struct tree_entry *src = NULL; /* the content's holder */
		uint64_t size = 0;
		int64_t mtime = ent ? o->epoch : implied;

		if (prev && !strcmp(prev, it->path))
			continue; /* shared directory: first copy only */
		prev = it->path;
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, it->path + 1);
		if (ent && ent->mtime < o->epoch)
			mtime = ent->mtime < 0 ? 0 : ent->mtime;
		archive_entry_set_mtime(ae, mtime, 0);
		if (!ent) {
			const struct tree_entry *known = t ? tree_get(t, it->path) : NULL;
			int mode = 0755;
			int64_t uid = 0, gid = 0, u, g;

			/* Top layer: repeat the metadata the directory already
			 * has, so the overlay does not reset it.  Package layers
			 * must not depend on other layers: 0755 root, plus the
			 * recipe's permissions. */
			if (known && known->type == TREE_DIR) {
				mode = (int)known->mode;
				uid = known->uid;
				gid = known->gid;
			} else if (o->pol) {
				policy_path_perms(o->pol, it->path, &mode, &u, &g);
				if (mode < 0)
					mode = 0755;
				mode &= 07777;
				uid = u < 0 ? 0 : u;
				gid = g < 0 ? 0 : g;
			}
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, (mode_t)mode);
			archive_entry_set_uid(ae, uid);
			archive_entry_set_gid(ae, gid);
		} else {
			archive_entry_set_perm(ae, ent->mode);
			archive_entry_set_uid(ae, ent->uid);
			archive_entry_set_gid(ae, ent->gid);
			switch (ent->type) {
			case TREE_DIR:
				archive_entry_set_filetype(ae, AE_IFDIR);
				break;
			case TREE_SYMLINK:
				archive_entry_set_filetype(ae, AE_IFLNK);
				archive_entry_set_symlink(ae, ent->target);
				break;
			case TREE_FILE:
			case TREE_HARDLINK: {
				const char *key = ent->type == TREE_FILE ? ent->path : ent->target;
				const char *first = hl_first(&hl, key);

				archive_entry_set_filetype(ae, AE_IFREG);
				if (first) {
					archive_entry_set_hardlink(ae, first + 1);
					archive_entry_set_size(ae, 0);
					break;
				}
				/* First of its group in path order: carries the data. */
				if (ent->type == TREE_FILE) {
					src = ent;
				} else {
					const struct tree_entry *tg = item_entry(items, n, ent->target);

					src = tg && tg->type == TREE_FILE ? tg : NULL;
				}
				size = ent->size;
				if (size && (!src || (!src->data && !src->spill))) {
					perr_set(e, "internal: content of %s is not loaded", ent->path);
					goto out;
				}
				hl_put(&hl, key, it->path);
				archive_entry_set_size(ae, (la_int64_t)size);
				break;
			}
			}
		}
		if (archive_write_header(tar, ae) != ARCHIVE_OK) {
			perr_set(e, "%s: %s", it->path, archive_error_string(tar));
			goto out;
		}
		for (uint64_t off = 0; off < size;) {
			size_t chunk = size - off > (1u << 20) ? (1u << 20) : (size_t)(size - off);
			const unsigned char *data = src->data ? src->data + off : NULL;
			la_ssize_t w;

			/* spilled: a chunk at a time (holes read as zeros) */
			if (!data) {
				if (!sbuf)
					sbuf = xmalloc(1u << 20);
				if (spill_read(src->spill, sbuf, chunk, src->spill_off + off) < 0) {
					perr_errno(e, "%s: cannot read its spilled content", it->path);
					goto out;
				}
				data = sbuf;
			}
			w = archive_write_data(tar, data, chunk);
			if (w <= 0) {
				perr_set(e, "%s: %s", it->path, archive_error_string(tar));
				goto out;
			}
			off += (uint64_t)w;
		}
	}
	if (archive_write_close(tar) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", path, archive_error_string(tar));
		goto out;
	}
	if (tee.gz && pgz_finish(tee.gz, e)) {
		perr_prefix(e, "%s", path);
		goto out;
	}
	if (z && archive_write_close(z) != ARCHIVE_OK) {
		perr_set(e, "%s: %s", path, archive_error_string(z));
		goto out;
	}
	if (fflush(sink.fp) != 0 || sink.failed) {
		perr_errno(e, "cannot write %s", path);
		goto out;
	}
	phash_final_hex(tee.h, hex);
	tee.h = NULL;
	snprintf(out->diff_id, sizeof(out->diff_id), "sha256:%s", hex);
	phash_final_hex(sink.h, hex);
	sink.h = NULL;
	snprintf(out->digest, sizeof(out->digest), "sha256:%s", hex);
	out->size = sink.size;
	out->media_type = layer_media_type(o->compression);
	ret = 0;
out:
	free(sbuf);
	if (tar)
		archive_write_free(tar);
	if (z)
		archive_write_free(z);
	pgz_free(tee.gz);
	if (ae)
		archive_entry_free(ae);
	if (sink.fp && fclose(sink.fp) != 0 && ret == 0)
		ret = perr_errno(e, "cannot write %s", path);
	if (sink.h)
		phash_free(sink.h);
	if (tee.h)
		phash_free(tee.h);
	free(hl.key);
	free(hl.first);
	free(dirs.key);
	free(dirs.first);
	free(items);
	sv_clear(&parents);
	return ret;
}

/* ---- grouping ------------------------------------------------------------ */

struct group {
	char *source;
	uint64_t size;
	int first; /* group index it was merged into (itself when alive) */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t layer_plan(const struct lock_arch *la, int max, int *group)
{
	strvec sources = STRVEC_INIT;
	uint64_t *size;
	int *slot; /* source index -> merged group index */
	size_t ng, alive;

	if (max < 1)
		max = 1;
	for (size_t i = 0; i < la->npkgs; i++)
		sv_push(&sources, la->pkgs[i].source ? la->pkgs[i].source : la->pkgs[i].name);
	sv_uniq(&sources);
	ng = sources.n;
	size = xcalloc(ng + 1, sizeof(*size));
	slot = xcalloc(ng + 1, sizeof(*slot));
	for (size_t i = 0; i < la->npkgs; i++) {
		const char *s = la->pkgs[i].source ? la->pkgs[i].source : la->pkgs[i].name;
		char **hit = bsearch(&s, sources.v, ng, sizeof(char *), cmp_str);
		size_t g = (size_t)(hit - sources.v);

		group[i] = (int)g;
		size[g] += la->pkgs[i].size;
	}
	for (size_t g = 0; g < ng; g++)
		slot[g] = (int)g;
	/* Merge the adjacent pair with the smallest combined size (first
	 * such pair on ties) until the budget holds: deterministic, and keeps
	 * big, often-updated sources in layers of their own. */
	alive = ng;
	while (alive > (size_t)max) {
		size_t best = 0;
		uint64_t bestsz = UINT64_MAX;

		for (size_t g = 0; g + 1 < alive; g++)
			if (size[g] + size[g + 1] < bestsz) {
				bestsz = size[g] + size[g + 1];
				best = g;
			}
		size[best] += size[best + 1];
		memmove(&size[best + 1], &size[best + 2], (alive - best - 2) * sizeof(*size));
		for (size_t s = 0; s < ng; s++)
			if ((size_t)slot[s] > best)
				slot[s]--;
		alive--;
	}
	for (size_t i = 0; i < la->npkgs; i++)
		group[i] = slot[group[i]];
	free(size);
	free(slot);
	sv_clear(&sources);
	return alive;
}
