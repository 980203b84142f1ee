/* SPDX-License-Identifier: ISC */
/* Health checks of a job's runs (see jobhealth.h). */
#include "health.h"
#include "jobhealth.h"
#include "log.h"

static enum job_health job_health_of(enum health_state s) {
	switch (s) {
	case HEALTH_HEALTHY: return JOB_HEALTH_HEALTHY;
	case HEALTH_UNHEALTHY: return JOB_HEALTH_UNHEALTHY;
	default: return JOB_HEALTH_UNKNOWN;
	}
}

static void on_changed(void *userdata, enum health_state state) {
	job_set_health(userdata, job_health_of(state));
}

static void on_exhausted(void *userdata) {
	struct job *j = userdata;

	if (j->state == JOB_RUNNING)
		job_fail_run(j, "unhealthy");
}

static const struct health_ops health_ops = { .changed = on_changed, .exhausted = on_exhausted };

void jobhealth_begin(const struct jobwatch_env *env, struct job *j) {
	const struct job_config *jc = j->config;
	struct jobcheck_job cj = {
		.jc = jc, .name = j->name, .instance = j->instance, .run = j->run.id,
		.output_fd = j->check_output_fd, .cgroup = jobready_checks_cgroup(j),
	};
	struct health_params p = {
		.command = jc->health_command,
		.interval = jc->health_interval,
		.timeout = jc->health_timeout,
		.retries = jc->health_retries,
		.report_only = jc->health_action == HEALTH_REPORT,
	};
	_cleanup_free_ char *error = NULL;

	if (!jc->health_command || j->checks)
		return;
	int k = health_new(env->event, env->reaper, &cj, &p, &health_ops, j, &j->checks, &error);
	if (k < 0)   /* the config was checked: out of memory, no fds */
		log_job(LOG_ERR, j->name, j->run.id, -1, -1, "cannot run health checks: %s",
			error ? error : strerror(-k));
}

void jobhealth_up(struct job *j) {
	if (j->checks)
		health_resume(j->checks);
}

void jobhealth_state(struct job *j) {
	if (j->checks && j->state == JOB_STOPPING)
		health_pause(j->checks);
}

void jobhealth_end(struct job *j) {
	health_free(TAKE_PTR(j->checks));
}
