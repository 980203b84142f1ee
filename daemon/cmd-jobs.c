/* SPDX-License-Identifier: ISC */
/* Commands that change jobs: start, stop, restart, signal. */
#include <signal.h>
#include "commands.h"
#include "parse.h"

int cmd_jobs_start_all(struct client *c, struct job **v, size_t n) {
	for (size_t i = 0; i < n; i++) {
		int r = job_want_up(v[i]);
		if (r == -ESHUTDOWN) {
			client_reply_error(c, "supd is shutting down");
			return -1;
		}
	}
	return 0;
}

void cmd_start(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	if (cmd_args_jobs(cmds, c, req, true, false, &v, &n) < 0)
		return;
	if (cmd_jobs_start_all(c, v, n) == 0)
		cmd_reply_jobs(c, v, n);
	free(v);
}

static void reply_settled(struct client *c, const struct cmd_parked *p, bool timed_out) {
	struct buf b = { 0 };
	buf_appendf(&b, "{\"ok\":true");
	cmd_park_append_jobs(&b, p);
	client_reply_text(c, &b);
}

void cmd_stop(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	json_t *w = json_object_get(req, "wait");
	if (cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		job_want_down(v[i]);
	if (w && json_is_false(w)) {
		cmd_reply_jobs(c, v, n);
		free(v);
		return;
	}
	cmd_park(cmds, c, v, n, UNTIL_STOPPED, USEC_INFINITY, req, reply_settled);
}

/* A running job is stopped with want kept up, so it starts again by itself
 * once stopped, even if this client goes away; others start now. The reply
 * comes when none is stopping any more. */
void cmd_restart(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	if (cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0)
		return;
	if (supervisor_shutting_down(cmds->sup)) {
		client_reply_error(c, "supd is shutting down");
		free(v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		(void) job_restart(v[i]);
	cmd_park(cmds, c, v, n, UNTIL_RESTARTED, USEC_INFINITY, req, reply_settled);
}

void cmd_signal(struct commands *cmds, struct client *c, json_t *req) {
	json_t *sig = json_object_get(req, "signal");
	struct job **v;
	size_t n;
	int signo;

	if (json_is_integer(sig) && json_integer_value(sig) > 0 && json_integer_value(sig) < NSIG)
		signo = (int) json_integer_value(sig);
	else if (!json_is_string(sig) || parse_signal(json_string_value(sig), &signo) < 0) {
		client_reply_error(c, "invalid or missing \"signal\"");
		return;
	}
	if (cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0)
		return;
	size_t sent = 0;
	for (size_t i = 0; i < n; i++)
		if (job_send_signal(v[i], signo) == 0)
			sent++;
	if (sent == 0)
		client_reply_error(c, "no matched job is running");
	else
		cmd_reply_jobs(c, v, n);
	free(v);
}
