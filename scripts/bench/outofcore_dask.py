"""outofcore_dask.py: the peer of outofcore.lua, and its numpy check of lask's file.

    /usr/bin/python3 scripts/bench/outofcore_dask.py sum ROWS COLS CHUNK
    /usr/bin/python3 scripts/bench/outofcore_dask.py store ROWS COLS CHUNK PATH
    /usr/bin/python3 scripts/bench/outofcore_dask.py check PATH ROWS COLS HEAD TAIL

sum and store do what outofcore.lua's children do with dask.array (threaded
scheduler): the sum of a lazily generated random array, and the same array stored
into a .npy file (dask has no .npy writer: da.store into np.lib.format.open_memmap,
the usual way). check loads lask's file with np.load(mmap_mode="r") and compares it
with the values lask printed. Each prints one line "RESULT k=v ...".
"""
import resource
import sys
import time

import numpy as np


def emit(**kv):
    print("RESULT " + " ".join(f"{k}={v}" for k, v in sorted(kv.items())), flush=True)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    case = sys.argv[1]
    if case == "check":
        path, rows, cols = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        head = np.array([float(v) for v in sys.argv[5].split(",")])
        tail = np.array([float(v) for v in sys.argv[6].split(",")])
        x = np.load(path, mmap_mode="r")
        same = x.shape == (rows, cols) and np.array_equal(x[0, :3], head) and np.array_equal(x[-1, -3:], tail)
        mean = float(np.mean([x[i : i + 1000].mean() for i in range(0, rows, 1000)]))
        emit(shape=f"{x.shape[0]}x{x.shape[1]}", dtype=str(x.dtype), corners="equal" if same else "DIFFERENT",
             mean=f"{mean:.6f}")
        return
    import dask.array as da

    rows, cols, chunk = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    x = da.random.random((rows, cols), chunks=(chunk, chunk))
    t = time.perf_counter()
    if case == "sum":
        value = float(x.sum().compute())
        emit(seconds=time.perf_counter() - t, peak_mb=peak_mb(), value=f"{value:.17g}")
    else:
        out = np.lib.format.open_memmap(sys.argv[5], mode="w+", dtype=np.float64, shape=(rows, cols))
        da.store(x, out)
        out.flush()
        del out
        emit(seconds=time.perf_counter() - t, peak_mb=peak_mb())


main()
