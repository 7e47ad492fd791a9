/* verify.c - pare evidence --verify PACK: what a client runs on a pack it
 * received.  In order: MANIFEST.sha256's detached signature, then every
 * file against the manifest (none missing, none unlisted, each digest), then
 * every image's signatures and attestations (signer/ on the copied layout
 * without its layers).  The first bad file ends it, named in one line. */
#define _GNU_SOURCE
#include "evidence_int.h"
#include "../signer/signer.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every regular file under root (names relative to it) into files; anything
 * else (a symbolic link, a device) is an error naming it. */
static int walk(const char *root, const char *rel, strvec *files, perr *e)
{
	char *dir = *rel ? path_join(root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = -1;

	if (!d) {
		perr_errno(e, "%s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d))) {
		char *name, *full;
		struct stat st;
		int r = 0;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		name = *rel ? path_join(rel, de->d_name) : xstrdup(de->d_name);
		full = path_join(root, name);
		if (lstat(full, &st) < 0)
			r = perr_errno(e, "%s", full);
		else if (S_ISDIR(st.st_mode))
			r = walk(root, name, files, e);
		else if (S_ISREG(st.st_mode))
			sv_push(files, name);
		else
			r = perr_set(e, "%s: not a regular file", name);
		free(name), free(full);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	closedir(d);
	free(dir);
	return ret;
}

struct vctx {
	void (*fn)(const char *line, void *ctx);
	void *ctx;
	size_t nchecks;
};

static void say(struct vctx *v, const char *fmt, ...) PRINTF(2, 3);
static void say(struct vctx *v, const char *fmt, ...)
{
	strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!v->fn)
		return;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	v->fn(sb.buf, v->ctx);
	sb_release(&sb);
}

/* The public keys to check with: the ones given, else the pack's keys/. */
static void key_list(const char *root, const strvec *given, const strvec *files, strvec *out)
{
	if (given && given->n) {
		sv_copy(out, given);
		return;
	}
	for (size_t i = 0; i < files->n; i++)
		if (str_starts(files->v[i], "keys/"))
			sv_push_nodup(out, path_join(root, files->v[i]));
}

static int check_manifest_sig(const char *root, const strvec *keys, const char *manifest, size_t n,
			      struct vctx *v, perr *e)
{
	char *sp = path_join(root, EV_MANIFEST_SIG);
	strbuf sig = STRBUF_INIT;
	int ret = -1;

	if (!path_exists(sp)) {
		perr_set(e, "%s: missing: the pack is not signed (made without --sign-key)", EV_MANIFEST_SIG);
		goto out;
	}
	if (read_file(sp, &sig, 1 << 20, e) < 0)
		goto out;
	if (!keys->n) {
		perr_set(e, "%s: no key to check it with (give --key PUB; the pack has no keys/)", EV_MANIFEST_SIG);
		goto out;
	}
	for (size_t i = 0; i < keys->n && ret < 0; i++) {
		signer_key *k = NULL;
		perr e2;

		if (signer_load_public(keys->v[i], &k, e) < 0)
			goto out;
		if (signer_verify_bytes(k, manifest, n, sig.buf, sig.len, &e2) == 0) {
			say(v, "%s: the signature of %s verifies with %s (%s)", EV_MANIFEST_SIG, EV_MANIFEST,
			    keys->v[i], signer_key_name(k));
			ret = 0;
		}
		signer_key_free(k);
	}
	if (ret < 0)
		perr_set(e, "%s: does not match its signature %s with %s%s: one of them was changed",
			 EV_MANIFEST, EV_MANIFEST_SIG, keys->n > 1 ? "any of " : "", keys->v[0]);
out:
	free(sp);
	sb_release(&sig);
	return ret;
}

/* One "HEX  NAME" line of the manifest. */
static int manifest_line(const char *line, size_t lineno, char hex[SHA256_HEX_LEN + 1], const char **name,
			 perr *e)
{
	if (strlen(line) < SHA256_HEX_LEN + 3 || line[SHA256_HEX_LEN] != ' ' || line[SHA256_HEX_LEN + 1] != ' ')
		return perr_set(e, "%s:%zu: not 'SHA256  FILE'", EV_MANIFEST, lineno);
	memcpy(hex, line, SHA256_HEX_LEN);
	hex[SHA256_HEX_LEN] = '\0';
	if (!is_sha256_hex(hex))
		return perr_set(e, "%s:%zu: not 'SHA256  FILE'", EV_MANIFEST, lineno);
	*name = line + SHA256_HEX_LEN + 2;
	return 0;
}

static int check_files(const char *root, const char *manifest, const strvec *files, struct vctx *v,
		       perr *e)
{
	strvec lines = STRVEC_INIT, listed = STRVEC_INIT;
	int ret = -1;

	sv_split(&lines, manifest, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		char hex[SHA256_HEX_LEN + 1], got[SHA256_HEX_LEN + 1];
		const char *name = NULL;
		char *full;
		int r;

		if (manifest_line(lines.v[i], i + 1, hex, &name, e) < 0)
			goto out;
		if (i && strcmp(listed.v[listed.n - 1], name) >= 0) {
			perr_set(e, "%s:%zu: %s: not in sorted order, or listed twice", EV_MANIFEST, i + 1, name);
			goto out;
		}
		sv_push(&listed, name);
		if (!sv_contains(files, name)) {
			perr_set(e, "%s: listed in %s but missing", name, EV_MANIFEST);
			goto out;
		}
		full = path_join(root, name);
		r = sha256_file(full, got, NULL, e);
		free(full);
		if (r < 0)
			goto out;
		if (strcmp(got, hex)) {
			perr_set(e, "%s: its sha256 is %s, %s says %s: the file was changed", name, got,
				 EV_MANIFEST, hex);
			goto out;
		}
	}
	for (size_t i = 0; i < files->n; i++)
		if (strcmp(files->v[i], EV_MANIFEST) && strcmp(files->v[i], EV_MANIFEST_SIG) &&
		    !sv_contains(&listed, files->v[i])) {
			perr_set(e, "%s: not listed in %s: not part of the pack", files->v[i], EV_MANIFEST);
			goto out;
		}
	say(v, "%s: %zu files, every sha256 as listed, none missing, none extra", EV_MANIFEST, listed.n);
	ret = 0;
out:
	sv_clear(&lines);
	sv_clear(&listed);
	return ret;
}

static void count_check(const struct signer_check *c, void *ctx)
{
	(void)c;
	((struct vctx *)ctx)->nchecks++;
}

/* Each images/NAME/layout: signatures and attestations with one of keys. */
static int check_images(const char *root, const strvec *keys, const strvec *files, struct vctx *v,
			perr *e)
{
	strvec layouts = STRVEC_INIT;
	int ret = -1;

	for (size_t i = 0; i < files->n; i++) {
		const char *f = files->v[i];

		if (str_starts(f, "images/") && str_ends(f, "/layout/index.json"))
			sv_pushf(&layouts, "%.*s", (int)(strlen(f) - strlen("/index.json")), f);
	}
	for (size_t i = 0; i < layouts.n; i++) {
		char *dir = path_join(root, layouts.v[i]);
		bool ok = false;
		perr first;

		first.msg[0] = '\0';
		for (size_t k = 0; k < keys->n && !ok; k++) {
			perr e2;

			v->nchecks = 0;
			if (signer_verify_attached(dir, keys->v[k], count_check, v, &e2) == 0) {
				say(v, "%s: signatures and attestations verified with %s (%zu checks)", layouts.v[i],
				    keys->v[k], v->nchecks);
				ok = true;
			} else if (!k)
				first = e2;
		}
		free(dir);
		if (!ok) {
			if (!keys->n)
				perr_set(e, "%s: no key to verify its signatures with", layouts.v[i]);
			else
				perr_set(e, "%s: %s", layouts.v[i], first.msg);
			goto out;
		}
	}
	ret = 0;
out:
	sv_clear(&layouts);
	return ret;
}

static int verify_dir(const char *root, const strvec *given, struct vctx *v, perr *e)
{
	strvec files = STRVEC_INIT, keys = STRVEC_INIT;
	strbuf man = STRBUF_INIT;
	char *mp = path_join(root, EV_MANIFEST);
	int ret = -1;

	if (walk(root, "", &files, e) < 0)
		goto out;
	sv_sort(&files);
	if (!sv_contains(&files, EV_MANIFEST)) {
		perr_set(e, "%s: missing: not an evidence pack", EV_MANIFEST);
		goto out;
	}
	if (read_file(mp, &man, 0, e) < 0)
		goto out;
	key_list(root, given, &files, &keys);
	if (check_manifest_sig(root, &keys, man.buf, man.len, v, e) < 0 ||
	    check_files(root, man.buf, &files, v, e) < 0 || check_images(root, &keys, &files, v, e) < 0)
		goto out;
	if (!given || !given->n)
		say(v, "checked with the pack's own keys/ (give --key PUB to check whose key signed it)");
	ret = 0;
out:
	sv_clear(&files);
	sv_clear(&keys);
	sb_release(&man);
	free(mp);
	return ret;
}

int evidence_verify(const char *path, const strvec *keys, void (*fn)(const char *line, void *ctx),
		    void *ctx, perr *e)
{
	struct vctx v = { fn, ctx, 0 };
	struct stat st;
	char *tmp = NULL;
	int ret = -1, slot = -1;

	if (stat(path, &st) < 0)
		return perr_errno(e, "evidence: %s", path);
	if (S_ISDIR(st.st_mode)) {
		ret = verify_dir(path, keys, &v, e);
	} else {
		tmp = path_join(pare_cache_dir(), "evidence-verify.XXXXXX");
		if (mkdir_p(pare_cache_dir(), 0700, e) < 0)
			goto out;
		if (!mkdtemp(tmp)) {
			perr_errno(e, "%s", tmp);
			free(tmp);
			tmp = NULL;
			goto out;
		}
		slot = tmp_register(tmp);
		if (evidence_untar(path, tmp, e) == 0)
			ret = verify_dir(tmp, keys, &v, e);
	}
out:
	if (tmp) {
		perr e2;

		rm_rf(tmp, &e2);
		if (slot >= 0)
			tmp_unregister(slot);
		free(tmp);
	}
	if (ret < 0)
		perr_prefix(e, "evidence: %s", path);
	return ret;
}
