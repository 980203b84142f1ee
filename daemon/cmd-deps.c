/* SPDX-License-Identifier: ISC */
/* deps: who requires whom (SPEC §7), as a tree of DEP nodes
 * {name, state, cond, requires: [...]} read from each job's requires = as
 * it would resolve now (template instances are not created for it). */
#include "commands.h"
#include "graph.h"
#include "proto.h"

/* Deeper trees are cut: supctl and jansson read them recursively. */
#define DEPS_DEPTH_MAX 64

struct deps_walk {
	struct supervisor *sup;
	size_t nodes;
	bool truncated;
};

static json_t *node(struct deps_walk *w, const char *name, const struct job *j, const char *cond, size_t depth);

/* The requirements of j, each resolved to its jobs (a pool to every
 * instance); a name that resolves to nothing is a node without a state. */
static json_t *children(struct deps_walk *w, const struct job *j, size_t depth) {
	json_t *a = json_array();
	const struct job_config *jc = j->config;

	for (size_t i = 0; i < jc->n_requires; i++) {
		_cleanup_free_ char *name = graph_expand(&jc->requires[i], j->instance, j->name);
		const char *cond = req_cond_to_string(jc->requires[i].cond);
		struct job **v = NULL;
		size_t n = 0;

		if (supervisor_match(w->sup, name, false, &v, &n) <= 0)
			json_array_append_new(a, node(w, name, NULL, cond, depth + 1));
		for (size_t k = 0; k < n; k++)
			json_array_append_new(a, node(w, v[k]->name, v[k], cond, depth + 1));
		free(v);
	}
	return a;
}

static json_t *node(struct deps_walk *w, const char *name, const struct job *j, const char *cond, size_t depth) {
	json_t *o = json_object();

	w->nodes++;
	json_object_set_new(o, PROTO_DEP_NAME, proto_string(name));
	json_object_set_new(o, PROTO_DEP_STATE, j ? json_string(job_state_to_string(j->state)) : json_null());
	if (cond)
		json_object_set_new(o, PROTO_DEP_COND, json_string(cond));
	if (j && j->config->n_requires) {
		if (depth >= DEPS_DEPTH_MAX || w->nodes >= PROTO_DEPS_MAX)
			w->truncated = true;
		else
			json_object_set_new(o, PROTO_DEP_REQUIRES, children(w, j, depth));
	}
	return o;
}

/* The jobs some job's requirement names (the tops of "deps" alone are the
 * jobs nothing requires), as a set of pointers. */
static void mark_required(struct supervisor *s, struct hashmap *required) {
	for (size_t i = 0; i < s->n_jobs; i++) {
		const struct job *j = s->jobs[i];

		for (size_t r = 0; r < j->config->n_requires; r++) {
			_cleanup_free_ char *name = graph_expand(&j->config->requires[r], j->instance, j->name);
			struct job **v = NULL;
			size_t n = 0;

			(void) supervisor_match(s, name, false, &v, &n);
			for (size_t k = 0; k < n; k++)
				hashmap_put_int(required, (uint64_t) (uintptr_t) v[k], v[k]);
			free(v);
		}
	}
}

void cmd_deps(struct commands *cmds, struct client *c, json_t *req) {
	struct supervisor *s = cmds->sup;
	struct deps_walk w = { .sup = s };
	json_t *pats = json_object_get(req, PROTO_REQ_JOBS);
	json_t *tops = json_array(), *rep;
	struct job **v = NULL;
	size_t n = 0;

	if (pats && json_array_size(pats) > 0) {
		if (cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0) {
			json_decref(tops);
			return;
		}
		for (size_t i = 0; i < n && w.nodes < PROTO_DEPS_MAX; i++)
			json_array_append_new(tops, node(&w, v[i]->name, v[i], NULL, 0));
		free(v);
	} else {
		struct hashmap required;

		hashmap_init(&required, false);
		mark_required(s, &required);
		for (size_t i = 0; i < s->n_jobs && w.nodes < PROTO_DEPS_MAX; i++)
			if (!hashmap_get_int(&required, (uint64_t) (uintptr_t) s->jobs[i]))
				json_array_append_new(tops, node(&w, s->jobs[i]->name, s->jobs[i], NULL, 0));
		hashmap_clear(&required);
	}
	rep = json_pack("{s:b, s:o, s:b}", PROTO_REP_OK, 1, PROTO_REP_DEPS, tops, PROTO_DEP_TRUNCATED,
			w.truncated || w.nodes >= PROTO_DEPS_MAX);
	client_reply(c, rep);
}
