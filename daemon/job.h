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
 *            START   STOP    RESTART  SLOT    EXITED  TIMER    RELOAD  RETIRE  SHUTDOWN READY  REQUIREMENT FAIL  STOPPING
 * stopped    launch  -       launch   return  -       -        apply   -       -        -      -           -     -
 * queued     -       cancel  relaunch spawn   -       -        recheck cancel  cancel   -      recheck     -     -
 * waiting    -       cancel  relaunch return  -       -        recheck cancel  cancel   -      recheck     -     -
 * starting   -       stop    stop     return  finish  notready stop    stop    stop     up     -           fail  itself
 * running    -       stop    stop     return  finish  timeout  stop    stop    stop     -      -           fail  itself
 * stopping   -       mark    mark     return  finish  kill     mark    mark    -        -      -           -     -
 * backoff    -       cancel  relaunch return  -       retry    apply   cancel  cancel   -      -           -     -
 * exited     launch  -       launch   return  -       -        apply   -       -        -      -           -     -
 * failed     launch  -       launch   return  -       -        apply   -       -        -      -           -     -
 * fatal      launch  -       launch   return  -       -        apply   -       -        -      -           -     -
 *
 *   launch    forget earlier failures, then begin: with requirements not
 *             met, waiting (no slot held); one failed, fatal without a run;
 *             else spawn (starting | running | fatal) or queue for a
 *             max_parallel slot (queued)
 *   spawn     spawn now: starting (ready is not spawn) or running, or fatal
 *             with the reason
 *   cancel    stopped (by the user)
 *   relaunch  stopped, then launch (a queued job goes to the tail)
 *   stop      stop_signal to the run's scope: stopping, SIGKILL at stop_timeout
 *   mark      the stop that is under way ends in `stopped` (a user's stop)
 *   finish    the run is recorded; policy_decide(): stopped | started again
 *             at once | backoff | exited | failed | fatal
 *   timeout   timed_out, stop_signal: stopping
 *   notready  ready_timeout passed: fail with "not ready within D" (or
 *             timeout, if the run's timeout came first)
 *   up        the run is ready: running, the "ready" event
 *   fail      supd ends the run as failed (run.error says why; whatever its
 *             exit status): stop_signal, stopping; the restart policy applies
 *   itself    the run said it is stopping (STOPPING=1): stopping without a
 *             signal, SIGKILL at stop_timeout from now; not a user's stop,
 *             so the restart policy applies to how it ends
 *   kill      SIGKILL to the scope; the run ends once it is empty
 *   retry     one more restart: launch without forgetting failures
 *   apply     the config of a reload takes effect now
 *   recheck   (apply a reload's config, then) the requirements again: all
 *             hold, queue or spawn (a queued job stays); one cannot hold any
 *             more, fatal "requirement NAME failed"; else waiting
 *   return    a slot handed to a job that no longer waits goes back
 *
 * Requirements (SPEC §7) are the host's: job.c asks requirements() before
 * every spawn of a job that has any, and the host delivers REQUIREMENT
 * when one of them changes (requires.c). */
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
	JOB_WAITING,        /* start wanted, requirements not met (SPEC §7) */
	JOB_STARTING,       /* spawned, not yet ready */
	JOB_RUNNING,        /* up */
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
	JOB_IN_READY,       /* the run is ready (job_ready()) */
	JOB_IN_REQUIREMENT, /* a requirement's state changed (the host) */
	JOB_IN_FAIL,        /* supd ends the run as failed (job_fail_run()) */
	JOB_IN_STOPPING,    /* the run stops by itself (job_stopping(), STOPPING=1) */
	_JOB_IN_MAX
};

enum job_want { WANT_DOWN, WANT_UP };

/* What observers hear (see observer.h). */
enum job_event { JOB_EVENT_STATE, JOB_EVENT_STARTED, JOB_EVENT_EXITED, JOB_EVENT_READY, JOB_EVENT_HEALTH };

/* SPEC §7 "health": NONE is null (no health_command). */
enum job_health { JOB_HEALTH_NONE, JOB_HEALTH_UNKNOWN, JOB_HEALTH_HEALTHY, JOB_HEALTH_UNHEALTHY };

/* What the host says of a job's requirements before it spawns. */
enum job_requires { JOB_REQ_HOLD, JOB_REQ_WAIT, JOB_REQ_FAILED };

struct job;
struct job_host;
struct jobready;
struct health;

/* What a readiness kind adds to a run's spawn (job_host_ops.run_prepare). */
struct job_spawn_extra {
	struct spawn_fd fds[1];      /* ready = fd:N */
	size_t n_fds;
	struct spawn_env env;        /* NOTIFY_SOCKET, WATCHDOG_* */
};

/* What the state machine asks of the system; tests replace it to drive the
 * machine without processes (tests/test-job.c). */
struct job_sys {
	/* the stages go into the scope's cgroup, if it has one */
	int (*spawn)(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		     const struct spawn_fd *fds, size_t n_fds, const struct spawn_env *env, const struct scope *s,
		     struct spawn_result *res);
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
	/* Asked before a run of a job with requires = begins (NULL: they
	 * always hold); FAILED names the requirement in *failed. */
	enum job_requires (*requirements)(struct job_host *h, struct job *j, const char **failed);

	/* The seam of readiness and health (SPEC §7; jobready.c and
	 * jobhealth.c through the supervisor). Called only for jobs whose
	 * ready is not spawn or that have a health_command, so a plain job's
	 * spawn does not pay for them; NULL: nothing.
	 *  run_prepare  before the spawn (the run's number and cgroup are
	 *             known): what the stages get, in *x (fd:N's write end,
	 *             NOTIFY_SOCKET, WATCHDOG_USEC). < 0 with *error: the spawn
	 *             fails with that reason (run_end follows).
	 *  run_begin  the run was spawned: watch for readiness (starting) and
	 *             call job_ready() when it is ready, job_fail_run() to end
	 *             it as failed. Also for ready = spawn with health checks.
	 *  run_up     the run is up (running): start health checks and the
	 *             watchdog (job_set_health(), job_fail_run()).
	 *  run_end    the run ended (every process gone), or its spawn failed
	 *             after run_prepare: stop watching, free what it made. */
	int (*run_prepare)(struct job_host *h, struct job *j, struct job_spawn_extra *x, char **error);
	void (*run_begin)(struct job_host *h, struct job *j);
	void (*run_up)(struct job_host *h, struct job *j);
	void (*run_end)(struct job_host *h, struct job *j);
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

	/* SPEC §7 */
	bool ready;                  /* the current run is up (READY came) */
	enum job_health health;      /* of the current or last run */
	char *status_text;           /* the run's STATUS=, or NULL */
	usec_t ready_deadline;       /* CLOCK_MONOTONIC: ready_timeout (EXTEND_TIMEOUT_USEC moves it), or USEC_INFINITY */
	struct jobready *readiness;  /* the host's, per run: notify socket, fd:N, watchdog, ...; or NULL */
	struct health *checks;       /* the host's, per run: health checks; or NULL */
	int check_output_fd;         /* the run's capture pipe for its checks (a health_command, command:), or -1 */
	struct job_deps *deps;       /* requires.c's: edges, stop order; NULL if none */
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

/* For the readiness and health wiring (see run_begin in job_host_ops):
 * the run is ready: starting -> running, the "ready" event. Nothing in
 * another state. */
void job_ready(struct job *j);
/* Supd ends the active run as failed with error ("not ready within 30s",
 * "watchdog timeout", "unhealthy"): stop_signal, then stop_timeout; the
 * run is recorded failed with that error whatever its exit status, and
 * the restart policy applies. Nothing without an active run; a run
 * already failed keeps its first error. */
void job_fail_run(struct job *j, const char *error);
/* The run's health changed: the "health" event, and requirements with
 * :healthy are checked again. */
void job_set_health(struct job *j, enum job_health h);
/* STATUS= of the run (NULL clears), kept to 256 bytes by the caller. */
void job_set_status_text(struct job *j, const char *text);
/* STOPPING=1: the run stops by itself (the STOPPING column). */
void job_stopping(struct job *j);
/* RELOADING=1 (true) and the READY=1 that ends it (false): `ready` is
 * false meanwhile; the "ready" event each time it changes. */
void job_set_reloading(struct job *j, bool reloading);
/* EXTEND_TIMEOUT_USEC=N: the deadline the job's timer keeps now, while
 * starting ready_timeout, while stopping stop_timeout, becomes at least
 * now + usec (never the run's `timeout`). Returns false in another state
 * (running: the watchdog is the host's). */
bool job_extend_deadline(struct job *j, usec_t usec);

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
const char *job_health_to_string(enum job_health h);   /* NULL for NONE */
const char *job_input_to_string(enum job_input in);
