/* SPDX-License-Identifier: ISC */
/* One run of a job: a spawn of its command (all its pipeline stages), the
 * status of each stage, and the exit fields of SPEC §4 folded from them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "config.h"
#include "util.h"

struct stage {
	char *argv0;
	pid_t pid;           /* 0 once reaped */
	int exit_code;       /* -1 if killed or not yet exited */
	int signal;          /* 0 if not killed */
	bool done;
};

struct run {
	uint64_t id;                 /* 0 = never run */
	usec_t started_wall, ended_wall;   /* CLOCK_REALTIME */
	usec_t started_mono, ended_mono;   /* CLOCK_MONOTONIC */
	bool active;                 /* stages still running */
	int exit_code;               /* -1 if none (signal or spawn failure) */
	int signal;                  /* 0 if none */
	int exit_status;             /* as a shell would report it, -1 if none */
	bool timed_out;
	bool failed_by_supd;         /* supd ended it as failed (error says why) */
	bool success;
	usec_t cpu_user, cpu_sys;    /* summed over the stages */
	long max_rss_kb;             /* the largest stage */
	long memory_peak_kb;         /* the run's cgroup's memory.peak; -1: not measured */
	int oom_killed;              /* the OOM killer killed a process of it: 1, 0; -1: not measured */
	struct stage *stages;
	size_t n_stages, n_alive;
	char *error;                 /* why it failed to start, or was ended */
};

/* Free what r holds; r is then "no run" (exit fields -1, nothing measured). */
void run_clear(struct run *r);
/* Record the end of stage idx (wait status, its resource usage or NULL).
 * Returns false if it had ended before. */
bool run_stage_ended(struct run *r, size_t idx, int wait_status, const struct rusage *ru);
/* Every stage is gone: fold the stage statuses into the exit fields. Like
 * pipefail, the rightmost failing stage decides; the run succeeds only if
 * every stage did (success_exit of jc), it did not time out and supd did
 * not end it as failed (SPEC §7: whatever its exit status). */
void run_conclude(struct run *r, const struct job_config *jc, usec_t ended_wall, usec_t ended_mono);
/* Log how the run ended (timed out, killed, exited) as job name. */
void run_log_end(const struct run *run, const char *name);
