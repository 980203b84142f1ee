/* SPDX-License-Identifier: ISC */
/* A service written as for systemd's Type=notify, with sd_notify(3) from
 * libsystemd and nothing of supd: it initialises for a while, says
 * READY=1 with a STATUS=, pings the watchdog as sd_watchdog_enabled(3)
 * asks, and runs until SIGTERM. The unit tests, the integration tests and
 * the demo run it under supd to show such programs work unchanged. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

static const char usage[] =
	"usage: notify-ready [OPTION...]\n"
	"  --init MS           initialise for MS milliseconds before READY=1 (default 0)\n"
	"  --status TEXT       STATUS= sent with READY=1 (default \"ready\")\n"
	"  --no-ready          never send READY=1 (a service that never comes up)\n"
	"  --barrier           sd_notify_barrier() after READY=1; fail if it does not return in 5s\n"
	"  --watchdog          WATCHDOG=1 every half of $WATCHDOG_USEC (if it is for this pid)\n"
	"  --watchdog-stop MS  stop pinging MS milliseconds after READY=1 (a missed watchdog)\n"
	"  --reload            on SIGHUP: RELOADING=1, then READY=1\n"
	"  --stopping          on SIGTERM or SIGINT: STOPPING=1 before exiting\n"
	"  --exit-after MS     exit MS milliseconds after READY=1 instead of running on\n"
	"  --exit-code N       exit status on SIGTERM, SIGINT or --exit-after (default 0)\n"
	"  --stamp FILE        append CLOCK_REALTIME (seconds, 9 decimals) to FILE just before READY=1\n";

static uint64_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static uint64_t number(const char *s, const char *what) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "notify-ready: bad %s: %s\n%s", what, s, usage);
		exit(2);
	}
	return v;
}

static void notify(const char *msg) {
	int r = sd_notify(0, msg);
	if (r < 0) {
		fprintf(stderr, "notify-ready: sd_notify: %s\n", strerror(-r));
		exit(1);
	}
	if (r == 0)
		fprintf(stderr, "notify-ready: NOTIFY_SOCKET is not set\n");
}

/* Wait for a signal until the monotonic time deadline (ms; UINT64_MAX: no
 * deadline). Returns the signal, or 0 at the deadline. */
static int wait_signal(const sigset_t *set, uint64_t deadline) {
	for (;;) {
		uint64_t now = now_ms();
		if (deadline != UINT64_MAX && now >= deadline)
			return 0;
		int sig;
		if (deadline == UINT64_MAX) {
			sig = sigwaitinfo(set, NULL);
		} else {
			uint64_t left = deadline - now;
			struct timespec ts = { .tv_sec = (time_t) (left / 1000), .tv_nsec = (long) (left % 1000) * 1000000 };
			sig = sigtimedwait(set, NULL, &ts);
		}
		if (sig > 0)
			return sig;
		if (errno != EAGAIN && errno != EINTR) {
			perror("notify-ready: sigtimedwait");
			exit(1);
		}
	}
}

