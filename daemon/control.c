/* The control socket (see control.h). */
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "control.h"
#include "log.h"
#include "proto.h"

struct client {
	struct control *ctl;
	int fd;
	sd_event_source *io;
	struct line_reader in;
	struct buf out;
	uid_t uid;
	pid_t pid;
	bool stream;               /* a stream of events or log lines: input is discarded */
	bool eof;                  /* peer sent everything it will send */
	bool closing;              /* free once the output is flushed */
	bool kick;                 /* run its next request, from the loop */
	struct client_task *task;  /* a request answered later, or the stream */
	struct client *prev, *next;
};

struct control {
	sd_event *event;
	int listen_fd;
	sd_event_source *accept_io;
	sd_event_source *accept_retry;   /* out of fds: try again shortly */
	gid_t control_gid;
	bool have_group;
	control_dispatch_fn *dispatch;
	void *userdata;
	struct control_limits limits;
	struct client *clients;
	size_t n_clients;
	sd_event_source *sweeper;     /* frees closed clients outside callbacks */
};

static void client_free(struct client *c);
static void client_process(struct client *c);
static void client_update_events(struct client *c);

/* Try to write what is queued; returns -errno if the peer is gone. */
static int client_flush(struct client *c) {
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		buf_consume(&c->out, (size_t) n);
	}
	return 0;
}

/* A message was appended to c->out from `before` on: send what can be
 * sent; a client that lets too much pile up is dropped. */
