/*
 * fuzz-lock.c - recipes.lock as bytes a hand edit or a git merge could
 * leave: lock_read_buf(), then on success everything later commands do
 * with an entry (lock_changes against itself, lock_diff, the image date,
 * resolver_why) and a round trip: the written lock reads back and writes
 * the same bytes again.  Every failure explains itself on one line.
 */
#include "../../resolver/resolver.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct lock_recipe *r)
{
	struct lock_changes c = { 0 };
	strvec lines = STRVEC_INIT;

	/* an entry never differs from itself */
	lock_changes(r, r, &c);
	if (c.n)
		abort();
	lock_changes_release(&c);
	lock_diff(NULL, r, &lines);
	lock_diff(r, NULL, &lines);
	sv_clear(&lines);
	if (lock_next_epoch(r, r) != lock_recipe_epoch(r) && lock_recipe_epoch(r) > 0)
		abort();
	for (size_t i = 0; i < r->narchs; i++) {
		const struct lock_arch *la = &r->archs[i];
		strvec paths = STRVEC_INIT;
		perr e = { 0, "" };

		if (!la->npkgs)
			continue;
		if (resolver_why(r, la->arch, la->pkgs[la->npkgs - 1].name, &paths, &e) < 0 &&
		    !e.msg[0])
			abort();
		sv_clear(&paths);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lock l, again;
	strbuf out = STRBUF_INIT, out2 = STRBUF_INIT;
	perr e = { 0, "" };

	if (lock_read_buf("fuzz/recipes.lock", (const char *)data, size, &l, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort(); /* every failure explains itself, on one line */
		return 0;
	}
	for (size_t i = 0; i < l.nrecipes; i++)
		check_entry(&l.recipes[i]);
	lock_format(&l, &out);
	if (lock_read_buf("fuzz/rewritten.lock", out.buf, out.len, &again, &e) < 0) {
		/* what pare wrote, pare must read */
		fprintf(stderr, "rewritten lock does not read back: %s\n", e.msg);
		abort();
	}
	lock_format(&again, &out2);
	if (out.len != out2.len || memcmp(out.buf, out2.buf, out.len))
		abort(); /* writing is a fixed point */
	lock_release(&again);
	lock_release(&l);
	sb_release(&out);
	sb_release(&out2);
	return 0;
}
