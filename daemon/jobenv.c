/* SPDX-License-Identifier: ISC */
/* A job's environment (see jobenv.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "jobenv.h"
#include "subst.h"

/* Variables supd itself got from systemd that must not leak into jobs. */
static const char *const private_env[] = {
	"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
	"WATCHDOG_USEC", "WATCHDOG_PID", NULL,
};

/* Longest line of an environment_file. */
#define ENV_FILE_LINE_MAX (64 * 1024)

static int fail(char **error, int err, const char *fmt, ...) _printf_(3, 4);
static int fail(char **error, int err, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	free(*error);
	*error = xvasprintf(fmt, ap);
	va_end(ap);
	return err > 0 ? -err : err;
}

static bool env_key_matches(const char *entry, const char *kv) {
	size_t k = strcspn(kv, "=");
	return strncmp(entry, kv, k) == 0 && entry[k] == '=';
}

/* Set KEY=VALUE in v, replacing an existing KEY. */
static char **env_set(char **v, const char *kv) {
	for (size_t i = 0; v && v[i]; i++)
		if (env_key_matches(v[i], kv)) {
			free(v[i]);
			v[i] = xstrdup(kv);
			return v;
		}
	return strv_push(v, kv);
}

static bool is_private_env(const char *kv) {
	for (size_t i = 0; private_env[i]; i++)
		if (env_key_matches(kv, private_env[i]))
			return true;
	return false;
}

