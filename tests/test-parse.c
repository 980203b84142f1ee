/* SPDX-License-Identifier: ISC */
/* Unit tests for common/parse.c (durations, booleans, signals, integers,
 * modes, start limits, counts) and daemon/subst.c; the helpers of
 * common/util.c and common/log.c are in test-util.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "parse.h"
#include "subst.h"
#include "util.h"

/* ---- durations ---------------------------------------------------------- */

#define DUR_OK(str, want) do {                                                   \
	usec_t _u = 4242;                                                        \
	int _r = parse_duration((str), &_u);                                     \
	ck_assert_msg(_r == 0, "parse_duration(\"%s\") = %d, want 0", (str), _r); \
	ck_assert_msg(_u == (usec_t) (want), "parse_duration(\"%s\") -> %llu, want %llu", \
		      (str), (unsigned long long) _u, (unsigned long long) (want)); \
} while (0)

#define DUR_ERR(str, err) do {                                                   \
	usec_t _u = 4242;                                                        \
	int _r = parse_duration((str), &_u);                                     \
	ck_assert_msg(_r == (err), "parse_duration(\"%s\") = %d, want %d", (str), _r, (err)); \
	ck_assert_msg(_u == 4242, "parse_duration(\"%s\") wrote its output on error", (str)); \
} while (0)

#define SEC(x) ((usec_t) (x) * USEC_PER_SEC)

START_TEST(test_duration_units)
{
	DUR_OK("0", 0);
	DUR_OK("0s", 0);
	DUR_OK("0ms", 0);
	DUR_OK("10us", 10);
	DUR_OK("10usec", 10);
	DUR_OK("250ms", 250000);
	DUR_OK("250msec", 250000);
	DUR_OK("1s", SEC(1));
	DUR_OK("1sec", SEC(1));
	DUR_OK("2m", SEC(120));
	DUR_OK("2min", SEC(120));
	DUR_OK("1h", SEC(3600));
	DUR_OK("1hr", SEC(3600));
	DUR_OK("1d", SEC(86400));
	DUR_OK("1day", SEC(86400));
	DUR_OK("30", SEC(30));
	DUR_OK("007s", SEC(7));
	DUR_OK("1000000us", SEC(1));
}
END_TEST

START_TEST(test_duration_fractions)
{
	DUR_OK("1.5s", 1500000);
	DUR_OK("0.5", 500000);
	DUR_OK("0.25", 250000);
	DUR_OK("1.5m", SEC(90));
	DUR_OK("1.5h", SEC(5400));
	DUR_OK("1.5d", SEC(129600));
	DUR_OK("2.5ms", 2500);
	DUR_OK("0.001s", 1000);
	DUR_OK("0.000001s", 1);
	DUR_OK("1.0000001s", 1000000);          /* sub-microsecond truncated */
	DUR_OK("0.5us", 0);
	DUR_OK("0.99999999999999999999s", 999999);
	DUR_OK("1.1234567891234d", 97066666569ULL);  /* digits past the 9th ignored */
	DUR_OK("0.0", 0);
	DUR_OK("1.50s", 1500000);
}
END_TEST

START_TEST(test_duration_combined)
{
	DUR_OK("1m30s", SEC(90));
	DUR_OK("1h 30m", SEC(5400));
	DUR_OK("1h\t30m", SEC(5400));
	DUR_OK("1h  30m  15s", SEC(5415));
	DUR_OK("1d2h3m4s5ms6us", SEC(93784) + 5006);
	DUR_OK("1s1s", SEC(2));
	DUR_OK("1.5m30s", SEC(120));
	DUR_OK("500ms 500ms", SEC(1));
}
END_TEST

