"""array_numpy.py: the peers of array.lua — numpy and dask.array on the same work.

    /usr/bin/python3 scripts/bench/array_numpy.py [--quick]

Prints one line "RESULT k=v ..." with the best-of-3 wall seconds of each case
(np_* for numpy, dask_* for dask.array on its threaded scheduler), sizes as in
array.lua: 5e7 float64 (elementwise, sum, std), 5000 x 10000 (mean over axis 0,
std), 4000 x 4000 matrix product (dask with 1000 x 1000 blocks).
"""
import sys
import time

import numpy as np

QUICK = "--quick" in sys.argv
N = 5_000_000 if QUICK else 50_000_000
M = (500, 10_000) if QUICK else (5_000, 10_000)
K = 1_000 if QUICK else 4_000
CHUNK = N // 8
REPS = 3


def best(f):
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    out = {}
    rng = np.random.default_rng(0)
    x = rng.random(N)
    out["np_ew"] = best(lambda: (2 * x + 1) ** 3)
    out["np_sum"] = best(lambda: x.sum())
    out["np_std1"] = best(lambda: x.std())
    X = rng.random(M)
    out["np_mean0"] = best(lambda: X.mean(axis=0))
    out["np_std"] = best(lambda: X.std())
    A = rng.random((K, K))
    B = rng.random((K, K))
    out["np_dot"] = best(lambda: A @ B)
    b, c, a = rng.random(N), rng.random(N), np.empty(N)

    def triad():
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)

    out["np_triad"] = best(triad)

    import dask
    import dask.array as da

    dask.config.set(scheduler="threads")
    xd = da.from_array(x, chunks=CHUNK).persist()
    out["dask_ew"] = best(lambda: ((2 * xd + 1) ** 3).compute())
    out["dask_sum"] = best(lambda: xd.sum().compute())
    out["dask_std1"] = best(lambda: xd.std().compute())
    Xd = da.from_array(X, chunks=(M[0] // 5, M[1] // 2)).persist()
    out["dask_mean0"] = best(lambda: Xd.mean(axis=0).compute())
    out["dask_std"] = best(lambda: Xd.std().compute())
    Ad = da.from_array(A, chunks=K // 4).persist()
    Bd = da.from_array(B, chunks=K // 4).persist()
    out["dask_dot"] = best(lambda: Ad.dot(Bd).compute())
    print("RESULT " + " ".join(f"{k}={v:.6f}" for k, v in sorted(out.items())), flush=True)


if __name__ == "__main__":
    main()
