/*
 * deb.c - one .deb into the image tree, streamed.
 *
 * A .deb is an ar archive: debian-binary, control.tar.*, data.tar.*.  The
 * control member is small and read into memory; data.tar is decompressed
 * straight out of the ar stream (a nested libarchive reader whose read
 * callback pulls from the outer one), so no temporary files are written.
 * The outer reader's own read callback hashes every byte of the file as it
 * passes (sha256 for the lock, sha512 for the SBOM): the bytes decoded are
 * the bytes checked, in one read, and a .deb that is not the one the lock
 * pins fails before anything of it is used.
 * Maintainer scripts are never looked at, let alone run.
 */
#include "builder_int.h"
#include "gen_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONTROL_MAX (64u << 20)
#define FILE_MAX (4ull << 30)
/* Memory reserved up front for an entry from the size its header declares;
 * the rest grows as the bytes arrive (a header may promise gigabytes in a
 * .deb of a few hundred bytes). */
#define PREALLOC_MAX (4u << 20)
/* Slack over twice the Installed-Size, see content_max(). */
#define CONTENT_SLACK (16ull << 20)
/* What each data.tar entry counts against that, besides its content: its
 * tar header (dpkg counts a KiB for every directory and symlink). */
#define ENTRY_COST 256u
/* Contents held in memory until their layer is written: files up to
 * SPILL_MIN while a .deb's stay under MEM_MAX; the rest go to its spill file
 * (see read_file_content).  Files pare reads itself later (certificates,
 * ld.so.conf.d: layer_keeps_content) stay in memory, at most KEEP_MAX. */
#define SPILL_MIN (1ull << 20)
#define MEM_MAX (32ull << 20)
#define KEEP_MAX (64ull << 20)

/* ---- reading ------------------------------------------------------------- */

struct nested {
	struct archive *outer;
	char buf[65536];
};

static la_ssize_t nested_read(struct archive *a, void *cd, const void **buf)
{
	struct nested *n = cd;
	la_ssize_t r = archive_read_data(n->outer, n->buf, sizeof(n->buf));

	if (r < 0)
		archive_set_error(a, archive_errno(n->outer), "%s",
				  archive_error_string(n->outer));
	*buf = n->buf;
	return r;
}

/* The .deb file itself, hashed on the read that decodes it. */
struct debsrc {
	int fd;
	phash *sha256, *sha512;
	uint64_t len;
	int err;                /* errno of a failed read */
	char buf[65536];
};

static la_ssize_t debsrc_read(struct archive *a, void *cd, const void **buf)
{
	struct debsrc *s = cd;
	ssize_t r;

	do
		r = read(s->fd, s->buf, sizeof(s->buf));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		s->err = errno;
		if (a)
			archive_set_error(a, errno, "read error: %s", strerror(errno));
		return -1;
	}
	phash_update(s->sha256, s->buf, (size_t)r);
	phash_update(s->sha512, s->buf, (size_t)r);
	s->len += (uint64_t)r;
	*buf = s->buf;
	return r;
}

/* The rest of the file, past what the ar reader needed (trailing bytes, or
 * all of it after a decoding error), into the digests. */
static int debsrc_drain(struct debsrc *s)
{
	const void *b;
	la_ssize_t r;

	while ((r = debsrc_read(NULL, s, &b)) > 0)
		;
	return r < 0 ? -1 : 0;
}

/* Read the current entry's data fully (at most max bytes). */
static int read_all(struct archive *a, uint64_t size, uint64_t max, strbuf *out,
		    const char *what, perr *e)
{
	char buf[65536];
	la_ssize_t r;

	if (size > max)
		return perr_set(e, "%s is too large (%llu bytes)", what,
				(unsigned long long)size);
	sb_reset(out);
	sb_grow(out, size < PREALLOC_MAX ? size : PREALLOC_MAX);
	while ((r = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)r > max)
			return perr_set(e, "%s is too large", what);
		sb_add(out, buf, (size_t)r);
	}
	if (r < 0)
		return perr_set(e, "%s: %s", what, archive_error_string(a));
	return 0;
}

