/* SPDX-License-Identifier: ISC */
/* Unit tests for check processes (daemon/check.c) on real processes and a
 * real event loop: who a check runs as and what it gets (SPEC §7), its
 * process group, its timeout, cancel, what it leaves behind, no shell, and
 * its exit routed through the supervisor's own reaper. */
#include <grp.h>
#include <pwd.h>
#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#include "check-loop.h"
#include "jobcheck.h"
#include "supervisor.h"

static struct test_loop loop;

static void setup(void) {
	tl_dir_make();
	tl_init(&loop);
}

static void teardown(void) {
	tl_done(&loop);
	config_free(tl_conf);
	tl_conf = NULL;
	tl_dir_remove();
}

struct outcome {
	bool done;
	unsigned calls;
	int status;
	bool timed_out;
};

static void on_done(void *userdata, int status, bool timed_out) {
	struct outcome *o = userdata;
	o->done = true;
	o->calls++;
	o->status = status;
	o->timed_out = timed_out;
}

static bool is_done(void *arg) {
	return ((struct outcome *) arg)->done;
}

static struct jobcheck_params params(const struct job_config *jc, const char *cmd, int out, struct outcome *o) {
	return (struct jobcheck_params) {
		.job = { .jc = jc, .name = "j@x", .instance = "x", .output_fd = out },
		.command = cmd, .timeout = 0, .done = on_done, .userdata = o,
	};
}

/* Run cmd as a check of jc with its output on a pipe; the output, its
 * wait status in *status (-1: could not start, *error set). */
static char *run_check(const struct job_config *jc, const char *cmd, int *status, char **error) {
	static char buf[65536];
	struct outcome o = { 0 };
	struct jobcheck *c;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct jobcheck_params cp = params(jc, cmd, p[1], &o);
	int r = jobcheck_start(loop.e, &loop.reaper, &cp, &c, error);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		*status = -1;
		ck_assert_ptr_null(c);
		return NULL;
	}
	ck_assert_ptr_null(*error);
	ck_assert_msg(tl_run_until(&loop, is_done, &o, 10000), "check %s never ended", cmd);
	ck_assert_uint_eq(o.calls, 1);
	ck_assert(!o.timed_out);
	size_t n = 0;
	ssize_t k;
	while ((k = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t) k;
	buf[n] = '\0';
	close(p[0]);
	*status = o.status;
	return buf;
}

/* Output of a check that must pass. */
static char *passing(const struct job_config *jc, const char *cmd) {
	int status;
	char *error = NULL;
	char *out = run_check(jc, cmd, &status, &error);
	ck_assert_msg(out, "%s: %s", cmd, error);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %#x, output %s", cmd, status, out);
	return out;
}

/* The job's user, group, directory, environment, limits and umask; as
 * root the job runs as nobody. */
static struct job_config *identity_job(void) {
	tl_write("env", "B=from-file\nWATCHDOG_PID=7\nexport NOTIFY_SOCKET=/from/file\n", 0644);
	tl_write("in", "job's stdin\n", 0644);
	tl_write("secret", "s3cret", 0600);
	return tl_job("command = sleep 1\nuser = %s\ndirectory = %s\numask = 0027\n"
		      "environment = A=1 NOTIFY_SOCKET=/x WATCHDOG_USEC=5000000 LISTEN_FDS=1\n"
		      "environment_file = %s\nstdin = %s\nsecret = 5 %s\nstdout = log\n",
		      geteuid() == 0 ? "nobody" : getpwuid(geteuid())->pw_name, tl_dir, tl_path("env"),
		      tl_path("in"), tl_path("secret"));
}

START_TEST(test_identity)
{
	struct job_config *jc = identity_job();
	struct passwd *pw = getpwnam(geteuid() == 0 ? "nobody" : getpwuid(geteuid())->pw_name);
	ck_assert_ptr_nonnull(pw);
	char *want = xasprintf("%u %u\n", (unsigned) pw->pw_uid, (unsigned) pw->pw_gid);
	ck_assert_str_eq(passing(jc, "sh -c 'echo $(id -u) $(id -g)'"), want);
	free(want);
	/* its supplementary groups are the user's, not supd's: the same set */
	int ng = 64;
	gid_t groups[64];
	ck_assert_int_ge(getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng), 0);
	char *out = passing(jc, "id -G");
	int n = 0;
	for (char *p = out, *end; *p && *p != '\n'; p = end, n++) {
		unsigned long g = strtoul(p, &end, 10);
		ck_assert_ptr_ne(end, p);
		bool known = false;
		for (int i = 0; i < ng; i++)
			known |= groups[i] == (gid_t) g;
		ck_assert_msg(known, "group %lu is not one of %s's: %s", g, pw->pw_name, out);
	}
	ck_assert_int_eq(n, ng);
	want = xasprintf("%s\n", tl_dir);
	ck_assert_str_eq(passing(jc, "pwd"), want);
	free(want);
	ck_assert_str_eq(passing(jc, "sh -c umask"), "0027\n");
	/* %n and %i, and the job's name in the environment */
	ck_assert_str_eq(passing(jc, "echo %n %i"), "j@x x\n");
}
END_TEST

