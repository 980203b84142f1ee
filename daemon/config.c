/* SPDX-License-Identifier: ISC */
/* The configuration model: defaults, reference counting, lookups, the
 * resolution of "auto" and the enum string tables. Reading is in
 * config-read.c, the keys in config-keys.c, the dump in config-dump.c,
 * config_errors_clear() with the errors in config-errors.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sched.h>
#include <signal.h>

#include "config.h"

static const char *const restart_policy_table[_RESTART_MAX] = {
	[RESTART_NO] = "no",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
};

static const char *const output_kind_table[_OUTPUT_MAX] = {
	[OUTPUT_NULL] = "null",
	[OUTPUT_INHERIT] = "inherit",
	[OUTPUT_LOG] = "log",
	[OUTPUT_JOURNAL] = "journal",
	[OUTPUT_FILE] = "file",
	[OUTPUT_APPEND] = "append",
	[OUTPUT_STDOUT] = "stdout",
};

static const char *const oom_policy_table[_OOM_POLICY_MAX] = {
	[OOM_CONTINUE] = "continue",
	[OOM_STOP] = "stop",
	[OOM_KILL] = "kill",
};

static const char *const req_cond_table[_REQ_COND_MAX] = {
	[REQ_UP] = "up",
	[REQ_STARTED] = "started",
	[REQ_EXITED] = "exited",
	[REQ_HEALTHY] = "healthy",
};

static const char *const ready_kind_table[_READY_MAX] = {
	[READY_SPAWN] = "spawn",
	[READY_NOTIFY] = "notify",
	[READY_FD] = "fd",
	[READY_LOG] = "log",
	[READY_COMMAND] = "command",
};

static const char *const health_action_table[_HEALTH_ACTION_MAX] = {
	[HEALTH_RESTART] = "restart",
	[HEALTH_REPORT] = "report",
};

static const struct {
	const char *key;
	int resource;
} limit_table[_LIMIT_MAX] = {
	[LIMIT_NOFILE] = { "limit_nofile", RLIMIT_NOFILE },
	[LIMIT_NPROC] = { "limit_nproc", RLIMIT_NPROC },
	[LIMIT_CORE] = { "limit_core", RLIMIT_CORE },
	[LIMIT_AS] = { "limit_as", RLIMIT_AS },
	[LIMIT_FSIZE] = { "limit_fsize", RLIMIT_FSIZE },
	[LIMIT_MEMLOCK] = { "limit_memlock", RLIMIT_MEMLOCK },
	[LIMIT_STACK] = { "limit_stack", RLIMIT_STACK },
	[LIMIT_CPU] = { "limit_cpu", RLIMIT_CPU },
};

static int string_table_lookup(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int) i;
	return -EINVAL;
}

const char *restart_policy_to_string(enum restart_policy p)
{
	if ((unsigned) p >= _RESTART_MAX)
		return NULL;
	return restart_policy_table[p];
}

int restart_policy_from_string(const char *s)
{
	return string_table_lookup(restart_policy_table, _RESTART_MAX, s);
}

const char *output_kind_to_string(enum output_kind k)
{
	if ((unsigned) k >= _OUTPUT_MAX)
		return NULL;
	return output_kind_table[k];
}

int output_kind_from_string(const char *s)
{
	return string_table_lookup(output_kind_table, _OUTPUT_MAX, s);
}

const char *oom_policy_to_string(enum oom_policy p)
{
	if ((unsigned) p >= _OOM_POLICY_MAX)
		return NULL;
	return oom_policy_table[p];
}

int oom_policy_from_string(const char *s)
{
	return string_table_lookup(oom_policy_table, _OOM_POLICY_MAX, s);
}

/* In the order of the key table. */
const char *job_config_cgroup_key(const struct job_config *jc)
{
	if (jc->memory_max.set)
		return "memory_max";
	if (jc->memory_swap_max.set)
		return "memory_swap_max";
	if (jc->pids_max.set)
		return "pids_max";
	if (jc->cpu_max.set)
		return "cpu_max";
	if (jc->cpu_weight.set)
		return "cpu_weight";
	if (jc->io_weight.set)
		return "io_weight";
	if (jc->oom_policy != OOM_CONTINUE)
		return "oom_policy";
	if (jc->delegate)
		return "delegate";
	return NULL;
}

const char *req_cond_to_string(enum req_cond c)
{
	return (unsigned) c < _REQ_COND_MAX ? req_cond_table[c] : NULL;
}

int req_cond_from_string(const char *s)
{
	return string_table_lookup(req_cond_table, _REQ_COND_MAX, s);
}

const char *ready_kind_to_string(enum ready_kind k)
{
	return (unsigned) k < _READY_MAX ? ready_kind_table[k] : NULL;
}

const char *health_action_to_string(enum health_action a)
{
	return (unsigned) a < _HEALTH_ACTION_MAX ? health_action_table[a] : NULL;
}

