/* SPDX-License-Identifier: ISC */
/* The job object and its state machine (the table is in job.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include "job.h"
#include "joblog.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "secret.h"
#include "startlimit.h"

static usec_t job_now(const struct job *j, clockid_t clock) {
	return j->host->sys->now(clock);
}

struct job *job_new(struct job_host *h, const char *name, struct job_config *jc) {
	struct job *j = xcalloc(1, sizeof(*j));
	const char *at = strchr(name, '@');

	j->name = xstrdup(name);
	j->instance = at ? j->name + (at - name) + 1 : "";
	j->config = job_config_ref(jc);
	j->host = h;
	j->state = JOB_STOPPED;
	j->want = WANT_DOWN;
	j->state_since_wall = job_now(j, CLOCK_REALTIME);
	j->check_output_fd = -1;
	run_clear(&j->run);
	return j;
}

void job_free(struct job *j) {
	if (!j)
		return;
	runqueue_remove(&j->host->queue, &j->slot);
	runqueue_release(&j->host->queue, &j->slot);
	sd_event_source_disable_unref(j->timer);
	if ((j->readiness || j->checks) && j->host->ops->run_end)
		j->host->ops->run_end(j->host, j);   /* supd exits during a run: its socket, checks */
	if (j->scope.cgroup) {   /* supd exits with processes left in it */
		struct cgroup_usage u;
		j->host->sys->scope_close(&j->scope, &u);
	}
	if (j->check_output_fd >= 0)
		close(j->check_output_fd);
	joblog_free(j->log);
	secret_feed_free(j->secrets);
	run_clear(&j->run);
	free(j->status_text);
	job_config_unref(j->config);
	job_config_unref(j->pending_config);
	free(j->start_times);
	free(j->name);
	free(j);
}

