/* checks.c - pare audit: every check of rules.c on one image read by
 * image.c.  The evidence names what decided a result (a path with its
 * package and layer, a config field, a digest) and never a secret's value. */
#define _GNU_SOURCE
#include "audit.h"
#include "../oci/oci.h"
#include "../resolver/resolver.h"
#include "../cve/cve.h"
#include "../signer/signer.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVIDENCE_MAX 50 /* lines per finding; then "… and N more" */

struct account {
	char *name, *home, *shell, *pass;
	long id, gid;
};

struct layout_sig {
	bool signed_;        /* a cosign signature is attached */
	bool attested;       /* an attestation is attached */
	bool verified;       /* --key given and every check passed */
	char *error;         /* --key given and verification failed: why */
	strvec atts;         /* "DIGEST PREDICATE" of every verified attestation */
};

struct ctx {
	const struct audit_opts *o;
	struct audit_report *rep;
	const struct audit_image *img;
	const struct layout_sig *sig;
	struct recipe *recipe;
	struct account *users, *groups, *shadow;
	size_t nusers, ngroups, nshadow;
};

static const cJSON *cfg_item(const struct ctx *c, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->img->config,
										 "config"), k);
}

static void result(struct audit_finding *f, enum audit_result r)
{
	/* the worst wins: fail > warn > manual > pass > not-applicable */
	static const int rank[] = { [AUDIT_PASS] = 1, [AUDIT_FAIL] = 4, [AUDIT_WARN] = 3,
		[AUDIT_NA] = 0, [AUDIT_MANUAL] = 2 };

	if (rank[r] > rank[f->result])
		f->result = r;
}

static void ev(struct audit_finding *f, const char *fmt, ...) PRINTF(2, 3);
static void ev(struct audit_finding *f, const char *fmt, ...)
{
	strbuf sb = STRBUF_INIT;
	va_list ap;

	if (f->evidence.n > EVIDENCE_MAX)
		return;
	if (f->evidence.n == EVIDENCE_MAX) {
		sv_push(&f->evidence, "… and more (the list stops here)");
		return;
	}
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	sv_push_nodup(&f->evidence, sb_detach(&sb));
}

/* ---- accounts --------------------------------------------------------------- */

static void accounts_parse(const char *text, bool group, bool shadow, struct account **out,
			   size_t *n)
{
	strvec lines = STRVEC_INIT;
	size_t alloc = 0;

	*out = NULL, *n = 0;
	if (!text)
		return;
	sv_split(&lines, text, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		char *f[7] = { 0 }, *p = lines.v[i];
		size_t nf = 0;
		struct account *a;

		if (*p == '#')
			continue;
		while (nf < 7) {
			f[nf++] = p;
			if (!(p = strchr(p, ':')))
				break;
			*p++ = '\0';
		}
		if (nf < 2)
			continue;
		ALLOC_GROW(*out, *n + 1, alloc);
		a = &(*out)[(*n)++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(f[0]);
		a->id = a->gid = -1;
		if (shadow)
			a->pass = xstrdup(f[1]);
		else if (nf >= 3 && *f[2] && strspn(f[2], "0123456789") == strlen(f[2]))
			a->id = strtol(f[2], NULL, 10);
		if (!group && !shadow && nf >= 7) {
			if (*f[3] && strspn(f[3], "0123456789") == strlen(f[3]))
				a->gid = strtol(f[3], NULL, 10);
			a->home = xstrdup(f[5]);
			a->shell = xstrdup(f[6]);
		}
	}
	sv_clear(&lines);
}

static void accounts_free(struct account *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].name), free(a[i].home), free(a[i].shell), free(a[i].pass);
	free(a);
}

static const char *file_text(const struct audit_image *img, const char *path)
{
	const struct audit_file *f = audit_file_find(img, path);

	return f && f->data ? f->data : NULL;
}

int audit_user_resolve(const char *user, const char *passwd, long *uid, char **entry,
		       strbuf *why)
{
	struct account *a;
	size_t n;
	char *name = xstrdup(user ? user : ""), *colon = strchr(name, ':');
	int ret = 0;

	*entry = NULL;
	if (colon)
		*colon = '\0';
	accounts_parse(passwd, false, false, &a, &n);
	if (!*name) { /* the runtime's default */
		*uid = 0;
		sb_adds(why, "config.User is empty: the container runs as root");
		for (size_t i = 0; i < n; i++)
			if (a[i].id == 0) { /* the first: what the runtime's lookup finds */
				*entry = xstrdup(a[i].name);
				break;
			}
		goto out;
	}
	if (strspn(name, "0123456789") == strlen(name)) {
		*uid = strtol(name, NULL, 10);
		for (size_t i = 0; i < n; i++)
			if (a[i].id == *uid) {
				*entry = xstrdup(a[i].name);
				break;
			}
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name) && a[i].id >= 0) {
			*uid = a[i].id;
			*entry = xstrdup(a[i].name);
			goto out;
		}
	sb_addf(why, "config.User '%s' is not in the image's /etc/passwd", name);
	ret = -1;
out:
	accounts_free(a, n);
	free(name);
	return ret;
}

/* ---- evidence helpers --------------------------------------------------------- */

/* The package whose file list holds path (status.d md5sums, or dpkg's info
 * lists), or NULL. */
static char *package_of(const struct audit_image *img, const char *path)
{
	strbuf needle = STRBUF_INIT;
	char *pkg = NULL;

	for (size_t i = 0; i < img->nfiles && !pkg; i++) {
		const struct audit_file *f = &img->files[i];
		const char *b = path_basename(f->path);
		bool md5 = str_starts(f->path, "/var/lib/dpkg/status.d/") && str_ends(b, ".md5sums");
		bool list = str_starts(f->path, "/var/lib/dpkg/info/") && str_ends(b, ".list");
		const char *hit;

		if (!f->data || (!md5 && !list))
			continue;
		sb_reset(&needle);
		if (md5)
			sb_addf(&needle, "  %s\n", path + 1);
		else
			sb_addf(&needle, "%s\n", path);
		hit = strstr(f->data, needle.buf);
		if (hit && (md5 || hit == f->data || hit[-1] == '\n')) {
			size_t n = strlen(b) - (md5 ? 8 : 5);
			const char *colon = memchr(b, ':', n); /* "libc6:amd64.list" */
			pkg = xstrndup(b, colon ? (size_t)(colon - b) : n);
		}
	}
	sb_release(&needle);
	return pkg;
}

