/* cmd_sign.c - pare sign: cosign-compatible signatures and attestations for
 * an OCI layout, in place, or an oci-archive pare wrote, rewritten
 * atomically. */
#include "cli.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../signer/signer.h"

#include <string.h>

int cmd_sign(int argc, char **argv, perr *e)
{
	const char *key = NULL, *ref = NULL, *dir = NULL;
	struct oci_input in;
	bool dd = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!dd && !strcmp(argv[i], "--"))
			dd = true;
		else if (dd || argv[i][0] != '-') {
			if (dir)
				return perr_set(e, "sign: unexpected argument '%s' (usage: pare sign --key KEY [--ref REPO] DIR|ARCHIVE)", argv[i]);
			dir = argv[i];
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--ref") && i + 1 < argc)
			ref = argv[++i];
		else
			return perr_set(e, "sign: unknown option '%s' (see 'pare help sign')", argv[i]);
	}
	if (!key || !dir)
		return perr_set(e, "sign: usage: pare sign --key KEY [--ref REPO] DIR|ARCHIVE");
	/* an archive is signed in its unpacked copy, then rewritten whole:
	 * until the rename, the archive is the one given */
	if (oci_input_open(dir, true, &in, e) < 0)
		return -1;
	ret = signer_sign_layout(in.dir, key, ref, e);
	if (ret < 0)
		oci_input_error(&in, e);
	if (ret == 0)
		ret = oci_input_save(&in, e);
	oci_input_close(&in);
	return ret;
}