static char *strip_quotes(char *v) {
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

/* KEY=VALUE lines; blank lines and '#' comments are skipped, "export " and
 * matching quotes around the value are accepted. The file is opened with
 * the job user's rights and bounded (jobfile.h). */
static int read_environment_file(const char *path, const struct jobfile_cred *cred, char ***envp,
				 char **error) {
	_cleanup_free_ char *data = NULL;
	const char *why;
	size_t len;
	unsigned lineno = 0;
	int r = jobfile_read(path, cred, &data, &len, &why);

	if (r < 0)
		return fail(error, r, "environment_file %s: %s", path, why ? why : strerror(-r));
	if (memchr(data, '\0', len))
		return fail(error, EINVAL, "environment_file %s: holds a NUL byte", path);
	for (char *line = data, *end; *line; line = end) {
		end = line + strcspn(line, "\n");
		size_t n = (size_t) (end - line);
		if (*end)
			*end++ = '\0';
		lineno++;
		if (n > ENV_FILE_LINE_MAX)
			return fail(error, EINVAL, "environment_file %s:%u: line longer than 64 KiB", path, lineno);
		while (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		char *s = line + strspn(line, " \t");
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s += 7 + strspn(s + 7, " \t");
		char *eq = strchr(s, '=');
		size_t klen = eq ? (size_t) (eq - s) : 0;
		if (!eq || klen == 0 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != klen)
			return fail(error, EINVAL, "environment_file %s:%u: expected KEY=VALUE", path, lineno);
		*eq = '\0';
		_cleanup_free_ char *kv = xasprintf("%s=%s", s, strip_quotes(eq + 1));
		*envp = env_set(*envp, kv);
	}
	return 0;
}

/* supd's own environment without private_env, as pointers into environ:
 * taken once, as supd never changes its environment after startup. */
static char **inherited_env;
static size_t n_inherited_env;

static void inherited_env_init(void) {
	if (inherited_env)
		return;
	for (char **e = environ; e && *e; e++)
		n_inherited_env++;
	inherited_env = xcalloc(n_inherited_env + 1, sizeof(char *));
	n_inherited_env = 0;
	for (char **e = environ; e && *e; e++)
		if (!is_private_env(*e))
			inherited_env[n_inherited_env++] = *e;
}

static bool env_has_key(char *const *v, const char *kv) {
	for (size_t i = 0; v && v[i]; i++)
		if (env_key_matches(v[i], kv))
			return true;
	return false;
}

/* Only env->own is copied per spawn. */
int jobenv_build(struct jobenv *env, const struct job_config *jc, const char *name, const char *instance,
		 char *const *user_vars, const struct jobfile_cred *cred, char **error) {
	char **own = NULL;
	size_t n = 0;

	*env = (struct jobenv) { 0 };
	_cleanup_free_ char *job = xasprintf("SUPD_JOB=%s", name);
	_cleanup_free_ char *inst = xasprintf("SUPD_INSTANCE=%s", instance);
	own = env_set(own, job);
	own = env_set(own, inst);
	for (char *const *u = user_vars; u && *u; u++)
		own = env_set(own, *u);
	if (jc->environment_file) {
		_cleanup_free_ char *path = subst_expand(jc->environment_file, instance, name);
		int r = read_environment_file(path, cred, &own, error);
		if (r < 0) {
			strv_free(own);
			return r;
		}
	}
	for (char **e = jc->environment; e && *e; e++) {
		_cleanup_free_ char *kv = subst_expand(*e, instance, name);
		own = env_set(own, kv);
	}
	inherited_env_init();
	env->own = own;
	env->envp = xcalloc(n_inherited_env + strv_length(own) + 1, sizeof(char *));
	for (size_t i = 0; i < n_inherited_env; i++)
		if (!env_has_key(own, inherited_env[i]))
			env->envp[n++] = inherited_env[i];
	for (char **e = own; *e; e++)
		env->envp[n++] = *e;
	return 0;
}

void jobenv_drop_private(struct jobenv *env) {
	size_t n = 0;

	/* inherited variables never hold them: only own's entries go */
	for (size_t i = 0; env->envp && env->envp[i]; i++)
		if (!is_private_env(env->envp[i]))
			env->envp[n++] = env->envp[i];
	if (env->envp)
		env->envp[n] = NULL;
}

#define WATCHDOG_PID_KEY "WATCHDOG_PID="

void jobenv_set_private(struct jobenv *env, const char *notify_socket, uint64_t watchdog_usec) {
	size_t n = 0, k = 0;

	if (!notify_socket && !watchdog_usec)
		return;
	jobenv_drop_private(env);
	while (env->envp[n])
		n++;
	char **v = xcalloc(n + 4, sizeof(char *));
	memcpy(v, env->envp, n * sizeof(char *));
	if (notify_socket)
		v[n++] = env->private_kv[k++] = xasprintf("NOTIFY_SOCKET=%s", notify_socket);
	if (watchdog_usec) {
		/* last, so that the later stages can leave them out */
		env->watchdog_index = (ssize_t) n;
		v[n++] = env->private_kv[k++] = xasprintf("WATCHDOG_USEC=%" PRIu64, watchdog_usec);
		memcpy(env->watchdog_pid, WATCHDOG_PID_KEY, sizeof(WATCHDOG_PID_KEY));
		v[n++] = env->watchdog_pid;
	}
	free(env->envp);
	env->envp = v;
}

void jobenv_write_watchdog_pid(struct jobenv *env) {
	char digits[24];
	size_t n = 0, o = sizeof(WATCHDOG_PID_KEY) - 1;
	unsigned long pid;

	if (env->watchdog_index <= 0)
		return;
	pid = (unsigned long) syscall(SYS_getpid);
	do
		digits[n++] = (char) ('0' + pid % 10);
	while ((pid /= 10) && n < sizeof(digits));
	while (n)
		env->watchdog_pid[o++] = digits[--n];
	env->watchdog_pid[o] = '\0';
}

void jobenv_first_stage_done(struct jobenv *env) {
	if (env->watchdog_index > 0)
		env->envp[env->watchdog_index] = NULL;
}

void jobenv_done(struct jobenv *env) {
	free(env->envp);
	free(env->private_kv[0]);
	free(env->private_kv[1]);
	strv_free(env->own);
	*env = (struct jobenv) { 0 };
}
