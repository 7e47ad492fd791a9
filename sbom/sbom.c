/*
 * sbom.c - SPDX 2.3 and CycloneDX 1.5 JSON documents from a struct sbom_image.
 *
 * Determinism: every array is emitted in a sorted order, keys in a fixed
 * order (cJSON keeps insertion order), timestamps come from img->created,
 * and the document ids are derived from the content (see doc_uuid()).
 * docs/sbom.md maps each NTIA / BSI TR-03183-2 element to its field here.
 */
#define _GNU_SOURCE /* qsort_r */
#include "sbom_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define TOOL_NAME "pare"

/* ---- small helpers ---------------------------------------------------------------- */

/* Add a string member, made valid UTF-8 first (input comes from .debs). */
static void add_str(cJSON *o, const char *key, const char *s)
{
	char *clean = sbom_utf8_sanitize(s);
	cJSON_AddItemToObject(o, key, cJSON_CreateString(clean));
	free(clean);
}

static void arr_str(cJSON *a, const char *s)
{
	char *clean = sbom_utf8_sanitize(s);
	cJSON_AddItemToArray(a, cJSON_CreateString(clean));
	free(clean);
}

static cJSON *add_arr(cJSON *o, const char *key)
{
	cJSON *a = cJSON_CreateArray();
	cJSON_AddItemToObject(o, key, a);
	return a;
}

static cJSON *add_obj(cJSON *o, const char *key)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddItemToObject(o, key, a);
	return a;
}

static cJSON *arr_obj(cJSON *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToArray(a, o);
	return o;
}

static bool is_hex(const char *s, size_t len)
{
	if (!s || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* SPDX ids allow [A-Za-z0-9.-] only.  Everything else, and 'X' itself,
 * becomes "X" + two hex digits, which keeps the mapping one-to-one
 * ("libstdc++6" -> "libstdcX2BX2B6"). */
static void spdx_esc(strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '.' || *p == '-') && *p != 'X')
			sb_addc(sb, (char)*p);
		else
			sb_addf(sb, "X%02X", *p);
	}
}

/*
 * A name-based UUID in the manner of RFC 9562 UUIDv5, with SHA-256 instead
 * of SHA-1 (so version 8, RFC 9562 §5.8 / appendix B.2): the first 16 bytes
 * of sha256(key) with the version and variant bits set.  The key names the
 * format and the content: the manifest digest when there is one, else (the
 * copy inside the image, which cannot contain its own digest) every
 * package's name, version, arch and .deb sha256 plus every file.
 */
static void doc_uuid(const struct sbom_image *img, enum sbom_format fmt, bool with_files,
		     char out[37])
{
	phash *h = phash_new("sha256");
	char hex[SHA256_HEX_LEN + 1];
	char *k = xasprintf("pare-sbom-v1\n%s\n%s\n%s\n%s\n", fmt == SBOM_SPDX ? "spdx" : "cyclonedx",
			    with_files ? "files" : "nofiles", img->name, img->arch);
	unsigned char b[16];

	phash_update(h, k, strlen(k));
	free(k);
	if (img->manifest_digest) {
		phash_update(h, "digest ", 7);
		phash_update(h, img->manifest_digest, strlen(img->manifest_digest));
	} else {
		phash_update(h, "packages\n", 9);
		for (size_t i = 0; i < img->npkgs; i++) {
			const struct sbom_pkg *p = &img->pkgs[i];
			k = xasprintf("%s\t%s\t%s\t%s\n", p->name, p->version, p->arch, p->deb_sha256);
			phash_update(h, k, strlen(k));
			free(k);
		}
		for (size_t i = 0; i < img->nfiles; i++) {
			k = xasprintf("%s\t%s\n", img->files[i].path, img->files[i].sha256);
			phash_update(h, k, strlen(k));
			free(k);
		}
	}
	phash_final_hex(h, hex);
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (unsigned char)v;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x80); /* version 8 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* "Name <mail>" -> name and mail (either may come back NULL). */
static void split_maintainer(const char *m, char **name, char **mail)
{
	const char *lt = m ? strchr(m, '<') : NULL;
	const char *gt = lt ? strchr(lt, '>') : NULL;

	*name = *mail = NULL;
	if (!m)
		return;
	if (lt && gt) {
		char *n = xstrndup(m, (size_t)(lt - m));
		*name = xstrdup(str_trim(n));
		free(n);
		*mail = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	} else {
		char *n = xstrdup(m);
		*name = xstrdup(str_trim(n));
		free(n);
	}
	if (*name && !**name) {
		free(*name);
		*name = NULL;
	}
}

/* ---- the model shared by both writers -------------------------------------------------- */

struct src {
	char *name, *version;
	char *spdxid, *purl;
};

struct pkgx {
	const struct sbom_pkg *p;
	char *spdxid, *purl;
	size_t src;             /* index into model.srcs */
	const struct lic_info *lic; /* in model.lic */
	strvec deps;            /* indices into model.pkgs as "%08zu", sorted */
	size_t nfiles;
};

struct model {
	const struct sbom_image *img;
	char created[32];
	char distro[64];
	char *image_purl;       /* NULL without a manifest digest */
	char *image_ref;        /* bom-ref of the container */
	char *image_name;       /* purl name: last path part of the reference, lower case */
	char *image_tag;        /* NULL when the reference has none */
	struct pkgx *pkgs;      /* same order as img->pkgs (sorted by name) */
	struct src *srcs;
	size_t nsrcs;
	const struct sbom_licenses *lic; /* img->lic, or own_lic */
	struct sbom_licenses *own_lic;   /* analysed for this document only */
	const struct lic_refs *refs;     /* &lic->refs */
	bool pointers;          /* embedded copy: licence texts as pointers (lic_ref_text) */
	size_t *file_order;     /* indices into img->files, sorted by path */
	size_t ngenerated;
};

static void model_release(struct model *m)
{
	if (m->pkgs)
		for (size_t i = 0; i < m->img->npkgs; i++) {
			free(m->pkgs[i].spdxid);
			free(m->pkgs[i].purl);
			sv_clear(&m->pkgs[i].deps);
		}
	free(m->pkgs);
	for (size_t i = 0; i < m->nsrcs; i++) {
		free(m->srcs[i].name);
		free(m->srcs[i].version);
		free(m->srcs[i].spdxid);
		free(m->srcs[i].purl);
	}
	free(m->srcs);
	sbom_licenses_free(m->own_lic);
	free(m->image_purl);
	free(m->image_ref);
	free(m->image_name);
	free(m->image_tag);
	free(m->file_order);
}

/* ---- the licence analysis, once per image (sbom_image_analyse) ---------------------- */

/* The pointer for p's copyright file, NULL when the image does not carry it. */
static char *pkg_pointer(const struct sbom_pkg *p)
{
	if (!p->copyright || !p->copyright_file || !is_hex(p->copyright_sha256, SHA256_HEX_LEN))
		return NULL;
	return lic_pointer(p->copyright_file, p->copyright_sha256);
}

static struct sbom_licenses *licenses_new(const struct sbom_image *img)
{
	struct sbom_licenses *l = xcalloc(1, sizeof(*l));

