# SPDX-License-Identifier: ISC
"""The control socket under abuse: malformed and oversized requests, slow and
many clients, and peers that are not allowed in (SPEC §5)."""
import grp
import json
import os
import socket
import stat
import subprocess
import sys
import time
import unittest

from supdtest import (SupdCase, Conn, IS_ROOT, NOBODY, SUPCTL, T_CMD, T_LONG, T_SHORT, alive,
                      _clean_env, _others_can_exec)


class ProtocolAbuseTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300

        [job:quick]
        command = true
        autostart = false

        [job:pool]
        command = sleep 300
        instances = 40
        autostart = false
        """

    def assertServes(self):
        """supd is alive and answers another client."""
        self.assertAlive()
        self.ctl("status", "svc", check=0)

    def test_malformed_requests_get_errors_and_connection_survives(self):
        pid = self.wait_running("svc")["pid"]
        bad = [
            b"this is not json\n",
            b'{"cmd": "status"\n',
            b"[1, 2, 3]\n",
            b"42\n",
            b'"status"\n',
            b"null\n",
            b"{}\n",
            b'{"jobs": ["svc"]}\n',
            b'{"cmd": "frobnicate"}\n',
            b'{"cmd": 17}\n',
            b'{"cmd": null}\n',
            b'{"cmd": "status", "jobs": "svc"}\n',
            b'{"cmd": "status", "jobs": [1, 2]}\n',
            b'{"cmd": "status", "jobs": [null]}\n',
            b'{"cmd": "status", "jobs": {"svc": 1}}\n',
            b'{"cmd": "wait", "jobs": ["quick"], "timeout": "soon"}\n',
            b'{"cmd": "signal", "signal": "NOSUCHSIGNAL", "jobs": ["svc"]}\n',
            b'{"cmd": "signal", "signal": ["TERM"], "jobs": ["svc"]}\n',
            b'{"cmd": "signal", "signal": 99999, "jobs": ["svc"]}\n',
            b'{"cmd": "signal", "jobs": ["svc"]}\n',
            b'{"cmd": "logs", "jobs": ["svc"], "lines": "ten"}\n',
            b'{"cmd": "status", "jobs": ["nosuch"]}\n',
            b'\xff\xfe{"cmd": "status"}\n',
            b'{"cmd": "st\x00atus"}\n',
        ]
        c = self.conn()
        for payload in bad:
            with self.subTest(payload=payload):
                c.send(payload)
                try:
                    line = c.recv_line()
                except socket.timeout:
                    self.fail(self.msg(f"no reply to {payload!r}"))
                self.assertTrue(line, self.msg(f"supd closed the connection after {payload!r}"))
                rep = json.loads(line)
                self.assertIsInstance(rep, dict)
                self.assertIs(rep.get("ok"), False, f"{payload!r} -> {rep}")
                self.assertIsInstance(rep.get("error"), str, f"{payload!r} -> {rep}")
                self.assertTrue(rep["error"])
        rep = c.request({"cmd": "status", "jobs": ["svc"]})
        self.assertIs(rep["ok"], True, rep)
        self.assertEqual(rep["jobs"][0]["pid"], pid, "the bad signal requests did nothing")
        self.assertEqual(rep["jobs"][0]["state"], "running")
        self.assertEqual(self.job("quick")["state"], "stopped", "the bad run request did nothing")
        self.assertServes()

    def test_unknown_job_error_message(self):
        rep = self.request({"cmd": "status", "jobs": ["nosuch"]})
        self.assertEqual(rep["ok"], False)
        self.assertIn("unknown job", rep["error"])
        self.assertIn("nosuch", rep["error"])

    def test_pipelined_requests_answered_in_order(self):
        c = self.conn()
        c.send(b'{"cmd":"version"}\n{"cmd":"status","jobs":["svc"]}\n{"cmd":"bogus"}\n'
               b'{"cmd":"status","jobs":["quick"]}\n')
        r1, r2, r3, r4 = (c.recv_json() for _ in range(4))
        self.assertEqual(r1.get("protocol"), 1, r1)
        self.assertEqual([j["name"] for j in r2["jobs"]], ["svc"])
        self.assertIs(r3["ok"], False)
        self.assertEqual([j["name"] for j in r4["jobs"]], ["quick"])

    def test_request_split_across_writes(self):
        c = self.conn()
        c.send(b'{"cmd":"sta')
        self.ctl("status", "svc", check=0)     # a half request does not block others
        time.sleep(0.1)
        c.send(b'tus","jobs":["svc"]}\n')
        rep = c.recv_json()
        self.assertIs(rep["ok"], True, rep)

    def test_large_valid_request(self):
        # just under the 64 KiB limit, padded with JSON whitespace
        body = b'{"cmd":"status","jobs":["svc"]' + b" " * (60 * 1024) + b"}\n"
        c = self.conn()
        c.send(body)
        rep = c.recv_json()
        self.assertIs(rep["ok"], True, rep)

    def oversized(self, payload):
        """Send payload (over 64 KiB), let another client in, end the line;
        supd must answer with an error or close, never leave us hanging."""
        c = self.conn()
        closed = stalled = False
        try:
            c.send(payload)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        except socket.timeout:
            stalled = True      # supd stopped reading: fine if it answered or closes
        self.ctl("status", "svc", check=0)           # meanwhile, another client is served
        if not closed:
            try:
                c.send(b"\n")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            except socket.timeout:
                stalled = True
        try:
            line = c.recv_line()
        except ConnectionResetError:
            line = b""
        except socket.timeout:
            self.fail(self.msg(f"no error reply and no close after a {len(payload)}-byte request "
                               f"(supd {'stopped reading' if stalled else 'read it all'}): "
                               f"the connection is stuck"))
        if line:
            rep = json.loads(line)
            self.assertIs(rep["ok"], False, rep)
            self.assertIsInstance(rep["error"], str)
        self.assertServes()

    def test_oversized_request(self):
        self.oversized(b"x" * (100 * 1024))

    def test_oversized_json_request(self):
        self.oversized(b'{"cmd":"status","jobs":["' + b"a" * (100 * 1024) + b'"]}')

    def test_request_of_exactly_the_limit_plus_one(self):
        self.oversized(b"y" * (64 * 1024))

    def test_client_that_never_reads_does_not_stall_others(self):
        self.ctl("start", "pool", check=0)      # big status replies
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.connect(self.sock)
        s.setblocking(False)
        req = b'{"cmd":"status"}\n'
        sent = 0
        blocked_since = None
        deadline = time.monotonic() + T_SHORT
        while time.monotonic() < deadline and sent < 2000:
            try:
                s.send(req)
                sent += 1
                blocked_since = None
            except BlockingIOError:
                if blocked_since is None:
                    blocked_since = time.monotonic()
                elif time.monotonic() - blocked_since > 1.0:
                    break
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break       # supd may drop a client that does not read
        self.assertGreater(sent, 10)
        t0 = time.monotonic()
        r = self.ctl("--json", "status", timeout=T_LONG)
        self.assertEqual(r.returncode, 0, self.msg("status while another client does not read", r))
        self.assertEqual(len(json.loads(r.stdout)), 42)
        self.assertLess(time.monotonic() - t0, T_LONG)
        self.ctl("stop", "pool@0", check=0)
        s.close()
        time.sleep(0.2)
        self.assertServes()

    def test_many_clients_at_once(self):
        conns = [Conn(self.sock, T_LONG) for _ in range(50)]
        for c in conns:
            self.addCleanup(c.close)
        for c in conns:
            c.send({"cmd": "status", "jobs": ["svc"]})
        for i, c in enumerate(conns):
            try:
                rep = c.recv_json()
            except (socket.timeout, EOFError) as e:
                self.fail(self.msg(f"client {i} of 50 not served: {e!r}"))
            self.assertIs(rep["ok"], True, rep)
            self.assertEqual(rep["jobs"][0]["name"], "svc")
        self.assertServes()

    def test_many_supctl_at_once(self):
        procs = [subprocess.Popen([SUPCTL, "-s", self.sock, "--json", "status"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=_clean_env())
                 for _ in range(20)]
        for p in procs:
            out, err = p.communicate(timeout=T_CMD)
            self.assertEqual(p.returncode, 0, self.msg(f"concurrent supctl: {err!r}"))
            self.assertEqual(len(json.loads(out)), 42)

    def test_client_gone_while_waiting(self):
        c = Conn(self.sock)
        c.send({"cmd": "wait", "jobs": ["svc"]})   # svc never ends by itself
        time.sleep(0.2)
        c.close()
        c2 = Conn(self.sock)
        c2.send({"cmd": "subscribe"})
        c2.recv_json()
        c2.close()
        self.ctl("stop", "svc", check=0)            # completes the abandoned wait
        self.ctl("start", "svc", check=0)
        self.assertServes()

    def test_client_gone_during_run(self):
        c = Conn(self.sock)
        c.send({"cmd": "run", "jobs": ["quick"]})
        c.close()
        self.wait_state("quick", "exited")
        self.assertServes()


@unittest.skipUnless(IS_ROOT, "needs root to run supctl as another uid")
class RefusedPeerTest(SupdCase):
    SUPD_EXTRA = """
        max_parallel = 0
        socket_mode = 0666
        """
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def test_socket_mode(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o666)

    def test_nobody_is_refused(self):
        pid = self.wait_running("svc")["pid"]
        for attempt in range(5):       # the reply races supd's close: try more than once
            r = self.ctl("status", user=NOBODY)
            self.assertEqual(r.returncode, 4, self.msg(f"uid 65534 must be refused "
                                                       f"(attempt {attempt + 1})", r))
            self.assertIn("permission denied", (r.stdout + r.stderr).lower(), self.msg("", r))
        r = self.ctl("stop", "svc", user=NOBODY)
        self.assertEqual(r.returncode, 4, self.msg("uid 65534 must be refused", r))
        self.assertEqual(self.job("svc")["pid"], pid, "a refused peer changed nothing")
        self.assertTrue(alive(pid))
        self.ctl("status", check=0)                 # root is still served
        self.assertAlive()
        log = self.daemon_log(0).lower()
        self.assertTrue("denied" in log or "refus" in log,
                        self.msg("the refusal is logged"))

    def test_nobody_gets_one_error_reply(self):
        """At the socket level: the refused peer reads one error reply, then EOF."""
        py = next((p for p in (sys.executable, "/usr/bin/python3", "/bin/python3")
                   if p and os.path.exists(p) and _others_can_exec(p)), None)
        if py is None:
            self.skipTest("no python3 that uid 65534 can run")
        script = (
            "import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])\n"
            "try:\n"
            "    s.sendall(b'{\"cmd\":\"status\"}\\n')\n"
            "except OSError as e:\n"
            "    print('send:', e, file=sys.stderr)\n"
            "buf = b''\n"
            "try:\n"
            "    while True:\n"
            "        c = s.recv(4096)\n"
            "        if not c: break\n"
            "        buf += c\n"
            "except OSError as e:\n"
            "    print('recv:', e, file=sys.stderr)\n"
            "sys.stdout.write(buf.decode(errors='replace'))\n")
        r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                            py, "-c", script, self.sock], capture_output=True, text=True,
                           timeout=T_CMD, cwd=self.d, env=_clean_env())
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, self.msg(f"one reply, then EOF; got {r.stdout!r}, "
                                                 f"stderr {r.stderr!r}"))
        rep = json.loads(lines[0])
        self.assertEqual(rep, {"ok": False, "error": "permission denied"})
        self.assertAlive()


USERS_GID = None
try:
    USERS_GID = grp.getgrnam("users").gr_gid
except KeyError:
    pass


@unittest.skipUnless(IS_ROOT, "needs root to run supctl as another uid")
@unittest.skipIf(USERS_GID is None, "no group 'users' to use as control_group")
class ControlGroupTest(SupdCase):
    SUPD_EXTRA = """
        max_parallel = 0
        socket_mode = 0666
        control_group = users
        """
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def test_member_is_served(self):
        r = self.ctl("--json", "status", user=NOBODY, groups=[USERS_GID])
        self.assertEqual(r.returncode, 0, self.msg("a member of control_group is served", r))
        self.assertIn("svc", r.stdout)
        r = self.ctl("signal", "CONT", "svc", user=NOBODY, groups=[USERS_GID])
        self.assertEqual(r.returncode, 0, self.msg("a member of control_group may control jobs", r))

    def test_non_member_is_refused(self):
        for attempt in range(5):       # the reply races supd's close: try more than once
            r = self.ctl("status", user=NOBODY)
            self.assertEqual(r.returncode, 4, self.msg(f"not a member (attempt {attempt + 1})", r))
            self.assertIn("permission denied", (r.stdout + r.stderr).lower())


@unittest.skipUnless(IS_ROOT, "needs root to run supctl as another uid")
@unittest.skipIf(USERS_GID is None, "no group 'users' to use as control_group")
class ControlGroupSocketTest(SupdCase):
    """Default socket_mode 0660: the socket must belong to control_group for
    its members to reach it at all."""
    SUPD_EXTRA = """
        max_parallel = 0
        control_group = users
        """
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def test_socket_owned_by_control_group(self):
        st = os.stat(self.sock)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, "default socket_mode")
        self.assertEqual(st.st_gid, USERS_GID, "the socket's group is control_group")
        r = self.ctl("status", user=NOBODY, groups=[USERS_GID])
        self.assertEqual(r.returncode, 0, self.msg("a member of control_group is served", r))
        r = self.ctl("status", user=NOBODY)
        self.assertIn(r.returncode, (3, 4), self.msg("a non-member cannot use the socket", r))


if __name__ == "__main__":
    unittest.main(verbosity=2)
