#!/usr/bin/python3
"""map_python.py - the Python side of weft's parallel-map benchmark (issue 3).

bench/run_map.sh runs it beside bench_map (the weft side) in the same run, so
the ratios compare numbers taken on the same machine at the same time. It
measures what the anchors measured (anchors/py/joblib_bench.py,
pool_bench.py, factors_bench.py), the same way, and prints one line per
measurement in bench_map's format:

  MAP sys=<system> what=<measure> key=value ...

Units (arguments; all when none):
  loky       joblib Parallel(n_jobs=-1, backend='loky'), batch_size='auto',
             a fresh Parallel per call (loky keeps its executor between calls,
             as users get it): first call of 10 tasks (worker start-up), then
             10,000 and 1,000,000 calls of inc
  threading  the same with backend='threading' (10,000 only: 1,000,000 would
             take about a minute)
  pool       multiprocessing Pool(2) (fork): constructor + first map([0, 1]),
             then pool.map(inc, range(N)) with the default chunksize on the
             running pool, N = 10,000 and 1,000,000
  factors    trial division of random.Random(0).randint(20000, 100000000)
             x 10,000: sequential, Pool(2).map on a running pool (its start
             reported apart), loky n_jobs=2 warm (after a first call)
Overhead per item = (median call time - median plain loop time) / n, the
plain loop being [inc(i) for i in range(n)], as bench_map defines it for
weft. REPS (environment, default 5) repetitions; 1,000,000-item runs use
REPS_BIG (default 2).
"""
import multiprocessing as mp
import os
import random
import statistics
import sys
import time

REPS = max(1, int(os.environ.get("REPS", "5")))
REPS_BIG = max(1, int(os.environ.get("REPS_BIG", "2")))


def now():
    return time.perf_counter()


def inc(x):
    return x + 1


def factors(n):
    out = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            out.append(d)
            n //= d
        d += 1
    if n > 1:
        out.append(n)
    return out


def emit(**kv):
    print("MAP " + " ".join("%s=%s" % (k, v) for k, v in kv.items()), flush=True)


def med(f, reps):
    return statistics.median([f() for _ in range(reps)])


def loop_time(n, reps):
    def run():
        t0 = now()
        r = [inc(i) for i in range(n)]
        dt = now() - t0
        assert r[-1] == n
        return dt
    return med(run, reps)


def overhead(sysname, n, call, reps):
    loop = loop_time(n, reps)

    def run():
        t0 = now()
        r = call(n)
        dt = now() - t0
        assert len(r) == n and sum(r) == n * (n + 1) // 2, "wrong results"
        return dt
    t = med(run, reps)
    emit(sys=sysname, what="overhead", n=n, workers=os.cpu_count(),
         loop_ns="%.2f" % (loop / n * 1e9), map_ns="%.2f" % (t / n * 1e9),
         over_ns="%.2f" % ((t - loop) / n * 1e9), reps=reps)


def unit_joblib(backend, sizes):
    try:
        from joblib import Parallel, delayed
    except ImportError:
        print("SKIP %s: joblib is not installed (apt-get install python3-joblib)" % backend)
        return
    t0 = now()
    r = Parallel(n_jobs=-1, backend=backend)(delayed(inc)(i) for i in range(10))
    first = now() - t0
    assert sum(r) == 55
    emit(sys="joblib-" + backend, what="start", workers=os.cpu_count(),
         first_ms="%.3f" % (first * 1e3), reps=1)

    def call(n):
        return Parallel(n_jobs=-1, backend=backend)(delayed(inc)(i) for i in range(n))
    for n in sizes:
        overhead("joblib-" + backend, n, call, REPS if n <= 100000 else REPS_BIG)


def unit_pool(sizes):
    ctx = mp.get_context("fork")
    starts, firsts = [], []
    for _ in range(REPS):
        t0 = now()
        pool = ctx.Pool(2)
        t1 = now()
        pool.map(inc, [0, 1])
        t2 = now()
        pool.close()
        pool.join()
        starts.append(t1 - t0)
        firsts.append(t2 - t0)
    emit(sys="mp-pool", what="start", workers=2,
         new_ms="%.3f" % (statistics.median(starts) * 1e3),
         first_ms="%.3f" % (statistics.median(firsts) * 1e3), reps=REPS)
    with ctx.Pool(2) as pool:
        pool.map(inc, range(1000))
        for n in sizes:
            overhead("mp-pool", n, lambda k: pool.map(inc, range(k)),
                     REPS if n <= 100000 else REPS_BIG)


def unit_factors(n):
    rng = random.Random(0)
    xs = [rng.randint(20000, 100000000) for _ in range(n)]

    def check(res):
        nf = sum(len(r) for r in res)
        sf = sum(sum(r) for r in res)
        return nf, sf

    def timed(f):
        t0 = now()
        r = f()
        return now() - t0, r

    reps = max(1, min(REPS, 3))
    seq_t = []
    for _ in range(reps):
        dt, res = timed(lambda: [factors(x) for x in xs])
        seq_t.append(dt)
    nf, sf = check(res)
    seq = statistics.median(seq_t)
    emit(sys="py-seq", what="factors", n=n, workers=1, wall_ms="%.3f" % (seq * 1e3),
         sum_inputs=sum(xs), n_factors=nf, sum_factors=sf, reps=reps)
    ctx = mp.get_context("fork")
    t0 = now()
    with ctx.Pool(2) as pool:
        start = now() - t0
        ts = []
        for _ in range(reps):
            dt, r = timed(lambda: pool.map(factors, xs))
            assert check(r) == (nf, sf)
            ts.append(dt)
    t = statistics.median(ts)
    emit(sys="mp-pool", what="factors", n=n, workers=2, wall_ms="%.3f" % (t * 1e3),
         speedup="%.3f" % (seq / t), start_ms="%.3f" % (start * 1e3), reps=reps)
    try:
        from joblib import Parallel, delayed
    except ImportError:
        print("SKIP loky factors: joblib is not installed")
        return
    Parallel(n_jobs=2, backend="loky")(delayed(factors)(x) for x in xs[:10])  # warm
    ts = []
    for _ in range(reps):
        dt, r = timed(lambda: Parallel(n_jobs=2, backend="loky")(delayed(factors)(x) for x in xs))
        assert check(r) == (nf, sf)
        ts.append(dt)
    t = statistics.median(ts)
    emit(sys="joblib-loky", what="factors", n=n, workers=2, wall_ms="%.3f" % (t * 1e3),
         speedup="%.3f" % (seq / t), reps=reps)


def main():
    units = sys.argv[1:] or ["loky", "threading", "pool", "factors"]
    for u in units:
        if u == "loky":
            unit_joblib("loky", [10000, 1000000])
        elif u == "threading":
            unit_joblib("threading", [10000])
        elif u == "pool":
            unit_pool([10000, 1000000])
        elif u == "factors":
            unit_factors(10000)
        else:
            sys.exit("usage: map_python.py [loky] [threading] [pool] [factors]")


if __name__ == "__main__":
    main()
