/* SPDX-License-Identifier: ISC */
/* Crash recovery (see recovery.h). */
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include "cgroup.h"
#include "hashmap.h"
#include "jobjson.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "recovery.h"

/* Only what recovery needs is held: the started records still open and
 * each name's last end record (a full run log is ~100,000 records). The
 * maps hold 1 + an index into started[] and last_rec[]. */
struct scan {
	struct hashmap open;         /* run id -> its started record, until it ends */
	json_t **started;            /* started records in order; NULL once ended */
	size_t n_started;
	struct hashmap last;         /* job name -> its last end record */
	json_t **last_rec;
	size_t n_last;
};

static void *index_value(size_t i) {
	return (void *) (uintptr_t) (i + 1);
}

static json_t *last_of(const struct scan *sc, const char *name) {
	uintptr_t v = (uintptr_t) hashmap_get_str(&sc->last, name);
	return v ? sc->last_rec[v - 1] : NULL;
}

static void remember_last(struct scan *sc, json_t *rec) {
	const char *name = json_string_value(json_object_get(rec, "name"));
	size_t i;

	if (!name)
		return;
	uintptr_t v = (uintptr_t) hashmap_remove_str(&sc->last, name);
	if (v) {
		i = v - 1;
		json_decref(sc->last_rec[i]);   /* after the removal: its key lived in it */
	} else {
		sc->last_rec = xreallocarray(sc->last_rec, sc->n_last + 1, sizeof(*sc->last_rec));
		i = sc->n_last++;
	}
	sc->last_rec[i] = json_incref(rec);
	hashmap_put_str(&sc->last, name, index_value(i));   /* the key lives in rec, held */
}

static void on_record(json_t *rec, void *ud) {
	struct scan *sc = ud;
	json_int_t run = json_integer_value(json_object_get(rec, "run"));

	if (run <= 0)
		return;
	const char *event = json_string_value(json_object_get(rec, "event"));
	if (event) {
		if (strcmp(event, "started") != 0)
			return;
		sc->started = xreallocarray(sc->started, sc->n_started + 1, sizeof(*sc->started));
		sc->started[sc->n_started] = json_incref(rec);
		hashmap_put_int(&sc->open, (uint64_t) run, index_value(sc->n_started++));
		return;
	}
	uintptr_t v = (uintptr_t) hashmap_remove_int(&sc->open, (uint64_t) run);
	if (v) {
		json_decref(sc->started[v - 1]);
		sc->started[v - 1] = NULL;
	}
	remember_last(sc, rec);
}

/* Kill what is left of a lost run of this boot: only processes that are
 * still the ones recorded (pid and start time), and the process group such
 * a process leads. Never supd itself, its parent or its own process group:
 * a job of the supd that died may have started (or exec'd) this one. */
static void kill_leftovers(const char *name, json_t *pids) {
	for (size_t i = 0; i < json_array_size(pids); i++) {
		json_t *p = json_array_get(pids, i);
		json_int_t v = json_integer_value(json_array_get(p, 0));
		unsigned long long recorded = (unsigned long long) json_integer_value(json_array_get(p, 1));
		unsigned long long now;
		if (v <= 1 || v > INT_MAX)
			continue;
		pid_t pid = (pid_t) v;
		if (pid == getpid() || pid == getppid() || proc_start_time(pid, &now) < 0 || now != recorded)
			continue;
		if (getpgid(pid) == pid && pid != getpgid(0))
			(void) kill(-pid, SIGKILL);
		if (kill(pid, SIGKILL) == 0)
			log_warnx("%s: killed process %d left by a supd that died", name, (int) pid);
	}
}

