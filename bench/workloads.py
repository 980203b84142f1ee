# SPDX-License-Identifier: ISC
"""bench/run's workloads: one function per row of the benchmark table."""
import datetime
import os
import resource
import shutil
import signal
import sys
import time

from benchlib import *  # noqa: F401,F403 (the shared helpers and state)
from benchlib import PROCS

def w_spawn_true(ctx):
    n = ctx.size("true_n")
    res = Result("spawn-true", "%d × /bin/true, at most 2 at once, start → wait" % n, "s")
    names = ["t@%d" % i for i in range(1, n + 1)]
    seq = "".join("%d\n" % i for i in range(1, n + 1)).encode()
    cpu = []

    def supd():
        with Supd(ctx, "true", "[job:t@]\ncommand = /bin/true\nautostart = false\n", max_parallel=2) as s:
            c0 = cpu_ns(s.pid)
            t0 = time.perf_counter()
            s.ctl("start", *names)
            s.ctl("wait", "t")
            dt = time.perf_counter() - t0
            cpu.append((cpu_ns(s.pid) - c0) / 1e3 / n)
            if len(s.history("t")) != n:
                raise BenchError("supd did not record %d runs" % n)
            return dt

    def floor():
        return run_timed([ctx.floor, "-n", n, "-P", 2, "/bin/true"])

    def xargs():
        ctx.need("xargs")
        return run_timed(["xargs", "-P2", "-n1", "/bin/true"], seq)

    def parallel():
        ctx.need("parallel")
        return run_timed(["parallel", "--will-cite", "-j2", "/bin/true"], seq)

    def python():
        return run_timed([sys.executable, PYSUB, "-j2", "-n", str(n), "--", "/bin/true"])

    s = alternate(ctx, {"supd": supd, "posix_spawn loop (floor)": floor, "xargs -P2": xargs,
                        "parallel -j2": parallel, "python subprocess": python})
    fill(res, s, ("supd",))
    if cpu:
        res.get("supd")["note"] = "supd's own CPU: %.0f µs per run (median)" % median(cpu)
    res.target = "≤ 1.15 × the posix_spawn loop; faster than xargs -P2"
    sm, fm, xm = res.med("supd"), res.med("posix_spawn loop (floor)"), res.med("xargs -P2")
    if sm and fm:
        ok = sm <= 1.15 * fm and (xm is None or sm < xm)
        res.verdict = ok
        res.verdict_text = "supd/floor = %.2f×%s" % (sm / fm, ", supd/xargs = %.2f×" % (sm / xm) if xm else "")
    return res


def cgroup_costs(n):
    """What the cgroup files of one run cost alone, in us (median of n): what
    supd does for a run whose last stage ends with nothing left (mkdir, the
    directory opened, cpu.stat read, rmdir), and apart from that what it adds
    only when processes are left (cgroup.kill, cgroup.events read)."""
    with CgroupDir("costs") as base:
        t = {"mkdir": [], "open": [], "cpu.stat": [], "rmdir": [], "cgroup.kill + cgroup.events": []}
        for i in range(n):
            d = os.path.join(base, "r-%d" % i)
            t0 = time.perf_counter()
            os.mkdir(d)
            t1 = time.perf_counter()
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
            t2 = time.perf_counter()
            with open(os.path.join(d, "cpu.stat")) as f:
                f.read()
            t3 = time.perf_counter()
            with open(os.path.join(d, "cgroup.kill"), "w") as f:
                f.write("1")
            with open(os.path.join(d, "cgroup.events")) as f:
                f.read()
            t4 = time.perf_counter()
            os.close(fd)
            t5 = time.perf_counter()
            os.rmdir(d)
            t6 = time.perf_counter()
            for k, a, b in (("mkdir", t0, t1), ("open", t1, t2), ("cpu.stat", t2, t3),
                            ("cgroup.kill + cgroup.events", t3, t4), ("rmdir", t5, t6)):
                t[k].append((b - a) * 1e6)
    return {k: median(v) for k, v in t.items()}


