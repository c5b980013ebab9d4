#!/usr/bin/python3
"""array_dask.py - Dask's side of issue 8's array benchmark (bench/run_array.sh
runs it beside bench_array_omp and weft's array program, in the same run).

Debian's python3-dask, threaded scheduler (dask.array's default), the same
shapes and chunks as the C programs:

  mulrev_ones    big = da.ones((200000, 4000), chunks=(1000, 1000))
                 (big * big[::-1, ::-1]).mean()
  cos2_ones      (da.cos(big) ** 2).mean(axis=1)
  mulrev_random  the same two with big = da.random.RandomState(SEED)
  cos2_random      .random_sample((200000, 4000), chunks=(1000, 1000))

da.ones chunks are zero-copy broadcast views of one element (Dask's
broadcast trick), which is why the ones variants are cheap in memory; the
random variants must make every chunk (numpy's MT19937 per chunk).

  array_dask.py CASE      one case in this process (peak RSS is the
                          process's, so run_array.sh gives each case its own)
  array_dask.py           every case, each in a fresh child process

Environment: REPS (timed computes after one untimed warm-up, default 3;
the warm-up also builds nothing twice: the graph is built once, timed as
build), WORKERS (threads, default all cores), ROWS (default 200000), SEED
(default 0). One line per case, in bench_array_omp's format:

  ARRAY sys=dask var=threads case=<case> threads=<n> reps=<r>
        seconds=<median> min=<s> max=<s> cpu=<s> peak_rss=<bytes>
        result=<value> first=<value> build=<s> tasks=<n>

cpu: median CPU seconds of a compute, all threads (time.process_time);
result: the scalar (mulrev) or the mean of the row means (cos2); first: the
first row mean (cos2) or the scalar again; peak_rss: the process's maximum
resident set (getrusage), imports and the interpreter included; build: the
seconds to build the expression's graph; tasks: its number of tasks.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = ["mulrev_ones", "cos2_ones", "mulrev_random", "cos2_random"]


def run(case):
    import numpy as np
    import dask
    import dask.array as da

    reps = max(1, int(os.environ.get("REPS", "3")))
    workers = int(os.environ.get("WORKERS", "0")) or os.cpu_count()
    rows = max(1000, int(os.environ.get("ROWS", "200000")) // 1000 * 1000)
    seed = int(os.environ.get("SEED", "0"))
    shape, chunks = (rows, 4000), (1000, 1000)

    t0 = time.perf_counter()
    if case.endswith("_ones"):
        big = da.ones(shape, chunks=chunks)
    else:
        big = da.random.RandomState(seed).random_sample(shape, chunks=chunks)
    if case.startswith("mulrev"):
        expr = (big * big[::-1, ::-1]).mean()
    else:
        expr = (da.cos(big) ** 2).mean(axis=1)
    tasks = len(expr.__dask_graph__())
    build = time.perf_counter() - t0

    times, cpus = [], []
    with dask.config.set(scheduler="threads", num_workers=workers):
        for r in range(reps + 1):
            t1, c1 = time.perf_counter(), time.process_time()
            res = expr.compute()
            if r:  # the first compute is the warm-up
                times.append(time.perf_counter() - t1)
                cpus.append(time.process_time() - c1)
    res = np.asarray(res)
    result = float(res.mean())
    first = float(res.flat[0])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    times.sort()
    print(f"ARRAY sys=dask var=threads case={case} threads={workers} "
          f"reps={reps} seconds={statistics.median(times):.6f} "
          f"min={times[0]:.6f} max={times[-1]:.6f} "
          f"cpu={statistics.median(cpus):.6f} peak_rss={peak} "
          f"result={result!r} first={first!r} build={build:.6f} "
          f"tasks={tasks}", flush=True)


def main(argv):
    if len(argv) == 2 and argv[1] in CASES:
        run(argv[1])
        return 0
    if len(argv) == 1:
        rc = 0
        for case in CASES:
            rc |= subprocess.call([sys.executable, argv[0], case])
        return rc
    print(__doc__, file=sys.stderr)
    print(f"array_dask.py: unknown case {argv[1:]}: {' '.join(CASES)}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
