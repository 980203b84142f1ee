# SPDX-License-Identifier: ISC
"""systemd glue without systemd (SPEC §6, issue 4): sd_notify messages on a
test-owned NOTIFY_SOCKET, watchdog pings, socket activation through
systemd-socket-activate, and jobs that never see supd's systemd variables.

The real-systemd test (a container with systemd as PID 1) is
tests/systemd/nspawn-test; these checks are cheap enough for `make check`.
Without NOTIFY_SOCKET (every other test file) the glue must stay silent.
"""
import os
import re
import shutil
import signal
import socket
import struct
import threading
import time
import unittest

import supdtest
from supdtest import SupdCase, T_LONG, T_SHORT, read_file, wait_for

# variables supd gets from systemd that must never reach a job
PRIVATE_ENV = ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
               "WATCHDOG_USEC", "WATCHDOG_PID")

SOCKET_ACTIVATE = shutil.which("systemd-socket-activate") or next(
    (p for p in ("/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate",
                 "/usr/lib/systemd/systemd-socket-activate") if os.access(p, os.X_OK)), None)

ENV_JOB = """
    [job:envdump]
    command = sh -c 'env > {d}/env.tmp && mv {d}/env.tmp {d}/env'
    """


class NotifyListener:
    """A bound AF_UNIX datagram socket playing systemd's NOTIFY_SOCKET.

    A thread reads every datagram (the kernel queue holds only
    net.unix.max_dgram_qlen = 10 of them, and sd_notify() blocks when it is
    full) and records (monotonic time, sender pid, {key: value}, raw text).
    on_message(msg) runs in the thread, right after a datagram arrives.
    """

    def __init__(self, path, on_message=None):
        self.path = path
        self.on_message = on_message
        self.msgs = []
        self.cond = threading.Condition()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        cmsg_space = socket.CMSG_SPACE(struct.calcsize("3i"))
        while not self.stopped:
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, cmsg_space)
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:struct.calcsize("3i")])[0]
            text = data.decode(errors="replace")
            fields = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            msg = {"t": time.monotonic(), "pid": pid, "fields": fields, "text": text}
            if self.on_message:
                try:
                    self.on_message(msg)
                except Exception as e:          # recorded, reported by the test
                    msg["hook_error"] = repr(e)
            with self.cond:
                self.msgs.append(msg)
                self.cond.notify_all()

    def snapshot(self):
        with self.cond:
            return list(self.msgs)

    def wait(self, pred, timeout=T_LONG, start=0):
        """Wait for a message at index >= start with pred(msg); return its index or None."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.msgs)):
                    if pred(self.msgs[i]):
                        return i
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def close(self):
        self.stopped = True
        self.thread.join(2)
        self.sock.close()


def is_ready(m):
    return m["fields"].get("READY") == "1"


def is_reloading(m):
    return m["fields"].get("RELOADING") == "1"


def is_stopping(m):
    return m["fields"].get("STOPPING") == "1"


def is_watchdog(m):
    return m["fields"].get("WATCHDOG") == "1"


class SdCase(SupdCase):
    """Starts supd by hand (START_DAEMON = False) with a notify listener."""
    START_DAEMON = False

    def setUp(self):
        super().setUp()
        self.notify_path = os.path.join(self.d, "notify")
        self.listener = None

    def listen(self, on_message=None):
        self.listener = NotifyListener(self.notify_path, on_message)
        self.addCleanup(self.listener.close)
        return self.listener

    def start_wrapped(self, wrapper_body, env, wait=True):
        """Start supd through a /bin/sh wrapper that execs it (same pid), e.g.
        to set WATCHDOG_PID=$$.  wrapper_body sees the real binary as "$SUPD_REAL"."""
        wrapper = self.write("supd-wrapper", "#!/bin/sh\n" + wrapper_body + "\n", 0o755)
        env = dict(env, SUPD_REAL=os.path.abspath(supdtest.SUPD)
                   if os.path.sep in supdtest.SUPD else shutil.which(supdtest.SUPD))
        saved = supdtest.SUPD
        supdtest.SUPD = wrapper          # start_daemon() runs [SUPD, -c, CONF, ...]
        try:
            self.start_daemon(env=env, wait=wait)
        finally:
            supdtest.SUPD = saved

    def notify_log(self):
        msgs = self.listener.snapshot() if self.listener else []
        return "--- datagrams on NOTIFY_SOCKET ---\n" + "\n".join(
            f"{m['t']:.3f} pid={m['pid']} {m['text']!r}" for m in msgs)

    def nmsg(self, what):
        return self.msg(what) + "\n" + self.notify_log()

    def check_job_env(self):
        """The envdump job's environment has none of supd's systemd variables."""
        path = os.path.join(self.d, "env")
        self.wait_file(path)
        names = {l.split("=", 1)[0] for l in read_file(path, "").splitlines() if "=" in l}
        leaked = sorted(names & set(PRIVATE_ENV))
        self.assertEqual(leaked, [], self.msg(f"a job inherited supd's systemd variables {leaked}"))


class NotifyTest(SdCase):
    CONFIG = ENV_JOB + """
        [job:svc]
        command = sleep 300

        [job:late]
        command = sleep 300
        autostart = false

        [job:burst]
        command = sleep 300
        instances = 20
        autostart = false

        [job:stagger]
        command = sh -c 'sleep $(( %i / 10 )).$(( %i %% 10 ))'
        instances = 16
        autostart = false
        """

    def test_notify_sequence(self):
        # the instant READY=1 arrives, the control socket must accept connections
        # and the autostart job must be launched
        at_ready = {}

        def on_message(m):
            if is_ready(m) and "connect" not in at_ready:
                try:
                    with supdtest.Conn(self.sock, T_SHORT) as c:
                        at_ready["connect"] = "ok"
                        at_ready["reply"] = c.request({"cmd": "status", "jobs": ["svc"]})
                except Exception as e:
                    at_ready["connect"] = repr(e)

        lst = self.listen(on_message)
        self.start_daemon(env={"NOTIFY_SOCKET": self.notify_path}, wait=False)
        pid = self.supd_pid()

        i_ready = lst.wait(is_ready)
        self.assertIsNotNone(i_ready, self.nmsg("no READY=1 datagram"))
        ready = lst.snapshot()[i_ready]
        self.assertEqual(ready["pid"], pid, self.nmsg("READY=1 must come from supd's own pid"))
        self.assertIn("STATUS", ready["fields"], self.nmsg("READY=1 comes with a first STATUS="))
        self.assertTrue(ready["fields"]["STATUS"].strip(), self.nmsg("empty STATUS="))
        # autostart jobs (svc, envdump) are launched before READY=1
        self.assertRegex(ready["fields"]["STATUS"], r"\b[1-9][0-9]* running\b",
                         self.nmsg("READY=1 sent before the autostart jobs were launched"))
        self.assertNotIn("\n", ready["fields"]["STATUS"])
        self.assertEqual(at_ready.get("connect"), "ok",
                         self.nmsg(f"control socket not accepting when READY=1 arrived: {at_ready}"))
        reply = at_ready.get("reply") or {}
        svc = [j for j in reply.get("jobs", []) if j.get("name") == "svc"]
        self.assertTrue(svc and svc[0].get("state") == "running",
                        self.nmsg(f"autostart job not launched when READY=1 was sent: {reply}"))
        self.assertEqual(sum(1 for m in lst.snapshot() if is_ready(m)), 1,
                         self.nmsg("READY=1 sent more than once at start-up"))
        self.wait_daemon_up()

        # a STATUS= update once a job starts (2 running: svc and late)
        n = len(lst.snapshot())
        self.ctl("start", "late", check=0)
        i_status = lst.wait(lambda m: re.search(r"\b2 running\b", m["fields"].get("STATUS", "")),
                            start=n)
        self.assertIsNotNone(i_status, self.nmsg("no STATUS= update saying 2 running after "
                                                 "`supctl start late`"))

        # 20 jobs starting at once: the last STATUS= shows the final count
        n = len(lst.snapshot())
        self.ctl("start", "burst", check=0)
        i_last = lst.wait(lambda m: re.search(r"\b22 running\b", m["fields"].get("STATUS", "")),
                          start=n)
        self.assertIsNotNone(i_last, self.nmsg("no STATUS= update saying 22 running after "
                                               "starting 20 more jobs"))
        time.sleep(0.6)                  # any trailing update
        burst = [m for m in lst.snapshot()[n:] if "STATUS" in m["fields"]]
        self.assertRegex(burst[-1]["fields"]["STATUS"], r"\b22 running\b",
                         self.nmsg("the last STATUS= after a burst is stale"))

        # rate limiting: 16 jobs exiting 100 ms apart change the counts 16 times in
        # ~1.5 s; with updates at most every 200 ms supd sends about 8 of them
        n = len(lst.snapshot())
        self.ctl("start", "stagger", check=0)
        self.assertTrue(wait_for(lambda: all(j["state"] == "exited" for j in
                                             self.status_list("stagger")), T_LONG),
                        self.nmsg("stagger jobs did not all exit"))
        time.sleep(0.6)
        upd = [m for m in lst.snapshot()[n:] if "STATUS" in m["fields"]]
        self.assertTrue(upd, self.nmsg("no STATUS= while 16 jobs exit"))
        span = upd[-1]["t"] - upd[0]["t"]
        self.assertLessEqual(len(upd), span / 0.2 + 3,
                             self.nmsg(f"{len(upd)} STATUS= updates in {span:.2f}s: "
                                       "not rate-limited to one per 200ms"))
        self.assertRegex(upd[-1]["fields"]["STATUS"], r"\b22 running\b",
                         self.nmsg("the last STATUS= after the exits is stale"))

        # reload: RELOADING=1, then READY=1
        n = len(lst.snapshot())
        self.ctl("reload", check=0)
        i_rl = lst.wait(is_reloading, start=n)
        self.assertIsNotNone(i_rl, self.nmsg("no RELOADING=1 on supctl reload"))
        i_rd = lst.wait(is_ready, start=i_rl + 1)
        self.assertIsNotNone(i_rd, self.nmsg("no READY=1 after RELOADING=1"))
        self.assertGreater(i_status, i_ready)
        self.assertGreater(i_rl, i_status)

        # a reload that fails also ends with READY=1 (systemd would wait in "reloading")
        with open(self.conf, "a") as f:
            f.write("\n[job:bad]\nbogus_key = 1\n")
        n = len(lst.snapshot())
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 1, self.msg("a bad config fails (1, not 4: SPEC §11)", r))
        i_rl2 = lst.wait(is_reloading, start=n)
        self.assertIsNotNone(i_rl2, self.nmsg("no RELOADING=1 on a failing reload"))
        self.assertIsNotNone(lst.wait(is_ready, start=i_rl2 + 1),
                             self.nmsg("no READY=1 after a failing reload"))

        # SIGTERM: STOPPING=1, then a clean exit
        n = len(lst.snapshot())
        os.kill(pid, signal.SIGTERM)
        i_stop = lst.wait(is_stopping, start=n)
        self.assertIsNotNone(i_stop, self.nmsg("no STOPPING=1 on SIGTERM"))
        self.assertEqual(self.wait_daemon_exit(), 0, self.nmsg("exit status after SIGTERM"))

        msgs = lst.snapshot()
        others = [m for m in msgs if m["pid"] != pid]
        self.assertEqual(others, [], self.nmsg("datagrams from a pid other than supd's"))
        self.assertEqual([m for m in msgs if "hook_error" in m], [])
        # in order: READY, STATUS, RELOADING, READY, RELOADING, READY, STOPPING
        kinds = []
        for m in msgs:
            for k, f in (("RELOADING", is_reloading), ("READY", is_ready),
                         ("STOPPING", is_stopping)):
                if f(m):
                    kinds.append(k)
        self.assertEqual(kinds, ["READY", "RELOADING", "READY", "RELOADING", "READY", "STOPPING"],
                         self.nmsg("READY/RELOADING/STOPPING sequence"))
        self.check_job_env()

    def test_watchdog(self):
        lst = self.listen()
        self.start_wrapped('WATCHDOG_PID=$$ exec "$SUPD_REAL" "$@"',
                           env={"NOTIFY_SOCKET": self.notify_path, "WATCHDOG_USEC": "200000"})
        pid = self.supd_pid()
        # sd-event pings every 1/2..3/4 of WATCHDOG_USEC (100-150 ms here): wait for a
        # few of them (a generous deadline: CI may be slow, a single ping is not enough)
        pinged = wait_for(lambda: sum(1 for m in lst.snapshot() if is_watchdog(m)) >= 5,
                          T_SHORT, 0.05)
        self.assertTrue(pinged, self.nmsg("WATCHDOG=1 does not arrive repeatedly with "
                                          "WATCHDOG_USEC=200000"))
        pings = [m for m in lst.snapshot() if is_watchdog(m)]
        self.assertTrue(all(m["pid"] == pid for m in pings), self.nmsg("pings from another pid"))
        self.check_job_env()

    def test_watchdog_for_another_pid_is_ignored(self):
        # WATCHDOG_PID names someone else (the wrapper's parent): supd must not ping
        lst = self.listen()
        self.start_wrapped('WATCHDOG_PID=$PPID exec "$SUPD_REAL" "$@"',
                           env={"NOTIFY_SOCKET": self.notify_path, "WATCHDOG_USEC": "200000"})
        self.assertIsNotNone(lst.wait(is_ready), self.nmsg("no READY=1"))
        time.sleep(0.8)
        self.assertEqual([m for m in lst.snapshot() if is_watchdog(m)], [],
                         self.nmsg("WATCHDOG=1 sent though WATCHDOG_PID is not supd's pid"))


@unittest.skipIf(SOCKET_ACTIVATE is None, "systemd-socket-activate not installed")
class SocketActivationTest(SdCase):
    CONFIG = ENV_JOB + """
        [job:svc]
        command = sleep 300
        """

    def test_passed_socket(self):
        lst = self.listen()
        # systemd-socket-activate listens on the path and, on the first
        # connection, execs supd (same pid) with LISTEN_FDS=1 LISTEN_PID=$$
        self.start_wrapped(f'exec "{SOCKET_ACTIVATE}" -l "{self.sock}" -E NOTIFY_SOCKET '
                           '"$SUPD_REAL" "$@"',
                           env={"NOTIFY_SOCKET": self.notify_path}, wait=False)
        self.assertTrue(wait_for(lambda: os.path.exists(self.sock), T_LONG),
                        self.msg("systemd-socket-activate did not create the socket"))
        # the first connection activates supd; it must serve it
        r = self.ctl("status", timeout=T_LONG)
        self.assertEqual(r.returncode, 0, self.nmsg("supctl status on the passed socket") +
                         f"\n{r.stdout!r} {r.stderr!r}")
        self.assertIn("svc", r.stdout)
        self.wait_running("svc")
        i = lst.wait(is_ready)
        self.assertIsNotNone(i, self.nmsg("no READY=1 from socket-activated supd"))
        self.assertEqual(lst.snapshot()[i]["pid"], self.supd_pid())
        self.assertRegex(self.daemon_log(), r"(?i)passed|activat",
                         "supd says it serves the passed socket")
        ino = os.stat(self.sock).st_ino
        self.check_job_env()

        os.kill(self.supd_pid(), signal.SIGTERM)
        self.assertEqual(self.wait_daemon_exit(), 0, self.msg("exit status after SIGTERM"))
        self.assertTrue(os.path.exists(self.sock),
                        self.msg("supd removed a socket it did not create (passed by systemd)"))
        self.assertEqual(os.stat(self.sock).st_ino, ino, "the passed socket is the same file")


if __name__ == "__main__":
    unittest.main()
