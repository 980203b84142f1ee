/* SPDX-License-Identifier: ISC */
/* The run queue: at most `max` batch runs at once (max_parallel), the
 * others wait first come, first served. It knows nothing of jobs: a job
 * embeds a runqueue_entry and hears through the grant callback that its
 * turn came. Freed slots are handed on from the event loop (a deferred
 * source), once whoever freed the slot has finished announcing its end:
 * events never show more than max runs at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct runqueue_entry {
	struct runqueue_entry *prev, *next;
	bool queued;         /* waiting in the queue */
	bool in_slot;        /* holds a slot */
};

struct runqueue;
typedef void (*runqueue_grant_fn)(struct runqueue_entry *e, void *userdata);

struct runqueue {
	struct runqueue_entry *head, *tail;
	size_t n_queued;
	size_t in_use;       /* slots held */
	long max;            /* 0 = no limit */
	runqueue_grant_fn grant;
	void *userdata;
	sd_event_source *drainer;
};

/* Returns 0 or -errno (the deferred source could not be added). */
int runqueue_init(struct runqueue *q, sd_event *e, long max, runqueue_grant_fn grant, void *userdata);
void runqueue_done(struct runqueue *q);

/* Take a slot (true), or queue e at the tail (false) while all are taken or
 * others wait before it. An entry already holding a slot keeps it. */
bool runqueue_acquire(struct runqueue *q, struct runqueue_entry *e);
/* Give e's slot back (if it holds one); the next queued entry gets it from
 * the event loop. */
void runqueue_release(struct runqueue *q, struct runqueue_entry *e);
/* Take e out of the queue (if queued). */
void runqueue_remove(struct runqueue *q, struct runqueue_entry *e);
/* A new limit (reload); queued entries that now fit are granted at once. */
void runqueue_set_max(struct runqueue *q, long max);
/* Grant free slots to queued entries now, first come first served. */
void runqueue_drain(struct runqueue *q);
