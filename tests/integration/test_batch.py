# SPDX-License-Identifier: ISC
"""Batch work through supd (issue 3): pipelines wired by supd, the bounded run
queue (max_parallel), a directory encrypted through a template job, and
`supctl wait` on many jobs (SPEC §1-§4)."""
import collections
import gzip
import json
import os
import random
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import threading
import time
import unittest

from supdtest import (SupdCase, SCALE, SRCDIR, SUPCTL, T_CMD, T_LONG, T_SHORT,
                      alive, descendants, parse_time, read_file, wait_for, _clean_env,
                      note, proc_mem_kb, under_asan)

ENCRYPT_DIR = os.path.join(SRCDIR, "conf", "examples", "encrypt-dir")
RSS_LIMIT_KB = 64 * 1024








class EventReader:
    """A raw {"cmd":"subscribe"} connection read by a thread: every event
    with the monotonic time it arrived."""

    def __init__(self, case):
        self.conn = case.conn(timeout=0.5)
        rep = self.conn.request({"cmd": "subscribe"})
        case.assertIs(rep.get("ok"), True, f"subscribe refused: {rep}")
        self.events = []
        self.eof = False
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        case.addCleanup(self.close)

    def _run(self):
        while not self.stop:
            try:
                line = self.conn.recv_line()
            except socket.timeout:
                continue
            except OSError:
                break
            if not line:
                break
            with self.lock:
                self.events.append((time.monotonic(), json.loads(line)))
        self.eof = True

    def snapshot(self):
        with self.lock:
            return [e for _, e in self.events]

    def wait_for(self, pred, timeout=T_LONG):
        return wait_for(lambda: pred(self.snapshot()), timeout, 0.05)

    def close(self):
        self.stop = True
        self.t.join(5)
        self.conn.close()


# ------------------------------------------------------------ pipelines ---

