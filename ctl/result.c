/* SPDX-License-Identifier: ISC */
/* Job results (see result.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "render.h"
#include "result.h"
#include "util.h"

const char *result_job_name(const json_t *job) {
	const char *s = json_string_value(json_object_get(job, PROTO_JOB_NAME));
	return s ? s : "?";
}

bool result_job_in_state(const json_t *job, const char *state) {
	return streq_ptr(json_string_value(json_object_get(job, PROTO_JOB_STATE)), state);
}

/* A job counts as succeeded if its last run exited successfully or the
 * user stopped it cleanly. */
static bool job_succeeded(const json_t *job) {
	/* a job stopped on purpose has not failed, whatever its stop_signal did */
	return result_job_in_state(job, PROTO_STATE_EXITED) || result_job_in_state(job, PROTO_STATE_STOPPED);
}

/* What a shell would report for the job's last run. */
static int job_shell_status(const json_t *job) {
	json_t *st = json_object_get(job, PROTO_JOB_EXIT_STATUS);

	if (json_is_integer(st)) {
		json_int_t v = json_integer_value(st);
		/* a run supd ended as failed (not ready, unhealthy...) or a job
		 * fatal without a run fails whatever the exit status (SPEC §7) */
		if (v == 0 && !job_succeeded(job))
			return EXIT_JOB_FAILED;
		return v >= 0 && v <= 255 ? (int) v : EXIT_JOB_FAILED;
	}
	return job_succeeded(job) ? 0 : EXIT_JOB_FAILED;
}

static void report_job_failure(const json_t *job) {
	_cleanup_free_ char *why = job_failure_text(job);

	output_warn("%s: %s", result_job_name(job), why);
}

int result_exit_status(const json_t *jobs) {
	json_t *job;
	size_t i;
	int r = 0;

	if (json_array_size(jobs) == 1) {
		job = json_array_get(jobs, 0);
		r = job_shell_status(job);
		if (r != 0 && !job_succeeded(job))
			report_job_failure(job);
		return r;
	}
	json_array_foreach(jobs, i, job)
		if (!job_succeeded(job)) {
			report_job_failure(job);
			r = EXIT_JOB_FAILED;
		}
	return r;
}

int result_up_status(const json_t *jobs) {
	json_t *job;
	size_t i;
	int r = 0;

	json_array_foreach(jobs, i, job)
		if (!result_job_in_state(job, PROTO_STATE_RUNNING)) {
			report_job_failure(job);
			r = EXIT_JOB_FAILED;
		}
	return r;
}