static void job_set_config(struct job *j, struct job_config *jc) {
	struct job_config *old = j->config;
	bool same = job_config_equal(old, jc);
	j->config = job_config_ref(jc);
	job_config_unref(old);
	if (same)
		return;
	/* start_limit may have changed: forget the start history */
	free(j->start_times);
	j->start_times = NULL;
	j->n_start_times = 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Arm the job's single timer `delay` from now, or disarm it (USEC_INFINITY). */
static void job_arm_timer(struct job *j, usec_t delay) {
	int r;

	if (delay == USEC_INFINITY) {
		if (j->timer)
			(void) sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
		return;
	}
	usec_t when = job_now(j, CLOCK_MONOTONIC) + delay;
	if (!j->timer) {
		/* accuracy 1us: 0 would mean sd-event's default of 250ms, and a
		 * timeout or stop_timeout must fire when it says */
		r = sd_event_add_time(j->host->event, &j->timer, CLOCK_MONOTONIC, when, 1, on_timer, j);
		if (r < 0)
			fatalx("cannot add a timer for %s: %s", j->name, strerror(-r));
		return;
	}
	r = sd_event_source_set_time(j->timer, when);
	if (r >= 0)
		r = sd_event_source_set_enabled(j->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		fatalx("cannot arm the timer of %s: %s", j->name, strerror(-r));
}

/* What is left of a limit counted from the start of the run
 * (started_mono, taken before the spawn), not from when the spawn
 * returned, or every timed-out run would last the spawn time longer. */
static usec_t time_left(const struct job *j, usec_t limit) {
	usec_t spent;

	if (limit == 0)
		return USEC_INFINITY;
	spent = job_now(j, CLOCK_MONOTONIC) - j->run.started_mono;
	return limit > spent ? limit - spent : 0;
}

static usec_t run_time_left(const struct job *j) {
	return time_left(j, j->config->timeout);
}

/* While starting, the one timer is the earlier of ready_timeout (as
 * EXTEND_TIMEOUT_USEC may have moved it) and timeout. */
static usec_t starting_time_left(const struct job *j) {
	usec_t now = job_now(j, CLOCK_MONOTONIC), run = run_time_left(j);
	usec_t ready = j->ready_deadline == USEC_INFINITY ? USEC_INFINITY
		       : j->ready_deadline > now ? j->ready_deadline - now : 0;
	return ready < run ? ready : run;
}

/* Readiness or health needs the host's watching (job_host_ops run_*). */
static bool job_watched(const struct job *j) {
	return j->config->ready.kind != READY_SPAWN || j->config->health_command;
}

static void emit(struct job *j, enum job_event ev) {
	j->host->ops->event(j->host, j, ev);
}

/* The one place a job's state changes. A run that just began or ended is
 * announced ("started"; "exited", which also records it in the history)
 * with its new state already set, before the state change that wakes up
 * waiters. */
static void job_transition(struct job *j, enum job_state new_state, usec_t timer_delay, bool announce) {
	enum job_state old = j->state;

	job_arm_timer(j, timer_delay);
	if (old == new_state && !j->run_unreported && !j->start_unreported)
		return;
	j->state = new_state;
	j->state_since_wall = job_now(j, CLOCK_REALTIME);
	if (new_state != JOB_QUEUED)
		runqueue_remove(&j->host->queue, &j->slot);
	log_debug("%s: %s -> %s", j->name, job_state_to_string(old), job_state_to_string(new_state));
	j->host->counts[old]--;
	j->host->counts[new_state]++;
	if (j->start_unreported) {
		j->start_unreported = false;
		emit(j, JOB_EVENT_STARTED);
	}
	if (j->run_unreported) {
		j->run_unreported = false;
		emit(j, JOB_EVENT_EXITED);
	}
	if (announce)
		emit(j, JOB_EVENT_STATE);
}

static void job_set_state(struct job *j, enum job_state new_state, usec_t timer_delay) {
	job_transition(j, new_state, timer_delay, true);
}

/* A stop request to every process of the run. */
static void signal_run(struct job *j, int sig) {
	int r = j->host->sys->signal(&j->scope, sig, true);
	if (r < 0 && r != -ESRCH)
		log_warnx("%s: cannot send %s to its run: %s", j->name,
			  signal_name(sig) ? signal_name(sig) : "?", strerror(-r));
}

static void note_start(struct job *j, usec_t now) {
	startlimit_note(&j->start_times, &j->n_start_times, j->config->start_limit_burst,
			j->config->start_limit_interval, now);
}

static unsigned starts_in_window(const struct job *j, usec_t now) {
	return startlimit_count(j->start_times, j->n_start_times, j->config->start_limit_interval, now);
}

static void on_log_line(void *userdata, const char *line) {
	struct job *j = userdata;
	j->host->ops->line(j->host, j, line);
}

/* A pipe for stdout/stderr = log, or -1 (output then goes to supd's own). */
static int open_capture(struct job *j) {
	int fd = -1;

	if (j->config->stdout_spec.kind != OUTPUT_LOG && j->config->stderr_spec.kind != OUTPUT_LOG)
		return -1;
	if (!j->log)
		j->log = joblog_new(j->name, j->host->log_dir, j->config->log_lines, on_log_line, j);
	int r = joblog_open_run(j->log, j->host->event, &fd);
	if (r < 0)
		log_warnx("%s: cannot capture output (%s), using supd's own", j->name, strerror(-r));
	return fd;
}

static void on_scope_changed(void *userdata);
static void on_scope_oom(void *userdata);
static const struct cgroup_run_events scope_events = { .changed = on_scope_changed, .oom = on_scope_oom };

/* Spawn a run now (a slot, if needed, is already held). */
static void job_spawn(struct job *j) {
	struct spawn_result res;
	struct run *run = &j->run;
	usec_t now = job_now(j, CLOCK_MONOTONIC);

	if (run->active)
		fatalx("BUG: %s: spawning while run %" PRIu64 " is active", j->name, run->id);
	run_clear(run);
	run->id = j->host->ops->next_run_id(j->host);
	run->started_wall = job_now(j, CLOCK_REALTIME);
	run->started_mono = now;
	j->kill_sent = false;
	j->stop_by_user = false;
	j->ready = false;
	j->health = j->config->health_command ? JOB_HEALTH_UNKNOWN : JOB_HEALTH_NONE;
	j->ready_deadline = j->config->ready_timeout ? now + j->config->ready_timeout : USEC_INFINITY;
	if (j->status_text)
		job_set_status_text(j, NULL);
	note_start(j, now);

	/* the run's cgroup first: a key it cannot apply fails the spawn */
	char *error = NULL;
	bool watched = job_watched(j) && j->host->ops->run_prepare;
	struct job_spawn_extra x = { .n_fds = 0 };
	int r = j->host->sys->scope_open(&j->scope, j->host->cgroups, j->name, run->id, j->config, &scope_events, j,
					 &error);
	if (r >= 0 && watched && (r = j->host->ops->run_prepare(j->host, j, &x, &error)) < 0)
		j->host->sys->scope_close(&j->scope, &(struct cgroup_usage) { 0 });
	if (r < 0) {
		res = (struct spawn_result) { .error = error, .exit_status = 126 };
	} else {
		int capture_fd = open_capture(j);
		r = j->host->sys->spawn(j->config, j->name, j->instance, capture_fd, x.fds, x.n_fds, &x.env, &j->scope,
					&res);
		/* checks write to the run's log too (SPEC §7) */
		if (r >= 0 && capture_fd >= 0 && (j->config->health_command || j->config->ready.kind == READY_COMMAND))
			j->check_output_fd = fcntl(capture_fd, F_DUPFD_CLOEXEC, 3);
		if (capture_fd >= 0)
			close(capture_fd);
		if (r < 0) {   /* nothing of it may stay: a stage may have forked before a later one failed */
			struct cgroup_usage u;
			if (scope_waits(&j->scope))
				(void) j->host->sys->signal(&j->scope, SIGKILL, false);
			j->host->sys->scope_close(&j->scope, &u);
		}
	}
	if (r < 0) {
		run->ended_wall = run->started_wall;
		run->ended_mono = run->started_mono;
		run->error = TAKE_PTR(res.error);
		run->exit_status = res.exit_status;
		spawn_result_free(&res);
		log_job(LOG_ERR, j->name, run->id, -1, -1, "cannot start: %s", run->error);
		if (watched && j->host->ops->run_end)
			j->host->ops->run_end(j->host, j);
		joblog_drain(j->log);
		runqueue_release(&j->host->queue, &j->slot);
		j->run_unreported = true;
		j->want = WANT_DOWN;
		job_set_state(j, JOB_FATAL, USEC_INFINITY);
		return;
	}
	j->scope.pgid = res.pgid;
	run->active = true;
	j->host->n_active++;
	run->n_stages = run->n_alive = res.n_stages;
	run->stages = xcalloc(res.n_stages, sizeof(struct stage));
	for (size_t i = 0; i < res.n_stages; i++) {
		run->stages[i] = (struct stage) { .argv0 = xstrdup(res.argv0[i]), .pid = res.pids[i], .exit_code = -1 };
		j->host->ops->track_pid(j->host, res.pids[i], j);
	}
	/* what the secret pipes did not take before the exec; a job must
	 * never go on with half a secret */
	j->secrets = TAKE_PTR(res.secrets);
	if (j->secrets && (r = secret_feed_start(j->secrets, j->host->event)) < 0) {
		log_job(LOG_ERR, j->name, run->id, -1, -1, "cannot write its secrets: %s, killing run %" PRIu64,
			strerror(-r), run->id);
		signal_run(j, SIGKILL);
	}
	spawn_result_free(&res);
	log_job(LOG_INFO, j->name, run->id, -1, -1, "started run %" PRIu64 " (pid %d)", run->id, (int) j->scope.pgid);
	j->start_unreported = true;
	if (j->config->ready.kind != READY_SPAWN) {
		job_set_state(j, JOB_STARTING, starting_time_left(j));
		if (j->host->ops->run_begin && j->state == JOB_STARTING)
			j->host->ops->run_begin(j->host, j);
		return;
	}
	j->ready = true;
	job_set_state(j, JOB_RUNNING, run_time_left(j));
	if (j->config->health_command && j->state == JOB_RUNNING) {
		if (j->host->ops->run_begin)
			j->host->ops->run_begin(j->host, j);
		if (j->host->ops->run_up && j->state == JOB_RUNNING)
			j->host->ops->run_up(j->host, j);
	}
}

/* A requirement reached a final state that cannot meet its condition:
 * fatal without a run; the last run's fields stay, error says why. */
static void requirement_failed(struct job *j, const char *name) {
	free(j->run.error);
	j->run.error = xasprintf("requirement %s failed", name ? name : "?");
	log_job(LOG_ERR, j->name, j->run.id, -1, -1, "%s, not starting", j->run.error);
	j->want = WANT_DOWN;
	job_set_state(j, JOB_FATAL, USEC_INFINITY);
}

/* Whether a run may begin now: its requirements hold (else the job is
 * waiting, or fatal). Jobs without requires = never ask. */
static bool requirements_hold(struct job *j) {
	const char *failed = NULL;

	if (j->config->n_requires == 0 || !j->host->ops->requirements)
		return true;
	switch (j->host->ops->requirements(j->host, j, &failed)) {
	case JOB_REQ_HOLD:
		return true;
	case JOB_REQ_FAILED:
		requirement_failed(j, failed);
		return false;
	case JOB_REQ_WAIT:
	default:
		job_set_state(j, JOB_WAITING, USEC_INFINITY);
		return false;
	}
}

/* Spawn now, or wait in the queue for a max_parallel slot; first, for
 * its requirements. */
static void job_start_run(struct job *j) {
	if (!requirements_hold(j))
		return;
	if (job_is_batch(j) && !runqueue_acquire(&j->host->queue, &j->slot)) {
		job_set_state(j, JOB_QUEUED, USEC_INFINITY);
		return;
	}
	job_spawn(j);
}

/* ---- the actions of the table in job.h ---- */

static void act_none(struct job *j) {
	(void) j;
}

static void act_launch(struct job *j) {
	/* a user's start forgets earlier failures */
	j->backoff_delay = 0;
	j->n_start_times = 0;
	job_start_run(j);
}

static void act_spawn(struct job *j) {
	job_spawn(j);
}

static void act_cancel(struct job *j) {
	j->stop_by_user = true;
	job_set_state(j, JOB_STOPPED, USEC_INFINITY);
}

static void act_relaunch(struct job *j) {
	act_cancel(j);
	act_launch(j);
}

static void act_stop(struct job *j) {
	j->stop_by_user = true;
	signal_run(j, j->config->stop_signal);
	job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
}

static void act_mark(struct job *j) {
	j->stop_by_user = true;
}

static void act_return_slot(struct job *j) {
	runqueue_release(&j->host->queue, &j->slot);
}

static void act_apply(struct job *j) {
	if (j->pending_config) {
		struct job_config *jc = TAKE_PTR(j->pending_config);
		job_set_config(j, jc);
		job_config_unref(jc);
	}
}

static void act_timeout(struct job *j) {
	_cleanup_free_ char *t = format_duration(j->config->timeout);
	log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "timed out after %s, stopping", t);
	j->run.timed_out = true;
	signal_run(j, j->config->stop_signal);
	job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
}

static void act_abandon(struct job *j);

static void act_kill(struct job *j) {
	if (j->kill_sent && scope_waits(&j->scope)) {
		act_abandon(j);   /* stop_timeout after the SIGKILL */
		return;
	}
	log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "still running after stop_timeout, sending KILL");
	j->kill_sent = true;
	signal_run(j, SIGKILL);
	/* a cgroup says when it is empty: give it stop_timeout for that */
	if (scope_waits(&j->scope))
		job_arm_timer(j, j->config->stop_timeout);
	/* members the kernel has not let go of (zombies of a parent that left
	 * the group) must not keep the stop pending forever */
	job_recheck_scope(j);
}

