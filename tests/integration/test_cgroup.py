# SPDX-License-Identifier: ISC
"""SPEC §8: a cgroup v2 per run.

Each test makes its own directory under the cgroup v2 mount (found in
/proc/self/mountinfo: /sys/fs/cgroup on a pure v2 machine, the hybrid
layout's /sys/fs/cgroup/unified) and gives it to supd as `cgroup = PATH`.
Escapees (setsid, a double fork) write their pid to a file so that the
test can follow them; supd cannot find them by pid, only by the cgroup.
Skipped, with the reason, when not root or without a v2 hierarchy."""
import json
import os
import signal
import subprocess
import time
import unittest

from supdtest import SupdCase, IS_ROOT, NOBODY, T_LONG, T_SHORT, alive, note, read_file, start_time, wait_for


def v2_mount():
    """Mount point of the cgroup v2 hierarchy, or None."""
    best = None
    for line in (read_file("/proc/self/mountinfo") or "").splitlines():
        f = line.split()
        if " - " not in line or f[f.index("-") + 1] != "cgroup2":
            continue
        point = f[4].replace("\\040", " ")
        if point in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            return point
        best = best or point
    return best


MOUNT = v2_mount()
SKIP = (None if IS_ROOT and MOUNT else
        "needs root" if not IS_ROOT else "no cgroup v2 hierarchy in /proc/self/mountinfo")


