/* SPDX-License-Identifier: ISC */
/* Unit tests for common/cmdline.c: the shell-like command splitter. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "cmdline.h"
#include "util.h"

/* Render a pipeline as "[arg] [arg] | [arg]" so a whole split can be
 * compared with one exact string. */
static char *render(const struct pipeline *p)
{
	struct buf b = { 0 };

	buf_append(&b, "", 0);
	for (size_t i = 0; i < p->n_stages; i++) {
		if (i > 0)
			buf_append(&b, " | ", 3);
		for (char **a = p->stages[i]; *a; a++)
			buf_appendf(&b, "%s[%s]", a == p->stages[i] ? "" : " ", *a);
	}
	return b.data;
}

#define SPLIT_OK(cmd, want) do {                                                 \
	struct pipeline _p = { 99, NULL };                                       \
	const char *_e = "unset";                                                \
	_cleanup_free_ char *_got = NULL;                                        \
	int _r = cmdline_split((cmd), &_p, &_e);                                 \
	ck_assert_msg(_r == 0, "cmdline_split(%s) = %d (%s)", #cmd, _r, _e);      \
	ck_assert_str_eq(_e, "unset");                                           \
	_got = render(&_p);                                                      \
	ck_assert_str_eq(_got, (want));                                          \
	pipeline_free(&_p);                                                      \
} while (0)

#define SPLIT_ERR(cmd, reason) do {                                              \
	struct pipeline _p = { 99, NULL };                                       \
	const char *_e = NULL;                                                   \
	int _r = cmdline_split((cmd), &_p, &_e);                                 \
	ck_assert_msg(_r == -EINVAL, "cmdline_split(%s) = %d, want -EINVAL", #cmd, _r); \
	ck_assert_ptr_nonnull(_e);                                               \
	ck_assert_str_eq(_e, (reason));                                          \
	ck_assert_uint_eq(_p.n_stages, 0);                                       \
	ck_assert_ptr_null(_p.stages);                                           \
} while (0)

START_TEST(test_words)
{
	SPLIT_OK("ls", "[ls]");
	SPLIT_OK("ls -l /tmp", "[ls] [-l] [/tmp]");
	SPLIT_OK("  ls   -l  ", "[ls] [-l]");
	SPLIT_OK("ls\t-l\t\t/tmp", "[ls] [-l] [/tmp]");
	SPLIT_OK("ls\n-l\n", "[ls] [-l]");
	SPLIT_OK(" \t\n ls \t\n ", "[ls]");
	SPLIT_OK("a;b", "[a;b]");
	SPLIT_OK("a && b", "[a] [&&] [b]");
	SPLIT_OK("a > out < in 2>&1", "[a] [>] [out] [<] [in] [2>&1]");
	SPLIT_OK("echo $HOME ~ *.c", "[echo] [$HOME] [~] [*.c]");
	SPLIT_OK("echo #not-a-comment", "[echo] [#not-a-comment]");
	SPLIT_OK("a\rb", "[a\rb]");   /* only space, tab and newline separate */
	SPLIT_OK("x=1 cmd", "[x=1] [cmd]");
}
END_TEST

START_TEST(test_single_quotes)
{
	SPLIT_OK("'a b' c", "[a b] [c]");
	SPLIT_OK("'a  b'", "[a  b]");
	SPLIT_OK("a'b'c", "[abc]");
	SPLIT_OK("'a\\b'", "[a\\b]");              /* backslash literal */
	SPLIT_OK("'a\\'", "[a\\]");
	SPLIT_OK("'\\'''", "[\\]");                /* '\' then '' */
	SPLIT_OK("'say \"hi\"'", "[say \"hi\"]");
	SPLIT_OK("'$HOME `x`'", "[$HOME `x`]");
	SPLIT_OK("'a\nb'", "[a\nb]");
	SPLIT_OK("'a\tb'", "[a\tb]");
	SPLIT_OK("'a\\\nb'", "[a\\\nb]");          /* no continuation inside '' */
	SPLIT_OK("'|'", "[|]");
	SPLIT_OK("'a | b'", "[a | b]");
}
END_TEST

