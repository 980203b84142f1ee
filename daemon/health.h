/* SPDX-License-Identifier: ISC */
/* The health checks of one run (SPEC §7): health_command run as the job
 * (jobcheck.h), the first as soon as the job is up, then health_interval
 * after the previous one ended, so two never overlap; one killed at
 * health_timeout failed, as does one that cannot be started.
 *
 * `health` is unknown from the start of the run until its first check
 * ends, healthy after a check that passed and unhealthy from the first one
 * that failed; changed() hears of each change. health_retries failures in
 * a row exhaust the retries: exhausted() is called once per such streak
 * (the owner stops the run, "unhealthy"); a pass ends the streak. With
 * health_action = report, exhausted() is never called: only the state is
 * reported.
 *
 * One object per run, created paused: the owner resumes it when the job is
 * up and pauses it while it is not (starting, stopping), which kills a
 * check in flight without a result; a resume checks at once. Freeing it
 * (the run ended) kills a check in flight. The callbacks run from the
 * event loop, never from inside a call of the owner's, and may pause or
 * free the object. Timers are on CLOCK_MONOTONIC with an accuracy of 1us,
 * as the job's.
 *
 * Until config-keys.c has the health_* keys, their values come in a
 * struct health_params. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>
#include "jobcheck.h"

enum health_state { HEALTH_UNKNOWN, HEALTH_HEALTHY, HEALTH_UNHEALTHY, _HEALTH_STATE_MAX };

struct health_params {
	const char *command;     /* health_command */
	usec_t interval;         /* health_interval: from the end of a check to the next; > 0 */
	usec_t timeout;          /* health_timeout: a check killed after it failed; 0: none */
	unsigned retries;        /* health_retries: failures in a row; >= 1 */
	bool report_only;        /* health_action = report */
};

struct health_ops {
	void (*changed)(void *userdata, enum health_state state);
	void (*exhausted)(void *userdata);
};

struct health;

/* Checks of job->jc's run, on e, their pids with r. What job points to is
 * copied (the config referenced, output_fd duplicated until health_free),
 * p too. Returns 0 with *ret paused, or -EINVAL with *error (a new string:
 * "health_command: unterminated quote", "health_interval must be above
 * 0"), or another -errno. */
int health_new(sd_event *e, struct reaper *r, const struct jobcheck_job *job, const struct health_params *p,
	       const struct health_ops *ops, void *userdata, struct health **ret, char **error);
/* Kills a check in flight; h may be NULL. */
void health_free(struct health *h);
void health_pause(struct health *h);
void health_resume(struct health *h);

enum health_state health_state(const struct health *h);
/* Failures in a row now (0 after a pass). */
unsigned health_failures(const struct health *h);
/* Checks that ended (or could not start) so far. */
unsigned health_checks(const struct health *h);
/* "unknown", "healthy", "unhealthy" (the job field of SPEC §7). */
const char *health_state_to_string(enum health_state s);
