/* SPDX-License-Identifier: ISC */
/* Unit tests for the job state machine (daemon/job.c), driven without
 * processes (tests/job-fake.h): runs in cgroups (SPEC §8) through the
 * scope seam, and SPEC §7: requirements, readiness, the run hooks,
 * deadlines moved by EXTEND_TIMEOUT_USEC, STOPPING=1, RELOADING=1, runs
 * ended as failed. The matrix is in tests/test-job.c. */
#include "job-fake.h"

/* ---- runs in cgroups (SPEC §8), through the scope seam ---- */

START_TEST(test_cgroup_run_ends_when_empty)
{
	sys.cgroup = true;
	sys.usage = (struct cgroup_usage) { .cpu = true, .cpu_user = 3 * USEC_PER_SEC, .cpu_sys = 2,
					    .memory_peak_kb = 1234, .oom_killed = 0 };
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(sys.opens, 1);
	/* the stage is gone, a setsid() child is left in the cgroup: killed,
	 * and the run waits for the cgroup to empty */
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(job_is_active(j));
	sys.ev->changed(sys.ev_userdata);     /* cgroup.events: still populated */
	ck_assert_int_eq(j->state, JOB_STOPPING);
	sys.alive = false;
	sys.ev->changed(sys.ev_userdata);     /* populated 0 */
	ck_assert_int_eq(j->state, JOB_EXITED);
	ck_assert_int_eq(sys.closes, 1);
	ck_assert(j->run.success);
	ck_assert_ptr_null(j->run.error);
	/* the cgroup's accounting, escaped processes included */
	ck_assert_uint_eq(j->run.cpu_user, 3 * USEC_PER_SEC);
	ck_assert_uint_eq(j->run.cpu_sys, 2);
	ck_assert_int_eq(j->run.memory_peak_kb, 1234);
	ck_assert_int_eq(j->run.oom_killed, 0);
}
END_TEST

START_TEST(test_cgroup_processes_left_after_kill)
{
	sys.cgroup = true;
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);   /* leftovers: SIGKILL, stopping */
	ck_assert(j->kill_sent);
	int signals = sys.n_signals;
	/* stop_timeout later the cgroup is still populated (D state) */
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(sys.n_signals, signals);
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_str_eq(j->run.error, "processes left after SIGKILL");
	ck_assert(!j->run.success);
	ck_assert_int_eq(sys.closes, 1);    /* closed: the real one keeps the cgroup */
	/* a kept cgroup holds the job back: its next start fails with the reason */
	sys.open_fails = true;
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert(strstr(j->run.error, "needs the memory controller"));
	ck_assert_int_eq(sys.spawns, 1);
}
END_TEST

START_TEST(test_cgroup_stop_escalates_then_abandons)
{
	sys.cgroup = true;
	struct job *j = reach(JOB_STOPPING);
	job_handle(j, JOB_IN_TIMER);       /* stop_timeout: cgroup.kill */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(j->timer && job_is_active(j));
	job_handle(j, JOB_IN_TIMER);       /* stop_timeout after it: the stage itself never died */
	ck_assert_int_eq(j->state, JOB_STOPPED);
	ck_assert_str_eq(j->run.error, "processes left after SIGKILL");
	ck_assert(j->run.stages[0].done);
	ck_assert_int_eq(j->run.stages[0].signal, SIGKILL);
	ck_assert_uint_eq(j->run.n_alive, 0);
	/* its late exit changes nothing */
	ck_assert(!job_is_active(j));
}
END_TEST

START_TEST(test_cgroup_oom_stop)
{
	sys.cgroup = true;
	struct job *j = reach(JOB_RUNNING);
	sys.ev->oom(sys.ev_userdata);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_int_eq(sys.last_signal, SIGTERM);
	ck_assert(strstr(j->run.error, "OOM killer"));
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert(!j->run.success);
	ck_assert_int_eq(j->state, JOB_BACKOFF);   /* restart = always: a failure, restarted */
	ck_assert(!j->stop_by_user);
}
END_TEST

