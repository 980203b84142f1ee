# SPDX-License-Identifier: ISC
"""The control socket against hostile and careless clients (SPEC §11):
half-closed clients, NUL bytes, clients that do not read, connection caps
per uid with slots kept for root, the refusal log, and binding the socket
without a path race."""
import ctypes
import grp
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import unittest

from supdtest import (SupdCase, IS_ROOT, NOBODY, SUPD, T_CMD, T_LONG, T_SHORT, _clean_env,
                      _others_can_exec, descendants, read_file, wait_for)

USERS_GID = None
try:
    USERS_GID = grp.getgrnam("users").gr_gid
except KeyError:
    pass

PY = next((p for p in (sys.executable, "/usr/bin/python3", "/bin/python3")
           if p and os.path.exists(p) and _others_can_exec(p)), None)


def read_until_eof(s, timeout=T_LONG):
    """Everything the peer sends until it closes; raises socket.timeout."""
    s.settimeout(timeout)
    buf = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return buf
        buf += chunk


class HalfCloseTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300

        [job:quick]
        command = sleep 0.3
        autostart = false
        """

    def half_closed(self, *requests):
        """Send the requests, shut down the sending side, return every reply
        line until supd closes the connection."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.connect(self.sock)
        s.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        s.shutdown(socket.SHUT_WR)
        try:
            data = read_until_eof(s)
        except socket.timeout:
            self.fail(self.msg("supd neither answered nor closed a half-closed client"))
        return [json.loads(l) for l in data.splitlines() if l.strip()]

    def test_run_is_answered_after_half_close(self):
        replies = self.half_closed({"cmd": "run", "jobs": ["quick"]})
        self.assertEqual(len(replies), 1, self.msg(f"one reply, then EOF: {replies}"))
        self.assertIs(replies[0]["ok"], True, replies)
        self.assertEqual(replies[0]["jobs"][0]["state"], "exited", replies)

    def test_stop_and_pipelined_requests_after_half_close(self):
        self.wait_running("svc")
        replies = self.half_closed({"cmd": "stop", "jobs": ["svc"]},
                                   {"cmd": "status", "jobs": ["svc"]},
                                   {"cmd": "version"})
        self.assertEqual(len(replies), 3, self.msg(f"every reply, in order: {replies}"))
        self.assertEqual(replies[0]["jobs"][0]["state"], "stopped", replies)
        self.assertEqual(replies[1]["jobs"][0]["state"], "stopped", replies)
        self.assertIn("protocol", replies[2])

    def test_wait_timeout_after_half_close(self):
        replies = self.half_closed({"cmd": "wait", "jobs": ["svc"], "timeout": 0.3})
        self.assertEqual(len(replies), 1, self.msg(f"{replies}"))
        self.assertIs(replies[0]["timed_out"], True, replies)
        self.assertEqual(replies[0]["unfinished"], ["svc"])

    def test_half_closed_subscriber_still_gets_events(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.connect(self.sock)
        s.sendall(b'{"cmd":"subscribe"}\n')
        s.shutdown(socket.SHUT_WR)
        s.settimeout(T_SHORT)
        buf = b""
        while buf.count(b"\n") < 1:
            chunk = s.recv(65536)
            self.assertTrue(chunk, self.msg("the subscription ended at the client's EOF"))
            buf += chunk
        self.ctl("start", "quick", check=0)
        names = []
        end = time.monotonic() + T_SHORT
        while "quick" not in names and time.monotonic() < end:
            chunk = s.recv(65536)
            self.assertTrue(chunk, self.msg("the subscription ended at the client's EOF"))
            buf += chunk
            names = [json.loads(l).get("name") for l in buf.splitlines()[1:] if l.strip()]
        self.assertIn("quick", names)

    def test_client_gone_entirely_while_waiting_is_let_go(self):
        """A full close (not a half close) still ends a wait at once."""
        pid = self.supd_pid()
        before = len(os.listdir(f"/proc/{pid}/fd"))
        conns = []
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock)
            s.sendall(b'{"cmd":"wait","jobs":["svc"]}\n')
            conns.append(s)
        wait_for(lambda: len(os.listdir(f"/proc/{pid}/fd")) >= before + 20)
        for s in conns:
            s.close()
        self.assertTrue(wait_for(lambda: len(os.listdir(f"/proc/{pid}/fd")) <= before + 1),
                        self.msg("connections of waiters that left are closed"))
        self.ctl("status", check=0)


class NulByteTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def assertNulError(self, payload):
        rep = self.raw(payload)
        self.assertTrue(rep, self.msg(f"no reply to {payload!r}"))
        rep = json.loads(rep)
        self.assertIs(rep["ok"], False, rep)
        self.assertIn("NUL", rep["error"])

    def test_text_after_a_nul_is_not_ignored(self):
        self.assertNulError(b'{"cmd":"status"}\x00{"cmd":"shutdown"}\n')
        self.assertAlive()

    def test_leading_nul(self):
        self.assertNulError(b"\x00\n")
        self.assertNulError(b"\x00{\"cmd\":\"version\"}\n")

    def test_nul_inside_a_string(self):
        self.assertNulError(b'{"cmd":"stop","jobs":["svc\x00"]}\n')
        self.assertEqual(self.job("svc")["state"], "running")

    def test_connection_survives_a_nul(self):
        c = self.conn()
        c.send(b"\x00\n" + b'{"cmd":"version"}\n')
        first = c.recv_json()
        self.assertIs(first["ok"], False, first)
        self.assertIn("NUL", first["error"])
        self.assertIn("protocol", c.recv_json())


class OutputLimitTest(SupdCase):
    """A status of all 20,000 jobs is over 4 MiB; of one pool, under."""
    CONFIG = """
        [job:svc]
        command = sleep 300

        [job:a]
        command = true
        instances = 4000
        autostart = false

        [job:b]
        command = true
        instances = 4000
        autostart = false

        [job:c]
        command = true
        instances = 4000
        autostart = false

        [job:d]
        command = true
        instances = 4000
        autostart = false

        [job:e]
        command = true
        instances = 4000
        autostart = false
        """
    MAX_OUTPUT = 4 << 20
    MAX_TOTAL = 64 << 20

    def non_reader(self, request):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.addCleanup(s.close)
        s.connect(self.sock)
        s.sendall(json.dumps(request).encode() + b"\n")
        return s

    def reply_size(self, request):
        with self.conn(T_LONG) as c:
            c.send(request)
            return len(c.recv_line()) + 1

    def test_client_that_does_not_read_a_big_reply_is_dropped(self):
        size = self.reply_size({"cmd": "status"})
        self.assertGreater(size, self.MAX_OUTPUT + (1 << 20), "the reply is big enough to test")
        s = self.non_reader({"cmd": "status"})
        time.sleep(8)                     # stall timeout 5 s, and a margin
        self.ctl("status", "svc", check=0)
        s.shutdown(socket.SHUT_WR)        # now read: what is left of the reply, then EOF
        data = read_until_eof(s)
        # the reason may not fit in the full socket buffer: the reply is cut short
        self.assertLess(len(data.split(b"\n")[0]), size - 1,
                        self.msg(f"the unread reply of {size} bytes was kept whole"))
        self.assertIn("not reading", self.daemon_log(0))

    def test_total_unread_output_is_bounded(self):
        req = {"cmd": "status", "jobs": ["a"]}
        size = self.reply_size(req)
        self.assertLess(size, self.MAX_OUTPUT)
        n = self.MAX_TOTAL // size * 2
        socks = [self.non_reader(req) for _ in range(n)]
        # every request is read before this later one is answered
        time.sleep(1)
        self.ctl("status", "svc", check=0)
        complete = dropped = 0
        for s in socks:
            s.shutdown(socket.SHUT_WR)
            data = read_until_eof(s)
            try:
                whole = json.loads(data.split(b"\n")[0]).get("ok") is True
            except ValueError:
                whole = False
            if whole:
                complete += 1
            else:
                dropped += 1
        # what supd held: a reply less what the socket buffers took
        held = size - (512 << 10)
        self.assertGreater(complete, 0)
        self.assertGreater(dropped, 0, self.msg(f"{n} unread replies of {size} bytes all kept"))
        self.assertLessEqual(complete * held, self.MAX_TOTAL + size,
                             f"{complete} replies of {size} bytes kept for clients that do not read")


def uid_script():
    """Python run as another uid: open N connections, report how many got
    an error at once (refused) and how many are held, then keep them until
    stdin closes."""
    return (
        "import json, socket, sys, time\n"
        "path, n = sys.argv[1], int(sys.argv[2])\n"
        "conns = []\n"
        "for i in range(n):\n"
        "    s = socket.socket(socket.AF_UNIX); s.connect(path); conns.append(s)\n"
        "time.sleep(1.0)\n"
        "held = refused = 0\n"
        "errors = set()\n"
        "for s in conns:\n"
        "    s.setblocking(False)\n"
        "    try:\n"
        "        d = s.recv(4096)\n"
        "        refused += 1\n"
        "        errors.add(d.decode(errors='replace').strip())\n"
        "    except BlockingIOError:\n"
        "        held += 1\n"
        "print(json.dumps({'held': held, 'refused': refused, 'errors': sorted(errors)}), flush=True)\n"
        "sys.stdin.read()\n")


