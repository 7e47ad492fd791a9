/*
 * repo.c - verified repository metadata: InRelease -> Release -> Packages.
 *
 * Trust flows one way, as in apt: gpgv checks the InRelease signature
 * against the recipe's keyring; only the text gpgv extracted from inside
 * the signature is parsed (bytes around a clearsigned block are attacker
 * controlled); every Packages index is checked against the size and
 * SHA256 that text lists before it is decompressed.  On top of apt, pare
 * refuses a Release older than the one recorded in recipes.lock (a
 * mirror replaying old, validly signed metadata), and an expired one.
 *
 * Cache (under pare_cache_dir()):
 *   release/<sha256(url SP suite)>/{InRelease | Release Release.gpg}
 *       the signed files as fetched; re-verified on every use.
 *   solv/<sha256 of the index file>.solv
 *       a Packages index already parsed by libsolv, keyed by the hash a
 *       verified Release lists, so an unchanged index is neither fetched
 *       nor parsed again.
 */
#define _GNU_SOURCE
#include "resolver_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <solv/knownid.h>
#include <solv/repodata.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>

extern char **environ;

#define RELEASE_MAX ((size_t)64 << 20)
#define INDEX_MAX ((size_t)1 << 30)
/* bumped when packages_add() stores something new in the .solv */
#define SOLV_CACHE_VERSION "v4"

void release_release(struct release *rel)
{
	free(rel->url);
	free(rel->suite);
	sv_clear(&rel->components);
	free(rel->meta.origin);
	free(rel->meta.label);
	free(rel->meta.suite);
	free(rel->meta.codename);
	free(rel->meta.date);
	free(rel->meta.inrelease_sha256);
	free(rel->meta.component);
	free(rel->meta.url);
	for (size_t i = 0; i < rel->nfiles; i++)
		free(rel->files[i].path);
	free(rel->files);
	free(rel->where);
	memset(rel, 0, sizeof(*rel));
}

/* ---- keyrings --------------------------------------------------------- */

static const char *apt_dir(void)
{
	const char *d = getenv("PARE_APT_DIR");
	return d && *d ? d : "/etc/apt";
}

static int spawn_wait(char *const argv[], const char *out, const char *err,
		      int status_fd_file, int *exitcode, perr *e)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err ? err : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (status_fd_file >= 0)
		posix_spawn_file_actions_adddup2(&fa, status_fd_file, 3);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return perr_errno(e, "cannot run %s", argv[0]);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return perr_errno(e, "waitpid %s", argv[0]);
	*exitcode = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* gpgv reads binary keyrings only; apt also accepts ASCII-armored *.asc. */
static int keyring_for_gpgv(const char *path, const char *tmpdir, int *seq,
			    strvec *out, perr *e)
{
	char head[64] = "";
	FILE *f = fopen(path, "r");
	int code;

	if (!f)
		return perr_errno(e, "keyring '%s'", path);
	size_t n = fread(head, 1, sizeof(head) - 1, f);
	head[n] = '\0';
	fclose(f);
	if (!str_starts(head, "-----BEGIN PGP")) {
		sv_push(out, path);
		return 0;
	}
	char *dst = xasprintf("%s/keyring-%d.gpg", tmpdir, (*seq)++);
	char *argv[] = { "gpg", "--batch", "--no-options", "--yes", "--dearmor",
			 "-o", dst, (char *)path, NULL };
	if (spawn_wait(argv, NULL, NULL, -1, &code, e) < 0 || code != 0) {
		if (code != 0)
			perr_set(e, "gpg --dearmor failed on keyring '%s'", path);
		free(dst);
		return -1;
	}
	sv_push_nodup(out, dst);
	return 0;
}

/* The recipe's keyring, or every keyring apt trusts. */
static int gather_keyrings(const char *keyring, const char *tmpdir, strvec *out,
			   char **desc, perr *e)
{
	strvec found = STRVEC_INIT;
	char *dir = NULL, *single = NULL;
	int seq = 0, ret = -1;
	DIR *d;

	if (keyring) {
		*desc = xstrdup(keyring);
		ret = keyring_for_gpgv(keyring, tmpdir, &seq, out, e);
		goto out;
	}
	dir = xasprintf("%s/trusted.gpg.d", apt_dir());
	single = xasprintf("%s/trusted.gpg", apt_dir());
	*desc = xasprintf("the keyrings trusted by apt (%s)", apt_dir());
	if (path_exists(single))
		sv_push(&found, single);
	if ((d = opendir(dir))) {
		struct dirent *de;
		strvec names = STRVEC_INIT;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' &&
			    (str_ends(de->d_name, ".gpg") || str_ends(de->d_name, ".asc")))
				sv_pushf(&names, "%s/%s", dir, de->d_name);
		closedir(d);
		sv_sort(&names);
		sv_copy(&found, &names);
		sv_clear(&names);
	}
	if (!found.n) {
		perr_set(e, "no trusted keyrings in %s (trusted.gpg, trusted.gpg.d/)", apt_dir());
		goto out;
	}
	for (size_t i = 0; i < found.n; i++)
		if (keyring_for_gpgv(found.v[i], tmpdir, &seq, out, e) < 0)
			goto out;
	ret = 0;
