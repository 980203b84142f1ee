/* SPDX-License-Identifier: ISC */
/* Unit tests for the NOTIFY_SOCKET server (daemon/notify.c) on real
 * sockets and a real sd-event loop: every message kind and what fires,
 * the size limit, passed fds closed, STATUS= sanitising, READY once and
 * RELOADING, a flood that does not starve the loop, the socket's owner
 * and mode (another uid cannot send), its directory, and a program
 * written for systemd (tests/tools/notify-ready, sd_notify(3)) working
 * unchanged against it. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "notify.h"
#include "util.h"

#define TOOL TEST_BUILDDIR "/tests/tools/notify-ready"

static char dir[] = "/tmp/supd-test-notify-XXXXXX";
static sd_event *loop;

/* What the handler heard, as one line of text: "ready;status=up;..." */
struct heard {
	struct buf log;
	size_t statuses, pings;
	struct notify_socket *close_me;     /* closed from inside the status callback */
	uint64_t *ticks, *ticks_at_status;  /* the flood test's bookkeeping */
	size_t max_between_ticks, since_tick;
	uint64_t last_tick;
};

static void on_ready(void *u) { buf_appendf(&((struct heard *) u)->log, "ready;"); }
static void on_reloading(void *u, bool on) { buf_appendf(&((struct heard *) u)->log, "reloading=%d;", on); }
static void on_stopping(void *u) { buf_appendf(&((struct heard *) u)->log, "stopping;"); }
static void on_watchdog(void *u) { ((struct heard *) u)->pings++; buf_appendf(&((struct heard *) u)->log, "watchdog;"); }
static void on_trigger(void *u) { buf_appendf(&((struct heard *) u)->log, "trigger;"); }
static void on_wd_usec(void *u, uint64_t n) { buf_appendf(&((struct heard *) u)->log, "wd_usec=%" PRIu64 ";", n); }
static void on_extend(void *u, uint64_t n) { buf_appendf(&((struct heard *) u)->log, "extend=%" PRIu64 ";", n); }
static void on_status(void *u, const char *text) {
	struct heard *h = u;
	h->statuses++;
	if (h->ticks) {         /* flood: count datagrams between two ticks of the other source */
		if (*h->ticks != h->last_tick) {
			h->last_tick = *h->ticks;
			h->since_tick = 0;
		}
		h->since_tick++;
		h->max_between_ticks = MAX(h->max_between_ticks, h->since_tick);
		return;
	}
	buf_appendf(&h->log, "status=%s;", text);
	if (h->close_me) {
		notify_socket_close(h->close_me);
		h->close_me = NULL;
	}
}

static const struct notify_handler handler = {
	.ready = on_ready, .reloading = on_reloading, .stopping = on_stopping, .status = on_status,
	.watchdog = on_watchdog, .watchdog_trigger = on_trigger, .watchdog_usec = on_wd_usec,
	.extend_timeout = on_extend,
};

static void setup(void) {
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0711), 0);     /* as supd's runtime directory: jobs pass through */
	ck_assert_int_ge(sd_event_new(&loop), 0);
}

static void teardown(void) {
	char cmd[128];
	loop = sd_event_unref(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void) system(cmd);
}

static int count_fds(void) {
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;           /* opendir's own */
}

static struct notify_socket *open_socket(uint64_t run, struct heard *h) {
	struct notify_socket *s = NULL;
	ck_assert_int_eq(notify_socket_open(loop, dir, run, geteuid(), getegid(), &handler, h, &s), 0);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Send one datagram to path, with fds passed along when n_fds > 0. */
static int send_to(const char *path, const void *p, size_t len, const int *fds, size_t n_fds) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int) * 8)]; } c;
	struct iovec iov = { .iov_base = (void *) p, .iov_len = len };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), sndbuf = 65536;

	ck_assert_int_ge(fd, 0);
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	strcpy(sa.sun_path, path);
	if (n_fds) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = &c;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * n_fds);
	}
	/* the queue holds only net.unix.max_dgram_qlen datagrams: on EAGAIN,
	 * let the loop read some */
	ssize_t n;
	usec_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
	while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EAGAIN &&
	       now_usec(CLOCK_MONOTONIC) < deadline)
		ck_assert_int_ge(sd_event_run(loop, 10 * USEC_PER_MSEC), 0);
	int e = errno;
	close(fd);
	return n == (ssize_t) len ? 0 : -e;
}

