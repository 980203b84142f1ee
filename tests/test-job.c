/* SPDX-License-Identifier: ISC */
/* Unit tests for the job state machine (daemon/job.c), driven without
 * processes: a fake system (spawn, signal, alive, clock) and a fake host.
 * test_matrix walks every cell of the table in job.h, state x input, and
 * checks the new state and what was asked of the system; the other tests
 * follow a cell to the end of the run it affects. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "job.h"
#include "log.h"

/* ---- the fake system ---- */

static struct {
	int spawns;
	bool spawn_fails;
	pid_t next_pid;
	int n_signals;
	int last_signal;
	bool alive;
	usec_t now;
	/* runs in (fake) cgroups: scope_open hands out fake_cgroup */
	bool cgroup;
	bool open_fails;             /* scope_open refuses: a kept cgroup, a missing controller */
	int opens, closes;
	const struct cgroup_run_events *ev;
	void *ev_userdata;
	struct cgroup_usage usage;   /* what the cgroup counted */
} sys;

static char fake_cgroup;         /* its address stands for a run's cgroup; never dereferenced */

static int fake_spawn(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		      const struct spawn_fd *fds, size_t n_fds, const struct scope *sc, struct spawn_result *res) {
	memset(res, 0, sizeof(*res));
	sys.spawns++;
	if (sys.spawn_fails) {
		res->error = xstrdup("exec /nonexistent: No such file or directory");
		res->exit_status = 127;
		return -ENOENT;
	}
	res->n_stages = 1;
	res->pids = xcalloc(1, sizeof(pid_t));
	res->pids[0] = res->pgid = sys.next_pid++;
	res->argv0 = strv_push(NULL, "fake");
	return 0;
}

static int fake_signal(const struct scope *s, int sig, bool and_continue) {
	sys.n_signals++;
	sys.last_signal = sig;
	return 0;
}

static bool fake_alive(const struct scope *s) {
	return sys.alive;
}

static usec_t fake_now(clockid_t clock) {
	return sys.now;
}

static int fake_scope_open(struct scope *s, struct cgroups *m, const char *name, uint64_t run,
			   const struct job_config *jc, const struct cgroup_run_events *ev, void *userdata,
			   char **error) {
	*s = (struct scope) { 0 };
	if (sys.open_fails) {
		*error = xstrdup("memory_max needs the memory controller in /cg");
		return -EOPNOTSUPP;
	}
	if (sys.cgroup) {
		s->cgroup = (struct cgroup_run *) &fake_cgroup;
		sys.opens++;
		sys.ev = ev;
		sys.ev_userdata = userdata;
	}
	return 0;
}

static void fake_scope_close(struct scope *s, struct cgroup_usage *u) {
	*u = (struct cgroup_usage) { .memory_peak_kb = -1, .oom_killed = -1 };
	if (s->cgroup) {
		sys.closes++;
		*u = sys.usage;
	}
	*s = (struct scope) { 0 };
}

static const struct job_sys fake_sys = {
	.spawn = fake_spawn, .signal = fake_signal, .alive = fake_alive, .now = fake_now,
	.scope_open = fake_scope_open, .scope_close = fake_scope_close,
};

/* ---- the fake host ---- */

static struct {
	int events[5];           /* by enum job_event */
	int stopped_events;      /* state events announcing stopped */
	uint64_t run_id;
} seen;

static void host_event(struct job_host *h, struct job *j, enum job_event ev) {
	seen.events[ev]++;
	if (ev == JOB_EVENT_STATE && j->state == JOB_STOPPED)
		seen.stopped_events++;
}

static void host_line(struct job_host *h, struct job *j, const char *line) {}
static void host_track(struct job_host *h, pid_t pid, struct job *j) {}
static void host_untrack(struct job_host *h, pid_t pid) {}
static uint64_t host_run_id(struct job_host *h) { return ++seen.run_id; }

/* What the fake host says of requirements (requires.c's part). */
static enum job_requires req_answer;
static int req_asked;