/* package_of, also under the path's other name in a merged-/usr image
 * (a package's /bin/bash is /usr/bin/bash there, its md5sums say bin/bash) */
static char *package_of_merged(const struct audit_image *img, const char *path)
{
	static const char *const dirs[] = { "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/",
		"/libx32/" };
	char *pkg = package_of(img, path), *alt = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !pkg && !alt; i++)
		if (str_starts(path, "/usr") && str_starts(path + 4, dirs[i]))
			alt = xstrdup(path + 4);
		else if (str_starts(path, dirs[i]))
			alt = xasprintf("/usr%s", path);
	if (alt)
		pkg = package_of(img, alt);
	free(alt);
	return pkg;
}

/* "PATH (package P, layer N)" for a file */
static void ev_file(struct audit_finding *f, const struct ctx *c, const struct audit_file *x,
		    const char *what)
{
	char *pkg = package_of_merged(c->img, x->path);

	ev(f, "%s%s%s (%s%s%slayer %zu %.19s)", x->path, what ? ": " : "", what ? what : "",
	   pkg ? "package " : "", pkg ? pkg : "", pkg ? ", " : "", x->layer + 1,
	   x->layer < c->img->layers.n ? c->img->layers.v[x->layer] : "");
	free(pkg);
}

static bool recipe_allows(const struct ctx *c, const char *what)
{
	return c->recipe && sv_contains(&c->recipe->allow, what);
}

/* ---- the checks ------------------------------------------------------------- */

static void check_user(struct ctx *c, struct audit_finding *f)
{
	const char *user = cJSON_GetStringValue(cfg_item(c, "User"));
	const char *passwd = file_text(c->img, "/etc/passwd");
	strbuf why = STRBUF_INIT;
	char *entry = NULL;
	long uid = -1;

	ev(f, "config.User=\"%s\"", user ? user : "");
	if (audit_user_resolve(user, passwd, &uid, &entry, &why) < 0) {
		result(f, AUDIT_FAIL);
		ev(f, "%s", why.buf);
		goto out;
	}
	if (uid == 0) {
		result(f, AUDIT_FAIL);
		ev(f, "%s", why.len ? why.buf : "the user resolves to uid 0 (root)");
		goto out;
	}
	result(f, AUDIT_PASS);
	ev(f, "uid %ld%s%s", uid, entry ? ", /etc/passwd entry " : " (not in /etc/passwd)",
	   entry ? entry : "");
	if (!entry) {
		result(f, AUDIT_WARN);
		goto out;
	}
	for (size_t i = 0; i < c->nusers; i++) {
		const struct account *a = &c->users[i];
		bool nologin;

		if (strcmp(a->name, entry))
			continue;
		if (a->home && strcmp(a->home, "/nonexistent") && !audit_file_find(c->img, a->home)) {
			result(f, AUDIT_WARN);
			ev(f, "home %s does not exist", a->home);
		}
		nologin = a->shell && (str_ends(a->shell, "/nologin") || str_ends(a->shell, "/false"));
		if (a->shell && *a->shell && !nologin && !audit_file_find(c->img, a->shell)) {
			result(f, AUDIT_WARN);
			ev(f, "shell %s does not exist", a->shell);
		}
		break;
	}
out:
	free(entry);
	sb_release(&why);
}

static void check_base(struct ctx *c, struct audit_finding *f)
{
	if (c->rep->is_pare) {
		result(f, AUDIT_PASS);
		ev(f, "no base image: built by pare from recipe %s (manifest annotation "
		   "dev.pare.recipe.sha256 %s)", c->rep->recipe ? c->rep->recipe : "?",
		   oci_json_str(cJSON_GetObjectItemCaseSensitive(c->img->manifest, "annotations"),
			OCI_ANN_RECIPE_SHA256));
		return;
	}
	result(f, AUDIT_MANUAL);
	ev(f, "not built by pare: the base image's origin is not recorded in the image");
}

static bool in_bin_dir(const char *path)
{
	static const char *const dirs[] = { "/bin", "/sbin", "/usr/bin", "/usr/sbin",
		"/usr/local/bin", "/usr/local/sbin" };
	char *d = path_dirname(path);
	bool yes = false;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		yes |= !strcmp(d, dirs[i]);
	free(d);
	return yes;
}

static bool name_in(const char *name, const char *const *globs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!fnmatch(globs[i], name, 0))
			return true;
	return false;
}

static void check_packages(struct ctx *c, struct audit_finding *f)
{
	static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "ksh93",
		"mksh", "ash", "csh", "tcsh", "fish", "busybox", "rbash", "yash", "posh" };
	static const char *const pms[] = { "dpkg", "dpkg-deb", "apt", "apt-get", "aptitude",
		"rpm", "yum", "dnf", "microdnf", "zypper", "apk", "pip", "pip[0-9]*",
		"easy_install*", "pipx", "npm", "gem" };
	static const char *const tools[] = { "gcc", "gcc-[0-9]*", "cc", "c++", "g++", "g++-[0-9]*",
		"clang", "clang-[0-9]*", "tcc", "ld", "ld.bfd", "ld.gold", "as", "make", "gdb",
		"strace", "ltrace", "valgrind", "perf" };
	static const struct {
		const char *what, *allow;
		const char *const *names;
		size_t n;
	} kinds[] = {
		{ "shell", "shell", shells, ARRAY_SIZE(shells) },
		{ "package manager", "package-manager", pms, ARRAY_SIZE(pms) },
		{ "compiler or debugger", NULL, tools, ARRAY_SIZE(tools) },
	};

	result(f, AUDIT_PASS);
	ev(f, "%zu packages (dpkg database)", c->rep->npackages);
	if (c->recipe) {
		strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < c->recipe->allow.n; i++)
			sb_addf(&sb, "%s%s", i ? ", " : "", c->recipe->allow.v[i]);
		ev(f, "recipe %s allow: [%s]", c->recipe->name, sb_str(&sb));
		sb_release(&sb);
	}
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];
		const char *b = path_basename(x->path);

		if ((!S_ISREG(x->mode) && !S_ISLNK(x->mode)) || !in_bin_dir(x->path))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
			bool allowed = kinds[k].allow && recipe_allows(c, kinds[k].allow);
			char *what;

			if (!name_in(b, kinds[k].names, kinds[k].n))
				continue;
			result(f, allowed ? AUDIT_WARN : AUDIT_FAIL);
			what = xasprintf("%s%s", kinds[k].what,
					 allowed ? ", allowed by the recipe" : "");
			ev_file(f, c, x, what);
			free(what);
			break;
		}
	}
}

