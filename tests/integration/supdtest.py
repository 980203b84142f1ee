# SPDX-License-Identifier: ISC
"""Harness for supd's integration tests (run by tests/integration.test).

Every test case gets its own temporary directory holding the configuration
(written from the class's CONFIG template), the control socket, the state_dir
and the daemon's log, and a freshly started `supd -c CONF`.  Tests talk to it
through `supctl` (ctl(), status()) or the raw socket (raw(), Conn).

Environment:
  SUPD, SUPCTL               binaries under test (absolute paths; make check sets them)
  SUPD_SRCDIR                top of the source tree (for conf/*.conf)
  SUPD_FACTOR                the CPU-bound bench worker (optional)
  SUPD_TEST_TIMEOUT_SCALE    multiply every deadline (default 1; they are generous already)
  SUPD_TEST_KEEP=1           keep the temporary directories

Every wait is a poll with a deadline; no test depends on tight timing (CI is
a 2-core machine running the daemon under AddressSanitizer).
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime, timezone

SUPD = os.environ.get("SUPD", "supd")
SUPCTL = os.environ.get("SUPCTL", "supctl")
FACTOR = os.environ.get("SUPD_FACTOR", "")
SRCDIR = os.environ.get("SUPD_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCALE = float(os.environ.get("SUPD_TEST_TIMEOUT_SCALE", "1") or 1)

# Deadlines (seconds).  Generous: they only matter when something is broken.
T_SHORT = 10 * SCALE      # things that should happen "at once"
T_LONG = 30 * SCALE       # things that take a few rounds (restarts, backoff)
T_CMD = 60 * SCALE        # any single supctl invocation

NOBODY = 65534
IS_ROOT = os.geteuid() == 0

# SPEC §4 fields every job object carries (supctl --json status, history, events),
# with SPEC §8's run fields memory_peak_kb and oom_killed (null when not measured).
JOB_FIELDS = ("name", "state", "pid", "run", "started_at", "ended_at", "duration_s",
              "exit_code", "signal", "timed_out", "restarts", "cpu_user_s", "cpu_sys_s",
              "max_rss_kb", "memory_peak_kb", "oom_killed", "stages", "error")
# doc/protocol.md adds these on the socket; "cgroup" (SPEC §8: the run's
# cgroup, or null) is in every object too, null in history.
PROTO_EXTRA_FIELDS = ("since", "want", "exit_status", "cgroup")
FINAL_STATES = ("stopped", "exited", "failed", "fatal")
RFC3339_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def parse_time(s):
    """RFC 3339 UTC with microseconds -> POSIX seconds (float)."""
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def wait_for(pred, timeout=T_SHORT, step=0.02):
    """Poll pred() until it returns something truthy or the deadline passes;
    returns the last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


# ---------------------------------------------------------------- /proc ---

