/*
 * policy.c - what may enter an image, and in which shape.
 *
 * Every package entry passes through here before it reaches the image tree:
 * path normalisation with the merged-/usr rewrite, refusal of hostile names
 * and symlinks, the strip policy and the hardening rules (no shell, no
 * package manager, no setuid, no world-writable files, root ownership).
 */
#include "builder_int.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* pare creates these as symlinks into /usr; package entries below them are
 * rewritten to /usr/… (Debian's merged-/usr layout since bookworm). */
const char *const policy_usrmerge_dirs[] = {
	"bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL,
};

/* Shells: interactive or scripting command interpreters a user could get a
 * prompt from.  Matched on the basename of executables and symlinks in any
 * directory. */
static const char *const shells[] = {
	"sh", "bash", "dash", "busybox", "ash", "zsh", "ksh", "ksh93", "mksh",
	"lksh", "pdksh", "csh", "tcsh", "fish", "rbash", "posh", "yash", NULL,
};

/* System package managers (they could add software at run time).  Language
 * tools (pip, npm, gem) are not: they install into a language's own tree and
 * are what a language image is for.  "dpkg-*" and "apt-*" cover the helper
 * commands (dpkg-deb, dpkg-query, apt-get, apt-cache, apt-key, …). */
static const char *const pkgmgrs[] = {
	"dpkg", "dpkg-*", "apt", "apt-*", "aptitude", "rpm", "rpmdb", "yum",
	"dnf", "microdnf", "apk", "zypper", "pacman", "opkg", "ipkg", NULL,
};

/* Debian packages known to ship what the two lists above refuse, by name:
 * what `pare lock` can see in the closure before anything is fetched (the
 * Packages index has no file lists).  The build's check of every file stays
 * the authority. */
static const char *const shell_pkgs[] = {
	"bash", "dash", "busybox", "busybox-static", "zsh", "zsh-static", "ksh", "ksh93u+m",
	"mksh", "csh", "tcsh", "fish", "posh", "yash", NULL,
};
static const char *const pkgmgr_pkgs[] = {
	"dpkg", "apt", "aptitude", "rpm", "yum", "dnf", "microdnf", "apk-tools", "zypper",
	"pacman-package-manager", "opkg", NULL,
};

/* Default strip globs (fnmatch without FNM_PATHNAME: '*' crosses '/'). */
static const char *const default_strip[] = {
	"/usr/share/doc/*",
	"/usr/share/man", "/usr/share/man/*",
	"/usr/share/info", "/usr/share/info/*",
	"/usr/share/lintian", "/usr/share/lintian/*",
	"/usr/share/locale/*",
	"/usr/share/doc-base", "/usr/share/doc-base/*",
	"/usr/share/bug", "/usr/share/bug/*",
	"/usr/share/menu", "/usr/share/menu/*",
	"/usr/share/gtk-doc", "/usr/share/gtk-doc/*",
	/* glibc iconv modules: UTF-8 is built into libc; keep the Unicode
	 * family and the module configuration (gconv-modules, its .d dir and
	 * the cache) so iconv to/from UTF-16/32/UCS-2/4 keeps working. */
	"/usr/lib/*-linux-gnu*/gconv/*",
	/* desktop integration: nothing in a container reads it */
	"/usr/share/pixmaps", "/usr/share/pixmaps/*",
	"/usr/share/applications", "/usr/share/applications/*",
	/* build-time only: headers, pkg-config files, static libraries */
	"/usr/include", "/usr/include/*",
	"/usr/lib/*/pkgconfig", "/usr/lib/*/pkgconfig/*",
	"/usr/share/pkgconfig", "/usr/share/pkgconfig/*",
	"/usr/lib/*.a",
	/* tzdata's leap-second ("right/") variants of every zone: TZ=right/…
	 * is non-POSIX time and almost never used; posix/ is links only */
	"/usr/share/zoneinfo/right", "/usr/share/zoneinfo/right/*",
	/* CPython's own regression-test support and C test extensions, and the
	 * help() topic texts (documentation, like /usr/share/doc; pydoc says
	 * "documentation is not available" without them).  Spelled with digit
	 * classes because '*' would cross into site-packages. */
	"/usr/lib/python3.[0-9]/test", "/usr/lib/python3.[0-9]/test/*",
	"/usr/lib/python3.[0-9][0-9]/test", "/usr/lib/python3.[0-9][0-9]/test/*",
	"/usr/lib/python3.[0-9]/pydoc_data", "/usr/lib/python3.[0-9]/pydoc_data/*",
	"/usr/lib/python3.[0-9][0-9]/pydoc_data", "/usr/lib/python3.[0-9][0-9]/pydoc_data/*",
	"/usr/lib/python3.[0-9]/lib-dynload/_test*",
	"/usr/lib/python3.[0-9][0-9]/lib-dynload/_test*",
	"/usr/lib/python3.[0-9]/lib-dynload/_ctypes_test.*",
	"/usr/lib/python3.[0-9][0-9]/lib-dynload/_ctypes_test.*",
	"/usr/lib/python3.[0-9]/lib-dynload/_xxtestfuzz.*",
	"/usr/lib/python3.[0-9][0-9]/lib-dynload/_xxtestfuzz.*",
	NULL,
};

/* With the bundle generated (policy.ca_bundle), the certificates it is made
 * from: nothing in the image reads them (pare makes no hash links to them,
 * OpenSSL, GnuTLS and Go read the bundle), so they would only be a second
 * copy.  generate.c makes the bundle from the stripped entries' content. */
static const char *const ca_strip[] = {
	"/usr/share/ca-certificates/*.crt",
	NULL,
};

static const char *const default_keep[] = {
	"/usr/share/doc/*/copyright",
	"/usr/lib/*-linux-gnu*/gconv/gconv-modules*",
	"/usr/lib/*-linux-gnu*/gconv/UTF-*.so",
	"/usr/lib/*-linux-gnu*/gconv/UNICODE.so",
	NULL,
};

void policy_init(struct policy *p, const struct recipe *r)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
	if (r) {
		p->allow_shell = sv_contains(&r->allow, "shell");
		p->allow_pkgmgr = sv_contains(&r->allow, "package-manager");
		p->allow_setuid = sv_contains(&r->allow, "setuid");
	}
}

