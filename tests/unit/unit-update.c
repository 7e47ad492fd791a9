/* unit-update.c - the pieces of pare update that need no repository: CVE ids from a Debian
 * changelog between two versions, Debian version order, watch's durations. */
#include "../../builder/builder.h"
#include "../../rebuild/rebuild.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const char changelog[] =
	"openssl (3.0.16-1~deb12u1) bookworm-security; urgency=medium\n"
	"\n"
	"  * New upstream: CVE-2024-13176, CVE-2024-9143 (ignored: 4 digits needed after\n"
	"    the year, this one has 4: CVE-2024-9143 is fine).\n"
	"  * Also fixes CVE-2025-0001 twice: CVE-2025-0001.\n"
	"\n"
	" -- Maint <m@example.invalid>  Tue, 03 Jan 2025 00:00:00 +0000\n"
	"\n"
	"openssl (3.0.15-1~deb12u1) bookworm; urgency=medium\n"
	"\n"
	"  * CVE-2024-5535 (xCVE-2024-1111 is not an id; CVE-24-1 neither).\n"
	"\n"
	" -- Maint <m@example.invalid>  Mon, 02 Sep 2024 00:00:00 +0000\n"
	"\n"
	"openssl (3.0.14-1~deb12u2) bookworm; urgency=medium\n"
	"\n"
	"  * CVE-2024-4741.\n"
	"\n"
	" -- Maint <m@example.invalid>  Mon, 01 Jul 2024 00:00:00 +0000\n";

static char *cves(const char *old, const char *new)
{
	strvec v = STRVEC_INIT;
	strbuf sb = STRBUF_INIT;

	rebuild_changelog_cves_text(changelog, strlen(changelog), old, new, &v);
	for (size_t i = 0; i < v.n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", v.v[i]);
	sv_clear(&v);
	return sb_detach(&sb);
}

int main(void)
{
	char *s;
	double d = 0;

	s = cves("3.0.15-1~deb12u1", "3.0.16-1~deb12u1");
	TAP_STREQ(s, "CVE-2024-13176 CVE-2024-9143 CVE-2025-0001", "only the newest entry, sorted, unique");
	free(s);
	s = cves("3.0.14-1~deb12u2", "3.0.16-1~deb12u1");
	TAP_STREQ(s, "CVE-2024-13176 CVE-2024-5535 CVE-2024-9143 CVE-2025-0001",
		  "two entries; a word glued to CVE- is no id");
	free(s);
	s = cves("3.0.14-1~deb12u2", "3.0.15-1~deb12u1");
	TAP_STREQ(s, "CVE-2024-5535", "entries newer than the new version are skipped");
	free(s);
	s = cves(NULL, "3.0.16-1~deb12u1");
	TAP_STREQ(s, "CVE-2024-13176 CVE-2024-4741 CVE-2024-5535 CVE-2024-9143 CVE-2025-0001",
		  "no old version: every entry");
	free(s);
	s = cves("3.0.16-1~deb12u1", "3.0.16-1~deb12u1");
	TAP_STREQ(s, "", "same version: none");
	free(s);

	TAP_OK(resolver_vercmp("1.0-1~deb12u1", "1.0-1") < 0, "tilde sorts before");
	TAP_OK(resolver_vercmp("1:0.9", "2.0") > 0, "epoch wins");
	TAP_OK(resolver_vercmp("3.0.11-1~deb12u3", "3.0.11-1~deb12u2") > 0, "u3 > u2");
	TAP_OK(resolver_vercmp("1.0+b1", "1.0") > 0, "binNMU suffix is newer");

	TAP_OK(rebuild_parse_duration("30s", &d) == 0 && d == 30, "30s");
	TAP_OK(rebuild_parse_duration("5m", &d) == 0 && d == 300, "5m");
	TAP_OK(rebuild_parse_duration("1h30m", &d) == 0 && d == 5400, "1h30m");
	TAP_OK(rebuild_parse_duration("90", &d) == 0 && d == 90, "90 = seconds");
	TAP_OK(rebuild_parse_duration("0.5s", &d) == 0 && d == 0.5, "fractions");
	TAP_OK(rebuild_parse_duration("5x", &d) < 0, "5x refused");
	TAP_OK(rebuild_parse_duration("", &d) < 0, "empty refused");
	TAP_OK(rebuild_parse_duration("0s", &d) < 0, "zero refused");
	TAP_OK(rebuild_parse_duration("-5m", &d) < 0, "negative refused");
	TAP_DONE();
}
