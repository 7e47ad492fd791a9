/*
 * subject.c - what an image or an SBOM that pare did not lock carries:
 * the packages a CVE match needs (binary, source and their versions) and
 * the codename the tracker is read for.
 *
 * Images: the dpkg database is what every scanner reads too.  Layers are
 * applied in order as an overlay filesystem would (OCI image spec, "Whiteouts"):
 * a ".wh.NAME" entry hides NAME of the layers below, ".wh..wh..opq" hides
 * everything below in its directory, and a later file replaces an earlier one.
 * Only the few files that matter are kept in memory.
 */
#include "cve_int.h"
#include "../oci/oci.h"
#include "../sbom/sbom.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_MAX (16u << 20)          /* an index, manifest or config */
#define DPKG_FILE_MAX (64u << 20)     /* one status file */
#define SBOM_MAX (512u << 20)
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

void cve_pkg_release(struct cve_pkg *p)
{
	deb_id_release(&p->id);
	free(p->purl);
	free(p->bom_ref);
}

/* pkg:deb/debian/NAME@VERSION?arch=ARCH[&upstream=SOURCE], the form cve.h
 * promises (sbom's purl_deb for the common part). */
static char *pkg_purl(const char *name, const char *version, const char *arch, const char *source)
{
	char *base = purl_deb(name, version, arch ? arch : "", NULL);
	strbuf sb = STRBUF_INIT;

	sb_adds(&sb, base);
	free(base);
	if (source && strcmp(source, name)) {
		sb_adds(&sb, "&upstream=");
		purl_encode(&sb, source);
	}
	return sb_detach(&sb);
}

/* "src", "src (version)", "src@version", "src:src" (as scanners write the
 * upstream qualifier or dpkg the Source field) -> name and version (NULL
 * when the text names none). */
static void source_split(const char *v, char **name, char **version)
{
	const char *p;
	size_t n;

	if (str_starts(v, "src:"))
		v += 4;
	n = strcspn(v, " @(");
	*name = xstrndup(v, n);
	*version = NULL;
	p = v + n;
	while (*p == ' ')
		p++;
	if (*p == '@' && p[1]) {
		*version = xstrdup(p + 1);
	} else if (*p == '(') {
		size_t m = strcspn(p + 1, ")");
		char *t = xstrndup(p + 1, m);

		*version = xstrdup(str_trim(t));
		free(t);
		if (!**version) {
			free(*version);
			*version = NULL;
		}
	}
}

static void pkg_add(struct cve_subject *s, size_t *alloc, const char *name, const char *version,
		    const char *arch, const char *source)
{
	struct cve_pkg *p;
	char *sname = NULL, *sver = NULL;

	if (source && *source)
		source_split(source, &sname, &sver);
	ALLOC_GROW(s->pkgs, s->npkgs + 1, *alloc);
	p = &s->pkgs[s->npkgs++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->version = xstrdup(version);
	p->arch = arch && *arch ? xstrdup(arch) : NULL;
	p->source = sname;
	p->source_version = sver;
	deb_id_default_source(&p->id);
	p->purl = pkg_purl(p->name, p->version, p->arch, p->source);
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct cve_pkg *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->arch ? x->arch : "", y->arch ? y->arch : "");
}

/* Sorted by name and arch, one record of each (a package both in status and
 * status.d, or listed twice in an SBOM, is one package). */
static void pkgs_finish(struct cve_subject *s)
{
	size_t k = 0;

	if (s->npkgs)
		qsort(s->pkgs, s->npkgs, sizeof(*s->pkgs), cmp_pkg);
	for (size_t i = 0; i < s->npkgs; i++) {
		if (k && !cmp_pkg(&s->pkgs[k - 1], &s->pkgs[i]))
			cve_pkg_release(&s->pkgs[i]);
		else
			s->pkgs[k++] = s->pkgs[i];
	}
	s->npkgs = k;
}

/* ---- dpkg status ---------------------------------------------------------- */

/* One stanza of a status file (the common deb822 parser splits them). */
struct status_ctx {
	struct cve_subject *s;
	size_t alloc;
	const char *name;
};

