-- lua_tasks.lua — Lua tasks on every core: lask.threaded with lua = "parallel"
-- (a Lua state per worker) against 1 worker, against the calling state
-- (lua = "caller", the default) and against lask.multiprocessing, in one run.
--
--   build/lask scripts/bench/lua_tasks.lua [--quick] [--no-dask]
--
-- 1. A fan-in of 2,000 CPU-bound Lua tasks of about 1 ms: parallel on 1 and 2
--    workers, and multiprocessing on 2 (targets: 2 workers >= 1.9x 1 worker, and
--    faster than multiprocessing).
-- 2. A fan-in and a tree of 50k Lua tasks of about 10 µs: parallel on 1 vs 2
--    workers (target >= 1.8x).
-- 3. Trivial Lua tasks (a + b) in a 100k chain, fan-in and tree: µs a task end to
--    end, parallel vs caller vs multiprocessing (2 workers each), and Dask's
--    threaded get on the same graphs of Python functions (overhead_dask.py).
-- 4. The copy costs: a task function with a 1 MB table upvalue, first get vs the
--    next (the table is copied into each worker state once per get), and the first
--    parallel get of the process (worker states made) vs the next.
-- --quick runs tiny sizes, to check that the script works (numbers meaningless).
local dir = arg[0]:match("^(.*/)") or "./"
local R = dofile(dir .. "report.lua")
local lask = require "lask"
local threaded, mp = require("lask.threaded").get, require("lask.multiprocessing").get
local K = lask.kernels

local quick, with_dask = false, true
for _, a in ipairs(arg) do
  if a == "--quick" then quick = true end
  if a == "--no-dask" then with_dask = false end
end
local peer = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
if with_dask and not os.execute(peer .. " -c 'import dask' >/dev/null 2>&1") then with_dask = false end

local function loadavg() return io.lines("/proc/loadavg")():match("^%S+ %S+ %S+") end
print(("lua_tasks: load average %s at the start%s"):format(loadavg(), quick and " (--quick: tiny sizes)" or ""))

local N_MS = quick and 40 or 2000      -- 1 ms tasks
local N_10US = quick and 500 or 50000  -- 10 µs tasks
local N_TRIVIAL = quick and 2000 or 100000

-- Work loops calibrated on this machine.
local function burn(n) local s = 0 for i = 1, n do s = s + i % 7 end return s end
local t0 = R.clock()
for _ = 1, 50 do burn(20000) end
local per_step = (R.clock() - t0) / (50 * 20000)
local steps_1ms, steps_10us = math.floor(0.001 / per_step), math.floor(0.00001 / per_step)

-- The three shapes over op(a, b), with tuple keys; gives the graph and its output key.
local function chain(n, op)
  local d = { [lask.key("c", 0)] = { op, 0, 1 } }
  for i = 1, n - 1 do d[lask.key("c", i)] = { op, lask.key("c", i - 1), 1 } end
  return d, lask.key("c", n - 1)
end

local function fanin(n, op)
  local d, keys = {}, {}
  for i = 1, n - 1 do
    keys[i] = lask.key("f", i)
    d[keys[i]] = { op, i, 1 }
  end
  d.total = { K.sum, keys }
  return d, "total"
end

