/* SPDX-License-Identifier: ISC */
/* The dependency graph of a configuration (SPEC §7, requires =): what a
 * requirement's NAME means, and the checks that need every job at once —
 * unknown jobs and templates, cycles, :healthy without a health_command, a
 * pool of batch jobs that could never be up at once. Pure functions of a
 * struct supd_config; the running side is requires.c. */
#pragma once

#include "config.h"

/* What a requirement's NAME, once %i/%n are substituted, names. */
enum graph_target {
	GRAPH_JOB,                /* a plain job */
	GRAPH_POOL,               /* a pool: every instance */
	GRAPH_POOL_INSTANCE,      /* pool@N */
	GRAPH_TEMPLATE_INSTANCE,  /* tmpl@ARG: created when needed */
	GRAPH_UNKNOWN,            /* nothing of that name (message in *why) */
};

/* Why name cannot be a requirement's NAME (a job name, or NAME@ARG with
 * %-specifiers only after '@'), or NULL if it can. */
const char *graph_name_invalid(const char *name);

/* The requirement's name for the job called name (instance: its %i). */
char *graph_expand(const struct requirement *r, const char *instance, const char *name);

/* What the substituted name n names in c; *target (may be NULL) is the
 * job, pool or template config. *why, for GRAPH_UNKNOWN, is a static
 * message ("unknown job", "unknown template", ...). */
enum graph_target graph_resolve(const struct supd_config *c, const char *n, struct job_config **target,
				const char **why);

/* Report a problem at file:line (of a requires line). */
typedef void graph_error_fn(void *userdata, const char *file, unsigned line, const char *msg);

/* Every whole-configuration check of SPEC §7; returns the number of
 * errors reported. */
size_t graph_check(const struct supd_config *c, graph_error_fn *error, void *userdata);
