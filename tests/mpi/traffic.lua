-- Run under mpirun -np N by tests/spec/mpi_spec.lua: what crosses ranks, counted
-- (mpi.stats): TSQR's R factors go up a tree of the ranks and Q/U's slices come
-- down it (2 (P - 1) n×n blocks, nothing else); a large C-contiguous array crosses
-- with no copy of its elements on either side, a large strided one is packed once;
-- mpi.get's root option gives the values to one rank. Every rank prints "ok ...".
local mpi = require "lask.mpi"
local core = require "lask.core"
local da = require "lask.array"
local la = require "lask.array.linalg"
local CP = require "lask.array.compute"
local ak = core.array_kernels

local P, last = mpi.size, mpi.size - 1
local function ok(name) print(("ok rank %d/%d %s"):format(mpi.rank, P, name)) end

-- The sum over the ranks of each field of t (one task per rank returns its own t).
local function total(t)
  local d, keys = {}, {}
  for r = 0, P - 1 do
    d["part" .. r] = { function() return t end }
    keys[#keys + 1] = "part" .. r
  end
  local parts = mpi.get(d, keys, { owner = function(k) return tonumber(k:sub(5)) end })
  local sum = {}
  for _, part in ipairs(parts) do
    for k, v in pairs(part) do sum[k] = (sum[k] or 0) + v end
  end
  return sum
end

-- every block of the arrays, kept where computed (mpi.get's keep: no result travels)
local function keep_all(...)
  local arrays, keys = { ... }, {}
  local acore = require "lask.array.core"
  for _, a in ipairs(arrays) do
    acore.each_block(a.numblocks, function(idx) keys[#keys + 1] = acore.block_key(a.name, idx) end)
  end
  mpi.get(CP.graph(arrays, {}), keys, { keep = true })
  return mpi.stats()
end

-- TSQR: even and uneven row blocks, fewer blocks than ranks, n small (inline
-- messages) and n large (an n×n block of 20000 bytes: header and elements)
for _, case in ipairs { { 1000, 10, 100 }, { 169, 6, 23 }, { 3 * 60, 50, 60 }, { 700, 50, 100 } } do
  local m, n, rows = case[1], case[2], case[3]
  local x = da.random.normal({ m, n }, { chunks = { rows, n }, seed = 3 })
  local blocks = #x.chunks[1]
  local used = math.min(P, blocks) -- ranks that own row blocks
  for _, how in ipairs { "qr", "svd" } do
    local st
    if how == "qr" then
      st = total(keep_all(la.qr(x)))
    else
      local u, s, v = la.svd(x)
      st = total(keep_all(u, s, v))
    end
    local big = 8 * n * n >= 16384
    -- up the tree: one R per merge; down: one slice per child on another rank
    assert(st.values == 2 * (used - 1), ("%s %dx%d on %d ranks: %d values sent, a tree sends %d")
      :format(how, m, n, P, st.values, 2 * (used - 1)))
    assert(st.messages == st.values * (big and 2 or 1), how .. " messages " .. st.messages)
    assert(st.bytes <= st.values * (8 * n * n + 200), how .. " bytes " .. st.bytes)
    assert(not big or st.copied == 0, how .. " copied " .. st.copied)
  end
  -- and the results are one process's
  local q, r = la.qr(x)
  local qm, rm = da.asarray(q:compute { scheduler = "mpi" }), da.asarray(r:compute { scheduler = "mpi" })
  local err = da.abs(da.matmul(qm, rm) - x):max():compute():item()
  assert(err < 1e-10, "q r = x: " .. err)
  local s1 = select(2, la.svd(x)):compute { scheduler = "mpi" }
  local s2 = select(2, la.svd(x)):compute { scheduler = "sync" }
  assert(da.abs(da.asarray(s1) - da.asarray(s2)):max():compute():item() < 1e-10, "singular values")
  ok(("tsqr traffic %dx%d blocks of %d"):format(m, n, rows))
end

-- a 64 MiB C-contiguous array: sent from its buffer, received into the new one
do
  local N = 8 * 2 ^ 20 // 1
  local d = { big = { ak.arange, 0, N, 1, "float64" } }
  local v = mpi.get(d, "big", { owner = function() return 0 end })
  local st = mpi.stats()
  assert(v.shape[1] == N and v:get(1) == 0 and v:get(N) == N - 1 and v:get(12345) == 12344, "64 MiB values")
  assert(st.copied == 0, "64 MiB array copied " .. st.copied .. " bytes on rank " .. mpi.rank)
  if mpi.rank == 0 then
    assert(st.bytes >= 8 * N * (P - 1) and st.bytes < 8 * N * (P - 1) + 1024 * P, "bytes sent " .. st.bytes)
  else
    assert(st.messages == 0, "rank " .. mpi.rank .. " sent " .. st.messages)
  end
  ok("64 MiB without a copy")
end

-- large strided (transposed), float32 and bool arrays, an empty and a 0-d one: the
-- strided one is packed once on its rank, however many ranks read it
do
  local d = {
    base = { ak.arange, 0, 300 * 200, 1, "int64" },
    mat = { ak.reshape, "base", { 300, 200 } },
    strided = { ak.transpose, "mat", { 1, 0 } },
    f32 = { ak.arange, 0, 20000, 1, "float32" },
    flags = { ak.astype, { ak.arange, 0, 40000, 1, "int64" }, "bool" },
    empty = { ak.arange, 0, 0, 1, "float64" },
    zerod = { function() return core.asarray(5.0) end },
  }
  local keys = { "strided", "f32", "flags", "empty", "zerod" }
  local v = mpi.get(d, keys, { owner = function() return 0 end })
  local st = mpi.stats()
  local t = v[1]
  assert(t.shape[1] == 200 and t.shape[2] == 300 and t:get(3, 2) == 202 and t:get(200, 300) == 59999, "transposed")
  assert(v[2].dtype == "float32" and v[2].shape[1] == 20000 and v[2]:get(20000) == 19999, "float32")
  assert(v[3].dtype == "bool" and v[3]:get(1) == false and v[3]:get(2) == true, "bool")
  assert(v[4].shape[1] == 0, "empty")
  assert(v[5].ndim == 0 and v[5]:item() == 5, "0-d")
  if mpi.rank == 0 then -- packed once (480000 bytes), whatever P; the small 0-d and empty inline
    assert(st.copied == (P > 1 and 8 * 60000 + 8 or 0), "copied " .. st.copied)
  else
    assert(st.copied == 8, "copied on a reader " .. st.copied) -- the 0-d array, inline
  end
  ok("large arrays of every layout")
end

-- root: only that rank gets the values; the others nil for each key
for _, root in ipairs { 0, last } do
  local d = { a = { ak.arange, 0, 10000, 1, "float64" }, b = { function(x) return x:get(3) end, "a" }, c = 7 }
  local owner = function(k) return k == "a" and last or 0 end
  local v = mpi.get(d, { "a", { "b", "c" } }, { root = root, owner = owner })
  local st = mpi.stats()
  if mpi.rank == root then
    assert(v[1].shape[1] == 10000 and v[2][1] == 2 and v[2][2] == 7, "root's values")
  else
    assert(type(v) == "table" and v[1] == nil and type(v[2]) == "table" and v[2][1] == nil and v[2][2] == nil,
      "off the root: nil for each key")
  end
  -- what was sent: a to rank 0 (b's reader) when it is elsewhere, then a and b to root
  local sum = total({ values = st.values })
  local pairs_sent = {} -- (value, rank) pairs: each value is sent once to a rank
  if last ~= 0 then pairs_sent["a0"] = true end
  if root ~= last then pairs_sent["a" .. root] = true end
  if root ~= 0 then pairs_sent["b" .. root] = true end
  local want = 0
  for _ in pairs(pairs_sent) do want = want + 1 end
  assert(sum.values == want, ("root %d: %d values sent, want %d"):format(root, sum.values, want))
  assert(mpi.get(d, "b", { root = root }) == (mpi.rank == root and 2 or nil), "a single key")
  ok("root " .. root)
end
local okr, err = pcall(mpi.get, { a = 1 }, "a", { root = P })
assert(not okr and tostring(err):find("root must be a rank 0%.%." .. last), tostring(err))
okr, err = pcall(mpi.get, { a = 1 }, "a", { root = 0, keep = true })
assert(not okr and tostring(err):find("root and keep"), tostring(err))
ok("root errors")