START_TEST(test_duration_errors)
{
	usec_t u = 1;

	ck_assert_int_eq(parse_duration(NULL, &u), -EINVAL);
	DUR_ERR("", -EINVAL);
	DUR_ERR("-1", -EINVAL);
	DUR_ERR("-1s", -EINVAL);
	DUR_ERR("+1s", -EINVAL);
	DUR_ERR("soon", -EINVAL);
	DUR_ERR("5x", -EINVAL);
	DUR_ERR("s", -EINVAL);
	DUR_ERR("ms", -EINVAL);
	DUR_ERR("1.", -EINVAL);
	DUR_ERR("1.s", -EINVAL);
	DUR_ERR(".5", -EINVAL);
	DUR_ERR(".5s", -EINVAL);
	DUR_ERR("1..5s", -EINVAL);
	DUR_ERR("1.5.5s", -EINVAL);
	DUR_ERR("1,5s", -EINVAL);
	DUR_ERR(" 1s", -EINVAL);
	DUR_ERR("1s ", -EINVAL);
	DUR_ERR("1s\t", -EINVAL);
	DUR_ERR(" ", -EINVAL);
	DUR_ERR("1 s", -EINVAL);
	DUR_ERR("1m30", -EINVAL);     /* a bare number only as the whole value */
	DUR_ERR("30 1m", -EINVAL);
	DUR_ERR("1S", -EINVAL);
	DUR_ERR("1H", -EINVAL);
	DUR_ERR("1sm", -EINVAL);
	DUR_ERR("1ms5", -EINVAL);
	DUR_ERR("1e3s", -EINVAL);
	DUR_ERR("0x10", -EINVAL);
	DUR_ERR("1w", -EINVAL);
	DUR_ERR("infinity", -EINVAL);
	DUR_ERR("1s;", -EINVAL);
	DUR_ERR("1s-1s", -EINVAL);
}
END_TEST

START_TEST(test_duration_range)
{
	DUR_OK("18446744073709551614us", UINT64_MAX - 1);
	DUR_OK("200000000d", 17280000000000000000ULL);
	DUR_ERR("18446744073709551615us", -ERANGE);   /* USEC_INFINITY is reserved */
	DUR_ERR("18446744073709551616us", -ERANGE);
	DUR_ERR("99999999999999999999999", -ERANGE);
	DUR_ERR("300000000d", -ERANGE);                /* multiplication overflows */
	DUR_ERR("200000000d 200000000d", -ERANGE);     /* addition overflows */
	DUR_ERR("18446744073709551615.9us", -ERANGE);
	DUR_ERR("99999999999999999999999x", -EINVAL);  /* syntax wins over range */
}
END_TEST

/* ---- booleans ----------------------------------------------------------- */

#define BOOL_OK(str, want) do {                                                  \
	bool _b = !(want);                                                       \
	int _r = parse_boolean((str), &_b);                                      \
	ck_assert_msg(_r == 0, "parse_boolean(\"%s\") = %d", (str), _r);          \
	ck_assert_msg(_b == (want), "parse_boolean(\"%s\") wrong value", (str));  \
} while (0)

#define BOOL_ERR(str) do {                                                       \
	bool _b = true;                                                          \
	int _r = parse_boolean((str), &_b);                                      \
	ck_assert_msg(_r == -EINVAL, "parse_boolean(\"%s\") = %d", (str), _r);    \
	ck_assert(_b);                                                           \
} while (0)

START_TEST(test_boolean)
{
	bool b = true;

	BOOL_OK("true", true);
	BOOL_OK("yes", true);
	BOOL_OK("on", true);
	BOOL_OK("1", true);
	BOOL_OK("TRUE", true);
	BOOL_OK("Yes", true);
	BOOL_OK("oN", true);
	BOOL_OK("false", false);
	BOOL_OK("no", false);
	BOOL_OK("off", false);
	BOOL_OK("0", false);
	BOOL_OK("FALSE", false);
	BOOL_OK("No", false);
	BOOL_OK("OFF", false);

	BOOL_ERR("");
	BOOL_ERR("2");
	BOOL_ERR("y");
	BOOL_ERR("n");
	BOOL_ERR("t");
	BOOL_ERR("truee");
	BOOL_ERR("yes ");
	BOOL_ERR(" no");
	BOOL_ERR("nope");
	BOOL_ERR("01");
	BOOL_ERR("enable");
	ck_assert_int_eq(parse_boolean(NULL, &b), -EINVAL);
}
END_TEST

/* ---- signals ------------------------------------------------------------ */

#define SIGNAL_OK(str, want) do {                                                   \
	int _s = -7;                                                             \
	int _r = parse_signal((str), &_s);                                       \
	ck_assert_msg(_r == 0, "parse_signal(\"%s\") = %d", (str), _r);           \
	ck_assert_msg(_s == (want), "parse_signal(\"%s\") -> %d, want %d", (str), _s, (want)); \
} while (0)

