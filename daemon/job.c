/* The job object and its state machine (the table is in job.h). */
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include "job.h"
#include "joblog.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "spawn.h"
#include "supervisor.h"

static const char *const state_names[_JOB_STATE_MAX] = {
	[JOB_STOPPED] = "stopped",
	[JOB_QUEUED] = "queued",
	[JOB_RUNNING] = "running",
	[JOB_STOPPING] = "stopping",
	[JOB_BACKOFF] = "backoff",
	[JOB_EXITED] = "exited",
	[JOB_FAILED] = "failed",
	[JOB_FATAL] = "fatal",
};

const char *job_state_to_string(enum job_state s) {
	return s < _JOB_STATE_MAX ? state_names[s] : "unknown";
}

bool job_state_is_final(enum job_state s) {
	return s == JOB_STOPPED || s == JOB_EXITED || s == JOB_FAILED || s == JOB_FATAL;
}

bool job_is_active(const struct job *j) {
	return j->run.active;
}

bool job_is_batch(const struct job *j) {
	return j->config->restart == RESTART_NO;
}

static void run_clear(struct run *r) {
	for (size_t i = 0; i < r->n_stages; i++)
		free(r->stages[i].argv0);
	free(r->stages);
	free(r->error);
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	r->exit_status = -1;
}

struct job *job_new(struct supervisor *sup, const char *name, struct job_config *jc) {
	struct job *j = xcalloc(1, sizeof(*j));
	const char *at = strchr(name, '@');

	j->name = xstrdup(name);
	j->instance = at ? j->name + (at - name) + 1 : "";
	j->config = job_config_ref(jc);
	j->sup = sup;
	j->state = JOB_STOPPED;
	j->want = WANT_DOWN;
	j->state_since_wall = now_usec(CLOCK_REALTIME);
	j->run.exit_code = -1;
	j->run.exit_status = -1;
	return j;
}

void job_free(struct job *j) {
	if (!j)
		return;
	sd_event_source_disable_unref(j->timer);
	joblog_free(j->log);
	run_clear(&j->run);
	job_config_unref(j->config);
	job_config_unref(j->pending_config);
	free(j->start_times);
	free(j->name);
	free(j);
}

