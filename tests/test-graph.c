/* SPDX-License-Identifier: ISC */
/* Unit tests for the dependency graph of a configuration (daemon/graph.c)
 * and of the checks of ready = log: at load (config-types-graph.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include "config-types.h"
#include "graph.h"
#include "log.h"

/* Load text; *errs gets the messages, one a line. Returns the config or NULL. */
static struct supd_config *load(const char *text, char **errs) {
	char path[] = "/tmp/supd-test-graph-XXXXXX";
	int fd = mkstemp(path);
	struct config_errors e = { 0 };
	struct supd_config *c = NULL;
	struct buf b = { 0 };

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
	(void) config_load(path, &c, &e);
	unlink(path);
	buf_append(&b, "", 0);
	for (size_t i = 0; i < e.n; i++) {
		const char *m = strchr(e.v[i], ':');   /* drop the temporary file's name */
		buf_appendf(&b, "%s\n", m ? m + 1 : e.v[i]);
	}
	config_errors_clear(&e);
	*errs = b.data;
	return c;
}

START_TEST(test_names)
{
	ck_assert_ptr_null(graph_name_invalid("db"));
	ck_assert_ptr_null(graph_name_invalid("prep@%i"));
	ck_assert_ptr_null(graph_name_invalid("t@a:b"));
	ck_assert_ptr_null(graph_name_invalid("pool@3"));
	ck_assert_ptr_nonnull(graph_name_invalid("%n"));
	ck_assert_ptr_nonnull(graph_name_invalid("a/b"));
	ck_assert_ptr_nonnull(graph_name_invalid("t@"));
	ck_assert_ptr_nonnull(graph_name_invalid("t@-x"));
	ck_assert_ptr_nonnull(graph_name_invalid("t@%q"));
	ck_assert_ptr_nonnull(graph_name_invalid(""));
}
END_TEST

START_TEST(test_expand_and_resolve)
{
	char *errs;
	struct supd_config *c = load("[supd]\nmax_parallel = 0\n[job:db]\ncommand = true\n"
				     "[job:pool]\ncommand = true\ninstances = 3\n"
				     "[job:t@]\ncommand = true\n"
				     "[job:w@]\ncommand = true\nrequires = t@%i-x pool\n", &errs);
	struct job_config *t;
	const char *why = NULL;

	ck_assert_msg(c, "%s", errs);
	ck_assert_int_eq(graph_resolve(c, "db", &t, &why), GRAPH_JOB);
	ck_assert_str_eq(t->name, "db");
	ck_assert_int_eq(graph_resolve(c, "pool", &t, &why), GRAPH_POOL);
	ck_assert_int_eq(graph_resolve(c, "pool@2", &t, &why), GRAPH_POOL_INSTANCE);
	ck_assert_int_eq(graph_resolve(c, "pool@3", &t, &why), GRAPH_UNKNOWN);
	ck_assert_int_eq(graph_resolve(c, "pool@02", &t, &why), GRAPH_UNKNOWN);
	ck_assert_int_eq(graph_resolve(c, "t@a", &t, &why), GRAPH_TEMPLATE_INSTANCE);
	ck_assert_int_eq(graph_resolve(c, "t", &t, &why), GRAPH_UNKNOWN);
	ck_assert(strstr(why, "instance"));
	ck_assert_int_eq(graph_resolve(c, "db@1", &t, &why), GRAPH_UNKNOWN);
	ck_assert_int_eq(graph_resolve(c, "nope", &t, &why), GRAPH_UNKNOWN);
	ck_assert_str_eq(why, "unknown job");

	const struct job_config *w = config_find_job(c, "w");
	char *n = graph_expand(&w->requires[0], "abc", "w@abc");
	ck_assert_str_eq(n, "t@abc-x");
	free(n);
	n = graph_expand(&w->requires[1], "abc", "w@abc");
	ck_assert_str_eq(n, "pool");
	free(n);
	ck_assert_int_eq(w->requires[1].cond, REQ_UP);
	config_free(c);
	free(errs);
}
END_TEST

/* Each config and the messages it must give, without the file name. */
static const struct {
	const char *text, *errors;
} bad[] = {
	{ "[job:a]\ncommand = true\nrequires = b\n[job:b]\ncommand = true\nrequires = a\n",
	  "3: dependency cycle: a -> b -> a\n" },
	{ "[job:a]\ncommand = true\nrequires = a:started\n", "3: dependency cycle: a -> a\n" },
	/* found once from each side it is entered: the cycle c -> d -> c and the
	 * job e that only leads into it */
	{ "[job:e]\ncommand = true\nrequires = c\n[job:c]\ncommand = true\nrequires = d\n"
	  "[job:d]\ncommand = true\n\nrequires = c\n",
	  "6: dependency cycle: c -> d -> c\n" },
	{ "[job:a]\ncommand = true\nrequires = b:healthy\n[job:b]\ncommand = true\n",
	  "3: requires b:healthy, but b has no health_command\n" },
	{ "[supd]\nmax_parallel = 2\n[job:a]\ncommand = true\nrequires = p p:exited\n"
	  "[job:p]\ncommand = true\ninstances = 3\n",
	  "5: requires p:up can never hold: 3 batch instances, max_parallel = 2\n" },
	/* a pool of services is fine, and so is one no larger than max_parallel */
	{ "[supd]\nmax_parallel = 3\n[job:a]\ncommand = true\nrequires = p q\n"
	  "[job:p]\ncommand = true\ninstances = 3\n[job:q]\ncommand = true\ninstances = 9\nrestart = always\n",
	  "" },
	{ "[job:a]\ncommand = true\ninstances = 4\nrequires = p@%i\n[job:p]\ncommand = true\ninstances = 3\n",
	  "4: requires p@3: no such instance of the pool\n" },
	{ "[job:a]\ncommand = true\nrequires = x:up:down\n",
	  "3: invalid condition in requires: x:up:down (expected up, started, exited or healthy)\n" },
	{ "[job:t@]\ncommand = true\nrequires = nope@%i\n", "3: requires nope@%i: unknown template or pool\n" },
};

