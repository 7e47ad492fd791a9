/* unit-sbom.c - SPDX 2.3 / CycloneDX 1.5 documents: content, licences, purls,
 * determinism, and validity against the official schemas (validate-sbom). */
#include "../../sbom/sbom_int.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define DIGEST "sha256:1111111111111111111111111111111111111111111111111111111111111111"

/* ../shared (PARE_SHARED): the schema copies beside the checkout, when there. */
static const char *shared_dir(void)
{
	static char buf[4096];
	const char *s = getenv("PARE_SHARED"), *src = getenv("PARE_SRC");

	if (s && *s)
		return s;
	snprintf(buf, sizeof(buf), "%s/../shared", src && *src ? src : ".");
	return buf;
}

static char *hexrep(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void add_pkg(struct sbom_image *img, const char *name, const char *version,
		    const char *source, const char *source_version, const char *copyright,
		    bool requested, const char *deps)
{
	struct sbom_pkg *p;

	img->pkgs = xrealloc(img->pkgs, (img->npkgs + 1) * sizeof(*img->pkgs));
	p = &img->pkgs[img->npkgs++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->version = xstrdup(version);
	p->arch = xstrdup("amd64");
	p->source = source ? xstrdup(source) : NULL;
	p->source_version = source_version ? xstrdup(source_version) : NULL;
	p->maintainer = xasprintf("%s Maintainers <%s@lists.example.org>", name, name);
	p->filename = xasprintf("pool/main/%c/%s/%s_%s_amd64.deb", name[0], name, name, version);
	p->deb_sha256 = hexrep((char)('a' + img->npkgs), SHA256_HEX_LEN);
	p->deb_sha512 = hexrep((char)('a' + img->npkgs), SHA512_HEX_LEN);
	p->deb_size = 1000 + img->npkgs;
	p->copyright = copyright ? xstrdup(copyright) : NULL;
	p->requested = requested;
	if (deps)
		sv_split(&p->depends, deps, " ");
}

static void add_file(struct sbom_image *img, const char *path, int pkg)
{
	struct sbom_file *f;
	char hex[SHA256_HEX_LEN + 1];

	img->files = xrealloc(img->files, (img->nfiles + 1) * sizeof(*img->files));
	f = &img->files[img->nfiles++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	sha256_hex(path, strlen(path), hex);
	memcpy(f->sha256, hex, sizeof(f->sha256));
	memcpy(f->sha1, hex + 10, SHA1_HEX_LEN);
	f->sha1[SHA1_HEX_LEN] = '\0';
	f->size = strlen(path);
	f->pkg = pkg;
}

static const char ATTR_COPYRIGHT[] =
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
	"Upstream-Name: attr\n"
	"\n"
	"Files: *\n"
	"Copyright: 2000-2002 Silicon Graphics, Inc.\n"
	"License: LGPL-2.1+\n"
	"\n"
	"Files: tools/*\n"
	"Copyright: 2000-2002 Silicon Graphics, Inc.\n"
	"           2009 Andreas Gruenbacher\n"
	"License: GPL-2+\n"
	"\n"
	"Files: debian/*\n"
	"Copyright: 2005 A Debian Developer\n"
	"License: GPL-1+ or Artistic\n";

static const char HELLO_COPYRIGHT[] =
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\r\n"
	"\r\n"
	"Files: *\r\n"
	"Copyright: 2010 Jane Doe\r\n"
	" 2012 John Roe\r\n"
	"License: Expat\r\n"
	"\r\n"
	"Files: src/getopt*\r\n"
	"Copyright: 2010 Jane Doe\r\n"
	"License: GPL-2+\r\n"
	" This program is free software; see /usr/share/common-licenses/GPL-2.\r\n";

/* Free text (not machine-readable), with a Latin-1 byte as old files have. */
static const char LIBC_COPYRIGHT[] =
	"This is the Debian prepackaged version of the GNU C Library.\n"
	"\n"
	"Copyright (C) 1991-2023 Free Software Foundation, Inc. Caf\xe9.\n"
	"The GNU C Library is free software; LGPL 2.1 or later applies.\n";

static const char LIBFOO_COPYRIGHT[] =
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
	"Upstream-Name: foo\n"
	"\n"
	"Files: *\n"
	"Copyright: 2020 Foo Corp.\n"
	"License: Foo-License\n"
	"\n"
	"Files: compat/*\n"
	"Copyright: none\n"
	"License: public-domain\n"
	" The author placed this file in the public domain.\n"
	" .\n"
	" Do what you want.\n"
	"\n"
	"Files: ssl/*\n"
	"Copyright: 2021 Foo Corp.\n"
	"License: GPL-2+ with OpenSSL exception\n"
	"\n"
	"Files: rt/*\n"
	"Copyright: 2021 Foo Corp.\n"
	"License: GPL-3+ with GCC exception\n"
	"\n"
	"Files: contrib/*\n"
	"Copyright: 2022 Contributors\n"
	"License: BSD-3-clause or Apache-2.0, and MIT\n"
	"\n"
	"License: Foo-License\n"
	" Permission to use Foo is granted to everyone who is nice.\n";

static void build_image(struct sbom_image *img, bool digest)
{
	memset(img, 0, sizeof(*img));
	img->name = xstrdup("demo");
	img->arch = xstrdup("amd64");
	img->reference = xstrdup("demo:latest");
	img->manifest_digest = digest ? xstrdup(DIGEST) : NULL;
	img->os_id = xstrdup("debian");
	img->os_version = xstrdup("12");
	img->os_codename = xstrdup("bookworm");
	img->created = 1700000000;
	/* sorted by name */
	add_pkg(img, "attr", "1:2.5.1-4+b1", "attr", "1:2.5.1-4", ATTR_COPYRIGHT, true, "libc6");
	add_pkg(img, "hello", "2.10-3", NULL, NULL, HELLO_COPYRIGHT, true, "libc6 attr libc6");
	add_pkg(img, "libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4", LIBC_COPYRIGHT, false, NULL);
	add_pkg(img, "libfoo", "1.0-1", NULL, NULL, LIBFOO_COPYRIGHT, false, "libc6");
	add_pkg(img, "nocopy", "0.1-1", NULL, NULL, NULL, false, NULL);
	img->pkgs[3].download_url = xstrdup("http://127.0.0.1:8080/pool/main/l/libfoo/libfoo_1.0-1_amd64.deb");
	img->pkgs[3].homepage = xstrdup("https://foo.example.org/");
	/* sorted by path */
	add_file(img, "/etc/os-release", -1);
	add_file(img, "/usr/bin/hello", 1);
	add_file(img, "/usr/lib/x86_64-linux-gnu/libc.so.6", 2);
	add_file(img, "/usr/lib/x86_64-linux-gnu/libfoo.so.1", 3);
	add_file(img, "/usr/share/doc/attr/copyright", 0);
}

static const char *src_dir(void)
{
	const char *src = getenv("PARE_SRC");
	return src && *src ? src : ".";
}

/* Run the schema validator (tests/validate-sbom) on doc; returns its exit status:
 * 0 valid, 77 no copy of the schema here (its log says why), else invalid. */
static int validate(const char *doc, size_t len, const char *label)
{
	char path[] = "/tmp/pare-unit-sbom-XXXXXX";
	int fd = mkstemp(path), rc;
	char *cmd;
	perr e;

	if (fd < 0)
		return -1;
	close(fd);
	if (write_file_atomic(path, doc, len, 0644, &e) < 0) {
		printf("# %s\n", e.msg);
		unlink(path);
		return -1;
	}
	/* Debian's python3 explicitly: PATH may lead to one without jsonschema. */
	cmd = xasprintf("/usr/bin/python3 '%s/tests/validate-sbom' '%s' > '%s.log' 2>&1",
			src_dir(), path, path);
	rc = system(cmd);
	free(cmd);
	{
		strbuf log = STRBUF_INIT;
		char *lp = xasprintf("%s.log", path);
		strvec lines = STRVEC_INIT;
		if (read_file(lp, &log, 0, &e) == 0)
			sv_split(&lines, sb_str(&log), "\n");
		for (size_t i = lines.n > 12 ? lines.n - 12 : 0; i < lines.n; i++)
			printf("#   %s: %s\n", label, lines.v[i]);
		unlink(lp);
		free(lp);
		sv_clear(&lines);
		sb_release(&log);
	}
	unlink(path);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* TAP_OK(validate(…) == 0, …), or a counted skip when no copy of the schema is here. */
#define TAP_VALID(rc, ...)                                                             \
	do {                                                                           \
		int r_ = (rc);                                                         \
		if (r_ == 77) {                                                        \
			printf("ok - ");                                               \
			printf(__VA_ARGS__);                                           \
			printf(" # skip no copy of the schema here (the line above says why)\n"); \
		} else {                                                               \
			TAP_OK(r_ == 0, __VA_ARGS__);                                  \
		}                                                                      \
	} while (0)

static cJSON *find_by(cJSON *arr, const char *key, const char *value)
{
	cJSON *it;

	cJSON_ArrayForEach(it, arr) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(it, key);
		if (cJSON_IsString(v) && !strcmp(v->valuestring, value))
			return it;
	}
	return NULL;
}

static const char *str_at(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool has_rel(cJSON *rels, const char *a, const char *type, const char *b)
{
	cJSON *r;

	cJSON_ArrayForEach(r, rels) {
		const char *x = str_at(r, "spdxElementId"), *t = str_at(r, "relationshipType"),
			   *y = str_at(r, "relatedSpdxElement");
		if (x && t && y && !strcmp(x, a) && !strcmp(t, type) && !strcmp(y, b))
			return true;
	}
	return false;
}

static const char *purl_of(cJSON *pkg)
{
	cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(pkg, "externalRefs"), 0);
	return str_at(r, "referenceLocator");
}

static const char *extracted_text(cJSON *doc, const char *id)
{
	return str_at(find_by(cJSON_GetObjectItem(doc, "hasExtractedLicensingInfos"), "licenseId", id),
		      "extractedText");
}

static void check_spdx(cJSON *d, bool with_files)
{
	cJSON *pkgs = cJSON_GetObjectItem(d, "packages"), *rels = cJSON_GetObjectItem(d, "relationships");
	cJSON *img = find_by(pkgs, "SPDXID", "SPDXRef-Image");
	cJSON *os = find_by(pkgs, "SPDXID", "SPDXRef-OperatingSystem");
	cJSON *attr = find_by(pkgs, "SPDXID", "SPDXRef-deb-attr-amd64");
	cJSON *hello = find_by(pkgs, "SPDXID", "SPDXRef-deb-hello-amd64");
	cJSON *libc = find_by(pkgs, "SPDXID", "SPDXRef-deb-libc6-amd64");
	cJSON *foo = find_by(pkgs, "SPDXID", "SPDXRef-deb-libfoo-amd64");
	cJSON *noc = find_by(pkgs, "SPDXID", "SPDXRef-deb-nocopy-amd64");
	cJSON *src = find_by(pkgs, "SPDXID", "SPDXRef-debsrc-attr-1X3A2.5.1-4");
	const char *ns = str_at(d, "documentNamespace"), *t;
	const char *w = with_files ? "spdx+files" : "spdx";

	TAP_STREQ(str_at(d, "spdxVersion"), "SPDX-2.3", "%s: spdxVersion", w);
	TAP_STREQ(str_at(d, "dataLicense"), "CC0-1.0", "%s: dataLicense", w);
	TAP_OK(ns && str_starts(ns, "https://spdx.org/spdxdocs/pare-demo-amd64-") && strlen(ns) ==
	       strlen("https://spdx.org/spdxdocs/pare-demo-amd64-") + 36 && ns[strlen(ns) - 22] == '8',
	       "%s: documentNamespace ends in a version-8 uuid: %s", w, ns ? ns : "(none)");
	TAP_STREQ(str_at(cJSON_GetObjectItem(d, "creationInfo"), "created"), "2023-11-14T22:13:20Z",
		  "%s: created from img->created (RFC 3339 UTC)", w);
	TAP_STREQ(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "creationInfo"), "creators"), 0)
			  ->valuestring, "Tool: pare-" PARE_VERSION, "%s: creator is the tool", w);
	TAP_OK(img && os && attr && hello && libc && foo && noc && src, "%s: every element present", w);
	if (!(img && os && attr && hello && libc && foo && noc && src))
		return;
	TAP_STREQ(str_at(img, "primaryPackagePurpose"), "CONTAINER", "%s: image is a CONTAINER", w);
	TAP_STREQ(purl_of(img), "pkg:oci/demo@" DIGEST "?arch=amd64&tag=latest", "%s: image purl", w);
	TAP_STREQ(str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(img, "checksums"), 0), "checksumValue"),
		  &DIGEST[7], "%s: image checksum is the manifest digest", w);
	TAP_STREQ(str_at(os, "primaryPackagePurpose"), "OPERATING_SYSTEM", "%s: OS purpose", w);
	TAP_STREQ(str_at(os, "name"), "debian", "%s: OS name", w);
	TAP_STREQ(str_at(os, "versionInfo"), "12", "%s: OS version", w);
	TAP_OK(has_rel(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"), "%s: DESCRIBES image", w);

	TAP_STREQ(purl_of(attr), "pkg:deb/debian/attr@1:2.5.1-4%2Bb1?arch=amd64&distro=debian-12",
		  "%s: epoch purl (':' kept, '+' encoded, per purl-spec)", w);
	TAP_STREQ(purl_of(libc), "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
		  "%s: libc6 purl", w);
	TAP_STREQ(purl_of(src), "pkg:deb/debian/attr@1:2.5.1-4?arch=source&distro=debian-12",
		  "%s: source package purl", w);
	TAP_STREQ(str_at(attr, "versionInfo"), "1:2.5.1-4+b1", "%s: versionInfo verbatim", w);
	TAP_STREQ(str_at(attr, "supplier"), "Organization: attr Maintainers (attr@lists.example.org)",
		  "%s: supplier from Maintainer", w);
	TAP_OK(has_rel(rels, "SPDXRef-deb-attr-amd64", "GENERATED_FROM", "SPDXRef-debsrc-attr-1X3A2.5.1-4"),
	       "%s: binary GENERATED_FROM its source package", w);
	TAP_OK(has_rel(rels, "SPDXRef-deb-libc6-amd64", "GENERATED_FROM", "SPDXRef-debsrc-glibc-2.36-9X2Bdeb12u4"),
	       "%s: libc6 GENERATED_FROM glibc", w);
	TAP_OK(has_rel(rels, "SPDXRef-Image", "CONTAINS", "SPDXRef-deb-nocopy-amd64") &&
	       has_rel(rels, "SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem"),
	       "%s: image CONTAINS packages and the OS", w);
	TAP_OK(has_rel(rels, "SPDXRef-OperatingSystem", "CONTAINS", "SPDXRef-deb-nocopy-amd64") &&
	       has_rel(rels, "SPDXRef-OperatingSystem", "CONTAINS", "SPDXRef-deb-libc6-amd64"),
	       "%s: the OS CONTAINS its packages (what Trivy reads)", w);
	TAP_OK(has_rel(rels, "SPDXRef-Image", "DEPENDS_ON", "SPDXRef-deb-hello-amd64") &&
	       has_rel(rels, "SPDXRef-Image", "DEPENDS_ON", "SPDXRef-deb-attr-amd64") &&
	       !has_rel(rels, "SPDXRef-Image", "DEPENDS_ON", "SPDXRef-deb-libc6-amd64"),
	       "%s: image DEPENDS_ON exactly the requested packages", w);
	TAP_OK(has_rel(rels, "SPDXRef-deb-hello-amd64", "DEPENDS_ON", "SPDXRef-deb-libc6-amd64") &&
	       has_rel(rels, "SPDXRef-deb-hello-amd64", "DEPENDS_ON", "SPDXRef-deb-attr-amd64"),
	       "%s: package DEPENDS_ON edges", w);

	TAP_STREQ(str_at(attr, "licenseDeclared"),
		  "(GPL-1.0-or-later OR Artistic-1.0-Perl) AND GPL-2.0-or-later AND LGPL-2.1-or-later",
		  "%s: attr licenseDeclared", w);
	TAP_STREQ(str_at(attr, "licenseConcluded"), "NOASSERTION", "%s: licenseConcluded", w);
	TAP_STREQ(str_at(hello, "licenseDeclared"), "GPL-2.0-or-later AND MIT", "%s: hello licenseDeclared", w);
	TAP_STREQ(str_at(hello, "copyrightText"), "2010 Jane Doe\n2012 John Roe",
		  "%s: hello copyrightText (continuation lines, de-duplicated)", w);
	TAP_STREQ(str_at(foo, "licenseDeclared"),
		  "(BSD-3-Clause OR Apache-2.0) AND MIT AND GPL-3.0-or-later WITH GCC-exception-3.1 AND "
		  "LicenseRef-Foo-License AND LicenseRef-GPL-2--with-OpenSSL-exception AND LicenseRef-public-domain",
		  "%s: libfoo licenseDeclared (unknown names kept as LicenseRefs)", w);
	TAP_STREQ(extracted_text(d, "LicenseRef-Foo-License"),
		  "Permission to use Foo is granted to everyone who is nice.",
		  "%s: unknown licence text from its stand-alone paragraph", w);
	TAP_STREQ(extracted_text(d, "LicenseRef-public-domain"),
		  "The author placed this file in the public domain.\n\nDo what you want.",
		  "%s: public-domain text from the stanza ('.' = empty line)", w);
	TAP_STREQ(extracted_text(d, "LicenseRef-GPL-2--with-OpenSSL-exception"), "GPL-2+ with OpenSSL exception",
		  "%s: a licence without text keeps its name as text", w);
	TAP_STREQ(str_at(libc, "licenseDeclared"), "LicenseRef-libc6-copyright",
		  "%s: free-text copyright is declared as a LicenseRef", w);
	t = extracted_text(d, "LicenseRef-libc6-copyright");
	TAP_OK(t && strstr(t, "GNU C Library is free software") && strstr(t, "Caf\xef\xbf\xbd."),
	       "%s: free-text copyright kept whole (invalid UTF-8 replaced)", w);
	TAP_STREQ(str_at(libc, "copyrightText"), "NOASSERTION", "%s: free-text copyrightText", w);
	TAP_STREQ(str_at(noc, "licenseDeclared"), "NOASSERTION", "%s: no copyright file", w);
	TAP_STREQ(str_at(foo, "downloadLocation"), "http://127.0.0.1:8080/pool/main/l/libfoo/libfoo_1.0-1_amd64.deb",
		  "%s: downloadLocation from download_url", w);
	TAP_STREQ(str_at(hello, "downloadLocation"), "NOASSERTION", "%s: downloadLocation NOASSERTION", w);
	TAP_OK(find_by(cJSON_GetObjectItem(hello, "checksums"), "algorithm", "SHA512") &&
	       find_by(cJSON_GetObjectItem(hello, "checksums"), "algorithm", "SHA256"),
	       "%s: .deb SHA256 and SHA512", w);
	TAP_OK(cJSON_IsBool(cJSON_GetObjectItem(hello, "filesAnalyzed")) &&
	       cJSON_IsTrue(cJSON_GetObjectItem(hello, "filesAnalyzed")) == with_files,
	       "%s: filesAnalyzed %s", w, with_files ? "true" : "false");
	if (with_files) {
		cJSON *files = cJSON_GetObjectItem(d, "files"), *f;
		char *gid;
		char hex[SHA256_HEX_LEN + 1];

		sha256_hex("/etc/os-release", 15, hex);
		hex[32] = '\0';
		gid = xasprintf("SPDXRef-File-%s", hex);
		f = find_by(files, "fileName", "./usr/bin/hello");
		TAP_OK(cJSON_GetArraySize(files) == 5, "%s: one entry per file", w);
		TAP_OK(f && find_by(cJSON_GetObjectItem(f, "checksums"), "algorithm", "SHA1") &&
		       find_by(cJSON_GetObjectItem(f, "checksums"), "algorithm", "SHA256"),
		       "%s: file has SHA1 and SHA256", w);
		TAP_OK(f && has_rel(rels, "SPDXRef-deb-hello-amd64", "CONTAINS", str_at(f, "SPDXID")),
		       "%s: package CONTAINS its file", w);
		TAP_OK(has_rel(rels, "SPDXRef-Image", "CONTAINS", gid) &&
		       !strcmp(str_at(find_by(files, "SPDXID", gid), "comment"), "generated by pare"),
		       "%s: generated file contained by the image, noted", w);
		TAP_OK(cJSON_GetObjectItem(hello, "packageVerificationCode") != NULL,
		       "%s: packageVerificationCode", w);
		free(gid);
	} else {
		TAP_OK(!cJSON_GetObjectItem(d, "files") && strstr(str_at(img, "comment"), "5 regular files") &&
		       strstr(str_at(img, "comment"), "1 generated by pare"),
		       "%s: no files, but the image comment accounts for them", w);
	}
}

static void check_cdx(cJSON *d, bool with_files)
{
	cJSON *md = cJSON_GetObjectItem(d, "metadata"), *comps = cJSON_GetObjectItem(d, "components");
	cJSON *deps = cJSON_GetObjectItem(d, "dependencies"), *c, *it;
	const char *w = with_files ? "cdx+files" : "cdx";
	const char *attr_purl = "pkg:deb/debian/attr@1:2.5.1-4%2Bb1?arch=amd64&distro=debian-12";
	const char *hello_purl = "pkg:deb/debian/hello@2.10-3?arch=amd64&distro=debian-12";
	const char *sn = str_at(d, "serialNumber");
	cJSON *hello = find_by(comps, "name", "hello"), *libc = find_by(comps, "name", "libc6");
	cJSON *foo = find_by(comps, "name", "libfoo"), *attr = find_by(comps, "name", "attr");
	int n = 0;

	TAP_STREQ(str_at(d, "specVersion"), "1.5", "%s: specVersion", w);
	TAP_OK(sn && strlen(sn) == 45 && str_starts(sn, "urn:uuid:") && sn[23] == '8',
	       "%s: serialNumber urn:uuid (version 8)", w);
	TAP_STREQ(str_at(md, "timestamp"), "2023-11-14T22:13:20Z", "%s: metadata.timestamp", w);
	TAP_STREQ(str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(md, "tools"), 0), "name"),
		  "pare", "%s: metadata.tools (the array form Trivy reads) names pare", w);
	c = cJSON_GetObjectItem(md, "component");
	TAP_STREQ(str_at(c, "type"), "container", "%s: metadata.component is the container", w);
	TAP_STREQ(str_at(c, "purl"), "pkg:oci/demo@" DIGEST "?arch=amd64&tag=latest", "%s: container purl", w);
	TAP_STREQ(str_at(find_by(comps, "type", "operating-system"), "name"), "debian", "%s: OS component", w);
	TAP_OK(hello && libc && foo && attr, "%s: package components present", w);
	if (!(hello && libc && foo && attr))
		return;
	TAP_STREQ(str_at(attr, "purl"), attr_purl, "%s: epoch purl", w);
	TAP_STREQ(str_at(cJSON_GetObjectItem(attr, "supplier"), "name"), "attr Maintainers", "%s: supplier.name", w);
	TAP_STREQ(str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(attr, "pedigree"), "ancestors"), 0), "purl"),
		  "pkg:deb/debian/attr@1:2.5.1-4?arch=source&distro=debian-12", "%s: source in pedigree.ancestors", w);
	TAP_OK(find_by(cJSON_GetObjectItem(hello, "hashes"), "alg", "SHA-512") &&
	       find_by(cJSON_GetObjectItem(hello, "hashes"), "alg", "SHA-256"), "%s: SHA-256 and SHA-512", w);
	TAP_STREQ(str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(hello, "licenses"), 0), "expression"),
		  "GPL-2.0-or-later AND MIT", "%s: hello licence expression", w);
	it = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(libc, "licenses"), 0), "license");
	TAP_OK(it && !strcmp(str_at(it, "name"), "LicenseRef-libc6-copyright") &&
	       strstr(str_at(cJSON_GetObjectItem(it, "text"), "content"), "GNU C Library is free software"),
	       "%s: free-text copyright as a named licence with its text", w);
	it = cJSON_GetObjectItem(foo, "properties");
	TAP_STREQ(str_at(find_by(it, "name", "pare:license-text:LicenseRef-Foo-License"), "value"),
		  "Permission to use Foo is granted to everyone who is nice.",
		  "%s: LicenseRef text of an expression kept in a property", w);
	TAP_OK(find_by(it, "name", "pare:license-text:LicenseRef-public-domain") &&
	       find_by(it, "name", "pare:license-text:LicenseRef-GPL-2--with-OpenSSL-exception"),
	       "%s: every LicenseRef of the expression has its text", w);
	TAP_OK(!cJSON_GetObjectItem(find_by(comps, "name", "nocopy"), "licenses"), "%s: no licences without copyright", w);
	TAP_STREQ(str_at(find_by(cJSON_GetObjectItem(foo, "externalReferences"), "type", "distribution"), "url"),
		  "http://127.0.0.1:8080/pool/main/l/libfoo/libfoo_1.0-1_amd64.deb", "%s: distribution URL", w);
	cJSON_ArrayForEach(it, deps)
		n++;
	TAP_OK(n == 7, "%s: a dependencies entry for container, OS and each package (%d)", w, n);
	it = cJSON_GetObjectItem(find_by(deps, "ref", str_at(c, "bom-ref")), "dependsOn");
	TAP_OK(cJSON_GetArraySize(it) == 3 && !strcmp(cJSON_GetArrayItem(it, 0)->valuestring, "os:debian@12") &&
	       !strcmp(cJSON_GetArrayItem(it, 1)->valuestring, attr_purl) &&
	       !strcmp(cJSON_GetArrayItem(it, 2)->valuestring, hello_purl),
	       "%s: container dependsOn the OS and the requested packages", w);
	it = cJSON_GetObjectItem(find_by(deps, "ref", "os:debian@12"), "dependsOn");
	n = 0;
	{
		cJSON *x, *y;

		cJSON_ArrayForEach(x, comps) {
			const char *p = str_at(x, "purl");

			if (p && str_starts(p, "pkg:deb/"))
				cJSON_ArrayForEach(y, it)
					n += cJSON_IsString(y) && !strcmp(y->valuestring, p);
		}
	}
	TAP_OK(cJSON_GetArraySize(it) == 5 && n == 5, "%s: the OS dependsOn every package (%d)", w, n);
	it = find_by(deps, "ref", "pkg:deb/debian/nocopy@0.1-1?arch=amd64&distro=debian-12");
	TAP_OK(it && cJSON_IsArray(cJSON_GetObjectItem(it, "dependsOn")) &&
	       cJSON_GetArraySize(cJSON_GetObjectItem(it, "dependsOn")) == 0, "%s: empty dependsOn kept", w);
	it = cJSON_GetObjectItem(find_by(deps, "ref", hello_purl), "dependsOn");
	TAP_OK(cJSON_GetArraySize(it) == 2, "%s: hello depends on attr and libc6 (de-duplicated)", w);
	if (with_files) {
		cJSON *hf = cJSON_GetObjectItem(hello, "components");
		TAP_STREQ(str_at(cJSON_GetArrayItem(hf, 0), "name"), "/usr/bin/hello", "%s: file nested in its package", w);
		TAP_STREQ(str_at(find_by(comps, "type", "file"), "name"), "/etc/os-release",
			  "%s: generated file at top level", w);
	} else {
		TAP_OK(!find_by(comps, "type", "file") && !cJSON_GetObjectItem(hello, "components"),
		       "%s: no file components", w);
	}
}

