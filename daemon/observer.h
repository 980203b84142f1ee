/* SPDX-License-Identifier: ISC */
/* Someone who wants to hear about every job change: control clients (events,
 * waits), the run history, systemd's STATUS=. The supervisor keeps the list
 * and tells each observer in turn. */
#pragma once

#include "job.h"

struct job_observer {
	void (*changed)(struct job *j, enum job_event ev, void *userdata);
	void (*removed)(struct job *j, void *userdata);  /* about to be freed */
	void (*line)(struct job *j, const char *line, void *userdata);  /* captured output */
	void *userdata;
	struct job_observer *next;
};
