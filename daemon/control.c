/* SPDX-License-Identifier: ISC */
/* The control socket (see control.h).
 *
 * Limits (SPEC §11, doc/protocol.md "Limits"): connections are counted per
 * uid, and root and supd's own uid have slots of their own, so no other
 * user can lock them out. Output is bounded per client and in total: a
 * client is dropped when a message comes while it holds more than
 * max_output unread, or when it has held more than that for stall_timeout
 * without reading (only one big reply built at once can get it there,
 * such as a status of thousands of jobs; a long reply written in pieces
 * waits for its reader instead, client_wait_drained()); past
 * max_total_output for all clients together, those that have waited
 * longest for their reader go first. */
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "control.h"
#include "log.h"
#include "proto.h"

struct client {
	struct control *ctl;
	int fd;
	sd_event_source *io;
	struct line_reader in;
	struct buf out;
	size_t out_counted;        /* out.len as added to ctl->out_total */
	usec_t out_moved;          /* when output was queued on empty or last taken by the peer */
	bool line_open;            /* what was sent so far ends inside a line */
	uid_t uid;
	pid_t pid;
	bool privileged;           /* root or supd's uid: their own slots */
	bool stream;               /* a stream of events or log lines: input is discarded */
	bool eof;                  /* peer sent everything it will send (it may still read) */
	bool closing;              /* free once the output is flushed */
	bool kick;                 /* run its next request, from the loop */
	bool drain_wait;           /* call task->drained once out.len <= drain_mark */
	size_t drain_mark;
	struct client_task *task;  /* a request answered later, or the stream */
	struct client *prev, *next;
};

/* Connections per unprivileged uid. */
struct uid_slots {
	uid_t uid;
	size_t n;
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
	size_t n_clients, n_privileged;   /* n_clients counts the others */
	struct uid_slots *uids;
	size_t n_uids;
	size_t out_total;                 /* unsent bytes of all clients */
	sd_event_source *stall_timer;     /* armed while a client holds more than max_output */
	sd_event_source *sweeper;         /* frees closed clients outside callbacks */
	/* the refusal log: the first refusal at once, then a count a second */
	sd_event_source *refusal_timer;
	bool refusal_window;
	unsigned refused;
	uid_t refused_uid;
	pid_t refused_pid;
	bool refused_uids_differ;
	char refused_why[96];
};

static void client_free(struct client *c);
static void client_process(struct client *c);
static void client_update_events(struct client *c);

/* Keep ctl->out_total in step with c->out.len. */
static void out_account(struct client *c) {
	c->ctl->out_total = c->ctl->out_total - c->out_counted + c->out.len;
	c->out_counted = c->out.len;
}

/* Forget the unsent output: the client is going. */
static void out_discard(struct client *c) {
	buf_free(&c->out);
	out_account(c);
}

/* Try to write what is queued; returns -errno if the peer is gone. */
static int client_flush(struct client *c) {
	int r = 0;

	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				r = -errno;
			break;
		}
		c->line_open = c->out.data[n - 1] != '\n';
		c->out_moved = now_usec(CLOCK_MONOTONIC);
		buf_consume(&c->out, (size_t) n);
	}
	/* a reply of megabytes must not stay allocated for an idle client */
	if (c->out.len == 0 && c->out.cap > (64u << 10))
		buf_free(&c->out);
	out_account(c);
	return r;
}

/* Drop a client that does not read: the reason goes out if the socket
 * buffer has room (best effort), then the connection closes. */
