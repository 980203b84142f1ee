# SPDX-License-Identifier: ISC
"""bench/run's common parts: constants, process and timing helpers, the
context and result objects, side-by-side alternation, and how supd and
supervisord are set up and driven."""
import datetime
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PYSUB = os.path.join(HERE, "python_subprocess.py")

# (full, quick) sizes of every workload; keep the full ones as in issue 5
SIZES = {
    "true_n": (2000, 200),
    "sleep_n": (10, 10),
    "enc_files": (64, 8),
    "enc_mb": (4, 1),
    "respawn_fast_s": (2.0, 1.0),     # supd: hundreds of respawns
    "respawn_slow_s": (3.6, 2.2),     # one-second throttles: a few per rep
    "stop_n": (100, 20),
    "stop_cgroup_n": (1000, 100),
    "status_jobs": (1000, 100),
    "status_sv": (100, 20),
    "status_calls": (20, 5),
    "queued_n": (10000, 1000),
    "timeout_runs": (100, 20),
    "idle_jobs": (20, 5),
    "idle_s": (10.0, 2.0),
    "scale_n": (10000, 500),
    "chain_n": (100, 20),
    "ready_n": (100, 20),
    "health_n": (100, 20),
    "health_s": (10.0, 3.0),
}

SUPD_COLOR = 0xcc3311
OTHER_COLOR = 0x4477aa


class BenchError(Exception):
    pass


class NA(Exception):
    """This competitor cannot run here (tool missing, limit too low)."""


# ---------------------------------------------------------------- helpers

def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def median(v):
    return statistics.median(v) if v else None


def percentile(v, p):
    """Nearest-rank percentile."""
    if not v:
        return None
    s = sorted(v)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def wait_until(pred, timeout, interval=0.02, what="condition"):
    end = time.monotonic() + timeout
    while True:
        r = pred()
        if r:
            return r
        if time.monotonic() > end:
            raise BenchError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def read_proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def rss_kb(pid):
    v = read_proc_status(pid).get("VmRSS", "0 kB")
    return int(v.split()[0])


def ctxt_switches(pid):
    st = read_proc_status(pid)
    return int(st.get("voluntary_ctxt_switches", 0)) + int(st.get("nonvoluntary_ctxt_switches", 0))


def proc_table():
    """pid -> (ppid, sid) of every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rfind(")") + 2:].split()
        t[int(d)] = (int(fields[1]), int(fields[3]))
    return t


def children(pid, table=None):
    table = table or proc_table()
    return [p for p, (pp, _s) in table.items() if pp == pid]


def tree(pids):
    """The given processes and all their descendants (by parent link)."""
    table = proc_table()
    out, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo.extend(children(p, table))
    return out


def cpu_ns(pid):
    """Nanoseconds the process has run on a CPU (/proc/PID/schedstat)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def count_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


class Procs:
    """Long-running processes this script started (each in its own session),
    so everything they leave behind can be found and ended by pid."""

    def __init__(self):
        self.started = []

    def bg(self, argv, logpath, **kw):
        f = open(logpath, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True, **kw)
        f.close()
        self.started.append(p)
        return p

    def end(self, p, sig=signal.SIGTERM, grace=60.0):
        """Signal p, wait for it, then kill whatever remains of its tree and session."""
        table = proc_table()
        victims = tree([p.pid]) | {q for q, (_pp, sid) in table.items() if sid == p.pid}
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        victims |= {q for q, (_pp, sid) in proc_table().items() if sid == p.pid}
        for q in victims:
            if q != p.pid:
                try:
                    os.kill(q, signal.SIGKILL)
                except OSError:
                    pass
        if p in self.started:
            self.started.remove(p)

    def end_all(self):
        for p in list(self.started):
            self.end(p, grace=10.0)


PROCS = Procs()
QUICK = [False]


