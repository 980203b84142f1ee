# SPDX-License-Identifier: ISC
"""SPEC §11: what each signal does to supd. SIGUSR1 reopens every log file
supd writes; the other asynchronous signals that would end supd by default
are ignored; jobs start with every signal at its default action and an
empty signal mask."""
import os
import signal
import time

from supdtest import SupdCase, read_file, wait_for, T_LONG


class SignalTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 300

        [job:talker]
        command = sh -c 'while :; do echo tick; sleep 0.05; done'
        stdout = log

        [job:t]
        command = true
        autostart = false

        [job:sigs]
        command = grep -E '^Sig(Ign|Blk)' /proc/self/status
        stdout = {d}/sigs.txt
        autostart = false
        """

    def test_ignored_signals_end_nothing(self):
        svc = self.wait_running("svc")["pid"]
        for sig in (signal.SIGUSR2, signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF,
                    signal.SIGIO, signal.SIGPWR, signal.SIGXFSZ, signal.SIGPIPE,
                    signal.SIGRTMIN + 3, signal.SIGRTMAX):
            os.kill(self.proc.pid, sig)
            time.sleep(0.05)
            self.assertIsNone(self.proc.poll(), f"supd died of signal {sig}")
        self.ctl("status", check=0)
        self.assertEqual(self.job("svc")["pid"], svc, "the service was not disturbed")

    def test_usr1_reopens_log_files(self):
        self.wait_running("talker")
        runs = os.path.join(self.state_dir, "runs.jsonl")
        log = os.path.join(self.state_dir, "logs", "talker.log")
        self.assertTrue(wait_for(lambda: os.path.exists(log)))
        self.ctl("run", "t", check=0)
        os.rename(runs, runs + ".rotated")
        os.rename(log, log + ".rotated")
        os.kill(self.proc.pid, signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: "tick" in (read_file(log) or ""), T_LONG),
                        self.msg("captured output does not go to a new log file"))
        self.ctl("run", "t", check=0)
        self.assertIn('"name":"t"', read_file(runs) or "", "the run history is not written anew")
        self.assertIsNone(self.proc.poll())
        self.assertEqual(self.job("talker")["state"], "running")

    def test_jobs_start_with_default_signals(self):
        os.kill(self.proc.pid, signal.SIGUSR2)     # ignored by supd, not by its jobs
        self.ctl("run", "sigs", check=0)
        lines = dict(l.split(":\t") for l in read_file(os.path.join(self.d, "sigs.txt")).splitlines())
        self.assertEqual(int(lines["SigIgn"], 16), 0, lines)
        self.assertEqual(int(lines["SigBlk"], 16), 0, lines)