#define SIGNAL_ERR(str, err) do {                                                   \
	int _s = -7;                                                             \
	int _r = parse_signal((str), &_s);                                       \
	ck_assert_msg(_r == (err), "parse_signal(\"%s\") = %d, want %d", (str), _r, (err)); \
	ck_assert_int_eq(_s, -7);                                                \
} while (0)

START_TEST(test_signal_parse)
{
	SIGNAL_OK("TERM", SIGTERM);
	SIGNAL_OK("SIGTERM", SIGTERM);
	SIGNAL_OK("term", SIGTERM);
	SIGNAL_OK("sigterm", SIGTERM);
	SIGNAL_OK("SigTerm", SIGTERM);
	SIGNAL_OK("SiGkIlL", SIGKILL);
	SIGNAL_OK("HUP", SIGHUP);
	SIGNAL_OK("INT", SIGINT);
	SIGNAL_OK("QUIT", SIGQUIT);
	SIGNAL_OK("USR1", SIGUSR1);
	SIGNAL_OK("usr2", SIGUSR2);
	SIGNAL_OK("WINCH", SIGWINCH);
	SIGNAL_OK("STOP", SIGSTOP);
	SIGNAL_OK("CONT", SIGCONT);
	SIGNAL_OK("ABRT", SIGABRT);
	SIGNAL_OK("IOT", SIGABRT);
	SIGNAL_OK("CHLD", SIGCHLD);
	SIGNAL_OK("CLD", SIGCHLD);
	SIGNAL_OK("IO", SIGIO);
	SIGNAL_OK("POLL", SIGIO);
	SIGNAL_OK("SYS", SIGSYS);
	SIGNAL_OK("1", 1);
	SIGNAL_OK("9", SIGKILL);
	SIGNAL_OK("15", SIGTERM);
	SIGNAL_OK("015", SIGTERM);
	SIGNAL_OK("31", 31);
	SIGNAL_OK("34", 34);
	SIGNAL_OK("64", 64);
}
END_TEST

START_TEST(test_signal_errors)
{
	int s = 1;

	ck_assert_int_eq(parse_signal(NULL, &s), -EINVAL);
	SIGNAL_ERR("", -EINVAL);
	SIGNAL_ERR("SIG", -EINVAL);
	SIGNAL_ERR("sig", -EINVAL);
	SIGNAL_ERR("FOO", -EINVAL);
	SIGNAL_ERR("SIGFOO", -EINVAL);
	SIGNAL_ERR("SIGSIGTERM", -EINVAL);
	SIGNAL_ERR("TERM ", -EINVAL);
	SIGNAL_ERR(" TERM", -EINVAL);
	SIGNAL_ERR("SIG TERM", -EINVAL);
	SIGNAL_ERR("SIG15", -EINVAL);
	SIGNAL_ERR("TERMINATE", -EINVAL);
	SIGNAL_ERR("TER", -EINVAL);
	SIGNAL_ERR("9x", -EINVAL);
	SIGNAL_ERR("-1", -EINVAL);
	SIGNAL_ERR("-9", -EINVAL);
	SIGNAL_ERR("+9", -EINVAL);
	SIGNAL_ERR("0", -ERANGE);
	SIGNAL_ERR("65", -ERANGE);
	SIGNAL_ERR("100", -ERANGE);
	SIGNAL_ERR("99999999999999999999999", -ERANGE);
}
END_TEST

START_TEST(test_signal_name)
{
	ck_assert_str_eq(signal_name(SIGKILL), "KILL");
	ck_assert_str_eq(signal_name(SIGTERM), "TERM");
	ck_assert_str_eq(signal_name(SIGHUP), "HUP");
	ck_assert_str_eq(signal_name(SIGINT), "INT");
	ck_assert_str_eq(signal_name(SIGABRT), "ABRT");   /* not the alias IOT */
	ck_assert_str_eq(signal_name(SIGCHLD), "CHLD");   /* not CLD */
	ck_assert_str_eq(signal_name(SIGIO), "IO");       /* not POLL */
	ck_assert_str_eq(signal_name(SIGUSR1), "USR1");
	ck_assert_str_eq(signal_name(SIGSYS), "SYS");
	ck_assert_ptr_null(signal_name(0));
	ck_assert_ptr_null(signal_name(-1));
	ck_assert_ptr_null(signal_name(64));
	ck_assert_ptr_null(signal_name(100));

	/* Every classic signal has a name that parses back to it. */
	for (int sig = 1; sig < 32; sig++) {
		const char *name = signal_name(sig);
		_cleanup_free_ char *with_sig = NULL;
		int back = 0;

		ck_assert_msg(name != NULL, "signal %d has no name", sig);
		ck_assert_int_eq(parse_signal(name, &back), 0);
		ck_assert_int_eq(back, sig);
		with_sig = xasprintf("SIG%s", name);
		ck_assert_int_eq(parse_signal(with_sig, &back), 0);
		ck_assert_int_eq(back, sig);
	}
}
END_TEST