void job_set_config(struct job *j, struct job_config *jc) {
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
	usec_t when = now_usec(CLOCK_MONOTONIC) + delay;
	if (!j->timer) {
		/* accuracy 1us: 0 would mean sd-event's default of 250ms, and a
		 * timeout or stop_timeout must fire when it says */
		r = sd_event_add_time(j->sup->event, &j->timer, CLOCK_MONOTONIC, when, 1, on_timer, j);
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

/* What is left of the run's timeout: it counts from the start of the run
 * (started_mono, taken before the spawn), not from when the spawn
 * returned, or every timed-out run would last the spawn time longer. */
static usec_t run_time_left(const struct job *j) {
	usec_t timeout = j->config->timeout, spent;

	if (timeout == 0)
		return USEC_INFINITY;
	spent = now_usec(CLOCK_MONOTONIC) - j->run.started_mono;
	return timeout > spent ? timeout - spent : 0;
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
	j->state_since_wall = now_usec(CLOCK_REALTIME);
	if (new_state != JOB_QUEUED && j->in_queue)
		supervisor_dequeue(j->sup, j);
	log_debug("%s: %s -> %s", j->name, job_state_to_string(old), job_state_to_string(new_state));
	j->sup->counts[old]--;
	j->sup->counts[new_state]++;
	if (j->start_unreported) {
		j->start_unreported = false;
		supervisor_job_changed(j->sup, j, JOB_EVENT_STARTED);
	}
	if (j->run_unreported) {
		j->run_unreported = false;
		supervisor_job_changed(j->sup, j, JOB_EVENT_EXITED);
	}
	if (announce)
		supervisor_job_changed(j->sup, j, JOB_EVENT_STATE);
}

static void job_set_state(struct job *j, enum job_state new_state, usec_t timer_delay) {
	job_transition(j, new_state, timer_delay, true);
}

static void signal_group(struct job *j, int sig) {
	if (j->pgid <= 0)
		return;
	if (kill(-j->pgid, sig) < 0 && errno != ESRCH)
		log_warn("%s: kill(-%d, %s)", j->name, (int) j->pgid, signal_name(sig) ? signal_name(sig) : "?");
	if (sig != SIGKILL && sig != SIGCONT)
		(void) kill(-j->pgid, SIGCONT);   /* a stopped process must see the signal */
}

static bool group_alive(const struct job *j) {
	return j->pgid > 0 && kill(-j->pgid, 0) == 0;
}

/* Remember this start for start_limit; keep only those inside the window. */
static unsigned note_start(struct job *j, usec_t now) {
	const struct job_config *jc = j->config;
	unsigned n = 0;

	if (jc->start_limit_burst == 0)
		return 0;
	if (!j->start_times)
		j->start_times = xcalloc(jc->start_limit_burst + 1, sizeof(usec_t));
	for (unsigned i = 0; i < j->n_start_times; i++)
		if (now - j->start_times[i] < jc->start_limit_interval)
			j->start_times[n++] = j->start_times[i];
	if (n > jc->start_limit_burst)
		n = jc->start_limit_burst;     /* keep the newest burst entries */
	if (n == jc->start_limit_burst) {
		memmove(j->start_times, j->start_times + 1, (n - 1) * sizeof(usec_t));
		n--;
	}
	j->start_times[n++] = now;
	j->n_start_times = n;
	return n;
}

static unsigned starts_in_window(const struct job *j, usec_t now) {
	unsigned n = 0;
	for (unsigned i = 0; i < j->n_start_times; i++)
		if (now - j->start_times[i] < j->config->start_limit_interval)
			n++;
	return n;
}

/* Spawn a run now (a slot, if needed, is already held). */
static void job_spawn(struct job *j) {
	struct spawn_result res;
	struct run *run = &j->run;
	usec_t now = now_usec(CLOCK_MONOTONIC);

	if (run->active)
		fatalx("BUG: %s: spawning while run %" PRIu64 " is active", j->name, run->id);
	run_clear(run);
	run->id = supervisor_next_run_id(j->sup);
	run->started_wall = now_usec(CLOCK_REALTIME);
	run->started_mono = now;
	j->kill_sent = false;
	j->stop_by_user = false;
	note_start(j, now);

	int capture_fd = -1;
	if (j->config->stdout_spec.kind == OUTPUT_LOG || j->config->stderr_spec.kind == OUTPUT_LOG) {
		int r = joblog_open_run(j, j->sup->event, &capture_fd);
		if (r < 0)
			log_warnx("%s: cannot capture output (%s), using supd's own", j->name, strerror(-r));
	}
	int r = spawn_run(j->config, j->name, j->instance, capture_fd, &res);
	if (capture_fd >= 0)
		close(capture_fd);
	if (r < 0) {
		run->ended_wall = run->started_wall;
		run->ended_mono = run->started_mono;
		run->error = TAKE_PTR(res.error);
		run->exit_status = res.exit_status;
		spawn_result_free(&res);
		log_job(LOG_ERR, j->name, run->id, -1, -1, "cannot start: %s", run->error);
		joblog_drain(j);
		if (j->in_slot)
			supervisor_release_slot(j->sup, j);
		j->run_unreported = true;
		j->want = WANT_DOWN;
		job_set_state(j, JOB_FATAL, USEC_INFINITY);
		return;
	}
	j->pgid = res.pgid;
	run->active = true;
	j->sup->n_active++;
	run->n_stages = run->n_alive = res.n_stages;
	run->stages = xcalloc(res.n_stages, sizeof(struct stage));
	for (size_t i = 0; i < res.n_stages; i++) {
		run->stages[i] = (struct stage) { .argv0 = xstrdup(res.argv0[i]), .pid = res.pids[i], .exit_code = -1 };
		supervisor_track_pid(j->sup, res.pids[i], j);
	}
	spawn_result_free(&res);
	log_job(LOG_INFO, j->name, run->id, -1, -1, "started run %" PRIu64 " (pid %d)", run->id, (int) j->pgid);
	j->start_unreported = true;
	job_set_state(j, JOB_RUNNING, run_time_left(j));
}

/* Start now or wait in the queue for a max_parallel slot. */
static void job_start(struct job *j) {
	if (job_is_batch(j) && !j->in_slot && !supervisor_acquire_slot(j->sup, j)) {
		job_set_state(j, JOB_QUEUED, USEC_INFINITY);
		return;
	}
	job_spawn(j);
}

void job_slot_granted(struct job *j) {
	if (j->state == JOB_QUEUED)
		job_spawn(j);
}

int job_want_up(struct job *j) {
	if (j->removed)
		return -ESTALE;
	if (j->sup->shutting_down)
		return -ESHUTDOWN;
	j->want = WANT_UP;
	switch (j->state) {
	case JOB_STOPPED:
	case JOB_EXITED:
	case JOB_FAILED:
	case JOB_FATAL:
		/* a user start forgets earlier failures */
		j->backoff_delay = 0;
		j->n_start_times = 0;
		job_start(j);
		break;
	default:
		break;    /* already queued, running or coming back; stopping restarts when done */
	}
	return 0;
}

void job_want_down(struct job *j) {
	j->want = WANT_DOWN;
	switch (j->state) {
	case JOB_QUEUED:
	case JOB_BACKOFF:
		j->stop_by_user = true;
		job_set_state(j, JOB_STOPPED, USEC_INFINITY);
		break;
	case JOB_RUNNING:
		j->stop_by_user = true;
		signal_group(j, j->config->stop_signal);
		job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
		break;
	case JOB_STOPPING:
		j->stop_by_user = true;
		break;
	default:
		break;
	}
}

int job_send_signal(struct job *j, int sig) {
	if (!job_is_active(j))
		return -ESRCH;
	if (kill(-j->pgid, sig) < 0)
		return -errno;
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct job *j = userdata;

	switch (j->state) {
	case JOB_RUNNING:      /* timeout */
	{
		_cleanup_free_ char *t = format_duration(j->config->timeout);
		log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "timed out after %s, stopping", t);
	}
		j->run.timed_out = true;
		signal_group(j, j->config->stop_signal);
		job_set_state(j, JOB_STOPPING, j->config->stop_timeout);
		break;
	case JOB_STOPPING:     /* stop_timeout */
		log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "still running after stop_timeout, sending KILL");
		j->kill_sent = true;
		signal_group(j, SIGKILL);
		/* members the kernel has not let go of (zombies of a parent that
		 * left the group) must not keep the stop pending forever */
		job_recheck_group(j);
		break;
	case JOB_BACKOFF:
		j->restarts++;
		job_start(j);   /* a reload may have made it a batch job: take a slot */
		break;
	default:
		break;
	}
	return 0;
}