	l->n = img->npkgs;
	l->info = xcalloc(img->npkgs ? img->npkgs : 1, sizeof(*l->info));
	/* in package order (sorted by name), so LicenseRef ids are stable */
	for (size_t i = 0; i < img->npkgs; i++) {
		const struct sbom_pkg *p = &img->pkgs[i];
		char *where = pkg_pointer(p);

		sv_push(&l->names, p->name ? p->name : "");
		sv_push(&l->texts, p->copyright ? p->copyright : "");
		sv_push(&l->wheres, where ? where : "");
		lic_analyse(p->name ? p->name : "", p->copyright, where, &l->refs, &l->info[i]);
		free(where);
	}
	return l;
}

/* Was l made from exactly these packages' names, copyright texts and files?
 * (A copyright text of NULL and of "" analyse alike.) */
bool sbom_licenses_match(const struct sbom_licenses *l, const struct sbom_image *img)
{
	bool ok = l->n == img->npkgs;

	for (size_t i = 0; ok && i < img->npkgs; i++) {
		const struct sbom_pkg *p = &img->pkgs[i];
		char *where = pkg_pointer(p);

		ok = !strcmp(l->names.v[i], p->name ? p->name : "") &&
		     !strcmp(l->texts.v[i], p->copyright ? p->copyright : "") &&
		     !strcmp(l->wheres.v[i], where ? where : "");
		free(where);
	}
	return ok;
}

void sbom_licenses_free(struct sbom_licenses *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		lic_info_release(&l->info[i]);
	free(l->info);
	sv_clear(&l->names);
	sv_clear(&l->texts);
	sv_clear(&l->wheres);
	lic_refs_release(&l->refs);
	free(l);
}

void sbom_image_analyse(struct sbom_image *img)
{
	sbom_licenses_free(img->lic);
	img->lic = licenses_new(img);
}

static int cmp_file(const void *a, const void *b, void *img)
{
	const struct sbom_image *i = img;

	return strcmp(i->files[*(const size_t *)a].path, i->files[*(const size_t *)b].path);
}

static long find_pkg(const struct sbom_image *img, const char *name)
{
	for (size_t i = 0; i < img->npkgs; i++)
		if (!strcmp(img->pkgs[i].name, name))
			return (long)i;
	return -1;
}

static void image_names(struct model *m)
{
	const struct sbom_image *img = m->img;
	const char *ref = img->reference ? img->reference : img->name;
	char *r = xstrdup(ref), *at = strchr(r, '@'), *slash, *colon, *base;

	if (at)
		*at = '\0';
	slash = strrchr(r, '/');
	colon = strrchr(r, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		m->image_tag = xstrdup(colon + 1);
	}
	base = slash ? slash + 1 : r;
	for (char *p = base; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	m->image_name = xstrdup(base);
	free(r);
	if (img->manifest_digest) {
		strbuf sb = STRBUF_INIT;
		sb_adds(&sb, "pkg:oci/");
		purl_encode(&sb, m->image_name);
		sb_addc(&sb, '@');
		purl_encode(&sb, img->manifest_digest);
		sb_adds(&sb, "?arch=");
		purl_encode(&sb, img->arch);
		if (m->image_tag) {
			sb_adds(&sb, "&tag=");
			purl_encode(&sb, m->image_tag);
		}
		m->image_purl = sb_detach(&sb);
		m->image_ref = xstrdup(m->image_purl);
	} else {
		m->image_ref = xasprintf("image:%s", m->image_name);
	}
}

static int model_build(struct model *m, const struct sbom_image *img, bool need_sha1,
		       perr *e)
{
	strvec keys = STRVEC_INIT;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	m->img = img;
	if (!img->name || !*img->name || !img->arch || !*img->arch) {
		perr_set(e, "image without a name or an architecture");
		goto out;
	}
	if (!img->os_id || !img->os_version) {
		perr_set(e, "image %s: no operating system id/version", img->name);
		goto out;
	}
	if (img->manifest_digest && (!str_starts(img->manifest_digest, "sha256:") ||
				     !is_sha256_hex(img->manifest_digest + 7))) {
		perr_set(e, "image %s: bad manifest digest '%s'", img->name, img->manifest_digest);
		goto out;
	}
	time_rfc3339(img->created, m->created);
	snprintf(m->distro, sizeof(m->distro), "%s-%s", img->os_id, img->os_version);
	image_names(m);

	/* packages: validate, ids, sources */
	m->pkgs = xcalloc(img->npkgs ? img->npkgs : 1, sizeof(*m->pkgs));
	for (size_t i = 0; i < img->npkgs; i++) {
		const struct sbom_pkg *p = &img->pkgs[i];
		const char *sn, *sv;
		strbuf sb = STRBUF_INIT;

		if (!p->name || !p->version || !p->arch) {
			perr_set(e, "image %s: package %zu without name, version or arch", img->name, i);
			goto out;
		}
		if (!is_hex(p->deb_sha256, SHA256_HEX_LEN) || !is_hex(p->deb_sha512, SHA512_HEX_LEN)) {
			perr_set(e, "package %s: missing or malformed .deb sha256/sha512", p->name);
			goto out;
		}
		if (i && strcmp(img->pkgs[i - 1].name, p->name) >= 0) {
			perr_set(e, "package %s: packages not sorted by name or listed twice", p->name);
			goto out;
		}
		m->pkgs[i].p = p;
		sb_adds(&sb, "SPDXRef-deb-");
		spdx_esc(&sb, p->name);
		sb_addc(&sb, '-');
		spdx_esc(&sb, p->arch);
		m->pkgs[i].spdxid = sb_detach(&sb);
		m->pkgs[i].purl = purl_deb(p->name, p->version, p->arch, m->distro);
		sn = deb_id_source(&p->id);
		sv = deb_id_source_version(&p->id);
		sv_pushf(&keys, "%s\t%s", sn, sv);
	}
	sv_uniq(&keys);
	m->srcs = xcalloc(keys.n ? keys.n : 1, sizeof(*m->srcs));
	m->nsrcs = keys.n;
	for (size_t i = 0; i < keys.n; i++) {
		char *tab = strchr(keys.v[i], '\t');
		strbuf sb = STRBUF_INIT;
		m->srcs[i].name = xstrndup(keys.v[i], (size_t)(tab - keys.v[i]));
		m->srcs[i].version = xstrdup(tab + 1);
		sb_adds(&sb, "SPDXRef-debsrc-");
		spdx_esc(&sb, m->srcs[i].name);
		sb_addc(&sb, '-');
		spdx_esc(&sb, m->srcs[i].version);
		m->srcs[i].spdxid = sb_detach(&sb);
		m->srcs[i].purl = purl_deb(m->srcs[i].name, m->srcs[i].version, "source", m->distro);
	}
	for (size_t i = 0; i < img->npkgs; i++) {
		const struct sbom_pkg *p = &img->pkgs[i];
		char *key = xasprintf("%s\t%s", deb_id_source(&p->id), deb_id_source_version(&p->id));
		for (size_t k = 0; k < keys.n; k++)
			if (!strcmp(keys.v[k], key))
				m->pkgs[i].src = k;
		free(key);
		for (size_t d = 0; d < p->depends.n; d++) {
			long di = find_pkg(img, p->depends.v[d]);
			if (di < 0) {
				perr_set(e, "package %s: depends on %s, which is not in the image",
					 p->name, p->depends.v[d]);
				goto out;
			}
			if (di != (long)i)
				sv_pushf(&m->pkgs[i].deps, "%08ld", di);
		}
		sv_uniq(&m->pkgs[i].deps);
	}
	if (img->lic && !sbom_licenses_match(img->lic, img)) {
		perr_set(e, "image %s: internal: the licence analysis is of other packages or "
			 "copyright files", img->name);
		goto out;
	}
	m->lic = img->lic ? img->lic : (m->own_lic = licenses_new(img));
	m->refs = &m->lic->refs;
	for (size_t i = 0; i < img->npkgs; i++)
		m->pkgs[i].lic = &m->lic->info[i];
	m->pointers = !img->manifest_digest;

	/* files */
	m->file_order = xcalloc(img->nfiles ? img->nfiles : 1, sizeof(size_t));
	for (size_t i = 0; i < img->nfiles; i++) {
		const struct sbom_file *f = &img->files[i];

		m->file_order[i] = i;
		if (!f->path || f->path[0] != '/') {
			perr_set(e, "image %s: file %zu without an absolute path", img->name, i);
			goto out;
		}
		if (!is_hex(f->sha256, SHA256_HEX_LEN)) {
			perr_set(e, "file %s: missing or malformed sha256", f->path);
			goto out;
		}
		if (need_sha1 && !is_hex(f->sha1, SHA1_HEX_LEN)) {
			perr_set(e, "file %s: missing sha1 (SPDX 2.3 requires one per file)", f->path);
			goto out;
		}
		if (f->pkg < -1 || f->pkg >= (long)img->npkgs) {
			perr_set(e, "file %s: package index %d out of range", f->path, f->pkg);
			goto out;
		}
		if (f->pkg < 0)
			m->ngenerated++;
		else
			m->pkgs[f->pkg].nfiles++;
	}
	/* qsort_r: documents are written on several threads at once */
	qsort_r(m->file_order, img->nfiles, sizeof(size_t), cmp_file, (void *)img);
	for (size_t i = 1; i < img->nfiles; i++)
		if (!strcmp(img->files[m->file_order[i - 1]].path, img->files[m->file_order[i]].path)) {
			perr_set(e, "file %s: listed twice", img->files[m->file_order[i]].path);
			goto out;
		}
	ret = 0;
out:
	sv_clear(&keys);
	return ret;
}

/* SPDX file id: "SPDXRef-File-" + 32 hex of sha256(path): stable when other
 * files come and go (an index would renumber everything), and 128 bits make
 * a collision between two paths of one image not a practical concern. */
static char *file_id(const char *path)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(path, strlen(path), hex);
	hex[32] = '\0';
	return xasprintf("SPDXRef-File-%s", hex);
}

