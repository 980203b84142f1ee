# SPDX-License-Identifier: ISC
"""Every supctl command against a running supd (SPEC §1, §4; doc/protocol.md)."""
import json
import queue
import signal
import socket
import subprocess
import threading
import time
import unittest

from supdtest import (SupdCase, JOB_FIELDS, PROTO_EXTRA_FIELDS, RFC3339_US, SUPCTL,
                      T_LONG, T_SHORT, alive, parse_time, read_file, wait_for, _clean_env)


class StatusTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300

        [job:quick]
        command = sh -c 'exit 0'
        autostart = false

        [job:three]
        command = sh -c 'exit 3'
        autostart = false
        """

    def test_table_header_and_rows(self):
        self.ctl("run", "quick", check=0)
        svc = self.wait_running("svc")
        r = self.ctl("status", check=0)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        self.assertGreaterEqual(len(lines), 4, self.msg("header + 3 rows expected", r))
        header = lines[0].split()
        self.assertEqual(header[:3], ["NAME", "STATE", "PID"], self.msg("table header", r))
        self.assertTrue({"SINCE", "DURATION", "SINCE/DURATION"} & set(header),
                        self.msg("no SINCE/DURATION column", r))
        self.assertIn("EXIT", header, self.msg("no EXIT column", r))
        self.assertIn("RESTARTS", header, self.msg("no RESTARTS column", r))
        rows = {l.split()[0]: l.split() for l in lines[1:]}
        self.assertIn("svc", rows, self.msg("row for svc", r))
        self.assertEqual(rows["svc"][1], "running", self.msg("svc state column", r))
        self.assertEqual(rows["svc"][2], str(svc["pid"]), self.msg("svc pid column", r))
        self.assertEqual(rows["quick"][1], "exited", self.msg("quick state column", r))
        self.assertEqual(rows["three"][1], "stopped", self.msg("never started job", r))

    def test_status_patterns_select_rows(self):
        r = self.ctl("status", "qu*", check=0)
        names = [l.split()[0] for l in r.stdout.splitlines()[1:] if l.strip()]
        self.assertEqual(names, ["quick"], self.msg("rows for 'qu*'", r))
        self.assertEqual(set(self.status("svc", "three")), {"svc", "three"})

    def test_overlapping_patterns_give_each_job_once(self):
        for pats in (["svc", "s*", "svc"], ["*", "three", "*"]):
            rep = self.request({"cmd": "status", "jobs": pats})
            self.assertIs(rep["ok"], True, f"{pats}: {rep}")
            names = [j["name"] for j in rep["jobs"]]
            self.assertEqual(len(names), len(set(names)), f"{pats}: {names}")
        self.assertEqual([j["name"] for j in self.status_list("t*", "three", "q*")], ["three", "quick"])

    def test_status_exits_zero_whatever_the_states(self):
        self.ctl("run", "three", check=3)
        self.assertEqual(self.job("three")["state"], "failed")
        self.ctl("status", check=0)
        self.ctl("--json", "status", check=0)
        self.ctl("status", "three", check=0)

    def test_json_is_an_array_of_job_objects(self):
        r = self.ctl("--json", "status", check=0)
        data = json.loads(r.stdout)
        self.assertIsInstance(data, list, self.msg("--json status must print an array", r))
        self.assertEqual({j["name"] for j in data}, {"svc", "quick", "three"}, self.msg("", r))
        for j in data:
            for f in JOB_FIELDS:
                self.assertIn(f, j, self.msg(f"field {f} missing in {j}"))

    def test_json_running_job(self):
        self.wait_running("svc")
        j = self.job("svc")
        self.assertEqual(j["state"], "running")
        self.assertIs(type(j["pid"]), int, self.msg(f"pid must be an int while running: {j}"))
        self.assertTrue(alive(j["pid"]), self.msg(f"pid {j['pid']} is not alive"))
        self.assertIsNone(j["ended_at"], self.msg(f"running job has ended_at: {j}"))
        self.assertIsNone(j["exit_code"], self.msg(f"running job has exit_code: {j}"))
        self.assertRegex(j["started_at"], RFC3339_US)
        self.assertLess(abs(parse_time(j["started_at"]) - time.time()), 600,
                        self.msg(f"started_at is not now-ish (UTC?): {j['started_at']}"))
        self.assertIs(type(j["run"]), int)
        self.assertIs(type(j["restarts"]), int)
        self.assertIs(j["timed_out"], False)

    def test_json_finished_job(self):
        self.ctl("run", "quick", check=0)
        j = self.job("quick")
        self.assertEqual(j["state"], "exited", self.msg(json.dumps(j)))
        self.assertIsNone(j["pid"], self.msg(f"pid must be null after the run: {j}"))
        self.assertIs(type(j["exit_code"]), int)
        self.assertEqual(j["exit_code"], 0)
        self.assertIsNone(j["signal"])
        self.assertIs(j["timed_out"], False)
        self.assertIsNone(j["error"])
        self.assertEqual(j["restarts"], 0)
        for f in ("started_at", "ended_at"):
            self.assertIsInstance(j[f], str, self.msg(f"{f}: {j}"))
            self.assertRegex(j[f], RFC3339_US, f"{f} must be RFC 3339 UTC with microseconds")
        start, end = parse_time(j["started_at"]), parse_time(j["ended_at"])
        self.assertGreaterEqual(end, start)
        self.assertLess(abs(time.time() - end), 600, "ended_at is not now-ish (UTC?)")
        self.assertIs(type(j["duration_s"]), float, self.msg(f"duration_s must be a float: {j}"))
        self.assertGreaterEqual(j["duration_s"], 0.0)
        self.assertLess(abs(j["duration_s"] - (end - start)), 1.0,
                        f"duration_s {j['duration_s']} far from ended_at - started_at {end - start}")
        for f in ("cpu_user_s", "cpu_sys_s"):
            self.assertIn(type(j[f]), (int, float), f"{f}: {j[f]!r}")
            self.assertGreaterEqual(j[f], 0)
        self.assertIs(type(j["max_rss_kb"]), int)
        # SPEC §8: measured by the run's memory cgroup only; a number or null, never missing
        self.assertIn(type(j["memory_peak_kb"]), (int, type(None)), j)
        self.assertIn(j["oom_killed"], (True, False, None), j)
        if "runs are contained in cgroups" not in self.daemon_log():
            self.assertIsNone(j["memory_peak_kb"], j)
            self.assertIsNone(j["oom_killed"], j)
        self.assertIsNone(j["cgroup"], "an ended run has no cgroup")
        self.assertIsInstance(j["stages"], list)
        self.assertEqual(len(j["stages"]), 1, self.msg(f"one stage expected: {j}"))
        st = j["stages"][0]
        self.assertEqual(st["argv0"], "sh")
        self.assertIs(type(st["pid"]), int)
        self.assertEqual(st["exit_code"], 0)
        self.assertIsNone(st["signal"])

    def test_run_numbers_increase(self):
        self.ctl("run", "quick", check=0)
        r1 = self.job("quick")["run"]
        self.ctl("run", "quick", check=0)
        r2 = self.job("quick")["run"]
        self.ctl("run", "three", check=3)
        r3 = self.job("three")["run"]
        self.assertIs(type(r1), int)
        self.assertLess(r1, r2, "run numbers must increase")
        self.assertLess(r2, r3, "run numbers increase across jobs of one state_dir")

    def test_protocol_fields(self):
        self.ctl("run", "three", check=3)
        rep = self.request({"cmd": "status", "jobs": ["three", "svc"]})
        self.assertIs(rep["ok"], True, rep)
        jobs = {j["name"]: j for j in rep["jobs"]}
        for name, j in jobs.items():
            for f in JOB_FIELDS + PROTO_EXTRA_FIELDS:
                self.assertIn(f, j, f"{name}: field {f} missing: {j}")
            self.assertRegex(j["since"], RFC3339_US)
            self.assertIn(j["want"], ("up", "down"))
        self.assertEqual(jobs["three"]["exit_status"], 3)
        self.assertEqual(jobs["three"]["state"], "failed")
        self.assertEqual(jobs["svc"]["want"], "up")

    def test_columns_give_rows_with_the_objects_values(self):
        self.ctl("run", "three", check=3)
        self.wait_running("svc")
        fields = list(JOB_FIELDS + PROTO_EXTRA_FIELDS)
        objs = {j["name"]: j for j in self.request({"cmd": "status"})["jobs"]}
        rep = self.request({"cmd": "status", "columns": list(reversed(fields))})
        self.assertIs(rep["ok"], True, rep)
        self.assertNotIn("jobs", rep)
        self.assertEqual(len(rep["rows"]), len(objs), rep)
        for row in rep["rows"]:
            self.assertEqual(len(row), len(fields), row)
            got = dict(zip(reversed(fields), row))
            obj = objs[got["name"]]
            for f in fields:
                if f in ("duration_s", "since"):      # moves on while running
                    continue
                self.assertEqual(got[f], obj[f], f"{got['name']}: column {f}")
        rep = self.request({"cmd": "status", "jobs": ["three"], "columns": ["exit_status", "name"]})
        self.assertEqual(rep["rows"], [[3, "three"]], rep)
        rep = self.request({"cmd": "status", "jobs": ["three"], "columns": []})
        self.assertEqual(rep["rows"], [[]], rep)

    def test_bad_columns_are_refused(self):
        for cols, err in ((["name", "bogus"], "unknown field: bogus"), ("name", "array"),
                          ([1], "strings"), ([None], "strings"), (["error"] * 100, "more than")):
            rep = self.request({"cmd": "status", "columns": cols})
            self.assertIs(rep["ok"], False, rep)
            self.assertIn(err, rep["error"])
        self.assertAlive()
        self.ctl("status", "svc", check=0)

    def test_table_shows_exit_and_error(self):
        self.ctl("run", "three", check=3)
        self.write_config(self.CONFIG + """
            [job:missing]
            command = /nonexistent/prog
            autostart = false

            [job:slow]
            command = sleep 10
            timeout = 100ms
            autostart = false
            """)
        self.ctl("reload", check=0)
        self.ctl("run", "missing", check=None)
        self.ctl("run", "slow", check=124)
        r = self.ctl("status", "missing", "slow", check=0)
        rows = {l.split()[0]: l.split() for l in r.stdout.splitlines()[1:] if l and not l.startswith(" ")}
        self.assertEqual(rows["slow"][1:], ["failed", "-", rows["slow"][3], "timeout", "0", "-"], self.msg("", r))
        self.assertEqual(rows["missing"][1], "fatal", self.msg("", r))
        self.assertIn("/nonexistent/prog", r.stdout, self.msg("the spawn error under its row", r))
        self.assertRegex(r.stdout, r"\n  error: .*nonexistent", self.msg("", r))


class StartStopTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300
        autostart = false

        [job:polite]
        command = sh -c 'trap "echo bye > {d}/bye; exit 0" TERM; touch {d}/polite.ready; while :; do sleep 0.1; done'
        autostart = false

        [job:tmpl@]
        command = sh -c 'echo %i > {d}/out.%i; echo "$INST" > {d}/env.%i; echo %n'
        environment = INST=%i
        stdout = {d}/name.%i
        autostart = false
        """

    def test_start_replies_once_running(self):
        self.assertEqual(self.job("svc")["state"], "stopped")
        self.ctl("start", "svc", check=0)
        j = self.job("svc")          # no polling: start replies once the job is running
        self.assertEqual(j["state"], "running", self.msg(json.dumps(j)))
        self.assertIs(type(j["pid"]), int)
        self.assertTrue(alive(j["pid"]))

    def test_start_running_job_keeps_it(self):
        self.ctl("start", "svc", check=0)
        pid = self.job("svc")["pid"]
        self.ctl("start", "svc")
        j = self.job("svc")
        self.assertEqual((j["state"], j["pid"]), ("running", pid),
                         "starting a running job must not start a second process")

    def test_start_template_instance(self):
        self.ctl("start", "tmpl@foo", check=0)
        self.ctl("start", "tmpl@bar.baz", check=0)
        for inst in ("foo", "bar.baz"):
            name = f"tmpl@{inst}"
            j = self.wait_state(name, "exited", "failed", "fatal")
            self.assertEqual((j["state"], j["exit_code"]), ("exited", 0), self.msg(json.dumps(j)))
            self.assertEqual(read_file(f"{self.d}/out.{inst}", "").strip(), inst,
                             "%i substituted inside an argv word")
            self.assertEqual(read_file(f"{self.d}/env.{inst}", "").strip(), inst,
                             "%i substituted in environment")
            self.assertEqual(read_file(f"{self.d}/name.{inst}", "").strip(), name,
                             "%n in command, %i in stdout path")
        st = self.status("tmpl")
        self.assertEqual(set(st), {"tmpl@foo", "tmpl@bar.baz"},
                         "the template name means all its instances")
        self.assertEqual(set(self.status("tmpl@*")), {"tmpl@foo", "tmpl@bar.baz"})

    def test_start_instance_of_plain_job_is_refused(self):
        r = self.ctl("start", "svc@x")
        self.assertEqual(r.returncode, 4, self.msg("svc is not a template", r))
        self.assertNotIn("svc@x", self.status())

    def test_stop_is_graceful(self):
        self.ctl("start", "polite", check=0)
        self.wait_file(f"{self.d}/polite.ready")
        pid = self.job("polite")["pid"]
        self.ctl("stop", "polite", check=0)
        j = self.job("polite")      # stop waits until stopped
        self.assertEqual(j["state"], "stopped", self.msg(json.dumps(j)))
        self.assertIsNone(j["pid"])
        self.assertEqual(read_file(f"{self.d}/bye", "").strip(), "bye", "the TERM trap ran")
        self.assertNotEqual(j["signal"], "KILL", "no escalation for a job that exits on TERM")
        self.assertEqual(j["exit_code"], 0)
        self.assertFalse(alive(pid))

    def test_stop_sleep(self):
        self.ctl("start", "svc", check=0)
        pid = self.job("svc")["pid"]
        self.ctl("stop", "svc", check=0)
        j = self.job("svc")
        self.assertEqual((j["state"], j["pid"], j["signal"]), ("stopped", None, "TERM"),
                         self.msg(json.dumps(j)))
        self.assertFalse(alive(pid))
        if "want" in j:
            self.assertEqual(j["want"], "down")

    def test_stop_no_wait(self):
        self.ctl("start", "polite", check=0)
        self.wait_file(f"{self.d}/polite.ready")
        pid = self.job("polite")["pid"]
        self.ctl("stop", "--no-wait", "polite", check=0)
        self.wait_state("polite", "stopped")
        self.assertTrue(wait_for(lambda: not alive(pid)))

    def test_restart_gives_new_pid(self):
        self.ctl("start", "svc", check=0)
        p1 = self.job("svc")["pid"]
        r1 = self.job("svc")["run"]
        self.ctl("restart", "svc", check=0)
        j = self.job("svc")
        self.assertEqual(j["state"], "running", self.msg(json.dumps(j)))
        self.assertIs(type(j["pid"]), int)
        self.assertNotEqual(j["pid"], p1)
        self.assertGreater(j["run"], r1)
        self.assertTrue(wait_for(lambda: not alive(p1)), "old process must be gone")

    def test_restart_of_stopped_job_starts_it(self):
        self.ctl("restart", "svc", check=0)
        self.assertEqual(self.job("svc")["state"], "running")