out:
	sv_clear(&found);
	free(dir);
	free(single);
	return ret;
}

/* ---- gpgv ----------------------------------------------------------------- */

static char *first_line(const char *s)
{
	while (*s == '\n')
		s++;
	const char *nl = strchr(s, '\n');
	return nl ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
}

/*
 * Verify sig (clearsigned when data is NULL, else detached over data)
 * with gpgv; on success the signed text is in *text.  Success needs both
 * GOODSIG and VALIDSIG on the status fd and exit status 0, exactly what
 * apt requires; anything else is explained from the status keywords.
 */
static int gpgv_verify(const char *where, const char *keyring, const strbuf *sig,
		       const strbuf *data, strbuf *text, perr *e)
{
	char tmpl[] = "/tmp/pare-gpgv.XXXXXX";
	char *tmpdir = NULL, *sigf = NULL, *dataf = NULL, *outf = NULL, *errf = NULL,
	     *statf = NULL, *desc = NULL;
	strvec argv = STRVEC_INIT, keyrings = STRVEC_INIT;
	strbuf status = STRBUF_INIT, err = STRBUF_INIT;
	bool goodsig = false, validsig = false;
	char *bad = NULL, *nokey = NULL, *why = NULL;
	int code = -1, sfd = -1, ret = -1;
	perr e2;

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir) {
		perr_errno(e, "mkdtemp %s", tmpl);
		goto out;
	}
	if (gather_keyrings(keyring, tmpdir, &keyrings, &desc, e) < 0)
		goto out_prefix;
	sigf = path_join(tmpdir, data ? "Release.gpg" : "InRelease");
	outf = path_join(tmpdir, "signed-text");
	errf = path_join(tmpdir, "stderr");
	statf = path_join(tmpdir, "status");
	/* gpgv's inputs, in a private directory removed below: no fsync */
	if (write_file_scratch(sigf, sig->buf, sig->len, 0600, e) < 0)
		goto out;
	if (data) {
		dataf = path_join(tmpdir, "Release");
		if (write_file_scratch(dataf, data->buf, data->len, 0600, e) < 0)
			goto out;
	}
	sfd = open(statf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (sfd < 0) {
		perr_errno(e, "%s", statf);
		goto out;
	}
	sv_push(&argv, "gpgv");
	sv_push(&argv, "--homedir");
	sv_push(&argv, tmpdir);
	sv_push(&argv, "--status-fd");
	sv_push(&argv, "3");
	if (!data) {
		sv_push(&argv, "--output");
		sv_push(&argv, outf);
	}
	for (size_t i = 0; i < keyrings.n; i++) {
		sv_push(&argv, "--keyring");
		sv_push(&argv, keyrings.v[i]);
	}
	sv_push(&argv, sigf);
	if (data)
		sv_push(&argv, dataf);
	ALLOC_GROW(argv.v, argv.n + 1, argv.alloc);
	argv.v[argv.n] = NULL;
	if (spawn_wait(argv.v, NULL, errf, sfd, &code, e) < 0) {
		perr_prefix(e, "%s: gpgv (apt-get install gpgv)", where);
		goto out;
	}
	close(sfd);
	sfd = -1;
	if (read_file(statf, &status, 1 << 20, &e2) < 0 || read_file(errf, &err, 1 << 20, &e2) < 0) {
		perr_set(e, "%s: %s", where, e2.msg);
		goto out;
	}
	/* "[GNUPG:] KEYWORD ARGS" lines (doc/DETAILS in GnuPG) */
	for (char *l = status.buf; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (str_starts(l, "[GNUPG:] ")) {
			char *kw = l + 9, *args = strchr(kw, ' ');
			if (args)
				*args++ = '\0';
			if (!strcmp(kw, "GOODSIG"))
				goodsig = true;
			else if (!strcmp(kw, "VALIDSIG"))
				validsig = true;
			else if (!strcmp(kw, "BADSIG") && !bad)
				bad = xasprintf("BADSIG %s", args ? args : "");
			else if ((!strcmp(kw, "EXPKEYSIG") || !strcmp(kw, "REVKEYSIG") ||
				  !strcmp(kw, "EXPSIG")) && !bad)
				bad = xasprintf("%s %s", kw, args ? args : "");
			else if (!strcmp(kw, "NO_PUBKEY") && !nokey)
				nokey = xstrdup(args ? args : "?");
			else if (!strcmp(kw, "NODATA") && !bad)
				bad = xstrdup("no signature found");
			else if (!strcmp(kw, "ERRSIG") && !bad && !nokey) {
				/* ERRSIG keyid algo hash class time rc; rc 9 = no key */
				strvec f = STRVEC_INIT;
				sv_split(&f, args ? args : "", " ");
				if (f.n >= 6 && !strcmp(f.v[5], "9"))
					nokey = xstrdup(f.v[0]);
				else
					bad = xasprintf("ERRSIG %s", args ? args : "");
				sv_clear(&f);
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	if (bad) {
		perr_set(e, "%s: bad OpenPGP signature (%s)", where, str_trim(bad));
		goto out;
	}
	if (nokey) {
		perr_set(e, "%s: not signed by a key in %s (signing key %s)", where, desc, nokey);
		goto out;
	}
	if (!goodsig || !validsig || code != 0) {
		why = first_line(sb_str(&err));
		perr_set(e, "%s: bad OpenPGP signature (gpgv exit status %d%s%s)", where,
			 code, *why ? ": " : "", why);
		goto out;
	}
	if (!data) {
		if (read_file(outf, text, RELEASE_MAX, e) < 0)
			goto out_prefix;
	} else {
		sb_add(text, data->buf, data->len);
	}
	ret = 0;
	goto out;
out_prefix:
	perr_prefix(e, "%s", where);
out:
	if (sfd >= 0)
		close(sfd);
	if (tmpdir) {
		perr e3;
		rm_rf(tmpdir, &e3);
	}
	free(sigf), free(dataf), free(outf), free(errf), free(statf), free(desc);
	free(bad), free(nokey), free(why);
	sv_clear(&argv);
	sv_clear(&keyrings);
	sb_release(&status);
	sb_release(&err);
	return ret;
}

/* The next line of [p, end) (without its "\n" or "\r\n") in *l, *n. */
static const char *next_line(const char *p, const char *end, const char **l, size_t *n)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *le = nl ? nl : end;

	*l = p;
	*n = (size_t)(le - p) - (le > p && le[-1] == '\r');
	return nl ? nl + 1 : end;
}

static bool line_is(const char *l, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(l, s, n);
}

static bool line_blank(const char *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] != ' ' && l[i] != '\t')
			return false;
	return true;
}

