# SPDX-License-Identifier: ISC
"""SPEC §8 against a hostile job user: with `delegate = true` the run's
cgroup belongs to the job's user (nobody here), who may make sub-cgroups
of any name and depth below it. Whatever the user makes, stop_signal
reaches every process of the run, and the run's cgroup is removed when
the run ends, even while a process of that user outside the run keeps
making sub-cgroups in it. Skipped as test_cgroup is (root and a cgroup v2
hierarchy)."""
import os
import pwd
import subprocess
import sys
import unittest

from supdtest import T_LONG, T_SHORT, read_file, wait_for
from test_cgroup import MOUNT, SKIP, CgroupCase

# A process that leaves the run's process group (setsid) into the
# sub-cgroup $SUB of the run's cgroup, says TERM in {d}/NAME.term when it
# gets SIGTERM, and is there once {d}/NAME.pid holds its pid. Only a
# signal sent through the cgroup can reach it.
HIDER = ('setsid sh -c "echo \\$\\$ > \\$0/cgroup.procs; trap \\"echo TERM > {d}/NAME.term; exit 0\\" TERM; '
         'echo \\$\\$ > {d}/NAME.pid; while :; do sleep 0.1; done" "$SUB" &')


def hider(name):
    return HIDER.replace("NAME", name)


@unittest.skipIf(SKIP, SKIP)
class DelegatedHostileTest(CgroupCase):
    CONFIG = """
        [job:dot]
        ; a sub-cgroup whose name starts with a dot
        command = sh -c 'cg={mount}$(sed -n "s/^0:://p" /proc/self/cgroup); SUB=$cg/.hidden; mkdir $SUB; """ + \
        hider("dot") + """ exec sleep 300'
        user = nobody
        delegate = true
        stop_timeout = 5s
        autostart = false

        [job:deep]
        ; sub-cgroups 40 deep (as deep as the kernel lets it), the process at the bottom
        command = sh -c 'cg={mount}$(sed -n "s/^0:://p" /proc/self/cgroup); SUB=$cg; n=0; while [ $n -lt 40 ] && mkdir $SUB/d; do SUB=$SUB/d; n=$((n+1)); done; echo $n > {d}/deep.depth; """ + \
        hider("deep") + """ exec sleep 300'
        user = nobody
        delegate = true
        stop_timeout = 5s
        autostart = false
        """

    def expand(self, text):
        return super().expand(text).replace("{mount}", MOUNT)

    def setUp(self):
        super().setUp()
        for f in ("dot.pid", "dot.term", "deep.pid", "deep.term", "deep.depth"):
            self.write(f, "", 0o666)   # the job runs as nobody

    def stop_reaches(self, job):
        self.ctl("start", job, check=0)
        self.wait_running(job)
        self.escapee(f"{job}.pid")
        self.ctl("stop", job, check=0)
        term = os.path.join(self.d, f"{job}.term")
        self.assertTrue(wait_for(lambda: (read_file(term) or "").strip() == "TERM", T_SHORT),
                        "stop_signal reached the process in the hidden sub-cgroup")
        self.wait_state(job, "stopped")
        self.assertTrue(wait_for(lambda: self.run_dirs(job) == [], T_SHORT),
                        f"the run's cgroup is removed: {self.run_dirs(job)}")

    def test_dot_named_subcgroup(self):
        self.stop_reaches("dot")

    def test_depth_bounded(self):
        """supd walks 32 levels below a run's cgroup: a delegated one is
        limited to that (cgroup.max.depth, which the user cannot raise)."""
        self.stop_reaches("deep")
        depth = int(read_file(os.path.join(self.d, "deep.depth")).strip())
        self.assertEqual(depth, 32, "mkdir below 32 levels fails")


# A process of the job's user outside the run (another job of nobody, a
# login): makes sub-cgroups in the run's cgroup ($1) as fast as it can,
# until it may not any more.
BURROWER = r"""
import errno, os, sys
run, n = sys.argv[1], 0
while True:
    try:
        os.mkdir(f"{run}/b/{n}")
        n += 1
    except FileExistsError:
        n += 1
    except FileNotFoundError:
        try:
            os.mkdir(f"{run}/b")
        except FileExistsError:
            pass
        except OSError:
            break
    except OSError:
        break
"""


