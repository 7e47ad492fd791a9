/*
 * fuzz-deb822.c - the one Debian control-file parser (common/deb822.c) under
 * every combination of its flags, as a .deb's control, a Packages index, a
 * Release, a *.sources or a copyright file reach it.  The first byte picks
 * the flags, the keep list and a block size; the rest is the text, parsed
 * whole and fed in blocks of that size: the two must give the same stanzas
 * or the same error, one line naming the file.  The per-format targets
 * (packages, release, copyright, deb) go on past the parser.
 */
#include "../../common/common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dump(void *arg, struct deb822_stanza *s, perr *e)
{
	strbuf *sb = arg;

	(void)e;
	sb_addf(sb, "%zu{", s->line);
	for (size_t i = 0; i < s->n; i++) {
		const struct deb822_field *f = &s->f[i];
		if (f->name.len != strlen(f->name.buf) || f->line == 0 || f->line < s->line)
			abort();
		sb_addf(sb, "%d:%s=%s;", f->key, f->name.buf, f->value.buf);
	}
	sb_adds(sb, "}\n");
	return 0;
}

static void run(const char *text, size_t n, unsigned flags, const char *const *keep, size_t bs,
		strbuf *out)
{
	struct deb822 d = { .name = "fuzz", .flags = flags, .keep = keep, .stanza = dump,
			    .arg = out };
	perr e = { 0, "" };
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i += bs)
		r = deb822_feed(&d, text + i, n - i < bs ? n - i : bs, &e);
	if (r == 0)
		r = deb822_finish(&d, &e);
	deb822_release(&d);
	if (r < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n') || strncmp(e.msg, "fuzz:", 5))
			abort(); /* one line naming the file */
		sb_reset(out);
		sb_addf(out, "ERR %s", e.msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keep[] = { "Package", "Version", "SHA256", "Description", NULL };
	strbuf whole = STRBUF_INIT, blocks = STRBUF_INIT;
	unsigned flags;
	size_t bs, n;

	if (size < 1)
		return 0;
	flags = data[0] & 0x3f;
	bs = 1 + (data[0] >> 7) * 4096 + ((data[0] >> 6) & 1) * 3;
	n = size - 1;
	/* only an index (DEB822_STRICT, which refuses NUL) is read as bytes;
	 * the other callers have a C string */
	if (!(flags & DEB822_STRICT))
		n = strnlen((const char *)data + 1, n);
	run((const char *)data + 1, n, flags, (data[0] & 0x40) ? keep : NULL, size, &whole);
	run((const char *)data + 1, n, flags, (data[0] & 0x40) ? keep : NULL, bs, &blocks);
	if (strcmp(sb_str(&whole), sb_str(&blocks)))
		abort(); /* the text in blocks reads as the whole text */
	sb_release(&whole);
	sb_release(&blocks);
	return 0;
}