/* The run is ready: up. */
static void act_up(struct job *j) {
	j->ready = true;
	job_set_state(j, JOB_RUNNING, run_time_left(j));
	emit(j, JOB_EVENT_READY);
	if (j->host->ops->run_up && j->state == JOB_RUNNING)
		j->host->ops->run_up(j->host, j);
}

/* STOPPING=1: the run is on its way out by itself; stop_timeout from now. */
static void act_itself(struct job *j) {
	log_job(LOG_INFO, j->name, j->run.id, -1, -1, "run %" PRIu64 " is stopping (STOPPING=1)", j->run.id);
	job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
}

/* Supd ends the run as failed (job_fail_run() set the error): stopped as
 * a stop would, but not by the user, so the restart policy applies. */
static void act_fail(struct job *j) {
	log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "%s, stopping run %" PRIu64, j->run.error, j->run.id);
	signal_run(j, j->config->stop_signal);
	job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
}

/* The timer while starting: ready_timeout, or the run's timeout first. */
static void act_not_ready(struct job *j) {
	if (j->config->timeout && run_time_left(j) == 0) {
		act_timeout(j);
		return;
	}
	_cleanup_free_ char *d = format_duration_setting(j->config->ready_timeout);
	_cleanup_free_ char *error = xasprintf("not ready within %s", d);
	job_fail_run(j, error);
}

