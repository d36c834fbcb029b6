--- Lazy chunked arrays that build task graphs, as `dask.array` does.
-- Conventionally `local da = require "lask.array"`. An array (`lask.array`, the
-- class `Array`) is a grid of blocks, each computed by a task of its graph; nothing
-- runs until `x:compute()` (a `lask.ndarray` in memory), `x:persist()` or
-- `x:store(path)`. Shapes and dtypes are known when an array is made, so misuse is
-- reported at once. dtypes: "float64", "float32", "int64", "bool". Axes and
-- indices count from 1; block coordinates in keys count from 0, as Dask's.
--
--     local x = da.arange(15, { chunks = 5 })
--     print(x)                       --> lask.array<arange-…, shape=(15,), chunks=((5, 5, 5)), dtype=int64>
--     print(lask.tostring(x.dask))   --> {('arange-…', 0): {arange, 0, 5}, ...}
--     print(((2 * x + 1) ^ 3):sum():compute())
--
-- The functions are documented in the pages of lask.array's parts:
-- `lask.array.creation`, `lask.array.elementwise`, `lask.array.ufuncs` (numpy's
-- other math functions, predicates, bitwise operations), `lask.array.reductions`,
-- `lask.array.reductions_more` (any, all, nan*, cumsum, median, quantile, topk, ...),
-- `lask.array.structure`, `lask.array.rechunk`, `lask.array.slicing`,
-- `lask.array.indexing` (`x[key]`, `x[key] = v`, unknown chunk sizes),
-- `lask.array.vindex` (pointwise indexing, `x:vindex{a, b}`), `lask.array.routines`
-- (numpy's diff, outer, isclose, average, take, select, ...),
-- `lask.array.searching` (argwhere, nonzero, unique), `lask.array.io`,
-- `lask.array.npy_stack`, `lask.array.delayed` (`x:to_delayed()`, `from_delayed`);
-- each is a function of this module (`da.sum`) and, where it takes an array first, a
-- method (`x:sum()`).
--
-- The pieces, one concern each: core (the Array: metadata, chunks, names, layers,
-- printing), creation, elementwise (operators and math functions, typed by the
-- engine's rule), reductions, slicing, indexing (x[...], x[k] = v, masks, unknown
-- chunk sizes), searching (argwhere, nonzero, unique), rechunk, structure (transpose, dot, reshape,
-- concatenate, stack), shape (flip, pad, einsum, ...), blockwise (map_blocks,
-- blockwise, map_overlap), linalg, expression (the graph compute runs:
-- elementwise chains as one fused-kernel program per block), compute (evaluation),
-- io (.npy files). They export functions; this file gathers them twice: as the
-- functions of lask.array (da.sum(x)), and as the Array class, whole (x:sum()), the
-- one place that puts methods on it.
-- @module lask.array
-- @alias da
-- @usage local x = da.arange(15, {chunks = 5})
-- assert(x.shape[1] == 15 and x.numblocks[1] == 3 and x.dtype == "int64")
-- assert(((2 * x + 1) ^ 3):sum():compute():item() == 101025)
local core = require "lask.array.core"
local creation = require "lask.array.creation"
local elementwise = require "lask.array.elementwise"
local reductions = require "lask.array.reductions"
local slicing = require "lask.array.slicing"
local rechunk = require "lask.array.rechunk"
local structure = require "lask.array.structure"
local compute = require "lask.array.compute"
local io_ = require "lask.array.io"
local ufuncs = require "lask.array.ufuncs"
local reductions_more = require "lask.array.reductions_more"
local adelayed = require "lask.array.delayed"
local npy_stack = require "lask.array.npy_stack"
local indexing = require "lask.array.indexing"
local searching = require "lask.array.searching"

--- Whether v is a lazy array (a `lask.array`).
-- @function is_array
-- @param v any value
-- @return boolean
-- @usage assert(da.is_array(da.ones(2)) and not da.is_array(da.ones(2):compute()))

--- Block sizes per axis from a chunks specification, as Dask's `normalize_chunks`.
-- @function normalize_chunks
-- @param chunks a block shape (`{2, 3}`, `5`; -1 for a whole axis), per-axis lists of
-- block sizes, or "auto" (blocks of about 128 MiB)
-- @param shape list of integers
-- @param[opt="float64"] dtype string: for "auto"
-- @return table: a list per axis of block sizes (read-only)
-- @raise when the chunks do not fit the shape, or make more blocks than a graph holds
-- @usage local c = da.normalize_chunks(4, {10, 3})
-- assert(#c[1] == 3 and c[1][3] == 2 and c[2][1] == 3)

--- A deterministic hex token for the arguments, as Dask's `tokenize`: equal inputs give equal tokens.
-- Arrays' names are made of their operation and such a token.
-- @function tokenize
-- @param ... any values
-- @return string
-- @usage assert(da.tokenize(1, "a", {2}) == da.tokenize(1, "a", {2}))
-- assert(da.tokenize(1) ~= da.tokenize(2))

--- The matrix product: the same function as `dot`.
-- @function matmul
-- @param a lask.array
-- @param b lask.array
-- @return lask.array
-- @usage assert(da.matmul(da.ones({2, 3}), da.ones(3)):compute():get(1) == 3)

--- Computes several arrays at once, in one get (also `lask.compute`).
-- Shared inputs are computed once; arguments that are not arrays are given back as
-- they are. A last plain table with option fields (those of `Array:compute`) is taken
-- as options.
-- @function compute
-- @param ... arrays and other values, then optionally the options
-- @return the arguments, each array replaced by its `lask.ndarray`
-- @usage local x = da.arange(4)
-- local a, n, s = da.compute(x, 7, x:sum(), {scheduler = "sync"})
-- assert(a:get(2) == 1 and n == 7 and s:item() == 6)

--- The array with its blocks computed and held in memory; also `x:persist()`.
-- A lazy array of the same name and chunks whose graph holds the blocks themselves:
-- what is computed from it later does not compute them again.
-- @function persist
-- @param x lask.array
-- @param[opt] opts table: as `Array:compute`'s
-- @return lask.array
-- @usage local x = (da.arange(6, {chunks = 2}) * 2):persist()
-- assert(x.numblocks[1] == 3 and x:sum():compute():item() == 30)

local da = {
  Array = core.Array,
  is_array = core.is_array,
  normalize_chunks = function(chunks, shape, dtype) return core.normalize_chunks(chunks, core.normalize_shape(shape), dtype) end,
  tokenize = core.tokenize,
  -- creation
  arange = creation.arange,
  linspace = creation.linspace,
  ones = creation.ones,
  zeros = creation.zeros,
  full = creation.full,
  eye = creation.eye,
  from_array = function(a, opts) return creation.from_array(a, opts, 2) end,
  asarray = creation.asarray,
  random = creation.random,
  from_npy = io_.from_npy,
  from_delayed = adelayed.from_delayed,
  from_npy_stack = npy_stack.from_npy_stack,
  to_npy_stack = npy_stack.to_npy_stack,
  -- structure
  transpose = structure.transpose,
  dot = structure.dot,
  matmul = structure.dot,
  reshape = structure.reshape,
  concatenate = structure.concatenate,
  stack = structure.stack,
  rechunk = rechunk.rechunk,
  slice = slicing.slice,
  -- evaluation
  compute = function(...) return require("lask.delayed").compute(...) end, -- arrays and delayed values
  persist = function(x, opts) return compute.persist(x, opts) end,
  store = function(x, path, opts) return io_.store(x, path, opts) end,
  -- indexing (x[...] itself is the array's __index, lask.array.indexing)
  newaxis = indexing.newaxis,
  ellipsis = indexing.ellipsis,
  vindex = require("lask.array.vindex").vindex,
  argwhere = searching.argwhere,
  nonzero = searching.nonzero,
  flatnonzero = searching.flatnonzero,
  unique = searching.unique,
  searchsorted = searching.searchsorted,
  digitize = searching.digitize,
  isin = searching.isin,
  compute_chunk_sizes = indexing.compute_chunk_sizes,
}

for name, f in pairs(elementwise.functions) do da[name] = f end
for name, f in pairs(ufuncs.functions) do da[name] = f end
for name, f in pairs(reductions_more.functions) do da[name] = f end
da.where = searching.where -- da.where(c) is nonzero(c); three arguments, elementwise

-- shape and construction (lask.array.shape): da.flip(x), x:flip(), ...
local shape = require "lask.array.shape"
local SHAPE_FUNCTIONS = { "ravel", "broadcast_to", "expand_dims", "squeeze", "moveaxis", "swapaxes", "flip", "flipud",
  "fliplr", "roll", "vstack", "hstack", "dstack", "block", "tile", "repeat", "repeat_", "pad", "tri", "tril", "triu", "diag",
  "diagonal", "indices", "meshgrid", "zeros_like", "ones_like", "full_like", "empty_like", "fromfunction" }
local SHAPE_METHODS = { "ravel", "broadcast_to", "expand_dims", "squeeze", "moveaxis", "swapaxes", "flip", "roll",
  "repeat_", "tril", "triu", "diagonal" }
for _, name in ipairs(SHAPE_FUNCTIONS) do da[name] = shape[name] end
local counting, einsum = require "lask.array.counting", require "lask.array.einsum"
da.histogram, da.bincount = counting.histogram, counting.bincount
da.histogramdd, da.histogram2d = counting.histogramdd, counting.histogram2d
da.tensordot, da.einsum = einsum.tensordot, einsum.einsum
-- numpy's assorted routines (lask.array.routines): da.diff(x), x:ptp(), ...
local routines = require "lask.array.routines"
for name, f in pairs(routines) do da[name] = f end

-- functions over blocks (lask.array.blockwise)
local blockwise = require "lask.array.blockwise"
da.map_blocks = blockwise.map_blocks
da.blockwise = blockwise.blockwise
da.overlap = blockwise.overlap
da.map_overlap = blockwise.map_overlap

for _, op in ipairs { "sum", "prod", "min", "max", "mean", "var", "std", "argmin", "argmax" } do
  da[op] = reductions[op]
end

--- Reports and sets the reuse cache of big array buffers.
-- Freed buffers of 4 MiB and more are kept mapped for the next block of about
-- their size (no page faults, no zeroing). The cache is bounded by the work in
-- flight: while a get runs it holds at most as many bytes as the big buffers alive,
-- and never less than `buffer_cache_idle_mb`. When the last get ends, or a buffer is
-- freed while no get runs (a dropped result, collected), a grace period of
-- `buffer_cache_grace_ms` starts: back-to-back gets reuse each other's blocks, and
-- when it ends with no get running everything above `buffer_cache_idle_mb` is given
-- back. `buffer_cache_mb` caps it all. A lowered setting gives the excess back at once.
-- @param[opt] opts table: `buffer_cache_mb` (the hard limit, 2048 by default or
-- `LASK_BUFFER_CACHE_MB`; 0 turns the cache off), `buffer_cache_idle_mb` (what is
-- kept between gets, 64 by default or `LASK_BUFFER_CACHE_IDLE_MB`),
-- `buffer_cache_grace_ms` (1000 by default or `LASK_BUFFER_CACHE_GRACE_MS`; 0 gives
-- memory back as soon as a get ends or a result is dropped), all non-negative integers
-- @return table: `buffer_cache_mb`, `buffer_cache_idle_mb`, `buffer_cache_bytes`
-- and `buffer_cache_buffers` (what the cache holds), `buffer_cache_bound_bytes`
-- (what it may hold now), `live_bytes` (the big buffers alive, cached ones aside),
-- `buffer_cache_grace_ms`
-- @raise when a setting is not a non-negative integer ("lask.array: config:
-- buffer_cache_mb must be a non-negative integer, got -1")
-- @usage local c = da.config()
-- assert(c.buffer_cache_mb == 2048 and c.buffer_cache_idle_mb == 64)
-- assert(c.buffer_cache_bytes <= c.buffer_cache_bound_bytes)
function da.config(opts)
  local nd = require("lask.core").ndarray
  local function mib(name)
    local mb = opts and opts[name]
    if mb ~= nil and (math.type(mb) ~= "integer" or mb < 0) then
      error("lask.array: config: " .. name .. " must be a non-negative integer, got " .. tostring(mb), 3)
    end
    return mb and mb << 20
  end
  local grace = opts and opts.buffer_cache_grace_ms
  if grace ~= nil and (math.type(grace) ~= "integer" or grace < 0) then
    error("lask.array: config: buffer_cache_grace_ms must be a non-negative integer, got " .. tostring(grace), 2)
  end
  local st = nd.buffer_cache(mib "buffer_cache_mb", mib "buffer_cache_idle_mb", grace)
  return { buffer_cache_mb = st.limit >> 20, buffer_cache_idle_mb = st.floor >> 20, buffer_cache_bytes = st.bytes,
           buffer_cache_buffers = st.buffers, buffer_cache_bound_bytes = st.bound, live_bytes = st.live,
           buffer_cache_grace_ms = st.grace_ms }
end

--- Gives every cached big buffer back to the system at once.
-- @usage da.trim()
-- assert(da.config().buffer_cache_bytes == 0)
function da.trim() require("lask.core").ndarray.trim() end

--- The .npy file at path as an in-memory `lask.ndarray` (numpy's `load`).
-- Only regular files are read; with `{mmap = true}` the array maps the file
-- instead (a private read-only map: truncating the file while the array lives kills
-- the process with SIGBUS, as with numpy's memmap); with `{mmap = "r+"}` a writable
-- shared map, whose writes reach the file. Raises on failure (lask's policy: errors
-- are raised, never nil, msg).
-- @param path string
-- @param[opt] opts table: `mmap` (true or "r+")
-- @return lask.ndarray
-- @raise when the file cannot be read or is not a .npy file ("lask.array: /x.npy: No such file or directory")
-- @usage local path = os.tmpname()
-- da.arange(4):compute():save(path)
-- assert(da.load(path):get(4) == 3 and da.load(path, {mmap = true}):get(1) == 0)
-- os.remove(path)
function da.load(path, ...)
  local nd = require("lask.core").ndarray
  if not nd or not nd.load then error("lask.array: lask.ndarray is not available in this build", 2) end
  if type(path) ~= "string" then error("lask.array: load: the path must be a string", 2) end
  local a, why = nd.load(path, ...)
  if not a then error("lask.array: " .. tostring(why), 2) end
  return a
end

-- ------------------------------------------------------------------------------
-- The Array class: every method and operator of a lask.array. The array's own
-- protocol (fields, x.dask, printing, #x, immutability) is core's Array_mt.

-- x:name(...)
local methods = {
  -- evaluation
  compute = compute.compute, -- x:compute([opts]): a lask.ndarray
  persist = compute.persist, -- x:persist([opts]): blocks computed, still lazy
  store = io_.store,         -- x:store(path [, opts]): a .npy file (regions, compute = false)
  to_delayed = adelayed.to_delayed, -- x:to_delayed(): a grid of delayed blocks
  -- elementwise
  astype = elementwise.astype,
  -- reductions: x:sum([axis | axes | opts]), ... (opts: axis, keepdims, split_every)
  sum = reductions.sum,
  prod = reductions.prod,
  min = reductions.min,
  max = reductions.max,
  mean = reductions.mean,
  var = reductions.var,
  std = reductions.std,
  argmin = reductions.argmin,
  argmax = reductions.argmax,
  -- shape, blocks and indexing
  transpose = structure.transpose,
  reshape = structure.reshape,
  dot = structure.dot,
  rechunk = rechunk.rechunk,
  slice = slicing.slice,
  nonzero = searching.nonzero,
  compute_chunk_sizes = indexing.compute_chunk_sizes,
  vindex = require("lask.array.vindex").vindex,
  ptp = routines.ptp,
  take = routines.take,
  copy = function(x) return require("lask.array.blocks").copy(x) end,
  flatten = shape.ravel,
}
-- x:lt(y), x:le(y), x:gt(y), x:ge(y), x:eq(y), x:ne(y): the comparisons as methods
for method, fn in pairs(indexing.comparisons) do methods[method] = elementwise.functions[fn] end

-- Functions that need every block size known refuse arrays of unknown sizes (after
-- a mask, nonzero, unique) up front, naming the remedy, x:compute_chunk_sizes():
-- the array arguments, and the arrays in a list argument (concatenate, stack).
local function known_sizes(name, f)
  return function(...)
    for i = 1, select("#", ...) do
      local a = select(i, ...)
      if core.is_array(a) then
        core.need_known(a, name, 2)
      elseif type(a) == "table" and getmetatable(a) == nil then
        for _, b in ipairs(a) do if core.is_array(b) then core.need_known(b, name, 2) end end
      end
    end
    return f(...)
  end
end
for _, name in ipairs { "reshape", "dot", "matmul", "concatenate", "stack", "store", "slice" } do
  if da[name] then da[name] = known_sizes(name, da[name]) end
  if methods[name] then methods[name] = known_sizes(name, methods[name]) end
end
-- the shape, counting, contraction and overlap functions read every block size too
for _, name in ipairs(SHAPE_METHODS) do methods[name] = shape[name] end
methods.map_overlap = blockwise.map_overlap_method -- x:map_overlap(fn, depth, ...)
for _, name in ipairs(SHAPE_FUNCTIONS) do
  da[name] = known_sizes(name, da[name])
  if methods[name] then methods[name] = known_sizes(name, methods[name]) end
end
for _, name in ipairs { "histogram", "bincount", "tensordot", "einsum", "overlap", "map_overlap" } do
  da[name] = known_sizes(name, da[name])
  if methods[name] then methods[name] = known_sizes(name, methods[name]) end
end
methods.map_blocks = blockwise.map_blocks_method -- x:map_blocks(fn, ...)

-- a + b, a - b, a * b, a / b, a % b, a // b, a ^ b, -a: elementwise, with an
-- array on either side (numbers broadcast).

--- The lazy array class (`lask.array`): its fields and the methods not documented as functions of lask.array.
-- Every function of lask.array that takes an array first is also its method:
-- `x:sum(1)` is `da.sum(x, 1)`. The operators `+ - * / % // ^` and unary `-` are
-- elementwise (see `lask.array.elementwise`); `#x` is the extent of the first axis;
-- `tostring(x)` prints as Dask's repr. Arrays are immutable: assigning a field
-- raises, and `x[i]` raises (use `x:slice(i)`). The metadata tables (`shape`,
-- `chunks`, `numblocks`, `chunksize`) are read-only, standing for Dask's tuples.
-- @type Array

--- The array's name: its operation and a token (`"arange-…"`); block keys are `(name, i, j, ...)`.
-- @field name

--- The extents, a read-only list of integers.
-- @field shape

--- The block sizes: a read-only list per axis.
-- @field chunks

--- The number of blocks along each axis, a read-only list.
-- @field numblocks

--- The largest block size along each axis, a read-only list.
-- @field chunksize

--- The number of axes.
-- @field ndim

--- The number of elements.
-- @field size

--- The element type: "float64", "float32", "int64" or "bool".
-- @field dtype

--- The blocks by position: `x.blocks[2]`, `x.blocks[{{1, 2}, -1}]` (1-based, ranges inclusive; each axis kept), an array of those blocks, as Dask's `x.blocks` (see `lask.array.blocks`).
-- @field blocks

--- The number of blocks over all axes (Dask's npartitions).
-- @field npartitions

--- The bytes of one element (8, 4, 8, 1).
-- @field itemsize

--- The bytes of all the elements: size × itemsize.
-- @field nbytes

--- A new array with x's values under a new name (Dask's copy): `x[k] = v`, which changes x in place, does not reach it.
-- @function Array:copy
-- @return lask.array
-- @usage local x = da.zeros(3)
-- local c = x:copy()
-- x[{1}] = 5
-- assert(c:compute():get(1) == 0)

--- x flattened in C order (numpy's flatten; the same as x:ravel()).
-- @function Array:flatten
-- @return lask.array: 1-d
-- @usage assert(da.ones({2, 3}):flatten().shape[1] == 6)

--- The array's task graph as a plain Lua table (made when first read).
-- @field dask

--- The array in memory: runs its graph and gives a `lask.ndarray`.
-- The graph's elementwise chains are fused into one kernel per block.
-- @function Array:compute
-- @param[opt] opts table: `scheduler` ("threaded", the default, "sync" or
-- "multiprocessing"; Dask's "threads", "synchronous", "processes" too) or `get` (a get
-- function), `num_workers`, `callbacks`, `fuse` (false: no fusion), `optimize`
-- (lask's graph optimisation, off by default), `lua` and `strict` (as `lask.get`'s)
-- @return lask.ndarray
-- @raise on an unknown option, naming the valid ones; as `lask.get` when a task fails
-- @usage local x = da.arange(6, {chunks = 4}):reshape{2, 3}
-- local a = x:compute({scheduler = "sync"})
-- assert(a.shape[1] == 2 and a:get(2, 3) == 5)

local ew = elementwise.functions
local operators = {
  __add = ew.add,
  __sub = ew.subtract,
  __mul = ew.multiply,
  __div = ew.divide,
  __mod = ew.mod,
  __idiv = ew.floor_divide,
  __pow = ew.power,
  __unm = ew.negative,
}

for name, f in pairs(ufuncs.operators) do operators[name] = f end -- & | ~ << >>

for name, f in pairs(methods) do core.Array[name] = f end
for name, f in pairs(ufuncs.methods) do core.Array[name] = f end          -- x:round(), x:clip()
for name, f in pairs(reductions_more.functions) do core.Array[name] = f end -- x:cumsum(), x:median(), ...
-- x[key], x[key] = v, and x.T (a field, as numpy's)
core.getitem, core.setitem = indexing.getitem, indexing.setitem
core.properties.T = structure.T
local blocks = require "lask.array.blocks" -- x.blocks[...], x.npartitions, x.nbytes, x.itemsize
for _, name in ipairs { "blocks", "npartitions", "nbytes", "itemsize" } do core.properties[name] = blocks[name] end
for name, f in pairs(operators) do core.Array_mt[name] = f end

return da