/* Whether the image has a shell (for 4.6). */
static bool has_shell(const struct ctx *c)
{
	static const char *const sh[] = { "/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash",
		"/bin/busybox", "/usr/bin/busybox", "/bin/dash", "/usr/bin/dash" };

	for (size_t i = 0; i < ARRAY_SIZE(sh); i++)
		if (audit_file_find(c->img, sh[i]))
			return true;
	return false;
}

int audit_cve_fill(const struct audit_image *img, struct audit_finding *f, perr *e)
{
	struct cve_config c;
	struct cve_report r = { 0 };
	struct cve_subject *subs = NULL;
	size_t nsubs = 0, keep = SIZE_MAX, fixable = 0, kev = 0, open = 0, shown = 0;
	char *arch = NULL;
	strbuf ids = STRBUF_INIT;
	int ret = -1;

	if (!cve_synced())
		return 0;
	if (cve_config_load(&c, e) < 0)
		return -1;
	if (img->platform && oci_platform_parse(img->platform, &arch, e) < 0)
		goto out;
	if (cve_subject_from_image(img->source, arch, &subs, &nsubs, e) < 0)
		goto out;
	/* the subject of this platform's manifest (an index has one per platform) */
	for (size_t i = 0; i < nsubs; i++)
		if (keep == SIZE_MAX || (subs[i].digest && img->digest && !strcmp(subs[i].digest, img->digest)))
			keep = i;
	for (size_t i = 0; i < nsubs; i++)
		if (i != keep)
			cve_subject_release(&subs[i]);
	if (keep == SIZE_MAX) {
		ret = 0; /* no dpkg database: nothing to match */
		goto out;
	}
	if (keep)
		subs[0] = subs[keep];
	nsubs = 1;
	if (cve_match(&c, subs, 1, 0, &r, e) < 0) {
		subs = NULL; /* moved into r */
		goto out;
	}
	subs = NULL;
	for (size_t i = 0; i < r.nfindings; i++) {
		const struct cve_finding *cf = &r.findings[i];
		bool bad = cf->cls == CVE_FIXABLE || (cf->kev && cf->cls != CVE_FIXED &&
						       cf->cls != CVE_NOT_AFFECTED && cf->cls != CVE_SUPPRESSED);

		fixable += cf->cls == CVE_FIXABLE;
		kev += bad && cf->kev;
		open += cf->cls == CVE_OPEN || cf->cls == CVE_UNDETERMINED;
		if (bad && shown++ < 10) /* findings are in priority order */
			sb_addf(&ids, "%s%s (%s %s%s%s)", ids.len ? ", " : "", cf->id, cf->source,
				cf->installed, cf->fixed_version ? ", fixed in " : "",
				cf->fixed_version ? cf->fixed_version : "");
	}
	if (r.stale)
		ev(f, "%s", r.stale);
	ev(f, "CVE feeds: tracker %s, KEV %s, EPSS %s", r.tracker_date ? r.tracker_date : "absent",
	   r.kev_date ? r.kev_date : "absent", r.epss_date ? r.epss_date : "absent");
	if (fixable || kev) {
		result(f, AUDIT_FAIL);
		ev(f, "%zu fixable CVE(s), %zu in CISA KEV: rebuild (pare update) to ship the fixes", fixable,
		   kev);
		ev(f, "%s%s", sb_str(&ids), shown > 10 ? ", …" : "");
	} else {
		result(f, AUDIT_PASS);
		ev(f, "no fixable or known-exploited CVE; %zu open with no fix published (pare cve)", open);
	}
	ret = 1;
out:
	for (size_t i = 0; subs && i < nsubs; i++)
		cve_subject_release(&subs[i]);
	free(subs);
	free(arch);
	sb_release(&ids);
	cve_report_release(&r);
	cve_config_release(&c);
	return ret;
}

static void check_patches(struct ctx *c, struct audit_finding *f)
{
	const char *created = oci_json_str(c->img->config, "created");
	struct tm tm = { 0 };
	perr e = { 0, "" };
	int r;

	if (created && strptime(created, "%Y-%m-%dT%H:%M:%S", &tm)) {
		int64_t t = (int64_t)timegm(&tm);
		ev(f, "config.created %s (%lld days before this audit)%s", created,
		   (long long)((c->o->now - t) / 86400),
		   c->rep->is_pare ? ": the newest repository index date in the lock" : "");
	} else {
		ev(f, "config.created is missing or not RFC 3339");
	}
	r = audit_cve_fill(c->img, f, &e);
	if (r < 0) {
		result(f, AUDIT_MANUAL);
		ev(f, "CVE feeds unreadable: %s", e.msg);
	} else if (r == 0) {
		result(f, AUDIT_MANUAL);
		ev(f, "no CVE feeds: the packages were not matched against vulnerability data; "
		   "check with a scanner, rebuild with pare update");
	}
}

static void check_signed(struct ctx *c, struct audit_finding *f)
{
	const struct layout_sig *s = c->sig;

	if (s->error) {
		result(f, AUDIT_FAIL);
		ev(f, "verification with %s failed: %s", c->o->key, s->error);
	} else if (s->verified) {
		result(f, AUDIT_PASS);
		ev(f, "signature of %s verified with %s", c->img->digest, c->o->key);
	} else if (s->signed_) {
		result(f, AUDIT_WARN);
		ev(f, "a cosign signature is attached, not verified (no --key)");
	} else {
		result(f, AUDIT_FAIL);
		ev(f, "no signature in the layout (index.json has no sha256-…sig)");
	}
}