/* What one .deb may expand to (file content, and ENTRY_COST per entry):
 * twice what its Installed-Size says (KiB, from the signed index, pinned in
 * the lock) plus CONTENT_SLACK.  dpkg counts the whole KiBs of every file and
 * a KiB for every other entry, so real packages stay well below it; a
 * decompression bomb stops there instead of taking the machine's memory (all
 * of it is held until its layer is written).  FILE_MAX when the lock does
 * not know the size. */
static uint64_t content_max(const struct lock_pkg *lp)
{
	if (!lp || !lp->installed_size)
		return FILE_MAX;
	if (lp->installed_size > (UINT64_MAX - CONTENT_SLACK) / 2048)
		return UINT64_MAX;
	return lp->installed_size * 2048 + CONTENT_SLACK;
}

/* read_all for a data.tar entry's content: never more than its header
 * declared, which decode_entry has counted against d->limit. */
static int read_content(struct archive *a, struct archive_entry *ae, uint64_t max, strbuf *out,
			const char *what, perr *e)
{
	la_int64_t sz = archive_entry_size(ae);
	uint64_t size = sz > 0 ? (uint64_t)sz : 0;

	return read_all(a, (uint64_t)sz, max < size ? max : size, out, what, e);
}

/* A regular file's content into ent, as much as its header declares (which
 * decode_entry has counted against d->limit): in memory when it is small
 * and the .deb's contents in memory stay under MEM_MAX, or when pare reads it
 * later (keep), else into the .deb's spill file, so that the memory a .deb
 * takes does not depend on the sizes it declares.  Read block by block at
 * their offsets: a sparse entry's holes are never materialised (calloc'd
 * zeros in memory, holes in the spill file); the digests see them as zeros. */
static int read_file_content(struct deb_decoded *d, struct archive *a, struct archive_entry *ae,
			     struct tree_entry *ent, bool keep, perr *e)
{
	static const unsigned char zeros[65536];
	la_int64_t sz = archive_entry_size(ae), off;
	uint64_t size = sz > 0 ? (uint64_t)sz : 0, pos = 0;
	phash *h256 = phash_new("sha256"), *h1 = phash_new("sha1");
	const void *buf;
	size_t len;
	bool mem;
	int r, ret = -1;

	if (size > FILE_MAX) {
		perr_set(e, "%s is too large (%llu bytes)", ent->path, (unsigned long long)size);
		goto out;
	}
	if (keep) {
		if (size > KEEP_MAX - d->kept) {
			perr_set(e, "%s: more than %llu MiB of files pare reads itself "
				 "(CA certificates, ld.so.conf.d)", ent->path, KEEP_MAX >> 20);
			goto out;
		}
		d->kept += size;
	}
	mem = keep || !size || (size <= SPILL_MIN && d->bytes + size <= MEM_MAX);
	if (mem) {
		ent->data = xcalloc(1, size ? size : 1);
	} else {
		if (!d->spill && !(d->spill = spill_new(e)))
			goto out;
		ent->spill = spill_ref(d->spill);
		ent->spill_off = d->spill_end;
	}
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		if (off < 0 || (uint64_t)off < pos || (uint64_t)off > size ||
		    len > size - (uint64_t)off) {
			perr_set(e, "%s: content past its declared size", ent->path);
			goto out;
		}
		for (uint64_t z = (uint64_t)off - pos; z;) {
			size_t k = z < sizeof(zeros) ? (size_t)z : sizeof(zeros);

			phash_update(h256, zeros, k);
			phash_update(h1, zeros, k);
			z -= k;
		}
		phash_update(h256, buf, len);
		phash_update(h1, buf, len);
		if (mem) {
			memcpy(ent->data + off, buf, len);
		} else if (len && spill_write(d->spill, buf, len, ent->spill_off + (uint64_t)off) < 0) {
			perr_errno(e, "%s: cannot write its content to a temporary file", ent->path);
			goto out;
		}
		pos = (uint64_t)off + len;
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "%s: %s", ent->path, archive_error_string(a));
		goto out;
	}
	for (uint64_t z = size - pos; z;) {
		size_t k = z < sizeof(zeros) ? (size_t)z : sizeof(zeros);

		phash_update(h256, zeros, k);
		phash_update(h1, zeros, k);
		z -= k;
	}
	if (mem) {
		d->bytes += size;
	} else {
		uint64_t end = ent->spill_off + size, page = (uint64_t)sysconf(_SC_PAGESIZE);
		struct stat st;

		/* a trailing hole: the file must still reach the content's end */
		if (fstat(spill_fd(d->spill), &st) < 0 ||
		    ((uint64_t)st.st_size < end && ftruncate(spill_fd(d->spill), (off_t)end) < 0)) {
			perr_errno(e, "%s: cannot write its content to a temporary file", ent->path);
			goto out;
		}
		d->spill_end = (end + page - 1) / page * page;
	}
	ent->size = size;
	phash_final_hex(h256, ent->sha256);
	h256 = NULL;
	phash_final_hex(h1, ent->sha1);
	h1 = NULL;
	ret = 0;
