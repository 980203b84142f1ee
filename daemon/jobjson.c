/* SPDX-License-Identifier: ISC */
/* Job and run objects as JSON (SPEC §4).
 *
 * Written straight into a byte buffer rather than built as a jansson tree:
 * `status` of 1,000 jobs, every history record and every event go through
 * here, and a tree of ~25 small objects per job was most of their cost. */
#include "jobjson.h"
#include "parse.h"
#include "proto.h"
#include "requires.h"

/* Small formatters without printf: they run ~20 times per job. */
static void put_raw(struct buf *b, const char *s) {
	buf_append(b, s, strlen(s));
}

static void put_u64(struct buf *b, uint64_t v, int min_digits) {
	char tmp[24];
	int i = (int) sizeof(tmp);
	do {
		tmp[--i] = (char) ('0' + v % 10);
		v /= 10;
	} while (v || (int) sizeof(tmp) - i < min_digits);
	buf_append(b, tmp + i, sizeof(tmp) - (size_t) i);
}

/* Every value is written after a ',': in an object with its key, in a row
 * (key NULL) alone. */
static void put_key(struct buf *b, const char *key) {
	if (!key) {
		buf_append(b, ",", 1);
		return;
	}
	buf_append(b, ",\"", 2);
	put_raw(b, key);
	buf_append(b, "\":", 2);
}

static void put_null(struct buf *b, const char *key) {
	put_key(b, key);
	buf_append(b, "null", 4);
}

static void put_str(struct buf *b, const char *key, const char *value) {
	put_key(b, key);
	proto_append_string(b, value);
}

static void put_int(struct buf *b, const char *key, bool present, long long v) {
	if (!present)
		return put_null(b, key);
	put_key(b, key);
	if (v < 0) {
		buf_append(b, "-", 1);
		put_u64(b, (uint64_t) -(v + 1) + 1, 1);
	} else
		put_u64(b, (uint64_t) v, 1);
}

static void put_seconds(struct buf *b, const char *key, bool present, usec_t us) {
	if (!present)
		return put_null(b, key);
	put_key(b, key);
	put_u64(b, us / USEC_PER_SEC, 1);
	buf_append(b, ".", 1);
	put_u64(b, us % USEC_PER_SEC, 6);
}

static void put_time(struct buf *b, const char *key, bool present, usec_t t) {
	char s[RFC3339_MAX];
	int n;

	if (!present || t == 0 || (n = format_rfc3339_to(s, t)) < 0)
		return put_null(b, key);
	put_key(b, key);
	buf_append(b, "\"", 1);
	buf_append(b, s, (size_t) n);
	buf_append(b, "\"", 1);
}

static void put_signal(struct buf *b, const char *key, int sig) {
	const char *n = sig ? signal_name(sig) : NULL;
	if (n)
		put_str(b, key, n);
	else
		put_int(b, key, sig != 0, sig);
}

static void put_stages(struct buf *b, const char *key, const struct run *run) {
	put_key(b, key);
	buf_append(b, "[", 1);
	for (size_t i = 0; i < run->n_stages; i++) {
		const struct stage *st = &run->stages[i];
		if (i)
			buf_append(b, ",", 1);
		put_raw(b, "{\"argv0\":");
		proto_append_string(b, st->argv0);
		put_int(b, "pid", true, st->pid);
		put_int(b, "exit_code", st->done && st->signal == 0, st->exit_code);
		put_signal(b, "signal", st->signal);
		buf_append(b, "}", 1);
	}
	buf_append(b, "]", 1);
}

static const char *const field_names[_JOB_FIELD_MAX] = {
	[JOB_FIELD_NAME] = "name",
	[JOB_FIELD_STATE] = "state",
	[JOB_FIELD_WANT] = "want",
	[JOB_FIELD_SINCE] = "since",
	[JOB_FIELD_PID] = "pid",
	[JOB_FIELD_RUN] = "run",
	[JOB_FIELD_STARTED_AT] = "started_at",
	[JOB_FIELD_ENDED_AT] = "ended_at",
	[JOB_FIELD_DURATION_S] = "duration_s",
	[JOB_FIELD_EXIT_CODE] = "exit_code",
	[JOB_FIELD_SIGNAL] = "signal",
	[JOB_FIELD_TIMED_OUT] = "timed_out",
	[JOB_FIELD_EXIT_STATUS] = "exit_status",
	[JOB_FIELD_RESTARTS] = "restarts",
	[JOB_FIELD_CPU_USER_S] = "cpu_user_s",
	[JOB_FIELD_CPU_SYS_S] = "cpu_sys_s",
	[JOB_FIELD_MAX_RSS_KB] = "max_rss_kb",
	[JOB_FIELD_MEMORY_PEAK_KB] = "memory_peak_kb",
	[JOB_FIELD_OOM_KILLED] = "oom_killed",
	[JOB_FIELD_STAGES] = "stages",
	[JOB_FIELD_ERROR] = "error",
	[JOB_FIELD_CGROUP] = "cgroup",
	[JOB_FIELD_READY] = "ready",
	[JOB_FIELD_HEALTH] = "health",
	[JOB_FIELD_STATUS_TEXT] = "status_text",
	[JOB_FIELD_WAITING_FOR] = "waiting_for",
};

