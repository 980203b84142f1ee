/* SPDX-License-Identifier: ISC */
/* Process creation (see spawn.h).
 *
 * Everything that can fail in an explainable way (substitution, user
 * lookup, environment file, a limit supd cannot give, opening
 * redirections, reading secrets) happens in supd before the child starts.
 * What can only fail in the child (setrlimit, chdir, setuid, exec)
 * is reported back in a shared mapping: supd is suspended until the child
 * has exec'd or written which step failed and its errno, and exited 127. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#include "jobenv.h"
#include "jobfile.h"
#include "jobuser.h"
#include "log.h"
#include "sd.h"
#include "secret.h"
#include "spawn-clone.h"
#include "spawn-limits.h"
#include "spawn.h"
#include "subst.h"

enum child_step {
	STEP_CGROUP, STEP_DUP, STEP_CHDIR, STEP_NICE, STEP_RLIMIT, STEP_GROUPS, STEP_SETGID, STEP_SETUID, STEP_EXEC
};

struct child_error {
	int step;
	int err;
	int arg;                     /* STEP_RLIMIT: which enum job_limit */
};

struct spawn_ctx {
	const struct job_config *jc;
	const char *name, *instance;
	char ***argvs;               /* per stage, substituted */
	size_t n_stages;
	struct jobenv env;
	char *directory;
	int fd_in, fd_out, fd_err;   /* -1 never; supd's own 1/2 for inherit */
	int capture_fd;              /* stdout/stderr = log */
	const struct spawn_fd *extra; /* besides stdio, for every stage */
	size_t n_extra;
	unsigned flags;              /* enum spawn_flags */
	struct jobuser user;         /* who the run is, the rights files are opened with */
	struct spawn_limits limits;  /* what the child sets before the user switch */
	struct secret *secrets[CONFIG_SECRETS_MAX];   /* of jc->secrets, read */
	int secret_fds[CONFIG_SECRETS_MAX];  /* the read ends for the stage starting */
	const struct spawn_cgroup *cgroup;   /* where the stages go, or NULL */
	const struct spawn_env *xenv;        /* NOTIFY_SOCKET, WATCHDOG_*, or NULL */
	int cgroup_procs;            /* its cgroup.procs when the child places itself, or -1 */
	struct spawn_result *res;
};

static int fail(struct spawn_ctx *c, int err, int exit_status, const char *fmt, ...) _printf_(4, 5);
static int fail(struct spawn_ctx *c, int err, int exit_status, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	free(c->res->error);
	c->res->error = xvasprintf(fmt, ap);
	va_end(ap);
	c->res->exit_status = exit_status;
	return err > 0 ? -err : err;
}

static int build_argv(struct spawn_ctx *c) {
	const struct job_config *jc = c->jc;

	if (jc->shell) {
		c->n_stages = 1;
		c->argvs = xcalloc(1, sizeof(char **));
		char **v = strv_push(NULL, "/bin/sh");
		v = strv_push(v, "-c");
		char *cmd = subst_expand_sh(jc->command, c->instance, c->name);
		v = strv_push(v, cmd);
		free(cmd);
		c->argvs[0] = v;
		return 0;
	}
	c->n_stages = jc->pipeline.n_stages;
	c->argvs = xcalloc(c->n_stages, sizeof(char **));
	for (size_t i = 0; i < c->n_stages; i++)
		for (char **a = jc->pipeline.stages[i]; *a; a++) {
			char *w = subst_expand(*a, c->instance, c->name);
			c->argvs[i] = strv_push(c->argvs[i], w);
			free(w);
		}
	return 0;
}

static int resolve_user(struct spawn_ctx *c) {
	char *error = NULL;
	int r = jobuser_resolve(c->jc, &c->user, &error);

	if (r < 0) {
		(void) fail(c, r, 126, "%s", error);
		free(error);
	}
	return r;
}

static int build_environment(struct spawn_ctx *c) {
	char *error = NULL;
	int r = jobenv_build(&c->env, c->jc, c->name, c->instance, c->user.env, &c->user.cred, &error);

	if (r < 0) {
		(void) fail(c, r, 126, "%s", error);
		free(error);
		return r;
	}
	if (c->flags & SPAWN_NO_PRIVATE_ENV)
		jobenv_drop_private(&c->env);
	return 0;
}


/* Without limit_nofile a job gets the fd limit supd started with. */
static struct rlimit child_nofile;
static bool child_nofile_set;

