/* SPDX-License-Identifier: ISC */
/* The value types of the keys of SPEC §7: requires, ready, the health
 * counts and health_action. What needs the whole section (watchdog needs
 * ready = notify, log: needs captured output) is checked in
 * config-check.c, what needs the whole configuration in graph.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <regex.h>

#include "config-types.h"
#include "graph.h"
#include "logmatch.h"
#include "names.h"
#include "parse.h"
#include "subst.h"

#define COUNT_MAX 1000000L

/* ---- requires = NAME[:COND] ... ---- */

/* One word: NAME, or NAME:COND where COND is the text after the last ':'
 * (an instance argument may hold ':' itself: "t@a:b:up"). */
static bool parse_requirement(struct key_host *h, const struct key_desc *k, const char *word,
			      struct requirement *ret)
{
	const char *colon = strrchr(word, ':');
	_cleanup_free_ char *name = colon ? xstrndup(word, (size_t) (colon - word)) : xstrdup(word);
	int cond = REQ_UP;
	const char *why;

	if (colon && (cond = req_cond_from_string(colon + 1)) < 0) {
		config_type_error(h, "invalid condition in %s: %s (expected up, started, exited or healthy)",
				  k->name, word);
		return false;
	}
	if ((why = graph_name_invalid(name))) {
		config_type_error(h, "invalid job name in %s: %s (%s)", k->name, name, why);
		return false;
	}
	*ret = (struct requirement) { .name = TAKE_PTR(name), .cond = (enum req_cond) cond };
	return true;
}

static void parse_requires(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			   _unused_ bool cont)
{
	struct job_config *jc = base;
	const char *file;
	unsigned line;
	const char *p = value;

	h->location(h, &file, &line);
	while (*(p += strspn(p, " \t"))) {
		size_t n = strcspn(p, " \t");
		_cleanup_free_ char *word = xstrndup(p, n);
		struct requirement r;

		p += n;
		if (!parse_requirement(h, k, word, &r))
			continue;
		if (jc->n_requires >= CONFIG_REQUIRES_MAX) {
			config_type_error(h, "too many %s entries (max %d)", k->name, CONFIG_REQUIRES_MAX);
			free(r.name);
			return;
		}
		r.file = xstrdup(file);
		r.line = line;
		jc->requires = xreallocarray(jc->requires, jc->n_requires + 1, sizeof(*jc->requires));
		jc->requires[jc->n_requires++] = r;
	}
}

static bool equal_requires(_unused_ const struct key_desc *k, const void *a, const void *b)
{
	const struct job_config *x = a, *y = b;

	if (x->n_requires != y->n_requires)
		return false;
	for (size_t i = 0; i < x->n_requires; i++)
		if (x->requires[i].cond != y->requires[i].cond || strcmp(x->requires[i].name, y->requires[i].name))
			return false;
	return true;
}

/* One line, every requirement with its condition spelt out. */
static void dump_requires(const struct key_desc *k, const void *base, FILE *out)
{
	const struct job_config *jc = base;

	if (jc->n_requires == 0)
		return;
	fprintf(out, "%s =", k->name);
	for (size_t i = 0; i < jc->n_requires; i++)
		fprintf(out, " %s:%s", jc->requires[i].name, req_cond_to_string(jc->requires[i].cond));
	fputc('\n', out);
}

const struct key_type config_type_requires = { parse_requires, equal_requires, dump_requires };

/* ---- ready = spawn | notify | fd:N | log:ERE | command:CMD ---- */

