-- lask.array: lazy chunked arrays that build task graphs, as
-- dask.array does. Conventionally `local da = require "lask.array"`.
--
--   local x = da.arange(15, { chunks = 5 })
--   print(x)                       --> lask.array<arange-…, shape=(15,), chunks=((5, 5, 5)), dtype=int64>
--   print(lask.tostring(x.dask))   --> {('arange-…', 0): {arange, 0, 5}, ...}
--   print(((2 * x + 1) ^ 3):sum():compute())
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
  argwhere = searching.argwhere,
  nonzero = searching.nonzero,
  flatnonzero = searching.flatnonzero,
  unique = searching.unique,
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
da.tensordot, da.einsum = einsum.tensordot, einsum.einsum

-- functions over blocks (lask.array.blockwise)
local blockwise = require "lask.array.blockwise"
da.map_blocks = blockwise.map_blocks
da.blockwise = blockwise.blockwise
da.overlap = blockwise.overlap
da.map_overlap = blockwise.map_overlap

for _, op in ipairs { "sum", "prod", "min", "max", "mean", "var", "std", "argmin", "argmax" } do
  da[op] = reductions[op]
end

-- da.config([{buffer_cache_mb = n}]) -> {buffer_cache_mb =, buffer_cache_bytes =,
-- buffer_cache_buffers =}: big freed buffers (4 MiB and more) are kept for reuse,
-- up to buffer_cache_mb (2048 by default, or LASK_BUFFER_CACHE_MB; 0 turns the
-- cache off); a lower limit gives the excess back at once. da.trim() gives them all
-- back to the system (a dropped 2 GB result stays resident until then).
function da.config(opts)
  local nd = require("lask.core").ndarray
  local mb = opts and opts.buffer_cache_mb
  if mb ~= nil and (math.type(mb) ~= "integer" or mb < 0) then
    error("lask.array: config: buffer_cache_mb must be a non-negative integer, got " .. tostring(mb), 2)
  end
  local st = nd.buffer_cache(mb and mb << 20)
  return { buffer_cache_mb = st.limit >> 20, buffer_cache_bytes = st.bytes, buffer_cache_buffers = st.buffers }
end

function da.trim() require("lask.core").ndarray.trim() end

-- da.load(path [, {mmap = true | "r+"}]): the .npy file at path as an in-memory
-- lask.ndarray (mmap = true: a private read-only map; "r+": a writable shared map,
-- whose writes reach the file); raises on failure, as from_npy does (lask's policy:
-- errors are raised, never nil, msg).
function da.load(path, ...)
  local nd = require("lask.core").ndarray
  if not nd or not nd.load then error("lask.array: lask.ndarray is not available in this build", 2) end
  if type(path) ~= "string" then error("lask.array: load: the path must be a string", 2) end
  local a, why = nd.load(path, ...)
  if not a then error("lask.array: " .. tostring(why), 2) end
  return a
end

--------------------------------------------------------------------------------
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
for name, f in pairs(operators) do core.Array_mt[name] = f end

return da
