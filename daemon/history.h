/* SPDX-License-Identifier: ISC */
/* The persistent run log: every finished run is appended as one JSON line
 * (SPEC §4) to STATE_DIR/runs.jsonl, after a "started" line written when
 * it began (for crash recovery, recovery.h). One write() per record; a torn last
 * line left by a crash is skipped and reported, never built upon. The file
 * rotates to runs.jsonl.1 past a size, so history is bounded. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "observer.h"
#include "util.h"

#define HISTORY_FILE "runs.jsonl"
#define HISTORY_MAX_SIZE (16u << 20)

struct history {
	char *path, *rotated_path;
	int fd;
	off_t size;
	off_t max_size;
	bool write_failed;           /* reported once until a write works */
	uint64_t last_run_id;        /* highest run number found or written */
	/* for queries (history-query.c), which take steps one at a time */
	char *scratch;               /* the piece of a file a step reads */
	size_t scratch_cap;
	size_t ring_bytes;           /* held by the rings of every query, for -n */
};

/* Open (creating) STATE_DIR/runs.jsonl and find the last run number.
 * Returns 0 or -errno (supd then runs without a history). */
int history_open(const char *state_dir, struct history **ret);
void history_close(struct history *h);
/* Open the file again by name (it was moved away, e.g. by logrotate). */
void history_reopen(struct history *h);
/* Append one record: the JSON text of an object of SPEC §4 ending in
 * '\n', for run number run_id. */
int history_append(struct history *h, const char *line, size_t len, uint64_t run_id);

/* A query of the run log in bounded steps (history-query.c), so that a
 * 32 MB log never holds up the event loop (SPEC §11): the records whose
 * name matches any pattern (all if none) and that end a run, oldest
 * first, the last `limit` of them (0 = all), as the text of a JSON array.
 * Both files are opened at once and read up to their present sizes: what
 * is appended meanwhile is not part of the answer, and a rotation meanwhile
 * changes nothing (the query reads the files it opened). h must outlive
 * the query. Returns 0 or -errno (a file that exists cannot be opened). */
struct history_query;
int history_query_new(struct history *h, const char *const *patterns, size_t n_patterns, size_t limit,
		      struct history_query **ret);
/* Append the next piece of the array's text to out, a bounded amount of
 * work (HISTORY_STEP_BYTES read, about HISTORY_STEP_USEC). Returns 1 while
 * more is to come, 0 once the array is closed. */
#define HISTORY_STEP_BYTES (256u << 10)
#define HISTORY_STEP_USEC (5 * USEC_PER_MSEC)
int history_query_step(struct history_query *q, struct buf *out);
/* Lines that were no record (torn by a crash, unparseable), so far. */
size_t history_query_skipped(const struct history_query *q);
void history_query_free(struct history_query *q);
/* Call fn for every readable record, oldest first (both files). */
void history_for_each(struct history *h, void (*fn)(json_t *rec, void *ud), void *ud);

/* o, added to the supervisor's observers, records every ended run in h. */
void history_observer_init(struct history *h, struct job_observer *o);
