/* SPDX-License-Identifier: ISC */
/* A supctl session with supd: one connection, requests and their answers.
 *
 * A verb builds a request (request.h), sends it with ctl_call() (or
 * split_call() for long name lists) and turns the answer into output and
 * an exit status (SPEC §1). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "conn.h"

/* supctl's exit statuses (SPEC §1); run and wait on one job exit as a
 * shell would for it instead. */
enum {
	EXIT_FAILED = 1,           /* a request that was fine failed (reload) */
	EXIT_JOB_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_REFUSED = 4,
	EXIT_NOT_ACTIVE = 3,       /* is-active, as systemctl */
	EXIT_TIMED_OUT = 124,
};

struct ctl {
	struct conn conn;
	bool json;                 /* --json */
	bool quiet;                /* -q: no progress, no summary */
	bool progress_shown;       /* a progress line is on stderr */
	bool print_jobs_raw;       /* print a reply's jobs as received (--json) */
};

/* Sends one request and reads its answer, showing progress lines before
 * it. Returns 0 with *ret set to a successful answer (NULL if
 * c->print_jobs_raw printed its jobs as received), or an exit status after
 * printing why not. */
int ctl_call(struct ctl *c, const json_t *req, json_t **ret);
/* Reads the next message of a stream. Returns 0 with *ret set (NULL at the
 * end), or as conn_read_line(). */
int ctl_read(struct ctl *c, json_t **ret);
/* Reports an {"ok":false} answer; returns its exit status: 4, or 1 for
 * a configuration with errors. */
int ctl_report_refusal(const json_t *resp);
