/* SPDX-License-Identifier: ISC */
/* The decision after a run (see policy.h).
 *
 *   ended by   want   restart      run       ->  action
 *   stop*      up     any          any           restart now
 *   stop*      down   any          any           stopped
 *   itself     down   any          any           exited | failed
 *   itself     up     no           any           exited | failed
 *   itself     up     on-failure   success       exited
 *   itself     up     on-failure   failure       backoff (fatal past start_limit)
 *   itself     up     always       any           backoff (fatal past start_limit)
 *
 * stop*: a user's stop, restart or reload, a shutdown (never restarts) or
 * a retirement by reload (never restarts). A timeout is no stop: its run
 * ends "itself" and failed.
 *
 * Backoff: the first delay is restart_delay; each quick failure doubles
 * the previous delay up to restart_max_delay; a run that lasted longer than
 * restart_max_delay starts over at restart_delay. */
#include "policy.h"

bool policy_exit_is_success(const struct job_config *jc, int exit_code) {
	for (size_t i = 0; i < jc->n_success_exit; i++)
		if (jc->success_exit[i] == exit_code)
			return true;
	return false;
}

static usec_t next_delay(const struct job_config *jc, const struct policy_input *in) {
	if (in->prev_delay == 0 || in->run_duration > jc->restart_max_delay)
		return jc->restart_delay;
	usec_t d = in->prev_delay > jc->restart_max_delay / 2 ? jc->restart_max_delay : in->prev_delay * 2;
	if (d < jc->restart_delay)
		d = jc->restart_delay;
	return d > jc->restart_max_delay ? jc->restart_max_delay : d;
}

struct policy_result policy_decide(const struct job_config *jc, const struct policy_input *in) {
	struct policy_result r = { .action = in->success ? POLICY_EXITED : POLICY_FAILED, .delay = 0 };
	bool restart;

	if (in->stop_requested || in->shutting_down || in->removed) {
		r.action = in->want_up && !in->shutting_down && !in->removed ? POLICY_RESTART_NOW : POLICY_STOPPED;
		return r;
	}
	switch (jc->restart) {
	case RESTART_ALWAYS:
		restart = true;
		break;
	case RESTART_ON_FAILURE:
		restart = !in->success;
		break;
	default:
		restart = false;
	}
	if (!in->want_up || !restart)
		return r;
	if (jc->start_limit_burst > 0 && in->starts_in_window >= jc->start_limit_burst) {
		r.action = POLICY_FATAL;
		return r;
	}
	r.action = POLICY_BACKOFF;
	r.delay = next_delay(jc, in);
	return r;
}
