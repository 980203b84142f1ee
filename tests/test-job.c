/* SPDX-License-Identifier: ISC */
/* Unit tests for the job state machine (daemon/job.c), driven without
 * processes (tests/job-fake.h). test_matrix walks every cell of the table
 * in job.h, state x input, and checks the new state and what was asked of
 * the system; the other tests follow a cell to the end of the run it
 * affects. Runs in cgroups and SPEC §7 are in tests/test-job-deps.c. */
#include "job-fake.h"

/* ---- the expected table, written apart from job.c's ---- */

enum { NO_SIG = 0, TERM = SIGTERM, KILL = SIGKILL };

struct cell {
	enum job_state to;
	int spawns;             /* spawns this input caused */
	int signal;             /* signal sent to the run, if any */
};

#define S JOB_STOPPED
#define Q JOB_QUEUED
#define W JOB_WAITING
#define T JOB_STARTING
#define R JOB_RUNNING
#define P JOB_STOPPING
#define B JOB_BACKOFF
#define E JOB_EXITED
#define F JOB_FAILED
#define X JOB_FATAL
#define FINAL(st) { \
	{ R, 1, 0 }, { st, 0, 0 }, { R, 1, 0 }, { st, 0, 0 }, { st, 0, 0 }, \
	{ st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 }, { st, 0, 0 } }

