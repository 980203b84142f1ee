/* SPDX-License-Identifier: ISC */
/* The NOTIFY_SOCKET server of one run (notify.h has what fires when).
 *
 * Why a socket per run, owned by the job's uid with mode 0600: systemd's
 * one world-writable socket has to find the sender's unit by its pid,
 * which races with exits and lets any local user flood it. Here the
 * kernel's permission check on connect/sendto is the whole test: only the
 * job's uid (and root) can send, and whatever arrives is this run's.
 *
 * The socket is bound under a umask of 0177 in a directory only supd's
 * uid can write, through that directory's fd: it is 0600 and supd's from
 * its first moment, then given to the job's uid:gid by name inside that
 * directory, where nobody else can swap the name. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include "log.h"
#include "notify.h"
#include "util.h"

#define NOTIFY_FDS_MAX 253          /* the kernel's SCM_MAX_FD */

struct notify_socket {
	int fd;
	char *path;
	sd_event_source *io;
	const struct notify_handler *h;
	void *userdata;
	uint64_t run_id;
	struct notify_state st;
	struct notify_stats stats;
	bool dispatching;           /* inside on_readable: close defers the free */
	bool closed;
	bool warned_oversize, warned_nul;
};

/* ---- the message parser ---- */

/* Length of the valid UTF-8 sequence at p (n bytes left) with its code
 * point in *cp, or 0: overlong forms, surrogates and values past U+10FFFF
 * are not valid. */
static size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp) {
	size_t len;
	uint32_t c, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t notify_status_sanitize(const char *in, size_t len, char out[NOTIFY_STATUS_MAX + 1]) {
	const unsigned char *p = (const unsigned char *) in, *end = p + len;
	size_t o = 0;

	while (p < end) {
		uint32_t cp = 0;
		size_t n = utf8_char(p, (size_t) (end - p), &cp);
		bool shown = n > 0 && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f);
		size_t need = shown ? n : 1;

		if (o + need > NOTIFY_STATUS_MAX)
			break;              /* cut before a character that does not fit */
		if (shown)
			memcpy(out + o, p, n);
		else
			out[o] = '?';
		o += need;
		p += n ? n : 1;         /* an invalid byte is one '?' */
	}
	out[o] = '\0';
	return o;
}

/* N of WATCHDOG_USEC=N and EXTEND_TIMEOUT_USEC=N: decimal digits only. */
static bool parse_usec(const char *v, size_t len, uint64_t *ret) {
	uint64_t x = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		unsigned d = (unsigned) (v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*ret = x;
	return true;
}

static bool span_is(const char *p, size_t len, const char *s) {
	return len == strlen(s) && memcmp(p, s, len) == 0;
}

#define CALL(h, fn, ...) do { if ((h)->fn) (h)->fn(__VA_ARGS__); } while (0)

static void parse_line(struct notify_state *st, const char *line, size_t len, const struct notify_handler *h,
		       void *userdata) {
	const char *eq = memchr(line, '=', len);
	uint64_t usec;

	if (!eq)
		return;
	size_t klen = (size_t) (eq - line), vlen = len - klen - 1;
	const char *v = eq + 1;

	if (span_is(line, klen, "READY")) {
		if (!span_is(v, vlen, "1") || st->stopping)
			return;
		if (!st->ready) {
			st->ready = true;
			CALL(h, ready, userdata);
		} else if (st->reloading) {
			st->reloading = false;
			CALL(h, reloading, userdata, false);
		}
	} else if (span_is(line, klen, "RELOADING")) {
		if (span_is(v, vlen, "1") && st->ready && !st->reloading && !st->stopping) {
			st->reloading = true;
			CALL(h, reloading, userdata, true);
		}
	} else if (span_is(line, klen, "STOPPING")) {
		if (span_is(v, vlen, "1") && !st->stopping) {
			st->stopping = true;
			CALL(h, stopping, userdata);
		}
	} else if (span_is(line, klen, "STATUS")) {
		char text[NOTIFY_STATUS_MAX + 1];
		(void) notify_status_sanitize(v, vlen, text);
		CALL(h, status, userdata, text);
	} else if (span_is(line, klen, "WATCHDOG")) {
		if (span_is(v, vlen, "1"))
			CALL(h, watchdog, userdata);
		else if (span_is(v, vlen, "trigger"))
			CALL(h, watchdog_trigger, userdata);
	} else if (span_is(line, klen, "WATCHDOG_USEC")) {
		if (parse_usec(v, vlen, &usec))
			CALL(h, watchdog_usec, userdata, usec);
	} else if (span_is(line, klen, "EXTEND_TIMEOUT_USEC")) {
		if (parse_usec(v, vlen, &usec))
			CALL(h, extend_timeout, userdata, usec);
	}
	/* BARRIER=1 is its fd, closed by the caller; other keys mean nothing here */
}

void notify_parse(struct notify_state *st, const char *msg, size_t len, const struct notify_handler *h,
		  void *userdata) {
	const char *p = msg, *end = msg + len;

	while (p < end && !st->halt) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *le = nl ? nl : end;
		parse_line(st, p, (size_t) (le - p), h, userdata);
		p = nl ? nl + 1 : end;
	}
}

