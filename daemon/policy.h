/* SPDX-License-Identifier: ISC */
/* What happens after a run: one pure function of the job's facts (who
 * asked for what, how the run ended, the restart settings and the recent
 * start history), so that it is tested on its own (tests/test-policy.c). */
#pragma once

#include "config.h"
#include "util.h"

enum policy_action {
	POLICY_STOPPED,      /* a stop ended the run: state stopped */
	POLICY_RESTART_NOW,  /* stopped to start again (restart, reload): start now */
	POLICY_BACKOFF,      /* restart policy: backoff for delay, then start */
	POLICY_FATAL,        /* start_limit hit: state fatal */
	POLICY_EXITED,       /* no restart due, the run succeeded */
	POLICY_FAILED,       /* no restart due, the run failed */
};

struct policy_input {
	bool stop_requested;       /* a user's stop, restart or reload ended the run */
	bool shutting_down;        /* supd is stopping everything */
	bool removed;              /* reload dropped the job */
	bool want_up;              /* what the user wants now */
	bool success;              /* the run counts as success */
	usec_t run_duration;       /* monotonic duration of the run */
	usec_t prev_delay;         /* backoff used before the run (0 = none yet) */
	unsigned starts_in_window; /* starts within start_limit_interval, incl. the run's */
};

struct policy_result {
	enum policy_action action;
	usec_t delay;              /* POLICY_BACKOFF: wait this long */
};

struct policy_result policy_decide(const struct job_config *jc, const struct policy_input *in);
/* True if exit code is listed in success_exit. */
bool policy_exit_is_success(const struct job_config *jc, int exit_code);