/* An InRelease is one clearsigned message and nothing else: gpgv checks
 * what is inside and ignores text around it, which a reader of the file
 * (or a tool that does not extract the signed text) would take as the
 * archive's.  apt refuses it too ("does not start with a signed message
 * block", "contains unsigned lines"); blank lines around are fine. */
static int clearsign_framing(const char *where, const strbuf *in, perr *e)
{
	const char *p = in->buf ? in->buf : "", *end = p + in->len, *l;
	size_t n;
	int state = 0; /* 0 before the message, 1 in it, 2 in the signature, 3 after */

	if (memchr(p, '\0', in->len))
		return perr_set(e, "%s: InRelease holds a NUL byte", where);
	while (p < end) {
		p = next_line(p, end, &l, &n);
		switch (state) {
		case 0:
			if (line_is(l, n, "-----BEGIN PGP SIGNED MESSAGE-----"))
				state = 1;
			else if (!line_blank(l, n))
				return perr_set(e, "%s: InRelease has unsigned text before the signed message",
						where);
			break;
		case 1:
			if (line_is(l, n, "-----BEGIN PGP SIGNATURE-----"))
				state = 2;
			break;
		case 2:
			if (line_is(l, n, "-----END PGP SIGNATURE-----"))
				state = 3;
			break;
		default:
			if (!line_blank(l, n))
				return perr_set(e, "%s: InRelease has unsigned text after the signature",
						where);
		}
	}
	if (state == 0)
		return perr_set(e, "%s: InRelease is not a clearsigned message", where);
	if (state != 3)
		return perr_set(e, "%s: InRelease has no (complete) signature block", where);
	return 0;
}

/* The cleartext of an InRelease without checking it (trusted: true only):
 * RFC 4880 section 7, dash-escaped lines between the header and the
 * signature. */
int release_clearsign_text(const char *where, const strbuf *in, strbuf *text, perr *e)
{
	const char *p, *body;

	if (clearsign_framing(where, in, e) < 0)
		return -1;
	p = strstr(sb_str(in), "-----BEGIN PGP SIGNED MESSAGE-----");
	body = strstr(p, "\n\n");
	if (!body)
		return perr_set(e, "%s: InRelease has no message body", where);
	for (p = body + 2; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (str_starts(p, "-----BEGIN PGP SIGNATURE-----"))
			return 0;
		if (str_starts(p, "- "))
			sb_add(text, p + 2, len - 2);
		else
			sb_add(text, p, len);
		p += len;
	}
	return perr_set(e, "%s: InRelease has no signature block", where);
}

/* ---- Release parsing --------------------------------------------------- */

/* How far a Release's Date may be ahead of the clock: PARE_MAX_CLOCK_SKEW
 * seconds, default apt's Acquire::Max-FutureTime. */
#define MAX_CLOCK_SKEW_DEFAULT 10

static int max_clock_skew(int64_t *out, perr *e)
{
	const char *v = getenv("PARE_MAX_CLOCK_SKEW");
	char *end;

	*out = MAX_CLOCK_SKEW_DEFAULT;
	if (!v || !*v)
		return 0;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	/* at most a year: beyond it, the check would be off */
	if (strspn(v, "0123456789") != strlen(v) || errno || *end || n > 31622400ULL)
		return perr_set(e, "PARE_MAX_CLOCK_SKEW='%s': not a number of seconds from 0 to "
				"31622400", v);
	*out = (int64_t)n;
	return 0;
}

