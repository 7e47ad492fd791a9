/*
 * Layer cache key.  A package layer is a pure function of its inputs: the
 * cache format, the policy that edits entries (recipe strip/keep/allow/paths),
 * compression and level, SOURCE_DATE_EPOCH, the architecture and the ordered
 * .deb digests of the layer's packages.  Hashing all of them (each field
 * length-prefixed so no two input lists hash alike) gives the key under
 * pare_cache_dir()/layers/ for a later build to reuse the layer without
 * reading the .debs.
 */
#include "builder_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <string.h>
#include <unistd.h>

/* 4: pgzip blocks, epoch out of the key; 5: gzip as 1 MiB libdeflate
 * members, records hold DT_NEEDED and stripped libraries; 6: tar end not
 * padded to 10 KiB; 7: records' ELF names read through the program headers
 * (a version-6 record may hold what lying section headers said, and a warm
 * build's link check trusts the record); 8: records hold the "#!" line of
 * scripts (the shebang check).  The libdeflate
 * version is part of it: another version may compress the same tar to
 * other bytes, and a cached layer must be what a fresh build on this
 * machine would write. */
#define LAYER_CACHE_VERSION "pare-layer-cache-8/libdeflate-" LIBDEFLATE_VERSION_STRING

static void put(phash *h, const char *tag, const char *s)
{
	char hdr[64];
	size_t n = s ? strlen(s) : 0;

	/* tag + length (or "-" for absent) make the encoding unambiguous */
	snprintf(hdr, sizeof(hdr), "%s:%zd:", tag, s ? (ssize_t)n : (ssize_t)-1);
	phash_update(h, hdr, strlen(hdr));
	if (n)
		phash_update(h, s, n);
}

static void put_sv(phash *h, const char *tag, const strvec *v)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", v ? v->n : 0);
	put(h, tag, num);
	for (size_t i = 0; v && i < v->n; i++)
		put(h, tag, v->v[i]);
}

void layer_cache_key(const struct policy *pol, const struct layer_opts *lo,
		     const char *arch, const char *const *deb_sha256, size_t ndebs,
		     char key[SHA256_HEX_LEN + 1])
{
	phash *h = phash_new("sha256");
	const struct recipe *r = pol ? pol->r : NULL;
	char num[64];

	put(h, "v", LAYER_CACHE_VERSION);
	put(h, "policy", PARE_POLICY_VERSION);
	put(h, "comp", lo && lo->compression ? lo->compression : "gzip");
	/* Not the epoch: the entry records it and the layer's newest mtime, and
	 * layer_from_cache decides whether the layer is the same under the
	 * current epoch (so a lock update that only moves the Date reuses it). */
	snprintf(num, sizeof(num), "%d", lo ? lo->level : 0);
	put(h, "level", num);
	put(h, "arch", arch);
	snprintf(num, sizeof(num), "%d%d%d%d", pol && pol->allow_shell, pol && pol->allow_pkgmgr,
		 pol && pol->allow_setuid, pol && pol->ca_bundle);
	put(h, "allowbits", num);
	put_sv(h, "strip", r ? &r->strip : NULL);
	put_sv(h, "keep", r ? &r->keep : NULL);
	put_sv(h, "allow", r ? &r->allow : NULL);
	snprintf(num, sizeof(num), "%zu", r ? r->npaths : 0);
	put(h, "npaths", num);
	for (size_t i = 0; r && i < r->npaths; i++) {
		const struct recipe_path *p = &r->paths[i];

		snprintf(num, sizeof(num), "%d/%d/%" PRId64 "/%" PRId64 "/%d", (int)p->type,
			 p->mode, p->uid, p->gid, (int)p->recursive);
		put(h, "path", p->path);
		put(h, "target", p->target);
		put(h, "perm", num);
	}
	snprintf(num, sizeof(num), "%zu", ndebs);
	put(h, "ndebs", num);
	for (size_t i = 0; i < ndebs; i++)
		put(h, "deb", deb_sha256[i]);
	phash_final_hex(h, key);
}

