/*
 * fuzz-cvetracker.c - the tracker feed parser (cve/feed.c) on any bytes, fed
 * in two chunks split where the input's first byte says: it never crashes
 * or leaks, every refusal is one line naming the feed, and what it accepts
 * goes through the index writer and reads back.
 */
#include "../../cve/cve_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cve_fuzz_kind = CVE_FEED_TRACKER;
#include "cvefeed.inc"
