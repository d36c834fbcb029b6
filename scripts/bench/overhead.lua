-- overhead.lua: the per-task cost of the engine (see README.md in this directory).
--
--   overhead.lua [--quick] [--no-dask] [--overhead-only | --scaling-only]
--       runs every configuration, each in its own process, with the peer (Dask,
--       through overhead_dask.py) in the same run, and prints the tables.
--       --quick: 100k tasks only; the other options leave out a peer or a table.
--   overhead.lua run SHAPE N HEADS SCHED WORKERS [WORK_US [REPS [CONV]]]
--       one measurement: prints one "RESULT k=v ..." line. REPS gets of the same table
--       (the best is get_us, the first get1_us); CONV 1 adds one to time the conversion.
--       SHAPE chain | fanin | tree; HEADS native | lua; SCHED sync | threaded.
--
-- Environment (set by run.sh): LASK, the command that runs a Lua script with lask
-- loadable (default: this interpreter); PEER_PYTHON, the Python that has Dask
-- (default /usr/bin/python3).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

-- The graphs (chain, fanin, tree of op(a, b) = a + b): graphs.lua, shared with lua_path.lua.
local build = dofile(here .. "graphs.lua").build

---------------------------------------------------------------------------------
-- One measurement, in this process.

local function measure(shape, n, kind, sched, workers, work_us, reps, conv)
  local get = require("lask." .. sched).get
  local clock = R.clock
  collectgarbage()
  collectgarbage()
  local rss0 = R.status("VmRSS")
  local t0 = clock()
  local dsk, out, expected, ntasks = build(shape, n, kind, work_us)
  local t_build = clock() - t0
  collectgarbage()
  collectgarbage()
  local rss1 = R.status("VmRSS")
  -- The engine's memory: the peak of the get over the RSS with the graph built.
  local reset = R.reset_peak()
  local rss2 = R.status("VmRSS")
  local opts = { num_workers = workers }
  t0 = clock()
  local r = get(dsk, out, opts)
  local t_first = clock() - t0
  local hwm = R.status("VmHWM")
  local t_best = t_first
  for _ = 2, reps do
    collectgarbage()
    t0 = clock()
    get(dsk, out, opts)
    t_best = math.min(t_best, clock() - t0)
  end
  -- Conversion alone: start callbacks run once the Lua table is converted, before
  -- any task (this get pays for callbacks, so only its first part is used).
  local t_conv
  if conv then
    collectgarbage()
    opts.callbacks = { { start = function() t_conv = clock() end } }
    t0 = clock()
    get(dsk, out, opts)
    t_conv = t_conv - t0
  end
  R.emit {
    tasks = ntasks,
    build_us = t_build / ntasks * 1e6,
    get_us = t_best / ntasks * 1e6,
    get1_us = t_first / ntasks * 1e6,
    conv_us = t_conv and t_conv / ntasks * 1e6 or "-",
    graph_B = (rss1 - rss0) * 1024 / ntasks,
    engine_B = reset and (hwm - rss2) * 1024 / ntasks or "-",
    ok = (r == expected) and 1 or 0,
    clock = R.precise_clock and "monotonic" or "uptime",
  }
end

if arg[1] == "run" then
  local work_us = tonumber(arg[7] or "0")
  measure(arg[2], math.tointeger(tonumber(arg[3])), arg[4], arg[5], math.tointeger(tonumber(arg[6])),
    work_us, math.tointeger(tonumber(arg[8] or "1")), arg[9] == "1")
  return
end

---------------------------------------------------------------------------------
-- The driver.

local quick, with_dask, part1, part2 = false, true, true, true
for _, a in ipairs(arg) do
  if a == "--quick" then quick = true
  elseif a == "--no-dask" then with_dask = false
  elseif a == "--overhead-only" then part2 = false
  elseif a == "--scaling-only" then part1 = false
  else error("overhead.lua: unknown option " .. a) end
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function interpreter()
  if os.getenv("LASK") then return os.getenv("LASK") end
  local i = -1
  while arg[i - 1] do i = i - 1 end -- the interpreter, before any of its options
  return shell_quote(arg[i])
end
local LASK = interpreter()
local PY = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
local self_path = shell_quote(arg[0])
local dask_script = shell_quote(here .. "overhead_dask.py")

if with_dask and not os.execute(PY .. " -c 'import dask' >/dev/null 2>&1") then
  io.stderr:write("overhead: " .. PY .. " has no dask: the peer columns stay empty (make deps-bench)\n")
  with_dask = false
end
local dask_version

if with_dask then
  local p = io.popen(PY .. " -c 'import dask; print(dask.__version__)'")
  dask_version = p:read("l")
  p:close()
end

local failures = 0
local function child(who, cmd, label)
  io.stderr:write(string.format("overhead: %-6s %s ... ", who, label))
  io.stderr:flush()
  local t, out = R.run(cmd)
  if not t then
    failures = failures + 1
    io.stderr:write("FAILED\n" .. out .. "\n")
    return nil
  end
  if t.ok ~= 1 then
    failures = failures + 1
    io.stderr:write("WRONG RESULT ")
  end
  io.stderr:write(string.format("%.2f µs/task\n", t.get_us))
  return t
end
local function lask_run(shape, n, kind, sched, w, work_us, reps, conv)
  local label = string.format("%s %d %s %s w=%d work=%dus", shape, n, kind, sched, w, work_us)
  return child("lask", string.format("%s %s run %s %d %s %s %d %d %d %d", LASK, self_path, shape, n, kind, sched, w,
    work_us, reps, conv and 1 or 0), label)