def cgroup_of(pid):
    """The v2 cgroup path of pid (as /proc/PID/cgroup shows it), or None."""
    for line in (read_file(f"/proc/{pid}/cgroup") or "").splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def kill_tree(path):
    """Kill everything in a cgroup directory and remove it, deepest first."""
    if not os.path.isdir(path):
        return
    try:
        with open(os.path.join(path, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError:
        pass
    for _ in range(200):
        ev = read_file(os.path.join(path, "cgroup.events"), "")
        if "populated 0" in ev:
            break
        time.sleep(0.02)
    for root, dirs, _ in os.walk(path, topdown=False):
        for d in dirs:
            try:
                os.rmdir(os.path.join(root, d))
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def controllers(path):
    return (read_file(os.path.join(path, "cgroup.controllers")) or "").split()


@unittest.skipIf(SKIP, SKIP)
class CgroupCase(SupdCase):
    """supd with `cgroup = {cg}`, a fresh cgroup directory of the test."""
    SUPD_EXTRA = "max_parallel = 0\ncgroup = {cg}\n"

    def setUp(self):
        self.cg = os.path.join(MOUNT, f"supd-test-{os.getpid()}-{id(self) & 0xffffff:x}")
        os.mkdir(self.cg)
        self.addCleanup(kill_tree, self.cg)   # runs after supd is stopped
        self.pids = {}                        # escapees: file -> (pid, start time)
        super().setUp()

    def expand(self, text):
        return super().expand(text).replace("{cg}", getattr(self, "cg", ""))

    def rel(self, path):
        """A directory under the mount as /proc/PID/cgroup shows it."""
        return "/" + os.path.relpath(path, MOUNT)

    def escapee(self, name, timeout=T_LONG, live=True):
        """The pid an escapee wrote to {d}/NAME (and remember it); with
        live, it must be running now."""
        path = os.path.join(self.d, name)
        self.wait_file(path, timeout=timeout)
        self.assertTrue(wait_for(lambda: (read_file(path) or "").strip().isdigit(), T_SHORT))
        pid = int(read_file(path).strip())
        self.pids[name] = (pid, start_time(pid))
        if live:
            self.assertIsNotNone(self.pids[name][1], f"{name}: pid {pid} is gone already")
        return pid

    def gone(self, name, timeout=T_SHORT):
        pid, t = self.pids[name]
        return wait_for(lambda: not alive(pid, t), timeout)

    def run_dirs(self, job):
        d = os.path.join(self.cg, "jobs", "j-" + job)
        return sorted(e for e in os.listdir(d) if os.path.isdir(os.path.join(d, e))) if os.path.isdir(d) else []

    def tearDown(self):
        # nothing of a test may outlive it, whatever supd did
        for pid, t in self.pids.values():
            if alive(pid, t):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


class RunCgroupTest(CgroupCase):
    CONFIG = """
        [job:svc]
        command = sleep 300 | sleep 301
        autostart = false

        [job:esc]
        ; the pause lets setsid() happen before the shell exits
        command = sh -c 'setsid sleep 302 & echo $! > {d}/esc.pid; sleep 0.3; exit 0'
        autostart = false

        [job:dbl]
        ; a double fork into a new session: reparented to supd, not in the run's group
        command = sh -c '(setsid sh -c "sleep 303 & echo \\$! > {d}/dbl.pid; exit 0" &); exec sleep 1000'
        autostart = false

        [job:stubborn]
        ; an escapee that ignores SIGTERM: only cgroup.kill ends it
        ; (its pid written once TERM is ignored)
        command = sh -c 'setsid sh -c "trap \\"\\" TERM; echo \\$\\$ > {d}/stub.pid; exec sleep 304" & exec sleep 1000'
        stop_timeout = 1s
        autostart = false

        [job:slow]
        command = sh -c 'setsid sleep 305 & echo $! > {d}/slow.pid; exec sleep 100'
        timeout = 1s
        autostart = false

        [job:LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL]
        command = sleep 300
        autostart = false

        [job:busy]
        ; a detached child that burns CPU while the run lasts; the shell itself does not
        command = sh -c 'setsid sh -c "while :; do :; done" & echo $! > {d}/busy.pid; sleep 2; exit 0'
        autostart = false
        """

    def test_each_run_in_its_own_cgroup(self):
        self.ctl("start", "svc", check=0)
        j = self.wait_running("svc")
        want = os.path.join(self.cg, "jobs", "j-svc", f"r-{j['run']}")
        self.assertEqual(j["cgroup"], want)
        for st in j["stages"]:
            self.assertEqual(cgroup_of(st["pid"]), self.rel(want), "every stage is in the run's cgroup")
        self.assertTrue(os.path.isdir(want))
        # the next run gets a new one; the old one is removed
        self.ctl("restart", "svc", check=0)
        k = self.wait_job("svc", lambda x: x["state"] == "running" and x["run"] != j["run"], what="a new run")
        self.assertEqual(k["cgroup"], os.path.join(self.cg, "jobs", "j-svc", f"r-{k['run']}"))
        self.assertEqual(cgroup_of(k["stages"][1]["pid"]), self.rel(k["cgroup"]))
        self.assertFalse(os.path.exists(want), "the first run's cgroup is gone")
        self.ctl("stop", "svc", check=0)
        self.assertTrue(wait_for(lambda: self.run_dirs("svc") == [], T_SHORT), self.run_dirs("svc"))
        self.assertIsNone(self.job("svc")["cgroup"])
        # the started record names the cgroup (crash recovery finds it there)
        started = [json.loads(l) for l in read_file(os.path.join(self.state_dir, "runs.jsonl")).splitlines()
                   if '"event":"started"' in l]
        self.assertEqual(started[0]["cgroup"], want)

    def test_long_name_hashed(self):
        name = "L" * 300
        self.ctl("start", name, check=0)
        j = self.wait_running(name)
        jdir = os.path.basename(os.path.dirname(j["cgroup"]))
        self.assertEqual(len(jdir), 250, jdir)
        self.assertTrue(jdir.startswith("j-LLL") and jdir[-17] == "~", jdir)
        self.assertEqual(cgroup_of(j["pid"]), self.rel(j["cgroup"]))
        self.ctl("stop", name, check=0)
        self.assertFalse(os.path.exists(j["cgroup"]))

    def test_setsid_escapee_killed_at_run_end(self):
        r = self.ctl("run", "esc")
        self.assertEqual(r.returncode, 0, self.msg("run", r))
        self.escapee("esc.pid", live=False)
        self.assertTrue(self.gone("esc.pid"), "the setsid() child outlived its run")
        h = [x for x in self.history("esc") if x["name"] == "esc"][-1]
        self.assertEqual(h["exit_code"], 0)
        self.assertIsNone(h["error"])
        self.assertEqual(self.run_dirs("esc"), [])

    def test_double_fork_escapee_killed_on_stop(self):
        self.ctl("start", "dbl", check=0)
        main = self.wait_running("dbl")
        pid = self.escapee("dbl.pid")
        self.assertNotEqual(os.getpgid(pid), main["pid"], "the escapee left the run's process group")
        self.assertEqual(cgroup_of(pid), self.rel(main["cgroup"]), "but not its cgroup")
        t0 = time.monotonic()
        self.ctl("stop", "dbl", check=0)
        self.assertTrue(self.gone("dbl.pid"), "the double-forked child outlived stop")
        self.assertLess(time.monotonic() - t0, 5, "stop_signal reached it: no SIGKILL escalation needed")
        self.assertEqual(self.job("dbl")["state"], "stopped")

    def test_escapee_ignoring_term_killed_after_stop_timeout(self):
        self.ctl("start", "stubborn", check=0)
        self.wait_running("stubborn")
        self.escapee("stub.pid")
        t0 = time.monotonic()
        self.ctl("stop", "stubborn", check=0)
        elapsed = time.monotonic() - t0
        self.assertTrue(self.gone("stub.pid"), "cgroup.kill did not reach the escapee")
        self.assertGreaterEqual(elapsed, 0.9, "the stop waited stop_timeout for the escapee")
        j = self.job("stubborn")
        self.assertEqual(j["state"], "stopped")
        self.assertIsNone(j["error"])
        self.assertIn("still running after stop_timeout", self.daemon_log())

    def test_timeout_kills_escapees(self):
        r = self.ctl("run", "slow")
        self.assertEqual(r.returncode, 124, self.msg("run", r))
        self.escapee("slow.pid", live=False)
        self.assertTrue(self.gone("slow.pid"), "the escapee outlived the timeout")
        self.assertTrue(self.history("slow")[-1]["timed_out"])

    def test_cpu_of_detached_child_counted(self):
        r = self.ctl("run", "busy")
        self.assertEqual(r.returncode, 0, self.msg("run", r))
        self.escapee("busy.pid", live=False)
        self.assertTrue(self.gone("busy.pid"), "the busy escapee outlived its run")
        h = self.history("busy")[-1]
        cpu = h["cpu_user_s"] + h["cpu_sys_s"]
        # 2 s of a busy loop; it gets at least an eighth of a core even on a loaded CI machine,
        # while the shell and sleep themselves use a few ms
        note(f"a detached busy child for 2 s: cpu_user_s + cpu_sys_s = {cpu:.2f}")
        self.assertGreater(cpu, 0.25, f"CPU of the detached child not counted: {json.dumps(h)}")
        self.assertIn("memory_peak_kb", h)
        self.assertIn("oom_killed", h)

    def test_signal_reaches_the_whole_cgroup(self):
        self.ctl("start", "dbl", check=0)
        self.wait_running("dbl")
        self.escapee("dbl.pid")
        self.ctl("signal", "KILL", "dbl", check=0)
        self.assertTrue(self.gone("dbl.pid"), "supctl signal KILL missed the escapee")
        self.wait_state("dbl", "backoff", "exited", "failed", "stopped")

    def test_shutdown_kills_escapees(self):
        self.ctl("start", "dbl", "stubborn", check=0)
        self.wait_running("dbl")
        self.wait_running("stubborn")
        self.escapee("dbl.pid")
        self.escapee("stub.pid")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.wait_daemon_exit(T_LONG), 0)
        self.assertTrue(self.gone("dbl.pid"), "the double-forked child outlived supd")
        self.assertTrue(self.gone("stub.pid"), "the TERM-ignoring escapee outlived supd")
        # supd removes what it made and leaves the directory it was given
        self.assertFalse(os.path.exists(os.path.join(self.cg, "jobs")), os.listdir(self.cg))
        self.assertTrue(os.path.isdir(self.cg))
        self.assertEqual(os.getxattr(self.cg, "user.supd.state_dir").decode(), self.state_dir)


class CgroupKeysTest(CgroupCase):
    """A cgroup key whose controller is missing is a spawn failure that
    names the key, the controller and the cgroup; where the controller is
    there, the value is in the run's cgroup. On a hybrid machine the v2
    hierarchy has no controller, so only the first half runs there."""
    CONFIG = """
        [job:mem]
        command = sh -c 'cat {mount}$(sed -n "s/^0:://p" /proc/self/cgroup)/memory.max'
        memory_max = 10M
        oom_policy = kill
        autostart = false

        [job:pids]
        command = true
        pids_max = 5
        autostart = false

        [job:cpu]
        command = true
        cpu_max = 50%
        cpu_weight = 10
        autostart = false

        [job:io]
        command = true
        io_weight = 500
        autostart = false

        [job:deleg]
        command = sh -c 'cg={mount}$(sed -n "s/^0:://p" /proc/self/cgroup); mkdir $cg/sub && echo $$ > $cg/sub/cgroup.procs && echo $cg > {d}/deleg.path && exec sleep 300'
        user = nobody
        delegate = true
        autostart = false
        """

    def expand(self, text):
        return super().expand(text).replace("{mount}", MOUNT)

    def check_key(self, job, key, controller, files):
        if controller not in controllers(self.cg):
            r = self.ctl("start", job)
            self.assertEqual(r.returncode, 1, self.msg("start", r))
            j = self.wait_state(job, "fatal")
            self.assertEqual(j["error"], f"{key} needs the {controller} controller in {self.cg}")
            self.assertEqual(self.run_dirs(job), [], "a refused run leaves no cgroup")
            return False
        self.ctl("start", job, check=0)
        return True

    def test_memory_max(self):
        if self.check_key("mem", "memory_max", "memory", ["memory.max"]):
            self.wait_state("mem", "exited")
            self.assertIn("10485760", self.ctl("logs", "mem").stdout)
            h = self.history("mem")[-1]
            self.assertIsInstance(h["memory_peak_kb"], int)
            self.assertIs(h["oom_killed"], False)

    def test_pids_max(self):
        self.check_key("pids", "pids_max", "pids", ["pids.max"])

    def test_cpu_keys(self):
        self.check_key("cpu", "cpu_max", "cpu", ["cpu.max"])

    def test_io_weight(self):
        self.check_key("io", "io_weight", "io", ["io.weight"])

    def test_delegate(self):
        """delegate needs no controller: the run's cgroup belongs to the job's
        user, who makes a sub-cgroup and moves itself there; stop reaches it
        and the whole subtree is removed."""
        out = self.write("deleg.path", "", 0o666)   # the job runs as nobody
        self.ctl("start", "deleg", check=0)
        j = self.wait_running("deleg")
        path = self.wait_job("deleg", lambda x: (read_file(out) or "").startswith("/"), what="deleg.path") and \
            read_file(out).strip()
        self.assertEqual(path, j["cgroup"], "the job found its own cgroup")
        st = os.stat(j["cgroup"])
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))
        self.assertEqual(os.stat(os.path.join(j["cgroup"], "cgroup.procs")).st_uid, 65534)
        self.assertEqual(os.getxattr(j["cgroup"], "user.delegate"), b"1")
        self.assertEqual(cgroup_of(j["pid"]), self.rel(j["cgroup"]) + "/sub")
        pid = j["pid"]
        self.ctl("stop", "deleg", check=0)
        self.assertTrue(wait_for(lambda: not alive(pid), T_SHORT))
        self.assertEqual(self.job("deleg")["state"], "stopped")
        self.assertTrue(wait_for(lambda: self.run_dirs("deleg") == [], T_SHORT), self.run_dirs("deleg"))