static int status_stanza(void *arg, struct deb822_stanza *st, perr *e)
{
	struct status_ctx *c = arg;
	const char *pkg = deb822_value(st, "Package"), *ver = deb822_value(st, "Version");
	const char *status = deb822_value(st, "Status");

	if (!pkg || !*pkg || !ver || !*ver) {
		strbuf qn = STRBUF_INIT; /* a status.d file name is the image's */
		int ret;

		sb_add_quoted(&qn, c->name);
		ret = perr_set(e, "%s:%zu: dpkg status paragraph without %s", sb_str(&qn), st->line,
			       pkg && *pkg ? "Version" : "Package");
		sb_release(&qn);
		return ret;
	}
	/* "install ok installed"; not "deinstall ok config-files", "half-installed" */
	if (!status || str_ends(status, " installed"))
		pkg_add(c->s, &c->alloc, pkg, ver, deb822_value(st, "Architecture"),
			deb822_value(st, "Source"));
	return 0;
}

int cve_subject_add_status(struct cve_subject *s, const char *name, const char *text, perr *e)
{
	static const char *const keep[] = { "Package", "Version", "Architecture", "Source",
					    "Status", NULL };
	struct status_ctx c = { s, s->npkgs, name };
	struct deb822 p = { .name = name, .flags = DEB822_SKIP_JUNK, .keep = keep,
			    .stanza = status_stanza, .arg = &c };

	return deb822_parse(&p, text, strlen(text), e);
}

/* ---- images ---------------------------------------------------------------- */

/* A file of the image that a subject is read from, as the layers so far
 * leave it. */
struct kept {
	char *path;    /* "var/lib/dpkg/status", no leading "/" or "./" */
	strbuf data;   /* content, or the link target of a symlink */
	bool symlink;
};

struct overlay {
	struct kept *v;
	size_t n, alloc;
};

/* Remove entry i, keeping the order of the others. */
static void overlay_drop(struct overlay *o, size_t i)
{
	free(o->v[i].path);
	sb_release(&o->v[i].data);
	memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
	o->n--;
}

static void overlay_release(struct overlay *o)
{
	while (o->n)
		overlay_drop(o, o->n - 1);
	free(o->v);
	o->v = NULL;
	o->alloc = 0;
}

/* Put k (owned) in o in place of any entry of the same path. */
static void overlay_put(struct overlay *o, struct kept *k)
{
	for (size_t i = o->n; i-- > 0;)
		if (!strcmp(o->v[i].path, k->path))
			overlay_drop(o, i);
	ALLOC_GROW(o->v, o->n + 1, o->alloc);
	o->v[o->n++] = *k;
}

static bool wanted(const char *path)
{
	const char *d = "var/lib/dpkg/status.d/";

	if (!strcmp(path, "var/lib/dpkg/status") || !strcmp(path, "etc/os-release") ||
	    !strcmp(path, "usr/lib/os-release"))
		return true;
	/* status.d/NAME; distroless also keeps NAME.md5sums there */
	return str_starts(path, d) && path[strlen(d)] && !strchr(path + strlen(d), '/') &&
	       !str_ends(path, ".md5sums");
}

/* A whiteout: hide path and what lies under it ("" = everything); with
 * children_only (an opaque directory) only what lies under it. */
static void overlay_hide(struct overlay *o, const char *path, bool children_only)
{
	size_t pl = strlen(path);

	for (size_t i = o->n; i-- > 0;) {
		const char *k = o->v[i].path;

		if (!pl || (!children_only && !strcmp(k, path)) ||
		    (!strncmp(k, path, pl) && k[pl] == '/'))
			overlay_drop(o, i);
	}
}

