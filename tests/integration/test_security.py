# SPDX-License-Identifier: ISC
"""SPEC §11 robustness promises against a hostile local user: files a job
names are opened with no more privilege than the job's user has (§8
"Files"), and template arguments cannot inject anything into a command."""
import os
import pwd
import stat
import tempfile
import shutil
import unittest

from supdtest import SupdCase, read_file, NOBODY, IS_ROOT

SECRET = "root-only-secret-5b1f"
VICTIM = "victim: root's file, unchanged\n"


@unittest.skipUnless(IS_ROOT, "user = and other users' links need root")
class JobUserFilesTest(SupdCase):
    """A job running as nobody owns {d}/home; it swaps its own log, input or
    environment file for a link to a file only root may read or write."""
    CONFIG = """
        [job:out]
        command = echo from-the-job
        user = nobody
        stdout = {d}/home/out.log
        autostart = false

        [job:app]
        command = echo from-the-job
        user = nobody
        stdout = append:{d}/home/app.log
        autostart = false

        [job:err]
        command = sh -c 'echo from-the-job >&2'
        user = nobody
        stderr = append:{d}/home/err.log
        autostart = false

        [job:in]
        command = cat
        user = nobody
        stdin = {d}/home/in.txt
        stdout = {d}/home/in.copy
        autostart = false

        [job:envf]
        command = sh -c 'echo "$TOKEN" > {d}/home/env.copy'
        user = nobody
        environment_file = {d}/home/job.env
        autostart = false

        [job:asroot]
        command = echo written-by-root
        stdout = {d}/pub/shared.log
        autostart = false

        [job:fresh]
        command = echo fresh
        user = nobody
        stdout = {d}/pub/fresh.log
        autostart = false

        [job:fifo]
        command = cat
        stdin = {d}/pipe
        autostart = false

        [job:bigenv]
        command = true
        environment_file = {d}/big.env
        autostart = false
        """

    def setUp(self):
        super().setUp()
        self.home = os.path.join(self.d, "home")
        os.mkdir(self.home)
        os.chown(self.home, NOBODY, NOBODY)
        self.victim = self.write("victim", VICTIM, 0o644)
        self.rootonly = self.write("rootonly", f"{SECRET}\n", 0o600)
        self.rootonly_env = self.write("rootonly.env", f"TOKEN={SECRET}\n", 0o600)

    def plant_link(self, name, target, owner=NOBODY):
        """What the job's user does between two runs: its file becomes a link."""
        path = os.path.join(self.home, name)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
        os.lchown(path, owner, owner)
        return path

    def assert_refused(self, job, path_part):
        r = self.ctl("run", job)
        self.assertNotEqual(r.returncode, 0, self.msg(f"{job} ran through a planted link", r))
        j = self.job(job)
        self.assertIn(path_part, j["error"] or "", self.msg(f"{job}: the error names the file"))
        self.assertEqual(read_file(self.victim), VICTIM, "root's file was changed through the link")

    def test_stdout_truncate_through_link(self):
        self.plant_link("out.log", self.victim)
        self.assert_refused("out", "out.log")

    def test_stdout_append_through_link(self):
        self.plant_link("app.log", self.victim)
        self.assert_refused("app", "app.log")

    def test_stderr_append_through_link(self):
        self.plant_link("err.log", self.victim)
        self.assert_refused("err", "err.log")

    def test_stdin_through_link(self):
        self.plant_link("in.txt", self.rootonly)
        self.assert_refused("in", "in.txt")
        self.assertNotIn(SECRET, read_file(os.path.join(self.home, "in.copy"), ""))

    def test_environment_file_through_link(self):
        self.plant_link("job.env", self.rootonly_env)
        self.assert_refused("envf", "job.env")
        self.assertNotIn(SECRET, read_file(os.path.join(self.home, "env.copy"), ""))

    def test_directory_link_in_the_path(self):
        # the user's directory itself becomes a link to a root-only one
        secret_dir = os.path.join(self.d, "rootdir")
        os.mkdir(secret_dir, 0o700)
        with open(os.path.join(secret_dir, "in.txt"), "w") as f:
            f.write(SECRET + "\n")
        sub = self.plant_link("sub", secret_dir)
        self.write_config(self.CONFIG + f"""
            [job:viadir]
            command = cat
            user = nobody
            stdin = {sub}/in.txt
            stdout = {self.home}/viadir.copy
            autostart = false
            """)
        self.ctl("reload", check=0)
        r = self.ctl("run", "viadir")
        self.assertNotEqual(r.returncode, 0, self.msg("read a root-only file through a link", r))
        self.assertNotIn(SECRET, read_file(os.path.join(self.home, "viadir.copy"), ""))

    def test_proc_files_refused(self):
        # opened with root's other capabilities, /proc/kallsyms would show
        # kernel addresses, /proc/self supd's own memory map
        for target in ("/proc/kallsyms", "/proc/self/maps", f"/proc/{os.getpid()}/environ",
                       "/proc/self/status"):
            self.plant_link("in.txt", target)
            r = self.ctl("run", "in")
            self.assertNotEqual(r.returncode, 0, self.msg(f"stdin through a link to {target}", r))
            self.assertEqual(read_file(os.path.join(self.home, "in.copy"), ""), "")
        # one nobody may open itself: refused as a file of /proc
        self.assertIn("a file of /proc", self.job("in")["error"] or "")

    def test_dev_tty_refused(self):
        # /dev/tty is the opener's terminal: supd's, not the job's
        self.plant_link("out.log", "/dev/tty")
        r = self.ctl("run", "out")
        self.assertNotEqual(r.returncode, 0, self.msg("stdout through a link to /dev/tty", r))
        # without a terminal of its own supd gets ENXIO; with one, the check
        # of the device number refuses it
        err = self.job("out")["error"] or ""
        self.assertTrue("/dev/tty" in err or "No such device" in err, err)

    def test_search_permission_of_every_directory(self):
        # a 0644 file below a directory only root may enter: nobody cannot
        # read it itself, so not through supd either
        prot = os.path.join(self.d, "prot")
        os.makedirs(os.path.join(prot, "pub"))
        os.chmod(prot, 0o700)
        os.chmod(os.path.join(prot, "pub"), 0o755)
        with open(os.path.join(prot, "pub", "file"), "w") as f:
            f.write(SECRET + "\n")
        os.chmod(os.path.join(prot, "pub", "file"), 0o644)
        self.plant_link("in.txt", os.path.join(prot, "pub", "file"))
        r = self.ctl("run", "in")
        self.assertNotEqual(r.returncode, 0, self.msg("read below a directory nobody cannot search", r))
        self.assertNotIn(SECRET, read_file(os.path.join(self.home, "in.copy"), ""))

    def test_own_files_still_work(self):
        # no links: the job's user reads and writes its own files
        with open(os.path.join(self.home, "job.env"), "w") as f:
            f.write("TOKEN=mine\n")
        os.chown(os.path.join(self.home, "job.env"), NOBODY, NOBODY)
        self.ctl("run", "envf", check=0)
        self.assertEqual(read_file(os.path.join(self.home, "env.copy"), "").strip(), "mine")
        self.ctl("run", "app", check=0)
        self.ctl("run", "app", check=0)
        self.assertEqual(read_file(os.path.join(self.home, "app.log")), "from-the-job\n" * 2)
        # a link the job's user owns to its own file is followed
        self.write("mine.txt", "linked input\n")
        os.chown(os.path.join(self.d, "mine.txt"), NOBODY, NOBODY)
        self.plant_link("in.txt", os.path.join(self.d, "mine.txt"))
        self.ctl("run", "in", check=0)
        self.assertEqual(read_file(os.path.join(self.home, "in.copy")), "linked input\n")

    def test_file_created_for_the_user(self):
        pub = os.path.join(self.d, "pub")
        os.mkdir(pub)
        os.chmod(pub, 0o1777)
        self.ctl("run", "fresh", check=0)
        st = os.stat(os.path.join(pub, "fresh.log"))
        self.assertEqual((st.st_uid, st.st_gid), (NOBODY, pwd.getpwnam("nobody").pw_gid))
        self.assertEqual(stat.S_IMODE(st.st_mode) & 0o022, 0, "created writable by others")

    def test_root_job_ignores_another_users_link(self):
        # a job without user = runs as root; in a world-writable directory
        # nobody plants the link: root must not follow it
        pub = os.path.join(self.d, "pub")
        os.mkdir(pub)
        os.chmod(pub, 0o1777)
        link = os.path.join(pub, "shared.log")
        os.symlink(self.victim, link)
        os.lchown(link, NOBODY, NOBODY)
        r = self.ctl("run", "asroot")
        self.assertNotEqual(r.returncode, 0, self.msg("root followed nobody's link", r))
        self.assertIn("symbolic link", self.job("asroot")["error"] or "")
        self.assertEqual(read_file(self.victim), VICTIM)

    def test_fifo_is_refused_without_blocking(self):
        os.mkfifo(os.path.join(self.d, "pipe"))
        r = self.ctl("run", "fifo", timeout=20)
        self.assertNotEqual(r.returncode, 0, self.msg("a FIFO as stdin", r))
        self.assertIn("not a regular file", self.job("fifo")["error"] or "")
        self.ctl("status", check=0)    # and supd still answers

    def test_environment_file_bounded(self):
        with open(os.path.join(self.d, "big.env"), "w") as f:
            line = "K=" + "v" * 1000 + "\n"
            f.write(line * 1100)        # over 1 MiB
        self.ctl("run", "bigenv")
        self.assertIn("1 MiB", self.job("bigenv")["error"] or "")


