/* SPDX-License-Identifier: ISC */
/* %-specifiers in job settings: %i instance (template argument or pool
 * index, empty for a plain job), %n full job name, %% a literal '%'. */
#pragma once

#include <stdbool.h>

/* Returns a newly allocated expansion. */
char *subst_expand(const char *s, const char *instance, const char *name);
/* The same for a /bin/sh command line (shell = true): each value of %i and
 * %n is substituted as one single-quoted word. */
char *subst_expand_sh(const char *s, const char *instance, const char *name);
/* True if s only uses known specifiers; else *bad is the offending char. */
bool subst_valid(const char *s, char *bad);
