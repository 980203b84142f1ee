/* SPDX-License-Identifier: ISC */
/* supctl reload, shutdown, reopen and version: verbs about supd itself. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>

#include "cmd.h"
#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "request.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Prints "added: a b" for a non-empty list; returns whether it did. */
static bool print_change(const json_t *resp, const char *key) {
	json_t *names = json_object_get(resp, key), *name;
	size_t i;

	if (json_array_size(names) == 0)
		return false;
	printf("%s:", key);
	json_array_foreach(names, i, name)
		printf(" %s", json_is_string(name) ? json_string_value(name) : "?");
	putchar('\n');
	return true;
}

static int cmd_reload(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_RELOAD);
	json_auto_t *resp = NULL;
	bool any = false;
	int r;

	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (c->json) {
		output_json(resp);
		return 0;
	}
	if (c->quiet)
		return 0;
	any |= print_change(resp, PROTO_REP_ADDED);
	any |= print_change(resp, PROTO_REP_REMOVED);
	any |= print_change(resp, PROTO_REP_CHANGED);
	if (!any)
		puts("no changes");
	return 0;
}

/* A request whose answer is {"ok":true} alone. */
static int call_simple(struct ctl *c, const char *cmd) {
	json_auto_t *req = request_new(cmd);
	json_auto_t *resp = NULL;
	int r;

	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (c->json)
		output_json(resp);
	return 0;
}

static int cmd_shutdown(struct ctl *c, _unused_ const struct ctl_args *a) {
	return call_simple(c, PROTO_CMD_SHUTDOWN);
}

static int cmd_reopen(struct ctl *c, _unused_ const struct ctl_args *a) {
	return call_simple(c, PROTO_CMD_REOPEN);
}

static int cmd_version(struct ctl *c, _unused_ const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_VERSION);
	json_auto_t *resp = NULL;
	json_t *proto;
	const char *version;
	int r;

	if (!c->json)
		args_print_version(stdout);
	if ((r = ctl_call(c, req, &resp)))
		return r;
	proto = json_object_get(resp, PROTO_REP_PROTOCOL);
	if (c->json) {
		request_set(resp, "supctl_version", json_string(PACKAGE_VERSION));
		output_json(resp);
	} else {
		version = json_string_value(json_object_get(resp, PROTO_REP_VERSION));
		printf("supd %s (protocol %lld)\n", version ? version : "?",
		       json_is_integer(proto) ? (long long) json_integer_value(proto) : -1LL);
	}
	if (json_is_integer(proto) && json_integer_value(proto) != PROTO_VERSION)
		output_warn("warning: supd speaks protocol %lld, supctl %d",
			    (long long) json_integer_value(proto), PROTO_VERSION);
	return 0;
}

const struct ctl_command cmd_reload_entry = {
	"reload", "", 0, 0, cmd_reload,
	"re-read the configuration",
	"Prints the jobs added, removed and changed. A bad configuration changes\n"
	"nothing: its errors are printed and supctl exits 1.", { { 0 } },
};

const struct ctl_command cmd_shutdown_entry = {
	"shutdown", "", 0, 0, cmd_shutdown,
	"stop every job and make supd exit", NULL, { { 0 } },
};

const struct ctl_command cmd_reopen_entry = {
	"reopen", "", 0, 0, cmd_reopen,
	"reopen every log file supd writes",
	"As SIGUSR1 to supd: the run history (runs.jsonl) and the logs/NAME.log\n"
	"files of running jobs are opened again by name, for logrotate's\n"
	"postrotate.", { { 0 } },
};

const struct ctl_command cmd_version_entry = {
	"version", "", 0, 0, cmd_version,
	"print the versions of supctl and supd", NULL, { { 0 } },
};
