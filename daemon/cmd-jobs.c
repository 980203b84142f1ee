/* SPDX-License-Identifier: ISC */
/* Commands that change jobs: start, stop, restart, signal. */
#include <signal.h>
#include "commands.h"
#include "parse.h"

int cmd_jobs_start_all(struct commands *cmds, struct client *c, struct job **v, size_t n) {
	for (size_t i = 0; i < n; i++) {
		/* what it requires first (SPEC §7) */
		int r = requires_start(&cmds->sup->req, v[i]);
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
	if (cmd_jobs_start_all(cmds, c, v, n) == 0)
		cmd_reply_jobs(c, v, n);
	free(v);
}

static void reply_settled(struct client *c, const struct cmd_parked *p, bool timed_out) {
	struct buf b = { 0 };
	buf_appendf(&b, "{\"ok\":true");
	cmd_park_append_jobs(&b, p);
	client_reply_text(c, &b);
}

/* Every job a stop touched: the named ones, then the dependents it
 * stopped first (SPEC §7), each once. */
static size_t add_dependents(struct job ***v, size_t n, struct job **deps, size_t n_deps) {
	size_t total = n;

	if (n_deps == 0)
		return n;
	*v = xreallocarray(*v, n + n_deps, sizeof(**v));
	for (size_t i = 0; i < n_deps; i++) {
		bool seen = false;
		for (size_t k = 0; k < total && !seen; k++)
			seen = (*v)[k] == deps[i];
		if (!seen)
			(*v)[total++] = deps[i];
	}
	return total;
}

void cmd_stop(struct commands *cmds, struct client *c, json_t *req) {
	struct job **v, **deps = NULL;
	size_t n, n_deps = 0;
	json_t *w = json_object_get(req, "wait");
	if (cmd_args_jobs(cmds, c, req, false, false, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		requires_stop(&cmds->sup->req, v[i], PENDING_STOP, &deps, &n_deps);
	n = add_dependents(&v, n, deps, n_deps);
	free(deps);
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
	/* dependents stop first and start again once it is back (SPEC §7) */
	for (size_t i = 0; i < n; i++)
		requires_stop(&cmds->sup->req, v[i], PENDING_RESTART, NULL, NULL);
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
