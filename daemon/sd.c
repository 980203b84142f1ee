/* SPDX-License-Identifier: ISC */
/* libsystemd glue (see sd.h). */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include "log.h"
#include "sd.h"

static void notify(const char *msg) {
	int r = sd_notify(0, msg);
	if (r < 0)
		log_debug("sd_notify failed: %s", strerror(-r));
}

void sd_glue_ready(const char *status) {
	_cleanup_free_ char *m = xasprintf("READY=1\nSTATUS=%s", status);
	notify(m);
}

void sd_glue_status(const char *status) {
	_cleanup_free_ char *m = xasprintf("STATUS=%s", status);
	notify(m);
}

void sd_glue_reloading(void) { notify("RELOADING=1"); }

void sd_glue_extend_timeout(usec_t usec) {
	_cleanup_free_ char *m = xasprintf("EXTEND_TIMEOUT_USEC=%llu", (unsigned long long) usec);
	notify(m);
}
void sd_glue_stopping(void) { notify("STOPPING=1"); }

void sd_glue_watchdog(sd_event *e) {
	int r = sd_event_set_watchdog(e, true);
	if (r < 0)
		log_warnx("cannot enable the watchdog: %s", strerror(-r));
	else if (r > 0)
		log_debug("watchdog enabled");
}

int sd_glue_listen_fd(void) {
	int n = sd_listen_fds(1);
	if (n <= 0)
		return -1;
	if (n > 1)
		log_warnx("%d sockets passed, serving only the first", n);
	int fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		log_warnx("passed fd %d is not a listening Unix stream socket, ignoring it", fd);
		return -1;
	}
	return fd;
}

int sd_glue_journal_stream(const char *identifier, int priority) {
	return sd_journal_stream_fd(identifier, priority, 0);
}

/* JOURNAL_STREAM=DEV:INODE names the stream our stderr is connected to. */
bool sd_glue_stderr_is_journal(void) {
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}
