/* SPDX-License-Identifier: ISC */
/* Choosing and preparing the cgroup supd uses, the sweep of what a supd
 * that died left in it, and the teardown (see cgroup.h). */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include "cgroup-limits.h"
#include "cgroup-mount.h"
#include "cgroup-private.h"
#include "cgroupfs.h"
#include "log.h"

#define MARK_XATTR "user.supd.state_dir"
/* how long startup waits for the killed leftovers of a dead supd to go */
#define SWEEP_WAIT_MSEC 3000

/* auto found nothing usable: say why and run without. */
static int none(const char *fmt, ...) _printf_(1, 2);
static int none(const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(cgroups_none_why, sizeof(cgroups_none_why), fmt, ap);
	va_end(ap);
	log_info("cgroup = auto: runs are not contained in cgroups: %s", cgroups_none_why);
	return 0;
}

/* The xattr name of dir is "1". */
static bool xattr_is_one(const char *dir, const char *name) {
	char v[8];
	ssize_t n = getxattr(dir, name, v, sizeof(v));

	return n == 1 && v[0] == '1';
}

static bool writable(const char *dir, const char *file) {
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	return access(p, W_OK) == 0;
}

/* SPEC §8's three ways supd's own cgroup may have been given to it; why
 * (for the log), or NULL. */
static const char *delegated(const char *dir, const char *self, const struct cgroup_mount *mnt) {
	struct stat st;

	if (xattr_is_one(dir, "trusted.delegate"))
		return "trusted.delegate = 1";
	if (xattr_is_one(dir, "user.delegate"))
		return "user.delegate = 1";
	if (geteuid() != 0 && stat(dir, &st) == 0 && st.st_uid == geteuid() && writable(dir, "cgroup.procs"))
		return "owned by supd's uid";
	if (getpid() == 1 && streq_ptr(self, "/") && !mnt->read_only && writable(dir, "cgroup.procs"))
		return "PID 1 at the root of a cgroup namespace";
	return NULL;
}

