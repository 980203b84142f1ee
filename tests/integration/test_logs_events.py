# SPDX-License-Identifier: ISC
"""Captured output (stdout = log, supctl logs [-f]) and the event stream
(supctl events, {"cmd":"subscribe"}) under load (issue 3, SPEC §1, §4)."""
import json
import os
import queue
import resource
import signal
import socket
import subprocess
import threading
import time
import unittest

from supdtest import (SupdCase, JOB_FIELDS, SCALE, SUPCTL, T_CMD, T_LONG, T_SHORT,
                      wait_for, _clean_env, note, proc_mem_kb, under_asan)

RSS_LIMIT_KB = 64 * 1024
RESPONSIVE_S = 2.0 * SCALE     # a status call while supd is busy








def n_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class LineReader:
    """Reads a child's stdout line by line in a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.q = queue.Queue()
        self.lines = []
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))
        self.done.set()

    def collect(self, timeout=0.05):
        """Move what has arrived into self.lines; returns self.lines."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.lines.append(self.q.get(timeout=max(0.0, end - time.monotonic())))
            except queue.Empty:
                return self.lines

    def wait_until(self, pred, timeout=T_LONG):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self.collect()):
                return True
        return pred(self.collect())


class Sampler:
    """Samples supd's RSS and times `supctl status` from another client while
    something runs."""

    def __init__(self, case, period=0.2, jobs=()):
        self.case, self.period, self.jobs = case, period, list(jobs)
        self.latencies, self.rss = [], []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        pid = self.case.supd_pid()
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                r = subprocess.run([SUPCTL, "-s", self.case.sock, "status", *self.jobs],
                                   capture_output=True,
                                   timeout=T_CMD, env=_clean_env(), stdin=subprocess.DEVNULL)
                ok = r.returncode == 0
            except subprocess.TimeoutExpired:
                ok = False
            self.latencies.append((time.monotonic() - t0, ok))
            rss = proc_mem_kb(pid, "VmRSS")
            if rss:
                self.rss.append(rss)
            self.stop.wait(self.period)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(T_CMD + 5)

    def worst(self):
        return max((l for l, _ in self.latencies), default=0.0)


