/* SPDX-License-Identifier: ISC */
/* The cgroups of runs (see cgroup.h); choosing and preparing CGROUP is in
 * cgroup-setup.c. */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include "cgroup-limits.h"
#include "cgroup-private.h"
#include "cgroupfs.h"
#include "log.h"

char cgroups_none_why[512] = "cgroup = off";

const char *cgroups_none_reason(void) {
	return cgroups_none_why;
}

int cgroups_enable(struct cgroups *m, unsigned mask) {
	char ctl[128];
	int r;

	mask &= m->available;
	if (!mask)
		return 0;
	cgroup_controllers_format(mask, ctl, sizeof(ctl));
	r = cgroupfs_write(m->fd, "cgroup.subtree_control", ctl);
	if (r >= 0)
		r = cgroupfs_write(m->jobs_fd, "cgroup.subtree_control", ctl);
	if (r >= 0)
		m->enabled |= mask;
	return r;
}

const char *cgroups_path(const struct cgroups *m) {
	return m ? m->path : NULL;
}

const char *cgroup_run_path(const struct cgroup_run *c) {
	return c->path;
}

int cgroup_run_fd(const struct cgroup_run *c) {
	return c->fd;
}

static void run_free(struct cgroup_run *c) {
	if (!c)
		return;
	sd_event_source_disable_unref(c->events_source);
	sd_event_source_disable_unref(c->oom_source);
	if (c->events_fd >= 0)
		close(c->events_fd);
	if (c->memory_events_fd >= 0)
		close(c->memory_events_fd);
	if (c->fd >= 0)
		close(c->fd);
	free(c->job);
	free(c->path);
	free(c);
}

static uint64_t oom_kills(int memory_events_fd) {
	char buf[512];
	uint64_t v = 0;
	ssize_t n = pread(memory_events_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	(void) cgroupfs_parse_key(buf, "oom_kill", &v);
	return v;
}

/* cgroup.events changed: read it (which re-arms EPOLLPRI), then tell the
 * owner, last: it may end c. */
static int on_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct cgroup_run *c = userdata;

	(void) cgroupfs_populated(fd);
	if (c->ev && c->ev->changed)
		c->ev->changed(c->userdata);
	return 0;
}

static int on_memory_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct cgroup_run *c = userdata;
	uint64_t n = oom_kills(fd);

	if (n <= c->oom_kills)
		return 0;
	c->oom_kills = n;
	if (c->ev && c->ev->oom)
		c->ev->oom(c->userdata);
	return 0;
}

static int fail(struct cgroup_run *c, int err, char **error, const char *fmt, ...) _printf_(4, 5);
static int fail(struct cgroup_run *c, int err, char **error, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	*error = xvasprintf(fmt, ap);
	va_end(ap);
	run_free(c);
	return err > 0 ? -err : err;
}

/* Is a kept cgroup of the same job still holding processes? (One the
 * startup sweep found names no job: it holds its whole directory back.) */
static const struct cgroup_run *kept_of(const struct cgroups *m, const char *job, const char *jname) {
	for (const struct cgroup_run *k = m->kept; k; k = k->next)
		if (k->job ? strcmp(k->job, job) == 0 : strcmp(k->jname, jname) == 0)
			return k;
	return NULL;
}

/* The job's directory, and a controller mask enabled in it for the run.
 * The last one made or found is not looked up again (a restarting service,
 * a job run again and again). */
