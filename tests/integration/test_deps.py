# SPDX-License-Identifier: ISC
"""Requirements between jobs (SPEC §7, requires =): start order, pulling in,
waiting without a slot, failure propagation, dependents stopped first,
restart of dependents, shutdown in reverse order, reload of a graph,
wait --up, supctl deps and the status table's HEALTH and STATUS.

All jobs here are ready = spawn (up when spawned); the readiness kinds are
the next step's."""
import json
import os
import signal
import time

from supdtest import SupdCase, T_LONG, parse_time, wait_for

# A service that takes 0.2 s to stop: stop order shows in ended_at.
SLOW_STOP = "sh -c 'trap \"sleep 0.2; exit 0\" TERM; while :; do sleep 0.1; done'"


def chain(names, command="sleep 1000", extra=""):
    """Each job requiring the one before it."""
    out, prev = [], None
    for n in names:
        out.append(f"[job:{n}]\ncommand = {command}\nautostart = false\nrestart = always\n{extra}")
        if prev:
            out[-1] += f"requires = {prev}\n"
        prev = n
    return "\n".join(out)


class StartOrderTest(SupdCase):
    CONFIG = chain(["a", "b", "c"]) + """
        [job:base]
        command = sleep 1000
        autostart = false

        [job:left]
        command = sleep 1000
        autostart = false
        requires = base

        [job:right]
        command = sleep 1000
        autostart = false
        requires = base:started

        [job:top]
        command = sleep 1000
        autostart = false
        requires = left right
        """

    def started(self, *names):
        st = self.status(*names)
        return {n: parse_time(st[n]["started_at"]) for n in names}

    def test_chain_starts_in_order(self):
        self.ctl("start", "c", check=0)
        self.ctl("wait", "--up", "--timeout", "20s", "c", check=0)
        t = self.started("a", "b", "c")
        self.assertLess(t["a"], t["b"])
        self.assertLess(t["b"], t["c"])
        for n in "abc":
            self.assertEqual(self.job(n)["state"], "running")
            self.assertIs(self.job(n)["ready"], True)
            self.assertEqual(self.job(n)["waiting_for"], [])

    def test_diamond_starts_base_first_top_last(self):
        self.ctl("start", "top", check=0)
        self.ctl("wait", "--up", "top", "left", "right", "base", check=0)
        t = self.started("base", "left", "right", "top")
        self.assertLess(t["base"], t["left"])
        self.assertLess(t["base"], t["right"])
        self.assertLess(t["left"], t["top"])
        self.assertLess(t["right"], t["top"])
        # base was started once although two jobs require it
        self.assertEqual(self.job("base")["run"], min(j["run"] for j in self.status().values()
                                                     if j["run"]))
        self.assertEqual(len([r for r in self.history("base")]), 0)   # still running

    def test_deps_tree(self):
        self.ctl("start", "top", check=0)
        self.ctl("wait", "--up", "top", check=0)
        r = self.ctl("deps", "top", check=0)
        self.assertEqual(r.stdout.splitlines(), [
            "top (running)",
            "├─left:up (running)",
            "│ └─base:up (running)",
            "└─right:up (running)",
            "  └─base:started (running)",
        ], self.msg("", r))
        # alone: the tops are the jobs nothing requires
        r = self.ctl("deps", check=0)
        tops = [l for l in r.stdout.splitlines() if not l.startswith(("├", "└", "│", " "))]
        self.assertEqual(sorted(tops), ["c (stopped)", "top (running)"], self.msg("", r))
        js = json.loads(self.ctl("--json", "deps", "c", check=0).stdout)
        self.assertEqual(js[0]["name"], "c")
        self.assertEqual(js[0]["requires"][0]["name"], "b")
        self.assertEqual(js[0]["requires"][0]["cond"], "up")
        self.assertEqual(js[0]["requires"][0]["requires"][0]["state"], "stopped")


