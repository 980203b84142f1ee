/* SPDX-License-Identifier: ISC */
/* The rules for job names and template arguments (SPEC §2, §11) and the
 * PATTERN rule of SPEC §1. Pure functions of strings: no other supd file
 * is needed to use or test them. */
#pragma once

#include <stdbool.h>

/* Most bytes of a template argument (the text after '@'). */
#define INSTANCE_ARG_MAX 200

/* A job or template name: letters, digits, '_', '.', '-'; not empty, not
 * "." or "..". */
bool job_name_valid(const char *name);

/* A template argument: 1-200 bytes of ASCII letters and digits,
 * ". _ - + , = : @" and valid UTF-8 multi-byte characters; not starting
 * with '-', not "." or "..". Such an argument is one path component, one
 * argv word that is no option, and holds no shell metacharacter. */
bool instance_arg_valid(const char *arg);

/* "base@x" is an instance of base. */
bool job_name_is_instance_of(const char *name, const char *base);

/* A pattern matches a name that equals it, a name it matches as a glob,
 * and the instances of a base name. */
bool job_name_matches(const char *name, const char *pattern);