@unittest.skipUnless(IS_ROOT, "needs root to connect as other uids")
@unittest.skipIf(USERS_GID is None, "no group 'users' to use as control_group")
@unittest.skipIf(PY is None, "no python3 that other uids can run")
class ConnectionCapTest(SupdCase):
    SUPD_EXTRA = """
        max_parallel = 0
        socket_mode = 0666
        control_group = users
        """
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def hold(self, uid, n, groups=True):
        """Connections of uid (in control_group unless groups is False) held
        open until the test ends; returns the child's report."""
        g = f"--groups={USERS_GID}" if groups else "--clear-groups"
        p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", g, PY, "-c", uid_script(),
                              self.sock, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, cwd=self.d, env=_clean_env())

        def release():
            p.stdin.close()
            p.wait(T_SHORT)
        self.addCleanup(release)
        line = p.stdout.readline()
        self.assertTrue(line, "the connecting child reported")
        return json.loads(line)

    def test_connections_are_capped_per_uid(self):
        rep = self.hold(60001, 80)
        self.assertEqual(rep["held"], 64, rep)
        self.assertEqual(rep["refused"], 16, rep)
        self.assertTrue(all("too many connections from uid 60001" in e for e in rep["errors"]), rep)
        r = self.ctl("status", user=60002, groups=[USERS_GID])
        self.assertEqual(r.returncode, 0, self.msg("another uid is still served", r))
        self.ctl("status", check=0)

    def test_root_is_served_when_all_slots_are_taken(self):
        total = 0
        for i in range(16):
            total += self.hold(60010 + i, 64)["held"]
        self.assertEqual(total, 1024)
        rep = self.hold(60100, 1)
        self.assertEqual(rep["refused"], 1, rep)
        self.assertIn("too many clients", rep["errors"][0])
        r = self.ctl("--json", "status", "svc")
        self.assertEqual(r.returncode, 0, self.msg("root is served while others hold every slot", r))
        self.assertIn("svc", r.stdout)

    def test_refusals_are_logged_once_a_second_with_a_count(self):
        script = ("import socket, sys\n"
                  "for i in range(300):\n"
                  "    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(4096); s.close()\n")
        subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", PY, "-c",
                        script, self.sock], check=True, timeout=T_CMD, cwd=self.d, env=_clean_env())
        time.sleep(2.5)                   # the count comes within a second
        lines = [l for l in self.daemon_log(0).splitlines() if "refused" in l]
        self.assertLessEqual(len(lines), 6, self.msg(f"{len(lines)} log lines for 300 refusals"))
        counts = [int(m.group(1)) for l in lines for m in [re.search(r"refused (\d+) connections", l)] if m]
        self.assertTrue(counts, self.msg("the refusals are counted"))
        self.assertEqual(sum(counts) + len(lines) - len(counts), 300, lines)
        self.assertTrue(all(f"uid {NOBODY}" in l for l in lines), lines)


# inotify, for watching how the socket appears
IN_CREATE, IN_MOVED_TO, IN_ATTRIB = 0x100, 0x80, 0x4


