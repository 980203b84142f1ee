# SPDX-License-Identifier: ISC
"""Runs from start to end: timeouts, stop escalation, spawn failures,
success_exit, pipelines, accounting and the persistent run numbering."""
import json
import os
import time
import unittest

from supdtest import (SupdCase, T_SHORT, alive, descendants, group_members, proc_stat,
                      read_file, start_time, wait_for)


class TimeoutTest(SupdCase):
    CONFIG = """
        [job:slow]
        command = sleep 10
        timeout = 300ms
        autostart = false

        [job:deaf]
        command = sh -c 'trap "" TERM; while :; do sleep 0.1; done'
        timeout = 300ms
        stop_timeout = 300ms
        autostart = false
        """

    def test_timeout(self):
        t0 = time.monotonic()
        self.ctl("run", "slow", check=124)
        self.assertLess(time.monotonic() - t0, 9, "run waited for sleep 10 to end by itself")
        j = self.job("slow")
        self.assertIs(j["timed_out"], True, self.msg(json.dumps(j)))
        self.assertEqual(j["state"], "failed")
        self.assertGreaterEqual(j["duration_s"], 0.3, "the timeout counts from the start of the run")
        self.assertLess(j["duration_s"], 9)
        self.assertEqual(j["signal"], "TERM")
        rep = self.request({"cmd": "status", "jobs": ["slow"]})
        self.assertEqual(rep["jobs"][0]["exit_status"], 124)

    def test_timeout_escalates_to_kill(self):
        self.ctl("run", "deaf", check=124)
        j = self.job("deaf")
        self.assertEqual((j["state"], j["timed_out"], j["signal"]), ("failed", True, "KILL"),
                         self.msg(json.dumps(j)))
        self.assertTrue(wait_for(lambda: descendants(self.supd_pid()) == []),
                        self.msg(f"processes of the job remain: {descendants(self.supd_pid())}"))

    def test_wait_single_timed_out_job(self):
        self.ctl("start", "slow", check=0)
        self.ctl("wait", "slow", check=124)


class StopEscalationTest(SupdCase):
    CONFIG = """
        [job:stubborn]
        command = sh -c 'trap "" TERM; sleep 60 & sleep 60 & touch {d}/ready; wait'
        stop_timeout = 500ms
        autostart = false
        """

    def test_stop_escalates_to_kill_of_the_group(self):
        self.ctl("start", "stubborn", check=0)
        self.wait_file(f"{self.d}/ready")
        pid = self.job("stubborn")["pid"]
        st = proc_stat(pid)
        self.assertIsNotNone(st)
        pgid = st[2]
        self.assertNotEqual(pgid, os.getpgid(self.supd_pid()),
                            "a job runs in its own process group")
        members = wait_for(lambda: len(group_members(pgid)) >= 3 and group_members(pgid))
        self.assertTrue(members, f"expected sh + 2 sleeps in group {pgid}: {group_members(pgid)}")
        recorded = {p: start_time(p) for p in members}
        t0 = time.monotonic()
        self.ctl("stop", "stubborn", check=0)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.4, "SIGKILL must wait for stop_timeout")
        j = self.job("stubborn")
        self.assertEqual((j["state"], j["signal"], j["pid"]), ("stopped", "KILL", None),
                         self.msg(json.dumps(j)))
        self.assertTrue(wait_for(lambda: not group_members(pgid), T_SHORT),
                        self.msg(f"processes of group {pgid} survived: {group_members(pgid)}"))
        left = [p for p, t in recorded.items() if alive(p, t)]
        self.assertEqual(left, [], "every recorded process of the job is gone")


class SpawnFailureTest(SupdCase):
    CONFIG = """
        [job:missing]
        command = /nonexistent/prog --flag
        autostart = false

        [job:missing_auto]
        command = /nonexistent/prog2

        [job:baddir]
        command = true
        directory = {d}/no-such-dir
        autostart = false

        [job:badstage]
        command = sleep 300 | /nonexistent/stage2
        autostart = false
        """

    def test_missing_program_is_fatal_with_reason(self):
        self.ctl("start", "missing")
        j = self.wait_state("missing", "fatal", "failed", "exited")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        self.assertIsInstance(j["error"], str, self.msg(json.dumps(j)))
        self.assertIn("/nonexistent/prog", j["error"])
        self.assertIn("No such file or directory", j["error"])
        self.assertIsNone(j["pid"])

    def test_missing_program_at_autostart(self):
        j = self.wait_state("missing_auto", "fatal", "failed", "exited")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        self.assertIn("/nonexistent/prog2", j["error"] or "")
        self.assertIn("No such file or directory", j["error"] or "")

    def test_run_missing_program_exits_127(self):
        r = self.ctl("run", "missing", check=127)
        self.assertIn("No such file or directory", r.stdout + r.stderr,
                      self.msg("run prints the spawn error", r))
        rep = self.request({"cmd": "status", "jobs": ["missing"]})
        self.assertEqual(rep["jobs"][0]["exit_status"], 127)

    def test_bad_directory(self):
        r = self.ctl("run", "baddir")
        self.assertIn(r.returncode, (126, 127), self.msg("spawn failure exit status", r))
        j = self.job("baddir")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        self.assertIn("no-such-dir", j["error"] or "", "the reason names the directory")
        self.assertIn("No such file or directory", j["error"] or "")

    def test_missing_pipeline_stage_leaves_no_process(self):
        r = self.ctl("run", "badstage")
        self.assertIn(r.returncode, (126, 127), self.msg("spawn failure exit status", r))
        j = self.job("badstage")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        self.assertIn("/nonexistent/stage2", j["error"] or "")
        self.assertTrue(wait_for(lambda: descendants(self.supd_pid()) == []),
                        self.msg(f"processes left behind: {descendants(self.supd_pid())}"))


