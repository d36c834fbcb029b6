-- array_graphs.lua: what lask.array pays to make and convert the graph of a large
-- array, as a table and through a lask.graph_builder (see README.md here).
--
--   array_graphs.lua [--quick] [--blocks N]
--       for x = da.ones({N * 10}, {chunks = 10}) + 1 (default N = 100,000 blocks;
--       --quick: 10,000), two workloads, each in its own process and both ways:
--         add  x itself: its N blocks and the task assembling them
--         sum  x:sum(): the blocks and the tree reduction over them
--       prints per block: building the graph (lask.array.expression's fused graph and
--       the final task, keys included) µs, converting it (the get's first part) µs,
--       the get µs (conversion included, lask.sync), the total µs, and the peak bytes a
--       block of graph + get.
--   array_graphs.lua run WORKLOAD WAY N
--       one measurement (WAY: table or builder): prints one "RESULT k=v ..." line.
--
-- Environment (set by run.sh): LASK, the command that runs a Lua script with lask
-- loadable (default: this interpreter).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

-- The graph of y (a lask.array) for a get: into a table, or a graph builder.
local function graph_of(y, way)
  local expression = require "lask.array.expression"
  local CP = require "lask.array.compute"
  local into = way == "builder" and require("lask").graph_builder() or {}
  local dsk = expression.graph(y.layers, { [y.name] = true }, into)
  -- opts.get: the final task assembles the blocks (write_in_place rewrites a table's tasks)
  local out = CP.final_key(dsk, y, { get = true }, {})
  return dsk, out
end

local function measure(workload, way, n)
  local lask = require "lask"
  local da = require "lask.array"
  local clock = R.clock
  local x = da.ones({ n * 10 }, { chunks = 10 }) + 1
  local y = workload == "sum" and x:sum() or x
  collectgarbage()
  collectgarbage()
  local rss0 = R.status("VmRSS")
  local reset = R.reset_peak()
  local t0 = clock()
  local dsk, out = graph_of(y, way)
  local t_build = clock() - t0
  local t_conv
  local opts = { callbacks = { { start = function() t_conv = clock() end } } }
  t0 = clock()
  local r = lask.sync.get(dsk, out, opts)
  local t_get = clock() - t0
  local hwm = R.status("VmHWM")
  local expected, got = n * 10 * 2, nil
  if workload == "sum" then
    got = type(r) == "number" and r or r:item()
  else -- every element is 2: a sample of them
    local count, total = 0, 0
    for k = 1, n * 10, 7 do count, total = count + 1, total + r:get(k) end
    got = total == 2 * count and expected or total
  end
  R.emit {
    blocks = n,
    build_us = t_build / n * 1e6,
    conv_us = (t_conv - t0) / n * 1e6,
    get_us = t_get / n * 1e6,
    total_us = (t_build + t_get) / n * 1e6,
    bytes = reset and rss0 and hwm and (hwm - rss0) * 1024 / n or "-",
    ok = got == expected and 1 or 0,
  }
end

if arg[1] == "run" then
  measure(arg[2], arg[3], math.tointeger(tonumber(arg[4])))
  return
end

local n = R.size_option("array_graphs.lua", arg, 100000, 10000, "--blocks")

local LASK = R.interpreter()
local self_path = R.shell_quote(arg[0])
local load_at_start = R.loadavg()
local rows, failures = {}, 0
for _, workload in ipairs { "add", "sum" } do
  for _, way in ipairs { "table", "builder" } do
    local t = R.measure(string.format("array_graphs: %s %s %d blocks", workload, way, n),
      string.format("%s %s run %s %s %d", LASK, self_path, workload, way, n),
      function(r) return string.format("%.2f µs/block", r.total_us) end)
    if not t then failures = failures + 1 end
    rows[#rows + 1] = {
      workload, way, tostring(t and t.blocks or n), R.num(t and t.build_us), R.num(t and t.conv_us),
      R.num(t and t.get_us), R.num(t and t.total_us), R.num(t and tonumber(t.bytes), 0),
    }
  end
end

print()
print(string.format("array_graphs: x = da.ones({%d}, {chunks = 10}) + 1, %d blocks; add: x, sum: x:sum();", n * 10, n))
print("  lask.sync, wall time on a monotonic clock, per block. build: the fused graph and the final")
print("  task (keys included), as a table or through lask.graph_builder. conv: converting it (the")
print("  get's first part; the builder's is making the engine graph from what it emitted). get: the")
print("  whole get. total: build + get. bytes: peak RSS of graph + get over the RSS before, a block.")
print()
R.table({ "workload", "way", "blocks", "build µs", "conv µs", "get µs", "total µs", "bytes" }, rows)
print()
print(string.format("array_graphs: load average %s at the start, %s at the end", load_at_start, R.loadavg()))
if failures > 0 then
  print(string.format("array_graphs: %d FAILED measurement(s) (see above)", failures))
  os.exit(1)
end
