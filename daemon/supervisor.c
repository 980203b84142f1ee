/* The job table, the reaper, the run queue, reload and shutdown. */
#include <fnmatch.h>
#include <signal.h>
#include <sys/wait.h>
#include "history.h"
#include "jobjson.h"
#include "log.h"
#include "supervisor.h"

static void table_add(struct supervisor *s, struct job *j) {
	if (s->n_jobs == s->cap_jobs) {
		s->cap_jobs = s->cap_jobs ? s->cap_jobs * 2 : 64;
		s->jobs = xreallocarray(s->jobs, s->cap_jobs, sizeof(*s->jobs));
	}
	s->jobs[s->n_jobs++] = j;
	hashmap_put_str(&s->by_name, j->name, j);
	s->counts[j->state]++;
}

static struct job *add_job(struct supervisor *s, const char *name, struct job_config *jc) {
	struct job *j = job_new(s, name, jc);
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
	if (j->in_queue)
		supervisor_dequeue(s, j);
	s->counts[j->state]--;
	job_free(j);
}

/* Create the jobs a job_config declares (a plain job or a pool). */
static void add_config_jobs(struct supervisor *s, struct job_config *jc, char ***added) {
	if (jc->is_template)
		return;
	if (!jc->instances_set) {
		add_job(s, jc->name, jc);
		if (added)
			*added = strv_push(*added, jc->name);
		return;
	}
	long n = config_instances(jc);
	for (long i = 0; i < n; i++) {
		_cleanup_free_ char *name = xasprintf("%s@%ld", jc->name, i);
		add_job(s, name, jc);
		if (added)
			*added = strv_push(*added, name);
	}
}

static int on_sigchld(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata);
static int on_drain(sd_event_source *es, void *userdata);

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
	return s->n_active > 0;
}