/* ---- layer metadata records ------------------------------------------------ */

/* Little-endian u64s and length-prefixed byte strings (UINT64_MAX = absent):
 * any bytes round-trip, and a reader checks every length against the end. */
#define LMETA_MAGIC "pare-layer-meta-2\n"
enum { LM_PKG = 1, LM_ENTRY, LM_PKG_END, LM_STRIPPED };

static void put_u64(strbuf *sb, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	sb_add(sb, b, 8);
}

static void put_bytes(strbuf *sb, const void *s, size_t n)
{
	put_u64(sb, s ? (uint64_t)n : UINT64_MAX);
	if (s && n)
		sb_add(sb, s, n);
}

static void put_str(strbuf *sb, const char *s)
{
	put_bytes(sb, s, s ? strlen(s) : 0);
}

void lmeta_begin(strbuf *rec)
{
	sb_adds(rec, LMETA_MAGIC);
}

void lmeta_put_pkg(strbuf *rec, const struct deb_pkg *p)
{
	put_u64(rec, LM_PKG);
	put_str(rec, p->control);
}

void lmeta_put_entry(strbuf *rec, const struct tree_entry *ent)
{
	bool content = ent->type == TREE_FILE && layer_keeps_content(ent->path);

	put_u64(rec, LM_ENTRY);
	put_str(rec, ent->path);
	put_u64(rec, (uint64_t)ent->type);
	put_u64(rec, ent->mode);
	put_u64(rec, ent->uid);
	put_u64(rec, ent->gid);
	put_u64(rec, (uint64_t)ent->mtime);
	put_u64(rec, ent->size);
	put_str(rec, ent->sha256);
	put_str(rec, ent->sha1);
	put_str(rec, ent->target);
	put_u64(rec, (uint64_t)ent->elf);
	put_str(rec, ent->soname);
	put_str(rec, ent->needed);
	put_str(rec, ent->runpath);
	put_str(rec, ent->interp);
	put_bytes(rec, content ? (const char *)ent->data : NULL, content ? ent->size : 0);
}

void lmeta_put_stripped(strbuf *rec, const struct tree_stripped *s)
{
	put_u64(rec, LM_STRIPPED);
	put_str(rec, s->path);
	put_str(rec, s->rule);
	put_bytes(rec, s->data, s->size);
}

void lmeta_put_pkg_end(strbuf *rec, const struct deb_pkg *p)
{
	put_u64(rec, LM_PKG_END);
	put_str(rec, p->md5sums);
	put_str(rec, p->copyright);
	put_str(rec, p->doc_link);
	put_str(rec, p->os_release);
	put_str(rec, p->deb_sha512);
}

struct lmeta_pkg {
	char *control, *md5sums, *copyright, *doc_link, *os_release, *sha512;
	struct tree_entry **ents;
	size_t nents, alloc;
	struct tree_stripped *stripped;
	size_t nstripped, salloc;
};

struct lmeta {
	struct lmeta_pkg *pkgs;
	size_t npkgs, alloc;
};

struct rd {
	const unsigned char *p;
	size_t n, off;
	bool bad;
};

