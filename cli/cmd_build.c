/* cmd_build.c - pare build: locked recipe -> fetched .debs -> OCI image. */
#define _GNU_SOURCE
#include "cli.h"
#include "../builder/builder.h"
#include "../oci/oci.h"
#include "../rebuild/rebuild.h"
#include "../signer/signer.h"
#include "../registry/registry.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build_args {
	const char *outdir;   /* -o: one image's layout */
	const char *outroot;  /* --outroot: OUTROOT/NAME each (default out) */
	const char *tarfile;  /* --tar */
	const char *tag, *compression;
	strvec archs;
	const char *platform; /* --platform: a single-platform layout of archs' one arch */
	int max_layers;
	int parallel;
	bool all;
	bool fail_fast;       /* --fail-fast: stop at the first recipe that fails */
	const char *sign_key; /* --sign-key */
	const char *push;     /* --push REF (rebuild_build does the work) */
	const struct registry_opts *reg;
	const char *source_url; /* --source-url (else git config pare.sourceUrl) */
	signer_key *key;      /* --sign-key, loaded (password checked) before any build */
	bool unsigned_ok;     /* --unsigned-ok: may replace a signed output unsigned */
	cJSON *json;          /* --json: the "images" array, else NULL */
	const char *cache_to, *cache_from; /* --cache-to, --cache-from */
	struct rebuild_cache *cache;       /* opened from them (or NULL) */
};

struct measured {
	uint64_t size;        /* the image's blobs, measured in the staged layout */
	size_t layers;
};

/* ---- what the summary line and --json report ------------------------------- */

static cJSON *blob_json(const char *dir, const char *digest, perr *e)
{
	char *p = NULL;
	strbuf sb = STRBUF_INIT;
	cJSON *j = NULL;

	if (!str_starts(digest, "sha256:") || strchr(digest + 7, '/')) {
		perr_set(e, "%s: bad digest '%s'", dir, digest);
		return NULL;
	}
	p = xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
	if (read_file(p, &sb, 64u << 20, e) == 0 && !(j = cJSON_ParseWithLength(sb.buf, sb.len)))
		perr_set(e, "%s: not JSON", p);
	sb_release(&sb);
	free(p);
	return j;
}

/* Add descriptor d's blob (once) and, for an index or a manifest, what it
 * names: the manifests, the config, the layers (counted once each). */
static int measure(const char *dir, const cJSON *d, strvec *seen, uint64_t *size,
		   size_t *layers, bool layer, perr *e)
{
	const cJSON *dg = cJSON_GetObjectItemCaseSensitive(d, "digest");
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(d, "size");
	const cJSON *m;
	cJSON *j;
	int ret = 0;

	if (!cJSON_IsString(dg) || !cJSON_IsNumber(sz) || sz->valuedouble < 0)
		return perr_set(e, "%s: a descriptor without digest or size", dir);
	if (sv_contains(seen, dg->valuestring))
		return 0;
	sv_push(seen, dg->valuestring);
	*size += (uint64_t)sz->valuedouble;
	if (layer) {
		(*layers)++;
		return 0;
	}
	if (!(j = blob_json(dir, dg->valuestring, e)))
		return -1;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "manifests"))
		if (ret == 0)
			ret = measure(dir, m, seen, size, layers, false, e);
	m = cJSON_GetObjectItemCaseSensitive(j, "config");
	if (ret == 0 && m) {
		/* a config is a blob, counted, not followed */
		const cJSON *cd = cJSON_GetObjectItemCaseSensitive(m, "digest");
		const cJSON *cs = cJSON_GetObjectItemCaseSensitive(m, "size");
		if (cJSON_IsString(cd) && cJSON_IsNumber(cs) && !sv_contains(seen, cd->valuestring)) {
			sv_push(seen, cd->valuestring);
			*size += (uint64_t)cs->valuedouble;
		}
	}
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "layers"))
		if (ret == 0)
			ret = measure(dir, m, seen, size, layers, true, e);
	cJSON_Delete(j);
	return ret;
}

/* The image a layout holds (index.json's entry with a ref name that is not
 * a signature tag): the bytes of its distinct blobs and its distinct layers. */