/* ---- the socket ---- */

static int on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata);

/* Open RUNTIME_DIR/notify as a directory of supd's uid that no one else
 * can write, making it, or replacing what is there in its place, as
 * needed. Its default ACL goes: the umask alone decides what bind makes. */
static int notify_dir_open(const char *runtime_dir, int *ret_fd) {
	_cleanup_close_ int parent = open(runtime_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (parent < 0)
		return log_error_errno(errno, "cannot open the runtime directory %s", runtime_dir);
	for (int attempt = 0; attempt < 4; attempt++) {
		_cleanup_close_ int fd = openat(parent, NOTIFY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(parent, NOTIFY_DIR, 0711) < 0 && errno != EEXIST)
				return log_error_errno(errno, "cannot make %s/" NOTIFY_DIR, runtime_dir);
			continue;
		}
		if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {   /* a link, a file */
			if (unlinkat(parent, NOTIFY_DIR, 0) < 0 && errno != ENOENT)
				return log_error_errno(errno, "%s/" NOTIFY_DIR " is not a directory and cannot be removed",
						       runtime_dir);
			continue;
		}
		if (fd < 0 && errno != EACCES)
			return log_error_errno(errno, "cannot open %s/" NOTIFY_DIR, runtime_dir);
		if (fd >= 0 && fstat(fd, &st) < 0)
			return log_error_errno(errno, "cannot check %s/" NOTIFY_DIR, runtime_dir);
		if (fd >= 0 && st.st_uid == geteuid() && !(st.st_mode & 022)) {
			if ((st.st_mode & 07777) != 0711 && fchmod(fd, 0711) < 0)
				return log_error_errno(errno, "cannot set the mode of %s/" NOTIFY_DIR, runtime_dir);
			if (fremovexattr(fd, "system.posix_acl_default") < 0 && errno != ENODATA &&
			    errno != ENOTSUP && errno != EOPNOTSUPP)
				return log_error_errno(errno, "cannot remove the default ACL of %s/" NOTIFY_DIR,
						       runtime_dir);
			*ret_fd = TAKE_FD(fd);
			return 0;
		}
		/* someone else's, or writable by others: only an empty one can go */
		if (unlinkat(parent, NOTIFY_DIR, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			int e = errno == ENOTEMPTY || errno == EEXIST ? EPERM : errno;
			if (fd >= 0)
				return log_error_errno(e, "%s/" NOTIFY_DIR " is not supd's alone (uid %u, mode %04o) "
						       "and cannot be replaced; remove it", runtime_dir,
						       (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
			return log_error_errno(e, "%s/" NOTIFY_DIR " cannot be opened or replaced; remove it",
					       runtime_dir);
		}
	}
	return log_error_errno(EAGAIN, "%s/" NOTIFY_DIR " keeps changing", runtime_dir);
}

/* Bind fd at NAME in the directory dirfd refers to (through /proc/self/fd,
 * so the directory checked is the one used; by its path without /proc),
 * mode 0600 from the start. A socket left at NAME by an earlier supd with
 * our pid is replaced: names with our pid are ours alone. */
static int bind_in(int fd, int dirfd, const char *dir_path, const char *name) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r, e = ENOENT;

	for (int by_path = 0; by_path < 2; by_path++) {
		if (by_path)
			r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir_path, name);
		else
			r = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
		if (r < 0 || (size_t) r >= sizeof(sa.sun_path)) {
			e = ENAMETOOLONG;
			continue;
		}
		for (int replaced = 0; replaced < 2; replaced++) {
			mode_t old = umask(0177);
			r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
			e = errno;
			umask(old);
			if (r == 0)
				return 0;
			if (e != EADDRINUSE || unlinkat(dirfd, name, 0) < 0)
				break;
		}
		if (e != ENOENT && e != ENOTDIR)     /* ENOENT, ENOTDIR: no /proc */
			break;
	}
	return -e;
}

int notify_socket_open(sd_event *e, const char *runtime_dir, uint64_t run_id, uid_t uid, gid_t gid,
		       const struct notify_handler *h, void *userdata, struct notify_socket **out) {
	struct sockaddr_un sa;
	_cleanup_close_ int dirfd = -1, fd = -1;
	_cleanup_free_ char *dir = xasprintf("%s/" NOTIFY_DIR, runtime_dir);
	char name[64];
	int r;

	(void) snprintf(name, sizeof(name), "%ld.%" PRIu64, (long) getpid(), run_id);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(ENAMETOOLONG, "notify socket path %s is longer than a socket address (%zu bytes); "
				       "give supd a shorter runtime directory", path, sizeof(sa.sun_path) - 1);
	r = notify_dir_open(runtime_dir, &dirfd);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "cannot make a notify socket");
	r = bind_in(fd, dirfd, dir, name);
	if (r < 0)
		return log_error_errno(r, "cannot bind notify socket %s", path);
	/* a default ACL would have had its say over the umask: 0600 for sure */
	if (fchmodat(dirfd, name, 0600, 0) < 0) {
		r = log_error_errno(errno, "cannot set the mode of %s", path);
		goto fail;
	}
	if ((uid != geteuid() || gid != getegid()) && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		r = log_error_errno(errno, "cannot give notify socket %s to %u:%u", path, (unsigned) uid,
				    (unsigned) gid);
		goto fail;
	}

	struct notify_socket *s = xcalloc(1, sizeof(*s));
	*s = (struct notify_socket) { .fd = -1, .path = TAKE_PTR(path), .h = h, .userdata = userdata, .run_id = run_id };
	r = sd_event_add_io(e, &s->io, fd, EPOLLIN, on_readable, s);
	if (r < 0) {
		log_error_errno(-r, "cannot watch notify socket %s", s->path);
		path = TAKE_PTR(s->path);
		free(s);
		goto fail;
	}
	s->fd = TAKE_FD(fd);
	*out = s;
	return 0;

fail:
	(void) unlinkat(dirfd, name, 0);
	return r;
}

