/* SPDX-License-Identifier: ISC */
/* Runs and their stages (see run.h). */
#include <inttypes.h>
#include <sys/wait.h>
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "run.h"

void run_clear(struct run *r) {
	for (size_t i = 0; i < r->n_stages; i++)
		free(r->stages[i].argv0);
	free(r->stages);
	free(r->error);
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	r->exit_status = -1;
	r->memory_peak_kb = -1;
	r->oom_killed = -1;
}

bool run_stage_ended(struct run *r, size_t idx, int status, const struct rusage *ru) {
	struct stage *st = &r->stages[idx];

	if (st->done)
		return false;
	st->done = true;
	if (WIFEXITED(status))
		st->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		st->signal = WTERMSIG(status);
	if (ru) {
		r->cpu_user += (usec_t) ru->ru_utime.tv_sec * USEC_PER_SEC + (usec_t) ru->ru_utime.tv_usec;
		r->cpu_sys += (usec_t) ru->ru_stime.tv_sec * USEC_PER_SEC + (usec_t) ru->ru_stime.tv_usec;
		if (ru->ru_maxrss > r->max_rss_kb)
			r->max_rss_kb = ru->ru_maxrss;
	}
	r->n_alive--;
	return true;
}

void run_conclude(struct run *r, const struct job_config *jc, usec_t ended_wall, usec_t ended_mono) {
	const struct stage *decisive = NULL;

	r->success = !r->timed_out && !r->failed_by_supd && !r->error;
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct stage *st = &r->stages[i];
		if (st->signal != 0 || !policy_exit_is_success(jc, st->exit_code)) {
			r->success = false;
			decisive = st;
		}
	}
	if (!decisive && r->n_stages > 0)
		decisive = &r->stages[r->n_stages - 1];
	if (decisive) {
		r->exit_code = decisive->exit_code;
		r->signal = decisive->signal;
	}
	if (r->timed_out)
		r->exit_status = 124;
	else if (r->signal)
		r->exit_status = 128 + r->signal;
	else
		r->exit_status = r->exit_code;
	r->ended_wall = ended_wall;
	r->ended_mono = ended_mono;
	r->active = false;
}

/* The log line of a run's end. */
void run_log_end(const struct run *run, const char *name) {
	_cleanup_free_ char *dur = format_duration(run->ended_mono - run->started_mono);
	int prio = run->success ? LOG_INFO : LOG_WARNING;

	if (run->timed_out)
		log_job(prio, name, run->id, run->exit_code, run->signal, "run %" PRIu64 " timed out after %s",
			run->id, dur);
	else if (run->signal)
		log_job(prio, name, run->id, -1, run->signal, "run %" PRIu64 " killed by %s after %s",
			run->id, signal_name(run->signal) ? signal_name(run->signal) : "?", dur);
	else
		log_job(prio, name, run->id, run->exit_code, -1, "run %" PRIu64 " exited %d after %s",
			run->id, run->exit_code, dur);
}