struct name_list {
	struct buf *b;
	bool first;
};

static void put_waiting_name(const char *name, void *userdata) {
	struct name_list *l = userdata;
	if (!l->first)
		buf_append(l->b, ",", 1);
	l->first = false;
	proto_append_string(l->b, name);
}

int job_field_from_string(const char *s) {
	for (int f = 0; f < _JOB_FIELD_MAX; f++)
		if (streq_ptr(field_names[f], s))
			return f;
	return -EINVAL;
}

/* Writes field f, with its key if with_key, else as a row's element. */
static void put_field(struct buf *b, const struct job *j, enum job_field f, bool with_key) {
	const struct run *run = &j->run;
	const char *key = with_key ? field_names[f] : NULL;
	bool has_run = run->id > 0;
	bool ended = has_run && !run->active;

	switch (f) {
	case JOB_FIELD_STATE:
		return put_str(b, key, job_state_to_string(j->state));
	case JOB_FIELD_WANT:
		return put_str(b, key, j->want == WANT_UP ? "up" : "down");
	case JOB_FIELD_SINCE:
		return put_time(b, key, true, j->state_since_wall);
	case JOB_FIELD_PID:
		return put_int(b, key, run->active, j->scope.pgid);
	case JOB_FIELD_RUN:
		return put_int(b, key, has_run, (long long) run->id);
	case JOB_FIELD_STARTED_AT:
		return put_time(b, key, has_run, run->started_wall);
	case JOB_FIELD_ENDED_AT:
		return put_time(b, key, ended, run->ended_wall);
	case JOB_FIELD_DURATION_S: {
		usec_t end = run->active ? now_usec(CLOCK_MONOTONIC) : run->ended_mono;
		return put_seconds(b, key, has_run, end - run->started_mono);
	}
	case JOB_FIELD_EXIT_CODE:
		return put_int(b, key, ended && run->exit_code >= 0 && run->signal == 0, run->exit_code);
	case JOB_FIELD_SIGNAL:
		return ended ? put_signal(b, key, run->signal) : put_null(b, key);
	case JOB_FIELD_TIMED_OUT:
		put_key(b, key);
		return put_raw(b, run->timed_out ? "true" : "false");
	case JOB_FIELD_EXIT_STATUS:
		return put_int(b, key, ended && run->exit_status >= 0, run->exit_status);
	case JOB_FIELD_RESTARTS:
		return put_int(b, key, true, j->restarts);
	case JOB_FIELD_CPU_USER_S:
		return put_seconds(b, key, ended, run->cpu_user);
	case JOB_FIELD_CPU_SYS_S:
		return put_seconds(b, key, ended, run->cpu_sys);
	case JOB_FIELD_MAX_RSS_KB:
		return put_int(b, key, ended, run->max_rss_kb);
	case JOB_FIELD_MEMORY_PEAK_KB:
		return put_int(b, key, ended && run->memory_peak_kb >= 0, run->memory_peak_kb);
	case JOB_FIELD_OOM_KILLED:
		if (!ended || run->oom_killed < 0)
			return put_null(b, key);
		put_key(b, key);
		return put_raw(b, run->oom_killed ? "true" : "false");
	case JOB_FIELD_CGROUP: {
		const char *cg = run->active ? scope_cgroup_path(&j->scope) : NULL;
		return cg ? put_str(b, key, cg) : put_null(b, key);
	}
	case JOB_FIELD_STAGES:
		return put_stages(b, key, run);
	case JOB_FIELD_ERROR:
		return run->error ? put_str(b, key, run->error) : put_null(b, key);
	case JOB_FIELD_NAME:
		return put_str(b, key, j->name);
	case JOB_FIELD_READY:
		put_key(b, key);
		return put_raw(b, j->ready && j->state == JOB_RUNNING ? "true" : "false");
	case JOB_FIELD_HEALTH: {
		/* null without a health_command; unknown until a run's first check */
		const char *h = job_health_to_string(j->health);
		if (!j->config->health_command)
			return put_null(b, key);
		return put_str(b, key, h ? h : "unknown");
	}
	case JOB_FIELD_STATUS_TEXT:
		return j->status_text ? put_str(b, key, j->status_text) : put_null(b, key);
	case JOB_FIELD_WAITING_FOR: {
		struct name_list l = { b, true };
		put_key(b, key);
		buf_append(b, "[", 1);
		requires_waiting_for(j, put_waiting_name, &l);
		return buf_append(b, "]", 1);
	}
	case _JOB_FIELD_MAX:
		break;
	}
}

