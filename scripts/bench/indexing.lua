-- indexing.lua: boolean-mask selection in lask.array against numpy and dask.array
-- (indexing_peer.py), same run.
--
--   indexing.lua [--n N] [--no-peers]
--
-- Cases (best of 3 wall seconds; inputs in memory: a persisted lask array of N
-- uniform float64 in 8 blocks, the numpy array, the persisted dask array of the same
-- blocks):
--   x[x:gt(0.5)]:sum()     the selection (unknown block sizes) reduced: one task per
--                          block compresses and sums, the mask never stored
--   x[x:gt(0.5)]:compute() the selection assembled in memory (numpy: x[x > 0.5])
-- N is 5e7 by default (issue 16's size); --n 100000 checks that the script works.
-- Fails when lask's result disagrees with da.where(x:gt(0.5), x, 0):sum() (another
-- path to the same number) or with the selection's size.
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

local N, peers = 50000000, true
do
  local i = 1
  while arg and arg[i] do
    if arg[i] == "--n" then
      N = math.tointeger(tonumber(arg[i + 1])) or error("--n takes an integer")
      i = i + 1
    elseif arg[i] == "--no-peers" then
      peers = false
    end
    i = i + 1
  end
end

local loadavg = R.loadavg
local load_at_start = loadavg()

local da = require "lask.array"
local REPS = 3

local function best(f) return R.best(REPS, f) end

local x = da.random.random(N, { chunks = (N + 7) // 8, seed = 1 }):persist()
local ours = {}
local got
ours.mask_sum, got = best(function() return x[x:gt(0.5)]:sum():compute():get() end)
local want = da.where(x:gt(0.5), x, 0):sum():compute():get()
if math.abs(got - want) > 1e-9 * math.abs(want) then
  error(("x[x:gt(0.5)]:sum() gave %.17g, da.where(x:gt(0.5), x, 0):sum() %.17g"):format(got, want))
end
local sel
ours.mask_compute, sel = best(function() return x[x:gt(0.5)]:compute() end)
local count = x:gt(0.5):sum():compute():get()
if sel.shape[1] ~= count then error(("the selection has %d elements, %d expected"):format(sel.shape[1], count)) end
sel, x = nil, nil
collectgarbage()

local peer = {}
if peers then
  local py = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
  local res, out = R.run(py .. " " .. here .. "indexing_peer.py --n " .. N)
  if res then peer = res else io.stderr:write("peer run failed:\n", out or "", "\n") end
end

local function ms(t) return t and R.num(t * 1000, 1) or "-" end
print(("lask.array indexing vs numpy and dask.array (ms, best of %d; load average %s at the start, %s at the end)")
  :format(REPS, load_at_start, loadavg()))
R.table({ "case", "lask", "numpy", "dask", "numpy/lask", "dask/lask" }, {
  { ("x[x:gt(0.5)]:sum(), %g f64"):format(N), ms(ours.mask_sum), ms(peer.np_mask_sum), ms(peer.dask_mask_sum),
    R.ratio(peer.np_mask_sum, ours.mask_sum), R.ratio(peer.dask_mask_sum, ours.mask_sum) },
  { ("x[x:gt(0.5)]:compute(), %g f64"):format(N), ms(ours.mask_compute), ms(peer.np_mask_compute),
    ms(peer.dask_mask_compute), R.ratio(peer.np_mask_compute, ours.mask_compute),
    R.ratio(peer.dask_mask_compute, ours.mask_compute) },
})
R.emit({ mask_sum_ms = ours.mask_sum * 1000, mask_compute_ms = ours.mask_compute * 1000 })
