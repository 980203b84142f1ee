/* SPDX-License-Identifier: ISC */
/* Unit tests for process creation (daemon/spawn.c): the fd map of a child
 * beyond stdio, secrets on a pipe per stage, limits, umask and the
 * failures supd explains, checked on real processes. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "cgroup-mount.h"
#include "config.h"
#include "secret.h"
#include "spawn-clone.h"
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

/* ---- limits, umask, secrets: jobs of their own config ---- */

static char tmpdir[] = "/tmp/supd-test-spawn-dir-XXXXXX";
static struct supd_config *own;

static struct job_config *load_job(const char *fmt, ...) _printf_(1, 2);
static struct job_config *load_job(const char *fmt, ...) {
	char *path = xasprintf("%s/job.conf", tmpdir);
	va_list ap;
	va_start(ap, fmt);
	char *body = xvasprintf(fmt, ap);
	va_end(ap);
	char *text = xasprintf("[job:j]\nstdout = null\nstderr = inherit\n%s\n", body);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
	struct config_errors errs = { 0 };
	config_free(own);
	int r = config_load(path, &own, &errs);
	ck_assert_msg(r == 0, "%s", errs.n ? errs.v[0] : "?");
	config_errors_clear(&errs);
	free(path);
	free(body);
	free(text);
	return own->jobs[0];
}

static char *tmp_path(const char *name) {
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *name, const char *data, size_t len, mode_t mode) {
	int fd = open(tmp_path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, data, len), 0);
	close(fd);
}

