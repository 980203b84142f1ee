/* SPDX-License-Identifier: ISC */
/* Unit tests for the restart/backoff decision (daemon/policy.c). */
#include <check.h>
#include "policy.h"

static struct job_config cfg(enum restart_policy p) {
	static int ok0[] = { 0 };
	struct job_config jc = {
		.restart = p,
		.restart_delay = 100 * USEC_PER_MSEC,
		.restart_max_delay = 30 * USEC_PER_SEC,
		.start_limit_burst = 5,
		.start_limit_interval = 10 * USEC_PER_SEC,
		.success_exit = ok0,
		.n_success_exit = 1,
	};
	return jc;
}

static struct policy_input failed_quickly(usec_t prev_delay, unsigned starts) {
	return (struct policy_input) { .want_up = true, .success = false, .run_duration = 10 * USEC_PER_MSEC,
				       .prev_delay = prev_delay, .starts_in_window = starts };
}

START_TEST(test_restart_no_never_restarts) {
	struct job_config jc = cfg(RESTART_NO);
	struct policy_input in = failed_quickly(0, 1);
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_FAILED);
	in.success = true;
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_EXITED);
}
END_TEST

START_TEST(test_on_failure) {
	struct job_config jc = cfg(RESTART_ON_FAILURE);
	struct policy_input in = failed_quickly(0, 1);
	struct policy_result r = policy_decide(&jc, &in);
	ck_assert_int_eq(r.action, POLICY_BACKOFF);
	ck_assert_uint_eq(r.delay, 100 * USEC_PER_MSEC);
	in.success = true;
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_EXITED);
}
END_TEST

START_TEST(test_always_restarts_success_too) {
	struct job_config jc = cfg(RESTART_ALWAYS);
	struct policy_input in = failed_quickly(0, 1);
	in.success = true;
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_BACKOFF);
}
END_TEST

START_TEST(test_want_down_finishes) {
	struct job_config jc = cfg(RESTART_ALWAYS);
	struct policy_input in = failed_quickly(0, 1);
	in.want_up = false;
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_FAILED);
}
END_TEST

START_TEST(test_backoff_doubles_to_max) {
	struct job_config jc = cfg(RESTART_ALWAYS);
	jc.start_limit_burst = 0;
	usec_t d = 0;
	usec_t expect[] = { 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000 };
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		struct policy_input in = failed_quickly(d, 1);
		struct policy_result r = policy_decide(&jc, &in);
		ck_assert_int_eq(r.action, POLICY_BACKOFF);
		ck_assert_uint_eq(r.delay, expect[i] * USEC_PER_MSEC);
		d = r.delay;
	}
}
END_TEST

START_TEST(test_long_run_resets_backoff) {
	struct job_config jc = cfg(RESTART_ALWAYS);
	struct policy_input in = failed_quickly(12800 * USEC_PER_MSEC, 1);
	in.run_duration = 31 * USEC_PER_SEC;
	ck_assert_uint_eq(policy_decide(&jc, &in).delay, 100 * USEC_PER_MSEC);
	in.run_duration = 29 * USEC_PER_SEC;   /* not long enough */
	ck_assert_uint_eq(policy_decide(&jc, &in).delay, 25600 * USEC_PER_MSEC);
}
END_TEST

START_TEST(test_zero_delay) {
	struct job_config jc = cfg(RESTART_ALWAYS);
	jc.restart_delay = 0;
	struct policy_input in = failed_quickly(0, 1);
	struct policy_result r = policy_decide(&jc, &in);
	ck_assert_int_eq(r.action, POLICY_BACKOFF);
	ck_assert_uint_eq(r.delay, 0);
}
END_TEST

START_TEST(test_start_limit) {
	struct job_config jc = cfg(RESTART_ON_FAILURE);
	struct policy_input in = failed_quickly(100 * USEC_PER_MSEC, 4);
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_BACKOFF);
	in.starts_in_window = 5;   /* a sixth start would exceed 5/10s */
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_FATAL);
	jc.start_limit_burst = 0;  /* no limit */
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_BACKOFF);
	in.success = true;         /* success under on-failure: no restart, no fatal */
	jc.start_limit_burst = 5;
	ck_assert_int_eq(policy_decide(&jc, &in).action, POLICY_EXITED);
}
END_TEST

/* A run a stop ended: stopped, or started again right away when the user
 * still wants it up (restart, reload); never after shutdown or removal,
 * whatever the restart policy and however the run ended. */
START_TEST(test_stop_ended_run) {
	static const enum restart_policy policies[] = { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };
	for (size_t p = 0; p < ELEMENTSOF(policies); p++)
		for (int bits = 0; bits < 32; bits++) {
			struct job_config jc = cfg(policies[p]);
			struct policy_input in = failed_quickly(0, 9);
			in.stop_requested = bits & 1;
			in.shutting_down = bits & 2;
			in.removed = bits & 4;
			in.want_up = bits & 8;
			in.success = bits & 16;
			if (!in.stop_requested && !in.shutting_down && !in.removed)
				continue;
			enum policy_action want = in.want_up && !in.shutting_down && !in.removed
				? POLICY_RESTART_NOW : POLICY_STOPPED;
			ck_assert_int_eq(policy_decide(&jc, &in).action, want);
		}
}
END_TEST

START_TEST(test_success_exit_list) {
	struct job_config jc = cfg(RESTART_ON_FAILURE);
	int codes[] = { 0, 3, 255 };
	jc.success_exit = codes;
	jc.n_success_exit = 3;
	ck_assert(policy_exit_is_success(&jc, 0));
	ck_assert(policy_exit_is_success(&jc, 3));
	ck_assert(policy_exit_is_success(&jc, 255));
	ck_assert(!policy_exit_is_success(&jc, 1));
	ck_assert(!policy_exit_is_success(&jc, -1));
}
END_TEST

int main(void) {
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("decide");
	tcase_add_test(tc, test_restart_no_never_restarts);
	tcase_add_test(tc, test_on_failure);
	tcase_add_test(tc, test_always_restarts_success_too);
	tcase_add_test(tc, test_want_down_finishes);
	tcase_add_test(tc, test_backoff_doubles_to_max);
	tcase_add_test(tc, test_long_run_resets_backoff);
	tcase_add_test(tc, test_zero_delay);
	tcase_add_test(tc, test_start_limit);
	tcase_add_test(tc, test_stop_ended_run);
	tcase_add_test(tc, test_success_exit_list);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