static void check_healthcheck(struct ctx *c, struct audit_finding *f)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(cfg_item(c, "Healthcheck"), "Test");
	const char *kind = cJSON_GetStringValue(cJSON_GetArrayItem(t, 0));

	if (kind && !strcmp(kind, "CMD")) {
		result(f, AUDIT_PASS);
		ev(f, "config.Healthcheck.Test: exec form, %s",
		   cJSON_GetStringValue(cJSON_GetArrayItem(t, 1)) ?
			   cJSON_GetStringValue(cJSON_GetArrayItem(t, 1)) : "");
	} else if (kind && !strcmp(kind, "CMD-SHELL")) {
		result(f, has_shell(c) ? AUDIT_PASS : AUDIT_FAIL);
		ev(f, "config.Healthcheck.Test: CMD-SHELL%s",
		   has_shell(c) ? "" : ", but the image has no shell to run it");
	} else if (kind && !strcmp(kind, "NONE")) {
		result(f, AUDIT_WARN);
		ev(f, "config.Healthcheck.Test: NONE (disabled)");
	} else if (!has_shell(c)) {
		result(f, AUDIT_NA);
		ev(f, "no config.Healthcheck, and no shell: a CMD-SHELL check cannot run here "
		   "(the recipe key healthcheck sets an exec-form one)");
	} else {
		result(f, AUDIT_WARN);
		ev(f, "no config.Healthcheck");
	}
}

static void check_history(struct ctx *c, struct audit_finding *f, bool add)
{
	const cJSON *h;
	size_t n = 0;

	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(c->img->config, "history")) {
		const char *by = oci_json_str(h, "created_by");

		if (!by)
			continue;
		n++;
		if (add ? (strstr(by, "ADD ") && (strstr(by, "http://") || strstr(by, "https://") ||
						  strstr(by, ".tar")))
			: ((strstr(by, "apt-get update") || strstr(by, "apt update") ||
			    strstr(by, "apk update") || strstr(by, "yum makecache")) &&
			   !strstr(by, "install"))) {
			result(f, AUDIT_WARN);
			ev(f, "config.history: %.120s", by);
		}
	}
	if (!n) {
		result(f, AUDIT_NA);
		ev(f, "the config has no history");
	} else if (c->rep->is_pare) {
		result(f, AUDIT_PASS);
		ev(f, "built by pare: no %s step (%zu history entries, one per layer)",
		   add ? "ADD" : "RUN", n);
	} else {
		result(f, AUDIT_PASS);
		ev(f, "%zu history entries", n);
	}
}

static void check_setuid(struct ctx *c, struct audit_finding *f)
{
	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];
		char what[64];

		if (!S_ISREG(x->mode) || !(x->mode & (S_ISUID | S_ISGID)))
			continue;
		snprintf(what, sizeof(what), "mode %04o%s", (unsigned)(x->mode & 07777),
			 recipe_allows(c, "setuid") ? ", allowed by the recipe" : "");
		result(f, recipe_allows(c, "setuid") ? AUDIT_WARN : AUDIT_FAIL);
		ev_file(f, c, x, what);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "no setuid or setgid file among %zu", c->img->nfiles);
}

bool audit_secret_key(const char *key)
{
	static const char *const words[] = { "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET",
		"TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL", "AUTH_KEY",
		"CLIENT_SECRET", "_PWD" };
	char *up = xstrdup(key);
	bool hit = false;

	for (char *p = up; *p; p++)
		*p = (char)toupper((unsigned char)*p == '-' || *p == '.' ? '_' : (unsigned char)*p);
	for (size_t i = 0; i < ARRAY_SIZE(words) && !hit; i++)
		hit = strstr(up, words[i]) != NULL;
	free(up);
	return hit;
}

static bool run_of(const char *s, const char *end, const char *set, size_t min)
{
	size_t n = 0;

	while (s + n < end && strchr(set, s[n]) && s[n])
		n++;
	return n >= min;
}

const char *audit_token_kind(const char *s, size_t n)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static const char slack[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
	const char *end = s + n;

	if (memmem(s, n, "PRIVATE KEY-----", 16))
		return "a private key block";
	for (const char *p = s; p < end; p++) {
		size_t left = (size_t)(end - p);

		if (left >= 20 && (!memcmp(p, "AKIA", 4) || !memcmp(p, "ASIA", 4)) &&
		    run_of(p + 4, end, upper, 16) && (p == s || !isalnum((unsigned char)p[-1])))
			return "an AWS access key id";
		if (left >= 40 && (!memcmp(p, "ghp_", 4) || !memcmp(p, "gho_", 4) ||
				   !memcmp(p, "ghs_", 4) || !memcmp(p, "ghu_", 4)) &&
		    run_of(p + 4, end, alnum, 36))
			return "a GitHub token";
		if (left >= 26 && !memcmp(p, "glpat-", 6) && run_of(p + 6, end, slack, 20))
			return "a GitLab token";
		if (left >= 15 && !memcmp(p, "xox", 3) && strchr("abprs", p[3]) && p[4] == '-' &&
		    run_of(p + 5, end, slack, 10))
			return "a Slack token";
	}
	return NULL;
}

static bool credential_name(const char *path)
{
	static const char *const names[] = { "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
		".netrc", "_netrc", ".git-credentials", ".pgpass", ".my.cnf", ".htpasswd",
		"credentials.json", "*.p12", "*.pfx", "*.jks", "*.keystore", ".vault-token" };
	static const char *const suffixes[] = { "/.aws/credentials", "/.docker/config.json",
		"/.kube/config", "/.config/gh/hosts.yml", "/.ssh/authorized_keys" };
	const char *b = path_basename(path);

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (str_ends(path, suffixes[i]))
			return true;
	return name_in(b, names, ARRAY_SIZE(names));
}

static void secrets_in_map(struct ctx *c, struct audit_finding *f, const cJSON *m,
			   const char *field)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, m) {
		const char *v = cJSON_GetStringValue(x);
		const char *kind = v ? audit_token_kind(v, strlen(v)) : NULL;

		(void)c;
		if (v && *v && audit_secret_key(x->string)) {
			result(f, AUDIT_FAIL);
			ev(f, "config.%s %s: a secret-like key with a value (not shown)", field,
			   x->string);
		} else if (kind) {
			result(f, AUDIT_FAIL);
			ev(f, "config.%s %s: the value holds %s (not shown)", field, x->string, kind);
		}
	}
}

