/*
 * gen_int.h - builder-private: the files pare generates natively instead of
 * running maintainer scripts (generate.c, ldcache.c, elfso.c).
 */
#ifndef PARE_BUILDER_GEN_INT_H
#define PARE_BUILDER_GEN_INT_H

#include "../common/common.h"

/* ---- ld.so.cache (ldcache.c) ---- */
struct ldcache_entry {
	const char *soname;  /* key, e.g. "libfoo.so.1" */
	const char *path;    /* value, e.g. "/opt/foo/lib/libfoo.so.1" */
};
/* Serialise a cache for arch (Debian name) into out; sorts ents in place. */
int ldcache_build(const char *arch, struct ldcache_entry *ents, size_t n,
		  strbuf *out, perr *e);

/* ---- ELF (elfso.c) ---- */
/* DT_SONAME of an ELF shared object in memory: *soname NULL when the data is
 * not a shared object with a soname; -1 on malformed ELF. */
int elf_soname(const void *data, size_t n, char **soname, perr *e);

#endif
