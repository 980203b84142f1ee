/* SPDX-License-Identifier: ISC */
/* supctl logs, history and events: what jobs wrote and did. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "render.h"
#include "request.h"
#include "util.h"

/* Prints messages of a stream until it ends; each is either printed as is
 * (--json) or handed to print_one with data. */
static int follow_stream(struct ctl *c, void (*print_one)(const json_t *msg, void *data), void *data) {
	c->conn.watch_stdout = true;
	for (;;) {
		json_auto_t *msg = NULL;
		int r = ctl_read(c, &msg);

		if (r == -EPIPE)
			return 0;
		if (r)
			return r;
		if (!msg)
			return 0;   /* supd went away or ended the stream */
		if (json_is_false(json_object_get(msg, PROTO_REP_OK)))
			return ctl_report_refusal(msg);
		if (c->json)
			output_json(msg);
		else
			print_one(msg, data);
		r = output_flush();
		if (r == -EPIPE)
			return 0;
		if (r < 0)
			return EXIT_FAILURE;   /* reported by output_finish() */
	}
}

static void print_log_line(const json_t *msg, _unused_ void *data) {
	json_t *line = json_object_get(msg, PROTO_REP_LINE);

	if (json_is_string(line))
		output_string_line(line);
}

static int cmd_logs(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_LOGS);
	json_auto_t *resp = NULL;
	json_t *lines, *line;
	size_t i;
	int r;

	if ((r = request_set_jobs(req, a, 0)) || (r = request_set_lines(req, a)))
		return r;
	request_set(req, PROTO_REQ_FOLLOW, json_boolean(a->opt['f']));
	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (!(lines = request_answer_array(resp, PROTO_REP_LINES)))
		return EXIT_UNREACHABLE;
	if (c->json)
		output_json(resp);
	else
		json_array_foreach(lines, i, line)
			if (json_is_string(line))
				output_string_line(line);
	if (!a->opt['f'])
		return 0;
	if (output_flush() < 0)
		return 0;                      /* reported by output_finish() */
	return follow_stream(c, print_log_line, NULL);
}

static int cmd_history(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_HISTORY);
	json_auto_t *resp = NULL;
	json_t *runs, *run;
	size_t i;
	int r;

	if (a->argc > 0 && (r = request_set_jobs(req, a, 0)))
		return r;
	if ((r = request_set_lines(req, a)))
		return r;
	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (!(runs = request_answer_array(resp, PROTO_REP_RUNS)))
		return EXIT_UNREACHABLE;
	if (c->json)
		json_array_foreach(runs, i, run)
			output_json(run);
	else
		(void) render_history(runs, stdout);
	return 0;
}

static bool same_field(const json_t *a, const json_t *b, const char *key) {
	return json_equal(json_object_get(a, key), json_object_get(b, key));
}

/* One line per change. supd sends a transition that starts or ends a run
 * twice, as "started"/"exited" (with the new state and the run's details)
 * and then as "state" (proto.h): that "state" event, for the same job, run,
 * state and time, would repeat the line before it. *last holds the last
 * "started"/"exited" event. */
static void print_event(const json_t *ev, void *data) {
	json_t **last = data;
	const char *kind = json_string_value(json_object_get(ev, PROTO_JOB_EVENT));

	if (*last && streq_ptr(kind, PROTO_EVENT_STATE) && same_field(ev, *last, PROTO_JOB_NAME) &&
	    same_field(ev, *last, PROTO_JOB_RUN) && same_field(ev, *last, PROTO_JOB_STATE) &&
	    same_field(ev, *last, PROTO_JOB_SINCE)) {
		json_decref(TAKE_PTR(*last));
		return;
	}
	json_decref(TAKE_PTR(*last));
	if (streq_ptr(kind, PROTO_EVENT_STARTED) || streq_ptr(kind, PROTO_EVENT_EXITED))
		*last = json_incref((json_t *) ev);
	(void) render_event(ev, stdout);
}

static int cmd_events(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_SUBSCRIBE);
	json_auto_t *resp = NULL;
	json_auto_t *last = NULL;
	int r;

	if ((r = ctl_call(c, req, &resp)))
		return r;
	return follow_stream(c, print_event, &last);
}

const struct ctl_command cmd_logs_entry = {
	"logs", "[-f] [-n N] JOB", 1, 1, cmd_logs,
	"print a job's captured output",
	"Prints the last lines the job wrote to stdout/stderr = log.",
	{ { 'f', "follow", NULL, "keep printing new lines as they come" },
	  { 'n', "lines", "N", "print the last N lines" } },
};

const struct ctl_command cmd_history_entry = {
	"history", "[-n N] [PATTERN...]", 0, -1, cmd_history,
	"list finished runs",
	"Oldest first: RUN NAME STARTED DURATION EXIT. --json prints one run\n"
	"object per line.",
	{ { 'n', "lines", "N", "only the last N runs" } },
};

const struct ctl_command cmd_events_entry = {
	"events", "", 0, 0, cmd_events,
	"print state changes as they happen",
	"One line per change: TIME NAME EVENT STATE [detail]. --json prints one\n"
	"event object per line.", { { 0 } },
};