static uint64_t get_u64(struct rd *r)
{
	uint64_t v = 0;

	if (r->bad || r->n - r->off < 8) {
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += 8;
	return v;
}

/* NUL-terminated copy (NULL when absent); *len its length. */
static char *get_bytes(struct rd *r, uint64_t *len)
{
	uint64_t n = get_u64(r);
	char *s;

	*len = 0;
	if (r->bad || n == UINT64_MAX)
		return NULL;
	if (n > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, r->p + r->off, (size_t)n);
	s[n] = '\0';
	r->off += (size_t)n;
	*len = n;
	return s;
}

static char *get_str(struct rd *r)
{
	uint64_t n;
	char *s = get_bytes(r, &n);

	if (s && strlen(s) != n) { /* an embedded NUL: not what was written */
		r->bad = true;
		free(s);
		return NULL;
	}
	return s;
}

static bool copy_hex(char *dst, size_t cap, char *src, bool may_be_empty)
{
	size_t n = src ? strlen(src) : 0;
	bool ok = src && n < cap && (n == cap - 1 || (may_be_empty && n == 0));

	if (ok)
		memcpy(dst, src, n + 1);
	free(src);
	return ok;
}

void lmeta_free(struct lmeta *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->npkgs; i++) {
		struct lmeta_pkg *p = &m->pkgs[i];

		free(p->control);
		free(p->md5sums);
		free(p->copyright);
		free(p->doc_link);
		free(p->os_release);
		free(p->sha512);
		for (size_t k = 0; k < p->nents; k++)
			tree_entry_free(p->ents[k]);
		free(p->ents);
		for (size_t k = 0; k < p->nstripped; k++) {
			free(p->stripped[k].path);
			free(p->stripped[k].rule);
			free(p->stripped[k].data);
		}
		free(p->stripped);
	}
	free(m->pkgs);
	free(m);
}

static struct tree_entry *get_entry(struct rd *r)
{
	struct tree_entry *ent = xcalloc(1, sizeof(*ent));
	uint64_t ty, elf, clen;
	char *data;

	ent->path = get_str(r);
	ty = get_u64(r);
	ent->mode = (uint32_t)get_u64(r);
	ent->uid = (uint32_t)get_u64(r);
	ent->gid = (uint32_t)get_u64(r);
	ent->mtime = (int64_t)get_u64(r);
	ent->size = get_u64(r);
	if (!copy_hex(ent->sha256, sizeof(ent->sha256), get_str(r), true) ||
	    !copy_hex(ent->sha1, sizeof(ent->sha1), get_str(r), true))
		r->bad = true;
	ent->target = get_str(r);
	elf = get_u64(r);
	ent->soname = get_str(r);
	ent->needed = get_str(r);
	ent->runpath = get_str(r);
	ent->interp = get_str(r);
	data = get_bytes(r, &clen);
	if (r->bad || !ent->path || ent->path[0] != '/' || ty > TREE_HARDLINK || elf > ELF_BAD ||
	    ((ty == TREE_SYMLINK || ty == TREE_HARDLINK) && !ent->target) ||
	    ((elf == ELF_SONAME || elf == ELF_BAD) && !ent->soname) ||
	    (ent->interp && (ty != TREE_FILE || strlen(ent->interp) > SHEBANG_MAX)) ||
	    (data && (ty != TREE_FILE || clen != ent->size))) {
		r->bad = true;
		free(data);
		tree_entry_free(ent);
		return NULL;
	}
	ent->type = (enum tree_type)ty;
	ent->elf = (enum tree_elf)elf;
	ent->data = (unsigned char *)data;
	return ent;
}

struct lmeta *lmeta_parse(const void *buf, size_t len, size_t npkgs)
{
	struct lmeta *m = xcalloc(1, sizeof(*m));
	struct rd r = { buf, len, 0, false };
	struct lmeta_pkg *cur = NULL;
	size_t ml = strlen(LMETA_MAGIC);