int main(int argc, char **argv) {
	enum { O_INIT = 1, O_STATUS, O_NO_READY, O_BARRIER, O_WATCHDOG, O_WATCHDOG_STOP, O_RELOAD, O_STOPPING,
	       O_EXIT_AFTER, O_EXIT_CODE, O_STAMP, O_HELP };
	static const struct option options[] = {
		{ "init", required_argument, NULL, O_INIT },
		{ "status", required_argument, NULL, O_STATUS },
		{ "no-ready", no_argument, NULL, O_NO_READY },
		{ "barrier", no_argument, NULL, O_BARRIER },
		{ "watchdog", no_argument, NULL, O_WATCHDOG },
		{ "watchdog-stop", required_argument, NULL, O_WATCHDOG_STOP },
		{ "reload", no_argument, NULL, O_RELOAD },
		{ "stopping", no_argument, NULL, O_STOPPING },
		{ "exit-after", required_argument, NULL, O_EXIT_AFTER },
		{ "exit-code", required_argument, NULL, O_EXIT_CODE },
		{ "stamp", required_argument, NULL, O_STAMP },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 }
	};
	uint64_t init = 0, watchdog_stop = UINT64_MAX, exit_after = UINT64_MAX;
	const char *status = "ready", *stamp = NULL;
	bool ready = true, barrier = false, watchdog = false, reload = false, stopping = false;
	int exit_code = 0, c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case O_INIT: init = number(optarg, "--init"); break;
		case O_STATUS: status = optarg; break;
		case O_NO_READY: ready = false; break;
		case O_BARRIER: barrier = true; break;
		case O_WATCHDOG: watchdog = true; break;
		case O_WATCHDOG_STOP: watchdog_stop = number(optarg, "--watchdog-stop"); break;
		case O_RELOAD: reload = true; break;
		case O_STOPPING: stopping = true; break;
		case O_EXIT_AFTER: exit_after = number(optarg, "--exit-after"); break;
		case O_EXIT_CODE: exit_code = (int) (number(optarg, "--exit-code") & 255); break;
		case O_STAMP: stamp = optarg; break;
		case O_HELP: fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return 2;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	int sig = wait_signal(&set, now_ms() + init);
	if (sig == SIGTERM || sig == SIGINT)
		return exit_code;

	uint64_t interval = UINT64_MAX, t0 = now_ms();
	if (watchdog) {
		uint64_t usec = 0;
		int r = sd_watchdog_enabled(0, &usec);
		if (r < 0)
			fprintf(stderr, "notify-ready: sd_watchdog_enabled: %s\n", strerror(-r));
		else if (r == 0)
			fprintf(stderr, "notify-ready: no watchdog for this process (WATCHDOG_USEC, WATCHDOG_PID)\n");
		else
			interval = usec / 2000 ? usec / 2000 : 1;
	}
	if (ready) {
		char *msg;
		if (asprintf(&msg, "READY=1\nSTATUS=%s", status) < 0)
			return 1;
		/* the readiness latency benchmark's start: the time is taken right
		 * before sd_notify, the file written after it */
		FILE *f = stamp ? fopen(stamp, "a") : NULL;
		struct timespec ts;
		if (stamp && (!f || clock_gettime(CLOCK_REALTIME, &ts) < 0))
			return 1;
		notify(msg);
		if (f) {
			fprintf(f, "%lld.%09ld\n", (long long) ts.tv_sec, ts.tv_nsec);
			if (fclose(f) != 0)
				return 1;
		}
		free(msg);
	}
	if (barrier) {
		int r = sd_notify_barrier(0, 5 * 1000000ULL);
		if (r < 0) {
			fprintf(stderr, "notify-ready: sd_notify_barrier: %s\n", strerror(-r));
			return 1;
		}
	}

	uint64_t next_ping = interval == UINT64_MAX ? UINT64_MAX : t0 + interval;
	uint64_t stop_at = watchdog_stop == UINT64_MAX ? UINT64_MAX : t0 + watchdog_stop;
	uint64_t exit_at = exit_after == UINT64_MAX ? UINT64_MAX : t0 + exit_after;
	for (;;) {
		if (next_ping != UINT64_MAX && next_ping >= stop_at)
			next_ping = UINT64_MAX;     /* the watchdog goes quiet */
		uint64_t deadline = next_ping < exit_at ? next_ping : exit_at;
		sig = wait_signal(&set, deadline);
		if (sig == SIGTERM || sig == SIGINT) {
			if (stopping)
				notify("STOPPING=1");
			return exit_code;
		}
		if (sig == SIGHUP) {
			if (reload) {
				char msg[64];
				snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_ms() * 1000);
				notify(msg);
				notify("READY=1");
			}
			continue;
		}
		uint64_t now = now_ms();
		if (now >= exit_at)
			return exit_code;
		if (now >= next_ping) {
			notify("WATCHDOG=1");
			next_ping += interval;
		}
	}
}
