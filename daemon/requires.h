/* SPDX-License-Identifier: ISC */
/* Requirements between running jobs (SPEC §7, requires =): each job's
 * resolved edges to the jobs it requires and back, the conditions, pulling
 * requirements in on start, and stopping dependents first (stop, restart,
 * a reload that restarts, shutdown in reverse dependency order).
 *
 * The state machine (job.c) only asks requires_check() before a run and
 * takes REQUIREMENT inputs; requires_changed() is called by the owner after
 * every state or health change of a job, so nothing polls. Names are
 * resolved through the owner's resolve(), which may create template
 * instances; the configuration's graph has no cycle (graph.c), so neither
 * has this one. */
#pragma once

#include "job.h"

struct requires;

/* The owner's side. */
struct requires_ops {
	/* The jobs named n (a job, every instance of a pool, a template
	 * instance, created if need be) appended to *v (starting NULL, 0);
	 * returns how many, 0 if none, or -errno. */
	int (*resolve)(struct requires *r, const char *n, struct job ***v, size_t *nv);
	/* Shutdown signalled j (its stop step begins): systemd's
	 * EXTEND_TIMEOUT_USEC. May be NULL. */
	void (*stop_step)(struct requires *r, struct job *j);
};

struct requires {
	const struct requires_ops *ops;
	uint64_t generation;        /* of the walks that mark jobs visited */
	struct job **work;          /* to check again, or whose held stop may go on */
	size_t n_work, cap_work;
	bool draining;
};

/* How a held stop ends, once no dependent is active any more. */
enum requires_pending { PENDING_NONE, PENDING_STOP, PENDING_RESTART, PENDING_RECONFIGURE, PENDING_SHUTDOWN };

void requires_done(struct requires *r);
/* The host op of job.h: whether j's requirements hold, now. */
enum job_requires requires_check(struct requires *r, struct job *j, const char **failed);
/* Every state or health change of j: its waiting and queued dependents are
 * checked, the held stops of its requirements go on. */
void requires_changed(struct requires *r, struct job *j);
/* j is about to be freed: no edge may point to it. */
void requires_forget(struct requires *r, struct job *j);

/* Start j, first each requirement that does not hold and is neither
 * active nor waiting (recursively). As job_want_up(). */
int requires_start(struct requires *r, struct job *j);
/* Stop j (how: PENDING_STOP, _RESTART or _SHUTDOWN) after the active or
 * waiting jobs that require it through up, started or healthy, which
 * stop first (a restart starts them again once their conditions hold).
 * The dependents this touches are appended to *deps (may be NULL). */
void requires_stop(struct requires *r, struct job *j, enum requires_pending how, struct job ***deps, size_t *n_deps);
/* Reload gives j the config jc: as job_reconfigure(), but an active job
 * with active dependents is restarted after them. */
bool requires_reconfigure(struct requires *r, struct job *j, struct job_config *jc);
/* Shutdown: every job stops once the jobs that require it have. */
void requires_shutdown(struct requires *r, struct job *const *jobs, size_t n);
/* After a reload: edges are resolved again and waiting or queued jobs
 * re-checked at once. */
void requires_reload(struct requires *r, struct job *const *jobs, size_t n);
/* A stop of j waits for its dependents. */
bool requires_stop_held(const struct job *j);

/* The names j waits for (requirements whose condition does not hold, when
 * j is waiting), each passed to fn. */
void requires_waiting_for(const struct job *j, void (*fn)(const char *name, void *userdata), void *userdata);
