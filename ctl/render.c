/* SPDX-License-Identifier: ISC */
/* Rendering of job, run and event objects for supctl (see render.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "render.h"
#include "util.h"

#define COLUMN_GAP "  "

/* --- reading fields of a JSON object; absent and null are the same --- */

static const char *field_str(const json_t *o, const char *key) {
	return json_string_value(json_object_get(o, key));
}

static bool field_int(const json_t *o, const char *key, long long *ret) {
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*ret = json_integer_value(v);
	return true;
}

static bool field_number(const json_t *o, const char *key, double *ret) {
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return false;
	*ret = json_number_value(v);
	return true;
}

static bool field_true(const json_t *o, const char *key) {
	return json_is_true(json_object_get(o, key));
}

/* A copy of s safe to print on a terminal: control characters become '?'. */
static char *sanitize(const char *s) {
	char *r = xstrdup(s ? s : "");

	for (char *p = r; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = '?';
	return r;
}

/* Display width of a UTF-8 string, counting code points. */
static size_t text_width(const char *s) {
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xc0) != 0x80)
			n++;
	return n;
}

/* --- time --- */

static bool read_digits(const char **p, int n, int *ret) {
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool expect_char(const char **p, char c) {
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int render_parse_rfc3339(const char *s, long long *ret_usec) {
	struct tm tm = { 0 };
	int year, mon, mday, hour, min, sec, off_h = 0, off_m = 0, sign = 0;
	long long frac = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (!read_digits(&p, 4, &year) || !expect_char(&p, '-') ||
	    !read_digits(&p, 2, &mon) || !expect_char(&p, '-') ||
	    !read_digits(&p, 2, &mday) || !(expect_char(&p, 'T') || expect_char(&p, 't') || expect_char(&p, ' ')) ||
	    !read_digits(&p, 2, &hour) || !expect_char(&p, ':') ||
	    !read_digits(&p, 2, &min) || !expect_char(&p, ':') ||
	    !read_digits(&p, 2, &sec))
		return -EINVAL;
	if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60)
		return -EINVAL;
	if (*p == '.') {
		long long scale = 100000;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (!read_digits(&p, 2, &off_h) || !expect_char(&p, ':') || !read_digits(&p, 2, &off_m))
			return -EINVAL;
	} else
		return -EINVAL;
	if (*p != '\0')
		return -EINVAL;

	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t) -1)
		return -EINVAL;
	t -= (time_t) sign * (off_h * 3600 + off_m * 60);
	*ret_usec = (long long) t * 1000000LL + frac;
	return 0;
}

static long long now_realtime_usec(void) {
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (long long) ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Local time "2026-11-25 18:00:00" (with ".123" if millis); NULL if the
 * timestamp cannot be read. */
static char *format_local_time(long long usec, bool millis) {
	time_t t = (time_t) (usec / 1000000LL);
	struct tm tm;
	char s[64];

	if (usec < 0 || !localtime_r(&t, &tm))
		return NULL;
	if (strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return NULL;
	if (millis)
		return xasprintf("%s.%03lld", s, (usec % 1000000LL) / 1000);
	return xstrdup(s);
}

/* A timestamp field in local time, its raw text if unreadable, or "-". */
static char *field_local_time(const json_t *o, const char *key, bool millis) {
	const char *s = field_str(o, key);
	long long usec;
	char *r;

	if (!s)
		return xstrdup("-");
	if (render_parse_rfc3339(s, &usec) < 0 || !(r = format_local_time(usec, millis)))
		return sanitize(s);
	return r;
}

/* Seconds from the protocol as a human duration, or NULL if invalid. */
static char *seconds_text(double s) {
	if (!(s >= 0) || s > 1e12)   /* also rejects NaN */
		return NULL;
	return format_duration((usec_t) (s * 1e6 + 0.5));
}

/* The SINCE column: how long the job has run, or its last run lasted. */
static char *since_text(const json_t *duration_s) {
	char *r = json_is_number(duration_s) ? seconds_text(json_number_value(duration_s)) : NULL;

	return r ? r : xstrdup("-");
}

/* --- exit descriptions --- */

/* The EXIT column from a run's timed_out, signal, exit_code, exit_status. */
static char *exit_text(const json_t *timed_out, const json_t *sig, const json_t *code, const json_t *status) {
	if (json_is_true(timed_out))
		return xstrdup("timeout");
	if (json_is_string(sig))
		return sanitize(json_string_value(sig));
	if (json_is_integer(code))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(code));
	if (json_is_integer(status))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(status));
	return xstrdup("-");
}

