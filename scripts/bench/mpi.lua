-- mpi.lua: lask.mpi across the ranks of an MPI job (see README.md in this directory).
--
--   mpi.lua [--tiny]
--       runs every measurement, each in its own mpirun, and prints the tables:
--       start-up (mpirun to the first task), one hop's latency and bandwidth (16 B to
--       8 MiB, ping-pong between 2 ranks), the per-task cost of 100k-task chain, tree,
--       random (block-owned: blocks of 1000 tasks, about one dependency a block from
--       another block) and scatter (every task reads one anywhere before it) graphs per
--       owner rule on 1, 2 and 4 ranks against lask.threaded in
--       one process, and TSQR (la.qr's R) and the SVD of 1e6 x 100 (strong scaling) and
--       of 5e5 x 100 a rank (weak scaling) on 1, 2 and 4 ranks, one worker per rank,
--       against one process without MPI. --tiny: small sizes, to check that the script works.
--   mpi.lua run WHAT ARGS...      (under mpirun) one measurement; rank 0 prints a RESULT line.
--
-- 4 ranks on this 2-core machine are oversubscribed: their numbers show the cost of
-- sharing cores, not scaling. Environment (set by run.sh): LASK, the command that
-- runs a Lua script with lask loadable; LUA_CPATH must find lask/mpi.so (run.sh and
-- this script add build/lib).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

local function graph(shape, n, rng)
  local lask = require "lask"
  local K, key = lask.kernels, lask.key
  local d = {}
  if shape == "chain" then
    d[key("c", 0)] = { K.add, 0, 1 }
    for i = 1, n - 1 do d[key("c", i)] = { K.add, key("c", i - 1), 1 } end
    return d, key("c", n - 1)
  elseif shape == "tree" then
    -- a reduction tree, one name per level as Dask names a tree reduction's layers
    -- ((t-L, i): each level split over the ranks in contiguous ranges of i)
    local level, width = 0, n // 2
    local function t(l, i) return key("t-" .. l, i) end
    for i = 0, width - 1 do d[t(0, i)] = { K.add, i, 1 } end
    while width > 1 do
      local w2 = (width + 1) // 2
      for i = 0, w2 - 1 do
        d[t(level + 1, i)] = { K.add, t(level, 2 * i), t(level, math.min(2 * i + 1, width - 1)) }
      end
      level, width = level + 1, w2
    end
    return d, t(level, 0)
  elseif shape == "scatter" then
    -- each task adds two earlier ones, one anywhere (a quarter of them cross ranks)
    d[key("r", 0)] = { K.add, 0, 1 }
    for i = 1, n - 1 do
      d[key("r", i)] = { K.add, key("r", rng(0, i - 1)), key("r", math.max(0, i - 1 - rng(0, 10))) }
    end
    local last = {}
    for i = n - 100, n - 1 do if i >= 0 then last[#last + 1] = key("r", i) end end
    return d, last
  end
  -- random, block-owned as array graphs are: blocks of B tasks (keys (r, block, j));
  -- each task adds two earlier tasks of its block, and a block's first task reads a
  -- random task of an earlier block (so about one value per block crosses ranks)
  local B = math.min(1000, n)
  local nb = n // B
  for b = 0, nb - 1 do
    d[key("r", b, 0)] = b == 0 and { K.add, 0, 1 } or { K.add, key("r", rng(0, b - 1), rng(0, B - 1)), 1 }
    for j = 1, B - 1 do
      d[key("r", b, j)] = { K.add, key("r", b, rng(0, j - 1)), key("r", b, math.max(0, j - 1 - rng(0, 10))) }
    end
  end
  local last = {}
  for b = 0, nb - 1 do last[#last + 1] = key("r", b, B - 1) end
  return d, last
end

-- TSQR (la.qr's R) or the SVD (s, v and the sum of u: every block of u made where its
-- rows live, nothing large gathered) of a rows x cols normal matrix in blocks of chunk
-- rows, computed with opts; the seconds of the second of two runs.
local function factor(what, rows, cols, chunk, opts)
  local lask, da, la = require "lask", require "lask.array", require "lask.array.linalg"
  local x = da.random.normal({ rows, cols }, { chunks = { chunk, cols }, seed = 0 })
  local targets
  if what == "tsqr" then
    local _, r = la.qr(x)
    targets = { r }
  else
    local u, s, v = la.svd(x)
    targets = { u:sum(), s, v }
  end
  local t0
  for _ = 1, 2 do
    t0 = R.clock()
    targets[#targets + 1] = opts
    lask.compute(table.unpack(targets))
    targets[#targets] = nil
  end
  return R.clock() - t0
end

-- Under mpirun: one measurement.
local function run(what, ...)
  local mpi = require "lask.mpi"
  local args = { ... }
  local function emit(t) if mpi.rank == 0 then R.emit(t) end end
  if what == "startup" then
    local first
    mpi.get({ x = { function() first = R.clock() return 1 end } }, "x", { owner = function() return 0 end })
    emit { first_task = first }
  elseif what == "hop" then
    local core = require "lask.core"
    local bytes, hops = tonumber(args[1]), tonumber(args[2])
    local n = math.max(1, bytes // 8)
    local d = { [0] = nil }
    local vals = {}
    for i = 1, n do vals[i] = i end
    local key = require("lask").key
    d[key("h", 0)] = { function() return bytes < 8 and "x" or core.asarray(vals) end }
    for i = 1, hops do d[key("h", i)] = { require("lask").kernels.identity, key("h", i - 1) } end
    local owner = function(k) return k[2] % 2 end
    mpi.get(d, key("h", hops), { owner = owner }) -- warm up
    local t0 = R.clock()
    mpi.get(d, key("h", hops), { owner = owner })
    local dt = R.clock() - t0
    emit { bytes = bytes, hop_us = dt / hops * 1e6, mb_s = bytes * hops / dt / 1e6 }
  elseif what == "tasks" then
    local shape, n, rule = args[1], tonumber(args[2]), args[3]
    math.randomseed(1)
    local d, keys = graph(shape, n, math.random)
    local t0 = R.clock()
    local plan = require("lask.distributed").plan(d, keys, mpi.rank, mpi.size, rule)
    local plan_s = R.clock() - t0
    mpi.get(d, keys, { owner = rule }) -- warm up
    t0 = R.clock()
    mpi.get(d, keys, { owner = rule })
    local dt = R.clock() - t0
    emit { shape = shape, rule = rule, us_per_task = dt / n * 1e6, plan_us_per_task = plan_s / n * 1e6,
      sent = plan.sent }
  elseif what == "tsqr" or what == "svd" then
    local rows, cols, chunk = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
    local seconds = factor(what, rows, cols, chunk, { scheduler = "mpi", num_workers = 1 })
    emit { seconds = seconds }
  end
end

-- In one process: lask.threaded on the same graphs.
local function threaded(shape, n)
  math.randomseed(1)
  local d, keys = graph(shape, n, math.random)
  local get = require("lask.threaded").get
  get(d, keys)
  local t0 = R.clock()
  get(d, keys)
  return (R.clock() - t0) / n * 1e6
end

local function main(tiny)
  local lask_cmd = os.getenv("LASK") or "build/lask"
  local build = os.getenv("BUILD") or "build"
  local cpath = build .. "/lib/?.so;" .. (os.getenv("LUA_CPATH") or ";")
  local function mpirun(np, ...)
    local cmd = ("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 LUA_CPATH='%s' "
      .. "mpirun --oversubscribe --bind-to none -np %d -x LUA_CPATH %s %smpi.lua run %s"):format(cpath, np,
      lask_cmd, here, table.concat({ ... }, " "))
    return R.run(cmd)
  end
  print(("load average: %s"):format((io.open("/proc/loadavg") or { read = function() return "?" end }):read("l")))
  print("4 ranks on 2 cores are oversubscribed.\n")

  local rows = {}
  for _, np in ipairs { 1, 2, 4 } do
    local t0 = R.clock()
    local r = mpirun(np, "startup")
    rows[#rows + 1] = { tostring(np), R.num(r and (r.first_task - t0) * 1e3, 1) }
  end
  print("start-up: mpirun to the first task")
  R.table({ "ranks", "ms" }, rows)

  rows = {}
  local sizes = tiny and { 16, 4096 } or { 16, 1024, 65536, 1048576, 8388608 }
  for _, bytes in ipairs(sizes) do
    local r = mpirun(2, "hop", bytes, tiny and 10 or (bytes >= 1048576 and 50 or 1000))
    rows[#rows + 1] = { tostring(bytes), R.num(r and r.hop_us, 2), R.num(r and r.mb_s, 1) }
  end
  print("\none hop between 2 ranks (a chain of tasks whose owners alternate)")
  R.table({ "bytes", "us/hop", "MB/s" }, rows)

  rows = {}
  local n = tiny and 2000 or 100000
  for _, shape in ipairs { "chain", "tree", "random", "scatter" } do
    local ref = threaded(shape, n)
    for _, rule in ipairs { "blocks", "hash" } do
      for _, np in ipairs { 1, 2, 4 } do
        local r = mpirun(np, "tasks", shape, n, rule)
        rows[#rows + 1] = { shape, rule, tostring(np), R.num(r and r.us_per_task, 3), R.num(ref, 3),
          R.num(r and r.plan_us_per_task, 3), r and tostring(r.sent) or "-" }
      end
    end
  end
  print(("\nper task, %d native tasks: mpi.get against lask.threaded in one process"):format(n))
  R.table({ "graph", "owners", "ranks", "mpi us/task", "threaded us/task", "plan us/task", "sent by rank 0" }, rows)

  -- strong scaling: one matrix on 1, 2 and 4 ranks; weak: rows per rank fixed. The
  -- reference is one process without MPI (lask.threaded, one worker).
  rows = {}
  local cols, chunk = tiny and 10 or 100, tiny and 2000 or 100000
  local strong, per_rank = tiny and 20000 or 1000000, tiny and 10000 or 500000
  for _, what in ipairs { "tsqr", "svd" } do
    for _, scaling in ipairs { "strong", "weak" } do
      local function size(np) return scaling == "strong" and strong or per_rank * np end
      local one = factor(what, size(1), cols, chunk, { scheduler = "threaded", num_workers = 1 })
      for _, np in ipairs { 1, 2, 4 } do
        local r = mpirun(np, what, size(np), cols, chunk)
        local s = r and r.seconds
        -- weak scaling: the speed-up is np times the one-process rate, ideally np
        local speed = s and (scaling == "strong" and one / s or one * size(np) / size(1) / s)
        rows[#rows + 1] = { what == "tsqr" and "tsqr (R)" or "svd (u, s, v)", scaling,
          ("%d x %d"):format(size(np), cols), tostring(np), R.num(s, 3), R.num(one, 3),
          speed and ("%.1fx"):format(speed) or "-" }
      end
    end
  end
  print(("\nTSQR and SVD, blocks of %d rows, one worker per rank, against one process (lask.threaded, 1 worker,"
    .. " the first size of each group); weak scaling: the speed-up is the rate against one process's"):format(chunk))
  R.table({ "work", "scaling", "size", "ranks", "seconds", "one process s", "speed-up" }, rows)
  print("target: tsqr strong scaling on 2 ranks >= 1.7x")
end

if arg and arg[1] == "run" then
  run(table.unpack(arg, 2))
else
  main(arg and arg[1] == "--tiny")
end
