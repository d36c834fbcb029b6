-- lask.array: lazy chunked arrays that build task graphs (API.md §2), as
-- dask.array does. Conventionally `local da = require "lask.array"`.
--
--   local x = da.arange(15, { chunks = 5 })
--   print(x)                       --> lask.array<arange-…, shape=(15,), chunks=((5, 5, 5)), dtype=float64>
--   print(lask.tostring(x.dask))   --> {('arange-…', 0): {arange, 0, 5}, ...}
--   print(((2 * x + 1) ^ 3):sum():compute())
--
-- The pieces, one concern each: core (the Array: metadata, chunks, names, layers,
-- printing), creation, elementwise (operators and math functions, typed by the
-- engine's rule), reductions, slicing, rechunk, structure (transpose, dot, reshape,
-- concatenate, stack, map_blocks), linalg, expression (the graph compute runs:
-- elementwise chains as one fused-kernel program per block), compute (evaluation),
-- io (.npy files).
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

-- da.load(path): the .npy file at path as an in-memory lask.ndarray.
function da.load(path, ...)
  local nd = require("lask.core").ndarray
  if not nd or not nd.load then error("lask.array: lask.ndarray is not available in this build", 2) end
  return nd.load(path, ...)
end

return da