/* Requirements again, for a waiting or queued job (and a reload's config). */
static void act_recheck(struct job *j) {
	const char *failed = NULL;
	enum job_requires r = JOB_REQ_HOLD;

	act_apply(j);
	if (j->config->n_requires && j->host->ops->requirements)
		r = j->host->ops->requirements(j->host, j, &failed);
	if (r == JOB_REQ_FAILED)
		requirement_failed(j, failed);
	else if (r == JOB_REQ_WAIT)
		job_set_state(j, JOB_WAITING, USEC_INFINITY);
	else if (j->state == JOB_WAITING)
		job_start_run(j);
}

static void act_retry(struct job *j) {
	j->restarts++;
	job_start_run(j);   /* a reload may have made it a batch job: take a slot */
}

/* Every process of the run is gone: record it and decide what is next. */
static void act_finish(struct job *j) {
	struct run *run = &j->run;
	struct cgroup_usage u;

	/* the cgroup counted every process of the run, reaped or not */
	j->host->sys->scope_close(&j->scope, &u);
	if (u.cpu) {
		run->cpu_user = u.cpu_user;
		run->cpu_sys = u.cpu_sys;
	}
	run->memory_peak_kb = u.memory_peak_kb;
	run->oom_killed = u.oom_killed;
	run_conclude(run, j->config, job_now(j, CLOCK_REALTIME), job_now(j, CLOCK_MONOTONIC));
	j->host->n_active--;
	j->ready = false;
	if (job_watched(j) && j->host->ops->run_end)
		j->host->ops->run_end(j->host, j);
	if (j->check_output_fd >= 0) {
		close(j->check_output_fd);
		j->check_output_fd = -1;
	}
	secret_feed_free(TAKE_PTR(j->secrets));
	joblog_drain(j->log);   /* the output is in `logs` before anyone hears of the end */
	run_log_end(&j->run, j->name);
	j->run_unreported = true;
	runqueue_release(&j->host->queue, &j->slot);
	act_apply(j);

	usec_t now = job_now(j, CLOCK_MONOTONIC);
	struct policy_input in = {
		.stop_requested = j->stop_by_user,
		.shutting_down = j->host->shutting_down,
		.removed = j->removed,
		.want_up = j->want == WANT_UP,
		.success = run->success,
		.run_duration = run->ended_mono - run->started_mono,
		.prev_delay = j->backoff_delay,
		.starts_in_window = starts_in_window(j, now),
	};
	struct policy_result pr = policy_decide(j->config, &in);
	switch (pr.action) {
	case POLICY_STOPPED:
		job_set_state(j, JOB_STOPPED, USEC_INFINITY);
		break;
	case POLICY_RESTART_NOW:
		/* started again while it was stopping (restart, reload): the
		 * ended run is recorded as stopped, then the next one begins;
		 * waiters are not told of a "stopped" in between */
		job_transition(j, JOB_STOPPED, USEC_INFINITY, false);
		job_start_run(j);
		break;
	case POLICY_BACKOFF:
		j->backoff_delay = pr.delay;
		job_set_state(j, JOB_BACKOFF, pr.delay);
		break;
	case POLICY_FATAL: {
		_cleanup_free_ char *window = format_duration(j->config->start_limit_interval);
		free(run->error);
		run->error = xasprintf("start limit hit: %u starts within %s", j->config->start_limit_burst, window);
		log_job(LOG_ERR, j->name, run->id, -1, -1, "%s, giving up", run->error);
		j->want = WANT_DOWN;
		job_set_state(j, JOB_FATAL, USEC_INFINITY);
		break;
	}
	case POLICY_EXITED:
	case POLICY_FAILED:
		j->want = WANT_DOWN;
		job_set_state(j, pr.action == POLICY_EXITED ? JOB_EXITED : JOB_FAILED, USEC_INFINITY);
		break;
	}
}

