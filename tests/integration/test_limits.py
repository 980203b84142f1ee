# SPDX-License-Identifier: ISC
"""What a run is given besides its command (SPEC §8, issue 12): setrlimit
limits, umask, and the identity of `user =` (uid, gid, groups, HOME, USER,
LOGNAME, SHELL); limits supd cannot give and unknown users are refused
with a reason."""
import os
import pwd
import grp
import unittest

from supdtest import SupdCase, TempDirCase, read_file, IS_ROOT, NOBODY


def proc_limits(pid):
    """{"Max open files": ("512", "1024"), ...} from /proc/PID/limits."""
    out = {}
    for line in read_file(f"/proc/{pid}/limits", "").splitlines()[1:]:
        name, rest = line[:26].strip(), line[26:].split()
        out[name] = (rest[0], rest[1])
    return out


def status_field(text, field):
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].split()
    return None


def nr_open():
    with open("/proc/sys/fs/nr_open") as f:
        return int(f.read())


class LimitsTest(SupdCase):
    CONFIG = """
        [job:limited]
        command = sleep 300
        limit_nofile = 512:1024
        limit_core = 0
        limit_fsize = 10M
        limit_cpu = infinity
        limit_stack = 4M:infinity
        autostart = false

        [job:plain]
        command = sleep 300
        autostart = false

        [job:toomany]
        command = true
        limit_nofile = {toomany}
        autostart = false

        [job:masked]
        command = sh -c 'umask > {d}/umask.txt; echo made > {d}/made.txt'
        umask = 0027
        autostart = false

        [job:createdfile]
        command = echo from-the-job
        stdout = {d}/created.log
        umask = 0077
        autostart = false
        """

    def expand(self, text):
        return super().expand(text).replace("{toomany}", str(nr_open() + 1))

    def test_limits_in_proc(self):
        self.ctl("start", "limited", check=0)
        pid = self.wait_running("limited")["pid"]
        lim = proc_limits(pid)
        self.assertEqual(lim["Max open files"], ("512", "1024"), self.msg(str(lim)))
        self.assertEqual(lim["Max core file size"], ("0", "0"))
        self.assertEqual(lim["Max file size"], (str(10 << 20), str(10 << 20)))
        self.assertEqual(lim["Max cpu time"], ("unlimited", "unlimited"))
        self.assertEqual(lim["Max stack size"], (str(4 << 20), "unlimited"))

    def test_nofile_default_is_supd_start_limit(self):
        """supd raises its own fd limit; a job without limit_nofile gets
        the one supd was started with, not supd's raised one."""
        self.ctl("start", "plain", check=0)
        pid = self.wait_running("plain")["pid"]
        job = proc_limits(pid)["Max open files"]
        mine = proc_limits(os.getpid())["Max open files"]
        self.assertEqual(job, mine, "the job's fd limit is the one supd started with")

    def test_limit_above_nr_open_is_fatal(self):
        r = self.ctl("run", "toomany")
        self.assertNotEqual(r.returncode, 0, self.msg("", r))
        j = self.job("toomany")
        self.assertEqual(j["state"], "fatal", self.msg(str(j)))
        self.assertEqual(j["error"], f"limit_nofile {nr_open() + 1} is above fs.nr_open ({nr_open()})")

    def test_umask(self):
        self.ctl("run", "masked", check=0)
        self.assertEqual(read_file(f"{self.d}/umask.txt", "").strip(), "0027")
        self.assertEqual(os.stat(f"{self.d}/made.txt").st_mode & 0o777, 0o640)

    def test_umask_of_files_supd_creates(self):
        self.ctl("run", "createdfile", check=0)
        self.assertEqual(read_file(f"{self.d}/created.log"), "from-the-job\n")
        self.assertEqual(os.stat(f"{self.d}/created.log").st_mode & 0o777, 0o600)