int health_action_from_string(const char *s)
{
	return string_table_lookup(health_action_table, _HEALTH_ACTION_MAX, s);
}

const char *job_limit_to_string(enum job_limit l)
{
	return (unsigned) l < _LIMIT_MAX ? limit_table[l].key : NULL;
}

int job_limit_resource(enum job_limit l)
{
	return (unsigned) l < _LIMIT_MAX ? limit_table[l].resource : -EINVAL;
}

struct job_config *job_config_new(void)
{
	struct job_config *jc = xcalloc(1, sizeof(*jc));

	jc->refs = 1;
	jc->instances = 1;
	jc->stdout_spec.kind = OUTPUT_LOG;
	jc->stderr_spec.kind = OUTPUT_LOG;
	jc->autostart = true;
	jc->restart = RESTART_NO;
	jc->restart_delay = 100 * USEC_PER_MSEC;
	jc->restart_max_delay = 30 * USEC_PER_SEC;
	jc->start_limit_burst = 5;
	jc->start_limit_interval = 10 * USEC_PER_SEC;
	jc->timeout = 0;
	jc->stop_signal = SIGTERM;
	jc->stop_timeout = 10 * USEC_PER_SEC;
	jc->success_exit = xcalloc(1, sizeof(int));
	jc->n_success_exit = 1;
	jc->nice = 0;
	jc->log_lines = 1000;
	jc->umask = -1;
	jc->ready.kind = READY_SPAWN;
	jc->ready_timeout = 30 * USEC_PER_SEC;
	jc->ready_interval = USEC_PER_SEC;
	jc->health_interval = 10 * USEC_PER_SEC;
	jc->health_timeout = 5 * USEC_PER_SEC;
	jc->health_retries = 3;
	jc->health_action = HEALTH_RESTART;
	return jc;
}

static void job_config_free(struct job_config *jc)
{
	free(jc->name);
	free(jc->file);
	free(jc->command);
	pipeline_free(&jc->pipeline);
	free(jc->directory);
	strv_free(jc->environment);
	free(jc->environment_file);
	free(jc->user);
	free(jc->group);
	free(jc->stdin_path);
	free(jc->stdout_spec.path);
	free(jc->stderr_spec.path);
	free(jc->success_exit);
	for (size_t i = 0; i < jc->n_secrets; i++)
		free(jc->secrets[i].path);
	free(jc->secrets);
	for (size_t i = 0; i < jc->n_requires; i++) {
		free(jc->requires[i].name);
		free(jc->requires[i].file);
	}
	free(jc->requires);
	free(jc->ready.arg);
	if (jc->ready.re) {
		regfree(jc->ready.re);
		free(jc->ready.re);
	}
	pipeline_free(&jc->ready.pipeline);
	free(jc->health_command);
	pipeline_free(&jc->health_pipeline);
	free(jc);
}

struct job_config *job_config_ref(struct job_config *jc)
{
	if (jc)
		jc->refs++;
	return jc;
}

void job_config_unref(struct job_config *jc)
{
	if (!jc)
		return;
	if (jc->refs == 0)
		abort();   /* over-release: a broken invariant */
	if (--jc->refs == 0)
		job_config_free(jc);
}

struct job_config *config_find_job(const struct supd_config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	return hashmap_get_str(&c->by_name, name);
}

/* CPUs this process may run on (as nproc(1)). */
static long cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

long config_instances(const struct job_config *jc)
{
	return jc->instances < 0 ? cpu_count() : jc->instances;
}

long config_max_parallel(const struct supd_config *c)
{
	return c->max_parallel < 0 ? cpu_count() : c->max_parallel;
}

struct supd_config *config_new(const char *file)
{
	struct supd_config *c = xcalloc(1, sizeof(*c));

	c->file = xstrdup(file);
	c->socket_mode = 0660;
	c->max_parallel = -1;
	hashmap_init(&c->by_name, true);
	return c;
}

void config_add_job(struct supd_config *c, struct job_config *jc)
{
	if (c->n_jobs == c->cap_jobs) {
		c->cap_jobs = c->cap_jobs ? c->cap_jobs * 2 : 16;
		c->jobs = xreallocarray(c->jobs, c->cap_jobs, sizeof(*c->jobs));
	}
	c->jobs[c->n_jobs++] = jc;
	hashmap_put_str(&c->by_name, jc->name, jc);   /* the key lives as long as jc */
}

void config_free(struct supd_config *c)
{
	if (!c)
		return;
	hashmap_clear(&c->by_name);
	for (size_t i = 0; i < c->n_jobs; i++)
		job_config_unref(c->jobs[i]);
	free(c->jobs);
	free(c->file);
	free(c->socket);
	free(c->control_group);
	free(c->state_dir);
	free(c->cgroup_path);
	free(c);
}
