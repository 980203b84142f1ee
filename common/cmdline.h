/* SPDX-License-Identifier: ISC */
/* Split a job's command into pipeline stages of argv, with shell-like
 * quoting but no shell: '...' is literal, "..." allows \" \\ \$ \`,
 * a backslash outside quotes escapes the next character, and an unquoted
 * '|' separates stages. No globbing, variables or redirections. */
#pragma once

#include <stddef.h>

struct pipeline {
	size_t n_stages;
	char ***stages;   /* stages[i] is a NULL-terminated argv */
};

/* Returns 0 and fills *ret, or -EINVAL with a static reason in *error
 * ("unterminated quote", "empty pipeline stage", "empty command"). */
int cmdline_split(const char *s, struct pipeline *ret, const char **error);
void pipeline_free(struct pipeline *p);
/* Deep copy. */
void pipeline_copy(const struct pipeline *from, struct pipeline *to);
