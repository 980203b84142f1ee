/* SPDX-License-Identifier: ISC */
/* One check process of a job (SPEC §7): a health_command, or one try of
 * `ready = command:CMD`. (Named jobcheck: a daemon/check.h would hide
 * libcheck's <check.h> from the tests, which build with -I daemon.)
 *
 * It runs as a run of the job does: user, group and supplementary groups,
 * directory, environment and environment_file, rlimits, umask, nice,
 * %i/%n. But stdin is /dev/null, stdout and stderr go to the job's log
 * capture (or /dev/null), it gets none of the job's secret or
 * notification fds, no NOTIFY_SOCKET, WATCHDOG_* or LISTEN_* (even when
 * the job's environment sets them), and it has a process group of its
 * own: signals to the run do not reach it and it is no process of the run
 * (scope.h).
 *
 * CMD is split like `command` and may be a pipeline: every stage in the
 * check's one process group, wired as a run's stages are. It passes only
 * if every stage exits 0 (pipefail): done gets the wait status of the
 * rightmost stage that did not exit 0, else of the last stage. No shell
 * runs unless the job has shell = true; then CMD goes to /bin/sh -c as
 * `command` does, with %i/%n shell-quoted.
 *
 * Reaping. A check's processes are children of supd like a run's stages,
 * and supd has one wait loop (supervisor.c, wait4(-1) on SIGCHLD), so a
 * check cannot use a child source of its own. It registers its pids with
 * a struct reaper (reaper.h): the wait loop looks a pid up in its pid ->
 * job map, then in the reaper, and only a pid in neither is an orphan. A
 * check's exit so never reaches a job as a stage exit, nor makes the
 * supervisor re-check every run's scope as an orphan would; the hot path
 * of a stage exit gains nothing, and supervisor.c knows nothing of checks.
 * (What a check's stages fork is no stage: left behind by a killed stage,
 * it is reaped as an orphan, as a run's grandchildren are.)
 * tests/test-check.c runs checks on a loop and reaper of its own, and on
 * the supervisor's.
 *
 * Ending. done is called once, from the event loop, when every stage has
 * been reaped: the check is then freed (forget the pointer; done must not
 * cancel it). Anything left in its process group then (a background
 * child) is killed, so a check leaves nothing behind in its group (one
 * that left it with setsid() waits for the check's cgroup). At its timeout
 * the whole process group gets SIGKILL and done follows with timed_out.
 * jobcheck_cancel() (the run ended, checks paused) sends SIGKILL at once
 * and never calls back; the memory stays with the reaper until the
 * processes are reaped, so that their exits are not orphans either. A check that
 * SIGKILL cannot end (uninterruptible sleep) holds back its done until it
 * does end: its owner starts no next check meanwhile, so stuck checks
 * never pile up.
 *
 * The cgroup per run (SPEC §8, issue 12) puts checks in `c-RUN`: the
 * owner passes that directory (cgroup_check_create()) as cgroup and spawn
 * places every stage there before it execs; the owner kills what is left
 * in it when the run ends. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "cmdline.h"
#include "config.h"
#include "reaper.h"

struct jobcheck;

/* wait_status as waitpid() gives it; timed_out: killed at the timeout. */
typedef void (*jobcheck_done_fn)(void *userdata, int wait_status, bool timed_out);

/* Where a check's processes go (the run's c-RUN, cgroup.h): borrowed,
 * open while any check of the run may start. */
struct jobcheck_cgroup {
	int fd;
	const char *path;
};

/* Whose checks: the job and its current run. */
struct jobcheck_job {
	const struct job_config *jc;   /* the job's */
	const char *name, *instance;   /* the job's full name (%n) and instance (%i) */
	uint64_t run;                  /* the run's number, for log lines (SUPD_RUN=) */
	int output_fd;                 /* the run's log capture, or -1: /dev/null */
	const struct jobcheck_cgroup *cgroup;   /* or NULL: none (see above) */
};

struct jobcheck_params {
	struct jobcheck_job job;       /* only read during jobcheck_start: nothing is taken */
	const char *command;           /* CMD as written */
	const struct pipeline *argv;   /* CMD already split, or NULL: split here */
	usec_t timeout;                /* SIGKILL after this; 0 or USEC_INFINITY: none */
	jobcheck_done_fn done;
	void *userdata;
};

/* Start a check on e whose pids go to r. Returns 0 with *ret, or -errno
 * with *error (a new string: "exec x: No such file or directory",
 * "unterminated quote") and no process left. */
int jobcheck_start(sd_event *e, struct reaper *r, const struct jobcheck_params *p, struct jobcheck **ret,
		   char **error);
/* A check command kept for repeated tries (health checks, `ready =
 * command:` tries): the job's identity copied, CMD split once, the log
 * capture duplicated, so that the job may change or end its run first. */
struct jobcheck_kept {
	sd_event *event;
	struct reaper *reaper;
	struct job_config *jc;        /* referenced */
	char *name, *instance;
	uint64_t run;
	int output_fd;                /* our own duplicate, or -1 */
	const struct jobcheck_cgroup *cgroup;   /* the run's checks' cgroup (borrowed), or NULL */
	char *command;
	struct pipeline argv;         /* command split once (not with shell) */
};
/* Keep command for job; what names it in errors ("health_command").
 * Returns 0, or -errno with *error and k released. */
int jobcheck_keep(struct jobcheck_kept *k, sd_event *e, struct reaper *r, const struct jobcheck_job *job,
		  const char *command, const char *what, char **error);
void jobcheck_release(struct jobcheck_kept *k);
/* jobcheck_start() of a kept command. */
int jobcheck_start_kept(const struct jobcheck_kept *k, usec_t timeout, jobcheck_done_fn done, void *userdata,
			struct jobcheck **ret, char **error);
/* Kill the check now; done is never called. */
void jobcheck_cancel(struct jobcheck *c);
/* Its process group (the first stage's pid), for logs and tests. */
pid_t jobcheck_pgid(const struct jobcheck *c);
/* A pass: every stage exited 0 in time. */
bool jobcheck_passed(int wait_status, bool timed_out);
/* Why a check did not pass, for logs (a new string): "exited 3", "killed
 * by TERM", "timed out after 5s" (timeout as given to jobcheck_start). */
char *jobcheck_describe(int wait_status, bool timed_out, usec_t timeout);