static int job_dir(struct cgroups *m, struct cgroup_run *c, unsigned needs, char **error) {
	char ctl[128];
	bool known = strcmp(m->last_jname, c->jname) == 0;
	bool fresh = !known && mkdirat(m->jobs_fd, c->jname, 0755) == 0;

	if (!known && !fresh && errno != EEXIST)
		return -errno;
	if (!known)
		(void) snprintf(m->last_jname, sizeof(m->last_jname), "%s", c->jname);
	/* a new one gets what CGROUP/jobs has (memory accounting), one the
	 * run's keys need is checked each time (cheap: written only then) */
	if ((fresh && m->enabled) || needs) {
		_cleanup_close_ int fd = openat(m->jobs_fd, c->jname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cgroup_controllers_format(needs ? needs | m->enabled : m->enabled, ctl, sizeof(ctl));
		int r = fd < 0 ? -errno : cgroupfs_write(fd, "cgroup.subtree_control", ctl);
		if (r < 0 && needs) {
			*error = xasprintf("cannot enable %s in %s/jobs/%s/cgroup.subtree_control: %s", ctl, m->path,
					   c->jname, strerror(-r));
			return r;
		}
		if (r < 0)
			log_debug("cannot enable %s for %s: %s", ctl, c->jname, strerror(-r));
	}
	return 0;
}

static int run_create(struct cgroups *m, const char *name, uint64_t run, char kind, const struct job_config *jc,
		      unsigned needs, const struct cgroup_run_events *ev, void *userdata, struct cgroup_run **ret,
		      char **error) {
	struct cgroup_run *c = xcalloc(1, sizeof(*c));
	char rn[CGROUP_NAME_MAX + 1];
	const struct cgroup_run *k;
	int r;

	c->m = m;
	c->run = run;
	c->kind = kind;
	c->fd = c->events_fd = c->memory_events_fd = -1;
	c->ev = ev;
	c->userdata = userdata;
	c->job = xstrdup(name);
	/* one directory for a job and all its instances ("enc" of "enc@a.bin"):
	 * room for limits over all of them, and a batch of 10,000 instances
	 * makes one directory, not 10,000 */
	_cleanup_free_ char *base = xstrndup(name, strcspn(name, "@"));
	cgroup_name_job(base, c->jname);
	cgroup_name_run(kind, run, rn);
	(void) snprintf(c->rel, sizeof(c->rel), "%s/%s", c->jname, rn);
	c->path = xasprintf("%s/jobs/%s", m->path, c->rel);
	if ((k = kept_of(m, name, c->jname)))
		return fail(c, EBUSY, error, "processes of run %" PRIu64 " are still in %s after SIGKILL; %s starts "
			    "again once they are gone", k->run, k->path, name);
	*error = NULL;
	for (int attempt = 0;; attempt++) {
		if ((r = job_dir(m, c, needs, error)) < 0) {
			if (*error) {
				_cleanup_free_ char *e = TAKE_PTR(*error);
				return fail(c, r, error, "%s", e);
			}
			return fail(c, r, error, "cannot create cgroup %s/jobs/%s: %s", m->path, c->jname, strerror(-r));
		}
		if (mkdirat(m->jobs_fd, c->rel, 0755) == 0)
			break;
		if (errno != ENOENT || attempt > 0)
			return fail(c, errno, error, "cannot create cgroup %s: %s", c->path, strerror(errno));
		m->last_jname[0] = '\0';   /* the job's directory was removed behind supd's back: again */
	}
	c->fd = openat(m->jobs_fd, c->rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->fd < 0) {
		r = -errno;
		(void) unlinkat(m->jobs_fd, c->rel, AT_REMOVEDIR);
		return fail(c, r, error, "cannot open cgroup %s: %s", c->path, strerror(-r));
	}
	if (jc && (r = cgroup_limits_apply(c->fd, c->path, jc, error)) < 0)
		goto undo;
	c->delegated = jc && jc->delegate;
	if (ev && jc && jc->oom_policy == OOM_STOP) {
		c->memory_events_fd = openat(c->fd, "memory.events", O_RDONLY | O_CLOEXEC);
		r = c->memory_events_fd < 0 ? -errno : sd_event_add_io(m->event, &c->oom_source, c->memory_events_fd,
									 EPOLLPRI, on_memory_events, c);
		if (r < 0) {
			*error = xasprintf("oom_policy = stop: cannot watch %s/memory.events: %s", c->path, strerror(-r));
			goto undo;
		}
		c->oom_kills = oom_kills(c->memory_events_fd);
	}
	*ret = c;
	return 0;
undo:
	(void) unlinkat(m->jobs_fd, c->rel, AT_REMOVEDIR);
	run_free(c);
	return r;
}

int cgroup_run_new(struct cgroups *m, const char *name, uint64_t run, const struct job_config *jc,
		   const struct cgroup_run_events *ev, void *userdata, struct cgroup_run **ret, char **error) {
	const char *keys[_CGROUP_CONTROLLER_MAX];
	unsigned needs = cgroup_limits_needs(jc, keys);

	*ret = NULL;
	if (!m) {
		const char *key = job_config_cgroup_key(jc);
		if (!key)
			return 0;
		*error = xasprintf("%s needs a cgroup, and supd runs without one (%s)", key, cgroups_none_reason());
		return -EOPNOTSUPP;
	}
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		if (!(needs & ~m->enabled & CGROUP_MASK(c)))
			continue;
		const char *ctl = cgroup_controller_to_string((enum cgroup_controller) c);
		if (!(m->available & CGROUP_MASK(c))) {
			*error = xasprintf("%s needs the %s controller in %s", keys[c], ctl, m->path);
			return -EOPNOTSUPP;
		}
		int r = cgroups_enable(m, CGROUP_MASK(c));
		if (r < 0) {
			*error = xasprintf("%s needs the %s controller in %s, which cannot be enabled: %s", keys[c], ctl,
					   m->path, strerror(-r));
			return r;
		}
	}
	int r = run_create(m, name, run, 'r', jc, needs, ev, userdata, ret, error);
	/* written, but only BFQ or io.cost act on it */
	if (r >= 0 && jc->io_weight.set && !cgroup_limits_io_weight_effective(m->root_fd))
		log_job(LOG_WARNING, name, run, -1, -1, "io_weight has no effect here: no block device uses the "
			"BFQ scheduler or has io.cost enabled");
	return r;
}

