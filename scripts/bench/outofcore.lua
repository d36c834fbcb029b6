-- outofcore.lua: arrays far larger than memory, reduced and stored block by block,
-- against dask.array (outofcore_dask.py) in the same run.
--
--   outofcore.lua [--quick] [--no-peers]
--       sum   da.random.random({1e5, 1e5}, {chunks = {5000, 5000}}):sum():compute()
--             80 GB of float64 generated lazily, 400 blocks of 200 MB (target: peak
--             RSS under 2 GB)
--       store da.random.random({50000, 25000}, {chunks = {5000, 5000}}):store(path)
--             a 10 GB .npy file (target: peak RSS under 1 GB); numpy then loads it
--             (np.load, mmap_mode = "r") and checks its shape, some elements against
--             the values lask printed, and the mean of all of it; the file is removed
--       --quick divides both sizes by 100 (sides by 10).
--   outofcore.lua child CASE ROWS COLS CHUNK [PATH]   one lask run: prints a RESULT line
--
-- Each run is its own process, so its peak RSS (VmHWM) is its own. The file is
-- written in a temporary directory (TMPDIR, default /tmp): the store case needs
-- 10 GB of free disk (100 MB with --quick).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

if arg[1] == "child" then
  local da = require "lask.array"
  local case, rows, cols, chunk, path = arg[2], tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5]), arg[6]
  local x = da.random.random({ rows, cols }, { chunks = { chunk, chunk }, seed = 0 })
  local t0 = R.clock()
  local res = { case = case }
  if case == "sum" then
    res.value = string.format("%.17g", x:sum():compute():item())
  else
    assert(x:store(path))
    -- the values numpy must find at both corners of the file
    local function values(a)
      local out = {}
      for i, v in ipairs(a:compute():totable()[1]) do out[i] = string.format("%.17g", v) end
      return table.concat(out, ",")
    end
    res.head = values(x:slice({ 1, 1 }, { 1, 3 }))
    res.tail = values(x:slice({ rows, rows }, { cols - 2, cols }))
  end
  res.seconds = R.clock() - t0
  res.peak_mb = R.status("VmHWM") / 1024
  R.emit(res)
  return
end

local quick, peers = false, true
for _, a in ipairs(arg) do
  if a == "--quick" then quick = true elseif a == "--no-peers" then peers = false end
end
local scale = quick and 10 or 1
local SUM = { rows = 100000 // scale, cols = 100000 // scale, chunk = 5000 // scale }
local STORE = { rows = 50000 // scale, cols = 25000 // scale, chunk = 5000 // scale }

local lask_cmd = os.getenv("LASK") or arg[-1] or "lask"
local py = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
local dir = os.getenv("TMPDIR") or "/tmp"
local path = ("%s/lask-outofcore-%d.npy"):format(dir, math.random(1 << 30))

local function run(cmd)
  local res, out = R.run(cmd)
  if not res then
    io.stderr:write("failed: ", cmd, "\n", out or "", "\n")
    os.remove(path)
    os.exit(1)
  end
  return res
end
local function child(case, s, p)
  return run(("%s %soutofcore.lua child %s %d %d %d %s"):format(lask_cmd, here, case, s.rows, s.cols, s.chunk, p or ""))
end
local function gb(s) return s.rows * s.cols * 8 / 1e9 end

local ours = { sum = child("sum", SUM), store = child("store", STORE, path) }
-- numpy reads what lask wrote, then the file goes
local check = run(("%s %soutofcore_dask.py check %s %d %d %s %s"):format(py, here, path, STORE.rows, STORE.cols,
  ours.store.head, ours.store.tail))
os.remove(path)

local peer = {}
if peers then
  peer.sum = run(("%s %soutofcore_dask.py sum %d %d %d"):format(py, here, SUM.rows, SUM.cols, SUM.chunk))
  peer.store = run(("%s %soutofcore_dask.py store %d %d %d %s"):format(py, here, STORE.rows, STORE.cols,
    STORE.chunk, path))
  os.remove(path)
end

-- the sum of n uniform [0, 1) draws is n/2 give or take sqrt(n/12)
local n = SUM.rows * SUM.cols
local z = (tonumber(ours.sum.value) - n / 2) / math.sqrt(n / 12)
print(("Out of core (one process per run; peak RSS = VmHWM; load average %s)"):format(
  io.open("/proc/loadavg"):read("l"):match("^(%S+ %S+ %S+)")))
local function row(name, size, target, o, p)
  return { name, ("%.1f GB"):format(size), R.num(o.seconds, 1), R.num(o.peak_mb, 0), target,
    p and R.num(p.seconds, 1) or "-", p and R.num(p.peak_mb, 0) or "-", R.ratio(p and p.seconds, o.seconds) }
end
R.table({ "case", "data", "lask s", "lask peak MB", "target MB", "dask s", "dask peak MB", "dask/lask" }, {
  row(("sum of random %dx%d, blocks %d"):format(SUM.rows, SUM.cols, SUM.chunk), gb(SUM), quick and "-" or "< 2000",
    ours.sum, peer.sum),
  row(("store random %dx%d to .npy, blocks %d"):format(STORE.rows, STORE.cols, STORE.chunk), gb(STORE),
    quick and "-" or "< 1000", ours.store, peer.store),
})
print(("sum = %s (%.2f standard deviations from n/2)%s"):format(ours.sum.value, z,
  peer.sum and (", dask's (its own random numbers) " .. peer.sum.value) or ""))
print(("numpy loaded lask's file: shape %s, dtype %s, corner values %s, mean of all %s"):format(check.shape,
  check.dtype, check.corners, check.mean))
print(("lask throughput: sum %.2f GB/s, store %.2f GB/s"):format(gb(SUM) / ours.sum.seconds,
  gb(STORE) / ours.store.seconds))
if check.corners ~= "equal" or math.abs(z) > 6 then
  io.stderr:write("wrong result\n")
  os.exit(1)
end
