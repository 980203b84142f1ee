/* SPDX-License-Identifier: ISC */
/* Exits of child processes that are no stage of a run (see reaper.h). */
#include "log.h"
#include "reaper.h"

void reaper_init(struct reaper *r) {
	hashmap_init(&r->by_pid, false);
	r->watches = NULL;
}

static void unlist(struct reaper *r, struct child_watch *w) {
	if (w->prev)
		w->prev->next = w->next;
	else
		r->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

void reaper_done(struct reaper *r) {
	hashmap_clear(&r->by_pid);
	while (r->watches) {
		struct child_watch *w = r->watches;
		unlist(r, w);
		w->n_pids = 0;
		w->abandoned(w);
	}
}

void reaper_watch(struct reaper *r, pid_t pid, struct child_watch *w) {
	if (hashmap_get_int(&r->by_pid, (uint64_t) pid))
		fatalx("BUG: pid %d is watched twice", (int) pid);
	hashmap_put_int(&r->by_pid, (uint64_t) pid, w);
	if (w->n_pids++ == 0) {
		w->prev = NULL;
		w->next = r->watches;
		if (r->watches)
			r->watches->prev = w;
		r->watches = w;
	}
}

bool reaper_dispatch(struct reaper *r, pid_t pid, int wait_status, const struct rusage *ru) {
	struct child_watch *w = hashmap_remove_int(&r->by_pid, (uint64_t) pid);

	if (!w)
		return false;
	if (--w->n_pids == 0)
		unlist(r, w);
	w->exited(w, pid, wait_status, ru);   /* last: w may be gone after */
	return true;
}
