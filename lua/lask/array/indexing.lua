--- Indexing lazy arrays: x[i], x[{...}], masks, integer lists, assignment, unknown chunk sizes.
-- `x[key]` (the array's `__index` for every key that is not a string):
--
--   * an integer `i` picks along the first axis (1-based; negative from the end);
--   * a table `{k1, k2, ...}` has one entry per axis (missing trailing ones, and
--     holes, are whole axes): an integer; a range `{first, last [, step]}`
--     (inclusive; negative ends from the end; a negative step walks backwards, its
--     default first the last element and its default last the first); `{}` for the
--     whole axis; `da.newaxis` for a new axis of extent 1 (nil cannot sit in a Lua
--     list); an integer index list (a 1-D int64 `lask.ndarray` or lazy array,
--     1-based values, negative from the end; a 0-d one drops the axis as an integer
--     does); a 1-D boolean mask (`lask.ndarray` or
--     lazy array) along the axis;
--   * a boolean array of x's shape selects elements in C order (`x[x:gt(0)]`).
--
-- A lazy mask gives unknown block sizes (NaN in `x.shape` and `x.chunks`, as Dask)
-- until `x:compute_chunk_sizes()`. At most one index list or mask per key, as in
-- Dask (several lists are numpy's pointwise indexing: `x:vindex{a, b}`, see
-- `lask.array.vindex`); a list that follows a slice keeps its place (numpy moves it
-- first when an integer separates them). `da.ellipsis` stands for the axes the
-- other entries leave (numpy's `...`).
--
-- `x[key] = v` (the array's `__newindex`) assigns lazily: x becomes a new array (its
-- name and graph change; arrays made from x before keep the old values), as Dask
-- changes the collection in place. The key is a boolean mask of x's shape (v a
-- number or an array broadcast to x's shape: `da.where(mask, v, x)`), or integers and
-- ranges (v a number, a `lask.ndarray` or a lazy array broadcast to the region). v
-- is cast to x's dtype.
-- @module lask.array.indexing
-- @alias I
local core = require "lask.array.core"
local slicing = require "lask.array.slicing"

local fmt, mtype = string.format, math.type
local block_key = core.block_key
local NAN = 0 / 0

local I = {}

--- The marker of a new axis in an index: `x[{da.newaxis, {}}]` is numpy's `x[None, :]`.
-- @usage local x = da.arange(4, {chunks = 2})
-- local y = x[{da.newaxis}]
-- assert(y.shape[1] == 1 and y.shape[2] == 4)
I.newaxis = setmetatable({}, {
  __name = "lask.array.newaxis",
  __tostring = function() return "lask.array.newaxis" end,
  __newindex = function() error("lask.array: newaxis is a constant", 2) end,
})

--- The marker of all the axes not otherwise indexed: `x[{da.ellipsis, 1}]` is numpy's `x[..., 0]`.
-- At most one per index; it stands for as many whole axes (`{}`) as the other
-- entries leave (new axes aside), possibly none. Works in `x[...]`, `x[...] = v` and
-- `x:vindex{...}`.
-- @usage local x = da.arange(24, {chunks = 5}):reshape({2, 3, 4})
-- local y = x[{da.ellipsis, 2}]                 -- x[..., 1] in numpy
-- assert(y.shape[1] == 2 and y.shape[2] == 3)
-- assert(y:compute():get(2, 3) == 21)
-- assert(x[{1, da.ellipsis}].shape[2] == 4)
I.ellipsis = setmetatable({}, {
  __name = "lask.array.ellipsis",
  __tostring = function() return "lask.array.ellipsis" end,
  __newindex = function() error("lask.array: ellipsis is a constant", 2) end,
})

local function fail(msg, level) error("lask.array: " .. msg, level + 1) end

local function is_ndarray(v) return require("lask.array.creation").is_ndarray(v) end
local function elementwise() return require("lask.array.elementwise").functions end

local need_known = core.need_known

-- ------------------------------------------------------------------------------
-- Ranges with negative steps, reversal, new axes

-- A range with a negative step on an axis of extent n as {first, last, step} with a
-- positive step over the same elements, and true (they are to be reversed).
local function positive_range(spec, n, d, level)
  local a, b, step = spec[1], spec[2], spec[3]
  for _, v in ipairs { a or 0, b or 0 } do
    if mtype(v) ~= "integer" then fail(fmt("axis %d: range ends must be integers, got %s", d, tostring(v)), level + 1) end
  end
  local s = -step
  local f0 = a == nil and n - 1 or (a > 0 and a - 1 or n + a)
  local l0 = b == nil and 0 or (b > 0 and b - 1 or n + b)
  f0 = math.min(f0, n - 1)
  l0 = math.max(l0, 0)
  if f0 < l0 then return { 1, 0 }, false end
  local count = (f0 - l0) // s + 1
  local lo = f0 - (count - 1) * s
  return { lo + 1, f0 + 1, s }, true
end

-- x with the order along axes (1-based list) reversed: block order and within blocks.
local function reverse(x, axes)
  if #axes == 0 then return x end
  local rev, axes0 = {}, {}
  for i, a in ipairs(axes) do rev[a], axes0[i] = true, a - 1 end
  local chunks = {}
  for d = 1, x.ndim do
    local c = core.plain(x.chunks[d])
    if rev[d] then
      local r = {}
      for i = #c, 1, -1 do r[#r + 1] = c[i] end
      c = r
    end
    chunks[d] = c
  end
  local k, nb, in_name = core.kernel("reverse"), x.numblocks, x.name
  local name = "reverse-" .. core.tokenize("reverse", x, axes0)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local iidx = {}
    for d = 1, #idx do iidx[d] = rev[d] and nb[d] - 1 - idx[d] or idx[d] end
    dsk[block_key(name, idx)] = { k, block_key(in_name, iidx), axes0 }
  end)
  return core.new(layer, { x }, chunks, x.dtype)
end
I.reverse = reverse

-- x with new axes of extent 1 at positions (0-based, in the result, ascending).
local function insert_axes(x, positions)
  if #positions == 0 then return x end
  local chunks, at, j = {}, {}, 0
  for _, p in ipairs(positions) do at[p] = true end
  for d = 0, x.ndim + #positions - 1 do
    if at[d] then chunks[d + 1] = { 1 } else
      j = j + 1
      chunks[d + 1] = x.chunks[j]
    end
  end
  local k, in_name = core.kernel("insert_axes"), x.name
  local name = "newaxis-" .. core.tokenize("newaxis", x, positions)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local iidx = {}
    for d = 1, #idx do if not at[d - 1] then iidx[#iidx + 1] = idx[d] end end
    dsk[block_key(name, idx)] = { k, block_key(in_name, iidx), positions }
  end)
  return core.new(layer, { x }, chunks, x.dtype)
