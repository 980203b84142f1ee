/* SPDX-License-Identifier: ISC */
/* Unit tests for the health check schedule (daemon/health.c) and `ready =
 * command:` (daemon/readycmd.c) with real processes and real short
 * intervals: unknown -> healthy, failures counted in a row and reset by a
 * pass, retries exhausted once per streak, report only, checks never
 * overlapping, timeouts, pause and resume, and the owner freeing the
 * object from its callback. A check's verdicts come from a plan file: the
 * Nth check exits with the Nth line of it. */
#include "check-loop.h"
#include "health.h"
#include "readycmd.h"

static struct test_loop loop;
static struct job_config *jc;

/* The Nth check (N counted in the file n) exits with line N of plan, and
 * logs "start NS" and "end NS" (CLOCK_REALTIME) around sleeping SLEEP. */
static char *plan_command(const char *sleep) {
	return xasprintf("sh -c 'n=$(($(cat %s 2>/dev/null || echo 0) + 1)); echo $n > %s; "
			 "echo start $(date +%%%%s%%%%N) >> %s; sleep %s; echo end $(date +%%%%s%%%%N) >> %s; "
			 "exit $(sed -n ${n}p %s)'",
			 tl_path("n"), tl_path("n"), tl_path("log"), sleep, tl_path("log"), tl_path("plan"));
}

static void setup(void) {
	tl_dir_make();
	tl_init(&loop);
	jc = tl_job("command = true");
}

static void teardown(void) {
	tl_done(&loop);
	config_free(tl_conf);
	tl_conf = NULL;
	tl_dir_remove();
}

/* What the owner heard, in order: 'H'ealthy, 'U'nhealthy, 'X' exhausted
 * (unknown is never reported), with the number of the check it followed. */
struct heard {
	char what[64];
	long at[64];
	unsigned n;
	struct health *free_in_changed;   /* free h when it changes */
};

static void heard_push(struct heard *h, char what) {
	ck_assert_uint_lt(h->n, sizeof(h->what) - 1);
	h->what[h->n] = what;
	h->at[h->n++] = tl_number("n");
	h->what[h->n] = '\0';
}

static void on_changed(void *userdata, enum health_state st) {
	struct heard *h = userdata;
	ck_assert(st == HEALTH_HEALTHY || st == HEALTH_UNHEALTHY);
	heard_push(h, st == HEALTH_HEALTHY ? 'H' : 'U');
	if (h->free_in_changed)
		health_free(TAKE_PTR(h->free_in_changed));
}

static void on_exhausted(void *userdata) {
	heard_push(userdata, 'X');
}

static const struct health_ops ops = { .changed = on_changed, .exhausted = on_exhausted };

static struct health *new_health(const char *cmd, usec_t interval, usec_t timeout, unsigned retries,
				 bool report_only, struct heard *heard) {
	struct health *h;
	char *error = NULL;
	const struct jobcheck_job job = { .jc = jc, .name = "j", .instance = "", .output_fd = -1 };
	const struct health_params p = {
		.command = cmd, .interval = interval, .timeout = timeout, .retries = retries, .report_only = report_only,
	};
	ck_assert_msg(health_new(loop.e, &loop.reaper, &job, &p, &ops, heard, &h, &error) == 0, "%s", error);
	return h;
}

static bool checks_ended(void *arg) {
	void **v = arg;
	return health_checks(v[0]) >= *(unsigned *) v[1];
}

/* Run until count checks have ended; the next starts an interval later,
 * so health is then as the count-th check left it. */
static void run_checks(struct health *h, unsigned count, unsigned ms) {
	void *v[] = { h, &count };
	ck_assert_msg(tl_run_until(&loop, checks_ended, v, ms), "only %u of %u checks", health_checks(h), count);
	ck_assert_uint_eq(health_checks(h), count);
}

static bool watched_at_least(void *arg) {
	return loop.watched >= *(unsigned *) arg;
}

static bool pid_written(void *arg) {
	(void) arg;
	return tl_number("pid") > 0;
}