static void send_text(struct notify_socket *s, const char *text) {
	ck_assert_int_eq(send_to(notify_socket_path(s), text, strlen(text), NULL, 0), 0);
}

/* Run the loop until the log holds `what` and the watchdog was pinged
 * `pings` times (5 s at most). */
static void run_for(struct heard *h, const char *what, size_t pings) {
	usec_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
	while (!(h->log.data && strstr(h->log.data, what)) || h->pings < pings) {
		ck_assert_msg(now_usec(CLOCK_MONOTONIC) < deadline, "waited for \"%s\" and %zu pings, heard \"%s\"",
			      what, pings, h->log.data ? h->log.data : "");
		ck_assert_int_ge(sd_event_run(loop, 100 * USEC_PER_MSEC), 0);
	}
}

static void run_until(struct heard *h, const char *what) {
	run_for(h, what, 0);
}

/* Every key, each in its own datagram, in the order sent; the ones that
 * mean nothing (bad numbers, other values, unknown keys) fire nothing. */
START_TEST(test_every_kind)
{
	struct heard h = { 0 };
	struct notify_socket *s = open_socket(7, &h);
	static const char *const sent[] = {
		"STATUS=starting", "RELOADING=1", "READY=1\nSTATUS=up", "READY=1", "WATCHDOG=1",
		"WATCHDOG=trigger", "WATCHDOG=0", "WATCHDOG_USEC=5000000", "WATCHDOG_USEC=0",
		"WATCHDOG_USEC=12x", "WATCHDOG_USEC=-1", "WATCHDOG_USEC= 5", "WATCHDOG_USEC=",
		"EXTEND_TIMEOUT_USEC=18446744073709551615", "EXTEND_TIMEOUT_USEC=18446744073709551616",
		"RELOADING=1", "RELOADING=1", "READY=2", "READY=1", "MAINPID=1", "FOO=bar", "BARRIER=1",
		"READY", "=1", "", "\n\n", "STOPPING=1", "READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1",
		"STATUS=", "EXTEND_TIMEOUT_USEC=30000000", "STATUS=end",
	};
	for (size_t i = 0; i < ELEMENTSOF(sent); i++)
		send_text(s, sent[i]);
	run_until(&h, "status=end;");
	ck_assert_str_eq(h.log.data,
			 "status=starting;ready;status=up;watchdog;trigger;wd_usec=5000000;wd_usec=0;"
			 "extend=18446744073709551615;reloading=1;reloading=0;stopping;watchdog;status=;"
			 "extend=30000000;status=end;");
	struct notify_stats st;
	notify_socket_stats(s, &st);
	ck_assert_uint_eq(st.datagrams, ELEMENTSOF(sent));
	ck_assert_uint_eq(st.dropped, 0);
	notify_socket_close(s);
	buf_free(&h.log);
}
END_TEST

/* The parser alone: lines in order within one datagram, READY once per
 * run, RELOADING only between READYs, nothing after STOPPING but status,
 * watchdog and timeouts; and a halt stops at the next line. */
START_TEST(test_parse_rules)
{
	struct heard h = { 0 };
	struct notify_state st = { 0 };
	const char *m = "RELOADING=1\nREADY=1\nREADY=1\nRELOADING=1\nRELOADING=1\nSTATUS=r\nREADY=1\n"
			"READY=1\nRELOADING=1\nSTOPPING=1\nREADY=1\nSTATUS=s\nWATCHDOG=1\nEXTEND_TIMEOUT_USEC=5";
	notify_parse(&st, m, strlen(m), &handler, &h);
	ck_assert_str_eq(h.log.data, "ready;reloading=1;status=r;reloading=0;reloading=1;stopping;status=s;"
			 "watchdog;extend=5;");
	ck_assert(st.ready && st.stopping && st.reloading);

	/* a run that says STOPPING=1 before it was ever ready is never ready */
	struct notify_state st2 = { 0 };
	h.log.len = 0;
	notify_parse(&st2, "STOPPING=1\nREADY=1\nSTOPPING=1", 29, &handler, &h);
	ck_assert_str_eq(h.log.data, "stopping;");

	/* no callbacks at all: the state still moves */
	struct notify_state st3 = { 0 };
	static const struct notify_handler none = { 0 };
	notify_parse(&st3, "READY=1\nRELOADING=1", 19, &none, NULL);
	ck_assert(st3.ready && st3.reloading);

	/* halted: nothing more */
	struct notify_state st4 = { .halt = true };
	h.log.len = 0;
	h.log.data[0] = '\0';
	notify_parse(&st4, "READY=1", 7, &handler, &h);
	ck_assert_uint_eq(h.log.len, 0);
	buf_free(&h.log);
}
END_TEST

