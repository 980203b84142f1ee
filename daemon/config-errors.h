/* SPDX-License-Identifier: ISC */
/* The problems found while reading a configuration: errors and warnings as
 * "FILE:LINE: message", collected in one pass and sorted at the end by
 * file (in the order the files were read) and line. */
#pragma once

#include <stdarg.h>
#include "config.h"

struct config_msg;

struct config_msgs {
	struct config_msg *v;
	size_t n;
	size_t n_errors;          /* not warnings */
};

/* Add one; line 0 is "FILE: message". file_idx orders the files. */
void config_errors_add(struct config_msgs *m, unsigned file_idx, const char *path, unsigned line,
		       bool warning, const char *fmt, va_list ap) _printf_(6, 0);
/* Sort and move them all to errs (errors, then warnings; its previous
 * contents are freed), or free them if errs is NULL. m is left empty. */
void config_errors_take(struct config_msgs *m, struct config_errors *errs);