@unittest.skipIf(SKIP, SKIP)
class WithoutCgroupTest(SupdCase):
    """The control: with cgroup = off the same setsid() child survives its
    run (SPEC §8: not contained), which is what the tests above catch."""
    SUPD_EXTRA = "max_parallel = 0\ncgroup = off\n"
    CONFIG = RunCgroupTest.CONFIG

    def test_escapee_survives_without_cgroup(self):
        r = self.ctl("run", "esc")
        self.assertEqual(r.returncode, 0, self.msg("run", r))
        path = os.path.join(self.d, "esc.pid")
        self.wait_file(path)
        self.assertTrue(wait_for(lambda: (read_file(path) or "").strip().isdigit(), T_SHORT))
        pid = int(read_file(path))
        try:
            time.sleep(0.2)
            self.assertTrue(alive(pid), "without a cgroup the escapee lives on")
            self.assertIsNone(self.history("esc")[-1]["memory_peak_kb"])
        finally:
            os.kill(pid, signal.SIGKILL)
        self.assertIn("cgroup = off: runs are contained by their process group only", self.daemon_log())


class CheckCgroupOffTest(SupdCase):
    """supd --check says once that cgroup = off contains nothing, and a
    cgroup key with cgroup = off is an error at its line."""
    START_DAEMON = False

    def test_check(self):
        path = self.write("off.conf", "[supd]\ncgroup = off\n[job:a]\ncommand = true\n[job:b]\ncommand = true\n")
        r = self.supd_run("--check", "-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        warn = [l for l in r.stderr.splitlines() if "warning" in l]
        self.assertEqual(len(warn), 1, r.stderr)
        self.assertIn(f"{path}:2: warning: cgroup = off: a process that leaves its run's process group", warn[0])
        path = self.write("bad.conf", "[supd]\ncgroup = off\n[job:a]\ncommand = true\ncpu_max = 50%\n")
        r = self.supd_run("--check", "-c", path)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"{path}:5: cpu_max needs a cgroup, and cgroup = off ({path}:2)", r.stderr)