out:
	phash_free(h256);
	phash_free(h1);
	return ret;
}

static int read_control_tar(struct deb_pkg *pkg, const strbuf *tarbuf, strbuf *md5,
			    perr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	strbuf body = STRBUF_INIT;
	int r, ret = -1;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tarbuf->buf, tarbuf->len) != ARCHIVE_OK) {
		perr_set(e, "control.tar: %s", archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);

		if (str_starts(name, "./"))
			name += 2;
		if (!strcmp(name, "control")) {
			if (pkg->control) {
				perr_set(e, "control.tar: two control files");
				goto out;
			}
			if (read_all(a, archive_entry_size(ae), 1 << 20, &body, "control", e) < 0)
				goto out;
			pkg->control = xstrdup(sb_str(&body));
		} else if (!strcmp(name, "md5sums")) {
			if (read_all(a, archive_entry_size(ae), CONTROL_MAX, md5, "md5sums", e) < 0)
				goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "control.tar: %s", archive_error_string(a));
		goto out;
	}
	if (!pkg->control) {
		perr_set(e, "no control file in control.tar");
		goto out;
	}
	ret = 0;
out:
	sb_release(&body);
	archive_read_free(a);
	return ret;
}

static void push_item(struct deb_decoded *d, struct tree_entry *ent,
		      const struct tree_stripped *st)
{
	struct deb_item *it;

	ALLOC_GROW(d->items, d->n + 1, d->alloc);
	it = &d->items[d->n++];
	memset(it, 0, sizeof(*it));
	it->ent = ent;
	if (st)
		it->st = *st;
}

/* One data.tar entry, as far as it goes without the tree: name and type
 * checks, merged-/usr, the package's copyright / doc link / os-release,
 * strip, content and digests.  A kept entry is appended to d->items (hard
 * links with the normalised target path still to be resolved, no policy_apply
 * yet: deb_insert does both, in order, on the tree). */
static int decode_entry(struct deb_decoded *d, int pkgi, struct archive *a,
			struct archive_entry *ae, const struct policy *pol, perr *e)
{
	struct deb_pkg *pkg = &d->pkg;
	const char *name = archive_entry_pathname(ae);
	const char *hl = archive_entry_hardlink(ae);
	mode_t ft = archive_entry_filetype(ae);
	struct tree_entry *ent = NULL;
	char *path = NULL, *raw = NULL, *cpath = NULL;
	const char *rule;
	strbuf data = STRBUF_INIT, qname = STRBUF_INIT;
	int ret = -1;

