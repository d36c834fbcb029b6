-- Behaviours of Dask's own array tests that apply to lask.array, each naming the
-- Dask test it comes from (dask/array/tests/test_reductions.py, test_creation.py,
-- test_array_core.py, test_linalg.py in Dask's public repository). numpy (through
-- /usr/bin/python3, H.numpy) is the reference where Dask's test compares with it;
-- positions are lask's 1-based ones (numpy's + 1), see README "Differences from Dask".
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da
local nd = require("lask.core").ndarray
local la = require "lask.array.linalg"

local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
print(("# dask_array_ports_spec seed %d (set LASK_SEED to replay)"):format(seed))

-- A random float64 ndarray of shape (values in [0, 1)), and its numpy literal.
local function random_nd(shape, s)
  local x = da.random.random(shape, { seed = s or seed }):compute()
  local path = os.tmpname() .. ".npy"
  assert(x:save(path))
  return x, ("np.load(%q)"):format(path), path
end

-- Asserts that x computes to numpy's np_expr (an expression, or H.vals already).
local function same_as_numpy(x, np_expr, tol)
  local got = H.get(x)
  local want = type(np_expr) == "table" and np_expr or H.numpy("import warnings\nwarnings.simplefilter('ignore')\n" .. np_expr)
  assert.are.same(want.shape, got.shape)
  H.same(got, want.flat, tol or 1e-12)
end

