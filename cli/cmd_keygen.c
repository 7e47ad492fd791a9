/* cmd_keygen.c - pare keygen: a signing key pair for pare sign / cosign. */
#include "cli.h"
#include "../signer/signer.h"

#include <string.h>

const struct cli_opt cli_keygen_opts[] = {
	{ 't', "type", "ecdsa-p256|ed25519|rsa-3072", 0, "the key's type (default ecdsa-p256)" },
	{ 'n', "no-password", NULL, 0, "an unencrypted private key (else PARE_PASSWORD or a prompt)" },
	{ 'o', "output", "NAME", CLI_SHORT | CLI_REQUIRED, "write NAME.key and NAME.pub" },
	{ 0 },
};

int cmd_keygen(int argc, char **argv, perr *e)
{
	enum signer_key_type type = SIGNER_KEY_ECDSA_P256;
	const char *name = NULL;
	bool no_password = false;
	struct cli_args a;
	int c;

	cli_args_init(&a, argc, argv, cli_keygen_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		switch (c) {
		case 't':
			if (signer_key_type_parse(a.val, &type, e) < 0)
				return -1;
			break;
		case 'n': no_password = true; break;
		case 'o': name = a.val; break;
		}
	}
	if (c < 0)
		return -1;
	if (a.nops)
		return cli_usage_error(e, "keygen", "unexpected argument '%s'", argv[1]);
	if (!name)
		return perr_set(e, "keygen: missing -o NAME");
	if (signer_keygen(type, name, no_password, e) < 0)
		return perr_prefix(e, "keygen");
	note("wrote %s.key (private, keep it secret) and %s.pub", name, name);
	return 0;
}
