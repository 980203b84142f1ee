# SPDX-License-Identifier: ISC
"""Requirements (SPEC §7) against careless config and reloads: a
requirement that a reload takes away while a dependent waits for it."""
from supdtest import SupdCase

POOL = """
        [job:p]
        instances = {n}
        ; p@0 is up, the others fail and wait in backoff
        command = sh -c 'test %i = 0 && exec sleep 1000; exit 1'
        restart = always
        restart_delay = 60s
        restart_max_delay = 60s
        autostart = false

        [job:a]
        command = sleep 1000
        autostart = false
        requires = p
        """


class ShrunkPoolTest(SupdCase):
    CONFIG = POOL.replace("{n}", "3")

    def test_removed_instances_no_longer_required(self):
        """A pool shrunk by reload: the instances removed are no longer
        requirements, so the dependent that waited for them starts; it
        does not go fatal because they ended stopped."""
        self.ctl("start", "p", check=0)
        self.wait_state("p@1", "backoff")
        self.wait_state("p@2", "backoff")
        self.wait_running("p@0")
        self.ctl("start", "a", check=0)
        self.assertEqual(self.job("a")["state"], "waiting")
        self.write_config(POOL.replace("{n}", "1"))
        self.ctl("reload", check=0)
        j = self.wait_state("a", "running", "fatal")
        self.assertEqual(j["state"], "running", self.msg(f"a: {j}"))
        self.assertNotIn("p@1", self.status())