/* stop_timeout after the SIGKILL, the run's cgroup still holds processes
 * (uninterruptible sleep: a dead NFS server, a stuck device). The run ends
 * failed; its cgroup is kept and swept once empty, and the job cannot
 * start again until then (cgroup.h). */
static void act_abandon(struct job *j) {
	struct run *run = &j->run;

	log_job(LOG_ERR, j->name, run->id, -1, -1, "processes left after SIGKILL: ending run %" PRIu64
		" (its cgroup is kept until they are gone)", run->id);
	free(run->error);
	run->error = xstrdup("processes left after SIGKILL");
	run->failed_by_supd = true;
	for (size_t i = 0; i < run->n_stages; i++)
		if (!run->stages[i].done) {
			j->host->ops->untrack_pid(j->host, run->stages[i].pid);
			(void) run_stage_ended(run, i, SIGKILL, NULL);   /* the wait status of a SIGKILL death */
		}
	act_finish(j);
}

typedef void (*job_action)(struct job *j);

#define FINAL_ROW { \
	act_launch, act_none, act_launch, act_return_slot, act_none, act_none, act_apply, act_none, act_none, \
	act_none, act_none, act_none, act_none }

/* The table of job.h, cell by cell; tests/test-job.c walks every cell. */
static const job_action matrix[_JOB_STATE_MAX][_JOB_IN_MAX] = {
	/*              START     STOP        RESTART       SLOT             EXITED      TIMER          RELOAD        RETIRE      SHUTDOWN    READY     REQUIREMENT  FAIL  STOPPING */
	[JOB_STOPPED] = FINAL_ROW,
	[JOB_QUEUED] = { act_none, act_cancel, act_relaunch, act_spawn, act_none, act_none, act_recheck, act_cancel, act_cancel, act_none, act_recheck, act_none, act_none },
	[JOB_WAITING] = { act_none, act_cancel, act_relaunch, act_return_slot, act_none, act_none, act_recheck, act_cancel, act_cancel, act_none, act_recheck, act_none, act_none },
	[JOB_STARTING] = { act_none, act_stop, act_stop, act_return_slot, act_finish, act_not_ready, act_stop, act_stop, act_stop, act_up, act_none, act_fail, act_itself },
	[JOB_RUNNING] = { act_none, act_stop, act_stop, act_return_slot, act_finish, act_timeout, act_stop, act_stop, act_stop, act_none, act_none, act_fail, act_itself },
	[JOB_STOPPING] = { act_none, act_mark, act_mark, act_return_slot, act_finish, act_kill, act_mark, act_mark, act_none, act_none, act_none, act_none, act_none },
	[JOB_BACKOFF] = { act_none, act_cancel, act_relaunch, act_return_slot, act_none, act_retry, act_apply, act_cancel, act_cancel, act_none, act_none, act_none, act_none },
	[JOB_EXITED] = FINAL_ROW,
	[JOB_FAILED] = FINAL_ROW,
	[JOB_FATAL] = FINAL_ROW,
};