static enum job_requires host_requirements(struct job_host *h, struct job *j, const char **failed) {
	req_asked++;
	*failed = "svc";
	return req_answer;
}

static struct { int begin, up, end; } watched;
static void host_run_begin(struct job_host *h, struct job *j) { watched.begin++; }
static void host_run_up(struct job_host *h, struct job *j) { watched.up++; }
static void host_run_end(struct job_host *h, struct job *j) { watched.end++; }

static const struct job_host_ops host_ops = {
	.event = host_event, .line = host_line, .track_pid = host_track,
	.untrack_pid = host_untrack, .next_run_id = host_run_id,
	.requirements = host_requirements,
	.run_begin = host_run_begin, .run_up = host_run_up, .run_end = host_run_end,
};

/* ---- fixture: a host with a queue of one slot, a service and batch jobs ---- */

static sd_event *event;
static struct job_host host;
static struct supd_config *conf, *conf2;   /* conf2: every job changed */
static struct job *jobs[16];
static size_t n_jobs;

static struct supd_config *load(const char *text) {
	char path[] = "/tmp/supd-test-job-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	int r = config_load(path, &c, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	config_errors_clear(&errs);
	unlink(path);
	ck_assert_int_eq(r, 0);
	return c;
}

#define CONFIG(cmd) \
	"[supd]\nmax_parallel = 1\n" \
	"[job:svc]\ncommand = " cmd "\nrestart = always\nstdout = null\nstderr = null\nstop_timeout = 5s\ntimeout = 1m\n" \
	"[job:batch]\ncommand = " cmd "\nstdout = null\nstderr = null\n" \
	"[job:blocker]\ncommand = " cmd "\nstdout = null\nstderr = null\n" \
	"[job:dep]\ncommand = " cmd "\nstdout = null\nstderr = null\nrequires = svc\n" \
	"[job:slow]\ncommand = " cmd "\nrestart = always\nstdout = null\nstderr = null\nready = notify\n" \
	"ready_timeout = 5s\ntimeout = 10s\nhealth_command = " cmd "\n"

static void setup(void) {
	memset(&sys, 0, sizeof(sys));
	memset(&seen, 0, sizeof(seen));
	memset(&watched, 0, sizeof(watched));
	req_answer = JOB_REQ_WAIT;
	req_asked = 0;
	sys.next_pid = 1000;
	sys.alive = true;            /* processes are left until their stage exits */
	sys.now = 1000 * USEC_PER_SEC;
	ck_assert_int_ge(sd_event_new(&event), 0);
	memset(&host, 0, sizeof(host));
	host.ops = &host_ops;
	host.sys = &fake_sys;
	host.event = event;
	ck_assert_int_ge(runqueue_init(&host.queue, event, 1, job_slot_granted, NULL), 0);
	conf = load(CONFIG("/bin/true"));
	conf2 = load(CONFIG("/bin/false"));
	n_jobs = 0;
}

static void teardown(void) {
	for (size_t i = 0; i < n_jobs; i++)
		job_free(jobs[i]);
	runqueue_done(&host.queue);
	config_free(conf);
	config_free(conf2);
	sd_event_unref(event);
}

static struct job *add(const char *name) {
	struct job *j = job_new(&host, name, config_find_job(conf, name));
	host.counts[JOB_STOPPED]++;
	jobs[n_jobs++] = j;
	return j;
}

/* Every process of j's run ends with wait status ws. */
static void run_ends(struct job *j, int ws) {
	sys.alive = false;
	for (size_t i = 0; i < j->run.n_stages; i++)
		job_stage_exited(j, i, ws, NULL);
	sys.alive = true;
}

/* A job in state s, by the inputs a user and the system would give. */
static struct job *reach(enum job_state s) {
	struct job *j;

