# SPDX-License-Identifier: ISC
"""Pools (instances = N), patterns and the max_parallel run queue."""
import json
import unittest

from supdtest import SupdCase, alive, parse_time, read_file, wait_for


class PoolTest(SupdCase):
    CONFIG = """
        [job:nap]
        command = sleep 0.3
        instances = 3
        autostart = false

        [job:idx]
        command = sh -c 'echo %i > {d}/idx.%i'
        instances = 3
        autostart = false

        [job:pool]
        command = sleep 300
        instances = 3
        autostart = false

        [job:other]
        command = sleep 300
        autostart = false
        """

    def test_instances(self):
        st = self.status("nap")
        self.assertEqual(sorted(st), ["nap@0", "nap@1", "nap@2"])
        self.assertEqual({j["state"] for j in st.values()}, {"stopped"})
        self.assertNotIn("nap", self.status(), "a pool is listed by its instances")

    def test_pool_name_means_all_instances(self):
        self.ctl("start", "nap", check=0)
        st = self.status("nap")
        self.assertEqual(len(st), 3)
        for j in st.values():
            self.assertNotEqual(j["state"], "stopped", self.msg(json.dumps(j)))
        self.ctl("wait", "nap", check=0)
        for j in self.status("nap").values():
            self.assertEqual((j["state"], j["exit_code"]), ("exited", 0), self.msg(json.dumps(j)))
            self.assertGreater(j["duration_s"], 0.25)

    def test_glob_patterns(self):
        self.ctl("start", "nap@*", check=0)
        self.assertEqual(sorted(self.status("nap@*")), ["nap@0", "nap@1", "nap@2"])
        self.assertEqual(sorted(self.status("n?p@[01]")), ["nap@0", "nap@1"])
        self.assertEqual(sorted(self.status("nap@1")), ["nap@1"])
        self.assertEqual(sorted(self.status("*@2")), ["idx@2", "nap@2", "pool@2"])
        self.ctl("wait", "nap@*", check=0)
        self.assertEqual(self.job("other")["state"], "stopped", "glob started an unmatched job")
        self.assertEqual({j["state"] for j in self.status("idx").values()}, {"stopped"})

    def test_index_substitution(self):
        self.ctl("start", "idx", check=0)
        self.ctl("wait", "idx", check=0)
        for i in range(3):
            self.assertEqual(read_file(f"{self.d}/idx.{i}", "").strip(), str(i))

    def test_single_instance(self):
        self.ctl("start", "pool@1", check=0)
        st = self.status("pool")
        self.assertEqual(st["pool@1"]["state"], "running")
        self.assertEqual(st["pool@0"]["state"], "stopped")
        self.assertEqual(st["pool@2"]["state"], "stopped")

    def test_stop_and_signal_pool(self):
        self.ctl("start", "pool", check=0)
        st = self.status("pool")
        pids = [j["pid"] for j in st.values()]
        self.assertTrue(all(isinstance(p, int) for p in pids), st)
        self.assertEqual(len(set(pids)), 3)
        self.ctl("stop", "pool", check=0)
        st = self.status("pool")
        self.assertEqual({j["state"] for j in st.values()}, {"stopped"}, st)
        self.assertTrue(wait_for(lambda: not any(alive(p) for p in pids)))

    def test_signal_pool(self):
        self.ctl("start", "pool", check=0)
        self.ctl("signal", "KILL", "pool@*", check=0)
        for name in ("pool@0", "pool@1", "pool@2"):
            j = self.wait_state(name, "failed")
            self.assertEqual(j["signal"], "KILL")


class QueueTest(SupdCase):
    SUPD_EXTRA = "max_parallel = 1\n"
    CONFIG = """
        [job:batch]
        command = sleep 1.5
        instances = 3
        autostart = false

        [job:svc]
        command = sleep 300
        restart = always
        autostart = false
        """

    def test_max_parallel_queues_batch_jobs(self):
        self.ctl("start", "batch", check=0)
        states = sorted(j["state"] for j in self.status("batch").values())
        self.assertEqual(states, ["queued", "queued", "running"],
                         self.msg("max_parallel = 1: one runs, the others wait"))
        # services (restart != no) do not take slots
        self.ctl("start", "svc", check=0)
        self.assertEqual(self.job("svc")["state"], "running")
        self.ctl("wait", "batch", check=0)
        runs = sorted(self.status("batch").values(), key=lambda j: parse_time(j["started_at"]))
        for a, b in zip(runs, runs[1:]):
            self.assertGreaterEqual(parse_time(b["started_at"]), parse_time(a["ended_at"]) - 0.05,
                                    f"runs overlapped: {a['name']} and {b['name']}")

    def test_stop_queued_job(self):
        self.ctl("start", "batch", check=0)
        queued = [n for n, j in self.status("batch").items() if j["state"] == "queued"]
        self.assertEqual(len(queued), 2)
        self.ctl("stop", queued[0], check=0)
        self.assertEqual(self.job(queued[0])["state"], "stopped")
        self.ctl("wait", "batch")
        self.assertEqual(self.job(queued[0])["state"], "stopped", "a stopped queued job never runs")
        self.assertIsNone(self.job(queued[0])["started_at"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
