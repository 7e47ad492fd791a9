/* lazy/ internals: one library's handle, and the stub generators. */
#ifndef PARE_LAZY_INT_H
#define PARE_LAZY_INT_H

#include "lazy.h"

struct lazy_lib {
	const char *soname;
	void *handle; /* set once, read and written under load.c's lock */
};

extern struct lazy_lib lazy_solv, lazy_solvext, lazy_git2, lazy_curl, lazy_archive;

/* The address of NAME in LIB, loading LIB first if needed; never NULL (exit 127). */
void *lazy_resolve(struct lazy_lib *lib, const char *name);

/* The resolved address of NAME, kept in a thread-local slot: a thread's first call
 * resolves it (under load.c's lock), its later ones read it.  Per thread, so no slot is
 * ever shared between threads: there is nothing to order, and a race checker (helgrind,
 * which models locks but not atomics) has nothing to report; the cost is one lookup per
 * function per thread. */
#define LAZY_FN(lib, name)                                                    \
	static __thread __typeof__(&name) slot_;                            \
	__typeof__(&name) fn_ = slot_;                                      \
	if (!fn_)                                                           \
		fn_ = slot_ = (__typeof__(&name))lazy_resolve(&lazy_##lib, #name);

/* A function NAME of LIB returning RET, with the header's parameters PARAMS (named a1, a2 …)
 * passed on as ARGS.  The header's own prototype is in scope, so a stub that does not match
 * it does not compile. */
#define LAZY(lib, ret, name, params, args) \
	ret name params                    \
	{                                  \
		LAZY_FN(lib, name)         \
		return fn_ args;           \
	}

#define LAZY_VOID(lib, name, params, args) \
	void name params                   \
	{                                  \
		LAZY_FN(lib, name)         \
		fn_ args;                  \
	}

/* A free function of one pointer that the library documents as doing nothing with NULL:
 * neither does the stub, without loading the library (a cleanup path that frees nothing
 * must not load libgit2 for it). */
#define LAZY_FREE(lib, name, params, args) \
	void name params                   \
	{                                  \
		if (!a1)                   \
			return;            \
		LAZY_FN(lib, name)         \
		fn_ args;                  \
	}

#endif