	switch (s) {
	case JOB_QUEUED:
		ck_assert_int_eq(job_want_up(add("blocker")), 0);   /* holds the one slot */
		j = add("batch");
		ck_assert_int_eq(job_want_up(j), 0);
		break;
	case JOB_WAITING:
		j = add("dep");
		ck_assert_int_eq(job_want_up(j), 0);   /* req_answer: wait */
		break;
	case JOB_STARTING:
		j = add("slow");
		ck_assert_int_eq(job_want_up(j), 0);
		break;
	case JOB_RUNNING:
		j = add("svc");
		ck_assert_int_eq(job_want_up(j), 0);
		break;
	case JOB_STOPPING:
		j = reach(JOB_RUNNING);
		job_want_down(j);
		break;
	case JOB_BACKOFF:
		j = reach(JOB_RUNNING);
		run_ends(j, W_EXITCODE(1, 0));
		break;
	case JOB_EXITED:
	case JOB_FAILED:
		j = add("batch");
		ck_assert_int_eq(job_want_up(j), 0);
		run_ends(j, W_EXITCODE(s == JOB_EXITED ? 0 : 1, 0));
		break;
	case JOB_FATAL:
		j = add("svc");
		sys.spawn_fails = true;
		ck_assert_int_eq(job_want_up(j), 0);
		sys.spawn_fails = false;
		break;
	default:
		j = add("svc");
	}
	ck_assert_msg(j->state == s, "could not reach %s (got %s)", job_state_to_string(s), job_state_to_string(j->state));
	return j;
}

/* Hand the job a slot as the run queue does. */
static void grant(struct job *j) {
	runqueue_remove(&host.queue, &j->slot);
	if (!j->slot.in_slot) {
		j->slot.in_slot = true;
		host.queue.in_use++;
	}
	job_slot_granted(&j->slot, NULL);
}

static void deliver(struct job *j, enum job_input in) {
	switch (in) {
	case JOB_IN_START: (void) job_want_up(j); break;
	case JOB_IN_STOP: job_want_down(j); break;
	case JOB_IN_RESTART: (void) job_restart(j); break;
	case JOB_IN_SLOT: grant(j); break;
	case JOB_IN_EXITED:
		if (job_is_active(j))
			run_ends(j, W_EXITCODE(0, 0));
		else
			job_handle(j, JOB_IN_EXITED);
		break;
	case JOB_IN_TIMER: job_handle(j, JOB_IN_TIMER); break;
	case JOB_IN_RELOAD: ck_assert(job_reconfigure(j, config_find_job(conf2, j->config->name))); break;
	case JOB_IN_RETIRE: job_retire(j); break;
	case JOB_IN_SHUTDOWN: host.shutting_down = true; job_shutdown(j); break;
	case JOB_IN_READY: job_ready(j); break;
	case JOB_IN_REQUIREMENT: req_answer = JOB_REQ_HOLD; job_handle(j, JOB_IN_REQUIREMENT); break;
	case JOB_IN_FAIL: job_fail_run(j, "test: ended as failed"); break;
	default: ck_abort();
	}
}

/* ---- the expected table, written apart from job.c's ---- */

enum { NO_SIG = 0, TERM = SIGTERM, KILL = SIGKILL };

struct cell {
	enum job_state to;
	int spawns;             /* spawns this input caused */
	int signal;             /* signal sent to the run, if any */
};

#define S JOB_STOPPED
#define Q JOB_QUEUED
#define W JOB_WAITING
#define T JOB_STARTING
#define R JOB_RUNNING
#define P JOB_STOPPING
#define B JOB_BACKOFF
#define E JOB_EXITED
#define F JOB_FAILED
#define X JOB_FATAL
#define FINAL(st) { \
	{ R, 1, 0 }, { st, 0, 0 }, { R, 1, 0 }, { st, 0, 0 }, { st, 0, 0 }, \
	{ st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 } }

