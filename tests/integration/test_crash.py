# SPDX-License-Identifier: ISC
"""SPEC §11: one supd per state_dir, and a supd that was SIGKILLed leaves no
unsupervised job behind once it is started again; run numbers never repeat;
status after a restart shows how each job last ended."""
import json
import os
import signal
import subprocess
import time

from supdtest import (SupdCase, alive, start_time, wait_for, read_file, T_LONG, _clean_env, SUPD,
                      proc_mem_kb, under_asan)


class CrashTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300
        restart = always

        [job:pipe]
        command = sleep 301 | sleep 302
        restart = always

        [job:batch]
        command = sh -c 'exit 3'
        autostart = false

        [job:long]
        command = sleep 303
        autostart = false
        """

    def pids_of(self, name):
        j = self.job(name)
        return [s["pid"] for s in j["stages"]] if j["state"] == "running" else []

    def crash_and_restart(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.start_daemon()

    def test_second_supd_refused(self):
        r = subprocess.run([SUPD, "-c", self.conf, "--socket", os.path.join(self.d, "other.sock")],
                           capture_output=True, text=True, timeout=T_LONG, env=_clean_env(),
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"pid {self.proc.pid}", r.stderr)
        self.assertIn(self.state_dir, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.d, "other.sock")))
        self.ctl("status", check=0)

    def test_sigkill_leaves_nothing_behind(self):
        self.wait_running("svc")
        self.wait_running("pipe")
        self.ctl("start", "long", check=0)
        old = {n: self.pids_of(n) for n in ("svc", "pipe", "long")}
        starts = {p: start_time(p) for ps in old.values() for p in ps}
        old_runs = {n: self.job(n)["run"] for n in old}
        self.assertEqual(len(starts), 4)

        self.crash_and_restart()
        # every process of the old runs is gone, killed before autostart
        self.assertTrue(wait_for(lambda: not any(alive(p, t) for p, t in starts.items()), T_LONG),
                        self.msg("processes of the crashed supd's runs survived"))
        self.wait_running("svc")
        self.wait_running("pipe")
        # one copy of each service, not two
        for name in ("svc", "pipe"):
            self.assertTrue(set(self.pids_of(name)).isdisjoint(starts))
        # the lost runs are recorded, with their error, and status shows it
        hist = {h["run"]: h for h in self.history()}
        for name, run in old_runs.items():
            self.assertIn(run, hist, f"lost run {run} of {name} not recorded")
            self.assertEqual(hist[run]["error"], "lost: supd restarted")
            self.assertEqual(hist[run]["name"], name)
            self.assertEqual(hist[run]["state"], "failed")
        long_job = self.job("long")
        self.assertEqual(long_job["state"], "failed")
        self.assertEqual(long_job["error"], "lost: supd restarted")
        # run numbers never repeat
        new_runs = [self.job(n)["run"] for n in ("svc", "pipe")]
        self.assertTrue(all(r > max(old_runs.values()) for r in new_runs), (old_runs, new_runs))

    def test_run_numbers_not_reused_after_crash(self):
        self.wait_running("svc")
        first = self.job("svc")["run"]
        for _ in range(3):
            self.crash_and_restart()
            self.wait_running("svc")
        runs = [h["run"] for h in self.history()]
        self.assertEqual(len(runs), len(set(runs)), runs)
        self.assertGreater(self.job("svc")["run"], first)

    def test_status_shows_last_exit_after_restart(self):
        self.ctl("run", "batch", check=3)
        self.assertEqual(self.stop_daemon(), 0)
        self.start_daemon()
        j = self.job("batch")
        self.assertEqual(j["state"], "failed")
        self.assertEqual(j["exit_code"], 3)
        self.assertIsNotNone(j["ended_at"])
        self.assertEqual(len(j["stages"]), 1)
        r = self.ctl("status", "batch", check=0)
        self.assertIn("3", r.stdout.split("\n")[1])

    def test_started_records_not_in_history(self):
        self.ctl("run", "batch", check=3)
        raw = read_file(os.path.join(self.state_dir, "runs.jsonl"))
        events = [json.loads(l).get("event") for l in raw.splitlines()]
        self.assertIn("started", events)
        for h in self.history():
            self.assertNotIn("event", h)

    def test_full_history_startup_memory(self):
        """A full run log (16 MiB, the rotation size) costs a restarted supd
        no more memory than reading it: recovery keeps each job's last end
        record and the open started records, not every record it read."""
        self.ctl("run", "batch", check=3)
        self.assertEqual(self.stop_daemon(), 0)
        path = os.path.join(self.state_dir, "runs.jsonl")
        end = [json.loads(l) for l in read_file(path).splitlines() if "event" not in json.loads(l)][-1]
        lines, size, run = [], 0, end["run"]
        while size < (16 << 20) - 4096:
            run += 1
            end["run"] = run
            end["name"] = "batch" if run % 7 == 0 else f"gone@{run % 50}"
            line = json.dumps(end) + "\n"
            lines.append(line)
            size += len(line)
        with open(path, "a") as f:
            f.write("".join(lines))
        self.start_daemon()
        pid = self.supd_pid()
        hwm, rss = proc_mem_kb(pid, "VmHWM"), proc_mem_kb(pid, "VmRSS")
        self.assertEqual(self.job("batch")["run"], max(r for r in range(run - 6, run + 1) if r % 7 == 0))
        if not under_asan(pid):    # ASan's quarantine and redzones are not supd's memory
            self.assertLess(hwm, 64 * 1024, f"supd peak RSS {hwm} kB after reading {size} bytes of history")
            self.assertLess(rss, 24 * 1024, f"supd keeps {rss} kB after reading {size} bytes of history")


# A started record naming the shell that runs it: run 5 of svc, this boot,
# the shell's pid and start time (field 22 of /proc/PID/stat).
RECORD_SELF = ('st=$(cut -d" " -f22 /proc/$$/stat); boot=$(cat /proc/sys/kernel/random/boot_id); '
               'mkdir -p "$STATE" && printf \'{"event":"started","run":5,"name":"svc","boot_id":"%s",'
               '"pids":[[%d,%s]]}\\n\' "$boot" $$ "$st" >> "$STATE/runs.jsonl"; ')


class CrashOwnProcessesTest(SupdCase):
    """A started record whose pid and start time are supd itself (a job of
    the supd that died exec'd the new one) or its parent (a job started it)
    kills neither, nor supd's own process group."""
    CONFIG = """
        [job:svc]
        command = sleep 300
        restart = always
        """
    START_DAEMON = False
    MODE = None

    def wrapper(self):
        if self.MODE == "self":
            return ["sh", "-c", RECORD_SELF + 'exec "$@"', "sh"]
        # the shell stays supd's parent and leads supd's process group
        return ["sh", "-c", RECORD_SELF + '"$@" & c=$!; trap \'kill -TERM $c\' TERM; wait $c; wait $c', "sh"]

    def supd_pid(self):
        if self.MODE == "self":
            return self.proc.pid
        kids = read_file(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children", "").split()
        return int(kids[0]) if kids else None

    def check(self):
        self.start_daemon(env={"STATE": self.state_dir})
        self.wait_running("svc")
        pid = self.supd_pid()
        self.assertIsNotNone(pid)
        self.assertIsNone(self.proc.poll(), self.msg("supd or its parent was killed"))
        h = {r["run"]: r for r in self.history()}
        self.assertEqual(h[5]["error"], "lost: supd restarted")
        self.assertNotIn("killed process", self.daemon_log())

    def test_record_of_supd_itself(self):
        self.MODE = "self"
        self.check()

    def test_record_of_supd_parent(self):
        self.MODE = "parent"
        self.check()


class CrashNoLockTest(SupdCase):
    """A state_dir whose lock cannot be taken (here the lock is a directory;
    a file system without locks is the same) holds no history either: a
    second supd on it must not take the first one's runs for lost and kill
    them."""
    CONFIG = """
        [job:svc]
        command = sleep 300
        restart = always
        """
    START_DAEMON = False

    def test_no_lock_no_recovery(self):
        os.makedirs(os.path.join(self.state_dir, "lock"))
        self.start_daemon()
        first = self.wait_running("svc")["pid"]
        t0 = start_time(first)
        other = os.path.join(self.d, "other.sock")
        p = subprocess.Popen([SUPD, "-c", self.conf, "--socket", other], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=_clean_env(), stdin=subprocess.DEVNULL)
        try:
            self.assertTrue(wait_for(lambda: os.path.exists(other) or p.poll() is not None, T_LONG))
            time.sleep(0.3)
            self.assertTrue(alive(first, t0), self.msg("the second supd killed the first one's job"))
            self.assertEqual(self.job("svc")["pid"], first)
            self.assertFalse(os.path.exists(os.path.join(self.state_dir, "runs.jsonl")))
        finally:
            p.terminate()
            p.wait(T_LONG)
