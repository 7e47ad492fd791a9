/* unit-audit: the audit's image reader (layers merged with OCI whiteouts,
 * hard links, contents of small files, blob digests), config.User in every
 * root form, secret-like keys and token patterns. */
#include "../../audit/audit.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[] = "/tmp/unit-audit.XXXXXX";

struct ent {
	const char *name;
	int type; /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
	unsigned mode;
	const char *data; /* contents, or the link target */
};

/* A gzip layer blob of ents in tmp/blobs/sha256; its digest into out. */
static void layer(const struct ent *ents, size_t n, char out[7 + SHA256_HEX_LEN + 1])
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char *buf = xmalloc(1 << 20), hex[SHA256_HEX_LEN + 1], *p;
	size_t used = 0;
	perr e;

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	archive_write_open_memory(a, buf, 1 << 20, &used);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, ents[i].name);
		archive_entry_set_perm(ae, ents[i].mode);
		archive_entry_set_uid(ae, 7);
		archive_entry_set_gid(ae, 8);
		switch (ents[i].type) {
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, ents[i].data);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, ents[i].data);
			break;
		default:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)strlen(ents[i].data));
		}
		archive_write_header(a, ae);
		if (ents[i].type == 'f')
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(ae);
	sha256_hex(buf, used, hex);
	p = xasprintf("%s/blobs/sha256/%s", tmp, hex);
	write_file_scratch(p, buf, used, 0644, &e);
	free(p);
	free(buf);
	snprintf(out, 7 + SHA256_HEX_LEN + 1, "sha256:%s", hex);
}

static void json_blob(const char *text, char out[7 + SHA256_HEX_LEN + 1])
{
	char hex[SHA256_HEX_LEN + 1], *p;
	perr e;

	sha256_hex(text, strlen(text), hex);
	p = xasprintf("%s/blobs/sha256/%s", tmp, hex);
	write_file_scratch(p, text, strlen(text), 0644, &e);
	free(p);
	snprintf(out, 7 + SHA256_HEX_LEN + 1, "sha256:%s", hex);
}

static const char *mode_of(const struct audit_image *img, const char *path)
{
	static char buf[32];
	const struct audit_file *f = audit_file_find(img, path);

	if (!f)
		return "absent";
	snprintf(buf, sizeof(buf), "%c%04o", S_ISDIR(f->mode) ? 'd' : S_ISLNK(f->mode) ? 'l' : 'f',
		 (unsigned)(f->mode & 07777));
	return buf;
}

static int test_reader(void)
{
	static const struct ent l1[] = {
		{ "./", 'd', 0755, NULL },
		{ "./etc/", 'd', 0755, NULL },
		{ "./etc/passwd", 'f', 0644, "root:x:0:0::/root:/bin/sh\n" },
		{ "./etc/gone", 'f', 0600, "removed by .wh.gone\n" },
		{ "./opq/", 'd', 0755, NULL },
		{ "./opq/old", 'f', 0644, "removed by the opaque whiteout\n" },
		{ "./opq/sub/deep", 'f', 0644, "also removed\n" },
		{ "./tree/", 'd', 0755, NULL },
		{ "./tree/a/b", 'f', 0644, "removed with its directory\n" },
		{ "./usr/bin/prog", 'f', 04755, "setuid program\n" },
		{ "./usr/bin/alias", 'h', 0, "usr/bin/prog" },
		{ "./usr/bin/sh", 'l', 0777, "dash" },
	};
	static const struct ent l2[] = {
		{ "etc/.wh.gone", 'f', 0644, "" },
		{ "opq/.wh..wh..opq", 'f', 0644, "" },
		{ "opq/new", 'f', 0644, "kept: same layer as the opaque marker\n" },
		{ ".wh.tree", 'f', 0644, "" },
		{ "etc/passwd", 'f', 0640, "root:x:0:0::/root:/sbin/nologin\n" },
	};
	char d1[80], d2[80], cfg[80], man[80];
	struct audit_image img;
	strvec digests = STRVEC_INIT, plats = STRVEC_INIT;
	const struct audit_file *f;
	char *text, *p;
	perr e = { 0, "" };

	p = xasprintf("%s/blobs/sha256", tmp);
	mkdir_p(p, 0755, &e);
	free(p);
	layer(l1, ARRAY_SIZE(l1), d1);
	layer(l2, ARRAY_SIZE(l2), d2);
	json_blob("{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{\"User\":\"65532\"}}", cfg);
	text = xasprintf("{\"schemaVersion\":2,\"config\":{\"mediaType\":"
			 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\"},"
			 "\"layers\":[{\"digest\":\"%s\"},{\"digest\":\"%s\"}]}", cfg, d1, d2);
	json_blob(text, man);
	free(text);
	/* a signature manifest beside it (cosign tag) is not an image */
	text = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\"},"
			 "{\"digest\":\"%s\",\"annotations\":{\"org.opencontainers.image.ref.name\":"
			 "\"sha256-abc.sig\"}}]}", man, man);
	p = xasprintf("%s/index.json", tmp);
	write_file_scratch(p, text, strlen(text), 0644, &e);
	free(p);
	free(text);

	TAP_REQUIRE(audit_layout_images(tmp, &digests, &plats, &e) == 0, "layout images: %s", e.msg);
	TAP_OK(digests.n == 1 && !strcmp(digests.v[0], man), "one image manifest (the cosign tag is not one)");
	TAP_STREQ(plats.v[0], "linux/arm64", "platform from the config");
	TAP_REQUIRE(audit_image_read(tmp, man, "linux/arm64", &img, &e) == 0, "read: %s", e.msg);
	TAP_STREQ(mode_of(&img, "/etc/gone"), "absent", ".wh.NAME removes NAME of a lower layer");
	TAP_STREQ(mode_of(&img, "/opq/old"), "absent", "the opaque whiteout empties the directory");
	TAP_STREQ(mode_of(&img, "/opq/sub/deep"), "absent", "… to any depth");
	TAP_STREQ(mode_of(&img, "/opq"), "d0755", "… but keeps the directory");
	TAP_STREQ(mode_of(&img, "/opq/new"), "f0644", "… and what its own layer adds");
	TAP_STREQ(mode_of(&img, "/tree"), "absent", ".wh.DIR removes the directory");
	TAP_STREQ(mode_of(&img, "/tree/a/b"), "absent", "… and everything below it");
	TAP_STREQ(mode_of(&img, "/usr/bin/alias"), "f4755", "a hard link has its target's mode");
	TAP_STREQ(mode_of(&img, "/usr/bin/sh"), "l0777", "a symlink");
	f = audit_file_find(&img, "/usr/bin/sh");
	TAP_OK(f && f->link && !strcmp(f->link, "dash") && !f->hardlink, "its target");
	f = audit_file_find(&img, "/etc/passwd");
	TAP_OK(f && f->data && !strcmp(f->data, "root:x:0:0::/root:/sbin/nologin\n") && f->layer == 1,
	       "the upper layer's file replaces the lower one's, contents kept");
	TAP_OK(f && f->uid == 7 && f->gid == 8, "owner");
	TAP_STREQ(mode_of(&img, "/"), "d0755", "the root directory");
	for (size_t i = 1; i < img.nfiles; i++)
		if (strcmp(img.files[i - 1].path, img.files[i].path) >= 0)
			TAP_OK(0, "sorted by path at %s", img.files[i].path);
	audit_image_release(&img);

	/* a layer that is not its digest */
	p = xasprintf("%s/blobs/sha256/%s", tmp, d2 + 7);
	write_file_scratch(p, "tampered", 8, 0644, &e);
	free(p);
	TAP_OK(audit_image_read(tmp, man, "linux/arm64", &img, &e) < 0 &&
	       strstr(e.msg, "does not match its digest"), "a tampered layer is refused: %s", e.msg);
	audit_image_release(&img);
	sv_clear(&digests), sv_clear(&plats);
	return 0;
}

