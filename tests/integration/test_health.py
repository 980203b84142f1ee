# SPDX-License-Identifier: ISC
"""Health checks (SPEC §7): health_command from the moment the job is up,
health going unhealthy and the restart that follows, health_action =
report, checks never overlapping and killed at health_timeout, checks run
as the job's user without its secrets or NOTIFY_SOCKET, the `:healthy`
requirement, and the `health` events."""
import json
import os
import time
import unittest

from supdtest import IS_ROOT, NOBODY, SupdCase, T_LONG, parse_time, wait_for
from supdtest import read_file
from test_cgroup import SKIP, CgroupCase
from test_logs_events import LineReader, ctl_popen

LOOP = 'trap "exit 0" TERM; while :; do sleep 0.1; done'


class HealthTest(SupdCase):
    CONFIG = f"""
        [job:web]
        command = sh -c '{LOOP}'
        autostart = false
        restart = on-failure
        restart_delay = 100ms
        health_command = test -f {{d}}/healthy
        health_interval = 100ms
        health_retries = 2

        [job:reported]
        command = sh -c '{LOOP}'
        autostart = false
        health_command = test -f {{d}}/healthy
        health_interval = 100ms
        health_retries = 1
        health_action = report

        [job:slowcheck]
        command = sh -c '{LOOP}'
        autostart = false
        health_command = sh -c 'echo "start $$" >> {{d}}/checks; sleep 5; echo end >> {{d}}/checks'
        health_interval = 50ms
        health_timeout = 300ms
        health_retries = 100

        [job:late]
        command = sh -c 'sleep 0.5; python3 -c "import os, socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\\"READY=1\\", os.environ[\\"NOTIFY_SOCKET\\"])"; {LOOP}'
        autostart = false
        ready = notify
        health_command = sh -c 'date +%%s.%%N >> {{d}}/late'
        health_interval = 100ms

        [job:app]
        command = sleep 1000
        autostart = false
        requires = web:healthy
        """

    def flag(self, on):
        p = os.path.join(self.d, "healthy")
        if on:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    def test_unhealthy_restarts(self):
        self.flag(True)
        p = ctl_popen(self, "--json", "events")
        rd = LineReader(p)
        self.ctl("start", "web", check=0)
        self.wait_job("web", lambda j: j["health"] == "healthy", what="healthy")
        self.flag(False)
        self.wait_job("web", lambda j: j["restarts"] >= 1, what="restarted after unhealthy")
        rec = self.history("web")[0]
        self.assertEqual(rec["error"], "unhealthy")
        self.assertEqual(rec["exit_code"], 0)           # exited 0 on TERM: still a failure
        self.assertEqual(self.job("web")["health"] in ("unknown", "unhealthy"), True)
        self.flag(True)
        self.wait_job("web", lambda j: j["health"] == "healthy", what="healthy again")
        evs = []
        for line in rd.collect():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("name") == "web" and e.get("event") == "health":
                evs.append(e["health"])
        self.assertIn("healthy", evs)
        self.assertIn("unhealthy", evs)
        self.ctl("stop", "web", check=0)

    def test_report_only(self):
        self.flag(True)
        self.ctl("start", "reported", check=0)
        self.wait_job("reported", lambda j: j["health"] == "healthy", what="healthy")
        self.flag(False)
        self.wait_job("reported", lambda j: j["health"] == "unhealthy", what="unhealthy")
        time.sleep(0.5)
        j = self.job("reported")
        self.assertEqual(j["state"], "running")
        self.assertEqual(j["restarts"], 0)
        self.assertEqual(j["health"], "unhealthy")
        r = self.ctl("status", check=0, env={"COLUMNS": "200"})
        row = [l for l in r.stdout.splitlines() if l.startswith("reported ")][0]
        self.assertIn("unhealthy", row)

    def test_checks_never_overlap_and_are_killed_at_timeout(self):
        self.ctl("start", "slowcheck", check=0)
        path = os.path.join(self.d, "checks")
        wait_for(lambda: os.path.exists(path) and open(path).read().count("start") >= 3, T_LONG)
        lines = open(path).read().split("\n")
        starts = [l.split()[1] for l in lines if l.startswith("start")]
        self.assertGreaterEqual(len(starts), 3)
        self.assertNotIn("end", lines)
        # each check's shell is gone before the next starts: only the last may live
        for pid in starts[:-1]:
            self.assertFalse(os.path.exists(f"/proc/{pid}"), f"check {pid} still running")
        self.assertEqual(self.job("slowcheck")["health"], "unhealthy")
        self.assertEqual(self.job("slowcheck")["state"], "running")

    def test_no_checks_while_starting(self):
        self.ctl("start", "late", check=0)
        self.assertEqual(self.job("late")["health"], "unknown")
        self.ctl("wait", "--up", "late", check=0)
        up = parse_time(self.job("late")["since"])
        path = os.path.join(self.d, "late")
        wait_for(lambda: os.path.exists(path) and open(path).read().count("\n") >= 2, T_LONG)
        first = float(open(path).read().split()[0])
        self.assertGreaterEqual(first, up - 0.01)
        self.wait_job("late", lambda j: j["health"] == "healthy", what="healthy")

    def test_healthy_requirement(self):
        self.flag(False)
        self.ctl("start", "app", check=0)
        self.wait_state("web", "running")
        time.sleep(0.3)
        self.assertEqual(self.job("app")["state"], "waiting")
        self.flag(True)
        self.wait_running("app")
        self.assertEqual(self.job("web")["health"], "healthy")


