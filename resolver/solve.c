/*
 * solve.c - a recipe's minimal closure with libsolv, one pool per arch.
 *
 * The closure is what a container needs at run time, not what dpkg needs
 * to install it:
 *  - Recommends and Suggests are ignored.
 *  - "Assumed" packages (the Essential set, the package manager, shells)
 *    satisfy dependencies without being shipped and without pulling their
 *    own dependencies: each becomes a stub in the pool's installed repo with
 *    the real package's name, version, arch and Provides but no Requires or
 *    Conflicts, and is locked so the real package is never installed.  So
 *    ca-certificates may depend on debconf without debconf (or perl) landing
 *    in the image.  A package the recipe asks for is never assumed.
 *  - "exclude" locks a name with nothing installed: the solver takes an
 *    alternative, or reports that the recipe excludes what is needed.
 */
#define _GNU_SOURCE
#include "resolver_int.h"
#include "../lazy/lazy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <solv/evr.h>
#include <solv/knownid.h>
#include <solv/policy.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/repodata.h>
#include <solv/rules.h>
#include <solv/selection.h>
#include <solv/solver.h>
#include <solv/transaction.h>

enum job_kind { JOB_REQUEST, JOB_ASSUME, JOB_EXCLUDE };

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct resolver_timing resolver_last_timing;

static bool is_requested(const struct recipe *r, const char *name)
{
	for (size_t i = 0; i < r->npackages; i++)
		if (!strcmp(r->packages[i].name, name))
			return true;
	return false;
}

/* Stubs for the assumed packages found in the indexes: for each, the
 * best (highest version) installable solvable of that name, found in one
 * pass over the pool. */
static void add_assumed(Pool *pool, const struct recipe *r, Repo *installed)
{
	Id *best = xcalloc((size_t)pool->ss.nstrings + 1, sizeof(Id));
	Queue names;
	Id p;

	queue_init(&names);
	for (size_t i = 0; i < r->assume.n; i++) {
		Id name = pool_str2id(pool, r->assume.v[i], 0);
		if (name && !is_requested(r, r->assume.v[i]))
			queue_push(&names, name);
	}
	for (int i = 0; i < names.count; i++)
		best[names.elements[i]] = -1; /* wanted, none found yet */
	FOR_POOL_SOLVABLES(p) {
		Solvable *s = pool_id2solvable(pool, p);
		if (!best[s->name] || s->repo == installed || !pool_installable(pool, s))
			continue;
		if (best[s->name] < 0 ||
		    pool_evrcmp(pool, s->evr, pool_id2solvable(pool, best[s->name])->evr,
				EVRCMP_COMPARE) > 0)
			best[s->name] = p;
	}
	for (int i = 0; i < names.count; i++) {
		Id bp = best[names.elements[i]];
		if (bp <= 0)
			continue;
		Id sp = repo_add_solvable(installed);
		Solvable *s = pool_id2solvable(pool, sp);
		Solvable *src = pool_id2solvable(pool, bp); /* after the add: solvables may move */
		s->name = src->name;
		s->evr = src->evr;
		s->arch = src->arch;
		s->vendor = src->vendor;
		if (src->provides)
			for (Id *pp = src->repo->idarraydata + src->provides; *pp; pp++)
				s->provides = repo_addid_dep(installed, s->provides, *pp, 0);
		s->provides = repo_addid_dep(installed, s->provides,
					     pool_rel2id(pool, s->name, s->evr, REL_EQ, 1), 0);
	}
	queue_free(&names);
	free(best);
}

static Id rel_flags(const char *op)
{
	if (!strcmp(op, "<<"))
		return REL_LT;
	if (!strcmp(op, "<="))
		return REL_LT | REL_EQ;
	if (!strcmp(op, "="))
		return REL_EQ;
	if (!strcmp(op, ">="))
		return REL_GT | REL_EQ;
	return REL_GT; /* ">>" */
}

static bool name_exists(Pool *pool, Id name)
{
	Id p, pp;
	FOR_PROVIDES(p, pp, name)
		if (pool_id2solvable(pool, p)->name == name &&
		    pool_id2solvable(pool, p)->repo != pool->installed)
			return true;
	return false;
}

/* One line per problem, in words: libsolv's own sentence for the problem,
 * then the rules involved, naming the recipe's exclude where it is one. */
static void explain(Solver *solv, const Queue *job, const enum job_kind *kinds,
		    const char *prefix, strbuf *msg)
{
	Pool *pool = solv->pool;
	Queue rules;
	Id pcnt = solver_problem_count(solv);

	queue_init(&rules);
	for (Id problem = 1; problem <= pcnt; problem++) {
		strvec parts = STRVEC_INIT;
		const char *excluded = NULL;
		solver_findallproblemrules(solv, problem, &rules);
		for (int i = 0; i < rules.count; i++) {
			Id rid = rules.elements[i], source, target, dep;
			SolverRuleinfo type = solver_ruleinfo(solv, rid, &source, &target, &dep);
			if (type == SOLVER_RULE_JOB) {
				/* index of the job's first element, plus one */
				int jidx = solver_rule2jobidx(solv, rid) - 1;
				if (jidx >= 0 && jidx + 1 < job->count &&
				    kinds[jidx / 2] == JOB_EXCLUDE)
					excluded = pool_id2str(pool, job->elements[jidx + 1]);
			}
			sv_push(&parts, solver_ruleinfo2str(solv, type, source, target, dep));
		}
		sv_uniq(&parts);
		if (msg->len)
			sb_addc(msg, '\n');
		char *main_str = xstrdup(solver_problem2str(solv, problem));
		sb_addf(msg, "%s: cannot resolve: %s", prefix, main_str);
		if (excluded)
			sb_addf(msg, " (the recipe excludes %s)", excluded);
		/* the rules involved, minus the obvious ones */
		size_t shown = 0;
		for (size_t i = 0; i < parts.n; i++) {
			if (!strcmp(parts.v[i], main_str) || str_starts(parts.v[i], "job install "))
				continue;
			sb_addf(msg, "%s%s", shown++ ? "; " : " [", parts.v[i]);
		}
		if (shown)
			sb_addc(msg, ']');
		free(main_str);
		sv_clear(&parts);
	}
	queue_free(&rules);
}

