/* SPDX-License-Identifier: ISC */
/* Tests of the configuration parser.
 *
 * Golden files: every tests/conf/NN-name.conf is loaded (with tests/conf as
 * the working directory, so paths in messages are relative) and compared
 * with NN-name.ok (the config_dump output of a valid config) or NN-name.err
 * (the exact error lines of an invalid one), and with NN-name.warn (the
 * warnings; none if it is missing). Files under tests/conf/inc/ are
 * only read through include. To regenerate the expectations after a
 * deliberate change, run with SUPD_UPDATE_GOLDEN=1 and review the diff.
 *
 * Every valid golden config also makes the round trip: its dump, parsed
 * again, dumps the same (but for the "; defined at" comments).
 *
 * Unit tests: job_config_equal (for every key of the table), reference
 * counting, lookups and helpers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/config.h"   /* not the autoconf config.h */
#include "../daemon/config-keys.h"

#ifndef TEST_SRCDIR
#error "TEST_SRCDIR must name the tests source directory"
#endif

static char **golden;             /* NN-name.conf, sorted */
static size_t n_golden;

/* The whole file, or NULL if it does not exist. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t len = 0;
	FILE *mem;
	char chunk[4096];
	size_t n;

	if (!f) {
		ck_assert_msg(errno == ENOENT, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	mem = open_memstream(&data, &len);
	ck_assert_ptr_nonnull(mem);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(f);
	fclose(mem);
	return data;
}

static void spew(const char *path, const char *data)
{
	FILE *f = fopen(path, "we");

	ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
	fputs(data, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *dump_string(const struct supd_config *c)
{
	char *data = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&data, &len);

	ck_assert_ptr_nonnull(mem);
	config_dump(c, mem);
	fclose(mem);
	return data;
}

static char *lines_string(char *const *v, size_t n)
{
	char *data = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&data, &len);

	ck_assert_ptr_nonnull(mem);
	for (size_t i = 0; i < n; i++)
		fprintf(mem, "%s\n", v[i]);
	fclose(mem);
	return data;
}

static char *errors_string(const struct config_errors *errs)
{
	return lines_string(errs->v, errs->n);
}

static char *warnings_string(const struct config_errors *errs)
{
	return lines_string(errs->warnings, errs->n_warnings);
}

/* Every job reloads equal to itself and differs from every other job. */
static void check_reload_equal(const char *conf, const struct supd_config *a)
{
	struct config_errors errs = { 0 };
	struct supd_config *b = NULL;

	ck_assert_int_eq(config_load(conf, &b, &errs), 0);
	ck_assert_uint_eq(a->n_jobs, b->n_jobs);
	for (size_t i = 0; i < a->n_jobs; i++)
		for (size_t j = 0; j < b->n_jobs; j++)
			ck_assert_msg(job_config_equal(a->jobs[i], b->jobs[j]) == (i == j),
				      "%s: job_config_equal(%s, %s) is wrong", conf,
				      a->jobs[i]->name, b->jobs[j]->name);
	config_free(b);
	config_errors_clear(&errs);
}

/* The dump without its "; defined at" lines (they name the file read). */
static char *strip_locations(const char *dump)
{
	struct buf b = { 0 };

	for (const char *l = dump; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t) (nl - l + 1) : strlen(l);

		if (strncmp(l, "; defined at ", 13) != 0)
			buf_append(&b, l, n);
		l += n;
	}
	return b.data ? b.data : xstrdup("");
}

/* The dump of a, written to a file and parsed again, dumps the same and
 * yields equal jobs. */
static void check_round_trip(const char *conf, const struct supd_config *a, const char *dump)
{
	char path[] = "/tmp/supd-test-dump-XXXXXX";
	struct config_errors errs = { 0 };
	struct supd_config *b = NULL;
	char *msgs, *again, *want, *got;
	int fd = mkstemp(path);
	int r;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, dump, strlen(dump)), 0);
	close(fd);
	r = config_load(path, &b, &errs);
	(void) unlink(path);
	msgs = errors_string(&errs);
	ck_assert_msg(r == 0, "%s: its dump does not load:\n%s", conf, msgs);
	again = dump_string(b);
	want = strip_locations(dump);
	got = strip_locations(again);
	ck_assert_msg(strcmp(want, got) == 0, "%s: the dump of its dump differs\n--- first\n%s--- second\n%s",
		      conf, want, got);
	ck_assert_uint_eq(a->n_jobs, b->n_jobs);
	for (size_t i = 0; i < a->n_jobs; i++)
		ck_assert_msg(job_config_equal(a->jobs[i], b->jobs[i]), "%s: job %s changed in the round trip",
			      conf, a->jobs[i]->name);
	config_free(b);
	config_errors_clear(&errs);
	free(msgs);
	free(again);
	free(want);
	free(got);
}

