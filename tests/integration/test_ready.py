# SPDX-License-Identifier: ISC
"""Readiness (SPEC §7): ready = notify (every NOTIFY_SOCKET message kind,
the watchdog, the socket's owner and lifetime), fd:N, log:ERE, command:,
ready_timeout; wait --up and run/wait exit statuses of runs supd failed.

A job is `starting` from its spawn until the signal, then `running`: the
timestamps show it (started_at, then the state's since)."""
import os
import signal
import socket
import subprocess
import time

from supdtest import IS_ROOT, NOBODY, SUPCTL, SupdCase, T_LONG, parse_time, wait_for

# tests/tools/notify-ready: a Type=notify program built on libsystemd's sd_notify(3)
# (found beside supctl: $SUPD may be a wrapper, tests/supd-valgrind)
NOTIFY_READY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(SUPCTL))), "tests", "tools",
                            "notify-ready")

# send.py MSG...: one datagram per argument to $NOTIFY_SOCKET; "sleep:S" sleeps S seconds
SEND = """\
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for a in sys.argv[1:]:
    if a.startswith("sleep:"):
        time.sleep(float(a[6:]))
    else:
        s.sendto(a.encode(), os.environ["NOTIFY_SOCKET"])
"""


class ReadyCase(SupdCase):
    def setUp(self):
        super().setUp()
        self.write("send.py", SEND)

    def send(self, *msgs):
        return "python3 {d}/send.py " + " ".join(msgs)

    def line_of(self, name):
        """The first whole line a job wrote to {d}/name."""
        path = os.path.join(self.d, name)
        text = wait_for(lambda: (open(path).read() if os.path.exists(path) else "").partition("\n")[0]
                        if "\n" in (open(path).read() if os.path.exists(path) else "") else None, T_LONG)
        self.assertTrue(text, f"{path}: no line")
        return text

    def since(self, name):
        return parse_time(self.job(name)["since"])

    def started_at(self, name):
        return parse_time(self.job(name)["started_at"])