def w_spawn_true_cgroup(ctx):
    n = ctx.size("true_n")
    res = Result("spawn-true-cgroup", "%d × /bin/true, at most 2 at once, a cgroup per run, start → wait" % n, "s")
    names = ["t@%d" % i for i in range(1, n + 1)]
    body = "[job:t@]\ncommand = /bin/true\nautostart = false\n"
    cpu = {"cg": [], "plain": []}

    def supd(tag, cgroup):
        with Supd(ctx, "true-" + tag, body, max_parallel=2, cgroup=cgroup) as s:
            c0 = cpu_ns(s.pid)
            t0 = time.perf_counter()
            s.ctl("start", *names)
            s.ctl("wait", "t")
            dt = time.perf_counter() - t0
            cpu[tag].append((cpu_ns(s.pid) - c0) / 1e3 / n)
            h = s.history("t")
            if len(h) != n:
                raise BenchError("supd did not record %d runs" % n)
            return dt

    def with_cgroup():
        with CgroupDir("true") as cg:
            return supd("cg", cg)

    def plain():
        return supd("plain", "off")

    def floor():
        return run_timed([ctx.floor, "-n", n, "-P", 2, "/bin/true"])

    def cgroup_floor():
        # the same loop with a cgroup per run made, entered by clone3 and removed:
        # what the kernel itself charges for the cgroups, without supd
        with CgroupDir("floor") as cg:
            return run_timed([ctx.floor, "-g", cg, "-n", n, "-P", 2, "/bin/true"])

    def reused_floor():
        # the same loop, each run started (clone3 CLONE_INTO_CGROUP) in one of two
        # cgroups made before and reused: the placement alone, no cgroup made
        with CgroupDir("reuse") as cg:
            return run_timed([ctx.floor, "-g", cg, "-R", "-n", n, "-P", 2, "/bin/true"])

    s = alternate(ctx, {"supd, a cgroup per run": with_cgroup, "supd, cgroup = off": plain,
                        "posix_spawn loop (floor)": floor, "the loop with a cgroup per run (kernel floor)": cgroup_floor,
                        "the loop with 2 reused cgroups (placement only)": reused_floor})
    fill(res, s, ("supd, a cgroup per run", "supd, cgroup = off"))
    res.target = "≤ 1.25 × the posix_spawn loop (no cgroups)"
    cm, pm, fm = res.med("supd, a cgroup per run"), res.med("supd, cgroup = off"), res.med("posix_spawn loop (floor)")
    if cpu["cg"]:
        res.get("supd, a cgroup per run")["note"] = "supd's own CPU: %.0f µs per run (median)" % median(cpu["cg"])
    if cpu["plain"]:
        res.get("supd, cgroup = off")["note"] = "supd's own CPU: %.0f µs per run (median)" % median(cpu["plain"])
    km = res.med("the loop with a cgroup per run (kernel floor)")
    if cm and fm:
        res.verdict = cm <= 1.25 * fm
        res.verdict_text = "supd with cgroups / floor = %.2f×%s" % (
            cm / fm, "; the kernel's own floor with a cgroup per run is %.2f× the floor, supd / it = %.2f×"
            % (km / fm, cm / km) if km else "")
    rm = res.med("the loop with 2 reused cgroups (placement only)")
    costs = cgroup_costs(n) if (cm and pm) or (km and rm) else None
    if cm and pm:
        delta = (cm - pm) / n * 2 * 1e6   # two at once: each run's own share of the wall time
        files = costs["mkdir"] + costs["open"] + costs["cpu.stat"] + costs["rmdir"]
        res.notes.append("the cgroup costs a run %.0f µs of wall time (%.0f µs of supd's CPU); for a run that "
                         "ends with its last stage supd makes, opens, reads (cpu.stat) and removes its cgroup: "
                         "mkdir %.0f µs, open %.0f µs, cpu.stat %.0f µs, rmdir %.0f µs measured alone (%.0f µs "
                         "together); cgroup.kill + cgroup.events (%.0f µs) only when processes are left"
                         % (delta, median(cpu["cg"]) - median(cpu["plain"]) if cpu["cg"] and cpu["plain"] else 0,
                            costs["mkdir"], costs["open"], costs["cpu.stat"], costs["rmdir"], files,
                            costs["cgroup.kill + cgroup.events"]))
    if km and rm and fm:
        res.notes.append("the kernel alone: starting each run in one of 2 reused cgroups (clone3 "
                         "CLONE_INTO_CGROUP, no mkdir/rmdir) is %.2f× the floor, a new cgroup per run %.2f×: "
                         "a new cgroup costs a run %.0f µs of wall time at 2 at once, %.0f µs of it beyond "
                         "its mkdir and rmdir: the first process in a cgroup never used before "
                         "(see bench/README.md)"
                         % (rm / fm, km / fm, (km - rm) / n * 2 * 1e6,
                            (km - rm) / n * 2 * 1e6 - costs["mkdir"] - costs["rmdir"]))
    return res


def w_sleep(ctx):
    n = ctx.size("sleep_n")
    res = Result("sleep-parallel", "%d × sleep 0.1 in parallel, start → wait" % n, "s")
    seq = "".join("%d\n" % i for i in range(n)).encode()

    def supd():
        with Supd(ctx, "sleep", "[job:nap]\ncommand = sleep 0.1\ninstances = %d\nautostart = false\n" % n,
                  max_parallel=n) as s:
            t0 = time.perf_counter()
            s.ctl("start", "nap")
            s.ctl("wait", "nap")
            return time.perf_counter() - t0

    def python():
        return run_timed([sys.executable, PYSUB, "-j", str(n), "-n", str(n), "--", "sleep", "0.1"])

    def floor():
        return run_timed([ctx.floor, "-n", n, "-P", n, "sleep", "0.1"])

    def xargs():
        ctx.need("xargs")
        return run_timed(["xargs", "-P%d" % n, "-I{}", "sleep", "0.1"], seq)

    def parallel():
        ctx.need("parallel")
        return run_timed(["parallel", "--will-cite", "-j%d" % n, "sleep 0.1 #"], seq)

    s = alternate(ctx, {"supd": supd, "python subprocess": python, "posix_spawn loop (floor)": floor,
                        "xargs -P%d" % n: xargs, "parallel -j%d" % n: parallel})
    fill(res, s, ("supd",))
    res.target = "< 0.115 s wall (the Python script: ~0.13 s)"
    sm = res.med("supd")
    if sm:
        res.verdict = sm < 0.115
        res.verdict_text = "supd median %.3f s" % sm
    return res


