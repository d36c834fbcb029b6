-- lask.array: transpose, dot, reshape, rechunk, slicing, concatenate, stack, map_blocks.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da

-- An m x n array with x[i, j] = 10 * i + j (1-based), and its flat values: a column
-- (stacked) times 10 plus a row, broadcast.
local function mat(m, n, chunks)
  local col = da.stack({ da.arange(1, m + 1) }, 2)
  local x = (10 * col + da.arange(1, n + 1)):rechunk(chunks)
  return x, H.grid({ m, n }, function(i, j) return 10 * i + j end)
end

describe("lask.array transpose", function()
  it("permutes axes and chunks", function()
    local x = mat(4, 3, { 3, 2 })
    local t = x.T
    assert.same({ 3, 4 }, t.shape)
    assert.same({ { 2, 1 }, { 3, 1 } }, t.chunks)
    H.same(H.get(t), H.grid({ 3, 4 }, function(i, j) return 10 * j + i end))
    H.same(H.get(da.transpose(x, { 2, 1 })), H.get(t).flat)
    assert.equal(x, da.transpose(x, { 1, 2 }))
    assert.has_error(function() da.transpose(x, { 1, 1 }) end)
  end)
end)

describe("lask.array dot", function()
  local function ref_dot(a, m, k, b, n)
    local out = {}
    for i = 1, m do
      for j = 1, n do
        local s = 0
        for p = 1, k do s = s + a[(i - 1) * k + p] * b[(p - 1) * n + j] end
        out[#out + 1] = s
      end
    end
    return out
  end

  it("multiplies blocked matrices whose inner blocks differ", function()
    local a, af = mat(5, 7, { 2, 3 })
    local b, bf = mat(7, 4, { 4, 3 })
    local c = da.dot(a, b)
    assert.same({ 5, 4 }, c.shape)
    assert.same({ { 2, 2, 1 }, { 3, 1 } }, c.chunks)
    H.same(H.get(c), ref_dot(af, 5, 7, bf, 4), 1e-14)
    H.same(H.get(a:dot(b)), H.get(c).flat)
    -- with a transposed operand, against numpy
    local np = H.np_array(af, { 5, 7 })
    H.same(H.get(a.T:dot(a)), H.numpy(np .. ".T @ " .. np).flat, 1e-14)
  end)

  it("handles vectors and integer operands", function()
    local a, af = mat(3, 4, 2)
    local v = da.from_array({ 1, 2, 3, 4 }, { chunks = 3 })
    H.same(H.get(a:dot(v)), ref_dot(af, 3, 4, { 1, 2, 3, 4 }, 1))
    H.same(H.get(v:dot(a.T)), ref_dot(af, 3, 4, { 1, 2, 3, 4 }, 1))
    assert.equal(30, H.get(v:dot(v)).flat[1])
    local i = da.arange(6, { dtype = "int64", chunks = 4 })
    assert.equal("int64", i:dot(i).dtype)
    assert.equal(55, H.get(i:dot(i)).flat[1])
    assert.equal("float32", da.ones(3, { dtype = "float32" }):dot(da.ones(3, { dtype = "float32" })).dtype)
  end)

  it("splits a long contraction with few output blocks into summed groups", function()
    local a, af = mat(3, 11, { 3, 2 }) -- 6 inner blocks, one output block
    local b, bf = mat(11, 2, { 2, 2 })
    local c = da.dot(a, b)
    local partials = 0
    for k in pairs(c.dask) do
      if tostring(k):find("partial", 1, true) then partials = partials + 1 end
    end
    assert.equal(3, partials) -- groups of 2 inner blocks, then a sum_agg
    H.same(H.get(c), ref_dot(af, 3, 11, bf, 2), 1e-14)
    local i = da.arange(9, { dtype = "int64", chunks = 2 }) -- 5 inner blocks, integers
    assert.equal(204, H.get(i:dot(i)).flat[1]) -- 0² + 1² + … + 8²
  end)

  it("writes every output block straight into the result: each dtype, scheduler, uneven blocks", function()
    local lask = require "lask"
    for _, dt in ipairs { "float64", "float32", "int64", "bool" } do
      local a, af = mat(7, 5, { { 3, 4 }, { 2, 1, 2 } })
      local b, bf = mat(5, 6, { { 2, 1, 2 }, { 4, 2 } })
      if dt == "bool" then
        a, b = da.equal(a % 3, 0), da.equal(b % 2, 1)
        for i, v in ipairs(af) do af[i] = v % 3 == 0 and 1 or 0 end
        for i, v in ipairs(bf) do bf[i] = v % 2 == 1 and 1 or 0 end
      else
        a, b = a:astype(dt), b:astype(dt)
      end
      local want = ref_dot(af, 7, 5, bf, 6)
      local vf = { 1, 2, 3, 4, 5 }
      local v = da.from_array(vf, { chunks = 2 }):astype(dt == "bool" and "int64" or dt)
      for _, sched in ipairs { "sync", "threaded", "multiprocessing" } do
        local what = dt .. " " .. sched
        local c = da.dot(a, b)
        assert.equal(dt == "bool" and "int64" or dt, c.dtype, what)
        H.same(H.get(c, { scheduler = sched }), want, dt == "float32" and 1e-6 or 1e-14)
        -- 1-D results: a matrix times a vector, a vector times a matrix (blocks of rows)
        H.same(H.get(a:dot(v), { scheduler = sched }), ref_dot(af, 7, 5, vf, 1), 1e-6)
        H.same(H.get(v:dot(b), { scheduler = sched }), ref_dot(vf, 1, 5, bf, 6), 1e-6)
        -- and beside another output of the same get
        local c1, c2 = lask.compute(c, c + 1, { scheduler = sched })
        H.same(H.vals(c1), want, 1e-6)
        local plus1 = {}
        for i, w in ipairs(want) do plus1[i] = w + 1 end
        H.same(H.vals(c2), plus1, 1e-6)
      end
    end
  end)

  it("the matmul kernels write into a block of a bigger array, or copy when it does not fit", function()
    local core = require "lask.core"
    local ak, nd, K = core.array_kernels, core.ndarray, require("lask.array.core").kernel
    local a = nd.asarray({ 1, 2, 3, 4, 5, 6 }, "float64"):reshape { 2, 3 }
    local b = nd.asarray({ 1, 0, 2, 1, 0, 3 }, "float64"):reshape { 3, 2 }
    -- a @ b = {{5, 11}, {14, 23}}; twice that for matmul_sum of two pairs
    local function zeros(dt) return nd.asarray(H.grid({ 4, 5 }, function() return 0 end), dt):reshape { 4, 5 } end
    for _, case in ipairs {
      { "matmul", { a, b }, 1 }, { "matmul_sum", { { a, a }, { b, b } }, 2 },
    } do
      for _, dt in ipairs { "float64", "float32", "int64" } do -- other dtypes: converted as copied
        local dest = zeros(dt)
        ak.into(dest, { 1, 2 }, K(case[1]), table.unpack(case[2]))
        local f = case[3]
        H.same(H.vals(dest), { 0, 0, 0, 0, 0, 0, 0, 5 * f, 11 * f, 0, 0, 0, 14 * f, 23 * f, 0, 0, 0, 0, 0, 0 })
      end
      -- a transposed destination (columns contiguous): the block is copied in
      local dest = ak.transpose(zeros("float64"), { 1, 0 })
      ak.into(dest, { 2, 1 }, K(case[1]), table.unpack(case[2]))
      assert.equal(14 * case[3], dest:get(4, 2))
      assert.has_error(function() ak.into(zeros("float64"), { 3, 4 }, K(case[1]), table.unpack(case[2])) end)
    end
  end)

  it("rejects misaligned shapes", function()
    local a = mat(3, 4, 2)
    assert.has_error(function() a:dot(a) end,
      "lask.array: dot: shapes (3, 4) and (3, 4) not aligned: 4 (axis 2) != 3 (axis 1)")
    assert.has_error(function() da.dot(da.ones({ 2, 2, 2 }), a) end)
  end)
end)

describe("lask.array reshape", function()
  local lask = require "lask"

  it("reshapes in C order, each block on its own, as Dask prints it", function()
    local x = da.arange(15, { chunks = 5 })
    local y = x:reshape { 3, 5 }
    assert.are.same({ 3, 5 }, y.shape)
    assert.are.same({ { 1, 1, 1 }, { 5 } }, y.chunks)
    H.same(H.get(y), H.get(x).flat, 0)
    assert.is_truthy(lask.tostring(y.dask):find("{reshape, %('arange%-%x+', 1%), {1, 5}}"))
    assert.are.same({ 5, 3 }, x:reshape({ 5, -1 }).shape) -- -1: inferred
    assert.are.same({ 15 }, y:reshape(-1).shape)
    H.same(H.get(da.reshape(y, { 15 })), H.get(x).flat, 0)
  end)

  it("keeps the blocks of the trailing axes it does not change", function()
    local x = da.arange(240, { chunks = 100 }):reshape { 4, 6, 10 }:rechunk { 2, 3, 5 }
    local y = x:reshape { 24, 10 }
    assert.are.same({ 5, 5 }, y.chunks[2])
    H.same(H.get(y), H.get(x).flat, 0)
  end)

  it("handles 0-d, empty and transposed (not C-contiguous) blocks", function()
    assert.are.same({}, da.arange(1):reshape({}).shape)
    assert.are.equal(0, da.arange(1):reshape({}):compute():item())
    assert.are.same({ 1, 1 }, da.full({}, 3):reshape({ 1, 1 }).shape)
    assert.are.same({ 0, 5 }, da.zeros({ 5, 0 }, { chunks = 2 }):reshape({ 0, 5 }).shape)
    local t = da.arange(12, { chunks = 4 }):reshape({ 3, 4 }).T -- blocks are views
    H.same(H.get(t:reshape { 12 }), { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }, 0)
  end)

  it("matches the flat order for random shapes and blocks", function()
    local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
    print(("# reshape seed %d (set LASK_SEED to replay)"):format(seed))
    math.randomseed(seed)
    local sizes = { 12, 24, 30, 36, 60 }
    for _ = 1, 25 do
      local size = sizes[math.random(#sizes)]
      local function factors()
        local shape, left = {}, size
        while left > 1 and #shape < 3 do
          local divs = {}
          for d = 1, left do if left % d == 0 then divs[#divs + 1] = d end end
          local f = divs[math.random(#divs)]
          shape[#shape + 1], left = f, left // f
        end
        shape[#shape + 1] = left
        return shape
      end
      local from, to = factors(), factors()
      local chunks = {}
      for d, e in ipairs(from) do chunks[d] = math.random(1, e) end
      local x = da.arange(size, { chunks = size }):reshape(from):rechunk(chunks)
      local y = x:reshape(to)
      assert.are.same(to, y.shape)
      local flat = {}
      for i = 1, size do flat[i] = i - 1 end
      H.same(H.get(x), flat, 0)
      H.same(H.get(y), flat, 0)
    end
  end)

  it("reports a size that does not fit, and bad extents", function()
    local x = da.arange(15, { chunks = 5 })
    assert.has_error(function() x:reshape { 4, 4 } end,
      "lask.array: reshape: cannot reshape an array of size 15 into shape (4, 4)")
    assert.has_error(function() x:reshape { -1, -1 } end, "lask.array: reshape: only one extent can be -1")
    assert.has_error(function() x:reshape { 3, 2.5 } end,
      "lask.array: reshape: extents must be integers >= 0 (one may be -1), got 2.5")
    assert.has_error(function() x:reshape { -1, 4 } end,
      "lask.array: reshape: cannot reshape an array of size 15 into shape (-1, 4)")
  end)
end)

describe("lask.array rechunk", function()
  it("changes blocks and keeps values", function()
    local x, xf = mat(7, 5, { 3, 2 })
    for _, c in ipairs { { 2, 5 }, { 7, 1 }, 1, { { 1, 6 }, { 4, 1 } }, { -1, -1 } } do
      local y = x:rechunk(c)
      assert.same(da.normalize_chunks(c, { 7, 5 }), y.chunks)
      H.same(H.get(y), xf)
    end
    assert.equal(x, x:rechunk({ 3, 2 }))
  end)

  it("aliases blocks that do not change", function()
    local x = mat(6, 4, { 3, 2 })
    local y = x:rechunk({ 3, 4 })
    local aliases = 0
    for _, v in pairs(y.dask) do if H.lask.iskey(v) then aliases = aliases + 1 end end
    assert.equal(0, aliases)
    local z = x:rechunk({ { 3, 3 }, { 1, 1, 2 } })
    for _, v in pairs(z.dask) do if H.lask.iskey(v) then aliases = aliases + 1 end end
    assert.equal(2, aliases)
  end)
end)

describe("lask.array slice", function()
  it("takes 1-based inclusive ranges, steps, negative ends and indices", function()
    local x, xf = mat(7, 5, { 3, 2 })
    local np = H.np_array(xf, { 7, 5 })
    local cases = {
      { { { 1, 3 }, {} }, "[0:3, :]" },
      { { { 2, 6 }, { 2, 4 } }, "[1:6, 1:4]" },
      { { { 1, 7, 2 }, { 1, 5, 3 } }, "[0:7:2, 0:5:3]" },
      { { { -3, -1 } }, "[-3:, :]" },
      { { { 3 } }, "[2:, :]" },
      { { 4 }, "[3, :]" },
      { { {}, -1 }, "[:, -1]" },
      { { 2, 3 }, "[1, 2]" },
      { { { 5, 2 } }, "[4:2, :]" },
      { { { 1, 100 } }, "[0:100, :]" },
    }
    for _, c in ipairs(cases) do
      local y = x:slice(table.unpack(c[1]))
      local want = H.numpy(np .. c[2])
      assert.same(want.shape, y.shape, c[2])
      H.same(H.get(y), want.flat)
    end
    assert.equal(x, x:slice({}, {}))
  end)

  it("keeps only the blocks it needs", function()
    local x = mat(9, 4, { 3, 4 })
    local y = x:slice({ 4, 6 })
    assert.same({ { 3 }, { 4 } }, y.chunks)
    local z = x:slice({ 2, 8 })
    assert.same({ { 2, 3, 2 }, { 4 } }, z.chunks)
  end)

  it("reports bad indices", function()
    local x = mat(3, 3, 2)
    assert.has_error(function() x:slice(0) end,
      "lask.array: slice: index 0 is out of bounds for axis 1 with extent 3 (indices count from 1)")
    assert.has_error(function() x:slice({ 1, 2, 0 }) end)
    assert.has_error(function() x:slice({ 1.5, 2 }) end)
    assert.has_error(function() x:slice({}, {}, {}) end)
  end)
end)

describe("lask.array concatenate and stack", function()
  it("concatenates along an axis, aligning other chunks and promoting dtypes", function()
    local a, af = mat(2, 3, { 1, 2 })
    local b, bf = mat(4, 3, { 3, 3 })
    local c = da.concatenate({ a, b })
    assert.same({ 6, 3 }, c.shape)
    H.same(H.get(c), table.move(bf, 1, #bf, #af + 1, table.move(af, 1, #af, 1, {})))
    local d = da.concatenate({ a.T, b.T }, 2)
    H.same(H.get(d), H.get(c.T).flat)
    local i = da.arange(3, { dtype = "int64" })
    local mix = da.concatenate({ i, da.ones(2) })
    assert.equal("float64", mix.dtype)
    H.same(H.get(mix), { 0, 1, 2, 1, 1 })
    assert.has_error(function() da.concatenate({ a, da.ones({ 2, 4 }) }) end)
    assert.has_error(function() da.concatenate({}) end)
    assert.has_error(function() da.concatenate({ a, b }, 3) end)
  end)

  it("stacks along a new axis", function()
    local a, af = mat(2, 3, 2)
    local s = da.stack({ a, a * 2 }, 2)
    assert.same({ 2, 2, 3 }, s.shape)
    local want = H.numpy(("a = %s\nnp.stack([a, a * 2], axis=1)"):format(H.np_array(af, { 2, 3 })))
    H.same(H.get(s), want.flat)
    assert.same({ 3, 2, 3 }, da.stack({ a, a, a }).shape)
    assert.has_error(function() da.stack({ a, a.T }) end)
  end)
end)

describe("lask.array map_blocks", function()
  it("calls a Lua function on every block", function()
    local K = require("lask.core").array_kernels
    local x = da.arange(10, { chunks = 4 })
    local calls = 0
    local y = da.map_blocks(function(b, k)
      calls = calls + 1
      return K.mul(b, k)
    end, x, 3)
    H.same(H.get(y), H.grid({ 10 }, function(i) return 3 * (i - 1) end))
    assert.equal(3, calls)
    assert.matches("^map_blocks%-", y.name)
    -- several arrays, broadcast like elementwise operands; a dtype and chunks given
    local m = da.ones({ 3, 10 }, { chunks = { 2, 5 } })
    local z = da.map_blocks(function(a, b) return K.astype(K.add(a, b), "float32") end, m, x, { dtype = "float32" })
    assert.equal("float32", z.dtype)
    assert.same({ { 2, 1 }, { 4, 1, 3, 2 } }, z.chunks)
    local got = H.get(z)
    assert.equal("float32", got.dtype)
    H.same(got, H.grid({ 3, 10 }, function(_, j) return j end))
    local halves = da.map_blocks(function(b) return K.getitem(b, { 0 }, { 2 }) end, x, { chunks = { 2 } })
    assert.same({ { 2, 2, 2 } }, halves.chunks)
    H.same(H.get(halves), { 0, 1, 4, 5, 8, 9 })
    assert.has_error(function() da.map_blocks(x, x) end)
  end)
end)
