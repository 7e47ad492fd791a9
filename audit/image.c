/* image.c - the audit's image reader: an OCI layout's image manifests, and
 * one image's merged root file system (every layer in order, OCI whiteouts
 * applied) with each file's mode, owner, size, link target and, for small
 * and system files, contents.  Archives are unpacked by oci_input_open
 * before this runs, so it only reads directories. */
#define _GNU_SOURCE
#include "audit.h"
#include "../oci/oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON (64u << 20)
#define MAX_FILES 2000000u       /* entries in one image */
#define MAX_DATA (512ull << 20)  /* contents kept for one image */
#define WH ".wh."
#define WH_OPQ ".wh..wh..opq"

/* Blob digest of layout dir into out, checked against its digest. */
static int read_blob(const char *dir, const char *digest, strbuf *out, perr *e)
{
	struct oci_src *src;
	int r;

	if (oci_src_open(dir, &src, e) < 0)
		return -1;
	r = oci_src_blob(src, digest, out, MAX_JSON, e);
	oci_src_close(src);
	return r;
}

static cJSON *read_json_blob(const char *dir, const char *digest, perr *e)
{
	strbuf sb = STRBUF_INIT;
	cJSON *j = NULL;

	if (read_blob(dir, digest, &sb, e) == 0) {
		j = cJSON_ParseWithLength(sb.buf, sb.len);
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			j = NULL;
			perr_set(e, "%s: blob %s is not a JSON object", dir, digest);
		}
	}
	sb_release(&sb);
	return j;
}

/* cosign's tags (sha256-HEX.sig / .att / the referrers fallback) and OCI
 * artifacts are not images */
static bool is_artifact(const cJSON *d, const cJSON *m)
{
	const char *ref = oci_json_str(cJSON_GetObjectItemCaseSensitive(d, "annotations"),
			       "org.opencontainers.image.ref.name");
	const char *cmt = oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "mediaType");

	if (ref && str_starts(ref, "sha256-"))
		return true;
	if (oci_json_str(d, "artifactType") || oci_json_str(m, "artifactType") || cJSON_GetObjectItem(m, "subject"))
		return true;
	return !cmt || (strcmp(cmt, "application/vnd.oci.image.config.v1+json") &&
			strcmp(cmt, "application/vnd.docker.container.image.v1+json"));
}

static char *platform_of(const cJSON *d, const cJSON *cfg)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "platform");
	const char *os = oci_json_str(p, "os"), *arch = oci_json_str(p, "architecture"), *var = oci_json_str(p, "variant");

	if (!os || !arch)
		os = oci_json_str(cfg, "os"), arch = oci_json_str(cfg, "architecture"), var = oci_json_str(cfg, "variant");
	if (!os || !arch)
		return xstrdup("unknown");
	return var ? xasprintf("%s/%s/%s", os, arch, var) : xasprintf("%s/%s", os, arch);
}

static int walk_index(const char *dir, const cJSON *index, int depth, strvec *digests,
		      strvec *plats, perr *e)
{
	const cJSON *d;

	if (depth > 4)
		return perr_set(e, "%s: image indexes nested more than 4 deep", dir);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
		const char *digest = oci_json_str(d, "digest");
		cJSON *m, *cfg;
		int r = 0;

		if (!digest)
			return perr_set(e, "%s: a manifest descriptor without a digest", dir);
		if (sv_contains(digests, digest))
			continue;
		if (!(m = read_json_blob(dir, digest, e)))
			return -1;
		if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m, "manifests"))) {
			r = oci_json_str(d, "artifactType") ? 0
						    : walk_index(dir, m, depth + 1, digests, plats, e);
		} else if (!is_artifact(d, m)) {
			cfg = read_json_blob(dir, oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "config"),
						       "digest"), e);
			if (!cfg)
				r = -1;
			else {
				sv_push(digests, digest);
				sv_push_nodup(plats, platform_of(d, cfg));
			}
			cJSON_Delete(cfg);
		}
		cJSON_Delete(m);
		if (r < 0)
			return -1;
	}
	return 0;
}

