"""random_peer.py: the peers of random.lua.

    /usr/bin/python3 scripts/bench/random_peer.py numpy uniform|normal N
    /usr/bin/python3 scripts/bench/random_peer.py dask uniform|normal N

numpy: the default Generator (PCG64), blocks of 1e6 drawn and summed in a loop on one
core. dask: da.random.random / standard_normal of N in chunks of 1e6, summed on the
threaded scheduler with 2 workers. Each prints one line "RESULT k=v ...".
"""
import sys
import time

import numpy as np

CHUNK = 1_000_000


def main():
    who, dist, n = sys.argv[1], sys.argv[2], int(float(sys.argv[3]))
    t = time.perf_counter()
    if who == "numpy":
        rng = np.random.default_rng(0)
        draw = rng.random if dist == "uniform" else rng.standard_normal
        total = 0.0
        for _ in range(n // CHUNK):
            total += float(draw(CHUNK).sum())
    else:
        import dask
        import dask.array as da

        x = da.random.random(n, chunks=CHUNK) if dist == "uniform" else da.random.standard_normal(n, chunks=CHUNK)
        total = float(x.sum().compute(scheduler="threads", num_workers=2))
    seconds = time.perf_counter() - t
    print(f"RESULT seconds={seconds} mean={total / n:.6f}", flush=True)


if __name__ == "__main__":
    main()