START_TEST(test_no_cgroup_as_before)
{
	struct job *j = reach(JOB_RUNNING);
	ck_assert_ptr_null(j->scope.cgroup);
	job_stage_exited(j, 0, W_EXITCODE(0, 0), NULL);   /* leftovers: killed, the run ends at once */
	ck_assert_int_eq(sys.last_signal, SIGKILL);
	ck_assert_int_eq(j->state, JOB_BACKOFF);
	ck_assert_int_eq(sys.opens + sys.closes, 0);
	ck_assert_int_eq(j->run.memory_peak_kb, -1);
	ck_assert_int_eq(j->run.oom_killed, -1);
}
END_TEST

START_TEST(test_cgroup_spawn_failure_closes_it)
{
	sys.cgroup = true;
	sys.spawn_fails = true;
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert_int_eq(sys.opens, 1);
	ck_assert_int_eq(sys.closes, 1);
	ck_assert_int_eq(sys.last_signal, SIGKILL);    /* anything a stage forked first */
}
END_TEST

/* ---- SPEC §7: requirements, readiness, runs ended as failed ---- */

START_TEST(test_requirement_failed_goes_fatal_without_a_run)
{
	struct job *j = add("dep");
	req_answer = JOB_REQ_HOLD;
	ck_assert_int_eq(job_want_up(j), 0);
	run_ends(j, W_EXITCODE(0, 0));
	ck_assert_int_eq(j->state, JOB_EXITED);
	ck_assert_int_eq(job_want_up(j), 0);
	run_ends(j, W_EXITCODE(3, 0));        /* run 2 failed with 3 */
	req_answer = JOB_REQ_WAIT;
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_WAITING);
	ck_assert(!j->slot.in_slot && !j->slot.queued);
	int spawns = sys.spawns, exited = seen.events[JOB_EVENT_EXITED];
	req_answer = JOB_REQ_FAILED;
	job_handle(j, JOB_IN_REQUIREMENT);
	ck_assert_int_eq(j->state, JOB_FATAL);
	ck_assert_str_eq(j->run.error, "requirement svc failed");
	ck_assert_int_eq(j->want, WANT_DOWN);
	ck_assert_int_eq(sys.spawns, spawns);
	ck_assert_int_eq(seen.events[JOB_EVENT_EXITED], exited);   /* no run recorded */
	ck_assert_uint_eq(j->run.id, 2);                           /* the last run's fields stay */
	ck_assert_int_eq(j->run.exit_code, 3);
	/* a later start tries again */
	req_answer = JOB_REQ_HOLD;
	ck_assert_int_eq(job_want_up(j), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);
}
END_TEST

START_TEST(test_queued_goes_back_to_waiting)
{
	struct job *j = reach(JOB_QUEUED);   /* "batch" has no requires: asks nothing */
	ck_assert_int_eq(req_asked, 0);
	struct job *d = add("dep");
	req_answer = JOB_REQ_HOLD;
	ck_assert_int_eq(job_want_up(d), 0);
	ck_assert_int_eq(d->state, JOB_QUEUED);   /* the blocker holds the one slot */
	req_answer = JOB_REQ_WAIT;
	job_handle(d, JOB_IN_REQUIREMENT);
	ck_assert_int_eq(d->state, JOB_WAITING);
	ck_assert(!d->slot.queued);
	/* the blocker's slot goes to batch, not to the waiting job */
	run_ends(jobs[0], W_EXITCODE(0, 0));
	ck_assert_int_ge(sd_event_run(event, 0), 0);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert_int_eq(d->state, JOB_WAITING);
}
END_TEST

