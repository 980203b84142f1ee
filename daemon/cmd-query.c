/* Commands that only read: status, history. */
#include "commands.h"
#include "history.h"

/* With "columns", the reply is a table of rows instead of job objects: a
 * tenth of the text for a status table, which is what clients parse. */
void cmd_status(struct commands *cmds, struct client *c, json_t *req) {
	_cleanup_free_ enum job_field *columns = NULL;
	_cleanup_free_ struct job **v = NULL;
	struct buf b = { 0 };
	size_t n, n_columns;

	if (cmd_args_columns(c, req, &columns, &n_columns) < 0 ||
	    cmd_args_jobs(cmds, c, req, false, true, &v, &n) < 0)
		return;
	if (!columns) {
		cmd_reply_jobs(c, v, n);
		return;
	}
	/* {"ok":true,"rows":[[...],...]}: the named fields of each job, in order */
	buf_appendf(&b, "{\"ok\":true,\"rows\":");
	cmd_reply_append_array(&b, v, n, columns, n_columns);
	buf_append(&b, "}", 1);
	client_reply_text(c, &b);
}

void cmd_history(struct commands *cmds, struct client *c, json_t *req) {
	struct supervisor *s = cmds->sup;
	json_t *pats = json_object_get(req, "jobs");
	size_t lines, i, skipped = 0;
	json_t *p;

	if (cmd_args_lines(c, req, 0, &lines) < 0)
		return;
	if (!s->history) {
		client_reply_error(c, "no run history: state_dir is not usable (see supd's log)");
		return;
	}
	if (pats && !json_is_array(pats)) {
		client_reply_error(c, "\"jobs\" must be an array of job names or patterns");
		return;
	}
	size_t np = json_array_size(pats);
	const char **v = xcalloc(np ? np : 1, sizeof(char *));
	json_array_foreach(pats, i, p) {
		if (!(v[i] = json_string_value(p))) {
			client_reply_error(c, "\"jobs\" must contain strings");
			free(v);
			return;
		}
	}
	json_t *runs = history_query(s->history, v, np, lines, &skipped);
	free(v);
	client_reply(c, json_pack("{s:b, s:o, s:I}", "ok", true, "runs", runs, "skipped", (json_int_t) skipped));
}
