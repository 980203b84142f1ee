/* SPDX-License-Identifier: ISC */
/* Captured job output (see joblog.h). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include "joblog.h"
#include "log.h"

struct joblog *joblog_new(const char *name, const char *dir, size_t max_lines, joblog_line_fn line, void *userdata) {
	struct joblog *l = xcalloc(1, sizeof(*l));

	l->name = xstrdup(name);
	l->dir = dir ? xstrdup(dir) : NULL;
	l->line = line;
	l->userdata = userdata;
	l->pipe_fd = -1;
	l->file_fd = -1;
	l->max = max_lines ? max_lines : 1000;
	return l;
}

char *joblog_file_path(const struct joblog *l) {
	if (!l->dir)
		return NULL;
	return xasprintf("%s/%s.log", l->dir, l->name);
}

static void file_open(struct joblog *l) {
	_cleanup_free_ char *path = joblog_file_path(l);
	struct stat st;

	if (!path || l->file_failed)
		return;
	if (mkdir(l->dir, 0750) < 0 && errno != EEXIST)
		goto fail;
	l->file_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (l->file_fd < 0 || fstat(l->file_fd, &st) < 0)
		goto fail;
	l->file_size = st.st_size;
	return;
fail:
	log_warn("%s: cannot write its log file %s, keeping output in memory only", l->name, path);
	if (l->file_fd >= 0)
		close(l->file_fd);
	l->file_fd = -1;
	l->file_failed = true;
}

static void file_rotate(struct joblog *l) {
	_cleanup_free_ char *path = joblog_file_path(l);
	_cleanup_free_ char *old = xasprintf("%s.1", path);

	close(l->file_fd);
	l->file_fd = -1;
	if (rename(path, old) < 0)
		log_warn("%s: cannot rotate %s", l->name, path);
	file_open(l);
}

/* Append raw output to the log file. */
static void file_write(struct joblog *l, const char *p, size_t n) {
	if (l->file_fd < 0)
		file_open(l);
	if (l->file_fd < 0)
		return;
	if (write_all(l->file_fd, p, n) < 0) {
		log_warn("%s: writing its log file", l->name);
		close(l->file_fd);
		l->file_fd = -1;
		l->file_failed = true;
		return;
	}
	l->file_size += (off_t) n;
	if (l->file_size > (off_t) JOBLOG_FILE_MAX)
		file_rotate(l);
}

/* Grow the ring while it is not full: a job that prints little costs little. */
static void ring_grow(struct joblog *l) {
	size_t cap = l->cap ? l->cap * 2 : 16;
	if (cap > l->max)
		cap = l->max;
	char **ring = xcalloc(cap, sizeof(char *));
	for (size_t i = 0; i < l->n; i++)
		ring[i] = l->ring[(l->head + i) % l->cap];
	free(l->ring);
	l->ring = ring;
	l->cap = cap;
	l->head = 0;
}

static void ring_push(struct joblog *l, const char *line, size_t len) {
	if (l->n == l->cap && l->cap < l->max)
		ring_grow(l);
	size_t slot = (l->head + l->n) % l->cap;
	if (l->n == l->cap) {
		slot = l->head;
		l->head = (l->head + 1) % l->cap;
		free(l->ring[slot]);
	} else
		l->n++;
	l->ring[slot] = xstrndup(line, len);
	l->line(l->userdata, l->ring[slot]);
}

/* Split a chunk of output into lines. */
static void take_output(struct joblog *l, const char *p, size_t n) {
	file_write(l, p, n);
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t chunk = nl ? (size_t) (nl - p) : n;
		size_t room = JOBLOG_MAX_LINE - l->partial.len;
		if (chunk > room) {         /* overlong: cut it here */
			buf_append(&l->partial, p, room);
			ring_push(l, l->partial.data, l->partial.len);
			l->partial.len = 0;
			p += room;
			n -= room;
			continue;
		}
		buf_append(&l->partial, p, chunk);
		p += chunk;
		n -= chunk;
		if (!nl)
			break;
		ring_push(l, l->partial.data ? l->partial.data : "", l->partial.len);
		l->partial.len = 0;
		p++;
		n--;
	}
}

