/* SPDX-License-Identifier: ISC */
/* Requests on more job names than one request holds (PROTO_MAX_REQUEST):
 * thousands of template instances named one by one. */
#pragma once

#include <jansson.h>

struct ctl;

/* ctl_call() for a request whose "jobs" may not fit in one request: one
 * request per part of the names, on the same connection, acting as one
 * request would (see split.c). Returns 0 with *ret the answer, its "jobs"
 * or "rows" those of all parts with each job once, or an exit status. */
int split_call(struct ctl *c, const json_t *req, json_t **ret);
/* split_call() for an answer that carries "jobs": returns 0 with *resp (to
 * free) and *jobs (inside it) set, having printed the jobs with --json, or
 * an exit status. */
int split_call_jobs(struct ctl *c, const json_t *req, json_t **resp, json_t **jobs);
