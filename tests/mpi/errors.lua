-- Run under mpirun -np N by tests/spec/mpi_spec.lua: a failing task raises the
-- same error on every rank (err.key, err.rank, err.message), and the next get works.
-- Every rank prints one "err ..." line per failing get, then "ok next".
local mpi = require "lask.mpi"
local last = mpi.size - 1

local d = {
  a = 1,
  b = { function(x) return x + 1 end, "a" },
  bad = { function(x) error("boom " .. x) end, "b" },
  c = { function(x) return x * 2 end, "bad" },
  slow = { function(x) local s = 0 for i = 1, 1e5 do s = s + i end return s + x end, "a" },
}
local function owner(k) return (k == "bad" or k == "c") and last or 0 end
for _, keys in ipairs { { "c" }, { "c", "slow" } } do
  local ok, err = pcall(mpi.get, d, keys, { owner = owner })
  assert(not ok, "the get should fail")
  print(("err rank=%d key=%s err.rank=%s message=%s traceback=%s"):format(mpi.rank, tostring(err.key),
    tostring(err.rank), tostring(err.message):gsub("\n", " "), err.traceback and "yes" or "no"))
  assert(err.key == "bad" and err.rank == last, tostring(err))
  assert(tostring(err.message):find("boom 2"), tostring(err))
  assert(tostring(err):find("task 'bad' failed"), tostring(err))
end

-- two ranks fail at once: every rank raises the lowest rank's error
if mpi.size > 1 then
  local d2 = {}
  for r = 0, mpi.size - 1 do d2["f" .. r] = { function() error("fail on " .. r) end } end
  local keys = {}
  for r = 0, mpi.size - 1 do keys[#keys + 1] = "f" .. r end
  local ok, err = pcall(mpi.get, d2, keys, { owner = function(k) return tonumber(k:sub(2)) end })
  assert(not ok and err.rank == 0 and err.key == "f0", tostring(err))
  print(("err rank=%d key=%s err.rank=%s"):format(mpi.rank, err.key, err.rank))
end

-- the next get works
assert(mpi.get(d, "b", { owner = owner }) == 2)
assert(mpi.get(d, "slow", { owner = function() return last end }) == 5000050001)
print(("ok next rank=%d"):format(mpi.rank))