	if (len < ml || memcmp(buf, LMETA_MAGIC, ml))
		goto bad;
	r.off = ml;
	while (!r.bad && r.off < r.n) {
		uint64_t tag = get_u64(&r);

		if (tag == LM_PKG) {
			if (cur)
				goto bad; /* previous package not finished */
			ALLOC_GROW(m->pkgs, m->npkgs + 1, m->alloc);
			cur = &m->pkgs[m->npkgs++];
			memset(cur, 0, sizeof(*cur));
			if (!(cur->control = get_str(&r)))
				goto bad;
		} else if (tag == LM_ENTRY && cur) {
			struct tree_entry *ent = get_entry(&r);

			if (!ent)
				goto bad;
			ALLOC_GROW(cur->ents, cur->nents + 1, cur->alloc);
			cur->ents[cur->nents++] = ent;
		} else if (tag == LM_STRIPPED && cur) {
			struct tree_stripped *s;
			uint64_t dlen;

			ALLOC_GROW(cur->stripped, cur->nstripped + 1, cur->salloc);
			s = &cur->stripped[cur->nstripped++];
			memset(s, 0, sizeof(*s));
			s->path = get_str(&r);
			s->rule = get_str(&r);
			s->data = (unsigned char *)get_bytes(&r, &dlen);
			s->size = dlen;
			if (!s->path || s->path[0] != '/' || !s->rule)
				goto bad;
		} else if (tag == LM_PKG_END && cur) {
			cur->md5sums = get_str(&r);
			cur->copyright = get_str(&r);
			cur->doc_link = get_str(&r);
			cur->os_release = get_str(&r);
			cur->sha512 = get_str(&r);
			if (!cur->md5sums || !cur->sha512 || strlen(cur->sha512) != SHA512_HEX_LEN)
				goto bad;
			cur = NULL;
		} else {
			goto bad;
		}
	}
	if (r.bad || cur || m->npkgs != npkgs)
		goto bad;
	return m;
bad:
	lmeta_free(m);
	return NULL;
}

int lmeta_apply(struct image_tree *t, struct lmeta *m, const int *pkgidx, perr *e)
{
	int ret = -1;

	for (size_t k = 0; k < m->npkgs; k++) {
		struct lmeta_pkg *mp = &m->pkgs[k];
		int pi = pkgidx[k];
		struct deb_pkg *p = &t->pkgs[pi];
		const struct lock_pkg *lp = p->lp;

		p->control = mp->control;
		mp->control = NULL;
		if (deb_parse_control(p, p->control, e) < 0) {
			perr_prefix(e, "%s: layer cache record", lp ? lp->name : "?");
			goto out;
		}
		if (lp && strcmp(p->name, lp->name)) {
			perr_set(e, "%s: layer cache record holds package '%s'", lp->name, p->name);
			goto out;
		}
		for (size_t i = 0; i < mp->nents; i++) {
			struct tree_entry *ent = mp->ents[i];

			mp->ents[i] = NULL;
			ent->pkg = pi;
			ent->layer = p->layer;
			if (tree_insert(t, ent, e) < 0)
				goto out;
		}
		for (size_t i = 0; i < mp->nstripped; i++) {
			struct tree_stripped *s = &mp->stripped[i];

			tree_add_stripped(t, s->path, s->rule, pi, s->data, s->size);
			s->data = NULL;
		}
		p->md5sums = mp->md5sums;
		p->copyright = mp->copyright;
		p->doc_link = mp->doc_link;
		p->os_release = mp->os_release;
		mp->md5sums = mp->copyright = mp->doc_link = mp->os_release = NULL;
		memcpy(p->deb_sha512, mp->sha512, SHA512_HEX_LEN + 1);
		deb_id_copy(&p->id, lp ? &lp->id : NULL);
		deb_id_default_source(&p->id);
	}
	ret = 0;
out:
	lmeta_free(m);
	return ret;
}

/* ---- stat stamps: verified once, trusted while unchanged --------------------
 *
 * Re-hashing every cached blob on every build was a fifth of a warm build.
 * A stamp is recorded only for bytes whose digest is known right (pare just
 * wrote and digested them: lcache_seal, or hashed them again and they did not
 * change while they were read: same stat before and after) and that were
 * fsynced (so a crash cannot leave a stamped file whose data never reached
 * the disk).  What a
 * matching stamp cannot see: a change that keeps size, mtime and inode (a
 * write that restores the mtime afterwards; for records also the ctime) and
 * corruption below the file system (bad sectors, writes to the raw device).
 * PARE_VERIFY_CACHE=1 re-hashes everything for those. */

struct cache_stamp {
	uint64_t size, ino, dev;
	int64_t mtime_ns, ctime_ns;
};

bool lcache_force_verify(void)
{
	const char *v = getenv("PARE_VERIFY_CACHE");

	return v && *v && strcmp(v, "0");
}

