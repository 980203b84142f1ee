/* Unit tests for process creation (daemon/spawn.c): the fd map of a child
 * beyond stdio, checked on real processes. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "config.h"
#include "spawn.h"

static struct supd_config *conf;

static void setup(void) {
	char path[] = "/tmp/supd-test-spawn-XXXXXX";
	static const char text[] =
		"[job:true]\ncommand = true\nstdout = null\n"
		"[job:fds]\ncommand = sh -c 'echo four >&4 && echo seven >&7 && exec ls /proc/self/fd >&7'\nstdout = null\n"
		"[job:many]\ncommand = bash -c 'for n in {3..24}; do echo $n >&$n; done'\nstdout = null\n"
		"[job:pipe]\ncommand = sh -c 'echo a >&5' | sh -c 'cat && echo b >&5'\nstdout = null\n";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, sizeof(text) - 1), 0);
	close(fd);
	struct config_errors errs = { 0 };
	ck_assert_int_eq(config_load(path, &conf, &errs), 0);
	unlink(path);
}

static void teardown(void) {
	config_free(conf);
}

static int run(const char *job, const struct spawn_fd *fds, size_t n) {
	struct spawn_result res;
	int r = spawn_run(config_find_job(conf, job), job, "", -1, fds, n, &res);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", job, res.error);
		spawn_result_free(&res);
		return r;
	}
	int status = 0;
	for (size_t i = 0; i < res.n_stages; i++) {
		int ws;
		ck_assert_int_eq(waitpid(res.pids[i], &ws, 0), res.pids[i]);
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			status = 1;
	}
	spawn_result_free(&res);
	return status;
}

static char *slurp(int fd) {
	static char buf[4096];
	size_t n = 0;
	ssize_t k;
	while ((k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t) k;
	buf[n] = '\0';
	return buf;
}

/* Targets 4 and 7: once supd's own slots sit at low fds (after a first
 * spawn), a target collides with a slot and the child must move the
 * sources out of the way first. The child holds exactly 0-2, 4 and 7. */
START_TEST(test_fd_map)
{
	int a[2], b[2];

	ck_assert_int_eq(run("true", NULL, 0), 0);     /* the slots take low fds */
	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
	struct spawn_fd map[] = { { 4, a[1] }, { 7, b[1] } };
	ck_assert_int_eq(run("fds", map, 2), 0);
	close(a[1]);
	close(b[1]);
	ck_assert_str_eq(slurp(a[0]), "four\n");
	/* 3 is ls's own directory: the lowest free fd, so nothing else was */
	ck_assert_str_eq(slurp(b[0]), "seven\n0\n1\n2\n3\n4\n7\n");
	close(a[0]);
	close(b[0]);
}
END_TEST

/* Targets 3-24 given in reverse order, over supd's own slot numbers
 * (wherever the slots are, some target is one that is not consumed yet):
 * each must still get its own source. */
#define MANY 22
START_TEST(test_fd_map_over_slots)
{
	int p[MANY][2];
	struct spawn_fd map[MANY];

	/* a first run makes the extra slots while low fds are free */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(null, 0);
	for (int i = 0; i < MANY; i++)
		map[i] = (struct spawn_fd) { .target = 3 + i, .source = null };
	ck_assert_int_eq(run("many", map, MANY), 0);
	close(null);
	for (int i = 0; i < MANY; i++) {
		ck_assert_int_eq(pipe2(p[i], O_CLOEXEC), 0);
		map[i] = (struct spawn_fd) { .target = 2 + MANY - i, .source = p[i][1] };
	}
	ck_assert_int_eq(run("many", map, MANY), 0);
	for (int i = 0; i < MANY; i++) {
		char want[8];
		close(p[i][1]);
		snprintf(want, sizeof(want), "%d\n", 2 + MANY - i);
		ck_assert_str_eq(slurp(p[i][0]), want);
		close(p[i][0]);
	}
}
END_TEST

/* Every stage of a pipeline gets the extra fds. */
START_TEST(test_fd_map_every_stage)
{
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct spawn_fd map[] = { { 5, p[1] } };
	ck_assert_int_eq(run("pipe", map, 1), 0);
	close(p[1]);
	ck_assert_str_eq(slurp(p[0]), "a\nb\n");
	close(p[0]);
}
END_TEST

START_TEST(test_fd_map_refused)
{
	struct spawn_result res;
	struct spawn_fd low[] = { { 2, 0 } };
	ck_assert_int_eq(spawn_run(config_find_job(conf, "true"), "true", "", -1, low, 1, &res), -EINVAL);
	ck_assert_ptr_nonnull(strstr(res.error, "fd map"));
	spawn_result_free(&res);
	struct spawn_fd twice[] = { { 3, 0 }, { 3, 1 } };
	ck_assert_int_eq(spawn_run(config_find_job(conf, "true"), "true", "", -1, twice, 2, &res), -EINVAL);
	ck_assert_ptr_nonnull(strstr(res.error, "twice"));
	spawn_result_free(&res);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("fdmap");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fd_map);
	tcase_add_test(tc, test_fd_map_over_slots);
	tcase_add_test(tc, test_fd_map_every_stage);
	tcase_add_test(tc, test_fd_map_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);   /* spawn's children are reaped here */
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
