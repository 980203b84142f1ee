/* SPDX-License-Identifier: ISC */
/* Unit tests of the cgroup parts (SPEC §8) that need no supd: job
 * directory names and their hash (daemon/cgroup-name.c), mountinfo and
 * /proc/PID/cgroup parsing on sample texts of a hybrid and a pure v2
 * machine (cgroup-mount.c), cpu_max's percentages (config-types-cgroup.c),
 * controllers and the values the keys write (cgroup-limits.c, into a plain
 * directory standing in for a cgroup), "key N" lines (cgroupfs.c). With
 * root and a cgroup v2 hierarchy, cgroupfs's kill (cgroup.kill and the
 * freeze / kill / thaw fallback of kernels before 5.14) and signals on a
 * real cgroup of the test's own; skipped with the reason otherwise. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "cgroup-limits.h"
#include "cgroup-mount.h"
#include "cgroup-name.h"
#include "cgroupfs.h"
#include "config-types.h"
#include "util.h"

/* ---- names ---- */

START_TEST(test_job_names)
{
	char out[CGROUP_NAME_MAX + 1], out2[CGROUP_NAME_MAX + 1];

	cgroup_name_job("enc@a.bin", out);
	ck_assert_str_eq(out, "j-enc@a.bin");
	/* 248 bytes fit exactly ("j-" + 248 = 250) */
	char *fits = xcalloc(1, 300);
	memset(fits, 'a', 248);
	cgroup_name_job(fits, out);
	ck_assert_uint_eq(strlen(out), 250);
	ck_assert_str_eq(out + 2, fits);
	/* one more: cut, '~' and 16 hex digits, 250 bytes in all */
	fits[248] = 'b';
	cgroup_name_job(fits, out);
	ck_assert_uint_eq(strlen(out), CGROUP_NAME_MAX);
	ck_assert_int_eq(strncmp(out, "j-aaaa", 6), 0);
	ck_assert_int_eq(out[CGROUP_NAME_MAX - 17], '~');
	ck_assert_uint_eq(strspn(out + CGROUP_NAME_MAX - 16, "0123456789abcdef"), 16);
	/* names that share their first 231 bytes still differ, and the hash is stable */
	fits[248] = 'c';
	cgroup_name_job(fits, out2);
	ck_assert_str_ne(out, out2);
	ck_assert_int_eq(strncmp(out, out2, CGROUP_NAME_MAX - 16), 0);
	char again[CGROUP_NAME_MAX + 1];
	cgroup_name_job(fits, again);
	ck_assert_str_eq(again, out2);
	free(fits);

	/* a cut never splits a UTF-8 character: 'é' is two bytes */
	struct buf b = { 0 };
	for (int i = 0; i < 200; i++)
		buf_append(&b, "\xc3\xa9", 2);
	cgroup_name_job(b.data, out);
	ck_assert_uint_le(strlen(out), CGROUP_NAME_MAX);
	const char *tilde = strrchr(out, '~');
	ck_assert_ptr_nonnull(tilde);
	ck_assert_int_eq((tilde - out - 2) % 2, 0);   /* whole characters before it */
	ck_assert_int_eq((unsigned char) tilde[-1], 0xa9);
	buf_free(&b);
}
END_TEST

START_TEST(test_run_names)
{
	char out[CGROUP_NAME_MAX + 1], kind = 0;

	cgroup_name_run('r', 17, out);
	ck_assert_str_eq(out, "r-17");
	cgroup_name_run('c', 18446744073709551615ULL, out);
	ck_assert_str_eq(out, "c-18446744073709551615");
	ck_assert_uint_eq(cgroup_name_parse_run("c-18446744073709551615", &kind), 18446744073709551615ULL);
	ck_assert_int_eq(kind, 'c');
	ck_assert_uint_eq(cgroup_name_parse_run("r-5", &kind), 5);
	ck_assert_int_eq(kind, 'r');
	/* not ours: systemd's .control, odd names, overflow */
	ck_assert_uint_eq(cgroup_name_parse_run(".control", NULL), 0);
	ck_assert_uint_eq(cgroup_name_parse_run("r-", NULL), 0);
	ck_assert_uint_eq(cgroup_name_parse_run("r-0", NULL), 0);
	ck_assert_uint_eq(cgroup_name_parse_run("r-01", NULL), 0);
	ck_assert_uint_eq(cgroup_name_parse_run("r-5x", NULL), 0);
	ck_assert_uint_eq(cgroup_name_parse_run("x-5", NULL), 0);
	ck_assert_uint_eq(cgroup_name_parse_run("r-18446744073709551616", NULL), 0);
}
END_TEST

