--- Pointwise (vectorised) indexing: numpy's `x[[1, 3], [2, 4]]`, Dask's `x.vindex[...]`.
-- `x:vindex{a, b, ...}` (or `da.vindex(x, {a, b, ...})`) picks the elements
-- `x[a[p], b[p], ...]` for every point p: the index lists are taken together, not as
-- an outer product as `x[{...}]` takes them (which, as Dask's `x[...]`, refuses more
-- than one list). The key has one entry per axis:
--
--   * an index list: a Lua list of integers (nested lists for more dimensions), or
--     an int64 `lask.ndarray` of any shape; 1-based values, negative from the end;
--   * an integer: picks along that axis first (the axis is dropped), as Dask's;
--   * nil (a hole) or a missing trailing entry: the whole axis;
--   * `da.ellipsis`: as many whole axes as the others leave.
--
-- In vindex a plain table is always an index list (`{2, 4}` is the positions 2 and
-- 4, not a range): slice first (`x[{{}, {2, 9}}]:vindex{...}`). The lists broadcast
-- against one another by numpy's rules (a list of one element, or an integer
-- list of shape {}, repeats); lists that do not broadcast raise, naming their
-- shapes. The result's first axes are the broadcast shape of the lists, then the
-- axes without a list, in order: Dask's vindex rule (numpy keeps the lists' axes in
-- place when they are adjacent; the two agree when the lists index the leading
-- axes). Lazy index arrays are refused, as Dask's vindex refuses them: compute the
-- index first. Each result block gathers its points from the blocks they fall in,
-- one task per block of points (of the largest block size along the lists' axes).
-- @module lask.array.vindex
-- @alias V
local core = require "lask.array.core"
local indexing = require "lask.array.indexing"

local fmt, mtype = string.format, math.type
local block_key = core.block_key

local V = {}

local function fail(msg, level) error("lask.array: vindex: " .. msg, level + 1) end

local flatten = require("lask.graph").flatten -- the leaves of nested lists, in order
-- The shape of nested Lua lists (checked rectangular by lask.ndarray.asarray).
local function list_shape(t)
  local shape = {}
  while type(t) == "table" do
    shape[#shape + 1] = #t
    t = t[1]
  end
  return shape
end

-- An index entry as {shape =, flat =} with 0-based positions on axis d of extent n.
local function index_of(e, d, n, level)
  local shape, flat
  if core.is_array(e) then
    fail(fmt("axis %d: lazy index arrays are not supported (as in Dask's vindex): compute the index first, "
      .. "x:vindex{ix:compute()}", d), level + 1)
  elseif require("lask.array.creation").is_ndarray(e) then
    if e.dtype ~= "int64" then fail(fmt("axis %d: an index array must be int64, got %s", d, e.dtype), level + 1) end
    shape = {}
    for i = 1, #e.shape do shape[i] = e.shape[i] end
    flat = #shape == 0 and { e:get() } or flatten(e:totable())
  elseif type(e) == "table" and getmetatable(e) == nil then
    flat, shape = flatten(e), list_shape(e)
    local size = 1
    for _, s in ipairs(shape) do size = size * s end
    for i, v in ipairs(flat) do
      if mtype(v) ~= "integer" then
        fail(fmt("axis %d: item %d of the index list is %s, not an integer", d, i, tostring(v)), level + 1)
      end
    end
    if size ~= #flat then fail(fmt("axis %d: the nested index lists are not rectangular", d), level + 1) end
  else
    fail(fmt("axis %d: an entry is an index list (a Lua list or an int64 lask.ndarray), an integer, nil or "
      .. "da.ellipsis, got %s", d, e == indexing.newaxis and "da.newaxis" or type(e)), level + 1)
  end
  return { shape = shape, flat = indexing.positions(flat, n, d, level + 1) }
end

local function shape_text(s) return "{" .. table.concat(s, ", ") .. "}" end

-- The broadcast shape of the lists' shapes (numpy's rules), or an error naming them.
local function broadcast(lists, axes, level)
  local nd = 0
  for _, l in ipairs(lists) do nd = math.max(nd, #l.shape) end
  local out = {}
  for i = 1, nd do
    local e = 1
    for j, l in ipairs(lists) do
      local s = l.shape[#l.shape - nd + i] or 1
      if s ~= 1 then
        if e ~= 1 and e ~= s then
          local shown = {}
          for jj, ll in ipairs(lists) do shown[jj] = fmt("axis %d: %s", axes[jj], shape_text(ll.shape)) end
          fail(fmt("the index lists do not broadcast together (%s); give lists of one length, or of length 1 to "
            .. "repeat", table.concat(shown, ", ")), level + 1)
        end
        e = s
      end
      local _ = j
    end
    out[i] = e
  end
  return out
end

-- The 0-based positions of list l broadcast to shape (C order).
local function broadcast_flat(l, shape)
  local total = 1
  for _, s in ipairs(shape) do total = total * s end
  if #l.flat == total then return l.flat end
  local nd, lnd = #shape, #l.shape
  local strides, s = {}, 1 -- l's strides, 0 where it repeats
  for i = lnd, 1, -1 do
    strides[i] = l.shape[i] == 1 and 0 or s
    s = s * l.shape[i]
  end
  local out, idx = {}, {}
  for i = 1, nd do idx[i] = 0 end
  for p = 1, total do
    local at = 0
    for i = 1, lnd do at = at + idx[nd - lnd + i] * strides[i] end
    out[p] = l.flat[at + 1]
    for i = nd, 1, -1 do
      idx[i] = idx[i] + 1
      if idx[i] < shape[i] then break end
      idx[i] = 0
    end
  end
  return out
end

-- The block (0-based) holding position q along an axis with offsets offs.
local function block_of(offs, sizes, q)
  local lo, hi = 1, #sizes
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if offs[mid] <= q then lo = mid else hi = mid - 1 end
  end
  return lo - 1
end

-- y's elements at the points pos[j][p] of its first k axes: shape {P, rest...}.
local function gather(y, k, pos, npoints)
  local chunksize = 1
  for j = 1, k do chunksize = math.max(chunksize, y.chunksize[j]) end
  local offs = {}
  for j = 1, k do offs[j] = core.offsets(y.chunks[j]) end
  local pieces, pchunks = {}, {}
  local nd = require("lask.core").ndarray
  for s = 1, npoints, chunksize do
    local e = math.min(s + chunksize - 1, npoints)
    local slot_of, slots, flat, total = {}, {}, {}, 0
    for p = s, e do
      local bidx, r = {}, 0
      for j = 1, k do
        local q = pos[j][p]
        local b = block_of(offs[j], y.chunks[j], q)
        bidx[j] = b
        r = r * y.chunks[j][b + 1] + (q - offs[j][b + 1])
      end
      local tkey = table.concat(bidx, ",")
      local slot = slot_of[tkey]
      if not slot then
        local size = 1
        for j = 1, k do size = size * y.chunks[j][bidx[j] + 1] end
        slot = { bidx = bidx, off = total, size = size }
        slot_of[tkey], slots[#slots + 1], total = slot, slot, total + size
      end
      flat[#flat + 1] = slot.off + r
    end
    pieces[#pieces + 1] = { slots = slots, index = nd.asarray(flat, "int64"), total = total }
    pchunks[#pchunks + 1] = e - s + 1
  end
  local chunks = { #pchunks > 0 and pchunks or { 0 } }
  for d = k + 1, y.ndim do chunks[#chunks + 1] = y.chunks[d] end
  local ktake, kreshape, kfull = core.kernel("take"), core.kernel("reshape"), core.kernel("full")
  local name = "vindex-" .. core.tokenize("vindex", y, k, pos)
  local y_name, zero = y.name, y.dtype == "bool" and false or 0
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local piece = pieces[idx[1] + 1]
    local rest = {}
    for d = k + 1, y.ndim do rest[#rest + 1] = y.chunks[d][idx[d - k + 1] + 1] end
    if not piece then -- no points: an empty block
      dsk[block_key(name, idx)] = { kfull, { 0, table.unpack(rest) }, zero, y.dtype }
      return
    end
    local keys, koffs = {}, {}
    for i, slot in ipairs(piece.slots) do
      local bidx = table.move(slot.bidx, 1, k, 1, {})
      table.move(idx, 2, #idx, k + 1, bidx)
      keys[i] = { kreshape, block_key(y_name, bidx), { slot.size, table.unpack(rest) } }
      koffs[i] = slot.off
    end
    dsk[block_key(name, idx)] = { ktake, keys, koffs, piece.index, 0, piece.total, 0 }
  end, { y_name })
  return core.new(layer, { y }, chunks, y.dtype)
end

--- Pointwise indexing: the elements at the points the index lists give together (numpy's `x[[1, 3], [2, 4]]`, Dask's `x.vindex`).
-- See the module's description for the entries, broadcasting and the result's axes.
-- @param x lask.array: the array (block sizes known)
-- @param key table: one entry per axis (index lists, integers, holes, da.ellipsis)
-- @return lask.array: the broadcast shape of the lists, then the other axes
-- @raise when an index is out of bounds, the lists do not broadcast, an entry is a
-- lazy array, a new axis or of another kind, or there are more entries than axes
-- @usage local x = da.arange(12, {chunks = 2}):reshape({3, 4})   -- x[i][j] = 4(i-1) + j-1
-- local v = x:vindex{ {1, 3}, {2, 4} }                          -- x[1][2] and x[3][4]
-- assert(v:compute():get(1) == 1 and v:compute():get(2) == 11)
-- assert(x:vindex{ {1, 2, 3}, {1} }:compute():get(3) == 8)       -- {1} repeats
-- assert(x:vindex{ nil, {4, 1} }.shape[1] == 2)                  -- lists first, then the rest
function V.vindex(x, key)
  local level = 2
  if not core.is_array(x) then fail("x must be a lask.array, got " .. type(x), level) end
  if type(key) ~= "table" or getmetatable(key) ~= nil then
    fail("the key is a table with one entry per axis, as x:vindex{ {1, 3}, {2, 4} }", level)
  end
  core.need_known(x, "vindex", level)
  local entries, n = indexing.entries(key, level, x.ndim)
  if n > x.ndim then fail(fmt("too many indices (%d) for a %d-d array", n, x.ndim), level) end
  -- integers first, as Dask's vindex: they drop their axes
  local ints, has_int, kept = {}, false, {}
  for d = 1, x.ndim do
    local e = entries[d]
    if mtype(e) == "integer" then ints[d], has_int = e, true else kept[#kept + 1] = d end
  end
  local y = x
  if has_int then y = indexing.getitem(x, setmetatable(ints, nil)) end
  local lists, axes, rest = {}, {}, {}
  for i, d in ipairs(kept) do
    local e = entries[d]
    if e == nil then rest[#rest + 1] = i else
      lists[#lists + 1] = index_of(e, d, x.shape[d], level)
      axes[#axes + 1] = i
    end
  end
  if #lists == 0 then return y end
  local bshape = broadcast(lists, axes, level)
  local npoints = 1
  for _, s in ipairs(bshape) do npoints = npoints * s end
  local pos = {}
  for j, l in ipairs(lists) do pos[j] = broadcast_flat(l, bshape) end
  local perm, moved = {}, false
  for i, a in ipairs(axes) do perm[i], moved = a, moved or a ~= i end
  for _, a in ipairs(rest) do perm[#perm + 1] = a end
  if moved then y = y:transpose(perm) end
  local r = gather(y, #lists, pos, npoints)
  if #bshape == 1 then return r end
  local shape = {}
  for i, s in ipairs(bshape) do shape[i] = s end
  for d = 2, r.ndim do shape[#shape + 1] = r.shape[d] end
  return r:reshape(shape)
end

return V
