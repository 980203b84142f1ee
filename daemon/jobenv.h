/* SPDX-License-Identifier: ISC */
/* A job's environment (SPEC §2, §8): supd's own without the variables
 * systemd gave supd alone, then the job's own, each overriding what comes
 * before: SUPD_JOB, SUPD_INSTANCE, the passwd variables of its user (HOME,
 * USER, LOGNAME, SHELL), environment_file, environment. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "jobfile.h"

struct jobenv {
	char **own;      /* the job's own variables, owned */
	char **envp;     /* for execve: inherited ones own does not override, then own */
	/* jobenv_set_private()'s: */
	char *private_kv[2];         /* NOTIFY_SOCKET=, WATCHDOG_USEC= */
	char watchdog_pid[32];       /* WATCHDOG_PID=, its digits written by the first stage */
	ssize_t watchdog_index;      /* WATCHDOG_USEC's entry in envp; 0: none */
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
/* A run's own (spawn.h, struct spawn_env): NOTIFY_SOCKET (NULL: none) for
 * every stage; with watchdog_usec, WATCHDOG_USEC and WATCHDOG_PID for the
 * first one. Whatever the job's environment says of them yields. */
void jobenv_set_private(struct jobenv *env, const char *notify_socket, uint64_t watchdog_usec);
/* In the first stage's child, before the exec: WATCHDOG_PID= its pid.
 * Allocates nothing (the child may share supd's memory). */
void jobenv_write_watchdog_pid(struct jobenv *env);
/* The first stage is started: the next ones get no WATCHDOG_*. */
void jobenv_first_stage_done(struct jobenv *env);
