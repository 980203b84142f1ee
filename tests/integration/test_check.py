# SPDX-License-Identifier: ISC
"""supd --check, --help, --version, and the shipped configurations."""
import glob
import os
import unittest

from supdtest import SRCDIR, TempDirCase

GOOD = """\
[supd]
socket = {d}/s.sock
state_dir = {d}/state
socket_mode = 0660
max_parallel = auto
; a comment
# another comment

[job:svc]
command = sleep 300
restart = always
restart_delay = 250ms
restart_max_delay = 1m
start_limit = 5/10s
stop_signal = INT
stop_timeout = 1.5s
environment = A=1 B="two words"
environment = C=3

[job:batch]
command = gzip -c | openssl enc -aes-256-cbc -pbkdf2 -pass env:PASSWORD
environment_file = {d}/does-not-exist-yet.env
stdin = {d}/in.%i
stdout = append:{d}/out.%n
stderr = stdout
instances = 4
timeout = 2
success_exit = 0 3
nice = 5
autostart = no

[job:enc@]
command = sh -c 'echo %i %n 100%%'
directory = {d}
shell = false
stdout = log
"""


class CheckTest(TempDirCase):
    def check(self, text, name="supd.conf"):
        path = self.write(name, self.expand_raw(text))
        return path, self.supd_run("--check", "-c", path)

    def expand_raw(self, text):
        return text.replace("{d}", self.d)

    def test_good_config(self):
        path, r = self.check(GOOD)
        self.assertEqual(r.returncode, 0, f"{r.stdout}{r.stderr}")
        self.assertFalse(os.path.exists(f"{self.d}/s.sock"), "--check must not open the socket")
        self.assertFalse(os.path.exists(f"{self.d}/out.batch@0"), "--check must not run jobs")

    def test_check_starts_nothing(self):
        path, r = self.check("[job:a]\ncommand = touch {d}/ran\n")
        self.assertEqual(r.returncode, 0, f"{r.stdout}{r.stderr}")
        self.assertFalse(os.path.exists(f"{self.d}/ran"))

    def test_every_error_with_file_and_line(self):
        text = ("[supd]\n"                      # 1
                "socket = {d}/s.sock\n"         # 2
                "max_parallel = lots\n"         # 3
                "[job:a]\n"                     # 4
                "command = true\n"              # 5
                "restart = sometimes\n"         # 6
                "bogus = 1\n"                   # 7
                "[job:a]\n"                     # 8
                "command = true\n"              # 9
                "[weird]\n"                     # 10
                "x = 1\n"                       # 11
                "[job:b]\n"                     # 12
                "timeout = 5 parsecs\n"         # 13
                "command = sleep 1\n"           # 14
                "[job:c]\n"                     # 15
                "command = sh -c 'unterminated\n"   # 16
                "[job:d]\n"                     # 17
                "command = echo %q\n"           # 18
                "[job:bad name!]\n"             # 19
                "command = true\n")             # 20
        path, r = self.check(text)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 1, out)
        for line in (3, 6, 7, 13, 16, 18):
            self.assertIn(f"{path}:{line}:", out, f"error on line {line} not reported:\n{out}")
        for what, lines in (("duplicate job", (8, 9)), ("unknown section", (10, 11)),
                            ("bad job name", (19, 20))):
            self.assertTrue(any(f"{path}:{l}:" in out for l in lines),
                            f"{what} (line {lines}) not reported:\n{out}")

    def test_check_verbose_prints_normalised_config(self):
        path, r = self.check(GOOD)
        self.assertNotIn("[job:", r.stdout, "without --verbose, --check prints no config")
        for flag in ("--verbose", "-v"):
            with self.subTest(flag=flag):
                r = self.supd_run("--check", flag, "-c", path)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(f"{path}: configuration OK (3 jobs)", r.stderr)
                self.assertNotIn("configuration OK", r.stdout)
                out = r.stdout
                self.assertTrue(out.startswith("[supd]\n"), out)
                for line in (f"socket = {self.d}/s.sock", "max_parallel = auto",
                             "[job:svc]", f"; defined at {path}:9", "restart = always",
                             "restart_delay = 250ms", "stop_timeout = 1500ms",
                             "environment = B=\"two words\"", "environment = C=3",
                             "stderr = stdout", "instances = 4", "autostart = false",
                             "[job:enc@]", '; argv: sh -c "echo %i %n 100%%"',
                             "log_lines = 1000"):
                    self.assertIn(line + "\n", out)
        # the output is a configuration: parsed again, it prints the same
        again = self.write("again.conf", out)
        r2 = self.supd_run("--check", "-v", "-c", again)
        self.assertEqual(r2.returncode, 0, r2.stdout + r2.stderr)
        strip = lambda t: [l for l in t.splitlines() if not l.startswith("; defined at ")]
        self.assertEqual(strip(r2.stdout), strip(out))

    def test_check_verbose_bad_config_prints_no_config(self):
        path, _ = self.check("[job:a]\ncommand = true\nrestart = sometimes\n")
        r = self.supd_run("--check", "-v", "-c", path)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"{path}:3:", r.stderr)

    def test_missing_command(self):
        path, r = self.check("[job:a]\nautostart = false\n")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{path}:", r.stdout + r.stderr)

    def test_errors_in_included_file(self):
        os.mkdir(f"{self.d}/conf.d")
        self.write("conf.d/a.conf", "[job:inc]\ncommand = true\n")
        path, r = self.check("[supd]\ninclude = {d}/conf.d/*.conf\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        bad = self.write("conf.d/b.conf", "[job:inc2]\ncommand = true\nrestart = sometimes\n")
        r = self.supd_run("--check", "-c", path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{bad}:3:", r.stdout + r.stderr)

    def test_config_from_environment(self):
        path = self.write("env.conf", self.expand_raw(GOOD))
        r = self.supd_run("--check", env={"SUPD_CONFIG": path})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        bad = self.write("bad.conf", "[job:a]\ncommand = true\nrestart = sometimes\n")
        r = self.supd_run("--check", env={"SUPD_CONFIG": bad})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{bad}:3:", r.stdout + r.stderr)

    def test_daemon_refuses_bad_config(self):
        path, _ = self.check("[supd]\nsocket = {d}/s.sock\nstate_dir = {d}/state\n"
                             "[job:a]\ncommand = true\nrestart = sometimes\n")
        r = self.supd_run("-c", path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"{path}:6:", r.stdout + r.stderr)
        self.assertFalse(os.path.exists(f"{self.d}/s.sock"))

    def test_shipped_configs_pass_check(self):
        confs = sorted(glob.glob(os.path.join(SRCDIR, "conf", "*.conf"))
                       + glob.glob(os.path.join(SRCDIR, "conf", "*", "*.conf")))
        self.assertTrue(confs, f"no configuration shipped in {SRCDIR}/conf")
        for c in confs:
            with self.subTest(conf=os.path.basename(c)):
                r = self.supd_run("--check", "-c", c)
                self.assertEqual(r.returncode, 0, f"supd --check -c {c}:\n{r.stdout}{r.stderr}")

    def test_help(self):
        r = self.supd_run("--help")
        self.assertEqual(r.returncode, 0)
        out = r.stdout + r.stderr
        self.assertIn("usage", out.lower())
        self.assertIn("--check", out)

    def test_version(self):
        r = self.supd_run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout + r.stderr, r"\d+\.\d+\.\d+")

    def test_bad_option(self):
        r = self.supd_run("--no-such-option")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip())


if __name__ == "__main__":
    unittest.main(verbosity=2)
