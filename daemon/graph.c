/* SPDX-License-Identifier: ISC */
/* The dependency graph of a configuration (graph.h).
 *
 * Cycles are looked for between job sections, not instances: an edge goes
 * from a job, pool or template to the section its requirement names. That
 * is conservative (t@a requiring t@b is reported although the instances
 * differ), and it means no set of instances made at run time can form a
 * cycle: every edge between instances is an edge between their sections. */
#include <stdarg.h>
#include <stdlib.h>

#include "graph.h"
#include "hashmap.h"
#include "names.h"
#include "subst.h"

const char *graph_name_invalid(const char *name)
{
	const char *at = strchr(name, '@');
	_cleanup_free_ char *base = at ? xstrndup(name, (size_t) (at - name)) : xstrdup(name);
	char bad;

	if (!job_name_valid(base))
		return strchr(base, '%') ? "%i and %n may only follow '@'" : "use letters, digits, _ . -";
	if (!at)
		return NULL;
	if (!at[1])
		return "an instance is missing after '@'";
	if (strchr(at + 1, '%'))
		return subst_valid(at + 1, &bad) ? NULL : "unknown specifier";
	return instance_arg_valid(at + 1) ? NULL : "invalid instance name";
}

char *graph_expand(const struct requirement *r, const char *instance, const char *name)
{
	return strchr(r->name, '%') ? subst_expand(r->name, instance, name) : xstrdup(r->name);
}

/* The index of a pool instance "N" (no sign, no leading zero), or -1. */
static long pool_index(const char *s)
{
	long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > CONFIG_INSTANCES_MAX)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static enum graph_target resolve_in(const struct supd_config *c, const struct hashmap *by_name, const char *n,
				    struct job_config **target, const char **why)
{
	const char *at = strchr(n, '@');
	_cleanup_free_ char *base = at ? xstrndup(n, (size_t) (at - n)) : NULL;
	struct job_config *jc = by_name ? hashmap_get_str(by_name, at ? base : n)
					: config_find_job(c, at ? base : n);

	if (target)
		*target = jc;
	if (!at) {
		if (!jc) {
			*why = "unknown job";
			return GRAPH_UNKNOWN;
		}
		if (jc->is_template) {
			*why = "a template needs an instance (NAME@ARG)";
			return GRAPH_UNKNOWN;
		}
		return jc->instances_set ? GRAPH_POOL : GRAPH_JOB;
	}
	if (!jc) {
		*why = "unknown template or pool";
		return GRAPH_UNKNOWN;
	}
	if (jc->is_template) {
		if (!instance_arg_valid(at + 1)) {
			*why = "invalid instance name";
			return GRAPH_UNKNOWN;
		}
		return GRAPH_TEMPLATE_INSTANCE;
	}
	if (!jc->instances_set) {
		*why = "not a template or pool";
		return GRAPH_UNKNOWN;
	}
	long idx = pool_index(at + 1);
	if (idx < 0 || idx >= config_instances(jc)) {
		*why = "no such instance of the pool";
		return GRAPH_UNKNOWN;
	}
	return GRAPH_POOL_INSTANCE;
}

enum graph_target graph_resolve(const struct supd_config *c, const char *n, struct job_config **target,
				const char **why)
{
	return resolve_in(c, NULL, n, target, why);
}

/* ---- the checks ---- */

struct checker {
	const struct supd_config *c;
	struct hashmap by_name;       /* section name -> job_config */
	graph_error_fn *error;
	void *userdata;
	size_t n_errors;
};

static _printf_(3, 4) void report(struct checker *k, const struct requirement *r, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	k->error(k->userdata, r->file, r->line, msg);
	k->n_errors++;
}

/* Checks of one requirement as one instance of jc (name: the instance's
 * full name) sees it; false once reported. */
static bool check_one(struct checker *k, const struct job_config *jc, const struct requirement *r,
		      const char *instance, const char *name)
{
	_cleanup_free_ char *n = graph_expand(r, instance, name);
	struct job_config *t = NULL;
	const char *why = NULL;
	enum graph_target kind = resolve_in(k->c, &k->by_name, n, &t, &why);
	long max_parallel = config_max_parallel(k->c);

	if (kind == GRAPH_UNKNOWN) {
		report(k, r, "requires %s: %s", n, why);
		return false;
	}
	if (r->cond == REQ_HEALTHY && !t->health_command) {
		report(k, r, "requires %s:healthy, but %s has no health_command", n, t->name);
		return false;
	}
	if (kind == GRAPH_POOL && r->cond != REQ_EXITED && t->restart == RESTART_NO && max_parallel > 0 &&
	    config_instances(t) > max_parallel) {
		report(k, r, "requires %s:%s can never hold: %ld batch instances, max_parallel = %ld", n,
		       req_cond_to_string(r->cond), config_instances(t), max_parallel);
		return false;
	}
	(void) jc;
	return true;
}

/* Each requirement as each instance jc declares would see it; a template's
 * instances are not known yet, so only what holds for any argument. */
