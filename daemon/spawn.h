/* SPDX-License-Identifier: ISC */
/* Process creation for one run of a job: substitutes %i/%n, resolves the
 * user, opens the redirections, reads the secrets, wires the pipeline
 * stages with pipes and starts every stage in one new process group, with
 * its limits and umask. Job data flows between
 * stages and files through the kernel only. A failure in any step (missing
 * program, bad directory, unknown user, unopenable file) is reported with
 * its reason and leaves no process behind. */
#pragma once

#include <sys/resource.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"

struct secret_feed;

struct spawn_result {
	pid_t pgid;
	size_t n_stages;
	pid_t *pids;          /* one per stage */
	char **argv0;         /* one per stage (NULL-terminated vector) */
	char *error;          /* on failure: "exec /x/y: No such file or directory" */
	int exit_status;      /* on failure: 127 (not found) or 126 (other) */
	/* The part of the secrets the pipes did not take before the exec:
	 * the caller starts it on its event loop and frees it when the run
	 * ends (secret.h); NULL when every pipe holds its whole secret. */
	struct secret_feed *secrets;
};

/* One entry of a child's fd map: fd `target` of the child is what fd
 * `source` is in supd. */
struct spawn_fd {
	int target;
	int source;
};
/* Most extra fds (besides stdin, stdout, stderr) a job's stages get. */
#define SPAWN_EXTRA_FDS_MAX 64

/* A run's cgroup (SPEC §8): every stage enters it before it execs. */
struct spawn_cgroup {
	int fd;               /* the cgroup's directory */
	const char *path;     /* for messages */
};

/* Returns 0 with every stage running, or -errno with result->error set.
 * capture_fd: where stdout/stderr = log go (-1: this job captures nothing).
 * extra: fds every stage gets besides 0-2 (targets 3 and up, each once);
 * besides, each stage gets a pipe of its own for each secret of jc (at
 * its FD); the child has no other fd open. */
int spawn_run(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
	      const struct spawn_fd *extra, size_t n_extra, struct spawn_result *result);
/* What a run of a job with readiness (SPEC §7) gets in its environment
 * besides the job's own, overriding what the job's environment says.
 * NOTIFY_SOCKET goes to every stage (every message of the run counts);
 * WATCHDOG_USEC and WATCHDOG_PID only to the first stage, whose pid is
 * the job's `pid`, with WATCHDOG_PID its own pid: systemd gives them to
 * the main process, and sd_watchdog_enabled() in a process it forks, or
 * in a filter stage of the pipeline, then says no, so only the service
 * itself keeps its watchdog alive. */
struct spawn_env {
	const char *notify_socket;   /* or NULL */
	uint64_t watchdog_usec;      /* 0: none */
};

/* How a process that is no stage of a run is made (jobcheck.h). */
enum spawn_flags {
	/* without NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID and LISTEN_*,
	 * even when the job's environment sets them (jobenv_drop_private) */
	SPAWN_NO_PRIVATE_ENV = 1 << 0,
};
/* The same, every stage placed in cgroup cg (NULL: none) before it execs:
 * with clone3(CLONE_INTO_CGROUP), or by the child itself writing to
 * cgroup.procs before it switches to the job's user. A failure to place
 * it is a spawn failure ("cannot enter cgroup PATH: ..."). flags: enum
 * spawn_flags; spawn_run() is no cgroup and flags 0. */
int spawn_run_in(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		 const struct spawn_fd *extra, size_t n_extra, const struct spawn_cgroup *cg,
		 unsigned flags, struct spawn_result *result);
/* spawn_run_in() with env (NULL: as spawn_run_in). */
int spawn_run_env(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		  const struct spawn_fd *extra, size_t n_extra, const struct spawn_cgroup *cg,
		  const struct spawn_env *env, struct spawn_result *result);
void spawn_result_free(struct spawn_result *r);
/* supd raises its own fd limit; children get back the one it started with. */
void spawn_set_child_nofile(const struct rlimit *rl);
