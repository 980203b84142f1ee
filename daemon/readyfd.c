/* SPDX-License-Identifier: ISC */
/* The `ready = fd:N` pipe (readyfd.h). */
#include <fcntl.h>
#include <sys/epoll.h>
#include "log.h"
#include "readyfd.h"
#include "util.h"

struct readyfd {
	int fd;                     /* read end, -1 once done */
	sd_event_source *io;
	readyfd_fn ready;
	void *userdata;
};

static void readyfd_stop(struct readyfd *r) {
	r->io = sd_event_source_disable_unref(r->io);
	if (r->fd >= 0)
		(void) close(r->fd);
	r->fd = -1;
}

/* One read per wake: a job writing without end cannot hold the loop. */
static int on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
	struct readyfd *r = userdata;
	char buf[READYFD_READ_MAX];
	ssize_t n;

	(void) src;
	(void) revents;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0)
		log_warn("cannot read the readiness pipe");
	if (n <= 0) {               /* EOF (every write end closed) or broken */
		readyfd_stop(r);
		return 0;
	}
	if (memchr(buf, '\n', (size_t) n)) {
		readyfd_stop(r);
		if (r->ready)
			r->ready(r->userdata);   /* last: it may free r */
	}
	return 0;
}

int readyfd_open(sd_event *e, readyfd_fn ready, void *userdata, struct readyfd **ret, int *ret_write_fd) {
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* only supd's end is non-blocking: the job's writes block as on any pipe */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	struct readyfd *rf = xcalloc(1, sizeof(*rf));
	*rf = (struct readyfd) { .fd = p[0], .ready = ready, .userdata = userdata };
	r = sd_event_add_io(e, &rf->io, p[0], EPOLLIN, on_readable, rf);
	if (r < 0) {
		free(rf);
		goto fail;
	}
	*ret = rf;
	*ret_write_fd = p[1];
	return 0;

fail:
	(void) close(p[0]);
	(void) close(p[1]);
	return r;
}

bool readyfd_waiting(const struct readyfd *r) {
	return r->fd >= 0;
}

void readyfd_free(struct readyfd *r) {
	if (!r)
		return;
	readyfd_stop(r);
	free(r);
}
