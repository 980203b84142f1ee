/* Unit tests for common/parse.c (durations, booleans, signals, integers,
 * modes, start limits, counts), daemon/subst.c, and the helpers in
 * common/util.c and common/log.c that they rest on. */
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

/* ---- util --------------------------------------------------------------- */

#define FMT_DUR(usec, want) do {                                                 \
	_cleanup_free_ char *_f = format_duration(usec);                         \
	ck_assert_str_eq(_f, (want));                                            \
} while (0)

START_TEST(test_format_duration)
{
	FMT_DUR(0, "0us");
	FMT_DUR(999, "999us");
	FMT_DUR(1000, "1ms");
	FMT_DUR(850 * USEC_PER_MSEC, "850ms");
	FMT_DUR(999999, "999ms");
	FMT_DUR(SEC(1), "1.0s");
	FMT_DUR(12300 * USEC_PER_MSEC, "12.3s");
	FMT_DUR(12399 * USEC_PER_MSEC, "12.3s");
	FMT_DUR(SEC(60) - 1, "59.9s");
	FMT_DUR(SEC(60), "1m00s");
	FMT_DUR(SEC(302), "5m02s");
	FMT_DUR(SEC(3600) - 1, "59m59s");
	FMT_DUR(SEC(3600), "1h00m");
	FMT_DUR(SEC(3 * 3600 + 4 * 60 + 59), "3h04m");
	FMT_DUR(SEC(86400) - 1, "23h59m");
	FMT_DUR(SEC(86400), "1d00h");
	FMT_DUR(SEC(2 * 86400 + 3 * 3600 + 1), "2d03h");
	FMT_DUR(SEC(400 * 86400), "400d00h");
	FMT_DUR(USEC_INFINITY, "infinity");
}
END_TEST

START_TEST(test_format_rfc3339)
{
	_cleanup_free_ char *epoch = format_rfc3339(0);
	_cleanup_free_ char *t = format_rfc3339(SEC(1795626000) + 123456);
	_cleanup_free_ char *y2038 = format_rfc3339(SEC(2147483648ULL) + 1);

	ck_assert_str_eq(epoch, "1970-01-01T00:00:00.000000Z");
	ck_assert_str_eq(t, "2026-11-25T17:00:00.123456Z");
	ck_assert_str_eq(y2038, "2038-01-19T03:14:08.000001Z");
}
END_TEST

/* The formatter keeps the last second it formatted: same second, the next
 * one, a year boundary and back must all still be right. */
START_TEST(test_format_rfc3339_sequence)
{
	static const struct { usec_t t; const char *s; } cases[] = {
		{ SEC(1795626000) + 1, "2026-11-25T17:00:00.000001Z" },
		{ SEC(1795626000) + 999999, "2026-11-25T17:00:00.999999Z" },
		{ SEC(1795626001), "2026-11-25T17:00:01.000000Z" },
		{ SEC(1798761599) + 500000, "2026-12-31T23:59:59.500000Z" },
		{ SEC(1798761600), "2027-01-01T00:00:00.000000Z" },
		{ SEC(1795626000) + 7, "2026-11-25T17:00:00.000007Z" },
		{ SEC(253402300799) + 1, "9999-12-31T23:59:59.000001Z" },
	};
	char out[RFC3339_MAX];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		ck_assert_int_eq(format_rfc3339_to(out, cases[i].t), (int) strlen(cases[i].s));
		ck_assert_str_eq(out, cases[i].s);
	}
	/* year 10000 has no RFC 3339 form */
	ck_assert_int_eq(format_rfc3339_to(out, SEC(253402300800)), -EOVERFLOW);
	ck_assert_int_eq(format_rfc3339_to(out, SEC(1795626000)), 27);
	ck_assert_str_eq(out, "2026-11-25T17:00:00.000000Z");
}
END_TEST

START_TEST(test_now_usec)
{
	usec_t a = now_usec(CLOCK_MONOTONIC), b = now_usec(CLOCK_MONOTONIC);
	usec_t r = now_usec(CLOCK_REALTIME);

	ck_assert_uint_ge(b, a);
	ck_assert_uint_gt(r, SEC(1600000000));   /* after 2020 */
}
END_TEST

