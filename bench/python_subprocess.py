#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The textbook Python answer to "run these commands, N at a time": a
bounded thread pool whose workers each do subprocess.Popen(...) and
communicate(). One of the competitors of bench/run.

  python_subprocess.py -j P -n N -- CMD [ARG...]
      run CMD N times, at most P at once, capturing stdout and stderr
  python_subprocess.py -j P --in-dir IN --out-dir OUT [--suffix S] -- CMD [ARG...]
      for every file F in IN: CMD < IN/F > OUT/F+S, stderr captured

Exit status: 0 if every run exited 0, 1 otherwise.
"""
import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def run(argv, stdin_path=None, stdout_path=None):
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    try:
        p = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
        _out, err = p.communicate()
    finally:
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()
    if p.returncode != 0:
        sys.stderr.write("%s exited %d: %s\n" % (argv[0], p.returncode, err.decode(errors="replace").strip()))
    return p.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", type=int, default=os.cpu_count(), help="most runs at once")
    ap.add_argument("-n", type=int, default=1, help="runs of CMD (without --in-dir)")
    ap.add_argument("--in-dir")
    ap.add_argument("--out-dir")
    ap.add_argument("--suffix", default="")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    with ThreadPoolExecutor(max_workers=a.j) as pool:
        if a.in_dir:
            names = sorted(os.listdir(a.in_dir))
            futures = [pool.submit(run, cmd, os.path.join(a.in_dir, f), os.path.join(a.out_dir, f + a.suffix))
                       for f in names]
        else:
            futures = [pool.submit(run, cmd) for _ in range(a.n)]
        codes = [f.result() for f in futures]
    return 0 if all(c == 0 for c in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
