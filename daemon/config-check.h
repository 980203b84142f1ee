/* SPDX-License-Identifier: ISC */
/* The checks of one [job:] section that need several of its keys at once
 * (a command split as shell says, restart delays, group and user, fds;
 * SPEC §7: readiness and health), run when the section ends. Whole-config
 * checks (requirements) are in graph.c. */
#pragma once

#include "config.h"

struct config_check {
	/* A problem at the line of key (or of the section if it was not set). */
	void (*error)(struct config_check *c, const char *key, const char *msg);
	/* Whether key was set in the section. */
	bool (*has_key)(struct config_check *c, const char *key);
};

/* Checks jc and splits its command, ready = command: and health_command
 * (unless shell = true). */
void config_check_job(struct config_check *c, struct job_config *jc);