START_TEST(test_strv)
{
	char **v = NULL, **c;
	char *const empty[] = { NULL };

	ck_assert_uint_eq(strv_length(NULL), 0);
	ck_assert(strv_equal(NULL, empty));
	v = strv_push(v, "a");
	v = strv_push(v, "");
	v = strv_push(v, "c d");
	ck_assert_uint_eq(strv_length(v), 3);
	ck_assert_str_eq(v[0], "a");
	ck_assert_str_eq(v[1], "");
	ck_assert_str_eq(v[2], "c d");
	ck_assert_ptr_null(v[3]);

	c = strv_copy(v);
	ck_assert(c != v && c[0] != v[0]);
	ck_assert(strv_equal(v, c));
	free(c[2]);
	c[2] = xstrdup("c e");
	ck_assert(!strv_equal(v, c));
	ck_assert(!strv_equal(v, NULL));
	strv_free(c);

	c = strv_copy(NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(strv_length(c), 0);
	strv_free(c);
	strv_free(v);
	strv_free(NULL);

	ck_assert(streq_ptr(NULL, NULL));
	ck_assert(!streq_ptr("a", NULL));
	ck_assert(!streq_ptr(NULL, "a"));
	ck_assert(streq_ptr("a", "a"));
	ck_assert(!streq_ptr("a", "b"));
}
END_TEST

START_TEST(test_buf)
{
	struct buf b = { 0 };
	_cleanup_free_ char *big = xmalloc(10001);

	buf_append(&b, "hello", 5);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.data, "hello");
	buf_appendf(&b, " %s %d", "world", 42);
	ck_assert_uint_eq(b.len, 14);
	ck_assert_str_eq(b.data, "hello world 42");
	buf_consume(&b, 6);
	ck_assert_str_eq(b.data, "world 42");
	ck_assert_uint_eq(b.len, 8);
	buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");

	memset(big, 'x', 10000);
	big[10000] = '\0';
	buf_appendf(&b, "%s", big);
	buf_append(&b, "", 0);
	ck_assert_uint_eq(b.len, 10000);
	ck_assert_str_eq(b.data, big);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_xalloc)
{
	_cleanup_free_ char *s = xasprintf("%s-%03d", "x", 7);
	_cleanup_free_ char *n = xstrndup("abcdef", 3);
	_cleanup_free_ char *n2 = xstrndup("ab", 10);
	_cleanup_free_ int *z = xcalloc(4, sizeof(int));
	_cleanup_free_ void *zero = xmalloc(0);

	ck_assert_str_eq(s, "x-007");
	ck_assert_str_eq(n, "abc");
	ck_assert_str_eq(n2, "ab");
	ck_assert_int_eq(z[0] | z[1] | z[2] | z[3], 0);
	ck_assert_ptr_nonnull(zero);
}
END_TEST

START_TEST(test_write_all)
{
	int p[2];
	char got[16] = { 0 };

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write_all(p[1], "abcdef", 6), 0);
	ck_assert_int_eq(write_all(p[1], "", 0), 0);
	ck_assert_int_eq(read(p[0], got, sizeof(got) - 1), 6);
	ck_assert_str_eq(got, "abcdef");
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(close(p[1]), 0);
	ck_assert_int_eq(write_all(-1, "x", 1), -EBADF);
}
END_TEST

/* ---- log (stderr backend) ----------------------------------------------- */

/* Run with fd 2 redirected to a temp file; returns what was written. */
static int stderr_saved = -1;
static FILE *stderr_capture;

static void capture_begin(void)
{
	stderr_capture = tmpfile();
	ck_assert_ptr_nonnull(stderr_capture);
	stderr_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(stderr_saved, 0);
	ck_assert_int_ge(dup2(fileno(stderr_capture), STDERR_FILENO), 0);
}

