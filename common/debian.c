/*
 * debian.c - what pare knows about Debian releases: the os-release file of
 * an image and the release numbers of the codenames (the SBOM's operating
 * system component, the CVE module's codename of a foreign image), and
 * the identity of a binary package (struct deb_id) the modules share.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

char *os_release_value(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t vl = n - kl - 1;

			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
				v++;
				vl -= 2;
			}
			return xstrndup(v, vl);
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static const char *const debian_releases[][2] = {
	{ "buster", "10" }, { "bullseye", "11" }, { "bookworm", "12" },
	{ "trixie", "13" }, { "forky", "14" },
};

const char *debian_version_of(const char *codename)
{
	for (size_t i = 0; codename && i < ARRAY_SIZE(debian_releases); i++)
		if (!strcmp(codename, debian_releases[i][0]))
			return debian_releases[i][1];
	return codename ? codename : "unknown";
}

const char *debian_codename_of(const char *version)
{
	size_t n = version ? strspn(version, "0123456789") : 0;

	for (size_t i = 0; n && i < ARRAY_SIZE(debian_releases); i++)
		if (strlen(debian_releases[i][1]) == n && !strncmp(version, debian_releases[i][1], n))
			return debian_releases[i][0];
	return NULL;
}

static void id_fill(char **dst, const char *src)
{
	if (!*dst && src)
		*dst = xstrdup(src);
}

void deb_id_copy(struct deb_id *dst, const struct deb_id *src)
{
	if (!src)
		return;
	id_fill(&dst->name, src->name);
	id_fill(&dst->version, src->version);
	id_fill(&dst->arch, src->arch);
	id_fill(&dst->source, src->source);
	id_fill(&dst->source_version, src->source_version);
}

const char *deb_id_source(const struct deb_id *id)
{
	return id->source && *id->source ? id->source : id->name;
}

const char *deb_id_source_version(const struct deb_id *id)
{
	return id->source_version && *id->source_version ? id->source_version : id->version;
}

static void id_set(char **field, const char *v)
{
	if (*field == v)
		return;
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

void deb_id_default_source(struct deb_id *id)
{
	id_set(&id->source, deb_id_source(id));
	id_set(&id->source_version, deb_id_source_version(id));
}

void deb_id_release(struct deb_id *id)
{
	free(id->name);
	free(id->version);
	free(id->arch);
	free(id->source);
	free(id->source_version);
	memset(id, 0, sizeof(*id));
}
