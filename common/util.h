/* SPDX-License-Identifier: ISC */
/* Small helpers shared by supd and supctl: ownership cleanup, checked
 * allocation, string vectors and time. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_SEC  ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))

/* Ownership helpers in the systemd style: a variable marked _cleanup_free_
 * is freed when it leaves scope unless TAKE_PTR() hands it on. */
static inline void freep(void *p) { free(*(void **) p); }
static inline void closep(int *fd) {
	if (*fd >= 0) {
		int saved = errno;
		(void) close(*fd);
		errno = saved;
	}
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/* Allocation that cannot fail: out of memory is a broken invariant for a
 * supervisor (we cannot supervise anything without memory), so abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* NULL-terminated string vectors. */
size_t strv_length(char *const *v);
char **strv_push(char **v, const char *s);      /* appends a copy */
char **strv_copy(char *const *v);
void strv_free(char **v);
bool strv_equal(char *const *a, char *const *b);
bool streq_ptr(const char *a, const char *b);

/* A growable byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};
/* Make room for n more bytes and the terminating NUL. */
void buf_reserve(struct buf *b, size_t n);
/* Append n bytes; data stays NUL-terminated (not counted in len). Inline:
 * the JSON writers append a few bytes at a time. */
static inline void buf_append(struct buf *b, const void *p, size_t n) {
	if (b->cap - b->len <= n)
		buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}
void buf_appendf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_consume(struct buf *b, size_t n);   /* drop the first n bytes */
void buf_free(struct buf *b);

/* Write all of p, retrying on EINTR and partial writes (blocking fd). */
int write_all(int fd, const void *p, size_t n);

usec_t now_usec(clockid_t clock);
/* RFC 3339 UTC with microseconds: 2026-11-25T17:00:00.123456Z */
char *format_rfc3339(usec_t realtime_usec);
/* The same into a caller's buffer, without allocating; returns its length
 * or -EOVERFLOW. */
#define RFC3339_MAX 64
int format_rfc3339_to(char out[RFC3339_MAX], usec_t realtime_usec);
/* The inverse for what format_rfc3339 writes (fraction optional). Returns
 * 0 or -EINVAL. */
int parse_rfc3339(const char *s, usec_t *ret);
/* Human duration for tables: 850ms, 12.3s, 5m02s, 3h04m, 2d03h */
char *format_duration(usec_t usec);
/* A duration as the configuration spells it, in one unit: 30s, 1m, 250ms,
 * 1500ms (the messages that quote a setting). */
char *format_duration_setting(usec_t usec);