static const struct cell expected[_JOB_STATE_MAX][_JOB_IN_MAX] = {
	/*        START         STOP          RESTART       SLOT        EXITED      TIMER          RELOAD        RETIRE        SHUTDOWN      READY        REQUIREMENT  FAIL */
	[S] = FINAL(S),
	[Q] = { { Q, 0, 0 }, { S, 0, 0 }, { Q, 0, 0 }, { R, 1, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { S, 0, 0 }, { S, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 } },
	[W] = { { W, 0, 0 }, { S, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { S, 0, 0 }, { S, 0, 0 }, { W, 0, 0 }, { R, 1, 0 }, { W, 0, 0 } },
	[T] = { { T, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { T, 0, 0 }, { B, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { R, 0, 0 }, { T, 0, 0 }, { P, 0, TERM } },
	[R] = { { R, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { R, 0, 0 }, { B, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { R, 0, 0 }, { R, 0, 0 }, { P, 0, TERM } },
	[P] = { { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { S, 0, 0 }, { P, 0, KILL }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 } },
	[B] = { { B, 0, 0 }, { S, 0, 0 }, { R, 1, 0 }, { B, 0, 0 }, { B, 0, 0 }, { R, 1, 0 }, { B, 0, 0 }, { S, 0, 0 }, { S, 0, 0 }, { B, 0, 0 }, { B, 0, 0 }, { B, 0, 0 } },
	[E] = FINAL(E),
	[F] = FINAL(F),
	[X] = FINAL(X),
};

/* One loop iteration per cell: _i = state * _JOB_IN_MAX + input. */
START_TEST(test_matrix)
{
	enum job_state st = (enum job_state) (_i / _JOB_IN_MAX);
	enum job_input in = (enum job_input) (_i % _JOB_IN_MAX);
	const struct cell *want = &expected[st][in];
	struct job *j = reach(st);
	int spawns = sys.spawns, signals = sys.n_signals;
	bool held_slot = j->slot.in_slot;

	deliver(j, in);
	ck_assert_msg(j->state == want->to, "%s x %s: %s, expected %s", job_state_to_string(st),
		      job_input_to_string(in), job_state_to_string(j->state), job_state_to_string(want->to));
	ck_assert_msg(sys.spawns - spawns == want->spawns, "%s x %s: %d spawns, expected %d",
		      job_state_to_string(st), job_input_to_string(in), sys.spawns - spawns, want->spawns);
	if (want->signal) {
		ck_assert_msg(sys.n_signals > signals && sys.last_signal == want->signal, "%s x %s: signal %d, expected %d",
			      job_state_to_string(st), job_input_to_string(in), sys.last_signal, want->signal);
	} else
		ck_assert_msg(sys.n_signals == signals, "%s x %s: a signal was sent", job_state_to_string(st),
			      job_input_to_string(in));
	/* the invariants every cell keeps */
	ck_assert(!j->slot.queued || j->state == JOB_QUEUED);
	if (j->slot.in_slot)
		ck_assert(job_is_batch(j) && (j->state == JOB_STARTING || j->state == JOB_RUNNING ||
					      j->state == JOB_STOPPING));
	if (in == JOB_IN_SLOT && !held_slot && st != JOB_QUEUED)
		ck_assert_msg(!j->slot.in_slot, "%s x slot: the slot was kept", job_state_to_string(st));
	ck_assert(job_is_active(j) == (j->state == JOB_STARTING || j->state == JOB_RUNNING ||
				       j->state == JOB_STOPPING));
	ck_assert(!j->slot.in_slot || j->state != JOB_WAITING);
	unsigned total = 0;
	for (int s = 0; s < _JOB_STATE_MAX; s++)
		total += host.counts[s];
	ck_assert_uint_eq(total, n_jobs);
	ck_assert_uint_ge(host.counts[j->state], 1);
	if (in == JOB_IN_RELOAD && !job_is_active(j))
		ck_assert_msg(strstr(j->config->command, "false"), "%s x reload: the new config is not applied",
			      job_state_to_string(st));
}
END_TEST

/* ---- what follows some cells, to the end of the run ---- */

START_TEST(test_restart_starts_again_without_stopped_event)
{
	struct job *j = reach(JOB_RUNNING);
	int stopped = seen.stopped_events;
	ck_assert_int_eq(job_restart(j), 0);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert_int_eq(sys.spawns, 2);
	ck_assert_int_eq(seen.stopped_events, stopped);
	ck_assert_uint_eq(j->run.id, 2);
}
END_TEST

START_TEST(test_stop_ends_stopped_with_kill)
{
	struct job *j = reach(JOB_STOPPING);
	job_handle(j, JOB_IN_TIMER);       /* stop_timeout */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert(j->kill_sent);
	run_ends(j, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(j->state, JOB_STOPPED);
	ck_assert_int_eq(j->run.signal, SIGKILL);
	ck_assert_int_eq(j->want, WANT_DOWN);
}
END_TEST

START_TEST(test_stopping_waits_for_scope)
{
	struct job *j = reach(JOB_STOPPING);
	/* the stage is gone but something of the run is left: not stopped yet */
	job_stage_exited(j, 0, W_EXITCODE(0, SIGTERM), NULL);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	sys.alive = false;
	job_recheck_scope(j);
	ck_assert_int_eq(j->state, JOB_STOPPED);
}
END_TEST

START_TEST(test_leftovers_killed_at_run_end)
{
	struct job *j = reach(JOB_RUNNING);
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);   /* sys.alive: a process is left */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_BACKOFF);
}
END_TEST

START_TEST(test_reload_restarts_with_new_config)
{
	struct job *j = reach(JOB_RUNNING);
	ck_assert(job_reconfigure(j, config_find_job(conf2, "svc")));
	ck_assert(strstr(j->config->command, "true"));    /* applied when the run ends */
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert(strstr(j->config->command, "false"));
	/* the same config again changes nothing */
	ck_assert(!job_reconfigure(j, config_find_job(conf2, "svc")));
	ck_assert_int_eq(j->state, JOB_RUNNING);
}
END_TEST

START_TEST(test_retired_and_shutdown_never_restart)
{
	struct job *j = reach(JOB_RUNNING);
	job_retire(j);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_STOPPED);
	ck_assert_int_eq(job_want_up(j), -ESTALE);

	struct job *k = add("batch");
	ck_assert_int_eq(job_want_up(k), 0);
	host.shutting_down = true;
	job_shutdown(k);
	ck_assert_int_eq(job_want_up(k), -ESHUTDOWN);
	ck_assert_int_eq(job_restart(k), -ESHUTDOWN);
	run_ends(k, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(k->state, JOB_STOPPED);
}
END_TEST

START_TEST(test_timeout_fails_the_run)
{
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	job_handle(j, JOB_IN_TIMER);
	ck_assert(j->run.timed_out);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_int_eq(j->run.exit_status, 124);
}
END_TEST

START_TEST(test_start_while_stopping_comes_back)
{
	struct job *j = reach(JOB_STOPPING);
	ck_assert_int_eq(job_want_up(j), 0);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_RUNNING);
}
END_TEST

START_TEST(test_queue_hands_the_slot_on)
{
	struct job *j = reach(JOB_QUEUED);
	struct job *blocker = jobs[0];
	run_ends(blocker, W_EXITCODE(0, 0));
	ck_assert_int_eq(blocker->state, JOB_EXITED);
	ck_assert_int_eq(j->state, JOB_QUEUED);     /* handed on from the event loop */
	ck_assert_int_ge(sd_event_run(event, 0), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert(j->slot.in_slot);
}
END_TEST

START_TEST(test_start_limit_goes_fatal)
{
	struct job *j = reach(JOB_RUNNING);
	for (int i = 0; i < 10 && j->state != JOB_FATAL; i++) {
		run_ends(j, W_EXITCODE(1, 0));
		if (j->state == JOB_BACKOFF)
			job_handle(j, JOB_IN_TIMER);
		sys.now += USEC_PER_MSEC;
	}
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert(strstr(j->run.error, "start limit"));
	ck_assert_int_eq(j->want, WANT_DOWN);
}
END_TEST

/* ---- runs in cgroups (SPEC §8), through the scope seam ---- */

START_TEST(test_cgroup_run_ends_when_empty)
{
	sys.cgroup = true;
	sys.usage = (struct cgroup_usage) { .cpu = true, .cpu_user = 3 * USEC_PER_SEC, .cpu_sys = 2,
					    .memory_peak_kb = 1234, .oom_killed = 0 };
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(sys.opens, 1);
	/* the stage is gone, a setsid() child is left in the cgroup: killed,
	 * and the run waits for the cgroup to empty */
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(job_is_active(j));
	sys.ev->changed(sys.ev_userdata);     /* cgroup.events: still populated */
	ck_assert_int_eq(j->state, JOB_STOPPING);
	sys.alive = false;
	sys.ev->changed(sys.ev_userdata);     /* populated 0 */
	ck_assert_int_eq(j->state, JOB_EXITED);
	ck_assert_int_eq(sys.closes, 1);
	ck_assert(j->run.success);
	ck_assert_ptr_null(j->run.error);
	/* the cgroup's accounting, escaped processes included */
	ck_assert_uint_eq(j->run.cpu_user, 3 * USEC_PER_SEC);
	ck_assert_uint_eq(j->run.cpu_sys, 2);
	ck_assert_int_eq(j->run.memory_peak_kb, 1234);
	ck_assert_int_eq(j->run.oom_killed, 0);
}
END_TEST

START_TEST(test_cgroup_processes_left_after_kill)
{
	sys.cgroup = true;
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);   /* leftovers: SIGKILL, stopping */
	ck_assert(j->kill_sent);
	int signals = sys.n_signals;
	/* stop_timeout later the cgroup is still populated (D state) */
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(sys.n_signals, signals);
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_str_eq(j->run.error, "processes left after SIGKILL");
	ck_assert(!j->run.success);
	ck_assert_int_eq(sys.closes, 1);    /* closed: the real one keeps the cgroup */
	/* a kept cgroup holds the job back: its next start fails with the reason */
	sys.open_fails = true;
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert(strstr(j->run.error, "needs the memory controller"));
	ck_assert_int_eq(sys.spawns, 1);
}
END_TEST

START_TEST(test_cgroup_stop_escalates_then_abandons)
{
	sys.cgroup = true;
	struct job *j = reach(JOB_STOPPING);
	job_handle(j, JOB_IN_TIMER);       /* stop_timeout: cgroup.kill */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(j->timer && job_is_active(j));
	job_handle(j, JOB_IN_TIMER);       /* stop_timeout after it: the stage itself never died */
	ck_assert_int_eq(j->state, JOB_STOPPED);
	ck_assert_str_eq(j->run.error, "processes left after SIGKILL");
	ck_assert(j->run.stages[0].done);
	ck_assert_int_eq(j->run.stages[0].signal, SIGKILL);
	ck_assert_uint_eq(j->run.n_alive, 0);
	/* its late exit changes nothing */
	ck_assert(!job_is_active(j));
}
END_TEST

START_TEST(test_cgroup_oom_stop)
{
	sys.cgroup = true;
	struct job *j = reach(JOB_RUNNING);
	sys.ev->oom(sys.ev_userdata);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_int_eq(sys.last_signal, SIGTERM);
	ck_assert(strstr(j->run.error, "OOM killer"));
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert(!j->run.success);
	ck_assert_int_eq(j->state, JOB_BACKOFF);   /* restart = always: a failure, restarted */
	ck_assert(!j->stop_by_user);
}
END_TEST

START_TEST(test_no_cgroup_as_before)
{
	struct job *j = reach(JOB_RUNNING);
	ck_assert_ptr_null(j->scope.cgroup);
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);   /* leftovers: killed, the run ends at once */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_BACKOFF);
	ck_assert_int_eq(sys.opens + sys.closes, 0);
	ck_assert_int_eq(j->run.memory_peak_kb, -1);
	ck_assert_int_eq(j->run.oom_killed, -1);
}
END_TEST

START_TEST(test_cgroup_spawn_failure_closes_it)
{
	sys.cgroup = true;
	sys.spawn_fails = true;
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert_int_eq(sys.opens, 1);
	ck_assert_int_eq(sys.closes, 1);
	ck_assert_int_eq(sys.last_signal, SIGKILL);    /* anything a stage forked first */
}
END_TEST

/* ---- SPEC §7: requirements, readiness, runs ended as failed ---- */

START_TEST(test_requirement_failed_goes_fatal_without_a_run)
{
	struct job *j = add("dep");
	req_answer = JOB_REQ_HOLD;
	ck_assert_int_eq(job_want_up(j), 0);
	run_ends(j, W_EXITCODE(0, 0));
	ck_assert_int_eq(j->state, JOB_EXITED);
	ck_assert_int_eq(job_want_up(j), 0);
	run_ends(j, W_EXITCODE(3, 0));        /* run 2 failed with 3 */
	req_answer = JOB_REQ_WAIT;
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_WAITING);
	ck_assert(!j->slot.in_slot && !j->slot.queued);
	int spawns = sys.spawns, exited = seen.events[JOB_EVENT_EXITED];
	req_answer = JOB_REQ_FAILED;
	job_handle(j, JOB_IN_REQUIREMENT);
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert_str_eq(j->run.error, "requirement svc failed");
	ck_assert_int_eq(j->want, WANT_DOWN);
	ck_assert_int_eq(sys.spawns, spawns);
	ck_assert_int_eq(seen.events[JOB_EVENT_EXITED], exited);   /* no run recorded */
	ck_assert_uint_eq(j->run.id, 2);                           /* the last run's fields stay */
	ck_assert_int_eq(j->run.exit_code, 3);
	/* a later start tries again */
	req_answer = JOB_REQ_HOLD;
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);
}
END_TEST

