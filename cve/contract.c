/*
 * contract.c - the release functions and class names of cve.h, as the
 * branch that builds subjects and output formats (issue 19 part 2) needs
 * them.  The part that builds matching (match.c) defines the same; these
 * are weak so that whichever is merged first, the build links, and the
 * lead drops this file once match.c is in.
 */
#include "cve.h"

#include <stdlib.h>
#include <string.h>

#define WEAK __attribute__((weak))

WEAK const char *cve_class_name(enum cve_class c)
{
	static const char *const names[] = { "fixable", "open", "undetermined",
					     "fixed", "not-affected", "suppressed" };

	return (unsigned)c < ARRAY_SIZE(names) ? names[c] : "?";
}

WEAK void cve_pkg_release(struct cve_pkg *p)
{
	free(p->name);
	free(p->version);
	free(p->source);
	free(p->source_version);
	free(p->arch);
	free(p->purl);
	free(p->bom_ref);
}

WEAK void cve_subject_release(struct cve_subject *s)
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

WEAK void cve_report_release(struct cve_report *r)
{
	for (size_t i = 0; i < r->nsubjects; i++)
		cve_subject_release(&r->subjects[i]);
	free(r->subjects);
	for (size_t i = 0; i < r->nfindings; i++) {
		struct cve_finding *f = &r->findings[i];

		free(f->id);
		free(f->source);
		free(f->installed);
		free(f->fixed_version);
		free(f->open_reason);
		free(f->urgency);
		free(f->description);
		free(f->kev_added);
		free(f->kev_due);
		for (size_t b = 0; b < f->nbinaries; b++)
			free(f->binaries[b]);
		free(f->binaries);
		free(f->vex_status);
		free(f->vex_justification);
		free(f->vex_statement);
	}
	free(r->findings);
	free(r->tracker_date);
	free(r->kev_date);
	free(r->epss_date);
	free(r->stale);
	memset(r, 0, sizeof(*r));
}