@unittest.skipUnless(IS_ROOT, "user = needs root")
class TrustedPathTest(SupdCase):
    """A path only root could have changed is opened by supd itself: a
    root-only environment file and a log in a root-owned directory."""

    def setUp(self):
        # the test's own directory lies under /tmp (world-writable): the
        # trusted files go to a directory under / that only root can write
        self.trusted = tempfile.mkdtemp(prefix="supd-it-trusted-", dir="/var/cache")
        os.chmod(self.trusted, 0o755)
        self.addCleanup(shutil.rmtree, self.trusted, ignore_errors=True)
        with open(os.path.join(self.trusted, "job.env"), "w") as f:
            f.write(f"TOKEN={SECRET}\n")
        os.chmod(os.path.join(self.trusted, "job.env"), 0o600)
        self.CONFIG = f"""
            [job:envf]
            command = sh -c 'echo "$TOKEN" > {{d}}/pub/env.copy'
            user = nobody
            environment_file = {self.trusted}/job.env
            stdout = append:{self.trusted}/job.log
            autostart = false
            """
        super().setUp()

    def test_root_only_files_opened_by_supd(self):
        os.mkdir(os.path.join(self.d, "pub"))
        os.chmod(os.path.join(self.d, "pub"), 0o777)
        self.ctl("run", "envf", check=0)
        self.assertEqual(read_file(os.path.join(self.d, "pub", "env.copy"), "").strip(), SECRET)
        st = os.stat(os.path.join(self.trusted, "job.log"))
        self.assertEqual(st.st_uid, NOBODY, "the log supd created belongs to the job's user")


