/* A job: one supervised program (a plain job, a pool instance NAME@N or a
 * template instance NAME@ARG), its state machine and its current or last
 * run. Kept small: 10,000 queued instances must stay cheap, so everything
 * derived from the config is computed when a run starts.
 *
 * State machine (job_set_state() is the only place a state changes; it
 * disarms or arms the job's single timer and emits the event):
 *
 *   state      event               ->  new state
 *   stopped    start               ->  queued (batch, no slot) | running | fatal (spawn failed)
 *   exited/failed/fatal  start     ->  as stopped
 *   queued     slot free           ->  running | fatal
 *   queued     stop                ->  stopped
 *   running    all stages exited   ->  policy: exited | failed | backoff | fatal
 *   running    timeout             ->  stopping (timed_out)
 *   running    stop                ->  stopping
 *   stopping   all stages exited   ->  stopped (user stop) | policy (timeout)
 *   stopping   stop_timeout        ->  stopping (SIGKILL sent to the group)
 *   backoff    timer               ->  running | fatal
 *   backoff    stop                ->  stopped
 *
 * `want` is what the user asked for (up/down); commands only change want
 * and call job_want_up()/job_want_down(). */
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "config.h"
#include "names.h"
#include "util.h"

enum job_state {
	JOB_STOPPED,
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_STOPPING,
	JOB_BACKOFF,
	JOB_EXITED,
	JOB_FAILED,
	JOB_FATAL,
	_JOB_STATE_MAX
};

enum job_want { WANT_DOWN, WANT_UP };

struct stage {
	char *argv0;
	pid_t pid;           /* 0 once reaped */
	int exit_code;       /* -1 if killed or not yet exited */
	int signal;          /* 0 if not killed */
	bool done;
};

/* One run: a spawn of the job's command (all its pipeline stages). */
struct run {
	uint64_t id;                 /* 0 = never run */
	usec_t started_wall, ended_wall;   /* CLOCK_REALTIME */
	usec_t started_mono, ended_mono;   /* CLOCK_MONOTONIC */
	bool active;                 /* stages still running */
	int exit_code;               /* -1 if none (signal or spawn failure) */
	int signal;                  /* 0 if none */
	int exit_status;             /* as a shell would report it, -1 if none */
	bool timed_out;
	bool success;
	usec_t cpu_user, cpu_sys;    /* summed over the stages */
	long max_rss_kb;             /* the largest stage */
	struct stage *stages;
	size_t n_stages, n_alive;
	char *error;                 /* spawn failure reason */
};

struct supervisor;
struct joblog;

struct job {
	char *name;                  /* full name: "enc@a.bin", "pool@3", "svc" */
	const char *instance;        /* points into name after '@', or "" */
	struct job_config *config;   /* shared, referenced */
	struct supervisor *sup;

	enum job_state state;
	enum job_want want;
	usec_t state_since_wall;
	bool stop_by_user;           /* this stop ends in `stopped` */
	bool kill_sent;              /* SIGKILL escalation happened */
	bool removed;                /* dropped by reload once it stops */
	struct job_config *pending_config; /* reload: applied when it stops */
	uint64_t match_mark;         /* supervisor_match(): in this collection */

	pid_t pgid;                  /* process group of the running pipeline */
	struct run run;              /* current or last run */
	unsigned restarts;
	usec_t backoff_delay;        /* last delay used, 0 = none */
	usec_t *start_times;         /* ring of recent start times (start_limit) */
	unsigned n_start_times;

	sd_event_source *timer;      /* backoff, timeout or stop_timeout */
	struct joblog *log;          /* captured output, NULL until needed */
	bool start_unreported;       /* a run began; "started" not yet emitted */
	bool run_unreported;         /* the run ended; "exited" not yet emitted */

	struct job *queue_next;      /* run queue (supervisor) */
	bool in_queue;
	bool in_slot;                /* counts against max_parallel */
};

struct job *job_new(struct supervisor *sup, const char *name, struct job_config *jc);
void job_free(struct job *j);

/* User intent. */
int job_want_up(struct job *j);          /* start (or queue); returns 0 or -errno */
void job_want_down(struct job *j);       /* stop; SIGKILL after stop_timeout */
int job_send_signal(struct job *j, int sig);

/* A stage's process changed (from the supervisor's reaper). */
void job_stage_exited(struct job *j, size_t stage, int wait_status, const struct rusage *ru);
/* The run queue handed this job a slot. */
void job_slot_granted(struct job *j);
/* An orphaned process was reaped: a stopping job may now be done. */
void job_recheck_group(struct job *j);

bool job_state_is_final(enum job_state s);
bool job_is_active(const struct job *j);  /* has live processes */
bool job_is_batch(const struct job *j);   /* restart = no: counts against max_parallel */
const char *job_state_to_string(enum job_state s);

void job_set_config(struct job *j, struct job_config *jc);