/* The job's rlimits, set before the user switch. */
START_TEST(test_limits)
{
	struct job_config *jc = tl_job("command = true\nuser = %s\nlimit_nofile = 123:456\nlimit_core = 0\n",
				       geteuid() == 0 ? "nobody" : getpwuid(geteuid())->pw_name);
	ck_assert_str_eq(passing(jc, "sh -c 'grep -e \"Max open files\" -e \"Max core\" /proc/self/limits | tr -s \" \"'"),
			 "Max core file size 0 0 bytes \nMax open files 123 456 files \n");
}
END_TEST

START_TEST(test_environment)
{
	struct job_config *jc = identity_job();
	char *out = passing(jc, "env");
	ck_assert_msg(strstr(out, "\nA=1\n") || !strncmp(out, "A=1\n", 4), "%s", out);
	ck_assert_msg(strstr(out, "B=from-file\n"), "%s", out);
	ck_assert_msg(strstr(out, "SUPD_JOB=j@x\n"), "%s", out);
	ck_assert_msg(strstr(out, "SUPD_INSTANCE=x\n"), "%s", out);
	if (geteuid() == 0)
		ck_assert_msg(strstr(out, "USER=nobody\n"), "%s", out);
	/* none of the notification variables, whoever set them */
	ck_assert_msg(!strstr(out, "NOTIFY_SOCKET"), "%s", out);
	ck_assert_msg(!strstr(out, "WATCHDOG_"), "%s", out);
	ck_assert_msg(!strstr(out, "LISTEN_"), "%s", out);
}
END_TEST

/* stdin /dev/null, not the job's; no secret fd; nothing beyond 0-2. */
START_TEST(test_fds)
{
	struct job_config *jc = identity_job();
	ck_assert_str_eq(passing(jc, "readlink /proc/self/fd/0"), "/dev/null\n");
	/* 3 is ls's own directory: the lowest free fd */
	ck_assert_str_eq(passing(jc, "ls /proc/self/fd"), "0\n1\n2\n3\n");
	/* stdout and stderr both go to the output fd */
	ck_assert_str_eq(passing(jc, "sh -c 'echo out; echo err >&2'"), "out\nerr\n");
	/* and without one, to /dev/null */
	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	tl_write("o", "", 0666);   /* for nobody to write */
	/* the shell's own fds, read while no redirection of its is active */
	char *cmd = xasprintf("sh -c 'x=$(readlink /proc/$$/fd/1 /proc/$$/fd/2); echo \"$x\" > %s'", tl_path("o"));
	struct jobcheck_params cp = params(jc, cmd, -1, &o);
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), 0);
	ck_assert(tl_run_until(&loop, is_done, &o, 10000));
	ck_assert_msg(jobcheck_passed(o.status, o.timed_out), "%#x", o.status);
	ck_assert_str_eq(tl_read("o"), "/dev/null\n/dev/null\n");
	free(cmd);
}
END_TEST

/* Its own process group, led by its first stage: not supd's, not the job's. */
START_TEST(test_process_group)
{
	struct job_config *jc = tl_job("command = true");
	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct jobcheck_params cp = params(jc, "cut -d \" \" -f 1,5 /proc/self/stat", p[1], &o);
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), 0);
	close(p[1]);
	pid_t pgid = jobcheck_pgid(c);
	ck_assert(tl_run_until(&loop, is_done, &o, 10000));
	char buf[64] = "";
	ck_assert_int_gt(read(p[0], buf, sizeof(buf) - 1), 0);
	close(p[0]);
	int pid, pgrp;
	ck_assert_int_eq(sscanf(buf, "%d %d", &pid, &pgrp), 2);
	ck_assert_int_eq(pid, pgid);
	ck_assert_int_eq(pgrp, pgid);
	ck_assert_int_ne(pgrp, getpgrp());
	ck_assert_uint_eq(loop.watched, 1);
	ck_assert_uint_eq(loop.orphans, 0);
}
END_TEST

/* Split like command, no shell: the quotes keep "a b" one word and $HOME
 * and * stay as written. */
