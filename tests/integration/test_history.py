# SPDX-License-Identifier: ISC
"""The persistent run history (state_dir/runs.jsonl, supctl history): it
survives restarts of supd, skips a torn last line, filters and limits, and
rotates (issue 3, SPEC §1, §4)."""
import json
import os
import unittest

from supdtest import SupdCase, JOB_FIELDS, RFC3339_US, T_LONG, parse_time

TORN = '{"name": "ok", "state": "exited", "pid": null, "run": 99999, "started_at": "2026-11-2'


class HistoryTest(SupdCase):
    CONFIG = """
        [job:ok]
        command = true
        autostart = false

        [job:three]
        command = sh -c 'exit 3'
        autostart = false

        [job:pipe]
        command = echo hi | sh -c 'cat >/dev/null; exit 5'
        autostart = false

        [job:tm@]
        command = true
        autostart = false
        """

    @property
    def runs_path(self):
        return os.path.join(self.state_dir, "runs.jsonl")

    def file_lines(self):
        with open(self.runs_path, "rb") as f:
            return f.read().split(b"\n")

    def history_text(self, *args):
        """Rows of the text table: [[RUN, NAME, ...], ...] (header dropped)."""
        r = self.ctl("history", *args, check=0)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        self.assertTrue(lines and lines[0].split()[:2] == ["RUN", "NAME"], self.msg("header", r))
        return [l.split() for l in lines[1:]]

    def test_survives_restart_and_torn_line(self):
        self.ctl("run", "ok", check=0)
        self.ctl("run", "three", check=3)
        self.ctl("run", "pipe", check=5)
        before = self.history()
        self.assertEqual([r["name"] for r in before], ["ok", "three", "pipe"], before)
        old_max = max(r["run"] for r in before)

        self.assertEqual(self.stop_daemon(), 0, self.msg("supd exits 0 on SIGTERM"))
        with open(self.runs_path, "a") as f:
            f.write(TORN)                      # a crash in the middle of a write
        log_mark = len(self.daemon_log(0))
        self.start_daemon()

        after = self.history()
        self.assertEqual(after, before, "the earlier runs, unchanged, after a restart")
        rep = self.request({"cmd": "history"})
        self.assertIs(rep["ok"], True, rep)
        self.assertGreaterEqual(rep.get("skipped", 0), 1, f"the torn line is counted as skipped: {rep}")
        self.assertEqual([r["name"] for r in rep["runs"]], ["ok", "three", "pipe"])
        restart_log = self.daemon_log(0)[log_mark:]
        self.assertRegex(restart_log, r"runs\.jsonl.*(skip|torn|unreadable|corrupt)",
                         self.msg("supd reports the torn line when it starts"))

        self.ctl("run", "ok", check=0)
        self.ctl("run", "three", check=3)
        runs = self.history()
        self.assertEqual([r["name"] for r in runs], ["ok", "three", "pipe", "ok", "three"], runs)
        new = runs[3:]
        self.assertGreater(new[0]["run"], old_max, "run numbers continue after a restart")
        self.assertLess(new[0]["run"], new[1]["run"])
        self.assertNotEqual(new[0]["run"], 99999 + 1, "the torn line's run number is not trusted")
        self.assertEqual(self.job("ok")["run"], new[0]["run"])

        # on disk: the torn line stays one bad line; the new records after it parse
        lines = [l for l in self.file_lines() if l]
        good = []
        for l in lines:
            try:
                good.append(json.loads(l))
            except ValueError:
                self.assertEqual(l.decode(), TORN, f"only the torn line is bad: {l[:80]!r}")
        # each run also has its "started" record (SPEC §11), before its end
        self.assertEqual([r["name"] for r in good if "event" in r], ["ok", "three", "pipe", "ok", "three"])
        good = [r for r in good if "event" not in r]
        self.assertEqual([r["name"] for r in good], ["ok", "three", "pipe", "ok", "three"])
        self.assertEqual(sum(1 for l in lines if l.decode() == TORN), 1, lines)
        self.assertTrue(self.file_lines()[-1] == b"", "the file ends with a newline")

        # a second restart changes nothing
        self.assertEqual(self.stop_daemon(), 0)
        self.start_daemon()
        self.assertEqual(self.history(), runs)
        self.ctl("run", "ok", check=0)
        self.assertGreater(self.history()[-1]["run"], new[1]["run"])
        self.assertEqual(self.request({"cmd": "history"}).get("skipped"), 1)

    def test_torn_line_of_a_killed_supd(self):
        """supd SIGKILLed: the history up to its death is there afterwards."""
        self.ctl("run", "ok", check=0)
        self.ctl("run", "three", check=3)
        self.proc.kill()
        self.proc.wait()
        with open(self.runs_path, "a") as f:
            f.write('{"name": "ok", "ru')
        self.start_daemon()
        self.assertEqual([r["name"] for r in self.history()], ["ok", "three"])
        self.ctl("run", "ok", check=0)
        self.assertEqual([r["name"] for r in self.history()], ["ok", "three", "ok"])

    def test_limit_patterns_and_json(self):
        for job, rc in (("ok", 0), ("three", 3), ("tm@a", 0), ("tm@b", 0), ("pipe", 5), ("ok", 0)):
            self.ctl("run", job, check=rc)
        allruns = self.history()
        names = [r["name"] for r in allruns]
        self.assertEqual(names, ["ok", "three", "tm@a", "tm@b", "pipe", "ok"])
        self.assertEqual([r["run"] for r in allruns], sorted(r["run"] for r in allruns), "oldest first")

        # -n N: the last N
        r = self.ctl("--json", "history", "-n", "3", check=0)
        last3 = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        self.assertEqual([x["name"] for x in last3], ["tm@b", "pipe", "ok"], r.stdout)
        self.assertEqual(last3, allruns[-3:])
        rows = self.history_text("-n", "3")
        self.assertEqual([row[1] for row in rows], ["tm@b", "pipe", "ok"], rows)
        self.assertEqual([row[0] for row in rows], [str(x["run"]) for x in allruns[-3:]], rows)
        self.assertEqual(len(self.history_text("-n", "100")), 6)

        # patterns
        self.assertEqual([x["name"] for x in self.history("tm")], ["tm@a", "tm@b"], "template name")
        self.assertEqual([x["name"] for x in self.history("tm@*")], ["tm@a", "tm@b"], "glob")
        self.assertEqual([x["name"] for x in self.history("ok", "three")], ["ok", "three", "ok"])
        self.assertEqual([row[1] for row in self.history_text("th*")], ["three"])
        r = self.ctl("--json", "history", "-n", "1", "ok", check=0)
        self.assertEqual([json.loads(l)["run"] for l in r.stdout.splitlines() if l.strip()],
                         [allruns[-1]["run"]])

        # --json: one object per line, the SPEC §4 fields
        r = self.ctl("--json", "history", check=0)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        self.assertEqual(len(lines), 6, r.stdout)
        for l in lines:
            rec = json.loads(l)
            self.assertIsInstance(rec, dict, l)
            for f in JOB_FIELDS:
                self.assertIn(f, rec, f"history record lacks {f}: {rec}")
            self.assertIsNone(rec["pid"], rec)
            self.assertIn(rec["state"], ("exited", "failed"), rec)
            self.assertRegex(rec["started_at"], RFC3339_US)
            self.assertRegex(rec["ended_at"], RFC3339_US)
            self.assertGreaterEqual(parse_time(rec["ended_at"]), parse_time(rec["started_at"]))
            self.assertIs(type(rec["duration_s"]), float)
            self.assertIs(rec["timed_out"], False)
            self.assertIsInstance(rec["stages"], list)
        recs = {json.loads(l)["name"]: json.loads(l) for l in lines}
        self.assertEqual((recs["three"]["exit_code"], recs["three"]["state"]), (3, "failed"))
        pipe = recs["pipe"]
        self.assertEqual(pipe["exit_code"], 5)
        self.assertEqual([(s["argv0"], s["exit_code"]) for s in pipe["stages"]], [("echo", 0), ("sh", 5)])
        for s in pipe["stages"]:
            self.assertIs(type(s["pid"]), int)

    def test_history_of_removed_job_and_empty(self):
        self.assertEqual(self.history(), [], "no runs yet")
        r = self.ctl("history", check=0)
        self.assertEqual(r.stderr, "", self.msg("an empty history is no error", r))
        self.ctl("run", "three", check=3)
        # the job leaves the config: its runs stay in the history
        self.write_config("""
            [job:ok]
            command = true
            autostart = false
            """)
        self.ctl("reload", check=0)
        self.assertEqual([x["name"] for x in self.history()], ["three"])
        self.assertEqual([x["name"] for x in self.history("three")], ["three"],
                         "a pattern for a job no longer configured still selects its runs")