	if (!name) {
		perr_set(e, "%s: entry without a name", pkg->name);
		goto out;
	}
	/* what the messages below quote: one line, whatever the name holds */
	policy_quote(&qname, name);
	/* The budget (content_max) is charged before anything is read: the
	 * size a regular file's header declares (read or not: a stripped file
	 * is decompressed to be skipped) and ENTRY_COST for every entry (a
	 * data.tar.xz of a few KiB can hold millions of empty ones). */
	{
		la_int64_t sz = archive_entry_size(ae);
		uint64_t cost = ENTRY_COST + (!hl && ft == AE_IFREG && sz > 0 ? (uint64_t)sz : 0);

		if (cost > d->limit - d->used) {
			if (pkg->lp && pkg->lp->installed_size)
				perr_set(e, "%s: %s: data.tar holds more than the package's "
					 "Installed-Size allows (%llu KiB: at most %llu bytes, "
					 "counting %u per entry)", pkg->name, sb_str(&qname),
					 (unsigned long long)pkg->lp->installed_size,
					 (unsigned long long)d->limit, ENTRY_COST);
			else
				perr_set(e, "%s: %s: data.tar holds more than %llu bytes (counting "
					 "%u per entry)", pkg->name, sb_str(&qname),
					 (unsigned long long)d->limit, ENTRY_COST);
			goto out;
		}
		d->used += cost;
	}
	if (policy_norm_name(name, &path, e) < 0) {
		perr_prefix(e, "%s: refusing %s", pkg->name, sb_str(&qname));
		goto out;
	}
	if (!path) { /* "./" itself */
		ret = 0;
		goto out;
	}
	if (!hl && ft != AE_IFREG && ft != AE_IFDIR && ft != AE_IFLNK) {
		perr_set(e, "%s: refusing %s: %s", pkg->name, path,
			 ft == AE_IFIFO ? "a fifo" : ft == AE_IFSOCK ? "a socket" :
			 "a device node");
		goto out;
	}
	/* pare owns the merged-/usr links; a package's own /bin -> usr/bin
	 * (or a symlinked /lib64) is dropped, not rewritten onto /usr/bin. */
	if (ft == AE_IFLNK && !hl) {
		const char *n = name;

		while (str_starts(n, "./"))
			n += 2;
		if (*n == '/')
			n++;
		for (size_t i = 0; policy_usrmerge_dirs[i]; i++) {
			const char *dd = policy_usrmerge_dirs[i];
			size_t dl = strlen(dd);

			if (!strncmp(n, dd, dl) && (!n[dl] || (n[dl] == '/' && !n[dl + 1]))) {
				ret = 0;
				goto out;
			}
		}
	}

	cpath = xasprintf("/usr/share/doc/%s", pkg->name);
	if (!hl && ft == AE_IFLNK && !strcmp(path, cpath) && archive_entry_symlink(ae)) {
		/* Debian packages of one source often share a doc directory
		 * (libgcc-s1 -> gcc-12-base): remember it for deb_copyright. */
		free(pkg->doc_link);
		pkg->doc_link = xstrdup(archive_entry_symlink(ae));
	}
	free(cpath);
	cpath = xasprintf("/usr/share/doc/%s/copyright", pkg->name);
	if (!hl && ft == AE_IFREG &&
	    (!strcmp(path, cpath) || !strcmp(path, "/usr/lib/os-release") ||
	     !strcmp(path, "/etc/os-release"))) {
		/* Needed by the SBOM / os detection even when stripped. */
		if (read_content(a, ae, 16 << 20, &data, path, e) < 0)
			goto fail_pkg;
		if (!strcmp(path, cpath)) {
			free(pkg->copyright);
			pkg->copyright = xstrndup(sb_str(&data), data.len);
		} else {
			free(pkg->os_release);
			pkg->os_release = xstrndup(sb_str(&data), data.len);
		}
	}
	if ((rule = policy_strip_rule(pol, path))) {
		bool keep_data;

		/* libraries: for the link check's message; certificates: for
		 * the bundle */
		if (ft != AE_IFDIR && tree_stripped_wanted(path, !hl && ft == AE_IFREG, &keep_data)) {
			/* rule: not owned, points into the policy */
			struct tree_stripped s = { NULL, (char *)rule, pkgi, NULL, 0 };

			if (keep_data) {
				if (!data.len && read_content(a, ae, 16 << 20, &data, path,
								  e) < 0)
					goto fail_pkg;
				if (data.len > KEEP_MAX - d->kept) {
					perr_set(e, "%s: more than %llu MiB of files pare reads "
						 "itself (CA certificates, ld.so.conf.d)", path,
						 KEEP_MAX >> 20);
					goto fail_pkg;
				}
				d->kept += data.len;
				s.size = data.len;
				s.data = (unsigned char *)sb_detach(&data);
			}
			s.path = path;
			path = NULL;
			push_item(d, NULL, &s);
		}
		ret = 0;
		goto out;
	}

