/*
 * gitlab.c - pare plan --format gitlab: the planned recipe/arch pairs as a
 * GitLab CI child pipeline (docs/ci.md), written with libyaml's emitter.
 *
 * One job per pair, named "build RECIPE ARCH", with the variables RECIPE
 * and ARCH and `extends: .pare-build` (the template the parent pipeline
 * includes next to this file).  An empty plan is one job that says so: a
 * child pipeline without jobs is an error in GitLab.
 */
#include "rebuild.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

struct em {
	yaml_emitter_t y;
	yaml_event_t ev;
	bool bad;
};

static void emit(struct em *m)
{
	if (!m->bad && !yaml_emitter_emit(&m->y, &m->ev))
		m->bad = true;
}

static void scalar(struct em *m, const char *s)
{
	if (m->bad)
		return;
	yaml_scalar_event_initialize(&m->ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
				     YAML_ANY_SCALAR_STYLE);
	emit(m);
}

static void map_start(struct em *m, bool flow)
{
	if (m->bad)
		return;
	yaml_mapping_start_event_initialize(&m->ev, NULL, NULL, 1,
					    flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	emit(m);
}

static void map_end(struct em *m)
{
	if (m->bad)
		return;
	yaml_mapping_end_event_initialize(&m->ev);
	emit(m);
}

static void seq_start(struct em *m)
{
	if (m->bad)
		return;
	yaml_sequence_start_event_initialize(&m->ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	emit(m);
}

static void seq_end(struct em *m)
{
	if (m->bad)
		return;
	yaml_sequence_end_event_initialize(&m->ev);
	emit(m);
}

static int put(void *data, unsigned char *buf, size_t n)
{
	sb_add(data, buf, n);
	return 1;
}

int rebuild_plan_gitlab(const strvec *recipes, const strvec *archs, strbuf *out, perr *e)
{
	struct em m = { .bad = false };

	if (!yaml_emitter_initialize(&m.y))
		return perr_set(e, "libyaml: cannot make an emitter");
	yaml_emitter_set_output(&m.y, put, out);
	yaml_emitter_set_unicode(&m.y, 1);
	yaml_emitter_set_width(&m.y, -1);
	yaml_stream_start_event_initialize(&m.ev, YAML_UTF8_ENCODING);
	emit(&m);
	if (!m.bad) {
		yaml_document_start_event_initialize(&m.ev, NULL, NULL, NULL, 1);
		emit(&m);
	}
	map_start(&m, false);
	for (size_t i = 0; i < recipes->n; i++) {
		char *name = xasprintf("build %s %s", recipes->v[i], archs->v[i]);

		scalar(&m, name);
		free(name);
		map_start(&m, false);
		scalar(&m, "extends");
		scalar(&m, ".pare-build");
		scalar(&m, "variables");
		map_start(&m, false);
		scalar(&m, "RECIPE");
		scalar(&m, recipes->v[i]);
		scalar(&m, "ARCH");
		scalar(&m, archs->v[i]);
		map_end(&m);
		map_end(&m);
	}
	if (!recipes->n) {
		scalar(&m, "nothing to rebuild");
		map_start(&m, false);
		scalar(&m, "script");
		seq_start(&m);
		scalar(&m, "echo 'pare plan: every image is up to date'");
		seq_end(&m);
		map_end(&m);
	}
	map_end(&m);
	if (!m.bad) {
		yaml_document_end_event_initialize(&m.ev, 1);
		emit(&m);
	}
	if (!m.bad) {
		yaml_stream_end_event_initialize(&m.ev);
		emit(&m);
	}
	if (m.bad)
		perr_set(e, "libyaml: %s", m.y.problem ? m.y.problem : "cannot emit the pipeline");
	yaml_emitter_delete(&m.y);
	return m.bad ? -1 : 0;
}
