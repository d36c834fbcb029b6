-- lua_path.lua: what a Lua user pays per task, stage by stage (see README.md here).
--
--   lua_path.lua [--quick] [--n N]
--       for chain, fanin and tree graphs of N tasks (default 1,000,000; --quick:
--       100,000) built in Lua with lask.key tuple keys and native heads
--       (graphs.lua, as overhead.lua builds them), each in its own process, prints
--       per stage: lask.key µs a call, building the table µs a task, converting it,
--       the get (conversion included, lask.sync), the total (table + get), and the
--       peak bytes a task of table + get, next to the targets; then the same graphs
--       made by a lask.graph_builder (b:task a node, no table a task: build is the
--       calls, conv making the engine graph from them). Each table graph is converted
--       once more in another process with Lua's collector paused over the get (conv,
--       GC paused: the conversion's own work).
--   lua_path.lua run SHAPE N [builder|nogc]
--       one measurement: prints one "RESULT k=v ..." line.
--
-- Environment (set by run.sh): LASK, the command that runs a Lua script with lask
-- loadable (default: this interpreter).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")
local G = dofile(here .. "graphs.lua")

-- The targets (issue: "a Lua path that keeps up").
local TARGET = { key = 0.3, conv = 0.25, total = 1.5, bytes = 400 }

-- n fresh keys shaped as the graph's (name, i) or (name, level, i), kept alive as a
-- graph keeps them: seconds per call.
local function time_keys(shape, n)
  local key = require("lask").key
  local ks = {}
  collectgarbage()
  collectgarbage()
  local t0 = R.clock()
  if shape == "tree" then
    for i = 1, n do ks[i] = key("k", 0, i) end
  else
    for i = 1, n do ks[i] = key("k", i) end
  end
  return (R.clock() - t0) / n
end

local function measure(shape, n, way)
  local get = require("lask.sync").get
  local clock = R.clock
  collectgarbage()
  collectgarbage()
  local rss0 = R.status("VmRSS")
  local reset = R.reset_peak()
  local t0 = clock()
  local dsk, out, expected, ntasks
  if way == "builder" then
    dsk = require("lask").graph_builder()
    out, expected, ntasks = G.build_into(dsk, shape, n, "native", 0)
  else
    dsk, out, expected, ntasks = G.build(shape, n, "native", 0)
  end
  local t_build = clock() - t0
  -- start callbacks run once the table is converted, before any task: the
  -- conversion's share of the get
  local t_conv
  local opts = { callbacks = { { start = function() t_conv = clock() end } } }
  -- way "nogc": the collector paused over the get, so that conv is the conversion's own
  -- work, without the steps of the collection the table's building has started
  if way == "nogc" then collectgarbage("stop") end
  t0 = clock()
  local r = get(dsk, out, opts)
  local t_get = clock() - t0
  if way == "nogc" then collectgarbage("restart") end
  local hwm = R.status("VmHWM")
  dsk = nil -- luacheck: ignore (dropped before the keys are timed)
  local t_key = way ~= "builder" and time_keys(shape, n) or nil
  R.emit {
    tasks = ntasks,
    key_us = t_key and t_key * 1e6 or "-",
    build_us = t_build / ntasks * 1e6,
    conv_us = (t_conv - t0) / ntasks * 1e6,
    get_us = t_get / ntasks * 1e6,
    total_us = (t_build + t_get) / ntasks * 1e6,
    bytes = reset and rss0 and hwm and (hwm - rss0) * 1024 / ntasks or "-",
    ok = (r == expected) and 1 or 0,
  }
end

if arg[1] == "run" then
  measure(arg[2], math.tointeger(tonumber(arg[3])), arg[4])
  return
end

local n = R.size_option("lua_path.lua", arg, 1000000, 100000, "--n")

local LASK = R.interpreter()
local self_path = R.shell_quote(arg[0])
local load_at_start = R.loadavg()
local rows, failures = {}, 0
local function mark(v, target) return v and (v <= target and "" or " >") or "" end
for _, run in ipairs { { "chain" }, { "fanin" }, { "tree" }, { "chain", "builder" }, { "fanin", "builder" },
  { "tree", "builder" } } do
  local shape, way = run[1], run[2] or ""
  local t = R.measure(string.format("lua_path: %s %s %d", shape, way, n),
    string.format("%s %s run %s %d %s", LASK, self_path, shape, n, way),
    function(r) return string.format("%.2f µs/task", r.total_us) end)
  if not t then failures = failures + 1 end
  local bytes = t and tonumber(t.bytes)
  local key_us = t and tonumber(t.key_us)
  local nogc -- the table's conversion again with the collector paused over the get
  if way == "" then
    nogc = R.run(string.format("%s %s run %s %d nogc", LASK, self_path, shape, n))
    if not nogc or nogc.ok ~= 1 then failures = failures + 1 end
  end
  rows[#rows + 1] = {
    shape .. (way ~= "" and " (" .. way .. ")" or ""), tostring(t and t.tasks or n),
    R.num(key_us) .. mark(key_us, TARGET.key),
    R.num(t and t.build_us),
    R.num(t and t.conv_us) .. mark(t and t.conv_us, TARGET.conv),
    nogc and R.num(nogc.conv_us) or "-",
    R.num(t and t.get_us),
    R.num(t and t.total_us) .. mark(t and t.total_us, TARGET.total),
    R.num(bytes, 0) .. mark(bytes, TARGET.bytes),
  }
end

print()
print(string.format("lua_path: the Lua path per task, graphs of %d tasks with lask.key tuple keys and", n))
print("  native heads (lask.kernels.add), lask.sync, wall time on a monotonic clock.")
print("  key: lask.key per call (fresh keys of the graph's shape). build: the Lua table, keys")
print("  included. conv: converting it (the get's first part). get: the whole get, conversion")
print("  included. total: build + get. bytes: peak RSS of table + get over the RSS before, a task.")
print("  conv, GC paused: conv in another run with Lua's collector stopped over the get: the")
print("  conversion's own work, without the incremental collection of the table (started while")
print("  it was built) whose steps fall in the conversion's time otherwise.")
print("  (builder): the graph made by lask.graph_builder's b:task calls, no table a task; conv is")
print("  making the engine graph from what they emitted.")
print(string.format("  Targets: key <= %.2f µs, conv <= %.2f µs, total <= %.1f µs, bytes <= %d; '>' marks a miss.",
  TARGET.key, TARGET.conv, TARGET.total, TARGET.bytes))
print()
R.table({ "shape", "tasks", "key µs", "build µs", "conv µs", "conv, GC paused", "get µs", "total µs", "bytes" }, rows)
print()
print(string.format("lua_path: load average %s at the start, %s at the end", load_at_start, R.loadavg()))
if failures > 0 then
  print(string.format("lua_path: %d FAILED measurement(s) (see above)", failures))
  os.exit(1)
end
