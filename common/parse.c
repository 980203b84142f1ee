/* SPDX-License-Identifier: ISC */
/* Strict parsers for configuration and command-line values. None of them
 * skips leading or trailing whitespace or accepts trailing garbage; outputs
 * are written only on success. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <limits.h>
#include <signal.h>
#include <strings.h>

#include "parse.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const struct {
	const char *name;
	usec_t usec;
} duration_units[] = {
	{ "us",   1 },
	{ "usec", 1 },
	{ "ms",   USEC_PER_MSEC },
	{ "msec", USEC_PER_MSEC },
	{ "s",    USEC_PER_SEC },
	{ "sec",  USEC_PER_SEC },
	{ "m",    60 * USEC_PER_SEC },
	{ "min",  60 * USEC_PER_SEC },
	{ "h",    3600 * USEC_PER_SEC },
	{ "hr",   3600 * USEC_PER_SEC },
	{ "d",    86400 * USEC_PER_SEC },
	{ "day",  86400 * USEC_PER_SEC },
};

/* The unit named by the n bytes at p, or 0 if there is none such. */
static usec_t duration_unit(const char *p, size_t n)
{
	for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
		if (strlen(duration_units[i].name) == n && memcmp(duration_units[i].name, p, n) == 0)
			return duration_units[i].usec;
	return 0;
}

/* Fraction digits kept; later ones are checked but ignored (worth < 100us
 * even for "d"), which keeps the arithmetic exact and overflow-free. */
#define DURATION_FRAC_DIGITS 9

/* Components "NUMBER[.FRACTION]UNIT" separated by optional blanks; a lone
 * NUMBER without unit means seconds. Sub-microsecond parts are truncated. */
int parse_duration(const char *s, usec_t *ret)
{
	usec_t total = 0;
	bool overflow = false;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;

	while (*p) {
		usec_t ip = 0, frac = 0, pow = 1, unit, v;
		const char *start = p, *u;

		if (!is_digit(*p))
			return -EINVAL;
		for (; is_digit(*p); p++)
			if (__builtin_mul_overflow(ip, 10, &ip) ||
			    __builtin_add_overflow(ip, (usec_t) (*p - '0'), &ip))
				overflow = true;
		if (*p == '.') {
			p++;
			if (!is_digit(*p))
				return -EINVAL;
			for (unsigned k = 0; is_digit(*p); p++, k++)
				if (k < DURATION_FRAC_DIGITS) {
					frac = frac * 10 + (usec_t) (*p - '0');
					pow *= 10;
				}
		}

		u = p;
		while (is_alpha(*p))
			p++;
		if (p == u) {
			/* A bare number: seconds, and only as the whole value. */
			if (start != s || *p)
				return -EINVAL;
			unit = USEC_PER_SEC;
		} else {
			unit = duration_unit(u, (size_t) (p - u));
			if (unit == 0)
				return -EINVAL;
		}

		/* frac/pow of a unit, exactly: frac*unit/pow without overflow. */
		v = frac * (unit / pow) + frac * (unit % pow) / pow;
		if (__builtin_mul_overflow(ip, unit, &ip) ||
		    __builtin_add_overflow(ip, v, &ip) ||
		    __builtin_add_overflow(total, ip, &total))
			overflow = true;

		if (is_blank(*p)) {
			while (is_blank(*p))
				p++;
			if (!*p)
				return -EINVAL;   /* trailing blanks */
		}
	}

	if (overflow || total >= USEC_INFINITY)
		return -ERANGE;
	*ret = total;
	return 0;
}

