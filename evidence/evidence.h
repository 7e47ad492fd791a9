/*
 * evidence.h - pare evidence: a self-contained, signed, deterministic
 * evidence pack of one release for a client's auditor (issue 21,
 * docs/evidence.md), and pare evidence --verify, what the client runs.
 *
 * Owns: the pack's layout (images/NAME/…, keys/, VERIFY.md, index.html,
 * MANIFEST.sha256 and its detached signature), writing it as a directory or
 * a tar (libarchive) atomically and byte for byte the same from the same
 * inputs, and checking a received one completely.
 *
 * May include: common/, oci/ (reading the layouts), resolver/, sbom/,
 * signer/ (signing the manifest, verifying it and the images' signatures
 * and attestations), cve/ (the CVE report and VEX) and audit/ (the
 * benchmark report, the HTML escaping) -- tests/layering checks it.  Only
 * cli/ includes this header.
 */
#ifndef PARE_EVIDENCE_H
#define PARE_EVIDENCE_H

#include "../common/common.h"

struct evidence_opts {
	const char *out;         /* -o DIR, or FILE.tar */
	const char *lock;        /* --lock FILE: the images' lock entries; NULL = none */
	const strvec *keys;      /* --key PUB…: copied into keys/, verify the images */
	const char *sign_key;    /* --sign-key KEY: signs MANIFEST.sha256; NULL = unsigned */
	const char *recipes_dir; /* for the benchmark's recipe lookups */
	const char *cve_history; /* the lock's CVE response timeline, as `pare cve
				  * --history --json` prints it (the caller reads it:
				  * rebuild/ sits above this module); NULL = none */
};

/* Make the pack of images (layout directories or oci-archives, in the
 * order given) at o->out.  The mtime of every entry is SOURCE_DATE_EPOCH,
 * else the newest source_date_epoch of the images' lock entries, else 0.
 * An out that exists and is not a pack pare wrote (or empty) is refused. */
int evidence_make(const struct evidence_opts *o, char **images, size_t n, perr *e);

/* Check the pack at path (a directory or a tar): MANIFEST.sha256's
 * signature (with keys, else the pack's own keys/), every file's digest,
 * no file missing or unlisted, every image's signatures and attestations
 * (keys, else the pack's).  The first bad file in a one-line error.  fn
 * (may be NULL) is called with one line per check passed. */
int evidence_verify(const char *path, const strvec *keys, void (*fn)(const char *line, void *ctx),
		    void *ctx, perr *e);

#endif
