/* query.c - the questions pare inventory answers, each as one table: printed
 * aligned for people, as CSV (RFC 4180) for spreadsheets, or as JSON
 * {"question", <facts>, "columns", "rows", "notes"} (docs/inventory.md). */
#include "inventory.h"
#include "../cve/cve.h"
#include "../oci/oci.h"
#include "../rebuild/rebuild.h"
#include "../resolver/resolver.h"
#include "../signer/signer.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- one table, three formats ------------------------------------------------ */

struct col {
	const char *name;
	char kind; /* 's' string, 'n' number, 'c' commit id (12 digits in the text table) */
};

struct table {
	const char *question;
	const struct col *cols;
	size_t ncols;
	strvec cells; /* row-major; "" is an empty cell (null in JSON) */
	strvec facts; /* key, value pairs: the answer's context (commit, date, …) */
	strvec notes; /* sentences about the answer */
};

static void cell(struct table *t, const char *s)
{
	sv_push(&t->cells, s ? s : "");
}

static void table_release(struct table *t)
{
	sv_clear(&t->cells), sv_clear(&t->facts), sv_clear(&t->notes);
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int table_print(const struct table *t, enum inventory_format fmt, FILE *f, perr *e)
{
	size_t nrows = t->cells.n / t->ncols;

	if (fmt == INV_JSON) {
		cJSON *j = cJSON_CreateObject(), *cols = cJSON_CreateArray(), *rows = cJSON_CreateArray();
		cJSON *notes = cJSON_CreateArray();
		char *s;

		cJSON_AddStringToObject(j, "question", t->question);
		for (size_t i = 0; i + 1 < t->facts.n; i += 2)
			cJSON_AddStringToObject(j, t->facts.v[i], t->facts.v[i + 1]);
		for (size_t c = 0; c < t->ncols; c++)
			cJSON_AddItemToArray(cols, cJSON_CreateString(t->cols[c].name));
		cJSON_AddItemToObject(j, "columns", cols);
		for (size_t r = 0; r < nrows; r++) {
			cJSON *o = cJSON_CreateObject();
			for (size_t c = 0; c < t->ncols; c++) {
				const char *v = t->cells.v[r * t->ncols + c];
				if (!*v)
					cJSON_AddNullToObject(o, t->cols[c].name);
				else if (t->cols[c].kind == 'n')
					cJSON_AddNumberToObject(o, t->cols[c].name, strtod(v, NULL));
				else
					cJSON_AddStringToObject(o, t->cols[c].name, v);
			}
			cJSON_AddItemToArray(rows, o);
		}
		cJSON_AddItemToObject(j, "rows", rows);
		for (size_t i = 0; i < t->notes.n; i++)
			cJSON_AddItemToArray(notes, cJSON_CreateString(t->notes.v[i]));
		cJSON_AddItemToObject(j, "notes", notes);
		s = cJSON_Print(j);
		cJSON_Delete(j);
		if (!s)
			return perr_set(e, "out of memory");
		fprintf(f, "%s\n", s);
		free(s);
		return 0;
	}
	if (fmt == INV_CSV) {
		for (size_t c = 0; c < t->ncols; c++) {
			fputs(c ? "," : "", f);
			csv_field(f, t->cols[c].name);
		}
		fputs("\r\n", f);
		for (size_t r = 0; r < nrows; r++) {
			for (size_t c = 0; c < t->ncols; c++) {
				fputs(c ? "," : "", f);
				csv_field(f, t->cells.v[r * t->ncols + c]);
			}
			fputs("\r\n", f);
		}
		for (size_t i = 0; i < t->notes.n; i++)
			fprintf(stderr, "pare: note: %s\n", t->notes.v[i]);
		return 0;
	}
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	for (size_t c = 0; c < t->ncols; c++)
		w[c] = strlen(t->cols[c].name);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells.v[r * t->ncols + c]);
			if (t->cols[c].kind == 'c' && n > 12)
				n = 12;
			if (n > w[c])
				w[c] = n;
		}
	for (size_t i = 0; i + 1 < t->facts.n; i += 2)
		fprintf(f, "%s: %s\n", t->facts.v[i], t->facts.v[i + 1]);
	for (size_t c = 0; c < t->ncols; c++)
		fprintf(f, "%s%-*s", c ? "  " : "", c + 1 < t->ncols ? (int)w[c] : 0, t->cols[c].name);
	fputc('\n', f);
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *v = t->cells.v[r * t->ncols + c];
			int prec;

			if (!*v)
				v = "-";
			prec = t->cols[c].kind == 'c' ? 12 : (int)strlen(v);
			fprintf(f, "%s%-*.*s", c ? "  " : "", c + 1 < t->ncols ? (int)w[c] : 0, prec, v);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < t->notes.n; i++)
		fprintf(f, "note: %s\n", t->notes.v[i]);
	free(w);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static void date_of(int64_t t, char buf[TIME_RFC3339_LEN])
{
	time_rfc3339(t, buf);
}