char *job_exit_text(const json_t *job) {
	return exit_text(json_object_get(job, PROTO_JOB_TIMED_OUT), json_object_get(job, PROTO_JOB_SIGNAL),
			 json_object_get(job, PROTO_JOB_EXIT_CODE), json_object_get(job, PROTO_JOB_EXIT_STATUS));
}

/* "exited 3", "killed by KILL", "timed out"; NULL if the run has not ended. */
static char *exit_description(const json_t *obj) {
	const char *sig = field_str(obj, PROTO_JOB_SIGNAL);
	long long code;

	if (field_true(obj, PROTO_JOB_TIMED_OUT))
		return xstrdup("timed out");
	if (sig) {
		_cleanup_free_ char *s = sanitize(sig);
		return xasprintf("killed by %s", s);
	}
	if (field_int(obj, PROTO_JOB_EXIT_CODE, &code))
		return xasprintf("exited %lld", code);
	return NULL;
}

/* " (gzip 0 | openssl 1)" for a pipeline of more than one stage, else "". */
static char *stages_text(const json_t *job) {
	json_t *stages = json_object_get(job, PROTO_JOB_STAGES);
	struct buf b = { 0 };
	size_t i;
	json_t *st;

	if (!json_is_array(stages) || json_array_size(stages) < 2)
		return xstrdup("");
	buf_append(&b, " (", 2);
	json_array_foreach(stages, i, st) {
		_cleanup_free_ char *argv0 = sanitize(field_str(st, PROTO_STAGE_ARGV0));
		const char *sig = field_str(st, PROTO_JOB_SIGNAL);
		long long code;

		if (i > 0)
			buf_append(&b, " | ", 3);
		if (sig) {
			_cleanup_free_ char *s = sanitize(sig);
			buf_appendf(&b, "%s %s", argv0, s);
		} else if (field_int(st, PROTO_JOB_EXIT_CODE, &code))
			buf_appendf(&b, "%s %lld", argv0, code);
		else
			buf_appendf(&b, "%s -", argv0);
	}
	buf_append(&b, ")", 2);   /* with the terminating NUL */
	return b.data;
}

char *job_failure_text(const json_t *job) {
	const char *error = field_str(job, PROTO_JOB_ERROR);
	_cleanup_free_ char *how = exit_description(job);
	_cleanup_free_ char *stages = NULL;

	if (error && *error) {
		_cleanup_free_ char *e = sanitize(error);
		if (how)
			return xasprintf("%s (%s)", e, how);
		return TAKE_PTR(e);
	}
	if (!how) {
		_cleanup_free_ char *state = sanitize(field_str(job, PROTO_JOB_STATE));
		return xasprintf("state %s", *state ? state : "unknown");
	}
	stages = stages_text(job);
	return xasprintf("%s%s", how, stages);
}

/* --- tables --- */

static bool legend = true;
static size_t term_width;      /* 0: not a terminal, nothing is cut */

void render_set_legend(bool on) {
	legend = on;
}

void render_set_width(size_t columns) {
	term_width = columns;
}

struct table {
	size_t n_cols;
	const char *const *header;
	const bool *right;          /* right-align this column */
	bool cut_last;              /* the last column is cut to the terminal's width */
	char **cells;               /* n_rows * n_cols, owned */
	char **notes;               /* one per row, owned, may be NULL */
	size_t n_rows;
};

