/* SPDX-License-Identifier: ISC */
/* Unit tests for `ready = fd:N` (daemon/readyfd.c) on real pipes and a
 * real sd-event loop: the first newline fires once and closes supd's end
 * (a job writing again dies of SIGPIPE, as under s6), what comes before
 * it is read in bounded steps, EOF without one fires nothing, and no fd
 * is left behind. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "readyfd.h"
#include "util.h"

static sd_event *loop;

struct seen {
	int calls;
	struct readyfd **free_me;    /* freed from inside the callback */
};

static void on_ready(void *userdata) {
	struct seen *s = userdata;
	s->calls++;
	if (s->free_me) {
		readyfd_free(*s->free_me);
		*s->free_me = NULL;
	}
}

static void setup(void) {
	ck_assert_int_ge(sd_event_new(&loop), 0);
	signal(SIGPIPE, SIG_IGN);     /* the test writes after supd closed its end */
}

static void teardown(void) {
	loop = sd_event_unref(loop);
}

static int count_fds(void) {
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/* Run the loop for up to `ms` milliseconds or until cond holds. */
#define RUN_UNTIL(cond, ms) do { \
		usec_t _end = now_usec(CLOCK_MONOTONIC) + (ms) * USEC_PER_MSEC; \
		while (!(cond) && now_usec(CLOCK_MONOTONIC) < _end) \
			ck_assert_int_ge(sd_event_run(loop, 10 * USEC_PER_MSEC), 0); \
	} while (0)

static void write_str(int fd, const char *s) {
	ck_assert_int_eq(write_all(fd, s, strlen(s)), 0);
}

/* Bytes without a newline do nothing; the newline fires once; supd's end
 * is closed then, so a later write gets EPIPE. */
START_TEST(test_first_newline)
{
	struct seen seen = { 0 };
	struct readyfd *r = NULL;
	int before = count_fds(), w = -1;

	ck_assert_int_eq(readyfd_open(loop, on_ready, &seen, &r, &w), 0);
	ck_assert_int_eq(fcntl(w, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(w, F_GETFL) & O_NONBLOCK, 0);     /* the job's end blocks as usual */
	write_str(w, "starting");
	RUN_UNTIL(false, 50);
	ck_assert_int_eq(seen.calls, 0);
	ck_assert(readyfd_waiting(r));
	write_str(w, " up\nand more\n");
	RUN_UNTIL(seen.calls > 0, 2000);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert(!readyfd_waiting(r));
	ck_assert_int_eq(write(w, "\n", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	RUN_UNTIL(false, 20);
	ck_assert_int_eq(seen.calls, 1);
	close(w);
	readyfd_free(r);
	readyfd_free(NULL);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* EOF without a newline (the job closed fd N or exited): nothing fires,
 * supd's end is closed. */
START_TEST(test_eof_without_newline)
{
	struct seen seen = { 0 };
	struct readyfd *r = NULL;
	int before = count_fds(), w = -1;

	ck_assert_int_eq(readyfd_open(loop, on_ready, &seen, &r, &w), 0);
	write_str(w, "no newline here");
	close(w);
	RUN_UNTIL(!readyfd_waiting(r), 2000);
	ck_assert(!readyfd_waiting(r));
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_int_eq(count_fds(), before);    /* r holds no fd any more */
	readyfd_free(r);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* 1 MiB before the newline: read a bounded chunk per wake, then ready. */
START_TEST(test_long_prefix)
{
	struct seen seen = { 0 };
	struct readyfd *r = NULL;
	int w = -1;
	char chunk[65536];

	ck_assert_int_eq(readyfd_open(loop, on_ready, &seen, &r, &w), 0);
	memset(chunk, 'x', sizeof(chunk));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < 16; i++)
			if (write_all(w, chunk, sizeof(chunk)) < 0)
				_exit(1);
		_exit(write_all(w, "\n", 1) < 0);
	}
	close(w);
	RUN_UNTIL(seen.calls > 0, 5000);
	ck_assert_int_eq(seen.calls, 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	readyfd_free(r);
}
END_TEST

/* A real job with the write end at fd 5, as spawn's fd map gives it: its
 * `echo >&5` makes it up; its second write kills it with SIGPIPE. */
START_TEST(test_job_at_fd_n)
{
	struct seen seen = { 0 };
	struct readyfd *r = NULL;
	int w = -1;

	ck_assert_int_eq(readyfd_open(loop, on_ready, &seen, &r, &w), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(w, 5) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", "sleep 0.05; echo >&5; sleep 0.3; echo again >&5; exit 0", (char *) NULL);
		_exit(127);
	}
	close(w);
	RUN_UNTIL(seen.calls > 0, 5000);
	ck_assert_int_eq(seen.calls, 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "status %#x", status);
	readyfd_free(r);
}
END_TEST

/* The callback may free its readyfd; freeing before anything came closes
 * supd's end (the job then gets EPIPE). */
START_TEST(test_free_anytime)
{
	struct readyfd *r = NULL;
	struct seen seen = { .free_me = &r };
	int before = count_fds(), w = -1;

	ck_assert_int_eq(readyfd_open(loop, on_ready, &seen, &r, &w), 0);
	write_str(w, "\n");
	RUN_UNTIL(seen.calls > 0, 2000);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_null(r);
	close(w);
	ck_assert_int_eq(count_fds(), before);

	seen.free_me = NULL;
	ck_assert_int_eq(readyfd_open(loop, on_ready, &seen, &r, &w), 0);
	readyfd_free(r);
	ck_assert_int_eq(write(w, "\n", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(w);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("readyfd");
	TCase *tc = tcase_create("pipe");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_newline);
	tcase_add_test(tc, test_eof_without_newline);
	tcase_add_test(tc, test_long_prefix);
	tcase_add_test(tc, test_job_at_fd_n);
	tcase_add_test(tc, test_free_anytime);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
