/* SPDX-License-Identifier: ISC */
/* Unit tests for the helpers of common/util.c (formatting and parsing of
 * times, string vectors, buffers, allocation, write_all) and common/log.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define SEC(x) ((usec_t) (x) * USEC_PER_SEC)

/* ---- util --------------------------------------------------------------- */

#define FMT_DUR(usec, want) do {                                                 \
	_cleanup_free_ char *_f = format_duration(usec);                         \
	ck_assert_str_eq(_f, (want));                                            \
} while (0)

START_TEST(test_format_duration_setting)
{
	static const struct { usec_t u; const char *s; } v[] = {
		{ 0, "0" }, { SEC(30), "30s" }, { SEC(60), "1m" }, { SEC(3600), "1h" }, { SEC(90), "90s" },
		{ 1500 * USEC_PER_MSEC, "1500ms" }, { 250 * USEC_PER_MSEC, "250ms" }, { 7, "7us" },
	};
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		_cleanup_free_ char *f = format_duration_setting(v[i].u);
		ck_assert_str_eq(f, v[i].s);
	}
}
END_TEST

START_TEST(test_format_duration)
{
	FMT_DUR(0, "0us");
	FMT_DUR(999, "999us");
	FMT_DUR(1000, "1ms");
	FMT_DUR(850 * USEC_PER_MSEC, "850ms");
	FMT_DUR(999999, "999ms");
	FMT_DUR(SEC(1), "1.0s");
	FMT_DUR(12300 * USEC_PER_MSEC, "12.3s");
	FMT_DUR(12399 * USEC_PER_MSEC, "12.3s");
	FMT_DUR(SEC(60) - 1, "59.9s");
	FMT_DUR(SEC(60), "1m00s");
	FMT_DUR(SEC(302), "5m02s");
	FMT_DUR(SEC(3600) - 1, "59m59s");
	FMT_DUR(SEC(3600), "1h00m");
	FMT_DUR(SEC(3 * 3600 + 4 * 60 + 59), "3h04m");
	FMT_DUR(SEC(86400) - 1, "23h59m");
	FMT_DUR(SEC(86400), "1d00h");
	FMT_DUR(SEC(2 * 86400 + 3 * 3600 + 1), "2d03h");
	FMT_DUR(SEC(400 * 86400), "400d00h");
	FMT_DUR(USEC_INFINITY, "infinity");
}
END_TEST

START_TEST(test_format_rfc3339)
{
	_cleanup_free_ char *epoch = format_rfc3339(0);
	_cleanup_free_ char *t = format_rfc3339(SEC(1795626000) + 123456);
	_cleanup_free_ char *y2038 = format_rfc3339(SEC(2147483648ULL) + 1);

	ck_assert_str_eq(epoch, "1970-01-01T00:00:00.000000Z");
	ck_assert_str_eq(t, "2026-11-25T17:00:00.123456Z");
	ck_assert_str_eq(y2038, "2038-01-19T03:14:08.000001Z");
}
END_TEST

/* The formatter keeps the last second it formatted: same second, the next
 * one, a year boundary and back must all still be right. */
START_TEST(test_format_rfc3339_sequence)
{
	static const struct { usec_t t; const char *s; } cases[] = {
		{ SEC(1795626000) + 1, "2026-11-25T17:00:00.000001Z" },
		{ SEC(1795626000) + 999999, "2026-11-25T17:00:00.999999Z" },
		{ SEC(1795626001), "2026-11-25T17:00:01.000000Z" },
		{ SEC(1798761599) + 500000, "2026-12-31T23:59:59.500000Z" },
		{ SEC(1798761600), "2027-01-01T00:00:00.000000Z" },
		{ SEC(1795626000) + 7, "2026-11-25T17:00:00.000007Z" },
		{ SEC(253402300799) + 1, "9999-12-31T23:59:59.000001Z" },
	};
	char out[RFC3339_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		ck_assert_int_eq(format_rfc3339_to(out, cases[i].t), (int) strlen(cases[i].s));
		ck_assert_str_eq(out, cases[i].s);
	}
	/* year 10000 has no RFC 3339 form */
	ck_assert_int_eq(format_rfc3339_to(out, SEC(253402300800)), -EOVERFLOW);
	ck_assert_int_eq(format_rfc3339_to(out, SEC(1795626000)), 27);
	ck_assert_str_eq(out, "2026-11-25T17:00:00.000000Z");
}
END_TEST

