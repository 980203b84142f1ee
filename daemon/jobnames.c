/* SPDX-License-Identifier: ISC */
/* The names of a job's states, inputs and health (job.h), and what they
 * say of a job: final, active, batch. */
#include "job.h"

static const char *const state_names[_JOB_STATE_MAX] = {
	[JOB_STOPPED] = "stopped",
	[JOB_QUEUED] = "queued",
	[JOB_WAITING] = "waiting",
	[JOB_STARTING] = "starting",
	[JOB_RUNNING] = "running",
	[JOB_STOPPING] = "stopping",
	[JOB_BACKOFF] = "backoff",
	[JOB_EXITED] = "exited",
	[JOB_FAILED] = "failed",
	[JOB_FATAL] = "fatal",
};

static const char *const input_names[_JOB_IN_MAX] = {
	[JOB_IN_START] = "start",
	[JOB_IN_STOP] = "stop",
	[JOB_IN_RESTART] = "restart",
	[JOB_IN_SLOT] = "slot",
	[JOB_IN_EXITED] = "exited",
	[JOB_IN_TIMER] = "timer",
	[JOB_IN_RELOAD] = "reload",
	[JOB_IN_RETIRE] = "retire",
	[JOB_IN_SHUTDOWN] = "shutdown",
	[JOB_IN_READY] = "ready",
	[JOB_IN_REQUIREMENT] = "requirement",
	[JOB_IN_FAIL] = "fail",
};

static const char *const health_names[] = {
	[JOB_HEALTH_NONE] = NULL,
	[JOB_HEALTH_UNKNOWN] = "unknown",
	[JOB_HEALTH_HEALTHY] = "healthy",
	[JOB_HEALTH_UNHEALTHY] = "unhealthy",
};

const char *job_health_to_string(enum job_health h) {
	return (unsigned) h < ELEMENTSOF(health_names) ? health_names[h] : NULL;
}

const char *job_state_to_string(enum job_state s) {
	return s < _JOB_STATE_MAX ? state_names[s] : "unknown";
}

const char *job_input_to_string(enum job_input in) {
	return in < _JOB_IN_MAX ? input_names[in] : "unknown";
}

bool job_state_is_final(enum job_state s) {
	return s == JOB_STOPPED || s == JOB_EXITED || s == JOB_FAILED || s == JOB_FATAL;
}

bool job_is_active(const struct job *j) {
	return j->run.active;
}

bool job_is_batch(const struct job *j) {
	return j->config->restart == RESTART_NO;
}
