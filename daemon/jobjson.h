/* The job/run object of SPEC §4, shared by status, history and events. */
#pragma once

#include <jansson.h>
#include "job.h"

json_t *job_to_json(const struct job *j);
/* Same object plus "event": "started" | "exited" | "state". */
json_t *job_event_to_json(const struct job *j, const char *event);