START_TEST(test_checks)
{
	char *errs;
	struct supd_config *c = load(bad[_i].text, &errs);

	ck_assert_msg(strcmp(errs, bad[_i].errors) == 0, "case %d: got\n%sexpected\n%s", _i, errs, bad[_i].errors);
	ck_assert(!c == !!*bad[_i].errors);
	config_free(c);
	free(errs);
}
END_TEST

/* 5,000 jobs in a chain: no recursion, no quadratic lookup. */
START_TEST(test_long_chain)
{
	struct buf b = { 0 };
	char *errs;
	const int n = 5000;

	for (int i = 0; i < n; i++) {
		buf_appendf(&b, "[job:j%d]\ncommand = true\n", i);
		if (i)
			buf_appendf(&b, "requires = j%d\n", i - 1);
	}
	buf_appendf(&b, "[job:j0x]\ncommand = true\nrequires = j%d\n", n - 1);
	struct supd_config *c = load(b.data, &errs);
	ck_assert_msg(c, "%s", errs);
	config_free(c);
	free(errs);
	/* closing it makes one cycle of n jobs */
	buf_appendf(&b, "[job:j0y]\ncommand = true\n");
	char *p = strstr(b.data, "[job:j0]\ncommand = true\n");
	ck_assert_ptr_nonnull(p);
	struct buf b2 = { 0 };
	buf_append(&b2, b.data, (size_t) (p - b.data) + strlen("[job:j0]\ncommand = true\n"));
	buf_appendf(&b2, "requires = j%d\n", n - 1);
	buf_appendf(&b2, "%s", p + strlen("[job:j0]\ncommand = true\n"));
	c = load(b2.data, &errs);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(errs, "dependency cycle: j0 -> j4999 -> j4998 -> "), "%.200s", errs);
	ck_assert(strstr(errs, " -> j1 -> j0\n"));
	free(errs);
	buf_free(&b);
	buf_free(&b2);
}
END_TEST

/* A changed requires applies at the next start: reload need not restart. */
START_TEST(test_requires_change_is_for_the_next_start)
{
	char *e1, *e2, *e3;
	struct supd_config *a = load("[job:x]\ncommand = true\n[job:y]\ncommand = true\nrequires = x\n", &e1);
	struct supd_config *b = load("[job:x]\ncommand = true\n[job:y]\ncommand = true\nrequires = x:started\n", &e2);
	struct supd_config *c = load("[job:x]\ncommand = true\n[job:y]\ncommand = false\nrequires = x\n", &e3);

	ck_assert(a && b && c);
	ck_assert(!job_config_equal(a->jobs[1], b->jobs[1]));
	ck_assert(job_config_equal_run(a->jobs[1], b->jobs[1]));
	ck_assert(!job_config_equal_run(a->jobs[1], c->jobs[1]));
	config_free(a);
	config_free(b);
	config_free(c);
	free(e1);
	free(e2);
	free(e3);
}
END_TEST

/* ready = log: is refused as the run's matcher refuses it (logmatch). */
START_TEST(test_log_ere)
{
	static const char *const refused[] = { "(a)\\1", "(unclosed", "((((a{100}){100}){100}){100})" };
	char *errs;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *text = xasprintf("[job:a]\ncommand = true\nready = log:%s\n", refused[i]);
		struct supd_config *c = load(text, &errs);
		ck_assert_msg(!c && strstr(errs, "3: ready = log:"), "%s: %s", refused[i], errs);
		free(errs);
		free(text);
	}
	struct supd_config *c = load("[job:a]\ncommand = true\nready = log:[\\1] ready$\n", &errs);
	ck_assert_msg(c, "%s", errs);
	config_free(c);
	free(errs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("graph");
	TCase *tc = tcase_create("graph");
	SRunner *sr;
	int failed;

	log_init("test-graph", LOG_TARGET_STDERR, LOG_WARNING);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_expand_and_resolve);
	tcase_add_loop_test(tc, test_checks, 0, (int) (sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_long_chain);
	tcase_add_test(tc, test_requires_change_is_for_the_next_start);
	tcase_add_test(tc, test_log_ere);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
