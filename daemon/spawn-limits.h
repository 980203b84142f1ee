/* SPDX-License-Identifier: ISC */
/* The setrlimit limits of a run's processes (limit_*, SPEC §8), checked
 * in supd where the reason can be told, then set by each child before it
 * switches to the job's user (spawn.c). */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>
#include "config.h"

struct spawn_limits {
	bool set[_LIMIT_MAX];        /* the child sets value[l] of resource[l] */
	int resource[_LIMIT_MAX];
	struct rlimit value[_LIMIT_MAX];
};

/* jc's limits: the kernel refuses a hard limit above supd's own unless
 * supd has CAP_SYS_RESOURCE, and more fds than fs.nr_open to anyone;
 * limit_nofile = infinity is fs.nr_open (as systemd's
 * LimitNOFILE=infinity). Returns 0, or -errno with *error. */
int spawn_limits_prepare(const struct job_config *jc, struct spawn_limits *l, char **error);
