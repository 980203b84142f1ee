/* SPDX-License-Identifier: ISC */
/* The job table, the reaper, the observers and shutdown (supervisor.h). */
#include <fnmatch.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include "jobhealth.h"
#include "joblog.h"
#include "jobready.h"
#include "log.h"
#include "runids.h"
#include "supervisor.h"

static struct supervisor *host_owner(struct job_host *h) {
	return (struct supervisor *) ((char *) h - offsetof(struct supervisor, host));
}

static struct supervisor *req_owner(struct requires *r) {
	return (struct supervisor *) ((char *) r - offsetof(struct supervisor, req));
}

/* A requirement's name: a job, every instance of a pool, or a template
 * instance, made if need be. */
static int req_resolve(struct requires *r, const char *n, struct job ***v, size_t *nv) {
	return supervisor_match(req_owner(r), n, true, v, nv);
}

static void req_stop_step(struct requires *r, struct job *j) {
	struct supervisor *s = req_owner(r);
	if (s->on_stop_step)
		s->on_stop_step(s, j->config->stop_timeout);
}

static const struct requires_ops req_ops = {
	.resolve = req_resolve,
	.stop_step = req_stop_step,
};

static void table_add(struct supervisor *s, struct job *j) {
	if (s->n_jobs == s->cap_jobs) {
		s->cap_jobs = s->cap_jobs ? s->cap_jobs * 2 : 64;
		s->jobs = xreallocarray(s->jobs, s->cap_jobs, sizeof(*s->jobs));
	}
	s->jobs[s->n_jobs++] = j;
	hashmap_put_str(&s->by_name, j->name, j);
	s->host.counts[j->state]++;
}

struct job *supervisor_add_job(struct supervisor *s, const char *name, struct job_config *jc) {
	struct job *j = job_new(&s->host, name, jc);
	table_add(s, j);
	return j;
}

/* Take a job out of the table (lookups, status); it lives on until freed. */
static void table_remove(struct supervisor *s, struct job *j) {
	for (size_t i = 0; i < s->n_jobs; i++)
		if (s->jobs[i] == j) {
			memmove(s->jobs + i, s->jobs + i + 1, (s->n_jobs - i - 1) * sizeof(*s->jobs));
			s->n_jobs--;
			break;
		}
	hashmap_remove_str(&s->by_name, j->name);
}

static void destroy_job(struct supervisor *s, struct job *j) {
	for (size_t i = 0; i < s->n_retired; i++)
		if (s->retired[i] == j) {
			s->retired[i] = s->retired[--s->n_retired];
			break;
		}
	for (struct job_observer *o = s->observers; o; o = o->next)
		if (o->removed)
			o->removed(j, o->userdata);
	s->host.counts[j->state]--;
	requires_forget(&s->req, j);
	job_free(j);
}

/* Create the jobs a job_config declares (a plain job or a pool). */
static void add_config_jobs(struct supervisor *s, struct job_config *jc, char ***added) {
	if (jc->is_template)
		return;
	if (!jc->instances_set) {
		supervisor_add_job(s, jc->name, jc);
		if (added)
			*added = strv_push(*added, jc->name);
		return;
	}
	long n = config_instances(jc);
	for (long i = 0; i < n; i++) {
		_cleanup_free_ char *name = xasprintf("%s@%ld", jc->name, i);
		supervisor_add_job(s, name, jc);
		if (added)
			*added = strv_push(*added, name);
	}
}

static int on_sigchld(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata);
static const struct job_host_ops host_ops;

/* Free retired jobs whose processes are gone. Runs as a deferred event so
 * no caller up the stack still holds a pointer to a freed job. */
static int on_sweep(sd_event_source *es, void *userdata) {
	struct supervisor *s = userdata;
	for (size_t i = 0; i < s->n_retired;) {
		struct job *j = s->retired[i];
		if (!job_is_active(j) && job_state_is_final(j->state))
			destroy_job(s, j);    /* swaps the last entry into i */
		else
			i++;
	}
	return 0;
}

