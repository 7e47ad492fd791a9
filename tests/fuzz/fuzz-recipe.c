/* fuzz-recipe.c - libFuzzer target for the recipe loader.
 *
 * Feeds arbitrary bytes to recipe_load_buf() as if they were a recipe file
 * in a directory that does not exist (so a relative `extends:` fails
 * cleanly).  Must never crash, hang or leak; errors are the expected result
 * for almost every input.
 */
#include "../../resolver/resolver.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipe *r;
	perr e;

	e.msg[0] = '\0';
	r = recipe_load_buf("/nonexistent-pare-fuzz/fuzz.yaml", (const char *)data, size, &e);
	if (r) {
		/* A loaded recipe is whole: the fields later stages rely on are set. */
		if (!r->name || !r->sha256 || !r->run_as || !r->archs.n || !r->npackages)
			__builtin_trap();
		recipe_free(r);
	} else if (!e.msg[0] || strchr(e.msg, '\n')) {
		/* Every failure explains itself on one line. */
		__builtin_trap();
	}
	return 0;
}