int audit_layout_images(const char *dir, strvec *digests, strvec *plats, perr *e)
{
	strbuf sb = STRBUF_INIT;
	cJSON *index = NULL;
	char *p = path_join(dir, "index.json");
	int ret = -1;

	if (read_file(p, &sb, MAX_JSON, e) < 0)
		goto out;
	index = cJSON_ParseWithLength(sb.buf, sb.len);
	if (!cJSON_IsObject(index)) {
		perr_set(e, "%s: not JSON", p);
		goto out;
	}
	if (walk_index(dir, index, 0, digests, plats, e) < 0)
		goto out;
	if (!digests->n) {
		perr_set(e, "%s: names no image manifest", dir);
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(index);
	sb_release(&sb);
	free(p);
	return ret;
}

/* ---- the merged file system ---------------------------------------------------- */

struct fsmap {
	struct audit_file *files; /* path NULL: removed by a whiteout */
	size_t n, alloc;
	size_t *slots;            /* open addressing: index + 1, 0 = empty */
	size_t nslots;
	uint64_t data;            /* contents kept so far */
};

static size_t hash_path(const char *s)
{
	size_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void file_release(struct audit_file *f)
{
	free(f->path), free(f->link), free(f->data);
	memset(f, 0, sizeof(*f));
}

/* The slot of path (its entry, or the empty slot where it goes).  Removed
 * entries keep their slot (their path is kept in a tombstone name) so that
 * chains stay intact. */
static size_t *slot_of(struct fsmap *m, const char *path, const char **names)
{
	size_t i = hash_path(path) & (m->nslots - 1);

	for (;; i = (i + 1) & (m->nslots - 1)) {
		if (!m->slots[i] || !strcmp(names[m->slots[i] - 1], path))
			return &m->slots[i];
	}
}

struct fsbuild {
	struct fsmap m;
	strvec names; /* the path of every entry ever added, for the hash chains */
};

static void fs_rehash(struct fsbuild *b)
{
	free(b->m.slots);
	b->m.nslots = b->m.nslots ? b->m.nslots * 2 : 1024;
	b->m.slots = xcalloc(b->m.nslots, sizeof(*b->m.slots));
	for (size_t k = 0; k < b->names.n; k++)
		*slot_of(&b->m, b->names.v[k], (const char **)b->names.v) = k + 1;
}

/* The entry for path, added empty when new. */
static struct audit_file *fs_get(struct fsbuild *b, const char *path)
{
	size_t *s;

	if ((b->names.n + 1) * 2 > b->m.nslots)
		fs_rehash(b);
	s = slot_of(&b->m, path, (const char **)b->names.v);
	if (*s) {
		file_release(&b->m.files[*s - 1]);
		return &b->m.files[*s - 1];
	}
	ALLOC_GROW(b->m.files, b->m.n + 1, b->m.alloc);
	memset(&b->m.files[b->m.n], 0, sizeof(b->m.files[0]));
	sv_push(&b->names, path);
	*s = ++b->m.n;
	return &b->m.files[b->m.n - 1];
}

static struct audit_file *fs_find(struct fsbuild *b, const char *path)
{
	size_t *s;

	if (!b->m.nslots)
		return NULL;
	s = slot_of(&b->m, path, (const char **)b->names.v);
	return *s && b->m.files[*s - 1].path ? &b->m.files[*s - 1] : NULL;
}

/* Remove path and everything under it that earlier layers wrote (self
 * false: only what is under it, for an opaque directory). */
static void fs_remove(struct fsbuild *b, const char *path, size_t layer, bool self)
{
	size_t n = strlen(path);

	for (size_t k = 0; k < b->m.n; k++) {
		struct audit_file *f = &b->m.files[k];

		if (!f->path || f->layer >= layer)
			continue;
		if ((self && !strcmp(f->path, path)) ||
		    (!strncmp(f->path, path, n) && (f->path[n] == '/' || (n == 1 && f->path[1]))))
			file_release(f);
	}
}

/* "./usr/bin/" -> "/usr/bin"; "." and "./" -> "/"; NULL for ".." parts. */
static char *norm_path(const char *name)
{
	strvec parts = STRVEC_INIT;
	strbuf sb = STRBUF_INIT;

	sv_split(&parts, name, "/");
	for (size_t i = 0; i < parts.n; i++) {
		if (!strcmp(parts.v[i], "."))
			continue;
		if (!strcmp(parts.v[i], "..")) {
			sv_clear(&parts);
			sb_release(&sb);
			return NULL;
		}
		sb_addc(&sb, '/');
		sb_adds(&sb, parts.v[i]);
	}
	sv_clear(&parts);
	if (!sb.len)
		sb_addc(&sb, '/');
	return sb_detach(&sb);
}

static bool is_system_file(const char *p)
{
	static const char *const exact[] = { "/etc/passwd", "/etc/group", "/etc/shadow",
		"/etc/gshadow", "/var/lib/dpkg/status" };

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (!strcmp(p, exact[i]))
			return true;
	return str_starts(p, "/var/lib/dpkg/status.d/") || str_starts(p, "/usr/share/sbom/");
}

static int read_layer(struct fsbuild *b, const char *dir, const char *digest, size_t layer,
		      perr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *blob;
	int r, ret = -1;

	if (!str_starts(digest, "sha256:") || !is_sha256_hex(digest + 7)) {
		archive_read_free(a);
		return perr_set(e, "%s: malformed layer digest '%s'", dir, digest);
	}
	blob = xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, blob, 1 << 16) != ARCHIVE_OK) {
		perr_set(e, "%s: layer %s: %s", dir, digest, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae), *base;
		char *path = name ? norm_path(name) : NULL;
		struct audit_file *f;
		const char *hl;

		if (!path) {
			perr_set(e, "%s: layer %s: an entry named '%s' leaves the root", dir, digest,
				 name ? name : "");
			goto out;
		}
		base = path_basename(path);
		if (str_starts(base, WH)) {
			char *parent = path_dirname(path), *victim;

			if (!strcmp(base, WH_OPQ))
				fs_remove(b, parent, layer, false);
			else {
				victim = strcmp(parent, "/") ? xasprintf("%s/%s", parent, base + 4)
							     : xasprintf("/%s", base + 4);
				fs_remove(b, victim, layer, true);
				free(victim);
			}
			free(parent);
			free(path);
			continue;
		}
		if (b->m.n >= MAX_FILES) {
			free(path);
			perr_set(e, "%s: more than %u files in the image", dir, MAX_FILES);
			goto out;
		}
		hl = archive_entry_hardlink(ae);
		f = fs_get(b, path);
		f->path = path;
		f->layer = layer;
		f->mode = archive_entry_mode(ae);
		f->uid = (uint32_t)archive_entry_uid(ae);
		f->gid = (uint32_t)archive_entry_gid(ae);
		f->size = archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0;
		if (hl) {
			char *target = norm_path(hl);
			const struct audit_file *t = target ? fs_find(b, target) : NULL;

			f->hardlink = true;
			f->link = target ? target : xstrdup(hl);
			if (t) { /* a hard link is its target: mode, owner and contents */
				f->mode = t->mode, f->uid = t->uid, f->gid = t->gid, f->size = t->size;
				if (t->data) {
					f->data = xmalloc(t->ndata + 1);
					memcpy(f->data, t->data, t->ndata + 1);
					f->ndata = t->ndata;
				}
			}
			continue;
		}
		if (archive_entry_symlink(ae))
			f->link = xstrdup(archive_entry_symlink(ae));
		if (S_ISREG(f->mode) && (f->size <= AUDIT_SMALL ||
					 (is_system_file(path) && f->size <= AUDIT_SYSTEM_MAX))) {
			strbuf d = STRBUF_INIT;
			char buf[1 << 16];
			la_ssize_t got;

			if (b->m.data + f->size > MAX_DATA) {
				perr_set(e, "%s: more than %llu bytes of small files", dir, MAX_DATA);
				goto out;
			}
			while ((got = archive_read_data(a, buf, sizeof(buf))) > 0)
				sb_add(&d, buf, (size_t)got);
			if (got < 0) {
				sb_release(&d);
				perr_set(e, "%s: layer %s: %s: %s", dir, digest, f->path,
					 archive_error_string(a));
				goto out;
			}
			sb_grow(&d, 0);
			f->ndata = d.len;
			f->data = sb_detach(&d);
			b->m.data += f->ndata;
		}
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "%s: layer %s: %s", dir, digest, archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	free(blob);
	return ret;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct audit_file *)a)->path, ((const struct audit_file *)b)->path);
}

