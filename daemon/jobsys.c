/* SPDX-License-Identifier: ISC */
/* What the state machine asks of the real system (job.h, struct job_sys):
 * tests/test-job.c has a fake one. */
#include "job.h"

static usec_t real_now(clockid_t clock) {
	return now_usec(clock);
}

/* The stages of a run with a cgroup are placed in it before they exec. */
static int real_spawn(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		      const struct spawn_fd *fds, size_t n_fds, const struct spawn_env *env, const struct scope *s,
		      struct spawn_result *res) {
	struct spawn_cgroup cg;

	if (s->cgroup)
		cg = (struct spawn_cgroup) { .fd = cgroup_run_fd(s->cgroup), .path = cgroup_run_path(s->cgroup) };
	return spawn_run_env(jc, name, instance, capture_fd, fds, n_fds, s->cgroup ? &cg : NULL, env, res);
}

const struct job_sys job_sys_real = {
	.spawn = real_spawn,
	.signal = scope_signal,
	.alive = scope_alive,
	.scope_open = scope_open,
	.scope_close = scope_close,
	.now = real_now,
};
