/*
 * sbom_int.h - sbom/ internals shared by sbom.c, license.c and the unit tests.
 */
#ifndef PARE_SBOM_INT_H
#define PARE_SBOM_INT_H

#include "sbom.h"

/*
 * LicenseRef-* identifiers are document-wide in SPDX (hasExtractedLicensingInfos),
 * so every package registers the ones it uses here.  The same id with the same
 * text is shared; the same id with a different text (two packages each with
 * their own "public-domain" paragraph) gets a package-qualified id, so no text
 * is ever dropped or attributed to the wrong package.  Registration order is
 * the package order, hence deterministic.
 */
/* A hash index over the strings of a strvec (license.c): slot holds a
 * position + 1, 0 is empty.  Copyright files reach 16 MiB; every lookup
 * that was a scan of a list made some file quadratic. */
struct lic_index {
	size_t *slot, cap;
};

struct lic_refs {
	strvec ids;   /* "LicenseRef-..." */
	strvec names; /* the name as written in the copyright file */
	strvec texts; /* licence text, or the name when there is none */
	strvec where; /* pointer to the copyright file in the image that the text
		       * was taken from ("Text in PATH (sha256 HEX) in this image"),
		       * "" when that file is not in the image: see lic_ref_text() */
	struct lic_index index; /* of ids */
};

enum lic_kind {
	LIC_NONE,  /* no copyright file at all */
	LIC_DEP5,  /* machine-readable (copyright-format 1.0) */
	LIC_FREE,  /* free-text copyright file */
};

struct lic_info {
	enum lic_kind kind;
	char *expr;      /* SPDX licence expression, NULL = NOASSERTION */
	char *copyright; /* Copyright: lines joined by '\n', NULL = NOASSERTION */
	strvec refs;     /* LicenseRef ids used by expr, sorted, unique */
	char *detected;  /* LIC_FREE with expr detected: the evidence, else NULL */
};

/* Debian short licence name (copyright-format 1.0 §7.2, common spellings)
 * to an SPDX licence id; NULL when unknown.  Case-insensitive. */
const char *lic_map_name(const char *debian_name);
/* The i-th SPDX id of the name table, NULL past its end (for the tests). */
const char *lic_table_spdx(size_t i);
/* "with NAME exception" -> SPDX exception id, given the mapped licence;
 * NULL when there is no SPDX id for it. */
const char *lic_map_exception(const char *name, const char *spdx_license);
/* "LicenseRef-" + name with every char outside [A-Za-z0-9.-] made '-'. */
char *lic_ref_id(const char *name);

/* Analyse one package's copyright file (text may be NULL).  where: the
 * pointer to that file in the image (see lic_refs.where), NULL when the
 * image does not carry it. */
void lic_analyse(const char *pkgname, const char *text, const char *where,
		 struct lic_refs *reg, struct lic_info *out);
/* What a document says for LicenseRef i: the text, or in a copy embedded in
 * the image (pointer true) the pointer to the copyright file it came from,
 * when that file is in the image. */
const char *lic_ref_text(const struct lic_refs *reg, size_t i, bool pointer);

/*
 * The licence analysis of an image's packages (sbom.h: sbom_image_analyse),
 * done once per build and shared by every document written from it.  The
 * inputs it was made from are kept so that a document is never written with
 * the analysis of other packages or other copyright files (model_build checks).
 */
struct sbom_licenses {
	size_t n;
	strvec names, texts, wheres; /* per package: name, copyright text ("" none), pointer ("" none) */
	struct lic_info *info;       /* per package, img->pkgs order */
	struct lic_refs refs;        /* document-wide LicenseRef registry */
};
/* The pointer text for a copyright file of the image (caller frees). */
char *lic_pointer(const char *path, const char *sha256);
void lic_info_release(struct lic_info *li);
/* Licences a free-text copyright file states in a recognised way (Debian
 * common-licenses pointers, the PSF licence), AND-ed; NULL when none, else
 * why gets the quoted evidence. */
char *lic_detect_text(const char *text, strbuf *why);
void lic_refs_release(struct lic_refs *reg);
/* Index of id in reg, or -1. */
long lic_refs_find(const struct lic_refs *reg, const char *id);

/* purl helpers: purl_encode, purl_deb (sbom.h) */

/* Replace bytes that are not valid UTF-8 with U+FFFD, so the JSON we print
 * is always valid (old copyright files are often Latin-1). */
char *sbom_utf8_sanitize(const char *s);

#endif
