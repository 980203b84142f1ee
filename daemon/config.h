/* SPDX-License-Identifier: ISC */
/* The parsed configuration: the [supd] section and one job_config per
 * [job:NAME] section. Parsing collects every error as "FILE:LINE: message"
 * in one pass; a config with errors is never applied.
 *
 * The model is in config.c, the key table (each key's parser, compare and
 * dump) in config-keys.c, the reader (files, lines, inih, includes) in
 * config-read.c, the normalised dump in config-dump.c. */
#pragma once

#include <regex.h>

#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "cmdline.h"
#include "hashmap.h"
#include "util.h"

/* Most instances a pool may declare (instances = N). */
#define CONFIG_INSTANCES_MAX 4096

/* Most secret = lines of one job, and the highest FD one may name (below
 * the usual soft fd limit of 1024, and FD_SETSIZE). */
#define CONFIG_SECRETS_MAX 32
#define CONFIG_SECRET_FD_MAX 1023

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS, _RESTART_MAX };

enum output_kind {
	OUTPUT_NULL,      /* /dev/null */
	OUTPUT_INHERIT,   /* supd's own stdout/stderr */
	OUTPUT_LOG,       /* captured by supd (supctl logs) */
	OUTPUT_JOURNAL,   /* systemd journal stream under the job's name */
	OUTPUT_FILE,      /* truncate PATH */
	OUTPUT_APPEND,    /* append:PATH */
	OUTPUT_STDOUT,    /* stderr only: same as stdout */
	_OUTPUT_MAX
};

struct output_spec {
	enum output_kind kind;
	char *path;       /* OUTPUT_FILE / OUTPUT_APPEND; may contain %i/%n */
};

/* The setrlimit keys, in the order of the key table (SPEC §8). */
enum job_limit {
	LIMIT_NOFILE, LIMIT_NPROC, LIMIT_CORE, LIMIT_AS, LIMIT_FSIZE, LIMIT_MEMLOCK, LIMIT_STACK, LIMIT_CPU,
	_LIMIT_MAX
};

struct limit_spec {
	bool set;                /* false: the job gets supd's own limit */
	rlim_t soft, hard;       /* RLIM_INFINITY: infinity */
};

/* [supd] cgroup (SPEC §8): find a delegated one, none, or this directory. */
enum cgroup_mode { CGROUP_MODE_AUTO, CGROUP_MODE_OFF, CGROUP_MODE_PATH, _CGROUP_MODE_MAX };

/* oom_policy: what the rest of a run does when the kernel's OOM killer
 * kills one of its processes. */
enum oom_policy { OOM_CONTINUE, OOM_STOP, OOM_KILL, _OOM_POLICY_MAX };

/* The value of a cgroup key (memory_max, pids_max, ...): written to the
 * run's cgroup only when set; CGROUP_VALUE_MAX is "max" (infinity). */
#define CGROUP_VALUE_MAX UINT64_MAX
struct cgroup_value {
	bool set;
	uint64_t v;              /* bytes, a count, a weight, or cpu_max's quota in us per 100ms */
};

/* secret = FD PATH */
struct secret_spec {
	int fd;                  /* 3..CONFIG_SECRET_FD_MAX, once per job */
	char *path;              /* absolute; may contain %i/%n */
};

/* requires = NAME[:COND] (SPEC §7) */
enum req_cond { REQ_UP, REQ_STARTED, REQ_EXITED, REQ_HEALTHY, _REQ_COND_MAX };

struct requirement {
	char *name;              /* job, pool or template instance; %i/%n after '@' */
	enum req_cond cond;
	char *file;              /* where the requires line is (graph errors) */
	unsigned line;
};

/* ready = ... (SPEC §7): when a run counts as up */
enum ready_kind { READY_SPAWN, READY_NOTIFY, READY_FD, READY_LOG, READY_COMMAND, _READY_MAX };

struct ready_spec {
	enum ready_kind kind;
	int fd;                  /* READY_FD */
	char *arg;               /* READY_LOG: the ERE; READY_COMMAND: CMD as written */
	regex_t *re;             /* READY_LOG: arg compiled once, for every run (logmatch.h) */
	struct pipeline pipeline;/* READY_COMMAND with shell = false: CMD split */
};

enum health_action { HEALTH_RESTART, HEALTH_REPORT, _HEALTH_ACTION_MAX };

/* Most requires = entries of one job. */
#define CONFIG_REQUIRES_MAX 256

struct job_config {
	char *name;              /* without the trailing '@' of a template */
	bool is_template;        /* declared as [job:NAME@] */
	char *file;              /* where the section starts */
	unsigned line;