	ent = xcalloc(1, sizeof(*ent));
	ent->path = path;
	path = NULL;
	ent->mode = archive_entry_perm(ae) & 07777;
	ent->mtime = archive_entry_mtime_is_set(ae) ? archive_entry_mtime(ae) : 0;
	ent->pkg = pkgi;
	ent->layer = pkg->layer;
	if (hl) {
		ent->type = TREE_HARDLINK;
		if (policy_norm_name(hl, &raw, e) < 0 || !raw) {
			if (!raw && e->msg[0] == '\0')
				perr_set(e, "hard link to the root");
			perr_prefix(e, "%s: refusing %s: hard link", pkg->name, ent->path);
			goto out;
		}
		ent->target = raw; /* resolved by deb_insert */
		raw = NULL;
	} else if (ft == AE_IFDIR) {
		ent->type = TREE_DIR;
	} else if (ft == AE_IFLNK) {
		ent->type = TREE_SYMLINK;
		if (policy_symlink_target(ent->path, archive_entry_symlink(ae),
					  &ent->target, e) < 0) {
			perr_prefix(e, "%s: refusing %s", pkg->name, ent->path);
			goto out;
		}
	} else {
		const unsigned char *content;
		void *map = MAP_FAILED;

		ent->type = TREE_FILE;
		if (data.len) { /* read above (copyright, os-release) */
			phash *h = phash_new("sha1");

			ent->size = data.len;
			ent->data = (unsigned char *)sb_detach(&data);
			d->bytes += ent->size;
			sha256_hex(ent->data, ent->size, ent->sha256);
			phash_update(h, ent->data, ent->size);
			phash_final_hex(h, ent->sha1);
		} else if (read_file_content(d, a, ae, ent, layer_keeps_content(ent->path), e) < 0) {
			goto fail_pkg;
		}
		content = ent->data;
		if (!content) {
			/* spilled: its ELF headers are read through a mapping (pages
			 * are read as they are touched) */
			map = mmap(NULL, (size_t)ent->size, PROT_READ, MAP_PRIVATE,
				   spill_fd(ent->spill), (off_t)ent->spill_off);
			if (map == MAP_FAILED) {
				perr_errno(e, "%s: cannot map its spilled content", ent->path);
				goto fail_pkg;
			}
			content = map;
		}
		if (ent->size >= 2 && content[0] == '#' && content[1] == '!') {
			/* what the kernel reads of the "#!" line: the shebang check */
			const unsigned char *s = content + 2;
			size_t n = 0, max = ent->size - 2 < SHEBANG_MAX ? ent->size - 2 : SHEBANG_MAX;

			while (n < max && s[n] != '\n' && s[n])
				n++;
			ent->interp = xstrndup((const char *)s, n);
		}
		{
			perr ee = { 0 };
			struct elf_dyn dy;
			int er = elf_dynamic(content, (size_t)ent->size, &dy, &ee);

			if (map != MAP_FAILED)
				munmap(map, (size_t)ent->size);
			if (er < 0 && dy.bad_name) {
				/* a newline would turn one DT_NEEDED into two below,
				 * and ld.so would look for the real name: refused */
				perr_set(e, "refusing %s: %s", ent->path, ee.msg);
				goto fail_pkg;
			} else if (ee.msg[0]) {
				/* malformed: recorded; ld.so.cache generation fails
				 * naming it when it is a library */
				ent->elf = ELF_BAD;
				ent->soname = xstrdup(ee.msg);
			} else {
				/* the soname ld.so.cache is keyed by: shared objects only */
				if (!dy.is_exec) {
					ent->soname = dy.soname;
					dy.soname = NULL;
				}
				ent->elf = ent->soname ? ELF_SONAME : ELF_NONE;
				if (dy.needed.n) {
					strbuf nb = STRBUF_INIT;

					for (size_t i = 0; i < dy.needed.n; i++)
						sb_addf(&nb, "%s%s", i ? "\n" : "", dy.needed.v[i]);
					ent->needed = sb_detach(&nb);
				}
				if (dy.runpath || dy.rpath)
					ent->runpath = xstrdup(dy.runpath ? dy.runpath : dy.rpath);
				elf_dyn_release(&dy);
			}
		}
	}
	push_item(d, ent, NULL);
	ent = NULL;
	ret = 0;
	goto out;
fail_pkg:
	perr_prefix(e, "%s", pkg->name);
out:
	tree_entry_free(ent);
	sb_release(&data);
	sb_release(&qname);
	free(path);
	free(raw);
	free(cpath);
	return ret;
}