START_TEST(test_failed_run_fails_whatever_its_exit)
{
	struct job *j = add("batch");
	ck_assert_int_eq(job_want_up(j), 0);
	job_fail_run(j, "watchdog timeout");
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_int_eq(sys.last_signal, SIGTERM);
	job_fail_run(j, "unhealthy");              /* the first error stays */
	run_ends(j, W_EXITCODE(0, 0));             /* it exited 0 */
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert(!j->run.success);
	ck_assert_str_eq(j->run.error, "watchdog timeout");
	ck_assert_int_eq(j->run.exit_status, 0);
	/* no run, nothing happens */
	job_fail_run(j, "late");
	ck_assert_int_eq(j->state, JOB_FAILED);
	/* a service restarts by its policy */
	struct job *s = reach(JOB_RUNNING);
	job_fail_run(s, "unhealthy");
	run_ends(s, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(s->state, JOB_BACKOFF);
}
END_TEST

START_TEST(test_ready_timeout_and_readiness_seam)
{
	struct job *j = reach(JOB_STARTING);
	ck_assert_int_eq(watched.begin, 1);
	ck_assert(!j->ready);
	ck_assert_int_eq(j->health, JOB_HEALTH_UNKNOWN);   /* it has a health_command */
	sys.now += 5 * USEC_PER_SEC;
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_str_eq(j->run.error, "not ready within 5s");
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(watched.end, 1);
	ck_assert_int_eq(j->state, JOB_BACKOFF);          /* restart = always */
	ck_assert(!j->run.success);
	/* the next run becomes ready: the event, then health checks may begin */
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STARTING);
	int ready_events = seen.events[JOB_EVENT_READY];
	job_ready(j);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert(j->ready);
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 1);
	ck_assert_int_eq(watched.up, 1);
	job_ready(j);                                     /* once per run */
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 1);
	int health_events = seen.events[JOB_EVENT_HEALTH];
	job_set_health(j, JOB_HEALTH_HEALTHY);
	job_set_health(j, JOB_HEALTH_HEALTHY);
	ck_assert_int_eq(seen.events[JOB_EVENT_HEALTH], health_events + 1);
	job_set_status_text(j, "serving");
	ck_assert_str_eq(j->status_text, "serving");
}
END_TEST

START_TEST(test_plain_job_skips_the_seams)
{
	struct job *j = reach(JOB_RUNNING);
	ck_assert(j->ready);
	ck_assert_int_eq(j->health, JOB_HEALTH_NONE);
	run_ends(j, W_EXITCODE(1, 0));
	ck_assert_int_eq(watched.begin + watched.up + watched.end, 0);
	ck_assert_int_eq(req_asked, 0);
	ck_assert(!j->ready);
}
END_TEST

START_TEST(test_timeout_while_starting)
{
	struct job *j = reach(JOB_STARTING);
	/* the run's timeout, when it comes before ready_timeout, is a timeout */
	sys.now += 10 * USEC_PER_SEC;
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(j->run.timed_out);
	ck_assert(!j->run.failed_by_supd);
	run_ends(j, W_EXITCODE(0, SIGTERM));
	ck_assert_int_eq(j->run.exit_status, 124);
}
END_TEST

START_TEST(test_stopping_by_itself)
{
	struct job *j = reach(JOB_STARTING);
	ck_assert(sys.last_notify);                   /* ready = notify: a NOTIFY_SOCKET */
	ck_assert_int_eq(watched.prepare, 1);
	job_ready(j);
	int signals = sys.n_signals;
	sys.now += USEC_PER_SEC;
	job_stopping(j);                              /* STOPPING=1 */
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_int_eq(sys.n_signals, signals);     /* no signal */
	ck_assert(!j->stop_by_user);
	uint64_t when;
	ck_assert_int_ge(sd_event_source_get_time(j->timer, &when), 0);
	ck_assert_uint_eq(when, sys.now + 10 * USEC_PER_SEC);   /* stop_timeout (the default) from now */
	job_stopping(j);                              /* once */
	run_ends(j, W_EXITCODE(0, 0));
	ck_assert_int_eq(j->state, JOB_BACKOFF);      /* restart = always: not a user's stop */
}
END_TEST

