/* The control commands (protocol in doc/protocol.md). */
#include "commands.h"
#include "control.h"
#include "history.h"
#include "joblog.h"
#include "jobjson.h"
#include "parse.h"
#include "proto.h"

/* Jobs named by request.jobs (patterns). Replies with an error and
 * returns -1 when a pattern matches nothing or is malformed. */
static int collect_jobs(struct client *c, json_t *req, bool create, bool all_if_empty,
			struct job ***ret, size_t *n_ret) {
	struct supervisor *s = client_supervisor(c);
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

/* [...] of the jobs in v (NULL: a job gone meanwhile): job objects, or
 * with columns, rows of those fields. */
static void append_job_array(struct buf *b, struct job *const *v, size_t n,
			     const enum job_field *columns, size_t n_columns) {
	bool first = true;

	buf_append(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			continue;
		if (!first)
			buf_append(b, ",", 1);
		if (columns)
			job_json_append_row(b, v[i], columns, n_columns);
		else
			job_json_append(b, v[i], NULL);
		first = false;
	}
	buf_append(b, "]", 1);
}

/* ,"jobs":[...]} closing a reply begun by the caller. */
static void append_jobs(struct buf *b, struct job *const *v, size_t n) {
	buf_appendf(b, ",\"jobs\":");
	append_job_array(b, v, n, NULL, 0);
	buf_append(b, "}", 1);
}

static void reply_jobs(struct client *c, struct job *const *v, size_t n) {
	struct buf b = { 0 };
	buf_appendf(&b, "{\"ok\":true");
	append_jobs(&b, v, n);
	client_reply_text(c, &b);
}

/* {"ok":true,"rows":[[...],...]}: the named fields of each job, in order. */
static void reply_rows(struct client *c, struct job *const *v, size_t n,
		       const enum job_field *columns, size_t n_columns) {
	struct buf b = { 0 };

	buf_appendf(&b, "{\"ok\":true,\"rows\":");
	append_job_array(&b, v, n, columns, n_columns);
	buf_append(&b, "}", 1);
	client_reply_text(c, &b);
}

/* The fields named by request.columns; *ret NULL if absent. Replies with
 * an error and returns -1 when one is unknown. */
static int collect_columns(struct client *c, json_t *req, enum job_field **ret, size_t *n_ret) {
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

/* With "columns", the reply is a table of rows instead of job objects: a
 * tenth of the text for a status table, which is what clients parse. */
static void cmd_status(struct client *c, json_t *req) {
	_cleanup_free_ enum job_field *columns = NULL;
	_cleanup_free_ struct job **v = NULL;
	size_t n, n_columns;

	if (collect_columns(c, req, &columns, &n_columns) < 0 || collect_jobs(c, req, false, true, &v, &n) < 0)
		return;
	if (columns)
		reply_rows(c, v, n, columns, n_columns);
	else
		reply_jobs(c, v, n);
}

static int start_all(struct client *c, struct job **v, size_t n) {
	for (size_t i = 0; i < n; i++) {
		int r = job_want_up(v[i]);
		if (r == -ESHUTDOWN) {
			client_reply_error(c, "supd is shutting down");
			return -1;
		}
	}
	return 0;
}

static void cmd_start(struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	if (collect_jobs(c, req, true, false, &v, &n) < 0)
		return;
	if (start_all(c, v, n) == 0)
		reply_jobs(c, v, n);
	free(v);
}

static void reply_settled(struct client *c, struct pending *p, bool timed_out) {
	reply_jobs(c, p->jobs, p->n);
}

static void cmd_stop(struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	json_t *w = json_object_get(req, "wait");
	if (collect_jobs(c, req, false, false, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		job_want_down(v[i]);
	if (w && json_is_false(w)) {
		reply_jobs(c, v, n);
		free(v);
		return;
	}
	client_wait(c, v, n, UNTIL_STOPPED, USEC_INFINITY, req, reply_settled);
}

/* A running job is stopped with want kept up, so it starts again by itself
 * once stopped, even if this client goes away; others start now. The reply
 * comes when none is stopping any more. */
static void cmd_restart(struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	if (collect_jobs(c, req, false, false, &v, &n) < 0)
		return;
	if (supervisor_shutting_down(client_supervisor(c))) {
		client_reply_error(c, "supd is shutting down");
		free(v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		(void) job_restart(v[i]);
	client_wait(c, v, n, UNTIL_RESTARTED, USEC_INFINITY, req, reply_settled);
}

static void cmd_signal(struct client *c, json_t *req) {
	json_t *sig = json_object_get(req, "signal");
	struct job **v;
	size_t n;
	int signo;

	if (json_is_integer(sig) && json_integer_value(sig) > 0 && json_integer_value(sig) < NSIG)
		signo = (int) json_integer_value(sig);
	else if (!json_is_string(sig) || parse_signal(json_string_value(sig), &signo) < 0) {
		client_reply_error(c, "invalid or missing \"signal\"");
		return;
	}
	if (collect_jobs(c, req, false, false, &v, &n) < 0)
		return;
	size_t sent = 0;
	for (size_t i = 0; i < n; i++)
		if (job_send_signal(v[i], signo) == 0)
			sent++;
	if (sent == 0)
		client_reply_error(c, "no matched job is running");
	else
		reply_jobs(c, v, n);
	free(v);
}

static void reply_waited(struct client *c, struct pending *p, bool timed_out) {
	struct buf b = { 0 };
	bool first = true;

	buf_appendf(&b, "{\"ok\":true,\"timed_out\":%s,\"unfinished\":[", timed_out ? "true" : "false");
	for (size_t i = 0; i < p->n; i++)
		if (p->jobs[i] && !pending_job_settled(p->jobs[i], p->until)) {
			if (!first)
				buf_append(&b, ",", 1);
			proto_append_string(&b, p->jobs[i]->name);
			first = false;
		}
	buf_append(&b, "]", 1);
	append_jobs(&b, p->jobs, p->n);
	client_reply_text(c, &b);
}

/* "timeout": seconds as a number, or a duration string. */
static int request_timeout(struct client *c, json_t *req, usec_t *ret) {
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

static void cmd_wait(struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	usec_t timeout;
	if (request_timeout(c, req, &timeout) < 0 || collect_jobs(c, req, false, false, &v, &n) < 0)
		return;
	client_wait(c, v, n, UNTIL_FINAL, timeout, req, reply_waited);
}

static void cmd_run(struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	usec_t timeout;
	if (request_timeout(c, req, &timeout) < 0 || collect_jobs(c, req, true, false, &v, &n) < 0)
		return;
	if (n != 1) {
		client_reply_error(c, "run takes exactly one job (%zu matched)", n);
		free(v);
		return;
	}
	if (start_all(c, v, n) < 0) {
		free(v);
		return;
	}
	client_wait(c, v, n, UNTIL_FINAL, timeout, req, reply_waited);
}

/* "lines": a count; absent = default. */
static int request_lines(struct client *c, json_t *req, size_t dflt, size_t *ret) {
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

static void cmd_logs(struct client *c, json_t *req) {
	struct job **v;
	size_t n, lines;
	const char **tail = NULL;

	if (request_lines(c, req, 10, &lines) < 0 || collect_jobs(c, req, false, false, &v, &n) < 0)
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
		client_follow(c, j);
}

static void cmd_history(struct client *c, json_t *req) {
	struct supervisor *s = client_supervisor(c);
	json_t *pats = json_object_get(req, "jobs");
	size_t lines, i, skipped = 0;
	json_t *p;

	if (request_lines(c, req, 0, &lines) < 0)
		return;
	if (!s->history) {
		client_reply_error(c, "no run history: state_dir is not usable (see supd's log)");
		return;
	}
	if (pats && !json_is_array(pats)) {
		client_reply_error(c, "\"jobs\" must be an array of job names or patterns");
		return;
	}
	size_t np = json_array_size(pats);
	const char **v = xcalloc(np ? np : 1, sizeof(char *));
	json_array_foreach(pats, i, p) {
		if (!(v[i] = json_string_value(p))) {
			client_reply_error(c, "\"jobs\" must contain strings");
			free(v);
			return;
		}
	}
	json_t *runs = history_query(s->history, v, np, lines, &skipped);
	free(v);
	client_reply(c, json_pack("{s:b, s:o, s:I}", "ok", true, "runs", runs, "skipped", (json_int_t) skipped));
}

static void cmd_reload(struct client *c, json_t *req) {
	const struct control_hooks *h = client_hooks(c);
	client_reply(c, h->reload(h->userdata));
}

static void cmd_shutdown(struct client *c, json_t *req) {
	const struct control_hooks *h = client_hooks(c);
	client_reply(c, proto_ok());
	h->shutdown(h->userdata);
}

static void cmd_version(struct client *c, json_t *req) {
	client_reply(c, json_pack("{s:b, s:i, s:s}", "ok", true, "protocol", PROTO_VERSION, "version", PACKAGE_VERSION));
}

static void cmd_subscribe(struct client *c, json_t *req) {
	client_reply(c, proto_ok());
	client_subscribe(c);
}

static const struct command commands[] = {
	{ "status", cmd_status },
	{ "start", cmd_start },
	{ "stop", cmd_stop },
	{ "restart", cmd_restart },
	{ "signal", cmd_signal },
	{ "wait", cmd_wait },
	{ "run", cmd_run },
	{ "reload", cmd_reload },
	{ "shutdown", cmd_shutdown },
	{ "version", cmd_version },
	{ "subscribe", cmd_subscribe },
	{ "logs", cmd_logs },
	{ "history", cmd_history },
};

const struct command *command_find(const char *name) {
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void commands_dispatch(struct client *c, const char *line) {
	json_error_t err;
	json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &err);

	if (!req) {
		client_reply_error(c, "bad JSON: %s", err.text);
		return;
	}
	const char *name = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || !name) {
		client_reply_error(c, "a request is an object with a string \"cmd\"");
		json_decref(req);
		return;
	}
	const struct command *cmd = command_find(name);
	if (cmd)
		cmd->run(c, req);
	else
		client_reply_error(c, "unknown command: %.64s", name);
	json_decref(req);
}
