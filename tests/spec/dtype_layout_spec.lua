-- The dtype × layout matrix (issue 15, defect 1): every elementwise operator,
-- reduction, matrix product, slicing, concatenate, rechunk, reshape and linalg entry
-- point of lask.array, over float64, float32, int64 and bool (where the operation
-- takes them), with its operand laid out contiguous, transposed, sliced with a step,
-- as an offset view, 0-size, 0-d and with blocks of extent 0, checked against a naive Lua reference computed
-- on the logical values (a plain C-order list). Every layout's blocks are views of
-- their inputs (from_array cuts blocks as views; .T, slicing with a step and at an
-- offset make strided views), so a kernel that reads a strided or offset operand as
-- if it were contiguous gives wrong numbers here. Random values; the seed is printed
-- (LASK_SEED replays it).
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local lask, da = H.lask, H.da
local nd = require("lask.core").ndarray
local result_type = require("lask.core").arrayops.result_type
local la = require "lask.array.linalg"

local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
print(("# dtype_layout_spec seed %d (set LASK_SEED to replay)"):format(seed))
math.randomseed(seed)

local DTYPES = { "float64", "float32", "int64", "bool" }
local LAYOUTS = { "contiguous", "transposed", "stepped", "offset", "empty", "zerod", "zero_blocks" }

--------------------------------------------------------------------------------
-- The reference: {shape=, dtype=, flat=} in C order, and naive operations on it.

local function size_of(shape)
  local n = 1
  for _, e in ipairs(shape) do n = n * e end
  return n
end

-- A random value of dtype dt: floats are multiples of 1/8 (exact in float32 too).
local function rand_value(dt, lo, hi)
  lo, hi = lo or -9, hi or 9
  if dt == "bool" then return math.random() < 0.5 end
  if dt == "int64" then return math.random(lo, hi) end
  return math.random(lo * 8, hi * 8) / 8
end

local function random_ref(dt, shape, lo, hi)
  local flat = {}
  for i = 1, size_of(shape) do flat[i] = rand_value(dt, lo, hi) end
  return { shape = shape, dtype = dt, flat = flat }
end

-- Row-major position of a 0-based index list in shape.
local function pos(shape, idx)
  local p = 0
  for d = 1, #shape do p = p * shape[d] + idx[d] end
  return p + 1
end

