/*
 * match.c - subjects from recipes.lock, and every subject matched against
 * the synced index on its *source* package and *source* version in its
 * codename (binNMUs and differently named sources share their source's
 * CVEs), compared with Debian's version rules (resolver_vercmp: libsolv).
 *
 * Classes (docs/cve.md): resolved with fixed_version "0" is not-affected;
 * resolved with the installed version >= fixed_version is fixed, below it
 * fixable; open is open (its no-dsa / postponed / ignored / end-of-life
 * reason kept); undetermined, and anything else, is undetermined.
 */
#define _GNU_SOURCE
#include "cve_int.h"
#include "../resolver/resolver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *cve_class_name(enum cve_class c)
{
	static const char *const names[] = { "fixable", "open", "undetermined",
					     "fixed", "not-affected", "suppressed" };

	return (unsigned)c < ARRAY_SIZE(names) ? names[c] : "?";
}

void cve_subject_release(struct cve_subject *s)
{
	for (size_t i = 0; i < s->npkgs; i++)
		cve_pkg_release(&s->pkgs[i]);
	free(s->pkgs);
	free(s->name);
	free(s->arch);
	free(s->codename);
	free(s->recipe_file);
	free(s->digest);
	free(s->bom_link);
	memset(s, 0, sizeof(*s));
}

static void finding_release(struct cve_finding *f)
{
	if (f->strings) {
		free(f->strings);
	} else {
		free(f->id);
		free(f->source);
		free(f->installed);
		free(f->fixed_version);
		free(f->open_reason);
		free(f->urgency);
		free(f->description);
		free(f->kev_added);
		free(f->kev_due);
		free(f->first_seen);
		for (size_t i = 0; i < f->nbinaries; i++)
			free(f->binaries[i]);
	}
	free(f->binaries);
	free(f->vex_status);
	free(f->vex_justification);
	free(f->vex_statement);
}

void cve_report_release(struct cve_report *r)
{
	for (size_t i = 0; i < r->nsubjects; i++)
		cve_subject_release(&r->subjects[i]);
	free(r->subjects);
	for (size_t i = 0; i < r->nfindings; i++)
		finding_release(&r->findings[i]);
	free(r->findings);
	free(r->tracker_date);
	free(r->kev_date);
	free(r->epss_date);
	free(r->stale);
	memset(r, 0, sizeof(*r));
}

/* high first; "**" suffixes (the tracker's "derived from other
 * distributions" mark) rank as the word.  Sorting calls this a few
 * hundred thousand times for a fleet: the first byte decides. */
static int urgency_rank(const char *u)
{
	if (!u)
		return 4;
	switch (u[0]) {
	case 'h':
		return str_starts(u, "high") ? 0 : 4;
	case 'm':
		return str_starts(u, "medium") ? 1 : 4;
	case 'l':
		return str_starts(u, "low") ? 2 : 4;
	case 'n':
		return str_starts(u, "not yet assigned") ? 3 : 4;
	case 'u':
		return str_starts(u, "unimportant") ? 5 : 4;
	case 'e':
		return str_starts(u, "end-of-life") ? 6 : 4;
	default:
		return 4;
	}
}

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* cve_finding_cmp with the urgency ranks given (the sort computes each once) */
static int finding_cmp_ranked(const struct cve_finding *a, int ua, const struct cve_finding *b,
			      int ub)
{
	int c;

	if (a->kev != b->kev)
		return a->kev ? -1 : 1;
	if (a->kev) {
		if (a->kev_ransomware != b->kev_ransomware)
			return a->kev_ransomware ? -1 : 1;
		/* the earlier due date first; none last */
		if (!a->kev_due != !b->kev_due)
			return a->kev_due ? -1 : 1;
		if ((c = strcmp0(a->kev_due, b->kev_due)))
			return c;
	}
	if (a->percentile != b->percentile)
		return a->percentile > b->percentile ? -1 : 1;
	if ((c = ua - ub))
		return c;
	/* a fleet compares one CVE of many subjects: equal ids are the common case */
	if (strcmp(a->id, b->id) && (c = strverscmp(a->id, b->id)))
		return c;
	/* the same CVE: a stable order over subjects, sources and classes */
	if (a->subject != b->subject)
		return a->subject < b->subject ? -1 : 1;
	if ((c = strcmp0(a->source, b->source)))
		return c;
	return (int)a->cls - (int)b->cls;
}

