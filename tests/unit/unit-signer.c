/* unit-signer.c - the signer's byte-level contracts: DSSE PAE, cosign's
 * simple-signing payload, base64, and sign/verify for every key type. */
#include "../../signer/signer.h"
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	strbuf sb = STRBUF_INIT, sig = STRBUF_INIT, dec = STRBUF_INIT;
	static const char *const types[] = { "ecdsa-p256", "ed25519", "rsa-3072" };
	char dir[] = "/tmp/unit-signer-XXXXXX";
	perr e = { 0, "" };

	/* DSSE spec example: PAE("http://example.com/HelloWorld", "hello world"). */
	signer_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &sb);
	TAP_STREQ(sb_str(&sb), "DSSEv1 29 http://example.com/HelloWorld 11 hello world", "dsse pae");
	sb_reset(&sb);
	signer_dsse_pae("application/vnd.in-toto+json", "", 0, &sb);
	TAP_STREQ(sb_str(&sb), "DSSEv1 28 application/vnd.in-toto+json 0 ", "dsse pae, empty body");

	sb_reset(&sb);
	signer_simple_signing_payload("registry.test/a\"b", "sha256:00", &sb);
	TAP_STREQ(sb_str(&sb),
		  "{\"critical\":{\"identity\":{\"docker-reference\":\"registry.test/a\\\"b\"},"
		  "\"image\":{\"docker-manifest-digest\":\"sha256:00\"},"
		  "\"type\":\"cosign container image signature\"},\"optional\":null}",
		  "simple signing payload is cosign's, escaped");

	for (size_t n = 0; n < 5; n++) {
		sb_reset(&sb);
		sb_reset(&dec);
		signer_b64_encode("abcd", n, &sb);
		TAP_OK(signer_b64_decode(sb_str(&sb), &dec, &e) == 0 && dec.len == n &&
			       !memcmp(dec.buf ? dec.buf : "", "abcd", n),
		       "base64 round trip, %zu bytes (%s)", n, sb_str(&sb));
	}
	sb_reset(&dec);
	TAP_OK(signer_b64_decode("abc", &dec, &e) < 0, "base64 rejects bad length");

	TAP_OK(mkdtemp(dir) != NULL, "temp dir");
	setenv("PARE_PASSWORD", "unit", 1);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		enum signer_key_type t;
		signer_key *priv = NULL, *pub = NULL;
		char *name = xasprintf("%s/%s", dir, types[i]);
		char *kp = xasprintf("%s.key", name), *pp = xasprintf("%s.pub", name);

		TAP_OK(signer_key_type_parse(types[i], &t, &e) == 0, "parse %s", types[i]);
		TAP_OK(signer_keygen(t, name, i == 1, &e) == 0, "keygen %s: %s", types[i], e.msg);
		TAP_OK(signer_keygen(t, name, i == 1, &e) < 0, "keygen %s refuses to overwrite", types[i]);
		TAP_OK(signer_load_private(kp, &priv, &e) == 0, "load %s private: %s", types[i], e.msg);
		TAP_OK(signer_load_public(pp, &pub, &e) == 0, "load %s public: %s", types[i], e.msg);
		if (priv && pub) {
			TAP_STREQ(signer_key_name(pub), types[i], "key name");
			sb_reset(&sig);
			TAP_OK(signer_sign_bytes(priv, "payload", 7, &sig, &e) == 0, "sign %s", types[i]);
			TAP_OK(signer_verify_bytes(pub, "payload", 7, sig.buf, sig.len, &e) == 0,
			       "verify %s: %s", types[i], e.msg);
			TAP_OK(signer_verify_bytes(pub, "payloaD", 7, sig.buf, sig.len, &e) < 0,
			       "verify %s rejects other data", types[i]);
			sig.buf[sig.len / 2] ^= 1;
			TAP_OK(signer_verify_bytes(pub, "payload", 7, sig.buf, sig.len, &e) < 0,
			       "verify %s rejects a flipped bit", types[i]);
		}
		signer_key_free(priv);
		signer_key_free(pub);
		if (i == 0) {
			setenv("PARE_PASSWORD", "wrong", 1);
			priv = NULL;
			TAP_OK(signer_load_private(kp, &priv, &e) < 0 && strstr(e.msg, "wrong password"),
			       "wrong password is named: %s", e.msg);
			signer_key_free(priv);
			setenv("PARE_PASSWORD", "unit", 1);
		}
		free(name);
		free(kp);
		free(pp);
	}
	{
		enum signer_key_type t;
		TAP_OK(signer_key_type_parse("dsa", &t, &e) < 0, "unknown key type rejected");
	}
	rm_rf(dir, &e);
	sb_release(&sb);
	sb_release(&sig);
	sb_release(&dec);
	TAP_DONE();
}