static char *norm_path(const char *p)
{
	char *s;
	size_t n;

	while (str_starts(p, "./") || *p == '/')
		p += *p == '/' ? 1 : 2;
	s = xstrdup(p);
	n = strlen(s);
	while (n && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* An entry's content into k (at most DPKG_FILE_MAX bytes). */
static int read_entry(struct archive *a, const char *digest, struct kept *k, perr *e)
{
	char buf[65536];
	la_ssize_t got;

	sb_adds(&k->data, "");
	while ((got = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (k->data.len + (size_t)got > DPKG_FILE_MAX)
			return perr_set(e, "layer %s: /%s is larger than %u MiB", digest, k->path,
					DPKG_FILE_MAX >> 20);
		sb_add(&k->data, buf, (size_t)got);
	}
	if (got < 0)
		return perr_set(e, "layer %s: /%s: %s", digest, k->path, archive_error_string(a));
	return 0;
}

/* One layer (a tar, any compression libarchive reads) onto o. */
static int layer_apply(struct overlay *o, const char *blob, const char *digest, perr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct overlay fresh = { NULL, 0, 0 };
	strvec hide = STRVEC_INIT, opaque = STRVEC_INIT;
	int r, ret = -1;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, blob, 65536) != ARCHIVE_OK) {
		perr_set(e, "layer %s: %s", digest, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		char *path = norm_path(name ? name : "");
		const char *base = path_basename(path);
		struct kept k = { path, STRBUF_INIT, false };

		if (!strcmp(base, ".wh..wh..opq")) {
			sv_push_nodup(&opaque, path_dirname(path));
		} else if (str_starts(base, ".wh.")) {
			char *dir = path_dirname(path);

			sv_push_nodup(&hide, !strcmp(dir, ".") ? xstrdup(base + 4) :
					     xasprintf("%s/%s", dir, base + 4));
			free(dir);
		} else if (wanted(path) && archive_entry_filetype(ae) == AE_IFLNK &&
			   archive_entry_symlink(ae)) {
			k.symlink = true;
			sb_adds(&k.data, archive_entry_symlink(ae));
			overlay_put(&fresh, &k);
			continue;
		} else if (wanted(path) && archive_entry_filetype(ae) == AE_IFREG &&
			   !archive_entry_hardlink(ae)) {
			if (read_entry(a, digest, &k, e) < 0) {
				sb_release(&k.data);
				free(path);
				goto out;
			}
			overlay_put(&fresh, &k);
			continue;
		}
		free(path);
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "layer %s: %s", digest, archive_error_string(a));
		goto out;
	}
	/* whiteouts hide the layers below, never this one's own files */
	for (size_t i = 0; i < hide.n; i++)
		overlay_hide(o, hide.v[i], false);
	for (size_t i = 0; i < opaque.n; i++)
		overlay_hide(o, !strcmp(opaque.v[i], ".") ? "" : opaque.v[i], true);
	for (size_t i = 0; i < fresh.n; i++)
		overlay_put(o, &fresh.v[i]);
	fresh.n = 0;
	ret = 0;
out:
	overlay_release(&fresh);
	sv_clear(&hide);
	sv_clear(&opaque);
	archive_read_free(a);
	return ret;
}

static cJSON *blob_json(struct oci_src *src, const char *digest, perr *e)
{
	strbuf b = STRBUF_INIT;
	cJSON *j = NULL;

	if (digest && oci_src_blob(src, digest, &b, JSON_MAX, e) == 0) {
		j = cJSON_ParseWithLength(b.buf, b.len);
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			j = NULL;
			perr_set(e, "blob %s is not a JSON object", digest);
		}
	} else if (!digest) {
		perr_set(e, "a descriptor without a digest");
	}
	sb_release(&b);
	return j;
}

/* The file the image's /etc/os-release is (a link to ../usr/lib/os-release
 * in Debian), else /usr/lib/os-release; NULL when neither. */
static const char *os_release_text(const struct overlay *o)
{
	const struct kept *etc = NULL, *usr = NULL;

	for (size_t i = 0; i < o->n; i++) {
		if (!strcmp(o->v[i].path, "etc/os-release"))
			etc = &o->v[i];
		else if (!strcmp(o->v[i].path, "usr/lib/os-release"))
			usr = &o->v[i];
	}
	if (etc && !etc->symlink)
		return sb_str(&etc->data);
	if (etc && !str_ends(sb_str(&etc->data), "usr/lib/os-release"))
		return NULL;
	return usr && !usr->symlink ? sb_str(&usr->data) : NULL;
}

/* The codename an os-release names: VERSION_CODENAME, else Debian's release
 * number (VERSION_ID "12" -> bookworm). */
static char *os_codename(const char *text)
{
	char *c, *id, *v;

	if (!text)
		return NULL;
	c = os_release_value(text, "VERSION_CODENAME");
	if (c && *c)
		return c;
	free(c);
	c = NULL;
	id = os_release_value(text, "ID");
	v = os_release_value(text, "VERSION_ID");
	if (id && !strcmp(id, "debian") && debian_codename_of(v))
		c = xstrdup(debian_codename_of(v));
	free(id);
	free(v);
	return c;
}

