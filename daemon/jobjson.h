/* The job/run object of SPEC §4, shared by status, history and events. */
#pragma once

#include <jansson.h>
#include "job.h"

/* Append the object as compact JSON text; with event, add "event": event
 * ("started" | "exited" | "state"). */
void job_json_append(struct buf *b, const struct job *j, const char *event);
