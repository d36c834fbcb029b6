--- numpy's assorted routines a Dask user reaches for early, built from lask.array's own operations.
-- Each is lazy and composed of existing pieces (elementwise kernels, fused; slices;
-- reductions; indexing), so it runs block by block on every scheduler. Axes,
-- indices and positions count from 1 (negative axes from the end); the rest is
-- numpy's (and Dask's, which follows numpy for these).
-- @module lask.array.routines
-- @alias RT
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type

local RT = {}

local function A() return require "lask.array" end

local function need_array(x, what, level)
  if core.is_array(x) then return x end
  local creation = require "lask.array.creation"
  if type(x) == "number" or type(x) == "boolean" then return creation.from_array(creation.asarray(x), nil, level + 1) end
  if creation.is_ndarray(x) or type(x) == "table" then return creation.from_array(x, nil, level + 1) end
  error(fmt("lask.array: %s: expected an array, got %s", what, type(x)), level + 1)
end

-- A 1-based axis (negative from the end) of an array of ndim axes, checked.
local function axis_of(axis, ndim, what, level)
  if mtype(axis) ~= "integer" or axis == 0 or axis > ndim or axis < -ndim then
    error(fmt("lask.array: %s: axis must be an integer from 1 to %d (negative from the end), got %s", what, ndim,
      tostring(axis)), level + 1)
  end
  return axis < 0 and axis + ndim + 1 or axis
end

-- x's elements lo..hi (1-based, inclusive) along axis d.
local function part(x, d, lo, hi)
  local sl = {}
  for e = 1, x.ndim do sl[e] = {} end
  sl[d] = { lo, hi }
  return x:slice(table.unpack(sl, 1, x.ndim))
end

local function is_float(x) return x.dtype == "float64" or x.dtype == "float32" end

-- x as 1-d (raveled unless it is).
local function flat1(x) return x.ndim == 1 and x or x:ravel() end

-- numpy's "along an axis, or over the flattened array without one": x as an array
-- (flattened when axis is nil), the 1-based axis and its extent.
local function along_axis(x, axis, what, level)
  x = need_array(x, what, level + 1)
  if axis == nil then x = flat1(x) end
  local d = axis and axis_of(axis, x.ndim, what, level + 1) or 1
  return x, d, x.shape[d]
end

-- -----------------------------------------------------------------------------
-- Dimensions

local function atleast(n, what, ...)
  local out = {}
  for i = 1, select("#", ...) do
    local x = need_array((select(i, ...)), what, 3)
    local shape = {}
    if x.ndim == 0 then
      for d = 1, n do shape[d] = 1 end
      x = x:reshape(shape)
    elseif x.ndim < n then
      local SH = require "lask.array.shape"
      if n == 2 then x = SH.expand_dims(x, 1)
      elseif x.ndim == 1 then x = SH.expand_dims(SH.expand_dims(x, 1), 3) -- (n) is (1, n, 1), as numpy's
      else x = SH.expand_dims(x, 3) end
    end
    out[i] = x
  end
  return table.unpack(out, 1, select("#", ...))
end