static int layout_measure(const char *dir, uint64_t *size, size_t *layers, perr *e)
{
	char *p = path_join(dir, "index.json");
	strbuf sb = STRBUF_INIT;
	strvec seen = STRVEC_INIT;
	cJSON *j = NULL, *m;
	int ret = -1;

	*size = 0, *layers = 0;
	if (read_file(p, &sb, 64u << 20, e) < 0)
		goto out;
	if (!(j = cJSON_ParseWithLength(sb.buf, sb.len))) {
		perr_set(e, "%s: not JSON", p);
		goto out;
	}
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
		cJSON *ref = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(m, "annotations"),
			OCI_ANN_REF_NAME);
		if (cJSON_IsString(ref) && !str_starts(ref->valuestring, "sha256-")) {
			ret = measure(dir, m, &seen, size, layers, false, e);
			goto out;
		}
	}
	perr_set(e, "%s: no image in index.json", p);
out:
	cJSON_Delete(j);
	sb_release(&sb);
	sv_clear(&seen);
	free(p);
	return ret;
}

/* Measure the image the staged (signed) layout holds, for the summary. */
static int finish_staged(const char *dir, void *arg, perr *e)
{
	struct measured *m = arg;

	return layout_measure(dir, &m->size, &m->layers, e);
}

static int build_one(const char *arg, const struct lock *l, const struct build_args *a,
		     bool many, perr *e)
{
	char *path = cli_recipe_path(arg), *outdir = NULL;
	struct recipe *r = NULL;
	struct lock_recipe *lr;
	struct build_opts o = { 0 };
	struct build_result res = { 0 };
	struct measured fs = { 0, 0 };
	struct rebuild_build_opts ro = { a->key, a->source_url, false, a->push, a->reg };
	char hs[16];
	unsigned flags = (a->key ? OUT_SIGNED : 0) | (a->unsigned_ok ? OUT_UNSIGNED_OK : 0);
	int ret = -1;

	r = recipe_load(path, e);
	if (!r)
		goto out;
	lr = lock_find(l, r->name);
	if (!lr) {
		perr_set(e, "recipe %s is not in %s: run 'pare lock %s'", r->name, cli_lock_path(),
			 r->name);
		goto out;
	}
	if (!lr->recipe_sha256 || strcmp(lr->recipe_sha256, r->sha256)) {
		perr_set(e, "%s changed since %s was written: run 'pare lock %s'", path,
			 cli_lock_path(), r->name);
		goto out;
	}
	for (size_t i = 0; i < a->archs.n; i++) {
		bool found = false;
		for (size_t k = 0; k < lr->narchs; k++)
			found |= !strcmp(lr->archs[k].arch, a->archs.v[i]);
		if (!found) {
			strbuf locked = STRBUF_INIT;
			for (size_t k = 0; k < lr->narchs; k++)
				sb_addf(&locked, "%s%s", k ? ", " : "", lr->archs[k].arch);
			perr_set(e,
				 "recipe %s is not locked for architecture '%s' (locked: %s): add it to `archs:` in %s and run 'pare lock %s'",
				 r->name, a->archs.v[i], locked.len ? locked.buf : "none", path,
				 r->name);
			sb_release(&locked);
			goto out;
		}
	}
	/* -o DIR is one image's layout; else OUTROOT/RECIPE (--tar alone: none) */
	if (a->outdir)
		outdir = out_path(a->outdir);
	else if (many || !a->tarfile || a->outroot)
		outdir = xasprintf("%s/%s", a->outroot ? a->outroot : "out", r->name);
	/* what would be replaced is checked before anything is built */
	if (outdir && out_check_dir(outdir, flags, e) < 0)
		goto out;
	if (!many && a->tarfile && oci_check_tar(a->tarfile, flags, e) < 0)
		goto out;
	o.outdir = outdir;
	o.tarfile = many ? NULL : a->tarfile;
	o.tag = a->tag;
	o.compression = a->compression;
	sv_copy(&o.archs, &a->archs);
	o.single_platform = a->platform != NULL;
	o.max_layers = a->max_layers;
	o.quiet = pare_quiet;
	o.parallel = a->parallel;
	o.out_flags = a->unsigned_ok ? OUT_UNSIGNED_OK : 0;
	/* signed in the staging directory, then measured there: only a
	 * complete, signed layout (and tar) replaces the previous one */
	o.finish = finish_staged;
	o.finish_arg = &fs;
	o.remote = rebuild_cache_remote(a->cache);
	if (rebuild_build(r, lr, &o, &ro, &res, e) < 0)
		goto out;
	/* the summary line: where, what, how big */
	note("%s: %s, %s, %zu layer%s", outdir ? outdir : o.tarfile, res.index_digest,
	     cli_size(fs.size, hs), fs.layers, fs.layers == 1 ? "" : "s");
	if (a->json) {
		cJSON *im = cJSON_CreateObject(), *archs;
		cJSON_AddStringToObject(im, "recipe", r->name);
		if (outdir)
			cJSON_AddStringToObject(im, "path", outdir);
		else
			cJSON_AddNullToObject(im, "path");
		if (o.tarfile)
			cJSON_AddStringToObject(im, "tar", o.tarfile);
		else
			cJSON_AddNullToObject(im, "tar");
		cJSON_AddStringToObject(im, "digest", res.index_digest);
		cJSON_AddNumberToObject(im, "size", (double)fs.size);
		cJSON_AddNumberToObject(im, "layers", (double)fs.layers);
		archs = cJSON_AddArrayToObject(im, "archs");
		for (size_t i = 0; i < res.narchs; i++) {
			cJSON *ar = cJSON_CreateObject();
			cJSON_AddStringToObject(ar, "arch", res.archs[i].arch);
			cJSON_AddStringToObject(ar, "digest", res.archs[i].manifest_digest);
			cJSON_AddItemToArray(archs, ar);
		}
		cJSON_AddItemToArray(a->json, im);
	} else if (many) {
		printf("%s %s\n", r->name, res.index_digest);
	} else {
		printf("%s\n", res.index_digest);
	}
	ret = 0;
out:
	builder_result_release(&res);
	sv_clear(&o.archs);
	recipe_free(r);
	free(outdir);
	free(path);
	return ret;
}