end
local function dask_run(shape, n, kind, sched, w, work_us, reps)
  if not with_dask then return nil end
  local label = string.format("%s %d %s %s w=%d work=%dus", shape, n, kind, sched, w, work_us)
  return child("dask", string.format("%s %s %s %d %s %s %d %d %d", PY, dask_script, shape, n, kind, sched, w,
    work_us, reps), label)
end

local started = R.clock()
local function first_line(cmd)
  local p = io.popen(cmd)
  local l = p and p:read("l")
  if p then p:close() end
  return l or "?"
end
local load_at_start = first_line("cut -d' ' -f1-3 /proc/loadavg")
local cores = first_line("nproc")
local shapes = { "chain", "fanin", "tree" }
local kinds = { "native", "lua" }
local scheds = { { "sync", 1 }, { "threaded", 2 } }
local sizes = quick and { 100000 } or { 100000, 1000000 }
local DASK_N = 100000

-- Part 1: overhead per task.
local rows = {}
for _, n in ipairs(part1 and sizes or {}) do
  for _, shape in ipairs(shapes) do
    for _, kind in ipairs(kinds) do
      for _, s in ipairs(scheds) do
        local sched, w = s[1], s[2]
        local l = lask_run(shape, n, kind, sched, w, 0, n <= 100000 and 3 or 1, sched == "sync")
        local d = n == DASK_N and dask_run(shape, n, kind, sched, w, 0, 1) or nil
        local miss = {}
        if l and l.get1_us >= (kind == "native" and 1 or 5) then miss[#miss + 1] = "time" end
        if l and tonumber(l.engine_B) and l.engine_B >= 200 then miss[#miss + 1] = "mem" end
        rows[#rows + 1] = {
          shape, tostring(l and l.tasks or n), kind, sched, tostring(w),
          R.num(l and l.build_us), R.num(l and tonumber(l.conv_us)), R.num(l and l.get1_us), R.num(l and n <= 100000 and l.get_us or nil),
          R.num(d and d.get1_us), R.ratio(d and d.get1_us, l and l.get1_us),
          R.num(l and tonumber(l.graph_B), 0), R.num(l and tonumber(l.engine_B), 0),
          R.num(d and tonumber(d.graph_B), 0), R.num(d and tonumber(d.engine_B), 0),
          l and (#miss == 0 and "ok" or table.concat(miss, "+")) or "FAILED",
        }
      end
    end
  end
end

-- Part 2: 2 workers against 1, with ~10 µs of work in every task.
local SCALE_N, WORK = 50000, 10
local rows2 = {}
for _, kind in ipairs(part2 and kinds or {}) do
  for _, shape in ipairs { "fanin", "tree", "chain" } do
    local l1 = lask_run(shape, SCALE_N, kind, "threaded", 1, WORK, 3)
    local l2 = lask_run(shape, SCALE_N, kind, "threaded", 2, WORK, 3)
    local d1, d2
    if kind == "lua" and shape ~= "chain" then
      d1 = dask_run(shape, SCALE_N, kind, "threaded", 1, WORK, 1)
      d2 = dask_run(shape, SCALE_N, kind, "threaded", 2, WORK, 1)
    end
    rows2[#rows2 + 1] = {
      shape, tostring(l1 and l1.tasks or SCALE_N), kind,
      R.num(l1 and l1.get_us), R.num(l2 and l2.get_us), R.ratio(l1 and l1.get_us, l2 and l2.get_us),
      R.num(d1 and d1.get_us), R.num(d2 and d2.get_us), R.ratio(d1 and d1.get_us, d2 and d2.get_us),
    }
  end
end

print()
if part1 then
  print(string.format("overhead: per-task cost (%s; peer: Dask %s on %s, %d tasks only)",
    (R.precise_clock and "wall time, monotonic clock" or "wall time from /proc/uptime, 10 ms resolution"),
    dask_version or "n/a", PY, DASK_N))
  print("  µs per task. build: making the Lua table. conv: converting it, the first part of every get")
  print("  (measured on the sync rows; the same code for every scheduler). get: the first get of the")
  print("  process, end to end, conversion included; the peer's likewise, and dask/lask compares the two.")
  print("  warm: best of 3 gets of the same table (100k only).")
  print("  Bytes per task. graph B: the table's RSS. peak B: the get's peak RSS over that (VmHWM).")
  print("  Targets (on get and peak B): < 1 µs with native heads, < 5 µs with Lua heads; < 200 B.")
  print()
  R.table({ "shape", "tasks", "heads", "sched", "w", "build µs", "conv µs", "get µs", "warm µs", "dask µs",
    "dask/lask", "graph B", "peak B", "dask graph B", "dask peak B", "target" }, rows)
  print()
end
if part2 then
  print(string.format("overhead: 2 workers vs 1, lask.threaded, every task busy %d µs (%d tasks, best of 3; " ..
    "Dask: Python functions, threaded get, one run).", WORK, SCALE_N))
  print("  µs per task; speedup = 1 worker / 2 workers. Lua heads run on the calling Lua state one at a")
  print("  time by design: only native kernels can scale. chain: no parallelism to find (reference).")
  print()
  R.table({ "shape", "tasks", "heads", "lask 1w", "lask 2w", "speedup", "dask 1w", "dask 2w", "speedup" }, rows2)
  print()
end
print(string.format("overhead: load average %s at the start, %s at the end (%s cores; the numbers are noisy " ..
  "when it is above ~0.5)", load_at_start, first_line("cut -d' ' -f1-3 /proc/loadavg"), cores))
print(string.format("overhead: %.0f s in all%s", R.clock() - started,
  failures > 0 and string.format(", %d FAILED measurement(s) (see above)", failures) or ""))
if failures > 0 then os.exit(1) end