int cve_finding_cmp(const struct cve_finding *a, const struct cve_finding *b)
{
	return finding_cmp_ranked(a, urgency_rank(a->urgency), b, urgency_rank(b->urgency));
}

struct sort_item {
	const struct cve_finding *f;
	int urgency;
};

static int item_qcmp(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	return finding_cmp_ranked(x->f, x->urgency, y->f, y->urgency);
}

/* v[0..n) in cve_finding_cmp's order: the ranks computed once, not per comparison,
 * and 16-byte items moved rather than findings. */
static void sort_findings(struct cve_finding *v, size_t n)
{
	struct sort_item *it = xmalloc(n * sizeof(*it));
	struct cve_finding *out = xmalloc(n * sizeof(*out));

	for (size_t i = 0; i < n; i++) {
		it[i].f = &v[i];
		it[i].urgency = urgency_rank(v[i].urgency);
	}
	qsort(it, n, sizeof(*it), item_qcmp);
	for (size_t i = 0; i < n; i++)
		out[i] = *it[i].f;
	memcpy(v, out, n * sizeof(*v));
	free(out);
	free(it);
}

/* ---- subjects of the lock -------------------------------------------------- */

/* pkg:deb/debian/NAME@VERSION?arch=ARCH[&upstream=SOURCE] (the purl spec's
 * percent-encoding of the version: ':' of an epoch, '+', '~' stays). */
static char *purl_of(const struct cve_pkg *p)
{
	strbuf sb = STRBUF_INIT;

	sb_addf(&sb, "pkg:deb/debian/%s@", p->name);
	for (const char *c = p->version; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '.' || *c == '-' || *c == '_' || *c == '~')
			sb_addc(&sb, *c);
		else
			sb_addf(&sb, "%%%02X", (unsigned char)*c);
	}
	sb_addf(&sb, "?arch=%s", p->arch);
	if (strcmp(p->source, p->name))
		sb_addf(&sb, "&upstream=%s", p->source);
	return sb_detach(&sb);
}

int cve_recipe_subjects(const struct lock_recipe *r, const char *recipes_dir,
			struct cve_subject **v, size_t *n)
{
	*v = xrealloc(*v, (*n + r->narchs + 1) * sizeof(**v));
	for (size_t a = 0; a < r->narchs; a++) {
		const struct lock_arch *la = &r->archs[a];
		struct cve_subject *s = &(*v)[(*n)++];

		memset(s, 0, sizeof(*s));
		s->name = xstrdup(r->name);
		s->arch = xstrdup(la->arch);
		if (r->nrepos && r->repos[0].codename)
			s->codename = cve_codename_base(r->repos[0].codename);
		s->recipe_file = xasprintf("%s/%s.yaml", recipes_dir, r->name);
		s->pkgs = xcalloc(la->npkgs ? la->npkgs : 1, sizeof(*s->pkgs));
		for (size_t k = 0; k < la->npkgs; k++) {
			const struct lock_pkg *lp = &la->pkgs[k];
			struct cve_pkg *p = &s->pkgs[s->npkgs++];

			deb_id_copy(&p->id, &lp->id);
			if (!p->arch)
				p->arch = xstrdup(la->arch);
			deb_id_default_source(&p->id);
			p->purl = purl_of(p);
		}
	}
	return 0;
}

int cve_lock_subjects(const char *lock, const char *recipes_dir, const strvec *names,
		      struct cve_subject **out, size_t *n, perr *e)
{
	struct lock l = { 0 };
	struct cve_subject *v = NULL;
	size_t nv = 0;

	*out = NULL;
	*n = 0;
	if (lock_read(lock, &l, false, e) < 0)
		return -1;
	for (size_t i = 0; names && i < names->n; i++)
		if (!lock_find(&l, names->v[i])) {
			perr_set(e, "recipe %s is not in %s: run 'pare lock %s' first",
				 names->v[i], lock, names->v[i]);
			lock_release(&l);
			return -1;
		}
	for (size_t i = 0; i < l.nrecipes; i++)
		if (!names || !names->n || sv_contains(names, l.recipes[i].name))
			cve_recipe_subjects(&l.recipes[i], recipes_dir, &v, &nv);
	lock_release(&l);
	*out = v;
	*n = nv;
	return 0;
}