/* Fold the stage statuses into the run's exit fields: like pipefail, the
 * rightmost failing stage decides; a run succeeds only if every stage did. */
static void run_conclude(struct job *j) {
	struct run *run = &j->run;
	const struct stage *decisive = NULL;

	run->success = !run->timed_out;
	for (size_t i = 0; i < run->n_stages; i++) {
		const struct stage *st = &run->stages[i];
		bool ok = st->signal == 0 && policy_exit_is_success(j->config, st->exit_code);
		if (!ok) {
			run->success = false;
			decisive = st;
		}
	}
	if (!decisive && run->n_stages > 0)
		decisive = &run->stages[run->n_stages - 1];
	if (decisive) {
		run->exit_code = decisive->exit_code;
		run->signal = decisive->signal;
	}
	if (run->timed_out)
		run->exit_status = 124;
	else if (run->signal)
		run->exit_status = 128 + run->signal;
	else
		run->exit_status = run->exit_code;
	run->ended_wall = now_usec(CLOCK_REALTIME);
	run->ended_mono = now_usec(CLOCK_MONOTONIC);
	run->active = false;
	j->sup->n_active--;
}

static void log_run_end(struct job *j) {
	const struct run *run = &j->run;
	_cleanup_free_ char *dur = format_duration(run->ended_mono - run->started_mono);
	int prio = run->success ? LOG_INFO : LOG_WARNING;

	if (run->timed_out)
		log_job(prio, j->name, run->id, run->exit_code, run->signal, "run %" PRIu64 " timed out after %s",
			run->id, dur);
	else if (run->signal)
		log_job(prio, j->name, run->id, -1, run->signal, "run %" PRIu64 " killed by %s after %s",
			run->id, signal_name(run->signal) ? signal_name(run->signal) : "?", dur);
	else
		log_job(prio, j->name, run->id, run->exit_code, -1, "run %" PRIu64 " exited %d after %s",
			run->id, run->exit_code, dur);
}