START_TEST(test_unknown_then_healthy)
{
	struct heard heard = { 0 };
	tl_write("plan", "0\n0\n0\n", 0644);
	char *cmd = plan_command("0");
	struct health *h = new_health(cmd, 30 * USEC_PER_MSEC, 0, 3, false, &heard);
	ck_assert_int_eq(health_state(h), HEALTH_UNKNOWN);
	/* created paused: no check */
	tl_run_for(&loop, 100);
	ck_assert_int_eq(tl_number("n"), 0);
	health_resume(h);
	run_checks(h, 1, 5000);
	ck_assert_int_eq(tl_number("n"), 1);
	ck_assert_str_eq(heard.what, "H");
	ck_assert_int_eq(health_state(h), HEALTH_HEALTHY);
	/* more passes: no more news */
	run_checks(h, 3, 5000);
	ck_assert_str_eq(heard.what, "H");
	ck_assert_uint_eq(health_failures(h), 0);
	health_free(h);
	free(cmd);
	ck_assert_uint_eq(loop.orphans, 0);
}
END_TEST

/* Failures in a row: 1 1 0 resets, then 1 1 1 exhausts at the 6th, and
 * more failures do not exhaust again; a pass ends the streak. */
START_TEST(test_failures_in_a_row)
{
	struct heard heard = { 0 };
	tl_write("plan", "1\n1\n0\n1\n1\n1\n1\n1\n0\n1\n1\n1\n", 0644);
	char *cmd = plan_command("0");
	struct health *h = new_health(cmd, 20 * USEC_PER_MSEC, 0, 3, false, &heard);
	health_resume(h);
	run_checks(h, 8, 10000);
	ck_assert_str_eq(heard.what, "UHUX");
	ck_assert_int_eq(heard.at[0], 1);
	ck_assert_int_eq(heard.at[1], 3);
	ck_assert_int_eq(heard.at[2], 4);
	ck_assert_int_eq(heard.at[3], 6);
	ck_assert_uint_eq(health_failures(h), 5);
	ck_assert_int_eq(health_state(h), HEALTH_UNHEALTHY);
	/* a pass, then a new streak exhausts again */
	run_checks(h, 12, 10000);
	ck_assert_str_eq(heard.what, "UHUXHUX");
	ck_assert_int_eq(heard.at[4], 9);
	ck_assert_int_eq(heard.at[6], 12);
	health_free(h);
	free(cmd);
}
END_TEST

/* Exhausted once however many failures follow; with report, never. */
START_TEST(test_exhausted_once)
{
	struct heard heard = { 0 };
	tl_write("plan", "1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n", 0644);
	char *cmd = plan_command("0");
	struct health *h = new_health(cmd, 20 * USEC_PER_MSEC, 0, 2, false, &heard);
	health_resume(h);
	run_checks(h, 6, 10000);
	ck_assert_str_eq(heard.what, "UX");
	ck_assert_int_eq(heard.at[1], 2);
	health_free(h);

	memset(&heard, 0, sizeof(heard));
	unlink(tl_path("n"));
	unlink(tl_path("log"));
	h = new_health(cmd, 20 * USEC_PER_MSEC, 0, 2, true, &heard);
	health_resume(h);
	run_checks(h, 5, 10000);
	ck_assert_str_eq(heard.what, "U");
	ck_assert_uint_eq(health_failures(h), 5);
	health_free(h);
	free(cmd);
}
END_TEST