class LongNameListTest(SupdCase):
    """supctl splits a list of names too long for one request (64 KiB)."""
    SUPD_EXTRA = "max_parallel = 0"
    CONFIG = """
        [job:t@]
        command = true
        autostart = false

        [job:s@]
        command = sleep 300
        autostart = false
        """
    N = 1500

    def names(self):
        return ["t@%s-%04d" % ("x" * 40, i) for i in range(self.N)]

    def test_start_status_and_stop_of_more_names_than_one_request_holds(self):
        names = self.names()
        self.assertGreater(sum(len(n) + 3 for n in names), 65536)
        r = self.ctl("--json", "start", *names, check=0)
        started = json.loads(r.stdout)
        self.assertEqual([j["name"] for j in started], names, "every name once, in order")
        self.ctl("wait", "t", check=0)
        jobs = json.loads(self.ctl("--json", "status", *names, check=0).stdout)
        self.assertEqual([j["name"] for j in jobs], names)
        self.assertEqual({j["state"] for j in jobs}, {"exited"})
        r = self.ctl("status", *names, check=0)
        rows = r.stdout.splitlines()[1:]
        self.assertEqual([l.split()[0] for l in rows], names, self.msg("one table row per job", r))
        self.ctl("stop", *names, check=0)

    def sleeper_names(self, n=120):
        # 194 bytes each, 6 per "é" once escaped as \u00e9: two requests' worth
        return ["s@%s-%03d" % ("\u00e9" * 97, i) for i in range(n)]

    def test_non_ascii_names_are_measured_as_sent(self):
        names = self.sleeper_names()
        self.ctl("start", *names, check=0)
        jobs = json.loads(self.ctl("--json", "status", *names, *names[:5], check=0).stdout)
        self.assertEqual([j["name"] for j in jobs], names, "each job once, in order")
        self.assertEqual({j["state"] for j in jobs}, {"running"})

    def test_a_bad_name_in_a_long_list_stops_nothing(self):
        names = self.sleeper_names()
        self.ctl("start", *names, check=0)
        r = self.ctl("stop", *names, "nosuchjob", check=4)
        self.assertIn("nosuchjob", r.stderr)
        states = {j["state"] for j in json.loads(self.ctl("--json", "status", "s", check=0).stdout)}
        self.assertEqual(states, {"running"}, "a refused stop must not have stopped a part")
        self.ctl("signal", "HUP", *names, "nosuchjob", check=4)
        self.assertEqual({j["state"] for j in json.loads(self.ctl("--json", "status", "s").stdout)},
                         {"running"})
        t0 = time.monotonic()
        self.ctl("stop", *names, check=0)
        self.assertEqual({j["state"] for j in json.loads(self.ctl("--json", "status", "s").stdout)},
                         {"stopped"})
        self.assertLess(time.monotonic() - t0, 20)

    def test_wait_on_too_many_names_says_how(self):
        r = self.ctl("wait", *self.names(), check=2)
        self.assertIn("pattern", r.stderr)
        self.assertServes()

    def assertServes(self):
        self.assertAlive()
        self.ctl("status", check=0)


