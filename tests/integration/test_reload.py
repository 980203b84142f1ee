# SPDX-License-Identifier: ISC
"""supctl reload and SIGHUP: add, remove and change jobs; a bad config changes nothing."""
import json
import os
import signal
import time
import unittest

from supdtest import SupdCase, T_LONG, alive, read_file, wait_for

BASE = """
    [job:keep]
    command = sleep 300

    [job:gone]
    command = sleep 300

    [job:chg]
    command = sh -c 'echo v1 > {d}/ver; exec sleep 300'
    """

ADDED = """
    [job:added]
    command = sleep 300

    [job:added_manual]
    command = sleep 300
    autostart = false
    """


class ReloadTest(SupdCase):
    CONFIG = BASE

    def setUp(self):
        super().setUp()
        self.before = {n: self.wait_running(n) for n in ("keep", "gone", "chg")}
        self.wait_file(f"{self.d}/ver", "v1")

    def pids(self):
        return {n: j["pid"] for n, j in self.status().items()}

    def reload(self, jobs, check=0):
        self.write_config(jobs)
        return self.ctl("reload", check=check)

    def test_add(self):
        r = self.reload(BASE + ADDED)
        self.assertIn("added", r.stdout, self.msg("reload prints what changed", r))
        self.assertIn("added_manual", r.stdout, self.msg("reload prints what changed", r))
        self.wait_running("added")
        self.assertEqual(self.job("added_manual")["state"], "stopped", "autostart = false")

    def test_remove_stops_the_process(self):
        pid = self.before["gone"]["pid"]
        r = self.reload(BASE.replace("[job:gone]\n    command = sleep 300\n", ""))
        self.assertIn("gone", r.stdout, self.msg("reload prints what changed", r))
        self.assertTrue(wait_for(lambda: not alive(pid), T_LONG),
                        self.msg(f"process {pid} of the removed job still runs"))
        self.assertTrue(wait_for(lambda: "gone" not in self.status(), T_LONG),
                        self.msg("removed job still listed"))
        self.ctl("status", "gone", check=4)

    def test_change(self):
        r = self.reload(BASE.replace("echo v1", "echo v2"))
        self.assertIn("chg", r.stdout, self.msg("reload prints what changed", r))
        # a changed running job gets the new config at its next start at the latest
        self.ctl("restart", "chg", check=0)
        self.wait_file(f"{self.d}/ver", "v2")
        self.assertNotEqual(self.job("chg")["pid"], self.before["chg"]["pid"])

    def test_unchanged_job_keeps_running(self):
        r = self.reload(BASE.replace("echo v1", "echo v2") + ADDED)
        self.assertNotIn("keep", r.stdout, self.msg("keep did not change", r))
        j = self.job("keep")
        b = self.before["keep"]
        self.assertEqual((j["state"], j["pid"], j["run"], j["restarts"]),
                         ("running", b["pid"], b["run"], 0), self.msg(json.dumps(j)))
        self.assertTrue(alive(b["pid"]))

    def test_same_config_changes_nothing(self):
        pids = self.pids()
        r = self.reload(BASE)
        for n in ("keep", "gone", "chg"):
            self.assertNotIn(n, r.stdout, self.msg("nothing changed", r))
        self.assertEqual(self.pids(), pids)

    def test_bad_config_changes_nothing(self):
        pids = self.pids()
        bad = BASE.replace("[job:gone]\n    command = sleep 300\n", "") + ADDED + """
            [job:broken]
            command = true
            restart = sometimes
            """
        text = self.write_config(bad)
        line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("restart = sometimes"))
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 1, self.msg("reload of a bad config (SPEC §11: 1, not 4)", r))
        self.assertIn(f"{self.conf}:{line}:", r.stdout + r.stderr,
                      self.msg("errors are printed as FILE:LINE", r))
        time.sleep(0.3)
        self.assertEqual(self.pids(), pids, "a bad config changes nothing")
        for n in ("keep", "gone", "chg"):
            self.assertEqual(self.job(n)["state"], "running")
        self.assertEqual(read_file(f"{self.d}/ver", "").strip(), "v1")
        # and the daemon still reloads a good one afterwards
        r = self.reload(BASE + ADDED)
        self.wait_running("added")

    def test_bad_config_over_socket(self):
        self.write_config(BASE + "\n[job:x]\ncommand = true\nbogus_key = 1\n")
        rep = self.request({"cmd": "reload"})
        self.assertIs(rep["ok"], False, rep)
        self.assertIsInstance(rep.get("errors"), list, rep)
        self.assertTrue(any(e.startswith(f"{self.conf}:") for e in rep["errors"]), rep)

    def test_sighup_reloads(self):
        self.write_config(BASE + ADDED)
        os.kill(self.supd_pid(), signal.SIGHUP)
        self.wait_running("added")
        self.assertEqual(self.job("keep")["pid"], self.before["keep"]["pid"])
        self.assertAlive()


class PoolReloadTest(SupdCase):
    CONFIG = """
        [job:nap]
        command = sleep 300
        instances = 3
        """

    def test_shrink_and_grow_pool(self):
        st = {n: self.wait_running(n) for n in ("nap@0", "nap@1", "nap@2")}
        self.write_config(self.CONFIG.replace("instances = 3", "instances = 2"))
        self.ctl("reload", check=0)
        self.assertTrue(wait_for(lambda: not alive(st["nap@2"]["pid"]), T_LONG),
                        self.msg("the dropped instance still runs"))
        self.assertTrue(wait_for(lambda: sorted(self.status("nap")) == ["nap@0", "nap@1"], T_LONG),
                        self.msg(f"instances after shrinking: {sorted(self.status('nap'))}"))
        self.write_config(self.CONFIG.replace("instances = 3", "instances = 4"))
        self.ctl("reload", check=0)
        for n in ("nap@0", "nap@1", "nap@2", "nap@3"):
            self.wait_running(n)


if __name__ == "__main__":
    unittest.main(verbosity=2)