/* The commit's date and id as two cells. */
static void commit_cells(struct table *t, const struct inventory *inv, uint32_t c)
{
	char d[TIME_RFC3339_LEN];

	if (c == INV_OPEN || c >= inv->ncommits) {
		cell(t, NULL), cell(t, NULL);
		return;
	}
	date_of(inv->commits[c].time, d);
	cell(t, d);
	cell(t, inv->commits[c].id);
}

/* The last "pare update" event for image (arch NULL: its index) at or
 * before commit c; NULL when none. */
static bool last_event(const struct inventory *inv, const char *image, const char *arch,
		       uint32_t c, struct inv_event *best)
{
	bool found = false;

	for (uint32_t i = 0; i < inv->nevents; i++) {
		struct inv_event v;

		inventory_event(inv, i, &v);
		if (v.commit > c)
			break; /* the events are by commit */
		if (!strcmp(v.image, image) && (arch ? v.arch && !strcmp(v.arch, arch) : !v.arch))
			*best = v, found = true;
	}
	return found;
}

/* The digest of the index pare build named in the layout at dir, and of the
 * manifest for arch in it (either NULL when not there). */
static void layout_digests(const char *dir, const char *arch, char **index, char **manifest)
{
	struct oci_layout l;
	strbuf sb = STRBUF_INIT;
	perr e2;
	cJSON *j = NULL;
	const cJSON *m;

	*index = *manifest = NULL;
	if (oci_layout_open(dir, &l, &e2) < 0)
		return;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(l.index, "manifests")) {
		const char *ref = oci_annotation(m, OCI_ANN_REF_NAME), *dg = oci_json_str(m, "digest");
		if (ref && !oci_tag_is_attached(ref) && dg) {
			*index = xstrdup(dg);
			break;
		}
	}
	if (*index && oci_layout_read_blob(&l, *index, -1, OCI_MAX_JSON, &sb, &e2) == 0 &&
	    (j = cJSON_ParseWithLength(sb.buf, sb.len)))
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "manifests")) {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "platform");
			const char *a = oci_json_str(p, "architecture"), *dg = oci_json_str(m, "digest");
			const char *oarch, *variant;

			oci_deb_platform(arch, &oarch, &variant);
			if (a && !strcmp(a, oarch) && dg) {
				*manifest = xstrdup(dg);
				break;
			}
		}
	cJSON_Delete(j);
	sb_release(&sb);
	oci_layout_close(&l);
}

/* ---- no question: the overview ------------------------------------------------ */