/* Every process of the run is gone: record it and decide what is next. */
static void job_run_finished(struct job *j) {
	struct run *run = &j->run;

	run_conclude(j);
	j->pgid = 0;
	joblog_drain(j);       /* the output is in `logs` before anyone hears of the end */
	log_run_end(j);
	j->run_unreported = true;
	if (j->in_slot)
		supervisor_release_slot(j->sup, j);

	if (j->pending_config) {
		struct job_config *jc = TAKE_PTR(j->pending_config);
		job_set_config(j, jc);
		job_config_unref(jc);
	}
	if (j->stop_by_user || j->sup->shutting_down || j->removed) {
		if (j->want == WANT_UP && !j->removed && !j->sup->shutting_down) {
			/* started again while it was stopping (restart, reload): the
			 * ended run is recorded as stopped, then the next one begins;
			 * waiters are not told of a "stopped" in between */
			job_transition(j, JOB_STOPPED, USEC_INFINITY, false);
			job_start(j);
			return;
		}
		job_set_state(j, JOB_STOPPED, USEC_INFINITY);
		return;
	}
	usec_t now = now_usec(CLOCK_MONOTONIC);
	struct policy_input in = {
		.want_up = j->want == WANT_UP,
		.success = run->success,
		.run_duration = run->ended_mono - run->started_mono,
		.prev_delay = j->backoff_delay,
		.starts_in_window = starts_in_window(j, now),
	};
	struct policy_result pr = policy_decide(j->config, &in);
	switch (pr.action) {
	case POLICY_RESTART:
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
	default:
		j->want = WANT_DOWN;
		job_set_state(j, run->success ? JOB_EXITED : JOB_FAILED, USEC_INFINITY);
	}
}

/* Tracked stages are done; stragglers left in the group are killed so a
 * run never leaks processes. While stopping, the stop ends only when the
 * whole group is gone (see supervisor's reaper for orphans). */
static void job_maybe_finish(struct job *j) {
	if (j->run.n_alive > 0)
		return;
	if (group_alive(j)) {
		if (j->state != JOB_STOPPING) {
			log_debug("%s: killing processes left in the group", j->name);
			signal_group(j, SIGKILL);
		}
		if (j->state == JOB_STOPPING && !j->kill_sent)
			return;   /* stop_timeout escalates; orphans' exits re-check */
	}
	job_run_finished(j);
}

void job_stage_exited(struct job *j, size_t idx, int status, const struct rusage *ru) {
	struct stage *st = &j->run.stages[idx];

	if (st->done)
		return;
	st->done = true;
	supervisor_untrack_pid(j->sup, st->pid);
	if (WIFEXITED(status))
		st->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		st->signal = WTERMSIG(status);
	if (ru) {
		j->run.cpu_user += (usec_t) ru->ru_utime.tv_sec * USEC_PER_SEC + (usec_t) ru->ru_utime.tv_usec;
		j->run.cpu_sys += (usec_t) ru->ru_stime.tv_sec * USEC_PER_SEC + (usec_t) ru->ru_stime.tv_usec;
		if (ru->ru_maxrss > j->run.max_rss_kb)
			j->run.max_rss_kb = ru->ru_maxrss;
	}
	j->run.n_alive--;
	job_maybe_finish(j);
}

/* An orphan of some group was reaped: a stopping job may now be done. */
void job_recheck_group(struct job *j) {
	if (j->run.active && j->run.n_alive == 0)
		job_maybe_finish(j);
}