describe("ports of dask/array/tests/test_reductions.py", function()
  it("test_reductions_0D", function()
    local a = da.from_array(nd.asarray(3))
    for op, want in pairs { sum = 3, prod = 3, mean = 3.0, var = 0.0, std = 0.0, min = 3, max = 3 } do
      local got = H.get(a[op](a))
      assert.are.same({}, got.shape, op)
      assert.are.equal(want, got.flat[1], op)
    end
  end)

  it("test_reductions_1D (float32, int64): keepdims, axis = {}, dtype, split_every, same keys", function()
    for _, dt in ipairs { "float32", "int64" } do
      local x = da.arange(5, { chunks = 2 }):astype(dt)
      local np = ("np.arange(5).astype(%q)"):format(dt)
      for _, op in ipairs { "sum", "prod", "mean", "var", "std", "min", "max" } do
        local want = H.numpy(("%s.%s()"):format(np, op))
        local kept = H.numpy(("%s.%s(keepdims=True)"):format(np, op))
        same_as_numpy(x[op](x), want, 1e-6)
        same_as_numpy(x[op](x, { keepdims = true }), kept, 1e-6)
        same_as_numpy(x[op](x, { axis = {} }), ("np.%s(%s, axis=())"):format(op, np), 1e-6)
        assert.are.equal(x[op](x).name, x[op](x).name) -- same_keys: deterministic names
        same_as_numpy(x[op](x, { split_every = 2 }), want, 1e-6)
        same_as_numpy(x[op](x, { split_every = { 2 } }), want, 1e-6)
        assert.are.equal(x[op](x, { split_every = 2 }).name, x[op](x, { split_every = { 2 } }).name)
        same_as_numpy(x[op](x, { keepdims = true, split_every = 2 }), kept, 1e-6)
        if op ~= "min" and op ~= "max" then
          same_as_numpy(x[op](x, { dtype = "float64" }), ("%s.%s(dtype='f8')"):format(np, op), 1e-6)
        end
      end
    end
  end)

  it("test_reduction_errors: an axis out of range", function()
    local x = da.ones({ 5, 5 }, { chunks = { 3, 3 } })
    assert.has_error(function() x:sum { axis = 3 } end)
    assert.has_error(function() x:sum { axis = -3 } end)
  end)

  it("test_arg_reductions: flat, each axis, split_every = 2, keepdims, errors, 1-d, 0-d", function()
    local x, np, path = random_nd({ 10, 10, 10 })
    local a = da.from_array(x, { chunks = { 3, 4, 5 } })
    for _, op in ipairs { "argmin", "argmax" } do
      same_as_numpy(a[op](a), ("%s.%s() + 1"):format(np, op))
      for axis = 1, 3 do
        same_as_numpy(a[op](a, { axis = axis }), ("%s.%s(axis=%d) + 1"):format(np, op, axis - 1))
        same_as_numpy(a[op](a, { axis = axis, split_every = 2 }), ("%s.%s(axis=%d) + 1"):format(np, op, axis - 1))
        same_as_numpy(a[op](a, { axis = axis, keepdims = true }), ("%s.%s(axis=%d, keepdims=True) + 1"):format(np, op, axis - 1))
      end
      same_as_numpy(a[op](a, { split_every = 2 }), ("%s.%s() + 1"):format(np, op))
      assert.has_error(function() a[op](a, { axis = 4 }) end)
      assert.has_error(function() a[op](a, { axis = { 1, 2 } }) end)
      local a2 = da.arange(10, { chunks = 3 })
      assert.are.equal(("argmin" == op) and 1 or 10, a2[op](a2):compute():item())
      assert.are.equal(("argmin" == op) and 1 or 10, a2[op](a2, { axis = 1, split_every = 2 }):compute():item())
      local a3 = da.from_array(nd.asarray(1))
      assert.are.equal(1, a3[op](a3):compute():item()) -- numpy: 0; lask counts from 1
    end
    os.remove(path)
  end)

  it("test_min_max_empty_chunks: blocks of size 0 are skipped; all empty fails", function()
    for _, op in ipairs { "min", "max" } do
      local a2 = da.from_array(nd.asarray({ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }), { chunks = { { 5, 0, 5 } } })
      assert.are.equal(op == "min" and 0 or 9, a2[op](a2):compute():item())
      local a1 = da.arange(10, { chunks = 1 }):slice({ 1, 2 }) -- a1[a1 < 2]: a selection by slicing
      assert.are.equal(op == "min" and 0 or 1, a1[op](a1):compute():item())
      local a4 = da.arange(10, { chunks = 3 }):slice({ 5, 4 }) -- nothing selected
      assert.has_error(function() a4[op](a4):compute() end)
    end
  end)

  it("test_reductions_with_negative_axes", function()
    local x, np, path = random_nd({ 4, 4, 4 })
    local a = da.from_array(x, { chunks = 2 })
    same_as_numpy(a:argmin { axis = -1 }, np .. ".argmin(axis=-1) + 1")
    same_as_numpy(a:argmin { axis = -1, split_every = 2 }, np .. ".argmin(axis=-1) + 1")
    same_as_numpy(a:sum { axis = -1 }, np .. ".sum(axis=-1)")
    same_as_numpy(a:sum { axis = { 1, -1 } }, np .. ".sum(axis=(0, -1))")
    os.remove(path)
  end)

  it("test_moment: a poorly conditioned variance (order 2)", function()
    local t = {}
    for i = 1, 3 do
      t[i] = {}
      for j = 1, 10 do t[i][j] = (((i - 1) * 10 + j - 1) % 3 + 1) + 1e8 end
    end
    local a = da.from_array(nd.asarray(t), { chunks = 5 })
    -- numpy: np.array([1., 2., 3.] * 10).reshape((3, 10)) + 1e8, its var
    local want = H.numpy("(np.array([1., 2., 3.] * 10).reshape((3, 10)) + 1e8).var()").flat[1]
    assert.is_true(math.abs(a:var():compute():item() - want) < 1e-6)
  end)

  it("test_reductions_with_empty_array: means of (10, 0, 5) and (0, 0, 0)", function()
    for _, shape in ipairs { { 10, 0, 5 }, { 0, 0, 0 } } do
      local dx = da.ones(shape, { chunks = 4 })
      local npx = ("np.ones((%d, %d, %d))"):format(shape[1], shape[2], shape[3])
      same_as_numpy(dx:mean(), npx .. ".mean()")
      for axis = 1, 3 do same_as_numpy(dx:mean { axis = axis }, ("%s.mean(axis=%d)"):format(npx, axis - 1)) end
    end
  end)

  it("test_chunk_structure_independence: the same sums whatever the chunks and fan-in", function()
    local want = H.numpy("np.arange(16 * 24 * 24).reshape(24, 24, 16).sum(axis=(0, 2))")
    for _, chunks in ipairs { { { 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1 }, 3, 6 }, { 6, { 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1 }, 3 } } do
      for _, se in ipairs { 2, 4 } do
        local x = da.arange(16 * 24 * 24, { chunks = 1000 }):reshape { 24, 24, 16 }:rechunk(chunks)
        same_as_numpy(x:sum { axis = { 1, 3 }, split_every = se }, "np.arange(16 * 24 * 24).reshape(24, 24, 16).sum(axis=(0, 2))")
        assert.are.equal("int64", x:sum().dtype)
      end
    end
    assert.are.equal(24, #want.flat)
  end)
end)

describe("ports of dask/array/tests/test_creation.py", function()
  it("test_arange: integer ranges are int64, negative steps, 0 size, dtype", function()
    for _, c in ipairs {
      { { 77, { chunks = 13 } }, "np.arange(77)" },
      { { 2, 13, { chunks = 5 } }, "np.arange(2, 13)" },
      { { 4, 21, 9, { chunks = 13 } }, "np.arange(4, 21, 9)" },
      { { 53, 5, -3, { chunks = 5 } }, "np.arange(53, 5, -3)" },
      { { 77, { chunks = 13, dtype = "float64" } }, "np.arange(77, dtype=float)" },
      { { 0, 1, -0.5, { chunks = 20 } }, "np.arange(0, 1, -0.5)" },
      { { 0, -1, 0.5, { chunks = 20 } }, "np.arange(0, -1, 0.5)" },
    } do
      local x = da.arange(table.unpack(c[1]))
      local want = H.numpy(c[2])
      assert.are.equal(want.dtype, x.dtype, c[2])
      assert.are.equal(want.dtype, x:compute().dtype, c[2])
      same_as_numpy(x, c[2])
    end
    assert.are.equal(da.arange(2, 13, { chunks = 5 }).name, da.arange(2, 13, { chunks = 5 }).name)
  end)

  it("test_arange_dtype_infer: int64 only when start, stop and step are all integers", function()
    assert.are.equal("int64", da.arange(1, 10, 2).dtype)
    assert.are.equal("float64", da.arange(1.0, 10, 2).dtype)
    assert.are.equal("float64", da.arange(1, 10.0, 2).dtype)
    assert.are.equal("float64", da.arange(1, 10, 2.0).dtype)
  end)

  it("test_linspace: num defaults to 50; endpoint; num; dtype; 0 elements", function()
    for _, endpoint in ipairs { true, false } do
      local py = endpoint and "True" or "False"
      same_as_numpy(da.linspace(6, 49, { endpoint = endpoint, chunks = 5 }), ("np.linspace(6, 49, endpoint=%s)"):format(py))
      same_as_numpy(da.linspace(1.4, 4.9, 13, { endpoint = endpoint, chunks = 5 }),
        ("np.linspace(1.4, 4.9, endpoint=%s, num=13)"):format(py), 1e-14)
      same_as_numpy(da.linspace(1.4, 4.9, 13, { endpoint = endpoint, chunks = 5, dtype = "int64" }),
        ("np.linspace(1.4, 4.9, num=13, endpoint=%s, dtype=int)"):format(py))
      same_as_numpy(da.linspace(0, 0, 0, { endpoint = endpoint }), ("np.linspace(0, 0, 0, endpoint=%s)"):format(py))
      same_as_numpy(da.linspace(1, 1, 0, { endpoint = endpoint }), ("np.linspace(1, 1, 0, endpoint=%s)"):format(py))
    end
    -- issue 15: without num, the options table is not taken for it
    local x = da.linspace(0, 1, { chunks = 5 })
    assert.are.same({ 50 }, x.shape)
    assert.are.same({ 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 }, x.chunks[1])
    same_as_numpy(x, "np.linspace(0, 1)")
  end)
end)

describe("ports of dask/array/tests/test_array_core.py", function()
  it("test_dot_method / test_matmul with int64 and transposes (issue 15, defect 1)", function()
    local x = nd.asarray({ { 1, 2, 3 }, { 4, 5, 6 } })
    local a = da.from_array(x, { chunks = 1 })
    local np = "np.array([[1, 2, 3], [4, 5, 6]])"
    same_as_numpy(a:dot(a.T), np .. ".dot(" .. np .. ".T)")
    same_as_numpy(a.T:dot(a), np .. ".T.dot(" .. np .. ")")
    same_as_numpy(da.dot(a.T, a:astype("float32")), np .. ".T.dot(" .. np .. ".astype('float32'))", 1e-6)
  end)

  it("test_elemwise_consistent_names and 0-d operands are arrays (numpy 2)", function()
    local a = da.from_array(nd.asarray({ 1.0, 2.0 }):astype("float32"))
    assert.are.equal((a + 1).name, (a + 1).name)
    assert.are.equal("float32", (a + 1.5).dtype)                             -- a Lua number is weak
    assert.are.equal("float64", (a + da.from_array(nd.asarray(1.5))).dtype)  -- a 0-d float64 array is not
  end)
end)

describe("ports of dask/array/tests/test_linalg.py", function()
  it("test_tsqr_zero_height_chunks", function()
    local mat, np, path = random_nd({ 10, 5 })
    local x = da.from_array(mat, { chunks = { { 4, 0, 1, 0, 5 }, { 5 } } })
    local q, r = la.qr(x)
    assert.are.same({ 10, 5 }, q.shape)
    assert.are.same({ 5, 5 }, r.shape)
    same_as_numpy(da.dot(q, r), np, 1e-12)
    same_as_numpy(da.dot(q.T, q), "np.eye(5)", 1e-12)
    local rr = r:compute()
    for i = 2, 5 do for j = 1, i - 1 do assert.are.equal(0, rr:get(i, j)) end end
    os.remove(path)
  end)

  it("test_svd_dtype_preservation, test_svd_compressed_dtype_preservation, qr and tsqr", function()
    for _, dt in ipairs { "float32", "float64" } do
      local x = da.random.random({ 50, 50 }, { chunks = { 10, 50 }, seed = seed }):astype(dt)
      local u, s, v = la.svd(x)
      assert.are.same({ dt, dt, dt }, { u.dtype, s.dtype, v.dtype })
      assert.are.same({ dt, dt, dt }, { u:compute().dtype, s:compute().dtype, v:compute().dtype })
      local uc, sc, vc = la.svd_compressed(x, 10, { seed = 4 })
      assert.are.same({ dt, dt, dt }, { uc.dtype, sc.dtype, vc.dtype })
      assert.are.same({ dt, dt, dt }, { uc:compute().dtype, sc:compute().dtype, vc:compute().dtype })
      for _, f in ipairs { "qr", "tsqr" } do
        local q, r = la[f](x)
        assert.are.same({ dt, dt }, { q.dtype, r.dtype })
        assert.are.same({ dt, dt }, { q:compute().dtype, r:compute().dtype })
      end
    end
  end)

  it("test_lstsq: x, residuals of shape (1,), rank and s as numpy's; a rank-deficient a", function()
    math.randomseed(seed)
    local A, b = {}, {}
    for i = 1, 20 do
      A[i] = {}
      for j = 1, 10 do A[i][j] = math.random(1, 19) end
      b[i] = math.random(1, 19)
    end
    local function lit(t)
      local rows = {}
      for i, r in ipairs(t) do rows[i] = type(r) == "table" and "[" .. table.concat(r, ", ") .. "]" or tostring(r) end
      return "np.array([" .. table.concat(rows, ", ") .. "])"
    end
    local dA, db = da.from_array(nd.asarray(A), { chunks = { 5, 10 } }), da.from_array(nd.asarray(b), { chunks = 5 })
    local dx, dr, drank, ds = la.lstsq(dA, db)
    local np = ("np.linalg.lstsq(%s, %s, rcond=-1)"):format(lit(A), lit(b))
    same_as_numpy(dx, np .. "[0]", 1e-9)
    same_as_numpy(dr, np .. "[1]", 1e-9)
    assert.are.equal(H.numpy(np .. "[2]").flat[1], drank:compute():item())
    same_as_numpy(ds, np .. "[3]", 1e-9)
    for i = 1, 20 do A[i][2] = A[i][3] end -- multicollinear: only the rank is compared
    local _, _, rank2 = la.lstsq(da.from_array(nd.asarray(A), { chunks = { 5, 10 } }), db)
    assert.are.equal(9, rank2:compute():item())
  end)

  it("test_norm_1dim: ord 0, 2, -2, 0.5, with and without keepdims; float32 kept (test_norm_any_prec)", function()
    local x, np, path = random_nd({ 5 })
    local d = da.from_array(x, { chunks = 2 })
    for _, ord in ipairs { 0, 2, -2, 0.5 } do
      same_as_numpy(la.norm(d, ord), ("np.linalg.norm(%s, ord=%s)"):format(np, ord), 1e-12)
      same_as_numpy(la.norm(d, ord, { keepdims = true }), ("np.linalg.norm(%s, ord=%s, keepdims=True)"):format(np, ord), 1e-12)
      same_as_numpy(la.norm(d, ord, { axis = 1 }), ("np.linalg.norm(%s, ord=%s, axis=0)"):format(np, ord), 1e-12)
      local f = d:astype("float32")
      assert.are.equal("float32", la.norm(f, ord).dtype)
      assert.are.equal("float32", la.norm(f, ord):compute().dtype)
    end
    assert.are.equal(2, la.norm(da.from_array(nd.asarray({ 1.0, 0, 2, 0 })), 0):compute():item())
    os.remove(path)
  end)

  it("test_norm_2dim: fro, nuc, 2, -2 over no axis and both orders of the axes, keepdims; float32 kept", function()
    local x, np, path = random_nd({ 5, 6 })
    local d = da.from_array(x, { chunks = 2 })
    for _, ord in ipairs { "fro", "nuc", 2, -2 } do
      local pyord = type(ord) == "string" and ("'" .. ord .. "'") or tostring(ord)
      same_as_numpy(la.norm(d, ord), ("np.linalg.norm(%s, ord=%s)"):format(np, pyord), 1e-10)
      same_as_numpy(la.norm(d, ord, { axis = { 1, 2 } }), ("np.linalg.norm(%s, ord=%s, axis=(0, 1))"):format(np, pyord), 1e-10)
      same_as_numpy(la.norm(d, ord, { axis = { 2, 1 } }), ("np.linalg.norm(%s, ord=%s, axis=(1, 0))"):format(np, pyord), 1e-10)
      same_as_numpy(la.norm(d, ord, { keepdims = true }), ("np.linalg.norm(%s, ord=%s, keepdims=True)"):format(np, pyord), 1e-10)
      local n32 = la.norm(d:astype("float32"), ord)
      assert.are.equal("float32", n32.dtype)
      assert.are.equal("float32", n32:compute().dtype)
    end
    os.remove(path)
  end)
end)