static const char *sanitized(const char *in, size_t len) {
	static char out[NOTIFY_STATUS_MAX + 1];
	size_t n = notify_status_sanitize(in, len, out);
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_uint_le(n, NOTIFY_STATUS_MAX);
	return out;
}

/* Control characters (C0, DEL, C1) and bytes that are not UTF-8 become
 * '?'; valid UTF-8 stays; 256 bytes at most, cut between characters. */
START_TEST(test_status_sanitize)
{
	ck_assert_str_eq(sanitized("", 0), "");
	ck_assert_str_eq(sanitized("4 running, 1 failed", 19), "4 running, 1 failed");
	ck_assert_str_eq(sanitized("a\tb\rc\x1b[31md\x7f", 12), "a?b?c?[31md?");
	ck_assert_str_eq(sanitized("nul\0x", 5), "nul?x");
	ck_assert_str_eq(sanitized("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80", 15), "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
	ck_assert_str_eq(sanitized("c1 \xc2\x85 \xc2\x9f \xc2\xa0", 11), "c1 ? ? \xc2\xa0");
	ck_assert_str_eq(sanitized("\xff\xfe", 2), "??");
	ck_assert_str_eq(sanitized("\xc0\xaf", 2), "??");                  /* overlong '/' */
	ck_assert_str_eq(sanitized("\xe0\x80\xaf", 3), "???");              /* overlong */
	ck_assert_str_eq(sanitized("\xed\xa0\x80", 3), "???");              /* a surrogate */
	ck_assert_str_eq(sanitized("\xf4\x90\x80\x80", 4), "????");         /* past U+10FFFF */
	ck_assert_str_eq(sanitized("end\xe2\x9c", 5), "end??");             /* cut short */

	char big[600];
	memset(big, 'a', sizeof(big));
	ck_assert_uint_eq(strlen(sanitized(big, sizeof(big))), NOTIFY_STATUS_MAX);
	/* 255 bytes, then a 2-byte character that does not fit: cut before it */
	memcpy(big + 255, "\xc3\xa9", 2);
	ck_assert_uint_eq(strlen(sanitized(big, 257)), 255);
	/* a control character at the edge still takes its byte */
	big[255] = '\n';
	ck_assert_uint_eq(strlen(sanitized(big, 300)), 256);
	ck_assert_int_eq(sanitized(big, 300)[255], '?');
}
END_TEST

/* A message of exactly 4096 bytes is read; 4097 bytes, or a NUL, and the
 * datagram is dropped whole; the socket goes on. */
START_TEST(test_datagram_limit)
{
	struct heard h = { 0 };
	struct notify_socket *s = open_socket(8, &h);
	char msg[NOTIFY_DATAGRAM_MAX + 1];

	for (size_t len = NOTIFY_DATAGRAM_MAX; len <= NOTIFY_DATAGRAM_MAX + 1; len++) {
		memset(msg, 'x', sizeof(msg));
		memcpy(msg, "STATUS=big\nPAD=", 15);
		ck_assert_int_eq(send_to(notify_socket_path(s), msg, len, NULL, 0), 0);
	}
	ck_assert_int_eq(send_to(notify_socket_path(s), "STATUS=n\0ul", 11, NULL, 0), 0);
	send_text(s, "STATUS=after");
	run_until(&h, "status=after;");
	ck_assert_str_eq(h.log.data, "status=big;status=after;");
	struct notify_stats st;
	notify_socket_stats(s, &st);
	ck_assert_uint_eq(st.datagrams, 4);
	ck_assert_uint_eq(st.dropped, 2);
	notify_socket_close(s);
	buf_free(&h.log);
}
END_TEST

/* Every passed fd is closed, after the messages before it were handled
 * (BARRIER=1), also those of a dropped datagram: the read ends see EOF and
 * supd's fd table is as before. */
START_TEST(test_passed_fds_closed)
{
	struct heard h = { 0 };
	int before = count_fds();
	struct notify_socket *s = open_socket(9, &h);
	int p[3][2];

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pipe2(p[i], O_CLOEXEC), 0);
	send_text(s, "STATUS=before");
	int w[2] = { p[0][1], p[1][1] };
	ck_assert_int_eq(send_to(notify_socket_path(s), "BARRIER=1", 9, w, 2), 0);
	char big[NOTIFY_DATAGRAM_MAX + 100];
	memset(big, 'y', sizeof(big));
	ck_assert_int_eq(send_to(notify_socket_path(s), big, sizeof(big), &p[2][1], 1), 0);
	for (int i = 0; i < 3; i++)
		close(p[i][1]);
	/* the barrier of sd_notify_barrier(3): HUP once supd closed its copy */
	struct pollfd pf = { .fd = p[0][0], .events = POLLIN };
	usec_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
	while (poll(&pf, 1, 0) == 0) {
		ck_assert(now_usec(CLOCK_MONOTONIC) < deadline);
		ck_assert_int_ge(sd_event_run(loop, 100 * USEC_PER_MSEC), 0);
	}
	ck_assert(pf.revents & POLLHUP);
	ck_assert_str_eq(h.log.data, "status=before;");     /* handled before the barrier opened */
	send_text(s, "STATUS=after");
	run_until(&h, "status=after;");
	for (int i = 0; i < 3; i++) {
		char c;
		ck_assert_int_eq(read(p[i][0], &c, 1), 0);     /* no writer left anywhere */
		close(p[i][0]);
	}
	struct notify_stats st;
	notify_socket_stats(s, &st);
	ck_assert_uint_eq(st.fds_closed, 3);
	ck_assert_uint_eq(st.dropped, 1);
	notify_socket_close(s);
	ck_assert_int_eq(count_fds(), before);
	buf_free(&h.log);
}
END_TEST

