/* Job and run objects as JSON (SPEC §4).
 *
 * Written straight into a byte buffer rather than built as a jansson tree:
 * `status` of 1,000 jobs, every history record and every event go through
 * here, and a tree of ~25 small objects per job was most of their cost. */
#include "jobjson.h"
#include "parse.h"
#include "proto.h"

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

static void put_key(struct buf *b, const char *key) {
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

static void put_stages(struct buf *b, const struct run *run) {
	put_key(b, "stages");
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

void job_json_append(struct buf *b, const struct job *j, const char *event) {
	const struct run *run = &j->run;
	bool has_run = run->id > 0;
	bool ended = has_run && !run->active;
	usec_t end = run->active ? now_usec(CLOCK_MONOTONIC) : run->ended_mono;

	buf_append(b, "{\"name\":", 8);
	proto_append_string(b, j->name);
	put_str(b, "state", job_state_to_string(j->state));
	put_str(b, "want", j->want == WANT_UP ? "up" : "down");
	put_time(b, "since", true, j->state_since_wall);
	put_int(b, "pid", run->active, j->pgid);
	put_int(b, "run", has_run, (long long) run->id);
	put_time(b, "started_at", has_run, run->started_wall);
	put_time(b, "ended_at", ended, run->ended_wall);
	put_seconds(b, "duration_s", has_run, end - run->started_mono);
	put_int(b, "exit_code", ended && run->exit_code >= 0 && run->signal == 0, run->exit_code);
	if (ended)
		put_signal(b, "signal", run->signal);
	else
		put_null(b, "signal");
	put_key(b, "timed_out");
	put_raw(b, run->timed_out ? "true" : "false");
	put_int(b, "exit_status", ended && run->exit_status >= 0, run->exit_status);
	put_int(b, "restarts", true, j->restarts);
	put_seconds(b, "cpu_user_s", ended, run->cpu_user);
	put_seconds(b, "cpu_sys_s", ended, run->cpu_sys);
	put_int(b, "max_rss_kb", ended, run->max_rss_kb);
	put_stages(b, run);
	if (run->error)
		put_str(b, "error", run->error);
	else
		put_null(b, "error");
	if (event)
		put_str(b, "event", event);
	buf_append(b, "}", 1);
}
