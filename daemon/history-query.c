/* SPDX-License-Identifier: ISC */
/* Queries of the run log in bounded steps (see history.h).
 *
 * Re-parsing a 32 MB log at once held the event loop for half a second per
 * request (eight requests delayed every other client by 3.7 s), and the
 * whole reply sat in memory for a client that did not read. A query keeps
 * only where it is in which file; each step reads one piece at that offset
 * into the history's scratch buffer (steps run one at a time, so one buffer
 * serves them all), and the matching records go out as the raw text of
 * their lines, each checked to parse first: a torn line is counted as
 * skipped, never sent.
 *
 * With a limit, the last N matches are only known at the end: a ring keeps
 * them while they are small (the usual -n 20); past RING_MAX for this query
 * or RING_TOTAL for all of them, the ring is dropped, the first pass only
 * counts, and a second pass sends the matches after the first count - N. */
#include <fcntl.h>
#include <sys/stat.h>
#include "history.h"
#include "log.h"
#include "names.h"

#define RING_MAX (256u << 10)      /* bytes of -n lines one query keeps */
#define RING_TOTAL (8u << 20)      /* ... all queries together */
#define MAX_RECORD (4u << 20)      /* a longer line is no record: skipped */

enum { ROTATED, CURRENT, N_FILES };

struct ring_line {
	char *text;
	size_t len;
};

struct history_query {
	struct history *h;
	char **patterns;               /* NULL: every name */
	size_t limit;                  /* 0 = all */
	int fd[N_FILES];               /* -1: no such file */
	off_t size[N_FILES];           /* read up to here only */
	int file;                      /* being read; N_FILES: done */
	off_t pos;                     /* the next line starts here */
	size_t want;                   /* bytes the next step reads (more for a long line) */
	bool in_long_line;             /* skipping to the end of a line over MAX_RECORD */
	bool second_pass;
	size_t matches;                /* first pass, with a limit */
	size_t to_skip;                /* second pass: matches still before the last `limit` */
	size_t skipped;
	bool opened, any;              /* "[" written; a record written (the next needs a comma) */
	struct ring_line *ring;        /* the last matches: ring_n from ring_head, circular */
	size_t ring_cap, ring_n, ring_head, ring_bytes;
	bool ring_off;                 /* over its budget: the second pass sends them */
};

static size_t line_cost(size_t len) {
	return len + sizeof(struct ring_line);
}

static void ring_clear(struct history_query *q) {
	for (size_t i = 0; i < q->ring_n; i++)
		free(q->ring[(q->ring_head + i) % q->ring_cap].text);
	free(q->ring);
	q->ring = NULL;
	q->ring_cap = q->ring_n = q->ring_head = 0;
	q->h->ring_bytes -= q->ring_bytes;
	q->ring_bytes = 0;
}

/* Keep a copy of a match as one of the last `limit`. */
static void ring_push(struct history_query *q, const char *text, size_t len) {
	if (q->ring_off)
		return;
	if (q->ring_n == q->limit) {          /* full: the oldest goes */
		struct ring_line *old = &q->ring[q->ring_head];
		q->ring_bytes -= line_cost(old->len);
		q->h->ring_bytes -= line_cost(old->len);
		free(old->text);
		q->ring_head = (q->ring_head + 1) % q->ring_cap;
		q->ring_n--;
	}
	if (q->ring_bytes + line_cost(len) > RING_MAX || q->h->ring_bytes + line_cost(len) > RING_TOTAL) {
		ring_clear(q);
		q->ring_off = true;
		return;
	}
	if (q->ring_n == q->ring_cap) {
		/* not full yet, so nothing was dropped: the lines are 0..n-1 */
		size_t cap = q->ring_cap ? 2 * q->ring_cap : 16;
		if (cap > q->limit)
			cap = q->limit;
		q->ring = xreallocarray(q->ring, cap, sizeof(*q->ring));
		q->ring_cap = cap;
	}
	q->ring[(q->ring_head + q->ring_n) % q->ring_cap] = (struct ring_line) { xstrndup(text, len), len };
	q->ring_n++;
	q->ring_bytes += line_cost(len);
	q->h->ring_bytes += line_cost(len);
}

static void emit(struct history_query *q, struct buf *out, const char *text, size_t len) {
	if (q->any)
		buf_append(out, ",", 1);
	buf_append(out, text, len);
	q->any = true;
}

/* Counted once, in the first pass. */
static void note_skipped(struct history_query *q) {
	if (!q->second_pass)
		q->skipped++;
}

static bool name_selected(const struct history_query *q, const char *name) {
	if (!q->patterns)
		return true;
	for (char **p = q->patterns; *p; p++)
		if (job_name_matches(name, *p))
			return true;
	return false;
}

/* One line of a file, without its newline. */
static void query_line(struct history_query *q, struct buf *out, const char *text, size_t len) {
	json_error_t err;

	if (len == 0)
		return;
	json_t *rec = json_loadb(text, len, 0, &err);
	if (!json_is_object(rec)) {
		json_decref(rec);
		note_skipped(q);
		return;
	}
	const char *name = json_string_value(json_object_get(rec, "name"));
	/* a "started" record (with "event") does not end a run */
	bool match = name && !json_object_get(rec, "event") && name_selected(q, name);
	json_decref(rec);
	if (!match)
		return;
	if (q->limit == 0)
		emit(q, out, text, len);
	else if (!q->second_pass) {
		q->matches++;
		ring_push(q, text, len);
	} else if (q->to_skip > 0)
		q->to_skip--;
	else
		emit(q, out, text, len);
}