START_TEST(test_golden)
{
	const char *conf = golden[_i];
	size_t stem = strlen(conf) - strlen(".conf");
	char *ok_path, *err_path, *warn_path, *ok, *err, *warn, *got, *got_warn;
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	int r;

	ok_path = xasprintf("%.*s.ok", (int) stem, conf);
	err_path = xasprintf("%.*s.err", (int) stem, conf);
	warn_path = xasprintf("%.*s.warn", (int) stem, conf);
	r = config_load(conf, &c, &errs);
	got = r == 0 ? dump_string(c) : errors_string(&errs);
	got_warn = warnings_string(&errs);

	if (getenv("SUPD_UPDATE_GOLDEN")) {
		spew(r == 0 ? ok_path : err_path, got);
		(void) unlink(r == 0 ? err_path : ok_path);
		if (*got_warn)
			spew(warn_path, got_warn);
		else
			(void) unlink(warn_path);
	}

	ok = slurp(ok_path);
	err = slurp(err_path);
	warn = slurp(warn_path);
	ck_assert_msg(strcmp(got_warn, warn ? warn : "") == 0, "%s: warnings differ\n--- expected\n%s--- got\n%s",
		      conf, warn ? warn : "", got_warn);
	ck_assert_msg(ok || err, "%s: neither %s nor %s exists", conf, ok_path, err_path);
	ck_assert_msg(!ok || !err, "%s: both %s and %s exist", conf, ok_path, err_path);

	if (err) {
		ck_assert_msg(r == -EINVAL, "%s: loaded, but errors were expected:\n%s", conf, err);
		ck_assert_ptr_null(c);
		ck_assert_msg(strcmp(got, err) == 0, "%s: errors differ\n--- expected\n%s--- got\n%s",
			      conf, err, got);
	} else {
		ck_assert_msg(r == 0, "%s: unexpected errors:\n%s", conf, got);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(errs.n, 0);
		ck_assert_msg(strcmp(got, ok) == 0, "%s: dump differs\n--- expected\n%s--- got\n%s",
			      conf, ok, got);
		check_reload_equal(conf, c);
		check_round_trip(conf, c, got);
	}

	config_free(c);
	config_errors_clear(&errs);
	free(ok);
	free(err);
	free(warn);
	free(got);
	free(got_warn);
	free(ok_path);
	free(err_path);
	free(warn_path);
}
END_TEST

START_TEST(test_golden_found)
{
	ck_assert_uint_gt(n_golden, 0);
}
END_TEST

/* Load text from a temporary file; fails the test on errors. */
static struct supd_config *load_text(const char *text)
{
	char path[] = "/tmp/supd-test-config-XXXXXX";
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	int fd = mkstemp(path);
	char *msgs;
	int r;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
	r = config_load(path, &c, &errs);
	(void) unlink(path);
	msgs = errors_string(&errs);
	ck_assert_msg(r == 0, "unexpected errors:\n%s", msgs);
	free(msgs);
	config_errors_clear(&errs);
	return c;
}

/* Load len bytes of text from a temporary file; the errors and warnings,
 * one a line, with the file's path replaced by "F". */
static char *load_messages(const char *text, size_t len, struct supd_config **ret)
{
	char path[] = "/tmp/supd-test-config-XXXXXX";
	struct config_errors errs = { 0 };
	struct buf b = { 0 };
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, len), 0);
	close(fd);
	(void) config_load(path, ret, &errs);
	(void) unlink(path);
	for (size_t i = 0; i < errs.n_warnings + errs.n; i++) {
		const char *m = i < errs.n_warnings ? errs.warnings[i] : errs.v[i - errs.n_warnings];

		ck_assert(strncmp(m, path, strlen(path)) == 0);
		buf_appendf(&b, "F%s\n", m + strlen(path));
	}
	config_errors_clear(&errs);
	return b.data ? b.data : xstrdup("");
}