void spawn_set_child_nofile(const struct rlimit *rl) {
	child_nofile = *rl;
	child_nofile_set = true;
}

/* The limits the child sets, checked here where the reason can be told. */
static int prepare_limits(struct spawn_ctx *c) {
	char *error = NULL;
	int r = spawn_limits_prepare(c->jc, &c->limits, &error);

	if (r < 0) {
		(void) fail(c, r, 126, "%s", error);
		free(error);
	}
	return r;
}

/* Every secret of the job, read as supd (SPEC §8): a missing or unreadable
 * one fails the spawn, naming the path only. */
static int read_secrets(struct spawn_ctx *c) {
	for (size_t i = 0; i < c->jc->n_secrets; i++) {
		_cleanup_free_ char *path = subst_expand(c->jc->secrets[i].path, c->instance, c->name);
		const char *why = NULL;
		int r = secret_read(path, &c->secrets[i], &why);
		if (r < 0)
			return fail(c, r, 126, "secret %s: %s", path, why ? why : strerror(-r));
	}
	return 0;
}

static int open_null(struct spawn_ctx *c, const char *what, int flags, int *ret) {
	int fd = open("/dev/null", flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(c, errno, 126, "%s /dev/null: %s", what, strerror(errno));
	*ret = fd;
	return 0;
}

/* Open a redirection target before the spawn, with the job user's rights
 * where the user could have changed the path (jobfile.h). */
static int open_target(struct spawn_ctx *c, const char *what, const char *tmpl, int flags, int *ret) {
	_cleanup_free_ char *path = subst_expand(tmpl, c->instance, c->name);
	const char *why;
	int fd = jobfile_open_stdio(path, flags, &c->user.cred, &why);
	if (fd < 0)
		return fail(c, fd, 126, "%s %s: %s", what, path, why ? why : strerror(-fd));
	*ret = fd;
	return 0;
}

static int open_output(struct spawn_ctx *c, const char *what, const struct output_spec *o, int inherit_fd, int *ret) {
	switch (o->kind) {
	case OUTPUT_NULL:
		return open_null(c, what, O_WRONLY, ret);
	case OUTPUT_FILE:
		return open_target(c, what, o->path, O_WRONLY | O_CREAT | O_TRUNC, ret);
	case OUTPUT_APPEND:
		return open_target(c, what, o->path, O_WRONLY | O_CREAT | O_APPEND, ret);
	case OUTPUT_JOURNAL: {
		int fd = sd_glue_journal_stream(c->name, strcmp(what, "stderr") == 0 ? LOG_WARNING : LOG_INFO);
		if (fd >= 0) {
			*ret = fd;
			return 0;
		}
		log_warnx("%s: cannot connect %s to the journal (%s), using supd's own", c->name, what, strerror(-fd));
		*ret = inherit_fd;
		return 0;
	}
	case OUTPUT_LOG:
		*ret = c->capture_fd >= 0 ? c->capture_fd : inherit_fd;
		return 0;
	case OUTPUT_INHERIT:
	default:
		*ret = inherit_fd;
		return 0;
	}
}

static int open_stdio(struct spawn_ctx *c) {
	const struct job_config *jc = c->jc;
	int r;

	r = jc->stdin_path ? open_target(c, "stdin", jc->stdin_path, O_RDONLY, &c->fd_in)
			   : open_null(c, "stdin", O_RDONLY, &c->fd_in);
	if (r < 0)
		return r;
	r = open_output(c, "stdout", &jc->stdout_spec, STDOUT_FILENO, &c->fd_out);
	if (r < 0)
		return r;
	if (jc->stderr_spec.kind == OUTPUT_STDOUT) {
		c->fd_err = c->fd_out;
		return 0;
	}
	return open_output(c, "stderr", &jc->stderr_spec, STDERR_FILENO, &c->fd_err);
}

/* The fd map of a child: fd target[i] of the child is what slot[i] holds.
 * The slots are supd's own low fds: supd dups each source there before the
 * clone and points them back at /dev/null after it, so that supd holds no
 * pipe end open through them. Slots 0-2 carry stdio; more are made when a
 * job needs more fds (secrets, notification fds). */
#define SLOTS_MAX (3 + SPAWN_EXTRA_FDS_MAX)
static int slot[SLOTS_MAX];
static size_t n_slots;
static int devnull_fd = -1;
/* close_range() with CLOSE_RANGE_UNSHARE works here (Linux 5.9+). */
static bool have_close_range;
/* The child shares supd's fd table until it unshares it (CLONE_FILES). */
static bool share_fd_table;

/* One spawn's map, prepared by supd: the child only reads it (and writes
 * moved[], which is its own when the memory is not shared). */
struct fd_map {
	int target[SLOTS_MAX];
	int moved[SLOTS_MAX];        /* scratch for the child */
	size_t n;
	int max_target;
	int lowest_slot, highest_slot;
};

static bool is_target(const struct fd_map *m, int fd) {
	for (size_t i = 0; i < m->n; i++)
		if (m->target[i] == fd)
			return true;
	return false;
}

/* In the child: fds 0..max_target as the map says, nothing else open. */
static int child_apply_map(struct fd_map *m) {
	if (m->max_target < m->lowest_slot) {
		/* every target lies below every slot: nothing is clobbered */
		for (size_t i = 0; i < m->n; i++)
			if (dup2(slot[i], m->target[i]) < 0)
				return -1;
	} else {
		/* a target is a slot's number: first move every source above
		 * both, then place them */
		int floor = MAX(m->max_target, m->highest_slot) + 1;
		for (size_t i = 0; i < m->n; i++)
			if ((m->moved[i] = fcntl(slot[i], F_DUPFD_CLOEXEC, floor)) < 0)
				return -1;
		for (size_t i = 0; i < m->n; i++)
			if (dup2(m->moved[i], m->target[i]) < 0)
				return -1;
	}
	/* and nothing else: not even fds supd inherited without O_CLOEXEC */
	if (have_close_range) {
		(void) close_range((unsigned) m->max_target + 1, ~0U, 0);
		for (int fd = 3; fd < m->max_target; fd++)
			if (!is_target(m, fd))
				(void) close(fd);
	}
	return 0;
}

/* What the child tells the parent: which step failed and its errno. It
 * lives in a shared mapping, so it works whether or not the child shares
 * supd's memory. */
struct child_args {
	struct spawn_ctx *c;
	size_t stage;
	pid_t pgid;
	struct fd_map *map;
	struct child_error *err;
	bool placed;                 /* in its cgroup already (CLONE_INTO_CGROUP) */
};

static _noreturn_ void child_fail(struct child_args *a, int step) {
	a->err->step = step;
	a->err->err = errno;
	_exit(127);
}

/* In the child: become part of the group, wire its fds, drop privileges,
 * exec. The child may share supd's memory (CLONE_VM): it only makes system
 * calls and never allocates; privileges are dropped with raw syscalls, not
 * glibc's wrappers that would try to coordinate supd's threads. */
static int child_main(void *arg) {
	struct child_args *a = arg;
	struct spawn_ctx *c = a->c;
	static const struct { unsigned long words[8]; } dfl;   /* at least a kernel sigaction */
	sigset_t none;

	/* without CLONE_INTO_CGROUP, into the run's cgroup before anything
	 * else (as root: before the user switch) */
	if (c->cgroup && !a->placed && write(c->cgroup_procs, "0", 1) != 1)
		child_fail(a, STEP_CGROUP);
	/* First of all, a table of its own holding only fds up to the slots:
	 * supd may hold thousands of fds (a capture pipe per running job), and
	 * copying them at clone and closing them at exec was most of the cost
	 * of a spawn. Until this returns the table is supd's: touch nothing. */
	if (have_close_range && close_range((unsigned) a->map->highest_slot + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		child_fail(a, STEP_DUP);
	if (child_apply_map(a->map) < 0)
		child_fail(a, STEP_DUP);

	/* the raw call: glibc's sigaction() refuses the signals it keeps for
	 * itself (32, 33), which a job would then inherit ignored; an all-zero
	 * kernel sigaction is SIG_DFL on every architecture */
	for (int s = 1; s < NSIG; s++)
		(void) syscall(SYS_rt_sigaction, s, &dfl, NULL, (size_t) 8);
	sigemptyset(&none);
	(void) sigprocmask(SIG_SETMASK, &none, NULL);
	(void) setpgid(0, a->pgid);

	if (c->jc->nice != 0 && setpriority(PRIO_PROCESS, 0, c->jc->nice) < 0)
		child_fail(a, STEP_NICE);
	/* prlimit64, a plain system call: it allocates nothing */
	if (!c->limits.set[LIMIT_NOFILE] && child_nofile_set)
		(void) setrlimit(RLIMIT_NOFILE, &child_nofile);
	for (int l = 0; l < _LIMIT_MAX; l++)
		if (c->limits.set[l] && setrlimit(c->limits.resource[l], &c->limits.value[l]) < 0) {
			a->err->arg = l;
			child_fail(a, STEP_RLIMIT);
		}
	if (c->jc->umask >= 0)
		(void) umask((mode_t) c->jc->umask);
	if (c->user.as_user) {
		if (syscall(SYS_setgroups, (size_t) c->user.n_groups, c->user.groups) < 0)
			child_fail(a, STEP_GROUPS);
		if (syscall(SYS_setresgid, c->user.gid, c->user.gid, c->user.gid) < 0)
			child_fail(a, STEP_SETGID);
		if (syscall(SYS_setresuid, c->user.uid, c->user.uid, c->user.uid) < 0)
			child_fail(a, STEP_SETUID);
	}
	/* as the job's user: a directory it may not enter stays closed */
	if (c->directory && chdir(c->directory) < 0)
		child_fail(a, STEP_CHDIR);
	if (a->stage == 0)
		jobenv_write_watchdog_pid(&c->env);
	execvpe(c->argvs[a->stage][0], c->argvs[a->stage], c->env.envp);
	child_fail(a, STEP_EXEC);
}

static void describe_child_error(struct spawn_ctx *c, size_t stage, const struct child_error *ce) {
	const char *prog = c->argvs[stage][0];
	const char *what = "exec";
	_cleanup_free_ char *stage_prefix = c->n_stages > 1 ? xasprintf("stage %zu: ", stage + 1) : xstrdup("");

	switch (ce->step) {
	case STEP_CGROUP: what = "enter cgroup"; prog = c->cgroup->path; break;
	case STEP_DUP: what = "pass fds"; break;
	case STEP_CHDIR: what = "chdir"; prog = c->directory; break;
	case STEP_NICE: what = "set nice"; prog = ""; break;
	case STEP_RLIMIT: what = "set"; prog = job_limit_to_string((enum job_limit) ce->arg); break;
	case STEP_GROUPS: what = "setgroups"; prog = c->jc->user; break;
	case STEP_SETGID: what = "setgid"; prog = c->jc->user; break;
	case STEP_SETUID: what = "setuid"; prog = c->jc->user; break;
	default: break;
	}
	(void) fail(c, ce->err, ce->step == STEP_EXEC && (ce->err == ENOENT || ce->err == ENOTDIR) ? 127 : 126,
		    "%s%s %s: %s", stage_prefix, what, prog, strerror(ce->err));
}

static void reap_blocking(pid_t pid) {
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Kill and reap the stages started so far (a later stage failed). */
static void undo_stages(struct spawn_ctx *c, size_t started) {
	if (started == 0)
		return;
	(void) kill(-c->res->pgid, SIGKILL);
	for (size_t i = 0; i < started; i++)
		reap_blocking(c->res->pids[i]);
}

/* The child's stack and the shared error report, set up once. */
#define CHILD_STACK_SIZE (256 * 1024)
static char *child_stack;
static struct child_error *child_report;

/* Valgrind refuses clone() with CLONE_FILES (it knows fork, vfork and
 * threads): under it the child copies the table as it would without. */
static bool under_valgrind(void) {
#ifdef HAVE_VALGRIND_H
	return RUNNING_ON_VALGRIND;
#else
	return false;
#endif
}

/* Slots up to n: the lowest free fds, so that a child's private table is
 * small (made once, when supd holds few fds). */
static int slots_ensure(size_t n) {
	if (devnull_fd < 0) {
		devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (devnull_fd < 0)
			return -errno;
		have_close_range = close_range(~0U, ~0U, CLOSE_RANGE_UNSHARE) == 0;
		share_fd_table = have_close_range && !under_valgrind();
	}
	while (n_slots < n) {
		int fd = fcntl(devnull_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		slot[n_slots++] = fd;
	}
	return 0;
}

static int child_area_init(void) {
	if (child_stack)
		return 0;
	void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	void *report = mmap(NULL, sizeof(struct child_error), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (report == MAP_FAILED) {
		int e = errno;
		munmap(stack, CHILD_STACK_SIZE);
		return -e;
	}
	child_stack = stack;
	child_report = report;
	return 0;
}

/* Put the sources of a stage into the slots (src), or /dev/null back
 * (src NULL) so that supd holds no pipe end open through them. */
static int slots_fill(const int *src, size_t n) {
	for (size_t i = 0; i < n; i++)
		if (dup3(src ? src[i] : devnull_fd, slot[i], O_CLOEXEC) < 0)
			return -errno;
	return 0;
}

/* The map of one stage: stdio, then the extra fds. */
static void map_build(const struct spawn_ctx *c, const int src_stdio[3], struct fd_map *m, int *src) {
	m->n = 0;
	m->max_target = 2;
	for (int i = 0; i < 3; i++) {
		m->target[m->n] = i;
		src[m->n++] = src_stdio[i];
	}
	for (size_t k = 0; k < c->n_extra; k++) {
		m->target[m->n] = c->extra[k].target;
		src[m->n++] = c->extra[k].source;
		m->max_target = MAX(m->max_target, c->extra[k].target);
	}
	/* this stage's own pipe for each secret */
	for (size_t k = 0; k < c->jc->n_secrets; k++) {
		m->target[m->n] = c->jc->secrets[k].fd;
		src[m->n++] = c->secret_fds[k];
		m->max_target = MAX(m->max_target, c->jc->secrets[k].fd);
	}
	m->lowest_slot = m->highest_slot = slot[0];
	for (size_t i = 1; i < m->n; i++) {
		m->lowest_slot = slot[i] < m->lowest_slot ? slot[i] : m->lowest_slot;
		m->highest_slot = MAX(m->highest_slot, slot[i]);
	}
}

/* The child shares supd's memory like posix_spawn does, so starting a job
 * costs no page-table copy however large supd is. Sanitizer runtimes do
 * not expect that, so their builds copy the memory instead (still waiting
 * for the exec, as with vfork). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHILD_CLONE_FLAGS (CLONE_VFORK | SIGCHLD)
#else
#define CHILD_CLONE_FLAGS (CLONE_VM | CLONE_VFORK | SIGCHLD)
#endif

/* clone() the child, or with a cgroup clone3() into it; pid or -errno. */
static pid_t clone_child(struct spawn_ctx *c, struct child_args *a, unsigned long flags) {
	if (c->cgroup)
		return spawn_clone_into(child_main, a, child_stack, CHILD_STACK_SIZE, flags, c->cgroup->fd, &a->placed);
	pid_t pid = clone(child_main, child_stack + CHILD_STACK_SIZE, (int) flags, a);
	return pid < 0 ? -errno : pid;
}

static pid_t start_child(struct spawn_ctx *c, struct child_args *a) {
	pid_t pid = clone_child(c, a, CHILD_CLONE_FLAGS | (share_fd_table ? CLONE_FILES : 0));

	if (pid == -EINVAL && share_fd_table) {
		/* an emulator or sandbox that refuses CLONE_FILES: copy instead */
		share_fd_table = false;
		pid = clone_child(c, a, CHILD_CLONE_FLAGS);
	}
	return pid;
}

/* Start one stage with its fds ready; returns once it has exec'd or
 * reported why it could not. */
static int start_stage_with(struct spawn_ctx *c, size_t i, int in, int out) {
	struct fd_map map;
	int src[SLOTS_MAX];
	struct child_args a = {
		.c = c, .stage = i, .pgid = i == 0 ? 0 : c->res->pgid, .map = &map,
	};
	sigset_t all, old;
	int r = child_area_init();

	if (r >= 0)
		r = slots_ensure(3 + c->n_extra + c->jc->n_secrets);
	if (r < 0)
		return fail(c, r, 126, "cannot set up process creation: %s", strerror(-r));
	const int stdio[3] = { in, out, c->fd_err };
	map_build(c, stdio, &map, src);
	if ((r = slots_fill(src, map.n)) < 0) {
		(void) slots_fill(NULL, map.n);
		return fail(c, r, 126, "cannot pass fds to the job: %s", strerror(-r));
	}
	*child_report = (struct child_error) { .step = -1, .arg = -1 };
	a.err = child_report;
	/* no signal handler may run on the child's stack */
	sigfillset(&all);
	(void) sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = start_child(c, &a);
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
	r = slots_fill(NULL, map.n);
	if (r < 0)   /* cannot happen: the slots and /dev/null are open */
		log_warnx("cannot reset the fd slots: %s", strerror(-r));
	if (pid < 0 && c->cgroup && a.placed)
		return fail(c, -pid, 126, "cannot enter cgroup %s: %s", c->cgroup->path, strerror(-pid));
	if (pid < 0)
		return fail(c, -pid, 126, "cannot start a process: %s", strerror(-pid));
	if (i == 0)
		c->res->pgid = pid;
	c->res->pids[i] = pid;
	if (child_report->step >= 0) {
		struct child_error ce = *child_report;
		reap_blocking(pid);
		describe_child_error(c, i, &ce);
		return -ce.err;
	}
	return 0;
}

static void close_secret_fds(struct spawn_ctx *c) {
	for (size_t k = 0; k < c->jc->n_secrets; k++)
		if (c->secret_fds[k] >= 0) {
			close(c->secret_fds[k]);
			c->secret_fds[k] = -1;
		}
}

/* A pipe per secret for the stage about to start, filled as far as each
 * takes before the exec; the rest goes to the run's feed (secret.h). */
static int open_secret_fds(struct spawn_ctx *c) {
	for (size_t k = 0; k < c->jc->n_secrets; k++) {
		int r = secret_pipe(c->secrets[k], &c->res->secrets, &c->secret_fds[k]);
		if (r < 0) {
			_cleanup_free_ char *path = subst_expand(c->jc->secrets[k].path, c->instance, c->name);
			close_secret_fds(c);
			return fail(c, r, 126, "secret %s: cannot make its pipe: %s", path, strerror(-r));
		}
	}
	return 0;
}

/* Start stage i with its own secret pipes. */
static int start_stage(struct spawn_ctx *c, size_t i, int in, int out) {
	int r = open_secret_fds(c);

	if (r < 0)
		return r;
	r = start_stage_with(c, i, in, out);
	close_secret_fds(c);   /* the stage has its own */
	return r;
}

static int start_pipeline(struct spawn_ctx *c) {
	struct spawn_result *res = c->res;
	int prev_read = c->fd_in;
	int r = 0;

	res->n_stages = c->n_stages;
	res->pids = xcalloc(c->n_stages, sizeof(pid_t));
	for (size_t i = 0; i < c->n_stages; i++) {
		int p[2] = { -1, -1 };
		int out = c->fd_out;
		if (i == 1)
			jobenv_first_stage_done(&c->env);   /* WATCHDOG_* is the first stage's alone */
		if (i + 1 < c->n_stages) {
			if (pipe2(p, O_CLOEXEC) < 0) {
				r = fail(c, errno, 126, "pipe: %s", strerror(errno));
				if (prev_read != c->fd_in)
					close(prev_read);
				undo_stages(c, i);
				break;
			}
			out = p[1];
		}
		r = start_stage(c, i, prev_read, out);
		if (prev_read != c->fd_in)
			close(prev_read);
		if (p[1] >= 0)
			close(p[1]);
		prev_read = p[0];
		if (r < 0) {
			if (p[0] >= 0)
				close(p[0]);
			undo_stages(c, i);
			break;
		}
		res->argv0 = strv_push(res->argv0, c->argvs[i][0]);
	}
	return r;
}

static void close_target(const struct spawn_ctx *c, int fd) {
	if (fd > STDERR_FILENO && fd != c->capture_fd)
		close(fd);
}

/* Extra targets are 3 and up, each once, and none a secret's fd. */
static int check_extra(struct spawn_ctx *c) {
	const struct job_config *jc = c->jc;

	if (c->n_extra + jc->n_secrets > SPAWN_EXTRA_FDS_MAX)
		return fail(c, E2BIG, 126, "more than %d extra fds for one job", SPAWN_EXTRA_FDS_MAX);
	for (size_t k = 0; k < c->n_extra; k++) {
		if (c->extra[k].target < 3 || c->extra[k].source < 0)
			return fail(c, EINVAL, 126, "bad fd map entry %d <- %d", c->extra[k].target, c->extra[k].source);
		for (size_t l = 0; l < k; l++)
			if (c->extra[l].target == c->extra[k].target)
				return fail(c, EINVAL, 126, "fd %d mapped twice", c->extra[k].target);
		for (size_t l = 0; l < jc->n_secrets; l++)
			if (jc->secrets[l].fd == c->extra[k].target)
				return fail(c, EINVAL, 126, "fd %d mapped twice (a secret's)", c->extra[k].target);
	}
	return 0;
}

/* Files supd creates for the job (stdout = PATH) have mode 0666 & ~umask
 * with the job's umask: supd has one thread, so its own may change
 * around the opens. */
static int open_stdio_umask(struct spawn_ctx *c) {
	if (c->jc->umask < 0)
		return open_stdio(c);
	mode_t old = umask((mode_t) c->jc->umask);
	int r = open_stdio(c);
	(void) umask(old);
	return r;
}

/* Without clone3 into cgroups (not known to work yet), the child writes
 * itself to the cgroup's cgroup.procs, opened here. */
static int open_cgroup_procs(struct spawn_ctx *c) {
	if (!c->cgroup || spawn_clone_into_proven())
		return 0;
	c->cgroup_procs = openat(c->cgroup->fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (c->cgroup_procs < 0)
		return fail(c, errno, 126, "cannot enter cgroup %s: %s", c->cgroup->path, strerror(errno));
	return 0;
}

static int spawn_run_ctx(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
			 const struct spawn_fd *extra, size_t n_extra, const struct spawn_cgroup *cg,
			 unsigned flags, const struct spawn_env *xenv, struct spawn_result *res);

int spawn_run(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
	      const struct spawn_fd *extra, size_t n_extra, struct spawn_result *res) {
	return spawn_run_in(jc, name, instance, capture_fd, extra, n_extra, NULL, 0, res);
}

int spawn_run_in(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		 const struct spawn_fd *extra, size_t n_extra, const struct spawn_cgroup *cg,
		 unsigned flags, struct spawn_result *res) {
	return spawn_run_ctx(jc, name, instance, capture_fd, extra, n_extra, cg, flags, NULL, res);
}

int spawn_run_env(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
		  const struct spawn_fd *extra, size_t n_extra, const struct spawn_cgroup *cg,
		  const struct spawn_env *env, struct spawn_result *res) {
	return spawn_run_ctx(jc, name, instance, capture_fd, extra, n_extra, cg, 0, env, res);
}

static int spawn_run_ctx(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
			 const struct spawn_fd *extra, size_t n_extra, const struct spawn_cgroup *cg,
			 unsigned flags, const struct spawn_env *xenv, struct spawn_result *res) {
	struct spawn_ctx c = {
		.jc = jc, .name = name, .instance = instance ? instance : "",
		.fd_in = -1, .fd_out = -1, .fd_err = -1, .capture_fd = capture_fd,
		.extra = extra, .n_extra = n_extra, .flags = flags, .cgroup = cg, .cgroup_procs = -1, .res = res,
		.xenv = xenv,
	};
	int r;

	memset(res, 0, sizeof(*res));
	for (size_t k = 0; k < CONFIG_SECRETS_MAX; k++)
		c.secret_fds[k] = -1;
	r = check_extra(&c);
	if (r < 0)
		return r;
	build_argv(&c);
	if (jc->directory)
		c.directory = subst_expand(jc->directory, c.instance, name);
	r = resolve_user(&c);
	if (r >= 0)
		r = build_environment(&c);
	if (r >= 0 && xenv)
		jobenv_set_private(&c.env, xenv->notify_socket, xenv->watchdog_usec);
	if (r >= 0)
		r = prepare_limits(&c);
	if (r >= 0)
		r = read_secrets(&c);
	if (r >= 0)
		r = open_stdio_umask(&c);
	if (r >= 0)
		r = open_cgroup_procs(&c);
	if (r >= 0)
		r = start_pipeline(&c);
	if (c.cgroup_procs >= 0)
		close(c.cgroup_procs);

	close_target(&c, c.fd_in);
	if (c.fd_err != c.fd_out)
		close_target(&c, c.fd_err);
	close_target(&c, c.fd_out);
	for (size_t i = 0; i < c.n_stages; i++)
		strv_free(c.argvs[i]);
	free(c.argvs);
	jobenv_done(&c.env);
	jobuser_done(&c.user);
	free(c.directory);
	for (size_t k = 0; k < jc->n_secrets; k++)
		secret_unref(c.secrets[k]);   /* the feed keeps what it needs */
	if (r < 0) {
		secret_feed_free(res->secrets);
		res->secrets = NULL;
		res->n_stages = 0;
		free(res->pids);
		res->pids = NULL;
		strv_free(res->argv0);
		res->argv0 = NULL;
	}
	return r;
}

void spawn_result_free(struct spawn_result *r) {
	secret_feed_free(r->secrets);
	free(r->pids);
	strv_free(r->argv0);
	free(r->error);
	memset(r, 0, sizeof(*r));
}