static void check_secrets(struct ctx *c, struct audit_finding *f)
{
	const cJSON *env = cfg_item(c, "Env"), *x;
	cJSON *m = cJSON_CreateObject();

	result(f, AUDIT_PASS);
	cJSON_ArrayForEach(x, env) {
		const char *kv = cJSON_GetStringValue(x), *eq = kv ? strchr(kv, '=') : NULL;
		char *k;

		if (!eq)
			continue;
		k = xstrndup(kv, (size_t)(eq - kv));
		cJSON_AddStringToObject(m, k, eq + 1);
		free(k);
	}
	secrets_in_map(c, f, m, "Env");
	cJSON_Delete(m);
	secrets_in_map(c, f, cfg_item(c, "Labels"), "Labels");
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *y = &c->img->files[i];
		const char *kind;

		if (!S_ISREG(y->mode))
			continue;
		if (credential_name(y->path)) {
			result(f, AUDIT_FAIL);
			ev_file(f, c, y, "a credential file");
		} else if (y->data && (kind = audit_token_kind(y->data, y->ndata))) {
			char *what = xasprintf("holds %s (not shown)", kind);

			result(f, AUDIT_FAIL);
			ev_file(f, c, y, what);
			free(what);
		}
	}
	if (f->result == AUDIT_PASS)
		ev(f, "no secret-like Env or label, no private key or credential file among %zu "
		   "files", c->img->nfiles);
}

static bool verified_att(const struct ctx *c, const char *pred)
{
	char *want = xasprintf("%s %s", c->img->digest, pred);
	bool yes = sv_contains(&c->sig->atts, want);

	free(want);
	return yes;
}

static void check_verified_pkgs(struct ctx *c, struct audit_finding *f)
{
	if (c->sig->error) {
		result(f, AUDIT_FAIL);
		ev(f, "verification with %s failed: %s", c->o->key, c->sig->error);
	} else if (c->sig->verified && verified_att(c, SIGNER_PRED_SLSA1)) {
		result(f, AUDIT_PASS);
		ev(f, "SLSA provenance attestation verified with %s: %zu packages resolved from "
		   "OpenPGP-verified repository indexes, each .deb pinned by sha256",
		   c->o->key, c->rep->npackages);
	} else if (c->rep->is_pare) {
		result(f, AUDIT_MANUAL);
		ev(f, "built by pare (verified indexes, pinned .debs), but no provenance verified: "
		   "%s", c->o->key ? "no SLSA provenance attestation" : "give --key PUB");
	} else {
		result(f, AUDIT_MANUAL);
		ev(f, "no verifiable provenance: the packages' origin is not recorded");
	}
}

static void check_validated(struct ctx *c, struct audit_finding *f)
{
	size_t n = 0;
	char *pre = xasprintf("%s ", c->img->digest);

	for (size_t i = 0; i < c->sig->atts.n; i++)
		if (str_starts(c->sig->atts.v[i], pre)) {
			n++;
			ev(f, "attestation %s verified", c->sig->atts.v[i] + strlen(pre));
		}
	free(pre);
	if (c->sig->error) {
		result(f, AUDIT_FAIL);
		ev(f, "verification with %s failed: %s", c->o->key, c->sig->error);
	} else if (!c->sig->signed_ && !c->sig->attested) {
		result(f, AUDIT_FAIL);
		ev(f, "no signature or attestation attached");
	} else if (!c->o->key) {
		result(f, AUDIT_MANUAL);
		ev(f, "signatures and attestations attached, not validated (give --key PUB)");
	} else {
		result(f, n ? AUDIT_PASS : AUDIT_WARN);
		if (!n)
			ev(f, "no attestation about %s", c->img->digest);
	}
}

static void check_shadow(struct ctx *c, struct audit_finding *f)
{
	if (!audit_file_find(c->img, "/etc/shadow")) {
		result(f, AUDIT_PASS);
		ev(f, "no /etc/shadow: no account has a password");
		return;
	}
	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->nshadow; i++)
		if (c->shadow[i].pass && !*c->shadow[i].pass) {
			result(f, AUDIT_FAIL);
			ev(f, "/etc/shadow: %s has an empty password", c->shadow[i].name);
		}
	if (f->result == AUDIT_PASS)
		ev(f, "/etc/shadow: %zu accounts, none with an empty password", c->nshadow);
}

static void dup_ids(struct audit_finding *f, const struct account *a, size_t n,
		    const char *file, const char *what)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (a[i].id >= 0 && a[i].id == a[k].id) {
				result(f, AUDIT_FAIL);
				ev(f, "%s: %s %ld is %s and %s", file, what, a[i].id, a[k].name,
				   a[i].name);
				break;
			}
}

static void check_unique_ids(struct ctx *c, struct audit_finding *f)
{
	if (!c->nusers && !c->ngroups) {
		result(f, AUDIT_NA);
		ev(f, "no /etc/passwd or /etc/group");
		return;
	}
	result(f, AUDIT_PASS);
	dup_ids(f, c->users, c->nusers, "/etc/passwd", "uid");
	dup_ids(f, c->groups, c->ngroups, "/etc/group", "gid");
	if (f->result == AUDIT_PASS)
		ev(f, "%zu users, %zu groups, no id twice", c->nusers, c->ngroups);
}

static void check_unneeded(struct ctx *c, struct audit_finding *f)
{
	static const char *const names[] = { ".git", ".svn", ".hg", ".cache", "*~", ".*.swp",
		".*.swo", ".DS_Store", "#*#" };

	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];
		strvec parts = STRVEC_INIT;
		size_t k;

		/* one line for .git itself, not one per file below it */
		sv_split(&parts, x->path, "/");
		for (k = 0; k < parts.n; k++)
			if (name_in(parts.v[k], names, ARRAY_SIZE(names)))
				break;
		if (parts.n && k == parts.n - 1) {
			result(f, AUDIT_FAIL);
			ev_file(f, c, x, NULL);
		}
		sv_clear(&parts);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "no .git, .cache or editor files among %zu", c->img->nfiles);
}

