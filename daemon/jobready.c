/* SPDX-License-Identifier: ISC */
/* Readiness of a job's runs (see jobready.h). */
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"
#include "jobready.h"
#include "jobuser.h"
#include "log.h"
#include "logmatch.h"
#include "notify.h"
#include "readycmd.h"
#include "readyfd.h"

#define WATCHDOG_TIMEOUT "watchdog timeout"

struct jobready {
	struct job *job;
	const struct jobwatch_env *env;
	struct notify_socket *notify;
	struct readyfd *readyfd;
	int ready_write_fd;           /* fd:N's write end until the stages have it */
	struct readycmd *readycmd;
	sd_event_source *watchdog;    /* armed while up with a watchdog */
	usec_t watchdog_usec;         /* the key, or WATCHDOG_USEC=; 0: none */
	bool up;                      /* job_ready() came: the watchdog may run */
	struct cgroup_run *checks_cg; /* c-RUN: the run's checks, when the run has a cgroup */
	struct jobcheck_cgroup checks_ref;
};

static usec_t mono_now(void) {
	return now_usec(CLOCK_MONOTONIC);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
	struct jobready *r = userdata;
	struct job *j = r->job;
	_cleanup_free_ char *d = format_duration(r->watchdog_usec);

	(void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
	log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "no WATCHDOG=1 within %s", d);
	job_fail_run(j, WATCHDOG_TIMEOUT);
	return 0;
}

/* The watchdog's deadline at `when` (CLOCK_MONOTONIC), or off. */
static void watchdog_arm_at(struct jobready *r, usec_t when) {
	int k;

	if (when == USEC_INFINITY) {
		if (r->watchdog)
			(void) sd_event_source_set_enabled(r->watchdog, SD_EVENT_OFF);
		return;
	}
	if (!r->watchdog) {
		k = sd_event_add_time(r->env->event, &r->watchdog, CLOCK_MONOTONIC, when, 1, on_watchdog, r);
	} else {
		k = sd_event_source_set_time(r->watchdog, when);
		if (k >= 0)
			k = sd_event_source_set_enabled(r->watchdog, SD_EVENT_ONESHOT);
	}
	if (k < 0)
		fatalx("cannot arm the watchdog of %s: %s", r->job->name, strerror(-k));
}

/* Up and not stopping, with a watchdog: it runs from now. */
static void watchdog_restart(struct jobready *r) {
	bool on = r->up && r->watchdog_usec && r->job->state == JOB_RUNNING;
	watchdog_arm_at(r, on ? mono_now() + r->watchdog_usec : USEC_INFINITY);
}

static bool watchdog_armed(const struct jobready *r) {
	int enabled = SD_EVENT_OFF;
	return r->watchdog && sd_event_source_get_enabled(r->watchdog, &enabled) >= 0 && enabled != SD_EVENT_OFF;
}

/* ---- the notify handler ---- */

static void n_ready(void *userdata) {
	struct jobready *r = userdata;
	job_ready(r->job);   /* starting: up; stopping: nothing (the table) */
}

static void n_reloading(void *userdata, bool reloading) {
	struct jobready *r = userdata;
	job_set_reloading(r->job, reloading);
}

static void n_stopping(void *userdata) {
	struct jobready *r = userdata;
	job_stopping(r->job);
}

static void n_status(void *userdata, const char *text) {
	struct jobready *r = userdata;
	job_set_status_text(r->job, text[0] ? text : NULL);
}

static void n_watchdog(void *userdata) {
	struct jobready *r = userdata;
	if (watchdog_armed(r))
		watchdog_restart(r);
}

static void n_watchdog_trigger(void *userdata) {
	struct jobready *r = userdata;
	struct job *j = r->job;

	if (j->state != JOB_STARTING && j->state != JOB_RUNNING)
		return;
	log_job(LOG_WARNING, j->name, j->run.id, -1, -1, "WATCHDOG=trigger");
	job_fail_run(j, WATCHDOG_TIMEOUT);
}

static void n_watchdog_usec(void *userdata, uint64_t usec) {
	struct jobready *r = userdata;
	r->watchdog_usec = usec >= USEC_INFINITY ? USEC_INFINITY - 1 : usec;
	watchdog_restart(r);
}

static void n_extend_timeout(void *userdata, uint64_t usec) {
	struct jobready *r = userdata;
	uint64_t armed;

	if (job_extend_deadline(r->job, usec) || !watchdog_armed(r))
		return;
	/* up: the deadline that counts is the watchdog's */
	usec_t now = mono_now(), when = usec > USEC_INFINITY - 1 - now ? USEC_INFINITY - 1 : now + usec;
	if (sd_event_source_get_time(r->watchdog, &armed) >= 0 && armed < when)
		watchdog_arm_at(r, when);
}

static const struct notify_handler notify_handler = {
	.ready = n_ready,
	.reloading = n_reloading,
	.stopping = n_stopping,
	.status = n_status,
	.watchdog = n_watchdog,
	.watchdog_trigger = n_watchdog_trigger,
	.watchdog_usec = n_watchdog_usec,
	.extend_timeout = n_extend_timeout,
};

/* ---- fd:N and command: ---- */

static void on_ready_fd(void *userdata) {
	struct jobready *r = userdata;
	job_ready(r->job);   /* up frees the readyfd; else the run's end */
}

static void on_ready_try(void *userdata) {
	struct jobready *r = userdata;
	job_ready(r->job);
}

/* The uid and gid the notify socket is given to: the job's user. */
static int run_owner(const struct job *j, uid_t *uid, gid_t *gid, char **error) {
	struct jobuser u;
	int k = jobuser_resolve(j->config, &u, error);

	if (k < 0)
		return k;
	*uid = u.as_user ? u.uid : geteuid();
	*gid = u.as_user ? u.gid : getegid();
	jobuser_done(&u);
	return 0;
}