static int cmp_kept(const void *a, const void *b)
{
	return strcmp(((const struct kept *)a)->path, ((const struct kept *)b)->path);
}

/* One image manifest -> one subject (0), or 1 when its arch is not want. */
static int image_subject(struct oci_src *src, const char *dir, const char *name,
			 const char *digest, const cJSON *platform, const char *want,
			 struct cve_subject *s, perr *e)
{
	cJSON *m = NULL, *cfg = NULL;
	const cJSON *l, *pl;
	struct overlay o = { NULL, 0, 0 };
	char *plat = NULL, *arch = NULL;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (!(m = blob_json(src, digest, e)))
		goto out;
	if (!(cfg = blob_json(src, oci_json_str(cJSON_GetObjectItemCaseSensitive(m, "config"), "digest"), e))) {
		perr_prefix(e, "manifest %s", digest);
		goto out;
	}
	pl = platform ? platform : cfg;
	if (!oci_json_str(pl, "architecture")) {
		perr_set(e, "manifest %s names no architecture", digest);
		goto out;
	}
	plat = xasprintf("linux/%s%s%s", oci_json_str(pl, "architecture"), oci_json_str(pl, "variant") ? "/" : "",
			 oci_json_str(pl, "variant") ? oci_json_str(pl, "variant") : "");
	if (oci_platform_parse(plat, &arch, e) < 0) {
		perr_prefix(e, "manifest %s", digest);
		goto out;
	}
	if (want && strcmp(want, arch)) {
		ret = 1;
		goto out;
	}
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(m, "layers")) {
		const char *d = oci_json_str(l, "digest");
		char *blob;
		int r;

		if (!d || !str_starts(d, "sha256:") || !is_sha256_hex(d + 7)) {
			perr_set(e, "manifest %s: a layer without a sha256 digest", digest);
			goto out;
		}
		blob = xasprintf("%s/blobs/sha256/%s", dir, d + 7);
		r = layer_apply(&o, blob, d, e);
		free(blob);
		if (r < 0)
			goto out;
	}
	s->name = xstrdup(name);
	s->arch = arch;
	arch = NULL;
	s->digest = xstrdup(digest);
	s->codename = os_codename(os_release_text(&o));
	/* status first, then status.d in name order: the same packages
	 * whatever order the layers listed them in */
	if (o.n)
		qsort(o.v, o.n, sizeof(*o.v), cmp_kept);
	for (size_t i = 0; i < o.n; i++) {
		const char *p = o.v[i].path;
		char *fname;
		int r;

		if (o.v[i].symlink || !str_starts(p, "var/lib/dpkg/status"))
			continue;
		fname = xasprintf("/%s", p);
		r = cve_subject_add_status(s, fname, sb_str(&o.v[i].data), e);
		free(fname);
		if (r < 0)
			goto out;
	}
	pkgs_finish(s);
	ret = 0;
out:
	if (ret < 0)
		cve_subject_release(s);
	overlay_release(&o);
	free(plat);
	free(arch);
	cJSON_Delete(m);
	cJSON_Delete(cfg);
	return ret;
}

static bool is_image_entry(const cJSON *d)
{
	const cJSON *an = cJSON_GetObjectItemCaseSensitive(d, "annotations");
	const char *rn = oci_json_str(an, "org.opencontainers.image.ref.name");

	/* not a signature, attestation, referrers index or attached SBOM */
	return oci_json_str(d, "digest") && !oci_json_str(d, "artifactType") && !oci_json_str(an, OCI_ANN_SBOM_FORMAT) &&
	       !(rn && str_starts(rn, "sha256-"));
}

static int image_walk(struct oci_src *src, const char *dir, const char *name, const char *want,
		      struct cve_subject **subjects, size_t *n, perr *e)
{
	strbuf ib = STRBUF_INIT;
	cJSON *idx = NULL, *top = NULL;
	const cJSON *d, *entry = NULL, *c;
	const char *mt;
	size_t alloc = 0;
	int ret = -1, r;