class SuccessExitTest(SupdCase):
    CONFIG = """
        [job:three]
        command = sh -c 'exit 3'
        success_exit = 0 3
        autostart = false

        [job:four]
        command = sh -c 'exit 4'
        success_exit = 0 3
        autostart = false

        [job:zero]
        command = true
        success_exit = 0 3
        autostart = false
        """

    def test_listed_exit_code_is_success(self):
        self.ctl("start", "three", "four", "zero")
        j = self.wait_state("three", "exited", "failed", "fatal")
        self.assertEqual((j["state"], j["exit_code"]), ("exited", 3), self.msg(json.dumps(j)))
        j = self.wait_state("four", "exited", "failed", "fatal")
        self.assertEqual((j["state"], j["exit_code"]), ("failed", 4), self.msg(json.dumps(j)))
        j = self.wait_state("zero", "exited", "failed", "fatal")
        self.assertEqual(j["state"], "exited")
        self.ctl("wait", "three", "zero", check=0)
        self.ctl("wait", "three", "four", check=1)


class PipelineTest(SupdCase):
    CONFIG = """
        [job:pipe]
        command = printf 'a\\nb\\nc\\n' | wc -l
        stdout = {d}/pipe.out
        autostart = false

        [job:pipefail]
        command = sh -c 'exit 5' | cat
        autostart = false

        [job:quoted]
        command = echo 'a | b' "c | d" e\\|f
        stdout = {d}/quoted.out
        autostart = false
        """

    def test_pipeline(self):
        self.ctl("run", "pipe", check=0)
        self.assertEqual(read_file(f"{self.d}/pipe.out", "").strip(), "3")
        j = self.job("pipe")
        self.assertEqual([s["argv0"] for s in j["stages"]], ["printf", "wc"], json.dumps(j))
        for s in j["stages"]:
            self.assertEqual((s["exit_code"], s["signal"]), (0, None))
            self.assertIs(type(s["pid"]), int)
        self.assertNotEqual(j["stages"][0]["pid"], j["stages"][1]["pid"])

    def test_pipefail(self):
        self.ctl("run", "pipefail", check=5)
        j = self.job("pipefail")
        self.assertEqual(j["state"], "failed", self.msg(json.dumps(j)))
        self.assertEqual([s["exit_code"] for s in j["stages"]], [5, 0], json.dumps(j))

    def test_quoted_bar_is_not_a_pipe(self):
        self.ctl("run", "quoted", check=0)
        self.assertEqual(read_file(f"{self.d}/quoted.out", "").strip(), "a | b c | d e|f")
        self.assertEqual(len(self.job("quoted")["stages"]), 1)


class AccountingTest(SupdCase):
    CONFIG = """
        [job:busy]
        command = sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
        autostart = false
        """

    def test_cpu_and_rss(self):
        self.ctl("run", "busy", check=0)
        j = self.job("busy")
        self.assertGreater(j["cpu_user_s"] + j["cpu_sys_s"], 0.02, json.dumps(j))
        self.assertLessEqual(j["cpu_user_s"] + j["cpu_sys_s"], j["duration_s"] * 2 + 0.1)
        self.assertGreater(j["max_rss_kb"], 100, json.dumps(j))


class PersistenceTest(SupdCase):
    CONFIG = """
        [job:quick]
        command = sh -c 'exit 2'
        autostart = false
        """

    def test_run_numbers_and_history_survive_restart(self):
        self.ctl("run", "quick", check=2)
        r1 = self.job("quick")["run"]
        self.assertEqual(self.stop_daemon(), 0, self.msg("supd exit status on SIGTERM"))
        self.start_daemon()
        runs = self.history("quick")
        self.assertEqual([r["run"] for r in runs], [r1], "history survives a restart of supd")
        self.assertEqual(runs[0]["exit_code"], 2)
        self.ctl("run", "quick", check=2)
        self.assertGreater(self.job("quick")["run"], r1, "run numbers increase for the "
                                                        "life of the state_dir")


if __name__ == "__main__":
    unittest.main(verbosity=2)