/* One decoded entry into the tree: the hard link checks (the target must be
 * a file this package put into the tree before), the hardening policy, the
 * layer record and the overlap rules.  Takes ent. */
static int insert_entry(struct image_tree *t, int pkgi, struct tree_entry *ent,
			const struct policy *pol, strbuf *rec, perr *e)
{
	struct deb_pkg *pkg = &t->pkgs[pkgi];
	int ret = -1;

	if (ent->type == TREE_HARDLINK) {
		struct tree_entry *tg = tree_get(t, ent->target);

		if (!tg || tg->pkg != pkgi || tg->layer != ent->layer ||
		    (tg->type != TREE_FILE && tg->type != TREE_HARDLINK)) {
			perr_set(e, "%s: refusing %s: hard link to %s, which is %s", pkg->name,
				 ent->path, ent->target, !tg ? "not (yet) in the package" :
				 tg->pkg != pkgi ? "outside the package" : "not a regular file");
			goto out;
		}
		if (tg->type == TREE_HARDLINK) {
			free(ent->target);
			ent->target = xstrdup(tg->target);
		}
		ent->size = tg->size;
		memcpy(ent->sha256, tg->sha256, sizeof(ent->sha256));
		memcpy(ent->sha1, tg->sha1, sizeof(ent->sha1));
		ent->mode = tg->mode;
	}
	if (policy_apply(pol, pkg->name, ent, e) < 0)
		goto out;
	if (rec)
		lmeta_put_entry(rec, ent);
	ret = tree_insert(t, ent, e);
	ent = NULL;
out:
	tree_entry_free(ent);
	return ret;
}

/* Keep the md5sums lines of files that made it into the image. */
static char *filter_md5sums(const struct image_tree *t, int pkgi, const strbuf *md5)
{
	strbuf out = STRBUF_INIT;
	const char *p = sb_str(md5);
	perr e;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, n), *name = line;
		char *path = NULL;
		struct tree_entry *ent;

		/* "<md5>  <path relative to />" */
		name += strcspn(name, " ");
		name += strspn(name, " ");
		if (*name && policy_norm_name(name, &path, &e) == 0 && path &&
		    (ent = tree_get(t, path)) && ent->pkg == pkgi) {
			sb_add(&out, line, n);
			sb_addc(&out, '\n');
		}
		free(path);
		free(line);
		p += n;
		if (*p)
			p++;
	}
	return sb_detach(&out);
}

int deb_load(struct image_tree *t, int pkgi, const char *debpath,
	     const struct policy *pol, perr *e)
{
	return deb_load_rec(t, pkgi, debpath, pol, NULL, e);
}

int deb_load_rec(struct image_tree *t, int pkgi, const char *debpath,
		 const struct policy *pol, strbuf *rec, perr *e)
{
	struct deb_decoded d;
	int ret;

	deb_decode(t->pkgs[pkgi].lp, pkgi, t->pkgs[pkgi].layer, debpath, pol, &d);
	ret = deb_insert(t, pkgi, &d, pol, rec, e);
	deb_decoded_release(&d);
	return ret;
}

/* After the decoder is done (or failed): the whole file has passed through
 * the digests, compare them with the lock.  A .deb that is not the one the
 * lock pins is an error whatever the decoder thought of it (a corrupt xz
 * stream is reported as what it is: the wrong bytes), and nothing decoded
 * from it is kept.  The SBOM's SHA-512 comes from the same read (the lock
 * pins sha256 only); it is kept in the layer record, so warm builds need no
 * .deb. */
