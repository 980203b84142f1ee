/* SPDX-License-Identifier: ISC */
/* The Unix socket transport: supd's control socket on this machine. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "util.h"

/* The socket path: -s, $SUPD_SOCKET, then supd's own default (SPEC §1). */
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

static int unix_open(struct conn *c) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r = 0;

	free(c->where);
	c->where = socket_path(c->socket_option);
	if (strlen(c->where) >= sizeof sa.sun_path)
		r = -ENAMETOOLONG;
	else {
		memcpy(sa.sun_path, c->where, strlen(c->where) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			r = -errno;
		else if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
			r = errno == EINTR ? connect_finish(fd) : -errno;
	}
	if (r < 0) {
		output_warn("cannot connect to %s: %s", c->where, strerror(-r));
		/* the socket's mode refused us before supd could: still a refusal */
		return r == -EACCES || r == -EPERM ? EXIT_REFUSED : EXIT_UNREACHABLE;
	}
	c->rfd = c->wfd = TAKE_FD(fd);
	return 0;
}

const struct conn_transport conn_unix = {
	.name = "unix",
	.open = unix_open,
	.close = NULL,
};