class NoCgroupKeysTest(SupdCase):
    """Without a cgroup (cgroup = auto finds none here, or the machine has
    no v2) a cgroup key fails the run, naming the key and why."""
    SUPD_EXTRA = "max_parallel = 0\n"
    CONFIG = """
        [job:mem]
        command = true
        memory_max = 10M
        autostart = false
        """

    def test_key_without_cgroup(self):
        log = self.daemon_log()
        if "runs are contained in cgroups" in log:
            self.skipTest("cgroup = auto found a delegated cgroup here")
        self.assertIn("cgroup = auto: runs are not contained in cgroups: ", log)
        r = self.ctl("start", "mem")
        self.assertEqual(r.returncode, 1, self.msg("start", r))
        j = self.wait_state("mem", "fatal")
        self.assertTrue(j["error"].startswith("memory_max needs a cgroup, and supd runs without one ("), j["error"])
        self.assertIsNone(j["cgroup"])


class CrashCgroupTest(CgroupCase):
    """SPEC §11: a supd that was SIGKILLed leaves nothing behind once it
    starts again, not even a setsid() escapee that no record names: its
    run's cgroup holds it."""
    CONFIG = """
        [job:svc]
        command = sh -c 'setsid sh -c "exec sleep 306" & echo $! > {d}/svc.pid; exec sleep 1000'
        restart = always
        """

    def test_escapee_of_crashed_supd_killed(self):
        old = self.wait_running("svc")
        self.escapee("svc.pid")
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.assertTrue(alive(*self.pids["svc.pid"]), "the escapee lives on after the crash")
        os.unlink(os.path.join(self.d, "svc.pid"))
        self.start_daemon()
        self.assertTrue(self.gone("svc.pid"), self.msg("the crashed supd's escapee survived the restart"))
        self.assertFalse(os.path.exists(old["cgroup"]), "the lost run's cgroup is removed")
        new = self.wait_running("svc")
        self.assertNotEqual(new["cgroup"], old["cgroup"])
        lost = {h["run"]: h for h in self.history()}[old["run"]]
        self.assertEqual(lost["error"], "lost: supd restarted")
        self.assertIn("memory_peak_kb", lost)
        self.assertIn("left by a supd that died", self.daemon_log())


