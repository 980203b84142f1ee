/* SPDX-License-Identifier: ISC */
/* The job/run object of SPEC §4, shared by status, history and events. */
#pragma once

#include <jansson.h>
#include "job.h"

/* The keys of a job object, in the order they are written. */
enum job_field {
	JOB_FIELD_NAME,
	JOB_FIELD_STATE,
	JOB_FIELD_WANT,
	JOB_FIELD_SINCE,
	JOB_FIELD_PID,
	JOB_FIELD_RUN,
	JOB_FIELD_STARTED_AT,
	JOB_FIELD_ENDED_AT,
	JOB_FIELD_DURATION_S,
	JOB_FIELD_EXIT_CODE,
	JOB_FIELD_SIGNAL,
	JOB_FIELD_TIMED_OUT,
	JOB_FIELD_EXIT_STATUS,
	JOB_FIELD_RESTARTS,
	JOB_FIELD_CPU_USER_S,
	JOB_FIELD_CPU_SYS_S,
	JOB_FIELD_MAX_RSS_KB,
	JOB_FIELD_MEMORY_PEAK_KB,
	JOB_FIELD_OOM_KILLED,
	JOB_FIELD_STAGES,
	JOB_FIELD_ERROR,
	JOB_FIELD_CGROUP,
	JOB_FIELD_READY,          /* SPEC §7: status and events, not history */
	JOB_FIELD_HEALTH,
	JOB_FIELD_STATUS_TEXT,
	JOB_FIELD_WAITING_FOR,
	_JOB_FIELD_MAX,
};

/* The field called s ("exit_code"), or -EINVAL. */
int job_field_from_string(const char *s);

/* Append the object as compact JSON text; with event, add "event": event
 * ("started" | "exited" | "state"). */
void job_json_append(struct buf *b, const struct job *j, const char *event);

/* The run record of the history: the object without the fields of the
 * current run's life (ready, health, status_text, waiting_for). */
void job_json_append_record(struct buf *b, const struct job *j);

/* Append the values of the n columns as a JSON array (a row of a table:
 * the same values as the object, without keys). */
void job_json_append_row(struct buf *b, const struct job *j, const enum job_field *columns, size_t n);

/* The run of a history record (SPEC §4) into r, for the last run of a job
 * after supd restarts. Returns 0 or -EINVAL (no run in it). */
int job_json_restore_run(struct run *r, json_t *rec);
