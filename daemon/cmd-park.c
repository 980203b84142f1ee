/* SPDX-License-Identifier: ISC */
/* Requests parked until their jobs settle (wait, run, stop, restart). The
 * job observer checks them as jobs change; a job removed by a reload is
 * re-checked from the event loop (recheck), never inside the removal, and
 * its last object is kept for the answer: a reload stops a job as a user's
 * stop does, and a wait on several jobs must still see it to count it. */
#include "commands.h"
#include "log.h"
#include "proto.h"

struct cmd_parked {
	struct client_task task;    /* first: the client hands it back on cancel */
	struct commands *cmds;
	struct client *client;
	enum cmd_park_until until;
	struct job **jobs;          /* NULL entries: removed by reload */
	char **gone;                /* [i]: jobs[i]'s object when it was removed */
	size_t n, done_upto;        /* jobs[0..done_upto) are known settled */
	sd_event_source *timer;     /* "timeout" */
	cmd_park_done_fn *done;
	bool progress;              /* send {"progress":...} as jobs settle */
	bool recheck;               /* look again from the loop */
	size_t last_reported;
	struct cmd_parked *prev, *next;
};

static void parked_free(struct cmd_parked *p) {
	struct commands *cmds = p->cmds;

	if (p->prev)
		p->prev->next = p->next;
	else
		cmds->parked = p->next;
	if (p->next)
		p->next->prev = p->prev;
	sd_event_source_disable_unref(p->timer);
	if (p->gone)
		for (size_t i = 0; i < p->n; i++)
			free(p->gone[i]);
	free(p->gone);
	free(p->jobs);
	free(p);
}

static void parked_cancel(struct client_task *t) {
	parked_free((struct cmd_parked *) t);
}

bool cmd_park_settled(const struct job *j, enum cmd_park_until until) {
	if (!j)
		return true;
	if (until == UNTIL_STOPPED)
		return !job_is_active(j) && j->state != JOB_QUEUED && j->state != JOB_BACKOFF &&
		       j->state != JOB_WAITING && !requires_stop_held(j);
	if (until == UNTIL_RESTARTED)
		return j->state != JOB_STOPPING && !requires_stop_held(j);
	if (until == UNTIL_UP)
		return j->state == JOB_RUNNING || job_state_is_final(j->state);
	return job_state_is_final(j->state) && !job_is_active(j);
}

/* For a wait with progress: "done/total, failed" whenever it changes. */
static void report_progress(struct cmd_parked *p) {
	size_t done = 0, failed = 0;

	for (size_t i = 0; i < p->n; i++)
		if (cmd_park_settled(p->jobs[i], p->until)) {
			done++;
			if (p->jobs[i] && (p->jobs[i]->state == JOB_FAILED || p->jobs[i]->state == JOB_FATAL))
				failed++;
		}
	if (done == p->last_reported || done == p->n)
		return;
	p->last_reported = done;
	client_reply(p->client, json_pack("{s:{s:I, s:I, s:I}}", "progress", "done", (json_int_t) done,
					  "total", (json_int_t) p->n, "failed", (json_int_t) failed));
}

/* Answer and let the client go on. */
static void complete(struct cmd_parked *p, bool timed_out) {
	struct client *c = p->client;

	p->done(c, p, timed_out);
	parked_free(p);
	client_task_end(c);
}

/* Advance the cursor over settled jobs; answer when all are. */
static void check(struct cmd_parked *p) {
	if (p->progress)
		report_progress(p);
	/* wait --up: one job final is the answer already */
	if (p->until == UNTIL_UP)
		for (size_t i = 0; i < p->n; i++)
			if (!p->jobs[i] || (job_state_is_final(p->jobs[i]->state) && !job_is_active(p->jobs[i]))) {
				complete(p, false);
				return;
			}
	while (p->done_upto < p->n && cmd_park_settled(p->jobs[p->done_upto], p->until))
		p->done_upto++;
	if (p->done_upto < p->n)
		return;
	/* a job before the cursor may have been restarted meanwhile */
	for (size_t i = 0; i < p->n; i++)
		if (!cmd_park_settled(p->jobs[i], p->until)) {
			p->done_upto = i;
			return;
		}
	complete(p, false);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
	complete(userdata, true);
	return 0;
}

void cmd_park(struct commands *cmds, struct client *c, struct job **jobs, size_t n, enum cmd_park_until until,
	      usec_t timeout, json_t *request, cmd_park_done_fn *done) {
	struct cmd_parked *p = xcalloc(1, sizeof(*p));

	p->task.cancel = parked_cancel;
	p->cmds = cmds;
	p->client = c;
	p->until = until;
	p->jobs = jobs;
	p->n = n;
	p->done = done;
	p->progress = json_is_true(json_object_get(request, "progress")) && n > 1;
	p->last_reported = SIZE_MAX;
	p->next = cmds->parked;
	if (p->next)
		p->next->prev = p;
	cmds->parked = p;
	client_task_begin(c, &p->task);
	if (timeout != USEC_INFINITY) {
		int r = sd_event_add_time_relative(cmds->event, &p->timer, CLOCK_MONOTONIC, timeout, 1, on_timeout, p);
		if (r < 0)
			log_warnx("control: cannot arm a wait timeout: %s", strerror(-r));
	}
	check(p);
}

void cmd_park_job_changed(struct commands *cmds, struct job *j) {
	struct cmd_parked *p, *next;

	for (p = cmds->parked; p; p = next) {
		next = p->next;     /* p may complete and go */
		check(p);
	}
}

void cmd_park_job_removed(struct commands *cmds, struct job *j) {
	for (struct cmd_parked *p = cmds->parked; p; p = p->next)
		for (size_t i = 0; i < p->n; i++)
			if (p->jobs[i] == j) {
				struct buf b = { 0 };

				job_json_append(&b, j, NULL);
				if (!p->gone)
					p->gone = xcalloc(p->n, sizeof(*p->gone));
				p->gone[i] = b.data;
				p->jobs[i] = NULL;
				p->recheck = true;   /* that may have been the last one */
				(void) sd_event_source_set_enabled(cmds->recheck, SD_EVENT_ONESHOT);
			}
}

int cmd_park_recheck(sd_event_source *s, void *userdata) {
	struct commands *cmds = userdata;
	struct cmd_parked *p, *next;

	for (p = cmds->parked; p; p = next) {
		next = p->next;
		if (p->recheck) {
			p->recheck = false;
			check(p);
		}
	}
	return 0;
}

void cmd_park_append_unfinished(struct buf *b, const struct cmd_parked *p) {
	bool first = true;

	buf_append(b, "[", 1);
	for (size_t i = 0; i < p->n; i++)
		if (!cmd_park_settled(p->jobs[i], p->until)) {
			if (!first)
				buf_append(b, ",", 1);
			proto_append_string(b, p->jobs[i]->name);
			first = false;
		}
	buf_append(b, "]", 1);
}

void cmd_park_append_jobs(struct buf *b, const struct cmd_parked *p) {
	buf_appendf(b, ",\"jobs\":[");
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			buf_append(b, ",", 1);
		if (p->jobs[i])
			job_json_append(b, p->jobs[i], NULL);
		else
			buf_append(b, p->gone[i], strlen(p->gone[i]));
	}
	buf_append(b, "]}", 2);
}