static Pool *cmp_pool; /* qsort has no context argument */

static int solvable_name_cmp(const void *a, const void *b)
{
	return strcmp(pool_id2str(cmp_pool, pool_id2solvable(cmp_pool, *(const Id *)a)->name),
		      pool_id2str(cmp_pool, pool_id2solvable(cmp_pool, *(const Id *)b)->name));
}

static int pkg_cmp(const void *a, const void *b)
{
	const struct lock_pkg *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static struct lock_pkg *find_pkg(struct lock_arch *la, const char *name)
{
	struct lock_pkg key = { .name = (char *)name };
	return bsearch(&key, la->pkgs, la->npkgs, sizeof(key), pkg_cmp);
}

/*
 * apt installs the package called D for a dependency on D, and only falls
 * back to packages that merely Provide D when none exists; libsolv would
 * take whichever provider has the lowest id (libelogind0 for libsystemd0).
 * So every package that provides the name of another real package is
 * marked here (and disfavored when a solution uses it): still chosen when
 * it is the only way, never by accident.
 */
static void disfavor_impostors(Pool *pool, Repo *installed, char *impostor)
{
	char *real = xcalloc((size_t)pool->ss.nstrings + 1, 1);
	Id p;

	FOR_POOL_SOLVABLES(p) {
		Solvable *s = pool_id2solvable(pool, p);
		if (s->repo != installed)
			real[s->name] = 1;
	}
	FOR_POOL_SOLVABLES(p) {
		Solvable *s = pool_id2solvable(pool, p);
		if (s->repo == installed || !s->provides)
			continue;
		for (Id *pp = s->repo->idarraydata + s->provides; *pp; pp++) {
			Id n = *pp;
			while (ISRELDEP(n))
				n = GETRELDEP(pool, n)->name;
			if (n != s->name && n < pool->ss.nstrings && real[n]) {
				impostor[p] = 1;
				break;
			}
		}
	}
	free(real);
}

/*
 * Debian or-groups.  For `Depends: a | b` apt installs the first
 * alternative that can be satisfied, unless one of them is installed
 * already (then it keeps that one).  libsolv sees `a | b` as one
 * dependency whose providers it sorts by name and version, so its choice
 * follows the order of the indexes, not the dependency.  So after each
 * solve every or-group of the closure is checked: when no alternative is
 * in the solution except a later one than the first satisfiable one, the
 * first one's providers are favored and the recipe solved again.  A
 * favor only steers a choice: an alternative the solution installs for
 * another reason (a requested package, a hard dependency decided first)
 * still satisfies the group and nothing more is added, which is apt's
 * "keep it".  When a favored alternative ends up installed beside another
 * alternative of the same group that the rest of the closure needs anyway,
 * the favor is dropped again: apt would have kept the other one.
 */

/* the alternatives of dependency dep, in the dependency's order */
static void or_alternatives(Pool *pool, Id dep, Queue *alts)
{
	while (ISRELDEP(dep)) {
		Reldep *rd = GETRELDEP(pool, dep);
		if (rd->flags != REL_OR)
			break;
		or_alternatives(pool, rd->name, alts);
		dep = rd->evr;
	}
	queue_push(alts, dep);
}

/* Can alternative alt be installed at all: a provider that is an assumed
 * stub, or one of a name neither assumed nor excluded (locked[name]).
 * Its providers that can be are put in provs. */
static bool alt_providers(Pool *pool, Id alt, const char *locked, Queue *provs)
{
	Id p, pp;

	queue_empty(provs);
	FOR_PROVIDES(p, pp, alt) {
		Solvable *s = pool_id2solvable(pool, p);
		if (s->repo == pool->installed ||
		    (s->name >= pool->ss.nstrings || !locked[s->name]))
			queue_push(provs, p);
	}
	return provs->count > 0;
}

struct or_group {
	Id dep;       /* the REL_OR dependency */
	int state;    /* 1: the first alternative favored; 2: instead, the one the closure needs anyway */
	Queue favor;  /* the solvables favored for it */
};

/* One pass over the or-groups of the solution's packages (see above);
 * true when a favor was added or changed, so the recipe is solved again. */
static bool check_or_groups(Solver *solv, Repo *installed, const char *locked,
			    struct or_group **groups, size_t *ngroups, size_t *galloc)
{
	Pool *pool = solv->pool;
	Transaction *trans = solver_create_transaction(solv);
	Queue alts, provs;
	bool changed = false;

	queue_init(&alts);
	queue_init(&provs);
	for (int i = 0; i < trans->steps.count; i++) {
		Solvable *s = pool_id2solvable(pool, trans->steps.elements[i]);
		if (s->repo == installed || !s->requires)
			continue;
		for (Id *dp = s->repo->idarraydata + s->requires; *dp; dp++) {
			if (!ISRELDEP(*dp) || GETRELDEP(pool, *dp)->flags != REL_OR)
				continue;
			struct or_group *g = NULL;
			for (size_t k = 0; k < *ngroups && !g; k++)
				if ((*groups)[k].dep == *dp)
					g = &(*groups)[k];
			if (g && g->state == 2)
				continue;
			queue_empty(&alts);
			or_alternatives(pool, *dp, &alts);
			int target = -1, other = -1;
			bool target_in = false;
			for (int a = 0; a < alts.count; a++) {
				Id p, pp;
				bool in = false;
				FOR_PROVIDES(p, pp, alts.elements[a])
					if (solver_get_decisionlevel(solv, p) > 0)
						in = true;
				if (target < 0 && alt_providers(pool, alts.elements[a], locked, &provs)) {
					target = a;
					target_in = in;
				} else if (in && other < 0) {
					other = a;
				}
			}
			if (target < 0 || other < 0)
				continue; /* nothing to choose, or the first one alone */
			if (!g) {
				ALLOC_GROW(*groups, *ngroups + 1, *galloc);
				g = &(*groups)[(*ngroups)++];
				g->dep = *dp;
				g->state = 0;
				queue_init(&g->favor);
			}
			if (g->state == 0 && !target_in) {
				/* a later alternative in place of the first: favor it */
				alt_providers(pool, alts.elements[target], locked, &g->favor);
				g->state = 1;
				changed = true;
			} else if (g->state == 1 && target_in) {
				/* the favored one and another one the closure needs
				 * anyway: apt keeps that other one */
				Id p, pp;
				queue_empty(&g->favor);
				FOR_PROVIDES(p, pp, alts.elements[other])
					if (solver_get_decisionlevel(solv, p) > 0)
						queue_push(&g->favor, p);
				g->state = 2;
				changed = true;
			}
		}
	}
	queue_free(&alts);
	queue_free(&provs);
	transaction_free(trans);
	return changed;
}

/* Load every index of rels[idx[0..n)] (components x {arch, all}) into a
 * fresh pool; repo->appdata is the position in idx, which is the lock's
 * repository index for every recipe that shares this pool. */
static int load_pool(struct release *rels, const size_t *idx, size_t n, const char *arch,
		     bool offline, Pool **out, perr *e)
{
	Pool *pool = pool_create();
	double t0 = now_ms();

	pool_setdisttype(pool, DISTTYPE_DEB);
	pool_setarch(pool, arch);
	for (size_t j = 0; j < n; j++) {
		struct release *rel = &rels[idx[j]];
		for (size_t c = 0; c < rel->components.n; c++) {
			const char *comp = rel->components.v[c];
			const char *archs[2] = { arch, "all" };
			for (int k = 0; k < 2; k++) {
				/* arch:all packages are in binary-ARCH too unless the
				 * Release says otherwise */
				if (k == 1 && (!rel->lists_all ||
					       !release_find_index(rel, comp, "all")))
					continue;
				char *name = xasprintf("%s %s %s/binary-%s", rel->url, rel->suite,
						       comp, archs[k]);
				Repo *repo = repo_create(pool, name);
				free(name);
				repo->appdata = (void *)(intptr_t)j;
				if (release_load_packages(rel, comp, archs[k], offline, repo, e) < 0) {
					pool_free(pool);
					return -1;
				}
			}
		}
	}
	resolver_last_timing.load_ms += now_ms() - t0;
	*out = pool;
	return 0;
}

/* Solve recipe r in pool (loaded by load_pool).  The pool is shared by
 * every recipe with the same repositories: the recipe's assumed stubs live
 * in an "installed" repo created last and freed (ids reused) at the end,
 * so each recipe sees exactly the solvable ids a pool of its own would
 * have given it, and gets the same answer. */
static int solve_arch(const struct recipe *r, Pool *pool, const char *arch,
		      struct lock_arch *la, perr *e)
{
	Solver *solv = NULL;
	Transaction *trans = NULL;
	Queue job, closure;
	char *impostor = NULL, *locked = NULL;
	enum job_kind *kinds = NULL;
	size_t nkinds = 0, kalloc = 0, nbasekinds = 0, ngroups = 0, galloc = 0;
	struct or_group *groups = NULL;
	Queue disfavored;
	int nbase = 0;
	strbuf msg = STRBUF_INIT;
	char *prefix = xasprintf("%s %s", r->name, arch);
	Repo *installed;
	double t0;
	int ret = -1;

	queue_init(&job);
	queue_init(&closure);
	queue_init(&disfavored);
	t0 = now_ms();

	installed = repo_create(pool, "assumed");
	installed->appdata = (void *)(intptr_t)-1;
	add_assumed(pool, r, installed);
	pool_set_installed(pool, installed);
	/* no pool_addfileprovides(): Debian dependencies never name files */
	pool_createwhatprovides(pool);

#define JOB(kind, how, what)                                                   \
	do {                                                                   \
		queue_push2(&job, (how), (what));                              \
		ALLOC_GROW(kinds, nkinds + 1, kalloc);                         \
		kinds[nkinds++] = (kind);                                      \
	} while (0)
	for (Id p = installed->start; p < installed->end; p++)
		JOB(JOB_ASSUME, SOLVER_LOCK | SOLVER_SOLVABLE_NAME,
		    pool_id2solvable(pool, p)->name);
	for (size_t i = 0; i < r->exclude.n; i++)
		JOB(JOB_EXCLUDE, SOLVER_LOCK | SOLVER_SOLVABLE_NAME,
		    pool_str2id(pool, r->exclude.v[i], 1));
	for (size_t i = 0; i < r->npackages; i++) {
		const struct recipe_dep *d = &r->packages[i];
		Id name = pool_str2id(pool, d->name, 1), what = name;
		Id how = SOLVER_INSTALL | SOLVER_SOLVABLE_NAME;
		if (!name_exists(pool, name)) {
			Id p, pp;
			bool provided = false;
			FOR_PROVIDES(p, pp, name)
				provided = true;
			if (!provided || d->op) {
				sb_addf(&msg, "%s: cannot resolve: no package '%s' in the indexes",
					prefix, d->name);
				continue;
			}
			how = SOLVER_INSTALL | SOLVER_SOLVABLE_PROVIDES; /* a virtual package */
		}
		if (d->op)
			what = pool_rel2id(pool, name, pool_str2id(pool, d->version, 1),
					   rel_flags(d->op), 1);
		JOB(JOB_REQUEST, how, what);
	}
	if (msg.len) {
		perr_set(e, "%s", msg.buf);
		goto out;
	}
	/* Solve; if the answer uses an impostor (see disfavor_impostors),
	 * disfavor the ones it used and solve again.  Most closures have none,
	 * and disfavoring all ~500 of Debian's up front costs every solve.
	 * Then the same for or-groups answered with a later alternative than
	 * apt would take (see check_or_groups). */
	impostor = xcalloc((size_t)pool->nsolvables + 1, 1);
	disfavor_impostors(pool, installed, impostor);
	locked = xcalloc((size_t)pool->ss.nstrings + 1, 1);
	for (Id p = installed->start; p < installed->end; p++)
		locked[pool_id2solvable(pool, p)->name] = 1;
	for (size_t i = 0; i < r->exclude.n; i++) {
		Id n = pool_str2id(pool, r->exclude.v[i], 0);
		if (n && n < pool->ss.nstrings)
			locked[n] = 1;
	}
	nbase = job.count;
	nbasekinds = nkinds;
	for (int round = 0;; round++) {
		bool again = false;
		/* the jobs: the recipe's, then this round's preferences */
		queue_truncate(&job, nbase);
		nkinds = nbasekinds;
		if (disfavored.count)
			JOB(JOB_ASSUME, SOLVER_DISFAVOR | SOLVER_SOLVABLE_ONE_OF,
			    pool_queuetowhatprovides(pool, &disfavored));
		for (size_t k = 0; k < ngroups; k++)
			if (groups[k].state && groups[k].favor.count)
				JOB(JOB_ASSUME, SOLVER_FAVOR | SOLVER_SOLVABLE_ONE_OF,
				    pool_queuetowhatprovides(pool, &groups[k].favor));
		solv = solver_create(pool);
		solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
		solver_set_flag(solv, SOLVER_FLAG_ADD_ALREADY_RECOMMENDED, 0);
		if (solver_solve(solv, &job) != 0) {
			explain(solv, &job, kinds, prefix, &msg);
			perr_set(e, "%s", msg.buf);
			goto out;
		}
		trans = solver_create_transaction(solv);
		for (int i = 0; i < trans->steps.count; i++) {
			Id p = trans->steps.elements[i];
			if (impostor[p] == 1) {
				impostor[p] = 2; /* disfavored from now on */
				queue_push(&disfavored, p);
				again = true;
			}
		}
		if (check_or_groups(solv, installed, locked, &groups, &ngroups, &galloc))
			again = true;
		if (!again || round >= 8)
			break;
		transaction_free(trans);
		trans = NULL;
		solver_free(solv);
		solv = NULL;
	}
#undef JOB

	/* the closure: every solvable the transaction installs, by name */
	for (int i = 0; i < trans->steps.count; i++) {
		Id p = trans->steps.elements[i];
		if (pool_id2solvable(pool, p)->repo != installed)
			queue_push(&closure, p);
	}
	cmp_pool = pool;
	qsort(closure.elements, (size_t)closure.count, sizeof(Id), solvable_name_cmp);
	la->pkgs = xcalloc((size_t)closure.count + 1, sizeof(*la->pkgs));
	for (int i = 0; i < closure.count; i++) {
		Solvable *s = pool_id2solvable(pool, closure.elements[i]);
		struct lock_pkg *lp = &la->pkgs[la->npkgs++];
		lp->name = xstrdup(pool_id2str(pool, s->name));
		lp->version = xstrdup(pool_id2str(pool, s->evr));
		lp->arch = xstrdup(pool_id2str(pool, s->arch));
		Id srcname = solvable_lookup_id(s, SOLVABLE_SOURCENAME);
		lp->source = srcname ? xstrdup(pool_id2str(pool, srcname)) : NULL;
		const char *sevr = solvable_lookup_str(s, SOLVABLE_SOURCEEVR);
		lp->source_version = sevr ? xstrdup(sevr) : NULL;
		deb_id_default_source(&lp->id);
		const char *loc = solvable_get_location(s, NULL);
		lp->filename = xstrdup(loc ? loc : "");
		lp->size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
		Id ctype = 0;
		const char *sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &ctype);
		if (!sum || ctype != REPOKEY_TYPE_SHA256) {
			perr_set(e, "%s: %s %s has no SHA256 in its index", prefix, lp->name,
				 lp->version);
			goto out;
		}
		lp->sha256 = xstrdup(sum);
		/* libsolv keeps Installed-Size (KiB) in bytes */
		lp->installed_size = solvable_lookup_num(s, SOLVABLE_INSTALLSIZE, 0) >> 10;
		lp->repo = (int)(intptr_t)s->repo->appdata;
		const char *m = solvable_lookup_str(s, SOLVABLE_PACKAGER);
		lp->maintainer = m ? xstrdup(m) : NULL;
		lp->requested = is_requested(r, lp->name);
		if (lp->requested)
			sv_push(&lp->required_by, "recipe");
	}

	/* required_by / depends: walk Depends + Pre-Depends of each closure
	 * package through whatprovides and keep what the solution installs */
	for (size_t i = 0; i < la->npkgs; i++) {
		struct lock_pkg *lp = &la->pkgs[i];
		Id p = closure.elements[i];
		Solvable *s = pool_id2solvable(pool, p);
		if (!s->requires)
			continue;
		for (Id *dp = s->repo->idarraydata + s->requires; *dp; dp++) {
			Id q, qq;
			if (*dp == SOLVABLE_PREREQMARKER)
				continue;
			FOR_PROVIDES(q, qq, *dp) {
				Solvable *t = pool_id2solvable(pool, q);
				if (q == p || t->repo == installed || solver_get_decisionlevel(solv, q) <= 0)
					continue;
				struct lock_pkg *dep = find_pkg(la, pool_id2str(pool, t->name));
				if (dep)
					sv_push(&lp->depends, dep->name);
			}
		}
	}
	for (size_t i = 0; i < la->npkgs; i++) {
		sv_uniq(&la->pkgs[i].depends);
		for (size_t k = 0; k < la->pkgs[i].depends.n; k++)
			sv_push(&find_pkg(la, la->pkgs[i].depends.v[k])->required_by,
				la->pkgs[i].name);
	}
	for (size_t i = 0; i < la->npkgs; i++)
		sv_uniq(&la->pkgs[i].required_by);
	ret = 0;
out:
	resolver_last_timing.solve_ms += now_ms() - t0;
	if (trans)
		transaction_free(trans);
	if (solv)
		solver_free(solv);
	queue_free(&job);
	queue_free(&closure);
	free(impostor);
	free(locked);
	queue_free(&disfavored);
	for (size_t k = 0; k < ngroups; k++)
		queue_free(&groups[k].favor);
	free(groups);
	/* back to the loaded indexes alone, for the next recipe */
	pool_set_installed(pool, NULL);
	repo_free(installed, 1);
	free(kinds);
	free(prefix);
	sb_release(&msg);
	return ret;
}

