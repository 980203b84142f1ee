/* SPDX-License-Identifier: ISC */
/* Where the cgroup v2 hierarchy is and where supd is in it: the "cgroup2"
 * line of /proc/self/mountinfo (pure v2 at /sys/fs/cgroup, or the hybrid
 * layout's /sys/fs/cgroup/unified) and the "0::" line of /proc/self/cgroup.
 * The parsers take the text, so the unit tests feed them samples. */
#pragma once

#include <stdbool.h>

struct cgroup_mount {
	char *point;          /* where it is mounted: "/sys/fs/cgroup/unified" */
	char *root;           /* the cgroup shown there: "/" unless a bind mount of a subtree */
	bool read_only;
};

/* The cgroup2 mount of mountinfo text: /sys/fs/cgroup or
 * /sys/fs/cgroup/unified if mounted there, else the first one. Returns 0,
 * or -ENOENT when there is none. */
int cgroup_mount_parse(const char *mountinfo, struct cgroup_mount *ret);
/* The v2 path of /proc/PID/cgroup text (the "0::PATH" line): 0, or -ENOENT. */
int cgroup_self_parse(const char *text, char **ret);
/* The directory of cgroup path (as /proc/self/cgroup shows it) under m, or
 * NULL when m does not show it (a bind mount of another subtree). */
char *cgroup_mount_dir(const struct cgroup_mount *m, const char *path);
void cgroup_mount_done(struct cgroup_mount *m);

/* The same from /proc/self: 0 or -errno (-ENOENT: no cgroup v2). */
int cgroup_mount_find(struct cgroup_mount *ret);
int cgroup_self_find(char **ret);
