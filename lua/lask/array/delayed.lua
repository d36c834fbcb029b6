--- Arrays and delayed values: `x:to_delayed()` and `da.from_delayed`.
-- A block of an array as a delayed value, and a delayed value as an array (of
-- one block), as Dask's `Array.to_delayed` and `da.from_delayed`.
-- @module lask.array.delayed
local core = require "lask.array.core"
local lcore = require "lask.core"

local AD = {}

--- The blocks of an array as delayed values, in a nested table shaped as the block grid.
-- `x:to_delayed()[i][j]` is the block (i-1, j-1) of x (the block key `lask.key(x.name,
-- i-1, j-1)` is its key, as in Dask); it computes to a `lask.ndarray`. A 0-d array
-- gives one delayed value. Computing several together computes x once.
-- @param x lask.array: the array
-- @return table|lask.delayed: the grid of delayed blocks
-- @usage local x = da.arange(6, { chunks = 4 })
-- local b = x:to_delayed()
-- assert(#b == 2 and b[2]:compute():get(1) == 4)
function AD.to_delayed(x)
  if not core.is_array(x) then error("lask.array: to_delayed: expected an array, got " .. type(x), 2) end
  local D = require "lask.delayed"
  local outputs = { [x.name] = true }
  if x.ndim == 0 then return D.from_layers(lcore.key(x.name), x.layers, outputs) end
  local nb = x.numblocks
  local idx = {}
  local function level(d)
    local out = {}
    for i = 0, nb[d] - 1 do
      idx[d] = i
      out[i + 1] = d == #nb and D.from_layers(core.block_key(x.name, idx), x.layers, outputs) or level(d + 1)
    end
    return out
  end
  return level(1)
end

-- The value of a from_delayed block: v (a lask.ndarray, or a number, boolean or
-- nested Lua list made one) of the declared shape, in the declared dtype.
local function as_block(v, shape, dtype, key)
  local nd = require("lask.core").ndarray
  if not nd.isndarray(v) then
    local t = type(v)
    if t ~= "number" and t ~= "boolean" and t ~= "table" then
      error(("lask.array: from_delayed: %s computed to a %s, not an array"):format(key, t), 0)
    end
    v = nd.asarray(v, dtype)
  end
  local same = #v.shape == #shape
  for d = 1, #shape do same = same and v.shape[d] == shape[d] end
  if not same then
    local got = {}
    for d = 1, #v.shape do got[d] = v.shape[d] end
    error(("lask.array: from_delayed: %s computed to an array of shape %s, but shape %s was declared")
      :format(key, core.tuple(got), core.tuple(shape)), 0)
  end
  if v.dtype ~= dtype then v = v:astype(dtype) end
  return v
end
require("lask.funcname").register(as_block, "from_delayed")

--- An array of one block from a delayed value that computes to an array.
-- The value may also compute to a number, boolean or nested Lua list (made an
-- array); it is converted to `dtype`, and a value of another shape than `shape` is
-- an error naming its key.
-- @param d lask.delayed: the value (anything else is made a delayed literal)
-- @param shape table: its shape (a list of integers)
-- @param[opt] opts table: `dtype` (float64 by default), `name` (the array's name)
-- @return lask.array: the array, one block
-- @raise when shape or dtype is invalid; at compute, when the value's shape differs
-- @usage local f = lask.delayed(function(n) return da.asarray({ n, n + 1 }) end)
-- local x = da.from_delayed(f(1), { 2 }, { dtype = "int64" })
-- assert((x * 10):sum():compute():item() == 30)
function AD.from_delayed(d, shape, opts)
  local D = require "lask.delayed"
  opts = opts or {}
  if type(opts) ~= "table" then error("lask.array: from_delayed: options must be a table", 2) end
  require("lask.getter").check_names(opts, { dtype = true, name = true }, "lask.array: from_delayed", 2)
  if not D.is_delayed(d) then d = D.delayed(d) end
  shape = core.normalize_shape(shape, 2)
  local dtype = core.dtype(opts.dtype or "float64", 2)
  local key, tasks, layers, outputs = D.parts(d)
  local name = opts.name or ("from-value-" .. core.tokenize("from_delayed", tostring(key), shape, dtype))
  if type(name) ~= "string" then error("lask.array: from_delayed: name must be a string", 2) end
  local zeros = {}
  for i = 1, #shape do zeros[i] = 0 end
  local bkey = core.block_key(name, zeros)
  local shown = type(key) == "string" and ("'" .. key .. "'") or tostring(key)
  local layer = {
    name = name, kind = "generic", deps = {},
    build = function()
      local dsk = {}
      for k, v in pairs(tasks) do dsk[k] = v end
      dsk[bkey] = { as_block, key, lcore.quote(shape), dtype, lcore.quote(shown) }
      return dsk
    end,
  }
  for n in pairs(outputs) do
    if layers[n] then layer.deps[#layer.deps + 1] = n end -- read by this layer: never fused away
  end
  local chunks = {}
  for i = 1, #shape do chunks[i] = { shape[i] } end
  return core.new(layer, { { layers = layers } }, chunks, dtype)
end

return AD
