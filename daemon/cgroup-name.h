/* SPDX-License-Identifier: ISC */
/* Names of the cgroups supd makes below CGROUP/jobs (SPEC §8): j-NAME per
 * job, r-RUN per run and c-RUN for a run's checks. A name is at most
 * CGROUP_NAME_MAX bytes: a longer job name is cut (on a UTF-8 character
 * boundary) and ends in '~' and a hash of the whole name, so two long
 * names that share their start still get two directories. '~' is in no
 * job name, so a shortened name never equals a real one. */
#pragma once

#include <stdint.h>

#define CGROUP_NAME_MAX 250

/* "j-NAME", or "j-" PREFIX "~" 16 hex digits of a 64-bit FNV-1a hash. */
void cgroup_name_job(const char *name, char out[CGROUP_NAME_MAX + 1]);
/* 'r' (a run) or 'c' (its checks) and the run number: "r-17". */
void cgroup_name_run(char kind, uint64_t run, char out[CGROUP_NAME_MAX + 1]);
/* The run number of a directory name "r-17" / "c-17", or 0 (not one of ours). */
uint64_t cgroup_name_parse_run(const char *name, char *kind);
