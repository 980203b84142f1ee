/* SPDX-License-Identifier: ISC */
/* The run queue (see runqueue.h). */
#include <errno.h>
#include "runqueue.h"

static int on_drain(sd_event_source *es, void *userdata) {
	runqueue_drain(userdata);
	return 0;
}

int runqueue_init(struct runqueue *q, sd_event *e, long max, runqueue_grant_fn grant, void *userdata) {
	*q = (struct runqueue) { .max = max, .grant = grant, .userdata = userdata };
	int r = sd_event_add_defer(e, &q->drainer, on_drain, q);
	if (r >= 0)
		r = sd_event_source_set_enabled(q->drainer, SD_EVENT_OFF);
	if (r < 0)
		q->drainer = sd_event_source_disable_unref(q->drainer);
	return r;
}

void runqueue_done(struct runqueue *q) {
	q->drainer = sd_event_source_disable_unref(q->drainer);
	while (q->head)
		runqueue_remove(q, q->head);
}

static bool slot_free(const struct runqueue *q) {
	return q->max <= 0 || q->in_use < (size_t) q->max;
}

static void push_tail(struct runqueue *q, struct runqueue_entry *e) {
	e->queued = true;
	e->next = NULL;
	e->prev = q->tail;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->n_queued++;
}

void runqueue_remove(struct runqueue *q, struct runqueue_entry *e) {
	if (!e->queued)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = e->next = NULL;
	e->queued = false;
	q->n_queued--;
}

bool runqueue_acquire(struct runqueue *q, struct runqueue_entry *e) {
	if (e->in_slot)
		return true;
	if (!slot_free(q) || (q->head && q->head != e)) {
		if (!e->queued)
			push_tail(q, e);
		return false;
	}
	runqueue_remove(q, e);
	e->in_slot = true;
	q->in_use++;
	return true;
}

void runqueue_release(struct runqueue *q, struct runqueue_entry *e) {
	if (!e->in_slot)
		return;
	e->in_slot = false;
	q->in_use--;
	if (q->head && q->drainer)
		(void) sd_event_source_set_enabled(q->drainer, SD_EVENT_ONESHOT);
}

void runqueue_drain(struct runqueue *q) {
	while (q->head && slot_free(q)) {
		struct runqueue_entry *e = q->head;
		runqueue_remove(q, e);
		e->in_slot = true;
		q->in_use++;
		q->grant(e, q->userdata);
	}
}

void runqueue_set_max(struct runqueue *q, long max) {
	q->max = max;
	runqueue_drain(q);
}