static void deb_check_digest(struct deb_decoded *d, const struct lock_pkg *lp,
			     const char *label, const char *debpath, struct debsrc *src,
			     int *ret)
{
	char hex[SHA256_HEX_LEN + 1];

	if (debsrc_drain(src) < 0) {
		if (*ret == 0)
			perr_set(&d->e, "%s: cannot read %s: %s", label, debpath,
				 strerror(src->err));
		*ret = -1;
		return;
	}
	phash_final_hex(src->sha256, hex);
	src->sha256 = NULL;
	phash_final_hex(src->sha512, d->pkg.deb_sha512);
	src->sha512 = NULL;
	if (!lp || !lp->sha256)
		return;
	if (!strcmp(hex, lp->sha256))
		return;
	perr_set(&d->e, "%s: %s does not match the lock (sha256 %s, %llu bytes; the lock pins %s, %llu bytes)",
		 label, debpath, hex, (unsigned long long)src->len, lp->sha256,
		 (unsigned long long)lp->size);
	d->pkg.deb_sha512[0] = '\0';
	d->bad_digest = true;
	*ret = -1;
	for (size_t i = 0; i < d->n; i++) {
		tree_entry_free(d->items[i].ent);
		free(d->items[i].st.path);
		free(d->items[i].st.data);
	}
	d->n = 0;
	d->bytes = 0;
}

void deb_decode(const struct lock_pkg *lp, int pkgi, int layer, const char *debpath,
		const struct policy *pol, struct deb_decoded *d)
{
	struct deb_pkg *pkg = &d->pkg;
	const char *label = lp ? lp->name : debpath;
	struct archive *ar = archive_read_new(), *dt = NULL;
	struct archive_entry *ae;
	struct nested *nest = NULL;
	struct debsrc *src = xcalloc(1, sizeof(*src));
	strbuf ctl = STRBUF_INIT;
	perr *e = &d->e;
	bool have_data = false;
	int r, ret = -1;

	memset(d, 0, sizeof(*d));
	d->limit = content_max(lp);
	pkg->lp = lp;
	pkg->layer = layer;
	src->fd = open(debpath, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0) {
		perr_set(e, "%s: cannot open %s: %s", label, debpath, strerror(errno));
		goto out;
	}
	src->sha256 = phash_new("sha256");
	src->sha512 = phash_new("sha512");
	archive_read_support_format_ar(ar);
	if (archive_read_open(ar, src, NULL, debsrc_read, NULL) != ARCHIVE_OK) {
		perr_set(e, "%s: cannot open %s: %s", label, debpath, archive_error_string(ar));
		goto out;
	}
	while ((r = archive_read_next_header(ar, &ae)) == ARCHIVE_OK) {
		const char *m = archive_entry_pathname(ae);

		if (str_starts(m, "control.tar")) {
			/* one of each (a second would be read over the first's) */
			if (d->have_control) {
				perr_set(e, "%s: corrupt .deb %s: two control.tar members", label,
					 debpath);
				goto out;
			}
			if (read_all(ar, archive_entry_size(ae), CONTROL_MAX, &ctl, m, e) < 0 ||
			    read_control_tar(pkg, &ctl, &d->md5, e) < 0)
				goto bad;
			if (deb_parse_control(pkg, pkg->control, e) < 0)
				goto bad;
			if (lp && strcmp(pkg->name, lp->name)) {
				perr_set(e, "%s: %s contains package '%s'", label, debpath, pkg->name);
				goto out;
			}
			d->have_control = true;
		} else if (str_starts(m, "data.tar")) {
			if (!d->have_control) {
				perr_set(e, "%s: corrupt .deb %s: data.tar before control.tar",
					 label, debpath);
				goto out;
			}
			if (have_data) {
				perr_set(e, "%s: corrupt .deb %s: two data.tar members", label, debpath);
				goto out;
			}
			nest = xcalloc(1, sizeof(*nest));
			nest->outer = ar;
			dt = archive_read_new();
			archive_read_support_filter_all(dt);
			archive_read_support_format_tar(dt);
			if (archive_read_open(dt, nest, NULL, nested_read, NULL) != ARCHIVE_OK) {
				perr_set(e, "%s: corrupt .deb %s: %s: %s", label, debpath, m,
					 archive_error_string(dt));
				goto out;
			}
			while ((r = archive_read_next_header(dt, &ae)) == ARCHIVE_OK)
				if (decode_entry(d, pkgi, dt, ae, pol, e) < 0)
					goto out;
			if (r != ARCHIVE_EOF) {
				perr_set(e, "%s: corrupt .deb %s: %s: %s", label, debpath, m,
					 archive_error_string(dt));
				goto out;
			}
			have_data = true;
		}
	}
	if (r != ARCHIVE_EOF) {
		perr_set(e, "%s: corrupt .deb %s: %s", label, debpath, archive_error_string(ar));
		goto out;
	}
	if (!d->have_control || !have_data) {
		perr_set(e, "%s: corrupt .deb %s: no %s member", label, debpath,
			 d->have_control ? "data.tar" : "control.tar");
		goto out;
	}
	deb_id_copy(&pkg->id, lp ? &lp->id : NULL);
	deb_id_default_source(&pkg->id);
	ret = 0;
	goto out;
bad:
	perr_prefix(e, "%s: corrupt .deb %s", label, debpath);
out:
	if (src->sha256)
		deb_check_digest(d, lp, label, debpath, src, &ret);
	if (src->fd >= 0)
		close(src->fd);
	phash_free(src->sha256);
	phash_free(src->sha512);
	free(src);
	d->rc = ret;
	if (dt)
		archive_read_free(dt);
	archive_read_free(ar);
	free(nest);
	sb_release(&ctl);
}