/* "[job:a]\ncommand = echo xxx...", the second line n bytes long, then end. */
static char *long_line_text(size_t n, const char *end, size_t *len)
{
	struct buf b = { 0 };
	const char *head = "[job:a]\ncommand = echo ";
	size_t fill = n - strlen("command = echo ");

	buf_appendf(&b, "%s", head);
	buf_reserve(&b, fill);
	memset(b.data + b.len, 'x', fill);
	b.len += fill;
	b.data[b.len] = '\0';
	buf_appendf(&b, "%s", end);
	*len = b.len;
	return b.data;
}

/* SPEC §2: lines of up to 64 KiB, whatever inih's own buffer; a longer one
 * is an error at its line, and the lines after it keep their numbers. */
START_TEST(test_line_limits)
{
	static const size_t max = 64 * 1024;
	struct supd_config *c = NULL;
	size_t len;
	char *text, *msgs;

	text = long_line_text(max, "\n", &len);
	msgs = load_messages(text, len, &c);
	ck_assert_str_eq(msgs, "");
	ck_assert_uint_eq(strlen(c->jobs[0]->command), max - strlen("command = "));
	ck_assert_uint_eq(strlen(c->jobs[0]->pipeline.stages[0][1]), max - strlen("command = echo "));
	config_free(c);
	free(msgs);
	free(text);

	/* the CR of a CRLF does not count, and a last line needs no newline */
	text = long_line_text(max, "\r\n[job:b]\ncommand = true", &len);
	msgs = load_messages(text, len, &c);
	ck_assert_str_eq(msgs, "");
	ck_assert_uint_eq(c->n_jobs, 2);
	ck_assert_str_eq(c->jobs[1]->command, "true");
	config_free(c);
	free(msgs);
	free(text);

	text = long_line_text(max + 1, "\ntimeout = soon\n", &len);
	msgs = load_messages(text, len, &c);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(msgs, "F:1: missing command in [job:a]\n"
			       "F:2: line too long (max 65536 bytes)\n"
			       "F:3: invalid duration for timeout: soon\n");
	free(msgs);
	free(text);

	/* 4 MiB in one line, with NUL bytes: one error, bounded memory */
	text = long_line_text(4 * 1024 * 1024, "\n[job:b]\ncommand = true\nnice = 99\n", &len);
	text[100] = '\0';
	text[len - 100] = '\0';
	msgs = load_messages(text, len, &c);
	ck_assert_str_eq(msgs, "F:1: missing command in [job:a]\n"
			       "F:2: line too long (max 65536 bytes)\n"
			       "F:5: invalid value for nice: 99 (expected -20..19)\n");
	free(msgs);
	free(text);
}
END_TEST

/* One setting changed from the base job, each must make the jobs differ. */
static const char *const variants[] = {
	"command = false",
	"command = true\nshell = true",
	"command = true\ninstances = 1",
	"command = true\ninstances = 2",
	"command = true\ninstances = auto",
	"command = true\ndirectory = /tmp",
	"command = true\nenvironment = A=1",
	"command = true\nenvironment = A=1 B=2",
	"command = true\nenvironment_file = /etc/env",
	"command = true\nuser = nobody",
	"command = true\nuser = nobody\ngroup = nogroup",
	"command = true\nstdin = /dev/zero",
	"command = true\nstdout = null",
	"command = true\nstdout = /tmp/out",
	"command = true\nstdout = append:/tmp/out",
	"command = true\nstderr = stdout",
	"command = true\nautostart = no",
	"command = true\nrestart = always",
	"command = true\nrestart_delay = 1s",
	"command = true\nrestart_max_delay = 1m",
	"command = true\nstart_limit = 1/10s",
	"command = true\nstart_limit = 5/20s",
	"command = true\ntimeout = 1s",
	"command = true\nstop_signal = INT",
	"command = true\nstop_timeout = 1s",
	"command = true\nsuccess_exit = 0 1",
	"command = true\nnice = 1",
	"command = true\nlog_lines = 10",
	"command = true\nuser = 0",
	"command = true\numask = 0022",
	"command = true\numask = 0",
	"command = true\nlimit_nofile = 1024",
	"command = true\nlimit_nofile = 1024:2048",
	"command = true\nlimit_nofile = infinity",
	"command = true\nlimit_core = 0",
	"command = true\nlimit_cpu = 0",
	"command = true\nsecret = 3 /k",
	"command = true\nsecret = 4 /k",
	"command = true\nsecret = 3 /k\nsecret = 4 /l",
};