class NotifyTest(ReadyCase):
    CONFIG = f"""
        [job:nr]
        command = {NOTIFY_READY} --init 400 --status "serving 3 clients"
        autostart = false
        ready = notify

        [job:env]
        command = sh -c 'echo "$NOTIFY_SOCKET $WATCHDOG_USEC $WATCHDOG_PID $$" > {{d}}/env; exec sleep 1000'
        autostart = false
        ready = notify
        watchdog = 10s

        [job:pipe]
        command = sh -c 'echo "$WATCHDOG_USEC $WATCHDOG_PID" > {{d}}/env1; exec sleep 1000' | sh -c 'echo "x$WATCHDOG_USEC x$WATCHDOG_PID $NOTIFY_SOCKET" > {{d}}/env2; exec sleep 1000'
        autostart = false
        ready = notify
        watchdog = 5s

        [job:reloading]
        command = sh -c 'python3 {{d}}/send.py READY=1 RELOADING=1; exec sleep 1000'
        autostart = false
        ready = notify

        [job:reloaded]
        command = sh -c 'python3 {{d}}/send.py READY=1 RELOADING=1 sleep:0.5 READY=1; exec sleep 1000'
        autostart = false
        ready = notify

        [job:stops]
        command = sh -c 'python3 {{d}}/send.py READY=1 sleep:0.3 STOPPING=1; sleep 1; exit 0'
        autostart = false
        ready = notify
        restart = no

        [job:lingers]
        command = sh -c 'trap "" TERM; python3 {{d}}/send.py READY=1 STOPPING=1 sleep:0.3 EXTEND_TIMEOUT_USEC=2000000; exec sleep 1000'
        autostart = false
        ready = notify
        stop_timeout = 1s
        restart = no

        [job:extend]
        command = sh -c 'python3 {{d}}/send.py EXTEND_TIMEOUT_USEC=3000000 sleep:1 READY=1; exec sleep 1000'
        autostart = false
        ready = notify
        ready_timeout = 500ms

        [job:silent]
        command = sh -c 'echo "$NOTIFY_SOCKET" >> {{d}}/sockets; exec sleep 1000'
        autostart = false
        ready = notify
        ready_timeout = 700ms
        restart = on-failure
        restart_delay = 100ms
        """

    def test_sd_notify_program_goes_up(self):
        self.ctl("start", "nr", check=0)
        j = self.job("nr")
        self.assertEqual(j["state"], "starting")
        self.assertIs(j["ready"], False)
        self.ctl("wait", "--up", "--timeout", "20s", "nr", check=0)
        j = self.job("nr")
        self.assertEqual(j["state"], "running")
        self.assertIs(j["ready"], True)
        # starting for its init, then running
        self.assertGreaterEqual(self.since("nr") - self.started_at("nr"), 0.35)
        self.assertEqual(j["status_text"], "serving 3 clients")
        r = self.ctl("status", check=0, env={"COLUMNS": "200"})
        row = [l for l in r.stdout.splitlines() if l.startswith("nr ")][0]
        self.assertTrue(row.endswith("serving 3 clients"), self.msg(row, r))

    def test_environment(self):
        self.ctl("start", "env", check=0)
        v = self.line_of("env").split()
        self.assertEqual(len(v), 4, v)
        self.assertTrue(v[0].startswith(os.path.join(self.d, "notify") + "/"), v)
        st = os.stat(v[0])
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(v[1], "10000000")
        self.assertEqual(v[2], v[3])                  # WATCHDOG_PID: the process itself
        self.assertEqual(int(v[2]), self.job("env")["pid"])
        self.ctl("stop", "env", check=0)
        self.assertFalse(os.path.exists(v[0]), "socket left after the run")

    def test_watchdog_is_the_first_stage_s(self):
        self.ctl("start", "pipe", check=0)
        one = self.line_of("env1").split()
        two = self.line_of("env2").split()
        self.assertEqual(one[0], "5000000")
        self.assertEqual(int(one[1]), self.job("pipe")["pid"])
        self.assertEqual(two[:2], ["x", "x"])        # the second stage: no WATCHDOG_*
        self.assertTrue(two[2].startswith(self.d), two)   # but the socket

    def test_reloading_clears_ready(self):
        self.ctl("start", "reloading", check=0)
        self.wait_job("reloading", lambda j: j["state"] == "running" and j["ready"] is False,
                      what="running, not ready")
        self.ctl("start", "reloaded", check=0)
        self.wait_job("reloaded", lambda j: j["state"] == "running" and j["ready"] is True, what="ready again")

    def test_stopping_without_a_signal(self):
        self.ctl("start", "stops", check=0)
        self.wait_state("stops", "stopping")
        pid = self.job("stops")["pid"]
        r = self.ctl("wait", "stops", check=0)        # exit 0 after STOPPING=1: its own end
        j = self.job("stops")
        self.assertEqual(j["state"], "exited", self.msg("", r))
        self.assertIsNone(j["signal"])
        self.assertEqual(j["exit_code"], 0)
        self.assertGreaterEqual(parse_time(j["ended_at"]) - parse_time(j["started_at"]), 1.0)
        del pid

    def test_stopping_run_is_read_and_stop_timeout_extended(self):
        # STOPPING=1, then 0.3 s later EXTEND_TIMEOUT_USEC=2s while stopping:
        # SIGKILL comes 2 s after that message, not stop_timeout (1 s) after STOPPING=1
        self.ctl("start", "lingers", check=0)
        self.wait_state("lingers", "stopping")
        self.ctl("wait", "lingers", check=137)
        j = self.job("lingers")
        self.assertEqual(j["signal"], "KILL")
        self.assertGreaterEqual(parse_time(j["ended_at"]) - parse_time(j["started_at"]), 2.2)

    def test_extend_timeout_moves_ready_timeout(self):
        self.ctl("start", "extend", check=0)
        self.ctl("wait", "--up", "--timeout", "20s", "extend", check=0)
        j = self.job("extend")
        self.assertEqual(j["state"], "running")
        self.assertIsNone(j["error"])
        self.assertGreaterEqual(self.since("extend") - self.started_at("extend"), 0.9)

    def test_other_uid_refused_and_other_runs_socket_does_not_count(self):
        self.ctl("start", "silent", check=0)
        path = self.line_of("sockets").split()[0]
        if IS_ROOT:
            # another user cannot send to the socket (0600, the job's uid)
            r = subprocess.run(["python3", "-c", "import socket, sys\n"
                                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                                "try:\n s.sendto(b'READY=1', sys.argv[1])\n"
                                "except PermissionError:\n sys.exit(13)\n", path],
                               user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True)
            self.assertEqual(r.returncode, 13, r.stderr)
            self.assertEqual(self.job("silent")["state"], "starting")
        # ready_timeout: run 1 fails, run 2 starts; run 1's socket is gone
        self.wait_job("silent", lambda j: j["restarts"] >= 1 and j["state"] == "starting", what="run 2")
        first = self.job("silent")
        self.assertFalse(os.path.exists(path))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with self.assertRaises(OSError):
            s.sendto(b"READY=1", path)
        # a message to another job's socket does not make this one up
        self.ctl("start", "env", check=0)
        other = self.line_of("env").split()[0]
        s.sendto(b"READY=1", other)
        self.wait_state("env", "running")
        j = self.job("silent")
        if j["run"] == first["run"]:             # not timed out again meanwhile
            self.assertEqual(j["state"], "starting")