static void test_user(void)
{
	static const char passwd[] = "root:x:0:0::/root:/bin/sh\n"
				     "toor:x:0:0::/root:/bin/sh\n" /* a second uid 0 */
				     "nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n";
	static const struct {
		const char *user;
		int ret;
		long uid;
	} cases[] = {
		{ "", 0, 0 }, { "root", 0, 0 }, { "0", 0, 0 }, { "0:0", 0, 0 }, { "root:root", 0, 0 },
		{ "root:65532", 0, 0 }, { "nonroot", 0, 65532 }, { "65532:65532", 0, 65532 },
		{ "1234", 0, 1234 }, { "ghost", -1, -1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf why = STRBUF_INIT;
		char *entry = NULL;
		long uid = -1;
		int r = audit_user_resolve(cases[i].user, passwd, &uid, &entry, &why);

		TAP_OK(r == cases[i].ret && uid == cases[i].uid, "config.User '%s' -> uid %ld (%d)",
		       cases[i].user, uid, r);
		if (!*cases[i].user)
			TAP_STREQ(entry, "root", "the empty user is the first uid 0 entry");
		free(entry);
		sb_release(&why);
	}
}

static void test_secrets(void)
{
	static const char *const keys[] = { "DB_PASSWORD", "api-key", "GITHUB_TOKEN",
		"aws_secret_access_key", "client.secret" };
	static const char *const fine[] = { "PATH", "SSL_CERT_FILE", "JAVA_HOME", "LANG" };
	static const char ghp[] = "x ghp_abcdefghijklmnopqrstuvwxyz0123456789 y";

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		TAP_OK(audit_secret_key(keys[i]), "%s is secret-like", keys[i]);
	for (size_t i = 0; i < ARRAY_SIZE(fine); i++)
		TAP_OK(!audit_secret_key(fine[i]), "%s is not", fine[i]);
	TAP_STREQ(audit_token_kind("id AKIAIOSFODNN7EXAMPLE", 23), "an AWS access key id", "AWS key id");
	TAP_OK(!audit_token_kind("id AKIAIOSFODNN7EXAMPL", 22), "an AWS key id cut short is not one");
	TAP_STREQ(audit_token_kind(ghp, strlen(ghp)), "a GitHub token", "GitHub token");
	TAP_STREQ(audit_token_kind("-----BEGIN EC PRIVATE KEY-----\n", 31), "a private key block",
		  "PEM private key");
	TAP_OK(!audit_token_kind("-----BEGIN CERTIFICATE-----\n", 28), "a certificate is not a secret");
}

int main(void)
{
	perr e;

	TAP_REQUIRE(mkdtemp(tmp), "mkdtemp");
	if (test_reader())
		return 2;
	test_user();
	test_secrets();
	rm_rf(tmp, &e);
	TAP_DONE();
}
