-- map_overlap.lua: a 3-point stencil through map_overlap, lask.array against numpy
-- and dask.array (map_overlap_peer.py), same run.
--
--   map_overlap.lua [--quick] [--no-peers] [--blocks B]
--
-- The case: y[i] = 0.25 x[i-1] + 0.5 x[i] + 0.25 x[i+1] over x of 5e7 float64 (5e5
-- with --quick) in B blocks (16 by default), Dask's "reflect" boundary (the edge
-- mirrored), depth 1. The block function computes the interior of its extended
-- block (trim = false: one element shorter on each side, so the result has x's
-- blocks and nothing is trimmed), with views for the three shifts:
--   lask: fn(b) = 0.25 * b[0:m-2] + 0.5 * b[1:m-1] + 0.25 * b[2:m] (getitem views,
--         lask.ndarray arithmetic: recorded and evaluated in one fused pass when the
--         task returns it), on lask.threaded with lua = "parallel" (the block
--         function on every worker) and with the default lua = "caller"
--   lask, fused: the block function builds the same expression as a lask.array over
--         the block (da.from_array, slices, arithmetic) and computes it with
--         lask.sync on the worker: one fused pass, no temporaries
--   dask: the same numpy expression, dask.array.map_overlap(..., trim=False) on
--         the threaded scheduler; numpy: the expression on the whole array, with
--         np.pad(mode="symmetric") for the ends
-- Inputs are in memory (persisted); the result is computed into memory. Best of 3
-- wall seconds. Correctness: the results are checked at a few positions against
-- the formula.
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

local quick, peers, blocks = false, true, 16
for i, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true
  elseif a == "--no-peers" then peers = false
  elseif a == "--blocks" then blocks = tonumber(arg[i + 1]) end
end

local da = require "lask.array"
local K = require("lask.core").array_kernels

local N = quick and 500000 or 50000000
local REPS = 3

local function best(f) return R.best(REPS, f) end

local function stencil(b)
  local m = b.shape[1]
  return K.getitem(b, { 0 }, { m - 2 }) * 0.25 + K.getitem(b, { 1 }, { m - 1 }) * 0.5 + K.getitem(b, { 2 }, { m }) * 0.25
end

-- the same stencil as one fused lask.array expression over the block (one pass, no
-- temporaries), evaluated on the worker that runs the block
local function stencil_fused(b)
  local m = b.shape[1]
  local e = da.from_array(b, { chunks = -1 })
  return (0.25 * e:slice { 1, m - 2 } + 0.5 * e:slice { 2, m - 1 } + 0.25 * e:slice { 3, m }):compute { scheduler = "sync" }
end

local x = da.random.random({ N }, { chunks = -(-N // blocks), seed = 0 }):persist()
local xv = x:compute()
local function run(opts, fn)
  return da.map_overlap(fn or stencil, x, 1, "reflect", { trim = false }):compute(opts)
end
local ours = {}
local y, yf
ours.parallel, y = best(function() return run { lua = "parallel" } end)
ours.caller = best(function() return run() end)
ours.fused, yf = best(function() return run({ lua = "parallel" }, stencil_fused) end)
-- check a few positions against the formula (the reflect boundary at both ends)
local function xat(i)
  if i < 1 then i = 1 - i elseif i > N then i = 2 * N + 1 - i end
  return xv:get(i)
end
for _, i in ipairs { 1, 2, N // 3, N // blocks, N // blocks + 1, N - 1, N } do
  local want = 0.25 * xat(i - 1) + 0.5 * xat(i) + 0.25 * xat(i + 1)
  for _, r in ipairs { y, yf } do
    if math.abs(r:get(i) - want) > 1e-12 then
      error(("map_overlap.lua: wrong result at %d: %.17g, want %.17g"):format(i, r:get(i), want))
    end
  end
end
y, yf, xv = nil, nil, nil
collectgarbage()

local peer = {}
if peers then
  local py = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
  local res, out = R.run(("%s %smap_overlap_peer.py %d %d"):format(py, here, N, blocks))
  if res then peer = res else io.stderr:write("peer run failed:\n", out or "", "\n") end
end

local function ms(t) return t and R.num(t * 1000, 1) or "-" end
print(("map_overlap, 3-point stencil, %g float64 in %d blocks, reflect, depth 1 (ms, best of %d)"):format(N, blocks,
  REPS))
R.table({ "case", "lask", "numpy", "dask", "numpy/lask", "dask/lask" }, {
  { "lua = \"parallel\"", ms(ours.parallel), ms(peer.np_s), ms(peer.dask_s), R.ratio(peer.np_s, ours.parallel),
    R.ratio(peer.dask_s, ours.parallel) },
  { "lua = \"caller\" (default)", ms(ours.caller), "-", "-", R.ratio(peer.np_s, ours.caller),
    R.ratio(peer.dask_s, ours.caller) },
  { "fused block expression, parallel", ms(ours.fused), "-", "-", R.ratio(peer.np_s, ours.fused),
    R.ratio(peer.dask_s, ours.fused) },
})
print("target: dask/lask >= 2 (lua = \"parallel\")")
R.emit({ parallel_ms = ours.parallel * 1000, caller_ms = ours.caller * 1000, fused_ms = ours.fused * 1000 })
