# SPDX-License-Identifier: ISC
"""history of a 32 MB run log never holds up the event loop, and a client
that does not read holds little (SPEC §11, issue 10).

Every test starts supd on a run log of about 32 MB written beforehand:
runs.jsonl.1 and runs.jsonl of 16 MB each, just under the rotation size
(daemon/history.h), with "started" records, unparseable lines and a record
without a name among the end records.  The old code parsed the whole log
inside the event loop for each request: eight requests delayed every other
client by seconds, a 1 s timeout lasted 2.4 s, and forty clients that did
not read pinned 1.28 GB."""
import json
import os
import re
import socket
import threading
import time
import unittest

from supdtest import SUPD, SupdCase, SCALE, T_LONG, note, proc_mem_kb, under_asan

# Under valgrind (make check-valgrind), reading 32 MB takes minutes: a
# smaller log still takes many steps, and RSS is valgrind's own.
VALGRIND = "valgrind" in os.path.basename(SUPD)
FILE_BYTES = (2 if VALGRIND else 16) * 1000 * 1000    # each file; the rotation size is 16 MiB
ROTATE_AT = 16 << 20
STARTED_BOOT = "6f0c2a4e-0000-4000-8000-000000000001"      # another boot: only recorded at startup
# unreadable lines, counted as skipped: torn, not JSON, no object, and one
# longer than any record (over 4 MiB, or over a read step under valgrind)
BAD_LINES = ['{"name": "old@1", "run": 5, "sta', "not json at all", "[1, 2]",
             "{" + "z" * ((300 << 10) if VALGRIND else (5 << 20))]
# SPEC §11 says 50 ms; the bound leaves room for a loaded 2-core machine and
# sanitizers. The old code took seconds.
LATENCY_BOUND = 0.25 * SCALE
REPLY_END = re.compile(rb'"skipped":(\d+)\}\n$')


def record(n, pad):
    return {"name": f"old@{n % 7}", "state": "exited" if n % 3 else "failed", "pid": None, "run": n,
            "started_at": "2026-01-01T00:00:00.000000Z", "ended_at": "2026-01-01T00:00:01.500000Z",
            "duration_s": 1.5, "exit_code": 0 if n % 3 else 1, "signal": None, "timed_out": False,
            "restarts": 0, "cpu_user_s": 0.01, "cpu_sys_s": 0.0, "max_rss_kb": 1000 + n,
            "stages": [{"argv0": "true", "pid": 1000 + n % 30000, "exit_code": 0, "signal": None}],
            "error": None, "pad": pad}


def started(n):
    return {"event": "started", "run": n, "name": f"old@{n % 7}", "boot_id": STARTED_BOOT,
            "started_at": "2026-01-01T00:00:00.000000Z", "cgroup": None, "pids": []}