-- Calls f(idx) for every 0-based index of shape, in C order (H.grid's walk).
local function each_index(shape, f)
  H.grid(shape, function(...)
    local idx = { ... }
    for d = 1, #idx do idx[d] = idx[d] - 1 end
    f(idx)
  end)
end

local function ref_transpose(r)
  local shape = { r.shape[2], r.shape[1] }
  local flat = {}
  each_index(shape, function(i) flat[pos(shape, i)] = r.flat[pos(r.shape, { i[2], i[1] })] end)
  return { shape = shape, dtype = r.dtype, flat = flat }
end

-- Elements lo..lo+count*step (0-based, per axis) of r.
local function ref_window(r, lo, count, step)
  local flat = {}
  each_index(count, function(i)
    local src = {}
    for d = 1, #i do src[d] = lo[d] + i[d] * step[d] end
    flat[pos(count, i)] = r.flat[pos(r.shape, src)]
  end)
  return { shape = count, dtype = r.dtype, flat = flat }
end

local function num(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  return v
end

-- v converted to dtype dt as numpy's astype does (floats to int truncate).
local function cast(v, dt)
  if dt == "bool" then return num(v) ~= 0 end
  if dt == "int64" then
    v = num(v)
    if math.type(v) == "integer" then return v end
    return math.tointeger(v >= 0 and math.floor(v) or math.ceil(v)) or math.mininteger
  end
  return num(v) + 0.0
end

local function ref_map(rs, dt, f)
  local flat = {}
  for i = 1, #rs[1].flat do
    local args = {}
    for k, r in ipairs(rs) do args[k] = r.flat[i] end
    flat[i] = f(table.unpack(args))
  end
  return { shape = rs[1].shape, dtype = dt, flat = flat }
end

--------------------------------------------------------------------------------
-- Layouts: a lazy array whose logical values are r, laid out as named.

local function ndarray_of(r)
  local vals = {}
  for i, v in ipairs(r.flat) do vals[i] = v end
  local a = nd.asarray(#vals > 0 and vals or { 0 }, r.dtype)
  if #vals == 0 then return nil end
  return a:reshape(r.shape)
end

-- Chunks of about a third of each extent (several blocks, uneven ones).
local function chunks_for(shape)
  local c = {}
  for d, e in ipairs(shape) do c[d] = math.max(1, math.ceil(e / 3)) end
  return c
end

local function contiguous(r) return da.from_array(ndarray_of(r), { chunks = chunks_for(r.shape) }) end

-- A bigger array holding r's values at positions lo + i*step (junk elsewhere).
local function embedded(r, lo, step, extra)
  local shape = {}
  for d = 1, #r.shape do shape[d] = lo[d] + (r.shape[d] - 1) * step[d] + 1 + extra end
  local big = random_ref(r.dtype, shape)
  each_index(r.shape, function(i)
    local at = {}
    for d = 1, #i do at[d] = lo[d] + i[d] * step[d] end
    big.flat[pos(shape, at)] = r.flat[pos(r.shape, i)]
  end)
  return big
end

-- layout(r, name): a lazy array with r's values (r 2-d for all but "zerod"; "empty"
-- and "zerod" make their own values: see logical()).
local function layout(r, name)
  if name == "contiguous" then return contiguous(r) end
  if name == "zero_blocks" then -- blocks of extent 0 between others, on both axes
    local c = {}
    for d, e in ipairs(r.shape) do c[d] = { e // 2, 0, e - e // 2 } end
    return da.from_array(ndarray_of(r), { chunks = c })
  end
  if name == "transposed" then return contiguous(ref_transpose(r)).T end
  if name == "stepped" then
    local big = embedded(r, { 0, 1 }, { 2, 3 }, 1)
    return contiguous(big):slice({ 1, nil, 2 }, { 2, nil, 3 }):slice({ 1, r.shape[1] }, { 1, r.shape[2] })
  end
  if name == "offset" then
    local big = embedded(r, { 2, 3 }, { 1, 1 }, 2)
    return contiguous(big):slice({ 3, 2 + r.shape[1] }, { 4, 3 + r.shape[2] })
  end
  error("layout " .. name)
end

-- The logical reference of a case: 2-d (4, 5) values for the view layouts, (0, 5)
-- for "empty" (a slice that selects nothing), () for "zerod" (one element picked
-- out of a 2-d array: a 0-d view at an offset).
local function case(dt, name, shape, lo, hi)
  shape = shape or { 4, 5 }
  if name == "empty" then
    local base = random_ref(dt, shape, lo, hi)
    local r = { shape = { 0, shape[2] }, dtype = dt, flat = {} }
    return r, contiguous(base):slice({ 3, 2 }, {})
  end
  if name == "zerod" then
    local base = random_ref(dt, shape, lo, hi)
    local r = { shape = {}, dtype = dt, flat = { base.flat[pos(shape, { 2, 3 })] } }
    return r, contiguous(base):slice(3, 4)
  end
  local r = random_ref(dt, shape, lo, hi)
  return r, layout(r, name)
end

-- Another operand with r's logical shape, of dtype dt2, laid out contiguous (0-d:
-- an array of its own; 0-size: a slice selecting nothing).
local function other(r, dt2, lo, hi)
  if #r.shape == 0 then
    local r2 = random_ref(dt2, {}, lo, hi)
    return r2, da.from_array(nd.asarray(r2.flat[1], dt2))
  end
  if #r.flat == 0 then
    local base = random_ref(dt2, { 4, r.shape[2] }, lo, hi)
    return { shape = r.shape, dtype = dt2, flat = {} }, contiguous(base):slice({ 3, 2 }, {})
  end
  local r2 = random_ref(dt2, r.shape, lo, hi)
  return r2, contiguous(r2)
end

-- Rows of a then rows of b (axis 1), or columns (axis 2), of two 2-d references.
local function ref_concat(a, b, axis)
  local shape = { a.shape[1], a.shape[2] }
  shape[axis] = a.shape[axis] + b.shape[axis]
  local flat = {}
  each_index(shape, function(i)
    local src, j = a, { i[1], i[2] }
    if i[axis] >= a.shape[axis] then src, j[axis] = b, i[axis] - a.shape[axis] end
    flat[pos(shape, i)] = src.flat[pos(src.shape, j)]
  end)
  return { shape = shape, dtype = a.dtype, flat = flat }
end

--------------------------------------------------------------------------------
-- Checking

local function tol_for(dt) return dt == "float32" and 2e-6 or 1e-12 end

-- Asserts that lazy x computes to reference r (shape, dtype, values), fused and not.
local function check(x, r, what, tol)
  for _, fuse in ipairs { true, false } do
    local ok, got = pcall(H.get, x, { fuse = fuse })
    assert(ok, what .. ": " .. tostring(got))
    assert(#got.shape == #r.shape, what .. ": ndim " .. #got.shape .. " vs " .. #r.shape)
    for d = 1, #r.shape do assert(got.shape[d] == r.shape[d], what .. ": shape differs on axis " .. d) end
    assert(got.dtype == r.dtype, what .. ": dtype " .. tostring(got.dtype) .. ", want " .. r.dtype)
    assert(x.dtype == r.dtype, what .. ": declared dtype " .. x.dtype .. ", want " .. r.dtype)
    local close, why = H.close(got.flat, r.flat, tol or tol_for(r.dtype))
    assert(close, what .. (fuse and " (fused)" or "") .. ": " .. tostring(why))
  end
end

--------------------------------------------------------------------------------
-- Elementwise: the reference of each operator over numbers already converted to
-- the computing dtype.

local function tanh(v)
  if v > 20 then return 1.0 elseif v < -20 then return -1.0 end
  local e = math.exp(2 * v)
  return (e - 1) / (e + 1)
end

local function fdiv(a, b) return (a + 0.0) / b end
local function imod(a, b)
  if math.type(a) == "integer" and math.type(b) == "integer" then return b == 0 and 0 or a % b end
  if b == 0 then return 0 / 0 end
  return math.fmod(a, b) ~= 0 and (a % b) or (0.0 * b)
end
local function ifloordiv(a, b)
  if math.type(a) == "integer" and math.type(b) == "integer" then return b == 0 and 0 or a // b end
  return math.floor(a / b) + 0.0 == math.floor(a / b) and a // b or a / b
end
local function ipow(a, b)
  if math.type(a) == "integer" and math.type(b) == "integer" then
    local r = 1
    for _ = 1, b do r = r * a end
    return r
  end
  return (a + 0.0) ^ b
end

-- name -> reference over computing-dtype values; bools compute as bools where
-- numpy does (logical or/and for add/mul, max/min).
local UNARY = {
  neg = function(a) return -a end,
  abs = function(a)
    if type(a) == "boolean" then return a end
    return math.abs(a)
  end,
  exp = function(a) return math.exp(num(a)) end,
  log = function(a) return math.log(num(a)) end,
  sqrt = function(a) return math.sqrt(num(a)) end,
  sin = function(a) return math.sin(num(a)) end,
  cos = function(a) return math.cos(num(a)) end,
  tanh = function(a) return tanh(num(a)) end,
}
local UNARY_FN = { neg = "negative" }

local BINARY = {
  add = function(a, b) if type(a) == "boolean" then return a or b end return a + b end,
  sub = function(a, b) return a - b end,
  mul = function(a, b) if type(a) == "boolean" then return a and b end return a * b end,
  div = function(a, b) return fdiv(num(a), num(b)) end,
  mod = imod,
  floor_divide = ifloordiv,
  pow = ipow,
  maximum = function(a, b)
    if type(a) == "boolean" then return a or b end
    if a ~= a or b ~= b then return 0 / 0 end
    return math.max(a, b)
  end,
  minimum = function(a, b)
    if type(a) == "boolean" then return a and b end
    if a ~= a or b ~= b then return 0 / 0 end
    return math.min(a, b)
  end,
  less = function(a, b) return num(a) < num(b) end,
  less_equal = function(a, b) return num(a) <= num(b) end,
  greater = function(a, b) return num(a) > num(b) end,
  greater_equal = function(a, b) return num(a) >= num(b) end,
  equal = function(a, b) return num(a) == num(b) end,
  not_equal = function(a, b) return num(a) ~= num(b) end,
}
local BINARY_FN = { add = "add", sub = "subtract", mul = "multiply", div = "divide", pow = "power" }

local function fn_of(op, names) return da[names[op] or op] end

-- The compute dtype of op over operand dtypes (what the values are converted to
-- before the reference runs): the result dtype, except for comparisons and the
-- float functions of integers.
local function compute_dtype(op, dts, res)
  if BINARY[op] and res == "bool" and op ~= "add" and op ~= "mul" and op ~= "maximum" and op ~= "minimum" then
    local t = {}
    for i, dt in ipairs(dts) do t[i] = { dt = dt, weak = false } end
    local p = result_type("add", t)
    return p or "float64"
  end
  return res
end

-- The reference of op over references rs (same shape), or nil and why the rule
-- refuses it.
local function ref_op(op, rs)
  local t = {}
  for i, r in ipairs(rs) do t[i] = { dt = r.dtype, weak = false } end
  local res, why = result_type(op, t)
  if not res then return nil, why end
  local dts = {}
  for i, r in ipairs(rs) do dts[i] = r.dtype end
  local cd = compute_dtype(op, dts, res)
  local f = UNARY[op] or BINARY[op]
  return ref_map(rs, res, function(...)
    local args = { ... }
    for i = 1, #args do args[i] = cast(args[i], cd) end
    local v = f(table.unpack(args))
    if res == "float32" and type(v) == "number" then return v end
    return cast(v, res)
  end)
end

--------------------------------------------------------------------------------

describe("dtype × layout: elementwise", function()
  for _, dt in ipairs(DTYPES) do
    for _, lay in ipairs(LAYOUTS) do
      it(("unary operators and astype on %s, %s"):format(dt, lay), function()
        local r, x = case(dt, lay)
        for op in pairs(UNARY) do
          local want, why = ref_op(op, { r })
          if want then
            check(fn_of(op, UNARY_FN)(x), want, op .. " " .. dt .. " " .. lay)
          else
            assert.has_error(function() fn_of(op, UNARY_FN)(x) end, nil, op .. " should fail: " .. tostring(why))
          end
        end
        for _, to in ipairs(DTYPES) do
          check(x:astype(to), ref_map({ r }, to, function(v) return cast(v, to) end), "astype " .. to)
        end
      end)

      it(("binary operators and where on %s, %s (both sides, and with a contiguous operand of each dtype)"):format(dt, lay), function()
        local r, x = case(dt, lay, nil, -4, 4)
        for op in pairs(BINARY) do
          for _, dt2 in ipairs(DTYPES) do
            -- the other operand: contiguous, of the same shape (pow: small exponents >= 0)
            local r2, y = other(r, dt2, op == "pow" and 0 or -4, op == "pow" and 3 or 4)
            local cases = { { x, y, { r, r2 } } }
            if op ~= "pow" then cases[2] = { y, x, { r2, r } } end
            for _, c in ipairs(cases) do
              local want, why = ref_op(op, c[3])
              local what = ("%s(%s, %s) %s"):format(op, c[3][1].dtype, c[3][2].dtype, lay)
              if want then
                check(fn_of(op, BINARY_FN)(c[1], c[2]), want, what)
              else
                assert.has_error(function() fn_of(op, BINARY_FN)(c[1], c[2]) end, nil, what .. " should fail: " .. tostring(why))
              end
            end
          end
        end
        if #r.shape == 2 then
          -- broadcasting: x against a row (5,) and a column (4, 1) of another dtype
          local row = random_ref(dt, { r.shape[2] }, -4, 4)
          for _, op in ipairs { "add", "mul", "maximum", "less" } do
            local bw = { shape = r.shape, dtype = dt, flat = {} }
            each_index(r.shape, function(i) bw.flat[pos(r.shape, i)] = row.flat[i[2] + 1] end)
            local ref = ref_op(op, { r, bw })
            if ref then check(fn_of(op, BINARY_FN)(x, contiguous(row)), ref, "broadcast row " .. op .. " " .. dt .. " " .. lay) end
          end
        end
        if #r.flat > 0 then
          -- where(c, x, y) with the condition, then the values, in this layout
          local rc, c = case("bool", lay)
          local r2, y = other(rc, dt)
          local zero = function(shape) return da.zeros(shape, { dtype = dt }) end
          local want = ref_map({ rc, r2 }, dt, function(cv, a) if cv then return a end return cast(0, dt) end)
          check(da.where(c, y, zero(rc.shape)), want, "where(c) " .. dt .. " " .. lay)
          local cond, cc = other(r, "bool")
          local want2 = ref_map({ cond, r }, dt, function(cv, a) if cv then return a end return cast(0, dt) end)
          check(da.where(cc, x, zero(r.shape)), want2, "where(_, x) " .. dt .. " " .. lay)
        end
      end)
    end
  end
end)

--------------------------------------------------------------------------------
-- Reductions

local function red_ref(op, r, axis)
  -- axis: nil (all) or 1-based
  local out_shape, groups = {}, {}
  for d = 1, #r.shape do if axis and d ~= axis then out_shape[#out_shape + 1] = r.shape[d] end end
  local n_out = size_of(out_shape)
  for i = 1, n_out do groups[i] = {} end
  each_index(r.shape, function(idx)
    local o, k = {}, 0
    for d = 1, #idx do if axis and d ~= axis then o[#o + 1] = idx[d] end end
    k = #out_shape > 0 and pos(out_shape, o) or 1
    local g = groups[k]
    g[#g + 1] = r.flat[pos(r.shape, idx)]
  end)
  if #r.shape == 0 then groups[1] = { r.flat[1] } end
  local dt = r.dtype
  local flat = {}
  local out_dt
  for i = 1, n_out do
    local g = groups[i]
    local vals = {}
    for j, v in ipairs(g) do vals[j] = num(v) end
    if op == "sum" or op == "prod" then
      out_dt = dt == "bool" and "int64" or dt
      local acc = op == "sum" and 0 or 1
      if out_dt ~= "int64" then acc = acc + 0.0 end
      for _, v in ipairs(vals) do if op == "sum" then acc = acc + v else acc = acc * v end end
      flat[i] = acc
    elseif op == "min" or op == "max" then
      out_dt = dt
      if #vals == 0 then return nil end
      local best = vals[1]
      for _, v in ipairs(vals) do if (op == "min" and v < best) or (op == "max" and v > best) then best = v end end
      if dt == "bool" then flat[i] = best ~= 0 else flat[i] = best end
    elseif op == "argmin" or op == "argmax" then
      out_dt = "int64"
      if #vals == 0 then return nil end
      local best, at = vals[1], 1
      for j, v in ipairs(vals) do
        if (op == "argmin" and v < best) or (op == "argmax" and v > best) then best, at = v, j end
      end
      flat[i] = at -- 1-based, as lask's API
    else -- mean, var, std
      out_dt = dt == "float32" and "float32" or "float64"
      local s = 0.0
      for _, v in ipairs(vals) do s = s + v end
      local m = s / #vals
      if op == "mean" then
        flat[i] = m
      else
        local q = 0.0
        for _, v in ipairs(vals) do q = q + (v - m) ^ 2 end
        flat[i] = op == "var" and q / #vals or math.sqrt(q / #vals)
      end
    end
  end
  return { shape = out_shape, dtype = out_dt or (op:match("^arg") and "int64") or
    ((op == "sum" or op == "prod") and (dt == "bool" and "int64" or dt)) or
    ((op == "min" or op == "max") and dt) or (dt == "float32" and "float32" or "float64"), flat = flat }
end

describe("dtype × layout: reductions", function()
  local OPS = { "sum", "prod", "min", "max", "mean", "var", "std", "argmin", "argmax" }
  for _, dt in ipairs(DTYPES) do
    for _, lay in ipairs(LAYOUTS) do
      it(("every reduction over all axes and each axis on %s, %s"):format(dt, lay), function()
        local r, x = case(dt, lay, nil, -3, 3)
        local axes = { false }
        for d = 1, #r.shape do axes[#axes + 1] = d end
        for _, op in ipairs(OPS) do
          for _, axis in ipairs(axes) do
            local want = red_ref(op, r, axis or nil)
            local what = ("%s(axis=%s) %s %s"):format(op, tostring(axis), dt, lay)
            local opts = axis and { axis = axis } or nil
            if not want or (op:match("^arg") and #r.flat == 0) then
              assert.has_error(function() H.get(x[op](x, opts)) end, nil, what .. " should fail")
            elseif #r.flat == 0 and (op == "mean" or op == "var" or op == "std") and #want.shape == 0 then
              local got = H.get(x[op](x, opts))
              assert.is_true(got.flat[1] ~= got.flat[1], what .. ": NaN") -- numpy: nan (with a warning)
            else
              check(x[op](x, opts), want, what, dt == "float32" and 1e-5 or 1e-12)
              -- a deeper tree (fan-in 2), and keepdims (an extent-1 axis for each reduced one)
              local deep = { split_every = 2, axis = opts and opts.axis, keepdims = true }
              if op:match("^arg") and not axis then deep.keepdims = nil end
              local kept = { shape = {}, dtype = want.dtype, flat = want.flat }
              for d = 1, #r.shape do
                if deep.keepdims and (not axis or axis == d) then kept.shape[d] = 1
                elseif not axis or axis == d then -- dropped
                else kept.shape[#kept.shape + 1] = r.shape[d] end
              end
              if not deep.keepdims then kept.shape = want.shape end
              check(x[op](x, deep), kept, what .. " split_every=2 keepdims", dt == "float32" and 1e-5 or 1e-12)
            end
          end
        end
      end)
    end
  end

  it("min, max, argmin, argmax skip empty blocks (Dask's test_reductions_with_empty_array analogue)", function()
    -- test_reductions.py::test_empty_chunk_nanmin_nanmax / test_arg_reductions: blocks of size 0
    local x = da.from_array(nd.asarray({ 4, 1, 5, 9, 2 }), { chunks = { { 2, 0, 3 } } })
    assert.are.equal(1, x:min():compute():item())
    assert.are.equal(9, x:max():compute():item())
    assert.are.equal(2, x:argmin():compute():item())
    assert.are.equal(4, x:argmax():compute():item())
    local m = da.from_array(nd.asarray({ { 3, 1 }, { 7, 8 }, { 0, 2 } }), { chunks = { { 1, 0, 2 }, { 2 } } })
    H.same(H.get(m:min { axis = 1 }), { 0, 1 })
    H.same(H.get(m:argmax { axis = 1 }), { 2, 2 })
    assert.has_error(function() da.zeros({ 0, 3 }):min { axis = 1 } end)
    H.same(H.get(da.zeros({ 0, 3 }):min { axis = 2 }), {})
  end)
end)

--------------------------------------------------------------------------------
-- Products, slicing, concatenate, rechunk, reshape, transpose

local function ref_matmul(a, b, dt)
  local m, k, n = a.shape[1], a.shape[2], b.shape[2]
  local flat = {}
  for i = 0, m - 1 do
    for j = 0, n - 1 do
      local s = dt == "int64" and 0 or 0.0
      for p = 0, k - 1 do
        s = s + cast(a.flat[i * k + p + 1], dt) * cast(b.flat[p * n + j + 1], dt)
      end
      flat[i * n + j + 1] = s
    end
  end
  return { shape = { m, n }, dtype = dt, flat = flat }
end

describe("dtype × layout: structure", function()
  for _, dt in ipairs(DTYPES) do
    for _, lay in ipairs(LAYOUTS) do
      it(("matmul, slicing, concatenate, rechunk, reshape, transpose on %s, %s"):format(dt, lay), function()
        local r, x = case(dt, lay, nil, -5, 5)
        local what = dt .. " " .. lay
        -- slicing: a step, an offset, single indices
        if #r.shape == 2 then
          local rows = math.max(0, math.ceil((r.shape[1] - 1) / 2))
          check(x:slice({ 2, nil, 2 }, { 2, 4 }),
            ref_window(r, { 1, 1 }, { rows, 3 }, { 2, 1 }), "slice " .. what)
          if r.shape[1] > 0 then
            local last = ref_window(r, { r.shape[1] - 1, 0 }, { 1, r.shape[2] }, { 1, 1 })
            check(x:slice(-1), { shape = { r.shape[2] }, dtype = dt, flat = last.flat }, "row slice " .. what)
            check(x:slice({}, 3), { shape = { r.shape[1] }, dtype = dt, flat = ref_window(r, { 0, 2 }, { r.shape[1], 1 }, { 1, 1 }).flat },
              "column slice " .. what)
          end
          -- transpose, rechunk, reshape
          check(x.T, ref_transpose(r), "T " .. what)
          check(x:rechunk { 3, 2 }, r, "rechunk " .. what)
          check(x:rechunk { r.shape[1] > 0 and r.shape[1] or 1, 1 }, r, "rechunk columns " .. what)
          check(x:reshape { r.shape[2], r.shape[1] }, { shape = { r.shape[2], r.shape[1] }, dtype = dt, flat = r.flat },
            "reshape " .. what)
          -- concatenate with a contiguous array of the same dtype, on each axis
          local r2 = random_ref(dt, { 2, r.shape[2] })
          check(da.concatenate({ x, contiguous(r2) }, 1), ref_concat(r, r2, 1), "concatenate axis 1 " .. what)
          check(da.concatenate({ contiguous(r2), x }, 1), ref_concat(r2, r, 1), "concatenate axis 1, second " .. what)
          if r.shape[1] > 0 then
            local r3 = random_ref(dt, { r.shape[1], 2 })
            check(da.concatenate({ contiguous(r3), x }, 2), ref_concat(r3, r, 2), "concatenate axis 2 " .. what)
          end
          -- matmul: x @ y and y @ x, y contiguous of each dtype
          for _, dt2 in ipairs(DTYPES) do
            local y = random_ref(dt2, { r.shape[2], 3 })
            local z = da.dot(x, contiguous(y))
            check(z, ref_matmul(r, y, z.dtype), ("dot(x %s, y %s) %s"):format(dt, dt2, lay), 1e-6)
            local w = random_ref(dt2, { 2, r.shape[1] })
            if r.shape[1] > 0 then
              local z2 = da.dot(contiguous(w), x)
              check(z2, ref_matmul(w, r, z2.dtype), ("dot(w %s, x %s) %s"):format(dt2, dt, lay), 1e-6)
            end
          end
          -- 1-d operands: a strided column of x (a view), on either side
          local v = x:slice({}, 2)
          local vr = { shape = { r.shape[1], 1 }, dtype = dt, flat = ref_window(r, { 0, 1 }, { r.shape[1], 1 }, { 1, 1 }).flat }
          local xv = da.dot(x.T, v)
          local xvr = ref_matmul(ref_transpose(r), vr, xv.dtype)
          check(xv, { shape = { r.shape[2] }, dtype = xv.dtype, flat = xvr.flat }, "dot(x.T, column) " .. what, 1e-6)
          local vx = da.dot(v, x)
          local vxr = ref_matmul(ref_transpose(vr), r, vx.dtype)
          check(vx, { shape = { r.shape[2] }, dtype = vx.dtype, flat = vxr.flat }, "dot(column, x) " .. what, 1e-6)
          -- stack along a new middle axis
          local st = { shape = { r.shape[1], 2, r.shape[2] }, dtype = dt, flat = {} }
          each_index(st.shape, function(i) st.flat[pos(st.shape, i)] = r.flat[pos(r.shape, { i[1], i[3] })] end)
          check(da.stack({ x, x }, 2), st, "stack " .. what)
          -- both operands views
          local z3 = da.dot(x.T, x)
          check(z3, ref_matmul(ref_transpose(r), r, z3.dtype), "dot(x.T, x) " .. what, 1e-6)
        else -- 0-d: reshape, astype, and the refusals of 2-d-only operations
          check(x:reshape { 1, 1 }, { shape = { 1, 1 }, dtype = dt, flat = r.flat }, "reshape 0-d " .. what)
          assert.has_error(function() da.dot(x, x):compute() end)
        end
      end)
    end
  end

  it("defect 1: int64 matrix products honour a transposed operand", function()
    local a = da.from_array(nd.asarray({ { 1, 2 }, { 3, 4 } }))
    local b = da.from_array(nd.asarray({ { 1, 0 }, { 0, 1 } }))
    H.same(H.get(da.dot(a.T, b)), { 1, 3, 2, 4 })
    H.same(H.get(da.dot(a, b.T)), { 1, 2, 3, 4 })
    H.same(H.get(da.dot(b, a.T)), { 1, 3, 2, 4 })
  end)
end)

--------------------------------------------------------------------------------
-- Linear algebra: each entry point × {float64, float32, int64} × the view layouts,
-- checked by its defining identity computed naively (q r = x, u diag(s) v = x, ...).

local function mat(nda) -- an ndarray as a reference
  return H.vals(nda)
end

local function max_abs_diff(a, b)
  local m = 0
  for i = 1, #a.flat do m = math.max(m, math.abs(num(a.flat[i]) - num(b.flat[i]))) end
  return m
end

local function scale_of(r)
  local m = 1
  for _, v in ipairs(r.flat) do m = math.max(m, math.abs(num(v))) end
  return m
end

local function diag_times(s, v) -- diag(s) @ v
  local out = { shape = v.shape, dtype = "float64", flat = {} }
  local n = v.shape[2]
  for i = 0, v.shape[1] - 1 do
    for j = 0, n - 1 do out.flat[i * n + j + 1] = s.flat[i + 1] * v.flat[i * n + j + 1] end
  end
  return out
end

describe("dtype × layout: linalg", function()
  for _, dt in ipairs { "float64", "float32", "int64" } do
    for _, lay in ipairs { "contiguous", "transposed", "stepped", "offset" } do
      it(("qr, tsqr, svd, svd_compressed, lu, solve, cholesky, inv, lstsq, norm on %s, %s"):format(dt, lay), function()
        local want_dt = dt == "float32" and "float32" or "float64"
        local tol = dt == "float32" and 1e-4 or 1e-10
        local r = random_ref(dt, { 9, 4 })
        local x = layout(r, lay)
        local s0 = scale_of(r)
        local function close(a, b, what)
          local d = max_abs_diff(a, b)
          assert(d <= tol * s0 * 10, ("%s %s %s: off by %g"):format(what, dt, lay, d))
        end
        local function dtypes(what, ...)
          for i, v in ipairs { ... } do
            assert.are.equal(v.dtype == "int64" and "int64" or want_dt, v.dtype, what .. " result " .. i)
            local got = v:compute()
            assert.are.equal(v.dtype, got.dtype, what .. " computed result " .. i)
          end
        end
        -- qr / tsqr: q r = x
        for _, f in ipairs { "qr", "tsqr" } do
          local q, rr = la[f](x)
          dtypes(f, q, rr)
          close(ref_matmul(mat(q:compute()), mat(rr:compute()), "float64"), ref_map({ r }, "float64", num), f)
        end
        -- svd and svd_compressed(k = n): u diag(s) v = x
        local u, s, v = la.svd(x)
        dtypes("svd", u, s, v)
        close(ref_matmul(mat(u:compute()), diag_times(mat(s:compute()), mat(v:compute())), "float64"),
          ref_map({ r }, "float64", num), "svd")
        local uc, sc, vc = la.svd_compressed(x, 4, { seed = 1, n_power_iter = 2 })
        dtypes("svd_compressed", uc, sc, vc)
        close(ref_matmul(mat(uc:compute()), diag_times(mat(sc:compute()), mat(vc:compute())), "float64"),
          ref_map({ r }, "float64", num), "svd_compressed")
        -- square systems on a = xᵀ x + 9 I (positive definite), itself a view product
        local sq = r.shape[2]
        local a = da.dot(x.T, x) + da.eye(sq, { dtype = dt == "int64" and "int64" or dt }) * 9
        local ar = mat(a:compute())
        local p, l, uu = la.lu(a)
        dtypes("lu", p, l, uu)
        close(ref_matmul(mat(p:compute()), ref_matmul(mat(l:compute()), mat(uu:compute()), "float64"), "float64"), ar, "lu")
        local b = x:slice({ 1, sq }, {}) -- a square view as the right-hand side
        local sol = la.solve(a, b)
        dtypes("solve", sol)
        close(ref_matmul(ar, mat(sol:compute()), "float64"), ref_map({ mat(b:compute()) }, "float64", num), "solve")
        local c = la.cholesky(a)
        dtypes("cholesky", c)
        local cr = mat(c:compute())
        close(ref_matmul(ref_transpose(cr), cr, "float64"), ar, "cholesky")
        local inv = la.inv(a)
        dtypes("inv", inv)
        local eye = { shape = { sq, sq }, dtype = "float64", flat = {} }
        for i = 0, sq - 1 do for j = 0, sq - 1 do eye.flat[i * sq + j + 1] = i == j and 1.0 or 0.0 end end
        local ident = ref_matmul(ar, mat(inv:compute()), "float64")
        assert(max_abs_diff(ident, eye) < tol * 100, "inv " .. dt .. " " .. lay)
        -- lstsq with a 1-d b (a view column): residuals of shape (1,)
        local bcol = x:slice({}, 2)
        local X, res, rank = la.lstsq(x, bcol)
        dtypes("lstsq", X, res, rank)
        assert.are.same({ 1 }, res.shape)
        assert.are.equal(4, rank:compute():item())
        local xr = mat(X:compute())
        for j = 1, 4 do assert(math.abs(xr.flat[j] - (j == 2 and 1 or 0)) < tol * 100, "lstsq x " .. dt .. " " .. lay) end
        -- norms, naively
        local flat = ref_map({ r }, "float64", num).flat
        local fro, one, inf = 0, 0, 0
        for _, vv in ipairs(flat) do fro = fro + vv * vv end
        for j = 0, 3 do
          local cs = 0
          for i = 0, 8 do cs = cs + math.abs(flat[i * 4 + j + 1]) end
          one = math.max(one, cs)
        end
        for i = 0, 8 do
          local rs = 0
          for j = 0, 3 do rs = rs + math.abs(flat[i * 4 + j + 1]) end
          inf = math.max(inf, rs)
        end
        for ord, want in pairs { fro = math.sqrt(fro), [1] = one, [math.huge] = inf } do
          local nrm = la.norm(x, ord)
          dtypes("norm " .. tostring(ord), nrm)
          assert(math.abs(nrm:compute():item() - want) <= tol * want * 10, "norm " .. tostring(ord) .. " " .. dt .. " " .. lay)
        end
        local nz = 0
        for i = 0, 8 do if flat[i * 4 + 3] ~= 0 then nz = nz + 1 end end
        local n0 = la.norm(x:slice({}, 3), 0)
        dtypes("norm 0", n0)
        assert.are.equal(nz, n0:compute():item())
      end)
    end
  end
end)

--------------------------------------------------------------------------------
-- lask.ndarray on computed results, which may be views (a transposed or stepped
-- array computes to a view of its block, no copy): its operators, methods and
-- .npy round trip read strides too.

describe("dtype × layout: lask.ndarray on views", function()
  for _, dt in ipairs(DTYPES) do
    for _, lay in ipairs(LAYOUTS) do
      it(("operators, astype, reshape, copy, get, save/load on %s, %s"):format(dt, lay), function()
        local r, x = case(dt, lay, nil, -4, 4)
        local c = x:compute()
        local what = dt .. " " .. lay
        local got = H.vals(c)
        assert.is_true(H.close(got.flat, r.flat, 0), what)
        if #r.shape == 2 and #r.flat > 0 then
          assert.are.equal(r.flat[pos(r.shape, { 1, 2 })], c:get(2, 3), "get " .. what)
          assert.is_true(H.close(H.vals(c[2]).flat, ref_window(r, { 1, 0 }, { 1, r.shape[2] }, { 1, 1 }).flat, 0), "c[2] " .. what)
        end
        for _, to in ipairs(DTYPES) do
          assert.is_true(H.close(H.vals(c:astype(to)).flat, ref_map({ r }, to, function(v) return cast(v, to) end).flat, 0),
            "astype " .. to .. " " .. what)
        end
        assert.is_true(H.close(H.vals(c:copy()).flat, r.flat, 0), "copy " .. what)
        local n = size_of(r.shape)
        assert.is_true(H.close(H.vals(c:reshape { n }).flat, r.flat, 0), "reshape " .. what)
        if dt ~= "bool" then
          assert.is_true(H.close(H.vals(c * 2).flat, ref_op("mul", { r, ref_map({ r }, dt, function() return cast(2, dt) end) }).flat, 0), "c * 2 " .. what)
          assert.is_true(H.close(H.vals(c + c).flat, ref_op("add", { r, r }).flat, 0), "c + c " .. what)
          assert.is_true(H.close(H.vals(-c).flat, ref_op("neg", { r }).flat, 0), "-c " .. what)
        end
        local path = os.tmpname()
        assert(c:save(path))
        local back = nd.load(path)
        os.remove(path)
        assert.are.equal(dt, back.dtype)
        assert.are.same(r.shape, H.vals(back).shape)
        assert.is_true(H.close(H.vals(back).flat, r.flat, 0), "save/load " .. what)
      end)
    end
  end
end)
