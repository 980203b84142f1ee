/* SPDX-License-Identifier: ISC */
/* For tests/test-check.c and tests/test-health.c: an sd-event loop with a
 * SIGCHLD source and a reaper of the tests' own, as the supervisor's wait
 * loop would be (reaper.h), and small helpers around real processes and
 * files. Counts what it reaps: pids a watch knew, and orphans. */
#pragma once

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <unistd.h>
#include "config.h"
#include "reaper.h"

struct test_loop {
	sd_event *e;
	sd_event_source *sigchld;
	struct reaper reaper;
	unsigned watched;      /* reaped pids a watch knew */
	unsigned orphans;      /* reaped pids nobody knew */
};

_unused_ static int tl_on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	struct test_loop *l = userdata;
	(void) s;
	(void) si;

	for (;;) {
		int status;
		struct rusage ru;
		pid_t pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (reaper_dispatch(&l->reaper, pid, status, &ru))
			l->watched++;
		else
			l->orphans++;
	}
	return 0;
}

/* Once per test program: SIGCHLD is a loop's, and orphans (a check's
 * background children) come back to us to be reaped. */
_unused_ static void tl_process_init(void) {
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	/* before any test runs: no ck_assert here */
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("tl_process_init");
		exit(EXIT_FAILURE);
	}
}

_unused_ static void tl_init(struct test_loop *l) {
	*l = (struct test_loop) { 0 };
	ck_assert_int_ge(sd_event_new(&l->e), 0);
	ck_assert_int_ge(sd_event_add_signal(l->e, &l->sigchld, SIGCHLD, tl_on_sigchld, l), 0);
	reaper_init(&l->reaper);
}

_unused_ static void tl_done(struct test_loop *l) {
	reaper_done(&l->reaper);
	sd_event_source_disable_unref(l->sigchld);
	sd_event_unref(l->e);
}

/* Run the loop until cond(arg) holds or ms milliseconds have passed;
 * returns whether it holds. cond is looked at every 2ms at least, as it
 * may watch a file a check writes. */
_unused_ static bool tl_run_until(struct test_loop *l, bool (*cond)(void *), void *arg, unsigned ms) {
	usec_t end = now_usec(CLOCK_MONOTONIC) + (usec_t) ms * USEC_PER_MSEC;

	while (!cond(arg)) {
		usec_t now = now_usec(CLOCK_MONOTONIC);
		if (now >= end)
			return false;
		ck_assert_int_ge(sd_event_run(l->e, end - now < 2 * USEC_PER_MSEC ? end - now : 2 * USEC_PER_MSEC), 0);
	}
	return true;
}

_unused_ static bool tl_never(void *arg) {
	(void) arg;
	return false;
}

/* Run the loop for ms milliseconds. */
_unused_ static void tl_run_for(struct test_loop *l, unsigned ms) {
	(void) tl_run_until(l, tl_never, NULL, ms);
}

/* ---- files and processes ---- */

static char tl_dir[] = "/tmp/supd-test-check-XXXXXX";

/* A directory the job's user (nobody, as root) may enter. */
_unused_ static void tl_dir_make(void) {
	ck_assert_ptr_nonnull(mkdtemp(tl_dir));
	ck_assert_int_eq(chmod(tl_dir, 0755), 0);
}

_unused_ static void tl_dir_remove(void) {
	char *cmd = xasprintf("rm -rf '%s'", tl_dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	strcpy(tl_dir + strlen(tl_dir) - 6, "XXXXXX");
}

/* A path in tl_dir; the last 8 stay valid, for one call's arguments. */
_unused_ static char *tl_path(const char *name) {
	static char buf[8][256];
	static unsigned next;
	char *p = buf[next++ % 8];
	snprintf(p, sizeof(buf[0]), "%s/%s", tl_dir, name);
	return p;
}

_unused_ static void tl_write(const char *name, const char *text, mode_t mode) {
	int fd = open(tl_path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
	ck_assert_int_eq(chmod(tl_path(name), mode), 0);
}

/* The whole file (empty if missing), in a static buffer. */
_unused_ static char *tl_read(const char *name) {
	static char buf[65536];
	size_t n = 0;
	ssize_t k;
	int fd = open(tl_path(name), O_RDONLY | O_CLOEXEC);
	buf[0] = '\0';
	if (fd < 0)
		return buf;
	while ((k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t) k;
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* Lines of a file. */
_unused_ static unsigned tl_lines(const char *name) {
	unsigned n = 0;
	for (const char *p = tl_read(name); *p; p++)
		n += *p == '\n';
	return n;
}

/* A number in a file (0 if missing). */
_unused_ static long tl_number(const char *name) {
	return strtol(tl_read(name), NULL, 10);
}

/* No process has this pid any more (reaped, not a zombie). */
_unused_ static bool tl_gone(pid_t pid) {
	char p[32];
	snprintf(p, sizeof(p), "/proc/%d", (int) pid);
	return access(p, F_OK) < 0 && errno == ENOENT;
}

static struct supd_config *tl_conf;

/* The first job of a config of one [job:j] section with these lines. */
static struct job_config *tl_job(const char *fmt, ...) _printf_(1, 2);
_unused_ static struct job_config *tl_job(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	char *body = xvasprintf(fmt, ap);
	va_end(ap);
	char *text = xasprintf("[job:j]\n%s\n", body);
	tl_write("job.conf", text, 0600);
	struct config_errors errs = { 0 };
	config_free(tl_conf);
	int r = config_load(tl_path("job.conf"), &tl_conf, &errs);
	ck_assert_msg(r == 0, "%s", errs.n ? errs.v[0] : "?");
	config_errors_clear(&errs);
	free(body);
	free(text);
	return tl_conf->jobs[0];
}
