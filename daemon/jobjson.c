/* Job and run objects as JSON (SPEC §4). */
#include "jobjson.h"
#include "parse.h"
#include "proto.h"

static json_t *time_or_null(usec_t t) {
	if (t == 0)
		return json_null();
	_cleanup_free_ char *s = format_rfc3339(t);
	return json_string(s);
}

static json_t *signal_or_null(int sig) {
	if (sig == 0)
		return json_null();
	const char *n = signal_name(sig);
	if (n)
		return json_string(n);
	return json_integer(sig);
}

static json_t *int_or_null(bool present, json_int_t v) {
	return present ? json_integer(v) : json_null();
}

static json_t *stages_to_json(const struct run *run) {
	json_t *a = json_array();
	for (size_t i = 0; i < run->n_stages; i++) {
		const struct stage *st = &run->stages[i];
		json_array_append_new(a, json_pack("{s:o, s:I, s:o, s:o}",
			"argv0", proto_string(st->argv0),
			"pid", (json_int_t) st->pid,
			"exit_code", int_or_null(st->done && st->signal == 0, st->exit_code),
			"signal", signal_or_null(st->signal)));
	}
	return a;
}

json_t *job_to_json(const struct job *j) {
	const struct run *run = &j->run;
	bool has_run = run->id > 0;
	bool ended = has_run && !run->active;
	usec_t end = run->active ? now_usec(CLOCK_MONOTONIC) : run->ended_mono;
	double duration = has_run ? (double) (end - run->started_mono) / 1e6 : 0.0;
	_cleanup_free_ char *since = format_rfc3339(j->state_since_wall);

	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:I,"
			 " s:o, s:o, s:o, s:o, s:o}",
		"name", j->name,
		"state", job_state_to_string(j->state),
		"want", j->want == WANT_UP ? "up" : "down",
		"since", since,
		"pid", int_or_null(run->active, j->pgid),
		"run", int_or_null(has_run, (json_int_t) run->id),
		"started_at", has_run ? time_or_null(run->started_wall) : json_null(),
		"ended_at", ended ? time_or_null(run->ended_wall) : json_null(),
		"duration_s", has_run ? json_real(duration) : json_null(),
		"exit_code", int_or_null(ended && run->exit_code >= 0 && run->signal == 0, run->exit_code),
		"signal", ended ? signal_or_null(run->signal) : json_null(),
		"timed_out", run->timed_out,
		"exit_status", int_or_null(ended && run->exit_status >= 0, run->exit_status),
		"restarts", (json_int_t) j->restarts,
		"cpu_user_s", ended ? json_real((double) run->cpu_user / 1e6) : json_null(),
		"cpu_sys_s", ended ? json_real((double) run->cpu_sys / 1e6) : json_null(),
		"max_rss_kb", ended ? json_integer(run->max_rss_kb) : json_null(),
		"stages", stages_to_json(run),
		"error", run->error ? proto_string(run->error) : json_null());
}

json_t *job_event_to_json(const struct job *j, const char *event) {
	json_t *o = job_to_json(j);
	json_object_set_new(o, "event", json_string(event));
	return o;
}