local function tree(n, op)
  local d, level = {}, {}
  for i = 1, n // 2 do
    level[i] = lask.key("t", 0, i)
    d[level[i]] = { op, i, 1 }
  end
  local depth = 0
  while #level > 1 do
    depth = depth + 1
    local up = {}
    for i = 1, #level, 2 do
      local k = lask.key("t", depth, (i + 1) // 2)
      d[k] = level[i + 1] and { op, level[i], level[i + 1] } or { op, level[i], 0 }
      up[#up + 1] = k
    end
    level = up
  end
  return d, level[1]
end

local function timed(get, d, out, opts)
  local t = R.clock()
  local r = get(d, out, opts)
  return R.clock() - t, r
end

local function par(w) return { lua = "parallel", num_workers = w } end

-- The first parallel get of the process makes the worker states; the next finds them.
local tiny = fanin(3, function(i, one) return i + one end)
local t_make = timed(threaded, tiny, "total", par(2))
local t_again = timed(threaded, tiny, "total", par(2))

-- 1. ~1 ms tasks.
local work_ms = function(i, one) return burn(steps_1ms) * 0 + i + one end
local d, out = fanin(N_MS + 1, work_ms)
local t_p1, r_p1 = timed(threaded, d, out, par(1))
local t_p2, r_p2 = timed(threaded, d, out, par(2))
local t_mp, r_mp = timed(mp, d, out, { num_workers = 2 })
assert(r_p1 == r_p2 and r_p2 == r_mp, "the schedulers disagree on the 1 ms fan-in")
print(("\n1. fan-in of %d Lua tasks of about 1 ms (%d loop steps)"):format(N_MS, steps_1ms))
R.table({ "scheduler", "workers", "seconds", "vs parallel 1 worker" }, {
  { "threaded, lua = parallel", "1", R.num(t_p1, 3), "1.0x" },
  { "threaded, lua = parallel", "2", R.num(t_p2, 3), R.ratio(t_p1, t_p2) },
  { "multiprocessing", "2", R.num(t_mp, 3), R.ratio(t_p1, t_mp) },
})
print(("parallel 2 workers: %s faster than 1 worker (target >= 1.9x), %s faster than multiprocessing"):format(
  R.ratio(t_p1, t_p2), R.ratio(t_mp, t_p2)))

-- 2. ~10 µs tasks.
local work_10us = function(a, b) return burn(steps_10us) * 0 + a + b end
local rows = {}
for _, shape in ipairs({ { "fanin", fanin }, { "tree", tree } }) do
  d, out = shape[2](N_10US, work_10us)
  local t1, a = timed(threaded, d, out, par(1))
  local t2, b = timed(threaded, d, out, par(2))
  assert(a == b, "1 and 2 workers disagree")
  rows[#rows + 1] = { shape[1], R.num(t1 / N_10US * 1e6, 1), R.num(t2 / N_10US * 1e6, 1), R.ratio(t1, t2) }
end
print(("\n2. %d Lua tasks of about 10 µs (%d loop steps), lua = parallel: µs a task"):format(N_10US, steps_10us))
R.table({ "shape", "1 worker", "2 workers", "speed-up (target >= 1.8x)" }, rows)

-- 3. Trivial tasks.
local function add(a, b) return a + b end
local function dask_us(shape, n)
  if not with_dask then return nil end
  local r = R.run(("%s %soverhead_dask.py %s %d lua threaded 2"):format(peer, dir, shape, n))
  return r and tonumber(r.get_us)
end
rows = {}
for _, shape in ipairs({ { "chain", chain }, { "fanin", fanin }, { "tree", tree } }) do
  d, out = shape[2](N_TRIVIAL, add)
  local tp, a = timed(threaded, d, out, par(2))
  local tc, b = timed(threaded, d, out, { num_workers = 2 })
  local tm, c = timed(mp, d, out, { num_workers = 2 })
  assert(a == b and b == c, "the schedulers disagree on the trivial " .. shape[1])
  local us = function(t) return R.num(t / N_TRIVIAL * 1e6, 2) end
  rows[#rows + 1] = { shape[1], us(tp), us(tc), us(tm), R.num(dask_us(shape[1], N_TRIVIAL), 2) }
end
print(("\n3. %d trivial Lua tasks (a + b), 2 workers: µs a task, end to end"):format(N_TRIVIAL))
R.table({ "shape", "parallel", "caller", "multiprocessing", "dask threaded" }, rows)
print("target: parallel <= 2 µs a task")

-- 4. Copy costs.
local big = {}
for i = 1, (quick and 1 or 64) * 1024 do big[i] = i + 0.5 end -- 64k floats: 1 MB of array part
local function uses_big(i) return #big + i end
d, out = fanin(101, function(i, one) return uses_big(i) + one end)
local t_first = timed(threaded, d, out, par(2))
local t_warm = timed(threaded, d, out, par(2))
local plain = fanin(101, function(i, one) return i + one end)
local t_plain = timed(threaded, plain, "total", par(2))
print(("\n4. copy costs, lua = parallel, 2 workers, 100 tasks"))
R.table({ "get", "ms" }, {
  { "2 tasks: first parallel get of the process (worker states made)", R.num(t_make * 1e3, 2) },
  { "2 tasks: the next get", R.num(t_again * 1e3, 2) },
  { "function with a " .. (quick and "16 kB" or "1 MB") .. " table upvalue: first get", R.num(t_first * 1e3, 2) },
  { "the same: next get", R.num(t_warm * 1e3, 2) },
  { "function without upvalues", R.num(t_plain * 1e3, 2) },
})
print(("load average %s at the end"):format(loadavg()))
