-- profiler.lua: what lask.diagnostics.Profiler costs, and a picture of its page.
--
--   profiler.lua [--quick] [--no-screenshot]
--
-- 1. The overhead of a Profiler on a chain of 1,000,000 native tasks
--    (k0 = 0, ki = inc(k(i-1))) with lask.threaded (and lask.sync): the same get with
--    and without a Profiler active, alternated, best of REPS each. A Profiler only
--    asks for the engine's trace (the timeline callback: two clock reads per task in
--    C). Also measured: a callback object with nothing but finish (what any active
--    callback costs the get), building prof.results, and writing the page.
-- 2. A screenshot of the profile page of the SVD-like graph (lask.diagnostics.demo)
--    taken with headless chromium, in $BUILD/bench/ (default build/bench/).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")
local lask = require "lask"
local diag = require "lask.diagnostics"
local demo = require "lask.diagnostics.demo"
local callbacks = require "lask.callbacks"

local quick, screenshot = false, true
for _, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true end
  if a == "--no-screenshot" then screenshot = false end
end

local N = quick and 200000 or 1000000
local REPS = quick and 3 or 5

local function timed(f)
  collectgarbage()
  collectgarbage()
  local t0 = R.clock()
  f()
  return R.clock() - t0
end

local function best(list)
  local b = math.huge
  for _, x in ipairs(list) do b = math.min(b, x) end
  return b
end

local function median(list)
  local s = table.move(list, 1, #list, 1, {})
  table.sort(s)
  return s[(#s + 1) // 2]
end

-- Times get(dsk, out) under each setup, alternating setups REPS times.
local function measure(get, dsk, out, setups)
  local times = {}
  for _, s in ipairs(setups) do times[s.name] = {} end
  for _ = 1, REPS do
    for _, s in ipairs(setups) do
      local active = s.make and s.make()
      local t = timed(function() assert(get(dsk, out) == N) end)
      if active then active:unregister() end
      table.insert(times[s.name], t)
    end
  end
  return times
end

local setups = {
  { name = "no callbacks" },
  { name = "a finish-only callback", make = function() return callbacks.Callback({ finish = function() end }):register() end },
  { name = "Profiler", make = function() return diag.Profiler():register() end },
}

local load = io.open("/proc/loadavg")
print(("Profiler overhead: chain of %d native inc tasks, best of %d gets (load average %s)"):format(N, REPS,
  load and load:read("l"):match("^(%S+)") or "?"))
if load then load:close() end

local dsk, out = demo.chain(N)
local rows = {}
local summary = {}
for _, sched in ipairs { "threaded", "sync" } do
  local get = require("lask." .. sched).get
  get(dsk, out) -- warm up: the engine's threads, the allocator
  local times = measure(get, dsk, out, setups)
  local base = best(times["no callbacks"])
  for _, s in ipairs(setups) do
    local b = best(times[s.name])
    rows[#rows + 1] = {
      sched, s.name, R.num(b * 1e3, 1), R.num(median(times[s.name]) * 1e3, 1), R.num(b / N * 1e9, 0),
      s.name == "no callbacks" and "-" or ("%+.1f%%"):format(100 * (b - base) / base),
    }
    summary[sched .. ":" .. s.name] = 100 * (b - base) / base
  end
end
R.table({ "scheduler", "active during the get", "best ms", "median ms", "ns/task", "overhead" }, rows)

-- What looking at the profile costs (after the get, not inside it).
local prof = diag.Profiler():register()
require("lask.threaded").get(dsk, out)
prof:unregister()
local t_results = timed(function() assert(#prof.results == N) end)
local page = (os.getenv("BUILD") or "build") .. "/bench"
os.execute("mkdir -p " .. page)
local chain_page = page .. "/profile-chain.html"
local t_page = timed(function() prof:visualize(chain_page) end)
local f = io.open(chain_page, "rb")
local size = f:seek("end")
f:close()
print()
R.table({ "after the get", "ms", "note" }, {
  { "build prof.results (first access)", R.num(t_results * 1e3, 0), ("%d rows"):format(N) },
  { "write the page", R.num(t_page * 1e3, 0), ("%s, %.1f MB, %.0f B/task"):format(chain_page, size / 1e6, size / N) },
})
print(("\nProfiler overhead with lask.threaded: %.1f%% (target < 10%%); of which any active callback: %.1f%%"):format(
  summary["threaded:Profiler"], summary["threaded:a finish-only callback"]))
prof, dsk = nil, nil
collectgarbage()

-- The SVD-like graph's page, and its screenshot.
local svd, svd_out = demo.svd_graph()
local html = page .. "/profile-svd.html"
do
  local p <close> = diag.Profiler()
  local r <close> = diag.ResourceProfiler { dt = 0.01 }
  local c <close> = diag.CacheProfiler()
  require("lask.threaded").get(svd, svd_out)
  diag.visualize({ p, r, c }, html, { title = "SVD-like graph (TSQR of 5 blocks, spin kernels)" })
end
print("\nSVD-like profile page: " .. html)
if screenshot and os.execute("command -v chromium >/dev/null 2>&1") then
  local png = page .. "/profile-svd.png"
  local cwd = io.popen("pwd"):read("l")
  local abs = html:sub(1, 1) == "/" and html or cwd .. "/" .. html
  local dir = os.tmpname()
  os.remove(dir)
  local ok = os.execute(table.concat({
    "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run",
    "--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars",
    "--user-data-dir=" .. dir, "--window-size=1200,800", "--virtual-time-budget=5000",
    "--screenshot=" .. png, "file://" .. abs, ">/dev/null 2>&1",
  }, " "))
  os.execute("rm -rf " .. dir)
  print(ok and ("screenshot: " .. png) or "screenshot: chromium failed")
  if not ok then os.exit(1) end
else
  print("screenshot: skipped (" .. (screenshot and "chromium is not installed" or "--no-screenshot") .. ")")
end
