/* cmd_evidence.c - pare evidence -o DIR|FILE.tar IMAGE… and pare evidence
 * --verify PACK: the signed, deterministic evidence pack of a release and
 * its check (evidence/, docs/evidence.md). */
#include "cli.h"
#include "../evidence/evidence.h"
#include "../rebuild/rebuild.h"

#include <stdio.h>
#include <stdlib.h>

enum { EVIDENCE_KEY = 0x100, EVIDENCE_SIGN_KEY, EVIDENCE_LOCK, EVIDENCE_VERIFY };

const struct cli_opt cli_evidence_opts[] = {
	{ 'o', "output", "DIR|FILE.tar", CLI_SHORT, "write the pack there (a tar when the name ends in .tar)" },
	{ EVIDENCE_KEY, "key", "PUB", CLI_REPEAT, "a public key: copied into the pack; the images' signatures verify with one" },
	{ EVIDENCE_SIGN_KEY, "sign-key", "KEY", 0, "sign MANIFEST.sha256 with this private key (its .pub given with --key)" },
	{ EVIDENCE_LOCK, "lock", "FILE", 0, "put each image's entry of this recipes.lock in the pack" },
	{ EVIDENCE_VERIFY, "verify", "PACK", 0, "check a pack (directory or tar) instead of making one" },
	{ 0 },
};

static void print_line(const char *line, void *ctx)
{
	(void)ctx;
	printf("ok   %s\n", line);
}

/* The CVE response timeline recorded for lock (pare cve --history --json),
 * or NULL in *out when nothing is recorded. */
static int read_history(const char *lock, char **out, perr *e)
{
	struct rebuild_history h = { 0 };
	strvec all = STRVEC_INIT;
	size_t len = 0;
	FILE *f;
	int ret = -1;

	*out = NULL;
	if (rebuild_history_read(lock, &h, e) < 0)
		goto done;
	ret = 0;
	if (!h.n)
		goto done;
	if (!(f = open_memstream(out, &len)))
		die("open_memstream: out of memory");
	ret = rebuild_history_print(f, &h, &all, true, e);
	fclose(f);
	if (ret < 0) {
		free(*out);
		*out = NULL;
	}
done:
	rebuild_history_release(&h);
	return ret;
}

int cmd_evidence(int argc, char **argv, perr *e)
{
	struct evidence_opts o = { .recipes_dir = cli_recipes_dir() };
	const char *verify = NULL;
	strvec keys = STRVEC_INIT;
	char *hist = NULL;
	struct cli_args a;
	int c, ret = -1;

	cli_args_init(&a, argc, argv, cli_evidence_opts);
	while ((c = cli_args_next(&a, e)) > 0) {
		switch (c) {
		case 'o': o.out = a.val; break;
		case EVIDENCE_KEY: sv_push(&keys, a.val); break;
		case EVIDENCE_SIGN_KEY: o.sign_key = a.val; break;
		case EVIDENCE_LOCK: o.lock = a.val; break;
		case EVIDENCE_VERIFY: verify = a.val; break;
		}
	}
	o.keys = &keys;
	if (c < 0)
		goto out;
	if (verify) {
		if (o.out || o.sign_key || o.lock || a.nops) {
			cli_usage_error(e, "evidence", "--verify PACK takes only --key");
			goto out;
		}
		if (evidence_verify(verify, &keys, print_line, NULL, e) == 0) {
			printf("%s: verified\n", verify);
			ret = 0;
		}
		goto out;
	}
	if (!o.out || a.nops < 1) {
		cli_usage_error(e, "evidence", NULL);
		goto out;
	}
	if (o.lock && read_history(o.lock, &hist, e) < 0)
		goto out;
	o.cve_history = hist;
	if (evidence_make(&o, argv + 1, (size_t)a.nops, e) == 0) {
		note("%s: evidence pack of %d image%s%s", o.out, a.nops, a.nops == 1 ? "" : "s",
		     o.sign_key ? ", signed" : "");
		ret = 0;
	}
out:
	free(hist);
	sv_clear(&keys);
	return ret;
}
