"""multiprocessing_dask.py: the peer side of multiprocessing.lua.

    /usr/bin/python3 multiprocessing_dask.py cpu|trivial NTASKS WORK_MS

A fan-in of NTASKS Python tasks then one sum, on dask.multiprocessing.get with 2
workers. cpu: each task burns about WORK_MS ms (calibrated here); trivial: i + 1.
Prints "RESULT seconds=...".
"""
import sys
import time

import dask.multiprocessing


def burn(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s


def inc(i):
    return i + 1


def calibrate(ms):
    n = 1000
    while True:
        n *= 2
        t = time.perf_counter()
        burn(n)
        dt = time.perf_counter() - t
        if dt > 0.01:
            return int(n * ms * 0.001 / dt)


def main():
    kind, ntasks, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fn, arg = (burn, calibrate(work)) if kind == "cpu" else (inc, None)
    d = {}
    keys = []
    for i in range(ntasks):
        k = ("t", i)
        d[k] = (fn, arg if arg is not None else i)
        keys.append(k)
    d["total"] = (sum, keys)
    t = time.perf_counter()
    dask.multiprocessing.get(d, "total", num_workers=2)
    print("RESULT seconds=%.6f" % (time.perf_counter() - t))


if __name__ == "__main__":
    main()