/* The SHA256 field's continuation lines: "HEX SIZE PATH" each. */
static int release_sha256(struct release *rel, const char *v, size_t *alloc, perr *e)
{
	strvec lines = STRVEC_INIT;
	const char *nl = strchr(v, '\n');
	int ret = -1;

	if (nl)
		sv_split(&lines, nl + 1, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		strvec f = STRVEC_INIT;
		char *end;
		sv_split(&f, lines.v[i], " \t");
		/* digits only: strtoull would take "-1" as 2^64-1 */
		if (f.n != 3 || !is_sha256_hex(f.v[0]) ||
		    strspn(f.v[1], "0123456789") != strlen(f.v[1]) ||
		    (errno = 0, strtoull(f.v[1], &end, 10), *end || errno)) {
			perr_set(e, "%s: Release: malformed SHA256 line '%s'", rel->where,
				 lines.v[i]);
			sv_clear(&f);
			goto out;
		}
		ALLOC_GROW(rel->files, rel->nfiles + 1, *alloc);
		struct release_file *rf = &rel->files[rel->nfiles++];
		rf->path = xstrdup(f.v[2]);
		rf->size = strtoull(f.v[1], NULL, 10);
		memcpy(rf->sha256, f.v[0], sizeof(rf->sha256));
		sv_clear(&f);
	}
	ret = 0;
out:
	sv_clear(&lines);
	return ret;
}

int release_parse(struct release *rel, const char *text, perr *e)
{
	/* one stanza (blank lines do not end it), stray lines skipped; a field
	 * given twice counts as its last one (Components: its first) */
	struct deb822_stanza st;
	size_t alloc = 0;
	char *valid_until = NULL;
	bool have_archs = false;
	int ret = -1;

	if (deb822_parse_one(rel->where, text, DEB822_SKIP_JUNK, &st, e) < 0)
		goto out;
	for (size_t i = 0; i < st.n; i++) {
		const char *l = st.f[i].name.buf;
		char *v = st.f[i].value.buf;
		char **slot = NULL;
		if (!strcasecmp(l, "SHA256")) {
			if (release_sha256(rel, v, &alloc, e) < 0)
				goto out;
			continue;
		}
		/* the other fields are one line */
		*strchrnul(v, '\n') = '\0';
		if (!strcasecmp(l, "Origin"))
			slot = &rel->meta.origin;
		else if (!strcasecmp(l, "Label"))
			slot = &rel->meta.label;
		else if (!strcasecmp(l, "Suite"))
			slot = &rel->meta.suite;
		else if (!strcasecmp(l, "Codename"))
			slot = &rel->meta.codename;
		else if (!strcasecmp(l, "Date"))
			slot = &rel->meta.date;
		else if (!strcasecmp(l, "Valid-Until"))
			slot = &valid_until;
		else if (!strcasecmp(l, "Architectures")) {
			strvec a = STRVEC_INIT;
			sv_split(&a, v, " ");
			rel->lists_all = sv_contains(&a, "all");
			have_archs = true;
			sv_clear(&a);
		} else if (!strcasecmp(l, "Acquire-By-Hash"))
			rel->by_hash = !strcasecmp(v, "yes");
		else if (!strcasecmp(l, "No-Support-for-Architecture-all"))
			rel->no_arch_all = !strcmp(v, "Packages");
		else if (!strcasecmp(l, "Components") && !rel->components.n)
			sv_split(&rel->components, v, " ");
		if (slot) {
			free(*slot);
			*slot = xstrdup(v);
		}
	}
	/* binary-all is an index of its own only when the Release says "all"
	 * is an architecture and does not fold it into binary-ARCH (apt) */
	if (!have_archs)
		rel->lists_all = true;
	if (rel->no_arch_all)
		rel->lists_all = false;
	if (!rel->meta.origin)
		rel->meta.origin = xstrdup("");
	if (!rel->meta.label)
		rel->meta.label = xstrdup("");
	if (!rel->meta.suite)
		rel->meta.suite = xstrdup("");
	if (!rel->meta.codename)
		rel->meta.codename = xstrdup("");
	if (!rel->meta.date) {
		perr_set(e, "%s: Release has no Date field (needed to detect rollbacks)",
			 rel->where);
		goto out;
	}
	if (parse_rfc2822(rel->meta.date, &rel->meta.date_epoch) < 0) {
		perr_set(e, "%s: Release: unparsable Date '%s'", rel->where, rel->meta.date);
		goto out;
	}
	/* a Date in the future would be the rollback memory: every genuine
	 * Release after it would be refused as older (apt: Max-FutureTime) */
	int64_t skew;
	if (max_clock_skew(&skew, e) < 0)
		goto out;
	if (rel->meta.date_epoch > (int64_t)time(NULL) + skew) {
		perr_set(e, "%s: Release Date %s is in the future (more than %lld s ahead of this "
			 "machine's clock; PARE_MAX_CLOCK_SKEW)", rel->where, rel->meta.date,
			 (long long)skew);
		goto out;
	}
	/* A Release signed for another suite must not stand in for this one. */
	if (strcmp(rel->suite, rel->meta.suite) && strcmp(rel->suite, rel->meta.codename)) {
		perr_set(e, "%s: Release is for suite '%s' (codename '%s'), not '%s'",
			 rel->where, rel->meta.suite, rel->meta.codename, rel->suite);
		goto out;
	}
	if (valid_until) {
		int64_t vu;
		if (parse_rfc2822(valid_until, &vu) < 0) {
			perr_set(e, "%s: Release: unparsable Valid-Until '%s'", rel->where,
				 valid_until);
			goto out;
		}
		if (vu < (int64_t)time(NULL)) {
			perr_set(e, "%s: Release expired on %s (Valid-Until)", rel->where,
				 valid_until);
			goto out;
		}
	}
	ret = 0;
out:
	free(valid_until);
	deb822_stanza_release(&st);
	return ret;
}

