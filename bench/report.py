# SPDX-License-Identifier: ISC
"""bench/run's output: RESULTS.md (summary, details, machine facts) and the
charts."""
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

from benchlib import *  # noqa: F401,F403

def fmt_v(res, v):
    return "n/a" if v is None else res.fmt % v


def machine_facts(ctx, load_start, load_end, started, finished):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = int(open("/proc/meminfo").read().split("MemTotal:")[1].split()[0]) // 1024
    t = ctx.tools
    versions = [
        ("supd", first_line([ctx.supd, "--version"])),
        ("xargs", first_line([t["xargs"], "--version"]) if t["xargs"] else None),
        ("GNU parallel", first_line([t["parallel"], "--version"]) if t["parallel"] else None),
        ("supervisord", first_line([t["supervisord"], "--version"]) if t["supervisord"] else None),
        ("runit", deb_version("runit") if t["runsv"] else None),
        ("s6", deb_version("s6") if t["s6-supervise"] else None),
        ("Python", sys.version.split()[0]),
        ("OpenSSL", first_line([t["openssl"], "version"]) if t["openssl"] else None),
        ("bash (probe)", first_line([t["bash"], "--version"]) if t["bash"] else None),
        ("gnuplot", first_line([t["gnuplot"], "--version"]) if t["gnuplot"] else None),
    ]
    lines = [
        "| | |", "|---|---|",
        "| date | %s – %s (UTC) |" % (started.strftime("%Y-%m-%d %H:%M"), finished.strftime("%H:%M")),
        "| CPU | %s, nproc = %d |" % (cpu, os.cpu_count()),
        "| memory | %d MB |" % mem,
        "| kernel | %s %s |" % (platform.system(), platform.release()),
        "| load average (1/5/15 min) | start %s, end %s (the end includes bench/run's own last workload) |" % (
            " / ".join("%.2f" % x for x in load_start), " / ".join("%.2f" % x for x in load_end)),
        "| load average before each workload (1 min) | %s |" % (", ".join(
            "%s %.2f" % (r.id, r.load) for r in ctx.results_for_facts if r.load is not None) or "—"),
        "| repetitions | %d%s |" % (ctx.reps, " (--quick sizes)" if ctx.quick else ""),
        "| supd build | `%s`, source %s |" % (ctx.build, source_label(ctx.build)),
    ]
    for name, v in versions:
        lines.append("| %s | %s |" % (name, v if v else "n/a (not installed)"))
    return "\n".join(lines)


def source_label(build):
    """The commit the build was made from (git describe in its source tree)."""
    src = TOP
    try:
        with open(os.path.join(build, "Makefile")) as f:
            for line in f:
                if line.startswith("abs_top_srcdir = "):
                    src = line.split("=", 1)[1].strip()
                    break
    except OSError:
        pass
    d = first_line(["git", "-C", src, "describe", "--always", "--dirty"])
    return "`%s` at %s" % (src, d) if d else "`%s`" % src


def summary_row(res):
    label = res.summary or res.ratio_base
    supd = res.get(label) if label else None
    others = [r for r in res.rows if not r["is_supd"] and r["samples"]]
    best = None
    if others:
        best = min(others, key=lambda r: median(r["samples"]))
    sv = "%s %s" % (fmt_v(res, median(supd["samples"])), res.unit) if supd and supd["samples"] else "n/a"
    bv = "%s: %s %s" % (best["label"], fmt_v(res, median(best["samples"])), res.unit) if best else "—"
    verdict = {True: "**met**", False: "**missed**", None: "not measured"}[res.verdict]
    if QUICK[0] and res.verdict is not None:
        verdict = "smoke run, not judged: " + verdict.strip("*")
    return "| %s | %s | %s | %s | %s — %s |" % (res.title, res.target, sv, bv, verdict, res.verdict_text)