int audit_image_read(const char *dir, const char *digest, const char *platform,
		     struct audit_image *img, perr *e)
{
	struct fsbuild b = { 0 };
	const cJSON *l;
	size_t k = 0;
	int ret = -1;

	memset(img, 0, sizeof(*img));
	img->source = xstrdup(dir);
	img->digest = xstrdup(digest);
	img->platform = xstrdup(platform);
	if (!(img->manifest = read_json_blob(dir, digest, e)))
		goto out;
	if (!(img->config = read_json_blob(dir, oci_json_str(cJSON_GetObjectItemCaseSensitive(img->manifest,
									"config"), "digest"), e)))
		goto out;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(img->manifest, "layers")) {
		const char *d = oci_json_str(l, "digest");
		char hex[SHA256_HEX_LEN + 1], *p;
		uint64_t size;

		if (!d || !str_starts(d, "sha256:") || !is_sha256_hex(d + 7)) {
			perr_set(e, "%s: manifest %s: a layer without a sha256 digest", dir, digest);
			goto out;
		}
		p = xasprintf("%s/blobs/sha256/%s", dir, d + 7);
		if (sha256_file(p, hex, &size, e) < 0) {
			free(p);
			goto out;
		}
		free(p);
		if (strcmp(hex, d + 7)) {
			perr_set(e, "%s: layer %s does not match its digest", dir, d);
			goto out;
		}
		sv_push(&img->layers, d);
		if (read_layer(&b, dir, d, k++, e) < 0)
			goto out;
	}
	for (size_t i = 0; i < b.m.n; i++)
		if (b.m.files[i].path)
			b.m.files[img->nfiles++] = b.m.files[i];
	qsort(b.m.files, img->nfiles, sizeof(*b.m.files), cmp_file);
	img->files = b.m.files;
	b.m.files = NULL, b.m.n = 0;
	ret = 0;
out:
	for (size_t i = 0; i < b.m.n; i++)
		file_release(&b.m.files[i]);
	free(b.m.files);
	free(b.m.slots);
	sv_clear(&b.names);
	return ret;
}

void audit_image_release(struct audit_image *img)
{
	for (size_t i = 0; i < img->nfiles; i++)
		file_release(&img->files[i]);
	free(img->files);
	free(img->source), free(img->platform), free(img->digest), free(img->ref);
	cJSON_Delete(img->manifest);
	cJSON_Delete(img->config);
	sv_clear(&img->layers);
	memset(img, 0, sizeof(*img));
}

const struct audit_file *audit_file_find(const struct audit_image *img, const char *path)
{
	struct audit_file key = { 0 };

	key.path = (char *)path;
	return bsearch(&key, img->files, img->nfiles, sizeof(*img->files), cmp_file);
}
