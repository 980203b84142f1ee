/* SPDX-License-Identifier: ISC */
/* What supctl writes: messages on stderr, JSON and lines on stdout, and
 * the write errors of stdout, which decide the exit status at the end. */
#pragma once

#include <jansson.h>

#include "util.h"

/* "supctl: MESSAGE" on stderr, after flushing stdout (keeps the order). */
void output_warn(const char *fmt, ...) _printf_(1, 2);
/* A usage error with a pointer to --help; returns EXIT_USAGE. */
int output_usage_error(const char *fmt, ...) _printf_(1, 2);

/* A JSON value as one compact line on stdout. */
void output_json(const json_t *v);
/* A JSON string (which may contain NUL bytes) and a newline on stdout. */
void output_string_line(const json_t *s);
/* Flushes stdout. Returns 0, or -errno (-EPIPE when nobody reads). */
int output_flush(void);
/* True if stdout is a pipe whose reader has gone. */
bool output_reader_gone(void);
/* The exit status after a final flush: a write error turns success into
 * failure, except that a reader who went away ("supctl status | head -1")
 * is no error. */
int output_finish(int status);
/* Opens /dev/null on any of fds 0-2 that is closed, so that the socket
 * cannot become stdout and receive what we print. Returns 0 or -errno. */
int output_guard_std_fds(void);
