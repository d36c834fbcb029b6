"""overhead_dask.py: the peer side of overhead.lua, on Dask's local schedulers.

    /usr/bin/python3 overhead_dask.py SHAPE N HEADS SCHED WORKERS [WORK_US [REPS]]

The same graphs as overhead.lua (see there), as Dask writes them: tuple keys,
tuple tasks. HEADS native = builtins (operator.add, sum); HEADS lua = functions
defined in Python, the counterpart of Lua-function heads. SCHED sync =
dask.local.get_sync, threaded = dask.threaded.get(num_workers=WORKERS).
Prints one "RESULT k=v ..." line, with the fields overhead.lua gives.
"""
import gc
import operator
import sys
import time

import dask
import dask.local
import dask.threaded


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def heads(kind, work_us):
    if kind == "native":
        if work_us > 0:
            raise SystemExit("overhead_dask: no native kernel with work in Python")
        return (lambda a, b: (operator.add, a, b)), sum

    if work_us > 0:
        dt = work_us * 1e-6
        clock = time.perf_counter

        def add(a, b):
            t = clock() + dt
            while clock() < t:
                pass
            return a + b
    else:
        def add(a, b):
            return a + b

    def total(xs):
        s = 0
        for x in xs:
            s += x
        return s

    return (lambda a, b: (add, a, b)), total


def build(shape, n, kind, work_us):
    op, total = heads(kind, work_us)
    dsk = {}
    if shape == "chain":
        prev = ("c", 0)
        dsk[prev] = op(0, 1)
        for i in range(1, n):
            k = ("c", i)
            dsk[k] = op(prev, 1)
            prev = k
        return dsk, prev, n, n
    if shape == "fanin":
        ks = []
        for i in range(1, n):
            k = ("f", i)
            dsk[k] = op(i, 1)
            ks.append(k)
        out = ("fsum", 0)
        dsk[out] = (total, ks)
        return dsk, out, (n - 1) * n // 2 + (n - 1), n
    if shape == "tree":
        leaves = (n + 1) // 2
        level = []
        for i in range(leaves):
            k = ("t", 0, i)
            dsk[k] = op(i, 1)
            level.append(k)
        count, depth = leaves, 0
        while len(level) > 1:
            depth += 1
            up = []
            for j in range((len(level) + 1) // 2):
                k = ("t", depth, j)
                right = level[2 * j + 1] if 2 * j + 1 < len(level) else 0
                dsk[k] = op(level[2 * j], right)
                up.append(k)
            count += len(up)
            level = up
        return dsk, level[0], leaves * (leaves + 1) // 2, count
    raise SystemExit("unknown shape " + shape)


def main():
    shape, n, kind, sched, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    work_us = float(sys.argv[6]) if len(sys.argv) > 6 else 0
    reps = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    if sched == "sync":
        def get(d, k):
            return dask.local.get_sync(d, k)
    else:
        def get(d, k):
            return dask.threaded.get(d, k, num_workers=workers)

    clock = time.perf_counter
    gc.collect()
    rss0 = status("VmRSS")
    t0 = clock()
    dsk, out, expected, ntasks = build(shape, n, kind, work_us)
    t_build = clock() - t0
    gc.collect()
    rss1 = status("VmRSS")
    reset = reset_peak()
    rss2 = status("VmRSS")
    t0 = clock()
    r = get(dsk, out)
    t_first = clock() - t0
    hwm = status("VmHWM")
    t_best = t_first
    for _ in range(reps - 1):
        gc.collect()
        t0 = clock()
        get(dsk, out)
        t_best = min(t_best, clock() - t0)
    fields = {
        "tasks": ntasks,
        "build_us": t_build / ntasks * 1e6,
        "get_us": t_best / ntasks * 1e6,
        "get1_us": t_first / ntasks * 1e6,
        "graph_B": (rss1 - rss0) * 1024 / ntasks,
        "engine_B": (hwm - rss2) * 1024 / ntasks if reset else "-",
        "ok": 1 if r == expected else 0,
        "dask": dask.__version__,
    }
    print("RESULT " + " ".join("%s=%s" % (k, fields[k]) for k in sorted(fields)))


if __name__ == "__main__":
    main()
