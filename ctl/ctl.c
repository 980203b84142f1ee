/* SPDX-License-Identifier: ISC */
/* Requests and answers over a connection to supd (see ctl.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "util.h"

/* Parses a line from supd. Returns 0 with *ret set, or an exit status. */
static int parse_message(const char *line, json_t **ret) {
	json_error_t err;
	json_t *msg = json_loads(line, JSON_ALLOW_NUL, &err);

	if (!json_is_object(msg)) {
		output_warn("bad response from supd: %s", msg ? "not a JSON object" : err.text);
		json_decref(msg);
		return EXIT_UNREACHABLE;
	}
	*ret = msg;
	return 0;
}

int ctl_read(struct ctl *c, json_t **ret) {
	char *line;
	int r = conn_read_line(&c->conn, &line);

	*ret = NULL;
	if (r || !line)
		return r;
	return parse_message(line, ret);
}

/* With --json, a successful reply of jobs is printed as supd wrote it:
 * parsing and re-encoding the array was most of the time of a status of
 * 1,000 jobs. Returns false (nothing printed) for any other line. */
static bool print_jobs_as_received(const char *line) {
	static const char head[] = "{\"" PROTO_REP_OK "\":true,\"" PROTO_REP_JOBS "\":[";
	size_t len = strlen(line), start = sizeof head - 2;   /* at the '[' */

	if (len < sizeof head || memcmp(line, head, sizeof head - 1) != 0 || memcmp(line + len - 2, "]}", 2) != 0)
		return false;
	fwrite(line + start, 1, len - 1 - start, stdout);
	fputc('\n', stdout);
	return true;
}

/* A refusal exits 4: unknown job, bad request, permission. A reload of a
 * configuration with errors (they come as "errors") was a fine request
 * that failed: 1, as for other failures (SPEC §11; systemd would show 4 of
 * its ExecReload= as "4/NOPERMISSION"). */
int ctl_report_refusal(const json_t *resp) {
	const char *error = json_string_value(json_object_get(resp, PROTO_REP_ERROR));
	json_t *errors = json_object_get(resp, PROTO_REP_ERRORS), *e;
	size_t i;

	output_warn("%s", error ? error : "request refused");
	json_array_foreach(errors, i, e)
		if (json_is_string(e))
			fprintf(stderr, "%s\n", json_string_value(e));
	return json_is_array(errors) ? EXIT_FAILED : EXIT_REFUSED;
}

/* One line on the terminal: "37/100 done, 2 failed". */
static void show_progress(struct ctl *c, const json_t *p) {
	json_int_t done = json_integer_value(json_object_get(p, PROTO_REP_DONE));
	json_int_t total = json_integer_value(json_object_get(p, PROTO_REP_TOTAL));
	json_int_t failed = json_integer_value(json_object_get(p, PROTO_REP_FAILED));

	fprintf(stderr, "\r%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " done, %" JSON_INTEGER_FORMAT " failed\033[K",
		done, total, failed);
	fflush(stderr);
	c->progress_shown = true;
}

static void clear_progress(struct ctl *c) {
	if (!c->progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	c->progress_shown = false;
}

int ctl_call(struct ctl *c, const json_t *req, json_t **ret) {
	_cleanup_free_ char *line = NULL;
	json_t *resp = NULL, *ok;
	size_t len;
	char *reply;
	int r;

	*ret = NULL;
	if ((r = conn_open(&c->conn)))
		return r;
	line = proto_dump_line(req, &len);
	if (!line) {
		output_warn("cannot encode the request");
		return EXIT_USAGE;
	}
	if ((r = conn_send(&c->conn, line, len)))
		return r;
	/* progress messages ({"progress":{...}}, wait on a terminal) come first */
	for (;;) {
		r = conn_read_line(&c->conn, &reply);
		if (r)
			return r;
		if (reply && c->print_jobs_raw && print_jobs_as_received(reply)) {
			clear_progress(c);
			return 0;
		}
		if (reply && (r = parse_message(reply, &resp)))
			return r;
		if (!resp || json_object_get(resp, PROTO_REP_OK) || !json_object_get(resp, PROTO_REP_PROGRESS))
			break;
		show_progress(c, json_object_get(resp, PROTO_REP_PROGRESS));
		json_decref(resp);
		resp = NULL;
	}
	clear_progress(c);
	if (!resp) {
		output_warn("supd closed the connection without answering");
		return EXIT_UNREACHABLE;
	}
	ok = json_object_get(resp, PROTO_REP_OK);
	if (!json_is_boolean(ok)) {
		json_decref(resp);
		output_warn("bad response from supd: no \"" PROTO_REP_OK "\"");
		return EXIT_UNREACHABLE;
	}
	if (!json_is_true(ok)) {
		r = ctl_report_refusal(resp);
		json_decref(resp);
		return r;
	}
	*ret = resp;
	return 0;
}