class ProcessesLeftTest(CgroupCase):
    """A process that SIGKILL cannot end (here: frozen by the v1 freezer of
    a hybrid machine, as a process in uninterruptible sleep would be): the
    run ends stop_timeout after the kill with error "processes left after
    SIGKILL", its cgroup is kept, the job cannot start again until the
    cgroup is empty, and supd removes the cgroup once it is."""
    CONFIG = """
        [job:stuck@]
        command = sh -c 'echo $$ > {d}/%i.pid; exec sleep 1000'
        stop_timeout = 1s
        """
    FREEZER = "/sys/fs/cgroup/freezer"

    def setUp(self):
        if not os.path.isfile(os.path.join(self.FREEZER, "tasks")):
            self.skipTest("no v1 freezer to hold a process against SIGKILL "
                          "(the path is unit-tested in test-job: test_cgroup_processes_left_after_kill)")
        super().setUp()
        self.fz = os.path.join(self.FREEZER, os.path.basename(self.cg))
        os.mkdir(self.fz)
        self.addCleanup(self.thaw_and_remove)

    def freeze_state(self, value):
        with open(os.path.join(self.fz, "freezer.state"), "w") as f:
            f.write(value)

    def thaw_and_remove(self):
        try:
            self.freeze_state("THAWED")
            for p in (read_file(os.path.join(self.fz, "tasks")) or "").split():
                os.kill(int(p), signal.SIGKILL)
            wait_for(lambda: not (read_file(os.path.join(self.fz, "tasks")) or "").split(), T_SHORT)
            os.rmdir(self.fz)
        except OSError:
            pass

    def test_processes_left_after_sigkill(self):
        self.ctl("start", "stuck@a", check=0)
        j = self.wait_running("stuck@a")
        self.assertEqual(os.path.dirname(j["cgroup"]), os.path.join(self.cg, "jobs", "j-stuck"),
                         "one directory for the template's instances")
        pid = self.escapee("a.pid")
        with open(os.path.join(self.fz, "tasks"), "w") as f:
            f.write(str(pid))
        self.freeze_state("FROZEN")
        self.assertTrue(wait_for(lambda: "FROZEN" in read_file(os.path.join(self.fz, "freezer.state"), ""),
                                 T_SHORT))
        t0 = time.monotonic()
        self.ctl("stop", "stuck@a", check=0)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 1.8, "stop_timeout for TERM, then stop_timeout after the KILL")
        s = self.job("stuck@a")
        self.assertEqual(s["state"], "stopped")
        self.assertEqual(s["error"], "processes left after SIGKILL")
        self.assertIn("processes left after SIGKILL", self.daemon_log())
        self.assertTrue(alive(pid), "the frozen process is still there")
        self.assertTrue(os.path.isdir(j["cgroup"]), "its cgroup is kept")
        # the job does not start again while it holds processes; another instance does
        r = self.ctl("start", "stuck@a")
        self.assertEqual(r.returncode, 1, self.msg("start", r))
        f = self.wait_state("stuck@a", "fatal")
        self.assertIn(f"processes of run {j['run']} are still in {j['cgroup']} after SIGKILL", f["error"])
        self.ctl("start", "stuck@b", check=0)
        b = self.wait_running("stuck@b")
        self.assertEqual(os.path.dirname(b["cgroup"]), os.path.dirname(j["cgroup"]))
        self.escapee("b.pid")
        # thawed, the SIGKILL lands; supd sweeps the cgroup and the job may start again
        self.freeze_state("THAWED")
        self.assertTrue(wait_for(lambda: not alive(pid), T_SHORT), "the thawed process did not die")
        self.assertTrue(wait_for(lambda: not os.path.exists(j["cgroup"]), T_SHORT),
                        self.msg("the kept cgroup was not swept"))
        # logged right after the rmdir: the line may trail the directory's removal
        self.assertTrue(wait_for(lambda: "the processes left in it are gone" in self.daemon_log(), T_SHORT),
                        self.msg("no log line for the swept cgroup"))
        os.unlink(os.path.join(self.d, "a.pid"))
        self.ctl("start", "stuck@a", check=0)
        self.wait_running("stuck@a")
        self.escapee("a.pid")