	if (oci_src_read(src, "index.json", &ib, JSON_MAX, e) < 0)
		goto out;
	idx = cJSON_ParseWithLength(ib.buf, ib.len);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx, "manifests"))
		if (!entry && is_image_entry(d))
			entry = d;
	if (!entry) {
		perr_set(e, "index.json names no image");
		goto out;
	}
	if (!(top = blob_json(src, oci_json_str(entry, "digest"), e)))
		goto out;
	mt = oci_json_str(top, "mediaType") ? oci_json_str(top, "mediaType") : oci_json_str(entry, "mediaType");
	if ((mt && (!strcmp(mt, MT_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) ||
	    cJSON_GetObjectItemCaseSensitive(top, "manifests")) {
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(top, "manifests")) {
			const cJSON *pl = cJSON_GetObjectItemCaseSensitive(c, "platform");

			/* attestation manifests (BuildKit) say unknown/unknown */
			if (!oci_json_str(pl, "os") || strcmp(oci_json_str(pl, "os"), "linux"))
				continue;
			ALLOC_GROW(*subjects, *n + 1, alloc);
			r = image_subject(src, dir, name, oci_json_str(c, "digest"), pl, want, &(*subjects)[*n], e);
			if (r < 0)
				goto out;
			if (r == 0)
				(*n)++;
		}
	} else {
		ALLOC_GROW(*subjects, *n + 1, alloc);
		r = image_subject(src, dir, name, oci_json_str(entry, "digest"), NULL, want, &(*subjects)[*n], e);
		if (r < 0)
			goto out;
		if (r == 0)
			(*n)++;
	}
	if (!*n) {
		perr_set(e, "no image for architecture %s", want ? want : "linux/*");
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(idx);
	cJSON_Delete(top);
	sb_release(&ib);
	return ret;
}

int cve_subject_from_image(const char *path, const char *arch, struct cve_subject **subjects,
			   size_t *n, perr *e)
{
	struct oci_input in = { 0 };
	struct oci_src *src = NULL;
	int ret = -1;

	*subjects = NULL;
	*n = 0;
	if (oci_input_open(path, false, &in, e) < 0)
		return -1;
	if (oci_src_open(in.dir, &src, e) < 0 ||
	    image_walk(src, in.dir, path, arch, subjects, n, e) < 0) {
		if (!in.tarfile && !str_starts(e->msg, path))
			perr_prefix(e, "%s", path);
		else if (in.tarfile)
			oci_input_error(&in, e);
		for (size_t i = 0; i < *n; i++)
			cve_subject_release(&(*subjects)[i]);
		free(*subjects);
		*subjects = NULL;
		*n = 0;
		goto out;
	}
	ret = 0;
out:
	oci_src_close(src);
	oci_input_close(&in);
	return ret;
}

/* ---- SBOMs ---------------------------------------------------------------- */

/* cve_int.h: s quoted for a one-line message (control characters escaped, cut): text
 * from the document never breaks the line.  Valid until the fourth call
 * after it. */
const char *cve_quote(const char *s)
{
	static strbuf ring[4];
	static unsigned n;
	strbuf *sb = &ring[n++ % ARRAY_SIZE(ring)];

	sb_reset(sb);
	sb_add_quoted(sb, s ? s : "");
	return sb_str(sb);
}

char *cve_pct_decode(const char *s, size_t n, bool lower)
{
	strbuf sb = STRBUF_INIT;

	sb_adds(&sb, "");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char h[3] = { s[i + 1], s[i + 2], 0 };

			sb_addc(&sb, (char)strtol(h, NULL, 16));
			i += 2;
		} else {
			sb_addc(&sb, lower ? (char)tolower((unsigned char)s[i]) : s[i]);
		}
	}
	return sb_detach(&sb);
}

/* A pkg:deb purl's parts (decoded; NULL when absent).  false when purl is
 * not a pkg:deb purl with a name and a version. */
struct deb_purl {
	char *name, *version, *arch, *upstream, *distro;
};

static void deb_purl_release(struct deb_purl *p)
{
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->upstream);
	free(p->distro);
	memset(p, 0, sizeof(*p));
}

