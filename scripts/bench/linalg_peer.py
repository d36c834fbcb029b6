"""linalg_peer.py: the peers of linalg.lua — numpy and dask.array on the same matrices.

    /usr/bin/python3 scripts/bench/linalg_peer.py DIR
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench/linalg_peer.py dgemm

DIR holds the matrices linalg.lua generated (tall.npy 1e6 x 100, sq.npy 5000 x 1000,
wide.npy 1e5 x 2000, dot_a.npy and dot_b.npy 4000 x 4000; each extent / 4 with
LINALG_SMALL=1) and lask's results (lask_CASE.npy: singular values, R for tsqr_tall,
the product for dot_sq), which this compares with numpy's. Prints one line "RESULT k=v ...": wall
seconds np_CASE and dask_CASE (best of REPS, and of more runs, up to MAX_REPS, while
all of them took less than FILL seconds: as linalg.lua times lask; one run when the
first takes longer than LONG seconds), chk_CASE the checks, the numpy/dask versions and numpy's OpenBLAS
core and threads. Dask arrays have lask's blocks and are persisted before timing; the
threaded scheduler (dask's default) runs them. The environment is left as it is.

`dgemm` times a @ b on 2000 x 2000 float64 (best of 3): run it with
OPENBLAS_NUM_THREADS=1 for the single-core figure.
"""
import ctypes
import os
import sys
import time

import numpy as np

REPS = 2
LONG = 5.0
FILL, MAX_REPS = 1.0, 10

CHUNKS = {"tall": (100_000, 100), "sq": (1000, 1000), "wide": (10_000, 2000), "dot_a": (1000, 1000),
          "dot_b": (1000, 1000)}
if os.environ.get("LINALG_SMALL") == "1":
    CHUNKS = {k: (r // 4, c // 4) for k, (r, c) in CHUNKS.items()}


def best(f, reps=REPS):
    times = []
    res = None
    while len(times) < reps or (sum(times) < FILL and len(times) < MAX_REPS):
        res = None
        t = time.perf_counter()
        res = f()
        times.append(time.perf_counter() - t)
        if times[-1] > LONG:
            break
    return min(times), res


def openblas():
    """numpy's OpenBLAS: (core name, threads), read from the loaded library."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
        for p in sorted(paths):
            lib = ctypes.CDLL(p)
            if hasattr(lib, "openblas_get_corename"):
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return lib.openblas_get_corename().decode(), lib.openblas_get_num_threads()
    except OSError:
        pass
    return "?", "?"


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def load_lask(d, case):
    p = os.path.join(d, "lask_" + case + ".npy")
    return np.load(p) if os.path.exists(p) else None


def dgemm():
    rng = np.random.default_rng(3)
    n = 500 if os.environ.get("LINALG_SMALL") == "1" else 2000
    a, b = rng.random((n, n)), rng.random((n, n))
    a @ b
    t, _ = best(lambda: a @ b, 3)
    core, threads = openblas()
    print(f"RESULT np_gflops={2 * n**3 / t / 1e9:.3f} np_core={core} np_threads={threads}", flush=True)


def main(d):
    out = {"numpy": np.__version__, "reps": REPS, "long": LONG}
    core, threads = openblas()
    out["np_core"], out["np_threads"] = core, threads
    X = {name: np.load(os.path.join(d, name + ".npy")) for name in CHUNKS}
    checks = {}

    # numpy
    out["np_svd_tall"], (_, s, _) = best(lambda: np.linalg.svd(X["tall"], full_matrices=False))
    ls = load_lask(d, "svd_tall")
    if ls is not None:
        checks["chk_svd_tall"] = rel(ls, s)
    out["np_svd_sq"], (_, s_sq, _) = best(lambda: np.linalg.svd(X["sq"], full_matrices=False))
    ls = load_lask(d, "svd_sq")
    if ls is not None:
        checks["chk_svd_sq"] = rel(ls, s_sq)
    # the floor of any SVD through R: numpy's (LAPACK's dgesdd, both cores) SVD of the
    # n x n R alone (linalg.lua adds the rest of lask's flops at the dgemm rate)
    r_sq = np.linalg.qr(X["sq"], mode="r")
    out["np_svd_r"], _ = best(lambda: np.linalg.svd(r_sq))
    del r_sq
    ls = load_lask(d, "svdc_sq")
    if ls is not None:
        checks["chk_svdc_sq"] = rel(ls, s_sq[:100])
    out["np_tsqr_tall"], (_, r) = best(lambda: np.linalg.qr(X["tall"]))
    lr = load_lask(d, "tsqr_tall")
    if lr is not None:
        checks["chk_tsqr_tall"] = float(np.max(np.abs(np.abs(lr) - np.abs(r))) / np.max(np.abs(r)))
    del r
    out["np_dot_sq"], c = best(lambda: X["dot_a"] @ X["dot_b"])
    lc = load_lask(d, "dot_sq")
    if lc is not None:
        checks["chk_dot_sq"] = float(np.max(np.abs(lc - c)) / np.max(np.abs(c)))
    del c, lc

    # dask
    import dask
    import dask.array as da

    out["dask"] = dask.__version__
    dask.config.set(scheduler="threads")
    xd = {name: da.from_array(X[name], chunks=CHUNKS[name]).persist() for name in CHUNKS}
    out["dask_svd_tall"], _ = best(lambda: dask.compute(*da.linalg.svd(xd["tall"])))
    out["dask_svd_sq"], _ = best(lambda: dask.compute(*da.linalg.svd(xd["sq"])))
    out["dask_svdc_sq"], (_, s, _) = best(
        lambda: dask.compute(*da.linalg.svd_compressed(xd["sq"], 100, n_power_iter=2, seed=0)))
    checks["chk_svdc_sq_dask"] = rel(s, s_sq[:100])
    out["dask_svdc_wide"], (_, s, _) = best(
        lambda: dask.compute(*da.linalg.svd_compressed(xd["wide"], 50, n_power_iter=2, seed=0)))
    ls = load_lask(d, "svdc_wide")
    if ls is not None:
        checks["chk_svdc_wide"] = rel(ls, s)
    out["dask_tsqr_tall"], _ = best(lambda: dask.compute(*da.linalg.tsqr(xd["tall"])))
    out["dask_dot_sq"], _ = best(lambda: da.dot(xd["dot_a"], xd["dot_b"]).compute())

    out.update(checks)
    parts = []
    for k, v in sorted(out.items()):
        parts.append(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}")
    print("RESULT " + " ".join(parts), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "dgemm":
        dgemm()
    else:
        main(sys.argv[1])
