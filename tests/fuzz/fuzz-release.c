/*
 * fuzz-release.c - the text of a Release/InRelease as a (compromised or
 * broken) archive could sign it: release_parse() on the bytes as they
 * would come out of gpgv, and release_clearsign_text() + release_parse()
 * on them as a trusted: true repository's InRelease.  gpgv is not run.
 * On success the parsed Release is whole: a Date with its epoch, suite
 * strings set, every listed file with a safe-looking path and a hash.
 */
#include "../../resolver/resolver_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *text)
{
	struct release rel;
	perr e = { 0, "" };

	memset(&rel, 0, sizeof(rel));
	rel.url = xstrdup("file:///fuzz");
	rel.suite = xstrdup("stable");
	rel.where = xstrdup("repository file:///fuzz stable");
	if (release_parse(&rel, text, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort(); /* every failure explains itself, on one line */
	} else {
		if (!rel.meta.date || !rel.meta.origin || !rel.meta.suite || !rel.meta.codename)
			abort();
		for (size_t i = 0; i < rel.nfiles; i++)
			if (!rel.files[i].path || strlen(rel.files[i].sha256) != 64)
				abort();
		release_find_index(&rel, "main", "amd64");
	}
	release_release(&rel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	strbuf in = STRBUF_INIT, text = STRBUF_INIT;
	perr e = { 0, "" };

	sb_add(&in, data, size); /* NUL-terminated, as read_file gives it */
	one(sb_str(&in));
	if (release_clearsign_text("fuzz", &in, &text, &e) == 0)
		one(sb_str(&text));
	else if (!e.msg[0])
		abort();
	sb_release(&in);
	sb_release(&text);
	return 0;
}
