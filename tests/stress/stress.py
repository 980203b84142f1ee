# SPDX-License-Identifier: ISC
"""Stress test for supd: many short runs under fire, then an audit.

One supd, a config of short template jobs (true, failing, pipelines, jobs
that leave an orphan behind), a pool of restart=always services and a few
plain jobs. Then, all at once until RUNS runs have ended:
  - BATCH client threads, each a loop of `supctl start` of 5..40 instances
    then `supctl wait` for them (instance names come from a bounded set, so
    the job table stops growing after the warm-up);
  - a chaos thread: random stop / start / restart / signal of services and
    instances, status, history, and reload between two config variants
    (a job added and removed, the services' settings changed);
  - a killer thread: SIGKILL to a random job process every few ms;
  - an event subscriber that records every run number `started` announced.
Every supctl call is its own client process.

Afterwards (everything stopped): every run number a `started` event
announced is in history (runs.jsonl) exactly once, run numbers in history
are unique and contiguous (a gap is only allowed for a run that never
started, i.e. a spawn failure, which is recorded too); no job process,
zombie or orphan is left (descendants of supd, and every process carrying
this test's token in its environment); supd's fd count is back to what it
was after the warm-up and its RSS is near it (not asserted under ASan,
whose quarantine keeps freed memory); supd exits 0 on SIGTERM.

Usage: SUPD=... SUPCTL=... python3 tests/stress/stress.py [--runs N] [--seed S]
       (make check-stress STRESS_RUNS=N)
Exit status 0 when every check holds, 1 otherwise; a summary line
"stress: N passed, M failed" closes the output.
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from supdtest import (SUPD, SUPCTL, SCALE, Conn, _clean_env, descendants,  # noqa: E402
                      proc_stat, read_file, wait_for)

POOL = 60              # instance names per template
SERVICES = 4

CONFIG_HEAD = """[supd]
socket = {d}/supd.sock
state_dir = {d}/state
max_parallel = 4

[job:t@]
command = /bin/true
stdout = null
environment = STRESS_TOKEN={token}

[job:f@]
command = /bin/sh -c 'exit 3'
stdout = null
environment = STRESS_TOKEN={token}

[job:pipe@]
command = /bin/echo %i | /bin/cat | /usr/bin/tr a-z A-Z
stdout = log
environment = STRESS_TOKEN={token}

[job:orphan@]
command = /bin/sh -c '/bin/sleep 0.05 & echo %n'
stdout = log
environment = STRESS_TOKEN={token}

[job:slow@]
command = /bin/sleep 0.02
stdout = null
environment = STRESS_TOKEN={token}

