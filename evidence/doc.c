/* doc.c - the pack's two documents for people: VERIFY.md, the exact
 * commands that check everything with third-party tools (openssl,
 * sha256sum, cosign) and with pare, run from the pack's root; and
 * index.html, a static summary (no script, no network) linking every file.
 * Every string that comes from an image goes through audit/'s escaping. */
#define _GNU_SOURCE
#include "evidence_int.h"
#include "../cve/cve.h"

#include <stdlib.h>
#include <string.h>

#define esc audit_html_escape

static bool is_ed25519(const struct evidence_key *k)
{
	return !strcmp(k->type, "ed25519");
}

/* The command that checks sig over file with key, in openssl. */
static void openssl_verify(strbuf *sb, const struct evidence_key *k, const char *sig, const char *file)
{
	if (is_ed25519(k))
		sb_addf(sb, "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s\n", k->file,
			file, sig);
	else
		sb_addf(sb, "openssl dgst -sha256 -verify %s -signature %s %s\n", k->file, sig, file);
}

void evidence_verify_md(strbuf *sb, const struct evidence_image *ims, size_t n, const struct evidence_key *keys,
		  size_t nkeys, const struct evidence_key *signer)
{
	sb_adds(sb, "# Verifying this evidence pack\n\n"
		    "Made by pare " PARE_VERSION " (`pare evidence`, docs/evidence.md).  Run every command "
		    "below in bash from the pack's top directory (for the tar: "
		    "`mkdir pack && tar -xf PACK.tar -C pack && cd pack`).  Each prints nothing "
		    "alarming and exits 0 when the pack is intact.\n\n## Keys\n\n");
	sb_adds(sb, "| file | type | sha256 of the file | signed |\n|---|---|---|---|\n");
	for (size_t i = 0; i < nkeys; i++) {
		bool m = signer && !strcmp(signer->file, keys[i].file);

		sb_addf(sb, "| `%s` | %s | `%s` | %s |\n", keys[i].file, keys[i].type, keys[i].sha256,
			m ? "MANIFEST.sha256" : "");
		for (size_t k = 0; k < n; k++)
			if (ims[k].key == (int)i)
				sb_addf(sb, "|  |  |  | %s |\n", ims[k].name);
	}
	sb_adds(sb, "\nCompare the sha256 of each key with the one its owner published before trusting "
		    "anything below.\n\n## 1. The manifest's signature (openssl)\n\n");
	if (signer) {
		sb_addf(sb, "MANIFEST.sha256 is signed by `%s` (%s, sha256 of the file `%s`):\n\n```sh\n",
			signer->file, signer->type, signer->sha256);
		openssl_verify(sb, signer, EV_MANIFEST_SIG, EV_MANIFEST);
		sb_adds(sb, "```\n\n");
	} else {
		sb_adds(sb, "**This pack is not signed** (it was made without `--sign-key`): its integrity "
			    "rests on how it reached you.\n\n");
	}
	sb_adds(sb, "## 2. Every file (sha256sum)\n\nEvery file but the manifest and its signature is "
		    "listed in MANIFEST.sha256, sorted; the second command shows no file is there that the "
		    "manifest does not list.\n\n```sh\nsha256sum -c --strict --quiet " EV_MANIFEST "\n"
		    "test \"$(find . -type f ! -name " EV_MANIFEST " ! -name " EV_MANIFEST_SIG
		    " | sed 's|^\\./||' | LC_ALL=C sort)\" = \"$(cut -c67- " EV_MANIFEST ")\"\n```\n\n");
	sb_adds(sb, "## 3. The images' signatures and attestations (cosign, openssl)\n\n"
		    "The signatures and attestations are the layout's blobs, copied byte for byte under "
		    "`images/NAME/layout/` (the image layers are not part of the pack; their digests are in "
		    "the signed manifests).  A cosign signature's payload names the digest it signs.\n");
	for (size_t i = 0; i < n; i++) {
		const struct evidence_image *im = &ims[i];
		const struct evidence_key *k = im->key >= 0 ? &keys[im->key] : NULL;

		sb_addf(sb, "\n### %s\n\n", im->name);
		if (!k || (!im->nsigs && !im->natts)) {
			sb_adds(sb, "No signature in the layout.\n");
			continue;
		}
		sb_adds(sb, "```sh\n");
		for (size_t s = 0; s < im->nsigs; s++) {
			sb_addf(sb, "cosign verify-blob --key %s --insecure-ignore-tlog=true --signature %s %s\n",
				k->file, im->sigs[s].sig, im->sigs[s].payload);
			if (!is_ed25519(k))
				sb_addf(sb, "openssl dgst -sha256 -verify %s -signature <(base64 -d %s) %s\n", k->file,
					im->sigs[s].sig, im->sigs[s].payload);
			sb_addf(sb, "grep -qF '\"docker-manifest-digest\":\"%s\"' %s\n", im->sigs[s].target,
				im->sigs[s].payload);
		}
		for (size_t a = 0; a < im->natts; a++)
			sb_addf(sb, "cosign verify-blob-attestation --key %s --insecure-ignore-tlog=true --type %s "
				    "--signature %s %s\n",
				k->file, im->atts[a].type, im->atts[a].envelope, im->atts[a].subject);
		sb_adds(sb, "```\n");
	}
	sb_adds(sb, "\n## 4. All of the above (pare)\n\n"
		    "The manifest's signature, every file's digest, no file missing or extra, and every "
		    "image's signatures and attestations:\n\n```sh\n");
	sb_adds(sb, "pare evidence --verify .");
	for (size_t i = 0; i < nkeys; i++)
		sb_addf(sb, " --key %s", keys[i].file);
	sb_adds(sb, "\n```\n\n(`pare evidence --verify PACK.tar --key PUB` checks the tar as it is.)\n");
}