/* Read one datagram and handle it. Returns 1 if there may be more, 0 when
 * the socket is empty for now, -errno when it is unusable. */
static int receive_one(struct notify_socket *s) {
	char buf[NOTIFY_DATAGRAM_MAX + 1];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX) + CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = NOTIFY_DATAGRAM_MAX };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control),
	};
	ssize_t n;

	do
		n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* out of kernel memory for now: the socket stays readable and the
		 * datagram queued, tried again on the next wake */
		if (errno == EAGAIN || errno == ENOBUFS || errno == ENOMEM)
			return 0;
		return -errno;
	}
	s->stats.datagrams++;
	if ((size_t) n > NOTIFY_DATAGRAM_MAX || memchr(buf, 0, (size_t) n)) {
		bool big = (size_t) n > NOTIFY_DATAGRAM_MAX;
		bool *warned = big ? &s->warned_oversize : &s->warned_nul;
		s->stats.dropped++;
		if (!*warned) {
			*warned = true;
			if (big)
				log_warnx("run %" PRIu64 ": notify message of %zd bytes dropped (over %d)", s->run_id, n,
					  NOTIFY_DATAGRAM_MAX);
			else
				log_warnx("run %" PRIu64 ": notify message with a NUL byte dropped", s->run_id);
		}
	} else {
		notify_parse(&s->st, buf, (size_t) n, s->h, s->userdata);
	}

	/* after the messages before it, as BARRIER=1 wants: close every fd */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;       /* SCM_CREDENTIALS: every sender counts */
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int passed;
			memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			(void) close(passed);
			s->stats.fds_closed++;
		}
	}
	return 1;
}

static void notify_socket_free(struct notify_socket *s) {
	free(s->path);
	free(s);
}

/* At most NOTIFY_MAX_PER_WAKE datagrams, then back to the loop: the source
 * is level-triggered, so sd-event comes back once the sources that were
 * ready meanwhile had their turn. */
static int on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
	struct notify_socket *s = userdata;
	int r = 1;

	(void) fd;
	(void) revents;
	s->dispatching = true;
	for (unsigned i = 0; i < NOTIFY_MAX_PER_WAKE && r > 0 && !s->closed; i++)
		r = receive_one(s);
	s->dispatching = false;
	if (s->closed) {
		notify_socket_free(s);
		return 0;
	}
	if (r < 0) {
		errno = -r;
		log_warn("run %" PRIu64 ": cannot read notify socket %s; its messages are ignored from now on",
			 s->run_id, s->path);
		(void) sd_event_source_set_enabled(src, SD_EVENT_OFF);
	}
	return 0;
}

const char *notify_socket_path(const struct notify_socket *s) {
	return s->path;
}

void notify_socket_stats(const struct notify_socket *s, struct notify_stats *out) {
	*out = s->stats;
}

void notify_socket_close(struct notify_socket *s) {
	if (!s || s->closed)
		return;
	if (unlink(s->path) < 0 && errno != ENOENT)
		log_warn("cannot remove notify socket %s", s->path);
	s->io = sd_event_source_disable_unref(s->io);
	if (s->fd >= 0)
		(void) close(s->fd);
	s->fd = -1;
	s->closed = true;
	s->st.halt = true;
	if (!s->dispatching)
		notify_socket_free(s);
}
