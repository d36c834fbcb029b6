-- lask.array.creation: arrays made from nothing (arange, ones, random, ...) or from
-- data in memory (from_array).
--
-- Each is a blockwise layer without inputs: the task of a block gets the block's
-- shape and its global position, so every block can be made independently and the
-- same array comes out whatever the chunking (the random kernels draw from a
-- counter-based generator keyed by the element's global index).
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
-- dtype), and task(block_shape, offsets, idx) for each block.
local function source(prefix, token_args, shape, chunks, dtype, task)
  local name = prefix .. "-" .. core.tokenize(prefix, token_args, shape, chunks, dtype)
  local offsets = {}
  for d = 1, #shape do offsets[d] = core.offsets(chunks[d]) end
  local layer = core.blockwise_layer(name, chunks, {}, function(idx)
    local bshape, off = block_geometry(chunks, offsets, idx)
    return task(bshape, off, idx)
  end)
  return core.new(layer, {}, chunks, dtype)
end
C.source = source

local function number_arg(v, what, level)
  if type(v) ~= "number" then error(fmt("lask.array: %s must be a number, got %s", what, type(v)), level + 1) end
  return v
end

-- arange([start,] stop [, step] [, opts]): start, start + step, ... below stop;
-- int64 when start, stop and step are Lua integers, else float64 (numpy's rule).
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

-- linspace(start, stop [, num=50] [, opts]): num evenly spaced values from start
-- to stop (stop included unless opts.endpoint == false).
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

function C.ones(shape, opts) return full_like("ones", shape, 1, opts, "float64", 2) end

function C.zeros(shape, opts) return full_like("zeros", shape, 0, opts, "float64", 2) end

-- full(shape, value [, opts]): the dtype defaults to the value's (int64 for Lua
-- integers, float64 for floats, bool for booleans).
function C.full(shape, value, opts)
  if type(value) ~= "number" and type(value) ~= "boolean" then
    error("lask.array: full: the fill value must be a number or a boolean", 2)
  end
  return full_like("full", shape, value, opts, core.scalar_dtype(value), 2)
end

-- eye(N [, opts]): ones on the diagonal k (opts.k, default 0) of an N x M matrix
-- (opts.M, default N).
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

-- random.random(shape [, opts]): uniform draws in [0, 1), float64.
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
C.random.random_sample = C.random.random

-- random.normal(shape [, opts]) or random.normal(loc, scale, shape [, opts]):
-- Gaussian draws (opts.loc, opts.scale: 0 and 1 by default), float64.
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

--------------------------------------------------------------------------------
-- Arrays in memory

local function ndarray_module() return require("lask.core").ndarray end

-- asarray(v): a lask.ndarray from a lask.ndarray (itself) or a nested Lua list of
-- numbers or booleans.
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

-- from_array(a [, opts]): a lazy array over an in-memory array (a lask.ndarray, or
-- a Lua table, converted with asarray), cut into opts.chunks (one block by default).
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