def ctl_popen(case, *args):
    p = subprocess.Popen([SUPCTL, "-s", case.sock, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=_clean_env(),
                         stdin=subprocess.DEVNULL)

    def cleanup():
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
    case.addCleanup(cleanup)
    return p


# ----------------------------------------------------------- 100 MB log ---

class BigOutputTest(SupdCase):
    CONFIG = """
        [job:big]
        command = head -c 100000000 /dev/zero | tr '\\0' x | fold -w 100
        stdout = log
        autostart = false
        """

    def test_job_writing_100mb(self):
        pid = self.supd_pid()
        t0 = time.monotonic()
        run = ctl_popen(self, "run", "big")
        with Sampler(self) as s:
            try:
                run.wait(300 * SCALE)
            except subprocess.TimeoutExpired:
                self.fail(self.msg("supctl run big did not return within 300 s"))
        took = time.monotonic() - t0
        err = run.stderr.read()
        self.assertEqual(run.returncode, 0, self.msg(f"supctl run big: {err!r}"))
        hwm = proc_mem_kb(pid, "VmHWM")
        asan = under_asan(pid)
        note(f"100 MB of output in {took:.1f}s; {len(s.latencies)} status calls meanwhile, worst "
             f"{s.worst():.3f}s; supd RSS peak {hwm} kB{' (ASan)' if asan else ''}")
        self.assertTrue(s.latencies, "no status call completed while the job ran")
        self.assertTrue(all(ok for _, ok in s.latencies), self.msg(f"a status call failed: {s.latencies}"))
        self.assertLess(s.worst(), RESPONSIVE_S, self.msg(f"status took {s.worst():.2f}s while the job "
                                                           f"wrote (all: {s.latencies})"))
        if not asan:     # ASan's quarantine holds freed memory: RSS says nothing there
            self.assertLess(hwm, RSS_LIMIT_KB, f"supd peak RSS {hwm} kB")

        r = self.ctl("logs", "-n", "5", "big", check=0)
        self.assertEqual(r.stdout.splitlines(), ["x" * 100] * 5, self.msg("last 5 lines", r))
        j = self.job("big")
        self.assertEqual((j["state"], j["exit_code"]), ("exited", 0), json.dumps(j))
        self.assertEqual([s["argv0"] for s in j["stages"]], ["head", "tr", "fold"])
        path = os.path.join(self.state_dir, "logs", "big.log")
        self.assertTrue(os.path.isfile(path), f"no log file {path}: "
                        f"{os.listdir(os.path.join(self.state_dir, 'logs')) if os.path.isdir(os.path.join(self.state_dir, 'logs')) else 'no logs dir'}")
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            self.assertGreater(f.tell(), 0, "empty log file")
            f.seek(-101, os.SEEK_END)     # fold ends its last line without a newline
            self.assertEqual(f.read(), b"\n" + b"x" * 100, "the log file ends with the last line")


# ---------------------------------------------------------------- logs ---

class LogsTest(SupdCase):
    CONFIG = """
        [job:ticker]
        command = sh -c 'i=0; while [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done'
        stdout = log
        autostart = false

        [job:short]
        command = sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; sleep 0.1; done'
        stdout = log
        autostart = false

        [job:nolog]
        command = sh -c 'echo not captured'
        stdout = null
        stderr = null
        autostart = false

        [job:partial]
        command = printf 'first\\nno newline at end'
        stdout = log
        autostart = false

        [job:longline]
        command = sh -c 'head -c 10000 /dev/zero | tr "\\0" y; echo; echo after'
        stdout = log
        autostart = false

        [job:exact]
        command = sh -c 'head -c 4096 /dev/zero | tr "\\0" z; echo; echo after'
        stdout = log
        autostart = false

        [job:last]
        command = sh -c 'n=$(cat {d}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/n; echo first $n; echo last $n'
        stdout = log
        autostart = false

        [job:errs]
        command = sh -c 'echo to-stderr >&2; echo to-stdout'
        stdout = log
        stderr = stdout
        autostart = false
        """

    def follow(self, job):
        p = ctl_popen(self, "logs", "-f", job)
        return p, LineReader(p)

    def test_follow_running_job(self):
        self.ctl("start", "ticker", check=0)
        p, rd = self.follow("ticker")

        def ticks(lines):
            return [int(l.split()[1]) for l in lines if l.startswith("tick ")]
        self.assertTrue(rd.wait_until(lambda ls: len(ticks(ls)) >= 3, T_LONG),
                        self.msg(f"logs -f printed {rd.lines}"))
        first = ticks(rd.lines)[-1]
        # new lines keep coming while the job runs
        self.assertTrue(rd.wait_until(lambda ls: ticks(ls)[-1] >= first + 5, T_LONG),
                        self.msg(f"logs -f stopped following: {rd.lines}"))
        t = ticks(rd.lines)
        self.assertEqual(t, list(range(t[0], t[0] + len(t))), f"lines lost or reordered: {t}")
        self.assertIsNone(p.poll(), "logs -f exited while the job runs")
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(T_SHORT)
        except subprocess.TimeoutExpired:
            self.fail("logs -f did not exit on SIGTERM")
        self.assertEqual(self.job("ticker")["state"], "running", "killing logs -f leaves the job alone")
        self.ctl("stop", "ticker", check=0)

    def test_follow_across_runs_until_job_removed(self):
        # documented (man/supctl.1, doc/protocol.md): -f follows the job, not one run,
        # until the job is removed, supd exits or the reader goes away
        self.ctl("start", "short", check=0)
        p, rd = self.follow("short")
        self.assertTrue(rd.wait_until(lambda ls: "line 10" in ls, T_LONG),
                        self.msg(f"logs -f shows the run through its end: {rd.lines}"))
        self.assertEqual(self.wait_state("short", "exited")["state"], "exited")
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "logs -f keeps following after the run ended")
        mark = len(rd.collect())
        self.ctl("run", "short", check=0)            # the next run shows up in the same stream
        self.assertTrue(rd.wait_until(lambda ls: ls[mark:].count("line 10") == 1, T_LONG),
                        self.msg(f"the second run in logs -f: {rd.lines[mark:]}"))
        self.assertEqual(rd.lines[mark:], [f"line {i}" for i in range(1, 11)], rd.lines)
        # the job leaves the config: the stream ends
        self.write_config(self.CONFIG.replace("[job:short]", "[job:gone]"))
        self.ctl("reload", check=0)
        try:
            p.wait(T_SHORT)
        except subprocess.TimeoutExpired:
            self.fail(self.msg("logs -f still running after its job was removed"))
        self.assertEqual(p.returncode, 0, p.stderr.read())

    def test_follow_ends_when_supd_exits(self):
        self.ctl("start", "ticker", check=0)
        p, rd = self.follow("ticker")
        self.assertTrue(rd.wait_until(lambda ls: any(l.startswith("tick ") for l in ls), T_LONG),
                        self.msg(f"logs -f printed {rd.lines}"))
        self.ctl("shutdown", check=0)
        self.wait_daemon_exit()
        try:
            p.wait(T_SHORT)
        except subprocess.TimeoutExpired:
            self.fail(self.msg("logs -f still running after supd exited"))
        self.assertEqual(p.returncode, 0, p.stderr.read())

    def test_logs_of_job_without_capture(self):
        self.ctl("run", "nolog", check=0)
        r = self.ctl("logs", "nolog")
        self.assertEqual(r.returncode, 4, self.msg("logs of a job without stdout = log", r))
        self.assertIn("nolog", r.stderr, self.msg("the message names the job", r))
        self.assertTrue("log" in r.stderr and len(r.stderr.strip()) > 10, self.msg("says why", r))
        r = self.ctl("logs", "-f", "nolog")
        self.assertEqual(r.returncode, 4, self.msg("logs -f of a job without stdout = log", r))

    def test_partial_last_line(self):
        self.ctl("run", "partial", check=0)
        r = self.ctl("logs", "partial", check=0)
        self.assertEqual(r.stdout.splitlines(), ["first", "no newline at end"], self.msg("", r))
        r = self.ctl("logs", "-n", "1", "partial", check=0)
        self.assertEqual(r.stdout.splitlines(), ["no newline at end"], self.msg("", r))

    def test_long_lines_are_split(self):
        self.ctl("run", "longline", check=0)
        r = self.ctl("--json", "logs", "-n", "20", "longline", check=0)
        lines = json.loads(r.stdout)["lines"]
        self.assertEqual(lines[-1], "after", lines[-1][:50])
        ys = lines[:-1]
        self.assertTrue(all(len(l) <= 4096 for l in ys), [len(l) for l in ys])
        self.assertEqual(len(ys), 3, f"10000 bytes split into 4096 + 4096 + 1808: {[len(l) for l in ys]}")
        self.assertEqual("".join(ys), "y" * 10000, [len(l) for l in ys])
        r = self.ctl("logs", "-n", "20", "longline", check=0)
        self.assertTrue(all(len(l) <= 4096 for l in r.stdout.splitlines()))

    def test_line_of_exactly_4096_bytes(self):
        self.ctl("run", "exact", check=0)
        r = self.ctl("--json", "logs", "-n", "20", "exact", check=0)
        lines = json.loads(r.stdout)["lines"]
        self.assertEqual([len(l) for l in lines], [4096, 5],
                         "a line of 4096 bytes is not over the limit: no extra empty line")
        self.assertEqual(lines, ["z" * 4096, "after"])

    def test_run_returns_after_output_is_in_logs(self):
        for k in range(1, 11):
            self.ctl("run", "last", check=0)
            r = self.ctl("logs", "-n", "1", "last", check=0)
            self.assertEqual(r.stdout, f"last {k}\n", self.msg(f"run {k}: the last line is in logs "
                                                               "as soon as run returns", r))
        r = self.ctl("logs", "-n", "4", "last", check=0)
        self.assertEqual(r.stdout.splitlines(), ["first 9", "last 9", "first 10", "last 10"])

    def test_stderr_merged_into_log(self):
        self.ctl("run", "errs", check=0)
        r = self.ctl("logs", "errs", check=0)
        self.assertEqual(sorted(r.stdout.splitlines()), ["to-stderr", "to-stdout"], self.msg("", r))


