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
