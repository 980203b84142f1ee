/* supctl: the command-line client of supd's control socket.
 *
 * Every command is one entry of the table ctl_commands[] (name, usage,
 * operand counts, options, handler, help). A handler builds one request
 * (doc/protocol.md), sends it with ctl_call() and turns the response into
 * output and an exit status (SPEC §1):
 *   0 success, 1 a job failed, 2 usage error, 3 supd not reachable,
 *   4 request refused; run and wait on one job exit as a shell would. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "parse.h"
#include "proto.h"
#include "render.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum {
	EXIT_JOB_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_REFUSED = 4,
	EXIT_TIMED_OUT = 124,
};

/* Responses are limited only by memory; 1 GiB guards against a runaway. */
#define RESPONSE_MAX ((size_t) 1 << 30)

/* Option keys: a printable key is also the short option letter. */
enum {
	OPT_JSON = 128,
	OPT_VERSION,
	OPT_NO_WAIT,
	OPT_TIMEOUT,
	_OPT_MAX,
};

struct ctl_option {
	int key;
	const char *long_name;
	const char *arg;           /* name of its argument, NULL for a flag */
	const char *help;
};

#define CTL_MAX_OPTIONS 3

struct ctl_args;
struct ctl;

struct ctl_command {
	const char *name;
	const char *usage;         /* after "supctl NAME " */
	int min_args, max_args;    /* operands; max -1 = no limit */
	int (*exec)(struct ctl *c, const struct ctl_args *a);
	const char *summary;       /* one line for "supctl --help" */
	const char *help;          /* more for "supctl help NAME", or NULL */
	struct ctl_option options[CTL_MAX_OPTIONS];
};

/* A parsed command line. */
struct ctl_args {
	const struct ctl_command *cmd;
	int argc;                  /* operands of the command */
	char **argv;
	const char *opt[_OPT_MAX]; /* option values by key; "" for a flag given */
};

/* A connection to supd. */
struct ctl {
	const char *socket_option; /* -s */
	char *socket_path;
	bool json;
	bool watch_stdout;         /* end a stream when stdout's reader is gone */
	int fd;
	struct line_reader reader;
	bool progress_shown;       /* a progress line is on stderr */
	bool print_jobs_raw;       /* print a reply's jobs as received (--json) */
};

static const struct ctl_option global_options[] = {
	{ 's', "socket", "SOCKET", "control socket (default: $SUPD_SOCKET, else supd's default)" },
	{ OPT_JSON, "json", NULL, "print JSON (job arrays, JSON lines for streams)" },
	{ 'h', "help", NULL, "show help and exit" },
	{ OPT_VERSION, "version", NULL, "show supctl's version and exit" },
};

static const struct ctl_command *find_command(const char *name);
static void print_command_help(const struct ctl_command *cmd, FILE *f);
static void print_help(FILE *f);

/* --- output --- */