static bool deb_purl_parse(const char *purl, struct deb_purl *p)
{
	const char *s, *at, *q, *end;

	memset(p, 0, sizeof(*p));
	if (!purl || strncasecmp(purl, "pkg:deb/", 8))
		return false;
	s = purl + 8;
	end = s + strcspn(s, "#");
	q = memchr(s, '?', (size_t)(end - s));
	if (!q)
		q = end;
	at = memchr(s, '@', (size_t)(q - s));
	if (!at || at + 1 == q)
		return false;
	/* namespace/name: the name is the last segment */
	for (const char *x = s; x < at; x++)
		if (*x == '/')
			s = x + 1;
	if (s == at)
		return false;
	p->name = cve_pct_decode(s, (size_t)(at - s), false);
	p->version = cve_pct_decode(at + 1, (size_t)(q - at - 1), false);
	while (q < end) {
		const char *k = q + 1, *eq, *amp = memchr(k, '&', (size_t)(end - k));
		char **slot = NULL;

		if (!amp)
			amp = end;
		eq = memchr(k, '=', (size_t)(amp - k));
		if (eq) {
			size_t kl = (size_t)(eq - k);

			if (kl == 4 && !strncmp(k, "arch", 4))
				slot = &p->arch;
			else if (kl == 8 && !strncmp(k, "upstream", 8))
				slot = &p->upstream;
			else if (kl == 6 && !strncmp(k, "distro", 6))
				slot = &p->distro;
			if (slot) {
				free(*slot);
				*slot = cve_pct_decode(eq + 1, (size_t)(amp - eq - 1), false);
			}
		}
		q = amp;
	}
	return true;
}

/* "debian-12", "debian-12.5", "bookworm" -> the codename (or NULL). */
static char *distro_codename(const char *d)
{
	const char *v;

	if (!d || !*d)
		return NULL;
	v = str_starts(d, "debian-") ? d + 7 : d;
	if (debian_codename_of(v))
		return xstrdup(debian_codename_of(v));
	if (isalpha((unsigned char)*v) && !strchr(v, '-'))
		return xstrdup(v);
	return NULL;
}

struct sbom_read {
	const char *name;
	struct cve_subject *s;
	size_t alloc;
	strvec archs;
	char *distro_codename;  /* from the first distro qualifier */
	char *os_codename;      /* from an operating-system component / package */
};

/* Add the binary of purl with its source (src_name/src_version from the
 * document, NULL when it names none; the upstream qualifier wins). */
static struct cve_pkg *sbom_pkg(struct sbom_read *rd, const struct deb_purl *p, const char *src_name,
				 const char *src_version)
{
	char *src = NULL;

	if (p->arch && !strcmp(p->arch, "source"))
		return NULL; /* pare's own SBOMs list the source packages too */
	if (p->upstream && *p->upstream)
		src = xstrdup(p->upstream);
	else if (src_name && src_version && strcmp(src_version, p->version))
		src = xasprintf("%s (%s)", src_name, src_version);
	else if (src_name)
		src = xstrdup(src_name);
	pkg_add(rd->s, &rd->alloc, p->name, p->version, p->arch, src);
	free(src);
	if (p->arch && strcmp(p->arch, "all"))
		sv_push(&rd->archs, p->arch);
	if (!rd->distro_codename && p->distro)
		rd->distro_codename = distro_codename(p->distro);
	return &rd->s->pkgs[rd->s->npkgs - 1];
}

static const char *spdx_purl(const cJSON *pkg)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(pkg, "externalRefs")) {
		const char *t = oci_json_str(r, "referenceType");

		if (t && !strcmp(t, "purl") && oci_json_str(r, "referenceLocator"))
			return oci_json_str(r, "referenceLocator");
	}
	return NULL;
}

static const cJSON *spdx_by_id(const cJSON *doc, const char *id)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "packages")) {
		const char *x = oci_json_str(p, "SPDXID");

		if (x && id && !strcmp(x, id))
			return p;
	}
	return NULL;
}

