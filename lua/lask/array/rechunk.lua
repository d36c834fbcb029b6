--- Functions of lask.array: `rechunk`, the same array cut into other blocks.
--
-- Each new block is assembled from the pieces of the old blocks it overlaps: one
-- piece that is a whole old block is that block (an alias, no copy), one partial
-- piece is a getitem view, several pieces are joined by the block kernel (np.block)
-- in one copy. One stage, as the graphs stay small for the rechunks arrays need
-- (aligning operands, matching a product's inner blocks).
-- @module lask.array.rechunk
-- @alias R
local core = require "lask.array.core"

local R = {}

-- Along one axis: for each new block, the list of {old block, lo, hi} (0-based,
-- local to the old block, hi exclusive) it is made of.
function R.pieces(old, new)
  local out, i, istart = {}, 1, 0
  local pos = 0
  for j, size in ipairs(new) do
    local s, e, list = pos, pos + size, {}
    if size == 0 then
      list[1] = { 0, 0, 0 }
    else
      while istart + old[i] <= s do
        istart = istart + old[i]
        i = i + 1
      end
      local k, kstart = i, istart
      while kstart < e do
        local lo, hi = math.max(s, kstart) - kstart, math.min(e, kstart + old[k]) - kstart
        if hi > lo then list[#list + 1] = { k - 1, lo, hi } end
        kstart = kstart + old[k]
        k = k + 1
      end
    end
    out[j] = list
    pos = e
  end
  return out
end

-- The task or key for one new block from the per-axis piece lists (one list per
-- axis, for this block).
local function assemble(name, old_chunks, per_axis)
  local nd = #per_axis
  local function leaf(choice)
    local idx, starts, stops, whole = {}, {}, {}, true
    for d = 1, nd do
      local p = choice[d]
      idx[d], starts[d], stops[d] = p[1], p[2], p[3]
      if p[2] ~= 0 or p[3] ~= old_chunks[d][p[1] + 1] then whole = false end
    end
    local key = core.block_key(name, idx)
    if whole then return key end
    return { core.kernel("getitem"), key, starts, stops }
  end
  local single = true
  for d = 1, nd do if #per_axis[d] > 1 then single = false end end
  local choice = {}
  if single then
    for d = 1, nd do choice[d] = per_axis[d][1] end
    return leaf(choice)
  end
  local function level(d)
    local out = {}
    for i, p in ipairs(per_axis[d]) do
      choice[d] = p
      out[i] = d == nd and leaf(choice) or level(d + 1)
    end
    return out
  end
  return { core.kernel("block"), level(1) }
end

--- The same array cut into other blocks; also `x:rechunk(chunks)`.
-- @param x lask.array
-- @param chunks a block shape (`{2, 3}`, `5`), per-axis lists of block sizes, or "auto"
-- (as `normalize_chunks` takes them)
-- @return lask.array
-- @usage local x = da.arange(10, {chunks = 5}):rechunk(2)
-- assert(x.numblocks[1] == 5 and x:sum():compute():item() == 45)
function R.rechunk(x, chunks)
  core.need_known(x, "rechunk", 2)
  local new = core.normalize_chunks(chunks, x.shape, x.dtype, 2)
  if core.same_chunks(new, x.chunks) then return x end
  local name = "rechunk-" .. core.tokenize("rechunk", x, new)
  local per_axis = {}
  for d = 1, x.ndim do per_axis[d] = R.pieces(x.chunks[d], new[d]) end
  local old_name, old_chunks = x.name, x.chunks
  local layer = core.grid_layer(name, core.numblocks_of(new), function(dsk, idx)
    local lists = {}
    for d = 1, #idx do lists[d] = per_axis[d][idx[d] + 1] end
    dsk[core.block_key(name, idx)] = assemble(old_name, old_chunks, lists)
  end)
  return core.new(layer, { x }, new, x.dtype)
end

return R