def make_inputs(ctx, n, mb):
    d = ctx.newdir("enc-plain")
    for i in range(n):
        with open(os.path.join(d, "f%02d" % i), "wb") as f:
            f.write(os.urandom(mb << 20))
    return d


def w_encrypt(ctx):
    n, mb = ctx.size("enc_files"), ctx.size("enc_mb")
    res = Result("encrypt", "%d files × %d MB through openssl enc -aes-256-cbc -pbkdf2, 2 at once" % (n, mb), "s")
    try:
        ctx.need("openssl")
    except NA as e:
        res.row("supd", na=str(e), is_supd=True)
        return res
    plain = make_inputs(ctx, n, mb)
    files = sorted(os.listdir(plain))
    listing = "".join(f + "\n" for f in files).encode()
    env = dict(os.environ, PASSWORD="supd-bench-passphrase")
    enc = ["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-pass", "env:PASSWORD"]
    outs = {}

    def outdir(tag):
        d = outs.get(tag) or ctx.newdir("enc-out-" + tag)
        outs[tag] = d
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        return d

    def check(d):
        got = os.listdir(d)
        if len(got) != n or any(os.path.getsize(os.path.join(d, f)) < (mb << 20) for f in got):
            raise BenchError("encryption output in %s is incomplete" % d)

    def supd():
        out = outdir("supd")
        body = ("[job:enc@]\ncommand = %s\nenvironment = PASSWORD=supd-bench-passphrase\n"
                "stdin = %s/%%i\nstdout = %s/%%i.enc\nautostart = false\n") % (" ".join(enc), plain, out)
        with Supd(ctx, "enc", body, max_parallel=2) as s:
            t0 = time.perf_counter()
            s.ctl("start", *["enc@" + f for f in files])
            s.ctl("wait", "enc")
            dt = time.perf_counter() - t0
        check(out)
        return dt

    def xargs():
        ctx.need("xargs")
        out = outdir("xargs")
        dt = run_timed(["xargs", "-P2", "-I{}"] + enc + ["-in", "{}", "-out", out + "/{}.enc"], listing,
                       cwd=plain, env=env)
        check(out)
        return dt

    def parallel():
        ctx.need("parallel")
        out = outdir("parallel")
        dt = run_timed(["parallel", "--will-cite", "-j2"] + enc + ["-in", "{}", "-out", out + "/{}.enc"], listing,
                       cwd=plain, env=env)
        check(out)
        return dt

    def python():
        out = outdir("python")
        dt = run_timed([sys.executable, PYSUB, "-j2", "--in-dir", plain, "--out-dir", out, "--suffix", ".enc",
                        "--"] + enc, env=env)
        check(out)
        return dt

    s = alternate(ctx, {"supd": supd, "xargs -P2": xargs, "parallel -j2": parallel, "python subprocess": python})
    fill(res, s, ("supd",))
    res.target = "≤ 1.05 × the best of xargs / parallel / Python"
    others = [m for m in (res.med("xargs -P2"), res.med("parallel -j2"), res.med("python subprocess")) if m]
    sm = res.med("supd")
    if sm and others:
        res.verdict = sm <= 1.05 * min(others)
        res.verdict_text = "supd/best = %.3f×" % (sm / min(others))
    return res


PROBE = """#!/bin/bash
# one line per start: the wall clock as bash sees it (bash 5 $EPOCHREALTIME)
echo $EPOCHREALTIME >> {stamps}
"""


def make_probe(d):
    stamps = os.path.join(d, "stamps")
    probe = os.path.join(d, "run")
    with open(probe, "w") as f:
        f.write(PROBE.format(stamps=stamps))
    os.chmod(probe, 0o755)
    return probe, stamps


def stamp_intervals(stamps):
    try:
        with open(stamps) as f:
            t = [float(x.replace(",", ".")) for x in f.read().split()]
    except OSError:
        return []
    return [(b - a) * 1000 for a, b in zip(t, t[1:])]


