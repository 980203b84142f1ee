/* The restart decision, kept pure so it can be tested on its own: given
 * what the user wants, the job's restart settings, how the last run ended
 * and the recent start history, decide what happens next. */
#pragma once

#include "config.h"
#include "util.h"

enum policy_action {
	POLICY_FINISH,   /* no restart due: state exited or failed */
	POLICY_RESTART,  /* backoff for *delay, then start again */
	POLICY_FATAL,    /* start_limit hit: state fatal */
};

struct policy_input {
	bool want_up;              /* false once the user asked for stop */
	bool success;              /* last run counts as success */
	usec_t run_duration;       /* monotonic duration of the last run */
	usec_t prev_delay;         /* backoff used before the last run (0 = none yet) */
	unsigned starts_in_window; /* starts within start_limit_interval, incl. the last */
};

struct policy_result {
	enum policy_action action;
	usec_t delay;              /* POLICY_RESTART: wait this long */
};

struct policy_result policy_decide(const struct job_config *jc, const struct policy_input *in);
/* True if exit code is listed in success_exit. */
bool policy_exit_is_success(const struct job_config *jc, int exit_code);