class ManyLoggingInstancesTest(SupdCase):
    """Finished instances must not each keep a file descriptor: a batch of
    more files than supd's fd limit has to drain."""
    START_DAEMON = False
    SUPD_EXTRA = "max_parallel = 4\n"
    CONFIG = """
        [job:say@]
        command = echo instance %i
        stdout = log
        autostart = false
        """
    FD_LIMIT = 256
    N = 600

    def test_instances_that_log_do_not_hold_fds(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(self.FD_LIMIT, hard), hard))
        try:
            self.start_daemon()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        pid = self.supd_pid()
        names = [f"say@{i}" for i in range(self.N)]
        for i in range(0, self.N, 100):
            self.ctl("start", *names[i:i + 100], check=0)
        r = self.ctl("wait", "say", timeout=T_CMD * 2)
        fds = n_fds(pid)
        note(f"{self.N} logging instances with RLIMIT_NOFILE {self.FD_LIMIT}: supd holds {fds} fds after")
        st = self.status("say")
        bad = {n: (j["state"], j["error"]) for n, j in st.items() if j["state"] != "exited"}
        self.assertEqual(r.returncode, 0, self.msg(f"{len(bad)} instances did not succeed, e.g. "
                                                   f"{list(bad.items())[:3]}", r))
        self.assertLess(fds, 64, f"supd holds {fds} fds after {self.N} finished instances")
        r = self.ctl("logs", "say@599", check=0)
        self.assertEqual(r.stdout, "instance 599\n")
        r = self.ctl("logs", "say@0", check=0)
        self.assertEqual(r.stdout, "instance 0\n")


