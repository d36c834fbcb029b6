-- lask.array.shape: every function against a naive Lua reference, for every dtype,
-- uneven chunks, and each scheduler (lask.sync, lask.threaded, lask.multiprocessing).
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da
local nd = require("lask.core").ndarray

local DTYPES = { "float64", "float32", "int64", "bool" }
local SCHEDULERS = { "sync", "threaded", "multiprocessing" }

local F = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_refs.lua")
local R, at, input = F.R, F.at, F.input
local function check(x, ref, dtype, sched) F.check(x, ref, dtype, { scheduler = sched }) end

-- each case for every dtype, on the three schedulers in turn
local function each(f) F.each(DTYPES, SCHEDULERS, f) end

local function zero(dtype)
  if dtype == "bool" then return false end
  return 0
end

local pick = F.pick

describe("lask.array shape functions", function()
  it("flip, flipud, fliplr against a reference, uneven chunks", function()
    each(function(dtype, sched)
      local x, r = input({ 5, 4 }, dtype, { { 2, 3 }, { 3, 1 } })
      check(da.flip(x), R({ 5, 4 }, function(i) return at(r, { 6 - i[1], 5 - i[2] }) end), dtype, sched)
      check(da.flip(x, 2), R({ 5, 4 }, function(i) return at(r, { i[1], 5 - i[2] }) end), dtype, sched)
      check(da.flipud(x), R({ 5, 4 }, function(i) return at(r, { 6 - i[1], i[2] }) end), dtype, sched)
      check(x:flip(-1), R({ 5, 4 }, function(i) return at(r, { i[1], 5 - i[2] }) end), dtype, sched)
      check(da.fliplr(x), R({ 5, 4 }, function(i) return at(r, { i[1], 5 - i[2] }) end), dtype, sched)
    end)
    assert.has_error(function() da.fliplr(da.ones(3)) end)
  end)

  it("roll with and without an axis, negative and large shifts", function()
    each(function(dtype, sched)
      local x, r = input({ 3, 5 }, dtype, { { 2, 1 }, { 2, 2, 1 } })
      for _, s in ipairs { 2, -1, 7, 0 } do
        check(da.roll(x, s, 2), R({ 3, 5 }, function(i) return at(r, { i[1], (i[2] - 1 - s) % 5 + 1 }) end), dtype,
          sched)
        check(da.roll(x, s), R({ 3, 5 }, function(i)
          local f = ((i[1] - 1) * 5 + i[2] - 1 - s) % 15
          return r.flat[f + 1]
        end), dtype, sched)
      end
      check(da.roll(x, { 1, 2 }, { 1, 2 }),
        R({ 3, 5 }, function(i) return at(r, { (i[1] - 2) % 3 + 1, (i[2] - 3) % 5 + 1 }) end), dtype, sched)
    end)
  end)

  it("moveaxis, swapaxes, expand_dims, squeeze, ravel", function()
    each(function(dtype, sched)
      local x, r = input({ 2, 3, 4 }, dtype, { 1, { 2, 1 }, { 3, 1 } })
      check(da.moveaxis(x, 1, -1), R({ 3, 4, 2 }, function(i) return at(r, { i[3], i[1], i[2] }) end), dtype, sched)
      check(da.swapaxes(x, 1, 3), R({ 4, 3, 2 }, function(i) return at(r, { i[3], i[2], i[1] }) end), dtype, sched)
      check(da.expand_dims(x, 2), R({ 2, 1, 3, 4 }, function(i) return at(r, { i[1], i[3], i[4] }) end), dtype, sched)
      check(da.expand_dims(x, { 1, -1 }), R({ 1, 2, 3, 4, 1 }, function(i) return at(r, { i[2], i[3], i[4] }) end),
        dtype, sched)
      local e = da.expand_dims(x, 2)
      check(da.squeeze(e), r, dtype, sched)
      check(e:squeeze(2), r, dtype, sched)
      check(da.ravel(x), { shape = { 24 }, flat = r.flat }, dtype, sched)
    end)
    -- to and from 0-d, scalars as inputs
    assert.equal(0, da.squeeze(da.ones { 1, 1 }).ndim)
    assert.equal(1, H.get(da.squeeze(da.ones { 1, 1 })).flat[1])
    H.same(H.get(da.expand_dims(da.squeeze(da.ones { 1 }), 1)), { 1 })
    H.same(H.get(da.broadcast_to(3, { 2, 2 })), { 3, 3, 3, 3 })
    assert.has_error(function() da.squeeze(da.ones({ 2, 3 }), 1) end, "lask.array: squeeze: axis 1 has extent 2, not 1")
    assert.has_error(function() da.swapaxes(da.ones({ 2, 3 }), 1, 3) end)
  end)

  it("broadcast_to copies per block and keeps x's blocks", function()
    each(function(dtype, sched)
      local x, r = input({ 3, 1 }, dtype, { { 2, 1 }, 1 })
      local y = da.broadcast_to(x, { 2, 3, 4 })
      assert.same({ { 2 }, { 2, 1 }, { 4 } }, { y.chunks[1], y.chunks[2], y.chunks[3] })
      check(y, R({ 2, 3, 4 }, function(i) return at(r, { i[2], 1 }) end), dtype, sched)
      check(da.broadcast_to(x, { 3, 5 }, { chunks = { 1, 2 } }), R({ 3, 5 }, function(i) return at(r, { i[1], 1 }) end),
        dtype, sched)
    end)
    assert.has_error(function() da.broadcast_to(da.ones(3), { 4 }) end)
  end)

  it("vstack, hstack, dstack, block", function()
    each(function(dtype, sched)
      local a, ra = input({ 3 }, dtype, { { 2, 1 } })
      local b, rb = input({ 2, 3 }, dtype, { 1, { 1, 2 } })
      check(da.vstack { a, b }, R({ 3, 3 }, function(i)
        return pick(i[1] == 1, function() return at(ra, { i[2] }) end, function() return at(rb, { i[1] - 1, i[2] }) end)
      end),
        dtype, sched)
      check(da.hstack { a, a }, R({ 6 }, function(i) return at(ra, { (i[1] - 1) % 3 + 1 }) end), dtype, sched)
      check(da.hstack { b, b.T.T }, R({ 2, 6 }, function(i) return at(rb, { i[1], (i[2] - 1) % 3 + 1 }) end), dtype,
        sched)
      check(da.dstack { b, b }, R({ 2, 3, 2 }, function(i) return at(rb, { i[1], i[2] }) end), dtype, sched)
      check(da.dstack { a }, R({ 1, 3, 1 }, function(i) return at(ra, { i[2] }) end), dtype, sched)
      local c, rc = input({ 2, 2 }, dtype, { 1, 1 })
      -- [[b, c], [a (as a row), a[1:2] (as a row)]] : 3 x 5
      local blk = da.block { { b, c }, { da.expand_dims(a, 1), da.expand_dims(a:slice { 1, 2 }, 1) } }
      check(blk, R({ 3, 5 }, function(i)
        if i[1] <= 2 then
          return pick(i[2] <= 3, function() return at(rb, i) end, function() return at(rc, { i[1], i[2] - 3 }) end)
        end
        return pick(i[2] <= 3, function() return at(ra, { i[2] }) end, function() return at(ra, { i[2] - 3 }) end)
      end), dtype, sched)
    end)
  end)

  it("tile and repeat", function()
    each(function(dtype, sched)
      local x, r = input({ 2, 3 }, dtype, { 1, { 2, 1 } })
      check(da.tile(x, 2), R({ 2, 6 }, function(i) return at(r, { i[1], (i[2] - 1) % 3 + 1 }) end), dtype, sched)
      check(da.tile(x, { 2, 1, 2 }), R({ 2, 2, 6 }, function(i) return at(r, { i[2], (i[3] - 1) % 3 + 1 }) end), dtype,
        sched)
      assert.same({ 2, 0 }, { da.tile(x, { 1, 0 }).shape[1], da.tile(x, { 1, 0 }).shape[2] })
      check(da.repeat_(x, 2, 2), R({ 2, 6 }, function(i) return at(r, { i[1], (i[2] - 1) // 2 + 1 }) end), dtype, sched)
      check(x:repeat_(3, 1), R({ 6, 3 }, function(i) return at(r, { (i[1] - 1) // 3 + 1, i[2] }) end), dtype, sched)
      check(da["repeat"](x, 2), R({ 12 }, function(i) return r.flat[(i[1] - 1) // 2 + 1] end), dtype, sched)
    end)
    assert.has_error(function() da.repeat_(da.ones(2), { 1, 2 }) end)
  end)

  it("pad in every mode, per-axis widths", function()
    local n = 5
    local function src(mode, i, m) -- numpy's element for position i (1-based) along an axis of m
      if i >= 1 and i <= m then return i end
      if mode == "edge" or (mode == "reflect" and m == 1) then return i < 1 and 1 or m end
      if mode == "wrap" then return (i - 1) % m + 1 end
      if mode == "reflect" then
        local j = (i - 1) % (2 * m - 2)
        return j < m and j + 1 or 2 * m - 1 - j
      end
      if mode == "symmetric" then
        local j = (i - 1) % (2 * m)
        return j < m and j + 1 or 2 * m - j
      end
      return nil
    end
    each(function(dtype, sched)
      local x, r = input({ n, 3 }, dtype, { { 2, 3 }, { 2, 1 } })
      for _, mode in ipairs { "constant", "edge", "reflect", "symmetric", "wrap" } do
        for _, w in ipairs { { { 3, 2 }, { 1, 0 } }, { { 12, 0 }, { 4, 7 } } } do
          local y = da.pad(x, w, mode)
          check(y, R({ n + w[1][1] + w[1][2], 3 + w[2][1] + w[2][2] }, function(i)
            local a, b = src(mode, i[1] - w[1][1], n), src(mode, i[2] - w[2][1], 3)
            if not a or not b then return zero(dtype) end
            return at(r, { a, b })
          end), dtype, sched)
        end
      end
      -- axes of 1 and 2 elements
      local one, r1 = input({ 1, 2 }, dtype, { 1, { 1, 1 } })
      for _, mode in ipairs { "reflect", "symmetric", "wrap", "edge" } do
        check(da.pad(one, 3, mode), R({ 7, 8 }, function(i)
          return at(r1, { src(mode, i[1] - 3, 1), src(mode, i[2] - 3, 2) })
        end), dtype, sched)
      end
      if dtype ~= "bool" then
        check(da.pad(x, 1, "constant", { constant_values = 7 }), R({ n + 2, 5 }, function(i)
          if i[1] == 1 or i[1] == n + 2 or i[2] == 1 or i[2] == 5 then return 7 end
          return at(r, { i[1] - 1, i[2] - 1 })
        end), dtype, sched)
      end
    end)
    assert.has_error(function() da.pad(da.ones(0), 3, "reflect") end)
    assert.has_error(function() da.pad(da.ones(3), 1, "mirror") end)
  end)

  it("tri, tril, triu, diagonal, diag", function()
    each(function(dtype, sched)
      local x, r = input({ 4, 5 }, dtype, { { 1, 3 }, { 2, 2, 1 } })
      for _, k in ipairs { 0, 1, -2, 6 } do
        check(da.tril(x, k), R({ 4, 5 }, function(i) return pick(i[2] - i[1] <= k, function() return at(r, i) end, function() return zero(dtype) end) end), dtype,
          sched)
        check(x:triu(k), R({ 4, 5 }, function(i) return pick(i[2] - i[1] >= k, function() return at(r, i) end, function() return zero(dtype) end) end), dtype, sched)
        local len = math.max(0, math.min(4 - math.max(-k, 0), 5 - math.max(k, 0)))
        check(da.diagonal(x, k), R({ len }, function(i) return at(r, { i[1] + math.max(-k, 0), i[1] + math.max(k, 0) }) end),
          dtype, sched)
      end
      -- N-d: over axes 3 and 1, the others first
      local y, ry = input({ 3, 2, 4 }, dtype, { { 2, 1 }, 1, { 1, 3 } })
      for _, k in ipairs { 0, 1, -1, -3 } do
        local len = math.max(0, math.min(4 - math.max(-k, 0), 3 - math.max(k, 0)))
        check(da.diagonal(y, k, 3, 1), R({ 2, len }, function(i)
          return at(ry, { i[2] + math.max(k, 0), i[1], i[2] + math.max(-k, 0) })
        end), dtype, sched)
      end
      local v, rv = input({ 3 }, dtype, { { 2, 1 } })
      for _, k in ipairs { 0, 2, -1 } do
        local m = 3 + math.abs(k)
        check(da.diag(v, k), R({ m, m }, function(i)
          if i[2] - i[1] ~= k then return zero(dtype) end
          return at(rv, { math.min(i[1], i[2]) })
        end), dtype, sched)
      end
    end)
    local t = da.tri(3, 4, 1, { dtype = "int64", chunks = 2 })
    H.same(H.get(t), R({ 3, 4 }, function(i) return i[2] - i[1] <= 1 and 1 or 0 end).flat)
    assert.equal("int64", t.dtype)
  end)

  it("indices, meshgrid, *_like, fromfunction", function()
    for _, sched in ipairs(SCHEDULERS) do
      check(da.indices({ 2, 3 }, { chunks = { 1, 2 } }),
        R({ 2, 2, 3 }, function(i) return i[1] == 1 and i[2] or i[3] end), "int64", sched)
      local a, ra = input({ 3 }, "float64", { { 2, 1 } })
      local b, rb = input({ 2 }, "int64", { 1 })
      local X, Y = da.meshgrid(a, b)
      check(X, R({ 2, 3 }, function(i) return at(ra, { i[2] }) end), "float64", sched)
      check(Y, R({ 2, 3 }, function(i) return at(rb, { i[1] }) end), "int64", sched)
      local I, J = da.meshgrid(a, b, { indexing = "ij" })
      check(I, R({ 3, 2 }, function(i) return at(ra, { i[1] }) end), "float64", sched)
      check(J, R({ 3, 2 }, function(i) return at(rb, { i[2] }) end), "int64", sched)
      check(da.fromfunction(function(i, j) return 10 * i + j end, { 2, 3 }, { chunks = { 1, 2 } }),
        R({ 2, 3 }, function(i) return 10 * i[1] + i[2] end), "float64", sched)
      check(da.fromfunction(function(i, j) return i end, { 2, 3 }, { chunks = { 1, 2 }, dtype = "int64" }),
        R({ 2, 3 }, function(i) return i[1] end), "int64", sched)
      check(da.fromfunction(function() return 7 end, { 2, 3 }), R({ 2, 3 }, function() return 7 end), "int64", sched)
    end
    each(function(dtype, sched)
      local x = input({ 3, 2 }, dtype, { { 2, 1 }, 1 })
      check(da.zeros_like(x), R({ 3, 2 }, function() return zero(dtype) end), dtype, sched)
      check(da.ones_like(x), R({ 3, 2 }, function() return dtype == "bool" or 1 end), dtype, sched)
      check(da.empty_like(x, { dtype = "float32" }), R({ 3, 2 }, function() return 0 end), "float32", sched)
      assert.same(x.chunks[1], da.zeros_like(x).chunks[1])
      if dtype ~= "bool" then
        check(da.full_like(x, 2), R({ 3, 2 }, function() return 2 end), dtype, sched)
      end
    end)
  end)

  it("histogram and bincount", function()
    each(function(dtype, sched)
      if dtype == "bool" then return end
      local x, r = input({ 7, 3 }, dtype, { { 3, 4 }, { 2, 1 } })
      local h, e = da.histogram(x, 4, { range = { -6, 6 } })
      local counts = { 0, 0, 0, 0 }
      for _, v in ipairs(r.flat) do
        if v >= -6 and v <= 6 then
          local b = v == 6 and 4 or math.floor((v + 6) / 3) + 1
          counts[b] = counts[b] + 1
        end
      end
      check(h, { shape = { 4 }, flat = counts }, "int64", sched)
      H.same(H.get(e), { -6, -3, 0, 3, 6 })
      local w = da.ones_like(x, { dtype = "float64" }) * 2
      local hw = da.histogram(x, { -10, 0, 10 }, { weights = w })
      local neg = 0
      for _, v in ipairs(r.flat) do if v < 0 then neg = neg + 1 end end
      check(hw, { shape = { 2 }, flat = { 2 * neg, 2 * (21 - neg) } }, "float64", sched)
    end)
    for _, sched in ipairs(SCHEDULERS) do
      local x, r = input({ 9 }, "int64", { { 4, 5 } })
      local y = x + 6 -- values 0..12
      local counts = {}
      for i = 1, 14 do counts[i] = 0 end
      for _, v in ipairs(r.flat) do counts[v + 7] = counts[v + 7] + 1 end
      check(da.bincount(y, { minlength = 14 }), { shape = { 14 }, flat = counts }, "int64", sched)
      local b = input({ 5 }, "bool", { { 2, 3 } })
      local bc = H.get(da.bincount(b, { minlength = 2 }), { scheduler = sched }).flat
      assert.equal(5, bc[1] + bc[2])
    end
    local nomin = da.bincount(da.arange(3)) -- without minlength: an unknown length, as Dask's
    assert.is_true(nomin.shape[1] ~= nomin.shape[1])
    assert.same({ 1, 1, 1 }, nomin:compute():totable())
    assert.has_error(function() da.bincount(da.arange(3.0)) end)
    assert.has_error(function() da.histogram(da.arange(3), 3) end)
    assert.has_error(function() da.bincount(da.arange(3), { minlength = 2 }):compute() end)
  end)

  local function ref_contract(ra, rb, m, k, n)
    return R({ m, n }, function(i)
      local s = 0
      for p = 1, k do s = s + at(ra, { i[1], p }) * at(rb, { p, i[2] }) end
      return s
    end)
  end

  it("tensordot and einsum against naive loops", function()
    for _, dtype in ipairs { "float64", "float32", "int64" } do
      for s, sched in ipairs(SCHEDULERS) do
        local a, ra = input({ 3, 4 }, dtype, { { 2, 1 }, { 3, 1 } })
        local b, rb = input({ 4, 5 }, dtype, { { 1, 3 }, { 2, 3 } })
        local ab = ref_contract(ra, rb, 3, 4, 5)
        check(da.tensordot(a, b, 1), ab, dtype, sched)
        check(da.tensordot(a, b, { { 2 }, { 1 } }), ab, dtype, sched)
        check(da.einsum("ij,jk->ik", a, b), ab, dtype, sched)
        check(da.einsum("ij,jk", a, b), ab, dtype, sched)
        check(da.einsum("ij->ji", a), R({ 4, 3 }, function(i) return at(ra, { i[2], i[1] }) end), dtype, sched)
        local sq, rsq = input({ 4, 4 }, dtype, { { 3, 1 }, { 3, 1 } })
        local tr = 0
        for i = 1, 4 do tr = tr + at(rsq, { i, i }) end
        check(da.einsum("ii->", sq), { shape = {}, flat = { tr } }, dtype, sched)
        local total = 0
        for _, v in ipairs(ra.flat) do total = total + v end
        check(da.einsum("ij->", a), { shape = {}, flat = { total } }, dtype, sched)
        local v, rv = input({ 4 }, dtype, { { 3, 1 } })
        local dot = 0
        for i = 1, 4 do dot = dot + at(rv, { i }) ^ 2 end
        check(da.einsum("i,i->", v, v), { shape = {}, flat = { dot } }, dtype, sched)
        check(da.einsum("ij,j->i", a, v), R({ 3 }, function(i)
          local t = 0
          for p = 1, 4 do t = t + at(ra, { i[1], p }) * at(rv, { p }) end
          return t
        end), dtype, sched)
        local x, rx = input({ 2, 3, 4 }, dtype, { 1, { 2, 1 }, { 3, 1 } })
        local y, ry = input({ 2, 4, 2 }, dtype, { 1, { 3, 1 }, 2 })
        check(da.einsum("bij,bjk->bik", x, y), R({ 2, 3, 2 }, function(i)
          local t = 0
          for p = 1, 4 do t = t + at(rx, { i[1], i[2], p }) * at(ry, { i[1], p, i[3] }) end
          return t
        end), dtype, sched)
        if s == 1 then
          -- three operands, left to right
          check(da.einsum("ij,jk,kl->il", a, b, b.T), R({ 3, 4 }, function(i)
            local t = 0
            for p = 1, 5 do t = t + at(ab, { i[1], p }) * at(rb, { i[2], p }) end
            return t
          end), dtype, sched)
        end
      end
    end
    assert.has_error(function() da.einsum("i...->i", da.ones(3)) end)
    assert.has_error(function() da.einsum("ij,jk->ik", da.ones({ 2, 3 })) end)
  end)

  it("the shape kernels themselves: edges, NaN, errors", function()
    local Kk = require("lask.core").array_kernels
    -- histogram: the last bin closed, NaN and outside values skipped, weights
    local h = Kk.histogram(nd.asarray({ 0.0, 0.5, 1.0, 2.0, 3.0, 0 / 0, -1, 4 }), { 0, 1, 2, 3 })
    assert.same({ 2, 1, 2 }, h:totable())
    assert.same({ 0.5, 0.0 }, Kk.histogram(nd.asarray({ 1.0, 5 }), { 0, 2, 4 }, nd.asarray({ 0.5, 9 })):totable())
    assert.has_error(function() Kk.histogram(nd.asarray({ 1.0 }), { 2, 1 }) end)
    -- bincount: bool input, weights, values outside
    assert.same({ 1, 2 }, Kk.bincount(nd.asarray({ true, false, true }), 2):totable())
    assert.same({ 0.0, 2.5 }, Kk.bincount(nd.asarray({ 1, 1 }), 2, nd.asarray({ 1.0, 1.5 })):totable())
    assert.has_error(function() Kk.bincount(nd.asarray({ -1 }), 2) end, "bincount: x holds -1: values must be >= 0")
    assert.has_error(function() Kk.bincount(nd.asarray({ 1.5 }), 2) end)
    -- bincount with minlength -1: the length found (largest + 1); bincount_sum pads
    assert.same({ 0, 2, 0, 1 }, Kk.bincount(nd.asarray({ 1, 3, 1 }), -1):totable())
    assert.same({ 0 }, { Kk.bincount(nd.asarray({}, "int64"), -1).shape[1] })
    assert.same({ 1, 3, 0, 1 }, Kk.bincount_sum({ nd.asarray({ 0, 2 }), nd.asarray({ 1, 1, 0, 1 }) }):totable())
    assert.same({ 1.5, 2.0 }, Kk.bincount_sum({ nd.asarray({ 1.5 }), nd.asarray({ 0, 2 }) }):totable())
    assert.has_error(function() Kk.bincount(nd.asarray({ 1 }), -2) end)
    -- solve_triangular: transposed, unit diagonal, singular
    local a = nd.asarray({ { 2.0, 0 }, { 1, 4 } })
    assert.same({ 1.0, 0.5 }, Kk.solve_triangular(a, nd.asarray({ 2.0, 3 }), true):totable())
    assert.same({ 0.625, 0.75 }, Kk.solve_triangular(a, nd.asarray({ 2.0, 3 }), true, true):totable())
    assert.same({ 2.0, 1.0 }, Kk.solve_triangular(a, nd.asarray({ 2.0, 3 }), true, false, true):totable())
    assert.has_error(function() Kk.solve_triangular(nd.asarray({ { 0.0 } }), nd.asarray({ 1.0 }), true) end)
  end)

  -- einsum by brute force: every assignment of the letters, summed
  local function naive_einsum(spec, refs)
    local lhs, rhs = spec:match("^(.-)%->(.*)$")
    local terms = {}
    for t in (lhs .. ","):gmatch("([^,]*),") do terms[#terms + 1] = t end
    local extent, letters = {}, {}
    for k, t in ipairs(terms) do
      for d = 1, #t do
        local c = t:sub(d, d)
        if not extent[c] then letters[#letters + 1] = c end
        extent[c] = refs[k].shape[d]
      end
    end
    local oshape = {}
    for d = 1, #rhs do oshape[d] = extent[rhs:sub(d, d)] end
    local sums, val = {}, {}
    local function walk(li)
      if li > #letters then
        local p = 1
        for k, t in ipairs(terms) do
          local idx = {}
          for d = 1, #t do idx[d] = val[t:sub(d, d)] end
          p = p * at(refs[k], idx)
        end
        local off = 0
        for d = 1, #rhs do off = off * oshape[d] + val[rhs:sub(d, d)] - 1 end
        sums[off + 1] = (sums[off + 1] or 0) + p
        return
      end
      for i = 1, extent[letters[li]] do
        val[letters[li]] = i
        walk(li + 1)
      end
    end
    walk(1)
    local n = 1
    for _, e in ipairs(oshape) do n = n * e end
    for i = 1, n do sums[i] = sums[i] or 0 end
    return { shape = oshape, flat = sums }
  end

  it("einsum over a family of specs, against brute force", function()
    local specs = { "ij,ij->ij", "ij,ij->", "i,j->ij", "ij->i", "ij->j", "ij,kj->ik", "ij,jk->ki", "ij,i->j",
      "bij,bjk->bik", "bij,bjk->b", "ijk->kji", "ij,jk,kl->li", "i,i,i->i", "ii->i", "ii->", "ij,jj->i", "iji->j", "iij,j->i" }
    local shapes = { i = 3, j = 4, k = 2, l = 3, b = 2 }
    for n, spec in ipairs(specs) do
      local dtype = ({ "float64", "float32", "int64" })[n % 3 + 1]
      local sched = SCHEDULERS[n % 3 + 1]
      local lhs = spec:match("^(.-)%->")
      local xs, refs = {}, {}
      for t in (lhs .. ","):gmatch("([^,]*),") do
        local shape, chunks = {}, {}
        for d = 1, #t do
          shape[d] = shapes[t:sub(d, d)]
          chunks[d] = shape[d] > 2 and { 2, shape[d] - 2 } or { shape[d] }
        end
        xs[#xs + 1], refs[#refs + 1] = input(shape, dtype, chunks)
      end
      check(da.einsum(spec, table.unpack(xs)), naive_einsum(spec, refs), dtype, sched)
    end
  end)
end)
