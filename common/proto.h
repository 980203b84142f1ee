/* SPDX-License-Identifier: ISC */
/* The control protocol shared by supd and supctl.
 *
 * SOCK_STREAM Unix socket; newline-delimited JSON: one request object per
 * line, one response object per line, in order.
 *   request:  {"cmd": "status", "jobs": ["enc*"], ...arguments}
 *   response: {"ok": true, ...} or {"ok": false, "error": "unknown job: x"}
 * "subscribe" turns the connection into a stream of event objects.
 * "wait"/"run" answer only when the jobs are final.
 *
 * Bump PROTO_VERSION if any message shape below changes incompatibly. */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "util.h"

#define PROTO_VERSION 1
#define PROTO_MAX_REQUEST (64 * 1024)      /* bytes, newline included */

/* The names below are the wire contract of doc/protocol.md: supd and
 * supctl of different builds talk to each other through them. Adding a
 * command or an optional field is compatible; renaming or removing one,
 * or changing what a value means, is not: bump PROTO_VERSION if these
 * change. */

/* Commands: the "cmd" of a request. */
#define PROTO_CMD_STATUS    "status"
#define PROTO_CMD_START     "start"
#define PROTO_CMD_STOP      "stop"
#define PROTO_CMD_RESTART   "restart"
#define PROTO_CMD_SIGNAL    "signal"
#define PROTO_CMD_WAIT      "wait"
#define PROTO_CMD_RUN       "run"
#define PROTO_CMD_RELOAD    "reload"
#define PROTO_CMD_SHUTDOWN  "shutdown"
#define PROTO_CMD_REOPEN    "reopen"
#define PROTO_CMD_VERSION   "version"
#define PROTO_CMD_SUBSCRIBE "subscribe"
#define PROTO_CMD_LOGS      "logs"
#define PROTO_CMD_HISTORY   "history"
#define PROTO_CMD_DEPS      "deps"

/* Fields of requests. */
#define PROTO_REQ_CMD       "cmd"
#define PROTO_REQ_JOBS      "jobs"       /* PATTERNs */
#define PROTO_REQ_COLUMNS   "columns"    /* status: fields wanted as rows */
#define PROTO_REQ_WAIT      "wait"       /* stop: answer once stopped */
#define PROTO_REQ_SIGNAL    "signal"     /* signal: name or number */
#define PROTO_REQ_TIMEOUT   "timeout"    /* wait: seconds or a duration */
#define PROTO_REQ_PROGRESS  "progress"   /* wait: send progress lines */
#define PROTO_REQ_LINES     "lines"      /* logs, history: how many */
#define PROTO_REQ_FOLLOW    "follow"     /* logs: then stream new lines */
#define PROTO_REQ_UP        "up"         /* wait: until up (running), not final */

/* Fields of replies (and of the messages of a stream). */
#define PROTO_REP_OK        "ok"
#define PROTO_REP_ERROR     "error"      /* why ok is false */
#define PROTO_REP_ERRORS    "errors"     /* reload: the config's FILE:LINE: messages */
#define PROTO_REP_JOBS      "jobs"       /* JOB objects */
#define PROTO_REP_ROWS      "rows"       /* status with columns */
#define PROTO_REP_TIMED_OUT "timed_out"  /* wait, run */
#define PROTO_REP_UNFINISHED "unfinished"
#define PROTO_REP_PROGRESS  "progress"   /* {"done","total","failed"} */
#define PROTO_REP_DONE      "done"
#define PROTO_REP_TOTAL     "total"
#define PROTO_REP_FAILED    "failed"
#define PROTO_REP_LINES     "lines"      /* logs */
#define PROTO_REP_LINE      "line"       /* logs --follow, one per message */
#define PROTO_REP_RUNS      "runs"       /* history: RUN objects */
#define PROTO_REP_SKIPPED   "skipped"    /* history: torn records */
#define PROTO_REP_ADDED     "added"      /* reload */
#define PROTO_REP_REMOVED   "removed"
#define PROTO_REP_CHANGED   "changed"
#define PROTO_REP_PROTOCOL  "protocol"   /* version: PROTO_VERSION */
#define PROTO_REP_VERSION   "version"    /* version: the package's */
#define PROTO_REP_STOPPED   "stopped"    /* stop: names of the dependents stopped first */
#define PROTO_REP_DEPS      "deps"       /* deps: DEP nodes */
#define PROTO_DEP_NAME      "name"       /* DEP: {name, state, cond, requires: [DEP]} */
#define PROTO_DEP_STATE     "state"      /* null: no such job (yet) */
#define PROTO_DEP_COND      "cond"       /* how its parent requires it; absent at the top */
#define PROTO_DEP_REQUIRES  "requires"
#define PROTO_DEP_TRUNCATED "truncated"  /* deps: the tree was cut at PROTO_DEPS_MAX nodes */
#define PROTO_DEPS_MAX      10000