static const struct cell expected[_JOB_STATE_MAX][_JOB_IN_MAX] = {
	/*        START         STOP          RESTART       SLOT        EXITED      TIMER          RELOAD        RETIRE        SHUTDOWN      READY        REQUIREMENT  FAIL         STOPPING */
	[S] = FINAL(S),
	[Q] = { { Q, 0, 0 }, { S, 0, 0 }, { Q, 0, 0 }, { R, 1, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { S, 0, 0 }, { S, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 }, { Q, 0, 0 } },
	[W] = { { W, 0, 0 }, { S, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { W, 0, 0 }, { S, 0, 0 }, { S, 0, 0 }, { W, 0, 0 }, { R, 1, 0 }, { W, 0, 0 }, { W, 0, 0 } },
	[T] = { { T, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { T, 0, 0 }, { B, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { R, 0, 0 }, { T, 0, 0 }, { P, 0, TERM }, { P, 0, 0 } },
	[R] = { { R, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { R, 0, 0 }, { B, 0, 0 }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { P, 0, TERM }, { R, 0, 0 }, { R, 0, 0 }, { P, 0, TERM }, { P, 0, 0 } },
	[P] = { { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { S, 0, 0 }, { P, 0, KILL }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 }, { P, 0, 0 } },
	[B] = { { B, 0, 0 }, { S, 0, 0 }, { R, 1, 0 }, { B, 0, 0 }, { B, 0, 0 }, { R, 1, 0 }, { B, 0, 0 }, { S, 0, 0 }, { S, 0, 0 }, { B, 0, 0 }, { B, 0, 0 }, { B, 0, 0 }, { B, 0, 0 } },
	[E] = FINAL(E),
	[F] = FINAL(F),
	[X] = FINAL(X),
};

/* One loop iteration per cell: _i = state * _JOB_IN_MAX + input. */
START_TEST(test_matrix)
{
	enum job_state st = (enum job_state) (_i / _JOB_IN_MAX);
	enum job_input in = (enum job_input) (_i % _JOB_IN_MAX);
	const struct cell *want = &expected[st][in];
	struct job *j = reach(st);
	int spawns = sys.spawns, signals = sys.n_signals;
	bool held_slot = j->slot.in_slot;

	deliver(j, in);
	ck_assert_msg(j->state == want->to, "%s x %s: %s, expected %s", job_state_to_string(st),
		      job_input_to_string(in), job_state_to_string(j->state), job_state_to_string(want->to));
	ck_assert_msg(sys.spawns - spawns == want->spawns, "%s x %s: %d spawns, expected %d",
		      job_state_to_string(st), job_input_to_string(in), sys.spawns - spawns, want->spawns);
	if (want->signal) {
		ck_assert_msg(sys.n_signals > signals && sys.last_signal == want->signal, "%s x %s: signal %d, expected %d",
			      job_state_to_string(st), job_input_to_string(in), sys.last_signal, want->signal);
	} else
		ck_assert_msg(sys.n_signals == signals, "%s x %s: a signal was sent", job_state_to_string(st),
			      job_input_to_string(in));
	/* the invariants every cell keeps */
	ck_assert(!j->slot.queued || j->state == JOB_QUEUED);
	if (j->slot.in_slot)
		ck_assert(job_is_batch(j) && (j->state == JOB_STARTING || j->state == JOB_RUNNING ||
					      j->state == JOB_STOPPING));
	if (in == JOB_IN_SLOT && !held_slot && st != JOB_QUEUED)
		ck_assert_msg(!j->slot.in_slot, "%s x slot: the slot was kept", job_state_to_string(st));
	ck_assert(job_is_active(j) == (j->state == JOB_STARTING || j->state == JOB_RUNNING ||
				       j->state == JOB_STOPPING));
	ck_assert(!j->slot.in_slot || j->state != JOB_WAITING);
	unsigned total = 0;
	for (int s = 0; s < _JOB_STATE_MAX; s++)
		total += host.counts[s];
	ck_assert_uint_eq(total, n_jobs);
	ck_assert_uint_ge(host.counts[j->state], 1);
	if (in == JOB_IN_RELOAD && !job_is_active(j))
		ck_assert_msg(strstr(j->config->command, "false"), "%s x reload: the new config is not applied",
			      job_state_to_string(st));
}
END_TEST

/* ---- what follows some cells, to the end of the run ---- */

START_TEST(test_restart_starts_again_without_stopped_event)
{
	struct job *j = reach(JOB_RUNNING);
	int stopped = seen.stopped_events;
	ck_assert_int_eq(job_restart(j), 0);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert_int_eq(sys.spawns, 2);
	ck_assert_int_eq(seen.stopped_events, stopped);
	ck_assert_uint_eq(j->run.id, 2);
}
END_TEST

START_TEST(test_stop_ends_stopped_with_kill)
{
	struct job *j = reach(JOB_STOPPING);
	job_handle(j, JOB_IN_TIMER);       /* stop_timeout */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert(j->kill_sent);
	run_ends(j, W_EXITCODE(0, SIGKILL));
	ck_assert_int_eq(j->state, JOB_STOPPED);
	ck_assert_int_eq(j->run.signal, SIGKILL);
	ck_assert_int_eq(j->want, WANT_DOWN);
}
END_TEST

START_TEST(test_stopping_waits_for_scope)
{
	struct job *j = reach(JOB_STOPPING);
	/* the stage is gone but something of the run is left: not stopped yet */
	job_stage_exited(j, 0, W_EXITCODE(0, SIGTERM), NULL);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	sys.alive = false;
	job_recheck_scope(j);
	ck_assert_int_eq(j->state, JOB_STOPPED);
}
END_TEST

START_TEST(test_leftovers_killed_at_run_end)
{
	struct job *j = reach(JOB_RUNNING);
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);   /* sys.alive: a process is left */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_BACKOFF);
}
END_TEST

START_TEST(test_reload_restarts_with_new_config)
{
	struct job *j = reach(JOB_RUNNING);
	ck_assert(job_reconfigure(j, config_find_job(conf2, "svc")));
	ck_assert(strstr(j->config->command, "true"));    /* applied when the run ends */
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert(strstr(j->config->command, "false"));
	/* the same config again changes nothing */
	ck_assert(!job_reconfigure(j, config_find_job(conf2, "svc")));
	ck_assert_int_eq(j->state, JOB_RUNNING);
}
END_TEST

START_TEST(test_retired_and_shutdown_never_restart)
{
	struct job *j = reach(JOB_RUNNING);
	job_retire(j);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_STOPPED);
	ck_assert_int_eq(job_want_up(j), -ESTALE);

	struct job *k = add("batch");
	ck_assert_int_eq(job_want_up(k), 0);
	host.shutting_down = true;
	job_shutdown(k);
	ck_assert_int_eq(job_want_up(k), -ESHUTDOWN);
	ck_assert_int_eq(job_restart(k), -ESHUTDOWN);
	run_ends(k, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(k->state, JOB_STOPPED);
}
END_TEST

START_TEST(test_timeout_fails_the_run)
{
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	job_handle(j, JOB_IN_TIMER);
	ck_assert(j->run.timed_out);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_int_eq(j->run.exit_status, 124);
}
END_TEST

START_TEST(test_start_while_stopping_comes_back)
{
	struct job *j = reach(JOB_STOPPING);
	ck_assert_int_eq(job_want_up(j), 0);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->state, JOB_RUNNING);
}
END_TEST

START_TEST(test_queue_hands_the_slot_on)
{
	struct job *j = reach(JOB_QUEUED);
	struct job *blocker = jobs[0];
	run_ends(blocker, W_EXITCODE(0, 0));
	ck_assert_int_eq(blocker->state, JOB_EXITED);
	ck_assert_int_eq(j->state, JOB_QUEUED);     /* handed on from the event loop */
	ck_assert_int_ge(sd_event_run(event, 0), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert(j->slot.in_slot);
}
END_TEST

START_TEST(test_start_limit_goes_fatal)
{
	struct job *j = reach(JOB_RUNNING);
	for (int i = 0; i < 10 && j->state != JOB_FATAL; i++) {
		run_ends(j, W_EXITCODE(1, 0));
		if (j->state == JOB_BACKOFF)
			job_handle(j, JOB_IN_TIMER);
		sys.now += USEC_PER_MSEC;
	}
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert(strstr(j->run.error, "start limit"));
	ck_assert_int_eq(j->want, WANT_DOWN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("matrix");
	SRunner *sr;
	int failed;

	log_init("test-job", LOG_TARGET_STDERR, LOG_WARNING);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_matrix, 0, _JOB_STATE_MAX * _JOB_IN_MAX);
	suite_add_tcase(s, tc);

	tc = tcase_create("runs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_restart_starts_again_without_stopped_event);
	tcase_add_test(tc, test_stop_ends_stopped_with_kill);
	tcase_add_test(tc, test_stopping_waits_for_scope);
	tcase_add_test(tc, test_leftovers_killed_at_run_end);
	tcase_add_test(tc, test_reload_restarts_with_new_config);
	tcase_add_test(tc, test_retired_and_shutdown_never_restart);
	tcase_add_test(tc, test_timeout_fails_the_run);
	tcase_add_test(tc, test_start_while_stopping_comes_back);
	tcase_add_test(tc, test_queue_hands_the_slot_on);
	tcase_add_test(tc, test_start_limit_goes_fatal);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