/* ---- integers, modes, counts -------------------------------------------- */

#define INT_OK(str, min, max, want) do {                                         \
	long _v = -4242;                                                         \
	int _r = parse_int((str), (min), (max), &_v);                            \
	ck_assert_msg(_r == 0, "parse_int(\"%s\") = %d", (str), _r);              \
	ck_assert_msg(_v == (want), "parse_int(\"%s\") -> %ld", (str), _v);       \
} while (0)

#define INT_ERR(str, min, max, err) do {                                         \
	long _v = -4242;                                                         \
	int _r = parse_int((str), (min), (max), &_v);                            \
	ck_assert_msg(_r == (err), "parse_int(\"%s\") = %d, want %d", (str), _r, (err)); \
	ck_assert_int_eq(_v, -4242);                                             \
} while (0)

START_TEST(test_int)
{
	long v;
	_cleanup_free_ char *lmax = xasprintf("%ld", LONG_MAX);
	_cleanup_free_ char *lmin = xasprintf("%ld", LONG_MIN);

	INT_OK("0", 0, 10, 0);
	INT_OK("10", 0, 10, 10);
	INT_OK("-5", -10, 10, -5);
	INT_OK("-0", 0, 0, 0);
	INT_OK("0042", 0, 100, 42);
	INT_OK(lmax, LONG_MIN, LONG_MAX, LONG_MAX);
	INT_OK(lmin, LONG_MIN, LONG_MAX, LONG_MIN);

	INT_ERR("", 0, 10, -EINVAL);
	INT_ERR("-", -10, 10, -EINVAL);
	INT_ERR("+5", 0, 10, -EINVAL);
	INT_ERR(" 5", 0, 10, -EINVAL);
	INT_ERR("5 ", 0, 10, -EINVAL);
	INT_ERR("5x", 0, 10, -EINVAL);
	INT_ERR("0x5", 0, 10, -EINVAL);
	INT_ERR("1.0", 0, 10, -EINVAL);
	INT_ERR("--5", -10, 10, -EINVAL);
	INT_ERR("- 5", -10, 10, -EINVAL);
	INT_ERR("11", 0, 10, -ERANGE);
	INT_ERR("-1", 0, 10, -ERANGE);
	INT_ERR("99999999999999999999999", LONG_MIN, LONG_MAX, -ERANGE);
	INT_ERR("-99999999999999999999999", LONG_MIN, LONG_MAX, -ERANGE);
	ck_assert_int_eq(parse_int(NULL, 0, 1, &v), -EINVAL);
}
END_TEST

#define MODE_OK(str, want) do {                                                  \
	mode_t _m = 01;                                                          \
	int _r = parse_mode((str), &_m);                                         \
	ck_assert_msg(_r == 0, "parse_mode(\"%s\") = %d", (str), _r);             \
	ck_assert_msg(_m == (mode_t) (want), "parse_mode(\"%s\") -> %o", (str), (unsigned) _m); \
} while (0)

#define MODE_ERR(str, err) do {                                                  \
	mode_t _m = 01;                                                          \
	int _r = parse_mode((str), &_m);                                         \
	ck_assert_msg(_r == (err), "parse_mode(\"%s\") = %d, want %d", (str), _r, (err)); \
	ck_assert_uint_eq(_m, 01);                                               \
} while (0)

START_TEST(test_mode)
{
	mode_t m;

	MODE_OK("0660", 0660);
	MODE_OK("660", 0660);
	MODE_OK("0", 0);
	MODE_OK("0000755", 0755);
	MODE_OK("07777", 07777);
	MODE_OK("4755", 04755);

	MODE_ERR("", -EINVAL);
	MODE_ERR("8", -EINVAL);
	MODE_ERR("0698", -EINVAL);
	MODE_ERR("0x1ff", -EINVAL);
	MODE_ERR("-0660", -EINVAL);
	MODE_ERR("+0660", -EINVAL);
	MODE_ERR("0660 ", -EINVAL);
	MODE_ERR(" 0660", -EINVAL);
	MODE_ERR("rw-rw----", -EINVAL);
	MODE_ERR("10000", -ERANGE);
	MODE_ERR("017777", -ERANGE);
	MODE_ERR("77777777777777777777777777", -ERANGE);
	ck_assert_int_eq(parse_mode(NULL, &m), -EINVAL);
}
END_TEST

