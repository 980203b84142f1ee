/* SPDX-License-Identifier: ISC */
/* Secrets on pipes (see secret.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "jobfile.h"
#include "secret.h"
#include "util.h"

struct secret {
	unsigned refs;
	char *data;
	size_t len;
};

/* One write end with the bytes it has yet to pass. */
struct feed_pipe {
	struct secret_feed *feed;
	int fd;
	struct secret *secret;
	size_t off;
	sd_event_source *source;
};

struct secret_feed {
	struct feed_pipe **v;
	size_t n;
	size_t pending;
};

int secret_read(const char *path, struct secret **ret, const char **why) {
	/* as supd, by design (SPEC §11): a root-only key file for a job
	 * with user = nobody */
	const struct jobfile_cred supd = { .as_user = false };
	struct secret *s = xcalloc(1, sizeof(*s));
	int r = jobfile_read(path, &supd, &s->data, &s->len, why);

	if (r < 0) {
		free(s);
		return r;
	}
	s->refs = 1;
	*ret = s;
	return 0;
}

size_t secret_size(const struct secret *s) {
	return s->len;
}

static struct secret *secret_ref(struct secret *s) {
	s->refs++;
	return s;
}

void secret_unref(struct secret *s) {
	if (!s || --s->refs > 0)
		return;
	explicit_bzero(s->data, s->len);
	free(s->data);
	free(s);
}

/* Write what fd takes now: 0 when all is written, -EAGAIN when the pipe
 * is full, or another -errno. */
static int write_some(int fd, const struct secret *s, size_t *off) {
	while (*off < s->len) {
		ssize_t n = write(fd, s->data + *off, s->len - *off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		*off += (size_t) n;
	}
	return 0;
}

void secret_feed_add(struct secret_feed **feed, int fd, struct secret *s, size_t off) {
	if (!*feed)
		*feed = xcalloc(1, sizeof(**feed));
	struct secret_feed *f = *feed;
	struct feed_pipe *fp = xcalloc(1, sizeof(*fp));
	*fp = (struct feed_pipe) { .feed = f, .fd = fd, .secret = secret_ref(s), .off = off };
	f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n++] = fp;
	f->pending++;
}

int secret_pipe(struct secret *s, struct secret_feed **feed, int *ret_fd) {
	int p[2], r;
	size_t off = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* only supd's end is non-blocking: the pipe ends are two open files */
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	/* room for all of it, if the system allows (root: up to 1 MiB and
	 * more; others: up to fs.pipe-max-size and their pipe quota) */
	if (s->len > PIPE_BUF)
		(void) fcntl(p[1], F_SETPIPE_SZ, (int) s->len);
	r = write_some(p[1], s, &off);
	if (r == 0) {
		close(p[1]);
		*ret_fd = p[0];
		return 0;
	}
	if (r != -EAGAIN)
		goto fail;

	secret_feed_add(feed, p[1], s, off);
	*ret_fd = p[0];
	return 0;

fail:
	close(p[0]);
	close(p[1]);
	return r;
}

static void pipe_done(struct feed_pipe *fp) {
	if (fp->fd < 0)
		return;
	fp->source = sd_event_source_disable_unref(fp->source);
	close(fp->fd);
	fp->fd = -1;
	secret_unref(fp->secret);
	fp->secret = NULL;
	fp->feed->pending--;
}

static int on_writable(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
	struct feed_pipe *fp = userdata;

	/* EPOLLERR: the job closed its end (or ended) without reading it all */
	if (!(revents & EPOLLERR) && write_some(fd, fp->secret, &fp->off) == -EAGAIN)
		return 0;
	pipe_done(fp);
	return 0;
}

int secret_feed_start(struct secret_feed *f, sd_event *e) {
	for (size_t i = 0; i < f->n; i++) {
		struct feed_pipe *fp = f->v[i];
		int r;

		if (fp->fd < 0 || fp->source)
			continue;
		r = sd_event_add_io(e, &fp->source, fp->fd, EPOLLOUT, on_writable, fp);
		if (r < 0)
			return r;
	}
	return 0;
}

size_t secret_feed_pending(const struct secret_feed *f) {
	return f ? f->pending : 0;
}

void secret_feed_free(struct secret_feed *f) {
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		pipe_done(f->v[i]);
		free(f->v[i]);
	}
	free(f->v);
	free(f);
}