@unittest.skipIf(SKIP, SKIP)
class CgroupStartupTest(SupdCase):
    """What cgroup = PATH refuses at startup, and cgroup = auto on a
    cgroup that carries the delegation xattr."""
    START_DAEMON = False

    def setUp(self):
        self.cg = os.path.join(MOUNT, f"supd-test-{os.getpid()}-{id(self) & 0xffffff:x}")
        os.mkdir(self.cg)
        self.addCleanup(kill_tree, self.cg)
        super().setUp()

    def refused(self, supd_extra, *words):
        self.write_config("[job:a]\ncommand = sleep 300\n", supd_extra=supd_extra)
        self.start_daemon(wait=False)
        rc = self.wait_daemon_exit(T_LONG)
        self.assertEqual(rc, 1, self.msg("supd exit status"))
        for w in words:
            self.assertIn(w, self.daemon_log())
        self.assertFalse(os.path.exists(self.sock))

    def test_marked_for_another_state_dir(self):
        os.setxattr(self.cg, "user.supd.state_dir", b"/var/lib/other-supd")
        self.refused(f"cgroup = {self.cg}\n", "marked", "/var/lib/other-supd", "another supd's")

    def test_not_empty(self):
        p = subprocess.Popen(["sleep", "300"])
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        with open(os.path.join(self.cg, "cgroup.procs"), "w") as f:
            f.write(str(p.pid))
        self.refused(f"cgroup = {self.cg}\n", f"holds processes (pid {p.pid})", "must be empty")

    def test_not_a_cgroup(self):
        self.refused(f"cgroup = {self.d}\n", "not a directory of the cgroup v2 hierarchy")

    def test_missing(self):
        self.refused(f"cgroup = {self.cg}/none\n", f"cgroup = {self.cg}/none: No such file or directory")

    def test_unit_cgroup_refused(self):
        unit = os.path.join(self.cg, "x.service")
        os.mkdir(unit)
        self.refused(f"cgroup = {unit}\n", "systemd's cgroup of a unit")

    def auto_in(self, xattr):
        """supd started inside self.cg, which carries xattr = 1."""
        os.setxattr(self.cg, xattr, b"1")
        self.write_config("[job:a]\ncommand = sleep 300\n", supd_extra="max_parallel = 0\n")
        self.wrapper = lambda: ["sh", "-c", f'echo $$ > {self.cg}/cgroup.procs && exec "$@"', "sh"]
        self.start_daemon()
        j = self.wait_running("a")
        self.assertEqual(j["cgroup"], os.path.join(self.cg, "jobs", "j-a", f"r-{j['run']}"))
        self.assertEqual(cgroup_of(self.proc.pid), self.rel(os.path.join(self.cg, "supd")),
                         "supd moved itself into the leaf CGROUP/supd")
        self.assertIn(f"using supd's own cgroup {self.cg} ({xattr} = 1)", self.daemon_log())

    def rel(self, path):
        return "/" + os.path.relpath(path, MOUNT)

    def test_auto_trusted_delegate(self):
        self.auto_in("trusted.delegate")

    def test_auto_user_delegate(self):
        self.auto_in("user.delegate")

    def test_foreign_cgroups_untouched(self):
        """supd touches only what it made: systemd's .control next to jobs
        (with a process in it) and directories under jobs that are not its
        names outlive supd, before and after."""
        ctl = os.path.join(self.cg, ".control")
        os.makedirs(os.path.join(self.cg, "jobs", "x-other"))
        os.makedirs(os.path.join(self.cg, "jobs", "j-a", "other"))
        os.mkdir(ctl)
        p = subprocess.Popen(["sleep", "300"])
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        with open(os.path.join(ctl, "cgroup.procs"), "w") as f:
            f.write(str(p.pid))
        self.write_config("[job:a]\ncommand = sleep 300\n", supd_extra=f"max_parallel = 0\ncgroup = {self.cg}\n")
        self.start_daemon()
        self.wait_running("a")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.wait_daemon_exit(T_LONG), 0)
        self.assertIsNone(p.poll(), "a process of .control was killed")
        self.assertEqual(cgroup_of(p.pid), self.rel(ctl))
        for d in ("jobs/x-other", "jobs/j-a/other"):
            self.assertTrue(os.path.isdir(os.path.join(self.cg, d)), d)
        self.assertFalse(os.path.exists(os.path.join(self.cg, "jobs", "j-a", "r-1")))

    def test_auto_marked_for_another_state_dir(self):
        """Two supds started in one delegated cgroup (two from one user's
        shell): the second one uses none, rather than sweep the first's runs."""
        os.setxattr(self.cg, "user.delegate", b"1")
        os.setxattr(self.cg, "user.supd.state_dir", b"/var/lib/first-supd")
        self.write_config("[job:a]\ncommand = sleep 300\n", supd_extra="max_parallel = 0\n")
        self.wrapper = lambda: ["sh", "-c", f'echo $$ > {self.cg}/cgroup.procs && exec "$@"', "sh"]
        self.start_daemon()
        self.assertIsNone(self.wait_running("a")["cgroup"])
        self.assertIn(f"supd's cgroup {self.cg} is marked for the state_dir /var/lib/first-supd", self.daemon_log())
        self.assertNotIn("jobs", os.listdir(self.cg))

    def test_auto_owned_by_nonroot(self):
        """A supd that is not root, in a cgroup its uid owns with a writable
        cgroup.procs (systemd's user manager hands out such cgroups): it
        moves itself into CGROUP/supd and runs its jobs below, as nobody."""
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(self.cg, f), NOBODY, NOBODY)
        os.chown(self.d, NOBODY, NOBODY)
        self.write_config("[job:a]\ncommand = sleep 300\n", supd_extra="max_parallel = 0\n")
        os.chown(self.conf, NOBODY, NOBODY)
        self.wrapper = lambda: ["sh", "-c", f'echo $$ > {self.cg}/cgroup.procs && exec setpriv --reuid={NOBODY} '
                                f'--regid={NOBODY} --clear-groups "$@"', "sh"]
        self.start_daemon()
        j = self.wait_running("a")
        self.assertEqual(j["cgroup"], os.path.join(self.cg, "jobs", "j-a", f"r-{j['run']}"))
        self.assertEqual(cgroup_of(j["pid"]), self.rel(j["cgroup"]))
        self.assertEqual(os.stat(j["cgroup"]).st_uid, NOBODY)
        self.assertIn(f"using supd's own cgroup {self.cg} (owned by supd's uid)", self.daemon_log())
        self.ctl("stop", "a", check=0)
        self.assertFalse(os.path.exists(j["cgroup"]))

    def test_auto_not_delegated(self):
        self.write_config("[job:a]\ncommand = sleep 300\n", supd_extra="max_parallel = 0\n")
        self.wrapper = lambda: ["sh", "-c", f'echo $$ > {self.cg}/cgroup.procs && exec "$@"', "sh"]
        self.start_daemon()
        self.assertIsNone(self.wait_running("a")["cgroup"])
        self.assertIn(f"supd's cgroup {self.cg} is not delegated to it", self.daemon_log())
        self.assertEqual(os.listdir(self.cg).count("jobs"), 0, "nothing made in a cgroup not given to supd")


