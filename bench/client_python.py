#!/usr/bin/env python3
"""bench/client_python.py - the Python side of the futures benchmark of
issue 10 (bench/run_client.sh runs it beside bench_client): the same four
measurements on concurrent.futures.ThreadPoolExecutor and on Dask's
distributed Client(processes=False), 2 worker threads each:

  latency       submit one trivial call, wait for its result (median of
                batches, microseconds per future)
  burst         submit N without waiting, then wait for all (futures/s)
  sync          submit and wait on each in turn (futures/s)
  as_completed  N submitted, then iterated in completion order (futures/s)

Counts are smaller than weft's (Python is slower: 1,000,000 futures would
take minutes through Dask) and printed with each line; rates are per second,
so they compare. Prints lines like bench_client's:
  CLIENT impl=<name> what=<name> n=<count> value=<number> unit=<unit>
A missing module prints SKIP lines instead.

usage: client_python.py [threadpool|dask]...   (default: both)
"""
import statistics
import sys
import time


def noop(x):
    return x


def measure(impl, submit, result, as_completed, n_lat_batches, batch,
            n_burst, n_sync, n_ac):
    per = []
    for b in range(n_lat_batches + 2):
        t0 = time.perf_counter()
        for i in range(batch):
            f = submit(noop, i)
            if result(f) != i:
                raise SystemExit("FAIL %s: wrong result" % impl)
        if b >= 2:
            per.append((time.perf_counter() - t0) / batch)
    print("CLIENT impl=%s what=latency n=%d value=%.3f unit=us" %
          (impl, batch * n_lat_batches, statistics.median(per) * 1e6))

    t0 = time.perf_counter()
    fs = [submit(noop, i) for i in range(n_burst)]
    vals = [result(f) for f in fs]
    t = time.perf_counter() - t0
    if vals != list(range(n_burst)):
        raise SystemExit("FAIL %s: wrong burst results" % impl)
    print("CLIENT impl=%s what=burst n=%d value=%.0f unit=futures/s" %
          (impl, n_burst, n_burst / t))
    del fs, vals

    t0 = time.perf_counter()
    for i in range(n_sync):
        result(submit(noop, i))
    t = time.perf_counter() - t0
    print("CLIENT impl=%s what=sync n=%d value=%.0f unit=futures/s" %
          (impl, n_sync, n_sync / t))

    t0 = time.perf_counter()
    fs = [submit(noop, i) for i in range(n_ac)]
    total = 0
    for f in as_completed(fs):
        total += result(f)
    t = time.perf_counter() - t0
    if total != n_ac * (n_ac - 1) // 2:
        raise SystemExit("FAIL %s: wrong as_completed results" % impl)
    print("CLIENT impl=%s what=as_completed n=%d value=%.0f unit=futures/s" %
          (impl, n_ac, n_ac / t))
    sys.stdout.flush()


def bench_threadpool():
    import concurrent.futures as cf
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        measure("ThreadPoolExecutor", ex.submit, lambda f: f.result(),
                cf.as_completed, 20, 1000, 100000, 20000, 100000)


def bench_dask():
    try:
        from distributed import Client, as_completed
    except ImportError:
        print("SKIP dask: distributed is not installed "
              "(apt-get install python3-distributed)")
        return
    import logging
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with Client(processes=False, n_workers=1, threads_per_worker=2,
                dashboard_address=None) as client:
        measure("dask.Client", lambda fn, x: client.submit(fn, x, pure=False),
                lambda f: f.result(), as_completed, 5, 20, 1000, 100, 1000)


def main():
    which = sys.argv[1:] or ["threadpool", "dask"]
    for w in which:
        if w == "threadpool":
            bench_threadpool()
        elif w == "dask":
            bench_dask()
        else:
            raise SystemExit("usage: client_python.py [threadpool|dask]...")


if __name__ == "__main__":
    main()