/* Secrets compare in order: the same two given the other way round
 * differ (each FD gets its own PATH). */
START_TEST(test_secret_order)
{
	struct supd_config *a = load_text("[job:j]\ncommand = true\nsecret = 3 /k\nsecret = 4 /l\n");
	struct supd_config *b = load_text("[job:j]\ncommand = true\nsecret = 4 /l\nsecret = 3 /k\n");
	struct supd_config *c = load_text("[job:j]\ncommand = true\nsecret = 3 /l\nsecret = 4 /k\n");

	ck_assert(!job_config_equal(a->jobs[0], b->jobs[0]));
	ck_assert(!job_config_equal(a->jobs[0], c->jobs[0]));
	ck_assert_uint_eq(a->jobs[0]->n_secrets, 2);
	ck_assert_int_eq(a->jobs[0]->secrets[1].fd, 4);
	ck_assert_str_eq(a->jobs[0]->secrets[1].path, "/l");
	config_free(a);
	config_free(b);
	config_free(c);
}
END_TEST

/* Each enum job_limit has its row, named as job_limit_to_string() says,
 * at its place of the limits array, and the right resource. */
START_TEST(test_limit_rows)
{
	static const int resources[_LIMIT_MAX] = {
		RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_MEMLOCK,
		RLIMIT_STACK, RLIMIT_CPU,
	};

	for (int l = 0; l < _LIMIT_MAX; l++) {
		const char *name = job_limit_to_string((enum job_limit) l);
		const struct key_desc *k = config_keys_find(&config_keys_job, name);

		ck_assert_msg(k, "no row for %s", name);
		ck_assert_uint_eq(k->offset, offsetof(struct job_config, limits) + (size_t) l * sizeof(struct limit_spec));
		ck_assert_int_eq(job_limit_resource((enum job_limit) l), resources[l]);
	}
	ck_assert_ptr_null(job_limit_to_string(_LIMIT_MAX));
	ck_assert_int_eq(job_limit_resource(_LIMIT_MAX), -EINVAL);

	struct supd_config *c = load_text("[job:j]\ncommand = true\nlimit_fsize = 10M\nlimit_stack = 8M:infinity\n"
					  "limit_nproc = 5:7\numask = 027\n");
	const struct job_config *jc = c->jobs[0];
	ck_assert(jc->limits[LIMIT_FSIZE].set);
	ck_assert_uint_eq(jc->limits[LIMIT_FSIZE].soft, 10 * 1024 * 1024);
	ck_assert_uint_eq(jc->limits[LIMIT_FSIZE].hard, 10 * 1024 * 1024);
	ck_assert_uint_eq(jc->limits[LIMIT_STACK].soft, 8 * 1024 * 1024);
	ck_assert(jc->limits[LIMIT_STACK].hard == RLIM_INFINITY);
	ck_assert_uint_eq(jc->limits[LIMIT_NPROC].soft, 5);
	ck_assert_uint_eq(jc->limits[LIMIT_NPROC].hard, 7);
	ck_assert(!jc->limits[LIMIT_CORE].set);
	ck_assert_int_eq(jc->umask, 027);
	config_free(c);
	c = load_text("[job:j]\ncommand = true\n");
	ck_assert_int_eq(c->jobs[0]->umask, -1);
	config_free(c);
}
END_TEST

START_TEST(test_equal)
{
	struct supd_config *base = load_text("[job:j]\ncommand = true\n");
	/* the same job at another place, with defaults spelled out */
	struct supd_config *same = load_text("; moved down\n\n[job:j]\nrestart = no\n"
					     "command = true\nstop_signal = SIGTERM\n"
					     "stderr = log\nsuccess_exit = 0\n");
	struct supd_config *tmpl = load_text("[job:j@]\ncommand = true\n");
	struct supd_config *other = load_text("[job:k]\ncommand = true\n");

	ck_assert(job_config_equal(base->jobs[0], base->jobs[0]));
	ck_assert(job_config_equal(base->jobs[0], same->jobs[0]));
	ck_assert(!job_config_equal(base->jobs[0], NULL));
	ck_assert(!job_config_equal(NULL, base->jobs[0]));
	ck_assert(job_config_equal(NULL, NULL));
	ck_assert(!job_config_equal(base->jobs[0], tmpl->jobs[0]));
	ck_assert(!job_config_equal(base->jobs[0], other->jobs[0]));

	for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
		char *text = xasprintf("[job:j]\n%s\n", variants[i]);
		struct supd_config *v = load_text(text);

		ck_assert_msg(!job_config_equal(base->jobs[0], v->jobs[0]),
			      "equal despite: %s", variants[i]);
		ck_assert_msg(!job_config_equal(v->jobs[0], base->jobs[0]),
			      "equal despite: %s", variants[i]);
		config_free(v);
		free(text);
	}

	config_free(base);
	config_free(same);
	config_free(tmpl);
	config_free(other);
}
END_TEST

