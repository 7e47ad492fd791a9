/* unit-genfiles.c - generated accounts, status paragraphs, CA validation. */
#include "../../common/common.h"
#include "../../builder/gen_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct gen_accounts a;
	strbuf pw = STRBUF_INIT, gr = STRBUF_INIT, sb = STRBUF_INIT, bundle = STRBUF_INIT;
	struct gen_user users[] = {
		{ "app", 1000, 1000, "/home/app", "/sbin/nologin" },
		{ "nonroot", 65532, 65532, "/srv", "/sbin/nologin" },
	};
	struct gen_group groups[] = { { "staff", 50, STRVEC_INIT } };
	perr e;

	sv_push(&groups[0].members, "app");
	TAP_OK(gen_accounts(users, 2, groups, 1, &a, &e) == 0, "accounts merge");
	gen_accounts_text(&a, &pw, &gr);
	TAP_STREQ(pw.buf,
		  "root:x:0:0:root:/root:/sbin/nologin\n"
		  "app:x:1000:1000:app:/home/app:/sbin/nologin\n"
		  "nonroot:x:65532:65532:nonroot:/srv:/sbin/nologin\n"
		  "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
		  "passwd sorted by uid, recipe replaces nonroot's home");
	TAP_STREQ(gr.buf,
		  "root:x:0:\nstaff:x:50:app\napp:x:1000:\nnonroot:x:65532:\nnogroup:x:65534:\n",
		  "group sorted by gid, members listed, user group created");
	gen_accounts_release(&a);

	users[0].uid = 65534;
	TAP_OK(gen_accounts(users, 1, NULL, 0, &a, &e) < 0 && strstr(e.msg, "nobody"),
	       "uid clash is an error naming the other account (%s)", e.msg);
	gen_accounts_release(&a);
	users[0].uid = 1000;
	users[0].shell = "/bin/sh:evil";
	TAP_OK(gen_accounts(users, 1, NULL, 0, &a, &e) < 0, "':' in a field is refused");
	gen_accounts_release(&a);
	sv_clear(&groups[0].members);

	gen_status_paragraph("Package: hello\nStatus: purge\n weird\nVersion: 1.0\n"
			     "Description: hi\n more\n\nPackage: other\n", &sb);
	TAP_STREQ(sb.buf,
		  "Package: hello\nStatus: install ok installed\nVersion: 1.0\n"
		  "Description: hi\n more\n",
		  "status paragraph: Status after Package, old Status dropped, one paragraph");
	sb_reset(&sb);

	/* A real certificate from the host's bundle (ca-certificates); a host without it skips. */
	if (read_file("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", &sb, 0, &e) < 0) {
		TAP_SKIP("CA bundle checks: no /usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt (%s)", e.msg);
	} else {
		TAP_OK(gen_ca_append(&bundle, "a.crt", sb.buf, sb.len, &e) == 0 && bundle.len == sb.len,
		       "valid PEM certificate appended");
		TAP_OK(gen_ca_append(&bundle, "b.crt", "hello\n", 6, &e) < 0 && strstr(e.msg, "b.crt"),
		       "non-PEM refused naming the file (%s)", e.msg);
		sb.buf[sb.len / 2] ^= 0x5; /* damage the base64 */
		sb.buf[sb.len / 2 + 1] = '!';
		TAP_OK(gen_ca_append(&bundle, "c.crt", sb.buf, sb.len, &e) < 0,
		       "damaged certificate refused (%s)", e.msg);
	}
	sb_reset(&sb);
	gen_os_release("Debian", "fixture", "stable", &sb);
	TAP_OK(strstr(sb.buf, "ID=debian\n") && strstr(sb.buf, "VERSION_CODENAME=fixture\n"),
	       "os-release from the repository's origin and codename");
	sb_release(&pw);
	sb_release(&gr);
	sb_release(&sb);
	sb_release(&bundle);
	TAP_DONE();
}
