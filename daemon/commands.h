/* SPDX-License-Identifier: ISC */
/* Control commands: one table of descriptors (commands.c), the commands
 * grouped by family in cmd-*.c. Adding a command means one entry in the
 * table, its function in the file of its family, and one verb in supctl.
 * A command talks to its client only through client.h. */
#pragma once

#include <jansson.h>
#include <systemd/sd-event.h>
#include "client.h"
#include "jobjson.h"
#include "supervisor.h"

/* What the daemon provides to commands beyond the supervisor. */
struct commands_hooks {
	/* Re-read the config: a reply, {"ok":false,...} if it has errors. */
	json_t *(*reload)(void *userdata);
	void (*shutdown)(void *userdata);
	/* Open every log file supd writes again by name (as SIGUSR1). */
	void (*reopen)(void *userdata);
	void *userdata;
};

struct cmd_parked;
struct cmd_stream;
struct cmd_history;

/* What every command runs against. */
struct commands {
	sd_event *event;
	struct supervisor *sup;
	struct commands_hooks hooks;
	struct job_observer observer;
	struct cmd_parked *parked;   /* requests waiting for jobs (cmd-park.c) */
	sd_event_source *recheck;    /* re-checks them outside job callbacks */
	struct cmd_stream *streams;  /* subscribers and log followers (cmd-stream.c) */
	/* history requests in progress (cmd-query.c): those ready for their
	 * next step, in a circle taking turns; the source of their steps,
	 * there while any request is */
	struct cmd_history *history_ready;
	sd_event_source *history_step;
	size_t n_history;
};

struct cmd_entry {
	const char *name;
	void (*exec)(struct commands *cmds, struct client *c, json_t *request);
};

int commands_new(sd_event *e, struct supervisor *sup, const struct commands_hooks *hooks, struct commands **ret);
/* After control_free(): no client may hold a task any more. */
void commands_free(struct commands *cmds);
/* Parse one request line and run it (a control_dispatch_fn; userdata is
 * the struct commands). Every path answers the client. */
void commands_dispatch(struct client *c, const char *line, size_t len, void *userdata);
const struct cmd_entry *command_find(const char *name);

/* For the cmd-*.c files; each group is named by its file. No cmd-*.c
 * file needs commands.c, so the objects form no cycle. */

/* cmd-args.c: request arguments. Each replies with an error and returns
 * -1 when the argument is invalid. */
/* Jobs named by request.jobs (patterns; with create, template instances
 * are made); all jobs if absent and all_if_empty. */
int cmd_args_jobs(struct commands *cmds, struct client *c, json_t *req, bool create, bool all_if_empty,
		  struct job ***ret, size_t *n_ret);
/* "lines": a count; absent = dflt. */
int cmd_args_lines(struct client *c, json_t *req, size_t dflt, size_t *ret);
/* "timeout": seconds as a number, or a duration string; absent = infinity. */
int cmd_args_timeout(struct client *c, json_t *req, usec_t *ret);
/* The fields named by request.columns; *ret NULL if absent. */
int cmd_args_columns(struct client *c, json_t *req, enum job_field **ret, size_t *n_ret);

/* cmd-reply.c: replies made of jobs. */
/* [...] of job objects, or with columns, rows of those fields; NULL
 * entries (jobs gone meanwhile) are skipped. */
void cmd_reply_append_array(struct buf *b, struct job *const *v, size_t n, const enum job_field *columns,
			    size_t n_columns);
/* ,"jobs":[...]} closing a reply begun by the caller. */
void cmd_reply_append_jobs(struct buf *b, struct job *const *v, size_t n);
/* {"ok":true,"jobs":[...]} */
void cmd_reply_jobs(struct client *c, struct job *const *v, size_t n);

/* cmd-park.c: a request parked until its jobs settle. */
enum cmd_park_until {
	UNTIL_FINAL,      /* wait, run: stopped, exited, failed or fatal */
	UNTIL_STOPPED,    /* stop: no process left */
	UNTIL_RESTARTED,  /* restart: no longer stopping, nor held for dependents */
	UNTIL_UP,         /* wait --up: every job running, or one final */
};
/* Called once, when the jobs settle or the timeout passes; must reply,
 * with the helpers below. */
typedef void cmd_park_done_fn(struct client *c, const struct cmd_parked *p, bool timed_out);
/* Park c until jobs settle; takes ownership of jobs. With "progress" in
 * the request and more than one job, progress lines are sent meanwhile. */
void cmd_park(struct commands *cmds, struct client *c, struct job **jobs, size_t n, enum cmd_park_until until,
	      usec_t timeout, json_t *request, cmd_park_done_fn *done);
/* Whether a job has reached what a parked request waits for. */
bool cmd_park_settled(const struct job *j, enum cmd_park_until until);
/* [names] of the jobs not settled yet. */
void cmd_park_append_unfinished(struct buf *b, const struct cmd_parked *p);
/* ,"jobs":[...]} closing a reply begun by the caller: every job parked
 * for, in order; a job removed by a reload as it was when removed. */
void cmd_park_append_jobs(struct buf *b, const struct cmd_parked *p);
void cmd_park_job_changed(struct commands *cmds, struct job *j);
void cmd_park_job_removed(struct commands *cmds, struct job *j);
/* The recheck defer source's callback (userdata: the struct commands). */
int cmd_park_recheck(sd_event_source *s, void *userdata);

/* cmd-stream.c: subscribers and log followers. */
void cmd_stream_job_changed(struct commands *cmds, struct job *j, enum job_event ev);
void cmd_stream_job_removed(struct commands *cmds, struct job *j);
void cmd_stream_job_line(struct commands *cmds, struct job *j, const char *line);

/* The commands, by family. */
void cmd_start(struct commands *cmds, struct client *c, json_t *req);     /* cmd-jobs.c */
void cmd_stop(struct commands *cmds, struct client *c, json_t *req);
void cmd_restart(struct commands *cmds, struct client *c, json_t *req);
void cmd_signal(struct commands *cmds, struct client *c, json_t *req);
/* Start each job; replies with an error and returns -1 if supd is shutting down. */
int cmd_jobs_start_all(struct commands *cmds, struct client *c, struct job **v, size_t n);
void cmd_status(struct commands *cmds, struct client *c, json_t *req);    /* cmd-query.c */
void cmd_history(struct commands *cmds, struct client *c, json_t *req);
void cmd_wait(struct commands *cmds, struct client *c, json_t *req);      /* cmd-wait.c */
void cmd_run(struct commands *cmds, struct client *c, json_t *req);
void cmd_subscribe(struct commands *cmds, struct client *c, json_t *req); /* cmd-stream.c */
void cmd_logs(struct commands *cmds, struct client *c, json_t *req);
void cmd_reload(struct commands *cmds, struct client *c, json_t *req);    /* cmd-daemon.c */
void cmd_shutdown(struct commands *cmds, struct client *c, json_t *req);
void cmd_reopen(struct commands *cmds, struct client *c, json_t *req);
void cmd_version(struct commands *cmds, struct client *c, json_t *req);
void cmd_deps(struct commands *cmds, struct client *c, json_t *req);      /* cmd-deps.c */
