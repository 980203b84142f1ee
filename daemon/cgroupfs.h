/* SPDX-License-Identifier: ISC */
/* The files of one cgroup v2 directory, by its directory fd: reading and
 * writing small values, "key N" lines (cpu.stat, memory.events), whether
 * it is populated, signalling and killing every process in it and below,
 * and removing it. Knows nothing of jobs or of supd's layout. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* How deep below a cgroup the walks here go (signal, kill, remove); a
 * delegated cgroup is limited to it (cgroup.max.depth), so no process of
 * a run is ever out of their reach. */
#define CGROUPFS_DEPTH_MAX 32
/* How many sub-cgroups a delegated cgroup may hold in all (its
 * cgroup.max.descendants): the walks above are synchronous, and 1024
 * empty cgroups go in some 20 ms; room for a nested supd (two or three per
 * running job) or podman (one or two per container) of a few hundred. */
#define CGROUPFS_DESCENDANTS_MAX 1024

/* file of dirfd into buf, NUL-terminated (at most size - 1 bytes): its
 * length, or -errno. */
ssize_t cgroupfs_read(int dirfd, const char *file, char *buf, size_t size);
/* value into file of dirfd, in one write(2) as cgroup files want: 0 or -errno. */
int cgroupfs_write(int dirfd, const char *file, const char *value);
/* The N of the line "key N" of text: 0, or -ENOENT. */
int cgroupfs_parse_key(const char *text, const char *key, uint64_t *ret);
/* "populated" of an open cgroup.events (read from its start, which also
 * re-arms EPOLLPRI): 1, 0, or -errno. */
int cgroupfs_populated(int events_fd);
/* Call fn for each pid in cgroup.procs of dirfd and of every cgroup below
 * it (a delegated subtree); fn returns < 0 to stop. Returns the number of
 * pids seen, or -errno. */
int cgroupfs_for_each_pid(int dirfd, int (*fn)(pid_t pid, void *ud), void *ud);
/* sig to every process of the cgroup and below, except those of process
 * group skip_pgid (already signalled as a group; 0: none); with
 * and_continue each also gets SIGCONT. Returns how many, or -errno. */
int cgroupfs_signal(int dirfd, int sig, pid_t skip_pgid, bool and_continue);
/* SIGKILL to every process of the cgroup and below: cgroup.kill (Linux
 * 5.14), else cgroupfs_kill_each(). 0 or -errno. */
int cgroupfs_kill(int dirfd);
/* The fallback: freeze the cgroup (so nothing forks meanwhile), SIGKILL
 * every listed pid until a listing shows none that was not killed
 * already, thaw. 0 or -errno. */
int cgroupfs_kill_each(int dirfd);
/* chown the cgroup dirfd and every sub-cgroup below it to uid:gid, each
 * directory before what is in it: once one is done, a process of its
 * former owner can make no new cgroup in it, so when this returns the
 * tree is complete and nobody but root and uid can add to it. The files
 * in them are left alone. 0, or the first -errno (the rest is done). */
int cgroupfs_chown_tree(int dirfd, uid_t uid, gid_t gid);
/* rmdir name below parent_fd; sub-cgroups of a delegated subtree (empty
 * too) first. 0 or -errno (-EBUSY: populated). */
int cgroupfs_remove(int parent_fd, const char *name);