static void stamp_of(const struct stat *st, struct cache_stamp *s)
{
	s->size = (uint64_t)st->st_size;
	s->ino = (uint64_t)st->st_ino;
	s->dev = (uint64_t)st->st_dev;
	s->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	s->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* "size:mtime_ns:ctime_ns:ino:dev" (a string: ns timestamps do not fit the
 * doubles cJSON numbers are). */
static char *stamp_fmt(const struct cache_stamp *s)
{
	return xasprintf("%" PRIu64 ":%" PRId64 ":%" PRId64 ":%" PRIu64 ":%" PRIu64, s->size,
			 s->mtime_ns, s->ctime_ns, s->ino, s->dev);
}

static bool stamp_parse(const char *str, struct cache_stamp *s)
{
	char tail;

	return str && sscanf(str, "%" SCNu64 ":%" SCNd64 ":%" SCNd64 ":%" SCNu64 ":%" SCNu64 "%c",
			     &s->size, &s->mtime_ns, &s->ctime_ns, &s->ino, &s->dev, &tail) == 5;
}

static bool stamp_eq(const struct cache_stamp *a, const struct cache_stamp *b, bool with_ctime)
{
	return a->size == b->size && a->ino == b->ino && a->dev == b->dev &&
	       a->mtime_ns == b->mtime_ns && (!with_ctime || a->ctime_ns == b->ctime_ns);
}

bool lcache_check_file(const char *path, const char *want_sha256, uint64_t want_size,
		       const char *stamp, bool with_ctime, int64_t entry_mtime_ns,
		       strbuf *content, char **new_stamp)
{
	unsigned char buf[1 << 16];
	struct cache_stamp now, rec, after;
	struct stat st;
	phash *h = NULL;
	char hex[SHA256_HEX_LEN + 1];
	uint64_t total = 0;
	bool trusted, racy, ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*new_stamp = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != want_size || (content && want_size > 1u << 30))
		goto out;
	stamp_of(&st, &now);
	/* changed in the tick the entry was written: a later write in that tick
	 * would leave the same mtime (the ctime is not looked at: a change that
	 * also puts the mtime back within that tick is not worth a re-hash of
	 * every record pare has just written) */
	racy = now.mtime_ns >= entry_mtime_ns;
	trusted = !lcache_force_verify() && !racy && stamp_parse(stamp, &rec) &&
		  stamp_eq(&now, &rec, with_ctime);
	if (trusted && !content) {
		ok = true;
		goto out;
	}
	if (!trusted)
		h = phash_new("sha256");
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (h)
			phash_update(h, buf, (size_t)r);
		if (content)
			sb_add(content, buf, (size_t)r);
		total += (uint64_t)r;
	}
	if (total != want_size)
		goto out;
	if (h) {
		phash_final_hex(h, hex);
		h = NULL;
		if (strcmp(hex, want_sha256))
			goto out;
		/* only bytes that are on disk and did not change while read */
		if (fsync(fd) == 0 && fstat(fd, &st) == 0) {
			stamp_of(&st, &after);
			if (stamp_eq(&now, &after, true)) {
				char *s = stamp_fmt(&now);

				if (racy || !stamp || strcmp(s, stamp))
					*new_stamp = s;
				else
					free(s);
			}
		}
	}
	ok = true;
out:
	phash_free(h);
	if (fd >= 0)
		close(fd);
	return ok;
}

char *lcache_seal(const char *path, uint64_t size, bool synced)
{
	struct timespec ts[2];
	struct cache_stamp st;
	struct stat sb;
	char *ret = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || (!synced && fsync(fd) < 0) || fstat(fd, &sb) < 0 ||
	    (uint64_t)sb.st_size != size)
		goto out;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[0].tv_sec = 0;
	ts[1] = sb.st_mtim;
	ts[1].tv_sec -= 1;
	if (futimens(fd, ts) < 0 || fstat(fd, &sb) < 0)
		goto out;
	stamp_of(&sb, &st);
	ret = stamp_fmt(&st);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