static int sbom_spdx(struct sbom_read *rd, const cJSON *doc, perr *e)
{
	const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(doc, "packages"), *p;
	size_t i = 0;

	if (pkgs && !cJSON_IsArray(pkgs))
		return perr_set(e, "%s: $.packages is not an array", rd->name);
	cJSON_ArrayForEach(p, pkgs) {
		struct deb_purl dp;
		char *sname = NULL, *sver = NULL;
		const char *si = oci_json_str(p, "sourceInfo"), *pn = oci_json_str(p, "name");
		const cJSON *r;

		i++;
		if (pn && oci_json_str(p, "primaryPackagePurpose") &&
		    !strcmp(oci_json_str(p, "primaryPackagePurpose"), "OPERATING-SYSTEM") && !rd->os_codename)
			rd->os_codename = distro_codename(oci_json_str(p, "versionInfo"));
		if (!deb_purl_parse(spdx_purl(p), &dp)) {
			deb_purl_release(&dp);
			continue;
		}
		/* pare: GENERATED_FROM the source package; its sourceInfo
		 * "built from Debian source package NAME VERSION" */
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "relationships")) {
			const char *t = oci_json_str(r, "relationshipType"), *a = oci_json_str(r, "spdxElementId");
			const cJSON *src;
			struct deb_purl sp = { 0 };

			if (!t || strcmp(t, "GENERATED_FROM") || !a || !oci_json_str(p, "SPDXID") ||
			    strcmp(a, oci_json_str(p, "SPDXID")))
				continue;
			src = spdx_by_id(doc, oci_json_str(r, "relatedSpdxElement"));
			if (src && deb_purl_parse(spdx_purl(src), &sp) && !sname) {
				sname = xstrdup(sp.name);
				sver = xstrdup(sp.version);
			}
			deb_purl_release(&sp);
		}
		if (!sname && si && str_starts(si, "built from Debian source package ")) {
			strvec w = STRVEC_INIT;

			sv_split(&w, si + strlen("built from Debian source package "), " ");
			if (w.n == 2) {
				sname = xstrdup(w.v[0]);
				sver = xstrdup(w.v[1]);
			}
			sv_clear(&w);
		}
		sbom_pkg(rd, &dp, sname, sver);
		free(sname);
		free(sver);
		deb_purl_release(&dp);
	}
	return 0;
}

/* A CycloneDX property's value by name, or NULL. */
static const char *cdx_prop(const cJSON *c, const char *name)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "properties")) {
		const char *n = oci_json_str(p, "name");

		if (n && !strcmp(n, name))
			return oci_json_str(p, "value");
	}
	return NULL;
}

static void cdx_components(struct sbom_read *rd, const cJSON *comps, int depth)
{
	const cJSON *c;

	if (depth > 32)
		return;
	cJSON_ArrayForEach(c, comps) {
		struct deb_purl dp, ap = { 0 };
		const cJSON *anc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(c, "pedigree"), "ancestors"), 0);
		const char *type = oci_json_str(c, "type");
		char *sname = NULL, *sver = NULL;
		struct cve_pkg *added;

		if (type && !strcmp(type, "operating-system") && !rd->os_codename && oci_json_str(c, "name") &&
		    !strcmp(oci_json_str(c, "name"), "debian"))
			rd->os_codename = distro_codename(oci_json_str(c, "version"));
		cdx_components(rd, cJSON_GetObjectItemCaseSensitive(c, "components"), depth + 1);
		if (!deb_purl_parse(oci_json_str(c, "purl"), &dp)) {
			deb_purl_release(&dp);
			continue;
		}
		if (anc && deb_purl_parse(oci_json_str(anc, "purl"), &ap)) { /* pare */
			sname = xstrdup(ap.name);
			sver = xstrdup(ap.version);
		} else if (cdx_prop(c, "aquasecurity:trivy:SrcName")) { /* Trivy */
			const char *ep = cdx_prop(c, "aquasecurity:trivy:SrcEpoch");
			const char *v = cdx_prop(c, "aquasecurity:trivy:SrcVersion");
			const char *rel = cdx_prop(c, "aquasecurity:trivy:SrcRelease");

			sname = xstrdup(cdx_prop(c, "aquasecurity:trivy:SrcName"));
			if (v)
				sver = xasprintf("%s%s%s%s%s", ep && strcmp(ep, "0") ? ep : "",
						 ep && strcmp(ep, "0") ? ":" : "", v, rel && *rel ? "-" : "",
						 rel ? rel : "");
		}
		deb_purl_release(&ap);
		if ((added = sbom_pkg(rd, &dp, sname, sver)) && oci_json_str(c, "bom-ref"))
			added->bom_ref = xstrdup(oci_json_str(c, "bom-ref"));
		free(sname);
		free(sver);
		deb_purl_release(&dp);
	}
}