/* Adds a row, taking ownership of the n_cols strings in row and of note. */
static void table_add(struct table *t, char **row, char *note) {
	/* grown at powers of two: one realloc a row was quadratic (a status of
	 * 20,000 jobs took seconds under ASan, where realloc always copies) */
	if ((t->n_rows & (t->n_rows - 1)) == 0) {
		size_t cap = t->n_rows ? 2 * t->n_rows : 1;
		t->cells = xreallocarray(t->cells, cap * t->n_cols, sizeof(char *));
		t->notes = xreallocarray(t->notes, cap, sizeof(char *));
	}
	for (size_t i = 0; i < t->n_cols; i++) {
		t->cells[t->n_rows * t->n_cols + i] = sanitize(row[i]);
		free(row[i]);
	}
	t->notes[t->n_rows] = note ? sanitize(note) : NULL;
	free(note);
	t->n_rows++;
}

static void table_free(struct table *t) {
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	for (size_t i = 0; i < t->n_rows; i++)
		free(t->notes[i]);
	free(t->cells);
	free(t->notes);
	t->cells = t->notes = NULL;
	t->n_rows = 0;
}

/* At most max code points of s (max 0: all). */
static void print_cut(FILE *f, const char *s, size_t max) {
	size_t n = 0;
	const char *p = s;

	if (max == 0) {
		fputs(s, f);
		return;
	}
	for (; *p; p++)
		if (((unsigned char) *p & 0xc0) != 0x80 && n++ == max)
			break;
	fwrite(s, 1, (size_t) (p - s), f);
}

static void print_cell(FILE *f, const char *s, size_t width, bool right, bool last, size_t max) {
	size_t w = text_width(s);

	if (max) {
		print_cut(f, s, max);
		return;
	}
	if (right)
		for (; w < width; w++)
			fputc(' ', f);
	fputs(s, f);
	if (!right && !last)
		for (; w < width; w++)
			fputc(' ', f);
}

/* Prints the header (unless --no-legend) and rows, each column padded to
 * its widest value. */