START_TEST(test_queued_goes_back_to_waiting)
{
	struct job *j = reach(JOB_QUEUED);   /* "batch" has no requires: asks nothing */
	ck_assert_int_eq(req_asked, 0);
	struct job *d = add("dep");
	req_answer = JOB_REQ_HOLD;
	ck_assert_int_eq(job_want_up(d), 0);
	ck_assert_int_eq(d->state, JOB_QUEUED);   /* the blocker holds the one slot */
	req_answer = JOB_REQ_WAIT;
	job_handle(d, JOB_IN_REQUIREMENT);
	ck_assert_int_eq(d->state, JOB_WAITING);
	ck_assert(!d->slot.queued);
	/* the blocker's slot goes to batch, not to the waiting job */
	run_ends(jobs[0], W_EXITCODE(0, 0));
	ck_assert_int_ge(sd_event_run(event, 0), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert_int_eq(d->state, JOB_WAITING);
}
END_TEST

START_TEST(test_failed_run_fails_whatever_its_exit)
{
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	job_fail_run(j, "watchdog timeout");
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_int_eq(sys.last_signal, SIGTERM);
	job_fail_run(j, "unhealthy");              /* the first error stays */
	run_ends(j, W_EXITCODE(0, 0));             /* it exited 0 */
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert(!j->run.success);
	ck_assert_str_eq(j->run.error, "watchdog timeout");
	ck_assert_int_eq(j->run.exit_status, 0);
	/* no run, nothing happens */
	job_fail_run(j, "late");
	ck_assert_int_eq(j->state, JOB_FAILED);
	/* a service restarts by its policy */
	struct job *s = reach(JOB_RUNNING);
	job_fail_run(s, "unhealthy");
	run_ends(s, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(s->state, JOB_BACKOFF);
}
END_TEST

START_TEST(test_ready_timeout_and_readiness_seam)
{
	struct job *j = reach(JOB_STARTING);
	ck_assert_int_eq(watched.begin, 1);
	ck_assert(!j->ready);
	ck_assert_int_eq(j->health, JOB_HEALTH_UNKNOWN);   /* it has a health_command */
	sys.now += 5 * USEC_PER_SEC;
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_str_eq(j->run.error, "not ready within 5s");
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(watched.end, 1);
	ck_assert_int_eq(j->state, JOB_BACKOFF);          /* restart = always */
	ck_assert(!j->run.success);
	/* the next run becomes ready: the event, then health checks may begin */
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STARTING);
	int ready_events = seen.events[JOB_EVENT_READY];
	job_ready(j);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert(j->ready);
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 1);
	ck_assert_int_eq(watched.up, 1);
	job_ready(j);                                     /* once per run */
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 1);
	int health_events = seen.events[JOB_EVENT_HEALTH];
	job_set_health(j, JOB_HEALTH_HEALTHY);
	job_set_health(j, JOB_HEALTH_HEALTHY);
	ck_assert_int_eq(seen.events[JOB_EVENT_HEALTH], health_events + 1);
	job_set_status_text(j, "serving");
	ck_assert_str_eq(j->status_text, "serving");
}
END_TEST

