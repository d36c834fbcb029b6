--- Block-level access, as Dask's: `x.blocks[...]`, `x.npartitions`, `x.nbytes`, `x:copy()`.
-- `x.blocks[key]` is the array made of the blocks the key selects, whole: one entry
-- per axis, an integer (one block; the axis is kept, as in Dask), a range
-- `{first, last [, step]}` (inclusive) or `{}` (every block); missing trailing
-- entries are whole axes. Block positions count from 1, negative from the end, as
-- every lask index (Dask's `x.blocks[0]` is lask's `x.blocks[1]`); the keys of the
-- graph keep Dask's 0-based block coordinates. The blocks are not copied: the new
-- array's tasks are aliases of x's.
-- @module lask.array.blocks
-- @usage local x = da.arange(10, {chunks = 3})        -- blocks of 3, 3, 3, 1
-- assert(x.blocks[2]:compute():get(1) == 3 and x.blocks[-1].shape[1] == 1)
-- local y = da.ones({4, 6}, {chunks = 2}).blocks[{{1, 2}, 3}]
-- assert(y.shape[1] == 4 and y.shape[2] == 2 and y.npartitions == 2)
-- local c = x:copy()
-- x[{1}] = 5                                       -- x changes in place; c does not
-- assert(c:compute():get(1) == 0 and x:compute():get(1) == 5)
-- @alias B
local core = require "lask.array.core"
local slicing = require "lask.array.slicing"

local fmt = string.format
local block_key = core.block_key

local B = {}

-- The array of x's blocks that key selects (level: the caller's, for errors).
local function select_blocks(x, key, level)
  if type(key) == "number" then key = { key } end
  if type(key) ~= "table" or getmetatable(key) ~= nil then
    error(fmt("lask.array: x.blocks takes an integer or a table with one entry per axis, got %s", type(key)), level + 1)
  end
  local n = 0
  for k in pairs(key) do
    if math.type(k) ~= "integer" or k < 1 then
      error("lask.array: x.blocks: the key is a list with one entry per axis", level + 1)
    end
    n = math.max(n, k)
  end
  if n > x.ndim then error(fmt("lask.array: x.blocks: too many indices (%d) for a %d-d array", n, x.ndim), level + 1) end
  local picks, chunks = {}, {}
  for d = 1, x.ndim do
    local e = key[d]
    if type(e) == "table" and e[3] ~= nil and math.type(e[3]) == "integer" and e[3] < 0 then
      error(fmt("lask.array: x.blocks: axis %d: negative steps are not supported", d), level + 1)
    end
    local nb = x.numblocks[d]
    if math.type(e) == "integer" and (e == 0 or e > nb or e < -nb) then
      error(fmt("lask.array: x.blocks: block %d is out of range for axis %d of %d blocks (positions count from 1)", e,
        d, nb), level + 1)
    end
    local start, stop, step = slicing.parse(e, nb, d, level + 1)
    picks[d], chunks[d] = {}, {}
    for b = start, stop - 1, step do
      picks[d][#picks[d] + 1] = b
      chunks[d][#chunks[d] + 1] = x.chunks[d][b + 1]
    end
    if #chunks[d] == 0 then
      error(fmt("lask.array: x.blocks: axis %d: the selection holds no block (an array needs at least one)", d),
        level + 1)
    end
  end
  local name = "blocks-" .. core.tokenize("blocks", x, picks)
  local x_name = x.name
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local src = {}
    for d = 1, #idx do src[d] = picks[d][idx[d] + 1] end
    dsk[block_key(name, idx)] = block_key(x_name, src) -- an alias
  end, { x_name })
  return core.new(layer, { x }, chunks, x.dtype)
end

-- `x.blocks`: indexable by block positions (see the module's description).
function B.blocks(x)
  return setmetatable({}, {
    __index = function(_, key) return select_blocks(x, key, 2) end,
    __newindex = function() error("lask.array: x.blocks is read-only", 2) end,
    __name = "lask.array.blocks",
  })
end

-- The number of blocks, all axes together (Dask's npartitions).
function B.npartitions(x)
  local n = 1
  for _, b in ipairs(x.numblocks) do n = n * b end
  return n
end

-- The bytes of one element (numpy's itemsize): 8, 4, 8 or 1.
function B.itemsize(x) return core.itemsize[x.dtype] end

-- The bytes of every element (numpy's nbytes): size times itemsize.
function B.nbytes(x) return x.size * core.itemsize[x.dtype] end

-- A new array with x's values, under a new name (Dask's copy): later `x[k] = v`
-- assignments, which change x in place, do not reach it.
function B.copy(x)
  local name = "copy-" .. core.tokenize("copy", x)
  local x_name = x.name
  local layer = core.grid_layer(name, x.numblocks, function(dsk, idx)
    dsk[block_key(name, idx)] = block_key(x_name, idx)
  end, { x_name })
  return core.new(layer, { x }, x.chunks, x.dtype)
end

return B