static void client_drop(struct client *c, const char *why) {
	size_t len, unsent = c->out.len;

	log_warnx("control: client pid %d (uid %u) is not reading, dropping it: %s (%zu bytes unsent)",
		  (int) c->pid, (unsigned) c->uid, why, unsent);
	json_t *bye = proto_error("too slow: dropped with %zu bytes of unread %s (%s)", unsent,
				  c->stream ? "events" : "replies", why);
	_cleanup_free_ char *b = proto_dump_line(bye, &len);
	json_decref(bye);
	if (c->line_open)        /* end the line cut short, so the reason is a line of its own */
		(void) send(c->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void) send(c->fd, b, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	out_discard(c);
	c->closing = true;
	client_update_events(c);
}

/* Over the total: drop the clients that have waited longest for their
 * reader, but never keep (whose message has just been queued). */
static void control_shed(struct control *ctl, struct client *keep) {
	while (ctl->out_total > ctl->limits.max_total_output) {
		struct client *victim = NULL;
		for (struct client *c = ctl->clients; c; c = c->next)
			if (c != keep && !c->closing && c->out.len > 0 && (!victim || c->out_moved < victim->out_moved))
				victim = c;
		if (!victim)
			return;
		client_drop(victim, "supd holds too much unread output");
	}
}

/* Arm the stall timer for the earliest client over max_output, if any. */
static void stall_arm(struct control *ctl) {
	usec_t first = USEC_INFINITY;

	for (struct client *c = ctl->clients; c; c = c->next)
		if (!c->closing && c->out.len > ctl->limits.max_output && c->out_moved < first)
			first = c->out_moved;
	if (first == USEC_INFINITY) {
		(void) sd_event_source_set_enabled(ctl->stall_timer, SD_EVENT_OFF);
		return;
	}
	if (sd_event_source_set_time(ctl->stall_timer, first + ctl->limits.stall_timeout) < 0 ||
	    sd_event_source_set_enabled(ctl->stall_timer, SD_EVENT_ONESHOT) < 0)
		log_warnx("control: cannot arm the timer for clients that do not read");
}

static int on_stall_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct control *ctl = userdata;
	usec_t now = now_usec(CLOCK_MONOTONIC);

	for (struct client *c = ctl->clients; c; c = c->next)
		if (!c->closing && c->out.len > ctl->limits.max_output &&
		    now >= c->out_moved + ctl->limits.stall_timeout)
			client_drop(c, "nothing read for a while");
	stall_arm(ctl);
	return 0;
}

/* A message was appended to c->out from `before` on: send what can be
 * sent; enforce the output limits. */
static void client_queued(struct client *c, size_t before) {
	struct control *ctl = c->ctl;

	if (before > ctl->limits.max_output) {
		/* still holding that much when more comes: it does not read */
		c->out.len = before;
		client_drop(c, "unread output over the limit");
		return;
	}
	if (before == 0)
		c->out_moved = now_usec(CLOCK_MONOTONIC);
	out_account(c);
	if (client_flush(c) < 0) {
		out_discard(c);
		c->closing = true;
	} else {
		if (ctl->out_total > ctl->limits.max_total_output)
			control_shed(ctl, c);
		if (c->out.len > ctl->limits.max_output)
			stall_arm(ctl);
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

/* A big reply (a status of 10,000 jobs) leaves a high-water
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
	c->drain_wait = false;
	client_kick(c);        /* requests that queued up behind this one */
}

size_t client_unsent(const struct client *c) {
	return c->out.len;
}

void client_wait_drained(struct client *c, size_t mark) {
	c->drain_wait = true;
	c->drain_mark = mark;
	if (c->out.len <= mark)        /* already: from the loop, as promised */
		(void) sd_event_source_set_enabled(c->ctl->sweeper, SD_EVENT_ONESHOT);
}

/* The peer has read enough of a task's output for it to go on. */
static void drain_check(struct client *c) {
	if (c->drain_wait && c->task && !c->closing && c->out.len <= c->drain_mark) {
		c->drain_wait = false;
		if (c->task->drained)
			c->task->drained(c->task);
	}
}

void client_stream(struct client *c, struct client_task *t) {
	c->task = t;
	c->stream = true;
}

void client_close(struct client *c) {
	c->task = NULL;
	c->drain_wait = false;
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
		/* the line the reader handed out, without its newline */
		size_t len = c->in.pending_drop - 1;
		const char *nul = memchr(line, '\0', len);
		if (nul) {    /* text after it would be invisible to a C string parser */
			client_reply_error(c, "NUL byte in request (at byte %zu)", (size_t) (nul - line));
			continue;
		}
		if (line[strspn(line, " \t\r")] == '\0')
			continue;      /* blank line */
		c->ctl->dispatch(c, line, len, c->ctl->userdata);
	}
	/* an idle connection keeps no read buffer */
	if (c->in.len == 0 && !c->in.skipping && c->in.buf) {
		line_reader_free(&c->in);
		line_reader_init(&c->in, PROTO_MAX_REQUEST);
	}
	/* after the peer's EOF, the connection ends once every reply is sent */
	if (c->eof && !c->task && !c->stream && c->out.len == 0)
		c->closing = true;
	client_update_events(c);
}