START_TEST(test_now_usec)
{
	usec_t a = now_usec(CLOCK_MONOTONIC), b = now_usec(CLOCK_MONOTONIC);
	usec_t r = now_usec(CLOCK_REALTIME);

	ck_assert_uint_ge(b, a);
	ck_assert_uint_gt(r, SEC(1600000000));   /* after 2020 */
}
END_TEST

START_TEST(test_strv)
{
	char **v = NULL, **c;
	char *const empty[] = { NULL };

	ck_assert_uint_eq(strv_length(NULL), 0);
	ck_assert(strv_equal(NULL, empty));
	v = strv_push(v, "a");
	v = strv_push(v, "");
	v = strv_push(v, "c d");
	ck_assert_uint_eq(strv_length(v), 3);
	ck_assert_str_eq(v[0], "a");
	ck_assert_str_eq(v[1], "");
	ck_assert_str_eq(v[2], "c d");
	ck_assert_ptr_null(v[3]);

	c = strv_copy(v);
	ck_assert(c != v && c[0] != v[0]);
	ck_assert(strv_equal(v, c));
	free(c[2]);
	c[2] = xstrdup("c e");
	ck_assert(!strv_equal(v, c));
	ck_assert(!strv_equal(v, NULL));
	strv_free(c);

	c = strv_copy(NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(strv_length(c), 0);
	strv_free(c);
	strv_free(v);
	strv_free(NULL);

	ck_assert(streq_ptr(NULL, NULL));
	ck_assert(!streq_ptr("a", NULL));
	ck_assert(!streq_ptr(NULL, "a"));
	ck_assert(streq_ptr("a", "a"));
	ck_assert(!streq_ptr("a", "b"));
}
END_TEST

START_TEST(test_buf)
{
	struct buf b = { 0 };
	_cleanup_free_ char *big = xmalloc(10001);

	buf_append(&b, "hello", 5);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.data, "hello");
	buf_appendf(&b, " %s %d", "world", 42);
	ck_assert_uint_eq(b.len, 14);
	ck_assert_str_eq(b.data, "hello world 42");
	buf_consume(&b, 6);
	ck_assert_str_eq(b.data, "world 42");
	ck_assert_uint_eq(b.len, 8);
	buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");

	memset(big, 'x', 10000);
	big[10000] = '\0';
	buf_appendf(&b, "%s", big);
	buf_append(&b, "", 0);
	ck_assert_uint_eq(b.len, 10000);
	ck_assert_str_eq(b.data, big);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_xalloc)
{
	_cleanup_free_ char *s = xasprintf("%s-%03d", "x", 7);
	_cleanup_free_ char *n = xstrndup("abcdef", 3);
	_cleanup_free_ char *n2 = xstrndup("ab", 10);
	_cleanup_free_ int *z = xcalloc(4, sizeof(int));
	_cleanup_free_ void *zero = xmalloc(0);

	ck_assert_str_eq(s, "x-007");
	ck_assert_str_eq(n, "abc");
	ck_assert_str_eq(n2, "ab");
	ck_assert_int_eq(z[0] | z[1] | z[2] | z[3], 0);
	ck_assert_ptr_nonnull(zero);
}
END_TEST