const struct cli_opt cli_lcache_opts[] = {
	{ CLI_CACHE_TO, "cache-to", "REF", 0,
	  "push the layer cache entries to the repository REF (default $PARE_CACHE_TO)" },
	{ CLI_CACHE_FROM, "cache-from", "REF,…", 0,
	  "take missing layers from these repositories (default $PARE_CACHE_FROM)" },
	{ 0 },
};

int cli_cache_open(const char *to, const char *from, const struct registry_opts *reg,
		   struct rebuild_cache **c, perr *e)
{
	const char *et = getenv("PARE_CACHE_TO"), *ef = getenv("PARE_CACHE_FROM");

	*c = NULL;
	if (!to && et && *et)
		to = et;
	if (!from && ef && *ef)
		from = ef;
	if ((to && !*to) || (from && !*from))
		return perr_set(e, "--cache-to and --cache-from take a repository (HOST/REPO)");
	if (!to && !from)
		return 0;
	return rebuild_cache_open(to, from, reg, c, e);
}

const struct cli_opt cli_build_opts[] = {
	{ 'a', "all", NULL, 0, "build every recipe in recipes/ (each into OUTROOT/NAME)" },
	{ 'o', "output", "DIR", CLI_SHORT, "one recipe's OCI layout in DIR (default out/NAME)" },
	{ 'R', "outroot", "DIR", 0, "each image in DIR/NAME (default out)" },
	{ 't', "tar", "FILE", 0, "also (or, without -o, only) an oci-archive FILE (one recipe)" },
	{ 'A', "arch", "A,…", 0, "only these of the locked architectures" },
	{ 'p', "platform", "linux/ARCH", 0,
	  "one single-platform image of that locked architecture (not with --arch)" },
	{ 'T', "tag", "T", 0, "the image's ref name in index.json (default latest)" },
	{ 'c', "compression", "gzip|zstd", 0, "the layers' compression (default gzip)" },
	{ 'm', "max-layers", "N", 0, "at most N layers, 2 to 127 (default 64)" },
	{ 'j', "jobs", "N", CLI_SHORT, "N .deb downloads at once, 1 to 64 (default 8)" },
	{ 'K', "sign-key", "KEY", 0, "sign the image (and attach attestations) with KEY" },
	{ 'N', "unsigned-ok", NULL, 0, "may replace a signed output with an unsigned one" },
	{ 'u', "source-url", "URL", 0,
	  "org.opencontainers.image.source (default: git config pare.sourceUrl)" },
	{ 'P', "push", "REF", 0, "push the built layout to REF (one recipe; the registry options)" },
	CLI_OPTS_INCLUDE(cli_registry_opts),
	CLI_OPTS_INCLUDE(cli_lcache_opts),
	{ 'F', "fail-fast", NULL, 0, "stop at the first recipe that fails (default: build the others)" },
	{ 'J', "json", NULL, 0, "the images (path, digest, size, layers, archs) as JSON on stdout" },
	{ 'q', "quiet", NULL, CLI_SHORT, "no progress messages" },
	{ 0 },
};