class HistoryLoadTest(SupdCase):
    START_DAEMON = False
    CONFIG = """
        [job:ok]
        command = true
        autostart = false

        [job:tmo]
        command = sleep 30
        timeout = 1s
        autostart = false
        """

    def setUp(self):
        super().setUp()
        os.makedirs(self.state_dir, exist_ok=True)
        self.path = os.path.join(self.state_dir, "runs.jsonl")
        self.expected = []           # the end records, oldest first, as supd must give them
        n = 0
        for path, size in ((self.path + ".1", FILE_BYTES), (self.path, FILE_BYTES)):
            written = 0
            with open(path, "w", encoding="utf-8") as f:
                def put(line):
                    nonlocal written
                    f.write(line + "\n")
                    written += len(line.encode()) + 1
                if path.endswith(".1"):
                    for bad in BAD_LINES:
                        put(bad)
                    put('{"run": 1, "state": "exited"}')       # no name: no match, not unreadable
                    put("")
                while written < size:
                    n += 1
                    if n % 5 == 0:
                        put(json.dumps(started(n)))
                    rec = record(n, "é" * (n % 50) + "x" * 300)
                    put(json.dumps(rec, ensure_ascii=False))
                    self.expected.append(rec)
        self.last_run = n
        self.start_daemon()
        self.pid = self.supd_pid()

    # -- helpers ----------------------------------------------------------

    def runs_via_supctl(self, *args):
        r = self.ctl("--json", "history", *args, check=0, timeout=T_LONG * 2)
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def status_round_trip(self, conn):
        t0 = time.monotonic()
        try:
            rep = conn.request({"cmd": "status", "jobs": ["ok"]})
        except socket.timeout:
            self.fail(self.msg(f"no status reply within {time.monotonic() - t0:.0f} s"))
        dt = time.monotonic() - t0
        self.assertIs(rep.get("ok"), True, rep)
        return dt

    def read_reply(self, s, keep=False):
        """Read one history reply to its newline; returns (bytes read, the
        reply if keep, else its last bytes)."""
        chunk = bytearray(1 << 20)
        parts, total, tail = [], 0, b""
        while True:
            n = s.recv_into(chunk)
            if n == 0:
                raise EOFError(f"supd closed the connection after {total} bytes")
            total += n
            piece = bytes(chunk[:n])
            if keep:
                parts.append(piece)
            tail = (tail + piece)[-200:]
            if tail.endswith(b"\n"):
                return total, b"".join(parts) if keep else tail

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(T_LONG * 4)
        s.connect(self.sock)
        self.addCleanup(s.close)
        return s

    # -- the tests ----------------------------------------------------------

    def test_others_are_not_delayed(self):
        """Eight clients read the whole history over and over: another
        client's status round trips and a job's 1 s timeout stay on time."""
        stop = threading.Event()
        replies, errors, first = [0] * 8, [], [None] * 8

        socks = [self.connect() for _ in range(8)]

        def reader(i):
            s = socks[i]
            try:
                while not stop.is_set():
                    s.sendall(b'{"cmd":"history"}\n')
                    total, tail = self.read_reply(s)
                    m = REPLY_END.search(tail)
                    if not m or int(m.group(1)) != len(BAD_LINES):
                        errors.append(f"reader {i}: reply of {total} bytes ends {tail[-80:]!r}")
                        return
                    replies[i] += 1
                    if first[i] is None:
                        first[i] = time.monotonic() - t_sent
            except Exception as e:                 # reported by the main thread
                errors.append(f"reader {i}: {e!r}")

        threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(8)]
        t_sent = time.monotonic()
        for t in threads:
            t.start()
        self.addCleanup(stop.set)
        time.sleep(0.2)                            # the queries are under way
        probe = self.conn(timeout=T_LONG)
        lat = []
        tmo = {}

        def run_tmo():
            with self.conn(timeout=T_LONG) as c:
                t0 = time.monotonic()
                rep = c.request({"cmd": "run", "jobs": ["tmo"]})
                tmo["wall"], tmo["rep"] = time.monotonic() - t0, rep
        runner = threading.Thread(target=run_tmo, daemon=True)
        runner.start()
        t_end = time.monotonic() + T_LONG * 2
        start = time.monotonic()
        while time.monotonic() < t_end:
            lat.append(self.status_round_trip(probe))
            if len(lat) % 10 == 0:                 # a new connection too
                with self.conn(timeout=T_LONG) as c:
                    lat.append(self.status_round_trip(c))
            if not runner.is_alive() and time.monotonic() - start >= 2 and \
                    all(replies[i] or not threads[i].is_alive() for i in range(8)):
                break
            time.sleep(0.01)
        stop.set()
        runner.join(T_LONG)
        worst = max(lat)
        note(f"history x8 of a 32 MB log: {len(lat)} status round trips, worst {worst * 1000:.0f} ms, "
             f"median {sorted(lat)[len(lat) // 2] * 1000:.1f} ms; first replies after "
             f"{', '.join('-' if x is None else f'{x:.2f}' for x in first)} s; "
             f"timeout=1s job took {tmo.get('wall', 0):.2f} s")
        self.assertLess(worst, LATENCY_BOUND,
                        self.msg(f"a status round trip took {worst * 1000:.0f} ms during 8 history requests"))
        rep = tmo.get("rep")
        self.assertIsNotNone(rep, self.msg("the run of the timeout=1s job came back"))
        job = rep["jobs"][0]
        self.assertIs(job["timed_out"], True, rep)
        self.assertLess(job["duration_s"], 1.0 + 0.5 * SCALE,
                        self.msg(f"a timeout = 1s job lasted {job['duration_s']} s during 8 history requests"))
        self.assertLess(tmo["wall"], 1.0 + 0.5 * SCALE, self.msg("run of the timeout=1s job"))
        self.assertEqual(errors, [], self.msg("every history reply is whole"))
        self.assertGreaterEqual(min(replies), 1, self.msg(f"each reader got a whole reply: {replies}"))
        # the requests take turns: none waits for the others to finish
        self.assertGreater(min(first), 0.5 * max(first), self.msg(f"first replies after {first} s"))

    def test_clients_that_do_not_read(self):
        """Forty clients ask for the history and never read: supd's memory
        stays bounded and it keeps serving everyone else."""
        rss0 = proc_mem_kb(self.pid, "VmRSS")
        samples = [rss0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                v = proc_mem_kb(self.pid, "VmRSS")
                if v:
                    samples.append(v)
                time.sleep(0.05)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        self.addCleanup(done.set)
        idle = [self.connect() for _ in range(40)]
        for s in idle:
            s.sendall(b'{"cmd":"history"}\n')
        time.sleep(0.5)
        probe = self.conn(timeout=T_LONG)
        lat = [self.status_round_trip(probe) for _ in range(20)]
        # one that reads gets its whole reply meanwhile
        t0 = time.monotonic()
        s = self.connect()
        s.sendall(b'{"cmd":"history","lines":3}\n')
        total, reply = self.read_reply(s, keep=True)
        reader_wall = time.monotonic() - t0
        rep = json.loads(reply)
        self.assertEqual(rep["runs"], self.expected[-3:])
        for _ in range(20):
            lat.append(self.status_round_trip(probe))
            time.sleep(0.05)
        done.set()
        sampler.join()
        peak = max(samples)
        asan = under_asan(self.pid)
        note(f"40 history clients that do not read: VmRSS {rss0 // 1024} MB at start, peak {peak // 1024} MB"
             f"{' (ASan)' if asan else ''}; worst status {max(lat) * 1000:.0f} ms; a reading client's -n 3 "
             f"took {reader_wall:.2f} s")
        self.assertLess(max(lat), LATENCY_BOUND, self.msg("status while 40 history clients do not read"))
        # each holds about a megabyte (the pause mark) and its socket buffer
        # (the old code: 1.28 GB); under ASan, what is freed sits in its
        # quarantine for a while, and the start is far higher
        if not VALGRIND:
            self.assertLess(peak - rss0, (512 if asan else 150) << 10,
                            self.msg(f"supd's RSS grew from {rss0 // 1024} MB to {peak // 1024} MB"))
        if not asan:
            self.assertLess(peak, 300 << 10, self.msg(f"supd's RSS reached {peak // 1024} MB"))
        for s in idle:
            s.close()
        # the forty are let go; supd goes on
        self.assertEqual(self.runs_via_supctl("-n", "2"), self.expected[-2:])
        self.assertLess(self.status_round_trip(probe), LATENCY_BOUND)

    def test_records_and_order(self):
        """The whole history, -n, patterns and the skipped count are what
        the file holds, oldest first."""
        everything = self.runs_via_supctl()
        self.assertEqual(len(everything), len(self.expected))
        self.assertTrue(everything == self.expected, "the whole history, in order")
        self.assertEqual(self.runs_via_supctl("-n", "5"), self.expected[-5:])
        old3 = [r for r in self.expected if r["name"] == "old@3"]
        self.assertEqual(self.runs_via_supctl("-n", "5", "old@3"), old3[-5:])
        self.assertTrue(self.runs_via_supctl("old@3", "old@5") ==
                        [r for r in self.expected if r["name"] in ("old@3", "old@5")])
        # more than supd keeps in memory for -n: it reads the log twice
        self.assertTrue(self.runs_via_supctl("-n", "5000") == self.expected[-5000:])
        self.assertEqual(self.runs_via_supctl("-n", str(10 ** 8), "old@6"),
                         [r for r in self.expected if r["name"] == "old@6"])
        self.assertEqual(self.runs_via_supctl("nothing@*"), [])
        with self.conn(timeout=T_LONG) as c:
            rep = c.request({"cmd": "history", "lines": 1})
        self.assertEqual(rep, {"ok": True, "runs": self.expected[-1:], "skipped": len(BAD_LINES)})

    def test_rotation_during_a_query(self):
        """A query reads the log as it was when it began, even when the log
        rotates and grows under it."""
        if VALGRIND:
            self.skipTest("a 16 MiB runs.jsonl takes minutes under valgrind")
        cur = os.path.getsize(self.path)
        with open(self.path, "a") as f:           # close to the rotation size
            pad = ROTATE_AT - cur - 100 - len('{"name":"old@9","run":0,"pad":""}\n')
            line = json.dumps({"name": "old@9", "run": self.last_run + 1, "pad": "y" * pad},
                              separators=(",", ":")) + "\n"
            f.write(line)
        self.expected.append(json.loads(line))
        self.stop_daemon()
        self.start_daemon()
        s = self.connect()
        s.sendall(b'{"cmd":"history"}\n')
        time.sleep(0.3)                            # the query is under way, its client not reading
        self.ctl("run", "ok", check=0)             # the started record rotates the log
        self.assertLess(os.path.getsize(self.path), 1 << 20, "runs.jsonl rotated")
        total, reply = self.read_reply(s, keep=True)
        rep = json.loads(reply)
        self.assertTrue(rep["runs"] == self.expected, f"{len(rep['runs'])} runs, {len(self.expected)} expected")
        self.assertEqual(rep["skipped"], len(BAD_LINES))
        ok = self.runs_via_supctl("ok")
        self.assertEqual([r["name"] for r in ok], ["ok"], "the next query sees the new run")


if __name__ == "__main__":
    unittest.main(verbosity=2)
