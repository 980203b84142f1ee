# SPDX-License-Identifier: ISC
"""Faults around supd: its state_dir full or read-only, its fd limit reached,
fork failing (RLIMIT_NPROC). In each, supd says what went wrong (in its log
and in the job's error), keeps supervising what runs, keeps answering, loses
no run it had recorded, and recovers once the cause is gone. And children
get exactly fds 0, 1 and 2.

The state_dir tests need root (a private mount namespace with a tiny tmpfs
or a read-only bind mount); the RLIMIT_NPROC test needs root to run supd as
uid 65534 (root itself is exempt from RLIMIT_NPROC)."""
import os
import shutil
import socket
import subprocess
import time
import unittest

from supdtest import (SupdCase, IS_ROOT, NOBODY, SUPD, T_LONG, T_SHORT,
                      _others_can_exec, read_file, wait_for)

HAVE_UNSHARE = shutil.which("unshare") is not None and shutil.which("nsenter") is not None
HAVE_PRLIMIT = shutil.which("prlimit") is not None
HAVE_SETPRIV = shutil.which("setpriv") is not None


class WrappedSupdCase(SupdCase):
    """A SupdCase whose supd is started through a wrapper command (namespace,
    rlimits, another uid). The wrapper execs supd, so the pid stays the same."""
    START_DAEMON = False

    def runs(self, name):
        """Run numbers of name in history."""
        return [r["run"] for r in self.history(name)]

    def run_job(self, name):
        """supctl run NAME; returns the run number from status."""
        self.ctl("run", name, check=0)
        return self.job(name)["run"]


@unittest.skipUnless(IS_ROOT and HAVE_UNSHARE, "needs root and unshare/nsenter for a private tmpfs")
class StateDirFullTest(WrappedSupdCase):
    """state_dir is a 256 KiB tmpfs in supd's own mount namespace; the test
    fills it up (through /proc/PID/root) and frees it again."""
    CONFIG = """
        [job:t]
        command = true
        autostart = false

        [job:svc]
        command = sleep 300
        restart = always
        restart_delay = 50ms
        start_limit = 0
        """

    def wrapper(self):
        os.makedirs(self.state_dir, exist_ok=True)
        script = (f'mount -t tmpfs -o size=256k,mode=0755 supd-test-state "{self.state_dir}" '
                  f'&& exec "$@"')
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]

    def filler(self):
        return f"/proc/{self.supd_pid()}/root{self.state_dir}/filler"

    def fill(self):
        """Write to the tmpfs until it is full."""
        chunk = b"x" * 4096
        with open(self.filler(), "wb", buffering=0) as f:
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
        st = os.statvfs(f"/proc/{self.supd_pid()}/root{self.state_dir}")
        self.assertEqual(st.f_bavail, 0, "the tmpfs is full")

    def test_full_state_dir_loses_no_recorded_run(self):
        self.start_daemon()
        svc_pid = self.wait_running("svc")["pid"]
        before = [self.run_job("t") for _ in range(5)]
        self.assertEqual(sorted(self.runs("t")), sorted(before))

        self.fill()
        # the history's last page may still hold a few records: run until it is full
        during = []
        while len(during) < 40 and "No space left on device" not in self.daemon_log(0):
            during.append(self.run_job("t"))
        self.assertIn("No space left on device", self.daemon_log(0),
                      self.msg("supd logs why it cannot record runs"))
        during += [self.run_job("t") for _ in range(3)]
        self.assertEqual(len(set(before + during)), len(before + during), "run numbers keep increasing")
        j = self.job("t")
        self.assertEqual((j["state"], j["exit_code"], j["run"]), ("exited", 0, during[-1]),
                         "status still reports every run")
        # supervising goes on: a killed service comes back
        os.kill(svc_pid, 9)
        self.wait_job("svc", lambda j: j["state"] == "running" and j["pid"] not in (None, svc_pid),
                      what="restarted while the state_dir is full")
        self.assertAlive()

        os.unlink(self.filler())
        after = [self.run_job("t") for _ in range(5)]
        hist = self.runs("t")
        for r in before:
            self.assertIn(r, hist, self.msg(f"run {r}, recorded before the disk filled, is lost: {hist}"))
        for r in after:
            self.assertIn(r, hist, self.msg(f"run {r}, after space came back, is not recorded: {hist}"))
        rep = self.request({"cmd": "history", "jobs": ["t"]})
        self.assertEqual(rep.get("skipped"), 0, self.msg(f"no torn record is left in history: {rep}"))
        self.assertEqual(len(hist), len(set(hist)), "each run once")


