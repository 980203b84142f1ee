/* SPDX-License-Identifier: ISC */
/* What tests/test-job.c and tests/test-job-deps.c share: the state
 * machine (daemon/job.c) driven without processes, by a fake system
 * (spawn, signal, alive, clock, scope) and a fake host, with a fixture of
 * a few jobs and the inputs a user and the system would give. Each test
 * program includes it once. */
#pragma once

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
	bool last_notify;            /* the last spawn got a NOTIFY_SOCKET */
	uint64_t last_watchdog;      /* and this WATCHDOG_USEC */
} sys;

static char fake_cgroup;         /* its address stands for a run's cgroup; never dereferenced */

static int fake_spawn(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		      const struct spawn_fd *fds, size_t n_fds, const struct spawn_env *env, const struct scope *sc,
		      struct spawn_result *res) {
	memset(res, 0, sizeof(*res));
	sys.spawns++;
	sys.last_notify = env && env->notify_socket;
	sys.last_watchdog = env ? env->watchdog_usec : 0;
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

_unused_ static void fake_scope_close(struct scope *s, struct cgroup_usage *u) {
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

_unused_ static void host_event(struct job_host *h, struct job *j, enum job_event ev) {
	seen.events[ev]++;
	if (ev == JOB_EVENT_STATE && j->state == JOB_STOPPED)
		seen.stopped_events++;
}

_unused_ static void host_line(struct job_host *h, struct job *j, const char *line) {}
_unused_ static void host_track(struct job_host *h, pid_t pid, struct job *j) {}
_unused_ static void host_untrack(struct job_host *h, pid_t pid) {}
static uint64_t host_run_id(struct job_host *h) { return ++seen.run_id; }

/* What the fake host says of requirements (requires.c's part). */
static enum job_requires req_answer;
static int req_asked;

static enum job_requires host_requirements(struct job_host *h, struct job *j, const char **failed) {
	req_asked++;
	*failed = "svc";
	return req_answer;
}

static struct { int prepare, begin, up, end; } watched;
static int host_run_prepare(struct job_host *h, struct job *j, struct job_spawn_extra *x, char **error) {
	watched.prepare++;
	if (j->config->ready.kind == READY_NOTIFY) {
		x->env.notify_socket = "/run/test/notify/1";
		x->env.watchdog_usec = j->config->watchdog;
	}
	return 0;
}
_unused_ static void host_run_begin(struct job_host *h, struct job *j) { watched.begin++; }
_unused_ static void host_run_up(struct job_host *h, struct job *j) { watched.up++; }
_unused_ static void host_run_end(struct job_host *h, struct job *j) { watched.end++; }

static const struct job_host_ops host_ops = {
	.event = host_event, .line = host_line, .track_pid = host_track,
	.untrack_pid = host_untrack, .next_run_id = host_run_id,
	.requirements = host_requirements,
	.run_prepare = host_run_prepare, .run_begin = host_run_begin, .run_up = host_run_up, .run_end = host_run_end,
};

/* ---- fixture: a host with a queue of one slot, a service and batch jobs ---- */

static sd_event *event;
static struct job_host host;
static struct supd_config *conf, *conf2;   /* conf2: every job changed */
static struct job *jobs[16];
static size_t n_jobs;

_unused_ static struct supd_config *load(const char *text) {
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

_unused_ static void setup(void) {
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

_unused_ static void teardown(void) {
	for (size_t i = 0; i < n_jobs; i++)
		job_free(jobs[i]);
	runqueue_done(&host.queue);
	config_free(conf);
	config_free(conf2);
	sd_event_unref(event);
}

_unused_ static struct job *add(const char *name) {
	struct job *j = job_new(&host, name, config_find_job(conf, name));
	host.counts[JOB_STOPPED]++;
	jobs[n_jobs++] = j;
	return j;
}

/* Every process of j's run ends with wait status ws. */
_unused_ static void run_ends(struct job *j, int ws) {
	sys.alive = false;
	for (size_t i = 0; i < j->run.n_stages; i++)
		job_stage_exited(j, i, ws, NULL);
	sys.alive = true;
}

/* A job in state s, by the inputs a user and the system would give. */
_unused_ static struct job *reach(enum job_state s) {
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
_unused_ static void grant(struct job *j) {
	runqueue_remove(&host.queue, &j->slot);
	if (!j->slot.in_slot) {
		j->slot.in_slot = true;
		host.queue.in_use++;
	}
	job_slot_granted(&j->slot, NULL);
}

_unused_ static void deliver(struct job *j, enum job_input in) {
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
	case JOB_IN_STOPPING: job_stopping(j); break;
	default: ck_abort();
	}
}

