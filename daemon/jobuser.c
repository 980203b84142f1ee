/* SPDX-License-Identifier: ISC */
/* Who a run of a job is (see jobuser.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "jobuser.h"
#include "userdb.h"

static int fail(char **error, int err, const char *fmt, ...) _printf_(3, 4);
static int fail(char **error, int err, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	free(*error);
	*error = xvasprintf(fmt, ap);
	va_end(ap);
	return err > 0 ? -err : err;
}

/* HOME, USER, LOGNAME and SHELL of the job's user (SPEC §8), before
 * environment_file and environment, which may override them. */
static void set_user_env(struct jobuser *u, const struct passwd *pw) {
	char *v[] = {
		xasprintf("HOME=%s", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/"),
		xasprintf("USER=%s", pw->pw_name),
		xasprintf("LOGNAME=%s", pw->pw_name),
		xasprintf("SHELL=%s", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh"),
	};
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		u->env = strv_push(u->env, v[i]);
		free(v[i]);
	}
}

/* user and group, by name or number, looked up again now (the config was
 * checked when loaded: a user deleted since is a spawn failure). */
int jobuser_resolve(const struct job_config *jc, struct jobuser *u, char **error) {
	struct passwd *pw;
	int r;

	*u = (struct jobuser) { 0 };
	if (!jc->user)
		return 0;
	r = userdb_user(jc->user, &pw);
	if (r == -ESRCH)
		return fail(error, r, "unknown user %s", jc->user);
	if (r < 0)
		return fail(error, r, "cannot look up user %s: %s", jc->user, strerror(-r));
	set_user_env(u, pw);
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0;
		return fail(error, EPERM, "cannot run as user %s: supd is not running as root", jc->user);
	}
	u->as_user = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	/* the next lookup may reuse pw's storage */
	_cleanup_free_ char *user_name = xstrdup(pw->pw_name);
	if (jc->group) {
		struct group *gr;
		r = userdb_group(jc->group, &gr);
		if (r == -ESRCH)
			return fail(error, r, "unknown group %s", jc->group);
		if (r < 0)
			return fail(error, r, "cannot look up group %s: %s", jc->group, strerror(-r));
		u->gid = gr->gr_gid;
	}
	/* the user's groups and the job's group */
	int n = 16;
	for (;;) {
		u->groups = xreallocarray(u->groups, (size_t) n, sizeof(gid_t));
		int want = n;
		if (getgrouplist(user_name, u->gid, u->groups, &want) >= 0) {
			u->n_groups = want;
			u->cred = (struct jobfile_cred) {
				.as_user = true, .uid = u->uid, .gid = u->gid,
				.groups = u->groups, .n_groups = (size_t) want,
			};
			return 0;
		}
		if (want <= n)
			want = n * 2;
		if (want > 65536)
			return fail(error, E2BIG, "user %s is in too many groups", jc->user);
		n = want;
	}
}

void jobuser_done(struct jobuser *u) {
	free(u->groups);
	strv_free(u->env);
	*u = (struct jobuser) { 0 };
}
