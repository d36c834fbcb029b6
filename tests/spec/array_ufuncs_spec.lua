-- lask.array.ufuncs: numpy's common ufuncs, every dtype, against numpy (values and
-- dtypes, one batch run) and naive Lua references; fusion, operators, schedulers.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da

local NAN = math.abs(0 / 0) -- a NaN without its sign bit, as numpy's np.nan (Lua's 0/0 has it)
local DATA = {
  float64 = { -2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 3.7, -0.0, NAN, math.huge, -math.huge, 0.3, 10.0, 0.75 },
  float32 = { -2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 3.75, -0.0, NAN, math.huge, -math.huge, 0.25, 10.0, 0.75 },
  int64 = { -7, -3, -1, 0, 1, 2, 3, 5, 64, 100, -100, 7, 63, -64, 9 },
  bool = { true, false, true, true, false, false, true, false, true, true, false, true, false, true, false },
}
local DTYPES = { "float64", "float32", "int64", "bool" }

local UNARY = { "log1p", "expm1", "exp2", "log2", "log10", "cbrt", "tan", "arcsin", "arccos", "arctan", "sinh",
  "cosh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "floor", "ceil", "trunc", "rint", "fabs", "sign",
  "reciprocal", "square", "isnan", "isinf", "isfinite", "signbit", "logical_not", "invert", "isposinf", "isneginf" }
local BINARY = { "arctan2", "hypot", "copysign", "nextafter", "logaddexp", "logaddexp2", "fmod", "fmin", "fmax",
  "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
  "right_shift" }

local function py_list(list, dtype)
  local parts = {}
  for i, v in ipairs(list) do
    if type(v) == "boolean" then parts[i] = v and "True" or "False"
    elseif v ~= v then parts[i] = "np.nan"
    elseif v == math.huge then parts[i] = "np.inf"
    elseif v == -math.huge then parts[i] = "-np.inf"
    elseif dtype == "int64" then parts[i] = string.format("%d", v)
    else
      parts[i] = string.format("%.17g", v)
      if not parts[i]:find("[%.e]") then parts[i] = parts[i] .. ".0" end -- -0 stays -0.0
    end
  end
  return ("np.array([%s], dtype=np.%s)"):format(table.concat(parts, ","), dtype == "bool" and "bool_" or dtype)
end

