/* SPDX-License-Identifier: ISC */
/* Commands that answer when jobs are final: wait, run. */
#include "commands.h"
#include "proto.h"

static void reply_waited(struct client *c, const struct cmd_parked *p, bool timed_out) {
	struct buf b = { 0 };

	buf_appendf(&b, "{\"ok\":true,\"timed_out\":%s,\"unfinished\":", timed_out ? "true" : "false");
	cmd_park_append_unfinished(&b, p);
	cmd_park_append_jobs(&b, p);
	client_reply_text(c, &b);
}

void cmd_wait(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	usec_t timeout;
	if (cmd_args_timeout(c, req, &timeout) < 0 || cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0)
		return;
	cmd_park(cmds, c, v, n, json_is_true(json_object_get(req, PROTO_REQ_UP)) ? UNTIL_UP : UNTIL_FINAL, timeout,
		 req, reply_waited);
}

void cmd_run(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v;
	size_t n;
	usec_t timeout;
	if (cmd_args_timeout(c, req, &timeout) < 0 || cmd_args_jobs(cmds, c, req, true, false, &v, &n) < 0)
		return;
	if (n != 1) {
		client_reply_error(c, "run takes exactly one job (%zu matched)", n);
		free(v);
		return;
	}
	if (cmd_jobs_start_all(cmds, c, v, n) < 0) {
		free(v);
		return;
	}
	cmd_park(cmds, c, v, n, UNTIL_FINAL, timeout, req, reply_waited);
}