/* ---- mountinfo and /proc/self/cgroup ---- */

/* This machine's layout: v1 controllers, v2 (no controllers) at unified. */
static const char hybrid[] =
	"22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Debian 12: pure v2 at /sys/fs/cgroup, with optional fields */
static const char pure[] =
	"24 30 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"27 23 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	"99 27 0:25 /system.slice /mnt/cg\\040x ro,relatime shared:9 - cgroup2 cgroup2 rw\n";

START_TEST(test_mountinfo)
{
	struct cgroup_mount m;

	ck_assert_int_eq(cgroup_mount_parse(hybrid, &m), 0);
	ck_assert_str_eq(m.point, "/sys/fs/cgroup/unified");
	ck_assert_str_eq(m.root, "/");
	ck_assert(!m.read_only);
	cgroup_mount_done(&m);

	ck_assert_int_eq(cgroup_mount_parse(pure, &m), 0);
	ck_assert_str_eq(m.point, "/sys/fs/cgroup");   /* the usual place wins over a bind mount */
	cgroup_mount_done(&m);

	/* only a bind mount of a subtree, read-only, its name escaped */
	ck_assert_int_eq(cgroup_mount_parse(strstr(pure, "99 27"), &m), 0);
	ck_assert_str_eq(m.point, "/mnt/cg x");
	ck_assert_str_eq(m.root, "/system.slice");
	ck_assert(m.read_only);
	_cleanup_free_ char *in = cgroup_mount_dir(&m, "/system.slice/supd.service");
	ck_assert_str_eq(in, "/mnt/cg x/supd.service");
	_cleanup_free_ char *at = cgroup_mount_dir(&m, "/system.slice");
	ck_assert_str_eq(at, "/mnt/cg x");
	ck_assert_ptr_null(cgroup_mount_dir(&m, "/user.slice"));
	ck_assert_ptr_null(cgroup_mount_dir(&m, "/system.slicer"));
	cgroup_mount_done(&m);

	/* v1 only, empty, garbage, a line without the separator */
	ck_assert_int_eq(cgroup_mount_parse(hybrid + 0, &m) == 0 ? (cgroup_mount_done(&m), 0) : -1, 0);
	ck_assert_int_eq(cgroup_mount_parse("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", &m), -ENOENT);
	ck_assert_int_eq(cgroup_mount_parse("", &m), -ENOENT);
	ck_assert_int_eq(cgroup_mount_parse("41 31 0:38 / /x rw cgroup2 cgroup2 rw\n", &m), -ENOENT);
	ck_assert_int_eq(cgroup_mount_parse("- cgroup2\n\n\n  \n", &m), -ENOENT);
}
END_TEST

START_TEST(test_self_cgroup)
{
	char *p = NULL;

	ck_assert_int_eq(cgroup_self_parse("9:name=systemd:/\n4:memory:/process_api/x\n0::/\n", &p), 0);
	ck_assert_str_eq(p, "/");
	free(p);
	ck_assert_int_eq(cgroup_self_parse("0::/system.slice/supd.service", &p), 0);
	ck_assert_str_eq(p, "/system.slice/supd.service");
	free(p);
	ck_assert_int_eq(cgroup_self_parse("1:cpu:/\n", &p), -ENOENT);
	ck_assert_int_eq(cgroup_self_parse("0::\n", &p), -ENOENT);

	struct cgroup_mount m = { .point = (char *) "/sys/fs/cgroup", .root = (char *) "/" };
	_cleanup_free_ char *d = cgroup_mount_dir(&m, "/");
	ck_assert_str_eq(d, "/sys/fs/cgroup");
	_cleanup_free_ char *e = cgroup_mount_dir(&m, "/a/b");
	ck_assert_str_eq(e, "/sys/fs/cgroup/a/b");
}
END_TEST

