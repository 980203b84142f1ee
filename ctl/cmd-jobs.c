/* SPDX-License-Identifier: ISC */
/* supctl start, stop, restart and signal: verbs that act on jobs now. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "cmd.h"
#include "ctl.h"
#include "output.h"
#include "parse.h"
#include "proto.h"
#include "request.h"
#include "result.h"
#include "split.h"

/* Sends a request that acts on jobs and prints the jobs it returns. With
 * check_fatal, a job that is fatal or failed then fails the command; with
 * print_stopped, each job the stop ended is named (SPEC §7: dependents
 * are stopped first). */
static int control_jobs(struct ctl *c, const json_t *req, bool check_fatal, bool print_stopped) {
	json_auto_t *resp = NULL;
	json_t *jobs, *job;
	size_t i;
	int r;

	if ((r = split_call_jobs(c, req, &resp, &jobs)))
		return r;
	if (print_stopped && !c->quiet && !c->json)
		json_array_foreach(jobs, i, job)
			if (result_job_in_state(job, PROTO_STATE_STOPPED))
				printf("stopped %s\n", result_job_name(job));
	if (!check_fatal)
		return 0;
	json_array_foreach(jobs, i, job)
		if (result_job_in_state(job, PROTO_STATE_FATAL) || result_job_in_state(job, PROTO_STATE_FAILED)) {
			const char *error = json_string_value(json_object_get(job, PROTO_JOB_ERROR));
			output_warn("%s: %s", result_job_name(job), error && *error ? error : "fatal");
			r = EXIT_JOB_FAILED;
		}
	return r;
}

/* start and restart: the verb's name is the command's. */
static int cmd_start(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(a->cmd == &cmd_restart_entry ? PROTO_CMD_RESTART : PROTO_CMD_START);
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	return control_jobs(c, req, true, false);
}

static int cmd_stop(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_STOP);
	int r;

	if ((r = request_set_jobs(req, a, 0)))
		return r;
	request_set(req, PROTO_REQ_WAIT, json_boolean(!a->opt[OPT_NO_WAIT]));
	return control_jobs(c, req, false, !a->opt[OPT_NO_WAIT]);
}

static int cmd_signal(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_SIGNAL);
	int sig, r;

	if (parse_signal(a->argv[0], &sig) < 0)
		return output_usage_error("invalid signal: %s", a->argv[0]);
	if ((r = request_set_jobs(req, a, 1)))
		return r;
	request_set(req, PROTO_REQ_SIGNAL, json_integer(sig));
	return control_jobs(c, req, false, false);
}

const struct ctl_command cmd_start_entry = {
	"start", "PATTERN...", 1, -1, cmd_start,
	"start jobs",
	"\"tmpl@arg\" creates an instance of the template \"tmpl@\". Jobs it\n"
	"requires (requires =) are started too. Returns once each job is\n"
	"running, starting, waiting or queued (wait --up waits for readiness);\n"
	"exits 1 if a job is fatal or failed then.", { { 0 } },
};

const struct ctl_command cmd_stop_entry = {
	"stop", "[--no-wait] PATTERN...", 1, -1, cmd_stop,
	"stop jobs",
	"Sends each job's stop_signal to its process group, then SIGKILL after\n"
	"stop_timeout, and returns once the jobs are stopped. The jobs that\n"
	"require one through up, started or healthy are stopped first. Prints\n"
	"\"stopped NAME\" for each job it stopped (none with -q).",
	{ { OPT_NO_WAIT, "no-wait", NULL, "return once the stop signal is sent" } },
};

const struct ctl_command cmd_restart_entry = {
	"restart", "PATTERN...", 1, -1, cmd_start,
	"stop jobs, then start them again",
	"Exits 1 if a job went fatal.", { { 0 } },
};

const struct ctl_command cmd_signal_entry = {
	"signal", "SIG PATTERN...", 2, -1, cmd_signal,
	"send a signal to jobs",
	"SIG is a name (HUP, SIGUSR1) or a number; it goes to the process group\n"
	"of each job.", { { 0 } },
};
