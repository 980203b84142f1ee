/* SPDX-License-Identifier: ISC */
/* What a supd that crashed left behind, dealt with when the next one starts
 * on the same state_dir, before autostart (SPEC §11): every run with a
 * "started" record and no end record is ended. One of this boot has its
 * processes killed: its cgroup (cgroup.h: those under today's CGROUP/jobs
 * are swept before this), and those recorded pids whose start time still
 * matches and their process groups while such a pid leads one; one of
 * another boot is only recorded. Each is recorded as failed with error "lost: supd
 * restarted". Then every job in the table gets its last recorded run back,
 * so that status shows how it last ended. */
#pragma once

#include "history.h"
#include "supervisor.h"

#define RECOVERY_LOST_ERROR "lost: supd restarted"

/* Returns the number of lost runs found. */
size_t recovery_run(struct history *h, const char *state_dir, struct supervisor *s);