static long ns_at(const char *log, unsigned line, const char *what) {
	const char *p = log;
	for (unsigned i = 0; i < line; i++) {
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	ck_assert_msg(strncmp(p, what, strlen(what)) == 0, "line %u is not %s: %s", line, what, p);
	return strtol(p + strlen(what) + 1, NULL, 10);
}

/* A check that outlives the interval: the next starts health_interval
 * after it ended, never while it runs. */
START_TEST(test_never_overlapping)
{
	struct heard heard = { 0 };
	tl_write("plan", "0\n0\n0\n0\n", 0644);
	char *cmd = plan_command("0.1");
	struct health *h = new_health(cmd, 20 * USEC_PER_MSEC, 0, 3, false, &heard);
	health_resume(h);
	run_checks(h, 4, 10000);
	health_free(h);
	char *log = xstrdup(tl_read("log"));
	ck_assert_uint_eq(tl_lines("log"), 8);
	for (unsigned k = 0; k < 4; k++) {
		long start = ns_at(log, 2 * k, "start"), end = ns_at(log, 2 * k + 1, "end");
		ck_assert_msg(end - start >= 100000000L, "check %u lasted %ld ns", k + 1, end - start);
		if (k > 0) {
			long prev_end = ns_at(log, 2 * k - 1, "end");
			ck_assert_msg(start - prev_end >= 20000000L, "check %u started %ld ns after the previous ended",
				      k + 1, start - prev_end);
		}
	}
	free(log);
	free(cmd);
}
END_TEST

static bool heard_something(void *arg) {
	return ((struct heard *) arg)->n > 0;
}

/* Killed at health_timeout: failed, and its process is gone. */
START_TEST(test_timeout_fails)
{
	struct heard heard = { 0 };
	char *cmd = xasprintf("sh -c 'echo $$ > %s; exec sleep 100'", tl_path("pid"));
	usec_t start = now_usec(CLOCK_MONOTONIC);
	struct health *h = new_health(cmd, 1000 * USEC_PER_MSEC, 50 * USEC_PER_MSEC, 1, false, &heard);
	health_resume(h);
	ck_assert(tl_run_until(&loop, heard_something, &heard, 10000));
	usec_t took = now_usec(CLOCK_MONOTONIC) - start;
	ck_assert_msg(took >= 50 * USEC_PER_MSEC && took < 2 * USEC_PER_SEC, "%llu us", (unsigned long long) took);
	ck_assert_str_eq(heard.what, "UX");
	pid_t pid = (pid_t) tl_number("pid");
	ck_assert_int_gt(pid, 0);
	ck_assert(tl_gone(pid));
	health_free(h);
	free(cmd);
}
END_TEST

static bool has_lines(void *arg) {
	return tl_lines("log") >= *(unsigned *) arg;
}

/* Pause kills the check in flight without a verdict and runs none until
 * resumed; resume checks at once. */
START_TEST(test_pause_resume)
{
	struct heard heard = { 0 };
	tl_write("plan", "0\n0\n0\n", 0644);
	char *cmd = plan_command("0.3");
	struct health *h = new_health(cmd, 20 * USEC_PER_MSEC, 0, 3, false, &heard);
	health_resume(h);
	unsigned one = 1;
	ck_assert(tl_run_until(&loop, has_lines, &one, 5000));   /* the first check started */
	unsigned watched = loop.watched;
	health_pause(h);
	tl_run_for(&loop, 500);
	ck_assert_msg(tl_lines("log") == 1, "%s", tl_read("log"));   /* killed: no "end", and no second check */
	ck_assert_int_eq(tl_number("n"), 1);
	ck_assert_uint_eq(loop.watched, watched + 1);  /* its process was reaped */
	ck_assert_uint_eq(heard.n, 0);
	ck_assert_int_eq(health_state(h), HEALTH_UNKNOWN);
	health_pause(h);                               /* twice: nothing */
	usec_t resumed = now_usec(CLOCK_MONOTONIC);
	health_resume(h);
	health_resume(h);                              /* twice: one check */
	unsigned two = 2;
	ck_assert(tl_run_until(&loop, has_lines, &two, 5000));
	ck_assert_msg(now_usec(CLOCK_MONOTONIC) - resumed < 200 * USEC_PER_MSEC, "no check at once");
	ck_assert(tl_run_until(&loop, heard_something, &heard, 5000));
	ck_assert_str_eq(heard.what, "H");
	ck_assert_int_eq(tl_number("n"), 2);
	health_free(h);
	free(cmd);
	/* the killed check's sleep was the child of its shell: an orphan */
	ck_assert_uint_le(loop.orphans, 1);
}
END_TEST

/* The owner frees the object from changed(): exhausted is not called, no
 * check follows, nothing is touched after (ASan, valgrind). */
START_TEST(test_free_in_callback)
{
	struct heard heard = { 0 };
	tl_write("plan", "1\n1\n", 0644);
	char *cmd = plan_command("0");
	heard.free_in_changed = new_health(cmd, 20 * USEC_PER_MSEC, 0, 1, false, &heard);
	health_resume(heard.free_in_changed);
	ck_assert(tl_run_until(&loop, heard_something, &heard, 5000));
	tl_run_for(&loop, 200);
	ck_assert_str_eq(heard.what, "U");
	ck_assert_ptr_null(heard.free_in_changed);
	ck_assert_int_eq(tl_number("n"), 1);
	free(cmd);

	/* and from its own timer's callback: a check that cannot start */
	memset(&heard, 0, sizeof(heard));
	heard.free_in_changed = new_health("/nonexistent/check", 20 * USEC_PER_MSEC, 0, 1, false, &heard);
	health_resume(heard.free_in_changed);
	ck_assert(tl_run_until(&loop, heard_something, &heard, 5000));
	tl_run_for(&loop, 100);
	ck_assert_str_eq(heard.what, "U");
	ck_assert_ptr_null(heard.free_in_changed);
}
END_TEST

/* A check that cannot start is a failed one; freeing with a check in
 * flight kills it. */
START_TEST(test_start_failure_counts)
{
	struct heard heard = { 0 };
	struct health *h = new_health("/nonexistent/check", 20 * USEC_PER_MSEC, 0, 2, false, &heard);
	health_resume(h);
	run_checks(h, 3, 5000);
	ck_assert_str_eq(heard.what, "UX");
	ck_assert_uint_eq(health_failures(h), 3);
	health_free(h);

	char *cmd = xasprintf("sh -c 'echo $$ > %s; exec sleep 100'", tl_path("pid"));
	memset(&heard, 0, sizeof(heard));
	h = new_health(cmd, 20 * USEC_PER_MSEC, 0, 2, false, &heard);
	health_resume(h);
	ck_assert(tl_run_until(&loop, pid_written, NULL, 5000));
	pid_t pid = (pid_t) tl_number("pid");
	unsigned watched = loop.watched;
	health_free(h);
	unsigned want = watched + 1;
	ck_assert(tl_run_until(&loop, watched_at_least, &want, 5000));
	ck_assert(tl_gone(pid));
	ck_assert_uint_eq(heard.n, 0);
	free(cmd);
}
END_TEST

START_TEST(test_bad_params)
{
	struct health *h;
	char *error = NULL;
	struct jobcheck_job job = { .jc = jc, .name = "j", .instance = "", .output_fd = -1 };
	struct health_params p = { .command = "true", .interval = 0, .retries = 1 };
	ck_assert_int_eq(health_new(loop.e, &loop.reaper, &job, &p, &ops, NULL, &h, &error), -EINVAL);
	ck_assert_str_eq(error, "health_interval must be above 0");
	free(error);
	p.interval = USEC_PER_SEC;
	p.retries = 0;
	ck_assert_int_eq(health_new(loop.e, &loop.reaper, &job, &p, &ops, NULL, &h, &error), -EINVAL);
	ck_assert_str_eq(error, "health_retries must be at least 1");
	free(error);
	p.retries = 1;
	p.command = "echo \"open";
	ck_assert_int_eq(health_new(loop.e, &loop.reaper, &job, &p, &ops, NULL, &h, &error), -EINVAL);
	ck_assert_str_eq(error, "health_command: unterminated quote");
	free(error);
	p.command = "";
	ck_assert_int_eq(health_new(loop.e, &loop.reaper, &job, &p, &ops, NULL, &h, &error), -EINVAL);
	ck_assert_str_eq(error, "health_command is empty");
	free(error);
	ck_assert_ptr_null(h);
	ck_assert_str_eq(health_state_to_string(HEALTH_UNHEALTHY), "unhealthy");
}
END_TEST

/* ---- ready = command: ---- */

static void on_ready(void *userdata) {
	(*(unsigned *) userdata)++;
}

static bool ready_once(void *arg) {
	return *(unsigned *) arg > 0;
}

static struct readycmd *new_readycmd(const char *cmd, usec_t interval, unsigned *ready) {
	struct readycmd *rc;
	char *error = NULL;
	const struct jobcheck_job job = { .jc = jc, .name = "j", .instance = "", .output_fd = -1 };
	ck_assert_msg(readycmd_new(loop.e, &loop.reaper, &job, cmd, interval, on_ready, ready, &rc, &error) == 0,
		      "%s", error);
	return rc;
}

/* Tried every ready_interval from the start of the previous try, until the
 * first exit 0; ready once, then no more tries. */
START_TEST(test_ready_command)
{
	unsigned ready = 0;
	tl_write("plan", "1\n1\n0\n1\n", 0644);
	char *cmd = plan_command("0");
	usec_t start = now_usec(CLOCK_MONOTONIC);
	struct readycmd *rc = new_readycmd(cmd, 100 * USEC_PER_MSEC, &ready);
	ck_assert(tl_run_until(&loop, ready_once, &ready, 5000));
	/* tries at 0, 100 and 200ms, not one after the other */
	usec_t took = now_usec(CLOCK_MONOTONIC) - start;
	ck_assert_msg(took >= 200 * USEC_PER_MSEC, "ready after %llu us", (unsigned long long) took);
	ck_assert_uint_eq(readycmd_tries(rc), 3);
	tl_run_for(&loop, 250);
	ck_assert_uint_eq(ready, 1);
	ck_assert_int_eq(tl_number("n"), 3);
	ck_assert_uint_eq(readycmd_tries(rc), 3);
	readycmd_free(rc);
	free(cmd);
}
END_TEST

/* A try still running at ready_interval is killed; the next follows it. */
START_TEST(test_ready_command_hangs)
{
	unsigned ready = 0;
	char *cmd = xasprintf("sh -c 'n=$(($(cat %s 2>/dev/null || echo 0) + 1)); echo $n > %s; "
			      "if [ $n = 1 ]; then echo $$ > %s; exec sleep 100; fi'",
			      tl_path("n"), tl_path("n"), tl_path("pid"));
	usec_t start = now_usec(CLOCK_MONOTONIC);
	struct readycmd *rc = new_readycmd(cmd, 60 * USEC_PER_MSEC, &ready);
	ck_assert(tl_run_until(&loop, ready_once, &ready, 5000));
	ck_assert_uint_ge(now_usec(CLOCK_MONOTONIC) - start, 60 * USEC_PER_MSEC);
	ck_assert_uint_eq(readycmd_tries(rc), 2);
	ck_assert(tl_gone((pid_t) tl_number("pid")));
	readycmd_free(rc);
	free(cmd);

	/* freed while a try runs: it is killed, ready never comes */
	ready = 0;
	unlink(tl_path("n"));
	unlink(tl_path("pid"));
	cmd = xasprintf("sh -c 'echo $$ > %s; exec sleep 100'", tl_path("pid"));
	rc = new_readycmd(cmd, 5 * USEC_PER_SEC, &ready);
	ck_assert(tl_run_until(&loop, pid_written, NULL, 5000));
	pid_t pid = (pid_t) tl_number("pid");
	unsigned want = loop.watched + 1;
	readycmd_free(rc);
	ck_assert(tl_run_until(&loop, watched_at_least, &want, 5000));
	ck_assert(tl_gone(pid));
	ck_assert_uint_eq(ready, 0);
	free(cmd);
	ck_assert_uint_eq(loop.orphans, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("health");
	tl_process_init();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_unknown_then_healthy);
	tcase_add_test(tc, test_failures_in_a_row);
	tcase_add_test(tc, test_exhausted_once);
	tcase_add_test(tc, test_never_overlapping);
	tcase_add_test(tc, test_timeout_fails);
	tcase_add_test(tc, test_pause_resume);
	tcase_add_test(tc, test_free_in_callback);
	tcase_add_test(tc, test_start_failure_counts);
	tcase_add_test(tc, test_bad_params);
	tcase_add_test(tc, test_ready_command);
	tcase_add_test(tc, test_ready_command_hangs);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);   /* the loop reaps the children here */
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
