/* SPDX-License-Identifier: ISC */
/* Unit tests for job names, template arguments and patterns (daemon/names.c)
 * and the %-specifier expansion (daemon/subst.c). */
#include <check.h>
#include <stdlib.h>
#include "names.h"
#include "subst.h"
#include "util.h"

START_TEST(test_job_names)
{
	ck_assert(job_name_valid("a"));
	ck_assert(job_name_valid("Web_1.v2-x"));
	ck_assert(job_name_valid(".hidden"));
	ck_assert(!job_name_valid(""));
	ck_assert(!job_name_valid(NULL));
	ck_assert(!job_name_valid("."));
	ck_assert(!job_name_valid(".."));
	ck_assert(!job_name_valid("a@"));
	ck_assert(!job_name_valid("a b"));
	ck_assert(!job_name_valid("a/b"));
	ck_assert(!job_name_valid("a*"));
}
END_TEST

START_TEST(test_instance_args_accepted)
{
	static const char *const ok[] = {
		"a", "file1.txt", "A-b_c.d", "x+y,z=w:v@u", "0", "a-", "a..b", "...",
		"caf\xc3\xa9",                 /* é, two bytes */
		"\xc2\xa0",                   /* U+00A0, the first after the C1 controls */
		"\xe2\x82\xac" "100",          /* €, three bytes */
		"\xf0\x9f\x98\x80",            /* U+1F600, four bytes */
	};
	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		ck_assert_msg(instance_arg_valid(ok[i]), "refused: %s", ok[i]);

	char longest[INSTANCE_ARG_MAX + 2];
	memset(longest, 'x', sizeof(longest));
	longest[INSTANCE_ARG_MAX] = '\0';
	ck_assert(instance_arg_valid(longest));
	longest[INSTANCE_ARG_MAX] = 'x';
	longest[INSTANCE_ARG_MAX + 1] = '\0';
	ck_assert(!instance_arg_valid(longest));
}
END_TEST

START_TEST(test_instance_args_refused)
{
	static const char *const bad[] = {
		"", ".", "..", "-rf", "--help", "-",
		"a b", "a\tb", "a\nb", "a/b", "a\\b", "a'b", "a\"b", "a`id`",
		"a;b", "a|b", "a&b", "a<b", "a>b", "a(b", "a)b", "a{b", "a}b",
		"$HOME", "a$b", "a*", "a?", "a[b]", "~root", "a#b", "a!b", "a%b", "a^b",
		"\x7f", "a\x01",
		"\xc3",                        /* truncated sequence */
		"\xc0\xaf",                    /* overlong '/' */
		"\xe0\x80\xaf",                /* overlong '/' in three bytes */
		"\xed\xa0\x80",                /* a UTF-16 surrogate */
		"\xf4\x90\x80\x80",            /* above U+10FFFF */
		"\xff", "\x80",
		"\xc2\x9b" "2J",               /* U+009B, a C1 control (CSI) */
		"\xc2\x85",                   /* U+0085 */
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(!instance_arg_valid(bad[i]), "accepted #%zu", i);
}
END_TEST

START_TEST(test_patterns)
{
	ck_assert(job_name_is_instance_of("enc@a", "enc"));
	ck_assert(!job_name_is_instance_of("encx@a", "enc"));
	ck_assert(!job_name_is_instance_of("enc", "enc"));
	ck_assert(job_name_matches("enc@a", "enc"));
	ck_assert(job_name_matches("enc@a", "enc@*"));
	ck_assert(job_name_matches("svc", "svc"));
	ck_assert(job_name_matches("svc", "s*"));
	ck_assert(!job_name_matches("svc", "t*"));
}
END_TEST

START_TEST(test_expand)
{
	_cleanup_free_ char *a = subst_expand("in/%i %n 100%%", "x.y", "t@x.y");
	ck_assert_str_eq(a, "in/x.y t@x.y 100%");
	_cleanup_free_ char *b = subst_expand("[%i]", NULL, NULL);
	ck_assert_str_eq(b, "[]");
	/* shell = true: every value is one single-quoted word */
	_cleanup_free_ char *c = subst_expand_sh("echo %i > /out/%n.txt 100%%", "a=b", "t@a=b");
	ck_assert_str_eq(c, "echo 'a=b' > /out/'t@a=b'.txt 100%");
	_cleanup_free_ char *d = subst_expand_sh("echo %i", "it's", "n");
	ck_assert_str_eq(d, "echo 'it'\\''s'");
	_cleanup_free_ char *e = subst_expand_sh("echo [%i]", "", "n");
	ck_assert_str_eq(e, "echo ['']");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_job_names);
	tcase_add_test(tc, test_instance_args_accepted);
	tcase_add_test(tc, test_instance_args_refused);
	tcase_add_test(tc, test_patterns);
	tcase_add_test(tc, test_expand);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
