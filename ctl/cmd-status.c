/* SPDX-License-Identifier: ISC */
/* supctl status and is-active: verbs that only read the jobs' states. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "output.h"
#include "parse.h"
#include "proto.h"
#include "render.h"
#include "request.h"
#include "split.h"

/* The fields the table shows, asked for as rows: parsing the reply is most
 * of the time of a large status, and rows are a fifth of the job objects'
 * text. */
static json_t *table_columns(void) {
	json_t *v = json_array();

	for (const char *const *f = render_status_fields; v && *f; f++)
		if (json_array_append_new(v, json_string(*f)) < 0)
			abort();   /* only out of memory */
	return v;
}

/* Table rows made from job objects, for a supd that does not know
 * "columns" yet (still running after an upgrade). */
static json_t *rows_of_jobs(const json_t *jobs) {
	json_t *rows = json_array(), *job;
	size_t i;

	if (!rows)
		abort();
	json_array_foreach(jobs, i, job) {
		json_t *row = json_array();
		for (const char *const *f = render_status_fields; row && *f; f++) {
			json_t *v = json_object_get(job, *f);
			if (json_array_append_new(row, v ? json_incref(v) : json_null()) < 0)
				abort();
		}
		if (!row || json_array_append_new(rows, row) < 0)
			abort();
	}
	return rows;
}

/* The width the table's last column is cut to: $COLUMNS, else the
 * terminal's; 0 (nothing cut) when stdout is no terminal. */
static size_t output_width(void) {
	const char *cols = getenv("COLUMNS");
	struct winsize ws;
	long v;

	if (cols && parse_int(cols, 1, 100000, &v) == 0)
		return (size_t) v;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

static int cmd_status(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_STATUS);
	json_auto_t *resp = NULL;
	json_t *jobs;
	int r;

	if (a->argc > 0 && (r = request_set_jobs(req, a, 0)))
		return r;
	if (!c->json)
		request_set(req, PROTO_REQ_COLUMNS, table_columns());
	c->print_jobs_raw = c->json;
	if ((r = split_call(c, req, &resp)))
		return r;
	if (!resp)
		return 0;   /* printed as received */
	if (!c->json && !json_object_get(resp, PROTO_REP_ROWS) && json_is_array(json_object_get(resp, PROTO_REP_JOBS)))
		request_set(resp, PROTO_REP_ROWS, rows_of_jobs(json_object_get(resp, PROTO_REP_JOBS)));   /* an older supd */
	if (!(jobs = request_answer_array(resp, c->json ? PROTO_REP_JOBS : PROTO_REP_ROWS)))
		return EXIT_UNREACHABLE;
	if (c->json)
		output_json(jobs);
	else {
		render_set_width(output_width());
		(void) render_status_table(jobs, stdout);
	}
	return 0;
}

/* As systemctl is-active: every matched job's state, one a line (none with
 * -q), and exit 0 only if all of them are running. */
static int cmd_is_active(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_STATUS);
	json_auto_t *resp = NULL;
	json_t *jobs, *job;
	bool all = true;
	size_t i;
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	if (c->json) {
		if ((r = split_call_jobs(c, req, &resp, &jobs)))
			return r;
	} else {
		json_t *cols = json_array();
		if (!cols || json_array_append_new(cols, json_string(PROTO_JOB_STATE)) < 0)
			abort();   /* only out of memory */
		request_set(req, PROTO_REQ_COLUMNS, cols);
		if ((r = split_call(c, req, &resp)))
			return r;
		if (!(jobs = request_answer_array(resp, PROTO_REP_ROWS)))
			return EXIT_UNREACHABLE;
	}
	json_array_foreach(jobs, i, job) {
		const char *state = json_string_value(c->json ? json_object_get(job, PROTO_JOB_STATE)
							     : json_array_get(job, 0));
		all &= streq_ptr(state, PROTO_STATE_RUNNING);
		if (!c->json && !c->quiet)
			printf("%s\n", state ? state : "unknown");
	}
	return all ? 0 : EXIT_NOT_ACTIVE;
}

const struct ctl_command cmd_is_active_entry = {
	"is-active", "PATTERN...", 1, -1, cmd_is_active,
	"exit 0 if every matched job is running",
	"Prints the state of each matched job, one a line (nothing with -q), and\n"
	"exits 0 if all are running, 3 otherwise (as systemctl is-active); an\n"
	"unknown job exits 4.", { { 0 } },
};

const struct ctl_command cmd_status_entry = {
	"status", "[PATTERN...]", 0, -1, cmd_status,
	"show the state of jobs",
	"One row per job: NAME STATE PID SINCE EXIT RESTARTS HEALTH STATUS. SINCE\n"
	"is the uptime of a running job, else the duration of its last run; EXIT\n"
	"is the last run's exit code, the signal that killed it, or \"timeout\";\n"
	"HEALTH is healthy, unhealthy, unknown or - (no health_command); STATUS\n"
	"is the run's STATUS= text, or what a waiting job waits for, cut to the\n"
	"terminal's width ($COLUMNS). Exits 0 whenever the query succeeds.\n"
	"--json prints the array of job objects.", { { 0 } },
};