void job_handle(struct job *j, enum job_input in) {
	if (j->state >= _JOB_STATE_MAX || in >= _JOB_IN_MAX)
		fatalx("BUG: %s: no state machine cell for %d x %d", j->name, (int) j->state, (int) in);
	log_debug("%s: %s in %s", j->name, job_input_to_string(in), job_state_to_string(j->state));
	matrix[j->state][in](j);
}

void job_restore_state(struct job *j, enum job_state st) {
	if (j->state != JOB_STOPPED || j->run.active || !job_state_is_final(st))
		fatalx("BUG: %s: restoring %s over %s", j->name, job_state_to_string(st), job_state_to_string(j->state));
	job_transition(j, st, USEC_INFINITY, false);
	j->state_since_wall = j->run.ended_wall;
}

/* ---- the verbs ---- */

int job_want_up(struct job *j) {
	if (j->removed)
		return -ESTALE;
	if (j->host->shutting_down)
		return -ESHUTDOWN;
	j->want = WANT_UP;
	job_handle(j, JOB_IN_START);
	return 0;
}

void job_want_down(struct job *j) {
	j->want = WANT_DOWN;
	job_handle(j, JOB_IN_STOP);
}

int job_restart(struct job *j) {
	if (j->removed)
		return -ESTALE;
	if (j->host->shutting_down)
		return -ESHUTDOWN;
	j->want = WANT_UP;
	job_handle(j, JOB_IN_RESTART);
	return 0;
}

