/* SPDX-License-Identifier: ISC */
/* Cross-key checks of a [job:] section for SPEC §7 (config-check.h). */
#include <stdarg.h>

#include "config-check.h"
#include "subst.h"

static _printf_(3, 4) void error(struct config_check *c, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	c->error(c, key, msg);
}

/* A command line of a check (what = the key), split as command is. */
static void check_command(struct config_check *c, const struct job_config *jc, const char *key,
			  const char *cmd, struct pipeline *ret)
{
	const char *why = NULL;
	char bad;

	if (!subst_valid(cmd, &bad)) {
		if (bad == '\0')
			error(c, key, "incomplete specifier %% at the end of %s (use %%%% for %%)", key);
		else
			error(c, key, "unknown specifier %%%c in %s (use %%%% for %%)", bad, key);
		return;
	}
	if (jc->shell)
		return;
	pipeline_free(ret);
	if (cmdline_split(cmd, ret, &why) < 0) {
		error(c, key, "invalid %s: %s", key, why ? why : "syntax error");
		return;
	}
	for (size_t i = 0; i < ret->n_stages; i++)
		if (!*ret->stages[i][0]) {
			error(c, key, "invalid %s: empty program name", key);
			return;
		}
}

/* What SPEC §2 asks of the keys of any job. */
static void check_basics(struct config_check *c, struct job_config *jc)
{
	if (!jc->command) {
		error(c, "command", "missing command in [job:%s%s]", jc->name, jc->is_template ? "@" : "");
	} else if (!*jc->command) {
		error(c, "command", "missing value for command");
	} else {
		char bad;

		if (!subst_valid(jc->command, &bad)) {
			if (bad == '\0')
				error(c, "command", "incomplete specifier %% at the end of command (use %%%% for %%)");
			else
				error(c, "command", "unknown specifier %%%c in command (use %%%% for %%)", bad);
		}
		if (!jc->shell) {
			const char *why = NULL;

			if (cmdline_split(jc->command, &jc->pipeline, &why) < 0)
				error(c, "command", "invalid command: %s", why ? why : "syntax error");
			/* command = '' would fail only when the job starts */
			for (size_t i = 0; i < jc->pipeline.n_stages; i++)
				if (!*jc->pipeline.stages[i][0]) {
					error(c, "command", "invalid command: empty program name");
					break;
				}
		}
	}

	if (jc->restart_delay > jc->restart_max_delay)
		error(c, c->has_key(c, "restart_delay") ? "restart_delay" : "restart_max_delay",
		      "restart_delay must not exceed restart_max_delay");

	/* no key is silently ignored: group only means something with user */
	if (jc->group && !jc->user)
		error(c, "group", "group needs user (the job runs with supd's own group)");

	/* a secret's fd must be one the job may have open */
	if (jc->limits[LIMIT_NOFILE].set)
		for (size_t i = 0; i < jc->n_secrets; i++)
			if ((rlim_t) jc->secrets[i].fd >= jc->limits[LIMIT_NOFILE].soft)
				error(c, "limit_nofile", "secret fd %d is not below limit_nofile (soft limit %llu)",
				      jc->secrets[i].fd, (unsigned long long) jc->limits[LIMIT_NOFILE].soft);
}

void config_check_job(struct config_check *c, struct job_config *jc)
{
	static const char *const health_keys[] = { "health_interval", "health_timeout", "health_retries",
						    "health_action" };
	const struct ready_spec *rs = &jc->ready;

	check_basics(c, jc);
	if (jc->watchdog > 0 && rs->kind != READY_NOTIFY)
		error(c, "watchdog", "watchdog needs ready = notify");
	if (rs->kind == READY_LOG && jc->stdout_spec.kind != OUTPUT_LOG && jc->stderr_spec.kind != OUTPUT_LOG)
		error(c, "ready", "ready = log: needs stdout or stderr = log");
	if (rs->kind == READY_FD) {
		for (size_t i = 0; i < jc->n_secrets; i++)
			if (jc->secrets[i].fd == rs->fd)
				error(c, "ready", "ready = fd:%d is the fd of a secret", rs->fd);
		if (jc->limits[LIMIT_NOFILE].set && (rlim_t) rs->fd >= jc->limits[LIMIT_NOFILE].soft)
			error(c, "ready", "ready = fd:%d is not below limit_nofile (soft limit %llu)", rs->fd,
			      (unsigned long long) jc->limits[LIMIT_NOFILE].soft);
	}
	if (rs->kind == READY_COMMAND)
		check_command(c, jc, "ready", rs->arg, &jc->ready.pipeline);
	else if (c->has_key(c, "ready_interval"))
		error(c, "ready_interval", "ready_interval needs ready = command:CMD");
	if (rs->kind == READY_SPAWN && c->has_key(c, "ready_timeout"))
		error(c, "ready_timeout", "ready_timeout needs ready other than spawn");

	if (jc->health_command) {
		check_command(c, jc, "health_command", jc->health_command, &jc->health_pipeline);
		return;
	}
	/* no key is silently ignored */
	for (size_t i = 0; i < ELEMENTSOF(health_keys); i++)
		if (c->has_key(c, health_keys[i]))
			error(c, health_keys[i], "%s needs health_command", health_keys[i]);
}