def w_respawn(ctx):
    res = Result("respawn", "respawn of a service that exits at once (restart_delay = 0)", "ms", log_scale=True,
                 fmt="%.2f")
    fast, slow = ctx.size("respawn_fast_s"), ctx.size("respawn_slow_s")
    hist = []

    def supd():
        d = ctx.newdir("respawn-supd")
        probe, stamps = make_probe(d)
        body = "[job:flap]\ncommand = %s\nrestart = always\nrestart_delay = 0\nstart_limit = none\n" % probe
        with Supd(ctx, "respawn", body) as s:
            time.sleep(fast)
            s.ctl("stop", "flap")
            runs = s.history("flap")
        runs.sort(key=lambda r: r["run"])
        for a, b in zip(runs, runs[1:]):
            if a.get("ended_at") and b.get("started_at"):
                hist.append((parse_rfc3339(b["started_at"]) - parse_rfc3339(a["ended_at"])) * 1000)
        return stamp_intervals(stamps)

    def supervisord():
        ctx.need("supervisord")
        d = ctx.newdir("respawn-supervisord")
        probe, stamps = make_probe(d)
        body = ("[program:flap]\ncommand = %s\nautostart = true\nautorestart = true\nstartsecs = 0\n"
                "startretries = 1000000\n") % probe
        with Supervisord(ctx, "respawn", body):
            time.sleep(slow)
        return stamp_intervals(stamps)

    def runsv():
        ctx.need("runsv")
        d = ctx.newdir("respawn-runsv")
        probe, stamps = make_probe(d)
        p = PROCS.bg([ctx.tools["runsv"], d], os.path.join(ctx.work, "runsv.log"))
        time.sleep(slow)
        PROCS.end(p, signal.SIGTERM, grace=10)
        return stamp_intervals(stamps)

    def s6():
        ctx.need("s6-supervise")
        d = ctx.newdir("respawn-s6")
        probe, stamps = make_probe(d)
        p = PROCS.bg([ctx.tools["s6-supervise"], d], os.path.join(ctx.work, "s6.log"))
        time.sleep(slow)
        PROCS.end(p, signal.SIGTERM, grace=10)
        return stamp_intervals(stamps)

    s = alternate(ctx, {"supd": supd, "supervisord": supervisord, "runsv": runsv, "s6-supervise": s6})
    res.row("supd (exit → respawn, from history)", hist, is_supd=True,
            note="ended_at of a run to started_at of the next, supd's own timestamps")
    fill(res, {("supd (start → start, probe)" if k == "supd" else k + " (start → start, probe)"): v
               for k, v in s.items()}, ("supd (start → start, probe)",))
    res.ratio_base = "supd (start → start, probe)"
    res.summary = "supd (exit → respawn, from history)"
    res.notes.append("The probe is the same bash script for every supervisor: it appends $EPOCHREALTIME "
                     "to a file and exits, so start → start intervals include bash's own start-up and exit.")
    res.target = "respawn < 5 ms median (supervisord, runsv, s6: ~1 s by design)"
    hm = median(hist)
    if hm is not None:
        res.verdict = hm < 5
        res.verdict_text = "supd exit → respawn median %.2f ms, p90 %.2f ms (%d respawns)" % (
            hm, percentile(hist, 90), len(hist))
    return res


def w_stop(ctx):
    n = ctx.size("stop_n")
    res = Result("stop", "stop %d running services" % n, "s", log_scale=True)

    svc = "[job:svc]\ncommand = sleep 100000\ninstances = %d\nrestart = always\n" % n
    sv_body = ("[program:svc]\ncommand = sleep 100000\nprocess_name = %%(program_name)s_%%(process_num)03d\n"
               "numprocs = %d\nautostart = true\nautorestart = true\n") % n

    def supd_stop():
        with Supd(ctx, "stop", svc) as s:
            s.wait_states(n)
            t0 = time.perf_counter()
            s.ctl("stop", "svc")
            return time.perf_counter() - t0

    def supd_shutdown():
        with Supd(ctx, "shutdown", svc) as s:
            s.wait_states(n)
            t0 = time.perf_counter()
            s.proc.send_signal(signal.SIGTERM)
            s.proc.wait(300)
            return time.perf_counter() - t0

    def sv_stop():
        with Supervisord(ctx, "stop", sv_body) as sv:
            sv.wait_running(n)
            return run_timed(sv.argv("stop", "all"))

    def sv_shutdown():
        with Supervisord(ctx, "shutdown", sv_body) as sv:
            sv.wait_running(n)
            t0 = time.perf_counter()
            sv.proc.send_signal(signal.SIGTERM)
            sv.proc.wait(600)
            return time.perf_counter() - t0

    s = alternate(ctx, {"supd: supctl stop": supd_stop, "supervisord: supervisorctl stop all": sv_stop,
                        "supd: SIGTERM → exit": supd_shutdown, "supervisord: SIGTERM → exit": sv_shutdown})
    fill(res, s, ("supd: supctl stop", "supd: SIGTERM → exit"))
    res.get("supervisord: SIGTERM → exit")["vs"] = "supd: SIGTERM → exit"
    res.ratio_base = "supd: supctl stop"
    res.target = "< 0.2 s (supervisord's shutdown of 100 took ~20 s here)"
    sm = res.med("supd: supctl stop")
    if sm:
        res.verdict = sm < 0.2 and (res.med("supd: SIGTERM → exit") or 0) < 0.2
        res.verdict_text = "supctl stop %.3f s, shutdown %.3f s" % (sm, res.med("supd: SIGTERM → exit") or 0)
    return res


