/* SPDX-License-Identifier: ISC */
/* Human-readable rendering of the daemon's job, run and event objects
 * (SPEC §4) for supctl: aligned tables, durations, exit descriptions. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The EXIT column of a job or run: "0", "3", "KILL", "timeout", or "-"
 * when there is no finished run. Caller frees. */
char *job_exit_text(const json_t *job);

/* Why a run did not succeed, for one-line messages: "exited 3",
 * "killed by KILL", "timed out", or the job's error text; pipelines add the
 * status of each stage. Caller frees. */
char *job_failure_text(const json_t *job);

/* The fields render_status_table() reads, NULL-terminated: the "columns"
 * of a status request for a table. */
extern const char *const render_status_fields[];

/* Whether tables start with their header line (--no-legend: not); on by
 * default. */
void render_set_legend(bool on);
/* The terminal's width: the last column of the status table is cut to it
 * (0: no terminal, nothing cut). */
void render_set_width(size_t columns);

/* Table NAME STATE PID SINCE EXIT RESTARTS from status "rows" (arrays of
 * render_status_fields), one line per job; a job with an error gets a
 * "  error: ..." line under its row. Returns 0 or -errno. */
int render_status_table(const json_t *rows, FILE *f);

/* supctl deps: each DEP node "NAME[:COND] (STATE)", what it requires
 * indented under it as systemctl list-dependencies draws it. */
int render_deps(const json_t *tops, FILE *f);

/* Table RUN NAME STARTED DURATION EXIT, one row per finished run. */
int render_history(const json_t *runs, FILE *f);

/* One line "TIME NAME EVENT STATE [detail]" for an event object. */
int render_event(const json_t *event, FILE *f);

/* Parses the RFC 3339 timestamps supd writes (UTC "Z" or a numeric offset,
 * optional fraction) into microseconds since the epoch. Returns 0 or
 * -EINVAL. */
int render_parse_rfc3339(const char *s, long long *ret_usec);