static void check_requirements(struct checker *k, const struct job_config *jc)
{
	for (size_t i = 0; i < jc->n_requires; i++) {
		const struct requirement *r = &jc->requires[i];

		if (jc->is_template) {
			if (strchr(r->name, '%')) {
				/* the section it names must exist; the instance is made
				 * by name at run time */
				const char *at = strchr(r->name, '@');
				_cleanup_free_ char *base = xstrndup(r->name, (size_t) (at - r->name));
				struct job_config *t = hashmap_get_str(&k->by_name, base);

				if (!t || (!t->is_template && !t->instances_set))
					report(k, r, "requires %s: %s", r->name,
					       t ? "not a template or pool" : "unknown template or pool");
				else if (r->cond == REQ_HEALTHY && !t->health_command)
					report(k, r, "requires %s:healthy, but %s has no health_command", r->name,
					       t->name);
				continue;
			}
			(void) check_one(k, jc, r, "", jc->name);
			continue;
		}
		if (!jc->instances_set) {
			(void) check_one(k, jc, r, "", jc->name);
			continue;
		}
		long n = config_instances(jc);
		for (long idx = 0; idx < n; idx++) {
			char inst[24];
			_cleanup_free_ char *name = NULL;

			(void) snprintf(inst, sizeof(inst), "%ld", idx);
			name = xasprintf("%s@%s", jc->name, inst);
			if (!check_one(k, jc, r, inst, name) || !strchr(r->name, '%'))
				break;   /* one message a requirement */
		}
	}
}

/* The section a requirement's edge goes to, or NULL. */
static struct job_config *edge_target(struct checker *k, const struct requirement *r)
{
	const char *at = strchr(r->name, '@');
	_cleanup_free_ char *base = at ? xstrndup(r->name, (size_t) (at - r->name)) : xstrdup(r->name);

	return hashmap_get_str(&k->by_name, base);
}

enum { WHITE, GREY, BLACK };

/* Depth-first search without recursion (a chain of 100,000 jobs must not
 * overflow the stack); a requirement to a section on the path (GREY)
 * closes a cycle, reported at the requires line of its first section. */
static void check_cycles(struct checker *k)
{
	const struct supd_config *c = k->c;
	struct hashmap index;
	unsigned char *color = xcalloc(c->n_jobs ? c->n_jobs : 1, 1);
	size_t *stack = xcalloc(c->n_jobs ? c->n_jobs : 1, sizeof(size_t));
	size_t *next_edge = xcalloc(c->n_jobs ? c->n_jobs : 1, sizeof(size_t));

	hashmap_init(&index, false);
	for (size_t i = 0; i < c->n_jobs; i++)
		hashmap_put_int(&index, (uint64_t) (uintptr_t) c->jobs[i], (void *) (i + 1));

	for (size_t root = 0; root < c->n_jobs; root++) {
		size_t depth = 0;

		if (color[root] != WHITE)
			continue;
		stack[depth++] = root;
		color[root] = GREY;
		next_edge[root] = 0;
		while (depth > 0) {
			size_t v = stack[depth - 1];
			const struct job_config *jc = c->jobs[v];

			if (next_edge[v] == jc->n_requires) {
				color[v] = BLACK;
				depth--;
				continue;
			}
			const struct requirement *r = &jc->requires[next_edge[v]++];
			struct job_config *t = edge_target(k, r);
			size_t w = t ? (size_t) (uintptr_t) hashmap_get_int(&index, (uint64_t) (uintptr_t) t) : 0;

			if (w == 0)
				continue;     /* unknown: reported by check_requirements */
			w--;
			if (color[w] == WHITE) {
				color[w] = GREY;
				next_edge[w] = 0;
				stack[depth++] = w;
			} else if (color[w] == GREY) {
				struct buf b = { 0 };
				size_t from = depth;

				while (from > 0 && stack[from - 1] != w)
					from--;
				from--;
				for (size_t i = from; i < depth; i++)
					buf_appendf(&b, "%s -> ", c->jobs[stack[i]]->name);
				buf_appendf(&b, "%s", c->jobs[w]->name);
				/* at the line of the cycle's first edge: the requirement
				 * of w the search followed (or r itself, a self-loop) */
				const struct requirement *at = from + 1 < depth ? &c->jobs[w]->requires[next_edge[w] - 1] : r;
				report(k, at, "dependency cycle: %s", b.data);
				buf_free(&b);
			}
		}
	}
	hashmap_clear(&index);
	free(color);
	free(stack);
	free(next_edge);
}

size_t graph_check(const struct supd_config *c, graph_error_fn *error, void *userdata)
{
	struct checker k = { .c = c, .error = error, .userdata = userdata };

	hashmap_init(&k.by_name, true);
	for (size_t i = 0; i < c->n_jobs; i++)
		hashmap_put_str(&k.by_name, c->jobs[i]->name, c->jobs[i]);
	for (size_t i = 0; i < c->n_jobs; i++)
		check_requirements(&k, c->jobs[i]);
	check_cycles(&k);
	hashmap_clear(&k.by_name);
	return k.n_errors;
}
