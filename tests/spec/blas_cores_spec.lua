-- Big BLAS/LAPACK calls of a task that runs alone use the sleeping workers' cores
-- (engine/core/cores.h, engine/array/blas_cores.h): the results of every linear
-- algebra family are the same, to rounding, with borrowing on (every scheduler) and
-- off (LASK_BLAS_BORROW=0), and borrowing did happen where it can. Each
-- configuration runs in a process of its own (the variable is read once a process);
-- they save their results as .npy files, compared here.
local S = dofile("tests/spec/spec_helpers.lua")
local lask = require "lask"
local nd = require("lask.core").ndarray

-- The script each configuration runs: arg[1] the directory, arg[2] the scheduler.
-- Sizes: the calls of every family but svd_compressed's are above the borrowing
-- threshold (1e8 flops).
local SCRIPT = [[
local lask = require "lask"
local da = require "lask.array"
local la = require "lask.array.linalg"
local dir, sched = arg[1], arg[2]
local function normal(shape, chunks, seed, dtype)
  local x = da.random.normal(shape, { chunks = chunks, seed = seed })
  return (dtype and x:astype(dtype) or x):persist()
end
local tall = normal({ 3000, 400 }, { 1000, 400 }, 1)
local sq = normal({ 800, 800 }, { 400, 400 }, 2)
local sq32 = normal({ 800, 800 }, { 400, 400 }, 2, "float32")
local one = normal({ 600, 600 }, { 600, 600 }, 3)
local c8 = normal({ 800, 800 }, { 800, 800 }, 8)
local spd = (c8:dot(c8.T) + da.eye(800, { chunks = 800 }) * 800):persist()
local rhs = normal({ 600, 40 }, { 600, 40 }, 4)
local wide = normal({ 1200, 300 }, { 1200, 300 }, 5)
local u, s, v = la.svd(tall)
local q, r = la.tsqr(tall)
local p, l, uu = la.lu(one)
local x = la.lstsq(wide, normal({ 1200, 3 }, { 1200, 3 }, 6))
local results = {
  svd_u = u, svd_s = s, svd_v = v, tsqr_q = q, tsqr_r = r,
  dot = sq:dot(sq.T), dot32 = sq32:dot(sq32),
  solve = la.solve(one, rhs), inv = la.inv(one), cholesky = la.cholesky(spd),
  lu_l = l, lu_u = uu, lstsq = x,
  svdc_s = select(2, la.svd_compressed(tall, 20, { n_power_iter = 1, seed = 0 })),
}
local names, arrays = {}, {}
for name, a in pairs(results) do names[#names + 1], arrays[#arrays + 1] = name, a end
local w0 = require("lask.core").ndarray.blas_cores().widened -- the persists above borrowed too
local args = table.move(arrays, 1, #arrays, 1, {})
args[#args + 1] = { scheduler = sched }
local values = table.pack(lask.compute(table.unpack(args)))
for i, name in ipairs(names) do assert(values[i]:save(dir .. "/" .. name .. ".npy")) end
-- a task alone in its get (other workers asleep): tried until it borrows, 5 times at most
local big, alone = normal({ 1000, 1000 }, { 1000, 1000 }, 7), nil
for _ = 1, 5 do
  local w = require("lask.core").ndarray.blas_cores().widened
  alone = la.inv(big):compute { scheduler = sched }
  if require("lask.core").ndarray.blas_cores().widened > w then break end
end
assert(alone:save(dir .. "/inv_alone.npy"))
local b = require("lask.core").ndarray.blas_cores()
print(string.format("RESULT enabled=%s max=%d widened=%d", tostring(b.enabled), b.max, b.widened - w0))
]]

local NAMES = { "svd_u", "svd_s", "svd_v", "tsqr_q", "tsqr_r", "dot", "dot32", "solve", "inv", "cholesky",
  "lu_l", "lu_u", "lstsq", "svdc_s", "inv_alone" }

-- Runs SCRIPT with the scheduler and environment in a new directory; gives the
-- directory and the RESULT fields.
local function configuration(sched, env)
  local dir = S.tmpdir()
  local script = dir .. "/run.lua"
  S.write_file(script, SCRIPT)
  local out, status = S.sh(("%s %s %s %s %s"):format(env, S.BIN, script, dir, sched))
  assert(status == 0, out)
  local res = {}
  for k, v in (out:match("RESULT ([^\n]*)") or ""):gmatch("(%w+)=(%w+)") do res[k] = tonumber(v) or v end
  return dir, res
end

local function max_rel_diff(a, b)
  local da = require "lask.array"
  a, b = da.from_array(a):astype("float64"), da.from_array(b):astype("float64")
  local ma, d = lask.compute(da.abs(a):max(), da.abs(a - b):max())
  return d:item() / (ma:item() > 0 and ma:item() or 1)
end

describe("BLAS calls on the sleeping workers' cores", function()
  local off, off_res
  setup(function() off, off_res = configuration("threaded", "LASK_BLAS_BORROW=0") end)
  teardown(function() os.execute("rm -rf " .. off) end)

  it("are off with LASK_BLAS_BORROW=0: no call was given more than one thread", function()
    assert.equal("false", off_res.enabled)
    assert.equal(0, off_res.widened)
  end)

  -- "always": lent however busy the machine is (the test machine may be); the default
  -- lends only cores other programs leave free, which the last run may or may not do
  for _, case in ipairs { { "threaded", "always" }, { "sync", "always" }, { "multiprocessing", "always" },
    { "threaded", "1" } } do
    local sched, mode = case[1], case[2]
    it(("give the same results with borrowing on (%s), scheduler %s"):format(mode, sched), function()
      local on, res = configuration(sched, "LASK_BLAS_BORROW=" .. mode)
      assert.equal("true", res.enabled)
      if sched == "threaded" and mode == "always" and res.max >= 2 then
        assert.is_true(res.widened > 0, "no call borrowed the other workers' cores")
      elseif sched ~= "threaded" then
        assert.equal(0, res.widened) -- no threaded run: nothing is lent
      end
      for _, name in ipairs(NAMES) do
        local a, b = nd.load(on .. "/" .. name .. ".npy"), nd.load(off .. "/" .. name .. ".npy")
        assert.same(b.shape, a.shape)
        assert.equal(b.dtype, a.dtype)
        local tol = a.dtype == "float32" and 1e-5 or 1e-11
        local d = max_rel_diff(a, b)
        assert(d <= tol, ("%s: relative difference %g with borrowing on (%s) and off"):format(name, d, sched))
      end
      os.execute("rm -rf " .. on)
    end)
  end

  it("are not lent while other programs keep the cores busy (unless LASK_BLAS_BORROW=always)", function()
    -- as many busy loops as cores: no core is free for OpenBLAS's threads
    local out = S.sh([[
      n=$(nproc); pids=""
      for i in $(seq "$n"); do sh -c 'while :; do :; done' & pids="$pids $!"; done
      sleep 0.2
      for mode in 1 always; do
        LASK_BLAS_BORROW=$mode ]] .. S.BIN .. [[ -e '
          local da, la = require "lask.array", require "lask.array.linalg"
          local x = da.random.normal({1000, 1000}, {chunks = 1000, seed = 1}):persist()
          for _ = 1, 3 do la.inv(x):compute() end
          local b = require("lask.core").ndarray.blas_cores()
          print("mode '"$mode"' max " .. b.max .. " widened " .. b.widened)'
      done
      kill $pids]])
    local max = tonumber(out:match("mode 1 max (%d+)"))
    assert(max, out)
    if max >= 2 then
      assert.equal("0", out:match("mode 1 max %d+ widened (%d+)"), out)
      assert.is_true(tonumber(out:match("mode always max %d+ widened (%d+)")) > 0, out)
    end
  end)

  it("leave OpenBLAS on one thread after a get", function()
    local da = require "lask.array"
    local x = da.random.normal({ 2000, 300 }, { chunks = { 500, 300 }, seed = 7 })
    for _ = 1, 3 do
      local u, s = require("lask.array.linalg").svd(x)
      lask.compute(u, s)
      assert.equal(1, nd.blas_cores().threads)
    end
  end)
end)
