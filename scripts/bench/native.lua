-- native.lua: lask's C API against the fastest native task runtimes, Taskflow and
-- oneTBB's flow graph, on the same graphs, in the same run.
--
--   native.lua [--quick] [--rounds R]
--
-- The graphs (native/lask_graphs.c says them exactly): chain, fanin, tree of N tasks
-- that each add two integers (lask: the native kernel add; the peers: a C++ lambda
-- writing into a slot of a vector), N = 100k and 1M, on 1 and 2 workers. Each runtime
-- is its own program printing one RESULT line: build (ns a task, unnamed nodes), named
-- (ns a task, every node named; oneTBB has no names: a second build), run (the median
-- of 5 runs of the built graph, ns a task). The programs run in turns (lask, Taskflow,
-- oneTBB, then again) R times (3; --quick: 1 round at 100k only); the table gives each
-- figure's median over the rounds and lask's run time over each peer's (below 1.0x:
-- lask is faster). Every run's root value is checked against the others.
--
-- The peers: oneTBB from Debian (libtbb-dev, installed by make deps-bench); Taskflow,
-- header-only and not in Debian, from TASKFLOW_DIR (the folder holding
-- taskflow/taskflow.hpp, e.g. a checkout of github.com/taskflow/taskflow; it needs
-- C++20): without it the Taskflow columns say so. Both are built here into
-- $BUILD/bench/ with g++ -O2; the lask program with the build's liblask.a (make
-- $BUILD/bench/lask_graphs).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")
local build = os.getenv("BUILD") or "build"
local quick, rounds = false, 3
do
  local i = 1
  while arg[i] do
    if arg[i] == "--quick" then quick, rounds = true, 1
    elseif arg[i] == "--rounds" then i = i + 1; rounds = tonumber(arg[i]) or rounds
    else error("native.lua: unknown option " .. arg[i] .. " (valid: --quick, --rounds R)") end
    i = i + 1
  end
end

local function sh(cmd) return os.execute(cmd .. " >/dev/null 2>&1") end
local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end

-- The programs, built or explained.
local progs, missing = {}, {}
local bindir = build .. "/bench"
if not sh("make -s " .. build .. "/bench/lask_graphs") then error("native.lua: could not build " .. bindir .. "/lask_graphs (make " .. bindir .. "/lask_graphs)") end
progs[1] = { name = "lask", cmd = bindir .. "/lask_graphs" }
local tfdir = os.getenv("TASKFLOW_DIR")
if not tfdir or not io.open(tfdir .. "/taskflow/taskflow.hpp") then
  missing[#missing + 1] = "Taskflow: not measured (set TASKFLOW_DIR to a folder holding taskflow/taskflow.hpp: scripts/bench/README.md)"
elseif not sh(string.format("g++ -std=c++20 -O2 -I%s -o %s/taskflow_graphs %snative/taskflow_graphs.cpp -pthread", R.shell_quote(tfdir), bindir, here)) then
  missing[#missing + 1] = "Taskflow: headers in " .. tfdir .. " did not compile with g++ -std=c++20"
else
  progs[#progs + 1] = { name = "taskflow", cmd = bindir .. "/taskflow_graphs" }
end
if not sh(string.format("g++ -std=c++17 -O2 -o %s/tbb_graphs %snative/tbb_graphs.cpp -ltbb -pthread", bindir, here)) then
  missing[#missing + 1] = "oneTBB: not measured (libtbb-dev missing: make deps-bench)"
else
  progs[#progs + 1] = { name = "onetbb", cmd = bindir .. "/tbb_graphs" }
end

print("native task runtimes: ns a task (median of " .. rounds .. " round(s) in turns); load average " .. loadavg())
for _, m in ipairs(missing) do print("  " .. m) end

local function median(t)
  if #t == 0 then return nil end
  table.sort(t)
  return t[(#t + 1) // 2]
end

local sizes = quick and { 100000 } or { 100000, 1000000 }
local rows, bad = {}, 0
for _, shape in ipairs { "chain", "fanin", "tree" } do
  for _, n in ipairs(sizes) do
    for _, w in ipairs { 1, 2 } do
      local got = {}
      for _, p in ipairs(progs) do got[p.name] = { build = {}, named = {}, run = {} } end
      local value
      for _ = 1, rounds do
        for _, p in ipairs(progs) do
          local res, out = R.run(string.format("%s %s %d %d 5", p.cmd, shape, n, w))
          if not res then error("native.lua: " .. p.name .. " " .. shape .. " failed:\n" .. tostring(out)) end
          value = value or res.value
          if res.value ~= value then
            bad = bad + 1
            print(string.format("  WRONG: %s %s %d gave %s, expected %s", p.name, shape, n, res.value, value))
          end
          for _, f in ipairs { "build", "named", "run" } do table.insert(got[p.name][f], res[f]) end
        end
      end
      local m = {}
      for name, g in pairs(got) do m[name] = { build = median(g.build), named = median(g.named), run = median(g.run) } end
      local tf, tbb = m.taskflow or {}, m.onetbb or {}
      rows[#rows + 1] = {
        shape, tostring(n), tostring(w),
        R.num(m.lask.build, 0), R.num(m.lask.named, 0), R.num(m.lask.run, 0),
        R.num(tf.build, 0), R.num(tf.run, 0), R.num(tbb.build, 0), R.num(tbb.run, 0),
        R.ratio(m.lask.run, tf.run), R.ratio(m.lask.run, tbb.run),
      }
    end
  end
end
R.table({ "graph", "tasks", "workers", "lask build", "named", "lask run", "taskflow build", "run",
  "onetbb build", "run", "lask/taskflow", "lask/onetbb" }, rows)
print("load average at the end " .. loadavg())
if bad > 0 then error("native.lua: " .. bad .. " wrong results") end
