"""map_overlap_peer.py: the peers of map_overlap.lua — numpy and dask.array.

    /usr/bin/python3 scripts/bench/map_overlap_peer.py N BLOCKS

Prints one line "RESULT np_s=... dask_s=..." with the best-of-3 wall seconds of the
3-point stencil 0.25 x[i-1] + 0.5 x[i] + 0.25 x[i+1] over N float64: numpy on the
whole array (np.pad symmetric: Dask's "reflect"), dask.array.map_overlap with
depth 1, boundary "reflect", trim=False, on the threaded scheduler, BLOCKS blocks.
"""
import sys

import numpy as np

from array_numpy import best  # best of 3 wall seconds, as array.lua's peer

N = int(sys.argv[1])
BLOCKS = int(sys.argv[2])



def stencil(b):
    return 0.25 * b[:-2] + 0.5 * b[1:-1] + 0.25 * b[2:]


def main():
    out = {}
    x = np.random.default_rng(0).random(N)
    out["np_s"] = best(lambda: stencil(np.pad(x, 1, mode="symmetric")))

    import dask
    import dask.array as da

    dask.config.set(scheduler="threads")
    xd = da.from_array(x, chunks=-(-N // BLOCKS)).persist()
    y = da.map_overlap(stencil, xd, depth=1, boundary="reflect", trim=False, dtype=x.dtype)
    out["dask_s"] = best(lambda: y.compute())
    ref = stencil(np.pad(x, 1, mode="symmetric"))
    assert np.allclose(y.compute(), ref), "dask's result differs from numpy's"
    print("RESULT " + " ".join("%s=%.6f" % kv for kv in out.items()))


main()
