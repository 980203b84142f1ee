/* SPDX-License-Identifier: ISC */
/* `ready = log:ERE` (SPEC §7): a POSIX extended regular expression,
 * compiled by regcomp(3), matched against the first LOGMATCH_LINE_MAX
 * bytes of each line of captured output. logmatch_compile() is also the
 * check config validation uses, so --check and a run agree.
 *
 * Refused besides what regcomp refuses: an empty expression (a mistake
 * more often than "any line"; `^` says that), back-references (a '\'
 * followed by a digit outside a bracket expression: glibc takes them in
 * an ERE, where matching them can take exponential time), and an
 * expression that expands to more than LOGMATCH_SIZE_MAX atoms once its
 * {m,n} bounds are multiplied out (glibc spent 7 s and 4 GB compiling
 * ((((a{100}){100}){100}){100}) before failing). */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define LOGMATCH_LINE_MAX 4096
#define LOGMATCH_SIZE_MAX 10000

/* Compile ere (REG_EXTENDED | REG_NOSUB) into *out. Returns 0, or -EINVAL
 * with *error a message to free ("back-references are not supported:
 * \1"), *out untouched. The caller regfree()s *out. */
int logmatch_compile(const char *ere, regex_t *out, char **error);
/* Whether the line (len bytes, no newline; NULs allowed) matches within
 * its first LOGMATCH_LINE_MAX bytes. */
bool logmatch_line(const regex_t *re, const char *line, size_t len);