static int load_repos(const struct recipe *r, struct recipe_repo **repos, size_t *n,
		      bool *owned, perr *e)
{
	if (!r->repos_from_host) {
		*repos = r->repos;
		*n = r->nrepos;
		*owned = false;
		return 0;
	}
	*owned = true;
	if (sources_load_host(repos, n, e) < 0)
		return -1;
	if (!*n)
		return perr_set(e, "recipe %s names no repositories and the machine has no apt sources",
				r->name);
	return 0;
}

static char *xstrdup0(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void lock_repo_copy(struct lock_repo *d, const struct lock_repo *s)
{
	d->origin = xstrdup0(s->origin), d->label = xstrdup0(s->label);
	d->suite = xstrdup0(s->suite), d->codename = xstrdup0(s->codename);
	d->date = xstrdup0(s->date), d->date_epoch = s->date_epoch;
	d->inrelease_sha256 = xstrdup0(s->inrelease_sha256);
	d->component = xstrdup0(s->component), d->url = xstrdup0(s->url);
}

/* What makes two recipes' repositories the same Release: URL, suite, how it
 * is verified and which components are read. */
static char *release_key(const struct recipe_repo *rr, const char *suite)
{
	strbuf sb = STRBUF_INIT;

	sb_addf(&sb, "%s\n%s\n%s\n%d", rr->url, suite, rr->keyring ? rr->keyring : "",
		rr->trusted);
	for (size_t i = 0; i < rr->components.n; i++)
		sb_addf(&sb, "\n%s", rr->components.v[i]);
	return sb_detach(&sb);
}

/* ---- the resolution cache -------------------------------------------------
 *
 * A solution is a pure function of the merged recipe, the arch, the exact
 * indexes (each Release's InRelease sha256 pins its Packages files, with
 * the components read, in the recipe's order), libsolv and pare's own code.
 * So the last answer for those inputs is kept, one file a recipe and arch
 * under $cache/resolve/, in recipes.lock's own format with the hash of the
 * inputs in place of the recipe's, and taken again while they are the same:
 * a warm `pare lock` or `pare check` with nothing new upstream loads no
 * index and runs no solver.  The key holds pare's GNU build ID, so a new
 * pare never trusts an older one's answer; with no build ID, or
 * PARE_RESOLVE_CACHE=0, every resolution is solved.  A damaged or foreign
 * file is a miss and is overwritten. */
static char *memo_key(const struct recipe *r, const char *arch, const struct release *rels,
		      const size_t *idx, size_t n)
{
	const char *id = pare_build_id(), *env = getenv("PARE_RESOLVE_CACHE");
	char hex[SHA256_HEX_LEN + 1];
	strbuf sb = STRBUF_INIT;

	if (!id || (env && !strcmp(env, "0")) || !r->sha256)
		return NULL;
	sb_addf(&sb, "pare resolution 1\n%s\nlibsolv %s\n%s\n%s\n", id, lazy_solv_version(),
		r->sha256, arch);
	for (size_t k = 0; k < n; k++) {
		const struct release *rel = &rels[idx[k]];
		sb_addf(&sb, "%s %s %s %d", rel->url, rel->suite, rel->meta.inrelease_sha256,
			rel->no_arch_all);
		for (size_t c = 0; c < rel->components.n; c++)
			sb_addf(&sb, " %s", rel->components.v[c]);
		sb_adds(&sb, "\n");
	}
	sha256_hex(sb.buf, sb.len, hex);
	sb_release(&sb);
	return xstrdup(hex);
}

static char *memo_path(const char *name, const char *arch)
{
	char hex[SHA256_HEX_LEN + 1], *file, *dir, *p;
	char *id = xasprintf("%s\n%s", name, arch);

	sha256_hex(id, strlen(id), hex);
	file = xasprintf("%s.lock", hex);
	dir = path_join(pare_cache_dir(), "resolve");
	p = path_join(dir, file);
	free(id), free(file), free(dir);
	return p;
}

/* The kept answer for key, moved into *la; false when there is none. */
static bool memo_get(const char *path, const char *key, const char *name,
		     struct lock_arch *la)
{
	struct lock l;
	perr e;
	bool hit = false;

	if (lock_read(path, &l, true, &e) < 0) {
		debug("%s: not a resolution (%s): solving", path, e.msg);
		return false;
	}
	if (l.nrecipes == 1 && !strcmp(l.recipes[0].name, name) &&
	    !strcmp(l.recipes[0].recipe_sha256, key) && l.recipes[0].narchs == 1 &&
	    !strcmp(l.recipes[0].archs[0].arch, la->arch)) {
		free(la->arch);
		*la = l.recipes[0].archs[0];
		memset(&l.recipes[0].archs[0], 0, sizeof(*la));
		hit = true;
	}
	lock_release(&l);
	return hit;
}

static void memo_put(const char *path, const char *key, const struct lock_recipe *out,
		     const struct lock_arch *la)
{
	struct lock_recipe one = { .name = out->name, .recipe_sha256 = (char *)key,
				   .repos = out->repos, .nrepos = out->nrepos,
				   .archs = (struct lock_arch *)la, .narchs = 1 };
	struct lock l = { .version = 1, .recipes = &one, .nrecipes = 1 };
	char *dir = path_dirname(path);
	perr e;

	/* a cache: failing to keep the answer costs the next run a solve */
	if (mkdir_p(dir, 0755, &e) < 0 || lock_write(path, &l, &e) < 0)
		debug("resolution cache: %s", e.msg);
	free(dir);
}

/* $cache/roots/lock-KEY, KEY over the recipe and arch: the release/
 * directories, .solv files and resolution cache file this resolution used,
 * for `pare cache prune`.  Best effort, like memo_put: without it a prune
 * costs the next lock a download and a parse. */
static void lock_roots(const char *name, const char *arch, const struct release *rels,
		       const size_t *idx, size_t n, const char *mpath)
{
	char hex[SHA256_HEX_LEN + 1], *id = xasprintf("lock\n%s\n%s", name, arch), *file;
	strvec roots = STRVEC_INIT;
	perr e;

	for (size_t k = 0; k < n; k++)
		release_cache_roots(&rels[idx[k]], arch, &roots);
	if (mpath)
		sv_pushf(&roots, "resolve/%s", path_basename(mpath));
	sha256_hex(id, strlen(id), hex);
	file = xasprintf("lock-%s", hex);
	if (cache_roots_write(file, &roots, &e) < 0)
		debug("cache roots: %s", e.msg);
	free(id), free(file);
	sv_clear(&roots);
}

struct release_job {
	const struct recipe_repo *rr;
	const char *suite;
	const struct resolve_opts *o;
	struct release *out;
	int ret;
	perr e;
};

static void *release_job_run(void *arg)
{
	struct release_job *j = arg;

	j->ret = release_load(j->rr, j->suite, j->o, j->out, &j->e);
	return NULL;
}

/* Load n Releases concurrently (a thread each, up to RELEASE_THREADS at a
 * time).  A failure is reported for the first failing one in list order,
 * whatever finished first, and every loaded one is freed. */
#define RELEASE_THREADS 8

static int release_load_all(struct release_job *jobs, size_t n, perr *e)
{
	int ret = 0;

	for (size_t base = 0; base < n; base += RELEASE_THREADS) {
		size_t m = n - base < RELEASE_THREADS ? n - base : RELEASE_THREADS;
		pthread_t tid[RELEASE_THREADS];
		bool started[RELEASE_THREADS] = { false };

		/* the first one on this thread, the others on their own */
		for (size_t i = 1; i < m; i++)
			started[i] = pthread_create(&tid[i], NULL, release_job_run,
						    &jobs[base + i]) == 0;
		release_job_run(&jobs[base]);
		for (size_t i = 1; i < m; i++) {
			if (started[i])
				pthread_join(tid[i], NULL);
			else
				release_job_run(&jobs[base + i]);
		}
	}
	/* in list order, up to the first failure, as one at a time would */
	for (size_t i = 0; i < n && !ret; i++) {
		if (jobs[i].ret < 0) {
			*e = jobs[i].e;
			ret = -1;
		} else if (jobs[i].rr->trusted) {
			warning("%s: trusted: true, the OpenPGP signature is not checked",
				jobs[i].out->where);
		}
	}
	if (ret < 0)
		for (size_t i = 0; i < n; i++)
			if (jobs[i].ret == 0)
				release_release(jobs[i].out);
	return ret;
}

struct shared_pool {
	char *key;           /* arch + the release indices, in recipe order */
	Pool *pool;
};

int resolver_lock_each(struct recipe *const *rs, size_t n, const struct resolve_opts *o,
		       struct lock_recipe *outs, perr *errs, perr *e)
{
	struct recipe_repo *host = NULL;
	size_t nhost = 0, nrels = 0, jalloc = 0, npools = 0, palloc = 0;
	struct release_job *jobs = NULL;
	bool host_loaded = false;
	struct release *rels = NULL;
	strvec relkeys = STRVEC_INIT;
	struct shared_pool *pools = NULL;
	size_t **ridx = xcalloc(n ? n : 1, sizeof(*ridx)), *nridx = xcalloc(n ? n : 1, sizeof(*nridx));
	double t0;
	size_t nfailed = 0;
	int ret = -1;

	memset(outs, 0, n * sizeof(*outs));
	memset(&resolver_last_timing, 0, sizeof(resolver_last_timing));
	/* every distinct Release once, fetched and verified once: first the
	 * list, then all of them at the same time (each is a round trip to a
	 * server and a gpgv run) */
	t0 = now_ms();
	for (size_t i = 0; i < n; i++) {
		struct recipe_repo *repos = rs[i]->repos;
		size_t nrepos = rs[i]->nrepos;
		if (rs[i]->repos_from_host) {
			if (!host_loaded) {
				bool owned;
				if (load_repos(rs[i], &host, &nhost, &owned, e) < 0)
					goto out;
				host_loaded = true;
			}
			repos = host, nrepos = nhost;
		}
		for (size_t k = 0; k < nrepos; k++)
			for (size_t s = 0; s < repos[k].suites.n; s++) {
				char *key = release_key(&repos[k], repos[k].suites.v[s]);
				size_t j;
				for (j = 0; j < relkeys.n && strcmp(relkeys.v[j], key); j++)
					;
				if (j == relkeys.n) {
					ALLOC_GROW(jobs, relkeys.n + 1, jalloc);
					jobs[j] = (struct release_job){ .rr = &repos[k],
									.suite = repos[k].suites.v[s],
									.o = o };
					sv_push(&relkeys, key);
				}
				free(key);
				ridx[i] = xrealloc(ridx[i], (nridx[i] + 1) * sizeof(**ridx));
				ridx[i][nridx[i]++] = j;
			}
	}
	rels = xcalloc(relkeys.n ? relkeys.n : 1, sizeof(*rels));
	for (size_t j = 0; j < relkeys.n; j++)
		jobs[j].out = &rels[j];
	if (release_load_all(jobs, relkeys.n, e) < 0)
		goto out;
	nrels = relkeys.n;
	resolver_last_timing.release_ms = now_ms() - t0;

	for (size_t i = 0; i < n; i++) {
		const struct recipe *r = rs[i];
		struct lock_recipe *out = &outs[i];
		bool rfailed = false;
		out->name = xstrdup(r->name);
		out->recipe_sha256 = xstrdup(r->sha256 ? r->sha256 : "");
		out->repos = xcalloc(nridx[i] ? nridx[i] : 1, sizeof(*out->repos));
		out->nrepos = nridx[i];
		for (size_t k = 0; k < nridx[i]; k++)
			lock_repo_copy(&out->repos[k], &rels[ridx[i][k]].meta);
		out->archs = xcalloc(r->archs.n ? r->archs.n : 1, sizeof(*out->archs));
		for (size_t a = 0; a < r->archs.n; a++) {
			struct lock_arch *la = &out->archs[out->narchs++];
			strbuf key = STRBUF_INIT;
			char *mkey, *mpath;
			bool failed = false;
			Pool *pool = NULL;
			uint64_t total = 0;
			la->arch = xstrdup(r->archs.v[a]);
			sb_adds(&key, la->arch);
			for (size_t k = 0; k < nridx[i]; k++)
				sb_addf(&key, " %zu", ridx[i][k]);
			mkey = memo_key(r, la->arch, rels, ridx[i], nridx[i]);
			mpath = mkey ? memo_path(r->name, la->arch) : NULL;
			if (mkey && memo_get(mpath, mkey, r->name, la)) {
				resolver_last_timing.cached++;
			} else {
				for (size_t p = 0; p < npools && !pool; p++)
					if (!strcmp(pools[p].key, key.buf))
						pool = pools[p].pool;
				if (!pool && load_pool(rels, ridx[i], nridx[i], la->arch,
						       o && o->offline, &pool, e) == 0) {
					ALLOC_GROW(pools, npools + 1, palloc);
					pools[npools].key = sb_detach(&key);
					pools[npools++].pool = pool;
				}
				failed = !pool || solve_arch(r, pool, la->arch, la, e) < 0;
				if (!failed && mkey)
					memo_put(mpath, mkey, out, la);
			}
			if (!failed)
				lock_roots(r->name, la->arch, rels, ridx[i], nridx[i], mpath);
			free(mkey), free(mpath);
			sb_release(&key);
			if (failed && !errs)
				goto out;
			if (failed) {
				/* keep going: this recipe's error, the others resolved */
				errs[i] = *e;
				rfailed = true;
				break;
			}
			for (size_t k = 0; k < la->npkgs; k++)
				total += la->pkgs[k].size;
			note("%s: %s: %zu packages, %.1f MB", r->name, la->arch, la->npkgs,
			     (double)total / 1e6);
		}
		if (rfailed) {
			lock_recipe_release(out);
			memset(out, 0, sizeof(*out));
			nfailed++;
			continue;
		}
		out->source_date_epoch = lock_next_epoch(
			o && o->previous ? lock_find((struct lock *)o->previous, r->name) : NULL, out);
	}
	ret = (int)nfailed;
out:
	if (ret < 0)
		for (size_t i = 0; i < n; i++)
			lock_recipe_release(&outs[i]);
	for (size_t p = 0; p < npools; p++) {
		pool_free(pools[p].pool);
		free(pools[p].key);
	}
	free(pools);
	for (size_t i = 0; i < nrels; i++)
		release_release(&rels[i]);
	free(rels);
	free(jobs);
	for (size_t i = 0; i < n; i++)
		free(ridx[i]);
	free(ridx);
	free(nridx);
	sv_clear(&relkeys);
	if (host_loaded)
		repos_free(host, nhost);
	return ret;
}

int resolver_lock_many(struct recipe *const *rs, size_t n, const struct resolve_opts *o,
		       struct lock_recipe *outs, perr *e)
{
	return resolver_lock_each(rs, n, o, outs, NULL, e);
}

int resolver_lock(const struct recipe *r, const struct resolve_opts *o,
		  struct lock_recipe *out, perr *e)
{
	struct recipe *one = (struct recipe *)r;
	return resolver_lock_many(&one, 1, o, out, e);
}

/* ---- why ------------------------------------------------------------------ */

static struct lock_pkg *arch_find(const struct lock_arch *la, const char *name)
{
	for (size_t i = 0; i < la->npkgs; i++)
		if (!strcmp(la->pkgs[i].name, name))
			return &la->pkgs[i];
	return NULL;
}

/* Every shortest path from a requested package down to target: BFS from
 * all requested packages at once, keeping all parents at the previous
 * level, then enumerate backwards (capped: a handful of paths explain it). */
#define WHY_MAX_PATHS 16

static void enumerate(const struct lock_arch *la, size_t node, const int *dist,
		      strvec *parents_of, strvec *stack, strvec *paths)
{
	if (paths->n >= WHY_MAX_PATHS)
		return;
	sv_push(stack, la->pkgs[node].name);
	if (dist[node] == 0) {
		strbuf sb = STRBUF_INIT;
		for (size_t i = stack->n; i-- > 0;)
			sb_addf(&sb, "%s%s", sb.len ? " -> " : "", stack->v[i]);
		sv_push_nodup(paths, sb_detach(&sb));
	} else {
		for (size_t i = 0; i < parents_of[node].n; i++) {
			struct lock_pkg *pp = arch_find(la, parents_of[node].v[i]);
			enumerate(la, (size_t)(pp - la->pkgs), dist, parents_of, stack, paths);
		}
	}
	free(stack->v[--stack->n]);
}

int resolver_why(const struct lock_recipe *lr, const char *arch, const char *pkg,
		 strvec *paths, perr *e)
{
	const struct lock_arch *la = NULL;
	struct lock_pkg *target;
	size_t *queue = NULL, qh = 0, qt = 0;
	int *dist = NULL;
	strvec *parents_of = NULL, stack = STRVEC_INIT;
	int ret = -1;

	for (size_t i = 0; i < lr->narchs; i++)
		if (!strcmp(lr->archs[i].arch, arch))
			la = &lr->archs[i];
	if (!la)
		return perr_set(e, "recipe %s is not locked for %s", lr->name, arch);
	target = arch_find(la, pkg);
	if (!target)
		return perr_set(e, "%s is not in the closure of %s (%s)", pkg, lr->name, arch);
	queue = xcalloc(la->npkgs + 1, sizeof(*queue));
	dist = xcalloc(la->npkgs + 1, sizeof(*dist));
	parents_of = xcalloc(la->npkgs + 1, sizeof(*parents_of));
	for (size_t i = 0; i < la->npkgs; i++) {
		dist[i] = -1;
		if (la->pkgs[i].requested || sv_contains(&la->pkgs[i].required_by, "recipe")) {
			dist[i] = 0;
			queue[qt++] = i;
		}
	}
	while (qh < qt) {
		size_t u = queue[qh++];
		const struct lock_pkg *up = &la->pkgs[u];
		for (size_t k = 0; k < up->depends.n; k++) {
			struct lock_pkg *vp = arch_find(la, up->depends.v[k]);
			if (!vp)
				continue;
			size_t v = (size_t)(vp - la->pkgs);
			if (dist[v] < 0) {
				dist[v] = dist[u] + 1;
				queue[qt++] = v;
			}
			if (dist[v] == dist[u] + 1)
				sv_push(&parents_of[v], up->name);
		}
	}
	if (dist[target - la->pkgs] < 0) {
		perr_set(e, "%s is in the closure of %s (%s) but no requested package leads to it",
			 pkg, lr->name, arch);
		goto out;
	}
	enumerate(la, (size_t)(target - la->pkgs), dist, parents_of, &stack, paths);
	sv_sort(paths);
	ret = 0;
out:
	for (size_t i = 0; i < la->npkgs; i++)
		sv_clear(&parents_of[i]);
	free(parents_of);
	free(queue);
	free(dist);
	sv_clear(&stack);
	return ret;
}

/* ---- URLs ------------------------------------------------------------------ */

int resolver_repo_url(const struct recipe *r, const struct lock_repo *lrepo, char **url,
		      perr *e)
{
	struct recipe_repo *repos = NULL;
	size_t n = 0;
	bool owned = false;
	const char *first = NULL;
	int ret = -1;

	if (lrepo->url) {
		*url = xstrdup(lrepo->url);
		return 0;
	}
	if (load_repos(r, &repos, &n, &owned, e) < 0)
		goto out;
	/* a suite named by either its suite or its codename; when several
	 * repositories qualify, the one whose cached Release is the locked one */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < repos[i].suites.n; k++) {
			const char *s = repos[i].suites.v[k];
			if (strcmp(s, lrepo->suite) && strcmp(s, lrepo->codename))
				continue;
			if (!first)
				first = repos[i].url;
			char *key = xasprintf("%s %s", repos[i].url, s), hex[SHA256_HEX_LEN + 1];
			sha256_hex(key, strlen(key), hex);
			free(key);
			char *p = xasprintf("%s/release/%s/InRelease", pare_cache_dir(), hex);
			char *q = xasprintf("%s/release/%s/Release", pare_cache_dir(), hex);
			char fhex[SHA256_HEX_LEN + 1] = "";
			perr e2;
			bool match = (sha256_file(p, fhex, NULL, &e2) == 0 ||
				      sha256_file(q, fhex, NULL, &e2) == 0) &&
				     lrepo->inrelease_sha256 &&
				     !strcmp(fhex, lrepo->inrelease_sha256);
			free(p), free(q);
			if (match) {
				*url = xstrdup(repos[i].url);
				ret = 0;
				goto out;
			}
		}
	if (!first) {
		perr_set(e, "recipe %s has no repository for suite %s (codename %s)", r->name,
			 lrepo->suite, lrepo->codename);
		goto out;
	}
	*url = xstrdup(first);
	ret = 0;
out:
	if (owned)
		repos_free(repos, n);
	return ret;
}

/* ---- versions ---------------------------------------------------------------- */

/* One pool for every comparison (a changelog scan makes thousands): with
 * DISTTYPE_DEB, pool_evrcmp_str only reads it, so threads may share it. */
static Pool *vercmp_pool;

static void vercmp_pool_free(void)
{
	pool_free(vercmp_pool);
}

static void vercmp_pool_init(void)
{
	vercmp_pool = pool_create();
	pool_setdisttype(vercmp_pool, DISTTYPE_DEB);
	atexit(vercmp_pool_free);
}

int resolver_vercmp(const char *a, const char *b)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, vercmp_pool_init);
	return pool_evrcmp_str(vercmp_pool, a, b, EVRCMP_COMPARE);
}