class WatchdogTest(ReadyCase):
    CONFIG = f"""
        [job:miss]
        command = {NOTIFY_READY} --watchdog --watchdog-stop 600
        autostart = false
        ready = notify
        watchdog = 300ms
        restart = no

        [job:fed]
        command = {NOTIFY_READY} --watchdog
        autostart = false
        ready = notify
        watchdog = 300ms

        [job:trigger]
        command = sh -c 'trap "exit 0" TERM; python3 {{d}}/send.py READY=1 sleep:0.3 WATCHDOG=trigger; while :; do sleep 0.1; done'
        autostart = false
        ready = notify
        restart = no

        [job:usec]
        command = sh -c 'trap "exit 0" TERM; python3 {{d}}/send.py READY=1 WATCHDOG_USEC=300000; while :; do sleep 0.1; done'
        autostart = false
        ready = notify
        restart = no
        """

    def test_missed_watchdog_fails_the_run(self):
        self.ctl("start", "miss", check=0)
        self.ctl("wait", "--up", "miss", check=0)
        r = self.ctl("wait", "miss", check=1)
        self.assertIn("watchdog timeout", r.stderr, self.msg("", r))
        j = self.job("miss")
        self.assertEqual(j["state"], "failed")
        self.assertEqual(j["error"], "watchdog timeout")
        # pinged for 600 ms (every 150 ms), then 300 ms more
        self.assertGreaterEqual(parse_time(j["ended_at"]) - parse_time(j["started_at"]), 0.7)

    def test_fed_watchdog_keeps_it_up(self):
        self.ctl("start", "fed", check=0)
        self.ctl("wait", "--up", "fed", check=0)
        time.sleep(1.2)
        j = self.job("fed")
        self.assertEqual(j["state"], "running")
        self.assertEqual(j["restarts"], 0)

    def test_watchdog_trigger(self):
        self.ctl("start", "trigger", check=0)
        r = self.ctl("wait", "trigger", check=1)
        j = self.job("trigger")
        self.assertEqual(j["state"], "failed", self.msg("", r))
        self.assertEqual(j["error"], "watchdog timeout")

    def test_watchdog_usec_sets_this_runs_watchdog(self):
        self.ctl("start", "usec", check=0)
        self.ctl("wait", "usec", check=1)       # it exited 0 on TERM: 1, not 0
        self.assertEqual(self.job("usec")["error"], "watchdog timeout")


class OtherKindsTest(ReadyCase):
    CONFIG = """
        [job:fd]
        command = sh -c 'sleep 0.3; echo >&5; exec sleep 1000'
        autostart = false
        ready = fd:5

        [job:fdeof]
        command = sh -c 'printf x >&5; exec 5>&-; trap "exit 0" TERM; while :; do sleep 0.1; done'
        autostart = false
        ready = fd:5
        ready_timeout = 600ms
        restart = no

        [job:log]
        command = sh -c 'echo starting; sleep 0.3; echo "listening on port 8080"; exec sleep 1000'
        autostart = false
        ready = log:listening on port [0-9]+$
        stdout = log

        [job:cmd]
        command = sleep 1000
        autostart = false
        ready = command:test -f {d}/flag
        ready_interval = 100ms

        [job:notready]
        command = sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
        autostart = false
        ready = command:false
        ready_interval = 100ms
        ready_timeout = 500ms
        restart = on-failure
        restart_delay = 100ms
        """

    def test_fd_newline(self):
        self.ctl("start", "fd", check=0)
        self.assertEqual(self.job("fd")["state"], "starting")
        self.ctl("wait", "--up", "fd", check=0)
        self.assertGreaterEqual(self.since("fd") - self.started_at("fd"), 0.25)

    def test_fd_eof_without_newline_is_left_to_ready_timeout(self):
        self.ctl("start", "fdeof", check=0)
        r = self.ctl("wait", "fdeof", check=1)
        self.assertEqual(self.job("fdeof")["error"], "not ready within 600ms", self.msg("", r))

    def test_log_match(self):
        self.ctl("start", "log", check=0)
        self.assertEqual(self.job("log")["state"], "starting")
        self.ctl("wait", "--up", "log", check=0)
        self.assertGreaterEqual(self.since("log") - self.started_at("log"), 0.25)

    def test_command(self):
        self.ctl("start", "cmd", check=0)
        time.sleep(0.4)
        self.assertEqual(self.job("cmd")["state"], "starting")
        t = time.time()
        open(os.path.join(self.d, "flag"), "w").close()
        self.ctl("wait", "--up", "cmd", check=0)
        self.assertGreaterEqual(self.since("cmd"), t)

    def test_ready_timeout_restarts_by_policy(self):
        self.ctl("start", "notready", check=0)
        self.wait_job("notready", lambda j: j["restarts"] >= 1, what="restarted")
        rec = self.history("notready")[0]
        self.assertEqual(rec["error"], "not ready within 500ms")
        self.assertEqual(rec["exit_code"], 0)
        self.ctl("stop", "notready", check=0)
