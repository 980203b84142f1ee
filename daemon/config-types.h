/* SPDX-License-Identifier: ISC */
/* The value types of the configuration keys (struct key_type): each
 * parses, compares and prints one kind of value. Those of what a run is
 * given (identity, umask, limits, secrets) are in config-types-run.c, the
 * others in config-types.c. */
#pragma once

#include "config-keys.h"

extern const struct key_type
	config_type_string,       /* char *; KEY_PATH, KEY_SUBST apply */
	config_type_name,         /* char *: a group name */
	config_type_user,         /* char *: a user name or number, looked up */
	config_type_group,        /* char *: a group name or number, looked up */
	config_type_umask,        /* int: 0..0777, -1 = unset */
	config_type_limit,        /* struct limit_spec: N, SOFT:HARD, infinity */
	config_type_limit_size,   /* struct limit_spec: the same with K, M, G */
	config_type_secret,       /* struct job_config: secrets, n_secrets */
	config_type_cgroup_mode,  /* struct supd_config: cgroup_mode, cgroup_path */
	config_type_cgroup_bytes, /* struct cgroup_value: N with K, M, G, T, or infinity */
	config_type_cgroup_count, /* struct cgroup_value: N >= 1 or infinity */
	config_type_cgroup_weight,/* struct cgroup_value: 1..10000 */
	config_type_cpu_max,      /* struct cgroup_value: N% of one CPU, or infinity */
	config_type_oom_policy,   /* enum oom_policy */
	config_type_socket,       /* char *: a socket path */
	config_type_stdin,        /* char *: null or PATH */
	config_type_bool,         /* bool */
	config_type_duration,     /* usec_t */
	config_type_signal,       /* int */
	config_type_nice,         /* int: -20..19 */
	config_type_log_lines,    /* size_t */
	config_type_mode,         /* mode_t: octal */
	config_type_max_parallel, /* long: -1 = auto */
	config_type_instances,    /* struct job_config: instances, instances_set */
	config_type_restart,      /* enum restart_policy */
	config_type_start_limit,  /* struct job_config: start_limit_burst, _interval */
	config_type_success_exit, /* struct job_config: success_exit, n_success_exit */
	config_type_output,       /* struct output_spec */
	config_type_command,      /* char *: joined continuation lines */
	config_type_environment,  /* char **: NAME=VALUE, in order */
	config_type_include,      /* nothing: hands the pattern to the reader */
	config_type_requires,     /* struct job_config: requires, n_requires */
	config_type_ready,        /* struct ready_spec */
	config_type_count,        /* unsigned: 1..1000000 */
	config_type_health_action;/* enum health_action */

/* cpu_max's value ("150%", "12.5%", "infinity") as the quota of each
 * 100ms period in us (150000), CGROUP_VALUE_MAX for infinity. Returns 0,
 * -EINVAL, or -ERANGE (below 1% or above 1,000,000%). */
int config_parse_cpu_max(const char *s, uint64_t *quota_usec);
/* n bytes of s: decimal digits, then at most one letter of units, each a
 * power of 1024 above the one before ("KMGT": K = 1024); the value must be
 * below max. 0, -EINVAL or -ERANGE. */
int config_parse_scaled(const char *s, size_t n, const char *units, uint64_t max, uint64_t *ret);

/* The checks of KEY_PATH and KEY_SUBST on a string value v of row k;
 * false (after reporting) if v is unusable. */
bool config_type_check_string(struct key_host *h, const struct key_desc *k, const char *v);
/* Report a problem with the value being parsed (the host adds FILE:LINE);
 * config_type_warning does not fail the configuration. */
void config_type_error(struct key_host *h, const char *fmt, ...) _printf_(2, 3);
void config_type_warning(struct key_host *h, const char *fmt, ...) _printf_(2, 3);

/* The field of a key's row in a job or [supd] config. */
#define FIELD(type, k, base) ((type *) (void *) ((char *) (base) + (k)->offset))
#define CFIELD(type, k, base) ((type const *) (const void *) ((const char *) (base) + (k)->offset))
/* Compare and print a string field (char *), for the types of strings. */
bool config_type_equal_string(const struct key_desc *k, const void *a, const void *b);
void config_type_dump_string(const struct key_desc *k, const void *base, FILE *out);