static bool is_usrmerge_dir(const char *comp, size_t n)
{
	for (size_t i = 0; policy_usrmerge_dirs[i]; i++)
		if (strlen(policy_usrmerge_dirs[i]) == n &&
		    !strncmp(policy_usrmerge_dirs[i], comp, n))
			return true;
	return false;
}

/* Whether s is UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF).  Names and link targets reach the layer as pax records,
 * which are UTF-8: libarchive cannot write any other bytes there (and a
 * package shipping such a name is broken: lintian's
 * file-name-is-not-valid-UTF-8). */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n, min, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

void policy_quote(strbuf *out, const char *s)
{
	sb_add_quoted(out, s);
}

/* A name tar cannot carry into a layer that unpacks anywhere: a control
 * character (a newline splits the name in every listing, ESC drives the
 * terminal that shows it, and no Debian package ships one: lintian), or a
 * path over the limits (whole: only when full, a normalised path; the raw
 * member name's "./" and "//" do not count).  what: "name" or "symlink
 * target". */
static int name_limits(const char *s, const char *what, bool full, perr *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t depth = 0, comp = 0;
	strbuf q = STRBUF_INIT;
	const char *why = NULL;

	for (; *p && !why; p++) {
		if (*p < 0x20 || *p == 0x7f)
			why = "has a control character";
		else if (*p == '/')
			comp = 0;
		else if (++comp == 1)
			depth++;
		if (comp > POLICY_NAME_MAX)
			why = "has a component longer than 255 bytes (NAME_MAX)";
		else if (full && depth > POLICY_DEPTH_MAX)
			why = "is more than 256 levels deep";
	}
	if (!why && full && (size_t)((const char *)p - s) >= POLICY_PATH_MAX)
		why = "is longer than 4095 bytes (PATH_MAX)";
	if (!why)
		return 0;
	policy_quote(&q, s);
	perr_set(e, "%s '%s' %s", what, sb_str(&q), why);
	sb_release(&q);
	return -1;
}

/* Split on '/', drop "" and ".", refuse "..", join as "/a/b" and rewrite
 * the merged-/usr prefixes.  Returns NULL for the root. */