static int overview(const struct inventory_opts *o, struct table *t, perr *e)
{
	static const struct col cols[] = {
		{ "image", 's' }, { "arch", 's' }, { "digest", 's' }, { "packages", 'n' },
		{ "signature", 's' }, { "rebuilt", 's' }, { "commit", 'c' }, { "reason", 's' },
	};
	struct lock lock = { 0 };
	struct inventory inv = { 0 };
	bool have_inv;
	perr e2;
	int ret = -1;

	t->question = "overview", t->cols = cols, t->ncols = ARRAY_SIZE(cols);
	if (lock_read(o->lock, &lock, false, e) < 0)
		return -1;
	have_inv = inventory_open(o->lock, &inv, &e2) == 0;
	if (!have_inv)
		sv_pushf(&t->notes, "no rebuild history: %s", e2.msg);
	else if (inv.warning)
		sv_push(&t->notes, inv.warning);
	for (size_t i = 0; i < lock.nrecipes; i++) {
		const struct lock_recipe *r = &lock.recipes[i];
		char *dir = xasprintf("%s/%s", o->outroot, r->name);
		bool built = is_dir(dir);

		for (size_t a = 0; a < r->narchs; a++) {
			char *idx = NULL, *man = NULL, n[32];
			struct inv_event ev;
			bool have_ev = false;

			if (built)
				layout_digests(dir, r->archs[a].arch, &idx, &man);
			cell(t, r->name);
			cell(t, r->archs[a].arch);
			cell(t, man);
			snprintf(n, sizeof(n), "%zu", r->archs[a].npkgs);
			cell(t, n);
			if (!idx) {
				cell(t, "not built");
			} else if (o->key) {
				if (signer_verify_layout(dir, o->key, r->archs[a].arch, NULL, NULL, &e2) == 0) {
					cell(t, "verified");
				} else {
					char *s = xasprintf("bad: %s", e2.msg);
					cell(t, s);
					free(s);
				}
			} else {
				cell(t, out_layout_signed(dir) ? "signed" : "unsigned");
			}
			/* the arch's line of the last update commit, else its index line */
			if (have_inv && inv.ncommits)
				have_ev = last_event(&inv, r->name, r->archs[a].arch,
						     (uint32_t)inv.ncommits - 1, &ev) ||
					  last_event(&inv, r->name, NULL, (uint32_t)inv.ncommits - 1, &ev);
			if (have_ev) {
				commit_cells(t, &inv, ev.commit);
				cell(t, ev.reason);
			} else {
				cell(t, NULL), cell(t, NULL), cell(t, NULL);
			}
			free(idx), free(man);
		}
		free(dir);
	}
	if (o->key == NULL)
		sv_push(&t->notes, "signature: whether the layout holds a cosign signature; --key PUB "
				   "verifies it");
	ret = 0;
	inventory_release(&inv);
	lock_release(&lock);
	return ret;
}

/* ---- --package NAME[=VERSION|<VERSION] ----------------------------------------- */

static int q_package(const struct inventory_opts *o, struct table *t, perr *e)
{
	static const struct col cols[] = {
		{ "image", 's' }, { "arch", 's' }, { "package", 's' }, { "version", 's' },
		{ "source", 's' }, { "source_version", 's' }, { "since", 's' }, { "commit", 'c' },
	};
	struct inventory inv;
	char *name = xstrdup(o->package), *ver = NULL, op = 0;
	const uint32_t *bins, *srcs;
	size_t nb, ns;
	int ret = -1;

	t->question = "package", t->cols = cols, t->ncols = ARRAY_SIZE(cols);
	if ((ver = strpbrk(name, "=<"))) {
		op = *ver;
		*ver++ = '\0';
	}
	if (!*name || (ver && !*ver)) {
		free(name);
		return perr_set(e, "--package '%s': not NAME, NAME=VERSION or NAME<VERSION", o->package);
	}
	if (inventory_open(o->lock, &inv, e) < 0) {
		free(name);
		return -1;
	}
	if (inv.warning)
		sv_push(&t->notes, inv.warning);
	sv_push(&t->facts, "package"), sv_push(&t->facts, o->package);
	/* the spans of the binary and of the source name, merged in the order
	 * they opened */
	nb = inventory_find(&inv, INV_BY_NAME, name, NULL, &bins);
	ns = inventory_find(&inv, INV_BY_SOURCE, name, NULL, &srcs);
	for (size_t i = 0, j = 0; i < nb || j < ns;) {
		uint32_t k = j >= ns || (i < nb && bins[i] <= srcs[j]) ? bins[i] : srcs[j];
		struct inv_span sp, *s = &sp;
		bool bin, src;
		const char *v;

		i += i < nb && bins[i] == k;
		j += j < ns && srcs[j] == k;
		inventory_pkg(&inv, k, s);
		bin = !strcmp(s->name, name), src = !strcmp(s->source, name);
		v = bin ? s->version : s->source_version;
		if (s->to != INV_OPEN)
			continue;
		if (op == '=' && strcmp(v, ver) && !(bin && src && !strcmp(s->source_version, ver)))
			continue;
		if (op == '<' && resolver_vercmp(v, ver) >= 0)
			continue;
		cell(t, s->image), cell(t, s->arch), cell(t, s->name), cell(t, s->version);
		cell(t, s->source), cell(t, s->source_version);
		commit_cells(t, &inv, s->from);
	}
	ret = 0;
	inventory_release(&inv);
	free(name);
	return ret;
}

