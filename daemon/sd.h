/* SPDX-License-Identifier: ISC */
/* All libsystemd notify/activation/journal glue, so the rest of supd also
 * runs cleanly where systemd is absent: without NOTIFY_SOCKET every call
 * here is a silent no-op. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>
#include "util.h"

/* READY=1 with a first STATUS= line. */
void sd_glue_ready(const char *status);
void sd_glue_status(const char *status);
void sd_glue_reloading(void);
void sd_glue_stopping(void);
/* EXTEND_TIMEOUT_USEC: the stop may take usec more from now. */
void sd_glue_extend_timeout(usec_t usec);
/* Enable sd-event's watchdog pings when WatchdogSec= is set. */
void sd_glue_watchdog(sd_event *e);
/* A listening socket passed by socket activation, or -1. */
int sd_glue_listen_fd(void);
/* A journal stream fd for a job's output, or -errno. */
int sd_glue_journal_stream(const char *identifier, int priority);
/* True if supd's own stderr is connected to the journal. */
bool sd_glue_stderr_is_journal(void);
