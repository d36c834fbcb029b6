"""indexing_peer.py: the peers of indexing.lua — numpy and dask.array on the same work.

    /usr/bin/python3 scripts/bench/indexing_peer.py [--n N]

Prints one line "RESULT k=v ..." with the best-of-3 wall seconds of each case
(np_* for numpy, dask_* for dask.array on its threaded scheduler, 8 blocks, the
input persisted): x[x > 0.5].sum() and x[x > 0.5] computed.
"""
import sys

import numpy as np

from array_numpy import best  # best of 3 wall seconds, as array.lua's peer

N = int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 50_000_000


def main():
    out = {}
    x = np.random.default_rng(0).random(N)
    out["np_mask_sum"] = best(lambda: x[x > 0.5].sum())
    out["np_mask_compute"] = best(lambda: x[x > 0.5])

    import dask
    import dask.array as da

    dask.config.set(scheduler="threads")
    xd = da.from_array(x, chunks=(N + 7) // 8).persist()
    out["dask_mask_sum"] = best(lambda: xd[xd > 0.5].sum().compute())
    out["dask_mask_compute"] = best(lambda: xd[xd > 0.5].compute())
    print("RESULT " + " ".join(f"{k}={v:.6f}" for k, v in sorted(out.items())), flush=True)


if __name__ == "__main__":
    main()
