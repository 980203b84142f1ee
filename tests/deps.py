#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""No dependency cycle among supd's objects (issue 9): the link-level graph
of the given object files, from nm (A -> B when A uses a symbol B defines),
with every strongly connected component of more than one object printed.
Exit status 1 if there is any, 0 if none."""
import subprocess
import sys

objs = sys.argv[1:]
if not objs:
    sys.exit("usage: deps.py OBJECT...")
defs, uses = {}, {}
for o in objs:
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    d, u = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            u.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCG" and parts[2] != "main":
            d.add(parts[2])
    defs[o], uses[o] = d, u
edges = {o: set() for o in objs}
for a in objs:
    for b in objs:
        if a != b and uses[a] & defs[b]:
            edges[a].add(b)
# Tarjan SCC
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: sccs.append(c)
sys.setrecursionlimit(10000)
for v in objs:
    if v not in index: strong(v)
for c in sccs:
    print("cycle:", " ".join(sorted(c)))
    for a in sorted(c):
        for b in sorted(edges[a] & set(c)):
            print(f"   {a} -> {b}: {', '.join(sorted(uses[a] & defs[b])[:6])}")
print(f"{len(objs)} objects, {sum(len(e) for e in edges.values())} dependencies, "
      f"{len(sccs)} cycle{'' if len(sccs) == 1 else 's'}")
sys.exit(1 if sccs else 0)