static void check_volumes(struct ctx *c, struct audit_finding *f)
{
	static const char *const bad[] = { "/", "/dev", "/proc", "/sys", "/boot", "/etc", "/run",
		"/var/run", "/var/run/docker.sock", "/run/docker.sock", "/root", "/lib/modules" };
	const cJSON *v, *vols = cfg_item(c, "Volumes");
	size_t n = 0;

	result(f, AUDIT_PASS);
	cJSON_ArrayForEach(v, vols) {
		char *p = xstrdup(v->string);
		size_t len = strlen(p);

		while (len > 1 && p[len - 1] == '/')
			p[--len] = '\0';
		n++;
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			if (!strcmp(p, bad[i])) {
				result(f, AUDIT_FAIL);
				ev(f, "config.Volumes %s", v->string);
			}
		free(p);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "config.Volumes: %zu, none sensitive", n);
}

static void check_writable(struct ctx *c, struct audit_finding *f)
{
	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];
		char what[64];

		if (S_ISLNK(x->mode) || !(x->mode & S_IWOTH))
			continue;
		if (S_ISDIR(x->mode) && (x->mode & S_ISVTX))
			continue; /* /tmp: sticky, each user keeps their own files */
		snprintf(what, sizeof(what), "%s mode %04o%s", S_ISDIR(x->mode) ? "directory" : "file",
			 (unsigned)(x->mode & 07777),
			 recipe_allows(c, "world-writable") ? ", allowed by the recipe" : "");
		result(f, recipe_allows(c, "world-writable") ? AUDIT_WARN : AUDIT_FAIL);
		ev_file(f, c, x, what);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "no world-writable file or non-sticky directory among %zu", c->img->nfiles);
}

static bool known_id(const struct account *a, size_t n, long id)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].id == id)
			return true;
	return false;
}

static void check_owners(struct ctx *c, struct audit_finding *f)
{
	if (!c->nusers) {
		result(f, AUDIT_WARN);
		ev(f, "no /etc/passwd: no owner resolves");
		return;
	}
	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];
		char what[64];

		if (known_id(c->users, c->nusers, x->uid) &&
		    (!c->ngroups || known_id(c->groups, c->ngroups, x->gid)))
			continue;
		snprintf(what, sizeof(what), "owner %u:%u", x->uid, x->gid);
		result(f, AUDIT_WARN);
		ev_file(f, c, x, what);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "every owner of %zu files is in /etc/passwd and /etc/group", c->img->nfiles);
}

static void check_devices(struct ctx *c, struct audit_finding *f)
{
	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];

		if (S_ISCHR(x->mode) || S_ISBLK(x->mode) || S_ISFIFO(x->mode) || S_ISSOCK(x->mode)) {
			result(f, AUDIT_FAIL);
			ev_file(f, c, x, S_ISCHR(x->mode) ? "character device" :
					 S_ISBLK(x->mode) ? "block device" :
					 S_ISFIFO(x->mode) ? "FIFO" : "socket");
		}
	}
	if (f->result == AUDIT_PASS)
		ev(f, "no device node, FIFO or socket among %zu files", c->img->nfiles);
}

/* Whether a relative link target, resolved lexically from its directory,
 * climbs above the root. */
static bool climbs(const char *path, const char *target)
{
	strvec parts = STRVEC_INIT, t = STRVEC_INIT;
	long depth;
	bool out = false;
	char *dir = path_dirname(path);

	sv_split(&parts, dir, "/");
	depth = (long)parts.n;
	sv_split(&t, target, "/");
	for (size_t i = 0; i < t.n && !out; i++) {
		if (!strcmp(t.v[i], ".."))
			out = --depth < 0;
		else if (strcmp(t.v[i], "."))
			depth++;
	}
	sv_clear(&parts), sv_clear(&t);
	free(dir);
	return out;
}

static void check_symlinks(struct ctx *c, struct audit_finding *f)
{
	static const char *const host[] = { "/proc", "/sys", "/dev", "/run", "/tmp", "/var/run" };

	result(f, AUDIT_PASS);
	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];
		bool special = false;
		char *what;

		if (!S_ISLNK(x->mode) || !x->link || x->hardlink)
			continue;
		if (x->link[0] != '/') {
			if (!climbs(x->path, x->link))
				continue;
			what = xasprintf("-> %s climbs above /", x->link);
			result(f, AUDIT_FAIL);
		} else {
			for (size_t k = 0; k < ARRAY_SIZE(host); k++)
				special |= !strcmp(x->link, host[k]) ||
					   (str_starts(x->link, host[k]) && x->link[strlen(host[k])] == '/');
			if (special || audit_file_find(c->img, x->link))
				continue;
			/* a link to a link or through a linked directory resolves
			 * in the image: only the first component is checked */
			{
				char *first = xstrndup(x->link, strcspn(x->link + 1, "/") + 1);
				bool there = audit_file_find(c->img, first) != NULL;

				free(first);
				if (there)
					continue;
			}
			what = xasprintf("-> %s: not in the image (a host path)", x->link);
			result(f, AUDIT_WARN);
		}
		ev_file(f, c, x, what);
		free(what);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "every symbolic link stays in the image");
}