static void add_link(strbuf *sb, const char *file, const char *text)
{
	sb_adds(sb, "<a href=\"");
	esc(sb, file);
	sb_adds(sb, "\">");
	esc(sb, text ? text : file);
	sb_adds(sb, "</a>");
}

static bool has_file(const struct evidence_pack *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->f[i].name, name))
			return true;
	return false;
}

void evidence_index_html(strbuf *sb, const struct evidence_image *ims, size_t n, const struct evidence_key *keys,
		   size_t nkeys, const struct evidence_key *signer, const struct evidence_pack *p)
{
	sb_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'\">\n<title>Evidence pack</title>\n<style>\n"
		    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a1a1a}\n"
		    "h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.5rem}\n"
		    ".scroll{overflow-x:auto;max-width:100%}\n"
		    "table{border-collapse:collapse;font-size:.85rem}\n"
		    "th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}\n"
		    "td.ok{background:#c8e6c9}td.bad{background:#ef9a9a;font-weight:bold}"
		    "td.none{background:#eeeeee;color:#555}\n"
		    "code,.mono{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}\n"
		    "ul.files{font-size:.8rem;word-break:break-all}\n"
		    "@media print{body{margin:0}.scroll{overflow:visible}a{text-decoration:none}}\n"
		    "</style>\n</head>\n<body>\n<h1>Evidence pack</h1>\n");
	sb_addf(sb, "<p>%zu image%s.  ", n, n == 1 ? "" : "s");
	add_link(sb, "VERIFY.md", "VERIFY.md");
	sb_adds(sb, " has the commands that check everything (openssl, sha256sum, cosign, pare).  ");
	if (signer) {
		add_link(sb, EV_MANIFEST, NULL);
		sb_adds(sb, " is signed by ");
		add_link(sb, signer->file, NULL);
		sb_addf(sb, " (%s, sha256 of the file <code>%s</code>): ", signer->type, signer->sha256);
		add_link(sb, EV_MANIFEST_SIG, NULL);
		sb_adds(sb, ".</p>\n");
	} else {
		add_link(sb, EV_MANIFEST, NULL);
		sb_adds(sb, " is <strong>not signed</strong>.</p>\n");
	}
	sb_adds(sb, "<h2>Images</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>image</th><th>platform</th>"
		    "<th>digest</th><th>packages</th><th>signature</th><th>benchmark</th><th>CVEs</th>"
		    "<th>lock</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct evidence_image *im = &ims[i];

		for (size_t r = 0; r < im->nreps; r++) {
			const struct audit_report *rep = &im->reps[r];
			char *f;

			sb_adds(sb, "<tr class=\"image\"><td>");
			esc(sb, im->name + strlen("images/"));
			sb_adds(sb, "</td><td>");
			esc(sb, rep->img.platform);
			sb_adds(sb, "</td><td class=\"mono\">");
			f = xasprintf("%s/digests.txt", im->name);
			add_link(sb, f, rep->img.digest);
			free(f);
			sb_addf(sb, "</td><td>%zu</td><td class=\"%s\">", rep->npackages,
				!strcmp(rep->signature, "verified") ? "ok" : "bad");
			esc(sb, rep->signature);
			sb_addf(sb, "</td><td class=\"%s\">", rep->counts[AUDIT_FAIL] ? "bad" : "ok");
			f = xasprintf("%s/audit/audit.json", im->name);
			sb_addf(sb, "%zu pass, %zu fail, %zu warn, %zu n/a, %zu manual (", rep->counts[AUDIT_PASS],
				rep->counts[AUDIT_FAIL], rep->counts[AUDIT_WARN], rep->counts[AUDIT_NA],
				rep->counts[AUDIT_MANUAL]);
			add_link(sb, f, "JSON");
			free(f);
			sb_adds(sb, ", ");
			f = xasprintf("%s/audit/audit.sarif.json", im->name);
			add_link(sb, f, "SARIF");
			free(f);
			sb_adds(sb, ")</td>");
			if (im->cve) {
				sb_addf(sb, "<td class=\"%s\">",
					im->cve_counts[CVE_FIXABLE] ? "bad" : "ok");
				sb_addf(sb, "%zu fixable, %zu open, %zu undetermined, %zu suppressed (",
					im->cve_counts[CVE_FIXABLE], im->cve_counts[CVE_OPEN],
					im->cve_counts[CVE_UNDETERMINED], im->cve_counts[CVE_SUPPRESSED]);
				f = xasprintf("%s/cve/cve.json", im->name);
				add_link(sb, f, "JSON");
				free(f);
				sb_adds(sb, ", ");
				f = xasprintf("%s/cve/openvex.json", im->name);
				add_link(sb, f, "OpenVEX");
				free(f);
				sb_adds(sb, ", ");
				f = xasprintf("%s/cve/cyclonedx-vex.json", im->name);
				add_link(sb, f, "CycloneDX VEX");
				free(f);
				sb_adds(sb, ")</td>");
			} else {
				sb_adds(sb, "<td class=\"none\">no CVE feeds synced when the pack was made</td>");
			}
			if (im->locked) {
				sb_adds(sb, "<td>");
				f = xasprintf("%s/lock.json", im->name);
				add_link(sb, f, "lock entry");
				free(f);
				sb_adds(sb, "</td></tr>\n");
			} else
				sb_adds(sb, "<td class=\"none\">none</td></tr>\n");
		}
	}
	sb_adds(sb, "</tbody>\n</table></div>\n");
	/* The CVE response timeline: what pare watch and pare update recorded
	 * for the lock (pare cve --history --json), when the caller had one. */
	sb_adds(sb, "<h2 id=\"cve-timeline\">CVE response timeline</h2>\n<p>");
	if (has_file(p, "cve-history.json")) {
		add_link(sb, "cve-history.json", NULL);
		sb_adds(sb, ": per image, arch and CVE, when it was first seen affecting the image, "
			    "when a fix was first seen, and the rebuild (commit, digest) that shipped it, "
			    "with the time to fix");
	} else {
		sb_adds(sb, "not recorded (pare watch and pare update --commit record it for a lock; "
			    "docs/cve.md)");
	}
	sb_adds(sb, "</p>\n");
	sb_adds(sb, "<h2>Keys</h2>\n<ul>\n");
	for (size_t i = 0; i < nkeys; i++) {
		sb_adds(sb, "<li>");
		add_link(sb, keys[i].file, NULL);
		sb_addf(sb, " %s, sha256 of the file <code>%s</code>%s</li>\n", keys[i].type, keys[i].sha256,
			signer && !strcmp(signer->file, keys[i].file) ? " (signed MANIFEST.sha256)" : "");
	}
	sb_adds(sb, "</ul>\n<h2>Files</h2>\n<ul class=\"files\">\n");
	for (size_t i = 0; i < p->n; i++) {
		sb_adds(sb, "<li>");
		add_link(sb, p->f[i].name, NULL);
		sb_adds(sb, "</li>\n");
	}
	sb_adds(sb, "<li>");
	add_link(sb, EV_MANIFEST, NULL);
	sb_adds(sb, "</li>\n");
	if (signer) {
		sb_adds(sb, "<li>");
		add_link(sb, EV_MANIFEST_SIG, NULL);
		sb_adds(sb, "</li>\n");
	}
	sb_adds(sb, "</ul>\n</body>\n</html>\n");
}
