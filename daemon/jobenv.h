/* SPDX-License-Identifier: ISC */
/* A job's environment (SPEC §2, §8): supd's own without the variables
 * systemd gave supd alone, then the job's own, each overriding what comes
 * before: SUPD_JOB, SUPD_INSTANCE, the passwd variables of its user (HOME,
 * USER, LOGNAME, SHELL), environment_file, environment. */
#pragma once

#include "config.h"
#include "jobfile.h"

struct jobenv {
	char **own;      /* the job's own variables, owned */
	char **envp;     /* for execve: inherited ones own does not override, then own */
};

/* Build env for a run of jc as NAME with INSTANCE. user_vars (NULL or a
 * NULL-terminated KEY=VALUE vector) come before environment_file, which
 * is read with cred's rights. Returns 0, or -errno with *error (a new
 * string naming the file and line, never a value). */
int jobenv_build(struct jobenv *env, const struct job_config *jc, const char *name, const char *instance,
		 char *const *user_vars, const struct jobfile_cred *cred, char **error);
void jobenv_done(struct jobenv *env);
/* Drop the variables supd keeps from its children (NOTIFY_SOCKET,
 * WATCHDOG_USEC, WATCHDOG_PID, LISTEN_*) from env, even where the job's
 * own environment or environment_file sets them: for a health check or
 * `ready = command:` try, which gets none of them (SPEC §7). */
void jobenv_drop_private(struct jobenv *env);
