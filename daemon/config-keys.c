/* SPDX-License-Identifier: ISC */
/* The key table: which keys [job:NAME] and [supd] have, the type and
 * field of each, in the order of the dump. The types are in
 * config-types.c. */
#include "config-keys.h"
#include "config-types.h"

#define JOB_FIELD(f) offsetof(struct job_config, f)
#define SUPD_FIELD(f) offsetof(struct supd_config, f)

static bool with_health_command(const void *base)
{
	return ((const struct job_config *) base)->health_command != NULL;
}

static bool with_readiness(const void *base)
{
	return ((const struct job_config *) base)->ready.kind != READY_SPAWN;
}

static bool with_ready_command(const void *base)
{
	return ((const struct job_config *) base)->ready.kind == READY_COMMAND;
}

/* name, type, field, flags, example (a valid value other than the
 * default), and when it applies (config-check.c rejects it otherwise) */
static const struct key_desc job_keys[] = {
	{ "command",           &config_type_command,      JOB_FIELD(command),
	  KEY_MULTILINE | KEY_EMPTY | KEY_QUOTED,         "false" },
	{ "shell",             &config_type_bool,         JOB_FIELD(shell), 0, "true" },
	{ "instances",         &config_type_instances,    JOB_FIELD(instances), 0, "2" },
	{ "directory",         &config_type_string,       JOB_FIELD(directory),
	  KEY_PATH | KEY_SUBST,                           "/tmp" },
	{ "environment",       &config_type_environment,  JOB_FIELD(environment),
	  KEY_REPEAT | KEY_MULTILINE | KEY_EMPTY | KEY_SUBST | KEY_QUOTED, "A=1" },
	{ "environment_file",  &config_type_string,       JOB_FIELD(environment_file),
	  KEY_PATH | KEY_SUBST,                           "/etc/env" },
	{ "user",              &config_type_user,         JOB_FIELD(user), 0, "nobody" },
	{ "group",             &config_type_group,        JOB_FIELD(group), 0, "nogroup" },
	{ "stdin",             &config_type_stdin,        JOB_FIELD(stdin_path),
	  KEY_PATH | KEY_SUBST,                           "/dev/zero" },
	{ "stdout",            &config_type_output,       JOB_FIELD(stdout_spec), KEY_SUBST, "null" },
	{ "stderr",            &config_type_output,       JOB_FIELD(stderr_spec), KEY_SUBST, "stdout" },
	{ "autostart",         &config_type_bool,         JOB_FIELD(autostart), 0, "no" },
	{ "restart",           &config_type_restart,      JOB_FIELD(restart), 0, "always" },
	{ "restart_delay",     &config_type_duration,     JOB_FIELD(restart_delay), 0, "1s" },
	{ "restart_max_delay", &config_type_duration,     JOB_FIELD(restart_max_delay), 0, "1m" },
	{ "start_limit",       &config_type_start_limit,  JOB_FIELD(start_limit_burst), 0, "1/10s" },
	{ "timeout",           &config_type_duration,     JOB_FIELD(timeout), 0, "1s" },
	{ "stop_signal",       &config_type_signal,       JOB_FIELD(stop_signal), 0, "INT" },
	{ "stop_timeout",      &config_type_duration,     JOB_FIELD(stop_timeout), 0, "1s" },
	{ "success_exit",      &config_type_success_exit, JOB_FIELD(success_exit), 0, "0 1" },
	{ "nice",              &config_type_nice,         JOB_FIELD(nice), 0, "1" },
	{ "log_lines",         &config_type_log_lines,    JOB_FIELD(log_lines), 0, "10" },
	{ "umask",             &config_type_umask,        JOB_FIELD(umask), 0, "0027" },
	{ "limit_nofile",      &config_type_limit,        JOB_FIELD(limits[LIMIT_NOFILE]), 0, "512:1024" },
	{ "limit_nproc",       &config_type_limit,        JOB_FIELD(limits[LIMIT_NPROC]), 0, "100" },
	{ "limit_core",        &config_type_limit_size,   JOB_FIELD(limits[LIMIT_CORE]), 0, "0" },
	{ "limit_as",          &config_type_limit_size,   JOB_FIELD(limits[LIMIT_AS]), 0, "4G" },
	{ "limit_fsize",       &config_type_limit_size,   JOB_FIELD(limits[LIMIT_FSIZE]), 0, "10M" },
	{ "limit_memlock",     &config_type_limit_size,   JOB_FIELD(limits[LIMIT_MEMLOCK]), 0, "64K:1M" },
	{ "limit_stack",       &config_type_limit_size,   JOB_FIELD(limits[LIMIT_STACK]), 0, "8M:infinity" },
	{ "limit_cpu",         &config_type_limit,        JOB_FIELD(limits[LIMIT_CPU]), 0, "60" },
	{ "secret",            &config_type_secret,       0,
	  KEY_REPEAT | KEY_PATH | KEY_SUBST,              "3 /etc/supd/%i.pass" },
	{ "memory_max",        &config_type_cgroup_bytes, JOB_FIELD(memory_max), 0, "512M" },
	{ "memory_swap_max",   &config_type_cgroup_bytes, JOB_FIELD(memory_swap_max), 0, "0" },
	{ "pids_max",          &config_type_cgroup_count, JOB_FIELD(pids_max), 0, "100" },
	{ "cpu_max",           &config_type_cpu_max,      JOB_FIELD(cpu_max), 0, "150%" },
	{ "cpu_weight",        &config_type_cgroup_weight, JOB_FIELD(cpu_weight), 0, "50" },
	{ "io_weight",         &config_type_cgroup_weight, JOB_FIELD(io_weight), 0, "200" },
	{ "oom_policy",        &config_type_oom_policy,   JOB_FIELD(oom_policy), 0, "kill" },
	{ "delegate",          &config_type_bool,         JOB_FIELD(delegate), 0, "true" },
	{ "requires",          &config_type_requires,     0, KEY_REPEAT | KEY_NEXT_START,
	  "db migrate:exited" },
	{ "ready",             &config_type_ready,        JOB_FIELD(ready), KEY_QUOTED, "notify" },
	{ "ready_timeout",     &config_type_duration,     JOB_FIELD(ready_timeout), 0, "1m", with_readiness },
	{ "ready_interval",    &config_type_duration,     JOB_FIELD(ready_interval), 0, "2s", with_ready_command },
	{ "watchdog",          &config_type_duration,     JOB_FIELD(watchdog), 0, "5s" },
	{ "health_command",    &config_type_string,       JOB_FIELD(health_command),
	  KEY_SUBST | KEY_QUOTED,                         "pg_isready -q" },
	{ "health_interval",   &config_type_duration,     JOB_FIELD(health_interval), 0, "1m", with_health_command },
	{ "health_timeout",    &config_type_duration,     JOB_FIELD(health_timeout), 0, "1s", with_health_command },
	{ "health_retries",    &config_type_count,        JOB_FIELD(health_retries), 0, "1", with_health_command },
	{ "health_action",     &config_type_health_action, JOB_FIELD(health_action), 0, "report", with_health_command },
};

