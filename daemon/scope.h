/* SPDX-License-Identifier: ISC */
/* A run's scope: every process that belongs to one run of a job. It owns
 * "signal everything of this run" and "is anything of this run left". Two
 * kinds behind the same calls: the run's process group (its first stage
 * leads it), and with a cgroup (SPEC §8) the group and every process of
 * the run's cgroup, setsid() and double-forked ones included. A cgroup
 * scope also knows when it empties (cgroup.events), so a run waits for
 * that after a kill (scope_waits()), and what its processes used. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "cgroup.h"

struct scope {
	pid_t pgid;          /* 0: nothing of the run is known to be left */
	struct cgroup_run *cgroup;   /* the run's cgroup, or NULL: the process group only */
};

/* Before the spawn: the run's cgroup under m (none when m is NULL).
 * ev tells userdata that its processes may be gone (check scope_alive())
 * or that the OOM killer killed one (oom_policy = stop). Returns 0, or
 * -errno with *error (a spawn failure: a cgroup key that cannot be
 * applied, or needs a cgroup supd does not have). */
int scope_open(struct scope *s, struct cgroups *m, const char *name, uint64_t run, const struct job_config *jc,
	       const struct cgroup_run_events *ev, void *userdata, char **error);
/* The run is over (or its processes are abandoned): what the cgroup
 * counted into u (u->cpu false without one), and the cgroup removed, or
 * kept while processes are left in it. s is empty after. */
void scope_close(struct scope *s, struct cgroup_usage *u);
/* Send sig to every process of the scope; with and_continue a stopped
 * process is continued so that it sees the signal (a stop request; not
 * for a user's own signal, which may be SIGSTOP). Returns 0, or -errno
 * (-ESRCH: nothing left). SIGKILL to a cgroup scope is cgroup.kill. */
int scope_signal(const struct scope *s, int sig, bool and_continue);
/* True while any process of the scope is left (zombies of another parent
 * included, as the kernel counts them). */
bool scope_alive(const struct scope *s);
/* A cgroup scope says when it is empty: after a kill, its run waits for it. */
static inline bool scope_waits(const struct scope *s) {
	return s->cgroup != NULL;
}
/* The run's cgroup directory, or NULL. */
const char *scope_cgroup_path(const struct scope *s);
