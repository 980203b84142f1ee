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
}

ssize_t line_reader_fill(struct line_reader *r, int fd) {
	size_t want = 64 * 1024;

	drop_returned_line(r);
	if (r->cap - r->len < want + 1) {
		r->cap = r->len + want + 1;
		r->buf = xrealloc(r->buf, r->cap);
	}
	for (;;) {
		ssize_t n = read(fd, r->buf + r->len, want);
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
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (r->skipping) {
			/* drop the rest of an oversized line */
			if (!nl) {
				r->len = 0;
				return 0;
			}
			size_t drop = (size_t) (nl - r->buf) + 1;
			memmove(r->buf, r->buf + drop, r->len - drop);
			r->len -= drop;
			r->skipping = false;
			continue;
		}
		if (!nl) {
			if (r->len > r->max) {
				r->skipping = true;
				r->len = 0;
				return -EMSGSIZE;
			}
			return 0;
		}
		size_t n = (size_t) (nl - r->buf);
		if (n + 1 > r->max) {
			size_t drop = n + 1;
			memmove(r->buf, r->buf + drop, r->len - drop);
			r->len -= drop;
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

char *proto_dump_line(const json_t *msg, size_t *len) {
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!s)
		s = xstrdup("{\"ok\":false,\"error\":\"internal error: cannot encode reply\"}");
	size_t n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	*len = n + 1;
	return s;
}

json_t *proto_error(const char *fmt, ...) {
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	json_t *o = json_pack("{s:b, s:s?}", "ok", false, "error", msg);
	if (!o)  /* not UTF-8 */
		o = json_pack("{s:b, s:s}", "ok", false, "error", "invalid error message");
	free(msg);
	return o;
}

json_t *proto_ok(void) {
	return json_pack("{s:b}", "ok", true);
}