/* Read n bytes at pos (fewer at the end of the file); -errno on an error. */
static ssize_t read_at(int fd, char *p, size_t n, off_t pos) {
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, pos + (off_t) got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t) r;
	}
	return (ssize_t) got;
}

static void next_file(struct history_query *q) {
	/* a file read for the last time is closed: a paused query holds few fds */
	if (q->file >= 0 && (q->limit == 0 || q->second_pass) && q->fd[q->file] >= 0) {
		close(q->fd[q->file]);
		q->fd[q->file] = -1;
	}
	q->file++;
	q->pos = 0;
	q->want = HISTORY_STEP_BYTES;
	q->in_long_line = false;
}

/* Read one piece of the current file and handle its complete lines, until
 * the piece or the time is used up. */
static void query_piece(struct history_query *q, struct buf *out, usec_t deadline) {
	struct history *h = q->h;
	int fd = q->fd[q->file];
	off_t left = fd < 0 ? 0 : q->size[q->file] - q->pos;

	if (left <= 0) {
		next_file(q);
		return;
	}
	size_t want = (off_t) q->want < left ? q->want : (size_t) left;
	if (h->scratch_cap < want) {
		free(h->scratch);           /* its old content is not needed */
		h->scratch = xmalloc(want);
		h->scratch_cap = want;
	}
	ssize_t got = read_at(fd, h->scratch, want, q->pos);
	if (got < 0)
		log_warnx("cannot read the run history: %s", strerror((int) -got));
	if (got <= 0) {                /* an error, or the file was cut short: the rest is lost */
		note_skipped(q);
		next_file(q);
		return;
	}
	const char *start = h->scratch, *p = start, *end = start + got;
	bool at_end = q->pos + got >= q->size[q->file];

	if (q->in_long_line) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		q->pos += nl ? nl + 1 - start : got;
		q->in_long_line = !nl;
		if (at_end && !nl)
			next_file(q);
		return;      /* the lines after it: in the next step */
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		if (!nl)
			break;
		query_line(q, out, p, (size_t) (nl - p));
		p = nl + 1;
		if (now_usec(CLOCK_MONOTONIC) >= deadline)
			break;
	}
	q->pos += p - start;
	if (p > start) {
		q->want = HISTORY_STEP_BYTES;   /* lines ended: back to normal pieces */
		if (p == end && at_end)
			next_file(q);
		return;
	}
	/* no newline in the whole piece */
	if (at_end) {                     /* a torn last line (a crash while writing) */
		note_skipped(q);
		next_file(q);
	} else if (q->want < MAX_RECORD)  /* a long line: read a bigger piece next */
		q->want = 2 * q->want < MAX_RECORD ? 2 * q->want : MAX_RECORD;
	else {                            /* no record is that long */
		note_skipped(q);
		q->pos += got;
		q->in_long_line = true;
		q->want = HISTORY_STEP_BYTES;
	}
}

int history_query_step(struct history_query *q, struct buf *out) {
	usec_t deadline = now_usec(CLOCK_MONOTONIC) + HISTORY_STEP_USEC;

	if (!q->opened) {
		buf_append(out, "[", 1);
		q->opened = true;
	}
	if (q->file < N_FILES) {
		query_piece(q, out, deadline);
		/* a big scratch buffer, grown for a long line, is not kept */
		if (q->h->scratch_cap > HISTORY_STEP_BYTES) {
			free(q->h->scratch);
			q->h->scratch = NULL;
			q->h->scratch_cap = 0;
		}
		return 1;
	}
	if (q->limit > 0 && !q->second_pass) {
		if (q->ring_off) {        /* the matches after the first matches - limit */
			q->second_pass = true;
			q->to_skip = q->matches > q->limit ? q->matches - q->limit : 0;
			q->file = -1;
			next_file(q);
			return 1;
		}
		for (size_t i = 0; i < q->ring_n; i++) {
			const struct ring_line *l = &q->ring[(q->ring_head + i) % q->ring_cap];
			emit(q, out, l->text, l->len);
		}
		ring_clear(q);
	}
	buf_append(out, "]", 1);
	return 0;
}

size_t history_query_skipped(const struct history_query *q) {
	return q->skipped;
}

int history_query_new(struct history *h, const char *const *patterns, size_t n_patterns, size_t limit,
		      struct history_query **ret) {
	struct history_query *q = xcalloc(1, sizeof(*q));

	q->h = h;
	q->limit = limit;
	q->want = HISTORY_STEP_BYTES;
	q->fd[ROTATED] = q->fd[CURRENT] = -1;
	for (size_t i = 0; i < n_patterns; i++)
		q->patterns = strv_push(q->patterns, patterns[i]);
	/* both now: no rotation can come between the two opens (it happens in
	 * this loop), so no record is missed or read twice */
	for (int i = 0; i < N_FILES; i++) {
		const char *path = i == ROTATED ? h->rotated_path : h->path;
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0) {
			int r = -errno;
			if (fd >= 0)
				close(fd);
			history_query_free(q);
			return r;
		}
		q->fd[i] = fd;
		q->size[i] = S_ISREG(st.st_mode) ? st.st_size : 0;
	}
	*ret = q;
	return 0;
}

void history_query_free(struct history_query *q) {
	if (!q)
		return;
	ring_clear(q);
	for (int i = 0; i < N_FILES; i++)
		if (q->fd[i] >= 0)
			close(q->fd[i]);
	strv_free(q->patterns);
	free(q);
}