--- The arrays with at least one axis (numpy's atleast_1d: a 0-d array becomes {1}).
-- @param ... lask.array (or numbers, tables)
-- @return lask.array: one per argument
-- @usage assert(da.atleast_1d(da.asarray(5)).shape[1] == 1)
function RT.atleast_1d(...) return atleast(1, "atleast_1d", ...) end

--- The arrays with at least two axes (numpy's atleast_2d: (n) becomes (1, n)).
-- @param ... lask.array
-- @return lask.array: one per argument
-- @usage local a, b = da.atleast_2d(da.arange(3), da.ones({2, 2}))
-- assert(a.shape[1] == 1 and a.shape[2] == 3 and b.ndim == 2)
function RT.atleast_2d(...) return atleast(2, "atleast_2d", ...) end

--- The arrays with at least three axes (numpy's atleast_3d: (n) is (1, n, 1), (m, n) is (m, n, 1)).
-- @param ... lask.array
-- @return lask.array: one per argument
-- @usage local a = da.atleast_3d(da.arange(3))
-- assert(a.shape[1] == 1 and a.shape[2] == 3 and a.shape[3] == 1)
function RT.atleast_3d(...) return atleast(3, "atleast_3d", ...) end

--- x rotated by 90 degrees k times in the plane of two axes, from the first towards the second (numpy's rot90).
-- @param x lask.array: at least 2-d
-- @param[opt=1] k integer
-- @param[opt={1, 2}] axes table: two different 1-based axes
-- @return lask.array: views of x's blocks
-- @usage local r = da.rot90(da.from_array({{1, 2}, {3, 4}}))
-- assert(r:compute():get(1, 1) == 2 and r:compute():get(2, 1) == 1)
function RT.rot90(x, k, axes)
  x = need_array(x, "rot90", 2)
  k = k or 1
  if mtype(k) ~= "integer" then error("lask.array: rot90: k must be an integer", 2) end
  if x.ndim < 2 then error("lask.array: rot90: x must have at least 2 axes", 2) end
  axes = axes or { 1, 2 }
  if type(axes) ~= "table" or #axes ~= 2 then error("lask.array: rot90: axes must be a list of two axes", 2) end
  local a, b = axis_of(axes[1], x.ndim, "rot90", 2), axis_of(axes[2], x.ndim, "rot90", 2)
  if a == b then error("lask.array: rot90: the axes must differ", 2) end
  local SH = require "lask.array.shape"
  k = k % 4
  if k == 0 then return x end
  if k == 2 then return SH.flip(SH.flip(x, a), b) end
  local perm = {}
  for d = 1, x.ndim do perm[d] = d end
  perm[a], perm[b] = b, a
  if k == 1 then return SH.flip(x, b):transpose(perm) end
  return SH.flip(x:transpose(perm), b)
end

-- -----------------------------------------------------------------------------
-- Products and differences

--- The outer product of a and b, each flattened (numpy's outer): element (i, j) is a[i] * b[j].
-- @param a lask.array
-- @param b lask.array
-- @return lask.array: 2-d, a's size by b's
-- @usage assert(da.outer(da.arange(1, 4), da.arange(1, 3)):compute():get(3, 2) == 6)
function RT.outer(a, b)
  a, b = need_array(a, "outer", 2), need_array(b, "outer", 2)
  return require("lask.array.shape").expand_dims(flat1(a), 2) * flat1(b)
end

--- The dot product of a and b flattened (numpy's vdot, real arrays): a 0-d array.
-- @param a lask.array
-- @param b lask.array: of a's size
-- @return lask.array: 0-d
-- @usage assert(da.vdot(da.arange(3), da.arange(3)):compute():item() == 5)
function RT.vdot(a, b)
  a, b = flat1(need_array(a, "vdot", 2)), flat1(need_array(b, "vdot", 2))
  if a.shape[1] ~= b.shape[1] then error("lask.array: vdot: a and b must have the same size", 2) end
  return (a * b):sum()
end

--- The n-th differences along an axis (numpy's diff; bools by not_equal, as numpy).
-- opts.prepend and opts.append (a number or an array) are joined to x along the
-- axis first, numbers broadcast to extent 1.
-- @param x lask.array
-- @param[opt=1] n integer >= 0
-- @param[opt=-1] axis integer (the last by default)
-- @param[opt] opts table: `prepend`, `append`
-- @return lask.array: n elements shorter along the axis (plus the joined ones)
-- @usage local d = da.diff(da.from_array({1, 4, 9, 16}, {chunks = 3}))
-- assert(d:compute():get(3) == 7)
-- assert(da.diff(da.from_array({1, 4, 9, 16}), 2):compute():get(1) == 2)
function RT.diff(x, n, axis, opts)
  x = need_array(x, "diff", 2)
  if type(n) == "table" then n, axis, opts = nil, nil, n end
  if type(axis) == "table" then axis, opts = nil, axis end
  n, opts = n or 1, opts or {}
  if mtype(n) ~= "integer" or n < 0 then error("lask.array: diff: n must be an integer >= 0, got " .. tostring(n), 2) end
  if x.ndim == 0 then error("lask.array: diff: x must have at least one axis", 2) end
  local d = axis_of(axis or -1, x.ndim, "diff", 2)
  for key in pairs(opts) do
    if key ~= "prepend" and key ~= "append" then
      error(fmt("lask.array: diff: unknown option '%s' (prepend, append)", tostring(key)), 2)
    end
  end
  local function edge(v, what) -- a number broadcast to extent 1 along d
    if type(v) == "number" or type(v) == "boolean" then
      local shape = core.plain(x.shape)
      shape[d] = 1
      return A().full(shape, v, { dtype = x.dtype })
    end
    return need_array(v, "diff " .. what, 3)
  end
  local parts = {}
  if opts.prepend ~= nil then parts[#parts + 1] = edge(opts.prepend, "prepend") end
  parts[#parts + 1] = x
  if opts.append ~= nil then parts[#parts + 1] = edge(opts.append, "append") end
  if #parts > 1 then x = A().concatenate(parts, d) end
  for _ = 1, n do
    local m = x.shape[d]
    if m == 0 then break end
    local hi, lo = part(x, d, 2, m), part(x, d, 1, m - 1)
    x = x.dtype == "bool" and A().not_equal(hi, lo) or hi - lo
  end
  return x
end

--- The differences of x flattened, with numbers or arrays before and after (numpy's ediff1d).
-- @param x lask.array
-- @param[opt] to_end number, list or array: appended
-- @param[opt] to_begin number, list or array: prepended
-- @return lask.array: 1-d
-- @usage assert(da.ediff1d(da.from_array({{1, 2}, {4, 8}}), 0, -1):compute():totable()[5] == 0)
function RT.ediff1d(x, to_end, to_begin)
  x = flat1(need_array(x, "ediff1d", 2))
  local parts = {}
  local function add(v, what)
    if v == nil then return end
    parts[#parts + 1] = flat1(need_array(v, "ediff1d " .. what, 3)):astype(x.dtype)
  end
  add(to_begin, "to_begin")
  local d = RT.diff(x)
  parts[#parts + 1] = d
  add(to_end, "to_end")
  if #parts == 1 then return d end
  return A().concatenate(parts, 1)
end

-- -----------------------------------------------------------------------------
-- Reductions and comparisons

--- The range (maximum - minimum) along axes (numpy's ptp).
-- @param x lask.array: not bool (numpy refuses it too)
-- @param[opt] opts an axis, a list of axes, or {axis =, keepdims =}
-- @return lask.array: x's dtype
-- @usage assert(da.ptp(da.from_array({{1, 5}, {3, 2}}), 2):compute():get(1) == 4)
function RT.ptp(x, opts)
  x = need_array(x, "ptp", 2)
  if x.dtype == "bool" then error("lask.array: ptp: bool arrays have no difference (as numpy)", 2) end
  return x:max(opts) - x:min(opts)
end

--- The number of elements that are not zero (false) along axes (numpy's count_nonzero).
-- @param x lask.array
-- @param[opt] opts an axis, a list of axes, or {axis =, keepdims =}
-- @return lask.array: int64
-- @usage assert(da.count_nonzero(da.from_array({0, 3, 0, 1})):compute():item() == 2)
function RT.count_nonzero(x, opts)
  x = need_array(x, "count_nonzero", 2)
  local nz = x.dtype == "bool" and x or A().not_equal(x, 0)
  return nz:astype("int64"):sum(opts)
end

--- The (weighted) average along an axis (numpy's average).
-- Without weights, the mean. weights have x's shape, or are 1-d along the axis;
-- the result is sum(x * w) / sum(w). opts.returned gives sum(w) too, broadcast to
-- the result's shape.
-- @param x lask.array
-- @param[opt] opts table: `axis` (1-based; all axes by default), `weights`, `returned`, `keepdims`
-- @return lask.array: float64 (float32 for float32 x without weights); and sum(w) with returned
-- @raise when the weights' shape fits neither way
-- @usage local a = da.average(da.from_array({1, 2, 3}), {weights = da.from_array({3, 0, 1})})
-- assert(a:compute():item() == 1.5)
function RT.average(x, opts)
  x = need_array(x, "average", 2)
  if opts ~= nil and type(opts) ~= "table" then opts = { axis = opts } end
  opts = opts or {}
  for key in pairs(opts) do
    if key ~= "axis" and key ~= "weights" and key ~= "returned" and key ~= "keepdims" then
      error(fmt("lask.array: average: unknown option '%s' (axis, weights, returned, keepdims)", tostring(key)), 2)
    end
  end
  local red = { axis = opts.axis, keepdims = opts.keepdims }
  local xf = is_float(x) and x or x:astype("float64")
  if opts.weights == nil then
    local avg = xf:mean(red)
    if not opts.returned then return avg end
    local n = x.size
    if opts.axis then n = x.shape[axis_of(opts.axis, x.ndim, "average", 2)] end
    return avg, A().full_like(avg, n)
  end
  local w = need_array(opts.weights, "average", 2)
  if not core.same_list(w.shape, x.shape) then
    if opts.axis == nil or w.ndim ~= 1 then
      error("lask.array: average: weights must have x's shape, or be 1-d along the given axis", 2)
    end
    local d = axis_of(opts.axis, x.ndim, "average", 2)
    if w.shape[1] ~= x.shape[d] then
      error(fmt("lask.array: average: 1-d weights must have the axis's length %d, got %d", x.shape[d], w.shape[1]), 2)
    end
    local shape = {}
    for e = 1, x.ndim do shape[e] = e == d and w.shape[1] or 1 end
    w = w:reshape(shape)
  end
  if not is_float(w) then w = w:astype("float64") end
  local wsum = (w * A().ones_like(xf, { dtype = w.dtype })):sum(red)
  local avg = (xf * w):sum(red) / wsum
  if opts.returned then return avg, wsum end
  return avg
end

--- Elementwise whether a and b are equal within a tolerance (numpy's isclose): |a - b| <= atol + rtol |b|.
-- Infinities are close only to themselves; NaN to NaN only with equal_nan.
-- Integers and bools are compared as float64, as numpy does.
-- @param a lask.array or number
-- @param b lask.array or number
-- @param[opt] opts table: `rtol` (1e-5), `atol` (1e-8), `equal_nan` (false)
-- @return lask.array: bool
-- @usage local c = da.isclose(da.from_array({1, 1.1, 0/0}), 1.0000001)
-- assert(c:compute():get(1) == true and c:compute():get(2) == false)
function RT.isclose(a, b, opts)
  opts = opts or {}
  local rtol, atol = opts.rtol or 1e-5, opts.atol or 1e-8
  local da = A()
  local function float(v)
    v = need_array(type(v) == "number" and v + 0.0 or v, "isclose", 3)
    return is_float(v) and v or v:astype("float64")
  end
  a, b = float(a), float(b)
  local diff = a - b
  local close = da.logical_and(da.less_equal(da.abs(diff), atol + rtol * da.abs(b)), da.isfinite(b))
  close = da.logical_or(close, da.equal(a, b))
  if opts.equal_nan then close = da.logical_or(close, da.logical_and(da.isnan(a), da.isnan(b))) end
  return close
end

--- Whether every element of a is close to b's (numpy's allclose): isclose(a, b, opts):all(), a 0-d bool array (lazy, as Dask's).
-- @param a lask.array or number
-- @param b lask.array or number
-- @param[opt] opts table: as isclose's
-- @return lask.array: 0-d bool
-- @usage assert(da.allclose(da.arange(3), da.arange(3) + 1e-9):compute():item() == true)
function RT.allclose(a, b, opts) return RT.isclose(a, b, opts):all() end

--- x with NaN and infinities replaced by numbers (numpy's nan_to_num); integers and bools are returned as they are.
-- @param x lask.array
-- @param[opt] opts table: `nan` (0), `posinf` (the dtype's largest), `neginf` (its most negative)
-- @return lask.array: x's dtype
-- @usage local y = da.nan_to_num(da.from_array({0/0, 1/0, 2}), {posinf = 9})
-- assert(y:compute():get(1) == 0 and y:compute():get(2) == 9)
function RT.nan_to_num(x, opts)
  x = need_array(x, "nan_to_num", 2)
  if not is_float(x) then return x end
  opts = opts or {}
  local big = x.dtype == "float32" and 3.4028234663852886e38 or 1.7976931348623157e308
  local da = A()
  local y = da.where(da.isnan(x), opts.nan or 0.0, x)
  y = da.where(da.isposinf(x), opts.posinf or big, y)
  y = da.where(da.isneginf(x), opts.neginf or -big, y)
  return y:astype(x.dtype)
end

-- -----------------------------------------------------------------------------
-- Selection

-- An index list (Lua list, lask.ndarray or lask.array) as x[...] takes it.
local function index_list(v, what, level)
  if type(v) == "table" and getmetatable(v) == nil then
    return require("lask.core").ndarray.asarray(#v > 0 and v or {}, "int64")
  end
  if mtype(v) == "integer" or core.is_array(v) or require("lask.array.creation").is_ndarray(v) then return v end
  error(fmt("lask.array: %s: indices are an integer, a list, a lask.ndarray or a lask.array, got %s", what, type(v)),
    level + 1)
end

--- The elements of x at 1-based indices along an axis (numpy's take; x flattened without an axis).
-- @param x lask.array
-- @param indices integer, list, lask.ndarray or lask.array (int64, 1-based, negative from the end)
-- @param[opt] axis integer
-- @return lask.array: an integer drops the axis
-- @usage assert(da.take(da.arange(10, {chunks = 3}), {4, 1}):compute():get(1) == 3)
-- assert(da.take(da.from_array({{1, 2}, {3, 4}}), {2}, 2):compute():get(2, 1) == 4)
function RT.take(x, indices, axis)
  x = need_array(x, "take", 2)
  local ix = index_list(indices, "take", 2)
  if axis == nil then return flat1(x)[{ ix }] end
  local key = {}
  key[axis_of(axis, x.ndim, "take", 2)] = ix
  return x[key]
end

--- The slices of x along an axis where a 1-d condition holds (numpy's compress; x flattened without an axis).
-- A condition shorter than the axis counts as false beyond its end (numpy's rule).
-- @param condition list of booleans, lask.ndarray or lask.array (bool)
-- @param x lask.array
-- @param[opt] axis integer
-- @return lask.array: unknown length along the axis for a lazy condition
-- @usage assert(da.compress({false, true, true}, da.arange(5)):compute():get(1) == 1)
function RT.compress(condition, x, axis)
  local d, n
  x, d, n = along_axis(x, axis, "compress", 2)
  local c = condition
  if type(c) == "table" and getmetatable(c) == nil then
    local t = {}
    for i = 1, n do t[i] = c[i] and true or false end
    if #c > n then error(fmt("lask.array: compress: the condition is longer (%d) than the axis (%d)", #c, n), 2) end
    c = require("lask.core").ndarray.asarray(n > 0 and t or {}, "bool")
  elseif not core.is_array(c) and not require("lask.array.creation").is_ndarray(c) then
    error("lask.array: compress: the condition is a list of booleans, a lask.ndarray or a lask.array", 2)
  end
  local key = {}
  key[d] = c
  return x[key]
end

--- The elements of x where condition is nonzero (true), in C order (numpy's extract).
-- @param condition lask.array: x's shape (any dtype: nonzero is true)
-- @param x lask.array
-- @return lask.array: 1-d, unknown length
-- @usage local x = da.arange(6):reshape({2, 3})
-- assert(da.extract(x % 2, x):sum():compute():item() == 9)
function RT.extract(condition, x)
  x = need_array(x, "extract", 2)
  local c = need_array(condition, "extract", 2)
  if c.dtype ~= "bool" then c = A().not_equal(c, 0) end
  if not core.same_list(c.shape, x.shape) then
    error("lask.array: extract: the condition must have x's shape", 2)
  end
  return x[c]
end

--- The elements of the first choice whose condition holds, else default (numpy's select).
-- @param condlist table: bool arrays
-- @param choicelist table: arrays or numbers, one per condition
-- @param[opt=0] default number or array
-- @return lask.array: broadcast shape; the choices' common dtype
-- @usage local x = da.arange(6)
-- local y = da.select({x:lt(2), x:gt(3)}, {x, x * 10}, -1)
-- assert(y:compute():get(2) == 1 and y:compute():get(3) == -1 and y:compute():get(6) == 50)
function RT.select(condlist, choicelist, default)
  if type(condlist) ~= "table" or type(choicelist) ~= "table" or #condlist ~= #choicelist then
    error("lask.array: select: condlist and choicelist must be lists of the same length", 2)
  end
  if #condlist == 0 then error("lask.array: select: give at least one condition", 2) end
  local da = A()
  local out = default or 0
  for i = #condlist, 1, -1 do
    local c = need_array(condlist[i], "select", 2)
    if c.dtype ~= "bool" then error(fmt("lask.array: select: condition %d must be a bool array, got %s", i, c.dtype), 2) end
    out = da.where(c, choicelist[i], out)
  end
  return out
end

--- arr with values appended (numpy's append): both flattened without an axis, else joined along it.
-- @param arr lask.array
-- @param values lask.array, lask.ndarray, list or number
-- @param[opt] axis integer
-- @return lask.array
-- @usage assert(da.append(da.arange(3), {7, 8}):compute():get(5) == 8)
function RT.append(arr, values, axis)
  arr = need_array(arr, "append", 2)
  local v = need_array(values, "append", 2)
  if axis == nil then return A().concatenate({ flat1(arr), flat1(v) }, 1) end
  return A().concatenate({ arr, v }, axis_of(axis, arr.ndim, "append", 2))
end

-- -----------------------------------------------------------------------------
-- Creation, broadcasting and axes

--- An array of shape (numpy's empty): lask fills it with zeros, numpy leaves memory as it is.
-- @param shape table or integer
-- @param[opt] opts table: `dtype` (float64), `chunks`
-- @return lask.array
-- @usage assert(da.empty({2, 3}):sum():compute():item() == 0)
function RT.empty(shape, opts) return A().zeros(shape, opts) end

--- The arrays broadcast against one another (numpy's broadcast_arrays): one result per argument, of the common shape and chunks.
-- @param ... lask.array
-- @return lask.array: one per argument (copies per block, as broadcast_to's)
-- @raise when the shapes do not broadcast
-- @usage local a, b = da.broadcast_arrays(da.arange(3), da.ones({2, 1}))
-- assert(a.shape[1] == 2 and a.shape[2] == 3 and b.shape[2] == 3)
function RT.broadcast_arrays(...)
  local arrays = {}
  for i = 1, select("#", ...) do arrays[i] = need_array((select(i, ...)), "broadcast_arrays", 2) end
  if #arrays == 0 then return end
  local E = require "lask.array.elementwise"
  local shape = E.broadcast_shape(arrays, "broadcast_arrays", 2)
  local _, chunks = E.unify_chunks(arrays, shape)
  local SH = require "lask.array.shape"
  local out = {}
  for i, a in ipairs(arrays) do
    out[i] = (core.same_list(a.shape, shape) and core.same_chunks(a.chunks, chunks)) and a
      or SH.broadcast_to(a, shape, { chunks = chunks })
  end
  return table.unpack(out, 1, #arrays)
end

--- x with an axis moved to stand before position start (numpy's rollaxis; moveaxis is clearer).
-- @param x lask.array
-- @param axis integer: 1-based
-- @param[opt=1] start integer: 1 to ndim + 1
-- @return lask.array
-- @usage assert(da.rollaxis(da.ones({2, 3, 4}), 3).shape[1] == 4)
-- assert(da.rollaxis(da.ones({2, 3, 4}), 1, 3).shape[2] == 2)
function RT.rollaxis(x, axis, start)
  x = need_array(x, "rollaxis", 2)
  local a = axis_of(axis, x.ndim, "rollaxis", 2)
  start = start or 1
  if mtype(start) ~= "integer" then error("lask.array: rollaxis: start must be an integer", 2) end
  if start < 0 then start = start + x.ndim + 1 end
  if start < 1 or start > x.ndim + 1 then
    error(fmt("lask.array: rollaxis: start must be from 1 to %d, got %d", x.ndim + 1, start), 2)
  end
  if start > a then start = start - 1 end
  if start == a then return x end
  return require("lask.array.shape").moveaxis(x, a, start)
end

--- Elementwise whether x is missing: NaN for floats, never for integers and bools (Dask's isnull, pandas' rule).
-- @param x lask.array
-- @return lask.array: bool
-- @usage assert(da.isnull(da.from_array({1, 0/0})):compute():get(2) == true)
function RT.isnull(x)
  x = need_array(x, "isnull", 2)
  if is_float(x) then return A().isnan(x) end
  return A().zeros_like(x, { dtype = "bool" })
end

--- Elementwise whether x is present: the negation of isnull (Dask's notnull).
-- @param x lask.array
-- @return lask.array: bool
-- @usage assert(da.notnull(da.from_array({1, 0/0})):compute():get(1) == true)
function RT.notnull(x) return A().logical_not(RT.isnull(x)) end

--- Elementwise x rounded towards zero (numpy's fix: trunc; a float result).
-- @param x lask.array
-- @return lask.array
-- @usage assert(da.fix(da.from_array({-1.5, 2.7})):compute():get(1) == -1)
function RT.fix(x) return A().trunc(need_array(x, "fix", 2)) end

-- -----------------------------------------------------------------------------
-- Index arithmetic

-- An index argument: a lazy array, or a number as a 0-d one.
local function index_arg(v, what, level)
  if type(v) == "number" then
    if mtype(v) ~= "integer" then error(fmt("lask.array: %s: indices must be integers", what), level + 1) end
    return v
  end
  v = need_array(v, what, level + 1)
  if v.dtype ~= "int64" then error(fmt("lask.array: %s: indices must be int64, got %s", what, v.dtype), level + 1) end
  return v
end

--- The coordinates of flat positions in an array of shape (numpy's unravel_index; C order, all 1-based).
-- Numbers are checked at once; the elements of an array are not (a position beyond
-- the size wraps around the first axis): numpy raises for them.
-- @param indices integer or lask.array (int64): flat positions, 1-based
-- @param shape table
-- @return lask.array (or integer), one per axis
-- @raise for a number out of range
-- @usage local i, j = da.unravel_index(da.from_array({1, 6, 5}), {2, 3})
-- assert(i:compute():get(2) == 2 and j:compute():get(2) == 3 and j:compute():get(3) == 2)
function RT.unravel_index(indices, shape)
  shape = core.normalize_shape(shape, 2)
  local idx = index_arg(indices, "unravel_index", 2)
  local size = 1
  for _, n in ipairs(shape) do size = size * n end
  if type(idx) == "number" and (idx < 1 or idx > size) then
    error(fmt("lask.array: unravel_index: position %d is out of range for a size of %d (positions count from 1)", idx,
      size), 2)
  end
  local out, stride = {}, size
  local z = idx - 1
  for d = 1, #shape do
    stride = stride // shape[d]
    out[d] = (z // stride) % shape[d] + 1
  end
  return table.unpack(out, 1, #shape)
end

--- The flat positions (C order, 1-based) of coordinates in an array of dims (numpy's ravel_multi_index).
-- Numbers are checked at once, array elements are not (numpy raises for them).
-- @param multi_index table: one integer or int64 lask.array per axis (1-based)
-- @param dims table: the shape
-- @return lask.array (or integer)
-- @raise for a number out of range, or as many coordinates as axes not given
-- @usage local p = da.ravel_multi_index({da.from_array({1, 2}), da.from_array({3, 1})}, {2, 3})
-- assert(p:compute():get(1) == 3 and p:compute():get(2) == 4)
function RT.ravel_multi_index(multi_index, dims)
  dims = core.normalize_shape(dims, 2)
  if type(multi_index) ~= "table" or getmetatable(multi_index) ~= nil or #multi_index ~= #dims then
    error(fmt("lask.array: ravel_multi_index: give one coordinate per axis (%d)", #dims), 2)
  end
  local flat, stride = nil, 1
  for d = #dims, 1, -1 do
    local c = index_arg(multi_index[d], "ravel_multi_index", 2)
    if type(c) == "number" and (c < 1 or c > dims[d]) then
      error(fmt("lask.array: ravel_multi_index: coordinate %d is out of range for axis %d of extent %d", c, d, dims[d]), 2)
    end
    local term = (c - 1) * stride
    flat = flat and term + flat or term
    stride = stride * dims[d]
  end
  return flat + 1
end

local function tri_indices(n, k, m, opts, lower, what)
  if type(k) == "table" then k, m, opts = nil, nil, k end
  if type(m) == "table" then m, opts = nil, m end
  k, m = k or 0, m or n
  for _, v in ipairs { n, k, m } do
    if mtype(v) ~= "integer" then error(fmt("lask.array: %s: n, k and m must be integers", what), 3) end
  end
  local rows, cols = {}, {}
  for i = 1, n do
    for j = 1, m do
      if (lower and j - i <= k) or (not lower and j - i >= k) then rows[#rows + 1], cols[#cols + 1] = i, j end
    end
  end
  local nd, da = require("lask.core").ndarray, A()
  local chunks = opts and opts.chunks
  local function arr(t) return da.from_array(nd.asarray(#t > 0 and t or {}, "int64"), chunks and { chunks = chunks }) end
  return arr(rows), arr(cols)
end

--- The (1-based) row and column positions of the lower triangle of an (n, m) array (numpy's tril_indices, Dask's).
-- @param n integer
-- @param[opt=0] k integer: the diagonal (above the main one when > 0)
-- @param[opt=n] m integer
-- @param[opt] opts table: `chunks`
-- @return lask.array, lask.array: int64 rows and columns
-- @usage local r, c = da.tril_indices(3)
-- assert(r.shape[1] == 6 and r:compute():get(2) == 2 and c:compute():get(2) == 1)
function RT.tril_indices(n, k, m, opts) return tri_indices(n, k, m, opts, true, "tril_indices") end

--- The (1-based) row and column positions of the upper triangle of an (n, m) array (numpy's triu_indices, Dask's).
-- @param n integer
-- @param[opt=0] k integer
-- @param[opt=n] m integer
-- @param[opt] opts table: `chunks`
-- @return lask.array, lask.array: int64 rows and columns
-- @usage local r, c = da.triu_indices(3, 1)
-- assert(r.shape[1] == 3 and c:compute():get(3) == 3)
function RT.triu_indices(n, k, m, opts) return tri_indices(n, k, m, opts, false, "triu_indices") end

-- -----------------------------------------------------------------------------
-- Covariance

-- cov's and corrcoef's optional y: an options table in its place is the options.
local function y_and_opts(y, opts)
  if type(y) == "table" and not core.is_array(y) and getmetatable(y) == nil and y[1] == nil then return nil, y end
  return y, opts
end

--- The covariance matrix of variables (numpy's cov): rows are variables, columns observations (rowvar).
-- @param m lask.array: 1-d or 2-d
-- @param[opt] y lask.array: more variables, joined to m's
-- @param[opt] opts table: `rowvar` (true), `bias` (false: divide by N - 1), `ddof` (overrides bias)
-- @return lask.array: float64, (variables, variables), 0-d for one variable
-- @usage local c = da.cov(da.from_array({{1, 2, 3}, {2, 4, 6}}))
-- assert(c:compute():get(1, 1) == 1 and c:compute():get(1, 2) == 2)
function RT.cov(m, y, opts)
  y, opts = y_and_opts(y, opts)
  opts = opts or {}
  for key in pairs(opts) do
    if key ~= "rowvar" and key ~= "bias" and key ~= "ddof" then
      error(fmt("lask.array: cov: unknown option '%s' (rowvar, bias, ddof)", tostring(key)), 2)
    end
  end
  m = need_array(m, "cov", 2)
  if m.ndim > 2 then error("lask.array: cov: m must be 1-d or 2-d", 2) end
  local rowvar = opts.rowvar ~= false
  local function vars(a)
    a = a:astype("float64")
    if a.ndim < 2 then return a:reshape({ 1, a.size }) end
    return rowvar and a or a.T
  end
  local X = vars(m)
  if y ~= nil then
    local Y = need_array(y, "cov", 2)
    if Y.ndim > 2 then error("lask.array: cov: y must be 1-d or 2-d", 2) end
    X = A().concatenate({ X, vars(Y) }, 1)
  end
  local N = X.shape[2]
  local ddof = opts.ddof or (opts.bias and 0 or 1)
  if type(ddof) ~= "number" then error("lask.array: cov: ddof must be a number", 2) end
  local Xc = X - X:mean { axis = 2, keepdims = true }
  local c = A().dot(Xc, Xc.T) / (N - ddof)
  if c.shape[1] == 1 then return c:reshape({}) end
  return c
end

--- The correlation coefficients of variables (numpy's corrcoef): cov divided by the standard deviations, clipped to [-1, 1].
-- @param x lask.array: 1-d or 2-d
-- @param[opt] y lask.array
-- @param[opt] opts table: `rowvar` (true)
-- @return lask.array: float64
-- @usage local r = da.corrcoef(da.from_array({{1, 2, 3}, {3, 1, -1}}))
-- assert(r:compute():get(1, 2) == -1)
function RT.corrcoef(x, y, opts)
  y, opts = y_and_opts(y, opts)
  local c = RT.cov(x, y, { rowvar = not (opts and opts.rowvar == false) })
  if c.ndim == 0 then return c / c end
  local sd = A().sqrt(require("lask.array.shape").diagonal(c))
  local r = c / sd:reshape({ sd.shape[1], 1 }) / sd
  return A().clip(r, -1, 1)
end

-- -----------------------------------------------------------------------------
-- Differences of a function, windows, deletion

--- The gradient of sampled values, along each axis (numpy's gradient, uniform spacing).
-- Central differences inside, one-sided ones at the ends (edge_order 1, or 2 for
-- second-order ends), with numpy's formulas. Integers and bools give float64.
-- @param f lask.array
-- @param[opt=1] spacing number: the distance between samples (coordinate arrays are not supported)
-- @param[opt] opts table: `axis` (an axis or a list; all by default), `edge_order` (1 or 2)
-- @return lask.array: one per axis (one value for one integer axis or a 1-d f)
-- @raise for an axis of fewer than edge_order + 1 elements, a spacing that is not a number
-- @usage local g = da.gradient(da.from_array({1, 2, 4, 7, 11}, {chunks = 2}))
-- assert(g:compute():get(1) == 1 and g:compute():get(3) == 2.5 and g:compute():get(5) == 4)
function RT.gradient(f, spacing, opts)
  f = need_array(f, "gradient", 2)
  if type(spacing) == "table" then spacing, opts = nil, spacing end
  spacing, opts = spacing or 1, opts or {}
  if type(spacing) ~= "number" then
    error("lask.array: gradient: spacing must be a number (coordinate arrays are not supported)", 2)
  end
  local order = opts.edge_order or 1
  if order ~= 1 and order ~= 2 then error("lask.array: gradient: edge_order must be 1 or 2", 2) end
  if not is_float(f) then f = f:astype("float64") end
  local axes, one = {}, mtype(opts.axis) == "integer" or (opts.axis == nil and f.ndim == 1)
  if opts.axis == nil then
    for d = 1, f.ndim do axes[d] = d end
  elseif type(opts.axis) == "table" then
    for i, a in ipairs(opts.axis) do axes[i] = axis_of(a, f.ndim, "gradient", 2) end
  else
    axes[1] = axis_of(opts.axis, f.ndim, "gradient", 2)
  end
  local h, out = spacing + 0.0, {}
  for i, d in ipairs(axes) do
    local n = f.shape[d]
    if n < order + 1 then
      error(fmt("lask.array: gradient: axis %d has %d elements; edge_order %d needs at least %d", d, n, order,
        order + 1), 2)
    end
    local function at_(lo, hi) return part(f, d, lo, hi) end
    local first, last
    if order == 1 then
      first, last = (at_(2, 2) - at_(1, 1)) / h, (at_(n, n) - at_(n - 1, n - 1)) / h
    else
      first = at_(1, 1) * (-1.5 / h) + at_(2, 2) * (2 / h) + at_(3, 3) * (-0.5 / h)
      last = at_(n - 2, n - 2) * (0.5 / h) + at_(n - 1, n - 1) * (-2 / h) + at_(n, n) * (1.5 / h)
    end
    local parts = { first }
    if n > 2 then parts[2] = (at_(3, n) - at_(1, n - 2)) / (2 * h) end
    parts[#parts + 1] = last
    out[i] = A().concatenate(parts, d):astype(f.dtype)
  end
  if one then return out[1] end
  return table.unpack(out, 1, #axes)
end

--- x reduced over non-overlapping windows (Dask's coarsen): factors per axis, `{[2] = 3}` takes windows of 3 along axis 2.
-- reduction is a reduction's name ("sum", "mean", "min", "max", "prod", "any",
-- "all", ...) or a function(x, {axis = list}); each axis of extent n becomes n /
-- factor. An extent not a multiple of its factor raises, unless trim_excess drops
-- the excess at the end (Dask's rule). Made by a reshape that splits each axis
-- into (n / factor, factor), then the reduction over the factors' axes.
-- @param reduction string or function
-- @param x lask.array
-- @param factors table: {[axis] = factor}
-- @param[opt=false] trim_excess boolean
-- @return lask.array
-- @raise for a factor that does not divide its axis (without trim_excess), an unknown reduction
-- @usage local y = da.coarsen("sum", da.arange(12, {chunks = 5}):reshape({3, 4}), {[2] = 2})
-- assert(y.shape[2] == 2 and y:compute():get(1, 1) == 1 and y:compute():get(3, 2) == 21)
function RT.coarsen(reduction, x, factors, trim_excess)
  x = need_array(x, "coarsen", 2)
  local reduce = reduction
  if type(reduction) == "string" then
    reduce = A()[reduction]
    if type(reduce) ~= "function" then
      error(fmt("lask.array: coarsen: unknown reduction '%s' (sum, mean, min, max, prod, any, all, ...)", reduction), 2)
    end
  elseif type(reduction) ~= "function" then
    error("lask.array: coarsen: reduction must be a reduction's name or a function(x, {axis =})", 2)
  end
  if type(factors) ~= "table" then error("lask.array: coarsen: factors must be a table {[axis] = factor}", 2) end
  local fac, trim, any = {}, {}, false
  for a, k in pairs(factors) do
    local d = axis_of(a, x.ndim, "coarsen", 2)
    if mtype(k) ~= "integer" or k < 1 then error(fmt("lask.array: coarsen: factor for axis %d must be an integer >= 1", d), 2) end
    fac[d] = k
    if x.shape[d] % k ~= 0 then
      if not trim_excess then
        error(fmt("lask.array: coarsen: axis %d of extent %d is not a multiple of its factor %d (trim_excess = true "
          .. "drops the excess)", d, x.shape[d], k), 2)
      end
      trim[d], any = x.shape[d] - x.shape[d] % k, true
    end
  end
  if any then
    local sl = {}
    for d = 1, x.ndim do sl[d] = trim[d] and { 1, trim[d] } or {} end
    x = x:slice(table.unpack(sl, 1, x.ndim))
  end
  local shape, red = {}, {}
  for d = 1, x.ndim do
    local k = fac[d] or 1
    shape[#shape + 1] = x.shape[d] // k
    shape[#shape + 1] = k
    red[#red + 1] = #shape
  end
  return reduce(x:reshape(shape), { axis = red })
end

--- arr without the elements at the given 1-based positions along an axis (numpy's delete; flattened without an axis).
-- @param arr lask.array
-- @param obj integer or list of integers (negative from the end)
-- @param[opt] axis integer
-- @return lask.array
-- @raise for a position out of range
-- @usage assert(da.delete(da.arange(5), {1, -1}):compute():get(1) == 1)
function RT.delete(arr, obj, axis)
  local d, n
  arr, d, n = along_axis(arr, axis, "delete", 2)
  local list = type(obj) == "table" and obj or { obj }
  local drop = {}
  for _, q in ipairs(require("lask.array.indexing").positions(list, n, d, 2)) do drop[q + 1] = true end
  local keep = {}
  for i = 1, n do keep[i] = not drop[i] end
  return RT.compress(keep, arr, d)
end

-- -----------------------------------------------------------------------------
-- A Lua function along an axis

-- One block's task: func1d on every lane along the block's last axis (whole), each
-- result a number (m = 0) or m numbers; a lask.ndarray of dtype.
local function along_lanes(block, func1d, m, dtype)
  local K, ndm = require("lask.core").array_kernels, require("lask.core").ndarray
  local shape, k = block.shape, #block.shape - 1
  local n, lanes = shape[k + 1], 1
  for d = 1, k do lanes = lanes * shape[d] end
  local out, idx, starts, stops = {}, {}, {}, {}
  for d = 1, k do idx[d] = 0 end
  for _ = 1, lanes do
    for d = 1, k do starts[d], stops[d] = idx[d], idx[d] + 1 end
    starts[k + 1], stops[k + 1] = 0, n
    local r = func1d(K.reshape(K.getitem(block, starts, stops), { n }))
    if m == 0 then
      if type(r) ~= "number" and type(r) ~= "boolean" then
        error("apply_along_axis: the function returned a " .. type(r) .. " where it returned a number before", 0)
      end
      out[#out + 1] = r
    else
      local t = type(r) == "userdata" and r:totable() or r
      if type(t) ~= "table" or #t ~= m then
        error(("apply_along_axis: the function must return %d values for every lane, as it did first"):format(m), 0)
      end
      for j = 1, m do out[#out + 1] = t[j] end
    end
    for d = k, 1, -1 do
      idx[d] = idx[d] + 1
      if idx[d] < shape[d] then break end
      idx[d] = 0
    end
  end
  local oshape = {}
  for d = 1, k do oshape[d] = shape[d] end
  if m > 0 then oshape[k + 1] = m end
  if #out == 0 then return K.full(oshape, dtype == "bool" and false or 0, dtype) end
  return K.reshape(ndm.asarray(out, dtype), oshape)
end

--- func1d applied to every 1-d lane of arr along an axis (numpy's apply_along_axis, Dask's).
-- func1d gets a `lask.ndarray` lane and returns a number (the axis is dropped) or
-- a 1-d `lask.ndarray` or Lua list of m numbers (the axis becomes m long, in place).
-- The result's shape and dtype come from func1d on a lane of ones, called at once
-- (as Dask does; Lua integers give int64, other numbers float64, a lask.ndarray its
-- dtype), unless opts.shape ({} or {m}) and opts.dtype say them. The axis is
-- made one block; each block's lanes run in one Lua task (`lua = "parallel"` runs
-- the blocks on every core).
-- @param func1d function
-- @param axis integer: 1-based
-- @param arr lask.array
-- @param[opt] opts table: `dtype`, `shape`
-- @return lask.array
-- @usage local x = da.arange(6, {chunks = 2}):reshape({2, 3})
-- local s = da.apply_along_axis(function(v) return v:get(1) + v:get(3) end, 2, x)
-- assert(s:compute():get(2) == 3 + 5)
function RT.apply_along_axis(func1d, axis, arr, opts)
  if type(func1d) ~= "function" then error("lask.array: apply_along_axis: the first argument must be a function", 2) end
  arr = need_array(arr, "apply_along_axis", 2)
  opts = opts or {}
  local d = axis_of(axis, arr.ndim, "apply_along_axis", 2)
  local n = arr.shape[d]
  local m, dtype = nil, opts.dtype
  if opts.shape then
    if type(opts.shape) ~= "table" or #opts.shape > 1 then
      error("lask.array: apply_along_axis: shape is {} (a number per lane) or {m}", 2)
    end
    m = opts.shape[1] or 0
  end
  if m == nil or dtype == nil then -- a probe lane of ones
    local ones = {}
    for i = 1, n do ones[i] = arr.dtype == "bool" or 1 end
    local probe = require("lask.core").ndarray.asarray(n > 0 and ones or {}, arr.dtype)
    local r = func1d(probe)
    local t = type(r) == "userdata" and r:totable() or r
    if m == nil then m = type(t) == "table" and #t or 0 end
    if dtype == nil and type(r) == "userdata" then dtype = r.dtype end
    if dtype == nil then -- Lua values: all booleans bool, all integers int64, else float64
      local vals = type(t) == "table" and t or { t }
      local all_bool, all_int = #vals > 0, true
      for _, v in ipairs(vals) do
        all_bool = all_bool and type(v) == "boolean"
        all_int = all_int and mtype(v) == "integer"
      end
      dtype = all_bool and "bool" or (all_int and "int64" or "float64")
    end
  end
  dtype = core.dtype(dtype, 2)
  local y = require("lask.array.shape").moveaxis(arr, d, arr.ndim)
  if y.numblocks[y.ndim] > 1 then
    local want = core.plain(y.chunks)
    want[y.ndim] = { n }
    y = y:rechunk(want)
  end
  local bw = require "lask.array.blockwise"
  if m == 0 then
    return bw.map_blocks(along_lanes, y, func1d, 0, dtype, { dtype = dtype, drop_axis = y.ndim,
      name = "apply_along_axis" })
  end
  local chunks = core.plain(y.chunks)
  chunks[y.ndim] = { m }
  local r = bw.map_blocks(along_lanes, y, func1d, m, dtype, { dtype = dtype, chunks = chunks,
    name = "apply_along_axis" })
  return require("lask.array.shape").moveaxis(r, r.ndim, d)
end

return RT
