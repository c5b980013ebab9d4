#!/usr/bin/env python3
"""check_trace.py - reads a weft trace (Chrome trace event JSON) with
Python's json parser and checks it: every task slice is a complete event
("ph": "X") with ts >= 0 and dur >= 0; no node appears twice in one
compute; a track's (pid, tid) slices never overlap; and, when asked, the
number of slices (in all, per function) and of instant events by name.

  check_trace.py FILE [--tasks N] [--fn NAME=N]... [--instant NAME=N]...
                      [--computes N] [--min-instant NAME=N]...
Prints what it found; exits 1 with the reason on the first failure."""
import json
import sys
from collections import Counter, defaultdict


def fail(msg):
    print("check_trace: " + msg)
    sys.exit(1)


def main(argv):
    path = argv[1]
    want = {"tasks": None, "fn": {}, "instant": {}, "min_instant": {}, "computes": None}
    i = 2
    while i < len(argv):
        a, v = argv[i], argv[i + 1]
        i += 2
        if a == "--tasks":
            want["tasks"] = int(v)
        elif a == "--computes":
            want["computes"] = int(v)
        elif a in ("--fn", "--instant", "--min-instant"):
            k, n = v.rsplit("=", 1)
            want[a[2:].replace("-", "_")][k] = int(n)
        else:
            fail("unknown option " + a)
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)  # raises on anything that is not JSON
    evs = doc["traceEvents"]
    slices = [e for e in evs if e.get("ph") == "X"]
    instants = Counter(e["name"] for e in evs if e.get("ph") == "i" and e.get("cat") != "compute")
    computes = {e["pid"] for e in evs if e.get("cat") == "compute"}
    seen = set()
    tracks = defaultdict(list)
    for e in slices:
        for k in ("name", "pid", "tid", "ts", "dur", "args"):
            if k not in e:
                fail("slice without %s: %r" % (k, e))
        if e["ts"] < 0 or e["dur"] < 0:
            fail("slice ends before it starts: %r" % e)
        node = (e["pid"], e["args"]["node"])
        if node in seen:
            fail("task %r appears twice" % (node,))
        seen.add(node)
        tracks[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["args"]["key"]))
    for tr, v in tracks.items():
        v.sort()
        for a, b in zip(v, v[1:]):
            if b[0] < a[1] - 0.002:  # ts and dur are written to 0.001 us
                fail("slices overlap on track %r: %r and %r" % (tr, a, b))
    fns = Counter(e["name"] for e in slices)
    print("check_trace: %d slices on %d tracks, %d computes, functions %s, instants %s" %
          (len(slices), len(tracks), len(computes), dict(fns), dict(instants)))
    if want["tasks"] is not None and len(slices) != want["tasks"]:
        fail("%d task slices, want %d" % (len(slices), want["tasks"]))
    if want["computes"] is not None and len(computes) != want["computes"]:
        fail("%d computes, want %d" % (len(computes), want["computes"]))
    for k, n in want["fn"].items():
        if fns[k] != n:
            fail("%d slices of %s, want %d" % (fns[k], k, n))
    for k, n in want["instant"].items():
        if instants[k] != n:
            fail("%d instant events %s, want %d" % (instants[k], k, n))
    for k, n in want["min_instant"].items():
        if instants[k] < n:
            fail("%d instant events %s, want at least %d" % (instants[k], k, n))
    print("check_trace: ok")


if __name__ == "__main__":
    main(sys.argv)
