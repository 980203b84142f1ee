/* SPDX-License-Identifier: ISC */
/* Cgroup keys as cgroup files (see cgroup-limits.h). */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "cgroup-limits.h"
#include "cgroupfs.h"
#include "userdb.h"

static const char *const controller_names[_CGROUP_CONTROLLER_MAX] = {
	[CGROUP_CPU] = "cpu",
	[CGROUP_IO] = "io",
	[CGROUP_MEMORY] = "memory",
	[CGROUP_PIDS] = "pids",
};

const char *cgroup_controller_to_string(enum cgroup_controller c) {
	return (unsigned) c < _CGROUP_CONTROLLER_MAX ? controller_names[c] : NULL;
}

unsigned cgroup_controllers_parse(const char *text) {
	unsigned mask = 0;

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, " \n");
		for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
			if (n == strlen(controller_names[c]) && strncmp(p, controller_names[c], n) == 0)
				mask |= CGROUP_MASK(c);
		p += n;
		p += strspn(p, " \n");
	}
	return mask;
}

void cgroup_controllers_format(unsigned mask, char *buf, size_t size) {
	size_t len = 0;

	buf[0] = '\0';
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		if (mask & CGROUP_MASK(c)) {
			int n = snprintf(buf + len, size - len, "%s+%s", len ? " " : "", controller_names[c]);
			if (n < 0 || (size_t) n >= size - len)
				return;
			len += (size_t) n;
		}
}

/* Each key: the field it sets and the controller it needs. */
static void need(unsigned *mask, const char **keys, enum cgroup_controller c, bool set, const char *key) {
	if (!set)
		return;
	if (keys && !keys[c])
		keys[c] = key;
	*mask |= CGROUP_MASK(c);
}

unsigned cgroup_limits_needs(const struct job_config *jc, const char *keys[_CGROUP_CONTROLLER_MAX]) {
	unsigned mask = 0;

	if (keys)
		for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
			keys[c] = NULL;
	need(&mask, keys, CGROUP_MEMORY, jc->memory_max.set, "memory_max");
	need(&mask, keys, CGROUP_MEMORY, jc->memory_swap_max.set, "memory_swap_max");
	need(&mask, keys, CGROUP_PIDS, jc->pids_max.set, "pids_max");
	need(&mask, keys, CGROUP_CPU, jc->cpu_max.set, "cpu_max");
	need(&mask, keys, CGROUP_CPU, jc->cpu_weight.set, "cpu_weight");
	need(&mask, keys, CGROUP_IO, jc->io_weight.set, "io_weight");
	need(&mask, keys, CGROUP_MEMORY, jc->oom_policy != OOM_CONTINUE, "oom_policy");
	return mask;
}

static void format_value(const struct cgroup_value *v, char *buf, size_t size) {
	if (v->v == CGROUP_VALUE_MAX)
		(void) snprintf(buf, size, "max");
	else
		(void) snprintf(buf, size, "%" PRIu64, v->v);
}

/* An io weight of 1..10000 on BFQ's scale of 1..1000, 100 staying 100
 * (as systemd maps IOWeight= to io.bfq.weight). */
static uint64_t bfq_weight(uint64_t w) {
	return w <= 100 ? w : 100 + (w - 100) * 900 / 9900;
}

static int put(int dirfd, const char *path, const char *key, const char *file, const char *value, char **error) {
	int r = cgroupfs_write(dirfd, file, value);

	if (r < 0)
		*error = xasprintf("%s: cannot write %s to %s/%s: %s", key, value, path, file,
				   r == -ENOENT ? "no such file (is the controller enabled?)" : strerror(-r));
	return r;
}

/* The files delegation hands over (/sys/kernel/cgroup/delegate) to
 * uid:gid. */
