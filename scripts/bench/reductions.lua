-- reductions.lua: lask.array's cumsum and median against numpy and dask.array
-- (reductions_peer.py), same run.
--
--   reductions.lua [--quick | --tiny] [--no-peers]
--
-- Cases (best of 3 wall seconds; inputs in memory: persisted lask arrays, numpy
-- arrays, persisted dask arrays):
--   x:cumsum()        5e7 float64 in 8 blocks: the blocked scan (block totals, the
--                     chain of carries, every block scanned with its carry); the whole
--                     result computed into memory
--   x:median(1)       5000 x 10000 float64 in blocks of 1000 x 5000, along the first
--                     axis (numpy's axis=0): every task reads whole lanes across the blocks
--                     along the axis (no rechunk; Dask rechunks), then a
--                     selection in every lane (Dask does the same with np.median)
-- Checks: cumsum's last element against x:sum(), and median's first lanes against a
-- sort in Lua.
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

local size, peers = "full", true
for _, a in ipairs(arg or {}) do
  if a == "--quick" then size = "quick" elseif a == "--tiny" then size = "tiny"
  elseif a == "--no-peers" then peers = false end
end

local da = require "lask.array"

local N = ({ full = 50000000, quick = 5000000, tiny = 200000 })[size]
local M = ({ full = { 5000, 10000 }, quick = { 500, 10000 }, tiny = { 50, 400 } })[size]
local REPS = 3

local function best(f) return R.best(REPS, f) end

local ours = {}
local x = da.random.random(N, { chunks = N // 8, seed = 0 }):persist()
local cs
ours.cumsum = best(function() cs = x:cumsum():compute() end)
local total = x:sum():compute():item()
assert(math.abs(cs:get(N) - total) <= 1e-9 * total, "cumsum's last element is not the sum")
cs = nil

local X = da.random.random(M, { chunks = { M[1] // 5, M[2] // 2 }, seed = 1 }):persist()
local med
ours.median = best(function() med = X:median(1):compute() end)
local Xv = X:compute()
for j = 1, 3 do
  local col = {}
  for i = 1, M[1] do col[i] = Xv:get(i, j) end
  table.sort(col)
  local n = #col
  local want = n % 2 == 1 and col[(n + 1) // 2] or (col[n // 2] + col[n // 2 + 1]) / 2
  assert(med:get(j) == want, "median of lane " .. j .. " is wrong")
end

local peer = {}
if peers then
  local py = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
  local res, out = R.run(py .. " " .. here .. "reductions_peer.py --" .. size)
  if res then peer = res else io.stderr:write("peer run failed:\n", out or "", "\n") end
end

local function ms(t) return t and R.num(t * 1000, 1) or "-" end
print(("reductions (ms, best of %d)"):format(REPS))
R.table({ "case", "lask", "numpy", "dask", "numpy/lask", "dask/lask" }, {
  { ("x:cumsum(), %g f64, 8 blocks"):format(N), ms(ours.cumsum), ms(peer.np_cumsum), ms(peer.dask_cumsum),
    R.ratio(peer.np_cumsum, ours.cumsum), R.ratio(peer.dask_cumsum, ours.cumsum) },
  { ("x:median(1), %dx%d"):format(M[1], M[2]), ms(ours.median), ms(peer.np_median), ms(peer.dask_median),
    R.ratio(peer.np_median, ours.median), R.ratio(peer.dask_median, ours.median) },
})
R.emit({ cumsum_ms = ours.cumsum * 1000, median_ms = ours.median * 1000 })