static char *capture_end(void)
{
	struct buf b = { 0 };
	char chunk[256];
	ssize_t n;

	ck_assert_int_ge(dup2(stderr_saved, STDERR_FILENO), 0);
	ck_assert_int_eq(close(stderr_saved), 0);
	ck_assert_int_eq(lseek(fileno(stderr_capture), 0, SEEK_SET), 0);
	while ((n = read(fileno(stderr_capture), chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t) n);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(fclose(stderr_capture), 0);
	buf_append(&b, "", 0);
	return b.data;
}

START_TEST(test_log_default_ident)
{
	_cleanup_free_ char *out = NULL;
	const char *fork_env = getenv("CK_FORK");

	if (fork_env && strcmp(fork_env, "no") == 0)
		return;   /* another test may have called log_init() already */
	capture_begin();
	log_warnx("hello %d", 5);
	log_info("info line");
	log_debug("not shown");
	out = capture_end();
	ck_assert_str_eq(out, "supd: hello 5\nsupd: info line\n");
}
END_TEST

START_TEST(test_log_stderr)
{
	_cleanup_free_ char *out = NULL;
	int r;

	log_init("tst", LOG_TARGET_STDERR, LOG_INFO);
	log_set_verbose(false);
	capture_begin();
	errno = ENOENT;
	log_warn("open %s", "/x");
	ck_assert_int_eq(errno, ENOENT);             /* logging keeps errno */
	errno = 0;
	log_warn("no errno");
	log_warnx("plain %s", "warning");
	log_debug("hidden %d", 1);
	log_set_verbose(true);
	log_debug("shown %d", 2);
	log_set_verbose(false);
	log_msg(LOG_NOTICE, "notice");
	r = log_error_errno(-EACCES, "bind %s", "sock");
	ck_assert_int_eq(r, -EACCES);
	r = log_error_errno(EPERM, "positive");
	ck_assert_int_eq(r, -EPERM);
	log_job(LOG_INFO, "web@2", 17, 0, -1, "exited, status %d", 0);
	log_job(LOG_INFO, NULL, 0, -1, -1, "no job");
	out = capture_end();
	ck_assert_str_eq(out,
			 "tst: open /x: No such file or directory\n"
			 "tst: no errno\n"
			 "tst: plain warning\n"
			 "tst: shown 2\n"
			 "tst: notice\n"
			 "tst: bind sock: Permission denied\n"
			 "tst: positive: Operation not permitted\n"
			 "tst: web@2: exited, status 0\n"
			 "tst: no job\n");
}
END_TEST

START_TEST(test_log_filter)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ char *longmsg = xmalloc(20001);

	memset(longmsg, 'y', 20000);
	longmsg[20000] = '\0';
	log_init("f", LOG_TARGET_STDERR, LOG_WARNING);
	log_set_verbose(false);
	capture_begin();
	log_info("dropped");
	log_msg(LOG_NOTICE, "dropped too");
	log_warnx("kept");
	log_msg(LOG_ERR, "%s", longmsg);   /* no truncation */
	log_set_verbose(true);
	log_debug("debug when verbose");
	out = capture_end();
	ck_assert_uint_eq(strlen(out), strlen("f: kept\n") + 3 + 20000 + 1 + strlen("f: debug when verbose\n"));
	ck_assert(strncmp(out, "f: kept\nf: yyy", 14) == 0);
	ck_assert(strstr(out, "y\nf: debug when verbose\n") != NULL);

	log_init("g", LOG_TARGET_STDERR, LOG_DEBUG);
	log_set_verbose(false);
	capture_begin();
	log_debug("debug by priority");
	free(out);
	out = capture_end();
	ck_assert_str_eq(out, "g: debug by priority\n");
}
END_TEST

/* Without a journal socket the journal backend falls back to stderr. */
START_TEST(test_log_journal_fallback)
{
	_cleanup_free_ char *out = NULL;

	if (access("/run/systemd/journal/socket", F_OK) == 0)
		return;   /* a real journal: nothing visible to check here */
	log_init("j", LOG_TARGET_JOURNAL, LOG_INFO);
	capture_begin();
	log_job(LOG_WARNING, "batch", 3, -1, 9, "killed by %s", "KILL");
	log_info("plain");
	out = capture_end();
	ck_assert_str_eq(out, "j: batch: killed by KILL\nj: plain\n");
}
END_TEST

START_TEST(test_fatalx)
{
	const char *fork_env = getenv("CK_FORK");

	if (fork_env && strcmp(fork_env, "no") == 0)
		return;   /* exiting would end the whole test run */
	log_init("t", LOG_TARGET_STDERR, LOG_INFO);
	capture_begin();   /* keep the test output clean; exit discards it */
	fatalx("going down %d", 1);
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

	tc = tcase_create("util");
	tcase_add_test(tc, test_format_duration);
	tcase_add_test(tc, test_format_rfc3339);
	tcase_add_test(tc, test_format_rfc3339_sequence);
	tcase_add_test(tc, test_now_usec);
	tcase_add_test(tc, test_strv);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_xalloc);
	tcase_add_test(tc, test_write_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, test_log_default_ident);
	tcase_add_test(tc, test_log_stderr);
	tcase_add_test(tc, test_log_filter);
	tcase_add_test(tc, test_log_journal_fallback);
	tcase_add_exit_test(tc, test_fatalx, EXIT_FAILURE);
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
