/* SPDX-License-Identifier: ISC */
/* The table of control commands and the dispatch of a request line
 * (protocol in doc/protocol.md). */
#include "commands.h"
#include "log.h"
#include "proto.h"

static const struct cmd_entry commands[] = {
	{ "status", cmd_status },
	{ "start", cmd_start },
	{ "stop", cmd_stop },
	{ "restart", cmd_restart },
	{ "signal", cmd_signal },
	{ "wait", cmd_wait },
	{ "run", cmd_run },
	{ "reload", cmd_reload },
	{ "shutdown", cmd_shutdown },
	{ "reopen", cmd_reopen },
	{ "version", cmd_version },
	{ "subscribe", cmd_subscribe },
	{ "logs", cmd_logs },
	{ "history", cmd_history },
	{ "deps", cmd_deps },
};

const struct cmd_entry *command_find(const char *name) {
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void commands_dispatch(struct client *c, const char *line, size_t len, void *userdata) {
	struct commands *cmds = userdata;
	json_error_t err;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);

	if (!req) {
		client_reply_error(c, "bad JSON: %s", err.text);
		return;
	}
	const char *name = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || !name) {
		client_reply_error(c, "a request is an object with a string \"cmd\"");
		json_decref(req);
		return;
	}
	const struct cmd_entry *cmd = command_find(name);
	if (cmd)
		cmd->exec(cmds, c, req);
	else
		client_reply_error(c, "unknown command: %.64s", name);
	json_decref(req);
}

static void on_job_changed(struct job *j, enum job_event ev, void *userdata) {
	struct commands *cmds = userdata;

	cmd_stream_job_changed(cmds, j, ev);
	if (ev == JOB_EVENT_STATE)
		cmd_park_job_changed(cmds, j);
}

static void on_job_removed(struct job *j, void *userdata) {
	struct commands *cmds = userdata;

	cmd_stream_job_removed(cmds, j);
	cmd_park_job_removed(cmds, j);
}

static void on_job_line(struct job *j, const char *line, void *userdata) {
	cmd_stream_job_line(userdata, j, line);
}

int commands_new(sd_event *e, struct supervisor *sup, const struct commands_hooks *hooks, struct commands **ret) {
	struct commands *cmds = xcalloc(1, sizeof(*cmds));
	int r;

	cmds->event = sd_event_ref(e);
	cmds->sup = sup;
	cmds->hooks = *hooks;
	r = sd_event_add_defer(e, &cmds->recheck, cmd_park_recheck, cmds);
	if (r >= 0)
		r = sd_event_source_set_enabled(cmds->recheck, SD_EVENT_OFF);
	if (r < 0) {
		sd_event_source_disable_unref(cmds->recheck);
		sd_event_unref(cmds->event);
		free(cmds);
		return log_error_errno(r, "cannot set up the control commands");
	}
	cmds->observer = (struct job_observer) {
		.changed = on_job_changed, .removed = on_job_removed, .line = on_job_line, .userdata = cmds,
	};
	supervisor_add_observer(sup, &cmds->observer);
	*ret = cmds;
	return 0;
}

void commands_free(struct commands *cmds) {
	if (!cmds)
		return;
	supervisor_remove_observer(cmds->sup, &cmds->observer);
	sd_event_source_disable_unref(cmds->recheck);
	sd_event_unref(cmds->event);
	free(cmds);
}