static int norm_components(const char *s, char **out, perr *e)
{
	strbuf sb = STRBUF_INIT;
	const char *p = s;
	bool first = true;

	*out = NULL;
	if (name_limits(s, "name", false, e) < 0)
		return -1;
	if (!utf8_valid(s))
		return perr_set(e, "'%s' is not a UTF-8 name", s);
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);

		if (n == 2 && !strncmp(p, "..", 2)) {
			sb_release(&sb);
			return perr_set(e, "'..' component in '%s'", s);
		}
		if (n && !(n == 1 && *p == '.')) {
			if (first && is_usrmerge_dir(p, n))
				sb_adds(&sb, "/usr");
			first = false;
			sb_addc(&sb, '/');
			sb_add(&sb, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	/* the merged-/usr rewrite adds 4 bytes and a level */
	if (sb.len && name_limits(sb.buf, "name", true, e) < 0) {
		sb_release(&sb);
		return -1;
	}
	if (sb.len)
		*out = sb_detach(&sb);
	return 0;
}

int policy_norm_name(const char *name, char **out, perr *e)
{
	*out = NULL;
	if (!name || !*name)
		return perr_set(e, "empty file name");
	if (name[0] == '/')
		return perr_set(e, "absolute file name '%s'", name);
	return norm_components(name, out, e);
}

int policy_norm_abs(const char *path, char **out, perr *e)
{
	*out = NULL;
	if (!path || path[0] != '/')
		return perr_set(e, "path '%s' is not absolute", path ? path : "");
	if (norm_components(path, out, e) < 0)
		return -1;
	if (!*out)
		return perr_set(e, "path '%s' names the image root", path);
	return 0;
}

/* Lexically resolve rel from base (absolute, normalised or "/"); false when
 * ".." would climb above the root. */
static bool resolve_lexical(const char *base, const char *rel, strvec *comps)
{
	strvec parts = STRVEC_INIT;

	sv_split(comps, base, "/");
	sv_split(&parts, rel, "/");
	for (size_t i = 0; i < parts.n; i++) {
		if (!strcmp(parts.v[i], "."))
			continue;
		if (!strcmp(parts.v[i], "..")) {
			if (!comps->n) {
				sv_clear(&parts);
				return false;
			}
			free(comps->v[--comps->n]);
			continue;
		}
		sv_push(comps, parts.v[i]);
	}
	sv_clear(&parts);
	return true;
}

int policy_symlink_target(const char *linkpath, const char *target, char **out,
			  perr *e)
{
	strvec comps = STRVEC_INIT;
	char *dir = NULL;
	int ret = -1;

	*out = NULL;
	if (!target || !*target) {
		perr_set(e, "symlink with an empty target");
		goto out;
	}
	if (name_limits(target, "symlink target", true, e) < 0)
		goto out;
	if (!utf8_valid(target)) {
		perr_set(e, "symlink target '%s' is not UTF-8", target);
		goto out;
	}
	if (target[0] == '/') {
		strbuf sb = STRBUF_INIT;

		if (!resolve_lexical("/", target, &comps)) {
			perr_set(e, "symlink target '%s' leaves the image root", target);
			goto out;
		}
		/* Absolute targets get the same merged-/usr rewrite as paths,
		 * so they never depend on the /bin -> usr/bin links. */
		for (size_t i = 0; i < comps.n; i++) {
			if (i == 0 && is_usrmerge_dir(comps.v[0], strlen(comps.v[0])))
				sb_adds(&sb, "/usr");
			sb_addc(&sb, '/');
			sb_adds(&sb, comps.v[i]);
		}
		if (!sb.len)
			sb_addc(&sb, '/');
		*out = sb_detach(&sb);
	} else {
		/* Relative targets are resolved where the link really lives
		 * (after the rewrite), as the kernel would, and kept verbatim. */
		dir = path_dirname(linkpath);
		if (!resolve_lexical(dir, target, &comps)) {
			perr_set(e, "symlink target '%s' leaves the image root", target);
			goto out;
		}
		*out = xstrdup(target);
	}
	ret = 0;
out:
	sv_clear(&comps);
	free(dir);
	return ret;
}

static const char *match_any(const char *const *globs, const char *path)
{
	for (size_t i = 0; globs[i]; i++)
		if (!fnmatch(globs[i], path, 0))
			return globs[i];
	return NULL;
}

static const char *match_sv(const strvec *sv, const char *path)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!fnmatch(sv->v[i], path, 0))
			return sv->v[i];
	return NULL;
}