static int on_tick(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
	(void) src; (void) fd; (void) revents;
	(*(uint64_t *) userdata)++;
	return 0;
}

/* 10,000 datagrams from two senders as fast as they go: all are read, in
 * order per sender, and an always-ready source of the same loop gets its
 * turn at least every NOTIFY_MAX_PER_WAKE datagrams. */
START_TEST(test_flood)
{
	enum { SENDERS = 2, EACH = 5000 };
	uint64_t ticks = 0;
	struct heard h = { .ticks = &ticks };
	struct notify_socket *s = open_socket(10, &h);
	int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);     /* readable until read: always ready */
	sd_event_source *tick = NULL;
	pid_t pids[SENDERS];

	ck_assert_int_ge(efd, 0);
	ck_assert_int_ge(sd_event_add_io(loop, &tick, efd, EPOLLIN, on_tick, &ticks), 0);
	for (int k = 0; k < SENDERS; k++) {
		pids[k] = fork();
		ck_assert_int_ge(pids[k], 0);
		if (pids[k] == 0) {
			struct sockaddr_un sa = { .sun_family = AF_UNIX };
			int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			strcpy(sa.sun_path, notify_socket_path(s));
			for (int i = 0; i < EACH; i++) {
				char m[32];
				int n = snprintf(m, sizeof(m), "STATUS=%d", i);
				if (sendto(fd, m, (size_t) n, 0, (struct sockaddr *) &sa, sizeof(sa)) != n)
					_exit(1);
			}
			_exit(0);
		}
	}
	usec_t deadline = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;
	while (h.statuses < SENDERS * EACH && now_usec(CLOCK_MONOTONIC) < deadline)
		ck_assert_int_ge(sd_event_run(loop, 100 * USEC_PER_MSEC), 0);
	for (int k = 0; k < SENDERS; k++) {
		int status;
		if (h.statuses < SENDERS * EACH)
			kill(pids[k], SIGKILL);
		ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_uint_eq(h.statuses, SENDERS * EACH);
	ck_assert_uint_le(h.max_between_ticks, NOTIFY_MAX_PER_WAKE);
	ck_assert_uint_ge(ticks, SENDERS * EACH / NOTIFY_MAX_PER_WAKE);
	fprintf(stderr, "flood: %d datagrams, the other source ran %" PRIu64 " times, at most %zu datagrams "
		"between two of its turns\n", SENDERS * EACH, ticks, h.max_between_ticks);
	sd_event_source_unref(tick);
	close(efd);
	notify_socket_close(s);
}
END_TEST