int cmd_build(int argc, char **argv, perr *e)
{
	struct build_args a = { 0 };
	strvec recipes = STRVEC_INIT;
	struct lock l = { 0 };
	struct cli_registry reg = { 0 };
	struct registry_opts copts;     /* the cache's: reg's, mounting from --push */
	struct registry_ref pref = { 0 };
	perr ign;
	struct cli_args ca;
	char *plat_arch = NULL;
	bool lock_loaded = false, json = false;
	cJSON *doc = NULL, *errs = NULL;
	size_t nfail = 0;
	int ret = -1, c;
	char *end;

	a.compression = "gzip";
	cli_args_init(&ca, argc, argv, cli_build_opts);
	while ((c = cli_args_next(&ca, e)) > 0) {
		const char *v = ca.val;
		if (cli_registry_opt(&reg, c, v))
			continue;
		switch (c) {
		case 'a': a.all = true; break;
		case 'o': a.outdir = v; break;
		case 'R': a.outroot = v; break;
		case 'N': a.unsigned_ok = true; break;
		case 't': a.tarfile = v; break;
		case 'A': sv_split(&a.archs, v, ","); break;
		case 'p': a.platform = v; break;
		case 'T': a.tag = v; break;
		case 'K': a.sign_key = v; break;
		case 'P': a.push = v; break;
		case 'u': a.source_url = v; break;
		case 'F': a.fail_fast = true; break;
		case 'J': json = true; break;
		case 'c':
			if (strcmp(v, "gzip") && strcmp(v, "zstd")) {
				perr_set(e, "build: --compression must be gzip or zstd, not '%s'", v);
				goto out;
			}
			a.compression = v;
			break;
		case 'm':
			a.max_layers = (int)strtol(v, &end, 10);
			if (*end || a.max_layers < 2 || a.max_layers > 127) {
				perr_set(e, "build: --max-layers must be a number from 2 to 127");
				goto out;
			}
			break;
		case 'j':
			a.parallel = (int)strtol(v, &end, 10);
			if (*end || a.parallel < 1 || a.parallel > 64) {
				perr_set(e, "build: --jobs must be a number from 1 to 64");
				goto out;
			}
			break;
		case 'q': pare_quiet = 1; break;
		case CLI_CACHE_TO: a.cache_to = v; break;
		case CLI_CACHE_FROM: a.cache_from = v; break;
		}
	}
	if (c < 0)
		goto out;
	if (a.platform) {
		if (a.archs.n) {
			perr_set(e, "build: give --platform (one single-platform image) or --arch, not both");
			goto out;
		}
		if (oci_platform_parse(a.platform, &plat_arch, e) < 0) {
			perr_prefix(e, "build");
			goto out;
		}
		sv_push(&a.archs, plat_arch);
	}
	if (a.tag && (!*a.tag || strpbrk(a.tag, "/: \t\n"))) {
		perr_set(e, "build: bad --tag '%s'", a.tag);
		goto out;
	}
	if (a.all) {
		if (ca.nops) {
			perr_set(e, "build: give recipes or --all, not both");
			goto out;
		}
		if (recipe_list(cli_recipes_dir(), &recipes, e) < 0)
			goto out;
		if (!recipes.n) {
			perr_set(e, "build: no recipes in %s", cli_recipes_dir());
			goto out;
		}
	} else {
		for (int i = 1; i <= ca.nops; i++)
			sv_push(&recipes, argv[i]);
		if (!recipes.n) {
			perr_set(e, "build: which recipe? (pare build RECIPE… | --all)");
			goto out;
		}
	}
	if (a.outdir && (a.all || recipes.n > 1)) {
		perr_set(e, "build: -o names one image's layout; for several recipes use --outroot DIR "
			 "(each image in DIR/NAME)");
		goto out;
	}
	if (a.outdir && a.outroot) {
		perr_set(e, "build: give -o (one image's layout) or --outroot, not both");
		goto out;
	}
	if (a.push && (a.all || recipes.n > 1 || (!a.outdir && a.tarfile))) {
		perr_set(e, "build: --push takes one recipe built to an OCI layout (not only --tar)");
		goto out;
	}
	if (cli_registry_finish(&reg, e) < 0)
		goto out;
	a.reg = &reg.o;
	/* --push to the cache's registry: the cache's blobs the image repository
	 * already has (its earlier versions' layers) are mounted from it */
	copts = reg.o;
	if (a.push && a.cache_to && registry_ref_parse(a.push, &pref, &ign) == 0 &&
	    !strncmp(a.cache_to, pref.host, strlen(pref.host)) &&
	    a.cache_to[strlen(pref.host)] == '/')
		copts.mount_from = pref.repo;
	if (cli_cache_open(a.cache_to, a.cache_from, &copts, &a.cache, e) < 0) {
		perr_prefix(e, "build");
		goto out;
	}
	if ((a.all || recipes.n > 1) && a.tarfile) {
		perr_set(e, "build: --tar takes one recipe");
		goto out;
	}
	if (!path_exists(cli_lock_path())) {
		perr_set(e, "%s does not exist: run 'pare lock' first (it resolves %s/*.yaml)",
			 cli_lock_path(), cli_recipes_dir());
		goto out;
	}
	if (lock_read(cli_lock_path(), &l, false, e) < 0)
		goto out;
	lock_loaded = true;
	/* the key and its password before anything is built or moved */
	if (a.sign_key && signer_load_private(a.sign_key, &a.key, e) < 0) {
		perr_prefix(e, "build: --sign-key");
		goto out;
	}
	if (json) {
		doc = cJSON_CreateObject();
		a.json = cJSON_AddArrayToObject(doc, "images");
	}
	/* keep going (make -k): a recipe that fails is reported and the others
	 * are built, each image swapped in only when complete; exit 2 at the end */
	for (size_t i = 0; i < recipes.n; i++) {
		if (build_one(recipes.v[i], &l, &a, a.all || recipes.n > 1, e) == 0)
			continue;
		if (json) {
			cJSON *er = cJSON_CreateObject();
			if (!errs)
				errs = cJSON_AddArrayToObject(doc, "errors");
			cJSON_AddStringToObject(er, "recipe", recipes.v[i]);
			cJSON_AddStringToObject(er, "error", e->msg);
			cJSON_AddItemToArray(errs, er);
		}
		if (a.fail_fast || recipes.n == 1)
			goto done;
		cli_report(e->msg);
		nfail++;
	}
	if (nfail) {
		perr_set(e, "build: %zu of %zu recipes failed", nfail, recipes.n);
		goto done;
	}
	ret = 0;
done:
	if (doc) {
		char *s = cJSON_Print(doc);
		printf("%s\n", s);
		free(s);
	}
out:
	if (lock_loaded)
		lock_release(&l);
	sv_clear(&recipes);
	sv_clear(&a.archs);
	rebuild_cache_close(a.cache);
	registry_ref_free(&pref);
	cli_registry_release(&reg);
	signer_key_free(a.key);
	free(plat_arch);
	cJSON_Delete(doc);
	return ret;
}
