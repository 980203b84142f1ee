/* SPDX-License-Identifier: ISC */
/* Newline-delimited JSON framing (see proto.h). */
#include <stdarg.h>
#include <stdio.h>
#include "proto.h"
#include "util.h"

void line_reader_init(struct line_reader *r, size_t max) {
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void line_reader_free(struct line_reader *r) {
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Forget the line handed out by the last line_reader_next(). */
static void drop_returned_line(struct line_reader *r) {
	if (r->pending_drop == 0)
		return;
	memmove(r->buf, r->buf + r->pending_drop, r->len - r->pending_drop);
	r->len -= r->pending_drop;
	r->pending_drop = 0;
	r->scanned = 0;
}

/* Removes the first n bytes (a line being skipped or refused). */
static void drop_front(struct line_reader *r, size_t n) {
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
	r->scanned = 0;
}

ssize_t line_reader_fill(struct line_reader *r, int fd) {
	const size_t min_read = 64 * 1024;

	drop_returned_line(r);
	/* grow geometrically: a reply of megabytes is read in few large reads */
	if (r->cap - r->len < min_read + 1) {
		r->cap = MAX(r->len + min_read + 1, 2 * r->cap);
		r->buf = xrealloc(r->buf, r->cap);
	}
	for (;;) {
		ssize_t n = read(fd, r->buf + r->len, r->cap - r->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		r->len += (size_t) n;
		return n;
	}
}

int line_reader_next(struct line_reader *r, char **line) {
	drop_returned_line(r);
	for (;;) {
		/* bytes before r->scanned hold no newline: do not search them again */
		char *nl = r->len > r->scanned ? memchr(r->buf + r->scanned, '\n', r->len - r->scanned) : NULL;
		if (r->skipping) {
			/* drop the rest of an oversized line */
			if (!nl) {
				r->len = 0;
				r->scanned = 0;
				return 0;
			}
			drop_front(r, (size_t) (nl - r->buf) + 1);
			r->skipping = false;
			continue;
		}
		if (!nl) {
			if (r->len >= r->max) {   /* no room left for the newline */
				r->skipping = true;
				r->len = 0;
				r->scanned = 0;
				return -EMSGSIZE;
			}
			r->scanned = r->len;
			return 0;
		}
		size_t n = (size_t) (nl - r->buf);
		if (n + 1 > r->max) {
			drop_front(r, n + 1);
			return -EMSGSIZE;
		}
		/* hand out a copy-free line: keep it at the front until next call */
		if (r->cap < r->len + 1) {
			r->cap = r->len + 1;
			r->buf = xrealloc(r->buf, r->cap);
		}
		*nl = '\0';
		*line = r->buf;
		r->pending_drop = n + 1;
		return 1;
	}
}

char *proto_default_socket_path(void) {
	const char *e;

	if ((e = getenv("RUNTIME_DIRECTORY")) && *e) {
		_cleanup_free_ char *first = xstrndup(e, strcspn(e, ":"));
		return xasprintf("%s/supd.sock", first);
	}
	if (geteuid() == 0)
		return xstrdup(SYSTEM_SOCKET);
	if ((e = getenv("XDG_RUNTIME_DIR")) && *e)
		return xasprintf("%s/supd/supd.sock", e);
	return xasprintf("/tmp/supd-%u/supd.sock", (unsigned) geteuid());
}

static int append_chunk(const char *p, size_t n, void *data) {
	buf_append(data, p, n);
	return 0;
}

void proto_dump_append(const json_t *msg, struct buf *b) {
	size_t before = b->len;
	if (json_dump_callback(msg, append_chunk, b, JSON_COMPACT | JSON_ENSURE_ASCII) < 0) {
		b->len = before;
		buf_appendf(b, "{\"ok\":false,\"error\":\"internal error: cannot encode reply\"}");
	}
	buf_append(b, "\n", 1);
}

char *proto_dump_line(const json_t *msg, size_t *len) {
	struct buf b = { 0 };

	proto_dump_append(msg, &b);
	*len = b.len;
	return b.data;
}

json_t *proto_verror(const char *fmt, va_list ap) {
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	return json_pack("{s:b, s:o}", "ok", false, "error", proto_string(msg));
}

json_t *proto_error(const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	json_t *o = proto_verror(fmt, ap);
	va_end(ap);
	return o;
}

json_t *proto_ok(void) {
	return json_pack("{s:b}", "ok", true);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p) {
	if (p[0] < 0x80)
		return 1;
	size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || (n == 2 && p[0] < 0xc2) || (n == 4 && p[0] > 0xf4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
	    (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
		return 0;   /* overlong, surrogate or past U+10FFFF */
	return n;
}

json_t *proto_string(const char *s) {
	json_t *j = json_string(s);
	if (j)
		return j;
	struct buf b = { 0 };
	for (const unsigned char *p = (const unsigned char *) s; *p;) {
		size_t n = utf8_seq_len(p);
		if (n == 0) {
			buf_append(&b, "\xef\xbf\xbd", 3);
			p++;
		} else {
			buf_append(&b, p, n);
			p += n;
		}
	}
	j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j ? j : json_string("");
}

void proto_append_string(struct buf *b, const char *s) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *) s;

	buf_append(b, "\"", 1);
	while (*p) {
		const unsigned char *run = p;
		/* copy plain bytes in one go */
		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			buf_append(b, run, (size_t) (p - run));
		if (!*p)
			break;
		if (*p == '"' || *p == '\\') {
			char esc[2] = { '\\', (char) *p };
			buf_append(b, esc, 2);
			p++;
		} else if (*p < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
			buf_append(b, esc, 6);
			p++;
		} else {
			size_t n = utf8_seq_len(p);
			if (n == 0) {
				buf_append(b, "\\ufffd", 6);
				p++;
			} else {
				buf_append(b, p, n);
				p += n;
			}
		}
	}
	buf_append(b, "\"", 1);
}