/* Rollback protection: the lock remembers the Date of every Release it was
 * made from; an older one for the same origin, suite and codename is a
 * replay (or a stale mirror) and is refused. */
static int check_rollback(const struct release *rel, const struct lock *prev, perr *e)
{
	if (!prev)
		return 0;
	for (size_t i = 0; i < prev->nrecipes; i++) {
		const struct lock_recipe *lr = &prev->recipes[i];
		for (size_t j = 0; j < lr->nrepos; j++) {
			const struct lock_repo *p = &lr->repos[j];
			if (strcmp(p->origin, rel->meta.origin) || strcmp(p->suite, rel->meta.suite) ||
			    strcmp(p->codename, rel->meta.codename))
				continue;
			if (rel->meta.date_epoch < p->date_epoch)
				return perr_set(e, "%s: Release Date %s is older than %s in recipes.lock: refusing a rollback",
						rel->where, rel->meta.date, p->date);
		}
	}
	return 0;
}

/* ---- fetching and caching ---------------------------------------------- */

static char *release_cache_dir(const char *url, const char *suite)
{
	char hex[SHA256_HEX_LEN + 1];
	char *key = xasprintf("%s %s", url, suite), *d;

	sha256_hex(key, strlen(key), hex);
	d = xasprintf("%s/release/%s", pare_cache_dir(), hex);
	free(key);
	return d;
}

static int cache_store(const char *dir, const strbuf *inrelease, const strbuf *release,
		       const strbuf *gpg, perr *e)
{
	char *a = path_join(dir, "InRelease"), *b = path_join(dir, "Release"),
	     *c = path_join(dir, "Release.gpg");
	int ret = -1;

	if (mkdir_p(dir, 0755, e) < 0)
		goto out;
	/* most runs fetch what is cached already: no rewrite, no fsync */
	if (inrelease) {
		if (write_file_changed(a, inrelease->buf, inrelease->len, 0644, e) < 0)
			goto out;
		unlink(b), unlink(c);
	} else {
		if (write_file_changed(b, release->buf, release->len, 0644, e) < 0 ||
		    (gpg && write_file_changed(c, gpg->buf, gpg->len, 0644, e) < 0))
			goto out;
		unlink(a);
		if (!gpg)
			unlink(c); /* never pair a Release with an older signature */
	}
	ret = 0;
out:
	free(a), free(b), free(c);
	return ret;
}

int release_load(const struct recipe_repo *rr, const char *suite,
		 const struct resolve_opts *o, struct release *out, perr *e)
{
	strbuf inrel = STRBUF_INIT, rel = STRBUF_INIT, gpg = STRBUF_INIT, text = STRBUF_INIT;
	char *cdir = release_cache_dir(rr->url, suite), *u = NULL, *p = NULL;
	char hex[SHA256_HEX_LEN + 1];
	bool have_inrel = false, have_gpg = false, nf = false;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->url = xstrdup(rr->url);
	out->suite = xstrdup(suite);
	out->where = xasprintf("repository %s %s", rr->url, suite);
	sv_copy(&out->components, &rr->components);

	if (o && o->offline) {
		p = path_join(cdir, "InRelease");
		if (path_exists(p)) {
			if (read_file(p, &inrel, RELEASE_MAX, e) < 0)
				goto out_prefix;
			have_inrel = true;
		} else {
			free(p);
			p = path_join(cdir, "Release");
			if (!path_exists(p)) {
				perr_set(e, "%s: no cached Release (--offline needs one earlier 'pare lock' with network)",
					 out->where);
				goto out;
			}
			if (read_file(p, &rel, RELEASE_MAX, e) < 0)
				goto out_prefix;
			free(p);
			p = path_join(cdir, "Release.gpg");
			if (path_exists(p)) {
				if (read_file(p, &gpg, RELEASE_MAX, e) < 0)
					goto out_prefix;
				have_gpg = true;
			}
		}
	} else {
		/* trusted: the plain Release is enough; else InRelease first */
		if (!rr->trusted) {
			u = xasprintf("%s/dists/%s/InRelease", rr->url, suite);
			if (fetch_to_buf(u, &inrel, RELEASE_MAX, &nf, e) == 0)
				have_inrel = true;
			else if (!nf)
				goto out_prefix;
			free(u);
			u = NULL;
		}
		if (!have_inrel) {
			u = xasprintf("%s/dists/%s/Release", rr->url, suite);
			if (fetch_to_buf(u, &rel, RELEASE_MAX, &nf, e) < 0) {
				if (nf && rr->trusted) {
					/* a trusted repo with an InRelease only */
					free(u);
					u = xasprintf("%s/dists/%s/InRelease", rr->url, suite);
					if (fetch_to_buf(u, &inrel, RELEASE_MAX, &nf, e) < 0)
						goto out_prefix;
					have_inrel = true;
				} else if (nf) {
					perr_set(e, "%s: no InRelease or Release file", out->where);
					goto out;
				} else {
					goto out_prefix;
				}
			}
			if (!have_inrel && !rr->trusted) {
				free(u);
				u = xasprintf("%s/dists/%s/Release.gpg", rr->url, suite);
				if (fetch_to_buf(u, &gpg, RELEASE_MAX, &nf, e) == 0)
					have_gpg = true;
				else if (!nf)
					goto out_prefix;
			}
		}
	}

	if (rr->trusted) {
		/* the caller warns, in list order (releases load in parallel) */
		if (have_inrel) {
			if (release_clearsign_text(out->where, &inrel, &text, e) < 0)
				goto out;
		} else {
			sb_add(&text, rel.buf, rel.len);
		}
	} else if (have_inrel) {
		if (clearsign_framing(out->where, &inrel, e) < 0 ||
		    gpgv_verify(out->where, rr->keyring, &inrel, NULL, &text, e) < 0)
			goto out;
	} else if (have_gpg) {
		if (gpgv_verify(out->where, rr->keyring, &gpg, &rel, &text, e) < 0)
			goto out;
	} else {
		perr_set(e, "%s: is not signed (no InRelease, and no Release.gpg next to Release)",
			 out->where);
		goto out;
	}
	if (have_inrel)
		sha256_hex(inrel.buf, inrel.len, hex);
	else
		sha256_hex(rel.buf, rel.len, hex);
	out->meta.inrelease_sha256 = xstrdup(hex);
	out->meta.url = xstrdup(rr->url);
	if (release_parse(out, sb_str(&text), e) < 0)
		goto out;
	if (!out->components.n) {
		perr_set(e, "%s: no components named, and the Release lists none", out->where);
		goto out;
	}
	if (check_rollback(out, o ? o->previous : NULL, e) < 0)
		goto out;
	if (!(o && o->offline) &&
	    cache_store(cdir, have_inrel ? &inrel : NULL, &rel, have_gpg ? &gpg : NULL, e) < 0)
		goto out_prefix;
	ret = 0;
	goto out;
out_prefix:
	perr_prefix(e, "%s", out->where);
out:
	if (ret < 0)
		release_release(out);
	free(cdir), free(u), free(p);
	sb_release(&inrel), sb_release(&rel), sb_release(&gpg), sb_release(&text);
	return ret;
}