class ExitedRequirementTest(SupdCase):
    CONFIG = """
        [job:migrate]
        command = sh -c 'sleep 0.5; echo migrated'
        autostart = false

        [job:web]
        command = sleep 1000
        autostart = false
        requires = migrate:exited

        [job:badmig]
        command = sh -c 'sleep 0.3; exit 3'
        autostart = false

        [job:app]
        command = sleep 1000
        autostart = false
        requires = badmig:exited

        [job:nothere]
        command = /nonexistent/prog
        autostart = false

        [job:app2]
        command = sleep 1000
        autostart = false
        requires = nothere
        """

    def test_migration_runs_before_the_service_and_not_again(self):
        self.ctl("start", "web", check=0)
        web = self.job("web")
        self.assertEqual(web["state"], "waiting")
        self.assertEqual(web["waiting_for"], ["migrate"])
        self.assertIsNone(web["pid"])
        r = self.ctl("status", "web", check=0, env={"COLUMNS": "200"})
        self.assertIn("waiting for migrate", r.stdout, self.msg("STATUS column", r))
        self.ctl("wait", "--up", "web", check=0)
        mig = self.job("migrate")
        self.assertEqual(mig["state"], "exited")
        self.assertLess(parse_time(mig["ended_at"]), parse_time(self.job("web")["started_at"]))
        # a later start: the migration that exited meets :exited, it is not run again
        self.ctl("stop", "web", check=0)
        self.ctl("start", "web", check=0)
        self.ctl("wait", "--up", "web", check=0)
        self.assertEqual(self.job("migrate")["run"], mig["run"])

    def test_failed_requirement_propagates(self):
        self.ctl("start", "app", check=0)
        self.assertEqual(self.job("app")["state"], "waiting")
        r = self.ctl("wait", "app", check=1)
        self.assertIn("requirement badmig failed", r.stderr, self.msg("", r))
        app = self.job("app")
        self.assertEqual(app["state"], "fatal")
        self.assertEqual(app["error"], "requirement badmig failed")
        self.assertIsNone(app["run"])      # it never ran
        self.assertEqual(self.job("badmig")["state"], "failed")
        self.ctl("wait", "--up", "app", check=1)
        # a later start tries again (and the failed requirement runs again)
        before = self.job("badmig")["run"]
        self.ctl("start", "app", check=0)
        self.assertGreater(self.job("badmig")["run"], before)
        self.ctl("wait", "app", check=1)

    def test_start_exits_1_when_already_fatal(self):
        r = self.ctl("start", "app2", check=1)
        self.assertIn("requirement nothere failed", r.stderr, self.msg("", r))
        self.assertEqual(self.job("nothere")["state"], "fatal")
        self.ctl("run", "app2", check=1)


class NoSlotWhileWaitingTest(SupdCase):
    SUPD_EXTRA = "max_parallel = 1\n"
    CONFIG = """
        [job:gate]
        command = sleep 1
        restart = on-failure
        autostart = false

        [job:w]
        command = true
        autostart = false
        requires = gate:exited

        [job:other]
        command = sleep 0.3
        autostart = false
        """

    def test_waiting_holds_no_slot(self):
        self.ctl("start", "w", check=0)
        self.assertEqual(self.job("w")["state"], "waiting")
        self.assertEqual(self.job("gate")["state"], "running")   # a service: no slot
        self.ctl("start", "other", check=0)
        self.assertEqual(self.job("other")["state"], "running", "the one slot was free")
        self.assertEqual(self.job("w")["state"], "waiting")
        self.ctl("wait", "w", "other", check=0)
        w = self.job("w")
        self.assertEqual(w["state"], "exited")
        self.assertLessEqual(parse_time(self.job("gate")["ended_at"]), parse_time(w["started_at"]))


