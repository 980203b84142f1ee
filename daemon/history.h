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

#define HISTORY_FILE "runs.jsonl"
#define HISTORY_MAX_SIZE (16u << 20)

struct history {
	char *path, *rotated_path;
	int fd;
	off_t size;
	off_t max_size;
	bool write_failed;           /* reported once until a write works */
	uint64_t last_run_id;        /* highest run number found or written */
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
/* Records whose name matches any pattern (all if none), oldest first, the
 * last `limit` of them (0 = all). Returns a JSON array. */
json_t *history_query(struct history *h, const char *const *patterns, size_t n_patterns, size_t limit,
		      size_t *ret_skipped);
/* Call fn for every readable record, oldest first (both files). */
void history_for_each(struct history *h, void (*fn)(json_t *rec, void *ud), void *ud);

/* o, added to the supervisor's observers, records every ended run in h. */
void history_observer_init(struct history *h, struct job_observer *o);