def w_stop_cgroup(ctx):
    n = ctx.size("stop_cgroup_n")
    res = Result("stop-cgroup", "stop %d running services, each run in its own cgroup" % n, "s", log_scale=True)
    svc = "[job:svc]\ncommand = sleep 100000\ninstances = %d\nrestart = always\n" % n

    def supd_stop():
        with CgroupDir("stop") as cg, Supd(ctx, "stop-cg", svc, cgroup=cg) as s:
            s.wait_states(n)
            jobs = os.path.join(cg, "jobs")

            def runs():
                return [r for d in os.listdir(jobs) if os.path.isdir(os.path.join(jobs, d))
                        for r in os.listdir(os.path.join(jobs, d)) if r.startswith("r-")]
            if len(runs()) != n:
                raise BenchError("%d of %d runs are in cgroups" % (len(runs()), n))
            t0 = time.perf_counter()
            s.ctl("stop", "svc")
            dt = time.perf_counter() - t0
            if runs():
                raise BenchError("run cgroups left after stop: %s" % runs()[:3])
            return dt

    s = alternate(ctx, {"supd: supctl stop": supd_stop})
    fill(res, s, ("supd: supctl stop",))
    res.target = "< 0.5 s"
    sm = res.med("supd: supctl stop")
    if sm:
        res.verdict = sm < 0.5
        res.verdict_text = "supctl stop of %d cgroup-contained runs %.3f s" % (n, sm)
    return res


