# SPDX-License-Identifier: ISC
"""How a run is set up: environment, environment_file, directory, stdin,
stdout/stderr redirections, shell = true, %-specifiers, user."""
import json
import os
import pwd
import unittest

from supdtest import SupdCase, read_file

SECRET = "hunter2-xyzzy-0d5e1f"


class ExecTest(SupdCase):
    CONFIG = """
        [job:env]
        command = sh -c 'echo "$A:$B:$C" > {d}/env.out'
        environment = A=1 B="two words"
        environment = C=three
        autostart = false

        [job:envsub]
        command = sh -c 'echo "$N $P" > {d}/envsub.out'
        environment = N=%n P=100%%
        autostart = false

        [job:secret]
        command = sh -c 'echo "$SECRET_TOKEN $PLAIN" > {d}/secret.out'
        environment_file = {d}/secret.env
        autostart = false

        [job:wd]
        command = sh -c 'pwd > {d}/pwd.out'
        directory = {d}/wd
        autostart = false

        [job:in]
        command = cat
        stdin = {d}/in.txt
        stdout = {d}/in.out
        autostart = false

        [job:nullin]
        command = sh -c 'cat > {d}/nullin.out'
        timeout = 20s
        autostart = false

        [job:trunc]
        command = echo new
        stdout = {d}/trunc.out
        autostart = false

        [job:app]
        command = echo appended
        stdout = append:{d}/app.out
        autostart = false

        [job:merge]
        command = sh -c 'echo to-out; echo to-err >&2; echo to-out-again'
        stdout = {d}/merge.out
        stderr = stdout
        autostart = false

        [job:split]
        command = sh -c 'echo to-out; echo to-err >&2'
        stdout = {d}/split.out
        stderr = {d}/split.err
        autostart = false

        [job:inherit]
        command = echo inherit-marker-4711
        stdout = inherit
        autostart = false

        [job:devnull]
        command = echo into-the-void
        stdout = null
        autostart = false

        [job:shelljob]
        command = echo $((6*7)) | tr 4 X > {d}/shell.out
        shell = true
        autostart = false

        [job:noshell]
        command = echo $HOME > x
        stdout = {d}/noshell.out
        autostart = false

        [job:pct]
        command = sh -c 'echo 100%% %n > {d}/pct.out'
        autostart = false

        [job:late]
        command = cat
        stdin = {d}/created-later.txt
        stdout = {d}/late.out
        autostart = false
        """

    def run_ok(self, job):
        self.ctl("run", job, check=0)

    def test_environment(self):
        self.run_ok("env")
        self.assertEqual(read_file(f"{self.d}/env.out", "").strip(), "1:two words:three")

    def test_environment_substitution(self):
        self.run_ok("envsub")
        self.assertEqual(read_file(f"{self.d}/envsub.out", "").strip(), "envsub 100%")

    def test_environment_file_value_not_shown(self):
        self.write("secret.env", f"SECRET_TOKEN={SECRET}\nPLAIN=visible\n", 0o600)
        self.run_ok("secret")
        self.assertEqual(read_file(f"{self.d}/secret.out", "").strip(), f"{SECRET} visible")
        for args in (("--json", "status"), ("status",), ("--json", "status", "secret"),
                     ("--json", "history"), ("history",)):
            r = self.ctl(*args, check=0)
            self.assertNotIn(SECRET, r.stdout + r.stderr,
                             f"supctl {' '.join(args)} shows the environment_file value")
        rep = self.request({"cmd": "status"})
        self.assertNotIn(SECRET, json.dumps(rep))

    def test_environment_file_read_when_run_starts(self):
        self.write("secret.env", "SECRET_TOKEN=first\n")
        self.run_ok("secret")
        self.assertEqual(read_file(f"{self.d}/secret.out", "").split()[0], "first")
        self.write("secret.env", "SECRET_TOKEN=second\n")
        self.run_ok("secret")
        self.assertEqual(read_file(f"{self.d}/secret.out", "").split()[0], "second")

    def test_directory(self):
        os.mkdir(f"{self.d}/wd")
        self.run_ok("wd")
        self.assertEqual(read_file(f"{self.d}/pwd.out", "").strip(),
                         os.path.realpath(f"{self.d}/wd"))

    def test_stdin_file(self):
        data = "".join(f"line {i}\n" for i in range(1000))
        self.write("in.txt", data)
        self.run_ok("in")
        self.assertEqual(read_file(f"{self.d}/in.out"), data)

    def test_stdin_defaults_to_null(self):
        # supd's own stdin is a pipe the test keeps open: a job reading it would hang
        self.run_ok("nullin")
        self.assertEqual(read_file(f"{self.d}/nullin.out"), "")

    def test_stdin_opened_when_run_starts(self):
        r = self.ctl("run", "late")
        self.assertNotEqual(r.returncode, 0, self.msg("stdin file does not exist yet", r))
        self.assertIn("created-later.txt", self.job("late")["error"] or "",
                      "the error names the stdin file")
        self.write("created-later.txt", "now it exists\n")
        self.run_ok("late")
        self.assertEqual(read_file(f"{self.d}/late.out"), "now it exists\n")

    def test_stdout_file_truncates(self):
        self.write("trunc.out", "old content\nthat is longer than the new\n")
        self.run_ok("trunc")
        self.assertEqual(read_file(f"{self.d}/trunc.out"), "new\n")

    def test_stdout_append(self):
        self.write("app.out", "first\n")
        self.run_ok("app")
        self.run_ok("app")
        self.assertEqual(read_file(f"{self.d}/app.out"), "first\nappended\nappended\n")

    def test_stderr_to_stdout(self):
        self.run_ok("merge")
        self.assertEqual(read_file(f"{self.d}/merge.out"), "to-out\nto-err\nto-out-again\n")

    def test_stderr_to_file(self):
        self.run_ok("split")
        self.assertEqual(read_file(f"{self.d}/split.out"), "to-out\n")
        self.assertEqual(read_file(f"{self.d}/split.err"), "to-err\n")

    def test_stdout_inherit(self):
        self.run_ok("inherit")
        self.assertIn("inherit-marker-4711", self.daemon_log(0),
                      "stdout = inherit writes to supd's stdout")

    def test_stdout_null(self):
        self.run_ok("devnull")
        self.assertNotIn("into-the-void", self.daemon_log(0))

    def test_shell_true(self):
        self.run_ok("shelljob")
        self.assertEqual(read_file(f"{self.d}/shell.out", "").strip(), "X2")

    def test_no_shell_by_default(self):
        self.run_ok("noshell")
        self.assertEqual(read_file(f"{self.d}/noshell.out", "").strip(), "$HOME > x",
                         "without shell = true, $ and > are plain argv characters")
        self.assertFalse(os.path.exists(f"{self.d}/x"))

    def test_percent_escape(self):
        self.run_ok("pct")
        self.assertEqual(read_file(f"{self.d}/pct.out", "").strip(), "100% pct")


@unittest.skipUnless(os.geteuid() == 0, "user = only applies when supd runs as root")
class UserTest(SupdCase):
    CONFIG = """
        [job:asnobody]
        command = sh -c 'id -u > {d}/pub/uid; id -g > {d}/pub/gid; id -G > {d}/pub/groups'
        user = nobody
        autostart = false
        """

    def test_runs_as_user(self):
        os.mkdir(f"{self.d}/pub")
        os.chmod(f"{self.d}/pub", 0o777)
        self.ctl("run", "asnobody", check=0)
        pw = pwd.getpwnam("nobody")
        self.assertEqual(read_file(f"{self.d}/pub/uid", "").strip(), str(pw.pw_uid))
        self.assertEqual(read_file(f"{self.d}/pub/gid", "").strip(), str(pw.pw_gid))
        groups = read_file(f"{self.d}/pub/groups", "").split()
        self.assertNotIn("0", groups, "root's supplementary groups leaked into the job")


if __name__ == "__main__":
    unittest.main(verbosity=2)
