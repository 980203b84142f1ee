/* SPDX-License-Identifier: ISC */
/* What the job objects of an answer mean for supctl's exit status. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* The job's name, or "?". */
const char *result_job_name(const json_t *job);
bool result_job_in_state(const json_t *job, const char *state);
/* The exit status of run and wait: a shell's for one job, else 0 if every
 * job succeeded and 1 if not. Says why each failed job failed. */
int result_exit_status(const json_t *jobs);
/* wait --up: 0 if every job is up (running), else 1, saying why each
 * other one is not. */
int result_up_status(const json_t *jobs);