/* The end record of a lost run: a job object of SPEC §4 with what is known. */
static json_t *lost_record(json_t *started, usec_t now) {
	char ended[RFC3339_MAX] = "";
	usec_t t0 = 0;
	const char *started_at = json_string_value(json_object_get(started, "started_at"));

	(void) format_rfc3339_to(ended, now);
	(void) parse_rfc3339(started_at, &t0);
	json_t *stages = json_array();
	json_t *pids = json_object_get(started, "pids");
	for (size_t i = 0; i < json_array_size(pids); i++)
		json_array_append_new(stages, json_pack("{s:s, s:O, s:n, s:n}", "argv0", "",
							"pid", json_array_get(json_array_get(pids, i), 0),
							"exit_code", "signal"));
	return json_pack("{s:O, s:s, s:s, s:s, s:n, s:O, s:s?, s:s, s:f, s:n, s:n, s:b, s:n, s:i,"
			 " s:n, s:n, s:n, s:n, s:n, s:o, s:s, s:n}",
			 "name", json_object_get(started, "name"), "state", "failed", "want", "down",
			 "since", ended, "pid", "run", json_object_get(started, "run"), "started_at", started_at,
			 "ended_at", ended, "duration_s", t0 && now > t0 ? (double) (now - t0) / USEC_PER_SEC : 0.0,
			 "exit_code", "signal", "timed_out", false, "exit_status", "restarts", 0,
			 "cpu_user_s", "cpu_sys_s", "max_rss_kb", "memory_peak_kb", "oom_killed", "stages", stages,
			 "error", RECOVERY_LOST_ERROR, "cgroup");
}

static void end_lost_run(struct history *h, const char *state_dir, struct scan *sc, json_t *started) {
	const char *name = json_string_value(json_object_get(started, "name"));
	const char *boot = json_string_value(json_object_get(started, "boot_id"));
	const char *cgroup = json_string_value(json_object_get(started, "cgroup"));
	uint64_t run = (uint64_t) json_integer_value(json_object_get(started, "run"));

	if (!name)
		return;
	if (streq_ptr(boot, proc_boot_id())) {
		/* its cgroup holds every process of it; one under today's
		 * CGROUP/jobs was swept already (cgroups_setup) */
		if (cgroup && state_dir)
			(void) cgroups_reap_recorded(cgroup, run, state_dir);
		kill_leftovers(name, json_object_get(started, "pids"));
	}
	json_t *rec = lost_record(started, now_usec(CLOCK_REALTIME));
	if (!rec)
		return;
	char *text = json_dumps(rec, JSON_COMPACT);
	if (text) {
		struct buf line = { 0 };
		buf_appendf(&line, "%s\n", text);
		(void) history_append(h, line.data, line.len, run);
		buf_free(&line);
		free(text);
	}
	log_warnx("%s: run %llu was %s", name, (unsigned long long) run, RECOVERY_LOST_ERROR);
	remember_last(sc, rec);
	json_decref(rec);
}

/* The job's last run as recorded, and the final state it left the job in. */
static void restore_job(struct job *j, json_t *rec) {
	const char *state = json_string_value(json_object_get(rec, "state"));
	enum job_state st;

	if (job_json_restore_run(&j->run, rec) < 0)
		return;
	if (streq_ptr(state, "stopped"))
		st = JOB_STOPPED;
	else if (streq_ptr(state, "fatal"))
		st = JOB_FATAL;
	else
		st = j->run.success ? JOB_EXITED : JOB_FAILED;
	job_restore_state(j, st);
}

size_t recovery_run(struct history *h, const char *state_dir, struct supervisor *s) {
	struct scan sc = { 0 };
	size_t lost = 0;

	hashmap_init(&sc.open, false);
	hashmap_init(&sc.last, true);
	history_for_each(h, on_record, &sc);
	for (size_t i = 0; i < sc.n_started; i++) {
		json_t *rec = sc.started[i];
		if (!rec)
			continue;
		uint64_t run = (uint64_t) json_integer_value(json_object_get(rec, "run"));
		if (hashmap_get_int(&sc.open, run) == index_value(i)) {
			end_lost_run(h, state_dir, &sc, rec);
			lost++;
		}
	}
	for (size_t i = 0; i < s->n_jobs; i++) {
		json_t *rec = last_of(&sc, s->jobs[i]->name);
		if (rec)
			restore_job(s->jobs[i], rec);
	}
	for (size_t i = 0; i < sc.n_last; i++)
		json_decref(sc.last_rec[i]);
	free(sc.last_rec);
	for (size_t i = 0; i < sc.n_started; i++)
		json_decref(sc.started[i]);
	free(sc.started);
	hashmap_clear(&sc.open);
	hashmap_clear(&sc.last);
	/* reading a full run log leaves a high-water mark of freed memory */
	(void) malloc_trim(0);
	return lost;
}
