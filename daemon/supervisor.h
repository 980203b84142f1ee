/* The supervisor: the table of jobs, the reaper that maps child pids back
 * to their job, the run queue bounded by max_parallel, reload, and the
 * shutdown sequence. */
#pragma once

#include <signal.h>
#include <systemd/sd-event.h>
#include "config.h"
#include "hashmap.h"
#include "job.h"

enum job_event { JOB_EVENT_STATE, JOB_EVENT_STARTED, JOB_EVENT_EXITED };

/* Someone who wants to hear about every job change (control clients,
 * sd_notify status). */
struct job_observer {
	void (*changed)(struct job *j, enum job_event ev, void *userdata);
	void (*removed)(struct job *j, void *userdata);  /* about to be freed */
	void (*line)(struct job *j, const char *line, void *userdata);  /* captured output */
	void *userdata;
	struct job_observer *next;
};

struct reload_result {
	char **added, **removed, **changed;
};

struct supervisor {
	sd_event *event;
	struct supd_config *config;
	char *state_dir;             /* NULL: no history or log files */
	struct history *history;

	struct job **jobs;           /* in config order; instances as created */
	size_t n_jobs, cap_jobs;
	struct hashmap by_name;      /* name -> job */
	struct hashmap by_pid;       /* pid -> job (each live stage) */
	uint64_t match_mark;         /* the current supervisor_match() collection */

	struct job *queue_head, *queue_tail;  /* batch jobs waiting for a slot */
	size_t running_batch;        /* slots in use */
	long max_parallel;           /* resolved: 0 = no limit */

	size_t n_active;             /* jobs with live processes */
	uint64_t next_run_id;
	unsigned counts[_JOB_STATE_MAX];

	struct job **retired;        /* removed by reload, still stopping */
	size_t n_retired;
	sd_event_source *sweeper;    /* frees retired jobs outside callbacks */
	sd_event_source *drainer;    /* hands freed slots to queued jobs */

	struct job_observer *observers;
	bool shutting_down;
	void (*on_idle_after_shutdown)(struct supervisor *s);
	sd_event_source *sigchld;
};

int supervisor_new(sd_event *e, struct supd_config *c, const char *state_dir, struct supervisor **ret);
void supervisor_free(struct supervisor *s);

/* Start every autostart job. */
void supervisor_autostart(struct supervisor *s);
void supervisor_add_observer(struct supervisor *s, struct job_observer *o);
void supervisor_remove_observer(struct supervisor *s, struct job_observer *o);

struct job *supervisor_find(struct supervisor *s, const char *name);
/* Jobs matching a pattern (name, glob, or template/pool base name), appended
 * to *v, each once across the calls that fill one vector (start with *v
 * NULL, *n 0; *v grows here only). With create, "tmpl@arg" of a template
 * is instantiated. Returns the number matched (counting those an earlier
 * pattern added), or -EINVAL for an invalid instance name. */
int supervisor_match(struct supervisor *s, const char *pattern, bool create, struct job ***v, size_t *n);

/* Apply a new configuration; takes ownership of c. */
void supervisor_reload(struct supervisor *s, struct supd_config *c, struct reload_result *res);
void reload_result_free(struct reload_result *r);

/* Stop everything; calls on_idle_after_shutdown once no job has processes. */
void supervisor_shutdown(struct supervisor *s);

/* Hooks for job.c. */
void supervisor_job_changed(struct supervisor *s, struct job *j, enum job_event ev);
void supervisor_job_line(struct supervisor *s, struct job *j, const char *line);
void supervisor_track_pid(struct supervisor *s, pid_t pid, struct job *j);
void supervisor_untrack_pid(struct supervisor *s, pid_t pid);
/* Run queue: returns true if j may start now (slot taken), else queues it. */
bool supervisor_acquire_slot(struct supervisor *s, struct job *j);
void supervisor_release_slot(struct supervisor *s, struct job *j);
void supervisor_dequeue(struct supervisor *s, struct job *j);
uint64_t supervisor_next_run_id(struct supervisor *s);
