/* cmd_sign.c - pare sign: cosign-compatible signatures and attestations for
 * an OCI layout, in place. */
#include "commands.h"
#include "../signer/signer.h"

#include <string.h>

int cmd_sign(int argc, char **argv, perr *e)
{
	const char *key = NULL, *ref = NULL, *dir = NULL;
	bool dd = false;

	for (int i = 1; i < argc; i++) {
		if (!dd && !strcmp(argv[i], "--"))
			dd = true;
		else if (dd || argv[i][0] != '-') {
			if (dir)
				return perr_set(e, "sign: unexpected argument '%s' (usage: pare sign --key KEY [--ref REPO] DIR)", argv[i]);
			dir = argv[i];
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--ref") && i + 1 < argc)
			ref = argv[++i];
		else
			return perr_set(e, "sign: unknown option '%s' (see 'pare help sign')", argv[i]);
	}
	if (!key || !dir)
		return perr_set(e, "sign: usage: pare sign --key KEY [--ref REPO] DIR");
	return signer_sign_layout(dir, key, ref, e);
}
