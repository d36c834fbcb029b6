-- Run under mpirun -np N by tests/spec/mpi_spec.lua: mpi.get against lask.sync on
-- random DAGs (every owner rule), and values of every kind crossing ranks. Every
-- rank prints "ok <name>" per check; a failed check raises (non-zero exit).
local lask = require "lask"
local mpi = require "lask.mpi"
local sync = require "lask.sync"
local core = require "lask.core"
local ak = core.array_kernels
local K = lask.kernels

-- the seed must be the same on every rank: the spec passes it (mpirun -x LASK_MPI_SEED)
local seed = tonumber(os.getenv("LASK_MPI_SEED") or "") or 1
if mpi.rank == 0 then print("seed " .. seed) end
math.randomseed(seed) -- every rank the same seed: the same graphs

local function same(a, b, path)
  path = path or "result"
  if core.ndarray.isndarray(a) or core.ndarray.isndarray(b) then
    assert(core.ndarray.isndarray(a) and core.ndarray.isndarray(b), path .. ": not both ndarrays")
    assert(a.dtype == b.dtype, path .. ": dtype " .. a.dtype .. " vs " .. b.dtype)
    return same(a:totable(), b:totable(), path)
  end
  if type(a) ~= "table" or type(b) ~= "table" then
    assert(a == b or (a ~= a and b ~= b), ("%s: %s vs %s"):format(path, tostring(a), tostring(b)))
    return
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k in pairs(b) do assert(a[k] ~= nil, path .. "." .. tostring(k) .. " missing") end
end

local function ok(name) print(("ok rank %d/%d %s"):format(mpi.rank, mpi.size, name)) end

-- A random DAG of n tasks: Lua functions and native kernels, string and tuple keys.
local function random_dag(n)
  local d, keys = {}, {}
  local function luaf(...) local s = 0 for _, x in ipairs { ... } do s = s + x end return s % 1000003 end
  for i = 1, n do
    local key = (i % 3 == 0) and lask.key("blk", i % 7, i) or ("t" .. i)
    local ndeps = i == 1 and 0 or math.random(0, math.min(3, i - 1))
    local args = {}
    for k = 1, ndeps do args[k] = keys[math.random(1, i - 1)] end
    if ndeps == 0 then
      d[key] = { luaf, i, 1 }
    elseif math.random() < 0.4 then
      d[key] = { K.add, args[1], args[2] or i }
    else
      d[key] = { luaf, i, table.unpack(args) }
    end
    keys[i] = key
  end
  return d, keys
end

for trial = 1, 6 do
  local n = ({ 1, 2, 10, 60, 200, 500 })[trial]
  local d, keys = random_dag(n)
  local want = { keys[n], keys[math.max(1, n // 2)], { keys[1] } }
  local ref = sync.get(d, want)
  -- in a fixed order: every rank must make the same gets in the same order (pairs
  -- would not: its order differs between processes)
  local rules = { { "default" }, { "blocks", "blocks" }, { "hash", "hash" }, { "by length", function(k)
    local s = type(k) == "string" and k or core.keyrepr(k)
    return #s % mpi.size
  end } }
  for _, rule in ipairs(rules) do
    same(mpi.get(d, want, { owner = rule[2] }), ref, ("dag n=%d owner=%s"):format(n, rule[1]))
  end
  ok("random dag n=" .. n)
end

-- values of every kind, made on one rank and read on another
local last = mpi.size - 1
local function on(r) return function() return r end end
local a = core.asarray { { 1, 2, 3 }, { 4, 5, 6 } }
local d = {
  tbl = { function() return { 1, "two", { three = 3.5, [4] = true }, n = -1 } end },
  str = { function() return ("x"):rep(1000) .. "\0end" end },
  f64 = { function() return core.asarray { { 1.5, 2.5 }, { 3.5, 4.5 } } end },
  f32 = { function() return core.asarray({ { 1.5, 2 }, { 3, 4 } }):astype("float32") end },
  i64 = { function() return a end },
  bool = { function() return core.asarray { true, false, true } end },
  strided = { ak.transpose, "i64", { 1, 0 } },
  zerod = { function() return core.asarray(7.25) end },
  empty = { function() return core.asarray({}) end },
  kern = { function() return K.add end },
  key = { function() return lask.key("x", 1, 2) end },
}
local names = {}
for k in pairs(d) do names[#names + 1] = k end
table.sort(names)
local readers = {}
for _, k in ipairs(names) do
  d["read_" .. k] = { function(v) return v end, k }
  readers[#readers + 1] = "read_" .. k
end
local function owner(k) return k:sub(1, 5) == "read_" and last or 0 end
local r = mpi.get(d, readers, { owner = owner })
local ref = sync.get(d, readers)
for i, k in ipairs(readers) do
  if k == "read_kern" then
    assert(r[i] == K.add, "kernel by name")
  elseif k == "read_key" then
    assert(r[i] == lask.key("x", 1, 2), "tuple key")
  else
    same(r[i], ref[i], k)
  end
end
local got = {}
for i, k in ipairs(readers) do got[k] = r[i] end
assert(got.read_strided.shape[1] == 3 and got.read_strided:get(3, 2) == 6, "strided view")
assert(got.read_zerod.ndim == 0 and got.read_zerod:item() == 7.25, "0-d")
ok("values cross ranks")

-- data (no task) is never sent; requested data comes back as is
same(mpi.get({ x = 5, y = { 1, 2 } }, { "x", "y" }), { 5, { 1, 2 } }, "data")
ok("data")

-- a function cannot travel: the error names the key, on every rank
local okf, err = pcall(mpi.get, { f = { function() return function() end end }, g = { function(x) return 1 end, "f" } }, "g",
  { owner = function(k) return k == "f" and 0 or last end })
if mpi.size > 1 then
  assert(not okf and err.key == "f" and err.rank == 0, tostring(err))
  assert(tostring(err):find("cannot be sent to another rank"), tostring(err))
else
  assert(okf)
end
ok("functions do not travel")
