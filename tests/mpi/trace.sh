#!/usr/bin/env bash
# trace.sh MPIRUN MPI_TRACE N - a traced compute under mpirun -n N (2
# threads per worker rank): the trace JSON, read with Python's json, must
# have one slice per task (36, each node once), each on a track named
# "rank R / thread T" (R a worker rank, T < 2), and no two slices of a
# track overlapping; the sum is checked against arithmetic done here.
# WEFT_MPI_MODE (central, groups, replicated) is the caller's; a
# replicated run must have run replicated.
set -u
mpirun=$1 prog=$2 n=${3:-3}
dir=$(mktemp -d) && trap 'rm -rf "$dir"' EXIT && cd "$dir" || exit 1
fail() { echo "FAIL: $*"; cat out err 2>/dev/null; exit 1; }
WEFT_WORKERS=2 timeout 60 "$mpirun" --timeout 50 -n "$n" "$prog" trace.json \
  >out 2>err || fail "exit $?"
# leaves 0..23 give i + 1 (300), six parts and six sums add one each
grep -qx "sum 312" out || fail "sum"
grep -qx "tasks 36" out || fail "task count"
if [ "${WEFT_MPI_MODE:-}" = replicated ]; then
  grep -qx "replicated 1" out || fail "the compute did not run replicated"
fi
/usr/bin/python3 - "$n" <<'PY' || fail "trace"
import json, re, sys
ranks = int(sys.argv[1])
d = json.load(open("trace.json"))
ev = d["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in ev
         if e.get("ph") == "M" and e.get("name") == "thread_name"}
slices = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "task"]
nodes = sorted(e["args"]["node"] for e in slices)
assert len(slices) == 36 and len(set(nodes)) == 36, (len(slices), len(set(nodes)))
tracks = {}
for e in slices:
    m = re.fullmatch(r"rank (\d+) / thread (\d+)", names.get(e["tid"], ""))
    assert m, ("track name", names.get(e["tid"]))
    assert 1 <= int(m.group(1)) < ranks and int(m.group(2)) < 2, m.group(0)
    assert e["dur"] >= 3000, ("a 4 ms task lasted", e["dur"])  # its run time
    tracks.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
for tid, v in tracks.items():
    v.sort()
    for a, b in zip(v, v[1:]):
        assert b[0] >= a[1] - 0.002, ("overlap on", names[tid], a, b)
threads = {names[t] for t in tracks}
assert len(threads) >= 2, threads  # more than one thread took tasks
# the threads inside a rank are told apart: some rank used both of its own
assert any(sum(n.startswith("rank %d /" % r) for n in threads) == 2
           for r in range(1, ranks)), threads
print("trace:", len(slices), "slices on", sorted(threads))
PY
echo "ok: $(grep -c . out) lines"
