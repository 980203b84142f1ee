/* SPDX-License-Identifier: ISC */
/* What cgroup.c (runs) and cgroup-setup.c (choosing and preparing
 * CGROUP, the sweep at startup) share; nothing else includes it. */
#pragma once

#include "cgroup.h"
#include <limits.h>
#include "cgroup-name.h"

struct cgroups {
	char *path;                  /* CGROUP */
	int fd;                      /* CGROUP */
	int jobs_fd;                 /* CGROUP/jobs */
	int root_fd;                 /* the hierarchy's root (io.cost.qos) */
	sd_event *event;
	unsigned available;          /* controllers of CGROUP/cgroup.controllers */
	unsigned enabled;            /* enabled for CGROUP/jobs and below */
	struct cgroup_run *kept;     /* processes left after SIGKILL; swept once empty */
	size_t n_kept;
	char last_jname[NAME_MAX + 1];   /* a job directory known to be there */
};

struct cgroup_run {
	struct cgroups *m;
	char *job;                   /* the job's full name ("enc@a.bin"); NULL: unknown (a sweep's) */
	char *path;                  /* CGROUP/jobs/j-NAME/r-RUN */
	char jname[NAME_MAX + 1];    /* j-NAME */
	char rel[2 * NAME_MAX + 2];  /* j-NAME/r-RUN, below CGROUP/jobs */
	uint64_t run;
	char kind;                   /* 'r' a run, 'c' its checks */
	bool delegated;              /* delegate = true: its user's until the run ends */
	bool removed;                /* emptied and removed at the run's end; usage holds what it counted */
	struct cgroup_usage usage;
	int fd;                      /* the directory */
	int events_fd;               /* cgroup.events */
	int memory_events_fd;        /* memory.events, with oom_policy = stop */
	uint64_t oom_kills;
	sd_event_source *events_source, *oom_source;
	const struct cgroup_run_events *ev;
	void *userdata;
	struct cgroup_run *next;     /* in m->kept */
};

/* Keep c (populated) and remove it once cgroup.events says it is empty. */
void cgroup_run_keep(struct cgroup_run *c);
/* Try to enable the controllers of mask in CGROUP and CGROUP/jobs: 0 or -errno. */
int cgroups_enable(struct cgroups *m, unsigned mask);
/* What cgroups_none_reason() says; written by cgroups_setup(). */
extern char cgroups_none_why[512];
