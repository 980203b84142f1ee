/* SPDX-License-Identifier: ISC */
/* spawn-floor: the floor for supd's batch benchmarks. Runs a command N
 * times with at most P copies in flight, using nothing but posix_spawnp()
 * and waitpid(): no config, no bookkeeping, no output capture. Whatever a
 * supervisor adds on top of this loop is its overhead.
 *
 * Usage: spawn-floor [-n N] [-P P] [-v] [--] [COMMAND [ARG...]]
 *   -n N   runs in total (default 2000)
 *   -P P   most runs at once (default 2)
 *   -v     print the elapsed time and runs per second on stderr
 * COMMAND defaults to /bin/true. Exit status: 0 if every run exited 0,
 * 1 if any failed, 2 on a usage or spawn error. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef _GNU_SOURCE
extern char **environ;
#endif

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
	int verbose = 0, opt;

	while ((opt = getopt(argc, argv, "+n:P:vh")) != -1) {
		switch (opt) {
		case 'n': n = parse_count(optarg, "-n"); break;
		case 'P': p = parse_count(optarg, "-P"); break;
		case 'v': verbose = 1; break;
		case 'h':
			printf("usage: spawn-floor [-n N] [-P P] [-v] [--] [COMMAND [ARG...]]\n");
			return 0;
		default:
			return 2;
		}
	}
	char **cmd = optind < argc ? argv + optind : default_cmd;
	double t0 = now();

	while (started < n || running > 0) {
		while (started < n && running < p) {
			pid_t pid;
			int r = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ);
			if (r != 0) {
				fprintf(stderr, "spawn-floor: %s: %s\n", cmd[0], strerror(r));
				return 2;
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
	}
	if (verbose) {
		double dt = now() - t0;
		fprintf(stderr, "spawn-floor: %ld runs of %s, %ld at once: %.3f s, %.0f runs/s, %ld failed\n", n, cmd[0],
			p, dt, (double) n / dt, failed);
	}
	return failed ? 1 : 0;
}