	char *command;           /* as written (for display and shell = true) */
	struct pipeline pipeline;/* split command (shell = false) */
	bool shell;
	long instances;          /* 1 = plain job, -1 = auto (CPU count) */
	bool instances_set;      /* "instances =" given: a pool, even of 1 */
	char *directory;
	char **environment;      /* KEY=VALUE, in order */
	char *environment_file;
	char *user, *group;
	char *stdin_path;        /* NULL = /dev/null */
	struct output_spec stdout_spec, stderr_spec;
	bool autostart;
	enum restart_policy restart;
	usec_t restart_delay, restart_max_delay;
	unsigned start_limit_burst;   /* 0 = no limit */
	usec_t start_limit_interval;
	usec_t timeout;          /* 0 = none */
	int stop_signal;
	usec_t stop_timeout;
	int *success_exit;
	size_t n_success_exit;
	int nice;
	size_t log_lines;        /* lines kept in memory for stdout = log */
	int umask;               /* -1: supd's own */
	struct limit_spec limits[_LIMIT_MAX];
	struct secret_spec *secrets;
	size_t n_secrets;
	/* cgroup keys (SPEC §8), written to the run's cgroup */
	struct cgroup_value memory_max, memory_swap_max, pids_max, cpu_max, cpu_weight, io_weight;
	enum oom_policy oom_policy;
	bool delegate;
	/* where the first cgroup key that needs a cgroup was set (0: none):
	 * cgroup = off makes it an error there */
	unsigned cgroup_key_line;
	unsigned file_idx;       /* of file, in the order files were read */

	/* SPEC §7: requirements, readiness and health */
	struct requirement *requires;
	size_t n_requires;
	struct ready_spec ready;
	usec_t ready_timeout;    /* 0 = none */
	usec_t ready_interval;
	usec_t watchdog;         /* 0 = none */
	char *health_command;    /* NULL = no health checks */
	struct pipeline health_pipeline; /* split (shell = false) */
	usec_t health_interval, health_timeout;
	unsigned health_retries;
	enum health_action health_action;

	unsigned refs;           /* shared by a job's instances and runs */
};

struct supd_config {
	char *file;              /* the main file */
	char *socket;            /* NULL = default */
	mode_t socket_mode;
	char *control_group;
	char *state_dir;         /* NULL = default */
	long max_parallel;       /* -1 = auto, 0 = no limit */
	enum cgroup_mode cgroup_mode;
	char *cgroup_path;       /* CGROUP_MODE_PATH */

	struct job_config **jobs;
	size_t n_jobs, cap_jobs;
	struct hashmap by_name;  /* name -> jobs[i]: lookups stay O(1) with 100k jobs */
};

struct config_errors {
	char **v;                /* "FILE:LINE: message" */
	size_t n;
	char **warnings;         /* "FILE:LINE: warning: message": valid, but suspect */
	size_t n_warnings;
};

/* Parse FILE (and its includes). Returns 0 on success with *ret set, or
 * -EINVAL with every problem in errs (then *ret is NULL), sorted by file and
 * line; warnings are returned either way. errs (may be NULL) must be
 * initialised, e.g. { 0 }; its previous contents are freed and replaced. */
int config_load(const char *file, struct supd_config **ret, struct config_errors *errs);
/* An empty configuration read from file, with the defaults of [supd]. */
struct supd_config *config_new(const char *file);
void config_free(struct supd_config *c);
/* Append jc (the config takes the reference); its name must not be in c
 * yet (config_find_job() first). */
void config_add_job(struct supd_config *c, struct job_config *jc);
void config_errors_clear(struct config_errors *errs);

/* A job with every default set and one reference. */
struct job_config *job_config_new(void);
struct job_config *job_config_ref(struct job_config *jc);
void job_config_unref(struct job_config *jc);
struct job_config *config_find_job(const struct supd_config *c, const char *name);
/* True when the two would run the same way (reload leaves such jobs alone):
 * every key of the key table is compared, and name and kind; only file and
 * line are not. Defined with the table, in config-keys.c. */
bool job_config_equal(const struct job_config *a, const struct job_config *b);
/* The same, leaving out what applies only at the next start (requires):
 * a reload need not restart the job for it. */
bool job_config_equal_run(const struct job_config *a, const struct job_config *b);
/* Print the normalised configuration (golden tests, supd --check -v). */
void config_dump(const struct supd_config *c, FILE *out);
/* Resolve instances = auto. */
long config_instances(const struct job_config *jc);
long config_max_parallel(const struct supd_config *c);

const char *restart_policy_to_string(enum restart_policy p);
/* The policy named s, or -EINVAL. */
int restart_policy_from_string(const char *s);
const char *output_kind_to_string(enum output_kind k);
const char *req_cond_to_string(enum req_cond c);
/* The condition named s, or -EINVAL. */
int req_cond_from_string(const char *s);
const char *ready_kind_to_string(enum ready_kind k);
const char *health_action_to_string(enum health_action a);
int health_action_from_string(const char *s);
/* The key of a limit ("limit_nofile") and its RLIMIT_ resource. */
const char *job_limit_to_string(enum job_limit l);
int job_limit_resource(enum job_limit l);
/* The kind named s, or -EINVAL. */
int output_kind_from_string(const char *s);
const char *oom_policy_to_string(enum oom_policy p);
int oom_policy_from_string(const char *s);
/* The first key of jc that needs a cgroup ("memory_max"), or NULL. */
const char *job_config_cgroup_key(const struct job_config *jc);