/* ---- matching ---------------------------------------------------------------- */

/* A (source, source version, codename) already matched: its findings are
 * v[first .. first + n), those of the first subject that had it.  A fleet
 * repeats the same sources in every recipe and arch; later subjects copy
 * them instead of reading, classifying and enriching the index lines again. */
struct seen {
	char *key; /* "SOURCE\tCODENAME\tVERSION"; NULL: a free slot */
	size_t first, n;
};

struct matcher {
	struct cve_idx idx[CVE_NFEEDS];
	strbuf buf;
	struct cve_finding *v;
	size_t n, alloc;
	int64_t since;
	struct seen *seen; /* open addressing, nseen_cap a power of two */
	size_t nseen, nseen_cap;
};

static size_t key_hash(const char *k)
{
	size_t h = 14695981039346656037ULL;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return h;
}

/* The slot of key: the one holding it, or the free one where it goes. */
static struct seen *seen_slot(struct seen *v, size_t cap, const char *key)
{
	size_t i = key_hash(key) & (cap - 1);

	while (v[i].key && strcmp(v[i].key, key))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Remember key (the matcher takes it) for v[first .. first + n). */
static void seen_add(struct matcher *m, char *key, size_t first, size_t n)
{
	struct seen *sl;

	if (2 * (m->nseen + 1) > m->nseen_cap) {
		size_t cap = m->nseen_cap ? 2 * m->nseen_cap : 256;
		struct seen *v = xcalloc(cap, sizeof(*v));

		for (size_t i = 0; i < m->nseen_cap; i++)
			if (m->seen[i].key)
				*seen_slot(v, cap, m->seen[i].key) = m->seen[i];
		free(m->seen);
		m->seen = v;
		m->nseen_cap = cap;
	}
	sl = seen_slot(m->seen, m->nseen_cap, key);
	sl->key = key;
	sl->first = first;
	sl->n = n;
	m->nseen++;
}

static const struct seen *seen_find(const struct matcher *m, const char *key)
{
	const struct seen *sl;

	if (!m->nseen_cap)
		return NULL;
	sl = seen_slot(m->seen, m->nseen_cap, key);
	return sl->key ? sl : NULL;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static void classify(struct cve_finding *f, char **t)
{
	/* t: source codename id status fixed urgency nodsa nodsa_reason first_seen description */
	const char *status = t[3], *fixed = t[4], *nodsa = t[6], *reason = t[7];

	if (!strcmp(status, "resolved") && !strcmp(fixed, "0")) {
		f->cls = CVE_NOT_AFFECTED;
	} else if (!strcmp(status, "resolved") && *fixed) {
		f->fixed_version = xstrdup(fixed);
		f->cls = resolver_vercmp(f->installed, fixed) >= 0 ? CVE_FIXED : CVE_FIXABLE;
	} else if (!strcmp(status, "open")) {
		f->cls = CVE_OPEN;
		if (!strcmp(reason, "postponed") || !strcmp(reason, "ignored"))
			f->open_reason = xstrdup(reason);
		else if (*nodsa || *reason)
			f->open_reason = xstrdup("no-dsa");
		else if (str_starts(t[5], "end-of-life"))
			f->open_reason = xstrdup("end-of-life");
	} else {
		f->cls = CVE_UNDETERMINED;
	}
}

static void enrich(struct matcher *m, struct cve_finding *f)
{
	const char *a, *b;
	char *k[4];

	cve_idx_range(&m->idx[CVE_FEED_KEV], f->id, &a, &b);
	if (a && a < b) {
		cve_idx_fields(a, &m->buf, k, 4);
		f->kev = true;
		f->kev_added = dup_or_null(k[1]);
		f->kev_due = dup_or_null(k[2]);
		f->kev_ransomware = !strcmp(k[3], "1");
	}
	f->epss = f->percentile = -1;
	cve_idx_range(&m->idx[CVE_FEED_EPSS], f->id, &a, &b);
	if (a && a < b) {
		cve_idx_fields(a, &m->buf, k, 3);
		f->epss = strtod(k[1], NULL);
		f->percentile = strtod(k[2], NULL);
	}
}

static bool since_keeps(const struct matcher *m, const struct cve_finding *f)
{
	int64_t t;

	if (m->since <= 0)
		return true;
	if (f->first_seen && !cve_parse_date(f->first_seen, &t) && t > m->since)
		return true;
	return f->kev_added && !cve_parse_date(f->kev_added, &t) && t > m->since;
}

/* A copy of what match_source found for another subject, for subject si
 * with binaries bins: its strings in one allocation (f->strings), as a
 * fleet makes tens of thousands of these.  No vex_* yet: VEX comes after. */
static void finding_copy(struct cve_finding *d, const struct cve_finding *f, size_t si,
			 const strvec *bins)
{
	char *const *from[] = { &f->id, &f->source, &f->installed, &f->fixed_version,
				&f->open_reason, &f->urgency, &f->description, &f->kev_added,
				&f->kev_due, &f->first_seen };
	char **to[] = { &d->id, &d->source, &d->installed, &d->fixed_version,
			&d->open_reason, &d->urgency, &d->description, &d->kev_added,
			&d->kev_due, &d->first_seen };
	size_t len = 0;
	char *p;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < ARRAY_SIZE(from); i++)
		if (*from[i])
			len += strlen(*from[i]) + 1;
	for (size_t i = 0; i < bins->n; i++)
		len += strlen(bins->v[i]) + 1;
	p = d->strings = xmalloc(len ? len : 1);
	for (size_t i = 0; i < ARRAY_SIZE(from); i++)
		if (*from[i]) {
			size_t n = strlen(*from[i]) + 1;

			*to[i] = memcpy(p, *from[i], n);
			p += n;
		}
	if (bins->n) {
		d->binaries = xmalloc(bins->n * sizeof(*d->binaries));
		for (size_t i = 0; i < bins->n; i++) {
			size_t n = strlen(bins->v[i]) + 1;

			d->binaries[i] = memcpy(p, bins->v[i], n);
			p += n;
		}
		d->nbinaries = bins->n;
	}
	d->subject = si;
	d->cls = f->cls;
	d->kev = f->kev;
	d->kev_ransomware = f->kev_ransomware;
	d->epss = f->epss;
	d->percentile = f->percentile;
}

static void add_finding(struct matcher *m, struct cve_finding *f, size_t si, const strvec *bins)
{
	f->subject = si;
	if (bins->n) {
		f->binaries = xmalloc(bins->n * sizeof(*f->binaries));
		for (size_t i = 0; i < bins->n; i++)
			f->binaries[i] = xstrdup(bins->v[i]);
		f->nbinaries = bins->n;
	}
	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	m->v[m->n++] = *f;
}

/* Every entry of (source, codename) for one installed source version. */
static void match_source(struct matcher *m, size_t si, const struct cve_subject *s,
			 const char *source, const char *version)
{
	char *key = xasprintf("%s\t%s", source, s->codename), *t[10];
	char *seen_key = xasprintf("%s\t%s", key, version);
	const struct seen *sl = seen_find(m, seen_key);
	const char *a, *b;
	strbuf line = STRBUF_INIT;
	strvec bins = STRVEC_INIT; /* the subject's binaries built from it */
	size_t first = m->n;

	for (size_t i = 0; i < s->npkgs; i++)
		if (!strcmp(s->pkgs[i].source, source) && !strcmp(s->pkgs[i].source_version, version))
			sv_push(&bins, s->pkgs[i].purl);
	if (sl) {
		for (size_t j = sl->first; j < sl->first + sl->n; j++) {
			struct cve_finding f;

			finding_copy(&f, &m->v[j], si, &bins);
			ALLOC_GROW(m->v, m->n + 1, m->alloc);
			m->v[m->n++] = f;
		}
		free(seen_key);
		goto out;
	}
	cve_idx_range(&m->idx[CVE_FEED_TRACKER], key, &a, &b);
	for (const char *p = a; p && p < b; p = strchr(p, '\n') + 1) {
		struct cve_finding f = { 0 };

		cve_idx_fields(p, &line, t, ARRAY_SIZE(t));
		f.id = xstrdup(t[2]);
		f.source = xstrdup(source);
		f.installed = xstrdup(version);
		f.urgency = dup_or_null(t[5]);
		f.first_seen = dup_or_null(t[8]);
		f.description = dup_or_null(t[9]);
		classify(&f, t);
		enrich(m, &f);
		if (!since_keeps(m, &f)) {
			finding_release(&f);
			continue;
		}
		add_finding(m, &f, si, &bins);
	}
	seen_add(m, seen_key, first, m->n - first);
out:
	sv_clear(&bins);
	sb_release(&line);
	free(key);
}

static char *date_or_null(const struct cve_idx *x)
{
	char d[32];

	if (!x->map)
		return NULL;
	cve_format_date(x->published, d);
	return xstrdup(d);
}

int cve_match(const struct cve_config *c, struct cve_subject *subjects, size_t n, int64_t since,
	      struct cve_report *r, perr *e)
{
	struct matcher m = { .since = since };
	strvec missing = STRVEC_INIT, stale = STRVEC_INIT;
	int64_t now = (int64_t)time(NULL);
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->subjects = subjects;
	r->nsubjects = n;
	for (int f = 0; f < CVE_NFEEDS; f++)
		if (cve_idx_open(f, &m.idx[f], e) < 0)
			goto out;
	if (!m.idx[CVE_FEED_TRACKER].map) {
		perr_set(e, "no CVE feeds synced (%s is missing): run 'pare cve sync' first",
			 m.idx[CVE_FEED_TRACKER].path);
		goto out;
	}
	r->tracker_date = date_or_null(&m.idx[CVE_FEED_TRACKER]);
	r->kev_date = date_or_null(&m.idx[CVE_FEED_KEV]);
	r->epss_date = date_or_null(&m.idx[CVE_FEED_EPSS]);
	for (int f = 0; f < CVE_NFEEDS; f++) {
		char d[32];

		if (!m.idx[f].map)
			sv_pushf(&stale, "%s never synced", cve_feed_name(f));
		else if (now - m.idx[f].mtime > c->max_age) {
			cve_format_date(m.idx[f].mtime, d);
			sv_pushf(&stale, "%s last synced %s", cve_feed_name(f), d);
		}
	}
	if (stale.n) {
		strbuf sb = STRBUF_INIT;

		sb_adds(&sb, "stale CVE feeds (older than ");
		sb_addf(&sb, "%lld h): ", (long long)(c->max_age / 3600));
		for (size_t i = 0; i < stale.n; i++)
			sb_addf(&sb, "%s%s", i ? ", " : "", stale.v[i]);
		sb_adds(&sb, "; run 'pare cve sync'");
		r->stale = sb_detach(&sb);
	}
	for (size_t si = 0; si < n; si++) {
		const struct cve_subject *s = &subjects[si];
		strvec done = STRVEC_INIT;
		const char *cn = m.idx[CVE_FEED_TRACKER].codenames;
		strvec have = STRVEC_INIT;

		if (!s->codename) {
			warning("%s%s%s: no codename known: not matched", s->name, s->arch ? " " : "",
				s->arch ? s->arch : "");
			continue;
		}
		sv_split(&have, cn ? cn : "", ",");
		if (!sv_contains(&have, s->codename) && !sv_contains(&missing, s->codename))
			sv_push(&missing, s->codename);
		sv_clear(&have);
		for (size_t i = 0; i < s->npkgs; i++) {
			char *k = xasprintf("%s %s", s->pkgs[i].source, s->pkgs[i].source_version);

			if (!sv_contains(&done, k)) {
				sv_push(&done, k);
				match_source(&m, si, s, s->pkgs[i].source, s->pkgs[i].source_version);
			}
			free(k);
		}
		sv_clear(&done);
	}
	for (size_t i = 0; i < missing.n; i++)
		warning("codename %s is not in the CVE index: run 'pare cve sync' (with the lock "
			"that uses it)",
			missing.v[i]);
	if (m.n)
		sort_findings(m.v, m.n);
	r->findings = m.v;
	r->nfindings = m.n;
	m.v = NULL;
	ret = 0;
out:
	for (int f = 0; f < CVE_NFEEDS; f++)
		cve_idx_close(&m.idx[f]);
	for (size_t i = 0; i < m.nseen_cap; i++)
		free(m.seen[i].key);
	free(m.seen);
	sb_release(&m.buf);
	sv_clear(&missing);
	sv_clear(&stale);
	return ret;
}
