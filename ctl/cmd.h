/* SPDX-License-Identifier: ISC */
/* The verbs of supctl, one table row each (struct ctl_command), defined
 * next to their code in a cmd-*.c file per family; supctl.c lists them. */
#pragma once

#include "args.h"

/* cmd-status.c */
extern const struct ctl_command cmd_status_entry, cmd_is_active_entry;
/* cmd-jobs.c */
extern const struct ctl_command cmd_start_entry, cmd_stop_entry, cmd_restart_entry, cmd_signal_entry;
/* cmd-wait.c */
extern const struct ctl_command cmd_wait_entry, cmd_run_entry;
/* cmd-logs.c */
extern const struct ctl_command cmd_logs_entry, cmd_history_entry, cmd_events_entry;
/* cmd-daemon.c */
extern const struct ctl_command cmd_reload_entry, cmd_shutdown_entry, cmd_reopen_entry, cmd_version_entry;
/* cmd-deps.c */
extern const struct ctl_command cmd_deps_entry;
