/* static-probe.c - built with gcc -static on the host, run in the static
 * image (no libc there): prints what a static binary reads from the image's
 * data files, one "name value" line each.  Exit 1 if one is missing. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long count_lines(const char *path, const char *prefix)
{
	char line[4096];
	long n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!prefix || !strncmp(line, prefix, strlen(prefix)))
			n++;
	fclose(f);
	return n;
}

int main(void)
{
	char magic[5] = "", line[512];
	FILE *f;
	int ok = 1;
	long n;

	n = count_lines("/etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----");
	printf("certs %ld\n", n);
	ok &= n > 100;
	/* a TZif file starts with the magic "TZif" */
	if ((f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb"))) {
		if (fread(magic, 1, 4, f) != 4)
			magic[0] = 0;
		fclose(f);
	}
	printf("zoneinfo %s\n", magic[0] ? magic : "missing");
	ok &= !strcmp(magic, "TZif");
	n = count_lines("/etc/services", "https\t");
	printf("services-https %ld\n", n);
	ok &= n > 0;
	line[0] = 0;
	if ((f = fopen("/etc/os-release", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "ID=", 3))
				break;
		fclose(f);
	}
	line[strcspn(line, "\n")] = 0;
	printf("os-release %s\n", strncmp(line, "ID=", 3) ? "missing" : line);
	ok &= !strncmp(line, "ID=", 3);
	printf("uid %d\n", (int)getuid());
	return ok ? 0 : 1;
}
