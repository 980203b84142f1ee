/* SPDX-License-Identifier: ISC */
/* Who a run of a job is (SPEC §8): `user` and `group` looked up when the
 * run starts, the groups getgrouplist() gives for the user and the job's
 * group, the rights its files are opened with, and the passwd variables
 * of its environment. */
#pragma once

#include <sys/types.h>
#include "config.h"
#include "jobfile.h"

struct jobuser {
	bool as_user;          /* the child switches to uid, gid, groups */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
	struct jobfile_cred cred;   /* the rights the job's files are opened with */
	char **env;            /* HOME, USER, LOGNAME, SHELL; NULL without `user` */
};

/* Resolve jc's user and group. A job without `user` runs as supd; as a
 * non-root supd, only as supd's own uid. Returns 0, or -errno with *error
 * (a new string: "unknown user x", ...). */
int jobuser_resolve(const struct job_config *jc, struct jobuser *u, char **error);
void jobuser_done(struct jobuser *u);