static void check_lic(const char *line, const char *want)
{
	struct lic_refs reg = { 0 };
	struct lic_info li;
	char *text = xasprintf("Format: x\n\nFiles: *\nCopyright: x\nLicense: %s\n", line);

	lic_analyse("p", text, NULL, &reg, &li);
	TAP_STREQ(li.expr, want, "licence '%s'", line);
	lic_info_release(&li);
	lic_refs_release(&reg);
	free(text);
}

/* Free-text detection on real snippets (Debian 12 copyright files). */
static void check_free(const char *what, const char *text, const char *want)
{
	struct lic_refs reg = { 0 };
	struct lic_info li;

	lic_analyse("p", text, NULL, &reg, &li);
	TAP_STREQ(li.expr, want, "free text: %s", what);
	TAP_OK(li.kind == LIC_FREE && lic_refs_find(&reg, "LicenseRef-p-copyright") >= 0 &&
	       li.refs.n == 1, "free text: %s keeps the whole text as a LicenseRef", what);
	TAP_OK(!strcmp(want, "LicenseRef-p-copyright") == !li.detected,
	       "free text: %s: evidence recorded iff detected (%s)", what,
	       li.detected ? li.detected : "none");
	lic_info_release(&li);
	lic_refs_release(&reg);
}

static void test_free_text(void)
{
	/* libc6 */
	check_free("glibc",
		   "  The GNU C Library is free software; you can redistribute it and/or\n"
		   "  modify it under the terms of the GNU Lesser General Public\n"
		   "  License as published by the Free Software Foundation; either\n"
		   "  version 2.1 of the License, or (at your option) any later version.\n"
		   "  On Debian systems, the complete text of the GNU Library\n"
		   "  General Public License can be found in `/usr/share/common-licenses/LGPL-2.1'.\n"
		   "  On Debian systems, the complete text of the GNU Library\n"
		   "  General Public License can be found in `/usr/share/common-licenses/GPL-2'.\n",
		   "GPL-2.0-or-later AND LGPL-2.1-or-later AND LicenseRef-p-copyright");
	/* krb5: a pointer without a later-version grant stays -only */
	check_free("krb5",
		   "   this file under either the BSD or the GPL.\n\n"
		   "   On Debian systems, the complete text of the GNU General Public License\n"
		   "   version 2 can be found in `/usr/share/common-licenses/GPL-2'.\n",
		   "GPL-2.0-only AND LicenseRef-p-copyright");
	/* base-files: the unversioned pointer takes the (single) grant's version */
	check_free("base-files",
		   "This program is free software; you can redistribute it and/or modify\n"
		   "it under the terms of the GNU General Public License as published by\n"
		   "the Free Software Foundation; either version 2, or (at your option)\n"
		   "any later version.\n\n"
		   "On Debian systems, the complete text of the GNU General\n"
		   "Public License can be found in `/usr/share/common-licenses/GPL'.\n",
		   "GPL-2.0-or-later AND LicenseRef-p-copyright");
	/* gcc: grants of 2 and 3: the unversioned pointer names no version */
	check_free("gcc mixed grants",
		   "Software Foundation; either version 3, or (at your option) any later\n"
		   "Public License is in `/usr/share/common-licenses/GPL', version 3 of this\n"
		   "license in `/usr/share/common-licenses/GPL-3'.\n"
		   "Foundation; either version 2, or (at your option) any later version.\n"
		   "can be found in /usr/share/common-licenses/LGPL.\n",
		   "GPL-3.0-or-later AND LicenseRef-p-copyright");
	check_free("python",
		   "PSF LICENSE AGREEMENT FOR PYTHON 3.11\n"
		   "1. This LICENSE AGREEMENT is between the Python Software Foundation\n",
		   "PSF-2.0 AND LicenseRef-p-copyright");
	/* libcrypt1: a directory, not a licence; tzdata: no pointer */
	check_free("pointer to the directory only",
		   "On Debian systems the complete text of the licenses can be found in\n"
		   "/usr/share/common-licenses/ .\n",
		   "LicenseRef-p-copyright");
	check_free("tzdata", "This database is in the public domain.\n", "LicenseRef-p-copyright");
	check_free("unknown name", "see /usr/share/common-licenses/Foo-1\n", "LicenseRef-p-copyright");
}