end

-- ------------------------------------------------------------------------------
-- Masks and integer lists along one axis

-- y with only the items along axis p (1-based) where the lazy 1-D bool mask m is
-- true: unknown sizes along p.
local function mask_axis(y, m, p, level)
  if m.ndim ~= 1 or not core.same_list({ m.shape[1] }, { y.shape[p] }) then
    fail(fmt("a boolean mask of shape %s does not match axis %d of extent %s", core.tuple(m.shape), p,
      core.tuple({ y.shape[p] }):sub(2, -3)), level + 1)
  end
  if not core.same_list(m.chunks[1], y.chunks[p]) then
    need_known(y, "a boolean mask", level + 1)
    need_known(m, "a boolean mask", level + 1)
    m = m:rechunk({ y.chunks[p] })
  end
  local chunks = core.plain(y.chunks)
  for i = 1, #chunks[p] do chunks[p][i] = NAN end
  local k, m_name, y_name = core.kernel("compress"), m.name, y.name
  local name = "getitem-mask-" .. core.tokenize("mask", y, m, p)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    dsk[block_key(name, idx)] = { k, block_key(y_name, idx), block_key(m_name, { idx[p] }), p - 1 }
  end)
  return core.new(layer, { y, m }, chunks, y.dtype)
end

-- The blocks of y along axis p that hold positions lo..hi (0-based): their keys for
-- block index idx (other axes) and their offsets.
local function axis_blocks(y, p, idx, first, last)
  local keys, offs, pos = {}, {}, 0
  local bidx = table.move(idx, 1, #idx, 1, {})
  for i, c in ipairs(y.chunks[p]) do
    if pos + c > first and pos <= last then
      bidx[p] = i - 1
      keys[#keys + 1] = block_key(y.name, bidx)
      offs[#offs + 1] = pos
    end
    pos = pos + c
  end
  return keys, offs
end

-- y[list] along axis p for an in-memory list of 0-based positions (known sizes: the
-- result has blocks of y's largest block size along p).
local function take_known(y, list, p)
  local per = math.max(y.chunksize[p], 1)
  local pieces, chunks_p = {}, {}
  for s = 1, #list, per do
    local piece = table.move(list, s, math.min(s + per - 1, #list), 1, {})
    pieces[#pieces + 1] = piece
    chunks_p[#chunks_p + 1] = #piece
  end
  if #pieces == 0 then pieces[1], chunks_p[1] = {}, 0 end
  local chunks = core.plain(y.chunks)
  chunks[p] = chunks_p
  local k, extent = core.kernel("take"), y.shape[p]
  local nd = require("lask.core").ndarray
  local name = "getitem-take-" .. core.tokenize("take", y, list, p)
  local consts = {}
  for i, piece in ipairs(pieces) do
    local lo, hi = math.huge, -1
    for _, v in ipairs(piece) do lo, hi = math.min(lo, v), math.max(hi, v) end
    consts[i] = { nd.asarray(#piece > 0 and piece or { 0 }, "int64"), lo, hi }
  end
  local getitem = core.kernel("getitem")
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local c = consts[idx[p] + 1]
    local keys, offs = axis_blocks(y, p, idx, c[2], c[3])
    if #keys == 0 then -- an empty list: an empty slice of the first block
      local bidx = table.move(idx, 1, #idx, 1, {})
      bidx[p] = 0
      local starts, stops = {}, {}
      for d = 1, y.ndim do starts[d], stops[d] = 0, d == p and 0 or y.chunks[d][idx[d] + 1] end
      dsk[block_key(name, idx)] = { getitem, block_key(y.name, bidx), starts, stops }
    else
      dsk[block_key(name, idx)] = { k, keys, offs, c[1], p - 1, extent, 0 }
    end
  end)
  return core.new(layer, { y }, chunks, y.dtype)
end

-- y[ix] along axis p for a lazy 1-D integer array ix (1-based values): the result's
-- blocks along p are ix's, each taken from every block of y along p.
local function take_lazy(y, ix, p, level)
  if ix.ndim ~= 1 then fail("an index array must be 1-D", level + 1) end
  need_known(y, "an index array", level + 1)
  local chunks = core.plain(y.chunks)
  chunks[p] = core.plain(ix.chunks[1])
  local k, extent, ix_name = core.kernel("take"), y.shape[p], ix.name
  local offs = core.offsets(y.chunks[p])
  local name = "getitem-take-" .. core.tokenize("take", y, ix, p)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local keys = axis_blocks(y, p, idx, 0, math.maxinteger)
    dsk[block_key(name, idx)] = { k, keys, offs, block_key(ix_name, { idx[p] }), p - 1, extent, 1 }
  end)
  return core.new(layer, { y, ix }, chunks, y.dtype)
end

-- y without its axis p (1-based) of extent 1.
local function drop_axis(y, p)
  local chunks, k, in_name = {}, core.kernel("squeeze"), y.name
  for d = 1, y.ndim do if d ~= p then chunks[#chunks + 1] = y.chunks[d] end end
  local name = "squeeze-" .. core.tokenize("squeeze", y, p)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local iidx = table.move(idx, 1, p - 1, 1, {})
    iidx[p] = 0
    table.move(idx, p, #idx, p + 1, iidx)
    dsk[block_key(name, idx)] = { k, block_key(in_name, iidx), { p - 1 } }
  end)
  return core.new(layer, { y }, chunks, y.dtype)
end

-- 0-based positions from a flat Lua list of 1-based indices (negative from the end)
-- on axis p of extent n, each checked (also for lask.array.vindex).
function I.positions(list, n, p, level)
  local out = {}
  for i, v in ipairs(list) do
    local q = v > 0 and v - 1 or n + v
    if v == 0 or q < 0 or q >= n then
      fail(fmt("index %d (item %d of the list) is out of bounds for axis %d with extent %d (indices count from 1)",
        v, i, p, n), level + 1)
    end
    out[i] = q
  end
  return out
end

-- 0-based positions from an in-memory index list (1-based values, negative from the
-- end) or boolean mask (as numpy's nonzero) on an axis of extent n.
local function positions_of(a, n, p, level)
  if #a.shape ~= 1 then fail("an index list must be 1-D, got shape " .. core.tuple(a.shape), level + 1) end
  local out = {}
  if a.dtype == "bool" then
    if a.shape[1] ~= n then
      fail(fmt("a boolean mask of length %d does not match axis %d of extent %d", a.shape[1], p, n), level + 1)
    end
    for i, v in ipairs(a:totable()) do if v then out[#out + 1] = i - 1 end end
    return out
  end
  if a.dtype ~= "int64" then fail("an index list must be int64 or bool, got " .. a.dtype, level + 1) end
  return I.positions(a:totable(), n, p, level + 1)
end

-- ------------------------------------------------------------------------------
-- A full mask

-- x where the bool array m of x's shape is true, in C order: a 1-D array of unknown
-- block sizes (one block per block of x, rechunked so that only the first axis is
-- split when x has several dimensions: the blocks then follow C order).
local function select_mask(x, m, level)
  if m.dtype ~= "bool" then fail("a mask must be a bool array, got " .. m.dtype, level + 1) end
  if not core.same_list(m.shape, x.shape) then
    fail(fmt("a boolean mask of shape %s does not match an array of shape %s", core.tuple(m.shape),
      core.tuple(x.shape)), level + 1)
  end
  if x.ndim > 1 then
    need_known(x, "a boolean mask", level + 1)
    local want = { x.chunks[1] }
    for d = 2, x.ndim do want[d] = -1 end
    x = x:rechunk(want)
  end
  if not core.same_chunks(m.chunks, x.chunks) then
    need_known(m, "a boolean mask", level + 1)
    need_known(x, "a boolean mask", level + 1)
    m = m:rechunk(x.chunks)
  end
  local k = core.kernel("compress")
  local nblocks = x.numblocks[1] or 1
  local chunks = { {} }
  for i = 1, nblocks do chunks[1][i] = NAN end
  local name = "getitem-mask-" .. core.tokenize("mask", x, m)
  local layer
  if x.ndim == 1 then -- blockwise, so that the mask's elementwise chain fuses into the task
    layer = core.blockwise_layer(name, chunks, { x, m }, function(_, args) return { k, args[1], args[2] } end)
  else
    local zeros = {}
    for d = 1, x.ndim do zeros[d] = 0 end
    layer = core.grid_layer(name, { nblocks }, function(dsk, idx)
      local bidx = table.move(zeros, 1, #zeros, 1, {})
      bidx[1] = idx[1]
      dsk[block_key(name, idx)] = { k, block_key(x.name, bidx), block_key(m.name, bidx) }
    end)
  end
  return core.new(layer, { x, m }, chunks, x.dtype)
end

-- ------------------------------------------------------------------------------
-- x[key]

-- The entries of an index table: a list of n entries (holes are nil) and n.
local function entries_of(key, level)
  local n = 0
  for k in pairs(key) do
    if mtype(k) ~= "integer" or k < 1 then
      fail(fmt("an index table is a list with one entry per axis, got the key %s", tostring(k)), level + 1)
    end
    n = math.max(n, k)
  end
  return n
end

local function describe(v)
  if core.is_array(v) then return "a lazy array" end
  return type(v)
end

-- The entries with da.ellipsis replaced by the whole axes it stands for (holes),
-- for an array of ndim axes: a new list of entries, n.
local function expand_ellipsis(entries, n, ndim, level)
  local at, axes = nil, 0
  for i = 1, n do
    local e = entries[i]
    if e == I.ellipsis then
      if at then fail("an index can only have a single ellipsis (da.ellipsis)", level + 1) end
      at = i
    elseif e ~= I.newaxis then
      axes = axes + 1
    end
  end
  if not at then return entries, n end
  local whole = math.max(ndim - axes, 0)
  local out, m = {}, 0
  for i = 1, n do
    if i == at then m = m + whole else
      m = m + 1
      out[m] = entries[i]
    end
  end
  return out, m
end

-- The key as a list of entries, n (for an array of ndim axes: da.ellipsis expanded).
local function normalize_key(key, level, ndim)
  if type(key) == "number" or core.is_array(key) or is_ndarray(key) or key == I.newaxis then return { key }, 1 end
  if key == I.ellipsis then return {}, 0 end
  if type(key) ~= "table" or getmetatable(key) ~= nil then
    fail(fmt("an array cannot be indexed with a %s: use an integer, a table of per-axis indices "
      .. "({i, j}, {first, last[, step]}, {}, da.newaxis, da.ellipsis, index lists) or a boolean mask",
      describe(key)), level + 1)
  end
  return expand_ellipsis(key, entries_of(key, level + 1), ndim or 0, level + 1)
end

--- x[key]: a lazy selection (see the module's description).
-- @param x lask.array: the array
-- @param key integer, table, lask.array or lask.ndarray: the index
-- @return lask.array: the selection (0-d for one integer per axis)
-- @raise when an index is out of bounds, a mask's shape does not match, or there
-- are more indices than axes
-- @usage local x = da.arange(10, {chunks = 4})
-- assert(x[3]:compute():get() == 2)                      -- 1-based
-- assert(x[-1]:compute():get() == 9)
-- assert(x[{{2, 8, 3}}]:compute():totable()[3] == 7)     -- 1, 4, 7
-- assert(x[{{nil, nil, -1}}]:compute():totable()[1] == 9)
-- local y = x[x:gt(6)]
-- assert(y.shape[1] ~= y.shape[1])                         -- NaN: unknown
-- assert(y:sum():compute():get() == 24)
function I.getitem(x, key)
  local level = 3 -- user code -> __index -> getitem
  local entries, n = normalize_key(key, level, x.ndim)
  -- one boolean array of x's shape (with more than one axis, or the only entry)
  local e1 = entries[1]
  if n == 1 and e1 ~= nil and x.ndim > 0 and (core.is_array(e1) or (is_ndarray(e1) and x.ndim > 1))
    and e1.dtype == "bool" and #e1.shape == x.ndim then
    local m = entries[1]
    if not core.is_array(m) then m = require("lask.array.creation").from_array(m, nil, level) end
    return select_mask(x, m, level)
  end
  local specs, advanced, reversed, newaxes = {}, nil, {}, {}
  local d, out_axis, kept = 0, 0, 0 -- d: x's axis; out_axis: the result's axes so far; kept: axes after slicing
  local whole = true
  for i = 1, n do
    local e = entries[i]
    if is_ndarray(e) and #e.shape == 0 and e.dtype == "int64" then e = e:get() end -- a 0-d index: an integer
    if e == I.newaxis then
      newaxes[#newaxes + 1] = out_axis
      out_axis = out_axis + 1
    else
      d = d + 1
      if d > x.ndim then fail(fmt("too many indices (%d) for a %d-d array", d, x.ndim), level) end
      if e == nil then
        specs[d] = {}
        kept, out_axis = kept + 1, out_axis + 1
      elseif type(e) == "number" then
        specs[d], whole = e, false
      elseif core.is_array(e) or is_ndarray(e) then
        if advanced then
          fail("at most one index list or mask per index, as in Dask (x[{a, b}] with two lists is numpy's "
            .. "pointwise indexing: use x:vindex{a, b}, or index one axis at a time for the outer product)", level)
        end
        specs[d] = {}
        local zero_d = core.is_array(e) and e.ndim == 0 -- drops the axis, as an integer does
        kept, out_axis = kept + 1, out_axis + (zero_d and 0 or 1)
        advanced = { value = e, axis = kept, x_axis = d, zero_d = zero_d }
      elseif type(e) == "table" and getmetatable(e) == nil then
        local step = e[3]
        if step ~= nil and mtype(step) ~= "integer" then
          fail(fmt("axis %d: the step must be an integer, got %s", d, tostring(step)), level)
        end
        if step == 0 then fail(fmt("axis %d: the step cannot be 0", d), level) end
        if step and step < 0 then
          need_known(x, "a range", level)
          local spec, rev = positive_range(e, x.shape[d], d, level)
          specs[d] = spec
          if rev then reversed[#reversed + 1] = kept + 1 end
        else
          specs[d] = e
        end
        if next(e) ~= nil then whole = false end
        kept, out_axis = kept + 1, out_axis + 1
      else
        fail(fmt("axis %d: an index is an integer, {first, last[, step]}, {}, da.newaxis, an index list or a mask, "
          .. "got %s", d, describe(e)), level)
      end
    end
  end
  local y = x
  if not whole then
    need_known(x, "indexing", level)
    y = slicing.slice(x, table.unpack(specs, 1, x.ndim))
  end
  y = reverse(y, reversed)
  if advanced then
    local v, p = advanced.value, advanced.axis
    if core.is_array(v) then
      if v.dtype == "bool" then
        y = mask_axis(y, v, p, level)
      elseif v.dtype == "int64" and advanced.zero_d then
        y = drop_axis(take_lazy(y, v:reshape({ 1 }), p, level), p)
      elseif v.dtype == "int64" then
        y = take_lazy(y, v, p, level)
      else
        fail("an index array must be int64 or bool, got " .. v.dtype, level)
      end
    else
      need_known(y, "an index list", level)
      y = take_known(y, positions_of(v, y.shape[p], advanced.x_axis, level), p)
    end
  end
  return insert_axes(y, newaxes)
end

-- ------------------------------------------------------------------------------
-- x[key] = v

-- v as an operand of x's dtype: a number cast as numpy casts into x, an array.
local function value_of(v, level)
  if type(v) == "number" or type(v) == "boolean" or core.is_array(v) then return v end
  if is_ndarray(v) or type(v) == "table" then return require("lask.array.creation").from_array(v, nil, level + 1) end
  fail("an assigned value is a number, a boolean or an array, got " .. type(v), level + 1)
end

-- The region of x an index of integers and ranges selects: per axis {start, count,
-- step} (0-based, step > 0), whether it is reversed, and whether it is kept (not an
-- integer).
local function region_of(x, entries, n, level)
  local out, d = {}, 0
  for i = 1, n do
    local e = entries[i]
    if e == I.newaxis or core.is_array(e) or is_ndarray(e) then
      fail("assignment takes integers, ranges or one boolean mask of the array's shape (not index lists or "
        .. "new axes)", level + 1)
    end
    d = d + 1
    if d > x.ndim then fail(fmt("too many indices (%d) for a %d-d array", d, x.ndim), level + 1) end
    local size = x.shape[d]
    local spec, rev = e, false
    if type(e) == "table" and e[3] and mtype(e[3]) == "integer" and e[3] < 0 then
      spec, rev = positive_range(e, size, d, level + 1)
    elseif type(e) == "table" and e[3] == 0 then
      fail(fmt("axis %d: the step cannot be 0", d), level + 1)
    end
    local start, stop, step = slicing.parse(spec, size, d, level + 1)
    local r = { start = start, count = stop > start and (stop - 1 - start) // step + 1 or 0, step = step }
    r.rev, r.kept = rev, type(e) ~= "number"
    out[d] = r
  end
  for dd = d + 1, x.ndim do out[dd] = { start = 0, count = x.shape[dd], step = 1, kept = true } end
  return out
end

-- x with v written into the region (lazy; v a number, or an array broadcast to the
-- region's shape without its integer axes).
local function set_region(x, region, v, level)
  need_known(x, "assignment", level + 1)
  local k = core.kernel("setitem")
  -- the value, as an array of the region's full shape (integer axes as extent 1)
  local varr
  if core.is_array(v) then
    local rshape, kshape, rev = {}, {}, {}
    for d = 1, x.ndim do
      rshape[d] = region[d].count
      if region[d].kept then kshape[#kshape + 1] = region[d].count end
      if region[d].rev then rev[#rev + 1] = #kshape end
    end
    local ew = elementwise()
    -- broadcast to the kept shape (adding zeros of the kept shape), undo reversed ranges
    local zeros = require("lask.array.creation").zeros(kshape, { dtype = "bool" })
    varr = reverse(ew.where(zeros, v, v), rev)
    if v.dtype ~= x.dtype then varr = varr:astype(x.dtype) end
    varr = varr:reshape(rshape)
  end
  -- per block of x: the part of the region inside it
  local offs, pieces = {}, {}
  for d = 1, x.ndim do
    offs[d] = core.offsets(x.chunks[d])
    local r = region[d]
    pieces[d] = {}
    local vchunks = {}
    for b, size in ipairs(x.chunks[d]) do
      local bs = offs[d][b]
      -- the region's elements r.start + j * r.step inside [bs, bs + size)
      local j0 = bs > r.start and (bs - r.start + r.step - 1) // r.step or 0
      local j1 = math.min(r.count, (bs + size - r.start + r.step - 1) // r.step) -- exclusive
      if r.count > 0 and j1 > j0 and r.start + j0 * r.step < bs + size then
        pieces[d][b] = { lo = r.start + j0 * r.step - bs, count = j1 - j0, j0 = j0 }
        vchunks[#vchunks + 1] = j1 - j0
      end
    end
    region[d].vchunks = vchunks
  end
  if varr then
    local want = {}
    for d = 1, x.ndim do want[d] = #region[d].vchunks > 0 and region[d].vchunks or { 0 } end
    varr = varr:rechunk(want)
  end
  local name = "setitem-" .. core.tokenize("setitem", x, region, core.is_array(v) and varr or v)
  local x_name, v_name = x.name, varr and varr.name
  local layer = core.grid_layer(name, x.numblocks, function(dsk, idx)
    local starts, stops, steps, vidx, inside = {}, {}, {}, {}, true
    for d = 1, #idx do
      local p = pieces[d][idx[d] + 1]
      if not p then
        inside = false
        break
      end
      starts[d], steps[d] = p.lo, region[d].step
      stops[d] = p.lo + (p.count - 1) * region[d].step + 1
      -- the value's block: its blocks are the pieces in order
      local vb = 0
      for b = 1, idx[d] do if pieces[d][b] then vb = vb + 1 end end
      vidx[d] = vb
    end
    local key = block_key(x_name, idx)
    if not inside then
      dsk[block_key(name, idx)] = key -- an alias: untouched
    else
      dsk[block_key(name, idx)] = { k, key, starts, stops, steps, v_name and block_key(v_name, vidx) or v }
    end
  end)
  return core.new(layer, varr and { x, varr } or { x }, x.chunks, x.dtype)
end

--- x[key] = v: a lazy assignment (see the module's description). x changes in place:
-- its name and graph become the new array's, as Dask's collection does.
-- @param x lask.array: the array assigned into
-- @param key table, integer or boolean lask.array: the region or mask
-- @param v number, boolean, lask.ndarray or lask.array: the value (cast to x's dtype)
-- @raise when the key has index lists or new axes, or v does not broadcast
-- @usage local x = da.arange(6, {chunks = 4})
-- local before = x
-- x[x:lt(2)] = 10
-- assert(x:sum():compute():get() == 2 + 3 + 4 + 5 + 20)
-- x[{{5, 6}}] = -1
-- assert(x:compute():get(6) == -1)
function I.setitem(x, key, v)
  local level = 3
  v = value_of(v, level)
  if (core.is_array(key) or is_ndarray(key)) and key.dtype == "bool" then
    local m = core.is_array(key) and key or require("lask.array.creation").from_array(key, nil, level)
    if not core.same_list(m.shape, x.shape) then
      fail(fmt("a boolean mask of shape %s does not match an array of shape %s", core.tuple(m.shape),
        core.tuple(x.shape)), level)
    end
    local y = elementwise().where(m, v, x)
    if y.dtype ~= x.dtype then y = y:astype(x.dtype) end
    core.become(x, y)
    return
  end
  local entries, n = normalize_key(key, level, x.ndim)
  core.become(x, set_region(x, region_of(x, entries, n, level), v, level))
end

-- ------------------------------------------------------------------------------
-- Unknown chunk sizes

--- The array with its block sizes known: computes every block (as Dask does) and
-- records their sizes, in x itself too (Dask changes x in place). An array whose
-- sizes are all known is returned as it is.
-- @param x lask.array: the array
-- @param[opt] opts table: compute's options (scheduler, num_workers, ...)
-- @return lask.array: x, its chunks known
-- @usage local x = da.arange(10, {chunks = 5})
-- local y = x[x:ge(3)]:compute_chunk_sizes()
-- assert(y.shape[1] == 7 and y.chunks[1][1] == 2 and y.chunks[1][2] == 5)
function I.compute_chunk_sizes(x, opts)
  if core.known_chunks(x) then return x end
  local compute = require("lask.array.compute")
  opts = opts or {}
  local dsk = compute.graph({ x }, opts)
  local lcore = require "lask.core"
  local keys, where = {}, {}
  local kshape = core.kernel("block_shape")
  core.each_block(x.numblocks, function(idx)
    local key = lcore.key("chunk-size-" .. x.name, table.unpack(idx))
    dsk[key] = { kshape, block_key(x.name, idx) }
    keys[#keys + 1] = key
    where[#keys] = table.move(idx, 1, #idx, 1, {})
  end)
  local shapes = compute.run(dsk, keys, opts)
  local chunks = core.plain(x.chunks)
  for i, s in ipairs(shapes) do
    local t = s:totable()
    for d = 1, x.ndim do chunks[d][where[i][d] + 1] = t[d] end
  end
  local y = core.new(x.layers[x.name], { x }, chunks, x.dtype)
  core.become(x, y)
  return x
end

-- ------------------------------------------------------------------------------
-- Comparisons as methods, x.T

-- The entries of an index table for an array of ndim axes, da.ellipsis expanded
-- (for lask.array.vindex): a list of n entries (holes are whole axes), n.
function I.entries(key, level, ndim) return normalize_key(key, level + 1, ndim) end

--- The comparison methods: `x:lt(y)`, `x:le(y)`, `x:gt(y)`, `x:ge(y)`, `x:eq(y)`,
-- `x:ne(y)` (da.less, ... elementwise, bool).
-- @usage local x = da.arange(5, {chunks = 2})
-- assert(x:gt(2):sum():compute():get() == 2 and x:eq(0):compute():get(1) == true)
I.comparisons = { lt = "less", le = "less_equal", gt = "greater", ge = "greater_equal", eq = "equal",
  ne = "not_equal" }

return I
