/* SPDX-License-Identifier: ISC */
/* Requirements between running jobs (requires.h).
 *
 * Each job with requires = keeps the edges to the jobs its requirements
 * resolved to, and each required job the list of its dependents, so a
 * state change reaches exactly the jobs that care. Rechecks and held
 * stops go through one work list drained in a loop, not by recursion: a
 * chain of 10,000 services coming up one after the other must not take
 * 10,000 stack frames. */
#include "graph.h"
#include "log.h"
#include "requires.h"

struct req_edge {
	struct job *target;
	enum req_cond cond;
};

struct job_deps {
	struct req_edge *edges;
	size_t n_edges;
	char *missing;                   /* a requirement that resolved to nothing */
	const struct job_config *resolved_for;   /* the config the edges are of; NULL: stale */
	struct job **dependents;         /* jobs with an edge to this one */
	size_t n_dependents;
	enum requires_pending pending;   /* a held stop */
	struct job_config *pending_config;   /* a held reload */
	uint64_t visited;                /* requires_start()'s walk */
	bool in_work;                    /* on the work list */
};

static struct job_deps *deps_of(struct job *j)
{
	if (!j->deps)
		j->deps = xcalloc(1, sizeof(*j->deps));
	return j->deps;
}

static void push_job(struct job ***v, size_t *n, size_t *cap, struct job *j)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = j;
}

/* ---- conditions ---- */

/* A job whose stop is held is about to go: nothing may count on it. */
static bool is_held(const struct job *t)
{
	return t->deps && t->deps->pending != PENDING_NONE;
}

static bool cond_holds(const struct job *t, enum req_cond c)
{
	if (is_held(t))
		return false;
	switch (c) {
	case REQ_UP:
		return t->state == JOB_RUNNING;
	case REQ_STARTED:
		return t->state == JOB_STARTING || t->state == JOB_RUNNING;
	case REQ_EXITED:
		return t->state == JOB_EXITED;
	case REQ_HEALTHY:
		return t->state == JOB_RUNNING && t->health == JOB_HEALTH_HEALTHY;
	case _REQ_COND_MAX:
		break;
	}
	return false;
}

/* A final state that cannot meet the condition (a requirement in backoff
 * or stopping keeps the dependent waiting). */
static bool cond_failed(const struct job *t, enum req_cond c)
{
	if (!job_state_is_final(t->state) || job_is_active(t) || is_held(t))
		return false;
	return c == REQ_EXITED ? t->state != JOB_EXITED : true;
}

/* Stop and restart go through up, started and healthy; exited only orders
 * the start. */
static bool edge_binds(enum req_cond c)
{
	return c != REQ_EXITED;
}

/* ---- edges ---- */

static void remove_dependent(struct job *t, struct job *j)
{
	struct job_deps *d = t->deps;

	for (size_t i = 0; d && i < d->n_dependents; i++)
		if (d->dependents[i] == j) {
			d->dependents[i] = d->dependents[--d->n_dependents];
			return;
		}
}

static bool has_edge_to(const struct job_deps *d, const struct job *t)
{
	for (size_t i = 0; i < d->n_edges; i++)
		if (d->edges[i].target == t)
			return true;
	return false;
}

static void drop_edges(struct job *j)
{
	struct job_deps *d = j->deps;

	for (size_t i = 0; i < d->n_edges; i++)
		if (!has_edge_to(&(struct job_deps) { .edges = d->edges, .n_edges = i }, d->edges[i].target))
			remove_dependent(d->edges[i].target, j);
	free(d->edges);
	d->edges = NULL;
	d->n_edges = 0;
	free(d->missing);
	d->missing = NULL;
	d->resolved_for = NULL;
}

/* The edges of j's current config, through the owner's names. */
static void resolve_edges(struct requires *r, struct job *j)
{
	struct job_deps *d = deps_of(j);
	const struct job_config *jc = j->config;

	drop_edges(j);
	for (size_t i = 0; i < jc->n_requires; i++) {
		_cleanup_free_ char *name = graph_expand(&jc->requires[i], j->instance, j->name);
		struct job **v = NULL;
		size_t n = 0;
		int k = r->ops->resolve(r, name, &v, &n);

		if (k <= 0 && !d->missing) {
			log_warnx("%s: requirement %s names no job", j->name, name);
			d->missing = TAKE_PTR(name);
		}
		for (size_t e = 0; e < n; e++) {
			struct job *t = v[e];

			if (t == j)
				continue;
			if (!has_edge_to(d, t)) {
				struct job_deps *td = deps_of(t);
				size_t cap = td->n_dependents;   /* grows at powers of two */
				if ((cap & (cap - 1)) == 0)
					td->dependents = xreallocarray(td->dependents, cap ? 2 * cap : 1,
								       sizeof(*td->dependents));
				td->dependents[td->n_dependents++] = j;
			}
			d->edges = xreallocarray(d->edges, d->n_edges + 1, sizeof(*d->edges));
			d->edges[d->n_edges++] = (struct req_edge) { t, jc->requires[i].cond };
		}
		free(v);
	}
	d->resolved_for = jc;
}

