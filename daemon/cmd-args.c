/* SPDX-License-Identifier: ISC */
/* Arguments of control requests, checked; each bad one is an error reply. */
#include "commands.h"
#include "parse.h"

int cmd_args_jobs(struct commands *cmds, struct client *c, json_t *req, bool create, bool all_if_empty,
		  struct job ***ret, size_t *n_ret) {
	struct supervisor *s = cmds->sup;
	json_t *pats = json_object_get(req, "jobs");
	struct job **v = NULL;
	size_t n = 0, i;
	json_t *p;

	if (pats && !json_is_array(pats)) {
		client_reply_error(c, "\"jobs\" must be an array of job names or patterns");
		return -1;
	}
	if (!pats || json_array_size(pats) == 0) {
		if (!all_if_empty) {
			client_reply_error(c, "no job given");
			return -1;
		}
		v = xreallocarray(NULL, s->n_jobs ? s->n_jobs : 1, sizeof(*v));
		if (s->n_jobs)
			memcpy(v, s->jobs, s->n_jobs * sizeof(*v));
		*ret = v;
		*n_ret = s->n_jobs;
		return 0;
	}
	json_array_foreach(pats, i, p) {
		const char *pat = json_string_value(p);
		if (!pat) {
			client_reply_error(c, "\"jobs\" must contain strings");
			free(v);
			return -1;
		}
		int r = supervisor_match(s, pat, create, &v, &n);
		if (r <= 0) {
			client_reply_error(c, r < 0 ? "invalid instance name: %s" : "unknown job: %s", pat);
			free(v);
			return -1;
		}
	}
	*ret = v;
	*n_ret = n;
	return 0;
}

int cmd_args_lines(struct client *c, json_t *req, size_t dflt, size_t *ret) {
	json_t *n = json_object_get(req, "lines");
	*ret = dflt;
	if (!n || json_is_null(n))
		return 0;
	if (json_is_integer(n) && json_integer_value(n) >= 0 && json_integer_value(n) <= 100000000) {
		*ret = (size_t) json_integer_value(n);
		return 0;
	}
	client_reply_error(c, "invalid \"lines\"");
	return -1;
}

int cmd_args_timeout(struct client *c, json_t *req, usec_t *ret) {
	json_t *t = json_object_get(req, "timeout");
	*ret = USEC_INFINITY;
	if (!t || json_is_null(t))
		return 0;
	if (json_is_number(t) && json_number_value(t) >= 0 && json_number_value(t) < 1e9) {
		*ret = (usec_t) (json_number_value(t) * 1e6);
		return 0;
	}
	if (json_is_string(t) && parse_duration(json_string_value(t), ret) == 0)
		return 0;
	client_reply_error(c, "invalid \"timeout\"");
	return -1;
}

int cmd_args_columns(struct client *c, json_t *req, enum job_field **ret, size_t *n_ret) {
	json_t *names = json_object_get(req, "columns"), *name;
	enum job_field *v;
	size_t i;

	*ret = NULL;
	*n_ret = 0;
	if (!names)
		return 0;
	if (!json_is_array(names)) {
		client_reply_error(c, "\"columns\" must be an array of field names");
		return -1;
	}
	/* each field at most once: a short request must not ask for a huge reply */
	if (json_array_size(names) > _JOB_FIELD_MAX) {
		client_reply_error(c, "\"columns\" names more than the %d fields there are", _JOB_FIELD_MAX);
		return -1;
	}
	/* + 1: "columns":[] is a table of empty rows, so *ret is never NULL here */
	v = xreallocarray(NULL, json_array_size(names) + 1, sizeof(*v));
	json_array_foreach(names, i, name) {
		int f = job_field_from_string(json_string_value(name));
		if (f < 0) {
			if (json_is_string(name))
				client_reply_error(c, "unknown field: %s", json_string_value(name));
			else
				client_reply_error(c, "\"columns\" must contain strings");
			free(v);
			return -1;
		}
		v[i] = (enum job_field) f;
	}
	*ret = v;
	*n_ret = json_array_size(names);
	return 0;
}
