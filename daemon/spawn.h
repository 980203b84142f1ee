/* Process creation for one run of a job: substitutes %i/%n, resolves the
 * user, opens the redirections, wires the pipeline stages with pipes and
 * starts every stage in one new process group. Job data flows between
 * stages and files through the kernel only. A failure in any step (missing
 * program, bad directory, unknown user, unopenable file) is reported with
 * its reason and leaves no process behind. */
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include "config.h"

struct spawn_result {
	pid_t pgid;
	size_t n_stages;
	pid_t *pids;          /* one per stage */
	char **argv0;         /* one per stage (NULL-terminated vector) */
	char *error;          /* on failure: "exec /x/y: No such file or directory" */
	int exit_status;      /* on failure: 127 (not found) or 126 (other) */
};

/* Returns 0 with every stage running, or -errno with result->error set. */
/* capture_fd: where stdout/stderr = log go (-1: this job captures nothing). */
int spawn_run(const struct job_config *jc, const char *name, const char *instance, int capture_fd,
	      struct spawn_result *result);
void spawn_result_free(struct spawn_result *r);
/* supd raises its own fd limit; children get back the one it started with. */
void spawn_set_child_nofile(const struct rlimit *rl);