static int table_print(const struct table *t, FILE *f) {
	_cleanup_free_ size_t *width = xcalloc(t->n_cols, sizeof(size_t));

	for (size_t c = 0; c < t->n_cols; c++) {
		width[c] = legend ? text_width(t->header[c]) : 0;
		for (size_t r = 0; r < t->n_rows; r++) {
			size_t w = text_width(t->cells[r * t->n_cols + c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	/* what is left of the terminal for the last column (at least 1) */
	size_t offset = 0, max = 0;
	for (size_t c = 0; c + 1 < t->n_cols; c++)
		offset += width[c] + strlen(COLUMN_GAP);
	if (t->cut_last && term_width)
		max = term_width > offset ? term_width - offset : 1;
	for (size_t r = legend ? 0 : 1; r <= t->n_rows; r++) {
		size_t n = t->n_cols;
		/* no trailing blanks: empty cells at the end of a row are left out */
		while (r > 0 && n > 1 && !*t->cells[(r - 1) * t->n_cols + n - 1])
			n--;
		for (size_t c = 0; c < n; c++) {
			const char *s = r == 0 ? t->header[c] : t->cells[(r - 1) * t->n_cols + c];
			if (c > 0)
				fputs(COLUMN_GAP, f);
			print_cell(f, s, width[c], t->right[c], c + 1 == n, c + 1 == t->n_cols ? max : 0);
		}
		fputc('\n', f);
		if (r > 0 && t->notes[r - 1])
			fprintf(f, "  error: %s\n", t->notes[r - 1]);
	}
	return ferror(f) ? -EIO : 0;
}

static char *int_text(const json_t *v) {
	if (!json_is_integer(v))
		return xstrdup("-");
	return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

static char *int_field_text(const json_t *o, const char *key) {
	return int_text(json_object_get(o, key));
}

/* The order of render_status_fields, for reading a row. */
enum { COL_NAME, COL_STATE, COL_PID, COL_DURATION, COL_TIMED_OUT, COL_SIGNAL,
       COL_EXIT_CODE, COL_EXIT_STATUS, COL_RESTARTS, COL_ERROR, COL_HEALTH, COL_STATUS_TEXT,
       COL_WAITING_FOR, _COL_MAX };

const char *const render_status_fields[_COL_MAX + 1] = {
	[COL_NAME] = PROTO_JOB_NAME, [COL_STATE] = PROTO_JOB_STATE, [COL_PID] = PROTO_JOB_PID,
	[COL_DURATION] = PROTO_JOB_DURATION_S, [COL_TIMED_OUT] = PROTO_JOB_TIMED_OUT,
	[COL_SIGNAL] = PROTO_JOB_SIGNAL, [COL_EXIT_CODE] = PROTO_JOB_EXIT_CODE,
	[COL_EXIT_STATUS] = PROTO_JOB_EXIT_STATUS, [COL_RESTARTS] = PROTO_JOB_RESTARTS,
	[COL_ERROR] = PROTO_JOB_ERROR, [COL_HEALTH] = PROTO_JOB_HEALTH,
	[COL_STATUS_TEXT] = PROTO_JOB_STATUS_TEXT, [COL_WAITING_FOR] = PROTO_JOB_WAITING_FOR,
	[_COL_MAX] = NULL,
};

/* STATUS: the run's STATUS= text; a waiting job, what it waits for. */
static char *status_text(const json_t *text, const json_t *waiting_for) {
	struct buf b = { 0 };
	json_t *name;
	size_t i;

	if (json_is_string(text))
		return xstrdup(json_string_value(text));
	if (json_array_size(waiting_for) == 0)
		return xstrdup("");
	buf_appendf(&b, "waiting for");
	json_array_foreach(waiting_for, i, name)
		buf_appendf(&b, "%s %s", i ? "," : "", json_string_value(name) ?: "?");
	return b.data;
}

int render_status_table(const json_t *rows, FILE *f) {
	static const char *const header[] = { "NAME", "STATE", "PID", "SINCE", "EXIT", "RESTARTS", "HEALTH",
					      "STATUS" };
	static const bool right[] = { false, false, true, false, false, true, false, false };
	struct table t = { .n_cols = ELEMENTSOF(header), .header = header, .right = right, .cut_last = true };
	size_t i;
	json_t *row;
	int r;

	json_array_foreach(rows, i, row) {
		json_t *v[_COL_MAX];
		for (size_t c = 0; c < _COL_MAX; c++)
			v[c] = json_array_get(row, c);   /* NULL if short or not an array */
		const char *error = json_string_value(v[COL_ERROR]);
		char *cells[] = {
			xstrdup(json_string_value(v[COL_NAME]) ?: "?"),
			xstrdup(json_string_value(v[COL_STATE]) ?: "?"),
			int_text(v[COL_PID]),
			since_text(v[COL_DURATION]),
			exit_text(v[COL_TIMED_OUT], v[COL_SIGNAL], v[COL_EXIT_CODE], v[COL_EXIT_STATUS]),
			int_text(v[COL_RESTARTS]),
			xstrdup(json_string_value(v[COL_HEALTH]) ?: "-"),
			status_text(v[COL_STATUS_TEXT], v[COL_WAITING_FOR]),
		};
		table_add(&t, cells, error && *error ? xstrdup(error) : NULL);
	}
	r = table_print(&t, f);
	table_free(&t);
	return r;
}

/* One node and, indented under it, what it requires; prefix is the
 * drawing of the levels above. */
static void deps_node(const json_t *n, FILE *f, struct buf *prefix, bool top, bool last) {
	const char *cond = field_str(n, PROTO_DEP_COND);
	const char *state = field_str(n, PROTO_DEP_STATE);
	_cleanup_free_ char *name = sanitize(field_str(n, PROTO_DEP_NAME) ?: "?");
	json_t *kids = json_object_get(n, PROTO_DEP_REQUIRES), *k;
	size_t len = prefix->len, i;

	fprintf(f, "%s%s%s%s%s (%s)\n", prefix->data ? prefix->data : "", top ? "" : last ? "└─" : "├─", name,
		cond ? ":" : "", cond ? cond : "", state ? state : "no such job");
	if (!top)
		buf_appendf(prefix, "%s", last ? "  " : "│ ");
	json_array_foreach(kids, i, k)
		deps_node(k, f, prefix, false, i + 1 == json_array_size(kids));
	prefix->len = len;
	if (prefix->data)
		prefix->data[len] = '\0';
}

int render_deps(const json_t *tops, FILE *f) {
	struct buf prefix = { 0 };
	json_t *n;
	size_t i;

	buf_append(&prefix, "", 0);
	json_array_foreach(tops, i, n)
		deps_node(n, f, &prefix, true, true);
	buf_free(&prefix);
	return ferror(f) ? -EIO : 0;
}

int render_history(const json_t *runs, FILE *f) {
	static const char *const header[] = { "RUN", "NAME", "STARTED", "DURATION", "EXIT" };
	static const bool right[] = { true, false, false, false, false };
	struct table t = { .n_cols = ELEMENTSOF(header), .header = header, .right = right };
	size_t i;
	json_t *run;
	int r;

	json_array_foreach(runs, i, run) {
		double d;
		char *dur = field_number(run, PROTO_JOB_DURATION_S, &d) ? seconds_text(d) : NULL;
		char *row[] = {
			int_field_text(run, PROTO_JOB_RUN),
			xstrdup(field_str(run, PROTO_JOB_NAME) ?: "?"),
			field_local_time(run, PROTO_JOB_STARTED_AT, false),
			dur ? dur : xstrdup("-"),
			job_exit_text(run),
		};
		table_add(&t, row, NULL);
	}
	r = table_print(&t, f);
	table_free(&t);
	return r;
}

/* What an event adds after its state: the pid of a start, how a run ended,
 * or the error that made the job fatal. NULL if nothing. */
static char *event_detail(const json_t *ev) {
	const char *event = field_str(ev, PROTO_JOB_EVENT);
	const char *error = field_str(ev, PROTO_JOB_ERROR);
	long long pid;

	if (event && streq_ptr(event, PROTO_EVENT_STARTED)) {
		if (field_int(ev, PROTO_JOB_PID, &pid))
			return xasprintf("pid %lld", pid);
		return NULL;
	}
	if (event && streq_ptr(event, PROTO_EVENT_EXITED)) {
		_cleanup_free_ char *how = exit_description(ev);
		_cleanup_free_ char *stages = stages_text(ev);
		_cleanup_free_ char *dur = NULL;
		double d;

		if (!how)
			return error && *error ? xstrdup(error) : NULL;
		if (field_number(ev, PROTO_JOB_DURATION_S, &d))
			dur = seconds_text(d);
		return xasprintf("%s%s%s%s%s%s", how, stages, dur ? " after " : "", dur ?: "",
				 error && *error ? ": " : "", error && *error ? error : "");
	}
	return error && *error ? xstrdup(error) : NULL;
}

int render_event(const json_t *ev, FILE *f) {
	long long usec;
	_cleanup_free_ char *when = NULL;
	_cleanup_free_ char *name = sanitize(field_str(ev, PROTO_JOB_NAME) ?: "?");
	_cleanup_free_ char *event = sanitize(field_str(ev, PROTO_JOB_EVENT) ?: "?");
	_cleanup_free_ char *state = sanitize(field_str(ev, PROTO_JOB_STATE) ?: "?");
	_cleanup_free_ char *detail = event_detail(ev);
	_cleanup_free_ char *safe_detail = detail ? sanitize(detail) : NULL;

	if (render_parse_rfc3339(field_str(ev, PROTO_JOB_SINCE), &usec) < 0)
		usec = now_realtime_usec();
	when = format_local_time(usec, true);
	fprintf(f, "%s %s %s %s%s%s\n", when ?: "-", name, event, state,
		safe_detail ? " " : "", safe_detail ?: "");
	return ferror(f) ? -EIO : 0;
}
