/* SPDX-License-Identifier: ISC */
/* supctl deps: who requires whom (SPEC §7), as a tree. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>

#include "cmd.h"
#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "render.h"
#include "request.h"
#include "split.h"

static int cmd_deps(struct ctl *c, const struct ctl_args *a) {
	json_auto_t *req = request_new(PROTO_CMD_DEPS);
	json_auto_t *resp = NULL;
	json_t *deps;
	int r;

	if (a->argc > 0 && (r = request_set_jobs(req, a, 0)))
		return r;
	if ((r = ctl_call(c, req, &resp)))
		return r;
	if (!(deps = request_answer_array(resp, PROTO_REP_DEPS)))
		return EXIT_UNREACHABLE;
	if (c->json) {
		output_json(deps);
		return 0;
	}
	(void) render_deps(deps, stdout);
	if (json_is_true(json_object_get(resp, PROTO_DEP_TRUNCATED)))
		output_warn("the tree is cut (more than %d jobs, or deeper than supd shows)", PROTO_DEPS_MAX);
	return 0;
}

const struct ctl_command cmd_deps_entry = {
	"deps", "[JOB]", 0, 1, cmd_deps,
	"show who requires whom",
	"Each job (or JOB alone) with the jobs it requires indented under it,\n"
	"as systemctl list-dependencies: \"NAME:COND (STATE)\", where COND is how\n"
	"it is required (up, started, exited, healthy). Without JOB, the tops are\n"
	"the jobs that nothing requires. --json prints the tree of DEP objects.",
	{ { 0 } },
};
