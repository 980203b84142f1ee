/* SPDX-License-Identifier: ISC */
/* Facts about processes from /proc: which boot this is, and when a process
 * started, so that a pid recorded earlier names the same process only if
 * both still match. */
#pragma once

#include <sys/types.h>

/* This boot's id (/proc/sys/kernel/random/boot_id), or "unknown". */
const char *proc_boot_id(void);
/* When pid started, in clock ticks since boot. Returns 0 or -errno. */
int proc_start_time(pid_t pid, unsigned long long *ret);
