/* cmd_sbom.c - pare sbom: print an SBOM attached to an image layout or
 * oci-archive.
 *
 * pare build attaches SPDX and CycloneDX documents to every image manifest,
 * each package-level and per-file, as OCI 1.1 artifacts listed in index.json
 * with the annotations dev.pare.sbom.format / .arch / .files, and one of each
 * format about the image index (dev.pare.sbom.index).  This command
 * finds the one asked for, reads it through oci/ (oci_input, oci_src),
 * which checks the digests on the way (manifest and document), and prints
 * it unchanged: the bytes are the attached (and, once signed, attested)
 * artifact's.
 */
#include "cli.h"
#include "../oci/oci.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_opt cli_sbom_opts[] = {
	{ 'f', "format", "spdx|cyclonedx", 0, "the document's format (default spdx)" },
	{ 'A', "arch", "A", 0, "that architecture's image (needed when the image has several)" },
	{ 'F', "files", NULL, 0, "the per-file document" },
	{ 'I', "index", NULL, 0, "the image index's document (not with --files or --arch)" },
	{ 0 },
};

/* what a manifest or an SBOM document may weigh (read_file's default) */
#define MAX_BLOB ((size_t)1 << 30)

int cmd_sbom(int argc, char **argv, perr *e)
{
	const char *format = "spdx", *arch = NULL, *dir = NULL, *arg = NULL;
	struct oci_input in = { .slot = -1 };
	struct oci_src *src = NULL;
	strbuf idx = STRBUF_INIT, man = STRBUF_INIT, doc = STRBUF_INIT;
	cJSON *index = NULL, *mj = NULL, *d, *hit = NULL;
	strvec archs = STRVEC_INIT;
	bool files = false, want_index = false;
	struct cli_args ca;
	int ret = -1, c;

	cli_args_init(&ca, argc, argv, cli_sbom_opts);
	while ((c = cli_args_next(&ca, e)) > 0) {
		switch (c) {
		case 'f': format = ca.val; break;
		case 'A': arch = ca.val; break;
		case 'F': files = true; break;
		case 'I': want_index = true; break;
		}
	}
	if (c < 0)
		return -1;
	if (ca.nops > 1)
		return cli_usage_error(e, "sbom", "unexpected argument '%s'", argv[2]);
	if (!ca.nops)
		return cli_usage_error(e, "sbom", NULL);
	arg = argv[1];
	if (want_index && (files || arch))
		return perr_set(e, "sbom: --index describes the whole index: no --files or --arch with it");
	if (!strcmp(format, "cdx"))
		format = "cyclonedx";
	if (strcmp(format, "spdx") && strcmp(format, "cyclonedx"))
		return perr_set(e, "sbom: unknown format '%s' (spdx or cyclonedx)", format);
	/* an oci-archive is unpacked (and a copy a killed pare left goes),
	 * then read through oci/ (digests checked); messages name what the
	 * user gave (oci_input_error) */
	if (oci_input_open(arg, false, &in, e) < 0)
		return -1;
	dir = in.tarfile ? in.tarfile : in.dir;
	if (oci_src_open(in.dir, &src, e) < 0 ||
	    oci_src_read(src, "index.json", &idx, 64 << 20, e) < 0) {
		oci_input_error(&in, e);
		goto out;
	}
	index = cJSON_ParseWithLength(idx.buf, idx.len);
	if (!index) {
		perr_set(e, "%s: index.json is not JSON", dir);
		goto out;
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
		const char *f = oci_annotation(d, OCI_ANN_SBOM_FORMAT), *a = oci_annotation(d, OCI_ANN_SBOM_ARCH);
		const char *fl = oci_annotation(d, OCI_ANN_SBOM_FILES), *ix = oci_annotation(d, OCI_ANN_SBOM_INDEX);

		if (want_index) {
			if (f && !strcmp(f, format) && ix && !strcmp(ix, "true") && !hit)
				hit = d;
			continue;
		}
		if (!f || !a || strcmp(f, format) || files != (fl && !strcmp(fl, "true")))
			continue;
		if (!sv_contains(&archs, a))
			sv_push(&archs, a);
		if (!arch || !strcmp(arch, a))
			hit = hit ? hit : d;
	}
	sv_sort(&archs);
	if (want_index && !hit) {
		perr_set(e, "%s: no %s SBOM attached to the image index", dir, format);
		goto out;
	}
	if (!want_index && !archs.n) {
		perr_set(e, "%s: no %s%s SBOM attached (was it built by pare build?)", dir, format,
			 files ? " per-file" : "");
		goto out;
	}
	if (!want_index && !arch && archs.n > 1) {
		strbuf list = STRBUF_INIT;
		for (size_t i = 0; i < archs.n; i++)
			sb_addf(&list, "%s%s", i ? ", " : "", archs.v[i]);
		perr_set(e, "%s: the image has several architectures (%s): choose one with --arch",
			 dir, list.buf);
		sb_release(&list);
		goto out;
	}
	if (!hit) {
		perr_set(e, "%s: no %s SBOM for architecture '%s'", dir, format, arch);
		goto out;
	}
	if (oci_src_blob(src, cJSON_GetStringValue(cJSON_GetObjectItem(hit, "digest")), &man,
			 MAX_BLOB, e) < 0) {
		oci_input_error(&in, e);
		goto out;
	}
	mj = cJSON_ParseWithLength(man.buf, man.len);
	d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(mj, "layers"), 0);
	if (!d) {
		perr_set(e, "%s: SBOM artifact has no layer", dir);
		goto out;
	}
	if (oci_src_blob(src, cJSON_GetStringValue(cJSON_GetObjectItem(d, "digest")), &doc, MAX_BLOB,
			 e) < 0) {
		oci_input_error(&in, e);
		goto out;
	}
	fwrite(doc.buf, 1, doc.len, stdout);
	ret = 0;
out:
	cJSON_Delete(index);
	cJSON_Delete(mj);
	sb_release(&idx);
	sb_release(&man);
	sb_release(&doc);
	sv_clear(&archs);
	oci_src_close(src);
	oci_input_close(&in);
	return ret;
}