/* ---- --image NAME --at DATE|COMMIT --------------------------------------------- */

/* The commit --at names: an indexed commit id (4 hex digits or more, unique),
 * or a date (YYYY-MM-DD: the end of that day, UTC; or RFC 3339): the last
 * commit at or before it. */
static int at_commit(const struct inventory *inv, const char *at, uint32_t *c, perr *e)
{
	int64_t t;
	size_t n = strlen(at), hits = 0;

	if (cve_parse_date(at, &t) == 0) {
		if (n == 10)
			t += 86399;
		for (size_t i = 0; i < inv->ncommits; i++)
			if (inv->commits[i].time <= t)
				*c = (uint32_t)i, hits++;
		if (!hits)
			return perr_set(e, "--at %s: before the first commit of %s", at, inv->lock_rel);
		return 0;
	}
	if (n >= 4 && n <= 40 && strspn(at, "0123456789abcdef") == n)
		for (size_t i = 0; i < inv->ncommits; i++)
			if (!strncmp(inv->commits[i].id, at, n))
				*c = (uint32_t)i, hits++;
	if (hits == 1)
		return 0;
	if (hits > 1)
		return perr_set(e, "--at %s: more than one commit starts so", at);
	return perr_set(e, "--at %s: neither a date (YYYY-MM-DD, RFC 3339) nor a commit in the "
			   "first-parent history of %s", at, inv->lock_rel);
}

