/* SPDX-License-Identifier: ISC */
/* A run's scope: every process that belongs to one run of a job. It owns
 * "signal everything of this run" and "is anything of this run left". The
 * first kind is the run's process group (its first stage leads it); a
 * cgroup per run (SPEC §8) is the next, behind the same two calls. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct scope {
	pid_t pgid;          /* 0: nothing of the run is known to be left */
};

/* Send sig to every process of the scope; with and_continue a stopped
 * process is continued so that it sees the signal (a stop request; not
 * for a user's own signal, which may be SIGSTOP). Returns 0, or -errno
 * (-ESRCH: nothing left). */
int scope_signal(const struct scope *s, int sig, bool and_continue);
/* True while any process of the scope is left (zombies of another parent
 * included, as the kernel counts them). */
bool scope_alive(const struct scope *s);
