/* cmd_sign.c - pare sign: cosign-compatible signatures and attestations for
 * an OCI layout, in place, or an oci-archive pare wrote, rewritten
 * atomically. */
#include "cli.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../rebuild/rebuild.h"
#include "../signer/signer.h"

#include <string.h>

const struct cli_opt cli_sign_opts[] = {
	{ 'k', "key", "KEY", CLI_REQUIRED, "the private key (pare keygen, cosign generate-key-pair)" },
	{ 'r', "ref", "REPO", 0, "the repository the signatures name (default: the image's name)" },
	{ 0 },
};

int cmd_sign(int argc, char **argv, perr *e)
{
	const char *key = NULL, *ref = NULL, *dir;
	struct oci_input in;
	struct cli_args a;
	signer_key *k = NULL;
	int ret, c;

	cli_args_init(&a, argc, argv, cli_sign_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		if (c == 'k')
			key = a.val;
		else if (c == 'r')
			ref = a.val;
	}
	if (c < 0)
		return -1;
	if (a.nops > 1)
		return cli_usage_error(e, "sign", "unexpected argument '%s'", argv[2]);
	if (!key || !a.nops)
		return cli_usage_error(e, "sign", NULL);
	dir = argv[1];
	/* the key (and its password) first: a wrong one changes nothing */
	if (signer_load_private(key, &k, e) < 0)
		return perr_prefix(e, "sign %s", dir);
	/* an archive is signed in its unpacked copy, then rewritten whole:
	 * until the rename, the archive is the one given */
	if (oci_input_open(dir, true, &in, e) < 0) {
		signer_key_free(k);
		return -1;
	}
	/* the signatures, signer/'s attestations, the benchmark and (with CVE
	 * feeds) the vulnerability attestation */
	ret = rebuild_sign_layout(in.dir, k, ref, cli_recipes_dir(), e);
	if (ret < 0)
		oci_input_error(&in, e);
	if (ret == 0)
		ret = oci_input_save(&in, e);
	oci_input_close(&in);
	signer_key_free(k);
	return ret;
}