/* ---- values ---- */

START_TEST(test_cpu_max)
{
	uint64_t q;

	ck_assert_int_eq(config_parse_cpu_max("150%", &q), 0);
	ck_assert_uint_eq(q, 150000);
	ck_assert_int_eq(config_parse_cpu_max("100%", &q), 0);
	ck_assert_uint_eq(q, 100000);
	ck_assert_int_eq(config_parse_cpu_max("1%", &q), 0);
	ck_assert_uint_eq(q, 1000);
	ck_assert_int_eq(config_parse_cpu_max("12.5%", &q), 0);
	ck_assert_uint_eq(q, 12500);
	ck_assert_int_eq(config_parse_cpu_max("12.3456%", &q), 0);   /* rounded to the us */
	ck_assert_uint_eq(q, 12346);
	ck_assert_int_eq(config_parse_cpu_max("1000000%", &q), 0);
	ck_assert_uint_eq(q, 1000000000);
	ck_assert_int_eq(config_parse_cpu_max("infinity", &q), 0);
	ck_assert_uint_eq(q, CGROUP_VALUE_MAX);
	static const char *const range[] = { "0%", "0.999%", "1000000.001%", "99999999999999999999999%" };
	for (size_t i = 0; i < ELEMENTSOF(range); i++)
		ck_assert_msg(config_parse_cpu_max(range[i], &q) == -ERANGE, "%s", range[i]);
	static const char *const bad[] = { "", "%", "150", "1.5", "-5%", "+5%", " 5%", "5 %", "5%%", "1e3%",
					   ".5%", "5.%", "0x10%", "nan%", "inf%", "1.2.3%", "max" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(config_parse_cpu_max(bad[i], &q) == -EINVAL, "%s", bad[i]);
}
END_TEST

START_TEST(test_controllers)
{
	char buf[128];

	ck_assert_uint_eq(cgroup_controllers_parse("cpuset cpu io memory hugetlb pids rdma misc\n"),
			  CGROUP_MASK(CGROUP_CPU) | CGROUP_MASK(CGROUP_IO) | CGROUP_MASK(CGROUP_MEMORY) |
			  CGROUP_MASK(CGROUP_PIDS));
	ck_assert_uint_eq(cgroup_controllers_parse("hugetlb\n"), 0);   /* this machine's v2 */
	ck_assert_uint_eq(cgroup_controllers_parse(""), 0);
	ck_assert_uint_eq(cgroup_controllers_parse("memoryx pid"), 0);
	cgroup_controllers_format(CGROUP_MASK(CGROUP_MEMORY) | CGROUP_MASK(CGROUP_PIDS), buf, sizeof(buf));
	ck_assert_str_eq(buf, "+memory +pids");
	cgroup_controllers_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");

	uint64_t v;
	ck_assert_int_eq(cgroupfs_parse_key("usage_usec 100\nuser_usec 70\nsystem_usec 30\n", "user_usec", &v), 0);
	ck_assert_uint_eq(v, 70);
	ck_assert_int_eq(cgroupfs_parse_key("usage_usec 100\nuser_usec 70\nsystem_usec 30", "system_usec", &v), 0);
	ck_assert_uint_eq(v, 30);
	ck_assert_int_eq(cgroupfs_parse_key("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n", "oom", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(cgroupfs_parse_key("oom_group_kill 1\n", "oom_kill", &v), -ENOENT);
	ck_assert_int_eq(cgroupfs_parse_key("populated x\n", "populated", &v), -ENOENT);
}
END_TEST

static struct job_config *job_with(const char *keys) {
	char path[] = "/tmp/supd-test-cgroup-XXXXXX";
	int fd = mkstemp(path);
	_cleanup_free_ char *text = xasprintf("[job:j]\ncommand = true\n%s", keys);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	int r = config_load(path, &c, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	config_errors_clear(&errs);
	unlink(path);
	ck_assert_int_eq(r, 0);
	struct job_config *jc = job_config_ref(c->jobs[0]);
	config_free(c);
	return jc;
}

START_TEST(test_needs)
{
	const char *keys[_CGROUP_CONTROLLER_MAX];
	struct job_config *jc = job_with("cpu_weight = 5\ncpu_max = 50%\npids_max = 3\noom_policy = kill\n");

	ck_assert_uint_eq(cgroup_limits_needs(jc, keys),
			  CGROUP_MASK(CGROUP_CPU) | CGROUP_MASK(CGROUP_PIDS) | CGROUP_MASK(CGROUP_MEMORY));
	ck_assert_str_eq(keys[CGROUP_CPU], "cpu_max");       /* the first in the key table */
	ck_assert_str_eq(keys[CGROUP_MEMORY], "oom_policy");
	ck_assert_ptr_null(keys[CGROUP_IO]);
	ck_assert_str_eq(job_config_cgroup_key(jc), "pids_max");
	job_config_unref(jc);

	jc = job_with("delegate = true\noom_policy = continue\n");
	ck_assert_uint_eq(cgroup_limits_needs(jc, keys), 0);     /* a cgroup, no controller */
	ck_assert_str_eq(job_config_cgroup_key(jc), "delegate");
	job_config_unref(jc);
	jc = job_with("oom_policy = continue\n");
	ck_assert_ptr_null(job_config_cgroup_key(jc));
	job_config_unref(jc);
}
END_TEST

static char dir[] = "/tmp/supd-test-cgdir-XXXXXX";

static void touch(int dfd, const char *name) {
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void expect(int dfd, const char *name, const char *value) {
	char buf[256];
	ck_assert_int_ge(cgroupfs_read(dfd, name, buf, sizeof(buf)), 0);
	ck_assert_msg(strcmp(buf, value) == 0, "%s: \"%s\", expected \"%s\"", name, buf, value);
}

/* The values each key writes, into a directory standing in for a cgroup
 * (this machine's v2 hierarchy has no controller to take them). */
START_TEST(test_apply)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	static const char *const files[] = { "memory.max", "memory.swap.max", "memory.oom.group", "pids.max",
					     "cpu.max", "cpu.weight", "io.weight", "io.bfq.weight" };
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		touch(dfd, files[i]);
	char *error = NULL;
	struct job_config *jc = job_with("memory_max = 512M\nmemory_swap_max = infinity\npids_max = 100\n"
					 "cpu_max = 150%\ncpu_weight = 50\nio_weight = 10000\noom_policy = kill\n");
	ck_assert_int_eq(cgroup_limits_apply(dfd, dir, jc, &error), 0);
	expect(dfd, "memory.max", "536870912");
	expect(dfd, "memory.swap.max", "max");
	expect(dfd, "memory.oom.group", "1");
	expect(dfd, "pids.max", "100");
	expect(dfd, "cpu.max", "150000 100000");
	expect(dfd, "cpu.weight", "50");
	expect(dfd, "io.weight", "default 10000");
	expect(dfd, "io.bfq.weight", "default 1000");   /* BFQ's scale */
	job_config_unref(jc);

	jc = job_with("cpu_max = infinity\nio_weight = 100\n");
	ck_assert_int_eq(cgroup_limits_apply(dfd, dir, jc, &error), 0);
	expect(dfd, "cpu.max", "max 100000");
	expect(dfd, "io.bfq.weight", "default 100");
	job_config_unref(jc);

	/* a file the controller would have is missing: the key and the path in the reason */
	ck_assert_int_eq(unlinkat(dfd, "pids.max", 0), 0);
	jc = job_with("pids_max = 5\n");
	ck_assert_int_eq(cgroup_limits_apply(dfd, dir, jc, &error), -ENOENT);
	ck_assert_msg(strstr(error, "pids_max") && strstr(error, "pids.max") && strstr(error, dir), "%s", error);
	free(error);
	error = NULL;
	job_config_unref(jc);

	/* delegate: the directory and the delegated files to the job's user, user.delegate = 1 */
	if (geteuid() == 0) {
		static const char *const deleg[] = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
						     "cgroup.max.depth", "cgroup.max.descendants" };
		for (size_t i = 0; i < ELEMENTSOF(deleg); i++)
			touch(dfd, deleg[i]);
		jc = job_with("user = nobody\ndelegate = true\n");
		int r = cgroup_limits_apply(dfd, dir, jc, &error);
		if (r == -EOPNOTSUPP || (r < 0 && strstr(error, "user.delegate"))) {
			fprintf(stderr, "test_apply: no user xattrs on %s, delegate not checked\n", dir);
		} else {
			ck_assert_msg(r == 0, "%s", error ? error : "");
			struct stat st;
			ck_assert_int_eq(fstat(dfd, &st), 0);
			ck_assert_uint_eq(st.st_uid, 65534);
			ck_assert_int_eq(fstatat(dfd, "cgroup.procs", &st, 0), 0);
			ck_assert_uint_eq(st.st_uid, 65534);
			char v[4];
			ck_assert_int_eq(fgetxattr(dfd, "user.delegate", v, sizeof(v)), 1);
			ck_assert_int_eq(v[0], '1');
			/* the user's sub-cgroups no deeper than supd's walks go */
			expect(dfd, "cgroup.max.depth", "32");
			ck_assert_int_eq(fstatat(dfd, "cgroup.max.depth", &st, 0), 0);
			ck_assert_uint_eq(st.st_uid, 0);
			/* and no more of them than the walks can take at once */
			expect(dfd, "cgroup.max.descendants", "1024");
			ck_assert_int_eq(fstatat(dfd, "cgroup.max.descendants", &st, 0), 0);
			ck_assert_uint_eq(st.st_uid, 0);
			/* the run's end: the directory, the user's sub-cgroups and the
			 * delegated files are supd's again */
			ck_assert_int_eq(mkdirat(dfd, "a", 0755), 0);
			ck_assert_int_eq(mkdirat(dfd, "a/.b", 0755), 0);
			ck_assert_int_eq(fchownat(dfd, "a", 65534, 65534, 0), 0);
			ck_assert_int_eq(fchownat(dfd, "a/.b", 65534, 65534, 0), 0);
			ck_assert_int_eq(cgroup_limits_undelegate(dfd, dir, &error), 0);
			static const char *const back[] = { ".", "a", "a/.b", "cgroup.procs", "cgroup.threads",
							    "cgroup.subtree_control" };
			for (size_t i = 0; i < ELEMENTSOF(back); i++) {
				ck_assert_int_eq(fstatat(dfd, back[i], &st, 0), 0);
				ck_assert_msg(st.st_uid == 0 && st.st_gid == 0, "%s is %u:%u", back[i],
					      (unsigned) st.st_uid, (unsigned) st.st_gid);
			}
		}
		free(error);
		error = NULL;
		job_config_unref(jc);
	}
	_cleanup_free_ char *rm = xasprintf("rm -rf %s", dir);
	ck_assert_int_eq(system(rm), 0);
}
END_TEST

/* ---- a real cgroup (root, cgroup v2) ---- */

static int cg_fd = -1;
static char cg_path[512];

/* A cgroup of the test's own under the v2 mount, or false (why on stderr). */
static bool make_cgroup(void) {
	struct cgroup_mount m;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root to make a cgroup\n");
		return false;
	}
	if (cgroup_mount_find(&m) < 0) {
		fprintf(stderr, "skipped: no cgroup v2 hierarchy\n");
		return false;
	}
	(void) snprintf(cg_path, sizeof(cg_path), "%s/supd-unit-%d", m.point, (int) getpid());
	cgroup_mount_done(&m);
	if (mkdir(cg_path, 0755) < 0) {
		fprintf(stderr, "skipped: cannot make %s: %s\n", cg_path, strerror(errno));
		return false;
	}
	cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(cg_fd, 0);
	return true;
}

/* n children in the cgroup; each forks a grandchild that setsid()s and
 * lives on (the escapees SPEC §8 is about). */
static void fill(int n, pid_t *kids) {
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			char pid[32];
			snprintf(pid, sizeof(pid), "%d", (int) getpid());
			if (cgroupfs_write(cg_fd, "cgroup.procs", pid) < 0)
				_exit(3);
			if (fork() == 0) {
				setsid();
				for (;;)
					pause();
			}
			for (;;)
				pause();
		}
	}
}

