/* SPDX-License-Identifier: ISC */
/* Requests to supd (see request.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <limits.h>
#include <stdlib.h>

#include "args.h"
#include "ctl.h"
#include "output.h"
#include "parse.h"
#include "proto.h"
#include "request.h"

json_t *request_new(const char *cmd) {
	json_t *req = json_object();

	if (!req || json_object_set_new(req, PROTO_REQ_CMD, json_string(cmd)) < 0)
		abort();   /* only out of memory */
	return req;
}

void request_set(json_t *req, const char *key, json_t *value) {
	if (!value || json_object_set_new(req, key, value) < 0)
		abort();   /* only out of memory */
}

int request_set_jobs(json_t *req, const struct ctl_args *a, int from) {
	json_t *jobs = json_array();

	if (!jobs)
		abort();
	for (int i = from; i < a->argc; i++) {
		json_t *s = json_string(a->argv[i]);

		if (!s) {
			json_decref(jobs);
			return output_usage_error("not valid UTF-8: %s", a->argv[i]);
		}
		if (json_array_append_new(jobs, s) < 0)
			abort();
	}
	request_set(req, PROTO_REQ_JOBS, jobs);
	return 0;
}

int request_set_lines(json_t *req, const struct ctl_args *a) {
	long n;

	if (!a->opt['n'])
		return 0;
	if (parse_int(a->opt['n'], 0, INT_MAX, &n) < 0)
		return output_usage_error("invalid number of lines: %s", a->opt['n']);
	request_set(req, PROTO_REQ_LINES, json_integer(n));
	return 0;
}

size_t request_encoded_size(const json_t *v) {
	return json_dumpb(v, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
}

size_t request_size(const json_t *req) {
	return request_encoded_size(req) + 1;
}

json_t *request_answer_array(const json_t *resp, const char *key) {
	json_t *v = json_object_get(resp, key);

	if (!json_is_array(v)) {
		output_warn("bad response from supd: no \"%s\" array", key);
		return NULL;
	}
	return v;
}