int main(void)
{
	struct sbom_image img, emb;
	strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	perr e;
	const char *spdx_enum_path;
	strbuf schema = STRBUF_INIT;

	/* names and expressions */
	TAP_STREQ(lic_map_name("GPL-2"), "GPL-2.0-only", "GPL-2 -> GPL-2.0-only");
	TAP_STREQ(lic_map_name("GPL-2+"), "GPL-2.0-or-later", "GPL-2+ -> GPL-2.0-or-later");
	TAP_STREQ(lic_map_name("lgpl-2.1+"), "LGPL-2.1-or-later", "lgpl-2.1+ (case-insensitive)");
	TAP_STREQ(lic_map_name("GFDL-NIV-1.2+"), "GFDL-1.2-no-invariants-or-later", "GFDL-NIV-1.2+");
	TAP_STREQ(lic_map_name("Expat"), "MIT", "Expat -> MIT");
	TAP_STREQ(lic_map_name("PSF-2"), "PSF-2.0", "PSF-2 -> PSF-2.0");
	TAP_STREQ(lic_map_name("BSD-3-clause"), "BSD-3-Clause", "BSD-3-clause");
	TAP_OK(lic_map_name("GPL-4+") == NULL && lic_map_name("Foo") == NULL, "unknown names map to nothing");
	check_lic("GPL-2+ or MIT and BSD-3-clause", "GPL-2.0-or-later OR MIT AND BSD-3-Clause");
	check_lic("GPL-2+ or MIT, and BSD-3-clause", "(GPL-2.0-or-later OR MIT) AND BSD-3-Clause");
	check_lic("GPL-1+ or Artistic", "GPL-1.0-or-later OR Artistic-1.0-Perl");
	check_lic("GPL-3+ with Autoconf exception", "GPL-3.0-or-later WITH Autoconf-exception-3.0");
	check_lic("Zlib", "Zlib");
	check_lic("public domain", "LicenseRef-public-domain");
	test_free_text();
	/* the licence list CycloneDX's schema carries: ../shared's copy, else the npm package's */
	spdx_enum_path = xasprintf("%s/schemas/cyclonedx/spdx.schema.json", shared_dir());
	if (access(spdx_enum_path, R_OK) != 0) {
		const char *tools = getenv("PARE_TOOLS"), *home = getenv("HOME");
		char *t = tools && *tools ? xstrdup(tools) : xasprintf("%s/.cache/pare-tools", home ? home : "/root");
		free((char *)spdx_enum_path);
		spdx_enum_path = xasprintf("%s/npm/node_modules/@cyclonedx/cyclonedx-library/res/schema/"
					   "spdx.SNAPSHOT.schema.json", t);
		free(t);
	}
	if (access(spdx_enum_path, R_OK) != 0) {
		printf("ok - all ids of the name table are on the SPDX licence list # skip no ../shared "
		       "and no npm copy of CycloneDX's spdx.schema.json (tests/get-npm-tools)\n");
	} else if (read_file(spdx_enum_path, &schema, 0, &e) == 0) {
		cJSON *s = cJSON_Parse(schema.buf), *en = cJSON_GetObjectItem(s, "enum"), *it;
		const char *id;
		size_t n = 0, bad = 0;
		for (size_t i = 0; (id = lic_table_spdx(i)); i++, n++) {
			bool found = false;
			cJSON_ArrayForEach(it, en)
				if (cJSON_IsString(it) && !strcmp(it->valuestring, id))
					found = true;
			if (!found) {
				printf("# not an SPDX licence id: %s\n", id);
				bad++;
			}
		}
		TAP_OK(n > 50 && bad == 0, "all %zu ids of the name table are on the SPDX licence list", n);
		cJSON_Delete(s);
	} else {
		TAP_OK(0, "read the SPDX licence list: %s", e.msg);
	}
	free((char *)spdx_enum_path);
	sb_release(&schema);

	build_image(&img, true);
	for (int fmt = 0; fmt < 2; fmt++)
		for (int files = 0; files < 2; files++) {
			const char *label = fmt == SBOM_SPDX ? (files ? "spdx+files" : "spdx")
							     : (files ? "cdx+files" : "cdx");
			cJSON *d;
			sb_reset(&a);
			sb_reset(&b);
			TAP_OK(sbom_write(&img, (enum sbom_format)fmt, files, &a, &e) == 0, "%s: written", label);
			TAP_OK(sbom_write(&img, (enum sbom_format)fmt, files, &b, &e) == 0 && a.len == b.len &&
			       !memcmp(a.buf, b.buf, a.len), "%s: byte-identical on a second write", label);
			TAP_OK(a.len && a.buf[a.len - 1] == '\n', "%s: trailing newline", label);
			d = cJSON_Parse(sb_str(&a));
			TAP_OK(d != NULL, "%s: parses as JSON", label);
			if (d && fmt == SBOM_SPDX)
				check_spdx(d, files);
			else if (d)
				check_cdx(d, files);
			cJSON_Delete(d);
			TAP_VALID(validate(a.buf, a.len, label), "%s: valid against the official schema", label);
		}

	/* the copy embedded in the image: no digest, id from the package list */
	build_image(&emb, false);
	for (int fmt = 0; fmt < 2; fmt++) {
		cJSON *d;
		sb_reset(&a);
		sb_reset(&b);
		TAP_OK(sbom_write(&emb, (enum sbom_format)fmt, false, &a, &e) == 0 &&
		       sbom_write(&img, (enum sbom_format)fmt, false, &b, &e) == 0, "embedded %d: written", fmt);
		d = cJSON_Parse(sb_str(&a));
		if (fmt == SBOM_SPDX) {
			cJSON *d2 = cJSON_Parse(sb_str(&b));
			TAP_OK(d && d2 && strcmp(str_at(d, "documentNamespace"), str_at(d2, "documentNamespace")),
			       "embedded spdx: namespace differs from the digest-derived one");
			TAP_OK(!cJSON_GetObjectItem(find_by(cJSON_GetObjectItem(d, "packages"), "SPDXID", "SPDXRef-Image"),
						    "externalRefs"), "embedded spdx: no image purl without a digest");
			cJSON_Delete(d2);
		} else {
			TAP_OK(d && !cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "metadata"), "component"), "purl"),
			       "embedded cdx: no container purl without a digest");
		}
		cJSON_Delete(d);
		TAP_VALID(validate(a.buf, a.len, "embedded"), "embedded %d: valid", fmt);
	}
	/* the package list drives the embedded id */
	sb_reset(&a);
	sb_reset(&b);
	sbom_write(&emb, SBOM_CYCLONEDX, false, &a, &e);
	free(emb.pkgs[4].version);
	emb.pkgs[4].version = xstrdup("0.1-2");
	sbom_write(&emb, SBOM_CYCLONEDX, false, &b, &e);
	{
		cJSON *x = cJSON_Parse(sb_str(&a)), *y = cJSON_Parse(sb_str(&b));
		TAP_OK(x && y && strcmp(str_at(x, "serialNumber"), str_at(y, "serialNumber")),
		       "embedded: another package version gives another serialNumber");
		cJSON_Delete(x);
		cJSON_Delete(y);
	}

	/* the embedded copy's path and its recipe identity */
	{
		char *p1 = sbom_embedded_path("py", SBOM_SPDX), *p2 = sbom_embedded_path("py", SBOM_CYCLONEDX);
		TAP_STREQ(p1, "/usr/share/sbom/py.spdx.json", "embedded SPDX path");
		TAP_STREQ(p2, "/usr/share/sbom/py.cdx.json", "embedded CycloneDX path");
		free(p1);
		free(p2);
	}
	emb.recipe_sha256 = xstrdup("ab12");
	sb_reset(&a);
	sb_reset(&b);
	TAP_OK(sbom_write(&emb, SBOM_SPDX, false, &a, &e) == 0 && strstr(sb_str(&a), "Recipe sha256 ab12. ") &&
	       strstr(sb_str(&a), "Not counted: the SBOM documents under /usr/share/sbom/"),
	       "embedded spdx: recipe sha256 and the uncounted SBOM files in the comments");
	TAP_OK(sbom_write(&emb, SBOM_CYCLONEDX, false, &b, &e) == 0 && strstr(sb_str(&b), "\"pare:recipe:sha256\"") &&
	       strstr(sb_str(&b), "\"pare:embedded\""), "embedded cdx: pare:recipe:sha256 and pare:embedded");

	/* The embedded copy points to the copyright files the image carries
	 * instead of repeating their texts; the attached ones keep the texts.
	 * libc6's file is in the image, libfoo's is not (its texts stay). */
	{
		struct sbom_image x;
		strbuf c = STRBUF_INIT;
		const char *ptr = "Text in /usr/share/doc/libc6/copyright (sha256 "
				  "abababababababababababababababababababababababababababababababab) in this image";
		cJSON *d, *lc, *foo;

		build_image(&x, false);
		x.pkgs[2].copyright_file = xstrdup("/usr/share/doc/libc6/copyright");
		memset(x.pkgs[2].copyright_sha256, 'a', SHA256_HEX_LEN);
		for (size_t i = 1; i < SHA256_HEX_LEN; i += 2)
			x.pkgs[2].copyright_sha256[i] = 'b';
		sb_reset(&a);
		sb_reset(&b);
		TAP_OK(sbom_write(&x, SBOM_SPDX, false, &a, &e) == 0, "pointers: spdx written without an analysis");
		sbom_image_analyse(&x);
		TAP_OK(sbom_write(&x, SBOM_SPDX, false, &b, &e) == 0 && a.len == b.len && !memcmp(a.buf, b.buf, a.len),
		       "pointers: the shared analysis gives the same bytes as a per-document one");
		d = cJSON_Parse(sb_str(&b));
		TAP_STREQ(extracted_text(d, "LicenseRef-libc6-copyright"), ptr,
			  "embedded spdx: extractedText points to the copyright file with its sha256");
		TAP_STREQ(extracted_text(d, "LicenseRef-Foo-License"),
			  "Permission to use Foo is granted to everyone who is nice.",
			  "embedded spdx: the text stays when the image does not carry the file");
		cJSON_Delete(d);
		TAP_VALID(validate(b.buf, b.len, "pointers"), "embedded spdx with pointers: valid");
		sb_reset(&a);
		TAP_OK(sbom_write(&x, SBOM_CYCLONEDX, false, &a, &e) == 0, "pointers: cdx written");
		d = cJSON_Parse(sb_str(&a));
		lc = find_by(cJSON_GetObjectItem(d, "components"), "name", "libc6");
		foo = find_by(cJSON_GetObjectItem(d, "components"), "name", "libfoo");
		lc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(lc, "licenses"), 0), "license");
		TAP_OK(lc && !strcmp(str_at(lc, "name"), "LicenseRef-libc6-copyright") && !cJSON_GetObjectItem(lc, "text"),
		       "embedded cdx: the named licence without its text");
		TAP_STREQ(str_at(find_by(cJSON_GetObjectItem(find_by(cJSON_GetObjectItem(d, "components"), "name", "libc6"),
							     "properties"),
					 "name", "pare:license-text-ref:LicenseRef-libc6-copyright"), "value"),
			  ptr, "embedded cdx: pare:license-text-ref points to the copyright file");
		TAP_STREQ(str_at(find_by(cJSON_GetObjectItem(foo, "properties"), "name",
					 "pare:license-text:LicenseRef-Foo-License"), "value"),
			  "Permission to use Foo is granted to everyone who is nice.",
			  "embedded cdx: the text stays when the image does not carry the file");
		cJSON_Delete(d);
		TAP_VALID(validate(a.buf, a.len, "pointers"), "embedded cdx with pointers: valid");
		/* the attached documents (a digest) keep every text, same analysis */
		x.manifest_digest = xstrdup(DIGEST);
		TAP_OK(sbom_write(&x, SBOM_SPDX, false, &c, &e) == 0, "attached spdx with the shared analysis");
		d = cJSON_Parse(sb_str(&c));
		TAP_OK(extracted_text(d, "LicenseRef-libc6-copyright") &&
		       strstr(extracted_text(d, "LicenseRef-libc6-copyright"), "GNU C Library is free software"),
		       "attached spdx: the full text");
		cJSON_Delete(d);
		sb_reset(&c);
		TAP_OK(sbom_write(&x, SBOM_CYCLONEDX, false, &c, &e) == 0 &&
		       strstr(sb_str(&c), "GNU C Library is free software") && !strstr(sb_str(&c), "license-text-ref"),
		       "attached cdx: the full text, no pointer");
		/* an analysis of other copyright files is never used */
		x.pkgs[2].copyright_sha256[0] = 'c';
		sb_reset(&c);
		TAP_OK(sbom_write(&x, SBOM_SPDX, false, &c, &e) < 0 && c.len == 0 && strstr(e.msg, "licence analysis"),
		       "an analysis of other copyright files is refused: %s", e.msg);
		sbom_image_analyse(&x);
		TAP_OK(sbom_write(&x, SBOM_SPDX, false, &c, &e) == 0, "re-analysed: written");
		sb_release(&c);
		sbom_image_release(&x);
	}

	/* the image index: links the per-arch documents */
	{
		struct sbom_image two[2];
		const char *docs[2];
		size_t lens[2];
		strbuf d0 = STRBUF_INIT, d1 = STRBUF_INIT;
		const char *idx = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

		two[0] = img;
		two[1] = img;
		two[1].arch = (char *)"arm64";
		two[1].manifest_digest = (char *)"sha256:2222222222222222222222222222222222222222222222222222222222222222";
		for (int fmt = 0; fmt < 2; fmt++) {
			cJSON *d;
			sb_reset(&d0);
			sb_reset(&d1);
			sb_reset(&a);
			sbom_write(&two[0], (enum sbom_format)fmt, false, &d0, &e);
			sbom_write(&two[1], (enum sbom_format)fmt, false, &d1, &e);
			docs[0] = d0.buf, lens[0] = d0.len, docs[1] = d1.buf, lens[1] = d1.len;
			TAP_OK(sbom_write_index(two, 2, idx, docs, lens, (enum sbom_format)fmt, &a, &e) == 0,
			       "index %d: written (%s)", fmt, e.msg);
			d = cJSON_Parse(sb_str(&a));
			if (fmt == SBOM_SPDX) {
				cJSON *x = cJSON_Parse(d1.buf);
				cJSON *r = find_by(cJSON_GetObjectItem(d, "externalDocumentRefs"), "externalDocumentId",
						   "DocumentRef-arm64");
				TAP_OK(r && x && !strcmp(str_at(r, "spdxDocument"), str_at(x, "documentNamespace")),
				       "index spdx: DocumentRef-arm64 is the arm64 document's namespace");
				TAP_OK(find_by(cJSON_GetObjectItem(d, "packages"), "versionInfo", idx) != NULL,
				       "index spdx: the index package carries the index digest");
				cJSON_Delete(x);
			} else {
				TAP_OK(d && strstr(sb_str(&a), "\"type\":\t\"bom\"") != NULL,
				       "index cdx: a bom external reference per image");
			}
			cJSON_Delete(d);
			TAP_VALID(validate(a.buf, a.len, "index"), "index %d: valid", fmt);
		}
		sb_reset(&a);
		TAP_OK(sbom_write_index(two, 2, "sha256:nope", docs, lens, SBOM_SPDX, &a, &e) < 0 && a.len == 0,
		       "index: a bad digest is an error: %s", e.msg);
		sb_release(&d0);
		sb_release(&d1);
	}

	/* bad input fails and writes nothing */
	sb_reset(&a);
	emb.files[1].sha1[0] = '\0';
	TAP_OK(sbom_write(&emb, SBOM_SPDX, true, &a, &e) < 0 && a.len == 0 && strstr(e.msg, "/usr/bin/hello"),
	       "spdx with files needs every sha1: %s", e.msg);
	TAP_OK(sbom_write(&emb, SBOM_CYCLONEDX, true, &a, &e) == 0, "cyclonedx with files does not need sha1");
	sb_reset(&a);
	sv_push(&emb.pkgs[0].depends, "missing");
	TAP_OK(sbom_write(&emb, SBOM_CYCLONEDX, false, &a, &e) < 0 && a.len == 0 && strstr(e.msg, "missing"),
	       "a dependency outside the image is an error: %s", e.msg);

	sbom_image_release(&img);
	sbom_image_release(&emb);
	sb_release(&a);
	sb_release(&b);
	TAP_DONE();
}