@unittest.skipIf(SKIP, SKIP)
class DelegatedTakenBackTest(CgroupCase):
    CONFIG = """
        [job:burrow]
        command = sh -c 'echo {mount}$(sed -n "s/^0:://p" /proc/self/cgroup) > {d}/burrow.cg; exec sleep 300'
        user = nobody
        delegate = true
        stop_timeout = 5s
        autostart = false
        """

    def expand(self, text):
        return super().expand(text).replace("{mount}", MOUNT)

    def test_removed_while_the_user_makes_subcgroups(self):
        """When the run ends the cgroup is root's again before supd removes
        it: a process of nobody elsewhere cannot keep it (or a sub-cgroup)
        from going by making sub-cgroups faster than the walk removes them."""
        self.write("burrow.cg", "", 0o666)
        self.ctl("start", "burrow", check=0)
        self.wait_running("burrow")
        self.assertTrue(wait_for(lambda: (read_file(os.path.join(self.d, "burrow.cg")) or "").strip(), T_SHORT))
        run = read_file(os.path.join(self.d, "burrow.cg")).strip()
        self.assertEqual(os.stat(run).st_uid, pwd.getpwnam("nobody").pw_uid)
        pw = pwd.getpwnam("nobody")
        b = subprocess.Popen(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
                              sys.executable, "-c", BURROWER, run], stdin=subprocess.DEVNULL)
        self.addCleanup(lambda: (b.kill(), b.wait()))
        self.assertTrue(wait_for(lambda: os.path.isdir(os.path.join(run, "b", "100")), T_SHORT),
                        "the burrower makes sub-cgroups")
        self.ctl("stop", "burrow", check=0)
        self.wait_state("burrow", "stopped")
        self.assertTrue(wait_for(lambda: not os.path.exists(run), T_SHORT),
                        f"the run's cgroup is removed: {self.run_dirs('burrow')}")
        # the burrower gave up: it may not make a cgroup where there is none
        self.assertIsNotNone(wait_for(lambda: b.poll() is not None, T_SHORT), "the burrower stopped")
        self.assertNotIn("cannot remove cgroup", self.daemon_log(0))


@unittest.skipIf(SKIP, SKIP)
class DelegatedDescendantsTest(CgroupCase):
    """supd stops and removes a run's cgroups synchronously: a delegated
    user may make 1024 sub-cgroups at most (cgroup.max.descendants), and
    cannot raise that."""
    CONFIG = """
        [job:many]
        command = sh -c 'cg={mount}$(sed -n "s/^0:://p" /proc/self/cgroup); echo $cg > {d}/many.cg; n=0; while [ $n -lt 1100 ] && mkdir $cg/s$n 2>/dev/null; do n=$((n+1)); done; echo max > $cg/cgroup.max.descendants 2>/dev/null && echo raised > {d}/many.raised; mkdir $cg/s0/deeper 2>/dev/null && echo deeper >> {d}/many.raised; echo $n > {d}/many.n; exec sleep 300'
        user = nobody
        delegate = true
        autostart = false
        """

    def expand(self, text):
        return super().expand(text).replace("{mount}", MOUNT)

    def test_bounded(self):
        for f in ("many.cg", "many.n", "many.raised"):
            self.write(f, "", 0o666)
        self.ctl("start", "many", check=0)
        self.wait_running("many")
        n = os.path.join(self.d, "many.n")
        self.assertTrue(wait_for(lambda: (read_file(n) or "").strip(), T_LONG), "the job made its sub-cgroups")
        run = read_file(os.path.join(self.d, "many.cg")).strip()
        limit = os.path.join(run, "cgroup.max.descendants")
        self.assertEqual(read_file(limit).strip(), "1024")
        self.assertEqual(os.stat(limit).st_uid, os.geteuid(), "the limit stays supd's")
        self.assertEqual(int(read_file(n).strip()), 1024, "mkdir beyond 1024 sub-cgroups fails")
        self.assertEqual(read_file(os.path.join(self.d, "many.raised")), "", "the user cannot raise it")
        self.ctl("stop", "many", check=0)
        self.wait_state("many", "stopped")
        self.assertTrue(wait_for(lambda: not os.path.exists(run), T_SHORT), "all 1024 are removed")


if __name__ == "__main__":
    unittest.main()