int parse_boolean(const char *s, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
	for (size_t i = 0; i < ELEMENTSOF(no); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	return -EINVAL;
}

/* The standard Linux signals; the first name of a number is canonical. */
static const struct {
	int sig;
	const char *name;
} signal_table[] = {
	{ SIGHUP,    "HUP" },
	{ SIGINT,    "INT" },
	{ SIGQUIT,   "QUIT" },
	{ SIGILL,    "ILL" },
	{ SIGTRAP,   "TRAP" },
	{ SIGABRT,   "ABRT" },
	{ SIGBUS,    "BUS" },
	{ SIGFPE,    "FPE" },
	{ SIGKILL,   "KILL" },
	{ SIGUSR1,   "USR1" },
	{ SIGSEGV,   "SEGV" },
	{ SIGUSR2,   "USR2" },
	{ SIGPIPE,   "PIPE" },
	{ SIGALRM,   "ALRM" },
	{ SIGTERM,   "TERM" },
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "STKFLT" },
#endif
	{ SIGCHLD,   "CHLD" },
	{ SIGCONT,   "CONT" },
	{ SIGSTOP,   "STOP" },
	{ SIGTSTP,   "TSTP" },
	{ SIGTTIN,   "TTIN" },
	{ SIGTTOU,   "TTOU" },
	{ SIGURG,    "URG" },
	{ SIGXCPU,   "XCPU" },
	{ SIGXFSZ,   "XFSZ" },
	{ SIGVTALRM, "VTALRM" },
	{ SIGPROF,   "PROF" },
	{ SIGWINCH,  "WINCH" },
	{ SIGIO,     "IO" },
#ifdef SIGPWR
	{ SIGPWR,    "PWR" },
#endif
	{ SIGSYS,    "SYS" },
	/* aliases */
	{ SIGABRT,   "IOT" },
	{ SIGCHLD,   "CLD" },
	{ SIGIO,     "POLL" },
};

/* A name with or without "SIG" (any case), or a number 1..NSIG-1. */
int parse_signal(const char *s, int *ret)
{
	long n;
	int r;

	if (!s || !*s)
		return -EINVAL;
	if (is_digit(*s)) {
		r = parse_int(s, 1, NSIG - 1, &n);
		if (r < 0)
			return r;
		*ret = (int) n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
		if (strcasecmp(s, signal_table[i].name) == 0) {
			*ret = signal_table[i].sig;
			return 0;
		}
	return -EINVAL;
}

const char *signal_name(int sig)
{
	for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
		if (signal_table[i].sig == sig)
			return signal_table[i].name;
	return NULL;
}

/* Optional '-', then decimal digits only (no '+', no blanks). */
int parse_int(const char *s, long min, long max, long *ret)
{
	const char *d;
	char *end;
	long v;

	if (!s)
		return -EINVAL;
	d = *s == '-' ? s + 1 : s;
	if (!is_digit(*d))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int parse_mode(const char *s, mode_t *ret)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	if (s[strspn(s, "01234567")])
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		v = v * 8 + (unsigned long) (*p - '0');
		if (v > 07777)
			return -ERANGE;
	}
	*ret = (mode_t) v;
	return 0;
}

/* "BURST/INTERVAL"; "0", "none" or a burst of 0 means no limit. */
int parse_start_limit(const char *s, unsigned *burst, usec_t *interval)
{
	_cleanup_free_ char *b = NULL;
	const char *slash;
	usec_t iv;
	long n;
	int r;

	if (!s)
		return -EINVAL;
	if (strcmp(s, "0") == 0 || strcasecmp(s, "none") == 0) {
		*burst = 0;
		*interval = 0;
		return 0;
	}
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	b = xstrndup(s, (size_t) (slash - s));
	if (*b == '-')
		return -EINVAL;
	r = parse_int(b, 0, INT_MAX, &n);
	if (r < 0)
		return r;
	r = parse_duration(slash + 1, &iv);
	if (r < 0)
		return r;
	if (iv == 0)
		return -EINVAL;
	*burst = (unsigned) n;
	*interval = n == 0 ? 0 : iv;
	return 0;
}

int parse_count_or_auto(const char *s, long min, long max, long *ret)
{
	if (!s)
		return -EINVAL;
	if (strcasecmp(s, "auto") == 0) {
		*ret = -1;
		return 0;
	}
	return parse_int(s, min, max, ret);
}