class StopOrderTest(SupdCase):
    CONFIG = chain(["a", "b", "c"], SLOW_STOP) + """
        [job:side]
        command = sleep 1000
        autostart = false
        requires = a:exited
        """

    def start_all(self):
        self.ctl("start", "c", "side", check=0)
        self.ctl("wait", "--up", "a", "b", "c", check=0)

    def test_stop_stops_dependents_first_and_names_them(self):
        self.start_all()
        r = self.ctl("stop", "a", check=0)
        self.assertEqual(sorted(r.stdout.split("\n")[:-1]), ["stopped a", "stopped b", "stopped c"],
                         self.msg("", r))
        st = self.status("a", "b", "c")
        for n in "abc":
            self.assertEqual(st[n]["state"], "stopped")
        ends = {n: parse_time(st[n]["ended_at"]) for n in "abc"}
        self.assertLess(ends["c"], ends["b"])
        self.assertLess(ends["b"], ends["a"])
        # :exited only orders the start: side is not stopped, but a stopped
        # a can never meet :exited, so it fails
        side = self.job("side")
        self.assertEqual(side["state"], "fatal")
        self.assertEqual(side["error"], "requirement a failed")

    def test_start_while_stop_is_held(self):
        self.start_all()
        a = self.job("a")
        self.ctl("stop", "--no-wait", "a", check=0)
        self.assertEqual(self.job("c")["state"], "stopping")
        self.assertEqual(self.job("a")["state"], "running", "signalled only after its dependents")
        self.ctl("start", "a", check=0)     # a start wins over the stop still held
        self.wait_state("b", "stopped")
        self.wait_state("c", "stopped")
        time.sleep(0.3)
        self.assertEqual(self.job("a")["state"], "running")
        self.assertEqual(self.job("a")["pid"], a["pid"])

    def test_stop_quiet(self):
        self.start_all()
        r = self.ctl("-q", "stop", "b", check=0)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.job("c")["state"], "stopped")
        self.assertEqual(self.job("a")["state"], "running")

    def test_requirement_ending_by_itself_leaves_dependents(self):
        self.start_all()
        b = self.job("b")
        os.kill(self.job("a")["pid"], signal.SIGKILL)   # a crashes; restart = always
        self.wait_job("a", lambda j: j["run"] != b["run"] and j["state"] == "running"
                      and j["restarts"] >= 1, what="restarted by its policy")
        self.assertEqual(self.job("b")["pid"], b["pid"])
        self.assertEqual(self.job("b")["state"], "running")

    def test_restart_restarts_dependents(self):
        self.start_all()
        before = self.status("a", "b", "c")
        self.ctl("restart", "a", check=0)
        self.ctl("wait", "--up", "a", "b", "c", check=0)
        after = self.status("a", "b", "c")
        for n in "abc":
            self.assertGreater(after[n]["run"], before[n]["run"], n)
        self.assertLess(parse_time(after["a"]["started_at"]), parse_time(after["b"]["started_at"]))
        self.assertLess(parse_time(after["b"]["started_at"]), parse_time(after["c"]["started_at"]))
        runs = {r["name"]: r for r in self.history("a", "b", "c")}
        self.assertLess(parse_time(runs["c"]["ended_at"]), parse_time(runs["a"]["ended_at"]))

    def test_shutdown_in_reverse_order(self):
        self.start_all()
        os.kill(self.supd_pid(), signal.SIGTERM)
        self.wait_daemon_exit()
        self.start_daemon()
        runs = {r["name"]: r for r in self.history("a", "b", "c")}
        ends = {n: parse_time(runs[n]["ended_at"]) for n in "abc"}
        self.assertLess(ends["c"], ends["b"])
        self.assertLess(ends["b"], ends["a"])


class WaitUpTest(SupdCase):
    CONFIG = chain(["a", "b"]) + """
        [job:dies]
        command = sh -c 'sleep 0.3; exit 1'
        autostart = false

        [job:after]
        command = sleep 1000
        autostart = false
        requires = dies:exited

        [job:never]
        command = sleep 1000
        autostart = false
        requires = gated:exited

        [job:gated]
        command = sleep 1000
        autostart = false
        restart = on-failure
        """

    def test_wait_up(self):
        self.ctl("start", "b", check=0)
        self.ctl("wait", "--up", "a", "b", check=0)
        self.ctl("start", "after", check=0)
        r = self.ctl("wait", "--up", "after", check=1)
        self.assertIn("requirement dies failed", r.stderr)
        self.ctl("start", "never", check=0)
        t0 = time.monotonic()
        r = self.ctl("wait", "--up", "--timeout", "300ms", "never", check=124)
        self.assertIn("never", r.stderr)
        self.assertLess(time.monotonic() - t0, T_LONG)
        self.ctl("wait", "--up", "never", "b", "--timeout", "300ms", check=124)


class TemplateRequirementTest(SupdCase):
    CONFIG = """
        [job:prep@]
        command = sh -c 'echo prepared %i'

        [job:work@]
        command = sleep 1000
        requires = prep@%i:exited
        """

    def test_instance_is_made_and_run_first(self):
        self.ctl("start", "work@x1", check=0)
        self.ctl("wait", "--up", "work@x1", check=0)
        prep = self.job("prep@x1")
        self.assertEqual(prep["state"], "exited")
        self.assertLess(parse_time(prep["ended_at"]), parse_time(self.job("work@x1")["started_at"]))
        r = self.ctl("logs", "prep@x1", check=0)
        self.assertIn("prepared x1", r.stdout)