/* The socket is the job's uid:gid with mode 0600 in a 0711 directory of
 * supd's; close unlinks it and gives back its fd. */
START_TEST(test_owner_mode_and_close)
{
	struct heard h = { 0 };
	uid_t uid = geteuid() == 0 ? 1 : geteuid();
	gid_t gid = geteuid() == 0 ? 1 : getegid();
	int before = count_fds();
	struct notify_socket *s = NULL;
	char prefix[256];
	struct stat st;

	ck_assert_int_eq(notify_socket_open(loop, dir, 11, uid, gid, &handler, &h, &s), 0);
	snprintf(prefix, sizeof(prefix), "%s/" NOTIFY_DIR "/%ld.11", dir, (long) getpid());
	ck_assert_str_eq(notify_socket_path(s), prefix);
	ck_assert_int_eq(lstat(notify_socket_path(s), &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, uid);
	ck_assert_uint_eq(st.st_gid, gid);
	snprintf(prefix, sizeof(prefix), "%s/" NOTIFY_DIR, dir);
	ck_assert_int_eq(lstat(prefix, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0711);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_int_eq(count_fds(), before + 1);

	/* a second socket of the same run number (a leftover of an earlier
	 * supd that had our pid) is replaced */
	char path[256];
	snprintf(path, sizeof(path), "%s", notify_socket_path(s));
	notify_socket_close(s);
	ck_assert_int_eq(lstat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(count_fds(), before);
	int leftover = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(leftover, 0);
	close(leftover);
	s = open_socket(11, &h);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	send_text(s, "READY=1");
	run_until(&h, "ready;");
	notify_socket_close(s);
	notify_socket_close(NULL);
	buf_free(&h.log);
}
END_TEST

/* Send READY=1 to path as uid:gid from a child; its exit status is 0 if
 * the send worked, else the errno. */
static int send_as(const char *path, uid_t uid, gid_t gid) {
	pid_t pid = fork();
	int status;
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(100);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		strcpy(sa.sun_path, path);
		if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *) &sa, sizeof(sa)) == 7)
			_exit(0);
		_exit(errno & 0x7f);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Only the job's uid (and root) can send: uid 65534 gets EACCES from the
 * kernel, through the same directories the job's uid passes. */
START_TEST(test_other_uid_refused)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_other_uid_refused: needs root to switch uids (setresuid)\n");
		return;
	}
	struct heard h = { 0 };
	struct notify_socket *s = NULL;
	ck_assert_int_eq(notify_socket_open(loop, dir, 12, 1, 1, &handler, &h, &s), 0);
	ck_assert_int_eq(send_as(notify_socket_path(s), 65534, 65534), EACCES);
	ck_assert_int_eq(send_as(notify_socket_path(s), 1, 65534), 0);    /* the job's uid, any group */
	run_until(&h, "ready;");
	struct notify_stats st;
	notify_socket_stats(s, &st);
	ck_assert_uint_eq(st.datagrams, 1);
	notify_socket_close(s);
	buf_free(&h.log);
}
END_TEST

/* RUNTIME/notify is made, or replaced when it is a link or a file or a
 * directory others may write; one that is not ours and not empty is an
 * error, and nothing is bound. */
