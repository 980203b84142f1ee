/* SPDX-License-Identifier: ISC */
/* The supervisor: the table of jobs, the reaper that maps child pids back
 * to their job, the observers of job events, and shutdown. Jobs see it only
 * as their host (job.h); reload is in reload.c. */
#pragma once

#include <signal.h>
#include <systemd/sd-event.h>
#include "config.h"
#include "hashmap.h"
#include "job.h"
#include "jobready.h"
#include "observer.h"
#include "reaper.h"
#include "requires.h"

struct history;

struct supervisor {
	struct job_host host;        /* what jobs see: event loop, queue, counts */
	struct supd_config *config;
	char *log_dir;               /* STATE_DIR/logs, or NULL */
	struct history *history;     /* for the history command; not used here */

	struct job **jobs;           /* in config order; instances as created */
	size_t n_jobs, cap_jobs;
	struct hashmap by_name;      /* name -> job */
	struct hashmap by_pid;       /* pid -> job (each live stage) */
	struct reaper children;      /* pid -> owner of the other children: checks (jobcheck.h) */
	struct jobwatch_env watch;   /* what readiness and health checks use (jobready.h) */
	char *runtime_dir;           /* notify sockets go under it (supervisor_set_runtime_dir) */
	uint64_t match_mark;         /* the current supervisor_match() collection */
	uint64_t next_run_id;         /* without runids */
	struct runids *runids;        /* crash-safe run numbers, or NULL */

	struct job **retired;        /* removed by reload, still stopping */
	size_t n_retired;
	sd_event_source *sweeper;    /* frees retired jobs outside callbacks */

	struct job_observer *observers;
	struct requires req;         /* requirements between jobs (SPEC §7) */
	void (*on_idle_after_shutdown)(struct supervisor *s);
	/* Shutdown signalled a job (one stop step, SPEC §7): systemd's
	 * EXTEND_TIMEOUT_USEC. May be NULL. */
	void (*on_stop_step)(struct supervisor *s, usec_t stop_timeout);
	sd_event_source *sigchld;
};

/* Run numbers start at first_run_id; state_dir may be NULL (no log files). */
int supervisor_new(sd_event *e, struct supd_config *c, const char *state_dir, uint64_t first_run_id,
		   struct supervisor **ret);
void supervisor_free(struct supervisor *s);

/* Start every autostart job. */
void supervisor_autostart(struct supervisor *s);
void supervisor_add_observer(struct supervisor *s, struct job_observer *o);
void supervisor_remove_observer(struct supervisor *s, struct job_observer *o);

struct job *supervisor_find(struct supervisor *s, const char *name);
/* Jobs matching a pattern (name, glob, or template/pool base name), appended
 * to *v, each once across the calls that fill one vector (start with *v
 * NULL, *n 0; *v grows here only). With create, "tmpl@arg" of a template
 * is instantiated. Returns the number matched (counting those an earlier
 * pattern added), or -EINVAL for an invalid instance name. */
int supervisor_match(struct supervisor *s, const char *pattern, bool create, struct job ***v, size_t *n);

/* Stop everything; calls on_idle_after_shutdown once no job has processes. */
void supervisor_shutdown(struct supervisor *s);
bool supervisor_shutting_down(const struct supervisor *s);
/* Every job's log file is opened again by name at its next output. */
void supervisor_reopen_logs(struct supervisor *s);
/* Where runs' NOTIFY_SOCKETs go (SPEC §7: the control socket's directory);
 * without one, a run of a job with ready = notify cannot start. */
void supervisor_set_runtime_dir(struct supervisor *s, const char *dir);

/* For reload.c: add a job to the table; take one out (it stops, and is
 * freed once final). */
struct job *supervisor_add_job(struct supervisor *s, const char *name, struct job_config *jc);
void supervisor_retire_job(struct supervisor *s, struct job *j);
