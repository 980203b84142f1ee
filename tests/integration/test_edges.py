# SPDX-License-Identifier: ISC
"""Protocol and command edges (issue 10, SPEC §1): a wait whose jobs a
reload removes, `supctl reopen`, `supctl is-active`, and the global options
-q, --no-legend and --no-pager."""
import json
import os
import subprocess
import time

from supdtest import SupdCase, SUPCTL, SCALE, T_CMD, T_LONG, _clean_env, read_file, wait_for


class Waiter:
    """supctl ARGS in the background, parked in supd before the test goes on."""

    def __init__(self, case, *args):
        self.case = case
        self.p = subprocess.Popen([SUPCTL, "-s", case.sock, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=_clean_env(),
                                  stdin=subprocess.DEVNULL)
        case.addCleanup(self.kill)
        # no event says "parked": give it time to connect and be read
        time.sleep(0.3 * SCALE)
        if self.p.poll() is not None:
            case.fail(f"supctl {' '.join(args)} returned at once: {self.p.communicate()}")

    def result(self):
        try:
            out, err = self.p.communicate(timeout=T_CMD)
        except subprocess.TimeoutExpired:
            self.kill()
            self.case.fail(self.case.msg("a waiter got no answer (hangs)"))
        return self.p.returncode, out, err

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.communicate()


class WaitRemovedTest(SupdCase):
    """A reload that removes jobs stops them, as a user's stop would: a
    multi-job wait counts them as succeeded (exit 0), a wait on one job
    exits as a shell would, as after `supctl stop`."""
    JOBS = """
        [job:A]
        command = sleep 300

        [job:B]
        command = sleep 300

        [job:slow]
        command = sh -c 'trap "" TERM; sleep 300'
        stop_timeout = 1s

        [job:flap]
        command = false
        restart = always
        restart_delay = 60s
        restart_max_delay = 60s
        """
    CONFIG = JOBS + """
        [job:keep]
        command = sleep 300
        """

    def remove_all_but_keep(self):
        self.write_config("[job:keep]\ncommand = sleep 300\n")
        self.ctl("reload", check=0)

    def test_wait_two_removed_exits_0(self):
        self.wait_running("A")
        self.wait_running("B")
        w = Waiter(self, "wait", "A", "B")
        wj = Waiter(self, "--json", "wait", "A", "B")
        self.remove_all_but_keep()
        rc, out, err = w.result()
        self.assertEqual(rc, 0, self.msg(f"wait A B after a reload removed both: {out!r} {err!r}"))
        rc, out, err = wj.result()
        self.assertEqual(rc, 0, self.msg(f"--json wait A B: {out!r} {err!r}"))
        jobs = {j["name"]: j for j in json.loads(out)}
        self.assertEqual(sorted(jobs), ["A", "B"], "the answer lists every job waited for")
        self.assertEqual({j["state"] for j in jobs.values()}, {"stopped"})

    def test_wait_removed_one_after_the_other(self):
        # slow needs SIGKILL after 1s: A is gone long before; the answer must
        # still describe both
        self.wait_running("A")
        self.wait_running("slow")
        w = Waiter(self, "--json", "wait", "A", "slow")
        self.remove_all_but_keep()
        rc, out, err = w.result()
        self.assertEqual(rc, 0, self.msg(f"wait A slow: {out!r} {err!r}"))
        jobs = {j["name"]: j for j in json.loads(out)}
        self.assertEqual(sorted(jobs), ["A", "slow"], out)
        self.assertEqual(jobs["A"]["signal"], "TERM")
        self.assertEqual(jobs["slow"]["signal"], "KILL")

    def test_wait_one_removed_is_like_a_stop(self):
        self.wait_running("A")
        self.wait_running("B")
        w = Waiter(self, "wait", "A")
        self.ctl("stop", "A", check=0)
        by_stop = w.result()
        self.ctl("start", "A", check=0)
        self.wait_running("A")
        w = Waiter(self, "wait", "A")
        self.remove_all_but_keep()
        by_reload = w.result()
        self.assertEqual(by_stop[0], 143, f"wait A, A stopped by TERM: {by_stop}")
        self.assertEqual(by_reload[0], by_stop[0],
                         self.msg(f"reload removing A vs supctl stop A: {by_reload} {by_stop}"))

    def test_wait_on_removed_backoff_job(self):
        self.wait_state("flap", "backoff")
        self.wait_running("B")
        w1 = Waiter(self, "wait", "flap")
        w2 = Waiter(self, "--json", "wait", "flap", "B", "keep", "--timeout", f"{5 * SCALE}s")
        self.remove_all_but_keep()
        rc, out, err = w1.result()
        self.assertEqual(rc, 1, self.msg(f"wait flap (last run: false): {out!r} {err!r}"))
        rc, out, err = w2.result()
        # keep is still running: a timeout, naming it alone
        self.assertEqual(rc, 124, self.msg(f"wait flap B keep: {out!r} {err!r}"))
        self.assertIn("keep", err)
        self.assertNotIn("flap", err)
        self.assertAlive()
        self.assertEqual(self.job("keep")["state"], "running")


class ReopenTest(SupdCase):
    """supctl reopen: as SIGUSR1, every log file supd writes is opened again."""
    CONFIG = """
        [job:talker]
        command = sh -c 'while :; do echo tick; sleep 0.05; done'
        stdout = log

        [job:t]
        command = true
        autostart = false
        """

    def test_reopen_after_rename(self):
        self.wait_running("talker")
        runs = os.path.join(self.state_dir, "runs.jsonl")
        log = os.path.join(self.state_dir, "logs", "talker.log")
        self.assertTrue(wait_for(lambda: os.path.exists(log)))
        self.ctl("run", "t", check=0)
        self.assertTrue(wait_for(lambda: os.path.exists(runs)))
        os.rename(runs, runs + ".1")
        os.rename(log, log + ".1")
        r = self.ctl("reopen", check=0)
        self.assertEqual(r.stdout, "", r)
        r = self.ctl("--json", "reopen", check=0)
        self.assertEqual(json.loads(r.stdout), {"ok": True})
        self.ctl("run", "t", check=0)
        self.assertIn('"name":"t"', read_file(runs) or "",
                      self.msg("the run history is not written anew after supctl reopen"))
        self.assertTrue(wait_for(lambda: "tick" in (read_file(log) or ""), T_LONG),
                        self.msg("captured output does not go to a new log file"))
        self.assertEqual(self.job("talker")["state"], "running")
        self.assertIn("reopening log files", self.daemon_log())

    def test_reopen_on_the_socket(self):
        self.assertEqual(self.request({"cmd": "reopen"}), {"ok": True})
        r = self.ctl("reopen", "x")
        self.assertEqual(r.returncode, 2, self.msg("an operand to reopen is a usage error", r))


class IsActiveTest(SupdCase):
    """supctl is-active PATTERN...: exit 0 if every matched job is running,
    3 otherwise, 4 for an unknown job (SPEC §1, as systemctl)."""
    CONFIG = """
        [job:web]
        command = sleep 300

        [job:w@]
        command = sleep 300

        [job:off]
        command = true
        autostart = false

        [job:once]
        command = true
        """

    def test_running(self):
        self.wait_running("web")
        r = self.ctl("is-active", "web", check=0)
        self.assertEqual(r.stdout, "running\n", r)
        r = self.ctl("-q", "is-active", "web", check=0)
        self.assertEqual(r.stdout, "", r)

    def test_not_running(self):
        self.wait_running("web")
        self.wait_state("once", "exited")
        r = self.ctl("is-active", "off", check=3)
        self.assertEqual(r.stdout, "stopped\n", r)
        self.ctl("is-active", "once", check=3)
        r = self.ctl("is-active", "web", "off", check=3)
        self.assertEqual(sorted(r.stdout.split()), ["running", "stopped"], r)
        self.ctl("stop", "web", check=0)
        r = self.ctl("--quiet", "is-active", "web", check=3)
        self.assertEqual(r.stdout, "", r)

    def test_patterns_and_json(self):
        self.ctl("start", "w@a", "w@b", check=0)
        self.ctl("is-active", "w", check=0)
        self.ctl("is-active", "w@*", "web", check=0)
        r = self.ctl("--json", "is-active", "w", check=0)
        self.assertEqual(sorted(j["name"] for j in json.loads(r.stdout)), ["w@a", "w@b"], r)
        self.ctl("stop", "w@b", check=0)
        self.ctl("is-active", "w", check=3)
        r = self.ctl("--json", "is-active", "w@b", check=3)
        self.assertEqual(json.loads(r.stdout)[0]["state"], "stopped", r)

    def test_unknown_and_usage(self):
        r = self.ctl("is-active", "nosuch", check=4)
        self.assertIn("unknown job", r.stderr)
        self.ctl("is-active", "web", "nosuch", check=4)
        self.ctl("is-active", check=2)


class GlobalOptionsTest(SupdCase):
    """-q (no summary, no progress), --no-legend (tables without header),
    --no-pager (accepted)."""
    CONFIG = """
        [job:web]
        command = sleep 300

        [job:t]
        command = true
        autostart = false
        """

    def test_no_legend(self):
        self.wait_running("web")
        self.ctl("run", "t", check=0)
        full = self.ctl("status", check=0).stdout.splitlines()
        self.assertEqual(full[0].split(), ["NAME", "STATE", "PID", "SINCE", "EXIT", "RESTARTS", "HEALTH", "STATUS"])
        bare = self.ctl("--no-legend", "status", check=0).stdout.splitlines()
        self.assertEqual([l.split()[:2] for l in bare], [l.split()[:2] for l in full[1:]], bare)
        # columns are sized by the rows alone: "web" is narrower than "NAME"
        self.assertRegex(self.ctl("status", "web", "--no-legend", check=0).stdout, r"^web  running ")
        hist = self.ctl("history", check=0).stdout.splitlines()
        self.assertEqual(hist[0].split(), ["RUN", "NAME", "STARTED", "DURATION", "EXIT"])
        bare = self.ctl("history", "--no-legend", check=0).stdout.splitlines()
        self.assertEqual([l.split()[:2] for l in bare], [l.split()[:2] for l in hist[1:]], bare)
        self.assertIn("t", [l.split()[1] for l in bare])

    def test_quiet_reload(self):
        self.write_config(self.CONFIG + "\n[job:new]\ncommand = sleep 300\n")
        r = self.ctl("-q", "reload", check=0)
        self.assertEqual(r.stdout, "", r)
        self.wait_running("new")
        r = self.ctl("reload", check=0)
        self.assertEqual(r.stdout, "no changes\n", r)
        # errors are no summary: still printed
        self.write(os.path.basename(self.conf), read_file(self.conf) + "[job:bad]\nbogus = 1\n")
        r = self.ctl("-q", "reload", check=1)
        self.assertIn("bogus", r.stderr, r)

    def test_quiet_wait_shows_no_progress(self):
        # progress lines go to a terminal only: give supctl one
        import pty
        self.ctl("start", "t", check=0)
        for quiet, expect in ((False, True), (True, False)):
            master, slave = pty.openpty()
            try:
                args = [SUPCTL, "-s", self.sock] + (["-q"] if quiet else []) + ["wait", "t", "web", "--timeout", "1s"]
                p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                                     env=_clean_env(), text=True)
                os.close(slave)
                slave = None
                p.communicate(timeout=T_CMD)
                out = b""
                while True:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    out += chunk
            finally:
                os.close(master)
                if slave is not None:
                    os.close(slave)
            self.assertEqual(p.returncode, 124)
            self.assertEqual(b"done" in out, expect, f"-q={quiet}: {out!r}")

    def test_no_pager_accepted(self):
        self.wait_running("web")
        for args in (("--no-pager", "status"), ("status", "--no-pager"), ("history", "--no-pager")):
            r = self.ctl(*args, check=0)
            self.assertTrue(r.stdout.lstrip().startswith(("NAME", "RUN")), r)
        self.assertIn("web", self.ctl("--no-pager", "status", "web", check=0).stdout)
        self.ctl("--no-pager=yes", "status", check=2)