START_TEST(test_double_quotes)
{
	SPLIT_OK("\"a b\" c", "[a b] [c]");
	SPLIT_OK("a\"b\"c", "[abc]");
	SPLIT_OK("\"it's\"", "[it's]");
	SPLIT_OK("\"a\\\"b\"", "[a\"b]");          /* \" */
	SPLIT_OK("\"a\\\\b\"", "[a\\b]");          /* \\ */
	SPLIT_OK("\"\\$HOME\"", "[$HOME]");        /* \$ */
	SPLIT_OK("\"\\`x\\`\"", "[`x`]");          /* \` */
	SPLIT_OK("\"$HOME\"", "[$HOME]");          /* no expansion */
	SPLIT_OK("\"a\\nb\"", "[a\\nb]");          /* other backslashes stay */
	SPLIT_OK("\"\\a\"", "[\\a]");
	SPLIT_OK("\"a\\'b\"", "[a\\'b]");
	SPLIT_OK("\"a\\ b\"", "[a\\ b]");
	SPLIT_OK("\"\\\\\\\\\"", "[\\\\]");
	SPLIT_OK("\"\\\\\"", "[\\]");
	SPLIT_OK("\"a\\\nb\"", "[ab]");            /* backslash-newline removed */
	SPLIT_OK("\"a\nb\"", "[a\nb]");
	SPLIT_OK("\"a\tb\"", "[a\tb]");
	SPLIT_OK("\"|\"", "[|]");
	SPLIT_OK("\"x | y\"", "[x | y]");
	SPLIT_OK("\"'\"", "[']");
	SPLIT_OK("\"'a b'\"", "['a b']");
}
END_TEST

START_TEST(test_mixed_quotes)
{
	SPLIT_OK("'it'\"'\"'s'", "[it's]");
	SPLIT_OK("'a'\"b\"c", "[abc]");
	SPLIT_OK("\"a\"'b'\\ c", "[ab c]");
	SPLIT_OK("'\"'\"'\"", "[\"']");
	SPLIT_OK("sh -c 'echo \"$1\"' --", "[sh] [-c] [echo \"$1\"] [--]");
	SPLIT_OK("awk '{ print $1 }' \"file name.txt\"", "[awk] [{ print $1 }] [file name.txt]");
}
END_TEST

START_TEST(test_backslash)
{
	SPLIT_OK("a\\ b", "[a b]");
	SPLIT_OK("\\'", "[']");
	SPLIT_OK("\\\"", "[\"]");
	SPLIT_OK("\\\\", "[\\]");
	SPLIT_OK("\\a", "[a]");
	SPLIT_OK("\\$HOME", "[$HOME]");
	SPLIT_OK("a\\\tb", "[a\tb]");
	SPLIT_OK("\\ ", "[ ]");
	SPLIT_OK("a \\  b", "[a] [ ] [b]");
	SPLIT_OK("a\\\nb", "[ab]");                /* line continuation */
	SPLIT_OK("a \\\n b", "[a] [b]");
	SPLIT_OK("a\\\n", "[a]");
	SPLIT_OK("\\\na", "[a]");
	SPLIT_OK("a \\\n| b", "[a] | [b]");
}
END_TEST

START_TEST(test_empty_args)
{
	SPLIT_OK("''", "[]");
	SPLIT_OK("\"\"", "[]");
	SPLIT_OK("a '' b", "[a] [] [b]");
	SPLIT_OK("a \"\" b", "[a] [] [b]");
	SPLIT_OK("a''", "[a]");
	SPLIT_OK("a\"\"b", "[ab]");
	SPLIT_OK("''''", "[]");
	SPLIT_OK("'' ''", "[] []");
	SPLIT_OK("''|''", "[] | []");
}
END_TEST

START_TEST(test_pipes)
{
	SPLIT_OK("a|b", "[a] | [b]");
	SPLIT_OK("a | b", "[a] | [b]");
	SPLIT_OK("a|b|c", "[a] | [b] | [c]");
	SPLIT_OK("a\t|\tb", "[a] | [b]");
	SPLIT_OK("a\n|\nb", "[a] | [b]");
	SPLIT_OK("a -x | b -y 'z w' | c", "[a] [-x] | [b] [-y] [z w] | [c]");
	SPLIT_OK("gzip -c | openssl enc -aes-256-cbc -pbkdf2 -pass env:PASSWORD",
		 "[gzip] [-c] | [openssl] [enc] [-aes-256-cbc] [-pbkdf2] [-pass] [env:PASSWORD]");
	SPLIT_OK("grep 'x|y' | wc -l", "[grep] [x|y] | [wc] [-l]");
	SPLIT_OK("a'|'b", "[a|b]");
	SPLIT_OK("a\"|\"b", "[a|b]");
	SPLIT_OK("a\\|b", "[a|b]");                /* escaped pipe is literal */
	SPLIT_OK("\\|", "[|]");
	SPLIT_OK("a \\| b", "[a] [|] [b]");
	SPLIT_OK("echo a\\|b|tr a-z A-Z", "[echo] [a|b] | [tr] [a-z] [A-Z]");
	SPLIT_OK("\"a\"|'b'", "[a] | [b]");
}
END_TEST

START_TEST(test_bytes_passthrough)
{
	SPLIT_OK("echo 'héllo wörld' ✓", "[echo] [héllo wörld] [✓]");
	SPLIT_OK("\"日本語\" \\é", "[日本語] [é]");
	SPLIT_OK("\xff\xfe \x01\x7f", "[\xff\xfe] [\x01\x7f]");
	SPLIT_OK("\"\\é\"", "[\\é]");
}
END_TEST

