/*
 * lazy - the heavy shared libraries, loaded on first use.
 *
 * libsolv (with libsolvext), libgit2, libcurl and libarchive bring 54 of the 66 shared
 * objects a fully linked pare maps at start, and a command that needs none of them
 * (pare cve, pare inventory's questions, pare verify …) paid ~20 ms of loading and
 * relocation for them on every run.  pare is not linked against them: this module
 * defines every function of theirs that pare calls (lazy/solv.c, git2.c, curl.c,
 * archive.c), and the first call dlopen()s the library by the soname the build saw
 * (build/lazy/sonames.h) and resolves the symbol; later calls are one indirect jump.
 * A library that cannot be loaded is a broken installation: one line naming it, exit 127,
 * as the dynamic loader itself does.  docs/modules.md "Libraries loaded on first use".
 */
#ifndef PARE_LAZY_H
#define PARE_LAZY_H

/* libsolv's run-time version (its solv_version string); loads libsolv. */
const char *lazy_solv_version(void);

#endif
