/* lazy/ internals: one library's handle, and the stub generators. */
#ifndef PARE_LAZY_INT_H
#define PARE_LAZY_INT_H

#include "lazy.h"

struct lazy_lib {
	const char *soname;
	void *handle; /* set once, under load.c's lock; read with __atomic */
};

extern struct lazy_lib lazy_solv, lazy_solvext, lazy_git2, lazy_curl, lazy_archive;

/* The address of NAME in LIB, loading LIB first if needed; never NULL (exit 127). */
void *lazy_resolve(struct lazy_lib *lib, const char *name);

/* The resolved address of NAME, cached in a static slot: the first call resolves it (two
 * threads racing both store the same address), later ones load it. */
#define LAZY_FN(lib, name)                                                        \
	static __typeof__(&name) slot_;                                         \
	__typeof__(&name) fn_ = __atomic_load_n(&slot_, __ATOMIC_ACQUIRE);      \
	if (!fn_) {                                                             \
		fn_ = (__typeof__(&name))lazy_resolve(&lazy_##lib, #name);      \
		__atomic_store_n(&slot_, fn_, __ATOMIC_RELEASE);                \
	}

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