static void client_queued(struct client *c, size_t before) {
	size_t len;
	size_t cap = c->stream ? c->ctl->limits.max_subscriber_output : c->ctl->limits.max_output;

	if (c->out.len > cap) {
		c->out.len = before;
		log_warnx("control: client pid %d is not reading, dropping it", (int) c->pid);
		json_t *bye = proto_error(c->stream ? "too slow: dropped after %zu bytes of unread events"
					  : "too slow: dropped after %zu bytes of unread replies", c->out.len);
		_cleanup_free_ char *b = proto_dump_line(bye, &len);
		json_decref(bye);
		/* best effort: the reason goes out if the socket buffer has room */
		(void) send(c->fd, b, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		c->out.len = 0;
		c->closing = true;
		client_update_events(c);
		return;
	}
	if (client_flush(c) < 0) {
		c->out.len = 0;
		c->closing = true;
	}
	client_update_events(c);
}

/* Queue a message; returns its size. */
static size_t client_send(struct client *c, json_t *msg) {
	size_t before = c->out.len, n;

	if (c->closing) {
		json_decref(msg);
		return 0;
	}
	proto_dump_append(msg, &c->out);    /* straight into the output buffer */
	json_decref(msg);
	n = c->out.len - before;
	client_queued(c, before);
	return n;
}

void client_send_text(struct client *c, const char *p, size_t n) {
	size_t before = c->out.len;

	if (c->closing)
		return;
	buf_append(&c->out, p, n);
	client_queued(c, before);
}

/* A big reply (status of 10,000 jobs, a long history) leaves a high-water
 * mark of small freed objects: hand it back to the system. */
static void release_after(size_t reply_bytes) {
	if (reply_bytes > (1u << 20))
		(void) malloc_trim(0);
}

void client_reply_text(struct client *c, struct buf *b) {
	size_t n;

	buf_append(b, "\n", 1);
	n = b->len;
	if (!c->closing && c->out.len == 0) {
		/* nothing queued: the reply becomes the output buffer, no copy
		 * of a status of 10,000 jobs */
		struct buf t = c->out;
		c->out = *b;
		*b = t;
		client_queued(c, 0);
	} else
		client_send_text(c, b->data, b->len);
	buf_free(b);
	release_after(n);
}

void client_reply(struct client *c, json_t *msg) {
	release_after(client_send(c, msg));
}

void client_reply_error(struct client *c, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	json_t *o = proto_verror(fmt, ap);
	va_end(ap);
	client_send(c, o);
}

/* Have the client looked at again from the event loop: a request (a
 * reload) must never run while a job is in the middle of changing state. */
static void client_kick(struct client *c) {
	c->kick = true;
	(void) sd_event_source_set_enabled(c->ctl->sweeper, SD_EVENT_ONESHOT);
}

void client_task_begin(struct client *c, struct client_task *t) {
	c->task = t;
}

void client_task_end(struct client *c) {
	c->task = NULL;
	client_kick(c);        /* requests that queued up behind this one */
}

void client_stream(struct client *c, struct client_task *t) {
	c->task = t;
	c->stream = true;
}

void client_close(struct client *c) {
	c->task = NULL;
	c->closing = true;
	client_update_events(c);
}
/* Run complete requests, one at a time, in order. */
static void client_process(struct client *c) {
	while (!c->task && !c->closing && !c->stream && c->out.len == 0) {
		char *line;
		int r = line_reader_next(&c->in, &line);
		if (r == 0)
			break;
		if (r == -EMSGSIZE) {
			client_reply_error(c, "request too large (max %d bytes)", PROTO_MAX_REQUEST);
			continue;
		}
		if (line[strspn(line, " \t\r")] == '\0')
			continue;      /* blank line */
		/* the line is what the reader handed out, without its newline */
		c->ctl->dispatch(c, line, c->in.pending_drop - 1, c->ctl->userdata);
	}
	if (c->eof && !c->task && !c->stream && c->out.len == 0)
		c->closing = true;
	client_update_events(c);
}

/* Watch for what the client can do next. Input is read only while no reply
 * is unsent (backpressure) and the request buffer has room; a closed peer
 * still shows up as EPOLLHUP. A finished client is freed by the sweeper,
 * never here, since callers up the stack may still hold it. */
static void client_update_events(struct client *c) {
	uint32_t ev = 0;

	if (c->closing && c->out.len == 0) {
		(void) sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
		(void) sd_event_source_set_enabled(c->ctl->sweeper, SD_EVENT_ONESHOT);
		return;
	}
	if (c->out.len > 0)
		ev |= EPOLLOUT;
	else if (!c->eof && !c->closing && c->in.len < c->in.max)
		ev |= EPOLLIN;
	if (c->stream && !c->eof)
		ev |= EPOLLIN;   /* input is discarded; EOF tells the subscriber left */
	(void) sd_event_source_set_io_events(c->io, ev);
}

static int on_sweep(sd_event_source *s, void *userdata) {
	struct control *ctl = userdata;
	struct client *c, *next;

	for (c = ctl->clients; c; c = c->next)
		if (c->kick && !c->closing) {
			c->kick = false;
			client_process(c);
		}
	for (c = ctl->clients; c; c = next) {
		next = c->next;
		if (c->closing && c->out.len == 0)
			client_free(c);
	}
	/* a kick during the pass above needs another one */
	for (c = ctl->clients; c; c = c->next)
		if (c->kick)
			(void) sd_event_source_set_enabled(ctl->sweeper, SD_EVENT_ONESHOT);
	return 0;
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct client *c = userdata;

	if (revents & EPOLLIN) {
		ssize_t n = line_reader_fill(&c->in, c->fd);
		if (n == 0 || (n < 0 && n != -EAGAIN))
			c->eof = true;
		if (c->stream)           /* a stream's client sends nothing more */
			c->in.len = 0;
	}
	if ((revents & EPOLLOUT) && client_flush(c) < 0)
		revents |= EPOLLHUP;
	/* requests sent just before hanging up are still carried out */
	client_process(c);
	if ((revents & (EPOLLERR | EPOLLHUP)) || (c->eof && (c->stream || c->task))) {
		c->out.len = 0;          /* nobody left to tell */
		c->closing = true;
		client_update_events(c);
	}
	return 0;
}

static void client_free(struct client *c) {
	struct control *ctl = c->ctl;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->n_clients--;
	if (c->task)
		c->task->cancel(c->task);
	sd_event_source_disable_unref(c->io);
	close(c->fd);
	(void) sd_event_source_set_enabled(ctl->accept_io, SD_EVENT_ON);   /* an fd is free again */
	line_reader_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static bool peer_in_group(int fd, gid_t primary, gid_t want) {
	if (primary == want)
		return true;
	_cleanup_free_ gid_t *groups = NULL;
	socklen_t len = 64 * sizeof(gid_t);
	for (int tries = 0; tries < 8; tries++) {
		free(groups);
		groups = xmalloc(len);
		socklen_t got = len;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &got) == 0) {
			for (size_t i = 0; i < got / sizeof(gid_t); i++)
				if (groups[i] == want)
					return true;
			return false;
		}
		if (errno != ERANGE)
			return false;
		len = got > len ? got : len * 2;
	}
	return false;
}

