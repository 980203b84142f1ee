/* SPDX-License-Identifier: ISC */
/* `ready = command:CMD` (see readycmd.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "readycmd.h"

struct readycmd {
	struct jobcheck_kept k;       /* the command and whose it is */
	usec_t interval;
	void (*ready)(void *userdata);
	void *userdata;

	sd_event_source *timer;       /* the next try */
	struct jobcheck *check;       /* in flight, or NULL */
	usec_t try_started;           /* CLOCK_MONOTONIC */
	unsigned tries;
	bool told_spawn_failure;      /* logged once, not every interval */
	bool done;                    /* ready() was called */
};

/* The next try at `when` (CLOCK_MONOTONIC; in the past: at once). */
static void arm_at(struct readycmd *rc, usec_t when) {
	int r = sd_event_source_set_time(rc->timer, when);
	if (r >= 0)
		r = sd_event_source_set_enabled(rc->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		fatalx("cannot arm the ready command timer of %s: %s", rc->k.name, strerror(-r));
}

/* ready_interval after the start of the try that ended. */
static usec_t next_try(const struct readycmd *rc) {
	return rc->interval < USEC_INFINITY - rc->try_started ? rc->try_started + rc->interval : USEC_INFINITY - 1;
}

static void on_try_done(void *userdata, int wait_status, bool timed_out) {
	struct readycmd *rc = userdata;

	rc->check = NULL;
	if (jobcheck_passed(wait_status, timed_out)) {
		log_debug("%s: ready command passed on try %u", rc->k.name, rc->tries);
		rc->done = true;
		rc->ready(rc->userdata);   /* last: rc may be freed */
		return;
	}
	_cleanup_free_ char *why = jobcheck_describe(wait_status, timed_out, rc->interval);
	log_debug("%s: ready command try %u: %s", rc->k.name, rc->tries, why);
	arm_at(rc, next_try(rc));
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct readycmd *rc = userdata;
	_cleanup_free_ char *error = NULL;
	(void) s;
	(void) usec;

	if (rc->done || rc->check)
		return 0;   /* cannot happen: the timer is off then */
	rc->try_started = now_usec(CLOCK_MONOTONIC);
	rc->tries++;
	int r = jobcheck_start_kept(&rc->k, rc->interval, on_try_done, rc, &rc->check, &error);
	if (r < 0) {
		if (!rc->told_spawn_failure)
			log_job(LOG_WARNING, rc->k.name, rc->k.run, -1, -1, "cannot start its ready command: %s", error);
		rc->told_spawn_failure = true;
		arm_at(rc, next_try(rc));
	}
	return 0;
}

int readycmd_new(sd_event *e, struct reaper *r, const struct jobcheck_job *job, const char *command,
		 usec_t interval, void (*ready)(void *userdata), void *userdata, struct readycmd **ret,
		 char **error) {
	int k;

	*ret = NULL;
	*error = NULL;
	if (!command || !*command) {
		*error = xstrdup("ready = command: the command is empty");
		return -EINVAL;
	}
	if (interval == 0 || interval == USEC_INFINITY) {
		*error = xstrdup("ready_interval must be above 0");
		return -EINVAL;
	}
	struct readycmd *rc = xcalloc(1, sizeof(*rc));
	if ((k = jobcheck_keep(&rc->k, e, r, job, command, "ready = command", error)) < 0) {
		free(rc);
		return k;
	}
	rc->interval = interval;
	rc->ready = ready;
	rc->userdata = userdata;
	/* the first try as soon as the loop runs */
	k = sd_event_add_time(e, &rc->timer, CLOCK_MONOTONIC, 0, 1, on_timer, rc);
	if (k < 0) {
		*error = xasprintf("cannot add a timer: %s", strerror(-k));
		readycmd_free(rc);
		return k;
	}
	*ret = rc;
	return 0;
}

void readycmd_free(struct readycmd *rc) {
	if (!rc)
		return;
	if (rc->check)
		jobcheck_cancel(rc->check);
	sd_event_source_disable_unref(rc->timer);
	jobcheck_release(&rc->k);
	free(rc);
}

unsigned readycmd_tries(const struct readycmd *rc) {
	return rc->tries;
}
