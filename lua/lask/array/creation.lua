--- Functions of lask.array: arrays made from nothing (`arange`, `ones`, `random`, ...) or from data in memory (`from_array`).
-- Their options (a table, last): `chunks` (a block shape such as `{1000, 1000}` or
-- `1000`, per-axis lists of block sizes, or "auto", the default: blocks of about
-- 128 MiB) and, where it applies, `dtype` ("float64", "float32", "int64" or "bool").
--
-- Each is a blockwise layer without inputs: the task of a block gets the block's
-- shape and its global position, so every block can be made independently and the
-- same array comes out whatever the chunking (the random kernels draw from a
-- counter-based generator keyed by the element's global index).
-- @module lask.array.creation
-- @alias C
-- @usage local x = da.ones({4, 4}, {chunks = 2})
-- assert(x.numblocks[1] == 2 and x:sum():compute():item() == 16)
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type

local C = {}

-- Splits trailing options off an argument list.
local function split_opts(...)
  local n = select("#", ...)
  local last = n > 0 and select(n, ...) or nil
  -- the positional arguments only: the options table must not stand in for an
  -- omitted one (linspace(0, 1, {chunks = 5}) has no num)
  if type(last) == "table" and getmetatable(last) == nil then return last, n - 1, table.unpack({ ... }, 1, n - 1) end
  return {}, n, ...
end

local function check_opts(opts, what, level)
  if type(opts) ~= "table" then error(fmt("lask.array: %s: options must be a table", what), level + 1) end
  return opts
end

-- The block shape and global offsets of block idx.
local function block_geometry(chunks, offsets, idx)
  local shape, off = {}, {}
  for d = 1, #idx do
    shape[d] = chunks[d][idx[d] + 1]
    off[d] = offsets[d][idx[d] + 1]
  end
  return shape, off
end

-- A creation array: name prefix, the token's inputs, shape, options (chunks,
-- dtype), and task(block_shape, offsets, idx) for each block. task depends on the
-- shape and offsets it is given only, so it also makes any run of rows of a block:
-- layer.part(idx, first, count) is the task of rows first .. first+count-1 (0-based,
-- along the first axis) of block idx, layer.block_shape(idx) the block's shape
-- (lask.array.expression reduces big blocks part by part with them).
local function source(prefix, token_args, shape, chunks, dtype, task)
  local name = prefix .. "-" .. core.tokenize(prefix, token_args, shape, chunks, dtype)
  local offsets = {}
  for d = 1, #shape do offsets[d] = core.offsets(chunks[d]) end
  local layer = core.blockwise_layer(name, chunks, {}, function(idx)
    local bshape, off = block_geometry(chunks, offsets, idx)
    return task(bshape, off, idx)
  end)
  if #shape > 0 then
    layer.block_shape = function(idx) return (block_geometry(chunks, offsets, idx)) end
    layer.part = function(idx, first, count)
      local bshape, off = block_geometry(chunks, offsets, idx)
      bshape[1], off[1] = count, off[1] + first
      return task(bshape, off, idx)
    end
  end
  return core.new(layer, {}, chunks, dtype)
end
C.source = source

local function number_arg(v, what, level)
  if type(v) ~= "number" then error(fmt("lask.array: %s must be a number, got %s", what, type(v)), level + 1) end
  return v
end

