/*
 * cmd_inventory.c - pare inventory [--package SPEC | --cve ID | --image NAME
 * --at DATE|COMMIT | --updates] [--json | --csv] [-o OUTROOT] [--key PUB]
 *
 * Flags only: the history index and the questions are inventory/
 * (docs/inventory.md).
 */
#include "cli.h"
#include "../inventory/inventory.h"

#include <stdio.h>

enum { INV_PACKAGE = 0x100, INV_CVE, INV_IMAGE, INV_AT, INV_UPDATES, INV_JSON_OPT, INV_CSV_OPT,
       INV_KEY };

const struct cli_opt cli_inventory_opts[] = {
	{ INV_PACKAGE, "package", "NAME[=VERSION|<VERSION]", 0, "the images that hold a binary or source package now, and since when" },
	{ INV_CVE, "cve", "CVE-ID", 0, "the images a CVE affects or affected, since when, and when each was fixed (needs pare cve sync)" },
	{ INV_IMAGE, "image", "NAME", 0, "with --at: the image's closure and digest then" },
	{ INV_AT, "at", "DATE|COMMIT", 0, "with --image: a date (YYYY-MM-DD: its end, UTC) or a commit of recipes.lock's history" },
	{ INV_UPDATES, "updates", NULL, 0, "per package in use, the newer version in today's indexes (changes nothing)" },
	{ INV_JSON_OPT, "json", NULL, 0, "the answer as JSON (docs/inventory.md)" },
	{ INV_CSV_OPT, "csv", NULL, 0, "the answer as CSV (RFC 4180)" },
	{ 'o', "outroot", "OUTROOT", CLI_SHORT, "the built layouts, OUTROOT/RECIPE (default out)" },
	{ INV_KEY, "key", "PUB", 0, "verify each image's signature with this public key" },
	{ 0 },
};

int cmd_inventory(int argc, char **argv, perr *e)
{
	struct inventory_opts o = { .lock = cli_lock_path(), .recipes_dir = cli_recipes_dir(),
				    .outroot = "out", .format = INV_TABLE };
	struct cli_args a;
	int c, nq;

	cli_args_init(&a, argc, argv, cli_inventory_opts);
	while ((c = cli_args_next(&a, e)) > 0)
		switch (c) {
		case INV_PACKAGE: o.package = a.val; break;
		case INV_CVE: o.cve = a.val; break;
		case INV_IMAGE: o.image = a.val; break;
		case INV_AT: o.at = a.val; break;
		case INV_UPDATES: o.updates = true; break;
		case INV_JSON_OPT: o.format = INV_JSON; break;
		case INV_CSV_OPT: o.format = INV_CSV; break;
		case 'o': o.outroot = a.val; break;
		case INV_KEY: o.key = a.val; break;
		}
	if (c < 0)
		return -1;
	if (a.nops)
		return cli_usage_error(e, "inventory", "takes no operands");
	nq = !!o.package + !!o.cve + !!o.image + o.updates;
	if (nq > 1)
		return cli_usage_error(e, "inventory", "one question at a time");
	if (!o.image != !o.at)
		return cli_usage_error(e, "inventory", "--image and --at go together");
	return inventory_run(&o, stdout, e);
}