class SignalTest(SupdCase):
    CONFIG = """
        [job:trapper]
        command = sh -c 'trap "echo got >> {d}/sig1" USR1; trap "echo got >> {d}/sig2" USR2; touch {d}/ready; while :; do sleep 0.1; done'

        [job:family]
        command = sh -c 'sleep 300 & echo $! > {d}/child; wait'
        """

    def test_signal_by_name(self):
        self.wait_file(f"{self.d}/ready")
        pid = self.job("trapper")["pid"]
        self.ctl("signal", "USR1", "trapper", check=0)
        self.wait_file(f"{self.d}/sig1", "got")
        j = self.job("trapper")
        self.assertEqual((j["state"], j["pid"]), ("running", pid), "the job survives its trap")

    def test_signal_by_number(self):
        self.wait_file(f"{self.d}/ready")
        self.ctl("signal", str(int(signal.SIGUSR2)), "trapper", check=0)
        self.wait_file(f"{self.d}/sig2", "got")

    def test_signal_goes_to_process_group(self):
        self.wait_file(f"{self.d}/child")
        child = int(self.wait_file(f"{self.d}/child").strip() or 0)
        self.assertTrue(alive(child))
        self.ctl("signal", "TERM", "family", check=0)
        self.assertTrue(wait_for(lambda: not alive(child)),
                        self.msg(f"background child {child} in the job's group did not get TERM"))
        j = self.wait_state("family", "failed", "exited")
        self.assertEqual(j["signal"], "TERM", self.msg(json.dumps(j)))