class StatusColumnsTest(SupdCase):
    CONFIG = """
        [job:svc]
        command = sleep 1000

        [job:checked]
        command = sleep 1000
        autostart = false
        health_command = true

        [job:longname]
        command = sleep 1000
        autostart = false
        requires = svc gate:exited

        [job:gate]
        command = sleep 1000
        autostart = false
        restart = on-failure
        """

    def test_health_and_status_columns(self):
        self.wait_running("svc")
        j = self.job("svc")
        self.assertIsNone(j["health"])
        self.assertIsNone(j["status_text"])
        self.assertIn(self.job("checked")["health"], ("unknown", "healthy", "unhealthy"))
        self.ctl("start", "longname", check=0)
        r = self.ctl("status", check=0, env={"COLUMNS": "200"})
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "STATE", "PID", "SINCE", "EXIT", "RESTARTS", "HEALTH",
                                            "STATUS"])
        row = [l for l in lines if l.startswith("longname")][0]
        self.assertTrue(row.endswith("waiting for gate"), self.msg(row, r))
        svc_row = [l for l in lines if l.startswith("svc")][0]
        self.assertTrue(svc_row.endswith(" -"), self.msg("no trailing blanks after an empty STATUS", r))
        self.assertIn(" - ", row)
        # the last column is cut to the width
        r = self.ctl("status", "longname", check=0, env={"COLUMNS": "70"})
        for l in r.stdout.splitlines():
            self.assertLessEqual(len(l), 70, self.msg(l, r))
        self.assertNotIn("waiting for gate", r.stdout)
        self.assertIn("waiting", r.stdout.splitlines()[1].split()[1])
        # the history record has none of the live fields
        self.ctl("stop", "svc", check=0)
        rec = self.history("svc")[-1]
        for k in ("ready", "health", "status_text", "waiting_for"):
            self.assertNotIn(k, rec)


class GraphReloadTest(SupdCase):
    CONFIG = """
        [job:a]
        command = sleep 1000

        [job:c]
        command = sleep 1000
        autostart = false

        [job:b]
        command = sleep 1000
        requires = a
        """

    def test_bad_graph_changes_nothing(self):
        self.wait_running("b")
        pids = {n: self.job(n)["pid"] for n in "ab"}
        self.write_config(self.CONFIG.replace("requires = a", "requires = b") + """
            [job:new]
            command = sleep 1000
            requires = ghost
            """)
        r = self.ctl("reload", check=1)
        self.assertRegex(r.stderr, r"supd\.conf:\d+: dependency cycle: b -> b")
        self.assertRegex(r.stderr, r"supd\.conf:\d+: requires ghost: unknown job")
        self.assertNotIn("new", self.status())
        self.assertEqual({n: self.job(n)["pid"] for n in "ab"}, pids)
        r = self.supd_run("--check", "-c", self.conf)
        self.assertEqual(r.returncode, 1)
        self.assertIn("dependency cycle: b -> b", r.stdout + r.stderr)

    def test_changed_requires_applies_at_next_start(self):
        self.wait_running("b")
        pid = self.job("b")["pid"]
        self.write_config(self.CONFIG.replace("requires = a", "requires = c"))
        r = self.ctl("reload", check=0)
        self.assertIn("b", r.stdout)
        self.assertEqual(self.job("b")["pid"], pid, "a changed requires does not restart b")
        self.assertEqual(self.job("c")["state"], "stopped")
        # the running run still requires a: stopping a stops b
        self.ctl("stop", "a", check=0)
        self.assertEqual(self.job("b")["state"], "stopped")
        # its next start requires c, not a
        self.ctl("start", "b", check=0)
        self.ctl("wait", "--up", "b", check=0)
        self.assertEqual(self.job("c")["state"], "running")
        self.assertEqual(self.job("a")["state"], "stopped")

    def test_waiting_job_rechecked_on_reload(self):
        self.write_config(self.CONFIG + """
            [job:w]
            command = sleep 1000
            autostart = false
            requires = gate:exited

            [job:gate]
            command = sleep 1000
            autostart = false
            restart = on-failure
            """)
        self.ctl("reload", check=0)
        self.ctl("start", "w", check=0)
        self.assertEqual(self.job("w")["state"], "waiting")
        # w no longer requires gate: it starts at once
        self.write_config(self.CONFIG + """
            [job:w]
            command = sleep 1000
            autostart = false
            requires = a

            [job:gate]
            command = sleep 1000
            autostart = false
            restart = on-failure
            """)
        self.ctl("reload", check=0)
        self.wait_running("w")


