# SPDX-License-Identifier: ISC
"""supctl's edges (issue 10, SPEC §11): the exit status of a reload with a bad
config, and the text `events` stream printing each change once."""
import json
import os
import queue
import subprocess
import threading
import time
import unittest

from supdtest import SupdCase, IS_ROOT, NOBODY, SUPCTL, T_LONG, T_SHORT, _clean_env


class Stream:
    """A supctl stream (events) whose stdout lines are read in a thread."""

    def __init__(self, case, *args):
        self.p = subprocess.Popen([SUPCTL, "-s", case.sock, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=_clean_env(),
                                  stdin=subprocess.DEVNULL)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        case.addCleanup(self.close)

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip("\n"))

    def wait_until(self, pred, timeout=T_LONG):
        """Collects lines until pred(lines) holds; returns whether it did."""
        end = time.monotonic() + timeout
        while not pred(self.lines):
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                self.lines.append(self.q.get(timeout=min(left, 0.1)))
            except queue.Empty:
                pass
        return True

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()


def text_event(line):
    """(name, event, state, detail) of a text events line
    "YYYY-MM-DD HH:MM:SS.mmm NAME EVENT STATE [detail]"."""
    parts = line.split(" ", 5)
    return tuple(parts[2:5]) + ((parts[5] if len(parts) > 5 else ""),)


class ReloadExitTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300
        """

    def test_bad_config_exits_1(self):
        pid = self.wait_running("svc")["pid"]
        text = self.write_config(self.CONFIG + "\n[job:broken]\ncommand = true\nrestart = sometimes\n")
        line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("restart = sometimes"))
        r = self.ctl("reload")
        # SPEC §11: a failure, not a refusal (systemd shows 4 as "4/NOPERMISSION")
        self.assertEqual(r.returncode, 1, self.msg("reload of a bad config", r))
        self.assertIn(f"{self.conf}:{line}:", r.stderr, self.msg("errors are printed as FILE:LINE", r))
        self.assertEqual(r.stdout, "", self.msg("nothing is printed as changed", r))
        r = self.ctl("--json", "reload")
        self.assertEqual(r.returncode, 1, self.msg("reload --json of a bad config", r))
        self.assertEqual(self.job("svc")["pid"], pid, "a bad config changes nothing")
        self.assertNotIn("broken", self.status())
        # refusals keep 4; a good config reloads with 0
        self.ctl("start", "no-such-job", check=4)
        self.write_config(self.CONFIG)
        r = self.ctl("reload", check=0)
        self.assertEqual(r.stdout, "no changes\n", self.msg("", r))

    def test_missing_config_exits_1(self):
        self.wait_running("svc")
        os.unlink(self.conf)
        r = self.ctl("reload")
        self.assertEqual(r.returncode, 1, self.msg("reload of a config that is gone", r))
        self.assertIn(self.conf, r.stderr, self.msg("the error names the file", r))


@unittest.skipUnless(IS_ROOT, "needs root to run supctl as another uid")
class RefusedReloadTest(SupdCase):
    SUPD_EXTRA = """
        max_parallel = 0
        socket_mode = 0666
        """

    def test_refused_reload_exits_4(self):
        for attempt in range(3):       # the reply races supd's close: try more than once
            r = self.ctl("reload", user=NOBODY)
            self.assertEqual(r.returncode, 4, self.msg(f"reload by uid 65534 (attempt {attempt + 1})", r))
            self.assertIn("permission denied", r.stderr, self.msg("", r))


class EventsTextTest(SupdCase):
    CONFIG = """
        [job:ping]
        command = true
        autostart = false

        [job:svc]
        command = sleep 300
        autostart = false

        [job:three]
        command = sh -c 'exit 3'
        autostart = false
        """

    def subscribe(self, *args):
        """supctl [ARGS] events, subscribed (proved by a first event seen)."""
        s = Stream(self, *args, "events")
        deadline = time.monotonic() + T_LONG
        while time.monotonic() < deadline:
            self.ctl("run", "ping", check=0)
            if s.wait_until(lambda ls: any("ping" in l for l in ls), 1.0):
                return s
        self.fail(self.msg(f"supctl {' '.join(args)} events printed nothing: {s.lines}"))

    def test_each_change_once(self):
        text = self.subscribe()
        js = self.subscribe("--json")
        self.ctl("start", "svc", check=0)
        self.ctl("stop", "svc", check=0)
        self.ctl("run", "three", check=3)
        for s in (text, js):
            self.assertTrue(s.wait_until(lambda ls: any("three" in l and "exited" in l and "failed" in l
                                                        for l in ls), T_SHORT),
                            self.msg(f"no exited event for three: {s.lines}"))
        text.wait_until(lambda ls: False, 0.3)   # a duplicate would come right after
        js.wait_until(lambda ls: False, 0.3)
        events = [json.loads(l) for l in js.lines]
        lines = [text_event(l) for l in text.lines]
        for name in ("svc", "three"):
            # one line per change: each (state, since) of the JSON stream once,
            # as the first object that announced it
            changes = {}
            for e in events:
                if e["name"] == name:
                    changes.setdefault((e["state"], e["since"]), e["event"])
            want = [(ev, state) for (state, _), ev in changes.items()]
            got = [(ev, state) for n, ev, state, _ in lines if n == name]
            self.assertEqual(got, want, f"text events of {name}:\n" + "\n".join(text.lines)
                             + "\nJSON:\n" + "\n".join(js.lines))
        self.assertIn(("svc", "started", "running"), [l[:3] for l in lines])
        self.assertIn(("svc", "state", "stopping"), [l[:3] for l in lines], "a state alone still shows")
        self.assertIn(("three", "exited", "failed", "exited 3"),
                      [(n, e, st, d.split(" after")[0]) for n, e, st, d in lines])
        # the JSON stream keeps both objects of a run's start and end
        kinds = [e["event"] for e in events if e["name"] == "three"]
        self.assertEqual(kinds, ["started", "state", "exited", "state"], kinds)


if __name__ == "__main__":
    unittest.main()
