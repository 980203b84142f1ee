/* SPDX-License-Identifier: ISC */
/* The cgroup supd uses (SPEC §8) and the cgroups of its runs.
 *
 * Layout below CGROUP (the cgroup chosen by [supd] cgroup):
 *   CGROUP/supd              supd itself, when CGROUP is supd's own cgroup
 *   CGROUP/jobs/j-NAME       one per job (a template or pool: one for all
 *                            its instances), no processes (cgroup-name.h)
 *   CGROUP/jobs/j-NAME/r-RUN a run: every process of it, escaped or not
 *   CGROUP/jobs/j-NAME/c-RUN the check processes of that run (SPEC §7)
 * Nothing else under CGROUP is touched (systemd's .control, where
 * ExecReload= runs, stays systemd's).
 *
 * A run's cgroup is made before the spawn with the job's cgroup keys
 * written (cgroup-limits.h); spawn places every stage in it before exec
 * (spawn.h, struct spawn_cgroup). Its end is told by cgroup.events (an
 * sd-event io source, EPOLLPRI): cgroup_run_end() removes it when empty,
 * or keeps it when processes are left after SIGKILL (uninterruptible
 * sleep): kept cgroups are swept (removed) once empty, and the job's next
 * run is refused until then. At startup the leftovers of a supd that died
 * on the same state_dir are killed and removed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include "config.h"
#include "util.h"

struct cgroups;
struct cgroup_run;

/* Decide which cgroup supd uses and prepare it (SPEC §8): cgroup = off:
 * none; auto: supd's own cgroup when it was delegated to supd (the
 * trusted.delegate or user.delegate xattr is 1, or supd is not root and
 * owns it with a writable cgroup.procs, or supd is PID 1 at the root of a
 * writable cgroup namespace), else none; PATH: that directory, which must
 * be a cgroup v2 directory that is no systemd unit's own, empty of
 * processes, and not marked (xattr user.supd.state_dir) for another
 * state_dir. supd moves itself into CGROUP/supd when CGROUP is its own
 * cgroup, enables the controllers its jobs need, and with sweep kills and
 * removes what a supd that died left under CGROUP/jobs (only with the
 * state_dir locked). Logs which cgroup it uses, or why none. Returns 0
 * (*ret NULL: none), or -errno after logging why cgroup = PATH cannot be
 * used (supd then exits 1). */
int cgroups_setup(const struct supd_config *c, const char *state_dir, bool sweep, sd_event *e,
		  struct cgroups **ret);
/* Removes the empty cgroups supd made (not the kept ones, nor CGROUP). */
void cgroups_free(struct cgroups *m);
const char *cgroups_path(const struct cgroups *m);
/* Why supd runs without a cgroup ("cgroup = off", "... is not delegated"). */
const char *cgroups_none_reason(void);

/* What a run's cgroup tells its owner: changed (cgroup.events changed:
 * cgroup_run_populated() may say false now) and oom (with oom_policy =
 * stop: the OOM killer killed a process of the run). */
struct cgroup_run_events {
	void (*changed)(void *userdata);
	void (*oom)(void *userdata);
};

/* The cgroup of run `run` of job `name`: CGROUP/jobs/j-NAME/r-RUN (NAME
 * without the instance: j-enc for enc@a.bin), with
 * jc's cgroup keys written. With m NULL (no cgroup), 0 and *ret NULL,
 * unless jc has a cgroup key (an error). ev, when not NULL, is told of
 * changes with userdata. Returns 0, or -errno with *error (a spawn
 * failure: "memory_max needs the memory controller in CGROUP"). */
int cgroup_run_new(struct cgroups *m, const char *name, uint64_t run, const struct job_config *jc,
		   const struct cgroup_run_events *ev, void *userdata, struct cgroup_run **ret, char **error);
/* The cgroup of the check processes of run `run` of job `name` (SPEC §7:
 * health_command and ready = command: run as the job, but in a cgroup of
 * their own): CGROUP/jobs/j-NAME/c-RUN, without the job's limits. One per
 * run, for all its checks: pass it to spawn_run_in() as a struct
 * spawn_cgroup { cgroup_run_fd(c), cgroup_run_path(c) }; when the run
 * ends, cgroup_run_kill() what is left and cgroup_run_end(). With m NULL,
 * 0 and *ret NULL. Returns 0, or -errno with *error. */
int cgroup_check_create(struct cgroups *m, const char *name, uint64_t run, struct cgroup_run **ret,
			char **error);
const char *cgroup_run_path(const struct cgroup_run *c);
/* The directory fd (for CLONE_INTO_CGROUP). */
int cgroup_run_fd(const struct cgroup_run *c);
/* True while any process is in it or below; then, from this call on,
 * the events of cgroup_run_new() say when that changes (a run whose last
 * stage ends with nothing left costs no watch). A run's cgroup (not a
 * check one) found empty is removed at once, its usage kept for
 * cgroup_run_usage(): ask only when the run's stages are gone. */
bool cgroup_run_populated(struct cgroup_run *c);
/* sig to every process in it except those of process group skip_pgid;
 * SIGKILL is cgroup.kill. Returns how many were signalled (1 for
 * cgroup.kill) or -errno. */
int cgroup_run_signal(struct cgroup_run *c, int sig, pid_t skip_pgid, bool and_continue);

/* What the cgroup counted: every process of the run, reaped or not. */
struct cgroup_usage {
	bool cpu;                    /* cpu.stat was read */
	usec_t cpu_user, cpu_sys;
	long memory_peak_kb;         /* memory.peak; -1: not measured */
	int oom_killed;              /* memory.events oom_kill > 0; -1: not measured */
};
void cgroup_run_usage(struct cgroup_run *c, struct cgroup_usage *u);
/* The run is over: its cgroup is removed, or, with processes left in it,
 * killed once more, kept and swept once empty. c is freed either way. */
void cgroup_run_end(struct cgroup_run *c);

/* A recorded run's cgroup (a "started" record of a supd that died, SPEC
 * §11) outside CGROUP/jobs: killed and removed if it is one of ours (a
 * path ending in /jobs/j-NAME/r-RUN of that run below a cgroup marked for
 * state_dir). Returns 1 if it was killed, 0 if it is gone or not ours. */
int cgroups_reap_recorded(const char *path, uint64_t run, const char *state_dir);
