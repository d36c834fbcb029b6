-- lask.array: elementwise operations and reductions against plain Lua loops and numpy.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da

-- x[i, j] = i * 0.5 - j * 0.25 + 1 on a 7 x 5 grid (1-based i, j), chunked unevenly.
local function base(chunks)
  local col = da.stack({ da.arange(1, 8) }, 2)
  local x = (col * 0.5 - da.arange(1, 6) * 0.25 + 1):rechunk(chunks or { 3, 2 })
  return x, H.grid({ 7, 5 }, function(i, j) return i * 0.5 - j * 0.25 + 1 end)
end

local function map(list, f)
  local out = {}
  for i, v in ipairs(list) do out[i] = f(v, i) end
  return out
end

describe("lask.array elementwise", function()
  it("arithmetic through metatables, scalars on either side", function()
    local x, ref = base()
    H.same(H.get(2 * x + 1), map(ref, function(v) return 2 * v + 1 end))
    H.same(H.get(x - 3), map(ref, function(v) return v - 3 end))
    H.same(H.get(3 - x), map(ref, function(v) return 3 - v end))
    H.same(H.get(x / 4), map(ref, function(v) return v / 4 end))
    H.same(H.get(1 / x), map(ref, function(v) return 1 / v end))
    H.same(H.get(x % 0.75), map(ref, function(v) return v % 0.75 end))
    H.same(H.get(x ^ 2), map(ref, function(v) return v * v end))
    H.same(H.get(2 ^ x), map(ref, function(v) return 2 ^ v end))
    H.same(H.get(-x), map(ref, function(v) return -v end))
    H.same(H.get(x * x - x), map(ref, function(v) return v * v - v end))
  end)

  it("floor division // as numpy's floor_divide, floats and integers, arrays and ndarrays", function()
    local x, ref = base()
    H.same(H.get(x // 0.75), map(ref, function(v) return v // 0.75 end)) -- Lua's // floors too
    H.same(H.get(5 // x), map(ref, function(v) return 5 // v end))
    local vals = { 1.0, -7.5, 7.5, 0.0, -0.0, 1e300, -3.25, 0.3 }
    local f = da.from_array(vals, { chunks = 3 })
    local np = "np.array([1.0, -7.5, 7.5, 0.0, -0.0, 1e300, -3.25, 0.3])"
    for _, d in ipairs { "2", "-2", "0.1", "-0.7" } do
      H.same(H.get(f // tonumber(d)), H.numpy(("%s // %s"):format(np, d)).flat)
    end
    H.same(H.get(da.floor_divide(1, da.from_array({ 0.1 }))), { 9 }) -- not floor(1 / 0.1) = 10
    local i = da.arange(-7, 8, { dtype = "int64", chunks = 4 })
    assert.equal("int64", (i // 3).dtype)
    H.same(H.get(i // 3), H.numpy("np.arange(-7, 8) // 3").flat)
    H.same(H.get(i // -4), H.numpy("np.arange(-7, 8) // -4").flat)
    H.same(H.get(i // 0), H.grid({ 15 }, function() return 0 end)) -- numpy's 0 (it also warns)
    assert.same({ 3, -4 }, (require("lask.core").asarray { 7, -7 } // 2):totable())
  end)

  it("the seed talk's (2*x + 1) ** 3", function()
    local x = da.arange(15, { chunks = 5 })
    local y = (2 * x + 1) ^ 3
    H.same(H.get(y), H.grid({ 15 }, function(i) return (2 * (i - 1) + 1) ^ 3 end))
    assert.equal(H.get(y:sum()).flat[1], 101025)
  end)

  it("math functions, comparisons and where", function()
    local x, ref = base()
    local f = { exp = math.exp, log = math.log, sqrt = math.sqrt, abs = math.abs, sin = math.sin, cos = math.cos }
    for name, fn in pairs(f) do
      H.same(H.get(da[name](x)), map(ref, function(v) return fn(v) end), 1e-14)
    end
    local tanh = function(v) return (math.exp(v) - math.exp(-v)) / (math.exp(v) + math.exp(-v)) end
    H.same(H.get(da.tanh(x)), map(ref, tanh), 1e-14)
    H.same(H.get(da.less(x, 2)), map(ref, function(v) return v < 2 end))
    H.same(H.get(da.greater_equal(x, 2)), map(ref, function(v) return v >= 2 end))
    H.same(H.get(da.equal(x, 2)), map(ref, function(v) return v == 2 end))
    H.same(H.get(da.not_equal(x, 2)), map(ref, function(v) return v ~= 2 end))
    H.same(H.get(da.less_equal(2, x)), map(ref, function(v) return 2 <= v end))
    H.same(H.get(da.greater(x, x * 0 + 2)), map(ref, function(v) return v > 2 end))
    H.same(H.get(da.maximum(x, 2)), map(ref, function(v) return math.max(v, 2) end))
    H.same(H.get(da.minimum(2, x)), map(ref, function(v) return math.min(v, 2) end))
    H.same(H.get(da.where(da.less(x, 2), x, -x)), map(ref, function(v) return v < 2 and v or -v end))
    assert.equal("bool", da.less(x, 2).dtype)
  end)

  it("broadcasts arrays, aligning their chunks", function()
    local x, ref = base({ 3, 2 })
    local row = da.from_array({ 10, 20, 30, 40, 50 }, { chunks = 3 }) -- chunks (3, 2) vs x's (2, 2, 1)
    local got = H.get(x + row)
    H.same(got, map(ref, function(v, k) return v + 10 * ((k - 1) % 5 + 1) end))
    local col = da.from_array({ { 1 }, { 2 }, { 3 }, { 4 }, { 5 }, { 6 }, { 7 } }, { chunks = { 4, 1 } })
    H.same(H.get(x * col), map(ref, function(v, k) return v * ((k - 1) // 5 + 1) end))
    local y = x + row
    assert.same({ 7, 5 }, y.shape)
    assert.same({ { 3, 3, 1 }, { 2, 1, 1, 1 } }, y.chunks) -- x's (2, 2, 1) refined by row's (3, 2)
    local outer = da.from_array({ { 1 }, { 2 } }) * da.from_array({ 1, 2, 3 })
    assert.same({ 2, 3 }, outer.shape)
    H.same(H.get(outer), { 1, 2, 3, 2, 4, 6 })
  end)

  it("follows numpy's dtypes (scalars are weak)", function()
    local f32 = da.ones(4, { dtype = "float32", chunks = 3 })
    local i64 = da.arange(4, { dtype = "int64", chunks = 3 })
    local b = da.less(i64, 2)
    assert.equal("float32", (2 * f32 + 1.5).dtype)
    assert.equal("float64", (f32 + i64).dtype)
    assert.equal("int64", (i64 * 3).dtype)
    assert.equal("float64", (i64 * 2.5).dtype)
    assert.equal("float64", (i64 / 2).dtype)
    assert.equal("float32", (f32 / 2).dtype)
    assert.equal("int64", (b + 1).dtype)
    assert.equal("bool", (b * true).dtype)
    assert.equal("float64", da.exp(i64).dtype)
    assert.equal("float32", da.sqrt(f32).dtype)
    assert.equal("int64", (i64 ^ 2).dtype)
    for _, y in ipairs { 2 * f32 + 1.5, f32 + i64, i64 * 3, i64 * 2.5, i64 / 2, b + 1, da.exp(i64), i64 ^ 2,
      f32:astype("int64"), b:astype("float32") } do
      local got = H.get(y)
      assert.equal(y.dtype, got.dtype)
      assert.equal(y.dtype, H.get(y, { fuse = false }).dtype)
    end
    H.same(H.get(i64 ^ 2), { 0, 1, 4, 9 })
    H.same(H.get((i64 * 2.5):astype("int64")), { 0, 2, 5, 7 })
  end)

  it("types 0-d arrays as arrays (strong), as numpy 2 does", function()
    local f32 = da.ones(4, { dtype = "float32", chunks = 3 })
    local d0 = da.from_array(require("lask.core").ndarray.asarray(2.0)) -- a 0-d float64 array
    local i0 = da.from_array(require("lask.core").ndarray.asarray(2))   -- a 0-d int64 array
    local b = da.less(f32, 2)
    for _, case in ipairs { { f32 * d0, "float64" }, { d0 * f32, "float64" }, { f32 + i0, "float64" },
      { b + i0, "int64" }, { f32:sum() * 1.5, "float32" }, { f32:sum() * d0, "float64" } } do
      assert.equal(case[2], case[1].dtype)
      assert.equal(case[2], H.get(case[1]).dtype)
      assert.equal(case[2], H.get(case[1], { fuse = false }).dtype)
    end
  end)

  it("fused and unfused graphs give the same values", function()
    local x, ref = base({ 2, 3 })
    local y = da.where(da.greater(x, 2.5), da.sqrt(x * 2) - 1, (x + 0.5) ^ 3 / 7) * x + da.sin(x) ^ 2
    H.same(H.get(y), H.get(y, { fuse = false }).flat, 1e-15)
    local want = map(ref, function(v)
      local a = v > 2.5 and math.sqrt(v * 2) - 1 or (v + 0.5) ^ 3 / 7
      return a * v + math.sin(v) ^ 2
    end)
    H.same(H.get(y), want, 1e-13)
    -- a long chain (more than the fused kernel holds at once) still works
    local z = x
    for k = 1, 80 do z = z * 1.01 + k * 1e-3 end
    H.same(H.get(z), H.get(z, { fuse = false }).flat, 1e-13)
  end)

  it("works on 0-sized and 1-element arrays", function()
    local e = da.zeros({ 0, 3 })
    assert.same({ 0, 3 }, (e + 1).shape)
    H.same(H.get(e * 2 + 1), {})
    local one = da.full({ 1 }, 4.0)
    H.same(H.get(one ^ 0.5 + da.ones(3)), { 3, 3, 3 })
  end)
end)

describe("lask.array reductions", function()
  local function ref_reduce(flat, shape, axes, f, init)
    -- reduce a 2-D flat list over axes (0-based set)
    local out_shape = {}
    for d = 1, 2 do out_shape[d] = axes[d - 1] and 1 or shape[d] end
    local out = {}
    for i = 1, shape[1] do
      for j = 1, shape[2] do
        local oi = axes[0] and 1 or i
        local oj = axes[1] and 1 or j
        local k = (oi - 1) * out_shape[2] + oj
        out[k] = f(out[k] == nil and init or out[k], flat[(i - 1) * shape[2] + j])
      end
    end
    return out
  end

  it("sum, prod, min, max over every axis choice", function()
    local x, ref = base({ 3, 2 })
    local ops = {
      sum = { function(a, v) return a + v end, 0 },
      prod = { function(a, v) return a * v end, 1 },
      min = { math.min, math.huge },
      max = { math.max, -math.huge },
    }
    for name, spec in pairs(ops) do
      for _, axis in ipairs { false, 1, 2, -1, { 1, 2 } } do
        local axes = {}
        if axis == false or type(axis) == "table" then axes = { [0] = true, [1] = true }
        elseif axis == 1 then axes[0] = true else axes[1] = true end
        local opts = axis and { axis = axis } or nil
        local got = H.get(x[name](x, opts))
        H.same(got, ref_reduce(ref, { 7, 5 }, axes, spec[1], spec[2]), 1e-13)
        local kept = x[name](x, { axis = axis or nil, keepdims = true })
        assert.equal(2, kept.ndim)
      end
    end
  end)

  it("axis = {} reduces nothing, as numpy's axis=()", function()
    local x, ref = base({ 3, 2 })
    for _, name in ipairs { "sum", "prod", "min", "max", "mean" } do
      local got = x[name](x, { axis = {} })
      assert.are.same({ 7, 5 }, got.shape)
      H.same(H.get(got), ref, 0)
    end
    for _, name in ipairs { "var", "std" } do -- each value its own sample
      H.same(H.get(x[name](x, { axis = {} })), H.get(x * 0).flat, 0)
      local nan = H.get(x[name](x, { axis = {}, ddof = 1 })).flat -- 0 / 0, as numpy
      assert.is_true(nan[1] ~= nan[1])
    end
    local b = da.ones({ 4 }, { chunks = 3, dtype = "bool" })
    assert.are.equal("int64", b:sum { axis = {} }.dtype)
  end)

  it("mean, var, std against numpy, with ddof and deep trees", function()
    local x, ref = base({ 2, 1 })
    local np = H.np_array(ref, { 7, 5 })
    for _, axis in ipairs { "None", "0", "1" } do
      local opts = axis == "None" and {} or { axis = tonumber(axis) + 1 }
      opts.split_every = 2
      H.same(H.get(x:mean(opts)), H.numpy(("%s.mean(axis=%s)"):format(np, axis)).flat, 1e-13)
      H.same(H.get(x:var(opts)), H.numpy(("%s.var(axis=%s)"):format(np, axis)).flat, 1e-12)
      opts.ddof = 1
      H.same(H.get(x:std(opts)), H.numpy(("%s.std(axis=%s, ddof=1)"):format(np, axis)).flat, 1e-12)
    end
  end)

  it("stays accurate on data with a huge offset", function()
    -- means near 1e9 are only known to an ulp (1.2e-7) of the data's 1e-3 detail, which
    -- bounds any merge of partial means; a sum of squares would lose every digit
    local t = {}
    for i = 1, 1000 do t[i] = 1e9 + (i % 10) * 1e-3 end
    local x = da.from_array(t, { chunks = 37 })
    local got = H.get(x:var()).flat[1]
    local m = 0
    for _, v in ipairs(t) do m = m + (v - 1e9) end
    m = m / #t + 1e9
    local q = 0
    for _, v in ipairs(t) do q = q + (v - m) ^ 2 end
    assert.truthy(math.abs(got - q / #t) < 1e-4 * q / #t, ("%.17g vs %.17g"):format(got, q / #t))
    local naive = H.get((x * x):mean()).flat[1] - H.get(x:mean()).flat[1] ^ 2
    assert.truthy(math.abs(naive - q / #t) > 1e-2 * q / #t)
  end)

  it("argmin and argmax: flat and along an axis, first of ties, 1-based (numpy's + 1)", function()
    local t = { { 3, 1, 4, 1, 5 }, { 9, 2, 6, 5, 3 }, { 5, 8, 9, 7, 9 }, { 0, 3, 2, 3, 8 } }
    local x = da.from_array(t, { chunks = { 3, 2 } })
    local rows = {}
    for i, r in ipairs(t) do rows[i] = "[" .. table.concat(r, ", ") .. "]" end
    local np = "np.array([" .. table.concat(rows, ", ") .. "])"
    assert.equal(H.numpy(np .. ".argmin() + 1").flat[1], H.get(x:argmin()).flat[1])
    assert.equal(H.numpy(np .. ".argmax() + 1").flat[1], H.get(x:argmax()).flat[1])
    H.same(H.get(x:argmin({ axis = 1 })), H.numpy(np .. ".argmin(axis=0) + 1").flat)
    H.same(H.get(x:argmax({ axis = 2 })), H.numpy(np .. ".argmax(axis=1) + 1").flat)
    H.same(H.get(x:argmax({ axis = -1, split_every = 2 })), H.numpy(np .. ".argmax(axis=1) + 1").flat)
    assert.equal("int64", x:argmin().dtype)
    assert.has_error(function() da.zeros(0):argmin() end)
  end)

  it("dtypes of results: int sums, float32 means", function()
    local i = da.arange(10, { dtype = "int64", chunks = 3 })
    assert.equal("int64", i:sum().dtype)
    assert.equal(45, H.get(i:sum()).flat[1])
    assert.equal("int64", da.less(i, 4):sum().dtype)
    assert.equal(4, H.get(da.less(i, 4):sum()).flat[1])
    assert.equal("float64", i:mean().dtype)
    local f = da.ones(10, { dtype = "float32", chunks = 4 })
    assert.equal("float32", f:sum().dtype)
    assert.equal("float32", H.get(f:mean()).dtype)
    assert.equal("float32", f:std().dtype)
    assert.equal("float32", H.get(f:std()).dtype)
    assert.equal("int64", H.get(i:max()).dtype)
  end)

  it("empty and one-element arrays", function()
    assert.equal(0, H.get(da.zeros(0):sum()).flat[1])
    assert.equal(1, H.get(da.zeros(0):prod()).flat[1])
    local m = H.get(da.zeros(0):mean()).flat[1]
    assert.truthy(m ~= m)
    assert.has_error(function() H.get(da.zeros(0):max()) end)
    H.same(H.get(da.zeros({ 0, 3 }):sum({ axis = 1 })), { 0, 0, 0 })
    assert.equal(4, H.get(da.full({ 1 }, 4.0):max()).flat[1])
    assert.equal(0, H.get(da.full({ 1 }, 4.0):var()).flat[1])
  end)

  it("fuses an elementwise chain into the reduction's chunk step", function()
    local x = da.arange(100, { chunks = 10 })
    local s = ((2 * x + 1) ^ 3):sum()
    local CP = require "lask.array.compute"
    local g = CP.graph({ s }, {})
    local n, fusedk = 0, 0
    for _, task in pairs(g) do
      n = n + 1
      if type(task) == "table" and type(task[2]) == "table" and tostring(task[2][1]):find("^fused%(") then
        fusedk = fusedk + 1
      end
    end
    assert.equal(11, n) -- 10 chunk steps (each nesting the fused kernel), 1 aggregate
    assert.equal(10, fusedk)
    assert.equal(H.get(s).flat[1], H.get(s, { fuse = false }).flat[1])
  end)
end)