static void check_sbom(struct ctx *c, struct audit_finding *f)
{
	strvec names = STRVEC_INIT, status = STRVEC_INIT;

	for (size_t i = 0; i < c->img->nfiles; i++) {
		const struct audit_file *x = &c->img->files[i];

		if (str_starts(x->path, "/usr/share/sbom/") && S_ISREG(x->mode)) {
			sv_push(&c->rep->sboms, x->path);
			if (str_ends(x->path, ".spdx.json") && x->data) {
				cJSON *doc = cJSON_ParseWithLength(x->data, x->ndata);
				const cJSON *p;

				cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "packages"))
					if (oci_json_str(p, "name"))
						sv_push(&names, oci_json_str(p, "name"));
				cJSON_Delete(doc);
			}
		}
		if (str_starts(x->path, "/var/lib/dpkg/status.d/") && S_ISREG(x->mode) &&
		    !str_ends(x->path, ".md5sums"))
			sv_push(&status, path_basename(x->path));
	}
	if (!c->rep->sboms.n) {
		result(f, AUDIT_FAIL);
		ev(f, "no SBOM in /usr/share/sbom/");
		goto out;
	}
	for (size_t i = 0; i < c->rep->sboms.n; i++)
		ev(f, "%s", c->rep->sboms.v[i]);
	if (!names.n) {
		result(f, AUDIT_WARN);
		ev(f, "no SPDX document with packages to compare with the dpkg database");
		goto out;
	}
	result(f, AUDIT_PASS);
	for (size_t i = 0; i < status.n; i++) {
		char *pkg = xstrndup(status.v[i], strcspn(status.v[i], ":"));

		if (!sv_contains(&names, pkg)) {
			result(f, AUDIT_FAIL);
			ev(f, "package %s (/var/lib/dpkg/status.d/%s) is not in the SBOM", pkg,
			   status.v[i]);
		}
		free(pkg);
	}
	if (f->result == AUDIT_PASS)
		ev(f, "all %zu packages of status.d are in the SPDX SBOM", status.n);
out:
	sv_clear(&names), sv_clear(&status);
}

static void check_repro(struct ctx *c, struct audit_finding *f)
{
	char *dg = NULL;
	perr e = { 0, "" };

	if (c->o->rebuild && c->rep->is_pare && c->rep->recipe) {
		if (c->o->rebuild(c->img, c->rep->recipe, &dg, c->o->rebuild_arg, &e) < 0) {
			result(f, AUDIT_FAIL);
			ev(f, "rebuilding %s from recipes.lock failed: %s", c->rep->recipe, e.msg);
		} else if (!strcmp(dg, c->img->digest)) {
			result(f, AUDIT_PASS);
			ev(f, "rebuilt from recipes.lock: manifest %s, the same digest", dg);
		} else {
			result(f, AUDIT_FAIL);
			ev(f, "the image's manifest is %s", c->img->digest);
			ev(f, "rebuilt from recipes.lock: manifest %s (`pare diff` shows the difference)", dg);
		}
		free(dg);
		return;
	}
	result(f, AUDIT_MANUAL);
	if (c->rep->is_pare && c->o->rebuild)
		ev(f, "no recipe name in the image's annotations: nothing to rebuild");
	else if (c->rep->is_pare)
		ev(f, "not rebuilt here: `pare build %s` from the same recipes.lock then `pare diff` "
		   "(equal images: exit 0)", c->rep->recipe ? c->rep->recipe : "RECIPE");
	else
		ev(f, "not built by pare: no lock to rebuild from");
}

static bool shell_form(const cJSON *argv)
{
	const char *a0 = cJSON_GetStringValue(cJSON_GetArrayItem(argv, 0));
	const char *a1 = cJSON_GetStringValue(cJSON_GetArrayItem(argv, 1));
	const char *b = a0 ? path_basename(a0) : "";

	return a1 && !strcmp(a1, "-c") &&
	       (!strcmp(b, "sh") || !strcmp(b, "bash") || !strcmp(b, "dash") || !strcmp(b, "ash"));
}

static void check_config(struct ctx *c, struct audit_finding *f)
{
	const cJSON *ep = cfg_item(c, "Entrypoint"), *cmd = cfg_item(c, "Cmd"), *x;
	const char *sig = cJSON_GetStringValue(cfg_item(c, "StopSignal"));
	char *s;

	result(f, AUDIT_PASS);
	s = ep ? cJSON_PrintUnformatted(ep) : NULL;
	ev(f, "config.Entrypoint %s", s ? s : "(none)");
	free(s);
	s = cmd ? cJSON_PrintUnformatted(cmd) : NULL;
	ev(f, "config.Cmd %s", s ? s : "(none)");
	free(s);
	if ((ep && !cJSON_IsArray(ep)) || (cmd && !cJSON_IsArray(cmd)) || shell_form(ep) ||
	    (!cJSON_GetArraySize(ep) && shell_form(cmd))) {
		result(f, AUDIT_FAIL);
		ev(f, "the command runs through a shell (not exec form)");
	}
	if (!cJSON_GetArraySize(ep) && !cJSON_GetArraySize(cmd))
		ev(f, "no Entrypoint or Cmd: the runtime must be given a command");
	cJSON_ArrayForEach(x, cfg_item(c, "ExposedPorts")) {
		long port = strtol(x->string, NULL, 10);

		ev(f, "config.ExposedPorts %s", x->string);
		if (port > 0 && port < 1024) {
			result(f, AUDIT_WARN);
			ev(f, "port %ld is privileged (binding it needs root or CAP_NET_BIND_SERVICE)",
			   port);
		}
	}
	if (sig) {
		ev(f, "config.StopSignal %s", sig);
		if (!str_starts(sig, "SIG") && strspn(sig, "0123456789") != strlen(sig)) {
			result(f, AUDIT_WARN);
			ev(f, "StopSignal is neither a SIG… name nor a number");
		}
	}
	ev(f, "config.Labels: %d", cJSON_GetArraySize(cfg_item(c, "Labels")));
}

/* ---- running them ------------------------------------------------------------ */

static void (*const check_fns[])(struct ctx *, struct audit_finding *) = {
	check_user, check_base, check_packages, check_patches, check_signed,
	check_healthcheck, NULL /* 4.7 */, check_setuid, NULL /* 4.9 */, check_secrets,
	check_verified_pkgs, check_validated, check_shadow, check_unique_ids, check_unneeded,
	check_volumes, check_writable, check_owners, check_devices, check_symlinks, check_sbom,
	check_repro, check_config,
};

static size_t count_packages(const struct audit_image *img)
{
	size_t n = 0;
	const char *st;

	for (size_t i = 0; i < img->nfiles; i++)
		if (str_starts(img->files[i].path, "/var/lib/dpkg/status.d/") &&
		    S_ISREG(img->files[i].mode) && !str_ends(img->files[i].path, ".md5sums"))
			n++;
	if (n || !(st = file_text(img, "/var/lib/dpkg/status")))
		return n;
	for (const char *p = st; (p = strstr(p, "Package: ")); p++)
		if (p == st || p[-1] == '\n')
			n++;
	return n;
}