int jobready_prepare(const struct jobwatch_env *env, struct job *j, struct job_spawn_extra *x, char **error) {
	const struct job_config *jc = j->config;
	struct jobready *r;
	int k;

	r = xcalloc(1, sizeof(*r));
	r->job = j;
	r->env = env;
	r->ready_write_fd = -1;
	r->watchdog_usec = jc->watchdog;
	j->readiness = r;
	if (jc->ready.kind == READY_NOTIFY || jc->watchdog) {
		uid_t uid;
		gid_t gid;

		if (!env->runtime_dir) {
			*error = xstrdup("cannot make its NOTIFY_SOCKET: supd has no runtime directory");
			return -ENOENT;
		}
		if ((k = run_owner(j, &uid, &gid, error)) < 0)
			return k;
		k = notify_socket_open(env->event, env->runtime_dir, j->run.id, uid, gid, &notify_handler, r,
				       &r->notify);
		if (k < 0) {
			*error = xasprintf("cannot make its NOTIFY_SOCKET in %s/" NOTIFY_DIR ": %s", env->runtime_dir,
					   strerror(-k));
			return k;
		}
		x->env.notify_socket = notify_socket_path(r->notify);
		x->env.watchdog_usec = jc->watchdog;
	}
	if (jc->ready.kind == READY_FD) {
		k = readyfd_open(env->event, on_ready_fd, r, &r->readyfd, &r->ready_write_fd);
		if (k < 0) {
			*error = xasprintf("cannot make the pipe of ready = fd:%d: %s", jc->ready.fd, strerror(-k));
			return k;
		}
		x->fds[0] = (struct spawn_fd) { .target = jc->ready.fd, .source = r->ready_write_fd };
		x->n_fds = 1;
	}
	return 0;
}

/* The checks' own cgroup (SPEC §7), for a run that has one. */
static void open_checks_cgroup(struct jobready *r, struct job *j) {
	_cleanup_free_ char *error = NULL;

	if (!r->env->cgroups || !j->scope.cgroup || (!j->config->health_command && j->config->ready.kind != READY_COMMAND))
		return;
	int k = cgroup_check_create(r->env->cgroups, j->name, j->run.id, &r->checks_cg, &error);
	if (k < 0) {
		log_job(LOG_ERR, j->name, j->run.id, -1, -1, "cannot make the cgroup of its checks: %s",
			error ? error : strerror(-k));
		_cleanup_free_ char *why = xasprintf("cannot make the cgroup of its checks: %s",
						     error ? error : strerror(-k));
		job_fail_run(j, why);
		return;
	}
	if (r->checks_cg)
		r->checks_ref = (struct jobcheck_cgroup) { .fd = cgroup_run_fd(r->checks_cg),
							   .path = cgroup_run_path(r->checks_cg) };
}

const struct jobcheck_cgroup *jobready_checks_cgroup(const struct job *j) {
	return j->readiness && j->readiness->checks_cg ? &j->readiness->checks_ref : NULL;
}

void jobready_begin(struct job *j) {
	struct jobready *r = j->readiness;
	const struct job_config *jc = j->config;

	if (!r)
		return;
	if (r->ready_write_fd >= 0) {   /* the stages have it */
		close(r->ready_write_fd);
		r->ready_write_fd = -1;
	}
	open_checks_cgroup(r, j);
	if (jc->ready.kind == READY_COMMAND && j->state == JOB_STARTING) {
		struct jobcheck_job cj = {
			.jc = jc, .name = j->name, .instance = j->instance, .run = j->run.id,
			.output_fd = j->check_output_fd, .cgroup = jobready_checks_cgroup(j),
		};
		_cleanup_free_ char *error = NULL;
		int k = readycmd_new(r->env->event, r->env->reaper, &cj, jc->ready.arg, jc->ready_interval, on_ready_try,
				     r, &r->readycmd, &error);
		if (k < 0) {
			log_job(LOG_ERR, j->name, j->run.id, -1, -1, "cannot try ready = command: %s",
				error ? error : strerror(-k));
			_cleanup_free_ char *why = xasprintf("ready = command: %s", error ? error : strerror(-k));
			job_fail_run(j, why);
		}
	}
}

void jobready_up(struct job *j) {
	struct jobready *r = j->readiness;

	if (!r)
		return;
	r->up = true;
	readycmd_free(TAKE_PTR(r->readycmd));
	readyfd_free(TAKE_PTR(r->readyfd));
	watchdog_restart(r);
}

void jobready_state(struct job *j) {
	struct jobready *r = j->readiness;

	if (!r || j->state != JOB_STOPPING)
		return;
	readycmd_free(TAKE_PTR(r->readycmd));
	watchdog_arm_at(r, USEC_INFINITY);
}

void jobready_line(struct job *j, const char *line) {
	const struct job_config *jc = j->config;

	if (j->state == JOB_STARTING && jc->ready.kind == READY_LOG && jc->ready.re &&
	    logmatch_line(jc->ready.re, line, strlen(line)))
		job_ready(j);
}

void jobready_end(struct job *j) {
	struct jobready *r = TAKE_PTR(j->readiness);

	if (!r)
		return;
	notify_socket_close(r->notify);
	readyfd_free(r->readyfd);
	readycmd_free(r->readycmd);
	if (r->ready_write_fd >= 0)
		close(r->ready_write_fd);
	sd_event_source_disable_unref(r->watchdog);
	if (r->checks_cg) {   /* what the checks left behind (a setsid() escapee) */
		(void) cgroup_run_signal(r->checks_cg, SIGKILL, 0, false);
		cgroup_run_end(r->checks_cg);
	}
	free(r);
}
