/* fuzz-recipe.c - libFuzzer target for the recipe loader.
 *
 * Feeds arbitrary bytes to recipe_load_buf() as if they were a recipe file
 * in a private directory that holds two parents (`_p.yaml`, which itself
 * extends `_g.yaml`), so `extends:` merging is fuzzed too.  Must never crash,
 * hang or leak; errors are the expected result for almost every input.
 */
#include "../../resolver/resolver.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/pare-fuzz-recipe-XXXXXX";
static char *name;

static void cleanup(void)
{
	perr e;

	rm_rf(dir, &e);
	free(name);
}

static void put(const char *file, const char *text)
{
	char *p = path_join(dir, file);
	perr e;

	if (write_file_atomic(p, text, strlen(text), 0644, &e) < 0)
		die("%s", e.msg);
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (!mkdtemp(dir))
		die("mkdtemp failed");
	atexit(cleanup);
	put("_g.yaml", "packages: [base-files]\nenv: {A: '1'}\naccounts:\n"
		       "  users: [{name: app, uid: 1000}]\n  groups: [{name: app, gid: 1000}]\n");
	put("_p.yaml", "extends: _g.yaml\nname: p\npackages: ['libc6 (>= 2.36)']\n"
		       "paths: [{path: /run, type: directory, mode: '0755'}]\n"
		       "labels: {a: b}\nentrypoint: /bin/x\n");
	name = path_join(dir, "fuzz.yaml");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipe *r;
	perr e;

	e.msg[0] = '\0';
	r = recipe_load_buf(name, (const char *)data, size, &e);
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