/* SPDX 2.3 §7.9: sha1 over the sorted, concatenated sha1s of the files. */
static void verification_code(const struct model *m, long pkg, bool all, char out[SHA1_HEX_LEN + 1])
{
	strvec s = STRVEC_INIT;
	phash *h = phash_new("sha1");

	for (size_t i = 0; i < m->img->nfiles; i++)
		if (all || m->img->files[i].pkg == pkg)
			sv_push(&s, m->img->files[i].sha1);
	sv_sort(&s);
	for (size_t i = 0; i < s.n; i++)
		phash_update(h, s.v[i], strlen(s.v[i]));
	phash_final_hex(h, out);
	sv_clear(&s);
}

/* ---- SPDX 2.3 ---------------------------------------------------------------------- */

struct rel {
	char *a, *type, *b, *comment;
};

static void rel_add(struct rel **r, size_t *n, size_t *alloc, const char *a, const char *type,
		    const char *b, const char *comment)
{
	ALLOC_GROW(*r, *n + 1, *alloc);
	(*r)[*n].a = xstrdup(a);
	(*r)[*n].type = xstrdup(type);
	(*r)[*n].b = xstrdup(b);
	(*r)[*n].comment = comment ? xstrdup(comment) : NULL;
	(*n)++;
}

static int cmp_rel(const void *x, const void *y)
{
	const struct rel *a = x, *b = y;
	int c = strcmp(a->a, b->a);
	if (!c)
		c = strcmp(a->type, b->type);
	if (!c)
		c = strcmp(a->b, b->b);
	return c;
}

static void spdx_checksum(cJSON *arr, const char *algo, const char *hex)
{
	cJSON *c = arr_obj(arr);
	add_str(c, "algorithm", algo);
	add_str(c, "checksumValue", hex);
}

static void spdx_extref(cJSON *arr, const char *cat, const char *type, const char *loc)
{
	cJSON *r = arr_obj(arr);
	add_str(r, "referenceCategory", cat);
	add_str(r, "referenceType", type);
	add_str(r, "referenceLocator", loc);
}

static void accounting(strbuf *sb, const struct model *m, bool with_files)
{
	sb_addf(sb, "%zu regular files in the image: %zu from %zu Debian packages, %zu generated by pare. ",
		m->img->nfiles, m->img->nfiles - m->ngenerated, m->img->npkgs, m->ngenerated);
	if (with_files)
		sb_adds(sb, "Every file is listed with its checksums.");
	else
		sb_adds(sb, "Files are not listed in this document (filesAnalyzed false); "
			    "'pare sbom --files' prints the per-file document.");
	if (!m->img->manifest_digest)
		sb_adds(sb, " Not counted: the SBOM documents under " SBOM_EMBED_DIR "/ "
			    "(this one among them: a document cannot carry its own checksum); "
			    "the attached per-file SBOM lists them.");
}


/* The Debian release as a human description, or (cpe) its CPE 2.3 name. */
static void os_debian_text(const struct sbom_image *img, strbuf *sb, bool cpe)
{
	sb_reset(sb);
	if (cpe)
		sb_addf(sb, "cpe:2.3:o:debian:debian_linux:%s:*:*:*:*:*:*:*", img->os_version);
	else
		sb_addf(sb, "Debian GNU/Linux %s%s%s%s", img->os_version,
			img->os_codename ? " (" : "", img->os_codename ? img->os_codename : "",
			img->os_codename ? ")" : "");
}

struct ref_ord {
	const char *id;
	size_t i;
};

static int cmp_ref_ord(const void *x, const void *y)
{
	return strcmp(((const struct ref_ord *)x)->id, ((const struct ref_ord *)y)->id);
}