enum job_requires requires_check(struct requires *r, struct job *j, const char **failed)
{
	struct job_deps *d = deps_of(j);
	bool all = true;

	if (d->resolved_for != j->config)
		resolve_edges(r, j);
	if (d->missing) {
		*failed = d->missing;
		return JOB_REQ_FAILED;
	}
	for (size_t i = 0; i < d->n_edges; i++) {
		const struct req_edge *e = &d->edges[i];

		if (cond_failed(e->target, e->cond)) {
			*failed = e->target->name;
			return JOB_REQ_FAILED;
		}
		if (!cond_holds(e->target, e->cond))
			all = false;
	}
	return all ? JOB_REQ_HOLD : JOB_REQ_WAIT;
}

void requires_waiting_for(const struct job *j, void (*fn)(const char *name, void *userdata), void *userdata)
{
	const struct job_deps *d = j->deps;

	if (!d || j->state != JOB_WAITING)
		return;
	if (d->missing)
		fn(d->missing, userdata);
	for (size_t i = 0; i < d->n_edges; i++)
		if (!cond_holds(d->edges[i].target, d->edges[i].cond))
			fn(d->edges[i].target->name, userdata);
}

/* ---- the work list ---- */

static void try_stop(struct requires *r, struct job *x);

static void enqueue(struct requires *r, struct job *j)
{
	if (j->deps->in_work)
		return;
	j->deps->in_work = true;
	push_job(&r->work, &r->n_work, &r->cap_work, j);
}

/* Take each job in turn: a waiting or queued one is checked again, a held
 * stop may go on. What that changes is queued behind, not recursed into. */
static void drain(struct requires *r)
{
	if (r->draining)
		return;
	r->draining = true;
	for (size_t i = 0; i < r->n_work; i++) {
		struct job *j = r->work[i];

		if (!j)
			continue;     /* forgotten meanwhile */
		j->deps->in_work = false;
		if (j->deps->pending != PENDING_NONE)
			try_stop(r, j);
		else if (j->state == JOB_WAITING || j->state == JOB_QUEUED)
			job_handle(j, JOB_IN_REQUIREMENT);
	}
	r->n_work = 0;
	r->draining = false;
}

void requires_changed(struct requires *r, struct job *j)
{
	struct job_deps *d = j->deps;

	if (!d)
		return;
	for (size_t i = 0; i < d->n_dependents; i++) {
		struct job *y = d->dependents[i];
		/* reload took j away (a pool shrunk): it is no requirement
		 * now, whatever state it ends in; y resolves its names again
		 * without it (it is out of the table already) */
		if (j->removed)
			y->deps->resolved_for = NULL;
		if (y->state == JOB_WAITING || y->state == JOB_QUEUED)
			enqueue(r, y);
	}
	/* j ended or went waiting: the held stops of what it requires go on */
	for (size_t i = 0; i < d->n_edges; i++)
		if (is_held(d->edges[i].target))
			enqueue(r, d->edges[i].target);
	if (d->pending != PENDING_NONE)
		enqueue(r, j);
	drain(r);
}

void requires_forget(struct requires *r, struct job *j)
{
	struct job_deps *d = j->deps;

	if (!d)
		return;
	drop_edges(j);
	for (size_t i = 0; i < d->n_dependents; i++) {
		struct job *y = d->dependents[i];
		struct job_deps *yd = y->deps;
		size_t n = 0;

		for (size_t e = 0; e < yd->n_edges; e++)
			if (yd->edges[e].target != j)
				yd->edges[n++] = yd->edges[e];
		yd->n_edges = n;
		yd->resolved_for = NULL;    /* resolved again at its next check */
	}
	for (size_t i = 0; i < r->n_work; i++)
		if (r->work[i] == j)
			r->work[i] = NULL;
	free(d->dependents);
	job_config_unref(d->pending_config);
	free(d);
	j->deps = NULL;
}

void requires_done(struct requires *r)
{
	free(r->work);
	r->work = NULL;
	r->n_work = r->cap_work = 0;
}

