/* SPDX-License-Identifier: ISC */
/* Health checks of a job's runs (SPEC §7), wired to the state machine:
 * the host calls these from its run hooks for a job with a
 * health_command. One health schedule (health.h) per run, in j->checks,
 * made paused when the run begins (`health` unknown), resumed when it is
 * up, paused while stopping; its changes go to job_set_health() (the
 * "health" event, requirements with :healthy), and exhausted retries with
 * health_action = restart to job_fail_run(j, "unhealthy"). */
#pragma once

#include "job.h"
#include "jobready.h"

void jobhealth_begin(const struct jobwatch_env *env, struct job *j);
void jobhealth_up(struct job *j);
/* A state event of j: stopping pauses the checks. */
void jobhealth_state(struct job *j);
void jobhealth_end(struct job *j);
