-- random.lua: random numbers, lask against numpy and dask.array (random_peer.py) in the
-- same run.
--
--   random.lua [--quick] [--no-peers]
--       uniform  da.random.random({N}, {chunks = 1e6, seed = 0}):sum():compute()
--       normal   da.random.normal({N}, {chunks = 1e6, seed = 0}):sum():compute()
--       N = 4e8 (--quick: 4e7), on 1 and 2 workers; G draws a second, and per core
--       (target: at least 1 G a second per core). The peers draw the same counts in
--       the same blocks: numpy's default Generator (PCG64) in a loop on one core, and
--       dask.array's random (NumPy's RandomState per block) on its threaded scheduler
--       with 2 workers. Every configuration runs in its own process, in turns, 3 rounds
--       (--quick: 1); the table gives the medians.
--   random.lua child DIST N WORKERS   one lask run: prints a RESULT line
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

if arg[1] == "child" then
  local da = require "lask.array"
  local dist, n, workers = arg[2], tonumber(arg[3]), tonumber(arg[4])
  local make = dist == "normal" and da.random.normal or da.random.random
  local x = make({ n }, { chunks = 1000000, seed = 0 })
  local t0 = R.clock()
  local value = x:sum():compute({ num_workers = workers }):item()
  R.emit({ seconds = R.clock() - t0, mean = string.format("%.6f", value / n) })
  return
end

local quick, peers = false, true
for _, a in ipairs(arg) do
  if a == "--quick" then quick = true
  elseif a == "--no-peers" then peers = false
  else error("random.lua: unknown option " .. a .. " (valid: --quick, --no-peers)") end
end
local N, rounds = quick and 40000000 or 400000000, quick and 1 or 3
local lask_cmd = R.interpreter()
local py = os.getenv("PEER_PYTHON") or "/usr/bin/python3"

local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end

local configs = {}
for _, dist in ipairs { "uniform", "normal" } do
  configs[#configs + 1] = { dist = dist, who = "lask", cores = 1, cmd = string.format("%s %srandom.lua child %s %d 1", lask_cmd, here, dist, N) }
  configs[#configs + 1] = { dist = dist, who = "lask", cores = 2, cmd = string.format("%s %srandom.lua child %s %d 2", lask_cmd, here, dist, N) }
  if peers then
    configs[#configs + 1] = { dist = dist, who = "numpy", cores = 1, cmd = string.format("%s %srandom_peer.py numpy %s %d", py, here, dist, N) }
    configs[#configs + 1] = { dist = dist, who = "dask", cores = 2, cmd = string.format("%s %srandom_peer.py dask %s %d", py, here, dist, N) }
  end
end

print(string.format("random numbers: %d draws summed, median of %d round(s); load average %s", N, rounds, loadavg()))
local times = {}
for _ = 1, rounds do
  for i, c in ipairs(configs) do
    local res, out = R.run(c.cmd)
    if not res then error("random.lua: " .. c.who .. " " .. c.dist .. " failed:\n" .. tostring(out)) end
    local mean = tonumber(res.mean)
    local want = c.dist == "uniform" and 0.5 or 0
    if math.abs(mean - want) > 1e-3 then error(("random.lua: %s %s: mean %s, expected about %s"):format(c.who, c.dist, res.mean, want)) end
    times[i] = times[i] or {}
    table.insert(times[i], res.seconds)
  end
end
local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end
local rows, lask_best = {}, {}
for i, c in ipairs(configs) do
  local s = median(times[i])
  c.seconds = s
  if c.who == "lask" and c.cores == 2 then lask_best[c.dist] = s end
end
for _, c in ipairs(configs) do
  local rate = N / c.seconds / 1e9
  rows[#rows + 1] = { c.dist, c.who, tostring(c.cores), R.num(c.seconds, 3), R.num(rate, 2), R.num(rate / c.cores, 2),
    c.who == "lask" and "" or R.ratio(c.seconds, lask_best[c.dist]) }
end
R.table({ "draws", "who", "cores", "seconds", "G/s", "G/s a core", "vs lask 2 cores" }, rows)
print("load average at the end " .. loadavg())
