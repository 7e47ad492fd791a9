/* cmd_keygen.c - pare keygen: a signing key pair for pare sign / cosign. */
#include "cli.h"
#include "../signer/signer.h"

#include <string.h>

int cmd_keygen(int argc, char **argv, perr *e)
{
	enum signer_key_type type = SIGNER_KEY_ECDSA_P256;
	const char *name = NULL;
	bool no_password = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			if (signer_key_type_parse(argv[++i], &type, e) < 0)
				return -1;
		} else if (!strcmp(argv[i], "--no-password")) {
			no_password = true;
		} else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
			name = argv[++i];
		} else if (argv[i][0] == '-') {
			return perr_set(e, "keygen: unknown option '%s' (see 'pare help keygen')", argv[i]);
		} else {
			return perr_set(e, "keygen: unexpected argument '%s' (usage: pare keygen [--type ecdsa-p256|ed25519|rsa-3072] [--no-password] -o NAME)", argv[i]);
		}
	}
	if (!name)
		return perr_set(e, "keygen: missing -o NAME");
	if (signer_keygen(type, name, no_password, e) < 0)
		return perr_prefix(e, "keygen");
	note("wrote %s.key (private, keep it secret) and %s.pub", name, name);
	return 0;
}