static int q_image(const struct inventory_opts *o, struct table *t, perr *e)
{
	static const struct col cols[] = {
		{ "arch", 's' }, { "digest", 's' }, { "package", 's' }, { "version", 's' },
		{ "source", 's' }, { "source_version", 's' },
	};
	struct inventory inv;
	uint32_t c = 0;
	char d[TIME_RFC3339_LEN];
	struct inv_event iev;
	bool have_iev;
	size_t nimg = 0;
	int ret = -1;

	t->question = "image", t->cols = cols, t->ncols = ARRAY_SIZE(cols);
	if (inventory_open(o->lock, &inv, e) < 0)
		return -1;
	if (at_commit(&inv, o->at, &c, e) < 0)
		goto out;
	date_of(inv.commits[c].time, d);
	sv_push(&t->facts, "image"), sv_push(&t->facts, o->image);
	sv_push(&t->facts, "commit"), sv_push(&t->facts, inv.commits[c].id);
	sv_push(&t->facts, "date"), sv_push(&t->facts, d);
	have_iev = last_event(&inv, o->image, NULL, c, &iev);
	for (uint32_t i = 0; i < inv.nimages; i++) {
		struct inv_span ims, *im = &ims;
		struct inv_event ev;
		uint32_t changed;
		const char *digest = NULL;
		const uint32_t *ids;
		size_t nids;

		inventory_image(&inv, i, im);
		changed = im->from;
		if (strcmp(im->image, o->image) || im->from > c || (im->to != INV_OPEN && im->to <= c))
			continue;
		nimg++;
		nids = inventory_find(&inv, INV_BY_IMAGE, im->image, im->arch, &ids);
		/* the lock's last change to this arch at or before c: a digest
		 * recorded before it is of an older closure */
		for (size_t k = 0; k < nids; k++) {
			struct inv_span s;

			inventory_pkg(&inv, ids[k], &s);
			if (s.from <= c && s.from > changed)
				changed = s.from;
			if (s.to != INV_OPEN && s.to <= c && s.to > changed)
				changed = s.to;
		}
		if (last_event(&inv, o->image, im->arch, c, &ev) && ev.commit >= changed) {
			digest = ev.digest;
			sv_pushf(&t->notes, "%s digest: from the pare update commit %.12s", im->arch,
				 inv.commits[ev.commit].id);
		} else {
			sv_pushf(&t->notes, "%s digest: unknown (no pare update commit recorded one for "
					    "this closure; the lock history holds no digests)", im->arch);
		}
		for (size_t k = 0; k < nids; k++) {
			struct inv_span sp, *s = &sp;

			inventory_pkg(&inv, ids[k], s);
			if (s->from > c || (s->to != INV_OPEN && s->to <= c))
				continue;
			cell(t, s->arch), cell(t, digest), cell(t, s->name), cell(t, s->version);
			cell(t, s->source), cell(t, s->source_version);
		}
	}
	if (have_iev) {
		sv_push(&t->facts, "index_digest"), sv_push(&t->facts, iev.digest);
	}
	if (!nimg) {
		perr_set(e, "image %s is not in %s at commit %.12s (%s)", o->image, inv.lock_rel,
			 inv.commits[c].id, d);
		goto out;
	}
	/* the rows by arch, then package: the spans are in the order they opened */
	{
		size_t nr = t->cells.n / t->ncols;
		char **rows = xcalloc(nr + 1, sizeof(*rows));
		strvec sorted = STRVEC_INIT;

		for (size_t r = 0; r < nr; r++)
			rows[r] = xasprintf("%s\t%s\t%zu", t->cells.v[r * t->ncols],
					    t->cells.v[r * t->ncols + 2], r);
		for (size_t r = 0; r < nr; r++)
			sv_push_nodup(&sorted, rows[r]);
		sv_sort(&sorted);
		{
			strvec cells = STRVEC_INIT;
			for (size_t r = 0; r < nr; r++) {
				size_t k = strtoul(strrchr(sorted.v[r], '\t') + 1, NULL, 10);
				for (size_t x = 0; x < t->ncols; x++)
					sv_push(&cells, t->cells.v[k * t->ncols + x]);
			}
			sv_clear(&t->cells);
			t->cells = cells;
		}
		sv_clear(&sorted);
		free(rows);
	}
	ret = 0;
out:
	inventory_release(&inv);
	return ret;
}

/* ---- --cve ID ------------------------------------------------------------------- */

struct fix {
	char *codename, *source, *fixed; /* fixed NULL: no fix published */
	bool not_affected;
};

static int span_time_cmp(const void *a, const void *b)
{
	const struct inv_span *x = a, *y = b;
	int c = strcmp(x->image, y->image);

	if (!c)
		c = strcmp(x->arch, y->arch);
	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x->from > y->from) - (x->from < y->from);
}

static const char *codename_of(const struct inventory *inv, const char *image, const char *arch)
{
	const char *cn = NULL;

	for (uint32_t i = 0; i < inv->nimages; i++) {
		struct inv_span s;

		inventory_image(inv, i, &s);
		if (!strcmp(s.image, image) && !strcmp(s.arch, arch))
			cn = s.codename;
	}
	return cn;
}