class PipelineTest(SupdCase):
    CONFIG = """
        [job:midfail]
        command = true | sh -c 'exit 3' | cat
        autostart = false

        [job:firstfail]
        command = sh -c 'exit 2' | true
        autostart = false

        [job:allok]
        command = echo hello pipes | tr a-z A-Z
        stdout = {d}/allok.out
        autostart = false

        [job:missing]
        command = echo hi | /nonexistent/prog | cat
        autostart = false

        [job:missing2]
        command = sleep 301 | /nonexistent/prog | cat
        autostart = false

        [job:quoted]
        command = printf '%%s\\n' 'a|b'
        stdout = {d}/quoted.out
        autostart = false

        [job:quoted2]
        command = echo "x | y" a\\|b '|'
        stdout = {d}/quoted2.out
        autostart = false

        [job:slow3]
        command = sleep 30 | sleep 30 | sleep 30
        timeout = 300ms
        stop_timeout = 5s
        autostart = false

        [job:traps]
        command = sh {d}/trap.sh one | sh {d}/trap.sh two
        autostart = false
        """

    def stage_codes(self, j):
        return [s["exit_code"] for s in j["stages"]]

    def test_pipefail_middle_stage(self):
        r = self.ctl("run", "midfail")
        self.assertEqual(r.returncode, 3, self.msg("rightmost failing stage decides (SPEC §2)", r))
        j = self.job("midfail")
        self.assertEqual(j["state"], "failed", self.msg(json.dumps(j)))
        self.assertEqual(j["exit_code"], 3, self.msg(json.dumps(j)))
        self.assertEqual([s["argv0"] for s in j["stages"]], ["true", "sh", "cat"], json.dumps(j))
        self.assertEqual(self.stage_codes(j), [0, 3, 0], self.msg(json.dumps(j)))
        for s in j["stages"]:
            self.assertIs(type(s["pid"]), int, json.dumps(j))
            self.assertIsNone(s["signal"], json.dumps(j))
        h = self.history("midfail")
        self.assertEqual(len(h), 1, h)
        self.assertEqual([s["exit_code"] for s in h[0]["stages"]], [0, 3, 0],
                         "history carries each stage's status")

    def test_pipefail_first_stage_last_ok(self):
        r = self.ctl("run", "firstfail")
        self.assertEqual(r.returncode, 2, self.msg("a failing first stage fails the run "
                                                   "though the last one succeeded", r))
        j = self.job("firstfail")
        self.assertEqual((j["state"], j["exit_code"]), ("failed", 2), self.msg(json.dumps(j)))
        self.assertEqual(self.stage_codes(j), [2, 0], self.msg(json.dumps(j)))

    def test_pipeline_success(self):
        self.ctl("run", "allok", check=0)
        self.assertEqual(read_file(f"{self.d}/allok.out"), "HELLO PIPES\n")
        j = self.job("allok")
        self.assertEqual((j["state"], j["exit_code"]), ("exited", 0))
        self.assertEqual([s["argv0"] for s in j["stages"]], ["echo", "tr"])
        self.assertEqual(self.stage_codes(j), [0, 0])

    def test_missing_program_in_stage_two(self):
        r = self.ctl("run", "missing")
        self.assertEqual(r.returncode, 127, self.msg("a missing program exits as the shell's 127", r))
        j = self.job("missing")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        err = j["error"] or ""
        self.assertIn("stage 2", err, self.msg(f"the error names the stage: {err!r}"))
        self.assertIn("/nonexistent/prog", err, self.msg(f"the error names the path: {err!r}"))
        self.assertIn("No such file or directory", err, self.msg(f"the reason: {err!r}"))
        self.assertEqual(j["exit_status"] if "exit_status" in j else 127, 127, json.dumps(j))
        self.assertEqual(descendants(self.supd_pid()), [],
                         self.msg("stage 1 (or anything else) left running"))

    def test_missing_program_kills_started_stage(self):
        # stage 1 here would run for 301 s if supd left it behind
        r = self.ctl("run", "missing2")
        self.assertEqual(r.returncode, 127, self.msg("", r))
        self.assertEqual(self.job("missing2")["state"], "fatal")

        def sleepers():
            out = []
            for p in descendants(self.supd_pid()):
                cmd = read_file(f"/proc/{p}/cmdline", "") or ""
                out.append((p, cmd.replace("\0", " ")))
            return out
        self.assertTrue(wait_for(lambda: not sleepers(), T_SHORT),
                        self.msg(f"processes left after the failed spawn: {sleepers()}"))

    def test_quoting_protects_a_pipe(self):
        self.ctl("run", "quoted", check=0)
        self.assertEqual(read_file(f"{self.d}/quoted.out"), "a|b\n")
        j = self.job("quoted")
        self.assertEqual(len(j["stages"]), 1, self.msg(f"a quoted | is no stage separator: {j}"))
        self.ctl("run", "quoted2", check=0)
        self.assertEqual(read_file(f"{self.d}/quoted2.out"), "x | y a|b |\n")

    def test_timeout_kills_every_stage(self):
        t0 = time.monotonic()
        r = self.ctl("run", "slow3")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 124, self.msg("timeout exits 124", r))
        self.assertLess(took, 25, f"timeout = 300ms took {took:.1f}s")
        j = self.job("slow3")
        self.assertIs(j["timed_out"], True, self.msg(json.dumps(j)))
        self.assertEqual(j["state"], "failed", self.msg(json.dumps(j)))
        self.assertEqual(len(j["stages"]), 3, json.dumps(j))
        for s in j["stages"]:
            self.assertEqual(s["argv0"], "sleep")
            self.assertIn(s["signal"], ("TERM", "KILL"), self.msg(f"every stage is killed: {j}"))
            self.assertFalse(alive(s["pid"]), f"stage pid {s['pid']} still alive")
        self.assertEqual(descendants(self.supd_pid()), [], "a sleep of the job remains")
        h = self.history("slow3")
        self.assertIs(h[-1]["timed_out"], True, h)

    def start_traps(self):
        # each stage: note USR1 in a file, keep running
        self.write("trap.sh", f'trap "echo $1 >> {self.d}/usr1" USR1\n'
                              f'touch {self.d}/$1.ready\n'
                              'while :; do sleep 0.1; done\n')
        self.ctl("start", "traps", check=0)
        self.wait_file(f"{self.d}/one.ready")
        self.wait_file(f"{self.d}/two.ready")
        j = self.job("traps")
        self.assertEqual(j["state"], "running")
        pids = [s["pid"] for s in j["stages"]]
        self.assertEqual(len(pids), 2, json.dumps(j))
        self.assertTrue(all(alive(p) for p in pids), json.dumps(j))
        return pids

    def test_signal_reaches_every_stage(self):
        pids = self.start_traps()
        self.ctl("signal", "USR1", "traps", check=0)

        def got():
            return sorted((read_file(f"{self.d}/usr1", "") or "").split())
        self.assertTrue(wait_for(lambda: got() == ["one", "two"], T_SHORT),
                        self.msg(f"both stages must get USR1; file has {got()}"))
        self.assertTrue(all(alive(p) for p in pids), "the stages survive their trap")
        self.assertEqual(self.job("traps")["state"], "running")

    def test_stop_acts_on_whole_pipeline(self):
        pids = self.start_traps()
        self.ctl("stop", "traps", check=0)
        j = self.job("traps")
        self.assertEqual(j["state"], "stopped", self.msg(json.dumps(j)))
        self.assertIsNone(j["pid"])
        for p in pids:
            self.assertFalse(alive(p), self.msg(f"stage {p} survived stop"))
        self.assertEqual([s["signal"] for s in j["stages"]], ["TERM", "TERM"], self.msg(json.dumps(j)))