START_TEST(test_plain_job_skips_the_seams)
{
	struct job *j = reach(JOB_RUNNING);
	ck_assert(j->ready);
	ck_assert_int_eq(j->health, JOB_HEALTH_NONE);
	run_ends(j, W_EXITCODE(1, 0));
	ck_assert_int_eq(watched.begin + watched.up + watched.end, 0);
	ck_assert_int_eq(req_asked, 0);
	ck_assert(!j->ready);
}
END_TEST

START_TEST(test_timeout_while_starting)
{
	struct job *j = reach(JOB_STARTING);
	/* the run's timeout, when it comes before ready_timeout, is a timeout */
	sys.now += 10 * USEC_PER_SEC;
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(j->run.timed_out);
	ck_assert(!j->run.failed_by_supd);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->run.exit_status, 124);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("matrix");
	SRunner *sr;
	int failed;

	log_init("test-job", LOG_TARGET_STDERR, LOG_WARNING);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_matrix, 0, _JOB_STATE_MAX * _JOB_IN_MAX);
	suite_add_tcase(s, tc);

	tc = tcase_create("runs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restart_starts_again_without_stopped_event);
	tcase_add_test(tc, test_stop_ends_stopped_with_kill);
	tcase_add_test(tc, test_stopping_waits_for_scope);
	tcase_add_test(tc, test_leftovers_killed_at_run_end);
	tcase_add_test(tc, test_reload_restarts_with_new_config);
	tcase_add_test(tc, test_retired_and_shutdown_never_restart);
	tcase_add_test(tc, test_timeout_fails_the_run);
	tcase_add_test(tc, test_start_while_stopping_comes_back);
	tcase_add_test(tc, test_queue_hands_the_slot_on);
	tcase_add_test(tc, test_start_limit_goes_fatal);
	tcase_add_test(tc, test_requirement_failed_goes_fatal_without_a_run);
	tcase_add_test(tc, test_queued_goes_back_to_waiting);
	tcase_add_test(tc, test_failed_run_fails_whatever_its_exit);
	tcase_add_test(tc, test_ready_timeout_and_readiness_seam);
	tcase_add_test(tc, test_plain_job_skips_the_seams);
	tcase_add_test(tc, test_timeout_while_starting);
	suite_add_tcase(s, tc);

	tc = tcase_create("cgroup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cgroup_run_ends_when_empty);
	tcase_add_test(tc, test_cgroup_processes_left_after_kill);
	tcase_add_test(tc, test_cgroup_stop_escalates_then_abandons);
	tcase_add_test(tc, test_cgroup_oom_stop);
	tcase_add_test(tc, test_no_cgroup_as_before);
	tcase_add_test(tc, test_cgroup_spawn_failure_closes_it);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