def detail(res, chart):
    base = res.get(res.ratio_base) if res.ratio_base else None
    bm = median(base["samples"]) if base and base["samples"] else None
    out = ["### %s" % res.title, ""]
    if chart:
        out += ["![%s](%s)" % (res.id, chart), ""]
    out += ["| | median | min | max | n | ratio to supd | note |", "|---|---|---|---|---|---|---|"]
    for r in res.rows:
        if r["na"]:
            out.append("| %s | n/a | | | | | %s |" % (r["label"], r["na"]))
            continue
        v = r["samples"]
        m = median(v)
        b = bm
        if r.get("vs") and res.get(r["vs"]) and res.get(r["vs"])["samples"]:
            b = median(res.get(r["vs"])["samples"])
        ratio = "%.2f×" % (m / b) if b and m is not None and not r["is_supd"] and b > 0 else \
            ("1" if r["label"] == res.ratio_base else "")
        out.append("| %s | %s %s | %s | %s | %d | %s | %s |" % (
            ("**%s**" % r["label"]) if r["is_supd"] else r["label"], fmt_v(res, m), res.unit,
            fmt_v(res, min(v)), fmt_v(res, max(v)), len(v), ratio, r["note"]))
    out += ["", "Target: %s. Result: %s%s." % (res.target,
                                              {True: "met", False: "**missed**", None: "not measured"}[res.verdict],
                                              (" (" + res.verdict_text + ")") if res.verdict_text else "")]
    for n in res.notes:
        out += ["", n]
    return "\n".join(out)


def chart(ctx, res, outdir):
    if not ctx.tools["gnuplot"]:
        return None
    rows = [r for r in res.rows if r["samples"]]
    if not rows:
        return None
    if res.cdf:
        return chart_cdf(ctx, res, rows, outdir)
    dat = os.path.join(ctx.work, res.id + ".dat")
    with open(dat, "w") as f:
        for r in rows:
            v = r["samples"]
            m = median(v)
            lo, hi = min(v), max(v)
            if res.log_scale:
                m, lo, hi = (max(x, 1e-4) for x in (m, lo, hi))
            label = r["label"].replace('"', "'").replace(" (", "\\n(").replace(": ", ":\\n").replace(", ", ",\\n")
            f.write('"%s" %g %g %g %d\n' % (label, m, lo, hi, SUPD_COLOR if r["is_supd"] else OTHER_COLOR))
    png = os.path.join(outdir, res.id + ".png")
    gp = [
        'set terminal pngcairo noenhanced size %d,500 font ",10"' % max(960, 190 * len(rows)),
        "set bmargin 5",
        "set output '%s'" % png,
        'set title "%s (median; bars: min–max)"' % res.title.replace('"', "'"),
        'set ylabel "%s"' % res.unit,
        "set style fill solid 0.8 border -1",
        "set boxwidth 0.6",
        "set grid ytics",
        "set key off",
        "set xrange [-0.6:%g]" % (len(rows) - 0.4),
        "set xtics scale 0 font \",9\"",
    ]
    if res.log_scale:
        gp += ["set logscale y", "set yrange [*:*]"]
    else:
        gp += ["set yrange [0:*]"]
    gp.append("plot '%s' using 0:2:5:xtic(1) with boxes lc rgb variable, "
              "'' using 0:3:(0):($4-$3) with vectors nohead lc rgb 'black', "
              "'' using 0:2:(sprintf('%s', $2)) with labels offset 0,1" % (dat, res.fmt.replace("%", "%")))
    r = subprocess.run([ctx.tools["gnuplot"]], input="\n".join(gp).encode(), stderr=subprocess.PIPE)
    if r.returncode != 0:
        log("gnuplot failed for %s: %s" % (res.id, r.stderr.decode(errors="replace")[-300:]))
        return None
    return os.path.basename(png)


