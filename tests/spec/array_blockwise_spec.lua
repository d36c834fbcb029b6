-- lask.array.blockwise (map_blocks, blockwise, overlap, map_overlap) and the
-- linear algebra extras (solve_triangular, svd_flip): against naive Lua references,
-- every dtype, uneven chunks, each scheduler and lua = "parallel".
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da
local la = require "lask.array.linalg"
local nd = require("lask.core").ndarray
local K = require("lask.core").array_kernels

local DTYPES = { "float64", "float32", "int64", "bool" }
-- each scheduler, and threads with Lua block functions on every worker
local RUNS = { { scheduler = "sync" }, { scheduler = "threaded" }, { scheduler = "multiprocessing" },
  { scheduler = "threaded", lua = "parallel" } }

local F = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_refs.lua")
local R, at, input, check = F.R, F.at, F.input, F.check

local function each(f) F.each(DTYPES, RUNS, f) end

describe("lask.array map_blocks", function()
  it("passes block_id, block_info and kwargs as one trailing table", function()
    each(function(dtype, run)
      local x, r = input({ 7 }, dtype, { { 3, 4 } })
      local function f(b, kw)
        local info = kw.block_info
        assert(info[1].shape[1] == 7 and info[1].num_chunks[1] == 2)
        assert(info.output.chunk_shape[1] == b.shape[1] and info.output.dtype == "int64")
        local first = info[1].array_location[1][1]
        assert(first == (kw.block_id[1] == 1 and 1 or 4))
        return K.full({ b.shape[1] }, kw.block_id[1] * kw.scale + first, "int64")
      end
      local y = x:map_blocks(f, { block_id = true, block_info = true, kwargs = { scale = 100 }, dtype = "int64" })
      check(y, R({ 7 }, function(i) return i[1] <= 3 and 101 or 204 end), "int64", run)
      -- block_info is keyed by argument position, as Dask's
      local g = da.map_blocks(function(s, b, kw)
        assert(kw.block_info[1] == nil and kw.block_info[2].shape[1] == 7)
        return K.astype(b, "int64") * s
      end, 2, x, { block_info = true, dtype = "int64" })
      local dbl = {}
      for i, v in ipairs(r.flat) do dbl[i] = 2 * (v == true and 1 or v == false and 0 or math.tointeger(v // 1) or v) end
      if dtype ~= "float64" and dtype ~= "float32" then check(g, { shape = { 7 }, flat = dbl }, "int64", run) end
      -- plain: the blocks, and non-array arguments as they are
      local z = da.map_blocks(function(b, t, s) return K.astype(b, t) end, x, "float64", "ignored", { dtype = "float64" })
      local fl = {}
      for i, v in ipairs(r.flat) do fl[i] = v == true and 1 or v == false and 0 or v end
      check(z, { shape = { 7 }, flat = fl }, "float64", run)
    end)
  end)

  it("drop_axis, new_axis and chunks", function()
    for _, run in ipairs(RUNS) do
      local x, r = input({ 4, 5 }, "float64", { { 1, 3 }, { 2, 3 } })
      local s = da.map_blocks(function(b) return K.squeeze(K.sum_chunk(b, { 1 }), { 1 }) end, x, { drop_axis = 2 })
      assert.same({ { 1, 3 } }, { s.chunks[1] })
      check(s, R({ 4 }, function(i)
        local t = 0
        for j = 1, 5 do t = t + at(r, { i[1], j }) end
        return t
      end), "float64", run)
      local n = da.map_blocks(function(b) return K.reshape(b, { 1, b.shape[1], b.shape[2] }) end, x, { new_axis = 1 })
      check(n, R({ 1, 4, 5 }, function(i) return at(r, { i[2], i[3] }) end), "float64", run)
      local c = da.map_blocks(function(b) return K.getitem(b, { 0, 0 }, { 1, b.shape[2] }) end, x, { chunks = { 1, { 2, 3 } } })
      check(c, R({ 2, 5 }, function(i) return at(r, { i[1] == 1 and 1 or 2, i[2] }) end), "float64", run)
    end
    assert.has_error(function() da.map_blocks(function(b) return b end, da.ones(4, { chunks = 2 }), { chunks = { { 4 } } }) end)
    assert.has_error(function() da.map_blocks(function(b) return b end, da.ones(4), { drop_axis = 3 }) end)
  end)
end)

describe("lask.array blockwise", function()
  it("matches blocks by letters, transposes, contracts and broadcasts", function()
    each(function(dtype, run)
      local x, r = input({ 4, 6 }, dtype, { { 3, 1 }, { 2, 4 } })
      check(da.blockwise(K.transpose, "ji", x, "ij", { dtype = dtype }),
        R({ 6, 4 }, function(i) return at(r, { i[2], i[1] }) end), dtype, run)
      if dtype ~= "bool" then
        local add = function(a, b) return a + b end
        local v, rv = input({ 6 }, dtype, { { 3, 3 } })
        check(da.blockwise(add, "ij", x, "ij", v, "j", { dtype = dtype }),
          R({ 4, 6 }, function(i) return at(r, i) + at(rv, { i[2] }) end), dtype, run)
        -- contraction over j: fn gets a list of blocks (concatenate = true: one block)
        local rowsum = function(b) return K.squeeze(K.sum_chunk(b, { 1 }), { 1 }) end
        local expect = R({ 4 }, function(i)
          local t = 0
          for j = 1, 6 do t = t + at(r, { i[1], j }) end
          return t
        end)
        local sdt = dtype == "float32" and "float32" or dtype
        check(da.blockwise(rowsum, "i", x, "ij", { concatenate = true, dtype = sdt }), expect, sdt, run)
        local listsum = function(bs)
          local acc = rowsum(bs[1])
          for k = 2, #bs do acc = acc + rowsum(bs[k]) end
          return acc
        end
        check(da.blockwise(listsum, "i", x, "ij", { dtype = sdt }), expect, sdt, run)
      end
    end)
    -- new_axes and adjust_chunks
    for _, run in ipairs(RUNS) do
      local v, rv = input({ 5 }, "float64", { { 2, 3 } })
      local widen = function(b) return K.broadcast_to(K.reshape(b, { b.shape[1], 1 }), { b.shape[1], 3 }) end
      local w = da.blockwise(widen, "ik", v, "i", { new_axes = { k = 3 } })
      assert.same({ 5, 3 }, { w.shape[1], w.shape[2] })
      check(w, R({ 5, 3 }, function(i) return at(rv, { i[1] }) end), "float64", run)
      local twice = function(b) return K.concatenate({ b, b }, 0) end
      local t = da.blockwise(twice, "i", v, "i", { adjust_chunks = { i = function(c) return 2 * c end } })
      assert.same({ 4, 6 }, { t.chunks[1][1], t.chunks[1][2] })
      check(t, R({ 10 }, function(i)
        local j = i[1] <= 4 and (i[1] - 1) % 2 + 1 or (i[1] - 5) % 3 + 3
        return at(rv, { j })
      end), "float64", run)
    end
    assert.has_error(function() da.blockwise(K.add, "ij", da.ones({ 2, 3 }), "ij", da.ones({ 3, 3 }), "ij") end)
  end)
end)

describe("lask.array overlap and map_overlap", function()
  -- where an extended axis reads: source index (1-based) or nil for the constant
  local function sources(chunks, depth, boundary)
    local n, out, pos = 0, {}, 0
    for _, c in ipairs(chunks) do n = n + c end
    local function map(i)
      if i >= 1 and i <= n then return i end
      if boundary == "nearest" then return i < 1 and 1 or n end
      if boundary == "periodic" then return (i - 1) % n + 1 end
      if boundary == "reflect" then return i < 1 and 1 - i or 2 * n + 1 - i end
      return false -- the constant
    end
    for b, c in ipairs(chunks) do
      local lo = (b > 1 or boundary ~= "none") and depth or 0
      local hi = (b < #chunks or boundary ~= "none") and depth or 0
      for i = pos + 1 - lo, pos + c + hi do out[#out + 1] = map(i) end
      pos = pos + c
    end
    return out
  end

  it("extends 2-D blocks by their neighbours with every boundary, per axis", function()
    each(function(dtype, run)
      local chunks = { { 3, 2, 4 }, { 2, 3 } }
      local x, r = input({ 9, 5 }, dtype, chunks)
      for _, bd in ipairs { "reflect", "periodic", "nearest", "none", 0 } do
        local b2 = bd
        if bd == 0 then b2 = 7 end
        if bd == 0 and dtype == "bool" then b2 = true end
        local y = da.overlap(x, { 2, 1 }, { [1] = b2, [2] = bd == "none" and "none" or "periodic" })
        local s1 = sources(chunks[1], 2, b2)
        local s2 = sources(chunks[2], 1, bd == "none" and "none" or "periodic")
        check(y, R({ #s1, #s2 }, function(i)
          local a, b = s1[i[1]], s2[i[2]]
          if not a or not b then return b2 end
          return at(r, { a, b })
        end), dtype, run)
        -- the identity with trim gives x back
        check(da.map_overlap(function(b) return b end, x, { 2, 1 }, b2), r, dtype, run)
      end
    end)
  end)

  it("runs a 3-point stencil like a naive loop, each boundary, trim or not", function()
    for _, dtype in ipairs { "float64", "float32", "int64" } do
      for s, run in ipairs(RUNS) do
        local x, r = input({ 11 }, dtype, { { 4, 2, 5 } })
        local n = 11
        for _, bd in ipairs { "reflect", "periodic", "nearest", 0 } do
          local function ext(i)
            if i >= 1 and i <= n then return at(r, { i }) end
            if bd == "nearest" then return at(r, { i < 1 and 1 or n }) end
            if bd == "periodic" then return at(r, { (i - 1) % n + 1 }) end
            if bd == "reflect" then return at(r, { i < 1 and 1 - i or 2 * n + 1 - i }) end
            return 0
          end
          local expect = R({ n }, function(i) return ext(i[1] - 1) + 2 * ext(i[1]) + ext(i[1] + 1) end)
          local function interior(b)
            local m = b.shape[1]
            return K.getitem(b, { 0 }, { m - 2 }) + K.getitem(b, { 1 }, { m - 1 }) * 2 + K.getitem(b, { 2 }, { m })
          end
          check(da.map_overlap(interior, x, 1, bd, { trim = false }), expect, dtype, run)
          local function same_shape(b) -- the stencil where defined, b at the two ends
            local m = b.shape[1]
            return K.concatenate({ K.getitem(b, { 0 }, { 1 }), interior(b), K.getitem(b, { m - 1 }, { m }) }, 0)
          end
          check(x:map_overlap(same_shape, { depth = 1, boundary = bd }), expect, dtype, run)
          if s == 1 then
            check(da.map_overlap(interior, x, { [1] = 1 }, { [1] = bd }, { trim = false }), expect, dtype, run)
          end
        end
      end
    end
  end)

  it("takes several arrays, rechunked to the first one's blocks", function()
    for _, run in ipairs(RUNS) do
      local a, ra = input({ 9 }, "int64", { { 2, 7 } })
      local b, rb = input({ 9 }, "float64", { { 5, 4 } })
      local y = da.map_overlap(function(p, q) return p + q end, { a, b }, 1, "nearest", { dtype = "float64" })
      check(y, R({ 9 }, function(i) return at(ra, i) + at(rb, i) end), "float64", run)
    end
  end)

  it("rechunks blocks shallower than the depth, and refuses what it cannot do", function()
    local x, r = input({ 10 }, "float64", { { 1, 6, 3 } })
    H.same(H.get(da.map_overlap(function(b) return b end, x, 2, "reflect")), r.flat)
    assert.has_error(function() da.map_overlap(function(b) return b end, x, 11, "reflect") end)
    assert.has_error(function() da.map_overlap(function(b) return b end, x, 1, "mirror") end)
  end)
end)

describe("lask.array.linalg extras", function()
  local function tri_input(n, lower, dtype)
    return R({ n, n }, function(i)
      local keep = lower and i[2] <= i[1] or (not lower and i[2] >= i[1])
      if not keep then return 0 end
      if i[1] == i[2] then return 4 + i[1] end
      return ((i[1] * 3 + i[2]) % 5) - 2
    end)
  end

  local function as_array(r, dtype, chunks)
    local pos = 0
    local rows = {}
    for i = 1, r.shape[1] do
      local row = {}
      for j = 1, r.shape[2] do
        pos = pos + 1
        row[j] = r.flat[pos] + 0.0
      end
      rows[i] = row
    end
    return da.from_array(nd.asarray(rows):astype(dtype), { chunks = chunks })
  end

  it("solve_triangular matches substitution, blocked, lower and upper, 1-D and 2-D b", function()
    local n = 7
    for _, dtype in ipairs { "float64", "float32", "int64" } do
      for s, run in ipairs(RUNS) do
        if s <= 3 then
          for _, lower in ipairs { true, false } do
            local ra = tri_input(n, lower)
            local a = as_array(ra, dtype, { { 3, 1, 3 }, { 3, 1, 3 } })
            local rb = R({ n, 2 }, function(i) return i[1] * 2 - i[2] end)
            local b = as_array(rb, dtype, { { 2, 5 }, 1 })
            local x = la.solve_triangular(a, b, { lower = lower })
            -- the naive substitution
            local ref = {}
            for c = 1, 2 do
              local xs = {}
              local from, to, step = 1, n, 1
              if not lower then from, to, step = n, 1, -1 end
              for i = from, to, step do
                local t = at(rb, { i, c })
                for j = 1, n do if j ~= i and xs[j] then t = t - at(ra, { i, j }) * xs[j] end end
                xs[i] = t / at(ra, { i, i })
              end
              ref[c] = xs
            end
            local v = H.get(x, run)
            assert.equal(dtype == "float32" and "float32" or "float64", x.dtype)
            H.same(v, R({ n, 2 }, function(i) return ref[i[2]][i[1]] end).flat, dtype == "float32" and 1e-5 or 1e-12)
            local x1 = la.solve_triangular(a, b:slice({}, 1), { lower = lower })
            H.same(H.get(x1, run), R({ n }, function(i) return ref[1][i[1]] end).flat, dtype == "float32" and 1e-5 or 1e-12)
          end
        end
      end
    end
    assert.has_error(function() la.solve_triangular(da.ones({ 2, 3 }), da.ones(2)) end)
    assert.has_error(function() la.solve_triangular(da.zeros({ 2, 2 }), da.ones(2)):compute() end)
  end)

  it("svd_flip makes signs deterministic and keeps the product", function()
    local x = da.random.normal({ 40, 6 }, { chunks = { 15, 6 }, seed = 3 })
    local u, s, v = la.svd(x)
    for _, by_u in ipairs { false, true } do
      local u2, v2 = la.svd_flip(u, v, { u_based_decision = by_u })
      local fu, fv = H.get(u2), H.get(v2)
      local su, sv = H.get(u), H.get(v)
      for k = 1, 6 do
        local sum = 0
        if by_u then
          for i = 1, 40 do sum = sum + fu.flat[(i - 1) * 6 + k] end
        else
          for j = 1, 6 do sum = sum + fv.flat[(k - 1) * 6 + j] end
        end
        assert.is_true(sum >= 0)
        -- the pair flipped together: u[:, k] v[k, :] unchanged
        local sign = fv.flat[(k - 1) * 6 + 1] / sv.flat[(k - 1) * 6 + 1]
        assert.is_true(math.abs(math.abs(sign) - 1) < 1e-12)
        for i = 1, 40 do assert.is_true(math.abs(fu.flat[(i - 1) * 6 + k] - sign * su.flat[(i - 1) * 6 + k]) < 1e-12) end
      end
    end
    local nk = la.norm(x, nil, { axis = 2, keepdims = true })
    assert.same({ 40, 1 }, { nk.shape[1], nk.shape[2] })
    H.same(H.get(nk), H.get(la.norm(x, nil, { axis = 2 })).flat, 1e-14)
    local nf = la.norm(x, "fro", { keepdims = true })
    assert.same({ 1, 1 }, { nf.shape[1], nf.shape[2] })
    H.same(H.get(nf), H.get(la.norm(x)).flat, 1e-14)
    local n1 = la.norm(x, 1, { axis = { 1, 2 }, keepdims = true })
    assert.same({ 1, 1 }, { n1.shape[1], n1.shape[2] })
    local _ = s
  end)

  it("qr of short-and-fat matrices: first column block factored, the rest q^T x_j", function()
    for _, run in ipairs(RUNS) do
      for _, dtype in ipairs { "float64", "float32" } do
        local x = da.random.normal({ 6, 29 }, { chunks = { 4, { 2, 3, 10, 14 } }, seed = 5 }):astype(dtype)
        local q, r = la.qr(x)
        assert.same({ 6, 6 }, { q.shape[1], q.shape[2] })
        assert.same({ 6, 29 }, { r.shape[1], r.shape[2] })
        assert.same({ 15, 14 }, { r.chunks[2][1], r.chunks[2][2] })
        assert.equal(dtype, q.dtype)
        local tol = dtype == "float32" and 1e-4 or 1e-12
        local fx, fq, fr = H.get(x, run), H.get(q, run), H.get(r, run)
        -- q r = x, qᵀq = I, r upper triangular, by naive loops
        for i = 1, 6 do
          for j = 1, 29 do
            local t = 0
            for k = 1, 6 do t = t + fq.flat[(i - 1) * 6 + k] * fr.flat[(k - 1) * 29 + j] end
            assert.is_true(math.abs(t - fx.flat[(i - 1) * 29 + j]) < tol * 10, ("q r ~= x at %d, %d"):format(i, j))
            if j < i then assert.is_true(math.abs(fr.flat[(i - 1) * 29 + j]) < tol) end
          end
          for j = 1, 6 do
            local t = 0
            for k = 1, 6 do t = t + fq.flat[(k - 1) * 6 + i] * fq.flat[(k - 1) * 6 + j] end
            assert.is_true(math.abs(t - (i == j and 1 or 0)) < tol)
          end
        end
      end
    end
  end)
end)