static void close_pipe(struct joblog *l) {
	if (l->partial.len > 0) {
		ring_push(l, l->partial.data, l->partial.len);
		l->partial.len = 0;
	}
	l->io = sd_event_source_disable_unref(l->io);
	if (l->pipe_fd >= 0)
		close(l->pipe_fd);
	l->pipe_fd = -1;
	/* a finished job holds no fd: thousands of instances must not run
	 * supd out of descriptors */
	if (l->file_fd >= 0)
		close(l->file_fd);
	l->file_fd = -1;
}

enum batch_end { BATCH_DRAINED, BATCH_MORE, BATCH_EOF };

/* Read one bounded batch so a chatty job cannot starve the others. */
static enum batch_end read_batch(struct joblog *l, size_t max) {
	char chunk[65536];
	size_t total = 0;

	while (total < max) {
		ssize_t n = read(l->pipe_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? BATCH_DRAINED : BATCH_EOF;
		if (n == 0)
			return BATCH_EOF;
		take_output(l, chunk, (size_t) n);
		total += (size_t) n;
	}
	return BATCH_MORE;
}

/* The capture pipes are edge-triggered: level-triggered, every one at EOF
 * and not yet read would be polled again by each epoll_wait(), and sd-event
 * dispatches one source per wait. Stopping 10,000 jobs took 17 s that way. */
#define CAPTURE_EVENTS (EPOLLIN | EPOLLET)

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct joblog *l = userdata;

	switch (read_batch(l, 256 * 1024)) {
	case BATCH_EOF:
		close_pipe(l);
		break;
	case BATCH_MORE:
		/* not drained, so no new edge would come: setting the events
		 * again re-arms it (sd-event never skips that for EPOLLET) */
		if (sd_event_source_set_io_events(s, CAPTURE_EVENTS) < 0)
			log_warn("cannot re-arm the output pipe of a job: its output may stall");
		break;
	case BATCH_DRAINED:
		break;
	}
	return 0;
}

int joblog_open_run(struct joblog *l, sd_event *e, int *ret_write_fd) {
	int p[2];

	close_pipe(l);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	/* the child's end must block like any ordinary stdout */
	int fl = fcntl(p[1], F_GETFL);
	if (fl < 0 || fcntl(p[1], F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return -err;
	}
	int r = sd_event_add_io(e, &l->io, p[0], CAPTURE_EVENTS, on_output, l);
	if (r < 0) {
		close(p[0]);
		close(p[1]);
		return r;
	}
	l->pipe_fd = p[0];
	*ret_write_fd = p[1];
	return 0;
}

void joblog_drain(struct joblog *l) {
	if (!l || l->pipe_fd < 0)
		return;
	(void) read_batch(l, SIZE_MAX);
	close_pipe(l);
}

void joblog_reopen(struct joblog *l) {
	if (!l || l->file_fd < 0)
		return;
	close(l->file_fd);
	l->file_fd = -1;
	l->file_failed = false;   /* the next write opens the file by name */
}

void joblog_free(struct joblog *l) {
	if (!l)
		return;
	close_pipe(l);
	for (size_t i = 0; i < l->n; i++)
		free(l->ring[(l->head + i) % l->cap]);
	free(l->ring);
	buf_free(&l->partial);
	if (l->file_fd >= 0)
		close(l->file_fd);
	free(l->name);
	free(l->dir);
	free(l);
}

size_t joblog_tail(const struct joblog *l, size_t n, const char ***ret) {
	if (!l || l->n == 0) {
		*ret = NULL;
		return 0;
	}
	if (n == 0 || n > l->n)
		n = l->n;
	const char **v = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = l->ring[(l->head + l->n - n + i) % l->cap];
	*ret = v;
	return n;
}
