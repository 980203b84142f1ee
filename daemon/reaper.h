/* SPDX-License-Identifier: ISC */
/* Where the supervisor's reaper sends the exit of a child process that is
 * no stage of a run: health checks and `ready = command:` tries
 * (jobcheck.h). The supervisor's wait loop looks a reaped pid up in its own
 * pid -> job map first (the stages, the hot path, unchanged), then here;
 * only a pid found in neither is an orphan. So a check's exit is never
 * taken for a stage's or an orphan's, and the supervisor knows nothing of
 * checks: an owner registers its pids with a struct child_watch.
 *
 * A watch stays registered until its last pid is reaped (an owner that
 * gave up on its processes keeps the watch until then, so that their exits
 * still reach it), or until the reaper goes away first (reaper_done). */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "hashmap.h"

struct child_watch {
	/* pid was reaped; w may free itself here (it is no longer listed
	 * when this was its last pid) */
	void (*exited)(struct child_watch *w, pid_t pid, int wait_status, const struct rusage *ru);
	/* the reaper goes away with pids of w unreaped: w frees itself */
	void (*abandoned)(struct child_watch *w);
	/* the reaper's own */
	unsigned n_pids;
	struct child_watch *prev, *next;
};

struct reaper {
	struct hashmap by_pid;        /* pid -> child_watch */
	struct child_watch *watches;  /* those holding a pid */
};

void reaper_init(struct reaper *r);
/* Each watch still holding pids is abandoned (told once, then forgotten). */
void reaper_done(struct reaper *r);
/* pid's exit goes to w; w must outlive its pids (see above). */
void reaper_watch(struct reaper *r, pid_t pid, struct child_watch *w);
/* For the wait loop, with a reaped pid: false if nobody watches it; else
 * its watch heard of it. */
bool reaper_dispatch(struct reaper *r, pid_t pid, int wait_status, const struct rusage *ru);
