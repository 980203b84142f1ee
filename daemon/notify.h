/* SPDX-License-Identifier: ISC */
/* The NOTIFY_SOCKET server of one run (SPEC §7, sd_notify(3)): an AF_UNIX
 * datagram socket at RUNTIME_DIR/notify/PID.RUN, in a directory only
 * supd's uid can write, owned by the job's uid and gid with mode 0600, so
 * no other local user can send to it and every message on it counts for
 * this run, whichever of its processes sent it (no pid lookups). The
 * messages are read on the event loop, parsed here and handed to a
 * handler; the "once per run" and RELOADING=1 rules live here too, so the
 * job side only reacts.
 *
 * What fires when (any callback may be NULL: that message is ignored):
 *   READY=1            ready(), once: the first READY=1 of the run. A later
 *                      READY=1 fires reloading(false) if RELOADING=1 came
 *                      since, else nothing.
 *   RELOADING=1        reloading(true), once ready and not already
 *                      reloading; before the first READY=1, nothing.
 *   STOPPING=1         stopping(), once; after it READY=1 and RELOADING=1
 *                      fire nothing (the other keys still do).
 *   STATUS=TEXT        status(text) each time: at most NOTIFY_STATUS_MAX
 *                      bytes, cut at a character boundary, each control
 *                      character (C0, DEL, C1) and each byte that is not
 *                      valid UTF-8 shown as '?'; "" clears the status.
 *   WATCHDOG=1         watchdog() each time.
 *   WATCHDOG=trigger   watchdog_trigger() each time (the job reports a miss).
 *   WATCHDOG_USEC=N    watchdog_usec(N) each time (0 included: systemd
 *                      reads it as "no watchdog for this run").
 *   EXTEND_TIMEOUT_USEC=N  extend_timeout(N) each time.
 *   BARRIER=1, MAINPID=, FDSTORE=, ERRNO= and every other key: nothing.
 * N is decimal digits only (at most UINT64_MAX); anything else is ignored,
 * as is a line without '=' or whose value is not exactly the one listed.
 * The lines of a datagram are handled in order, datagrams in the order
 * they arrived. A datagram over NOTIFY_DATAGRAM_MAX bytes or with a NUL
 * byte is dropped whole (systemd drops those too). Every fd passed along
 * (SCM_RIGHTS) is closed right after its datagram is handled, so
 * sd_notify_barrier(3) returns once everything sent before it has fired;
 * credentials are ignored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define NOTIFY_DATAGRAM_MAX 4096     /* bytes; longer ones are dropped */
#define NOTIFY_STATUS_MAX   256      /* bytes of STATUS= kept */
#define NOTIFY_MAX_PER_WAKE 64       /* datagrams read per wake: a flood cannot starve the loop */
#define NOTIFY_DIR          "notify" /* under the runtime directory */

struct notify_handler {
	void (*ready)(void *userdata);
	void (*reloading)(void *userdata, bool reloading);
	void (*stopping)(void *userdata);
	void (*status)(void *userdata, const char *text);
	void (*watchdog)(void *userdata);
	void (*watchdog_trigger)(void *userdata);
	void (*watchdog_usec)(void *userdata, uint64_t usec);
	void (*extend_timeout)(void *userdata, uint64_t usec);
};

/* What a run has told so far: the state behind "once per run". */
struct notify_state {
	bool ready, reloading, stopping;
	bool halt;                  /* set while parsing: stop at the next line */
};

/* What the socket has seen, for logs and tests. */
struct notify_stats {
	uint64_t datagrams;         /* received, dropped ones included */
	uint64_t dropped;           /* over NOTIFY_DATAGRAM_MAX or with a NUL byte */
	uint64_t fds_closed;        /* passed with SCM_RIGHTS, closed unread */
};

struct notify_socket;

/* Bind the socket of run run_id in RUNTIME_DIR/notify (made 0711 and
 * supd's if missing; a link or file there is replaced; a directory that is
 * not supd's uid's or that others can write is removed if empty, else an
 * error), give it to uid:gid with mode 0600 (there is no moment where
 * another user could connect), and read it on e, calling h with userdata.
 * Returns 0 with *out, or -errno after logging why (-ENAMETOOLONG when the
 * path does not fit a socket address). h must outlive the socket. */
int notify_socket_open(sd_event *e, const char *runtime_dir, uint64_t run_id, uid_t uid, gid_t gid,
		       const struct notify_handler *h, void *userdata, struct notify_socket **out);
/* The value of NOTIFY_SOCKET for the job. */
const char *notify_socket_path(const struct notify_socket *s);
void notify_socket_stats(const struct notify_socket *s, struct notify_stats *out);
/* The run ended: unlink the socket and free it (NULL is fine). Safe from
 * inside a callback: nothing more of the socket's messages fires. */
void notify_socket_close(struct notify_socket *s);

/* Handle one datagram's text (len bytes, any bytes) against st, calling
 * h; stops early once st->halt is set. The socket's parser, exported for
 * tests and the fuzzer. */
void notify_parse(struct notify_state *st, const char *msg, size_t len, const struct notify_handler *h,
		  void *userdata);
/* STATUS= as kept: see above. Returns the length written to out (NUL
 * terminated). */
size_t notify_status_sanitize(const char *in, size_t len, char out[NOTIFY_STATUS_MAX + 1]);
