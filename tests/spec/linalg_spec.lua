-- lask.array.linalg against its definitions and against LAPACK on the whole matrix
-- (numpy, /usr/bin/python3). Tolerances: LAPACK's backward-stable algorithms give
-- errors of a small multiple of machine epsilon (2.2e-16) times the dimension; the
-- bounds below allow 50·(m+n)·eps relative, which a wrong algorithm misses by many
-- orders of magnitude while rounding never reaches it.
local lask = require "lask"
local da = require "lask.array"
local la = require "lask.array.linalg"
local K = require("lask.core").array_kernels

local EPS = 2.220446049250313e-16
local PY = "/usr/bin/python3"

local function tmp(name) return os.tmpname() .. "-" .. name .. ".npy" end

-- Runs numpy code (np imported); returns what it prints.
local function numpy(code)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("import numpy as np\n", code)
  f:close()
  local p = io.popen(PY .. " " .. script .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(script)
  return out
end

local function numbers(text)
  local t = {}
  for v in text:gmatch("[-+%w%.]+") do
    local n = tonumber(v)
    if n then t[#t + 1] = n end
  end
  return t
end

-- A random m×n matrix with the given singular values (numpy), saved and loaded back.
local function matrix_with_spectrum(m, n, spectrum_expr, seed)
  local path = tmp("spec")
  numpy(([[
rng = np.random.default_rng(%d)
u, _ = np.linalg.qr(rng.standard_normal((%d, %d)))
v, _ = np.linalg.qr(rng.standard_normal((%d, %d)))
j = np.arange(1, %d + 1)
s = %s
np.save(%q, (u * s) @ v.T)
]]):format(seed, m, n, n, n, n, spectrum_expr, path))
  return da.load(path), path
end

local function mat(a) -- an ndarray as rows of numbers
  return a:totable()
end

local function maxabs_diff(a, b)
  local worst = 0
  for i = 1, #a do
    for j = 1, #a[i] do worst = math.max(worst, math.abs(a[i][j] - b[i][j])) end
  end
  return worst
end

local function fro(a)
  local s = 0
  for i = 1, #a do for j = 1, #a[i] do s = s + a[i][j] ^ 2 end end
  return math.sqrt(s)
end

local function matmul(a, b) return K.matmul(a, b) end
local function T(a) return K.transpose(a, { 1, 0 }) end

local function identity(n)
  local t = {}
  for i = 1, n do
    t[i] = {}
    for j = 1, n do t[i][j] = i == j and 1 or 0 end
  end
  return t
end

describe("la.tsqr", function()
  local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
  print(("# linalg_spec seed %d (set LASK_SEED to replay)"):format(seed))

  for _, case in ipairs {
    { "uneven row blocks", { 1000, 20 }, { { 137, 300, 263, 300 }, { 20 } } },
    { "blocks in both dimensions (rechunked)", { 600, 30 }, { 150, 10 } },
    { "row blocks shorter than the width (merged)", { 300, 40 }, { 25, 40 } },
    { "one block", { 50, 50 }, { 50, 50 } },
    { "more blocks than a stage-2 group (70: the reduction recurses)", { 350, 3 }, { 5, 3 } },
  } do
    it("factors " .. case[1] .. " into an orthonormal Q and an upper R", function()
      local x = da.random.normal(case[2], { chunks = case[3], seed = seed })
      local q, r = la.tsqr(x)
      local Q, R, X = lask.compute(q, r, x)
      local m, n = case[2][1], case[2][2]
      assert.are.same({ m, n }, { Q.shape[1], Q.shape[2] })
      assert.are.same({ n, n }, { R.shape[1], R.shape[2] })
      local Rt = mat(R)
      for i = 1, n do for j = 1, i - 1 do assert.are.equal(0, Rt[i][j]) end end
      local tol = 50 * (m + n) * EPS
      assert.is_true(maxabs_diff(mat(matmul(T(Q), Q)), identity(n)) < tol, "QᵀQ = I")
      local res = fro(mat(K.sub(matmul(Q, R), X))) / fro(mat(X))
      assert.is_true(res < tol, "‖A − QR‖/‖A‖ = " .. res)
    end)
  end

  it("stays orthogonal and exact on an ill-conditioned matrix (κ = 1e12)", function()
    local a, path = matrix_with_spectrum(2000, 40, "np.logspace(0, -12, 40)", seed)
    local x = da.from_array(a, { chunks = { 300, 40 } })
    local Q, R = lask.compute(la.tsqr(x))
    local tol = 50 * 2040 * EPS
    assert.is_true(maxabs_diff(mat(matmul(T(Q), Q)), identity(40)) < tol)
    assert.is_true(fro(mat(K.sub(matmul(Q, R), a))) / fro(mat(a)) < tol)
    os.remove(path)
  end)

  it("reports a wide matrix and a NaN clearly", function()
    assert.has_error(function() la.tsqr(da.ones({ 10, 20 }, { chunks = 10 })) end,
      "lask.array.linalg: tsqr: TSQR needs a tall matrix (rows >= columns), got shape (10, 20)")
    local bad = da.from_array(da.asarray { { 1, 0 }, { 0 / 0, 1 }, { 1, 1 } })
    local ok, err = pcall(lask.compute, la.tsqr(bad))
    assert.is_false(ok)
    assert.matches("NaN or Inf", tostring(err))
  end)
end)

describe("la.svd", function()
  it("runs the seed talk's example and shows the CholeskyQR2 graph (TSQR: rank 1)", function()
    local x = da.ones({ 5000, 1000 }, { chunks = { 1000, 1000 } })
    local u, s, v = la.svd(x)
    local text = lask.tostring(s.dask)
    for _, part in ipairs { "gram", "cholqr_r1", "cholqr_step", "cholqr_top", "cholqr_house", "cholqr_merge", "svd", "item" } do
      assert.matches(part, text, 1, true)
    end
    assert.not_matches("cholqr_u", text) -- s needs no U
    assert.not_matches("cholqr_w", text)
    local S = s:compute()
    assert.is_true(math.abs(S:get(1) - math.sqrt(5000 * 1000)) < 1e-8 * S:get(1))
    assert.is_true(S:get(2) < 1e-6)
    assert.are.same({ 5000, 1000 }, u.shape)
    assert.are.same({ 1000, 1000 }, v.shape)
  end)

  it("gives LAPACK's singular values of the whole matrix and reconstructs it", function()
    local a, path = matrix_with_spectrum(1500, 60, "1.0 / j", 7)
    local x = da.from_array(a, { chunks = { 250, 60 } })
    local U, S, V = lask.compute(la.svd(x))
    local ref = numbers(numpy(("print(*np.linalg.svd(np.load(%q), compute_uv=False))"):format(path)))
    assert.are.equal(60, #ref)
    for i = 1, 60 do
      assert.is_true(math.abs(S:get(i) - ref[i]) < 1e-12 * ref[1], ("s[%d] %g vs %g"):format(i, S:get(i), ref[i]))
    end
    local us = mat(U)
    for i = 1, #us do for j = 1, 60 do us[i][j] = us[i][j] * S:get(j) end end
    local rec = K.matmul(da.asarray(us), V)
    assert.is_true(fro(mat(K.sub(rec, a))) / fro(mat(a)) < 50 * 1560 * EPS)
    os.remove(path)
  end)

  it("reconstructs x through a tree of stage-2 groups (10 blocks: two groups; 150: three levels)", function()
    for _, c in ipairs { { 400, 12, 40 }, { 600, 4, 4 } } do
      local m, n, rows = c[1], c[2], c[3]
      local x = da.random.normal({ m, n }, { chunks = { rows, n }, seed = 21 })
      local u, s, v = la.svd(x)
      local U, S, V, X = lask.compute(u, s, v, x)
      local us = mat(U)
      for i = 1, m do for j = 1, n do us[i][j] = us[i][j] * S:get(j) end end
      local tol = 50 * (m + n) * EPS
      assert.is_true(fro(mat(K.sub(K.matmul(da.asarray(us), V), X))) / fro(mat(X)) < tol)
      assert.is_true(maxabs_diff(mat(matmul(T(U), U)), identity(n)) < tol, "UᵀU = I")
    end
  end)

  it("handles short-and-fat input through the transpose", function()
    local x = da.random.random({ 30, 400 }, { chunks = { 30, 100 }, seed = 3 })
    local u, s, v = la.svd(x)
    local U, S, V, X = lask.compute(u, s, v, x)
    assert.are.same({ 30, 30 }, U.shape)
    assert.are.same({ 30, 400 }, V.shape)
    local us = mat(U)
    for i = 1, 30 do for j = 1, 30 do us[i][j] = us[i][j] * S:get(j) end end
    assert.is_true(fro(mat(K.sub(K.matmul(da.asarray(us), V), X))) / fro(mat(X)) < 1e-13)
  end)

  it("gives identical results with 1 and 2 workers", function()
    local x = da.random.normal({ 3000, 50 }, { chunks = { 500, 50 }, seed = 11 })
    local u1, s1, v1 = la.svd(x)
    local a = { lask.compute(u1, s1, v1, { num_workers = 1 }) }
    local b = { lask.compute(u1, s1, v1, { num_workers = 2 }) }
    for i = 1, 3 do assert.are.same(a[i]:totable(), b[i]:totable()) end
  end)
end)

describe("la.svd through CholeskyQR2, TSQR when it would lose accuracy", function()
  -- CholeskyQR2 from this many columns (128 by default)
  local knob = require "lask.array.linalg_extras"
  local saved
  before_each(function() saved, knob.cholqr_min_cols = knob.cholqr_min_cols, 1 end)
  after_each(function() knob.cholqr_min_cols = saved end)

  -- Which way x's SVD went: the value of the graph's top task (nil: TSQR).
  local function path_of(u)
    for k in pairs(u.dask) do
      if tostring(k):find("-top'", 1, true) then return lask.get(u.dask, k) and "cholqr2" or "tsqr" end
    end
    return "none"
  end

  -- m×n, normal(0, 1) columns scaled by 1 .. 1/cond (cond 0: the last column zero;
  -- "rank": rank n/2, a product of m×n/2 and n/2×n)
  local function input(m, n, cond, chunks, seed)
    local x = da.random.normal(0, 1, { m, n }, { chunks = { chunks, n }, seed = seed })
    if cond == "rank" then
      local h = n // 2
      local y = da.random.normal(0, 1, { m, h }, { chunks = { chunks, h }, seed = seed + 1 })
      local z = da.random.normal(0, 1, { h, n }, { chunks = { h, n }, seed = seed + 2 })
      return y:dot(z):rechunk { chunks, n }
    elseif cond == 0 then
      return x * da.concatenate { da.ones(n - 1), da.zeros(1) }
    elseif cond == "huge" then -- xᵀx overflows
      return x * 1e160
    end
    return x * (10 ^ (da.arange(n) * (-math.log(cond, 10) / (n - 1))))
  end

  -- U orthonormal, V orthogonal, U S V = X within tol·‖X‖, S = LAPACK's on the whole X.
  local function check(U, S, V, X, what)
    local m, n = X.shape[1], X.shape[2]
    local x64 = X.dtype == "float64" and X or X:astype("float64")
    local ref = K.svd(x64)[2]
    local eps = U.dtype == "float32" and 1.1920929e-07 or EPS
    local tol = 20 * (m + n) * eps
    for i = 1, n do
      assert.is_true(math.abs(S:get(i) - ref:get(i)) <= tol * ref:get(1), ("%s: s[%d] %g vs %g"):format(what, i, S:get(i), ref:get(i)))
    end
    local U64, V64 = U:astype("float64"), V:astype("float64")
    local us = mat(U64)
    for i = 1, m do for j = 1, n do us[i][j] = us[i][j] * S:get(j) end end
    local err = maxabs_diff(mat(K.matmul(da.asarray(us), V64)), mat(x64))
    assert.is_true(err <= tol * ref:get(1), ("%s: |U S V - X| = %g"):format(what, err))
    -- a zero singular value's vectors are any orthonormal completion: still orthonormal
    assert.is_true(maxabs_diff(mat(matmul(T(U64), U64)), identity(n)) <= tol, what .. ": UᵀU = I")
    assert.is_true(maxabs_diff(mat(matmul(V64, T(V64))), identity(n)) <= tol, what .. ": V Vᵀ = I")
  end

  it("takes CholeskyQR2 when x is well-conditioned, TSQR otherwise; accurate either way", function()
    for _, c in ipairs {
      { 1e2, "cholqr2" }, { 1e5, "cholqr2" }, { 1e8, "tsqr" }, { 1e12, "tsqr" }, { "rank", "tsqr" }, { 0, "tsqr" },
      { "huge", "tsqr" },
    } do
      local x = input(90, 12, c[1], { 30, 25, 35 }, 5):persist()
      local u, s, v = la.svd(x)
      assert.are.equal(c[2], path_of(u), "cond " .. tostring(c[1]))
      local U, S, V, X = lask.compute(u, s, v, x)
      check(U, S, V, X, "cond " .. tostring(c[1]))
    end
  end)

  it("every dtype, uneven and short blocks, every scheduler", function()
    for _, dt in ipairs { "float64", "float32", "int64", "bool" } do
      for _, sched in ipairs { "sync", "threaded", "multiprocessing" } do
        local what = dt .. " " .. sched
        local x = input(70, 9, 1e3, { 5, 30, 20, 15 }, 8) -- a block shorter than n: merged with the next
        if dt == "int64" then x = (x * 4):astype("int64")
        elseif dt == "bool" then x = da.greater(x, 0) end
        if dt ~= "float64" and dt ~= "bool" then x = x:astype(dt) end
        x = x:persist()
        local u, s, v = la.svd(x)
        assert.are.equal(dt == "float32" and "float32" or "float64", u.dtype, what)
        local U, S, V, X = lask.compute(u, s, v, x, { scheduler = sched })
        assert.are.equal("35,20,15", table.concat(u.chunks[1], ","), what) -- the 5-row block merged with the next
        check(U, S, V, X, what)
      end
    end
  end)

  it("is the default from 128 columns, and gives the same as TSQR", function()
    knob.cholqr_min_cols = saved
    local x = input(400, 128, 1e3, 200, 12):persist()
    local u, s, v = la.svd(x)
    assert.are.equal("cholqr2", path_of(u))
    local U, S, V, X = lask.compute(u, s, v, x)
    check(U, S, V, X, "128 columns")
    knob.cholqr_min_cols = 1000
    local u2, s2 = la.svd(x)
    assert.are.equal("none", path_of(u2))
    local S2 = s2:compute()
    for i = 1, 128 do assert.is_true(math.abs(S:get(i) - S2:get(i)) <= 1e-12 * S:get(1)) end
  end)

  it("its kernels hand over to TSQR: a singular Gram matrix, Q1 far from orthonormal", function()
    local nd = require("lask.core").ndarray
    local function m2(t) return nd.asarray(t, "float64") end
    -- xᵀx of x = [[3, 0], [4, 5]]: R1 = [[5, 4], [0, 3]]
    local g = K.gram(m2 { { 3, 0 }, { 4, 5 } })
    assert.are.same({ { 25, 20 }, { 0, 25 } }, g:totable()) -- the upper triangle
    local r1 = K.cholqr_r1({ g })
    assert.are.same({ { 5, 4 }, { 0, 3 } }, r1:totable())
    assert.is_nil(K.cholqr_r1({ K.gram(m2 { { 1, 1 }, { 2, 2 } }) })) -- rank 1
    assert.is_nil(K.cholqr_r1({ K.gram(m2 { { 1, 0 }, { 0, 1e-9 } }) })) -- condition 1e9
    assert.is_nil(K.cholqr_step(m2 { { 1, 0 } }, nil))
    local id = m2 { { 1, 0 }, { 0, 1 } }
    local top = K.cholqr_top({ { id, id } }, r1) -- Q1ᵀQ1 = I: R = R1
    assert.are.same(r1:totable(), top[1]:totable())
    assert.is_nil(K.cholqr_top({ { id, m2 { { 1.2, 0.4 }, { 0, 1.1 } } } }, r1)) -- ‖Q1ᵀQ1 − I‖_F = 0.61
    assert.is_not_nil(K.cholqr_top({ { id, m2 { { 1.2, 0.1 }, { 0, 1.1 } } } }, r1))
    assert.is_nil(K.cholqr_top({ { id, id } }, nil))
    -- top nil: the houses factor their blocks, the merge stacks their R factors
    local a = m2 { { 3, 0 }, { 4, 5 } }
    assert.is_nil(K.cholqr_house(a, top))
    local h = K.cholqr_house(a, nil)
    local merged = K.cholqr_merge({ h, h }, nil)
    assert.is_nil(merged[2])
    assert.is_true(math.abs(math.abs(merged[1]:get(1, 1)) - math.sqrt(50)) < 1e-12) -- ‖[a; a] e1‖
  end)

  it("works through a block in panels of rows (BLAS calls of about 2^29 flops)", function()
    -- 256 columns: panels of 4096 rows; blocks of 4500 and 4000 rows, float64 and float32
    for _, dt in ipairs { "float64", "float32" } do
      local x = input(8500, 256, 1e3, { 4500, 4000 }, 14):astype(dt):persist()
      local u, s, v = la.svd(x)
      assert.are.equal("cholqr2", path_of(u))
      local tol = (dt == "float32" and 1.1920929e-07 or EPS) * 20 * 8756
      local S = s:compute()
      local ref = K.svd(x:compute():astype("float64"))[2]
      for i = 1, 256 do assert.is_true(math.abs(S:get(i) - ref:get(i)) <= tol * ref:get(1), dt .. " s " .. i) end
      local rec = da.absolute(u:dot(da.diag(s)):dot(v) - x):max():compute():item()
      assert.is_true(rec <= tol * ref:get(1), dt .. " reconstruction " .. rec)
      local orth = da.absolute(u.T:dot(u) - da.eye(256)):max():compute():item()
      assert.is_true(orth <= tol, dt .. " UᵀU " .. orth)
    end
  end)

  it("reports NaN in the input as TSQR does", function()
    local x = da.from_array({ { 1.0, 2 }, { 0 / 0, 1 }, { 3, 4 } }, { chunks = { 3, 2 } })
    assert.has_error(function() lask.compute(la.svd(x)) end)
    local ok, err = pcall(lask.compute, (la.svd(x)))
    assert.is_false(ok)
    assert.matches("NaN or Inf", tostring(err))
  end)
end)

describe("la.svd_compressed", function()
  for _, case in ipairs {
    { "exponential decay", "np.exp(-j / 5.0)", 1e-6 },
    { "1/j decay", "1.0 / j", 0.05 },
    { "rank 10 plus noise", "np.where(j <= 10, 10.0, 1e-6)", 1e-6 },
  } do
    it("meets the Halko–Martinsson–Tropp expectations on " .. case[1], function()
      local a, path = matrix_with_spectrum(3000, 200, case[2], 5)
      local x = da.from_array(a, { chunks = { 500, 200 } })
      local ref = numbers(numpy(("print(*np.linalg.svd(np.load(%q), compute_uv=False)[:10])"):format(path)))
      local u, s, v = la.svd_compressed(x, 10, { n_power_iter = 2, seed = 42 })
      local S = s:compute()
      for i = 1, 10 do
        -- never above the true value (a projection cannot add energy) ...
        assert.is_true(S:get(i) <= ref[i] * (1 + 1e-10), ("s[%d] %g > %g"):format(i, S:get(i), ref[i]))
        -- ... and close to it with 2 power iterations (tolerance by spectrum)
        assert.is_true((ref[i] - S:get(i)) / ref[1] < case[3], ("s[%d] %g vs %g"):format(i, S:get(i), ref[i]))
      end
      local S2 = select(2, la.svd_compressed(x, 10, { n_power_iter = 2, seed = 42 })):compute()
      assert.are.same(S:totable(), S2:totable()) -- reproducible with the seed
      local Sq = select(2, la.svd_compressed(x, 10, { n_power_iter = 2, seed = 42, iterator = "QR" })):compute()
      assert.is_true(math.abs(Sq:get(1) - ref[1]) / ref[1] < 1e-6)
      os.remove(path)
    end)
  end

  it("runs the talk's example: ones 5000x1000 in blocks of 1000, k = 100, 2 power iterations", function()
    local x = da.ones({ 5000, 1000 }, { chunks = { 1000, 1000 } })
    local u, s, v = la.svd_compressed(x, 100, { n_power_iter = 2 })
    local U, S, V = lask.compute(u, s, v)
    assert.are.same({ 5000, 100 }, U.shape)
    assert.are.same({ 100 }, S.shape)
    assert.are.same({ 100, 1000 }, V.shape)
    -- rank one: sqrt(5000 * 1000), then nothing (rounding of sums of 5000 ones)
    assert.is_true(math.abs(S:get(1) - math.sqrt(5e6)) < 1e-9 * math.sqrt(5e6))
    for i = 2, 100 do assert.is_true(S:get(i) < 1e-9, ("s[%d] = %g"):format(i, S:get(i))) end
    assert.is_true(math.abs(math.abs(U:get(1, 1)) - 1 / math.sqrt(5000)) < 1e-12)
    assert.is_true(math.abs(math.abs(V:get(1, 1000)) - 1 / math.sqrt(1000)) < 1e-12)
  end)

  it("recovers an exactly low-rank short-and-fat matrix in blocks both ways", function()
    -- x = a·b has rank 5; 5 + 10 oversamples capture its range up to rounding, so
    -- u·diag(s)·v gives x back and s is la.svd's (tolerance: 50·(m+n)·eps relative)
    local a = da.random.normal({ 60, 5 }, { chunks = { 20, 5 }, seed = 4 })
    local b = da.random.normal({ 5, 400 }, { chunks = { 5, 100 }, seed = 5 })
    local x = da.dot(a, b):rechunk { 20, 100 }
    local u, s, v = la.svd_compressed(x, 5, { n_power_iter = 1, seed = 7 })
    local U, S, V, X = lask.compute(u, s, v, x)
    assert.are.same({ 60, 5 }, U.shape)
    assert.are.same({ 5, 400 }, V.shape)
    local us = mat(U)
    for i = 1, 60 do for j = 1, 5 do us[i][j] = us[i][j] * S:get(j) end end
    local tol = 50 * 460 * EPS
    assert.is_true(fro(mat(K.sub(K.matmul(da.asarray(us), V), X))) / fro(mat(X)) < tol)
    local exact = select(2, la.svd(x)):compute()
    for i = 1, 5 do assert.is_true(math.abs(S:get(i) - exact:get(i)) < tol * exact:get(1)) end
  end)

  it("is exact when the sketch spans x: one block, short blocks, k = n, tiny, both iterators", function()
    -- with k + n_oversamples >= the smaller side, q spans all of x and s is la.svd's
    -- (tolerance 50·(m+n)·eps relative to s[1])
    for _, c in ipairs {
      { 500, 60, 50, 60, 50, {} }, -- blocks shorter than the sketch: merged
      { 500, 60, 50, 30, 55, { iterator = "QR" } }, -- blocks in both directions
      { 50, 50, 50, 50, 50, {} }, -- one block, k = n
      { 60, 500, 60, 50, 50, {} }, -- short and fat
      { 7, 3, 2, 3, 2, { n_power_iter = 3 } },
      { 3000, 20, 1000, 20, 20, { n_power_iter = 0 } },
    } do
      local m, n, cm, cn, k, opts = table.unpack(c)
      opts.n_power_iter, opts.seed = opts.n_power_iter or 2, 1
      local x = da.random.normal({ m, n }, { chunks = { cm, cn }, seed = 2 })
      local u, s, v = lask.compute(la.svd_compressed(x, k, opts))
      local exact = select(2, la.svd(x)):compute()
      assert.are.same({ m, k }, u.shape)
      assert.are.same({ k, n }, v.shape)
      for i = 1, k do
        assert.is_true(math.abs(s:get(i) - exact:get(i)) < 50 * (m + n) * EPS * exact:get(1),
          ("%dx%d in %dx%d, k = %d: s[%d] %g vs %g"):format(m, n, cm, cn, k, i, s:get(i), exact:get(i)))
      end
    end
  end)

  it("gives identical results with 1 and 2 workers, for both iterators", function()
    local x = da.random.normal({ 2000, 300 }, { chunks = { 400, 300 }, seed = 12 })
    for _, it in ipairs { "power", "QR" } do
      local u, s, v = la.svd_compressed(x, 20, { n_power_iter = 2, seed = 3, iterator = it })
      local a = { lask.compute(u, s, v, { num_workers = 1 }) }
      local b = { lask.compute(u, s, v, { num_workers = 2 }) }
      for i = 1, 3 do assert.are.same(a[i]:totable(), b[i]:totable()) end
    end
  end)

  it("reports NaN in the input, and bad options", function()
    local rows = da.random.normal({ 300, 50 }, { chunks = { 100, 50 }, seed = 1 }):compute():totable()
    rows[123][7] = 0 / 0
    local _, s = la.svd_compressed(da.from_array(rows, { chunks = { 100, 50 } }), 5, { n_power_iter = 1 })
    local ok, err = pcall(function() return s:compute() end)
    assert.is_false(ok)
    assert.matches("NaN or Inf", tostring(err))
    assert.has_error(function() la.svd_compressed(da.ones({ 100, 20 }, { chunks = 50 }), 5, { n_power_iter = -1 }) end,
      "lask.array.linalg: svd_compressed: n_power_iter and n_oversamples must be integers >= 0, got -1 and 10")
  end)

  it("rejects k beyond the smaller dimension", function()
    assert.has_error(function() la.svd_compressed(da.ones({ 100, 20 }, { chunks = 50 }), 21) end,
      "lask.array.linalg: svd_compressed: k must be an integer in 1..20 (min of the shape (100, 20)), got 21")
  end)
end)

describe("square systems and least squares", function()
  local function spd(n, seed)
    local a = da.random.normal({ n, n }, { chunks = n, seed = seed }):compute()
    return K.add(K.matmul(T(a), a), K.mul(da.asarray(identity(n)), n))
  end

  it("lu gives P L U = A", function()
    local a = da.random.normal({ 40, 40 }, { chunks = 20, seed = 1 })
    local p, l, u = la.lu(a)
    local P, L, U, A = lask.compute(p, l, u, a)
    assert.is_true(maxabs_diff(mat(matmul(P, matmul(L, U))), mat(A)) < 1e-12)
  end)

  it("solve has a small residual, for general and positive definite matrices", function()
    local a = da.random.normal({ 60, 60 }, { chunks = 30, seed = 2 })
    local b = da.random.normal({ 60, 3 }, { chunks = 30, seed = 3 })
    local X, A, B = lask.compute(la.solve(a, b), a, b)
    assert.is_true(maxabs_diff(mat(matmul(A, X)), mat(B)) < 1e-10)
    local p = spd(50, 4)
    local bp = da.random.normal({ 50 }, { chunks = 50, seed = 5 })
    local xp, Bp = lask.compute(la.solve(da.from_array(p), bp, { assume_a = "pos" }), bp)
    local r = K.sub(K.matmul(p, xp), Bp):totable()
    for i = 1, 50 do assert.is_true(math.abs(r[i]) < 1e-10) end
  end)

  it("reports singular, non-square and mismatched inputs", function()
    local sing = da.asarray { { 1, 2 }, { 2, 4 } }
    local ok, err = pcall(lask.compute, la.solve(da.from_array(sing), da.from_array(da.asarray { 1, 2 })))
    assert.is_false(ok)
    assert.matches("singular", tostring(err))
    assert.has_error(function() la.inv(da.ones({ 3, 4 }, { chunks = 2 })) end,
      "lask.array.linalg: inv: expected a square matrix, got shape (3, 4)")
    assert.has_error(function() la.solve(da.ones({ 3, 3 }, { chunks = 3 }), da.ones({ 4 }, { chunks = 4 })) end,
      "lask.array.linalg: solve: b must have 3 rows (a is (3, 3)), got shape (4,)")
    ok, err = pcall(lask.compute, la.cholesky(da.from_array(da.asarray { { 1, 2 }, { 2, 1 } })))
    assert.matches("not positive definite", tostring(err))
  end)

  it("cholesky gives Uᵀ U = A (and L Lᵀ with lower = true); inv gives A A⁻¹ = I", function()
    local p = spd(30, 6)
    local U = la.cholesky(da.from_array(p)):compute()
    assert.is_true(maxabs_diff(mat(matmul(T(U), U)), mat(p)) < 1e-10)
    local L = la.cholesky(da.from_array(p), { lower = true }):compute()
    assert.is_true(maxabs_diff(mat(matmul(L, T(L))), mat(p)) < 1e-10)
    local inv = la.inv(da.from_array(p)):compute()
    assert.is_true(maxabs_diff(mat(matmul(p, inv)), identity(30)) < 1e-12)
  end)

  it("lstsq solves the normal equations, with residuals, rank and singular values", function()
    local a = da.random.normal({ 500, 8 }, { chunks = { 100, 8 }, seed = 8 })
    local b = da.random.normal({ 500 }, { chunks = 100, seed = 9 })
    local X, res, rank, s, A, B = lask.compute(la.lstsq(a, b))
    A, B = lask.compute(a, b)
    local r = K.sub(K.matmul(A, X), B)
    local grad = K.matmul(T(A), r):totable() -- Aᵀ(Ax − b) = 0 at the minimum
    for i = 1, 8 do assert.is_true(math.abs(grad[i]) < 1e-10) end
    local rss = 0
    for _, v in ipairs(r:totable()) do rss = rss + v * v end
    assert.are.same({ 1 }, res.shape) -- 1-D b: one residual, shape (1,) as numpy's
    assert.is_true(math.abs(res:get(1) - rss) < 1e-9 * rss)
    assert.are.equal(8, rank:get())
    assert.are.equal(8, s.shape[1])
  end)
end)

describe("la.norm", function()
  it("matches numpy for matrices and vectors", function()
    local path = tmp("norm")
    local x = da.random.normal({ 40, 7 }, { chunks = { 15, 4 }, seed = 12 })
    x:compute():save(path)
    local ref = numbers(numpy(([[
a = np.load(%q)
print(*[np.linalg.norm(a, o) for o in ('fro', 'nuc', 1, -1, 2, -2, np.inf, -np.inf)], np.linalg.norm(a[:, 0]), np.linalg.norm(a[:, 0], 3))
]]):format(path)))
    local ords = { "fro", "nuc", 1, -1, 2, -2, math.huge, -math.huge }
    for i, o in ipairs(ords) do
      local v = la.norm(x, o):compute()
      v = type(v) == "number" and v or v:get()
      assert.is_true(math.abs(v - ref[i]) < 1e-12 * ref[i], tostring(o))
    end
    local col = x:slice({}, { 1, 1 })
    local v2 = la.norm(col:rechunk { 40, 1 }, 2, { axis = 1 }):compute()
    assert.is_true(math.abs(v2:get(1) - ref[9]) < 1e-12 * ref[9])
    os.remove(path)
  end)

  it("takes integers as floats and a pair of axes as numpy does", function()
    local x = da.from_array({ { 1, -2, 3, 4 }, { 5, 6, -7, 8 }, { 9, 10, 11, -12 } }, { chunks = { 2, 3 } })
    local n1 = la.norm(x, 1)
    assert.are.equal("float64", n1.dtype)
    assert.are.equal(24, n1:compute():item()) -- the largest column sum of |x|
    assert.are.equal(24, la.norm(x, 1, { axis = { 1, 2 } }):compute():item())
    assert.are.equal(42, la.norm(x, 1, { axis = { 2, 1 } }):compute():item()) -- of xᵀ: the largest row sum
    assert.are.equal(42, la.norm(x, math.huge, { axis = { -2, -1 } }):compute():item())
    assert.has_error(function() la.norm(x, 1, { axis = { 1, 1 } }) end,
      "lask.array.linalg: norm: a pair of axes must be the two axes of a 2-D array, got {1, 1} for 2-D")
  end)
end)
