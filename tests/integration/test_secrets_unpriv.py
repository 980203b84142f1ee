# SPDX-License-Identifier: ISC
"""Secrets from a supd that is not root (SPEC §8): when the user's pipe
quota is used up, F_SETPIPE_SZ fails and a pipe holds only a few pages, so
most of a 1 MiB secret goes out from the event loop. Each stage still
reads all of it; a job that never reads, or exits early, neither blocks
supd nor keeps its pipe."""
import os
import re
import subprocess
import unittest

from supdtest import SupdCase, read_file, wait_for, IS_ROOT, NOBODY, T_SHORT

HOG = r"""
import fcntl, os, sys
F_SETPIPE_SZ = 1031
held = []
while len(held) < 400:
    r, w = os.pipe()
    held.append((r, w))
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        break
print(len(held), flush=True)
sys.stdin.read()
"""


@unittest.skipUnless(IS_ROOT, "needs root to run supd and a pipe hog as nobody")
class QuotaSpentTest(SupdCase):
    START_DAEMON = False
    CONFIG = """
        [job:whole]
        command = sh -c 'wc -c <&3 > {d}/pub/one' | sh -c 'cat >/dev/null; wc -c <&3 > {d}/pub/two'
        secret = 3 {d}/big.pass
        autostart = false

        [job:never]
        command = sleep 300
        secret = 3 {d}/big.pass
        autostart = false

        [job:early]
        command = sh -c 'head -c 10 <&3 > /dev/null'
        secret = 3 {d}/big.pass
        autostart = false
        """

    def wrapper(self):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

    def setUp(self):
        super().setUp()
        os.chown(self.d, NOBODY, NOBODY)
        os.mkdir(f"{self.d}/pub")
        os.chown(f"{self.d}/pub", NOBODY, NOBODY)
        with open(f"{self.d}/big.pass", "wb") as f:
            f.write(b"s" * (1 << 20))
        os.chown(f"{self.d}/big.pass", NOBODY, NOBODY)
        self.hog = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                     "python3", "-c", HOG], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True)
        self.addCleanup(self.hog.wait)
        self.addCleanup(self.hog.stdin.close)
        self.assertLess(int(self.hog.stdout.readline()), 400, "the pipe quota of nobody was not used up")
        self.hog.stdout.close()
        self.start_daemon()

    def test_loop_writes_the_rest(self):
        r = self.ctl("run", "whole")
        self.assertEqual(r.returncode, 0, self.msg("", r))
        self.assertEqual(read_file(f"{self.d}/pub/one", "").strip(), str(1 << 20), self.msg())
        self.assertEqual(read_file(f"{self.d}/pub/two", "").strip(), str(1 << 20), self.msg())

    def test_reader_that_never_reads_or_leaves_early(self):
        spid = self.supd_pid()
        def write_ends():
            """supd's write ends of pipes: only secrets still being fed (and,
            under valgrind, the pipe valgrind holds for itself)"""
            n = 0
            for fd in os.listdir(f"/proc/{spid}/fd"):
                try:
                    if not os.readlink(f"/proc/{spid}/fd/{fd}").startswith("pipe:"):
                        continue
                    with open(f"/proc/{spid}/fdinfo/{fd}") as f:
                        flags = int(re.search(r"flags:\s*(\d+)", f.read()).group(1), 8)
                    if flags & 3 == os.O_WRONLY:
                        n += 1
                except OSError:
                    pass
            return n
        before = write_ends()
        self.ctl("start", "never")
        pid = self.wait_running("never")["pid"]
        r = self.ctl("run", "early")
        self.assertEqual(r.returncode, 0, self.msg("", r))
        # supd still answers and its write end to the early one is closed
        self.assertEqual(write_ends(), before + 1, self.msg("the never-reading job's pipe is fed from the loop"))
        self.ctl("stop", "never")
        self.assertTrue(wait_for(lambda: write_ends() == before, T_SHORT),
                        self.msg("supd kept the pipe of a stopped run"))
        self.assertFalse(os.path.exists(f"/proc/{pid}"))
        r = self.ctl("run", "whole")
        self.assertEqual(r.returncode, 0, self.msg("", r))


if __name__ == "__main__":
    unittest.main(verbosity=2)