/* Every key of the job table, set to its example, makes the job differ
 * from the default job (job_config_equal) and shows in the dump: a key
 * added to the table cannot be missed by reload or by the dump. */
START_TEST(test_every_job_key_compared)
{
	const struct key_table *t = &config_keys_job;

	ck_assert_uint_gt(t->n, 20);
	for (size_t i = 0; i < t->n; i++) {
		const struct key_desc *k = &t->keys[i];
		bool is_command = strcmp(k->name, "command") == 0;
		/* keys that mean something only with another: both sides get it */
		const char *needs = strcmp(k->name, "group") == 0 ? "user = nobody\n" : "";
		if (strcmp(k->name, "watchdog") == 0 || strcmp(k->name, "ready_timeout") == 0)
			needs = "ready = notify\n";
		else if (strcmp(k->name, "ready_interval") == 0)
			needs = "ready = command:true\n";
		else if (strncmp(k->name, "health_", 7) == 0 && strcmp(k->name, "health_command") != 0)
			needs = "health_command = true\n";
		const char *others = strcmp(k->name, "requires") == 0 ?
			"[job:db]\ncommand = true\n[job:migrate]\ncommand = true\n" : "";
		_cleanup_free_ char *base_text = xasprintf("[job:j]\ncommand = true\n%s%s", needs, others);
		struct supd_config *base = load_text(base_text), *v;
		_cleanup_free_ char *base_dump = dump_string(base);
		char *text, *dump;

		ck_assert_msg(k->example, "job key %s has no example value", k->name);
		ck_assert_msg(k->type->equal && k->type->dump, "job key %s is not compared or dumped", k->name);
		text = xasprintf("[job:j]\n%s%s%s = %s\n%s", is_command ? "" : "command = true\n",
				 needs, k->name, k->example, others);
		v = load_text(text);
		ck_assert_msg(!job_config_equal(base->jobs[0], v->jobs[0]) && !job_config_equal(v->jobs[0], base->jobs[0]),
			      "equal despite %s = %s", k->name, k->example);
		ck_assert_msg(!k->type->equal(k, base->jobs[0], v->jobs[0]), "%s: its row finds no change",
			      k->name);
		ck_assert_msg(k->type->equal(k, v->jobs[0], v->jobs[0]), "%s: differs from itself", k->name);
		dump = dump_string(v);
		ck_assert_msg(strcmp(dump, base_dump) != 0, "%s = %s does not show in the dump", k->name, k->example);
		free(dump);
		config_free(v);
		config_free(base);
		free(text);
	}
}
END_TEST

/* The same for [supd]: each key with a setting shows in the dump and its
 * row sees the change. */
START_TEST(test_every_supd_key_dumped)
{
	const struct key_table *t = &config_keys_supd;
	struct supd_config *base = load_text("[supd]\n");
	char *base_dump = dump_string(base);

	for (size_t i = 0; i < t->n; i++) {
		const struct key_desc *k = &t->keys[i];
		char *text, *dump;
		struct supd_config *v;

		if (!k->type->equal) {   /* include: sets nothing of its own */
			ck_assert_ptr_null(k->example);
			continue;
		}
		ck_assert_msg(k->example, "[supd] key %s has no example value", k->name);
		text = xasprintf("[supd]\n%s = %s\n", k->name, k->example);
		v = load_text(text);
		ck_assert_msg(!k->type->equal(k, base, v), "%s: its row finds no change", k->name);
		dump = dump_string(v);
		ck_assert_msg(strcmp(dump, base_dump) != 0, "%s = %s does not show in the dump",
			      k->name, k->example);
		free(dump);
		config_free(v);
		free(text);
	}
	config_free(base);
	free(base_dump);
}
END_TEST