START_TEST(test_extend_ready_timeout)
{
	struct job *j = reach(JOB_STARTING);         /* ready_timeout 5s, timeout 10s */
	uint64_t when;
	usec_t start = sys.now;
	sys.now += 4 * USEC_PER_SEC;
	ck_assert(job_extend_deadline(j, 3 * USEC_PER_SEC));
	ck_assert_int_ge(sd_event_source_get_time(j->timer, &when), 0);
	ck_assert_uint_eq(when, start + 7 * USEC_PER_SEC);
	ck_assert(job_extend_deadline(j, USEC_PER_SEC));   /* never earlier */
	ck_assert_int_ge(sd_event_source_get_time(j->timer, &when), 0);
	ck_assert_uint_eq(when, start + 7 * USEC_PER_SEC);
	ck_assert(job_extend_deadline(j, 30 * USEC_PER_SEC));   /* never past timeout */
	ck_assert_int_ge(sd_event_source_get_time(j->timer, &when), 0);
	ck_assert_uint_eq(when, start + 10 * USEC_PER_SEC);
	j->ready_deadline = start + 7 * USEC_PER_SEC;
	sys.now = start + 7 * USEC_PER_SEC;
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert_str_eq(j->run.error, "not ready within 5s");
	/* stopping: stop_timeout moves too */
	ck_assert(job_extend_deadline(j, 60 * USEC_PER_SEC));
	ck_assert_int_ge(sd_event_source_get_time(j->timer, &when), 0);
	ck_assert_uint_eq(when, sys.now + 60 * USEC_PER_SEC);
	ck_assert(job_extend_deadline(j, USEC_PER_SEC));   /* never shorter */
	ck_assert_int_ge(sd_event_source_get_time(j->timer, &when), 0);
	ck_assert_uint_eq(when, sys.now + 60 * USEC_PER_SEC);
}
END_TEST

START_TEST(test_extend_never_passes_timeout)
{
	struct job *j = reach(JOB_STARTING);
	ck_assert(job_extend_deadline(j, 60 * USEC_PER_SEC));
	sys.now += 10 * USEC_PER_SEC;                 /* the run's timeout */
	job_handle(j, JOB_IN_TIMER);
	ck_assert_int_eq(j->state, JOB_STOPPING);
	ck_assert(j->run.timed_out);
	/* running: the job's deadline is timeout, never extended here */
	struct job *k = reach(JOB_RUNNING);
	ck_assert(!job_extend_deadline(k, 60 * USEC_PER_SEC));
}
END_TEST

START_TEST(test_reloading_clears_ready)
{
	struct job *j = reach(JOB_STARTING);
	job_ready(j);
	int ready_events = seen.events[JOB_EVENT_READY];
	job_set_reloading(j, true);
	ck_assert(!j->ready);
	ck_assert_int_eq(j->state, JOB_RUNNING);
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 1);
	job_set_reloading(j, true);
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 1);
	job_set_reloading(j, false);
	ck_assert(j->ready);
	ck_assert_int_eq(seen.events[JOB_EVENT_READY], ready_events + 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("job-deps");
	TCase *tc;
	SRunner *sr;
	int failed;

	log_init("test-job-deps", LOG_TARGET_STDERR, LOG_WARNING);
	tc = tcase_create("cgroup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cgroup_run_ends_when_empty);
	tcase_add_test(tc, test_cgroup_processes_left_after_kill);
	tcase_add_test(tc, test_cgroup_stop_escalates_then_abandons);
	tcase_add_test(tc, test_cgroup_oom_stop);
	tcase_add_test(tc, test_no_cgroup_as_before);
	tcase_add_test(tc, test_cgroup_spawn_failure_closes_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("spec7");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_requirement_failed_goes_fatal_without_a_run);
	tcase_add_test(tc, test_queued_goes_back_to_waiting);
	tcase_add_test(tc, test_failed_run_fails_whatever_its_exit);
	tcase_add_test(tc, test_ready_timeout_and_readiness_seam);
	tcase_add_test(tc, test_plain_job_skips_the_seams);
	tcase_add_test(tc, test_timeout_while_starting);
	tcase_add_test(tc, test_stopping_by_itself);
	tcase_add_test(tc, test_extend_ready_timeout);
	tcase_add_test(tc, test_extend_never_passes_timeout);
	tcase_add_test(tc, test_reloading_clears_ready);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
