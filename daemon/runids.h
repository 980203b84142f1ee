/* SPDX-License-Identifier: ISC */
/* Run numbers that never repeat for the life of a state_dir, even after a
 * crash (SPEC §11): supd reserves them in blocks, writing the end of the
 * block to STATE_DIR/runid and syncing it before it hands out the first
 * number of the block. A restarted supd continues after the last block
 * reserved, so a number given to a run whose record a crash lost is not
 * given again. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define RUNIDS_FILE "runid"
#define RUNIDS_BLOCK 1024

struct runids {
	int fd;
	uint64_t next, end;      /* [next, end) is reserved */
	bool failed;             /* the last reservation could not be saved */
};

/* Open STATE_DIR/runid; numbers start at the saved block end or at_least,
 * whichever is higher. Returns 0 or -errno. */
int runids_open(const char *state_dir, uint64_t at_least, struct runids **ret);
/* The next run number. */
uint64_t runids_take(struct runids *r);
void runids_close(struct runids *r);
