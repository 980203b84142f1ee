/* SPDX-License-Identifier: ISC */
/* Reload (see reload.h). */
#include "reload.h"

void reload_result_free(struct reload_result *r) {
	strv_free(r->added);
	strv_free(r->removed);
	strv_free(r->changed);
	memset(r, 0, sizeof(*r));
}

/* The config a job belongs to in c, or NULL if it is gone. */
static struct job_config *new_home(struct supd_config *c, const struct job *j) {
	const char *at = strchr(j->name, '@');
	if (!at)
		return config_find_job(c, j->name);
	_cleanup_free_ char *base = xstrndup(j->name, (size_t) (at - j->name));
	struct job_config *jc = config_find_job(c, base);
	if (!jc || !(jc->is_template || jc->instances_set))
		return NULL;
	if (jc->instances_set) {
		char *end;
		long idx = strtol(at + 1, &end, 10);
		if (*end || end == at + 1 || idx < 0 || idx >= config_instances(jc))
			return NULL;
	}
	return jc;
}

void supervisor_reload(struct supervisor *s, struct supd_config *c, struct reload_result *res) {
	struct supd_config *old = s->config;

	memset(res, 0, sizeof(*res));
	/* the new config first: requirements resolved meanwhile name its templates */
	s->config = c;

	/* existing jobs: keep, change or retire */
	for (size_t i = 0; i < s->n_jobs;) {
		struct job *j = s->jobs[i];
		struct job_config *jc = new_home(c, j);
		if (!jc) {
			res->removed = strv_push(res->removed, j->name);
			supervisor_retire_job(s, j);
			continue;      /* the table shifted */
		}
		if (requires_reconfigure(&s->req, j, jc))
			res->changed = strv_push(res->changed, j->name);
		i++;
	}
	/* new jobs, under the new max_parallel */
	s->host.queue.max = config_max_parallel(c);
	for (size_t i = 0; i < c->n_jobs; i++) {
		struct job_config *jc = c->jobs[i];
		if (jc->is_template)
			continue;
		long n = jc->instances_set ? config_instances(jc) : 1;
		for (long k = 0; k < n; k++) {
			_cleanup_free_ char *name = jc->instances_set ? xasprintf("%s@%ld", jc->name, k) : xstrdup(jc->name);
			if (supervisor_find(s, name))
				continue;
			(void) supervisor_add_job(s, name, jc);
			res->added = strv_push(res->added, name);
		}
	}
	/* once all are there: a new job may require one added after it */
	for (char **name = res->added; name && *name; name++) {
		struct job *j = supervisor_find(s, *name);
		if (j && j->config->autostart)
			(void) requires_start(&s->req, j);
	}
	/* a changed requires applies at each job's next start; waiting ones
	 * are checked again now */
	requires_reload(&s->req, s->jobs, s->n_jobs);
	config_free(old);
	runqueue_drain(&s->host.queue);
}