int cgroup_check_create(struct cgroups *m, const char *name, uint64_t run, struct cgroup_run **ret, char **error) {
	*ret = NULL;
	return m ? run_create(m, name, run, 'c', NULL, 0, NULL, NULL, ret, error) : 0;
}

/* cgroup.events, opened when first asked: a run that ends with its last
 * stage costs no watch (two wakeups and an fd less per run). */
static int events_fd(struct cgroup_run *c) {
	if (c->events_fd < 0)
		c->events_fd = openat(c->fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	return c->events_fd;
}

static void read_usage(struct cgroup_run *c, struct cgroup_usage *u);

bool cgroup_run_populated(struct cgroup_run *c) {
	if (c->removed)
		return false;
	/* a run asks when its stages are gone: almost always nothing else is
	 * left, and then its cgroup can go at once (what it counted is kept
	 * for cgroup_run_usage()); rmdir fails with EBUSY while it is populated */
	if (c->kind == 'r' && !c->events_source) {
		read_usage(c, &c->usage);
		if (unlinkat(c->m->jobs_fd, c->rel, AT_REMOVEDIR) == 0) {
			c->removed = true;
			return false;
		}
	}
	/* an error: the run ends, and cgroup_run_end() finds out */
	int fd = events_fd(c);
	if (fd < 0 || cgroupfs_populated(fd) <= 0)
		return false;
	/* populated: from now on its owner hears when that changes (the read
	 * above re-armed EPOLLPRI, so a change since is reported at once) */
	if (c->ev && !c->events_source) {
		int r = sd_event_add_io(c->m->event, &c->events_source, fd, EPOLLPRI, on_events, c);
		if (r < 0)   /* the run then ends at stop_timeout, "processes left" */
			log_warnx("cannot watch %s/cgroup.events: %s", c->path, strerror(-r));
	}
	return true;
}

int cgroup_run_signal(struct cgroup_run *c, int sig, pid_t skip_pgid, bool and_continue) {
	if (sig == SIGKILL) {
		int r = cgroupfs_kill(c->fd);
		return r < 0 ? r : 1;
	}
	return cgroupfs_signal(c->fd, sig, skip_pgid, and_continue);
}

void cgroup_run_usage(struct cgroup_run *c, struct cgroup_usage *u) {
	if (c->removed)
		*u = c->usage;
	else
		read_usage(c, u);
}

static void read_usage(struct cgroup_run *c, struct cgroup_usage *u) {
	char buf[1024];
	uint64_t v;

	*u = (struct cgroup_usage) { .memory_peak_kb = -1, .oom_killed = -1 };
	if (cgroupfs_read(c->fd, "cpu.stat", buf, sizeof(buf)) > 0)
		u->cpu = cgroupfs_parse_key(buf, "user_usec", &u->cpu_user) == 0 &&
			 cgroupfs_parse_key(buf, "system_usec", &u->cpu_sys) == 0;
	if (!(c->m->enabled & CGROUP_MASK(CGROUP_MEMORY)))
		return;
	/* memory.peak is there from Linux 5.19 */
	if (cgroupfs_read(c->fd, "memory.peak", buf, sizeof(buf)) > 0) {
		errno = 0;
		v = strtoull(buf, NULL, 10);
		if (errno == 0)
			u->memory_peak_kb = (long) (v / 1024);
	}
	if (cgroupfs_read(c->fd, "memory.events", buf, sizeof(buf)) > 0 && cgroupfs_parse_key(buf, "oom_kill", &v) == 0)
		u->oom_killed = v > 0;
}

void cgroup_run_end(struct cgroup_run *c) {
	if (!c)
		return;
	c->ev = NULL;   /* its owner is done with it */
	sd_event_source_disable_unref(TAKE_PTR(c->events_source));
	sd_event_source_disable_unref(TAKE_PTR(c->oom_source));
	if (c->delegated && !c->removed) {
		/* supd's again before the walk: its user cannot outrun it */
		_cleanup_free_ char *error = NULL;
		if (cgroup_limits_undelegate(c->fd, c->path, &error) < 0)
			log_warnx("%s", error);
	}
	int r = c->removed ? 0 : cgroupfs_remove(c->m->jobs_fd, c->rel);
	if (r == -EBUSY && cgroupfs_populated(events_fd(c)) > 0) {
		(void) cgroupfs_kill(c->fd);
		cgroup_run_keep(c);
		return;
	}
	if (r < 0 && r != -ENOENT)
		log_warnx("cannot remove cgroup %s: %s", c->path, strerror(-r));
	run_free(c);
}

/* A kept cgroup's events: once empty it holds its job back no more, and
 * is removed (or, if that fails, left to the sweep of the next start). */
static int on_kept_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct cgroup_run *c = userdata;
	struct cgroups *m = c->m;

	if (cgroupfs_populated(fd) != 0)
		return 0;
	int r = cgroupfs_remove(m->jobs_fd, c->rel);
	if (r < 0 && r != -ENOENT)
		log_warnx("the processes left in cgroup %s are gone, but it cannot be removed: %s", c->path, strerror(-r));
	else
		log_info("removed cgroup %s: the processes left in it are gone", c->path);
	for (struct cgroup_run **p = &m->kept; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			m->n_kept--;
			break;
		}
	run_free(c);
	return 0;
}

void cgroup_run_keep(struct cgroup_run *c) {
	struct cgroups *m = c->m;
	int r;

	c->ev = NULL;
	sd_event_source_disable_unref(TAKE_PTR(c->events_source));
	r = events_fd(c) < 0 ? -errno : sd_event_add_io(m->event, &c->events_source, c->events_fd, EPOLLPRI,
							 on_kept_events, c);
	if (r < 0)   /* swept by the next supd that starts */
		log_warnx("cannot watch cgroup %s: %s; it is kept", c->path, strerror(-r));
	c->next = m->kept;
	m->kept = c;
	m->n_kept++;
	/* it may have emptied before the watch was there */
	if (r >= 0 && cgroupfs_populated(c->events_fd) == 0)
		(void) on_kept_events(c->events_source, c->events_fd, EPOLLPRI, c);
}