int deb_insert(struct image_tree *t, int pkgi, struct deb_decoded *d,
	       const struct policy *pol, strbuf *rec, perr *e)
{
	struct deb_pkg *pkg = &t->pkgs[pkgi];
	const struct lock_pkg *lp = pkg->lp;
	int layer = pkg->layer;

	/* the package's fields first: the overlap rules read its name and
	 * Replaces; lp and layer stay the caller's */
	deb_pkg_release(pkg);
	*pkg = d->pkg;
	memset(&d->pkg, 0, sizeof(d->pkg));
	pkg->lp = lp;
	pkg->layer = layer;
	if (d->have_control && rec)
		lmeta_put_pkg(rec, pkg);
	for (size_t i = 0; i < d->n; i++) {
		struct deb_item *it = &d->items[i];
		struct tree_entry *ent = it->ent;

		if (!ent) { /* a stripped entry the tree remembers */
			if (rec)
				lmeta_put_stripped(rec, &it->st);
			tree_add_stripped(t, it->st.path, it->st.rule, pkgi, it->st.data,
					  it->st.size);
			it->st.data = NULL;
			continue;
		}
		it->ent = NULL;
		if (insert_entry(t, pkgi, ent, pol, rec, e) < 0)
			return -1;
	}
	/* the decoder's error comes after the entries it read before it, as
	 * when the two were one pass */
	if (d->rc < 0) {
		*e = d->e;
		return -1;
	}
	pkg->md5sums = filter_md5sums(t, pkgi, &d->md5);
	if (rec)
		lmeta_put_pkg_end(rec, pkg);
	return 0;
}

void deb_decoded_release(struct deb_decoded *d)
{
	for (size_t i = 0; i < d->n; i++) {
		tree_entry_free(d->items[i].ent);
		free(d->items[i].st.path);
		free(d->items[i].st.data);
	}
	free(d->items);
	spill_unref(d->spill);
	deb_pkg_release(&d->pkg);
	sb_release(&d->md5);
	memset(d, 0, sizeof(*d));
}

long deb_copyright_owner(const struct image_tree *t, size_t i)
{
	const struct deb_pkg *p = &t->pkgs[i];
	const char *target;

	if (p->copyright || !p->doc_link)
		return p->copyright ? (long)i : -1;
	/* Only a link to a sibling directory: "OTHER" or
	 * "/usr/share/doc/OTHER" (dpkg-maintscript / dh_installdocs --link-doc). */
	target = p->doc_link;
	if (str_starts(target, "/usr/share/doc/"))
		target += strlen("/usr/share/doc/");
	if (!*target || strchr(target, '/'))
		return -1;
	for (size_t k = 0; k < t->npkgs; k++) {
		const struct deb_pkg *o = &t->pkgs[k];

		if (k != i && o->name && !strcmp(o->name, target) && o->source && p->source &&
		    !strcmp(o->source, p->source))
			return o->copyright ? (long)k : -1;
	}
	return -1;
}

const char *deb_copyright(const struct image_tree *t, size_t i)
{
	long k = deb_copyright_owner(t, i);

	return k < 0 ? NULL : t->pkgs[k].copyright;
}
