/* SPDX-License-Identifier: ISC */
/* What a control command sees of the client that sent it: replies, the
 * messages before a late reply, and the two ways a request outlives the
 * call that runs it (a task answered later; a stream). Implemented by
 * control.c; the commands never see a socket. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include "util.h"

struct client;

/* A request still in progress after its command returned (wait, run, stop,
 * restart), or a stream (subscribe, logs --follow). */
struct client_task {
	/* The client is gone first: free the task; the client must not be
	 * used any more. */
	void (*cancel)(struct client_task *t);
	/* Optional: called after client_wait_drained() (below). */
	void (*drained)(struct client_task *t);
};

/* One reply line (steals msg). */
void client_reply(struct client *c, json_t *msg);
/* A reply already serialised (one JSON object, no newline); frees b. */
void client_reply_text(struct client *c, struct buf *b);
void client_reply_error(struct client *c, const char *fmt, ...) _printf_(2, 3);
/* Lines of JSON text, each with its newline, sent as they are (an event
 * shared by every subscriber is serialised once). */
void client_send_text(struct client *c, const char *text, size_t n);

/* Bytes queued for c that its peer has not taken yet. */
size_t client_unsent(const struct client *c);
/* For a task that writes a long reply in pieces (history): it pauses while
 * more than mark bytes are unsent, rather than pile up output for a client
 * that does not read. The task's drained() is called once, from the event
 * loop, when at most mark bytes are unsent (soon, if that is so already);
 * a client that goes first cancels the task instead. */
void client_wait_drained(struct client *c, size_t mark);

/* The request is answered later: no further request of this client runs
 * until client_task_end(). */
void client_task_begin(struct client *c, struct client_task *t);
/* The task has replied and is freed by the caller; the client's next
 * request runs from the event loop, never inside a job's state change. */
void client_task_end(struct client *c);

/* The connection becomes a stream of messages (client_reply or
 * client_send_text); what the client sends from now on is discarded. */
void client_stream(struct client *c, struct client_task *t);
/* The stream is over (the task is freed by the caller): close the
 * connection once what is queued has been sent. */
void client_close(struct client *c);
