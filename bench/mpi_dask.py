#!/usr/bin/env python3
"""bench/mpi_dask.py - the Dask distributed side of bench/run_mpi.sh: the
same workloads as bench/bench_mpi.c on LocalCluster(n_workers=2,
threads_per_worker=1) (processes, as dask-mpi's workers are): start-up, empty
tasks in chains (one per worker) and in the same random layered DAG, and
METG (the smallest task that keeps 50% efficiency on 2 cores). Prints
"BENCH dask_<name> <value>" lines. Run with Debian's /usr/bin/python3
(python3-distributed)."""
import logging
import os
import sys
import time

REPS = int(os.environ.get("REPS", "3"))


def spin(us, *deps):
    t0 = time.perf_counter()
    while us > 0 and (time.perf_counter() - t0) * 1e6 < us:
        pass
    return (1 + sum(d for d in deps)) & 0xFFFFFF


class Rng:  # the same LCG as bench_mpi.c, so the DAG is the same
    def __init__(self):
        self.s = 12345

    def __call__(self, n):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % 2**64
        return (self.s >> 33) % n


def dag_graph(n, width, us):
    rnd = Rng()
    g = {}
    for i in range(n):
        deps = []
        if i >= width:
            for _ in range(1 + rnd(3)):
                deps.append(("t", (i // width - 1) * width + rnd(width)))
        g[("t", i)] = (spin, us, *deps)
    last = n - n % width - (0 if n % width else width)
    g["out"] = (spin, 0, *[("t", i) for i in range(last, n)])
    return g, "out"


def chain_graph(c, length, us):
    g = {}
    for k in range(c):
        g[("c", k, 0)] = (spin, us)
        for i in range(1, length):
            g[("c", k, i)] = (spin, us, ("c", k, i - 1))
    return g, [("c", k, length - 1) for k in range(c)]


RUN = [0]


def renamed(g, keys):
    """The graph under fresh key names: Dask keeps results of a finished
    get() for a while, and a repeat with the same keys would find them."""
    RUN[0] += 1
    tag = "r%d" % RUN[0]

    def rk(k):
        return (tag,) + k if isinstance(k, tuple) else (tag, k)

    def rt(t):
        return (t[0],) + tuple(rk(a) if isinstance(a, (tuple, str)) else a
                               for a in t[1:])

    g2 = {rk(k): rt(t) for k, t in g.items()}
    k2 = [rk(k) for k in keys] if isinstance(keys, list) else rk(keys)
    return g2, k2


def timed(client, g, keys):
    best = 1e30
    for _ in range(REPS):
        g2, k2 = renamed(g, keys)
        t0 = time.perf_counter()
        client.get(g2, k2)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    print("BENCH dask_startup_s %.4f" % (time.perf_counter() - t0))
    length, ndag = 200, 2000  # smaller than weft's: Dask takes ms per task
    g, keys = chain_graph(2, length, 0)
    print("BENCH dask_chain_us %.3f" % (timed(client, g, keys) * 1e6 / (2 * length)))
    g, key = dag_graph(ndag, 64, 0)
    print("BENCH dask_dag_us %.3f" % (timed(client, g, key) * 1e6 / (ndag + 1)))
    metg = -1
    for us in (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        n = max(100, min(2000, int(0.3e6 * 2 / us)))
        g, key = dag_graph(n, 64, us)
        eff = n * us * 1e-6 / (2 * timed(client, g, key))
        print("BENCH dask_eff_%dus %.3f" % (us, eff))
        if eff >= 0.5:
            metg = us
            break
    print("BENCH dask_metg_us %d" % metg)
    client.close()
    cluster.close()


if __name__ == "__main__":
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("# Dask distributed not installed (python3-distributed): its "
              "rows are left out", file=sys.stderr)
        sys.exit(0)
    main()
