-- Run under mpirun -np N by tests/spec/mpi_spec.lua: lask.array on lask.mpi
-- (compute's scheduler = "mpi") agrees with one process (lask.threaded): element-
-- wise work and reductions, x:compute and x:persist (blocks left where they are),
-- TSQR (la.qr), la.svd and
-- svd_compressed, with uneven row blocks. Every rank prints "ok <name>".
local lask = require "lask"
local da = require "lask.array"
local la = require "lask.array.linalg"
local mpi = require "lask.mpi"

local MPI = { scheduler = "mpi" }
local function ok(name) print(("ok rank %d/%d %s"):format(mpi.rank, mpi.size, name)) end

-- max |a - b| over two ndarrays of one shape (a naive Lua loop)
local function flat(t, out)
  if type(t) ~= "table" then out[#out + 1] = t return out end
  for _, v in ipairs(t) do flat(v, out) end
  return out
end
local function maxdiff(a, b)
  assert(a.ndim == b.ndim, "ndim")
  for d = 1, a.ndim do assert(a.shape[d] == b.shape[d], "shape") end
  local fa, fb, m = flat(a:totable(), {}), flat(b:totable(), {}), 0
  for i = 1, #fa do m = math.max(m, math.abs(fa[i] - fb[i])) end
  return m
end
local function absarray(a) return da.abs(da.asarray(a)):compute() end

for _, dtype in ipairs { "float64", "float32" } do
  local tol = dtype == "float64" and 1e-9 or 1e-3
  -- uneven row blocks: 7 blocks of 23 rows and one of 9 (169 rows)
  local x = da.random.normal({ 169, 6 }, { chunks = { 23, 6 }, seed = 7 }):astype(dtype)
  local y = (2 * x + 1) ^ 2

  local a, b = y:compute(MPI), y:compute()
  assert(maxdiff(a, b) < tol, "elementwise " .. dtype)
  local s1, s2 = lask.compute(y:sum(), x:mean(1), MPI)
  local r1, r2 = lask.compute(y:sum(), x:mean(1))
  assert(math.abs(s1:item() - r1:item()) < tol * 1e4 and maxdiff(s2, r2) < tol, "reductions " .. dtype)
  -- persist leaves each block on the rank that computed it: nothing travels
  local p = y:persist(MPI)
  assert(mpi.last_sent == 0, "persist sent " .. tostring(mpi.last_sent))
  local held = 0
  for _, v in pairs(p.dask) do
    if tostring(v):find("^lask.mpi.held") then held = held + (v.value and 1 or 0) end
  end
  assert(mpi.size > 1 or held == 8, "blocks held here: " .. held)
  assert(maxdiff(p:compute(MPI), b) < tol, "persist " .. dtype)
  assert(math.abs(p:sum():compute(MPI):item() - r1:item()) < tol * 1e4, "sum of persisted " .. dtype)
  ok("elementwise, reductions, persist " .. dtype)

  -- TSQR: R is unique up to the signs of its rows; Q R = x and Q's columns orthonormal
  local q, r = la.qr(x)
  local qm, rm = lask.compute(q, r, MPI)
  local _, rs = lask.compute(q, r)
  assert(maxdiff(absarray(rm), absarray(rs)) < tol * 10, "R " .. dtype)
  assert(maxdiff(da.matmul(da.asarray(qm), da.asarray(rm)):compute(), x:compute()) < tol * 10, "QR = x " .. dtype)
  ok("qr " .. dtype)

  local u, s, v = la.svd(x)
  local um, sm, vm = lask.compute(u, s, v, MPI)
  local _, ss = lask.compute(u, s, v)
  assert(maxdiff(sm, ss) < tol * 10, "singular values " .. dtype)
  local us = da.matmul(da.asarray(um) * da.asarray(sm), da.asarray(vm))
  assert(maxdiff(us:compute(), x:compute()) < tol * 10, "U S V = x " .. dtype)
  ok("svd " .. dtype)

  local uc, sc, vc = la.svd_compressed(x, 3, { seed = 1 })
  local scm = sc:compute(MPI)
  assert(maxdiff(scm, sc:compute()) < tol * 10, "svd_compressed " .. dtype)
  assert(uc and vc)
  ok("svd_compressed " .. dtype)
end

-- what travels for TSQR's R: on 2 ranks each merges its own row blocks' factors and
-- one n x n R crosses (plus the result to the other rank); on more ranks each rank's
-- factors go to the rank merging their group (at most one per row block)
do
  local x = da.random.normal({ 1000, 10 }, { chunks = { 100, 10 }, seed = 7 })
  local _, r = la.qr(x)
  r:compute(MPI)
  if mpi.size == 1 then assert(mpi.last_sent == 0, "nothing to send on one rank") end
  if mpi.size == 2 then assert(mpi.last_sent == 1, "one R each way on 2 ranks, sent " .. mpi.last_sent) end
  assert(mpi.last_sent <= 10 // mpi.size + mpi.size, "R factors sent: " .. mpi.last_sent)
  ok("tsqr messages")
end