const char *policy_strip_rule(const struct policy *p, const char *path)
{
	const char *rule;

	if (p->r && match_sv(&p->r->keep, path))
		return NULL;
	if (p->r && (rule = match_sv(&p->r->strip, path)))
		return rule;
	if (match_any(default_keep, path))
		return NULL;
	if (p->ca_bundle && (rule = match_any(ca_strip, path)))
		return rule;
	return match_any(default_strip, path);
}

bool policy_stripped(const struct policy *p, const char *path)
{
	return policy_strip_rule(p, path) != NULL;
}

const char *policy_forbidden_kind(const char *path)
{
	const char *base = path_basename(path);

	for (size_t i = 0; shells[i]; i++)
		if (!strcmp(shells[i], base))
			return "shell";
	for (size_t i = 0; pkgmgrs[i]; i++)
		if (!fnmatch(pkgmgrs[i], base, 0))
			return "package-manager";
	return NULL;
}

const char *policy_forbidden_package(const char *name)
{
	for (size_t i = 0; shell_pkgs[i]; i++)
		if (!strcmp(shell_pkgs[i], name))
			return "shell";
	for (size_t i = 0; pkgmgr_pkgs[i]; i++)
		if (!strcmp(pkgmgr_pkgs[i], name))
			return "package-manager";
	return NULL;
}

void policy_path_perms(const struct policy *p, const char *path, int *mode,
		       int64_t *uid, int64_t *gid)
{
	*mode = -1;
	*uid = *gid = -1;
	if (!p->r)
		return;
	/* Later declarations win; exact matches and recursive prefixes apply.
	 * A recursive mode only applies to directories (a blanket 0755 would
	 * make every file executable); owners apply to the whole subtree. */
	for (size_t i = 0; i < p->r->npaths; i++) {
		const struct recipe_path *rp = &p->r->paths[i];
		size_t n = strlen(rp->path);
		bool exact = !strcmp(rp->path, path);
		bool below = rp->recursive && !strncmp(rp->path, path, n) &&
			     (path[n] == '/' || !strcmp(rp->path, "/"));

		if (rp->type == RPATH_SYMLINK || (!exact && !below))
			continue;
		if (rp->mode >= 0 && exact)
			*mode = rp->mode;
		else if (rp->mode >= 0 && below)
			*mode = rp->mode | 0x10000; /* marker: dirs only */
		if (rp->uid >= 0)
			*uid = rp->uid;
		if (rp->gid >= 0)
			*gid = rp->gid;
	}
}

int policy_apply(const struct policy *p, const char *pkg, struct tree_entry *ent,
		 perr *e)
{
	const char *kind = NULL;
	int mode;
	int64_t uid, gid;

	if ((ent->type == TREE_FILE && (ent->mode & 0111)) ||
	    ent->type == TREE_SYMLINK || ent->type == TREE_HARDLINK)
		kind = policy_forbidden_kind(ent->path);
	if (kind && !strcmp(kind, "shell") && !p->allow_shell)
		return perr_set(e, "%s: refusing %s: a shell is not allowed in the image "
				"(recipe allow: [shell] permits it)", pkg, ent->path);
	if (kind && !strcmp(kind, "package-manager") && !p->allow_pkgmgr)
		return perr_set(e, "%s: refusing %s: a package manager is not allowed in the "
				"image (recipe allow: [package-manager] permits it)", pkg,
				ent->path);
	if ((ent->mode & 06000) && !p->allow_setuid) {
		debug("%s: %s: dropping setuid/setgid bits", pkg, ent->path);
		ent->mode &= ~06000u;
	}
	if ((ent->mode & 0002) && strcmp(ent->path, "/tmp") &&
	    ent->type != TREE_SYMLINK)
		ent->mode &= ~0002u;
	ent->uid = ent->gid = 0;
	policy_path_perms(p, ent->path, &mode, &uid, &gid);
	if (mode >= 0 && (!(mode & 0x10000) || ent->type == TREE_DIR))
		ent->mode = (uint32_t)mode & 07777;
	if (uid >= 0)
		ent->uid = (uint32_t)uid;
	if (gid >= 0)
		ent->gid = (uint32_t)gid;
	return 0;
}
