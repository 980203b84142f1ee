# SPDX-License-Identifier: ISC
"""Restart policies, backoff and start_limit."""
import json
import os
import signal
import time
import unittest

from supdtest import SupdCase, T_LONG, alive, parse_time


class AlwaysTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300
        restart = always
        restart_delay = 50ms

        [job:oneshot]
        command = true
        restart = always
        restart_delay = 100ms
        start_limit = 0
        autostart = false
        """

    def test_respawn_after_kill(self):
        j0 = self.wait_running("svc")
        p1 = j0["pid"]
        os.kill(p1, signal.SIGKILL)
        j = self.wait_job("svc", lambda j: j["state"] == "running" and j["pid"] not in (None, p1),
                          what="respawned with a new pid")
        self.assertGreaterEqual(j["restarts"], 1, self.msg(json.dumps(j)))
        self.assertGreater(j["run"], j0["run"])
        p2 = j["pid"]
        os.kill(p2, signal.SIGKILL)
        j = self.wait_job("svc", lambda j: j["state"] == "running" and j["pid"] not in (None, p1, p2),
                          what="respawned again")
        self.assertGreaterEqual(j["restarts"], 2, self.msg(json.dumps(j)))

    def test_always_restarts_after_success_too(self):
        self.ctl("start", "oneshot")
        self.wait_job("oneshot", lambda j: j["restarts"] >= 2, what="two restarts")
        self.ctl("stop", "oneshot", check=0)
        j = self.job("oneshot")
        self.assertEqual(j["state"], "stopped")
        r = j["run"]
        time.sleep(0.5)
        self.assertEqual(self.job("oneshot")["run"], r, "no restart after stop")

    def test_stop_is_not_restarted(self):
        p1 = self.wait_running("svc")["pid"]
        self.ctl("stop", "svc", check=0)
        time.sleep(0.5)          # 10 restart_delays
        j = self.job("svc")
        self.assertEqual((j["state"], j["pid"]), ("stopped", None), self.msg(json.dumps(j)))
        self.assertFalse(alive(p1))


class OnFailureTest(SupdCase):
    CONFIG = """
        [job:fail]
        command = sh -c 'exit 1'
        restart = on-failure
        restart_delay = 50ms
        start_limit = 3/10s
        autostart = false

        [job:succeed]
        command = sh -c 'exit 0'
        restart = on-failure
        restart_delay = 50ms
        autostart = false

        [job:flap]
        command = sh -c 'exit 1'
        restart = on-failure
        restart_delay = 200ms
        restart_max_delay = 10s
        start_limit = 0
        autostart = false

        [job:slowflap]
        command = sh -c 'exit 1'
        restart = on-failure
        restart_delay = 1s
        start_limit = 0
        autostart = false
        """

    def test_start_limit_makes_fatal_and_keeps_exit_code(self):
        self.ctl("start", "fail")
        j = self.wait_state("fail", "fatal")
        self.assertEqual(j["exit_code"], 1, self.msg(f"fatal keeps the last run's exit code: {j}"))
        self.assertEqual(j["restarts"], 2,
                         self.msg(f"start_limit = 3/10s: 3 starts, i.e. 2 restarts: {j}"))
        self.assertIsNone(j["pid"])
        self.ctl("wait", "fail", check=1)
        time.sleep(0.5)
        j2 = self.job("fail")
        self.assertEqual((j2["state"], j2["run"]), ("fatal", j["run"]), "fatal means no more starts")

    def test_success_is_not_restarted(self):
        self.ctl("start", "succeed")
        j = self.wait_state("succeed", "exited", "failed", "fatal")
        self.assertEqual((j["state"], j["exit_code"]), ("exited", 0), self.msg(json.dumps(j)))
        time.sleep(1.0)          # 20 restart_delays
        j2 = self.job("succeed")
        self.assertEqual((j2["state"], j2["run"], j2["restarts"]), ("exited", j["run"], 0),
                         self.msg(json.dumps(j2)))

    def test_backoff_delays_grow(self):
        """restart_delay = 200ms, doubling: gaps of about 0.2, 0.4, 0.8 s."""
        self.ctl("start", "flap")
        runs = {}                # run number -> (started_at, ended_at)
        deadline = time.monotonic() + T_LONG

        def have_three_gaps():
            nums = sorted(n for n, (_, e) in runs.items() if e)
            return len(nums) >= 4 and nums[3] - nums[0] == 3

        while not have_three_gaps() and time.monotonic() < deadline:
            j = self.job("flap")
            if isinstance(j["run"], int) and j["started_at"]:
                runs[j["run"]] = (j["started_at"], j["ended_at"])
            time.sleep(0.02)
        self.ctl("stop", "flap", check=0)
        self.assertTrue(have_three_gaps(), self.msg(f"did not see 4 consecutive runs: {runs}"))
        first = min(runs)
        gaps = []
        for n in range(first, first + 3):
            gaps.append(parse_time(runs[n + 1][0]) - parse_time(runs[n][1]))
        desc = ", ".join(f"{g:.3f}s" for g in gaps)
        self.assertGreaterEqual(gaps[0], 0.15, f"first delay is restart_delay (gaps {desc})")
        self.assertGreaterEqual(gaps[1], 0.30, f"second delay doubles (gaps {desc})")
        self.assertGreaterEqual(gaps[2], 0.60, f"third delay doubles again (gaps {desc})")
        self.assertGreater(gaps[2], gaps[0] * 1.5, f"delays grow (gaps {desc})")
        for g in gaps:
            self.assertLess(g, 10 + 5, f"delay beyond restart_max_delay (gaps {desc})")

    def test_stop_during_backoff(self):
        self.ctl("start", "slowflap")
        j = self.wait_state("slowflap", "backoff")
        self.ctl("stop", "slowflap", check=0)
        j = self.job("slowflap")
        self.assertEqual(j["state"], "stopped", self.msg(json.dumps(j)))
        r = j["run"]
        time.sleep(2.0)          # twice the pending restart_delay
        j = self.job("slowflap")
        self.assertEqual((j["state"], j["run"]), ("stopped", r), "stopped in backoff: no restart")

    def test_start_resets_fatal(self):
        self.ctl("start", "fail")
        j = self.wait_state("fail", "fatal")
        self.ctl("start", "fail")
        j2 = self.wait_job("fail", lambda x: x["run"] > j["run"], what="a new run after start")
        self.wait_state("fail", "fatal")


if __name__ == "__main__":
    unittest.main(verbosity=2)
