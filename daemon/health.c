/* SPDX-License-Identifier: ISC */
/* The health checks of one run (see health.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "health.h"
#include "log.h"

struct health {
	struct jobcheck_kept k;       /* the check command and whose it is */
	struct health_params p;       /* p.command points to k.command */
	const struct health_ops *ops;
	void *userdata;

	enum health_state state;
	unsigned failures;            /* in a row */
	unsigned checks;              /* ended so far */
	bool paused;
	sd_event_source *timer;       /* the next check */
	struct jobcheck *check;       /* in flight, or NULL */
	bool reporting;               /* calling the owner back */
	bool freed;                   /* by the owner while reporting */
};

static const char *const state_names[_HEALTH_STATE_MAX] = {
	[HEALTH_UNKNOWN] = "unknown",
	[HEALTH_HEALTHY] = "healthy",
	[HEALTH_UNHEALTHY] = "unhealthy",
};

const char *health_state_to_string(enum health_state s) {
	return s < _HEALTH_STATE_MAX ? state_names[s] : "unknown";
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* The next check delay from now, or none (USEC_INFINITY). */
static void arm(struct health *h, usec_t delay) {
	int r;

	if (delay == USEC_INFINITY) {
		r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	} else {
		usec_t now = now_usec(CLOCK_MONOTONIC);
		r = sd_event_source_set_time(h->timer, delay < USEC_INFINITY - now ? now + delay : USEC_INFINITY - 1);
		if (r >= 0)
			r = sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
	}
	if (r < 0)
		fatalx("cannot arm the health check timer of %s: %s", h->k.name, strerror(-r));
}

static void health_destroy(struct health *h);

/* Tell the owner, who may free h: then it is destroyed once the owner
 * returns. */
static void report(struct health *h, bool changed, bool exhausted) {
	h->reporting = true;
	if (changed && h->ops->changed)
		h->ops->changed(h->userdata, h->state);
	if (!h->freed && exhausted && h->ops->exhausted)
		h->ops->exhausted(h->userdata);
	h->reporting = false;
	if (h->freed)
		health_destroy(h);
}

/* A check ended (or could not start): the state, the next check, then the
 * owner. */
static void conclude(struct health *h, bool passed) {
	enum health_state old = h->state;
	bool exhausted = false;

	if (h->checks < UINT_MAX)
		h->checks++;
	if (passed) {
		h->failures = 0;
		h->state = HEALTH_HEALTHY;
	} else {
		if (h->failures < UINT_MAX)
			h->failures++;
		h->state = HEALTH_UNHEALTHY;
		exhausted = h->failures == h->p.retries && !h->p.report_only;
	}
	arm(h, h->p.interval);
	report(h, old != h->state, exhausted);
}

static void on_check_done(void *userdata, int wait_status, bool timed_out) {
	struct health *h = userdata;
	bool passed = jobcheck_passed(wait_status, timed_out);

	h->check = NULL;
	if (passed) {
		log_debug("%s: health check passed", h->k.name);
	} else {
		_cleanup_free_ char *why = jobcheck_describe(wait_status, timed_out, h->p.timeout);
		log_job(LOG_WARNING, h->k.name, h->k.run, -1, -1, "health check failed (%u in a row): %s",
			h->failures + 1, why);
	}
	conclude(h, passed);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct health *h = userdata;
	_cleanup_free_ char *error = NULL;
	(void) s;
	(void) usec;

	if (h->paused || h->check)
		return 0;   /* cannot happen: pausing and checking disarm the timer */
	arm(h, USEC_INFINITY);
	int r = jobcheck_start_kept(&h->k, h->p.timeout, on_check_done, h, &h->check, &error);
	if (r < 0) {
		log_job(LOG_WARNING, h->k.name, h->k.run, -1, -1, "health check failed (%u in a row): cannot start it: %s",
			h->failures + 1, error);
		conclude(h, false);
	}
	return 0;
}

static int invalid(char **error, const char *fmt, ...) _printf_(2, 3);
static int invalid(char **error, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	*error = xvasprintf(fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int health_new(sd_event *e, struct reaper *r, const struct jobcheck_job *job, const struct health_params *p,
	       const struct health_ops *ops, void *userdata, struct health **ret, char **error) {
	int k;

	*ret = NULL;
	*error = NULL;
	if (!p->command || !*p->command)
		return invalid(error, "health_command is empty");
	if (p->interval == 0 || p->interval == USEC_INFINITY)
		return invalid(error, "health_interval must be above 0");
	if (p->retries == 0)
		return invalid(error, "health_retries must be at least 1");

	struct health *h = xcalloc(1, sizeof(*h));
	if ((k = jobcheck_keep(&h->k, e, r, job, p->command, "health_command", error)) < 0) {
		free(h);
		return k;
	}
	h->p = *p;
	h->p.command = h->k.command;
	h->ops = ops;
	h->userdata = userdata;
	h->state = HEALTH_UNKNOWN;
	h->paused = true;
	k = sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, USEC_INFINITY, 1, on_timer, h);
	if (k >= 0)
		k = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	if (k < 0) {
		*error = xasprintf("cannot add a timer: %s", strerror(-k));
		health_free(h);
		return k;
	}
	*ret = h;
	return 0;
}

static void health_destroy(struct health *h) {
	sd_event_source_disable_unref(h->timer);
	jobcheck_release(&h->k);
	free(h);
}

void health_free(struct health *h) {
	if (!h)
		return;
	if (h->check)
		jobcheck_cancel(TAKE_PTR(h->check));
	if (h->reporting) {
		/* from the owner's callback: the memory goes once it returns */
		h->freed = true;
		(void) sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	health_destroy(h);
}

void health_pause(struct health *h) {
	if (h->paused)
		return;
	h->paused = true;
	if (h->check) {
		jobcheck_cancel(h->check);
		h->check = NULL;
	}
	arm(h, USEC_INFINITY);
}

void health_resume(struct health *h) {
	if (!h->paused)
		return;
	h->paused = false;
	arm(h, 0);   /* from the loop, as soon as it runs */
}

enum health_state health_state(const struct health *h) {
	return h->state;
}

unsigned health_failures(const struct health *h) {
	return h->failures;
}

unsigned health_checks(const struct health *h) {
	return h->checks;
}
