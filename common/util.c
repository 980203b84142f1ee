/* SPDX-License-Identifier: ISC */
/* Small helpers shared by supd and supctl: checked allocation, string
 * vectors, a growable buffer, full writes and time formatting. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

/* Out of memory: a broken invariant for a supervisor, see util.h. */
static _noreturn_ void oom(void)
{
	static const char msg[] = "supd: out of memory\n";

	(void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom();
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		oom();
	return xrealloc(p, total);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

/* Copy at most n bytes of s (stopping at its NUL) into a new string. */
char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	if (!v)
		return 0;
	while (v[n])
		n++;
	return n;
}

/* Append a copy of s to v (NULL is an empty vector); returns the new v. */
char **strv_push(char **v, const char *s)
{
	size_t n = strv_length(v);

	v = xreallocarray(v, n + 2, sizeof(char *));
	v[n] = xstrdup(s);
	v[n + 1] = NULL;
	return v;
}

/* A deep copy; a NULL vector copies to an empty (non-NULL) vector. */
char **strv_copy(char *const *v)
{
	size_t n = strv_length(v);
	char **c = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* NULL and an empty vector compare equal. */
bool strv_equal(char *const *a, char *const *b)
{
	size_t na = strv_length(a), nb = strv_length(b);

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Make room for n more bytes plus a terminating NUL. */
void buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;

	if (__builtin_add_overflow(b->len, n, &need) || __builtin_add_overflow(need, 1, &need))
		oom();
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (__builtin_mul_overflow(cap, 2, &cap)) {
			cap = need;
			break;
		}
	}
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();   /* only an encoding error or EOVERFLOW; neither is recoverable here */

	buf_reserve(b, (size_t) n);
	va_start(ap, fmt);
	(void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		c += k;
		n -= (size_t) k;
	}
	return 0;
}

usec_t now_usec(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		abort();   /* only EINVAL for a bad clock id: a programming error */
	return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

/* Writes v as exactly n decimal digits. */
static void put_digits(char *out, unsigned long v, int n) {
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

int format_rfc3339_to(char out[RFC3339_MAX], usec_t realtime_usec)
{
	/* A status reply writes three timestamps per job, most of them in the
	 * same few seconds: keep "YYYY-MM-DDTHH:MM:SS" of the last second seen.
	 * (supd and supctl are single-threaded.) */
	static time_t cached_sec = (time_t) -1;
	static char cached[19];
	time_t t = (time_t) (realtime_usec / USEC_PER_SEC);

	if (t != cached_sec) {
		struct tm tm;

		if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
			return -EOVERFLOW;   /* RFC 3339 has four-digit years */
		put_digits(cached, (unsigned long) tm.tm_year + 1900, 4);
		cached[4] = '-';
		put_digits(cached + 5, (unsigned long) tm.tm_mon + 1, 2);
		cached[7] = '-';
		put_digits(cached + 8, (unsigned long) tm.tm_mday, 2);
		cached[10] = 'T';
		put_digits(cached + 11, (unsigned long) tm.tm_hour, 2);
		cached[13] = ':';
		put_digits(cached + 14, (unsigned long) tm.tm_min, 2);
		cached[16] = ':';
		put_digits(cached + 17, (unsigned long) tm.tm_sec, 2);
		cached_sec = t;
	}
	memcpy(out, cached, sizeof cached);
	out[19] = '.';
	put_digits(out + 20, (unsigned long) (realtime_usec % USEC_PER_SEC), 6);
	out[26] = 'Z';
	out[27] = '\0';
	return 27;
}

int parse_rfc3339(const char *s, usec_t *ret)
{
	struct tm tm = { 0 };
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	usec_t frac = 0, scale = USEC_PER_SEC;

	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (usec_t) (*p - '0') * scale;
			}
	if (strcmp(p, "Z") != 0)
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*ret = (usec_t) t * USEC_PER_SEC + frac;
	return 0;
}

char *format_rfc3339(usec_t realtime_usec)
{
	char s[RFC3339_MAX];

	return xstrdup(format_rfc3339_to(s, realtime_usec) < 0 ? "invalid" : s);
}

/* Two significant units, truncated: 850ms, 12.3s, 5m02s, 3h04m, 2d03h;
 * below a millisecond 12us; USEC_INFINITY is "infinity". */
char *format_duration_setting(usec_t usec)
{
	const usec_t min = 60 * USEC_PER_SEC, hour = 60 * min;

	if (usec == 0)
		return xstrdup("0");
	if (usec % hour == 0)
		return xasprintf("%lluh", (unsigned long long) (usec / hour));
	if (usec % min == 0)
		return xasprintf("%llum", (unsigned long long) (usec / min));
	if (usec % USEC_PER_SEC == 0)
		return xasprintf("%llus", (unsigned long long) (usec / USEC_PER_SEC));
	if (usec % USEC_PER_MSEC == 0)
		return xasprintf("%llums", (unsigned long long) (usec / USEC_PER_MSEC));
	return xasprintf("%lluus", (unsigned long long) usec);
}

char *format_duration(usec_t usec)
{
	const usec_t min = 60 * USEC_PER_SEC, hour = 60 * min, day = 24 * hour;

	if (usec == USEC_INFINITY)
		return xstrdup("infinity");
	if (usec < USEC_PER_MSEC)
		return xasprintf("%uus", (unsigned) usec);
	if (usec < USEC_PER_SEC)
		return xasprintf("%ums", (unsigned) (usec / USEC_PER_MSEC));
	if (usec < min)
		return xasprintf("%u.%us", (unsigned) (usec / USEC_PER_SEC),
				 (unsigned) (usec % USEC_PER_SEC / (USEC_PER_SEC / 10)));
	if (usec < hour)
		return xasprintf("%um%02us", (unsigned) (usec / min),
				 (unsigned) (usec % min / USEC_PER_SEC));
	if (usec < day)
		return xasprintf("%uh%02um", (unsigned) (usec / hour), (unsigned) (usec % hour / min));
	return xasprintf("%llud%02uh", (unsigned long long) (usec / day),
			 (unsigned) (usec % day / hour));
}