static void append_fields(struct buf *b, const struct job *j, const char *event, int n_fields) {
	size_t open = b->len;

	for (int f = 0; f < n_fields; f++)
		put_field(b, j, (enum job_field) f, true);
	b->data[open] = '{';   /* was the first field's ',' */
	if (event)
		put_str(b, "event", event);
	buf_append(b, "}", 1);
}

void job_json_append(struct buf *b, const struct job *j, const char *event) {
	append_fields(b, j, event, _JOB_FIELD_MAX);
}

void job_json_append_record(struct buf *b, const struct job *j) {
	append_fields(b, j, NULL, JOB_FIELD_ERROR + 1);
}

void job_json_append_row(struct buf *b, const struct job *j, const enum job_field *columns, size_t n) {
	size_t open = b->len;

	for (size_t i = 0; i < n; i++)
		put_field(b, j, columns[i], false);
	if (b->len == open)
		buf_append(b, "[", 1);
	else
		b->data[open] = '[';   /* was the first field's ',' */
	buf_append(b, "]", 1);
}

static usec_t seconds_of(json_t *v) {
	double d = json_is_number(v) ? json_number_value(v) : 0;
	return d > 0 ? (usec_t) (d * (double) USEC_PER_SEC + 0.5) : 0;
}

static int signal_of(json_t *v) {
	int sig = 0;
	if (json_is_string(v) && parse_signal(json_string_value(v), &sig) < 0)
		sig = 0;
	return json_is_integer(v) ? (int) json_integer_value(v) : sig;
}

static int int_of(json_t *v, int none) {
	return json_is_integer(v) ? (int) json_integer_value(v) : none;
}

int job_json_restore_run(struct run *r, json_t *rec) {
	json_int_t id = json_integer_value(json_object_get(rec, "run"));
	usec_t started, ended;

	if (id <= 0 || parse_rfc3339(json_string_value(json_object_get(rec, "started_at")), &started) < 0)
		return -EINVAL;
	if (parse_rfc3339(json_string_value(json_object_get(rec, "ended_at")), &ended) < 0)
		ended = started;
	run_clear(r);
	r->id = (uint64_t) id;
	r->started_wall = started;
	r->ended_wall = ended;
	/* the monotonic clock of another supd means nothing here: keep only
	 * the duration */
	r->started_mono = 0;
	r->ended_mono = seconds_of(json_object_get(rec, "duration_s"));
	r->exit_code = int_of(json_object_get(rec, "exit_code"), -1);
	r->signal = signal_of(json_object_get(rec, "signal"));
	r->exit_status = int_of(json_object_get(rec, "exit_status"), -1);
	r->timed_out = json_is_true(json_object_get(rec, "timed_out"));
	r->cpu_user = seconds_of(json_object_get(rec, "cpu_user_s"));
	r->cpu_sys = seconds_of(json_object_get(rec, "cpu_sys_s"));
	r->max_rss_kb = int_of(json_object_get(rec, "max_rss_kb"), 0);
	r->memory_peak_kb = int_of(json_object_get(rec, "memory_peak_kb"), -1);
	json_t *oom = json_object_get(rec, "oom_killed");
	r->oom_killed = json_is_boolean(oom) ? json_is_true(oom) : -1;
	const char *err = json_string_value(json_object_get(rec, "error"));
	r->error = err ? xstrdup(err) : NULL;
	json_t *stages = json_object_get(rec, "stages");
	size_t n = json_array_size(stages);
	r->stages = n ? xcalloc(n, sizeof(struct stage)) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *st = json_array_get(stages, i);
		const char *argv0 = json_string_value(json_object_get(st, "argv0"));
		r->stages[i] = (struct stage) {
			.argv0 = xstrdup(argv0 ? argv0 : ""),
			.pid = int_of(json_object_get(st, "pid"), 0),
			.exit_code = int_of(json_object_get(st, "exit_code"), -1),
			.signal = signal_of(json_object_get(st, "signal")),
			.done = true,
		};
	}
	r->n_stages = n;
	r->success = r->exit_status == 0 && !r->error;
	return 0;
}