START_TEST(test_refcount)
{
	struct supd_config *c = load_text("[job:a]\ncommand = echo a\n[job:b]\ncommand = echo b\n");
	struct job_config *a = c->jobs[0];

	ck_assert_uint_eq(a->refs, 1);
	ck_assert_ptr_eq(job_config_ref(a), a);
	ck_assert_uint_eq(a->refs, 2);
	ck_assert_ptr_null(job_config_ref(NULL));
	job_config_unref(NULL);

	config_free(c);   /* a survives: it holds our reference */
	ck_assert_uint_eq(a->refs, 1);
	ck_assert_str_eq(a->name, "a");
	ck_assert_uint_eq(a->pipeline.n_stages, 1);
	ck_assert_str_eq(a->pipeline.stages[0][1], "a");
	job_config_unref(a);
	config_free(NULL);
}
END_TEST

START_TEST(test_find_and_resolve)
{
	struct supd_config *c = load_text("[supd]\nmax_parallel = 0\n"
					  "[job:plain]\ncommand = true\n"
					  "[job:tmpl@]\ncommand = echo %i\n"
					  "[job:pool]\ncommand = true\ninstances = auto\n"
					  "[job:four]\ncommand = true\ninstances = 4\n");
	struct supd_config *d = load_text("[job:x]\ncommand = true\ninstances = 4096\n");
	struct job_config *jc;

	ck_assert_uint_eq(c->n_jobs, 4);
	jc = config_find_job(c, "plain");
	ck_assert_ptr_eq(jc, c->jobs[0]);
	ck_assert(!jc->instances_set);
	ck_assert_int_eq(config_instances(jc), 1);

	jc = config_find_job(c, "tmpl");
	ck_assert_ptr_nonnull(jc);
	ck_assert(jc->is_template);
	ck_assert_str_eq(jc->name, "tmpl");
	ck_assert_ptr_null(config_find_job(c, "tmpl@"));
	ck_assert_ptr_null(config_find_job(c, "nope"));
	ck_assert_ptr_null(config_find_job(c, NULL));
	ck_assert_ptr_null(config_find_job(NULL, "plain"));

	jc = config_find_job(c, "pool");
	ck_assert(jc->instances_set);
	ck_assert_int_eq(jc->instances, -1);
	ck_assert_int_ge(config_instances(jc), 1);
	ck_assert_int_eq(config_instances(config_find_job(c, "four")), 4);

	ck_assert_int_eq(c->max_parallel, 0);
	ck_assert_int_eq(config_max_parallel(c), 0);
	ck_assert_int_eq(d->max_parallel, -1);
	ck_assert_int_ge(config_max_parallel(d), 1);
	ck_assert_int_eq(config_instances(d->jobs[0]), CONFIG_INSTANCES_MAX);

	config_free(c);
	config_free(d);
}
END_TEST

START_TEST(test_parsed_values)
{
	struct supd_config *c = load_text(
		"[job:v]\n"
		"command = a 'b c' | d \"e\\\"f\"\n"
		"environment = X=\"1 2\"\n"
		"stdout = append:/tmp/o\n"
		"stderr = stdout\n"
		"success_exit = 3 1 3\n"
		"stop_signal = KILL\n"
		"timeout = 1.5s\n"
		"[job:s]\ncommand = echo 'a | b'\nshell = true\n");
	struct job_config *v = c->jobs[0], *s = c->jobs[1];

	ck_assert_uint_eq(v->pipeline.n_stages, 2);
	ck_assert_str_eq(v->pipeline.stages[0][0], "a");
	ck_assert_str_eq(v->pipeline.stages[0][1], "b c");
	ck_assert_ptr_null(v->pipeline.stages[0][2]);
	ck_assert_str_eq(v->pipeline.stages[1][1], "e\"f");
	ck_assert_str_eq(v->environment[0], "X=1 2");
	ck_assert_ptr_null(v->environment[1]);
	ck_assert_int_eq(v->stdout_spec.kind, OUTPUT_APPEND);
	ck_assert_str_eq(v->stdout_spec.path, "/tmp/o");
	ck_assert_int_eq(v->stderr_spec.kind, OUTPUT_STDOUT);
	ck_assert_ptr_null(v->stderr_spec.path);
	ck_assert_ptr_null(v->stdin_path);
	ck_assert_uint_eq(v->n_success_exit, 2);
	ck_assert_int_eq(v->success_exit[0], 1);
	ck_assert_int_eq(v->success_exit[1], 3);
	ck_assert_int_eq(v->stop_signal, SIGKILL);
	ck_assert_uint_eq(v->timeout, 1500 * USEC_PER_MSEC);
	ck_assert(strncmp(v->file, "/tmp/supd-test-config-", 22) == 0);
	ck_assert_uint_eq(v->line, 1);

	ck_assert(s->shell);
	ck_assert_str_eq(s->command, "echo 'a | b'");
	ck_assert_uint_eq(s->pipeline.n_stages, 0);
	ck_assert_uint_eq(s->line, 9);

	config_free(c);
}
END_TEST

