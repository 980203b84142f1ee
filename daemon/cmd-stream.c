/* SPDX-License-Identifier: ISC */
/* Commands that turn the connection into a stream: subscribe (job events)
 * and logs with follow (a job's output lines). */
#include "commands.h"
#include "joblog.h"
#include "proto.h"

struct cmd_stream {
	struct client_task task;    /* first: the client hands it back on cancel */
	struct commands *cmds;
	struct client *client;
	struct job *follow;         /* NULL: job events */
	struct cmd_stream *prev, *next;
};

static void stream_free(struct cmd_stream *st) {
	struct commands *cmds = st->cmds;

	if (st->prev)
		st->prev->next = st->next;
	else
		cmds->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	free(st);
}

static void stream_cancel(struct client_task *t) {
	stream_free((struct cmd_stream *) t);
}

static void stream_begin(struct commands *cmds, struct client *c, struct job *follow) {
	struct cmd_stream *st = xcalloc(1, sizeof(*st));

	st->task.cancel = stream_cancel;
	st->cmds = cmds;
	st->client = c;
	st->follow = follow;
	st->next = cmds->streams;
	if (st->next)
		st->next->prev = st;
	cmds->streams = st;
	client_stream(c, &st->task);
}

static const char *event_name(enum job_event ev) {
	switch (ev) {
	case JOB_EVENT_STARTED: return "started";
	case JOB_EVENT_EXITED: return "exited";
	case JOB_EVENT_READY: return "ready";
	case JOB_EVENT_HEALTH: return "health";
	default: return "state";
	}
}

void cmd_stream_job_changed(struct commands *cmds, struct job *j, enum job_event ev) {
	struct buf event = { 0 };

	for (struct cmd_stream *st = cmds->streams; st; st = st->next)
		if (!st->follow) {
			if (!event.len) {     /* serialised once for every subscriber */
				job_json_append(&event, j, event_name(ev));
				buf_append(&event, "\n", 1);
			}
			client_send_text(st->client, event.data, event.len);
		}
	buf_free(&event);
}

void cmd_stream_job_line(struct commands *cmds, struct job *j, const char *line) {
	json_t *msg = NULL;

	for (struct cmd_stream *st = cmds->streams; st; st = st->next)
		if (st->follow == j) {
			if (!msg)
				msg = json_pack("{s:o}", "line", proto_string(line));
			client_reply(st->client, json_incref(msg));
		}
	json_decref(msg);
}

void cmd_stream_job_removed(struct commands *cmds, struct job *j) {
	struct cmd_stream *st, *next;

	for (st = cmds->streams; st; st = next) {
		next = st->next;
		if (st->follow == j) {      /* the job is gone: end the stream */
			struct client *c = st->client;
			stream_free(st);
			client_close(c);
		}
	}
}

void cmd_subscribe(struct commands *cmds, struct client *c, json_t *req) {
	client_reply(c, proto_ok());
	stream_begin(cmds, c, NULL);
}

void cmd_logs(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v;
	size_t n, lines;
	const char **tail = NULL;

	if (cmd_args_lines(c, req, 10, &lines) < 0 || cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0)
		return;
	struct job *j = v[0];
	free(v);
	if (n != 1) {
		client_reply_error(c, "logs takes exactly one job (%zu matched)", n);
		return;
	}
	if (j->config->stdout_spec.kind != OUTPUT_LOG && j->config->stderr_spec.kind != OUTPUT_LOG) {
		client_reply_error(c, "%s does not capture its output (stdout = %s, stderr = %s)", j->name,
				   output_kind_to_string(j->config->stdout_spec.kind),
				   output_kind_to_string(j->config->stderr_spec.kind));
		return;
	}
	json_t *a = json_array();
	size_t k = lines == 0 ? 0 : joblog_tail(j->log, lines, &tail);
	for (size_t i = 0; i < k; i++)
		json_array_append_new(a, proto_string(tail[i]));
	free(tail);
	client_reply(c, json_pack("{s:b, s:o}", "ok", true, "lines", a));
	if (json_is_true(json_object_get(req, "follow")))
		stream_begin(cmds, c, j);
}
