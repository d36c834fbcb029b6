-- array.lua: lask.array against numpy and dask.array (array_numpy.py), same run.
--
--   array.lua [--quick] [--no-peers]
--
-- Cases (best of 3 wall seconds; best of 5 taken in turns for the persisted cube,
-- the sum and std of 5e7 and the triad; inputs in memory: persisted lask arrays,
-- numpy arrays, persisted dask arrays):
--   (2*x+1)^3   5e7 float64, 8 blocks (as many as the engine's cache of freed buffers
--               holds); compute() gives the whole result in memory, its blocks
--               evaluated straight into it (the "persist" row leaves it in blocks)
--   x:sum()     5e7;  x:std() on 5e7
--   mean{axis=1} and std() on 5000 x 10000 (blocks 1000 x 5000)
--   da.dot      4000 x 4000 by 4000 x 4000, blocks 1000 x 1000, against one
--               single-call dgemm on the whole matrices (the matmul kernel called
--               directly, in a child process that starts no engine: OpenBLAS's own
--               threads, since a started engine makes OpenBLAS single-threaded) and
--               numpy's a @ b (OpenBLAS, all cores)
--   triad       a = b + 3 * c over 5e7 float64 (STREAM's triad: 24 bytes per element),
--               as one fused kernel per block: the machine's bandwidth, the roofline
--               of every elementwise case above
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

local quick, peers = false, true
for _, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true elseif a == "--no-peers" then peers = false end
end
local dgemm_child = arg[1] == "dgemm" -- array.lua dgemm KD: the single-call reference

local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end
local load_at_start = loadavg()

local da = require "lask.array"
local K = require("lask.core").array_kernels

local N = quick and 5000000 or 50000000
local M = quick and { 500, 10000 } or { 5000, 10000 }
local KD = dgemm_child and tonumber(arg[2]) or quick and 1000 or 4000
local REPS = 3

local function best(f) return R.best(REPS, f) end -- a collection first: the last result's blocks go back to the buffer cache

-- The cases the bandwidth bounds, and the triad that measures it, run in turns
-- (round-robin, best of ROUNDS each): this machine's memory bandwidth drifts by tens
-- of percent within a minute, and taking turns exposes every case to the same drift.
local ROUNDS = 5
local function in_turns(cases)
  local t = {}
  for _ = 1, ROUNDS do
    for _, c in ipairs(cases) do
      collectgarbage()
      local t0 = R.clock()
      c[2]()
      t[c[1]] = math.min(t[c[1]] or math.huge, R.clock() - t0)
    end
  end
  return t
end

-- The child: the same matrices as da.dot's, made without an engine (the sync
-- scheduler), multiplied by one call of the matmul kernel on OpenBLAS's own threads.
if dgemm_child then
  local function matrix(seed)
    return da.random.random({ KD, KD }, { chunks = KD // 4, seed = seed }):compute { scheduler = "sync" }
  end
  local a1, b1 = matrix(2), matrix(3)
  R.emit { dgemm_s = best(function() return K.matmul(a1, b1) end) }
  return
end

local x = da.random.random({ N }, { chunks = N // 8, seed = 0 }):persist()
local b = da.random.random({ N }, { chunks = N // 8, seed = 4 }):persist()
local c = da.random.random({ N }, { chunks = N // 8, seed = 5 }):persist()
-- compute() allocates one 400 MB result, which the engine's cache of freed buffers
-- keeps only while nothing else takes its place: it is timed on its own, warm (a
-- fresh result pays ~100k first-touch page faults, which numpy's column pays too)
local ew = best(function() return ((2 * x + 1) ^ 3):compute() end)
local ours = in_turns {
  { "ew_persist", function() return ((2 * x + 1) ^ 3):persist() end },
  { "sum", function() return x:sum():compute() end },
  { "std1", function() return x:std():compute() end },
  { "triad", function() return (b + 3 * c):persist() end },
}
ours.ew = ew
x, b, c = nil, nil, nil
collectgarbage()
local X = da.random.random(M, { chunks = { M[1] // 5, M[2] // 2 }, seed = 1 }):persist()
ours.mean0 = best(function() return X:mean({ axis = 1 }):compute() end)
ours.std = best(function() return X:std():compute() end)
X = nil
collectgarbage()
local A = da.random.random({ KD, KD }, { chunks = KD // 4, seed = 2 }):persist()
local B = da.random.random({ KD, KD }, { chunks = KD // 4, seed = 3 }):persist()
ours.dot = best(function() return A:dot(B):compute() end)
A, B = nil, nil
local child = R.run(("%s %s dgemm %d"):format(R.interpreter(), R.shell_quote(arg[0]), KD))
ours.dgemm = child and child.dgemm_s
collectgarbage()

local peer = {}
if peers then
  local py = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
  local res, out = R.run(py .. " " .. here .. "array_numpy.py" .. (quick and " --quick" or ""))
  if res then peer = res else io.stderr:write("peer run failed:\n", out or "", "\n") end
end

local function ms(t) return t and R.num(t * 1000, 1) or "-" end
local gb = 24 * N / 1e9
print(("lask.array vs numpy and dask.array (ms; lask: best of %d, rows 2-4 and the triad in turns, " ..
  "the rest best of %d; load average %s at the start, %s at the end; noisy above ~0.5 on these 2 cores)"):format(
  ROUNDS, REPS, load_at_start, loadavg()))
R.table({ "case", "lask", "numpy", "dask", "numpy/lask", "dask/lask" }, {
  { ("(2*x+1)^3, %g f64, compute"):format(N), ms(ours.ew), ms(peer.np_ew), ms(peer.dask_ew), R.ratio(peer.np_ew, ours.ew),
    R.ratio(peer.dask_ew, ours.ew) },
  { "  same, result left in blocks (persist)", ms(ours.ew_persist), "-", "-", R.ratio(peer.np_ew, ours.ew_persist), "-" },
  { ("x:sum(), %g"):format(N), ms(ours.sum), ms(peer.np_sum), ms(peer.dask_sum), R.ratio(peer.np_sum, ours.sum),
    R.ratio(peer.dask_sum, ours.sum) },
  { ("x:std(), %g"):format(N), ms(ours.std1), ms(peer.np_std1), ms(peer.dask_std1), R.ratio(peer.np_std1, ours.std1),
    R.ratio(peer.dask_std1, ours.std1) },
  { ("x:mean{axis=1}, %dx%d"):format(M[1], M[2]), ms(ours.mean0), ms(peer.np_mean0), ms(peer.dask_mean0),
    R.ratio(peer.np_mean0, ours.mean0), R.ratio(peer.dask_mean0, ours.mean0) },
  { ("x:std(), %dx%d"):format(M[1], M[2]), ms(ours.std), ms(peer.np_std), ms(peer.dask_std), R.ratio(peer.np_std, ours.std),
    R.ratio(peer.dask_std, ours.std) },
  { ("da.dot %dx%d, blocks %d"):format(KD, KD, KD // 4), ms(ours.dot), ms(peer.np_dot), ms(peer.dask_dot),
    R.ratio(peer.np_dot, ours.dot), R.ratio(peer.dask_dot, ours.dot) },
  { "  single-call dgemm (matmul kernel)", ms(ours.dgemm), "-", "-", R.ratio(peer.np_dot, ours.dgemm), "-" },
  { ("triad b + 3*c, %g f64"):format(N), ms(ours.triad), ms(peer.np_triad), "-", R.ratio(peer.np_triad, ours.triad), "-" },
})
print()
print(("triad bandwidth: lask %.1f GB/s, numpy %s GB/s (24 bytes per element)"):format(gb / ours.triad,
  peer.np_triad and ("%.1f"):format(gb / peer.np_triad) or "-"))
print(("(2*x+1)^3 in blocks: %.1f GB/s of the 16 bytes per element it must move"):format(16 * N / 1e9 / ours.ew_persist))
print(("dgemm: %s GFLOP/s single call (OpenBLAS's threads), %.1f GFLOP/s blocked"):format(
  ours.dgemm and ("%.1f"):format(2 * KD ^ 3 / 1e9 / ours.dgemm) or "-", 2 * KD ^ 3 / 1e9 / ours.dot))
R.emit({ ew_ms = ours.ew * 1000, sum_ms = ours.sum * 1000, dot_ms = ours.dot * 1000, triad_gbs = gb / ours.triad })