#define LIMIT_OK(str, wburst, winterval) do {                                    \
	unsigned _b = 4242;                                                      \
	usec_t _iv = 4242;                                                        \
	int _r = parse_start_limit((str), &_b, &_iv);                             \
	ck_assert_msg(_r == 0, "parse_start_limit(\"%s\") = %d", (str), _r);      \
	ck_assert_uint_eq(_b, (wburst));                                         \
	ck_assert_uint_eq(_iv, (winterval));                                      \
} while (0)

#define LIMIT_ERR(str, err) do {                                                 \
	unsigned _b = 4242;                                                      \
	usec_t _iv = 4242;                                                        \
	int _r = parse_start_limit((str), &_b, &_iv);                             \
	ck_assert_msg(_r == (err), "parse_start_limit(\"%s\") = %d, want %d", (str), _r, (err)); \
	ck_assert_uint_eq(_b, 4242);                                             \
	ck_assert_uint_eq(_iv, 4242);                                             \
} while (0)

START_TEST(test_start_limit)
{
	unsigned b;
	usec_t i;

	LIMIT_OK("5/10s", 5, SEC(10));
	LIMIT_OK("1/1m", 1, SEC(60));
	LIMIT_OK("3/1m30s", 3, SEC(90));
	LIMIT_OK("100/500ms", 100, 500000);
	LIMIT_OK("5/10", 5, SEC(10));
	LIMIT_OK("0", 0, 0);
	LIMIT_OK("none", 0, 0);
	LIMIT_OK("NONE", 0, 0);
	LIMIT_OK("0/10s", 0, 0);

	LIMIT_ERR("", -EINVAL);
	LIMIT_ERR("5", -EINVAL);
	LIMIT_ERR("00", -EINVAL);
	LIMIT_ERR("5/", -EINVAL);
	LIMIT_ERR("/10s", -EINVAL);
	LIMIT_ERR("/", -EINVAL);
	LIMIT_ERR("5/0", -EINVAL);
	LIMIT_ERR("5/0s", -EINVAL);
	LIMIT_ERR("-1/10s", -EINVAL);
	LIMIT_ERR("+1/10s", -EINVAL);
	LIMIT_ERR("a/10s", -EINVAL);
	LIMIT_ERR("5/10x", -EINVAL);
	LIMIT_ERR("5/10s/3", -EINVAL);
	LIMIT_ERR("5//10s", -EINVAL);
	LIMIT_ERR(" 5/10s", -EINVAL);
	LIMIT_ERR("5 /10s", -EINVAL);
	LIMIT_ERR("5/ 10s", -EINVAL);
	LIMIT_ERR("5/10s ", -EINVAL);
	LIMIT_ERR("nonex", -EINVAL);
	LIMIT_ERR("99999999999/1s", -ERANGE);
	LIMIT_ERR("5/99999999999999999999999", -ERANGE);
	ck_assert_int_eq(parse_start_limit(NULL, &b, &i), -EINVAL);
}
END_TEST

