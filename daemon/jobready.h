/* SPDX-License-Identifier: ISC */
/* Readiness of a job's runs (SPEC §7), wired to the state machine: the
 * host (supervisor.c) calls these from its job_host_ops run hooks for a
 * job whose ready is not spawn, and they call job_ready(),
 * job_fail_run(), job_stopping(), job_set_reloading(),
 * job_set_status_text() and job_extend_deadline() back. One struct
 * jobready per run, in j->readiness, from run_prepare to run_end:
 *
 *   notify     the run's NOTIFY_SOCKET (notify.h), opened before the spawn
 *              and closed at the run's end; READY=1 makes it up (nothing
 *              while stopping), STATUS= is status_text, WATCHDOG=1 feeds
 *              the watchdog, WATCHDOG=trigger is a miss, WATCHDOG_USEC=N
 *              is this run's watchdog (0: none), EXTEND_TIMEOUT_USEC=N
 *              moves the current deadline (ready_timeout, watchdog or
 *              stop_timeout; never timeout), RELOADING=1 makes `ready`
 *              false until the next READY=1, STOPPING=1 is job_stopping().
 *   watchdog   from up until the run stops: WATCHDOG=1 expected within
 *              the watchdog (the key, or WATCHDOG_USEC=); a miss fails the
 *              run "watchdog timeout". A timer of its own, on this run
 *              only: a job without one has none.
 *   fd:N       readyfd.h: the write end in the stages' fd map at N.
 *   log:ERE    each captured line of the run until up, against the config's
 *              compiled expression (job_config.ready.re).
 *   command:   readycmd.h: a try every ready_interval while starting, as a
 *              check of the job.
 *   checks     ready = command: tries and health checks (jobhealth.c) go
 *              in the run's c-RUN cgroup (cgroup.h) when the run has a
 *              cgroup; whatever is left in it is killed at the run's end. */
#pragma once

#include <systemd/sd-event.h>
#include "job.h"
#include "jobcheck.h"
#include "reaper.h"

/* What checks and notify sockets need of their owner. */
struct jobwatch_env {
	sd_event *event;
	struct reaper *reaper;        /* the supervisor's, for check processes */
	const char *runtime_dir;      /* where notify/ is: the control socket's directory */
	struct cgroups *cgroups;      /* for the checks' c-RUN, or NULL */
};

/* Before the spawn (every watched job: its ready is not spawn or it has
 * a health_command): the notify socket, the fd:N pipe; what the stages
 * get goes into *x. < 0 with *error. */
int jobready_prepare(const struct jobwatch_env *env, struct job *j, struct job_spawn_extra *x, char **error);
/* The run is spawned and starting. */
void jobready_begin(struct job *j);
/* The cgroup of the run's checks (c-RUN), or NULL: none (the run has no
 * cgroup). Open from jobready_begin() to jobready_end(). */
const struct jobcheck_cgroup *jobready_checks_cgroup(const struct job *j);
/* The run is up: readiness watching ends, the watchdog starts. */
void jobready_up(struct job *j);
/* A state event of j: stopping ends the watchdog and the tries. */
void jobready_state(struct job *j);
/* A captured line of j (ready = log:). */
void jobready_line(struct job *j, const char *line);
/* The run ended: everything closed and freed. */
void jobready_end(struct job *j);