# ------------------------------------------------------- encryption ---

class EncryptTest(SupdCase):
    SUPD_EXTRA = "max_parallel = 4\n"
    CONFIG = """
        [job:encrypt@]
        command = gzip -c | openssl enc -aes-256-cbc -pbkdf2 -pass env:PASSWORD
        environment_file = {d}/secret.env
        stdin = {d}/plain/%i
        stdout = {d}/enc/%i.enc
        timeout = 2m
        autostart = false

        [job:nonempty@]
        command = grep -q .
        stdin = {d}/mixed/%i
        autostart = false
        """
    N_FILES = 20

    def setUp(self):
        super().setUp()
        self.password = "pw-" + secrets.token_hex(16)
        self.write("secret.env", f"# the passphrase\nPASSWORD={self.password}\n", 0o600)
        for sub in ("plain", "enc", "mixed"):
            os.mkdir(os.path.join(self.d, sub))
        rnd = random.Random(3)
        sizes = [0, 1, 300 * 1024] + [rnd.randrange(0, 300 * 1024) for _ in range(self.N_FILES - 3)]
        self.files = {}
        for i, size in enumerate(sizes):
            name = f"file{i:02d}.{'txt' if i % 2 else 'bin'}"
            if i % 2:    # compressible text
                words = b"lorem ipsum dolor sit amet consectetur adipiscing elit\n"
                data = (words * (size // len(words) + 1))[:size]
            else:
                data = os.urandom(size)
            with open(os.path.join(self.d, "plain", name), "wb") as f:
                f.write(data)
            self.files[name] = data

    def decrypt(self, path):
        env = dict(_clean_env(), PASSWORD=self.password)
        r = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-pass", "env:PASSWORD",
                            "-in", path], capture_output=True, env=env, timeout=T_CMD)
        self.assertEqual(r.returncode, 0, f"openssl cannot decrypt {path}: {r.stderr!r}")
        return gzip.decompress(r.stdout)

    def assert_all_decrypt(self):
        for name, data in self.files.items():
            path = os.path.join(self.d, "enc", name + ".enc")
            self.assertTrue(os.path.exists(path), self.msg(f"no ciphertext for {name}"))
            with open(path, "rb") as f:
                cipher = f.read()
            if len(data) >= 64:
                self.assertNotIn(data[:64], cipher, f"{path} holds plaintext")
            self.assertEqual(self.decrypt(path), data, f"{name}: decrypted content differs")

    def assert_no_secret(self, what, text):
        self.assertNotIn(self.password, text, f"{what} shows the passphrase")

    def test_encrypt_directory(self):
        ev = EventReader(self)
        names = sorted(self.files)
        r = self.ctl("start", *[f"encrypt@{n}" for n in names])
        self.assertEqual(r.returncode, 0, self.msg("start", r))
        t0 = time.monotonic()
        r = self.ctl("wait", "encrypt@*", timeout=T_CMD * 2)
        self.assertEqual(r.returncode, 0, self.msg("every file encrypted", r))
        note(f"encrypted {len(names)} files ({sum(map(len, self.files.values())) // 1024} KB) "
             f"in {time.monotonic() - t0:.2f}s")
        self.assert_all_decrypt()

        st = self.status("encrypt")
        self.assertEqual(set(st), {f"encrypt@{n}" for n in names})
        for name, j in st.items():
            self.assertEqual((j["state"], j["exit_code"]), ("exited", 0), self.msg(json.dumps(j)))
            self.assertEqual([s["argv0"] for s in j["stages"]], ["gzip", "openssl"], json.dumps(j))
            for s in j["stages"]:
                self.assertIs(type(s["pid"]), int, json.dumps(j))
                self.assertEqual((s["exit_code"], s["signal"]), (0, None), json.dumps(j))

        # the passphrase shows nowhere
        for args in (("status",), ("--json", "status"), ("status", "encrypt"),
                     ("history",), ("--json", "history"), ("history", "encrypt")):
            r = self.ctl(*args, check=0)
            self.assert_no_secret("supctl " + " ".join(args), r.stdout + r.stderr)
        self.assert_no_secret("raw status reply",
                              json.dumps(self.request({"cmd": "status"})))
        self.assertTrue(ev.wait_for(lambda es: sum(1 for e in es if e.get("event") == "exited")
                                    >= len(names)), "exited events for every file")
        self.assert_no_secret("events", json.dumps(ev.snapshot()))
        self.assert_no_secret("supd's log", self.daemon_log(0))

        runs = self.history("encrypt")
        self.assertEqual(sorted(r["name"] for r in runs), [f"encrypt@{n}" for n in names])
        for run in runs:
            self.assertEqual([s["argv0"] for s in run["stages"]], ["gzip", "openssl"])
            self.assertEqual([s["exit_code"] for s in run["stages"]], [0, 0])

    def run_script(self, *args):
        env = dict(_clean_env(), SUPCTL=SUPCTL)
        try:
            return subprocess.run(["bash", ENCRYPT_DIR, *args], capture_output=True, text=True,
                                  env=env, timeout=T_CMD * 2, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail(self.msg(f"encrypt-dir did not finish: {e.stdout!r} {e.stderr!r}"))

    def test_encrypt_dir_script(self):
        self.assertTrue(os.path.isfile(ENCRYPT_DIR), f"{ENCRYPT_DIR} is missing")
        self.assertTrue(os.access(ENCRYPT_DIR, os.X_OK), f"{ENCRYPT_DIR} is not executable")
        r = self.run_script("-s", self.sock, "-j", "encrypt", os.path.join(self.d, "plain"))
        desc = f"encrypt-dir exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
        self.assertEqual(r.returncode, 0, self.msg(desc))
        self.assert_all_decrypt()
        rows = {}
        for line in r.stdout.splitlines():
            f = line.split()
            if f and f[0] in self.files:
                rows[f[0]] = f
        self.assertEqual(set(rows), set(self.files), self.msg("one row per file\n" + desc))
        for name, f in rows.items():
            self.assertEqual(f[1], "ok", desc)
            self.assertTrue(any(re.fullmatch(r"\d+(\.\d+)?s", x) for x in f[2:]),
                            f"row for {name} has no time: {f}\n{desc}")
        self.assert_no_secret("encrypt-dir output", r.stdout + r.stderr)

    def test_encrypt_dir_script_reports_failures(self):
        mixed = os.path.join(self.d, "mixed")
        for name, data in (("full1", b"data\n"), ("empty", b""), ("full2", b"more\n"),
                           ("bad name", b"x\n")):
            with open(os.path.join(mixed, name), "wb") as f:
                f.write(data)
        os.mkdir(os.path.join(mixed, "subdir"))
        r = self.run_script("-s", self.sock, "-j", "nonempty", mixed)
        desc = f"encrypt-dir exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
        self.assertEqual(r.returncode, 1, self.msg("a failed file makes the script fail\n" + desc))
        rows = {l.split()[0]: l.split() for l in r.stdout.splitlines() if l.split()}
        self.assertEqual(rows.get("full1", [None, None])[1], "ok", desc)
        self.assertEqual(rows.get("full2", [None, None])[1], "ok", desc)
        self.assertIn("empty", rows, desc)
        self.assertNotEqual(rows["empty"][1], "ok", desc)
        self.assertNotIn("subdir", rows, "only regular files are processed\n" + desc)
        self.assertIn("bad name", r.stdout, "a file supd refuses is reported\n" + desc)
        self.assertEqual(self.job("nonempty@full1")["state"], "exited")
        self.assertEqual(self.job("nonempty@empty")["state"], "failed")

    def test_encrypt_dir_script_usage_and_unreachable(self):
        r = self.run_script()
        self.assertEqual(r.returncode, 2, f"usage error: {r!r}")
        self.assertTrue(r.stderr.strip(), "says why")
        r = self.run_script("-s", f"{self.d}/nope.sock", os.path.join(self.d, "plain"))
        self.assertEqual(r.returncode, 3, f"supd unreachable: {r!r}")
        r = self.run_script("-s", self.sock, "-j", "nosuchjob", os.path.join(self.d, "plain"))
        self.assertNotEqual(r.returncode, 0, f"unknown template: {r!r}")
        self.assertIn("nosuchjob", r.stdout + r.stderr)


# ------------------------------------------------------------ run queue ---

class QueueTest(SupdCase):
    SUPD_EXTRA = "max_parallel = 2\n"
    CONFIG = """
        [job:nap@]
        command = sleep 0.3
        autostart = false

        [job:t@]
        command = true
        autostart = false

        [job:prog@]
        command = sh -c 'sleep 0.2; case %i in *f) exit 1;; esac'
        autostart = false

        [job:svc]
        command = sleep 300
        restart = always
        """
    N = 8

    def start_naps(self):
        names = [f"nap@{i}" for i in range(self.N)]
        r = self.ctl("--json", "start", *names)
        self.assertEqual(r.returncode, 0, self.msg("start", r))
        return names, r

    def test_max_parallel_status_and_fifo(self):
        self.wait_running("svc")     # a service takes no batch slot
        ev = EventReader(self)
        names, r = self.start_naps()
        st = self.status("nap")
        states = collections.Counter(j["state"] for j in st.values())
        self.assertLessEqual(states["running"], 2, self.msg(f"right after start: {states}"))
        self.assertGreaterEqual(states["queued"], 1, self.msg(f"the rest wait queued: {states}"))
        for j in st.values():
            if j["state"] == "queued":
                self.assertIsNone(j["pid"], json.dumps(j))
        # the start reply itself: the first two running, the other six queued
        try:
            reply = {j["name"]: j["state"] for j in json.loads(r.stdout)}
        except (ValueError, TypeError, KeyError):
            reply = None
        if reply is not None:
            self.assertEqual([reply[n] for n in names], ["running"] * 2 + ["queued"] * 6,
                             f"start reply: {reply}")
        self.ctl("wait", "nap", check=0, timeout=T_CMD)
        st = self.status("nap")
        for n in names:
            self.assertEqual((st[n]["state"], st[n]["exit_code"]), ("exited", 0), json.dumps(st[n]))
        self.assertEqual(self.job("svc")["state"], "running")

        self.assertTrue(ev.wait_for(lambda es: sum(1 for e in es if e.get("event") == "exited"
                                                   and e["name"].startswith("nap@")) == self.N),
                        f"exited events: {ev.snapshot()}")
        events = [e for e in ev.snapshot() if e["name"].startswith("nap@")]
        started = [e["name"] for e in events if e["event"] == "started"]
        queued = [e["name"] for e in events if e["event"] == "state" and e["state"] == "queued"]
        self.assertEqual(started, names, "first come, first served: start order")
        self.assertEqual(queued, names[2:], "the queue order")
        self.assertEqual([n for n in started if n in queued], queued, "FIFO: start order == queue order")

        # from timestamps (history): never more than two runs overlap
        runs = self.history("nap")
        self.assertEqual(sorted(r["name"] for r in runs), sorted(names), runs)
        points = []
        for run in runs:
            points.append((parse_time(run["started_at"]), 1, run["name"]))
            points.append((parse_time(run["ended_at"]), 0, run["name"]))   # ends sort first
        cur = peak = 0
        for _, kind, _ in sorted(points):
            cur += 1 if kind else -1
            peak = max(peak, cur)
        self.assertLessEqual(peak, 2, f"more than 2 runs overlapped: {runs}")
        self.assertEqual(peak, 2, "two runs at once were allowed")
        by_start = [r["name"] for r in sorted(runs, key=lambda r: parse_time(r["started_at"]))]
        self.assertEqual(by_start, names, "runs started in queue order")

    def test_max_parallel_from_events(self):
        ev = EventReader(self)
        names, _ = self.start_naps()
        self.ctl("wait", "nap", check=0, timeout=T_CMD)
        self.assertTrue(ev.wait_for(lambda es: sum(1 for e in es if e.get("event") == "exited")
                                    == self.N), f"exited events: {ev.snapshot()}")
        running, peak, trace = set(), 0, []
        for e in ev.snapshot():
            if e["event"] == "started":
                running.add(e["name"])
            elif e["event"] == "exited" or (e["event"] == "state" and e["state"] != "running"):
                running.discard(e["name"])
            peak = max(peak, len(running))
            trace.append(f"{e['event']:8} {e['name']:6} {e['state']:8} running={sorted(running)}")
        self.assertLessEqual(peak, 2, "events show more than 2 running at once:\n" + "\n".join(trace))
        self.assertEqual(peak, 2, "\n".join(trace))

    def test_queued_instances_drain(self):
        n, batch = 2000, 200
        names = [f"t@{i}" for i in range(n)]
        pid = self.supd_pid()
        rss_start = proc_mem_kb(pid, "VmRSS")
        t0 = time.monotonic()
        for i in range(0, n, batch):
            self.ctl("start", *names[i:i + batch], check=0)
        t_started = time.monotonic() - t0
        st = self.status("t")
        self.assertEqual(len(st), n)
        states = collections.Counter(j["state"] for j in st.values())
        self.assertLessEqual(states["running"], 2, states)
        r = self.ctl("wait", "t@*", timeout=120 * SCALE)
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, self.msg("every instance exited 0", r))
        self.assertLess(took, 120 * SCALE)
        self.assertEqual(r.stderr.strip(), "", "wait is quiet when not on a terminal")
        st = self.status("t")
        states = collections.Counter(j["state"] for j in st.values())
        self.assertEqual(states, {"exited": n}, states)
        runs = self.history("t")
        counts = collections.Counter(r["name"] for r in runs)
        self.assertEqual(len(counts), n, "every instance is in history")
        self.assertEqual(set(counts.values()), {1}, [k for k, v in counts.items() if v != 1][:10])
        self.assertEqual(len({r["run"] for r in runs}), n, "run numbers are unique")
        hwm = proc_mem_kb(pid, "VmHWM")
        note(f"{n} instances: started in {t_started:.1f}s, all done in {took:.1f}s; supd RSS "
             f"{rss_start} kB at start, peak {hwm} kB{' (ASan)' if under_asan(pid) else ''}")
        if not under_asan(pid):    # ASan's quarantine and redzones are not supd's memory
            self.assertLess(hwm, RSS_LIMIT_KB, f"supd peak RSS {hwm} kB")
        self.assertAlive()

    def test_wait_many_with_failures(self):
        names = [f"prog@{i}{'f' if i in (1, 4) else ''}" for i in range(6)]
        self.ctl("start", *names, check=0)
        r = self.ctl("wait", "prog", timeout=T_CMD)
        self.assertEqual(r.returncode, 1, self.msg("two of six failed", r))
        st = self.status("prog")
        self.assertEqual(sorted(n for n, j in st.items() if j["state"] == "failed"),
                         ["prog@1f", "prog@4f"])
        self.assertNotIn("done,", r.stderr, "no progress line when not on a terminal")

    def test_wait_progress_on_a_terminal(self):
        if not shutil.which("script"):
            self.skipTest("script (util-linux) is not installed")
        n = 12
        names = [f"prog@{i}{'f' if i in (0, 3) else ''}" for i in range(n)]
        self.ctl("start", *names, check=0)
        cmd = shlex.join([SUPCTL, "-s", self.sock, "wait", "prog@*"])
        try:
            r = subprocess.run(["script", "-q", "-e", "-c", cmd, "/dev/null"], capture_output=True,
                               env=_clean_env(), timeout=T_CMD, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail(f"supctl wait under script did not return: {e.stdout!r}")
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 1, f"two failed: {out!r}")
        progress = re.findall(r"(\d+)/(\d+) done, (\d+) failed", out)
        if not progress:
            self.skipTest(f"supctl wait printed no progress line on a terminal: {out!r}")
        for done, total, failed in progress:
            self.assertEqual(int(total), n, out)
            self.assertLess(int(done), n, out)
            self.assertLessEqual(int(failed), int(done), out)
        self.assertGreaterEqual(len(progress), 2, f"progress is updated: {out!r}")
        dones = [int(p[0]) for p in progress]
        self.assertEqual(dones, sorted(dones), f"progress only grows: {out!r}")
        self.assertTrue(any(int(p[2]) >= 1 for p in progress), f"failures are counted: {out!r}")
        note("supctl wait progress on a terminal: " + " | ".join(f"{d}/{t} done, {f} failed"
                                                              for d, t, f in progress))


if __name__ == "__main__":
    unittest.main(verbosity=2)