class HistoryRotationTest(SupdCase):
    """runs.jsonl is bounded: past its size it moves to runs.jsonl.1."""
    START_DAEMON = False
    CONFIG = """
        [job:ok]
        command = true
        autostart = false
        """
    SEED_BYTES = 17 << 20       # over the rotation size (16 MiB in daemon/history.h)

    def test_rotation(self):
        os.makedirs(self.state_dir, exist_ok=True)
        path = os.path.join(self.state_dir, "runs.jsonl")
        rec = {"name": "old@0", "state": "exited", "pid": None, "run": 0,
               "started_at": "2026-01-01T00:00:00.000000Z", "ended_at": "2026-01-01T00:00:01.000000Z",
               "duration_s": 1.0, "exit_code": 0, "signal": None, "timed_out": False, "restarts": 0,
               "cpu_user_s": 0.0, "cpu_sys_s": 0.0, "max_rss_kb": 1000,
               "stages": [{"argv0": "true", "pid": 1234, "exit_code": 0, "signal": None}],
               "error": None, "pad": "x" * 400}
        n = 0
        with open(path, "w") as f:
            size = 0
            while size < self.SEED_BYTES:
                n += 1
                rec["run"], rec["name"] = n, f"old@{n % 7}"
                line = json.dumps(rec) + "\n"
                f.write(line)
                size += len(line)
        self.start_daemon()
        self.ctl("run", "ok", check=0, timeout=T_LONG * 2)
        rotated = path + ".1"
        self.assertTrue(os.path.exists(rotated), f"no {rotated}: {os.listdir(self.state_dir)}")
        self.assertLess(os.path.getsize(path), 1 << 20, "runs.jsonl starts over after rotation")
        with open(path) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        self.assertEqual([(r["name"], r.get("event")) for r in lines], [("ok", "started"), ("ok", None)], lines)
        lines = lines[1:]
        self.assertEqual(lines[0]["run"], n + 1, "run numbers continue past the old file's")
        r = self.ctl("--json", "history", "-n", "2", check=0, timeout=T_LONG * 2)
        last = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        self.assertEqual([x["run"] for x in last], [n, n + 1], "history reads the rotated file too")
        self.ctl("run", "ok", check=0)
        self.assertEqual(self.history("ok")[-1]["run"], n + 2)
        self.assertFalse(os.path.exists(path + ".2"), "one rotated file only")


if __name__ == "__main__":
    unittest.main(verbosity=2)
