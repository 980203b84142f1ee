/* SPDX-License-Identifier: ISC */
/* Starting a child into a cgroup: clone3() with CLONE_INTO_CGROUP (Linux
 * 5.7) puts the child in the cgroup as it is created, with the same
 * CLONE_VM | CLONE_VFORK sharing as clone(), so nothing of the job runs
 * outside its cgroup and no extra step is spent in the child. glibc has
 * no clone3() wrapper, and a raw syscall cannot return into C on a new
 * stack, so the call is a few lines of assembly (x86-64); elsewhere, and
 * on kernels without it, spawn_clone() says so and the child places
 * itself by writing to cgroup.procs. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* clone3 has put a child into a cgroup before: the child will not need
 * to place itself. */
bool spawn_clone_into_proven(void);
/* From now on as on a kernel without clone3 into cgroups: the child
 * places itself (tests of that path). */
void spawn_clone_into_disable(void);
/* Start fn(arg) in a child as clone(fn, stack + stack_size, flags, arg)
 * would (flags: CLONE_* and the exit signal), inside the cgroup of
 * directory fd cgroup_fd. *placed is set before the child starts: true
 * when the kernel put it in the cgroup, false when the child must write
 * itself to cgroup.procs (no clone3 here; the child reads *placed, so it
 * must live where the child sees it). Returns the pid or -errno (an error
 * of placing it, such as -EACCES or -EBUSY, comes from clone3 itself). */
pid_t spawn_clone_into(int (*fn)(void *), void *arg, void *stack, size_t stack_size, unsigned long flags,
		       int cgroup_fd, bool *placed);
