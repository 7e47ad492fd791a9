/*
 * fuzz-audit.c - a layer of an image someone else built, what pare audit
 * reads from anyone (docs/audit.md).
 *
 * The bytes are one layer blob (a tar in any compression libarchive reads)
 * of an image layout whose manifest and config are fixed; they go through
 * everything pare audit does with an image: the layer read and merged onto
 * a first layer (whiteouts, hard links, contents), every check, the JSON and
 * SARIF outputs.  The seeds are in tests/fuzz/seeds/audit.
 *
 * Invariant: success, or failure with a one-line message; never a crash,
 * leak, hang, UB or unbounded memory.
 */
#define _GNU_SOURCE
#include "../../audit/audit.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[] = "/tmp/pare-fuzz-audit-XXXXXX";

static void put_blob(const void *data, size_t n, char digest[7 + SHA256_HEX_LEN + 1])
{
	char hex[SHA256_HEX_LEN + 1], *p;
	perr e;

	sha256_hex(data, n, hex);
	p = xasprintf("%s/blobs/sha256/%s", tmpdir, hex);
	if (write_file_scratch(p, data, n, 0644, &e) < 0)
		die("%s", e.msg);
	free(p);
	snprintf(digest, 7 + SHA256_HEX_LEN + 1, "sha256:%s", hex);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *p;
	perr e;

	(void)argc, (void)argv;
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	p = xasprintf("%s/blobs/sha256", tmpdir);
	if (mkdir_p(p, 0755, &e) < 0)
		die("%s", e.msg);
	free(p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":"
				  "\"2024-01-01T00:00:00Z\",\"config\":{\"User\":\"app\","
				  "\"Env\":[\"PATH=/bin\"]},\"history\":[{\"created_by\":\"x\"}]}";
	/* the first layer: an empty tar (two zero blocks) */
	static const char empty_tar[1024];
	char lay[80], base[80], cd[80], md[80];
	struct audit_opts o = { NULL, NULL, 0 };
	struct audit_report *reps = NULL;
	size_t nreps = 0;
	char *text, *p;
	perr e = { 0, "" };

	if (size > (4u << 20))
		return 0;
	put_blob(data, size, lay);
	put_blob(empty_tar, sizeof(empty_tar), base);
	put_blob(cfg, strlen(cfg), cd);
	text = xasprintf("{\"schemaVersion\":2,\"config\":{\"mediaType\":"
			 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\"},"
			 "\"layers\":[{\"digest\":\"%s\"},{\"digest\":\"%s\"}]}", cd, base, lay);
	put_blob(text, strlen(text), md);
	free(text);
	text = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\"}]}", md);
	p = xasprintf("%s/index.json", tmpdir);
	if (write_file_scratch(p, text, strlen(text), 0644, &e) < 0)
		die("%s", e.msg);
	free(p), free(text);

	if (audit_path(tmpdir, &o, &reps, &nreps, &e) == 0) {
		cJSON *j = audit_json(reps, nreps), *s = audit_sarif(reps, nreps);
		FILE *devnull = fopen("/dev/null", "w");

		if (devnull) {
			audit_print_table(devnull, reps, nreps);
			fclose(devnull);
		}
		cJSON_Delete(j), cJSON_Delete(s);
	} else if (!e.msg[0] || strchr(e.msg, '\n')) {
		die("audit: not a one-line message: '%s'", e.msg);
	}
	audit_reports_free(reps, nreps);
	/* the input's blobs go, so the directory does not grow without bound */
	if (strcmp(lay, base) && strcmp(lay, cd) && strcmp(lay, md)) {
		p = xasprintf("%s/blobs/sha256/%s", tmpdir, lay + 7);
		unlink(p);
		free(p);
	}
	p = xasprintf("%s/blobs/sha256/%s", tmpdir, md + 7);
	unlink(p);
	free(p);
	return 0;
}
