/* SPDX-License-Identifier: ISC */
/* One check process of a job (see jobcheck.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "jobcheck.h"
#include "log.h"
#include "parse.h"
#include "spawn.h"

struct jobcheck {
	struct child_watch watch;     /* its pids, with the reaper */
	sd_event_source *timer;       /* the timeout, or NULL */
	pid_t pgid;
	size_t n_stages, n_alive;
	pid_t *pids;                  /* per stage */
	int *status;                  /* per stage, once reaped */
	bool timed_out;
	jobcheck_done_fn done;        /* NULL once cancelled */
	void *userdata;
};

static struct jobcheck *watch_check(struct child_watch *w) {
	return (struct jobcheck *) ((char *) w - offsetof(struct jobcheck, watch));
}

static void jobcheck_free(struct jobcheck *c) {
	sd_event_source_disable_unref(c->timer);
	free(c->pids);
	free(c->status);
	free(c);
}

static void kill_group(const struct jobcheck *c) {
	if (kill(-c->pgid, SIGKILL) < 0 && errno != ESRCH)
		log_warn("cannot kill check process group %d", (int) c->pgid);
}

static bool stage_passed(int wait_status) {
	return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

/* pipefail: the rightmost stage that did not pass, else the last. */
static int decisive_status(const struct jobcheck *c) {
	for (size_t i = c->n_stages; i-- > 0;)
		if (!stage_passed(c->status[i]))
			return c->status[i];
	return c->status[c->n_stages - 1];
}

static void on_exited(struct child_watch *w, pid_t pid, int wait_status, const struct rusage *ru) {
	struct jobcheck *c = watch_check(w);
	(void) ru;

	for (size_t i = 0; i < c->n_stages; i++)
		if (c->pids[i] == pid) {
			c->status[i] = wait_status;
			c->n_alive--;
			break;
		}
	if (c->n_alive > 0)
		return;
	/* what the stages left behind in the group (the race with a reused
	 * pgid is the one of a run's scope: a cgroup per check ends it) */
	(void) kill(-c->pgid, SIGKILL);
	jobcheck_done_fn done = c->done;
	void *userdata = c->userdata;
	int status = decisive_status(c);
	bool timed_out = c->timed_out;
	jobcheck_free(c);
	if (done)
		done(userdata, status, timed_out);   /* last: the owner may do anything */
}

/* supd is going away before the processes were reaped. */
static void on_abandoned(struct child_watch *w) {
	struct jobcheck *c = watch_check(w);
	kill_group(c);
	jobcheck_free(c);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
	struct jobcheck *c = userdata;
	(void) s;
	(void) usec;

	log_debug("check %d: timed out, killing it", (int) c->pgid);
	c->timed_out = true;
	kill_group(c);
	return 0;
}

static int fail(char **error, int err, const char *fmt, ...) _printf_(3, 4);
static int fail(char **error, int err, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	*error = xvasprintf(fmt, ap);
	va_end(ap);
	return err > 0 ? -err : err;
}

/* The job's config as a check runs: CMD instead of command, stdin
 * /dev/null, output to the capture or /dev/null, no secrets. Everything
 * else (user, directory, environment, limits, umask, nice) is the job's,
 * shared with p->jc: the copy is only read by spawn. */
static void jobcheck_config(const struct jobcheck_params *p, const struct pipeline *argv, struct job_config *jc) {
	*jc = *p->job.jc;
	jc->command = (char *) p->command;
	if (argv)
		jc->pipeline = *argv;
	jc->stdin_path = NULL;
	jc->stdout_spec = (struct output_spec) { .kind = p->job.output_fd >= 0 ? OUTPUT_LOG : OUTPUT_NULL };
	jc->stderr_spec = (struct output_spec) { .kind = OUTPUT_STDOUT };
	jc->secrets = NULL;
	jc->n_secrets = 0;
}

int jobcheck_start(sd_event *e, struct reaper *r, const struct jobcheck_params *p, struct jobcheck **ret,
		   char **error) {
	struct pipeline split = { 0 };
	const struct pipeline *argv = p->argv;
	struct spawn_result res;
	struct job_config jc;
	int k;

	*ret = NULL;
	*error = NULL;
	if (!p->job.jc->shell && !argv) {
		const char *why;
		if ((k = cmdline_split(p->command, &split, &why)) < 0)
			return fail(error, k, "%s", why);
		argv = &split;
	}
	jobcheck_config(p, p->job.jc->shell ? NULL : argv, &jc);

	struct jobcheck *c = xcalloc(1, sizeof(*c));
	c->watch = (struct child_watch) { .exited = on_exited, .abandoned = on_abandoned };
	c->done = p->done;
	c->userdata = p->userdata;
	/* the timeout counts from before the spawn, as a run's does */
	if (p->timeout > 0 && p->timeout != USEC_INFINITY) {
		usec_t now = now_usec(CLOCK_MONOTONIC);
		usec_t when = p->timeout < USEC_INFINITY - now ? now + p->timeout : USEC_INFINITY - 1;
		/* accuracy 1us, as job.c: 0 would be sd-event's 250ms */
		k = sd_event_add_time(e, &c->timer, CLOCK_MONOTONIC, when, 1, on_timeout, c);
		if (k < 0) {
			pipeline_free(&split);
			jobcheck_free(c);
			return fail(error, k, "cannot add a timer: %s", strerror(-k));
		}
	}
	struct spawn_cgroup cg = { .fd = p->job.cgroup ? p->job.cgroup->fd : -1,
				   .path = p->job.cgroup ? p->job.cgroup->path : NULL };
	k = spawn_run_in(&jc, p->job.name, p->job.instance, p->job.output_fd, NULL, 0, p->job.cgroup ? &cg : NULL,
			 SPAWN_NO_PRIVATE_ENV, &res);
	pipeline_free(&split);
	if (k < 0) {
		*error = TAKE_PTR(res.error);
		spawn_result_free(&res);
		jobcheck_free(c);
		return k;
	}
	c->pgid = res.pgid;
	c->n_stages = c->n_alive = res.n_stages;
	c->pids = xcalloc(res.n_stages, sizeof(pid_t));
	c->status = xcalloc(res.n_stages, sizeof(int));
	for (size_t i = 0; i < res.n_stages; i++) {
		c->pids[i] = res.pids[i];
		/* nothing is reaped before the loop runs again */
		reaper_watch(r, res.pids[i], &c->watch);
	}
	spawn_result_free(&res);
	*ret = c;
	return 0;
}

void jobcheck_cancel(struct jobcheck *c) {
	c->done = NULL;
	c->timer = sd_event_source_disable_unref(c->timer);
	kill_group(c);   /* the reaper frees c once they are reaped */
}

pid_t jobcheck_pgid(const struct jobcheck *c) {
	return c->pgid;
}

bool jobcheck_passed(int wait_status, bool timed_out) {
	return !timed_out && stage_passed(wait_status);
}

char *jobcheck_describe(int wait_status, bool timed_out, usec_t timeout) {
	if (timed_out) {
		_cleanup_free_ char *t = format_duration(timeout);
		return xasprintf("timed out after %s", t);
	}
	if (WIFSIGNALED(wait_status)) {
		const char *sig = signal_name(WTERMSIG(wait_status));
		return sig ? xasprintf("killed by %s", sig) : xasprintf("killed by signal %d", WTERMSIG(wait_status));
	}
	if (WIFEXITED(wait_status))
		return xasprintf("exited %d", WEXITSTATUS(wait_status));
	return xasprintf("ended with wait status %#x", (unsigned) wait_status);
}

int jobcheck_keep(struct jobcheck_kept *k, sd_event *e, struct reaper *r, const struct jobcheck_job *job,
		  const char *command, const char *what, char **error) {
	const char *why;
	int n;

	*k = (struct jobcheck_kept) { .output_fd = -1, .cgroup = job->cgroup, .run = job->run };
	if (!job->jc->shell && cmdline_split(command, &k->argv, &why) < 0) {
		*error = xasprintf("%s: %s", what, why);
		return -EINVAL;
	}
	k->event = sd_event_ref(e);
	k->reaper = r;
	k->jc = job_config_ref((struct job_config *) job->jc);
	k->name = xstrdup(job->name);
	k->instance = xstrdup(job->instance ? job->instance : "");
	k->command = xstrdup(command);
	if (job->output_fd >= 0 && (k->output_fd = fcntl(job->output_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		n = -errno;
		*error = xasprintf("cannot keep the log capture: %s", strerror(-n));
		jobcheck_release(k);
		return n;
	}
	return 0;
}

void jobcheck_release(struct jobcheck_kept *k) {
	if (k->output_fd >= 0)
		close(k->output_fd);
	pipeline_free(&k->argv);
	free(k->command);
	free(k->name);
	free(k->instance);
	job_config_unref(k->jc);
	sd_event_unref(k->event);
	*k = (struct jobcheck_kept) { .output_fd = -1 };
}

int jobcheck_start_kept(const struct jobcheck_kept *k, usec_t timeout, jobcheck_done_fn done, void *userdata,
			struct jobcheck **ret, char **error) {
	const struct jobcheck_params cp = {
		.job = { .jc = k->jc, .name = k->name, .instance = k->instance, .run = k->run,
			 .output_fd = k->output_fd, .cgroup = k->cgroup },
		.command = k->command,
		.argv = k->jc->shell ? NULL : &k->argv,
		.timeout = timeout,
		.done = done,
		.userdata = userdata,
	};
	return jobcheck_start(k->event, k->reaper, &cp, ret, error);
}