START_TEST(test_write_all)
{
	int p[2];
	char got[16] = { 0 };

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write_all(p[1], "abcdef", 6), 0);
	ck_assert_int_eq(write_all(p[1], "", 0), 0);
	ck_assert_int_eq(read(p[0], got, sizeof(got) - 1), 6);
	ck_assert_str_eq(got, "abcdef");
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(close(p[1]), 0);
	ck_assert_int_eq(write_all(-1, "x", 1), -EBADF);
}
END_TEST

/* ---- log (stderr backend) ----------------------------------------------- */

/* Run with fd 2 redirected to a temp file; returns what was written. */
static int stderr_saved = -1;
static FILE *stderr_capture;

static void capture_begin(void)
{
	stderr_capture = tmpfile();
	ck_assert_ptr_nonnull(stderr_capture);
	stderr_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(stderr_saved, 0);
	ck_assert_int_ge(dup2(fileno(stderr_capture), STDERR_FILENO), 0);
}

static char *capture_end(void)
{
	struct buf b = { 0 };
	char chunk[256];
	ssize_t n;

	ck_assert_int_ge(dup2(stderr_saved, STDERR_FILENO), 0);
	ck_assert_int_eq(close(stderr_saved), 0);
	ck_assert_int_eq(lseek(fileno(stderr_capture), 0, SEEK_SET), 0);
	while ((n = read(fileno(stderr_capture), chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t) n);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(fclose(stderr_capture), 0);
	buf_append(&b, "", 0);
	return b.data;
}

START_TEST(test_log_default_ident)
{
	_cleanup_free_ char *out = NULL;
	const char *fork_env = getenv("CK_FORK");

	if (fork_env && strcmp(fork_env, "no") == 0)
		return;   /* another test may have called log_init() already */
	capture_begin();
	log_warnx("hello %d", 5);
	log_info("info line");
	log_debug("not shown");
	out = capture_end();
	ck_assert_str_eq(out, "supd: hello 5\nsupd: info line\n");
}
END_TEST

START_TEST(test_log_stderr)
{
	_cleanup_free_ char *out = NULL;
	int r;

	log_init("tst", LOG_TARGET_STDERR, LOG_INFO);
	log_set_verbose(false);
	capture_begin();
	errno = ENOENT;
	log_warn("open %s", "/x");
	ck_assert_int_eq(errno, ENOENT);             /* logging keeps errno */
	errno = 0;
	log_warn("no errno");
	log_warnx("plain %s", "warning");
	log_debug("hidden %d", 1);
	log_set_verbose(true);
	log_debug("shown %d", 2);
	log_set_verbose(false);
	log_msg(LOG_NOTICE, "notice");
	r = log_error_errno(-EACCES, "bind %s", "sock");
	ck_assert_int_eq(r, -EACCES);
	r = log_error_errno(EPERM, "positive");
	ck_assert_int_eq(r, -EPERM);
	log_job(LOG_INFO, "web@2", 17, 0, -1, "exited, status %d", 0);
	log_job(LOG_INFO, NULL, 0, -1, -1, "no job");
	out = capture_end();
	ck_assert_str_eq(out,
			 "tst: open /x: No such file or directory\n"
			 "tst: no errno\n"
			 "tst: plain warning\n"
			 "tst: shown 2\n"
			 "tst: notice\n"
			 "tst: bind sock: Permission denied\n"
			 "tst: positive: Operation not permitted\n"
			 "tst: web@2: exited, status 0\n"
			 "tst: no job\n");
}
END_TEST

START_TEST(test_log_filter)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ char *longmsg = xmalloc(20001);

	memset(longmsg, 'y', 20000);
	longmsg[20000] = '\0';
	log_init("f", LOG_TARGET_STDERR, LOG_WARNING);
	log_set_verbose(false);
	capture_begin();
	log_info("dropped");
	log_msg(LOG_NOTICE, "dropped too");
	log_warnx("kept");
	log_msg(LOG_ERR, "%s", longmsg);   /* no truncation */
	log_set_verbose(true);
	log_debug("debug when verbose");
	out = capture_end();
	ck_assert_uint_eq(strlen(out), strlen("f: kept\n") + 3 + 20000 + 1 + strlen("f: debug when verbose\n"));
	ck_assert(strncmp(out, "f: kept\nf: yyy", 14) == 0);
	ck_assert(strstr(out, "y\nf: debug when verbose\n") != NULL);

	log_init("g", LOG_TARGET_STDERR, LOG_DEBUG);
	log_set_verbose(false);
	capture_begin();
	log_debug("debug by priority");
	free(out);
	out = capture_end();
	ck_assert_str_eq(out, "g: debug by priority\n");
}
END_TEST