static cJSON *spdx_doc(const struct model *m, bool with_files)
{
	const struct sbom_image *img = m->img;
	cJSON *doc = cJSON_CreateObject(), *ci, *pkgs, *o, *a;
	struct rel *rels = NULL;
	size_t nrels = 0, arels = 0;
	char uuid[37], sha1[SHA1_HEX_LEN + 1];
	strbuf sb = STRBUF_INIT;

	add_str(doc, "spdxVersion", "SPDX-2.3");
	add_str(doc, "dataLicense", "CC0-1.0");
	add_str(doc, "SPDXID", "SPDXRef-DOCUMENT");
	sb_addf(&sb, "%s %s", img->reference ? img->reference : img->name, img->arch);
	add_str(doc, "name", sb.buf);
	doc_uuid(img, SBOM_SPDX, with_files, uuid);
	sb_reset(&sb);
	sb_adds(&sb, "https://spdx.org/spdxdocs/pare-");
	spdx_esc(&sb, m->image_name);
	sb_addf(&sb, "-%s-%s", img->arch, uuid);
	add_str(doc, "documentNamespace", sb.buf);
	ci = add_obj(doc, "creationInfo");
	add_str(ci, "created", m->created);
	a = add_arr(ci, "creators");
	arr_str(a, "Tool: " TOOL_NAME "-" PARE_VERSION);
	sb_reset(&sb);
	accounting(&sb, m, with_files);
	add_str(doc, "comment", sb.buf);

	pkgs = add_arr(doc, "packages");
	/* the image */
	o = arr_obj(pkgs);
	add_str(o, "SPDXID", "SPDXRef-Image");
	add_str(o, "name", m->image_name);
	if (img->manifest_digest)
		add_str(o, "versionInfo", img->manifest_digest);
	add_str(o, "downloadLocation", "NOASSERTION");
	cJSON_AddBoolToObject(o, "filesAnalyzed", with_files);
	if (with_files) {
		cJSON *vc = add_obj(o, "packageVerificationCode");
		verification_code(m, 0, true, sha1);
		add_str(vc, "packageVerificationCodeValue", sha1);
	}
	if (img->manifest_digest)
		spdx_checksum(add_arr(o, "checksums"), "SHA256", img->manifest_digest + 7);
	sb_reset(&sb);
	sb_addf(&sb, "OCI image %s for %s built by pare. ", img->reference ? img->reference : img->name,
		img->arch);
	if (img->recipe_sha256)
		sb_addf(&sb, "Recipe sha256 %s. ", img->recipe_sha256);
	if (!img->manifest_digest)
		sb_adds(&sb, "This copy is embedded in the image, which cannot carry its own "
			     "manifest digest: see the SBOM attached to the image for it. ");
	accounting(&sb, m, with_files);
	add_str(o, "comment", sb.buf);
	if (m->image_purl)
		spdx_extref(add_arr(o, "externalRefs"), "PACKAGE-MANAGER", "purl", m->image_purl);
	add_str(o, "primaryPackagePurpose", "CONTAINER");
	rel_add(&rels, &nrels, &arels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image", NULL);

	/* the operating system */
	o = arr_obj(pkgs);
	add_str(o, "SPDXID", "SPDXRef-OperatingSystem");
	add_str(o, "name", img->os_id);
	add_str(o, "versionInfo", img->os_version);
	add_str(o, "downloadLocation", "NOASSERTION");
	cJSON_AddBoolToObject(o, "filesAnalyzed", false);
	if (!strcmp(img->os_id, "debian")) {
		os_debian_text(img, &sb, false);
		add_str(o, "description", sb.buf);
		os_debian_text(img, &sb, true);
		spdx_extref(add_arr(o, "externalRefs"), "SECURITY", "cpe23Type", sb.buf);
	}
	add_str(o, "primaryPackagePurpose", "OPERATING_SYSTEM");
	rel_add(&rels, &nrels, &arels, "SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem", NULL);

	/* Debian binary packages */
	for (size_t i = 0; i < img->npkgs; i++) {
		const struct pkgx *x = &m->pkgs[i];
		const struct sbom_pkg *p = x->p;
		const struct src *s = &m->srcs[x->src];
		char *mname, *mmail;
		cJSON *cs;

		o = arr_obj(pkgs);
		add_str(o, "SPDXID", x->spdxid);
		add_str(o, "name", p->name);
		add_str(o, "versionInfo", p->version);
		if (p->filename) /* the pool path, as the provenance names it */
			add_str(o, "packageFileName", p->filename);
		split_maintainer(p->maintainer, &mname, &mmail);
		sb_reset(&sb);
		if (mname) {
			/* SPDX agent syntax: "Organization: name (email)" */
			sb_addf(&sb, "Organization: %s", mname);
			if (mmail)
				sb_addf(&sb, " (%s)", mmail);
		} else {
			sb_adds(&sb, "NOASSERTION");
		}
		add_str(o, "supplier", sb.buf);
		free(mname);
		free(mmail);
		add_str(o, "downloadLocation", p->download_url ? p->download_url : "NOASSERTION");
		cJSON_AddBoolToObject(o, "filesAnalyzed", with_files);
		if (with_files) {
			cJSON *vc = add_obj(o, "packageVerificationCode");
			verification_code(m, (long)i, false, sha1);
			add_str(vc, "packageVerificationCodeValue", sha1);
		}
		cs = add_arr(o, "checksums");
		spdx_checksum(cs, "SHA256", p->deb_sha256);
		spdx_checksum(cs, "SHA512", p->deb_sha512);
		if (p->homepage)
			add_str(o, "homepage", p->homepage);
		sb_reset(&sb);
		sb_addf(&sb, "built from Debian source package %s %s", s->name, s->version);
		add_str(o, "sourceInfo", sb.buf);
		add_str(o, "licenseConcluded", "NOASSERTION");
		add_str(o, "licenseDeclared", x->lic->expr ? x->lic->expr : "NOASSERTION");
		add_str(o, "copyrightText", x->lic->copyright ? x->lic->copyright : "NOASSERTION");
		sb_reset(&sb);
		sb_addf(&sb, "%zu regular files in the image%s.", x->nfiles,
			with_files ? ", listed with CONTAINS relationships" : "");
		if (x->lic->kind == LIC_FREE && x->lic->detected)
			sb_addf(&sb, " Licence detected from free-text copyright: %s; AND-ed with "
				     "the whole text of the file, which may state further terms "
				     "(see hasExtractedLicensingInfos).", x->lic->detected);
		else if (x->lic->kind == LIC_FREE)
			sb_adds(&sb, " The copyright file is not machine-readable: its whole text is "
				     "the declared licence (see hasExtractedLicensingInfos).");
		else if (x->lic->kind == LIC_NONE)
			sb_adds(&sb, " The package has no copyright file.");
		if (p->requested)
			sb_adds(&sb, " Requested by the recipe.");
		add_str(o, "comment", sb.buf);
		spdx_extref(add_arr(o, "externalRefs"), "PACKAGE-MANAGER", "purl", x->purl);
		add_str(o, "primaryPackagePurpose", "INSTALL");

		rel_add(&rels, &nrels, &arels, "SPDXRef-Image", "CONTAINS", x->spdxid, NULL);
		rel_add(&rels, &nrels, &arels, x->spdxid, "PACKAGE_OF", "SPDXRef-OperatingSystem", NULL);
		/* the OS's packages, as scanners (Trivy) read them: image
		 * CONTAINS OS CONTAINS package */
		rel_add(&rels, &nrels, &arels, "SPDXRef-OperatingSystem", "CONTAINS", x->spdxid, NULL);
		rel_add(&rels, &nrels, &arels, x->spdxid, "GENERATED_FROM", s->spdxid, NULL);
		if (p->requested)
			rel_add(&rels, &nrels, &arels, "SPDXRef-Image", "DEPENDS_ON", x->spdxid,
				"requested by the recipe");
		for (size_t d = 0; d < x->deps.n; d++)
			rel_add(&rels, &nrels, &arels, x->spdxid, "DEPENDS_ON",
				m->pkgs[strtoul(x->deps.v[d], NULL, 10)].spdxid, NULL);
	}
	/* Debian source packages */
	for (size_t i = 0; i < m->nsrcs; i++) {
		const struct src *s = &m->srcs[i];
		o = arr_obj(pkgs);
		add_str(o, "SPDXID", s->spdxid);
		add_str(o, "name", s->name);
		add_str(o, "versionInfo", s->version);
		add_str(o, "downloadLocation", "NOASSERTION");
		cJSON_AddBoolToObject(o, "filesAnalyzed", false);
		add_str(o, "comment", "Debian source package of the binary packages GENERATED_FROM it.");
		spdx_extref(add_arr(o, "externalRefs"), "PACKAGE-MANAGER", "purl", s->purl);
		add_str(o, "primaryPackagePurpose", "SOURCE");
	}

	if (with_files) {
		cJSON *files = add_arr(doc, "files");
		for (size_t k = 0; k < img->nfiles; k++) {
			const struct sbom_file *f = &img->files[m->file_order[k]];
			char *id = file_id(f->path);
			cJSON *cs;
			o = arr_obj(files);
			add_str(o, "SPDXID", id);
			sb_reset(&sb);
			sb_addf(&sb, ".%s", f->path);
			add_str(o, "fileName", sb.buf);
			cs = add_arr(o, "checksums");
			spdx_checksum(cs, "SHA1", f->sha1);
			spdx_checksum(cs, "SHA256", f->sha256);
			if (f->pkg < 0)
				add_str(o, "comment", "generated by pare");
			rel_add(&rels, &nrels, &arels,
				f->pkg < 0 ? "SPDXRef-Image" : m->pkgs[f->pkg].spdxid, "CONTAINS", id,
				f->pkg < 0 ? "generated by pare" : NULL);
			free(id);
		}
	}

	if (m->refs->ids.n) {
		/* by id (unique); qsort, a copyright file can declare 10^5 */
		struct ref_ord *ord = xcalloc(m->refs->ids.n, sizeof(*ord));
		a = add_arr(doc, "hasExtractedLicensingInfos");
		for (size_t i = 0; i < m->refs->ids.n; i++)
			ord[i].id = m->refs->ids.v[i], ord[i].i = i;
		qsort(ord, m->refs->ids.n, sizeof(*ord), cmp_ref_ord);
		for (size_t i = 0; i < m->refs->ids.n; i++) {
			o = arr_obj(a);
			add_str(o, "licenseId", ord[i].id);
			/* SPDX 2.3 §10.2 requires a text: in the embedded copy the
			 * pointer to the copyright file the text is in */
			add_str(o, "extractedText", lic_ref_text(m->refs, ord[i].i, m->pointers));
			add_str(o, "name", m->refs->names.v[ord[i].i]);
		}
		free(ord);
	}

	qsort(rels, nrels, sizeof(*rels), cmp_rel);
	a = add_arr(doc, "relationships");
	for (size_t i = 0; i < nrels; i++) {
		o = arr_obj(a);
		add_str(o, "spdxElementId", rels[i].a);
		add_str(o, "relationshipType", rels[i].type);
		add_str(o, "relatedSpdxElement", rels[i].b);
		if (rels[i].comment)
			add_str(o, "comment", rels[i].comment);
		free(rels[i].a);
		free(rels[i].type);
		free(rels[i].b);
		free(rels[i].comment);
	}
	free(rels);
	sb_release(&sb);
	return doc;
}

/* ---- CycloneDX 1.5 ---------------------------------------------------------------------- */

static void cdx_hash(cJSON *arr, const char *alg, const char *hex)
{
	cJSON *h = arr_obj(arr);
	add_str(h, "alg", alg);
	add_str(h, "content", hex);
}

static void cdx_prop(cJSON *arr, const char *name, const char *value)
{
	cJSON *p = arr_obj(arr);
	add_str(p, "name", name);
	add_str(p, "value", value);
}

/* The embedded copy's pointer to the text of LicenseRef id, else NULL. */
static const char *cdx_pointer(const struct model *m, const char *id)
{
	long i = m->pointers ? lic_refs_find(m->refs, id) : -1;

	return i >= 0 && *m->refs->where.v[i] ? m->refs->where.v[i] : NULL;
}

static void cdx_named_license(cJSON *arr, const struct model *m, const char *id)
{
	long i = lic_refs_find(m->refs, id);
	cJSON *l = add_obj(arr_obj(arr), "license"), *t;

	add_str(l, "name", id);
	if (cdx_pointer(m, id))
		return; /* the text is in the image: cdx_license_texts points to it */
	t = add_obj(l, "text");
	add_str(t, "contentType", "text/plain");
	add_str(t, "content", i >= 0 ? m->refs->texts.v[i] : id);
}

/*
 * CycloneDX 1.5 licences are EITHER a list of licences OR one expression.
 *  - one SPDX id            -> [{expression: id}]: an id is an expression,
 *    and license.id would make validators resolve the SPDX id enum through
 *    the schema's remote $id, which an offline validator cannot do
 *  - one LicenseRef         -> [{license:{name: LicenseRef-…, text}}]
 *  - an expression          -> [{expression}]; an expression cannot carry
 *    texts, so the text of every LicenseRef in it goes to a component
 *    property "pare:license-text:LicenseRef-…" (see cdx_license_texts).
 */
static void cdx_licenses(cJSON *c, const struct model *m, const struct lic_info *li)
{
	cJSON *a;
	bool single = li->expr && !strchr(li->expr, ' ');

	if (!li->expr)
		return;
	a = add_arr(c, "licenses");
	if (single && li->refs.n == 1) {
		cdx_named_license(a, m, li->refs.v[0]);
	} else {
		add_str(arr_obj(a), "expression", li->expr);
	}
}

/* Why properties and not evidence.licenses (a list of named licences with
 * texts): a licence list of two or more entries makes the schema validator
 * on Debian 12 (python3-jsonschema 4.10) crash while formatting the oneOf
 * alternative it rejects, so no such document could be checked. */
/* The embedded copy instead names, for every LicenseRef of the component,
 * the copyright file of the image its text is in: property
 * "pare:license-text-ref:LicenseRef-…" (lic_ref_text). */
static void cdx_license_texts(cJSON *props, const struct model *m, const struct lic_info *li)
{
	bool expr = li->expr && strchr(li->expr, ' ');

	if (!li->expr)
		return;
	for (size_t i = 0; i < li->refs.n; i++) {
		const char *ptr = cdx_pointer(m, li->refs.v[i]);
		long k = lic_refs_find(m->refs, li->refs.v[i]);
		char *name;

		if (!ptr && !expr)
			continue; /* the text is in the licence itself */
		name = xasprintf("pare:license-text%s:%s", ptr ? "-ref" : "", li->refs.v[i]);
		cdx_prop(props, name, ptr ? ptr : k >= 0 ? m->refs->texts.v[k] : li->refs.v[i]);
		free(name);
	}
}

static void cdx_file(cJSON *arr, const struct sbom_file *f, bool generated)
{
	cJSON *o = arr_obj(arr), *h;
	char *ref = xasprintf("file:%s", f->path);

	add_str(o, "type", "file");
	add_str(o, "bom-ref", ref);
	add_str(o, "name", f->path);
	h = add_arr(o, "hashes");
	if (is_hex(f->sha1, SHA1_HEX_LEN))
		cdx_hash(h, "SHA-1", f->sha1);
	cdx_hash(h, "SHA-256", f->sha256);
	if (generated)
		cdx_prop(add_arr(o, "properties"), "pare:generated-by", "pare");
	free(ref);
}

static cJSON *cdx_doc(const struct model *m, bool with_files)
{
	const struct sbom_image *img = m->img;
	cJSON *doc = cJSON_CreateObject(), *md, *o, *a, *comps, *deps;
	char uuid[37];
	char *os_ref = xasprintf("os:%s@%s", img->os_id, img->os_version);
	strbuf sb = STRBUF_INIT;
	strvec dep_refs = STRVEC_INIT;

	add_str(doc, "$schema", "http://cyclonedx.org/schema/bom-1.5.schema.json");
	add_str(doc, "bomFormat", "CycloneDX");
	add_str(doc, "specVersion", "1.5");
	doc_uuid(img, SBOM_CYCLONEDX, with_files, uuid);
	sb_addf(&sb, "urn:uuid:%s", uuid);
	add_str(doc, "serialNumber", sb.buf);
	cJSON_AddNumberToObject(doc, "version", 1);

	md = add_obj(doc, "metadata");
	add_str(md, "timestamp", m->created);
	/* the array form (1.4's, still valid in 1.5): consumers built on
	 * older CycloneDX libraries (Trivy's) refuse the 1.5 object form */
	o = arr_obj(add_arr(md, "tools"));
	add_str(o, "vendor", TOOL_NAME);
	add_str(o, "name", TOOL_NAME);
	add_str(o, "version", PARE_VERSION);
	o = add_obj(md, "component");
	add_str(o, "type", "container");
	add_str(o, "bom-ref", m->image_ref);
	add_str(o, "name", m->image_name);
	if (img->manifest_digest) {
		add_str(o, "version", img->manifest_digest);
		cdx_hash(add_arr(o, "hashes"), "SHA-256", img->manifest_digest + 7);
		add_str(o, "purl", m->image_purl);
	}
	a = add_arr(o, "properties");
	cdx_prop(a, "pare:arch", img->arch);
	sb_reset(&sb);
	sb_addf(&sb, "%zu", img->nfiles);
	cdx_prop(a, "pare:files:count", sb.buf);
	sb_reset(&sb);
	sb_addf(&sb, "%zu", m->ngenerated);
	cdx_prop(a, "pare:files:generated-by-pare", sb.buf);
	cdx_prop(a, "pare:files:listed", with_files ? "true" : "false");
	if (!img->manifest_digest)
		cdx_prop(a, "pare:embedded", "true");
	if (img->recipe_sha256)
		cdx_prop(a, "pare:recipe:sha256", img->recipe_sha256);
	if (img->reference)
		cdx_prop(a, "pare:reference", img->reference);

	comps = add_arr(doc, "components");
	o = arr_obj(comps);
	add_str(o, "type", "operating-system");
	add_str(o, "bom-ref", os_ref);
	add_str(o, "name", img->os_id);
	add_str(o, "version", img->os_version);
	if (!strcmp(img->os_id, "debian")) {
		os_debian_text(img, &sb, false);
		add_str(o, "description", sb.buf);
		os_debian_text(img, &sb, true);
		add_str(o, "cpe", sb.buf);
	}

	for (size_t i = 0; i < img->npkgs; i++) {
		const struct pkgx *x = &m->pkgs[i];
		const struct sbom_pkg *p = x->p;
		const struct src *s = &m->srcs[x->src];
		char *mname, *mmail;
		cJSON *h, *anc;

		o = arr_obj(comps);
		add_str(o, "type", "library");
		add_str(o, "bom-ref", x->purl);
		split_maintainer(p->maintainer, &mname, &mmail);
		if (mname) {
			cJSON *sup = add_obj(o, "supplier");
			add_str(sup, "name", mname);
			if (mmail)
				add_str(arr_obj(add_arr(sup, "contact")), "email", mmail);
		}
		free(mname);
		free(mmail);
		add_str(o, "name", p->name);
		add_str(o, "version", p->version);
		h = add_arr(o, "hashes");
		cdx_hash(h, "SHA-256", p->deb_sha256);
		cdx_hash(h, "SHA-512", p->deb_sha512);
		cdx_licenses(o, m, x->lic);
		if (x->lic->copyright)
			add_str(o, "copyright", x->lic->copyright);
		add_str(o, "purl", x->purl);
		/* The source package is what the binary was derived from. */
		anc = arr_obj(add_arr(add_obj(o, "pedigree"), "ancestors"));
		add_str(anc, "type", "library");
		add_str(anc, "name", s->name);
		add_str(anc, "version", s->version);
		add_str(anc, "purl", s->purl);
		if (p->download_url || p->homepage) {
			a = add_arr(o, "externalReferences");
			if (p->download_url) {
				cJSON *r = arr_obj(a);
				add_str(r, "url", p->download_url);
				add_str(r, "type", "distribution");
			}
			if (p->homepage) {
				cJSON *r = arr_obj(a);
				add_str(r, "url", p->homepage);
				add_str(r, "type", "website");
			}
		}
		if (with_files && x->nfiles) {
			a = add_arr(o, "components");
			for (size_t k = 0; k < img->nfiles; k++) {
				const struct sbom_file *f = &img->files[m->file_order[k]];
				if (f->pkg == (int)i)
					cdx_file(a, f, false);
			}
		}
		a = add_arr(o, "properties");
		if (p->filename)
			cdx_prop(a, "pare:deb:filename", p->filename);
		sb_reset(&sb);
		sb_addf(&sb, "%zu", x->nfiles);
		cdx_prop(a, "pare:files:count", sb.buf);
		if (p->requested)
			cdx_prop(a, "pare:requested", "true");
		cdx_license_texts(a, m, x->lic);
	}
	if (with_files)
		for (size_t k = 0; k < img->nfiles; k++) {
			const struct sbom_file *f = &img->files[m->file_order[k]];
			if (f->pkg < 0)
				cdx_file(comps, f, true);
		}

	/* dependencies: one entry per package-like component, sorted by ref */
	deps = add_arr(doc, "dependencies");
	sv_push(&dep_refs, m->image_ref);
	sv_push(&dep_refs, os_ref);
	for (size_t i = 0; i < img->npkgs; i++)
		sv_push(&dep_refs, m->pkgs[i].purl);
	sv_sort(&dep_refs);
	for (size_t r = 0; r < dep_refs.n; r++) {
		strvec on = STRVEC_INIT;
		o = arr_obj(deps);
		add_str(o, "ref", dep_refs.v[r]);
		if (!strcmp(dep_refs.v[r], m->image_ref)) {
			/* the OS, and the recipe's packages */
			sv_push(&on, os_ref);
			for (size_t i = 0; i < img->npkgs; i++)
				if (img->pkgs[i].requested)
					sv_push(&on, m->pkgs[i].purl);
		} else if (!strcmp(dep_refs.v[r], os_ref)) {
			/* the OS is its packages (scanners such as Trivy take
			 * the OS's packages from here) */
			for (size_t i = 0; i < img->npkgs; i++)
				sv_push(&on, m->pkgs[i].purl);
		} else {
			for (size_t i = 0; i < img->npkgs; i++)
				if (!strcmp(dep_refs.v[r], m->pkgs[i].purl))
					for (size_t d = 0; d < m->pkgs[i].deps.n; d++)
						sv_push(&on, m->pkgs[strtoul(m->pkgs[i].deps.v[d], NULL, 10)].purl);
		}
		sv_sort(&on);
		a = add_arr(o, "dependsOn");
		for (size_t k = 0; k < on.n; k++)
			arr_str(a, on.v[k]);
		sv_clear(&on);
	}
	sv_clear(&dep_refs);
	sb_release(&sb);
	free(os_ref);
	return doc;
}

/* ---- the image index ------------------------------------------------------------------- */

/* What sbom_write() puts in documentNamespace / serialNumber for img. */
static void doc_ref(const struct sbom_image *img, enum sbom_format fmt, const char *image_name,
		    strbuf *sb)
{
	char uuid[37];

	doc_uuid(img, fmt, false, uuid);
	sb_reset(sb);
	if (fmt == SBOM_SPDX) {
		sb_adds(sb, "https://spdx.org/spdxdocs/pare-");
		spdx_esc(sb, image_name);
		sb_addf(sb, "-%s-%s", img->arch, uuid);
	} else {
		sb_addf(sb, "urn:uuid:%s", uuid);
	}
}

static cJSON *index_doc(const struct sbom_image *imgs, size_t n, const struct model *ms,
			const char *index_digest, const char *const *docs, const size_t *lens,
			enum sbom_format fmt)
{
	/* The index gets its own id: same derivation, "index" for the arch. */
	struct sbom_image ix = { .name = imgs[0].name, .arch = (char *)"index",
				 .manifest_digest = (char *)index_digest };
	const struct model *m0 = &ms[0];
	cJSON *doc = cJSON_CreateObject(), *o, *a, *pkgs = NULL, *rels = NULL, *comps = NULL, *deps;
	strbuf sb = STRBUF_INIT, id = STRBUF_INIT, purl = STRBUF_INIT;
	char created[32];
	const char *ref = imgs[0].reference ? imgs[0].reference : imgs[0].name;

	time_rfc3339(imgs[0].created, created);
	sb_adds(&purl, "pkg:oci/");
	purl_encode(&purl, m0->image_name);
	sb_addc(&purl, '@');
	purl_encode(&purl, index_digest);
	if (m0->image_tag) {
		sb_adds(&purl, "?tag=");
		purl_encode(&purl, m0->image_tag);
	}
	sb_addf(&sb, "OCI image index %s built by pare: %zu architecture%s (", ref, n,
		n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s%s", i ? ", " : "", imgs[i].arch);
	sb_adds(&sb, "). The packages of each image are in that image's own SBOM, linked here "
		     "by its id and checksum.");
	if (imgs[0].recipe_sha256)
		sb_addf(&sb, " Recipe sha256 %s.", imgs[0].recipe_sha256);
	if (fmt == SBOM_SPDX) {
		add_str(doc, "spdxVersion", "SPDX-2.3");
		add_str(doc, "dataLicense", "CC0-1.0");
		add_str(doc, "SPDXID", "SPDXRef-DOCUMENT");
		sb_reset(&id);
		sb_addf(&id, "%s index", ref);
		add_str(doc, "name", id.buf);
		doc_ref(&ix, fmt, m0->image_name, &id);
		add_str(doc, "documentNamespace", id.buf);
		o = add_obj(doc, "creationInfo");
		add_str(o, "created", created);
		arr_str(add_arr(o, "creators"), "Tool: " TOOL_NAME "-" PARE_VERSION);
		add_str(doc, "comment", sb.buf);
		a = add_arr(doc, "externalDocumentRefs");
		for (size_t i = 0; i < n; i++) {
			char sha1[SHA1_HEX_LEN + 1];
			phash *h = phash_new("sha1");

			phash_update(h, docs[i], lens[i]);
			phash_final_hex(h, sha1);
			o = arr_obj(a);
			sb_reset(&id);
			sb_adds(&id, "DocumentRef-");
			spdx_esc(&id, imgs[i].arch);
			add_str(o, "externalDocumentId", id.buf);
			doc_ref(&imgs[i], fmt, ms[i].image_name, &id);
			add_str(o, "spdxDocument", id.buf);
			/* SPDX 2.3 §6.6: the checksum of an external document is SHA1 */
			o = add_obj(o, "checksum");
			add_str(o, "algorithm", "SHA1");
			add_str(o, "checksumValue", sha1);
		}
		pkgs = add_arr(doc, "packages");
		o = arr_obj(pkgs);
		add_str(o, "SPDXID", "SPDXRef-Index");
		add_str(o, "name", m0->image_name);
		add_str(o, "versionInfo", index_digest);
		add_str(o, "downloadLocation", "NOASSERTION");
		cJSON_AddBoolToObject(o, "filesAnalyzed", false);
		spdx_checksum(add_arr(o, "checksums"), "SHA256", index_digest + 7);
		add_str(o, "comment", sb.buf);
		spdx_extref(add_arr(o, "externalRefs"), "PACKAGE-MANAGER", "purl", purl.buf);
		add_str(o, "primaryPackagePurpose", "CONTAINER");
		rels = cJSON_CreateArray();
		o = arr_obj(rels);
		add_str(o, "spdxElementId", "SPDXRef-DOCUMENT");
		add_str(o, "relationshipType", "DESCRIBES");
		add_str(o, "relatedSpdxElement", "SPDXRef-Index");
	} else {
		char uuid[37];

		add_str(doc, "$schema", "http://cyclonedx.org/schema/bom-1.5.schema.json");
		add_str(doc, "bomFormat", "CycloneDX");
		add_str(doc, "specVersion", "1.5");
		doc_uuid(&ix, fmt, false, uuid);
		sb_reset(&id);
		sb_addf(&id, "urn:uuid:%s", uuid);
		add_str(doc, "serialNumber", id.buf);
		cJSON_AddNumberToObject(doc, "version", 1);
		o = add_obj(doc, "metadata");
		add_str(o, "timestamp", created);
		a = arr_obj(add_arr(o, "tools")); /* the array form, as above */
		add_str(a, "vendor", TOOL_NAME);
		add_str(a, "name", TOOL_NAME);
		add_str(a, "version", PARE_VERSION);
		o = add_obj(o, "component");
		add_str(o, "type", "container");
		add_str(o, "bom-ref", purl.buf);
		add_str(o, "name", m0->image_name);
		add_str(o, "version", index_digest);
		add_str(o, "description", sb.buf);
		cdx_hash(add_arr(o, "hashes"), "SHA-256", index_digest + 7);
		add_str(o, "purl", purl.buf);
		a = add_arr(o, "properties");
		cdx_prop(a, "pare:index", "true");
		if (imgs[0].recipe_sha256)
			cdx_prop(a, "pare:recipe:sha256", imgs[0].recipe_sha256);
		if (imgs[0].reference)
			cdx_prop(a, "pare:reference", imgs[0].reference);
		comps = add_arr(doc, "components");
	}
	for (size_t i = 0; i < n; i++) {
		const struct model *m = &ms[i];
		char hex[SHA256_HEX_LEN + 1];

		sha256_hex(docs[i], lens[i], hex);
		if (fmt == SBOM_SPDX) {
			strbuf sid = STRBUF_INIT;

			sb_adds(&sid, "SPDXRef-Image-");
			spdx_esc(&sid, imgs[i].arch);
			o = arr_obj(pkgs);
			add_str(o, "SPDXID", sid.buf);
			add_str(o, "name", m->image_name);
			add_str(o, "versionInfo", imgs[i].manifest_digest);
			add_str(o, "downloadLocation", "NOASSERTION");
			cJSON_AddBoolToObject(o, "filesAnalyzed", false);
			spdx_checksum(add_arr(o, "checksums"), "SHA256", imgs[i].manifest_digest + 7);
			sb_reset(&sb);
			sb_addf(&sb, "The image for %s; its packages are in DocumentRef-", imgs[i].arch);
			spdx_esc(&sb, imgs[i].arch);
			sb_addf(&sb, " (sha256 %s).", hex);
			add_str(o, "comment", sb.buf);
			spdx_extref(add_arr(o, "externalRefs"), "PACKAGE-MANAGER", "purl", m->image_purl);
			add_str(o, "primaryPackagePurpose", "CONTAINER");
			o = arr_obj(rels);
			add_str(o, "spdxElementId", "SPDXRef-Index");
			add_str(o, "relationshipType", "CONTAINS");
			add_str(o, "relatedSpdxElement", sid.buf);
			o = arr_obj(rels);
			add_str(o, "spdxElementId", sid.buf);
			add_str(o, "relationshipType", "DESCRIBED_BY");
			sb_reset(&sb);
			sb_adds(&sb, "DocumentRef-");
			spdx_esc(&sb, imgs[i].arch);
			sb_adds(&sb, ":SPDXRef-DOCUMENT");
			add_str(o, "relatedSpdxElement", sb.buf);
			sb_release(&sid);
		} else {
			o = arr_obj(comps);
			add_str(o, "type", "container");
			add_str(o, "bom-ref", m->image_purl);
			add_str(o, "name", m->image_name);
			add_str(o, "version", imgs[i].manifest_digest);
			cdx_hash(add_arr(o, "hashes"), "SHA-256", imgs[i].manifest_digest + 7);
			add_str(o, "purl", m->image_purl);
			/* CycloneDX BOM-Link: urn:cdx:SERIAL/VERSION names the image's own BOM */
			a = arr_obj(add_arr(o, "externalReferences"));
			doc_ref(&imgs[i], fmt, m->image_name, &id);
			sb_reset(&sb);
			sb_addf(&sb, "urn:cdx:%s/1", id.buf + strlen("urn:uuid:"));
			add_str(a, "url", sb.buf);
			add_str(a, "comment", "the SBOM of this image, with its packages");
			add_str(a, "type", "bom");
			cdx_hash(add_arr(a, "hashes"), "SHA-256", hex);
			cdx_prop(add_arr(o, "properties"), "pare:arch", imgs[i].arch);
		}
	}
	if (fmt == SBOM_SPDX) {
		cJSON_AddItemToObject(doc, "relationships", rels);
	} else {
		deps = add_arr(doc, "dependencies");
		o = arr_obj(deps);
		add_str(o, "ref", purl.buf);
		a = add_arr(o, "dependsOn");
		for (size_t i = 0; i < n; i++)
			arr_str(a, ms[i].image_purl);
		for (size_t i = 0; i < n; i++) {
			o = arr_obj(deps);
			add_str(o, "ref", ms[i].image_purl);
			add_arr(o, "dependsOn");
		}
	}
	sb_release(&sb);
	sb_release(&id);
	sb_release(&purl);
	return doc;
}

int sbom_write_index(const struct sbom_image *imgs, size_t n, const char *index_digest,
		     const char *const *arch_docs, const size_t *arch_doclens,
		     enum sbom_format fmt, strbuf *out, perr *e)
{
	struct model *ms = xcalloc(n + 1, sizeof(*ms));
	cJSON *doc = NULL;
	char *txt = NULL;
	int ret = -1;

	if (!n) {
		perr_set(e, "sbom: an index without images");
		goto out;
	}
	if (!index_digest || !str_starts(index_digest, "sha256:") || !is_sha256_hex(index_digest + 7)) {
		perr_set(e, "sbom: bad index digest '%s'", index_digest ? index_digest : "");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* arch order as given (the index's); a digest for each */
		if (!imgs[i].name || !imgs[i].arch || !imgs[i].manifest_digest ||
		    strcmp(imgs[i].name, imgs[0].name)) {
			perr_set(e, "sbom: index image %zu without a name, arch or manifest digest", i);
			goto out;
		}
		if (model_build(&ms[i], &imgs[i], false, e) < 0) {
			perr_prefix(e, "sbom");
			goto out;
		}
	}
	doc = index_doc(imgs, n, ms, index_digest, arch_docs, arch_doclens, fmt);
	txt = cJSON_Print(doc);
	if (!txt)
		die("cjson: out of memory printing the sbom");
	sb_adds(out, txt);
	sb_addc(out, '\n');
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		if (ms[i].img)
			model_release(&ms[i]);
	free(ms);
	free(txt);
	cJSON_Delete(doc);
	return ret;
}

/* ---- public ----------------------------------------------------------------------------- */

int sbom_write(const struct sbom_image *img, enum sbom_format fmt, bool with_files,
	       strbuf *out, perr *e)
{
	struct model m;
	cJSON *doc = NULL;
	char *txt = NULL;
	int ret = -1;

	if (model_build(&m, img, fmt == SBOM_SPDX && with_files, e) < 0) {
		perr_prefix(e, "sbom");
		goto out;
	}
	doc = fmt == SBOM_SPDX ? spdx_doc(&m, with_files) : cdx_doc(&m, with_files);
	txt = cJSON_Print(doc);
	if (!txt)
		die("cjson: out of memory printing the sbom");
	sb_adds(out, txt);
	sb_addc(out, '\n');
	ret = 0;
out:
	free(txt);
	cJSON_Delete(doc);
	model_release(&m);
	return ret;
}

int sbom_parse_format(const char *s, enum sbom_format *fmt, perr *e)
{
	if (!strcmp(s, "spdx") || !strcmp(s, "spdx-json"))
		*fmt = SBOM_SPDX;
	else if (!strcmp(s, "cyclonedx") || !strcmp(s, "cdx") || !strcmp(s, "cyclonedx-json"))
		*fmt = SBOM_CYCLONEDX;
	else
		return perr_set(e, "unknown sbom format '%s' (spdx or cyclonedx)", s);
	return 0;
}

const char *sbom_file_name(enum sbom_format fmt)
{
	return fmt == SBOM_SPDX ? "sbom.spdx.json" : "sbom.cdx.json";
}

char *sbom_embedded_path(const char *name, enum sbom_format fmt)
{
	return xasprintf("%s/%s.%s.json", SBOM_EMBED_DIR, name, fmt == SBOM_SPDX ? "spdx" : "cdx");
}

void sbom_image_release(struct sbom_image *img)
{
	for (size_t i = 0; i < img->npkgs; i++) {
		struct sbom_pkg *p = &img->pkgs[i];
		deb_id_release(&p->id);
		free(p->maintainer);
		free(p->homepage);
		free(p->filename);
		free(p->download_url);
		free(p->deb_sha256);
		free(p->deb_sha512);
		free(p->copyright);
		free(p->copyright_file);
		sv_clear(&p->depends);
	}
	free(img->pkgs);
	for (size_t i = 0; i < img->nfiles; i++)
		free(img->files[i].path);
	free(img->files);
	free(img->name);
	free(img->arch);
	free(img->reference);
	free(img->manifest_digest);
	free(img->recipe_sha256);
	free(img->os_id);
	free(img->os_version);
	free(img->os_codename);
	sbom_licenses_free(img->lic);
	memset(img, 0, sizeof(*img));
}