/* Watch for what the client can do next. Input is read only while no reply
 * is unsent (backpressure) and the request buffer has room. A peer that
 * only shut down its sending side (EOF) still gets its replies; one that
 * is gone entirely shows up as EPOLLHUP, which epoll always reports. A
 * finished client is freed by the sweeper, never here, since callers up
 * the stack may still hold it. */
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
		ev |= EPOLLIN;   /* input is discarded */
	(void) sd_event_source_set_io_events(c->io, ev);
}

static int on_sweep(sd_event_source *s, void *userdata) {
	struct control *ctl = userdata;
	struct client *c, *next;

	for (c = ctl->clients; c; c = c->next) {
		drain_check(c);
		if (c->kick && !c->closing) {
			c->kick = false;
			client_process(c);
		}
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
	if (!(revents & (EPOLLERR | EPOLLHUP)))
		drain_check(c);
	/* requests sent just before hanging up are still carried out */
	client_process(c);
	if (revents & (EPOLLERR | EPOLLHUP)) {
		out_discard(c);          /* nobody left to tell */
		c->closing = true;
		client_update_events(c);
	}
	return 0;
}

static struct uid_slots *uid_slots(struct control *ctl, uid_t uid) {
	for (size_t i = 0; i < ctl->n_uids; i++)
		if (ctl->uids[i].uid == uid)
			return &ctl->uids[i];
	return NULL;
}

static void client_free(struct client *c) {
	struct control *ctl = c->ctl;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->privileged)
		ctl->n_privileged--;
	else {
		ctl->n_clients--;
		struct uid_slots *u = uid_slots(ctl, c->uid);
		if (u && --u->n == 0)
			*u = ctl->uids[--ctl->n_uids];
	}
	if (c->task)
		c->task->cancel(c->task);
	sd_event_source_disable_unref(c->io);
	close(c->fd);
	(void) sd_event_source_set_enabled(ctl->accept_io, SD_EVENT_ON);   /* an fd is free again */
	line_reader_free(&c->in);
	out_discard(c);
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

/* Log a refused connection: the first at once, then at most one line a
 * second with the count (a flood of connections must not flood the log). */
static void refusal_log(struct control *ctl, const struct ucred *cred, const char *why) {
	if (!ctl->refusal_window) {
		log_warnx("control: refused uid %u (pid %d): %s", (unsigned) cred->uid, (int) cred->pid, why);
		ctl->refusal_window = true;
		ctl->refused = 0;
		ctl->refused_uid = cred->uid;
		ctl->refused_uids_differ = false;
		if (sd_event_source_set_time_relative(ctl->refusal_timer, USEC_PER_SEC) < 0 ||
		    sd_event_source_set_enabled(ctl->refusal_timer, SD_EVENT_ONESHOT) < 0)
			ctl->refusal_window = false;     /* then every refusal is logged */
		return;
	}
	if (cred->uid != ctl->refused_uid)
		ctl->refused_uids_differ = true;
	ctl->refused++;
	ctl->refused_uid = cred->uid;
	ctl->refused_pid = cred->pid;
	snprintf(ctl->refused_why, sizeof(ctl->refused_why), "%s", why);
}

static int on_refusal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct control *ctl = userdata;

	if (ctl->refused == 0) {          /* a quiet second: the next refusal is logged at once */
		ctl->refusal_window = false;
		return 0;
	}
	log_warnx("control: refused %u connections %s uid %u in the last second (last pid %d: %s)", ctl->refused,
		  ctl->refused_uids_differ ? "from several uids, last" : "from", (unsigned) ctl->refused_uid,
		  (int) ctl->refused_pid, ctl->refused_why);
	ctl->refused = 0;
	ctl->refused_uids_differ = false;
	if (sd_event_source_set_time_relative(s, USEC_PER_SEC) < 0 ||
	    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
		ctl->refusal_window = false;
	return 0;
}

/* Refuse with one error line, then close. */
static void refuse(struct control *ctl, int fd, const struct ucred *cred, const char *fmt, ...) {
	char why[96];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	(void) vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	refusal_log(ctl, cred, why);
	json_t *e = proto_error("%s", why);
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
	bool privileged = cred.uid == 0 || cred.uid == geteuid();
	if (!privileged && !(ctl->have_group && peer_in_group(cfd, cred.gid, ctl->control_gid))) {
		refuse(ctl, cfd, &cred, "permission denied");
		return 0;
	}
	struct uid_slots *u = privileged ? NULL : uid_slots(ctl, cred.uid);
	if (privileged ? ctl->n_privileged >= ctl->limits.max_privileged_clients
		       : ctl->n_clients >= ctl->limits.max_clients) {
		refuse(ctl, cfd, &cred, "too many clients");
		return 0;
	}
	if (u && u->n >= ctl->limits.max_clients_per_uid) {
		refuse(ctl, cfd, &cred, "too many connections from uid %u (max %zu)", (unsigned) cred.uid,
		       ctl->limits.max_clients_per_uid);
		return 0;
	}
	struct client *c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->fd = cfd;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->privileged = privileged;
	line_reader_init(&c->in, PROTO_MAX_REQUEST);
	int r = sd_event_add_io(ctl->event, &c->io, cfd, EPOLLIN, on_client_io, c);
	if (r < 0) {
		log_warnx("control: cannot watch a client: %s", strerror(-r));
		close(cfd);
		line_reader_free(&c->in);
		free(c);
		return 0;
	}
	if (privileged)
		ctl->n_privileged++;
	else {
		if (!u) {
			ctl->uids = xreallocarray(ctl->uids, ctl->n_uids + 1, sizeof(*ctl->uids));
			u = &ctl->uids[ctl->n_uids++];
			*u = (struct uid_slots) { .uid = cred.uid };
		}
		u->n++;
		ctl->n_clients++;
	}
	c->next = ctl->clients;
	if (ctl->clients)
		ctl->clients->prev = c;
	ctl->clients = c;
	return 0;
}

/* A timer made disabled now: when it is needed, there may be no fd left
 * for a timerfd. */
static int add_timer(struct control *ctl, sd_event_source **ret, sd_event_time_handler_t cb) {
	int r = sd_event_add_time_relative(ctl->event, ret, CLOCK_MONOTONIC, USEC_PER_SEC, 10 * USEC_PER_MSEC, cb, ctl);
	if (r >= 0)
		r = sd_event_source_set_enabled(*ret, SD_EVENT_OFF);
	return r;
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
		.max_clients = CONTROL_MAX_CLIENTS,
		.max_clients_per_uid = CONTROL_MAX_CLIENTS_PER_UID,
		.max_privileged_clients = CONTROL_MAX_PRIVILEGED_CLIENTS,
		.max_output = CONTROL_MAX_OUTPUT,
		.max_total_output = CONTROL_MAX_TOTAL_OUTPUT,
		.stall_timeout = CONTROL_STALL_TIMEOUT,
	};
	int fl = fcntl(listen_fd, F_GETFL);
	if (fl >= 0)
		(void) fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
	r = sd_event_add_io(e, &ctl->accept_io, listen_fd, EPOLLIN, on_accept, ctl);
	if (r >= 0)
		r = add_timer(ctl, &ctl->accept_retry, on_accept_retry);
	if (r >= 0)
		r = add_timer(ctl, &ctl->stall_timer, on_stall_timer);
	if (r >= 0)
		r = add_timer(ctl, &ctl->refusal_timer, on_refusal_timer);
	if (r >= 0)
		r = sd_event_add_defer(e, &ctl->sweeper, on_sweep, ctl);
	if (r >= 0)
		r = sd_event_source_set_enabled(ctl->sweeper, SD_EVENT_OFF);
	if (r < 0) {
		control_free(ctl);
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
	sd_event_source_disable_unref(ctl->stall_timer);
	sd_event_source_disable_unref(ctl->refusal_timer);
	sd_event_source_disable_unref(ctl->sweeper);
	sd_event_unref(ctl->event);
	free(ctl->uids);
	free(ctl);
}
