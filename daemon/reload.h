/* SPDX-License-Identifier: ISC */
/* Reload: the difference between the running jobs and a new configuration,
 * applied to the supervisor's table. */
#pragma once

#include "supervisor.h"

struct reload_result {
	char **added, **removed, **changed;
};

/* Apply a new configuration; takes ownership of c. Jobs that are gone are
 * retired, changed ones reconfigured (restarted if active), new ones added
 * (and started with autostart). */
void supervisor_reload(struct supervisor *s, struct supd_config *c, struct reload_result *res);
void reload_result_free(struct reload_result *r);
