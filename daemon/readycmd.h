/* SPDX-License-Identifier: ISC */
/* `ready = command:CMD` (SPEC §7): CMD is tried as a check of the job
 * (jobcheck.h) while the run is starting, every ready_interval: a try
 * starts ready_interval after the previous one started, and one still
 * running then is killed first (its end is awaited, so tries never
 * overlap). The first try that exits 0 calls ready(), once; no try
 * follows. ready_timeout is the owner's (the job's timer).
 *
 * One object per run, trying from the moment it is made; freeing it (up,
 * or the run ended) kills a try in flight. ready() runs from the event
 * loop and may free the object. */
#pragma once

#include <systemd/sd-event.h>
#include "jobcheck.h"

struct readycmd;

/* Tries of command for job->jc's run, on e, their pids with r; job is
 * copied as health_new() does. The first try starts as soon as the loop
 * runs. Returns 0 with *ret, or -EINVAL with *error (a new string:
 * "ready = command: unterminated quote"), or another -errno. */
int readycmd_new(sd_event *e, struct reaper *r, const struct jobcheck_job *job, const char *command,
		 usec_t interval, void (*ready)(void *userdata), void *userdata, struct readycmd **ret,
		 char **error);
/* rc may be NULL. */
void readycmd_free(struct readycmd *rc);
/* Tries started so far. */
unsigned readycmd_tries(const struct readycmd *rc);
