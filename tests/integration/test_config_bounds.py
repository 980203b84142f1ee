# SPDX-License-Identifier: ISC
"""The config reader's promises (SPEC §2, §11): 64 KiB lines whatever inih's
own buffer, ';' inside quotes, a warning for an indented key, an empty
program name refused, and bounds: a FIFO, a device or a file over 16 MiB is
an error at once, and a huge line costs no memory."""
import os
import subprocess
import sys
import time
import unittest

from supdtest import SUPD, SupdCase, TempDirCase, _clean_env, read_file

MiB = 1024 * 1024


class ConfigBoundsTest(TempDirCase):
    def check(self, path, timeout=10):
        """supd --check -c path, which must end within timeout seconds."""
        t0 = time.monotonic()
        r = self.supd_run("--check", "-c", path, timeout=timeout)
        return r, time.monotonic() - t0

    def max_rss_kb(self, *args):
        """Exit status, stderr and peak RSS (KiB) of supd run with args. Linux
        keeps a process's peak RSS across exec, so supd is forked by a small
        interpreter rather than by this (larger) one."""
        helper = ("import os, sys\n"
                  "pid = os.fork()\n"
                  "if pid == 0:\n"
                  "    os.execv(sys.argv[1], sys.argv[1:])\n"
                  "_, st, ru = os.wait4(pid, 0)\n"
                  "print(os.waitstatus_to_exitcode(st), ru.ru_maxrss)\n")
        r = subprocess.run([sys.executable, "-S", "-c", helper, SUPD, *args], capture_output=True,
                           text=True, env=_clean_env(), stdin=subprocess.DEVNULL, timeout=60)
        rc, rss = r.stdout.split()[-2:]
        return int(rc), r.stderr, int(rss)

    def test_fifo_main_file_is_refused_at_once(self):
        fifo = os.path.join(self.d, "fifo.conf")
        os.mkfifo(fifo)
        r, took = self.check(fifo)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{fifo}: cannot open: not a regular file", r.stderr)
        self.assertLess(took, 5)

    def test_device_main_file_is_refused(self):
        r, _ = self.check("/dev/zero")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("/dev/zero: cannot open: not a regular file", r.stderr)

    def test_fifo_and_device_includes_are_refused(self):
        fifo = os.path.join(self.d, "fifo.inc")
        os.mkfifo(fifo)
        path = self.write("main.conf", f"[supd]\ninclude = {fifo}\ninclude = /dev/zero\n"
                                       "[job:a]\ncommand = true\n")
        r, took = self.check(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{path}:2: cannot include {fifo}: not a regular file", r.stderr)
        self.assertIn(f"{path}:3: cannot include /dev/zero: not a regular file", r.stderr)
        self.assertLess(took, 5)

    def test_file_over_16_mib_is_refused_by_size(self):
        big = os.path.join(self.d, "big.inc")
        with open(big, "w") as f:             # sparse: 256 MB of NUL bytes, no newline
            f.truncate(256 * MiB)
        path = self.write("main.conf", f"[supd]\ninclude = {big}\n")
        rc, err, rss = self.max_rss_kb("--check", "-c", path)
        self.assertEqual(rc, 1, err)
        self.assertIn(f"{path}:2: cannot include {big}: file too large (max 16 MiB)", err)
        with open(big, "w") as f:
            f.truncate(16 * MiB + 1)
        r, _ = self.check(big)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{big}: cannot open: file too large (max 16 MiB)", r.stderr)

    def test_newline_free_include_costs_no_memory(self):
        small = self.write("small.conf", "[job:a]\ncommand = true\n")
        rc, err, base = self.max_rss_kb("--check", "-c", small)
        self.assertEqual(rc, 0, err)
        big = os.path.join(self.d, "line.inc")
        with open(big, "wb") as f:            # just under 16 MiB, one line
            for _ in range(16):
                f.write(b"x" * (MiB - 1))
        path = self.write("main.conf", f"[supd]\ninclude = {big}\n[job:a]\ncommand = true\n")
        rc, err, rss = self.max_rss_kb("--check", "-c", path)
        self.assertEqual(rc, 1, err)
        self.assertIn(f"{big}:1: line too long (max 65536 bytes)", err)
        # a reader that keeps the line would need 16 MiB more
        self.assertLess(rss - base, 4 * 1024, f"peak RSS {rss} KiB, {base} KiB for a small file")

    def test_long_lines(self):
        cmd = "echo " + " ".join(f"w{i}" for i in range(3000))      # ~17 KB
        path = self.write("long.conf", f"[job:a]\ncommand = {cmd}\n"
                                       f"environment = X={'y' * 300}\n")
        r = self.supd_run("--check", "-v", "-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"command = {cmd}\n", r.stdout)
        self.assertIn(f"environment = X={'y' * 300}\n", r.stdout)
        over = self.write("over.conf", "[job:a]\ncommand = true\n"
                                       f"environment = X={'y' * (64 * 1024)}\n"
                                       "timeout = soon\n")
        r, _ = self.check(over)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{over}:3: line too long (max 65536 bytes)", r.stderr)
        self.assertIn(f"{over}:4: invalid duration for timeout: soon", r.stderr)

    def test_indented_key_warns(self):
        path = self.write("w.conf", "[job:a]\ncommand = sleep 1\n    autostart = false\n")
        r, _ = self.check(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{path}:3: warning: indented line continues command; "
                      "to set autostart, do not indent it", r.stderr)
        self.assertIn("configuration OK", r.stdout)
        plain = self.write("ok.conf", "[job:a]\ncommand = sleep 1\n    --verbose\n")
        r, _ = self.check(plain)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_empty_program_name(self):
        path = self.write("e.conf", "[job:a]\ncommand = ''\n[job:b]\ncommand = true | \"\"\n")
        r, _ = self.check(path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path}:2: invalid command: empty program name", r.stderr)
        self.assertIn(f"{path}:4: invalid command: empty program name", r.stderr)


class QuotedSemicolonTest(SupdCase):
    CONFIG = """
        [job:q]
        command = sh -c 'echo "a ; b" > {d}/q.out ; echo c >> {d}/q.out' ; a comment
        environment = V="x ; y" ; a comment
        autostart = false

        [job:v]
        command = sh -c 'echo "$V" > {d}/v.out'
        environment = V="x ; y" ; a comment
        autostart = false
    """

    def test_semicolon_inside_quotes_reaches_the_job(self):
        self.ctl("run", "q")
        self.assertEqual(read_file(f"{self.d}/q.out"), "a ; b\nc\n")
        self.ctl("run", "v")
        self.assertEqual(read_file(f"{self.d}/v.out"), "x ; y\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