class RestoredRunFieldsTest(SupdCase):
    """After a restart, a job shows its last recorded run with the cgroup's
    measurements as they were written (jobjson's reading back), and a record
    of a supd without them (an older one) reads as not measured."""
    CONFIG = """
        [job:measured]
        command = true
        autostart = false

        [job:older]
        command = true
        autostart = false
        """
    START_DAEMON = False

    def record(self, name, run, **extra):
        rec = {"name": name, "state": "exited", "pid": None, "run": run,
               "started_at": "2026-01-01T00:00:00.000000Z", "ended_at": "2026-01-01T00:00:01.000000Z",
               "duration_s": 1.0, "exit_code": 0, "signal": None, "timed_out": False, "restarts": 0,
               "cpu_user_s": 0.5, "cpu_sys_s": 0.25, "max_rss_kb": 1000,
               "stages": [{"argv0": "true", "pid": 1234, "exit_code": 0, "signal": None}], "error": None}
        rec.update(extra)
        return json.dumps(rec) + "\n"

    def test_fields_restored(self):
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.state_dir, "runs.jsonl"), "w") as f:
            f.write(self.record("measured", 1, memory_peak_kb=4321, oom_killed=True, cgroup=None))
            f.write(self.record("older", 2))
        self.start_daemon()
        m, o = self.job("measured"), self.job("older")
        self.assertEqual((m["memory_peak_kb"], m["oom_killed"], m["cgroup"]), (4321, True, None), m)
        self.assertEqual((m["cpu_user_s"], m["cpu_sys_s"]), (0.5, 0.25))
        self.assertEqual((o["memory_peak_kb"], o["oom_killed"]), (None, None), o)
