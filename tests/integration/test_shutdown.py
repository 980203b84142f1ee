# SPDX-License-Identifier: ISC
"""Shutdown (SIGTERM, SIGINT, supctl shutdown) and daemon start-up options."""
import os
import signal
import socket
import time
import unittest

from supdtest import (SupdCase, T_LONG, T_SHORT, alive, group_members, proc_stat,
                      start_time, wait_for)


class ShutdownTest(SupdCase):
    CONFIG = """
        [job:many]
        command = sleep 300
        instances = 25

        [job:svc]
        command = sleep 300
        restart = always
        """

    def record_children(self):
        names = [f"many@{i}" for i in range(25)] + ["svc"]
        st = {}
        for n in names:
            st[n] = self.wait_running(n)
        procs = {}
        for j in st.values():
            p = j["pid"]
            procs[p] = (start_time(p), proc_stat(p)[2])
        self.assertEqual(len(procs), 26)
        return procs

    def assert_clean_exit(self, procs, how, t0):
        rc = self.wait_daemon_exit(T_LONG)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, self.msg(f"supd exit status after {how}"))
        self.assertLess(elapsed, 15, self.msg(f"supd took {elapsed:.1f}s to shut down"))
        self.assertFalse(os.path.exists(self.sock), "the socket file is removed")
        left = lambda: [p for p, (t, _) in procs.items() if alive(p, t)]
        self.assertTrue(wait_for(lambda: not left(), T_SHORT), f"children survived: {left()}")
        groups = {g for _, g in procs.values()}
        self.assertTrue(wait_for(lambda: not any(group_members(g) for g in groups), T_SHORT),
                        "processes of the jobs' groups survived")

    def test_sigterm(self):
        procs = self.record_children()
        t0 = time.monotonic()
        os.kill(self.supd_pid(), signal.SIGTERM)
        self.assert_clean_exit(procs, "SIGTERM", t0)

    def test_sigint(self):
        procs = self.record_children()
        t0 = time.monotonic()
        os.kill(self.supd_pid(), signal.SIGINT)
        self.assert_clean_exit(procs, "SIGINT", t0)

    def test_supctl_shutdown(self):
        procs = self.record_children()
        t0 = time.monotonic()
        self.ctl("shutdown", check=0)
        self.assert_clean_exit(procs, "supctl shutdown", t0)

    def test_runs_recorded_at_shutdown(self):
        self.record_children()
        os.kill(self.supd_pid(), signal.SIGTERM)
        self.assertEqual(self.wait_daemon_exit(T_LONG), 0, self.msg("exit status"))
        self.start_daemon()
        runs = self.history("many@3")
        self.assertEqual(len(runs), 1, runs)
        self.assertEqual(runs[0]["signal"], "TERM", runs)
        self.assertIsNotNone(runs[0]["ended_at"])


class StubbornShutdownTest(SupdCase):
    CONFIG = """
        [job:stubborn]
        command = sh -c 'trap "" TERM; sleep 300 & touch {d}/ready; wait'
        stop_timeout = 1s

        [job:plain]
        command = sleep 300
        """

    def test_term_ignoring_job_is_killed_after_stop_timeout(self):
        self.wait_file(f"{self.d}/ready")
        pid = self.wait_running("stubborn")["pid"]
        pgid = proc_stat(pid)[2]
        members = wait_for(lambda: len(group_members(pgid)) >= 2 and group_members(pgid))
        self.assertTrue(members, f"sh and sleep expected in group {pgid}")
        recorded = {p: start_time(p) for p in members}
        plain = self.wait_running("plain")["pid"]
        recorded[plain] = start_time(plain)
        t0 = time.monotonic()
        os.kill(self.supd_pid(), signal.SIGTERM)
        rc = self.wait_daemon_exit(T_LONG)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, self.msg("supd exit status"))
        self.assertGreaterEqual(elapsed, 0.8, "SIGKILL only after stop_timeout")
        self.assertFalse(os.path.exists(self.sock))
        self.assertTrue(wait_for(lambda: not any(alive(p, t) for p, t in recorded.items())),
                        f"survivors: {[p for p, t in recorded.items() if alive(p, t)]}")
        self.assertTrue(wait_for(lambda: not group_members(pgid)))
        # the run was recorded with its SIGKILL
        self.start_daemon()
        runs = self.history("stubborn")
        self.assertTrue(runs, "the run killed at shutdown is in the history")
        self.assertEqual(runs[-1]["signal"], "KILL", runs)


class DaemonOptionsTest(SupdCase):
    START_DAEMON = False
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def test_socket_option_overrides_config(self):
        configured = self.sock
        self.sock = os.path.join(self.d, "other.sock")
        self.start_daemon(extra_args=["--socket", self.sock])
        self.assertFalse(os.path.exists(configured))
        self.wait_running("svc")

    def test_stale_socket_file_is_replaced(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock)
        s.close()
        self.start_daemon()
        self.wait_running("svc")


if __name__ == "__main__":
    unittest.main(verbosity=2)