/* Refuse with one error line, then close. */
static void refuse(int fd, const char *why) {
	json_t *e = proto_error("%s", why);
	size_t len;
	_cleanup_free_ char *line = proto_dump_line(e, &len);
	json_decref(e);
	(void) send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata) {
	struct control *ctl = userdata;
	(void) sd_event_source_set_enabled(ctl->accept_io, SD_EVENT_ON);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct control *ctl = userdata;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			/* the socket stays readable: stop accepting until a client
			 * leaves, or the loop would spin */
			log_warn("control: cannot accept a client, pausing accepts for 100ms");
			(void) sd_event_source_set_enabled(ctl->accept_io, SD_EVENT_OFF);
			int r = sd_event_source_set_time_relative(ctl->accept_retry, 100 * USEC_PER_MSEC);
			if (r >= 0)
				r = sd_event_source_set_enabled(ctl->accept_retry, SD_EVENT_ONESHOT);
			if (r < 0)   /* cannot wait: accept again at once rather than never */
				(void) sd_event_source_set_enabled(ctl->accept_io, SD_EVENT_ON);
		} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control: accept");
		return 0;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("control: SO_PEERCRED");
		close(cfd);
		return 0;
	}
	bool allowed = cred.uid == 0 || cred.uid == geteuid() ||
		(ctl->have_group && peer_in_group(cfd, cred.gid, ctl->control_gid));
	if (!allowed) {
		log_warnx("control: refused uid %u (pid %d): not root, supd's user or in control_group",
			  (unsigned) cred.uid, (int) cred.pid);
		refuse(cfd, "permission denied");
		return 0;
	}
	if (ctl->n_clients >= ctl->limits.max_clients) {
		log_warnx("control: too many clients (%zu), refusing pid %d", ctl->n_clients, (int) cred.pid);
		refuse(cfd, "too many clients");
		return 0;
	}
	struct client *c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->fd = cfd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	line_reader_init(&c->in, PROTO_MAX_REQUEST);
	int r = sd_event_add_io(ctl->event, &c->io, cfd, EPOLLIN, on_client_io, c);
	if (r < 0) {
		log_warnx("control: cannot watch a client: %s", strerror(-r));
		close(cfd);
		line_reader_free(&c->in);
		free(c);
		return 0;
	}
	c->next = ctl->clients;
	if (ctl->clients)
		ctl->clients->prev = c;
	ctl->clients = c;
	ctl->n_clients++;
	return 0;
}

int control_bind(const char *path, mode_t mode, gid_t group, bool have_group, int *ret_fd) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(ENAMETOOLONG, "socket path %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket");
	/* a live supd on this path keeps it; a stale file is replaced */
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
		return log_error_errno(EADDRINUSE, "another supd is already listening on %s", path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket");
	if (unlink(path) < 0 && errno != ENOENT)
		return log_error_errno(errno, "cannot remove stale socket %s", path);
	mode_t old = umask(0177);    /* no window where others can connect */
	int r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r < 0)
		return log_error_errno(e, "cannot bind %s", path);
	if (have_group && chown(path, (uid_t) -1, group) < 0)
		return log_error_errno(errno, "cannot give %s to group %u", path, (unsigned) group);
	if (chmod(path, mode) < 0)
		return log_error_errno(errno, "cannot chmod %s", path);
	if (listen(fd, SOMAXCONN) < 0)
		return log_error_errno(errno, "cannot listen on %s", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int control_new(sd_event *e, int listen_fd, gid_t control_gid, bool have_group,
		control_dispatch_fn *dispatch, void *userdata, struct control **ret) {
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	int r;

	ctl->event = sd_event_ref(e);
	ctl->listen_fd = listen_fd;
	ctl->control_gid = control_gid;
	ctl->have_group = have_group;
	ctl->dispatch = dispatch;
	ctl->userdata = userdata;
	ctl->limits = (struct control_limits) {
		.max_clients = 1024,
		.max_output = 256u << 20,
		.max_subscriber_output = 4u << 20,
	};
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl >= 0)
		(void) fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
	r = sd_event_add_io(e, &ctl->accept_io, listen_fd, EPOLLIN, on_accept, ctl);
	/* made now: when it is needed, there may be no fd left for a timerfd */
	if (r >= 0)
		r = sd_event_add_time_relative(e, &ctl->accept_retry, CLOCK_MONOTONIC, USEC_PER_SEC, 1,
					       on_accept_retry, ctl);
	if (r >= 0)
		r = sd_event_source_set_enabled(ctl->accept_retry, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_defer(e, &ctl->sweeper, on_sweep, ctl);
	if (r >= 0)
		r = sd_event_source_set_enabled(ctl->sweeper, SD_EVENT_OFF);
	if (r < 0) {
		sd_event_source_disable_unref(ctl->accept_io);
		sd_event_source_disable_unref(ctl->accept_retry);
		sd_event_unref(ctl->event);
		free(ctl);
		return log_error_errno(r, "cannot watch the control socket");
	}
	*ret = ctl;
	return 0;
}

void control_free(struct control *ctl) {
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	sd_event_source_disable_unref(ctl->accept_io);
	sd_event_source_disable_unref(ctl->accept_retry);
	sd_event_source_disable_unref(ctl->sweeper);
	sd_event_unref(ctl->event);
	free(ctl);
}