bool job_reconfigure(struct job *j, struct job_config *jc) {
	if (job_config_equal(j->config, jc)) {
		job_set_config(j, jc);   /* same settings; only file and line moved */
		return false;
	}
	if (job_config_equal_run(j->config, jc) && !j->pending_config) {
		job_set_config(j, jc);   /* requires: at the next start (SPEC §7) */
		return true;
	}
	job_config_unref(j->pending_config);
	j->pending_config = job_config_ref(jc);
	job_handle(j, JOB_IN_RELOAD);   /* want stays: a job wanted up starts again */
	return true;
}

void job_retire(struct job *j) {
	j->removed = true;
	j->want = WANT_DOWN;
	job_handle(j, JOB_IN_RETIRE);
}

void job_shutdown(struct job *j) {
	j->want = WANT_DOWN;
	job_handle(j, JOB_IN_SHUTDOWN);
}

int job_send_signal(struct job *j, int sig) {
	if (!job_is_active(j))
		return -ESRCH;
	return j->host->sys->signal(&j->scope, sig, false);
}

void job_ready(struct job *j) {
	job_handle(j, JOB_IN_READY);
}

void job_fail_run(struct job *j, const char *error) {
	if (!j->run.active)
		return;
	if (!j->run.failed_by_supd) {
		free(j->run.error);
		j->run.error = xstrdup(error);
		j->run.failed_by_supd = true;
	}
	job_handle(j, JOB_IN_FAIL);
}

void job_set_health(struct job *j, enum job_health h) {
	if (j->health == h)
		return;
	j->health = h;
	emit(j, JOB_EVENT_HEALTH);
}