@unittest.skipUnless(IS_ROOT, "user = needs root")
class IdentityTest(SupdCase):
    CONFIG = """
        [job:asnobody]
        command = sh -c 'cat /proc/self/status > {d}/pub/status; env > {d}/pub/env'
        user = nobody
        autostart = false

        [job:numeric]
        command = sh -c 'cat /proc/self/status > {d}/pub/numeric'
        user = 65534
        group = 0
        autostart = false

        [job:override]
        command = sh -c 'echo "$HOME $USER" > {d}/pub/override'
        user = nobody
        environment = HOME=/srv/elsewhere
        autostart = false

        [job:asroot]
        command = sh -c 'env > {d}/pub/rootenv'
        autostart = false
        """

    def setUp(self):
        super().setUp()
        os.mkdir(f"{self.d}/pub")
        os.chmod(f"{self.d}/pub", 0o777)

    def test_nobody(self):
        self.ctl("run", "asnobody", check=0)
        pw = pwd.getpwnam("nobody")
        status = read_file(f"{self.d}/pub/status", "")
        self.assertEqual(status_field(status, "Uid"), [str(pw.pw_uid)] * 4)
        self.assertEqual(status_field(status, "Gid"), [str(pw.pw_gid)] * 4)
        want = sorted({pw.pw_gid, *os.getgrouplist("nobody", pw.pw_gid)})
        got = sorted(int(g) for g in status_field(status, "Groups"))
        self.assertEqual(got, want, "the groups getgrouplist() gives, and no group of root's")
        env = dict(l.split("=", 1) for l in read_file(f"{self.d}/pub/env", "").splitlines() if "=" in l)
        self.assertEqual(env.get("HOME"), pw.pw_dir)
        self.assertEqual(env.get("USER"), "nobody")
        self.assertEqual(env.get("LOGNAME"), "nobody")
        self.assertEqual(env.get("SHELL"), pw.pw_shell)

    def test_numbers(self):
        self.ctl("run", "numeric", check=0)
        status = read_file(f"{self.d}/pub/numeric", "")
        self.assertEqual(status_field(status, "Uid"), [str(NOBODY)] * 4)
        self.assertEqual(status_field(status, "Gid"), ["0"] * 4, "group = 0 is the job's group")
        want = sorted({0, *os.getgrouplist(pwd.getpwuid(NOBODY).pw_name, 0)})
        self.assertEqual(sorted(int(g) for g in status_field(status, "Groups")), want)

    def test_environment_overrides_passwd(self):
        self.ctl("run", "override", check=0)
        self.assertEqual(read_file(f"{self.d}/pub/override", "").strip(), "/srv/elsewhere nobody")

    def test_no_user_no_passwd_variables(self):
        """A job without user = keeps supd's own HOME (none set here)."""
        self.ctl("run", "asroot", check=0)
        env = dict(l.split("=", 1) for l in read_file(f"{self.d}/pub/rootenv", "").splitlines() if "=" in l)
        self.assertEqual(env.get("HOME"), os.environ.get("HOME"))
        self.assertEqual(env.get("LOGNAME"), os.environ.get("LOGNAME"))


class UnknownIdentityTest(TempDirCase):
    """Users and groups are looked up when the config is loaded."""

    def test_unknown_user_and_group_with_file_and_line(self):
        path = self.write("supd.conf", "[job:a]\n"               # 1
                                       "command = true\n"        # 2
                                       "user = no-such-user-supd\n"   # 3
                                       "[job:b]\n"               # 4
                                       "command = true\n"        # 5
                                       "user = nobody\n"         # 6
                                       "group = no-such-group-supd\n"  # 7
                                       "[job:c]\n"               # 8
                                       "command = true\n"        # 9
                                       "user = 4000000000\n")    # 10
        r = self.supd_run("--check", "-c", path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"{path}:3: unknown user: no-such-user-supd", r.stderr)
        self.assertIn(f"{path}:7: unknown group: no-such-group-supd", r.stderr)
        self.assertIn(f"{path}:10: unknown user: 4000000000", r.stderr)

    def test_known_by_number(self):
        path = self.write("supd.conf", f"[job:a]\ncommand = true\nuser = {NOBODY}\ngroup = 0\n")
        r = self.supd_run("--check", "-c", path)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