int cve_subject_from_sbom_buf(const char *name, const char *buf, size_t len,
			      struct cve_subject *s, perr *e)
{
	struct sbom_read rd = { name, s, 0, STRVEC_INIT, NULL, NULL };
	const char *spdx, *fmt, *ver;
	cJSON *doc = cJSON_ParseWithLength(buf, len);
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(doc)) {
		perr_set(e, "%s: not a JSON document (an SPDX 2.3 or CycloneDX 1.4-1.6 SBOM)", name);
		goto out;
	}
	spdx = oci_json_str(doc, "spdxVersion");
	fmt = oci_json_str(doc, "bomFormat");
	ver = oci_json_str(doc, "specVersion");
	if (spdx) {
		if (strcmp(spdx, "SPDX-2.3") && strcmp(spdx, "SPDX-2.2")) {
			perr_set(e, "%s: $.spdxVersion '%s': SPDX 2.2 or 2.3 JSON is read", name, cve_quote(spdx));
			goto out;
		}
		if (sbom_spdx(&rd, doc, e) < 0)
			goto out;
	} else if (fmt && !strcmp(fmt, "CycloneDX")) {
		const cJSON *comps = cJSON_GetObjectItemCaseSensitive(doc, "components");
		const cJSON *mc = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "component");
		const char *mp = oci_json_str(mc, "purl"), *at;

		if (!ver || (strcmp(ver, "1.4") && strcmp(ver, "1.5") && strcmp(ver, "1.6"))) {
			perr_set(e, "%s: $.specVersion '%s': CycloneDX 1.4, 1.5 or 1.6 is read", name,
				 ver ? cve_quote(ver) : "(none)");
			goto out;
		}
		if (comps && !cJSON_IsArray(comps)) {
			perr_set(e, "%s: $.components is not an array", name);
			goto out;
		}
		cdx_components(&rd, comps, 0);
		/* BOM-Links (urn:cdx:SERIAL/VERSION#BOM-REF) name its components:
		 * what a CycloneDX VEX about this SBOM refers to */
		if (oci_json_str(doc, "serialNumber") && str_starts(oci_json_str(doc, "serialNumber"), "urn:uuid:") &&
		    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "version")))
			s->bom_link = xasprintf("urn:cdx:%s/%d", oci_json_str(doc, "serialNumber") + 9,
						cJSON_GetObjectItemCaseSensitive(doc, "version")->valueint);
		/* pare and syft name the image: pkg:oci/NAME@sha256:… */
		if (mp && str_starts(mp, "pkg:oci/") && (at = strstr(mp, "@sha256%3A")) &&
		    strspn(at + 10, "0123456789abcdef") == SHA256_HEX_LEN)
			s->digest = xasprintf("sha256:%.*s", SHA256_HEX_LEN, at + 10);
	} else {
		perr_set(e, "%s: neither an SPDX (spdxVersion) nor a CycloneDX (bomFormat) JSON document",
			 name);
		goto out;
	}
	s->name = xstrdup(name);
	s->codename = rd.distro_codename ? rd.distro_codename : rd.os_codename;
	if (s->codename == rd.distro_codename)
		free(rd.os_codename);
	rd.distro_codename = rd.os_codename = NULL;
	/* the architecture of the binaries (not "all"); NULL when several or none */
	sv_uniq(&rd.archs);
	if (rd.archs.n == 1)
		s->arch = xstrdup(rd.archs.v[0]);
	pkgs_finish(s);
	ret = 0;
out:
	if (ret < 0)
		cve_subject_release(s);
	free(rd.distro_codename);
	free(rd.os_codename);
	sv_clear(&rd.archs);
	cJSON_Delete(doc);
	return ret;
}

int cve_subject_from_sbom(const char *path, struct cve_subject *s, perr *e)
{
	strbuf b = STRBUF_INIT;
	int ret;

	memset(s, 0, sizeof(*s));
	if (read_file(path, &b, SBOM_MAX, e) < 0)
		return -1;
	ret = cve_subject_from_sbom_buf(path, b.buf ? b.buf : "", b.len, s, e);
	sb_release(&b);
	return ret;
}
