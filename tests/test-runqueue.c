/* SPDX-License-Identifier: ISC */
/* Unit tests for the run queue (daemon/runqueue.c): slots, first come first
 * served, removal from the middle, handing on from the event loop, and a
 * new limit. */
#include <check.h>
#include <stdlib.h>
#include "runqueue.h"
#include "util.h"

static struct runqueue_entry e[6];
static int order[16], n_order;

static void grant(struct runqueue_entry *x, void *userdata) {
	ck_assert_ptr_eq(userdata, order);
	order[n_order++] = (int) (x - e);
}

START_TEST(test_queue)
{
	sd_event *ev;
	struct runqueue q;

	memset(e, 0, sizeof(e));
	n_order = 0;
	ck_assert_int_ge(sd_event_new(&ev), 0);
	ck_assert_int_ge(runqueue_init(&q, ev, 2, grant, order), 0);

	ck_assert(runqueue_acquire(&q, &e[0]));
	ck_assert(runqueue_acquire(&q, &e[1]));
	ck_assert(runqueue_acquire(&q, &e[1]));       /* holds one already */
	ck_assert_uint_eq(q.in_use, 2);
	for (int i = 2; i < 6; i++)
		ck_assert(!runqueue_acquire(&q, &e[i]));
	ck_assert(!runqueue_acquire(&q, &e[2]));      /* queued once */
	ck_assert_uint_eq(q.n_queued, 4);
	runqueue_remove(&q, &e[3]);                   /* from the middle */
	ck_assert(!e[3].queued);
	ck_assert_uint_eq(q.n_queued, 3);

	/* a freed slot is handed on from the event loop, not at once */
	runqueue_release(&q, &e[0]);
	ck_assert_int_eq(n_order, 0);
	ck_assert_int_ge(sd_event_run(ev, 0), 1);
	ck_assert_int_eq(n_order, 1);
	ck_assert_int_eq(order[0], 2);
	ck_assert(e[2].in_slot && !e[2].queued);

	/* a newcomer waits behind the queue even when a slot is free */
	runqueue_release(&q, &e[1]);
	ck_assert(!runqueue_acquire(&q, &e[3]));
	ck_assert_ptr_eq(q.tail, &e[3]);

	/* a higher limit grants at once, in order */
	runqueue_set_max(&q, 0);
	ck_assert_int_eq(n_order, 4);
	ck_assert_int_eq(order[1], 4);
	ck_assert_int_eq(order[2], 5);
	ck_assert_int_eq(order[3], 3);
	ck_assert_uint_eq(q.n_queued, 0);
	ck_assert_uint_eq(q.in_use, 4);
	ck_assert_ptr_null(q.head);
	ck_assert_ptr_null(q.tail);
	ck_assert(runqueue_acquire(&q, &e[0]));       /* no limit */

	runqueue_release(&q, &e[0]);
	runqueue_release(&q, &e[0]);                  /* twice: once counted */
	ck_assert_uint_eq(q.in_use, 4);
	runqueue_done(&q);
	sd_event_unref(ev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runqueue");
	TCase *tc = tcase_create("runqueue");
	tcase_add_test(tc, test_queue);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