static bool any_active(const struct supervisor *s) {
	return s->host.n_active > 0;
}

int supervisor_new(sd_event *e, struct supd_config *c, const char *state_dir, uint64_t first_run_id,
		   struct supervisor **ret) {
	struct supervisor *s = xcalloc(1, sizeof(*s));
	int r;

	s->host.ops = &host_ops;
	s->req.ops = &req_ops;
	s->host.sys = &job_sys_real;
	s->host.event = sd_event_ref(e);
	s->config = c;
	s->next_run_id = first_run_id ? first_run_id : 1;
	if (state_dir)
		s->log_dir = xasprintf("%s/logs", state_dir);
	s->host.log_dir = s->log_dir;
	hashmap_init(&s->by_name, true);
	hashmap_init(&s->by_pid, false);
	reaper_init(&s->children);
	s->watch = (struct jobwatch_env) { .event = e, .reaper = &s->children, .cgroups = NULL };
	r = runqueue_init(&s->host.queue, e, config_max_parallel(c), job_slot_granted, s);
	if (r >= 0)
		r = sd_event_add_signal(e, &s->sigchld, SIGCHLD, on_sigchld, s);
	if (r >= 0)
		r = sd_event_add_defer(e, &s->sweeper, on_sweep, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->sweeper, SD_EVENT_OFF);
	if (r < 0) {
		supervisor_free(s);
		return log_error_errno(r, "cannot set up the supervisor's event sources");
	}
	for (size_t i = 0; i < c->n_jobs; i++)
		add_config_jobs(s, c->jobs[i], NULL);
	*ret = s;
	return 0;
}

void supervisor_free(struct supervisor *s) {
	if (!s)
		return;
	for (size_t i = 0; i < s->n_jobs; i++)
		requires_forget(&s->req, s->jobs[i]);
	for (size_t i = 0; i < s->n_retired; i++)
		requires_forget(&s->req, s->retired[i]);
	requires_done(&s->req);
	for (size_t i = 0; i < s->n_jobs; i++)
		job_free(s->jobs[i]);
	for (size_t i = 0; i < s->n_retired; i++)
		job_free(s->retired[i]);
	reaper_done(&s->children);   /* after the jobs, which cancel their checks */
	free(s->jobs);
	free(s->retired);
	runqueue_done(&s->host.queue);
	sd_event_source_disable_unref(s->sweeper);
	hashmap_clear(&s->by_name);
	hashmap_clear(&s->by_pid);
	sd_event_source_disable_unref(s->sigchld);
	free(s->log_dir);
	free(s->runtime_dir);
	config_free(s->config);
	sd_event_unref(s->host.event);
	free(s);
}

void supervisor_autostart(struct supervisor *s) {
	for (size_t i = 0; i < s->n_jobs; i++)
		if (s->jobs[i]->config->autostart)
			(void) requires_start(&s->req, s->jobs[i]);
}

void supervisor_add_observer(struct supervisor *s, struct job_observer *o) {
	o->next = s->observers;
	s->observers = o;
}

void supervisor_remove_observer(struct supervisor *s, struct job_observer *o) {
	for (struct job_observer **p = &s->observers; *p; p = &(*p)->next)
		if (*p == o) {
			*p = o->next;
			return;
		}
}

struct job *supervisor_find(struct supervisor *s, const char *name) {
	return hashmap_get_str(&s->by_name, name);
}

/* Adds j once: a job already matched by an earlier pattern of the same
 * collection carries its mark (a linear de-dup was quadratic in the size
 * of a request naming thousands of jobs). */
static void push_job(struct supervisor *s, struct job ***v, size_t *n, struct job *j) {
	if (j->match_mark == s->match_mark)
		return;
	j->match_mark = s->match_mark;
	if ((*n & (*n - 1)) == 0)   /* grow at powers of two */
		*v = xreallocarray(*v, *n ? 2 * *n : 1, sizeof(**v));
	(*v)[(*n)++] = j;
}