/* The deepest directory above (or at) both paths. */
static char *common_ancestor(const char *a, const char *b) {
	size_t i = 0, last = 0;

	for (; a[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			last = i;
	if ((!a[i] || a[i] == '/') && (!b[i] || b[i] == '/'))
		last = i;
	return xstrndup(a, last ? last : 1);
}

/* systemd's cgroup of a unit or slice is systemd's, never a PATH's. */
static bool is_unit_cgroup(const char *path) {
	static const char *const suffixes[] = { ".service", ".scope", ".slice", ".socket", ".mount", ".swap" };
	const char *base = strrchr(path, '/');
	size_t bl;

	base = base ? base + 1 : path;
	bl = strlen(base);
	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		size_t sl = strlen(suffixes[i]);
		if (bl > sl && strcmp(base + bl - sl, suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* Mark CGROUP as this state_dir's, and refuse one marked for another:
 * another supd uses it (its lock is on its own state_dir), and the sweep
 * would kill its runs. (systemd makes a unit's cgroup anew at each start,
 * so a supd.service is never refused for a state_dir it had before.) */
static int mark(int fd, const char *path, const char *state_dir, bool strict) {
	char v[4096];
	ssize_t n = fgetxattr(fd, MARK_XATTR, v, sizeof(v) - 1);

	if (n >= 0) {
		v[n] = '\0';
		if (streq_ptr(v, state_dir))
			return 0;
		if (strict)
			log_warnx("cgroup %s is marked (%s) for the state_dir %s, not %s: it is another supd's", path,
				  MARK_XATTR, v, state_dir);
		else
			(void) none("supd's cgroup %s is marked for the state_dir %s, not %s: another supd uses it",
				    path, v, state_dir);
		return -EBUSY;
	}
	if (fsetxattr(fd, MARK_XATTR, state_dir, strlen(state_dir), 0) < 0) {
		if (errno != EOPNOTSUPP)
			return log_error_errno(errno, "cannot mark cgroup %s (%s)", path, MARK_XATTR);
		log_warnx("cannot mark cgroup %s: this kernel has no user xattrs on cgroups", path);
	}
	return 0;
}

/* Move supd into CGROUP/supd: processes may only live in leaves. */
static int move_self(int fd, const char *path) {
	char pid[32];
	_cleanup_close_ int leaf = -1;

	if (mkdirat(fd, "supd", 0755) < 0 && errno != EEXIST)
		return -errno;
	leaf = openat(fd, "supd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (leaf < 0)
		return -errno;
	(void) snprintf(pid, sizeof(pid), "%d", (int) getpid());
	int r = cgroupfs_write(leaf, "cgroup.procs", pid);
	if (r >= 0)
		log_info("moved supd into %s/supd", path);
	return r;
}

/* ---- the sweep of a dead supd's leftovers ---- */

struct leftover {
	int events_fd;
	char rel[2 * NAME_MAX + 2];
	uint64_t run;
	bool gone;
};

/* A leftover of a delegated run is supd's again before it is removed
 * (cgroup_limits_undelegate()); one that was never delegated is root's
 * already. */
static void reclaim(int fd, const char *cgroup, const char *rel) {
	_cleanup_free_ char *path = xasprintf("%s/jobs/%s", cgroup, rel), *error = NULL;

	if (cgroup_limits_undelegate(fd, path, &error) < 0)
		log_warnx("%s", error);
}

/* Kill every run cgroup under CGROUP/jobs/j-NAME; list them. */
static void kill_job_dir(struct cgroups *m, const char *jname, struct leftover **v, size_t *n) {
	_cleanup_close_ int jfd = openat(m->jobs_fd, jname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dfd = jfd < 0 ? -1 : openat(jfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		uint64_t run = de->d_type == DT_DIR ? cgroup_name_parse_run(de->d_name, NULL) : 0;
		if (!run)
			continue;
		_cleanup_close_ int fd = openat(jfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		struct leftover *l = &(*v)[(*n)++];
		*l = (struct leftover) { .run = run };
		(void) snprintf(l->rel, sizeof(l->rel), "%s/%s", jname, de->d_name);
		l->events_fd = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
		if (l->events_fd >= 0 && cgroupfs_populated(l->events_fd) > 0) {
			log_warnx("killing the processes of %s/jobs/%s, left by a supd that died", m->path, l->rel);
			(void) cgroupfs_kill(fd);
		}
		reclaim(fd, m->path, l->rel);
	}
	closedir(d);
}

/* Wait (bounded: startup, before any job runs) until each is empty; poll
 * on cgroup.events, as the event loop is not running yet. */
static void wait_empty(struct leftover *v, size_t n) {
	struct pollfd *p = xcalloc(n ? n : 1, sizeof(*p));
	usec_t end = now_usec(CLOCK_MONOTONIC) + SWEEP_WAIT_MSEC * USEC_PER_MSEC;

	for (;;) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (!v[i].gone && (v[i].events_fd < 0 || cgroupfs_populated(v[i].events_fd) <= 0))
				v[i].gone = true;
			if (!v[i].gone)
				p[k++] = (struct pollfd) { .fd = v[i].events_fd, .events = POLLPRI };
		}
		usec_t now = now_usec(CLOCK_MONOTONIC);
		if (k == 0 || now >= end)
			break;
		if (poll(p, k, (int) ((end - now) / USEC_PER_MSEC) + 1) < 0 && errno != EINTR)
			break;
	}
	free(p);
}

static void sweep(struct cgroups *m) {
	int dfd = openat(m->jobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct leftover *v = NULL;
	size_t n = 0, removed = 0;
	char **jdirs = NULL;
	struct dirent *de;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && strncmp(de->d_name, "j-", 2) == 0) {
			kill_job_dir(m, de->d_name, &v, &n);
			jdirs = strv_push(jdirs, de->d_name);
		}
	closedir(d);
	wait_empty(v, n);
	for (size_t i = 0; i < n; i++) {
		struct leftover *l = &v[i];
		if (l->gone && cgroupfs_remove(m->jobs_fd, l->rel) == 0) {
			removed++;
		} else if (!l->gone) {
			/* kept like a run's: swept once empty, its job held back */
			struct cgroup_run *c = xcalloc(1, sizeof(*c));
			*c = (struct cgroup_run) { .m = m, .run = l->run, .events_fd = TAKE_FD(l->events_fd),
						   .memory_events_fd = -1 };
			(void) snprintf(c->rel, sizeof(c->rel), "%s", l->rel);
			(void) snprintf(c->jname, sizeof(c->jname), "%.*s", (int) strcspn(l->rel, "/"), l->rel);
			c->path = xasprintf("%s/jobs/%s", m->path, l->rel);
			c->fd = openat(m->jobs_fd, l->rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			log_warnx("processes left in %s after SIGKILL: kept until they are gone", c->path);
			cgroup_run_keep(c);
		}
		if (l->events_fd >= 0)
			close(l->events_fd);
	}
	if (removed)
		log_info("removed %zu cgroups of runs of a supd that died", removed);
	free(v);
	/* made again when their jobs run, with today's controllers */
	for (size_t i = 0; jdirs && jdirs[i]; i++)
		(void) unlinkat(m->jobs_fd, jdirs[i], AT_REMOVEDIR);
	strv_free(jdirs);
}

/* ---- setup ---- */

/* Controllers for jobs: memory for accounting (memory.peak), and what the
 * keys of the configuration need (more are enabled when a run needs them). */
static unsigned wanted_controllers(const struct supd_config *c) {
	unsigned mask = CGROUP_MASK(CGROUP_MEMORY);

	for (size_t i = 0; i < c->n_jobs; i++)
		mask |= cgroup_limits_needs(c->jobs[i], NULL);
	return mask;
}

static int finish_setup(struct cgroups *m, const struct supd_config *c, bool sweep_leftovers) {
	char text[512];

	if (mkdirat(m->fd, "jobs", 0755) < 0 && errno != EEXIST)
		return log_error_errno(errno, "cannot create cgroup %s/jobs", m->path);
	m->jobs_fd = openat(m->fd, "jobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->jobs_fd < 0)
		return log_error_errno(errno, "cannot open cgroup %s/jobs", m->path);
	if (cgroupfs_read(m->fd, "cgroup.controllers", text, sizeof(text)) >= 0)
		m->available = cgroup_controllers_parse(text);
	int r = cgroups_enable(m, wanted_controllers(c));
	if (r < 0)
		log_warnx("cannot enable controllers in %s: %s%s", m->path, strerror(-r),
			  r == -EBUSY ? " (processes other than supd are in it)" : "");
	if (sweep_leftovers)
		sweep(m);
	else
		log_warnx("the state_dir is not locked: leftovers of another supd in %s/jobs are not swept", m->path);
	cgroup_controllers_format(m->enabled, text, sizeof(text));
	log_info("runs are contained in cgroups under %s/jobs (controllers: %s)", m->path,
		 m->enabled ? text : "none; no limits, no memory accounting");
	return 0;
}

static void manager_free(struct cgroups *m) {
	if (!m)
		return;
	while (m->kept) {
		struct cgroup_run *c = m->kept;
		m->kept = c->next;
		log_warnx("cgroup %s still holds processes left after SIGKILL", c->path);
		sd_event_source_disable_unref(c->events_source);
		if (c->events_fd >= 0)
			close(c->events_fd);
		if (c->fd >= 0)
			close(c->fd);
		free(c->job);
		free(c->path);
		free(c);
	}
	if (m->jobs_fd >= 0)
		close(m->jobs_fd);
	if (m->fd >= 0)
		close(m->fd);
	if (m->root_fd >= 0)
		close(m->root_fd);
	sd_event_unref(m->event);
	free(m->path);
	free(m);
}

int cgroups_setup(const struct supd_config *c, const char *state_dir, bool sweep_leftovers, sd_event *e,
		  struct cgroups **ret) {
	struct cgroup_mount mnt = { 0 };
	_cleanup_free_ char *self = NULL, *own = NULL;
	const char *mark_as = state_dir ? state_dir : "";
	bool strict = c->cgroup_mode == CGROUP_MODE_PATH, is_own;
	struct stat st, st_own;
	struct statfs sf;
	int r;

	*ret = NULL;
	if (c->cgroup_mode == CGROUP_MODE_OFF) {
		(void) snprintf(cgroups_none_why, sizeof(cgroups_none_why), "cgroup = off");
		log_info("cgroup = off: runs are contained by their process group only");
		return 0;
	}
	r = cgroup_mount_find(&mnt);
	if (r < 0 && !strict)
		return none("no cgroup v2 hierarchy in /proc/self/mountinfo");
	if (r < 0)
		return log_error_errno(r, "cgroup = %s: no cgroup v2 hierarchy in /proc/self/mountinfo", c->cgroup_path);
	if (cgroup_self_find(&self) >= 0)
		own = cgroup_mount_dir(&mnt, self);

	struct cgroups *m = xcalloc(1, sizeof(*m));
	m->fd = m->jobs_fd = m->root_fd = -1;
	m->event = sd_event_ref(e);
	m->root_fd = open(mnt.point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (strict) {
		m->path = xstrdup(c->cgroup_path);
		m->fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->fd < 0)
			r = log_error_errno(errno, "cgroup = %s", m->path);
		else if (fstatfs(m->fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
			r = log_error_errno(ENOTDIR, "cgroup = %s: not a directory of the cgroup v2 hierarchy (%s)",
					    m->path, mnt.point);
		else if (is_unit_cgroup(m->path))
			r = log_error_errno(EPERM, "cgroup = %s: systemd's cgroup of a unit is systemd's (use "
					    "Delegate=yes and cgroup = auto, or a directory below it)", m->path);
		is_own = r >= 0 && own && stat(own, &st_own) == 0 && fstat(m->fd, &st) == 0 &&
			 st.st_dev == st_own.st_dev && st.st_ino == st_own.st_ino;
	} else {
		const char *why = own ? delegated(own, self, &mnt) : NULL;
		if (!own || !why) {
			manager_free(m);
			cgroup_mount_done(&mnt);
			return own ? none("supd's cgroup %s is not delegated to it (no trusted.delegate or user.delegate "
					  "= 1, not owned by supd's uid, supd is not PID 1 of a cgroup namespace); "
					  "Delegate=yes or cgroup = PATH give it one", own)
				   : none("supd's cgroup %s is not visible under %s", self ? self : "?", mnt.point);
		}
		m->path = TAKE_PTR(own);
		m->fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->fd < 0)
			r = log_error_errno(errno, "cannot open cgroup %s", m->path);
		else
			log_info("cgroup = auto: using supd's own cgroup %s (%s)", m->path, why);
		is_own = true;
	}
	cgroup_mount_done(&mnt);
	if (r >= 0 && (r = mark(m->fd, m->path, mark_as, strict)) == -EBUSY && !strict) {
		manager_free(m);
		return 0;   /* none(), said why */
	}
	if (r >= 0 && is_own && (r = move_self(m->fd, m->path)) < 0)
		r = log_error_errno(r, "cannot move supd into %s/supd", m->path);
	if (r >= 0 && strict) {
		/* only CGROUP's own processes count: those below are leftovers */
		char own_procs[64];
		_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", m->path);
		if (cgroupfs_read(m->fd, "cgroup.procs", own_procs, sizeof(own_procs)) > 0)
			r = log_error_errno(EBUSY, "cgroup = %s holds processes (pid %ld): it must be empty at start",
					    m->path, strtol(own_procs, NULL, 10));
		else if (geteuid() != 0 && access(procs, W_OK) < 0)
			r = log_error_errno(errno, "cgroup = %s: supd cannot move processes there", m->path);
		else if (geteuid() != 0 && own && !is_own) {
			/* the kernel wants the common ancestor's cgroup.procs writable too */
			_cleanup_free_ char *anc = common_ancestor(own, m->path);
			if (!writable(anc, "cgroup.procs"))
				r = log_error_errno(EACCES, "cgroup = %s: supd cannot move processes there from %s "
						    "(%s/cgroup.procs is not writable)", m->path, own, anc);
		}
	}
	if (r >= 0)
		r = finish_setup(m, c, sweep_leftovers);
	if (r < 0) {
		manager_free(m);
		if (!strict)
			return none("cannot use supd's own cgroup: %s", strerror(-r));
		return r;
	}
	*ret = m;
	return 0;
}

/* Remove the job directories and CGROUP/jobs when empty. */
void cgroups_free(struct cgroups *m) {
	if (!m)
		return;
	int dfd = openat(m->jobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_type == DT_DIR && strncmp(de->d_name, "j-", 2) == 0)
			(void) unlinkat(m->jobs_fd, de->d_name, AT_REMOVEDIR);
	if (d)
		closedir(d);
	else if (dfd >= 0)
		close(dfd);
	if (!m->kept)
		(void) unlinkat(m->fd, "jobs", AT_REMOVEDIR);
	manager_free(m);
}

/* ---- a recorded run's cgroup ---- */

int cgroups_reap_recorded(const char *path, uint64_t run, const char *state_dir) {
	char kind, v[4096];
	_cleanup_free_ char *copy = xstrdup(path);
	char *cut[3];

	/* .../jobs/j-NAME/r-RUN: three components up is the marked CGROUP */
	for (int i = 0; i < 3; i++) {
		cut[i] = strrchr(copy, '/');
		if (!cut[i] || cut[i] == copy)
			return 0;
		*cut[i] = '\0';
	}
	if (cgroup_name_parse_run(cut[0] + 1, &kind) != run || kind != 'r' || strncmp(cut[1] + 1, "j-", 2) != 0 ||
	    strcmp(cut[2] + 1, "jobs") != 0)
		return 0;
	ssize_t n = getxattr(copy, MARK_XATTR, v, sizeof(v) - 1);
	if (n < 0 || (v[n] = '\0', !streq_ptr(v, state_dir)))
		return 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct leftover l = { .events_fd = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC), .run = run };
	log_warnx("killing the processes of %s, a run of a supd that died", path);
	(void) cgroupfs_kill(fd);
	_cleanup_free_ char *error = NULL;
	if (cgroup_limits_undelegate(fd, path, &error) < 0)
		log_warnx("%s", error);
	wait_empty(&l, 1);
	if (l.events_fd >= 0)
		close(l.events_fd);
	*cut[1] = *cut[2] = '/';   /* copy is the run's parent, .../jobs/j-NAME */
	_cleanup_close_ int parent = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent >= 0 && l.gone)
		(void) cgroupfs_remove(parent, cut[0] + 1);
	return 1;
}