static _printf_(1, 2) void ctl_warn(const char *fmt, ...) {
	va_list ap;

	(void) fflush(stdout);   /* keep the order of output and messages */
	fputs("supctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Reports a usage error; returns EXIT_USAGE. */
static _printf_(1, 2) int usage_error(const char *fmt, ...) {
	va_list ap;

	fputs("supctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'supctl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

static void print_json(const json_t *v) {
	/* one write of the whole text: json_dumpf's many small writes cost
	 * more than the encoding for a status of 1,000 jobs */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (!s)
		return;
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
}

/* errno of the first failed write to stdout, 0 if none failed yet. */
static int output_errno;

/* True if stdout is a pipe whose reader has gone. */
static bool output_reader_gone(void) {
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return output_errno == EPIPE || (poll(&p, 1, 0) > 0 && (p.revents & POLLERR));
}

/* Flushes stdout. Returns 0, or -errno (-EPIPE when nobody reads). */
static int flush_output(void) {
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (!output_errno)
			output_errno = errno ? errno : EIO;
		return output_reader_gone() ? -EPIPE : -output_errno;
	}
	return 0;
}

/* Writes a string that may contain NUL bytes, then a newline. */
static void print_line(const json_t *s) {
	fwrite(json_string_value(s), 1, json_string_length(s), stdout);
	fputc('\n', stdout);
}

/* --- talking to supd --- */

/* The socket path: -s, $SUPD_SOCKET, then supd's own default (SPEC §1).
 * NULL if none can be determined. */
static char *socket_path(const char *option) {
	const char *e;

	if (option && *option)
		return xstrdup(option);
	if ((e = getenv("SUPD_SOCKET")) && *e)
		return xstrdup(e);
	char *p = proto_default_socket_path();
	/* a member of control_group talks to the system supd without -s */
	if (geteuid() != 0 && access(p, F_OK) < 0 && access(SYSTEM_SOCKET, F_OK) == 0) {
		free(p);
		p = xstrdup(SYSTEM_SOCKET);
	}
	return p;
}

/* Waits for a connect() interrupted by a signal to complete. */
static int connect_finish(int fd) {
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof err;

	for (;;) {
		int r = poll(&p, 1, -1);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/* Connects to supd unless connected. Returns 0 or an exit status. */
static int ctl_connect(struct ctl *c) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r = 0;

	if (c->fd >= 0)
		return 0;
	c->socket_path = socket_path(c->socket_option);
	if (strlen(c->socket_path) >= sizeof sa.sun_path)
		r = -ENAMETOOLONG;
	else {
		memcpy(sa.sun_path, c->socket_path, strlen(c->socket_path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			r = -errno;
		else if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
			r = errno == EINTR ? connect_finish(fd) : -errno;
	}
	if (r < 0) {
		ctl_warn("cannot connect to %s: %s", c->socket_path, strerror(-r));
		/* the socket's mode refused us before supd could: still a refusal */
		return r == -EACCES || r == -EPERM ? EXIT_REFUSED : EXIT_UNREACHABLE;
	}
	c->fd = TAKE_FD(fd);
	line_reader_init(&c->reader, RESPONSE_MAX);
	return 0;
}

static void ctl_close(struct ctl *c) {
	if (c->fd >= 0) {
		(void) close(c->fd);
		c->fd = -1;
		line_reader_free(&c->reader);
	}
	free(c->socket_path);
	c->socket_path = NULL;
}

/* In a stream, true once stdout's reader has gone (a closed pipe), so that
 * "supctl events | grep -m1 ..." ends without waiting for another event. */
static bool wait_readable(struct ctl *c) {
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = STDOUT_FILENO, .events = 0 },
	};

	for (;;) {
		int r = poll(p, c->watch_stdout ? 2 : 1, -1);

		if (r < 0 && errno != EINTR)
			return true;   /* let read() report the problem */
		if (r <= 0)
			continue;
		if (c->watch_stdout && (p[1].revents & (POLLERR | POLLHUP)))
			return false;
		if (p[1].revents & POLLNVAL)
			c->watch_stdout = false;
		if (p[0].revents)
			return true;
	}
}

/* Reads the next line from supd. Returns 0 with *ret set (NULL at the end
 * of the stream; valid until the next read), -EPIPE if stdout's reader went
 * away during a stream, or an exit status after saying what went wrong. */
static int ctl_read_line(struct ctl *c, char **ret) {
	*ret = NULL;
	for (;;) {
		char *line;
		ssize_t n;
		int r = line_reader_next(&c->reader, &line);

		if (r < 0) {
			ctl_warn("bad response from supd: message too long");
			return EXIT_UNREACHABLE;
		}
		if (r > 0) {
			if (!*line)
				continue;
			*ret = line;
			return 0;
		}
		if (c->watch_stdout && !wait_readable(c))
			return -EPIPE;
		n = line_reader_fill(&c->reader, c->fd);
		if (n == 0)
			return 0;
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0) {
			ctl_warn("cannot read from %s: %s", c->socket_path, strerror((int) -n));
			return EXIT_UNREACHABLE;
		}
	}
}

/* Parses a line from supd. Returns 0 with *ret set, or an exit status. */
static int parse_message(const char *line, json_t **ret) {
	json_error_t err;
	json_t *msg = json_loads(line, JSON_ALLOW_NUL, &err);

	if (!json_is_object(msg)) {
		ctl_warn("bad response from supd: %s", msg ? "not a JSON object" : err.text);
		json_decref(msg);
		return EXIT_UNREACHABLE;
	}
	*ret = msg;
	return 0;
}

/* Reads the next message from supd, as ctl_read_line(). */
static int ctl_read(struct ctl *c, json_t **ret) {
	char *line;
	int r = ctl_read_line(c, &line);

	*ret = NULL;
	if (r || !line)
		return r;
	return parse_message(line, ret);
}

/* With --json, a successful reply of jobs is printed as supd wrote it:
 * parsing and re-encoding the array was most of the time of a status of
 * 1,000 jobs. Returns false (nothing printed) for any other line. */
static bool print_jobs_as_received(const char *line) {
	static const char head[] = "{\"ok\":true,\"jobs\":[";
	size_t len = strlen(line), start = sizeof head - 2;   /* at the '[' */

	if (len < sizeof head || memcmp(line, head, sizeof head - 1) != 0 || memcmp(line + len - 2, "]}", 2) != 0)
		return false;
	fwrite(line + start, 1, len - 1 - start, stdout);
	fputc('\n', stdout);
	return true;
}

/* Reports an {"ok":false} response and returns EXIT_REFUSED. */
static int report_refusal(const json_t *resp) {
	const char *error = json_string_value(json_object_get(resp, "error"));
	json_t *errors = json_object_get(resp, "errors"), *e;
	size_t i;

	ctl_warn("%s", error ? error : "request refused");
	json_array_foreach(errors, i, e)
		if (json_is_string(e))
			fprintf(stderr, "%s\n", json_string_value(e));
	return EXIT_REFUSED;
}

/* One line on the terminal: "37/100 done, 2 failed". */
static void show_progress(struct ctl *c, const json_t *p) {
	json_int_t done = json_integer_value(json_object_get(p, "done"));
	json_int_t total = json_integer_value(json_object_get(p, "total"));
	json_int_t failed = json_integer_value(json_object_get(p, "failed"));

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

/* Sends one request and reads its response. Returns 0 with *ret set to a
 * successful response (NULL if c->print_jobs_raw printed its jobs as
 * received), or an exit status after printing why not. */
static int ctl_call(struct ctl *c, const json_t *req, json_t **ret) {
	_cleanup_free_ char *line = NULL;
	json_t *resp = NULL, *ok;
	size_t len;
	char *reply;
	int r;

	*ret = NULL;
	r = ctl_connect(c);
	if (r)
		return r;
	line = proto_dump_line(req, &len);
	if (!line) {
		ctl_warn("cannot encode the request");
		return EXIT_USAGE;
	}
	r = write_all(c->fd, line, len);
	/* a refused peer is answered and disconnected before supd reads the
	 * request: the answer may still be there to read */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
		ctl_warn("cannot send to %s: %s", c->socket_path, strerror(-r));
		return EXIT_UNREACHABLE;
	}
	/* progress messages ({"progress":{...}}, wait on a terminal) come first */
	for (;;) {
		r = ctl_read_line(c, &reply);
		if (r)
			return r;
		if (reply && c->print_jobs_raw && print_jobs_as_received(reply)) {
			clear_progress(c);
			return 0;
		}
		if (reply && (r = parse_message(reply, &resp)))
			return r;
		if (!resp || json_object_get(resp, "ok") || !json_object_get(resp, "progress"))
			break;
		show_progress(c, json_object_get(resp, "progress"));
		json_decref(resp);
		resp = NULL;
	}
	clear_progress(c);
	if (!resp) {
		ctl_warn("supd closed the connection without answering");
		return EXIT_UNREACHABLE;
	}
	ok = json_object_get(resp, "ok");
	if (!json_is_boolean(ok)) {
		json_decref(resp);
		ctl_warn("bad response from supd: no \"ok\"");
		return EXIT_UNREACHABLE;
	}
	if (!json_is_true(ok)) {
		r = report_refusal(resp);
		json_decref(resp);
		return r;
	}
	*ret = resp;
	return 0;
}

static void request_set(json_t *req, const char *key, json_t *value);
static json_t *request_new(const char *cmd);

/* Bytes of a JSON value as a request carries it (proto_dump_line():
 * compact, non-ASCII escaped as \uXXXX). */
static size_t encoded_size(const json_t *v) {
	return json_dumpb(v, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
}

/* Bytes of the line that carries req (with its newline). */
static size_t request_size(const json_t *req) {
	return encoded_size(req) + 1;
}

/* The job names of req, each once, in parts whose requests each fit in
 * PROTO_MAX_REQUEST: a new array of arrays, or NULL if one name alone is
 * too long. */
static json_t *split_job_names(const json_t *req) {
	json_auto_t *bare = json_deep_copy(req);
	json_auto_t *seen = json_object();
	json_t *names = json_object_get(req, "jobs"), *name, *parts = json_array(), *part = NULL;
	size_t i, base, used = 0;

	if (!bare || !seen || !parts)
		abort();   /* only out of memory */
	json_object_del(bare, "jobs");
	base = encoded_size(bare) + sizeof ",\"jobs\":[]\n";
	json_array_foreach(names, i, name) {
		size_t n = encoded_size(name) + 1;   /* and a comma */

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
								  : json_object_get(item, "name"));
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
	static const char *const joined[] = { "jobs", "rows" };   /* rows: status for a table */
	json_auto_t *part_req = json_deep_copy(req), *seen = json_object();
	json_auto_t *all_jobs = json_array(), *all_rows = json_array();
	json_t *all[] = { all_jobs, all_rows }, *first = NULL, *part;
	size_t i;
	int r;

	if (!part_req || !seen || !all_jobs || !all_rows)
		abort();   /* only out of memory */
	json_array_foreach(parts, i, part) {
		json_t *resp;

		request_set(part_req, "jobs", json_incref((json_t *) part));
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

/* ctl_call() for a request on jobs whose names do not fit in one request
 * (thousands of instances): one request per part, on the same connection.
 * So that this acts as one request would: every name of stop, restart and
 * signal is checked (by a status of each part) before any job is touched,
 * and stop signals every part before waiting for any. start cannot be
 * checked that way (it creates instances): a part refused there leaves the
 * parts before it started. */
static int ctl_call_split(struct ctl *c, const json_t *req, json_t **ret) {
	json_auto_t *parts = NULL;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	int r;

	if (request_size(req) <= PROTO_MAX_REQUEST)
		return ctl_call(c, req, ret);
	*ret = NULL;
	if (!(parts = split_job_names(req))) {
		ctl_warn("a job name is too long for a request (at most %d bytes)", PROTO_MAX_REQUEST);
		return EXIT_USAGE;
	}
	c->print_jobs_raw = false;   /* one array is printed, not one per part */
	if (streq_ptr(cmd, "stop") || streq_ptr(cmd, "restart") || streq_ptr(cmd, "signal")) {
		json_auto_t *check = request_new("status");
		request_set(check, "columns", json_array());
		if ((r = call_parts(c, check, parts, NULL)))
			return r;
	}
	if (streq_ptr(cmd, "stop") && json_is_true(json_object_get(req, "wait"))) {
		json_auto_t *now = json_deep_copy(req);
		if (!now)
			abort();
		request_set(now, "wait", json_false());
		if ((r = call_parts(c, now, parts, NULL)))
			return r;
	}
	return call_parts(c, req, parts, ret);
}

/* The array `key` of a response, or NULL after reporting its absence. */
static json_t *response_array(const json_t *resp, const char *key) {
	json_t *v = json_object_get(resp, key);

	if (!json_is_array(v)) {
		ctl_warn("bad response from supd: no \"%s\" array", key);
		return NULL;
	}
	return v;
}

/* --- requests --- */

static json_t *request_new(const char *cmd) {
	json_t *req = json_object();

	if (!req || json_object_set_new(req, "cmd", json_string(cmd)) < 0)
		abort();   /* only out of memory */
	return req;
}

static void request_set(json_t *req, const char *key, json_t *value) {
	if (!value || json_object_set_new(req, key, value) < 0)
		abort();   /* only out of memory */
}

/* Adds operands from..argc as the request's "jobs". Returns 0 or EXIT_USAGE. */
static int request_set_jobs(json_t *req, const struct ctl_args *a, int from) {
	json_t *jobs = json_array();

	if (!jobs)
		abort();
	for (int i = from; i < a->argc; i++) {
		json_t *s = json_string(a->argv[i]);

		if (!s) {
			json_decref(jobs);
			return usage_error("not valid UTF-8: %s", a->argv[i]);
		}
		if (json_array_append_new(jobs, s) < 0)
			abort();
	}
	request_set(req, "jobs", jobs);
	return 0;
}

/* Parses -n N into the request's "lines", if given. */
static int request_set_lines(json_t *req, const struct ctl_args *a) {
	long n;

	if (!a->opt['n'])
		return 0;
	if (parse_int(a->opt['n'], 0, INT_MAX, &n) < 0)
		return usage_error("invalid number of lines: %s", a->opt['n']);
	request_set(req, "lines", json_integer(n));
	return 0;
}

/* --- job results --- */

static const char *job_name(const json_t *job) {
	const char *s = json_string_value(json_object_get(job, "name"));
	return s ? s : "?";
}

static bool job_in_state(const json_t *job, const char *state) {
	return streq_ptr(json_string_value(json_object_get(job, "state")), state);
}

/* A job counts as succeeded if its last run exited successfully or the
 * user stopped it cleanly. */
static bool job_succeeded(const json_t *job) {
	/* a job stopped on purpose has not failed, whatever its stop_signal did */
	return job_in_state(job, "exited") || job_in_state(job, "stopped");
}

/* What a shell would report for the job's last run. */
static int job_shell_status(const json_t *job) {
	json_t *st = json_object_get(job, "exit_status");

	if (json_is_integer(st)) {
		json_int_t v = json_integer_value(st);
		return v >= 0 && v <= 255 ? (int) v : EXIT_JOB_FAILED;
	}
	return job_in_state(job, "exited") || job_in_state(job, "stopped") ? 0 : EXIT_JOB_FAILED;
}

static void report_job_failure(const json_t *job) {
	_cleanup_free_ char *why = job_failure_text(job);

	ctl_warn("%s: %s", job_name(job), why);
}

/* The exit status of run and wait: a shell's for one job, else 0 if every
 * job succeeded and 1 if not. Says why each failed job failed. */
static int jobs_exit_status(const json_t *jobs) {
	json_t *job;
	size_t i;
	int r = 0;

	if (json_array_size(jobs) == 1) {
		job = json_array_get(jobs, 0);
		r = job_shell_status(job);
		if (r != 0 && !job_succeeded(job))
			report_job_failure(job);
		return r;
	}
	json_array_foreach(jobs, i, job)
		if (!job_succeeded(job)) {
			report_job_failure(job);
			r = EXIT_JOB_FAILED;
		}
	return r;
}

/* --- commands --- */

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

static int cmd_status(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("status");
	json_auto_t *resp = NULL;
	json_t *jobs;
	int r;

	if (a->argc > 0 && (r = request_set_jobs(req, a, 0)))
		return r;
	if (!c->json)
		request_set(req, "columns", table_columns());
	c->print_jobs_raw = c->json;
	if ((r = ctl_call_split(c, req, &resp)))
		return r;
	if (!resp)
		return 0;   /* printed as received */
	if (!c->json && !json_object_get(resp, "rows") && json_is_array(json_object_get(resp, "jobs")))
		request_set(resp, "rows", rows_of_jobs(json_object_get(resp, "jobs")));   /* an older supd */
	if (!(jobs = response_array(resp, c->json ? "jobs" : "rows")))
		return EXIT_UNREACHABLE;
	if (c->json)
		print_json(jobs);
	else
		(void) render_status_table(jobs, stdout);
	return 0;
}

/* Sends a request whose answer carries "jobs" and prints them with --json.
 * Returns 0 with *resp (to free) and *jobs (inside it) set, or an exit status. */
static int call_for_jobs(struct ctl *c, const json_t *req, json_t **resp, json_t **jobs) {
	int r = ctl_call_split(c, req, resp);

	if (r)
		return r;
	if (!(*jobs = response_array(*resp, "jobs")))
		return EXIT_UNREACHABLE;
	if (c->json)
		print_json(*jobs);
	return 0;
}

/* Sends a request that acts on jobs and prints the jobs it returns. With
 * check_fatal, a job that ended fatal fails the command. */
static int control_jobs(struct ctl *c, const json_t *req, bool check_fatal) {
	json_auto_t *resp = NULL;
	json_t *jobs, *job;
	size_t i;
	int r;

	if ((r = call_for_jobs(c, req, &resp, &jobs)))
		return r;
	if (!check_fatal)
		return 0;
	json_array_foreach(jobs, i, job)
		if (job_in_state(job, "fatal")) {
			const char *error = json_string_value(json_object_get(job, "error"));
			ctl_warn("%s: %s", job_name(job), error && *error ? error : "fatal");
			r = EXIT_JOB_FAILED;
		}
	return r;
}

static int cmd_start(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(a->cmd->name);   /* start or restart */
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	return control_jobs(c, req, true);
}

static int cmd_stop(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("stop");
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	request_set(req, "wait", json_boolean(!a->opt[OPT_NO_WAIT]));
	return control_jobs(c, req, false);
}

static int cmd_signal(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("signal");
	int sig, r;

	if (parse_signal(a->argv[0], &sig) < 0)
		return usage_error("invalid signal: %s", a->argv[0]);
	if ((r = request_set_jobs(req, a, 1)))
		return r;
	request_set(req, "signal", json_integer(sig));
	return control_jobs(c, req, false);
}

/* Sends a run or wait request and turns its answer into the exit status.
 * The daemon answers at the end (progress lines before it are shown by
 * ctl_call when stderr is a terminal). */
static int wait_for_jobs(struct ctl *c, const json_t *req) {
	json_auto_t *resp = NULL;
	json_t *jobs;
	size_t len = request_size(req);
	int r;

	/* one wait must name them all: its timeout and answer cover the set */
	if (len > PROTO_MAX_REQUEST) {
		ctl_warn("too many job names for one wait (%zu bytes, at most %d): "
			 "name them with a pattern such as 'tmpl@*'", len, PROTO_MAX_REQUEST);
		return EXIT_USAGE;
	}
	if ((r = call_for_jobs(c, req, &resp, &jobs)))
		return r;
	if (json_is_true(json_object_get(resp, "timed_out"))) {
		json_t *unfinished = json_object_get(resp, "unfinished"), *name;
		struct buf b = { 0 };
		size_t i;

		buf_append(&b, "", 0);
		json_array_foreach(unfinished, i, name)
			buf_appendf(&b, " %s", json_is_string(name) ? json_string_value(name) : "?");
		ctl_warn("timed out waiting for:%s", b.data);
		buf_free(&b);
		return EXIT_TIMED_OUT;
	}
	return jobs_exit_status(jobs);
}

static int cmd_wait(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("wait");
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	if (isatty(STDERR_FILENO))    /* scripts stay quiet */
		request_set(req, "progress", json_true());
	if (a->opt[OPT_TIMEOUT]) {
		usec_t t;

		if (parse_duration(a->opt[OPT_TIMEOUT], &t) < 0)
			return usage_error("invalid duration: %s", a->opt[OPT_TIMEOUT]);
		request_set(req, "timeout", json_real((double) t / (double) USEC_PER_SEC));
	}
	return wait_for_jobs(c, req);
}

static int cmd_run(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("run");
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	return wait_for_jobs(c, req);
}

/* Prints messages of a stream until it ends; each is either printed as is
 * (--json) or handed to print_one. */
static int follow_stream(struct ctl *c, void (*print_one)(const json_t *msg)) {
	c->watch_stdout = true;
	for (;;) {
		json_auto_t *msg = NULL;
		int r = ctl_read(c, &msg);

		if (r == -EPIPE)
			return 0;
		if (r)
			return r;
		if (!msg)
			return 0;   /* supd went away or ended the stream */
		if (json_is_false(json_object_get(msg, "ok")))
			return report_refusal(msg);
		if (c->json)
			print_json(msg);
		else
			print_one(msg);
		r = flush_output();
		if (r == -EPIPE)
			return 0;
		if (r < 0)
			return EXIT_FAILURE;   /* reported by finish_output() */
	}
}

static void print_log_line(const json_t *msg) {
	json_t *line = json_object_get(msg, "line");

	if (json_is_string(line))
		print_line(line);
}

static int cmd_logs(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("logs");
	json_auto_t *resp = NULL;
	json_t *lines, *line;
	size_t i;
	int r;

	if ((r = request_set_jobs(req, a, 0)) || (r = request_set_lines(req, a)))
		return r;
	request_set(req, "follow", json_boolean(a->opt['f']));
	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (!(lines = response_array(resp, "lines")))
		return EXIT_UNREACHABLE;
	if (c->json)
		print_json(resp);
	else
		json_array_foreach(lines, i, line)
			if (json_is_string(line))
				print_line(line);
	if (!a->opt['f'])
		return 0;
	if (flush_output() < 0)
		return 0;                      /* reported by finish_output() */
	return follow_stream(c, print_log_line);
}

static int cmd_history(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new("history");
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
	if (!(runs = response_array(resp, "runs")))
		return EXIT_UNREACHABLE;
	if (c->json)
		json_array_foreach(runs, i, run)
			print_json(run);
	else
		(void) render_history(runs, stdout);
	return 0;
}

static void print_event(const json_t *ev) {
	(void) render_event(ev, stdout);
}

static int cmd_events(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new("subscribe");
	json_auto_t *resp = NULL;
	int r;

	if ((r = ctl_call(c, req, &resp)))
		return r;
	return follow_stream(c, print_event);
}

/* Prints "added: a b" for a non-empty list; returns whether it did. */
static bool print_change(const json_t *resp, const char *key) {
	json_t *names = json_object_get(resp, key), *name;
	size_t i;

	if (json_array_size(names) == 0)
		return false;
	printf("%s:", key);
	json_array_foreach(names, i, name)
		printf(" %s", json_is_string(name) ? json_string_value(name) : "?");
	putchar('\n');
	return true;
}

static int cmd_reload(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new("reload");
	json_auto_t *resp = NULL;
	bool any = false;
	int r;

	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (c->json) {
		print_json(resp);
		return 0;
	}
	any |= print_change(resp, "added");
	any |= print_change(resp, "removed");
	any |= print_change(resp, "changed");
	if (!any)
		puts("no changes");
	return 0;
}

static int cmd_shutdown(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new("shutdown");
	json_auto_t *resp = NULL;
	int r;

	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (c->json)
		print_json(resp);
	return 0;
}

static int cmd_version(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new("version");
	json_auto_t *resp = NULL;
	json_t *proto;
	const char *version;
	int r;

	if (!c->json)
		printf("supctl %s (protocol %d)\n", PACKAGE_VERSION, PROTO_VERSION);
	if ((r = ctl_call(c, req, &resp)))
		return r;
	proto = json_object_get(resp, "protocol");
	if (c->json) {
		request_set(resp, "supctl_version", json_string(PACKAGE_VERSION));
		print_json(resp);
	} else {
		version = json_string_value(json_object_get(resp, "version"));
		printf("supd %s (protocol %lld)\n", version ? version : "?",
		       json_is_integer(proto) ? (long long) json_integer_value(proto) : -1LL);
	}
	if (json_is_integer(proto) && json_integer_value(proto) != PROTO_VERSION)
		ctl_warn("warning: supd speaks protocol %lld, supctl %d",
		      (long long) json_integer_value(proto), PROTO_VERSION);
	return 0;
}

static int cmd_help(_unused_ struct ctl *c, const struct ctl_args *a) {
	const struct ctl_command *cmd;

	if (a->argc == 0) {
		print_help(stdout);
		return 0;
	}
	cmd = find_command(a->argv[0]);
	if (!cmd)
		return usage_error("unknown command: %s", a->argv[0]);
	print_command_help(cmd, stdout);
	return 0;
}

/* The commands, in the order "supctl --help" lists them. */
static const struct ctl_command ctl_commands[] = {
	{ "status", "[PATTERN...]", 0, -1, cmd_status,
	  "show the state of jobs",
	  "One row per job: NAME STATE PID SINCE EXIT RESTARTS. SINCE is the uptime\n"
	  "of a running job, else the duration of its last run; EXIT is the last\n"
	  "run's exit code, the signal that killed it, or \"timeout\". Exits 0\n"
	  "whenever the query succeeds. --json prints the array of job objects.", { { 0 } } },
	{ "start", "PATTERN...", 1, -1, cmd_start,
	  "start jobs",
	  "\"tmpl@arg\" creates an instance of the template \"tmpl@\". Returns once\n"
	  "each job is running or queued; exits 1 if a job went fatal.", { { 0 } } },
	{ "stop", "[--no-wait] PATTERN...", 1, -1, cmd_stop,
	  "stop jobs",
	  "Sends each job's stop_signal to its process group, then SIGKILL after\n"
	  "stop_timeout, and returns once the jobs are stopped.",
	  { { OPT_NO_WAIT, "no-wait", NULL, "return once the stop signal is sent" } } },
	{ "restart", "PATTERN...", 1, -1, cmd_start,
	  "stop jobs, then start them again",
	  "Exits 1 if a job went fatal.", { { 0 } } },
	{ "signal", "SIG PATTERN...", 2, -1, cmd_signal,
	  "send a signal to jobs",
	  "SIG is a name (HUP, SIGUSR1) or a number; it goes to the process group\n"
	  "of each job.", { { 0 } } },
	{ "wait", "[--timeout DUR] PATTERN...", 1, -1, cmd_wait,
	  "wait until jobs are finished",
	  "Waits until every job is in a final state (stopped, exited, failed,\n"
	  "fatal). For one job, exits as a shell would for its last run: the exit\n"
	  "code, 128+N if killed by signal N, 124 if it timed out. For several,\n"
	  "exits 0 if all succeeded, else 1. When DUR (250ms, 1.5s, 2m) expires,\n"
	  "prints the unfinished jobs and exits 124.",
	  { { OPT_TIMEOUT, "timeout", "DUR", "give up after DUR" } } },
	{ "run", "JOB", 1, 1, cmd_run,
	  "start a job and wait for its run to end",
	  "Exits as a shell would: the job's exit code, 128+N if it was killed by\n"
	  "signal N, 124 if it hit its timeout.", { { 0 } } },
	{ "logs", "[-f] [-n N] JOB", 1, 1, cmd_logs,
	  "print a job's captured output",
	  "Prints the last lines the job wrote to stdout/stderr = log.",
	  { { 'f', "follow", NULL, "keep printing new lines as they come" },
	    { 'n', "lines", "N", "print the last N lines" } } },
	{ "history", "[-n N] [PATTERN...]", 0, -1, cmd_history,
	  "list finished runs",
	  "Oldest first: RUN NAME STARTED DURATION EXIT. --json prints one run\n"
	  "object per line.",
	  { { 'n', "lines", "N", "only the last N runs" } } },
	{ "events", "", 0, 0, cmd_events,
	  "print state changes as they happen",
	  "One line per event: TIME NAME EVENT STATE [detail]. --json prints one\n"
	  "event object per line.", { { 0 } } },
	{ "reload", "", 0, 0, cmd_reload,
	  "re-read the configuration",
	  "Prints the jobs added, removed and changed. A bad configuration changes\n"
	  "nothing: its errors are printed and supctl exits 4.", { { 0 } } },
	{ "shutdown", "", 0, 0, cmd_shutdown,
	  "stop every job and make supd exit", NULL, { { 0 } } },
	{ "version", "", 0, 0, cmd_version,
	  "print the versions of supctl and supd", NULL, { { 0 } } },
	{ "help", "[COMMAND]", 0, 1, cmd_help,
	  "show help for supctl or one command", NULL, { { 0 } } },
};
static const size_t n_ctl_commands = ELEMENTSOF(ctl_commands);

/* --- command-line parsing and help --- */

static const struct ctl_command *find_command(const char *name) {
	for (size_t i = 0; i < n_ctl_commands; i++)
		if (streq_ptr(ctl_commands[i].name, name))
			return &ctl_commands[i];
	return NULL;
}

static const struct ctl_option *find_in(const struct ctl_option *opts, size_t n, const char *long_name, int key) {
	for (size_t i = 0; i < n && opts[i].key; i++) {
		if (long_name && streq_ptr(opts[i].long_name, long_name))
			return &opts[i];
		if (!long_name && key < 128 && opts[i].key == key)
			return &opts[i];
	}
	return NULL;
}

/* Looks an option up among the global ones, then the command's. */
static const struct ctl_option *find_option(const struct ctl_command *cmd, const char *long_name, int key) {
	const struct ctl_option *o = find_in(global_options, ELEMENTSOF(global_options), long_name, key);

	if (!o && cmd)
		o = find_in(cmd->options, CTL_MAX_OPTIONS, long_name, key);
	return o;
}

static void print_options(FILE *f, const struct ctl_option *opts, size_t n) {
	for (size_t i = 0; i < n && opts[i].key; i++) {
		const struct ctl_option *o = &opts[i];
		_cleanup_free_ char *s = xasprintf("%c%c%c --%s%s%s",
						   o->key < 128 ? '-' : ' ', o->key < 128 ? o->key : ' ',
						   o->key < 128 ? ',' : ' ', o->long_name,
						   o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-22s %s\n", s, o->help);
	}
}

static void print_command_help(const struct ctl_command *cmd, FILE *f) {
	fprintf(f, "usage: supctl %s%s%s\n\n%c%s.\n%s%s", cmd->name, *cmd->usage ? " " : "", cmd->usage,
		toupper((unsigned char) cmd->summary[0]), cmd->summary + 1,
		cmd->help ? cmd->help : "", cmd->help ? "\n" : "");
	if (cmd->options[0].key) {
		fputs("\nOptions:\n", f);
		print_options(f, cmd->options, CTL_MAX_OPTIONS);
	}
}

static void print_help(FILE *f) {
	fputs("usage: supctl [-s SOCKET] [--json] COMMAND [ARGS]\n\n"
	      "Control the supd process supervisor.\n\nCommands:\n", f);
	for (size_t i = 0; i < n_ctl_commands; i++) {
		const struct ctl_command *cmd = &ctl_commands[i];
		_cleanup_free_ char *s = xasprintf("%s %s", cmd->name, cmd->usage);
		fprintf(f, "  %-32s %s\n", s, cmd->summary);
	}
	fputs("\nOptions (anywhere before \"--\"):\n", f);
	print_options(f, global_options, ELEMENTSOF(global_options));
	fputs("\nPATTERN is a job name, a shell glob over names ('encrypt@*') or a\n"
	      "template or pool name meaning all its instances.\n"
	      "\nExit status: 0 success, 1 a job failed, 2 usage error, 3 supd not\n"
	      "reachable, 4 request refused. run, and wait on one job, exit as a shell\n"
	      "would: the exit code, 128+N if killed by signal N, 124 if timed out.\n"
	      "\nSee supctl(1).\n", f);
}

/* Sets the value of an option; returns 0 or EXIT_USAGE. */
static int take_option(struct ctl_args *a, const struct ctl_option *o, const char *inline_value,
		       int argc, char **argv, int *i) {
	if (!o->arg) {
		if (inline_value)
			return usage_error("option --%s takes no argument", o->long_name);
		a->opt[o->key] = "";
		return 0;
	}
	if (inline_value) {
		a->opt[o->key] = inline_value;
		return 0;
	}
	if (*i + 1 >= argc)
		return usage_error("option --%s requires an argument", o->long_name);
	a->opt[o->key] = argv[++*i];
	return 0;
}

/* Splits argv into global options, the command, its options and its
 * operands. Options may come before or after the command name, up to "--".
 * Returns 0, or an exit status when supctl should stop. */
static int parse_args(int argc, char **argv, struct ctl_args *a) {
	bool dashdash = false;
	int r;

	a->argv = xcalloc((size_t) argc + 1, sizeof(char *));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			if (a->cmd) {
				a->argv[a->argc++] = argv[i];
				continue;
			}
			a->cmd = find_command(arg);
			if (!a->cmd)
				return usage_error("unknown command: %s", arg);
			continue;
		}
		if (streq_ptr(arg, "--")) {
			dashdash = true;
			continue;
		}
		if (arg[1] == '-') {
			_cleanup_free_ char *name = xstrdup(arg + 2);
			char *eq = strchr(name, '=');
			const struct ctl_option *o;

			if (eq)
				*eq = '\0';
			o = find_option(a->cmd, name, 0);
			if (!o)
				return usage_error("unknown option: --%s", name);
			r = take_option(a, o, eq ? arg + 2 + (eq - name) + 1 : NULL, argc, argv, &i);
			if (r)
				return r;
			continue;
		}
		for (const char *p = arg + 1; *p; p++) {
			const struct ctl_option *o = find_option(a->cmd, NULL, (unsigned char) *p);

			if (!o)
				return usage_error("unknown option: -%c", *p);
			r = take_option(a, o, o->arg && p[1] ? p + 1 : NULL, argc, argv, &i);
			if (r)
				return r;
			if (o->arg)
				break;
		}
	}

	if (a->opt['h']) {
		if (a->cmd)
			print_command_help(a->cmd, stdout);
		else
			print_help(stdout);
		return EXIT_SUCCESS;
	}
	if (a->opt[OPT_VERSION]) {
		printf("supctl %s (protocol %d)\n", PACKAGE_VERSION, PROTO_VERSION);
		return EXIT_SUCCESS;
	}
	if (!a->cmd) {
		return usage_error("no command given\nusage: supctl [-s SOCKET] [--json] COMMAND [ARGS]");
	}
	if (a->argc < a->cmd->min_args || (a->cmd->max_args >= 0 && a->argc > a->cmd->max_args)) {
		fprintf(stderr, "supctl: %s: %s\nusage: supctl %s%s%s\n", a->cmd->name,
			a->argc < a->cmd->min_args ? "missing argument" : "too many arguments",
			a->cmd->name, *a->cmd->usage ? " " : "", a->cmd->usage);
		return EXIT_USAGE;
	}
	return -1;
}

/* Flushes stdout at exit: a write error turns success into failure, except
 * that a reader who went away ("supctl status | head -1") is no error. */
static int finish_output(int status) {
	int r = flush_output();

	if (r == 0 && output_errno)
		r = -output_errno;   /* stdout was closed when supctl started */

	if (r == 0 || r == -EPIPE)
		return status;
	fprintf(stderr, "supctl: cannot write output: %s\n", strerror(-r));
	return status ? status : EXIT_FAILURE;
}

/* Opens /dev/null on any of fds 0-2 that is closed, so that the socket
 * cannot become stdout and receive what we print. */
static int guard_std_fds(void) {
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free fd is fd, since the ones below it are open */
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -errno;
		if (fd == STDOUT_FILENO)
			output_errno = EBADF;
	}
	return 0;
}

int main(int argc, char **argv) {
	static struct ctl_args args;
	struct ctl c = { .fd = -1 };
	int r;

	/* A closed socket or pipe must be an error return, never a death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return EXIT_FAILURE;
	if (guard_std_fds() < 0)
		return EXIT_FAILURE;

	r = parse_args(argc, argv, &args);
	if (r < 0) {
		c.socket_option = args.opt['s'];
		c.json = args.opt[OPT_JSON] != NULL;
		r = args.cmd->exec(&c, &args);
		ctl_close(&c);
	}
	free(args.argv);
	return finish_output(r);
}
