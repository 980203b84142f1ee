/* SPDX-License-Identifier: ISC */
/* Run scopes: process groups, and cgroups (see scope.h). */
#include <errno.h>
#include <signal.h>
#include "scope.h"

int scope_open(struct scope *s, struct cgroups *m, const char *name, uint64_t run, const struct job_config *jc,
	       const struct cgroup_run_events *ev, void *userdata, char **error) {
	*s = (struct scope) { 0 };
	return cgroup_run_new(m, name, run, jc, ev, userdata, &s->cgroup, error);
}

void scope_close(struct scope *s, struct cgroup_usage *u) {
	*u = (struct cgroup_usage) { .memory_peak_kb = -1, .oom_killed = -1 };
	if (s->cgroup) {
		cgroup_run_usage(s->cgroup, u);
		cgroup_run_end(s->cgroup);
	}
	*s = (struct scope) { 0 };
}

int scope_signal(const struct scope *s, int sig, bool and_continue) {
	bool sent = false;

	if (s->cgroup && sig == SIGKILL) {   /* every process at once, the group's too */
		int r = cgroup_run_signal(s->cgroup, sig, 0, false);
		return r < 0 ? r : 0;
	}
	if (s->pgid > 0 && kill(-s->pgid, sig) == 0) {
		sent = true;
		if (and_continue && sig != SIGKILL && sig != SIGCONT)
			(void) kill(-s->pgid, SIGCONT);   /* a stopped process must see the signal */
	}
	if (s->cgroup) {
		/* the rest of the cgroup: processes that left the group */
		int r = cgroup_run_signal(s->cgroup, sig, s->pgid, and_continue);
		if (r > 0)
			sent = true;
		else if (r < 0 && !sent)
			return r;
	}
	return sent ? 0 : -ESRCH;
}

bool scope_alive(const struct scope *s) {
	if (s->cgroup)
		return cgroup_run_populated(s->cgroup);
	return s->pgid > 0 && kill(-s->pgid, 0) == 0;
}

const char *scope_cgroup_path(const struct scope *s) {
	return s->cgroup ? cgroup_run_path(s->cgroup) : NULL;
}