START_TEST(test_no_shell)
{
	struct job_config *jc = tl_job("command = true");
	char *cmd = xasprintf("test -e \"%s\"", tl_path("a b"));
	int status;
	char *error = NULL;
	ck_assert_ptr_nonnull(run_check(jc, cmd, &status, &error));
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 1);   /* 2 would be "test -e DIR/a b" */
	tl_write("a b", "", 0644);
	ck_assert_ptr_nonnull(run_check(jc, cmd, &status, &error));
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(cmd);
	ck_assert_str_eq(passing(jc, "echo $HOME * ;"), "$HOME * ;\n");
	/* with shell = true, /bin/sh -c CMD as for command, %n quoted */
	jc = tl_job("command = true\nshell = true");
	ck_assert_str_eq(passing(jc, "echo $((1 + 2)) %n; echo second"), "3 j@x\nsecond\n");
}
END_TEST

/* A pipeline: every stage in the check's group; pipefail. */
START_TEST(test_pipeline)
{
	struct job_config *jc = tl_job("command = true");
	ck_assert_str_eq(passing(jc, "echo a | tr a b"), "b\n");
	int status;
	char *error = NULL;
	ck_assert_ptr_nonnull(run_check(jc, "sh -c 'exit 3' | cat", &status, &error));
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 3);
	ck_assert_ptr_nonnull(run_check(jc, "sh -c 'exit 3' | sh -c 'cat; exit 4'", &status, &error));
	ck_assert_int_eq(WEXITSTATUS(status), 4);   /* the rightmost failing stage */
	ck_assert_uint_eq(loop.watched, 2 + 2 + 2);
	ck_assert_uint_eq(loop.orphans, 0);
	ck_assert(!jobcheck_passed(status, false));
	char *why = jobcheck_describe(status, false, 0);
	ck_assert_str_eq(why, "exited 4");
	free(why);
}
END_TEST

/* Killed at its timeout: done with timed_out once the process is gone. */
START_TEST(test_timeout)
{
	struct job_config *jc = tl_job("command = true");
	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	struct jobcheck_params cp = params(jc, "sleep 100", -1, &o);
	cp.timeout = 50 * USEC_PER_MSEC;
	usec_t start = now_usec(CLOCK_MONOTONIC);
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), 0);
	pid_t pid = jobcheck_pgid(c);
	ck_assert(!tl_gone(pid));
	ck_assert(tl_run_until(&loop, is_done, &o, 10000));
	usec_t took = now_usec(CLOCK_MONOTONIC) - start;
	ck_assert_msg(took >= 50 * USEC_PER_MSEC && took < 5 * USEC_PER_SEC, "took %llu us", (unsigned long long) took);
	ck_assert(o.timed_out);
	ck_assert(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGKILL);
	ck_assert(tl_gone(pid));
	ck_assert(!jobcheck_passed(o.status, o.timed_out));
	char *why = jobcheck_describe(o.status, o.timed_out, cp.timeout);
	ck_assert_str_eq(why, "timed out after 50ms");
	free(why);
	/* the timer is gone with the check: nothing fires later */
	tl_run_for(&loop, 100);
	ck_assert_uint_eq(o.calls, 1);
}
END_TEST

static bool watched_reaped(void *arg) {
	return loop.watched >= *(unsigned *) arg;
}

/* Cancel: killed at once, never calls back, leaves no process; its exit is
 * still no orphan. */
START_TEST(test_cancel)
{
	struct job_config *jc = tl_job("command = true");
	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	struct jobcheck_params cp = params(jc, "sleep 100 | sleep 100", -1, &o);
	cp.timeout = 500 * USEC_PER_MSEC;
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), 0);
	pid_t pid = jobcheck_pgid(c);
	tl_run_for(&loop, 10);
	ck_assert_uint_eq(o.calls, 0);
	jobcheck_cancel(c);
	unsigned two = 2;
	ck_assert(tl_run_until(&loop, watched_reaped, &two, 10000));
	ck_assert(tl_gone(pid));
	ck_assert_int_eq(kill(-pid, 0), -1);
	tl_run_for(&loop, 600);   /* past its timeout: nothing */
	ck_assert_uint_eq(o.calls, 0);
	ck_assert_uint_eq(loop.orphans, 0);
}
END_TEST

static bool one_orphan(void *arg) {
	(void) arg;
	return loop.orphans >= 1;
}

/* What a check leaves in its group when it ends is killed. */
START_TEST(test_leftover_killed)
{
	struct job_config *jc = tl_job("command = true");
	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	char *cmd = xasprintf("sh -c 'sleep 100 & echo $! > %s'", tl_path("bg"));
	struct jobcheck_params cp = params(jc, cmd, -1, &o);
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), 0);
	ck_assert(tl_run_until(&loop, is_done, &o, 10000));
	ck_assert(jobcheck_passed(o.status, o.timed_out));
	pid_t bg = (pid_t) tl_number("bg");
	ck_assert_int_gt(bg, 0);
	/* killed when the check ended, and reaped here as the subreaper it
	 * was left to (left alone, it would sleep for 100s) */
	ck_assert(tl_run_until(&loop, one_orphan, NULL, 5000));
	ck_assert(tl_gone(bg));
	free(cmd);
}
END_TEST