static void own_setup(void) {
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void own_teardown(void) {
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
	config_free(own);
	own = NULL;
}

/* Spawn jc with fd 3 of every stage the write end of a pipe (into
 * cgroup cg, if not NULL); write what the secret pipes did not take from
 * an event loop, wait for every stage, and return what fd 3 got (or NULL
 * with *error on a spawn failure). */
static char *run_out_in(const struct job_config *jc, const struct spawn_cgroup *cg, char **error) {
	static char buf[65536];
	struct spawn_result res;
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct spawn_fd map[] = { { 3, p[1] } };
	int r = spawn_run_in(jc, "j", "x", -1, map, 1, cg, 0, &res);
	close(p[1]);
	if (r < 0) {
		*error = xstrdup(res.error);
		ck_assert_int_eq(res.exit_status, 126);
		ck_assert_ptr_null(res.secrets);
		spawn_result_free(&res);
		close(p[0]);
		return NULL;
	}
	if (res.secrets) {
		sd_event *e = NULL;
		ck_assert_int_ge(sd_event_new(&e), 0);
		ck_assert_int_ge(secret_feed_start(res.secrets, e), 0);
		while (secret_feed_pending(res.secrets) > 0)
			ck_assert_int_ge(sd_event_run(e, UINT64_MAX), 0);
		secret_feed_free(TAKE_PTR(res.secrets));
		sd_event_unref(e);
	}
	size_t n = 0;
	ssize_t k;
	while ((k = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t) k;
	buf[n] = '\0';
	close(p[0]);
	for (size_t i = 0; i < res.n_stages; i++) {
		int ws;
		ck_assert_int_eq(waitpid(res.pids[i], &ws, 0), res.pids[i]);
		ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "stage %zu failed: %#x", i, ws);
	}
	spawn_result_free(&res);
	return buf;
}

static char *run_out(const struct job_config *jc, char **error) {
	return run_out_in(jc, NULL, error);
}

/* The line of /proc/self/limits naming what, as "SOFT HARD". */
static char *limit_line(const char *limits, const char *what) {
	static char buf[128];
	const char *l = strstr(limits, what);
	ck_assert_msg(l, "no %s in\n%s", what, limits);
	char soft[32], hard[32];
	ck_assert_int_eq(sscanf(l + strlen(what), "%31s %31s", soft, hard), 2);
	snprintf(buf, sizeof(buf), "%s %s", soft, hard);
	return buf;
}

START_TEST(test_limits_applied)
{
	const struct job_config *jc = load_job(
		"command = sh -c 'cat /proc/self/limits >&3'\n"
		"limit_nofile = 512:1024\nlimit_core = 0\nlimit_fsize = 10M\n"
		"limit_cpu = infinity\nlimit_stack = 1M:infinity\nlimit_nproc = 4000:5000\n");
	char *error = NULL, *out = run_out(jc, &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_str_eq(limit_line(out, "Max open files"), "512 1024");
	ck_assert_str_eq(limit_line(out, "Max core file size"), "0 0");
	ck_assert_str_eq(limit_line(out, "Max file size"), "10485760 10485760");
	ck_assert_str_eq(limit_line(out, "Max cpu time"), "unlimited unlimited");
	ck_assert_str_eq(limit_line(out, "Max stack size"), "1048576 unlimited");
	ck_assert_str_eq(limit_line(out, "Max processes"), "4000 5000");
}
END_TEST

/* Without limit_nofile a job gets the limit supd started with. */
START_TEST(test_limit_nofile_default)
{
	const struct rlimit start = { 300, 400 };
	spawn_set_child_nofile(&start);
	char *error = NULL, *out = run_out(load_job("command = sh -c 'cat /proc/self/limits >&3'"), &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_str_eq(limit_line(out, "Max open files"), "300 400");
	/* limit_nofile overrides it */
	out = run_out(load_job("command = sh -c 'cat /proc/self/limits >&3'\nlimit_nofile = 100"), &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_str_eq(limit_line(out, "Max open files"), "100 100");
}
END_TEST

/* CAP_SYS_RESOURCE in effect (bit 24 of CapEff). */
static bool may_raise(void) {
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff = 0;
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 24);
}

/* One supd cannot give is a spawn failure naming the limit. */
START_TEST(test_limit_refused)
{
	char *error = NULL;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	unsigned long long nr_open = 0;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%llu", &nr_open), 1);
	fclose(f);
	ck_assert_ptr_null(run_out(load_job("command = true\nlimit_nofile = %llu", nr_open + 1), &error));
	char *want = xasprintf("limit_nofile %llu is above fs.nr_open (%llu)", nr_open + 1, nr_open);
	ck_assert_str_eq(error, want);
	free(want);
	free(error);
	/* infinity is fs.nr_open, which only root may give (and, in a
	 * container, not even root without CAP_SYS_RESOURCE) */
	struct rlimit nofile;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	char *out = run_out(load_job("command = sh -c 'cat /proc/self/limits >&3'\nlimit_nofile = infinity"), &error);
	if (may_raise() || nofile.rlim_max >= nr_open) {
		ck_assert_msg(out, "%s", error);
		want = xasprintf("%llu %llu", nr_open, nr_open);
		ck_assert_str_eq(limit_line(out, "Max open files"), want);
	} else {
		ck_assert_ptr_null(out);
		want = xasprintf("limit_nofile %llu is above supd's own hard limit (%llu), which only root may raise",
				 nr_open, (unsigned long long) nofile.rlim_max);
		ck_assert_str_eq(error, want);
		free(error);
	}
	free(want);
}
END_TEST

START_TEST(test_umask)
{
	char *error = NULL, *out = run_out(load_job(
		"command = sh -c 'umask >&3 && touch %s/made'\numask = 0027", tmpdir), &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_str_eq(out, "0027\n");
	struct stat st;
	ck_assert_int_eq(stat(tmp_path("made"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	/* and a file supd creates for the job: 0666 & ~umask */
	out = run_out(load_job("command = true\nstdin = %s/made\numask = 0077\n[job:k]\ncommand = true\n"
			       "stdout = %s/out.log\numask = 0077", tmpdir, tmpdir), &error);
	ck_assert_msg(out, "%s", error);
	out = run_out(own->jobs[1], &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_int_eq(stat(tmp_path("out.log"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* 1 MiB, the largest secret, read whole by each stage from its own pipe. */
START_TEST(test_secret_every_stage)
{
	size_t len = 1024 * 1024;
	char *data = xcalloc(1, len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char) ('a' + i % 26);
	write_file("big.pass", data, len, 0600);
	free(data);
	char *error = NULL, *out = run_out(load_job(
		"command = sh -c 'wc -c <&5 >&3; echo one' | sh -c 'cat >/dev/null; wc -c <&5 >&3'\n"
		"secret = 5 %s/%%i.pass\n", tmpdir), &error);
	ck_assert_msg(!out, "x.pass does not exist, yet: %s", out);
	char *want = xasprintf("secret %s/x.pass: No such file or directory", tmpdir);
	ck_assert_str_eq(error, want);
	free(want);
	free(error);
	char *from = xstrdup(tmp_path("big.pass"));
	ck_assert_int_eq(rename(from, tmp_path("x.pass")), 0);
	free(from);
	out = run_out(own->jobs[0], &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_str_eq(out, "1048576\n1048576\n");
}
END_TEST

/* Several secrets, an empty one among them; and the fd map refuses an
 * extra fd at a secret's FD. */
START_TEST(test_secrets_several)
{
	write_file("a", "alpha", 5, 0600);
	write_file("empty", "", 0, 0600);
	const struct job_config *jc = load_job(
		"command = sh -c 'cat <&4 >&3; cat <&9 >&3; echo . >&3'\n"
		"secret = 9 %s/a\nsecret = 4 %s/empty\n", tmpdir, tmpdir);
	char *error = NULL, *out = run_out(jc, &error);
	ck_assert_msg(out, "%s", error);
	ck_assert_str_eq(out, "alpha.\n");
	struct spawn_result res;
	struct spawn_fd at4[] = { { 4, 1 } };
	ck_assert_int_eq(spawn_run(jc, "j", "", -1, at4, 1, &res), -EINVAL);
	ck_assert_ptr_nonnull(strstr(res.error, "twice"));
	spawn_result_free(&res);
}
END_TEST

/* Without CAP_SYS_RESOURCE, no hard limit above supd's own. */
START_TEST(test_limit_beyond_own)
{
	struct rlimit nofile;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	unsigned long long above = (unsigned long long) nofile.rlim_max + 1;
	char *error = NULL;
	char *out = run_out(load_job("command = sh -c 'cat /proc/self/limits >&3'\nlimit_nofile = 10:%llu", above), &error);
	if (may_raise()) {
		ck_assert_msg(out, "%s", error);
		char *want = xasprintf("10 %llu", above);
		ck_assert_str_eq(limit_line(out, "Max open files"), want);
		free(want);
		return;
	}
	ck_assert_ptr_null(out);
	char *want = xasprintf("limit_nofile %llu is above supd's own hard limit (%llu), which only root may raise",
			       above, (unsigned long long) nofile.rlim_max);
	ck_assert_str_eq(error, want);
	free(want);
	free(error);
}
END_TEST

/* A user known when the config was loaded and gone when the run starts. */
START_TEST(test_user_gone)
{
	struct job_config *jc = load_job("command = true\nuser = %s", geteuid() == 0 ? "nobody" : "root");
	free(jc->user);
	jc->user = xstrdup("no-such-user-supd");
	char *error = NULL;
	ck_assert_ptr_null(run_out(jc, &error));
	ck_assert_str_eq(error, "unknown user no-such-user-supd");
	free(error);
}
END_TEST

/* Every stage of a run enters its cgroup before it execs: by clone3's
 * CLONE_INTO_CGROUP, then (as on kernels without it) by writing itself to
 * cgroup.procs; as root, before switching to the job's user. A cgroup
 * that is gone fails the spawn with the reason, by either path. Needs
 * root and a cgroup v2 hierarchy. */
START_TEST(test_cgroup_placement)
{
	struct cgroup_mount m;
	if (geteuid() != 0 || cgroup_mount_find(&m) < 0) {
		fprintf(stderr, "test_cgroup_placement: skipped (needs root and cgroup v2)\n");
		return;
	}
	char rel[64], path[512];
	snprintf(rel, sizeof(rel), "/supd-spawn-%d", (int) getpid());
	snprintf(path, sizeof(path), "%s%s", m.point, rel);
	cgroup_mount_done(&m);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	struct spawn_cgroup cg = { fd, path };
	const struct job_config *jc = load_job(
		"command = sh -c 'grep ^0:: /proc/self/cgroup >&3; id -u >&3' | sh -c 'grep ^0:: /proc/self/cgroup >&3'\n"
		"user = nobody\n");
	_cleanup_free_ char *want = xasprintf("0::%s\n65534\n0::%s\n", rel, rel);
	char *error = NULL;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			spawn_clone_into_disable();
		char *out = run_out_in(jc, &cg, &error);
		ck_assert_msg(out, "pass %d: %s", pass, error ? error : "");
		/* the stages write in either order: both in the cgroup, the first as nobody */
		_cleanup_free_ char *line = xasprintf("0::%s\n", rel);
		const char *a = strstr(out, line), *b = a ? strstr(a + 1, line) : NULL;
		ck_assert_msg(strlen(out) == strlen(want) && strstr(out, "65534\n") && a && b,
			      "pass %d: got %s", pass, out);
		if (pass == 0) {
#if defined(__x86_64__)
			ck_assert(spawn_clone_into_proven());
#endif
		} else
			ck_assert(!spawn_clone_into_proven());
	}
	/* the cgroup is gone: the spawn fails, saying where and why */
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_ptr_null(run_out_in(jc, &cg, &error));
	ck_assert_msg(strstr(error, "enter cgroup") && strstr(error, path), "%s", error);
	free(error);
	close(fd);
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
	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, own_setup, own_teardown);
	tcase_add_test(tc, test_limits_applied);
	tcase_add_test(tc, test_limit_nofile_default);
	tcase_add_test(tc, test_limit_refused);
	tcase_add_test(tc, test_umask);
	tcase_add_test(tc, test_secret_every_stage);
	tcase_add_test(tc, test_secrets_several);
	tcase_add_test(tc, test_user_gone);
	tcase_add_test(tc, test_limit_beyond_own);
	tcase_add_test(tc, test_cgroup_placement);   /* last: it turns clone3 off */
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);   /* spawn's children are reaped here */
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
