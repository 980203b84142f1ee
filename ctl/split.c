/* SPDX-License-Identifier: ISC */
/* Splitting a request on a long list of job names (see split.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdlib.h>

#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "request.h"
#include "split.h"
#include "util.h"

/* The job names of req, each once, in parts whose requests each fit in
 * PROTO_MAX_REQUEST: a new array of arrays, or NULL if one name alone is
 * too long. */
static json_t *split_job_names(const json_t *req) {
	json_auto_t *bare = json_deep_copy(req);
	json_auto_t *seen = json_object();
	json_t *names = json_object_get(req, PROTO_REQ_JOBS), *name, *parts = json_array(), *part = NULL;
	size_t i, base, used = 0;

	if (!bare || !seen || !parts)
		abort();   /* only out of memory */
	json_object_del(bare, PROTO_REQ_JOBS);
	base = request_encoded_size(bare) + sizeof ",\"" PROTO_REQ_JOBS "\":[]\n";
	json_array_foreach(names, i, name) {
		size_t n = request_encoded_size(name) + 1;   /* and a comma */

		if (json_object_get(seen, json_string_value(name)))
			continue;
		if (json_object_set(seen, json_string_value(name), json_true()) < 0)
			abort();
		if (base + n > PROTO_MAX_REQUEST) {
			json_decref(parts);
			return NULL;
		}
		if (!part || base + used + n > PROTO_MAX_REQUEST) {
			part = json_array();
			if (!part || json_array_append_new(parts, part) < 0)
				abort();
			used = 0;
		}
		if (json_array_append(part, name) < 0)
			abort();
		used += n;
	}
	return parts;
}

/* Appends to dst the jobs (objects) or rows (name first) of src whose name
 * is not in seen yet: a job matched by patterns in two parts is listed
 * once. */
static void append_unseen(json_t *dst, const json_t *src, json_t *seen) {
	json_t *item;
	size_t i;

	json_array_foreach(src, i, item) {
		const char *name = json_string_value(json_is_array(item) ? json_array_get(item, 0)
								  : json_object_get(item, PROTO_JOB_NAME));
		if (name && json_object_get(seen, name))
			continue;
		if ((name && json_object_set(seen, name, json_true()) < 0) || json_array_append(dst, item) < 0)
			abort();   /* only out of memory */
	}
}

/* Sends req once per part of names (as its "jobs"). Returns 0 with *ret
 * the first answer with the "jobs" or "rows" of all answers in it, each
 * job once (ret NULL: answers dropped), or an exit status. */
static int call_parts(struct ctl *c, const json_t *req, const json_t *parts, json_t **ret) {
	static const char *const joined[] = { PROTO_REP_JOBS, PROTO_REP_ROWS };   /* rows: status for a table */
	json_auto_t *part_req = json_deep_copy(req), *seen = json_object();
	json_auto_t *all_jobs = json_array(), *all_rows = json_array();
	json_t *all[] = { all_jobs, all_rows }, *first = NULL, *part;
	size_t i;
	int r;

	if (!part_req || !seen || !all_jobs || !all_rows)
		abort();   /* only out of memory */
	json_array_foreach(parts, i, part) {
		json_t *resp;

		request_set(part_req, PROTO_REQ_JOBS, json_incref((json_t *) part));
		if ((r = ctl_call(c, part_req, &resp))) {
			json_decref(first);
			return r;
		}
		for (size_t k = 0; k < ELEMENTSOF(joined); k++)
			append_unseen(all[k], json_object_get(resp, joined[k]), seen);
		if (first)
			json_decref(resp);
		else
			first = resp;
	}
	for (size_t k = 0; k < ELEMENTSOF(joined); k++)
		if (json_object_get(first, joined[k]))
			request_set(first, joined[k], json_incref(all[k]));
	if (ret)
		*ret = first;
	else
		json_decref(first);
	return 0;
}

/* So that the parts act as one request would: every name of stop, restart
 * and signal is checked (by a status of each part) before any job is
 * touched, and stop signals every part before waiting for any. start
 * cannot be checked that way (it creates instances): a part refused there
 * leaves the parts before it started. */
int split_call(struct ctl *c, const json_t *req, json_t **ret) {
	json_auto_t *parts = NULL;
	const char *cmd = json_string_value(json_object_get(req, PROTO_REQ_CMD));
	int r;

	if (request_size(req) <= PROTO_MAX_REQUEST)
		return ctl_call(c, req, ret);
	*ret = NULL;
	if (!(parts = split_job_names(req))) {
		output_warn("a job name is too long for a request (at most %d bytes)", PROTO_MAX_REQUEST);
		return EXIT_USAGE;
	}
	c->print_jobs_raw = false;   /* one array is printed, not one per part */
	if (streq_ptr(cmd, PROTO_CMD_STOP) || streq_ptr(cmd, PROTO_CMD_RESTART) || streq_ptr(cmd, PROTO_CMD_SIGNAL)) {
		json_auto_t *check = request_new(PROTO_CMD_STATUS);
		request_set(check, PROTO_REQ_COLUMNS, json_array());
		if ((r = call_parts(c, check, parts, NULL)))
			return r;
	}
	if (streq_ptr(cmd, PROTO_CMD_STOP) && json_is_true(json_object_get(req, PROTO_REQ_WAIT))) {
		json_auto_t *now = json_deep_copy(req);
		if (!now)
			abort();
		request_set(now, PROTO_REQ_WAIT, json_false());
		if ((r = call_parts(c, now, parts, NULL)))
			return r;
	}
	return call_parts(c, req, parts, ret);
}

int split_call_jobs(struct ctl *c, const json_t *req, json_t **resp, json_t **jobs) {
	int r = split_call(c, req, resp);

	if (r)
		return r;
	if (!(*jobs = request_answer_array(*resp, PROTO_REP_JOBS)))
		return EXIT_UNREACHABLE;
	if (c->json)
		output_json(*jobs);
	return 0;
}
