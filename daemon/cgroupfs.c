/* SPDX-License-Identifier: ISC */
/* One cgroup directory's files (see cgroupfs.h). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include "cgroupfs.h"
#include "util.h"

#define DEPTH_MAX CGROUPFS_DEPTH_MAX
/* rounds of the kill fallback before giving up on new pids */
#define KILL_ROUNDS_MAX 16

ssize_t cgroupfs_read(int dirfd, const char *file, char *buf, size_t size) {
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t) n;
	}
	buf[len] = '\0';
	return (ssize_t) len;
}

int cgroupfs_write(int dirfd, const char *file, const char *value) {
	/* O_TRUNC as a shell's "echo 1 > cgroup.kill": meaningless to cgroupfs */
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t) n == len ? 0 : -EIO;
}

int cgroupfs_parse_key(const char *text, const char *key, uint64_t *ret) {
	size_t kl = strlen(key);

	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(line + kl + 1, &end, 10);
			if (errno == 0 && end != line + kl + 1) {
				*ret = v;
				return 0;
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

int cgroupfs_populated(int events_fd) {
	char buf[256];
	ssize_t n;
	uint64_t v;

	do
		n = pread(events_fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (cgroupfs_parse_key(buf, "populated", &v) < 0)
		return -EIO;
	return v != 0;
}

/* The pids of one cgroup.procs, read in pieces (a cgroup may hold
 * thousands): fn for each. */
static int procs_each(int dirfd, int (*fn)(pid_t pid, void *ud), void *ud) {
	_cleanup_close_ int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	char buf[4096];
	size_t have = 0;
	int count = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		have += (size_t) n;
		size_t used = 0;
		for (size_t i = 0; i < have; i++) {
			if (buf[i] != '\n')
				continue;
			buf[i] = '\0';
			long pid = strtol(buf + used, NULL, 10);
			used = i + 1;
			if (pid > 0) {
				count++;
				if (fn((pid_t) pid, ud) < 0)
					return count;
			}
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		if (n == 0 || have == sizeof(buf))
			break;   /* the end, or a line no pid is that long */
	}
	return count;
}

/* A sub-cgroup below: any directory but "." and "..". A delegated
 * user names its cgroups as it likes, ".hidden" too. */
static bool is_sub_cgroup(const struct dirent *de) {
	return de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

static int each_below(int dirfd, int depth, int (*fn)(pid_t pid, void *ud), void *ud) {
	int count = procs_each(dirfd, fn, ud);

	if (count < 0 || depth >= DEPTH_MAX)
		return count;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return count;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return count;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_sub_cgroup(de))
			continue;
		_cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		int r = each_below(sub, depth + 1, fn, ud);
		if (r > 0)
			count += r;
	}
	closedir(d);
	return count;
}

int cgroupfs_for_each_pid(int dirfd, int (*fn)(pid_t pid, void *ud), void *ud) {
	return each_below(dirfd, 0, fn, ud);
}

struct signal_args {
	int sig;
	pid_t skip_pgid;
	bool and_continue;
	int sent;
};

static int signal_one(pid_t pid, void *ud) {
	struct signal_args *a = ud;

	if (a->skip_pgid > 0 && getpgid(pid) == a->skip_pgid)
		return 0;
	if (kill(pid, a->sig) == 0) {
		a->sent++;
		if (a->and_continue && a->sig != SIGCONT)
			(void) kill(pid, SIGCONT);
	}
	return 0;
}

int cgroupfs_signal(int dirfd, int sig, pid_t skip_pgid, bool and_continue) {
	struct signal_args a = { .sig = sig, .skip_pgid = skip_pgid, .and_continue = and_continue };
	int r = cgroupfs_for_each_pid(dirfd, signal_one, &a);

	return r < 0 ? r : a.sent;
}

/* cgroup.kill is there from Linux 5.14; -1 until tried. */
static int have_kill_file = -1;

int cgroupfs_kill(int dirfd) {
	if (have_kill_file != 0) {
		int r = cgroupfs_write(dirfd, "cgroup.kill", "1");
		if (r != -ENOENT) {
			have_kill_file = 1;
			return r;
		}
		/* a cgroup that is gone has no cgroup.kill either: ask the directory */
		if (faccessat(dirfd, "cgroup.procs", F_OK, 0) < 0)
			return -ENOENT;
		have_kill_file = 0;
	}
	return cgroupfs_kill_each(dirfd);
}

/* The pids one round killed, to tell whether the next round finds new ones. */
struct kill_round {
	pid_t *seen, *prev;
	size_t n_seen, cap_seen, n_prev;
	bool new_pid;
};

static int kill_one(pid_t pid, void *ud) {
	struct kill_round *k = ud;
	bool known = false;

	for (size_t i = 0; i < k->n_prev && !known; i++)
		known = k->prev[i] == pid;
	if (!known)
		k->new_pid = true;
	if (k->n_seen == k->cap_seen) {
		k->cap_seen = k->cap_seen ? 2 * k->cap_seen : 64;
		k->seen = xreallocarray(k->seen, k->cap_seen, sizeof(pid_t));
	}
	k->seen[k->n_seen++] = pid;
	(void) kill(pid, SIGKILL);
	return 0;
}

int cgroupfs_kill_each(int dirfd) {
	struct kill_round k = { 0 };
	int r = 0;
	/* frozen tasks cannot fork, and still die of SIGKILL; no freezer
	 * (before 5.2): the rounds alone */
	bool frozen = cgroupfs_write(dirfd, "cgroup.freeze", "1") == 0;

	for (int round = 0; round < KILL_ROUNDS_MAX; round++) {
		k.new_pid = false;
		r = cgroupfs_for_each_pid(dirfd, kill_one, &k);
		if (r <= 0 || !k.new_pid)
			break;
		free(k.prev);
		k.prev = k.seen;
		k.n_prev = k.n_seen;
		k.seen = NULL;
		k.n_seen = k.cap_seen = 0;
	}
	if (frozen)
		(void) cgroupfs_write(dirfd, "cgroup.freeze", "0");
	free(k.seen);
	free(k.prev);
	return r < 0 ? r : 0;
}

static int chown_at(int dirfd, uid_t uid, gid_t gid, int depth) {
	int r = fchown(dirfd, uid, gid) < 0 ? -errno : 0;

	if (depth >= DEPTH_MAX)
		return r;
	/* listed after the chown: nothing new can appear in it now */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return r < 0 ? r : e;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_sub_cgroup(de))
			continue;
		_cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int q = sub < 0 ? (errno == ENOENT ? 0 : -errno) : chown_at(sub, uid, gid, depth + 1);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	return r;
}

int cgroupfs_chown_tree(int dirfd, uid_t uid, gid_t gid) {
	return chown_at(dirfd, uid, gid, 0);
}

static int remove_at(int parent_fd, const char *name, int depth) {
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
		return 0;
	if ((errno != EBUSY && errno != ENOTEMPTY) || depth >= DEPTH_MAX)
		return -errno;
	/* a delegated subtree: its sub-cgroups first, deepest first */
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct dirent *de;
	bool any = false;
	while ((de = readdir(d))) {
		if (is_sub_cgroup(de)) {
			any = true;
			(void) remove_at(dirfd(d), de->d_name, depth + 1);
		}
	}
	closedir(d);
	if (!any)
		return -EBUSY;   /* populated itself */
	return unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int cgroupfs_remove(int parent_fd, const char *name) {
	return remove_at(parent_fd, name, 0);
}