def run_timed(argv, stdin_bytes=None, cwd=None, env=None, ok=(0,)):
    argv = [str(a) for a in argv]
    t0 = time.perf_counter()
    r = subprocess.run(argv, input=stdin_bytes, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=cwd, env=env)
    dt = time.perf_counter() - t0
    if r.returncode not in ok:
        raise BenchError("%s exited %d: %s" % (" ".join(map(str, argv[:4])), r.returncode,
                                               r.stderr.decode(errors="replace")[-500:]))
    return dt


def raw_request(path, req):
    """Seconds from sending one request on supd's socket to the end of its reply line."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    data = (json.dumps(req) + "\n").encode()
    chunks = []
    t0 = time.perf_counter()
    s.sendall(data)
    while True:
        b = s.recv(1 << 20)
        if not b:
            raise BenchError("supd closed the connection")
        chunks.append(b)
        if b.endswith(b"\n"):
            break
    dt = time.perf_counter() - t0
    s.close()
    if not b"".join(chunks).startswith(b'{"ok":true'):
        raise BenchError("status request failed")
    return dt


def parse_rfc3339(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def first_line(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return r.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def deb_version(pkg):
    return first_line(["dpkg-query", "-W", "-f", "${Version}", pkg])


# ---------------------------------------------------------------- context

class Ctx:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.reps = args.reps if args.reps else (1 if args.quick else 5)
        self.without = [w for w in (args.without or "").split(",") if w]
        self.work = args.work or tempfile.mkdtemp(prefix="supd-bench.")
        os.makedirs(self.work, exist_ok=True)
        self.results = []
        self.n_dirs = 0
        self.find_binaries(args.build)
        self.tools = {
            "xargs": shutil.which("xargs"),
            "parallel": shutil.which("parallel"),
            "supervisord": shutil.which("supervisord"),
            "supervisorctl": shutil.which("supervisorctl"),
            "runsv": shutil.which("runsv"),
            "runsvdir": shutil.which("runsvdir"),
            "s6-supervise": shutil.which("s6-supervise"),
            "s6-svscan": shutil.which("s6-svscan"),
            "openssl": shutil.which("openssl"),
            "bash": shutil.which("bash"),
            "sleep": shutil.which("sleep"),
            "gnuplot": shutil.which("gnuplot"),
        }
        if self.tools["parallel"] and "GNU parallel" not in (first_line([self.tools["parallel"], "--version"]) or ""):
            self.tools["parallel"] = None      # moreutils' parallel is another program

    def size(self, key):
        return SIZES[key][1 if self.quick else 0]

    def newdir(self, tag):
        self.n_dirs += 1
        d = os.path.join(self.work, "%02d-%s" % (self.n_dirs, tag))
        os.makedirs(d)
        return d

    def need(self, *tools):
        for t in tools:
            if not self.tools.get(t):
                raise NA("%s is not installed" % t)

    def find_binaries(self, build):
        cands = [build] if build else [os.environ.get("SUPD_BUILD"), TOP, os.path.join(TOP, "build")]
        for d in cands:
            if d and os.access(os.path.join(d, "daemon", "supd"), os.X_OK) and \
                    os.access(os.path.join(d, "ctl", "supctl"), os.X_OK):
                self.build = os.path.abspath(d)
                break
        else:
            raise BenchError("no built supd/supctl in %s; build first or pass --build DIR"
                             % ", ".join(c for c in cands if c))
        self.supd = os.path.join(self.build, "daemon", "supd")
        self.supctl = os.path.join(self.build, "ctl", "supctl")
        self.floor = os.path.join(self.build, "bench", "spawn-floor")
        if not os.access(self.floor, os.X_OK):
            # not built by make (e.g. an older Makefile): compile our own copy
            self.floor = os.path.join(self.work, "spawn-floor")
            cc = os.environ.get("CC", "cc")
            r = subprocess.run([cc, "-O2", "-o", self.floor, os.path.join(HERE, "spawn-floor.c")])
            if r.returncode != 0:
                raise BenchError("cannot build bench/spawn-floor.c")


class Result:
    """One workload: rows of (label, samples, unit) and a verdict."""

    def __init__(self, wid, title, unit, log_scale=False, fmt="%.3f"):
        self.id, self.title, self.unit, self.log_scale, self.fmt = wid, title, unit, log_scale, fmt
        self.rows = []          # dicts: label, samples, na, is_supd, note
        self.target = ""
        self.verdict = None     # True / False / None (not measured)
        self.verdict_text = ""
        self.notes = []
        self.ratio_base = None  # label of the supd row the ratios refer to
        self.summary = None     # label of the supd row shown in the summary (default: ratio_base)
        self.load = None        # 1-minute load average when the workload started
        self.cdf = False        # chart: every sample by percentile instead of bars

    def row(self, label, samples=None, na=None, is_supd=False, note="", vs=None):
        r = {"label": label, "samples": list(samples or []), "na": na, "is_supd": is_supd, "note": note,
             "vs": vs}
        self.rows.append(r)
        if is_supd and self.ratio_base is None:
            self.ratio_base = label
        return r

    def get(self, label):
        for r in self.rows:
            if r["label"] == label:
                return r
        return None

    def med(self, label):
        r = self.get(label)
        return median(r["samples"]) if r and r["samples"] else None


def alternate(ctx, competitors):
    """Run each competitor once per repetition, rotating the order; returns
    label -> samples (or the NA reason as a string)."""
    labels = list(competitors)
    out = {l: [] for l in labels}
    for l in labels:
        if not l.startswith("supd") and any(w.lower() in l.lower() for w in ctx.without):
            out[l] = "left out (--without)"
    for rep in range(ctx.reps):
        k = rep % len(labels)
        for l in labels[k:] + labels[:k]:
            if isinstance(out[l], str):
                continue
            try:
                v = competitors[l]()
            except NA as e:
                out[l] = str(e)
                log("  %s: n/a (%s)" % (l, e))
                continue
            if isinstance(v, list):
                out[l].extend(v)
                log("  rep %d %-28s %d samples, median %s" % (rep + 1, l, len(v), median(v)))
            else:
                out[l].append(v)
                log("  rep %d %-28s %.4f" % (rep + 1, l, v))
    return out


def fill(res, samples, supd_labels=()):
    for l, v in samples.items():
        if isinstance(v, str):
            res.row(l, na=v, is_supd=l in supd_labels)
        else:
            res.row(l, v, is_supd=l in supd_labels)


# ---------------------------------------------------------------- cgroups

def cgroup_v2_mount():
    """Where the cgroup v2 hierarchy is mounted, or None."""
    best = None
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        w = line.split()
        if "-" not in w or w[w.index("-") + 1] != "cgroup2":
            continue
        if w[4] in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            return w[4]
        best = best or w[4]
    return best


class CgroupDir:
    """A cgroup directory of the benchmark's own for `cgroup = PATH`;
    raises NA without root or a v2 hierarchy. Removed (after a kill) on exit."""

    def __init__(self, tag):
        mount = cgroup_v2_mount()
        if os.geteuid() != 0 or not mount:
            raise NA("needs root and a cgroup v2 hierarchy")
        self.path = os.path.join(mount, "supd-bench-%d-%s" % (os.getpid(), tag))

    def __enter__(self):
        os.mkdir(self.path)
        return self.path

    def __exit__(self, *exc):
        try:
            with open(os.path.join(self.path, "cgroup.kill"), "w") as f:
                f.write("1")
        except OSError:
            pass
        for root, dirs, _ in os.walk(self.path, topdown=False):
            for d in dirs:
                try:
                    os.rmdir(os.path.join(root, d))
                except OSError:
                    pass
        try:
            os.rmdir(self.path)
        except OSError:
            pass


# ---------------------------------------------------------------- supd

class Supd:
    def __init__(self, ctx, tag, body, max_parallel=None, nofile=None, cgroup=None):
        self.ctx = ctx
        self.dir = ctx.newdir("supd-" + tag)
        self.sock = os.path.join(self.dir, "supd.sock")
        self.conf = os.path.join(self.dir, "supd.conf")
        self.nofile = nofile
        head = "[supd]\nsocket = %s\nstate_dir = %s/state\n" % (self.sock, self.dir)
        if max_parallel is not None:
            head += "max_parallel = %s\n" % max_parallel
        if cgroup is not None:
            head += "cgroup = %s\n" % cgroup
        with open(self.conf, "w") as f:
            f.write(head + "\n" + body)
        self.proc = None

    def __enter__(self):
        pre = None
        if self.nofile:
            n = self.nofile

            def pre():
                soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n), hard))
        self.proc = PROCS.bg([self.ctx.supd, "-c", self.conf], os.path.join(self.dir, "supd.log"),
                             preexec_fn=pre)

        def up():
            if self.proc.poll() is not None:
                raise BenchError("supd exited at start: %s" % self.log_tail())
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_until(up, 30, what="supd's socket")
        return self

    def __exit__(self, *exc):
        self.shutdown()

    def shutdown(self):
        if self.proc:
            PROCS.end(self.proc, signal.SIGTERM, grace=120)
            self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "supd.log"), errors="replace") as f:
                return f.read()[-1000:]
        except OSError:
            return ""

    def ctl(self, *args, ok=(0,), capture=False):
        r = subprocess.run([self.ctx.supctl, "-s", self.sock] + [str(a) for a in args],
                           stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode not in ok:
            raise BenchError("supctl %s: exit %d: %s" % (" ".join(map(str, args[:3])), r.returncode,
                                                          r.stderr.decode(errors="replace")[-500:]))
        return r.stdout

    def start_many(self, names):
        """One supctl start: it splits what does not fit in one 64 KiB request."""
        self.ctl("start", *names)

    def status(self, *patterns):
        return json.loads(self.ctl("--json", "status", *patterns, capture=True))

    def history(self, *patterns):
        """Finished runs, oldest first (supctl --json history prints JSON lines)."""
        out = self.ctl("--json", "history", *patterns, capture=True).decode()
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def wait_states(self, n, state="running", timeout=120, *patterns):
        def ok():
            return sum(1 for j in self.status(*patterns) if j["state"] == state) >= n
        wait_until(ok, timeout, 0.1, "%d %s jobs in supd" % (n, state))


# ---------------------------------------------------------------- supervisord

class Supervisord:
    HEAD = """[unix_http_server]
