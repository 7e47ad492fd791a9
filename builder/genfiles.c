/* genfiles.c - the contents of the files pare writes instead of running
 * maintainer scripts: accounts, nsswitch.conf, os-release, the CA bundle,
 * dpkg status.d paragraphs.  Pure functions of their inputs (no tree, no
 * disk), so generate.c stays a thin layer over the image tree and these are
 * easy to test.  Output is deterministic: sorted, no clock. */
#include "gen_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- accounts ------------------------------------------------------------- */

static void acct_add(struct gen_accounts *a, const char *name, uint32_t uid, uint32_t gid,
		     const char *home, const char *shell)
{
	struct gen_user *u;

	ALLOC_GROW(a->users, a->nusers + 1, a->ualloc);
	u = &a->users[a->nusers++];
	u->name = xstrdup(name);
	u->uid = uid;
	u->gid = gid;
	u->home = xstrdup(home);
	u->shell = xstrdup(shell);
}

static struct gen_group *grp_add(struct gen_accounts *a, const char *name, uint32_t gid)
{
	struct gen_group *g;

	ALLOC_GROW(a->groups, a->ngroups + 1, a->galloc);
	g = &a->groups[a->ngroups++];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->gid = gid;
	return g;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static bool valid_field(const char *s)
{
	return !strpbrk(s, ":\n");
}

static int user_cmp(const void *a, const void *b)
{
	const struct gen_user *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int group_cmp(const void *a, const void *b)
{
	const struct gen_group *x = a, *y = b;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

int gen_accounts(const struct gen_user *rusers, size_t nru, const struct gen_group *rgroups,
		 size_t nrg, struct gen_accounts *a, perr *e)
{
	memset(a, 0, sizeof(*a));
	/* Every image has these three; a recipe may redefine nonroot's details. */
	acct_add(a, "root", 0, 0, "/root", "/sbin/nologin");
	acct_add(a, "nobody", 65534, 65534, "/nonexistent", "/sbin/nologin");
	acct_add(a, "nonroot", 65532, 65532, "/home/nonroot", "/sbin/nologin");
	grp_add(a, "root", 0);
	grp_add(a, "nogroup", 65534); /* Debian's name for gid 65534 */
	grp_add(a, "nonroot", 65532);

	for (size_t i = 0; i < nru; i++) {
		const struct gen_user *ru = &rusers[i];
		struct gen_user *dup = NULL;

		if (!valid_name(ru->name) || !valid_field(ru->home) || !valid_field(ru->shell) ||
		    ru->home[0] != '/')
			return perr_set(e, "account '%s': invalid name, home or shell", ru->name);
		for (size_t j = 0; j < a->nusers; j++) {
			if (!strcmp(a->users[j].name, ru->name))
				dup = &a->users[j];
			else if (a->users[j].uid == ru->uid)
				return perr_set(e, "account '%s': uid %u is already used by '%s'",
						ru->name, ru->uid, a->users[j].name);
		}
		if (dup && !strcmp(dup->name, "root") && ru->uid != 0)
			return perr_set(e, "account 'root' must have uid 0");
		if (dup) {
			dup->uid = ru->uid;
			dup->gid = ru->gid;
			free(dup->home);
			free(dup->shell);
			dup->home = xstrdup(ru->home);
			dup->shell = xstrdup(ru->shell);
		} else {
			acct_add(a, ru->name, ru->uid, ru->gid, ru->home, ru->shell);
		}
	}
	for (size_t i = 0; i < nrg; i++) {
		const struct gen_group *rg = &rgroups[i];
		struct gen_group *g = NULL;

		if (!valid_name(rg->name))
			return perr_set(e, "group '%s': invalid name", rg->name);
		for (size_t j = 0; j < a->ngroups; j++) {
			if (!strcmp(a->groups[j].name, rg->name))
				g = &a->groups[j];
			else if (a->groups[j].gid == rg->gid)
				return perr_set(e, "group '%s': gid %u is already used by '%s'",
						rg->name, rg->gid, a->groups[j].name);
		}
		if (!g)
			g = grp_add(a, rg->name, rg->gid);
		g->gid = rg->gid;
		for (size_t m = 0; m < rg->members.n; m++) {
			if (!valid_name(rg->members.v[m]))
				return perr_set(e, "group '%s': invalid member '%s'", rg->name,
						rg->members.v[m]);
			sv_push(&g->members, rg->members.v[m]);
		}
		sv_uniq(&g->members);
	}
	/* a user whose primary gid has no group gets a group of its own name */
	for (size_t i = 0; i < a->nusers; i++) {
		bool found = false;
		for (size_t j = 0; j < a->ngroups; j++)
			found |= a->groups[j].gid == a->users[i].gid;
		if (!found) {
			for (size_t j = 0; j < a->ngroups; j++)
				if (!strcmp(a->groups[j].name, a->users[i].name))
					return perr_set(e, "account '%s': gid %u has no group, and group '%s' has gid %u",
							a->users[i].name, a->users[i].gid,
							a->groups[j].name, a->groups[j].gid);
			grp_add(a, a->users[i].name, a->users[i].gid);
		}
	}
	qsort(a->users, a->nusers, sizeof(*a->users), user_cmp);
	qsort(a->groups, a->ngroups, sizeof(*a->groups), group_cmp);
	return 0;
}

void gen_accounts_text(const struct gen_accounts *a, strbuf *passwd, strbuf *group)
{
	for (size_t i = 0; i < a->nusers; i++) {
		const struct gen_user *u = &a->users[i];
		sb_addf(passwd, "%s:x:%u:%u:%s:%s:%s\n", u->name, u->uid, u->gid, u->name,
			u->home, u->shell);
	}
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct gen_group *g = &a->groups[i];
		sb_addf(group, "%s:x:%u:", g->name, g->gid);
		for (size_t m = 0; m < g->members.n; m++)
			sb_addf(group, "%s%s", m ? "," : "", g->members.v[m]);
		sb_addc(group, '\n');
	}
}

void gen_accounts_release(struct gen_accounts *a)
{
	for (size_t i = 0; i < a->nusers; i++) {
		free(a->users[i].name);
		free(a->users[i].home);
		free(a->users[i].shell);
	}
	for (size_t i = 0; i < a->ngroups; i++) {
		free(a->groups[i].name);
		sv_clear(&a->groups[i].members);
	}
	free(a->users);
	free(a->groups);
	memset(a, 0, sizeof(*a));
}

/* ---- small fixed files ------------------------------------------------------ */

/* What libc-bin's postinst would install from /usr/share/libc-bin: files
 * only, plus DNS for hosts (there is no nscd, systemd or LDAP in an image). */
const char gen_nsswitch_conf[] =
	"# generated by pare: local files only, DNS for host names\n"
	"passwd:         files\n"
	"group:          files\n"
	"shadow:         files\n"
	"gshadow:        files\n"
	"\n"
	"hosts:          files dns\n"
	"networks:       files\n"
	"\n"
	"protocols:      files\n"
	"services:       files\n"
	"ethers:         files\n"
	"rpc:            files\n"
	"\n"
	"netgroup:       files\n";

void gen_os_release(const char *origin, const char *codename, const char *suite,
		    strbuf *out)
{
	strbuf id = STRBUF_INIT;
	const char *name = origin && *origin ? origin : "Debian";

	for (const char *p = name; *p; p++)
		if (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')
			sb_addc(&id, (char)tolower((unsigned char)*p));
	sb_addf(out, "PRETTY_NAME=\"%s%s%s%s\"\n", name, codename ? " (" : "",
		codename ? codename : "", codename ? ")" : "");
	sb_addf(out, "NAME=\"%s\"\n", name);
	sb_addf(out, "ID=%s\n", id.len ? id.buf : "debian");
	if (codename && *codename)
		sb_addf(out, "VERSION_CODENAME=%s\n", codename);
	if (suite && *suite)
		sb_addf(out, "# suite: %s\n", suite);
	sb_release(&id);
}

/* ---- CA bundle ------------------------------------------------------------------ */

/* Append one .crt to the bundle after checking that it holds at least one
 * certificate and nothing but parseable PEM certificates: a broken file
 * would otherwise break TLS for every program in the image, silently. */
int gen_ca_check(const char *path, const void *data, size_t n, perr *e)
{
	return x509_pem_check(path, data, n, e);
}

void gen_ca_add(strbuf *bundle, const void *data, size_t n)
{
	sb_add(bundle, data, n);
	if (n && ((const char *)data)[n - 1] != '\n')
		sb_addc(bundle, '\n');
}

int gen_ca_append(strbuf *bundle, const char *path, const void *data, size_t n, perr *e)
{
	if (gen_ca_check(path, data, n, e) < 0)
		return -1;
	gen_ca_add(bundle, data, n);
	return 0;
}

/* ---- Java trust store ----------------------------------------------------------- */

/* Java's "trusted certificate" bag attribute (Oracle's OID; what keytool
 * writes for a trustedCertEntry and `openssl pkcs12 -jdktrust` adds in
 * OpenSSL >= 3.2) and its value: the key usages the certificate is trusted
 * for, here anyExtendedKeyUsage (any). */
#define JAVA_TRUSTED_KEY_USAGE_OID "2.16.840.1.113894.746875.1.1"
#define ANY_EXTENDED_KEY_USAGE_OID "2.5.29.37.0"

/* The alias for a certificate: want, or want:2, want:3, … when an earlier
 * certificate has it already.  Java compares aliases without case (its
 * PKCS12 store lower-cases them) and keeps one entry per alias, so a
 * duplicate would silently drop a CA; seen holds the lower-cased aliases. */
static char *jks_alias(strvec *seen, const char *want)
{
	char *name = xstrdup(want), *low = NULL;

	for (size_t k = 2;; k++) {
		free(low);
		low = xstrdup(name);
		for (char *p = low; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!sv_contains(seen, low))
			break;
		free(name);
		name = xasprintf("%s:%zu", want, k);
	}
	sv_push_nodup(seen, low);
	return name;
}

/* The alias of the next certificate of one file: "debian:BASE.pem" (BASE:
 * the file name without .crt, as the alias Debian's ca-certificates-java
 * gives the /etc/ssl/certs/BASE.pem link); a second certificate with the
 * same alias (in the same file, or a file of the same name in another
 * directory) gets ":2", and so on. */
struct jks_file {
	const char *base;
	size_t blen;
	strvec *seen;
};

static char *jks_next_alias(void *arg)
{
	struct jks_file *f = arg;
	char *want = xasprintf("debian:%.*s.pem", (int)f->blen, f->base);
	char *name = jks_alias(f->seen, want);

	free(want);
	return name;
}

int gen_java_cacerts(const struct gen_ca_cert *certs, size_t n, strbuf *out,
		     size_t *count, perr *e)
{
	x509_store *st = x509_store_new(JAVA_TRUSTED_KEY_USAGE_OID, ANY_EXTENDED_KEY_USAGE_OID);
	strvec seen = STRVEC_INIT;
	unsigned char salt[JAVA_CACERTS_SALT_LEN];
	char hex[SHA256_HEX_LEN + 1];
	phash *h = phash_new("sha256");
	int ret = -1;

	*count = 0;
	/* The salt is normally random; here it is a function of the input (so
	 * the same certificates give the same bytes).  It only has to differ
	 * between stores, not be secret: the password is public anyway. */
	phash_update(h, "pare-java-cacerts-1", 19);
	for (size_t i = 0; i < n; i++) {
		phash_update(h, certs[i].path, strlen(certs[i].path) + 1);
		phash_update(h, certs[i].data, certs[i].size);
		phash_update(h, "", 1);
	}
	phash_final_hex(h, hex);
	for (size_t i = 0; i < sizeof(salt); i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		salt[i] = (unsigned char)v;
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = certs[i].path, *base = strrchr(path, '/');
		struct jks_file f = { base ? base + 1 : path, 0, &seen };

		f.blen = strlen(f.base) - (str_ends(f.base, ".crt") ? 4 : 0);
		if (x509_store_add_pem(st, path, certs[i].data, certs[i].size, jks_next_alias, &f,
				       count, e) < 0)
			goto out;
	}
	if (x509_store_finish(st, JAVA_CACERTS_PASSWORD, salt, sizeof(salt),
			      JAVA_CACERTS_MAC_ITER, out, e) < 0)
		goto out;
	ret = 0;
out:
	x509_store_free(st);
	sv_clear(&seen);
	return ret;
}

/* ---- dpkg status.d ------------------------------------------------------------- */

/* The control paragraph with "Status: install ok installed" after Package:
 * (where dpkg puts it), so scanners that read status.d see an installed
 * package.  Any Status: the control file carried is dropped. */
void gen_status_paragraph(const char *control, strbuf *out)
{
	const char *p = control;
	bool added = false, skipping = false;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == 0)
			break; /* one paragraph only */
		if (p[0] == ' ' || p[0] == '\t') {
			if (!skipping)
				sb_add(out, p, len), sb_addc(out, '\n');
		} else if (!strncasecmp(p, "Status:", 7)) {
			skipping = true;
		} else {
			skipping = false;
			sb_add(out, p, len);
			sb_addc(out, '\n');
			if (!added && !strncasecmp(p, "Package:", 8)) {
				sb_adds(out, "Status: install ok installed\n");
				added = true;
			}
		}
		p += len + (nl ? 1 : 0);
	}
	if (!added)
		sb_adds(out, "Status: install ok installed\n");
}