static struct recipe *load_recipe(const struct audit_opts *o, const char *name)
{
	struct recipe *r = NULL;
	char *p;
	perr e;

	if (!o->recipes_dir || !name)
		return NULL;
	p = xasprintf("%s/%s.yaml", o->recipes_dir, name);
	if (path_exists(p) && !(r = recipe_load(p, &e)))
		warning("audit: %s (the recipe's allow list is not used)", e.msg);
	free(p);
	return r;
}

static void audit_one(struct audit_report *rep, const struct layout_sig *sig,
		      const struct audit_opts *o)
{
	struct ctx c = { o, rep, &rep->img, sig, NULL, NULL, NULL, NULL, 0, 0, 0 };
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(rep->img.manifest, "annotations");

	rep->recipe = oci_json_str(ann, OCI_ANN_RECIPE_NAME) ? xstrdup(oci_json_str(ann, OCI_ANN_RECIPE_NAME))
							: NULL;
	rep->is_pare = oci_json_str(ann, OCI_ANN_RECIPE_SHA256) != NULL;
	rep->npackages = count_packages(&rep->img);
	c.recipe = rep->is_pare ? load_recipe(o, rep->recipe) : NULL;
	accounts_parse(file_text(&rep->img, "/etc/passwd"), false, false, &c.users, &c.nusers);
	accounts_parse(file_text(&rep->img, "/etc/group"), true, false, &c.groups, &c.ngroups);
	accounts_parse(file_text(&rep->img, "/etc/shadow"), false, true, &c.shadow, &c.nshadow);
	if (ARRAY_SIZE(check_fns) != audit_nrules)
		die("audit: %zu checks for %zu rules", ARRAY_SIZE(check_fns), audit_nrules);
	rep->findings = xcalloc(audit_nrules, sizeof(*rep->findings));
	rep->nfindings = audit_nrules;
	for (size_t i = 0; i < audit_nrules; i++) {
		struct audit_finding *f = &rep->findings[i];

		f->rule = &audit_rules[i];
		f->result = AUDIT_NA;
		if (check_fns[i])
			check_fns[i](&c, f);
		else
			check_history(&c, f, i == 8);
		rep->counts[f->result]++;
	}
	if (sig->error)
		rep->signature = xasprintf("invalid: %s", sig->error);
	else
		rep->signature = xstrdup(sig->verified ? "verified" :
					 sig->signed_ ? "present (not verified)" : "absent");
	accounts_free(c.users, c.nusers);
	accounts_free(c.groups, c.ngroups);
	accounts_free(c.shadow, c.nshadow);
	recipe_free(c.recipe);
}

static void on_check(const struct signer_check *ch, void *ctx)
{
	struct layout_sig *s = ctx;

	if (!strcmp(ch->what, "attestation"))
		sv_pushf(&s->atts, "%s %s", ch->digest, ch->detail);
}

static void layout_sig_read(const char *dir, const struct audit_opts *o, struct layout_sig *s)
{
	strbuf sb = STRBUF_INIT;
	char *p = path_join(dir, "index.json");
	cJSON *index = NULL;
	const cJSON *d;
	perr e = { 0, "" };

	if (read_file(p, &sb, 64u << 20, &e) == 0)
		index = cJSON_ParseWithLength(sb.buf, sb.len);
	s->signed_ = index && out_index_is_signed(index);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
		const char *r = oci_json_str(cJSON_GetObjectItemCaseSensitive(d, "annotations"),
				     "org.opencontainers.image.ref.name");
		s->attested |= r && str_starts(r, "sha256-") && str_ends(r, ".att");
	}
	if (o->signing)
		s->signed_ = s->attested = true;
	if (o->key && (s->signed_ || s->attested)) {
		size_t nchecks;
		const struct signer_predicate_check *checks = audit_attestation_checks(&nchecks);

		if (signer_verify_layout_with(dir, o->key, NULL, checks, nchecks, on_check, s, &e) < 0)
			s->error = xstrdup(e.msg);
		else
			s->verified = true;
	} else if (o->key) {
		s->error = xstrdup("no signature to verify");
	}
	sv_sort(&s->atts);
	cJSON_Delete(index);
	sb_release(&sb);
	free(p);
}

int audit_path(const char *path, const struct audit_opts *o, struct audit_report **reps,
	       size_t *nreps, perr *e)
{
	struct oci_input in;
	struct layout_sig sig = { 0 };
	strvec digests = STRVEC_INIT, plats = STRVEC_INIT;
	strbuf idx = STRBUF_INIT;
	int ret = -1;

	if (oci_input_open(path, false, &in, e) < 0)
		return -1;
	if (is_dir(in.dir)) {
		char *p = path_join(in.dir, "index.json");
		bool there = path_exists(p);

		free(p);
		if (!there) {
			perr_set(e, "%s: not an OCI image layout (no index.json)", path);
			goto out;
		}
	}
	if (audit_layout_images(in.dir, &digests, &plats, e) < 0)
		goto out;
	layout_sig_read(in.dir, o, &sig);
	for (size_t i = 0; i < digests.n; i++) {
		struct audit_report *r;

		*reps = xrealloc(*reps, (*nreps + 1) * sizeof(**reps));
		r = &(*reps)[*nreps];
		memset(r, 0, sizeof(*r));
		if (audit_image_read(in.dir, digests.v[i], plats.v[i], &r->img, e) < 0) {
			audit_image_release(&r->img);
			goto out;
		}
		(*nreps)++;
		free(r->img.source);
		r->img.source = xstrdup(path);
		audit_one(r, &sig, o);
	}
	ret = 0;
out:
	if (ret < 0)
		oci_input_error(&in, e);
	oci_input_close(&in);
	sv_clear(&digests), sv_clear(&plats), sv_clear(&sig.atts);
	free(sig.error);
	sb_release(&idx);
	return ret;
}

void audit_reports_free(struct audit_report *reps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		audit_image_release(&reps[i].img);
		for (size_t k = 0; k < reps[i].nfindings; k++)
			sv_clear(&reps[i].findings[k].evidence);
		free(reps[i].findings);
		free(reps[i].recipe), free(reps[i].signature);
		sv_clear(&reps[i].sboms);
	}
	free(reps);
}