static int q_cve(const struct inventory_opts *o, struct table *t, perr *e)
{
	static const struct col cols[] = {
		{ "image", 's' }, { "arch", 's' }, { "package", 's' }, { "version", 's' },
		{ "source", 's' }, { "source_version", 's' }, { "fixed_version", 's' }, { "status", 's' },
		{ "since", 's' }, { "since_commit", 'c' }, { "fixed", 's' }, { "fixed_commit", 'c' },
	};
	struct inventory inv = { 0 };
	struct cve_config cfg = { 0 };
	struct cve_report rep = { 0 };
	struct cve_subject *subj = NULL;
	struct fix *fx = NULL;
	struct inv_span *sp = NULL;
	strvec codenames = STRVEC_INIT, sources = STRVEC_INIT;
	size_t nfx = 0, nsp = 0;
	int ret = -1;

	t->question = "cve", t->cols = cols, t->ncols = ARRAY_SIZE(cols);
	sv_push(&t->facts, "cve"), sv_push(&t->facts, o->cve);
	if (cve_config_load(&cfg, e) < 0)
		return -1;
	if (!cve_synced()) {
		perr_set(e, "--cve needs the CVE feeds, and none is synced: run 'pare cve sync' "
			    "first (docs/cve.md)");
		goto out;
	}
	if (inventory_open(o->lock, &inv, e) < 0)
		goto out;
	if (inv.warning)
		sv_push(&t->notes, inv.warning);
	for (uint32_t i = 0; i < inv.nimages; i++) {
		struct inv_span s;

		inventory_image(&inv, i, &s);
		if (*s.codename && !sv_contains(&codenames, s.codename))
			sv_push(&codenames, s.codename);
	}
	for (size_t i = 0; i < inv.nsources; i++)
		sv_push(&sources, inventory_source(&inv, i));
	/* one subject per codename holding every source at version "0": the
	 * matcher then gives each source's fixed version for that codename */
	subj = xcalloc(codenames.n + 1, sizeof(*subj));
	for (size_t c = 0; c < codenames.n; c++) {
		subj[c].name = xstrdup(codenames.v[c]);
		subj[c].codename = xstrdup(codenames.v[c]);
		subj[c].pkgs = xcalloc(sources.n + 1, sizeof(*subj[c].pkgs));
		subj[c].npkgs = sources.n;
		for (size_t s = 0; s < sources.n; s++) {
			struct cve_pkg *p = &subj[c].pkgs[s];
			p->name = xstrdup(sources.v[s]), p->version = xstrdup("0");
			p->arch = xstrdup("source"), p->source = xstrdup(sources.v[s]);
			p->source_version = xstrdup("0");
			p->purl = xasprintf("pkg:deb/debian/%s@0", sources.v[s]);
		}
	}
	if (cve_match(&cfg, subj, codenames.n, 0, &rep, e) < 0) {
		subj = NULL; /* the report has them */
		goto out;
	}
	subj = NULL;
	if (rep.stale)
		sv_push(&t->notes, rep.stale);
	fx = xcalloc(rep.nfindings + 1, sizeof(*fx));
	for (size_t i = 0; i < rep.nfindings; i++) {
		const struct cve_finding *f = &rep.findings[i];
		if (strcmp(f->id, o->cve))
			continue;
		fx[nfx++] = (struct fix){ rep.subjects[f->subject].codename, f->source,
					  f->fixed_version, f->cls == CVE_NOT_AFFECTED };
	}
	if (!nfx)
		sv_pushf(&t->notes, "%s: the CVE feeds name no source package any image has had",
			 o->cve);
	/* every span of an affected source, per image, arch and package in time order */
	for (size_t k = 0; k < nfx; k++) {
		const uint32_t *ids;
		size_t n;
		bool seen = false;

		for (size_t x = 0; x < k && !seen; x++)
			seen = !strcmp(fx[x].source, fx[k].source);
		if (seen)
			continue;
		n = inventory_find(&inv, INV_BY_SOURCE, fx[k].source, NULL, &ids);
		sp = xrealloc(sp, (nsp + n + 1) * sizeof(*sp));
		for (size_t i = 0; i < n; i++)
			inventory_pkg(&inv, ids[i], &sp[nsp++]);
	}
	if (nsp)
		qsort(sp, nsp, sizeof(*sp), span_time_cmp);
	for (size_t i = 0; i < nsp;) {
		const char *cn = codename_of(&inv, sp[i].image, sp[i].arch);
		const struct fix *f = NULL;
		size_t j = i;

		for (size_t k = 0; k < nfx; k++)
			if (cn && !strcmp(fx[k].codename, cn) && !strcmp(fx[k].source, sp[i].source))
				f = &fx[k];
		/* the spans of this image, arch and package */
		while (j < nsp && !strcmp(sp[j].image, sp[i].image) &&
		       !strcmp(sp[j].arch, sp[i].arch) && !strcmp(sp[j].name, sp[i].name))
			j++;
		for (size_t k = i; f && !f->not_affected && k < j;) {
			const struct inv_span *first = &sp[k], *last;
			const char *status;
			uint32_t end;

			if (strcmp(sp[k].source, f->source) ||
			    (f->fixed && resolver_vercmp(sp[k].source_version, f->fixed) >= 0)) {
				k++;
				continue;
			}
			/* an affected run: contiguous affected spans */
			last = &sp[k++];
			while (k < j && sp[k].from == last->to && !strcmp(sp[k].source, f->source) &&
			       !(f->fixed && resolver_vercmp(sp[k].source_version, f->fixed) >= 0))
				last = &sp[k++];
			end = last->to;
			if (end == INV_OPEN)
				status = "affected";
			else if (k < j && sp[k].from == end)
				status = "fixed";
			else
				status = "removed";
			cell(t, last->image), cell(t, last->arch), cell(t, last->name);
			cell(t, last->version), cell(t, last->source), cell(t, last->source_version);
			cell(t, f->fixed);
			cell(t, status);
			commit_cells(t, &inv, first->from);
			commit_cells(t, &inv, end);
		}
		i = j;
	}
	ret = 0;
out:
	if (subj) {
		for (size_t c = 0; c < codenames.n; c++)
			cve_subject_release(&subj[c]);
		free(subj);
	}
	free(fx), free(sp);
	sv_clear(&codenames), sv_clear(&sources);
	cve_report_release(&rep);
	cve_config_release(&cfg);
	inventory_release(&inv);
	return ret;
}

