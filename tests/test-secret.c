/* SPDX-License-Identifier: ISC */
/* Unit tests for secrets on pipes (daemon/secret.c): the part a pipe does
 * not take before the exec is written from the event loop, whole and in
 * order; a reader that goes away ends the write; the feed closes what it
 * has not finished when freed. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include "jobfile.h"
#include "secret.h"
#include "util.h"

static char path[] = "/tmp/supd-test-secret-XXXXXX";
#define BIG (1024 * 1024)

static struct secret *make_secret(size_t len) {
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	char *data = xcalloc(1, len + 1);
	for (size_t i = 0; i < len; i++)
		data[i] = (char) ('A' + i % 23);
	ck_assert_int_eq(write_all(fd, data, len), 0);
	close(fd);
	free(data);
	struct secret *s = NULL;
	const char *why = NULL;
	ck_assert_int_eq(secret_read(path, &s, &why), 0);
	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	ck_assert_uint_eq(secret_size(s), len);
	return s;
}

struct reader {
	int fd;
	size_t got;
	bool eof, in_order;
};

static int on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
	struct reader *r = userdata;
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));
	ck_assert_int_ge(n, 0);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != (char) ('A' + (r->got + (size_t) i) % 23))
			r->in_order = false;
	r->got += (size_t) n;
	if (n == 0) {
		r->eof = true;
		(void) sd_event_source_set_enabled(src, SD_EVENT_OFF);
	}
	return 0;
}

/* 1 MiB through a pipe of the default 64 KiB: most of it from the loop. */
START_TEST(test_feed_writes_the_rest)
{
	struct secret *s = make_secret(BIG);
	struct secret_feed *feed = NULL;
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_le(fcntl(p[1], F_GETPIPE_SZ), 65536);
	secret_feed_add(&feed, p[1], s, 0);
	secret_unref(s);   /* the feed holds its own reference */
	ck_assert_uint_eq(secret_feed_pending(feed), 1);

	sd_event *e = NULL;
	sd_event_source *rs = NULL;
	struct reader r = { .fd = p[0], .in_order = true };
	ck_assert_int_ge(sd_event_new(&e), 0);
	ck_assert_int_ge(secret_feed_start(feed, e), 0);
	ck_assert_int_ge(sd_event_add_io(e, &rs, p[0], EPOLLIN, on_readable, &r), 0);
	while (!r.eof)
		ck_assert_int_ge(sd_event_run(e, UINT64_MAX), 0);
	ck_assert_uint_eq(r.got, BIG);
	ck_assert(r.in_order);
	ck_assert_uint_eq(secret_feed_pending(feed), 0);
	secret_feed_free(feed);
	sd_event_source_unref(rs);
	sd_event_unref(e);
	close(p[0]);
}
END_TEST

/* secret_pipe(): what fits is in the pipe before anyone reads; a secret
 * that fits leaves nothing to the loop. */
START_TEST(test_pipe_before_exec)
{
	struct secret *s = make_secret(100000);
	struct secret_feed *feed = NULL;
	int fd = -1;
	ck_assert_int_eq(secret_pipe(s, &feed, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);   /* the job's end blocks */
	int queued = 0;
	ck_assert_int_eq(ioctl(fd, FIONREAD, &queued), 0);
	if (feed) {   /* a pipe quota said no to a larger pipe */
		ck_assert_uint_eq(secret_feed_pending(feed), 1);
		ck_assert_int_lt(queued, 100000);
	} else {
		ck_assert_int_eq(queued, 100000);
	}
	secret_feed_free(feed);
	secret_unref(s);
	close(fd);
}
END_TEST

/* A reader that closes early ends the write (EPOLLERR); freeing a feed
 * closes what it has not finished. */
START_TEST(test_reader_gone)
{
	struct secret *s = make_secret(BIG);
	struct secret_feed *feed = NULL;
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	secret_feed_add(&feed, p[1], s, 0);
	sd_event *e = NULL;
	ck_assert_int_ge(sd_event_new(&e), 0);
	ck_assert_int_ge(secret_feed_start(feed, e), 0);
	ck_assert_int_ge(sd_event_run(e, 0), 0);      /* fills the pipe */
	ck_assert_uint_eq(secret_feed_pending(feed), 1);
	close(p[0]);
	while (secret_feed_pending(feed) > 0)
		ck_assert_int_ge(sd_event_run(e, UINT64_MAX), 0);
	ck_assert_int_eq(fcntl(p[1], F_GETFD), -1);   /* closed */
	secret_feed_free(feed);

	/* unfinished, then freed */
	feed = NULL;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	secret_feed_add(&feed, p[1], s, 0);
	secret_feed_free(feed);
	ck_assert_int_eq(fcntl(p[1], F_GETFD), -1);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 0);      /* EOF: no writer left */
	close(p[0]);
	secret_unref(s);
	sd_event_unref(e);
	secret_feed_free(NULL);
}
END_TEST

/* Too large or not a regular file: refused with a reason, as the job's
 * other files. */
START_TEST(test_read_refused)
{
	struct secret *s = NULL;
	const char *why = NULL;
	ck_assert_int_eq(secret_read("/nonexistent/supd.pass", &s, &why), -ENOENT);
	ck_assert_ptr_null(s);
	ck_assert_int_lt(secret_read("/tmp", &s, &why), 0);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, JOBFILE_DATA_MAX + 1), 0);
	close(fd);
	ck_assert_int_lt(secret_read(path, &s, &why), 0);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("feed");
	tcase_add_test(tc, test_feed_writes_the_rest);
	tcase_add_test(tc, test_pipe_before_exec);
	tcase_add_test(tc, test_reader_gone);
	tcase_add_test(tc, test_read_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