/*
 * A verified index, decompressed a block at a time as libsolv reads it
 * (libarchive's raw format with every filter: xz, gzip, or none).  Only
 * bytes whose size and SHA256 matched the Release ever reach it.  The
 * decompressed bytes are counted against max and, when the Release lists
 * the uncompressed index too, against its size: decompression stops at
 * that size.  (Its SHA256 is not checked: the compressed bytes are, and
 * hashing the 45 MB of Debian's main again costs 5 % of a cold lock's CPU.)
 */
struct index_stream {
	const char *name;
	strbuf *raw;                       /* compressed; released once spilled */
	struct archive *a;
	const struct release_file *plain;  /* NULL if the Release lists none */
	uint64_t total;
	size_t max;
};

static void index_stream_close(struct index_stream *s)
{
	if (s->a)
		archive_read_free(s->a);
	s->a = NULL;
	sb_release(s->raw);
}

static ssize_t index_next(void *ctx, const void **data, perr *e)
{
	struct index_stream *s = ctx;
	la_int64_t off;
	size_t size;
	int r;

	if (!s->a)
		return 0;
	do {
		r = archive_read_data_block(s->a, data, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK || off < 0 || (uint64_t)off != s->total)
			return perr_set(e, "%s: cannot decompress: %s", s->name,
					r != ARCHIVE_OK ? archive_error_string(s->a)
							: "unexpected block offset");
	} while (size == 0);
	if (r == ARCHIVE_EOF) {
		if (s->plain && s->total != s->plain->size)
			return perr_set(e, "%s: decompresses to %llu bytes, but the Release lists %llu for %s",
					s->name, (unsigned long long)s->total,
					(unsigned long long)s->plain->size, s->plain->path);
		index_stream_close(s);
		return 0;
	}
	if (size > s->max - s->total)
		return perr_set(e, "%s: decompresses to more than %zu bytes", s->name, s->max);
	if (s->plain && s->total + size > s->plain->size)
		return perr_set(e, "%s: decompresses to more than the %llu bytes the Release lists for %s",
				s->name, (unsigned long long)s->plain->size, s->plain->path);
	s->total += size;
	return (ssize_t)size;
}

/* The verified download moves to an unlinked file in the cache directory
 * and its memory goes back before libsolv starts growing: the compressed
 * index and libsolv's repo are never in memory together. */
static int spill(const char *name, strbuf *raw, int *fd, perr *e)
{
	char *tmpl = xasprintf("%s/index.XXXXXX", pare_cache_dir());
	int ret = -1;

	*fd = mkostemp(tmpl, O_CLOEXEC);
	if (*fd < 0) {
		perr_errno(e, "%s: cannot create '%s'", name, tmpl);
		goto out;
	}
	unlink(tmpl);
	if (write_all(*fd, raw->buf, raw->len) < 0) {
		perr_errno(e, "%s: cannot write '%s'", name, tmpl);
		goto out;
	}
	if (lseek(*fd, 0, SEEK_SET) < 0) {
		perr_errno(e, "%s: lseek '%s'", name, tmpl);
		goto out;
	}
	sb_release(raw);
	ret = 0;
out:
	free(tmpl);
	return ret;
}

