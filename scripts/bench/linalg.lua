-- linalg.lua: lask.array.linalg against numpy and dask.array (linalg_peer.py), same run.
--
--   linalg.lua [--no-peers] [--profile] [--small]
--       generates the matrices once (lask, normal(0, 1), fixed seeds) into .npy files
--       in a temporary directory, which both sides load: the same matrices, to the
--       bit. Every lask configuration runs in its own process (best of 3 computes of
--       an input persisted beforehand, or of more, up to 10, while they took less
--       than 1 s in all); then the peer runs numpy and dask on the same
--       files, checks lask's singular values (and R) against numpy's, and the table
--       is printed. --profile adds one profiled compute per lask configuration and
--       prints where its time goes (busy seconds per stage of the graph). Every lask
--       case runs twice: as is, and with LASK_BLAS_BORROW=0 (big BLAS/LAPACK calls of
--       a task that runs alone do not use the sleeping workers' cores); the "cores"
--       column is lask's CPU seconds over wall seconds in the best run (2.0: both
--       cores busy throughout). --small divides every matrix's rows and columns by 4
--       (a quick check that the script works; the targets are for the full sizes).
--   linalg.lua gen DIR                     writes the matrices into DIR
--   linalg.lua run CASE DIR REPS [PROFILE] one lask configuration: prints a RESULT line
--              (wall seconds t, CPU seconds cpu of the best run)
--
-- Cases (lask / numpy / dask):
--   svd_tall   svd of 1e6 x 100, blocks 100000 x 100 / np.linalg.svd(x, full_matrices=False)
--              / da.linalg.svd
--   svd_sq     svd of 5000 x 1000, blocks 1000 x 1000 / same
--   svdc_sq    svd_compressed of 5000 x 1000, k = 100, 2 power iterations, seed 0
--              / - / da.linalg.svd_compressed(x, 100, n_power_iter=2, seed=0)
--   svdc_wide  the same on 1e5 x 2000 (blocks 10000 x 2000), k = 50
--   tsqr_tall  tsqr of 1e6 x 100 (Q and R) / np.linalg.qr(x) / da.linalg.tsqr
--   dot_sq     4000 x 4000 by 4000 x 4000 in 1000 x 1000 blocks / a @ b (numpy's
--              OpenBLAS on its default threads: both cores) / da.dot
--   dgemm      2000 x 2000 by 2000 x 2000: lask's matmul kernel inside one task (the
--              engine runs OpenBLAS single-threaded) and called directly from Lua
--              before any engine started (OpenBLAS's own threads); numpy's a @ b with
--              OPENBLAS_NUM_THREADS=1.
--
-- Environment (set by run.sh): LASK, the command running a Lua script with lask
-- loadable (default: this interpreter); PEER_PYTHON (default /usr/bin/python3).
local here = (arg and arg[0] or ""):match("^(.*/)") or "./"
local R = dofile(here .. "report.lua")

local REPS = 3 -- the first compute of a process also pays its first page faults
-- fast cases run more, up to MAX_REPS, while all their runs took less than FILL
-- seconds (the peer does the same), so a noisy moment weighs less on them
local FILL, MAX_REPS = 1.0, 10

-- name -> shape, lask/dask blocks, seed of the generated matrix
local MATRICES = {
  tall = { shape = { 1000000, 100 }, chunks = { 100000, 100 }, seed = 0 },
  sq = { shape = { 5000, 1000 }, chunks = { 1000, 1000 }, seed = 1 },
  wide = { shape = { 100000, 2000 }, chunks = { 10000, 2000 }, seed = 2 },
  dot_a = { shape = { 4000, 4000 }, chunks = { 1000, 1000 }, seed = 8 },
  dot_b = { shape = { 4000, 4000 }, chunks = { 1000, 1000 }, seed = 9 },
}
-- --small (LINALG_SMALL=1 in the children): every extent / 4 (the peer reads the files)
local SMALL = os.getenv("LINALG_SMALL") == "1"
for _, a in ipairs(arg) do SMALL = SMALL or a == "--small" end
if SMALL then
  for _, m in pairs(MATRICES) do
    for d = 1, 2 do m.shape[d], m.chunks[d] = m.shape[d] // 4, m.chunks[d] // 4 end
  end
end

-- case -> matrix, the computation (returns lazy arrays), what to save for the check
local CASES = {
  svd_tall = { matrix = "tall", save = 2, f = function(la, x) return la.svd(x) end },
  svd_sq = { matrix = "sq", save = 2, f = function(la, x) return la.svd(x) end },
  svdc_sq = { matrix = "sq", save = 2,
    f = function(la, x) return la.svd_compressed(x, 100, { n_power_iter = 2, seed = 0 }) end },
  svdc_wide = { matrix = "wide", save = 2,
    f = function(la, x) return la.svd_compressed(x, 50, { n_power_iter = 2, seed = 0 }) end },
  tsqr_tall = { matrix = "tall", save = 2, f = function(la, x) return la.tsqr(x) end },
  dot_sq = { matrix = "dot_a", matrix2 = "dot_b", save = 1, f = function(_, x, y) return x:dot(y) end },
}

local function npy(dir, name) return dir .. "/" .. name .. ".npy" end

---------------------------------------------------------------------------------
-- Children

-- Busy seconds per stage of the graph (key names without their tokens) and kernel.
local function profile_summary(results, wall)
  local by = {}
  for _, r in ipairs(results) do
    local k = r.key
    local name = type(k) == "string" and k or tostring(k):match("^%('([^']*)'") or tostring(k)
    name = name:gsub("%x%x%x%x%x%x%x%x%x%x%x%x+", "*")
    local id = name .. " " .. tostring(r.func)
    local e = by[id] or { id = id, busy = 0, n = 0 }
    by[id] = e
    e.busy, e.n = e.busy + (r.finish - r.start), e.n + 1
  end
  local list = {}
  for _, e in pairs(by) do list[#list + 1] = e end
  table.sort(list, function(a, b) return a.busy > b.busy end)
  local parts = {}
  for i = 1, math.min(5, #list) do
    local e = list[i]
    if e.busy >= 0.01 * wall then
      parts[#parts + 1] = string.format("%s x%d %.3fs", e.id, e.n, e.busy)
    end
  end
  return table.concat(parts, "; ")
end

local function run_case(case, dir, reps, profile)
  local lask = require "lask"
  local da = require "lask.array"
  local la = require "lask.array.linalg"
  local c = assert(CASES[case], "unknown case " .. tostring(case))
  local m = MATRICES[c.matrix]
  local x = da.from_npy(npy(dir, c.matrix), { chunks = m.chunks }):persist()
  local y = c.matrix2 and da.from_npy(npy(dir, c.matrix2), { chunks = MATRICES[c.matrix2].chunks }):persist()
  local best, cpu, res, runs, spent = math.huge, nil, nil, 0, 0
  while runs < reps or (spent < FILL and runs < MAX_REPS) do
    runs = runs + 1
    res = nil
    collectgarbage()
    collectgarbage()
    local t0, c0 = R.clock(), os.clock() -- os.clock: the process's CPU time, every thread
    res = table.pack(lask.compute(c.f(la, x, y)))
    local t = R.clock() - t0
    if t < best then best, cpu = t, os.clock() - c0 end
    spent = spent + t
  end
  -- What the peer checks: the singular values, or R (the second result either way).
  assert(res[c.save]:save(npy(dir, "lask_" .. case)))
  local out = { case = case, t = best, cpu = cpu }
  if case:match("^svd") then out.s1 = res[2]:get(1) end
  if profile then
    res = nil
    collectgarbage()
    local prof = require("lask.diagnostics").Profiler()
    prof:register()
    local t0 = R.clock()
    lask.compute(c.f(la, x, y))
    local wall = R.clock() - t0
    prof:unregister()
    print("PROFILE " .. string.format("wall %.3fs: ", wall) .. profile_summary(prof.results, wall))
  end
  R.emit(out)
end

local function run_dgemm(reps)
  local lask = require "lask"
  local da = require "lask.array"
  local K = require("lask.core").array_kernels
  local n = SMALL and 500 or 2000
  local function best(f) return R.best(reps, f) end
  local function matrix(seed)
    return da.random.random({ n, n }, { chunks = { n, n }, seed = seed }):compute { scheduler = "sync" }
  end
  -- first, while no engine has started (the sync scheduler starts none): an engine
  -- makes OpenBLAS single-threaded for the rest of the process
  local a1, b1 = matrix(3), matrix(4)
  local t_direct = best(function() return K.matmul(a1, b1) end)
  local A, B = da.from_array(a1, { chunks = { n, n } }):persist(), da.from_array(b1, { chunks = { n, n } }):persist()
  local t_task = best(function() return A:dot(B):compute() end)
  local flop = 2 * n ^ 3
  R.emit { case = "dgemm", task_gflops = flop / t_task / 1e9, direct_gflops = flop / t_direct / 1e9 }
end

if arg[1] == "gen" then
  local da = require "lask.array"
  for _, name in ipairs { "tall", "sq", "wide", "dot_a", "dot_b" } do
    local m = MATRICES[name]
    da.random.normal(m.shape, { chunks = m.chunks, seed = m.seed }):store(npy(arg[2], name))
  end
  R.emit { ok = 1 }
  return
elseif arg[1] == "run" then
  local reps = math.tointeger(tonumber(arg[4] or REPS))
  if arg[2] == "dgemm" then run_dgemm(3) else run_case(arg[2], arg[3], reps, arg[5] == "1") end
  return
end

---------------------------------------------------------------------------------
-- The driver

local peers, profile, small = true, false, SMALL
for _, a in ipairs(arg) do
  if a == "--no-peers" then peers = false
  elseif a == "--profile" then profile = true
  elseif a == "--small" then -- read above
  else error("linalg.lua: unknown option " .. a) end
end

local shell_quote = R.shell_quote
local function first_line(cmd)
  local p = io.popen(cmd)
  local l = p and p:read("l")
  if p then p:close() end
  return l or "?"
end
local LASK = (small and "LINALG_SMALL=1 " or "") .. R.interpreter()
local PY = os.getenv("PEER_PYTHON") or "/usr/bin/python3"
local self_path = shell_quote(arg[0])
local peer_script = shell_quote(here .. "linalg_peer.py")

local started = R.clock()
print(string.format("linalg: load average %s at the start (%s cores)", first_line("cut -d' ' -f1-3 /proc/loadavg"),
  first_line("nproc")))
print(string.format("linalg: OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s (as found: used by lask and numpy alike)",
  os.getenv("OPENBLAS_CORETYPE") or "(unset)", os.getenv("OPENBLAS_L2_SIZE") or "(unset)"))
io.stdout:flush()

if peers and not os.execute(PY .. " -c 'import numpy, dask' >/dev/null 2>&1") then
  io.stderr:write("linalg: " .. PY .. " has no numpy/dask: the peer columns stay empty\n")
  peers = false
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. shell_quote(dir)), "cannot make " .. dir)
local qdir = shell_quote(dir)

local failures = 0
local function child(label, cmd)
  io.stderr:write(string.format("linalg: %-22s ... ", label))
  io.stderr:flush()
  local t0 = R.clock()
  -- R.run, keeping the child's output (its PROFILE line) besides the RESULT table
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  local line, t = out:match("RESULT ([^\n]*)"), nil
  if line then
    t = {}
    for k, v in line:gmatch("(%S+)=(%S+)") do t[k] = tonumber(v) or v end
  end
  if not t then
    failures = failures + 1
    io.stderr:write("FAILED\n" .. (out or "") .. "\n")
    return nil, out
  end
  io.stderr:write(string.format("%.1f s\n", R.clock() - t0))
  return t, out
end

if not child("lask gen matrices", string.format("%s %s gen %s", LASK, self_path, qdir)) then
  os.execute("rm -rf " .. qdir)
  os.exit(1)
end

local ORDER = { "svd_tall", "svd_sq", "svdc_sq", "svdc_wide", "tsqr_tall", "dot_sq" }
local ours, off, profiles = {}, {}, {}
for _, case in ipairs(ORDER) do -- as is, then with borrowing off, one after the other
  local t, out = child("lask " .. case, string.format("%s %s run %s %s %d %d", LASK, self_path, case, qdir, REPS,
    profile and 1 or 0))
  ours[case] = t
  profiles[case] = out and out:match("PROFILE ([^\n]*)")
  off[case] = child("lask " .. case .. " no borrow", string.format("LASK_BLAS_BORROW=0 %s %s run %s %s %d 0", LASK,
    self_path, case, qdir, REPS))
end
local gemm = child("lask dgemm", string.format("%s %s run dgemm", LASK, self_path))

local peer, np_gemm = {}, nil
if peers then
  peer = child("numpy+dask", string.format("%s%s %s %s", small and "LINALG_SMALL=1 " or "", PY, peer_script,
    qdir)) or {}
  np_gemm = child("numpy dgemm 1 thread", string.format("OPENBLAS_NUM_THREADS=1 %s%s %s dgemm",
    small and "LINALG_SMALL=1 " or "", PY, peer_script))
end
os.execute("rm -rf " .. qdir)

local function secs(t) return t and R.num(t, t < 1 and 3 or 2) or "-" end
-- target: secs (lask's wall seconds at most), np (numpy's time over lask's at least);
-- at --small sizes the targets are not judged
local function row(label, case, target)
  local l = ours[case] and ours[case].t
  local n, d = peer["np_" .. case], peer["dask_" .. case]
  local goals, met = {}, true
  if target.secs then
    goals[#goals + 1] = "<= " .. R.num(target.secs, 1) .. " s"
    met = met and l ~= nil and l <= target.secs
  end
  if target.np then
    goals[#goals + 1] = string.format("numpy/lask >= %.1fx", target.np)
    met = met and l ~= nil and n ~= nil and n / l >= target.np
  end
  local verdict = not l and "FAILED" or #goals == 0 and "-" or small and table.concat(goals, ", ") .. " (full sizes)"
    or table.concat(goals, ", ") .. (met and " ok" or " MISSED")
  local c = ours[case] and ours[case].cpu
  local o = off[case] and off[case].t
  return { label, secs(l), c and l and string.format("%.2f", c / l) or "-", secs(o), secs(n), secs(d), R.ratio(n, l),
    R.ratio(d, l), verdict }
end

print()
print(string.format("linalg: lask.array.linalg vs numpy %s and dask %s (%s); wall seconds: lask best of %d, each " ..
  "configuration in its own process; peers best of %s (one run when the first takes over %s s); both run " ..
  "fast cases more, up to %d runs while they took under %g s in all%s", peer.numpy or "-",
  peer.dask or "-", PY, REPS, peer.reps or "-", peer.long or "-", MAX_REPS, FILL,
  small and "; SMALL sizes (--small: every extent / 4)" or ""))
print("  inputs: normal(0, 1) float64 generated once by lask and loaded from .npy by all three (the same")
print("  matrices), persisted in memory before timing; times cover building the graph and computing it.")
print("  cores: lask's CPU seconds / wall seconds in its best run; no borrow: lask with LASK_BLAS_BORROW=0")
print(string.format("  numpy's OpenBLAS: core %s, %s threads", peer.np_core or "?", peer.np_threads or "?"))
print()
R.table({ "work", "lask s", "cores", "no borrow s", "numpy s", "dask s", "numpy/lask", "dask/lask", "target" }, {
  row("svd 1e6x100, blocks 1e5x100", "svd_tall", { secs = 1.5 }),
  row("svd 5000x1000, blocks 1000", "svd_sq", { secs = 1.0, np = 1.5 }),
  row("svd_compressed 5000x1000 k=100 p=2", "svdc_sq", { secs = 0.1 }),
  row("svd_compressed 1e5x2000 k=50 p=2", "svdc_wide", {}),
  row("tsqr 1e6x100 (Q and R) / np qr", "tsqr_tall", {}),
  row("dot 4000^2 @ 4000^2, blocks 1000 / a @ b", "dot_sq", { np = 1.0 }),
})
print("  (numpy has no svd_compressed; tsqr's target is a rate, below; numpy's a @ b runs on both cores)")
print()

-- Checks against numpy (made by the peer, on the same matrices)
local function chk(v) return v and string.format("%.1e", v) or "-" end
local wrong = false
local function bad(v, tol) if v and v > tol then wrong = true; return "  WRONG" end return "" end
print("checks (max relative differences; the peer computes them from lask's saved results):")
print(string.format("  svd 1e6x100    s lask vs numpy: %s%s", chk(peer.chk_svd_tall), bad(peer.chk_svd_tall, 1e-8)))
print(string.format("  svd 5000x1000  s lask vs numpy: %s%s", chk(peer.chk_svd_sq), bad(peer.chk_svd_sq, 1e-8)))
print(string.format("  tsqr 1e6x100   |R| lask vs numpy: %s%s", chk(peer.chk_tsqr_tall), bad(peer.chk_tsqr_tall, 1e-8)))
print(string.format("  svd_compressed 5000x1000 k=100: s vs numpy's exact top 100: lask %s, dask %s (a random",
  chk(peer.chk_svdc_sq), chk(peer.chk_svdc_sq_dask)))
print("    Gaussian matrix has a flat spectrum: 2 power iterations leave errors of this order for both)")
print(string.format("  svd_compressed 1e5x2000 k=50: s lask vs dask's (both approximate): %s", chk(peer.chk_svdc_wide)))
print(string.format("  dot 4000^2     a @ b lask vs numpy (max difference / max |a @ b|): %s%s", chk(peer.chk_dot_sq),
  bad(peer.chk_dot_sq, 1e-12)))
print()

-- GFLOP/s
local tall = MATRICES.tall.shape
local mm, nn = tall[1], tall[2]
local tsqr_flop = 4 * mm * nn * nn
local function gf(flop, t) return t and string.format("%.1f", flop / t / 1e9) or "-" end
print(string.format("dgemm %dx%d, single core: lask matmul kernel in a task %s GFLOP/s, numpy a @ b with " ..
  "OPENBLAS_NUM_THREADS=1 %s GFLOP/s", small and 500 or 2000, small and 500 or 2000, gemm and string.format("%.1f", gemm.task_gflops) or "-",
  np_gemm and string.format("%.1f", np_gemm.np_gflops) or "-"))
print(string.format("  (the matmul kernel called directly from Lua, OpenBLAS's own threads: %s GFLOP/s)",
  gemm and string.format("%.1f", gemm.direct_gflops) or "-"))
local tq = ours.tsqr_tall and ours.tsqr_tall.t
local tsqr_rate = (tq and gemm) and tsqr_flop / tq / 1e9 / gemm.task_gflops
print(string.format("tsqr %dx%d at 4mn^2 flops (2mn^2 for R, 2mn^2 for Q): lask %s GFLOP/s = %s of single-core " ..
  "dgemm (2 cores; target >= 0.60x%s); numpy qr %s GFLOP/s, dask tsqr %s GFLOP/s", mm, nn,
  gf(tsqr_flop, tq), tsqr_rate and string.format("%.2fx", tsqr_rate) or "-",
  small and ", judged at full size" or tsqr_rate and (tsqr_rate >= 0.6 and ": ok" or ": MISSED") or "",
  gf(tsqr_flop, peer.np_tsqr_tall), gf(tsqr_flop, peer.dask_tsqr_tall)))

-- The SVD of 5000x1000's floor: numpy's SVD of the 1000x1000 R alone (dgesdd on both
-- cores) plus the flops lask's CholeskyQR2 path does besides it (x'x and Q1'Q1 by dsyrk,
-- mn^2 each; Q1 = x R1^-1, mn^2; U = Q1 W, 2mn^2; the n x n steps, about 2n^3) at
-- twice the single-core dgemm rate: no SVD through R on these cores is faster.
local sq = MATRICES.sq.shape
local floor_flop = 5 * sq[1] * sq[2] * sq[2] + 2 * sq[2] ^ 3
if peer.np_svd_r and gemm and peer.np_svd_sq then
  local floor = peer.np_svd_r + floor_flop / (2 * gemm.task_gflops * 1e9)
  print(string.format("svd %dx%d floor: numpy's svd of the %dx%d R alone %s s + lask's other %.1f GFLOP at 2x " ..
    "single-core dgemm %s s = %s s; numpy/floor = %.2fx (lask: %s)", sq[1], sq[2], sq[2], sq[2],
    secs(peer.np_svd_r), floor_flop / 1e9, secs(floor - peer.np_svd_r), secs(floor), peer.np_svd_sq / floor,
    R.ratio(peer.np_svd_sq, ours.svd_sq and ours.svd_sq.t)))
end

if profile then
  print()
  print("where lask's time goes (one profiled compute: busy seconds summed over workers per stage and kernel):")
  for _, case in ipairs(ORDER) do print(string.format("  %-10s %s", case, profiles[case] or "-")) end
end
print()
print(string.format("linalg: load average %s at the end; %.0f s in all%s", first_line("cut -d' ' -f1-3 /proc/loadavg"),
  R.clock() - started, failures > 0 and string.format(", %d FAILED measurement(s)", failures) or ""))
if failures > 0 or wrong then os.exit(1) end