def proc_stat(pid):
    """(state, ppid, pgid, starttime) of pid, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1]), int(rest[2]), rest[19]
    except (OSError, IndexError, ValueError):
        return None


def start_time(pid):
    st = proc_stat(pid)
    return st[3] if st else None


def alive(pid, started=None):
    """True if pid exists, is not a zombie and (if given) has that start time."""
    st = proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return started is None or st[3] == started


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def group_members(pgid):
    """Live (non-zombie) processes in process group pgid."""
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[2] == pgid and st[0] not in ("Z", "X"):
            out.append(p)
    return out


def descendants(pid):
    """All live descendants of pid, by walking /proc."""
    kids = {}
    for p in all_pids():
        st = proc_stat(p)
        if st and st[0] not in ("Z", "X"):
            kids.setdefault(st[1], []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def read_file(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _others_can_exec(path):
    """True if an unprivileged user can reach and execute path."""
    p = os.path.abspath(path)
    try:
        if not os.stat(p).st_mode & stat.S_IXOTH:
            return False
        d = os.path.dirname(p)
        while True:
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return False
            if d == "/":
                return True
            d = os.path.dirname(d)
    except OSError:
        return False


# ------------------------------------------------------------ raw socket ---

class Conn:
    """One raw connection to the control socket, line by line."""

    def __init__(self, path, timeout=T_SHORT):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        if isinstance(data, (dict, list)):
            data = json.dumps(data).encode() + b"\n"
        self.s.sendall(data)

    def recv_line(self):
        """Next line (without the newline); b"" if the peer closed first.
        Raises socket.timeout if nothing complete arrives in time."""
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv_json(self):
        line = self.recv_line()
        if not line:
            raise EOFError("connection closed by supd")
        return json.loads(line)

    def request(self, obj):
        self.send(obj)
        return self.recv_json()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------ test cases ---

class TempDirCase(unittest.TestCase):
    """A test with its own temporary directory ({d} in templates)."""

    def setUp(self):
        base = tempfile.gettempdir()
        if len(base) > 60:            # keep socket paths well under sun_path's 108 bytes
            base = "/tmp"
        self.d = tempfile.mkdtemp(prefix="supd-it-", dir=base)
        os.chmod(self.d, 0o755)       # other uids must reach the socket in permission tests
        if not os.environ.get("SUPD_TEST_KEEP"):
            self.addCleanup(shutil.rmtree, self.d, ignore_errors=True)

    def expand(self, text):
        """Unindent a template and fill in {d} (test dir), {factor}, {sock}.
        Only these exact placeholders are replaced, so shell braces are safe."""
        # every line flush left: inih reads an indented line as the continuation
        # of the previous value, and templates get concatenated with mixed indents
        text = "\n".join(l.strip() for l in text.splitlines()) + "\n"
        for k, v in (("{d}", self.d), ("{factor}", FACTOR),
                     ("{sock}", os.path.join(self.d, "supd.sock"))):
            text = text.replace(k, v)
        return text

    def write(self, name, content, mode=None):
        path = os.path.join(self.d, name)
        with open(path, "w") as f:
            f.write(content)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def supd_run(self, *args, env=None, timeout=T_CMD):
        """Run supd in the foreground (for --check, --help, --version)."""
        e = _clean_env()
        if env:
            e.update(env)
        return subprocess.run([SUPD, *args], capture_output=True, text=True,
                              timeout=timeout, env=e, stdin=subprocess.DEVNULL)


def _clean_env():
    e = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
              "LISTEN_PID", "LISTEN_FDNAMES", "SUPD_SOCKET", "SUPD_CONFIG",
              "RUNTIME_DIRECTORY", "INVOCATION_ID", "JOURNAL_STREAM"):
        e.pop(k, None)
    return e


class SupdCase(TempDirCase):
    """A test with a running supd.

    CONFIG: job sections (template, see expand()); SUPD_EXTRA: extra lines for
    the [supd] section.  max_parallel = 0 by default so that batch jobs are
    not queued behind the CPU count; tests of the queue override it.
    """
    CONFIG = ""
    SUPD_EXTRA = "max_parallel = 0\n"
    START_DAEMON = True

    def setUp(self):
        for b in (SUPD, SUPCTL):
            if not (os.path.isabs(b) and os.access(b, os.X_OK)) and not shutil.which(b):
                self.fail(f"binary under test not found: {b!r} (set SUPD and SUPCTL)")
        super().setUp()
        self.sock = os.path.join(self.d, "supd.sock")
        self.conf = os.path.join(self.d, "supd.conf")
        self.state_dir = os.path.join(self.d, "state")
        self.logfile = os.path.join(self.d, "supd.log")
        self.proc = None
        self._log_fh = None
        self._stdin_w = None
        self._final_log = ""
        self.seen = {}                # pid -> start time of every job process seen
        self.supctl_for_others = None
        self.write_config(self.CONFIG)
        # cleanups run last-registered first: stop supd, then keep its log, then rm the dir
        self.addCleanup(self._snapshot_log)
        self.addCleanup(self._cleanup_daemon)
        if self.START_DAEMON:
            self.start_daemon()

    # -- failure reporting --------------------------------------------------

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else None
        r = super().run(result)
        res = result if result is not None else r
        if res is not None and before is not None and \
                len(res.failures) + len(res.errors) > before and getattr(self, "_final_log", ""):
            sys.stderr.write(f"\n----- supd log of {self.id()} -----\n{self._final_log}"
                             f"\n----- end of supd log -----\n")
            sys.stderr.flush()
        return r

    def daemon_log(self, tail=6000):
        try:
            with open(self.logfile, "rb") as f:
                data = f.read().decode(errors="replace")
        except (OSError, AttributeError):
            return ""
        return data[-tail:] if tail else data

    def _snapshot_log(self):
        self._final_log = self.daemon_log(tail=30000)

    def msg(self, what="", r=None):
        """Assertion message: what, the supctl result if any, the daemon log."""
        out = [what] if what else []
        if r is not None:
            out.append(f"$ {' '.join(map(str, r.args))}\n-> exit {r.returncode}\n"
                       f"stdout: {r.stdout!r}\nstderr: {r.stderr!r}")
        out.append("--- supd log (tail) ---\n" + self.daemon_log(3000))
        return "\n".join(out)

    # -- config and daemon --------------------------------------------------

    def config_text(self, jobs, supd_extra=None):
        extra = self.SUPD_EXTRA if supd_extra is None else supd_extra
        head = f"[supd]\nsocket = {self.sock}\nstate_dir = {self.state_dir}\n"
        return head + self.expand(extra) + "\n" + self.expand(jobs)

    def write_config(self, jobs, supd_extra=None, path=None):
        text = self.config_text(jobs, supd_extra)
        with open(path or self.conf, "w") as f:
            f.write(text)
        return text

    def wrapper(self):
        """A command that execs supd (namespace, rlimits, another uid); none here."""
        return []

    def supd_binary(self):
        return SUPD

    def start_daemon(self, extra_args=(), env=None, wait=True):
        e = _clean_env()
        if env:
            e.update(env)
        if self._log_fh:
            self._log_fh.close()
        if self._stdin_w:
            self._stdin_w.close()
        self._log_fh = open(self.logfile, "ab")
        # stdin: a pipe that stays open, so a job that wrongly inherited it would block
        self.proc = subprocess.Popen([*self.wrapper(), self.supd_binary(), "-c", self.conf, *extra_args],
                                     stdin=subprocess.PIPE, stdout=self._log_fh,
                                     stderr=subprocess.STDOUT, env=e, start_new_session=True, cwd=self.d)
        self._stdin_w = self.proc.stdin
        if wait:
            self.wait_daemon_up()

    def wait_daemon_up(self, timeout=T_LONG):
        def up():
            if self.proc.poll() is not None:
                return "dead"
            if not os.path.exists(self.sock):
                return None
            try:
                r = subprocess.run([SUPCTL, "-s", self.sock, "status"], capture_output=True,
                                   timeout=T_SHORT, env=_clean_env(), stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                return None
            return "up" if r.returncode == 0 else None
        v = wait_for(up, timeout, 0.05)
        if v != "up":
            self.fail(f"supd did not come up (exit status {self.proc.poll()})\n"
                      + self.msg() + f"\n--- config ---\n{read_file(self.conf)}")

    def supd_pid(self):
        return self.proc.pid

    def wait_daemon_exit(self, timeout=T_LONG):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"supd still running {timeout:.0f}s later\n" + self.msg())

    def stop_daemon(self, timeout=T_LONG):
        """SIGTERM supd and wait; returns its exit status (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self._remember(descendants(self.proc.pid))
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
            return None

    def _remember(self, pids):
        for p in pids:
            t = start_time(p)
            if t is not None:
                self.seen.setdefault(p, t)

    def _cleanup_daemon(self):
        was_running = self.proc is not None and self.proc.poll() is None
        rc = self.stop_daemon()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        # job processes live in their own process groups: never leak them.
        # (A grandchild SIGKILLed by supd's shutdown may still be dying: give it a moment.)
        def leftovers():
            return [p for p, t in self.seen.items() if alive(p, t)]
        wait_for(lambda: not leftovers(), 5 * SCALE)
        leaked = leftovers()
        for pid in leaked:
            st = proc_stat(pid)
            try:
                if st and st[2] not in (os.getpgrp(), 0, 1):
                    os.killpg(st[2], signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self._stdin_w:
            try:
                self._stdin_w.close()
            except OSError:
                pass
        if self._log_fh:
            self._log_fh.close()
        if was_running and rc != 0:
            raise AssertionError(f"supd did not exit 0 on SIGTERM at the end of the test "
                                 f"(exit status {rc}; negative = killed by signal)\n"
                                 + self.daemon_log(6000))
        if was_running and leaked:
            raise AssertionError(f"job processes {leaked} outlived supd's SIGTERM shutdown\n"
                                 + self.daemon_log(3000))

    def assertAlive(self):
        self.assertIsNone(self.proc.poll(), self.msg("supd died"))

    # -- supctl -------------------------------------------------------------

    def _ctl_binary_for_others(self):
        if self.supctl_for_others is None:
            if _others_can_exec(SUPCTL):
                self.supctl_for_others = SUPCTL
            else:
                dst = os.path.join(self.d, "supctl")
                shutil.copy(SUPCTL, dst)
                os.chmod(dst, 0o755)
                self.supctl_for_others = dst
        return self.supctl_for_others

    def ctl(self, *args, user=None, groups=None, timeout=T_CMD, env=None, sock=True, check=None):
        """Run supctl -s SOCK ARGS.  user: run as that uid (and gid) via setpriv,
        with the supplementary groups given (default none).  check: expected
        exit status, asserted with a full message."""
        binary = SUPCTL
        pre = []
        if user is not None:
            binary = self._ctl_binary_for_others()
            g = "--clear-groups" if not groups else "--groups=" + ",".join(map(str, groups))
            pre = ["setpriv", f"--reuid={user}", f"--regid={user}", g]
        cmd = [*pre, binary] + (["-s", self.sock] if sock else []) + [str(a) for a in args]
        e = _clean_env()
        if env:
            e.update(env)
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e,
                               stdin=subprocess.DEVNULL, cwd=self.d)
        except subprocess.TimeoutExpired as ex:
            self.fail(self.msg(f"supctl {' '.join(map(str, args))} did not return within "
                               f"{timeout:.0f}s (partial stdout {ex.stdout!r})"))
        if check is not None:
            self.assertEqual(r.returncode, check, self.msg(f"supctl exit status", r))
        return r

    def status_list(self, *patterns):
        r = self.ctl("--json", "status", *patterns)
        self.assertEqual(r.returncode, 0, self.msg("supctl --json status failed", r))
        try:
            jobs = json.loads(r.stdout)
        except ValueError as e:
            self.fail(self.msg(f"supctl --json status printed no JSON ({e})", r))
        if isinstance(jobs, dict):
            jobs = jobs.get("jobs", jobs)
        for j in jobs:
            if isinstance(j.get("pid"), int):
                self._remember([j["pid"]])
            for s in j.get("stages") or []:
                if isinstance(s.get("pid"), int) and j.get("state") in ("running", "stopping"):
                    self._remember([s["pid"]])
        return jobs

    def status(self, *patterns):
        """{name: job object} from supctl --json status PATTERN..."""
        return {j["name"]: j for j in self.status_list(*patterns)}

    def job(self, name):
        st = self.status(name)
        self.assertIn(name, st, self.msg(f"{name} missing from status {sorted(st)}"))
        return st[name]

    def wait_job(self, name, pred, timeout=T_LONG, what="condition"):
        """Poll status until pred(job) holds; returns the job object."""
        last = {}

        def check():
            st = self.status(name)
            last["j"] = st.get(name)
            return last["j"] is not None and pred(last["j"])
        if not wait_for(check, timeout, 0.05):
            self.fail(self.msg(f"{name}: {what} not reached within {timeout:.0f}s; "
                               f"last status: {json.dumps(last.get('j'))}"))
        return last["j"]

    def wait_state(self, name, *states, timeout=T_LONG):
        return self.wait_job(name, lambda j: j["state"] in states, timeout,
                             f"state in {states}")

    def wait_running(self, name, timeout=T_LONG):
        return self.wait_job(name, lambda j: j["state"] == "running" and isinstance(j["pid"], int),
                             timeout, "running with a pid")

    def wait_file(self, path, content=None, timeout=T_LONG):
        """Wait until path exists (and, if given, its stripped content equals content)."""
        def ok():
            c = read_file(path)
            return c is not None and (content is None or c.strip() == content)
        if not wait_for(ok, timeout, 0.05):
            self.fail(self.msg(f"file {path} did not get content {content!r} within "
                               f"{timeout:.0f}s (now {read_file(path)!r})"))
        return read_file(path)

    def history(self, *patterns):
        r = self.ctl("--json", "history", *patterns)
        self.assertEqual(r.returncode, 0, self.msg("supctl --json history failed", r))
        out = r.stdout.strip()
        if not out:
            return []
        if out.startswith("["):
            return json.loads(out)
        if out.startswith("{") and "\n" not in out:
            o = json.loads(out)
            if "runs" in o:
                return o["runs"]
            return [o]
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    # -- raw socket ---------------------------------------------------------

    def conn(self, timeout=T_SHORT):
        c = Conn(self.sock, timeout)
        self.addCleanup(c.close)
        return c

    def raw(self, payload, read_timeout=T_SHORT):
        """Send raw bytes on a fresh connection; return the first reply line
        (b"" if supd closed without one)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(read_timeout)
        s.connect(self.sock)
        try:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                pass     # supd may answer and close before a huge request is all sent
            buf = b""
            try:
                while b"\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except ConnectionResetError:
                pass
            return buf.split(b"\n", 1)[0]
        finally:
            s.close()

    def request(self, obj):
        """One request on a fresh raw connection -> reply object."""
        with Conn(self.sock) as c:
            return c.request(obj)


# --- measurements shared by the batch and logs tests ---

def note(text):
    """A measurement worth seeing in the test output (not an assertion)."""
    sys.stderr.write(f"\n    [measure] {text}\n")
    sys.stderr.flush()


def proc_mem_kb(pid, field):
    """VmRSS / VmHWM (peak RSS) of pid in kB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def under_asan(pid):
    """True if pid runs under AddressSanitizer or valgrind: their shadow
    memory and quarantine count in RSS and are not supd's doing."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
        return "libasan" in maps or "vgpreload" in maps
    except OSError:
        return False