void job_set_status_text(struct job *j, const char *text) {
	free(j->status_text);
	j->status_text = text ? xstrdup(text) : NULL;
}

void job_stopping(struct job *j) {
	job_handle(j, JOB_IN_STOPPING);
}

void job_set_reloading(struct job *j, bool reloading) {
	if (j->state != JOB_RUNNING || j->ready == !reloading)
		return;
	j->ready = !reloading;
	emit(j, JOB_EVENT_READY);
}

bool job_extend_deadline(struct job *j, usec_t usec) {
	usec_t now = job_now(j, CLOCK_MONOTONIC);
	usec_t when = usec > USEC_INFINITY - 1 - now ? USEC_INFINITY - 1 : now + usec;
	uint64_t armed;

	if (j->state == JOB_STARTING) {
		if (j->ready_deadline == USEC_INFINITY || j->ready_deadline >= when)
			return true;
		j->ready_deadline = when;
		job_arm_timer(j, starting_time_left(j));
		return true;
	}
	if (j->state != JOB_STOPPING || !j->timer || sd_event_source_get_time(j->timer, &armed) < 0 || armed >= when)
		return j->state == JOB_STOPPING;
	job_arm_timer(j, when - now);
	return true;
}

void job_slot_granted(struct runqueue_entry *e, void *userdata) {
	struct job *j = (struct job *) ((char *) e - offsetof(struct job, slot));
	(void) userdata;
	job_handle(j, JOB_IN_SLOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	job_handle(userdata, JOB_IN_TIMER);
	return 0;
}

/* Tracked stages are done; stragglers left in the scope are killed so a
 * run never leaks processes. While stopping, the stop ends only when the
 * whole scope is gone (orphans' exits re-check, see the reaper). */
static void job_maybe_finish(struct job *j) {
	if (j->run.n_alive > 0)
		return;
	if (j->host->sys->alive(&j->scope)) {
		if (scope_waits(&j->scope)) {
			/* a cgroup: the run ends once it is empty (on_scope_changed),
			 * or stop_timeout after the SIGKILL with processes left */
			if (j->state != JOB_STOPPING) {
				log_debug("%s: killing processes left in its cgroup", j->name);
				j->kill_sent = true;
				signal_run(j, SIGKILL);
				job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
			}
			return;
		}
		if (j->state != JOB_STOPPING) {
			log_debug("%s: killing processes left in its run", j->name);
			signal_run(j, SIGKILL);
		}
		if (j->state == JOB_STOPPING && !j->kill_sent)
			return;   /* stop_timeout escalates */
	}
	job_handle(j, JOB_IN_EXITED);
}

void job_stage_exited(struct job *j, size_t idx, int status, const struct rusage *ru) {
	if (!run_stage_ended(&j->run, idx, status, ru))
		return;
	j->host->ops->untrack_pid(j->host, j->run.stages[idx].pid);
	job_maybe_finish(j);
}

void job_recheck_scope(struct job *j) {
	if (j->run.active && j->run.n_alive == 0)
		job_maybe_finish(j);
}

/* The run's cgroup.events changed: it may be empty now. */
static void on_scope_changed(void *userdata) {
	job_recheck_scope(userdata);
}

/* oom_policy = stop: the OOM killer killed a process of the run, so the
 * rest of it is stopped as a timeout would (stop_signal, then SIGKILL),
 * and the run fails with an error. */
static void on_scope_oom(void *userdata) {
	struct job *j = userdata;

	if (j->state != JOB_RUNNING)
		return;
	log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "the OOM killer killed a process of run %" PRIu64
		"; stopping it (oom_policy = stop)", j->run.id);
	free(j->run.error);
	j->run.error = xstrdup("out of memory: the OOM killer killed a process (oom_policy = stop)");
	signal_run(j, j->config->stop_signal);
	job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
}
