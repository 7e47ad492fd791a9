/* unit-signer.c - the signer's byte-level contracts: DSSE PAE, cosign's
 * simple-signing payload, base64, sign/verify for every key type, and the
 * checks `pare verify` makes on envelopes, statements and signature layers. */
#include "../../signer/signer_int.h"
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
		base64_encode("abcd", n, &sb);
		TAP_OK(base64_decode(sb_str(&sb), &dec, &e) == 0 && dec.len == n &&
			       !memcmp(dec.buf ? dec.buf : "", "abcd", n),
		       "base64 round trip, %zu bytes (%s)", n, sb_str(&sb));
	}
	sb_reset(&dec);
	TAP_OK(base64_decode("abc", &dec, &e) < 0, "base64 rejects bad length");

	TAP_REQUIRE(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
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

			/* a DSSE envelope and a simple-signing layer, both ways */
			static const char D[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
			strbuf body = STRBUF_INIT, env = STRBUF_INIT, got = STRBUF_INIT, pl = STRBUF_INIT, b64 = STRBUF_INIT;
			sb_adds(&body, "{\"_type\":\"" STATEMENT_V1 "\",\"predicateType\":\"p\"}");
			TAP_OK(signer_dsse_envelope(priv, &body, &env, &e) == 0 &&
				       signer_dsse_verify(pub, env.buf, env.len, &got, &e) == 0 && got.len == body.len &&
				       !memcmp(got.buf, body.buf, body.len),
			       "dsse %s: envelope verifies, payload back", types[i]);
			signer_simple_signing_payload("img", D, &pl);
			sb_reset(&sig);
			signer_sign_bytes(priv, pl.buf, pl.len, &sig, &e);
			base64_encode(sig.buf, sig.len, &b64);
			TAP_OK(signer_verify_simple_signing(pub, pl.buf, pl.len, sb_str(&b64), D, &e) == 0,
			       "simple signing %s: verifies for its digest", types[i]);
			TAP_OK(signer_verify_simple_signing(pub, pl.buf, pl.len, sb_str(&b64),
						     "sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &e) < 0 &&
				       strstr(e.msg, "names sha256:0123"),
			       "simple signing %s: not for another digest", types[i]);
			sb_release(&body), sb_release(&env), sb_release(&got), sb_release(&pl), sb_release(&b64);
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
	{
		/* fuzz-verify: a raw newline in an (unsigned) payloadType reached
		 * the one-line message */
		static const char env[] = "{\"payloadType\":\"a\nb\",\"payload\":\"\",\"signatures\":[]}";
		signer_key *pub = NULL;
		strbuf body = STRBUF_INIT;
		perr e2 = { 0, "" };
		char *pp = xasprintf("%s/ed25519.pub", dir);
		signer_load_public(pp, &pub, &e2);
		TAP_OK(pub && signer_dsse_verify(pub, env, sizeof(env) - 1, &body, &e2) < 0 &&
			       strstr(e2.msg, "payloadType") && !strchr(e2.msg, '\n'),
		       "dsse: a foreign payloadType refused on one line (%s)", e2.msg);
		signer_key_free(pub);
		sb_release(&body);
		free(pp);
	}
	{
		/* a validly signed envelope of another payloadType: the
		 * signature verifies over its PAE, the type is still refused
		 * (the in-toto statement inside would be read as something it
		 * was not signed as) */
		static const char *const types2[] = { OCI_MT_INTOTO, "application/vnd.example.foreign+json" };
		char *kp = xasprintf("%s/ed25519.key", dir), *pp = xasprintf("%s/ed25519.pub", dir);
		signer_key *priv = NULL, *pub = NULL;
		perr e2 = { 0, "" };

		signer_load_private(kp, &priv, &e2);
		signer_load_public(pp, &pub, &e2);
		for (size_t i = 0; priv && pub && i < ARRAY_SIZE(types2); i++) {
			static const char stmt[] = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
			strbuf pae = STRBUF_INIT, sg = STRBUF_INIT, b64 = STRBUF_INIT, body = STRBUF_INIT;
			cJSON *env = cJSON_CreateObject(), *sigs, *one;
			char *text;
			int r;

			signer_dsse_pae(types2[i], stmt, sizeof(stmt) - 1, &pae);
			signer_sign_bytes(priv, pae.buf, pae.len, &sg, &e2);
			cJSON_AddStringToObject(env, "payloadType", types2[i]);
			base64_encode(stmt, sizeof(stmt) - 1, &b64);
			cJSON_AddStringToObject(env, "payload", b64.buf);
			sigs = cJSON_AddArrayToObject(env, "signatures");
			one = cJSON_CreateObject();
			sb_reset(&b64);
			base64_encode(sg.buf, sg.len, &b64);
			cJSON_AddStringToObject(one, "sig", b64.buf);
			cJSON_AddItemToArray(sigs, one);
			text = cJSON_PrintUnformatted(env);
			r = signer_dsse_verify(pub, text, strlen(text), &body, &e2);
			if (i == 0)
				TAP_OK(r == 0, "dsse: the signed in-toto envelope verifies (%s)", r ? e2.msg : "");
			else
				TAP_OK(r < 0 && strstr(e2.msg, "payloadType"),
				       "dsse: a validly signed envelope of a foreign payloadType refused (%s)",
				       r ? e2.msg : "verified");
			free(text);
			cJSON_Delete(env);
			sb_release(&pae);
			sb_release(&sg);
			sb_release(&b64);
			sb_release(&body);
		}
		TAP_OK(priv && pub, "ed25519 keys for the payloadType test");
		signer_key_free(priv);
		signer_key_free(pub);
		free(kp);
		free(pp);
	}
	{
		static const struct { const char *json; int64_t want; } sz[] = {
			{ "{\"size\":5}", 5 }, { "{\"size\":-1}", -1 }, { "{}", -1 },
			{ "{\"size\":1e300}", INT64_MAX }, { "{\"size\":9223372036854775808}", INT64_MAX },
		};
		for (size_t i = 0; i < ARRAY_SIZE(sz); i++) {
			cJSON *j = cJSON_Parse(sz[i].json);
			TAP_OK(oci_json_size(j) == sz[i].want, "json_size %s = %lld", sz[i].json, (long long)sz[i].want);
			cJSON_Delete(j);
		}
	}
	{
		static const char D[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		static const struct { const char *st, *ann, *want; } sc[] = {
			{ "{\"_type\":\"" STATEMENT_V1 "\",\"predicateType\":\"p\",\"subject\":[{\"digest\":"
			  "{\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}]}", "p", NULL },
			{ "{\"_type\":\"x\"}", NULL, "_type is not" },
			{ "{\"_type\":\"" STATEMENT_V1 "\",\"predicateType\":\"q\"}", "p", "differs from the layer's 'p'" },
			{ "{\"_type\":\"" STATEMENT_V1 "\"}", NULL, "differs from the layer's '(none)'" },
			{ "{\"_type\":\"" STATEMENT_V1 "\",\"predicateType\":\"p\",\"subject\":[]}", NULL,
			  "no subject with digest" },
			/* a statement about another image (its digest differs in the last
			 * hex digit only): the subject must be this one (mutant
			 * verify-statement-subject) */
			{ "{\"_type\":\"" STATEMENT_V1 "\",\"predicateType\":\"p\",\"subject\":[{\"digest\":"
			  "{\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee\"}}]}", "p",
			  "no subject with digest" },
			{ "[", NULL, "_type is not" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(sc); i++) {
			cJSON *st = NULL;
			const char *pt = NULL;
			perr e2 = { 0, "" };
			int rc = signer_statement_check(sc[i].st, strlen(sc[i].st), sc[i].ann, D, &st, &pt, &e2);
			TAP_OK(sc[i].want ? rc < 0 && !st && strstr(e2.msg, sc[i].want)
					  : rc == 0 && st && pt && !strcmp(pt, "p"),
			       "statement %zu: %s", i, sc[i].want ? sc[i].want : "accepted");
			cJSON_Delete(st);
		}
	}
	{
		/* a cosign key whose scrypt N is beyond a long: refused, not
		 * converted (undefined behaviour under UBSan before) */
		static const char json[] =
			"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":1e300,\"r\":8,\"p\":1},\"salt\":\"AAAA\"},"
			"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AAAA\"}";
		strbuf pem = STRBUF_INIT;
		signer_key *k = NULL;
		perr e2 = { 0, "" };
		char *kp = xasprintf("%s/cosign.key", dir);
		sb_adds(&pem, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
		base64_encode(json, sizeof(json) - 1, &pem);
		sb_adds(&pem, "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
		write_file_atomic(kp, pem.buf, pem.len, 0600, &e2);
		TAP_OK(signer_load_private(kp, &k, &e2) < 0 && strstr(e2.msg, "bad scrypt parameters"),
		       "cosign key: a huge scrypt N refused (%s)", e2.msg);
		signer_key_free(k);
		sb_release(&pem);
		free(kp);
	}
	rm_rf(dir, &e);
	sb_release(&sb);
	sb_release(&sig);
	sb_release(&dec);
	TAP_DONE();
}