@unittest.skipUnless(IS_ROOT and HAVE_UNSHARE, "needs root and unshare/nsenter for a read-only bind mount")
class StateDirReadOnlyTest(WrappedSupdCase):
    """state_dir bind-mounted read-only in supd's mount namespace. (It cannot
    become read-only later: a remount is refused while supd has the history
    open for writing; a full disk is the fault that can strike later.)"""
    CONFIG = """
        [job:t]
        command = true
        autostart = false

        [job:svc]
        command = sleep 300

        [job:echo]
        command = echo hello from echo
        stdout = log
        autostart = false
        """

    def wrapper(self):
        os.makedirs(self.state_dir, exist_ok=True)
        script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, self.state_dir]

    def test_read_only_state_dir(self):
        self.start_daemon()
        self.wait_running("svc")
        self.assertIn("runs.jsonl", self.daemon_log(0), self.msg("supd names the history it cannot open"))
        self.assertRegex(self.daemon_log(0), r"Read-only file system")
        r1, r2 = self.run_job("t"), self.run_job("t")
        self.assertEqual(r2, r1 + 1)
        rep = self.request({"cmd": "history"})
        self.assertIs(rep.get("ok"), False, rep)
        self.assertIn("state_dir", rep.get("error", ""), rep)
        self.assertEqual(self.job("svc")["state"], "running")
        # captured output cannot go to its file, but stays in memory
        self.ctl("run", "echo", check=0)
        self.assertEqual(self.ctl("logs", "echo", check=0).stdout.strip(), "hello from echo")
        self.assertAlive()