/* ---- start ---- */

/* Whether pull() goes into j: it has requirements and this walk (gen) has
 * not been there. Marks j and brings its edges up to date. */
static bool pull_enter(struct requires *r, struct job *j, uint64_t gen)
{
	struct job_deps *d;

	if (j->config->n_requires == 0)
		return false;
	d = deps_of(j);
	if (d->visited == gen)
		return false;
	d->visited = gen;
	resolve_edges(r, j);     /* a changed requires applies at the next start */
	return true;
}

struct pull_frame {
	struct job *job;
	size_t next;             /* the edge of job to look at next */
};

/* Start what j requires and does not have, deepest first: a requirement
 * is wanted up once everything it requires has been, in the order of the
 * edges (a depth-first walk, on a stack of its own so that a chain of
 * 200,000 jobs takes no stack frames). The walk marks each job once, so a
 * diamond is not walked twice. */
static void pull(struct requires *r, struct job *j, uint64_t gen)
{
	struct pull_frame *stack = NULL;
	size_t n = 0, cap = 0;

	if (!pull_enter(r, j, gen))
		return;
	stack = xreallocarray(NULL, cap = 16, sizeof(*stack));
	stack[n++] = (struct pull_frame) { j, 0 };
	while (n > 0) {
		struct pull_frame *f = &stack[n - 1];
		const struct job_deps *d = f->job->deps;
		struct job *t;
		enum req_cond cond;

		if (f->next >= d->n_edges) {
			t = f->job;
			if (--n > 0)
				(void) job_want_up(t);   /* all it requires is on its way */
			continue;
		}
		t = d->edges[f->next].target;
		cond = d->edges[f->next].cond;
		f->next++;
		if (cond_holds(t, cond) || !job_state_is_final(t->state) || job_is_active(t) || is_held(t))
			continue;
		if (!pull_enter(r, t, gen)) {
			(void) job_want_up(t);
			continue;
		}
		if (n == cap)
			stack = xreallocarray(stack, cap *= 2, sizeof(*stack));
		stack[n++] = (struct pull_frame) { t, 0 };
	}
	free(stack);
}

int requires_start(struct requires *r, struct job *j)
{
	/* a start after a stop still held for the dependents: it stays up */
	if (j->deps && j->deps->pending == PENDING_STOP) {
		j->deps->pending = PENDING_NONE;
		requires_changed(r, j);    /* what waits for it may go on */
	}
	if (j->config->n_requires > 0)
		pull(r, j, ++r->generation);
	return job_want_up(j);
}

/* ---- stop, restart, reload, shutdown: dependents first ---- */

/* Whether an active job requires x through up, started or healthy. */
static bool has_active_dependents(const struct job *x)
{
	const struct job_deps *d = x->deps;

	for (size_t i = 0; d && i < d->n_dependents; i++) {
		const struct job *y = d->dependents[i];

		if (!job_is_active(y))
			continue;
		for (size_t e = 0; e < y->deps->n_edges; e++)
			if (y->deps->edges[e].target == x && edge_binds(y->deps->edges[e].cond))
				return true;
	}
	return false;
}

static void hold(struct job *x, enum requires_pending how)
{
	struct job_deps *d = deps_of(x);

	/* the latest request wins; a held reload's config is kept apart */
	d->pending = how;
}

/* Release x's held stop once nothing active requires it. */
static void try_stop(struct requires *r, struct job *x)
{
	struct job_deps *d = x->deps;

	if (!d || d->pending == PENDING_NONE || has_active_dependents(x))
		return;
	enum requires_pending how = d->pending;
	struct job_config *jc = TAKE_PTR(d->pending_config);
	bool was_active = job_is_active(x);

	d->pending = PENDING_NONE;
	if (jc)
		(void) job_reconfigure(x, jc);
	switch (how) {
	case PENDING_STOP:
		job_want_down(x);
		break;
	case PENDING_RESTART:
		(void) job_restart(x);
		break;
	case PENDING_SHUTDOWN:
		job_shutdown(x);
		if (was_active && r->ops->stop_step)
			r->ops->stop_step(r, x);
		break;
	case PENDING_RECONFIGURE:
	case PENDING_NONE:
		break;
	}
	job_config_unref(jc);
	/* x may not change state (it was stopped): what it requires goes on */
	for (size_t i = 0; i < d->n_edges; i++)
		if (is_held(d->edges[i].target))
			enqueue(r, d->edges[i].target);
}

/* Hold x and, recursively, the jobs not final that require it through a
 * binding edge; appended to *set. */