class ReloadRestartsDependentsTest(SupdCase):
    CONFIG = chain(["a", "b"], SLOW_STOP)

    def test_changed_requirement_restarts_its_dependents(self):
        self.ctl("start", "b", check=0)
        self.ctl("wait", "--up", "b", check=0)
        before = self.status("a", "b")
        self.write_config(chain(["a", "b"], SLOW_STOP, "stop_timeout = 9s\n"))
        self.ctl("reload", check=0)
        self.wait_job("b", lambda j: j["run"] > before["b"]["run"] and j["state"] == "running",
                      what="started again")
        after = self.status("a", "b")
        self.assertGreater(after["a"]["run"], before["a"]["run"])
        self.assertLess(parse_time(after["a"]["started_at"]), parse_time(after["b"]["started_at"]))
        runs = {r["name"]: r for r in self.history("a", "b")}
        self.assertLess(parse_time(runs["b"]["ended_at"]), parse_time(runs["a"]["ended_at"]))


class SystemdStopStepsTest(SupdCase):
    """Under systemd: EXTEND_TIMEOUT_USEC with each shutdown step, and
    STATUS= counts waiting jobs."""
    START_DAEMON = False
    CONFIG = chain(["a", "b", "c"], SLOW_STOP.replace("sleep 0.2", "sleep 1.3"), "stop_timeout = 2s\n") + """
        [job:w]
        command = sleep 1000
        autostart = false
        stop_timeout = 2s
        requires = gate:exited

        [job:gate]
        command = sleep 1000
        autostart = false
        stop_timeout = 2s
        restart = on-failure
        """

    def test_extend_timeout_per_step(self):
        from test_systemd import NotifyListener
        path = os.path.join(self.d, "notify")
        lst = NotifyListener(path)
        self.addCleanup(lst.close)
        self.start_daemon(env={"NOTIFY_SOCKET": path})
        self.ctl("start", "c", "w", check=0)
        self.ctl("wait", "--up", "c", check=0)
        self.assertIsNotNone(lst.wait(lambda m: "1 waiting" in m["fields"].get("STATUS", "")),
                             "STATUS= does not count the waiting job")
        n = len(lst.snapshot())
        os.kill(self.supd_pid(), signal.SIGTERM)
        self.wait_daemon_exit()
        ext = [m for m in lst.snapshot()[n:] if "EXTEND_TIMEOUT_USEC" in m["fields"]]
        # one for each step: c (and gate), then b, then a, each 1.3 s apart;
        # stop_timeout 2 s and 5 s more
        self.assertEqual(len(ext), 3, [m["text"] for m in lst.snapshot()[n:]])
        for m in ext:
            self.assertEqual(m["fields"]["EXTEND_TIMEOUT_USEC"], str(7 * 1000000))
        self.assertGreater(ext[1]["t"] - ext[0]["t"], 1.0)
        self.assertGreater(ext[2]["t"] - ext[1]["t"], 1.0)


class ReadyTimeoutTest(SupdCase):
    """A run that never becomes ready (ready = notify without READY=1) is
    starting, then ended as failed at ready_timeout, whatever its exit."""
    CONFIG = """
        [job:silent]
        command = sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
        autostart = false
        ready = notify
        ready_timeout = 500ms

        [job:again]
        command = sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
        autostart = false
        ready = notify
        ready_timeout = 300ms
        restart = on-failure
        restart_delay = 100ms

        [job:after]
        command = sleep 1000
        autostart = false
        requires = silent:started
        """

    def test_not_ready_within(self):
        self.ctl("start", "silent", check=0)
        j = self.job("silent")
        self.assertEqual(j["state"], "starting")
        self.assertIsInstance(j["pid"], int)
        self.assertIs(j["ready"], False)
        r = self.ctl("wait", "silent", check=1)     # it exited 0: 1, not 0
        self.assertIn("not ready within 500ms", r.stderr, self.msg("", r))
        j = self.job("silent")
        self.assertEqual(j["state"], "failed")
        self.assertEqual(j["exit_code"], 0)
        self.assertEqual(j["error"], "not ready within 500ms")
        self.assertGreaterEqual(j["duration_s"], 0.45)
        rec = self.history("silent")[-1]
        self.assertEqual(rec["error"], "not ready within 500ms")
        self.ctl("run", "silent", check=1)

    def test_restart_policy_applies(self):
        self.ctl("start", "again", check=0)
        self.wait_job("again", lambda j: j["restarts"] >= 2, what="restarted twice")
        self.ctl("stop", "again", check=0)
        self.assertEqual(self.job("again")["state"], "stopped")

    def test_started_condition_holds_while_starting(self):
        self.ctl("start", "after", check=0)
        self.assertEqual(self.job("silent")["state"], "starting")
        self.wait_running("after")
        # wait --up: silent never gets up
        self.ctl("wait", "--up", "silent", check=1)