@unittest.skipUnless(HAVE_PRLIMIT, "needs prlimit (util-linux)")
class FdLimitTest(WrappedSupdCase):
    """supd with RLIMIT_NOFILE 64 and 100 instances that each hold a capture
    pipe in supd."""
    N = 100
    CONFIG = """
        [job:w@]
        command = sleep 300
        stdout = log
        """

    def wrapper(self):
        return ["prlimit", "--nofile=64:64", "--"]

    def fill_table(self):
        names = [f"w@{i}" for i in range(self.N)]
        self.ctl("start", *names)
        return wait_for(lambda: (lambda s: s if len(s) == self.N and all(
            j["state"] in ("running", "fatal") for j in s.values()) else None)(self.status("w")), T_LONG)

    def release_clients(self):
        for c in getattr(self, "clients", []):
            c.close()
        self.clients = []

    def test_clients_past_the_fd_limit_do_not_make_supd_spin(self):
        """With no fd left, accept() fails (EMFILE) while connections wait in
        the backlog: supd must not retry in a busy loop (nor log each try)."""
        self.start_daemon()
        self.assertTrue(self.fill_table(), self.msg("every instance ends up running or fatal"))
        pid = self.supd_pid()
        log_before = self.daemon_log(0).count("accept")
        cpu0 = _cpu_seconds(pid)
        self.clients = []
        self.addCleanup(self.release_clients)
        for _ in range(8):       # more than supd has fds left
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock)
            self.clients.append(s)
        time.sleep(2)
        cpu = _cpu_seconds(pid) - cpu0
        accept_lines = self.daemon_log(0).count("accept") - log_before
        self.release_clients()
        self.ctl("status", "w@0", check=0)
        self.assertLess(cpu, 0.5, self.msg(f"supd used {cpu:.2f}s of CPU in 2s waiting for an fd "
                                           f"to accept a client ({accept_lines} log lines about accept)"))
        self.assertLess(accept_lines, 50, "the failing accept is not logged in a loop")

    def test_spawn_failures_are_reported_and_supd_recovers(self):
        self.start_daemon()
        names = [f"w@{i}" for i in range(self.N)]
        r = self.ctl("start", *names)
        self.assertIn(r.returncode, (0, 1), self.msg("start answers", r))
        st = wait_for(lambda: (lambda s: s if len(s) == self.N and all(
            j["state"] in ("running", "fatal") for j in s.values()) else None)(self.status("w")), T_LONG)
        self.assertTrue(st, self.msg("every instance ends up running or fatal"))
        running = [n for n, j in st.items() if j["state"] == "running"]
        fatal = [j for j in st.values() if j["state"] == "fatal"]
        self.assertTrue(running, "some instances run")
        self.assertTrue(fatal, "the fd limit stops some instances")
        for j in fatal:
            self.assertIn("Too many open files", j["error"] or "", j)
            self.assertEqual(j["exit_status"], 126, j)
        self.assertRegex(self.daemon_log(0), r"Too many open files")
        # still serving, repeatedly, with the table full
        for _ in range(5):
            self.ctl("status", "w@0", check=0)
        self.assertAlive()
        # load drops: everything can run again
        self.release_clients()
        self.ctl("stop", "w", check=0)
        few = names[:10]
        self.ctl("start", *few, check=0)
        st = self.status("w")
        for n in few:
            self.assertEqual(st[n]["state"], "running", st[n])
            self.assertIsNone(st[n]["error"], st[n])


@unittest.skipUnless(IS_ROOT and HAVE_PRLIMIT and HAVE_SETPRIV,
                     "needs root to run supd as another uid (root ignores RLIMIT_NPROC)")
