/* SPDX-License-Identifier: ISC */
/* spawn-floor: the floor for supd's batch benchmarks. Runs a command N
 * times with at most P copies in flight, using nothing but posix_spawnp()
 * and waitpid(): no config, no bookkeeping, no output capture. Whatever a
 * supervisor adds on top of this loop is its overhead.
 *
 * With -g DIR it is the floor of a cgroup per run instead: each run gets
 * a cgroup DIR/r-N of its own (mkdir), is started in it as supd starts a
 * stage (clone3 CLONE_INTO_CGROUP with CLONE_VM | CLONE_VFORK, from
 * daemon/spawn-clone.c), and when reaped its cpu.stat is read and the
 * cgroup removed: what the kernel charges for the cgroup, without supd.
 * With -g DIR -R the cgroups are reused instead: one per slot (DIR/s-K,
 * made before the clock starts), every run of that slot started in it the
 * same way and its cpu.stat read, none made or removed: the placement
 * alone. The difference to -g is what a new cgroup costs a run.
 *
 * Usage: spawn-floor [-n N] [-P P] [-g DIR [-R]] [-v] [--] [COMMAND [ARG...]]
 *   -n N   runs in total (default 2000)
 *   -P P   most runs at once (default 2)
 *   -g DIR a cgroup per run below the cgroup v2 directory DIR
 *   -R     with -g: a cgroup per slot, reused by its runs
 *   -v     print the elapsed time and runs per second on stderr
 * COMMAND defaults to /bin/true. Exit status: 0 if every run exited 0,
 * 1 if any failed, 2 on a usage or spawn error. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef _GNU_SOURCE
extern char **environ;
#endif

/* daemon/spawn-clone.h (not on the include path: daemon/spawn.h would
 * shadow <spawn.h>) */
pid_t spawn_clone_into(int (*fn)(void *), void *arg, void *stack, size_t stack_size, unsigned long flags,
		       int cgroup_fd, bool *placed);

#define STACK_SIZE (256 * 1024)

struct child {
	char **cmd;
	int procs;        /* cgroup.procs when clone3 cannot place the child */
	bool placed;
};

static int child_main(void *arg) {
	struct child *c = arg;
	if (!c->placed && write(c->procs, "0", 1) != 1)
		_exit(126);
	execvp(c->cmd[0], c->cmd);
	_exit(127);
}

/* The cgroup of run I: a new DIR/r-I, or with reuse the slot's DIR/s-K
 * (made by main()). */
static void cgroup_name(char *name, size_t size, bool reuse, long i, long slot) {
	if (reuse)
		snprintf(name, size, "s-%ld", slot);
	else
		snprintf(name, size, "r-%ld", i);
}

/* One run in its cgroup; returns the pid or -1. */
static pid_t spawn_in_cgroup(int dirfd, bool reuse, long i, long slot, char **cmd, char *stack) {
	char name[32];
	cgroup_name(name, sizeof(name), reuse, i, slot);
	if (!reuse && mkdirat(dirfd, name, 0755) < 0)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct child c = { .cmd = cmd, .procs = fd < 0 ? -1 : openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC) };
	pid_t pid = fd < 0 ? -1 : spawn_clone_into(child_main, &c, stack, STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD,
						   fd, &c.placed);
	if (c.procs >= 0)
		close(c.procs);
	if (fd >= 0)
		close(fd);
	return pid;
}

/* A reaped run: its usage read (as supd does), its cgroup removed unless
 * it is reused. */
static void end_in_cgroup(int dirfd, bool reuse, long i, long slot) {
	char name[32], file[48], buf[1024];
	cgroup_name(name, sizeof(name), reuse, i, slot);
	snprintf(file, sizeof(file), "%s/cpu.stat", name);
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void) read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (!reuse && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		perror("spawn-floor: rmdir");
}

static long parse_count(const char *s, const char *what) {
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1) {
		fprintf(stderr, "spawn-floor: %s must be a positive integer: %s\n", what, s);
		exit(2);
	}
	return v;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	static char true_path[] = "/bin/true";
	static char *default_cmd[] = { true_path, NULL };
	long n = 2000, p = 2, started = 0, running = 0, failed = 0;
	int verbose = 0, opt, dirfd = -1;
	bool reuse = false;
	pid_t *slots = NULL;   /* with -g: the pid running in each slot, 0 for a free one */
	long *runs = NULL;     /* and its run number */
	char *stack = NULL;

	while ((opt = getopt(argc, argv, "+n:P:g:Rvh")) != -1) {
		switch (opt) {
		case 'n': n = parse_count(optarg, "-n"); break;
		case 'P': p = parse_count(optarg, "-P"); break;
		case 'g':
			dirfd = open(optarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dirfd < 0) {
				perror(optarg);
				return 2;
			}
			break;
		case 'R': reuse = true; break;
		case 'v': verbose = 1; break;
		case 'h':
			printf("usage: spawn-floor [-n N] [-P P] [-g DIR [-R]] [-v] [--] [COMMAND [ARG...]]\n");
			return 0;
		default:
			return 2;
		}
	}
	char **cmd = optind < argc ? argv + optind : default_cmd;
	if (reuse && dirfd < 0) {
		fprintf(stderr, "spawn-floor: -R needs -g DIR\n");
		return 2;
	}
	if (dirfd >= 0) {
		slots = calloc((size_t) p, sizeof(pid_t));
		runs = calloc((size_t) p, sizeof(long));
		stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (!slots || !runs || stack == MAP_FAILED) {
			perror("spawn-floor");
			return 2;
		}
	}
	for (long k = 0; reuse && k < p; k++) {
		char name[32];
		cgroup_name(name, sizeof(name), true, 0, k);
		if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "spawn-floor: a cgroup for slot %ld: %s\n", k, strerror(errno));
			return 2;
		}
	}
	double t0 = now();

	while (started < n || running > 0) {
		while (started < n && running < p) {
			pid_t pid;
			if (dirfd >= 0) {
				long k = 0;
				while (slots[k])
					k++;   /* running < p: a slot is free */
				pid = spawn_in_cgroup(dirfd, reuse, started, k, cmd, stack);
				if (pid < 0) {
					fprintf(stderr, "spawn-floor: a run in a cgroup: %s\n", strerror(errno));
					return 2;
				}
				slots[k] = pid;
				runs[k] = started;
			} else {
				int r = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ);
				if (r != 0) {
					fprintf(stderr, "spawn-floor: %s: %s\n", cmd[0], strerror(r));
					return 2;
				}
			}
			started++;
			running++;
		}
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("spawn-floor: waitpid");
			return 2;
		}
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		for (long k = 0; dirfd >= 0 && k < p; k++)
			if (slots[k] == pid) {
				slots[k] = 0;
				end_in_cgroup(dirfd, reuse, runs[k], k);
				break;
			}
	}
	for (long k = 0; reuse && k < p; k++) {
		char name[32];
		cgroup_name(name, sizeof(name), true, 0, k);
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
			perror("spawn-floor: rmdir");
	}
	if (verbose) {
		double dt = now() - t0;
		fprintf(stderr, "spawn-floor: %ld runs of %s, %ld at once: %.3f s, %.0f runs/s, %ld failed\n", n, cmd[0],
			p, dt, (double) n / dt, failed);
	}
	return failed ? 1 : 0;
}
