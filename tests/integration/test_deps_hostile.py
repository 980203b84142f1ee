# SPDX-License-Identifier: ISC
"""Requirements (SPEC §7) against careless config and reloads: a
requirement that a reload takes away while a dependent waits for it; a
chain of 200,000 jobs pulled in by one start; the order requirements are
pulled in."""
from supdtest import SupdCase, T_LONG

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


CHAIN = 200_000


def long_chain(n):
    """j0 never gets ready (ready = notify from sleep), j1 .. jN-1 each
    requiring the one before it: a start of the last pulls in all n."""
    out = ["[job:j0]\ncommand = sleep 1000\nautostart = false\nready = notify\nready_timeout = 1h\n"]
    out += [f"[job:j{i}]\ncommand = sleep 1000\nautostart = false\nrequires = j{i - 1}\n"
            for i in range(1, n)]
    return "\n".join(out)


class LongChainTest(SupdCase):
    """supd walked the requirements of a start by recursion: some 170,000
    jobs in a chain overflowed its stack (SIGSEGV)."""
    CONFIG = long_chain(CHAIN)
    SUPD_EXTRA = "max_parallel = 0\ncgroup = off\n"

    def test_start_pulls_in_the_whole_chain(self):
        last = f"j{CHAIN - 1}"
        self.ctl("start", last, check=0, timeout=T_LONG)
        self.assertAlive()
        st = self.status("j0", "j1", f"j{CHAIN // 2}", last)
        self.assertEqual(st["j0"]["state"], "starting")
        for n in ("j1", f"j{CHAIN // 2}", last):
            self.assertEqual(st[n]["state"], "waiting", self.msg(f"{n}: {st[n]}"))
        self.assertEqual(st[last]["waiting_for"], [f"j{CHAIN - 2}"])
        self.assertEqual(self.stop_daemon(), 0)   # shutdown: dependents first, no recursion either


class PullOrderTest(SupdCase):
    """The jobs a start pulls in are started deepest first, in the order the
    requirements are written, each once: run numbers show the order."""
    CONFIG = """
        [job:base]
        command = sleep 1000
        autostart = false

        [job:left]
        command = sleep 1000
        autostart = false
        requires = base

        [job:other]
        command = sleep 1000
        autostart = false

        [job:right]
        command = sleep 1000
        autostart = false
        requires = other base

        [job:top]
        command = sleep 1000
        autostart = false
        requires = left right other
        """

    def test_depth_first_in_written_order(self):
        self.ctl("start", "top", check=0)
        self.ctl("wait", "--up", "top", check=0)
        runs = {n: j["run"] for n, j in self.status().items()}
        order = sorted(runs, key=runs.get)
        self.assertEqual(order, ["base", "left", "other", "right", "top"], self.msg(f"runs {runs}"))