class WaitRunTest(SupdCase):
    CONFIG = """
        [job:three]
        command = sh -c 'exit 3'
        autostart = false

        [job:killed]
        command = sh -c 'kill -9 $$'
        autostart = false

        [job:ok1]
        command = sh -c 'sleep 0.2'
        autostart = false

        [job:ok2]
        command = true
        autostart = false

        [job:bad]
        command = sh -c 'sleep 0.2; exit 1'
        autostart = false

        [job:seven]
        command = sh -c 'sleep 0.3; exit 7'
        autostart = false

        [job:long]
        command = sleep 300
        autostart = false
        """

    def test_wait_one_job_passes_exit_code(self):
        self.ctl("start", "three", check=0)
        self.ctl("wait", "three", check=3)

    def test_wait_one_job_killed_by_signal(self):
        self.ctl("start", "killed")
        self.ctl("wait", "killed", check=128 + 9)
        j = self.job("killed")
        self.assertEqual((j["state"], j["signal"], j["exit_code"]), ("failed", "KILL", None),
                         self.msg(json.dumps(j)))

    def test_wait_returns_after_run_is_recorded(self):
        self.ctl("start", "seven", check=0)
        self.ctl("wait", "seven", check=7)
        j = self.job("seven")
        self.assertEqual((j["state"], j["exit_code"], j["pid"]), ("failed", 7, None),
                         self.msg(json.dumps(j)))
        self.assertIsNotNone(j["ended_at"])

    def test_wait_several_all_succeed(self):
        self.ctl("start", "ok1", "ok2", check=0)
        self.ctl("wait", "ok1", "ok2", check=0)
        st = self.status("ok1", "ok2")
        self.assertEqual({j["state"] for j in st.values()}, {"exited"})

    def test_wait_several_one_fails(self):
        self.ctl("start", "ok1", "bad", check=0)
        self.ctl("wait", "ok1", "bad", check=1)
        self.ctl("start", "ok2", "three", "ok1")
        self.ctl("wait", "ok*", "three", check=1)

    def test_wait_timeout(self):
        self.ctl("start", "long", "ok2", check=0)
        t0 = time.monotonic()
        r = self.ctl("wait", "--timeout", "500ms", "long", "ok2", check=124)
        self.assertLess(time.monotonic() - t0, T_LONG)
        self.assertIn("long", r.stdout + r.stderr, self.msg("must name the unfinished job", r))
        self.assertEqual(self.job("long")["state"], "running", "wait must not stop the job")

    def test_wait_on_final_job_returns_at_once(self):
        self.ctl("run", "ok2", check=0)
        self.ctl("wait", "--timeout", "20s", "ok2", check=0)

    def test_run_passes_exit_code(self):
        self.ctl("run", "seven", check=7)
        self.ctl("run", "three", check=3)
        self.ctl("run", "ok2", check=0)
        self.ctl("run", "killed", check=137)
        j = self.job("seven")
        self.assertEqual((j["state"], j["exit_code"]), ("failed", 7))

    def test_run_twice_runs_twice(self):
        self.ctl("run", "ok2", check=0)
        r1 = self.job("ok2")["run"]
        self.ctl("run", "ok2", check=0)
        self.assertGreater(self.job("ok2")["run"], r1, "run of a finished job starts a new run")


class CliTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300

        [job:tmpl@]
        command = true
        autostart = false
        """

    def test_version(self):
        r = self.ctl("version", check=0)
        self.assertRegex(r.stdout, r"\d+\.\d+\.\d+", self.msg("version number", r))
        rep = self.request({"cmd": "version"})
        self.assertIs(rep["ok"], True)
        self.assertEqual(rep["protocol"], 1)
        self.assertRegex(rep["version"], r"^\d+\.\d+\.\d+")

    def test_help(self):
        r = self.ctl("--help", sock=False, check=0)
        out = r.stdout + r.stderr
        self.assertRegex(out.lower(), r"usage", self.msg("", r))
        for cmd in ("status", "start", "stop", "restart", "signal", "wait", "run", "reload",
                    "shutdown"):
            self.assertIn(cmd, out, self.msg(f"--help does not mention {cmd}", r))

    def test_usage_errors_exit_2(self):
        cases = [
            [],
            ["frobnicate"],
            ["--no-such-option", "status"],
            ["start"],
            ["stop"],
            ["restart"],
            ["signal"],
            ["signal", "USR1"],
            ["wait"],
            ["wait", "--timeout"],
            ["wait", "--timeout", "soon", "svc"],
            ["run"],
            ["run", "svc", "tmpl@x"],
            ["logs"],
            ["logs", "-n", "many", "svc"],
            ["status", "--bogus"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = self.ctl(*args)
                self.assertEqual(r.returncode, 2, self.msg("usage error", r))
                self.assertTrue(r.stderr.strip(), self.msg("usage errors say why on stderr", r))
        self.assertEqual(self.job("svc")["state"], "running")

    def test_unknown_job_exits_4(self):
        cases = [
            ["status", "nosuch"],
            ["start", "nosuch"],
            ["stop", "nosuch"],
            ["restart", "nosuch"],
            ["signal", "TERM", "nosuch"],
            ["wait", "nosuch"],
            ["run", "nosuch"],
            ["status", "zzz*"],
            ["start", "nosuch@x"],
            ["status", "svc", "nosuch"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = self.ctl(*args)
                self.assertEqual(r.returncode, 4, self.msg("unknown job", r))
                self.assertIn("nosuch" if "zzz*" not in args else "zzz", r.stdout + r.stderr,
                              self.msg("the error names the pattern", r))
        self.assertEqual(self.job("svc")["state"], "running")

    def test_daemon_unreachable_exits_3(self):
        r = self.ctl("-s", f"{self.d}/nope.sock", "status", sock=False)
        self.assertEqual(r.returncode, 3, self.msg("missing socket", r))
        # a socket file nobody listens on
        stale = f"{self.d}/stale.sock"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()
        r = self.ctl("-s", stale, "status", sock=False)
        self.assertEqual(r.returncode, 3, self.msg("socket without listener", r))
        r = self.ctl("-s", stale, "start", "svc", sock=False)
        self.assertEqual(r.returncode, 3, self.msg("socket without listener", r))

    def test_socket_from_environment(self):
        r = self.ctl("--json", "status", sock=False, env={"SUPD_SOCKET": self.sock}, check=0)
        self.assertIn("svc", r.stdout)


class LogsHistoryEventsTest(SupdCase):
    CONFIG = """
        [job:talk]
        command = sh -c 'echo line1; echo line2; echo line3'
        stdout = log
        autostart = false

        [job:quick]
        command = true
        autostart = false

        [job:three]
        command = sh -c 'exit 3'
        autostart = false
        """

    def test_logs(self):
        self.ctl("run", "talk", check=0)      # run returns once the output is in logs
        r = self.ctl("logs", "talk", check=0)
        for l in ("line1", "line2", "line3"):
            self.assertIn(l, r.stdout, self.msg("", r))
        r = self.ctl("logs", "-n", "2", "talk", check=0)
        self.assertIn("line2", r.stdout, self.msg("", r))
        self.assertIn("line3", r.stdout, self.msg("", r))
        self.assertNotIn("line1", r.stdout, self.msg("-n 2 shows the last two lines", r))

    def test_history(self):
        self.ctl("run", "quick", check=0)
        self.ctl("run", "three", check=3)
        self.ctl("run", "quick", check=0)
        runs = self.history("quick")
        self.assertEqual(len(runs), 2, runs)
        self.assertTrue(all(r["name"] == "quick" for r in runs), runs)
        self.assertLess(runs[0]["run"], runs[1]["run"], "oldest first")
        self.assertEqual([r["exit_code"] for r in runs], [0, 0])
        allruns = self.history()
        self.assertEqual([r["name"] for r in allruns], ["quick", "three", "quick"], allruns)
        self.assertEqual(allruns[1]["exit_code"], 3)
        for r in allruns:
            self.assertRegex(r["ended_at"], RFC3339_US)

    def test_events_cli(self):
        p = subprocess.Popen([SUPCTL, "-s", self.sock, "--json", "events"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=_clean_env())
        self.addCleanup(lambda: (p.kill(), p.wait()))
        lines = queue.Queue()

        def reader():
            for line in p.stdout:
                lines.put(line)
        threading.Thread(target=reader, daemon=True).start()
        # we cannot know when the subscription is in place: start the job until an event shows up
        got = None
        deadline = time.monotonic() + T_LONG
        while got is None and time.monotonic() < deadline:
            self.ctl("start", "quick")
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                try:
                    line = lines.get(timeout=0.1)
                except queue.Empty:
                    continue
                ev = json.loads(line)
                if ev.get("name") == "quick":
                    got = ev
                    break
        self.assertIsNotNone(got, self.msg("no event line for quick from supctl --json events"))
        self.assertIn(got["event"], ("started", "exited", "state"))
        self.assertIn("state", got)

    def test_subscribe_raw(self):
        c = self.conn(timeout=T_SHORT)
        rep = c.request({"cmd": "subscribe"})
        self.assertIs(rep["ok"], True, rep)
        self.ctl("run", "three", check=3)
        events = []
        while not any(e.get("event") == "exited" and e.get("name") == "three" for e in events):
            try:
                events.append(c.recv_json())
            except (socket.timeout, EOFError) as e:
                self.fail(self.msg(f"no exited event for three ({e}); got {events}"))
        started = [e for e in events if e.get("event") == "started" and e.get("name") == "three"]
        self.assertTrue(started, f"a started event comes before exited: {events}")
        ex = [e for e in events if e.get("event") == "exited"][-1]
        self.assertEqual(ex["exit_code"], 3)
        for f in ("state", "run", "started_at"):
            self.assertIn(f, ex)


if __name__ == "__main__":
    unittest.main(verbosity=2)
