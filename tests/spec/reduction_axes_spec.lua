-- reduction_axes_spec.lua: reductions take a positional axis (x:sum(1)), a list of
-- axes (x:sum{1, 2}) or options (x:sum{axis = 1, keepdims = true}) through one parser
-- (reductions.options), against a naive Lua reference: every reduction, every dtype
-- it accepts, uneven chunks, negative axes, each scheduler.
local H = dofile("tests/spec/array_helpers.lua")
local da = H.da
local nd = require("lask.core").ndarray

local SCHEDULERS = { "sync", "threaded", "multiprocessing" }

local function num(v)
  if v == true then return 1 elseif v == false then return 0 end
  return v
end

-- The C-order flat list and shape of a 3-D test array of dtype dt.
local function make(shape, dt, seed)
  local flat, n = {}, shape[1] * shape[2] * shape[3]
  for i = 1, n do
    local v = ((i * 37 + seed) % 13) - 6
    if dt == "bool" then flat[i] = v > 0 elseif dt == "int64" then flat[i] = v else flat[i] = v / 4 end
  end
  return flat
end

local nested = H.nested

-- The reference of op over axes (a set of 1-based axes) of flat (shape), keepdims.
local REF = {
  sum = function(v) local s = 0 for _, x in ipairs(v) do s = s + x end return s end,
  prod = function(v) local s = 1 for _, x in ipairs(v) do s = s * x end return s end,
  min = function(v) local s = math.huge for _, x in ipairs(v) do s = math.min(s, x) end return s end,
  max = function(v) local s = -math.huge for _, x in ipairs(v) do s = math.max(s, x) end return s end,
  mean = function(v) local s = 0 for _, x in ipairs(v) do s = s + x end return s / #v end,
  var = function(v)
    local m = 0
    for _, x in ipairs(v) do m = m + x end
    m = m / #v
    local s = 0
    for _, x in ipairs(v) do s = s + (x - m) ^ 2 end
    return s / #v
  end,
  argmin = function(v)
    local b = 1
    for i, x in ipairs(v) do if x < v[b] then b = i end end
    return b
  end,
  argmax = function(v)
    local b = 1
    for i, x in ipairs(v) do if x > v[b] then b = i end end
    return b
  end,
}
REF.std = function(v) return math.sqrt(REF.var(v)) end

local function reference(op, flat, shape, axes, keepdims)
  local reduced = {}
  for _, a in ipairs(axes) do reduced[a > 0 and a or #shape + a + 1] = true end
  local out_shape = {}
  for d = 1, #shape do
    if not reduced[d] then out_shape[#out_shape + 1] = shape[d] elseif keepdims then out_shape[#out_shape + 1] = 1 end
  end
  local groups, order = {}, {}
  local idx = {}
  local function walk(d, off)
    if d > #shape then
      local key = {}
      for e = 1, #shape do if not reduced[e] then key[#key + 1] = idx[e] end end
      local k = table.concat(key, ",")
      if not groups[k] then
        groups[k] = {}
        order[#order + 1] = k
      end
      table.insert(groups[k], num(flat[off + 1]))
      return
    end
    local stride = 1
    for e = d + 1, #shape do stride = stride * shape[e] end
    for i = 0, shape[d] - 1 do
      idx[d] = i
      walk(d + 1, off + i * stride)
    end
  end
  walk(1, 0)
  local out = {}
  for i, k in ipairs(order) do out[i] = REF[op](groups[k]) end
  return { shape = out_shape, flat = out }
end

local function check(y, want, what, opts, tol)
  local got = H.get(y, opts)
  assert.same(want.shape, got.shape, what .. ": shape")
  for i, v in ipairs(got.flat) do got.flat[i] = num(v) end
  local ok, why = H.close(got.flat, want.flat, tol)
  assert(ok, what .. ": " .. tostring(why))
end

describe("lask.array reductions over positional axes", function()
  local shape = { 5, 4, 3 }
  local chunks = { { 2, 3 }, { 1, 3 }, { 3 } }
  local ops = { "sum", "prod", "min", "max", "mean", "var", "std", "argmin", "argmax" }
  local forms = {
    { "x:op(1)", function(x, op) return x[op](x, 1) end, { 1 }, false },
    { "x:op(-1)", function(x, op) return x[op](x, -1) end, { -1 }, false },
    { "x:op(2)", function(x, op) return x[op](x, 2) end, { 2 }, false },
    { "x:op{1, 3}", function(x, op) return x[op](x, { 1, 3 }) end, { 1, 3 }, false, true },
    { "x:op{3, 1, 2}", function(x, op) return x[op](x, { 3, 1, 2 }) end, { 1, 2, 3 }, false, true },
    { "x:op{axis = 2, keepdims = true}", function(x, op) return x[op](x, { axis = 2, keepdims = true }) end, { 2 },
      true },
    { "x:op{axis = {2, 3}, keepdims = true}", function(x, op) return x[op](x, { axis = { 2, 3 }, keepdims = true }) end,
      { 2, 3 }, true, true },
  }

  for _, dt in ipairs { "float64", "float32", "int64", "bool" } do
    it("agrees with a naive reference for " .. dt .. ", uneven chunks, each scheduler", function()
      local flat = make(shape, dt, #dt)
      local x = da.from_array(nd.asarray(nested(shape, flat), dt), { chunks = chunks })
      local n = 0
      for _, op in ipairs(ops) do
        local skip = dt == "bool" and (op == "mean" or op == "var" or op == "std")
        for _, form in ipairs(forms) do
          local label, call, axes, keepdims, several = form[1], form[2], form[3], form[4], form[5]
          local arg = op == "argmin" or op == "argmax"
          if not skip and not (arg and several) then
            n = n + 1
            local want = reference(op, flat, shape, axes, keepdims)
            local tol = dt == "float32" and 1e-5 or 1e-12
            check(call(x, op), want, dt .. " " .. label:gsub("op", op), { scheduler = SCHEDULERS[n % 3 + 1] }, tol)
          end
        end
      end
    end)
  end

  it("refuses axes out of range, repeated or not integers, and several axes for arg reductions", function()
    local x = da.ones({ 2, 3 }, { chunks = 2 })
    assert.error_matches(function() x:sum(3) end, "axis 3 is out of range for a 2%-d array")
    assert.error_matches(function() x:sum(0) end, "axis 0 is out of range")
    assert.error_matches(function() x:sum({ 1, 1 }) end, "axis 1 is repeated")
    assert.error_matches(function() x:sum(1.5) end, "expected an axis")
    assert.error_matches(function() x:argmax({ 1, 2 }) end, "axis must be one integer")
  end)
end)