class TemplateArgumentTest(SupdCase):
    """SPEC §11: a template argument is inert wherever %i lands."""
    CONFIG = """
        [job:thumb@]
        command = sh -c 'echo %i > {d}/out/%i'
        autostart = false

        [job:shelly@]
        command = echo %i > {d}/out/sh-%i; echo %n >> {d}/out/sh-%i
        shell = true
        autostart = false

        [job:argv@]
        command = printf '%%s\\n' %i
        stdout = {d}/out/argv-%i
        autostart = false
        """
    HOSTILE = [
        "x;id>pwned;:", "$(touch pwned)", "`touch pwned`", "a|touch pwned", "a&touch pwned",
        "a<b", "a>pwned", "{a,b}", "a b", "a\tb", "-rf", "--help", ".", "..", "a/b",
        "a'b", 'a"b', "a\\b", "a*", "a?", "[ab]", "~root", "a#b", "a!b", "$HOME",
        "a\nb", "a%ib", "a^b", "a(b)", "x" * 201, "\x7f", "caf\udcc3", "\u009b2J",
    ]

    def setUp(self):
        super().setUp()
        os.mkdir(os.path.join(self.d, "out"))

    def test_hostile_arguments_refused(self):
        for arg in self.HOSTILE:
            for tmpl in ("thumb", "shelly"):
                name = f"{tmpl}@{arg}"
                try:
                    r = self.ctl("start", name)
                except ValueError:          # a lone surrogate cannot even be passed
                    continue
                self.assertEqual(r.returncode, 4, self.msg(f"start {name!r}", r))
                # a glob is a pattern, which matches no job
                why = "unknown job" if any(c in arg for c in "*?[") else "invalid instance name"
                self.assertIn(why, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.d, "pwned")))
        self.assertFalse(os.path.exists(os.path.join(self.d, "out", "pwned")))
        names = [j["name"] for j in self.status_list()]
        self.assertEqual([n for n in names if "@" in n], [], "a refused instance was created")
        self.ctl("status", check=0)

    def test_raw_request_refused(self):
        # the same rule on the socket, whatever supctl does
        for arg in ("x;id", "-x", "a b", "a\u00a0b\u0000"):
            rep = self.request({"cmd": "start", "jobs": [f"thumb@{arg}"]})
            self.assertFalse(rep["ok"], f"start thumb@{arg!r} over the socket")

    def test_allowed_arguments_work(self):
        for arg in ("a.b_c-d", "x+y,z=w:v@u", "caf\u00e9", "0"):
            self.ctl("run", f"thumb@{arg}", check=0)
            self.assertEqual(read_file(os.path.join(self.d, "out", arg), "").strip(), arg)

    def test_shell_true_quotes_the_argument(self):
        arg = "k=v,w:x+y@z"
        self.ctl("run", f"shelly@{arg}", check=0)
        self.assertEqual(read_file(os.path.join(self.d, "out", f"sh-{arg}"), ""),
                         f"{arg}\nshelly@{arg}\n")

    def test_argument_is_one_word(self):
        self.ctl("run", "argv@a=b,c", check=0)
        self.assertEqual(read_file(os.path.join(self.d, "out", "argv-a=b,c")), "a=b,c\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
