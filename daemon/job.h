/* SPDX-License-Identifier: ISC */
/* A job: one supervised program (a plain job, a pool instance NAME@N or a
 * template instance NAME@ARG), its state machine and its current or last
 * run. Kept small: 10,000 queued instances must stay cheap, so everything
 * derived from the config is computed when a run starts.
 *
 * `want` is what the user asked for (up/down); `state` is what the job is
 * doing. Only the verbs below write want; then they hand the state machine
 * an input. The machine is one table, state x input -> action (job.c), and
 * job_transition() is the one place a state changes: it arms or disarms the
 * job's single timer and emits the events.
 *
 *            START   STOP    RESTART  SLOT    EXITED   TIMER    RELOAD   RETIRE  SHUTDOWN
 * stopped    launch  -       launch   return  -        -        apply    -       -
 * queued     -       cancel  relaunch spawn   -        -        apply    cancel  cancel
 * running    -       stop    stop     return  finish   timeout  stop     stop    stop
 * stopping   -       mark    mark     return  finish   kill     mark     mark    -
 * backoff    -       cancel  relaunch return  -        retry    apply    cancel  cancel
 * exited     launch  -       launch   return  -        -        apply    -       -
 * failed     launch  -       launch   return  -        -        apply    -       -
 * fatal      launch  -       launch   return  -        -        apply    -       -
 *
 *   launch    forget earlier failures; spawn (running | fatal) or queue for a
 *             max_parallel slot (queued)
 *   spawn     spawn now: running, or fatal with the reason
 *   cancel    stopped (by the user)
 *   relaunch  stopped, then launch (a queued job goes to the tail)
 *   stop      stop_signal to the run's scope: stopping, SIGKILL at stop_timeout
 *   mark      the stop that is under way ends in `stopped` (a user's stop)
 *   finish    the run is recorded; policy_decide(): stopped | started again
 *             at once | backoff | exited | failed | fatal
 *   timeout   timed_out, stop_signal: stopping
 *   kill      SIGKILL to the scope; the run ends once it is empty
 *   retry     one more restart: spawn or queue
 *   apply     the config of a reload takes effect now
 *   return    a slot handed to a job that no longer waits goes back
 *
 * SPEC §7 adds the rows `waiting` (requirements not met) and `starting`
 * (spawned, not yet ready) and the inputs READY and REQUIREMENT. */
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "config.h"
#include "names.h"
#include "run.h"
#include "runqueue.h"
#include "scope.h"
#include "spawn.h"
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

/* The columns of the table above. */
enum job_input {
	JOB_IN_START,
	JOB_IN_STOP,
	JOB_IN_RESTART,
	JOB_IN_SLOT,        /* the run queue handed the job a slot */
	JOB_IN_EXITED,      /* every process of the run is gone */
	JOB_IN_TIMER,       /* the job's timer: timeout, stop_timeout or backoff */
	JOB_IN_RELOAD,      /* reload changed the job's config */
	JOB_IN_RETIRE,      /* reload removed the job */
	JOB_IN_SHUTDOWN,
	_JOB_IN_MAX
};

enum job_want { WANT_DOWN, WANT_UP };

/* What observers hear (see observer.h). */
enum job_event { JOB_EVENT_STATE, JOB_EVENT_STARTED, JOB_EVENT_EXITED };

struct job;
struct job_host;

/* What the state machine asks of the system; tests replace it to drive the
 * machine without processes (tests/test-job.c). */
struct job_sys {
	/* the stages go into the scope's cgroup, if it has one */
	int (*spawn)(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		     const struct spawn_fd *fds, size_t n_fds, const struct scope *s, struct spawn_result *res);
	int (*signal)(const struct scope *s, int sig, bool and_continue);
	bool (*alive)(const struct scope *s);
	/* the run's cgroup: made before the spawn, closed when the run ends (scope.h) */
	int (*scope_open)(struct scope *s, struct cgroups *m, const char *name, uint64_t run,
			  const struct job_config *jc, const struct cgroup_run_events *ev, void *userdata,
			  char **error);
	void (*scope_close)(struct scope *s, struct cgroup_usage *u);
	usec_t (*now)(clockid_t clock);
};
extern const struct job_sys job_sys_real;

