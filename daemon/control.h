/* The control socket: accepting clients, checking peers with SO_PEERCRED,
 * reading newline-delimited JSON requests with a size limit, writing
 * replies without ever blocking supd, and parking clients whose request
 * waits for jobs (wait, run, stop). */
#pragma once

#include <jansson.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "supervisor.h"
#include "util.h"

struct control;
struct client;

/* What the daemon provides to commands beyond the supervisor. */
struct control_hooks {
	/* Re-read the config: 0 with a reply, or <0 with an error reply. */
	json_t *(*reload)(void *userdata);
	void (*shutdown)(void *userdata);
	void *userdata;
};

/* A request waiting for jobs to settle. */
enum pending_until {
	UNTIL_FINAL,      /* wait, run: stopped, exited, failed or fatal */
	UNTIL_STOPPED,    /* stop: no process left */
	UNTIL_RESTARTED,  /* restart: no longer stopping */
};

struct pending {
	enum pending_until until;
	struct job **jobs;          /* NULL entries: removed by reload */
	size_t n, done_upto;        /* jobs[0..done_upto) are known settled */
	sd_event_source *timer;     /* --timeout */
	/* Called once the jobs settle or the timer fires. */
	void (*complete)(struct client *c, struct pending *p, bool timed_out);
	json_t *request;
	bool progress;              /* send {"progress":...} as jobs settle */
	size_t last_reported;
};

struct control_limits {
	size_t max_clients;
	size_t max_output;          /* bytes queued to one client before it is dropped */
	size_t max_subscriber_output;
};

int control_new(sd_event *e, struct supervisor *sup, int listen_fd, gid_t control_gid, bool have_group,
		const struct control_hooks *hooks, struct control **ret);
void control_free(struct control *ctl);

/* Bind PATH (after checking no other supd listens there), mode and group. */
int control_bind(const char *path, mode_t mode, gid_t group, bool have_group, int *ret_fd);

/* For commands: */
struct supervisor *client_supervisor(struct client *c);
const struct control_hooks *client_hooks(struct client *c);
void client_reply(struct client *c, json_t *msg);        /* steals msg */
/* A reply already serialised (one JSON object, no newline); frees b. */
void client_reply_text(struct client *c, struct buf *b);
void client_reply_error(struct client *c, const char *fmt, ...) _printf_(2, 3);
/* Park the client until jobs settle; takes ownership of jobs. */
void client_wait(struct client *c, struct job **jobs, size_t n, enum pending_until until,
		 usec_t timeout, json_t *request,
		 void (*complete)(struct client *c, struct pending *p, bool timed_out));
void client_subscribe(struct client *c);
/* Turn the connection into a stream of {"line": ...} for j's output. */
void client_follow(struct client *c, struct job *j);
/* Whether a job has reached what a pending request waits for. */
bool pending_job_settled(const struct job *j, enum pending_until until);
