/* SPDX-License-Identifier: ISC */
/* Logging to stderr ("ident: message") or to the systemd journal with
 * structured fields. Each message is formatted into one allocation and
 * written at once, so lines from supd never interleave or truncate. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <inttypes.h>
#include <stdio.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static const char *log_ident = "supd";
static char *log_ident_owned;
static enum log_target log_target = LOG_TARGET_STDERR;
static int log_max_priority = LOG_INFO;
static bool log_verbose;

/* The journal target falls back to stderr when journald is not running:
 * sd_journal_send() would silently drop everything then. */
void log_init(const char *ident, enum log_target target, int max_priority)
{
	if (target == LOG_TARGET_JOURNAL && access("/run/systemd/journal/socket", F_OK) < 0)
		target = LOG_TARGET_STDERR;
	free(log_ident_owned);
	log_ident_owned = xstrdup(ident && *ident ? ident : "supd");
	log_ident = log_ident_owned;
	log_target = target;
	log_max_priority = max_priority;
}

/* Verbose lets LOG_DEBUG through whatever log_init() said. */
void log_set_verbose(bool verbose)
{
	log_verbose = verbose;
}

static bool log_enabled(int priority)
{
	return priority <= log_max_priority || (log_verbose && priority <= LOG_DEBUG);
}

/* Write "ident: [prefix: ]msg\n" to stderr in one write. */
static void log_stderr(const char *prefix, const char *msg)
{
	_cleanup_free_ char *line = NULL;

	if (prefix)
		line = xasprintf("%s: %s: %s\n", log_ident, prefix, msg);
	else
		line = xasprintf("%s: %s\n", log_ident, msg);
	(void) write_all(STDERR_FILENO, line, strlen(line));
}

/* Send one journal entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the
 * job fields when job != NULL. Returns 0 or -errno. */
static int log_journal(int priority, const char *job, uint64_t run, int exit_status,
		       int exit_signal, const char *msg)
{
	char *fields[7] = { NULL };
	struct iovec iov[7];
	size_t n = 0;
	int r;

	fields[n++] = xasprintf("MESSAGE=%s", msg);
	fields[n++] = xasprintf("PRIORITY=%d", priority);
	fields[n++] = xasprintf("SYSLOG_IDENTIFIER=%s", log_ident);
	if (job) {
		fields[n++] = xasprintf("SUPD_JOB=%s", job);
		fields[n++] = xasprintf("SUPD_RUN=%" PRIu64, run);
		if (exit_status >= 0)
			fields[n++] = xasprintf("EXIT_STATUS=%d", exit_status);
		if (exit_signal >= 0)
			fields[n++] = xasprintf("EXIT_SIGNAL=%d", exit_signal);
	}
	for (size_t i = 0; i < n; i++)
		iov[i] = (struct iovec) { .iov_base = fields[i], .iov_len = strlen(fields[i]) };

	r = sd_journal_sendv(iov, (int) n);

	for (size_t i = 0; i < n; i++)
		free(fields[i]);
	return r;
}

/* Common sink: msg is complete; the journal falls back to stderr on error. */
static void log_emit(int priority, const char *job, uint64_t run, int exit_status,
		     int exit_signal, const char *msg)
{
	if (log_target == LOG_TARGET_JOURNAL) {
		_cleanup_free_ char *full = NULL;

		/* MESSAGE= is what journalctl shows: name the job in it too. */
		if (job)
			full = xasprintf("%s: %s", job, msg);
		if (log_journal(priority, job, run, exit_status, exit_signal, full ? full : msg) >= 0)
			return;
	}
	log_stderr(job, msg);
}

static char *log_vformat(const char *fmt, va_list ap) _printf_(1, 0);
static char *log_vformat(const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("(log message could not be formatted)");
	return msg;
}

static void log_vmsg(int priority, const char *job, uint64_t run, int exit_status,
		     int exit_signal, int err, const char *fmt, va_list ap) _printf_(7, 0);
/* Format and emit; err > 0 appends ": strerror(err)". */
static void log_vmsg(int priority, const char *job, uint64_t run, int exit_status,
		     int exit_signal, int err, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	int saved = errno;

	if (!log_enabled(priority))
		return;

	/* %m in fmt should see the errno the caller meant. */
	errno = err > 0 ? err : saved;
	msg = log_vformat(fmt, ap);
	if (err > 0) {
		char *with = xasprintf("%s: %s", msg, strerror(err));

		free(msg);
		msg = with;
	}
	log_emit(priority, job, run, exit_status, exit_signal, msg);
	errno = saved;
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(priority, NULL, 0, -1, -1, 0, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, NULL, 0, -1, -1, err, fmt, ap);   /* errno 0: nothing to add */
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, NULL, 0, -1, -1, 0, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, NULL, 0, -1, -1, 0, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, NULL, 0, -1, -1, 0, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, NULL, 0, -1, -1, err, fmt, ap);   /* errno 0: nothing to add */
	va_end(ap);
	exit(EXIT_FAILURE);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, NULL, 0, -1, -1, 0, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

/* The message is prefixed with "JOB: " on both backends, so callers write
 * only what happened ("started, pid 42"). */
void log_job(int priority, const char *job, uint64_t run, int exit_status, int exit_signal,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(priority, job, run, exit_status, exit_signal, 0, fmt, ap);
	va_end(ap);
}

int log_error_errno(int err, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	if (err == 0)
		err = EIO;   /* callers pass a failure; never return 0 from here */

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, NULL, 0, -1, -1, err, fmt, ap);
	va_end(ap);
	return -err;
}