/* What a job needs of whoever owns it (the supervisor): events, captured
 * lines, the pid -> job map of the reaper, run numbers. */
struct job_host_ops {
	void (*event)(struct job_host *h, struct job *j, enum job_event ev);
	void (*line)(struct job_host *h, struct job *j, const char *line);
	void (*track_pid)(struct job_host *h, pid_t pid, struct job *j);
	void (*untrack_pid)(struct job_host *h, pid_t pid);
	uint64_t (*next_run_id)(struct job_host *h);
};

/* The owner's side of the interface, embedded in the owner. */
struct job_host {
	const struct job_host_ops *ops;
	const struct job_sys *sys;
	sd_event *event;
	struct runqueue queue;       /* max_parallel slots for batch runs */
	const char *log_dir;         /* where captured output goes, or NULL */
	struct cgroups *cgroups;     /* where runs get their cgroups, or NULL (cgroup.h) */
	bool shutting_down;
	size_t n_active;             /* jobs with a run in progress */
	unsigned counts[_JOB_STATE_MAX];
};

struct job {
	char *name;                  /* full name: "enc@a.bin", "pool@3", "svc" */
	const char *instance;        /* points into name after '@', or "" */
	struct job_config *config;   /* shared, referenced */
	struct job_host *host;

	enum job_state state;
	enum job_want want;
	usec_t state_since_wall;
	bool stop_by_user;           /* the run is ending by a stop, restart or reload */
	bool kill_sent;              /* SIGKILL escalation happened */
	bool removed;                /* dropped by reload once it stops */
	struct job_config *pending_config; /* reload: applied when the run ends */
	uint64_t match_mark;         /* supervisor_match(): in this collection */

	struct scope scope;          /* the processes of the current run */
	struct run run;              /* current or last run */
	unsigned restarts;
	usec_t backoff_delay;        /* last delay used, 0 = none */
	usec_t *start_times;         /* ring of recent start times (start_limit) */
	unsigned n_start_times;

	sd_event_source *timer;      /* backoff, timeout or stop_timeout */
	struct joblog *log;          /* captured output, NULL until needed */
	struct secret_feed *secrets; /* the run's secret pipes still being written */
	bool start_unreported;       /* a run began; "started" not yet emitted */
	bool run_unreported;         /* the run ended; "exited" not yet emitted */

	struct runqueue_entry slot;  /* in the run queue, or holding a slot */
};

struct job *job_new(struct job_host *h, const char *name, struct job_config *jc);
void job_free(struct job *j);

/* The verbs: the only writers of want. Start (or queue): 0 or -errno
 * (-ESTALE: removed by reload, -ESHUTDOWN). */
int job_want_up(struct job *j);
/* Stop; SIGKILL after stop_timeout. */
void job_want_down(struct job *j);
/* Stop if active, then start again; 0 or -errno as job_want_up. */
int job_restart(struct job *j);
/* Reload: give j the config jc; a job that is active is stopped and starts
 * again with it if it was wanted up. Returns true if anything changed. */
bool job_reconfigure(struct job *j, struct job_config *jc);
/* Reload dropped the job: it stops and is freed by its owner once final. */
void job_retire(struct job *j);
/* supd stops: host->shutting_down is set, nothing starts again. */
void job_shutdown(struct job *j);
int job_send_signal(struct job *j, int sig);

/* A job that never ran in this supd's life shows the final state its last
 * recorded run left it in (j->run restored by the caller). */
void job_restore_state(struct job *j, enum job_state st);
/* One cell of the table: what the job does on input in, in its state. */
void job_handle(struct job *j, enum job_input in);
/* A stage's process ended (from the owner's reaper). */
void job_stage_exited(struct job *j, size_t stage, int wait_status, const struct rusage *ru);
/* An orphaned process was reaped: a run whose stages are gone may now be over. */
void job_recheck_scope(struct job *j);
/* The run queue's grant callback (host->queue). */
void job_slot_granted(struct runqueue_entry *e, void *userdata);

bool job_state_is_final(enum job_state s);
bool job_is_active(const struct job *j);  /* a run is in progress */
bool job_is_batch(const struct job *j);   /* restart = no: counts against max_parallel */
const char *job_state_to_string(enum job_state s);
const char *job_input_to_string(enum job_input in);