static void hold_tree(struct requires *r, struct job *root, enum requires_pending how, struct job ***set,
		      size_t *n, size_t *cap)
{
	uint64_t gen = ++r->generation;
	enum requires_pending dep_how = how == PENDING_RESTART || how == PENDING_RECONFIGURE ? PENDING_RESTART
		: how;

	deps_of(root)->visited = gen;
	push_job(set, n, cap, root);
	for (size_t i = 0; i < *n; i++) {
		struct job *x = (*set)[i];
		struct job_deps *d = x->deps;

		for (size_t k = 0; d && k < d->n_dependents; k++) {
			struct job *y = d->dependents[k];
			bool binds = false;

			if (y->deps->visited == gen || job_state_is_final(y->state))
				continue;
			for (size_t e = 0; e < y->deps->n_edges && !binds; e++)
				binds = y->deps->edges[e].target == x && edge_binds(y->deps->edges[e].cond);
			if (!binds)
				continue;
			y->deps->visited = gen;
			hold(y, dep_how);
			push_job(set, n, cap, y);
		}
	}
	if (how != PENDING_RECONFIGURE)
		hold(root, how);
	else
		deps_of(root)->pending = PENDING_RECONFIGURE;
}

static void release_all(struct requires *r, struct job **set, size_t n)
{
	/* dependents first: the last found are the furthest from the root */
	for (size_t i = n; i-- > 0;)
		enqueue(r, set[i]);
	drain(r);
}

void requires_stop(struct requires *r, struct job *j, enum requires_pending how, struct job ***deps, size_t *n_deps)
{
	struct job **set = NULL;
	size_t n = 0, cap = 0;

	if (!j->deps || (j->deps->n_dependents == 0 && j->deps->pending == PENDING_NONE)) {
		/* the common case: nothing requires j */
		if (how == PENDING_STOP)
			job_want_down(j);
		else if (how == PENDING_RESTART) {
			if (j->config->n_requires)
				pull(r, j, ++r->generation);
			(void) job_restart(j);
		}
		else {
			bool was_active = job_is_active(j);
			job_shutdown(j);
			if (was_active && r->ops->stop_step)
				r->ops->stop_step(r, j);
		}
		return;
	}
	if (how == PENDING_RESTART && j->config->n_requires)
		pull(r, j, ++r->generation);   /* a restart starts what j requires, as a start */
	hold_tree(r, j, how, &set, &n, &cap);
	for (size_t i = 1; deps && i < n; i++) {
		if ((*n_deps & (*n_deps - 1)) == 0)
			*deps = xreallocarray(*deps, *n_deps ? 2 * *n_deps : 1, sizeof(**deps));
		(*deps)[(*n_deps)++] = set[i];
	}
	release_all(r, set, n);
	free(set);
}

bool requires_reconfigure(struct requires *r, struct job *j, struct job_config *jc)
{
	struct job **set = NULL;
	size_t n = 0, cap = 0;

	if (job_config_equal_run(j->config, jc) || !job_is_active(j) || !has_active_dependents(j))
		return job_reconfigure(j, jc);
	job_config_unref(j->deps->pending_config);
	j->deps->pending_config = job_config_ref(jc);
	hold_tree(r, j, PENDING_RECONFIGURE, &set, &n, &cap);
	release_all(r, set, n);
	free(set);
	return true;
}

void requires_reload(struct requires *r, struct job *const *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct job *j = jobs[i];

		if (!j->deps)
			continue;
		j->deps->resolved_for = NULL;
		if (j->config->n_requires && (j->state == JOB_WAITING || j->state == JOB_QUEUED))
			enqueue(r, j);
	}
	drain(r);
}

void requires_shutdown(struct requires *r, struct job *const *jobs, size_t n)
{
	struct job **v = NULL;
	size_t nv = 0, cap = 0;

	/* a snapshot: stopping may take jobs out of the table */
	for (size_t i = 0; i < n; i++)
		push_job(&v, &nv, &cap, jobs[i]);
	for (size_t i = 0; i < nv; i++)
		if (v[i]->deps && v[i]->deps->n_dependents)
			hold(v[i], PENDING_SHUTDOWN);
	for (size_t i = 0; i < nv; i++) {
		if (is_held(v[i]))
			enqueue(r, v[i]);
		else
			requires_stop(r, v[i], PENDING_SHUTDOWN, NULL, NULL);
	}
	drain(r);
	free(v);
}

bool requires_stop_held(const struct job *j)
{
	return is_held(j);
}