int supervisor_new(sd_event *e, struct supd_config *c, const char *state_dir, struct supervisor **ret) {
	struct supervisor *s = xcalloc(1, sizeof(*s));
	int r;

	s->event = sd_event_ref(e);
	s->config = c;
	s->next_run_id = 1;
	if (state_dir) {
		s->state_dir = xstrdup(state_dir);
		if (history_open(state_dir, &s->history) == 0)
			s->next_run_id = s->history->last_run_id + 1;
	}
	s->max_parallel = config_max_parallel(c);
	hashmap_init(&s->by_name, true);
	hashmap_init(&s->by_pid, false);
	r = sd_event_add_signal(e, &s->sigchld, SIGCHLD, on_sigchld, s);
	if (r >= 0)
		r = sd_event_add_defer(e, &s->sweeper, on_sweep, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->sweeper, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_defer(e, &s->drainer, on_drain, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->drainer, SD_EVENT_OFF);
	if (r < 0) {
		supervisor_free(s);
		return log_error_errno(r, "cannot watch SIGCHLD");
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
		job_free(s->jobs[i]);
	for (size_t i = 0; i < s->n_retired; i++)
		job_free(s->retired[i]);
	free(s->jobs);
	free(s->retired);
	sd_event_source_disable_unref(s->sweeper);
	sd_event_source_disable_unref(s->drainer);
	hashmap_clear(&s->by_name);
	hashmap_clear(&s->by_pid);
	sd_event_source_disable_unref(s->sigchld);
	history_close(s->history);
	free(s->state_dir);
	config_free(s->config);
	sd_event_unref(s->event);
	free(s);
}

void supervisor_autostart(struct supervisor *s) {
	for (size_t i = 0; i < s->n_jobs; i++)
		if (s->jobs[i]->config->autostart)
			(void) job_want_up(s->jobs[i]);
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
	j = add_job(s, pattern, jc);
	push_job(s, v, n, j);
	return 1;
}

void supervisor_job_line(struct supervisor *s, struct job *j, const char *line) {
	struct job_observer *o, *next;

	for (o = s->observers; o; o = next) {
		next = o->next;
		if (o->line)
			o->line(j, line, o->userdata);
	}
}

void supervisor_job_changed(struct supervisor *s, struct job *j, enum job_event ev) {
	struct job_observer *o, *next;

	if (ev == JOB_EVENT_EXITED && s->history) {
		struct buf rec = { 0 };
		job_json_append(&rec, j, NULL);
		buf_append(&rec, "\n", 1);
		(void) history_append(s->history, rec.data, rec.len, j->run.id);
		buf_free(&rec);
	}

	for (o = s->observers; o; o = next) {
		next = o->next;    /* an observer may remove itself */
		if (o->changed)
			o->changed(j, ev, o->userdata);
	}
	if (ev != JOB_EVENT_STATE)
		return;
	if (j->removed && !job_is_active(j) && job_state_is_final(j->state))
		(void) sd_event_source_set_enabled(s->sweeper, SD_EVENT_ONESHOT);
	if (s->shutting_down && s->on_idle_after_shutdown && !any_active(s))
		s->on_idle_after_shutdown(s);
}

void supervisor_track_pid(struct supervisor *s, pid_t pid, struct job *j) {
	hashmap_put_int(&s->by_pid, (uint64_t) pid, j);
}

void supervisor_untrack_pid(struct supervisor *s, pid_t pid) {
	hashmap_remove_int(&s->by_pid, (uint64_t) pid);
}

uint64_t supervisor_next_run_id(struct supervisor *s) {
	return s->next_run_id++;
}

/* A reaped process that was no stage of ours: an orphan of some job that
 * we inherited as subreaper. A stopping job may be waiting for it. */
static void orphan_reaped(struct supervisor *s) {
	for (size_t i = 0; i < s->n_jobs; i++)
		job_recheck_group(s->jobs[i]);
	for (size_t i = 0; i < s->n_retired; i++)
		job_recheck_group(s->retired[i]);
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

/* --- run queue --- */

bool supervisor_acquire_slot(struct supervisor *s, struct job *j) {
	if (s->max_parallel > 0 && (s->running_batch >= (size_t) s->max_parallel || s->queue_head)) {
		if (!j->in_queue) {
			j->in_queue = true;
			j->queue_next = NULL;
			if (s->queue_tail)
				s->queue_tail->queue_next = j;
			else
				s->queue_head = j;
			s->queue_tail = j;
		}
		return false;
	}
	j->in_slot = true;
	s->running_batch++;
	return true;
}

void supervisor_dequeue(struct supervisor *s, struct job *j) {
	struct job *prev = NULL;

	for (struct job *k = s->queue_head; k; prev = k, k = k->queue_next)
		if (k == j) {
			if (prev)
				prev->queue_next = k->queue_next;
			else
				s->queue_head = k->queue_next;
			if (s->queue_tail == k)
				s->queue_tail = prev;
			break;
		}
	j->in_queue = false;
	j->queue_next = NULL;
}

/* Hand free slots to queued jobs, first come first served. */
static void drain_queue(struct supervisor *s) {
	while (s->queue_head && (s->max_parallel == 0 || s->running_batch < (size_t) s->max_parallel)) {
		struct job *j = s->queue_head;
		s->queue_head = j->queue_next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		j->in_queue = false;
		j->queue_next = NULL;
		j->in_slot = true;
		s->running_batch++;
		job_slot_granted(j);
	}
}

static int on_drain(sd_event_source *es, void *userdata) {
	drain_queue(userdata);
	return 0;
}

/* The next queued job starts from the event loop, once the job that freed
 * the slot has announced its end: events never show more than max_parallel
 * running. */
void supervisor_release_slot(struct supervisor *s, struct job *j) {
	if (!j->in_slot)
		return;
	j->in_slot = false;
	s->running_batch--;
	if (s->queue_head)
		(void) sd_event_source_set_enabled(s->drainer, SD_EVENT_ONESHOT);
}

/* --- reload --- */

void reload_result_free(struct reload_result *r) {
	strv_free(r->added);
	strv_free(r->removed);
	strv_free(r->changed);
	memset(r, 0, sizeof(*r));
}

/* Take a job out of the configuration. It is stopped and freed by the
 * sweeper once its processes are gone, never here: whoever called us may
 * still hold it. */
static void retire_job(struct supervisor *s, struct job *j) {
	table_remove(s, j);
	j->removed = true;
	s->retired = xreallocarray(s->retired, s->n_retired + 1, sizeof(*s->retired));
	s->retired[s->n_retired++] = j;
	job_want_down(j);     /* queued or backoff: stopped now; running: stopping */
	(void) sd_event_source_set_enabled(s->sweeper, SD_EVENT_ONESHOT);
}

/* Give a kept job its new config; a running job restarts to apply it. */
static void update_job(struct supervisor *s, struct job *j, struct job_config *jc, char ***changed) {
	if (job_config_equal(j->config, jc)) {
		job_set_config(j, jc);
		return;
	}
	*changed = strv_push(*changed, j->name);
	if (!job_is_active(j)) {
		job_set_config(j, jc);
		return;
	}
	job_config_unref(j->pending_config);
	j->pending_config = job_config_ref(jc);
	enum job_want want = j->want;
	job_want_down(j);
	j->want = want;       /* if it was up, start again with the new config once stopped */
}

/* The config a job belongs to in c, or NULL if it is gone. */
static struct job_config *new_home(struct supd_config *c, const struct job *j) {
	const char *at = strchr(j->name, '@');
	if (!at)
		return config_find_job(c, j->name);
	_cleanup_free_ char *base = xstrndup(j->name, (size_t) (at - j->name));
	struct job_config *jc = config_find_job(c, base);
	if (!jc || !(jc->is_template || jc->instances_set))
		return NULL;
	if (jc->instances_set) {
		char *end;
		long idx = strtol(at + 1, &end, 10);
		if (*end || end == at + 1 || idx < 0 || idx >= config_instances(jc))
			return NULL;
	}
	return jc;
}

void supervisor_reload(struct supervisor *s, struct supd_config *c, struct reload_result *res) {
	memset(res, 0, sizeof(*res));

	/* existing jobs: keep, change or retire */
	for (size_t i = 0; i < s->n_jobs;) {
		struct job *j = s->jobs[i];
		struct job_config *jc = new_home(c, j);
		if (!jc) {
			res->removed = strv_push(res->removed, j->name);
			retire_job(s, j);
			continue;      /* the table shifted */
		}
		update_job(s, j, jc, &res->changed);
		i++;
	}
	/* new jobs, under the new max_parallel */
	struct supd_config *old = s->config;
	s->config = c;
	s->max_parallel = config_max_parallel(c);
	for (size_t i = 0; i < c->n_jobs; i++) {
		struct job_config *jc = c->jobs[i];
		if (jc->is_template)
			continue;
		long n = jc->instances_set ? config_instances(jc) : 1;
		for (long k = 0; k < n; k++) {
			_cleanup_free_ char *name = jc->instances_set ? xasprintf("%s@%ld", jc->name, k) : xstrdup(jc->name);
			if (supervisor_find(s, name))
				continue;
			struct job *j = add_job(s, name, jc);
			res->added = strv_push(res->added, name);
			if (jc->autostart)
				(void) job_want_up(j);
		}
	}
	config_free(old);
	drain_queue(s);
}

/* --- shutdown --- */

void supervisor_shutdown(struct supervisor *s) {
	if (s->shutting_down)
		return;
	s->shutting_down = true;
	for (size_t i = 0; i < s->n_jobs; i++)
		job_want_down(s->jobs[i]);
	if (!any_active(s) && s->on_idle_after_shutdown)
		s->on_idle_after_shutdown(s);
}
