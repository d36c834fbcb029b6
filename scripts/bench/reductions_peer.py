"""reductions_peer.py: the peers of reductions.lua — numpy and dask.array on the same work.

    /usr/bin/python3 scripts/bench/reductions_peer.py [--full | --quick | --tiny]

Prints one line "RESULT k=v ..." with the best-of-3 wall seconds of each case
(np_* for numpy, dask_* for dask.array on its threaded scheduler): cumsum of 5e7
float64 (dask: 8 blocks), median along axis 0 of 5000 x 10000 (dask: blocks of
1000 x 5000, as reductions.lua).
"""
import sys

import numpy as np

from array_numpy import best  # best of 3 wall seconds, as array.lua's peer

SIZE = "quick" if "--quick" in sys.argv else "tiny" if "--tiny" in sys.argv else "full"
N = {"full": 50_000_000, "quick": 5_000_000, "tiny": 200_000}[SIZE]
M = {"full": (5_000, 10_000), "quick": (500, 10_000), "tiny": (50, 400)}[SIZE]



def main():
    out = {}
    rng = np.random.default_rng(0)
    x = rng.random(N)
    out["np_cumsum"] = best(lambda: np.cumsum(x))
    X = rng.random(M)
    out["np_median"] = best(lambda: np.median(X, axis=0))

    import dask
    import dask.array as da

    dask.config.set(scheduler="threads")
    xd = da.from_array(x, chunks=N // 8).persist()
    out["dask_cumsum"] = best(lambda: xd.cumsum(axis=0).compute())
    Xd = da.from_array(X, chunks=(M[0] // 5, M[1] // 2)).persist()
    out["dask_median"] = best(lambda: da.median(Xd, axis=0).compute())
    print("RESULT " + " ".join(f"{k}={v:.6f}" for k, v in sorted(out.items())), flush=True)


if __name__ == "__main__":
    main()