-- numpy's answers for every case at once: name -> {dtype=, flat=} or {error=true}.
-- Where numpy picks a dtype lask does not have (float16, int8 for bools), the case
-- is recomputed with the operand widened as lask computes (float64, int64).
local function numpy_batch(cases)
  local lines = { "import numpy as np, warnings", "warnings.simplefilter('ignore')", "np.seterr(all='ignore')",
    "def show(name, f, *args):",
    "  try:",
    "    r = np.asarray(f(*args))",
    "    if r.dtype == np.float16: r = np.asarray(f(*[a.astype(np.float64) for a in args]))",
    "    if r.dtype == np.int8: r = np.asarray(f(*[a.astype(np.int64) for a in args]))",
    "  except TypeError:",
    "    print(name, 'error'); return",
    "  vals = ' '.join(('1' if v else '0') if r.dtype == np.bool_ else (str(int(v)) if r.dtype == np.int64 else repr(float(v))) for v in r.ravel())",
    "  print(name, r.dtype, vals)",
  }
  for _, c in ipairs(cases) do lines[#lines + 1] = ("show(%q, %s, %s)"):format(c.name, c.np, c.args) end
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local p = assert(io.popen("/usr/bin/python3 " .. tmp))
  local out = p:read("a")
  p:close()
  os.remove(tmp)
  local res = {}
  for line in out:gmatch("[^\n]+") do
    local name, dtype, vals = line:match("^(%S+) (%S+) ?(.*)$")
    if dtype == "error" then res[name] = { error = true } else
      local flat = {}
      for v in vals:gmatch("%S+") do
        if dtype == "bool" then flat[#flat + 1] = v == "1"
        elseif dtype == "int64" then flat[#flat + 1] = math.tointeger(tonumber(v))
        else flat[#flat + 1] = v == "nan" and 0 / 0 or v == "inf" and math.huge or v == "-inf" and -math.huge
            or tonumber(v) end
      end
      res[name] = { dtype = dtype, flat = flat }
    end
  end
  return res
end

local function lazy(dtype, reverse, chunks)
  local vals = {}
  for i, v in ipairs(DATA[dtype]) do vals[reverse and #DATA[dtype] + 1 - i or i] = v end
  return da.from_array(require("lask.core").asarray(vals, dtype), { chunks = chunks or 4 }), vals
end

local function np_name(name)
  local alias = { isposinf = "np.isposinf", isneginf = "np.isneginf" }
  return alias[name] or "np." .. name
end

describe("lask.array ufuncs against numpy", function()
  it("every unary and binary ufunc on every dtype: the same values and dtype, or both refuse", function()
    local cases = {}
    for _, name in ipairs(UNARY) do
      for _, dt in ipairs(DTYPES) do
        cases[#cases + 1] = { name = name .. ":" .. dt, np = np_name(name), args = py_list(DATA[dt], dt),
          run = function() return da[name]((lazy(dt))) end }
      end
    end
    for _, name in ipairs(BINARY) do
      for _, a in ipairs(DTYPES) do
        for _, b in ipairs { a, "int64" } do
          local rev = {}
          for i, v in ipairs(DATA[b]) do rev[#DATA[b] + 1 - i] = v end
          if name:match("shift") and b == "int64" then -- shift counts from 0 to 70
            for i = 1, #rev do rev[i] = (i * 5) % 71 end
          end
          cases[#cases + 1] = { name = name .. ":" .. a .. ":" .. b, np = "np." .. name,
            args = py_list(DATA[a], a) .. ", " .. py_list(rev, b),
            run = function()
              local y = da.from_array(require("lask.core").asarray(rev, b), { chunks = 3 })
              return da[name]((lazy(a)), y)
            end }
        end
      end
    end
    local want = numpy_batch(cases)
    local checked = 0
    for _, c in ipairs(cases) do
      local w = assert(want[c.name], c.name)
      local ok, y = pcall(c.run)
      if w.error then
        assert(not ok, c.name .. ": numpy refuses, lask accepted")
      else
        assert(ok, c.name .. ": " .. tostring(y))
        assert.equal(w.dtype, y.dtype, c.name)
        local got = H.get(y)
        assert.equal(w.dtype, got.dtype, c.name)
        local tol = (w.dtype == "float32" or c.name:match("float32")) and 2e-6 or 1e-14
        local same, why = H.close(got.flat, w.flat, tol)
        assert(same, c.name .. ": " .. tostring(why))
        checked = checked + 1
      end
    end
    assert.is_true(checked > 150)
  end)

  it("round: half to even, decimals positive and negative, float and int, as numpy", function()
    local vals = { 0.5, 1.5, 2.5, -0.5, -1.5, 2.675, 1234.5678, -0.125, 0.0, 15.0, 25.0 }
    local x = da.from_array(vals, { chunks = 4 })
    for _, d in ipairs { 0, 1, 2, -1, -2 } do
      H.same(H.get(da.round(x, d)), H.numpy(("np.round(%s, %d)"):format(py_list(vals, "float64"), d)).flat, 0)
    end
    local ivals = { 150, 250, -150, -250, 149, 151, 7 }
    local i = da.from_array(ivals, { chunks = 3 })
    assert.equal("int64", da.round(i, -2).dtype)
    H.same(H.get(i:round(-2)), { 200, 200, -200, -200, 100, 200, 0 }, 0)
    H.same(H.get(i:round(1)), ivals, 0)
    local f32 = x:astype("float32")
    assert.equal("float32", f32:round(1).dtype)
    H.same(H.get(f32:round(1)), H.numpy(("np.round(%s, 1)"):format(py_list(vals, "float32"))).flat, 0)
    assert.has_error(function() da.round(x, 1.5) end, "lask.array: round: decimals must be an integer, got 1.5")
    assert.has_error(function() da.round(da.from_array({ true })) end)
  end)

  it("clip against a Lua loop: bounds as numbers, nil or arrays; NaN stays", function()
    local vals = { -3, 0 / 0, 1, 2.5, 7, 4 }
    local x = da.from_array(vals, { chunks = 4 })
    local function ref(lo, hi)
      local out = {}
      for k, v in ipairs(vals) do
        if v ~= v then out[k] = v else
          if lo and v < lo then v = lo end
          if hi and v > hi then v = hi end
          out[k] = v
        end
      end
      return out
    end
    H.same(H.get(x:clip(0, 3)), ref(0, 3))
    H.same(H.get(da.clip(x, nil, 3)), ref(nil, 3))
    H.same(H.get(da.clip(x, 1)), ref(1, nil))
    H.same(H.get(da.clip(x, x * 0 + 1, 3)), ref(1, 3))
    assert.equal("float64", da.clip(da.arange(5), 0.5, 3).dtype)
    assert.equal("int64", da.clip(da.arange(5), 1, 3).dtype)
    assert.has_error(function() da.clip(x) end, "lask.array: clip: give lo, hi or both (both are nil)")
  end)

  it("Lua's bitwise operators on int64 and bool arrays, scalars either side, against Lua's own", function()
    local ivals = { -9, -1, 0, 1, 6, 255, 1 << 40, -(1 << 62) }
    local x = da.from_array(ivals, { chunks = 3 })
    local y = da.from_array({ 3, 5, 7, 1, 2, 0, 9, 1 }, { chunks = 5 })
    local function each(f)
      local out, yv = {}, { 3, 5, 7, 1, 2, 0, 9, 1 }
      for k, v in ipairs(ivals) do out[k] = f(v, yv[k]) end
      return out
    end
    H.same(H.get(x & y), each(function(a, b) return a & b end), 0)
    H.same(H.get(x | y), each(function(a, b) return a | b end), 0)
    H.same(H.get(x ~ y), each(function(a, b) return a ~ b end), 0)
    H.same(H.get(~x), each(function(a) return ~a end), 0)
    H.same(H.get(x << y), each(function(a, b) return a << b end), 0)
    -- numpy's >> is arithmetic: Lua's // by a power of two floors the same way
    H.same(H.get(x >> y), each(function(a, b) return a // (1 << b) end), 0)
    H.same(H.get(6 & x), each(function(a) return 6 & a end), 0)
    H.same(H.get(1 << y), { 8, 32, 128, 2, 4, 1, 512, 2 }, 0)
    local b = da.from_array({ true, false, true, false }, { chunks = 3 })
    local c = da.from_array({ true, true, false, false }, { chunks = 2 })
    assert.equal("bool", (b & c).dtype)
    H.same(H.get(b & c), { true, false, false, false })
    H.same(H.get(b | c), { true, true, true, false })
    H.same(H.get(b ~ c), { false, true, true, false })
    H.same(H.get(~b), { false, true, false, true })
    assert.has_error(function() return da.arange(3.0) & 1 end,
      "lask.array: bitwise_and: bitwise operations need integer or boolean operands (numpy: not supported for floats)")
  end)

  it("fuses: a chain of new ufuncs and operators is one fused task per block", function()
    local x = da.arange(20, { chunks = 6 }) * 0.25
    local y = da.round(da.log1p(x) * 3, 2) + (da.isnan(x) | da.isinf(x)) + da.hypot(x, 1)
    local g = require("lask.array.expression").graph(y.layers, { [y.name] = true })
    local n, fused = 0, 0
    for _, v in pairs(g) do
      n = n + 1
      if tostring(v[1]):find("round:2", 1, true) and tostring(v[1]):find("hypot", 1, true) then fused = fused + 1 end
    end
    assert.equal(4, fused)
    assert.equal(8, n) -- the arange blocks, nested or not, and the 4 fused ones
    local ref = {}
    for i = 1, 20 do
      local v = (i - 1) * 0.25
      local r = math.log(1 + v) * 3 * 100
      local f = math.floor(r)
      r = (r - f > 0.5 or (r - f == 0.5 and f % 2 == 1)) and f + 1 or f
      ref[i] = r / 100 + math.sqrt(v * v + 1)
    end
    H.same(H.get(y), ref, 1e-14)
  end)

  it("every scheduler gives the same result, uneven chunks", function()
    local x = da.from_array(DATA.float64, { chunks = { { 2, 7, 6 } } })
    local y = da.where(da.isfinite(x), da.expm1(x) - da.arctan2(x, 2), da.fmax(x, 0))
    local want = H.get(y, { scheduler = "sync" })
    for _, s in ipairs { "threaded", "multiprocessing" } do H.same(H.get(y, { scheduler = s }), want.flat, 0) end
  end)

  it("view layouts: transposed, sliced, empty and 0-d operands", function()
    local x = da.arange(12, { chunks = 5 }):reshape { 3, 4 } -- x[i][j] = 4 (i - 1) + j - 1
    local t = da.bitwise_xor(x.T, 5) -- 4 x 3
    local want = {}
    for j = 1, 4 do for i = 1, 3 do want[#want + 1] = (4 * (i - 1) + j - 1) ~ 5 end end
    H.same(H.get(t), want, 0)
    local sl = da.sign(x:slice({ 2, 3 }, { 1, 4, 2 }) - 6) -- rows 2..3, columns 1 and 3
    H.same(H.get(sl), { -1, 0, 1, 1 }, 0)
    local e = da.log1p(da.zeros({ 0, 3 }, { chunks = 2 }))
    assert.same({ 0, 3 }, { e.shape[1], e.shape[2] })
    assert.same({}, H.get(e).flat)
    local z = da.from_array(require("lask.core").asarray(2.5))
    assert.equal(2.0, da.round(z):compute():item())
    assert.equal(true, da.isfinite(z):compute():item())
  end)

  it("plain values in, plain values out; astype as a function", function()
    assert.equal(5.0, da.hypot(3, 4))
    assert.equal(true, da.logical_xor(true, false))
    assert.equal("int64", da.astype(da.from_array({ 1.5 }), "int64").dtype)
    assert.equal(-1, da.astype(da.from_array({ -1.7 }), "int64"):compute():get(1))
  end)
end)
