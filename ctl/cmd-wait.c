/* SPDX-License-Identifier: ISC */
/* supctl wait and run: verbs answered when jobs are final. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "output.h"
#include "parse.h"
#include "proto.h"
#include "request.h"
#include "result.h"
#include "split.h"
#include "util.h"

/* Sends a run or wait request and turns its answer into the exit status.
 * The daemon answers at the end (progress lines before it are shown by
 * ctl_call() when stderr is a terminal). */
static int wait_for_jobs(struct ctl *c, const json_t *req, bool up) {
	json_auto_t *resp = NULL;
	json_t *jobs;
	size_t len = request_size(req);
	int r;

	/* one wait must name them all: its timeout and answer cover the set */
	if (len > PROTO_MAX_REQUEST) {
		output_warn("too many job names for one wait (%zu bytes, at most %d): "
			    "name them with a pattern such as 'tmpl@*'", len, PROTO_MAX_REQUEST);
		return EXIT_USAGE;
	}
	if ((r = split_call_jobs(c, req, &resp, &jobs)))
		return r;
	if (json_is_true(json_object_get(resp, PROTO_REP_TIMED_OUT))) {
		json_t *unfinished = json_object_get(resp, PROTO_REP_UNFINISHED), *name;
		struct buf b = { 0 };
		size_t i;

		buf_append(&b, "", 0);
		json_array_foreach(unfinished, i, name)
			buf_appendf(&b, " %s", json_is_string(name) ? json_string_value(name) : "?");
		output_warn("timed out waiting for:%s", b.data);
		buf_free(&b);
		return EXIT_TIMED_OUT;
	}
	return up ? result_up_status(jobs) : result_exit_status(jobs);
}

static int cmd_wait(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_WAIT);
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	if (!c->quiet && isatty(STDERR_FILENO) && !a->opt[OPT_UP])    /* scripts stay quiet */
		request_set(req, PROTO_REQ_PROGRESS, json_true());
	if (a->opt[OPT_UP])
		request_set(req, PROTO_REQ_UP, json_true());
	if (a->opt[OPT_TIMEOUT]) {
		usec_t t;

		if (parse_duration(a->opt[OPT_TIMEOUT], &t) < 0)
			return output_usage_error("invalid duration: %s", a->opt[OPT_TIMEOUT]);
		request_set(req, PROTO_REQ_TIMEOUT, json_real((double) t / (double) USEC_PER_SEC));
	}
	return wait_for_jobs(c, req, a->opt[OPT_UP] != NULL);
}

static int cmd_run(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_RUN);
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	return wait_for_jobs(c, req, false);
}

const struct ctl_command cmd_wait_entry = {
	"wait", "[--up] [--timeout DUR] PATTERN...", 1, -1, cmd_wait,
	"wait until jobs are finished (or up)",
	"Waits until every job is in a final state (stopped, exited, failed,\n"
	"fatal). For one job, exits as a shell would for its last run: the exit\n"
	"code, 128+N if killed by signal N, 124 if it timed out; a run supd\n"
	"ended as failed exits 1 where that would be 0. For several, exits 0 if\n"
	"all succeeded, else 1. With --up, waits until every job is up (running,\n"
	"ready): 0 then, 1 as soon as one is in a final state instead. When DUR\n"
	"(250ms, 1.5s, 2m) expires, prints the unfinished jobs and exits 124.",
	{ { OPT_TIMEOUT, "timeout", "DUR", "give up after DUR" },
	  { OPT_UP, "up", NULL, "wait until the jobs are up, not finished" } },
};

const struct ctl_command cmd_run_entry = {
	"run", "JOB", 1, 1, cmd_run,
	"start a job and wait for its run to end",
	"Exits as a shell would: the job's exit code, 128+N if it was killed by\n"
	"signal N, 124 if it hit its timeout.", { { 0 } },
};
