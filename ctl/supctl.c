/* SPDX-License-Identifier: ISC */
/* supctl: the command-line client of supd's control socket.
 *
 * Every verb is one row of the table below (name, usage, operand counts,
 * options, handler, help), defined next to its code in cmd-*.c. A handler
 * builds one request (doc/protocol.md), sends it over the connection
 * (ctl.h, conn.h) and turns the answer into output and an exit status
 * (SPEC §1):
 *   0 success, 1 a job failed, 2 usage error, 3 supd not reachable,
 *   4 request refused; run and wait on one job exit as a shell would. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cmd.h"
#include "conn.h"
#include "ctl.h"
#include "output.h"
#include "render.h"
#include "util.h"

static const struct ctl_command help_entry;

/* The verbs, in the order "supctl --help" lists them. */
static const struct ctl_command *const commands[] = {
	&cmd_status_entry,
	&cmd_is_active_entry,
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_restart_entry,
	&cmd_signal_entry,
	&cmd_wait_entry,
	&cmd_run_entry,
	&cmd_logs_entry,
	&cmd_history_entry,
	&cmd_events_entry,
	&cmd_deps_entry,
	&cmd_reload_entry,
	&cmd_shutdown_entry,
	&cmd_reopen_entry,
	&cmd_version_entry,
	&help_entry,
};
static const struct ctl_table table = { commands, ELEMENTSOF(commands) };

/* Here rather than in a cmd-*.c file: it reads the table, which lists it. */
static int cmd_help(_unused_ struct ctl *c, const struct ctl_args *a) {
	const struct ctl_command *cmd;

	if (a->argc == 0) {
		args_print_help(a->table, stdout);
		return 0;
	}
	cmd = args_find_command(a->table, a->argv[0]);
	if (!cmd)
		return output_usage_error("unknown command: %s", a->argv[0]);
	args_print_command_help(cmd, stdout);
	return 0;
}

static const struct ctl_command help_entry = {
	"help", "[COMMAND]", 0, 1, cmd_help,
	"show help for supctl or one command", NULL, { { 0 } },
};

int main(int argc, char **argv) {
	static struct ctl_args args;
	struct ctl c = { 0 };
	int r;

	/* A closed socket or pipe must be an error return, never a death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return EXIT_FAILURE;
	if (output_guard_std_fds() < 0)
		return EXIT_FAILURE;

	r = args_parse(&table, argc, argv, &args);
	if (r < 0) {
		conn_init(&c.conn, &conn_unix, args.opt['s']);
		c.json = args.opt[OPT_JSON] != NULL;
		c.quiet = args.opt['q'] != NULL;
		render_set_legend(!args.opt[OPT_NO_LEGEND]);
		r = args.cmd->exec(&c, &args);
		conn_close(&c.conn);
	}
	free(args.argv);
	return output_finish(r);
}