/* What cannot start is an error with its reason and leaves nothing. */
START_TEST(test_start_failures)
{
	struct job_config *jc = tl_job("command = true");
	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	struct jobcheck_params cp = params(jc, "/nonexistent/x", -1, &o);
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), -ENOENT);
	ck_assert_str_eq(error, "exec /nonexistent/x: No such file or directory");
	ck_assert_ptr_null(c);
	free(error);
	cp.command = "echo 'open";
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), -EINVAL);
	ck_assert_str_eq(error, "unterminated quote");
	free(error);
	/* the cgroup is where the check goes: one it cannot enter is a spawn failure */
	cp.command = "true";
	int notcg = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(notcg, 0);
	const struct jobcheck_cgroup cg = { .fd = notcg, .path = "/" };
	cp.job.cgroup = &cg;
	ck_assert_int_lt(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), 0);
	ck_assert_msg(strncmp(error, "cannot enter cgroup /", 21) == 0, "%s", error);
	ck_assert_ptr_null(c);
	free(error);
	close(notcg);
	/* the job's directory, as the job's user: a spawn failure too */
	jc = tl_job("command = true\ndirectory = /nonexistent");
	cp = params(jc, "true", -1, &o);
	ck_assert_int_eq(jobcheck_start(loop.e, &loop.reaper, &cp, &c, &error), -ENOENT);
	ck_assert_str_eq(error, "chdir /nonexistent: No such file or directory");
	free(error);
	tl_run_for(&loop, 50);
	ck_assert_uint_eq(o.calls, 0);
	ck_assert_uint_eq(loop.watched, 0);
	ck_assert_uint_eq(loop.orphans, 0);
}
END_TEST

/* ---- through supd's own reaper ---- */

static bool job_final_and_done(void *arg) {
	void **v = arg;
	return job_state_is_final(((struct job *) v[0])->state) && ((struct outcome *) v[1])->done;
}

/* A job's run and a check at the same time on the supervisor: the job's
 * stage exit reaches the job, the check's the check. */
START_TEST(test_supervisor_routes)
{
	sd_event *e = NULL;
	struct supervisor *s;
	struct supd_config *conf;
	struct config_errors errs = { 0 };

	tl_write("sup.conf", "[job:j]\ncommand = sleep 0.2\nstdout = null\n", 0600);
	ck_assert_int_eq(config_load(tl_path("sup.conf"), &conf, &errs), 0);
	ck_assert_int_ge(sd_event_new(&e), 0);
	ck_assert_int_eq(supervisor_new(e, conf, NULL, 1, &s), 0);
	struct job *j = supervisor_find(s, "j");
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);

	struct outcome o = { 0 };
	struct jobcheck *c;
	char *error = NULL;
	struct jobcheck_params cp = params(j->config, "sh -c 'exit 7'", -1, &o);
	ck_assert_int_eq(jobcheck_start(e, &s->children, &cp, &c, &error), 0);
	void *v[] = { j, &o };
	usec_t end = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
	while (!job_final_and_done(v) && now_usec(CLOCK_MONOTONIC) < end)
		ck_assert_int_ge(sd_event_run(e, 100 * USEC_PER_MSEC), 0);
	ck_assert(o.done);
	ck_assert_int_eq(WEXITSTATUS(o.status), 7);
	ck_assert_int_eq(j->state, JOB_EXITED);
	ck_assert_int_eq(j->run.exit_code, 0);

	/* a cancelled check not yet reaped when supd goes away: freed by
	 * the reaper (ASan and valgrind see no leak), its process killed */
	ck_assert_int_eq(jobcheck_start(e, &s->children, &cp, &c, &error), 0);
	pid_t pid = jobcheck_pgid(c);
	jobcheck_cancel(c);
	supervisor_free(s);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	sd_event_unref(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("check");
	tl_process_init();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_identity);
#ifdef HAVE_VALGRIND_H
	if (RUNNING_ON_VALGRIND)   /* as in tests/valgrind/run.py */
		fprintf(stderr, "test-check: not run (valgrind emulates setrlimit in the child): test_limits\n");
	else
#endif
		tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_environment);
	tcase_add_test(tc, test_fds);
	tcase_add_test(tc, test_process_group);
	tcase_add_test(tc, test_no_shell);
	tcase_add_test(tc, test_pipeline);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_leftover_killed);
	tcase_add_test(tc, test_start_failures);
	tcase_add_test(tc, test_supervisor_routes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);   /* the loop reaps the children here */
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
