/* SPDX-License-Identifier: ISC */
/* A connection to supd: request lines out, reply lines in, over one of
 * several transports.
 *
 * A transport only opens and closes; reading, writing and line framing are
 * common to all. The Unix socket (conn-unix.c) is the first. A second, such
 * as `-H ssh://HOST` (SPEC §10: `ssh HOST supctl proxy` with its stdin and
 * stdout as the two fds), is one more struct conn_transport chosen in
 * main(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

struct conn;

struct conn_transport {
	const char *name;
	/* Connects: sets rfd, wfd (may be the same fd) and where. Returns 0,
	 * or an exit status (ctl.h) after saying what went wrong. */
	int (*open)(struct conn *c);
	/* Releases what open took besides the fds, which are closed by then
	 * (a transport that runs a program reaps it here). May be NULL. */
	void (*close)(struct conn *c);
};

struct conn {
	const struct conn_transport *transport;
	const char *socket_option; /* -s: the socket, local or remote */
	char *where;               /* what messages name: the socket path */
	int rfd, wfd;              /* replies are read from rfd, requests written to wfd */
	void *data;                /* the transport's own */
	struct line_reader reader;
	bool watch_stdout;         /* end a stream when stdout's reader is gone */
};

/* A closed connection over transport t. */
void conn_init(struct conn *c, const struct conn_transport *t, const char *socket_option);
/* Opens c unless open. Returns 0 or an exit status. */
int conn_open(struct conn *c);
/* Sends one request line (with its '\n'). Returns 0 or an exit status. */
int conn_send(struct conn *c, const char *line, size_t len);
/* Reads the next line from supd. Returns 0 with *ret set (NULL at the end
 * of the stream; valid until the next read), -EPIPE if stdout's reader went
 * away during a stream (watch_stdout), or an exit status after saying what
 * went wrong. */
int conn_read_line(struct conn *c, char **ret);
void conn_close(struct conn *c);

/* The Unix socket of -s, $SUPD_SOCKET or supd's default (SPEC §1). */
extern const struct conn_transport conn_unix;