def w_status_rss(ctx):
    n, nsv, calls = ctx.size("status_jobs"), ctx.size("status_sv"), ctx.size("status_calls")
    st = Result("status", "status latency: supctl --json status with %d jobs, supervisorctl status with %d"
                % (n, nsv), "s", log_scale=True, fmt="%.4f")
    rss = Result("rss", "resident memory of the supervisor", "MB", fmt="%.1f")
    body = "[job:w]\ncommand = sleep 100000\ninstances = %d\nrestart = always\n" % n
    sv_body = ("[program:w]\ncommand = sleep 100000\nprocess_name = %%(program_name)s_%%(process_num)03d\n"
               "numprocs = %d\nautostart = true\nautorestart = true\n") % nsv
    sv = None
    with Supd(ctx, "status", body) as s:
        s.wait_states(n)
        try:
            sv = Supervisord(ctx, "status", sv_body).__enter__()
            sv.wait_running(nsv)
        except NA as e:
            sv_na = str(e)
        rss_before = rss_kb(s.pid)
        a, b, c, raw, ver = [], [], [], [], []
        for i in range(calls):
            a.append(run_timed([ctx.supctl, "-s", s.sock, "--json", "status"]))
            c.append(run_timed([ctx.supctl, "-s", s.sock, "status"]))
            raw.append(raw_request(s.sock, {"cmd": "status"}))
            ver.append(run_timed([ctx.supctl, "-s", s.sock, "version"]))
            if sv:
                b.append(run_timed(sv.argv("status")))
        rss_after = rss_kb(s.pid)
        sv_rss = rss_kb(sv.proc.pid) if sv else None
        if sv:
            sv.shutdown()
    st.row("supd: supctl --json status (%d jobs)" % n, a, is_supd=True)
    st.row("supd: supctl status (%d jobs)" % n, c, is_supd=True)
    st.row("supd alone: status request on the socket (%d jobs)" % n, raw, is_supd=True,
           note="bench/run talks to the socket itself: supd's share of the latency")
    st.row("supd: supctl version (round trip, no jobs)", ver, is_supd=True,
           note="process start + connect + one tiny request: the floor of any supctl call")
    if sv:
        st.row("supervisord: supervisorctl status (%d programs)" % nsv, b)
    else:
        st.row("supervisord: supervisorctl status (%d programs)" % nsv, na=sv_na)
    st.target = "< 10 ms median with 1,000 jobs (supervisorctl with 100: ~0.27 s)"
    am = median(a)
    st.verdict = am < 0.010
    st.verdict_text = "median %.1f ms (%d jobs)" % (am * 1000, n)

    # 10,000 (or --quick: 1,000) queued behind one running job
    nq = ctx.size("queued_n")
    qbody = "[job:q@]\ncommand = sleep 100000\nautostart = false\n"
    with Supd(ctx, "queued", qbody, max_parallel=1) as s:
        rss_idle = rss_kb(s.pid)
        s.start_many(["q@%d" % i for i in range(nq + 1)])
        rss_q = rss_kb(s.pid)
        states = [j["state"] for j in s.status("q")]
        if states.count("queued") != nq:
            raise BenchError("expected %d queued jobs, found %d" % (nq, states.count("queued")))
        qs = [run_timed([ctx.supctl, "-s", s.sock, "--json", "status"]) for _ in range(max(3, calls // 4))]
        rss_q_after = rss_kb(s.pid)
    st.row("supd: supctl --json status (%d jobs, %d queued)" % (nq + 1, nq), qs, is_supd=True)

    rss.row("supd, %d running jobs" % n, [rss_before / 1024], is_supd=True,
            note="after %d status calls: %.1f MB" % (calls * 2, rss_after / 1024))
    rss.row("supd, %d queued jobs" % nq, [rss_q / 1024], is_supd=True,
            note="template instances q@0 … q@%d, max_parallel = 1; before the starts: %.1f MB"
            % (nq, rss_idle / 1024))
    rss.row("supd, %d queued jobs, after %d × status --json" % (nq, len(qs) + 1), [rss_q_after / 1024],
            is_supd=True, note="building a status reply of every job leaves its peak behind")
    if sv_rss:
        rss.row("supervisord, %d running programs" % nsv, [sv_rss / 1024])
    else:
        rss.row("supervisord, %d running programs" % nsv, na="supervisord is not installed")
    rss.target = "< 8 MB with 1,000 running; < 16 MB with 10,000 queued (supervisord: ~27 MB for 100)"
    rss.verdict = rss_before / 1024 < 8 and rss_q / 1024 < 16
    rss.verdict_text = "%.1f MB running, %.1f MB queued" % (rss_before / 1024, rss_q / 1024)
    return [st, rss]


def w_timeout(ctx):
    k = ctx.size("timeout_runs")
    res = Result("timeout", "lateness of a timeout kill (timeout = 100ms on sleep 10), %d runs" % k, "ms",
                 fmt="%.2f")
    body = "[job:to]\ncommand = sleep 10\ntimeout = 100ms\nautostart = false\n"
    with Supd(ctx, "timeout", body) as s:
        for _ in range(k):
            s.ctl("run", "to", ok=(124,))
        runs = s.history("to")
    late = [r["duration_s"] * 1000 - 100 for r in runs if r.get("timed_out")]
    if len(late) != k:
        raise BenchError("expected %d timed-out runs, history has %d" % (k, len(late)))
    res.row("supd: duration_s − 100 ms", late, is_supd=True)
    res.cdf = True
    res.target = "median < 2 ms, p99 < 10 ms"
    m, p99 = median(late), percentile(late, 99)
    res.verdict = m < 2 and p99 < 10
    res.verdict_text = "median %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms" % (m, percentile(late, 90), p99,
                                                                                max(late))
    res.notes.append("No competitor has a per-run timeout; duration_s is measured by supd on the monotonic "
                     "clock from spawn to reaping, so it includes the SIGTERM delivery and sleep's exit.")
    return res


def w_idle(ctx):
    n, secs = ctx.size("idle_jobs"), ctx.size("idle_s")
    res = Result("idle", "idle wakeups: context switches in %g s with %d running sleep jobs" % (secs, n),
                 "switches", fmt="%.0f")
    stack = []        # (label, function returning the pids to count, cleanup)
    supd = Supd(ctx, "idle", "[job:idle]\ncommand = sleep 100000\ninstances = %d\nrestart = always\n" % n)
    supd.__enter__()
    stack.append(("supd", lambda: [supd.pid], supd.shutdown))
    nas = {}
    try:
        sv_body = ("[program:idle]\ncommand = sleep 100000\nprocess_name = %%(program_name)s_%%(process_num)03d\n"
                   "numprocs = %d\nautostart = true\n") % n
        sv = Supervisord(ctx, "idle", sv_body).__enter__()
        stack.append(("supervisord", lambda: [sv.proc.pid], sv.shutdown))
    except NA as e:
        nas["supervisord"] = str(e)
    for label, scanner, tool in (("runsvdir + runsv", "runsvdir", "runsv"),
                                 ("s6-svscan + s6-supervise", "s6-svscan", "s6-supervise")):
        if not (ctx.tools[scanner] and ctx.tools[tool]):
            nas[label] = "%s is not installed" % scanner
            continue
        d = ctx.newdir("idle-" + scanner)
        for i in range(n):
            sd = os.path.join(d, "idle%02d" % i)
            os.makedirs(sd)
            with open(os.path.join(sd, "run"), "w") as f:
                f.write("#!/bin/sh\nexec sleep 100000\n")
            os.chmod(os.path.join(sd, "run"), 0o755)
        p = PROCS.bg([ctx.tools[scanner], d], os.path.join(d, "..", scanner + ".log"))

        def pids(p=p, tool=tool):
            table = proc_table()
            return [p.pid] + [c for c in children(p.pid, table)]
        stack.append((label, pids, lambda p=p: PROCS.end(p, signal.SIGHUP if scanner == "runsvdir"
                                                          else signal.SIGTERM, grace=20)))
    try:
        supd.wait_states(n)
        if len(stack) > 1 and stack[1][0] == "supervisord":
            sv.wait_running(n)
        time.sleep(2.0)          # let every supervisor settle (scanners start their services)
        sets = {label: f() for label, f, _ in stack}
        before = {label: sum(ctxt_switches(p) for p in ps) for label, ps in sets.items()}
        time.sleep(secs)
        after = {label: sum(ctxt_switches(p) for p in ps) for label, ps in sets.items()}
    finally:
        for _label, _f, cleanup in reversed(stack):
            cleanup()
    for label, _f, _c in stack:
        note = "%d processes counted" % len(sets[label]) if len(sets[label]) > 1 else ""
        res.row(label, [after[label] - before[label]], is_supd=label == "supd", note=note)
    for label, why in nas.items():
        res.row(label, na=why)
    res.target = "0 wakeups in 10 s"
    res.verdict = after["supd"] - before["supd"] == 0
    res.verdict_text = "%d context switches of supd in %g s" % (after["supd"] - before["supd"], secs)
    res.notes.append("voluntary + nonvoluntary context switches from /proc/PID/status, summed over the "
                     "supervisor's own processes (not the supervised sleeps)")
    return res


def w_scale(ctx):
    n = ctx.size("scale_n")
    res = Result("scale-10k", "%d concurrent running processes" % n, "s", log_scale=True, fmt="%.3f")
    need_fds = n + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nproc_soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    with open("/proc/sys/kernel/threads-max") as f:
        threads_max = int(f.read())
    n_now = len(proc_table())
    mem_avail = int(open("/proc/meminfo").read().split("MemAvailable:")[1].split()[0])
    problems = []
    if pid_max - n_now < n + 500 or threads_max - n_now < n + 500:
        problems.append("pid_max %d / threads-max %d leave no room for %d more processes" % (pid_max, threads_max, n))
    if os.geteuid() != 0 and nproc_soft != resource.RLIM_INFINITY and nproc_soft < n + n_now + 500:
        problems.append("ulimit -u is %d" % nproc_soft)
    if hard != resource.RLIM_INFINITY and hard < need_fds:
        problems.append("the hard fd limit (ulimit -Hn %d) is below the %d fds supd needs "
                        "(one per captured job output)" % (hard, need_fds))
    if mem_avail < n * 400:
        problems.append("only %d MB available" % (mem_avail // 1024))
    if problems:
        res.row("supd", na="; ".join(problems), is_supd=True)
        res.target = "supported; status < 100 ms"
        res.notes.append("skipped: " + "; ".join(problems))
        return res
    if soft < need_fds:
        res.notes.append("the soft fd limit (%d) was raised to %d for supd: it keeps one pipe per running job "
                         "with stdout = log and does not raise its own soft limit" % (soft, need_fds))
    body = "[job:many@]\ncommand = sleep 100000\nrestart = always\nautostart = false\n"
    names = ["many@%d" % i for i in range(n)]
    with Supd(ctx, "scale", body, nofile=need_fds if soft < need_fds else None) as s:
        t0 = time.perf_counter()
        s.start_many(names)
        t_start = time.perf_counter() - t0
        jobs = s.status("many")
        running = sum(1 for j in jobs if j["state"] == "running")
        st_json = [run_timed([ctx.supctl, "-s", s.sock, "--json", "status"]) for _ in range(5)]
        st_text = [run_timed([ctx.supctl, "-s", s.sock, "status"]) for _ in range(5)]
        rss = rss_kb(s.pid) / 1024
        fds = count_fds(s.pid)
        t_stop = run_timed([ctx.supctl, "-s", s.sock, "stop", "many"])
    res.row("supd: supctl start (%d jobs)" % n, [t_start], is_supd=True)
    res.row("supd: supctl --json status", st_json, is_supd=True)
    res.row("supd: supctl status", st_text, is_supd=True)
    res.summary = "supd: supctl status"
    res.row("supd: supctl stop (%d jobs)" % n, [t_stop], is_supd=True)
    res.notes.append("%d of %d jobs running at once; supd RSS %.1f MB, %s open fds" % (running, n, rss, fds))
    res.target = "supported; status < 100 ms"
    res.verdict = running == n and median(st_json) < 0.1 and median(st_text) < 0.1
    res.verdict_text = "%d/%d running; status %.0f ms (--json %.0f ms)" % (running, n, median(st_text) * 1000,
                                                                            median(st_json) * 1000)
    return res


def notify_ready_path(ctx):
    """tests/tools/notify-ready of the build (make check builds it), or None."""
    p = os.path.join(ctx.build, "tests", "tools", "notify-ready")
    return p if os.access(p, os.X_OK) else None


def spawn_until_ready(prog, argv, sock_path, timeout=10.0):
    """posix_spawn prog with NOTIFY_SOCKET=sock_path and wait for its READY=1."""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(timeout)
    try:
        env = dict(os.environ, NOTIFY_SOCKET=sock_path)
        pid = os.posix_spawn(prog, argv, env)
        while b"READY=1" not in s.recv(4096).split(b"\n"):
            pass
        return pid
    finally:
        s.close()
        os.unlink(sock_path)


def w_chain(ctx):
    n = ctx.size("chain_n")
    res = Result("chain", "chain of %d ready = notify services each requiring the previous: supctl start of "
                 "the last → wait --up returns" % n, "s", fmt="%.4f")
    prog = notify_ready_path(ctx)
    if not prog:
        res.row("supd: start c%d, wait --up" % n, na="tests/tools/notify-ready is not built (make check)",
                is_supd=True)
        return res
    body = "".join("[job:c%d]\ncommand = %s\nautostart = false\nrestart = always\nready = notify\n%s\n"
                   % (i, prog, "requires = c%d\n" % (i - 1) if i > 1 else "") for i in range(1, n + 1))

    def supd():
        with Supd(ctx, "chain", body) as s:
            t0 = time.perf_counter()
            s.ctl("start", "c%d" % n)
            s.ctl("wait", "--up", "c%d" % n)
            dt = time.perf_counter() - t0
            st = s.status()
            up = sum(1 for j in st if j["state"] == "running" and j["ready"])
            if up != n:
                raise BenchError("%d of %d jobs of the chain are up" % (up, n))
            starts = sorted((j["started_at"], j["name"]) for j in st)
            if [nm for _, nm in starts] != ["c%d" % i for i in range(1, n + 1)]:
                raise BenchError("the chain did not start in order")
            return dt

    def floor():
        # the same program spawned n times one after the other, each awaited
        # for its READY=1 on a socket of ours before the next: nothing else
        d = ctx.newdir("chain-floor")
        pids = []
        t0 = time.perf_counter()
        for i in range(n):
            pids.append(spawn_until_ready(prog, [prog], os.path.join(d, "n%d" % i)))
        dt = time.perf_counter() - t0
        for p in pids:
            os.kill(p, signal.SIGKILL)
            os.waitpid(p, 0)
        return dt

    floor_label = "%d sequential posix_spawn, each to READY=1 (floor)" % n
    s = alternate(ctx, {"supd: start c%d, wait --up" % n: supd, floor_label: floor})
    fill(res, s, ("supd: start c%d, wait --up" % n,))
    res.get(floor_label)["note"] = "os.posix_spawn from Python, READY=1 read from a NOTIFY_SOCKET of its own"
    res.get("supd: start c%d, wait --up" % n)["note"] = "two supctl runs included; order and readiness checked"
    res.target = "issue 11: within 1.5 × the floor"
    sm, fm = res.med("supd: start c%d, wait --up" % n), res.med(floor_label)
    if sm and fm:
        res.verdict = sm <= 1.5 * fm
        res.verdict_text = "supd/floor = %.2f× (%.1f ms vs %.1f ms)" % (sm / fm, sm * 1000, fm * 1000)
    return res


def w_ready_latency(ctx):
    n = ctx.size("ready_n")
    res = Result("ready-latency", "readiness latency: READY=1 sent → the job's state is running (%d runs)" % n,
                 "ms", fmt="%.3f")
    prog = notify_ready_path(ctx)
    if not prog:
        res.row("supd", na="tests/tools/notify-ready is not built (make check)", is_supd=True)
        return res
    d = ctx.newdir("ready-latency")
    stamps = os.path.join(d, "stamps")
    body = "[job:r@]\ncommand = %s --stamp %s\nautostart = false\nready = notify\n" % (prog, stamps)
    lat = []
    with Supd(ctx, "ready", body) as s:
        for i in range(n):
            name = "r@%d" % i
            s.ctl("start", name)
            s.ctl("wait", "--up", name)
            j = [x for x in s.status(name) if x["name"] == name][0]
            since = j["since"]   # RFC 3339, microseconds: when supd made it running
            sent = float(open(stamps).read().split()[-1])
            t = datetime.datetime.strptime(since, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            lat.append((t - sent) * 1000)
            s.ctl("stop", name)
    res.row("supd", lat, is_supd=True, note="the job's `since` (supd's CLOCK_REALTIME at the state change) "
            "minus notify-ready's CLOCK_REALTIME just before sd_notify()")
    res.target = "issue 11: median < 1 ms"
    m = median(lat)
    res.verdict = m < 1.0
    res.verdict_text = "median %.3f ms, max %.3f ms" % (m, max(lat))
    return res


def w_health_cpu(ctx):
    n, secs = ctx.size("health_n"), ctx.size("health_s")
    res = Result("health-cpu", "supd's own CPU with %d services checked every 1 s (health_command = true), "
                 "over %g s" % (n, secs), "% of a core", fmt="%.3f")
    true = shutil.which("true") or "/bin/true"
    sleep = ctx.tools["sleep"] or "/bin/sleep"
    tck = os.sysconf("SC_CLK_TCK")

    def cpu(pid):
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tck    # utime + stime: supd's own, not its children's

    def measure(tag, extra):
        body = "[job:h]\ncommand = %s 100000\ninstances = %d\nrestart = always\n%s" % (sleep, n, extra)
        with Supd(ctx, tag, body) as s:
            s.wait_states(n)
            time.sleep(1.5)          # every first check done
            c0, t0 = cpu(s.pid), time.perf_counter()
            time.sleep(secs)
            c1, t1 = cpu(s.pid), time.perf_counter()
            return (c1 - c0) / (t1 - t0) * 100

    with_checks = measure("health", "health_command = %s\nhealth_interval = 1s\n" % true)
    without = measure("health-none", "")
    res.row("supd: %d services, health_interval = 1s" % n, [with_checks], is_supd=True,
            note="utime + stime of supd from /proc/PID/stat (the probes are its children: not counted)")
    res.row("supd: the same %d services without checks" % n, [without], is_supd=True)
    res.target = "issue 11: under 1 % of a core beyond the probes"
    res.verdict = with_checks < 1.0
    res.verdict_text = "%.2f %% of a core (%.2f %% without checks); %d checks a second" % (with_checks, without, n)
    return res


WORKLOADS = [
    ("spawn-true", w_spawn_true),
    ("spawn-true-cgroup", w_spawn_true_cgroup),
    ("sleep-parallel", w_sleep),
    ("encrypt", w_encrypt),
    ("respawn", w_respawn),
    ("stop", w_stop),
    ("stop-cgroup", w_stop_cgroup),
    ("status", w_status_rss),       # also produces "rss"
    ("timeout", w_timeout),
    ("idle", w_idle),
    ("scale-10k", w_scale),
    ("chain", w_chain),
    ("ready-latency", w_ready_latency),
    ("health-cpu", w_health_cpu),
]


# ---------------------------------------------------------------- output