--- Evenly spaced values: start, start + step, ... below stop (numpy's `arange`).
-- int64 when start, stop and step are Lua integers, else float64 (numpy's rule).
-- @param[opt=0] start number
-- @param stop number
-- @param[opt=1] step number
-- @param[opt] opts table: `chunks`, `dtype`
-- @return lask.array: 1-d
-- @raise on a step of 0 or too many elements
-- @usage local x = da.arange(2, 10, 3, {chunks = 2})
-- assert(x.shape[1] == 3 and x:compute():get(3) == 8)
function C.arange(...)
  local opts, n, a, b, c = split_opts(...)
  check_opts(opts, "arange", 2)
  if n < 1 or n > 3 then error("lask.array: arange([start,] stop [, step] [, opts])", 2) end
  local start, stop, step = 0, a, 1
  if n >= 2 then start, stop = a, b end
  if n == 3 then step = c end
  number_arg(start, "arange: start", 2)
  number_arg(stop, "arange: stop", 2)
  number_arg(step, "arange: step", 2)
  if step == 0 then error("lask.array: arange: step must not be 0", 2) end
  local len = math.max(0, math.ceil((stop - start) / step))
  len = math.tointeger(len) or error("lask.array: arange: too many elements", 2)
  local exact = mtype(start) == "integer" and mtype(step) == "integer"
  local natural = exact and mtype(stop) == "integer" and "int64" or "float64"
  local dtype = core.dtype(opts.dtype or natural, 2)
  local chunks = core.normalize_chunks(opts.chunks, { len }, dtype, 2)
  local k = core.kernel("arange")
  return source("arange", { start, stop, step }, { len }, chunks, dtype, function(bshape, off)
    -- integers: the block's own range, as numpy's arange(start, stop[, step]) reads
    -- ({arange, 5, 10}); floats: the whole range, the block's first element and count,
    -- so every chunking gives the same bits
    if exact then
      local task = { k, start + step * off[1], start + step * (off[1] + bshape[1]) }
      if step ~= 1 or dtype ~= "int64" then task[4] = step end
      if dtype ~= "int64" then task[5] = dtype end
      return task
    end
    return { k, start, stop, step, dtype, off[1], bshape[1] }
  end)
end

--- num evenly spaced values from start to stop (numpy's `linspace`), float64.
-- @param start number
-- @param stop number
-- @param[opt=50] num integer
-- @param[opt] opts table: `chunks`, `endpoint` (false: stop left out)
-- @return lask.array: 1-d
-- @usage local x = da.linspace(0, 1, 5)
-- assert(x:compute():get(2) == 0.25)
function C.linspace(...)
  local opts, n, start, stop, num = split_opts(...)
  check_opts(opts, "linspace", 2)
  if n < 2 then error("lask.array: linspace(start, stop [, num] [, opts])", 2) end
  number_arg(start, "linspace: start", 2)
  number_arg(stop, "linspace: stop", 2)
  num = core.normalize_shape(num or 50, 2)[1]
  local endpoint = opts.endpoint ~= false
  local div = endpoint and num - 1 or num
  local step = div > 0 and (stop - start) / div or 0
  local dtype = core.dtype(opts.dtype or "float64", 2)
  local chunks = core.normalize_chunks(opts.chunks, { num }, dtype, 2)
  local k = core.kernel("linspace")
  return source("linspace", { start, stop, num, endpoint }, { num }, chunks, dtype, function(bshape, off)
    return { k, start, step, bshape[1], dtype, off[1] }
  end)
end

local function full_like(prefix, shape, value, opts, default_dtype, level)
  level = level + 1
  shape = core.normalize_shape(shape, level)
  check_opts(opts or {}, prefix, level)
  opts = opts or {}
  local dtype = core.dtype(opts.dtype or default_dtype, level)
  local chunks = core.normalize_chunks(opts.chunks, shape, dtype, level)
  local k = core.kernel("full")
  if #shape == 0 then -- a Lua {} cannot stand for an empty shape: make (1,) and drop the axis
    local squeeze = core.kernel("squeeze")
    return source(prefix, value, shape, chunks, dtype, function()
      return { squeeze, { k, { 1 }, value, dtype }, { 0 } }
    end)
  end
  return source(prefix, value, shape, chunks, dtype, function(bshape)
    return { k, bshape, value, dtype }
  end)
end

--- An array of ones (float64 by default).
-- @param shape integer or list of integers
-- @param[opt] opts table: `chunks`, `dtype`
-- @return lask.array
-- @usage assert(da.ones({2, 3}):sum():compute():item() == 6)
function C.ones(shape, opts) return full_like("ones", shape, 1, opts, "float64", 2) end

--- An array of zeros (float64 by default).
-- @param shape integer or list of integers
-- @param[opt] opts table: `chunks`, `dtype`
-- @return lask.array
-- @usage assert(da.zeros(3, {dtype = "int64"}):compute():get(1) == 0)
function C.zeros(shape, opts) return full_like("zeros", shape, 0, opts, "float64", 2) end

--- An array filled with value.
-- The dtype defaults to the value's (int64 for Lua integers, float64 for floats,
-- bool for booleans).
-- @param shape integer or list of integers
-- @param value number or boolean
-- @param[opt] opts table: `chunks`, `dtype`
-- @return lask.array
-- @usage local x = da.full({2, 2}, 7)
-- assert(x.dtype == "int64" and x:compute():get(2, 2) == 7)
function C.full(shape, value, opts)
  if type(value) ~= "number" and type(value) ~= "boolean" then
    error("lask.array: full: the fill value must be a number or a boolean", 2)
  end
  return full_like("full", shape, value, opts, core.scalar_dtype(value), 2)
end

--- A matrix with ones on a diagonal and zeros elsewhere (numpy's `eye`).
-- @param N integer: rows
-- @param[opt] opts table: `M` (columns, N by default), `k` (the diagonal, 0: the
-- main one, positive above), `chunks`, `dtype`
-- @return lask.array: N x M
-- @usage local e = da.eye(3, {k = 1}):compute()
-- assert(e:get(1, 2) == 1 and e:get(1, 1) == 0)
function C.eye(N, opts)
  opts = check_opts(opts or {}, "eye", 2)
  local M = opts.M or N
  local shape = core.normalize_shape({ N, M }, 2)
  local k = opts.k or 0
  if mtype(k) ~= "integer" then error("lask.array: eye: k must be an integer", 2) end
  local dtype = core.dtype(opts.dtype or "float64", 2)
  local chunks = core.normalize_chunks(opts.chunks, shape, dtype, 2)
  local kern = core.kernel("eye")
  return source("eye", k, shape, chunks, dtype, function(bshape, off)
    return { kern, bshape, k - off[2] + off[1], dtype }
  end)
end

-- The seed of a random array: opts.seed, or a fresh one.
local function seed_of(opts, level)
  local seed = opts.seed
  if seed == nil then return math.random(0, 2 ^ 31 - 1) end
  if mtype(seed) ~= "integer" or seed < 0 then
    error("lask.array: random: seed must be a non-negative integer", level + 1)
  end
  return seed
end

C.random = {}

--- Uniform draws in [0, 1), float64 (also `random.random_sample`).
-- The numbers depend on the seed and each element's position only, not on the chunks.
-- @function random.random
-- @param shape integer or list of integers
-- @param[opt] opts table: `seed` (a non-negative integer; a fresh one by default), `chunks`
-- @return lask.array
-- @usage local x = da.random.random({100}, {seed = 1, chunks = 30})
-- local y = da.random.random({100}, {seed = 1, chunks = 50})
-- assert((x - y):max():compute():item() == 0 and x:min():compute():item() >= 0)
function C.random.random(shape, opts)
  opts = check_opts(opts or {}, "random", 2)
  shape = core.normalize_shape(shape, 2)
  local seed = seed_of(opts, 2)
  local chunks = core.normalize_chunks(opts.chunks, shape, "float64", 2)
  local k = core.kernel("random")
  return source("random", seed, shape, chunks, "float64", function(bshape, off)
    return { k, bshape, seed, off, shape }
  end)
end
--- Uniform draws in [0, 1): the same as `random.random`.
-- @function random.random_sample
-- @param shape integer or list of integers
-- @param[opt] opts table: `seed`, `chunks`
-- @return lask.array
-- @usage assert(da.random.random_sample(3, {seed = 0}):compute():get(1) < 1)
C.random.random_sample = C.random.random

--- Gaussian draws, float64: `random.normal(shape [, opts])` or `random.normal(loc, scale, shape [, opts])`.
-- The Box-Muller pairs of the Philox uniforms, the same bits on every machine and for
-- every chunking; with loc 0 and scale 1 within 1e-15 max(1, r) of the exact transform
-- (r: the pair's radius; README: Random numbers).
-- @function random.normal
-- @param[opt=0] loc number: the mean
-- @param[opt=1] scale number: the standard deviation
-- @param shape integer or list of integers
-- @param[opt] opts table: `seed`, `chunks`, `loc`, `scale`
-- @return lask.array
-- @usage local x = da.random.normal(10, 0.1, {1000}, {seed = 0})
-- assert(math.abs(x:mean():compute():item() - 10) < 0.1)
function C.random.normal(a, b, c, d)
  local shape, opts, loc, scale
  if type(a) == "number" and type(b) == "number" then
    loc, scale, shape, opts = a, b, c, d or {}
  else
    shape, opts = a, b or {}
  end
  check_opts(opts, "normal", 2)
  loc, scale = loc or opts.loc or 0.0, scale or opts.scale or 1.0
  shape = core.normalize_shape(shape, 2)
  local seed = seed_of(opts, 2)
  local chunks = core.normalize_chunks(opts.chunks, shape, "float64", 2)
  local k = core.kernel("normal")
  return source("normal", { seed, loc, scale }, shape, chunks, "float64", function(bshape, off)
    return { k, bshape, seed, off, shape, loc, scale }
  end)
end

-- ------------------------------------------------------------------------------
-- Arrays in memory

local function ndarray_module() return require("lask.core").ndarray end

--- An in-memory `lask.ndarray` from a nested Lua list of numbers or booleans (or an ndarray, given back).
-- @param v a nested list (rows of equal length) or a lask.ndarray
-- @param[opt] dtype string: the dtype (by default the widest of the elements': bool, int64, float64)
-- @return lask.ndarray
-- @raise on a ragged list, naming where: "[2][1]"
-- @usage local a = da.asarray({{1, 2}, {3, 4}})
-- assert(a.dtype == "int64" and a:get(2, 1) == 3)
function C.asarray(v, dtype)
  local nd = ndarray_module()
  if not nd then error("lask.array: lask.ndarray is not available in this build", 2) end
  return nd.asarray(v, dtype)
end

local function is_ndarray(v)
  local nd = ndarray_module()
  return nd and nd.isndarray and nd.isndarray(v)
end
C.is_ndarray = is_ndarray

--- A lazy array over an in-memory one, cut into blocks.
-- @function from_array
-- @param a a lask.ndarray, or a nested Lua list (converted with `asarray`)
-- @param[opt] opts table: `chunks` (one block by default)
-- @return lask.array
-- @usage local x = da.from_array({1, 2, 3, 4}, {chunks = 2})
-- assert(x.numblocks[1] == 2 and x:sum():compute():item() == 10)
function C.from_array(a, opts, level)
  level = (level or 1) + 1
  opts = check_opts(opts or {}, "from_array", level)
  local token
  if not is_ndarray(a) then
    if type(a) ~= "table" then
      error(fmt("lask.array: from_array: expected a lask.ndarray or a table of numbers, got %s", type(a)), level)
    end
    token = core.tokenize("table", a)
    local ok, arr = pcall(C.asarray, a, opts.dtype)
    if not ok then error(arr, level) end
    a = arr
  else
    token = core.tokenize("ndarray", a) -- by identity: the layer keeps a alive, so its address stays unique
    if opts.dtype and core.dtype(opts.dtype, level) ~= a.dtype then a = a:astype(opts.dtype) end
  end
  local shape = {}
  for d = 1, #a.shape do shape[d] = a.shape[d] end
  local dtype = a.dtype
  local chunks = core.normalize_chunks(opts.chunks or -1, shape, dtype, level)
  local k, whole = core.kernel("getitem"), true
  for d = 1, #chunks do if #chunks[d] > 1 then whole = false end end
  local name = "array-" .. token
  local offsets = {}
  for d = 1, #shape do offsets[d] = core.offsets(chunks[d]) end
  local layer = core.blockwise_layer(name, chunks, {}, function(idx)
    if whole then return a end
    local bshape, off = block_geometry(chunks, offsets, idx)
    local stops = {}
    for d = 1, #off do stops[d] = off[d] + bshape[d] end
    return { k, a, off, stops }
  end)
  return core.new(layer, {}, chunks, dtype)
end

return C
