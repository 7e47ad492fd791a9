/*
 * fuzz-inventory.c - the history index as bytes the cache could hold after
 * a crash, a full disk or another process: inventory_index_load() without
 * the checksum (so the bounds checks are what stands between the bytes and
 * the reader), then on success everything a question does with it: every
 * record through the accessors, and each lookup table searched for the
 * keys the records hold (each hit must hold the key).  Every failure
 * explains itself on one line.
 */
#include "../../inventory/inventory.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookups(const struct inventory *inv, const struct inv_span *s)
{
	const uint32_t *ids;
	size_t n;
	struct inv_span t;

	n = inventory_find(inv, INV_BY_NAME, s->name, NULL, &ids);
	for (size_t i = 0; i < n; i++) {
		inventory_pkg(inv, ids[i], &t);
		if (strcmp(t.name, s->name) || (i && ids[i] <= ids[i - 1]))
			abort();
	}
	n = inventory_find(inv, INV_BY_SOURCE, s->source, NULL, &ids);
	for (size_t i = 0; i < n; i++) {
		inventory_pkg(inv, ids[i], &t);
		if (strcmp(t.source, s->source))
			abort();
	}
	n = inventory_find(inv, INV_BY_IMAGE, s->image, s->arch, &ids);
	for (size_t i = 0; i < n; i++) {
		inventory_pkg(inv, ids[i], &t);
		if (strcmp(t.image, s->image) || strcmp(t.arch, s->arch))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory inv;
	perr e = { 0, "" };
	size_t total = 0;

	if (inventory_index_load(data, size, false, &inv, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort(); /* every failure explains itself, on one line */
		return 0;
	}
	for (size_t i = 0; i < inv.ncommits; i++)
		total += strlen(inv.commits[i].id);
	for (uint32_t i = 0; i < inv.nimages; i++) {
		struct inv_span s;

		inventory_image(&inv, i, &s);
		total += strlen(s.image) + strlen(s.arch) + strlen(s.codename);
		if (s.from >= inv.ncommits)
			abort();
	}
	for (uint32_t i = 0; i < inv.npkgs; i++) {
		struct inv_span s;

		inventory_pkg(&inv, i, &s);
		total += strlen(s.version) + strlen(s.source_version);
		if (s.from >= inv.ncommits || (s.to != INV_OPEN && s.to >= inv.ncommits))
			abort();
		if (i < 64)
			lookups(&inv, &s);
	}
	for (uint32_t i = 0; i < inv.nevents; i++) {
		struct inv_event v;

		inventory_event(&inv, i, &v);
		total += strlen(v.image) + strlen(v.digest) + strlen(v.reason) + (v.arch ? strlen(v.arch) : 0);
	}
	for (size_t i = 0; i < inv.nsources; i++)
		total += strlen(inventory_source(&inv, i));
	inventory_release(&inv);
	return total == SIZE_MAX;
}