class ForkFailTest(WrappedSupdCase):
    """supd as uid 65534 with RLIMIT_NPROC 6: the fifth job process or so
    cannot be created."""
    NPROC = 6
    CONFIG = """
        [job:w@]
        command = sleep 300
        stdout = null
        """

    def setUp(self):
        super().setUp()
        os.chown(self.d, NOBODY, NOBODY)       # socket and state_dir are created by supd
        busy = subprocess.run(["pgrep", "-c", "-U", str(NOBODY)], capture_output=True, text=True)
        if busy.stdout.strip() not in ("", "0"):
            self.skipTest(f"uid {NOBODY} already runs processes here (RLIMIT_NPROC counts them)")

    def supd_binary(self):
        if _others_can_exec(SUPD):
            return SUPD
        dst = os.path.join(self.d, "supd")
        shutil.copy(SUPD, dst)
        os.chmod(dst, 0o755)
        return dst

    def wrapper(self):
        return ["prlimit", f"--nproc={self.NPROC}:{self.NPROC}", "--",
                "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

    def test_fork_failure_is_reported_and_supd_recovers(self):
        self.start_daemon()
        names = [f"w@{i}" for i in range(10)]
        self.ctl("start", *names)
        st = self.status("w")
        running = [n for n, j in st.items() if j["state"] == "running"]
        fatal = [j for j in st.values() if j["state"] == "fatal"]
        self.assertTrue(running, st)
        self.assertTrue(fatal, self.msg(f"RLIMIT_NPROC stops some instances: {st}"))
        for j in fatal:
            self.assertIn("Resource temporarily unavailable", j["error"] or "", j)
        self.assertRegex(self.daemon_log(0), r"Resource temporarily unavailable")
        self.ctl("status", check=0)
        self.assertAlive()
        self.ctl("stop", "w", check=0)
        self.assertTrue(wait_for(lambda: not [p for p in os.listdir("/proc") if p.isdigit() and
                                              _uid_of(p) == NOBODY and p != str(self.supd_pid())],
                                 T_SHORT), "the stopped jobs' processes are gone")
        self.ctl("start", "w@0", "w@1", check=0)
        st = self.status("w@0", "w@1")
        self.assertEqual([j["state"] for j in st.values()], ["running", "running"], st)


def _cpu_seconds(pid):
    """utime + stime of pid in seconds."""
    rest = (read_file(f"/proc/{pid}/stat") or ")").rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def _uid_of(pid):
    for line in (read_file(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


class ChildFdsTest(SupdCase):
    """Job processes get exactly fds 0, 1 and 2, whatever their outputs are."""
    CONFIG = """
        [job:log]
        command = sleep 300
        stdout = log

        [job:file]
        command = sleep 300
        stdout = {d}/file.out
        stderr = append:{d}/file.err

        [job:merged]
        command = sleep 300
        stdout = append:{d}/merged.out
        stderr = stdout

        [job:null]
        command = sleep 300
        stdout = null
        stderr = null

        [job:inherit]
        command = sleep 300
        stdout = inherit

        [job:pipe]
        command = sleep 300 | sleep 301 | sleep 302
        stdout = log

        [job:shell]
        command = exec sleep 300
        shell = true
        stdout = log

        [job:tmpl@]
        command = sleep 300
        stdout = {d}/%i.out
        autostart = false
        """

    def fds(self, pid):
        path = f"/proc/{pid}/fd"
        return {int(fd): os.readlink(f"{path}/{fd}") for fd in os.listdir(path)}

    def test_children_get_exactly_0_1_2(self):
        self.ctl("start", "tmpl@x", check=0)
        names = ("log", "file", "merged", "null", "inherit", "pipe", "shell", "tmpl@x")
        for name in names:
            j = self.wait_running(name)
            stages = j["stages"] or [{"pid": j["pid"]}]
            if name == "pipe":
                self.assertEqual(len(stages), 3, j)
            for st in stages:
                with self.subTest(job=name, pid=st["pid"]):
                    fds = self.fds(st["pid"])
                    self.assertEqual(sorted(fds), [0, 1, 2], f"{name} (pid {st['pid']}): {fds}")
        # and they are the right ones
        self.assertEqual(self.fds(self.job("file")["pid"])[1], os.path.join(self.d, "file.out"))
        self.assertEqual(self.fds(self.job("file")["pid"])[2], os.path.join(self.d, "file.err"))
        m = self.fds(self.job("merged")["pid"])
        self.assertEqual(m[1], m[2])
        self.assertEqual(self.fds(self.job("null")["pid"])[1], "/dev/null")
        self.assertEqual(self.fds(self.job("tmpl@x")["pid"])[1], os.path.join(self.d, "x.out"))
        self.assertTrue(self.fds(self.job("log")["pid"])[1].startswith("pipe:"))
        p = self.job("pipe")["stages"]
        first, last = self.fds(p[0]["pid"]), self.fds(p[2]["pid"])
        self.assertTrue(first[1].startswith("pipe:") and first[1] != last[1], (first, last))
        self.assertEqual(first[0], "/dev/null")


class InheritedFdsTest(ChildFdsTest):
    """The same, when supd itself was started with fds 3, 4 and 9 open and not
    close-on-exec (as a careless parent would leave them): jobs must not
    get them either."""

    def wrapper(self):
        return ["sh", "-c", 'exec 3>>"$0/leak3" 4<"$0/leak3" 9>>"$0/leak9"; exec "$@"', self.d]

    def test_supd_holds_the_inherited_fds(self):
        held = self.fds(self.supd_pid())
        self.assertEqual(held.get(3), os.path.join(self.d, "leak3"), held)
        self.assertEqual(held.get(9), os.path.join(self.d, "leak9"), held)
