/* SPDX-License-Identifier: ISC */
/* Logging in the OpenBSD daemon style: log_warn adds strerror(errno),
 * log_warnx does not; fatal/fatalx exit. Backends: stderr (default) or the
 * systemd journal (with structured fields, see log_job()). */
#pragma once

#include <stdarg.h>
#include <syslog.h>
#include "util.h"

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_JOURNAL };

void log_init(const char *ident, enum log_target target, int max_priority);
void log_set_verbose(bool verbose);

void log_msg(int priority, const char *fmt, ...) _printf_(2, 3);
void log_warn(const char *fmt, ...) _printf_(1, 2);    /* + ": strerror(errno)" */
void log_warnx(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);
void fatal(const char *fmt, ...) _printf_(1, 2) _noreturn_;
void fatalx(const char *fmt, ...) _printf_(1, 2) _noreturn_;

/* A log line about one job's run; under the journal it carries the fields
 * SUPD_JOB=, SUPD_RUN= and, when exit_status/exit_signal >= 0,
 * EXIT_STATUS= / EXIT_SIGNAL=. */
void log_job(int priority, const char *job, uint64_t run, int exit_status, int exit_signal,
	     const char *fmt, ...) _printf_(6, 7);

/* Returns -err after logging "msg: strerror(err)" at LOG_ERR (sd style). */
int log_error_errno(int err, const char *fmt, ...) _printf_(2, 3);
