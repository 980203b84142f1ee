/* SPDX-License-Identifier: ISC */
/* Unit tests for `ready = log:ERE` (daemon/logmatch.c): what is refused
 * (back-references outside bracket expressions, empty, too deep, too
 * large once its bounds are multiplied out, whatever regcomp refuses) and
 * how a line is matched (its first 4 KiB only). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include "logmatch.h"
#include "util.h"

/* Compile ere; return NULL if accepted, else the error (static). */
static const char *refusal(const char *ere) {
	static char msg[512];
	regex_t re;
	char *error = (char *) 0x1;
	int r = logmatch_compile(ere, &re, &error);
	if (r == 0) {
		ck_assert_ptr_null(error);
		regfree(&re);
		return NULL;
	}
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_nonnull(error);
	snprintf(msg, sizeof(msg), "%s", error);
	free(error);
	return msg;
}

#define ACCEPTED(ere) ck_assert_msg(!refusal(ere), "%s refused: %s", ere, refusal(ere))
#define REFUSED(ere, prefix) do { \
		const char *_m = refusal(ere); \
		ck_assert_msg(_m, "%s accepted", ere); \
		ck_assert_msg(strncmp(_m, prefix, strlen(prefix)) == 0, "%s: %s", ere, _m); \
	} while (0)

/* A '\' and a digit is a back-reference outside a bracket expression
 * only: inside one, '\' is an ordinary member; an escaped '\' is not one. */
START_TEST(test_back_references)
{
	REFUSED("(a)\\1", "back-references are not supported: \\1");
	REFUSED("x\\0", "back-references are not supported: \\0");
	REFUSED("(ready)(go)\\2$", "back-references are not supported: \\2");
	REFUSED("[a]\\3", "back-references");
	REFUSED("[[:alpha:]]\\1", "back-references");
	REFUSED("[]]\\1", "back-references");               /* ']' first is a member */
	REFUSED("[^]]\\9", "back-references");
	REFUSED("[[.-.]]\\1", "back-references");
	REFUSED("\\[\\1", "back-references");                /* \[ is no bracket */
	ACCEPTED("[\\1]");
	ACCEPTED("[]\\1]");
	ACCEPTED("[[:digit:]\\2]");
	ACCEPTED("[[=a=]\\2]");
	ACCEPTED("\\\\1");                                   /* a '\', then '1' */
	ACCEPTED("port \\.[0-9]+");
}
END_TEST

START_TEST(test_refused_otherwise)
{
	REFUSED("", "empty regular expression");
	REFUSED("(", "invalid regular expression: ");
	REFUSED("[abc", "invalid regular expression: ");
	REFUSED("a{2,1}", "invalid regular expression: ");
	REFUSED("[[:nosuchclass:]]", "invalid regular expression: ");

	/* sizes: the product of nested bounds */
	ACCEPTED("(a{100}){100}");
	REFUSED("(a{100}){101}", "regular expression too large");
	REFUSED("((((a{100}){100}){100}){100})", "regular expression too large");
	REFUSED("(a{32767}){32767}", "regular expression too large");
	REFUSED("((((a{,100}){,100}){,100}){,100})", "regular expression too large");   /* glibc's {,n} */
	REFUSED("(a{100,}){100}", "regular expression too large");
	REFUSED("(a{99999999999999999999}){2}", "regular expression too large");
	ACCEPTED("a{2}{3}b{1,}c{0,5}");
	ACCEPTED("(ab|cd){50}");
	REFUSED("(ab|cd|ef|gh){2000}", "regular expression too large");
	char big[LOGMATCH_SIZE_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	REFUSED(big, "regular expression too large");
	big[LOGMATCH_SIZE_MAX] = '\0';
	ACCEPTED(big);

	/* nesting */
	char deep[2 * 70 + 2];
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		deep[n++] = '(';
	deep[n++] = 'a';
	for (int i = 0; i < 64; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	ACCEPTED(deep);
	memmove(deep + 1, deep, n + 1);
	deep[0] = '(';
	strcat(deep, ")");
	REFUSED(deep, "parentheses nested more than 64 deep");
}
END_TEST

static bool matches(const char *ere, const char *line, size_t len) {
	regex_t re;
	char *error = NULL;
	ck_assert_int_eq(logmatch_compile(ere, &re, &error), 0);
	bool m = logmatch_line(&re, line, len);
	regfree(&re);
	return m;
}

/* Matching looks at the first 4 KiB of a line and nothing past it. */
START_TEST(test_matching)
{
	const char *l = "2026-01-01 listening on port 8080";
	ck_assert(matches("listening on port [0-9]+$", l, strlen(l)));
	ck_assert(matches("^2026", l, strlen(l)));
	ck_assert(!matches("^listening", l, strlen(l)));
	ck_assert(!matches("port [a-z]+", l, strlen(l)));
	ck_assert(matches("ready|listening", l, strlen(l)));
	ck_assert(matches("^$", "", 0));
	ck_assert(matches("READY", "abc\0READY", 9));    /* a NUL in the line is a byte like others */

	static char line[8192];
	memset(line, 'x', sizeof(line));
	memcpy(line + 4090, "READY", 5);          /* ends at byte 4095: inside */
	ck_assert(matches("READY", line, sizeof(line)));
	memset(line, 'x', sizeof(line));
	memcpy(line + 4092, "READY", 5);          /* crosses byte 4096: not seen */
	ck_assert(!matches("READY", line, sizeof(line)));
	ck_assert(!matches("x{4097}", line, sizeof(line)));
	ck_assert(matches("^x{4092}R", line, sizeof(line)));
	ck_assert(!matches("x$", line, 4094));     /* ...RE: ends in 'E' */
	/* the cut is the end of what is matched: $ holds there */
	memset(line, 'x', sizeof(line));
	line[4096] = 'y';
	ck_assert(matches("x$", line, sizeof(line)));
	ck_assert(!matches("y", line, sizeof(line)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("logmatch");
	TCase *tc = tcase_create("ere");
	tcase_add_test(tc, test_back_references);
	tcase_add_test(tc, test_refused_otherwise);
	tcase_add_test(tc, test_matching);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