/* Fields of JOB, RUN and EVENT objects (SPEC §4, doc/protocol.md). */
#define PROTO_JOB_NAME        "name"
#define PROTO_JOB_STATE       "state"
#define PROTO_JOB_WANT        "want"        /* "up" | "down" */
#define PROTO_JOB_SINCE       "since"       /* when it entered its state */
#define PROTO_JOB_PID         "pid"
#define PROTO_JOB_RUN         "run"
#define PROTO_JOB_STARTED_AT  "started_at"
#define PROTO_JOB_ENDED_AT    "ended_at"
#define PROTO_JOB_DURATION_S  "duration_s"
#define PROTO_JOB_EXIT_CODE   "exit_code"
#define PROTO_JOB_SIGNAL      "signal"      /* a name: "KILL" */
#define PROTO_JOB_TIMED_OUT   "timed_out"
#define PROTO_JOB_EXIT_STATUS "exit_status" /* as a shell reports it */
#define PROTO_JOB_RESTARTS    "restarts"
#define PROTO_JOB_CPU_USER_S  "cpu_user_s"
#define PROTO_JOB_CPU_SYS_S   "cpu_sys_s"
#define PROTO_JOB_MAX_RSS_KB  "max_rss_kb"
#define PROTO_JOB_STAGES      "stages"      /* [{argv0, pid, exit_code, signal}] */
#define PROTO_JOB_ERROR       "error"
#define PROTO_JOB_READY       "ready"       /* SPEC §7: the run is up */
#define PROTO_JOB_HEALTH      "health"      /* "healthy" | "unhealthy" | "unknown" | null */
#define PROTO_JOB_STATUS_TEXT "status_text" /* the run's STATUS=, or null */
#define PROTO_JOB_WAITING_FOR "waiting_for" /* [names] */
#define PROTO_JOB_EVENT       "event"       /* EVENT only */
#define PROTO_STAGE_ARGV0     "argv0"

/* Values of "state" that clients compare with. */
#define PROTO_STATE_STOPPED "stopped"
#define PROTO_STATE_EXITED  "exited"
#define PROTO_STATE_FATAL   "fatal"
#define PROTO_STATE_RUNNING "running"
#define PROTO_STATE_FAILED  "failed"
#define PROTO_STATE_STARTING "starting"
#define PROTO_STATE_WAITING "waiting"

/* Values of "event". A transition that starts or ends a run is sent as
 * "started" or "exited" (carrying the new state), then as "state". */
#define PROTO_EVENT_STARTED "started"
#define PROTO_EVENT_EXITED  "exited"
#define PROTO_EVENT_STATE   "state"
#define PROTO_EVENT_READY   "ready"       /* a starting run became up */
#define PROTO_EVENT_HEALTH  "health"      /* its health changed */

/* Reads newline-terminated lines from a non-blocking or blocking fd into a
 * bounded buffer. */
struct line_reader {
	char *buf;
	size_t len, cap;
	size_t max;        /* a line longer than this is an error (-EMSGSIZE) */
	bool skipping;     /* dropping the rest of an oversized line */
	size_t pending_drop; /* bytes of the line last handed out */
	size_t scanned;    /* bytes at the front known to hold no newline */
};

void line_reader_init(struct line_reader *r, size_t max);
void line_reader_free(struct line_reader *r);
/* Read what is available from fd. Returns bytes read (>0), 0 at EOF,
 * -EAGAIN when nothing is available, or -errno. */
ssize_t line_reader_fill(struct line_reader *r, int fd);
/* Take the next complete line (without '\n', NUL-terminated; valid until
 * the next call). Returns 1 with *line set, 0 if none is complete, or
 * -EMSGSIZE once per oversized line (which is then skipped). */
int line_reader_next(struct line_reader *r, char **line);

/* supd's socket when neither the config nor -s names one (SPEC §1):
 * $RUNTIME_DIRECTORY/supd.sock under systemd, /run/supd/supd.sock as root,
 * else $XDG_RUNTIME_DIR/supd/supd.sock, else /tmp/supd-UID/supd.sock. */
char *proto_default_socket_path(void);
#define SYSTEM_SOCKET "/run/supd/supd.sock"

/* Serialise a JSON object as one compact line with '\n'. Caller frees. */
char *proto_dump_line(const json_t *msg, size_t *len);
/* The same line appended to b without an intermediate copy. */
void proto_dump_append(const json_t *msg, struct buf *b);
json_t *proto_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *proto_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
json_t *proto_ok(void);
/* A JSON string from arbitrary bytes: invalid UTF-8 becomes U+FFFD. */
json_t *proto_string(const char *s);
/* The same string as quoted JSON text appended to b. */
void proto_append_string(struct buf *b, const char *s);