int release_index_add(Repo *repo, const char *name, strbuf *raw,
	      const struct release_file *plain, size_t max, perr *e)
{
	struct index_stream s = { name, raw, archive_read_new(), plain, 0, max };
	struct index_source src = { index_next, &s };
	struct archive_entry *ent;
	int fd = -1, ret = -1;

	archive_read_support_filter_all(s.a);
	archive_read_support_format_raw(s.a);
	if (spill(name, raw, &fd, e) < 0)
		goto out;
	if (archive_read_open_fd(s.a, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(s.a, &ent) != ARCHIVE_OK) {
		perr_set(e, "%s: cannot decompress: %s", name, archive_error_string(s.a));
		goto out;
	}
	ret = packages_add_stream(repo, name, &src, e);
out:
	index_stream_close(&s);
	if (fd >= 0)
		close(fd);
	return ret;
}

const struct release_file *release_find_index(const struct release *rel,
					     const char *component, const char *arch)
{
	static const char *const ext[] = { ".xz", ".gz", "" };
	char *base = xasprintf("%s/binary-%s/Packages", component, arch);
	const struct release_file *found = NULL;

	for (size_t k = 0; k < ARRAY_SIZE(ext) && !found; k++)
		for (size_t i = 0; i < rel->nfiles; i++) {
			const char *p = rel->files[i].path;
			if (str_starts(p, base) && !strcmp(p + strlen(base), ext[k])) {
				found = &rel->files[i];
				break;
			}
		}
	free(base);
	return found;
}

/* Fetch one listed index file, by hash when the Release offers it, and
 * check it against the Release; 1 = got it, 0 = not there / did not
 * verify (msg says why), -1 = hard error. */
static int fetch_index(const struct release *rel, const struct release_file *rf,
		       bool by_hash, strbuf *raw, perr *e)
{
	char hex[SHA256_HEX_LEN + 1];
	char *url;
	bool nf = false;
	int ret = 0;

	if (by_hash) {
		/* Acquire-By-Hash: a file under its hash never changes, so a
		 * mirror updating between our InRelease and index fetches is
		 * no race (apt does the same) */
		char *dir = path_dirname(rf->path);
		url = xasprintf("%s/dists/%s/%s/by-hash/SHA256/%s", rel->url, rel->suite, dir,
				rf->sha256);
		free(dir);
	} else {
		url = xasprintf("%s/dists/%s/%s", rel->url, rel->suite, rf->path);
	}
	/* the Release says how big it is: one allocation of that size, not a
	 * buffer doubled up to twice as much (an absurd size is not believed:
	 * the download is refused when it stops short of it) */
	sb_release(raw);
	if (rf->size <= INDEX_MAX) {
		raw->buf = xmalloc((size_t)rf->size + 1);
		raw->alloc = (size_t)rf->size + 1;
		raw->buf[0] = '\0';
	}
	if (fetch_to_buf(url, raw, rf->size + 1, &nf, e) < 0) {
		if (strstr(e->msg, "larger than"))
			perr_set(e, "%s: %s: size mismatch (more than the %llu bytes the Release lists)",
				 rel->where, rf->path, (unsigned long long)rf->size);
		else if (!nf)
			ret = -1;
		goto out;
	}
	if (raw->len != rf->size) {
		perr_set(e, "%s: %s: size mismatch (Release lists %llu bytes, got %zu)", rel->where,
			 rf->path, (unsigned long long)rf->size, raw->len);
		goto out;
	}
	sha256_hex(raw->buf, raw->len, hex);
	if (strcmp(hex, rf->sha256)) {
		perr_set(e, "%s: %s: sha256 mismatch (Release lists %s, got %s)", rel->where,
			 rf->path, rf->sha256, hex);
		goto out;
	}
	ret = 1;
out:
	free(url);
	return ret;
}

/* The .solv keeps what resolving and locking read; descriptions are most
 * of an index's bytes and would only slow every warm load down. */
static int solv_keyfilter(Repo *repo, Repokey *key, void *kfdata)
{
	if (key->name == SOLVABLE_DESCRIPTION || key->name == SOLVABLE_SUMMARY ||
	    key->name == SOLVABLE_URL)
		return KEY_STORAGE_DROPPED;
	/* what only the closure's few packages need is stored "vertically":
	 * repo_add_solv pages it in on first lookup instead of decoding it for
	 * every package of the index (strings and hashes only: libsolv cannot
	 * page pool ids) */
	if (key->name == SOLVABLE_MEDIAFILE || key->name == SOLVABLE_CHECKSUM ||
	    key->name == SOLVABLE_PACKAGER)
		return KEY_STORAGE_VERTICAL_OFFSET;
	return repo_write_stdkeyfilter(repo, key, kfdata);
}

static int write_solv(FILE *fp, void *arg, perr *e)
{
	Repo *repo = arg;
	Repowriter *w = repowriter_create(repo);
	int wrc;

	/* repowriter_write writes in small pieces */
	setvbuf(fp, NULL, _IOFBF, 1 << 16);
	repowriter_set_keyfilter(w, solv_keyfilter, NULL);
	wrc = repowriter_write(w, fp);
	repowriter_free(w);
	if (wrc != 0)
		return perr_set(e, "cannot serialise: %s", pool_errstr(repo->pool));
	return 0;
}

void release_cache_roots(const struct release *rel, const char *arch, strvec *out)
{
	char *cdir = release_cache_dir(rel->url, rel->suite);

	sv_pushf(out, "release/%s", path_basename(cdir));
	free(cdir);
	for (size_t c = 0; c < rel->components.n; c++) {
		const char *archs[2] = { arch, "all" };

		for (int k = 0; k < 2; k++) {
			const struct release_file *rf =
				release_find_index(rel, rel->components.v[c], archs[k]);

			/* as load_pool: binary-all only when the Release lists it apart */
			if (rf && (k == 0 || rel->lists_all))
				sv_pushf(out, "solv/%s-%s.solv", SOLV_CACHE_VERSION, rf->sha256);
		}
	}
}

int release_load_packages(const struct release *rel, const char *component,
			  const char *arch, bool offline, Repo *repo, perr *e)
{
	static const char *const ext[] = { ".xz", ".gz", "" };
	const struct release_file *rf = release_find_index(rel, component, arch);
	const struct release_file *plain = NULL, *used = NULL;
	strbuf raw = STRBUF_INIT;
	char *solvdir = NULL, *solvpath = NULL, *name = NULL;
	FILE *fp = NULL;
	int ret = -1, got = 0;

	if (!rf) {
		perr_set(e, "%s: the Release lists no %s/binary-%s/Packages index", rel->where,
			 component, arch);
		goto out;
	}
	/* keyed by the preferred file's hash: every variant the same signed
	 * Release lists decompresses to the same index */
	solvdir = xasprintf("%s/solv", pare_cache_dir());
	solvpath = xasprintf("%s/%s-%s.solv", solvdir, SOLV_CACHE_VERSION, rf->sha256);
	if ((fp = fopen(solvpath, "r"))) {
		/* repo_add_solv reads byte by byte: no stdio locking, big buffer */
		__fsetlocking(fp, FSETLOCKING_BYCALLER);
		setvbuf(fp, NULL, _IOFBF, 1 << 20);
		if (repo_add_solv(repo, fp, 0) == 0) {
			ret = 0;
			goto out;
		}
		/* a damaged cache entry is rebuilt, not trusted */
		debug("%s: unreadable, re-fetching: %s", solvpath, pool_errstr(repo->pool));
		repo_empty(repo, 1);
		fclose(fp);
		fp = NULL;
	}
	if (offline) {
		perr_set(e, "%s: %s is not cached (run 'pare lock' without --offline)",
			 rel->where, rf->path);
		goto out;
	}
	/* apt's order: by-hash, then the plain name; .xz, .gz, uncompressed */
	for (size_t k = 0; k < ARRAY_SIZE(ext) && !got; k++) {
		char *path = xasprintf("%s/binary-%s/Packages%s", component, arch, ext[k]);
		const struct release_file *cand = NULL;
		for (size_t i = 0; i < rel->nfiles; i++)
			if (!strcmp(rel->files[i].path, path))
				cand = &rel->files[i];
		free(path);
		if (!cand)
			continue;
		for (int bh = rel->by_hash ? 1 : 0; bh >= 0 && !got; bh--) {
			got = fetch_index(rel, cand, bh, &raw, e);
			if (got < 0)
				goto out;
		}
		if (got) {
			free(name);
			name = xasprintf("%s/dists/%s/%s", rel->url, rel->suite, cand->path);
			used = cand;
		}
	}
	/* the uncompressed index as the Release lists it, when we got a
	 * compressed one: its size bounds the decompression */
	if (got) {
		char *path = xasprintf("%s/binary-%s/Packages", component, arch);
		for (size_t i = 0; i < rel->nfiles; i++)
			if (!strcmp(rel->files[i].path, path) && &rel->files[i] != used)
				plain = &rel->files[i];
		free(path);
	}
	if (!got) {
		if (!e->msg[0])
			perr_set(e, "%s: %s/binary-%s/Packages: not found", rel->where, component, arch);
		goto out;
	}
	/* glibc raises its mmap threshold to the size of any mmapped block
	 * freed (the 10 MB download, here): libsolv's arrays, grown by
	 * realloc while it parses, would then come from the heap and leave
	 * holes the size of the index behind (105 instead of 77 MB peak RSS
	 * for Debian's main).  A fixed threshold keeps every block of 1 MiB
	 * or more mmapped: grown by mremap, returned when freed. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (release_index_add(repo, name, &raw, plain, INDEX_MAX, e) < 0)
		goto out;
	/* straight to the cache file: the .solv is never in memory whole */
	if (mkdir_p(solvdir, 0755, e) < 0)
		goto out;
	if (write_file_atomic_fn(solvpath, 0644, write_solv, repo, e) < 0) {
		perr_prefix(e, "%s", name);
		goto out;
	}
	ret = 0;
out:
	if (fp)
		fclose(fp);
	free(solvdir), free(solvpath), free(name);
	sb_release(&raw);
	return ret;
}
