/* SPDX-License-Identifier: ISC */
/* What every transport to supd shares: line framing and I/O (conn.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "ctl.h"
#include "output.h"
#include "util.h"

/* Replies are limited only by memory; 1 GiB guards against a runaway. */
#define REPLY_MAX ((size_t) 1 << 30)

void conn_init(struct conn *c, const struct conn_transport *t, const char *socket_option) {
	*c = (struct conn) { .transport = t, .socket_option = socket_option, .rfd = -1, .wfd = -1 };
}

int conn_open(struct conn *c) {
	int r;

	if (c->rfd >= 0)
		return 0;
	r = c->transport->open(c);
	if (r)
		return r;
	line_reader_init(&c->reader, REPLY_MAX);
	return 0;
}

int conn_send(struct conn *c, const char *line, size_t len) {
	int r = write_all(c->wfd, line, len);

	/* a refused peer is answered and disconnected before supd reads the
	 * request: the answer may still be there to read */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
		output_warn("cannot send to %s: %s", c->where, strerror(-r));
		return EXIT_UNREACHABLE;
	}
	return 0;
}

/* In a stream, true once stdout's reader has gone (a closed pipe), so that
 * "supctl events | grep -m1 ..." ends without waiting for another event. */
static bool wait_readable(struct conn *c) {
	struct pollfd p[2] = {
		{ .fd = c->rfd, .events = POLLIN },
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

int conn_read_line(struct conn *c, char **ret) {
	*ret = NULL;
	for (;;) {
		char *line;
		ssize_t n;
		int r = line_reader_next(&c->reader, &line);

		if (r < 0) {
			output_warn("bad response from supd: message too long");
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
		n = line_reader_fill(&c->reader, c->rfd);
		if (n == 0)
			return 0;
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0) {
			output_warn("cannot read from %s: %s", c->where, strerror((int) -n));
			return EXIT_UNREACHABLE;
		}
	}
}

void conn_close(struct conn *c) {
	if (c->rfd >= 0) {
		if (c->wfd != c->rfd)
			(void) close(c->wfd);
		(void) close(c->rfd);
		c->rfd = c->wfd = -1;
		line_reader_free(&c->reader);
		if (c->transport->close)
			c->transport->close(c);
	}
	free(c->where);
	c->where = NULL;
}