def chart_cdf(ctx, res, rows, outdir):
    """Every sample against its percentile: shows the median and the tail."""
    png = os.path.join(outdir, res.id + ".png")
    gp = ['set terminal pngcairo noenhanced size 960,480 font ",10"', "set output '%s'" % png,
          'set title "%s (every sample by percentile)"' % res.title.replace('"', "'"),
          'set xlabel "percentile"', 'set ylabel "%s"' % res.unit, "set grid", "set key top left",
          "set xrange [0:100]", "set logscale y"]
    plots = []
    for i, r in enumerate(rows):
        dat = os.path.join(ctx.work, "%s-%d.dat" % (res.id, i))
        v = sorted(r["samples"])
        with open(dat, "w") as f:
            for k, x in enumerate(v):
                f.write("%g %g\n" % (100.0 * (k + 1) / len(v), max(x, 1e-3)))
        plots.append("'%s' using 1:2 with linespoints pt 7 ps 0.5 lc rgb '#%06x' title \"%s\"" % (
            dat, SUPD_COLOR if r["is_supd"] else OTHER_COLOR, r["label"].replace('"', "'")))
    gp.append("plot " + ", ".join(plots))
    r = subprocess.run([ctx.tools["gnuplot"]], input="\n".join(gp).encode(), stderr=subprocess.PIPE)
    if r.returncode != 0:
        log("gnuplot failed for %s: %s" % (res.id, r.stderr.decode(errors="replace")[-300:]))
        return None
    return os.path.basename(png)


ANALYSIS_BEGIN = "<!-- ANALYSIS BEGIN (hand-written; bench/run keeps this section) -->"
ANALYSIS_END = "<!-- ANALYSIS END -->"


def write_results(ctx, results, outdir, facts):
    path = os.path.join(outdir, "RESULTS.md")
    analysis = ANALYSIS_BEGIN + "\n## Analysis\n\n(not written yet)\n" + ANALYSIS_END
    try:
        with open(path) as f:
            old = f.read()
        i, j = old.find(ANALYSIS_BEGIN), old.find(ANALYSIS_END)
        if i >= 0 and j > i:
            analysis = old[i:j + len(ANALYSIS_END)]
    except OSError:
        pass
    charts = {}
    if not ctx.args.no_charts:
        for r in results:
            charts[r.id] = chart(ctx, r, outdir)
    out = ["# supd benchmarks", "",
           "Written by `bench/run`%s. Every competitor runs in the same run on the same machine, "
           "alternating inside each repetition; figures are medians, ratios are competitor ÷ supd "
           "(above 1: supd is faster or smaller)." % (" --quick: **smoke-test sizes, not the benchmark**"
                                                      if ctx.quick else ""), "",
           facts, "", "## Summary", "",
           "| workload | target | supd | best competitor | verdict |", "|---|---|---|---|---|"]
    out += [summary_row(r) for r in results]
    out += ["", analysis, "", "## Details", ""]
    for r in results:
        out += [detail(r, charts.get(r.id)), ""]
    out += ["<details><summary>raw samples</summary>", "", "```json",
            json.dumps({r.id: {"title": r.title, "unit": r.unit, "log_scale": r.log_scale, "fmt": r.fmt,
                               "cdf": r.cdf,
                               "rows": [{"label": row["label"], "is_supd": row["is_supd"], "na": row["na"],
                                         "samples": [round(x, 6) for x in row["samples"]]} for row in r.rows]}
                        for r in results}, indent=1, ensure_ascii=False),
            "```", "", "</details>", ""]
    with open(path, "w") as f:
        f.write("\n".join(out))
    return path


def replot(args):
    """Redraw the charts from the raw samples at the end of RESULTS.md."""
    with open(os.path.join(args.out, "RESULTS.md")) as f:
        text = f.read()
    try:
        raw = json.loads(text.split("<summary>raw samples</summary>")[1].split("```json")[1].split("```")[0])
    except (IndexError, ValueError):
        raise SystemExit("bench/run: no raw samples in %s/RESULTS.md" % args.out)

    class Tools:
        tools = {"gnuplot": shutil.which("gnuplot")}
        work = tempfile.mkdtemp(prefix="supd-bench-plot.")
    t = Tools()
    if not t.tools["gnuplot"]:
        raise SystemExit("bench/run: gnuplot is not installed")
    for wid, w in raw.items():
        r = Result(wid, w["title"], w["unit"], w["log_scale"], w["fmt"])
        r.cdf = w.get("cdf", wid == "timeout")
        for row in w["rows"]:
            r.row(row["label"], row["samples"], row["na"], row["is_supd"])
        log("%s: %s" % (wid, chart(t, r, args.out)))
    shutil.rmtree(t.work, ignore_errors=True)
    return 0