static void parse_ready(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			_unused_ bool cont)
{
	struct ready_spec *rs = FIELD(struct ready_spec, k, base);
	struct ready_spec n = { 0 };

	if (strcmp(value, "spawn") == 0)
		n.kind = READY_SPAWN;
	else if (strcmp(value, "notify") == 0)
		n.kind = READY_NOTIFY;
	else if (strncmp(value, "fd:", 3) == 0) {
		long fd;

		if (parse_int(value + 3, 3, CONFIG_SECRET_FD_MAX, &fd) < 0) {
			config_type_error(h, "invalid fd for %s: %s (expected fd:N, N in 3..%d)", k->name, value,
					  CONFIG_SECRET_FD_MAX);
			return;
		}
		n.kind = READY_FD;
		n.fd = (int) fd;
	} else if (strncmp(value, "log:", 4) == 0) {
		/* the check a run's matcher makes (logmatch.h): --check and a run agree */
		_cleanup_free_ char *why = NULL;
		regex_t *re = xcalloc(1, sizeof(*re));

		if (logmatch_compile(value + 4, re, &why) < 0) {
			free(re);
			config_type_error(h, "%s = %s: %s", k->name, value, why ? why : "refused");
			return;
		}
		n.kind = READY_LOG;
		n.arg = xstrdup(value + 4);
		n.re = re;   /* compiled once per config: every run matches with it */
	} else if (strncmp(value, "command:", 8) == 0) {
		/* split once the section ends: shell may follow */
		if (!value[8 + strspn(value + 8, " \t")]) {
			config_type_error(h, "missing command for %s: %s", k->name, value);
			return;
		}
		n.kind = READY_COMMAND;
		n.arg = xstrdup(value + 8);
	} else {
		config_type_error(h, "invalid value for %s: %s (expected spawn, notify, fd:N, log:ERE or command:CMD)",
				  k->name, value);
		return;
	}
	free(rs->arg);
	pipeline_free(&rs->pipeline);
	if (rs->re) {
		regfree(rs->re);
		free(rs->re);
	}
	*rs = n;
}

static bool equal_ready(const struct key_desc *k, const void *a, const void *b)
{
	const struct ready_spec *x = CFIELD(struct ready_spec, k, a), *y = CFIELD(struct ready_spec, k, b);

	return x->kind == y->kind && x->fd == y->fd && streq_ptr(x->arg, y->arg);
}

static void dump_ready(const struct key_desc *k, const void *base, FILE *out)
{
	const struct ready_spec *rs = CFIELD(struct ready_spec, k, base);

	fprintf(out, "%s = %s", k->name, ready_kind_to_string(rs->kind));
	if (rs->kind == READY_FD)
		fprintf(out, ":%d", rs->fd);
	else if (rs->arg)
		fprintf(out, ":%s", rs->arg);
	fputc('\n', out);
}

const struct key_type config_type_ready = { parse_ready, equal_ready, dump_ready };

/* ---- health_retries, health_action ---- */

static void parse_count(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			_unused_ bool cont)
{
	long v;

	if (parse_int(value, 1, COUNT_MAX, &v) < 0) {
		config_type_error(h, "invalid value for %s: %s (expected 1..%ld)", k->name, value, COUNT_MAX);
		return;
	}
	*FIELD(unsigned, k, base) = (unsigned) v;
}

static bool equal_count(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(unsigned, k, a) == *CFIELD(unsigned, k, b);
}

static void dump_count(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %u\n", k->name, *CFIELD(unsigned, k, base));
}

const struct key_type config_type_count = { parse_count, equal_count, dump_count };

static void parse_health_action(struct key_host *h, const struct key_desc *k, void *base, const char *value,
				_unused_ bool cont)
{
	int a = health_action_from_string(value);

	if (a < 0) {
		config_type_error(h, "invalid value for %s: %s (expected restart or report)", k->name, value);
		return;
	}
	*FIELD(enum health_action, k, base) = (enum health_action) a;
}

static bool equal_health_action(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(enum health_action, k, a) == *CFIELD(enum health_action, k, b);
}

static void dump_health_action(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %s\n", k->name, health_action_to_string(*CFIELD(enum health_action, k, base)));
}

const struct key_type config_type_health_action = { parse_health_action, equal_health_action,
						     dump_health_action };