START_TEST(test_directory)
{
	struct heard h = { 0 };
	char nd[256], target[256], inside[300];
	struct stat st;
	snprintf(nd, sizeof(nd), "%s/" NOTIFY_DIR, dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	ck_assert_int_eq(mkdir(target, 0777), 0);

	ck_assert_int_eq(symlink(target, nd), 0);
	struct notify_socket *s = open_socket(13, &h);
	ck_assert_int_eq(lstat(nd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	snprintf(inside, sizeof(inside), "%s/%ld.13", target, (long) getpid());
	ck_assert_int_eq(access(inside, F_OK), -1);         /* nothing went through the link */
	notify_socket_close(s);

	ck_assert_int_eq(rmdir(nd), 0);
	ck_assert_int_eq(mknod(nd, S_IFREG | 0600, 0), 0);
	s = open_socket(14, &h);
	ck_assert_int_eq(lstat(nd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	notify_socket_close(s);

	/* ours, but others could have written in it: replaced if empty,
	 * refused if not (what they left there is not to be trusted) */
	snprintf(inside, sizeof(inside), "%s/planted", nd);
	ck_assert_int_eq(mknod(inside, S_IFREG | 0600, 0), 0);
	ck_assert_int_eq(chmod(nd, 0777), 0);
	s = NULL;
	ck_assert_int_eq(notify_socket_open(loop, dir, 15, geteuid(), getegid(), &handler, &h, &s), -EPERM);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(unlink(inside), 0);
	s = open_socket(15, &h);
	ck_assert_int_eq(lstat(nd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0711);
	notify_socket_close(s);

	/* ours and too tight for jobs: opened up in place, what is inside stays */
	snprintf(inside, sizeof(inside), "%s/kept", nd);
	ck_assert_int_eq(mknod(inside, S_IFREG | 0600, 0), 0);
	ck_assert_int_eq(chmod(nd, 0700), 0);
	s = open_socket(16, &h);
	ck_assert_int_eq(lstat(nd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0711);
	ck_assert_int_eq(access(inside, F_OK), 0);
	notify_socket_close(s);
	ck_assert_int_eq(unlink(inside), 0);

	if (geteuid() == 0) {                          /* someone else's, not empty: refused */
		snprintf(inside, sizeof(inside), "%s/theirs", nd);
		ck_assert_int_eq(mkdir(inside, 0755), 0);
		ck_assert_int_eq(chown(nd, 65534, 65534), 0);
		s = NULL;
		ck_assert_int_eq(notify_socket_open(loop, dir, 17, 0, 0, &handler, &h, &s), -EPERM);
		ck_assert_ptr_null(s);
		snprintf(inside, sizeof(inside), "%s/%ld.17", nd, (long) getpid());
		ck_assert_int_eq(access(inside, F_OK), -1);
	}
	ck_assert_int_eq(notify_socket_open(loop, "/nonexistent/supd", 1, 0, 0, &handler, &h, &s), -ENOENT);
}
END_TEST

/* A runtime directory too long for sun_path: a clear error, nothing made. */
START_TEST(test_path_too_long)
{
	struct heard h = { 0 };
	char longdir[200];
	struct notify_socket *s = NULL;
	snprintf(longdir, sizeof(longdir), "%s/%s", dir,
		 "a-runtime-directory-with-a-name-long-enough-that-no-socket-address-can-hold-it-aaaaaaaaaaa");
	ck_assert_int_eq(mkdir(longdir, 0755), 0);
	ck_assert_int_eq(notify_socket_open(loop, longdir, 1, geteuid(), getegid(), &handler, &h, &s), -ENAMETOOLONG);
	ck_assert_ptr_null(s);
	char nd[256];
	snprintf(nd, sizeof(nd), "%s/" NOTIFY_DIR, longdir);
	ck_assert_int_eq(access(nd, F_OK), -1);
}
END_TEST

/* The run ends inside a callback: the rest of that datagram and the ones
 * queued behind it fire nothing, and nothing leaks (ASan, valgrind). */
START_TEST(test_close_in_callback)
{
	struct heard h = { 0 };
	int before = count_fds();
	struct notify_socket *s = open_socket(18, &h);
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	h.close_me = s;
	ck_assert_int_eq(send_to(notify_socket_path(s), "STATUS=a\nREADY=1", 16, &p[1], 1), 0);
	send_text(s, "STATUS=b");
	close(p[1]);
	run_until(&h, "status=a;");
	for (int i = 0; i < 5; i++)
		ck_assert_int_ge(sd_event_run(loop, 10 * USEC_PER_MSEC), 0);
	ck_assert_str_eq(h.log.data, "status=a;");
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 0);      /* the passed fd was closed too */
	close(p[0]);
	ck_assert_int_eq(count_fds(), before);
	buf_free(&h.log);
}
END_TEST

/* Run tests/tools/notify-ready with NOTIFY_SOCKET (and a watchdog) and
 * return its pid. */
static pid_t spawn_tool(struct notify_socket *s, const char *watchdog_usec, const char *const argv[]) {
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char me[32];
		setenv("NOTIFY_SOCKET", notify_socket_path(s), 1);
		if (watchdog_usec) {
			snprintf(me, sizeof(me), "%ld", (long) getpid());
			setenv("WATCHDOG_USEC", watchdog_usec, 1);
			setenv("WATCHDOG_PID", me, 1);
		}
		execv(TOOL, (char *const *) argv);
		_exit(127);
	}
	return pid;
}

static int reap(pid_t pid) {
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A program written for systemd's Type=notify, with libsystemd's
 * sd_notify(), works unchanged: READY=1 after its init with its STATUS=,
 * sd_notify_barrier() returns, the watchdog pings at half WATCHDOG_USEC,
 * RELOADING=1/READY=1 on SIGHUP, STOPPING=1 on SIGTERM. */
START_TEST(test_sd_notify_program)
{
	struct heard h = { 0 };
	struct notify_socket *s = open_socket(19, &h);
	const char *argv[] = { TOOL, "--init", "50", "--status", "hello \x01 world", "--barrier", "--watchdog",
			 "--reload", "--stopping", "--exit-code", "3", NULL };
	usec_t t0 = now_usec(CLOCK_MONOTONIC);
	pid_t pid = spawn_tool(s, "20000", argv);

	run_until(&h, "ready;status=hello ? world;");
	ck_assert_uint_ge(now_usec(CLOCK_MONOTONIC) - t0, 50 * USEC_PER_MSEC);
	ck_assert_ptr_eq(strstr(h.log.data, "ready;"), h.log.data);   /* nothing before it */
	run_for(&h, "watchdog;", 3);
	ck_assert_int_eq(kill(pid, SIGHUP), 0);
	run_until(&h, "reloading=0;");
	ck_assert_ptr_nonnull(strstr(h.log.data, "reloading=1;"));
	ck_assert(strstr(h.log.data, "reloading=1;") < strstr(h.log.data, "reloading=0;"));
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	run_until(&h, "stopping;");
	ck_assert_int_eq(reap(pid), 3);
	notify_socket_close(s);

	/* --no-ready --exit-after: never up, exits by itself */
	buf_free(&h.log);
	h = (struct heard) { 0 };
	s = open_socket(20, &h);
	const char *quiet[] = { TOOL, "--no-ready", "--exit-after", "50", NULL };
	pid = spawn_tool(s, NULL, quiet);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_ge(sd_event_run(loop, 0), 0);
	ck_assert_ptr_null(h.log.data);
	notify_socket_close(s);

	/* --watchdog-stop: pings, then silence (a missed watchdog) */
	s = open_socket(21, &h);
	const char *miss[] = { TOOL, "--watchdog", "--watchdog-stop", "60", "--exit-after", "300", NULL };
	pid = spawn_tool(s, "20000", miss);
	run_until(&h, "watchdog;");
	usec_t end = now_usec(CLOCK_MONOTONIC) + 400 * USEC_PER_MSEC;
	while (now_usec(CLOCK_MONOTONIC) < end)
		ck_assert_int_ge(sd_event_run(loop, 10 * USEC_PER_MSEC), 0);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_uint_ge(h.pings, 2);
	ck_assert_uint_le(h.pings, 6);       /* 60 ms at 10 ms, not 300 ms */
	notify_socket_close(s);
	buf_free(&h.log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("socket");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_kind);
	tcase_add_test(tc, test_parse_rules);
	tcase_add_test(tc, test_status_sanitize);
	tcase_add_test(tc, test_datagram_limit);
	tcase_add_test(tc, test_passed_fds_closed);
	tcase_add_test(tc, test_flood);
	tcase_add_test(tc, test_owner_mode_and_close);
	tcase_add_test(tc, test_other_uid_refused);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_path_too_long);
	tcase_add_test(tc, test_close_in_callback);
	tcase_add_test(tc, test_sd_notify_program);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
