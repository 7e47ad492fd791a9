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
/* What the dynamic linker reads from an executable or shared object. */
struct elf_dyn {
	bool dynamic;    /* has PT_DYNAMIC (static executables do not) */
	bool is_exec;    /* ET_EXEC (else ET_DYN: shared object or PIE) */
	char *soname;    /* DT_SONAME or NULL */
	strvec needed;   /* DT_NEEDED, in order */
	char *runpath, *rpath; /* DT_RUNPATH / DT_RPATH or NULL */
	bool bad_name;   /* -1 because a name has a control character (else 0) */
};
/* Read through the program headers, as ld.so does (elfso.c).  All zero (0)
 * when the data is not an ELF executable or shared object or has no
 * PT_DYNAMIC; -1 on malformed ELF, and on a name with a control character
 * (d->bad_name set: that one is refused, not tolerated). */
int elf_dynamic(const void *data, size_t n, struct elf_dyn *d, perr *e);
void elf_dyn_release(struct elf_dyn *d);

/* ---- file contents (genfiles.c) ---- */
struct gen_user {
	char *name;
	uint32_t uid, gid;
	char *home, *shell;
};
struct gen_group {
	char *name;
	uint32_t gid;
	strvec members;
};
struct gen_accounts {
	struct gen_user *users; size_t nusers, ualloc;    /* sorted by uid */
	struct gen_group *groups; size_t ngroups, galloc; /* sorted by gid */
};
/* root 0, nobody 65534, nonroot 65532 (all /sbin/nologin) merged with the
 * recipe's accounts (same name replaces; a clashing id is an error). */
int gen_accounts(const struct gen_user *rusers, size_t nru, const struct gen_group *rgroups,
		 size_t nrg, struct gen_accounts *a, perr *e);
void gen_accounts_text(const struct gen_accounts *a, strbuf *passwd, strbuf *group);
void gen_accounts_release(struct gen_accounts *a);

extern const char gen_nsswitch_conf[];
void gen_os_release(const char *origin, const char *codename, const char *suite,
		    strbuf *out);
/* Validate (PEM, X.509) and append one certificate file to the bundle. */
int gen_ca_append(strbuf *bundle, const char *path, const void *data, size_t n, perr *e);
/* Check only (what gen_ca_append checks), and append only (no check). */
int gen_ca_check(const char *path, const void *data, size_t n, perr *e);
void gen_ca_add(strbuf *bundle, const void *data, size_t n);
/* The Java trust store (/etc/ssl/certs/java/cacerts) as a PKCS#12 file:
 * one trusted-certificate bag per certificate of certs (in order), password
 * "changeit" (Java's default), MAC salt derived from the input so the bytes
 * are a function of the certificates.  *count: certificates written. */
#define JAVA_CACERTS_PASSWORD "changeit"
#define JAVA_CACERTS_MAC_ITER 10000
#define JAVA_CACERTS_SALT_LEN 20
struct gen_ca_cert {
	const char *path;
	const void *data;
	size_t size;
};
int gen_java_cacerts(const struct gen_ca_cert *certs, size_t n, strbuf *out,
		     size_t *count, perr *e);
/* Control paragraph + "Status: install ok installed". */
void gen_status_paragraph(const char *control, strbuf *out);

#endif