[job:svc]
command = /bin/sh -c 'echo up; exec /bin/sleep {svc_sleep}'
instances = {services}
restart = always
restart_delay = {svc_delay}
start_limit = 0
stop_timeout = 2s
autostart = false
stdout = log
environment = STRESS_TOKEN={token}
"""

CONFIG_EXTRA = """
[job:extra]
command = /bin/sleep 0.3
restart = always
restart_delay = 10ms
start_limit = 0
environment = STRESS_TOKEN={token}
"""

TEMPLATES = ("t", "f", "pipe", "orphan", "slow")
WEIGHTS = (6, 2, 2, 1, 2)


def log(msg):
    sys.stdout.write(f"stress: {msg}\n")
    sys.stdout.flush()


def proc_status_kb(pid, key):
    for line in (read_file(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def under_asan(pid):
    return "libasan" in (read_file(f"/proc/{pid}/maps") or "")


def processes_with_token(token):
    """pids whose environment carries STRESS_TOKEN=token (job processes and
    anything they left behind, wherever it was reparented)."""
    needle = f"STRESS_TOKEN={token}".encode()
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            st = proc_stat(int(p))
            out.append((int(p), st[0] if st else "?"))
    return out


class Stress:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.d = tempfile.mkdtemp(prefix="supd-stress-", dir="/tmp")
        self.sock = os.path.join(self.d, "supd.sock")
        self.conf = os.path.join(self.d, "supd.conf")
        self.token = f"{os.getpid()}-{self.rng.randrange(1 << 30)}"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.started = collections.Counter()     # run id -> "started" events
        self.exited = set()                      # run ids with an "exited" event
        self.events = 0
        self.ops = collections.Counter()
        self.problems = []                       # unexpected supctl results during the run
        self.kills = 0
        self.variant = 0
        self.proc = None
        self.failed = []
        self.passed = []

    # -- setup ------------------------------------------------------------

    def write_config(self, variant):
        text = CONFIG_HEAD.format(d=self.d, token=self.token, services=SERVICES,
                                  svc_sleep="0.2" if variant == 0 else "0.25",
                                  svc_delay="10ms" if variant == 0 else "20ms")
        if variant == 1:
            text += CONFIG_EXTRA.format(token=self.token)
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    def start_supd(self):
        self.write_config(0)
        self.logf = open(os.path.join(self.d, "supd.log"), "ab")
        self.proc = subprocess.Popen([SUPD, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=_clean_env(), start_new_session=True, cwd=self.d)
        ok = wait_for(lambda: self.proc.poll() is None and os.path.exists(self.sock)
                      and self.ctl("status").returncode == 0, 30 * SCALE, 0.05)
        if not ok:
            raise SystemExit(f"stress: supd did not come up\n{self.supd_log()}")

    def supd_log(self, tail=4000):
        data = read_file(os.path.join(self.d, "supd.log")) or ""
        return data[-tail:]

    def ctl(self, *args, timeout=None):
        try:
            return subprocess.run([SUPCTL, "-s", self.sock, *args], capture_output=True, text=True,
                                  timeout=timeout or 120 * SCALE, env=_clean_env(),
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.problem(f"supctl {' '.join(args[:3])} ... did not return in time")
            return subprocess.CompletedProcess(e.cmd, 124, "", "")

    def problem(self, what):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(what)

    def check(self, ok, what, detail=""):
        """Record one audit result; detail is shown only on failure."""
        (self.passed if ok else self.failed).append(what)
        log(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and not ok else ""))

    # -- the load ---------------------------------------------------------

    def events_reader(self):
        c = Conn(self.sock, timeout=5)
        c.send({"cmd": "subscribe"})
        rep = c.recv_json()
        if rep.get("ok") is not True:
            self.problem(f"subscribe refused: {rep}")
            return
        self.subscribed.set()
        while True:
            try:
                line = c.recv_line()
            except socket.timeout:
                if self.events_done.is_set():
                    break
                continue
            if not line:
                self.problem("supd closed the event stream")
                break
            ev = json.loads(line)
            kind, run = ev.get("event"), ev.get("run")
            with self.lock:
                self.events += 1
                if kind == "started":
                    self.started[run] += 1
                elif kind == "exited":
                    self.exited.add(run)
            if "error" in ev and ev.get("ok") is False:
                self.problem(f"event stream error: {ev}")
                break
        c.close()

    def batch_worker(self, rng):
        while not self.stop.is_set():
            tmpl = rng.choices(TEMPLATES, WEIGHTS)[0]
            names = [f"{tmpl}@{i}" for i in rng.sample(range(POOL), rng.randint(5, 40))]
            r = self.ctl("start", *names)
            self.ops["start"] += 1
            if r.returncode != 0 and "shutting down" not in r.stderr:
                self.problem(f"start {tmpl}@... -> {r.returncode} {r.stderr.strip()[:200]}")
            r = self.ctl("wait", "--timeout", f"{60 * SCALE:.0f}s", *names)
            self.ops["wait"] += 1
            if r.returncode not in (0, 1):
                self.problem(f"wait {tmpl}@... -> {r.returncode} {r.stderr.strip()[:200]}")

    def chaos_worker(self, rng):
        while not self.stop.is_set():
            time.sleep(rng.uniform(0, 0.05))
            op = rng.choices(("stop", "start", "restart", "signal", "status", "reload", "history",
                              "stop-inst"), (3, 3, 2, 1, 2, 1, 1, 2))[0]
            svc = f"svc@{rng.randrange(SERVICES)}"
            if op == "stop":
                args = ("stop", "--no-wait", svc) if rng.random() < 0.5 else ("stop", svc)
            elif op == "start":
                args = ("start", svc)
            elif op == "restart":
                args = ("restart", svc)
            elif op == "signal":
                args = ("signal", "CONT", "svc")
            elif op == "status":
                args = ("--json", "status")
            elif op == "history":
                args = ("--json", "history", "-n", "50")
            elif op == "stop-inst":
                tmpl = rng.choices(TEMPLATES, WEIGHTS)[0]
                args = ("stop", *[f"{tmpl}@{i}" for i in rng.sample(range(POOL), 5)])
            else:
                with self.lock:
                    self.variant ^= 1
                    self.write_config(self.variant)
                args = ("reload",)
            r = self.ctl(*args)
            self.ops[op] += 1
            # unknown job: an instance not created yet, or "extra" after a reload
            # removed it; signal: no svc running at that moment
            if r.returncode not in (0, 1) and not (r.returncode == 4 and op in ("stop-inst", "signal")):
                self.problem(f"{' '.join(args)} -> {r.returncode} {r.stderr.strip()[:200]}")

    def killer(self, rng):
        pid = self.proc.pid
        while not self.stop.is_set():
            time.sleep(rng.uniform(0.002, 0.02))
            kids = [p for p in descendants(pid) if p != pid]
            if not kids:
                continue
            victim = rng.choice(kids)
            try:
                os.kill(victim, signal.SIGKILL)
                self.kills += 1
            except OSError:
                pass

    def runs_ended(self):
        with self.lock:
            return len(self.exited)

    # -- the audit ----------------------------------------------------------

    def read_history(self):
        """End records of runs.jsonl (and the started records, checked apart)."""
        recs, bad = [], 0
        self.started_recs = []
        for name in ("runs.jsonl.1", "runs.jsonl"):
            data = read_file(os.path.join(self.d, "state", name)) or ""
            for line in data.splitlines():
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    bad += 1
                    continue
                # SPEC §11: a "started" record precedes each run's end record
                (self.started_recs if rec.get("event") == "started" else recs).append(rec)
        return recs, bad

    def quiet(self):
        """No job is queued, running, stopping or in backoff."""
        r = self.ctl("--json", "status")
        if r.returncode != 0:
            return False
        jobs = json.loads(r.stdout)
        return all(j["state"] not in ("queued", "running", "stopping", "backoff") for j in jobs)

    def run(self):
        a = self.args
        t0 = time.monotonic()
        self.start_supd()
        pid = self.proc.pid
        log(f"supd pid {pid}, dir {self.d}, {a.runs} runs, {a.clients} batch clients, seed {a.seed}")

        self.subscribed = threading.Event()
        self.events_done = threading.Event()
        reader = threading.Thread(target=self.events_reader, daemon=True)
        reader.start()
        if not self.subscribed.wait(10 * SCALE):
            raise SystemExit("stress: could not subscribe to events")

        # warm-up: every instance name once, services up; then the baseline
        for tmpl in TEMPLATES:
            names = [f"{tmpl}@{i}" for i in range(POOL)]
            self.ctl("start", *names)
            self.ctl("wait", *names)
        self.ctl("start", "svc")
        self.ctl("stop", "svc")
        wait_for(self.quiet, 30 * SCALE, 0.1)
        base_fds = wait_for(lambda: self.stable_fds(pid), 10 * SCALE, 0.1)
        base_fd_list = self.fd_list(pid)
        base_rss = proc_status_kb(pid, "VmRSS")
        log(f"after warm-up: {base_fds} fds, RSS {base_rss} kB, {self.runs_ended()} runs")
        if os.environ.get("STRESS_DEBUG"):
            log(f"fds: {base_fd_list}")
        self.ctl("start", "svc")

        target = self.runs_ended() + a.runs
        threads = [threading.Thread(target=self.batch_worker, args=(random.Random(a.seed + i),), daemon=True)
                   for i in range(a.clients)]
        threads.append(threading.Thread(target=self.chaos_worker, args=(random.Random(a.seed + 100),),
                                        daemon=True))
        if not a.no_kill:
            threads.append(threading.Thread(target=self.killer, args=(random.Random(a.seed + 200),),
                                            daemon=True))
        for t in threads:
            t.start()
        deadline = time.monotonic() + a.max_seconds
        last = 0
        while self.runs_ended() < target and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.5)
            n = self.runs_ended()
            if n - last >= max(1000, a.runs // 10):
                log(f"{n} runs ended, {self.kills} kills, "
                    f"RSS {proc_status_kb(pid, 'VmRSS')} kB, {fd_count(pid)} fds")
                last = n
        load_secs = time.monotonic() - t0
        self.stop.set()
        for t in threads:
            t.join(120 * SCALE)
        self.check(self.proc.poll() is None, "supd survived the load", self.supd_log())
        if self.proc.poll() is not None:
            return self.finish(pid)
        self.check(self.runs_ended() >= target, f"{a.runs} runs ended within {a.max_seconds}s",
                   f"only {self.runs_ended() - (target - a.runs)}")

        # everything down, then the audit
        self.ctl("stop", "*")
        self.check(wait_for(self.quiet, 60 * SCALE, 0.2), "every job settles after stop '*'")
        time.sleep(0.5)                    # the last events reach the reader
        self.events_done.set()
        reader.join(30)

        with self.lock:
            started = dict(self.started)
            exited = set(self.exited)
        recs, bad = self.read_history()
        hist = collections.Counter(r.get("run") for r in recs)
        self.check(bad == 0, "every history record parses", f"{bad} unreadable lines")
        dup = [k for k, v in hist.items() if v != 1]
        self.check(not dup, "every run is in history at most once", f"duplicates: {dup[:20]}")
        twice = [k for k, v in started.items() if v != 1]
        self.check(not twice, "every run is announced as started once", f"{twice[:20]}")
        missing = sorted(set(started) - set(hist))
        self.check(not missing, f"every started run ({len(started)}) is in history",
                   f"{len(missing)} missing, e.g. {missing[:20]}")
        unannounced = sorted(set(hist) - set(started))
        spawn_failures = {r.get("run") for r in recs if r.get("error") and not r.get("stages")}
        self.check(set(unannounced) <= spawn_failures,
                   "history holds only runs that started (or failed to spawn, with a reason)",
                   f"{len(unannounced)} unannounced, e.g. {unannounced[:10]}")
        lo, hi = (min(hist), max(hist)) if hist else (0, 0)
        gaps = sorted(set(range(lo, hi + 1)) - set(hist))
        self.check(not gaps, f"run numbers {lo}..{hi} are contiguous in history",
                   f"{len(gaps)} gaps, e.g. {gaps[:20]}")
        self.check(exited == set(hist) - {None} or exited <= set(hist),
                   "every 'exited' event is in history", f"{sorted(exited - set(hist))[:20]}")
        opened = collections.Counter(r.get("run") for r in self.started_recs)
        self.check(all(v == 1 for v in opened.values()) and set(opened) <= set(hist)
                   and set(started) <= set(opened),
                   "every started run has one started record, before its end record",
                   f"{[k for k, v in opened.items() if v != 1][:10]}, "
                   f"{sorted(set(opened) - set(hist))[:10]}, {sorted(set(started) - set(opened))[:10]}")

        left = wait_for(lambda: not descendants(pid), 10 * SCALE) or descendants(pid)
        self.check(not descendants(pid), "no job process is left under supd",
                   f"{[(p, proc_stat(p)) for p in descendants(pid)][:10]}")
        zombies = wait_for(lambda: not self.zombies(pid), 10 * SCALE) or self.zombies(pid)
        self.check(not self.zombies(pid), "no zombie child of supd", f"{self.zombies(pid)[:10]}")
        strays = wait_for(lambda: not processes_with_token(self.token), 10 * SCALE) \
            or processes_with_token(self.token)
        self.check(not processes_with_token(self.token), "no orphan of any job anywhere",
                   f"{processes_with_token(self.token)[:10]}")
        del left, zombies, strays

        wait_for(lambda: (fd_count(pid) or 0) <= base_fds, 10 * SCALE)
        fds = fd_count(pid)
        self.check(fds is not None and fds <= base_fds, f"supd's fd count is back ({fds}, was {base_fds})",
                   f"now {self.fd_list(pid)}, after the warm-up {base_fd_list}")
        rss, hwm = proc_status_kb(pid, "VmRSS"), proc_status_kb(pid, "VmHWM")
        limit = int(base_rss * 1.5) + 8 * 1024
        if under_asan(pid):
            log(f"RSS {rss} kB (was {base_rss} kB, peak {hwm} kB): not checked under ASan")
        else:
            self.check(rss <= limit, f"supd's RSS is near where it started ({rss} kB, was {base_rss} kB, "
                       f"peak {hwm} kB)", f"over {limit} kB")
        self.check(not self.problems, "every supctl call during the load answered as expected",
                   "\n  " + "\n  ".join(self.problems[:20]))

        log(f"{self.runs_ended()} runs ({len(started)} started, {len(hist)} in history), "
            f"{self.events} events, {self.kills} SIGKILLs, ops {dict(self.ops)}, "
            f"load {load_secs:.1f}s")
        return self.finish(pid)

    def fd_list(self, pid):
        out = []
        for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
            try:
                out.append(f"{fd}:{os.readlink(f'/proc/{pid}/fd/{fd}')}")
            except OSError:
                pass
        return out

    def stable_fds(self, pid):
        """The fd count once it stops changing (clients just gone are swept)."""
        a = fd_count(pid)
        time.sleep(0.3)
        b = fd_count(pid)
        return b if a == b else None

    def zombies(self, pid):
        out = []
        for p in os.listdir("/proc"):
            if p.isdigit():
                st = proc_stat(int(p))
                if st and st[1] == pid and st[0] == "Z":
                    out.append(int(p))
        return out

    def finish(self, pid):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(60 * SCALE)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                rc = self.proc.wait()
            self.check(rc == 0, "supd exits 0 on SIGTERM", f"exit status {rc}\n{self.supd_log()}")
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        self.logf.close()
        print(f"stress: {len(self.passed)} passed, {len(self.failed)} failed")
        if self.failed:
            print(f"--- supd log (tail) ---\n{self.supd_log()}")
            print(f"(kept {self.d})")
        elif not os.environ.get("SUPD_TEST_KEEP"):
            shutil.rmtree(self.d, ignore_errors=True)
        return 0 if not self.failed else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=int(os.environ.get("STRESS_RUNS", "20000")))
    ap.add_argument("--clients", type=int, default=4, help="concurrent start/wait clients")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("STRESS_SEED", "0")) or
                    random.randrange(1 << 20))
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="give up on reaching --runs after this long (default: 0.1 s per run + 120 s)")
    ap.add_argument("--no-kill", action="store_true", help="no random SIGKILLs")
    args = ap.parse_args()
    if args.max_seconds is None:
        args.max_seconds = (120 + 0.1 * args.runs) * SCALE
    for b in (SUPD, SUPCTL):
        if not (os.path.isabs(b) and os.access(b, os.X_OK)):
            sys.exit(f"stress: set SUPD and SUPCTL to the binaries under test ({b!r})")
    sys.exit(Stress(args).run())


if __name__ == "__main__":
    main()