file = {d}/supervisor.sock

[supervisord]
logfile = {d}/supervisord.log
pidfile = {d}/supervisord.pid
childlogdir = {d}/childlogs
nodaemon = true
loglevel = info

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://{d}/supervisor.sock

"""

    def __init__(self, ctx, tag, body):
        ctx.need("supervisord", "supervisorctl")
        self.ctx = ctx
        self.dir = ctx.newdir("supervisord-" + tag)
        os.makedirs(os.path.join(self.dir, "childlogs"))
        self.conf = os.path.join(self.dir, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write(self.HEAD.format(d=self.dir) + body)
        self.proc = None

    def __enter__(self):
        self.proc = PROCS.bg([self.ctx.tools["supervisord"], "-c", self.conf],
                             os.path.join(self.dir, "stdout.log"))
        wait_until(lambda: self.ctl_rc("pid") == 0, 60, 0.1, "supervisord's socket")
        return self

    def __exit__(self, *exc):
        self.shutdown()

    def shutdown(self):
        if self.proc:
            PROCS.end(self.proc, signal.SIGTERM, grace=300)
            self.proc = None

    def argv(self, *args):
        return [self.ctx.tools["supervisorctl"], "-c", self.conf] + list(args)

    def ctl_rc(self, *args):
        return subprocess.run(self.argv(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    def ctl_out(self, *args):
        return subprocess.run(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()

    def wait_running(self, n, timeout=300):
        wait_until(lambda: self.ctl_out("status").count(" RUNNING ") >= n, timeout, 0.5,
                   "%d RUNNING programs in supervisord" % n)


# ---------------------------------------------------------------- workloads

