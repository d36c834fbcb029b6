-- array_helpers.lua: what the lask.array specs share (loaded with dofile; not a spec).
--   H.vals(a)          a computed array as {shape=, dtype=, flat=} (C order)
--   H.get(x, opts)     x:compute(opts) as H.vals
--   H.close(a, b, tol) flat lists equal within tol (relative + absolute); NaN == NaN
--   H.numpy(code)      runs /usr/bin/python3 with numpy as np: code's last line is an
--                      expression giving an array; gives it as H.vals
--   H.grid(shape, f)   a flat list of f(i, j, ...) (1-based) in C order
--   H.nested(shape, flat)  a flat list as nested lists of shape
local H = {}

H.lask = require "lask"
H.da = require "lask.array"

local function flatten(t, out)
  if type(t) ~= "table" then
    out[#out + 1] = t
    return out
  end
  for i = 1, #t do flatten(t[i], out) end
  return out
end

function H.vals(a)
  if type(a) == "table" and a.flat then return a end
  if type(a) == "number" or type(a) == "boolean" then return { shape = {}, flat = { a } } end
  local shape = {}
  for d = 1, #a.shape do shape[d] = a.shape[d] end
  local t = a:totable()
  return { shape = shape, dtype = a.dtype, flat = flatten(t, {}) }
end

function H.get(x, opts) return H.vals(x:compute(opts)) end

function H.close(a, b, tol)
  tol = tol or 1e-12
  if #a ~= #b then return false, ("lengths %d and %d"):format(#a, #b) end
  for i = 1, #a do
    local x, y = a[i], b[i]
    if type(x) == "boolean" or type(y) == "boolean" then
      if x ~= y then return false, ("at %d: %s ~= %s"):format(i, tostring(x), tostring(y)) end
    elseif not (x ~= x and y ~= y) then
      if x ~= y and math.abs(x - y) > tol * (1 + math.abs(y)) then
        return false, ("at %d: %.17g ~= %.17g"):format(i, x, y)
      end
    end
  end
  return true
end

-- Asserts that a (H.vals or flat list) matches flat list b.
function H.same(a, b, tol)
  local flat = a.flat or a
  local ok, why = H.close(flat, b, tol)
  assert(ok, why)
end

function H.grid(shape, f)
  local out, idx = {}, {}
  local nd = #shape
  local function walk(d)
    if d > nd then
      out[#out + 1] = f(table.unpack(idx))
      return
    end
    for i = 1, shape[d] do
      idx[d] = i
      walk(d + 1)
    end
  end
  walk(1)
  return out
end

function H.numpy(code)
  local script = "import numpy as np, sys\n" ..
      "lines = sys.stdin.read().strip().split('\\n')\n" ..
      "exec('\\n'.join(lines[:-1]))\n" ..
      "a = np.asarray(eval(lines[-1]))\n" ..
      "print(' '.join(str(d) for d in a.shape))\n" ..
      "print(a.dtype)\n" ..
      "print(' '.join(repr(float(v)) for v in a.ravel()))\n"
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write(script)
  f:close()
  local cmd = ("/usr/bin/python3 %s <<'EOF'\n%s\nEOF"):format(tmp, code)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  os.remove(tmp)
  local shape_line, dtype, values = out:match("^([^\n]*)\n([^\n]*)\n([^\n]*)")
  assert(values, "numpy failed: " .. out)
  local shape, flat = {}, {}
  for n in shape_line:gmatch("%d+") do shape[#shape + 1] = tonumber(n) end
  for v in values:gmatch("%S+") do
    flat[#flat + 1] = v == "nan" and 0 / 0 or v == "inf" and math.huge or v == "-inf" and -math.huge or tonumber(v)
  end
  return { shape = shape, dtype = dtype, flat = flat }
end

-- The flat list (C order) as nested Lua lists of shape (for lask.ndarray.asarray).
function H.nested(shape, flat)
  if #shape == 0 then return flat[1] end
  local pos = 0
  local function level(d)
    local out = {}
    for i = 1, shape[d] do
      if d == #shape then
        pos = pos + 1
        out[i] = flat[pos]
      else
        out[i] = level(d + 1)
      end
    end
    return out
  end
  return level(1)
end

-- Writes a flat list as numpy source: np.array([...]).reshape(shape).
function H.np_array(flat, shape, dtype)
  local parts = {}
  for i, v in ipairs(flat) do
    parts[i] = type(v) == "boolean" and (v and "True" or "False") or string.format("%.17g", v)
  end
  local dims = {}
  for d, n in ipairs(shape) do dims[d] = tostring(n) end
  return ("np.array([%s], dtype=%q).reshape((%s))"):format(table.concat(parts, ","), dtype or "float64",
    table.concat(dims, ",") .. (#dims == 1 and "," or ""))
end

return H