static const struct key_desc supd_keys[] = {
	{ "socket",        &config_type_socket,       SUPD_FIELD(socket), KEY_PATH, "/run/supd-test.sock" },
	{ "socket_mode",   &config_type_mode,         SUPD_FIELD(socket_mode), 0, "0600" },
	{ "control_group", &config_type_name,         SUPD_FIELD(control_group), 0, "wheel" },
	{ "state_dir",     &config_type_string,       SUPD_FIELD(state_dir), KEY_PATH, "/var/lib/supd-test" },
	{ "max_parallel",  &config_type_max_parallel, SUPD_FIELD(max_parallel), 0, "2" },
	{ "cgroup",        &config_type_cgroup_mode,  SUPD_FIELD(cgroup_mode), 0, "/sys/fs/cgroup/supd" },
	{ "include",       &config_type_include,      0, KEY_REPEAT, NULL },
};

/* every limit has its row, named as job_limit_to_string() names it */
_Static_assert(_LIMIT_MAX == 8, "a limit_* row per enum job_limit");

_Static_assert(ELEMENTSOF(job_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX");
_Static_assert(ELEMENTSOF(supd_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX");

const struct key_table config_keys_job = { job_keys, ELEMENTSOF(job_keys) };
const struct key_table config_keys_supd = { supd_keys, ELEMENTSOF(supd_keys) };

const struct key_desc *config_keys_find(const struct key_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	return NULL;
}

static bool equal_keys(const struct job_config *a, const struct job_config *b, unsigned skip)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	if (!streq_ptr(a->name, b->name) || a->is_template != b->is_template)
		return false;
	for (size_t i = 0; i < config_keys_job.n; i++) {
		const struct key_desc *k = &config_keys_job.keys[i];

		if (!(k->flags & skip) && k->type->equal && !k->type->equal(k, a, b))
			return false;
	}
	return true;
}

/* Every key of the table, and the name and kind of the job. */
bool job_config_equal(const struct job_config *a, const struct job_config *b)
{
	return equal_keys(a, b, 0);
}

bool job_config_equal_run(const struct job_config *a, const struct job_config *b)
{
	return equal_keys(a, b, KEY_NEXT_START);
}
