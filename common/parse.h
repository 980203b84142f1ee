/* SPDX-License-Identifier: ISC */
/* Strict parsers for configuration and command-line values. Each returns 0
 * or -EINVAL/-ERANGE and never accepts trailing garbage. */
#pragma once

#include <sys/types.h>
#include "util.h"

/* "250ms", "1.5s", "2m", "1h", "1d", bare number = seconds; also combined
 * "1m30s". "0" is zero. Negative, empty or unknown units are errors. */
int parse_duration(const char *s, usec_t *ret);
/* true/false/yes/no/on/off/1/0, case-insensitive. */
int parse_boolean(const char *s, bool *ret);
/* "TERM", "SIGTERM", "term", or a number 1..NSIG-1. */
int parse_signal(const char *s, int *ret);
/* "KILL" for SIGKILL; NULL for an unknown number. */
const char *signal_name(int sig);
/* Decimal integer within [min, max]. */
int parse_int(const char *s, long min, long max, long *ret);
/* Octal file mode such as 0660 (<= 07777). */
int parse_mode(const char *s, mode_t *ret);
/* "5/10s": at most 5 starts within 10 s. "0" or "none" disables (burst 0). */
int parse_start_limit(const char *s, unsigned *burst, usec_t *interval);
/* "auto" -> *ret = -1; otherwise a number in [min, max]. */
int parse_count_or_auto(const char *s, long min, long max, long *ret);