/* "base" of "base@x" matches base alone. */
static bool instance_of(const struct job *j, const char *base) {
	return job_name_is_instance_of(j->name, base) && strcmp(j->config->name, base) == 0;
}

int supervisor_match(struct supervisor *s, const char *pattern, bool create, struct job ***v, size_t *n) {
	int matched = 0;   /* also counts jobs an earlier pattern added */
	struct job *j = supervisor_find(s, pattern);

	if (*n == 0)   /* a new collection: nothing is marked in it yet */
		s->match_mark++;

	if (j) {
		push_job(s, v, n, j);
		return 1;
	}
	bool glob = strpbrk(pattern, "*?[") != NULL;
	/* job names hold no '@' before the instance: "a@b" is no base name,
	 * so creating 10,000 instances needs no scan each */
	bool base_name = !glob && !strchr(pattern, '@');
	for (size_t i = 0; (glob || base_name) && i < s->n_jobs; i++) {
		struct job *k = s->jobs[i];
		if ((glob && fnmatch(pattern, k->name, 0) == 0) || (!glob && instance_of(k, pattern))) {
			push_job(s, v, n, k);
			matched++;
		}
	}
	if (matched || glob || !create)
		return matched;

	/* "tmpl@arg" of a template creates the instance */
	const char *at = strchr(pattern, '@');
	if (!at || at[1] == '\0')
		return 0;
	_cleanup_free_ char *base = xstrndup(pattern, (size_t) (at - pattern));
	struct job_config *jc = config_find_job(s->config, base);
	if (!jc || !jc->is_template)
		return 0;
	if (!instance_arg_valid(at + 1))
		return -EINVAL;
	j = supervisor_add_job(s, pattern, jc);
	push_job(s, v, n, j);
	return 1;
}

static void host_line(struct job_host *h, struct job *j, const char *line) {
	struct job_observer *o, *next;

	if (j->readiness)
		jobready_line(j, line);   /* ready = log: */
	for (o = host_owner(h)->observers; o; o = next) {
		next = o->next;
		if (o->line)
			o->line(j, line, o->userdata);
	}
}

static void host_event(struct job_host *h, struct job *j, enum job_event ev) {
	struct supervisor *s = host_owner(h);
	struct job_observer *o, *next;

	for (o = s->observers; o; o = next) {
		next = o->next;    /* an observer may remove itself */
		if (o->changed)
			o->changed(j, ev, o->userdata);
	}
	if (ev == JOB_EVENT_HEALTH)
		requires_changed(&s->req, j);
	if (ev != JOB_EVENT_STATE)
		return;
	if (j->readiness)
		jobready_state(j);
	if (j->checks)
		jobhealth_state(j);
	requires_changed(&s->req, j);
	if (j->removed && !job_is_active(j) && job_state_is_final(j->state))
		(void) sd_event_source_set_enabled(s->sweeper, SD_EVENT_ONESHOT);
	if (s->host.shutting_down && s->on_idle_after_shutdown && !any_active(s))
		s->on_idle_after_shutdown(s);
}

static void host_track_pid(struct job_host *h, pid_t pid, struct job *j) {
	hashmap_put_int(&host_owner(h)->by_pid, (uint64_t) pid, j);
}

static void host_untrack_pid(struct job_host *h, pid_t pid) {
	hashmap_remove_int(&host_owner(h)->by_pid, (uint64_t) pid);
}

static uint64_t host_next_run_id(struct job_host *h) {
	struct supervisor *s = host_owner(h);
	return s->runids ? runids_take(s->runids) : s->next_run_id++;
}

static enum job_requires host_requirements(struct job_host *h, struct job *j, const char **failed) {
	return requires_check(&host_owner(h)->req, j, failed);
}