class SocketBindTest(SupdCase):
    START_DAEMON = False
    SUPD_EXTRA = """
        max_parallel = 0
        socket_mode = 0666
        """

    def test_socket_appears_complete_by_rename(self):
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        self.assertGreaterEqual(fd, 0)
        self.addCleanup(os.close, fd)
        self.assertGreaterEqual(libc.inotify_add_watch(fd, self.d.encode(),
                                                       IN_CREATE | IN_MOVED_TO | IN_ATTRIB), 0)
        self.start_daemon()
        events = []
        data = b""
        try:
            while True:
                data += os.read(fd, 65536)
        except BlockingIOError:
            pass
        while data:
            _, mask, _, n = struct.unpack_from("iIII", data)
            name = data[16:16 + n].rstrip(b"\0").decode()
            events.append((name, mask))
            data = data[16 + n:]
        on_sock = [m for name, m in events if name == "supd.sock"]
        self.assertTrue(on_sock, events)
        self.assertTrue(all(m & IN_MOVED_TO for m in on_sock),
                        f"the socket is renamed into place, never made or changed there: {events}")
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o666)
        self.assertFalse([f for f in os.listdir(self.d) if f.startswith(".supd")],
                         "no private directory is left behind")
        self.ctl("status", check=0)

    def test_live_socket_is_an_error_naming_the_path(self):
        other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(other.close)
        other.bind(self.sock)
        other.listen(1)
        ino = os.stat(self.sock).st_ino
        r = self.supd_run("-c", self.conf)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(self.sock, r.stderr + r.stdout)
        self.assertIn("in use", r.stderr + r.stdout)
        self.assertEqual(os.stat(self.sock).st_ino, ino, "the other process keeps its socket")

    def test_stale_socket_is_replaced(self):
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(self.sock)
        stale.close()
        self.start_daemon()
        self.ctl("status", check=0)

    def test_a_file_that_is_not_a_socket_is_not_replaced(self):
        self.write("supd.sock", "precious\n")
        r = self.supd_run("-c", self.conf)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(self.sock, r.stderr + r.stdout)
        self.assertEqual(read_file(self.sock), "precious\n")


@unittest.skipUnless(IS_ROOT, "needs root to own the socket's directory as another uid")
@unittest.skipUnless(shutil.which("strace"), "needs strace to widen the race window")
@unittest.skipIf(PY is None, "no python3 that other uids can run")
class SocketPathRaceTest(SupdCase):
    """The socket's directory belongs to another user, who swaps the
    socket for a symlink to a root-owned file right after bind. supd's
    chmod and chown calls are delayed by 1 s (strace), so the swap always
    comes first: a chmod by path would change the file."""
    START_DAEMON = False
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def setUp(self):
        super().setUp()
        self.rundir = os.path.join(self.d, "run")
        os.mkdir(self.rundir, 0o755)
        os.chown(self.rundir, NOBODY, NOBODY)
        self.sock = os.path.join(self.rundir, "supd.sock")
        self.victim = self.write("victim", "root only\n", 0o600)
        self.write_config(self.CONFIG, supd_extra="max_parallel = 0\nsocket_mode = 0666\n")

    def config_text(self, jobs, supd_extra=None):
        return super().config_text(jobs, supd_extra).replace(
            os.path.join(self.d, "supd.sock"), os.path.join(self.d, "run", "supd.sock"))

    def wrapper(self):
        calls = "chmod,fchmodat,chown,fchownat,lchown,fchown"
        return ["strace", "-o", "/dev/null", "-e", f"trace={calls}",
                "-e", f"inject={calls}:delay_enter=1000000"]

    def test_symlink_swapped_in_after_bind_changes_nothing(self):
        attacker = ("import os, sys, time\n"
                    "sock, victim = sys.argv[1], sys.argv[2]\n"
                    "end = time.monotonic() + 20\n"
                    "while time.monotonic() < end:\n"
                    "    if os.path.lexists(sock) and not os.path.islink(sock):\n"
                    "        os.rename(sock, sock + '.moved'); os.symlink(victim, sock)\n"
                    "        print('swapped', flush=True); break\n"
                    "    time.sleep(0.002)\n")
        a = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", PY,
                              "-c", attacker, self.sock, self.victim], stdout=subprocess.PIPE, text=True,
                             cwd=self.d, env=_clean_env())
        self.addCleanup(a.kill)
        # LeakSanitizer cannot run under ptrace
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.start_daemon(wait=False, env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "detect_leaks=0"})
        out, _ = a.communicate(timeout=T_LONG)
        self.assertIn("swapped", out)
        self.assertTrue(wait_for(lambda: "ready" in self.daemon_log(0) or self.proc.poll() is not None,
                                 T_LONG), self.msg("supd started"))
        st = os.stat(self.victim)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, self.msg("the victim's mode is unchanged"))
        self.assertEqual(read_file(self.victim), "root only\n")
        # supd's own socket, now at .moved, has its mode
        self.assertEqual(stat.S_IMODE(os.stat(self.sock + ".moved").st_mode), 0o666)

    def stop_daemon(self, timeout=T_LONG):
        """SIGTERM supd itself, then strace ends with it."""
        if self.proc is None or self.proc.poll() is not None:
            return super().stop_daemon(timeout)
        self._remember(descendants(self.proc.pid))
        for k in read_file(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children", "").split():
            try:
                os.kill(int(k), signal.SIGTERM)
            except OSError:
                pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return super().stop_daemon(timeout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
