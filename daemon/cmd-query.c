/* SPDX-License-Identifier: ISC */
/* Commands that only read: status, history. */
#include "commands.h"
#include "history.h"

/* With "columns", the reply is a table of rows instead of job objects: a
 * tenth of the text for a status table, which is what clients parse. */
void cmd_status(struct commands *cmds, struct client *c, json_t *req) {
	_cleanup_free_ enum job_field *columns = NULL;
	_cleanup_free_ struct job **v = NULL;
	struct buf b = { 0 };
	size_t n, n_columns;

	if (cmd_args_columns(c, req, &columns, &n_columns) < 0 ||
	    cmd_args_jobs(cmds, c, req, false, true, &v, &n) < 0)
		return;
	if (!columns) {
		cmd_reply_jobs(c, v, n);
		return;
	}
	/* {"ok":true,"rows":[[...],...]}: the named fields of each job, in order */
	buf_appendf(&b, "{\"ok\":true,\"rows\":");
	cmd_reply_append_array(&b, v, n, columns, n_columns);
	buf_append(&b, "}", 1);
	client_reply_text(c, &b);
}

/* A history request in progress (SPEC §11: no request blocks the loop).
 * Its reply, {"ok":true,"runs":[...],"skipped":N}, is written as the
 * query reads the run log: one step of one request at a time, the ready
 * requests taking turns, and at a priority below every other event source,
 * so a client's request or a job's timeout waits for one step at most. A
 * request pauses while its client has more than HISTORY_MARK unread, so a
 * client that does not read holds little. */
#define HISTORY_MARK (1u << 20)

struct cmd_history {
	struct client_task task;       /* first: the client hands it back */
	struct commands *cmds;
	struct client *client;
	struct history_query *q;
	struct cmd_history *prev, *next;   /* in cmds->history_ready; NULL while paused */
};

/* Last in turn. */
static void history_ready(struct cmd_history *t) {
	struct commands *cmds = t->cmds;
	struct cmd_history *head = cmds->history_ready;

	if (!head) {
		t->next = t->prev = t;
		cmds->history_ready = t;
	} else {
		t->next = head;
		t->prev = head->prev;
		head->prev->next = t;
		head->prev = t;
	}
	(void) sd_event_source_set_enabled(cmds->history_step, SD_EVENT_ONESHOT);
}

static void history_unready(struct cmd_history *t) {
	struct commands *cmds = t->cmds;

	if (!t->next)
		return;
	if (t->next == t)
		cmds->history_ready = NULL;
	else {
		t->prev->next = t->next;
		t->next->prev = t->prev;
		if (cmds->history_ready == t)
			cmds->history_ready = t->next;
	}
	t->next = t->prev = NULL;
}

static void history_free(struct cmd_history *t) {
	struct commands *cmds = t->cmds;

	history_unready(t);
	history_query_free(t->q);
	free(t);
	if (--cmds->n_history == 0)
		cmds->history_step = sd_event_source_disable_unref(cmds->history_step);
}

static void history_cancel(struct client_task *task) {
	history_free((struct cmd_history *) task);
}

static void history_drained(struct client_task *task) {
	history_ready((struct cmd_history *) task);
}

static int on_history_step(sd_event_source *s, void *userdata) {
	struct commands *cmds = userdata;
	struct cmd_history *t = cmds->history_ready;
	struct buf b = { 0 };

	if (!t)
		return 0;
	cmds->history_ready = t->next;          /* the next one's turn after this */
	int r = history_query_step(t->q, &b);
	if (r == 0)
		buf_appendf(&b, ",\"skipped\":%zu}\n", history_query_skipped(t->q));
	if (b.len > 0)
		client_send_text(t->client, b.data, b.len);
	buf_free(&b);
	if (r == 0) {
		struct client *c = t->client;
		history_free(t);
		client_task_end(c);
	} else if (client_unsent(t->client) > HISTORY_MARK) {
		history_unready(t);
		client_wait_drained(t->client, HISTORY_MARK);
	}
	if (cmds->history_ready)
		(void) sd_event_source_set_enabled(cmds->history_step, SD_EVENT_ONESHOT);
	return 0;
}

/* The source of every history request's steps, made with the first. */
static int history_step_source(struct commands *cmds) {
	int r;

	if (cmds->history_step)
		return 0;
	r = sd_event_add_defer(cmds->event, &cmds->history_step, on_history_step, cmds);
	if (r >= 0)
		r = sd_event_source_set_priority(cmds->history_step, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(cmds->history_step, SD_EVENT_OFF);
	if (r < 0)
		cmds->history_step = sd_event_source_disable_unref(cmds->history_step);
	return r;
}

void cmd_history(struct commands *cmds, struct client *c, json_t *req) {
	struct supervisor *s = cmds->sup;
	json_t *pats = json_object_get(req, "jobs");
	_cleanup_free_ const char **v = NULL;
	struct history_query *q;
	size_t lines, i;
	json_t *p;
	int r;

	if (cmd_args_lines(c, req, 0, &lines) < 0)
		return;
	if (!s->history) {
		client_reply_error(c, "no run history: state_dir is not usable (see supd's log)");
		return;
	}
	if (pats && !json_is_array(pats)) {
		client_reply_error(c, "\"jobs\" must be an array of job names or patterns");
		return;
	}
	size_t np = json_array_size(pats);
	v = xcalloc(np ? np : 1, sizeof(char *));
	json_array_foreach(pats, i, p) {
		if (!(v[i] = json_string_value(p))) {
			client_reply_error(c, "\"jobs\" must contain strings");
			return;
		}
	}
	if ((r = history_step_source(cmds)) < 0) {
		client_reply_error(c, "cannot run a history query: %s", strerror(-r));
		return;
	}
	if ((r = history_query_new(s->history, v, np, lines, &q)) < 0) {
		if (cmds->n_history == 0)
			cmds->history_step = sd_event_source_disable_unref(cmds->history_step);
		client_reply_error(c, "cannot read the run history: %s", strerror(-r));
		return;
	}
	struct cmd_history *t = xcalloc(1, sizeof(*t));
	t->task = (struct client_task) { .cancel = history_cancel, .drained = history_drained };
	t->cmds = cmds;
	t->client = c;
	t->q = q;
	cmds->n_history++;
	static const char head[] = "{\"ok\":true,\"runs\":";
	client_send_text(c, head, sizeof(head) - 1);
	client_task_begin(c, &t->task);
	history_ready(t);
}