START_TEST(test_load_failures)
{
	struct config_errors errs = { 0 };
	struct supd_config *c = (struct supd_config *) &errs;   /* must be reset */

	ck_assert_int_eq(config_load("no-such-file.conf", &c, &errs), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.v[0], "no-such-file.conf: cannot open: No such file or directory");

	/* errs is replaced, not appended to */
	ck_assert_int_eq(config_load("inc", &c, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.v[0], "inc: cannot open: is a directory");

	/* a successful load leaves no errors behind */
	ck_assert_int_eq(config_load("01-minimal.conf", &c, &errs), 0);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.v);
	config_free(c);

	/* errs may be NULL */
	ck_assert_int_eq(config_load("20-bad-duration.conf", &c, NULL), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(config_load("01-minimal.conf", &c, NULL), 0);
	config_free(c);

	config_errors_clear(&errs);
	config_errors_clear(NULL);
}
END_TEST

START_TEST(test_names_and_strings)
{
	ck_assert_str_eq(restart_policy_to_string(RESTART_NO), "no");
	ck_assert_str_eq(restart_policy_to_string(RESTART_ON_FAILURE), "on-failure");
	ck_assert_str_eq(restart_policy_to_string(RESTART_ALWAYS), "always");
	ck_assert_ptr_null(restart_policy_to_string(_RESTART_MAX));

	ck_assert_str_eq(output_kind_to_string(OUTPUT_NULL), "null");
	ck_assert_str_eq(output_kind_to_string(OUTPUT_INHERIT), "inherit");
	ck_assert_str_eq(output_kind_to_string(OUTPUT_LOG), "log");
	ck_assert_str_eq(output_kind_to_string(OUTPUT_JOURNAL), "journal");
	ck_assert_str_eq(output_kind_to_string(OUTPUT_FILE), "file");
	ck_assert_str_eq(output_kind_to_string(OUTPUT_APPEND), "append");
	ck_assert_str_eq(output_kind_to_string(OUTPUT_STDOUT), "stdout");
	ck_assert_ptr_null(output_kind_to_string(_OUTPUT_MAX));
}
END_TEST

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Collect the NN-name.conf files of the current directory. */
static void find_golden(void)
{
	DIR *d = opendir(".");
	struct dirent *de;

	if (!d) {
		perror("opendir");
		exit(99);
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 5 && strcmp(de->d_name + n - 5, ".conf") == 0 && de->d_type != DT_DIR) {
			golden = xreallocarray(golden, n_golden + 1, sizeof(char *));
			golden[n_golden++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (n_golden > 0)
		qsort(golden, n_golden, sizeof(char *), strcmp_ptr);
}

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc;
	SRunner *sr;
	int failed;

	if (chdir(TEST_SRCDIR "/conf") < 0) {
		perror("chdir " TEST_SRCDIR "/conf");
		return 99;
	}
	find_golden();

	tc = tcase_create("golden");
	tcase_add_test(tc, test_golden_found);
	tcase_add_loop_test(tc, test_golden, 0, (int) n_golden);
	suite_add_tcase(s, tc);

	tc = tcase_create("unit");
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_every_job_key_compared);
	tcase_add_test(tc, test_every_supd_key_dumped);
	tcase_add_test(tc, test_refcount);
	tcase_add_test(tc, test_line_limits);
	tcase_add_test(tc, test_find_and_resolve);
	tcase_add_test(tc, test_parsed_values);
	tcase_add_test(tc, test_load_failures);
	tcase_add_test(tc, test_names_and_strings);
	tcase_add_test(tc, test_secret_order);
	tcase_add_test(tc, test_limit_rows);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	for (size_t i = 0; i < n_golden; i++)
		free(golden[i]);
	free(golden);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