START_TEST(test_count_or_auto)
{
	long v = 0;

	ck_assert_int_eq(parse_count_or_auto("auto", 1, 100, &v), 0);
	ck_assert_int_eq(v, -1);
	v = 0;
	ck_assert_int_eq(parse_count_or_auto("AUTO", 1, 100, &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(parse_count_or_auto("4", 1, 100, &v), 0);
	ck_assert_int_eq(v, 4);
	ck_assert_int_eq(parse_count_or_auto("0", 0, 100, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(parse_count_or_auto("100", 1, 100, &v), 0);
	ck_assert_int_eq(v, 100);

	v = 7;
	ck_assert_int_eq(parse_count_or_auto("0", 1, 100, &v), -ERANGE);
	ck_assert_int_eq(parse_count_or_auto("101", 1, 100, &v), -ERANGE);
	ck_assert_int_eq(parse_count_or_auto("-1", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(parse_count_or_auto("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_count_or_auto("autox", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_count_or_auto("auto ", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_count_or_auto("au", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_count_or_auto("4x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_count_or_auto(NULL, 0, 100, &v), -EINVAL);
	ck_assert_int_eq(v, 7);
}
END_TEST

/* ---- %-specifiers ------------------------------------------------------- */

#define EXPAND(str, inst, name, want) do {                                       \
	_cleanup_free_ char *_e = subst_expand((str), (inst), (name));           \
	ck_assert_str_eq(_e, (want));                                            \
} while (0)

START_TEST(test_subst_expand)
{
	EXPAND("", "3", "pool@3", "");
	EXPAND("plain", "3", "pool@3", "plain");
	EXPAND("%i", "3", "pool@3", "3");
	EXPAND("%n", "3", "pool@3", "pool@3");
	EXPAND("/var/log/%n-%i.log", "3", "pool@3", "/var/log/pool@3-3.log");
	EXPAND("%i%i%n", "a", "b", "aab");
	EXPAND("%%", "3", "x", "%");
	EXPAND("%%i", "3", "x", "%i");
	EXPAND("100%%", "3", "x", "100%");
	EXPAND("%%%i%%", "3", "x", "%3%");
	EXPAND("%%%%", "3", "x", "%%");
	EXPAND("--id=%i", NULL, "web", "--id=");
	EXPAND("%i", "", "web", "");
	EXPAND("%n", "1", NULL, "");
	EXPAND("é%i✓", "ü", "x", "éü✓");
	EXPAND("%i", "%n", "x", "%n");   /* values are not expanded again */
	/* invalid specifiers (subst_valid rejects them) are left as written */
	EXPAND("%x%i", "3", "x", "%x3");
	EXPAND("50%", "3", "x", "50%");
}
END_TEST

START_TEST(test_subst_valid)
{
	char bad = '?';

	ck_assert(subst_valid("", &bad));
	ck_assert(subst_valid("plain text", &bad));
	ck_assert(subst_valid("%i", &bad));
	ck_assert(subst_valid("%n", &bad));
	ck_assert(subst_valid("%%", &bad));
	ck_assert(subst_valid("a%ib%nc%%d", &bad));
	ck_assert(subst_valid("%%%%", &bad));
	ck_assert(subst_valid("%%i", &bad));
	ck_assert_int_eq(bad, '?');

	ck_assert(!subst_valid("%x", &bad));
	ck_assert_int_eq(bad, 'x');
	ck_assert(!subst_valid("ok %i then %I", &bad));
	ck_assert_int_eq(bad, 'I');
	ck_assert(!subst_valid("%N", &bad));
	ck_assert_int_eq(bad, 'N');
	ck_assert(!subst_valid("% i", &bad));
	ck_assert_int_eq(bad, ' ');
	ck_assert(!subst_valid("%%%x", &bad));
	ck_assert_int_eq(bad, 'x');

	bad = '?';
	ck_assert(!subst_valid("50%", &bad));
	ck_assert_int_eq(bad, '\0');
	bad = '?';
	ck_assert(!subst_valid("%", &bad));
	ck_assert_int_eq(bad, '\0');
	bad = '?';
	ck_assert(!subst_valid("%%%", &bad));
	ck_assert_int_eq(bad, '\0');
	ck_assert(!subst_valid("%x", NULL));
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc;

	tc = tcase_create("duration");
	tcase_add_test(tc, test_duration_units);
	tcase_add_test(tc, test_duration_fractions);
	tcase_add_test(tc, test_duration_combined);
	tcase_add_test(tc, test_duration_errors);
	tcase_add_test(tc, test_duration_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("boolean");
	tcase_add_test(tc, test_boolean);
	suite_add_tcase(s, tc);

	tc = tcase_create("signal");
	tcase_add_test(tc, test_signal_parse);
	tcase_add_test(tc, test_signal_errors);
	tcase_add_test(tc, test_signal_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("number");
	tcase_add_test(tc, test_int);
	tcase_add_test(tc, test_mode);
	tcase_add_test(tc, test_start_limit);
	tcase_add_test(tc, test_count_or_auto);
	suite_add_tcase(s, tc);

	tc = tcase_create("subst");
	tcase_add_test(tc, test_subst_expand);
	tcase_add_test(tc, test_subst_valid);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