class CheckIsolationTest(SupdCase):
    CONFIG = """
        [job:iso]
        command = sh -c 'python3 -c "import os, socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\\"READY=1\\", os.environ[\\"NOTIFY_SOCKET\\"])"; exec sleep 1000'
        autostart = false
        user = nobody
        ready = notify
        secret = 7 {d}/secret
        health_command = sh -c 'id -u > {d}/out/uid; env > {d}/out/env; ls /proc/self/fd > {d}/out/fds; echo "$(ps -o pgid= -p $$)" > {d}/out/pgid'
        health_interval = 1h
        """

    def setUp(self):
        if not IS_ROOT:
            self.skipTest("needs root to run a job as nobody")
        super().setUp()

    def test_as_job_without_secrets_or_notify(self):
        self.write("secret", "hunter2\n", mode=0o600)
        os.makedirs(os.path.join(self.d, "out"))
        os.chmod(os.path.join(self.d, "out"), 0o777)
        os.chmod(self.d, 0o755)
        self.ctl("start", "iso", check=0)
        self.wait_job("iso", lambda j: j["health"] == "healthy", what="healthy")
        out = os.path.join(self.d, "out")
        self.assertEqual(open(os.path.join(out, "uid")).read().strip(), str(NOBODY))
        env = open(os.path.join(out, "env")).read()
        self.assertNotIn("NOTIFY_SOCKET", env)
        self.assertNotIn("WATCHDOG_", env)
        self.assertIn("SUPD_JOB=iso", env)
        fds = open(os.path.join(out, "fds")).read().split()
        self.assertNotIn("7", fds)
        pgid = int(open(os.path.join(out, "pgid")).read())
        self.assertNotEqual(pgid, self.job("iso")["pid"])   # a process group of its own


@unittest.skipIf(SKIP, SKIP)
class CheckCgroupTest(CgroupCase):
    """Checks run in the run's c-RUN cgroup, not the job's r-RUN; what a
    check leaves behind there (a setsid() escapee) is killed when the run
    ends."""
    CONFIG = """
        [job:hc]
        command = sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
        autostart = false
        health_command = sh -c 'cat /proc/self/cgroup > {d}/hc.cg; setsid sleep 300 & echo $! > {d}/left.pid; sleep 0.3'
        health_interval = 1h

        [job:rc]
        command = sleep 1000
        autostart = false
        ready = command:sh -c 'cat /proc/self/cgroup > {d}/rc.cg'
        """

    def test_checks_in_their_own_cgroup(self):
        self.ctl("start", "hc", check=0)
        run = self.job("hc")["run"]
        self.wait_job("hc", lambda j: j["health"] == "healthy", what="healthy")
        cg = read_file(os.path.join(self.d, "hc.cg")).strip()
        self.assertTrue(cg.endswith(f"/jobs/j-hc/c-{run}"), cg)
        self.assertNotEqual(cg, self.job("hc")["cgroup"])
        pid = self.escapee("left.pid")
        self.ctl("stop", "hc", check=0)
        self.assertTrue(self.gone("left.pid"), f"check's escapee {pid} outlived the run")
        self.ctl("start", "rc", check=0)
        self.ctl("wait", "--up", "rc", check=0)
        cg = read_file(os.path.join(self.d, "rc.cg")).strip()
        self.assertTrue(cg.endswith(f"/jobs/j-rc/c-{self.job('rc')['run']}"), cg)