# -------------------------------------------------------------- events ---

class EventsTest(SupdCase):
    CONFIG = """
        [job:quick]
        command = true
        autostart = false

        [job:three]
        command = sh -c 'exit 3'
        autostart = false

        [job:svc]
        command = sleep 300
        autostart = false

        [job:t@]
        command = true
        autostart = false
        """

    def events_cli(self):
        """supctl --json events, subscribed (proved by a first event seen)."""
        p = ctl_popen(self, "--json", "events")
        rd = LineReader(p)
        deadline = time.monotonic() + T_LONG
        while time.monotonic() < deadline:
            self.ctl("run", "quick", check=0)
            if rd.wait_until(lambda ls: any('"quick"' in l for l in ls), 1.0):
                return p, rd
        self.fail(self.msg(f"supctl --json events printed nothing: {rd.lines} "
                           f"{p.stderr.read() if p.poll() is not None else ''}"))

    def test_events_json_lines(self):
        p, rd = self.events_cli()
        mark = len(rd.collect())
        self.ctl("start", "svc", check=0)
        # flushed as it happens: the job is still running when its event shows
        self.assertTrue(rd.wait_until(lambda ls: any('"svc"' in l and '"started"' in l
                                                     for l in ls[mark:]), T_SHORT),
                        self.msg(f"no started event for svc while it runs: {rd.lines[mark:]}"))
        self.assertEqual(self.job("svc")["state"], "running")
        self.ctl("run", "three", check=3)
        self.assertTrue(rd.wait_until(lambda ls: any('"three"' in l and '"failed"' in l and '"state"'
                                                     in l for l in ls[mark:]), T_SHORT),
                        self.msg(f"events for three: {rd.lines[mark:]}"))
        events = []
        for line in rd.collect()[mark:]:
            try:
                ev = json.loads(line)
            except ValueError:
                self.fail(f"not one JSON object per line: {line!r}")
            self.assertIsInstance(ev, dict, line)
            events.append(ev)
        for ev in events:
            self.assertIn(ev.get("event"), ("started", "exited", "state"), ev)
            for f in JOB_FIELDS:
                self.assertIn(f, ev, f"event lacks SPEC §4 field {f}: {ev}")
        three = [e for e in events if e["name"] == "three"]
        kinds = [e["event"] for e in three]
        for k in ("started", "exited", "state"):
            self.assertIn(k, kinds, three)
        self.assertLess(kinds.index("started"), kinds.index("exited"), kinds)
        ex = [e for e in three if e["event"] == "exited"][0]
        self.assertEqual((ex["exit_code"], ex["state"]), (3, "failed"), ex)
        self.assertIsNotNone(ex["ended_at"], ex)
        self.assertEqual([s["exit_code"] for s in ex["stages"]], [3], ex)
        st = [e for e in three if e["event"] == "started"][0]
        self.assertIs(type(st["pid"]), int, st)
        self.assertEqual(st["run"], ex["run"])
        self.assertEqual([e["state"] for e in three if e["event"] == "state"][-1], "failed")
        self.ctl("stop", "svc", check=0)

    def test_slow_subscriber_is_dropped(self):
        pid = self.supd_pid()
        # the slow one: subscribes, then never reads
        slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(slow.close)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(T_SHORT)
        slow.connect(self.sock)
        slow.sendall(b'{"cmd":"subscribe"}\n')
        buf = b""
        while b"\n" not in buf:
            buf += slow.recv(1)      # only the reply, nothing more
        self.assertIs(json.loads(buf)["ok"], True, buf)
        # a normal subscriber that keeps up
        p, rd = self.events_cli()

        n, batch = 3000, 100
        pad = "p" * 180             # longer names: more bytes per event (at most 200)
        names = [f"t@{pad}{i}" for i in range(n)]
        t0 = time.monotonic()
        # time a small status request: the answer to a status of all 3000 jobs
        # is itself big (slow under ASan) and would say nothing about waiting
        with Sampler(self, period=0.1, jobs=["quick"]) as s:
            for i in range(0, n, batch):
                self.ctl("start", *names[i:i + batch], check=0)
            r = self.ctl("wait", "t", timeout=T_CMD * 2)
        self.assertEqual(r.returncode, 0, self.msg("", r))
        took = time.monotonic() - t0
        logged = wait_for(lambda: "dropping" in self.daemon_log(0) or "too slow" in self.daemon_log(0),
                          T_SHORT)

        # now read what the slow one got: it must end (EOF or reset), well short of everything
        got, eof = 0, False
        slow.settimeout(T_SHORT)
        tail = b""
        try:
            while True:
                chunk = slow.recv(65536)
                if not chunk:
                    eof = True
                    break
                got += len(chunk)
                tail = (tail + chunk)[-2000:]
        except ConnectionResetError:
            eof = True
        except socket.timeout:
            pass
        hwm = proc_mem_kb(pid, "VmHWM")
        asan = under_asan(pid)
        lines = [l for l in rd.collect() if '"t@' in l]
        exited = sum(1 for l in lines if '"exited"' in l)
        note(f"{n} instances in {took:.1f}s ({len(lines)} events, {sum(map(len, lines)) >> 10} KiB to "
             f"the normal subscriber); the slow "
             f"subscriber got {got} bytes then {'EOF' if eof else 'nothing'} "
             f"({'with' if b'too slow' in tail else 'without'} the 'too slow' reason); worst status "
             f"{s.worst():.3f}s; supd RSS peak {hwm} kB{' (ASan)' if asan else ''}")
        self.assertTrue(eof, self.msg(f"the slow subscriber was not disconnected ({got} bytes read)"))
        self.assertTrue(logged, self.msg("supd's log does not say it dropped the slow subscriber"))
        self.assertLess(got, 8 << 20, "the slow subscriber got everything: not dropped")
        self.assertTrue(s.latencies and all(ok for _, ok in s.latencies), s.latencies)
        self.assertLess(s.worst(), T_SHORT, f"status calls during the storm: worst {s.worst():.2f}s")
        if not asan:
            self.assertLess(hwm, RSS_LIMIT_KB, f"supd peak RSS {hwm} kB")
        # the reading subscriber was served all along
        if p.poll() is not None:
            self.fail(f"the normal subscriber was dropped: {p.stderr.read()!r}")
        self.assertTrue(rd.wait_until(lambda ls: sum(1 for l in ls if '"t@' in l and '"exited"' in l)
                                      >= n, T_LONG),
                        f"the normal subscriber saw {exited} of {n} exited events")
        self.ctl("status", check=0)
        self.assertAlive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