START_TEST(test_structure)
{
	struct pipeline p;
	const char *e = NULL;

	ck_assert_int_eq(cmdline_split("a b|c", &p, &e), 0);
	ck_assert_uint_eq(p.n_stages, 2);
	ck_assert_str_eq(p.stages[0][0], "a");
	ck_assert_str_eq(p.stages[0][1], "b");
	ck_assert_ptr_null(p.stages[0][2]);
	ck_assert_str_eq(p.stages[1][0], "c");
	ck_assert_ptr_null(p.stages[1][1]);
	pipeline_free(&p);
	ck_assert_uint_eq(p.n_stages, 0);
	ck_assert_ptr_null(p.stages);
	pipeline_free(&p);   /* twice is harmless */
	pipeline_free(NULL);

	ck_assert_int_eq(cmdline_split("''", &p, NULL), 0);
	ck_assert_uint_eq(p.n_stages, 1);
	ck_assert_str_eq(p.stages[0][0], "");
	ck_assert_ptr_null(p.stages[0][1]);
	pipeline_free(&p);
}
END_TEST

START_TEST(test_errors)
{
	struct pipeline p = { 7, NULL };

	SPLIT_ERR("", "empty command");
	SPLIT_ERR("   ", "empty command");
	SPLIT_ERR("\t\n", "empty command");
	SPLIT_ERR("\\\n", "empty command");
	SPLIT_ERR("'abc", "unterminated quote");
	SPLIT_ERR("\"abc", "unterminated quote");
	SPLIT_ERR("a 'b", "unterminated quote");
	SPLIT_ERR("'", "unterminated quote");
	SPLIT_ERR("\"", "unterminated quote");
	SPLIT_ERR("\"a\\\"", "unterminated quote");     /* the quote is escaped */
	SPLIT_ERR("\"a\\", "unterminated quote");
	SPLIT_ERR("'it's'", "unterminated quote");
	SPLIT_ERR("'\\''", "unterminated quote");      /* no escapes inside '' */
	SPLIT_ERR("a | 'b", "unterminated quote");
	SPLIT_ERR("a \\", "trailing backslash");
	SPLIT_ERR("\\", "trailing backslash");
	SPLIT_ERR("a\\\\\\", "trailing backslash");
	SPLIT_ERR("a || b", "empty pipeline stage");
	SPLIT_ERR("a | | b", "empty pipeline stage");
	SPLIT_ERR("| a", "empty pipeline stage");
	SPLIT_ERR("|a", "empty pipeline stage");
	SPLIT_ERR("a |", "empty pipeline stage");
	SPLIT_ERR("a|", "empty pipeline stage");
	SPLIT_ERR("a | ", "empty pipeline stage");
	SPLIT_ERR("a |\n", "empty pipeline stage");
	SPLIT_ERR("|", "empty pipeline stage");
	SPLIT_ERR("||", "empty pipeline stage");
	SPLIT_ERR(" | ", "empty pipeline stage");
	SPLIT_ERR("a | b |", "empty pipeline stage");
	SPLIT_ERR("a | \\\n | b", "empty pipeline stage");

	ck_assert_int_eq(cmdline_split("'x", &p, NULL), -EINVAL);   /* error may be NULL */
	ck_assert_uint_eq(p.n_stages, 0);
	ck_assert_int_eq(cmdline_split(NULL, &p, NULL), -EINVAL);
}
END_TEST

START_TEST(test_copy)
{
	struct pipeline a, b, empty = { 0, NULL }, c = { 5, NULL };
	_cleanup_free_ char *ra = NULL, *rb = NULL;

	ck_assert_int_eq(cmdline_split("a 'b c' | d ''", &a, NULL), 0);
	pipeline_copy(&a, &b);
	ra = render(&a);
	rb = render(&b);
	ck_assert_str_eq(ra, "[a] [b c] | [d] []");
	ck_assert_str_eq(rb, ra);
	ck_assert(a.stages != b.stages);
	ck_assert(a.stages[0] != b.stages[0]);
	ck_assert(a.stages[0][0] != b.stages[0][0]);
	pipeline_free(&a);
	free(rb);
	rb = render(&b);   /* still intact after freeing the original */
	ck_assert_str_eq(rb, "[a] [b c] | [d] []");
	pipeline_free(&b);

	pipeline_copy(&empty, &c);
	ck_assert_uint_eq(c.n_stages, 0);
	ck_assert_ptr_null(c.stages);
}
END_TEST

static Suite *cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("split");

	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_single_quotes);
	tcase_add_test(tc, test_double_quotes);
	tcase_add_test(tc, test_mixed_quotes);
	tcase_add_test(tc, test_backslash);
	tcase_add_test(tc, test_empty_args);
	tcase_add_test(tc, test_pipes);
	tcase_add_test(tc, test_bytes_passthrough);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmdline_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