/* Without a journal socket the journal backend falls back to stderr. */
START_TEST(test_log_journal_fallback)
{
	_cleanup_free_ char *out = NULL;

	if (access("/run/systemd/journal/socket", F_OK) == 0)
		return;   /* a real journal: nothing visible to check here */
	log_init("j", LOG_TARGET_JOURNAL, LOG_INFO);
	capture_begin();
	log_job(LOG_WARNING, "batch", 3, -1, 9, "killed by %s", "KILL");
	log_info("plain");
	out = capture_end();
	ck_assert_str_eq(out, "j: batch: killed by KILL\nj: plain\n");
}
END_TEST

START_TEST(test_fatalx)
{
	const char *fork_env = getenv("CK_FORK");

	if (fork_env && strcmp(fork_env, "no") == 0)
		return;   /* exiting would end the whole test run */
	log_init("t", LOG_TARGET_STDERR, LOG_INFO);
	capture_begin();   /* keep the test output clean; exit discards it */
	fatalx("going down %d", 1);
}
END_TEST

START_TEST(test_parse_rfc3339)
{
	usec_t t = 0;
	char s[RFC3339_MAX];

	ck_assert_int_eq(parse_rfc3339("2026-11-25T17:00:00.123456Z", &t), 0);
	ck_assert_int_eq(format_rfc3339_to(s, t), 27);
	ck_assert_str_eq(s, "2026-11-25T17:00:00.123456Z");
	ck_assert_int_eq(parse_rfc3339("1970-01-01T00:00:01Z", &t), 0);
	ck_assert_uint_eq(t, USEC_PER_SEC);
	ck_assert_int_eq(parse_rfc3339("1970-01-01T00:00:00.5Z", &t), 0);
	ck_assert_uint_eq(t, USEC_PER_SEC / 2);
	ck_assert_int_eq(parse_rfc3339("1970-01-01T00:00:00.1234567Z", &t), 0);
	ck_assert_uint_eq(t, 123456);
	ck_assert_int_eq(parse_rfc3339("2026-11-25T17:00:00", &t), -EINVAL);
	ck_assert_int_eq(parse_rfc3339("2026-11-25T17:00:00+01:00", &t), -EINVAL);
	ck_assert_int_eq(parse_rfc3339("yesterday", &t), -EINVAL);
	ck_assert_int_eq(parse_rfc3339(NULL, &t), -EINVAL);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc;

	tc = tcase_create("util");
	tcase_add_test(tc, test_format_duration);
	tcase_add_test(tc, test_format_duration_setting);
	tcase_add_test(tc, test_format_rfc3339);
	tcase_add_test(tc, test_format_rfc3339_sequence);
	tcase_add_test(tc, test_parse_rfc3339);
	tcase_add_test(tc, test_now_usec);
	tcase_add_test(tc, test_strv);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_xalloc);
	tcase_add_test(tc, test_write_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, test_log_default_ident);
	tcase_add_test(tc, test_log_stderr);
	tcase_add_test(tc, test_log_filter);
	tcase_add_test(tc, test_log_journal_fallback);
	tcase_add_exit_test(tc, test_fatalx, EXIT_FAILURE);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