/* ---- --updates ------------------------------------------------------------------ */

static int q_updates(const struct inventory_opts *o, struct table *t, perr *e)
{
	static const struct col cols[] = {
		{ "image", 's' }, { "arch", 's' }, { "package", 's' }, { "version", 's' },
		{ "available", 's' },
	};
	struct rebuild_plan p = { 0 };
	strvec files = STRVEC_INIT;

	t->question = "updates", t->cols = cols, t->ncols = ARRAY_SIZE(cols);
	if (rebuild_plan_make(&files, o->recipes_dir, o->lock, false, false, &p, e) < 0)
		return -1;
	for (size_t i = 0; i < p.errors.n; i++)
		sv_pushf(&t->notes, "%s", p.errors.v[i]);
	for (size_t i = 0; i < p.n; i++) {
		const struct rebuild_item *it = &p.items[i];
		if (!it->old)
			continue; /* not locked yet: nothing in use */
		for (size_t k = 0; k < it->ch.n; k++) {
			const struct lock_change *c = &it->ch.v[k];
			if (c->kind != LC_CHANGED || !c->arch)
				continue;
			cell(t, it->r->name), cell(t, c->arch), cell(t, c->package);
			cell(t, c->old_version), cell(t, c->new_version);
		}
	}
	rebuild_plan_release(&p);
	return 0;
}

int inventory_run(const struct inventory_opts *o, FILE *f, perr *e)
{
	struct table t = { 0 };
	int ret;

	if (o->package)
		ret = q_package(o, &t, e);
	else if (o->cve)
		ret = q_cve(o, &t, e);
	else if (o->image)
		ret = q_image(o, &t, e);
	else if (o->updates)
		ret = q_updates(o, &t, e);
	else
		ret = overview(o, &t, e);
	if (ret == 0)
		ret = table_print(&t, o->format, f, e);
	table_release(&t);
	return ret;
}
