/* SPDX-License-Identifier: ISC */
/* One supd per state_dir (SPEC §11): an exclusive lock on STATE_DIR/lock,
 * held while supd runs, with the holder's pid written in the file. */
#pragma once

/* Returns the lock's fd (keep it open), or -errno; -EBUSY after telling
 * on stderr which pid holds it. */
int statelock_take(const char *state_dir);