static int chown_delegated_files(int dirfd, const char *path, uid_t uid, gid_t gid, char **error) {
	char list[1024];

	if (cgroupfs_read(AT_FDCWD, "/sys/kernel/cgroup/delegate", list, sizeof(list)) <= 0)
		snprintf(list, sizeof(list), "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
	for (char *f = strtok(list, "\n"); f; f = strtok(NULL, "\n"))
		if (fchownat(dirfd, f, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT) {
			int r = -errno;
			*error = xasprintf("cannot chown %s/%s: %s", path, f, strerror(errno));
			return r;
		}
	return 0;
}

/* delegate = true: the cgroup and the files that delegation hands over
 * (/sys/kernel/cgroup/delegate) belong to the job's user, and
 * user.delegate = 1 tells a nested manager it may use it. */
static int delegate(int dirfd, const char *path, const struct job_config *jc, char **error) {
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char list[1024];
	int r;

	if (jc->user) {
		struct passwd *pw;
		if ((r = userdb_user(jc->user, &pw)) < 0) {
			*error = xasprintf("delegate: user %s: %s", jc->user, r == -ESRCH ? "unknown user" : strerror(-r));
			return r;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (jc->group) {
		struct group *gr;
		if ((r = userdb_group(jc->group, &gr)) < 0) {
			*error = xasprintf("delegate: group %s: %s", jc->group, r == -ESRCH ? "unknown group" : strerror(-r));
			return r;
		}
		gid = gr->gr_gid;
	}
	/* the user's sub-cgroups stay within the depth supd's signal, kill
	 * and remove walk (cgroupfs.h): one deeper would be out of reach of
	 * stop_signal and keep the run's cgroup from being removed */
	(void) snprintf(list, sizeof(list), "%d", CGROUPFS_DEPTH_MAX);
	if ((r = cgroupfs_write(dirfd, "cgroup.max.depth", list)) < 0) {
		*error = xasprintf("delegate: cannot write %s/cgroup.max.depth: %s", path, strerror(-r));
		return r;
	}
	/* and so many of them in all: each costs the stop and removal walks */
	(void) snprintf(list, sizeof(list), "%d", CGROUPFS_DESCENDANTS_MAX);
	if ((r = cgroupfs_write(dirfd, "cgroup.max.descendants", list)) < 0) {
		*error = xasprintf("delegate: cannot write %s/cgroup.max.descendants: %s", path, strerror(-r));
		return r;
	}
	if (fchown(dirfd, uid, gid) < 0) {
		r = -errno;
		*error = xasprintf("delegate: cannot chown %s: %s", path, strerror(errno));
		return r;
	}
	if ((r = chown_delegated_files(dirfd, path, uid, gid, error)) < 0) {
		_cleanup_free_ char *e = TAKE_PTR(*error);
		*error = xasprintf("delegate: %s", e);
		return r;
	}
	if (fsetxattr(dirfd, "user.delegate", "1", 1, 0) < 0) {
		r = -errno;
		*error = xasprintf("delegate: cannot set user.delegate on %s: %s", path, strerror(errno));
		return r;
	}
	return 0;
}

int cgroup_limits_undelegate(int dirfd, const char *path, char **error) {
	/* the directories first: from the top down, each closed to the user
	 * before the walk looks into it */
	int r = cgroupfs_chown_tree(dirfd, geteuid(), getegid());

	if (r < 0) {
		*error = xasprintf("cannot chown %s and its sub-cgroups back: %s", path, strerror(-r));
		return r;
	}
	return chown_delegated_files(dirfd, path, geteuid(), getegid(), error);
}

int cgroup_limits_apply(int dirfd, const char *path, const struct job_config *jc, char **error) {
	char v[64];
	int r = 0;

	if (jc->memory_max.set) {
		format_value(&jc->memory_max, v, sizeof(v));
		if ((r = put(dirfd, path, "memory_max", "memory.max", v, error)) < 0)
			return r;
	}
	if (jc->memory_swap_max.set) {
		format_value(&jc->memory_swap_max, v, sizeof(v));
		if ((r = put(dirfd, path, "memory_swap_max", "memory.swap.max", v, error)) < 0)
			return r;
	}
	if (jc->oom_policy == OOM_KILL && (r = put(dirfd, path, "oom_policy", "memory.oom.group", "1", error)) < 0)
		return r;
	if (jc->pids_max.set) {
		format_value(&jc->pids_max, v, sizeof(v));
		if ((r = put(dirfd, path, "pids_max", "pids.max", v, error)) < 0)
			return r;
	}
	if (jc->cpu_max.set) {
		format_value(&jc->cpu_max, v, sizeof(v));
		strcat(v, " 100000");   /* the period of cpu_max's percentage */
		if ((r = put(dirfd, path, "cpu_max", "cpu.max", v, error)) < 0)
			return r;
	}
	if (jc->cpu_weight.set) {
		format_value(&jc->cpu_weight, v, sizeof(v));
		if ((r = put(dirfd, path, "cpu_weight", "cpu.weight", v, error)) < 0)
			return r;
	}
	if (jc->io_weight.set) {
		(void) snprintf(v, sizeof(v), "default %" PRIu64, jc->io_weight.v);
		if ((r = put(dirfd, path, "io_weight", "io.weight", v, error)) < 0)
			return r;
		/* BFQ has a file (and a scale) of its own */
		(void) snprintf(v, sizeof(v), "default %" PRIu64, bfq_weight(jc->io_weight.v));
		r = cgroupfs_write(dirfd, "io.bfq.weight", v);
		if (r < 0 && r != -ENOENT) {
			*error = xasprintf("io_weight: cannot write %s to %s/io.bfq.weight: %s", v, path, strerror(-r));
			return r;
		}
	}
	if (jc->delegate && (r = delegate(dirfd, path, jc, error)) < 0)
		return r;
	return 0;
}

/* "[bfq]" in some /sys/block/DEV/queue/scheduler. */
static bool bfq_in_use(void) {
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char path[512], sched[256];
		if (de->d_name[0] == '.')
			continue;
		(void) snprintf(path, sizeof(path), "/sys/block/%s/queue/scheduler", de->d_name);
		found = cgroupfs_read(AT_FDCWD, path, sched, sizeof(sched)) > 0 && strstr(sched, "[bfq]");
	}
	closedir(d);
	return found;
}

bool cgroup_limits_io_weight_effective(int root_fd) {
	char qos[4096];

	if (cgroupfs_read(root_fd, "io.cost.qos", qos, sizeof(qos)) > 0 && strstr(qos, "enable=1"))
		return true;
	return bfq_in_use();
}
