/* SPDX-License-Identifier: ISC */
/* A job's cgroup keys (SPEC §8) as the files of its run's cgroup: which
 * controller each key needs, writing the values, delegation, and whether
 * io_weight can have an effect on this machine. */
#pragma once

#include <stdbool.h>
#include "config.h"

enum cgroup_controller { CGROUP_CPU, CGROUP_IO, CGROUP_MEMORY, CGROUP_PIDS, _CGROUP_CONTROLLER_MAX };
#define CGROUP_MASK(c) (1u << (c))

const char *cgroup_controller_to_string(enum cgroup_controller c);
/* The controllers named in the text of cgroup.controllers or
 * cgroup.subtree_control ("cpu io memory pids"), as a mask. */
unsigned cgroup_controllers_parse(const char *text);
/* "+cpu +memory" for a mask (enabling them in cgroup.subtree_control). */
void cgroup_controllers_format(unsigned mask, char *buf, size_t size);

/* The controllers jc's keys need; keys[c], when not NULL, gets the first
 * key that needs controller c (for "memory_max needs the memory
 * controller in CGROUP"). */
unsigned cgroup_limits_needs(const struct job_config *jc, const char *keys[_CGROUP_CONTROLLER_MAX]);
/* Write jc's keys into the run's cgroup (directory fd dirfd, at path),
 * and with delegate = true hand it to the job's user. Returns 0, or
 * -errno with *error naming the key and why. */
int cgroup_limits_apply(int dirfd, const char *path, const struct job_config *jc, char **error);
/* The end of a delegated run (before its cgroup is removed): the
 * cgroup, every sub-cgroup its user made and the files delegation
 * chowned are supd's again, so a process of that user outside the run
 * cannot keep making sub-cgroups faster than the removal walk takes them
 * away. Also fine on a cgroup that was never delegated. 0 or -errno,
 * with *error saying what failed. */
int cgroup_limits_undelegate(int dirfd, const char *path, char **error);
/* Whether an io weight is honoured on this machine: some device uses the
 * BFQ scheduler or has io.cost enabled (io.cost.qos of the hierarchy's
 * root, directory fd root_fd). */
bool cgroup_limits_io_weight_effective(int root_fd);