/* The run hooks (job.h): readiness (jobready.c) and health (jobhealth.c). */
static int host_run_prepare(struct job_host *h, struct job *j, struct job_spawn_extra *x, char **error) {
	return jobready_prepare(&host_owner(h)->watch, j, x, error);
}

static void host_run_begin(struct job_host *h, struct job *j) {
	jobready_begin(j);                           /* the checks' cgroup first */
	jobhealth_begin(&host_owner(h)->watch, j);   /* health unknown, no checks until up */
}

static void host_run_up(struct job_host *h, struct job *j) {
	jobready_up(j);
	if (j->state == JOB_RUNNING)
		jobhealth_up(j);
}

static void host_run_end(struct job_host *h, struct job *j) {
	jobhealth_end(j);   /* its checks killed before their cgroup ends */
	jobready_end(j);
}

static const struct job_host_ops host_ops = {
	.run_prepare = host_run_prepare,
	.run_begin = host_run_begin,
	.run_up = host_run_up,
	.run_end = host_run_end,
	.event = host_event,
	.line = host_line,
	.track_pid = host_track_pid,
	.untrack_pid = host_untrack_pid,
	.next_run_id = host_next_run_id,
	.requirements = host_requirements,
};

/* A reaped process that was no stage of ours: an orphan of some job that
 * we inherited as subreaper. A stopping job may be waiting for it. */
static void orphan_reaped(struct supervisor *s) {
	for (size_t i = 0; i < s->n_jobs; i++)
		job_recheck_scope(s->jobs[i]);
	for (size_t i = 0; i < s->n_retired; i++)
		job_recheck_scope(s->retired[i]);
}

static int on_sigchld(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
	struct supervisor *s = userdata;
	bool orphans = false;

	for (;;) {
		int status;
		struct rusage ru;
		pid_t pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		struct job *j = hashmap_get_int(&s->by_pid, (uint64_t) pid);
		if (!j) {
			/* a check's (jobcheck.h), or an orphan */
			if (!reaper_dispatch(&s->children, pid, status, &ru))
				orphans = true;
			continue;
		}
		for (size_t i = 0; i < j->run.n_stages; i++)
			if (j->run.stages[i].pid == pid && !j->run.stages[i].done) {
				job_stage_exited(j, i, status, &ru);
				break;
			}
	}
	if (orphans)
		orphan_reaped(s);
	return 0;
}

/* --- shutdown --- */

/* Take a job out of the configuration. It is stopped and freed by the
 * sweeper once its processes are gone, never here: whoever called us may
 * still hold it. */
void supervisor_retire_job(struct supervisor *s, struct job *j) {
	table_remove(s, j);
	s->retired = xreallocarray(s->retired, s->n_retired + 1, sizeof(*s->retired));
	s->retired[s->n_retired++] = j;
	job_retire(j);     /* queued or backoff: stopped now; running: stopping */
	(void) sd_event_source_set_enabled(s->sweeper, SD_EVENT_ONESHOT);
}

void supervisor_shutdown(struct supervisor *s) {
	if (s->host.shutting_down)
		return;
	s->host.shutting_down = true;
	/* in reverse dependency order: a job once what requires it is gone */
	requires_shutdown(&s->req, s->jobs, s->n_jobs);
	if (!any_active(s) && s->on_idle_after_shutdown)
		s->on_idle_after_shutdown(s);
}

void supervisor_reopen_logs(struct supervisor *s) {
	for (size_t i = 0; i < s->n_jobs; i++)
		joblog_reopen(s->jobs[i]->log);
	for (size_t i = 0; i < s->n_retired; i++)
		joblog_reopen(s->retired[i]->log);
}

void supervisor_set_runtime_dir(struct supervisor *s, const char *dir) {
	free(s->runtime_dir);
	s->runtime_dir = dir ? xstrdup(dir) : NULL;
	s->watch.runtime_dir = s->runtime_dir;
}

bool supervisor_shutting_down(const struct supervisor *s) {
	return s->host.shutting_down;
}