static int count_pid(pid_t pid, void *ud) {
	(*(int *) ud)++;
	return 0;
}

static int count(void) {
	int n = 0;
	ck_assert_int_ge(cgroupfs_for_each_pid(cg_fd, count_pid, &n), 0);
	return n;
}

static bool wait_empty(void) {
	_cleanup_close_ int ev = openat(cg_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < 500; i++) {
		if (cgroupfs_populated(ev) == 0)
			return true;
		usleep(10000);
	}
	return false;
}

static void kill_test(bool fallback) {
	pid_t kids[4];

	if (!make_cgroup())
		return;
	fill(4, kids);
	for (int i = 0; i < 500 && count() < 8; i++)
		usleep(10000);
	ck_assert_int_eq(count(), 8);
	_cleanup_close_ int ev = openat(cg_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(cgroupfs_populated(ev), 1);
	/* a signal to all but one process group: the children are their own group leaders' */
	ck_assert_int_eq(cgroupfs_signal(cg_fd, SIGCONT, 0, false), 8);
	ck_assert_int_eq(fallback ? cgroupfs_kill_each(cg_fd) : cgroupfs_kill(cg_fd), 0);
	for (int i = 0; i < 4; i++) {
		int st;
		ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	}
	ck_assert_msg(wait_empty(), "the setsid() grandchildren outlived the kill");
	char fz[64];
	if (cgroupfs_read(cg_fd, "cgroup.freeze", fz, sizeof(fz)) > 0)
		ck_assert_str_eq(fz, "0\n");   /* thawed again */
	/* removed, and a missing one says so */
	ck_assert_int_eq(cgroupfs_remove(AT_FDCWD, cg_path), 0);
	ck_assert_int_eq(cgroupfs_remove(AT_FDCWD, cg_path), -ENOENT);
	close(cg_fd);
	cg_fd = -1;
}

START_TEST(test_kill)
{
	kill_test(false);
}
END_TEST

START_TEST(test_kill_fallback)
{
	kill_test(true);
}
END_TEST

/* A delegated subtree: sub-cgroups are removed first; a populated one is -EBUSY. */
START_TEST(test_remove_subtree)
{
	pid_t kid;

	if (!make_cgroup())
		return;
	ck_assert_int_eq(mkdirat(cg_fd, "a", 0755), 0);
	ck_assert_int_eq(mkdirat(cg_fd, "a/b", 0755), 0);
	ck_assert_int_eq(mkdirat(cg_fd, "c", 0755), 0);
	int sub = openat(cg_fd, "a/b", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(sub, 0);
	kid = fork();
	if (kid == 0) {
		if (cgroupfs_write(sub, "cgroup.procs", "0") < 0)
			_exit(3);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 500 && count() < 1; i++)
		usleep(10000);
	ck_assert_int_eq(count(), 1);    /* found below */
	ck_assert_int_eq(cgroupfs_remove(AT_FDCWD, cg_path), -EBUSY);
	ck_assert_int_eq(cgroupfs_kill(cg_fd), 0);
	ck_assert_int_eq(waitpid(kid, NULL, 0), kid);
	ck_assert(wait_empty());
	close(sub);
	ck_assert_int_eq(cgroupfs_remove(AT_FDCWD, cg_path), 0);
	close(cg_fd);
	cg_fd = -1;
}
END_TEST

static void teardown(void) {
	if (cg_fd >= 0) {
		(void) cgroupfs_kill(cg_fd);
		(void) wait_empty();
		close(cg_fd);
		cg_fd = -1;
		(void) cgroupfs_remove(AT_FDCWD, cg_path);
	}
}

int main(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("pure");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_job_names);
	tcase_add_test(tc, test_run_names);
	tcase_add_test(tc, test_mountinfo);
	tcase_add_test(tc, test_self_cgroup);
	tcase_add_test(tc, test_cpu_max);
	tcase_add_test(tc, test_controllers);
	tcase_add_test(tc, test_needs);
	tcase_add_test(tc, test_apply);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_kill);
	tcase_add_test(tc, test_kill_fallback);
	tcase_add_test(tc, test_remove_subtree);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
