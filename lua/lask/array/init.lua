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
-- engine's rule), reductions, slicing, rechunk, structure (transpose, dot, reshape,
-- concatenate, stack, map_blocks), linalg, expression (the graph compute runs:
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
  -- structure
  transpose = structure.transpose,
  dot = structure.dot,
  matmul = structure.dot,
  reshape = structure.reshape,
  concatenate = structure.concatenate,
  stack = structure.stack,
  map_blocks = structure.map_blocks,
  rechunk = rechunk.rechunk,
  slice = slicing.slice,
  -- evaluation
  compute = compute.compute_many,
  persist = function(x, opts) return compute.persist(x, opts) end,
  store = function(x, path, opts) return io_.store(x, path, opts) end,
}

for name, f in pairs(elementwise.functions) do da[name] = f end

for _, op in ipairs { "sum", "prod", "min", "max", "mean", "var", "std", "argmin", "argmax" } do
  da[op] = reductions[op]
end

--- Reports and sets the reuse cache of big array buffers.
-- Freed buffers of 4 MiB and more are kept mapped for the next block of about
-- their size (no page faults, no zeroing). The cache is bounded by the work in
-- flight: while a get runs it holds at most as many bytes as the big buffers alive,
-- and never less than `buffer_cache_idle_mb`; when the last get ends it gives back
-- everything above `buffer_cache_idle_mb`, and a buffer freed while no get runs (a
-- dropped result, collected) is kept only under it. `buffer_cache_mb` caps it all.
-- A lowered setting gives the excess back at once.
-- @param[opt] opts table: `buffer_cache_mb` (the hard limit, 2048 by default or
-- `LASK_BUFFER_CACHE_MB`; 0 turns the cache off), `buffer_cache_idle_mb` (what is
-- kept between gets, 64 by default or `LASK_BUFFER_CACHE_IDLE_MB`), both
-- non-negative integers
-- @return table: `buffer_cache_mb`, `buffer_cache_idle_mb`, `buffer_cache_bytes`
-- and `buffer_cache_buffers` (what the cache holds), `buffer_cache_bound_bytes`
-- (what it may hold now), `live_bytes` (the big buffers alive, cached ones aside)
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
  local st = nd.buffer_cache(mib "buffer_cache_mb", mib "buffer_cache_idle_mb")
  return { buffer_cache_mb = st.limit >> 20, buffer_cache_idle_mb = st.floor >> 20, buffer_cache_bytes = st.bytes,
           buffer_cache_buffers = st.buffers, buffer_cache_bound_bytes = st.bound, live_bytes = st.live }
end

--- Gives every cached big buffer back to the system at once.
-- @usage da.trim()
-- assert(da.config().buffer_cache_bytes == 0)
function da.trim() require("lask.core").ndarray.trim() end

-- da.load(path): the .npy file at path as an in-memory lask.ndarray; raises on
-- failure, as from_npy does (lask's policy: errors are raised, never nil, msg).
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
  store = io_.store,         -- x:store(path [, opts]): a .npy file
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
  T = structure.T,
  transpose = structure.transpose,
  reshape = structure.reshape,
  dot = structure.dot,
  rechunk = rechunk.rechunk,
  slice = slicing.slice,
}

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

for name, f in pairs(methods) do core.Array[name] = f end
for name, f in pairs(operators) do core.Array_mt[name] = f end

return da
