/* SPDX-License-Identifier: ISC */
/* start_limit = BURST/INTERVAL: the recent start times of a job, a ring of
 * at most BURST entries allocated at the first start (policy.c decides
 * with the count). */
#pragma once

#include "util.h"

/* Remember a start at now; keep only those inside the window. burst 0:
 * no limit, nothing kept. */
void startlimit_note(usec_t **times, unsigned *n, unsigned burst, usec_t interval, usec_t now);
/* Starts within interval before now. */
unsigned startlimit_count(const usec_t *times, unsigned n, usec_t interval, usec_t now);
