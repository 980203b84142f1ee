# SPDX-License-Identifier: ISC
"""The integration suite against supd under valgrind memcheck.

Run by `make check-valgrind`, which sets SUPD to tests/supd-valgrind (supd
under memcheck: any error or definite leak makes it exit 99, and every test
checks that supd exits 0 on SIGTERM), SUPCTL, SUPD_SRCDIR and
SUPD_TEST_TIMEOUT_SCALE.

  SUPD_VALGRIND_TESTS   space-separated module names (test_commands ...) to
                        run instead of the whole suite
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "..", "integration")

# Tests left out under valgrind rather than weakened, with the reason:
# supd's peak RSS under valgrind is valgrind's own memory (shadow state,
# translations); the others meet limits of valgrind's emulation.
EXCLUDE = {
    "test_batch.QueueTest.test_queued_instances_drain": "measures RSS",
    "test_logs_events.BigOutputTest.test_job_writing_100mb": "measures RSS",
    "test_logs_events.EventsTest.test_slow_subscriber_is_dropped": "measures RSS",
    # valgrind runs the child of a clone() itself until it execs, and its
    # setrlimit(RLIMIT_NOFILE) refuses what the kernel would allow
    "test_limits.LimitsTest.test_limits_in_proc": "valgrind emulates setrlimit in the child",
    # valgrind itself (even --tool=none) dies of SIGSEGV once clone() fails
    # with EAGAIN under RLIMIT_NPROC; the test passes plain and under ASan
    "test_faults.ForkFailTest.test_fork_failure_is_reported_and_supd_recovers":
        "valgrind crashes on a failed clone",
    # 200,000 jobs: a stack depth test, minutes of CPU under valgrind
    "test_deps_hostile.LongChainTest.test_start_pulls_in_the_whole_chain": "200,000 jobs",
}


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main():
    sys.path.insert(0, SUITE)
    loader = unittest.TestLoader()
    wanted = os.environ.get("SUPD_VALGRIND_TESTS", "").split()
    if wanted:
        suite = loader.loadTestsFromNames(wanted)
    else:
        suite = loader.discover(SUITE, pattern="test_*.py", top_level_dir=SUITE)
    tests = [t for t in flatten(suite) if t.id() not in EXCLUDE]
    excluded = [t.id() for t in flatten(suite) if t.id() in EXCLUDE] if not wanted else []
    for t in excluded:
        print(f"check-valgrind: not run ({EXCLUDE[t]}): {t}")
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(tests))
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    print(f"check-valgrind: {result.testsRun - bad - skipped} passed, {bad} failed, {skipped} skipped")
    if result.testsRun == 0:
        print("check-valgrind: no test ran", file=sys.stderr)
        return 1
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
